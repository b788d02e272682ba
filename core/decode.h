/* decode.h — layered packet decode: link layer, IPv4/IPv6, TCP/UDP/ICMP, and opt-in tunnel
 * decapsulation (pt_decode_tunnel).
 *
 * The decoded packet refers to the capture buffer: nothing is copied. Every read goes
 * through core/cursor.h. Truncated (caplen too short) and malformed (impossible header
 * values) are different outcomes and are counted apart by the caller.
 */
#ifndef PT_CORE_DECODE_H
#define PT_CORE_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "pcaptrace/types.h"

typedef enum pt_decode_result {
    PT_DECODE_OK = 0,    /* decoded as far as we go (may still be non-IP, e.g. ARP) */
    PT_DECODE_TRUNCATED, /* caplen ended inside a header we needed */
    PT_DECODE_MALFORMED, /* a header field is impossible (bad version, length, offset) */
    PT_DECODE_FRAGMENT   /* an IP fragment: l4 fields unset; hand it to defrag */
} pt_decode_result;

/* TCP flag bits as on the wire. */
enum {
    PT_TCP_FIN = 0x01,
    PT_TCP_SYN = 0x02,
    PT_TCP_RST = 0x04,
    PT_TCP_PSH = 0x08,
    PT_TCP_ACK = 0x10,
    PT_TCP_URG = 0x20,
    PT_TCP_ECE = 0x40,
    PT_TCP_CWR = 0x80
};

/* Decode limits; each can be changed at build time (-DPT_MAX_VLAN=16). */
#ifndef PT_MAX_VLAN
#define PT_MAX_VLAN 8 /* deeper VLAN stacks are MALFORMED */
#endif
#ifndef PT_MAX_MPLS
#define PT_MAX_MPLS 8 /* deeper MPLS label stacks are MALFORMED */
#endif
#ifndef PT_MAX_TUNNELS
#define PT_MAX_TUNNELS 4 /* nested tunnels pt_decode_tunnel() opens */
#endif
#ifndef PT_MAX_SACK
#define PT_MAX_SACK 4 /* SACK blocks recorded (a 40-byte option area holds at most 4) */
#endif

typedef struct pt_packet {
    pt_time ts;
    uint32_t caplen;
    uint32_t wirelen;
    const uint8_t *data; /* whole captured frame */

    int linktype;       /* DLT_* of the source */
    uint16_t ethertype; /* 0x0800, 0x86dd, 0x0806 ...; 0 if unknown */
    uint8_t n_vlan;     /* VLAN ids in vlan[] */
    uint8_t n_mpls;     /* MPLS labels in mpls[] */

    /* Tunnels opened by pt_decode_tunnel() (n_tunnels == 0 otherwise) */
    uint8_t n_tunnels;
    uint8_t tunnel;                     /* pt_tunnel kind of the innermost one */
    pt_endpoint tunnel_src, tunnel_dst; /* its outer endpoints (port 0 for IP-in-IP, GRE) */

    /* Layer 3 (valid when ip_version != 0) */
    uint8_t ip_version; /* 4 or 6; 0 = not IP */
    pt_addr src, dst;
    uint8_t ip_proto;  /* 6 TCP, 17 UDP, 1 ICMP, 58 ICMPv6, ... (after v6 ext headers) */
    uint8_t ttl;       /* TTL or hop limit */
    const uint8_t *l3; /* start of the IP header */
    size_t l3_len;     /* IP header + payload as claimed by the IP length, clipped to caplen */
    uint32_t ip_id;    /* IPv4 id, or IPv6 fragment id */
    bool is_fragment;
    uint16_t frag_offset; /* bytes */
    bool more_fragments;
    const uint8_t *frag_payload; /* fragment data (valid when is_fragment) */
    size_t frag_payload_len;
    size_t l3_wire_len;    /* IP header + payload as claimed by the IP length (not clipped) */
    uint16_t ip6_frag_hdr; /* IPv6 fragment: offset of the fragment header from l3 */
    uint16_t ip6_frag_nh;  /* IPv6 fragment: offset from l3 of the byte that names it */

    /* Layer 4 (valid when ip_proto is TCP/UDP/ICMP and not a fragment) */
    const uint8_t *l4;
    size_t l4_len;
    uint16_t sport, dport;
    /* TCP */
    uint32_t seq, ack;
    uint8_t tcp_flags;
    uint16_t window;
    uint16_t mss;  /* 0 if option absent */
    int8_t wscale; /* -1 if option absent */
    bool sack_permitted;
    bool has_timestamp;
    uint32_t ts_val, ts_ecr;
    uint8_t n_sack;       /* SACK blocks in sack[] */
    bool tcp_bad_options; /* an option had an impossible length (MALFORMED) */
    /* ICMP */
    uint8_t icmp_type, icmp_code;

    /* Application payload of TCP/UDP (clipped to caplen; see payload_wire_len) */
    const uint8_t *payload;
    size_t payload_len;      /* bytes present in the capture */
    size_t payload_wire_len; /* bytes on the wire according to the IP length */

    /* Why the result was TRUNCATED or MALFORMED (static string), else NULL. */
    const char *why;

    /* Arrays last: they are valid only up to their counts and never reset. */
    uint16_t vlan[PT_MAX_VLAN];    /* VLAN ids, outermost first */
    uint32_t mpls[PT_MAX_MPLS];    /* MPLS labels (20 bits), outermost first */
    uint32_t sack[PT_MAX_SACK][2]; /* SACK blocks: left, right edge */
} pt_packet;

/* Zero every layer-3 and layer-4 field of *pkt (wscale becomes -1): the bytes from ip_version
 * up to the arrays, which are meaningful only up to their counts. Copying a zeroed block of
 * fixed size compiles to a few vector stores, where memset would start a slow `rep stos`. */
static inline void pt_decode_reset_l3(pt_packet *pkt)
{
    enum { FROM = offsetof(pt_packet, ip_version), TO = offsetof(pt_packet, vlan) };
    static const uint64_t zero[(TO - FROM + 7) / 8];

    memcpy((char *)pkt + FROM, zero, TO - FROM);
    pkt->wscale = -1;
}

/* Tunnels pt_decode_tunnel() opens. */
typedef enum pt_tunnel {
    PT_TUNNEL_NONE = 0,
    PT_TUNNEL_IPIP,   /* IPv4/IPv6 in IPv4/IPv6 (protocols 4 and 41; RFC 2003, RFC 4213) */
    PT_TUNNEL_GRE,    /* GRE (protocol 47; RFC 2784, RFC 2890), also over UDP 4754 (RFC 8086) */
    PT_TUNNEL_VXLAN,  /* VXLAN, UDP port 4789 (RFC 7348) */
    PT_TUNNEL_GENEVE, /* Geneve, UDP port 6081 (RFC 8926) */
    PT_TUNNEL_TEREDO, /* Teredo (RFC 4380): UDP port 3544, or any port when the IPv6 packet
                         inside fills the datagram and has a 2001::/32 Teredo address */
    PT_TUNNEL_GTPU,   /* GTP-U, UDP port 2152 (3GPP TS 29.281) */
    PT_TUNNEL_AYIYA   /* AYIYA, UDP port 5072 (draft-massar-v6ops-ayiya) */
} pt_tunnel;

/* "gre", "vxlan", ... ("-" for PT_TUNNEL_NONE). */
const char *pt_tunnel_name(int tunnel);

/* If *pkt (decoded PT_DECODE_OK) carries one of the tunnels above, decode the packet inside it
 * into *pkt: link fields are kept, the outer endpoints go to tunnel_src/tunnel_dst and
 * n_tunnels grows. Returns PT_OK with the inner result in *result, or PT_DECLINED (pkt
 * untouched) when it is not a tunnel or PT_MAX_TUNNELS are open already. Off unless called:
 * callers loop `while (r == PT_DECODE_OK && pt_decode_tunnel(pkt, &r) == PT_OK)`. UDP tunnels
 * are recognised by port and header checks, as Zeek does. */
int pt_decode_tunnel(pt_packet *pkt, pt_decode_result *result);

/* The cheap test before pt_decode_tunnel(), inlined on the per-packet path: only IP-in-IP,
 * IPv6-in-IP, GRE and UDP packets can carry one of its tunnels. */
static inline bool pt_decode_may_tunnel(const pt_packet *pkt)
{
    uint8_t p = pkt->ip_proto;
    return pkt->ip_version != 0 && (p == 17 || p == 47 || p == 4 || p == 41);
}

/* Decode a frame of link type `dlt` into *pkt (which is reset first; the arrays are valid up
 * to their counts). */
pt_decode_result pt_decode_packet(int dlt, const uint8_t *data, uint32_t caplen, uint32_t wirelen,
                                  const pt_time *ts, pt_packet *pkt);

/* Decode an IP datagram that starts at `data` (after the link layer, or a datagram rebuilt
 * by defrag) into *pkt, keeping pkt's link-level fields. */
pt_decode_result pt_decode_ip(const uint8_t *data, size_t len, pt_packet *pkt);

/* Whether pt_decode_packet() knows link type `dlt`. */
bool pt_decode_supports_dlt(int dlt);

/* Stages used by the decoders themselves (decode_link.c → decode_ip.c → decode_l4.c). */

/* Like pt_decode_ip(), where `caplen` bytes are present at `data` and `wirelen` (>= caplen)
 * were on the wire, so a snaplen cut is TRUNCATED and a short frame is MALFORMED. Unlike
 * pt_decode_ip() it expects the L3/L4 fields of *pkt already reset (pt_decode_packet() resets
 * the whole packet once). */
pt_decode_result pt_decode_ip_wire(const uint8_t *data, size_t caplen, size_t wirelen,
                                   pt_packet *pkt);

/* Decode the transport header at `data` for pkt->ip_proto: `caplen` bytes present and
 * `wirelen` bytes claimed by the IP layer. Sets the L4 and payload fields. */
pt_decode_result pt_decode_l4(const uint8_t *data, size_t caplen, size_t wirelen, pt_packet *pkt);

#endif
