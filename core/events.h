/* events.h — the event bus between event producers (plugins through the host table, the
 * built-in tcp source) and the sinks (text, json, redis). The contract; see events.c. */
#ifndef PT_CORE_EVENTS_H
#define PT_CORE_EVENTS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <glib.h>

#include "pcaptrace/plugin.h"
#include "pcaptrace/types.h"

typedef struct pt_events pt_events; /* the bus and its sinks */

/* Renders the part of a text line after the envelope, for one producer's events. */
typedef void (*pt_format_text_fn)(void *ctx, const pt_event *ev, pt_text *out);

/* The envelope the core puts around every event. */
typedef struct pt_envelope {
    const char *proto;   /* "tcp", "redis", "http", ... */
    const char *flow_id; /* printable flow id */
    const pt_endpoint *client;
    const pt_endpoint *server;
    pt_format_text_fn format_text; /* NULL: fields print as key=value */
    void *format_ctx;
    /* The kind and every field name are [a-z0-9_]{1,64}, checked by the plugin host for this
     * very event: sinks may copy them without escaping; and its values were checked too (no
     * span or list item with a NULL pointer claims bytes). false (the default): sinks escape
     * names and look at every pointer. */
    bool names_checked;
    /* Non-zero (only with names_checked): the id the host gave this event's shape, its kind
     * and field name pointers in order, all string literals or a declared shape's own copies
     * (their texts never change at those addresses). Events with the same id have the same
     * kind and names at the same addresses; an id is never given to another shape. The
     * events of a declared shape (pt_events_emit_shaped) also have the same types; those of
     * a shape the host remembered from emit() may not. Sinks may keep what they derive from
     * the names per shape id. 0: no shape id. */
    uint64_t shape_id;
    /* Non-zero: the id the host gave this stream. Events with the same id have the same
     * flow id, proto, client and server texts; an id is never given to another stream (or
     * another plugin of it). Sinks may keep envelope texts per stream id. 0: no id. */
    uint64_t stream_id;
} pt_envelope;

/* A declared event shape (pt_host.shape): its kind and the names and types of its fields,
 * all checked once, fixed for the life of the plugins. Its events carry only values. */
struct pt_shape {
    uint32_t magic; /* PT_SHAPE_MAGIC: a handle the host made */
    uint64_t id;    /* the shape id of its events (pt_envelope.shape_id) */
    const char *kind;
    size_t n;
    /* The n fields with their names and types; the values are scratch space where the bus
     * puts an event's values for the sinks that take events as fields. */
    pt_field *fields;
    const uint32_t *spans; /* indexes of the STR and BYTES fields */
    size_t n_spans;
    const uint32_t *lists; /* indexes of the STR_LIST fields */
    size_t n_lists;
};
#define PT_SHAPE_MAGIC 0x70745348u

/* Deliver one event to every sink. Fields are only read during the call.
 *
 * What the sinks make of it (details at the top of sink_json.c, sink_text.c, sink_redis.c):
 *  - json: one object per line, envelope first (ts as epoch seconds with 6 decimals, flow,
 *    proto, event, client, server), then the fields. Always valid UTF-8: a STR value that is
 *    not UTF-8 shows U+FFFD and adds "<name>_b64" with the exact bytes; BYTES are base64; a
 *    value the producer shortened adds "<name>_full_len", a shortened list "<name>_total".
 *  - text: "HH:MM:SS.uuuuuu client -> server " and the producer's format_text output (or
 *    "proto event key=value ..."); bytes escaped, long values shortened with "…(N bytes)".
 *  - redis: XADD STREAM * ts .. flow .. proto .. event .. client .. server .. json {..},
 *    from a bounded queue on a sender thread: a slow or dead server costs drops, not time. */
void pt_events_emit(pt_events *bus, const pt_envelope *env, const pt_event *ev);

/* Event of a declared shape as fields: the shape's fields with `values` put in (the shape's
 * field array is its scratch space: valid until the next call for the shape). */
pt_event pt_shape_event(const pt_shape *shape, const pt_time *ts, const pt_value *values);

/* Deliver n events of a declared shape, in order (event i: time ts[i], value of field k at
 * values[i * stride + k]), their envelope's shape_id the shape's id: sinks with a
 * write_shaped op get the values, the others the fields. */
void pt_events_emit_shaped(pt_events *bus, const pt_envelope *env, const pt_shape *shape, size_t n,
                           const pt_time *ts, const pt_value *values, size_t stride);

/* Text helpers for formatters (also offered to plugins through pt_host). */
void pt_text_printf(pt_text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void pt_text_span(pt_text *t, pt_span value, size_t max_bytes, bool quoted);
bool pt_text_color(const pt_text *t);

/* --- the bus: construction, options, flushing (events.c) --- */

/* Defaults of the limits the bus enforces. */
#define PT_EVENTS_FLUSH_MS_DEFAULT 200 /* sinks are flushed at least this often (wall clock) */
#define PT_EVENTS_MAX_SINKS        32  /* sinks on one bus */

typedef struct pt_sink pt_sink;

/* Command-line settings of the bus; fill with pt_events_option_entries() (zeroed struct =
 * defaults). Config-file sections `[sink text]`, `[sink json]`, `[sink redis]` (optionally
 * `[sink json NAME]` to have several) add sinks too: keys `path` (text, json; "-" = stdout),
 * `color` (text), `max_bytes` (text), `block_bytes` (text, json: bytes written at once,
 * 4 KiB to 64 MiB, default 64 KiB), `url`, `queue_bytes`, `maxlen`, `reconnect_ms`,
 * `timeout_ms` (redis). Unknown keys are errors. */
typedef struct pt_events_config {
    char *format;          /* -F/--format text|json|none: the stdout sink; NULL = text */
    char **sinks;          /* --sink json:FILE | text:FILE | redis://HOST:PORT/STREAM, repeatable */
    gboolean no_color;     /* --no-color: never colour (otherwise only on a terminal) */
    gint64 text_max_bytes; /* --text-max-bytes: values longer than this are shortened */
    gint64 flush_ms;       /* --flush-ms: flush sinks at least this often during capture */
    gint64 queue_bytes;    /* --sink-queue-bytes: redis sink queue bound */
    gint64 redis_maxlen;   /* --redis-maxlen: XADD MAXLEN ~ N */
} pt_events_config;

/* GOptionEntry array (NULL-terminated, static storage) writing into *cfg. Options:
 * -F/--format, --sink, --no-color, --text-max-bytes, --flush-ms, --sink-queue-bytes,
 * --redis-maxlen. */
const GOptionEntry *pt_events_option_entries(pt_events_config *cfg);

/* Create the bus with the stdout sink (per cfg->format), every --sink and every sink
 * section of `config` (may be NULL). NULL cfg = text on stdout. GError on a bad spec, an
 * unwritable file, an unknown key. Redis sinks connect in the background: a server that is
 * down is not a setup error (its events are counted as dropped until it is up). */
pt_events *pt_events_new(const pt_events_config *cfg, GKeyFile *config, GError **error);

/* A bus with no sinks (tests, benchmarks); add sinks with pt_events_add_sink(). */
pt_events *pt_events_new_empty(void);
/* The bus takes ownership of the sink. Returns false when PT_EVENTS_MAX_SINKS is reached. */
bool pt_events_add_sink(pt_events *bus, pt_sink *sink);

/* Flush every sink now (at exit, after SIGINT/SIGTERM broke the capture loop). */
void pt_events_flush(pt_events *bus);
/* Flush when the flush interval has passed; cheap. Call it when a live capture is idle
 * (pcap timeout); pt_events_emit() calls it too. */
void pt_events_tick(pt_events *bus);

/* At exit: flush every sink and let background senders deliver what is queued (bounded by
 * their timeouts) and stop, so that the counters and pt_events_report() are final. */
void pt_events_finish(pt_events *bus);

typedef struct pt_events_stats {
    uint64_t events;       /* pt_events_emit() calls */
    uint64_t sink_dropped; /* summed over sinks */
    uint64_t sink_errors;
} pt_events_stats;
void pt_events_get_stats(const pt_events *bus, pt_events_stats *out);
/* Print one line per sink with drops or errors (at exit, after pt_events_finish()). */
void pt_events_report(const pt_events *bus, FILE *out);

/* Flush and free every sink. NULL is fine. */
void pt_events_free(pt_events *bus);

#endif
