/* decode_ip.c — IPv4 (RFC 791) and IPv6 with its extension-header chain (RFC 8200; AH RFC
 * 4302; Mobility RFC 6275, HIP RFC 7401 and Shim6 RFC 5533 use the generic format of RFC
 * 7045; atomic fragments RFC 6946). */
#include "decode.h"

#include <string.h>

#include "cursor.h"

/* More IPv6 extension headers than this in one packet is MALFORMED (each one costs at least
 * 8 bytes, so this only bounds the work on hostile chains). Build-time option (-D). */
#ifndef PT_DECODE_MAX_EXT_HEADERS
#define PT_DECODE_MAX_EXT_HEADERS 32
#endif

/* Largest IP datagram: a fragment may not end past it (RFC 791, RFC 8200). */
#define PT_IP_MAX_DATAGRAM 65535u

enum {
    IP6_HOPOPTS = 0,
    IP6_ROUTING = 43,
    IP6_FRAGMENT = 44,
    IP6_AH = 51,
    IP6_DSTOPTS = 60,
    IP6_MOBILITY = 135,
    IP6_HIP = 139,
    IP6_SHIM6 = 140
};

static pt_decode_result fail(pt_packet *pkt, pt_decode_result r, const char *why)
{
    pkt->why = why;
    return r;
}

static pt_decode_result decode_ipv4(const uint8_t *data, size_t caplen, size_t wirelen,
                                    pt_packet *pkt)
{
    pt_cursor c = pt_cursor_make(data, caplen);
    const uint8_t *h = pt_cursor_take(&c, 20);
    size_t hlen, tot;
    uint16_t fo;

    if (!h)
        return fail(pkt, wirelen < 20 ? PT_DECODE_MALFORMED : PT_DECODE_TRUNCATED,
                    "IPv4 header cut short");
    tot = pt_cursor_load_be16(h + 2);
    pkt->ip_id = pt_cursor_load_be16(h + 4);
    fo = pt_cursor_load_be16(h + 6);
    pkt->ttl = h[8];
    pkt->ip_proto = h[9];
    pkt->src.family = pkt->dst.family = 4;
    memcpy(pkt->src.bytes, h + 12, 4);
    memcpy(pkt->dst.bytes, h + 16, 4);
    pkt->ip_version = 4;
    pkt->l3 = data;

    hlen = (size_t)(h[0] & 0x0f) * 4;
    if (hlen < 20)
        return fail(pkt, PT_DECODE_MALFORMED, "IPv4 header length below 20");
    /* A zero total length is what TSO leaves in packets captured on the sending host:
     * trust the frame length instead (as Wireshark does). */
    if (tot == 0)
        tot = wirelen;
    if (tot < hlen)
        return fail(pkt, PT_DECODE_MALFORMED, "IPv4 total length below the header length");
    if (tot > wirelen)
        return fail(pkt, PT_DECODE_MALFORMED, "IPv4 total length past the end of the frame");
    if (hlen > caplen)
        return fail(pkt, PT_DECODE_TRUNCATED, "IPv4 options cut short");
    pkt->l3_wire_len = tot;
    pkt->l3_len = tot < caplen ? tot : caplen;

    if (fo & 0x3fff) {
        pkt->is_fragment = true;
        pkt->more_fragments = (fo & 0x2000) != 0;
        pkt->frag_offset = (uint16_t)((fo & 0x1fff) * 8);
        pkt->frag_payload = data + hlen;
        pkt->frag_payload_len = pkt->l3_len - hlen;
        if (pkt->frag_offset + (tot - hlen) > PT_IP_MAX_DATAGRAM)
            return fail(pkt, PT_DECODE_MALFORMED, "IPv4 fragment ends past 65535");
        return PT_DECODE_FRAGMENT;
    }
    return pt_decode_l4(data + hlen, pkt->l3_len - hlen, tot - hlen, pkt);
}

/* Length in bytes of an IPv6 extension header of type `nh` from its length byte; 0 when
 * `nh` is not an extension header we walk (an upper layer, ESP, or no next header). */
static size_t ext_header_len(uint8_t nh, uint8_t hdr_ext_len)
{
    switch (nh) {
    case IP6_HOPOPTS:
    case IP6_ROUTING:
    case IP6_DSTOPTS:
    case IP6_MOBILITY:
    case IP6_HIP:
    case IP6_SHIM6:
        return ((size_t)hdr_ext_len + 1) * 8;
    case IP6_AH:
        return ((size_t)hdr_ext_len + 2) * 4; /* in 32-bit words, minus 2 (RFC 4302) */
    case IP6_FRAGMENT:
        return 8;
    default:
        return 0;
    }
}

/* Fill the fragment fields from the IPv6 fragment header at `off`; returns false for an
 * atomic fragment (offset 0, no more fragments: RFC 6946 says process it as a whole). */
static bool ipv6_fragment(const uint8_t *data, size_t off, size_t nh_off, pt_packet *pkt)
{
    pt_cursor c = pt_cursor_make(data + off, 8);
    uint8_t next = pt_cursor_u8(&c);
    uint16_t fo;

    pt_cursor_skip(&c, 1);
    fo = pt_cursor_be16(&c);
    if ((fo & 0xfff9) == 0)
        return false;
    pkt->ip_proto = next;
    pkt->ip_id = pt_cursor_be32(&c);
    pkt->is_fragment = true;
    pkt->frag_offset = (uint16_t)(fo & 0xfff8);
    pkt->more_fragments = (fo & 1) != 0;
    pkt->ip6_frag_hdr = (uint16_t)off;
    pkt->ip6_frag_nh = (uint16_t)nh_off;
    pkt->frag_payload = data + off + 8;
    pkt->frag_payload_len = pkt->l3_len - (off + 8);
    return true;
}

static pt_decode_result decode_ipv6(const uint8_t *data, size_t caplen, size_t wirelen,
                                    pt_packet *pkt)
{
    pt_cursor c = pt_cursor_make(data, caplen);
    const uint8_t *h = pt_cursor_take(&c, 40);
    size_t tot, off, nh_off = 6;
    uint8_t nh;

    if (!h)
        return fail(pkt, wirelen < 40 ? PT_DECODE_MALFORMED : PT_DECODE_TRUNCATED,
                    "IPv6 header cut short");
    tot = 40 + (size_t)pt_cursor_load_be16(h + 4);
    nh = h[6];
    pkt->ttl = h[7];
    pkt->src.family = pkt->dst.family = 6;
    memcpy(pkt->src.bytes, h + 8, 16);
    memcpy(pkt->dst.bytes, h + 24, 16);
    pkt->ip_version = 6;
    pkt->l3 = data;
    pkt->ip_proto = nh;
    /* Payload length 0: a jumbogram (RFC 2675) or a TSO super-packet; use the frame. */
    if (tot == 40)
        tot = wirelen;
    if (tot > wirelen)
        return fail(pkt, PT_DECODE_MALFORMED, "IPv6 payload length past the end of the frame");
    pkt->l3_wire_len = tot;
    pkt->l3_len = tot < caplen ? tot : caplen;

    off = 40;
    c = pt_cursor_make(data, pkt->l3_len);
    for (int n = 0;; n++) {
        uint8_t next, hdr_ext_len;
        size_t len;

        if (ext_header_len(nh, 0) == 0)
            break; /* upper layer, ESP (50) or no next header (59) */
        if (n >= PT_DECODE_MAX_EXT_HEADERS)
            return fail(pkt, PT_DECODE_MALFORMED, "too many IPv6 extension headers");
        if (off + 2 > tot)
            return fail(pkt, PT_DECODE_MALFORMED, "IPv6 extension header past the payload");
        if (!pt_cursor_peek_u8(&c, off, &next) || !pt_cursor_peek_u8(&c, off + 1, &hdr_ext_len))
            return fail(pkt, PT_DECODE_TRUNCATED, "IPv6 extension header cut short");
        len = ext_header_len(nh, hdr_ext_len);
        if (len > tot - off)
            return fail(pkt, PT_DECODE_MALFORMED, "IPv6 extension header past the payload");
        if (len > pkt->l3_len - off)
            return fail(pkt, PT_DECODE_TRUNCATED, "IPv6 extension header cut short");
        if (off + len > UINT16_MAX)
            return fail(pkt, PT_DECODE_MALFORMED, "IPv6 extension headers too long");
        if (nh == IP6_FRAGMENT && ipv6_fragment(data, off, nh_off, pkt)) {
            if (pkt->frag_offset + (tot - off - 8) > PT_IP_MAX_DATAGRAM)
                return fail(pkt, PT_DECODE_MALFORMED, "IPv6 fragment ends past 65535");
            return PT_DECODE_FRAGMENT;
        }
        nh_off = off;
        nh = next;
        off += len;
    }
    pkt->ip_proto = nh;
    return pt_decode_l4(data + off, pkt->l3_len - off, tot - off, pkt);
}

pt_decode_result pt_decode_ip_wire(const uint8_t *data, size_t caplen, size_t wirelen,
                                   pt_packet *pkt)
{
    if (wirelen < caplen)
        wirelen = caplen;
    if (!data || caplen == 0)
        return fail(pkt, wirelen == 0 ? PT_DECODE_MALFORMED : PT_DECODE_TRUNCATED, "no IP header");
    switch (data[0] >> 4) {
    case 4:
        return decode_ipv4(data, caplen, wirelen, pkt);
    case 6:
        return decode_ipv6(data, caplen, wirelen, pkt);
    default:
        return fail(pkt, PT_DECODE_MALFORMED, "IP version neither 4 nor 6");
    }
}

pt_decode_result pt_decode_ip(const uint8_t *data, size_t len, pt_packet *pkt)
{
    pt_decode_reset_l3(pkt);
    return pt_decode_ip_wire(data, len, len, pkt);
}
