/* pcaptrace.c — the library API of include/pcaptrace/pcaptrace.h: a session wires
 * capture → pt_decode_packet → IP defrag → pt_decode_ip → tunnel decapsulation
 * (pt_decode_tunnel, on by default) → pt_tcp_packet → the consumer. */
#include "pcaptrace/pcaptrace.h"

#include <signal.h>
#include <string.h>

#include "capture.h"
#include "decode.h"
#include "defrag.h"
#include "tcp.h"

static void pt_session_defrag(pt_session *s);

struct pt_session {
    pt_capture *cap;
    int dlt;       /* the capture's link type, read once */
    pt_packet pkt; /* the one decoded packet, reused for every frame */
    pt_defrag *defrag;
    pt_tcp *tcp;
    pt_packet_fn on_packet;
    void *on_packet_ctx;
    pt_tick_fn on_tick;
    void *on_tick_ctx;
    unsigned tick_s;
    pt_batch_fn on_batch;
    void *on_batch_ctx;
    uint64_t max_packets;
    int batch;
    volatile sig_atomic_t stop;
    bool idle_expiry; /* live: expire fragments while the network is quiet */
    bool tunnels;     /* decapsulate GRE, Teredo, VXLAN, ... (pt_decode_tunnel) */
    pt_stats stats;
    pt_time last_ts;  /* capture time of the last frame, for flushing at the end */
    gint64 last_wall; /* monotonic µs when the last batch of frames was read */
};

pt_session *pt_session_open(const pt_source *src, GError **error)
{
    pt_capture *cap = pt_capture_open(src, error);
    if (cap == NULL) {
        return NULL;
    }
    pt_session *s = g_new0(pt_session, 1);
    s->cap = cap;
    s->dlt = pt_capture_datalink(cap);
    s->batch = src->batch > 0 ? src->batch : PT_CAPTURE_BATCH_DEFAULT;
    pt_defrag_limits dl = {.max_bytes = (size_t)src->defrag_max_bytes,
                           .timeout_us = src->defrag_timeout_us};
    s->defrag = pt_defrag_new(&dl);
    s->idle_expiry = pt_capture_is_live(cap);
    s->tunnels = !src->no_tunnels;
    return s;
}

void pt_session_on_packet(pt_session *s, pt_packet_fn fn, void *ctx)
{
    s->on_packet = fn;
    s->on_packet_ctx = ctx;
}

void pt_session_on_tick(pt_session *s, unsigned interval_s, pt_tick_fn fn, void *ctx)
{
    s->tick_s = interval_s;
    s->on_tick = fn;
    s->on_tick_ctx = ctx;
}

void pt_session_on_batch(pt_session *s, pt_batch_fn fn, void *ctx)
{
    s->on_batch = fn;
    s->on_batch_ctx = ctx;
}

void pt_session_set_count(pt_session *s, uint64_t max_packets)
{
    s->max_packets = max_packets;
}

bool pt_session_set_tcp(pt_session *s, const pt_tcp_limits *limits, const pt_tcp_consumer *consumer)
{
    if (s->tcp != NULL) {
        pt_tcp_free(s->tcp);
        s->tcp = NULL;
    }
    if (consumer == NULL) {
        return true;
    }
    s->tcp = pt_tcp_new(limits, consumer);
    return s->tcp != NULL;
}

pt_tcp *pt_session_tcp(pt_session *s)
{
    return s->tcp;
}

/* Whether the tracker can use a packet of this outcome: a sound TCP segment, or one whose
 * only fault is an option with an impossible length (ports, sequence numbers and payload
 * are still sound: the segment is counted as malformed and tracked all the same). */
static bool pt_session_trackable(const pt_packet *p, pt_packet_status status)
{
    if (p->ip_version == 0 || p->ip_proto != 6 || p->l4 == NULL) {
        return false;
    }
    return status == PT_PACKET_OK || status == PT_PACKET_REASSEMBLED ||
           (status == PT_PACKET_MALFORMED && p->tcp_bad_options);
}

/* Count a decoded datagram by transport and hand it to the callback and the tracker. */
static void pt_session_deliver(pt_session *s, pt_packet_status status)
{
    pt_packet *p = &s->pkt;
    if (status == PT_PACKET_OK || status == PT_PACKET_REASSEMBLED) {
        if (p->ip_version == 0) {
            s->stats.non_ip++;
        } else if (p->ip_proto == 6) {
            s->stats.tcp++;
        } else if (p->ip_proto == 17) {
            s->stats.udp++;
        } else if (p->ip_proto == 1 || p->ip_proto == 58) {
            s->stats.icmp++;
        } else {
            s->stats.other_ip++;
        }
    }
    if (s->on_packet != NULL) {
        s->on_packet(s->on_packet_ctx, p, status);
    }
    if (s->tcp != NULL && pt_session_trackable(p, status)) {
        pt_tcp_packet(s->tcp, p);
    }
}

/* Open the tunnels a successfully decoded packet carries (when enabled), so the packet
 * inside is what gets counted, printed and tracked. Returns the inner result. */
static pt_decode_result pt_session_detunnel(pt_session *s, pt_decode_result r)
{
    bool open = s->tunnels;
    while (open && r == PT_DECODE_OK && pt_decode_may_tunnel(&s->pkt)) {
        open = pt_decode_tunnel(&s->pkt, &r) == PT_OK; /* stops at PT_MAX_TUNNELS */
    }
    return r;
}

/* Count and deliver the outcome of a decode; `ok` is the status a success gets. A fragment
 * goes to defrag and the datagram it completes is decoded and delivered in turn; a rebuilt
 * datagram that is itself a fragment again (nested fragmentation) is counted as malformed. */
static void pt_session_decoded(pt_session *s, pt_decode_result r, pt_packet_status ok)
{
    r = pt_session_detunnel(s, r);
    switch (r) {
    case PT_DECODE_OK:
        pt_session_deliver(s, ok);
        break;
    case PT_DECODE_TRUNCATED:
        s->stats.truncated++;
        pt_session_deliver(s, PT_PACKET_TRUNCATED);
        break;
    case PT_DECODE_FRAGMENT:
        if (ok != PT_PACKET_REASSEMBLED) {
            pt_session_defrag(s);
            break;
        }
        s->stats.malformed++;
        pt_session_deliver(s, PT_PACKET_MALFORMED);
        break;
    case PT_DECODE_MALFORMED:
        s->stats.malformed++;
        pt_session_deliver(s, PT_PACKET_MALFORMED);
        break;
    }
}

/* A fragment (outer, or inside a tunnel): count and show it, then hand it to defrag and
 * decode the datagram it completes, if any. */
static void pt_session_defrag(pt_session *s)
{
    s->stats.fragments++;
    pt_session_deliver(s, PT_PACKET_FRAGMENT);
    const uint8_t *dgram = NULL;
    size_t dgram_len = 0;
    if (pt_defrag_add(s->defrag, &s->pkt, &dgram, &dgram_len) == PT_OK) {
        s->stats.reassembled++;
        pt_session_decoded(s, pt_decode_ip(dgram, dgram_len, &s->pkt), PT_PACKET_REASSEMBLED);
    }
}

/* Per-frame work: decode, reassemble fragments, deliver. Allocates nothing. */
static void pt_session_on_frame(void *ctx, const pt_time *ts, uint32_t caplen, uint32_t wirelen,
                                const uint8_t *data)
{
    pt_session *s = ctx;
    s->stats.packets++;
    s->stats.bytes += caplen;
    s->stats.wire_bytes += wirelen;
    s->last_ts = *ts;
    pt_decode_result r = pt_decode_packet(s->dlt, data, caplen, wirelen, ts, &s->pkt);
    if (r == PT_DECODE_OK && !(s->tunnels && pt_decode_may_tunnel(&s->pkt))) {
        pt_session_deliver(s, PT_PACKET_OK); /* the common case, without the dispatch below */
        return;
    }
    pt_session_decoded(s, r, PT_PACKET_OK);
}

/* Packets to ask for in the next batch: the batch size, or fewer to honour -c. */
static int pt_session_next_batch(const pt_session *s)
{
    if (s->max_packets == 0) {
        return s->batch;
    }
    uint64_t left = s->max_packets - s->stats.packets;
    return left < (uint64_t)s->batch ? (int)left : s->batch;
}

/* A live capture with no traffic does not advance capture time, so fragments of an
 * incomplete datagram would wait for the next packet: estimate "now" in capture time as the
 * last packet's time plus the wall-clock time since it was read, and expire with that. */
static void pt_session_expire_idle(pt_session *s)
{
    int64_t idle_us = g_get_monotonic_time() - s->last_wall;
    int64_t nsec = (int64_t)s->last_ts.nsec + (idle_us % 1000000) * 1000;
    pt_time now = {.sec = s->last_ts.sec + idle_us / 1000000 + nsec / 1000000000,
                   .nsec = (uint32_t)(nsec % 1000000000)};
    pt_defrag_expire(s->defrag, &now);
}

bool pt_session_run(pt_session *s, GError **error)
{
    bool ok = true;
    gint64 next_tick = s->tick_s > 0 ? g_get_monotonic_time() + (gint64)s->tick_s * 1000000 : 0;
    while (!s->stop && (s->max_packets == 0 || s->stats.packets < s->max_packets)) {
        bool eof = false;
        int n = pt_capture_dispatch(s->cap, pt_session_next_batch(s), pt_session_on_frame, s, &eof,
                                    error);
        if (n == -1) {
            ok = false;
            break;
        }
        if (n == -2 || eof) {
            break;
        }
        if (n > 0 && s->idle_expiry) {
            s->last_wall = g_get_monotonic_time(); /* once per batch, not per frame */
        }
        if (n == 0 && s->idle_expiry && s->last_wall != 0) {
            pt_session_expire_idle(s);
        }
        if (s->on_batch != NULL) {
            s->on_batch(s->on_batch_ctx);
        }
        if (next_tick != 0 && g_get_monotonic_time() >= next_tick) {
            pt_stats st;
            pt_session_get_stats(s, &st);
            s->on_tick(s->on_tick_ctx, &st);
            next_tick = g_get_monotonic_time() + (gint64)s->tick_s * 1000000;
        }
    }
    if (s->tcp != NULL) {
        pt_tcp_flush(s->tcp, PT_CLOSE_END_OF_CAPTURE, &s->last_ts);
    }
    return ok;
}

void pt_session_stop(pt_session *s)
{
    s->stop = 1;
    pt_capture_break(s->cap);
}

void pt_session_get_stats(pt_session *s, pt_stats *out)
{
    *out = s->stats;
    pt_defrag_stats ds;
    pt_defrag_get_stats(s->defrag, &ds);
    out->frag_dropped = ds.dropped;
    out->have_drops =
        pt_capture_stats(s->cap, &out->received, &out->kernel_drops, &out->iface_drops);
}

int pt_session_datalink(const pt_session *s)
{
    return pt_capture_datalink(s->cap);
}

const char *pt_session_name(const pt_session *s)
{
    return pt_capture_name(s->cap);
}

bool pt_session_is_live(const pt_session *s)
{
    return pt_capture_is_live(s->cap);
}

void pt_session_close(pt_session *s)
{
    if (s == NULL) {
        return;
    }
    if (s->tcp != NULL) {
        pt_tcp_free(s->tcp);
    }
    pt_defrag_free(s->defrag);
    pt_capture_close(s->cap);
    g_free(s);
}

void pt_packet_get_info(const pt_packet *pkt, pt_packet_info *out)
{
    memset(out, 0, sizeof(*out));
    out->ts = pkt->ts;
    out->caplen = pkt->caplen;
    out->wirelen = pkt->wirelen;
    out->linktype = pkt->linktype;
    out->ethertype = pkt->ethertype;
    out->ip_version = pkt->ip_version;
    out->ip_proto = pkt->ip_proto;
    out->src.addr = pkt->src;
    out->dst.addr = pkt->dst;
    out->src.port = pkt->sport;
    out->dst.port = pkt->dport;
    out->tcp_flags = pkt->tcp_flags;
    out->seq = pkt->seq;
    out->ack = pkt->ack;
    out->payload = pkt->payload;
    out->payload_len = pkt->payload_len;
}
