/* http.h — internal types of the HTTP/1.x plugin (RFC 9110, RFC 9112): per-stream state, one
 * llhttp parser per direction, the FIFO of pending requests, and the plugin's options. */
#ifndef PT_HTTP_H
#define PT_HTTP_H

#include <glib.h>
#include <llhttp.h>
#include <stdbool.h>
#include <stdint.h>

#include <pcaptrace/plugin.h>

/* Defaults of the limits; every one is a plugin option (see http_plugin.c). */
#define HTTP_DEFAULT_MAX_HEADER_BYTES 65536 /* header bytes kept per message */
#define HTTP_DEFAULT_MAX_PENDING      64    /* requests awaiting a response, per stream */
#define HTTP_DEFAULT_BODY_MAX         4096  /* body bytes kept (and decoded) when shown */
#define HTTP_DEFAULT_RESYNC_BYTES     65536 /* bytes scanned for a start line before giving up */
#define HTTP_MIN_HEADER_BYTES         256
#define HTTP_INITIAL_RING             4  /* pending-request slots allocated at first use */
#define HTTP_METHOD_MAX               24 /* longest method token recognised */

/* Which bodies are kept and shown. */
typedef enum http_bodies { HTTP_BODIES_NONE = 0, HTTP_BODIES_TEXT, HTTP_BODIES_ALL } http_bodies;

/* A regex filter: show only matches (show) and drop matches (ignore). */
typedef struct http_filter {
    GRegex *show;
    GRegex *ignore;
} http_filter;

enum { HTTP_FILTER_METHOD = 0, HTTP_FILTER_HOST, HTTP_FILTER_URL, HTTP_FILTER_UA, HTTP_N_FILTERS };

/* Plugin-wide state: options and counters. */
typedef struct http_plugin {
    const pt_host *host;
    bool headers;        /* list every header */
    GRegex *show_header; /* list headers whose name matches */
    http_bodies bodies;
    size_t body_max;
    size_t max_header_bytes;
    size_t max_pending;
    uint64_t resync_bytes;
    http_filter filters[HTTP_N_FILTERS];
    bool any_filter;
    /* counters over all streams, logged at fini */
    uint64_t n_requests, n_responses, n_unanswered, n_unpaired, n_parse_errors, n_upgrades;
    uint64_t n_resync_bytes, n_gap_filled;
} http_plugin;

/* One header line as offsets into its message's buffer. */
typedef struct http_hdr {
    uint32_t name_off, name_len;
    uint32_t value_off, value_len;
} http_hdr;

/* Header storage of one message, reused message after message (bounded by max_header_bytes). */
typedef struct http_msg {
    uint8_t *buf;
    size_t len, cap;
    http_hdr *hdrs;
    size_t n_hdrs, cap_hdrs;
    uint64_t total_hdrs; /* header lines on the wire */
    bool truncated;      /* some bytes did not fit */
    bool in_value;       /* last header callback was a value */
    uint32_t method_off, method_len;
    uint32_t target_off, target_len;                               /* request-target (URI) */
    uint32_t reason_off, reason_len;                               /* response reason phrase */
    int host, user_agent, content_type, content_encoding, upgrade; /* header index or -1 */
} http_msg;

/* One request, from its first byte until its response completes (or the stream ends). */
typedef struct http_txn {
    uint64_t seq; /* 1-based request number in the stream */
    http_msg req;
    uint8_t method; /* llhttp_method_t */
    uint8_t major, minor;
    bool headers_done, complete, emitted, filtered, http09;
    uint16_t info_code; /* last 1xx interim status seen for it */
    pt_time ts_begin, ts_complete;
    uint64_t header_bytes, body_bytes, body_wire_bytes;
} http_txn;

/* Parsing state of one direction. */
typedef enum http_mode {
    HTTP_MODE_PARSE = 0, /* llhttp owns the bytes */
    HTTP_MODE_RESYNC,    /* looking for the next start line */
    HTTP_MODE_HOLD,      /* request side after CONNECT/Upgrade: wait for the server's verdict */
    HTTP_MODE_RAW09,     /* response to an HTTP/0.9 request: raw bytes until the close */
    HTTP_MODE_LINE,      /* a message's first token is split across packets: carry it */
    HTTP_MODE_START      /* nothing seen yet */
} http_mode;

typedef struct http_stream http_stream;

/* Content codings decoded when bodies are shown. */
enum { HTTP_Z_NONE = -1, HTTP_Z_GZIP = 0, HTTP_Z_ZLIB, HTTP_Z_RAW, HTTP_Z_COUNT, HTTP_Z_DEFLATE };

typedef enum http_pause { HTTP_PAUSE_NONE = 0, HTTP_PAUSE_HEADERS, HTTP_PAUSE_MESSAGE } http_pause;

typedef struct http_dir {
    llhttp_t parser;
    http_stream *st;
    pt_dir dir;
    http_mode mode;
    http_pause pause;
    bool in_message;             /* between message begin and message complete */
    bool in_body;                /* between headers complete and message complete */
    bool line_start;             /* resync: the next byte starts a line */
    bool gap_filling;            /* feeding zeros for a gap inside a body */
    bool any_message;            /* a message was parsed in this direction */
    bool error_episode;          /* parse_error already reported for the current resync episode */
    bool keep_body;              /* keep a prefix of the current body */
    bool interim;                /* the current response is a 1xx interim one */
    bool finishing;              /* inside llhttp_finish() */
    bool hold_lost;              /* held bytes were lost to a gap or the hold limit */
    uint64_t offset;             /* bytes of this direction consumed so far */
    uint64_t msg_begin, hdr_end; /* offsets of the current message */
    uint64_t resync_scanned;
    uint64_t body_bytes, gap_bytes;   /* current message */
    const pt_time *ts;                /* timestamp of the bytes being parsed */
    pt_time ts_begin;                 /* of the current message */
    uint64_t cur_seq;                 /* txn of the current message (0: none) */
    uint8_t xmethod[HTTP_METHOD_MAX]; /* a method llhttp does not know, fed to it as GET */
    size_t xmethod_len;
    /* carry: a partial start line (resync) or held bytes (upgrade verdict pending) */
    uint8_t *carry;
    size_t carry_len, carry_cap;
    pt_time carry_ts;
    /* response header storage (the request side stores into its txn) */
    http_msg resp;
    /* kept body prefix, when bodies are shown */
    uint8_t *body;
    size_t body_len, body_cap;
    uint8_t *dec; /* decoded body (gzip/deflate), body_max bytes */
    size_t dec_len;
    int zfmt;              /* HTTP_Z_*: content coding of the current body */
    bool zfailed;          /* decoding failed: show the raw bytes */
    bool zstop;            /* bytes were lost: decode no more */
    void *z[HTTP_Z_COUNT]; /* GZlibDecompressor per format, created on first use and reset */
} http_dir;

struct http_stream {
    http_plugin *pl;
    pt_stream *s;
    http_dir d[2];
    http_txn *ring;
    size_t ring_cap, ring_head, ring_count;
    uint64_t next_seq;
    uint64_t hold_seq; /* the CONNECT/Upgrade request whose verdict the request side awaits */
    bool released;
    pt_span *items; /* scratch for header lists in events */
    size_t items_cap;
};

/* http_line.c: start-line recognition for probe() and resynchronisation. */
typedef enum http_line_result {
    HTTP_LINE_NO = 0,
    HTTP_LINE_YES,
    HTTP_LINE_PARTIAL
} http_line_result;
http_line_result http_line_check(pt_dir dir, const uint8_t *p, size_t len, bool allow_http09);
bool http_method_char(uint8_t c);
bool http_method_known(const uint8_t *tok, size_t n);
/* Find the first line start in p[0..len) holding a start line for `dir`. *line_start says whether
 * p[0] starts a line and is updated. Returns YES/PARTIAL with *at set, or NO. */
http_line_result http_line_scan(pt_dir dir, const uint8_t *p, size_t len, bool *line_start,
                                size_t *at, bool allow_http09);

/* http_msg.c: header storage. */
void http_msg_reset(http_msg *m);
void http_msg_free(http_msg *m);
void http_msg_append(http_msg *m, size_t max, uint32_t *off, uint32_t *len, const char *at,
                     size_t n);
void http_msg_header_field(http_msg *m, size_t max, const char *at, size_t n);
void http_msg_header_value(http_msg *m, size_t max, const char *at, size_t n);
void http_msg_header_done(http_msg *m, size_t max);
pt_span http_msg_line(const http_msg *m, size_t i); /* "Name: value" */
pt_span http_msg_span(const http_msg *m, uint32_t off, uint32_t len);
pt_span http_msg_header(const http_msg *m, int idx);

/* http_stream.c: per-direction feeding, pairing, gaps and close. */
void http_stream_init(http_stream *st, http_plugin *pl, pt_stream *s);
pt_feed_result http_stream_feed(http_stream *st, pt_dir dir, const uint8_t *data, size_t len,
                                const pt_time *ts);
void http_stream_gap(http_stream *st, pt_dir dir, uint64_t missing, const pt_time *ts);
void http_stream_close(http_stream *st, const char *why, const pt_time *ts);
void http_stream_free(http_stream *st);

/* http_pair.c: the FIFO of pending requests and what happens at message boundaries. */
http_txn *http_ring_find(http_stream *st, uint64_t seq);
http_txn *http_ring_front(http_stream *st);
http_txn *http_ring_push(http_stream *st, const pt_time *ts);
void http_ring_pop(http_stream *st);
void http_ring_free(http_stream *st);
void http_on_headers(http_dir *d, uint64_t off);
void http_on_message(http_dir *d, uint64_t off);
void http_on_lost(http_dir *d);
void http_on_close(http_stream *st, const char *why, const pt_time *ts);
void http_release_hold(http_stream *st);
void http_start_raw09(http_stream *st);
pt_feed_result http_dir_feed(http_dir *d, const uint8_t *p, size_t n);
void http_dir_restart(http_dir *d);

/* http_emit.c: events. */
void http_emit_request(http_stream *st, http_txn *t, const pt_time *ts);
void http_emit_response(http_stream *st, http_txn *t, http_dir *d, const pt_time *ts,
                        bool complete);
void http_emit_unanswered(http_stream *st, http_txn *t, const char *reason, const pt_time *ts);
void http_emit_upgrade(http_stream *st, http_txn *t, http_dir *d, const pt_time *ts);
void http_emit_parse_error(http_stream *st, http_dir *d, const char *error, const char *reason,
                           const pt_time *ts);
bool http_txn_filtered(const http_plugin *pl, const http_txn *t);

/* http_body.c: kept bodies and their decoding. */
void http_body_start(http_dir *d, pt_span content_encoding);
void http_body_append(http_dir *d, size_t max, const char *at, size_t n);
void http_body_free(http_dir *d);
void http_body_lost(http_dir *d);
bool http_body_wanted(const http_plugin *pl, pt_span content_type);
/* The kept body to show: decoded (gzip, deflate) when it was encoded, else the raw prefix. */
pt_span http_body_shown(http_dir *d);

/* http_format.c: text rendering. */
void http_format_text(void *plugin_state, const pt_event *ev, pt_text *out);

#endif
