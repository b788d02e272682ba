/* tcp.c — TCP connection tracking (RFC 9293 §3.5 handshake, §3.6 close, RFC 7413 Fast Open):
 * client/server roles, handshake RTT, close reasons, timeouts, caps and eviction, and the
 * glue between the flow table, per-direction reassembly, the consumer and the tcp events. */
#include "tcp.h"

#include <stdio.h>
#include <string.h>

#include "flow_table.h"
#include "reassembly.h"
#include "tcp_events.h"

/* Defaults of the limits (pt_tcp_limits, options --idle-timeout, --max-flows, --max-buffer,
 * --max-flow-buffer, --max-flow-segments). */
#define PT_TCP_DEFAULT_IDLE_TIMEOUT_US       (300ull * 1000000ull)
#define PT_TCP_DEFAULT_MAX_FLOWS             131072u
#define PT_TCP_DEFAULT_MAX_BUFFER_BYTES      (128ull << 20)
#define PT_TCP_DEFAULT_MAX_FLOW_BUFFER_BYTES (2ull << 20)
#define PT_TCP_DEFAULT_MAX_FLOW_SEGMENTS     4096u
#define PT_TCP_DEFAULT_CLOSED_LINGER_US      (30ull * 1000000ull)
/* Upper bounds accepted on the command line. */
#define PT_TCP_MAX_FLOWS_LIMIT      100000000ll
#define PT_TCP_MAX_IDLE_TIMEOUT_S   (86400.0 * 365)
#define PT_TCP_MAX_BUFFER_MIB_LIMIT (1ll << 20)

/* Capture times are compared in int64 nanoseconds: seconds beyond this are clamped. */
#define PT_TCP_MAX_TIME_S 4000000000ll

#define IP_PROTO_TCP 6

struct pt_tcp {
    pt_tcp_limits lim;
    pt_tcp_consumer c;
    pt_flow_table *ft;
    struct pt_events *bus;
    bool verbose;
    pt_time now;
    bool have_now;
    int64_t check_at_ns; /* no flow can expire before this capture time (epoch ns) */
    uint64_t buffered;   /* out-of-order bytes held, all flows */
    pt_tcp_stats st;
    bool hinted_unseen, hinted_oversize;
};

/* What a reassembly callback needs to know: whose bytes these are. */
typedef struct tcp_out {
    pt_tcp *t;
    pt_flow *f;
    pt_dir dir;
    const pt_time *ts;
} tcp_out;

static void tcp_end_flow(pt_tcp *t, pt_flow *f, pt_close_reason why, const pt_time *ts);
/* The acknowledged holes of `dir` become gaps now (the check is inline: there rarely are). */
static void tcp_resolve_holes(pt_tcp *t, pt_flow *f, pt_dir dir, const pt_time *ts);
static inline void tcp_resolve(pt_tcp *t, pt_flow *f, pt_dir dir, const pt_time *ts)
{
    const pt_reasm *r = &f->rs[dir];
    if (r->acked > r->next) {
        tcp_resolve_holes(t, f, dir, ts);
    }
}

static void tcp_out_data(void *ctx, const uint8_t *data, size_t len)
{
    tcp_out *o = ctx;
    if (o->t->c.on_data != NULL) {
        o->t->c.on_data(o->t->c.ctx, o->f, o->dir, data, len, o->ts);
    }
}

static void tcp_out_gap(void *ctx, uint64_t missing)
{
    tcp_out *o = ctx;
    if (o->t->bus != NULL && o->t->verbose) {
        pt_tcp_events_gap(o->t->bus, &o->f->info, o->dir, missing, o->ts);
    }
    if (o->t->c.on_gap != NULL) {
        o->t->c.on_gap(o->t->c.ctx, o->f, o->dir, missing, o->ts);
    }
}

/* Free buffered bytes of other flows, least recently buffering first, until `need` more
 * fit under the global cap. The flow being fed is never evicted for its own data. */
static bool tcp_make_room(void *ctx, uint64_t need)
{
    tcp_out *o = ctx;
    pt_tcp *t = o->t;
    while (t->buffered + need > t->lim.max_buffer_bytes) {
        pt_flow *victim = pt_flow_table_oldest_buffering(t->ft);
        if (victim == o->f) {
            victim = victim->buf_next;
        }
        if (victim == NULL) {
            return false;
        }
        if (victim->rs[0].ooo == NULL && victim->rs[1].ooo == NULL) {
            pt_flow_table_buf_unlink(t->ft, victim); /* its holes were filled meanwhile */
            continue;
        }
        tcp_end_flow(t, victim, PT_CLOSE_EVICTED, o->ts);
        pt_flow_table_remove(t->ft, victim);
        t->st.flows_evicted++;
    }
    return true;
}

static pt_reasm_env tcp_env(tcp_out *o)
{
    pt_reasm_env env = {
        .ctx = o,
        .data = tcp_out_data,
        .gap = tcp_out_gap,
        .make_room = tcp_make_room,
        .max_bytes = o->t->lim.max_flow_buffer_bytes,
        .max_segs = o->t->lim.max_flow_segments,
        .global_bytes = &o->t->buffered,
        .stats = &o->f->info.dir[o->dir],
    };
    return env;
}

static void tcp_fill_limits(pt_tcp_limits *lim)
{
    if (lim->idle_timeout_us == 0) {
        lim->idle_timeout_us = PT_TCP_DEFAULT_IDLE_TIMEOUT_US;
    }
    if (lim->idle_timeout_us > (uint64_t)(PT_TCP_MAX_IDLE_TIMEOUT_S * 1e6)) {
        lim->idle_timeout_us = (uint64_t)(PT_TCP_MAX_IDLE_TIMEOUT_S * 1e6);
    }
    if (lim->max_flows == 0) {
        lim->max_flows = PT_TCP_DEFAULT_MAX_FLOWS;
    }
    if (lim->max_buffer_bytes == 0) {
        lim->max_buffer_bytes = PT_TCP_DEFAULT_MAX_BUFFER_BYTES;
    }
    if (lim->max_flow_buffer_bytes == 0) {
        lim->max_flow_buffer_bytes = PT_TCP_DEFAULT_MAX_FLOW_BUFFER_BYTES;
    }
    if (lim->max_flow_segments == 0) {
        lim->max_flow_segments = PT_TCP_DEFAULT_MAX_FLOW_SEGMENTS;
    }
    if (lim->closed_linger_us == 0) {
        lim->closed_linger_us = PT_TCP_DEFAULT_CLOSED_LINGER_US;
    }
    if (lim->closed_linger_us > lim->idle_timeout_us) {
        lim->closed_linger_us = lim->idle_timeout_us;
    }
}

pt_tcp *pt_tcp_new(const pt_tcp_limits *limits, const pt_tcp_consumer *consumer)
{
    pt_tcp *t = g_new0(pt_tcp, 1);
    if (limits != NULL) {
        t->lim = *limits;
    }
    tcp_fill_limits(&t->lim);
    if (consumer != NULL) {
        t->c = *consumer;
    }
    t->ft = pt_flow_table_new();
    t->check_at_ns = INT64_MAX;
    return t;
}

void pt_tcp_free(pt_tcp *t)
{
    if (t == NULL) {
        return;
    }
    pt_flow *f;
    while ((f = pt_flow_table_oldest_open(t->ft)) != NULL ||
           (f = pt_flow_table_oldest_closed(t->ft)) != NULL) {
        for (int d = 0; d < 2; d++) {
            tcp_out o = {t, f, (pt_dir)d, &t->now};
            pt_reasm_env env = tcp_env(&o);
            pt_reasm_clear(&f->rs[d], &env);
        }
        pt_flow_table_remove(t->ft, f);
    }
    pt_flow_table_free(t->ft);
    g_free(t);
}

void pt_tcp_set_events(pt_tcp *t, struct pt_events *bus, bool verbose)
{
    t->bus = bus;
    t->verbose = verbose;
}

const pt_flow_info *pt_flow_get_info(const pt_flow *f)
{
    return &f->info;
}

void **pt_flow_user(pt_flow *f)
{
    return &f->user;
}

void pt_tcp_get_stats(const pt_tcp *t, pt_tcp_stats *out)
{
    *out = t->st;
    out->flows_open = pt_flow_table_open_count(t->ft);
    out->buffered_bytes = t->buffered;
}

/* Capture time in nanoseconds since the epoch (no division on the per-packet path),
 * saturated so that garbage timestamps (year ±2262 and beyond) cannot overflow. */
static int64_t tcp_ns(const pt_time *ts)
{
    if (ts->sec > PT_TCP_MAX_TIME_S) {
        return PT_TCP_MAX_TIME_S * 1000000000;
    }
    if (ts->sec < -PT_TCP_MAX_TIME_S) {
        return -PT_TCP_MAX_TIME_S * 1000000000;
    }
    return ts->sec * 1000000000 + ts->nsec;
}

/* The idle timeout and the tombstone linger, in the nanoseconds of tcp_ns(). */
static inline int64_t tcp_idle_ns(const pt_tcp *t)
{
    return (int64_t)t->lim.idle_timeout_us * 1000;
}
static inline int64_t tcp_linger_ns(const pt_tcp *t)
{
    return (int64_t)t->lim.closed_linger_us * 1000;
}

/* A flow may expire at `at_ns`: keep the earliest such time. */
static void tcp_expire_at(pt_tcp *t, int64_t at_ns)
{
    if (at_ns < t->check_at_ns) {
        t->check_at_ns = at_ns;
    }
}

static void tcp_start(pt_tcp *t, pt_flow *f, const pt_time *ts)
{
    if (f->started) {
        return;
    }
    f->started = true;
    if (t->bus != NULL) {
        pt_tcp_events_start(t->bus, &f->info, ts);
    }
    if (t->c.on_start != NULL) {
        t->c.on_start(t->c.ctx, f, ts);
    }
}

/* End a flow: deliver what is buffered (holes become gaps), tell the consumer and the event
 * bus (only for flows that started), and drop its buffers. The caller then removes it or
 * keeps it as a closed tombstone. */
static void tcp_end_flow(pt_tcp *t, pt_flow *f, pt_close_reason why, const pt_time *ts)
{
    if (f->list == PT_LIST_CLOSED) {
        return;
    }
    if ((why == PT_CLOSE_TIMEOUT || why == PT_CLOSE_END_OF_CAPTURE) && f->fin[0] && f->fin[1]) {
        why = PT_CLOSE_FIN;
    }
    for (int d = 0; d < 2; d++) {
        tcp_out o = {t, f, (pt_dir)d, ts};
        pt_reasm_env env = tcp_env(&o);
        if (f->started) {
            tcp_resolve(t, f, (pt_dir)d, ts);
            pt_reasm_flush(&f->rs[d], &env);
        }
        pt_reasm_clear(&f->rs[d], &env);
    }
    f->info.saw_rst = why == PT_CLOSE_RST;
    if (f->started) {
        if (t->c.on_end != NULL) {
            t->c.on_end(t->c.ctx, f, why, ts);
        }
        if (t->bus != NULL) {
            pt_tcp_events_end(t->bus, &f->info, why, ts);
        }
    }
    f->user = NULL;
    pt_flow_table_buf_unlink(t->ft, f);
}

/* End a flow and keep it as a tombstone that swallows its late packets. */
static void tcp_close_flow(pt_tcp *t, pt_flow *f, pt_close_reason why, const pt_time *ts)
{
    tcp_end_flow(t, f, why, ts);
    f->closed_ts = *ts;
    pt_flow_table_close(t->ft, f);
    tcp_expire_at(t, tcp_ns(ts) + tcp_linger_ns(t));
}

/* Capture time passed: end idle flows and forget old tombstones. The oldest open flow and
 * the oldest tombstone bound when the next one can expire, so most packets check one
 * number and touch no other flow (their cache lines stay cold). */
static void tcp_expire(pt_tcp *t, const pt_time *now)
{
    int64_t now_ns = tcp_ns(now);
    if (now_ns <= t->check_at_ns) {
        return;
    }
    pt_flow *f;
    while ((f = pt_flow_table_oldest_open(t->ft)) != NULL &&
           now_ns - tcp_ns(&f->info.last_ts) > tcp_idle_ns(t)) {
        tcp_end_flow(t, f, PT_CLOSE_TIMEOUT, now);
        pt_flow_table_remove(t->ft, f);
        t->st.flows_timed_out++;
    }
    while ((f = pt_flow_table_oldest_closed(t->ft)) != NULL &&
           now_ns - tcp_ns(&f->closed_ts) > tcp_linger_ns(t)) {
        pt_flow_table_remove(t->ft, f);
    }
    t->check_at_ns = INT64_MAX;
    if ((f = pt_flow_table_oldest_open(t->ft)) != NULL) {
        tcp_expire_at(t, tcp_ns(&f->info.last_ts) + tcp_idle_ns(t));
    }
    if ((f = pt_flow_table_oldest_closed(t->ft)) != NULL) {
        tcp_expire_at(t, tcp_ns(&f->closed_ts) + tcp_linger_ns(t));
    }
}

/* Make room for one more flow: forget the oldest tombstone, else evict the least recently
 * used open flow. */
static void tcp_reserve_flow(pt_tcp *t, const pt_time *ts)
{
    while (pt_flow_table_count(t->ft) >= t->lim.max_flows) {
        pt_flow *f = pt_flow_table_oldest_closed(t->ft);
        if (f == NULL) {
            f = pt_flow_table_oldest_open(t->ft);
            if (f == NULL) {
                return;
            }
            tcp_end_flow(t, f, PT_CLOSE_EVICTED, ts);
            t->st.flows_evicted++;
        }
        pt_flow_table_remove(t->ft, f);
    }
}

static bool tcp_is_server_port(const pt_tcp *t, uint16_t port)
{
    return t->c.is_server_port != NULL && t->c.is_server_port(t->c.ctx, port);
}

/* Which side of a new flow is the client: the sender of a SYN, the receiver of a SYN-ACK,
 * else the side not on a known server port, else the side with the higher port. */
static bool tcp_src_is_client(const pt_tcp *t, const pt_packet *pkt)
{
    uint8_t fl = pkt->tcp_flags;
    if (fl & PT_TCP_SYN) {
        return !(fl & PT_TCP_ACK);
    }
    if (tcp_is_server_port(t, pkt->dport)) {
        return true;
    }
    if (tcp_is_server_port(t, pkt->sport)) {
        return false;
    }
    return pkt->sport >= pkt->dport;
}

static pt_flow *tcp_new_flow(pt_tcp *t, const pt_flow_key *key, bool swapped, const pt_packet *pkt)
{
    tcp_reserve_flow(t, &pkt->ts);
    pt_flow *f = pt_flow_table_add(t->ft, key);
    bool src_client = tcp_src_is_client(t, pkt);
    uint8_t src_ep = swapped ? 1 : 0;
    f->client_ep = src_client ? src_ep : (uint8_t)(1 - src_ep);
    pt_endpoint src = {.addr = pkt->src, .port = pkt->sport};
    pt_endpoint dst = {.addr = pkt->dst, .port = pkt->dport};
    f->info.client = src_client ? src : dst;
    f->info.server = src_client ? dst : src;
    f->info.first_ts = f->info.last_ts = pkt->ts;
    tcp_expire_at(t, tcp_ns(&pkt->ts) + tcp_idle_ns(t));
    f->info.rtt_server_us = f->info.rtt_client_us = -1;
    t->st.flows_total++;
    uint32_t n = pt_flow_table_count(t->ft);
    if (n > t->st.flows_peak) {
        t->st.flows_peak = n;
    }
    return f;
}

/* Once per run: explain ACKs for bytes the capture never saw, and how to stop it. */
static void tcp_hint_unseen(pt_tcp *t, const pt_flow *f, uint64_t bytes)
{
    if (t->hinted_unseen || t->lim.quiet) {
        return;
    }
    t->hinted_unseen = true;
    fprintf(stderr,
            "pcaptrace: note: flow %s: %llu byte(s) were acknowledged but never captured; they "
            "are reported as gaps. The capturing host probably hands the kernel segments larger "
            "than the wire carries (TSO/GSO/GRO offload), or the capture dropped packets. For a "
            "live capture, turn offloads off: `ethtool -K IFACE tso off gso off gro off`. "
            "(shown once)\n",
            f->info.id, (unsigned long long)bytes);
}

/* Once per run: a segment larger than the receiver's MSS means the capture saw it before
 * segmentation (or after receive coalescing). */
static void tcp_hint_oversize(pt_tcp *t, const pt_flow *f, size_t len, uint16_t mss)
{
    t->st.oversize_segments++;
    if (t->hinted_oversize || t->lim.quiet) {
        return;
    }
    t->hinted_oversize = true;
    fprintf(stderr,
            "pcaptrace: note: flow %s: a %zu-byte segment exceeds the receiver's MSS of %u: the "
            "capturing host offloads segmentation (TSO/GSO/GRO). Reassembly is unaffected; for "
            "wire-accurate packets run `ethtool -K IFACE tso off gso off gro off`. (shown once)\n",
            f->info.id, len, (unsigned)mss);
}

static void tcp_on_syn(pt_tcp *t, pt_flow *f, pt_dir dir, const pt_packet *pkt)
{
    pt_flow_info *fi = &f->info;
    bool synack = (pkt->tcp_flags & PT_TCP_ACK) != 0;
    if (f->syn[dir]) {
        if (pkt->seq != f->isn[dir]) {
            return;
        }
        if (!synack && !f->syn[1 - dir]) {
            f->syn_retries++;
            fi->syn_retries = f->syn_retries;
            f->syn_ts = pkt->ts;
            if (t->bus != NULL && t->verbose) {
                pt_tcp_events_syn_retry(t->bus, fi, f->syn_retries, &pkt->ts);
            }
        }
        return;
    }
    f->syn[dir] = true;
    f->isn[dir] = pkt->seq;
    f->mss[1 - dir] = pkt->mss;
    if (!synack) {
        f->syn_ts = pkt->ts;
        fi->saw_syn = true;
    } else {
        f->synack_ts = pkt->ts;
        if (f->syn[1 - dir]) {
            fi->rtt_server_us = pt_time_diff_us(&pkt->ts, &f->syn_ts);
        }
    }
    if (!f->rs[dir].init) {
        pt_reasm_start(&f->rs[dir], pkt->seq + 1);
    }
}

/* An ACK from `dir` covers the bytes of the other direction; it also completes the
 * handshake. */
static void tcp_on_ack(pt_tcp *t, pt_flow *f, pt_dir dir, const pt_packet *pkt)
{
    pt_dir peer = (pt_dir)(1 - dir);
    pt_flow_info *fi = &f->info;
    if (!f->started && dir == PT_DIR_TO_SERVER && f->syn[0] && f->syn[1] &&
        !(pkt->tcp_flags & PT_TCP_SYN) && pkt->ack == f->isn[1] + 1) {
        fi->rtt_client_us = pt_time_diff_us(&pkt->ts, &f->synack_ts);
        fi->rtt_us = pt_time_diff_us(&pkt->ts, &f->syn_ts);
        tcp_start(t, f, &pkt->ts);
    }
    pt_reasm *r = &f->rs[peer];
    if (!r->init) {
        f->peer_ack[peer] = pkt->ack;
        f->peer_ack_ok[peer] = true;
        return;
    }
    pt_reasm_ack(r, pkt->ack);
}

/* Count acknowledged bytes the capture never saw (and explain them once). */
static void tcp_unseen(pt_tcp *t, pt_flow *f, pt_dir dir, uint64_t unseen)
{
    if (unseen == 0) {
        return;
    }
    f->info.dir[dir].unseen_acks++;
    t->st.unseen_acks++;
    tcp_hint_unseen(t, f, unseen);
}

/* Give up the acknowledged holes of `dir`: they become gaps, and what follows is delivered. */
static void tcp_resolve_holes(pt_tcp *t, pt_flow *f, pt_dir dir, const pt_time *ts)
{
    pt_reasm *r = &f->rs[dir];
    tcp_out o = {t, f, dir, ts};
    pt_reasm_env env = tcp_env(&o);
    tcp_unseen(t, f, dir, pt_reasm_resolve(r, &env));
}

/* First bytes of a direction without a SYN: start at this segment, or at the peer's ACK
 * when it points a little before it (the bytes in between are a hole). */
static void tcp_start_dir(pt_tcp *t, pt_flow *f, pt_dir dir, uint32_t seq)
{
    pt_reasm *r = &f->rs[dir];
    uint32_t base = seq;
    if (f->peer_ack_ok[dir]) {
        uint32_t ahead = seq - f->peer_ack[dir];
        if ((int32_t)ahead > 0 && ahead <= t->lim.max_flow_buffer_bytes) {
            base = f->peer_ack[dir];
        }
    }
    pt_reasm_start(r, base);
}

/* `wire` is the segment's length on the wire (at least the captured payload_len). */
static void tcp_on_payload(pt_tcp *t, pt_flow *f, pt_dir dir, const pt_packet *pkt, uint32_t seq,
                           size_t wire)
{
    pt_flow_info *fi = &f->info;
    pt_reasm *r = &f->rs[dir];
    if (!r->init) {
        tcp_start_dir(t, f, dir, seq);
    }
    tcp_start(t, f, &pkt->ts);
    /* The receiver of the other direction talks: what it acknowledged is settled. */
    tcp_resolve(t, f, (pt_dir)(1 - dir), &pkt->ts);
    if (f->mss[dir] != 0 && wire > f->mss[dir]) {
        tcp_hint_oversize(t, f, wire, f->mss[dir]);
    }
    if (pt_reasm_is_next(r, seq, pkt->payload_len, wire)) {
        /* In order with nothing pending (most segments): straight to the consumer. */
        pt_reasm_advance(r, pkt->payload_len, &fi->dir[dir]);
        if (t->c.on_data != NULL) {
            t->c.on_data(t->c.ctx, f, dir, pkt->payload, pkt->payload_len, &pkt->ts);
        }
        if (f->on_buf && f->rs[1 - dir].ooo == NULL) {
            pt_flow_table_buf_unlink(t->ft, f);
        }
        return;
    }
    tcp_out o = {t, f, dir, &pkt->ts};
    pt_reasm_env env = tcp_env(&o);
    pt_reasm_result res = pt_reasm_segment(r, &env, seq, pkt->payload, pkt->payload_len, wire);
    tcp_unseen(t, f, dir, res.unseen_bytes);
    if (res.bogus) {
        t->st.bogus_segments++;
        return;
    }
    if (res.retransmit_bytes > 0) {
        fi->dir[dir].retransmits++;
        fi->dir[dir].retransmit_bytes += res.retransmit_bytes;
        fi->dir[dir].overlap_conflicts += res.conflict_bytes;
        if (t->bus != NULL && t->verbose) {
            pt_tcp_events_retransmit(t->bus, fi, dir, seq, res.retransmit_bytes, res.conflict_bytes,
                                     &pkt->ts);
        }
    }
    if (res.buffered) {
        fi->dir[dir].out_of_order++;
        if (t->buffered > t->st.buffered_bytes_peak) {
            t->st.buffered_bytes_peak = t->buffered;
        }
    }
    if (r->ooo != NULL) {
        pt_flow_table_buf_touch(t->ft, f);
    } else if (f->rs[1 - dir].ooo == NULL) {
        pt_flow_table_buf_unlink(t->ft, f);
    }
}

/* A new SYN on a flow that already carried a connection: the 4-tuple is being reused. */
static bool tcp_is_reuse(const pt_flow *f, pt_dir dir, const pt_packet *pkt)
{
    if ((pkt->tcp_flags & (PT_TCP_SYN | PT_TCP_ACK)) != PT_TCP_SYN) {
        return false;
    }
    if (f->list == PT_LIST_CLOSED) {
        return true;
    }
    if (f->syn[PT_DIR_TO_SERVER] && dir == PT_DIR_TO_SERVER &&
        pkt->seq == f->isn[PT_DIR_TO_SERVER]) {
        return false; /* a SYN retry */
    }
    /* Finished (FINs), or traffic already flowed without this ISN. */
    return f->fin[0] || f->fin[1] || f->started || f->syn[PT_DIR_TO_SERVER] ||
           dir == PT_DIR_TO_CLIENT;
}

static pt_dir tcp_dir_of(const pt_flow *f, bool swapped)
{
    uint8_t src_ep = swapped ? 1 : 0;
    return src_ep == f->client_ep ? PT_DIR_TO_SERVER : PT_DIR_TO_CLIENT;
}

void pt_tcp_packet(pt_tcp *t, const pt_packet *pkt)
{
    if (pkt->ip_proto != IP_PROTO_TCP || pkt->l4 == NULL || pkt->is_fragment ||
        (pkt->src.family != 4 && pkt->src.family != 6)) {
        t->st.ignored++;
        return;
    }
    t->st.packets++;
    if (!t->have_now || pt_time_diff_ns(&pkt->ts, &t->now) > 0) {
        t->now = pkt->ts;
        t->have_now = true;
    }
    tcp_expire(t, &t->now);

    pt_flow_key key;
    bool swapped;
    pt_flow_table_key(&key, &pkt->src, pkt->sport, &pkt->dst, pkt->dport, &swapped);
    pt_flow *f = pt_flow_table_lookup(t->ft, &key);
    uint8_t fl = pkt->tcp_flags;

    if (f != NULL && tcp_is_reuse(f, tcp_dir_of(f, swapped), pkt)) {
        /* The old connection is over: by its FIN if one was seen, else it is reported as
         * timed out (its end was not captured). */
        if (f->list != PT_LIST_CLOSED) {
            tcp_end_flow(t, f, f->fin[0] || f->fin[1] ? PT_CLOSE_FIN : PT_CLOSE_TIMEOUT, &pkt->ts);
        }
        pt_flow_table_remove(t->ft, f);
        f = NULL;
    }
    if (f != NULL && f->list == PT_LIST_CLOSED) {
        t->st.late_packets++;
        return;
    }
    if (f == NULL) {
        if (fl & PT_TCP_RST) {
            t->st.ignored++;
            return;
        }
        f = tcp_new_flow(t, &key, swapped, pkt);
    }

    pt_dir dir = tcp_dir_of(f, swapped);
    pt_flow_info *fi = &f->info;
    if (pt_time_diff_ns(&pkt->ts, &fi->last_ts) > 0) {
        fi->last_ts = pkt->ts;
    }
    fi->dir[dir].packets++;
    pt_flow_table_touch(t->ft, f);

    uint32_t seq = pkt->seq;
    if (fl & PT_TCP_SYN) {
        tcp_on_syn(t, f, dir, pkt);
        seq++;
    } else if (!f->started && !f->syn[0] && !f->syn[1]) {
        tcp_start(t, f, &pkt->ts); /* picked up mid-stream */
    }
    if (fl & PT_TCP_RST) {
        if (t->bus != NULL && t->verbose) {
            pt_tcp_events_reset(t->bus, fi, dir, &pkt->ts);
        }
        tcp_close_flow(t, f, PT_CLOSE_RST, &pkt->ts);
        return;
    }
    if (fl & PT_TCP_ACK) {
        tcp_on_ack(t, f, dir, pkt);
    }
    size_t wire =
        pkt->payload_wire_len > pkt->payload_len ? pkt->payload_wire_len : pkt->payload_len;
    if (wire > 0) {
        tcp_on_payload(t, f, dir, pkt, seq, wire);
    }
    if (fl & PT_TCP_FIN) {
        if (!f->rs[dir].init) {
            tcp_start_dir(t, f, dir, seq);
        }
        tcp_start(t, f, &pkt->ts);
        pt_reasm_fin(&f->rs[dir], seq + (uint32_t)wire);
        f->fin[dir] = true;
        fi->saw_fin[dir] = true;
    }
    if (f->fin[0] && f->fin[1]) {
        /* Both sides sent their FIN past any acknowledged hole: those holes are settled. */
        tcp_resolve(t, f, PT_DIR_TO_SERVER, &pkt->ts);
        tcp_resolve(t, f, PT_DIR_TO_CLIENT, &pkt->ts);
    }
    if (f->fin[0] && f->fin[1] && pt_reasm_done(&f->rs[0]) && pt_reasm_done(&f->rs[1])) {
        tcp_close_flow(t, f, PT_CLOSE_FIN, &pkt->ts);
    }
}

void pt_tcp_flush(pt_tcp *t, pt_close_reason why, const pt_time *ts)
{
    pt_flow *f;
    while ((f = pt_flow_table_oldest_open(t->ft)) != NULL) {
        tcp_end_flow(t, f, why, ts);
        pt_flow_table_remove(t->ft, f);
    }
    while ((f = pt_flow_table_oldest_closed(t->ft)) != NULL) {
        pt_flow_table_remove(t->ft, f);
    }
}

void pt_tcp_config_init(pt_tcp_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->idle_timeout_s = (double)PT_TCP_DEFAULT_IDLE_TIMEOUT_US / 1e6;
    cfg->max_flows = PT_TCP_DEFAULT_MAX_FLOWS;
    cfg->max_buffer_mib = (gint64)(PT_TCP_DEFAULT_MAX_BUFFER_BYTES >> 20);
    cfg->max_flow_buffer_kib = (gint64)(PT_TCP_DEFAULT_MAX_FLOW_BUFFER_BYTES >> 10);
    cfg->max_flow_segments = PT_TCP_DEFAULT_MAX_FLOW_SEGMENTS;
}

const GOptionEntry *pt_tcp_option_entries(pt_tcp_config *cfg)
{
    static GOptionEntry entries[7];
    GOptionEntry e[] = {
        {"tcp-verbose", 0, 0, G_OPTION_ARG_NONE, &cfg->verbose,
         "Also emit tcp retransmit, reset, gap and syn_retry events", NULL},
        {"idle-timeout", 0, 0, G_OPTION_ARG_DOUBLE, &cfg->idle_timeout_s,
         "End TCP flows idle this long in capture time (default 300)", "SECONDS"},
        {"max-flows", 0, 0, G_OPTION_ARG_INT64, &cfg->max_flows,
         "Track at most N TCP flows; the least recently used is evicted (default 131072)", "N"},
        {"max-buffer", 0, 0, G_OPTION_ARG_INT64, &cfg->max_buffer_mib,
         "Out-of-order bytes buffered over all flows (default 128)", "MiB"},
        {"max-flow-buffer", 0, 0, G_OPTION_ARG_INT64, &cfg->max_flow_buffer_kib,
         "Out-of-order bytes buffered per direction of a flow (default 2048)", "KiB"},
        {"max-flow-segments", 0, 0, G_OPTION_ARG_INT64, &cfg->max_flow_segments,
         "Out-of-order segments buffered per direction of a flow (default 4096)", "N"},
        {NULL, 0, 0, G_OPTION_ARG_NONE, NULL, NULL, NULL},
    };
    memcpy(entries, e, sizeof e);
    return entries;
}

bool pt_tcp_config_limits(const pt_tcp_config *cfg, pt_tcp_limits *out, GError **error)
{
    memset(out, 0, sizeof *out);
    if (!(cfg->idle_timeout_s > 0) || cfg->idle_timeout_s > PT_TCP_MAX_IDLE_TIMEOUT_S) {
        g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                    "--idle-timeout must be between 0 and %.0f seconds (got %g)",
                    PT_TCP_MAX_IDLE_TIMEOUT_S, cfg->idle_timeout_s);
        return false;
    }
    if (cfg->max_flows < 1 || cfg->max_flows > PT_TCP_MAX_FLOWS_LIMIT) {
        g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                    "--max-flows must be between 1 and %lld (got %lld)",
                    (long long)PT_TCP_MAX_FLOWS_LIMIT, (long long)cfg->max_flows);
        return false;
    }
    if (cfg->max_buffer_mib < 1 || cfg->max_buffer_mib > PT_TCP_MAX_BUFFER_MIB_LIMIT) {
        g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                    "--max-buffer must be between 1 and %lld MiB (got %lld)",
                    (long long)PT_TCP_MAX_BUFFER_MIB_LIMIT, (long long)cfg->max_buffer_mib);
        return false;
    }
    if (cfg->max_flow_buffer_kib < 1 || cfg->max_flow_buffer_kib > cfg->max_buffer_mib * 1024) {
        g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                    "--max-flow-buffer must be between 1 KiB and --max-buffer (got %lld KiB)",
                    (long long)cfg->max_flow_buffer_kib);
        return false;
    }
    if (cfg->max_flow_segments < 1 || cfg->max_flow_segments > UINT32_MAX) {
        g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                    "--max-flow-segments must be at least 1 (got %lld)",
                    (long long)cfg->max_flow_segments);
        return false;
    }
    out->idle_timeout_us = (uint64_t)(cfg->idle_timeout_s * 1e6);
    if (out->idle_timeout_us == 0) {
        out->idle_timeout_us = 1;
    }
    out->max_flows = (uint32_t)cfg->max_flows;
    out->max_buffer_bytes = (uint64_t)cfg->max_buffer_mib << 20;
    out->max_flow_buffer_bytes = (uint64_t)cfg->max_flow_buffer_kib << 10;
    out->max_flow_segments = (uint32_t)cfg->max_flow_segments;
    return true;
}
