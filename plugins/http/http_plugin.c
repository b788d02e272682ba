/* http_plugin.c — the pcaptrace "http" plugin (HTTP/1.0, 1.1 and 0.9 requests; RFC 9110/9112):
 * descriptor, options, probe() and the stream callbacks. Parsing is llhttp's, one parser per
 * direction (http_stream.c); pairing is FIFO (http_pair.c). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

static const uint16_t http_ports[] = {80, 8080, 8000, 8008, 8888, 3128, 0};

static const pt_option_spec http_options[] = {
    {"headers", "false", "list every header of requests and responses"},
    {"show_header", NULL, "list the headers whose name matches this regex"},
    {"bodies", "false", "keep and show bodies: false, true (text types only) or all"},
    {"body_max", "4096", "body bytes kept and shown (also the cap on decoded gzip/deflate)"},
    {"max_header_bytes", "65536", "header bytes kept per message (more are counted, not kept)"},
    {"max_pending", "64", "requests awaiting a response per connection (oldest is dropped)"},
    {"resync_bytes", "65536", "bytes scanned for a start line before a stream is given up"},
    {"method", NULL, "show only requests whose method matches this regex"},
    {"ignore_method", NULL, "hide requests whose method matches this regex"},
    {"host", NULL, "show only requests whose Host matches this regex"},
    {"ignore_host", NULL, "hide requests whose Host matches this regex"},
    {"url", NULL, "show only requests whose URI matches this regex"},
    {"ignore_url", NULL, "hide requests whose URI matches this regex"},
    {"user_agent", NULL, "show only requests whose User-Agent matches this regex"},
    {"ignore_user_agent", NULL, "hide requests whose User-Agent matches this regex"},
    {NULL, NULL, NULL},
};

/* A malloc()ed message for init()'s *error. */
static char *errorf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *errorf(const char *fmt, ...)
{
    char *m = NULL;
    va_list ap;
    va_start(ap, fmt);
    if (vasprintf(&m, fmt, ap) < 0) {
        m = NULL;
    }
    va_end(ap);
    return m;
}

static bool compile(const char *pattern, const char *key, GRegex **out, char **error)
{
    if (pattern == NULL || *pattern == '\0') {
        return true;
    }
    GError *err = NULL;
    *out = g_regex_new(pattern, G_REGEX_OPTIMIZE, 0, &err);
    if (*out == NULL) {
        *error = errorf("http.%s: %s", key, err->message);
        g_error_free(err);
        return false;
    }
    return true;
}

static void plugin_free(http_plugin *pl)
{
    if (pl->show_header) {
        g_regex_unref(pl->show_header);
    }
    for (int i = 0; i < HTTP_N_FILTERS; i++) {
        if (pl->filters[i].show) {
            g_regex_unref(pl->filters[i].show);
        }
        if (pl->filters[i].ignore) {
            g_regex_unref(pl->filters[i].ignore);
        }
    }
    free(pl);
}

/* At exit: log the plugin's counters over all streams, then free its state. */
static void http_fini(void *state)
{
    http_plugin *pl = state;
    if (pl == NULL) {
        return;
    }
    pl->host->log(NULL, PT_LOG_INFO,
                  "http: %llu requests, %llu responses (%llu without request), %llu unanswered, "
                  "%llu upgrades, %llu parse errors, %llu bytes skipped to resync, %llu gap "
                  "bytes inside bodies",
                  (unsigned long long)pl->n_requests, (unsigned long long)pl->n_responses,
                  (unsigned long long)pl->n_unpaired, (unsigned long long)pl->n_unanswered,
                  (unsigned long long)pl->n_upgrades, (unsigned long long)pl->n_parse_errors,
                  (unsigned long long)pl->n_resync_bytes, (unsigned long long)pl->n_gap_filled);
    plugin_free(pl);
}

static void *http_init(const pt_host *host, const pt_options *o, char **error)
{
    http_plugin *pl = calloc(1, sizeof(*pl));
    if (pl == NULL) {
        *error = errorf("http: out of memory");
        return NULL;
    }
    pl->host = host;
    pl->headers = host->option_bool(o, "headers", false);
    const char *b = host->option_str(o, "bodies");
    if (b == NULL || strcmp(b, "false") == 0 || strcmp(b, "no") == 0 || strcmp(b, "0") == 0) {
        pl->bodies = HTTP_BODIES_NONE;
    } else if (strcmp(b, "true") == 0 || strcmp(b, "text") == 0 || strcmp(b, "yes") == 0 ||
               strcmp(b, "1") == 0) {
        pl->bodies = HTTP_BODIES_TEXT;
    } else if (strcmp(b, "all") == 0) {
        pl->bodies = HTTP_BODIES_ALL;
    } else {
        *error = errorf("http.bodies: expected false, true or all, got '%s'", b);
        free(pl);
        return NULL;
    }
    int64_t body_max, hdr, pending, resync;
    static const char *const keys[HTTP_N_FILTERS] = {"method", "host", "url", "user_agent"};
    bool ok = pt_option_range(host, o, "http", "body_max", 1, INT32_MAX, &body_max, error) &&
              pt_option_range(host, o, "http", "max_header_bytes", HTTP_MIN_HEADER_BYTES, INT32_MAX,
                              &hdr, error) &&
              pt_option_range(host, o, "http", "max_pending", 1, 1 << 20, &pending, error) &&
              pt_option_range(host, o, "http", "resync_bytes", 1, INT64_MAX, &resync, error) &&
              compile(host->option_str(o, "show_header"), "show_header", &pl->show_header, error);
    for (int i = 0; ok && i < HTTP_N_FILTERS; i++) {
        char ignore[32];
        snprintf(ignore, sizeof(ignore), "ignore_%s", keys[i]);
        ok = compile(host->option_str(o, keys[i]), keys[i], &pl->filters[i].show, error) &&
             compile(host->option_str(o, ignore), ignore, &pl->filters[i].ignore, error);
        pl->any_filter |= pl->filters[i].show != NULL || pl->filters[i].ignore != NULL;
    }
    if (!ok) {
        plugin_free(pl);
        return NULL;
    }
    pl->body_max = (size_t)body_max;
    pl->max_header_bytes = (size_t)hdr;
    pl->max_pending = (size_t)pending;
    pl->resync_bytes = (uint64_t)resync;
    return pl;
}

static pt_probe_result http_probe(pt_dir dir, const uint8_t *data, size_t len)
{
    switch (http_line_check(dir, data, len, true)) {
    case HTTP_LINE_YES:
        return PT_PROBE_YES;
    case HTTP_LINE_PARTIAL:
        return PT_PROBE_NEED_MORE;
    default:
        return PT_PROBE_NO;
    }
}

static void *http_open(void *plugin_state, pt_stream *s)
{
    http_stream *st = malloc(sizeof(*st));
    if (st != NULL) {
        http_stream_init(st, plugin_state, s);
    }
    return st;
}

static pt_feed_result http_data(void *state, pt_dir dir, const uint8_t *data, size_t len,
                                const pt_time *ts)
{
    return http_stream_feed(state, dir, data, len, ts);
}

static void http_gap(void *state, pt_dir dir, uint64_t missing, const pt_time *ts)
{
    http_stream_gap(state, dir, missing, ts);
}

static void http_close(void *state, pt_close_reason why, const pt_time *ts)
{
    http_stream *st = state;
    http_stream_close(st, pt_close_reason_name(why), ts);
    http_stream_free(st);
    free(st);
}

static const pt_plugin http_descriptor = {
    .abi_version = PT_PLUGIN_ABI,
    .struct_size = sizeof(pt_plugin),
    .name = "http",
    .version = "1.0",
    .description = "HTTP/1.x requests paired with their responses (llhttp)",
    .server_ports = http_ports,
    .options = http_options,
    .init = http_init,
    .fini = http_fini,
    .probe = http_probe,
    .stream_open = http_open,
    .stream_data = http_data,
    .stream_gap = http_gap,
    .stream_close = http_close,
    .format_text = http_format_text,
};

PT_PLUGIN_EXPORT(http_descriptor)
