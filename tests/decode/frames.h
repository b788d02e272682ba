/* frames.h — a byte-array frame builder for the decode and defrag unit tests. */
#ifndef PT_TEST_FRAMES_H
#define PT_TEST_FRAMES_H

#include <stddef.h>
#include <stdint.h>

#define FRAME_MAX 70000

typedef struct frame {
    uint8_t b[FRAME_MAX];
    size_t n;
} frame;

void fr_reset(frame *f);
void fr_u8(frame *f, uint8_t v);
void fr_be16(frame *f, uint16_t v);
void fr_be32(frame *f, uint32_t v);
void fr_le32(frame *f, uint32_t v);
void fr_bytes(frame *f, const void *p, size_t n);
void fr_fill(frame *f, uint8_t v, size_t n);
void fr_put_be16(frame *f, size_t at, uint16_t v);

/* Ethernet header with Ethertype `type` (MACs are fixed). */
void fr_eth(frame *f, uint16_t type);
/* One VLAN tag: TCI with id `vid`, then the next Ethertype. */
void fr_vlan(frame *f, uint16_t vid, uint16_t next);

/* IPv4 header with `opt_words` 32-bit words of NOP options; returns its offset. The total
 * length is set by fr_ipv4_done(). frag_field is the flags+offset field as on the wire. */
size_t fr_ipv4(frame *f, uint8_t proto, uint32_t src, uint32_t dst, uint16_t id,
               uint16_t frag_field, int opt_words);
void fr_ipv4_done(frame *f, size_t at);

/* IPv6 header; the payload length is set by fr_ipv6_done(). src/dst end in `lo`. */
size_t fr_ipv6(frame *f, uint8_t nh, uint8_t src_lo, uint8_t dst_lo);
void fr_ipv6_done(frame *f, size_t at);
/* Generic IPv6 extension header of (hdr_ext_len + 1) * 8 bytes. */
void fr_ext(frame *f, uint8_t nh, uint8_t hdr_ext_len);

/* TCP header; `opts` (opt_len bytes, multiple of 4) follow it. */
void fr_tcp(frame *f, uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags,
            const uint8_t *opts, size_t opt_len);
/* UDP header whose length covers `payload_len` more bytes. */
void fr_udp(frame *f, uint16_t sport, uint16_t dport, size_t payload_len);

#endif
