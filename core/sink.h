/* sink.h — the sinks the event bus writes to: text lines, JSON lines, a Redis stream.
 *
 * A sink receives every event with its envelope, renders it into a buffer it reuses
 * (no allocation per event in steady state) and writes in large blocks: text and json
 * append lines to a pt_sink_batch written in blocks of PT_SINK_BLOCK_BYTES_DEFAULT, flushed by
 * pt_sink_flush() (at exit, on signals, and periodically by the bus); redis queues rendered
 * commands for a sender thread. */
#ifndef PT_CORE_SINK_H
#define PT_CORE_SINK_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <glib.h>

#include "events.h"

/* Defaults of the limits enforced by the sinks (each is an option and a config key). */
#define PT_SINK_TEXT_MAX_BYTES_DEFAULT     256         /* longest value shown before shortening */
#define PT_SINK_BLOCK_BYTES_DEFAULT        (64 * 1024) /* text/json sinks write blocks this big */
#define PT_SINK_BLOCK_BYTES_MIN            4096        /* [sink text|json] block_bytes range */
#define PT_SINK_BLOCK_BYTES_MAX            (64 << 20)
#define PT_SINK_REDIS_QUEUE_BYTES_DEFAULT  (8u << 20) /* queued, not yet sent commands */
#define PT_SINK_REDIS_RECONNECT_MS_DEFAULT 1000       /* wait between connection attempts */
#define PT_SINK_REDIS_TIMEOUT_MS_DEFAULT   2000       /* connect and I/O timeout */

/* A text line being rendered (the opaque pt_text of plugin.h). */
struct pt_text {
    GString *buf;
    bool color;
    size_t max_bytes; /* default shortening limit for text_span(t, v, 0, ...) */
};

typedef struct pt_sink pt_sink;

typedef struct pt_sink_ops {
    const char *type; /* "text", "json", "redis" */
    void (*write)(pt_sink *s, const pt_envelope *env, const pt_event *ev);
    void (*flush)(pt_sink *s);
    /* Optional: last delivery and stop background work (idempotent); counters are final
     * afterwards. Writes after it are dropped and counted. */
    void (*finish)(pt_sink *s);
    void (*free)(pt_sink *s);
    /* Optional: write n events of a declared shape from their values (pt_events_emit_shaped:
     * event i at ts[i] and values + i * stride); without it the sink's write op gets each
     * event as fields. */
    void (*write_shaped)(pt_sink *s, const pt_envelope *env, const pt_shape *shape, size_t n,
                         const pt_time *ts, const pt_value *values, size_t stride);
} pt_sink_ops;

/* Counters every sink keeps. */
typedef struct pt_sink_stats {
    uint64_t events;  /* written or queued */
    uint64_t dropped; /* lost: queue full, connection lost with commands in flight */
    uint64_t errors;  /* write errors, failed reconnects, error replies */
} pt_sink_stats;

struct pt_sink {
    const pt_sink_ops *ops;
    char *name; /* "text:-", "json:/tmp/x.jsonl", "redis://127.0.0.1:6379/pcaptrace" */
    pt_sink_stats stats;
};

/* Options of the text and json sinks. */
typedef struct pt_sink_file_config {
    const char *path;   /* "-" = stdout */
    bool color;         /* text: colour escapes (the caller decides isatty && !no_color) */
    size_t max_bytes;   /* text: value shortening limit; 0 = default */
    size_t block_bytes; /* bytes written at once; 0 = default */
} pt_sink_file_config;

pt_sink *pt_sink_text_new(const pt_sink_file_config *cfg, GError **error);
pt_sink *pt_sink_json_new(const pt_sink_file_config *cfg, GError **error);

/* Options of the redis sink. */
typedef struct pt_sink_redis_config {
    const char *url;       /* redis://HOST[:PORT][/STREAM]; default port 6379, stream "pcaptrace" */
    uint64_t queue_bytes;  /* 0 = default */
    uint64_t maxlen;       /* XADD MAXLEN ~ N; 0 = unbounded stream */
    uint32_t reconnect_ms; /* 0 = default */
    uint32_t timeout_ms;   /* 0 = default */
} pt_sink_redis_config;

pt_sink *pt_sink_redis_new(const pt_sink_redis_config *cfg, GError **error);

/* Write one event as a single JSON object (no newline) into out (which is not cleared). */
void pt_sink_json_render(GString *out, const pt_envelope *env, const pt_event *ev);

/* Render the text line of an event (with newline) into t->buf (which is not cleared). */
void pt_sink_text_render(pt_text *t, const pt_envelope *env, const pt_event *ev);

/* Open `path` ("-" = stdout) unbuffered: the sinks write whole blocks (pt_sink_batch). */
FILE *pt_sink_open_stream(const char *path, bool *owned, GError **error);
/* Lines rendered straight into one buffer and written to a stdio stream in blocks of about
 * `limit` bytes: one fwrite per block instead of one per event. */
typedef struct pt_sink_batch {
    FILE *f;
    GString *buf;   /* complete lines not yet written */
    size_t limit;   /* write once this many bytes are pending */
    uint64_t lines; /* lines in buf */
} pt_sink_batch;

void pt_sink_batch_init(pt_sink_batch *b, FILE *f, size_t limit);
/* Write the pending lines (without fflush), counting them written or dropped. */
void pt_sink_batch_write(pt_sink *s, pt_sink_batch *b);
/* A line was appended to b->buf: count it, write the block when it is full. */
static inline void pt_sink_batch_line_done(pt_sink *s, pt_sink_batch *b)
{
    b->lines++;
    if (G_UNLIKELY(b->buf->len >= b->limit))
        pt_sink_batch_write(s, b);
}
/* Write what is pending and fflush the stream, counting written or dropped lines. */
void pt_sink_batch_flush(pt_sink *s, pt_sink_batch *b);
void pt_sink_batch_free(pt_sink_batch *b);

static inline void pt_sink_write(pt_sink *s, const pt_envelope *env, const pt_event *ev)
{
    s->ops->write(s, env, ev);
}
static inline void pt_sink_flush(pt_sink *s)
{
    s->ops->flush(s);
}
/* Free a sink (and its name); the sink's free op frees its own struct. */
void pt_sink_free(pt_sink *s);

#endif
