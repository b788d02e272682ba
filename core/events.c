/* events.c — the event bus: fans each event out to every sink, builds the sinks from the
 * command line (-F, --sink) and the config file ([sink TYPE] sections), flushes them. */
#include "events.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "escape.h"
#include "options.h"
#include "sink.h"

#define PT_EVENTS_ERROR (pt_events_error_quark())
static GQuark pt_events_error_quark(void)
{
    return g_quark_from_static_string("pt-events-error");
}

struct pt_events {
    pt_sink *sinks[PT_EVENTS_MAX_SINKS];
    size_t n_sinks;
    uint64_t events;
    int64_t flush_us;   /* flush interval */
    int64_t last_flush; /* monotonic µs */
    uint32_t since_check;
};

/* How many events pass between two looks at the clock (the clock read is cheap, but not
 * free; 64 events is far below any sensible flush interval). */
#define PT_EVENTS_CLOCK_EVERY 64

pt_events *pt_events_new_empty(void)
{
    pt_events *bus = g_new0(pt_events, 1);
    bus->flush_us = (int64_t)PT_EVENTS_FLUSH_MS_DEFAULT * 1000;
    bus->last_flush = g_get_monotonic_time();
    return bus;
}

bool pt_events_add_sink(pt_events *bus, pt_sink *sink)
{
    if (bus->n_sinks >= PT_EVENTS_MAX_SINKS)
        return false;
    bus->sinks[bus->n_sinks++] = sink;
    return true;
}

void pt_events_emit(pt_events *bus, const pt_envelope *env, const pt_event *ev)
{
    if (!bus)
        return;
    bus->events++;
    for (size_t i = 0; i < bus->n_sinks; i++)
        pt_sink_write(bus->sinks[i], env, ev);
    if (++bus->since_check >= PT_EVENTS_CLOCK_EVERY) {
        bus->since_check = 0;
        pt_events_tick(bus);
    }
}

pt_event pt_shape_event(const pt_shape *shape, const pt_time *ts, const pt_value *values)
{
    for (size_t i = 0; i < shape->n; i++)
        shape->fields[i].v = values[i];
    return (pt_event){
        .kind = shape->kind, .ts = *ts, .fields = shape->fields, .n_fields = shape->n};
}

void pt_events_emit_shaped(pt_events *bus, const pt_envelope *env, const pt_shape *shape, size_t n,
                           const pt_time *ts, const pt_value *values, size_t stride)
{
    if (!bus)
        return;
    bus->events += n;
    /* Sink by sink (each sees the events in order): the values, all n at once, to those with
     * write_shaped; to the others each event as the shape's fields. */
    for (size_t i = 0; i < bus->n_sinks; i++) {
        pt_sink *s = bus->sinks[i];
        if (s->ops->write_shaped) {
            s->ops->write_shaped(s, env, shape, n, ts, values, stride);
            continue;
        }
        for (size_t e = 0; e < n; e++) {
            pt_event ev = pt_shape_event(shape, &ts[e], values + e * stride);
            pt_sink_write(s, env, &ev);
        }
    }
    bus->since_check += (uint32_t)n;
    if (bus->since_check >= PT_EVENTS_CLOCK_EVERY) {
        bus->since_check = 0;
        pt_events_tick(bus);
    }
}

void pt_events_flush(pt_events *bus)
{
    if (!bus)
        return;
    for (size_t i = 0; i < bus->n_sinks; i++)
        pt_sink_flush(bus->sinks[i]);
    bus->last_flush = g_get_monotonic_time();
}

void pt_events_finish(pt_events *bus)
{
    if (!bus)
        return;
    for (size_t i = 0; i < bus->n_sinks; i++) {
        pt_sink_flush(bus->sinks[i]);
        if (bus->sinks[i]->ops->finish)
            bus->sinks[i]->ops->finish(bus->sinks[i]);
    }
}

void pt_events_tick(pt_events *bus)
{
    if (!bus)
        return;
    int64_t now = g_get_monotonic_time();
    if (now - bus->last_flush >= bus->flush_us)
        pt_events_flush(bus);
}

void pt_events_get_stats(const pt_events *bus, pt_events_stats *out)
{
    memset(out, 0, sizeof *out);
    if (!bus)
        return;
    out->events = bus->events;
    for (size_t i = 0; i < bus->n_sinks; i++) {
        out->sink_dropped += bus->sinks[i]->stats.dropped;
        out->sink_errors += bus->sinks[i]->stats.errors;
    }
}

void pt_events_report(const pt_events *bus, FILE *out)
{
    if (!bus)
        return;
    for (size_t i = 0; i < bus->n_sinks; i++) {
        const pt_sink *s = bus->sinks[i];
        if (s->stats.dropped || s->stats.errors)
            fprintf(out,
                    "pcaptrace: sink %s: %" PRIu64 " events, %" PRIu64 " dropped, %" PRIu64
                    " errors\n",
                    s->name, s->stats.events, s->stats.dropped, s->stats.errors);
    }
}

void pt_events_free(pt_events *bus)
{
    if (!bus)
        return;
    pt_events_finish(bus);
    for (size_t i = 0; i < bus->n_sinks; i++)
        pt_sink_free(bus->sinks[i]);
    g_free(bus);
}

const GOptionEntry *pt_events_option_entries(pt_events_config *cfg)
{
    static GOptionEntry e[8];
    GOptionEntry v[] = {
        {"format", 'F', 0, G_OPTION_ARG_STRING, &cfg->format,
         "Standard output format: text (default), json or none", "FORMAT"},
        {"sink", 0, 0, G_OPTION_ARG_STRING_ARRAY, &cfg->sinks,
         "Also write events to json:FILE, text:FILE or redis://HOST:PORT/STREAM (repeatable)",
         "SPEC"},
        {"no-color", 0, 0, G_OPTION_ARG_NONE, &cfg->no_color, "Never colour text output", NULL},
        {"text-max-bytes", 0, 0, G_OPTION_ARG_INT64, &cfg->text_max_bytes,
         "Shorten text values longer than N bytes (default 256)", "N"},
        {"flush-ms", 0, 0, G_OPTION_ARG_INT64, &cfg->flush_ms,
         "Flush output at least every N ms (default 200)", "N"},
        {"sink-queue-bytes", 0, 0, G_OPTION_ARG_INT64, &cfg->queue_bytes,
         "Bytes a redis sink queues while the server is slow or down (default 8 MiB)", "N"},
        {"redis-maxlen", 0, 0, G_OPTION_ARG_INT64, &cfg->redis_maxlen,
         "Trim redis streams to about N entries (XADD MAXLEN ~ N; default unbounded)", "N"},
        {NULL, 0, 0, 0, NULL, NULL, NULL},
    };
    G_STATIC_ASSERT(sizeof v == sizeof e);
    memcpy(e, v, sizeof e);
    return e;
}

static bool check_range(const char *what, int64_t v, int64_t min, int64_t max, GError **error)
{
    if (v < min || v > max) {
        g_set_error(error, PT_EVENTS_ERROR, 1, "%s must be between %" PRId64 " and %" PRId64, what,
                    min, max);
        return false;
    }
    return true;
}

/* Settings shared by the sinks a bus creates, from the command line. */
typedef struct sink_defaults {
    bool color_allowed;
    size_t text_max_bytes;
    uint64_t queue_bytes;
    uint64_t redis_maxlen;
} sink_defaults;

static bool add_or_fail(pt_events *bus, pt_sink *s, GError **error)
{
    if (!s)
        return false;
    if (!pt_events_add_sink(bus, s)) {
        g_set_error(error, PT_EVENTS_ERROR, 1, "too many sinks (at most %d)", PT_EVENTS_MAX_SINKS);
        pt_sink_free(s);
        return false;
    }
    return true;
}

static bool want_color(const sink_defaults *d, const char *path)
{
    if (!d->color_allowed)
        return false;
    if (strcmp(path, "-") == 0)
        return isatty(STDOUT_FILENO) == 1;
    return false;
}

/* One --sink SPEC: json:FILE, text:FILE, redis://... */
static bool add_spec(pt_events *bus, const char *spec, const sink_defaults *d, GError **error)
{
    if (g_str_has_prefix(spec, "redis://")) {
        pt_sink_redis_config rc = {
            .url = spec, .queue_bytes = d->queue_bytes, .maxlen = d->redis_maxlen};
        return add_or_fail(bus, pt_sink_redis_new(&rc, error), error);
    }
    const char *colon = strchr(spec, ':');
    if (!colon || colon[1] == '\0') {
        g_set_error(error, PT_EVENTS_ERROR, 1,
                    "bad --sink '%s': expected json:FILE, text:FILE or redis://HOST:PORT/STREAM",
                    spec);
        return false;
    }
    pt_sink_file_config fc = {.path = colon + 1, .max_bytes = d->text_max_bytes};
    fc.color = want_color(d, fc.path);
    if ((size_t)(colon - spec) == 4 && strncmp(spec, "json", 4) == 0)
        return add_or_fail(bus, pt_sink_json_new(&fc, error), error);
    if ((size_t)(colon - spec) == 4 && strncmp(spec, "text", 4) == 0)
        return add_or_fail(bus, pt_sink_text_new(&fc, error), error);
    g_set_error(error, PT_EVENTS_ERROR, 1,
                "bad --sink '%s': unknown sink type (json, text or redis://)", spec);
    return false;
}

static bool check_keys(GKeyFile *kf, const char *group, const char *const *allowed, GError **error)
{
    gsize n = 0;
    g_auto(GStrv) keys = g_key_file_get_keys(kf, group, &n, NULL);
    for (gsize i = 0; i < n; i++) {
        if (!g_strv_contains(allowed, keys[i])) {
            g_autofree char *list = g_strjoinv(", ", (char **)allowed);
            g_set_error(error, PT_EVENTS_ERROR, 1, "[%s]: unknown key '%s' (known: %s)", group,
                        keys[i], list);
            return false;
        }
    }
    return true;
}

/* One [sink TYPE ...] section of the config file. */
static bool add_section(pt_events *bus, GKeyFile *kf, const char *group, const char *what,
                        const sink_defaults *d, GError **error)
{
    size_t tlen = strcspn(what, " \t");
    if (tlen == 5 && strncmp(what, "redis", 5) == 0) {
        static const char *const keys[] = {"url",          "queue_bytes", "maxlen",
                                           "reconnect_ms", "timeout_ms",  NULL};
        if (!check_keys(kf, group, keys, error))
            return false;
        g_autofree char *url = g_key_file_get_string(kf, group, "url", NULL);
        if (!url) {
            g_set_error(error, PT_EVENTS_ERROR, 1, "[%s]: missing key 'url'", group);
            return false;
        }
        int64_t qb = (int64_t)d->queue_bytes, ml = (int64_t)d->redis_maxlen, rms = 0, tms = 0;
        if (!pt_options_file_int(kf, group, "queue_bytes", 1024, INT64_C(1) << 40, &qb, error) ||
            !pt_options_file_int(kf, group, "maxlen", 0, INT64_MAX, &ml, error) ||
            !pt_options_file_int(kf, group, "reconnect_ms", 1, 3600000, &rms, error) ||
            !pt_options_file_int(kf, group, "timeout_ms", 1, 3600000, &tms, error))
            return false;
        pt_sink_redis_config rc = {.url = url,
                                   .queue_bytes = (uint64_t)qb,
                                   .maxlen = (uint64_t)ml,
                                   .reconnect_ms = (uint32_t)rms,
                                   .timeout_ms = (uint32_t)tms};
        return add_or_fail(bus, pt_sink_redis_new(&rc, error), error);
    }
    bool is_json = tlen == 4 && strncmp(what, "json", 4) == 0;
    bool is_text = tlen == 4 && strncmp(what, "text", 4) == 0;
    if (!is_json && !is_text) {
        g_set_error(error, PT_EVENTS_ERROR, 1, "[%s]: unknown sink type (text, json, redis)",
                    group);
        return false;
    }
    static const char *const json_keys[] = {"path", "block_bytes", NULL};
    static const char *const text_keys[] = {"path", "color", "max_bytes", "block_bytes", NULL};
    if (!check_keys(kf, group, is_json ? json_keys : text_keys, error))
        return false;
    g_autofree char *path = g_key_file_get_string(kf, group, "path", NULL);
    if (!path) {
        g_set_error(error, PT_EVENTS_ERROR, 1, "[%s]: missing key 'path'", group);
        return false;
    }
    pt_sink_file_config fc = {.path = path, .max_bytes = d->text_max_bytes};
    fc.color = want_color(d, path);
    int64_t bb = PT_SINK_BLOCK_BYTES_DEFAULT;
    if (!pt_options_file_int(kf, group, "block_bytes", PT_SINK_BLOCK_BYTES_MIN,
                             PT_SINK_BLOCK_BYTES_MAX, &bb, error))
        return false;
    fc.block_bytes = (size_t)bb;
    if (is_text) {
        int64_t mb = (int64_t)d->text_max_bytes;
        if (!pt_options_file_int(kf, group, "max_bytes", 1, INT32_MAX, &mb, error))
            return false;
        fc.max_bytes = (size_t)mb;
        if (g_key_file_has_key(kf, group, "color", NULL)) {
            GError *e = NULL;
            gboolean c = g_key_file_get_boolean(kf, group, "color", &e);
            if (e) {
                g_set_error(error, PT_EVENTS_ERROR, 1, "[%s] color: %s", group, e->message);
                g_error_free(e);
                return false;
            }
            fc.color = c && d->color_allowed;
        }
        return add_or_fail(bus, pt_sink_text_new(&fc, error), error);
    }
    return add_or_fail(bus, pt_sink_json_new(&fc, error), error);
}

pt_events *pt_events_new(const pt_events_config *cfg, GKeyFile *config, GError **error)
{
    pt_events_config none = {0};
    if (!cfg)
        cfg = &none;
    sink_defaults d = {.color_allowed = !cfg->no_color,
                       .text_max_bytes = PT_SINK_TEXT_MAX_BYTES_DEFAULT,
                       .queue_bytes = PT_SINK_REDIS_QUEUE_BYTES_DEFAULT};
    if (cfg->text_max_bytes &&
        !check_range("--text-max-bytes", cfg->text_max_bytes, 1, INT32_MAX, error))
        return NULL;
    if (cfg->flush_ms && !check_range("--flush-ms", cfg->flush_ms, 1, 3600000, error))
        return NULL;
    if (cfg->queue_bytes &&
        !check_range("--sink-queue-bytes", cfg->queue_bytes, 1024, INT64_C(1) << 40, error))
        return NULL;
    if (!check_range("--redis-maxlen", cfg->redis_maxlen, 0, INT64_MAX, error))
        return NULL;
    if (cfg->text_max_bytes)
        d.text_max_bytes = (size_t)cfg->text_max_bytes;
    if (cfg->queue_bytes)
        d.queue_bytes = (uint64_t)cfg->queue_bytes;
    d.redis_maxlen = (uint64_t)cfg->redis_maxlen;

    pt_events *bus = pt_events_new_empty();
    if (cfg->flush_ms)
        bus->flush_us = cfg->flush_ms * 1000;

    const char *format = cfg->format ? cfg->format : "text";
    if (strcmp(format, "text") == 0 || strcmp(format, "json") == 0) {
        g_autofree char *spec = g_strconcat(format, ":-", NULL);
        if (!add_spec(bus, spec, &d, error))
            goto fail;
    } else if (strcmp(format, "none") != 0) {
        g_set_error(error, PT_EVENTS_ERROR, 1, "bad --format '%s': expected text, json or none",
                    format);
        goto fail;
    }
    for (char **s = cfg->sinks; s && *s; s++)
        if (!add_spec(bus, *s, &d, error))
            goto fail;
    if (config) {
        g_auto(GStrv) groups = g_key_file_get_groups(config, NULL);
        for (char **g = groups; *g; g++) {
            const char *what;
            if (pt_options_group_classify(*g, &what) != PT_OPTIONS_GROUP_SINK)
                continue;
            if (!add_section(bus, config, *g, what, &d, error))
                goto fail;
        }
    }
    return bus;
fail:
    pt_events_free(bus);
    return NULL;
}

/* --- helpers shared by the sinks (declared in sink.h) --- */

FILE *pt_sink_open_stream(const char *path, bool *owned, GError **error)
{
    FILE *f;
    if (strcmp(path, "-") == 0) {
        f = stdout;
        *owned = false;
    } else {
        f = fopen(path, "w");
        if (!f) {
            g_set_error(error, PT_EVENTS_ERROR, 1, "cannot open sink file %s: %s", path,
                        g_strerror(errno));
            return NULL;
        }
        *owned = true;
    }
    /* No stdio buffer: the sinks render lines into their own block (pt_sink_batch) and hand
     * stdio whole blocks, which an unbuffered stream writes at once. A stdio
     * buffer as well would copy every byte once more (fwrite fills it before it writes).
     * Only valid before anything is written to the stream, which holds at setup. */
    setvbuf(f, NULL, _IONBF, 0);
    return f;
}

void pt_sink_batch_init(pt_sink_batch *b, FILE *f, size_t limit)
{
    b->f = f;
    b->limit = limit ? limit : PT_SINK_BLOCK_BYTES_DEFAULT;
    b->buf = g_string_sized_new(b->limit + 1024);
    b->lines = 0;
}

/* Write the pending block; a failed write loses its lines (counted as dropped). */
void pt_sink_batch_write(pt_sink *s, pt_sink_batch *b)
{
    if (b->buf->len && fwrite(b->buf->str, 1, b->buf->len, b->f) != b->buf->len) {
        s->stats.errors++;
        s->stats.dropped += b->lines;
        clearerr(b->f);
    } else {
        s->stats.events += b->lines;
    }
    g_string_truncate(b->buf, 0);
    b->lines = 0;
}

void pt_sink_batch_flush(pt_sink *s, pt_sink_batch *b)
{
    pt_sink_batch_write(s, b);
    if (fflush(b->f) != 0) {
        s->stats.errors++;
        clearerr(b->f);
    }
}

void pt_sink_batch_free(pt_sink_batch *b)
{
    g_string_free(b->buf, TRUE);
    b->buf = NULL;
}

void pt_sink_free(pt_sink *s)
{
    if (!s)
        return;
    char *name = s->name;
    s->ops->free(s);
    g_free(name);
}

/* --- text helpers for formatters --- */

/* Formatters print many constant pieces (" -> ", "(nil)") and lone strings ("%s"): those
 * skip vsnprintf; anything else is formatted as usual. */
void pt_text_printf(pt_text *t, const char *fmt, ...)
{
    va_list ap;
    const char *pct = strchr(fmt, '%');
    if (!pct) {
        pt_buf_append(t->buf, fmt, strlen(fmt));
        return;
    }
    if (pct == fmt && fmt[1] == 's' && fmt[2] == '\0') {
        va_start(ap, fmt);
        const char *s = va_arg(ap, const char *);
        va_end(ap);
        if (s) {
            pt_buf_append(t->buf, s, strlen(s));
            return;
        }
    }
    va_start(ap, fmt);
    pt_escape_vprintf(t->buf, fmt, ap);
    va_end(ap);
}

void pt_text_span(pt_text *t, pt_span value, size_t max_bytes, bool quoted)
{
    if (max_bytes == 0)
        max_bytes = t->max_bytes ? t->max_bytes : PT_SINK_TEXT_MAX_BYTES_DEFAULT;
    size_t n = value.ptr ? value.len : 0;
    uint64_t full = value.full_len > n ? value.full_len : n;
    bool cut = n > max_bytes || full > n;
    if (n > max_bytes)
        n = max_bytes;
    if (quoted)
        g_string_append_c(t->buf, '"');
    pt_escape_text(t->buf, value.ptr, n, quoted);
    if (quoted)
        g_string_append_c(t->buf, '"');
    if (cut)
        pt_escape_printf(t->buf, "\xe2\x80\xa6(%" PRIu64 " bytes)", full);
}

bool pt_text_color(const pt_text *t)
{
    return t->color;
}
