/* dispatch.h — hands TCP streams to plugins: by server port, else by asking every plugin's
 * probe() about the first bytes of each direction (dynamic protocol detection). It is the
 * pt_tcp_consumer of core/tcp.h.
 *
 * Program use (core/main.c):
 *   pt_dispatch_config dc = {0}; pt_events_config ec = {0};
 *   add pt_dispatch_option_entries(&dc) and pt_events_option_entries(&ec) to the context;
 *   dc.loader.build_plugin_dir = PT_BUILD_PLUGIN_DIR;
 *   dc.loader.install_plugin_dir = PT_INSTALL_PLUGIN_DIR;
 *   if (dc.loader.list_plugins) return pt_dispatch_list_plugins(&dc, stdout, &err) ? 0 : 1;
 *   pt_dispatch *d = pt_dispatch_setup(&dc, &ec, &err);        (NULL: print err, exit 1)
 *   pt_tcp_consumer c; pt_dispatch_consumer(d, &c); tcp = pt_tcp_new(limits, &c);
 *   pt_tcp_set_events(tcp, pt_dispatch_events(d), verbose);
 *   loop: ... pt_events_tick(pt_dispatch_events(d)) on idle/timeouts ...
 *   end: pt_tcp_flush(tcp, ...); pt_tcp_free(tcp); pt_dispatch_report(d, stderr);
 *        pt_dispatch_free(d)   (flushes the sinks, fini()s the plugins)
 */
#ifndef PT_CORE_DISPATCH_H
#define PT_CORE_DISPATCH_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <glib.h>

#include "events.h"
#include "options.h"
#include "plugin_loader.h"
#include "tcp.h"

/* Defaults of the limits dispatch enforces (options and `[dispatch]` config keys). */
#define PT_DISPATCH_PROBE_MAX_BYTES_DEFAULT 4096 /* undecided bytes buffered per direction */
#define PT_DISPATCH_PROBE_MAX_TURNS_DEFAULT 16   /* direction changes while undecided */
#define PT_DISPATCH_PROBE_MAX_BYTES_MAX     (1 << 20)
#define PT_DISPATCH_PROBE_MEMORY_DEFAULT    (64u << 20) /* all undecided streams together */
#define PT_DISPATCH_POOL_MAX                1024 /* idle per-stream states and buffers kept */

typedef struct pt_dispatch_config {
    pt_loader_config loader;   /* --plugin, --plugin-dir, --list-plugins */
    pt_options_config options; /* --plugin-opt, --config, --port */
    gint64 probe_max_bytes;    /* --probe-max-bytes; [dispatch] probe_max_bytes */
    gint64 probe_max_turns;    /* --probe-max-turns; [dispatch] probe_max_turns */
    gint64 plugin_log_lines;   /* --plugin-log-lines; [dispatch] plugin_log_lines */
    gint64 probe_memory;       /* --probe-memory; [dispatch] probe_memory (bytes) */
    gboolean plugin_debug;     /* --plugin-debug: print plugins' info and debug logs */
} pt_dispatch_config;

/* NULL-terminated GOptionEntry array (static storage) writing into *cfg: --plugin,
 * --plugin-dir, --list-plugins, --plugin-opt, --config, --port, --probe-max-bytes,
 * --probe-max-turns, --probe-memory, --plugin-log-lines, --plugin-debug. */
const GOptionEntry *pt_dispatch_option_entries(pt_dispatch_config *cfg);

typedef struct pt_dispatch pt_dispatch;

typedef struct pt_dispatch_limits {
    size_t probe_max_bytes;   /* 0 = default */
    unsigned probe_max_turns; /* 0 = default */
    size_t probe_memory;      /* bytes buffered by all undecided streams; 0 = default */
} pt_dispatch_limits;

/* Everything at once: read the config file, load the plugins, apply options and ports,
 * init the plugins, create the event bus (sinks). Refusals are printed to stderr and do not
 * fail; bad options, bad sinks and unknown plugins do (GError). */
pt_dispatch *pt_dispatch_setup(const pt_dispatch_config *cfg, const pt_events_config *ecfg,
                               GError **error);

/* --list-plugins: load (without init) and print what was found. */
bool pt_dispatch_list_plugins(const pt_dispatch_config *cfg, FILE *out, GError **error);

/* Lower level (tests, benchmarks): dispatch over an initialized set (owned from now on) to a
 * bus (borrowed, or owned when own_bus). */
pt_dispatch *pt_dispatch_new(pt_plugin_set *plugins, pt_events *bus, bool own_bus,
                             const pt_dispatch_limits *lim);

/* The tcp consumer (ctx = d). */
void pt_dispatch_consumer(pt_dispatch *d, pt_tcp_consumer *out);
pt_events *pt_dispatch_events(pt_dispatch *d);
pt_plugin_set *pt_dispatch_plugins(pt_dispatch *d);
/* Whether some plugin owns `port` as a server port. */
bool pt_dispatch_is_server_port(const pt_dispatch *d, uint16_t port);

typedef struct pt_dispatch_stats {
    uint64_t streams;            /* on_start calls */
    uint64_t by_port;            /* handed to the port's owner */
    uint64_t by_probe;           /* claimed by a probe */
    uint64_t unclaimed;          /* every probe said no, or the probe bound was reached */
    uint64_t probe_bytes_copied; /* bytes buffered while undecided */
    uint64_t probe_memory_full;  /* streams left undecided because probe_memory was used up */
    uint64_t declined;           /* stream_open returned NULL */
    uint64_t released;           /* RELEASE, VIOLATION, misbehaviour */
    uint64_t misbehaved;         /* bad return values, malformed events */
} pt_dispatch_stats;
void pt_dispatch_get_stats(const pt_dispatch *d, pt_dispatch_stats *out);
/* At exit: finish the sinks (pt_events_finish) and print what was released and dropped. */
void pt_dispatch_report(const pt_dispatch *d, FILE *out);

/* Fini the plugins, free the bus when owned (flushing it). Streams still open are not
 * closed: pt_tcp_flush() before this. NULL is fine. */
void pt_dispatch_free(pt_dispatch *d);

#endif
