/* test_tcp.c — CUnit tests of TCP tracking and reassembly over crafted segment sequences:
 * handshake and close, reordering, overlaps, retransmission, wrap-around, RST in each state,
 * half-close, mid-stream pickup, Fast Open, port reuse, caps, eviction, timeouts, unseen
 * ACKs, and the tcp events. */
#include <CUnit/Basic.h>
#include <glib.h>
#include <string.h>

#include "events.h"
#include "flow_table.h"
#include "reassembly.h"
#include "sink.h"
#include "tcp.h"
#include "tcp_harness.h"

#define A PT_TCP_ACK
#define F PT_TCP_FIN
#define P (PT_TCP_PSH | PT_TCP_ACK)

static rec R;
static pt_tcp *T;

static void setup_with(const pt_tcp_limits *lim)
{
    rec_init(&R);
    pt_tcp_consumer c = rec_consumer(&R);
    pt_tcp_limits l = {0};
    if (lim != NULL) {
        l = *lim;
    }
    l.quiet = true;
    T = pt_tcp_new(&l, &c);
}

static void setup(void)
{
    setup_with(NULL);
}

static void teardown(void)
{
    pt_tcp_free(T);
    rec_clear(&R);
    T = NULL;
}

static void feed(pt_packet p)
{
    pt_tcp_packet(T, &p);
}

static void flush_at(double t)
{
    pt_time ts = {(int64_t)t, 0};
    pt_tcp_flush(T, PT_CLOSE_END_OF_CAPTURE, &ts);
}

static bool data_is(const rec_flow *rf, int dir, const char *want)
{
    size_t n = strlen(want);
    return rf->data[dir]->len == n && memcmp(rf->data[dir]->data, want, n) == 0;
}

/* Handshake, a request and a response, FIN from both: one flow ended by fin with the
 * right counters and handshake RTT. */
static void test_basic_fin(void)
{
    setup();
    hs_conn c = hs_v4(40000, 80);
    hs_handshake(T, &c, 1000, 5000, 1.0);
    CU_ASSERT_EQUAL(R.flows->len, 1);
    feed(mk(&c, true, 1001, 5001, P, "GET /", 5, 1.1));
    feed(mk(&c, false, 5001, 1006, P, "200 OK", 6, 1.2));
    feed(mk(&c, true, 1006, 5007, F | A, NULL, 0, 1.3));
    feed(mk(&c, false, 5007, 1007, F | A, NULL, 0, 1.4));
    rec_flow *rf = rec_get(&R, 0);
    CU_ASSERT_EQUAL(rf->ends, 1);
    CU_ASSERT_EQUAL(rf->why, PT_CLOSE_FIN);
    CU_ASSERT(data_is(rf, 0, "GET /"));
    CU_ASSERT(data_is(rf, 1, "200 OK"));
    CU_ASSERT_EQUAL(rf->end_info.rtt_us, 20000);
    CU_ASSERT_EQUAL(rf->end_info.rtt_server_us, 10000);
    CU_ASSERT_EQUAL(rf->end_info.dir[0].bytes, 5);
    CU_ASSERT_EQUAL(rf->end_info.dir[1].bytes, 6);
    CU_ASSERT_EQUAL(rf->end_info.dir[0].packets, 4);
    CU_ASSERT_EQUAL(rf->end_info.dir[1].packets, 3);
    CU_ASSERT_TRUE(rf->end_info.saw_syn);
    CU_ASSERT_EQUAL(rf->client.port, 40000);
    CU_ASSERT_EQUAL(rf->server.port, 80);
    /* The last ACK is swallowed by the closed flow, not a new one. */
    feed(mk(&c, true, 1007, 5008, A, NULL, 0, 1.5));
    CU_ASSERT_EQUAL(R.flows->len, 1);
    pt_tcp_stats st;
    pt_tcp_get_stats(T, &st);
    CU_ASSERT_EQUAL(st.late_packets, 1);
    CU_ASSERT_EQUAL(st.flows_open, 0);
    teardown();
}

/* Segments 3, 1, 2 arrive: delivered in order, once, from the buffer. */
static void test_reorder(void)
{
    setup();
    hs_conn c = hs_v4(40001, 80);
    hs_handshake(T, &c, 100, 900, 1.0);
    feed(mk(&c, true, 107, 901, P, "ghi", 3, 1.1));
    feed(mk(&c, true, 101, 901, P, "abc", 3, 1.2));
    feed(mk(&c, true, 104, 901, P, "def", 3, 1.3));
    rec_flow *rf = rec_get(&R, 0);
    CU_ASSERT(data_is(rf, 0, "abcdefghi"));
    flush_at(2);
    CU_ASSERT_EQUAL(rf->why, PT_CLOSE_END_OF_CAPTURE);
    CU_ASSERT_EQUAL(rf->end_info.dir[0].out_of_order, 1);
    CU_ASSERT_EQUAL(rf->end_info.dir[0].gap_bytes, 0);
    CU_ASSERT_EQUAL(rf->end_info.dir[0].retransmits, 0);
    teardown();
}

/* Retransmissions by byte range: an exact copy, a copy shifted into new bytes, and a
 * segment covering buffered data. */
static void test_retransmit_ranges(void)
{
    setup();
    hs_conn c = hs_v4(40002, 80);
    hs_handshake(T, &c, 0, 0, 1.0);
    feed(mk(&c, true, 1, 1, P, "0123456789", 10, 1.1));
    feed(mk(&c, true, 1, 1, P, "0123456789", 10, 1.2));   /* exact */
    feed(mk(&c, true, 6, 1, P, "56789ABCDE", 10, 1.3));   /* half old, half new */
    feed(mk(&c, true, 21, 1, P, "KLMN", 4, 1.4));         /* ahead */
    feed(mk(&c, true, 16, 1, P, "FGHIJKLMNOP", 11, 1.5)); /* fills, overlaps KLMN, extends */
    rec_flow *rf = rec_get(&R, 0);
    CU_ASSERT(data_is(rf, 0, "0123456789ABCDEFGHIJKLMNOP"));
    flush_at(2);
    const pt_tcp_dir_stats *s = &rf->end_info.dir[0];
    CU_ASSERT_EQUAL(s->retransmits, 3);
    CU_ASSERT_EQUAL(s->retransmit_bytes, 10 + 5 + 4);
    CU_ASSERT_EQUAL(s->overlap_conflicts, 0);
    CU_ASSERT_EQUAL(s->bytes, 26);
    teardown();
}

/* An overlap with different bytes: the first copy wins and the difference is counted. */
static void test_overlap_conflict(void)
{
    setup();
    hs_conn c = hs_v4(40003, 80);
    hs_handshake(T, &c, 0, 0, 1.0);
    feed(mk(&c, true, 5, 1, P, "EFGH", 4, 1.1));     /* buffered: offsets 4..7 */
    feed(mk(&c, true, 1, 1, P, "abcdXYGH", 8, 1.2)); /* E,F differ */
    rec_flow *rf = rec_get(&R, 0);
    CU_ASSERT(data_is(rf, 0, "abcdEFGH"));
    flush_at(2);
    CU_ASSERT_EQUAL(rf->end_info.dir[0].overlap_conflicts, 2);
    CU_ASSERT_EQUAL(rf->end_info.dir[0].retransmit_bytes, 4);
    teardown();
}

/* Sequence numbers crossing 2^32, in and out of order. */
static void test_wraparound(void)
{
    setup();
    hs_conn c = hs_v4(40004, 80);
    uint32_t isn = 0xFFFFFFF5u;
    hs_handshake(T, &c, isn, 7, 1.0);
    uint32_t s0 = isn + 1; /* 0xFFFFFFF6: 10 bytes to the wrap */
    feed(mk(&c, true, s0 + 16, 8, P, "QRSTUVWX", 8, 1.1));
    feed(mk(&c, true, s0, 8, P, "ABCDEFGH", 8, 1.2));
    feed(mk(&c, true, s0 + 8, 8, P, "IJKLMNOP", 8, 1.3));
    feed(mk(&c, true, s0 + 4, 8, P, "EFGHIJKL", 8, 1.4)); /* retransmission across the wrap */
    feed(mk(&c, false, 8, s0 + 24, A, NULL, 0, 1.5));
    rec_flow *rf = rec_get(&R, 0);
    CU_ASSERT(data_is(rf, 0, "ABCDEFGHIJKLMNOPQRSTUVWX"));
    flush_at(2);
    CU_ASSERT_EQUAL(rf->end_info.dir[0].gap_bytes, 0);
    CU_ASSERT_EQUAL(rf->end_info.dir[0].retransmit_bytes, 8);
    CU_ASSERT_EQUAL(rf->end_info.dir[0].unseen_acks, 0);
    teardown();
}

/* RST before the SYN-ACK: nothing started, nothing reported, flow closed. */
static void test_rst_syn_sent(void)
{
    setup();
    hs_conn c = hs_v4(40005, 81);
    feed(mk(&c, true, 10, 0, PT_TCP_SYN, NULL, 0, 1.0));
    feed(mk(&c, false, 0, 11, PT_TCP_RST | A, NULL, 0, 1.1));
    CU_ASSERT_EQUAL(R.flows->len, 0);
    pt_tcp_stats st;
    pt_tcp_get_stats(T, &st);
    CU_ASSERT_EQUAL(st.flows_total, 1);
    CU_ASSERT_EQUAL(st.flows_open, 0);
    teardown();
}

/* RST after the SYN-ACK (before the final ACK): not started, closed. */
static void test_rst_syn_rcvd(void)
{
    setup();
    hs_conn c = hs_v4(40006, 80);
    feed(mk(&c, true, 10, 0, PT_TCP_SYN, NULL, 0, 1.0));
    feed(mk(&c, false, 50, 11, PT_TCP_SYN | A, NULL, 0, 1.1));
    feed(mk(&c, true, 11, 0, PT_TCP_RST, NULL, 0, 1.2));
    CU_ASSERT_EQUAL(R.flows->len, 0);
    pt_tcp_stats st;
    pt_tcp_get_stats(T, &st);
    CU_ASSERT_EQUAL(st.flows_open, 0);
    teardown();
}

/* RST on an established flow with a hole: buffered data comes out after a gap, then the
 * flow ends with rst. */
static void test_rst_established(void)
{
    setup();
    hs_conn c = hs_v4(40007, 80);
    hs_handshake(T, &c, 0, 0, 1.0);
    feed(mk(&c, true, 1, 1, P, "abc", 3, 1.1));
    feed(mk(&c, true, 7, 1, P, "ghi", 3, 1.2));
    feed(mk(&c, false, 1, 4, PT_TCP_RST | A, NULL, 0, 1.3));
    rec_flow *rf = rec_get(&R, 0);
    CU_ASSERT_EQUAL(rf->why, PT_CLOSE_RST);
    CU_ASSERT_STRING_EQUAL(rf->log->str, "S D0:3 G0:3 D0:3 E:rst");
    CU_ASSERT_TRUE(rf->end_info.saw_rst);
    teardown();
}

/* Half-close: the client sends FIN, the server keeps sending, then closes; RST after a
 * single FIN also ends the flow. */
static void test_half_close(void)
{
    setup();
    hs_conn c = hs_v4(40008, 80);
    hs_handshake(T, &c, 0, 0, 1.0);
    feed(mk(&c, true, 1, 1, P | F, "bye", 3, 1.1));
    feed(mk(&c, false, 1, 5, P, "still", 5, 1.2));
    feed(mk(&c, false, 6, 5, P, " here", 5, 1.3));
    rec_flow *rf = rec_get(&R, 0);
    CU_ASSERT_EQUAL(rf->ends, 0);
    feed(mk(&c, false, 11, 5, F | A, NULL, 0, 1.4));
    CU_ASSERT_EQUAL(rf->ends, 1);
    CU_ASSERT_EQUAL(rf->why, PT_CLOSE_FIN);
    CU_ASSERT(data_is(rf, 0, "bye"));
    CU_ASSERT(data_is(rf, 1, "still here"));

    hs_conn c2 = hs_v4(40009, 80);
    hs_handshake(T, &c2, 0, 0, 2.0);
    feed(mk(&c2, true, 1, 1, F | A, NULL, 0, 2.1));
    feed(mk(&c2, false, 1, 2, P, "x", 1, 2.2));
    feed(mk(&c2, true, 2, 0, PT_TCP_RST, NULL, 0, 2.3));
    rec_flow *rf2 = rec_get(&R, 1);
    CU_ASSERT_EQUAL(rf2->why, PT_CLOSE_RST);
    CU_ASSERT(data_is(rf2, 1, "x"));
    teardown();
}

/* Mid-stream pickup: no handshake, the first payload is kept, the server is the side on a
 * known server port even though its port is higher. */
static void test_midstream(void)
{
    setup();
    uint16_t port = 50000;
    g_array_append_val(R.server_ports, port);
    hs_conn c = hs_v4(40010, 50000);
    feed(mk(&c, true, 777, 999, P, "PING\r\n", 6, 1.0));
    feed(mk(&c, false, 999, 783, P, "+PONG\r\n", 7, 1.1));
    rec_flow *rf = rec_get(&R, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(rf);
    CU_ASSERT_EQUAL(rf->server.port, 50000);
    CU_ASSERT(data_is(rf, 0, "PING\r\n"));
    CU_ASSERT(data_is(rf, 1, "+PONG\r\n"));
    flush_at(2);
    CU_ASSERT_FALSE(rf->end_info.saw_syn);
    CU_ASSERT_EQUAL(rf->end_info.rtt_us, -1);
    /* Without a known port, the lower port is the server. */
    hs_conn c2 = hs_v4(33000, 6000);
    feed(mk(&c2, false, 5, 5, P, "x", 1, 3.0));
    rec_flow *rf2 = rec_get(&R, 1);
    CU_ASSERT_EQUAL(rf2->server.port, 6000);
    CU_ASSERT(data_is(rf2, 1, "x"));
    teardown();
}

/* Mid-stream with the peer's ACK known first: the hole before the first payload is a gap. */
static void test_midstream_ack_hint(void)
{
    setup();
    hs_conn c = hs_v4(40011, 80);
    feed(mk(&c, false, 500, 100, A, NULL, 0, 1.0));
    feed(mk(&c, true, 104, 500, P, "efg", 3, 1.1));
    feed(mk(&c, true, 100, 500, P, "abcd", 4, 1.2));
    rec_flow *rf = rec_get(&R, 0);
    CU_ASSERT(data_is(rf, 0, "abcdefg"));
    teardown();
}

/* TCP Fast Open: the SYN's data is delivered. */
static void test_tfo(void)
{
    setup();
    hs_conn c = hs_v4(40012, 80);
    feed(mk(&c, true, 10, 0, PT_TCP_SYN, "early", 5, 1.0));
    feed(mk(&c, false, 70, 16, PT_TCP_SYN | A, NULL, 0, 1.1));
    feed(mk(&c, true, 16, 71, P, " data", 5, 1.2));
    rec_flow *rf = rec_get(&R, 0);
    CU_ASSERT(data_is(rf, 0, "early data"));
    flush_at(2);
    CU_ASSERT_EQUAL(rf->end_info.dir[0].gap_bytes, 0);
    teardown();
}

/* The 4-tuple is reused after a close: a new SYN starts a new flow with a new id. A SYN
 * retry is not a new flow. */
static void test_port_reuse(void)
{
    setup();
    hs_conn c = hs_v4(40013, 80);
    for (int i = 0; i < 3; i++) {
        double t = 1.0 + i;
        uint32_t ci = 1000u * (uint32_t)(i + 1);
        feed(mk(&c, true, ci, 0, PT_TCP_SYN, NULL, 0, t));
        feed(mk(&c, true, ci, 0, PT_TCP_SYN, NULL, 0, t + 0.001)); /* retry */
        feed(mk(&c, false, 9, ci + 1, PT_TCP_SYN | A, NULL, 0, t + 0.01));
        feed(mk(&c, true, ci + 1, 10, A, NULL, 0, t + 0.02));
        feed(mk(&c, true, ci + 1, 10, P, "q", 1, t + 0.03));
        feed(mk(&c, true, ci + 2, 10, F | A, NULL, 0, t + 0.04));
        if (i < 2) {
            feed(mk(&c, false, 10, ci + 3, F | A, NULL, 0, t + 0.05));
        }
    }
    CU_ASSERT_EQUAL_FATAL(R.flows->len, 3);
    rec_flow *a = rec_get(&R, 0), *b = rec_get(&R, 1), *d = rec_get(&R, 2);
    CU_ASSERT_STRING_NOT_EQUAL(a->id, b->id);
    CU_ASSERT_STRING_NOT_EQUAL(b->id, d->id);
    CU_ASSERT_EQUAL(a->why, PT_CLOSE_FIN);
    CU_ASSERT_EQUAL(b->why, PT_CLOSE_FIN);
    CU_ASSERT_EQUAL(a->end_info.syn_retries, 1);
    CU_ASSERT_EQUAL(a->end_info.rtt_us, 19000);
    CU_ASSERT(data_is(d, 0, "q"));
    CU_ASSERT_EQUAL(d->ends, 0);
    /* Reuse while the previous flow is half-closed ends it first. */
    feed(mk(&c, true, 77777, 0, PT_TCP_SYN, NULL, 0, 9.0));
    CU_ASSERT_EQUAL(d->ends, 1);
    CU_ASSERT_EQUAL(d->why, PT_CLOSE_FIN);
    teardown();
}

/* A hole the receiver ACKs past becomes a gap once traffic confirms the ACK: the sender
 * sends past the acknowledged point, or the receiver sends data. An ACK alone (which a
 * capture may record ahead of the data) does not give the hole up. */
static void test_ack_past_hole(void)
{
    setup();
    hs_conn c = hs_v4(40014, 80);
    hs_handshake(T, &c, 0, 0, 1.0);
    feed(mk(&c, true, 1, 1, P, "aaaa", 4, 1.1));
    feed(mk(&c, true, 9, 1, P, "cccc", 4, 1.2)); /* bytes 5..8 lost */
    feed(mk(&c, false, 1, 13, A, NULL, 0, 1.3));
    rec_flow *rf = rec_get(&R, 0);
    CU_ASSERT_STRING_EQUAL(rf->log->str, "S D0:4");
    feed(mk(&c, true, 5, 1, P, "bbbb", 4, 1.31)); /* the hole fills after all */
    CU_ASSERT_STRING_EQUAL(rf->log->str, "S D0:4 D0:4 D0:4");
    feed(mk(&c, true, 17, 1, P, "eeee", 4, 1.32));
    feed(mk(&c, false, 1, 21, A, NULL, 0, 1.33));
    feed(mk(&c, false, 1, 21, P, "resp", 4, 1.34)); /* the receiver talks: 13..16 are lost */
    CU_ASSERT_STRING_EQUAL(rf->log->str, "S D0:4 D0:4 D0:4 G0:4 D0:4 D1:4");
    /* ACK for bytes never captured at all (TSO/GSO): a gap once the sender goes past it. */
    feed(mk(&c, false, 5, 121, A, NULL, 0, 1.4));
    feed(mk(&c, true, 121, 5, P, "dd", 2, 1.5));
    CU_ASSERT_STRING_EQUAL(rf->log->str, "S D0:4 D0:4 D0:4 G0:4 D0:4 D1:4 G0:100 D0:2");
    CU_ASSERT(data_is(rf, 0, "aaaabbbbcccceeeedd"));
    pt_tcp_stats st;
    pt_tcp_get_stats(T, &st);
    CU_ASSERT_EQUAL(st.unseen_acks, 2);
    flush_at(2);
    CU_ASSERT_EQUAL(rf->end_info.dir[0].gap_bytes, 104);
    CU_ASSERT_EQUAL(rf->end_info.dir[0].unseen_acks, 2);
    teardown();
}

/* A FIN after a hole: at close the hole is a gap of exactly the missing bytes. */
static void test_gap_before_fin(void)
{
    setup();
    hs_conn c = hs_v6(40015, 443);
    hs_handshake(T, &c, 0, 0, 1.0);
    feed(mk(&c, false, 1, 1, P, "hello", 5, 1.1));
    feed(mk(&c, false, 16, 1, P | F, "world", 5, 1.2)); /* 10 bytes lost, then FIN */
    feed(mk(&c, true, 1, 6, F | A, NULL, 0, 1.3));
    rec_flow *rf = rec_get(&R, 0);
    CU_ASSERT_EQUAL(rf->ends, 0);
    flush_at(3);
    CU_ASSERT_EQUAL(rf->why, PT_CLOSE_FIN); /* both FINs seen */
    CU_ASSERT_EQUAL(rf->gaps[1], 10);
    CU_ASSERT(data_is(rf, 1, "helloworld"));
    CU_ASSERT_EQUAL(rf->client.addr.family, 6);
    teardown();
}

/* A payload cut by the snaplen: the missing tail is a gap, the stream continues. */
static void test_snaplen_cut(void)
{
    setup();
    hs_conn c = hs_v4(40016, 80);
    hs_handshake(T, &c, 0, 0, 1.0);
    pt_packet p = mk(&c, true, 1, 1, P, "abcd", 4, 1.1);
    p.payload_wire_len = 10;
    feed(p);
    feed(mk(&c, true, 11, 1, P, "klm", 3, 1.2));
    rec_flow *rf = rec_get(&R, 0);
    CU_ASSERT_STRING_EQUAL(rf->log->str, "S D0:4 G0:6 D0:3");
    teardown();
}

/* The per-direction cap: when out-of-order data would exceed it, the oldest hole becomes a
 * gap. The segment-count cap works the same way. */
static void test_flow_buffer_cap(void)
{
    /* Room for EFGH and KLMNOP (each segment also costs its bookkeeping). */
    pt_tcp_limits lim = {.max_flow_buffer_bytes = PT_REASM_COST(4) + PT_REASM_COST(6),
                         .max_flow_segments = 100};
    setup_with(&lim);
    hs_conn c = hs_v4(40017, 80);
    hs_handshake(T, &c, 0, 0, 1.0);
    feed(mk(&c, true, 5, 1, P, "EFGH", 4, 1.1));    /* hole 1..4 */
    feed(mk(&c, true, 11, 1, P, "KLMNOP", 6, 1.2)); /* hole 9..10; the cap is reached */
    feed(mk(&c, true, 19, 1, P, "STU", 3, 1.3));    /* does not fit: first hole gives way */
    rec_flow *rf = rec_get(&R, 0);
    CU_ASSERT_STRING_EQUAL(rf->log->str, "S G0:4 D0:4");
    pt_tcp_stats st;
    pt_tcp_get_stats(T, &st);
    CU_ASSERT_EQUAL(st.buffered_bytes, PT_REASM_COST(6) + PT_REASM_COST(3));
    CU_ASSERT_EQUAL(st.buffered_bytes_peak, PT_REASM_COST(4) + PT_REASM_COST(6));
    flush_at(2);
    CU_ASSERT(data_is(rf, 0, "EFGHKLMNOPSTU"));
    CU_ASSERT_EQUAL(rf->end_info.dir[0].gap_bytes, 4 + 2 + 2);
    pt_tcp_get_stats(T, &st);
    CU_ASSERT_EQUAL(st.buffered_bytes, 0);
    teardown();

    pt_tcp_limits lim2 = {.max_flow_segments = 2};
    setup_with(&lim2);
    hs_handshake(T, &c, 0, 0, 1.0);
    feed(mk(&c, true, 3, 1, P, "c", 1, 1.1));
    feed(mk(&c, true, 5, 1, P, "e", 1, 1.2));
    feed(mk(&c, true, 7, 1, P, "g", 1, 1.3));
    rf = rec_get(&R, 0);
    CU_ASSERT_STRING_EQUAL(rf->log->str, "S G0:2 D0:1");
    teardown();
}

/* The global cap: another flow's buffered bytes are evicted (least recently buffering
 * first); alone, the flow gives up its own holes. */
static void test_global_buffer_cap(void)
{
    pt_tcp_limits lim = {.max_buffer_bytes = 2 * PT_REASM_COST(4),
                         .max_flow_buffer_bytes = 2 * PT_REASM_COST(4)};
    setup_with(&lim);
    hs_conn a = hs_v4(41000, 80), b = hs_v4(41001, 80);
    hs_handshake(T, &a, 0, 0, 1.0);
    hs_handshake(T, &b, 0, 0, 1.0);
    feed(mk(&a, true, 3, 1, P, "cdef", 4, 1.1));
    feed(mk(&b, true, 3, 1, P, "CDEF", 4, 1.2));
    feed(mk(&b, true, 9, 1, P, "IJ", 2, 1.3)); /* over the global cap: a is evicted */
    rec_flow *ra = rec_get(&R, 0), *rb = rec_get(&R, 1);
    CU_ASSERT_EQUAL(ra->ends, 1);
    CU_ASSERT_EQUAL(ra->why, PT_CLOSE_EVICTED);
    CU_ASSERT_STRING_EQUAL(ra->log->str, "S G0:2 D0:4 E:evicted");
    CU_ASSERT_EQUAL(rb->ends, 0);
    feed(mk(&b, true, 15, 1, P, "OPQRS", 5, 1.4)); /* over with b alone: b's hole goes */
    CU_ASSERT_STRING_EQUAL(rb->log->str, "S G0:2 D0:4");
    pt_tcp_stats st;
    pt_tcp_get_stats(T, &st);
    CU_ASSERT_EQUAL(st.buffered_bytes, PT_REASM_COST(2) + PT_REASM_COST(5));
    CU_ASSERT_EQUAL(st.flows_evicted, 1);
    teardown();
}

/* max_flows: the least recently used flow is evicted; a SYN flood never holds more. */
static void test_max_flows(void)
{
    pt_tcp_limits lim = {.max_flows = 3};
    setup_with(&lim);
    hs_conn c[5];
    for (int i = 0; i < 5; i++) {
        c[i] = hs_v4((uint16_t)(42000 + i), 80);
        hs_handshake(T, &c[i], 0, 0, 1.0 + i);
        feed(mk(&c[i], true, 1, 1, P, "x", 1, 1.5 + i));
        if (i == 2) {
            feed(mk(&c[0], true, 2, 1, P, "y", 1, 3.6)); /* c[0] becomes recent */
        }
    }
    CU_ASSERT_EQUAL(rec_get(&R, 0)->ends, 0);
    CU_ASSERT_EQUAL(rec_get(&R, 1)->why, PT_CLOSE_EVICTED);
    CU_ASSERT_EQUAL(rec_get(&R, 2)->why, PT_CLOSE_EVICTED);
    CU_ASSERT_EQUAL(rec_get(&R, 1)->ends, 1);
    for (uint32_t i = 0; i < 20000; i++) {
        hs_conn s = hs_v4((uint16_t)(1024 + i % 60000), 443);
        s.caddr.bytes[2] = (uint8_t)(i >> 8);
        s.caddr.bytes[3] = (uint8_t)i;
        feed(mk(&s, true, i, 0, PT_TCP_SYN, NULL, 0, 10.0 + i * 1e-6));
    }
    pt_tcp_stats st;
    pt_tcp_get_stats(T, &st);
    CU_ASSERT(st.flows_peak <= 3);
    CU_ASSERT_EQUAL(st.flows_total, 5 + 20000);
    CU_ASSERT_EQUAL(R.flows->len, 5); /* unanswered SYNs never start */
    teardown();
}

/* Idle flows end with timeout once capture time passes the limit; closed flows are
 * forgotten after the linger time. */
static void test_timeouts(void)
{
    pt_tcp_limits lim = {.idle_timeout_us = 60 * 1000000ull, .closed_linger_us = 1000000};
    setup_with(&lim);
    hs_conn a = hs_v4(43000, 80), b = hs_v4(43001, 80);
    hs_handshake(T, &a, 0, 0, 100.0);
    feed(mk(&a, true, 1, 1, P, "x", 1, 100.1));
    hs_handshake(T, &b, 0, 0, 150.0);
    feed(mk(&b, true, 1, 1, P, "y", 1, 170.0)); /* 69.9 s after a's last packet */
    rec_flow *ra = rec_get(&R, 0), *rb = rec_get(&R, 1);
    CU_ASSERT_EQUAL(ra->ends, 1);
    CU_ASSERT_EQUAL(ra->why, PT_CLOSE_TIMEOUT);
    CU_ASSERT_EQUAL(ra->end_info.dir[0].bytes, 1);
    CU_ASSERT_EQUAL(rb->ends, 0);
    pt_tcp_stats st;
    pt_tcp_get_stats(T, &st);
    CU_ASSERT_EQUAL(st.flows_timed_out, 1);
    /* A packet of a after its timeout is a new, mid-stream flow. */
    feed(mk(&a, true, 2, 1, P, "z", 1, 171.0));
    CU_ASSERT_EQUAL(R.flows->len, 3);
    CU_ASSERT(data_is(rec_get(&R, 2), 0, "z"));
    teardown();
}

/* Bogus sequence numbers far away from the stream are dropped, not buffered. */
static void test_bogus_seq(void)
{
    setup();
    hs_conn c = hs_v4(43002, 80);
    hs_handshake(T, &c, 0, 0, 1.0);
    feed(mk(&c, true, 0x7FFFFF00u, 1, P, "junk", 4, 1.1));
    feed(mk(&c, true, 1, 1, P, "ok", 2, 1.2));
    rec_flow *rf = rec_get(&R, 0);
    CU_ASSERT(data_is(rf, 0, "ok"));
    pt_tcp_stats st;
    pt_tcp_get_stats(T, &st);
    CU_ASSERT_EQUAL(st.bogus_segments, 1);
    CU_ASSERT_EQUAL(st.buffered_bytes, 0);
    teardown();
}

/* The flow index under random adds and removes (growth, backward-shift deletion, probe
 * clusters): every key present is found, with its own flow, and no removed key is. */
static void test_flow_index(void)
{
    enum { N = 40000 };
    pt_flow_table *ft = pt_flow_table_new();
    static pt_flow *flows[N];
    static pt_flow_key keys[N];
    GRand *rng = g_rand_new_with_seed(7);
    for (int i = 0; i < N; i++) {
        pt_addr a = {.family = (uint8_t)(i % 3 == 0 ? 6 : 4)}, b = a;
        a.bytes[0] = 10;
        a.bytes[3] = (uint8_t)(i % 7);
        b.bytes[0] = 10;
        b.bytes[1] = 1;
        bool swapped;
        pt_flow_table_key(&keys[i], &a, (uint16_t)(1024 + i), &b, 80, &swapped);
        flows[i] = NULL;
    }
    uint32_t present = 0;
    for (int round = 0; round < 6 * N; round++) {
        int i = g_rand_int_range(rng, 0, N);
        if (flows[i] == NULL) {
            flows[i] = pt_flow_table_add(ft, &keys[i]);
            present++;
        } else if (g_rand_boolean(rng)) {
            pt_flow_table_remove(ft, flows[i]);
            flows[i] = NULL;
            present--;
        }
    }
    CU_ASSERT_EQUAL(pt_flow_table_count(ft), present);
    int wrong = 0;
    for (int i = 0; i < N; i++) {
        wrong += pt_flow_table_lookup(ft, &keys[i]) != flows[i];
    }
    CU_ASSERT_EQUAL(wrong, 0);
    /* Both directions of a 5-tuple give the same key. */
    pt_addr x = {.family = 4, .bytes = {1, 2, 3, 4}}, y = {.family = 4, .bytes = {5, 6, 7, 8}};
    pt_flow_key k1, k2;
    bool s1, s2;
    pt_flow_table_key(&k1, &x, 1000, &y, 80, &s1);
    pt_flow_table_key(&k2, &y, 80, &x, 1000, &s2);
    CU_ASSERT_EQUAL(memcmp(&k1, &k2, sizeof k1), 0);
    CU_ASSERT_NOT_EQUAL(s1, s2);
    g_rand_free(rng);
    pt_flow_table_free(ft);
}

/* A segment larger than the receiver's MSS (seen before segmentation offload) is counted;
 * reassembly is unaffected. */
static void test_oversize_segment(void)
{
    setup();
    hs_conn c = hs_v4(43003, 80);
    hs_handshake(T, &c, 0, 0, 1.0); /* both sides announce MSS 1460 */
    static char big[3000];
    memset(big, 'x', sizeof big);
    feed(mk(&c, false, 1, 1, P, big, sizeof big, 1.1));
    feed(mk(&c, false, 3001, 1, P, big, 100, 1.2));
    pt_tcp_stats st;
    pt_tcp_get_stats(T, &st);
    CU_ASSERT_EQUAL(st.oversize_segments, 1);
    CU_ASSERT_EQUAL(rec_get(&R, 0)->data[1]->len, 3100);
    teardown();
}

/* --- the tcp events, through a sink that keeps JSON lines --- */

typedef struct mem_sink {
    pt_sink base;
    GString *out;
} mem_sink;

static void mem_write(pt_sink *s, const pt_envelope *env, const pt_event *ev)
{
    mem_sink *m = (mem_sink *)s;
    pt_sink_json_render(m->out, env, ev);
    g_string_append_c(m->out, '\n');
    pt_text t = {.buf = m->out, .color = false, .max_bytes = 64};
    pt_sink_text_render(&t, env, ev);
}

static void mem_flush(pt_sink *s)
{
}

static void mem_free(pt_sink *s)
{
    g_free((mem_sink *)s); /* pt_sink_free() frees the name */
}

static const pt_sink_ops mem_ops = {
    .type = "mem", .write = mem_write, .flush = mem_flush, .free = mem_free};

static void test_events(void)
{
    setup();
    mem_sink *m = g_new0(mem_sink, 1);
    m->base.ops = &mem_ops;
    m->base.name = g_strdup("mem");
    GString *out = g_string_new(NULL);
    m->out = out;
    pt_events *bus = pt_events_new_empty();
    CU_ASSERT_TRUE_FATAL(pt_events_add_sink(bus, &m->base));
    pt_tcp_set_events(T, bus, true);
    hs_conn c = hs_v4(44000, 6379);
    feed(mk(&c, true, 5, 0, PT_TCP_SYN, NULL, 0, 1.0));
    feed(mk(&c, true, 5, 0, PT_TCP_SYN, NULL, 0, 2.0));
    feed(mk(&c, false, 50, 6, PT_TCP_SYN | A, NULL, 0, 2.001));
    feed(mk(&c, true, 6, 51, A, NULL, 0, 2.002));
    feed(mk(&c, true, 6, 51, P, "abc", 3, 2.1));
    feed(mk(&c, true, 6, 51, P, "abc", 3, 2.2));
    feed(mk(&c, true, 12, 51, P, "ghi", 3, 2.3));
    feed(mk(&c, false, 51, 15, A, NULL, 0, 2.4));
    feed(mk(&c, false, 51, 15, PT_TCP_RST | A, NULL, 0, 2.5));
    pt_events_flush(bus);
    const char *s = out->str;
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "\"event\":\"syn_retry\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "\"event\":\"tcp_start\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "\"event\":\"retransmit\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "\"event\":\"gap\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "\"event\":\"reset\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "\"event\":\"tcp_end\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "\"reason\":\"rst\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "\"gap_bytes_to_server\":3"));
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "\"bytes_to_server\":6"));
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "\"rtt_us\":2000"));
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "\"client\":\"10.0.0.1:44000\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "\"proto\":\"tcp\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "tcp end rst after 1.500000 s"));
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "tcp syn retry #1"));
    if (CU_get_number_of_failures() > 0) {
        fprintf(stderr, "%s\n", s);
    }
    pt_events_free(bus);
    g_string_free(out, TRUE);
    teardown();
}

/* The command-line options become limits; impossible values are refused. */
static void test_config(void)
{
    pt_tcp_config cfg;
    pt_tcp_config_init(&cfg);
    GOptionContext *ctx = g_option_context_new(NULL);
    g_option_context_add_main_entries(ctx, pt_tcp_option_entries(&cfg), NULL);
    char *argv_s[] = {"x",
                      "--tcp-verbose",
                      "--idle-timeout",
                      "2.5",
                      "--max-flows",
                      "10",
                      "--max-buffer",
                      "3",
                      "--max-flow-buffer",
                      "64",
                      NULL};
    char **argv = argv_s;
    int argc = 10;
    GError *err = NULL;
    CU_ASSERT_TRUE(g_option_context_parse(ctx, &argc, &argv, &err));
    pt_tcp_limits lim;
    CU_ASSERT_TRUE(pt_tcp_config_limits(&cfg, &lim, &err));
    CU_ASSERT_TRUE(cfg.verbose);
    CU_ASSERT_EQUAL(lim.idle_timeout_us, 2500000);
    CU_ASSERT_EQUAL(lim.max_flows, 10);
    CU_ASSERT_EQUAL(lim.max_buffer_bytes, 3u << 20);
    CU_ASSERT_EQUAL(lim.max_flow_buffer_bytes, 64u << 10);
    cfg.max_flows = 0;
    CU_ASSERT_FALSE(pt_tcp_config_limits(&cfg, &lim, &err));
    CU_ASSERT_PTR_NOT_NULL(err);
    g_clear_error(&err);
    cfg.max_flows = 5;
    cfg.idle_timeout_s = -1;
    CU_ASSERT_FALSE(pt_tcp_config_limits(&cfg, &lim, &err));
    g_clear_error(&err);
    g_option_context_free(ctx);
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS) {
        return CU_get_error();
    }
    CU_pSuite s = CU_add_suite("tcp", NULL, NULL);
    struct {
        const char *name;
        void (*fn)(void);
    } tests[] = {
        {"basic_fin", test_basic_fin},
        {"reorder", test_reorder},
        {"retransmit_ranges", test_retransmit_ranges},
        {"overlap_conflict", test_overlap_conflict},
        {"wraparound", test_wraparound},
        {"rst_syn_sent", test_rst_syn_sent},
        {"rst_syn_rcvd", test_rst_syn_rcvd},
        {"rst_established", test_rst_established},
        {"half_close", test_half_close},
        {"midstream", test_midstream},
        {"midstream_ack_hint", test_midstream_ack_hint},
        {"tfo", test_tfo},
        {"port_reuse", test_port_reuse},
        {"ack_past_hole", test_ack_past_hole},
        {"gap_before_fin", test_gap_before_fin},
        {"snaplen_cut", test_snaplen_cut},
        {"flow_buffer_cap", test_flow_buffer_cap},
        {"global_buffer_cap", test_global_buffer_cap},
        {"max_flows", test_max_flows},
        {"timeouts", test_timeouts},
        {"bogus_seq", test_bogus_seq},
        {"flow_index", test_flow_index},
        {"oversize_segment", test_oversize_segment},
        {"events", test_events},
        {"config", test_config},
    };
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++) {
        if (CU_add_test(s, tests[i].name, tests[i].fn) == NULL) {
            CU_cleanup_registry();
            return CU_get_error();
        }
    }
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures();
    CU_cleanup_registry();
    return failed > 0 ? 1 : 0;
}
