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

/* Envelope texts kept per thread (the render runs on the capture thread): the flow/proto
 * part and the client/server part repeat for every event of a stream, so they are rendered
 * once per stream and copied afterwards. Flow ids and protocol names longer than this, or
 * that need escaping, are rendered every time. */
#define PT_JSON_ENV_CACHE_SLOTS 64 /* streams remembered (a power of two) */
#define PT_JSON_ENV_NAME_MAX    32 /* longest flow id / proto cached */

typedef struct json_sink {
    pt_sink base;
    pt_sink_batch out; /* lines rendered in place, written in blocks */
    bool owned;
} json_sink;

/* One stream's envelope texts. The key is the flow id's address; a hit also needs equal
 * flow id and proto texts and equal endpoints, since a flow's storage is reused. */
typedef struct env_slot {
    const char *flow_ptr;
    pt_endpoint client, server;
    bool has_client, has_server;
    char flow[PT_JSON_ENV_NAME_MAX + 1];
    char proto[PT_JSON_ENV_NAME_MAX + 1];
    uint8_t head_len, tail_len;
    char head[2 * PT_JSON_ENV_NAME_MAX + 48]; /* ,"flow":"F","proto":"P","event":" */
    char tail[2 * PT_ENDPOINT_STRLEN + 32];   /* ","client":"C","server":"S" */
} env_slot;

static _Thread_local env_slot env_cache[PT_JSON_ENV_CACHE_SLOTS];
G_STATIC_ASSERT((PT_JSON_ENV_CACHE_SLOTS & (PT_JSON_ENV_CACHE_SLOTS - 1)) == 0);

/* The seconds part of the last timestamp rendered ("1700000000."), per thread. */
typedef struct ts_cache {
    int64_t sec;
    bool valid;
    uint8_t len;
    char text[24];
} ts_cache;
static _Thread_local ts_cache ts_last;

/* ,"name<suffix>": — names are almost always plain ASCII: one copy. */
static void put_key(GString *out, const char *name, const char *suffix)
{
    size_t n = strlen(name), sn = suffix ? strlen(suffix) : 0;
    if (pt_escape_json_plain((const uint8_t *)name, n) == n) {
        char *w = pt_buf_reserve(out, n + sn + 4);
        w[0] = ',';
        w[1] = '"';
        memcpy(w + 2, name, n);
        if (sn)
            memcpy(w + 2 + n, suffix, sn);
        w[2 + n + sn] = '"';
        w[3 + n + sn] = ':';
        pt_buf_commit(out, n + sn + 4);
        return;
    }
    pt_buf_append_lit(out, ",\"");
    pt_escape_json(out, (const uint8_t *)name, n);
    if (suffix)
        g_string_append(out, suffix);
    pt_buf_append_lit(out, "\":");
}

/* ,"name": for a name the host checked ([a-z0-9_]{1,64}): nothing to escape. */
static void put_checked_key(GString *out, const char *name)
{
    size_t n = strlen(name);
    char *w = pt_buf_reserve(out, n + 4);
    w[0] = ',';
    w[1] = '"';
    memcpy(w + 2, name, n);
    w[2 + n] = '"';
    w[3 + n] = ':';
    pt_buf_commit(out, n + 4);
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
    size_t n = span_len(s);
    size_t plain = pt_escape_json_plain(s->ptr, n);
    if (plain == n) {
        char *w = pt_buf_reserve(out, n + 2);
        w[0] = '"';
        if (n)
            memcpy(w + 1, s->ptr, n);
        w[n + 1] = '"';
        pt_buf_commit(out, n + 2);
        return true;
    }
    g_string_append_c(out, '"');
    pt_buf_append(out, s->ptr, plain);
    bool exact = pt_escape_json(out, s->ptr + plain, n - plain);
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

/* Epoch seconds with 6 decimals; the seconds text is kept while it does not change. */
static void put_ts(GString *out, const pt_time *ts)
{
    int64_t sec = ts->sec;
    uint32_t usec = (ts->nsec % 1000000000u) / 1000u;
    if (sec < 0 && usec > 0) {
        /* -2.5 s is sec=-3, nsec=0.5e9: print the magnitude. */
        g_string_append_c(out, '-');
        pt_escape_u64(out, (uint64_t)(-(sec + 1)));
        usec = 1000000u - usec;
        g_string_append_c(out, '.');
        pt_escape_digits(out, usec, 6);
        return;
    }
    if (!ts_last.valid || ts_last.sec != sec) {
        size_t n = 0;
        if (sec < 0)
            ts_last.text[n++] = '-';
        n += pt_escape_u64_to(ts_last.text + n,
                              sec < 0 ? (uint64_t)0 - (uint64_t)sec : (uint64_t)sec);
        ts_last.text[n++] = '.';
        ts_last.len = (uint8_t)n;
        ts_last.sec = sec;
        ts_last.valid = true;
    }
    char *w = pt_buf_reserve(out, ts_last.len + 6u);
    memcpy(w, ts_last.text, ts_last.len);
    for (int i = ts_last.len + 5; i >= ts_last.len; i--) {
        w[i] = (char)('0' + usec % 10);
        usec /= 10;
    }
    pt_buf_commit(out, ts_last.len + 6u);
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

/* Largest integer-valued double printed as an integer without printf: below 2^53 every
 * integer is exact and "%.17g" prints it in full, without an exponent. */
#define JSON_DOUBLE_INT_MAX 9007199254740992.0

static void put_double(GString *out, double d)
{
    if (!isfinite(d)) {
        pt_buf_append_lit(out, "null");
    } else if (d == 0) {
        if (signbit(d))
            pt_buf_append_lit(out, "-0");
        else
            g_string_append_c(out, '0');
    } else if (d > -JSON_DOUBLE_INT_MAX && d < JSON_DOUBLE_INT_MAX && d == (double)(int64_t)d) {
        pt_escape_i64(out, (int64_t)d);
    } else {
        char num[G_ASCII_DTOSTR_BUF_SIZE];
        g_string_append(out, g_ascii_formatd(num, sizeof num, "%.17g", d));
    }
}

static void put_field(GString *out, const pt_field *f, bool name_checked)
{
    if (name_checked)
        put_checked_key(out, f->name);
    else
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
        put_double(out, f->v.d);
        break;
    case PT_FIELD_BOOL:
        if (f->v.b)
            pt_buf_append_lit(out, "true");
        else
            pt_buf_append_lit(out, "false");
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

static bool endpoint_same(const pt_endpoint *cached, bool has, const pt_endpoint *e)
{
    if (!e)
        return !has;
    return has && cached->port == e->port && cached->addr.family == e->addr.family &&
           memcmp(cached->addr.bytes, e->addr.bytes, sizeof e->addr.bytes) == 0;
}

/* strcmp(a, b) == 0 for the short texts of the envelope, inline. */
static inline bool same_text(const char *a, const char *b)
{
    size_t i = 0;
    for (; a[i] == b[i]; i++)
        if (a[i] == '\0')
            return true;
    return false;
}

/* Length of s when it is at most PT_JSON_ENV_NAME_MAX bytes that need no escaping, else -1. */
static int cacheable_name(const char *s)
{
    size_t n = strnlen(s, PT_JSON_ENV_NAME_MAX + 1);
    if (n > PT_JSON_ENV_NAME_MAX || pt_escape_json_plain((const uint8_t *)s, n) != n)
        return -1;
    return (int)n;
}

/* The last client and server printed, by value (per thread): a stream that is new to the
 * envelope cache often has the endpoints of the one before. */
static _Thread_local pt_endpoint_cache client_text, server_text;

/* Fill a slot for this envelope; false when it cannot be cached. */
static bool env_fill(env_slot *e, const char *flow, const char *proto, const pt_envelope *env)
{
    int fl = cacheable_name(flow), pl = cacheable_name(proto);
    if (fl < 0 || pl < 0)
        return false;
    e->flow_ptr = flow;
    memcpy(e->flow, flow, (size_t)fl + 1);
    memcpy(e->proto, proto, (size_t)pl + 1);
    e->has_client = env->client != NULL;
    e->has_server = env->server != NULL;
    if (env->client)
        e->client = *env->client;
    if (env->server)
        e->server = *env->server;
    size_t n = 0;
    memcpy(e->head + n, ",\"flow\":\"", 9);
    n += 9;
    memcpy(e->head + n, flow, (size_t)fl);
    n += (size_t)fl;
    memcpy(e->head + n, "\",\"proto\":\"", 11);
    n += 11;
    memcpy(e->head + n, proto, (size_t)pl);
    n += (size_t)pl;
    memcpy(e->head + n, "\",\"event\":\"", 11);
    n += 11;
    e->head_len = (uint8_t)n;
    n = 0;
    memcpy(e->tail + n, "\",\"client\":\"", 12);
    n += 12;
    n += pt_escape_endpoint_to(e->tail + n, env->client, &client_text);
    memcpy(e->tail + n, "\",\"server\":\"", 12);
    n += 12;
    n += pt_escape_endpoint_to(e->tail + n, env->server, &server_text);
    e->tail[n++] = '"';
    e->tail_len = (uint8_t)n;
    return true;
}

/* The envelope after ts, from the per-stream cache when possible. */
static void put_envelope(GString *out, const pt_envelope *env, const pt_event *ev)
{
    const char *flow = env->flow_id ? env->flow_id : "";
    const char *proto = env->proto ? env->proto : "";
    const char *kind = ev->kind ? ev->kind : "";
    uintptr_t a = (uintptr_t)flow;
    env_slot *e = &env_cache[(a ^ (a >> 6) ^ (a >> 12)) & (PT_JSON_ENV_CACHE_SLOTS - 1)];
    bool hit = e->flow_ptr == flow && same_text(e->flow, flow) && same_text(e->proto, proto) &&
               endpoint_same(&e->client, e->has_client, env->client) &&
               endpoint_same(&e->server, e->has_server, env->server);
    if (hit || env_fill(e, flow, proto, env)) {
        pt_buf_append(out, e->head, e->head_len);
        size_t kn = strlen(kind);
        if (env->names_checked || pt_escape_json_plain((const uint8_t *)kind, kn) == kn)
            pt_buf_append(out, kind, kn);
        else
            pt_escape_json(out, (const uint8_t *)kind, kn);
        pt_buf_append(out, e->tail, e->tail_len);
        return;
    }
    pt_buf_append_lit(out, ",\"flow\":");
    put_str(out, flow);
    pt_buf_append_lit(out, ",\"proto\":");
    put_str(out, proto);
    pt_buf_append_lit(out, ",\"event\":");
    put_str(out, kind);
    pt_buf_append_lit(out, ",\"client\":\"");
    pt_escape_endpoint(out, env->client, &client_text);
    pt_buf_append_lit(out, "\",\"server\":\"");
    pt_escape_endpoint(out, env->server, &server_text);
    g_string_append_c(out, '"');
}

/* The fast path: a field with a checked name whose value needs no escaping, base64 or
 * companion key (the usual case) is written straight into room reserved once. */
#define JSON_FAST_NAME_MAX 64 /* the host checks names to [a-z0-9_]{1,64} */

/* ,"name": at w; NULL when the name is longer than JSON_FAST_NAME_MAX. */
static inline char *fast_key(char *w, const char *name)
{
    size_t n = strlen(name);
    if (n > JSON_FAST_NAME_MAX)
        return NULL;
    w[0] = ',';
    w[1] = '"';
    memcpy(w + 2, name, n);
    w[2 + n] = '"';
    w[3 + n] = ':';
    return w + n + 4;
}

/* The ,"name": texts of string-literal names, keyed by address (per thread: the render runs
 * on the capture thread): one fixed-size copy per key instead of strlen and memcpy. */
#define PT_JSON_KEY_CACHE_SLOTS 256 /* a power of two */
#define JSON_KEY_COPY           32  /* keys up to this long are copied with one fixed move */
#define JSON_KEY_PROBES         4   /* slots looked at for a name */
typedef struct key_slot {
    const char *name;
    uint8_t len;
    char text[JSON_FAST_NAME_MAX + 4 + JSON_KEY_COPY];
} key_slot;
static _Thread_local key_slot key_cache[PT_JSON_KEY_CACHE_SLOTS];
G_STATIC_ASSERT((PT_JSON_KEY_CACHE_SLOTS & (PT_JSON_KEY_CACHE_SLOTS - 1)) == 0);

/* fast_key() for a name the envelope says is a string literal. Writes up to
 * JSON_FAST_NAME_MAX + 4 bytes at w (and may scribble up to JSON_KEY_COPY of them). */
static inline char *literal_key(char *w, const char *name)
{
    /* Fibonacci hashing (literals sit a few bytes apart, so mix all address bits), then a
     * few linear probes before the home slot is reused: names that collide do not evict each
     * other event after event. */
    uint64_t h = (uint64_t)(uintptr_t)name * UINT64_C(0x9e3779b97f4a7c15);
    size_t home = (size_t)(h >> 32) & (PT_JSON_KEY_CACHE_SLOTS - 1);
    key_slot *k = &key_cache[home];
    for (size_t p = 1; k->name != name && k->name && p < JSON_KEY_PROBES; p++)
        k = &key_cache[(home + p) & (PT_JSON_KEY_CACHE_SLOTS - 1)];
    if (k->name != name) {
        if (k->name)
            k = &key_cache[home];
        char *end = fast_key(k->text, name);
        if (!end)
            return NULL;
        k->name = name;
        k->len = (uint8_t)(end - k->text);
    }
    if (k->len <= JSON_KEY_COPY)
        memcpy(w, k->text, JSON_KEY_COPY);
    else
        memcpy(w, k->text, k->len);
    return w + k->len;
}

/* "value" at w for a span that needs no escaping; NULL otherwise. */
static inline char *fast_span(char *w, const pt_span *s)
{
    size_t n = span_len(s);
    if (pt_escape_json_plain(s->ptr, n) != n)
        return NULL;
    *w++ = '"';
    if (n)
        memcpy(w, s->ptr, n);
    w += n;
    *w++ = '"';
    return w;
}

/* Room the fast path needs for f, or 0 when f always takes the general path. */
static size_t fast_room(const pt_field *f)
{
    const size_t key = JSON_FAST_NAME_MAX + 4;
    switch (f->type) {
    case PT_FIELD_STR:
        return key + span_len(&f->v.str) + 2;
    case PT_FIELD_INT:
    case PT_FIELD_UINT:
        return key + 21;
    case PT_FIELD_BOOL:
    case PT_FIELD_NULL:
        return key + 5;
    case PT_FIELD_STR_LIST: {
        if (!f->v.list.items)
            return 0;
        size_t room = key + 2;
        for (size_t i = 0; i < f->v.list.count; i++)
            room += span_len(&f->v.list.items[i]) + 3;
        return room;
    }
    default:
        return 0;
    }
}

/* Write f at w (fast_room(f) bytes available) and return the end, or NULL when the value
 * needs escaping, base64 or a companion key: then the general path renders it. */
static char *fast_field(char *w, const pt_field *f, bool literal)
{
    w = literal ? literal_key(w, f->name) : fast_key(w, f->name);
    if (!w)
        return NULL;
    switch (f->type) {
    case PT_FIELD_STR:
        if (f->v.str.full_len > span_len(&f->v.str))
            return NULL;
        return fast_span(w, &f->v.str);
    case PT_FIELD_INT: {
        int64_t v = f->v.i;
        if (v < 0)
            *w++ = '-';
        return w + pt_escape_u64_to(w, v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v);
    }
    case PT_FIELD_UINT:
        return w + pt_escape_u64_to(w, f->v.u);
    case PT_FIELD_BOOL:
        memcpy(w, f->v.b ? "true" : "false", f->v.b ? 4 : 5);
        return w + (f->v.b ? 4 : 5);
    case PT_FIELD_NULL:
        memcpy(w, "null", 4);
        return w + 4;
    case PT_FIELD_STR_LIST: {
        const pt_span *items = f->v.list.items;
        size_t count = f->v.list.count;
        if (f->v.list.total > count)
            return NULL;
        *w++ = '[';
        for (size_t i = 0; i < count; i++) {
            if (i)
                *w++ = ',';
            w = fast_span(w, &items[i]);
            if (!w)
                return NULL;
        }
        *w++ = ']';
        return w;
    }
    default:
        return NULL;
    }
}

/* Write fields [i, n) on the fast path into one reservation, stopping at the first one that
 * needs the general path; returns its index (n when all were written). */
static size_t fast_fields(GString *out, const pt_field *fields, size_t i, size_t n, bool literal)
{
    size_t room = 0, end = i;
    for (; end < n; end++) {
        if (!fields[end].name)
            continue;
        size_t r = fast_room(&fields[end]);
        if (!r)
            break;
        room += r;
    }
    if (room == 0)
        return end;
    char *start = pt_buf_reserve(out, room), *w = start;
    for (; i < end; i++) {
        if (!fields[i].name)
            continue;
        char *next = fast_field(w, &fields[i], literal);
        if (!next)
            break;
        w = next;
    }
    pt_buf_commit(out, (size_t)(w - start));
    return i;
}

void pt_sink_json_render(GString *out, const pt_envelope *env, const pt_event *ev)
{
    pt_buf_append_lit(out, "{\"ts\":");
    put_ts(out, &ev->ts);
    put_envelope(out, env, ev);
    size_t n = ev->n_fields;
    for (size_t i = 0; i < n;) {
        if (env->names_checked)
            i = fast_fields(out, ev->fields, i, n, env->names_literal);
        if (i < n) {
            if (ev->fields[i].name)
                put_field(out, &ev->fields[i], env->names_checked);
            i++;
        }
    }
    g_string_append_c(out, '}');
}

static void json_write(pt_sink *s, const pt_envelope *env, const pt_event *ev)
{
    json_sink *j = (json_sink *)s;
    pt_sink_json_render(j->out.buf, env, ev);
    g_string_append_c(j->out.buf, '\n');
    pt_sink_batch_line_done(s, &j->out);
}

static void json_flush(pt_sink *s)
{
    json_sink *j = (json_sink *)s;
    pt_sink_batch_flush(s, &j->out);
}

static void json_free(pt_sink *s)
{
    json_sink *j = (json_sink *)s;
    pt_sink_batch_flush(s, &j->out);
    if (j->owned)
        fclose(j->out.f);
    pt_sink_batch_free(&j->out);
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
    j->owned = owned;
    pt_sink_batch_init(&j->out, f, cfg->stdio_buffer);
    return &j->base;
}
