/* test_decode.c — CUnit tests of the cursor, address printing and every decoder (link, IP,
 * transport) from byte arrays, including truncation at every length and hostile values. */
#include <CUnit/Basic.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "cursor.h"
#include "decode.h"
#include "frames.h"

enum { DLT_NULL = 0, DLT_EN10MB = 1, DLT_PPP = 9, DLT_RAW = 12, DLT_RAW_OBSD = 14 };
enum { DLT_RAW101 = 101, DLT_C_HDLC = 104, DLT_LOOP = 108, DLT_SLL = 113 };
enum { DLT_IPV4 = 228, DLT_IPV6 = 229, DLT_NFLOG = 239, DLT_SLL2 = 276 };

#define A4(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))

static frame F;
static pt_packet P;
static uint8_t *held; /* exact-size copy of the last decoded frame, so ASan sees over-reads */

/* Check that every pointer the decoder set lies inside [data, data + caplen]. */
static void check_bounds(const pt_packet *p)
{
    const uint8_t *lo = p->data, *hi = p->data + p->caplen;

    if (p->l3)
        CU_ASSERT(p->l3 >= lo && p->l3 + p->l3_len <= hi);
    if (p->l4)
        CU_ASSERT(p->l4 >= lo && p->l4 + p->l4_len <= hi);
    if (p->payload)
        CU_ASSERT(p->payload >= lo && p->payload + p->payload_len <= hi);
    if (p->payload)
        CU_ASSERT(p->payload_len <= p->payload_wire_len);
    if (p->frag_payload)
        CU_ASSERT(p->frag_payload >= lo && p->frag_payload + p->frag_payload_len <= hi);
    CU_ASSERT(p->n_vlan <= PT_MAX_VLAN);
    CU_ASSERT(p->n_mpls <= PT_MAX_MPLS);
}

/* Decode the first `caplen` bytes of F as a frame of `wirelen` bytes on the wire. */
static pt_decode_result dec_len(int dlt, size_t caplen, size_t wirelen)
{
    pt_time ts = {1700000000, 123456000};
    pt_decode_result r;

    free(held);
    held = malloc(caplen ? caplen : 1);
    memcpy(held, F.b, caplen);
    r = pt_decode_packet(dlt, held, (uint32_t)caplen, (uint32_t)wirelen, &ts, &P);
    check_bounds(&P);
    CU_ASSERT(P.ts.sec == ts.sec && P.ts.nsec == ts.nsec);
    CU_ASSERT((r == PT_DECODE_TRUNCATED || r == PT_DECODE_MALFORMED) == (P.why != NULL));
    return r;
}

static pt_decode_result dec(int dlt)
{
    return dec_len(dlt, F.n, F.n);
}

/* An IPv4/TCP segment with 5 payload bytes after whatever F holds. */
static void add_ipv4_tcp(void)
{
    size_t ip = fr_ipv4(&F, 6, A4(10, 0, 0, 1), A4(10, 0, 0, 2), 7, 0x4000, 0);

    fr_tcp(&F, 40000, 80, 1000, 2000, PT_TCP_ACK | PT_TCP_PSH, NULL, 0);
    fr_bytes(&F, "hello", 5);
    fr_ipv4_done(&F, ip);
}

static void add_ipv6_udp(void)
{
    size_t ip = fr_ipv6(&F, 17, 1, 2);

    fr_udp(&F, 5353, 53, 3);
    fr_bytes(&F, "abc", 3);
    fr_ipv6_done(&F, ip);
}

static void expect_ipv4_tcp(void)
{
    char a[PT_ADDR_STRLEN];

    CU_ASSERT_EQUAL(P.ip_version, 4);
    CU_ASSERT_STRING_EQUAL(pt_addr_format(&P.src, a, sizeof a), "10.0.0.1");
    CU_ASSERT_STRING_EQUAL(pt_addr_format(&P.dst, a, sizeof a), "10.0.0.2");
    CU_ASSERT_EQUAL(P.ip_proto, 6);
    CU_ASSERT_EQUAL(P.sport, 40000);
    CU_ASSERT_EQUAL(P.dport, 80);
    CU_ASSERT_EQUAL(P.seq, 1000);
    CU_ASSERT_EQUAL(P.ack, 2000);
    CU_ASSERT_EQUAL(P.tcp_flags, PT_TCP_ACK | PT_TCP_PSH);
    CU_ASSERT_EQUAL(P.payload_len, 5);
    CU_ASSERT_EQUAL(P.payload_wire_len, 5);
    CU_ASSERT(P.payload && memcmp(P.payload, "hello", 5) == 0);
    CU_ASSERT(P.payload == P.data + P.caplen - 5); /* points into the frame: no copy */
}

static void expect_ipv6_udp(void)
{
    char a[PT_ADDR_STRLEN];

    CU_ASSERT_EQUAL(P.ip_version, 6);
    CU_ASSERT_EQUAL(P.ethertype, 0x86dd);
    CU_ASSERT_STRING_EQUAL(pt_addr_format(&P.src, a, sizeof a), "2001:db8::1");
    CU_ASSERT_EQUAL(P.ip_proto, 17);
    CU_ASSERT_EQUAL(P.sport, 5353);
    CU_ASSERT_EQUAL(P.dport, 53);
    CU_ASSERT_EQUAL(P.payload_len, 3);
    CU_ASSERT(P.payload && memcmp(P.payload, "abc", 3) == 0);
}

/* ---- cursor ---- */

static void test_cursor(void)
{
    static const uint8_t b[] = {0x12, 0x34, 0x56, 0x78, 0x9a};
    pt_cursor c = pt_cursor_make(b, sizeof b), s;
    uint16_t v16;
    uint8_t v8;

    CU_ASSERT_EQUAL(pt_cursor_be16(&c), 0x1234);
    CU_ASSERT_EQUAL(pt_cursor_remaining(&c), 3);
    CU_ASSERT(pt_cursor_peek_be16(&c, 1, &v16) && v16 == 0x789a);
    CU_ASSERT(!pt_cursor_peek_be16(&c, 2, &v16));
    CU_ASSERT(!pt_cursor_peek_u8(&c, 3, &v8));
    CU_ASSERT_EQUAL(pt_cursor_u8(&c), 0x56);
    CU_ASSERT_EQUAL(pt_cursor_be32(&c), 0); /* only 2 bytes left */
    CU_ASSERT(c.err);
    CU_ASSERT_EQUAL(pt_cursor_u8(&c), 0); /* sticky */
    CU_ASSERT_EQUAL(c.off, 3);

    c = pt_cursor_make(b, sizeof b);
    CU_ASSERT_EQUAL(pt_cursor_le32(&c), 0x78563412u);
    CU_ASSERT(!pt_cursor_skip(&c, SIZE_MAX)); /* no overflow in the check */
    CU_ASSERT(c.err);

    c = pt_cursor_make(b, sizeof b);
    CU_ASSERT_EQUAL(pt_cursor_le16(&c), 0x3412);
    s = pt_cursor_sub(&c, 2);
    CU_ASSERT_EQUAL(pt_cursor_be16(&s), 0x5678);
    CU_ASSERT_EQUAL(pt_cursor_u8(&s), 0);
    CU_ASSERT(s.err && !c.err);
    CU_ASSERT_EQUAL(pt_cursor_u8(&c), 0x9a);
    s = pt_cursor_sub(&c, 1);
    CU_ASSERT(s.err && c.err && pt_cursor_remaining(&s) == 0);

    c = pt_cursor_make(NULL, 0);
    CU_ASSERT_PTR_NULL(pt_cursor_take(&c, 1));
    CU_ASSERT(pt_cursor_take(&(pt_cursor){b, 5, 5, false}, 0) != NULL);
}

/* ---- addresses ---- */

static void test_addr(void)
{
    pt_addr a, b;
    pt_endpoint e;
    char buf[PT_ENDPOINT_STRLEN], small[6];
    static const uint8_t v4[4] = {192, 168, 1, 20};
    static const uint8_t lo6[16] = {[15] = 1};
    static const uint8_t mapped[16] = {
        [10] = 0xff, [11] = 0xff, [12] = 1, [13] = 2, [14] = 3, [15] = 4};

    memset(&a, 0, sizeof a);
    CU_ASSERT_STRING_EQUAL(pt_addr_format(&a, buf, sizeof buf), "-");
    pt_addr_set4(&a, v4);
    CU_ASSERT_STRING_EQUAL(pt_addr_format(&a, buf, sizeof buf), "192.168.1.20");
    CU_ASSERT_STRING_EQUAL(pt_addr_format(&a, small, sizeof small), "192.1");
    e.addr = a;
    e.port = 6379;
    CU_ASSERT_STRING_EQUAL(pt_endpoint_format(&e, buf), "192.168.1.20:6379");
    pt_addr_set6(&e.addr, lo6);
    e.port = 80;
    CU_ASSERT_STRING_EQUAL(pt_endpoint_format(&e, buf), "[::1]:80");
    pt_addr_set6(&b, mapped);
    CU_ASSERT_STRING_EQUAL(pt_addr_format(&b, buf, sizeof buf), "::ffff:1.2.3.4");
    CU_ASSERT(pt_addr_parse(&b, "2001:db8:0:0:1:0:0:1"));
    CU_ASSERT_STRING_EQUAL(pt_addr_format(&b, buf, sizeof buf), "2001:db8::1:0:0:1");
    CU_ASSERT(pt_addr_parse(&b, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"));
    e.addr = b;
    e.port = 65535;
    CU_ASSERT_STRING_EQUAL(pt_endpoint_format(&e, buf),
                           "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535");
    CU_ASSERT(!pt_addr_parse(&b, "1.2.3"));
    CU_ASSERT(!pt_addr_parse(&b, "[::1]"));

    CU_ASSERT(pt_addr_parse(&b, "192.168.1.20"));
    b.bytes[8] = 0xee; /* bytes past an IPv4 address do not count */
    CU_ASSERT(pt_addr_equal(&a, &b));
    CU_ASSERT_EQUAL(pt_addr_compare(&a, &b), 0);
    CU_ASSERT_EQUAL(pt_addr_hash(&a, 7), pt_addr_hash(&b, 7));
    CU_ASSERT(pt_addr_parse(&b, "192.168.1.21"));
    CU_ASSERT(!pt_addr_equal(&a, &b));
    CU_ASSERT(pt_addr_compare(&a, &b) < 0 && pt_addr_compare(&b, &a) > 0);
    CU_ASSERT(pt_addr_parse(&b, "::1"));
    CU_ASSERT(pt_addr_compare(&a, &b) < 0); /* IPv4 sorts before IPv6 */
    {
        pt_endpoint x = {a, 1}, y = {a, 2};
        CU_ASSERT(pt_endpoint_compare(&x, &y) < 0);
        CU_ASSERT(!pt_endpoint_equal(&x, &y));
        y.port = 1;
        CU_ASSERT(pt_endpoint_equal(&x, &y));
    }
}

/* ---- link layers ---- */

static void test_ethernet(void)
{
    fr_reset(&F);
    fr_eth(&F, 0x0800);
    add_ipv4_tcp();
    CU_ASSERT_EQUAL(dec(DLT_EN10MB), PT_DECODE_OK);
    expect_ipv4_tcp();
    CU_ASSERT_EQUAL(P.ethertype, 0x0800);
    CU_ASSERT_EQUAL(P.n_vlan, 0);
    CU_ASSERT(P.l3 == P.data + 14);
    CU_ASSERT(P.l4 == P.data + 34);
    CU_ASSERT_EQUAL(P.ttl, 64);
    CU_ASSERT_EQUAL(P.ip_id, 7);
    CU_ASSERT(!P.is_fragment);
    CU_ASSERT_EQUAL(P.wscale, -1);
    CU_ASSERT_EQUAL(P.linktype, DLT_EN10MB);

    /* Ethernet padding after a short IP datagram is not payload. */
    fr_fill(&F, 0, 6);
    CU_ASSERT_EQUAL(dec(DLT_EN10MB), PT_DECODE_OK);
    CU_ASSERT_EQUAL(P.payload_len, 5);
    CU_ASSERT_EQUAL(P.l3_len, 45);

    fr_reset(&F);
    fr_eth(&F, 0x0806);
    fr_fill(&F, 0, 28);
    CU_ASSERT_EQUAL(dec(DLT_EN10MB), PT_DECODE_OK);
    CU_ASSERT_EQUAL(P.ethertype, 0x0806);
    CU_ASSERT_EQUAL(P.ip_version, 0);
    CU_ASSERT_PTR_NULL(P.payload);

    fr_reset(&F);
    fr_eth(&F, 0x86dd);
    add_ipv6_udp();
    CU_ASSERT_EQUAL(dec(DLT_EN10MB), PT_DECODE_OK);
    expect_ipv6_udp();

    /* Ethertype says IPv4, the header says 6. */
    fr_reset(&F);
    fr_eth(&F, 0x0800);
    add_ipv6_udp();
    CU_ASSERT_EQUAL(dec(DLT_EN10MB), PT_DECODE_MALFORMED);
}

static void test_llc(void)
{
    static const uint8_t snap[] = {0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00};
    static const uint8_t stp[] = {0x42, 0x42, 0x03, 0, 0, 0, 0, 0};

    fr_reset(&F);
    fr_eth(&F, 0); /* 802.3 length (not checked) */
    fr_bytes(&F, snap, sizeof snap);
    add_ipv4_tcp();
    CU_ASSERT_EQUAL(dec(DLT_EN10MB), PT_DECODE_OK);
    expect_ipv4_tcp();

    fr_reset(&F);
    fr_eth(&F, 38);
    fr_bytes(&F, stp, sizeof stp);
    fr_fill(&F, 0, 30);
    CU_ASSERT_EQUAL(dec(DLT_EN10MB), PT_DECODE_OK);
    CU_ASSERT_EQUAL(P.ip_version, 0);
    CU_ASSERT_EQUAL(P.ethertype, 0);
}

static void test_vlan(void)
{
    fr_reset(&F);
    fr_eth(&F, 0x8100);
    fr_vlan(&F, 100, 0x0800);
    add_ipv4_tcp();
    CU_ASSERT_EQUAL(dec(DLT_EN10MB), PT_DECODE_OK);
    expect_ipv4_tcp();
    CU_ASSERT_EQUAL(P.n_vlan, 1);
    CU_ASSERT_EQUAL(P.vlan[0], 100);
    CU_ASSERT_EQUAL(P.ethertype, 0x0800);

    /* QinQ: 802.1ad outer, 802.1Q inner; and the old 0x9100 outer tag. */
    fr_reset(&F);
    fr_eth(&F, 0x88a8);
    fr_vlan(&F, 4000, 0x9100);
    fr_vlan(&F, 5, 0x8100);
    fr_vlan(&F, 4095, 0x86dd);
    add_ipv6_udp();
    CU_ASSERT_EQUAL(dec(DLT_EN10MB), PT_DECODE_OK);
    expect_ipv6_udp();
    CU_ASSERT_EQUAL(P.n_vlan, 3);
    CU_ASSERT(P.vlan[0] == 4000 && P.vlan[1] == 5 && P.vlan[2] == 4095);
}

static void vlan_stack(int depth)
{
    fr_reset(&F);
    fr_eth(&F, 0x8100);
    for (int i = 0; i < depth; i++)
        fr_vlan(&F, (uint16_t)(i + 1), i + 1 < depth ? 0x8100 : 0x0800);
    add_ipv4_tcp();
}

static void test_vlan_deep(void)
{
    vlan_stack(PT_MAX_VLAN);
    CU_ASSERT_EQUAL(dec(DLT_EN10MB), PT_DECODE_OK);
    CU_ASSERT_EQUAL(P.n_vlan, PT_MAX_VLAN);
    expect_ipv4_tcp();

    vlan_stack(PT_MAX_VLAN + 1);
    CU_ASSERT_EQUAL(dec(DLT_EN10MB), PT_DECODE_MALFORMED);
    CU_ASSERT_EQUAL(P.n_vlan, PT_MAX_VLAN);

    vlan_stack(1000);
    CU_ASSERT_EQUAL(dec(DLT_EN10MB), PT_DECODE_MALFORMED);
    CU_ASSERT_EQUAL(P.n_vlan, PT_MAX_VLAN);
}

static void test_mpls(void)
{
    fr_reset(&F);
    fr_eth(&F, 0x8847);
    fr_be32(&F, 16u << 12 | 64);           /* label 16 */
    fr_be32(&F, 1000u << 12 | 0x100 | 64); /* label 1000, bottom of stack */
    add_ipv4_tcp();
    CU_ASSERT_EQUAL(dec(DLT_EN10MB), PT_DECODE_OK);
    expect_ipv4_tcp();
    CU_ASSERT_EQUAL(P.n_mpls, 2);
    CU_ASSERT(P.mpls[0] == 16 && P.mpls[1] == 1000);
    CU_ASSERT_EQUAL(P.ethertype, 0x0800);

    fr_reset(&F);
    fr_eth(&F, 0x8100);
    fr_vlan(&F, 7, 0x8848);
    fr_be32(&F, 0x100);
    add_ipv6_udp();
    CU_ASSERT_EQUAL(dec(DLT_EN10MB), PT_DECODE_OK);
    expect_ipv6_udp();

    /* Ethernet pseudowire with a control word. */
    fr_reset(&F);
    fr_eth(&F, 0x8847);
    fr_be32(&F, 20u << 12 | 0x100);
    fr_be32(&F, 0); /* control word */
    fr_eth(&F, 0x0800);
    add_ipv4_tcp();
    CU_ASSERT_EQUAL(dec(DLT_EN10MB), PT_DECODE_OK);
    expect_ipv4_tcp();

    /* Something that is neither IP nor a pseudowire. */
    fr_reset(&F);
    fr_eth(&F, 0x8847);
    fr_be32(&F, 0x100);
    fr_fill(&F, 0x99, 20);
    CU_ASSERT_EQUAL(dec(DLT_EN10MB), PT_DECODE_OK);
    CU_ASSERT_EQUAL(P.ip_version, 0);

    /* A label stack without a bottom. */
    fr_reset(&F);
    fr_eth(&F, 0x8847);
    for (int i = 0; i < 40; i++)
        fr_be32(&F, 0);
    CU_ASSERT_EQUAL(dec(DLT_EN10MB), PT_DECODE_MALFORMED);
    CU_ASSERT_EQUAL(P.n_mpls, PT_MAX_MPLS);
    CU_ASSERT_EQUAL(dec_len(DLT_EN10MB, 14 + 4 * 3, F.n), PT_DECODE_TRUNCATED);
}

static void test_pppoe(void)
{
    fr_reset(&F);
    fr_eth(&F, 0x8864);
    fr_be16(&F, 0x1100);
    fr_be16(&F, 0x0001);
    fr_be16(&F, 0);
    fr_be16(&F, 0x0057);
    add_ipv6_udp();
    CU_ASSERT_EQUAL(dec(DLT_EN10MB), PT_DECODE_OK);
    expect_ipv6_udp();

    F.b[14 + 6] = 0xc0; /* LCP 0xc021 */
    F.b[14 + 7] = 0x21;
    CU_ASSERT_EQUAL(dec(DLT_EN10MB), PT_DECODE_OK);
    CU_ASSERT_EQUAL(P.ip_version, 0);
}

static void sll_header(uint16_t hatype, uint16_t proto)
{
    fr_reset(&F);
    fr_be16(&F, 4); /* outgoing */
    fr_be16(&F, hatype);
    fr_be16(&F, 6);
    fr_fill(&F, 0xab, 8);
    fr_be16(&F, proto);
}

static void sll2_header(uint16_t proto, uint16_t hatype)
{
    fr_reset(&F);
    fr_be16(&F, proto);
    fr_be16(&F, 0);
    fr_be32(&F, 3);
    fr_be16(&F, hatype);
    fr_u8(&F, 0);
    fr_u8(&F, 6);
    fr_fill(&F, 0xab, 8);
}

static void test_sll(void)
{
    sll_header(1, 0x0800);
    add_ipv4_tcp();
    CU_ASSERT_EQUAL(dec(DLT_SLL), PT_DECODE_OK);
    expect_ipv4_tcp();
    CU_ASSERT(P.l3 == P.data + 16);

    sll_header(1, 0x8100);
    fr_vlan(&F, 33, 0x86dd);
    add_ipv6_udp();
    CU_ASSERT_EQUAL(dec(DLT_SLL), PT_DECODE_OK);
    expect_ipv6_udp();
    CU_ASSERT(P.n_vlan == 1 && P.vlan[0] == 33);

    sll_header(824, 0x0800); /* netlink: the protocol is a netlink family */
    fr_fill(&F, 0x45, 40);
    CU_ASSERT_EQUAL(dec(DLT_SLL), PT_DECODE_OK);
    CU_ASSERT_EQUAL(P.ip_version, 0);

    sll2_header(0x86dd, 1);
    add_ipv6_udp();
    CU_ASSERT_EQUAL(dec(DLT_SLL2), PT_DECODE_OK);
    expect_ipv6_udp();
    CU_ASSERT(P.l3 == P.data + 20);

    /* Odd protocols: 802.3, 802.2 LLC (non-SNAP and SNAP), CAN, ETH_P_ALL, an unknown type. */
    {
        static const uint16_t odd[] = {0x0001, 0x0004, 0x000c, 0x0003, 0xffff, 0x0600, 0};
        for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++) {
            sll2_header(odd[i], 1);
            fr_fill(&F, 0x45, 60);
            CU_ASSERT_EQUAL(dec(DLT_SLL2), PT_DECODE_OK);
            CU_ASSERT_EQUAL(P.ip_version, 0);
        }
    }
    sll2_header(0x0004, 1);
    fr_bytes(&F, (const uint8_t[]){0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00}, 8);
    add_ipv4_tcp();
    CU_ASSERT_EQUAL(dec(DLT_SLL2), PT_DECODE_OK);
    expect_ipv4_tcp();
}

static void null_frame(bool big_endian, uint32_t af, bool v6)
{
    fr_reset(&F);
    if (big_endian)
        fr_be32(&F, af);
    else
        fr_le32(&F, af);
    if (v6)
        add_ipv6_udp();
    else
        add_ipv4_tcp();
}

static void test_null_loop(void)
{
    static const uint32_t v6_afs[] = {10, 23, 24, 28, 30};

    for (int be = 0; be < 2; be++) {
        null_frame(be, 2, false);
        CU_ASSERT_EQUAL(dec(DLT_NULL), PT_DECODE_OK);
        expect_ipv4_tcp();
        for (size_t i = 0; i < 5; i++) {
            null_frame(be, v6_afs[i], true);
            CU_ASSERT_EQUAL(dec(DLT_NULL), PT_DECODE_OK);
            expect_ipv6_udp();
        }
        /* Unknown families: not IP, not an error. */
        null_frame(be, 7, false);
        CU_ASSERT_EQUAL(dec(DLT_NULL), PT_DECODE_OK);
        CU_ASSERT_EQUAL(P.ip_version, 0);
    }
    null_frame(true, 0xffffffffu, false);
    CU_ASSERT_EQUAL(dec(DLT_NULL), PT_DECODE_OK);
    CU_ASSERT_EQUAL(P.ip_version, 0);
    /* AF_INET6 but an IPv4 header. */
    null_frame(false, 30, false);
    CU_ASSERT_EQUAL(dec(DLT_NULL), PT_DECODE_MALFORMED);

    /* LOOP is always network order. */
    null_frame(true, 24, true);
    CU_ASSERT_EQUAL(dec(DLT_LOOP), PT_DECODE_OK);
    expect_ipv6_udp();
    null_frame(false, 2, false);
    CU_ASSERT_EQUAL(dec(DLT_LOOP), PT_DECODE_OK);
    CU_ASSERT_EQUAL(P.ip_version, 0);
}

static void test_raw(void)
{
    static const int raw_any[] = {DLT_RAW, DLT_RAW_OBSD, DLT_RAW101};

    for (size_t i = 0; i < 3; i++) {
        fr_reset(&F);
        add_ipv4_tcp();
        CU_ASSERT_EQUAL(dec(raw_any[i]), PT_DECODE_OK);
        expect_ipv4_tcp();
        CU_ASSERT(P.l3 == P.data);
        fr_reset(&F);
        add_ipv6_udp();
        CU_ASSERT_EQUAL(dec(raw_any[i]), PT_DECODE_OK);
        expect_ipv6_udp();
        F.b[0] = 0x55;
        CU_ASSERT_EQUAL(dec(raw_any[i]), PT_DECODE_MALFORMED);
    }
    fr_reset(&F);
    add_ipv4_tcp();
    CU_ASSERT_EQUAL(dec(DLT_IPV4), PT_DECODE_OK);
    CU_ASSERT_EQUAL(dec(DLT_IPV6), PT_DECODE_MALFORMED);
    fr_reset(&F);
    add_ipv6_udp();
    CU_ASSERT_EQUAL(dec(DLT_IPV6), PT_DECODE_OK);
    CU_ASSERT_EQUAL(dec(DLT_IPV4), PT_DECODE_MALFORMED);
    CU_ASSERT_EQUAL(dec_len(DLT_RAW, 0, 0), PT_DECODE_MALFORMED);
    CU_ASSERT_EQUAL(dec_len(DLT_RAW, 0, 60), PT_DECODE_TRUNCATED);
}

static void test_ppp_hdlc(void)
{
    fr_reset(&F);
    fr_be16(&F, 0xff03);
    fr_be16(&F, 0x0021);
    add_ipv4_tcp();
    CU_ASSERT_EQUAL(dec(DLT_PPP), PT_DECODE_OK);
    expect_ipv4_tcp();

    fr_reset(&F); /* address/control and protocol-field compression */
    fr_u8(&F, 0x57);
    add_ipv6_udp();
    CU_ASSERT_EQUAL(dec(DLT_PPP), PT_DECODE_OK);
    expect_ipv6_udp();

    fr_reset(&F); /* Cisco HDLC framing inside DLT_PPP, and DLT_C_HDLC itself */
    fr_be16(&F, 0x0f00);
    fr_be16(&F, 0x0800);
    add_ipv4_tcp();
    CU_ASSERT_EQUAL(dec(DLT_PPP), PT_DECODE_OK);
    expect_ipv4_tcp();
    CU_ASSERT_EQUAL(dec(DLT_C_HDLC), PT_DECODE_OK);
    expect_ipv4_tcp();

    fr_reset(&F);
    fr_be16(&F, 0xff03);
    fr_be16(&F, 0xc021);
    fr_fill(&F, 0, 10);
    CU_ASSERT_EQUAL(dec(DLT_PPP), PT_DECODE_OK);
    CU_ASSERT_EQUAL(P.ip_version, 0);
}

/* NFLOG TLVs are in the host's byte order. */
static void nflog_tlv(uint16_t len, uint16_t type)
{
    uint16_t v[2] = {len, type};
    fr_bytes(&F, v, sizeof v);
}

static void test_nflog(void)
{
    size_t at;

    fr_reset(&F);
    fr_u8(&F, 2);
    fr_u8(&F, 0);
    fr_be16(&F, 1);
    nflog_tlv(4 + 5, 10); /* prefix "abcde", padded to 8 */
    fr_bytes(&F, "abcde\0\0\0", 8);
    at = F.n;
    nflog_tlv(0, 9);
    add_ipv4_tcp();
    {
        uint16_t l = (uint16_t)(F.n - at);
        memcpy(&F.b[at], &l, 2);
    }
    CU_ASSERT_EQUAL(dec(DLT_NFLOG), PT_DECODE_OK);
    expect_ipv4_tcp();

    {
        uint16_t l = 2; /* TLV length below the TLV header */
        memcpy(&F.b[at], &l, 2);
    }
    CU_ASSERT_EQUAL(dec(DLT_NFLOG), PT_DECODE_MALFORMED);
}

static void test_unsupported(void)
{
    static const int yes[] = {0, 1, 9, 12, 14, 50, 101, 104, 108, 113, 228, 229, 239, 276};
    static const int no[] = {-1, 6, 105, 127, 192, 242, 253, 65536};

    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
        CU_ASSERT(pt_decode_supports_dlt(yes[i]));
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
        CU_ASSERT(!pt_decode_supports_dlt(no[i]));
    fr_reset(&F);
    fr_fill(&F, 0, 64);
    CU_ASSERT_EQUAL(dec(127), PT_DECODE_MALFORMED);
}

/* ---- IPv4 ---- */

static void test_ipv4(void)
{
    size_t ip;

    /* Options: IHL 8. */
    fr_reset(&F);
    ip = fr_ipv4(&F, 17, A4(1, 2, 3, 4), A4(5, 6, 7, 8), 1, 0, 3);
    fr_udp(&F, 1, 2, 4);
    fr_bytes(&F, "wxyz", 4);
    fr_ipv4_done(&F, ip);
    CU_ASSERT_EQUAL(dec(DLT_RAW), PT_DECODE_OK);
    CU_ASSERT(P.l4 == P.data + 32);
    CU_ASSERT(P.sport == 1 && P.dport == 2 && P.payload_len == 4);

    /* IHL < 5 */
    for (uint8_t ihl = 0; ihl < 5; ihl++) {
        F.b[0] = (uint8_t)(0x40 | ihl);
        CU_ASSERT_EQUAL(dec(DLT_RAW), PT_DECODE_MALFORMED);
    }
    /* IHL past the total length, past the frame. */
    F.b[0] = 0x4f;
    CU_ASSERT_EQUAL(dec(DLT_RAW), PT_DECODE_MALFORMED);
    F.b[0] = 0x48;
    fr_put_be16(&F, 2, 30);
    CU_ASSERT_EQUAL(dec(DLT_RAW), PT_DECODE_MALFORMED);
    /* Total length past the frame (not a snaplen cut). */
    fr_put_be16(&F, 2, (uint16_t)(F.n + 1));
    CU_ASSERT_EQUAL(dec(DLT_RAW), PT_DECODE_MALFORMED);
    /* ... but a snaplen cut of the same frame is fine: payload clipped. */
    CU_ASSERT_EQUAL(dec_len(DLT_RAW, F.n, F.n + 1), PT_DECODE_OK);
    CU_ASSERT_EQUAL(P.payload_len, 4);
    CU_ASSERT_EQUAL(P.payload_wire_len, 4); /* the UDP length governs */
    CU_ASSERT_EQUAL(P.l3_wire_len, F.n + 1);
    /* Total length 0 (TSO on the capturing host): the frame length is used. */
    fr_put_be16(&F, 2, 0);
    CU_ASSERT_EQUAL(dec(DLT_RAW), PT_DECODE_OK);
    CU_ASSERT_EQUAL(P.payload_len, 4);
}

static void test_ipv4_fragment(void)
{
    size_t ip;

    fr_reset(&F);
    ip = fr_ipv4(&F, 17, A4(1, 2, 3, 4), A4(5, 6, 7, 8), 0x1234, 0x2000 | 3, 0);
    fr_fill(&F, 0x77, 24);
    fr_ipv4_done(&F, ip);
    CU_ASSERT_EQUAL(dec(DLT_RAW), PT_DECODE_FRAGMENT);
    CU_ASSERT(P.is_fragment && P.more_fragments);
    CU_ASSERT_EQUAL(P.frag_offset, 24);
    CU_ASSERT_EQUAL(P.ip_id, 0x1234);
    CU_ASSERT_EQUAL(P.ip_proto, 17);
    CU_ASSERT(P.frag_payload == P.data + 20 && P.frag_payload_len == 24);
    CU_ASSERT_PTR_NULL(P.payload);
    CU_ASSERT_EQUAL(P.sport, 0);

    fr_put_be16(&F, 6, 0); /* offset 0, no MF: a whole datagram (UDP length wrong) */
    CU_ASSERT_NOT_EQUAL(dec(DLT_RAW), PT_DECODE_FRAGMENT);
    fr_put_be16(&F, 6, 0x4000); /* DF only */
    CU_ASSERT_NOT_EQUAL(dec(DLT_RAW), PT_DECODE_FRAGMENT);
    fr_put_be16(&F, 6, 0x1fff); /* last fragment at 65528 + 24 bytes: past 65535 */
    CU_ASSERT_EQUAL(dec(DLT_RAW), PT_DECODE_MALFORMED);
    fr_put_be16(&F, 6, 0x1ffc); /* 65504 + 24 = 65528: fine */
    CU_ASSERT_EQUAL(dec(DLT_RAW), PT_DECODE_FRAGMENT);
    CU_ASSERT(!P.more_fragments);
}

/* ---- IPv6 ---- */

static void test_ipv6_ext(void)
{
    size_t ip;
    static const uint8_t ah[] = {17, 4, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0,
                                 0,  0, 0, 0, 0, 0, 0, 0, 0, 0, 0}; /* AH: (4 + 2) * 4 = 24 bytes */

    fr_reset(&F);
    ip = fr_ipv6(&F, 0, 1, 2);
    fr_ext(&F, 43, 0); /* hop-by-hop */
    fr_ext(&F, 60, 1); /* routing, 16 bytes */
    fr_ext(&F, 51, 0); /* destination options */
    fr_bytes(&F, ah, sizeof ah);
    fr_udp(&F, 5353, 53, 3);
    fr_bytes(&F, "abc", 3);
    fr_ipv6_done(&F, ip);
    CU_ASSERT_EQUAL(dec(DLT_RAW), PT_DECODE_OK);
    expect_ipv6_udp();
    CU_ASSERT(P.l4 == P.data + 40 + 8 + 16 + 8 + 24);

    /* ESP and no-next-header stop the walk. */
    fr_reset(&F);
    ip = fr_ipv6(&F, 60, 1, 2);
    fr_ext(&F, 50, 0);
    fr_fill(&F, 0xee, 32);
    fr_ipv6_done(&F, ip);
    CU_ASSERT_EQUAL(dec(DLT_RAW), PT_DECODE_OK);
    CU_ASSERT_EQUAL(P.ip_proto, 50);
    CU_ASSERT_EQUAL(P.sport, 0);
    F.b[40] = 59;
    CU_ASSERT_EQUAL(dec(DLT_RAW), PT_DECODE_OK);
    CU_ASSERT_EQUAL(P.ip_proto, 59);

    /* An extension header claiming more than the payload. */
    F.b[41] = 200;
    CU_ASSERT_EQUAL(dec(DLT_RAW), PT_DECODE_MALFORMED);
    /* ... which a snaplen cut turns into TRUNCATED when the payload length allows it. */
    F.b[41] = 3; /* 32 bytes, payload is 40 */
    CU_ASSERT_EQUAL(dec_len(DLT_RAW, 60, F.n), PT_DECODE_TRUNCATED);
    /* Payload length past the frame. */
    fr_put_be16(&F, 4, 1000);
    CU_ASSERT_EQUAL(dec(DLT_RAW), PT_DECODE_MALFORMED);

    /* A long chain of destination options: bounded. */
    fr_reset(&F);
    ip = fr_ipv6(&F, 60, 1, 2);
    for (int i = 0; i < 100; i++)
        fr_ext(&F, 60, 0);
    fr_ipv6_done(&F, ip);
    CU_ASSERT_EQUAL(dec(DLT_RAW), PT_DECODE_MALFORMED);
    /* Last header names itself but the payload ends: MALFORMED, never a loop. */
    fr_reset(&F);
    ip = fr_ipv6(&F, 0, 1, 2);
    fr_ext(&F, 0, 0);
    fr_ipv6_done(&F, ip);
    CU_ASSERT_EQUAL(dec(DLT_RAW), PT_DECODE_MALFORMED);
}

static void test_ipv6_fragment(void)
{
    size_t ip;

    fr_reset(&F);
    ip = fr_ipv6(&F, 60, 1, 2);
    fr_ext(&F, 44, 0);
    fr_u8(&F, 17);
    fr_u8(&F, 0);
    fr_be16(&F, (uint16_t)(2 << 3 | 1)); /* offset 16, M */
    fr_be32(&F, 0xdeadbeef);
    fr_fill(&F, 0x55, 16);
    fr_ipv6_done(&F, ip);
    CU_ASSERT_EQUAL(dec(DLT_RAW), PT_DECODE_FRAGMENT);
    CU_ASSERT(P.is_fragment && P.more_fragments);
    CU_ASSERT_EQUAL(P.frag_offset, 16);
    CU_ASSERT_EQUAL(P.ip_id, 0xdeadbeef);
    CU_ASSERT_EQUAL(P.ip_proto, 17);
    CU_ASSERT_EQUAL(P.ip6_frag_hdr, 48);
    CU_ASSERT_EQUAL(P.ip6_frag_nh, 40);
    CU_ASSERT(P.frag_payload == P.data + 56 && P.frag_payload_len == 16);

    /* Atomic fragment (RFC 6946): decoded as a whole datagram. */
    fr_reset(&F);
    ip = fr_ipv6(&F, 44, 1, 2);
    fr_u8(&F, 17);
    fr_u8(&F, 0);
    fr_be16(&F, 0);
    fr_be32(&F, 1);
    fr_udp(&F, 5353, 53, 3);
    fr_bytes(&F, "abc", 3);
    fr_ipv6_done(&F, ip);
    CU_ASSERT_EQUAL(dec(DLT_RAW), PT_DECODE_OK);
    expect_ipv6_udp();
    CU_ASSERT(!P.is_fragment);
}

/* ---- transport ---- */

static void tcp_with_options(const uint8_t *opts, size_t n)
{
    size_t ip;

    fr_reset(&F);
    ip = fr_ipv4(&F, 6, A4(10, 0, 0, 1), A4(10, 0, 0, 2), 7, 0, 0);
    fr_tcp(&F, 40000, 80, 1000, 2000, PT_TCP_ACK | PT_TCP_PSH, opts, n);
    fr_bytes(&F, "hello", 5);
    fr_ipv4_done(&F, ip);
}

static void test_tcp_options(void)
{
    static const uint8_t all[] = {
        2,  4,    0x05, 0xb4,                         /* MSS 1460 */
        1,  3,    3,    7,                            /* NOP, WS 7 */
        4,  2,    8,    10,   0, 0, 0, 1, 0, 0, 0, 2, /* SACK permitted, timestamps 1, 2 */
        30, 4,    0xaa, 0xbb,                         /* unknown kind 30 (MPTCP), skipped */
        0,  0x99, 0x99, 0x99,                         /* EOL then junk */
    };
    static const uint8_t sack[] = {
        1, 1, 8, 10, 0, 0, 0, 3,  0, 0, 0, 4, /* NOP, NOP, timestamps 3, 4 */
        1, 1, 5, 18, 0, 0, 0, 10, 0, 0, 0, 20, 0, 0, 0, 30, 0, 0, 0, 40, /* SACK x2 */
    };
    static const uint8_t big_ws[] = {3, 3, 20, 0};
    static const uint8_t len0[] = {2, 0, 0, 0, 8, 10, 0, 0};
    static const uint8_t len_past[] = {1, 1, 30, 9};
    static const uint8_t bad_mss[] = {2, 5, 1, 2, 3, 3, 3, 2};
    static const uint8_t cut_kind[] = {1, 1, 1, 30};

    tcp_with_options(all, sizeof all);
    CU_ASSERT_EQUAL(sizeof all % 4, 0);
    CU_ASSERT_EQUAL(dec(DLT_RAW), PT_DECODE_OK);
    expect_ipv4_tcp();
    CU_ASSERT_EQUAL(P.mss, 1460);
    CU_ASSERT_EQUAL(P.wscale, 7);
    CU_ASSERT(P.sack_permitted);
    CU_ASSERT(P.has_timestamp && P.ts_val == 1 && P.ts_ecr == 2);
    CU_ASSERT_EQUAL(P.n_sack, 0);
    CU_ASSERT(!P.tcp_bad_options);

    tcp_with_options(sack, sizeof sack);
    CU_ASSERT_EQUAL(sizeof sack % 4, 0);
    CU_ASSERT_EQUAL(dec(DLT_RAW), PT_DECODE_OK);
    expect_ipv4_tcp();
    CU_ASSERT(P.has_timestamp && P.ts_val == 3 && P.ts_ecr == 4);
    CU_ASSERT_EQUAL(P.n_sack, 2);
    CU_ASSERT(P.sack[0][0] == 10 && P.sack[0][1] == 20);
    CU_ASSERT(P.sack[1][0] == 30 && P.sack[1][1] == 40);
    CU_ASSERT(!P.sack_permitted && P.mss == 0 && P.wscale == -1);

    tcp_with_options(big_ws, sizeof big_ws);
    CU_ASSERT_EQUAL(dec(DLT_RAW), PT_DECODE_OK);
    CU_ASSERT_EQUAL(P.wscale, 14);

    /* Impossible lengths: MALFORMED, but ports, seq and payload are still there. */
    tcp_with_options(len0, sizeof len0);
    CU_ASSERT_EQUAL(dec(DLT_RAW), PT_DECODE_MALFORMED);
    CU_ASSERT(P.tcp_bad_options);
    expect_ipv4_tcp();
    CU_ASSERT(!P.has_timestamp);
    tcp_with_options(len_past, sizeof len_past);
    CU_ASSERT_EQUAL(dec(DLT_RAW), PT_DECODE_MALFORMED);
    expect_ipv4_tcp();
    tcp_with_options(cut_kind, sizeof cut_kind);
    CU_ASSERT_EQUAL(dec(DLT_RAW), PT_DECODE_MALFORMED);
    expect_ipv4_tcp();
    /* A known kind with the wrong length is skipped by its length; later options count. */
    tcp_with_options(bad_mss, sizeof bad_mss);
    CU_ASSERT_EQUAL(dec(DLT_RAW), PT_DECODE_MALFORMED);
    CU_ASSERT_EQUAL(P.mss, 0);
    CU_ASSERT_EQUAL(P.wscale, 2);
    expect_ipv4_tcp();
}

static void test_tcp_offsets(void)
{
    tcp_with_options(NULL, 0);
    for (uint8_t doff = 0; doff < 5; doff++) {
        F.b[32] = (uint8_t)(doff << 4);
        CU_ASSERT_EQUAL(dec(DLT_RAW), PT_DECODE_MALFORMED);
    }
    F.b[32] = 0xf0; /* 60 bytes, the segment has 25 */
    CU_ASSERT_EQUAL(dec(DLT_RAW), PT_DECODE_MALFORMED);
    CU_ASSERT_EQUAL(P.sport, 40000);
    F.b[32] = 0x60;         /* 24 bytes: fits the IP length; a snaplen cut makes it TRUNCATED */
    memset(&F.b[40], 1, 4); /* "hell" becomes four NOP options */
    CU_ASSERT_EQUAL(dec(DLT_RAW), PT_DECODE_OK);
    CU_ASSERT_EQUAL(P.payload_len, 1);
    CU_ASSERT_EQUAL(dec_len(DLT_RAW, 42, F.n), PT_DECODE_TRUNCATED);
}

static void test_udp_icmp(void)
{
    size_t ip;

    fr_reset(&F);
    ip = fr_ipv4(&F, 17, A4(1, 1, 1, 1), A4(2, 2, 2, 2), 1, 0, 0);
    fr_udp(&F, 1000, 2000, 4);
    fr_bytes(&F, "data", 4);
    fr_ipv4_done(&F, ip);
    CU_ASSERT_EQUAL(dec(DLT_RAW), PT_DECODE_OK);
    CU_ASSERT(P.sport == 1000 && P.dport == 2000 && P.payload_len == 4);
    fr_put_be16(&F, 24, 6); /* UDP length below 8 */
    CU_ASSERT_EQUAL(dec(DLT_RAW), PT_DECODE_MALFORMED);
    fr_put_be16(&F, 24, 13); /* past the IP length */
    CU_ASSERT_EQUAL(dec(DLT_RAW), PT_DECODE_MALFORMED);
    fr_put_be16(&F, 24, 10); /* shorter than the IP payload: UDP length wins */
    CU_ASSERT_EQUAL(dec(DLT_RAW), PT_DECODE_OK);
    CU_ASSERT_EQUAL(P.payload_len, 2);
    fr_put_be16(&F, 24, 0); /* 0 is only for IPv6 jumbograms */
    CU_ASSERT_EQUAL(dec(DLT_RAW), PT_DECODE_MALFORMED);

    fr_reset(&F);
    ip = fr_ipv4(&F, 1, A4(1, 1, 1, 1), A4(2, 2, 2, 2), 1, 0, 0);
    fr_bytes(&F, (const uint8_t[]){8, 0, 0, 0, 0, 1, 0, 1}, 8);
    fr_fill(&F, 0x61, 10);
    fr_ipv4_done(&F, ip);
    CU_ASSERT_EQUAL(dec(DLT_RAW), PT_DECODE_OK);
    CU_ASSERT(P.icmp_type == 8 && P.icmp_code == 0 && P.payload_len == 10);
    CU_ASSERT_EQUAL(dec_len(DLT_RAW, 24, F.n), PT_DECODE_TRUNCATED);
    fr_put_be16(&F, 2, 24);
    CU_ASSERT_EQUAL(dec_len(DLT_RAW, 24, 24), PT_DECODE_MALFORMED);

    fr_reset(&F);
    ip = fr_ipv6(&F, 58, 1, 2);
    fr_bytes(&F, (const uint8_t[]){128, 0, 0, 0, 0, 1, 0, 1}, 8);
    fr_ipv6_done(&F, ip);
    CU_ASSERT_EQUAL(dec(DLT_RAW), PT_DECODE_OK);
    CU_ASSERT(P.icmp_type == 128 && P.payload_len == 0);

    /* A protocol we do not decode: OK, no ports. */
    fr_reset(&F);
    ip = fr_ipv4(&F, 47, A4(1, 1, 1, 1), A4(2, 2, 2, 2), 1, 0, 0);
    fr_fill(&F, 0, 4);
    fr_ipv4_done(&F, ip);
    CU_ASSERT_EQUAL(dec(DLT_RAW), PT_DECODE_OK);
    CU_ASSERT(P.ip_proto == 47 && P.l4 == P.data + 20 && P.l4_len == 4 && P.sport == 0);
}

/* A packet decoded into a struct full of garbage (or of the previous packet) keeps nothing of
 * it: the decoders reset fields rather than the whole struct. */
static void test_reset(void)
{
    pt_time ts = {5, 6};
    static const uint8_t arp[42] = {[12] = 0x08, [13] = 0x06};
    static const uint8_t opts[] = {
        2,  4,  5, 180, 3, 3, 7, 4, 2, 1, 1, 1, /* MSS, WS, SACK-permitted, NOPs */
        8,  10, 0, 0,   0, 1, 0, 0, 0, 2,       /* timestamps */
        5,  10, 0, 0,   0, 1, 0, 0, 0, 2,       /* one SACK block */
        30, 1,  0, 0,                           /* length 1: impossible */
    };

    memset(&P, 0xa5, sizeof P);
    CU_ASSERT_EQUAL(pt_decode_packet(DLT_EN10MB, arp, sizeof arp, sizeof arp, &ts, &P),
                    PT_DECODE_OK);
    for (int pass = 0; pass < 2; pass++) {
        CU_ASSERT(P.ts.sec == 5 && P.ts.nsec == 6 && P.caplen == 42 && P.wirelen == 42);
        CU_ASSERT(P.data == arp && P.linktype == DLT_EN10MB && P.ethertype == 0x0806);
        CU_ASSERT(P.n_vlan == 0 && P.n_mpls == 0 && P.ip_version == 0);
        CU_ASSERT(P.src.family == 0 && P.dst.family == 0 && P.ip_proto == 0 && P.ttl == 0);
        CU_ASSERT(P.l3 == NULL && P.l3_len == 0 && P.l3_wire_len == 0 && P.ip_id == 0);
        CU_ASSERT(!P.is_fragment && P.frag_offset == 0 && !P.more_fragments);
        CU_ASSERT(P.frag_payload == NULL && P.frag_payload_len == 0);
        CU_ASSERT(P.ip6_frag_hdr == 0 && P.ip6_frag_nh == 0);
        CU_ASSERT(P.l4 == NULL && P.l4_len == 0 && P.sport == 0 && P.dport == 0);
        CU_ASSERT(P.seq == 0 && P.ack == 0 && P.tcp_flags == 0 && P.window == 0);
        CU_ASSERT(P.mss == 0 && P.wscale == -1 && !P.sack_permitted && !P.has_timestamp);
        CU_ASSERT(P.ts_val == 0 && P.ts_ecr == 0 && P.n_sack == 0 && !P.tcp_bad_options);
        CU_ASSERT(P.icmp_type == 0 && P.icmp_code == 0);
        CU_ASSERT(P.payload == NULL && P.payload_len == 0 && P.payload_wire_len == 0);
        CU_ASSERT_PTR_NULL(P.why);

        /* Now a packet that sets nearly everything, then the ARP frame again. */
        fr_reset(&F);
        fr_eth(&F, 0x8100);
        fr_vlan(&F, 3, 0x8847);
        fr_be32(&F, 0x100);
        {
            size_t ip = fr_ipv4(&F, 6, A4(10, 0, 0, 1), A4(10, 0, 0, 2), 7, 0, 0);
            fr_tcp(&F, 40000, 80, 1000, 2000, PT_TCP_ACK | PT_TCP_PSH, opts, sizeof opts);
            fr_bytes(&F, "hello", 5);
            fr_ipv4_done(&F, ip);
        }
        CU_ASSERT_EQUAL(sizeof opts % 4, 0);
        CU_ASSERT_EQUAL(dec(DLT_EN10MB), PT_DECODE_MALFORMED); /* the last option */
        CU_ASSERT(P.mss == 1460 && P.wscale == 7 && P.n_vlan == 1 && P.n_mpls == 1);
        CU_ASSERT(P.tcp_bad_options && P.has_timestamp && P.n_sack == 1 && P.why != NULL);
        CU_ASSERT_EQUAL(pt_decode_packet(DLT_EN10MB, arp, sizeof arp, sizeof arp, &ts, &P),
                        PT_DECODE_OK);
    }
}

/* ---- tunnels (pt_decode_tunnel) ---- */

static frame G; /* an inner packet being wrapped */

/* Open every tunnel of P; returns how many, and the last inner result in *r. */
static int open_tunnels(pt_decode_result *r)
{
    int n = 0;

    while (*r == PT_DECODE_OK && pt_decode_tunnel(&P, r) == PT_OK) {
        check_bounds(&P);
        n++;
    }
    return n;
}

/* F = Ethernet, IPv4 192.0.2.1 -> 192.0.2.2 (protocol `proto`), [UDP sport -> dport], then
 * `hdr` and the inner packet G. */
static void wrap(uint8_t proto, uint16_t sport, uint16_t dport, const uint8_t *hdr, size_t n)
{
    size_t ip;

    fr_reset(&F);
    fr_eth(&F, 0x0800);
    ip = fr_ipv4(&F, proto, A4(192, 0, 2, 1), A4(192, 0, 2, 2), 9, 0, 0);
    if (proto == 17)
        fr_udp(&F, sport, dport, n + G.n);
    fr_bytes(&F, hdr, n);
    fr_bytes(&F, G.b, G.n);
    fr_ipv4_done(&F, ip);
}

/* G = an inner packet: Ethernet + IPv4/TCP (ether) or a bare IPv6/UDP packet. */
static void inner(bool ether)
{
    frame save = F;

    fr_reset(&F);
    if (ether) {
        fr_eth(&F, 0x0800);
        add_ipv4_tcp();
    } else {
        add_ipv6_udp();
    }
    G = F;
    F = save;
}

static void expect_tunnel(pt_tunnel kind, uint16_t sport, uint16_t dport)
{
    char a[PT_ENDPOINT_STRLEN];

    CU_ASSERT_EQUAL(P.n_tunnels, 1);
    CU_ASSERT_EQUAL(P.tunnel, kind);
    CU_ASSERT_EQUAL(P.tunnel_src.port, sport);
    CU_ASSERT_EQUAL(P.tunnel_dst.port, dport);
    CU_ASSERT_STRING_EQUAL(pt_addr_format(&P.tunnel_src.addr, a, sizeof a), "192.0.2.1");
    CU_ASSERT_STRING_EQUAL(pt_addr_format(&P.tunnel_dst.addr, a, sizeof a), "192.0.2.2");
}

static void test_tunnel_udp(void)
{
    static const uint8_t vxlan[] = {0x08, 0, 0, 0, 0, 0, 0x2a, 0};
    static const uint8_t geneve[] = {0x01, 0, 0x86, 0xdd, 0, 0, 0x2a, 0, 1, 2, 3, 4};
    static const uint8_t teredo[] = {0, 1, 1,    2,    0xaa, 0xbb, 0xcc, /* auth: id 1, au 2 */
                                     1, 2, 3,    4,    5,    6,    7,    8, 0, /* nonce, conf. */
                                     0, 0, 0x12, 0x34, 1,    2,    3,    4};   /* origin */
    static const uint8_t gtpu[] = {0x32, 0xff, 0, 0,    0, 0,    0,    1,      /* v1, S, T-PDU */
                                   0,    7,    0, 0x85, 1, 0xaa, 0xbb, 0};     /* seq, ext (4) */
    pt_decode_result r;

    inner(true);
    wrap(17, 50000, 4789, vxlan, sizeof vxlan);
    r = dec(DLT_EN10MB);
    CU_ASSERT_EQUAL(r, PT_DECODE_OK);
    CU_ASSERT_EQUAL(P.dport, 4789);
    CU_ASSERT_EQUAL(open_tunnels(&r), 1);
    CU_ASSERT_EQUAL(r, PT_DECODE_OK);
    expect_ipv4_tcp();
    expect_tunnel(PT_TUNNEL_VXLAN, 50000, 4789);
    CU_ASSERT_STRING_EQUAL(pt_tunnel_name(P.tunnel), "vxlan");

    wrap(17, 50000, 4789, (const uint8_t[]){0, 0, 0, 0, 0, 0, 0, 0}, 8); /* no VNI flag */
    r = dec(DLT_EN10MB);
    CU_ASSERT_EQUAL(open_tunnels(&r), 0);
    CU_ASSERT(P.dport == 4789 && P.n_tunnels == 0 && P.payload_len == 8 + G.n);

    inner(false);
    wrap(17, 50000, 6081, geneve, sizeof geneve);
    r = dec(DLT_EN10MB);
    CU_ASSERT_EQUAL(open_tunnels(&r), 1);
    CU_ASSERT_EQUAL(r, PT_DECODE_OK);
    expect_ipv6_udp();
    expect_tunnel(PT_TUNNEL_GENEVE, 50000, 6081);

    wrap(17, 3544, 50000, teredo, sizeof teredo);
    r = dec(DLT_EN10MB);
    CU_ASSERT_EQUAL(open_tunnels(&r), 1);
    CU_ASSERT_EQUAL(r, PT_DECODE_OK);
    expect_ipv6_udp();
    expect_tunnel(PT_TUNNEL_TEREDO, 3544, 50000);
    wrap(17, 3544, 50000, (const uint8_t[]){0x45}, 1); /* not IPv6 inside */
    r = dec(DLT_EN10MB);
    CU_ASSERT_EQUAL(open_tunnels(&r), 0);

    inner(true);
    memmove(G.b, G.b + 14, G.n - 14); /* GTP-U carries IP without Ethernet */
    G.n -= 14;
    wrap(17, 2152, 2152, gtpu, sizeof gtpu);
    r = dec(DLT_EN10MB);
    CU_ASSERT_EQUAL(open_tunnels(&r), 1);
    CU_ASSERT_EQUAL(r, PT_DECODE_OK);
    expect_ipv4_tcp();
    expect_tunnel(PT_TUNNEL_GTPU, 2152, 2152);

    /* AYIYA: 16-byte identity, 20-byte signature, opcode forward, IPv6 inside. */
    {
        uint8_t ayiya[44] = {0x41, 0x52, 0x11, 41};

        inner(false);
        wrap(17, 5072, 50000, ayiya, sizeof ayiya);
        r = dec(DLT_EN10MB);
        CU_ASSERT_EQUAL(open_tunnels(&r), 1);
        CU_ASSERT_EQUAL(r, PT_DECODE_OK);
        expect_ipv6_udp();
        expect_tunnel(PT_TUNNEL_AYIYA, 5072, 50000);
        ayiya[2] = 0x12; /* not a forwarded packet */
        wrap(17, 5072, 50000, ayiya, sizeof ayiya);
        r = dec(DLT_EN10MB);
        CU_ASSERT_EQUAL(open_tunnels(&r), 0);
    }

    /* Teredo between a client and a relay (any ports): recognised only when the IPv6 packet
     * fills the datagram and has a Teredo address. */
    inner(false);
    G.b[8] = 0x20, G.b[9] = 0x01, G.b[10] = 0, G.b[11] = 0; /* source 2001:0:... */
    wrap(17, 32900, 3797, NULL, 0);
    r = dec(DLT_EN10MB);
    CU_ASSERT_EQUAL(open_tunnels(&r), 1);
    CU_ASSERT_EQUAL(r, PT_DECODE_OK);
    CU_ASSERT(P.ip_version == 6 && P.sport == 5353 && P.tunnel == PT_TUNNEL_TEREDO);
    G.b[G.n++] = 0; /* one byte more than the IPv6 packet */
    wrap(17, 32900, 3797, NULL, 0);
    r = dec(DLT_EN10MB);
    CU_ASSERT_EQUAL(open_tunnels(&r), 0);
    inner(false); /* 2001:db8:: is not a Teredo address */
    wrap(17, 32900, 3797, NULL, 0);
    r = dec(DLT_EN10MB);
    CU_ASSERT_EQUAL(open_tunnels(&r), 0);

    /* Ordinary UDP and TCP are not tunnels. */
    inner(false);
    wrap(17, 50000, 53, NULL, 0);
    r = dec(DLT_EN10MB);
    CU_ASSERT_EQUAL(open_tunnels(&r), 0);
    fr_reset(&F);
    fr_eth(&F, 0x0800);
    add_ipv4_tcp();
    r = dec(DLT_EN10MB);
    CU_ASSERT_EQUAL(pt_decode_tunnel(&P, &r), PT_DECLINED);
}

static void test_tunnel_ip(void)
{
    static const uint8_t gre_key_seq[] = {0x30, 0, 0x08, 0, 0, 0, 0, 7, 0, 0, 0, 1};
    static const uint8_t gre_v1[] = {0x30, 0x01, 0x88, 0x0b, 0, 0, 0, 7, 0, 0, 0, 1};
    static const uint8_t gre_teb[] = {0, 0, 0x65, 0x58};
    pt_decode_result r;

    inner(true);
    memmove(G.b, G.b + 14, G.n - 14);
    G.n -= 14;
    wrap(47, 0, 0, gre_key_seq, sizeof gre_key_seq);
    r = dec(DLT_EN10MB);
    CU_ASSERT_EQUAL(r, PT_DECODE_OK);
    CU_ASSERT_EQUAL(open_tunnels(&r), 1);
    CU_ASSERT_EQUAL(r, PT_DECODE_OK);
    expect_ipv4_tcp();
    expect_tunnel(PT_TUNNEL_GRE, 0, 0);
    /* Cut inside the inner TCP header: the tunnel opens, the inner packet is TRUNCATED. */
    r = dec_len(DLT_EN10MB, F.n - 10, F.n);
    CU_ASSERT_EQUAL(open_tunnels(&r), 1);
    CU_ASSERT_EQUAL(r, PT_DECODE_TRUNCATED);

    wrap(47, 0, 0, gre_v1, sizeof gre_v1); /* PPTP's enhanced GRE: not decoded */
    r = dec(DLT_EN10MB);
    CU_ASSERT_EQUAL(open_tunnels(&r), 0);
    CU_ASSERT_EQUAL(P.ip_proto, 47);

    inner(true);
    wrap(47, 0, 0, gre_teb, sizeof gre_teb);
    r = dec(DLT_EN10MB);
    CU_ASSERT_EQUAL(open_tunnels(&r), 1);
    expect_ipv4_tcp();

    inner(false);
    wrap(41, 0, 0, NULL, 0); /* 6in4 */
    r = dec(DLT_EN10MB);
    CU_ASSERT_EQUAL(open_tunnels(&r), 1);
    CU_ASSERT_EQUAL(r, PT_DECODE_OK);
    expect_ipv6_udp();
    expect_tunnel(PT_TUNNEL_IPIP, 0, 0);
    wrap(4, 0, 0, NULL, 0); /* says IPv4 inside, holds IPv6 */
    r = dec(DLT_EN10MB);
    CU_ASSERT_EQUAL(open_tunnels(&r), 1);
    CU_ASSERT_EQUAL(r, PT_DECODE_MALFORMED);

    /* IPv4 in IPv4 ten deep: only PT_MAX_TUNNELS are opened. */
    fr_reset(&F);
    add_ipv4_tcp();
    for (int i = 0; i < 10; i++) {
        G = F;
        fr_reset(&F);
        {
            size_t ip = fr_ipv4(&F, 4, A4(192, 0, 2, 1), A4(192, 0, 2, 2), 9, 0, 0);
            fr_bytes(&F, G.b, G.n);
            fr_ipv4_done(&F, ip);
        }
    }
    r = dec(DLT_RAW);
    CU_ASSERT_EQUAL(open_tunnels(&r), PT_MAX_TUNNELS);
    CU_ASSERT_EQUAL(P.n_tunnels, PT_MAX_TUNNELS);
    CU_ASSERT_EQUAL(P.ip_proto, 4);
}

/* Every tunnel frame cut at every length and mutated: bounded reads, pointers in the frame. */
static void test_tunnel_hostile(void)
{
    static const uint8_t vxlan[] = {0x08, 0, 0, 0, 0, 0, 0x2a, 0};
    static const uint8_t gtpu[] = {
        0x34, 0xff, 0, 0, 0, 0, 0, 1, 0, 7,
        0,    0x85, 2, 1, 1, 1, 1, 1, 1, 0x85}; /* the extension chain never ends */
    uint32_t seed = 99;

    for (int kind = 0; kind < 2; kind++) {
        inner(true);
        if (kind == 0)
            wrap(17, 50000, 4789, vxlan, sizeof vxlan);
        else
            wrap(17, 2152, 2152, gtpu, sizeof gtpu);
        for (size_t n = 0; n <= F.n; n++) {
            pt_decode_result r = dec_len(DLT_EN10MB, n, F.n);
            open_tunnels(&r);
        }
        for (int round = 0; round < 5000; round++) {
            frame keep = F;
            pt_decode_result r;

            for (int k = 0; k < 3; k++) {
                seed = seed * 1103515245u + 12345u;
                F.b[14 + 20 + 8 + (seed >> 8) % (F.n - 42)] = (uint8_t)(seed >> 20);
            }
            r = dec(DLT_EN10MB);
            open_tunnels(&r);
            F = keep;
        }
    }
}

/* ---- truncation at every length, and mutation ---- */

typedef void (*builder)(void);

static void b_eth_v4(void)
{
    fr_reset(&F);
    fr_eth(&F, 0x8100);
    fr_vlan(&F, 9, 0x0800);
    add_ipv4_tcp();
}
static void b_eth_mpls_v6(void)
{
    fr_reset(&F);
    fr_eth(&F, 0x8847);
    fr_be32(&F, 0);
    fr_be32(&F, 0x100);
    add_ipv6_udp();
}
static void b_eth_pw(void)
{
    fr_reset(&F);
    fr_eth(&F, 0x8847);
    fr_be32(&F, 0x100);
    fr_be32(&F, 0);
    fr_eth(&F, 0x0800);
    add_ipv4_tcp();
}
static void b_sll_v6ext(void)
{
    size_t ip;

    sll_header(1, 0x86dd);
    ip = fr_ipv6(&F, 0, 1, 2);
    fr_ext(&F, 60, 1);
    fr_ext(&F, 6, 0);
    fr_tcp(&F, 40000, 80, 1000, 2000, PT_TCP_ACK | PT_TCP_PSH, NULL, 0);
    fr_bytes(&F, "hello", 5);
    fr_ipv6_done(&F, ip);
}
static void b_sll2_v4opts(void)
{
    static const uint8_t opts[] = {2, 4, 5, 180, 1, 3, 3, 7, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2, 1, 1};
    size_t ip;

    sll2_header(0x0800, 1);
    ip = fr_ipv4(&F, 6, A4(10, 0, 0, 1), A4(10, 0, 0, 2), 7, 0, 2);
    fr_tcp(&F, 40000, 80, 1000, 2000, PT_TCP_ACK | PT_TCP_PSH, opts, sizeof opts);
    fr_bytes(&F, "hello", 5);
    fr_ipv4_done(&F, ip);
}
static void b_null_v6(void)
{
    null_frame(false, 30, true);
}
static void b_loop_v4(void)
{
    null_frame(true, 2, false);
}
static void b_pppoe(void)
{
    fr_reset(&F);
    fr_eth(&F, 0x8864);
    fr_fill(&F, 0, 6);
    fr_be16(&F, 0x0021);
    add_ipv4_tcp();
}
static void b_icmp(void)
{
    size_t ip;

    fr_reset(&F);
    fr_eth(&F, 0x0800);
    ip = fr_ipv4(&F, 1, A4(1, 1, 1, 1), A4(2, 2, 2, 2), 1, 0, 0);
    fr_bytes(&F, (const uint8_t[]){8, 0, 0, 0, 0, 1, 0, 1}, 8);
    fr_ipv4_done(&F, ip);
}

static void b_ppp(void)
{
    fr_reset(&F);
    fr_be16(&F, 0xff03);
    fr_be16(&F, 0x0057);
    add_ipv6_udp();
}
static void b_nflog(void)
{
    uint16_t l;
    size_t at;

    fr_reset(&F);
    fr_be32(&F, 0x0a000001);
    nflog_tlv(8, 1); /* a 4-byte value */
    fr_be32(&F, 0);
    at = F.n;
    nflog_tlv(0, 9);
    add_ipv6_udp();
    l = (uint16_t)(F.n - at);
    memcpy(&F.b[at], &l, 2);
}
static void b_raw_v4_udp(void)
{
    size_t ip;

    fr_reset(&F);
    ip = fr_ipv4(&F, 17, A4(1, 2, 3, 4), A4(5, 6, 7, 8), 1, 0, 10);
    fr_udp(&F, 1, 2, 4);
    fr_bytes(&F, "wxyz", 4);
    fr_ipv4_done(&F, ip);
}

/* short_ok: a frame that really ends early may still be valid (NFLOG can end after any
 * TLV: a log entry without the packet). */
static const struct {
    const char *name;
    int dlt;
    builder build;
    bool short_ok;
} frames[] = {
    {"eth vlan ipv4 tcp", DLT_EN10MB, b_eth_v4, false},
    {"eth mpls ipv6 udp", DLT_EN10MB, b_eth_mpls_v6, false},
    {"eth mpls pseudowire", DLT_EN10MB, b_eth_pw, false},
    {"sll ipv6 ext tcp", DLT_SLL, b_sll_v6ext, false},
    {"sll2 ipv4 options tcp options", DLT_SLL2, b_sll2_v4opts, false},
    {"null ipv6 udp", DLT_NULL, b_null_v6, false},
    {"loop ipv4 tcp", DLT_LOOP, b_loop_v4, false},
    {"pppoe ipv4 tcp", DLT_EN10MB, b_pppoe, false},
    {"eth icmp", DLT_EN10MB, b_icmp, false},
    {"ppp ipv6 udp", DLT_PPP, b_ppp, false},
    {"nflog ipv6 udp", DLT_NFLOG, b_nflog, true},
    {"raw ipv4 options udp", DLT_RAW, b_raw_v4_udp, false},
};

/* Cut each frame at every length. With the wire length intact, a cut inside the headers is
 * TRUNCATED and a cut in the payload is OK with a shorter payload. With the wire length cut
 * too (a short frame), a cut inside the headers is never OK. */
static void test_truncate_everywhere(void)
{
    for (size_t f = 0; f < sizeof frames / sizeof frames[0]; f++) {
        size_t full, hdr_end, plen;
        pt_decode_result whole;

        frames[f].build();
        full = F.n;
        whole = dec(frames[f].dlt);
        CU_ASSERT_EQUAL(whole, PT_DECODE_OK);
        CU_ASSERT_PTR_NOT_NULL_FATAL(P.payload);
        hdr_end = (size_t)(P.payload - P.data);
        plen = P.payload_len;
        CU_ASSERT_EQUAL(hdr_end + plen, full);
        for (size_t n = 0; n < full; n++) {
            pt_decode_result r = dec_len(frames[f].dlt, n, full);

            if (n < hdr_end) {
                if (r != PT_DECODE_TRUNCATED)
                    fprintf(stderr, "%s cut at %zu: %d (%s)\n", frames[f].name, n, r,
                            P.why ? P.why : "");
                CU_ASSERT_EQUAL(r, PT_DECODE_TRUNCATED);
            } else {
                CU_ASSERT_EQUAL(r, PT_DECODE_OK);
                CU_ASSERT_EQUAL(P.payload_len, n - hdr_end);
                CU_ASSERT_EQUAL(P.payload_wire_len, plen);
            }
            r = dec_len(frames[f].dlt, n, n);
            if (n < hdr_end && !frames[f].short_ok)
                CU_ASSERT_NOT_EQUAL(r, PT_DECODE_OK);
        }
    }
}

/* Flip random bytes of every frame and decode as every link type: nothing may read out of
 * bounds (ASan) or leave a pointer outside the frame (check_bounds). Deterministic seed. */
static void test_mutations(void)
{
    static const int dlts[] = {0, 1, 9, 12, 104, 108, 113, 228, 229, 239, 276};
    uint32_t seed = 12345;

    for (size_t f = 0; f < sizeof frames / sizeof frames[0]; f++) {
        for (int round = 0; round < 20000; round++) {
            size_t n;

            frames[f].build();
            for (int k = 0; k < 1 + round % 4; k++) {
                seed = seed * 1103515245u + 12345u;
                F.b[(seed >> 8) % F.n] = (uint8_t)(seed >> 20);
            }
            seed = seed * 1103515245u + 12345u;
            n = (seed >> 8) % (F.n + 1);
            dec_len(dlts[round % (sizeof dlts / sizeof dlts[0])], n, F.n);
            dec_len(frames[f].dlt, F.n, F.n);
        }
    }
}

int main(void)
{
    CU_pSuite s;
    unsigned failed;

    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    s = CU_add_suite("decode", NULL, NULL);
    CU_add_test(s, "cursor", test_cursor);
    CU_add_test(s, "addr", test_addr);
    CU_add_test(s, "ethernet", test_ethernet);
    CU_add_test(s, "llc snap", test_llc);
    CU_add_test(s, "vlan", test_vlan);
    CU_add_test(s, "vlan deeper than PT_MAX_VLAN", test_vlan_deep);
    CU_add_test(s, "mpls", test_mpls);
    CU_add_test(s, "pppoe", test_pppoe);
    CU_add_test(s, "sll sll2", test_sll);
    CU_add_test(s, "null loop", test_null_loop);
    CU_add_test(s, "raw ip", test_raw);
    CU_add_test(s, "ppp hdlc", test_ppp_hdlc);
    CU_add_test(s, "nflog", test_nflog);
    CU_add_test(s, "unsupported dlt", test_unsupported);
    CU_add_test(s, "ipv4", test_ipv4);
    CU_add_test(s, "ipv4 fragment", test_ipv4_fragment);
    CU_add_test(s, "ipv6 extension headers", test_ipv6_ext);
    CU_add_test(s, "ipv6 fragment", test_ipv6_fragment);
    CU_add_test(s, "tcp options", test_tcp_options);
    CU_add_test(s, "tcp data offset", test_tcp_offsets);
    CU_add_test(s, "udp icmp", test_udp_icmp);
    CU_add_test(s, "tunnels over udp", test_tunnel_udp);
    CU_add_test(s, "tunnels over ip", test_tunnel_ip);
    CU_add_test(s, "tunnels cut and mutated", test_tunnel_hostile);
    CU_add_test(s, "reset between packets", test_reset);
    CU_add_test(s, "truncated at every length", test_truncate_everywhere);
    CU_add_test(s, "mutations", test_mutations);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
    CU_cleanup_registry();
    free(held);
    return failed ? 1 : 0;
}
