/* redis.c — the Redis protocol plugin: pairs every command with its reply (FIFO, as Redis
 * answers in order), with latency from capture timestamps, over RESP2/RESP3
 * (https://redis.io/docs/reference/protocol-spec/), and emits `command`, `push`,
 * `unanswered` and `parse_error` events (schema in README.md). */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "redis_priv.h"

static const uint16_t redis_ports[] = {6379, 0};

/* Every limit is an option; defaults come from resp.h and redis_priv.h. */
#define STR_(x) #x
#define STR(x)  STR_(x)
static const pt_option_spec redis_options[] = {
    {"max_depth", STR(PT_RESP_DEFAULT_MAX_DEPTH), "deepest nesting of RESP aggregates"},
    {"max_elements", "4194304", "most elements in one aggregate, and values in one message"},
    {"max_bulk", "536870912", "longest bulk string or line, in bytes"},
    {"max_inline", "65536", "longest inline command line, in bytes"},
    {"max_args", STR(RD_DEFAULT_MAX_ARGS), "arguments kept per command for events"},
    {"max_arg_bytes", STR(RD_DEFAULT_MAX_ARG_BYTES), "bytes kept (and shown) of each argument"},
    {"max_reply_bytes", STR(RD_DEFAULT_MAX_REPLY_BYTES), "bytes of a rendered aggregate reply"},
    {"max_pending", STR(RD_DEFAULT_MAX_PENDING), "commands waiting for replies per connection"},
    {"redact", "true", "hide AUTH and HELLO ... AUTH credentials"},
    {NULL, NULL, NULL},
};

static void *redis_init(const pt_host *host, const pt_options *opts, char **error)
{
    rd_config *cfg = calloc(1, sizeof(*cfg));
    if (!cfg) {
        *error = strdup("redis: out of memory");
        return NULL;
    }
    cfg->host = host;
    pt_resp_limits_default(&cfg->limits);
    int64_t v[8];
    if (!pt_option_range(host, opts, "redis", "max_depth", 1, PT_RESP_CEIL_DEPTH, &v[0], error) ||
        !pt_option_range(host, opts, "redis", "max_elements", 1, INT64_MAX / 4, &v[1], error) ||
        !pt_option_range(host, opts, "redis", "max_bulk", 0, INT64_MAX / 4, &v[2], error) ||
        !pt_option_range(host, opts, "redis", "max_inline", 16, PT_RESP_CEIL_INLINE, &v[3],
                         error) ||
        !pt_option_range(host, opts, "redis", "max_args", 1, RD_CEIL_MAX_ARGS, &v[4], error) ||
        !pt_option_range(host, opts, "redis", "max_arg_bytes", 1, RD_CEIL_MAX_ARG_BYTES, &v[5],
                         error) ||
        !pt_option_range(host, opts, "redis", "max_reply_bytes", 16, RD_CEIL_REPLY_BYTES, &v[6],
                         error) ||
        !pt_option_range(host, opts, "redis", "max_pending", 1, RD_CEIL_PENDING, &v[7], error)) {
        free(cfg);
        return NULL;
    }
    cfg->limits.max_depth = (uint32_t)v[0];
    cfg->limits.max_elements = v[1];
    cfg->limits.max_bulk = v[2];
    cfg->limits.max_inline = (uint32_t)v[3];
    cfg->max_args = (uint32_t)v[4];
    cfg->max_arg_bytes = (uint32_t)v[5];
    cfg->max_reply_bytes = (uint32_t)v[6];
    cfg->max_pending = (uint32_t)v[7];
    cfg->redact = host->option_bool(opts, "redact", true);
    /* a value straddling chunks keeps what the events can show of it */
    uint32_t prefix =
        cfg->max_arg_bytes > cfg->max_reply_bytes ? cfg->max_arg_bytes : cfg->max_reply_bytes;
    cfg->limits.prefix_bytes = prefix < PT_RESP_MIN_PREFIX ? PT_RESP_MIN_PREFIX : prefix;
    cfg->shaped = PT_HOST_HAS(host, shape) && PT_HOST_HAS(host, emit_shaped);
    bool batched = cfg->shaped && PT_HOST_HAS(host, emit_shaped_batch);
    cfg->shapes = calloc(RD_LAYOUTS, sizeof(*cfg->shapes));
    if (batched)
        cfg->batch = calloc(1, sizeof(*cfg->batch));
    if (!cfg->shapes || (batched && !cfg->batch)) {
        free(cfg->shapes);
        free(cfg);
        *error = strdup("redis: out of memory");
        return NULL;
    }
    return cfg;
}

static void redis_fini(void *plugin_state)
{
    rd_config *cfg = plugin_state;
    if (cfg) {
        free(cfg->shapes);
        free(cfg->batch);
    }
    free(cfg);
}

static pt_probe_result redis_probe(pt_dir dir, const uint8_t *data, size_t len)
{
    if (dir == PT_DIR_TO_SERVER)
        return rd_probe_request(data, len);
    /* a server never speaks first; replies alone cannot tell, the request side decides */
    return len > 0 && pt_resp_is_type_byte(data[0]) ? PT_PROBE_NEED_MORE : PT_PROBE_NO;
}

static void stream_free(rd_stream *st)
{
    if (!st)
        return;
    pt_resp_free(st->req);
    pt_resp_free(st->rep);
    for (uint32_t i = 0; i < st->cap; i++)
        free(st->ring[i].mem);
    free(st->ring);
    free(st->reply.render);
    free(st->reply.ridx);
    free(st->reply.rtype);
    free(st->reply.keep);
    free(st);
}

static bool fifo_grow(rd_stream *st);

static void *redis_stream_open(void *plugin_state, pt_stream *s)
{
    const rd_config *cfg = plugin_state;
    rd_stream *st = calloc(1, sizeof(*st));
    if (!st)
        return NULL;
    st->cfg = cfg;
    st->s = s;
    st->resp = 2;
    st->req_sync = false; /* scan for the first command boundary (mid-stream pickup) */
    st->line_start[PT_DIR_TO_SERVER] = true;
    st->line_start[PT_DIR_TO_CLIENT] = true;
    st->rep_sync = true;
    st->rep_tentative = true;
    uint32_t depth = cfg->limits.max_depth + 1;
    st->req = pt_resp_new(PT_RESP_MODE_REQUEST, &cfg->limits, &rd_request_handler, st);
    st->rep = pt_resp_new(PT_RESP_MODE_REPLY, &cfg->limits, &rd_reply_handler, st);
    if (st->req)
        pt_resp_on_command(st->req, rd_request_command);
    if (st->rep)
        pt_resp_on_scalar(st->rep, rd_reply_scalar);
    st->reply.render = malloc(cfg->max_reply_bytes);
    st->reply.ridx = calloc(depth, sizeof(*st->reply.ridx));
    st->reply.rtype = calloc(depth, sizeof(*st->reply.rtype));
    st->reply.keep = malloc((size_t)RD_PUSH_KEEP * cfg->max_arg_bytes);
    if (!st->req || !st->rep || !st->reply.render || !st->reply.ridx || !st->reply.rtype ||
        !st->reply.keep) {
        stream_free(st);
        return NULL;
    }
    rd_reply_clear(&st->reply);
    if (!fifo_grow(st)) {
        stream_free(st);
        return NULL;
    }
    return st;
}

/* Grow the ring (at most to max_pending + 1 slots) keeping the FIFO order; slot buffers move
 * with their slots, so argument spans stay valid. */
static bool fifo_grow(rd_stream *st)
{
    uint32_t ncap = st->cap ? st->cap * 2 : 8;
    if (ncap > st->cfg->max_pending + 1)
        ncap = st->cfg->max_pending + 1;
    rd_cmd *n = calloc(ncap, sizeof(*n));
    if (!n)
        return false;
    for (uint32_t i = 0; i < st->cap; i++)
        n[i] = st->ring[(st->head + i) % st->cap];
    free(st->ring);
    st->ring = n;
    st->head = 0;
    st->cap = ncap;
    return true;
}

rd_cmd *rd_build_slot_slow(rd_stream *st)
{
    const rd_config *cfg = st->cfg;
    if (st->count >= cfg->max_pending) {
        rd_cmd *old = rd_fifo_head(st);
        rd_emit_unanswered(st, old, "max_pending", st->ts);
        rd_fifo_pop(st);
    }
    if (st->count + 1 > st->cap && !fifo_grow(st)) {
        /* out of memory: give up the oldest command rather than the stream */
        rd_emit_unanswered(st, rd_fifo_head(st), "max_pending", st->ts);
        rd_fifo_pop(st);
    }
    rd_cmd *c = rd_fifo_tail(st);
    if (!c->mem) {
        size_t spans = (size_t)cfg->max_args * sizeof(pt_span);
        c->mem = malloc(spans + (size_t)cfg->max_args * cfg->max_arg_bytes);
        c->args = c->mem;
        c->buf = c->mem ? (uint8_t *)c->mem + spans : NULL;
    }
    return c;
}

/* The `reply_type` value, a span of a constant (no strlen per event), looked up by type
 * byte. */
#define TYPE_NAME(s) PT_SPAN(s, sizeof(s) - 1)
#define TYPE_ENTRY(s)                                                                              \
    {                                                                                              \
        (const uint8_t *)(s), sizeof(s) - 1, sizeof(s) - 1                                         \
    }
static const pt_span type_names[128] = {
    [PT_RESP_SIMPLE] = TYPE_ENTRY("simple"),     [PT_RESP_ERROR] = TYPE_ENTRY("error"),
    [PT_RESP_INTEGER] = TYPE_ENTRY("integer"),   [PT_RESP_BULK] = TYPE_ENTRY("bulk"),
    [PT_RESP_ARRAY] = TYPE_ENTRY("array"),       [PT_RESP_NULL] = TYPE_ENTRY("null"),
    [PT_RESP_BOOLEAN] = TYPE_ENTRY("boolean"),   [PT_RESP_DOUBLE] = TYPE_ENTRY("double"),
    [PT_RESP_BIGNUM] = TYPE_ENTRY("big_number"), [PT_RESP_BLOB_ERROR] = TYPE_ENTRY("blob_error"),
    [PT_RESP_VERBATIM] = TYPE_ENTRY("verbatim"), [PT_RESP_MAP] = TYPE_ENTRY("map"),
    [PT_RESP_SET] = TYPE_ENTRY("set"),           [PT_RESP_ATTRIBUTE] = TYPE_ENTRY("attribute"),
    [PT_RESP_PUSH] = TYPE_ENTRY("push"),
};

static pt_span reply_type_name(const rd_reply *r)
{
    if (r->null)
        return TYPE_NAME("null");
    if ((unsigned)r->type < 128 && type_names[r->type].ptr)
        return type_names[r->type];
    return TYPE_NAME("unknown");
}

/* The `reply` field: a zero-copy span for a scalar, the bounded rendering for an aggregate
 * (null for a null reply). */
static pt_span reply_span(const rd_reply *r, uint64_t reply_bytes)
{
    if (r->scalar.ptr || r->render_len == 0) {
        switch (r->type) {
        case PT_RESP_ARRAY:
        case PT_RESP_MAP:
        case PT_RESP_SET:
        case PT_RESP_PUSH:
            break;
        default:
            return r->scalar;
        }
    }
    pt_span v = {r->render, r->render_len, r->render_len};
    if (r->render_full)
        v.full_len = reply_bytes > v.len ? reply_bytes : v.len + 1;
    return v;
}

static pt_field reply_field(const rd_reply *r, uint64_t reply_bytes)
{
    if (r->null)
        return PT_F_NULL("reply");
    return PT_F_STR("reply", reply_span(r, reply_bytes));
}

/* The fields describing a command, shared by `command` and `unanswered`. */
static size_t cmd_fields(const rd_stream *st, const rd_cmd *c, pt_field *f)
{
    size_t n = 0;
    const pt_span *key = rd_cmd_key(c);
    f[n++] = PT_F_STR("command", PT_SPAN(c->name, c->name_len));
    f[n++] = PT_F_LIST("args", c->args, c->n_args, c->argc - c->name_words);
    f[n++] = PT_F_UINT("arg_bytes", c->arg_bytes);
    if (key)
        f[n++] = PT_F_STR("key", *key);
    f[n++] = PT_F_UINT("seq", c->seq);
    f[n++] = PT_F_UINT("request_bytes", c->wire_bytes);
    /* key only when there is one, flags only when set, RESP only when 3: fewer fields for
     * the common command (a field the sinks would print as its default costs them as much
     * as any other) */
    if (c->is_inline)
        f[n++] = PT_F_BOOL("inline", true);
    if (c->blocking)
        f[n++] = PT_F_BOOL("blocking", true);
    if (c->in_multi)
        f[n++] = PT_F_BOOL("multi", true);
    if (st->resp != 2)
        f[n++] = PT_F_UINT("resp", (uint64_t)st->resp);
    return n;
}

/* The layout bits of a `command` event for complete command c (reply bits apart). */
static inline uint32_t cmd_layout(const rd_stream *st, const rd_cmd *c)
{
    return c->ev_bits | (st->resp != 2 ? EV_RESP : 0);
}

/* The command values of the event st->ev holds (its layout `layout`) for command c, written
 * at v: name, args, arg_bytes, the key when EV_KEY, seq, request_bytes at fixed places;
 * inline, blocking and multi (constant true when present) copied from st->val when v is
 * elsewhere; resp last. Returns the index of the first reply value (st->ev_reply_at). */
static inline size_t command_values(const rd_stream *st, const rd_cmd *c, uint32_t layout,
                                    pt_value *v)
{
    v[0].str = PT_SPAN(c->name, c->name_len);
    v[1].list.items = c->args;
    v[1].list.count = c->n_args;
    v[1].list.total = c->argc - c->name_words;
    v[2].u = c->arg_bytes;
    size_t k = 3;
    if (layout & EV_KEY)
        v[k++].str = c->args[c->key_index];
    v[k++].u = c->seq;
    v[k++].u = c->wire_bytes;
    size_t n = st->ev_reply_at;
    if (layout & EV_RESP)
        v[--n].u = (uint64_t)st->resp;
    for (; v != st->val && k < n; k++) /* inline, blocking, multi */
        v[k] = st->val[k];
    return st->ev_reply_at;
}

/* The reply values after the command's, from v[n] on: the reply (for a null reply, whose
 * field is a constant null, an empty span that no one reads), its type name, the error flag,
 * its bytes and the latency. Returns the count. */
static inline size_t reply_values(pt_value *v, size_t n, pt_span reply, pt_span type_name,
                                  bool error, uint64_t reply_bytes, int64_t latency_us)
{
    v[n++].str = reply;
    v[n++].str = type_name;
    v[n++].b = error;
    v[n++].u = reply_bytes;
    v[n++].i = latency_us;
    return n;
}

void rd_batch_flush(const rd_config *cfg)
{
    rd_batch *b = cfg->batch;
    if (b && b->n) {
        cfg->host->emit_shaped_batch(b->s, b->shape, b->n, b->ts, b->val[0], RD_CMD_FIELDS);
        b->n = 0;
    }
}

/* Every event the plugin emits goes through here or emit_built(), which send the batch
 * first: the host gets the events in the order they were read. */
static void emit_fields(rd_stream *st, const char *kind, const pt_time *ts, const pt_field *f,
                        size_t n)
{
    rd_batch_flush(st->cfg);
    st->cfg->host->emit(st->s, kind, ts, f, n);
}

/* Emit the `command` event st->ev holds with the n values of st->val (after the batch): by
 * its declared shape, or, when the layout has none, as fields. */
static inline void emit_built(rd_stream *st, const pt_time *ts, size_t n)
{
    rd_batch_flush(st->cfg);
    const pt_host *h = st->cfg->host;
    if (__builtin_expect(st->ev_shape != NULL, 1)) {
        h->emit_shaped(st->s, st->ev_shape, ts, st->val);
        return;
    }
    for (size_t i = 0; i < n; i++)
        st->ev[i].v = st->val[i];
    h->emit(st->s, "command", ts, st->ev, n);
}

/* st->ev was built anew for `layout` with n fields: keep its values in st->val and find the
 * layout's shape (declared on first use). */
static void built_layout(rd_stream *st, uint32_t layout, size_t n)
{
    for (size_t i = 0; i < n; i++)
        st->val[i] = st->ev[i].v;
    st->ev_layout = layout;
    st->ev_shape = NULL;
    const rd_config *cfg = st->cfg;
    if (!cfg->shaped)
        return;
    const pt_shape **slot = &cfg->shapes[layout % RD_LAYOUTS];
    if (!*slot)
        *slot = cfg->host->shape("command", st->ev, n);
    st->ev_shape = *slot;
}

/* Emit a `command` event. Its fields are kept in the stream (st->ev, st->val): while the next
 * event has the same layout (same optional fields, so the same names and types at the same
 * places), only the values are written, which is most of the cost of building the fields
 * anew, and the event goes out by the layout's declared shape. */
void rd_emit_command(rd_stream *st, rd_cmd *c, const rd_reply *r, uint64_t reply_bytes,
                     const pt_time *reply_ts)
{
    pt_field *f = st->ev;
    pt_value *v = st->val;
    uint32_t layout = cmd_layout(st, c) | (r ? EV_REPLY : 0) | (r && r->null ? EV_REPLY_NULL : 0);
    size_t n = 0;
    if (layout == st->ev_layout) {
        n = command_values(st, c, layout, v);
        if (r) {
            pt_span reply = r->null ? PT_SPAN(NULL, 0) : reply_span(r, reply_bytes);
            n = reply_values(v, n, reply, reply_type_name(r), r->error, reply_bytes,
                             pt_time_diff_us(reply_ts, &c->ts));
        } else {
            n += 4; /* null reply, "none", 0 bytes, null latency */
        }
    } else {
        n = cmd_fields(st, c, f);
        st->ev_reply_at = (uint32_t)n;
        if (r) {
            f[n++] = reply_field(r, reply_bytes);
            f[n++] = PT_F_STR("reply_type", reply_type_name(r));
            /* always present on a paired command: `select(.error)` needs no default */
            f[n++] = PT_F_BOOL("error", r->error);
            f[n++] = PT_F_UINT("reply_bytes", reply_bytes);
            f[n++] = PT_F_INT("latency_us", pt_time_diff_us(reply_ts, &c->ts));
        } else {
            f[n++] = PT_F_NULL("reply");
            f[n++] = PT_F_STR("reply_type", TYPE_NAME("none"));
            f[n++] = PT_F_UINT("reply_bytes", 0);
            f[n++] = PT_F_NULL("latency_us");
        }
        built_layout(st, layout, n);
    }
    emit_built(st, &c->ts, n);
}

/* rd_emit_command() for a scalar reply whose event layout is not the one st->ev holds. */
static __attribute__((noinline)) void emit_scalar_rebuild(rd_stream *st, rd_cmd *c,
                                                          pt_resp_type type, pt_span value,
                                                          uint64_t reply_bytes)
{
    rd_reply r = {.started = true, .type = type, .error = type == PT_RESP_ERROR, .scalar = value};
    rd_emit_command(st, c, &r, reply_bytes, st->ts);
}

/* The values of the event st->ev holds (its layout `layout`) for command c and a scalar
 * reply, written at v: the command's (command_values()), then the reply's, value, type name
 * and error flag taken straight from the type byte. Returns the count. */
static inline size_t scalar_values(const rd_stream *st, const rd_cmd *c, uint32_t layout,
                                   pt_value *v, pt_resp_type type, pt_span value,
                                   uint64_t reply_bytes)
{
    return reply_values(v, command_values(st, c, layout, v), value, type_names[type],
                        type == PT_RESP_ERROR, reply_bytes, pt_time_diff_us(st->ts, &c->ts));
}

/* rd_emit_command() for a whole, non-null simple string, error, integer or bulk string reply
 * (the scalar fast path): the same event, without the reply state. With a declared shape and
 * a host that takes batches, it joins the plugin's batch (rd_batch), sent when the chunk is
 * done; else it goes out at once. */
static inline void emit_scalar(rd_stream *st, rd_cmd *c, pt_resp_type type, pt_span value,
                               uint64_t reply_bytes)
{
    uint32_t layout = cmd_layout(st, c) | EV_REPLY;
    if (layout != st->ev_layout) {
        emit_scalar_rebuild(st, c, type, value, reply_bytes);
        return;
    }
    rd_batch *b = st->cfg->batch;
    if (b && st->ev_shape) {
        if (b->n && (b->s != st->s || b->shape != st->ev_shape))
            rd_batch_flush(st->cfg);
        if (!b->n) {
            b->s = st->s;
            b->shape = st->ev_shape;
        }
        b->ts[b->n] = c->ts;
        scalar_values(st, c, layout, b->val[b->n], type, value, reply_bytes);
        if (++b->n == RD_BATCH)
            rd_batch_flush(st->cfg);
        return;
    }
    size_t n = scalar_values(st, c, layout, st->val, type, value, reply_bytes);
    emit_built(st, &c->ts, n);
}

/* A whole top-level scalar reply from the parser's fast path (pt_resp_on_scalar). Usually
 * (no reply in progress, a command waiting that is no session command, no MONITOR, a
 * '+', '-', ':' or '$') it is that command's reply and goes straight into its event:
 * the reply state is neither set nor cleared. Everything else takes rd_reply_scalar_slow. */
void rd_reply_scalar(void *ctx, pt_resp_type t, const uint8_t *val, size_t len, uint64_t wire_bytes)
{
    rd_stream *st = ctx;
    if (!st->count || st->reply.started || st->reply.attr_depth || st->monitor ||
        (t != PT_RESP_SIMPLE && t != PT_RESP_ERROR && t != PT_RESP_INTEGER && t != PT_RESP_BULK) ||
        (st->ring[st->head].info && (st->ring[st->head].info->flags & PT_RCMD_SESSION))) {
        rd_reply_scalar_slow(st, t, val, len, wire_bytes);
        return;
    }
    st->rep_tentative = false;
    emit_scalar(st, &st->ring[st->head], t, PT_SPAN(val, len), wire_bytes);
    rd_fifo_pop(st);
}

void rd_emit_unanswered(rd_stream *st, rd_cmd *c, const char *reason, const pt_time *ts)
{
    pt_field f[RD_CMD_FIELDS];
    size_t n = 0;
    f[n++] = PT_F_STR("side", PT_SPAN("command", 7));
    f[n++] = PT_F_STR("reason", PT_SPAN(reason, strlen(reason)));
    n += cmd_fields(st, c, f + n);
    (void)ts;
    emit_fields(st, "unanswered", &c->ts, f, n);
}

void rd_emit_orphan(rd_stream *st, uint64_t reply_bytes)
{
    const rd_reply *r = &st->reply;
    st->orphans++;
    pt_field f[8];
    size_t n = 0;
    f[n++] = PT_F_STR("side", PT_SPAN("reply", 5));
    f[n++] = PT_F_STR("reason", PT_SPAN("no_command", 10));
    f[n++] = reply_field(r, reply_bytes);
    f[n++] = PT_F_STR("reply_type", reply_type_name(r));
    if (r->error)
        f[n++] = PT_F_BOOL("error", true);
    f[n++] = PT_F_UINT("reply_bytes", reply_bytes);
    emit_fields(st, "unanswered", st->ts, f, n);
}

void rd_emit_push(rd_stream *st, const char *kind, uint64_t reply_bytes)
{
    const rd_reply *r = &st->reply;
    pt_field f[10];
    size_t n = 0;
    f[n++] = PT_F_STR("kind", PT_SPAN(kind, strlen(kind)));
    if (!strcmp(kind, "monitor")) {
        f[n++] = PT_F_STR("message", r->scalar);
    } else {
        bool pm = !strcmp(kind, "pmessage");
        bool msg = pm || !strcmp(kind, "message") || !strcmp(kind, "smessage");
        if (pm && !r->kept_null[1])
            f[n++] = PT_F_STR("pattern", r->kept[1]);
        size_t ch = pm ? 2 : 1;
        if (r->elem > ch && !r->kept_null[ch])
            f[n++] = PT_F_STR("channel", r->kept[ch]);
        if (msg && r->elem > ch + 1 && !r->kept_null[ch + 1])
            f[n++] = PT_F_STR("message", r->kept[ch + 1]);
        if (!msg && r->last_int >= 0 && strstr(kind, "subscribe"))
            f[n++] = PT_F_INT("subscriptions", r->last_int);
        f[n++] = reply_field(r, reply_bytes);
        f[n - 1].name = "data";
    }
    f[n++] = PT_F_UINT("reply_bytes", reply_bytes);
    f[n++] = PT_F_UINT("resp", (uint64_t)st->resp);
    emit_fields(st, "push", st->ts, f, n);
}

/* rd_command_complete() for a session command (MULTI, EXEC, CLIENT REPLY...) or while CLIENT
 * REPLY is OFF or SKIP: apply what it changes client-side, then queue it for its reply, or
 * report it at once when no reply will come. */
void rd_command_complete_session(rd_stream *st, rd_cmd *c)
{
    bool session = c->info && (c->info->flags & PT_RCMD_SESSION);
    bool is_exec = session && (!strcmp(c->name, "EXEC") || !strcmp(c->name, "DISCARD"));
    c->in_multi = st->in_multi && !is_exec;
    if (session && !strcmp(c->name, "MULTI"))
        st->in_multi = true;
    else if (is_exec)
        st->in_multi = false;

    bool no_reply = false;
    if (session && !strcmp(c->name, "CLIENT|REPLY") && c->n_args > 0) {
        if (rd_span_is(c->args[0], "ON")) {
            st->reply_mode = 0;
        } else if (rd_span_is(c->args[0], "OFF")) {
            st->reply_mode = 1;
            no_reply = true;
        } else if (rd_span_is(c->args[0], "SKIP")) {
            no_reply = true;
            if (st->reply_mode == 0)
                st->reply_mode = 2;
        }
    } else if (st->reply_mode == 1) {
        no_reply = true;
    } else if (st->reply_mode == 2) {
        no_reply = true;
        st->reply_mode = 0;
    }
    c->ev_bits = rd_cmd_bits(c);
    if (no_reply) {
        c->expect = RD_EXPECT_NONE;
        rd_emit_command(st, c, NULL, 0, NULL);
        return;
    }
    st->count++;
}

static void parse_error(rd_stream *st, pt_dir dir, pt_resp_parser *p, uint64_t offset)
{
    const char *why = pt_resp_error(p);
    pt_field f[3] = {
        PT_F_STR("error", PT_SPAN(why, strlen(why))),
        PT_F_STR("direction",
                 dir == PT_DIR_TO_SERVER ? PT_SPAN("request", 7) : PT_SPAN("reply", 5)),
        PT_F_UINT("offset", offset),
    };
    emit_fields(st, "parse_error", st->ts, f, 3);
    st->verdict = PT_FEED_VIOLATION;
}

/* Feed one direction: scan for a boundary while out of sync, parse while in sync; an error
 * on a guessed boundary sends it back to scanning, an error in sync gives the stream up. */
static void feed_dir(rd_stream *st, pt_dir dir, const uint8_t *data, size_t len)
{
    bool req = dir == PT_DIR_TO_SERVER;
    pt_resp_parser *p = req ? st->req : st->rep;
    bool *sync = req ? &st->req_sync : &st->rep_sync;
    bool *tentative = req ? &st->req_tentative : &st->rep_tentative;
    size_t off = 0;
    while (off < len && st->verdict == PT_FEED_OK) {
        if (!*sync) {
            bool sure = false;
            size_t at = req ? rd_sync_find(data + off, len - off, st->line_start[dir],
                                           st->offset[dir] + off == 0, &sure)
                            : rd_sync_find_reply(data + off, len - off, st->line_start[dir]);
            sure = req ? sure : false;
            st->skipped_bytes[dir] += at;
            if (at == len - off)
                break;
            off += at;
            *sync = true;
            *tentative = !sure;
            pt_resp_reset(p);
            if (req)
                st->building = false;
            else
                rd_reply_clear(&st->reply);
        }
        uint64_t before = pt_resp_offset(p);
        if (pt_resp_feed(p, data + off, len - off) == PT_OK) {
            off = len;
            break;
        }
        size_t rel = (size_t)(pt_resp_offset(p) - before);
        /* a guessed boundary was wrong: scan again. A reply that fails while a command waits
         * for it is not a bad guess but bad data. */
        if (*tentative && (req || st->count == 0)) {
            *sync = false;
            st->skipped_bytes[dir] += rel;
            off += rel;
            st->line_start[dir] = off > 0 && data[off - 1] == '\n';
            if (rel == 0 && off < len) {
                off++;
                st->line_start[dir] = false;
            }
            continue;
        }
        parse_error(st, dir, p, st->offset[dir] + off + rel);
        if (req && st->count > 0) {
            /* Redis answers a protocol error after the replies it owes, then closes: keep
             * pairing those replies, ignore further requests, give up once they are in */
            st->verdict = PT_FEED_OK;
            st->req_failed = true;
        }
        break;
    }
    if (len)
        st->line_start[dir] = data[len - 1] == '\n';
    st->offset[dir] += len;
}

static pt_feed_result redis_stream_data(void *state, pt_dir dir, const uint8_t *data, size_t len,
                                        const pt_time *ts)
{
    rd_stream *st = state;
    st->ts = ts;
    if (!(st->req_failed && dir == PT_DIR_TO_SERVER))
        feed_dir(st, dir, data, len);
    rd_batch_flush(st->cfg); /* the batch's spans point into data */
    if (st->req_failed && st->count == 0)
        st->verdict = PT_FEED_VIOLATION;
    st->ts = NULL;
    return st->verdict;
}

/* Lost bytes: the command or reply being read is gone. A gap in replies also loses the
 * pairing of every waiting command (how many replies were lost cannot be known); a gap in
 * commands leaves the waiting ones, whose replies still come in order. */
static void redis_stream_gap(void *state, pt_dir dir, uint64_t missing, const pt_time *ts)
{
    rd_stream *st = state;
    st->ts = ts;
    if (dir == PT_DIR_TO_SERVER) {
        st->req_sync = false;
        st->building = false;
        pt_resp_reset(st->req);
    } else {
        while (st->count) {
            rd_emit_unanswered(st, rd_fifo_head(st), "gap", ts);
            rd_fifo_pop(st);
        }
        st->rep_sync = false;
        pt_resp_reset(st->rep);
        rd_reply_clear(&st->reply);
        st->absorb_left = 0;
    }
    st->line_start[dir] = true;
    st->offset[dir] += missing;
    st->ts = NULL;
}

static void redis_stream_close(void *state, pt_close_reason why, const pt_time *ts)
{
    rd_stream *st = state;
    st->ts = ts;
    while (st->count) {
        rd_emit_unanswered(st, rd_fifo_head(st), pt_close_reason_name(why), ts);
        rd_fifo_pop(st);
    }
    if (st->skipped_bytes[0] || st->skipped_bytes[1])
        st->cfg->host->log(st->s, PT_LOG_DEBUG,
                           "redis: skipped %llu request and %llu reply bytes to resynchronise",
                           (unsigned long long)st->skipped_bytes[0],
                           (unsigned long long)st->skipped_bytes[1]);
    stream_free(st);
}

static const pt_plugin redis_plugin = {
    .abi_version = PT_PLUGIN_ABI,
    .struct_size = sizeof(pt_plugin),
    .name = "redis",
    .version = "1.0",
    .description = "Redis RESP2/RESP3: commands paired with replies, latency, pub/sub, MONITOR",
    .server_ports = redis_ports,
    .options = redis_options,
    .init = redis_init,
    .fini = redis_fini,
    .probe = redis_probe,
    .stream_open = redis_stream_open,
    .stream_data = redis_stream_data,
    .stream_gap = redis_stream_gap,
    .stream_close = redis_stream_close,
    .format_text = rd_format_text,
};

PT_PLUGIN_EXPORT(redis_plugin)

/* For tests that link the plugin's objects directly. */
const pt_plugin *pt_redis_descriptor(void);
const pt_plugin *pt_redis_descriptor(void)
{
    return &redis_plugin;
}
