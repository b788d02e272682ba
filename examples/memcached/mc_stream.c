/* mc_stream.c — the memcached plugin's parsers: command lines and data blocks towards the
 * server, response lines and value blocks towards the client, paired in order (memcached
 * answers the requests of one connection in the order they were sent; doc/protocol.txt).
 * Lines are parsed in place when a packet holds them whole and copied only when they span
 * packets; data blocks are skipped, never copied. */
#include <stdlib.h>
#include <string.h>

#include "memcached.h"

static const pt_span no_span = {NULL, 0, 0};

pt_span mc_request_name(const mc_request *r)
{
    if (r->cmd != NULL) {
        return PT_SPAN(r->cmd->name, strlen(r->cmd->name));
    }
    return PT_SPAN(r->name, r->name_len);
}

/* ---- requests ---------------------------------------------------------------------------- */

/* Whether a classic command ends with `noreply` (only the last token counts). */
static bool has_noreply(const mc_line *l, const mc_command *cmd)
{
    if (cmd == NULL || (cmd->cls != MC_STORAGE && cmd->cls != MC_SIMPLE) || l->n < 2 ||
        l->n != l->total) {
        return false;
    }
    return mc_token_is(l->tok[l->n - 1], "noreply");
}

/* Meta flags after the key (and the data length of ms): q (quiet) and O<opaque>. */
static void meta_flags(mc_request *r, const mc_line *l, size_t first)
{
    for (size_t i = first; i < l->n; i++) {
        mc_token t = l->tok[i];
        if (t.len == 1 && t.ptr[0] == 'q') {
            r->quiet = true;
            r->noreply = true;
        } else if (t.len > 1 && t.ptr[0] == 'O') {
            size_t n = t.len - 1 < MC_OPAQUE_MAX ? t.len - 1 : MC_OPAQUE_MAX;
            memcpy(r->opaque, t.ptr + 1, n);
            r->opaque_len = (uint8_t)n;
        }
    }
}

/* The request being read is complete: a request that gets no answer (noreply, quit) is
 * reported now, the others wait in the queue for their response. */
static void request_done(mc_stream *ms, mc_request *r, const pt_time *ts)
{
    r->ts = *ts;
    bool answered = !(r->noreply && !r->quiet) && !(r->cmd != NULL && r->cmd->cls == MC_QUIT);
    if (answered) {
        mc_queue_commit(&ms->q);
        return;
    }
    mc_emit_command(ms, r, no_span, NULL, NULL, NULL, no_span);
}

/* The slot for a new request; when max_pending requests wait already, the oldest is given
 * up as `unanswered` (reason queue_full) to make room. */
static mc_request *request_slot(mc_stream *ms, const pt_time *ts)
{
    mc_request *r = mc_queue_reserve(&ms->q, ms->p->max_pending);
    if (r == NULL) {
        mc_request *old = mc_queue_front(&ms->q);
        if (old == NULL) {
            return NULL;
        }
        mc_emit_unanswered(ms, old, "queue_full", ts);
        mc_queue_pop(&ms->q);
        r = mc_queue_reserve(&ms->q, ms->p->max_pending);
    }
    return r;
}

static pt_feed_result on_request(mc_stream *ms, const uint8_t *line, size_t len, bool cut,
                                 const pt_time *ts)
{
    mc_dir *d = &ms->dir[PT_DIR_TO_SERVER];
    mc_line l;
    bool ok = mc_tokenize(line, len, &l);
    const mc_command *cmd = ok && l.n > 0 ? mc_command_find(l.tok[0]) : NULL;
    if (cmd == NULL && d->resync) {
        return PT_FEED_OK; /* still looking for a command after a gap */
    }
    if (!ok || (cmd == NULL && !ms->known)) {
        mc_emit_parse_error(ms, PT_DIR_TO_SERVER, ok ? "unknown command" : "control bytes in line",
                            line, len, ts);
        if (!ms->known) {
            return PT_FEED_VIOLATION;
        }
        if (!ok) {
            return PT_FEED_OK;
        }
    }
    d->resync = false;
    if (cmd != NULL) {
        ms->known = true;
    }
    mc_request *r = request_slot(ms, ts);
    if (r == NULL) {
        return PT_FEED_OK;
    }
    r->cmd = cmd;
    if (l.n > 0) {
        size_t n = l.tok[0].len < MC_NAME_MAX ? l.tok[0].len : MC_NAME_MAX;
        memcpy(r->name, l.tok[0].ptr, n);
        r->name_len = (uint8_t)n;
    }
    r->truncated = cut;
    r->ts = *ts;
    if (cmd == NULL) {
        request_done(ms, r, ts);
        return PT_FEED_OK;
    }
    size_t args = l.total - 1;
    if (cmd->first_key != 0 && l.n > cmd->first_key) {
        if (cmd->cls == MC_RETRIEVAL) {
            for (size_t k = cmd->first_key; k < l.n; k++) {
                mc_queue_add_key(&ms->q, r, l.tok[k]);
            }
            r->keys_total += l.total - l.n;
        } else {
            mc_queue_add_key(&ms->q, r, l.tok[cmd->first_key]);
        }
    }
    r->noreply = has_noreply(&l, cmd);
    uint64_t bytes = 0;
    bool data = false;
    if (cmd->cls == MC_STORAGE && args >= cmd->min_args) {
        data = mc_parse_u64(l.tok[4], &bytes);
    } else if (cmd->cls == MC_META_SET && args >= cmd->min_args) {
        data = mc_parse_u64(l.tok[2], &bytes);
        meta_flags(r, &l, 3);
    } else if (cmd->cls == MC_META_GET || cmd->cls == MC_META) {
        meta_flags(r, &l, cmd->first_key + 1u);
    }
    if ((cmd->cls == MC_STORAGE || cmd->cls == MC_META_SET) && (!data || cut)) {
        /* memcached answers CLIENT_ERROR and reads no data block */
        mc_emit_parse_error(ms, PT_DIR_TO_SERVER,
                            cut ? "storage command line too long" : "bad storage command line",
                            line, len, ts);
        data = false;
    }
    if (data) {
        r->req_bytes = bytes;
        ms->cur = r;
        d->st = bytes > 0 ? MC_ST_DATA : MC_ST_DATA_END;
        d->data_left = bytes;
        d->end_seen = 0;
        return PT_FEED_OK;
    }
    request_done(ms, r, ts);
    return PT_FEED_OK;
}

/* ---- responses --------------------------------------------------------------------------- */

/* The O<opaque> flag of a meta response (tokens after the code, or after VA's size). */
static bool response_opaque(const mc_line *l, mc_token *out)
{
    size_t first = mc_token_is(l->tok[0], "VA") ? 2 : 1;
    for (size_t i = first; i < l->n; i++) {
        if (l->tok[i].len > 1 && l->tok[i].ptr[0] == 'O') {
            *out = (mc_token){l->tok[i].ptr + 1, l->tok[i].len - 1};
            return true;
        }
    }
    return false;
}

/* Whether a quiet meta request at the front cannot have produced this response, so it was
 * answered with silence: an MN (no-op) flushes it, a code it suppresses is not its own,
 * and an opaque token that differs from its own belongs to a later request. */
static bool quiet_silent(const mc_request *r, const mc_line *l)
{
    mc_token code = l->tok[0];
    const char *name = r->cmd != NULL ? r->cmd->name : "";
    if (mc_token_is(code, "MN")) {
        return strcmp(name, "mn") != 0;
    }
    if (strcmp(name, "mg") == 0 && mc_token_is(code, "EN")) {
        return true;
    }
    if (strcmp(name, "ms") == 0 && mc_token_is(code, "HD")) {
        return true;
    }
    if ((strcmp(name, "md") == 0 || strcmp(name, "ma") == 0) &&
        (mc_token_is(code, "HD") || mc_token_is(code, "NF"))) {
        return true;
    }
    mc_token op;
    if (response_opaque(l, &op)) {
        return r->opaque_len != op.len || memcmp(r->opaque, op.ptr, op.len) != 0;
    }
    return false;
}

/* The front request got its final response line: report it and drop it. */
static void complete(mc_stream *ms, mc_request *r, const mc_line *l, mc_resp kind,
                     const uint8_t *line, size_t len, const pt_time *ts)
{
    pt_span result = PT_SPAN(l->tok[0].ptr, l->tok[0].len);
    pt_span detail = no_span;
    const char *detail_name = NULL;
    uint64_t number;
    const uint64_t *num = NULL;
    if (kind == MC_R_NUMBER && mc_parse_u64(l->tok[0], &number)) {
        result = PT_SPAN("NUMBER", 6);
        num = &number;
    } else if ((kind == MC_R_ERROR || kind == MC_R_VERSION) && l->n > 1) {
        size_t off = (size_t)(l->tok[1].ptr - line);
        detail = PT_SPAN(line + off, len - off);
        detail_name = kind == MC_R_ERROR ? "error" : "version";
    }
    mc_emit_command(ms, r, result, ts, num, detail_name, detail);
    if (r->cmd != NULL && strcmp(r->cmd->name, "watch") == 0 && mc_token_is(l->tok[0], "OK")) {
        ms->release = true;
    }
    mc_queue_pop(&ms->q);
    ms->gap_desync = false;
}

/* Start skipping the data block announced by a VALUE or VA line. */
static void skip_block(mc_dir *d, uint64_t bytes)
{
    d->st = bytes > 0 ? MC_ST_DATA : MC_ST_DATA_END;
    d->data_left = bytes;
    d->end_seen = 0;
}

static pt_feed_result on_response(mc_stream *ms, const uint8_t *line, size_t len, const pt_time *ts)
{
    mc_dir *d = &ms->dir[PT_DIR_TO_CLIENT];
    mc_line l;
    bool ok = mc_tokenize(line, len, &l) && l.n > 0;
    mc_resp kind = ok ? mc_response_kind(&l) : MC_R_UNKNOWN;
    if (kind == MC_R_UNKNOWN && d->resync) {
        return PT_FEED_OK;
    }
    if (!ok) {
        mc_emit_parse_error(ms, PT_DIR_TO_CLIENT, "control bytes in line", line, len, ts);
        return ms->known ? PT_FEED_OK : PT_FEED_VIOLATION;
    }
    d->resync = false;
    uint64_t bytes = 0;
    bool block = (kind == MC_R_VALUE && mc_parse_u64(l.tok[3], &bytes)) ||
                 (kind == MC_R_META_VA && mc_parse_u64(l.tok[1], &bytes));
    if ((kind == MC_R_VALUE || kind == MC_R_META_VA) && !block) {
        mc_emit_parse_error(ms, PT_DIR_TO_CLIENT, "bad value length", line, len, ts);
        d->st = MC_ST_SKIP_LINE;
        d->resync = true;
        return PT_FEED_OK;
    }
    if (block) {
        skip_block(d, bytes);
    }
    mc_request *r = mc_queue_front(&ms->q);
    while (r != NULL && r->quiet && quiet_silent(r, &l)) {
        mc_emit_command(ms, r, no_span, NULL, NULL, NULL, no_span);
        mc_queue_pop(&ms->q);
        r = mc_queue_front(&ms->q);
    }
    if (r == NULL) {
        if (kind == MC_R_META && mc_token_is(l.tok[0], "MN")) {
            return PT_FEED_OK; /* the no-op closing a batch of quiet requests */
        }
        ms->stray_responses++;
        if (!ms->gap_desync) {
            mc_emit_parse_error(ms, PT_DIR_TO_CLIENT, "response without a request", line, len, ts);
            if (!ms->known && kind == MC_R_UNKNOWN) {
                return PT_FEED_VIOLATION;
            }
        }
        return PT_FEED_OK;
    }
    if (kind != MC_R_UNKNOWN) {
        ms->known = true;
    }
    mc_class cls = r->cmd != NULL ? r->cmd->cls : MC_UNKNOWN;
    switch (kind) {
    case MC_R_VALUE:
        if (cls != MC_RETRIEVAL) {
            mc_emit_parse_error(ms, PT_DIR_TO_CLIENT, "VALUE answering a non-get command", line,
                                len, ts);
            return PT_FEED_OK;
        }
        r->hits++;
        r->resp_bytes += bytes;
        return PT_FEED_OK;
    case MC_R_META_VA:
        r->hits++;
        r->resp_bytes += bytes;
        ms->complete_after_data = true;
        return PT_FEED_OK;
    case MC_R_INFO:
    case MC_R_UNKNOWN:
        if (cls == MC_MULTI) {
            r->info_lines++;
            return PT_FEED_OK;
        }
        break;
    default:
        break;
    }
    complete(ms, r, &l, kind, line, len, ts);
    return PT_FEED_OK;
}

/* ---- both directions --------------------------------------------------------------------- */

/* A data block and its CRLF were read (ok) or the CRLF was missing (!ok). */
static void block_done(mc_stream *ms, pt_dir dir, bool ok, const pt_time *ts)
{
    if (!ok) {
        mc_emit_parse_error(ms, dir, "data block not followed by CRLF", NULL, 0, ts);
    }
    if (dir == PT_DIR_TO_SERVER) {
        if (ms->cur != NULL) {
            request_done(ms, ms->cur, ts);
            ms->cur = NULL;
        }
    } else if (ms->complete_after_data) {
        ms->complete_after_data = false;
        mc_request *r = mc_queue_front(&ms->q);
        if (r != NULL) {
            mc_emit_command(ms, r, PT_SPAN("VA", 2), ts, NULL, NULL, no_span);
            mc_queue_pop(&ms->q);
            ms->gap_desync = false;
        }
    }
}

static pt_feed_result on_line(mc_stream *ms, pt_dir dir, const uint8_t *line, size_t len, bool cut,
                              const pt_time *ts)
{
    if (len > 0 && line[len - 1] == '\r') {
        len--;
    }
    if (dir == PT_DIR_TO_SERVER) {
        return on_request(ms, line, len, cut, ts);
    }
    if (cut) {
        /* no memcached response line is that long (keys have at most 250 bytes) */
        mc_emit_parse_error(ms, dir, "response line too long", line, len, ts);
        ms->dir[dir].resync = true;
        return PT_FEED_OK;
    }
    return on_response(ms, line, len, ts);
}

/* Bytes of a line that spans packets go to the direction's line buffer (max_line). Returns
 * how many were taken; fewer than `n` means the line is cut. */
static size_t line_append(mc_stream *ms, mc_dir *d, const uint8_t *p, size_t n)
{
    if (d->line == NULL) {
        d->line = malloc(ms->p->max_line);
        if (d->line == NULL) {
            return 0;
        }
    }
    size_t room = ms->p->max_line - d->line_len;
    size_t take = n < room ? n : room;
    memcpy(d->line + d->line_len, p, take);
    d->line_len += take;
    return take;
}

pt_feed_result mc_stream_data(mc_stream *ms, pt_dir dir, const uint8_t *data, size_t len,
                              const pt_time *ts)
{
    mc_dir *d = &ms->dir[dir];
    size_t i = 0;
    while (i < len) {
        pt_feed_result r = PT_FEED_OK;
        switch (d->st) {
        case MC_ST_DATA: {
            uint64_t n = len - i < d->data_left ? len - i : d->data_left;
            d->data_left -= n;
            i += (size_t)n;
            if (d->data_left == 0) {
                d->st = MC_ST_DATA_END;
                d->end_seen = 0;
            }
            break;
        }
        case MC_ST_DATA_END:
            if (data[i] != (d->end_seen == 0 ? '\r' : '\n')) {
                d->st = MC_ST_LINE; /* memcached reads on from here as a new line */
                block_done(ms, dir, false, ts);
                break;
            }
            i++;
            if (++d->end_seen == 2) {
                d->st = MC_ST_LINE;
                block_done(ms, dir, true, ts);
            }
            break;
        case MC_ST_SKIP_LINE: {
            const uint8_t *nl = memchr(data + i, '\n', len - i);
            i = nl != NULL ? (size_t)(nl - data) + 1 : len;
            if (nl != NULL) {
                d->st = MC_ST_LINE;
            }
            break;
        }
        case MC_ST_LINE: {
            const uint8_t *nl = memchr(data + i, '\n', len - i);
            size_t n = nl != NULL ? (size_t)(nl - (data + i)) : len - i;
            if (nl != NULL && d->line_len == 0) {
                /* the whole line is in this packet: parse it in place */
                bool cut = n > ms->p->max_line;
                r = on_line(ms, dir, data + i, cut ? ms->p->max_line : n, cut, ts);
                i += n + 1;
                break;
            }
            bool cut = line_append(ms, d, data + i, n) < n;
            if (nl == NULL && !cut) {
                i = len;
                break;
            }
            r = on_line(ms, dir, d->line, d->line_len, cut, ts);
            d->line_len = 0;
            if (nl != NULL) {
                i += n + 1;
            } else {
                i += n;
                if (d->st == MC_ST_LINE) {
                    d->st = MC_ST_SKIP_LINE;
                }
            }
            break;
        }
        }
        if (r != PT_FEED_OK) {
            return r;
        }
        if (ms->release) {
            return PT_FEED_RELEASE; /* what follows `watch`'s OK is a log stream */
        }
    }
    return PT_FEED_OK;
}

void mc_stream_unanswered(mc_stream *ms, const char *reason, const pt_time *ts)
{
    mc_request *r;
    while ((r = mc_queue_front(&ms->q)) != NULL) {
        if (r->quiet) {
            mc_emit_command(ms, r, no_span, NULL, NULL, NULL, no_span);
        } else {
            mc_emit_unanswered(ms, r, reason, ts);
        }
        mc_queue_pop(&ms->q);
    }
    if (ms->cur != NULL) {
        mc_emit_unanswered(ms, ms->cur, reason, ts);
        ms->cur = NULL;
    }
}

void mc_stream_gap(mc_stream *ms, pt_dir dir, uint64_t missing, const pt_time *ts)
{
    mc_dir *d = &ms->dir[dir];
    if (d->st == MC_ST_DATA && missing <= d->data_left) {
        /* lost bytes inside a value: the position is still known */
        d->data_left -= missing;
        if (d->data_left == 0) {
            d->st = MC_ST_DATA_END;
            d->end_seen = 0;
        }
        return;
    }
    /* The position in this direction is lost: resynchronise at the next line that parses,
     * and give up on pairing what is waiting. */
    d->line_len = 0;
    d->st = MC_ST_SKIP_LINE;
    d->resync = true;
    if (dir == PT_DIR_TO_CLIENT) {
        ms->complete_after_data = false;
    }
    mc_stream_unanswered(ms, "gap", ts);
    ms->gap_desync = true;
}
