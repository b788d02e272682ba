/* test_capture.c — CUnit tests of the capture stage and the library API: opening files of
 * every format, errors (truncated file, unknown link type, bad filter, missing file), -c,
 * -w round trip, the counters, interface name suggestions, and the --packets line. */
#include <CUnit/Basic.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture.h"
#include "decode.h"
#include "packet_print.h"
#include "pcaptrace/pcaptrace.h"
#include "stats.h"

static char *capture_dir;

static char *cap_path(const char *name)
{
    return g_build_filename(capture_dir, name, NULL);
}

/* What the packet callback saw. */
typedef struct seen {
    unsigned n, ok, truncated, malformed, fragment, reassembled;
    GString *lines;
} seen;

static void on_packet(void *ctx, const pt_packet *pkt, pt_packet_status st)
{
    seen *s = ctx;
    s->n++;
    s->ok += st == PT_PACKET_OK;
    s->truncated += st == PT_PACKET_TRUNCATED;
    s->malformed += st == PT_PACKET_MALFORMED;
    s->fragment += st == PT_PACKET_FRAGMENT;
    s->reassembled += st == PT_PACKET_REASSEMBLED;
    char line[PT_PACKET_LINE_MAX];
    pt_packet_format(pkt, st, line, sizeof(line));
    g_string_append_printf(s->lines, "%s\n", line);
}

/* Run a whole file through a session; returns run()'s result, error in *err. */
static bool run_file(const char *name, const char *filter, uint64_t count, seen *s, pt_stats *st,
                     GError **err)
{
    char *path = cap_path(name);
    pt_source src = {.file = path, .filter = filter};
    pt_session *sess = pt_session_open(&src, err);
    g_free(path);
    if (sess == NULL) {
        return false;
    }
    pt_session_on_packet(sess, on_packet, s);
    pt_session_set_count(sess, count);
    bool ok = pt_session_run(sess, err);
    pt_session_get_stats(sess, st);
    pt_session_close(sess);
    return ok;
}

static void seen_init(seen *s)
{
    memset(s, 0, sizeof(*s));
    s->lines = g_string_new(NULL);
}

static void seen_clear(seen *s)
{
    g_string_free(s->lines, TRUE);
}

/* The same seven-packet exchange in every byte order and resolution gives the same lines
 * apart from the time (the ns files have 789 extra ns, invisible at µs). */
static void test_formats_agree(void)
{
    const char *names[] = {"eth-big-endian.pcap", "eth-nanosecond.pcap",
                           "eth-big-endian-nanosecond.pcap"};
    seen ref;
    seen_init(&ref);
    pt_stats st;
    GError *err = NULL;
    CU_ASSERT_TRUE(run_file("eth-ipv4-ipv6.pcap", NULL, 4, &ref, &st, &err));
    CU_ASSERT_EQUAL(ref.n, 4);
    for (size_t i = 0; i < G_N_ELEMENTS(names); i++) {
        seen s;
        seen_init(&s);
        CU_ASSERT_TRUE(run_file(names[i], NULL, 0, &s, &st, &err));
        CU_ASSERT_EQUAL(s.n, 4);
        CU_ASSERT_STRING_EQUAL(s.lines->str, ref.lines->str);
        seen_clear(&s);
    }
    seen_clear(&ref);
}

static void test_counters(void)
{
    seen s;
    seen_init(&s);
    pt_stats st;
    GError *err = NULL;
    CU_ASSERT_TRUE(run_file("eth-ipv4-ipv6.pcap", NULL, 0, &s, &st, &err));
    CU_ASSERT_EQUAL(st.packets, 18);
    CU_ASSERT_EQUAL(st.tcp, 11);
    CU_ASSERT_EQUAL(st.udp, 2);
    CU_ASSERT_EQUAL(st.icmp, 3);
    CU_ASSERT_EQUAL(st.other_ip, 1);
    CU_ASSERT_EQUAL(st.non_ip, 1);
    CU_ASSERT_FALSE(st.have_drops);
    CU_ASSERT_EQUAL(s.ok, 18);
    seen_clear(&s);
}

static void test_truncated_and_malformed(void)
{
    seen s;
    seen_init(&s);
    pt_stats st;
    GError *err = NULL;
    CU_ASSERT_TRUE(run_file("truncated-and-malformed.pcap", NULL, 0, &s, &st, &err));
    CU_ASSERT_EQUAL(s.n, 7);
    CU_ASSERT_EQUAL(st.truncated, 2);
    CU_ASSERT_EQUAL(st.malformed, 4);
    CU_ASSERT_EQUAL(st.truncated, s.truncated);
    CU_ASSERT_EQUAL(st.malformed, s.malformed);
    /* The first frame is cut in its payload only: decoded, with the captured part shown. */
    CU_ASSERT_PTR_NOT_NULL(strstr(s.lines->str, "len 600 (captured 10)"));
    CU_ASSERT_PTR_NOT_NULL(strstr(s.lines->str, "truncated"));
    CU_ASSERT_PTR_NOT_NULL(strstr(s.lines->str, "malformed"));
    seen_clear(&s);
}

static void test_fragments(void)
{
    seen s;
    seen_init(&s);
    pt_stats st;
    GError *err = NULL;
    CU_ASSERT_TRUE(run_file("ip-fragments.pcap", NULL, 0, &s, &st, &err));
    CU_ASSERT_EQUAL(s.fragment, 5);
    CU_ASSERT_EQUAL(s.reassembled, 2);
    CU_ASSERT_EQUAL(st.fragments, 5);
    CU_ASSERT_EQUAL(st.reassembled, 2);
    CU_ASSERT_EQUAL(st.udp, 2);
    CU_ASSERT_PTR_NOT_NULL(
        strstr(s.lines->str, "192.0.2.1:7000 -> 198.51.100.7:7001 udp len 1536"));
    CU_ASSERT_PTR_NOT_NULL(strstr(s.lines->str, "[2001:db8::1]:7000 -> [2001:db8::a02]:7001 udp"));
    seen_clear(&s);
}

/* A file cut inside packet 5: four packets delivered, then an error naming file and packet. */
static void test_truncated_file(void)
{
    seen s;
    seen_init(&s);
    pt_stats st;
    GError *err = NULL;
    CU_ASSERT_FALSE(run_file("truncated-file-packet5.pcap", NULL, 0, &s, &st, &err));
    CU_ASSERT_EQUAL(s.n, 4);
    CU_ASSERT_PTR_NOT_NULL_FATAL(err);
    CU_ASSERT_TRUE(g_error_matches(err, PT_SESSION_ERROR, PT_SESSION_ERROR_READ));
    CU_ASSERT_PTR_NOT_NULL(strstr(err->message, "truncated-file-packet5.pcap: packet 5:"));
    g_clear_error(&err);
    seen_clear(&s);
}

static void test_unsupported_dlt(void)
{
    seen s;
    seen_init(&s);
    pt_stats st;
    GError *err = NULL;
    CU_ASSERT_FALSE(run_file("unsupported-dlt-ieee802-11.pcap", NULL, 0, &s, &st, &err));
    CU_ASSERT_EQUAL(s.n, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(err);
    CU_ASSERT_TRUE(g_error_matches(err, PT_SESSION_ERROR, PT_SESSION_ERROR_LINKTYPE));
    CU_ASSERT_PTR_NOT_NULL(strstr(err->message, "IEEE802_11"));
    g_clear_error(&err);
    seen_clear(&s);
}

static void test_filter(void)
{
    seen s;
    seen_init(&s);
    pt_stats st;
    GError *err = NULL;
    CU_ASSERT_TRUE(run_file("eth-ipv4-ipv6.pcap", "ip6 and tcp", 0, &s, &st, &err));
    CU_ASSERT_EQUAL(s.n, 4);
    CU_ASSERT_FALSE(run_file("eth-ipv4-ipv6.pcap", "tcp port", 0, &s, &st, &err));
    CU_ASSERT_TRUE(g_error_matches(err, PT_SESSION_ERROR, PT_SESSION_ERROR_FILTER));
    g_clear_error(&err);
    CU_ASSERT_FALSE(run_file("no-such-file.pcap", NULL, 0, &s, &st, &err));
    CU_ASSERT_TRUE(g_error_matches(err, PT_SESSION_ERROR, PT_SESSION_ERROR_OPEN));
    CU_ASSERT_PTR_NOT_NULL(err ? strstr(err->message, "no-such-file.pcap") : NULL);
    g_clear_error(&err);
    seen_clear(&s);
}

/* -c across batch boundaries, and -w writing exactly the packets read. */
static void test_count_and_save(void)
{
    char *out = g_strdup_printf("%s/pt-test-save-%d.pcap", g_get_tmp_dir(), (int)getpid());
    char *path = cap_path("eth-ipv4-ipv6.pcap");
    pt_source src = {.file = path, .save_file = out, .batch = 2};
    GError *err = NULL;
    pt_session *sess = pt_session_open(&src, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(sess);
    seen s;
    seen_init(&s);
    pt_session_on_packet(sess, on_packet, &s);
    pt_session_set_count(sess, 5);
    CU_ASSERT_TRUE(pt_session_run(sess, &err));
    pt_session_close(sess);
    CU_ASSERT_EQUAL(s.n, 5);

    seen again;
    seen_init(&again);
    pt_source src2 = {.file = out};
    sess = pt_session_open(&src2, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(sess);
    pt_session_on_packet(sess, on_packet, &again);
    CU_ASSERT_TRUE(pt_session_run(sess, &err));
    pt_session_close(sess);
    CU_ASSERT_STRING_EQUAL(again.lines->str, s.lines->str);
    seen_clear(&s);
    seen_clear(&again);
    unlink(out);
    g_free(out);
    g_free(path);
}

/* pt_session_stop() from inside a callback (as a signal handler would) ends run(). */
static void stop_after_two(void *ctx, const pt_packet *pkt, pt_packet_status st)
{
    pt_session *s = ctx;
    pt_stats stats;
    pt_session_get_stats(s, &stats);
    if (stats.packets == 2) {
        pt_session_stop(s);
    }
}

static void test_stop(void)
{
    char *path = cap_path("eth-ipv4-ipv6.pcap");
    pt_source src = {.file = path, .batch = 1};
    GError *err = NULL;
    pt_session *sess = pt_session_open(&src, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(sess);
    pt_session_on_packet(sess, stop_after_two, sess);
    CU_ASSERT_TRUE(pt_session_run(sess, &err));
    pt_stats st;
    pt_session_get_stats(sess, &st);
    CU_ASSERT_EQUAL(st.packets, 2);
    pt_session_close(sess);
    g_free(path);
}

static void test_edit_distance(void)
{
    CU_ASSERT_EQUAL(pt_capture_edit_distance("lo0", "lo", 10), 1);
    CU_ASSERT_EQUAL(pt_capture_edit_distance("eth0", "eth0", 10), 0);
    CU_ASSERT_EQUAL(pt_capture_edit_distance("en0", "eth0", 10), 2);
    CU_ASSERT_EQUAL(pt_capture_edit_distance("eth0", "eth1", 10), 1);
    CU_ASSERT_EQUAL(pt_capture_edit_distance("abc", "xyz", 10), 3);
    CU_ASSERT_EQUAL(pt_capture_edit_distance("", "wlan0", 10), 5);
    CU_ASSERT_EQUAL(pt_capture_edit_distance("abcdef", "uvwxyz", 2), 2);
    char *hint = pt_capture_suggest_interface("lo0");
    CU_ASSERT_STRING_EQUAL(hint ? hint : "", "lo");
    g_free(hint);
    hint = pt_capture_suggest_interface("zzzzzzzz");
    CU_ASSERT_PTR_NULL(hint);
    g_free(hint);
}

/* The printer on hand-made packets: flags, IPv6 brackets, ICMP names, truncation. */
static void test_format(void)
{
    pt_packet p;
    memset(&p, 0, sizeof(p));
    p.ts.sec = 1700000000 + 3600 + 61;
    p.ts.nsec = 5000;
    p.linktype = 1;
    p.ip_version = 6;
    p.src.family = p.dst.family = 6;
    p.src.bytes[15] = 1;
    p.dst.bytes[15] = 1;
    p.ip_proto = 6;
    p.sport = 40000;
    p.dport = 80;
    p.seq = 7;
    p.ack = 9;
    p.window = 512;
    p.tcp_flags = PT_TCP_SYN | PT_TCP_ACK;
    p.l4 = (const uint8_t *)"";
    char line[PT_PACKET_LINE_MAX];
    pt_packet_format(&p, PT_PACKET_OK, line, sizeof(line));
    CU_ASSERT_STRING_EQUAL(line,
                           "23:14:21.000005 eth [::1]:40000 -> [::1]:80 tcp [S.] seq 7 ack 9 win "
                           "512 len 0");
    p.tcp_flags = PT_TCP_PSH | PT_TCP_ACK | PT_TCP_FIN;
    p.n_vlan = 2;
    p.vlan[0] = 100;
    p.vlan[1] = 10;
    p.payload_wire_len = 100;
    p.payload_len = 40;
    pt_packet_format(&p, PT_PACKET_OK, line, sizeof(line));
    CU_ASSERT_PTR_NOT_NULL(strstr(line, " vlan 100,10 [::1]:40000 -> [::1]:80 tcp [FP.] "));
    CU_ASSERT_PTR_NOT_NULL(strstr(line, "len 100 (captured 40)"));
    p.tcp_flags = PT_TCP_RST;
    pt_packet_format(&p, PT_PACKET_OK, line, sizeof(line));
    CU_ASSERT_PTR_NOT_NULL(strstr(line, "tcp [R] seq 7 win 512"));

    p.n_vlan = 0;
    p.ip_version = 4;
    p.src.family = p.dst.family = 4;
    p.src.bytes[0] = 10;
    p.dst.bytes[0] = 10;
    p.ip_proto = 1;
    p.icmp_type = 8;
    p.l4_len = 64;
    p.linktype = 0;
    pt_packet_format(&p, PT_PACKET_OK, line, sizeof(line));
    CU_ASSERT_PTR_NOT_NULL(strstr(line, " null 10.0.0.0 -> 10.0.0.0 icmp echo request len 64"));

    p.why = "tcp header";
    p.caplen = 40;
    p.wirelen = 74;
    pt_packet_format(&p, PT_PACKET_TRUNCATED, line, sizeof(line));
    CU_ASSERT_PTR_NOT_NULL(strstr(line, "truncated: tcp header (captured 40 of 74 bytes)"));

    /* A tiny buffer is cut, never overrun, and the needed length is returned. */
    char tiny[8];
    size_t need = pt_packet_format(&p, PT_PACKET_TRUNCATED, tiny, sizeof(tiny));
    CU_ASSERT_EQUAL(strlen(tiny), 7);
    CU_ASSERT_TRUE(need > 20);
}

/* Statistics lines, and the kernel-drop advice printed once however often drops are seen. */
static void test_stats_print(void)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(out);
    pt_stats_printer pr = {.buffer_mib = 8};
    pt_stats st = {.packets = 10, .bytes = 1000, .truncated = 1, .malformed = 2, .fragments = 3};
    pt_stats_print(&pr, out, &st, false);
    st.have_drops = true;
    st.received = 12;
    pt_stats_print(&pr, out, &st, false);
    st.kernel_drops = 5;
    pt_stats_print(&pr, out, &st, false);
    st.kernel_drops = 9;
    pt_stats_print(&pr, out, &st, true);
    fclose(out);
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "pcaptrace: stats: 10 packets read (1000 bytes), 1 "
                                        "truncated, 2 malformed, 3 fragments"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "pcaptrace: 12 packets received by filter, 9 dropped "
                                        "by kernel, 0 dropped by interface"));
    const char *warn = strstr(text, "warning: the kernel dropped 5 packets");
    CU_ASSERT_PTR_NOT_NULL(warn);
    CU_ASSERT_PTR_NOT_NULL(warn ? strstr(warn, "-B 32") : NULL);
    CU_ASSERT_PTR_NULL(warn ? strstr(warn + 1, "warning:") : NULL);
    free(text);
}

int main(void)
{
    const char *root = getenv("PT_SOURCE_ROOT");
    capture_dir = g_build_filename(root ? root : ".", "tests", "captures", NULL);
    setenv("TZ", "UTC", 1);
    if (CU_initialize_registry() != CUE_SUCCESS) {
        return 1;
    }
    CU_pSuite s = CU_add_suite("capture", NULL, NULL);
    CU_add_test(s, "formats agree", test_formats_agree);
    CU_add_test(s, "counters", test_counters);
    CU_add_test(s, "truncated and malformed", test_truncated_and_malformed);
    CU_add_test(s, "fragments", test_fragments);
    CU_add_test(s, "truncated file", test_truncated_file);
    CU_add_test(s, "unsupported link type", test_unsupported_dlt);
    CU_add_test(s, "filter and open errors", test_filter);
    CU_add_test(s, "count and save", test_count_and_save);
    CU_add_test(s, "stop", test_stop);
    CU_add_test(s, "edit distance", test_edit_distance);
    CU_add_test(s, "format", test_format);
    CU_add_test(s, "statistics", test_stats_print);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures();
    CU_cleanup_registry();
    g_free(capture_dir);
    return failed == 0 ? 0 : 1;
}
