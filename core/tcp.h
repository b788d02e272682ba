/* tcp.h — TCP connection tracking and per-direction stream reassembly (the contract).
 *
 * The tracker takes decoded TCP packets (core/decode.h), keeps a flow table (both
 * directions of a 5-tuple are one flow), reassembles each direction and reports to one
 * consumer: start, in-order data (straight from the capture buffer when possible), gaps,
 * end. The consumer is the dispatcher (core/dispatch.h) in the program, or a test.
 */
#ifndef PT_CORE_TCP_H
#define PT_CORE_TCP_H

#include <stdbool.h>
#include <stdint.h>

#include <glib.h>

#include "decode.h"
#include "pcaptrace/plugin.h"
#include "pcaptrace/types.h"

typedef struct pt_tcp pt_tcp;   /* the tracker */
typedef struct pt_flow pt_flow; /* one connection */

/* Per-direction counters, reported in tcp_end. */
typedef struct pt_tcp_dir_stats {
    uint64_t packets;
    uint64_t bytes;             /* payload bytes delivered in order */
    uint64_t retransmit_bytes;  /* bytes seen again (same data) */
    uint64_t retransmits;       /* segments that were wholly or partly retransmissions */
    uint64_t overlap_conflicts; /* overlapping bytes that differed from the first copy */
    uint64_t out_of_order;      /* segments that arrived ahead of a hole */
    uint64_t gap_bytes;         /* bytes never seen, reported as gaps */
    uint64_t unseen_acks;       /* ACKs for data never captured (TSO/GSO) */
} pt_tcp_dir_stats;

/* What the consumer can read about a flow. */
typedef struct pt_flow_info {
    char id[24]; /* printable flow id, unique within a run */
    pt_endpoint client, server;
    pt_time first_ts, last_ts;
    bool saw_syn;            /* handshake seen (else mid-stream pickup) */
    int64_t rtt_us;          /* SYN -> SYN/ACK -> ACK, -1 if not measured */
    pt_tcp_dir_stats dir[2]; /* indexed by pt_dir */
    /* appended by the tcp stage */
    int64_t rtt_server_us; /* SYN -> SYN/ACK as seen by the capture, -1 if not measured */
    int64_t rtt_client_us; /* SYN/ACK -> ACK as seen by the capture, -1 if not measured */
    uint32_t syn_retries;  /* SYNs sent again with the same ISN */
    bool saw_fin[2];       /* FIN seen in that direction */
    bool saw_rst;          /* ended by a RST */
} pt_flow_info;

/* Callbacks from the tracker. `user` is the consumer's per-flow slot (NULL at start). */
typedef struct pt_tcp_consumer {
    void *ctx;
    /* Handshake complete, or the first packet of a flow picked up mid-stream. */
    void (*on_start)(void *ctx, pt_flow *f, const pt_time *ts);
    /* In-order payload bytes of one direction. `data` is valid only during the call. */
    void (*on_data)(void *ctx, pt_flow *f, pt_dir dir, const uint8_t *data, size_t len,
                    const pt_time *ts);
    /* `missing` bytes of `dir` will never arrive; data continues after them. */
    void (*on_gap)(void *ctx, pt_flow *f, pt_dir dir, uint64_t missing, const pt_time *ts);
    /* The flow ended; the flow (and its info) is freed after this returns. */
    void (*on_end)(void *ctx, pt_flow *f, pt_close_reason why, const pt_time *ts);
    /* Optional: whether `port` is a known server port (used when no SYN was seen). */
    bool (*is_server_port)(void *ctx, uint16_t port);
} pt_tcp_consumer;

/* Limits; every one is a command-line option or config key. 0 means the default (the
 * PT_TCP_DEFAULT_* constants in tcp.c). */
typedef struct pt_tcp_limits {
    uint64_t idle_timeout_us;       /* open flows idle this long end (capture time) */
    uint32_t max_flows;             /* open + recently closed flows kept */
    uint64_t max_buffer_bytes;      /* all out-of-order data buffered, all flows; each
                                       segment counts its payload plus 48 bytes */
    uint64_t max_flow_buffer_bytes; /* per direction, counted the same way */
    /* appended by the tcp stage */
    uint32_t max_flow_segments; /* out-of-order segments buffered per direction */
    uint64_t closed_linger_us;  /* a closed flow swallows late packets this long (TIME-WAIT) */
    bool quiet;                 /* no hints on stderr (TSO/GSO) */
} pt_tcp_limits;

/* Create a tracker reporting to `consumer` (copied). NULL limits = defaults. */
pt_tcp *pt_tcp_new(const pt_tcp_limits *limits, const pt_tcp_consumer *consumer);
void pt_tcp_free(pt_tcp *t);

/* Feed one decoded TCP packet (pkt->ip_proto == 6, not a fragment). Also advances the
 * tracker's clock: flows idle for longer than the timeout are ended with PT_CLOSE_TIMEOUT. */
void pt_tcp_packet(pt_tcp *t, const pt_packet *pkt);

/* End every open flow with `why` (PT_CLOSE_END_OF_CAPTURE at the end of a file or on
 * SIGINT), delivering what is buffered (data, and gaps for holes) first. */
void pt_tcp_flush(pt_tcp *t, pt_close_reason why, const pt_time *ts);

/* Read-only facts and counters of a flow. */
const pt_flow_info *pt_flow_get_info(const pt_flow *f);
/* The consumer's per-flow pointer slot (NULL until the consumer sets it). */
void **pt_flow_user(pt_flow *f);

/* Tracker-wide counters. */
typedef struct pt_tcp_stats {
    uint64_t flows_total, flows_open, flows_evicted, flows_timed_out;
    uint64_t buffered_bytes, buffered_bytes_peak;
    uint64_t unseen_acks;
    /* appended by the tcp stage */
    uint64_t packets;           /* TCP packets fed */
    uint64_t ignored;           /* not TCP, or a stray RST for no known flow */
    uint64_t bogus_segments;    /* sequence numbers too far from the stream to be real */
    uint64_t late_packets;      /* swallowed by a closed flow */
    uint64_t oversize_segments; /* payload larger than the receiver's MSS (offload) */
    uint64_t flows_peak;        /* most flows (open + closed) held at once */
} pt_tcp_stats;
void pt_tcp_get_stats(const pt_tcp *t, pt_tcp_stats *out);

/* The built-in `tcp` event source (tcp_events.c): when a bus is set, the tracker emits
 * tcp_start and tcp_end, and with `verbose` also retransmit, reset, gap and syn_retry. */
struct pt_events;
void pt_tcp_set_events(pt_tcp *t, struct pt_events *bus, bool verbose);

/* Command-line options of the tcp stage. Fill a config with pt_tcp_config_init(), add
 * pt_tcp_option_entries(cfg) to the program's GOptionContext, parse, then turn it into
 * limits with pt_tcp_config_limits() (which rejects impossible values). */
typedef struct pt_tcp_config {
    gboolean verbose;           /* --tcp-verbose */
    gdouble idle_timeout_s;     /* --idle-timeout SECONDS */
    gint64 max_flows;           /* --max-flows N */
    gint64 max_buffer_mib;      /* --max-buffer MiB */
    gint64 max_flow_buffer_kib; /* --max-flow-buffer KiB */
    gint64 max_flow_segments;   /* --max-flow-segments N */
} pt_tcp_config;

void pt_tcp_config_init(pt_tcp_config *cfg);
/* A NULL-terminated GOptionEntry array whose arg_data point into *cfg. The array is owned
 * by the tcp stage and reused by the next call. */
const GOptionEntry *pt_tcp_option_entries(pt_tcp_config *cfg);
bool pt_tcp_config_limits(const pt_tcp_config *cfg, pt_tcp_limits *out, GError **error);

#endif
