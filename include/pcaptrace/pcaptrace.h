/* pcaptrace.h — the library API: open a capture source, get decoded packets and TCP
 * stream events through callbacks, run, stop, read statistics. The `pcaptrace` program and
 * examples/ are built on it. (Owned by the capture stage; see core/pcaptrace.c.)
 *
 * Typical use (examples/simple_capture.c):
 *
 *   pt_source src = {.interface = "eth0", .filter = "tcp port 80"};
 *   pt_session *s = pt_session_open(&src, &error);
 *   pt_session_on_packet(s, print_packet, NULL);
 *   pt_session_run(s, &error);
 *   pt_session_close(s);
 */
#ifndef PCAPTRACE_PCAPTRACE_H
#define PCAPTRACE_PCAPTRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <glib.h>

#include "types.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pt_session pt_session;
typedef struct pt_packet pt_packet; /* a decoded packet; see pt_packet_get_info() */
struct pt_tcp;
struct pt_tcp_consumer;
struct pt_tcp_limits;

/* Where packets come from. Zero-initialise and set what you need; 0/NULL/false fields take
 * the defaults. With neither `file` nor `interface`, the first up, non-loopback interface is
 * used. */
typedef struct pt_source {
    const char *file;           /* pcap or pcapng file; "-" is standard input */
    const char *interface;      /* live capture */
    const char *filter;         /* BPF filter, tcpdump syntax; NULL or "" = everything */
    int snaplen;                /* bytes kept per packet; 0 = 262144 */
    int buffer_mib;             /* kernel buffer in MiB; 0 = libpcap's default */
    bool no_promisc;            /* promiscuous mode is on unless this is set */
    bool immediate;             /* deliver packets as soon as they arrive */
    int timeout_ms;             /* live read timeout; 0 = default */
    const char *save_file;      /* also write every packet read to this pcap file */
    int batch;                  /* packets per pcap_dispatch() call; 0 = default */
    uint64_t defrag_max_bytes;  /* IP reassembly memory cap; 0 = default */
    uint64_t defrag_timeout_us; /* IP reassembly timeout (capture time); 0 = default */
    bool no_tunnels; /* do not open GRE, Teredo, VXLAN, ... tunnels (they are by default) */
} pt_source;

/* Error codes of the PT_SESSION_ERROR domain (GError). */
typedef enum pt_session_error {
    PT_SESSION_ERROR_USAGE = 1,  /* bad option value (exit status 2) */
    PT_SESSION_ERROR_FILTER,     /* the filter does not compile (exit status 2) */
    PT_SESSION_ERROR_NO_DEVICE,  /* unknown interface */
    PT_SESSION_ERROR_PERMISSION, /* needs root or CAP_NET_RAW */
    PT_SESSION_ERROR_LINKTYPE,   /* link type we do not decode */
    PT_SESSION_ERROR_OPEN,       /* the file or interface cannot be opened */
    PT_SESSION_ERROR_READ,       /* reading failed: truncated or corrupt file, device gone */
    PT_SESSION_ERROR_SAVE        /* -w file cannot be written */
} pt_session_error;
#define PT_SESSION_ERROR (pt_session_error_quark())
GQuark pt_session_error_quark(void);

/* What happened to one frame. */
typedef enum pt_packet_status {
    PT_PACKET_OK = 0,     /* decoded as far as pcaptrace goes (may be non-IP) */
    PT_PACKET_TRUNCATED,  /* the capture ended inside a header */
    PT_PACKET_MALFORMED,  /* a header field is impossible */
    PT_PACKET_FRAGMENT,   /* one IP fragment (ports unknown) */
    PT_PACKET_REASSEMBLED /* a datagram rebuilt from fragments (reported after its last one) */
} pt_packet_status;

/* Counters of a session. Drops are known only for live captures (have_drops). */
typedef struct pt_stats {
    uint64_t packets;      /* frames read from the source (after the filter) */
    uint64_t bytes;        /* their captured bytes */
    uint64_t wire_bytes;   /* their length on the wire */
    uint64_t truncated;    /* frames cut inside a header (snaplen) */
    uint64_t malformed;    /* frames with impossible header values */
    uint64_t fragments;    /* IP fragments */
    uint64_t reassembled;  /* datagrams rebuilt from fragments */
    uint64_t frag_dropped; /* fragments given up (timeout, memory cap, bad overlap) */
    uint64_t tcp, udp, icmp, other_ip, non_ip;
    bool have_drops;   /* the counters below come from pcap_stats() */
    uint64_t received; /* packets the kernel handed to the filter */
    uint64_t kernel_drops;
    uint64_t iface_drops;
} pt_stats;

/* Decoded-packet callback: called once per frame (and once more per rebuilt datagram). The
 * packet and the bytes it points to are valid only during the call. */
typedef void (*pt_packet_fn)(void *ctx, const pt_packet *pkt, pt_packet_status status);

/* Called between batches, about every `interval_s` seconds of wall-clock time. */
typedef void (*pt_tick_fn)(void *ctx, const pt_stats *stats);

/* Called after every batch, and when a live capture's read timeout passes without packets
 * (a chance to flush output while the network is idle). */
typedef void (*pt_batch_fn)(void *ctx);

/* Open a source. On failure returns NULL and sets *error (PT_SESSION_ERROR domain). */
pt_session *pt_session_open(const pt_source *src, GError **error);

/* Callbacks and settings; call them before pt_session_run(). */
void pt_session_on_packet(pt_session *s, pt_packet_fn fn, void *ctx);
void pt_session_on_tick(pt_session *s, unsigned interval_s, pt_tick_fn fn, void *ctx);
void pt_session_on_batch(pt_session *s, pt_batch_fn fn, void *ctx);
void pt_session_set_count(pt_session *s, uint64_t max_packets); /* 0 = no limit */
/* Track TCP and hand streams to `consumer` (core/tcp.h; copied). NULL limits = defaults.
 * A NULL consumer frees the tracker (after pt_session_run() flushed it). */
bool pt_session_set_tcp(pt_session *s, const struct pt_tcp_limits *limits,
                        const struct pt_tcp_consumer *consumer);
/* The TCP tracker made by pt_session_set_tcp(), or NULL. */
struct pt_tcp *pt_session_tcp(pt_session *s);

/* Read packets until the end of the file, the packet count, pt_session_stop() or an
 * error. Open TCP streams are flushed (end of capture) in every case. Returns true when
 * it ended normally; false with *error set when reading failed (every packet before the
 * failure was delivered). */
bool pt_session_run(pt_session *s, GError **error);

/* Make pt_session_run() return soon. Async-signal-safe: call it from a signal handler. */
void pt_session_stop(pt_session *s);

/* Current counters (pcap_stats is queried for live captures). */
void pt_session_get_stats(pt_session *s, pt_stats *out);

/* Link type (DLT_*) of the source, and a printable name of the source. */
int pt_session_datalink(const pt_session *s);
const char *pt_session_name(const pt_session *s);
bool pt_session_is_live(const pt_session *s);

/* Close the source (flushing the -w file) and free everything. */
void pt_session_close(pt_session *s);

/* The main facts of a decoded packet, in a stable public form. */
typedef struct pt_packet_info {
    pt_time ts;
    uint32_t caplen, wirelen;
    int linktype;
    uint16_t ethertype;
    uint8_t ip_version; /* 0 when not IP */
    uint8_t ip_proto;
    pt_endpoint src, dst; /* ports are 0 without TCP/UDP */
    uint8_t tcp_flags;
    uint32_t seq, ack;
    const uint8_t *payload; /* TCP/UDP payload in the capture buffer */
    size_t payload_len;
} pt_packet_info;
void pt_packet_get_info(const pt_packet *pkt, pt_packet_info *out);

/* Write the one-line summary `pcaptrace --packets` prints (no newline) into buf; returns
 * the length it needed (like snprintf). */
size_t pt_packet_format(const pt_packet *pkt, pt_packet_status status, char *buf, size_t size);

#ifdef __cplusplus
}
#endif
#endif
