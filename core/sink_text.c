/* sink_text.c — the text sink: one line per event, "HH:MM:SS.uuuuuu client -> server " then
 * the producer's formatter output (or "proto event key=value ..."). Bytes are escaped
 * (binary-safe, terminal-safe), long values shortened with their full length shown, colour
 * only when asked for (the bus asks on a terminal without --no-color). */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "addr.h"
#include "escape.h"
#include "sink.h"

#define COLOR_DIM   "\x1b[2m"
#define COLOR_PROTO "\x1b[36m"
#define COLOR_EVENT "\x1b[1m"
#define COLOR_OFF   "\x1b[0m"

/* localtime_r() per event is costly (time zone rules); keep the last second's text. */
typedef struct tod_cache {
    int64_t sec;
    char hms[16];
    bool valid;
} tod_cache;

typedef struct text_sink {
    pt_sink base;
    pt_sink_batch out; /* lines rendered in place, written in blocks */
    bool owned;
    pt_text text; /* renders into out.buf */
} text_sink;

/* One cache per thread: renders happen on the capture thread. */
static _Thread_local tod_cache tod;

static void put_time(GString *out, const pt_time *ts)
{
    if (!tod.valid || tod.sec != ts->sec) {
        time_t t = (time_t)ts->sec;
        struct tm tm;
        if (localtime_r(&t, &tm))
            snprintf(tod.hms, sizeof tod.hms, "%02d:%02d:%02d", tm.tm_hour, tm.tm_min, tm.tm_sec);
        else
            snprintf(tod.hms, sizeof tod.hms, "??:??:??");
        tod.sec = ts->sec;
        tod.valid = true;
    }
    size_t n = strnlen(tod.hms, sizeof tod.hms);
    char *w = pt_buf_reserve(out, n + 7);
    memcpy(w, tod.hms, n);
    w[n] = '.';
    uint32_t usec = (ts->nsec % 1000000000u) / 1000u;
    for (size_t i = n + 6; i > n; i--) {
        w[i] = (char)('0' + usec % 10);
        usec /= 10;
    }
    pt_buf_commit(out, n + 7);
}

static void put_value(pt_text *t, const pt_field *f)
{
    GString *out = t->buf;
    switch (f->type) {
    case PT_FIELD_STR:
        pt_text_span(t, f->v.str, 0, true);
        break;
    case PT_FIELD_BYTES: {
        /* Binary values as hex, shortened like strings. */
        size_t n = f->v.str.ptr ? f->v.str.len : 0;
        size_t max = t->max_bytes / 2 ? t->max_bytes / 2 : 1;
        uint64_t full = f->v.str.full_len > n ? f->v.str.full_len : n;
        for (size_t i = 0; i < n && i < max; i++) {
            static const char hx[] = "0123456789abcdef";
            char h[2] = {hx[f->v.str.ptr[i] >> 4], hx[f->v.str.ptr[i] & 15]};
            g_string_append_len(out, h, 2);
        }
        if (full > (n < max ? n : max))
            pt_escape_printf(out, "\xe2\x80\xa6(%" PRIu64 " bytes)", full);
        break;
    }
    case PT_FIELD_INT:
        pt_escape_i64(out, f->v.i);
        break;
    case PT_FIELD_UINT:
        pt_escape_u64(out, f->v.u);
        break;
    case PT_FIELD_DOUBLE: {
        char num[G_ASCII_DTOSTR_BUF_SIZE];
        if (isfinite(f->v.d))
            g_string_append(out, g_ascii_formatd(num, sizeof num, "%.6g", f->v.d));
        else
            g_string_append(out, isnan(f->v.d) ? "nan" : f->v.d > 0 ? "inf" : "-inf");
        break;
    }
    case PT_FIELD_BOOL:
        g_string_append(out, f->v.b ? "true" : "false");
        break;
    case PT_FIELD_STR_LIST: {
        size_t count = f->v.list.items ? f->v.list.count : 0;
        g_string_append_c(out, '[');
        for (size_t i = 0; i < count; i++) {
            if (i)
                g_string_append_c(out, ' ');
            pt_text_span(t, f->v.list.items[i], 0, true);
        }
        if (f->v.list.total > count)
            pt_escape_printf(out, "%s\xe2\x80\xa6(%" PRIu64 " items)", count ? " " : "",
                             f->v.list.total);
        g_string_append_c(out, ']');
        break;
    }
    case PT_FIELD_NULL:
    default:
        g_string_append(out, "-");
        break;
    }
}

/* Fields as key=value when the producer has no formatter. */
static void put_fields(pt_text *t, const pt_envelope *env, const pt_event *ev)
{
    GString *out = t->buf;
    const char *proto = env->proto ? env->proto : "", *kind = ev->kind ? ev->kind : "";
    if (t->color)
        pt_buf_append_lit(out, COLOR_PROTO);
    pt_buf_append(out, proto, strlen(proto));
    if (t->color)
        pt_buf_append_lit(out, COLOR_OFF " " COLOR_EVENT);
    else
        g_string_append_c(out, ' ');
    pt_buf_append(out, kind, strlen(kind));
    if (t->color)
        pt_buf_append_lit(out, COLOR_OFF);
    for (size_t i = 0; i < ev->n_fields; i++) {
        const pt_field *f = &ev->fields[i];
        if (!f->name)
            continue;
        g_string_append_c(out, ' ');
        pt_escape_text(out, (const uint8_t *)f->name, strlen(f->name), false);
        g_string_append_c(out, '=');
        put_value(t, f);
    }
}

/* Texts of recent endpoints, per thread: interleaved connections alternate between a few
 * client ports, which a single remembered endpoint would miss every time. */
#define TEXT_ENDPOINT_SLOTS 64 /* a power of two */
static _Thread_local pt_endpoint_cache endpoint_cache[TEXT_ENDPOINT_SLOTS];

static void put_endpoint(GString *out, const pt_endpoint *e)
{
    size_t h = 0;
    if (e) {
        const uint8_t *b = e->addr.bytes;
        h = (size_t)e->port * 31u + b[15] + b[3] * 7u + b[12] * 13u;
    }
    pt_escape_endpoint(out, e, &endpoint_cache[h & (TEXT_ENDPOINT_SLOTS - 1)]);
}

/* Turn line breaks a formatter wrote into spaces: one event per line. */
static void unbreak(char *p, char *end)
{
    static const char breaks[] = {'\n', '\r'};
    for (size_t k = 0; k < sizeof breaks; k++)
        for (char *q = p; (q = memchr(q, breaks[k], (size_t)(end - q))) != NULL;)
            *q++ = ' ';
}

void pt_sink_text_render(pt_text *t, const pt_envelope *env, const pt_event *ev)
{
    GString *out = t->buf;
    if (t->color)
        g_string_append(out, COLOR_DIM);
    put_time(out, &ev->ts);
    if (t->color)
        g_string_append(out, COLOR_OFF);
    g_string_append_c(out, ' ');
    put_endpoint(out, env->client);
    pt_buf_append_lit(out, " -> ");
    put_endpoint(out, env->server);
    g_string_append_c(out, ' ');
    size_t before = out->len;
    if (env->format_text)
        env->format_text(env->format_ctx, ev, t);
    if (!env->format_text || out->len == before)
        put_fields(t, env, ev);
    /* A formatter must not end the line or break it in two. */
    unbreak(out->str + before, out->str + out->len);
    g_string_append_c(out, '\n');
}

static void text_write(pt_sink *s, const pt_envelope *env, const pt_event *ev)
{
    text_sink *ts = (text_sink *)s;
    pt_sink_text_render(&ts->text, env, ev);
    pt_sink_batch_line_done(s, &ts->out);
}

static void text_flush(pt_sink *s)
{
    text_sink *ts = (text_sink *)s;
    pt_sink_batch_flush(s, &ts->out);
}

static void text_free(pt_sink *s)
{
    text_sink *ts = (text_sink *)s;
    pt_sink_batch_flush(s, &ts->out);
    if (ts->owned)
        fclose(ts->out.f);
    pt_sink_batch_free(&ts->out);
    g_free(ts);
}

static const pt_sink_ops text_ops = {
    .type = "text", .write = text_write, .flush = text_flush, .free = text_free};

pt_sink *pt_sink_text_new(const pt_sink_file_config *cfg, GError **error)
{
    bool owned;
    FILE *f = pt_sink_open_stream(cfg->path, &owned, error);
    if (!f)
        return NULL;
    text_sink *ts = g_new0(text_sink, 1);
    ts->base.ops = &text_ops;
    ts->base.name = g_strconcat("text:", cfg->path, NULL);
    ts->owned = owned;
    pt_sink_batch_init(&ts->out, f, cfg->block_bytes);
    ts->text.buf = ts->out.buf;
    ts->text.color = cfg->color;
    ts->text.max_bytes = cfg->max_bytes ? cfg->max_bytes : PT_SINK_TEXT_MAX_BYTES_DEFAULT;
    return &ts->base;
}
