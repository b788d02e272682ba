/* memcached.h — the memcached plugin's internal types: options, the per-stream parser state
 * and the queue of requests waiting for their responses (memcached doc/protocol.txt). */
#ifndef PT_MEMCACHED_H
#define PT_MEMCACHED_H

#include <pcaptrace/plugin.h>

#include "mc_proto.h"

/* Defaults of the limits; each one is an option (`--plugin-opt memcached.KEY=VALUE`). */
#define MC_DEFAULT_MAX_LINE    8192 /* longest command or response line kept */
#define MC_DEFAULT_MAX_PENDING 1024 /* requests waiting for a response, per stream */
#define MC_DEFAULT_MAX_KEYS    16   /* keys kept per multi-key get (all are counted) */
#define MC_DEFAULT_MAX_KEY     250  /* bytes kept per key (memcached's own maximum) */
#define MC_DEFAULT_MAX_TEXT    128  /* bytes of an error message or bad line shown */
/* Bounds on the option values themselves. */
#define MC_LIMIT_MAX_LINE    (1u << 20)
#define MC_LIMIT_MAX_PENDING (1u << 16)
#define MC_LIMIT_MAX_KEYS    1024
#define MC_LIMIT_MAX_TEXT    65536
/* Longest command name or meta opaque token kept. */
#define MC_NAME_MAX   32
#define MC_OPAQUE_MAX 32

typedef struct mc_plugin {
    const pt_host *host;
    size_t max_line;
    size_t max_pending;
    size_t max_keys;
    size_t max_key;
    size_t max_text;
} mc_plugin;

/* Where a key is kept inside its request's key buffer. */
typedef struct mc_keyref {
    uint32_t off, len, full_len;
} mc_keyref;

/* One request, from its command line until its response completes. */
typedef struct mc_request {
    const mc_command *cmd; /* NULL: unknown command (memcached answers ERROR) */
    uint8_t name[MC_NAME_MAX];
    uint8_t name_len;
    uint8_t opaque[MC_OPAQUE_MAX];
    uint8_t opaque_len;
    bool noreply;   /* classic noreply, or meta q (quiet) */
    bool quiet;     /* meta q: some answers are suppressed */
    bool truncated; /* the command line was longer than max_line */
    size_t n_keys;  /* keys kept */
    uint64_t keys_total;
    uint64_t req_bytes; /* data block of a storage command */
    pt_time ts;         /* when the request was complete */
    /* filled from the response */
    uint64_t hits;
    uint64_t resp_bytes;
    uint64_t info_lines;
} mc_request;

/* A ring of requests; slot i has its keys in keybuf + i * key_stride, described by
 * keyrefs[i * max_keys ...]. Grows by doubling up to max_pending, never shrinks, so a
 * stream in steady state allocates nothing. */
typedef struct mc_queue {
    mc_request *slots;
    uint8_t *keybuf;
    mc_keyref *keyrefs;
    size_t cap, head, count;
    size_t max_keys, key_stride;
} mc_queue;

/* Parser state of one direction. */
typedef enum mc_state {
    MC_ST_LINE,      /* reading a line */
    MC_ST_DATA,      /* skipping a data block */
    MC_ST_DATA_END,  /* expecting the CRLF after a data block */
    MC_ST_SKIP_LINE, /* discarding the rest of an over-long line */
} mc_state;

typedef struct mc_dir {
    mc_state st;
    uint8_t *line; /* partial line (allocated on first need, max_line bytes) */
    size_t line_len;
    uint64_t data_left;
    uint8_t end_seen; /* bytes of the CRLF after a data block seen */
    bool resync;      /* after a gap: drop lines that do not parse, silently */
    bool cut;         /* the line being read was cut at max_line */
} mc_dir;

typedef struct mc_stream {
    mc_plugin *p;
    pt_stream *s;
    mc_dir dir[2];
    mc_queue q;
    mc_request *cur; /* the queue's reserved tail slot: a request whose data is being read */
    bool complete_after_data; /* the response's data block completes the front request */
    bool known;               /* a valid request or response was seen (else garbage = violation) */
    bool gap_desync;          /* responses without a request are expected after a gap */
    bool release;             /* `watch` was answered: the stream becomes a log stream */
    uint64_t stray_responses;
    pt_span *spans; /* scratch for the keys list of one event (max_keys) */
} mc_stream;

/* mc_queue.c */
bool mc_queue_init(mc_queue *q, size_t max_keys, size_t max_key);
void mc_queue_free(mc_queue *q);
/* The slot after the last one, reset, growing the ring if needed (up to `max`); NULL when
 * full. The slot becomes part of the queue only with mc_queue_commit(). */
mc_request *mc_queue_reserve(mc_queue *q, size_t max);
void mc_queue_commit(mc_queue *q);
mc_request *mc_queue_front(mc_queue *q);
void mc_queue_pop(mc_queue *q);
/* Keep a key for a request (shortened to max_key with its full length remembered). */
void mc_queue_add_key(mc_queue *q, mc_request *r, mc_token key);
/* Fill `out` (max_keys entries) with spans of the request's keys; returns how many. */
size_t mc_queue_keys(const mc_queue *q, const mc_request *r, pt_span *out);

/* mc_stream.c: the parsers of both directions. */
pt_feed_result mc_stream_data(mc_stream *ms, pt_dir dir, const uint8_t *data, size_t len,
                              const pt_time *ts);
void mc_stream_gap(mc_stream *ms, pt_dir dir, uint64_t missing, const pt_time *ts);
/* Emit every waiting request as `unanswered` with `reason`, emptying the queue. */
void mc_stream_unanswered(mc_stream *ms, const char *reason, const pt_time *ts);

/* mc_events.c */
/* Report a request with its response: `result` is the response code (NULL span: no
 * response, as for noreply), `resp_ts` the response time (NULL: no latency), `number` the
 * value of an incr/decr answer, and `detail` the text after the code, emitted under
 * `detail_name` (error message, version). */
void mc_emit_command(mc_stream *ms, const mc_request *r, pt_span result, const pt_time *resp_ts,
                     const uint64_t *number, const char *detail_name, pt_span detail);
void mc_emit_unanswered(mc_stream *ms, const mc_request *r, const char *reason, const pt_time *ts);
void mc_emit_parse_error(mc_stream *ms, pt_dir dir, const char *reason, const uint8_t *line,
                         size_t len, const pt_time *ts);
void mc_format_text(void *plugin_state, const pt_event *ev, pt_text *out);

/* Name of a request's command as a span (the table name, or the unknown token). */
pt_span mc_request_name(const mc_request *r);

#endif
