/* sink_fixture.c — writes hostile events through the real sinks for the sink tests:
 *   sink_fixture hostile DIR          DIR/events.jsonl, DIR/events.txt, DIR/expected.jsonl
 *   sink_fixture redis URL N [MS [MAXLEN]]  N events to a redis sink, one every MS ms, XADD
 *                                           MAXLEN ~ MAXLEN; prints the counters
 * expected.jsonl has, per event, the exact bytes of each string field as base64, so the
 * checker (check_json.py) can verify lossless round trips with a real JSON parser. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>

#include "escape.h"
#include "events.h"
#include "sink.h"

static const pt_endpoint client4 = {{4, {192, 0, 2, 1}}, 40001};
static const pt_endpoint server4 = {{4, {192, 0, 2, 2}}, 6379};
static const pt_endpoint client6 = {{6, {0x20, 0x01, 0x0d, 0xb8, [15] = 1}}, 40002};
static const pt_endpoint server6 = {{6, {0x20, 0x01, 0x0d, 0xb8, [15] = 2}}, 443};

static FILE *expected;

/* Emit and record the exact bytes of every STR/BYTES field and list item. */
static void emit(pt_events *bus, bool v6, const char *kind, const pt_field *f, size_t n)
{
    pt_envelope env = {.proto = "hostile",
                       .flow_id = "F1",
                       .client = v6 ? &client6 : &client4,
                       .server = v6 ? &server6 : &server4};
    pt_event ev = {.kind = kind, .ts = {1700000000, 123456789}, .fields = f, .n_fields = n};
    pt_events_emit(bus, &env, &ev);
    if (!expected)
        return;
    GString *line = g_string_new("{\"event\":\"");
    g_string_append_printf(line, "%s\",\"fields\":{", kind);
    for (size_t i = 0; i < n; i++) {
        g_string_append_printf(line, "%s\"%s\":", i ? "," : "", f[i].name);
        if (f[i].type == PT_FIELD_STR || f[i].type == PT_FIELD_BYTES) {
            g_string_append_printf(line, "{\"type\":\"%s\",\"b64\":\"",
                                   f[i].type == PT_FIELD_STR ? "str" : "bytes");
            pt_escape_base64(line, f[i].v.str.ptr, f[i].v.str.len);
            g_string_append_printf(line, "\",\"full_len\":%" G_GUINT64_FORMAT "}",
                                   f[i].v.str.full_len);
        } else if (f[i].type == PT_FIELD_STR_LIST) {
            g_string_append(line, "{\"type\":\"list\",\"b64\":[");
            for (size_t k = 0; k < f[i].v.list.count; k++) {
                g_string_append_printf(line, "%s\"", k ? "," : "");
                pt_escape_base64(line, f[i].v.list.items[k].ptr, f[i].v.list.items[k].len);
                g_string_append_c(line, '"');
            }
            g_string_append_printf(line, "],\"total\":%" G_GUINT64_FORMAT "}", f[i].v.list.total);
        } else {
            g_string_append(line, "{\"type\":\"other\"}");
        }
    }
    g_string_append(line, "}}\n");
    fputs(line->str, expected);
    g_string_free(line, TRUE);
}

static int hostile(const char *dir)
{
    g_autofree char *jpath = g_build_filename(dir, "events.jsonl", NULL);
    g_autofree char *tpath = g_build_filename(dir, "events.txt", NULL);
    g_autofree char *epath = g_build_filename(dir, "expected.jsonl", NULL);
    expected = fopen(epath, "w");
    if (!expected)
        return 2;
    g_autofree char *jspec = g_strconcat("json:", jpath, NULL);
    g_autofree char *tspec = g_strconcat("text:", tpath, NULL);
    char *sinks[] = {jspec, tspec, NULL};
    pt_events_config cfg = {.format = "none", .sinks = sinks, .text_max_bytes = 64};
    GError *err = NULL;
    pt_events *bus = pt_events_new(&cfg, NULL, &err);
    if (!bus) {
        fprintf(stderr, "%s\n", err->message);
        return 2;
    }
    uint8_t all[256];
    for (int i = 0; i < 256; i++)
        all[i] = (uint8_t)i;
    pt_field f1[] = {PT_F_STR("value", PT_SPAN(all, 256)), PT_F_BYTES("raw", PT_SPAN(all, 256))};
    emit(bus, false, "all_bytes", f1, 2);

    /* Every single byte on its own, and every two-byte pair starting with a high byte. */
    for (int i = 0; i < 256; i++) {
        uint8_t b[2] = {(uint8_t)i, (uint8_t)(255 - i)};
        pt_field f[] = {PT_F_STR("one", PT_SPAN(b, 1)), PT_F_STR("two", PT_SPAN(b, 2))};
        emit(bus, i % 2, "byte", f, 2);
    }

    static const char good[] = "h\xc3\xa9llo \xe2\x9c\x93 \xf0\x9d\x84\x9e sep\xe2\x80\xa8"
                               "end \"quoted\" back\\slash";
    pt_field f2[] = {PT_F_STR("text", PT_SPAN(good, sizeof good - 1))};
    emit(bus, false, "utf8_ok", f2, 1);

    static const char *const bad[] = {"\xc0\xaf", "\xed\xa0\x80", "\xe2\x82", "\xf4\x90\x80\x80",
                                      "\x80",     "ok",           "\xff\xfe", "a\xe2\x82z"};
    pt_span items[G_N_ELEMENTS(bad)];
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++)
        items[i] = PT_SPAN(bad[i], strlen(bad[i]));
    pt_field f3[] = {PT_F_LIST("args", items, G_N_ELEMENTS(bad), 1000),
                     PT_F_STR("overlong", items[0]), PT_F_STR("surrogate", items[1])};
    emit(bus, true, "invalid_utf8", f3, 3);

    size_t big = 1 << 20;
    uint8_t *huge = g_malloc(big);
    GRand *r = g_rand_new_with_seed(7);
    for (size_t i = 0; i < big; i++)
        huge[i] = (uint8_t)g_rand_int(r);
    g_rand_free(r);
    pt_span cut = {huge, 4096, 5000000};
    pt_field f4[] = {PT_F_BYTES("blob", PT_SPAN(huge, big)), PT_F_STR("random", PT_SPAN(huge, big)),
                     PT_F_STR("prefix", cut)};
    emit(bus, false, "huge", f4, 3);
    g_free(huge);

    pt_field f5[] = {PT_F_DOUBLE("nan", 0.0 / 0.0),
                     PT_F_DOUBLE("inf", 1.0 / 0.0),
                     PT_F_DOUBLE("pi", 3.141592653589793),
                     PT_F_INT("min", INT64_MIN),
                     PT_F_UINT("max", UINT64_MAX),
                     PT_F_BOOL("yes", true),
                     PT_F_NULL("nothing"),
                     PT_F_STR("empty", PT_SPAN(NULL, 0))};
    emit(bus, true, "numbers", f5, 8);

    pt_events_free(bus);
    fclose(expected);
    return 0;
}

/* The queue holds every event the test produces, so a drop with a live server can only be
 * a bug, never the scheduling of the sender thread on a loaded machine. */
#define FIXTURE_QUEUE_BYTES (64 << 20)

static int redis(const char *url, int n, int interval_ms, long maxlen)
{
    char *sinks[] = {(char *)url, NULL};
    pt_events_config cfg = {.format = "none",
                            .sinks = sinks,
                            .queue_bytes = FIXTURE_QUEUE_BYTES,
                            .redis_maxlen = maxlen};
    GError *err = NULL;
    pt_events *bus = pt_events_new(&cfg, NULL, &err);
    if (!bus) {
        fprintf(stderr, "%s\n", err->message);
        return 2;
    }
    gint64 start = g_get_monotonic_time();
    for (int i = 0; i < n; i++) {
        char key[32];
        snprintf(key, sizeof key, "key:%d\r\n\x01", i);
        pt_field f[] = {PT_F_INT("seq", i), PT_F_STR("key", PT_SPAN(key, strlen(key)))};
        emit(bus, i % 2, "command", f, 2);
        if (interval_ms) {
            pt_events_tick(bus);
            g_usleep((gulong)interval_ms * 1000);
        }
    }
    gint64 queued = g_get_monotonic_time() - start;
    pt_events_finish(bus);
    pt_events_stats st;
    pt_events_get_stats(bus, &st);
    pt_events_free(bus);
    printf("events=%" G_GUINT64_FORMAT " dropped=%" G_GUINT64_FORMAT " errors=%" G_GUINT64_FORMAT
           " queued_us=%" G_GINT64_FORMAT "\n",
           st.events, st.sink_dropped, st.sink_errors, queued);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 3 && strcmp(argv[1], "hostile") == 0)
        return hostile(argv[2]);
    if (argc >= 4 && strcmp(argv[1], "redis") == 0)
        return redis(argv[2], atoi(argv[3]), argc > 4 ? atoi(argv[4]) : 0,
                     argc > 5 ? atol(argv[5]) : 0);
    fprintf(stderr, "usage: %s hostile DIR | redis URL N [MS [MAXLEN]]\n", argv[0]);
    return 2;
}
