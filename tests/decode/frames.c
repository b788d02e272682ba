/* frames.c — a byte-array frame builder for the decode and defrag unit tests. */
#include "frames.h"

#include <string.h>

void fr_reset(frame *f)
{
    f->n = 0;
}

void fr_u8(frame *f, uint8_t v)
{
    if (f->n < FRAME_MAX)
        f->b[f->n++] = v;
}

void fr_be16(frame *f, uint16_t v)
{
    fr_u8(f, (uint8_t)(v >> 8));
    fr_u8(f, (uint8_t)v);
}

void fr_be32(frame *f, uint32_t v)
{
    fr_be16(f, (uint16_t)(v >> 16));
    fr_be16(f, (uint16_t)v);
}

void fr_le32(frame *f, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        fr_u8(f, (uint8_t)(v >> (8 * i)));
}

void fr_bytes(frame *f, const void *p, size_t n)
{
    const uint8_t *q = p;

    for (size_t i = 0; i < n; i++)
        fr_u8(f, q[i]);
}

void fr_fill(frame *f, uint8_t v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        fr_u8(f, v);
}

void fr_put_be16(frame *f, size_t at, uint16_t v)
{
    f->b[at] = (uint8_t)(v >> 8);
    f->b[at + 1] = (uint8_t)v;
}

void fr_eth(frame *f, uint16_t type)
{
    static const uint8_t macs[12] = {0, 1, 2, 3, 4, 5, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f};

    fr_bytes(f, macs, sizeof macs);
    fr_be16(f, type);
}

void fr_vlan(frame *f, uint16_t vid, uint16_t next)
{
    fr_be16(f, (uint16_t)(0x2000 | vid));
    fr_be16(f, next);
}

size_t fr_ipv4(frame *f, uint8_t proto, uint32_t src, uint32_t dst, uint16_t id,
               uint16_t frag_field, int opt_words)
{
    size_t at = f->n;

    fr_u8(f, (uint8_t)(0x40 | (5 + opt_words)));
    fr_u8(f, 0);
    fr_be16(f, 0);
    fr_be16(f, id);
    fr_be16(f, frag_field);
    fr_u8(f, 64);
    fr_u8(f, proto);
    fr_be16(f, 0);
    fr_be32(f, src);
    fr_be32(f, dst);
    fr_fill(f, 1, (size_t)opt_words * 4);
    return at;
}

void fr_ipv4_done(frame *f, size_t at)
{
    fr_put_be16(f, at + 2, (uint16_t)(f->n - at));
}

size_t fr_ipv6(frame *f, uint8_t nh, uint8_t src_lo, uint8_t dst_lo)
{
    size_t at = f->n;

    fr_be32(f, 0x60000000);
    fr_be16(f, 0);
    fr_u8(f, nh);
    fr_u8(f, 64);
    fr_be16(f, 0x2001);
    fr_be16(f, 0x0db8);
    fr_fill(f, 0, 11);
    fr_u8(f, src_lo);
    fr_be16(f, 0x2001);
    fr_be16(f, 0x0db8);
    fr_fill(f, 0, 11);
    fr_u8(f, dst_lo);
    return at;
}

void fr_ipv6_done(frame *f, size_t at)
{
    fr_put_be16(f, at + 4, (uint16_t)(f->n - at - 40));
}

void fr_ext(frame *f, uint8_t nh, uint8_t hdr_ext_len)
{
    fr_u8(f, nh);
    fr_u8(f, hdr_ext_len);
    fr_u8(f, 1); /* PadN */
    fr_u8(f, (uint8_t)((hdr_ext_len + 1) * 8 - 4));
    fr_fill(f, 0, (size_t)(hdr_ext_len + 1) * 8 - 4);
}

void fr_tcp(frame *f, uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags,
            const uint8_t *opts, size_t opt_len)
{
    fr_be16(f, sport);
    fr_be16(f, dport);
    fr_be32(f, seq);
    fr_be32(f, ack);
    fr_u8(f, (uint8_t)(((20 + opt_len) / 4) << 4));
    fr_u8(f, flags);
    fr_be16(f, 65535);
    fr_be32(f, 0);
    fr_bytes(f, opts, opt_len);
}

void fr_udp(frame *f, uint16_t sport, uint16_t dport, size_t payload_len)
{
    fr_be16(f, sport);
    fr_be16(f, dport);
    fr_be16(f, (uint16_t)(8 + payload_len));
    fr_be16(f, 0);
}
