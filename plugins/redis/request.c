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

/* The command word: look the name up (pipelines repeat commands: the previous one is tried
 * before the hash) and set the name, upper case. */
static inline __attribute__((always_inline)) void on_name(rd_stream *st, rd_cmd *c,
                                                          const pt_span *vp)
{
    pt_span v = *vp;
    const pt_rcmd *info = st->last_info;
    if (v.len != v.full_len) {
        info = NULL;
    } else if (!info || v.len != st->last_len || !name_is(v.ptr, info->name, v.len)) {
        info = st->last_info = pt_rcmd_find(v.ptr, v.len);
        st->last_len = info ? v.len : 0;
    }
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

static void on_word(rd_stream *st, rd_cmd *c, pt_span v)
{
    uint64_t w = c->words++;
    if (w == 0)
        on_name(st, c, &v);
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

/* A whole command from the parser's fast path (pt_resp_on_command): what req_value and
 * req_done do for its header, words and end, with the slot looked up once. */
void rd_request_command(void *ctx, const pt_span *argv, size_t argc, const pt_resp_msg *m)
{
    rd_stream *st = ctx;
    const rd_config *cfg = st->cfg;
    rd_cmd *c = rd_build_slot(st);
    c->argc = argc;
    c->words = argc;
    on_name(st, c, &argv[0]);
    const pt_rcmd *info = c->info;
    if (!info ||
        (info->flags &
         (PT_RCMD_CONTAINER | PT_RCMD_REDACT | PT_RCMD_SESSION | PT_RCMD_BLOCK_OPT)) ||
        info->key > PT_RKEY_ARG2) {
        for (size_t k = 1; k < argc; k++)
            on_arg(st, c, k, argv[k]);
    } else {
        /* the usual command (GET, SET, HSET...): no subcommand, nothing to hide, no BLOCK
         * option, the key at a fixed place; what on_arg does for each argument, in one loop */
        uint64_t bytes = 0;
        size_t keep = c->args ? cfg->max_args : 0, kept = 0, used = 0;
        for (size_t k = 1; k < argc; k++) {
            pt_span v = argv[k];
            bytes += v.full_len;
            if (kept < keep) {
                size_t n = v.len < cfg->max_arg_bytes ? v.len : cfg->max_arg_bytes;
                uint8_t *dst = c->buf + used;
                copy_bytes(dst, v.ptr, n);
                used += n;
                c->args[kept++] = (pt_span){dst, n, v.full_len};
            }
        }
        c->arg_index = argc - 1;
        c->arg_bytes = bytes;
        c->n_args = (uint32_t)kept;
        c->buf_used = used;
        if (info->key != PT_RKEY_NONE && argc - 1 > (size_t)(info->key - PT_RKEY_ARG0))
            c->key_index = info->key - PT_RKEY_ARG0;
    }
    st->building = false;
    st->req_tentative = false;
    rd_command_complete(st, c, m->wire_bytes, m->is_inline);
}

const pt_resp_handler rd_request_handler = {
    .value = req_value,
    .end = NULL,
    .done = req_done,
};
