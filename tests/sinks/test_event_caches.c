/* test_event_caches.c — unit tests of the event path's fast paths: the host's cache of
 * checked names (a name rewritten in place is checked again), the JSON sink's per-stream
 * envelope cache (reused flow storage renders its new values), the seconds cache of JSON
 * timestamps, integer doubles without printf, the remembered event shapes and the stream ids
 * of the host, the JSON line heads per stream id and kind, the JSON fast paths against the
 * general path, and the word-at-a-time escaping scans against byte-wise references. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>
#include <glib.h>

#include "escape.h"
#include "host_fixture.h"
#include "random_field.h"
#include "events.h"
#include "plugin_host.h"
#include "sink.h"

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
    host_fixture_init(&x, "cachetest");
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
    host_fixture_init(&x, "cachetest");
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
    host_fixture_init(&x, "cachetest");
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

/* A sink that remembers what the host said about the names of the last event. */
typedef struct probe_sink {
    pt_sink base;
    bool names_checked;
    uint64_t shape_id;
    uint64_t stream_id;
    uint64_t events;
} probe_sink;

static void probe_write(pt_sink *s, const pt_envelope *env, const pt_event *ev)
{
    (void)ev;
    probe_sink *p = (probe_sink *)s;
    p->names_checked = env->names_checked;
    p->shape_id = env->shape_id;
    p->stream_id = env->stream_id;
    p->events++;
}
static void probe_flush(pt_sink *s)
{
    (void)s;
}
static void probe_free(pt_sink *s)
{
    g_free(s);
}
static const pt_sink_ops probe_ops = {
    .type = "probe", .write = probe_write, .flush = probe_flush, .free = probe_free};

/* Events whose kind and names are string literals have their shape remembered: a later
 * event with the same kind literal but other names (a buffer, a bad name, another count) is
 * still checked, span checks still run on a remembered shape, and the sinks are told which
 * names are literals. */
static void test_host_shapes(void)
{
    host_fixture x;
    host_fixture_init(&x, "cachetest");
    probe_sink *probe = g_new0(probe_sink, 1);
    probe->base.ops = &probe_ops;
    probe->base.name = g_strdup("probe");
    pt_events_add_sink(x.bus, &probe->base);
    pt_time ts = {1700000000, 0};
    pt_field lit[] = {PT_F_UINT("seq", 1), PT_F_STR("command", PT_SPAN("GET", 3))};
    for (int i = 0; i < 3; i++) {
        x.st.failed = false;
        x.h->emit(&x.st, "command", &ts, lit, 2);
        CU_ASSERT_FALSE(x.st.failed);
        CU_ASSERT_TRUE(probe->names_checked);
        CU_ASSERT_TRUE(probe->shape_id != 0); /* literal names */
    }
    char name[16];
    strcpy(name, "seq");
    pt_field buf[] = {PT_F_UINT(name, 1), PT_F_STR("command", PT_SPAN("GET", 3))};
    x.h->emit(&x.st, "command", &ts, buf, 2);
    CU_ASSERT_FALSE(x.st.failed);
    CU_ASSERT_FALSE(probe->shape_id != 0); /* not all literal */
    strcpy(name, "Seq");
    x.h->emit(&x.st, "command", &ts, buf, 2);
    CU_ASSERT_TRUE(x.st.failed);
    x.st.failed = false;
    strcpy(name, "ts");
    x.h->emit(&x.st, "command", &ts, buf, 2);
    CU_ASSERT_TRUE(x.st.failed);
    x.st.failed = false;
    /* The remembered shape with a NULL span that claims bytes: refused all the same. */
    pt_field bad[] = {PT_F_UINT("seq", 1), PT_F_STR("command", ((pt_span){NULL, 3, 0}))};
    bad[0].name = lit[0].name;
    bad[1].name = lit[1].name;
    x.h->emit(&x.st, "command", &ts, bad, 2);
    CU_ASSERT_TRUE(x.st.failed);
    x.st.failed = false;
    /* Fewer fields of the same shape, and a NULL kind. */
    x.h->emit(&x.st, "command", &ts, lit, 1);
    CU_ASSERT_FALSE(x.st.failed);
    CU_ASSERT_TRUE(probe->shape_id != 0); /* literal names */
    x.h->emit(&x.st, NULL, &ts, lit, 0);
    CU_ASSERT_TRUE(x.st.failed);
    CU_ASSERT_EQUAL(probe->events, 5);
    pt_events_free(x.bus);
}

/* A host fixture with the probe sink on its bus. */
static probe_sink *add_probe(host_fixture *x)
{
    probe_sink *probe = g_new0(probe_sink, 1);
    probe->base.ops = &probe_ops;
    probe->base.name = g_strdup("probe");
    pt_events_add_sink(x->bus, &probe->base);
    return probe;
}

/* Kind literals for the shape id test: more shapes than the host remembers. */
#define K10(p) p "0", p "1", p "2", p "3", p "4", p "5", p "6", p "7", p "8", p "9"
static const char *const shape_kinds[] = {K10("ka"), K10("kb"), K10("kc"), K10("kd")};
static const char *const shape_names[] = {K10("fa"), K10("fb")};

/* Shape ids: events of one remembered shape share a non-zero id; an id always stands for
 * the same kind and names (also after shapes were evicted and remembered again); names
 * that are not literals get no id; a remembered shape still has its values checked (a NULL
 * list item with a length, an unknown type). */
static void test_host_shape_ids(void)
{
    host_fixture x;
    host_fixture_init(&x, "cachetest");
    probe_sink *probe = add_probe(&x);
    enum { KINDS = G_N_ELEMENTS(shape_kinds), ROUNDS = 4000 };
    GHashTable *seen = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, g_free);
    GRand *r = g_rand_new_with_seed(5);
    pt_time ts = {1700000000, 0};
    for (int it = 0; it < ROUNDS; it++) {
        size_t k = (size_t)g_rand_int_range(r, 0, KINDS), n = (size_t)g_rand_int_range(r, 0, 4);
        pt_field f[4];
        for (size_t i = 0; i < n; i++)
            f[i] = PT_F_UINT(shape_names[(k + i * 7) % G_N_ELEMENTS(shape_names)], i);
        uint64_t before = x.ref.events;
        x.h->emit(&x.st, shape_kinds[k], &ts, f, n);
        CU_ASSERT_EQUAL_FATAL(x.ref.events, before + 1);
        CU_ASSERT_NOT_EQUAL_FATAL(probe->shape_id, 0); /* literal names */
        gint64 *key = g_new(gint64, 1), *val = g_new(gint64, 1);
        *key = (gint64)probe->shape_id;
        *val = (gint64)(k * 8 + n);
        gint64 *old = g_hash_table_lookup(seen, key);
        if (old && *old != *val) {
            CU_FAIL("one shape id for two shapes");
            it = ROUNDS;
        }
        g_hash_table_replace(seen, key, val);
    }
    /* Evictions happened: more ids than shapes. */
    CU_ASSERT_TRUE(g_hash_table_size(seen) > KINDS * 4);
    /* The same shape twice in a row: the same id. */
    pt_field f[] = {PT_F_UINT("seq", 1), PT_F_STR("command", PT_SPAN("GET", 3))};
    x.h->emit(&x.st, "command", &ts, f, 2);
    uint64_t id = probe->shape_id;
    x.h->emit(&x.st, "command", &ts, f, 2);
    CU_ASSERT_EQUAL(probe->shape_id, id);
    char name[8];
    strcpy(name, "seq");
    pt_field buf[] = {PT_F_UINT(name, 1), PT_F_STR("command", PT_SPAN("GET", 3))};
    x.h->emit(&x.st, "command", &ts, buf, 2);
    CU_ASSERT_EQUAL(probe->shape_id, 0); /* not all literal */
    /* Values of a remembered shape are still checked. */
    pt_span items[] = {PT_SPAN("a", 1), {NULL, 2, 2}};
    pt_field lst[] = {PT_F_UINT("seq", 1), PT_F_LIST("command", items, 1, 1)};
    x.h->emit(&x.st, "command", &ts, lst, 2);
    x.h->emit(&x.st, "command", &ts, lst, 2);
    CU_ASSERT_FALSE(x.st.failed);
    lst[1].v.list.count = 2;
    x.h->emit(&x.st, "command", &ts, lst, 2);
    CU_ASSERT_TRUE(x.st.failed);
    x.st.failed = false;
    lst[1].type = (pt_field_type)42;
    x.h->emit(&x.st, "command", &ts, lst, 2);
    CU_ASSERT_TRUE(x.st.failed);
    x.st.failed = false;
    g_hash_table_destroy(seen);
    g_rand_free(r);
    pt_events_free(x.bus);
}

/* Whether ev renders the same through the general path (envelope `slow`) and through the
 * fast paths `fast` allows, the latter into a buffer that starts tiny (the room the fast
 * paths make must suffice: ASan watches); prints both when not. */
static bool renders_alike(const pt_envelope *slow, const pt_envelope *fast, const pt_event *ev)
{
    GString *want = g_string_new(NULL), *got = g_string_sized_new(1);
    pt_sink_json_render(want, slow, ev);
    pt_sink_json_render(got, fast, ev);
    bool same = strcmp(got->str, want->str) == 0;
    if (!same)
        fprintf(stderr, "\n  got  %s\n  want %s\n", got->str, want->str);
    g_string_free(want, TRUE);
    g_string_free(got, TRUE);
    return same;
}

/* The JSON fast path for checked names without a plan writes exactly what the general path
 * writes, for every field type and value. */
static void test_json_fast_paths(void)
{
    enum { NAMES = 700, FIELDS = 12 };
    static char names[NAMES][12];
    for (int i = 0; i < NAMES; i++)
        snprintf(names[i], sizeof names[i], i % 7 ? "f%d" : "field_%d", i);
    GRand *r = g_rand_new_with_seed(11);
    uint8_t bytes[FIELDS][40];
    pt_span items[FIELDS][4];
    pt_endpoint c = {{4, {10, 0, 0, 1}}, 1000}, s = {{4, {10, 0, 0, 2}}, 80};
    for (int it = 0; it < 20000; it++) {
        pt_field f[FIELDS];
        size_t n = (size_t)g_rand_int_range(r, 0, FIELDS + 1);
        for (size_t k = 0; k < n; k++)
            f[k] = random_field(r, names[g_rand_int_range(r, 0, NAMES)], bytes[k], items[k]);
        pt_event ev = {.kind = "k", .ts = {1700000000, 5000}, .fields = f, .n_fields = n};
        pt_envelope slow = {.proto = "p", .flow_id = "C1", .client = &c, .server = &s};
        pt_envelope checked = slow;
        checked.names_checked = true;
        if (!renders_alike(&slow, &checked, &ev)) {
            CU_FAIL("fast path differs");
            break;
        }
    }
    g_rand_free(r);
}

/* Event shapes for the plan test: a kind and field names, all fixed (like literals). */
enum { PLAN_SHAPES = 150, PLAN_FIELDS = 12, PLAN_NAMES = 300 };
typedef struct test_shape {
    char kind[16];
    size_t n;
    const char *names[PLAN_FIELDS];
} test_shape;

static void make_shapes(test_shape *shapes, char (*names)[16], GRand *r)
{
    for (int i = 0; i < PLAN_NAMES; i++)
        snprintf(names[i], sizeof names[i], i % 5 ? "p%d" : "plan_name_%d", i);
    for (int s = 0; s < PLAN_SHAPES; s++) {
        snprintf(shapes[s].kind, sizeof shapes[s].kind, "kind_%d", s);
        shapes[s].n = (size_t)(s % (PLAN_FIELDS + 1));
        for (size_t i = 0; i < shapes[s].n; i++)
            shapes[s].names[i] = names[g_rand_int_range(r, 0, PLAN_NAMES)];
    }
}

/* Events rendered through per-shape plans (pt_envelope.shape_id) write exactly what the
 * general path writes, for random values of every type, with more shapes than plan slots:
 * ids that share a slot must not see each other's keys or kind. */
static void test_json_plans(void)
{
    static test_shape shapes[PLAN_SHAPES];
    static char names[PLAN_NAMES][16];
    GRand *r = g_rand_new_with_seed(13);
    make_shapes(shapes, names, r);
    uint8_t bytes[PLAN_FIELDS][40];
    pt_span items[PLAN_FIELDS][4];
    pt_endpoint c = {{4, {10, 0, 0, 1}}, 1000}, sv = {{4, {10, 0, 0, 2}}, 80};
    for (int it = 0; it < 30000; it++) {
        int s = g_rand_int_range(r, 0, PLAN_SHAPES);
        pt_field f[PLAN_FIELDS];
        for (size_t k = 0; k < shapes[s].n; k++) {
            f[k] = random_field(r, shapes[s].names[k], bytes[k], items[k]);
            f[k].name = shapes[s].names[k];
        }
        pt_event ev = {
            .kind = shapes[s].kind, .ts = {1700000000, 5000}, .fields = f, .n_fields = shapes[s].n};
        pt_envelope slow = {.proto = "p", .flow_id = "C1", .client = &c, .server = &sv};
        pt_envelope planned = slow;
        planned.names_checked = true;
        planned.shape_id = 1000 + (uint64_t)s;
        if (!renders_alike(&slow, &planned, &ev)) {
            CU_FAIL("planned render differs");
            break;
        }
    }
    /* A shape whose keys do not fit a plan: rendered without one, all the same. */
    static char long_names[32][65];
    pt_field f[32];
    for (int i = 0; i < 32; i++) {
        memset(long_names[i], 'a' + i % 26, 64);
        long_names[i][0] = (char)('a' + i / 26);
        f[i] = PT_F_UINT(long_names[i], (uint64_t)i);
    }
    pt_event ev = {.kind = "long", .ts = {1, 0}, .fields = f, .n_fields = 32};
    pt_envelope slow = {.proto = "p", .flow_id = "C1"}, planned = slow;
    planned.names_checked = true;
    planned.shape_id = 7;
    CU_ASSERT_TRUE(renders_alike(&slow, &planned, &ev));
    g_rand_free(r);
}

/* Plans are made for the types of the first event of a shape id: later events of that id
 * whose fields have other types (the same names), names long enough that the planned texts
 * take more than one fixed move (,"name":false of a 64-byte name), BOOL and NULL texts, and
 * more ids than plan slots (ids that share a slot evict each other) all render what the
 * general path renders, with or without a line head, into a buffer that starts tiny. */
static void test_json_plan_types(void)
{
    enum { SHAPES = 40, FIELDS = 8 };
    static char names[SHAPES][FIELDS][72];
    static const unsigned fixed[] = {PT_FIELD_BOOL,     PT_FIELD_NULL, PT_FIELD_STR,
                                     PT_FIELD_STR_LIST, PT_FIELD_UINT, PT_FIELD_INT};
    GRand *r = g_rand_new_with_seed(23);
    for (int s = 0; s < SHAPES; s++)
        for (int k = 0; k < FIELDS; k++) {
            size_t len = (size_t)g_rand_int_range(r, 1, 65);
            memset(names[s][k], 'a' + (s + k) % 26, len);
            names[s][k][0] = (char)('a' + k);
            names[s][k][len] = '\0';
        }
    uint8_t bytes[FIELDS][40];
    pt_span items[FIELDS][4];
    pt_endpoint c = {{4, {10, 0, 0, 1}}, 1000}, sv = {{4, {10, 0, 0, 2}}, 80};
    for (int it = 0; it < 20000; it++) {
        int s = g_rand_int_range(r, 0, SHAPES);
        size_t n = (size_t)(1 + s % FIELDS);
        pt_field f[FIELDS];
        for (size_t k = 0; k < n; k++) {
            f[k] = random_field(r, names[s][k], bytes[k], items[k]);
            f[k].name = names[s][k]; /* the names of the id, always */
            /* Mostly the type of the shape (planned), now and then another one. */
            if (g_rand_int_range(r, 0, 4) != 0 && f[k].type != PT_FIELD_STR_LIST) {
                unsigned t = fixed[(size_t)(s + (int)k) % G_N_ELEMENTS(fixed)];
                if (t == PT_FIELD_STR_LIST)
                    f[k] = PT_F_LIST(names[s][k], items[k], 0, 0);
                else
                    f[k].type = (pt_field_type)t;
                if (t == PT_FIELD_BOOL)
                    f[k].v.b = g_rand_boolean(r);
                if (t == PT_FIELD_STR)
                    f[k].v.str = PT_SPAN(bytes[k], (size_t)g_rand_int_range(r, 0, 3));
            }
        }
        pt_event ev = {.kind = "typed", .ts = {1700000000, 1000}, .fields = f, .n_fields = n};
        pt_envelope slow = {.proto = "p", .flow_id = "T1", .client = &c, .server = &sv};
        pt_envelope planned = slow;
        planned.names_checked = true;
        planned.shape_id = 9000 + (uint64_t)s * 64; /* every id in the same plan slot */
        planned.stream_id = it % 2 ? 77 : 0;
        if (!renders_alike(&slow, &planned, &ev)) {
            CU_FAIL("planned render with other types differs");
            break;
        }
    }
    g_rand_free(r);
}

/* Stream ids: every event of a stream carries the same non-zero id; another stream, the
 * stream struct zeroed for reuse (the dispatcher's pool) or another plugin gets a new one. */
static void test_host_stream_ids(void)
{
    host_fixture x;
    host_fixture_init(&x, "cachetest");
    probe_sink *probe = add_probe(&x);
    CU_ASSERT_TRUE(emit_one(&x, "k", "a"));
    uint64_t first = probe->stream_id;
    CU_ASSERT_NOT_EQUAL(first, 0);
    CU_ASSERT_TRUE(emit_one(&x, "k", "a"));
    CU_ASSERT_EQUAL(probe->stream_id, first);
    pt_stream other = x.st;
    other.env_id = 0;
    other.env_plugin = NULL;
    pt_time ts = {1, 0};
    pt_field f[] = {PT_F_UINT("a", 1)};
    x.h->emit(&other, "k", &ts, f, 1);
    uint64_t second = probe->stream_id;
    CU_ASSERT_TRUE(second != 0 && second != first);
    CU_ASSERT_TRUE(emit_one(&x, "k", "a"));
    CU_ASSERT_EQUAL(probe->stream_id, first);
    x.st.env_id = 0; /* the struct reused for another flow (zeroed by its owner) */
    x.h->emit(&x.st, "k", &ts, f, 1);
    uint64_t third = probe->stream_id;
    CU_ASSERT_TRUE(third != 0 && third != first && third != second);
    pt_plugin_ref ref2 = x.ref; /* the same stream handed to another plugin */
    x.st.plugin = &ref2;
    x.h->emit(&x.st, "k", &ts, f, 1);
    CU_ASSERT_TRUE(probe->stream_id != 0 && probe->stream_id != third);
    pt_events_free(x.bus);
}

/* The per-stream line heads (pt_envelope.stream_id) write what the general path writes:
 * more streams than slots, changes of second and kind on a stream, negative times, flow
 * ids that cannot be cached, and flow storage reused under a new stream id. */
static void test_json_heads(void)
{
    static const char *const kinds[] = {"command", "push", "unanswered"};
    static const char *const names[] = {"seq", "key", "latency_us"};
    static char flows[200][48];
    GRand *r = g_rand_new_with_seed(17);
    pt_endpoint c = {{4, {10, 0, 0, 1}}, 1000}, sv = {{4, {10, 0, 0, 2}}, 6379};
    uint64_t ids[200];
    for (int i = 0; i < 200; i++) {
        snprintf(flows[i], sizeof flows[i], i % 50 == 7 ? "F\"%d" : "C%d", i);
        ids[i] = 1 + (uint64_t)i * 64; /* 600 stream and kind pairs for 64 slots */
    }
    for (int it = 0; it < 20000; it++) {
        int st = g_rand_int_range(r, 0, it % 3 ? 4 : 200), k = g_rand_int_range(r, 0, 3);
        if (g_rand_int_range(r, 0, 50) == 0) { /* storage reused: new text, new id */
            snprintf(flows[st], sizeof flows[st], "R%d", it);
            ids[st] = 100000 + (uint64_t)it;
        }
        c.port = (uint16_t)(1000 + st);
        pt_field f[3];
        char text[200];
        size_t tn = (size_t)g_rand_int_range(r, 0, (gint32)sizeof text);
        memset(text, 'a' + k, tn);
        f[0] = PT_F_UINT(names[0], (uint64_t)g_rand_int(r));
        f[1] = PT_F_STR(names[1], PT_SPAN(text, tn));
        f[2] = PT_F_INT(names[2], -(int64_t)g_rand_int(r));
        int64_t sec = 1700000000 + g_rand_int_range(r, 0, 3);
        if (g_rand_int_range(r, 0, 100) == 0)
            sec = -g_rand_int_range(r, 1, 3);
        pt_event ev = {.kind = kinds[k],
                       .ts = {sec, (uint32_t)g_rand_int_range(r, 0, 1000000000)},
                       .fields = f,
                       .n_fields = 3};
        pt_envelope slow = {.proto = "redis", .flow_id = flows[st], .client = &c, .server = &sv};
        pt_envelope fast = slow;
        fast.names_checked = true;
        fast.shape_id = 500 + (uint64_t)k;
        fast.stream_id = ids[st];
        if (!renders_alike(&slow, &fast, &ev)) {
            CU_FAIL("headed render differs");
            break;
        }
    }
    g_rand_free(r);
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
    uint8_t b[72]; /* past four 16-byte steps, every tail length */
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

/* The inline copy of plain spans: NULL exactly when the byte-wise scan stops early, else an
 * exact copy; every length around the word and block sizes, from buffers of exactly that
 * size (AddressSanitizer sees any read outside). */
static void test_copy_plain(void)
{
    static const uint8_t special[] = {0x00, 0x1f, '"', '\\', 0x7f, 0x80, 0xff, '\n', 0xc3};
    GRand *r = g_rand_new_with_seed(17);
    char out[128];
    for (int it = 0; it < 200000; it++) {
        size_t n = (size_t)g_rand_int_range(r, 0, 90);
        uint8_t *b = g_malloc(n ? n : 1);
        int odds = g_rand_int_range(r, 2, 64);
        for (size_t k = 0; k < n; k++)
            b[k] = g_rand_int_range(r, 0, odds) == 0
                       ? special[g_rand_int_range(r, 0, (gint32)sizeof special)]
                       : (uint8_t)g_rand_int_range(r, 0x20, 0x7f);
        char *end = pt_escape_json_copy_plain(out, b, n);
        bool plain = ref_plain(b, n) == n;
        bool ok = plain ? end == out + n && memcmp(out, b, n) == 0 : end == NULL;
        g_free(b);
        if (!ok) {
            CU_FAIL("inline plain copy");
            fprintf(stderr, "\n  %zu bytes, plain %d\n", n, plain);
            break;
        }
    }
    g_rand_free(r);
}

/* Decimal integers against printf: random magnitudes, every digit count. */
static void test_u64(void)
{
    GRand *r = g_rand_new_with_seed(19);
    char got[24], got2[24], want[24];
    for (int it = 0; it < 200000; it++) {
        uint64_t v = ((uint64_t)g_rand_int(r) << 32 | g_rand_int(r)) >> g_rand_int_range(r, 0, 64);
        if (it < 64)
            v = it < 32 ? UINT64_MAX - (uint64_t)it : (uint64_t)it - 32;
        size_t n = pt_escape_u64_to(got, v), m = pt_escape_u64_to_inline(got2, v);
        snprintf(want, sizeof want, "%" G_GUINT64_FORMAT, v);
        if (n != strlen(want) || memcmp(got, want, n) != 0 || m != n ||
            memcmp(got2, want, n) != 0) {
            CU_FAIL("integer text");
            fprintf(stderr, "\n  %s\n", want);
            break;
        }
    }
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
    CU_add_test(s, "host: remembered event shapes", test_host_shapes);
    CU_add_test(s, "host: shape ids", test_host_shape_ids);
    CU_add_test(s, "host: stream ids", test_host_stream_ids);
    CU_add_test(s, "json: line heads per stream id", test_json_heads);
    CU_add_test(s, "json: shape plans equal the general path", test_json_plans);
    CU_add_test(s, "json: plans with other types and long names", test_json_plan_types);
    CU_add_test(s, "json: fast paths equal the general path", test_json_fast_paths);
    CU_add_test(s, "json: envelope of reused flow storage", test_json_envelope_reused);
    CU_add_test(s, "json: timestamps", test_json_ts);
    CU_add_test(s, "json: doubles", test_json_double);
    CU_add_test(s, "json: integers", test_json_integers);
    CU_add_test(s, "escape: scans against references", test_scans);
    CU_add_test(s, "escape: inline plain copy against references", test_copy_plain);
    CU_add_test(s, "escape: integers against printf", test_u64);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures();
    CU_cleanup_registry();
    return failed ? 1 : 0;
}
