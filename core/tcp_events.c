/* tcp_events.c — the built-in `tcp` event source (JSON names per issue 3) and its text
 * form, one readable line per connection start and end like node_pcap's tcp_metrics. */
#include "tcp_events.h"

#include <inttypes.h>
#include <string.h>

#define TCP_FIELDS_MAX 24

static const char *const dir_names[2] = {"to_server", "to_client"};

static const pt_field *field_get(const pt_event *ev, const char *name)
{
    for (size_t i = 0; i < ev->n_fields; i++) {
        if (strcmp(ev->fields[i].name, name) == 0) {
            return &ev->fields[i];
        }
    }
    return NULL;
}

static uint64_t field_u(const pt_event *ev, const char *name)
{
    const pt_field *f = field_get(ev, name);
    if (f == NULL) {
        return 0;
    }
    if (f->type == PT_FIELD_UINT) {
        return f->v.u;
    }
    if (f->type == PT_FIELD_INT && f->v.i > 0) {
        return (uint64_t)f->v.i;
    }
    return 0;
}

/* The field's string value, or "" when absent. */
static pt_span field_s(const pt_event *ev, const char *name)
{
    const pt_field *f = field_get(ev, name);
    if (f == NULL || f->type != PT_FIELD_STR) {
        return PT_SPAN("", 0);
    }
    return f->v.str;
}

/* " rtt 0.512 ms" when the handshake was measured. */
static void text_rtt(const pt_event *ev, pt_text *out)
{
    const pt_field *f = field_get(ev, "rtt_us");
    if (f != NULL && f->type == PT_FIELD_INT && f->v.i >= 0) {
        pt_text_printf(out, " rtt %" PRId64 ".%03" PRId64 " ms", f->v.i / 1000, f->v.i % 1000);
    }
}

/* Renders the tcp events after the envelope. */
static void tcp_format_text(void *ctx, const pt_event *ev, pt_text *out)
{
    (void)ctx;
    bool color = pt_text_color(out);
    const char *on = color ? "\033[1m" : "", *off = color ? "\033[0m" : "";
    if (strcmp(ev->kind, "tcp_start") == 0) {
        const pt_field *hs = field_get(ev, "handshake");
        bool handshake = hs != NULL && hs->type == PT_FIELD_BOOL && hs->v.b;
        pt_text_printf(out, "%stcp start%s %s", on, off, handshake ? "handshake" : "mid-stream");
        text_rtt(ev, out);
    } else if (strcmp(ev->kind, "tcp_end") == 0) {
        uint64_t dur = field_u(ev, "duration_us");
        pt_text_printf(out, "%stcp end%s ", on, off);
        pt_text_span(out, field_s(ev, "reason"), 32, false);
        pt_text_printf(out,
                       " after %" PRIu64 ".%06" PRIu64 " s: to server %" PRIu64 " pkts %" PRIu64
                       " B, to client %" PRIu64 " pkts %" PRIu64 " B",
                       dur / 1000000, dur % 1000000, field_u(ev, "packets_to_server"),
                       field_u(ev, "bytes_to_server"), field_u(ev, "packets_to_client"),
                       field_u(ev, "bytes_to_client"));
        uint64_t rtx = field_u(ev, "retransmits"), ooo = field_u(ev, "out_of_order");
        uint64_t gs = field_u(ev, "gap_bytes_to_server"), gc = field_u(ev, "gap_bytes_to_client");
        if (rtx != 0 || ooo != 0 || gs != 0 || gc != 0) {
            pt_text_printf(out,
                           "; retransmits %" PRIu64 ", out of order %" PRIu64 ", gaps %" PRIu64
                           "/%" PRIu64 " B",
                           rtx, ooo, gs, gc);
        }
        text_rtt(ev, out);
    } else if (strcmp(ev->kind, "retransmit") == 0) {
        pt_text_printf(out, "tcp retransmit ");
        pt_text_span(out, field_s(ev, "dir"), 16, false);
        pt_text_printf(out, " seq %" PRIu64 " %" PRIu64 " B (%" PRIu64 " differ)",
                       field_u(ev, "seq"), field_u(ev, "bytes"), field_u(ev, "conflict_bytes"));
    } else if (strcmp(ev->kind, "reset") == 0) {
        pt_text_printf(out, "tcp reset by ");
        pt_text_span(out, field_s(ev, "by"), 16, false);
    } else if (strcmp(ev->kind, "gap") == 0) {
        pt_text_printf(out, "tcp gap ");
        pt_text_span(out, field_s(ev, "dir"), 16, false);
        pt_text_printf(out, " %" PRIu64 " B missing", field_u(ev, "bytes"));
    } else if (strcmp(ev->kind, "syn_retry") == 0) {
        pt_text_printf(out, "tcp syn retry #%" PRIu64, field_u(ev, "syn_retries"));
    }
}

/* Emit one tcp event with the flow's envelope. */
static void tcp_emit(pt_events *bus, const pt_flow_info *fi, const char *kind, const pt_time *ts,
                     const pt_field *fields, size_t n)
{
    pt_envelope env = {
        .proto = "tcp",
        .flow_id = fi->id,
        .client = &fi->client,
        .server = &fi->server,
        .format_text = tcp_format_text,
        .format_ctx = NULL,
    };
    pt_event ev = {.kind = kind, .ts = *ts, .fields = fields, .n_fields = n};
    pt_events_emit(bus, &env, &ev);
}

static pt_field rtt_field(const char *name, int64_t us)
{
    return us >= 0 ? PT_F_INT(name, us) : PT_F_NULL(name);
}

void pt_tcp_events_start(pt_events *bus, const pt_flow_info *fi, const pt_time *ts)
{
    pt_field f[] = {
        PT_F_BOOL("handshake", fi->saw_syn),
        rtt_field("rtt_us", fi->rtt_us),
        PT_F_UINT("syn_retries", fi->syn_retries),
    };
    tcp_emit(bus, fi, "tcp_start", ts, f, sizeof f / sizeof f[0]);
}

void pt_tcp_events_end(pt_events *bus, const pt_flow_info *fi, pt_close_reason why,
                       const pt_time *ts)
{
    const pt_tcp_dir_stats *s = &fi->dir[PT_DIR_TO_SERVER], *c = &fi->dir[PT_DIR_TO_CLIENT];
    const char *reason = pt_close_reason_name(why);
    int64_t dur = pt_time_diff_us(&fi->last_ts, &fi->first_ts);
    pt_field f[TCP_FIELDS_MAX];
    size_t n = 0;
    f[n++] = PT_F_STR("reason", PT_SPAN(reason, strlen(reason)));
    f[n++] = PT_F_UINT("packets_to_server", s->packets);
    f[n++] = PT_F_UINT("packets_to_client", c->packets);
    f[n++] = PT_F_UINT("bytes_to_server", s->bytes);
    f[n++] = PT_F_UINT("bytes_to_client", c->bytes);
    f[n++] = PT_F_UINT("gap_bytes_to_server", s->gap_bytes);
    f[n++] = PT_F_UINT("gap_bytes_to_client", c->gap_bytes);
    f[n++] = PT_F_UINT("retransmits", s->retransmits + c->retransmits);
    f[n++] = PT_F_UINT("retransmit_bytes_to_server", s->retransmit_bytes);
    f[n++] = PT_F_UINT("retransmit_bytes_to_client", c->retransmit_bytes);
    f[n++] = PT_F_UINT("overlap_conflicts", s->overlap_conflicts + c->overlap_conflicts);
    f[n++] = PT_F_UINT("out_of_order", s->out_of_order + c->out_of_order);
    f[n++] = PT_F_UINT("unseen_acks", s->unseen_acks + c->unseen_acks);
    f[n++] = rtt_field("rtt_us", fi->rtt_us);
    f[n++] = rtt_field("rtt_server_us", fi->rtt_server_us);
    f[n++] = rtt_field("rtt_client_us", fi->rtt_client_us);
    f[n++] = PT_F_UINT("syn_retries", fi->syn_retries);
    f[n++] = PT_F_BOOL("handshake", fi->saw_syn);
    f[n++] = PT_F_INT("duration_us", dur > 0 ? dur : 0);
    tcp_emit(bus, fi, "tcp_end", ts, f, n);
}

void pt_tcp_events_retransmit(pt_events *bus, const pt_flow_info *fi, pt_dir dir, uint32_t seq,
                              uint64_t bytes, uint64_t conflict, const pt_time *ts)
{
    pt_field f[] = {
        PT_F_STR("dir", PT_SPAN(dir_names[dir], strlen(dir_names[dir]))),
        PT_F_UINT("seq", seq),
        PT_F_UINT("bytes", bytes),
        PT_F_UINT("conflict_bytes", conflict),
    };
    tcp_emit(bus, fi, "retransmit", ts, f, sizeof f / sizeof f[0]);
}

void pt_tcp_events_reset(pt_events *bus, const pt_flow_info *fi, pt_dir dir, const pt_time *ts)
{
    const char *by = dir == PT_DIR_TO_SERVER ? "client" : "server";
    pt_field f[] = {PT_F_STR("by", PT_SPAN(by, strlen(by)))};
    tcp_emit(bus, fi, "reset", ts, f, sizeof f / sizeof f[0]);
}

void pt_tcp_events_gap(pt_events *bus, const pt_flow_info *fi, pt_dir dir, uint64_t missing,
                       const pt_time *ts)
{
    pt_field f[] = {
        PT_F_STR("dir", PT_SPAN(dir_names[dir], strlen(dir_names[dir]))),
        PT_F_UINT("bytes", missing),
    };
    tcp_emit(bus, fi, "gap", ts, f, sizeof f / sizeof f[0]);
}

void pt_tcp_events_syn_retry(pt_events *bus, const pt_flow_info *fi, uint32_t retries,
                             const pt_time *ts)
{
    pt_field f[] = {PT_F_UINT("syn_retries", retries)};
    tcp_emit(bus, fi, "syn_retry", ts, f, sizeof f / sizeof f[0]);
}
