/* plugin_host.c — the pt_host table handed to plugins: emit (checked, then wrapped in the
 * envelope and sent to the bus), rate-limited logging, option reads, stream facts and the
 * text helpers. A malformed event is dropped and marks the stream failed, which makes the
 * dispatcher release it: a misbehaving plugin costs that stream, never the process. */
#include "plugin_host.h"

#include <link.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "escape.h"
#include "options.h"
#include "plugin_shapes.h"

#define PT_HOST_NAME_MAX          64  /* longest event kind or field name */
#define PT_HOST_NAME_CACHE_SLOTS  512 /* checked names remembered (a power of two) */
#define PT_HOST_NAME_CACHE_PROBES 8   /* slots looked at before the home slot is reused */
#define PT_HOST_SHAPE_SLOTS       16  /* event shapes remembered (a power of two) */
#define PT_HOST_SHAPE_FIELDS      32  /* most fields of a remembered shape */

static pt_plugin_host_limits limits = {.max_fields = PT_HOST_MAX_FIELDS_DEFAULT,
                                       .log_lines = PT_HOST_LOG_LINES_DEFAULT,
                                       .log_level = PT_LOG_WARNING,
                                       .max_shapes = PT_HOST_MAX_SHAPES_DEFAULT};
static uint64_t bad_events;
static uint64_t anon_log_lines;

void pt_plugin_host_set_limits(const pt_plugin_host_limits *lim)
{
    limits.max_fields = lim->max_fields ? lim->max_fields : PT_HOST_MAX_FIELDS_DEFAULT;
    limits.max_shapes = lim->max_shapes ? lim->max_shapes : PT_HOST_MAX_SHAPES_DEFAULT;
    limits.log_lines = lim->log_lines ? lim->log_lines : PT_HOST_LOG_LINES_DEFAULT;
    limits.log_level = lim->log_level;
}

uint64_t pt_plugin_host_bad_events(void)
{
    return bad_events;
}

/* Characters of event kinds and field names: [a-z0-9_]. */
static const uint8_t name_char[256] = {
    ['_'] = 1, ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1,
    ['7'] = 1, ['8'] = 1, ['9'] = 1, ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1,
    ['f'] = 1, ['g'] = 1, ['h'] = 1, ['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1, ['m'] = 1,
    ['n'] = 1, ['o'] = 1, ['p'] = 1, ['q'] = 1, ['r'] = 1, ['s'] = 1, ['t'] = 1, ['u'] = 1,
    ['v'] = 1, ['w'] = 1, ['x'] = 1, ['y'] = 1, ['z'] = 1,
};

/* Length of s when it is [a-z0-9_]{1,PT_HOST_NAME_MAX}, else 0. Reads at most
 * PT_HOST_NAME_MAX + 1 bytes, stopping at the first byte that is not a name character. */
static size_t valid_name(const char *s)
{
    if (!s)
        return 0;
    size_t n = 0;
    while (n <= PT_HOST_NAME_MAX && name_char[(uint8_t)s[n]])
        n++;
    return n > PT_HOST_NAME_MAX || s[n] != '\0' ? 0 : n;
}

/* Field names the envelope already uses: a field may not shadow them. */
static bool envelope_name(const char *s, size_t n)
{
    static const char *const names[] = {"ts", "flow", "proto", "event", "client", "server"};
    for (size_t i = 0; i < G_N_ELEMENTS(names); i++)
        if (strlen(names[i]) == n && memcmp(s, names[i], n) == 0)
            return true;
    return false;
}

/* Names already checked, keyed by their address (producers emit the same string literals
 * event after event), each with a copy of the text it had when checked: a hit costs one
 * short string comparison instead of the full check, and a name rewritten in place (a
 * plugin's own buffer) no longer matches its copy and is checked again. A name that lies in
 * a read-only segment of a loaded object (a string literal) cannot be rewritten, so its hit
 * costs no comparison at all. Only valid names are kept. Open addressing, a few probes, then
 * the home slot is overwritten. Emits run on the capture thread only. */
typedef struct name_slot {
    const char *ptr;
    uint8_t verdict; /* PT_NAME_* bits */
    char text[PT_HOST_NAME_MAX + 1];
} name_slot;

typedef struct ro_search {
    uintptr_t addr;
    size_t len;
    bool found;
} ro_search;

/* dl_iterate_phdr callback: whether [addr, addr + len] lies in a non-writable PT_LOAD
 * segment of this object. */
static int find_read_only(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    ro_search *q = data;
    for (ElfW(Half) i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD || (ph->p_flags & PF_W))
            continue;
        uintptr_t start = (uintptr_t)info->dlpi_addr + (uintptr_t)ph->p_vaddr;
        if (q->addr >= start && q->addr - start < ph->p_memsz && q->len < ph->p_memsz &&
            q->addr - start <= ph->p_memsz - 1 - q->len) {
            q->found = true;
            return 1;
        }
    }
    return 0;
}

/* Whether the n + 1 bytes of the name s (with its NUL) are a string literal: in a
 * read-only segment of the program or of a loaded plugin. Plugins are unloaded only at
 * exit, after the last emit. Asked once per name, on a cache miss. */
static bool name_read_only(const char *s, size_t n)
{
    ro_search q = {(uintptr_t)s, n, false};
    dl_iterate_phdr(find_read_only, &q);
    return q.found;
}

static name_slot name_cache[PT_HOST_NAME_CACHE_SLOTS];
G_STATIC_ASSERT((PT_HOST_NAME_CACHE_SLOTS & (PT_HOST_NAME_CACHE_SLOTS - 1)) == 0);

/* The verdict bits of name s (PT_NAME_*; 0: not a valid name). */
unsigned pt_plugin_host_name_verdict(const char *s)
{
    if (!s)
        return 0;
    uintptr_t a = (uintptr_t)s;
    size_t home = (size_t)((a ^ (a >> 7) ^ (a >> 17)) & (PT_HOST_NAME_CACHE_SLOTS - 1));
    size_t slot = home;
    for (unsigned k = 0; k < PT_HOST_NAME_CACHE_PROBES; k++) {
        name_slot *e = &name_cache[(home + k) & (PT_HOST_NAME_CACHE_SLOTS - 1)];
        if (e->ptr == s && ((e->verdict & PT_NAME_READ_ONLY) || strcmp(e->text, s) == 0))
            return e->verdict;
        if (e->ptr == s || !e->ptr) {
            slot = (home + k) & (PT_HOST_NAME_CACHE_SLOTS - 1);
            break;
        }
    }
    size_t n = valid_name(s);
    if (n == 0)
        return 0;
    unsigned v = PT_NAME_KIND_OK | (envelope_name(s, n) ? 0 : PT_NAME_FIELD_OK) |
                 (name_read_only(s, n) ? PT_NAME_READ_ONLY : 0);
    name_slot *e = &name_cache[slot];
    e->ptr = s;
    e->verdict = (uint8_t)v;
    memcpy(e->text, s, n + 1);
    return v;
}

/* Event shapes already checked: the kind and field name pointers of an event whose names
 * were all valid string literals. A plugin emits a handful of shapes over and over, so most
 * events need one pointer comparison per field (in the same pass as the value checks)
 * instead of a name lookup each. Direct mapped by kind and field count. Each fill gets a new
 * id, which the sinks receive to key what they derive from the names (pt_envelope.shape_id). */
typedef struct shape_slot {
    const char *kind;
    size_t n;
    uint64_t id; /* handed to the sinks (pt_envelope.shape_id); new on every refill */
    const char *names[PT_HOST_SHAPE_FIELDS];
} shape_slot;

static shape_slot shape_cache[PT_HOST_SHAPE_SLOTS];
static uint64_t last_shape_id;
G_STATIC_ASSERT((PT_HOST_SHAPE_SLOTS & (PT_HOST_SHAPE_SLOTS - 1)) == 0);

static shape_slot *shape_home(const char *kind, size_t n)
{
    uintptr_t a = (uintptr_t)kind;
    return &shape_cache[(a ^ (a >> 5) ^ (a >> 12) ^ n) & (PT_HOST_SHAPE_SLOTS - 1)];
}

/* The id of the remembered shape that kind and the n field names are (kind non-NULL), or 0.
 * The values are checked in the same pass: *values_ok tells whether all of them are fine. */
static uint64_t shape_known(const char *kind, const pt_field *f, size_t n, bool *values_ok)
{
    if (n > PT_HOST_SHAPE_FIELDS)
        return 0;
    const shape_slot *e = shape_home(kind, n);
    if (e->kind != kind || e->n != n)
        return 0;
    bool ok = true;
    for (size_t i = 0; i < n; i++) {
        if (f[i].name != e->names[i])
            return 0;
        ok &= pt_value_check((unsigned)f[i].type, &f[i].v) == NULL;
    }
    *values_ok = ok;
    return e->id;
}

/* Whether every field name is valid; remembers the shape when the kind and all names are
 * string literals (kind already checked) and puts its new id in *shape (0 when not
 * remembered). */
static bool field_names_ok(const char *kind, const pt_field *f, size_t n, uint64_t *shape)
{
    unsigned all = pt_plugin_host_name_verdict(kind);
    for (size_t i = 0; i < n; i++) {
        unsigned v = pt_plugin_host_name_verdict(f[i].name);
        if (!(v & PT_NAME_FIELD_OK))
            return false;
        all &= v;
    }
    if ((all & PT_NAME_READ_ONLY) && n <= PT_HOST_SHAPE_FIELDS) {
        shape_slot *e = shape_home(kind, n);
        e->kind = kind;
        e->n = n;
        e->id = ++last_shape_id;
        for (size_t i = 0; i < n; i++)
            e->names[i] = f[i].name;
        *shape = e->id;
    }
    return true;
}

/* Why an event's timestamp is malformed, or NULL. */
static inline const char *ts_problem(const pt_time *ts)
{
    if (!ts)
        return "NULL timestamp";
    return ts->nsec >= 1000000000u ? "timestamp nanoseconds out of range" : NULL;
}

/* Why an event is malformed, or NULL when it is fine; *shape is the id of its remembered
 * shape (or 0). */
static const char *check_event(const char *kind, const pt_time *ts, const pt_field *fields,
                               size_t n, uint64_t *shape)
{
    bool values_ok = false;
    uint64_t known = kind && n <= limits.max_fields && (fields || !n)
                         ? shape_known(kind, fields, n, &values_ok)
                         : 0;
    if (!known && !(pt_plugin_host_name_verdict(kind) & PT_NAME_KIND_OK))
        return "event kind is not [a-z0-9_]+";
    const char *why_ts = ts_problem(ts);
    if (why_ts)
        return why_ts;
    if (n > limits.max_fields)
        return "too many fields";
    if (n && !fields)
        return "NULL fields";
    *shape = known;
    if (!known && !field_names_ok(kind, fields, n, shape))
        return "bad field name";
    if (known && values_ok)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        const char *why = pt_value_check((unsigned)fields[i].type, &fields[i].v);
        if (why)
            return why;
    }
    return NULL;
}

/* Build s's envelope with a new stream id (first emit, or the plugin changed). */
static __attribute__((noinline)) void stream_env_build(pt_stream *s)
{
    static uint64_t last_env_id;
    s->env_id = ++last_env_id;
    s->env_plugin = s->plugin;
    s->env = (pt_envelope){
        .proto = s->plugin->desc.name,
        .flow_id = s->id,
        .client = s->client,
        .server = s->server,
        .format_text = s->plugin->desc.format_text,
        .format_ctx = s->plugin->state,
        .names_checked = true,
        .stream_id = s->env_id,
    };
}

/* The envelope of s's events with shape id `shape_id` (built on the first emit and when the
 * plugin changed). */
static inline const pt_envelope *stream_env(pt_stream *s, uint64_t shape_id)
{
    if (G_UNLIKELY(s->env_plugin != s->plugin || !s->env_id))
        stream_env_build(s);
    s->env.shape_id = shape_id;
    return &s->env;
}

static void host_log(pt_stream *s, pt_log_level level, const char *fmt, ...);

/* A malformed event: dropped, counted, and the stream given up. */
static __attribute__((noinline)) void drop_event(pt_stream *s, const char *why)
{
    bad_events++;
    s->plugin->misbehaved++;
    s->failed = true;
    host_log(s, PT_LOG_ERROR, "malformed event dropped (%s); releasing the stream", why);
}

static void host_emit(pt_stream *s, const char *kind, const pt_time *ts, const pt_field *fields,
                      size_t n_fields)
{
    if (!s || !s->plugin)
        return;
    uint64_t shape = 0;
    const char *why =
        s->closed ? "emit after stream_close" : check_event(kind, ts, fields, n_fields, &shape);
    if (why) {
        drop_event(s, why);
        return;
    }
    pt_event ev = {.kind = kind, .ts = *ts, .fields = fields, .n_fields = n_fields};
    s->plugin->events++;
    pt_events_emit(s->bus, stream_env(s, shape), &ev);
}

/* pt_host.shape: declare (or find) a shape; NULL, logged, when it is not valid. */
static const pt_shape *host_shape(const char *kind, const pt_field *fields, size_t n_fields)
{
    const char *why;
    const pt_shape *shape = pt_shape_declare(
        kind, fields, n_fields, &(pt_shape_limits){limits.max_fields, limits.max_shapes},
        &last_shape_id, &why);
    if (!shape)
        host_log(NULL, PT_LOG_ERROR, "event shape '%s' refused (%s)",
                 pt_plugin_host_name_verdict(kind) ? kind : "?", why);
    return shape;
}

/* Why n events of a declared shape cannot be looked at at all (the handle, the arrays), or
 * NULL. */
static inline const char *check_shaped_arrays(const pt_shape *shape, const pt_time *ts,
                                              const pt_value *values, size_t stride)
{
    if (!shape || shape->magic != PT_SHAPE_MAGIC)
        return "not a declared shape";
    if (!ts)
        return "NULL timestamp"; /* each event's time is looked at by check_shaped() */
    if (shape->n && !values)
        return "NULL values";
    if (stride < shape->n)
        return "values stride shorter than the shape";
    return NULL;
}

/* Why one event of a declared shape is malformed, or NULL. */
static inline const char *check_shaped(const pt_shape *shape, const pt_time *ts,
                                       const pt_value *values)
{
    const char *why = ts_problem(ts);
    return why ? why : pt_shape_check_values(shape, values);
}

/* Hand n checked events of shape to the bus. */
static inline void send_shaped(pt_stream *s, const pt_shape *shape, size_t n, const pt_time *ts,
                               const pt_value *values, size_t stride)
{
    s->plugin->events += n;
    pt_events_emit_shaped(s->bus, stream_env(s, shape->id), shape, n, ts, values, stride);
}

/* The events of a batch one at a time: the malformed ones dropped, the others sent. */
static __attribute__((noinline)) void send_shaped_one_by_one(pt_stream *s, const pt_shape *shape,
                                                             size_t n, const pt_time *ts,
                                                             const pt_value *values, size_t stride)
{
    for (size_t i = 0; i < n; i++) {
        const char *why = check_shaped(shape, &ts[i], values + i * stride);
        if (why)
            drop_event(s, why);
        else
            send_shaped(s, shape, 1, &ts[i], values + i * stride, stride);
    }
}

/* pt_host.emit_shaped_batch, and emit_shaped (n = 1): what host_emit does for each event,
 * with the names and types the shape's, checked when it was declared. All events fine (the
 * usual case): one hand-over to the bus. */
static inline void emit_shaped_n(pt_stream *s, const pt_shape *shape, size_t n, const pt_time *ts,
                                 const pt_value *values, size_t stride)
{
    if (!s || !s->plugin || !n)
        return;
    const char *why =
        s->closed ? "emit after stream_close" : check_shaped_arrays(shape, ts, values, stride);
    if (why) {
        for (size_t i = 0; i < n; i++)
            drop_event(s, why);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if (G_UNLIKELY(check_shaped(shape, &ts[i], values + i * stride) != NULL)) {
            send_shaped_one_by_one(s, shape, n, ts, values, stride);
            return;
        }
    }
    send_shaped(s, shape, n, ts, values, stride);
}

static void host_emit_shaped(pt_stream *s, const pt_shape *shape, const pt_time *ts,
                             const pt_value *values)
{
    emit_shaped_n(s, shape, 1, ts, values, shape ? shape->n : 0);
}

static void host_emit_shaped_batch(pt_stream *s, const pt_shape *shape, size_t n, const pt_time *ts,
                                   const pt_value *values, size_t stride)
{
    emit_shaped_n(s, shape, n, ts, values, stride);
}

static const char *level_name(pt_log_level l)
{
    switch (l) {
    case PT_LOG_ERROR:
        return "error";
    case PT_LOG_WARNING:
        return "warning";
    case PT_LOG_INFO:
        return "info";
    default:
        return "debug";
    }
}

static void host_log(pt_stream *s, pt_log_level level, const char *fmt, ...)
{
    if ((int)level > (int)limits.log_level || !fmt)
        return;
    uint64_t *lines = s && s->plugin ? &s->plugin->log_lines : &anon_log_lines;
    if (++*lines > limits.log_lines) {
        if (*lines == (uint64_t)limits.log_lines + 1)
            g_printerr("pcaptrace: %s: more log lines suppressed (limit %u, --plugin-log-lines)\n",
                       s && s->plugin ? s->plugin->desc.name : "plugin", limits.log_lines);
        return;
    }
    char msg[PT_HOST_LOG_BYTES];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    GString *line = g_string_sized_new(sizeof msg + 64);
    g_string_append_printf(line, "pcaptrace: %s", s && s->plugin ? s->plugin->desc.name : "plugin");
    if (s && s->id)
        g_string_append_printf(line, " [flow %s]", s->id);
    g_string_append_printf(line, ": %s: ", level_name(level));
    pt_escape_text(line, (const uint8_t *)msg, strlen(msg), false);
    g_printerr("%s\n", line->str);
    g_string_free(line, TRUE);
}

static const char *host_option_str(const pt_options *o, const char *key)
{
    return pt_options_get(o, key);
}

static int64_t host_option_int(const pt_options *o, const char *key, int64_t fallback)
{
    return pt_options_get_int(o, key, fallback);
}

static bool host_option_bool(const pt_options *o, const char *key, bool fallback)
{
    return pt_options_get_bool(o, key, fallback);
}

static const pt_endpoint *host_stream_client(const pt_stream *s)
{
    return s ? s->client : NULL;
}

static const pt_endpoint *host_stream_server(const pt_stream *s)
{
    return s ? s->server : NULL;
}

static const char *host_stream_id(const pt_stream *s)
{
    return s && s->id ? s->id : "";
}

static const pt_host host_table = {
    .abi_version = PT_PLUGIN_ABI,
    .struct_size = sizeof(pt_host),
    .emit = host_emit,
    .log = host_log,
    .option_str = host_option_str,
    .option_int = host_option_int,
    .option_bool = host_option_bool,
    .stream_client = host_stream_client,
    .stream_server = host_stream_server,
    .stream_id = host_stream_id,
    .text_printf = pt_text_printf,
    .text_span = pt_text_span,
    .text_color = pt_text_color,
    .shape = host_shape,
    .emit_shaped = host_emit_shaped,
    .emit_shaped_batch = host_emit_shaped_batch,
};

const pt_host *pt_plugin_host_get(void)
{
    return &host_table;
}
