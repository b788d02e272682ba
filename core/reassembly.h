/* reassembly.h — one direction of a TCP byte stream put back in order (RFC 9293 sequence
 * space, RFC 1982-style serial comparison for wrap-around).
 *
 * Sequence numbers are mapped to 64-bit stream offsets (0 = first byte after the SYN, or
 * the first byte seen when picked up mid-stream), so wrap-around never reaches the logic.
 * In-order bytes go to the output straight from the caller's buffer; only segments that
 * arrive ahead of a hole are copied, into a sorted list bounded by the caps below.
 */
#ifndef PT_CORE_REASSEMBLY_H
#define PT_CORE_REASSEMBLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tcp.h"

/* A segment further ahead of the next expected byte than this is not plausible TCP (the
 * largest window, 2^30 with window scaling) and is dropped as bogus. */
#define PT_REASM_MAX_AHEAD (1ull << 30)

/* What one buffered segment costs against the caps: its payload plus its bookkeeping (list
 * node and allocator header), so that many tiny segments cannot exceed the memory cap. */
#define PT_REASM_SEG_OVERHEAD 48u
#define PT_REASM_COST(len)    ((uint64_t)(len) + PT_REASM_SEG_OVERHEAD)

typedef struct pt_reasm_seg pt_reasm_seg;

/* Where a direction's output goes and what it may use. Owned by the tracker. */
typedef struct pt_reasm_env {
    void *ctx;
    /* In-order bytes, valid only during the call. */
    void (*data)(void *ctx, const uint8_t *data, size_t len);
    /* `missing` bytes will never arrive. */
    void (*gap)(void *ctx, uint64_t missing);
    /* Ask the tracker to free buffered bytes elsewhere so `need` more fit under the global
     * cap; returns true when they fit. May be NULL (no global cap). */
    bool (*make_room)(void *ctx, uint64_t need);
    uint64_t max_bytes;     /* per-direction cap on buffered bytes (PT_REASM_COST) */
    uint32_t max_segs;      /* per-direction cap on buffered segments */
    uint64_t *global_bytes; /* buffered bytes (PT_REASM_COST), all flows (updated here) */
    pt_tcp_dir_stats *stats;
} pt_reasm_env;

typedef struct pt_reasm {
    bool init;         /* base is known */
    bool fin;          /* a FIN was seen at fin_off */
    uint32_t base;     /* sequence number of stream offset 0 */
    uint64_t next;     /* offset of the next byte expected (delivered or skipped so far) */
    uint64_t fin_off;  /* offset the FIN occupies (= length of the stream) */
    uint64_t acked;    /* the receiver acknowledged everything before this offset */
    uint64_t buffered; /* payload bytes held in `ooo` */
    uint32_t n_segs;   /* segments held in `ooo` */
    pt_reasm_seg *ooo; /* out-of-order segments, sorted by offset, never overlapping */
} pt_reasm;

/* What one segment turned out to be. */
typedef struct pt_reasm_result {
    uint64_t retransmit_bytes; /* bytes already delivered or buffered */
    uint64_t conflict_bytes;   /* of those, bytes that differed from the first copy */
    uint64_t unseen_bytes;     /* acknowledged holes given up as gaps before it */
    bool buffered;             /* some of it arrived ahead of a hole */
    bool bogus;                /* implausible sequence number: dropped */
} pt_reasm_result;

/* Start the stream so that `seq` is offset 0. */
void pt_reasm_start(pt_reasm *r, uint32_t seq);

/* Offset of `seq` relative to the stream (may be negative: before its start). */
int64_t pt_reasm_offset(const pt_reasm *r, uint32_t seq);

/* A segment of `len` captured bytes at `seq` whose wire length was `wire_len` (>= len; the
 * tail cut by the snaplen becomes a gap). A segment that starts at or after the acknowledged
 * point first gives up the acknowledged holes (the sender has moved on past them). */
pt_reasm_result pt_reasm_segment(pt_reasm *r, const pt_reasm_env *env, uint32_t seq,
                                 const uint8_t *data, size_t len, size_t wire_len);

/* The in-order fast path, inlined into the tracker: whether a segment of `len` captured
 * bytes (`wire_len` on the wire) at `seq` is exactly the next bytes of a stream that holds
 * nothing out of order, has no FIN yet and no acknowledged hole before it. Then
 * pt_reasm_segment() would only hand it on; the caller does that itself and calls
 * pt_reasm_advance(). */
static inline bool pt_reasm_is_next(const pt_reasm *r, uint32_t seq, size_t len, size_t wire_len)
{
    return r->init && r->ooo == NULL && !r->fin && len == wire_len && len > 0 &&
           r->acked <= r->next && seq == r->base + (uint32_t)r->next;
}

/* The fast path delivered `len` in-order bytes (counted in *stats). */
static inline void pt_reasm_advance(pt_reasm *r, size_t len, pt_tcp_dir_stats *stats)
{
    r->next += len;
    stats->bytes += len;
}

/* The sender's FIN sits at `seq` (after any data in the same segment). */
void pt_reasm_fin(pt_reasm *r, uint32_t seq);

/* The receiver acknowledged everything before `ack`. A hole below that point will not be
 * filled from this capture, but it is only given up (pt_reasm_resolve) once traffic shows
 * the ACK was not merely captured ahead of the data: the sender sends past it, the receiver
 * sends data of its own, a cap is reached, or the flow ends. */
void pt_reasm_ack_ahead(pt_reasm *r, uint32_t ack);
/* Inline test for the common case (the ACK moves nothing past the delivered bytes). */
static inline void pt_reasm_ack(pt_reasm *r, uint32_t ack)
{
    if (r->init && (int32_t)(ack - (r->base + (uint32_t)r->next)) > 0) {
        pt_reasm_ack_ahead(r, ack);
    }
}

/* Turn the acknowledged holes into gaps and deliver what follows them. Returns the bytes
 * acknowledged that the capture never saw (0 when none). */
uint64_t pt_reasm_resolve(pt_reasm *r, const pt_reasm_env *env);

/* Deliver everything buffered, with gaps for the holes (and for missing bytes before a
 * FIN); used when the flow ends. */
void pt_reasm_flush(pt_reasm *r, const pt_reasm_env *env);

/* Drop everything buffered without delivering it. */
void pt_reasm_clear(pt_reasm *r, const pt_reasm_env *env);

/* Skip the first hole: a gap up to the first buffered segment, then deliver what follows.
 * Returns false when nothing is buffered. Used to free memory under a cap. */
bool pt_reasm_skip_hole(pt_reasm *r, const pt_reasm_env *env);

/* Everything up to the FIN has been delivered or skipped. */
static inline bool pt_reasm_done(const pt_reasm *r)
{
    return r->fin && r->next >= r->fin_off;
}

#endif
