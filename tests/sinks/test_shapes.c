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
    /* A plugin declaring without end meets the cap (3 declared above). */
    size_t declared = 3;
    char k[24];
    for (int i = 0; i < PT_SHAPES_MAX + 10; i++) {
        snprintf(k, sizeof k, "cap_%d", i);
        declared += h->shape(k, f, 2) != NULL;
    }
    CU_ASSERT_EQUAL(declared, PT_SHAPES_MAX);
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

/* Random events of random shapes through four buses: as fields or shaped, to one json sink,
 * and to a json and a text sink together. Every json file and both text files must be the
 * same, byte for byte; a shape the host refuses is an event emit() refuses. Names are
 * written to buffers after they were declared (the shape keeps copies). */
static void test_sinks_render_alike(void)
{
    enum { SHAPES = 40, FIELDS = 10, EVENTS = 20000 };
    char *dir = g_dir_make_tmp("pt-shapes-XXXXXX", NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
    char *path[6];
    static const char *const leaf[6] = {"fields.json",  "shaped.json", "fields2.json",
                                        "shaped2.json", "fields2.txt", "shaped2.txt"};
    for (int i = 0; i < 6; i++)
        path[i] = g_build_filename(dir, leaf[i], NULL);
    host_fixture bus[4];
    for (int i = 0; i < 4; i++) {
        host_fixture_init(&bus[i], "shapetest");
        add_file_sink(&bus[i], true, path[i]);
        if (i >= 2)
            add_file_sink(&bus[i], false, path[i + 2]);
    }
    const pt_host *h = bus[0].h;
    GRand *r = g_rand_new_with_seed(29);
    static char names[SHAPES][FIELDS][32];
    static char kinds[SHAPES][16];
    uint8_t bytes[FIELDS][40];
    pt_span items[FIELDS][4];
    size_t refused = 0, shaped = 0;
    for (int it = 0; it < EVENTS; it++) {
        int s = g_rand_int_range(r, 0, SHAPES);
        size_t n = (size_t)(s % (FIELDS + 1));
        snprintf(kinds[s], sizeof kinds[s], "kind_%d", s);
        pt_field f[FIELDS];
        pt_value v[FIELDS];
        for (size_t k = 0; k < n; k++) {
            snprintf(names[s][k], sizeof names[s][k], "f%d_%zu", s, k);
            do /* a random value of the type field k of shape s always has */
                f[k] = random_field(r, names[s][k], bytes[k], items[k]);
            while ((unsigned)f[k].type != (unsigned)(s * 7 + (int)k * 3) % 8);
            v[k] = f[k].v;
        }
        pt_time ts = {1700000000 + it / 1000, (uint32_t)(it % 1000) * 997u};
        const pt_shape *sh = h->shape(kinds[s], f, n);
        for (int b = 0; b < 4; b += 2) {
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
        shaped++;
        for (int b = 1; b < 4; b += 2)
            h->emit_shaped(&bus[b].st, sh, &ts, v);
    }
    CU_ASSERT_TRUE(refused > 100); /* NULL names and fields the host refuses */
    CU_ASSERT_TRUE(shaped > EVENTS / 2);
    for (int i = 0; i < 4; i++)
        pt_events_free(bus[i].bus);
    pt_shapes_free();
    char *text[6];
    for (int i = 0; i < 6; i++)
        text[i] = slurp(path[i]);
    CU_ASSERT_TRUE(strlen(text[0]) > 1000000);
    CU_ASSERT_STRING_EQUAL(text[1], text[0]);
    CU_ASSERT_STRING_EQUAL(text[2], text[0]);
    CU_ASSERT_STRING_EQUAL(text[3], text[0]);
    CU_ASSERT_TRUE(strlen(text[4]) > 100000);
    CU_ASSERT_STRING_EQUAL(text[5], text[4]);
    for (int i = 0; i < 6; i++) {
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
