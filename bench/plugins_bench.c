/* plugins_bench.c — cost of events and dispatch: events per second through the JSON and the
 * text sink into /dev/null (a Redis-like command event: 10 fields, a 3-item list), the same
 * through the host's emit (its per-event checks included), and streams
 * per second through dispatch with probing (two in-process plugins, first bytes split over two
 * segments, one event per stream).
 *
 * Usage: plugins_bench [EVENTS (default 2000000)] [STREAMS (default 500000)] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <glib.h>

#include "dispatch.h"
#include "plugin_host.h"
#include "sink.h"

static double now_s(void)
{
    return (double)g_get_monotonic_time() / 1e6;
}

/* CPU time of the process: the figure that matters on a shared, loaded machine. */
static double cpu_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Events to one sink: straight to the bus, or (via_host) through the host table's emit as a
 * plugin would, which adds the host's per-event checks. */
static void bench_sink(const char *spec, long n, bool via_host)
{
    char *sinks[] = {(char *)spec, NULL};
    pt_events_config cfg = {.format = "none", .sinks = sinks};
    GError *err = NULL;
    pt_events *bus = pt_events_new(&cfg, NULL, &err);
    if (!bus) {
        fprintf(stderr, "%s\n", err->message);
        exit(1);
    }
    pt_endpoint c = {{4, {10, 1, 2, 3}}, 51234}, s = {{4, {10, 1, 2, 4}}, 6379};
    pt_envelope env = {.proto = "redis", .flow_id = "C123", .client = &c, .server = &s};
    pt_plugin_ref ref = {.desc = {.name = "redis"}};
    pt_stream st = {.client = &c, .server = &s, .id = "C123", .plugin = &ref, .bus = bus};
    const pt_host *h = pt_plugin_host_get();
    static const char key[] = "user:1000:session", val[] = "some value with \"quotes\"\n";
    pt_span args[] = {PT_SPAN(key, sizeof key - 1), PT_SPAN("EX", 2), PT_SPAN("3600", 4)};
    double t0 = now_s(), c0 = cpu_s();
    for (long i = 0; i < n; i++) {
        pt_field f[] = {PT_F_STR("command", PT_SPAN("SET", 3)),
                        PT_F_LIST("args", args, 3, 4),
                        PT_F_STR("key", PT_SPAN(key, sizeof key - 1)),
                        PT_F_STR("value", PT_SPAN(val, sizeof val - 1)),
                        PT_F_UINT("seq", (uint64_t)i),
                        PT_F_UINT("request_bytes", 64),
                        PT_F_STR("reply", PT_SPAN("OK", 2)),
                        PT_F_BOOL("error", false),
                        PT_F_INT("latency_us", 87),
                        PT_F_DOUBLE("ratio", 0.25)};
        pt_event ev = {.kind = "command",
                       .ts = {1700000000 + i / 100000, (uint32_t)(i % 100000) * 10000},
                       .fields = f,
                       .n_fields = 10};
        if (via_host)
            h->emit(&st, ev.kind, &ev.ts, f, 10);
        else
            pt_events_emit(bus, &env, &ev);
    }
    pt_events_free(bus);
    if (via_host && ref.misbehaved) {
        fprintf(stderr, "plugins_bench: %" G_GUINT64_FORMAT " events refused by the host\n",
                ref.misbehaved);
        exit(1);
    }
    double dt = now_s() - t0, dc = cpu_s() - c0;
    char label[64];
    snprintf(label, sizeof label, "%s%s", via_host ? "host+" : "", spec);
    printf("%-22s %9ld events   wall %6.3f s %9.0f/s   cpu %6.3f s %9.0f/s\n", label, n, dt,
           (double)n / dt, dc, (double)n / dc);
}

/* --- dispatch: fake flows, two toy plugins --- */

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

static const pt_host *host;
static int stream_token;

static void *toy_init(const pt_host *h, const pt_options *o, char **error)
{
    host = h;
    return NULL;
}
static pt_probe_result probe_a(pt_dir dir, const uint8_t *p, size_t n)
{
    return p[0] != 'A' ? PT_PROBE_NO : n < 4 ? PT_PROBE_NEED_MORE : PT_PROBE_YES;
}
static pt_probe_result probe_b(pt_dir dir, const uint8_t *p, size_t n)
{
    return p[0] != 'B' ? PT_PROBE_NO : n < 4 ? PT_PROBE_NEED_MORE : PT_PROBE_YES;
}
static void *toy_open(void *ps, pt_stream *s)
{
    return s;
}
static pt_feed_result toy_data(void *st, pt_dir dir, const uint8_t *d, size_t n, const pt_time *ts)
{
    pt_field f[] = {PT_F_STR("data", PT_SPAN(d, n))};
    host->emit(st, "chunk", ts, f, 1);
    return PT_FEED_OK;
}
static void toy_gap(void *st, pt_dir dir, uint64_t n, const pt_time *ts)
{
}
static void toy_close(void *st, pt_close_reason why, const pt_time *ts)
{
    stream_token++;
}

#define TOY(nm, pr)                                                                                \
    {                                                                                              \
        .abi_version = PT_PLUGIN_ABI, .struct_size = sizeof(pt_plugin), .name = nm,                \
        .version = "0", .description = "bench", .init = toy_init, .probe = pr,                     \
        .stream_open = toy_open, .stream_data = toy_data, .stream_gap = toy_gap,                   \
        .stream_close = toy_close                                                                  \
    }
static const pt_plugin plug_a = TOY("a", probe_a), plug_b = TOY("b", probe_b);

static void bench_dispatch(long n)
{
    pt_plugin_set *set = pt_plugin_loader_new(NULL, NULL, NULL);
    pt_plugin_loader_add(set, &plug_a, "(bench)");
    pt_plugin_loader_add(set, &plug_b, "(bench)");
    pt_options_apply(set, NULL, NULL, NULL);
    pt_plugin_loader_init(set, pt_plugin_host_get());
    GError *err = NULL;
    char *sinks[] = {"json:/dev/null", NULL};
    pt_events_config cfg = {.format = "none", .sinks = sinks};
    pt_events *bus = pt_events_new(&cfg, NULL, &err);
    pt_dispatch *d = pt_dispatch_new(set, bus, true, NULL);
    pt_tcp_consumer c;
    pt_dispatch_consumer(d, &c);
    pt_flow f = {0};
    f.info.client = (pt_endpoint){{4, {10, 0, 0, 1}}, 40000};
    f.info.server = (pt_endpoint){{4, {10, 0, 0, 2}}, 7777};
    strcpy(f.info.id, "C1");
    pt_time ts = {1700000000, 0};
    double t0 = now_s(), c0 = cpu_s();
    for (long i = 0; i < n; i++) {
        c.on_start(c.ctx, &f, &ts);
        c.on_data(c.ctx, &f, PT_DIR_TO_SERVER, (const uint8_t *)(i % 2 ? "AB" : "BA"), 2, &ts);
        c.on_data(c.ctx, &f, PT_DIR_TO_SERVER, (const uint8_t *)"CDEFGH", 6, &ts);
        c.on_end(c.ctx, &f, PT_CLOSE_FIN, &ts);
    }
    double dt = now_s() - t0, dc = cpu_s() - c0;
    pt_dispatch_stats st;
    pt_dispatch_get_stats(d, &st);
    pt_dispatch_free(d);
    printf("%-22s %9ld streams  wall %6.3f s %9.0f/s   cpu %6.3f s %9.0f/s  (%" G_GUINT64_FORMAT
           " claimed by probe)\n",
           "dispatch probe+replay", n, dt, (double)n / dt, dc, (double)n / dc, st.by_probe);
}

int main(int argc, char **argv)
{
    long events = argc > 1 ? atol(argv[1]) : 2000000;
    long streams = argc > 2 ? atol(argv[2]) : 500000;
    g_setenv("TZ", "UTC", TRUE);
    bench_sink("json:/dev/null", events, false);
    bench_sink("text:/dev/null", events, false);
    bench_sink("json:/dev/null", events, true);
    bench_dispatch(streams);
    return 0;
}
