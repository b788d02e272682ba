/* redis_priv.h — shared state of the Redis plugin's files: options, per-connection state, the
 * FIFO of commands waiting for their replies, and the reply being read. */
#ifndef PT_REDIS_PRIV_H
#define PT_REDIS_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

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
/* Most fields of a `command` or `unanswered` event. */
#define RD_CMD_FIELDS 16

/* Most `command` events of one chunk of replies sent to the host together. */
#define RD_BATCH 32

/* The `command` events of whole scalar replies read from the chunk being fed, not yet handed
 * to the host: sent together (rd_batch_flush) when the chunk is done, before any other event
 * of the plugin, and when full. Their spans point into the chunk and into the commands'
 * slots, which stay as they are until the feed returns. One for the plugin: chunks are fed
 * one at a time. */
typedef struct rd_batch {
    pt_stream *s;
    const pt_shape *shape;
    size_t n;
    pt_time ts[RD_BATCH];
    pt_value val[RD_BATCH][RD_CMD_FIELDS];
} rd_batch;

/* Plugin-wide configuration, from the options. */
typedef struct rd_config {
    const pt_host *host;
    pt_resp_limits limits;
    uint32_t max_args;
    uint32_t max_arg_bytes;
    uint32_t max_reply_bytes;
    uint32_t max_pending;
    bool redact;
    /* The declared shape of the `command` event of each layout (EV_* bits), made when a
     * layout is first built; unused (all NULL) when the host cannot take shaped events. */
    bool shaped;
    const pt_shape **shapes; /* RD_LAYOUTS entries */
    rd_batch *batch;         /* NULL when the host cannot take batches */
} rd_config;

/* Reply expectations of a command. */
typedef enum rd_expect {
    RD_EXPECT_REPLY = 0, /* one reply */
    RD_EXPECT_NONE       /* CLIENT REPLY OFF/SKIP: no reply will come */
} rd_expect;

/* One command, from its first byte until its reply (or until it is given up). The fields
 * before `mem` are per command (rd_build_slot clears them), ordered without padding so that
 * the clearing is a few wide stores. */
typedef struct rd_cmd {
    uint64_t seq;
    pt_time ts;          /* capture time of the packet that completed it */
    uint64_t argc;       /* words on the wire, name included */
    uint64_t arg_bytes;  /* bytes of the arguments after the command word(s) */
    uint64_t wire_bytes; /* the whole request on the wire */
    const pt_rcmd *info; /* NULL for unknown commands */
    int64_t key_index;   /* index in args of the first key, -1 if none */
    int64_t numkeys_at;
    uint64_t words;     /* words read so far */
    uint64_t arg_index; /* arguments (after the command words) read so far */
    size_t buf_used;
    uint32_t name_len;
    uint32_t redact_next; /* HELLO ... AUTH user pass */
    uint32_t name_words;  /* 1, or 2 with a subcommand */
    rd_expect expect;
    uint32_t n_args;  /* args kept */
    uint32_t ev_bits; /* once complete: which optional fields its event has (rd_cmd_bits) */
    bool is_inline, blocking, in_multi;
    bool after_streams; /* XREAD: the STREAMS keyword was seen; the next arg is the key */
    /* filled by request.c's command_usual(): name, name_len, blocking, name_words, expect
     * and is_inline are those of the usual command c->info (kept until rd_slot_clear()) */
    bool usual;
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

/* Layout bits of a `command` event: which of its optional fields it has. */
enum {
    EV_BUILT = 1u << 0,
    EV_KEY = 1u << 1,
    EV_INLINE = 1u << 2,
    EV_BLOCKING = 1u << 3,
    EV_MULTI = 1u << 4,
    EV_RESP = 1u << 5,
    EV_REPLY = 1u << 6,
    EV_REPLY_NULL = 1u << 7
};

#define RD_LAYOUTS 256 /* every combination of the EV_* bits */

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
    /* The last `command` event, reused while the next has the same layout: its fields (names
     * and types; values only while it is built), its values and its declared shape (NULL: it
     * is emitted as fields). */
    pt_field ev[RD_CMD_FIELDS];
    pt_value val[RD_CMD_FIELDS];
    const pt_shape *ev_shape;
    uint32_t ev_layout;       /* which optional fields ev holds (0: none built yet) */
    uint32_t ev_reply_at;     /* the index in ev of its `reply` field (its command fields end) */
    const pt_rcmd *last_info; /* the last command looked up */
    size_t last_len;          /* the length of its name */
    uint8_t last_raw[16];     /* its name as it came, when at most 16 bytes (last_raw_ok) */
    bool last_raw_ok;

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
/* The request parser's batch callback (pt_resp_on_command): one whole command at once. */
void rd_request_command(void *ctx, const pt_span *argv, size_t argc, uint64_t wire_bytes);
/* reply.c: the server side. */
extern const pt_resp_handler rd_reply_handler;
/* redis.c: the reply parser's callback for whole scalar replies (pt_resp_on_scalar). */
void rd_reply_scalar(void *ctx, pt_resp_type type, const uint8_t *val, size_t len,
                     uint64_t wire_bytes);
/* reply.c: what it does for the scalars that cannot go straight to their command. */
void rd_reply_scalar_slow(rd_stream *st, pt_resp_type type, const uint8_t *val, size_t len,
                          uint64_t wire_bytes);
void rd_reply_clear(rd_reply *r);

/* redis.c: events and the FIFO. */
/* The oldest command waiting for its reply, or NULL. */
static inline rd_cmd *rd_fifo_head(rd_stream *st)
{
    return st->count ? &st->ring[st->head] : NULL;
}

/* The slot after the waiting commands: the command being read (head < cap and count < cap,
 * so no division). */
static inline rd_cmd *rd_fifo_tail(rd_stream *st)
{
    uint32_t i = st->head + st->count;
    return &st->ring[i >= st->cap ? i - st->cap : i];
}

/* It got its reply (or was given up). */
static inline void rd_fifo_pop(rd_stream *st)
{
    if (!st->count)
        return;
    st->head = st->head + 1 == st->cap ? 0 : st->head + 1;
    st->count--;
}
void rd_emit_command(rd_stream *st, rd_cmd *c, const rd_reply *r, uint64_t reply_bytes,
                     const pt_time *reply_ts);
/* Hand the batched `command` events (if any) to the host. */
void rd_batch_flush(const rd_config *cfg);
void rd_emit_unanswered(rd_stream *st, rd_cmd *c, const char *reason, const pt_time *ts);
void rd_command_complete_session(rd_stream *st, rd_cmd *c);

/* The command's first key among its kept arguments, or NULL (none, or not kept). */
static inline const pt_span *rd_cmd_key(const rd_cmd *c)
{
    if (c->key_index < 0 || (uint64_t)c->key_index >= c->n_args || !c->args)
        return NULL;
    return &c->args[c->key_index];
}

/* The layout bits a complete command gives its event (key, inline, blocking, multi), noted
 * once in c->ev_bits: the command's fields no longer change. */
static inline uint32_t rd_cmd_bits(const rd_cmd *c)
{
    return EV_BUILT | (rd_cmd_key(c) ? EV_KEY : 0) | (c->is_inline ? EV_INLINE : 0) |
           (c->blocking ? EV_BLOCKING : 0) | (c->in_multi ? EV_MULTI : 0);
}

/* A command was read completely: note when, number it, and queue it for its reply. Session
 * commands and CLIENT REPLY OFF/SKIP take rd_command_complete_session(). */
static inline void rd_command_complete(rd_stream *st, rd_cmd *c, uint64_t wire_bytes,
                                       bool is_inline)
{
    c->wire_bytes = wire_bytes;
    c->is_inline = is_inline;
    c->ts = *st->ts;
    c->seq = ++st->next_seq;
    if ((c->info && (c->info->flags & PT_RCMD_SESSION)) || st->reply_mode != 0) {
        rd_command_complete_session(st, c);
        return;
    }
    c->in_multi = st->in_multi;
    c->ev_bits = rd_cmd_bits(c);
    st->count++;
}
/* Clear a slot's per-command fields: its buffers are reused as they are. In two halves, which
 * the compiler writes as a few vector stores (one memset of the whole becomes a `rep stos`,
 * slow to start). */
static inline void rd_slot_clear(rd_cmd *c)
{
    _Static_assert(offsetof(rd_cmd, mem) > 64 && offsetof(rd_cmd, mem) <= 128,
                   "rd_cmd: per-command fields no longer in two halves");
    memset(c, 0, 64);
    memset((char *)c + 64, 0, offsetof(rd_cmd, mem) - 64);
    c->name[0] = '\0';
    c->key_index = -1;
    c->numkeys_at = -1;
    c->name_words = 1;
}

/* rd_next_slot() when the FIFO is full or must grow, or the slot has no buffers yet: the
 * slot after the waiting commands (not cleared), with its buffers. */
rd_cmd *rd_build_slot_slow(rd_stream *st);

/* The slot of the command about to be read (after the waiting ones), as it was left (not
 * cleared): at once when there is room and it has its buffers, else by rd_build_slot_slow(). */
static inline rd_cmd *rd_next_slot(rd_stream *st)
{
    if (st->count >= st->cfg->max_pending || st->count + 1 > st->cap)
        return rd_build_slot_slow(st);
    rd_cmd *c = rd_fifo_tail(st);
    return c->mem ? c : rd_build_slot_slow(st);
}

/* The slot of the command about to be read, cleared; the oldest waiting command is given up
 * (`unanswered`, max_pending) when max_pending are waiting. */
static inline rd_cmd *rd_build_slot(rd_stream *st)
{
    rd_cmd *c = rd_next_slot(st);
    rd_slot_clear(c);
    return c;
}
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
