/* test_event_caches.c — unit tests of the event path's fast paths: the host's cache of
 * checked names (a name rewritten in place is checked again), the JSON sink's per-stream
 * envelope cache (reused flow storage renders its new values), the seconds cache of JSON
 * timestamps, integer doubles without printf, and the eight-bytes-at-a-time escaping scans
 * against byte-wise references. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>
#include <glib.h>

#include "escape.h"
#include "events.h"
#include "plugin_host.h"
#include "sink.h"

/* A stream of a fake plugin on a bus without sinks: only the host's checks run. */
typedef struct host_fixture {
    pt_endpoint c, s;
    pt_plugin_ref ref;
    pt_stream st;
    pt_events *bus;
    const pt_host *h;
} host_fixture;

static void host_fixture_init(host_fixture *x)
{
    memset(x, 0, sizeof *x);
    x->c = (pt_endpoint){{4, {127, 0, 0, 1}}, 40000};
    x->s = (pt_endpoint){{4, {127, 0, 0, 1}}, 6379};
    x->ref.desc.name = "cachetest";
    x->bus = pt_events_new_empty();
    x->st =
        (pt_stream){.client = &x->c, .server = &x->s, .id = "C1", .plugin = &x->ref, .bus = x->bus};
    x->h = pt_plugin_host_get();
    pt_plugin_host_limits lim = {.log_lines = 1, .log_level = PT_LOG_ERROR}; /* quiet */
    pt_plugin_host_set_limits(&lim);
}

/* Emit one event with one field named `name` of kind `kind`; returns whether it was taken. */
static bool emit_one(host_fixture *x, const char *kind, const char *name)
{
    uint64_t before = x->ref.events;
    pt_time ts = {1700000000, 0};
    pt_field f[] = {PT_F_UINT(name, 1)};
    x->st.failed = false;
    x->h->emit(&x->st, kind, &ts, f, 1);
    return x->ref.events == before + 1;
}

static void test_host_name_rewritten(void)
{
    host_fixture x;
    host_fixture_init(&x);
    char name[16], kind[16];
    strcpy(kind, "command");
    strcpy(name, "latency_us");
    uint64_t bad0 = pt_plugin_host_bad_events();
    CU_ASSERT_TRUE(emit_one(&x, kind, name));
    CU_ASSERT_TRUE(emit_one(&x, kind, name)); /* from the cache */
    strcpy(name, "ts");                       /* same address, now an envelope name */
    CU_ASSERT_FALSE(emit_one(&x, kind, name));
    CU_ASSERT_TRUE(x.st.failed);
    strcpy(name, "Latency");
    CU_ASSERT_FALSE(emit_one(&x, kind, name));
    strcpy(name, "latency_usX");
    CU_ASSERT_FALSE(emit_one(&x, kind, name));
    strcpy(name, "latency_u"); /* a prefix of the cached text */
    CU_ASSERT_TRUE(emit_one(&x, kind, name));
    strcpy(name, "latency_us");
    CU_ASSERT_TRUE(emit_one(&x, kind, name));
    strcpy(kind, "Command"); /* the kind is cached too */
    CU_ASSERT_FALSE(emit_one(&x, kind, name));
    strcpy(kind, "ts"); /* a kind may be called like an envelope field */
    CU_ASSERT_TRUE(emit_one(&x, kind, name));
    CU_ASSERT_EQUAL(pt_plugin_host_bad_events() - bad0, 4);
    CU_ASSERT_EQUAL(x.ref.misbehaved, 4);
    pt_events_free(x.bus);
}

static void test_host_name_limits(void)
{
    host_fixture x;
    host_fixture_init(&x);
    char name[80];
    memset(name, 'a', sizeof name);
    name[64] = '\0';
    CU_ASSERT_TRUE(emit_one(&x, "k", name));
    name[64] = 'a';
    name[65] = '\0';
    CU_ASSERT_FALSE(emit_one(&x, "k", name));
    CU_ASSERT_FALSE(emit_one(&x, "k", ""));
    CU_ASSERT_FALSE(emit_one(&x, "k", NULL));
    CU_ASSERT_FALSE(emit_one(&x, NULL, "x"));
    pt_events_free(x.bus);
}

/* More distinct names than the cache holds: every valid one is taken, every bad one refused,
 * whatever was evicted. */
static void test_host_name_many(void)
{
    host_fixture x;
    host_fixture_init(&x);
    enum { N = 3000 };
    char(*names)[24] = g_malloc(N * sizeof *names);
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < N; i++) {
            bool bad = i % 97 == 0;
            snprintf(names[i], sizeof names[i], bad ? "Bad%d" : "field_%d", i);
            if (emit_one(&x, "k", names[i]) == bad) {
                CU_FAIL("wrong verdict");
                fprintf(stderr, "\n  round %d: %s\n", round, names[i]);
                round = 2;
                break;
            }
        }
    }
    g_free(names);
    pt_events_free(x.bus);
}

/* The envelope cache is keyed by the flow id's address: storage reused for another flow (new
 * id text, new endpoints) must render the new values. */
static void test_json_envelope_reused(void)
{
    char flow[40], proto[16];
    pt_endpoint c = {{4, {10, 0, 0, 1}}, 1000}, s = {{4, {10, 0, 0, 2}}, 80};
    pt_envelope env = {.proto = proto, .flow_id = flow, .client = &c, .server = &s};
    pt_event ev = {.kind = "request", .ts = {1700000000, 0}};
    GString *out = g_string_new(NULL);
    strcpy(flow, "C7");
    strcpy(proto, "http");
    pt_sink_json_render(out, &env, &ev);
    CU_ASSERT_STRING_EQUAL(out->str, "{\"ts\":1700000000.000000,\"flow\":\"C7\",\"proto\":\"http\","
                                     "\"event\":\"request\",\"client\":\"10.0.0.1:1000\","
                                     "\"server\":\"10.0.0.2:80\"}");
    strcpy(flow, "C8");
    c.port = 1001;
    s.addr.bytes[3] = 3;
    g_string_truncate(out, 0);
    pt_sink_json_render(out, &env, &ev);
    CU_ASSERT_STRING_EQUAL(out->str, "{\"ts\":1700000000.000000,\"flow\":\"C8\",\"proto\":\"http\","
                                     "\"event\":\"request\",\"client\":\"10.0.0.1:1001\","
                                     "\"server\":\"10.0.0.3:80\"}");
    strcpy(proto, "redis");
    env.client = NULL;
    ev.kind = "a\"b";
    g_string_truncate(out, 0);
    pt_sink_json_render(out, &env, &ev);
    CU_ASSERT_STRING_EQUAL(out->str,
                           "{\"ts\":1700000000.000000,\"flow\":\"C8\",\"proto\":\"redis\","
                           "\"event\":\"a\\\"b\",\"client\":\"-\","
                           "\"server\":\"10.0.0.3:80\"}");
    /* Too long to cache, and needing escapes: the general path. */
    strcpy(flow, "F0123456789012345678901234567890123\x01");
    g_string_truncate(out, 0);
    pt_sink_json_render(out, &env, &ev);
    CU_ASSERT_STRING_EQUAL(out->str, "{\"ts\":1700000000.000000,"
                                     "\"flow\":\"F0123456789012345678901234567890123\\u0001\","
                                     "\"proto\":\"redis\",\"event\":\"a\\\"b\",\"client\":\"-\","
                                     "\"server\":\"10.0.0.3:80\"}");
    g_string_free(out, TRUE);
}

/* ts as epoch seconds with 6 decimals, the seconds text cached: changes of second, negative
 * times, and back. */
static void test_json_ts(void)
{
    static const struct {
        pt_time ts;
        const char *text;
    } cases[] = {
        {{1700000000, 999999999}, "1700000000.999999"},
        {{1700000001, 1000}, "1700000001.000001"},
        {{1700000001, 0}, "1700000001.000000"},
        {{-3, 500000000}, "-2.500000"},
        {{-3, 0}, "-3.000000"},
        {{0, 123456789}, "0.123456"},
        {{1700000001, 42000}, "1700000001.000042"},
    };
    pt_envelope env = {.proto = "p", .flow_id = "f"};
    GString *out = g_string_new(NULL);
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        pt_event ev = {.kind = "k", .ts = cases[i].ts};
        g_string_truncate(out, 0);
        pt_sink_json_render(out, &env, &ev);
        g_autofree char *want = g_strconcat("{\"ts\":", cases[i].text, ",", NULL);
        if (!g_str_has_prefix(out->str, want)) {
            CU_FAIL("timestamp");
            fprintf(stderr, "\n  got %s, want %s\n", out->str, want);
        }
    }
    g_string_free(out, TRUE);
}

/* Doubles: integers take a path without printf and must print exactly as "%.17g". */
static void test_json_double(void)
{
    const double vals[] = {0.25,
                           3.0,
                           -7.0,
                           1e15,
                           9007199254740991.0,
                           9007199254740992.0,
                           1e17,
                           -1e300,
                           0.1,
                           123456.5,
                           -0.0,
                           0.0,
                           1e-300,
                           4096.0,
                           -4096.0,
                           2.5e-5,
                           1234567890123.0,
                           -9007199254740991.0};
    GString *out = g_string_new(NULL);
    for (size_t i = 0; i < G_N_ELEMENTS(vals); i++) {
        pt_field f[] = {PT_F_DOUBLE("d", vals[i])};
        pt_envelope env = {.proto = "p", .flow_id = "f"};
        pt_event ev = {.kind = "k", .ts = {1, 0}, .fields = f, .n_fields = 1};
        g_string_truncate(out, 0);
        pt_sink_json_render(out, &env, &ev);
        char num[G_ASCII_DTOSTR_BUF_SIZE];
        g_ascii_formatd(num, sizeof num, "%.17g", vals[i]);
        g_autofree char *want = g_strconcat(",\"d\":", num, "}", NULL);
        if (!g_str_has_suffix(out->str, want)) {
            CU_FAIL("double");
            fprintf(stderr, "\n  got %s, want suffix %s\n", out->str, want);
        }
    }
    pt_field f[] = {PT_F_DOUBLE("d", NAN), PT_F_DOUBLE("e", INFINITY)};
    pt_envelope env = {.proto = "p", .flow_id = "f"};
    pt_event ev = {.kind = "k", .ts = {1, 0}, .fields = f, .n_fields = 2};
    g_string_truncate(out, 0);
    pt_sink_json_render(out, &env, &ev);
    CU_ASSERT_TRUE(g_str_has_suffix(out->str, ",\"d\":null,\"e\":null}"));
    g_string_free(out, TRUE);
}

/* Integers are written without printf: every digit count, both ends of the ranges. */
static void test_json_integers(void)
{
    GString *out = g_string_new(NULL);
    char want[64];
    uint64_t u = 0;
    for (int i = 0; i <= 21; i++) {
        uint64_t vals[] = {u, u ? u - 1 : 0, u + 1};
        for (size_t k = 0; k < G_N_ELEMENTS(vals); k++) {
            pt_field f[] = {PT_F_UINT("u", vals[k]), PT_F_INT("i", -(int64_t)(vals[k] >> 1))};
            pt_envelope env = {.proto = "p", .flow_id = "f"};
            pt_event ev = {.kind = "k", .ts = {1, 0}, .fields = f, .n_fields = 2};
            g_string_truncate(out, 0);
            pt_sink_json_render(out, &env, &ev);
            snprintf(want, sizeof want, ",\"u\":%" G_GUINT64_FORMAT ",\"i\":%" G_GINT64_FORMAT "}",
                     vals[k], -(int64_t)(vals[k] >> 1));
            if (!g_str_has_suffix(out->str, want)) {
                CU_FAIL("integer");
                fprintf(stderr, "\n  got %s, want suffix %s\n", out->str, want);
            }
        }
        u = i == 0 ? 1 : i < 20 ? u * 10 : UINT64_MAX - 1;
    }
    pt_field f[] = {PT_F_INT("i", INT64_MIN), PT_F_UINT("u", UINT64_MAX)};
    pt_envelope env = {.proto = "p", .flow_id = "f"};
    pt_event ev = {.kind = "k", .ts = {1, 0}, .fields = f, .n_fields = 2};
    g_string_truncate(out, 0);
    pt_sink_json_render(out, &env, &ev);
    CU_ASSERT_TRUE(
        g_str_has_suffix(out->str, ",\"i\":-9223372036854775808,\"u\":18446744073709551615}"));
    g_string_free(out, TRUE);
}

/* Byte-wise references of the scans and of JSON escaping. */
static size_t ref_plain(const uint8_t *p, size_t n)
{
    size_t i = 0;
    while (i < n && p[i] >= 0x20 && p[i] < 0x80 && p[i] != '"' && p[i] != '\\')
        i++;
    return i;
}

static void test_scans(void)
{
    GRand *r = g_rand_new_with_seed(7);
    uint8_t b[40];
    GString *out = g_string_new(NULL);
    for (int it = 0; it < 200000; it++) {
        size_t n = (size_t)g_rand_int_range(r, 0, (gint32)sizeof b + 1);
        for (size_t k = 0; k < n; k++) {
            /* Mostly plain bytes, with each kind of special byte now and then. */
            static const uint8_t special[] = {0x00, 0x1f, '"', '\\', 0x7f, 0x80, 0xff, '\n', 0xc3};
            b[k] = g_rand_int_range(r, 0, 8) == 0
                       ? special[g_rand_int_range(r, 0, (gint32)sizeof special)]
                       : (uint8_t)g_rand_int_range(r, 0x20, 0x7f);
        }
        size_t want = ref_plain(b, n), got = pt_escape_json_plain(b, n);
        if (got != want) {
            CU_FAIL("json plain scan");
            fprintf(stderr, "\n  %zu bytes: got %zu, want %zu\n", n, got, want);
            break;
        }
        /* Text escaping keeps plain ASCII (not DEL, '"', '\\') as it is, and escapes the rest. */
        g_string_truncate(out, 0);
        pt_escape_text(out, b, n, true);
        size_t k = 0;
        while (k < n && b[k] >= 0x20 && b[k] < 0x7f && b[k] != '"' && b[k] != '\\')
            k++;
        if (out->len < k || memcmp(out->str, b, k) != 0 ||
            (k < n && b[k] < 0x80 && out->str[k] != '\\')) {
            CU_FAIL("text scan");
            break;
        }
    }
    g_string_free(out, TRUE);
    g_rand_free(r);
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    CU_pSuite s = CU_add_suite("event caches", NULL, NULL);
    CU_add_test(s, "host: name rewritten in place", test_host_name_rewritten);
    CU_add_test(s, "host: name limits", test_host_name_limits);
    CU_add_test(s, "host: more names than cache slots", test_host_name_many);
    CU_add_test(s, "json: envelope of reused flow storage", test_json_envelope_reused);
    CU_add_test(s, "json: timestamps", test_json_ts);
    CU_add_test(s, "json: doubles", test_json_double);
    CU_add_test(s, "json: integers", test_json_integers);
    CU_add_test(s, "escape: scans against references", test_scans);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures();
    CU_cleanup_registry();
    return failed ? 1 : 0;
}
