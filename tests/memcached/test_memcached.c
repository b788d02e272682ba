/* test_memcached.c — unit tests of the memcached example plugin (examples/memcached/) driven
 * through the plugin test kit: request/response pairing, data blocks, noreply, meta quiet
 * mode, gaps, limits, detection and hostile input (memcached doc/protocol.txt). */
#include <CUnit/Basic.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pcaptrace/testkit.h>
#ifdef PT_TESTKIT_CORE
#include "pt_mockcore.h"
#endif

const pt_plugin *pt_plugin_entry(void);

#define C2S PT_DIR_TO_SERVER
#define S2C PT_DIR_TO_CLIENT

static pt_mockhost *mock_opts(const char *const *opts)
{
    char *err = NULL;
    pt_mockhost *m = pt_mock_new(pt_plugin_entry(), opts, &err);
    if (err != NULL) {
        fprintf(stderr, "pt_mock_new: %s\n", err);
        free(err);
    }
    return m;
}

static pt_mockhost *mock(void)
{
    return mock_opts(NULL);
}

static pt_mock_stream *open_stream(pt_mockhost *m)
{
    return pt_mock_stream_open(m, "10.1.1.1:50123", "10.1.1.2:11211");
}

/* Send a request, advance the clock by `us`, send the response. */
static void exchange(pt_mockhost *m, pt_mock_stream *s, const char *req, int64_t us,
                     const char *resp)
{
    CU_ASSERT_EQUAL(pt_mock_feed_str(s, C2S, req), PT_FEED_OK);
    pt_mock_clock_advance_us(m, us);
    if (resp != NULL) {
        CU_ASSERT_EQUAL(pt_mock_feed_str(s, S2C, resp), PT_FEED_OK);
    }
}

static const pt_mock_event *cmd(pt_mockhost *m, size_t i)
{
    return pt_mock_find(m, "command", i);
}

static void assert_clean(pt_mockhost *m)
{
    CU_ASSERT_EQUAL(pt_mock_count_kind(m, "parse_error"), 0);
    CU_ASSERT_EQUAL(pt_mock_error_count(m), 0);
}

static void test_get_hit_and_miss(void)
{
    pt_mockhost *m = mock();
    pt_mock_stream *s = open_stream(m);
    exchange(m, s, "get user:1\r\n", 250, "VALUE user:1 3 5\r\nhello\r\nEND\r\n");
    exchange(m, s, "get nope\r\n", 90, "END\r\n");
    CU_ASSERT_EQUAL_FATAL(pt_mock_count_kind(m, "command"), 2);
    const pt_mock_event *e = cmd(m, 0);
    CU_ASSERT_STRING_EQUAL(pt_mock_field_str(e, "command"), "get");
    CU_ASSERT_STRING_EQUAL(pt_mock_field_str(e, "key"), "user:1");
    CU_ASSERT_EQUAL(pt_mock_field_list_count(e, "keys"), 1);
    CU_ASSERT_EQUAL(pt_mock_field_int(e, "hits", -1), 1);
    CU_ASSERT_EQUAL(pt_mock_field_int(e, "bytes", -1), 5);
    CU_ASSERT_STRING_EQUAL(pt_mock_field_str(e, "result"), "END");
    CU_ASSERT_EQUAL(pt_mock_field_int(e, "latency_us", -1), 250);
    CU_ASSERT_EQUAL(pt_mock_field_int(e, "noreply", -1), 0);
    CU_ASSERT_EQUAL(e->ts.sec, PT_MOCK_EPOCH_SEC);
    CU_ASSERT_EQUAL(e->ts.nsec, 0);
    e = cmd(m, 1);
    CU_ASSERT_EQUAL(pt_mock_field_int(e, "hits", -1), 0);
    CU_ASSERT_EQUAL(pt_mock_field_int(e, "latency_us", -1), 90);
    assert_clean(m);
    pt_mock_free(m);
}

static void test_multiget(void)
{
    pt_mockhost *m = mock();
    pt_mock_stream *s = open_stream(m);
    exchange(m, s, "gets a b c\r\n", 10,
             "VALUE a 0 2 11\r\naa\r\nVALUE c 0 3 12\r\nccc\r\nEND\r\n");
    const pt_mock_event *e = cmd(m, 0);
    CU_ASSERT_EQUAL(pt_mock_field_list_count(e, "keys"), 3);
    CU_ASSERT_STRING_EQUAL(pt_mock_field_list_item(e, "keys", 2), "c");
    CU_ASSERT_EQUAL(pt_mock_field_int(e, "hits", -1), 2);
    CU_ASSERT_EQUAL(pt_mock_field_int(e, "bytes", -1), 5);
    /* gat: the exptime comes first, keys after it */
    exchange(m, s, "gat 300 k1 k2\r\n", 10, "VALUE k2 0 1\r\nx\r\nEND\r\n");
    e = cmd(m, 1);
    CU_ASSERT_STRING_EQUAL(pt_mock_field_str(e, "key"), "k1");
    CU_ASSERT_EQUAL(pt_mock_field_list_count(e, "keys"), 2);
    assert_clean(m);
    pt_mock_free(m);
}

static void test_storage(void)
{
    pt_mockhost *m = mock();
    pt_mock_stream *s = open_stream(m);
    /* a value that contains CRLF and protocol words must not be parsed */
    exchange(m, s, "set k 0 0 12\r\nEND\r\nget x\r\n\r\n", 40, "STORED\r\n");
    exchange(m, s, "add k 0 0 1\r\nz\r\n", 5, "NOT_STORED\r\n");
    exchange(m, s, "cas k 0 0 1 99\r\nz\r\n", 5, "EXISTS\r\n");
    exchange(m, s, "append k 0 0 0\r\n\r\n", 5, "STORED\r\n");
    exchange(m, s, "replace zz 1 2 3\r\nabc\r\n", 5, "NOT_STORED\r\n");
    CU_ASSERT_EQUAL_FATAL(pt_mock_count_kind(m, "command"), 5);
    const pt_mock_event *e = cmd(m, 0);
    CU_ASSERT_STRING_EQUAL(pt_mock_field_str(e, "command"), "set");
    CU_ASSERT_EQUAL(pt_mock_field_int(e, "bytes", -1), 12);
    CU_ASSERT_STRING_EQUAL(pt_mock_field_str(e, "result"), "STORED");
    CU_ASSERT_EQUAL(pt_mock_field_int(e, "latency_us", -1), 40);
    CU_ASSERT_FALSE(pt_mock_field_has(e, "keys"));
    CU_ASSERT_STRING_EQUAL(pt_mock_field_str(cmd(m, 1), "result"), "NOT_STORED");
    CU_ASSERT_STRING_EQUAL(pt_mock_field_str(cmd(m, 2), "command"), "cas");
    CU_ASSERT_STRING_EQUAL(pt_mock_field_str(cmd(m, 2), "result"), "EXISTS");
    CU_ASSERT_EQUAL(pt_mock_field_int(cmd(m, 3), "bytes", -1), 0);
    CU_ASSERT_STRING_EQUAL(pt_mock_field_str(cmd(m, 4), "key"), "zz");
    assert_clean(m);
    pt_mock_free(m);
}

static void test_noreply(void)
{
    pt_mockhost *m = mock();
    pt_mock_stream *s = open_stream(m);
    pt_mock_feed_str(s, C2S, "set a 0 0 1 noreply\r\n1\r\ndelete b noreply\r\nget a\r\n");
    CU_ASSERT_EQUAL(pt_mock_count_kind(m, "command"), 2); /* reported at once */
    const pt_mock_event *e = cmd(m, 0);
    CU_ASSERT_EQUAL(pt_mock_field_int(e, "noreply", -1), 1);
    CU_ASSERT_EQUAL(pt_mock_field(e, "result")->type, PT_FIELD_NULL);
    CU_ASSERT_EQUAL(pt_mock_field(e, "latency_us")->type, PT_FIELD_NULL);
    CU_ASSERT_STRING_EQUAL(pt_mock_field_str(cmd(m, 1), "command"), "delete");
    pt_mock_clock_advance_us(m, 7);
    pt_mock_feed_str(s, S2C, "VALUE a 0 1\r\n1\r\nEND\r\n");
    e = cmd(m, 2);
    CU_ASSERT_STRING_EQUAL(pt_mock_field_str(e, "command"), "get");
    CU_ASSERT_EQUAL(pt_mock_field_int(e, "latency_us", -1), 7);
    /* quit is never answered */
    pt_mock_feed_str(s, C2S, "quit\r\n");
    CU_ASSERT_STRING_EQUAL(pt_mock_field_str(cmd(m, 3), "command"), "quit");
    pt_mock_close(s, PT_CLOSE_FIN, NULL);
    CU_ASSERT_EQUAL(pt_mock_count_kind(m, "unanswered"), 0);
    assert_clean(m);
    pt_mock_free(m);
}

static void test_simple_commands(void)
{
    pt_mockhost *m = mock();
    pt_mock_stream *s = open_stream(m);
    exchange(m, s, "delete k\r\n", 1, "DELETED\r\n");
    exchange(m, s, "incr ctr 5\r\n", 1, "42\r\n");
    exchange(m, s, "decr nope 1\r\n", 1, "NOT_FOUND\r\n");
    exchange(m, s, "touch k 10\r\n", 1, "TOUCHED\r\n");
    exchange(m, s, "version\r\n", 1, "VERSION 1.6.18\r\n");
    exchange(m, s, "flush_all\r\n", 1, "OK\r\n");
    exchange(m, s, "verbosity 1\r\n", 1, "OK\r\n");
    exchange(m, s, "stats\r\n", 1, "STAT pid 1\r\nSTAT uptime 5\r\nSTAT cmd_get 0\r\nEND\r\n");
    exchange(m, s, "stats reset\r\n", 1, "RESET\r\n");
    CU_ASSERT_EQUAL_FATAL(pt_mock_count_kind(m, "command"), 9);
    CU_ASSERT_STRING_EQUAL(pt_mock_field_str(cmd(m, 0), "result"), "DELETED");
    CU_ASSERT_STRING_EQUAL(pt_mock_field_str(cmd(m, 1), "result"), "NUMBER");
    CU_ASSERT_EQUAL(pt_mock_field_int(cmd(m, 1), "value", -1), 42);
    CU_ASSERT_STRING_EQUAL(pt_mock_field_str(cmd(m, 2), "result"), "NOT_FOUND");
    CU_ASSERT_STRING_EQUAL(pt_mock_field_str(cmd(m, 3), "result"), "TOUCHED");
    CU_ASSERT_STRING_EQUAL(pt_mock_field_str(cmd(m, 4), "version"), "1.6.18");
    CU_ASSERT_EQUAL(pt_mock_field(cmd(m, 4), "key")->type, PT_FIELD_NULL);
    CU_ASSERT_EQUAL(pt_mock_field_int(cmd(m, 7), "lines", -1), 3);
    CU_ASSERT_STRING_EQUAL(pt_mock_field_str(cmd(m, 8), "result"), "RESET");
    assert_clean(m);
    pt_mock_free(m);
}

static void test_errors(void)
{
    pt_mockhost *m = mock();
    pt_mock_stream *s = open_stream(m);
    exchange(m, s, "get a\r\n", 1, "END\r\n");
    exchange(m, s, "bogus thing\r\n", 1, "ERROR\r\n");
    exchange(m, s, "set k 0 0 abc\r\n", 1, "CLIENT_ERROR bad command line format\r\n");
    exchange(m, s, "set big 0 0 2\r\nxx\r\n", 1, "SERVER_ERROR object too large for cache\r\n");
    CU_ASSERT_EQUAL_FATAL(pt_mock_count_kind(m, "command"), 4);
    const pt_mock_event *e = cmd(m, 1);
    CU_ASSERT_STRING_EQUAL(pt_mock_field_str(e, "command"), "bogus");
    CU_ASSERT_STRING_EQUAL(pt_mock_field_str(e, "result"), "ERROR");
    e = cmd(m, 2);
    CU_ASSERT_STRING_EQUAL(pt_mock_field_str(e, "result"), "CLIENT_ERROR");
    CU_ASSERT_STRING_EQUAL(pt_mock_field_str(e, "error"), "bad command line format");
    CU_ASSERT_STRING_EQUAL(pt_mock_field_str(cmd(m, 3), "error"), "object too large for cache");
    /* the bad storage line is reported, and no data block was expected after it */
    CU_ASSERT_EQUAL(pt_mock_count_kind(m, "parse_error"), 1);
    CU_ASSERT_STRING_EQUAL(pt_mock_field_str(pt_mock_find(m, "parse_error", 0), "dir"), "request");
    /* a response nobody asked for */
    pt_mock_feed_str(s, S2C, "STORED\r\n");
    const pt_mock_event *pe = pt_mock_find(m, "parse_error", 1);
    CU_ASSERT_STRING_EQUAL(pt_mock_field_str(pe, "reason"), "response without a request");
    CU_ASSERT_STRING_EQUAL(pt_mock_field_str(pe, "line"), "STORED");
    CU_ASSERT_EQUAL(pt_mock_error_count(m), 0);
    pt_mock_free(m);
}

static void test_pipelined(void)
{
    pt_mockhost *m = mock();
    pt_mock_stream *s = open_stream(m);
    GString *req = g_string_new(NULL), *resp = g_string_new(NULL);
    for (int i = 0; i < 100; i++) {
        int n = i % 7 + 1;
        g_string_append_printf(req, "set key%d 0 0 %d\r\n%.*s\r\nget key%d\r\n", i, n, n, "abcdefg",
                               i);
        g_string_append_printf(resp, "STORED\r\nVALUE key%d 0 %d\r\n%.*s\r\nEND\r\n", i, n, n,
                               "gfedcba");
    }
    pt_mock_feed(s, C2S, req->str, req->len, NULL);
    CU_ASSERT_EQUAL(pt_mock_count_kind(m, "command"), 0);
    pt_mock_clock_advance_us(m, 500);
    pt_mock_feed(s, S2C, resp->str, resp->len, NULL);
    CU_ASSERT_EQUAL_FATAL(pt_mock_count_kind(m, "command"), 200);
    for (int i = 0; i < 100; i++) {
        char key[16];
        snprintf(key, sizeof key, "key%d", i);
        const pt_mock_event *set = cmd(m, (size_t)i * 2), *get = cmd(m, (size_t)i * 2 + 1);
        CU_ASSERT_STRING_EQUAL(pt_mock_field_str(set, "key"), key);
        CU_ASSERT_STRING_EQUAL(pt_mock_field_str(get, "key"), key);
        CU_ASSERT_EQUAL(pt_mock_field_int(get, "bytes", -1), i % 7 + 1);
        CU_ASSERT_EQUAL(pt_mock_field_int(get, "latency_us", -1), 500);
    }
    assert_clean(m);
    g_string_free(req, TRUE);
    g_string_free(resp, TRUE);
    pt_mock_free(m);
}

/* Feeding one byte at a time, or in odd pieces, gives the same events as whole buffers. */
static void test_split_everywhere(void)
{
    const char *req = "get a b\r\nset k 0 0 5\r\nhe\r\no\r\nmg k v k\r\nincr n 1\r\n"
                      "stats\r\nms x 3 T0\r\nabc\r\n";
    const char *resp = "VALUE b 0 2\r\nbb\r\nEND\r\nSTORED\r\nVA 5 kk\r\nhe\r\no\r\n2\r\n"
                       "STAT a b\r\nEND\r\nHD\r\n";
    pt_mockhost *whole = mock();
    pt_mock_stream *sw = open_stream(whole);
    pt_mock_feed_str(sw, C2S, req);
    pt_mock_feed_str(sw, S2C, resp);
    size_t n = pt_mock_event_count(whole);
    CU_ASSERT_EQUAL(n, 6);
    assert_clean(whole);
    for (size_t chunk = 1; chunk <= 7; chunk++) {
        pt_mockhost *m = mock();
        pt_mock_stream *s = open_stream(m);
        pt_mock_feed_split(s, C2S, req, strlen(req), chunk, NULL);
        pt_mock_feed_split(s, S2C, resp, strlen(resp), chunk, NULL);
        CU_ASSERT_EQUAL_FATAL(pt_mock_event_count(m), n);
        for (size_t i = 0; i < n; i++) {
            char *a = pt_mock_format_text(whole, pt_mock_event_at(whole, i));
            char *b = pt_mock_format_text(m, pt_mock_event_at(m, i));
            CU_ASSERT_STRING_EQUAL(a, b);
            free(a);
            free(b);
        }
        assert_clean(m);
        pt_mock_free(m);
    }
    pt_mock_free(whole);
}

static void test_meta(void)
{
    pt_mockhost *m = mock();
    pt_mock_stream *s = open_stream(m);
    exchange(m, s, "mg foo v t\r\n", 3, "VA 5 t-1\r\nhello\r\n");
    exchange(m, s, "mg bar v\r\n", 3, "EN\r\n");
    exchange(m, s, "ms foo 2 T60\r\nhi\r\n", 3, "HD\r\n");
    exchange(m, s, "md foo\r\n", 3, "HD\r\n");
    exchange(m, s, "mn\r\n", 3, "MN\r\n");
    CU_ASSERT_EQUAL_FATAL(pt_mock_count_kind(m, "command"), 5);
    const pt_mock_event *e = cmd(m, 0);
    CU_ASSERT_STRING_EQUAL(pt_mock_field_str(e, "command"), "mg");
    CU_ASSERT_STRING_EQUAL(pt_mock_field_str(e, "result"), "VA");
    CU_ASSERT_EQUAL(pt_mock_field_int(e, "hits", -1), 1);
    CU_ASSERT_EQUAL(pt_mock_field_int(e, "bytes", -1), 5);
    CU_ASSERT_EQUAL(pt_mock_field_int(e, "latency_us", -1), 3);
    CU_ASSERT_STRING_EQUAL(pt_mock_field_str(cmd(m, 1), "result"), "EN");
    CU_ASSERT_EQUAL(pt_mock_field_int(cmd(m, 2), "bytes", -1), 2);
    CU_ASSERT_STRING_EQUAL(pt_mock_field_str(cmd(m, 2), "result"), "HD");
    CU_ASSERT_STRING_EQUAL(pt_mock_field_str(cmd(m, 4), "result"), "MN");
    assert_clean(m);
    pt_mock_free(m);
}

/* Quiet (q) requests answer only what is not suppressed; an MN flushes the batch and
 * opaque tokens tell the answers apart. */
static void test_meta_quiet(void)
{
    pt_mockhost *m = mock();
    pt_mock_stream *s = open_stream(m);
    pt_mock_feed_str(s, C2S, "mg a v q O1\r\nmg b v q O2\r\nmg c v q O3\r\nmn\r\n");
    pt_mock_clock_advance_us(m, 20);
    /* a: miss (EN suppressed), b: hit, c: miss */
    pt_mock_feed_str(s, S2C, "VA 2 O2\r\nbb\r\nMN\r\n");
    CU_ASSERT_EQUAL_FATAL(pt_mock_count_kind(m, "command"), 4);
    const pt_mock_event *a = cmd(m, 0), *b = cmd(m, 1), *c = cmd(m, 2), *mn = cmd(m, 3);
    CU_ASSERT_STRING_EQUAL(pt_mock_field_str(a, "key"), "a");
    CU_ASSERT_EQUAL(pt_mock_field(a, "result")->type, PT_FIELD_NULL);
    CU_ASSERT_EQUAL(pt_mock_field_int(a, "noreply", -1), 1);
    CU_ASSERT_STRING_EQUAL(pt_mock_field_str(b, "key"), "b");
    CU_ASSERT_STRING_EQUAL(pt_mock_field_str(b, "result"), "VA");
    CU_ASSERT_STRING_EQUAL(pt_mock_field_str(b, "opaque"), "2");
    CU_ASSERT_EQUAL(pt_mock_field_int(b, "latency_us", -1), 20);
    CU_ASSERT_STRING_EQUAL(pt_mock_field_str(c, "key"), "c");
    CU_ASSERT_EQUAL(pt_mock_field(c, "result")->type, PT_FIELD_NULL);
    CU_ASSERT_STRING_EQUAL(pt_mock_field_str(mn, "command"), "mn");
    /* quiet sets: HD suppressed, NS shown */
    pt_mock_feed_str(s, C2S, "ms x 1 q\r\n1\r\nms y 1 q\r\n2\r\nmn\r\n");
    pt_mock_feed_str(s, S2C, "NS\r\nMN\r\n");
    CU_ASSERT_EQUAL_FATAL(pt_mock_count_kind(m, "command"), 7);
    CU_ASSERT_STRING_EQUAL(pt_mock_field_str(cmd(m, 4), "result"), "NS");
    CU_ASSERT_EQUAL(pt_mock_field(cmd(m, 5), "result")->type, PT_FIELD_NULL);
    assert_clean(m);
    pt_mock_free(m);
}

static void test_gaps(void)
{
    pt_mockhost *m = mock();
    pt_mock_stream *s = open_stream(m);
    /* bytes lost inside a value: the position is still known, pairing goes on */
    pt_mock_feed_str(s, C2S, "get big\r\n");
    pt_mock_feed_str(s, S2C, "VALUE big 0 1000\r\n0123456789");
    pt_mock_gap(s, S2C, 980, NULL);
    pt_mock_feed_str(s, S2C, "0123456789\r\nEND\r\n");
    CU_ASSERT_EQUAL(pt_mock_field_int(cmd(m, 0), "bytes", -1), 1000);
    CU_ASSERT_EQUAL(pt_mock_count_kind(m, "unanswered"), 0);
    /* bytes lost in a command line: what waits is given up, parsing resumes at a command */
    pt_mock_feed_str(s, C2S, "get k1\r\nget k");
    pt_mock_gap(s, C2S, 50, NULL);
    CU_ASSERT_EQUAL(pt_mock_count_kind(m, "unanswered"), 1);
    CU_ASSERT_STRING_EQUAL(pt_mock_field_str(pt_mock_find(m, "unanswered", 0), "reason"), "gap");
    pt_mock_feed_str(s, C2S, "ey\r\n");
    pt_mock_feed_str(s, S2C, "END\r\nEND\r\n"); /* answers to requests lost in the gap */
    CU_ASSERT_EQUAL(pt_mock_count_kind(m, "parse_error"), 0);
    CU_ASSERT_EQUAL(pt_mock_count_kind(m, "command"), 1);
    pt_mock_feed_str(s, C2S, "get k3\r\n");
    pt_mock_clock_advance_us(m, 100);
    pt_mock_close(s, PT_CLOSE_RST, NULL);
    CU_ASSERT_EQUAL(pt_mock_count_kind(m, "unanswered"), 2);
    const pt_mock_event *u = pt_mock_find(m, "unanswered", 1);
    CU_ASSERT_STRING_EQUAL(pt_mock_field_str(u, "reason"), "rst");
    CU_ASSERT_EQUAL(pt_mock_field_int(u, "waited_us", -1), 100);
    /* a gap inside a request's data block keeps the request */
    pt_mock_stream *s2 = open_stream(m);
    pt_mock_feed_str(s2, C2S, "set v 0 0 100\r\nabc");
    pt_mock_gap(s2, C2S, 90, NULL);
    pt_mock_feed_str(s2, C2S, "1234567\r\n");
    pt_mock_feed_str(s2, S2C, "STORED\r\n");
    const pt_mock_event *e = pt_mock_find(m, "command", 1);
    CU_ASSERT_STRING_EQUAL(pt_mock_field_str(e, "command"), "set");
    CU_ASSERT_EQUAL(pt_mock_field_int(e, "bytes", -1), 100);
    CU_ASSERT_EQUAL(pt_mock_error_count(m), 0);
    pt_mock_free(m);
}

static void test_unanswered_on_close(void)
{
    pt_mockhost *m = mock();
    pt_mock_stream *s = open_stream(m);
    pt_mock_feed_str(s, C2S, "get a\r\nset b 0 0 1\r\nx\r\n");
    pt_mock_clock_advance_us(m, 1000);
    pt_mock_close(s, PT_CLOSE_END_OF_CAPTURE, NULL);
    CU_ASSERT_EQUAL_FATAL(pt_mock_count_kind(m, "unanswered"), 2);
    const pt_mock_event *u = pt_mock_find(m, "unanswered", 1);
    CU_ASSERT_STRING_EQUAL(pt_mock_field_str(u, "command"), "set");
    CU_ASSERT_STRING_EQUAL(pt_mock_field_str(u, "key"), "b");
    CU_ASSERT_EQUAL(pt_mock_field_int(u, "bytes", -1), 1);
    CU_ASSERT_STRING_EQUAL(pt_mock_field_str(u, "reason"), "end_of_capture");
    CU_ASSERT_EQUAL(pt_mock_field_int(u, "waited_us", -1), 1000);
    /* a request whose data block never finished is reported too */
    pt_mock_stream *s2 = open_stream(m);
    pt_mock_feed_str(s2, C2S, "set c 0 0 10\r\nab");
    pt_mock_close(s2, PT_CLOSE_FIN, NULL);
    CU_ASSERT_EQUAL(pt_mock_count_kind(m, "unanswered"), 3);
    assert_clean(m);
    pt_mock_free(m);
}

static void test_not_memcached(void)
{
    pt_mockhost *m = mock();
    pt_mock_stream *s = open_stream(m);
    CU_ASSERT_EQUAL(pt_mock_feed_str(s, C2S, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
                    PT_FEED_VIOLATION);
    CU_ASSERT_FALSE(pt_mock_stream_is_open(s));
    pt_mock_stream *s2 = open_stream(m);
    const uint8_t bin[] = {0x80, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00, '\n'};
    CU_ASSERT_EQUAL(pt_mock_feed(s2, C2S, bin, sizeof bin, NULL), PT_FEED_VIOLATION);
    pt_mock_stream *s3 = open_stream(m);
    CU_ASSERT_EQUAL(pt_mock_feed_str(s3, S2C, "+OK\r\n"), PT_FEED_VIOLATION);
    CU_ASSERT_EQUAL(pt_mock_error_count(m), 0);
    pt_mock_free(m);
}

static void test_probe(void)
{
    pt_mockhost *m = mock();
    struct {
        pt_dir dir;
        const char *data;
        pt_probe_result want;
    } cases[] = {
        {C2S, "get foo\r\n", PT_PROBE_YES},
        {C2S, "set foo 0 0 5\r\nhello\r\n", PT_PROBE_YES},
        {C2S, "set foo 0 0 x\r\n", PT_PROBE_NO},
        {C2S, "set foo\r\n", PT_PROBE_NO},
        {C2S, "mg foo v\r\n", PT_PROBE_YES},
        {C2S, "stats\r\n", PT_PROBE_YES},
        {C2S, "ge", PT_PROBE_NEED_MORE},
        {C2S, "get fo", PT_PROBE_NEED_MORE},
        {C2S, "GET / HTTP/1.1\r\n", PT_PROBE_NO},
        {C2S, "*2\r\n$3\r\nGET\r\n", PT_PROBE_NO},
        {C2S, "hello world\r\n", PT_PROBE_NO},
        {S2C, "VALUE k 0 5\r\n", PT_PROBE_YES},
        {S2C, "STORED\r\n", PT_PROBE_YES},
        {S2C, "END\r\n", PT_PROBE_YES},
        {S2C, "STAT pid 1\r\n", PT_PROBE_YES},
        {S2C, "OK\r\n", PT_PROBE_NO},
        {S2C, "ERROR\r\n", PT_PROBE_NO},
        {S2C, "+PONG\r\n", PT_PROBE_NO},
        {S2C, "HTTP/1.1 200 OK\r\n", PT_PROBE_NO},
        {S2C, "VAL", PT_PROBE_NEED_MORE},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        pt_probe_result r = pt_mock_probe(m, cases[i].dir, cases[i].data, strlen(cases[i].data));
        if (r != cases[i].want) {
            fprintf(stderr, "probe case %zu (%s): got %d\n", i, cases[i].data, (int)r);
        }
        CU_ASSERT_EQUAL(r, cases[i].want);
    }
    char longline[600];
    memset(longline, 'a', sizeof longline);
    CU_ASSERT_EQUAL(pt_mock_probe(m, C2S, longline, sizeof longline), PT_PROBE_NO);
    pt_mock_free(m);
}

static void test_limits(void)
{
    const char *opts[] = {"max_line_bytes=32", "max_pending=3", "max_keys=2", "max_key_bytes=4",
                          NULL};
    pt_mockhost *m = mock_opts(opts);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    pt_mock_stream *s = open_stream(m);
    /* a line longer than max_line_bytes, split over packets */
    pt_mock_feed_str(s, C2S, "get alpha beta gamma delta epsilon");
    pt_mock_feed_str(s, C2S, " zeta eta theta\r\n");
    pt_mock_feed_str(s, S2C, "END\r\n");
    const pt_mock_event *e = cmd(m, 0);
    CU_ASSERT_EQUAL(pt_mock_field_int(e, "truncated", -1), 1);
    CU_ASSERT_EQUAL(pt_mock_field_list_count(e, "keys"), 2);
    CU_ASSERT_STRING_EQUAL(pt_mock_field_list_item(e, "keys", 0), "alph");
    const pt_field *keys = pt_mock_field(e, "keys");
    CU_ASSERT_EQUAL(keys->v.list.total, 5); /* the keys within the first 32 bytes */
    CU_ASSERT_EQUAL(keys->v.list.items[0].full_len, 5);
    /* the same in one packet */
    pt_mock_feed_str(s, C2S, "get alpha beta gamma delta epsilon zeta eta theta\r\n");
    pt_mock_feed_str(s, S2C, "END\r\n");
    CU_ASSERT_EQUAL(pt_mock_field_int(cmd(m, 1), "truncated", -1), 1);
    /* a storage line cut at the limit reads no data block; a cut response line is dropped */
    pt_mock_feed_str(s, C2S, "set a_very_long_key_that_goes_past_32 0 0 5\r\nget x\r\n");
    pt_mock_feed_str(s, S2C, "CLIENT_ERROR line too long\r\nEND\r\n");
    CU_ASSERT_STRING_EQUAL(pt_mock_field_str(pt_mock_find(m, "parse_error", 0), "reason"),
                           "storage command line too long");
    CU_ASSERT_STRING_EQUAL(pt_mock_field_str(cmd(m, 2), "result"), "CLIENT_ERROR");
    CU_ASSERT_STRING_EQUAL(pt_mock_field_str(cmd(m, 3), "key"), "x");
    pt_mock_feed_str(s, C2S, "get y\r\n");
    pt_mock_feed_str(s, S2C, "VALUE y_with_a_line_longer_than_32_bytes 0 1\r\nz\r\nEND\r\n");
    CU_ASSERT_STRING_EQUAL(pt_mock_field_str(pt_mock_find(m, "parse_error", 1), "reason"),
                           "response line too long");
    CU_ASSERT_STRING_EQUAL(pt_mock_field_str(cmd(m, 4), "result"), "END");
    CU_ASSERT_EQUAL(pt_mock_count_kind(m, "parse_error"), 2);
    pt_mock_events_clear(m);
    /* more waiting requests than max_pending: the oldest are given up */
    pt_mock_feed_str(s, C2S, "get 1\r\nget 2\r\nget 3\r\nget 4\r\nget 5\r\n");
    CU_ASSERT_EQUAL(pt_mock_count_kind(m, "unanswered"), 2);
    CU_ASSERT_STRING_EQUAL(pt_mock_field_str(pt_mock_find(m, "unanswered", 0), "reason"),
                           "queue_full");
    CU_ASSERT_STRING_EQUAL(pt_mock_field_str(pt_mock_find(m, "unanswered", 0), "key"), "1");
    pt_mock_feed_str(s, S2C, "END\r\nEND\r\n");
    CU_ASSERT_STRING_EQUAL(pt_mock_field_str(cmd(m, 0), "key"), "3");
    CU_ASSERT_STRING_EQUAL(pt_mock_field_str(cmd(m, 1), "key"), "4");
    CU_ASSERT_EQUAL(pt_mock_error_count(m), 0);
    pt_mock_free(m);

    char *err = NULL;
    const char *bad[] = {"max_pending=0", NULL};
    CU_ASSERT_PTR_NULL(pt_mock_new(pt_plugin_entry(), bad, &err));
    CU_ASSERT_PTR_NOT_NULL(err && strstr(err, "max_pending"));
    free(err);
    const char *bad2[] = {"max_key_bytes=300", NULL};
    CU_ASSERT_PTR_NULL(pt_mock_new(pt_plugin_entry(), bad2, &err));
    free(err);
    const char *unknown[] = {"max_bogus=1", NULL};
    CU_ASSERT_PTR_NULL(pt_mock_new(pt_plugin_entry(), unknown, &err));
    free(err);
}

static void test_watch_releases(void)
{
    pt_mockhost *m = mock();
    pt_mock_stream *s = open_stream(m);
    pt_mock_feed_str(s, C2S, "watch\r\n");
    CU_ASSERT_EQUAL(pt_mock_feed_str(s, S2C, "OK\r\nts=1 gid=2 type=item_get\r\n"),
                    PT_FEED_RELEASE);
    CU_ASSERT_STRING_EQUAL(pt_mock_field_str(cmd(m, 0), "command"), "watch");
    assert_clean(m);
    pt_mock_free(m);
}

static void test_format_text(void)
{
    pt_mockhost *m = mock();
    pt_mock_stream *s = open_stream(m);
    exchange(m, s, "get a b c\r\n", 85, "VALUE a 0 2\r\nxx\r\nVALUE b 0 3\r\nyyy\r\nEND\r\n");
    exchange(m, s, "set k 0 0 5\r\nhello\r\n", 40, "STORED\r\n");
    exchange(m, s, "incr n 1\r\n", 2, "8\r\n");
    exchange(m, s, "set k 0 0 x\r\n", 2, "CLIENT_ERROR bad command line format\r\n");
    pt_mock_feed_str(s, C2S, "delete k noreply\r\nget \x01z\r\n");
    pt_mock_close(s, PT_CLOSE_FIN, NULL);
    const char *want[] = {
        "get a b c -> END 2/3 hits 5 bytes 85us",
        "set k -> STORED 5 bytes 40us",
        "incr n -> 8 2us",
        "parse error (request): bad storage command line \"set k 0 0 x\"",
        "set k -> CLIENT_ERROR \"bad command line format\" 2us",
        "delete k (noreply)",
        "parse error (request): control bytes in line \"get \\x01z\"",
    };
    CU_ASSERT_EQUAL_FATAL(pt_mock_event_count(m), sizeof want / sizeof want[0]);
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        char *t = pt_mock_format_text(m, pt_mock_event_at(m, i));
        if (strcmp(t, want[i]) != 0) {
            fprintf(stderr, "line %zu: got '%s'\n", i, t);
        }
        CU_ASSERT_STRING_EQUAL(t, want[i]);
        free(t);
    }
    pt_mock_set_color(m, true);
    pt_mock_stream *s2 = open_stream(m);
    exchange(m, s2, "get a\r\n", 1, "END\r\n");
    exchange(m, s2, "nope\r\n", 1, "ERROR\r\n");
    char *t = pt_mock_format_text(m, pt_mock_find(m, "command", 6));
    CU_ASSERT_STRING_EQUAL(t, "nope -> \x1b[31mERROR\x1b[0m 1us");
    free(t);
    pt_mock_free(m);
}

/* Deterministic garbage after a valid start: never a crash, never a contract breach, and
 * memory stays bounded by the options (checked under ASan/LSan by the sanitizer build). */
static void test_hostile(void)
{
    const char *opts[] = {"max_line_bytes=64", "max_pending=16", NULL};
    pt_mockhost *m = mock_opts(opts);
    uint32_t x = 12345;
    for (int round = 0; round < 200; round++) {
        pt_mock_stream *s = open_stream(m);
        pt_mock_feed_str(s, C2S, "get a\r\n");
        pt_mock_feed_str(s, S2C, "END\r\n");
        uint8_t buf[512];
        for (int k = 0; k < 8 && pt_mock_stream_is_open(s); k++) {
            size_t n = 1 + (x % sizeof buf);
            for (size_t i = 0; i < n; i++) {
                x = x * 1103515245u + 12345u;
                /* mostly protocol-like bytes so the parsers go deep */
                static const char alphabet[] = "get set VALUE END 0 1 5 \r\n\r\nmg VA HD q O";
                buf[i] = (x >> 24) % 5 == 0 ? (uint8_t)(x >> 16)
                                            : (uint8_t)alphabet[(x >> 16) % (sizeof alphabet - 1)];
            }
            pt_mock_feed(s, (pt_dir)(x & 1), buf, n, NULL);
            if ((x >> 8) % 7 == 0 && pt_mock_stream_is_open(s)) {
                pt_mock_gap(s, (pt_dir)((x >> 3) & 1), x % 100000, NULL);
            }
        }
        if (pt_mock_stream_is_open(s)) {
            pt_mock_close(s, PT_CLOSE_TIMEOUT, NULL);
        }
        pt_mock_events_clear(m);
    }
    CU_ASSERT_EQUAL(pt_mock_error_count(m), 0);
    pt_mock_free(m);
}

static void test_shared_object(void)
{
    const char *root = getenv("PT_BUILD_ROOT");
    if (root == NULL) {
        return;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/memcached/pcaptrace-memcached.so", root);
    char *err = NULL;
    pt_mockhost *m = pt_mock_load(path, NULL, &err);
    CU_ASSERT_PTR_NULL(err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    CU_ASSERT_STRING_EQUAL(pt_mock_plugin(m)->name, "memcached");
    CU_ASSERT_EQUAL(pt_mock_plugin(m)->server_ports[0], 11211);
    pt_mock_stream *s = open_stream(m);
    exchange(m, s, "get x\r\n", 5, "END\r\n");
    CU_ASSERT_EQUAL(pt_mock_count_kind(m, "command"), 1);
    assert_clean(m);
    pt_mock_free(m);
}

/* A capture recorded from a real memcached server (tests/captures/, see its script). */
static void test_capture(void)
{
    const char *src = getenv("PT_SOURCE_ROOT");
    if (src == NULL) {
        return;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/captures/memcached-text-basic.pcap", src);
    FILE *f = fopen(path, "rb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fclose(f);
    pt_mockhost *m = mock();
    pt_mock_pcap_stats st;
    char *err = NULL;
    CU_ASSERT_EQUAL_FATAL(pt_mock_feed_pcap(m, path, NULL, &st, &err), 0);
    CU_ASSERT_EQUAL(st.streams, 1);
    CU_ASSERT_EQUAL(st.gap_bytes, 0);
    /* the script's session: set, get hit, get miss, two-key get, set noreply, incr, delete,
     * stats, quit */
    CU_ASSERT_EQUAL_FATAL(pt_mock_count_kind(m, "command"), 9);
    CU_ASSERT_STRING_EQUAL(pt_mock_field_str(cmd(m, 0), "result"), "STORED");
    CU_ASSERT_EQUAL(pt_mock_field_int(cmd(m, 1), "hits", -1), 1);
    CU_ASSERT_EQUAL(pt_mock_field_int(cmd(m, 1), "bytes", -1), 5);
    CU_ASSERT_EQUAL(pt_mock_field_int(cmd(m, 2), "hits", -1), 0);
    CU_ASSERT_EQUAL(pt_mock_field_int(cmd(m, 3), "hits", -1), 1);
    CU_ASSERT_EQUAL(pt_mock_field_list_count(cmd(m, 3), "keys"), 2);
    CU_ASSERT_EQUAL(pt_mock_field_int(cmd(m, 4), "noreply", -1), 1);
    CU_ASSERT_EQUAL(pt_mock_field_int(cmd(m, 5), "value", -1), 6);
    CU_ASSERT_STRING_EQUAL(pt_mock_field_str(cmd(m, 6), "result"), "DELETED");
    CU_ASSERT(pt_mock_field_int(cmd(m, 7), "lines", -1) > 10);
    CU_ASSERT_STRING_EQUAL(pt_mock_field_str(cmd(m, 8), "command"), "quit");
    for (size_t i = 0; i < 8; i++) {
        if (i != 4) {
            CU_ASSERT(pt_mock_field_int(cmd(m, i), "latency_us", -1) >= 0);
        }
    }
    CU_ASSERT_EQUAL(pt_mock_count_kind(m, "unanswered"), 0);
    assert_clean(m);
    pt_mock_free(m);
}

#ifdef PT_TESTKIT_CORE
/* The recorded capture through the core's own reassembly gives the same events as through
 * the kit's simple feeder (the capture has no loss or reordering). */
static void test_capture_core(void)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/captures/memcached-text-basic.pcap",
             getenv("PT_SOURCE_ROOT") ? getenv("PT_SOURCE_ROOT") : ".");
    pt_mockhost *a = mock(), *b = mock();
    CU_ASSERT_EQUAL_FATAL(pt_mock_feed_pcap(a, path, NULL, NULL, NULL), 0);
    CU_ASSERT_EQUAL_FATAL(pt_mock_feed_pcap_core(b, path, NULL, NULL, NULL), 0);
    CU_ASSERT_EQUAL(pt_mock_count_kind(b, "command"), 9);
    CU_ASSERT_EQUAL_FATAL(pt_mock_event_count(a), pt_mock_event_count(b));
    for (size_t i = 0; i < pt_mock_event_count(a); i++) {
        char *ta = pt_mock_format_text(a, pt_mock_event_at(a, i));
        char *tb = pt_mock_format_text(b, pt_mock_event_at(b, i));
        CU_ASSERT_STRING_EQUAL(ta, tb);
        free(ta);
        free(tb);
    }
    assert_clean(b);
    pt_mock_free(a);
    pt_mock_free(b);
}
#endif

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS) {
        return 1;
    }
    CU_pSuite s = CU_add_suite("memcached", NULL, NULL);
    CU_add_test(s, "get hit and miss", test_get_hit_and_miss);
    CU_add_test(s, "multiget", test_multiget);
    CU_add_test(s, "storage", test_storage);
    CU_add_test(s, "noreply", test_noreply);
    CU_add_test(s, "simple commands", test_simple_commands);
    CU_add_test(s, "errors", test_errors);
    CU_add_test(s, "pipelined", test_pipelined);
    CU_add_test(s, "split everywhere", test_split_everywhere);
    CU_add_test(s, "meta", test_meta);
    CU_add_test(s, "meta quiet", test_meta_quiet);
    CU_add_test(s, "gaps", test_gaps);
    CU_add_test(s, "unanswered on close", test_unanswered_on_close);
    CU_add_test(s, "not memcached", test_not_memcached);
    CU_add_test(s, "probe", test_probe);
    CU_add_test(s, "limits", test_limits);
    CU_add_test(s, "watch releases", test_watch_releases);
    CU_add_test(s, "format text", test_format_text);
    CU_add_test(s, "hostile", test_hostile);
    CU_add_test(s, "shared object", test_shared_object);
    CU_add_test(s, "capture", test_capture);
#ifdef PT_TESTKIT_CORE
    CU_add_test(s, "capture through the core", test_capture_core);
#endif
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures();
    CU_cleanup_registry();
    return failed ? 1 : 0;
}
