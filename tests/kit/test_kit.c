/* test_kit.c — CUnit tests of the plugin test kit (mock host) itself, driving the small
 * `lines` plugin linked in and loaded as a shared object, and feeding generated captures. */
#include <CUnit/Basic.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <pcaptrace/testkit.h>

#include "kit_capture.h"

extern const pt_plugin kit_lines_plugin;

static pt_mockhost *new_mock(const char *const *opts)
{
    char *err = NULL;
    pt_mockhost *m = pt_mock_new(&kit_lines_plugin, opts, &err);
    if (err != NULL) {
        fprintf(stderr, "pt_mock_new: %s\n", err);
        free(err);
    }
    return m;
}

static void test_options(void)
{
    char *err = NULL;
    const char *unknown[] = {"nope=1", NULL};
    CU_ASSERT_PTR_NULL(pt_mock_new(&kit_lines_plugin, unknown, &err));
    CU_ASSERT_PTR_NOT_NULL_FATAL(err);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "unknown option 'nope'"));
    free(err);

    const char *noeq[] = {"max_line", NULL};
    CU_ASSERT_PTR_NULL(pt_mock_new(&kit_lines_plugin, noeq, &err));
    CU_ASSERT_PTR_NOT_NULL(err);
    free(err);

    /* init() refusing a value reaches the caller as its message */
    const char *bad[] = {"max_line=9999", NULL};
    CU_ASSERT_PTR_NULL(pt_mock_new(&kit_lines_plugin, bad, &err));
    CU_ASSERT_PTR_NOT_NULL_FATAL(err);
    CU_ASSERT_STRING_EQUAL(err, "max_line must be 1..256");
    free(err);

    const char *ok[] = {"max_line=4", NULL};
    pt_mockhost *m = new_mock(ok);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    pt_mock_stream *s = pt_mock_stream_open(m, "10.0.0.1:40000", "10.0.0.2:7777");
    pt_mock_feed_str(s, PT_DIR_TO_SERVER, "abcdefgh\r\n");
    const pt_mock_event *e = pt_mock_find(m, "line", 0);
    CU_ASSERT_STRING_EQUAL(pt_mock_field_str(e, "text"), "abcd");
    CU_ASSERT_EQUAL(pt_mock_field_int(e, "truncated", -1), 1);
    CU_ASSERT_EQUAL(pt_mock_error_count(m), 0);
    pt_mock_free(m);
}

static void test_descriptor_checks(void)
{
    char *err = NULL;
    pt_plugin p = kit_lines_plugin;
    p.abi_version = PT_PLUGIN_ABI + 1;
    CU_ASSERT_PTR_NULL(pt_mock_new(&p, NULL, &err));
    CU_ASSERT_PTR_NOT_NULL(err && strstr(err, "ABI version 2"));
    free(err);

    p = kit_lines_plugin;
    p.struct_size = 16;
    CU_ASSERT_PTR_NULL(pt_mock_new(&p, NULL, &err));
    CU_ASSERT_PTR_NOT_NULL(err && strstr(err, "size 16"));
    free(err);

    p = kit_lines_plugin;
    p.stream_gap = NULL;
    CU_ASSERT_PTR_NULL(pt_mock_new(&p, NULL, &err));
    CU_ASSERT_PTR_NOT_NULL(err && strstr(err, "no stream_gap callback"));
    free(err);

    p = kit_lines_plugin;
    p.name = "Bad-Name";
    CU_ASSERT_PTR_NULL(pt_mock_new(&p, NULL, &err));
    CU_ASSERT_PTR_NOT_NULL(err && strstr(err, "Bad-Name"));
    free(err);

    CU_ASSERT_PTR_NULL(pt_mock_new(NULL, NULL, &err));
    CU_ASSERT_PTR_NOT_NULL(err);
    free(err);
}

static void test_stream_events(void)
{
    pt_mockhost *m = new_mock(NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    pt_mock_stream *s = pt_mock_stream_open(m, "[2001:db8::1]:50000", "[2001:db8::2]:7777");
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_EQUAL(pt_mock_host(m)->stream_server(s)->port, 7777);
    CU_ASSERT_EQUAL(pt_mock_host(m)->stream_client(s)->addr.family, 6);
    CU_ASSERT_STRING_EQUAL(pt_mock_stream_id(s), "mock-0");

    pt_mock_feed_str(s, PT_DIR_TO_SERVER, "HELLO there\r\n");
    pt_mock_clock_advance_us(m, 1500);
    pt_mock_feed_str(s, PT_DIR_TO_CLIENT, "hi\r\npart");
    CU_ASSERT_EQUAL(pt_mock_count_kind(m, "line"), 2);
    const pt_mock_event *e0 = pt_mock_find(m, "line", 0);
    const pt_mock_event *e1 = pt_mock_find(m, "line", 1);
    CU_ASSERT_STRING_EQUAL(pt_mock_field_str(e0, "text"), "HELLO there");
    CU_ASSERT_EQUAL(pt_mock_field_int(e0, "dir", -1), PT_DIR_TO_SERVER);
    CU_ASSERT_EQUAL(pt_mock_field_int(e1, "dir", -1), PT_DIR_TO_CLIENT);
    CU_ASSERT_EQUAL(e1->ts.sec, PT_MOCK_EPOCH_SEC);
    CU_ASSERT_EQUAL(e1->ts.nsec, 1500000);
    CU_ASSERT_EQUAL(pt_time_diff_us(&e1->ts, &e0->ts), 1500);
    CU_ASSERT_FALSE(pt_mock_field_has(e0, "nope"));
    CU_ASSERT_PTR_NULL(pt_mock_field_str(e0, "dir")); /* wrong type */
    CU_ASSERT_EQUAL(pt_mock_field_int(e0, "text", -7), -7);

    /* explicit timestamp, then a gap resets the partial line */
    pt_time t = pt_mock_time(1800000000, 42);
    pt_mock_gap(s, PT_DIR_TO_CLIENT, 100, &t);
    const pt_mock_event *g = pt_mock_find(m, "gap", 0);
    CU_ASSERT_EQUAL(pt_mock_field_int(g, "missing", -1), 100);
    CU_ASSERT_EQUAL(g->ts.sec, 1800000000);
    CU_ASSERT_EQUAL(g->ts.nsec, 42000);
    pt_mock_feed_str(s, PT_DIR_TO_CLIENT, "rest\r\n");
    CU_ASSERT_STRING_EQUAL(pt_mock_field_str(pt_mock_find(m, "line", 2), "text"), "rest");

    pt_mock_close(s, PT_CLOSE_FIN, NULL);
    CU_ASSERT_FALSE(pt_mock_stream_is_open(s));
    const pt_mock_event *c = pt_mock_find(m, "closed", 0);
    CU_ASSERT_EQUAL(pt_mock_field_int(c, "reason", -1), PT_CLOSE_FIN);
    CU_ASSERT_EQUAL(pt_mock_field_int(c, "lines", -1), 3);
    CU_ASSERT_EQUAL(pt_mock_event_count(m), 5);
    CU_ASSERT_EQUAL(pt_mock_error_count(m), 0);

    /* feeding a closed stream is the test's mistake, and the kit says so */
    pt_mock_feed_str(s, PT_DIR_TO_SERVER, "x\r\n");
    CU_ASSERT_EQUAL(pt_mock_error_count(m), 1);

    pt_mock_events_clear(m);
    CU_ASSERT_EQUAL(pt_mock_event_count(m), 0);
    CU_ASSERT_PTR_NULL(pt_mock_event_at(m, 0));
    pt_mock_free(m);
}

/* Byte-by-byte feeding must give the same events as one big feed. */
static void test_split_feed(void)
{
    const char *in = "HELLO\r\none\r\ntwo three\r\nfour\r\n";
    pt_mockhost *a = new_mock(NULL);
    pt_mockhost *b = new_mock(NULL);
    pt_mock_stream *sa = pt_mock_stream_open(a, "1.2.3.4:1000", "5.6.7.8:7777");
    pt_mock_stream *sb = pt_mock_stream_open(b, "1.2.3.4:1000", "5.6.7.8:7777");
    pt_mock_feed(sa, PT_DIR_TO_SERVER, in, strlen(in), NULL);
    pt_mock_feed_split(sb, PT_DIR_TO_SERVER, in, strlen(in), 1, NULL);
    CU_ASSERT_EQUAL(pt_mock_event_count(a), 4);
    CU_ASSERT_EQUAL_FATAL(pt_mock_event_count(a), pt_mock_event_count(b));
    for (size_t i = 0; i < pt_mock_event_count(a); i++) {
        CU_ASSERT_STRING_EQUAL(pt_mock_field_str(pt_mock_event_at(a, i), "text"),
                               pt_mock_field_str(pt_mock_event_at(b, i), "text"));
    }
    /* The dump of every event, every field: equal for the two runs, and what it says. */
    char *da = pt_mock_events_dump(a), *db = pt_mock_events_dump(b);
    CU_ASSERT_STRING_EQUAL(da, db);
    CU_ASSERT_PTR_NOT_NULL(
        strstr(da, "line 1700000000.000000000 text=\"HELLO\"(5) dir=0 truncated=false seq=0\n"));
    free(da);
    free(db);
    pt_mock_free(a);
    pt_mock_free(b);
}

static void test_release_and_decline(void)
{
    pt_mockhost *m = new_mock(NULL);
    CU_ASSERT_PTR_NULL(pt_mock_stream_open(m, "1.2.3.4:1000", "5.6.7.8:9"));
    CU_ASSERT_EQUAL(pt_mock_declined_count(m), 1);
    CU_ASSERT_PTR_NULL(pt_mock_stream_open(m, "1.2.3.4", "5.6.7.8:7777"));
    CU_ASSERT_EQUAL(pt_mock_error_count(m), 1);

    pt_mock_stream *s = pt_mock_stream_open(m, "1.2.3.4:1000", "5.6.7.8:7777");
    CU_ASSERT_EQUAL(pt_mock_feed_str(s, PT_DIR_TO_SERVER, "QUIT\r\n"), PT_FEED_RELEASE);
    CU_ASSERT_FALSE(pt_mock_stream_is_open(s));
    CU_ASSERT_EQUAL(pt_mock_field_int(pt_mock_find(m, "closed", 0), "reason", -1),
                    PT_CLOSE_RELEASED);
    CU_ASSERT_EQUAL(pt_mock_feed_str(s, PT_DIR_TO_SERVER, "more\r\n"), PT_FEED_RELEASE);
    CU_ASSERT_EQUAL(pt_mock_count_kind(m, "line"), 1);

    pt_mock_stream *v = pt_mock_stream_open(m, "1.2.3.4:1001", "5.6.7.8:7777");
    CU_ASSERT_EQUAL(pt_mock_feed_str(v, PT_DIR_TO_SERVER, "WRONG\r\n"), PT_FEED_VIOLATION);
    CU_ASSERT_EQUAL(pt_mock_stream_result(v), PT_FEED_VIOLATION);
    CU_ASSERT_TRUE(pt_mock_log_contains(m, PT_LOG_WARNING, "protocol violation"));
    CU_ASSERT_FALSE(pt_mock_log_contains(m, PT_LOG_ERROR, "protocol violation"));
    CU_ASSERT_EQUAL(pt_mock_log_at(m, 0)->stream_index, 1);
    CU_ASSERT_EQUAL(pt_mock_stream_count(m), 2);
    CU_ASSERT_EQUAL(pt_mock_error_count(m), 1);
    pt_mock_free(m);
}

static void test_probe(void)
{
    pt_mockhost *m = new_mock(NULL);
    CU_ASSERT_EQUAL(pt_mock_probe(m, PT_DIR_TO_SERVER, "HEL", 3), PT_PROBE_NEED_MORE);
    CU_ASSERT_EQUAL(pt_mock_probe(m, PT_DIR_TO_SERVER, "HELLO!", 6), PT_PROBE_YES);
    CU_ASSERT_EQUAL(pt_mock_probe(m, PT_DIR_TO_SERVER, "GET /", 5), PT_PROBE_NO);
    pt_mock_free(m);
}

static void test_format_text(void)
{
    pt_mockhost *m = new_mock(NULL);
    pt_mock_stream *s = pt_mock_stream_open(m, "1.2.3.4:1000", "5.6.7.8:7777");
    pt_mock_feed_str(s, PT_DIR_TO_SERVER, "a\"b\x01\xff long tail\r\n");
    char *txt = pt_mock_format_text(m, pt_mock_find(m, "line", 0));
    CU_ASSERT_STRING_EQUAL(txt, "line \"a\\\"b\\x01\\xff lo\"\xe2\x80\xa6(15 bytes)");
    free(txt);

    /* without format_text the kit renders key=value pairs, like the text sink */
    pt_plugin plain = kit_lines_plugin;
    plain.format_text = NULL;
    pt_mockhost *p = pt_mock_new(&plain, NULL, NULL);
    pt_mock_stream *ps = pt_mock_stream_open(p, "1.2.3.4:1000", "5.6.7.8:7777");
    pt_mock_feed_str(ps, PT_DIR_TO_CLIENT, "ok\r\n");
    txt = pt_mock_format_text(p, pt_mock_find(p, "line", 0));
    CU_ASSERT_STRING_EQUAL(txt, "line text=\"ok\" dir=1 truncated=false seq=0");
    free(txt);
    pt_mock_free(p);
    pt_mock_free(m);
}

/* A plugin that breaks the contract is caught, without crashing the test. */
static void test_contract_breaches(void)
{
    const char *opts[] = {"misbehave=yes", NULL};
    pt_mockhost *m = new_mock(opts);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    pt_mock_stream *s = pt_mock_stream_open(m, "1.2.3.4:1000", "5.6.7.8:7777");
    pt_mock_feed_str(s, PT_DIR_TO_SERVER, "BREAK\r\n");
    /* kind not snake_case, field name not snake_case, NULL span, duplicate field, a field
     * shadowing the envelope */
    CU_ASSERT_EQUAL(pt_mock_error_count(m), 5);
    const pt_mock_event *e = pt_mock_event_at(m, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(e);
    CU_ASSERT_EQUAL(pt_mock_field(e, "BadName")->type, PT_FIELD_NULL);
    pt_mock_free(m);
}

static void test_load_shared_object(void)
{
    const char *root = getenv("PT_BUILD_ROOT");
    if (root == NULL) {
        return;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/kit/kit-lines.so", root);
    char *err = NULL;
    const char *opts[] = {"tag=x", NULL};
    pt_mockhost *m = pt_mock_load(path, opts, &err);
    CU_ASSERT_PTR_NULL(err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    CU_ASSERT_STRING_EQUAL(pt_mock_plugin(m)->name, "lines");
    CU_ASSERT_PTR_NOT_EQUAL(pt_mock_plugin(m), &kit_lines_plugin);
    pt_mock_stream *s = pt_mock_stream_open(m, "1.2.3.4:1000", "5.6.7.8:7777");
    pt_mock_feed_str(s, PT_DIR_TO_SERVER, "HELLO\r\n");
    CU_ASSERT_EQUAL(pt_mock_count_kind(m, "line"), 1);
    pt_mock_free(m);

    CU_ASSERT_PTR_NULL(pt_mock_load("/nonexistent/x.so", NULL, &err));
    CU_ASSERT_PTR_NOT_NULL(err && strstr(err, "/nonexistent/x.so"));
    free(err);
    CU_ASSERT_PTR_NULL(pt_mock_load("libm.so.6", NULL, &err));
    CU_ASSERT_PTR_NOT_NULL(err && strstr(err, "no pt_plugin_entry"));
    free(err);
}

/* ---- capture files ------------------------------------------------------------------------- */

/* A capture with: a handshaked flow on the server port with a retransmission, a lost
 * segment and a FIN close; a mid-stream flow on another port found by probe(); a flow
 * probe() refuses; and one left open at the end of the file. */
static char *write_capture(void)
{
    char *path;
    pcap_t *dead;
    pcap_dumper_t *d = kit_capture_open(&path, &dead);
    kit_put_tcp(d, 0, 1, 40000, 2, 7777, 1000, KIT_SYN, NULL);
    kit_put_tcp(d, 100, 2, 7777, 1, 40000, 5000, KIT_SYN | KIT_ACK, NULL);
    kit_put_tcp(d, 200, 1, 40000, 2, 7777, 1001, KIT_ACK, NULL);
    kit_put_tcp(d, 300, 1, 40000, 2, 7777, 1001, KIT_ACK | KIT_PSH, "HELLO\r\n");
    kit_put_tcp(d, 400, 1, 40000, 2, 7777, 1001, KIT_ACK | KIT_PSH,
                "HELLO\r\n"); /* retransmission */
    kit_put_tcp(d, 500, 2, 7777, 1, 40000, 5001, KIT_ACK | KIT_PSH, "welcome\r\n");
    /* "lost\r\n" (6 bytes at 1008) never captured */
    kit_put_tcp(d, 700, 1, 40000, 2, 7777, 1014, KIT_ACK | KIT_PSH, "after\r\n");
    kit_put_tcp(d, 800, 3, 50000, 4, 6000, 77, KIT_ACK | KIT_PSH, "HEL"); /* probe: need more */
    kit_put_tcp(d, 900, 3, 50000, 4, 6000, 80, KIT_ACK | KIT_PSH, "LO mid\r\n"); /* probe: yes */
    kit_put_tcp(d, 950, 4, 6000, 3, 50000, 9, KIT_ACK | KIT_PSH, "ok\r\n");
    kit_put_tcp(d, 960, 5, 5000, 6, 80, 1, KIT_ACK | KIT_PSH, "GET / HTTP/1.1\r\n"); /* probe: no */
    kit_put_tcp(d, 1000, 1, 40000, 2, 7777, 1021, KIT_ACK | KIT_FIN, NULL);
    kit_put_tcp(d, 1100, 2, 7777, 1, 40000, 5010, KIT_ACK | KIT_FIN, NULL);
    kit_put_tcp(d, 1200, 1, 40000, 2, 7777, 1022, KIT_ACK, NULL);
    kit_capture_close(d, dead);
    return path;
}

static void test_feed_pcap(void)
{
    char *path = write_capture();
    pt_mockhost *m = new_mock(NULL);
    pt_mock_pcap_stats st;
    char *err = NULL;
    CU_ASSERT_EQUAL(pt_mock_feed_pcap(m, path, NULL, &st, &err), 0);
    CU_ASSERT_PTR_NULL(err);
    CU_ASSERT_EQUAL(st.packets, 14);
    CU_ASSERT_EQUAL(st.tcp_packets, 14);
    CU_ASSERT_EQUAL(st.flows, 3);
    CU_ASSERT_EQUAL(st.streams, 2);
    CU_ASSERT_EQUAL(st.old_bytes, 7);
    CU_ASSERT_EQUAL(st.gap_bytes, 6);

    /* flow 1: HELLO, welcome, gap of 6, after, closed by FIN */
    const pt_mock_event *e = pt_mock_event_at(m, 0);
    CU_ASSERT_STRING_EQUAL(pt_mock_field_str(e, "text"), "HELLO");
    CU_ASSERT_EQUAL(e->ts.nsec, 300000);
    CU_ASSERT_STRING_EQUAL(pt_mock_field_str(pt_mock_event_at(m, 1), "text"), "welcome");
    CU_ASSERT_STRING_EQUAL(pt_mock_event_at(m, 2)->kind, "gap");
    CU_ASSERT_EQUAL(pt_mock_field_int(pt_mock_event_at(m, 2), "missing", -1), 6);
    CU_ASSERT_STRING_EQUAL(pt_mock_field_str(pt_mock_event_at(m, 3), "text"), "after");
    /* flow 2: found by probe, held bytes replayed in order, client chosen by port */
    const pt_mock_event *mid = pt_mock_find(m, "line", 3);
    CU_ASSERT_STRING_EQUAL(pt_mock_field_str(mid, "text"), "HELLO mid");
    CU_ASSERT_EQUAL(mid->ts.nsec, 900000);
    CU_ASSERT_EQUAL(pt_mock_host(m)->stream_server(mid->stream)->port, 6000);
    CU_ASSERT_STRING_EQUAL(pt_mock_field_str(pt_mock_find(m, "line", 4), "text"), "ok");
    /* flow 1 ended with FIN; flow 2 at the end of the capture */
    CU_ASSERT_EQUAL(pt_mock_count_kind(m, "closed"), 2);
    const pt_mock_event *c1 = pt_mock_find(m, "closed", 0);
    const pt_mock_event *c2 = pt_mock_find(m, "closed", 1);
    CU_ASSERT_EQUAL(pt_mock_field_int(c1, "reason", -1), PT_CLOSE_FIN);
    CU_ASSERT_EQUAL(c1->stream_index, 0);
    CU_ASSERT_EQUAL(pt_mock_field_int(c2, "reason", -1), PT_CLOSE_END_OF_CAPTURE);
    CU_ASSERT_EQUAL(pt_mock_error_count(m), 0);
    pt_mock_free(m);

    /* a filter and all_ports: only the port-80 flow, given without probing */
    m = new_mock(NULL);
    pt_mock_pcap_opts o = {.all_ports = true, .filter = "tcp port 80"};
    CU_ASSERT_EQUAL(pt_mock_feed_pcap(m, path, &o, &st, NULL), 0);
    CU_ASSERT_EQUAL(st.packets, 1);
    CU_ASSERT_EQUAL(st.streams, 1);
    CU_ASSERT_STRING_EQUAL(pt_mock_field_str(pt_mock_find(m, "line", 0), "text"), "GET / HTTP/1.1");
    pt_mock_free(m);

    /* max_flows bounds the table */
    m = new_mock(NULL);
    pt_mock_pcap_opts one = {.all_ports = true, .max_flows = 1};
    CU_ASSERT_EQUAL(pt_mock_feed_pcap(m, path, &one, &st, NULL), 0);
    CU_ASSERT_EQUAL(st.flows, 1);         /* flow 1 is open until after the others */
    CU_ASSERT_EQUAL(st.flows_dropped, 4); /* every packet of the other flows */
    pt_mock_free(m);

    m = new_mock(NULL);
    CU_ASSERT_EQUAL(pt_mock_feed_pcap(m, "/nonexistent.pcap", NULL, NULL, &err), -1);
    CU_ASSERT_PTR_NOT_NULL(err);
    free(err);
    o.filter = "not a filter ((";
    CU_ASSERT_EQUAL(pt_mock_feed_pcap(m, path, &o, NULL, &err), -1);
    CU_ASSERT_PTR_NOT_NULL(err && strstr(err, "filter"));
    free(err);
    pt_mock_free(m);
    unlink(path);
    free(path);
}

/* Truncated and garbage frames are counted, never fatal. */
static void test_feed_pcap_hostile(void)
{
    char path[] = "/tmp/pt-kit-bad-XXXXXX";
    int fdesc = mkstemp(path);
    close(fdesc);
    pcap_t *dead = pcap_open_dead(DLT_EN10MB, 65535);
    pcap_dumper_t *d = pcap_dump_open(dead, path);
    uint8_t junk[64];
    for (size_t n = 0; n <= sizeof junk; n += 3) {
        for (size_t i = 0; i < n; i++) {
            junk[i] = (uint8_t)(i * 37 + n);
        }
        if (n > 14) {
            junk[12] = 0x08, junk[13] = 0x00, junk[14] = 0x4f; /* IPv4, IHL 60 */
        }
        struct pcap_pkthdr h = {{1700000000, 0}, (bpf_u_int32)n, (bpf_u_int32)n};
        pcap_dump((u_char *)d, &h, junk);
    }
    pcap_dump_close(d);
    pcap_close(dead);
    pt_mockhost *m = new_mock(NULL);
    pt_mock_pcap_stats st;
    CU_ASSERT_EQUAL(pt_mock_feed_pcap(m, path, NULL, &st, NULL), 0);
    CU_ASSERT_EQUAL(st.packets, 22);
    CU_ASSERT_EQUAL(st.undecoded, 22);
    CU_ASSERT_EQUAL(pt_mock_event_count(m), 0);
    pt_mock_free(m);
    unlink(path);
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS) {
        return 1;
    }
    CU_pSuite s = CU_add_suite("kit", NULL, NULL);
    CU_add_test(s, "options", test_options);
    CU_add_test(s, "descriptor checks", test_descriptor_checks);
    CU_add_test(s, "stream events", test_stream_events);
    CU_add_test(s, "split feed", test_split_feed);
    CU_add_test(s, "release and decline", test_release_and_decline);
    CU_add_test(s, "probe", test_probe);
    CU_add_test(s, "format text", test_format_text);
    CU_add_test(s, "contract breaches", test_contract_breaches);
    CU_add_test(s, "load shared object", test_load_shared_object);
    CU_add_test(s, "feed pcap", test_feed_pcap);
    CU_add_test(s, "feed pcap hostile", test_feed_pcap_hostile);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures();
    CU_cleanup_registry();
    return failed ? 1 : 0;
}
