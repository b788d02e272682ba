/* http_emit.c — build the plugin's events (request, response, unanswered, upgrade, parse_error;
 * schema in README.md) from parser state, and apply the method/host/url/user_agent filters. */
#include <stdlib.h>
#include <string.h>

#include "http.h"

#define HTTP_MAX_FIELDS 32

/* The fields of one event being built. Only f[0..n) is ever read, so events start with just
 * n = 0 instead of clearing the whole array. */
typedef struct fields {
    pt_field f[HTTP_MAX_FIELDS];
    size_t n;
} fields;

static void add(fields *fs, pt_field f)
{
    if (fs->n < HTTP_MAX_FIELDS) {
        fs->f[fs->n++] = f;
    }
}

/* A string field, or null when the value is absent. */
static void add_str(fields *fs, const char *name, pt_span s, bool present)
{
    add(fs, present ? PT_F_STR(name, s) : PT_F_NULL(name));
}

static pt_span cstr(const char *s)
{
    return PT_SPAN(s, strlen(s));
}

/* "1.1" from the parser's digits (no printf on the per-event path). */
static pt_span version_span(uint8_t major, uint8_t minor, char buf[3])
{
    buf[0] = (char)('0' + major % 10);
    buf[1] = '.';
    buf[2] = (char)('0' + minor % 10);
    return PT_SPAN(buf, 3);
}

/* The path of a request-target: up to '?' or '#'. */
static pt_span path_of(pt_span uri)
{
    for (size_t i = 0; i < uri.len; i++) {
        if (uri.ptr[i] == '?' || uri.ptr[i] == '#') {
            return PT_SPAN(uri.ptr, i);
        }
    }
    return uri;
}

static pt_span method_of(const http_txn *t)
{
    return http_msg_span(&t->req, t->req.method_off, t->req.method_len);
}

static pt_span uri_of(const http_txn *t)
{
    return http_msg_span(&t->req, t->req.target_off, t->req.target_len);
}

static bool filter_pass(const http_filter *f, pt_span v)
{
    const gchar *s = v.len ? (const gchar *)v.ptr : "";
    if (f->show != NULL && !g_regex_match_full(f->show, s, (gssize)v.len, 0, 0, NULL, NULL)) {
        return false;
    }
    if (f->ignore != NULL && g_regex_match_full(f->ignore, s, (gssize)v.len, 0, 0, NULL, NULL)) {
        return false;
    }
    return true;
}

/* Whether the options hide this transaction (t NULL: a response without its request). */
bool http_txn_filtered(const http_plugin *pl, const http_txn *t)
{
    if (!pl->any_filter) {
        return false;
    }
    pt_span none = PT_SPAN("", 0);
    pt_span v[HTTP_N_FILTERS] = {
        t ? method_of(t) : none,
        t ? http_msg_header(&t->req, t->req.host) : none,
        t ? uri_of(t) : none,
        t ? http_msg_header(&t->req, t->req.user_agent) : none,
    };
    for (int i = 0; i < HTTP_N_FILTERS; i++) {
        if (!filter_pass(&pl->filters[i], v[i])) {
            return true;
        }
    }
    return false;
}

/* Header lines of m the options ask for, as a list field (all, or names matching show_header). */
static void add_headers(http_stream *st, fields *fs, const http_msg *m)
{
    const http_plugin *pl = st->pl;
    if (!pl->headers && pl->show_header == NULL) {
        return;
    }
    if (st->items_cap < m->n_hdrs) {
        pt_span *it = realloc(st->items, m->n_hdrs * sizeof(*it));
        if (it == NULL) {
            return;
        }
        st->items = it;
        st->items_cap = m->n_hdrs;
    }
    size_t n = 0;
    for (size_t i = 0; i < m->n_hdrs; i++) {
        const http_hdr *h = &m->hdrs[i];
        if (!pl->headers) {
            const gchar *name = (const gchar *)m->buf + h->name_off;
            if (!g_regex_match_full(pl->show_header, name, h->name_len, 0, 0, NULL, NULL)) {
                continue;
            }
        }
        st->items[n++] = http_msg_line(m, i);
    }
    add(fs, PT_F_LIST("headers", st->items, n, pl->headers ? m->total_hdrs : n));
}

static void emit(http_stream *st, const char *kind, const pt_time *ts, const fields *fs)
{
    st->pl->host->emit(st->s, kind, ts, fs->f, fs->n);
}

/* method, uri, path, host of a transaction (null for a response without request) */
static void add_request_id(fields *fs, const http_txn *t)
{
    add(fs, t ? PT_F_UINT("seq", t->seq) : PT_F_NULL("seq"));
    pt_span uri = t ? uri_of(t) : PT_SPAN("", 0);
    add_str(fs, "method", t ? method_of(t) : uri, t != NULL && t->req.method_len > 0);
    add_str(fs, "uri", uri, t != NULL && t->headers_done);
    add_str(fs, "path", path_of(uri), t != NULL && t->headers_done);
    add_str(fs, "host", t ? http_msg_header(&t->req, t->req.host) : uri,
            t != NULL && t->req.host >= 0);
}

void http_emit_request(http_stream *st, http_txn *t, const pt_time *ts)
{
    http_plugin *pl = st->pl;
    t->emitted = true;
    pl->n_requests++;
    if (t->filtered) {
        return;
    }
    fields fs;
    fs.n = 0;
    char vb[3];
    add_request_id(&fs, t);
    add_str(&fs, "version", version_span(t->major, t->minor, vb), t->headers_done);
    add_str(&fs, "user_agent", http_msg_header(&t->req, t->req.user_agent), t->req.user_agent >= 0);
    add_str(&fs, "content_type", http_msg_header(&t->req, t->req.content_type),
            t->req.content_type >= 0);
    http_dir *q = &st->d[PT_DIR_TO_SERVER];
    bool mine = q->cur_seq == t->seq;
    add(&fs, PT_F_UINT("header_bytes", t->header_bytes));
    add(&fs, PT_F_UINT("body_bytes", t->complete ? t->body_bytes : mine ? q->body_bytes : 0));
    add(&fs, PT_F_BOOL("complete", t->complete));
    add_headers(st, &fs, &t->req);
    if (mine && q->keep_body) {
        add(&fs, PT_F_STR("body", http_body_shown(q)));
    }
    emit(st, "request", t->complete ? &t->ts_complete : ts, &fs);
}

void http_emit_response(http_stream *st, http_txn *t, http_dir *d, const pt_time *ts, bool complete)
{
    http_plugin *pl = st->pl;
    pl->n_responses++;
    if (t == NULL) {
        pl->n_unpaired++;
    }
    if (t ? t->filtered : http_txn_filtered(pl, NULL)) {
        return;
    }
    bool raw09 = d->mode == HTTP_MODE_RAW09;
    const http_msg *m = &d->resp;
    fields fs;
    fs.n = 0;
    char vb[3];
    add_request_id(&fs, t);
    add_str(&fs, "version", version_span(d->parser.http_major, d->parser.http_minor, vb), !raw09);
    add(&fs, raw09 ? PT_F_NULL("status") : PT_F_UINT("status", d->parser.status_code));
    add_str(&fs, "reason", http_msg_span(m, m->reason_off, m->reason_len), !raw09);
    add_str(&fs, "content_type", http_msg_header(m, m->content_type),
            !raw09 && m->content_type >= 0);
    add_str(&fs, "content_encoding", http_msg_header(m, m->content_encoding),
            !raw09 && m->content_encoding >= 0);
    add(&fs, t ? PT_F_UINT("request_body_bytes", t->body_bytes) : PT_F_NULL("request_body_bytes"));
    add(&fs, PT_F_UINT("response_body_bytes", d->body_bytes));
    add(&fs, PT_F_UINT("response_header_bytes", raw09 ? 0 : d->hdr_end - d->msg_begin));
    add(&fs, PT_F_UINT("response_wire_bytes", d->offset - d->msg_begin));
    if (t != NULL) {
        const pt_time *base = t->complete ? &t->ts_complete : &t->ts_begin;
        add(&fs, PT_F_INT("ttfb_us", pt_time_diff_us(&d->ts_begin, base)));
        add(&fs, PT_F_INT("latency_us", pt_time_diff_us(ts, base)));
    } else {
        add(&fs, PT_F_NULL("ttfb_us"));
        add(&fs, PT_F_NULL("latency_us"));
    }
    add(&fs, t && t->info_code ? PT_F_UINT("info_code", t->info_code) : PT_F_NULL("info_code"));
    add(&fs, PT_F_BOOL("complete", complete));
    add(&fs, PT_F_BOOL("paired", t != NULL));
    add(&fs, PT_F_UINT("gap_bytes", d->gap_bytes));
    add_headers(st, &fs, m);
    if (d->keep_body) {
        add(&fs, PT_F_STR("body", http_body_shown(d)));
    }
    emit(st, "response", ts, &fs);
}

void http_emit_unanswered(http_stream *st, http_txn *t, const char *reason, const pt_time *ts)
{
    st->pl->n_unanswered++;
    if (t->filtered) {
        return;
    }
    fields fs;
    fs.n = 0;
    add_request_id(&fs, t);
    add(&fs, PT_F_UINT("request_body_bytes", t->body_bytes));
    add(&fs, PT_F_BOOL("complete", t->complete));
    add(&fs, PT_F_STR("reason", cstr(reason)));
    emit(st, "unanswered", ts, &fs);
}

void http_emit_upgrade(http_stream *st, http_txn *t, http_dir *d, const pt_time *ts)
{
    st->pl->n_upgrades++;
    if (t != NULL && t->filtered) {
        return;
    }
    fields fs;
    fs.n = 0;
    add_request_id(&fs, t);
    add(&fs, PT_F_UINT("status", d->parser.status_code));
    pt_span proto = http_msg_header(&d->resp, d->resp.upgrade);
    if (proto.len == 0 && t != NULL) {
        proto = http_msg_header(&t->req, t->req.upgrade);
    }
    bool connect = t != NULL && t->method == HTTP_CONNECT;
    add_str(&fs, "protocol", connect ? cstr("tunnel") : proto, connect || proto.len > 0);
    emit(st, "upgrade", ts, &fs);
}

void http_emit_parse_error(http_stream *st, http_dir *d, const char *error, const char *reason,
                           const pt_time *ts)
{
    fields fs;
    fs.n = 0;
    add(&fs, PT_F_STR("direction", cstr(d->dir == PT_DIR_TO_SERVER ? "request" : "response")));
    add(&fs, PT_F_STR("error", cstr(error)));
    add_str(&fs, "reason", cstr(reason ? reason : ""), reason != NULL);
    add(&fs, PT_F_UINT("offset", d->offset));
    emit(st, "parse_error", ts, &fs);
}
