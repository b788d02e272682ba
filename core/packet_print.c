/* packet_print.c — the `--packets` line: "HH:MM:SS.uuuuuu link src -> dst proto details".
 * TCP flags are printed like tcpdump ([S], [S.], [P.], [F.], [R], [.]). */
#include "packet_print.h"

#include <stdarg.h>
#include <string.h>
#include <time.h>

#include <pcap/dlt.h>

#include "addr.h"

/* Link types libpcap may report for raw IP (DLT_RAW is 12 or 14 depending on the OS). */
#define PT_DLT_RAW_12  12
#define PT_DLT_RAW_14  14
#define PT_DLT_RAW_101 101

/* A bounded string being built; `len` keeps counting past `size` like snprintf. */
typedef struct pt_line {
    char *buf;
    size_t size;
    size_t len;
} pt_line;

static void pt_line_printf(pt_line *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void pt_line_printf(pt_line *l, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t room = l->len < l->size ? l->size - l->len : 0;
    int n = vsnprintf(room > 0 ? l->buf + l->len : NULL, room, fmt, ap);
    va_end(ap);
    if (n > 0) {
        l->len += (size_t)n;
    }
}

/* The short name of a link type as printed: "eth", "sll", "null", "raw", ... */
static const char *pt_packet_print_link_name(int dlt)
{
    switch (dlt) {
    case DLT_EN10MB:
        return "eth";
    case DLT_LINUX_SLL:
        return "sll";
    case DLT_LINUX_SLL2:
        return "sll2";
    case DLT_NULL:
        return "null";
    case DLT_LOOP:
        return "loop";
    case PT_DLT_RAW_12:
    case PT_DLT_RAW_14:
    case PT_DLT_RAW_101:
    case DLT_IPV4:
    case DLT_IPV6:
        return "raw";
    default:
        return "link";
    }
}

/* Local time of day "HH:MM:SS", cached per second: localtime_r is too slow per packet. */
static void pt_packet_print_time(pt_line *l, const pt_time *ts)
{
    static _Thread_local int64_t cached_sec = INT64_MIN;
    static _Thread_local char cached[16];
    if (ts->sec != cached_sec) {
        time_t t = (time_t)ts->sec;
        struct tm tm;
        if (localtime_r(&t, &tm) == NULL) {
            memset(&tm, 0, sizeof(tm));
        }
        snprintf(cached, sizeof(cached), "%02d:%02d:%02d", tm.tm_hour, tm.tm_min, tm.tm_sec);
        cached_sec = ts->sec;
    }
    pt_line_printf(l, "%s.%06u", cached, (unsigned)(ts->nsec / 1000) % 1000000u);
}

/* "eth", "vlan 10", "vlan 100,10", "eth mpls 16", "sll", ..., then the tunnel the packet
 * was taken out of ("eth gre", "eth teredo"; the innermost one when nested). */
static void pt_packet_print_link(pt_line *l, const pt_packet *p)
{
    if (p->n_vlan > 0) {
        pt_line_printf(l, " vlan");
        for (unsigned i = 0; i < p->n_vlan && i < PT_MAX_VLAN; i++) {
            pt_line_printf(l, "%c%u", i == 0 ? ' ' : ',', p->vlan[i]);
        }
    } else {
        pt_line_printf(l, " %s", pt_packet_print_link_name(p->linktype));
    }
    if (p->n_mpls > 0) {
        pt_line_printf(l, " mpls");
        for (unsigned i = 0; i < p->n_mpls && i < PT_MAX_MPLS; i++) {
            pt_line_printf(l, "%c%u", i == 0 ? ' ' : ',', p->mpls[i]);
        }
    }
    if (p->n_tunnels > 0) {
        pt_line_printf(l, " %s", pt_tunnel_name(p->tunnel));
    }
}

/* tcpdump's flag letters, in tcpdump's order; '.' is ACK. */
static void pt_packet_print_flags(pt_line *l, uint8_t flags)
{
    static const struct {
        uint8_t bit;
        char c;
    } names[] = {{PT_TCP_FIN, 'F'}, {PT_TCP_SYN, 'S'}, {PT_TCP_RST, 'R'}, {PT_TCP_PSH, 'P'},
                 {PT_TCP_ACK, '.'}, {PT_TCP_URG, 'U'}, {PT_TCP_ECE, 'E'}, {PT_TCP_CWR, 'W'}};
    pt_line_printf(l, " [");
    if (flags == 0) {
        pt_line_printf(l, "none");
    }
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (flags & names[i].bit) {
            pt_line_printf(l, "%c", names[i].c);
        }
    }
    pt_line_printf(l, "]");
}

/* Name of an ICMP (v4) or ICMPv6 type, or NULL. */
static const char *pt_packet_icmp_name(uint8_t proto, uint8_t type)
{
    if (proto == 1) {
        switch (type) {
        case 0:
            return "echo reply";
        case 3:
            return "unreachable";
        case 5:
            return "redirect";
        case 8:
            return "echo request";
        case 11:
            return "time exceeded";
        default:
            return NULL;
        }
    }
    switch (type) {
    case 1:
        return "unreachable";
    case 2:
        return "packet too big";
    case 3:
        return "time exceeded";
    case 128:
        return "echo request";
    case 129:
        return "echo reply";
    case 133:
        return "router solicitation";
    case 134:
        return "router advertisement";
    case 135:
        return "neighbor solicitation";
    case 136:
        return "neighbor advertisement";
    default:
        return NULL;
    }
}

/* "src -> dst" with ports when the transport has them, else bare addresses. */
static void pt_packet_print_addrs(pt_line *l, const pt_packet *p, bool ports)
{
    if (ports) {
        char a[PT_ENDPOINT_STRLEN], b[PT_ENDPOINT_STRLEN];
        pt_endpoint s = {.addr = p->src, .port = p->sport};
        pt_endpoint d = {.addr = p->dst, .port = p->dport};
        pt_line_printf(l, " %s -> %s", pt_endpoint_format(&s, a), pt_endpoint_format(&d, b));
    } else {
        char a[PT_ADDR_STRLEN], b[PT_ADDR_STRLEN];
        pt_line_printf(l, " %s -> %s", pt_addr_format(&p->src, a, sizeof(a)),
                       pt_addr_format(&p->dst, b, sizeof(b)));
    }
}

/* Payload length as on the wire, and how much of it was captured when less. */
static void pt_packet_print_len(pt_line *l, const pt_packet *p)
{
    pt_line_printf(l, " len %zu", p->payload_wire_len);
    if (p->payload_len < p->payload_wire_len) {
        pt_line_printf(l, " (captured %zu)", p->payload_len);
    }
}

/* The part after the link for a decoded IP packet. */
static void pt_packet_print_ip(pt_line *l, const pt_packet *p)
{
    if (p->is_fragment) {
        pt_packet_print_addrs(l, p, false);
        pt_line_printf(l, " %s frag id %u off %u len %zu%s", p->ip_version == 6 ? "ip6" : "ip",
                       (unsigned)p->ip_id, (unsigned)p->frag_offset, p->frag_payload_len,
                       p->more_fragments ? " more" : "");
        return;
    }
    switch (p->ip_proto) {
    case 6:
        pt_packet_print_addrs(l, p, true);
        pt_line_printf(l, " tcp");
        pt_packet_print_flags(l, p->tcp_flags);
        pt_line_printf(l, " seq %u", p->seq);
        if (p->tcp_flags & PT_TCP_ACK) {
            pt_line_printf(l, " ack %u", p->ack);
        }
        pt_line_printf(l, " win %u", p->window);
        pt_packet_print_len(l, p);
        break;
    case 17:
        pt_packet_print_addrs(l, p, true);
        pt_line_printf(l, " udp");
        pt_packet_print_len(l, p);
        break;
    case 1:
    case 58: {
        pt_packet_print_addrs(l, p, false);
        const char *name = pt_packet_icmp_name(p->ip_proto, p->icmp_type);
        pt_line_printf(l, " %s", p->ip_proto == 1 ? "icmp" : "icmp6");
        if (name != NULL) {
            pt_line_printf(l, " %s", name);
        } else {
            pt_line_printf(l, " type %u", p->icmp_type);
        }
        if (p->icmp_code != 0) {
            pt_line_printf(l, " code %u", p->icmp_code);
        }
        pt_line_printf(l, " len %zu", p->l4_len);
        break;
    }
    default:
        pt_packet_print_addrs(l, p, false);
        pt_line_printf(l, " %s proto %u len %zu", p->ip_version == 6 ? "ip6" : "ip", p->ip_proto,
                       p->l4 != NULL ? p->l4_len : p->l3_len);
        break;
    }
}

/* The part after the link for a frame that is not IP. */
static void pt_packet_print_non_ip(pt_line *l, const pt_packet *p)
{
    switch (p->ethertype) {
    case 0x0806:
        pt_line_printf(l, " arp");
        break;
    case 0x8035:
        pt_line_printf(l, " rarp");
        break;
    case 0:
        pt_line_printf(l, " unknown");
        break;
    default:
        pt_line_printf(l, " ethertype 0x%04x", p->ethertype);
        break;
    }
    pt_line_printf(l, " len %u", p->wirelen);
}

size_t pt_packet_format(const pt_packet *p, pt_packet_status status, char *buf, size_t size)
{
    pt_line l = {.buf = buf, .size = size, .len = 0};
    if (size > 0) {
        buf[0] = '\0';
    }
    pt_packet_print_time(&l, &p->ts);
    pt_packet_print_link(&l, p);
    if (status == PT_PACKET_TRUNCATED || status == PT_PACKET_MALFORMED) {
        if (p->ip_version != 0 && p->src.family != 0) {
            pt_packet_print_addrs(&l, p, false);
        }
        pt_line_printf(&l, " %s", status == PT_PACKET_TRUNCATED ? "truncated" : "malformed");
        if (p->why != NULL) {
            pt_line_printf(&l, ": %s", p->why);
        }
        pt_line_printf(&l, " (captured %u of %u bytes)", p->caplen, p->wirelen);
        return l.len;
    }
    if (p->ip_version != 0) {
        pt_packet_print_ip(&l, p);
    } else {
        pt_packet_print_non_ip(&l, p);
    }
    if (status == PT_PACKET_REASSEMBLED) {
        pt_line_printf(&l, " (reassembled)");
    }
    return l.len;
}

void pt_packet_print_line(FILE *out, const pt_packet *pkt, pt_packet_status status)
{
    char line[PT_PACKET_LINE_MAX + 1];
    size_t n = pt_packet_format(pkt, status, line, sizeof(line) - 1);
    if (n > sizeof(line) - 2) {
        n = sizeof(line) - 2;
    }
    line[n] = '\n';
    fwrite(line, 1, n + 1, out);
}
