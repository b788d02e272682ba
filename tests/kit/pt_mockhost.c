/* pt_mockhost.c — the plugin test kit's mock host: loads one plugin (linked in or from a
 * shared object), checks it like the core loader, implements the pt_host table (events are
 * deep-copied into a list, logs captured, options from key=value strings) and drives fake
 * streams. See include/pcaptrace/testkit.h for the contract. */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "pt_mock_internal.h"

/* Size of the version-1 descriptor: everything up to and including format_text. */
#define PT_MOCK_PLUGIN_V1_SIZE (offsetof(pt_plugin, format_text) + sizeof(void (*)(void)))

/* Longest option value the kit accepts, a sanity bound against runaway test input. */
#define PT_MOCK_MAX_OPTION_LEN 4096

/* The core's limits on events (core/plugin_host.c), enforced here the same way. */
#define PT_MOCK_NAME_MAX   64  /* longest event kind or field name */
#define PT_MOCK_MAX_FIELDS 256 /* fields in one event */

/* Fallback text rendering: longest value shown per field. */
#define PT_MOCK_TEXT_FIELD_MAX 64

void pt_mock_error(pt_mockhost *m, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    fprintf(stderr, "testkit: %s\n", msg);
    g_ptr_array_add(m->errors, msg);
}

/* Names of kinds and fields are stable JSON keys: [a-z][a-z0-9_]*, at most
 * PT_MOCK_NAME_MAX bytes. */
static bool snake_case(const char *s)
{
    if (s == NULL || !(s[0] >= 'a' && s[0] <= 'z') ||
        strnlen(s, PT_MOCK_NAME_MAX + 1) > PT_MOCK_NAME_MAX) {
        return false;
    }
    for (const char *p = s; *p; p++) {
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_')) {
            return false;
        }
    }
    return true;
}

/* Plugin names may start with a digit ([a-z0-9_]+, plugin.h). */
static bool plugin_name_ok(const char *s)
{
    if (s == NULL || *s == '\0') {
        return false;
    }
    for (const char *p = s; *p; p++) {
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_')) {
            return false;
        }
    }
    return true;
}

/* ---- endpoints --------------------------------------------------------------------------- */

bool pt_mock_endpoint_parse(const char *text, pt_endpoint *out)
{
    memset(out, 0, sizeof *out);
    if (text == NULL) {
        return false;
    }
    const char *colon;
    char host[INET6_ADDRSTRLEN + 1];
    size_t hlen;
    int family;
    if (text[0] == '[') {
        const char *close = strchr(text, ']');
        if (close == NULL || close[1] != ':') {
            return false;
        }
        hlen = (size_t)(close - text - 1);
        if (hlen >= sizeof host) {
            return false;
        }
        memcpy(host, text + 1, hlen);
        colon = close + 1;
        family = AF_INET6;
    } else {
        colon = strrchr(text, ':');
        if (colon == NULL) {
            return false;
        }
        hlen = (size_t)(colon - text);
        if (hlen >= sizeof host) {
            return false;
        }
        memcpy(host, text, hlen);
        family = AF_INET;
    }
    host[hlen] = '\0';
    char *end;
    unsigned long port = strtoul(colon + 1, &end, 10);
    if (colon[1] == '\0' || *end != '\0' || port > 65535) {
        return false;
    }
    if (inet_pton(family, host, out->addr.bytes) != 1) {
        return false;
    }
    out->addr.family = family == AF_INET ? 4 : 6;
    out->port = (uint16_t)port;
    return true;
}

void pt_mock_endpoint_append(GString *out, const pt_endpoint *ep)
{
    char buf[INET6_ADDRSTRLEN];
    if (ep->addr.family == 6) {
        inet_ntop(AF_INET6, ep->addr.bytes, buf, sizeof buf);
        g_string_append_printf(out, "[%s]:%u", buf, ep->port);
    } else if (ep->addr.family == 4) {
        inet_ntop(AF_INET, ep->addr.bytes, buf, sizeof buf);
        g_string_append_printf(out, "%s:%u", buf, ep->port);
    } else {
        g_string_append_printf(out, "?:%u", ep->port);
    }
}

/* ---- text helpers ------------------------------------------------------------------------ */

void pt_mock_text_span_append(GString *out, pt_span value, size_t max_bytes, bool quoted)
{
    size_t shown = value.len;
    if (max_bytes > 0 && shown > max_bytes) {
        shown = max_bytes;
    }
    uint64_t full = value.full_len > value.len ? value.full_len : value.len;
    if (quoted) {
        g_string_append_c(out, '"');
    }
    for (size_t i = 0; i < shown && value.ptr != NULL; i++) {
        uint8_t c = value.ptr[i];
        if (c == '\\' || (quoted && c == '"')) {
            g_string_append_c(out, '\\');
            g_string_append_c(out, (char)c);
        } else if (c == '\r') {
            g_string_append(out, "\\r");
        } else if (c == '\n') {
            g_string_append(out, "\\n");
        } else if (c == '\t') {
            g_string_append(out, "\\t");
        } else if (c < 0x20 || c > 0x7e) {
            g_string_append_printf(out, "\\x%02x", c);
        } else {
            g_string_append_c(out, (char)c);
        }
    }
    if (quoted) {
        g_string_append_c(out, '"');
    }
    if (shown < full) {
        g_string_append_printf(out, "\xe2\x80\xa6(%" G_GUINT64_FORMAT " bytes)", full);
    }
}

static void host_text_printf(pt_text *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_string_append_vprintf(t->buf, fmt, ap);
    va_end(ap);
}

static void host_text_span(pt_text *t, pt_span value, size_t max_bytes, bool quoted)
{
    pt_mock_text_span_append(t->buf, value, max_bytes, quoted);
}

static bool host_text_color(const pt_text *t)
{
    return t->color;
}

/* ---- options ----------------------------------------------------------------------------- */

static const pt_option_spec *option_spec(const pt_plugin *p, const char *key)
{
    for (const pt_option_spec *o = p->options; o != NULL && o->key != NULL; o++) {
        if (strcmp(o->key, key) == 0) {
            return o;
        }
    }
    return NULL;
}

/* The host hands options to plugins as opaque pointers; recover the mock from one. */
static pt_mockhost *mock_of_options(const pt_options *o)
{
    return (pt_mockhost *)((char *)(uintptr_t)o - offsetof(pt_mockhost, opts));
}

static const char *host_option_str(const pt_options *o, const char *key)
{
    pt_mockhost *m = mock_of_options(o);
    if (key == NULL || option_spec(m->plugin, key) == NULL) {
        pt_mock_error(m, "plugin '%s' read option '%s' that it does not declare", m->plugin->name,
                      key ? key : "(null)");
        return NULL;
    }
    return g_hash_table_lookup(o->values, key);
}

static int64_t host_option_int(const pt_options *o, const char *key, int64_t fallback)
{
    const char *v = host_option_str(o, key);
    if (v == NULL || *v == '\0') {
        return fallback;
    }
    char *end;
    gint64 x = g_ascii_strtoll(v, &end, 10);
    if (*end != '\0') {
        return fallback;
    }
    return x;
}

static bool host_option_bool(const pt_options *o, const char *key, bool fallback)
{
    const char *v = host_option_str(o, key);
    if (v == NULL) {
        return fallback;
    }
    static const char *const yes[] = {"1", "true", "yes", "on"};
    static const char *const no[] = {"0", "false", "no", "off"};
    for (size_t i = 0; i < G_N_ELEMENTS(yes); i++) {
        if (g_ascii_strcasecmp(v, yes[i]) == 0) {
            return true;
        }
        if (g_ascii_strcasecmp(v, no[i]) == 0) {
            return false;
        }
    }
    return fallback;
}

/* Fill the option table: declared defaults first, then "key=value" strings. */
static bool options_load(pt_mockhost *m, const char *const *options, char **error)
{
    const pt_plugin *p = m->plugin;
    for (const pt_option_spec *o = p->options; o != NULL && o->key != NULL; o++) {
        if (!snake_case(o->key) || g_hash_table_contains(m->opts.values, o->key)) {
            *error = g_strdup_printf("plugin '%s' declares a bad or duplicate option key '%s'",
                                     p->name, o->key);
            return false;
        }
        g_hash_table_insert(m->opts.values, g_strdup(o->key),
                            o->default_value ? g_strdup(o->default_value) : NULL);
    }
    for (size_t i = 0; options != NULL && options[i] != NULL; i++) {
        const char *eq = strchr(options[i], '=');
        if (eq == NULL || eq == options[i] || strlen(eq + 1) > PT_MOCK_MAX_OPTION_LEN) {
            *error = g_strdup_printf("option '%s' is not key=value", options[i]);
            return false;
        }
        char *key = g_strndup(options[i], (gsize)(eq - options[i]));
        if (option_spec(p, key) == NULL) {
            *error = g_strdup_printf("unknown option '%s' for plugin '%s'", key, p->name);
            g_free(key);
            return false;
        }
        g_hash_table_replace(m->opts.values, key, g_strdup(eq + 1));
    }
    return true;
}

/* ---- streams: host facts ----------------------------------------------------------------- */

static const pt_endpoint *host_stream_client(const pt_stream *s)
{
    return &s->client;
}

static const pt_endpoint *host_stream_server(const pt_stream *s)
{
    return &s->server;
}

static const char *host_stream_id(const pt_stream *s)
{
    return s->id;
}

/* ---- logging ----------------------------------------------------------------------------- */

/* The host table's log: a stream-less message is attributed to the only live mock. Since
 * the C varargs signature carries no host pointer, the kit keeps the most recently
 * created mock for that case (tests drive one mock at a time). */
static pt_mockhost *current_mock;

/* Field names the envelope uses (a field may not shadow them). */
static const char *const envelope[] = {"ts", "flow", "proto", "event", "client", "server"};

static void host_log_any(pt_stream *s, pt_log_level level, const char *fmt, ...)
{
    pt_mockhost *m = s != NULL ? s->mock : current_mock;
    if (m == NULL) {
        return;
    }
    pt_mock_log *l = g_new0(pt_mock_log, 1);
    va_list ap;
    va_start(ap, fmt);
    l->message = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    l->level = level;
    l->stream_index = s != NULL ? s->index : SIZE_MAX;
    if (level > PT_LOG_DEBUG) {
        pt_mock_error(m, "log with unknown level %d: %s", (int)level, l->message);
    }
    if (g_getenv("PT_MOCK_VERBOSE") != NULL) {
        fprintf(stderr, "testkit log[%d] %s: %s\n", (int)level, s ? s->id : "-", l->message);
    }
    g_ptr_array_add(m->logs, l);
}

/* ---- events ------------------------------------------------------------------------------ */

static pt_span span_copy(pt_span in)
{
    uint8_t *p = g_malloc(in.len + 1);
    if (in.len > 0) {
        memcpy(p, in.ptr, in.len);
    }
    p[in.len] = '\0';
    return (pt_span){p, in.len, in.full_len};
}

/* Check a span the plugin handed over; false (and a kit error) when it cannot be read. */
static bool span_ok(pt_mockhost *m, const char *kind, const char *field, pt_span s)
{
    if (s.len > 0 && s.ptr == NULL) {
        pt_mock_error(m, "event '%s' field '%s': NULL span of %zu bytes", kind, field, s.len);
        return false;
    }
    if (s.full_len < s.len) {
        pt_mock_error(m, "event '%s' field '%s': full_len %" G_GUINT64_FORMAT " < len %zu", kind,
                      field, s.full_len, s.len);
    }
    return true;
}

static void event_free(gpointer p)
{
    pt_mock_event *e = p;
    for (size_t i = 0; i < e->n_fields; i++) {
        pt_field *f = &e->fields[i];
        g_free((char *)(uintptr_t)f->name);
        if (f->type == PT_FIELD_STR || f->type == PT_FIELD_BYTES) {
            g_free((uint8_t *)(uintptr_t)f->v.str.ptr);
        } else if (f->type == PT_FIELD_STR_LIST) {
            for (size_t j = 0; j < f->v.list.count; j++) {
                g_free((uint8_t *)(uintptr_t)f->v.list.items[j].ptr);
            }
            g_free((pt_span *)(uintptr_t)f->v.list.items);
        }
    }
    g_free(e->fields);
    g_free(e->kind);
    g_free(e);
}

/* Deep-copy one field after checking it. */
static void field_copy(pt_mockhost *m, const char *kind, const pt_field *in, pt_field *out)
{
    out->name = g_strdup(in->name ? in->name : "");
    out->type = in->type;
    if (!snake_case(in->name)) {
        pt_mock_error(m, "event '%s': field name '%s' is not snake_case (at most %d bytes)", kind,
                      in->name ? in->name : "(null)", PT_MOCK_NAME_MAX);
    }
    for (size_t i = 0; in->name != NULL && i < G_N_ELEMENTS(envelope); i++) {
        if (strcmp(in->name, envelope[i]) == 0) {
            pt_mock_error(m, "event '%s': field '%s' shadows the envelope", kind, in->name);
        }
    }
    switch (in->type) {
    case PT_FIELD_STR:
    case PT_FIELD_BYTES:
        if (!span_ok(m, kind, out->name, in->v.str)) {
            out->type = PT_FIELD_NULL;
            return;
        }
        out->v.str = span_copy(in->v.str);
        return;
    case PT_FIELD_STR_LIST: {
        size_t n = in->v.list.count;
        if (n > 0 && in->v.list.items == NULL) {
            pt_mock_error(m, "event '%s' field '%s': NULL list of %zu items", kind, out->name, n);
            n = 0;
        }
        if (in->v.list.total < n) {
            pt_mock_error(m, "event '%s' field '%s': list total < count", kind, out->name);
        }
        pt_span *items = g_new0(pt_span, n + 1);
        size_t kept = 0;
        for (size_t j = 0; j < n; j++) {
            if (span_ok(m, kind, out->name, in->v.list.items[j])) {
                items[kept++] = span_copy(in->v.list.items[j]);
            }
        }
        out->v.list.items = items;
        out->v.list.count = kept;
        out->v.list.total = in->v.list.total;
        return;
    }
    case PT_FIELD_INT:
    case PT_FIELD_UINT:
    case PT_FIELD_DOUBLE:
    case PT_FIELD_BOOL:
    case PT_FIELD_NULL:
        out->v = in->v;
        return;
    }
    pt_mock_error(m, "event '%s' field '%s': unknown type %d", kind, out->name, (int)in->type);
    out->type = PT_FIELD_NULL;
}

static void host_emit(pt_stream *s, const char *kind, const pt_time *ts, const pt_field *fields,
                      size_t n_fields)
{
    pt_mockhost *m = s != NULL ? s->mock : current_mock;
    if (m == NULL) {
        return;
    }
    if (s == NULL) {
        pt_mock_error(m, "emit without a stream (kind '%s')", kind ? kind : "(null)");
        return;
    }
    if (!s->open) {
        pt_mock_error(m, "emit on closed stream %s (kind '%s')", s->id, kind ? kind : "(null)");
        return;
    }
    if (!snake_case(kind)) {
        pt_mock_error(m, "event kind '%s' is not snake_case", kind ? kind : "(null)");
        if (kind == NULL) {
            return;
        }
    }
    if (n_fields > 0 && fields == NULL) {
        pt_mock_error(m, "event '%s': %zu fields but NULL array", kind, n_fields);
        return;
    }
    if (n_fields > PT_MOCK_MAX_FIELDS) {
        pt_mock_error(m, "event '%s': %zu fields, the host takes at most %d", kind, n_fields,
                      PT_MOCK_MAX_FIELDS);
        return;
    }
    if (ts == NULL) {
        pt_mock_error(m, "event '%s': NULL timestamp", kind);
    } else if (ts->nsec >= 1000000000u) {
        pt_mock_error(m, "event '%s': nsec %u out of range", kind, ts->nsec);
    }
    pt_mock_event *e = g_new0(pt_mock_event, 1);
    e->kind = g_strdup(kind);
    e->ts = ts != NULL ? *ts : m->clock;
    e->stream = s;
    e->stream_index = s->index;
    e->n_fields = n_fields;
    e->fields = g_new0(pt_field, n_fields + 1);
    for (size_t i = 0; i < n_fields; i++) {
        field_copy(m, kind, &fields[i], &e->fields[i]);
        for (size_t j = 0; j < i; j++) {
            if (strcmp(e->fields[j].name, e->fields[i].name) == 0) {
                pt_mock_error(m, "event '%s': duplicate field '%s'", kind, e->fields[i].name);
            }
        }
    }
    g_ptr_array_add(m->events, e);
}

/* A declared shape: copies of the kind and of the fields' names and types. */
struct pt_shape {
    pt_mockhost *m;
    char *kind;
    size_t n;
    pt_field *fields; /* names owned; values are scratch for emit_shaped */
};

static void shape_free(gpointer p)
{
    pt_shape *sh = p;
    for (size_t i = 0; i < sh->n; i++)
        g_free((char *)sh->fields[i].name);
    g_free(sh->fields);
    g_free(sh->kind);
    g_free(sh);
}

/* pt_host.shape: the core's checks (kind and names snake_case, no envelope name, known
 * types, no repeated name, within the field limit); NULL and a contract error otherwise. */
static const pt_shape *host_shape(const char *kind, const pt_field *fields, size_t n_fields)
{
    pt_mockhost *m = current_mock;
    if (m == NULL) {
        return NULL;
    }
    bool ok = snake_case(kind) && n_fields <= PT_MOCK_MAX_FIELDS && (fields || !n_fields);
    for (size_t i = 0; ok && i < n_fields; i++) {
        ok = snake_case(fields[i].name) && (unsigned)fields[i].type <= PT_FIELD_NULL;
        for (size_t j = 0; ok && j < G_N_ELEMENTS(envelope); j++)
            ok = strcmp(fields[i].name, envelope[j]) != 0;
        for (size_t j = 0; ok && j < i; j++)
            ok = strcmp(fields[i].name, fields[j].name) != 0;
    }
    if (!ok) {
        pt_mock_error(m, "event shape '%s' refused", snake_case(kind) ? kind : "(bad kind)");
        return NULL;
    }
    pt_shape *sh = g_new0(pt_shape, 1);
    sh->m = m;
    sh->kind = g_strdup(kind);
    sh->n = n_fields;
    sh->fields = g_new0(pt_field, n_fields + 1);
    for (size_t i = 0; i < n_fields; i++) {
        sh->fields[i].name = g_strdup(fields[i].name);
        sh->fields[i].type = fields[i].type;
    }
    g_ptr_array_add(m->shapes, sh);
    return sh;
}

/* pt_host.emit_shaped: the shape's fields with these values, emitted (and checked) as emit()
 * does. */
static void host_emit_shaped(pt_stream *s, const pt_shape *shape, const pt_time *ts,
                             const pt_value *values)
{
    pt_mockhost *m = s != NULL ? s->mock : current_mock;
    if (m == NULL) {
        return;
    }
    if (shape == NULL || shape->m != m || (shape->n && values == NULL)) {
        pt_mock_error(m, "emit_shaped without a declared shape or values");
        return;
    }
    for (size_t i = 0; i < shape->n; i++)
        shape->fields[i].v = values[i];
    host_emit(s, shape->kind, ts, shape->fields, shape->n);
}

/* pt_host.emit_shaped_batch: each event as emit_shaped() takes it, in order. */
static void host_emit_shaped_batch(pt_stream *s, const pt_shape *shape, size_t n, const pt_time *ts,
                                   const pt_value *values, size_t stride)
{
    pt_mockhost *m = s != NULL ? s->mock : current_mock;
    if (m == NULL) {
        return;
    }
    if (shape == NULL || ts == NULL || (n && shape->n && values == NULL) || stride < shape->n) {
        pt_mock_error(m, "emit_shaped_batch without a declared shape, times or values");
        return;
    }
    for (size_t i = 0; i < n; i++)
        host_emit_shaped(s, shape, &ts[i], values + i * stride);
}

/* ---- creation ---------------------------------------------------------------------------- */

/* The loader's checks, in the order plugin.h promises. NULL when fine, else a message. */
static char *plugin_check(const pt_plugin *p)
{
    if (p == NULL) {
        return g_strdup("plugin entry returned NULL");
    }
    if (p->abi_version != PT_PLUGIN_ABI) {
        return g_strdup_printf("plugin ABI version %u, host expects %u", p->abi_version,
                               (unsigned)PT_PLUGIN_ABI);
    }
    if (p->struct_size < PT_MOCK_PLUGIN_V1_SIZE) {
        return g_strdup_printf("plugin descriptor size %u is smaller than version 1 (%zu)",
                               p->struct_size, (size_t)PT_MOCK_PLUGIN_V1_SIZE);
    }
    if (!plugin_name_ok(p->name)) {
        return g_strdup_printf("plugin name '%s' is not [a-z0-9_]+", p->name ? p->name : "(null)");
    }
    const char *missing = p->probe == NULL          ? "probe"
                          : p->stream_open == NULL  ? "stream_open"
                          : p->stream_data == NULL  ? "stream_data"
                          : p->stream_gap == NULL   ? "stream_gap"
                          : p->stream_close == NULL ? "stream_close"
                                                    : NULL;
    if (missing != NULL) {
        return g_strdup_printf("plugin '%s' has no %s callback", p->name, missing);
    }
    return NULL;
}

static void log_free(gpointer p)
{
    pt_mock_log *l = p;
    g_free(l->message);
    g_free(l);
}

static void stream_free(gpointer p)
{
    g_free(p);
}

/* Errors handed to callers are malloc()ed (plugin.h's convention), not g_malloc()ed. */
static void set_error(char **error, char *gmsg)
{
    if (error != NULL) {
        *error = strdup(gmsg);
    }
    g_free(gmsg);
}

static pt_mockhost *mock_create(const pt_plugin *plugin, GModule *module,
                                const char *const *options, char **error)
{
    char *why = plugin_check(plugin);
    if (why != NULL) {
        set_error(error, why);
        return NULL;
    }
    pt_mockhost *m = g_new0(pt_mockhost, 1);
    m->plugin = plugin;
    m->module = module;
    m->clock = (pt_time){PT_MOCK_EPOCH_SEC, 0};
    m->opts.values = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    m->streams = g_ptr_array_new_with_free_func(stream_free);
    m->declined_streams = g_ptr_array_new_with_free_func(stream_free);
    m->events = g_ptr_array_new_with_free_func(event_free);
    m->logs = g_ptr_array_new_with_free_func(log_free);
    m->errors = g_ptr_array_new_with_free_func(g_free);
    m->shapes = g_ptr_array_new_with_free_func(shape_free);
    m->host = (pt_host){
        .abi_version = PT_PLUGIN_ABI,
        .struct_size = sizeof(pt_host),
        .emit = host_emit,
        .shape = host_shape,
        .emit_shaped = host_emit_shaped,
        .emit_shaped_batch = host_emit_shaped_batch,
        .log = host_log_any,
        .option_str = host_option_str,
        .option_int = host_option_int,
        .option_bool = host_option_bool,
        .stream_client = host_stream_client,
        .stream_server = host_stream_server,
        .stream_id = host_stream_id,
        .text_printf = host_text_printf,
        .text_span = host_text_span,
        .text_color = host_text_color,
    };
    current_mock = m;
    if (plugin->version == NULL || plugin->description == NULL) {
        pt_mock_error(m, "plugin '%s' has no version or description", plugin->name);
    }
    char *oerr = NULL;
    if (!options_load(m, options, &oerr)) {
        set_error(error, oerr);
        m->module = NULL;
        pt_mock_free(m);
        return NULL;
    }
    if (plugin->init != NULL) {
        char *ierr = NULL;
        m->plugin_state = plugin->init(&m->host, &m->opts, &ierr);
        if (m->plugin_state == NULL && ierr != NULL) {
            if (error != NULL) {
                *error = ierr;
            } else {
                free(ierr);
            }
            m->module = NULL;
            pt_mock_free(m);
            return NULL;
        }
    }
    m->initialised = true;
    return m;
}

pt_mockhost *pt_mock_new(const pt_plugin *plugin, const char *const *options, char **error)
{
    if (error != NULL) {
        *error = NULL;
    }
    return mock_create(plugin, NULL, options, error);
}

pt_mockhost *pt_mock_load(const char *path, const char *const *options, char **error)
{
    if (error != NULL) {
        *error = NULL;
    }
    GModule *mod = g_module_open(path, G_MODULE_BIND_LOCAL);
    if (mod == NULL) {
        set_error(error, g_strdup_printf("%s: %s", path, g_module_error()));
        return NULL;
    }
    gpointer sym = NULL;
    if (!g_module_symbol(mod, PT_PLUGIN_ENTRY_SYMBOL, &sym) || sym == NULL) {
        set_error(error, g_strdup_printf("%s: no %s symbol", path, PT_PLUGIN_ENTRY_SYMBOL));
        g_module_close(mod);
        return NULL;
    }
    pt_plugin_entry_fn entry = (pt_plugin_entry_fn)(uintptr_t)sym;
    pt_mockhost *m = mock_create(entry(), mod, options, error);
    if (m == NULL) {
        g_module_close(mod);
    }
    return m;
}

void pt_mock_free(pt_mockhost *m)
{
    if (m == NULL) {
        return;
    }
    if (m->initialised) {
        for (guint i = 0; i < m->streams->len; i++) {
            pt_mock_stream *s = g_ptr_array_index(m->streams, i);
            if (s->open) {
                pt_mock_close(s, PT_CLOSE_END_OF_CAPTURE, NULL);
            }
        }
        if (m->plugin->fini != NULL) {
            m->plugin->fini(m->plugin_state);
        }
    }
    g_ptr_array_free(m->events, TRUE);
    g_ptr_array_free(m->shapes, TRUE);
    g_ptr_array_free(m->streams, TRUE);
    g_ptr_array_free(m->declined_streams, TRUE);
    g_ptr_array_free(m->logs, TRUE);
    g_ptr_array_free(m->errors, TRUE);
    g_hash_table_destroy(m->opts.values);
    if (m->module != NULL) {
        g_module_close(m->module);
    }
    if (current_mock == m) {
        current_mock = NULL;
    }
    g_free(m);
}

const pt_plugin *pt_mock_plugin(const pt_mockhost *m)
{
    return m->plugin;
}

const pt_host *pt_mock_host(const pt_mockhost *m)
{
    return &m->host;
}

void *pt_mock_plugin_state(const pt_mockhost *m)
{
    return m->plugin_state;
}

pt_probe_result pt_mock_probe(pt_mockhost *m, pt_dir dir, const void *data, size_t len)
{
    uint8_t *copy = g_malloc(len > 0 ? len : 1);
    if (len > 0) {
        memcpy(copy, data, len);
    }
    pt_probe_result r = m->plugin->probe(dir, copy, len);
    g_free(copy);
    if (r != PT_PROBE_NO && r != PT_PROBE_YES && r != PT_PROBE_NEED_MORE) {
        pt_mock_error(m, "probe() returned %d", (int)r);
    }
    return r;
}

/* ---- clock ------------------------------------------------------------------------------- */

pt_time pt_mock_time(int64_t sec, uint32_t usec)
{
    return (pt_time){sec + usec / 1000000, (usec % 1000000) * 1000};
}

void pt_mock_clock_set(pt_mockhost *m, const pt_time *ts)
{
    m->clock = *ts;
}

void pt_mock_clock_advance_us(pt_mockhost *m, int64_t us)
{
    int64_t ns = (int64_t)m->clock.nsec + (us % 1000000) * 1000;
    int64_t sec = m->clock.sec + us / 1000000;
    if (ns < 0) {
        ns += 1000000000;
        sec--;
    } else if (ns >= 1000000000) {
        ns -= 1000000000;
        sec++;
    }
    m->clock = (pt_time){sec, (uint32_t)ns};
}

pt_time pt_mock_clock(const pt_mockhost *m)
{
    return m->clock;
}

/* ---- streams ----------------------------------------------------------------------------- */

pt_mock_stream *pt_mock_stream_open_ep(pt_mockhost *m, const pt_endpoint *client,
                                       const pt_endpoint *server)
{
    pt_mock_stream *s = g_new0(pt_mock_stream, 1);
    s->mock = m;
    s->index = m->streams->len;
    s->client = *client;
    s->server = *server;
    s->last = PT_FEED_OK;
    g_snprintf(s->id, sizeof s->id, "mock-%zu", s->index);
    s->open = true;
    current_mock = m;
    s->state = m->plugin->stream_open(m->plugin_state, s);
    if (s->state == NULL) {
        m->declined++;
        s->open = false;
        g_ptr_array_add(m->declined_streams, s);
        return NULL;
    }
    g_ptr_array_add(m->streams, s);
    return s;
}

pt_mock_stream *pt_mock_stream_open(pt_mockhost *m, const char *client, const char *server)
{
    pt_endpoint c, sv;
    if (!pt_mock_endpoint_parse(client, &c) || !pt_mock_endpoint_parse(server, &sv)) {
        pt_mock_error(m, "bad endpoint '%s' or '%s' (want a.b.c.d:port or [v6]:port)",
                      client ? client : "(null)", server ? server : "(null)");
        return NULL;
    }
    return pt_mock_stream_open_ep(m, &c, &sv);
}

pt_feed_result pt_mock_feed(pt_mock_stream *s, pt_dir dir, const void *data, size_t len,
                            const pt_time *ts)
{
    if (s == NULL) {
        return PT_FEED_VIOLATION;
    }
    pt_mockhost *m = s->mock;
    if (!s->open) {
        if (s->last == PT_FEED_OK) {
            pt_mock_error(m, "feed on closed stream %s", s->id);
        }
        return s->last;
    }
    if (len == 0) {
        return PT_FEED_OK;
    }
    const pt_time when = ts != NULL ? *ts : m->clock;
    uint8_t *copy = g_malloc(len);
    memcpy(copy, data, len);
    current_mock = m;
    pt_feed_result r = m->plugin->stream_data(s->state, dir, copy, len, &when);
    g_free(copy);
    if (r != PT_FEED_OK && r != PT_FEED_RELEASE && r != PT_FEED_VIOLATION) {
        pt_mock_error(m, "stream_data() returned %d", (int)r);
        r = PT_FEED_VIOLATION;
    }
    s->last = r;
    if (r != PT_FEED_OK) {
        pt_mock_close(s, PT_CLOSE_RELEASED, &when);
        s->last = r;
    }
    return r;
}

pt_feed_result pt_mock_feed_str(pt_mock_stream *s, pt_dir dir, const char *text)
{
    return pt_mock_feed(s, dir, text, strlen(text), NULL);
}

pt_feed_result pt_mock_feed_split(pt_mock_stream *s, pt_dir dir, const void *data, size_t len,
                                  size_t chunk, const pt_time *ts)
{
    const uint8_t *p = data;
    pt_feed_result r = PT_FEED_OK;
    if (chunk == 0) {
        chunk = len > 0 ? len : 1;
    }
    for (size_t off = 0; off < len; off += chunk) {
        size_t n = len - off < chunk ? len - off : chunk;
        r = pt_mock_feed(s, dir, p + off, n, ts);
        if (r != PT_FEED_OK) {
            break;
        }
    }
    return r;
}

void pt_mock_gap(pt_mock_stream *s, pt_dir dir, uint64_t missing, const pt_time *ts)
{
    if (s == NULL) {
        return;
    }
    if (!s->open) {
        pt_mock_error(s->mock, "gap on closed stream %s", s->id);
        return;
    }
    const pt_time when = ts != NULL ? *ts : s->mock->clock;
    current_mock = s->mock;
    s->mock->plugin->stream_gap(s->state, dir, missing, &when);
}

void pt_mock_close(pt_mock_stream *s, pt_close_reason why, const pt_time *ts)
{
    if (s == NULL) {
        return;
    }
    if (!s->open) {
        pt_mock_error(s->mock, "close of closed stream %s", s->id);
        return;
    }
    const pt_time when = ts != NULL ? *ts : s->mock->clock;
    current_mock = s->mock;
    s->mock->plugin->stream_close(s->state, why, &when);
    s->open = false;
    s->state = NULL;
}

bool pt_mock_stream_is_open(const pt_mock_stream *s)
{
    return s != NULL && s->open;
}

pt_feed_result pt_mock_stream_result(const pt_mock_stream *s)
{
    return s->last;
}

const char *pt_mock_stream_id(const pt_mock_stream *s)
{
    return s->id;
}

size_t pt_mock_stream_count(const pt_mockhost *m)
{
    return m->streams->len;
}

size_t pt_mock_declined_count(const pt_mockhost *m)
{
    return m->declined;
}

/* ---- event queries ----------------------------------------------------------------------- */

size_t pt_mock_event_count(const pt_mockhost *m)
{
    return m->events->len;
}

const pt_mock_event *pt_mock_event_at(const pt_mockhost *m, size_t i)
{
    return i < m->events->len ? g_ptr_array_index(m->events, i) : NULL;
}

size_t pt_mock_count_kind(const pt_mockhost *m, const char *kind)
{
    size_t n = 0;
    for (guint i = 0; i < m->events->len; i++) {
        const pt_mock_event *e = g_ptr_array_index(m->events, i);
        if (kind == NULL || strcmp(e->kind, kind) == 0) {
            n++;
        }
    }
    return n;
}

const pt_mock_event *pt_mock_find(const pt_mockhost *m, const char *kind, size_t nth)
{
    for (guint i = 0; i < m->events->len; i++) {
        const pt_mock_event *e = g_ptr_array_index(m->events, i);
        if (kind == NULL || strcmp(e->kind, kind) == 0) {
            if (nth == 0) {
                return e;
            }
            nth--;
        }
    }
    return NULL;
}

void pt_mock_events_clear(pt_mockhost *m)
{
    g_ptr_array_set_size(m->events, 0);
}

/* A field of a type that holds no bytes (int, uint, double, bool, null), doubles printed with
 * double_fmt; false for the others (strings, bytes, lists), which the caller writes. */
static bool append_scalar(GString *g, const pt_field *f, const char *double_fmt)
{
    switch (f->type) {
    case PT_FIELD_INT:
        g_string_append_printf(g, "%" G_GINT64_FORMAT, (gint64)f->v.i);
        return true;
    case PT_FIELD_UINT:
        g_string_append_printf(g, "%" G_GUINT64_FORMAT, (guint64)f->v.u);
        return true;
    case PT_FIELD_DOUBLE:
        g_string_append_printf(g, double_fmt, f->v.d);
        return true;
    case PT_FIELD_BOOL:
        g_string_append(g, f->v.b ? "true" : "false");
        return true;
    case PT_FIELD_NULL:
        g_string_append(g, "null");
        return true;
    default:
        return false;
    }
}

/* A span for pt_mock_events_dump(): quoted, \xHH outside printable ASCII, its full length. */
static void dump_span(GString *g, const pt_span *v)
{
    g_string_append_c(g, '"');
    for (size_t i = 0; i < v->len; i++) {
        if (v->ptr[i] >= ' ' && v->ptr[i] < 127) {
            g_string_append_c(g, (char)v->ptr[i]);
        } else {
            g_string_append_printf(g, "\\x%02x", v->ptr[i]);
        }
    }
    g_string_append_printf(g, "\"(%llu)", (unsigned long long)v->full_len);
}

char *pt_mock_events_dump(const pt_mockhost *m)
{
    GString *g = g_string_new(NULL);
    for (size_t i = 0; i < m->events->len; i++) {
        const pt_mock_event *e = g_ptr_array_index(m->events, i);
        g_string_append_printf(g, "%s %lld.%09u", e->kind, (long long)e->ts.sec, e->ts.nsec);
        for (size_t k = 0; k < e->n_fields; k++) {
            const pt_field *f = &e->fields[k];
            g_string_append_printf(g, " %s=", f->name);
            if (append_scalar(g, f, "%.17g")) {
                continue;
            }
            if (f->type == PT_FIELD_STR_LIST) {
                g_string_append_c(g, '[');
                for (size_t j = 0; j < f->v.list.count; j++) {
                    dump_span(g, &f->v.list.items[j]);
                }
                g_string_append_printf(g, "](%llu)", (unsigned long long)f->v.list.total);
            } else if (f->type == PT_FIELD_STR || f->type == PT_FIELD_BYTES) {
                dump_span(g, &f->v.str);
            }
        }
        g_string_append_c(g, '\n');
    }
    char *out = strdup(g->str);
    g_string_free(g, TRUE);
    return out;
}

const pt_field *pt_mock_field(const pt_mock_event *ev, const char *name)
{
    if (ev == NULL || name == NULL) {
        return NULL;
    }
    for (size_t i = 0; i < ev->n_fields; i++) {
        if (strcmp(ev->fields[i].name, name) == 0) {
            return &ev->fields[i];
        }
    }
    return NULL;
}

const char *pt_mock_field_str(const pt_mock_event *ev, const char *name)
{
    const pt_field *f = pt_mock_field(ev, name);
    if (f == NULL || (f->type != PT_FIELD_STR && f->type != PT_FIELD_BYTES)) {
        return NULL;
    }
    return (const char *)f->v.str.ptr;
}

int64_t pt_mock_field_int(const pt_mock_event *ev, const char *name, int64_t fallback)
{
    const pt_field *f = pt_mock_field(ev, name);
    if (f == NULL) {
        return fallback;
    }
    switch (f->type) {
    case PT_FIELD_INT:
        return f->v.i;
    case PT_FIELD_UINT:
        return f->v.u <= (uint64_t)INT64_MAX ? (int64_t)f->v.u : fallback;
    case PT_FIELD_BOOL:
        return f->v.b ? 1 : 0;
    default:
        return fallback;
    }
}

bool pt_mock_field_has(const pt_mock_event *ev, const char *name)
{
    return pt_mock_field(ev, name) != NULL;
}

const char *pt_mock_field_list_item(const pt_mock_event *ev, const char *name, size_t i)
{
    const pt_field *f = pt_mock_field(ev, name);
    if (f == NULL || f->type != PT_FIELD_STR_LIST || i >= f->v.list.count) {
        return NULL;
    }
    return (const char *)f->v.list.items[i].ptr;
}

size_t pt_mock_field_list_count(const pt_mock_event *ev, const char *name)
{
    const pt_field *f = pt_mock_field(ev, name);
    return f != NULL && f->type == PT_FIELD_STR_LIST ? f->v.list.count : 0;
}

/* ---- text rendering ---------------------------------------------------------------------- */

/* key=value rendering the text sink uses for producers without format_text(). */
static void format_fields(GString *out, const pt_mock_event *ev)
{
    for (size_t i = 0; i < ev->n_fields; i++) {
        const pt_field *f = &ev->fields[i];
        g_string_append_printf(out, "%s%s=", i ? " " : "", f->name);
        if (append_scalar(out, f, "%g")) {
            continue;
        }
        switch (f->type) {
        case PT_FIELD_STR:
        case PT_FIELD_BYTES:
            pt_mock_text_span_append(out, f->v.str, PT_MOCK_TEXT_FIELD_MAX, true);
            break;
        case PT_FIELD_STR_LIST:
            g_string_append_c(out, '[');
            for (size_t j = 0; j < f->v.list.count; j++) {
                if (j) {
                    g_string_append_c(out, ',');
                }
                pt_mock_text_span_append(out, f->v.list.items[j], PT_MOCK_TEXT_FIELD_MAX, true);
            }
            g_string_append_c(out, ']');
            break;
        default:
            break;
        }
    }
}

char *pt_mock_format_text(pt_mockhost *m, const pt_mock_event *ev)
{
    pt_text t = {g_string_new(NULL), m->color};
    if (ev != NULL && m->plugin->format_text != NULL) {
        const pt_event e = {ev->kind, ev->ts, ev->fields, ev->n_fields};
        current_mock = m;
        m->plugin->format_text(m->plugin_state, &e, &t);
    } else if (ev != NULL) {
        g_string_append_printf(t.buf, "%s ", ev->kind);
        format_fields(t.buf, ev);
    }
    char *out = strdup(t.buf->str);
    g_string_free(t.buf, TRUE);
    return out;
}

void pt_mock_set_color(pt_mockhost *m, bool on)
{
    m->color = on;
}

/* ---- logs and errors --------------------------------------------------------------------- */

size_t pt_mock_log_count(const pt_mockhost *m)
{
    return m->logs->len;
}

const pt_mock_log *pt_mock_log_at(const pt_mockhost *m, size_t i)
{
    return i < m->logs->len ? g_ptr_array_index(m->logs, i) : NULL;
}

bool pt_mock_log_contains(const pt_mockhost *m, pt_log_level level, const char *needle)
{
    for (guint i = 0; i < m->logs->len; i++) {
        const pt_mock_log *l = g_ptr_array_index(m->logs, i);
        if (l->level <= level && strstr(l->message, needle) != NULL) {
            return true;
        }
    }
    return false;
}

size_t pt_mock_error_count(const pt_mockhost *m)
{
    return m->errors->len;
}

const char *pt_mock_error_at(const pt_mockhost *m, size_t i)
{
    return i < m->errors->len ? g_ptr_array_index(m->errors, i) : NULL;
}
