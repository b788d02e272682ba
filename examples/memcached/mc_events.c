/* mc_events.c — the memcached plugin's events (`command`, `unanswered`, `parse_error`; schema
 * in README.md) and their text rendering for the text sink. */
#include <string.h>

#include "memcached.h"

/* Most fields in one event. */
#define MC_MAX_FIELDS 16

static pt_span shown(const mc_plugin *p, pt_span s)
{
    if (s.len > p->max_text) {
        s.len = p->max_text;
    }
    return s;
}

/* The key fields of a request: `key` (first key or null) and, for gets, `keys`. */
static size_t key_fields(mc_stream *ms, const mc_request *r, pt_field *f)
{
    size_t n = 0;
    size_t nk = mc_queue_keys(&ms->q, r, ms->spans);
    f[n++] = nk > 0 ? PT_F_STR("key", ms->spans[0]) : PT_F_NULL("key");
    if (r->cmd != NULL && r->cmd->cls == MC_RETRIEVAL) {
        f[n++] = PT_F_LIST("keys", ms->spans, nk, r->keys_total);
        f[n++] = PT_F_UINT("key_count", r->keys_total);
    }
    return n;
}

static bool is_storage(const mc_request *r)
{
    return r->cmd != NULL && (r->cmd->cls == MC_STORAGE || r->cmd->cls == MC_META_SET);
}

void mc_emit_command(mc_stream *ms, const mc_request *r, pt_span result, const pt_time *resp_ts,
                     const uint64_t *number, const char *detail_name, pt_span detail)
{
    pt_field f[MC_MAX_FIELDS];
    size_t n = 0;
    f[n++] = PT_F_STR("command", mc_request_name(r));
    n += key_fields(ms, r, f + n);
    f[n++] = PT_F_UINT("bytes", is_storage(r) ? r->req_bytes : r->resp_bytes);
    if (r->cmd != NULL && (r->cmd->cls == MC_RETRIEVAL || r->cmd->cls == MC_META_GET)) {
        f[n++] = PT_F_UINT("hits", r->hits);
    }
    f[n++] = result.ptr != NULL ? PT_F_STR("result", result) : PT_F_NULL("result");
    f[n++] = resp_ts != NULL ? PT_F_INT("latency_us", pt_time_diff_us(resp_ts, &r->ts))
                             : PT_F_NULL("latency_us");
    f[n++] = PT_F_BOOL("noreply", r->noreply);
    if (number != NULL) {
        f[n++] = PT_F_UINT("value", *number);
    }
    if (detail_name != NULL) {
        f[n++] = PT_F_STR(detail_name, shown(ms->p, detail));
    }
    if (r->opaque_len > 0) {
        f[n++] = PT_F_STR("opaque", PT_SPAN(r->opaque, r->opaque_len));
    }
    if (r->cmd != NULL && r->cmd->cls == MC_MULTI) {
        f[n++] = PT_F_UINT("lines", r->info_lines);
    }
    if (r->truncated) {
        f[n++] = PT_F_BOOL("truncated", true);
    }
    ms->p->host->emit(ms->s, "command", &r->ts, f, n);
}

void mc_emit_unanswered(mc_stream *ms, const mc_request *r, const char *reason, const pt_time *ts)
{
    pt_field f[MC_MAX_FIELDS];
    size_t n = 0;
    f[n++] = PT_F_STR("command", mc_request_name(r));
    n += key_fields(ms, r, f + n);
    f[n++] = PT_F_UINT("bytes", r->req_bytes);
    f[n++] = PT_F_STR("reason", PT_SPAN(reason, strlen(reason)));
    f[n++] = PT_F_INT("waited_us", pt_time_diff_us(ts, &r->ts));
    ms->p->host->emit(ms->s, "unanswered", &r->ts, f, n);
}

void mc_emit_parse_error(mc_stream *ms, pt_dir dir, const char *reason, const uint8_t *line,
                         size_t len, const pt_time *ts)
{
    const char *d = dir == PT_DIR_TO_SERVER ? "request" : "response";
    pt_field f[3] = {
        PT_F_STR("dir", PT_SPAN(d, strlen(d))),
        PT_F_STR("reason", PT_SPAN(reason, strlen(reason))),
        line != NULL ? PT_F_BYTES("line", shown(ms->p, PT_SPAN(line, len))) : PT_F_NULL("line"),
    };
    ms->p->host->emit(ms->s, "parse_error", ts, f, 3);
}

/* ---- text -------------------------------------------------------------------------------- */

static const pt_field *field(const pt_event *ev, const char *name)
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
    return f != NULL && (f->type == PT_FIELD_STR || f->type == PT_FIELD_BYTES);
}

/* Longest key or message shown in a text line. */
#define MC_TEXT_MAX 64

/* "get a b c -> END 2/3 hits 120 bytes 85us", "set k -> STORED 5 bytes 40us",
 * "stats -> END 70 lines 74us", "delete k (noreply)", "get k unanswered (fin)",
 * "parse error (request): reason \"line\"" */
void mc_format_text(void *plugin_state, const pt_event *ev, pt_text *out)
{
    const pt_host *h = ((mc_plugin *)plugin_state)->host;
    const pt_field *cmd = field(ev, "command");
    if (strcmp(ev->kind, "parse_error") == 0) {
        const pt_field *dir = field(ev, "dir"), *reason = field(ev, "reason");
        const pt_field *line = field(ev, "line");
        h->text_printf(out, "parse error");
        if (has_str(dir)) {
            h->text_printf(out, " (%.*s)", (int)dir->v.str.len, (const char *)dir->v.str.ptr);
        }
        if (has_str(reason)) {
            h->text_printf(out, ": %.*s", (int)reason->v.str.len, (const char *)reason->v.str.ptr);
        }
        if (has_str(line)) {
            h->text_printf(out, " ");
            h->text_span(out, line->v.str, MC_TEXT_MAX, true);
        }
        return;
    }
    if (has_str(cmd)) {
        h->text_span(out, cmd->v.str, MC_NAME_MAX, false);
    }
    const pt_field *keys = field(ev, "keys"), *key = field(ev, "key");
    if (keys != NULL && keys->type == PT_FIELD_STR_LIST) {
        for (size_t i = 0; i < keys->v.list.count; i++) {
            h->text_printf(out, " ");
            h->text_span(out, keys->v.list.items[i], MC_TEXT_MAX, false);
        }
        if (keys->v.list.total > keys->v.list.count) {
            h->text_printf(out, " (+%llu keys)",
                           (unsigned long long)(keys->v.list.total - keys->v.list.count));
        }
    } else if (has_str(key)) {
        h->text_printf(out, " ");
        h->text_span(out, key->v.str, MC_TEXT_MAX, false);
    }
    if (strcmp(ev->kind, "unanswered") == 0) {
        const pt_field *reason = field(ev, "reason");
        h->text_printf(out, " unanswered");
        if (has_str(reason)) {
            h->text_printf(out, " (%.*s)", (int)reason->v.str.len, (const char *)reason->v.str.ptr);
        }
        return;
    }
    const pt_field *result = field(ev, "result"), *bytes = field(ev, "bytes");
    const pt_field *hits = field(ev, "hits"), *lat = field(ev, "latency_us");
    const pt_field *value = field(ev, "value"), *err = field(ev, "error");
    const pt_field *version = field(ev, "version");
    if (!has_str(result)) {
        if (bytes != NULL && bytes->v.u > 0) {
            h->text_printf(out, " %llu bytes", (unsigned long long)bytes->v.u);
        }
        const pt_field *noreply = field(ev, "noreply");
        bool nr = noreply != NULL && noreply->type == PT_FIELD_BOOL && noreply->v.b;
        h->text_printf(out, nr ? " (noreply)" : " (no response)");
        return;
    }
    bool color = h->text_color(out);
    bool bad = result->v.str.len >= 5 &&
               memcmp(result->v.str.ptr + result->v.str.len - 5, "ERROR", 5) == 0;
    h->text_printf(out, " -> %s", color && bad ? "\x1b[31m" : "");
    if (value != NULL && value->type == PT_FIELD_UINT) {
        h->text_printf(out, "%llu", (unsigned long long)value->v.u);
    } else {
        h->text_span(out, result->v.str, MC_NAME_MAX, false);
    }
    h->text_printf(out, "%s", color && bad ? "\x1b[0m" : "");
    if (has_str(err) || has_str(version)) {
        h->text_printf(out, " ");
        h->text_span(out, (has_str(err) ? err : version)->v.str, MC_TEXT_MAX, true);
    }
    if (hits != NULL && keys != NULL && keys->type == PT_FIELD_STR_LIST) {
        h->text_printf(out, " %llu/%llu hits", (unsigned long long)hits->v.u,
                       (unsigned long long)keys->v.list.total);
    }
    if (bytes != NULL && bytes->v.u > 0) {
        h->text_printf(out, " %llu bytes", (unsigned long long)bytes->v.u);
    }
    const pt_field *lines = field(ev, "lines");
    if (lines != NULL && lines->type == PT_FIELD_UINT) {
        h->text_printf(out, " %llu lines", (unsigned long long)lines->v.u);
    }
    if (lat != NULL && lat->type == PT_FIELD_INT) {
        h->text_printf(out, " %lldus", (long long)lat->v.i);
    }
}
