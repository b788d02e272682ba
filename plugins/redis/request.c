/* request.c — the client side of a Redis connection: turns parsed RESP arrays of bulk strings
 * (and inline commands) into commands with a name, a subcommand, a first key and bounded
 * copies of their arguments
 * (https://redis.io/docs/reference/protocol-spec/#sending-commands-to-a-redis-server). */
#include <string.h>

#include "redis_priv.h"

static const char redacted[] = "(redacted)";

_Static_assert(PT_RCMD_NAME_MAX < RD_NAME_MAX, "a known command name must fit rd_cmd.name");

static uint8_t upper(uint8_t c)
{
    return (c >= 'a' && c <= 'z') ? (uint8_t)(c - 'a' + 'A') : c;
}

bool rd_span_is(pt_span s, const char *word)
{
    size_t n = strlen(word);
    if (s.full_len != n || s.len != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (upper(s.ptr[i]) != (uint8_t)word[i])
            return false;
    return true;
}

/* Append `v` upper-cased to the command name (bounded). */
static void name_append(rd_cmd *c, const uint8_t *v, size_t n)
{
    for (size_t i = 0; i < n && c->name_len + 1 < RD_NAME_MAX; i++)
        c->name[c->name_len++] = (char)upper(v[i]);
    c->name[c->name_len] = '\0';
}

/* A subcommand word is short and made of letters, digits, '-' and '_'. */
static bool looks_like_subcommand(pt_span v)
{
    if (v.len == 0 || v.len != v.full_len || v.len > 32)
        return false;
    for (size_t i = 0; i < v.len; i++) {
        uint8_t c = v.ptr[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return false;
    }
    return true;
}

/* A small non-negative decimal (numkeys), or -1. */
static int64_t small_number(pt_span v)
{
    if (v.len == 0 || v.len > 9 || v.len != v.full_len)
        return -1;
    int64_t n = 0;
    for (size_t i = 0; i < v.len; i++) {
        if (v.ptr[i] < '0' || v.ptr[i] > '9')
            return -1;
        n = n * 10 + (v.ptr[i] - '0');
    }
    return n;
}

/* Where is the first key, given argument number `a` just read? */
static void note_key(rd_cmd *c, uint64_t a, pt_span v)
{
    if (c->key_index >= 0 || !c->info)
        return;
    if (c->info->flags & PT_RCMD_CONTAINER) {
        /* container commands with a key name it right after the subcommand (OBJECT ENCODING
         * key, XINFO STREAM key); MEMORY USAGE is the one keyed subcommand of MEMORY */
        bool keyed = c->info->key != PT_RKEY_NONE || strcmp(c->name, "MEMORY|USAGE") == 0;
        if (keyed && c->name_words == 2 && a == 0)
            c->key_index = 0;
        return;
    }
    switch (c->info->key) {
    case PT_RKEY_NONE:
        break;
    case PT_RKEY_ARG0:
    case PT_RKEY_ARG1:
    case PT_RKEY_ARG2:
        if (a == (uint64_t)(c->info->key - PT_RKEY_ARG0))
            c->key_index = (int64_t)a;
        break;
    case PT_RKEY_NUMKEYS_ARG0:
    case PT_RKEY_NUMKEYS_ARG1: {
        uint64_t at = c->info->key == PT_RKEY_NUMKEYS_ARG0 ? 0 : 1;
        if (a == at && small_number(v) > 0)
            c->numkeys_at = (int64_t)a;
        else if (c->numkeys_at >= 0 && a == (uint64_t)c->numkeys_at + 1)
            c->key_index = (int64_t)a;
        break;
    }
    case PT_RKEY_AFTER_STREAMS:
        if (c->after_streams)
            c->key_index = (int64_t)a;
        else if (rd_span_is(v, "STREAMS"))
            c->after_streams = true;
        break;
    }
}

/* Copy n bytes: the arguments of the usual commands (at most max_arg_bytes, 64 by default)
 * with a few overlapping fixed-size moves instead of a call to memcpy(). */
static inline void copy_bytes(uint8_t *dst, const uint8_t *src, size_t n)
{
    if (n >= 16) {
        if (n > 64) {
            memcpy(dst, src, n);
            return;
        }
        uint8_t a[16], b[16];
        if (n > 32) {
            uint8_t a2[16], b2[16];
            memcpy(a, src, 16);
            memcpy(a2, src + 16, 16);
            memcpy(b2, src + n - 32, 16);
            memcpy(b, src + n - 16, 16);
            memcpy(dst, a, 16);
            memcpy(dst + 16, a2, 16);
            memcpy(dst + n - 32, b2, 16);
            memcpy(dst + n - 16, b, 16);
            return;
        }
        memcpy(a, src, 16);
        memcpy(b, src + n - 16, 16);
        memcpy(dst, a, 16);
        memcpy(dst + n - 16, b, 16);
    } else if (n >= 8) {
        uint64_t a, b;
        memcpy(&a, src, 8);
        memcpy(&b, src + n - 8, 8);
        memcpy(dst, &a, 8);
        memcpy(dst + n - 8, &b, 8);
    } else if (n >= 4) {
        uint32_t a, b;
        memcpy(&a, src, 4);
        memcpy(&b, src + n - 4, 4);
        memcpy(dst, &a, 4);
        memcpy(dst + n - 4, &b, 4);
    } else if (n) {
        dst[0] = src[0];
        dst[n / 2] = src[n / 2];
        dst[n - 1] = src[n - 1];
    }
}

/* Keep a bounded copy of argument `v` (or the redaction marker). */
static void keep_arg(const rd_config *cfg, rd_cmd *c, pt_span v, bool hide)
{
    if (c->n_args >= cfg->max_args || !c->args)
        return;
    if (hide) {
        c->args[c->n_args++] =
            (pt_span){(const uint8_t *)redacted, sizeof(redacted) - 1, sizeof(redacted) - 1};
        return;
    }
    size_t n = v.len < cfg->max_arg_bytes ? v.len : cfg->max_arg_bytes;
    uint8_t *dst = c->buf + c->buf_used;
    copy_bytes(dst, v.ptr, n);
    c->buf_used += n;
    c->args[c->n_args++] = (pt_span){dst, n, v.full_len};
}

/* Whether the n bytes at s are the upper-case `ref`, ignoring their case. */
static inline bool name_is(const uint8_t *s, const char *ref, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (upper(s[i]) != (uint8_t)ref[i])
            return false;
    return true;
}

/* The first and last 8 bytes of p[0..n) when n >= 8, else the first and last 4 (n >= 4):
 * two overlapping loads that stay inside the n bytes and together cover them. */
static inline void edge_words(const uint8_t *p, size_t n, uint64_t *head, uint64_t *tail)
{
    if (n >= 8) {
        memcpy(head, p, 8);
        memcpy(tail, p + n - 8, 8);
        return;
    }
    uint32_t h, t;
    memcpy(&h, p, 4);
    memcpy(&t, p + n - 4, 4);
    *head = h;
    *tail = t;
}

/* Whether the n (at most 16) bytes at a and b are the same: two overlapping loads of each
 * instead of a loop (a is the name as it came, b the copy of the last one). */
static inline bool same_raw(const uint8_t *a, const uint8_t *b, size_t n)
{
    if (n >= 4) {
        uint64_t a0, a1, b0, b1;
        edge_words(a, n, &a0, &a1);
        edge_words(b, n, &b0, &b1);
        return ((a0 ^ b0) | (a1 ^ b1)) == 0;
    }
    if (n == 0)
        return true;
    return ((a[0] ^ b[0]) | (a[n / 2] ^ b[n / 2]) | (a[n - 1] ^ b[n - 1])) == 0;
}

/* Whether a known command is a usual one, which rd_request_command() reads in one loop
 * (command_usual): no subcommand, nothing to hide, no session effect, no BLOCK option, the
 * key (if any) at a fixed place. */
static inline bool is_usual(const pt_rcmd *info)
{
    return !(info->flags &
             (PT_RCMD_CONTAINER | PT_RCMD_REDACT | PT_RCMD_SESSION | PT_RCMD_BLOCK_OPT)) &&
           info->key <= PT_RKEY_ARG2;
}

/* The command info of name word v (NULL when unknown, or when v was shortened): the last one
 * when v is spelled as the last name was (pipelines repeat commands: a comparison of the
 * bytes as they came), else the last one when v is its name in another case, else a hash
 * lookup. Remembers the result and its spelling. */
static inline const pt_rcmd *name_info(rd_stream *st, pt_span v)
{
    if (v.len != v.full_len)
        return NULL;
    const pt_rcmd *info = st->last_info;
    if (v.len == st->last_len && st->last_raw_ok && same_raw(v.ptr, st->last_raw, v.len))
        return info;
    if (!info || v.len != st->last_len || !name_is(v.ptr, info->name, v.len)) {
        info = st->last_info = pt_rcmd_find(v.ptr, v.len);
        st->last_len = info ? v.len : 0;
    }
    st->last_raw_ok = info && v.len <= sizeof(st->last_raw);
    if (st->last_raw_ok)
        memcpy(st->last_raw, v.ptr, v.len);
    return info;
}

/* Set the command's name from its word v and its info (NULL when unknown), upper case. */
static inline void set_name(rd_cmd *c, const pt_rcmd *info, pt_span v)
{
    c->info = info;
    if (info) {
        /* a known name is the table's upper-case spelling, of the same length; its fixed-size,
         * NUL-padded array is copied whole (no call, no length) */
        memcpy(c->name, info->name, sizeof(info->name));
        c->name_len = (uint32_t)v.len;
        c->blocking = (info->flags & PT_RCMD_BLOCKING) != 0;
    } else {
        name_append(c, v.ptr, v.len);
        c->blocking = false;
    }
}

/* Word number w >= 1 of the command: a subcommand, or an argument (key, redaction, BLOCK,
 * bounded copy). */
static void on_arg(rd_stream *st, rd_cmd *c, uint64_t w, pt_span v)
{
    const rd_config *cfg = st->cfg;
    uint32_t flags = c->info ? c->info->flags : 0;
    if (w == 1 && (flags & PT_RCMD_CONTAINER) && looks_like_subcommand(v)) {
        name_append(c, (const uint8_t *)"|", 1);
        name_append(c, v.ptr, v.len);
        c->name_words = 2;
        return;
    }
    uint64_t a = c->arg_index++;
    c->arg_bytes += v.full_len;
    bool hide = false;
    /* redact_next is only ever set for a session command (HELLO) */
    if (flags & (PT_RCMD_REDACT | PT_RCMD_SESSION | PT_RCMD_BLOCK_OPT)) {
        if (cfg->redact) {
            if (flags & PT_RCMD_REDACT) {
                hide = true;
            } else if (c->redact_next > 0) {
                hide = true;
                c->redact_next--;
            } else if ((flags & PT_RCMD_SESSION) && !strcmp(c->name, "HELLO") &&
                       rd_span_is(v, "AUTH")) {
                c->redact_next = 2;
            }
        }
        if ((flags & PT_RCMD_BLOCK_OPT) && rd_span_is(v, "BLOCK"))
            c->blocking = true;
    }
    if (c->key_index < 0)
        note_key(c, a, v);
    keep_arg(cfg, c, v, hide);
}

/* The command word: look the name up and set the name. */
static void on_name(rd_stream *st, rd_cmd *c, pt_span v)
{
    set_name(c, name_info(st, v), v);
}

static void on_word(rd_stream *st, rd_cmd *c, pt_span v)
{
    uint64_t w = c->words++;
    if (w == 0)
        on_name(st, c, v);
    else
        on_arg(st, c, w, v);
}

static void req_value(void *ctx, const pt_resp_item *it)
{
    rd_stream *st = ctx;
    if (it->depth == 0) {
        rd_cmd *c = rd_build_slot(st);
        c->argc = (uint64_t)it->count;
        st->building = true;
        return;
    }
    if (!st->building || it->depth != 1)
        return;
    on_word(st, rd_fifo_tail(st), it->value);
}

static void req_done(void *ctx, const pt_resp_msg *m)
{
    rd_stream *st = ctx;
    if (!st->building)
        return;
    st->building = false;
    st->req_tentative = false;
    rd_command_complete(st, rd_fifo_tail(st), m->wire_bytes, m->is_inline);
}

/* rd_request_command() for any command but the usual ones: its slot cleared, then each
 * argument as on_arg() takes it (subcommand, redaction, BLOCK, key rules). */
static __attribute__((noinline)) void command_generic(rd_stream *st, rd_cmd *c, const pt_rcmd *info,
                                                      const pt_span *argv, size_t argc)
{
    rd_slot_clear(c);
    c->argc = argc;
    c->words = argc;
    set_name(c, info, argv[0]);
    for (size_t k = 1; k < argc; k++)
        on_arg(st, c, k, argv[k]);
}

/* rd_request_command() for the usual command (GET, SET, HSET...): no subcommand, nothing to
 * hide, no BLOCK option, the key at a fixed place; what on_arg does for each argument, in one
 * loop. The slot is not cleared: every field read once a command is complete is written here
 * (words, numkeys_at, redact_next and after_streams only matter while a command is read word
 * by word, which starts from a cleared slot). A slot that last held the same usual command
 * (c->usual, which rd_slot_clear() resets, and the same info) already has its name,
 * name_len, blocking, name_words, expect and is_inline: they are not written again. */
static inline void command_usual(const rd_config *cfg, rd_cmd *c, const pt_rcmd *info,
                                 const pt_span *argv, size_t argc)
{
    /* in locals: the copies could alias them, which would reload them for each argument */
    uint8_t *const buf = c->buf;
    pt_span *const args = c->args;
    const size_t max_bytes = cfg->max_arg_bytes;
    uint64_t bytes = 0;
    /* the arguments kept (copied) first, then those only counted */
    const size_t keep = args ? cfg->max_args : 0, nargs = argc - 1;
    const size_t kept = nargs < keep ? nargs : keep;
    const pt_span *v = argv + 1;
    size_t used = 0;
    for (size_t k = 0; k < kept; k++) {
        size_t n = v[k].len < max_bytes ? v[k].len : max_bytes;
        uint8_t *dst = buf + used;
        copy_bytes(dst, v[k].ptr, n);
        used += n;
        bytes += v[k].full_len;
        args[k] = (pt_span){dst, n, v[k].full_len};
    }
    for (size_t k = kept; k < nargs; k++)
        bytes += v[k].full_len;
    c->argc = argc;
    c->arg_index = argc - 1;
    c->arg_bytes = bytes;
    c->n_args = (uint32_t)kept;
    c->buf_used = used;
    size_t at = (size_t)(info->key - PT_RKEY_ARG0);
    bool keyed = info->key != PT_RKEY_NONE && argc - 1 > at;
    c->key_index = keyed ? (int64_t)at : -1;
    if (!c->usual || c->info != info) {
        c->name_words = 1;
        c->expect = RD_EXPECT_REPLY;
        c->is_inline = false;
        set_name(c, info, argv[0]);
        c->usual = true;
    }
}

/* A whole command from the parser's fast path (pt_resp_on_command): what req_value and
 * req_done do for its header, words and end, with the slot looked up once. */
void rd_request_command(void *ctx, const pt_span *argv, size_t argc, uint64_t wire_bytes)
{
    rd_stream *st = ctx;
    const rd_config *cfg = st->cfg;
    rd_cmd *c = rd_next_slot(st);
    const pt_rcmd *info = name_info(st, argv[0]);
    st->building = false;
    st->req_tentative = false;
    if (!info || !is_usual(info) || st->reply_mode != 0)
        command_generic(st, c, info, argv, argc);
    else
        command_usual(cfg, c, info, argv, argc);
    rd_command_complete(st, c, wire_bytes, false);
}

const pt_resp_handler rd_request_handler = {
    .value = req_value,
    .end = NULL,
    .done = req_done,
};
