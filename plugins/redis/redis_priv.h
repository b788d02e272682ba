/* redis_priv.h — shared state of the Redis plugin's files: options, per-connection state, the
 * FIFO of commands waiting for their replies, and the reply being read. */
#ifndef PT_REDIS_PRIV_H
#define PT_REDIS_PRIV_H

#include <stdbool.h>
#include <stdint.h>

#include <pcaptrace/plugin.h>

#include "commands.h"
#include "resp.h"

/* Default limits of the plugin options (see redis_options in redis.c). */
#define RD_DEFAULT_MAX_ARGS        16
#define RD_DEFAULT_MAX_ARG_BYTES   64
#define RD_DEFAULT_MAX_REPLY_BYTES 256
#define RD_DEFAULT_MAX_PENDING     4096
/* Ceilings that keep a per-command slot small whatever the options say. */
#define RD_CEIL_MAX_ARGS      4096
#define RD_CEIL_MAX_ARG_BYTES (1024 * 1024)
#define RD_CEIL_REPLY_BYTES   (16 * 1024 * 1024)
#define RD_CEIL_PENDING       (1024 * 1024)
/* Longest "NAME|SUBCOMMAND" kept, and longest push kind ("punsubscribe"). */
#define RD_NAME_MAX 64
#define RD_KIND_MAX 16
/* Elements of a push or subscription message kept for its event (kind, channel, ...). */
#define RD_PUSH_KEEP 4

/* Plugin-wide configuration, from the options. */
typedef struct rd_config {
    const pt_host *host;
    pt_resp_limits limits;
    uint32_t max_args;
    uint32_t max_arg_bytes;
    uint32_t max_reply_bytes;
    uint32_t max_pending;
    bool redact;
} rd_config;

/* Reply expectations of a command. */
typedef enum rd_expect {
    RD_EXPECT_REPLY = 0, /* one reply */
    RD_EXPECT_NONE       /* CLIENT REPLY OFF/SKIP: no reply will come */
} rd_expect;

/* One command, from its first byte until its reply (or until it is given up). */
typedef struct rd_cmd {
    uint64_t seq;
    pt_time ts;          /* capture time of the packet that completed it */
    uint64_t argc;       /* words on the wire, name included */
    uint64_t arg_bytes;  /* bytes of the arguments after the command word(s) */
    uint64_t wire_bytes; /* the whole request on the wire */
    uint32_t name_len;
    const pt_rcmd *info; /* NULL for unknown commands */
    bool is_inline, blocking, in_multi;
    int64_t key_index; /* index in args of the first key, -1 if none */
    int64_t numkeys_at;
    bool after_streams;   /* XREAD: the STREAMS keyword was seen; the next arg is the key */
    uint32_t redact_next; /* HELLO ... AUTH user pass */
    uint64_t words;       /* words read so far */
    uint64_t arg_index;   /* arguments (after the command words) read so far */
    uint32_t name_words;  /* 1, or 2 with a subcommand */
    rd_expect expect;
    uint32_t n_args; /* args kept */
    size_t buf_used;
    /* Kept when the slot is reused (rd_build_slot clears only what is above `mem`): */
    void *mem;              /* one allocation per slot, kept for the stream's life: */
    pt_span *args;          /* max_args spans into buf */
    uint8_t *buf;           /* max_args * max_arg_bytes */
    char name[RD_NAME_MAX]; /* upper case, NUL-terminated, name_len bytes */
} rd_cmd;

/* The reply being read on the server side. */
typedef struct rd_reply {
    bool started;
    pt_resp_type type; /* first non-attribute top-level type */
    bool null, error;
    pt_span scalar;      /* a top-level scalar: zero-copy span valid until `done` */
    uint32_t attr_depth; /* > 0: inside an attribute opened at depth attr_depth - 1 */
    uint64_t elem;       /* depth-1 elements seen */
    uint64_t count;      /* top-level aggregate count */
    uint8_t *render;     /* max_reply_bytes */
    size_t render_len;
    bool render_full;
    uint32_t *ridx; /* per depth: children rendered so far (max_depth + 1) */
    pt_resp_type *rtype;
    /* the first RD_PUSH_KEEP depth-1 scalars, bounded copies */
    uint8_t *keep; /* RD_PUSH_KEEP * max_arg_bytes */
    pt_span kept[RD_PUSH_KEEP];
    bool kept_null[RD_PUSH_KEEP];
    int64_t last_int; /* last depth-1 integer (subscription count) */
} rd_reply;

/* Per connection. */
typedef struct rd_stream {
    const rd_config *cfg;
    pt_stream *s;
    pt_resp_parser *req, *rep;
    const pt_time *ts; /* capture time of the chunk being parsed */
    pt_feed_result verdict;

    /* FIFO ring of commands: [head, head + count) wait for replies, `build` is being read */
    rd_cmd *ring;
    uint32_t cap, head, count;
    bool building;
    uint64_t next_seq;

    rd_reply reply;
    const pt_rcmd *last_info; /* the last command looked up */

    /* session */
    int resp;       /* 2 or 3 */
    bool in_multi;  /* between MULTI and EXEC/DISCARD, as sent by the client */
    int reply_mode; /* 0 on, 1 off, 2 skip next */
    bool monitor;   /* MONITOR answered +OK */
    int64_t channels, patterns, shard_channels;
    /* confirmations still owed to the last paired (UN)SUBSCRIBE */
    char absorb_kind[RD_KIND_MAX];
    int64_t absorb_left; /* -1: until the family's count reaches 0 */

    /* synchronisation */
    bool req_sync, rep_sync; /* false: scanning for a message boundary */
    bool line_start[2];      /* the last byte seen in that direction was LF */
    uint64_t offset[2];      /* stream offset of the chunk being parsed, per direction */
    bool req_tentative;      /* synced on a guess: an error means scan again */
    bool rep_tentative;
    uint64_t skipped_bytes[2]; /* bytes skipped while resynchronising, per direction */
    uint64_t orphans;          /* replies without a command */
    bool req_failed;           /* a request parse error: waiting for the owed replies */
} rd_stream;

/* request.c: the client side. */
extern const pt_resp_handler rd_request_handler;
/* reply.c: the server side. */
extern const pt_resp_handler rd_reply_handler;
void rd_reply_clear(rd_reply *r);

/* redis.c: events and the FIFO. */
rd_cmd *rd_fifo_head(rd_stream *st);
void rd_fifo_pop(rd_stream *st);
void rd_emit_command(rd_stream *st, rd_cmd *c, const rd_reply *r, uint64_t reply_bytes,
                     const pt_time *reply_ts);
void rd_emit_unanswered(rd_stream *st, rd_cmd *c, const char *reason, const pt_time *ts);
void rd_command_complete(rd_stream *st, rd_cmd *c, uint64_t wire_bytes, bool is_inline);
rd_cmd *rd_build_slot(rd_stream *st);
void rd_emit_push(rd_stream *st, const char *kind, uint64_t reply_bytes);
void rd_emit_orphan(rd_stream *st, uint64_t reply_bytes);
/* Whether span s equals the upper-case C string `word`, ignoring case. */
bool rd_span_is(pt_span s, const char *word);

/* sync.c: finding a command boundary. Returns the offset of the first plausible command start
 * in data (at a line start), or len when none; *sure tells whether it matched completely.
 * At the first byte of a stream any well-formed command array is accepted, later only one
 * naming a known command. */
size_t rd_sync_find(const uint8_t *data, size_t len, bool at_line_start, bool stream_start,
                    bool *sure);
/* The same for a reply: a type byte at a line start. */
size_t rd_sync_find_reply(const uint8_t *data, size_t len, bool at_line_start);
/* probe(): whether the bytes start a Redis command. */
pt_probe_result rd_probe_request(const uint8_t *data, size_t len);

/* format.c */
void rd_format_text(void *plugin_state, const pt_event *ev, pt_text *out);

#endif
