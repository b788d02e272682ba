/* decode_link.c — link layers: Ethernet II / 802.3 LLC+SNAP, 802.1Q/802.1ad/QinQ VLAN tags
 * (IEEE 802.1Q), MPLS label stacks (RFC 3032, RFC 4448 pseudowires), PPPoE sessions
 * (RFC 2516), PPP (RFC 1661/1662), Cisco HDLC, Linux cooked SLL and SLL2, BSD NULL and LOOP,
 * NFLOG, raw IPv4/IPv6 (tcpdump.org link-layer header types); and the opt-in tunnel
 * decapsulation that reuses them (IP-in-IP, GRE, VXLAN, Geneve, Teredo, GTP-U, AYIYA). */
#include "decode.h"

#include "cursor.h"

/* Encapsulation steps (VLAN tags, MPLS stacks, PPPoE, pseudowires) before a frame is called
 * MALFORMED; bounds the work done on hostile frames. Build-time option (-D). */
#ifndef PT_DECODE_MAX_LAYERS
#define PT_DECODE_MAX_LAYERS 24
#endif

/* Link types (LINKTYPE_/DLT_ values as libpcap reports them). */
enum {
    DLT_NULL_ = 0,
    DLT_EN10MB_ = 1,
    DLT_PPP_ = 9,
    DLT_RAW12_ = 12,
    DLT_RAW14_ = 14, /* DLT_RAW on OpenBSD */
    DLT_PPP_SERIAL_ = 50,
    DLT_RAW101_ = 101,
    DLT_C_HDLC_ = 104,
    DLT_LOOP_ = 108,
    DLT_LINUX_SLL_ = 113,
    DLT_IPV4_ = 228,
    DLT_IPV6_ = 229,
    DLT_NFLOG_ = 239,
    DLT_LINUX_SLL2_ = 276
};

enum {
    ETH_IPV4 = 0x0800,
    ETH_IPV6 = 0x86dd,
    ETH_VLAN = 0x8100,
    ETH_QINQ = 0x88a8,
    ETH_QINQ_OLD1 = 0x9100,
    ETH_QINQ_OLD2 = 0x9200,
    ETH_MPLS = 0x8847,
    ETH_MPLS_MC = 0x8848,
    ETH_PPPOE_SESS = 0x8864,
    ETH_MIN_TYPE = 0x0600 /* smaller values are 802.3 lengths */
};

/* Linux packet(7) protocol values seen in SLL/SLL2 that are not Ethertypes. */
enum { LINUX_P_802_2 = 0x0004 };
/* ARPHRD_NETLINK: the SLL protocol field is a netlink family, not an Ethertype. */
enum { LINUX_ARPHRD_NETLINK = 824 };

static pt_decode_result fail(pt_packet *pkt, pt_decode_result r, const char *why)
{
    pkt->why = why;
    return r;
}

/* Decode the IP datagram at the cursor. `v` is the IP version the link layer announced, or 0
 * to go by the version nibble (raw IP). */
static pt_decode_result link_ip(pt_cursor *c, size_t wire_rest, int v, pt_packet *pkt)
{
    uint8_t b0;

    if (!pt_cursor_peek_u8(c, 0, &b0))
        return fail(pkt, wire_rest == 0 ? PT_DECODE_MALFORMED : PT_DECODE_TRUNCATED,
                    "no IP header");
    if (v == 0)
        v = b0 >> 4;
    if ((b0 >> 4) != v || (v != 4 && v != 6))
        return fail(pkt, PT_DECODE_MALFORMED, "IP version does not match the link layer");
    pkt->ethertype = v == 4 ? ETH_IPV4 : ETH_IPV6;
    return pt_decode_ip_wire(pt_cursor_ptr(c), pt_cursor_remaining(c), wire_rest, pkt);
}

/* Map a PPP protocol number (RFC 1661, IANA PPP DLL protocol numbers) to an Ethertype, or 0. */
static uint16_t ppp_to_ethertype(uint16_t proto)
{
    switch (proto) {
    case 0x0021:
        return ETH_IPV4;
    case 0x0057:
        return ETH_IPV6;
    case 0x0281:
        return ETH_MPLS;
    case 0x0283:
        return ETH_MPLS_MC;
    default:
        return 0;
    }
}

/* 802.2 LLC after an 802.3 length field: SNAP (AA AA 03 + OUI + Ethertype) carries IP;
 * everything else (STP, CDP, NetBIOS, IPX...) is non-IP. Returns the Ethertype or 0. */
static uint16_t llc_ethertype(pt_cursor *c)
{
    uint8_t dsap = pt_cursor_u8(c), ssap = pt_cursor_u8(c), ctl = pt_cursor_u8(c);
    uint32_t oui;
    uint16_t type;

    if (c->err || dsap != 0xaa || ssap != 0xaa || ctl != 0x03)
        return 0;
    oui = (uint32_t)pt_cursor_u8(c) << 16;
    oui |= (uint32_t)pt_cursor_be16(c);
    type = pt_cursor_be16(c);
    if (c->err || (oui != 0 && oui != 0xf8))
        return 0;
    return type;
}

/* Follow a chain of Ethertypes (VLAN tags, MPLS, PPPoE, pseudowire Ethernet) until IP or
 * something we do not decode. `wire_rest` is how many bytes from the cursor on were on the
 * wire. */
static pt_decode_result link_ethertype(pt_cursor *c, size_t wire_rest, uint16_t type,
                                       pt_packet *pkt)
{
    for (int layer = 0; layer < PT_DECODE_MAX_LAYERS; layer++) {
        size_t before = c->off;
        uint8_t nib;
        uint32_t lse;

        pkt->ethertype = type;
        switch (type) {
        case ETH_IPV4:
            return link_ip(c, wire_rest, 4, pkt);
        case ETH_IPV6:
            return link_ip(c, wire_rest, 6, pkt);
        case ETH_VLAN:
        case ETH_QINQ:
        case ETH_QINQ_OLD1:
        case ETH_QINQ_OLD2: {
            const uint8_t *tag = pt_cursor_take(c, 4);

            if (!tag)
                return fail(pkt, PT_DECODE_TRUNCATED, "VLAN tag cut short");
            if (pkt->n_vlan >= PT_MAX_VLAN)
                return fail(pkt, PT_DECODE_MALFORMED, "VLAN stack deeper than PT_MAX_VLAN");
            pkt->vlan[pkt->n_vlan++] = pt_cursor_load_be16(tag) & 0x0fff;
            type = pt_cursor_load_be16(tag + 2);
            break;
        }
        case ETH_MPLS:
        case ETH_MPLS_MC:
            do {
                lse = pt_cursor_be32(c);
                if (c->err)
                    return fail(pkt, PT_DECODE_TRUNCATED, "MPLS label stack cut short");
                if (pkt->n_mpls >= PT_MAX_MPLS)
                    return fail(pkt, PT_DECODE_MALFORMED, "MPLS stack deeper than PT_MAX_MPLS");
                pkt->mpls[pkt->n_mpls++] = lse >> 12;
            } while (!(lse & 0x100));
            /* No payload type on the wire: guess by the first nibble (RFC 4928). */
            if (!pt_cursor_peek_u8(c, 0, &nib))
                return fail(pkt, PT_DECODE_TRUNCATED, "nothing after the MPLS stack");
            nib >>= 4;
            if (nib == 4) {
                type = ETH_IPV4;
            } else if (nib == 6) {
                type = ETH_IPV6;
            } else if (nib == 0) {
                /* Ethernet pseudowire with a control word (RFC 4448): skip the control
                 * word and the inner MAC addresses. */
                pt_cursor_skip(c, 4 + 12);
                type = pt_cursor_be16(c);
                if (c->err)
                    return fail(pkt, PT_DECODE_TRUNCATED, "MPLS pseudowire cut short");
                if (type < ETH_MIN_TYPE)
                    return PT_DECODE_OK;
            } else {
                return PT_DECODE_OK;
            }
            break;
        case ETH_PPPOE_SESS:
            pt_cursor_skip(c, 6);
            type = ppp_to_ethertype(pt_cursor_be16(c));
            if (c->err)
                return fail(pkt, PT_DECODE_TRUNCATED, "PPPoE header cut short");
            if (type == 0)
                return PT_DECODE_OK;
            break;
        default:
            return PT_DECODE_OK;
        }
        wire_rest -= c->off - before;
    }
    return fail(pkt, PT_DECODE_MALFORMED, "too many encapsulation layers");
}

/* Ethernet II, or 802.3 with an LLC header when the type field is a length. */
static pt_decode_result link_ether(pt_cursor *c, size_t wire, pt_packet *pkt)
{
    const uint8_t *h = pt_cursor_take(c, 14);
    uint16_t type;

    if (!h)
        return fail(pkt, PT_DECODE_TRUNCATED, "Ethernet header cut short");
    type = pt_cursor_load_be16(h + 12);
    if (type < ETH_MIN_TYPE) {
        type = llc_ethertype(c);
        if (c->err)
            return fail(pkt, PT_DECODE_TRUNCATED, "LLC header cut short");
        if (type == 0)
            return PT_DECODE_OK;
    }
    return link_ethertype(c, wire - c->off, type, pkt);
}

/* Linux cooked capture v1 (DLT 113): pkttype, hatype, halen, 8 address bytes, protocol. */
static pt_decode_result link_sll(pt_cursor *c, size_t wire, pt_packet *pkt)
{
    uint16_t hatype, proto;

    pt_cursor_skip(c, 2);
    hatype = pt_cursor_be16(c);
    pt_cursor_skip(c, 10);
    proto = pt_cursor_be16(c);
    if (c->err)
        return fail(pkt, PT_DECODE_TRUNCATED, "SLL header cut short");
    if (hatype == LINUX_ARPHRD_NETLINK)
        return PT_DECODE_OK;
    if (proto == LINUX_P_802_2) {
        proto = llc_ethertype(c);
        if (c->err)
            return fail(pkt, PT_DECODE_TRUNCATED, "LLC header cut short");
    }
    if (proto < ETH_MIN_TYPE)
        return PT_DECODE_OK;
    return link_ethertype(c, wire - c->off, proto, pkt);
}

/* Linux cooked capture v2 (DLT 276): protocol, reserved, ifindex, hatype, pkttype, halen,
 * 8 address bytes. */
static pt_decode_result link_sll2(pt_cursor *c, size_t wire, pt_packet *pkt)
{
    uint16_t proto, hatype;

    proto = pt_cursor_be16(c);
    pt_cursor_skip(c, 6);
    hatype = pt_cursor_be16(c);
    pt_cursor_skip(c, 10);
    if (c->err)
        return fail(pkt, PT_DECODE_TRUNCATED, "SLL2 header cut short");
    if (hatype == LINUX_ARPHRD_NETLINK)
        return PT_DECODE_OK;
    if (proto == LINUX_P_802_2) {
        proto = llc_ethertype(c);
        if (c->err)
            return fail(pkt, PT_DECODE_TRUNCATED, "LLC header cut short");
    }
    if (proto < ETH_MIN_TYPE)
        return PT_DECODE_OK;
    return link_ethertype(c, wire - c->off, proto, pkt);
}

/* Address family numbers of BSD loopback headers: AF_INET is 2 everywhere; AF_INET6 is 10
 * (Linux), 23 (Windows), 24 (NetBSD, OpenBSD, BSD/OS), 28 (FreeBSD, DragonFly), 30 (macOS). */
static int null_af_version(uint32_t af)
{
    switch (af) {
    case 2:
        return 4;
    case 10:
    case 23:
    case 24:
    case 28:
    case 30:
        return 6;
    default:
        return 0;
    }
}

/* DLT_NULL stores the family in the capturing host's byte order (unknown to us), DLT_LOOP in
 * network order. */
static pt_decode_result link_null(pt_cursor *c, size_t wire, bool loop, pt_packet *pkt)
{
    const uint8_t *h = pt_cursor_take(c, 4);
    uint32_t be, le;
    int v;

    if (!h)
        return fail(pkt, PT_DECODE_TRUNCATED, "loopback header cut short");
    be = (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 | (uint32_t)h[2] << 8 | h[3];
    le = (uint32_t)h[3] << 24 | (uint32_t)h[2] << 16 | (uint32_t)h[1] << 8 | h[0];
    v = null_af_version(be);
    if (v == 0 && !loop)
        v = null_af_version(le);
    if (v == 0)
        return PT_DECODE_OK;
    return link_ip(c, wire - c->off, v, pkt);
}

/* PPP in HDLC-like framing (RFC 1662): optional FF 03, then a 1- or 2-byte protocol (RFC 1661
 * protocol-field compression). Some DLT_PPP captures carry Cisco HDLC framing instead
 * (address 0x0F or 0x8F, control 0, Ethertype). */
static pt_decode_result link_ppp(pt_cursor *c, size_t wire, pt_packet *pkt)
{
    uint8_t a = 0, b = 0;
    uint16_t proto, type;

    if (!pt_cursor_peek_u8(c, 0, &a) || !pt_cursor_peek_u8(c, 1, &b))
        return fail(pkt, PT_DECODE_TRUNCATED, "PPP header cut short");
    if ((a == 0x0f || a == 0x8f) && b == 0x00) {
        pt_cursor_skip(c, 2);
        type = pt_cursor_be16(c);
        if (c->err)
            return fail(pkt, PT_DECODE_TRUNCATED, "Cisco HDLC header cut short");
        return link_ethertype(c, wire - c->off, type, pkt);
    }
    if (a == 0xff && b == 0x03)
        pt_cursor_skip(c, 2);
    proto = pt_cursor_u8(c);
    if (!(proto & 1))
        proto = (uint16_t)(proto << 8 | pt_cursor_u8(c));
    if (c->err)
        return fail(pkt, PT_DECODE_TRUNCATED, "PPP header cut short");
    type = ppp_to_ethertype(proto);
    if (type == 0)
        return PT_DECODE_OK;
    return link_ethertype(c, wire - c->off, type, pkt);
}

/* Cisco HDLC (DLT 104): address, control, Ethertype. */
static pt_decode_result link_chdlc(pt_cursor *c, size_t wire, pt_packet *pkt)
{
    uint16_t type;

    pt_cursor_skip(c, 2);
    type = pt_cursor_be16(c);
    if (c->err)
        return fail(pkt, PT_DECODE_TRUNCATED, "Cisco HDLC header cut short");
    return link_ethertype(c, wire - c->off, type, pkt);
}

/* Read a 16-bit NFLOG TLV field, which libpcap delivers in the reading host's byte order. */
static uint16_t nflog_u16(pt_cursor *c)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    return pt_cursor_be16(c);
#else
    return pt_cursor_le16(c);
#endif
}

/* NFLOG (DLT 239): family, version, resource id, then TLVs padded to 4 bytes; the packet is
 * the NFULA_PAYLOAD TLV. */
static pt_decode_result link_nflog(pt_cursor *c, size_t wire, pt_packet *pkt)
{
    enum { NFULA_PAYLOAD = 9, NFLOG_TLV_HDR = 4 };
    uint8_t family = pt_cursor_u8(c);

    pt_cursor_skip(c, 3);
    if (c->err)
        return fail(pkt, PT_DECODE_TRUNCATED, "NFLOG header cut short");
    while (pt_cursor_remaining(c) > 0) {
        uint16_t len = nflog_u16(c), type = nflog_u16(c) & 0x7fff;
        size_t pad;

        if (c->err)
            return fail(pkt, PT_DECODE_TRUNCATED, "NFLOG TLV cut short");
        if (len < NFLOG_TLV_HDR)
            return fail(pkt, PT_DECODE_MALFORMED, "NFLOG TLV length below 4");
        if (type == NFULA_PAYLOAD) {
            size_t n = len - NFLOG_TLV_HDR;
            size_t wire_n = n;
            int v = family == 2 ? 4 : family == 10 ? 6 : 0;
            pt_cursor sub;

            if (n > pt_cursor_remaining(c)) {
                if (wire - c->off < n)
                    return fail(pkt, PT_DECODE_MALFORMED, "NFLOG payload past the frame");
                n = pt_cursor_remaining(c);
            }
            sub = pt_cursor_make(pt_cursor_ptr(c), n);
            if (v == 0)
                return PT_DECODE_OK;
            return link_ip(&sub, wire_n, v, pkt);
        }
        pad = (4u - (len & 3u)) & 3u;
        if (!pt_cursor_skip(c, len - NFLOG_TLV_HDR))
            return fail(pkt, PT_DECODE_TRUNCATED, "NFLOG TLV cut short");
        pt_cursor_skip(c, pad < pt_cursor_remaining(c) ? pad : pt_cursor_remaining(c));
    }
    if (wire > c->len)
        return fail(pkt, PT_DECODE_TRUNCATED, "NFLOG TLVs cut short");
    return PT_DECODE_OK; /* logged without the packet */
}

bool pt_decode_supports_dlt(int dlt)
{
    switch (dlt) {
    case DLT_NULL_:
    case DLT_EN10MB_:
    case DLT_PPP_:
    case DLT_RAW12_:
    case DLT_RAW14_:
    case DLT_PPP_SERIAL_:
    case DLT_RAW101_:
    case DLT_C_HDLC_:
    case DLT_LOOP_:
    case DLT_LINUX_SLL_:
    case DLT_IPV4_:
    case DLT_IPV6_:
    case DLT_NFLOG_:
    case DLT_LINUX_SLL2_:
        return true;
    default:
        return false;
    }
}

pt_decode_result pt_decode_packet(int dlt, const uint8_t *data, uint32_t caplen, uint32_t wirelen,
                                  const pt_time *ts, pt_packet *pkt)
{
    pt_cursor c = pt_cursor_make(data, caplen);
    size_t wire = wirelen > caplen ? wirelen : caplen;

    if (ts)
        pkt->ts = *ts;
    else
        pkt->ts = (pt_time){0, 0};
    pkt->caplen = caplen;
    pkt->wirelen = wirelen;
    pkt->data = data;
    pkt->linktype = dlt;
    pkt->ethertype = 0;
    pkt->n_vlan = 0;
    pkt->n_mpls = 0;
    pkt->n_tunnels = 0;
    pkt->tunnel = PT_TUNNEL_NONE;
    pt_decode_reset_l3(pkt);
    if (!data && caplen > 0)
        return fail(pkt, PT_DECODE_TRUNCATED, "no data");

    switch (dlt) {
    case DLT_EN10MB_:
        return link_ether(&c, wire, pkt);
    case DLT_LINUX_SLL_:
        return link_sll(&c, wire, pkt);
    case DLT_LINUX_SLL2_:
        return link_sll2(&c, wire, pkt);
    case DLT_NULL_:
        return link_null(&c, wire, false, pkt);
    case DLT_LOOP_:
        return link_null(&c, wire, true, pkt);
    case DLT_RAW12_:
    case DLT_RAW14_:
    case DLT_RAW101_:
        return link_ip(&c, wire, 0, pkt);
    case DLT_IPV4_:
        return link_ip(&c, wire, 4, pkt);
    case DLT_IPV6_:
        return link_ip(&c, wire, 6, pkt);
    case DLT_PPP_:
    case DLT_PPP_SERIAL_:
        return link_ppp(&c, wire, pkt);
    case DLT_C_HDLC_:
        return link_chdlc(&c, wire, pkt);
    case DLT_NFLOG_:
        return link_nflog(&c, wire, pkt);
    default:
        return fail(pkt, PT_DECODE_MALFORMED, "link type not supported");
    }
}

/* ---- Tunnels (opt-in: pt_decode_tunnel) ---- */

/* UDP ports of the tunnels recognised by port (IANA), and the GRE/Geneve protocol type of an
 * Ethernet frame (transparent Ethernet bridging). */
enum {
    PORT_GTPU = 2152,
    PORT_TEREDO = 3544,
    PORT_GRE_UDP = 4754,
    PORT_VXLAN = 4789,
    PORT_GENEVE = 6081,
    PORT_AYIYA = 5072,
    ETH_TEB = 0x6558,
    INNER_IP_ANY = 1 /* not an Ethertype: IPv4 or IPv6 by the version nibble (GTP-U) */
};

/* GTP-U extension headers followed before giving up on a packet. Build-time option (-D). */
#ifndef PT_DECODE_MAX_GTP_EXT
#define PT_DECODE_MAX_GTP_EXT 8
#endif

const char *pt_tunnel_name(int tunnel)
{
    static const char *const names[] = {"-",      "ipip",   "gre",   "vxlan",
                                        "geneve", "teredo", "gtp-u", "ayiya"};

    return tunnel >= 0 && tunnel < (int)(sizeof names / sizeof names[0]) ? names[tunnel] : "?";
}

/* GRE version 0 (RFC 2784; key and sequence number RFC 2890): the protocol type, with the
 * cursor after the header; 0 for anything else (version 1 is PPTP, routing is RFC 1701). */
static uint16_t gre_header(pt_cursor *c)
{
    const uint8_t *h = pt_cursor_take(c, 4);
    uint16_t flags;

    if (!h)
        return 0;
    flags = pt_cursor_load_be16(h);
    if ((flags & 0x4007) != 0)
        return 0;
    pt_cursor_skip(c, (flags & 0x8000 ? 4u : 0u) + (flags & 0x2000 ? 4u : 0u) +
                          (flags & 0x1000 ? 4u : 0u));
    return c->err ? 0 : pt_cursor_load_be16(h + 2);
}

/* GTP-U (3GPP TS 29.281) G-PDU: version 1, protocol type GTP, message type 255, then the
 * optional sequence/N-PDU/extension fields and the extension header chain. Returns whether
 * the cursor now stands on the user packet. */
static bool gtpu_header(pt_cursor *c)
{
    const uint8_t *h = pt_cursor_take(c, 8);
    uint8_t next;

    if (!h || (h[0] >> 5) != 1 || !(h[0] & 0x10) || h[1] != 0xff)
        return false;
    if (!(h[0] & 0x07))
        return true;
    pt_cursor_skip(c, 3);
    next = pt_cursor_u8(c);
    for (int n = 0; next != 0 && !c->err; n++) {
        size_t len = (size_t)pt_cursor_u8(c) * 4;

        if (n >= PT_DECODE_MAX_GTP_EXT || len < 4)
            return false;
        pt_cursor_skip(c, len - 2);
        next = pt_cursor_u8(c);
    }
    return !c->err;
}

/* Teredo (RFC 4380): optional authentication and origin-indication headers, then an IPv6
 * packet. Returns whether the cursor now stands on that packet. */
static bool teredo_header(pt_cursor *c)
{
    uint16_t v;

    if (pt_cursor_peek_be16(c, 0, &v) && v == 0x0001) {
        const uint8_t *h = pt_cursor_take(c, 4);

        if (!h)
            return false;
        pt_cursor_skip(c, (size_t)h[2] + h[3] + 8 + 1); /* ids, nonce, confirmation */
    }
    if (pt_cursor_peek_be16(c, 0, &v) && v == 0x0000)
        pt_cursor_skip(c, 8);
    return !c->err && pt_cursor_peek_be16(c, 0, &v) && (v >> 12) == 6;
}

/* Whether the IPv6 packet at the cursor looks like Teredo on a port other than 3544 (a
 * client talking to a relay): it fills the rest of the datagram exactly and one of its
 * addresses is a Teredo address (2001:0000::/32). */
static bool teredo_anywhere(const pt_cursor *c, size_t wire)
{
    const uint8_t *h = pt_cursor_ptr(c);
    size_t rest = wire - c->off;

    if (pt_cursor_remaining(c) < 40 || (h[0] >> 4) != 6 ||
        (size_t)pt_cursor_load_be16(h + 4) + 40 != rest)
        return false;
    return pt_cursor_load_be32(h + 8) == 0x20010000u || pt_cursor_load_be32(h + 24) == 0x20010000u;
}

/* AYIYA ("anything in anything"): identity and signature lengths from the first two bytes,
 * opcode 1 (forward), next header 4 or 41. Sets *type; returns whether the cursor now stands
 * on the inner packet. */
static bool ayiya_header(pt_cursor *c, uint16_t *type)
{
    const uint8_t *h = pt_cursor_take(c, 8);

    if (!h || (h[2] & 0x0f) != 1 || (h[3] != 4 && h[3] != 41))
        return false;
    *type = h[3] == 4 ? ETH_IPV4 : ETH_IPV6;
    return pt_cursor_skip(c, ((size_t)1 << (h[0] >> 4)) + (size_t)(h[1] >> 4) * 4);
}

/* Which UDP tunnel *pkt carries, with the cursor moved past its header and *type set to the
 * inner protocol (an Ethertype, ETH_TEB, or INNER_IP_ANY); PT_TUNNEL_NONE if none. */
static pt_tunnel udp_tunnel(const pt_packet *pkt, pt_cursor *c, uint16_t *type)
{
    const uint8_t *h;

    switch (pkt->dport) {
    case PORT_VXLAN:
        h = pt_cursor_take(c, 8);
        if (!h || !(h[0] & 0x08)) /* the VNI-valid flag */
            return PT_TUNNEL_NONE;
        *type = ETH_TEB;
        return PT_TUNNEL_VXLAN;
    case PORT_GENEVE:
        h = pt_cursor_take(c, 8);
        if (!h || (h[0] >> 6) != 0)
            return PT_TUNNEL_NONE;
        *type = pt_cursor_load_be16(h + 2);
        return pt_cursor_skip(c, (size_t)(h[0] & 0x3f) * 4) ? PT_TUNNEL_GENEVE : PT_TUNNEL_NONE;
    case PORT_GRE_UDP:
        *type = gre_header(c);
        return *type ? PT_TUNNEL_GRE : PT_TUNNEL_NONE;
    default:
        break;
    }
    if (pkt->sport == PORT_GTPU || pkt->dport == PORT_GTPU) {
        *type = INNER_IP_ANY;
        return gtpu_header(c) ? PT_TUNNEL_GTPU : PT_TUNNEL_NONE;
    }
    if (pkt->sport == PORT_AYIYA || pkt->dport == PORT_AYIYA)
        return ayiya_header(c, type) ? PT_TUNNEL_AYIYA : PT_TUNNEL_NONE;
    *type = ETH_IPV6;
    if (pkt->sport == PORT_TEREDO || pkt->dport == PORT_TEREDO)
        return teredo_header(c) ? PT_TUNNEL_TEREDO : PT_TUNNEL_NONE;
    if (teredo_header(c) && teredo_anywhere(c, pkt->payload_wire_len))
        return PT_TUNNEL_TEREDO;
    return PT_TUNNEL_NONE;
}

int pt_decode_tunnel(pt_packet *pkt, pt_decode_result *result)
{
    pt_cursor c;
    size_t wire;
    uint16_t type = 0;
    pt_tunnel kind;
    pt_endpoint src, dst;

    if (pkt->ip_version == 0 || pkt->is_fragment || !pkt->l4 || pkt->n_tunnels >= PT_MAX_TUNNELS)
        return PT_DECLINED;
    switch (pkt->ip_proto) {
    case 4:
    case 41:
    case 47:
        c = pt_cursor_make(pkt->l4, pkt->l4_len);
        wire = pkt->l3_wire_len - (size_t)(pkt->l4 - pkt->l3);
        kind = pkt->ip_proto == 47 ? PT_TUNNEL_GRE : PT_TUNNEL_IPIP;
        type = pkt->ip_proto == 47 ? gre_header(&c) : pkt->ip_proto == 4 ? ETH_IPV4 : ETH_IPV6;
        break;
    case 17:
        if (!pkt->payload)
            return PT_DECLINED;
        c = pt_cursor_make(pkt->payload, pkt->payload_len);
        wire = pkt->payload_wire_len;
        kind = udp_tunnel(pkt, &c, &type);
        break;
    default:
        return PT_DECLINED;
    }
    if (kind == PT_TUNNEL_NONE || c.err ||
        (type != INNER_IP_ANY && type != ETH_IPV4 && type != ETH_IPV6 && type != ETH_TEB &&
         type != ETH_MPLS))
        return PT_DECLINED;
    if (wire < c.len)
        wire = c.len;

    c = pt_cursor_make(pt_cursor_ptr(&c), pt_cursor_remaining(&c));
    wire -= (size_t)(c.p - (pkt->ip_proto == 17 ? pkt->payload : pkt->l4));
    if (wire == 0) /* a bare tunnel header carries no packet: leave it as it is */
        return PT_DECLINED;
    src.addr = pkt->src;
    src.port = pkt->ip_proto == 17 ? pkt->sport : 0;
    dst.addr = pkt->dst;
    dst.port = pkt->ip_proto == 17 ? pkt->dport : 0;
    pt_decode_reset_l3(pkt);
    pkt->n_tunnels++;
    pkt->tunnel = (uint8_t)kind;
    pkt->tunnel_src = src;
    pkt->tunnel_dst = dst;
    if (type == ETH_TEB)
        *result = link_ether(&c, wire, pkt);
    else if (type == INNER_IP_ANY)
        *result = link_ip(&c, wire, 0, pkt);
    else
        *result = link_ethertype(&c, wire, type, pkt);
    return PT_OK;
}
