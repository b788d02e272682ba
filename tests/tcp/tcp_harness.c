/* tcp_harness.c — crafted TCP segments and a recording consumer for the tcp unit tests. */
#include "tcp_harness.h"

#include <string.h>

static const uint8_t fake_l4[20];

static void rec_on_start(void *ctx, pt_flow *f, const pt_time *ts)
{
    rec *r = ctx;
    const pt_flow_info *fi = pt_flow_get_info(f);
    rec_flow *rf = g_new0(rec_flow, 1);
    g_strlcpy(rf->id, fi->id, sizeof rf->id);
    rf->client = fi->client;
    rf->server = fi->server;
    rf->data[0] = g_byte_array_new();
    rf->data[1] = g_byte_array_new();
    rf->log = g_string_new("S");
    rf->starts++;
    g_ptr_array_add(r->flows, rf);
    *pt_flow_user(f) = rf;
}

static void rec_on_data(void *ctx, pt_flow *f, pt_dir dir, const uint8_t *data, size_t len,
                        const pt_time *ts)
{
    rec_flow *rf = *pt_flow_user(f);
    g_assert(rf != NULL);
    g_byte_array_append(rf->data[dir], data, (guint)len);
    g_string_append_printf(rf->log, " D%d:%zu", (int)dir, len);
}

static void rec_on_gap(void *ctx, pt_flow *f, pt_dir dir, uint64_t missing, const pt_time *ts)
{
    rec_flow *rf = *pt_flow_user(f);
    g_assert(rf != NULL);
    rf->gaps[dir] += missing;
    g_string_append_printf(rf->log, " G%d:%llu", (int)dir, (unsigned long long)missing);
}

static const char *const reasons[] = {"fin", "rst", "timeout", "evicted", "eoc", "released"};

static void rec_on_end(void *ctx, pt_flow *f, pt_close_reason why, const pt_time *ts)
{
    rec_flow *rf = *pt_flow_user(f);
    g_assert(rf != NULL);
    rf->ends++;
    rf->why = why;
    rf->end_info = *pt_flow_get_info(f);
    g_string_append_printf(rf->log, " E:%s", reasons[why]);
}

static bool rec_is_server_port(void *ctx, uint16_t port)
{
    rec *r = ctx;
    for (guint i = 0; i < r->server_ports->len; i++) {
        if (g_array_index(r->server_ports, uint16_t, i) == port) {
            return true;
        }
    }
    return false;
}

static void rec_flow_free(gpointer p)
{
    rec_flow *rf = p;
    g_byte_array_unref(rf->data[0]);
    g_byte_array_unref(rf->data[1]);
    g_string_free(rf->log, TRUE);
    g_free(rf);
}

void rec_init(rec *r)
{
    r->flows = g_ptr_array_new_with_free_func(rec_flow_free);
    r->server_ports = g_array_new(FALSE, FALSE, sizeof(uint16_t));
}

void rec_clear(rec *r)
{
    g_ptr_array_unref(r->flows);
    g_array_unref(r->server_ports);
}

pt_tcp_consumer rec_consumer(rec *r)
{
    pt_tcp_consumer c = {
        .ctx = r,
        .on_start = rec_on_start,
        .on_data = rec_on_data,
        .on_gap = rec_on_gap,
        .on_end = rec_on_end,
        .is_server_port = rec_is_server_port,
    };
    return c;
}

rec_flow *rec_get(rec *r, guint i)
{
    return i < r->flows->len ? g_ptr_array_index(r->flows, i) : NULL;
}

hs_conn hs_v4(uint16_t cport, uint16_t sport)
{
    hs_conn c = {.cport = cport, .sport = sport};
    c.caddr.family = c.saddr.family = 4;
    memcpy(c.caddr.bytes, (const uint8_t[]){10, 0, 0, 1}, 4);
    memcpy(c.saddr.bytes, (const uint8_t[]){10, 0, 0, 2}, 4);
    return c;
}

hs_conn hs_v6(uint16_t cport, uint16_t sport)
{
    hs_conn c = {.cport = cport, .sport = sport};
    c.caddr.family = c.saddr.family = 6;
    c.caddr.bytes[0] = c.saddr.bytes[0] = 0x20;
    c.caddr.bytes[1] = c.saddr.bytes[1] = 0x01;
    c.caddr.bytes[15] = 1;
    c.saddr.bytes[15] = 2;
    return c;
}

pt_packet mk(const hs_conn *c, bool to_server, uint32_t seq, uint32_t ack, uint8_t flags,
             const char *data, size_t len, double t)
{
    pt_packet p;
    memset(&p, 0, sizeof p);
    p.ts.sec = (int64_t)t;
    p.ts.nsec = (uint32_t)((t - (double)p.ts.sec) * 1e9 + 0.5);
    if (p.ts.nsec >= 1000000000u) {
        p.ts.sec++;
        p.ts.nsec -= 1000000000u;
    }
    p.ip_version = c->caddr.family;
    p.ip_proto = 6;
    p.src = to_server ? c->caddr : c->saddr;
    p.dst = to_server ? c->saddr : c->caddr;
    p.sport = to_server ? c->cport : c->sport;
    p.dport = to_server ? c->sport : c->cport;
    p.l4 = fake_l4;
    p.l4_len = sizeof fake_l4 + len;
    p.seq = seq;
    p.ack = ack;
    p.tcp_flags = flags;
    p.wscale = -1;
    p.payload = (const uint8_t *)data;
    p.payload_len = len;
    p.payload_wire_len = len;
    p.caplen = p.wirelen = (uint32_t)(54 + len);
    return p;
}

void hs_handshake(pt_tcp *tcp, const hs_conn *c, uint32_t ci, uint32_t si, double t)
{
    pt_packet p = mk(c, true, ci, 0, PT_TCP_SYN, NULL, 0, t);
    p.mss = 1460;
    pt_tcp_packet(tcp, &p);
    p = mk(c, false, si, ci + 1, PT_TCP_SYN | PT_TCP_ACK, NULL, 0, t + 0.01);
    p.mss = 1460;
    pt_tcp_packet(tcp, &p);
    p = mk(c, true, ci + 1, si + 1, PT_TCP_ACK, NULL, 0, t + 0.02);
    pt_tcp_packet(tcp, &p);
}
