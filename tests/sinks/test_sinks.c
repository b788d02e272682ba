/* test_sinks.c — unit tests of the escaping (UTF-8 validation, JSON, base64, text), the text
 * line (time of day, endpoints, formatter, colour, shortening) and the JSON envelope. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "escape.h"
#include "events.h"
#include "sink.h"

static void test_utf8_valid(void)
{
    /* Against GLib's validator on random short strings (GLib rejects NUL: avoid it). */
    GRand *r = g_rand_new_with_seed(42);
    for (int i = 0; i < 200000; i++) {
        uint8_t b[6];
        size_t n = (size_t)g_rand_int_range(r, 1, 7);
        for (size_t k = 0; k < n; k++) {
            b[k] = (uint8_t)g_rand_int_range(r, 1, 256);
            if (g_rand_boolean(r))
                b[k] = (uint8_t)(0x80 | (b[k] & 0x3f)); /* many continuation bytes */
        }
        bool mine = pt_escape_utf8_valid(b, n);
        bool glib = g_utf8_validate((const char *)b, (gssize)n, NULL);
        if (mine != glib) {
            fprintf(stderr, "\n  mismatch on %zu bytes starting %02x\n", n, b[0]);
            CU_FAIL("utf8 validity differs from GLib");
            break;
        }
    }
    g_rand_free(r);
    CU_ASSERT_FALSE(pt_escape_utf8_valid((const uint8_t *)"\xc0\xaf", 2));
    CU_ASSERT_FALSE(pt_escape_utf8_valid((const uint8_t *)"\xed\xa0\x80", 3));
    CU_ASSERT_FALSE(pt_escape_utf8_valid((const uint8_t *)"\xf4\x90\x80\x80", 4));
    CU_ASSERT_TRUE(pt_escape_utf8_valid((const uint8_t *)"\xf4\x8f\xbf\xbf", 4));
    CU_ASSERT_TRUE(pt_escape_utf8_valid((const uint8_t *)"a\0b", 3));
}

static void test_base64(void)
{
    uint8_t buf[300];
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (uint8_t)(i * 37 + 11);
    GString *out = g_string_new(NULL);
    for (size_t n = 0; n <= sizeof buf; n++) {
        g_string_truncate(out, 0);
        pt_escape_base64(out, buf, n);
        g_autofree char *want = g_base64_encode(buf, n);
        CU_ASSERT_STRING_EQUAL(out->str, want);
    }
    g_string_free(out, TRUE);
}

static void test_json_escape(void)
{
    GString *out = g_string_new(NULL);
    CU_ASSERT_TRUE(pt_escape_json(out, (const uint8_t *)"a\"b\\c\n\x01\x7f", 8));
    CU_ASSERT_STRING_EQUAL(out->str, "a\\\"b\\\\c\\n\\u0001\x7f");
    g_string_truncate(out, 0);
    CU_ASSERT_FALSE(pt_escape_json(out, (const uint8_t *)"x\xffy", 3));
    CU_ASSERT_STRING_EQUAL(out->str, "x\xef\xbf\xbdy");
    g_string_truncate(out, 0);
    CU_ASSERT_TRUE(pt_escape_json(out, (const uint8_t *)"\xe2\x80\xa8", 3));
    CU_ASSERT_STRING_EQUAL(out->str, "\\u2028");
    /* Whatever the input, the output is valid UTF-8 without raw control characters. */
    GRand *r = g_rand_new_with_seed(1);
    uint8_t b[64];
    for (int i = 0; i < 20000; i++) {
        for (size_t k = 0; k < sizeof b; k++)
            b[k] = (uint8_t)g_rand_int(r);
        g_string_truncate(out, 0);
        pt_escape_json(out, b, sizeof b);
        CU_ASSERT_TRUE(g_utf8_validate(out->str, (gssize)out->len, NULL));
        for (size_t k = 0; k < out->len; k++)
            if ((uint8_t)out->str[k] < 0x20) {
                CU_FAIL("raw control character in JSON");
                break;
            }
    }
    g_rand_free(r);
    g_string_free(out, TRUE);
}

static void test_text_escape(void)
{
    GString *out = g_string_new(NULL);
    pt_escape_text(out, (const uint8_t *)"a\"b\\\r\n\t\x1b[31m\xc2\x85\xc3\xa9\xff", 17, true);
    CU_ASSERT_STRING_EQUAL(out->str, "a\\\"b\\\\\\r\\n\\t\\x1b[31m\\xc2\\x85\xc3\xa9\\xff");
    g_string_truncate(out, 0);
    pt_escape_text(out, (const uint8_t *)"say \"hi\"", 8, false);
    CU_ASSERT_STRING_EQUAL(out->str, "say \"hi\"");
    g_string_free(out, TRUE);
}

static pt_endpoint ep(uint8_t last, uint16_t port)
{
    pt_endpoint e = {{4, {10, 0, 0, last}}, port};
    return e;
}

static void formatter(void *ctx, const pt_event *ev, pt_text *t)
{
    pt_text_printf(t, "%s <%s> ", (const char *)ctx, ev->kind);
    pt_text_span(t, ev->fields[0].v.str, 5, true);
    pt_text_printf(t, " two\nlines");
}

static void test_text_line(void)
{
    pt_endpoint c = ep(1, 40000), s = ep(2, 6379);
    pt_envelope env = {.proto = "redis", .flow_id = "7", .client = &c, .server = &s};
    static const char value[] = "GET key\x00\x01";
    pt_field f[] = {PT_F_STR("cmd", PT_SPAN(value, 9)), PT_F_INT("n", -3), PT_F_BOOL("ok", true),
                    PT_F_DOUBLE("ms", 1.5)};
    pt_event ev = {.kind = "command", .ts = {1700000000, 123456789}, .fields = f, .n_fields = 4};
    pt_text t = {.buf = g_string_new(NULL), .color = false, .max_bytes = 256};
    pt_sink_text_render(&t, &env, &ev);
    CU_ASSERT_STRING_EQUAL(t.buf->str, "22:13:20.123456 10.0.0.1:40000 -> 10.0.0.2:6379 redis "
                                       "command cmd=\"GET key\\x00\\x01\" n=-3 ok=true ms=1.5\n");
    /* Shortening: at most max_bytes shown, then the full length. */
    g_string_truncate(t.buf, 0);
    t.max_bytes = 4;
    pt_sink_text_render(&t, &env, &ev);
    CU_ASSERT_PTR_NOT_NULL(strstr(t.buf->str, "cmd=\"GET \"\xe2\x80\xa6(9 bytes)"));
    /* The producer's formatter, kept on one line. */
    g_string_truncate(t.buf, 0);
    env.format_text = formatter;
    env.format_ctx = "ctx";
    pt_sink_text_render(&t, &env, &ev);
    CU_ASSERT_STRING_EQUAL(t.buf->str, "22:13:20.123456 10.0.0.1:40000 -> 10.0.0.2:6379 ctx "
                                       "<command> \"GET k\"\xe2\x80\xa6(9 bytes) two lines\n");
    /* Colour only when asked. */
    CU_ASSERT_PTR_NULL(strchr(t.buf->str, '\x1b'));
    g_string_truncate(t.buf, 0);
    env.format_text = NULL;
    t.color = true;
    pt_sink_text_render(&t, &env, &ev);
    CU_ASSERT_PTR_NOT_NULL(strchr(t.buf->str, '\x1b'));
    g_string_free(t.buf, TRUE);
}

static void test_json_envelope(void)
{
    pt_endpoint c = {{6, {0x20, 0x01, 0x0d, 0xb8, [15] = 1}}, 5000}, s = ep(2, 80);
    pt_envelope env = {.proto = "http", .flow_id = "12", .client = &c, .server = &s};
    pt_field f[] = {PT_F_STR("path", ((pt_span){(const uint8_t *)"/abc", 4, 400})),
                    PT_F_UINT("status", 200)};
    pt_event ev = {.kind = "request", .ts = {1700000000, 5000}, .fields = f, .n_fields = 2};
    GString *out = g_string_new(NULL);
    pt_sink_json_render(out, &env, &ev);
    CU_ASSERT_STRING_EQUAL(out->str,
                           "{\"ts\":1700000000.000005,\"flow\":\"12\",\"proto\":\"http\","
                           "\"event\":\"request\",\"client\":\"[2001:db8::1]:5000\","
                           "\"server\":\"10.0.0.2:80\",\"path\":\"/abc\",\"path_full_len\":400,"
                           "\"status\":200}");
    g_string_truncate(out, 0);
    ev.ts = (pt_time){-3, 500000000}; /* -2.5 s */
    ev.n_fields = 0;
    pt_sink_json_render(out, &env, &ev);
    CU_ASSERT_TRUE(g_str_has_prefix(out->str, "{\"ts\":-2.500000,"));
    g_string_free(out, TRUE);
}

/* Sinks buffer: many events, one file, complete after the bus is freed. */
static void test_file_sinks(void)
{
    g_autofree char *dir = g_dir_make_tmp("pt-sinks-XXXXXX", NULL);
    g_autofree char *j = g_build_filename(dir, "e.jsonl", NULL);
    g_autofree char *t = g_build_filename(dir, "e.txt", NULL);
    g_autofree char *js = g_strconcat("json:", j, NULL);
    g_autofree char *ts = g_strconcat("text:", t, NULL);
    char *sinks[] = {js, ts, NULL};
    pt_events_config cfg = {.format = "none", .sinks = sinks};
    GError *err = NULL;
    pt_events *bus = pt_events_new(&cfg, NULL, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(bus);
    pt_endpoint c = ep(1, 1), s = ep(2, 2);
    pt_envelope env = {.proto = "x", .flow_id = "1", .client = &c, .server = &s};
    for (int i = 0; i < 10000; i++) {
        pt_field f[] = {PT_F_INT("i", i)};
        pt_event ev = {.kind = "tick", .ts = {i, 0}, .fields = f, .n_fields = 1};
        pt_events_emit(bus, &env, &ev);
    }
    pt_events_stats st;
    pt_events_get_stats(bus, &st);
    CU_ASSERT_EQUAL(st.events, 10000);
    CU_ASSERT_EQUAL(st.sink_dropped, 0);
    pt_events_free(bus);
    gchar *data;
    gsize n;
    CU_ASSERT_FATAL(g_file_get_contents(j, &data, &n, NULL));
    int lines = 0;
    for (gsize i = 0; i < n; i++)
        lines += data[i] == '\n';
    CU_ASSERT_EQUAL(lines, 10000);
    CU_ASSERT_PTR_NOT_NULL(strstr(data, "{\"ts\":9999.000000,"));
    g_free(data);
    CU_ASSERT_FATAL(g_file_get_contents(t, &data, &n, NULL));
    CU_ASSERT_PTR_NOT_NULL(strstr(data, "00:00:01.000000 10.0.0.1:1 -> 10.0.0.2:2 x tick i=1\n"));
    g_free(data);
    g_unlink(j);
    g_unlink(t);
    g_rmdir(dir);

    /* Bad specs are setup errors. */
    const char *bad[] = {"json",     "xml:foo",       "json:",          "json:/nonexistent-dir/x",
                         "redis://", "redis://h:0/x", "redis://h:99999"};
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        char *one[] = {(char *)bad[i], NULL};
        pt_events_config b = {.format = "none", .sinks = one};
        bus = pt_events_new(&b, NULL, &err);
        CU_ASSERT_PTR_NULL(bus);
        CU_ASSERT_PTR_NOT_NULL(err);
        g_clear_error(&err);
    }
    pt_events_config bf = {.format = "yaml"};
    CU_ASSERT_PTR_NULL(pt_events_new(&bf, NULL, &err));
    g_clear_error(&err);
}

int main(void)
{
    g_setenv("TZ", "UTC", TRUE);
    tzset();
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    CU_pSuite s = CU_add_suite("sinks", NULL, NULL);
    CU_add_test(s, "utf8 validation", test_utf8_valid);
    CU_add_test(s, "base64", test_base64);
    CU_add_test(s, "json escaping", test_json_escape);
    CU_add_test(s, "text escaping", test_text_escape);
    CU_add_test(s, "text line", test_text_line);
    CU_add_test(s, "json envelope", test_json_envelope);
    CU_add_test(s, "file sinks", test_file_sinks);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
    CU_cleanup_registry();
    return failed ? 1 : 0;
}
