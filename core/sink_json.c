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

typedef struct json_memory json_memory; /* plans and line heads (below) */

typedef struct json_sink {
    pt_sink base;
    pt_sink_batch out; /* lines rendered in place, written in blocks */
    bool owned;
    json_memory *memory; /* its own plans and line heads */
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
/* head and tail are copied in 16-byte blocks: their longest texts, rounded up, fit. */
G_STATIC_ASSERT((9 + 2 * PT_JSON_ENV_NAME_MAX + 22 + 15) / 16 * 16 <=
                2 * PT_JSON_ENV_NAME_MAX + 48);
G_STATIC_ASSERT((25 + 2 * PT_ENDPOINT_STRLEN + 15) / 16 * 16 <= 2 * PT_ENDPOINT_STRLEN + 32);

static _Thread_local env_slot env_cache[PT_JSON_ENV_CACHE_SLOTS];
G_STATIC_ASSERT((PT_JSON_ENV_CACHE_SLOTS & (PT_JSON_ENV_CACHE_SLOTS - 1)) == 0);

/* The seconds part of the last timestamp rendered ("1700000000."), per thread. */
typedef struct ts_cache {
    int64_t sec;
    bool valid;
    uint8_t len;
    char text[32]; /* read in 16-byte blocks: at most 21 bytes are used */
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

/* Keys of checked names, written without a look at their bytes. */
#define JSON_FAST_NAME_MAX 64                       /* the host checks names to [a-z0-9_]{1,64} */
#define JSON_KEY_MAX       (JSON_FAST_NAME_MAX + 4) /* ,"name": */
#define JSON_KEY_COPY      32 /* keys up to this long are copied with one fixed move */

/* ,"name": at w (room for JSON_KEY_MAX bytes); returns its length, 0 when the name is longer
 * than JSON_FAST_NAME_MAX. */
static inline size_t fast_key(char *w, const char *name)
{
    size_t n = strnlen(name, JSON_FAST_NAME_MAX + 1);
    if (n > JSON_FAST_NAME_MAX)
        return 0;
    w[0] = ',';
    w[1] = '"';
    memcpy(w + 2, name, n);
    w[2 + n] = '"';
    w[3 + n] = ':';
    return n + 4;
}

/* ,"name": for a name the host checked ([a-z0-9_]{1,64}): nothing to escape. */
static void put_checked_key(GString *out, const char *name)
{
    size_t n = fast_key(pt_buf_reserve(out, JSON_KEY_MAX), name);
    if (n)
        pt_buf_commit(out, n);
    else
        put_key(out, name, NULL);
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

/* Copy n bytes in 16-byte blocks, one or two moves for the short texts of the envelope:
 * src has n rounded up to 16 readable bytes, w as much room. */
static inline char *copy_blocks(char *w, const char *src, size_t n)
{
    for (size_t i = 0; i < n; i += 16)
        memcpy(w + i, src + i, 16);
    return w + n;
}

/* Six digits of microseconds at w, two per step. */
static inline char *put_usec(char *w, uint32_t usec)
{
    uint32_t hi = usec / 10000u, rest = usec % 10000u;
    memcpy(w, pt_escape_digit_pairs + 2 * hi, 2);
    memcpy(w + 2, pt_escape_digit_pairs + 2 * (rest / 100u), 2);
    memcpy(w + 4, pt_escape_digit_pairs + 2 * (rest % 100u), 2);
    return w + 6;
}

/* Remember the "seconds." text of sec in ts_last. */
static void ts_fill(int64_t sec)
{
    size_t n = 0;
    if (sec < 0)
        ts_last.text[n++] = '-';
    n += pt_escape_u64_to(ts_last.text + n, sec < 0 ? (uint64_t)0 - (uint64_t)sec : (uint64_t)sec);
    ts_last.text[n++] = '.';
    ts_last.len = (uint8_t)n;
    ts_last.sec = sec;
    ts_last.valid = true;
}

/* Epoch seconds with 6 decimals at w (room for JSON_TS_ROOM bytes); the seconds text is kept
 * while it does not change. */
#define JSON_TS_ROOM 48
static char *put_ts_to(char *w, const pt_time *ts)
{
    int64_t sec = ts->sec;
    uint32_t usec = (ts->nsec % 1000000000u) / 1000u;
    if (sec < 0 && usec > 0) {
        /* -2.5 s is sec=-3, nsec=0.5e9: print the magnitude. */
        *w++ = '-';
        w += pt_escape_u64_to(w, (uint64_t)(-(sec + 1)));
        *w++ = '.';
        return put_usec(w, 1000000u - usec);
    }
    if (!ts_last.valid || ts_last.sec != sec)
        ts_fill(sec);
    return put_usec(copy_blocks(w, ts_last.text, ts_last.len), usec);
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

/* The envelope cache slot of env's stream, filled on a miss; NULL when it cannot be cached. */
static env_slot *env_slot_for(const pt_envelope *env)
{
    const char *flow = env->flow_id ? env->flow_id : "";
    const char *proto = env->proto ? env->proto : "";
    uintptr_t a = (uintptr_t)flow;
    env_slot *e = &env_cache[(size_t)((a * UINT64_C(0x9e3779b97f4a7c15)) >> 32) &
                             (PT_JSON_ENV_CACHE_SLOTS - 1)];
    bool hit = e->flow_ptr == flow && same_text(e->flow, flow) && same_text(e->proto, proto) &&
               endpoint_same(&e->client, e->has_client, env->client) &&
               endpoint_same(&e->server, e->has_server, env->server);
    return hit || env_fill(e, flow, proto, env) ? e : NULL;
}

/* The envelope after ts when the kind needs escaping or the envelope is not cached (e NULL). */
static void put_envelope_slow(GString *out, const pt_envelope *env, const env_slot *e,
                              const char *kind)
{
    if (e) {
        pt_buf_append(out, e->head, e->head_len);
        pt_escape_json(out, (const uint8_t *)kind, strlen(kind));
        pt_buf_append(out, e->tail, e->tail_len);
        return;
    }
    pt_buf_append_lit(out, ",\"flow\":");
    put_str(out, env->flow_id ? env->flow_id : "");
    pt_buf_append_lit(out, ",\"proto\":");
    put_str(out, env->proto ? env->proto : "");
    pt_buf_append_lit(out, ",\"event\":");
    put_str(out, kind);
    pt_buf_append_lit(out, ",\"client\":\"");
    pt_escape_endpoint(out, env->client, &client_text);
    pt_buf_append_lit(out, "\",\"server\":\"");
    pt_escape_endpoint(out, env->server, &server_text);
    g_string_append_c(out, '"');
}

/* The envelope after ts, from the per-stream cache when possible, in one reservation. The
 * kind is kn bytes; `padded`: it can be read in 16-byte blocks (and needs no escaping). */
static void put_envelope(GString *out, const pt_envelope *env, const char *kind, size_t kn,
                         bool padded)
{
    env_slot *e = env_slot_for(env);
    if (!e ||
        !(padded || env->names_checked || pt_escape_json_plain((const uint8_t *)kind, kn) == kn)) {
        put_envelope_slow(out, env, e, kind);
        return;
    }
    char *start = pt_buf_reserve(out, sizeof e->head + kn + 16 + sizeof e->tail);
    char *w = copy_blocks(start, e->head, e->head_len);
    if (padded) {
        w = copy_blocks(w, kind, kn);
    } else {
        memcpy(w, kind, kn);
        w += kn;
    }
    w = copy_blocks(w, e->tail, e->tail_len);
    pt_buf_commit(out, (size_t)(w - start));
}

/* Per-shape plans (per renderer, see json_memory): for every field of an event shape
 * (pt_envelope.shape_id: remembered by the host or declared), the text that starts it for the type
 * it had when planned: the key and what the value begins with (,"name":" for STR, ,"name":[ for
 * STR_LIST, the whole of
 * ,"name":null and, for BOOL, ,"name":true followed by ,"name":false), packed, so that the
 * fields of such an event are written by index: one fixed move of that text, then the value.
 * A field whose type differs from its plan's (a shape id fixes the names, not the types)
 * takes the general path. Direct mapped by the id; ids are never reused. */
#define PT_JSON_PLAN_SLOTS 64   /* shapes remembered (a power of two) */
#define JSON_PLAN_FIELDS   32   /* most fields of a planned shape */
#define JSON_PLAN_KEY_ROOM 1024 /* most field text of a planned shape (64 plans per renderer) */
#define JSON_PLAN_SLACK    64   /* >= what a fixed move (text, number) writes past its end */
#define JSON_PLAN_TEXT_MAX (2 * JSON_KEY_MAX + 9) /* ,"name":true,"name":false */
/* One field of a plan. */
typedef struct plan_op {
    const char *text; /* in the plan's keys */
    uint32_t len;     /* of the text (for BOOL, of the true text; the false one is a byte longer) */
    uint32_t type;    /* the pt_field_type it was planned for */
} plan_op;
typedef struct json_plan {
    uint64_t shape_id; /* 0: empty */
    uint8_t kind_len;
    bool short_texts; /* every text (also a false one) is at most JSON_KEY_COPY bytes */
    uint32_t room;    /* kept free while the fields are written (planned_fields()) */
    char kind[JSON_FAST_NAME_MAX + 16]; /* read in 16-byte blocks */
    plan_op op[JSON_PLAN_FIELDS];
    char keys[JSON_PLAN_KEY_ROOM + JSON_KEY_COPY]; /* spare bytes at the end for fixed moves */
} json_plan;
G_STATIC_ASSERT((PT_JSON_PLAN_SLOTS & (PT_JSON_PLAN_SLOTS - 1)) == 0);

/* The text that starts a field of type t at w after its key of klen bytes (key and all, at
 * most JSON_PLAN_TEXT_MAX bytes); returns the length of the text (for BOOL, of the true one). */
static size_t plan_text(char *w, size_t klen, unsigned t)
{
    switch (t) {
    case PT_FIELD_STR:
        w[klen] = '"';
        return klen + 1;
    case PT_FIELD_STR_LIST:
        w[klen] = '[';
        return klen + 1;
    case PT_FIELD_NULL:
        memcpy(w + klen, "null", 4);
        return klen + 4;
    case PT_FIELD_BOOL:
        memcpy(w + klen, "true", 4);
        memcpy(w + klen + 4, w, klen);
        memcpy(w + 2 * klen + 4, "false", 5);
        return klen + 4;
    default:
        return klen;
    }
}

/* Fill p with the texts of ev's fields; false (p left empty) when a name cannot be planned
 * or the texts do not fit. */
static __attribute__((noinline)) bool plan_fill(json_plan *p, uint64_t id, const pt_event *ev)
{
    p->shape_id = 0;
    size_t kn = ev->kind ? strnlen(ev->kind, JSON_FAST_NAME_MAX + 1) : 0;
    if (ev->n_fields > JSON_PLAN_FIELDS || kn > JSON_FAST_NAME_MAX)
        return false;
    memcpy(p->kind, ev->kind ? ev->kind : "", kn);
    p->kind_len = (uint8_t)kn;
    size_t at = 0, longest = 0;
    for (size_t i = 0; i < ev->n_fields; i++) {
        const pt_field *f = &ev->fields[i];
        unsigned t = (unsigned)f->type;
        size_t klen = f->name && t <= PT_FIELD_NULL && at + JSON_PLAN_TEXT_MAX <= JSON_PLAN_KEY_ROOM
                          ? fast_key(p->keys + at, f->name)
                          : 0;
        if (!klen)
            return false;
        size_t len = plan_text(p->keys + at, klen, t);
        p->op[i] = (plan_op){p->keys + at, (uint32_t)len, t};
        size_t all = t == PT_FIELD_BOOL ? 2 * len + 1 : len;
        at += all;
        longest = MAX(longest, all - len);
        longest = MAX(longest, len);
    }
    p->short_texts = longest <= JSON_KEY_COPY;
    /* Every text with the longest fixed-size value (21 bytes), "}\n", and the bytes the fixed
     * moves write past the end. */
    p->room = (uint32_t)(at + ev->n_fields * 24 + 2 + JSON_PLAN_SLACK);
    p->shape_id = id;
    return true;
}

/* Where the fast path writes: w is the end of what was written past out->len and not yet
 * committed, lim the end of out's room (one byte of it is kept for the NUL). */
typedef struct json_cursor {
    GString *out;
    char *w, *lim;
} json_cursor;

static inline json_cursor cursor_open(GString *out)
{
    return (json_cursor){out, out->str + out->len, out->str + out->allocated_len};
}

/* Commit what was written at the cursor. */
static inline void cursor_close(json_cursor *c)
{
    pt_buf_commit(c->out, (size_t)(c->w - (c->out->str + c->out->len)));
}

/* Grow out so that need more bytes fit at the cursor (what was written is committed first). */
static __attribute__((noinline)) void cursor_grow(json_cursor *c, size_t need)
{
    cursor_close(c);
    pt_buf_reserve(c->out, need);
    *c = cursor_open(c->out);
}

/* Room for need bytes (and the NUL) at the cursor; returns where to write. */
static inline char *cursor_room(json_cursor *c, size_t need)
{
    if (G_UNLIKELY((size_t)(c->lim - c->w) <= need))
        cursor_grow(c, need);
    return c->w;
}

/* "value" at w for the n bytes at p when they need no escaping; NULL otherwise. */
static inline char *fast_span_n(char *w, const uint8_t *p, size_t n)
{
    *w = '"';
    w = pt_escape_json_copy_plain(w + 1, p, n);
    if (w)
        *w++ = '"';
    return w;
}

/* A plan's text of len bytes at w: one fixed move when `short_texts` (the plan's texts are
 * all that short), else one more for the long ones (text has JSON_KEY_COPY readable bytes, w
 * the room of the plan). */
static inline __attribute__((always_inline)) char *copy_text(char *w, const char *text, size_t len,
                                                             bool short_texts)
{
    memcpy(w, text, JSON_KEY_COPY);
    if (!short_texts && len > JSON_KEY_COPY)
        memcpy(w + JSON_KEY_COPY, text + JSON_KEY_COPY, len - JSON_KEY_COPY);
    return w + len;
}

/* Room for need bytes (and the NUL) at *w, the cursor's write position not yet stored in it
 * (moved with the buffer when it grows); returns where to write. */
static inline char *room_at(json_cursor *c, char **w, size_t need)
{
    if (G_UNLIKELY((size_t)(c->lim - *w) <= need)) {
        c->w = *w;
        cursor_grow(c, need);
        *w = c->w;
    }
    return *w;
}

/* A list whose items all need no escaping after its plan text (ending in '[') at *wp (see
 * room_at()), room made for it and `room` bytes more; NULL otherwise. */
static inline __attribute__((always_inline)) char *planned_list(json_cursor *c, char **wp,
                                                                const plan_op *op,
                                                                const pt_value *v, size_t room,
                                                                bool short_texts)
{
    const pt_span *items = v->list.items;
    size_t count = v->list.count, need = room + 2;
    if (!items || v->list.total > count)
        return NULL;
    for (size_t i = 0; i < count; i++)
        need += items[i].len + 3; /* checked values: no NULL span claims bytes */
    char *w = copy_text(room_at(c, wp, need), op->text, op->len, short_texts);
    for (size_t i = 0; i < count && w; i++) {
        if (i)
            *w++ = ',';
        w = fast_span_n(w, items[i].ptr, items[i].len);
    }
    if (w)
        *w++ = ']';
    return w;
}

/* Value v of a field of the type its plan op was made for, after the op's text at *wp (the cursor's
 * write position, moved with the buffer when strings and lists make room). The fixed-size
 * values (numbers, words) fit the room kept free for the plan (plan->room, see
 * planned_fields()): only strings and lists make room, for their bytes and that much more.
 * Returns the end, or NULL when the value needs escaping, base64 or a companion key. */
static inline __attribute__((always_inline)) char *planned_field(json_cursor *c, char **wp,
                                                                 const plan_op *op,
                                                                 const pt_value *v, size_t room,
                                                                 bool short_texts)
{
    char *w = *wp;
    const char *text = op->text;
    size_t len = op->len;
    switch ((pt_field_type)(op->type & 7u)) { /* every type is a case: no range check */
    case PT_FIELD_STR: {
        size_t n = v->str.len; /* checked values: no NULL span claims bytes */
        if (v->str.full_len > n)
            return NULL;
        w = copy_text(room_at(c, wp, room + n), text, len, short_texts);
        w = pt_escape_json_copy_plain(w, v->str.ptr, n);
        if (w)
            *w++ = '"';
        return w;
    }
    case PT_FIELD_INT: {
        w = copy_text(w, text, len, short_texts);
        int64_t i = v->i;
        if (i < 0)
            *w++ = '-';
        return w + pt_escape_u64_to_inline(w, i < 0 ? (uint64_t)0 - (uint64_t)i : (uint64_t)i);
    }
    case PT_FIELD_UINT:
        w = copy_text(w, text, len, short_texts);
        return w + pt_escape_u64_to_inline(w, v->u);
    case PT_FIELD_BOOL: {
        size_t no = !v->b;
        return copy_text(w, text + (no ? len : 0), len + no, short_texts);
    }
    case PT_FIELD_NULL:
        return copy_text(w, text, len, short_texts);
    case PT_FIELD_STR_LIST:
        return planned_list(c, wp, op, v, room, short_texts);
    case PT_FIELD_BYTES:
    case PT_FIELD_DOUBLE:
    default:
        return NULL;
    }
}

/* The fields of an event: its n fields (names and types, and values when `values` is
 * not `shaped`) or, for a declared shape, the shape's fields with `values` (whose types are
 * the plan's: none is compared). Events of one plan whose texts are short or not (a constant:
 * two copies). */
typedef struct event_fields {
    const pt_field *fields;
    const pt_value *values; /* when `shaped` */
    size_t n;
    bool shaped; /* a constant at each call: the loop is made once for each */
} event_fields;

static inline __attribute__((always_inline)) char *
planned_fields_at(json_cursor *c, const json_plan *plan, event_fields ef, bool short_texts)
{
    const pt_value *v = ef.shaped ? ef.values : &ef.fields->v;
    const size_t step = ef.shaped ? sizeof(pt_value) : sizeof(pt_field);
    const plan_op *op = plan->op, *end = op + ef.n;
    size_t room = plan->room;
    cursor_room(c, room);
    char *w = c->w;
    for (; op < end; op++, v = (const pt_value *)((const char *)v + step)) {
        /* the field, for a type to compare (not shaped) and for the general path */
        const pt_field *f = &ef.fields[op - plan->op];
        char *next = ef.shaped || (unsigned)f->type == op->type
                         ? planned_field(c, &w, op, v, room, short_texts)
                         : NULL;
        if (G_LIKELY(next != NULL)) {
            w = next;
            continue;
        }
        c->w = w;
        cursor_close(c);
        pt_field whole = {.name = f->name, .type = f->type, .v = *v};
        put_field(c->out, &whole, true);
        *c = cursor_open(c->out);
        w = cursor_room(c, room);
    }
    return w;
}

/* The fields of an event with a plan at the cursor, then "}" and a newline (committed when
 * `newline`): texts by index, every name present. plan->room bytes are kept free at the
 * cursor throughout: each fixed-size field uses at most its share of it. */
static inline __attribute__((always_inline)) void
planned_fields(json_cursor *c, const json_plan *plan, event_fields ef, bool newline)
{
    char *w = plan->short_texts ? planned_fields_at(c, plan, ef, true)
                                : planned_fields_at(c, plan, ef, false);
    w[0] = '}';
    w[1] = '\n';
    c->w = w + 1 + newline;
}

/* The fields of an event with a plan: keys by index, every name present; then "}". */
static void put_planned_fields(GString *out, const json_plan *plan, const pt_event *ev)
{
    json_cursor c = cursor_open(out);
    planned_fields(&c, plan, (event_fields){ev->fields, NULL, ev->n_fields, false}, false);
    cursor_close(&c);
}

/* The fields of an event with checked names but no plan (no shape id, or a shape too big to
 * plan): each field's plan text made for it, then its value as a planned event's. */
static void put_checked_fields(GString *out, const pt_event *ev)
{
    char text[JSON_PLAN_TEXT_MAX + JSON_KEY_COPY];                 /* room for the fixed moves */
    const size_t room = JSON_PLAN_TEXT_MAX + 24 + JSON_PLAN_SLACK; /* as plan_fill() counts */
    json_cursor c = cursor_open(out);
    for (size_t i = 0; i < ev->n_fields; i++) {
        const pt_field *f = &ev->fields[i];
        if (!f->name)
            continue;
        unsigned t = (unsigned)f->type;
        size_t klen = t <= PT_FIELD_NULL ? fast_key(text, f->name) : 0;
        if (klen) {
            plan_op op = {text, (uint32_t)plan_text(text, klen, t), t};
            char *w = cursor_room(&c, room);
            char *end = planned_field(&c, &w, &op, &f->v, room, false);
            if (end) {
                c.w = end;
                continue;
            }
        }
        cursor_close(&c);
        put_field(out, f, true);
        c = cursor_open(out);
    }
    cursor_close(&c);
}

/* Line heads per stream and kind (per renderer): {"ts":SEC.uuuuuu,"flow":..,"proto":..,
 * "event":"KIND","client":..,"server":".." for the second of the last planned event of each
 * stream with an id (pt_envelope.stream_id) and kind, so such an event starts with one copy
 * and its six microsecond digits patched in. Direct mapped by a hash of id and kind address;
 * a hit needs the same id (the same envelope texts), kind address (a planned kind is a
 * checked literal: same address, same text) and second. Ids are never reused, so a stream's
 * storage reused is a new id. */
#define PT_JSON_HEAD_SLOTS 64 /* streams remembered (a power of two) */
#define JSON_HEAD_ROOM                                                                             \
    (48 + sizeof(((env_slot *)0)->head) + JSON_FAST_NAME_MAX + sizeof(((env_slot *)0)->tail))
typedef struct head_slot {
    uint64_t stream_id; /* 0: empty */
    const char *kind;
    int64_t sec;
    uint16_t len;
    uint8_t usec_at;           /* offset of the microsecond digits */
    uint32_t usec;             /* the microseconds the text has (events of a packet share them) */
    char text[JSON_HEAD_ROOM]; /* read in 32-byte blocks */
} head_slot;
G_STATIC_ASSERT((PT_JSON_HEAD_SLOTS & (PT_JSON_HEAD_SLOTS - 1)) == 0);

/* The plans and line heads one renderer keeps: each json sink its own (one base pointer on
 * the hot path), and one per thread for pt_sink_json_render(). */
struct json_memory {
    json_plan plans[PT_JSON_PLAN_SLOTS];
    head_slot heads[PT_JSON_HEAD_SLOTS];
};
static _Thread_local json_memory render_memory;

/* The plan of the event's shape, or NULL when it has none. */
static inline const json_plan *plan_for(json_memory *m, const pt_envelope *env, const pt_event *ev)
{
    if (!env->shape_id || !env->names_checked)
        return NULL;
    json_plan *p = &m->plans[env->shape_id & (PT_JSON_PLAN_SLOTS - 1)];
    if (p->shape_id == env->shape_id || plan_fill(p, env->shape_id, ev))
        return p;
    return NULL;
}

/* ts (at most 33 bytes), envelope head, kind and tail, rounded up to 32 (the copy), fit. */
G_STATIC_ASSERT((33 + (9 + 2 * PT_JSON_ENV_NAME_MAX + 22) + JSON_FAST_NAME_MAX +
                 (25 + 2 * PT_ENDPOINT_STRLEN) + 31) /
                    32 * 32 <=
                JSON_HEAD_ROOM);

/* Fill h with the head of a planned event at second sec >= 0; false (h left empty) when the
 * envelope cannot be cached. */
static bool head_fill(head_slot *h, const pt_envelope *env, const pt_event *ev,
                      const json_plan *plan, int64_t sec)
{
    h->stream_id = 0;
    const env_slot *e = env_slot_for(env);
    if (!e)
        return false;
    char *w = h->text;
    memcpy(w, "{\"ts\":", 6);
    w += 6;
    w += pt_escape_u64_to(w, (uint64_t)sec);
    *w++ = '.';
    h->usec_at = (uint8_t)(w - h->text);
    h->usec = 0;
    w = put_usec(w, 0);
    memcpy(w, e->head, e->head_len);
    w += e->head_len;
    memcpy(w, plan->kind, plan->kind_len);
    w += plan->kind_len;
    memcpy(w, e->tail, e->tail_len);
    w += e->tail_len;
    h->len = (uint16_t)(w - h->text);
    h->stream_id = env->stream_id;
    h->kind = ev->kind;
    h->sec = sec;
    return true;
}

/* The line head slot of an event of a stream with an id and a second >= 0, filled for it when
 * it held another stream, kind or second; NULL when it takes the general path. */
static inline __attribute__((always_inline)) head_slot *
head_for(json_memory *m, const pt_envelope *env, const pt_event *ev, const json_plan *plan)
{
    int64_t sec = ev->ts.sec;
    if (!env->stream_id || sec < 0)
        return NULL;
    uint64_t key = (env->stream_id ^ ((uintptr_t)ev->kind >> 3)) * UINT64_C(0x9e3779b97f4a7c15);
    head_slot *h = &m->heads[(size_t)(key >> 32) & (PT_JSON_HEAD_SLOTS - 1)];
    if ((h->stream_id != env->stream_id || h->kind != ev->kind || h->sec != sec) &&
        !head_fill(h, env, ev, plan, sec))
        return NULL;
    return h;
}

/* h's line head at w (room for all of h->text): moved in 32-byte blocks. Returns its end. */
static inline char *put_head(char *w, const head_slot *h)
{
    for (size_t i = 0; i < h->len; i += 32)
        memcpy(w + i, h->text + i, 32);
    return w + h->len;
}

/* The line head's microseconds for nsec, rewritten in h when they differ from its last. */
static inline void head_usec(head_slot *h, uint32_t nsec)
{
    if (G_UNLIKELY(nsec >= 1000000000u))
        nsec %= 1000000000u;
    if (nsec / 1000u != h->usec) {
        h->usec = nsec / 1000u;
        put_usec(h->text + h->usec_at, h->usec);
    }
}

/* An event with its line head slot h (head_for()): the head, its microseconds written when
 * they differ from the last event's, then the fields. */
static inline __attribute__((always_inline)) void
render_with_head(head_slot *h, GString *out, const pt_event *ev, event_fields ef,
                 const json_plan *plan, bool newline)
{
    head_usec(h, ev->ts.nsec);
    json_cursor c = cursor_open(out);
    c.w = put_head(cursor_room(&c, sizeof h->text + plan->room), h);
    planned_fields(&c, plan, ef, newline);
    cursor_close(&c);
}

static inline __attribute__((always_inline)) bool render_headed(json_memory *m, GString *out,
                                                                const pt_envelope *env,
                                                                const pt_event *ev, event_fields ef,
                                                                const json_plan *plan, bool newline)
{
    head_slot *h = head_for(m, env, ev, plan);
    if (h)
        render_with_head(h, out, ev, ef, plan, newline);
    return h != NULL;
}

/* The general render (no cached head), with the event's plan (or NULL) looked up. */
static void render_general(GString *out, const pt_envelope *env, const pt_event *ev,
                           const json_plan *plan)
{
    char *w = pt_buf_reserve(out, JSON_TS_ROOM);
    memcpy(w, "{\"ts\":", 6);
    pt_buf_commit(out, (size_t)(put_ts_to(w + 6, &ev->ts) - w));
    if (plan) {
        put_envelope(out, env, plan->kind, plan->kind_len, true);
    } else {
        const char *kind = ev->kind ? ev->kind : "";
        put_envelope(out, env, kind, strlen(kind), false);
    }
    if (plan) {
        put_planned_fields(out, plan, ev);
        return;
    }
    if (env->names_checked) {
        put_checked_fields(out, ev);
    } else {
        for (size_t i = 0; i < ev->n_fields; i++)
            if (ev->fields[i].name)
                put_field(out, &ev->fields[i], false);
    }
    g_string_append_c(out, '}');
}

void pt_sink_json_render(GString *out, const pt_envelope *env, const pt_event *ev)
{
    json_memory *m = &render_memory;
    const json_plan *plan = plan_for(m, env, ev);
    if (!plan || !render_headed(m, out, env, ev,
                                (event_fields){ev->fields, NULL, ev->n_fields, false}, plan, false))
        render_general(out, env, ev, plan);
}

static void json_write(pt_sink *s, const pt_envelope *env, const pt_event *ev)
{
    json_sink *j = (json_sink *)s;
    const json_plan *plan = plan_for(j->memory, env, ev);
    if (!plan ||
        !render_headed(j->memory, j->out.buf, env, ev,
                       (event_fields){ev->fields, NULL, ev->n_fields, false}, plan, true)) {
        render_general(j->out.buf, env, ev, plan);
        g_string_append_c(j->out.buf, '\n');
    }
    pt_sink_batch_line_done(s, &j->out);
}

/* Events e.. of a declared shape with its plan (texts short or not: a constant), all of one
 * stream, one line each at one cursor: the line head from its slot (looked up again when the
 * second changes), then the values by the plan. The cursor is committed when a block is full
 * (pt_sink_batch_line_done()'s rule, the block written) and at the end. Returns the index of
 * the first event without a line head (the general path's), n when all had one. */
static inline __attribute__((always_inline)) size_t
shaped_lines(json_sink *j, const pt_envelope *env, const pt_shape *shape, const json_plan *plan,
             size_t e, size_t n, const pt_time *ts, const pt_value *values, size_t stride,
             bool short_texts)
{
    pt_sink_batch *b = &j->out;
    pt_event ev = {.kind = shape->kind, .fields = shape->fields, .n_fields = shape->n};
    const size_t need = sizeof(((head_slot *)0)->text) + plan->room, limit = b->limit;
    head_slot *h = NULL;
    uint64_t lines = 0;
    json_cursor c = cursor_open(b->buf);
    for (; e < n; e++) {
        ev.ts = ts[e];
        if ((!h || h->sec != ev.ts.sec) && !(h = head_for(j->memory, env, &ev, plan)))
            break;
        head_usec(h, ev.ts.nsec);
        c.w = put_head(cursor_room(&c, need), h);
        char *w = planned_fields_at(
            &c, plan, (event_fields){shape->fields, values + e * stride, shape->n, true},
            short_texts);
        w[0] = '}';
        w[1] = '\n';
        c.w = w + 2;
        lines++;
        if (G_UNLIKELY((size_t)(c.w - c.out->str) >= limit)) {
            cursor_close(&c);
            b->lines += lines;
            lines = 0;
            pt_sink_batch_write(&j->base, b);
            c = cursor_open(b->buf);
        }
    }
    cursor_close(&c);
    b->lines += lines;
    return e;
}

/* Events of a declared shape: the plan made from the shape looked up once for them all, the
 * lines with a line head written by shaped_lines(); the general path (no plan, no line head)
 * gets the shape's fields with the values put in. */
static void json_write_shaped(pt_sink *s, const pt_envelope *env, const pt_shape *shape, size_t n,
                              const pt_time *ts, const pt_value *values, size_t stride)
{
    json_sink *j = (json_sink *)s;
    pt_event shaped = {.kind = shape->kind, .fields = shape->fields, .n_fields = shape->n};
    const json_plan *plan = plan_for(j->memory, env, &shaped); /* names and types only */
    for (size_t e = 0; e < n; e++) {
        if (plan)
            e = plan->short_texts
                    ? shaped_lines(j, env, shape, plan, e, n, ts, values, stride, true)
                    : shaped_lines(j, env, shape, plan, e, n, ts, values, stride, false);
        if (e == n)
            break;
        pt_event ev = pt_shape_event(shape, &ts[e], values + e * stride);
        render_general(j->out.buf, env, &ev, plan);
        g_string_append_c(j->out.buf, '\n');
        pt_sink_batch_line_done(s, &j->out);
    }
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
    g_free(j->memory);
    g_free(j);
}

static const pt_sink_ops json_ops = {
    .type = "json",
    .write = json_write,
    .flush = json_flush,
    .free = json_free,
    .write_shaped = json_write_shaped,
};

pt_sink *pt_sink_json_new(const pt_sink_file_config *cfg, GError **error)
{
    bool owned;
    FILE *f = pt_sink_open_stream(cfg->path, &owned, error);
    if (!f)
        return NULL;
    json_sink *j = g_new0(json_sink, 1);
    j->base.ops = &json_ops;
    j->base.name = g_strconcat("json:", cfg->path, NULL);
    j->owned = owned;
    j->memory = g_new0(json_memory, 1);
    pt_sink_batch_init(&j->out, f, cfg->block_bytes);
    return &j->base;
}
