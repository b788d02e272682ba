/* http_stream.c — feed each direction of a connection to its own llhttp parser (RFC 9112),
 * resynchronise at the next start line after a gap, garbage or a mid-stream pickup, hold the
 * client's bytes while a CONNECT/Upgrade awaits the server's answer, and fill gaps in bodies. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http.h"

#define HTTP_ZERO_FILL 1 /* bytes fed to llhttp to end a body whose tail was a gap */

static http_dir *dir_of(llhttp_t *p)
{
    return (http_dir *)p->data;
}

/* The header storage of the message being parsed (request: its txn; response: the dir's). */
static http_msg *msg_of(http_dir *d)
{
    if (d->dir == PT_DIR_TO_CLIENT) {
        return &d->resp;
    }
    http_txn *t = http_ring_find(d->st, d->cur_seq);
    return t ? &t->req : NULL;
}

static int cb_message_begin(llhttp_t *p)
{
    http_dir *d = dir_of(p);
    d->in_message = true;
    d->in_body = false;
    d->interim = false;
    d->ts_begin = *d->ts;
    if (d->dir == PT_DIR_TO_SERVER) {
        http_txn *t = http_ring_push(d->st, d->ts);
        d->cur_seq = t ? t->seq : 0;
    } else {
        http_msg_reset(&d->resp);
    }
    return 0;
}

static int cb_method(llhttp_t *p, const char *at, size_t n)
{
    http_dir *d = dir_of(p);
    http_msg *m = msg_of(d);
    if (d->xmethod_len > 0) {
        /* llhttp was given "GET" for a method it does not know: record the real one */
        at = (const char *)d->xmethod;
        n = d->xmethod_len;
        d->xmethod_len = 0;
    }
    if (m != NULL) {
        http_msg_append(m, d->st->pl->max_header_bytes, &m->method_off, &m->method_len, at, n);
    }
    return 0;
}

static int cb_url(llhttp_t *p, const char *at, size_t n)
{
    http_dir *d = dir_of(p);
    http_msg *m = msg_of(d);
    if (m != NULL) {
        http_msg_append(m, d->st->pl->max_header_bytes, &m->target_off, &m->target_len, at, n);
    }
    return 0;
}

static int cb_status(llhttp_t *p, const char *at, size_t n)
{
    http_dir *d = dir_of(p);
    http_msg_append(&d->resp, d->st->pl->max_header_bytes, &d->resp.reason_off, &d->resp.reason_len,
                    at, n);
    return 0;
}

static int cb_header_field(llhttp_t *p, const char *at, size_t n)
{
    http_dir *d = dir_of(p);
    http_msg *m = msg_of(d);
    if (m != NULL) {
        http_msg_header_field(m, d->st->pl->max_header_bytes, at, n);
    }
    return 0;
}

static int cb_header_value(llhttp_t *p, const char *at, size_t n)
{
    http_dir *d = dir_of(p);
    http_msg *m = msg_of(d);
    if (m != NULL) {
        http_msg_header_value(m, d->st->pl->max_header_bytes, at, n);
    }
    return 0;
}

static int cb_header_value_complete(llhttp_t *p)
{
    http_msg *m = msg_of(dir_of(p));
    if (m != NULL) {
        http_msg_header_done(m, dir_of(p)->st->pl->max_header_bytes);
    }
    return 0;
}

/* Headers and message ends pause the parser so the work happens outside llhttp, at an exact
 * byte offset (header and body sizes on the wire). */
static int cb_headers_complete(llhttp_t *p)
{
    dir_of(p)->pause = HTTP_PAUSE_HEADERS;
    return HPE_PAUSED;
}

static int cb_body(llhttp_t *p, const char *at, size_t n)
{
    http_dir *d = dir_of(p);
    d->body_bytes += n;
    if (d->keep_body && !d->gap_filling) {
        http_body_append(d, d->st->pl->body_max, at, n);
    }
    return 0;
}

static int cb_message_complete(llhttp_t *p)
{
    http_dir *d = dir_of(p);
    if (d->finishing) {
        return 0;
    }
    d->pause = HTTP_PAUSE_MESSAGE;
    return HPE_PAUSED;
}

static const llhttp_settings_t http_settings = {
    .on_message_begin = cb_message_begin,
    .on_method = cb_method,
    .on_url = cb_url,
    .on_status = cb_status,
    .on_header_field = cb_header_field,
    .on_header_value = cb_header_value,
    .on_header_value_complete = cb_header_value_complete,
    .on_headers_complete = cb_headers_complete,
    .on_body = cb_body,
    .on_message_complete = cb_message_complete,
};

/* A fresh parser, lenient where real servers are (we observe, we do not enforce). */
void http_dir_restart(http_dir *d)
{
    llhttp_init(&d->parser, d->dir == PT_DIR_TO_SERVER ? HTTP_REQUEST : HTTP_RESPONSE,
                &http_settings);
    d->parser.data = d;
    llhttp_set_lenient_headers(&d->parser, 1);
    llhttp_set_lenient_keep_alive(&d->parser, 1);
    llhttp_set_lenient_chunked_length(&d->parser, 1);
    d->in_message = d->in_body = d->interim = false;
    d->cur_seq = 0;
    d->msg_begin = d->offset;
    d->pause = HTTP_PAUSE_NONE;
}

static void enter_resync(http_dir *d, bool line_start)
{
    d->mode = HTTP_MODE_RESYNC;
    d->line_start = line_start;
    d->carry_len = 0;
    d->resync_scanned = 0;
}

/* Keep bytes for later (a partial start line, or held client bytes), up to max_header_bytes.
 * Returns false when they did not all fit. */
static bool carry_put(http_dir *d, const uint8_t *p, size_t n)
{
    size_t max = d->st->pl->max_header_bytes;
    if (d->carry_len + n > d->carry_cap && d->carry_cap < max) {
        size_t cap = d->carry_cap ? d->carry_cap : HTTP_MIN_HEADER_BYTES;
        while (cap < d->carry_len + n && cap < max) {
            cap *= 2;
        }
        cap = cap > max ? max : cap;
        uint8_t *b = realloc(d->carry, cap);
        if (b != NULL) {
            d->carry = b;
            d->carry_cap = cap;
        }
    }
    size_t room = d->carry_cap - d->carry_len;
    size_t k = n < room ? n : room;
    if (k > 0) {
        memcpy(d->carry + d->carry_len, p, k);
        d->carry_len += k;
    }
    return k == n;
}

static bool stream_has_http(const http_stream *st)
{
    return st->d[0].any_message || st->d[1].any_message;
}

/* llhttp rejected the bytes at p: report once per episode and look for the next start line. */
static void parse_failed(http_dir *d)
{
    http_stream *st = d->st;
    llhttp_errno_t e = llhttp_get_errno(&d->parser);
    if (!d->error_episode) {
        d->error_episode = true;
        st->pl->n_parse_errors++;
        http_emit_parse_error(st, d, llhttp_errno_name(e), llhttp_get_error_reason(&d->parser),
                              d->ts);
    }
    http_on_lost(d);
    enter_resync(d, false);
}

/* Run llhttp over p[0..n); stops early when the direction changes mode. */
static pt_feed_result feed_parser(http_dir *d, const uint8_t *p, size_t n, size_t *used)
{
    http_stream *st = d->st;
    size_t done = 0;
    /* after a pause, run llhttp again even with no bytes left: a message without a body
     * completes without consuming input */
    for (;;) {
        const char *start = (const char *)p + done;
        llhttp_errno_t e = llhttp_execute(&d->parser, start, n - done);
        if (e == HPE_OK) {
            d->offset += n - done;
            done = n;
            break;
        }
        const char *pos = llhttp_get_error_pos(&d->parser);
        size_t k = pos != NULL && pos >= start && pos <= start + (n - done) ? (size_t)(pos - start)
                                                                            : n - done;
        d->offset += k;
        done += k;
        if (e == HPE_PAUSED) {
            http_pause what = d->pause;
            d->pause = HTTP_PAUSE_NONE;
            llhttp_resume(&d->parser);
            if (what == HTTP_PAUSE_HEADERS) {
                http_on_headers(d, d->offset);
            } else if (what == HTTP_PAUSE_MESSAGE) {
                http_on_message(d, d->offset);
                if (st->released) {
                    break;
                }
            }
            continue;
        }
        if (e == HPE_PAUSED_UPGRADE) {
            if (st->released) {
                break;
            }
            if (d->dir == PT_DIR_TO_SERVER) {
                d->mode = HTTP_MODE_HOLD;
                d->carry_len = 0;
                d->hold_lost = false;
                break;
            }
            llhttp_resume_after_upgrade(&d->parser);
            continue;
        }
        parse_failed(d);
        break;
    }
    *used = done;
    return st->released ? PT_FEED_RELEASE : PT_FEED_OK;
}

typedef enum http_start { HTTP_START_AS_IS = 0, HTTP_START_WAIT, HTTP_START_REWRITE } http_start;

/* At the first byte of a message: llhttp knows a fixed list of methods and wants "HTTP/" in
 * upper case, while servers accept any method token (QUERY, WebDAV and private ones) and some
 * answer "http/1.1". Such a first token is handed to llhttp rewritten ("GET", "HTTP/"); the
 * real method is reported. WAIT: the token is not complete in these bytes. */
static http_start start_token(const http_dir *d, const uint8_t *p, size_t n, size_t *tok)
{
    if (d->dir == PT_DIR_TO_CLIENT) {
        size_t k = n < 5 ? n : 5;
        if (strncasecmp((const char *)p, "HTTP/", k) != 0) {
            return HTTP_START_AS_IS;
        }
        if (k < 5) {
            return HTTP_START_WAIT;
        }
        *tok = 5;
        return memcmp(p, "HTTP/", 5) == 0 ? HTTP_START_AS_IS : HTTP_START_REWRITE;
    }
    size_t i = 0;
    while (i < n && i < HTTP_METHOD_MAX && http_method_char(p[i])) {
        i++;
    }
    if (i == n && i < HTTP_METHOD_MAX) {
        return HTTP_START_WAIT;
    }
    if (i == 0 || i == n || p[i] != ' ' || http_method_known(p, i)) {
        return HTTP_START_AS_IS;
    }
    *tok = i;
    return HTTP_START_REWRITE;
}

/* Feed llhttp in PARSE mode; at a message boundary, look at the first token first. */
static pt_feed_result feed_message(http_dir *d, const uint8_t *p, size_t n, size_t *used)
{
    if (d->in_message || d->parser.error != HPE_OK) {
        return feed_parser(d, p, n, used);
    }
    size_t lead = 0;
    while (lead < n && (p[lead] == '\r' || p[lead] == '\n')) {
        lead++;
    }
    if (lead > 0) {
        return feed_parser(d, p, lead, used); /* blank lines between messages */
    }
    size_t tok = 0;
    switch (start_token(d, p, n, &tok)) {
    case HTTP_START_WAIT:
        d->mode = HTTP_MODE_LINE;
        d->carry_len = 0;
        carry_put(d, p, n);
        *used = n;
        return PT_FEED_OK;
    case HTTP_START_REWRITE: {
        const char *as = d->dir == PT_DIR_TO_CLIENT ? "HTTP/" : "GET";
        size_t as_len = strlen(as);
        if (d->dir == PT_DIR_TO_SERVER) {
            memcpy(d->xmethod, p, tok);
            d->xmethod_len = tok;
        }
        size_t k = 0;
        pt_feed_result fr = feed_parser(d, (const uint8_t *)as, as_len, &k);
        d->offset = d->offset - k + tok; /* count the bytes on the wire, not the stand-in */
        d->xmethod_len = 0;
        *used = tok;
        return fr;
    }
    default:
        return feed_parser(d, p, n, used);
    }
}

/* HTTP_MODE_LINE: a message's first token continues in these bytes. */
static pt_feed_result feed_line(http_dir *d, const uint8_t *p, size_t n, size_t *used)
{
    size_t before = d->carry_len;
    size_t room = HTTP_METHOD_MAX + 1 > before ? HTTP_METHOD_MAX + 1 - before : 1;
    carry_put(d, p, n < room ? n : room);
    *used = d->carry_len - before;
    uint8_t *buf = d->carry;
    size_t len = d->carry_len, cap = d->carry_cap;
    d->carry = NULL;
    d->carry_len = d->carry_cap = 0;
    d->mode = HTTP_MODE_PARSE;
    pt_feed_result fr = http_dir_feed(d, buf, len);
    if (d->carry == NULL) {
        d->carry = buf;
        d->carry_cap = cap;
        d->carry_len = 0;
    } else {
        free(buf);
    }
    return fr;
}

/* Found a start line: parse from here with a fresh parser. */
static void resynced(http_dir *d)
{
    http_dir_restart(d);
    d->mode = HTTP_MODE_PARSE;
    d->error_episode = false;
    d->resync_scanned = 0;
}

/* The carry holds a partial candidate start line at offset 0; more bytes arrived. */
static pt_feed_result resync_carry(http_dir *d, const uint8_t *p, size_t n, size_t *used)
{
    size_t before = d->carry_len;
    carry_put(d, p, n);
    *used = d->carry_len - before;
    d->resync_scanned += *used;
    bool line_start = false;
    size_t at = 0;
    http_line_result r = http_line_check(d->dir, d->carry, d->carry_len, d->offset == 0);
    if (r == HTTP_LINE_NO) {
        r = http_line_scan(d->dir, d->carry + 1, d->carry_len - 1, &line_start, &at, false);
        at += 1;
    }
    if (r == HTTP_LINE_NO) {
        d->st->pl->n_resync_bytes += d->carry_len;
        d->offset += d->carry_len;
        d->carry_len = 0;
        d->line_start = line_start;
        return PT_FEED_OK;
    }
    d->st->pl->n_resync_bytes += at;
    d->offset += at;
    if (r == HTTP_LINE_PARTIAL) {
        if (d->carry_len == d->carry_cap) {
            /* a start line longer than the limit: give it up */
            d->st->pl->n_resync_bytes += d->carry_len - at;
            d->offset += d->carry_len - at;
            d->carry_len = 0;
            d->line_start = false;
        } else {
            memmove(d->carry, d->carry + at, d->carry_len - at);
            d->carry_len -= at;
        }
        return PT_FEED_OK;
    }
    /* a start line: parse the carried bytes, then the rest of the input as usual */
    uint8_t *buf = d->carry;
    size_t len = d->carry_len, cap = d->carry_cap;
    d->carry = NULL;
    d->carry_len = d->carry_cap = 0;
    resynced(d);
    pt_feed_result fr = http_dir_feed(d, buf + at, len - at);
    if (d->carry == NULL) {
        d->carry = buf;
        d->carry_cap = cap;
        d->carry_len = 0;
    } else {
        free(buf);
    }
    return fr;
}

static pt_feed_result resync(http_dir *d, const uint8_t *p, size_t n, size_t *used)
{
    http_stream *st = d->st;
    pt_feed_result fr = PT_FEED_OK;
    if (d->carry_len > 0) {
        fr = resync_carry(d, p, n, used);
    } else {
        size_t at = 0;
        http_line_result r = http_line_scan(d->dir, p, n, &d->line_start, &at, d->offset == 0);
        if (r == HTTP_LINE_NO) {
            at = n;
        }
        st->pl->n_resync_bytes += at;
        d->offset += at;
        d->resync_scanned += at;
        *used = at;
        if (r == HTTP_LINE_YES) {
            resynced(d);
        } else if (r == HTTP_LINE_PARTIAL) {
            carry_put(d, p + at, n - at);
            *used = n;
        }
    }
    if (d->mode == HTTP_MODE_RESYNC && d->resync_scanned > st->pl->resync_bytes &&
        !stream_has_http(st)) {
        if (!d->error_episode) {
            d->error_episode = true;
            st->pl->n_parse_errors++;
            http_emit_parse_error(st, d, "no_start_line", "no HTTP start line found", d->ts);
        }
        return PT_FEED_VIOLATION;
    }
    return fr;
}

pt_feed_result http_dir_feed(http_dir *d, const uint8_t *p, size_t n)
{
    http_stream *st = d->st;
    while (n > 0) {
        size_t used = n;
        pt_feed_result fr = PT_FEED_OK;
        if (st->released) {
            return PT_FEED_RELEASE;
        }
        switch (d->mode) {
        case HTTP_MODE_START:
            /* a start line right away, else (or when it is not complete yet) scan for one */
            if (http_line_check(d->dir, p, n, true) == HTTP_LINE_YES) {
                resynced(d);
            } else {
                enter_resync(d, true);
            }
            used = 0;
            break;
        case HTTP_MODE_PARSE:
            fr = feed_message(d, p, n, &used);
            break;
        case HTTP_MODE_LINE:
            fr = feed_line(d, p, n, &used);
            break;
        case HTTP_MODE_RESYNC:
            fr = resync(d, p, n, &used);
            break;
        case HTTP_MODE_HOLD:
            d->carry_ts = *d->ts;
            if (!d->hold_lost && !carry_put(d, p, n)) {
                d->hold_lost = true;
            }
            d->offset += n;
            break;
        case HTTP_MODE_RAW09:
            d->body_bytes += n;
            if (d->keep_body) {
                http_body_append(d, st->pl->body_max, (const char *)p, n);
            }
            d->offset += n;
            break;
        }
        if (fr != PT_FEED_OK) {
            return fr;
        }
        p += used;
        n -= used;
    }
    return st->released ? PT_FEED_RELEASE : PT_FEED_OK;
}

void http_stream_init(http_stream *st, http_plugin *pl, pt_stream *s)
{
    memset(st, 0, sizeof(*st));
    st->pl = pl;
    st->s = s;
    for (int i = 0; i < 2; i++) {
        http_dir *d = &st->d[i];
        d->st = st;
        d->dir = (pt_dir)i;
        d->mode = HTTP_MODE_START;
        http_msg_reset(&d->resp);
        http_dir_restart(d);
    }
}

pt_feed_result http_stream_feed(http_stream *st, pt_dir dir, const uint8_t *data, size_t len,
                                const pt_time *ts)
{
    if (st->released) {
        return PT_FEED_RELEASE;
    }
    http_dir *d = &st->d[dir];
    http_dir *q = &st->d[PT_DIR_TO_SERVER];
    d->ts = ts;
    st->d[!dir].ts = ts;
    if (dir == PT_DIR_TO_CLIENT && !d->in_message && d->mode != HTTP_MODE_RAW09 &&
        q->mode == HTTP_MODE_PARSE && q->in_message && !q->in_body && q->parser.http_major == 0 &&
        q->parser.http_minor == 9) {
        http_start_raw09(st);
    }
    return http_dir_feed(d, data, len);
}

/* Whether a gap of `missing` bytes falls inside the current body, so the message can go on:
 * a Content-Length body with at least that much left, or a body delimited by the close. */
static bool gap_in_body(http_dir *d, uint64_t missing)
{
    if (d->mode != HTTP_MODE_PARSE || !d->in_body || (d->parser.flags & F_CHUNKED)) {
        return false;
    }
    if (d->parser.flags & F_CONTENT_LENGTH) {
        return d->parser.content_length >= missing && d->parser.content_length > 0;
    }
    return llhttp_message_needs_eof(&d->parser) != 0;
}

/* `missing` bytes of `dir` are lost. Inside a body of known length, skip them and carry on
 * (the body is reported with gap_bytes); anywhere else, resynchronise at the next start line. */
void http_stream_gap(http_stream *st, pt_dir dir, uint64_t missing, const pt_time *ts)
{
    http_dir *d = &st->d[dir];
    d->ts = ts;
    st->d[!dir].ts = ts;
    if (st->released || missing == 0) {
        return;
    }
    if (gap_in_body(d, missing)) {
        static const uint8_t zeros[HTTP_ZERO_FILL];
        st->pl->n_gap_filled += missing;
        d->gap_bytes += missing;
        http_body_lost(d);
        uint64_t skip = missing;
        if (d->parser.flags & F_CONTENT_LENGTH) {
            skip = missing - HTTP_ZERO_FILL; /* llhttp ends the body on a real byte */
            d->parser.content_length -= skip;
        }
        d->body_bytes += skip;
        d->offset += skip;
        if (skip < missing) {
            d->gap_filling = true;
            http_dir_feed(d, zeros, HTTP_ZERO_FILL);
            d->gap_filling = false;
        }
        return;
    }
    switch (d->mode) {
    case HTTP_MODE_HOLD:
        d->hold_lost = true;
        break;
    case HTTP_MODE_RAW09:
        d->body_bytes += missing;
        d->gap_bytes += missing;
        break;
    default:
        http_on_lost(d);
        enter_resync(d, true);
        d->error_episode = false;
        break;
    }
    d->offset += missing;
}

void http_stream_close(http_stream *st, const char *why, const pt_time *ts)
{
    http_on_close(st, why, ts);
}

void http_stream_free(http_stream *st)
{
    for (int i = 0; i < 2; i++) {
        http_dir *d = &st->d[i];
        free(d->carry);
        http_body_free(d);
        http_msg_free(&d->resp);
    }
    free(st->items);
    http_ring_free(st);
}
