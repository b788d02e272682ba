/* reply.c — the server side of a Redis connection: classifies and renders each reply
 * (RESP2/RESP3, attributes skipped), and pairs it FIFO with its command, or reports it as a
 * push (RESP3 '>', RESP2 pub/sub messages, MONITOR lines) or as a reply without a command. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "redis_priv.h"

/* Clear the reply state; of the kept elements only the first `kept` (the others are clear
 * already). */
static void reply_reset(rd_reply *r, size_t kept)
{
    for (size_t i = 0; i < kept; i++) {
        r->kept[i] = PT_SPAN(NULL, 0);
        r->kept_null[i] = true;
    }
    r->started = false;
    r->null = r->error = false;
    r->scalar = PT_SPAN(NULL, 0);
    r->attr_depth = 0;
    r->elem = 0;
    r->count = 0;
    r->render_len = 0;
    r->render_full = false;
    r->last_int = -1;
}

void rd_reply_clear(rd_reply *r)
{
    reply_reset(r, RD_PUSH_KEEP);
}

/* Append to the bounded rendering; past the bound the rendering is marked as cut. */
static void put(rd_reply *r, const rd_config *cfg, const void *p, size_t n)
{
    size_t room = cfg->max_reply_bytes - r->render_len;
    if (n > room) {
        n = room;
        r->render_full = true;
    }
    if (n) {
        memcpy(r->render + r->render_len, p, n);
        r->render_len += n;
    }
}

static void puts_(rd_reply *r, const rd_config *cfg, const char *s)
{
    put(r, cfg, s, strlen(s));
}

/* Render one scalar inside an aggregate, shortened to max_arg_bytes. */
static void put_scalar(rd_reply *r, const rd_config *cfg, const pt_resp_item *it)
{
    pt_span v = it->value;
    if (it->null) {
        puts_(r, cfg, "(nil)");
        return;
    }
    switch (it->type) {
    case PT_RESP_BOOLEAN:
        puts_(r, cfg, v.len && v.ptr[0] == 't' ? "true" : "false");
        return;
    case PT_RESP_ERROR:
    case PT_RESP_BLOB_ERROR:
        puts_(r, cfg, "(error) ");
        break;
    case PT_RESP_VERBATIM:
        if (v.len >= 4) {
            v.ptr += 4;
            v.len -= 4;
            v.full_len -= 4;
        }
        break;
    default:
        break;
    }
    size_t n = v.len < cfg->max_arg_bytes ? v.len : cfg->max_arg_bytes;
    put(r, cfg, v.ptr, n);
    if (n < v.full_len) {
        char more[40];
        snprintf(more, sizeof(more), "...(%llu bytes)", (unsigned long long)v.full_len);
        puts_(r, cfg, more);
    }
}

static bool is_scalar(pt_resp_type t)
{
    return !(t == PT_RESP_ARRAY || t == PT_RESP_MAP || t == PT_RESP_SET || t == PT_RESP_ATTRIBUTE ||
             t == PT_RESP_PUSH);
}

/* Separator before a child of the aggregate at depth d - 1. */
static void put_separator(rd_reply *r, const rd_config *cfg, uint32_t d)
{
    uint32_t idx = r->ridx[d - 1]++;
    if (idx == 0)
        return;
    if (r->rtype[d - 1] == PT_RESP_MAP && (idx & 1))
        puts_(r, cfg, ": ");
    else
        puts_(r, cfg, ", ");
}

/* Keep a bounded copy of depth-1 element `i` (kind, channel, pattern, payload of pushes). */
static void keep_elem(rd_reply *r, const rd_config *cfg, uint64_t i, const pt_resp_item *it)
{
    if (i >= RD_PUSH_KEEP || !is_scalar(it->type))
        return;
    uint8_t *dst = r->keep + i * cfg->max_arg_bytes;
    size_t n = it->value.len < cfg->max_arg_bytes ? it->value.len : cfg->max_arg_bytes;
    if (n)
        memcpy(dst, it->value.ptr, n);
    r->kept[i] = (pt_span){dst, n, it->value.full_len};
    r->kept_null[i] = it->null;
}

static void rep_value(void *ctx, const pt_resp_item *it)
{
    rd_stream *st = ctx;
    rd_reply *r = &st->reply;
    const rd_config *cfg = st->cfg;
    if (r->attr_depth) {
        if (it->depth >= r->attr_depth)
            return;
    }
    if (it->type == PT_RESP_ATTRIBUTE) {
        r->attr_depth = it->depth + 1;
        return;
    }
    uint32_t d = it->depth;
    if (d == 0) {
        r->started = true;
        r->type = it->type;
        r->null = it->null;
        r->error = it->type == PT_RESP_ERROR || it->type == PT_RESP_BLOB_ERROR;
        r->count = (uint64_t)it->count;
        if (is_scalar(it->type)) {
            r->scalar = it->value;
            if (it->type == PT_RESP_VERBATIM && r->scalar.len >= 4) {
                r->scalar.ptr += 4;
                r->scalar.len -= 4;
                r->scalar.full_len -= 4;
            }
            return;
        }
    } else {
        put_separator(r, cfg, d);
        if (d == 1) {
            keep_elem(r, cfg, r->elem++, it);
            if (it->type == PT_RESP_INTEGER && it->value.len == it->value.full_len &&
                it->value.len < 20) {
                char num[24];
                memcpy(num, it->value.ptr, it->value.len);
                num[it->value.len] = '\0';
                r->last_int = strtoll(num, NULL, 10);
            }
        }
    }
    if (is_scalar(it->type) || it->null) {
        put_scalar(r, cfg, it);
        return;
    }
    r->rtype[d] = it->type;
    r->ridx[d] = 0;
    puts_(r, cfg, it->type == PT_RESP_MAP || it->type == PT_RESP_SET ? "{" : "[");
}

static void rep_end(void *ctx, const pt_resp_item *it)
{
    rd_stream *st = ctx;
    rd_reply *r = &st->reply;
    if (r->attr_depth) {
        if (it->type == PT_RESP_ATTRIBUTE && it->depth + 1 == r->attr_depth)
            r->attr_depth = 0;
        return;
    }
    puts_(r, st->cfg, it->type == PT_RESP_MAP || it->type == PT_RESP_SET ? "}" : "]");
}

/* The lower-case kind word of a push or pub/sub array ("message", "subscribe", ...). */
static bool push_kind(const rd_reply *r, char kind[RD_KIND_MAX])
{
    pt_span k = r->kept[0];
    if (r->kept_null[0] || k.len == 0 || k.len != k.full_len || k.len >= RD_KIND_MAX)
        return false;
    for (size_t i = 0; i < k.len; i++) {
        uint8_t c = k.ptr[i];
        kind[i] = (char)((c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c);
    }
    kind[k.len] = '\0';
    return true;
}

static bool is_sub_kind(const char *k)
{
    return !strcmp(k, "subscribe") || !strcmp(k, "psubscribe") || !strcmp(k, "ssubscribe") ||
           !strcmp(k, "unsubscribe") || !strcmp(k, "punsubscribe") || !strcmp(k, "sunsubscribe");
}

static bool is_message_kind(const char *k)
{
    return !strcmp(k, "message") || !strcmp(k, "pmessage") || !strcmp(k, "smessage");
}

/* The subscription count of the family a confirmation belongs to, after updating it from the
 * count the server reports (channels + patterns in RESP2/3, shard channels apart). */
static int64_t update_counts(rd_stream *st, const char *k, int64_t n)
{
    if (n < 0)
        n = 0;
    if (!strcmp(k, "ssubscribe") || !strcmp(k, "sunsubscribe")) {
        st->shard_channels = n;
        return st->shard_channels;
    }
    if (!strcmp(k, "psubscribe") || !strcmp(k, "punsubscribe")) {
        st->patterns = n - st->channels > 0 ? n - st->channels : 0;
        return st->patterns;
    }
    st->channels = n - st->patterns > 0 ? n - st->patterns : 0;
    return st->channels;
}

/* The command name as a lower-case kind, to match it against a confirmation's kind. */
static bool cmd_is_kind(const rd_cmd *c, const char *k)
{
    size_t n = strlen(k);
    if (c->name_len != n)
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = c->name[i];
        if ((ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch) != k[i])
            return false;
    }
    return true;
}

/* A subscription confirmation: pair it with its (UN)SUBSCRIBE, absorb the further
 * confirmations that command is owed (one per channel), or report it as a push. */
static void on_confirmation(rd_stream *st, const char *k, uint64_t bytes)
{
    int64_t left = update_counts(st, k, st->reply.last_int);
    if (st->absorb_left != 0 && !strcmp(st->absorb_kind, k)) {
        if (st->absorb_left > 0)
            st->absorb_left--;
        else if (left == 0)
            st->absorb_left = 0;
        return;
    }
    rd_cmd *c = rd_fifo_head(st);
    if (c && c->info && (c->info->flags & PT_RCMD_SUBSCRIBE) && cmd_is_kind(c, k)) {
        snprintf(st->absorb_kind, sizeof(st->absorb_kind), "%s", k);
        if (c->arg_index > 0)
            st->absorb_left = (int64_t)c->arg_index - 1;
        else
            st->absorb_left = (strstr(k, "unsub") && left > 0) ? -1 : 0;
        rd_emit_command(st, c, &st->reply, bytes, st->ts);
        rd_fifo_pop(st);
        return;
    }
    rd_emit_push(st, k, bytes);
}

/* Session changes a reply confirms: HELLO's protocol, MONITOR, RESET. */
static void session_update(rd_stream *st, const rd_cmd *c, const rd_reply *r)
{
    if (r->error || !c->info || !(c->info->flags & PT_RCMD_SESSION))
        return;
    if (!strcmp(c->name, "HELLO") && c->n_args > 0 && c->args[0].len == 1) {
        if (c->args[0].ptr[0] == '3')
            st->resp = 3;
        else if (c->args[0].ptr[0] == '2')
            st->resp = 2;
    } else if (!strcmp(c->name, "MONITOR")) {
        st->monitor = true;
    } else if (!strcmp(c->name, "RESET")) {
        st->resp = 2;
        st->monitor = false;
        st->channels = st->patterns = st->shard_channels = 0;
        st->absorb_left = 0;
        st->reply_mode = 0;
        st->in_multi = false;
    }
}

static bool looks_like_monitor_line(const rd_reply *r)
{
    return r->type == PT_RESP_SIMPLE && r->scalar.len > 2 && r->scalar.ptr[0] >= '0' &&
           r->scalar.ptr[0] <= '9' && memchr(r->scalar.ptr, '[', r->scalar.len);
}

/* A push, a pub/sub message or confirmation, or a MONITOR line: reported (or absorbed) here,
 * and then not paired with the command waiting. Returns false for a reply to pair. Only
 * arrays, pushes and, after MONITOR, simple strings can be one. */
static bool rep_unpaired(rd_stream *st, const rd_reply *r, const rd_cmd *head, uint64_t bytes)
{
    if (r->type == PT_RESP_PUSH || r->type == PT_RESP_ARRAY) {
        char k[RD_KIND_MAX];
        bool has_kind = push_kind(r, k);
        bool sub_context = st->channels + st->patterns + st->shard_channels > 0 ||
                           st->absorb_left != 0 ||
                           (head && head->info && (head->info->flags & PT_RCMD_SUBSCRIBE));
        if (r->type == PT_RESP_PUSH ||
            (has_kind && st->resp == 2 && sub_context && (r->count == 3 || r->count == 4))) {
            if (has_kind && is_sub_kind(k))
                on_confirmation(st, k, bytes);
            else if (r->type == PT_RESP_PUSH || is_message_kind(k))
                rd_emit_push(st, has_kind ? k : "push", bytes);
            else
                return false;
            return true;
        }
    }
    if (st->monitor && looks_like_monitor_line(r)) {
        rd_emit_push(st, "monitor", bytes);
        return true;
    }
    return false;
}

/* rd_reply_clear() for the next reply: of the kept elements, only those this reply set
 * (depth-1 elements below r->elem) are cleared, the others are clear already. */
static void reply_reuse(rd_reply *r)
{
    reply_reset(r, r->elem < RD_PUSH_KEEP ? (size_t)r->elem : RD_PUSH_KEEP);
}

/* A reply is complete: pair it (or report it as a push or an orphan). Inlined into
 * rd_reply_scalar_slow. */
static inline __attribute__((always_inline)) void rep_done(void *ctx, const pt_resp_msg *m)
{
    rd_stream *st = ctx;
    rd_reply *r = &st->reply;
    st->rep_tentative = false;
    if (r->started) {
        rd_cmd *head = rd_fifo_head(st);
        bool maybe_unpaired = r->type == PT_RESP_PUSH || r->type == PT_RESP_ARRAY || st->monitor;
        if (!(maybe_unpaired && rep_unpaired(st, r, head, m->wire_bytes))) {
            if (head) {
                if (head->info && (head->info->flags & PT_RCMD_SESSION))
                    session_update(st, head, r);
                rd_emit_command(st, head, r, m->wire_bytes, st->ts);
                rd_fifo_pop(st);
            } else {
                rd_emit_orphan(st, m->wire_bytes);
            }
        }
    }
    reply_reuse(r);
}

/* rd_reply_scalar() when the scalar cannot go straight to its command (see redis.c): what
 * rep_value and rep_done do for it, without the generic checks when the reply state is
 * clear. */
void rd_reply_scalar_slow(rd_stream *st, pt_resp_type type, const uint8_t *val, size_t len,
                          uint64_t wire_bytes)
{
    rd_reply *r = &st->reply;
    pt_resp_item it = {.type = type, .value = PT_SPAN(val, len)};
    pt_resp_msg m = {wire_bytes, false};
    if (r->started || r->attr_depth || type == PT_RESP_VERBATIM) {
        rep_value(st, &it);
        rep_done(st, &m);
        return;
    }
    r->started = true;
    r->type = type;
    r->null = false;
    r->error = type == PT_RESP_ERROR || type == PT_RESP_BLOB_ERROR;
    r->count = 0;
    r->scalar = it.value;
    rep_done(st, &m);
}

const pt_resp_handler rd_reply_handler = {
    .value = rep_value,
    .end = rep_end,
    .done = rep_done,
};
