/* test_dispatch.c — protocol detection and stream hand-off, driven through the tcp consumer
 * callbacks with small in-process plugins: standard and odd ports, first bytes split over
 * segments, server-first protocols, mixed protocols on one port, the probe bound, gaps while
 * undecided, violations and misbehaving plugins. No root, no capture. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>
#include <glib.h>

#include "dispatch.h"
#include "plugin_host.h"
#include "sink.h"

/* --- a fake flow: the two functions dispatch uses from the tracker --- */

struct pt_flow {
    pt_flow_info info;
    void *user;
};

const pt_flow_info *pt_flow_get_info(const pt_flow *f)
{
    return &f->info;
}

void **pt_flow_user(pt_flow *f)
{
    return &f->user;
}

/* --- a sink that records events as "proto kind dir=N data=..." strings --- */

static GPtrArray *events;

static void rec_write(pt_sink *s, const pt_envelope *env, const pt_event *ev)
{
    GString *l = g_string_new(NULL);
    g_string_append_printf(l, "%s %s %s", env->proto, ev->kind, env->flow_id);
    for (size_t i = 0; i < ev->n_fields; i++) {
        const pt_field *f = &ev->fields[i];
        if (f->type == PT_FIELD_UINT)
            g_string_append_printf(l, " %s=%" G_GUINT64_FORMAT, f->name, f->v.u);
        else if (f->type == PT_FIELD_STR)
            g_string_append_printf(l, " %s=%.*s", f->name, (int)f->v.str.len,
                                   (const char *)f->v.str.ptr);
    }
    g_ptr_array_add(events, g_string_free(l, FALSE));
}

static void rec_flush(pt_sink *s)
{
}

static void rec_free(pt_sink *s)
{
    g_free(s);
}

static const pt_sink_ops rec_ops = {
    .type = "record", .write = rec_write, .flush = rec_flush, .free = rec_free};

/* --- toy plugins --- */

static const pt_host *host;
static int opens, closes, released_closes, data_calls;

typedef struct toy_state {
    pt_stream *s;
    GString *seen[2]; /* everything delivered, per direction, gaps as [gap N] */
} toy_state;

static GPtrArray *finished; /* "plugin:to_server|to_client" transcripts at close */

static void *toy_open(void *ps, pt_stream *s)
{
    toy_state *t = g_new0(toy_state, 1);
    t->s = s;
    t->seen[0] = g_string_new(NULL);
    t->seen[1] = g_string_new(NULL);
    opens++;
    return t;
}

static pt_feed_result toy_data(void *state, pt_dir dir, const uint8_t *data, size_t len,
                               const pt_time *ts)
{
    toy_state *t = state;
    data_calls++;
    g_string_append_len(t->seen[dir], (const char *)data, (gssize)len);
    pt_field f[] = {PT_F_UINT("dir", dir), PT_F_STR("data", PT_SPAN(data, len))};
    host->emit(t->s, "chunk", ts, f, 2);
    return PT_FEED_OK;
}

static void toy_gap(void *state, pt_dir dir, uint64_t missing, const pt_time *ts)
{
    toy_state *t = state;
    g_string_append_printf(t->seen[dir], "[gap %" G_GUINT64_FORMAT "]", missing);
}

static void toy_close(void *state, pt_close_reason why, const pt_time *ts)
{
    toy_state *t = state;
    closes++;
    if (why == PT_CLOSE_RELEASED)
        released_closes++;
    g_ptr_array_add(finished, g_strdup_printf("%s|%s", t->seen[0]->str, t->seen[1]->str));
    g_string_free(t->seen[0], TRUE);
    g_string_free(t->seen[1], TRUE);
    g_free(t);
}

static void *toy_init(const pt_host *h, const pt_options *o, char **error)
{
    host = h;
    return NULL;
}

/* "resp": requests are arrays "*<n>\r\n...", replies start with a type byte. */
static pt_probe_result resp_probe(pt_dir dir, const uint8_t *p, size_t n)
{
    if (dir == PT_DIR_TO_CLIENT)
        return strchr("+-:$*", p[0]) ? PT_PROBE_YES : PT_PROBE_NO;
    if (p[0] != '*')
        return PT_PROBE_NO;
    size_t i = 1;
    while (i < n && g_ascii_isdigit(p[i]))
        i++;
    if (i == n)
        return PT_PROBE_NEED_MORE;
    if (i == 1 || p[i] != '\r')
        return PT_PROBE_NO;
    if (i + 1 == n)
        return PT_PROBE_NEED_MORE;
    return p[i + 1] == '\n' ? PT_PROBE_YES : PT_PROBE_NO;
}

/* "web": a request method, or a status line. */
static pt_probe_result prefix_probe(const uint8_t *p, size_t n, const char *const *words)
{
    bool maybe = false;
    for (const char *const *w = words; *w; w++) {
        size_t wl = strlen(*w);
        if (n >= wl && memcmp(p, *w, wl) == 0)
            return PT_PROBE_YES;
        if (n < wl && memcmp(p, *w, n) == 0)
            maybe = true;
    }
    return maybe ? PT_PROBE_NEED_MORE : PT_PROBE_NO;
}

static pt_probe_result web_probe(pt_dir dir, const uint8_t *p, size_t n)
{
    static const char *const methods[] = {"GET ", "POST ", "PUT ", "HEAD ", NULL};
    static const char *const status[] = {"HTTP/1.", NULL};
    return prefix_probe(p, n, dir == PT_DIR_TO_SERVER ? methods : status);
}

/* "banner": a server-first protocol: the server greets with "220 ". */
static pt_probe_result banner_probe(pt_dir dir, const uint8_t *p, size_t n)
{
    static const char *const greet[] = {"220 ", NULL};
    return dir == PT_DIR_TO_CLIENT ? prefix_probe(p, n, greet) : PT_PROBE_NEED_MORE;
}

static pt_probe_result need_more_probe(pt_dir dir, const uint8_t *p, size_t n)
{
    return PT_PROBE_NEED_MORE;
}

static pt_probe_result no_probe(pt_dir dir, const uint8_t *p, size_t n)
{
    return PT_PROBE_NO;
}

static pt_probe_result bogus_probe(pt_dir dir, const uint8_t *p, size_t n)
{
    return (pt_probe_result)42;
}

static pt_feed_result violate_data(void *state, pt_dir dir, const uint8_t *data, size_t len,
                                   const pt_time *ts)
{
    data_calls++;
    return PT_FEED_VIOLATION;
}

static pt_feed_result rude_data(void *state, pt_dir dir, const uint8_t *data, size_t len,
                                const pt_time *ts)
{
    toy_state *t = state;
    data_calls++;
    pt_field f[] = {PT_F_UINT("Bad Name", 1)};
    host->emit(t->s, "chunk", ts, f, 1);
    return PT_FEED_OK;
}

static pt_feed_result weird_data(void *state, pt_dir dir, const uint8_t *data, size_t len,
                                 const pt_time *ts)
{
    data_calls++;
    return (pt_feed_result)99;
}

static void *decline_open(void *ps, pt_stream *s)
{
    return NULL;
}

#define TOY(nm, ports_, probe_, data_)                                                             \
    {                                                                                              \
        .abi_version = PT_PLUGIN_ABI, .struct_size = sizeof(pt_plugin), .name = nm,                \
        .version = "0", .description = "toy", .server_ports = ports_, .init = toy_init,            \
        .probe = probe_, .stream_open = toy_open, .stream_data = data_, .stream_gap = toy_gap,     \
        .stream_close = toy_close                                                                  \
    }

static const uint16_t resp_ports[] = {6379, 0};
static const uint16_t web_ports[] = {80, 0};
static const uint16_t violator_ports[] = {9999, 0};
static const uint16_t rude_ports[] = {9998, 0};
static const uint16_t weird_ports[] = {9997, 0};
static const uint16_t decline_ports[] = {9996, 0};

static const pt_plugin resp = TOY("resp", resp_ports, resp_probe, toy_data);
static const pt_plugin web = TOY("web", web_ports, web_probe, toy_data);
static const pt_plugin banner = TOY("banner", NULL, banner_probe, toy_data);
static const pt_plugin greedy = TOY("greedy", NULL, need_more_probe, toy_data);
static const pt_plugin bogus = TOY("bogus", NULL, bogus_probe, toy_data);
static const pt_plugin violator = TOY("violator", violator_ports, no_probe, violate_data);
static const pt_plugin rude = TOY("rude", rude_ports, no_probe, rude_data);
static const pt_plugin weird = TOY("weird", weird_ports, no_probe, weird_data);
static pt_plugin decliner = TOY("decliner", decline_ports, no_probe, toy_data);

/* --- harness --- */

static pt_dispatch *disp;
static pt_tcp_consumer cons;
static int flow_no;
static const pt_time t0 = {1700000000, 5000};

static void setup_mem(const pt_plugin *const *plugins, size_t probe_max_bytes, unsigned turns,
                      size_t memory)
{
    pt_plugin_set *set = pt_plugin_loader_new(NULL, NULL, NULL);
    for (size_t i = 0; plugins[i]; i++)
        CU_ASSERT_FATAL(pt_plugin_loader_add(set, plugins[i], "(test)"));
    CU_ASSERT_FATAL(pt_options_apply(set, NULL, NULL, NULL));
    pt_plugin_loader_init(set, pt_plugin_host_get());
    pt_events *bus = pt_events_new_empty();
    pt_sink *rec = g_new0(pt_sink, 1);
    rec->ops = &rec_ops;
    rec->name = g_strdup("record");
    pt_events_add_sink(bus, rec);
    pt_dispatch_limits lim = {probe_max_bytes, turns, memory};
    disp = pt_dispatch_new(set, bus, true, &lim);
    pt_dispatch_consumer(disp, &cons);
    g_ptr_array_set_size(events, 0);
    g_ptr_array_set_size(finished, 0);
    opens = closes = released_closes = data_calls = 0;
}

static void setup(const pt_plugin *const *plugins, size_t probe_max_bytes, unsigned turns)
{
    setup_mem(plugins, probe_max_bytes, turns, 0);
}

static void teardown(void)
{
    pt_dispatch_free(disp);
    disp = NULL;
}

static pt_flow *flow_new(uint16_t server_port)
{
    pt_flow *f = g_new0(pt_flow, 1);
    snprintf(f->info.id, sizeof f->info.id, "F%d", ++flow_no);
    const uint8_t c[4] = {10, 0, 0, 1}, s[4] = {10, 0, 0, 2};
    f->info.client.addr.family = 4;
    memcpy(f->info.client.addr.bytes, c, 4);
    f->info.client.port = (uint16_t)(40000 + flow_no);
    f->info.server.addr.family = 4;
    memcpy(f->info.server.addr.bytes, s, 4);
    f->info.server.port = server_port;
    cons.on_start(cons.ctx, f, &t0);
    return f;
}

static void send(pt_flow *f, pt_dir dir, const char *text)
{
    cons.on_data(cons.ctx, f, dir, (const uint8_t *)text, strlen(text), &t0);
}

static void flow_end(pt_flow *f)
{
    cons.on_end(cons.ctx, f, PT_CLOSE_FIN, &t0);
    CU_ASSERT_PTR_NULL(f->user);
    g_free(f);
}

static int count_events(const char *prefix)
{
    int n = 0;
    for (guint i = 0; i < events->len; i++)
        n += g_str_has_prefix(g_ptr_array_index(events, i), prefix);
    return n;
}

static const char *last_finished(void)
{
    return finished->len ? g_ptr_array_index(finished, finished->len - 1) : "";
}

static const pt_plugin *const resp_web[] = {&resp, &web, NULL};

/* --- tests --- */

static void test_standard_port(void)
{
    setup(resp_web, 0, 0);
    /* The port decides: no probe, even for bytes that do not look like RESP. */
    pt_flow *f = flow_new(6379);
    send(f, PT_DIR_TO_SERVER, "hello");
    CU_ASSERT_EQUAL(count_events("resp chunk F"), 1);
    flow_end(f);
    CU_ASSERT_STRING_EQUAL(last_finished(), "hello|");
    f = flow_new(80);
    send(f, PT_DIR_TO_SERVER, "GET / HTTP/1.1\r\n\r\n");
    CU_ASSERT_EQUAL(count_events("web chunk"), 1);
    flow_end(f);
    pt_dispatch_stats st;
    pt_dispatch_get_stats(disp, &st);
    CU_ASSERT_EQUAL(st.by_port, 2);
    CU_ASSERT_EQUAL(st.by_probe, 0);
    CU_ASSERT_TRUE(pt_dispatch_is_server_port(disp, 6379));
    CU_ASSERT_TRUE(pt_dispatch_is_server_port(disp, 80));
    CU_ASSERT_FALSE(pt_dispatch_is_server_port(disp, 7777));
    CU_ASSERT_TRUE(cons.is_server_port(cons.ctx, 6379));
    teardown();
}

static void test_odd_ports(void)
{
    setup(resp_web, 0, 0);
    pt_flow *f = flow_new(7777);
    send(f, PT_DIR_TO_SERVER, "*1\r\n$4\r\nPING\r\n");
    send(f, PT_DIR_TO_CLIENT, "+PONG\r\n");
    CU_ASSERT_EQUAL(count_events("resp chunk"), 2);
    flow_end(f);
    CU_ASSERT_STRING_EQUAL(last_finished(), "*1\r\n$4\r\nPING\r\n|+PONG\r\n");

    f = flow_new(5432);
    send(f, PT_DIR_TO_SERVER, "GET /x HTTP/1.1\r\nHost: a\r\n\r\n");
    send(f, PT_DIR_TO_CLIENT, "HTTP/1.1 200 OK\r\n\r\n");
    CU_ASSERT_EQUAL(count_events("web chunk"), 2);
    flow_end(f);
    pt_dispatch_stats st;
    pt_dispatch_get_stats(disp, &st);
    CU_ASSERT_EQUAL(st.by_probe, 2);
    CU_ASSERT_EQUAL(st.probe_bytes_copied, 0); /* decided in place, nothing copied */
    teardown();
}

static void test_split_first_bytes(void)
{
    setup(resp_web, 0, 0);
    pt_flow *f = flow_new(7000);
    send(f, PT_DIR_TO_SERVER, "*");
    send(f, PT_DIR_TO_SERVER, "12");
    CU_ASSERT_EQUAL(opens, 0);
    send(f, PT_DIR_TO_SERVER, "\r");
    send(f, PT_DIR_TO_SERVER, "\n$3\r\nGET\r\n");
    CU_ASSERT_EQUAL(opens, 1);
    send(f, PT_DIR_TO_SERVER, "more");
    flow_end(f);
    /* The plugin saw every byte, in order, once. */
    CU_ASSERT_STRING_EQUAL(last_finished(), "*12\r\n$3\r\nGET\r\nmore|");
    pt_dispatch_stats st;
    pt_dispatch_get_stats(disp, &st);
    CU_ASSERT_EQUAL(st.probe_bytes_copied, 4);
    teardown();
}

static void test_server_first_and_interleaving(void)
{
    const pt_plugin *const plugins[] = {&resp, &web, &banner, NULL};
    setup(plugins, 0, 0);
    pt_flow *f = flow_new(2525);
    send(f, PT_DIR_TO_CLIENT, "22");
    send(f, PT_DIR_TO_SERVER, "EH");
    send(f, PT_DIR_TO_CLIENT, "0 mail ready\r\n");
    CU_ASSERT_EQUAL(opens, 1);
    CU_ASSERT_EQUAL(count_events("banner chunk"), 3);
    /* Replayed in arrival order: to_client "22", to_server "EH", then the rest. */
    g_autofree char *first = g_strdup_printf("banner chunk %s dir=1 data=22", f->info.id);
    g_autofree char *second = g_strdup_printf("banner chunk %s dir=0 data=EH", f->info.id);
    CU_ASSERT_STRING_EQUAL(g_ptr_array_index(events, 0), first);
    CU_ASSERT_STRING_EQUAL(g_ptr_array_index(events, 1), second);
    send(f, PT_DIR_TO_SERVER, "LO x\r\n");
    flow_end(f);
    CU_ASSERT_STRING_EQUAL(last_finished(), "EHLO x\r\n|220 mail ready\r\n");
    teardown();
}

static void test_mixed_on_one_port(void)
{
    setup(resp_web, 0, 0);
    pt_flow *a = flow_new(8000);
    pt_flow *b = flow_new(8000);
    pt_flow *c = flow_new(8000);
    send(a, PT_DIR_TO_SERVER, "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n");
    send(b, PT_DIR_TO_SERVER, "POST /q HTTP/1.1\r\n\r\n");
    send(c, PT_DIR_TO_SERVER, "\x16\x03\x01\x02\x00"); /* TLS: nobody's */
    send(a, PT_DIR_TO_CLIENT, "$-1\r\n");
    send(b, PT_DIR_TO_CLIENT, "HTTP/1.1 204 No Content\r\n\r\n");
    send(c, PT_DIR_TO_CLIENT, "\x16\x03\x03");
    CU_ASSERT_EQUAL(count_events("resp chunk F"), 2);
    CU_ASSERT_EQUAL(count_events("web chunk F"), 2);
    CU_ASSERT_EQUAL(events->len, 4);
    flow_end(a);
    flow_end(b);
    flow_end(c);
    CU_ASSERT_EQUAL(closes, 2);
    pt_dispatch_stats st;
    pt_dispatch_get_stats(disp, &st);
    CU_ASSERT_EQUAL(st.by_probe, 2);
    CU_ASSERT_EQUAL(st.unclaimed, 1);
    teardown();
}

static void test_probe_bound(void)
{
    const pt_plugin *const plugins[] = {&greedy, NULL};
    setup(plugins, 64, 0);
    pt_flow *f = flow_new(1234);
    for (int i = 0; i < 100; i++)
        send(f, (pt_dir)(i % 2), "0123456789");
    CU_ASSERT_EQUAL(opens, 0);
    CU_ASSERT_EQUAL(data_calls, 0);
    pt_dispatch_stats st;
    pt_dispatch_get_stats(disp, &st);
    CU_ASSERT(st.probe_bytes_copied <= 2 * 64);
    CU_ASSERT_EQUAL(st.unclaimed, 1);
    flow_end(f);
    CU_ASSERT_EQUAL(closes, 0);
    /* One big first chunk beyond the bound: given up at once, nothing copied. */
    f = flow_new(1234);
    char big[200];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = 0;
    send(f, PT_DIR_TO_SERVER, big);
    pt_dispatch_stats st2;
    pt_dispatch_get_stats(disp, &st2);
    CU_ASSERT_EQUAL(st2.unclaimed, 2);
    CU_ASSERT_EQUAL(st2.probe_bytes_copied, st.probe_bytes_copied);
    flow_end(f);
    teardown();

    /* The turn bound: many direction changes of tiny chunks. */
    setup(plugins, 4096, 4);
    f = flow_new(1234);
    for (int i = 0; i < 10; i++)
        send(f, (pt_dir)(i % 2), "a");
    pt_dispatch_get_stats(disp, &st);
    CU_ASSERT_EQUAL(st.unclaimed, 1);
    CU_ASSERT_EQUAL(st.probe_bytes_copied, 4);
    flow_end(f);
    teardown();
}

/* All undecided streams together buffer at most probe_memory. */
static void test_probe_memory(void)
{
    const pt_plugin *const plugins[] = {&greedy, NULL};
    setup_mem(plugins, 64, 0, 128); /* room for two buffers */
    pt_flow *a = flow_new(1111), *b = flow_new(1111), *c = flow_new(1111);
    send(a, PT_DIR_TO_SERVER, "x");
    send(b, PT_DIR_TO_SERVER, "x");
    send(c, PT_DIR_TO_SERVER, "x");
    pt_dispatch_stats st;
    pt_dispatch_get_stats(disp, &st);
    CU_ASSERT_EQUAL(st.probe_memory_full, 1);
    CU_ASSERT_EQUAL(st.probe_bytes_copied, 2);
    flow_end(a);
    pt_flow *e = flow_new(1111);
    send(e, PT_DIR_TO_SERVER, "x"); /* a's buffer is free again */
    pt_dispatch_get_stats(disp, &st);
    CU_ASSERT_EQUAL(st.probe_memory_full, 1);
    CU_ASSERT_EQUAL(st.probe_bytes_copied, 3);
    flow_end(b);
    flow_end(c);
    flow_end(e);
    teardown();
}

static void test_gap_while_probing(void)
{
    setup(resp_web, 0, 0);
    pt_flow *f = flow_new(7001);
    send(f, PT_DIR_TO_SERVER, "*1");
    cons.on_gap(cons.ctx, f, PT_DIR_TO_SERVER, 100, &t0);
    /* After the hole, probes look at the new bytes only ("*1*3\r\n" would be no). */
    send(f, PT_DIR_TO_SERVER, "*3\r\n");
    CU_ASSERT_EQUAL(opens, 1);
    flow_end(f);
    CU_ASSERT_STRING_EQUAL(last_finished(), "*1[gap 100]*3\r\n|");
    teardown();
}

static void test_violation_and_misbehaviour(void)
{
    const pt_plugin *const plugins[] = {&violator, &rude, &weird, &decliner, &bogus, NULL};
    decliner.stream_open = decline_open;
    setup(plugins, 0, 0);
    uint16_t ports[] = {9999, 9998, 9997};
    for (size_t i = 0; i < G_N_ELEMENTS(ports); i++) {
        closes = released_closes = data_calls = 0;
        pt_flow *f = flow_new(ports[i]);
        send(f, PT_DIR_TO_SERVER, "first");
        send(f, PT_DIR_TO_SERVER, "second");
        cons.on_gap(cons.ctx, f, PT_DIR_TO_SERVER, 5, &t0);
        CU_ASSERT_EQUAL(data_calls, 1); /* nothing after the release */
        CU_ASSERT_EQUAL(released_closes, 1);
        flow_end(f);
        CU_ASSERT_EQUAL(closes, 1); /* closed once, not again at the end */
    }
    CU_ASSERT_EQUAL(events->len, 0); /* the malformed event was dropped */
    CU_ASSERT(pt_plugin_host_bad_events() >= 1);
    pt_dispatch_stats st;
    pt_dispatch_get_stats(disp, &st);
    CU_ASSERT_EQUAL(st.released, 3);
    CU_ASSERT_EQUAL(st.misbehaved, 2);
    pt_plugin_set *set = pt_dispatch_plugins(disp);
    CU_ASSERT_EQUAL(pt_plugin_loader_find(set, "violator")->violations, 1);

    /* A declined stream stays tcp-only. */
    pt_flow *f = flow_new(9996);
    send(f, PT_DIR_TO_SERVER, "x");
    flow_end(f);
    pt_dispatch_get_stats(disp, &st);
    CU_ASSERT_EQUAL(st.declined, 1);

    /* A probe returning nonsense counts as "no" and as misbehaviour. */
    f = flow_new(4321);
    send(f, PT_DIR_TO_SERVER, "x");
    flow_end(f);
    pt_dispatch_get_stats(disp, &st);
    CU_ASSERT_EQUAL(st.unclaimed, 1);
    CU_ASSERT_EQUAL(st.misbehaved, 3);
    teardown();
}

static void test_no_plugins(void)
{
    const pt_plugin *const none[] = {NULL};
    setup(none, 0, 0);
    pt_flow *f = flow_new(6379);
    send(f, PT_DIR_TO_SERVER, "*1\r\n");
    flow_end(f);
    CU_ASSERT_EQUAL(events->len, 0);
    CU_ASSERT_FALSE(pt_dispatch_is_server_port(disp, 6379));
    teardown();
}

/* Many flows reuse pooled state: no growth, every stream closed. */
static void test_many_flows(void)
{
    setup(resp_web, 128, 0);
    for (int i = 0; i < 2000; i++) {
        pt_flow *f = flow_new((uint16_t)(10000 + i % 7));
        send(f, PT_DIR_TO_SERVER, i % 2 ? "*" : "GE");
        send(f, PT_DIR_TO_SERVER, i % 2 ? "1\r\n" : "T / HTTP/1.0\r\n\r\n");
        flow_end(f);
    }
    CU_ASSERT_EQUAL(opens, 2000);
    CU_ASSERT_EQUAL(closes, 2000);
    teardown();
}

int main(void)
{
    events = g_ptr_array_new_with_free_func(g_free);
    finished = g_ptr_array_new_with_free_func(g_free);
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    CU_pSuite s = CU_add_suite("dispatch", NULL, NULL);
    CU_add_test(s, "standard ports", test_standard_port);
    CU_add_test(s, "odd ports by probe", test_odd_ports);
    CU_add_test(s, "first bytes split over segments", test_split_first_bytes);
    CU_add_test(s, "server first, interleaved replay", test_server_first_and_interleaving);
    CU_add_test(s, "mixed protocols on one port", test_mixed_on_one_port);
    CU_add_test(s, "probe bound", test_probe_bound);
    CU_add_test(s, "probe memory bound", test_probe_memory);
    CU_add_test(s, "gap while probing", test_gap_while_probing);
    CU_add_test(s, "violation and misbehaviour", test_violation_and_misbehaviour);
    CU_add_test(s, "no plugins", test_no_plugins);
    CU_add_test(s, "many flows", test_many_flows);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
    CU_cleanup_registry();
    g_ptr_array_unref(events);
    g_ptr_array_unref(finished);
    return failed ? 1 : 0;
}
