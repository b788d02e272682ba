/* http_format.c — text rendering of the plugin's events in http_trace's style: a request line
 * "#N GET /path HTTP/1.1 (host)", a response line with status, sizes and latencies, then the
 * requested headers and body on the same line (the text sink prints one line per event). */
#include <string.h>

#include "http.h"

static const pt_field *find(const pt_event *ev, const char *name)
{
    for (size_t i = 0; i < ev->n_fields; i++) {
        if (strcmp(ev->fields[i].name, name) == 0) {
            return &ev->fields[i];
        }
    }
    return NULL;
}

static bool has_str(const pt_field *f)
{
    return f != NULL && f->type == PT_FIELD_STR;
}

static bool has_num(const pt_field *f)
{
    return f != NULL && (f->type == PT_FIELD_UINT || f->type == PT_FIELD_INT);
}

static int64_t num(const pt_field *f)
{
    return f->type == PT_FIELD_UINT ? (int64_t)f->v.u : f->v.i;
}

/* A string value shortened to the text sink's --text-max-bytes (max_bytes 0), or `absent`. */
static void span(const pt_host *h, pt_text *out, const pt_field *f, const char *absent)
{
    if (has_str(f)) {
        h->text_span(out, f->v.str, 0, false);
    } else {
        h->text_printf(out, "%s", absent);
    }
}

static void seq(const pt_host *h, pt_text *out, const pt_event *ev)
{
    const pt_field *f = find(ev, "seq");
    if (has_num(f)) {
        h->text_printf(out, "#%lld ", (long long)num(f));
    } else {
        h->text_printf(out, "#? ");
    }
}

static void duration(const pt_host *h, pt_text *out, const char *label, const pt_field *f)
{
    if (has_num(f)) {
        int64_t us = num(f);
        h->text_printf(out, " %s %lld.%03lld ms", label, (long long)(us / 1000),
                       (long long)((us < 0 ? -us : us) % 1000));
    }
}

/* Header lines and body asked for, after the event's summary: " | Name: value | body: "..."". */
static void details(const http_plugin *pl, const pt_event *ev, pt_text *out)
{
    const pt_host *h = pl->host;
    const pt_field *hd = find(ev, "headers");
    if (hd != NULL && hd->type == PT_FIELD_STR_LIST) {
        for (size_t i = 0; i < hd->v.list.count; i++) {
            h->text_printf(out, " | ");
            h->text_span(out, hd->v.list.items[i], 0, false);
        }
    }
    const pt_field *b = find(ev, "body");
    if (has_str(b) && b->v.str.len > 0) {
        h->text_printf(out, " | body: ");
        h->text_span(out, b->v.str, pl->body_max, true);
    }
}

static const char *status_color(int64_t status)
{
    if (status >= 500) {
        return "\033[31m";
    }
    if (status >= 400) {
        return "\033[33m";
    }
    if (status >= 300) {
        return "\033[36m";
    }
    return "\033[32m";
}

static void format_request(const http_plugin *pl, const pt_event *ev, pt_text *out)
{
    const pt_host *h = pl->host;
    seq(h, out, ev);
    span(h, out, find(ev, "method"), "?");
    h->text_printf(out, " ");
    span(h, out, find(ev, "uri"), "?");
    const pt_field *v = find(ev, "version");
    if (has_str(v)) {
        h->text_printf(out, " HTTP/");
        span(h, out, v, "");
    }
    const pt_field *host = find(ev, "host");
    if (has_str(host)) {
        h->text_printf(out, " (");
        span(h, out, host, "");
        h->text_printf(out, ")");
    }
    const pt_field *bb = find(ev, "body_bytes");
    if (has_num(bb) && num(bb) > 0) {
        h->text_printf(out, " %lld B", (long long)num(bb));
    }
    const pt_field *c = find(ev, "complete");
    if (c != NULL && c->type == PT_FIELD_BOOL && !c->v.b) {
        h->text_printf(out, " (incomplete)");
    }
    details(pl, ev, out);
}

static void format_response(const http_plugin *pl, const pt_event *ev, pt_text *out)
{
    const pt_host *h = pl->host;
    bool color = h->text_color(out);
    seq(h, out, ev);
    const pt_field *st = find(ev, "status");
    if (has_num(st)) {
        h->text_printf(out, "%s%lld%s ", color ? status_color(num(st)) : "", (long long)num(st),
                       color ? "\033[0m" : "");
        span(h, out, find(ev, "reason"), "");
    } else {
        h->text_printf(out, "HTTP/0.9");
    }
    const pt_field *ct = find(ev, "content_type");
    if (has_str(ct)) {
        h->text_printf(out, " ");
        span(h, out, ct, "");
    }
    const pt_field *bb = find(ev, "response_body_bytes");
    h->text_printf(out, " %lld B", has_num(bb) ? (long long)num(bb) : 0LL);
    const pt_field *ce = find(ev, "content_encoding");
    if (has_str(ce)) {
        h->text_printf(out, " ");
        span(h, out, ce, "");
    }
    const pt_field *ic = find(ev, "info_code");
    if (has_num(ic)) {
        h->text_printf(out, " (after %lld)", (long long)num(ic));
    }
    const pt_field *rb = find(ev, "request_body_bytes");
    if (has_num(rb) && num(rb) > 0) {
        h->text_printf(out, " (sent %lld B)", (long long)num(rb));
    }
    duration(h, out, "ttfb", find(ev, "ttfb_us"));
    duration(h, out, "total", find(ev, "latency_us"));
    const pt_field *c = find(ev, "complete");
    if (c != NULL && c->type == PT_FIELD_BOOL && !c->v.b) {
        h->text_printf(out, " (incomplete)");
    }
    details(pl, ev, out);
}

void http_format_text(void *plugin_state, const pt_event *ev, pt_text *out)
{
    const http_plugin *pl = plugin_state;
    const pt_host *h = pl->host;
    if (strcmp(ev->kind, "request") == 0) {
        format_request(pl, ev, out);
    } else if (strcmp(ev->kind, "response") == 0) {
        format_response(pl, ev, out);
    } else if (strcmp(ev->kind, "unanswered") == 0) {
        seq(h, out, ev);
        span(h, out, find(ev, "method"), "?");
        h->text_printf(out, " ");
        span(h, out, find(ev, "uri"), "?");
        h->text_printf(out, " unanswered (");
        span(h, out, find(ev, "reason"), "");
        h->text_printf(out, ")");
    } else if (strcmp(ev->kind, "upgrade") == 0) {
        seq(h, out, ev);
        h->text_printf(out, "upgrade to ");
        span(h, out, find(ev, "protocol"), "?");
        const pt_field *st = find(ev, "status");
        h->text_printf(out, " (%lld)", has_num(st) ? (long long)num(st) : 0LL);
    } else if (strcmp(ev->kind, "parse_error") == 0) {
        h->text_printf(out, "parse error in ");
        span(h, out, find(ev, "direction"), "?");
        h->text_printf(out, ": ");
        span(h, out, find(ev, "error"), "?");
        h->text_printf(out, " ");
        span(h, out, find(ev, "reason"), "");
        const pt_field *o = find(ev, "offset");
        if (has_num(o)) {
            h->text_printf(out, " at byte %lld", (long long)num(o));
        }
    } else {
        h->text_printf(out, "%s", ev->kind);
    }
}
