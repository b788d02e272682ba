/* format.c — the text rendering of the Redis plugin's events, in redis_trace's style with the
 * clock fixed: `GET foo -> "bar" 0.092ms` (the text sink prints time and client -> server). */
#include <string.h>

#include "redis_priv.h"

/* ANSI colours, used only when the sink asks for them. */
#define RD_RED   "\033[31m"
#define RD_CYAN  "\033[36m"
#define RD_RESET "\033[0m"

/* The field called `name`. The plugin's own literals usually share one address, so the
 * pointer is compared first and the text only when the first letters agree. */
static const pt_field *field(const pt_event *ev, const char *name)
{
    for (size_t i = 0; i < ev->n_fields; i++) {
        const char *n = ev->fields[i].name;
        if (n == name || (n && n[0] == name[0] && !strcmp(n, name)))
            return &ev->fields[i];
    }
    return NULL;
}

static bool str_is(const pt_field *f, const char *s)
{
    return f && f->type == PT_FIELD_STR && f->v.str.len == strlen(s) &&
           !memcmp(f->v.str.ptr, s, f->v.str.len);
}

/* The command and its arguments: "CONFIG|GET" prints as "CONFIG GET". */
static void put_command(const rd_config *cfg, const pt_event *ev, pt_text *out)
{
    const pt_host *h = cfg->host;
    const pt_field *name = field(ev, "command");
    const pt_field *args = field(ev, "args");
    if (name && name->type == PT_FIELD_STR) {
        /* each word escaped like any wire bytes, '|' between them printed as a space */
        const uint8_t *p = name->v.str.ptr;
        size_t len = name->v.str.len, start = 0;
        for (size_t i = 0; i <= len; i++) {
            if (i < len && p[i] != '|')
                continue;
            if (start)
                h->text_printf(out, " ");
            h->text_span(out, (pt_span){p + start, i - start, 0}, RD_NAME_MAX, false);
            start = i + 1;
        }
    }
    if (args && args->type == PT_FIELD_STR_LIST) {
        for (size_t i = 0; i < args->v.list.count; i++) {
            pt_span a = args->v.list.items[i];
            /* quote what would otherwise read as several words, or as nothing */
            bool quote = a.full_len == 0 || (a.len && memchr(a.ptr, ' ', a.len));
            h->text_printf(out, " ");
            h->text_span(out, a, cfg->max_arg_bytes, quote);
        }
        if (args->v.list.total > args->v.list.count)
            h->text_printf(out, " ...(%llu args)", (unsigned long long)args->v.list.total);
    }
}

/* The reply: bulk strings quoted, errors marked (red), nil, aggregates as rendered. */
static void put_reply(const rd_config *cfg, const pt_event *ev, pt_text *out)
{
    const pt_host *h = cfg->host;
    const pt_field *reply = field(ev, "reply");
    const pt_field *type = field(ev, "reply_type");
    const pt_field *err = field(ev, "error");
    bool color = h->text_color(out);
    if (str_is(type, "none")) {
        h->text_printf(out, "(no reply)");
        return;
    }
    if (!reply || reply->type != PT_FIELD_STR) {
        h->text_printf(out, "(nil)");
        return;
    }
    bool is_err = err && err->type == PT_FIELD_BOOL && err->v.b;
    if (is_err)
        h->text_printf(out, "%s(error) ", color ? RD_RED : "");
    else if (str_is(type, "integer"))
        h->text_printf(out, "(integer) ");
    bool quoted = str_is(type, "bulk") || str_is(type, "verbatim");
    h->text_span(out, reply->v.str, cfg->max_reply_bytes, quoted);
    if (is_err && color)
        h->text_printf(out, RD_RESET);
}

static void put_latency(const rd_config *cfg, const pt_event *ev, pt_text *out)
{
    const pt_field *lat = field(ev, "latency_us");
    if (!lat || lat->type != PT_FIELD_INT)
        return;
    /* " 0.092ms", written here rather than through printf (one per event adds up) */
    char buf[32], *w = buf + sizeof buf;
    *--w = '\0';
    *--w = 's';
    *--w = 'm';
    uint64_t us = lat->v.i < 0 ? (uint64_t)0 - (uint64_t)lat->v.i : (uint64_t)lat->v.i;
    for (int i = 0; i < 3; i++, us /= 10)
        *--w = (char)('0' + us % 10);
    *--w = '.';
    do {
        *--w = (char)('0' + us % 10);
        us /= 10;
    } while (us);
    if (lat->v.i < 0)
        *--w = '-';
    *--w = ' ';
    cfg->host->text_printf(out, "%s", w);
}

void rd_format_text(void *plugin_state, const pt_event *ev, pt_text *out)
{
    const rd_config *cfg = plugin_state;
    const pt_host *h = cfg->host;
    if (!strcmp(ev->kind, "command")) {
        put_command(cfg, ev, out);
        h->text_printf(out, " -> ");
        put_reply(cfg, ev, out);
        put_latency(cfg, ev, out);
        const pt_field *blk = field(ev, "blocking");
        if (blk && blk->type == PT_FIELD_BOOL && blk->v.b)
            h->text_printf(out, " (blocked)");
    } else if (!strcmp(ev->kind, "push")) {
        bool color = h->text_color(out);
        const pt_field *kind = field(ev, "kind");
        h->text_printf(out, "%s>> ", color ? RD_CYAN : "");
        if (kind && kind->type == PT_FIELD_STR)
            h->text_span(out, kind->v.str, RD_KIND_MAX, false);
        static const char *const parts[] = {"pattern", "channel", "message", "data"};
        for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
            const pt_field *f = field(ev, parts[i]);
            if (f && f->type == PT_FIELD_STR) {
                h->text_printf(out, " ");
                h->text_span(out, f->v.str, cfg->max_reply_bytes, !strcmp(parts[i], "message"));
            }
        }
        if (color)
            h->text_printf(out, RD_RESET);
    } else if (!strcmp(ev->kind, "unanswered")) {
        const pt_field *reason = field(ev, "reason");
        if (str_is(field(ev, "side"), "reply")) {
            h->text_printf(out, "(no command) -> ");
            put_reply(cfg, ev, out);
        } else {
            put_command(cfg, ev, out);
            h->text_printf(out, " -> (unanswered: ");
            if (reason && reason->type == PT_FIELD_STR)
                h->text_span(out, reason->v.str, 32, false);
            h->text_printf(out, ")");
        }
    } else if (!strcmp(ev->kind, "parse_error")) {
        const pt_field *e = field(ev, "error");
        const pt_field *d = field(ev, "direction");
        const pt_field *o = field(ev, "offset");
        h->text_printf(out, "%sparse error in ", h->text_color(out) ? RD_RED : "");
        if (d && d->type == PT_FIELD_STR)
            h->text_span(out, d->v.str, 16, false);
        if (o && o->type == PT_FIELD_UINT)
            h->text_printf(out, " at byte %llu", (unsigned long long)o->v.u);
        h->text_printf(out, ": ");
        if (e && e->type == PT_FIELD_STR)
            h->text_span(out, e->v.str, 128, false);
        if (h->text_color(out))
            h->text_printf(out, RD_RESET);
    }
}
