/* plugin_host.h — the pt_host function table plugins call (emit, log, options, stream
 * facts, text helpers) and the host side of a stream handed to a plugin. */
#ifndef PT_CORE_PLUGIN_HOST_H
#define PT_CORE_PLUGIN_HOST_H

#include <stdbool.h>
#include <stdint.h>

#include "events.h"
#include "plugin_loader.h"
#include "pcaptrace/plugin.h"

/* Defaults of the limits the host enforces (each configurable, see pt_plugin_host_limits). */
#define PT_HOST_MAX_FIELDS_DEFAULT 256  /* fields in one event */
#define PT_HOST_MAX_SHAPES_DEFAULT 4096 /* event shapes declared (pt_host.shape) in all */
#define PT_HOST_LOG_LINES_DEFAULT  100  /* log lines per plugin, then counted only */
#define PT_HOST_LOG_BYTES          1024 /* longest log line */

/* The host object behind a plugin's pt_stream pointer. */
struct pt_stream {
    const pt_endpoint *client;
    const pt_endpoint *server;
    const char *id;
    pt_plugin_ref *plugin;
    pt_events *bus;
    /* Set by the host on the first emit (and again when `plugin` changes): the stream id of
     * the envelopes (pt_envelope.stream_id). Whoever reuses this struct for another stream
     * zeroes it; client, server and id must not change while it is set. */
    uint64_t env_id;
    const pt_plugin_ref *env_plugin; /* the plugin env_id was given for */
    pt_envelope env;                 /* the envelope of its events, built with env_id */
    bool failed;                     /* the plugin misbehaved: the dispatcher releases the stream */
    bool closed;                     /* stream_close was called: further emits are misbehaviour */
};

typedef struct pt_plugin_host_limits {
    uint32_t max_fields;    /* 0 = default */
    uint32_t log_lines;     /* per plugin; 0 = default */
    pt_log_level log_level; /* most verbose level printed (default PT_LOG_WARNING) */
    uint32_t max_shapes;    /* 0 = default */
} pt_plugin_host_limits;

/* The table handed to every plugin's init(). */
const pt_host *pt_plugin_host_get(void);
void pt_plugin_host_set_limits(const pt_plugin_host_limits *lim);

/* Misbehaviour counted by the host (events dropped because they were malformed). */
uint64_t pt_plugin_host_bad_events(void);

/* What the host says of an event kind or field name: bits of PT_NAME_* (0: not a valid
 * name). The shape registry (plugin_shapes.c) asks it too. */
enum { PT_NAME_KIND_OK = 1, PT_NAME_FIELD_OK = 2, PT_NAME_READ_ONLY = 4 };
unsigned pt_plugin_host_name_verdict(const char *s);

#endif
