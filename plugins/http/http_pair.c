/* http_pair.c — pair requests with responses in FIFO order (RFC 9112 §9.3.2 pipelining): a ring
 * of pending requests per stream, and the work done when a message's headers or the whole
 * message are complete, when one is lost, and when the stream ends. */
#include <stdlib.h>
#include <string.h>

#include "http.h"

http_txn *http_ring_front(http_stream *st)
{
    return st->ring_count ? &st->ring[st->ring_head] : NULL;
}

/* The slot k places after the head. head < cap and k < cap, so one subtraction wraps it: the
 * ring is looked up in every llhttp callback, where a division would be a measurable cost. */
static size_t ring_slot(const http_stream *st, size_t k)
{
    size_t i = st->ring_head + k;
    return i >= st->ring_cap ? i - st->ring_cap : i;
}

/* Requests are numbered in order, so the slot of a sequence number is found in O(1). */
http_txn *http_ring_find(http_stream *st, uint64_t seq)
{
    http_txn *f = http_ring_front(st);
    if (f == NULL || seq < f->seq || seq - f->seq >= st->ring_count) {
        return NULL;
    }
    return &st->ring[ring_slot(st, (size_t)(seq - f->seq))];
}

void http_ring_pop(http_stream *st)
{
    if (st->ring_count == 0) {
        return;
    }
    st->ring_head = ring_slot(st, 1);
    st->ring_count--;
}

/* Grow the ring (doubling, up to max_pending), keeping order; slots keep their buffers. */
static bool ring_grow(http_stream *st)
{
    size_t cap = st->ring_cap ? st->ring_cap * 2 : HTTP_INITIAL_RING;
    if (cap > st->pl->max_pending) {
        cap = st->pl->max_pending;
    }
    if (cap <= st->ring_cap) {
        return false;
    }
    http_txn *r = calloc(cap, sizeof(*r));
    if (r == NULL) {
        return false;
    }
    for (size_t i = 0; i < st->ring_cap; i++) {
        r[i] = st->ring[ring_slot(st, i)];
    }
    free(st->ring);
    st->ring = r;
    st->ring_cap = cap;
    st->ring_head = 0;
    return true;
}

/* A request begins: take a slot. With max_pending requests already waiting, the oldest is
 * given up as unanswered (bounded state, as Zeek does for runaway pipelines). */
http_txn *http_ring_push(http_stream *st, const pt_time *ts)
{
    if (st->ring_count == st->ring_cap && !ring_grow(st)) {
        http_txn *old = http_ring_front(st);
        if (old == NULL) {
            return NULL;
        }
        if (!old->emitted) {
            http_emit_request(st, old, ts);
        }
        http_emit_unanswered(st, old, "pending_limit", ts);
        http_ring_pop(st);
    }
    http_txn *t = &st->ring[ring_slot(st, st->ring_count)];
    http_msg keep = t->req;
    memset(t, 0, sizeof(*t));
    t->req = keep;
    http_msg_reset(&t->req);
    t->seq = ++st->next_seq;
    t->ts_begin = *ts;
    st->ring_count++;
    return t;
}

void http_ring_free(http_stream *st)
{
    for (size_t i = 0; i < st->ring_cap; i++) {
        http_msg_free(&st->ring[i].req);
    }
    free(st->ring);
    st->ring = NULL;
    st->ring_cap = st->ring_count = st->ring_head = 0;
}

static void start_body(http_dir *d, uint64_t off, const http_msg *m)
{
    d->hdr_end = off;
    d->in_body = true;
    d->body_bytes = 0;
    d->gap_bytes = 0;
    pt_span none = PT_SPAN("", 0);
    http_body_start(d, m ? http_msg_header(m, m->content_encoding) : none);
    d->keep_body = d->st->pl->bodies != HTTP_BODIES_NONE &&
                   http_body_wanted(d->st->pl, m ? http_msg_header(m, m->content_type) : none);
}

static void request_headers(http_dir *d, uint64_t off)
{
    http_txn *t = http_ring_find(d->st, d->cur_seq);
    if (t != NULL) {
        t->headers_done = true;
        t->method = d->parser.method;
        t->major = d->parser.http_major;
        t->minor = d->parser.http_minor;
        t->header_bytes = off - d->msg_begin;
        t->filtered = http_txn_filtered(d->st->pl, t);
    }
    start_body(d, off, t ? &t->req : NULL);
}

/* Response headers: pair with the oldest pending request and tell llhttp which responses have
 * no body (HEAD, 1xx, 204, 304) and which end HTTP on the connection (101, 2xx to CONNECT). */
static void response_headers(http_dir *d, uint64_t off)
{
    http_stream *st = d->st;
    http_txn *t = http_ring_front(st);
    int status = d->parser.status_code;
    d->cur_seq = t ? t->seq : 0;
    d->interim = status >= 100 && status < 200 && status != 101;
    bool skip = d->interim || status == 204 || status == 304 ||
                (t != NULL && t->method == HTTP_HEAD && t->headers_done);
    bool upgrade =
        status == 101 || (t != NULL && t->method == HTTP_CONNECT && status >= 200 && status < 300);
    if (skip || upgrade) {
        d->parser.flags |= F_SKIPBODY;
    }
    d->parser.upgrade = upgrade ? 1 : 0;
    if (d->interim && t != NULL) {
        t->info_code = (uint16_t)status;
    }
    start_body(d, off, &d->resp);
}

void http_on_headers(http_dir *d, uint64_t off)
{
    if (d->dir == PT_DIR_TO_SERVER) {
        request_headers(d, off);
    } else {
        response_headers(d, off);
    }
}

static void end_message(http_dir *d, uint64_t off)
{
    d->in_message = false;
    d->in_body = false;
    d->msg_begin = off;
    d->cur_seq = 0;
    d->any_message = true;
}

/* After the final response to the CONNECT/Upgrade request the request side was holding for,
 * when the server did not switch protocols: parse the held bytes as HTTP again. */
void http_release_hold(http_stream *st)
{
    http_dir *q = &st->d[PT_DIR_TO_SERVER];
    http_txn *f = http_ring_front(st);
    if (q->mode != HTTP_MODE_HOLD || (f != NULL && f->seq <= st->hold_seq)) {
        return;
    }
    llhttp_resume_after_upgrade(&q->parser);
    uint8_t *buf = q->carry;
    size_t len = q->carry_len, cap = q->carry_cap;
    q->carry = NULL;
    q->carry_len = q->carry_cap = 0;
    q->ts = &q->carry_ts;
    if (q->hold_lost) {
        q->hold_lost = false;
        http_dir_restart(q);
        q->mode = HTTP_MODE_RESYNC;
        q->line_start = false;
    } else {
        q->mode = HTTP_MODE_PARSE;
    }
    if (len > 0) {
        http_dir_feed(q, buf, len);
    }
    if (q->carry == NULL) {
        q->carry = buf;
        q->carry_cap = cap;
        q->carry_len = 0;
    } else {
        free(buf);
    }
}

static void request_message(http_dir *d, uint64_t off)
{
    http_stream *st = d->st;
    if (d->in_message && !d->in_body) {
        request_headers(d, off); /* HTTP/0.9: no header section */
    }
    http_txn *t = http_ring_find(st, d->cur_seq);
    if (t != NULL) {
        t->complete = true;
        t->ts_complete = *d->ts;
        t->body_bytes = d->body_bytes;
        t->body_wire_bytes = off - d->hdr_end;
        t->http09 = d->parser.http_major == 0 && d->parser.http_minor == 9;
        if (d->parser.upgrade) {
            st->hold_seq = t->seq;
        }
        if (!t->emitted) {
            http_emit_request(st, t, d->ts);
        }
    }
    end_message(d, off);
}

static void response_message(http_dir *d, uint64_t off)
{
    http_stream *st = d->st;
    if (d->interim) {
        end_message(d, off);
        return;
    }
    http_txn *t = http_ring_find(st, d->cur_seq);
    if (t != NULL && !t->emitted) {
        http_emit_request(st, t, d->ts);
    }
    http_emit_response(st, t, d, d->ts, true);
    if (d->parser.upgrade) {
        http_emit_upgrade(st, t, d, d->ts);
        st->released = true;
    }
    if (t != NULL && t == http_ring_front(st)) {
        http_ring_pop(st);
    }
    end_message(d, off);
    if (!st->released) {
        http_release_hold(st);
    }
}

/* The client sent an HTTP/0.9 request line (no headers) and the server answers: the request is
 * complete, and the response is raw bytes until the connection closes. */
void http_start_raw09(http_stream *st)
{
    http_dir *q = &st->d[PT_DIR_TO_SERVER];
    http_dir *r = &st->d[PT_DIR_TO_CLIENT];
    http_on_message(q, q->offset);
    http_dir_restart(q);
    r->mode = HTTP_MODE_RAW09;
    r->ts_begin = *r->ts;
    r->msg_begin = r->offset;
    r->in_message = true;
    start_body(r, r->offset, NULL);
    r->keep_body = st->pl->bodies == HTTP_BODIES_ALL;
}

void http_on_message(http_dir *d, uint64_t off)
{
    if (d->dir == PT_DIR_TO_SERVER) {
        request_message(d, off);
    } else {
        response_message(d, off);
    }
}

/* The rest of the current message will never be parsed (gap, parse error): a response whose
 * headers were seen is reported incomplete; a request stays pending, it may still be answered. */
void http_on_lost(http_dir *d)
{
    http_stream *st = d->st;
    if (d->dir == PT_DIR_TO_CLIENT && d->in_message && d->in_body && !d->interim) {
        http_txn *t = http_ring_find(st, d->cur_seq);
        if (t != NULL && !t->emitted) {
            http_emit_request(st, t, d->ts);
        }
        http_emit_response(st, t, d, d->ts, false);
        if (t != NULL && t == http_ring_front(st)) {
            http_ring_pop(st);
        }
    }
    if (d->dir == PT_DIR_TO_SERVER && d->in_message) {
        /* a request lost before its headers ended is no request at all: forget its slot */
        http_txn *t = http_ring_find(st, d->cur_seq);
        if (t != NULL && !t->headers_done && t->seq == st->next_seq) {
            st->ring_count--;
            st->next_seq--;
        }
    }
    d->in_message = false;
    d->in_body = false;
    d->cur_seq = 0;
}

/* End of the stream: finish a body delimited by the close, report what is half done, and every
 * request still waiting as unanswered. */
void http_on_close(http_stream *st, const char *why, const pt_time *ts)
{
    http_dir *r = &st->d[PT_DIR_TO_CLIENT];
    r->ts = ts;
    st->d[PT_DIR_TO_SERVER].ts = ts;
    if (!st->released && r->mode == HTTP_MODE_PARSE && r->in_message && r->in_body &&
        llhttp_message_needs_eof(&r->parser)) {
        r->finishing = true;
        llhttp_errno_t e = llhttp_finish(&r->parser);
        r->finishing = false;
        if (e == HPE_OK || e == HPE_PAUSED) {
            http_on_message(r, r->offset);
        }
    }
    if (!st->released && r->mode == HTTP_MODE_RAW09) {
        http_txn *t = http_ring_front(st);
        if (t != NULL && !t->emitted) {
            http_emit_request(st, t, ts);
        }
        http_emit_response(st, t, r, ts, true);
        http_ring_pop(st);
        r->in_message = false;
    }
    if (!st->released && r->in_message) {
        http_on_lost(r);
    }
    http_txn *t;
    while ((t = http_ring_front(st)) != NULL) {
        if (!t->emitted) {
            http_emit_request(st, t, ts);
        }
        http_emit_unanswered(st, t, why, ts);
        http_ring_pop(st);
    }
}
