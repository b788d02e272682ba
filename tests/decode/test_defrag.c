/* test_defrag.c — CUnit tests of IPv4/IPv6 fragment reassembly: in order, out of order,
 * duplicated, overlapping (both policies), interleaved, timeout, memory cap, limits, and
 * hostile fragments. */
#include <CUnit/Basic.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "defrag.h"
#include "frames.h"

enum { DLT_RAW = 12 };

static frame F;
static uint8_t orig[65536]; /* the IP payload (UDP header + data) being fragmented */
static size_t orig_len;
static pt_packet P;
static uint8_t *held;

/* A UDP datagram of `n` bytes in orig, data bytes from `seed`. */
static void make_payload(size_t n, uint8_t seed)
{
    orig_len = n;
    orig[0] = 0x04;
    orig[1] = 0x57; /* sport 1111 */
    orig[2] = 0x08;
    orig[3] = 0xae; /* dport 2222 */
    orig[4] = (uint8_t)(n >> 8);
    orig[5] = (uint8_t)n;
    orig[6] = orig[7] = 0;
    for (size_t i = 8; i < n; i++)
        orig[i] = (uint8_t)(seed + i * 7);
}

static pt_decode_result decode_frame(size_t caplen, int64_t sec)
{
    pt_time ts = {sec, 0};

    free(held);
    held = malloc(caplen);
    memcpy(held, F.b, caplen);
    return pt_decode_packet(DLT_RAW, held, (uint32_t)caplen, (uint32_t)F.n, &ts, &P);
}

/* IPv4 fragment of orig covering [off, off + len), `data` replacing orig's bytes if set. */
static pt_decode_result frag4_data(uint16_t id, size_t off, size_t len, bool mf, int64_t sec,
                                   const uint8_t *data)
{
    size_t ip;

    fr_reset(&F);
    ip = fr_ipv4(&F, 17, 0x0a000001, 0x0a000002, id, (uint16_t)((mf ? 0x2000 : 0) | off / 8),
                 off == 0 ? 1 : 0);
    fr_bytes(&F, data ? data : orig + off, len);
    fr_ipv4_done(&F, ip);
    return decode_frame(F.n, sec);
}

static pt_decode_result frag4(uint16_t id, size_t off, size_t len, bool mf, int64_t sec)
{
    return frag4_data(id, off, len, mf, sec, NULL);
}

/* IPv6 fragment of orig, with a destination-options header before the fragment header. */
static pt_decode_result frag6(uint32_t id, size_t off, size_t len, bool mf, int64_t sec)
{
    size_t ip;

    fr_reset(&F);
    ip = fr_ipv6(&F, 60, 1, 2);
    fr_ext(&F, 44, 0);
    fr_u8(&F, 17);
    fr_u8(&F, 0);
    fr_be16(&F, (uint16_t)(off | (mf ? 1 : 0)));
    fr_be32(&F, id);
    fr_bytes(&F, orig + off, len);
    fr_ipv6_done(&F, ip);
    return decode_frame(F.n, sec);
}

static const uint8_t *dgram;
static size_t dgram_len;

static int add(pt_defrag *d)
{
    dgram = NULL;
    dgram_len = 0;
    return pt_defrag_add(d, &P, &dgram, &dgram_len);
}

static uint16_t ip_sum(const uint8_t *h, size_t n)
{
    uint32_t s = 0;

    for (size_t i = 0; i + 1 < n; i += 2)
        s += (uint32_t)h[i] << 8 | h[i + 1];
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return (uint16_t)s;
}

/* The last result must be the whole datagram: decode it and compare with orig. */
static void expect_datagram(int version, const uint8_t *want)
{
    pt_packet q = P; /* keeps the link fields */

    CU_ASSERT_PTR_NOT_NULL_FATAL(dgram);
    CU_ASSERT_EQUAL_FATAL(pt_decode_ip(dgram, dgram_len, &q), PT_DECODE_OK);
    CU_ASSERT_EQUAL(q.ip_version, version);
    CU_ASSERT(!q.is_fragment);
    CU_ASSERT_EQUAL(q.ip_proto, 17);
    CU_ASSERT_EQUAL(q.sport, 1111);
    CU_ASSERT_EQUAL(q.dport, 2222);
    CU_ASSERT_EQUAL(q.payload_len, orig_len - 8);
    CU_ASSERT(memcmp(q.payload, (want ? want : orig) + 8, orig_len - 8) == 0);
    CU_ASSERT_EQUAL(q.ts.sec, P.ts.sec);
    if (version == 4) {
        CU_ASSERT_EQUAL(dgram_len, 24 + orig_len); /* header with one option word */
        CU_ASSERT_EQUAL(ip_sum(dgram, 24), 0xffff);
        CU_ASSERT_EQUAL(dgram[6] & 0x3f, 0);
        CU_ASSERT_EQUAL(dgram[7], 0);
    } else {
        CU_ASSERT_EQUAL(dgram_len, 48 + orig_len);
        CU_ASSERT_EQUAL(dgram[6], 60);  /* still names the destination options */
        CU_ASSERT_EQUAL(dgram[40], 17); /* which now name UDP */
    }
}

static pt_defrag_stats stats(pt_defrag *d)
{
    pt_defrag_stats s;

    pt_defrag_get_stats(d, &s);
    CU_ASSERT(s.bytes <= s.peak_bytes);
    return s;
}

static void test_in_order(void)
{
    pt_defrag *d = pt_defrag_new(NULL);
    pt_defrag_stats s;

    make_payload(1008, 1);
    CU_ASSERT_EQUAL(frag4(1, 0, 400, true, 10), PT_DECODE_FRAGMENT);
    CU_ASSERT_EQUAL(add(d), PT_AGAIN);
    CU_ASSERT_EQUAL(frag4(1, 400, 400, true, 10), PT_DECODE_FRAGMENT);
    CU_ASSERT_EQUAL(add(d), PT_AGAIN);
    CU_ASSERT_EQUAL(frag4(1, 800, 208, false, 10), PT_DECODE_FRAGMENT);
    CU_ASSERT_EQUAL(add(d), PT_OK);
    expect_datagram(4, NULL);
    s = stats(d);
    CU_ASSERT(s.fragments == 3 && s.reassembled == 1 && s.pending == 0 && s.bytes == 0);
    CU_ASSERT(s.peak_bytes > 1008);
    pt_defrag_free(d);
}

static void test_out_of_order_and_duplicates(void)
{
    pt_defrag *d = pt_defrag_new(NULL);
    pt_defrag_stats s;

    make_payload(1008, 2);
    frag4(2, 800, 208, false, 10);
    CU_ASSERT_EQUAL(add(d), PT_AGAIN);
    frag4(2, 400, 400, true, 10);
    CU_ASSERT_EQUAL(add(d), PT_AGAIN);
    frag4(2, 400, 400, true, 10);
    CU_ASSERT_EQUAL(add(d), PT_AGAIN);
    frag4(2, 0, 400, true, 10);
    CU_ASSERT_EQUAL(add(d), PT_OK);
    expect_datagram(4, NULL);
    s = stats(d);
    CU_ASSERT(s.duplicates == 1 && s.overlaps == 0 && s.reassembled == 1);
    pt_defrag_free(d);
}

static void test_interleaved(void)
{
    pt_defrag *d = pt_defrag_new(NULL);
    uint8_t a[2000], b[2000];

    make_payload(1008, 3);
    memcpy(a, orig, orig_len);
    make_payload(1008, 4);
    memcpy(b, orig, orig_len);
    for (int i = 0; i < 3; i++) {
        size_t off = (size_t)i * 400, len = i < 2 ? 400 : 208;

        memcpy(orig, a, orig_len);
        frag4(10, off, len, i < 2, 10);
        CU_ASSERT_EQUAL(add(d), i < 2 ? PT_AGAIN : PT_OK);
        if (i == 2)
            expect_datagram(4, a);
        memcpy(orig, b, orig_len);
        frag6(10, off, len, i < 2, 10); /* same id, other family */
        CU_ASSERT_EQUAL(add(d), i < 2 ? PT_AGAIN : PT_OK);
        if (i == 2)
            expect_datagram(6, b);
    }
    pt_defrag_free(d);
}

static void test_overlap_ipv4_first_wins(void)
{
    pt_defrag *d = pt_defrag_new(NULL);
    uint8_t other[400], want[2000];

    make_payload(1008, 5);
    memset(other, 0xee, sizeof other);
    memcpy(want, orig, orig_len);
    memset(want + 400, 0xee, 392); /* [400, 792) from the overlapping fragment */

    frag4(3, 0, 400, true, 10);
    add(d);
    frag4_data(3, 392, 400, true, 10, other); /* [392, 792): 8 bytes overlap */
    CU_ASSERT_EQUAL(add(d), PT_AGAIN);
    frag4(3, 792, 216, false, 10);
    CU_ASSERT_EQUAL(add(d), PT_OK);
    expect_datagram(4, want);
    CU_ASSERT_EQUAL(stats(d).overlaps, 1);

    /* An overlap that covers a hole and more: only the hole is filled. */
    make_payload(1008, 6);
    memcpy(want, orig, orig_len);
    memset(want + 400, 0xee, 400);
    frag4(4, 0, 400, true, 10);
    add(d);
    frag4(4, 800, 208, false, 10);
    add(d);
    {
        uint8_t big[1000];
        memset(big, 0xee, sizeof big);
        frag4_data(4, 0, sizeof big, true, 10, big);
    }
    CU_ASSERT_EQUAL(add(d), PT_OK);
    expect_datagram(4, want);
    pt_defrag_free(d);
}

static void test_overlap_ipv6_drops(void)
{
    pt_defrag *d = pt_defrag_new(NULL);
    pt_defrag_stats s;

    make_payload(1008, 7);
    frag6(5, 0, 400, true, 10);
    CU_ASSERT_EQUAL(add(d), PT_AGAIN);
    frag6(5, 392, 408, true, 10);
    CU_ASSERT_EQUAL(add(d), PT_AGAIN);
    s = stats(d);
    CU_ASSERT(s.overlaps == 1 && s.dropped == 1 && s.pending == 0);
    frag6(5, 800, 208, false, 10);
    CU_ASSERT_EQUAL(add(d), PT_AGAIN); /* the datagram is gone: this starts a new one */
    CU_ASSERT_EQUAL(stats(d).pending, 1);

    frag6(6, 400, 400, true, 10);
    add(d);
    frag6(6, 0, 400, true, 10);
    add(d);
    frag6(6, 800, 208, false, 10);
    CU_ASSERT_EQUAL(add(d), PT_OK);
    expect_datagram(6, NULL);
    pt_defrag_free(d);
}

static void test_timeout(void)
{
    pt_defrag *d = pt_defrag_new(NULL);
    pt_defrag_stats s;
    pt_time later = {1000, 0};

    make_payload(1008, 8);
    frag4(7, 0, 400, true, 100);
    add(d);
    frag4(7, 400, 400, true, 131); /* 31 s later: the first one timed out */
    CU_ASSERT_EQUAL(add(d), PT_AGAIN);
    frag4(7, 800, 208, false, 131);
    CU_ASSERT_EQUAL(add(d), PT_AGAIN);
    s = stats(d);
    CU_ASSERT(s.timed_out == 1 && s.pending == 1 && s.reassembled == 0);
    pt_defrag_expire(d, &later);
    s = stats(d);
    CU_ASSERT(s.timed_out == 2 && s.pending == 0 && s.bytes == 0);
    pt_defrag_free(d);

    /* A configured timeout of 2 s. */
    {
        pt_defrag_limits l = {.timeout_us = 2000000};
        d = pt_defrag_new(&l);
    }
    frag4(8, 0, 400, true, 100);
    add(d);
    frag4(8, 400, 400, true, 101);
    add(d);
    frag4(8, 800, 208, false, 102);
    CU_ASSERT_EQUAL(add(d), PT_OK);
    frag4(9, 0, 400, true, 200);
    add(d);
    frag4(9, 400, 400, true, 203);
    add(d);
    CU_ASSERT_EQUAL(stats(d).timed_out, 1);
    pt_defrag_free(d);
}

static void test_memory_cap(void)
{
    pt_defrag_limits l = {.max_bytes = 16 * 1024};
    pt_defrag *d = pt_defrag_new(&l);
    pt_defrag_stats s;

    make_payload(1008, 9);
    for (uint16_t id = 100; id < 150; id++) {
        frag4(id, 0, 400, true, 10);
        add(d);
        CU_ASSERT(stats(d).bytes <= l.max_bytes);
    }
    s = stats(d);
    CU_ASSERT(s.dropped_cap > 0);
    CU_ASSERT(s.pending < 50);
    CU_ASSERT(s.peak_bytes <= l.max_bytes);
    /* The newest datagram is still there and completes. */
    frag4(149, 400, 400, true, 10);
    add(d);
    frag4(149, 800, 208, false, 10);
    CU_ASSERT_EQUAL(add(d), PT_OK);
    expect_datagram(4, NULL);
    pt_defrag_free(d);

    /* A cap too small for one datagram drops it, never exceeds. */
    l.max_bytes = 1000;
    d = pt_defrag_new(&l);
    frag4(1, 0, 400, true, 10);
    CU_ASSERT_EQUAL(add(d), PT_AGAIN);
    s = stats(d);
    CU_ASSERT(s.dropped_cap == 1 && s.pending == 0 && s.peak_bytes <= 1000);
    pt_defrag_free(d);
}

static void test_limits(void)
{
    pt_defrag_limits l = {.max_datagrams = 4, .max_fragments = 4};
    pt_defrag *d = pt_defrag_new(&l);
    pt_defrag_stats s;

    make_payload(1008, 10);
    for (uint16_t id = 0; id < 10; id++) {
        frag4(id, 0, 400, true, 10);
        add(d);
    }
    s = stats(d);
    CU_ASSERT(s.pending == 4 && s.dropped_cap == 6);

    for (size_t off = 0; off < 48; off += 8) {
        frag4(500, off, 8, true, 10);
        add(d);
    }
    CU_ASSERT_EQUAL(stats(d).too_many, 1);
    pt_defrag_free(d);
}

static void test_hostile(void)
{
    pt_defrag *d = pt_defrag_new(NULL);
    pt_defrag_stats s;

    make_payload(1008, 11);
    /* Not a fragment. */
    fr_reset(&F);
    {
        size_t ip = fr_ipv4(&F, 17, 1, 2, 1, 0, 0);
        fr_bytes(&F, orig, 1008);
        fr_ipv4_done(&F, ip);
    }
    CU_ASSERT_EQUAL(decode_frame(F.n, 10), PT_DECODE_OK);
    CU_ASSERT_EQUAL(add(d), PT_ERROR);

    /* Non-final fragment not a multiple of 8. */
    frag4(20, 0, 12, true, 10);
    CU_ASSERT_EQUAL(add(d), PT_AGAIN);
    CU_ASSERT_EQUAL(stats(d).malformed, 1);

    /* Cut by the snaplen: unusable. */
    frag4(21, 0, 400, true, 10);
    decode_frame(F.n - 10, 10);
    CU_ASSERT_EQUAL(P.is_fragment, true);
    CU_ASSERT_EQUAL(add(d), PT_AGAIN);
    CU_ASSERT_EQUAL(stats(d).truncated, 1);

    /* Two different ends. */
    frag4(22, 800, 208, false, 10);
    add(d);
    frag4(22, 400, 200, false, 10);
    CU_ASSERT_EQUAL(add(d), PT_AGAIN);
    /* Data past the end. */
    frag4(23, 800, 208, false, 10);
    add(d);
    frag4(23, 1008, 8, true, 10);
    CU_ASSERT_EQUAL(add(d), PT_AGAIN);
    s = stats(d);
    CU_ASSERT_EQUAL(s.malformed, 3);
    CU_ASSERT_EQUAL(s.pending, 0);
    pt_defrag_free(d);
}

/* The largest datagram there is: 65535 bytes including the header. */
static void test_largest(void)
{
    pt_defrag *d = pt_defrag_new(NULL);
    size_t step = 1480, total = 65535 - 24;
    int r = PT_AGAIN;

    make_payload(total, 12);
    for (size_t off = 0; off < total; off += step) {
        size_t len = total - off < step ? total - off : step;

        CU_ASSERT_EQUAL(frag4(30, off, len, off + len < total, 10), PT_DECODE_FRAGMENT);
        r = add(d);
    }
    CU_ASSERT_EQUAL(r, PT_OK);
    CU_ASSERT_EQUAL(dgram_len, 65535);
    pt_defrag_free(d);
}

int main(void)
{
    CU_pSuite s;
    unsigned failed;

    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    s = CU_add_suite("defrag", NULL, NULL);
    CU_add_test(s, "in order", test_in_order);
    CU_add_test(s, "out of order and duplicates", test_out_of_order_and_duplicates);
    CU_add_test(s, "interleaved", test_interleaved);
    CU_add_test(s, "ipv4 overlap: first copy wins", test_overlap_ipv4_first_wins);
    CU_add_test(s, "ipv6 overlap drops the datagram", test_overlap_ipv6_drops);
    CU_add_test(s, "timeout", test_timeout);
    CU_add_test(s, "memory cap", test_memory_cap);
    CU_add_test(s, "datagram and fragment limits", test_limits);
    CU_add_test(s, "hostile fragments", test_hostile);
    CU_add_test(s, "largest datagram", test_largest);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
    CU_cleanup_registry();
    free(held);
    return failed ? 1 : 0;
}
