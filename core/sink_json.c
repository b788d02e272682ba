/* sink_json.c — the JSON lines sink: one JSON object (RFC 8259) per event and line.
 *
 * Envelope first: ts (epoch seconds with 6 decimals, a number), flow, proto, event, client,
 * server; then the event's fields in order. Strings are always valid UTF-8: a STR value that
 * is not well-formed UTF-8 is written with U+FFFD in place of the bad bytes AND the exact
 * bytes as base64 in "<name>_b64" (for a list, "<name>_b64" is an array with null for the
 * items that were exact). BYTES values are always base64. A value the producer shortened
 * (full_len > len) adds "<name>_full_len"; a list with fewer items than on the wire adds
 * "<name>_total". Doubles that are not finite are null. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "escape.h"
#include "sink.h"

typedef struct json_sink {
    pt_sink base;
    FILE *f;
    bool owned;
    GString *buf; /* reused line buffer */
} json_sink;

static void put_key(GString *out, const char *name, const char *suffix)
{
    pt_buf_append_lit(out, ",\"");
    pt_escape_json(out, (const uint8_t *)name, strlen(name));
    if (suffix)
        g_string_append(out, suffix);
    pt_buf_append_lit(out, "\":");
}

static void put_str(GString *out, const char *s)
{
    g_string_append_c(out, '"');
    pt_escape_json(out, (const uint8_t *)s, strlen(s));
    g_string_append_c(out, '"');
}

static size_t span_len(const pt_span *s)
{
    return s->ptr ? s->len : 0;
}

/* A STR value; returns whether it was exact (well-formed UTF-8). */
static bool put_span(GString *out, const pt_span *s)
{
    g_string_append_c(out, '"');
    bool exact = pt_escape_json(out, s->ptr, span_len(s));
    g_string_append_c(out, '"');
    return exact;
}

static void put_b64(GString *out, const pt_span *s)
{
    g_string_append_c(out, '"');
    pt_escape_base64(out, s->ptr, span_len(s));
    g_string_append_c(out, '"');
}

static void put_full_len(GString *out, const pt_field *f)
{
    size_t n = span_len(&f->v.str);
    if (f->v.str.full_len > n) {
        put_key(out, f->name, "_full_len");
        pt_escape_u64(out, f->v.str.full_len);
    }
}

static void put_ts(GString *out, const pt_time *ts)
{
    int64_t sec = ts->sec;
    uint32_t usec = (ts->nsec % 1000000000u) / 1000u;
    if (sec < 0 && usec > 0) {
        /* -2.5 s is sec=-3, nsec=0.5e9: print the magnitude. */
        g_string_append_c(out, '-');
        pt_escape_u64(out, (uint64_t)(-(sec + 1)));
        usec = 1000000u - usec;
    } else {
        pt_escape_i64(out, sec);
    }
    g_string_append_c(out, '.');
    pt_escape_digits(out, usec, 6);
}

static void put_list(GString *out, const pt_field *f)
{
    const pt_span *items = f->v.list.items;
    size_t count = items ? f->v.list.count : 0;
    bool all_exact = true;
    g_string_append_c(out, '[');
    for (size_t i = 0; i < count; i++) {
        if (i)
            g_string_append_c(out, ',');
        all_exact &= put_span(out, &items[i]);
    }
    g_string_append_c(out, ']');
    if (!all_exact) {
        put_key(out, f->name, "_b64");
        g_string_append_c(out, '[');
        for (size_t i = 0; i < count; i++) {
            if (i)
                g_string_append_c(out, ',');
            if (pt_escape_utf8_valid(items[i].ptr, span_len(&items[i])))
                pt_buf_append_lit(out, "null");
            else
                put_b64(out, &items[i]);
        }
        g_string_append_c(out, ']');
    }
    if (f->v.list.total > count) {
        put_key(out, f->name, "_total");
        pt_escape_u64(out, f->v.list.total);
    }
}

static void put_field(GString *out, const pt_field *f)
{
    put_key(out, f->name, NULL);
    switch (f->type) {
    case PT_FIELD_STR:
        if (!put_span(out, &f->v.str)) {
            put_key(out, f->name, "_b64");
            put_b64(out, &f->v.str);
        }
        put_full_len(out, f);
        break;
    case PT_FIELD_BYTES:
        put_b64(out, &f->v.str);
        put_full_len(out, f);
        break;
    case PT_FIELD_INT:
        pt_escape_i64(out, f->v.i);
        break;
    case PT_FIELD_UINT:
        pt_escape_u64(out, f->v.u);
        break;
    case PT_FIELD_DOUBLE:
        if (isfinite(f->v.d)) {
            char num[G_ASCII_DTOSTR_BUF_SIZE];
            g_string_append(out, g_ascii_formatd(num, sizeof num, "%.17g", f->v.d));
        } else {
            pt_buf_append_lit(out, "null");
        }
        break;
    case PT_FIELD_BOOL:
        g_string_append(out, f->v.b ? "true" : "false");
        break;
    case PT_FIELD_STR_LIST:
        put_list(out, f);
        break;
    case PT_FIELD_NULL:
    default:
        pt_buf_append_lit(out, "null");
        break;
    }
}

void pt_sink_json_render(GString *out, const pt_envelope *env, const pt_event *ev)
{
    /* Renders happen on one thread at a time per thread: cache per thread. */
    static _Thread_local pt_endpoint_cache cc, sc;
    pt_buf_append_lit(out, "{\"ts\":");
    put_ts(out, &ev->ts);
    pt_buf_append_lit(out, ",\"flow\":");
    put_str(out, env->flow_id ? env->flow_id : "");
    pt_buf_append_lit(out, ",\"proto\":");
    put_str(out, env->proto ? env->proto : "");
    pt_buf_append_lit(out, ",\"event\":");
    put_str(out, ev->kind ? ev->kind : "");
    pt_buf_append_lit(out, ",\"client\":\"");
    pt_escape_endpoint(out, env->client, &cc);
    pt_buf_append_lit(out, "\",\"server\":\"");
    pt_escape_endpoint(out, env->server, &sc);
    g_string_append_c(out, '"');
    for (size_t i = 0; i < ev->n_fields; i++)
        if (ev->fields[i].name)
            put_field(out, &ev->fields[i]);
    g_string_append_c(out, '}');
}

static void json_write(pt_sink *s, const pt_envelope *env, const pt_event *ev)
{
    json_sink *j = (json_sink *)s;
    g_string_truncate(j->buf, 0);
    pt_sink_json_render(j->buf, env, ev);
    g_string_append_c(j->buf, '\n');
    pt_sink_write_buffer(s, j->f, j->buf);
}

static void json_flush(pt_sink *s)
{
    json_sink *j = (json_sink *)s;
    if (fflush(j->f) != 0) {
        s->stats.errors++;
        clearerr(j->f);
    }
}

static void json_free(pt_sink *s)
{
    json_sink *j = (json_sink *)s;
    if (j->owned)
        fclose(j->f);
    else
        fflush(j->f);
    g_string_free(j->buf, TRUE);
    g_free(j);
}

static const pt_sink_ops json_ops = {"json", json_write, json_flush, NULL, json_free};

pt_sink *pt_sink_json_new(const pt_sink_file_config *cfg, GError **error)
{
    bool owned;
    FILE *f = pt_sink_open_stream(cfg->path, cfg->stdio_buffer, &owned, error);
    if (!f)
        return NULL;
    json_sink *j = g_new0(json_sink, 1);
    j->base.ops = &json_ops;
    j->base.name = g_strconcat("json:", cfg->path, NULL);
    j->f = f;
    j->owned = owned;
    j->buf = g_string_sized_new(1024);
    return &j->base;
}
