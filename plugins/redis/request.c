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
    if (n)
        memcpy(dst, v.ptr, n);
    c->buf_used += n;
    c->args[c->n_args++] = (pt_span){dst, n, v.full_len};
}

static void on_word(rd_stream *st, rd_cmd *c, pt_span v)
{
    const rd_config *cfg = st->cfg;
    uint64_t w = c->words++;
    if (w == 0) {
        /* pipelines repeat commands: try the previous one before hashing the name */
        if (v.len != v.full_len)
            c->info = NULL;
        else if (pt_rcmd_is(st->last_info, v.ptr, v.len))
            c->info = st->last_info;
        else
            c->info = st->last_info = pt_rcmd_find(v.ptr, v.len);
        if (c->info) {
            /* a known name is the table's upper-case spelling, of the same length */
            memcpy(c->name, c->info->name, v.len + 1);
            c->name_len = (uint32_t)v.len;
        } else {
            name_append(c, v.ptr, v.len);
        }
        c->blocking = c->info && (c->info->flags & PT_RCMD_BLOCKING);
        return;
    }
    if (w == 1 && c->info && (c->info->flags & PT_RCMD_CONTAINER) && looks_like_subcommand(v)) {
        name_append(c, (const uint8_t *)"|", 1);
        name_append(c, v.ptr, v.len);
        c->name_words = 2;
        return;
    }
    uint64_t a = c->arg_index++;
    c->arg_bytes += v.full_len;
    bool hide = false;
    if (cfg->redact) {
        if (c->info && (c->info->flags & PT_RCMD_REDACT)) {
            hide = true;
        } else if (c->redact_next > 0) {
            hide = true;
            c->redact_next--;
        } else if (c->info && (c->info->flags & PT_RCMD_SESSION) && !strcmp(c->name, "HELLO") &&
                   rd_span_is(v, "AUTH")) {
            c->redact_next = 2;
        }
    }
    if (c->info && (c->info->flags & PT_RCMD_BLOCK_OPT) && rd_span_is(v, "BLOCK"))
        c->blocking = true;
    note_key(c, a, v);
    keep_arg(cfg, c, v, hide);
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
    on_word(st, &st->ring[(st->head + st->count) % st->cap], it->value);
}

static void req_done(void *ctx, const pt_resp_msg *m)
{
    rd_stream *st = ctx;
    if (!st->building)
        return;
    st->building = false;
    st->req_tentative = false;
    rd_command_complete(st, &st->ring[(st->head + st->count) % st->cap], m->wire_bytes,
                        m->is_inline);
}

const pt_resp_handler rd_request_handler = {
    .value = req_value,
    .end = NULL,
    .done = req_done,
};
