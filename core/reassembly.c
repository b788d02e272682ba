/* reassembly.c — one direction of a TCP byte stream put back in order (RFC 9293 §3.4
 * sequence numbers; first copy wins on overlaps, like most IDS reassemblers' "first" policy). */
#include "reassembly.h"

#include <glib.h>
#include <string.h>

struct pt_reasm_seg {
    pt_reasm_seg *next;
    uint64_t off;
    size_t len;
    uint8_t data[];
};

G_STATIC_ASSERT(sizeof(pt_reasm_seg) + 2 * sizeof(size_t) <= PT_REASM_SEG_OVERHEAD);

void pt_reasm_start(pt_reasm *r, uint32_t seq)
{
    r->init = true;
    r->base = seq;
    r->next = 0;
}

int64_t pt_reasm_offset(const pt_reasm *r, uint32_t seq)
{
    uint32_t next_seq = r->base + (uint32_t)r->next;
    int32_t delta = (int32_t)(seq - next_seq);
    return (int64_t)r->next + delta;
}

static void reasm_deliver(const pt_reasm_env *env, const uint8_t *data, size_t len)
{
    if (len == 0) {
        return;
    }
    env->stats->bytes += len;
    env->data(env->ctx, data, len);
}

static void reasm_gap(pt_reasm *r, const pt_reasm_env *env, uint64_t missing)
{
    if (missing == 0) {
        return;
    }
    r->next += missing;
    env->stats->gap_bytes += missing;
    env->gap(env->ctx, missing);
}

static void reasm_free_head(pt_reasm *r, const pt_reasm_env *env)
{
    pt_reasm_seg *s = r->ooo;
    r->ooo = s->next;
    r->buffered -= PT_REASM_COST(s->len);
    r->n_segs--;
    *env->global_bytes -= PT_REASM_COST(s->len);
    g_free(s);
}

/* Deliver buffered segments that the stream has reached. */
static void reasm_drain(pt_reasm *r, const pt_reasm_env *env)
{
    while (r->ooo != NULL && r->ooo->off <= r->next) {
        pt_reasm_seg *s = r->ooo;
        uint64_t end = s->off + s->len;
        if (end > r->next) {
            size_t skip = (size_t)(r->next - s->off);
            r->next = end;
            reasm_deliver(env, s->data + skip, s->len - skip);
        }
        reasm_free_head(r, env);
    }
}

bool pt_reasm_skip_hole(pt_reasm *r, const pt_reasm_env *env)
{
    if (r->ooo == NULL) {
        return false;
    }
    if (r->ooo->off > r->next) {
        reasm_gap(r, env, r->ooo->off - r->next);
    }
    reasm_drain(r, env);
    return true;
}

/* Whether a segment of `len` more bytes may be buffered in this direction (asking the
 * tracker to make room under the global cap when needed). */
static bool reasm_fits(pt_reasm *r, const pt_reasm_env *env, size_t len)
{
    uint64_t cost = PT_REASM_COST(len);
    if (r->buffered + cost > env->max_bytes || r->n_segs + 1 > env->max_segs) {
        return false;
    }
    if (env->make_room != NULL && !env->make_room(env->ctx, cost)) {
        return false;
    }
    return true;
}

/* Insert a copy of [off, off+len) into the sorted list. The caller checked that it does not
 * overlap anything buffered. */
static void reasm_insert(pt_reasm *r, const pt_reasm_env *env, uint64_t off, const uint8_t *data,
                         size_t len)
{
    pt_reasm_seg *s = g_malloc(sizeof *s + len);
    s->off = off;
    s->len = len;
    memcpy(s->data, data, len);
    pt_reasm_seg **pp = &r->ooo;
    while (*pp != NULL && (*pp)->off < off) {
        pp = &(*pp)->next;
    }
    s->next = *pp;
    *pp = s;
    r->buffered += PT_REASM_COST(len);
    r->n_segs++;
    *env->global_bytes += PT_REASM_COST(len);
}

/* Handle one new (not yet delivered, not buffered) piece [off, off+len): deliver it when the
 * stream has reached it, else buffer it; when the caps are reached, the oldest holes become
 * gaps until it fits or becomes deliverable. Returns true when it was buffered. */
static bool reasm_store(pt_reasm *r, const pt_reasm_env *env, uint64_t off, const uint8_t *data,
                        size_t len)
{
    for (;;) {
        if (off + len <= r->next) {
            return false;
        }
        if (off < r->next) {
            size_t skip = (size_t)(r->next - off);
            data += skip;
            len -= skip;
            off = r->next;
        }
        if (off == r->next) {
            r->next += len;
            reasm_deliver(env, data, len);
            reasm_drain(r, env);
            return false;
        }
        if (reasm_fits(r, env, len)) {
            reasm_insert(r, env, off, data, len);
            return true;
        }
        if (!pt_reasm_skip_hole(r, env)) {
            /* Nothing of ours to give up and it still does not fit: the hole before it
             * will not be filled from memory we have. */
            reasm_gap(r, env, off - r->next);
        }
    }
}

/* Compare the segment with everything already buffered: overlapping bytes are
 * retransmissions (the first copy wins), and differing ones are conflicts. */
static void reasm_compare(const pt_reasm *r, uint64_t off, const uint8_t *data, size_t len,
                          pt_reasm_result *res)
{
    uint64_t end = off + len;
    for (const pt_reasm_seg *s = r->ooo; s != NULL && s->off < end; s = s->next) {
        uint64_t s_end = s->off + s->len;
        if (s_end <= off) {
            continue;
        }
        uint64_t from = s->off > off ? s->off : off;
        uint64_t to = s_end < end ? s_end : end;
        res->retransmit_bytes += to - from;
        const uint8_t *a = data + (from - off);
        const uint8_t *b = s->data + (from - s->off);
        size_t n = (size_t)(to - from);
        if (memcmp(a, b, n) != 0) {
            for (size_t i = 0; i < n; i++) {
                res->conflict_bytes += a[i] != b[i];
            }
        }
    }
}

/* First buffered segment that ends after `off`. */
static const pt_reasm_seg *reasm_find(const pt_reasm *r, uint64_t off)
{
    const pt_reasm_seg *s = r->ooo;
    while (s != NULL && s->off + s->len <= off) {
        s = s->next;
    }
    return s;
}

pt_reasm_result pt_reasm_segment(pt_reasm *r, const pt_reasm_env *env, uint32_t seq,
                                 const uint8_t *data, size_t len, size_t wire_len)
{
    pt_reasm_result res = {0};
    if (wire_len < len) {
        wire_len = len;
    }
    if (wire_len == 0) {
        return res;
    }
    int64_t soff = pt_reasm_offset(r, seq);
    if (soff > (int64_t)r->next && (uint64_t)soff - r->next > PT_REASM_MAX_AHEAD) {
        res.bogus = true;
        return res;
    }
    if (r->acked > r->next && soff >= (int64_t)r->acked) {
        res.unseen_bytes = pt_reasm_resolve(r, env);
        soff = pt_reasm_offset(r, seq);
    }
    /* Bytes before the stream's start (or past its FIN) do not exist. */
    int64_t send = soff + (int64_t)wire_len;
    if (r->fin && send > (int64_t)r->fin_off) {
        send = (int64_t)r->fin_off;
    }
    if (soff < 0) {
        size_t skip = (size_t)-soff;
        if (skip >= len) {
            return res;
        }
        data += skip;
        len -= skip;
        soff = 0;
    }
    if (send <= soff) {
        return res;
    }
    uint64_t off = (uint64_t)soff;
    uint64_t wend = (uint64_t)send;
    if (off + len > wend) {
        len = (size_t)(wend - off);
    }
    uint64_t end = off + len;

    /* Fast path: exactly the next bytes and nothing buffered. */
    if (off == r->next && r->ooo == NULL) {
        r->next = end;
        reasm_deliver(env, data, len);
        if (wend > end) {
            reasm_gap(r, env, wend - end);
        }
        return res;
    }

    if (off < r->next) {
        uint64_t old = (end < r->next ? end : r->next) - off;
        res.retransmit_bytes += old;
        data += old;
        len -= (size_t)old;
        off += old;
    }
    reasm_compare(r, off, data, len, &res);

    /* Store the pieces not yet delivered nor buffered, in order. */
    const uint8_t *base = data;
    uint64_t base_off = off;
    uint64_t cur = off;
    while (cur < end) {
        if (cur < r->next) {
            cur = r->next;
            continue;
        }
        const pt_reasm_seg *s = reasm_find(r, cur);
        if (s == NULL || s->off >= end) {
            res.buffered |= reasm_store(r, env, cur, base + (cur - base_off), (size_t)(end - cur));
            break;
        }
        if (s->off > cur) {
            uint64_t stop = s->off;
            res.buffered |= reasm_store(r, env, cur, base + (cur - base_off), (size_t)(stop - cur));
            cur = stop;
        } else {
            cur = s->off + s->len;
        }
    }
    if (wend > end && r->next == end) {
        reasm_gap(r, env, wend - end);
    }
    return res;
}

void pt_reasm_fin(pt_reasm *r, uint32_t seq)
{
    if (r->fin) {
        return;
    }
    int64_t off = pt_reasm_offset(r, seq);
    r->fin = true;
    r->fin_off = off < (int64_t)r->next ? r->next : (uint64_t)off;
}

/* pt_reasm_ack() past the next expected byte: remember how far the receiver got. */
void pt_reasm_ack_ahead(pt_reasm *r, uint32_t ack)
{
    if (!r->init) {
        return;
    }
    int64_t aoff = pt_reasm_offset(r, ack);
    if (aoff <= (int64_t)r->next || (uint64_t)aoff - r->next > PT_REASM_MAX_AHEAD) {
        return;
    }
    uint64_t target = (uint64_t)aoff;
    if (r->fin && target > r->fin_off) {
        target = r->fin_off; /* the ACK of the FIN itself covers one sequence number more */
    }
    if (target > r->acked) {
        r->acked = target;
    }
}

uint64_t pt_reasm_resolve(pt_reasm *r, const pt_reasm_env *env)
{
    uint64_t unseen = 0;
    while (r->next < r->acked) {
        if (r->ooo != NULL && r->ooo->off < r->acked) {
            unseen += r->ooo->off > r->next ? r->ooo->off - r->next : 0;
            pt_reasm_skip_hole(r, env);
        } else {
            unseen += r->acked - r->next;
            reasm_gap(r, env, r->acked - r->next);
        }
    }
    return unseen;
}

void pt_reasm_flush(pt_reasm *r, const pt_reasm_env *env)
{
    while (pt_reasm_skip_hole(r, env)) {
    }
    if (r->fin && r->next < r->fin_off) {
        reasm_gap(r, env, r->fin_off - r->next);
    }
}

void pt_reasm_clear(pt_reasm *r, const pt_reasm_env *env)
{
    while (r->ooo != NULL) {
        reasm_free_head(r, env);
    }
}
