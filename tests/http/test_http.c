/* test_http.c — CUnit tests of the http plugin through the plugin test kit: conversations fed
 * whole, byte by byte and split at every byte boundary of every packet must give the same
 * events; each protocol feature (keep-alive, pipelining, chunked, HEAD/204/304, 100-continue,
 * CONNECT, Upgrade, close-delimited, 0.9, gzip, resync, gaps, garbage, limits, filters). */
#include <CUnit/Basic.h>
#include <gio/gio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pcaptrace/testkit.h>

static const char *plugin_path;
static pt_mock_stream *last_stream; /* the stream of the last run() */

typedef enum { ST_DATA, ST_ADV, ST_GAP, ST_CLOSE } step_kind;

typedef struct step {
    step_kind kind;
    pt_dir dir;
    const char *data;
    size_t len; /* data bytes, or gap bytes, or microseconds */
} step;

#define C(s)                                                                                       \
    {                                                                                              \
        ST_DATA, PT_DIR_TO_SERVER, (s), sizeof(s) - 1                                              \
    }
#define S(s)                                                                                       \
    {                                                                                              \
        ST_DATA, PT_DIR_TO_CLIENT, (s), sizeof(s) - 1                                              \
    }
#define ADV(us)                                                                                    \
    {                                                                                              \
        ST_ADV, PT_DIR_TO_SERVER, NULL, (us)                                                       \
    }
#define GAP(d, n)                                                                                  \
    {                                                                                              \
        ST_GAP, (d), NULL, (n)                                                                     \
    }
#define CLOSE                                                                                      \
    {                                                                                              \
        ST_CLOSE, PT_DIR_TO_SERVER, NULL, 0                                                        \
    }
#define N(a) (sizeof(a) / sizeof((a)[0]))

static pt_mockhost *mock(const char *const *opts)
{
    char *err = NULL;
    pt_mockhost *m = pt_mock_load(plugin_path, opts, &err);
    if (m == NULL) {
        fprintf(stderr, "pt_mock_load(%s): %s\n", plugin_path, err ? err : "?");
        free(err);
    }
    return m;
}

/* Run a conversation; step `split` (if >= 0) is fed as two pieces cut at `at`, and with
 * `bytewise` every data step is fed one byte at a time. */
static pt_mockhost *run(const step *steps, size_t n, const char *const *opts, long split, size_t at,
                        bool bytewise)
{
    pt_mockhost *m = mock(opts);
    if (m == NULL) {
        return NULL;
    }
    pt_mock_stream *s = pt_mock_stream_open(m, "10.0.0.1:40000", "10.0.0.2:80");
    last_stream = s;
    for (size_t i = 0; i < n && s != NULL; i++) {
        const step *st = &steps[i];
        if (!pt_mock_stream_is_open(s) && st->kind != ST_ADV) {
            break;
        }
        switch (st->kind) {
        case ST_DATA:
            if ((long)i == split) {
                pt_mock_feed(s, st->dir, st->data, at, NULL);
                if (pt_mock_stream_is_open(s)) {
                    pt_mock_feed(s, st->dir, st->data + at, st->len - at, NULL);
                }
            } else if (bytewise) {
                pt_mock_feed_split(s, st->dir, st->data, st->len, 1, NULL);
            } else {
                pt_mock_feed(s, st->dir, st->data, st->len, NULL);
            }
            break;
        case ST_ADV:
            pt_mock_clock_advance_us(m, (int64_t)st->len);
            break;
        case ST_GAP:
            pt_mock_gap(s, st->dir, st->len, NULL);
            break;
        case ST_CLOSE:
            pt_mock_close(s, PT_CLOSE_FIN, NULL);
            break;
        }
    }
    return m;
}

/* Feed the conversation whole, byte by byte, and split at every boundary of every packet:
 * the events must not change. Returns the mock of the whole run for further checks. */
static pt_mockhost *check(const step *steps, size_t n, const char *const *opts)
{
    pt_mockhost *ref = run(steps, n, opts, -1, 0, false);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ref);
    pt_mock_stream *ref_stream = last_stream;
    CU_ASSERT_EQUAL(pt_mock_error_count(ref), 0);
    char *want = pt_mock_events_dump(ref);
    pt_mockhost *b = run(steps, n, opts, -1, 0, true);
    char *got = pt_mock_events_dump(b);
    if (strcmp(want, got) != 0) {
        fprintf(stderr, "byte-by-byte differs:\n--- whole\n%s--- bytewise\n%s", want, got);
    }
    CU_ASSERT_STRING_EQUAL(want, got);
    CU_ASSERT_EQUAL(pt_mock_error_count(b), 0);
    free(got);
    pt_mock_free(b);
    for (size_t i = 0; i < n; i++) {
        if (steps[i].kind != ST_DATA) {
            continue;
        }
        for (size_t at = 1; at < steps[i].len; at++) {
            pt_mockhost *m = run(steps, n, opts, (long)i, at, false);
            got = pt_mock_events_dump(m);
            if (strcmp(want, got) != 0) {
                fprintf(stderr, "split of step %zu at %zu differs:\n--- whole\n%s--- split\n%s", i,
                        at, want, got);
                CU_FAIL("split feed differs");
                free(got);
                pt_mock_free(m);
                goto out;
            }
            free(got);
            pt_mock_free(m);
        }
    }
out:
    free(want);
    last_stream = ref_stream;
    return ref;
}

static const char *str(const pt_mock_event *e, const char *name)
{
    const char *s = pt_mock_field_str(e, name);
    return s ? s : "(null)";
}

static int64_t num(const pt_mock_event *e, const char *name)
{
    return pt_mock_field_int(e, name, -12345);
}

static bool is_null(const pt_mock_event *e, const char *name)
{
    const pt_field *f = pt_mock_field(e, name);
    return f != NULL && f->type == PT_FIELD_NULL;
}

static void test_probe(void)
{
    pt_mockhost *m = mock(NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    static const struct {
        pt_dir dir;
        const char *data;
        pt_probe_result want;
    } cases[] = {
        {PT_DIR_TO_SERVER, "GET / HTTP/1.1\r\n", PT_PROBE_YES},
        {PT_DIR_TO_SERVER, "GET /index.html\r\n", PT_PROBE_YES},
        {PT_DIR_TO_SERVER, "POST /x HTTP/1.0\r\n", PT_PROBE_YES},
        {PT_DIR_TO_SERVER, "CONNECT example.com:443 HTTP/1.1\r\n", PT_PROBE_YES},
        {PT_DIR_TO_SERVER, "GE", PT_PROBE_NEED_MORE},
        {PT_DIR_TO_SERVER, "GET /very/long", PT_PROBE_NEED_MORE},
        {PT_DIR_TO_SERVER, "GET /x HTT", PT_PROBE_NEED_MORE},
        {PT_DIR_TO_SERVER, "OPTIONS rtsp://cam/ RTSP/1.0\r\n", PT_PROBE_NO},
        {PT_DIR_TO_SERVER, "INVITE sip:bob SIP/2.0\r\n", PT_PROBE_NO},
        {PT_DIR_TO_SERVER, "*1\r\n$4\r\nPING\r\n", PT_PROBE_NO},
        {PT_DIR_TO_SERVER, "QUERY /users HTTP/1.1\r\n", PT_PROBE_YES},
        {PT_DIR_TO_SERVER, "get / HTTP/1.1\r\n", PT_PROBE_YES},
        {PT_DIR_TO_SERVER, "GET / http/1.1\r\n", PT_PROBE_NO},
        {PT_DIR_TO_SERVER, "POST /x\r\n", PT_PROBE_NO},
        {PT_DIR_TO_SERVER, "\x16\x03\x01\x02\x00", PT_PROBE_NO},
        {PT_DIR_TO_CLIENT, "HTTP/1.1 200 OK\r\n", PT_PROBE_YES},
        {PT_DIR_TO_CLIENT, "HTTP/1.0 404", PT_PROBE_YES},
        {PT_DIR_TO_CLIENT, "HTTP/1", PT_PROBE_NEED_MORE},
        {PT_DIR_TO_CLIENT, "HTTP/2 200", PT_PROBE_NO},
        {PT_DIR_TO_CLIENT, "http/1.1 200 ok\r\n", PT_PROBE_YES},
        {PT_DIR_TO_CLIENT, "+OK\r\n", PT_PROBE_NO},
    };
    for (size_t i = 0; i < N(cases); i++) {
        pt_probe_result r = pt_mock_probe(m, cases[i].dir, cases[i].data, strlen(cases[i].data));
        if (r != cases[i].want) {
            fprintf(stderr, "probe(%s) = %d, want %d\n", cases[i].data, r, cases[i].want);
        }
        CU_ASSERT_EQUAL(r, cases[i].want);
    }
    pt_mock_free(m);
}

static void test_keepalive(void)
{
    static const step s[] = {
        C("GET /a?x=1 HTTP/1.1\r\nHost: example.com\r\nUser-Agent: t/1\r\n\r\n"),
        ADV(1500),
        S("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhel"),
        ADV(500),
        S("lo"),
        ADV(10000),
        C("GET /b HTTP/1.1\r\nHost: example.com\r\n\r\n"),
        ADV(200),
        S("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"),
        CLOSE,
    };
    pt_mockhost *m = check(s, N(s), NULL);
    CU_ASSERT_EQUAL(pt_mock_count_kind(m, "request"), 2);
    CU_ASSERT_EQUAL(pt_mock_count_kind(m, "response"), 2);
    CU_ASSERT_EQUAL(pt_mock_count_kind(m, "unanswered"), 0);
    const pt_mock_event *q = pt_mock_find(m, "request", 0);
    CU_ASSERT_STRING_EQUAL(str(q, "method"), "GET");
    CU_ASSERT_STRING_EQUAL(str(q, "uri"), "/a?x=1");
    CU_ASSERT_STRING_EQUAL(str(q, "host"), "example.com");
    CU_ASSERT_STRING_EQUAL(str(q, "version"), "1.1");
    CU_ASSERT_STRING_EQUAL(str(q, "user_agent"), "t/1");
    CU_ASSERT_EQUAL(num(q, "complete"), 1);
    CU_ASSERT_EQUAL(num(q, "header_bytes"), 59);
    const pt_mock_event *r = pt_mock_find(m, "response", 0);
    CU_ASSERT_EQUAL(num(r, "seq"), 1);
    CU_ASSERT_STRING_EQUAL(str(r, "method"), "GET");
    CU_ASSERT_STRING_EQUAL(str(r, "path"), "/a");
    CU_ASSERT_EQUAL(num(r, "status"), 200);
    CU_ASSERT_STRING_EQUAL(str(r, "reason"), "OK");
    CU_ASSERT_STRING_EQUAL(str(r, "content_type"), "text/plain");
    CU_ASSERT_EQUAL(num(r, "response_body_bytes"), 5);
    CU_ASSERT_EQUAL(num(r, "ttfb_us"), 1500);
    CU_ASSERT_EQUAL(num(r, "latency_us"), 2000);
    CU_ASSERT_EQUAL(num(r, "complete"), 1);
    CU_ASSERT_EQUAL(num(r, "paired"), 1);
    r = pt_mock_find(m, "response", 1);
    CU_ASSERT_EQUAL(num(r, "seq"), 2);
    CU_ASSERT_STRING_EQUAL(str(r, "uri"), "/b");
    CU_ASSERT_EQUAL(num(r, "status"), 404);
    CU_ASSERT_EQUAL(num(r, "latency_us"), 200);
    CU_ASSERT_EQUAL(num(r, "response_header_bytes"), 45);
    CU_ASSERT_EQUAL(num(r, "response_wire_bytes"), 45);
    r = pt_mock_find(m, "response", 0);
    CU_ASSERT_EQUAL(num(r, "response_header_bytes"), 64);
    CU_ASSERT_EQUAL(num(r, "response_wire_bytes"), 69);
    pt_mock_free(m);
}

static void test_pipelining(void)
{
    static const step s[] = {
        C("GET /1 HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n"
          "POST /3 HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\nabcd"),
        ADV(100),
        S("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n1HTTP/1.1 301 Moved\r\nContent-Length: "
          "2\r\n\r\n22"),
        ADV(100),
        S("HTTP/1.1 201 Created\r\nContent-Length: 3\r\n\r\n333"),
        CLOSE,
    };
    pt_mockhost *m = check(s, N(s), NULL);
    CU_ASSERT_EQUAL(pt_mock_count_kind(m, "response"), 3);
    static const char *uris[] = {"/1", "/2", "/3"};
    static const int status[] = {200, 301, 201};
    for (size_t i = 0; i < 3; i++) {
        const pt_mock_event *r = pt_mock_find(m, "response", i);
        CU_ASSERT_STRING_EQUAL(str(r, "uri"), uris[i]);
        CU_ASSERT_EQUAL(num(r, "status"), status[i]);
        CU_ASSERT_EQUAL(num(r, "response_body_bytes"), (int64_t)i + 1);
        CU_ASSERT_EQUAL(num(r, "seq"), (int64_t)i + 1);
    }
    CU_ASSERT_EQUAL(num(pt_mock_find(m, "response", 2), "request_body_bytes"), 4);
    CU_ASSERT_STRING_EQUAL(str(pt_mock_find(m, "response", 2), "method"), "POST");
    CU_ASSERT_EQUAL(num(pt_mock_find(m, "response", 2), "latency_us"), 200);
    pt_mock_free(m);
}

static void test_chunked_trailers(void)
{
    static const step s[] = {
        C("GET /c HTTP/1.1\r\nHost: h\r\n\r\n"),
        S("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n"
          "5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Sum: 42\r\n\r\n"),
        C("POST /up HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: "
          "chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"),
        S("HTTP/1.1 204 No Content\r\n\r\n"),
        CLOSE,
    };
    pt_mockhost *m = check(s, N(s), NULL);
    const pt_mock_event *r = pt_mock_find(m, "response", 0);
    CU_ASSERT_EQUAL(num(r, "response_body_bytes"), 11);
    CU_ASSERT_EQUAL(num(r, "complete"), 1);
    r = pt_mock_find(m, "response", 1);
    CU_ASSERT_EQUAL(num(r, "status"), 204);
    CU_ASSERT_EQUAL(num(r, "request_body_bytes"), 3);
    CU_ASSERT_EQUAL(pt_mock_count_kind(m, "unanswered"), 0);
    CU_ASSERT_EQUAL(pt_mock_count_kind(m, "parse_error"), 0);
    pt_mock_free(m);
}

static void test_no_body_responses(void)
{
    static const step s[] = {
        C("HEAD /big HTTP/1.1\r\nHost: h\r\n\r\nGET /nc HTTP/1.1\r\nHost: h\r\n\r\n"
          "GET /nm HTTP/1.1\r\nHost: h\r\nIf-None-Match: \"x\"\r\n\r\nGET /last HTTP/1.1\r\n\r\n"),
        S("HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n"
          "HTTP/1.1 204 No Content\r\nContent-Length: 7\r\n\r\n"
          "HTTP/1.1 304 Not Modified\r\nContent-Length: 999\r\n\r\n"
          "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"),
        CLOSE,
    };
    pt_mockhost *m = check(s, N(s), NULL);
    CU_ASSERT_EQUAL(pt_mock_count_kind(m, "response"), 4);
    CU_ASSERT_STRING_EQUAL(str(pt_mock_find(m, "response", 0), "method"), "HEAD");
    CU_ASSERT_EQUAL(num(pt_mock_find(m, "response", 0), "response_body_bytes"), 0);
    CU_ASSERT_EQUAL(num(pt_mock_find(m, "response", 1), "status"), 204);
    CU_ASSERT_EQUAL(num(pt_mock_find(m, "response", 2), "status"), 304);
    CU_ASSERT_STRING_EQUAL(str(pt_mock_find(m, "response", 3), "uri"), "/last");
    CU_ASSERT_EQUAL(num(pt_mock_find(m, "response", 3), "response_body_bytes"), 2);
    pt_mock_free(m);
}

static void test_100_continue(void)
{
    static const step s[] = {
        C("POST /upload HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\nExpect: 100-continue\r\n\r\n"),
        ADV(300),
        S("HTTP/1.1 100 Continue\r\n\r\n"),
        ADV(100),
        C("0123456789"),
        ADV(1000),
        S("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"),
        CLOSE,
    };
    pt_mockhost *m = check(s, N(s), NULL);
    CU_ASSERT_EQUAL(pt_mock_count_kind(m, "response"), 1);
    CU_ASSERT_EQUAL(pt_mock_count_kind(m, "request"), 1);
    const pt_mock_event *r = pt_mock_find(m, "response", 0);
    CU_ASSERT_EQUAL(num(r, "status"), 200);
    CU_ASSERT_EQUAL(num(r, "info_code"), 100);
    CU_ASSERT_EQUAL(num(r, "request_body_bytes"), 10);
    CU_ASSERT_EQUAL(num(r, "ttfb_us"), 1000);
    CU_ASSERT_EQUAL(num(pt_mock_find(m, "request", 0), "body_bytes"), 10);
    pt_mock_free(m);
}

static void test_connect(void)
{
    static const step s[] = {
        C("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n\x16\x03\x01"),
        S("HTTP/1.1 200 Connection established\r\n\r\n\x16\x03\x03"),
        C("\x17\x03\x03 more tls"),
        CLOSE,
    };
    pt_mockhost *m = check(s, N(s), NULL);
    CU_ASSERT_EQUAL(pt_mock_count_kind(m, "upgrade"), 1);
    const pt_mock_event *u = pt_mock_find(m, "upgrade", 0);
    CU_ASSERT_STRING_EQUAL(str(u, "method"), "CONNECT");
    CU_ASSERT_STRING_EQUAL(str(u, "uri"), "example.com:443");
    CU_ASSERT_STRING_EQUAL(str(u, "protocol"), "tunnel");
    CU_ASSERT_EQUAL(pt_mock_count_kind(m, "parse_error"), 0);
    CU_ASSERT_EQUAL(pt_mock_count_kind(m, "unanswered"), 0);
    CU_ASSERT_EQUAL(pt_mock_stream_count(m), 1);
    pt_mock_free(m);

    /* a refused CONNECT stays HTTP: the next request is parsed */
    static const step refused[] = {
        C("CONNECT example.com:443 HTTP/1.1\r\n\r\nGET /after HTTP/1.1\r\n\r\n"),
        S("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n"),
        S("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
        CLOSE,
    };
    m = check(refused, N(refused), NULL);
    CU_ASSERT_EQUAL(pt_mock_count_kind(m, "upgrade"), 0);
    CU_ASSERT_EQUAL(pt_mock_count_kind(m, "response"), 2);
    CU_ASSERT_STRING_EQUAL(str(pt_mock_find(m, "response", 1), "uri"), "/after");
    pt_mock_free(m);
}

static void test_upgrade(void)
{
    static const step s[] = {
        C("GET /chat HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"),
        S("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
          "\x81\x05hello"),
        C("\x81\x85\x00\x00\x00\x00hello"),
        CLOSE,
    };
    pt_mockhost *m = check(s, N(s), NULL);
    CU_ASSERT_EQUAL(pt_mock_stream_result(last_stream), PT_FEED_RELEASE);
    CU_ASSERT_EQUAL(pt_mock_count_kind(m, "response"), 1);
    CU_ASSERT_EQUAL(num(pt_mock_find(m, "response", 0), "status"), 101);
    const pt_mock_event *u = pt_mock_find(m, "upgrade", 0);
    CU_ASSERT_STRING_EQUAL(str(u, "protocol"), "websocket");
    CU_ASSERT_EQUAL(num(u, "seq"), 1);
    CU_ASSERT_EQUAL(pt_mock_count_kind(m, "parse_error"), 0);
    pt_mock_free(m);

    /* h2c upgrade offered, server answers in HTTP/1.1: keep parsing */
    static const step declined[] = {
        C("GET /1 HTTP/1.1\r\nHost: h\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n"
          "HTTP2-Settings: AAMAAABkAAQAoAAAAAIAAAAA\r\n\r\n"),
        C("GET /2 HTTP/1.1\r\nHost: h\r\n\r\n"),
        S("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nA"),
        S("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nB"),
        CLOSE,
    };
    m = check(declined, N(declined), NULL);
    CU_ASSERT_EQUAL(pt_mock_count_kind(m, "upgrade"), 0);
    CU_ASSERT_EQUAL(pt_mock_count_kind(m, "response"), 2);
    CU_ASSERT_STRING_EQUAL(str(pt_mock_find(m, "response", 1), "uri"), "/2");
    pt_mock_free(m);
}

static void test_close_delimited_and_09(void)
{
    static const step s[] = {
        C("GET /old HTTP/1.0\r\nHost: h\r\n\r\n"),
        S("HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n\r\n<html>"),
        S("</html>"),
        CLOSE,
    };
    pt_mockhost *m = check(s, N(s), NULL);
    const pt_mock_event *r = pt_mock_find(m, "response", 0);
    CU_ASSERT_EQUAL(num(r, "response_body_bytes"), 13);
    CU_ASSERT_STRING_EQUAL(str(r, "version"), "1.0");
    CU_ASSERT_EQUAL(num(r, "complete"), 1);
    CU_ASSERT_EQUAL(pt_mock_count_kind(m, "unanswered"), 0);
    pt_mock_free(m);

    static const step s09[] = {
        C("GET /ancient\r\n"),
        S("<html>raw</html>"),
        CLOSE,
    };
    m = check(s09, N(s09), NULL);
    const pt_mock_event *q = pt_mock_find(m, "request", 0);
    CU_ASSERT_STRING_EQUAL(str(q, "uri"), "/ancient");
    CU_ASSERT_STRING_EQUAL(str(q, "version"), "0.9");
    r = pt_mock_find(m, "response", 0);
    CU_ASSERT_PTR_NOT_NULL(r);
    CU_ASSERT(is_null(r, "status"));
    CU_ASSERT_EQUAL(num(r, "response_body_bytes"), 16);
    CU_ASSERT_EQUAL(pt_mock_count_kind(m, "parse_error"), 0);
    pt_mock_free(m);
}

/* gzip `text` with GLib */
static GBytes *gzip(const char *text, GZlibCompressorFormat fmt)
{
    GZlibCompressor *z = g_zlib_compressor_new(fmt, 6);
    guint8 out[4096];
    gsize r = 0, w = 0;
    GError *err = NULL;
    GConverterResult cr = g_converter_convert(G_CONVERTER(z), text, strlen(text), out, sizeof(out),
                                              G_CONVERTER_INPUT_AT_END, &r, &w, &err);
    CU_ASSERT_EQUAL(cr, G_CONVERTER_FINISHED);
    g_object_unref(z);
    return g_bytes_new(out, w);
}

static void test_gzip_bodies(void)
{
    const char *text = "The quick brown fox jumps over the lazy dog. The quick brown fox again.";
    GZlibCompressorFormat fmts[] = {G_ZLIB_COMPRESSOR_FORMAT_GZIP, G_ZLIB_COMPRESSOR_FORMAT_ZLIB,
                                    G_ZLIB_COMPRESSOR_FORMAT_RAW};
    const char *names[] = {"gzip", "deflate", "deflate"};
    for (size_t f = 0; f < N(fmts); f++) {
        GBytes *gz = gzip(text, fmts[f]);
        gsize gzlen = 0;
        const char *gzdata = g_bytes_get_data(gz, &gzlen);
        char *head =
            g_strdup_printf("HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\n"
                            "Content-Encoding: %s\r\nContent-Length: %zu\r\n\r\n",
                            names[f], gzlen);
        GByteArray *resp = g_byte_array_new();
        g_byte_array_append(resp, (const guint8 *)head, (guint)strlen(head));
        g_byte_array_append(resp, (const guint8 *)gzdata, (guint)gzlen);
        step s[] = {
            C("POST /form HTTP/1.1\r\nHost: h\r\nContent-Type: "
              "application/x-www-form-urlencoded\r\n"
              "Content-Length: 7\r\n\r\na=1&b=2"),
            {ST_DATA, PT_DIR_TO_CLIENT, (const char *)resp->data, resp->len},
            C("GET /img HTTP/1.1\r\n\r\n"),
            S("HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: 4\r\n\r\n\x89PNG"),
            CLOSE,
        };
        const char *opts[] = {"bodies=true", NULL};
        pt_mockhost *m = check(s, N(s), opts);
        CU_ASSERT_STRING_EQUAL(str(pt_mock_find(m, "request", 0), "body"), "a=1&b=2");
        const pt_mock_event *r = pt_mock_find(m, "response", 0);
        CU_ASSERT_STRING_EQUAL(str(r, "body"), text);
        CU_ASSERT_EQUAL(num(r, "response_body_bytes"), (int64_t)gzlen);
        CU_ASSERT_STRING_EQUAL(str(r, "content_encoding"), names[f]);
        CU_ASSERT_FALSE(pt_mock_field_has(pt_mock_find(m, "response", 1), "body"));
        char *line = pt_mock_format_text(m, r);
        CU_ASSERT_PTR_NOT_NULL(strstr(line, "quick brown fox"));
        free(line);
        pt_mock_free(m);

        /* a cap smaller than the text: decoded output is cut, never overflows */
        const char *small[] = {"bodies=true", "body_max=10", NULL};
        m = check(s, N(s), small);
        CU_ASSERT_EQUAL(strlen(str(pt_mock_find(m, "response", 0), "body")), 10);
        pt_mock_free(m);

        const char *all[] = {"bodies=all", NULL};
        m = run(s, N(s), all, -1, 0, false);
        CU_ASSERT_EQUAL(pt_mock_field(pt_mock_find(m, "response", 1), "body")->v.str.len, 4);
        pt_mock_free(m);
        g_byte_array_free(resp, TRUE);
        g_free(head);
        g_bytes_unref(gz);
    }
}

/* Methods llhttp does not know, and lower-case "http/1.1" status lines, as servers accept. */
static void test_odd_methods(void)
{
    static const step s[] = {
        C("QUERY /users?x HTTP/1.1\r\nHost: example.com\r\nContent-Type: application/sql\r\n"
          "Content-Length: 6\r\n\r\nSELECT"),
        S("http/1.1 200 ok\r\nContent-Length: 2\r\n\r\n[]"),
        C("\r\nX-CUSTOM_1 / HTTP/1.1\r\n\r\nPROPFIND /dav HTTP/1.1\r\nDepth: 1\r\n\r\n"),
        S("HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n"
          "HTTP/1.1 207 Multi-Status\r\nContent-Length: 1\r\n\r\nx"),
        C("ABCDEFGHIJKLMNOPQRSTUVWXYZ / HTTP/1.1\r\n\r\n"),
        CLOSE,
    };
    pt_mockhost *m = check(s, N(s), NULL);
    CU_ASSERT_EQUAL(pt_mock_count_kind(m, "response"), 3);
    const pt_mock_event *r = pt_mock_find(m, "response", 0);
    CU_ASSERT_STRING_EQUAL(str(r, "method"), "QUERY");
    CU_ASSERT_STRING_EQUAL(str(r, "uri"), "/users?x");
    CU_ASSERT_EQUAL(num(r, "status"), 200);
    CU_ASSERT_STRING_EQUAL(str(r, "reason"), "ok");
    CU_ASSERT_EQUAL(num(r, "request_body_bytes"), 6);
    CU_ASSERT_EQUAL(num(r, "response_header_bytes"), 38);
    CU_ASSERT_EQUAL(num(pt_mock_find(m, "request", 0), "header_bytes"), 96);
    CU_ASSERT_STRING_EQUAL(str(pt_mock_find(m, "response", 1), "method"), "X-CUSTOM_1");
    CU_ASSERT_STRING_EQUAL(str(pt_mock_find(m, "response", 2), "method"), "PROPFIND");
    /* a token longer than any method is not one: garbage, reported once */
    CU_ASSERT_EQUAL(pt_mock_count_kind(m, "parse_error"), 1);
    CU_ASSERT_EQUAL(pt_mock_count_kind(m, "unanswered"), 0);
    pt_mock_free(m);
}

static void test_midstream_resync(void)
{
    static const step s[] = {
        C("ue\r\nAccept: */*\r\n\r\nGET /next HTTP/1.1\r\nHost: h\r\n\r\n"),
        S("ta of an earlier body\r\nHTTP/1.1 in text\r\n"
          "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc"),
        S("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nz"),
        CLOSE,
    };
    pt_mockhost *m = check(s, N(s), NULL);
    CU_ASSERT_EQUAL(pt_mock_count_kind(m, "request"), 1);
    CU_ASSERT_EQUAL(pt_mock_count_kind(m, "response"), 2);
    CU_ASSERT_EQUAL(pt_mock_count_kind(m, "parse_error"), 0);
    /* the first response answers the request we saw; the second one has none */
    CU_ASSERT_STRING_EQUAL(str(pt_mock_find(m, "response", 0), "uri"), "/next");
    const pt_mock_event *r = pt_mock_find(m, "response", 1);
    CU_ASSERT_EQUAL(num(r, "paired"), 0);
    CU_ASSERT(is_null(r, "method"));
    CU_ASSERT(is_null(r, "seq"));
    pt_mock_free(m);
}

static void test_gaps(void)
{
    /* a gap inside a Content-Length body: the response stays whole */
    static const step body[] = {
        C("GET /big HTTP/1.1\r\nHost: h\r\n\r\n"),
        S("HTTP/1.1 200 OK\r\nContent-Length: 3000\r\n\r\n0123456789"),
        GAP(PT_DIR_TO_CLIENT, 1490),
        S("0123456789"),
        GAP(PT_DIR_TO_CLIENT, 1490),
        C("GET /next HTTP/1.1\r\n\r\n"),
        S("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx"),
        CLOSE,
    };
    pt_mockhost *m = check(body, N(body), NULL);
    CU_ASSERT_EQUAL(pt_mock_count_kind(m, "response"), 2);
    const pt_mock_event *r = pt_mock_find(m, "response", 0);
    CU_ASSERT_EQUAL(num(r, "response_body_bytes"), 3000);
    CU_ASSERT_EQUAL(num(r, "gap_bytes"), 2980);
    CU_ASSERT_EQUAL(num(r, "complete"), 1);
    CU_ASSERT_STRING_EQUAL(str(pt_mock_find(m, "response", 1), "uri"), "/next");
    pt_mock_free(m);

    /* a gap in a chunked body or in headers: resynchronise at the next message */
    static const step hdr[] = {
        C("GET /1 HTTP/1.1\r\nHost: h\r\n\r\n"),
        S("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n0123"),
        GAP(PT_DIR_TO_CLIENT, 500),
        S("89abcdef\r\n0\r\n\r\n"),
        C("GET /2 HTTP/1.1\r\nHost: h\r\n"),
        GAP(PT_DIR_TO_SERVER, 100),
        C("\r\nGET /3 HTTP/1.1\r\nHost: h\r\n\r\n"),
        S("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n2HTTP/1.1 200 OK\r\nContent-Length: "
          "1\r\n\r\n3"),
        CLOSE,
    };
    m = check(hdr, N(hdr), NULL);
    r = pt_mock_find(m, "response", 0);
    CU_ASSERT_EQUAL(num(r, "complete"), 0);
    CU_ASSERT_STRING_EQUAL(str(r, "uri"), "/1");
    CU_ASSERT_EQUAL(pt_mock_count_kind(m, "response"), 3);
    CU_ASSERT_EQUAL(pt_mock_count_kind(m, "parse_error"), 0);
    pt_mock_free(m);
}

static void test_garbage(void)
{
    char junk[3000];
    for (size_t i = 0; i < sizeof(junk); i++) {
        junk[i] = (char)((i * 7919u + 13u) % 251u);
    }
    junk[0] = 'G'; /* looks like a start, is not */
    step s[] = {
        {ST_DATA, PT_DIR_TO_SERVER, junk, sizeof(junk)},
        {ST_DATA, PT_DIR_TO_CLIENT, junk, sizeof(junk)},
        CLOSE,
    };
    const char *opts[] = {"resync_bytes=1000", NULL};
    pt_mockhost *m = run(s, N(s), opts, -1, 0, false);
    CU_ASSERT_EQUAL(pt_mock_count_kind(m, "parse_error"), 1);
    CU_ASSERT_EQUAL(pt_mock_count_kind(m, "request"), 0);
    CU_ASSERT_EQUAL(pt_mock_count_kind(m, "unanswered"), 0);
    CU_ASSERT_EQUAL(pt_mock_stream_result(last_stream), PT_FEED_VIOLATION);
    pt_mock_free(m);

    m = run(s, 1, opts, -1, 0, true);
    CU_ASSERT_EQUAL(pt_mock_count_kind(m, "parse_error"), 1);
    CU_ASSERT_EQUAL(pt_mock_error_count(m), 0);
    pt_mock_free(m);

    /* garbage after good traffic: one parse_error, then the next request is found */
    static const step mixed[] = {
        C("GET /ok HTTP/1.1\r\n\r\n"),
        S("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
        C("GET /bad HTTP/1.1\r\nHost h\r\nbroken\x01\r\n\r\n"),
        C("GET /fine HTTP/1.1\r\n\r\n"),
        S("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"),
        S("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
        CLOSE,
    };
    m = check(mixed, N(mixed), NULL);
    CU_ASSERT_EQUAL(pt_mock_count_kind(m, "parse_error"), 1);
    CU_ASSERT_STRING_EQUAL(str(pt_mock_find(m, "parse_error", 0), "direction"), "request");
    CU_ASSERT_STRING_EQUAL(str(pt_mock_find(m, "request", 1), "uri"), "/fine");
    pt_mock_free(m);
}

static void test_limits(void)
{
    static const step s[] = {
        C("GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\nGET /3 HTTP/1.1\r\n\r\n"),
        S("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
        CLOSE,
    };
    const char *opts[] = {"max_pending=2", NULL};
    pt_mockhost *m = check(s, N(s), opts);
    CU_ASSERT_EQUAL(pt_mock_count_kind(m, "unanswered"), 2);
    const pt_mock_event *u = pt_mock_find(m, "unanswered", 0);
    CU_ASSERT_STRING_EQUAL(str(u, "uri"), "/1");
    CU_ASSERT_STRING_EQUAL(str(u, "reason"), "pending_limit");
    /* /1 was given up, so the response pairs with /2 */
    CU_ASSERT_STRING_EQUAL(str(pt_mock_find(m, "response", 0), "uri"), "/2");
    u = pt_mock_find(m, "unanswered", 1);
    CU_ASSERT_STRING_EQUAL(str(u, "uri"), "/3");
    CU_ASSERT_STRING_EQUAL(str(u, "reason"), "fin");
    pt_mock_free(m);

    /* header bytes beyond the limit are counted, never stored */
    GString *big = g_string_new("GET /h HTTP/1.1\r\nHost: h\r\n");
    for (int i = 0; i < 200; i++) {
        g_string_append_printf(big, "X-Filler-%d: %0100d\r\n", i, i);
    }
    g_string_append(big, "User-Agent: late\r\n\r\n");
    step b[] = {
        {ST_DATA, PT_DIR_TO_SERVER, big->str, big->len},
        S("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
        CLOSE,
    };
    const char *small[] = {"max_header_bytes=512", "headers=true", NULL};
    m = run(b, N(b), small, -1, 0, true);
    CU_ASSERT_EQUAL(pt_mock_count_kind(m, "response"), 1);
    const pt_mock_event *q = pt_mock_find(m, "request", 0);
    CU_ASSERT_STRING_EQUAL(str(q, "host"), "h");
    CU_ASSERT(is_null(q, "user_agent"));
    const pt_field *hf = pt_mock_field(q, "headers");
    CU_ASSERT_PTR_NOT_NULL_FATAL(hf);
    CU_ASSERT(hf->v.list.count < 10);
    CU_ASSERT_EQUAL(hf->v.list.total, 202);
    CU_ASSERT_EQUAL(pt_mock_error_count(m), 0);
    pt_mock_free(m);
    g_string_free(big, TRUE);

    char *err = NULL;
    const char *bad[] = {"bodies=maybe", NULL};
    CU_ASSERT_PTR_NULL(pt_mock_load(plugin_path, bad, &err));
    CU_ASSERT_PTR_NOT_NULL(err && strstr(err, "http.bodies"));
    free(err);
    err = NULL;
    const char *badre[] = {"url=([", NULL};
    CU_ASSERT_PTR_NULL(pt_mock_load(plugin_path, badre, &err));
    CU_ASSERT_PTR_NOT_NULL(err && strstr(err, "http.url"));
    free(err);
    err = NULL;
    const char *badn[] = {"max_pending=0", NULL};
    CU_ASSERT_PTR_NULL(pt_mock_load(plugin_path, badn, &err));
    free(err);
}

static const step filter_conv[] = {
    C("GET /a HTTP/1.1\r\nHost: one.example\r\nUser-Agent: curl/8\r\n\r\n"
      "POST /b?q HTTP/1.1\r\nHost: two.example\r\nUser-Agent: wget\r\nContent-Length: 0\r\n\r\n"
      "GET /static/c.png HTTP/1.1\r\nHost: one.example\r\n\r\n"),
    S("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 0\r\n"
      "\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
    CLOSE,
};

static size_t filtered_count(const char *opt)
{
    const char *opts[] = {opt, NULL};
    pt_mockhost *m = run(filter_conv, N(filter_conv), opts, -1, 0, false);
    size_t n = pt_mock_count_kind(m, "response");
    CU_ASSERT_EQUAL(n, pt_mock_count_kind(m, "request"));
    pt_mock_free(m);
    return n;
}

static void test_filters(void)
{
    CU_ASSERT_EQUAL(filtered_count("method=^POST$"), 1);
    CU_ASSERT_EQUAL(filtered_count("ignore_method=^POST$"), 2);
    CU_ASSERT_EQUAL(filtered_count("host=^one\\."), 2);
    CU_ASSERT_EQUAL(filtered_count("ignore_host=two"), 2);
    CU_ASSERT_EQUAL(filtered_count("url=^/static/"), 1);
    CU_ASSERT_EQUAL(filtered_count("ignore_url=\\.png$"), 2);
    CU_ASSERT_EQUAL(filtered_count("user_agent=curl"), 1);
    CU_ASSERT_EQUAL(filtered_count("ignore_user_agent=curl|wget"), 1);
}

static void test_headers_and_text(void)
{
    static const step s[] = {
        C("GET /x?y=1 HTTP/1.1\r\nHost: h.example\r\nAccept: */*\r\nX-Empty:\r\n\r\n"),
        ADV(2500),
        S("HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/html\r\nContent-Length: 4\r\n"
          "Retry-After: 5\r\n\r\ndown"),
        C("GET /never HTTP/1.1\r\n\r\n"),
        CLOSE,
    };
    const char *all[] = {"headers=true", NULL};
    pt_mockhost *m = check(s, N(s), all);
    const pt_mock_event *q = pt_mock_find(m, "request", 0);
    CU_ASSERT_EQUAL(pt_mock_field_list_count(q, "headers"), 3);
    CU_ASSERT_STRING_EQUAL(pt_mock_field_list_item(q, "headers", 0), "Host: h.example");
    CU_ASSERT_STRING_EQUAL(pt_mock_field_list_item(q, "headers", 2), "X-Empty: ");
    char *line = pt_mock_format_text(m, q);
    CU_ASSERT_PTR_NOT_NULL(strstr(line, "#1 GET /x?y=1 HTTP/1.1 (h.example)"));
    CU_ASSERT_PTR_NOT_NULL(strstr(line, " | Accept: */*"));
    free(line);
    const pt_mock_event *r = pt_mock_find(m, "response", 0);
    line = pt_mock_format_text(m, r);
    CU_ASSERT_PTR_NOT_NULL(strstr(line, "#1 503 Service Unavailable text/html 4 B"));
    CU_ASSERT_PTR_NOT_NULL(strstr(line, "ttfb 2.500 ms"));
    CU_ASSERT_PTR_NOT_NULL(strstr(line, "Retry-After: 5"));
    free(line);
    pt_mock_set_color(m, true);
    line = pt_mock_format_text(m, r);
    CU_ASSERT_PTR_NOT_NULL(strstr(line, "\033[31m503"));
    free(line);
    const pt_mock_event *u = pt_mock_find(m, "unanswered", 0);
    line = pt_mock_format_text(m, u);
    CU_ASSERT_STRING_EQUAL(line, "#2 GET /never unanswered (fin)");
    free(line);
    pt_mock_free(m);

    const char *some[] = {"show_header=(?i)^content-", NULL};
    m = run(s, N(s), some, -1, 0, false);
    r = pt_mock_find(m, "response", 0);
    CU_ASSERT_EQUAL(pt_mock_field_list_count(r, "headers"), 2);
    CU_ASSERT_STRING_EQUAL(pt_mock_field_list_item(r, "headers", 1), "Content-Length: 4");
    CU_ASSERT_EQUAL(pt_mock_field_list_count(pt_mock_find(m, "request", 0), "headers"), 0);
    pt_mock_free(m);

    m = run(s, N(s), NULL, -1, 0, false);
    CU_ASSERT_FALSE(pt_mock_field_has(pt_mock_find(m, "response", 0), "headers"));
    pt_mock_free(m);
}

/* Many keep-alive transactions on one stream: state stays bounded and pairing exact. */
static void test_many(void)
{
    pt_mockhost *m = mock(NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    pt_mock_stream *s = pt_mock_stream_open(m, "10.0.0.1:40000", "10.0.0.2:80");
    char req[128], resp[256];
    for (int i = 0; i < 5000; i++) {
        snprintf(req, sizeof(req), "GET /item/%d HTTP/1.1\r\nHost: h\r\n\r\n", i);
        snprintf(resp, sizeof(resp), "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%0*d", i % 50,
                 i % 50, 0);
        pt_mock_feed_str(s, PT_DIR_TO_SERVER, req);
        pt_mock_clock_advance_us(m, 10);
        pt_mock_feed(s, PT_DIR_TO_CLIENT, resp, strlen(resp) - (i % 50 == 0 ? 1 : 0), NULL);
    }
    pt_mock_close(s, PT_CLOSE_FIN, NULL);
    CU_ASSERT_EQUAL(pt_mock_count_kind(m, "response"), 5000);
    const pt_mock_event *r = pt_mock_find(m, "response", 4321);
    CU_ASSERT_STRING_EQUAL(str(r, "uri"), "/item/4321");
    CU_ASSERT_EQUAL(num(r, "response_body_bytes"), 4321 % 50);
    CU_ASSERT_EQUAL(num(r, "ttfb_us"), 10);
    CU_ASSERT_EQUAL(pt_mock_error_count(m), 0);
    pt_mock_free(m);
}

/* Hostile input: valid conversations with bytes flipped, inserted and dropped, fed in random
 * pieces with random gaps and options. The plugin must stay within the kit's contract (and
 * AddressSanitizer's) whatever it makes of them. */
static const char *const fuzz_client[] = {
    "GET /a HTTP/1.1\r\nHost: h\r\n\r\n",
    "POST /p HTTP/1.1\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\nhello",
    "PUT /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nT: 1\r\n\r\n",
    "HEAD /h HTTP/1.0\r\n\r\n",
    "CONNECT x:443 HTTP/1.1\r\n\r\n",
    "GET /ws HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
    "GET /09\r\n",
};
static const char *const fuzz_server[] = {
    "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc",
    "HTTP/1.1 100 Continue\r\n\r\n",
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Encoding: gzip\r\n\r\n"
    "a\r\n\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03\r\n0\r\n\r\n",
    "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil close",
    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
    "HTTP/1.1 204 No Content\r\n\r\n",
    "HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n",
};

static uint32_t fuzz_rand(uint32_t *state)
{
    *state = *state * 1103515245u + 12345u;
    return *state >> 8;
}

static void fuzz_build(GByteArray *b, const char *const *parts, size_t n_parts, uint32_t *r)
{
    g_byte_array_set_size(b, 0);
    size_t n = 1 + fuzz_rand(r) % 6;
    for (size_t i = 0; i < n; i++) {
        const char *p = parts[fuzz_rand(r) % n_parts];
        g_byte_array_append(b, (const guint8 *)p, (guint)strlen(p));
    }
    size_t edits = fuzz_rand(r) % 4;
    for (size_t i = 0; i < edits && b->len > 0; i++) {
        size_t at = fuzz_rand(r) % b->len;
        switch (fuzz_rand(r) % 3) {
        case 0:
            b->data[at] = (guint8)fuzz_rand(r);
            break;
        case 1:
            g_byte_array_set_size(b, b->len + 1);
            memmove(b->data + at + 1, b->data + at, b->len - at - 1);
            b->data[at] = (guint8)fuzz_rand(r);
            break;
        default: {
            size_t cut = 1 + fuzz_rand(r) % 16;
            g_byte_array_remove_range(b, (guint)at, (guint)MIN(b->len - at, cut));
        }
        }
    }
}

static void test_fuzz(void)
{
    static const char *const opts[][4] = {
        {NULL},
        {"bodies=all", "headers=true", NULL},
        {"max_pending=1", "max_header_bytes=256", "body_max=1", NULL},
        {"resync_bytes=16", "bodies=true", NULL},
    };
    uint32_t r = 6;
    GByteArray *c = g_byte_array_new(), *sv = g_byte_array_new();
    for (int iter = 0; iter < 1500; iter++) {
        pt_mockhost *m = mock(opts[iter % 4]);
        CU_ASSERT_PTR_NOT_NULL_FATAL(m);
        pt_mock_stream *s = pt_mock_stream_open(m, "10.0.0.1:40000", "10.0.0.2:80");
        fuzz_build(c, fuzz_client, N(fuzz_client), &r);
        fuzz_build(sv, fuzz_server, N(fuzz_server), &r);
        size_t ci = 0, si = 0;
        while (pt_mock_stream_is_open(s) && (ci < c->len || si < sv->len)) {
            bool client = si >= sv->len || (ci < c->len && fuzz_rand(&r) % 2);
            GByteArray *b = client ? c : sv;
            size_t *at = client ? &ci : &si;
            size_t piece = 1 + fuzz_rand(&r) % 40;
            size_t k = MIN(b->len - *at, piece);
            pt_dir dir = client ? PT_DIR_TO_SERVER : PT_DIR_TO_CLIENT;
            if (fuzz_rand(&r) % 17 == 0) {
                pt_mock_gap(s, dir, k, NULL);
            } else {
                pt_mock_feed(s, dir, b->data + *at, k, NULL);
            }
            *at += k;
            pt_mock_clock_advance_us(m, fuzz_rand(&r) % 1000);
        }
        if (pt_mock_stream_is_open(s)) {
            pt_mock_close(s, (pt_close_reason)(fuzz_rand(&r) % 5), NULL);
        }
        for (size_t i = 0; i < pt_mock_event_count(m); i++) {
            free(pt_mock_format_text(m, pt_mock_event_at(m, i)));
        }
        CU_ASSERT_EQUAL(pt_mock_error_count(m), 0);
        pt_mock_free(m);
    }
    g_byte_array_free(c, TRUE);
    g_byte_array_free(sv, TRUE);
}

int main(int argc, char **argv)
{
    plugin_path = argc > 1 ? argv[1] : getenv("PT_HTTP_PLUGIN");
    if (plugin_path == NULL) {
        fprintf(stderr, "usage: test_http PATH/pcaptrace-http.so\n");
        return 2;
    }
    if (CU_initialize_registry() != CUE_SUCCESS) {
        return 1;
    }
    CU_pSuite s = CU_add_suite("http", NULL, NULL);
    CU_add_test(s, "probe", test_probe);
    CU_add_test(s, "keep-alive", test_keepalive);
    CU_add_test(s, "pipelining", test_pipelining);
    CU_add_test(s, "chunked with trailers", test_chunked_trailers);
    CU_add_test(s, "HEAD/204/304", test_no_body_responses);
    CU_add_test(s, "100-continue", test_100_continue);
    CU_add_test(s, "CONNECT", test_connect);
    CU_add_test(s, "Upgrade/101", test_upgrade);
    CU_add_test(s, "close-delimited and 0.9", test_close_delimited_and_09);
    CU_add_test(s, "gzip/deflate bodies", test_gzip_bodies);
    CU_add_test(s, "odd methods and status lines", test_odd_methods);
    CU_add_test(s, "mid-stream resync", test_midstream_resync);
    CU_add_test(s, "gaps", test_gaps);
    CU_add_test(s, "garbage", test_garbage);
    CU_add_test(s, "limits and options", test_limits);
    CU_add_test(s, "filters", test_filters);
    CU_add_test(s, "headers and text", test_headers_and_text);
    CU_add_test(s, "many transactions", test_many);
    CU_add_test(s, "hostile input", test_fuzz);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
    CU_cleanup_registry();
    return failed ? 1 : 0;
}
