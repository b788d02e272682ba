/* test_shapes.c — declared event shapes (pt_host.shape, pt_host.emit_shaped): what the host
 * refuses when a shape is declared, what it still checks on every shaped event, and that the
 * real json and text sinks write a shaped event exactly as the same event emitted as fields,
 * with one sink (the JSON sink takes the values) and with several (the bus hands the others
 * the shape's fields). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "events.h"
#include "host_fixture.h"
#include "plugin_host.h"
#include "plugin_shapes.h"
#include "random_field.h"
#include "sink.h"

/* Add a json or text sink writing to `path`. */
static void add_file_sink(host_fixture *x, bool json, const char *path)
{
    pt_sink_file_config cfg = {.path = path};
    GError *err = NULL;
    pt_sink *s = json ? pt_sink_json_new(&cfg, &err) : pt_sink_text_new(&cfg, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_TRUE(pt_events_add_sink(x->bus, s));
}

/* Declaring: a valid shape is found again (also from other buffers with the same texts);
 * bad kinds and names, envelope names, repeated names, unknown types, too many fields and a
 * NULL array are refused. */
static void test_declare(void)
{
    host_fixture x;
    host_fixture_init(&x, "shapetest");
    const pt_host *h = x.h;
    pt_field f[] = {PT_F_STR("command", PT_SPAN("", 0)), PT_F_UINT("seq", 0)};
    const pt_shape *a = h->shape("command", f, 2);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_PTR_EQUAL(h->shape("command", f, 2), a);
    char kind[16] = "command", name[16] = "seq";
    pt_field g[] = {PT_F_STR("command", PT_SPAN("", 0)), PT_F_UINT(name, 0)};
    CU_ASSERT_PTR_EQUAL(h->shape(kind, g, 2), a);
    g[1].type = PT_FIELD_INT; /* another type: another shape */
    const pt_shape *b = h->shape(kind, g, 2);
    CU_ASSERT_PTR_NOT_NULL(b);
    CU_ASSERT_PTR_NOT_EQUAL(b, a);
    CU_ASSERT_PTR_NULL(h->shape("Command", f, 2));
    CU_ASSERT_PTR_NULL(h->shape(NULL, f, 2));
    CU_ASSERT_PTR_NULL(h->shape("command", NULL, 2));
    strcpy(name, "ts");
    CU_ASSERT_PTR_NULL(h->shape("command", g, 2)); /* shadows the envelope */
    strcpy(name, "command");
    CU_ASSERT_PTR_NULL(h->shape("command", g, 2)); /* repeated */
    strcpy(name, "a-b");
    CU_ASSERT_PTR_NULL(h->shape("command", g, 2));
    g[1].name = NULL;
    CU_ASSERT_PTR_NULL(h->shape("command", g, 2));
    pt_field t[] = {{.name = "x", .type = (pt_field_type)8}};
    CU_ASSERT_PTR_NULL(h->shape("command", t, 1));
    pt_field *many = g_new0(pt_field, PT_HOST_MAX_FIELDS_DEFAULT + 1);
    char *names = g_malloc0(8 * (PT_HOST_MAX_FIELDS_DEFAULT + 1));
    for (size_t i = 0; i <= PT_HOST_MAX_FIELDS_DEFAULT; i++) {
        snprintf(names + 8 * i, 8, "f%zu", i);
        many[i] = PT_F_NULL(names + 8 * i);
    }
    CU_ASSERT_PTR_NOT_NULL(h->shape("wide", many, PT_HOST_MAX_FIELDS_DEFAULT));
    CU_ASSERT_PTR_NULL(h->shape("wide", many, PT_HOST_MAX_FIELDS_DEFAULT + 1));
    /* A plugin declaring without end meets the cap (event_max_shapes; 3 declared above),
     * and shapes declared before are still found. */
    pt_plugin_host_limits lim = {.log_lines = 1, .log_level = PT_LOG_ERROR, .max_shapes = 100};
    pt_plugin_host_set_limits(&lim);
    size_t declared = 3;
    char k[24];
    for (int i = 0; i < 110; i++) {
        snprintf(k, sizeof k, "cap_%d", i);
        declared += h->shape(k, f, 2) != NULL;
    }
    CU_ASSERT_EQUAL(declared, 100);
    CU_ASSERT_PTR_EQUAL(h->shape("command", f, 2), a);
    lim.max_shapes = 0; /* the default again */
    pt_plugin_host_set_limits(&lim);
    g_free(names);
    g_free(many);
    pt_events_free(x.bus);
    pt_shapes_free();
}

/* Emit one shaped event; returns whether the bus got it. A refused one fails the stream. */
static bool emit_shaped(host_fixture *x, const pt_shape *shape, const pt_time *ts,
                        const pt_value *v)
{
    uint64_t before = x->ref.events, bad = pt_plugin_host_bad_events();
    x->st.failed = false;
    x->h->emit_shaped(&x->st, shape, ts, v);
    bool taken = x->ref.events == before + 1;
    CU_ASSERT_EQUAL(x->st.failed, !taken);
    CU_ASSERT_EQUAL(pt_plugin_host_bad_events(), bad + !taken);
    return taken;
}

/* Every shaped event still has its spans, lists and timestamp checked; a bogus handle and
 * an emit after the stream closed are refused. */
static void test_emit_checks(void)
{
    host_fixture x;
    host_fixture_init(&x, "shapetest");
    pt_field f[] = {PT_F_STR("command", PT_SPAN("", 0)), PT_F_LIST("args", NULL, 0, 0),
                    PT_F_UINT("seq", 0), PT_F_BYTES("raw", PT_SPAN("", 0))};
    const pt_shape *sh = x.h->shape("command", f, 4);
    CU_ASSERT_PTR_NOT_NULL_FATAL(sh);
    pt_time ts = {1700000000, 1};
    pt_span items[] = {PT_SPAN("a", 1), PT_SPAN("bc", 2)};
    pt_value v[4] = {
        {.str = PT_SPAN("GET", 3)}, {.list = {items, 2, 2}}, {.u = 7}, {.str = {NULL, 0, 0}}};
    CU_ASSERT_TRUE(emit_shaped(&x, sh, &ts, v));
    v[0].str = (pt_span){NULL, 3, 3};
    CU_ASSERT_FALSE(emit_shaped(&x, sh, &ts, v));
    v[0].str = PT_SPAN("GET", 3);
    v[3].str = (pt_span){NULL, 1, 1};
    CU_ASSERT_FALSE(emit_shaped(&x, sh, &ts, v));
    v[3].str = (pt_span){NULL, 0, 0};
    items[1] = (pt_span){NULL, 2, 2};
    CU_ASSERT_FALSE(emit_shaped(&x, sh, &ts, v));
    items[1] = PT_SPAN("bc", 2);
    v[1].list.items = NULL;
    CU_ASSERT_FALSE(emit_shaped(&x, sh, &ts, v));
    v[1].list.count = 0;
    v[1].list.total = 0;
    CU_ASSERT_TRUE(emit_shaped(&x, sh, &ts, v)); /* no items, none claimed */
    pt_time bad_ts = {1700000000, 1000000000u};
    CU_ASSERT_FALSE(emit_shaped(&x, sh, &bad_ts, v));
    CU_ASSERT_FALSE(emit_shaped(&x, sh, NULL, v));
    CU_ASSERT_FALSE(emit_shaped(&x, sh, &ts, NULL));
    CU_ASSERT_FALSE(emit_shaped(&x, NULL, &ts, v));
    pt_shape fake = *sh;
    fake.magic = 0;
    CU_ASSERT_FALSE(emit_shaped(&x, &fake, &ts, v));
    /* A batch: the malformed event in the middle is dropped, the others go out in order. */
    pt_value vs[3][4];
    pt_time tss[3] = {{1700000000, 1}, {1700000000, 2}, {1700000000, 3}};
    for (int i = 0; i < 3; i++)
        memcpy(vs[i], v, sizeof v);
    vs[1][0].str = (pt_span){NULL, 1, 1};
    uint64_t before = x.ref.events, bad = pt_plugin_host_bad_events();
    x.st.failed = false;
    x.h->emit_shaped_batch(&x.st, sh, 3, tss, vs[0], 4);
    CU_ASSERT_EQUAL(x.ref.events, before + 2);
    CU_ASSERT_EQUAL(pt_plugin_host_bad_events(), bad + 1);
    CU_ASSERT_TRUE(x.st.failed);
    tss[2].nsec = 1000000000u; /* one more malformed, by its time */
    vs[1][0].str = PT_SPAN("GET", 3);
    x.h->emit_shaped_batch(&x.st, sh, 3, tss, vs[0], 4);
    CU_ASSERT_EQUAL(x.ref.events, before + 4);
    CU_ASSERT_EQUAL(pt_plugin_host_bad_events(), bad + 2);
    /* Whole batches refused: short stride, NULL times, no shape (every event counted). */
    x.h->emit_shaped_batch(&x.st, sh, 3, tss, vs[0], 3);
    x.h->emit_shaped_batch(&x.st, sh, 3, NULL, vs[0], 4);
    x.h->emit_shaped_batch(&x.st, NULL, 3, tss, vs[0], 4);
    CU_ASSERT_EQUAL(x.ref.events, before + 4);
    CU_ASSERT_EQUAL(pt_plugin_host_bad_events(), bad + 11);
    x.h->emit_shaped_batch(&x.st, sh, 0, tss, vs[0], 4); /* nothing */
    CU_ASSERT_EQUAL(pt_plugin_host_bad_events(), bad + 11);
    x.st.closed = true;
    CU_ASSERT_FALSE(emit_shaped(&x, sh, &ts, v));
    pt_events_free(x.bus);
    pt_shapes_free();
}

static char *slurp(const char *path)
{
    char *text = NULL;
    CU_ASSERT_TRUE(g_file_get_contents(path, &text, NULL, NULL));
    return text ? text : g_strdup("");
}

/* The pending batch of test_sinks_render_alike: events of one shape, their values (and the
 * bytes their spans point to) kept until it is sent. */
enum { BATCH_MAX = 8, RANDOM_FIELDS = 10 };
typedef struct test_batch {
    const pt_shape *shape;
    size_t n, want;
    pt_time ts[BATCH_MAX];
    pt_value v[BATCH_MAX][RANDOM_FIELDS];
    uint8_t bytes[BATCH_MAX][RANDOM_FIELDS][40];
    pt_span items[BATCH_MAX][RANDOM_FIELDS][4];
} test_batch;

/* Send the pending batch to the streams of buses b[0] and b[1]. */
static void batch_send(test_batch *tb, host_fixture *const *b, GRand *r)
{
    for (int i = 0; i < 2 && tb->n; i++)
        b[i]->h->emit_shaped_batch(&b[i]->st, tb->shape, tb->n, tb->ts, tb->v[0], RANDOM_FIELDS);
    tb->n = 0;
    tb->want = (size_t)g_rand_int_range(r, 1, BATCH_MAX + 1);
}

/* Random events of random shapes through six buses: as fields, shaped one by one, and in
 * batches of 1 to 8 events of a shape, each to one json sink and to a json and a text sink
 * together. Every json file and every text file must be the same, byte for byte; a shape
 * the host refuses is an event emit() refuses. Names are written to buffers after they were
 * declared (the shape keeps copies). */
static void test_sinks_render_alike(void)
{
    enum { SHAPES = 40, FIELDS = RANDOM_FIELDS, EVENTS = 20000, BUSES = 6, FILES = 9 };
    char *dir = g_dir_make_tmp("pt-shapes-XXXXXX", NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
    char *path[FILES];
    /* buses: 0 fields, 1 shaped, 2 batched (json); 3 fields, 4 shaped, 5 batched (json+text) */
    static const char *const leaf[FILES] = {"f.json",  "s.json", "b.json", "f2.json", "s2.json",
                                            "b2.json", "f2.txt", "s2.txt", "b2.txt"};
    for (int i = 0; i < FILES; i++)
        path[i] = g_build_filename(dir, leaf[i], NULL);
    host_fixture bus[BUSES];
    for (int i = 0; i < BUSES; i++) {
        host_fixture_init(&bus[i], "shapetest");
        add_file_sink(&bus[i], true, path[i]);
        if (i >= 3)
            add_file_sink(&bus[i], false, path[i + 3]);
    }
    host_fixture *const batched[2] = {&bus[2], &bus[5]};
    const pt_host *h = bus[0].h;
    GRand *r = g_rand_new_with_seed(29);
    static char names[SHAPES][FIELDS][32];
    static char kinds[SHAPES][16];
    static test_batch tb;
    tb.n = 0;
    tb.want = 3;
    size_t refused = 0, shaped = 0;
    for (int it = 0; it < EVENTS; it++) {
        int s = g_rand_int_range(r, 0, SHAPES);
        size_t n = (size_t)(s % (FIELDS + 1));
        snprintf(kinds[s], sizeof kinds[s], "kind_%d", s);
        pt_field f[FIELDS];
        for (size_t k = 0; k < n; k++) { /* the shape's names and types first */
            snprintf(names[s][k], sizeof names[s][k], "f%d_%zu", s, k);
            f[k] = (pt_field){.name = names[s][k],
                              .type = (pt_field_type)((unsigned)(s * 7 + (int)k * 3) % 8)};
        }
        const pt_shape *next = h->shape(kinds[s], f, n);
        if (tb.n && tb.shape != next) /* a batch holds one shape */
            batch_send(&tb, batched, r);
        pt_value *v = tb.v[tb.n];
        for (size_t k = 0; k < n; k++) {
            do /* a random value of the type field k of shape s always has */
                f[k] = random_field(r, names[s][k], tb.bytes[tb.n][k], tb.items[tb.n][k]);
            while ((unsigned)f[k].type != (unsigned)(s * 7 + (int)k * 3) % 8);
            v[k] = f[k].v;
        }
        pt_time ts = {1700000000 + it / 1000, (uint32_t)(it % 1000) * 997u};
        const pt_shape *sh = h->shape(kinds[s], f, n);
        for (int b = 0; b < BUSES; b += 3) {
            uint64_t before = bus[b].ref.events;
            bus[b].st.failed = false;
            h->emit(&bus[b].st, kinds[s], &ts, f, n);
            if ((bus[b].ref.events == before) != (sh == NULL)) {
                CU_FAIL("shape refused and emit taken, or the other way round");
                it = EVENTS;
            }
        }
        memset(names[s], 'x', sizeof names[s]); /* the shape must not need them any more */
        if (!sh) {
            refused++;
            continue;
        }
        CU_ASSERT_PTR_EQUAL(sh, next);
        shaped++;
        for (int b = 1; b < BUSES; b += 3)
            h->emit_shaped(&bus[b].st, sh, &ts, v);
        tb.shape = sh;
        tb.ts[tb.n++] = ts;
        if (tb.n == tb.want)
            batch_send(&tb, batched, r);
    }
    batch_send(&tb, batched, r);
    CU_ASSERT_TRUE(refused > 100); /* NULL names and fields the host refuses */
    CU_ASSERT_TRUE(shaped > EVENTS / 2);
    for (int i = 0; i < BUSES; i++)
        pt_events_free(bus[i].bus);
    pt_shapes_free();
    char *text[FILES];
    for (int i = 0; i < FILES; i++)
        text[i] = slurp(path[i]);
    CU_ASSERT_TRUE(strlen(text[0]) > 1000000);
    for (int i = 1; i < 6; i++)
        CU_ASSERT_STRING_EQUAL(text[i], text[0]);
    CU_ASSERT_TRUE(strlen(text[6]) > 100000);
    CU_ASSERT_STRING_EQUAL(text[7], text[6]);
    CU_ASSERT_STRING_EQUAL(text[8], text[6]);
    for (int i = 0; i < FILES; i++) {
        g_free(text[i]);
        g_unlink(path[i]);
        g_free(path[i]);
    }
    g_rmdir(dir);
    g_free(dir);
    g_rand_free(r);
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    CU_pSuite s = CU_add_suite("shapes", NULL, NULL);
    CU_add_test(s, "declare: checks and reuse", test_declare);
    CU_add_test(s, "emit_shaped: values still checked", test_emit_checks);
    CU_add_test(s, "sinks: shaped events render as fields", test_sinks_render_alike);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures();
    CU_cleanup_registry();
    return failed ? 1 : 0;
}
