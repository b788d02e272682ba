/* decode_l4.c — transport headers: TCP with its options (RFC 9293; MSS, window scale and
 * timestamps RFC 7323; SACK RFC 2018), UDP (RFC 768, jumbograms RFC 2675), ICMP (RFC 792)
 * and ICMPv6 (RFC 4443). */
#include "decode.h"

#include "cursor.h"

enum { PROTO_ICMP = 1, PROTO_TCP = 6, PROTO_UDP = 17, PROTO_ICMPV6 = 58 };

enum {
    TCP_HDR_MIN = 20,
    UDP_HDR = 8,
    ICMP_HDR = 8,
    TCP_MAX_WSCALE = 14 /* larger shifts are treated as 14 (RFC 7323 §2.3) */
};

enum {
    TCPOPT_EOL = 0,
    TCPOPT_NOP = 1,
    TCPOPT_MSS = 2,
    TCPOPT_WSCALE = 3,
    TCPOPT_SACK_PERMITTED = 4,
    TCPOPT_SACK = 5,
    TCPOPT_TIMESTAMP = 8
};

/* NOP, NOP, kind 8 length 10: the usual option block of a segment with timestamps. */
#define TCP_OPT_NOP_NOP_TS     0x0101080au
#define TCP_OPT_NOP_NOP_TS_LEN 12u

static pt_decode_result fail(pt_packet *pkt, pt_decode_result r, const char *why)
{
    pkt->why = why;
    return r;
}

/* Header cut short: MALFORMED when even the IP length leaves no room for it, else the
 * snaplen cut it (TRUNCATED). */
static pt_decode_result short_header(pt_packet *pkt, size_t need, size_t wirelen, const char *why)
{
    return fail(pkt, wirelen < need ? PT_DECODE_MALFORMED : PT_DECODE_TRUNCATED, why);
}

/* Walk the TCP option list. Unknown kinds are skipped by their length; a known kind with the
 * wrong length is ignored. Returns false when an option's length is impossible (below 2 or
 * past the header), which stops the walk. */
static bool tcp_options(pt_cursor *c, pt_packet *pkt)
{
    bool ok = true;

    /* Most segments after the handshake carry exactly NOP, NOP, timestamps (the layout of
     * RFC 7323 Appendix A): read those 12 bytes at once instead of walking them. */
    if (pt_cursor_remaining(c) == TCP_OPT_NOP_NOP_TS_LEN &&
        pt_cursor_load_be32(pt_cursor_ptr(c)) == TCP_OPT_NOP_NOP_TS) {
        const uint8_t *p = pt_cursor_ptr(c);

        pkt->has_timestamp = true;
        pkt->ts_val = pt_cursor_load_be32(p + 4);
        pkt->ts_ecr = pt_cursor_load_be32(p + 8);
        return true;
    }

    while (pt_cursor_remaining(c) > 0) {
        uint8_t kind = pt_cursor_u8(c), len;
        pt_cursor o;

        if (kind == TCPOPT_EOL)
            break;
        if (kind == TCPOPT_NOP)
            continue;
        len = pt_cursor_u8(c);
        if (c->err || len < 2 || (size_t)(len - 2) > pt_cursor_remaining(c))
            return false;
        o = pt_cursor_sub(c, (size_t)len - 2);
        switch (kind) {
        case TCPOPT_MSS:
            if (len != 4)
                ok = false;
            else
                pkt->mss = pt_cursor_be16(&o);
            break;
        case TCPOPT_WSCALE:
            if (len != 3) {
                ok = false;
            } else {
                uint8_t ws = pt_cursor_u8(&o);
                pkt->wscale = (int8_t)(ws > TCP_MAX_WSCALE ? TCP_MAX_WSCALE : ws);
            }
            break;
        case TCPOPT_SACK_PERMITTED:
            if (len != 2)
                ok = false;
            else
                pkt->sack_permitted = true;
            break;
        case TCPOPT_SACK:
            if (len == 2 || (len - 2) % 8 != 0)
                ok = false;
            while (pt_cursor_remaining(&o) >= 8) {
                uint32_t left = pt_cursor_be32(&o), right = pt_cursor_be32(&o);

                if (pkt->n_sack < PT_MAX_SACK) {
                    pkt->sack[pkt->n_sack][0] = left;
                    pkt->sack[pkt->n_sack][1] = right;
                    pkt->n_sack++;
                }
            }
            break;
        case TCPOPT_TIMESTAMP:
            if (len != 10) {
                ok = false;
            } else {
                pkt->has_timestamp = true;
                pkt->ts_val = pt_cursor_be32(&o);
                pkt->ts_ecr = pt_cursor_be32(&o);
            }
            break;
        default:
            break;
        }
    }
    return ok;
}

static pt_decode_result decode_tcp(const uint8_t *data, size_t caplen, size_t wirelen,
                                   pt_packet *pkt)
{
    pt_cursor c = pt_cursor_make(data, caplen);
    const uint8_t *h = pt_cursor_take(&c, TCP_HDR_MIN);
    size_t doff;
    pt_cursor opts;

    if (!h)
        return short_header(pkt, TCP_HDR_MIN, wirelen, "TCP header cut short");
    pkt->sport = pt_cursor_load_be16(h);
    pkt->dport = pt_cursor_load_be16(h + 2);
    pkt->seq = pt_cursor_load_be32(h + 4);
    pkt->ack = pt_cursor_load_be32(h + 8);
    doff = (size_t)(h[12] >> 4) * 4;
    pkt->tcp_flags = h[13];
    pkt->window = pt_cursor_load_be16(h + 14);
    if (doff < TCP_HDR_MIN)
        return fail(pkt, PT_DECODE_MALFORMED, "TCP data offset below 5");
    if (doff > wirelen)
        return fail(pkt, PT_DECODE_MALFORMED, "TCP data offset past the IP length");
    if (doff > caplen)
        return fail(pkt, PT_DECODE_TRUNCATED, "TCP options cut short");
    pkt->payload = data + doff;
    pkt->payload_len = caplen - doff;
    pkt->payload_wire_len = wirelen - doff;
    opts = pt_cursor_make(data + TCP_HDR_MIN, doff - TCP_HDR_MIN);
    if (!tcp_options(&opts, pkt)) {
        pkt->tcp_bad_options = true;
        return fail(pkt, PT_DECODE_MALFORMED, "TCP option with a bad length");
    }
    return PT_DECODE_OK;
}

static pt_decode_result decode_udp(const uint8_t *data, size_t caplen, size_t wirelen,
                                   pt_packet *pkt)
{
    pt_cursor c = pt_cursor_make(data, caplen);
    const uint8_t *h = pt_cursor_take(&c, UDP_HDR);
    size_t ulen;

    if (!h)
        return short_header(pkt, UDP_HDR, wirelen, "UDP header cut short");
    pkt->sport = pt_cursor_load_be16(h);
    pkt->dport = pt_cursor_load_be16(h + 2);
    ulen = pt_cursor_load_be16(h + 4);
    /* Length 0 is legal only in an IPv6 jumbogram (RFC 2675): the IP layer has the length. */
    if (ulen == 0 && pkt->ip_version == 6)
        ulen = wirelen;
    if (ulen < UDP_HDR)
        return fail(pkt, PT_DECODE_MALFORMED, "UDP length below 8");
    if (ulen > wirelen)
        return fail(pkt, PT_DECODE_MALFORMED, "UDP length past the IP length");
    pkt->payload = data + UDP_HDR;
    pkt->payload_len = (ulen < caplen ? ulen : caplen) - UDP_HDR;
    pkt->payload_wire_len = ulen - UDP_HDR;
    return PT_DECODE_OK;
}

/* ICMP and ICMPv6 share the layout that matters here: type, code, checksum, 4 bytes that
 * depend on the type, then the body. */
static pt_decode_result decode_icmp(const uint8_t *data, size_t caplen, size_t wirelen,
                                    pt_packet *pkt)
{
    pt_cursor c = pt_cursor_make(data, caplen);
    const uint8_t *h = pt_cursor_take(&c, ICMP_HDR);

    if (!h)
        return short_header(pkt, ICMP_HDR, wirelen, "ICMP header cut short");
    pkt->icmp_type = h[0];
    pkt->icmp_code = h[1];
    pkt->payload = data + ICMP_HDR;
    pkt->payload_len = caplen - ICMP_HDR;
    pkt->payload_wire_len = wirelen - ICMP_HDR;
    return PT_DECODE_OK;
}

pt_decode_result pt_decode_l4(const uint8_t *data, size_t caplen, size_t wirelen, pt_packet *pkt)
{
    if (wirelen < caplen)
        wirelen = caplen;
    pkt->l4 = data;
    pkt->l4_len = caplen;
    switch (pkt->ip_proto) {
    case PROTO_TCP:
        return decode_tcp(data, caplen, wirelen, pkt);
    case PROTO_UDP:
        return decode_udp(data, caplen, wirelen, pkt);
    case PROTO_ICMP:
    case PROTO_ICMPV6:
        return decode_icmp(data, caplen, wirelen, pkt);
    default:
        return PT_DECODE_OK;
    }
}
