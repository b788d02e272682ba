/* pt_mockpcap.c — the test kit's capture-file feeder: reads a pcap/pcapng file with libpcap,
 * decodes just enough (link layer, IPv4 RFC 791, IPv6 RFC 8200, TCP RFC 9293) to cut it into
 * TCP connections, sequences each direction and hands the payload to the mock's plugin in
 * capture order. Deliberately simpler than the core: no reassembly buffer (see testkit.h). */
#include <pcap/pcap.h>
#include <stdlib.h>
#include <string.h>

#include "pt_mock_internal.h"

/* Longest IPv6 extension header chain followed before giving up on a packet. */
#define PT_MOCK_MAX_V6_EXT 16
/* Longest VLAN tag stack skipped on Ethernet. */
#define PT_MOCK_MAX_VLAN 8

/* What the decoder extracts from one frame. */
typedef struct frame {
    uint8_t family; /* 4 or 6 */
    uint8_t src[16], dst[16];
    uint16_t sport, dport;
    uint32_t seq;
    uint8_t flags;
    const uint8_t *payload;
    size_t len;      /* payload bytes present */
    size_t wire_len; /* payload bytes on the wire (>= len when the snaplen cut it) */
} frame;

enum { DEC_TCP, DEC_OTHER, DEC_FRAGMENT, DEC_BAD };

enum { TCP_FIN = 0x01, TCP_SYN = 0x02, TCP_RST = 0x04, TCP_ACK = 0x10 };

/* A connection as the feeder tracks it. The key is the canonical 5-tuple (lower endpoint
 * first) so both directions find the same flow. */
typedef struct flow_key {
    uint8_t family;
    uint8_t a[16], b[16];
    uint16_t pa, pb;
} flow_key;

typedef enum flow_state { FLOW_PROBING, FLOW_ACTIVE, FLOW_IGNORED } flow_state;

typedef struct probe_chunk {
    pt_dir dir;
    pt_time ts;
    GByteArray *bytes;
} probe_chunk;

typedef struct kit_flow {
    flow_key key;
    pt_endpoint client, server;
    flow_state state;
    pt_mock_stream *stream;
    bool seq_known[2];
    uint32_t next[2];
    bool fin[2];
    size_t probe_len[2];
    GPtrArray *chunks; /* probe_chunk*, arrival order, while probing */
} kit_flow;

typedef struct feeder {
    pt_mockhost *m;
    const pt_mock_pcap_opts *opts;
    const uint16_t *ports;
    uint32_t max_flows;
    GHashTable *flows; /* flow_key* -> kit_flow* */
    pt_mock_pcap_stats *st;
    pt_time now;
} feeder;

static uint16_t be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* TCP header at `p` (len bytes up to the end of the IP payload, caplen-clipped).
 * `wire` is what the IP header claims for the TCP segment. */
static int decode_tcp(const uint8_t *p, size_t len, size_t wire, frame *f)
{
    if (len < 20) {
        return DEC_BAD;
    }
    size_t hlen = (size_t)(p[12] >> 4) * 4;
    if (hlen < 20 || hlen > len) {
        return DEC_BAD;
    }
    f->sport = be16(p);
    f->dport = be16(p + 2);
    f->seq = be32(p + 4);
    f->flags = p[13];
    f->payload = p + hlen;
    f->len = len - hlen;
    f->wire_len = wire > hlen ? wire - hlen : 0;
    if (f->wire_len < f->len) {
        f->wire_len = f->len;
    }
    return DEC_TCP;
}

static int decode_ipv4(const uint8_t *p, size_t len, frame *f)
{
    if (len < 20 || (p[0] >> 4) != 4) {
        return DEC_BAD;
    }
    size_t ihl = (size_t)(p[0] & 0x0f) * 4;
    size_t total = be16(p + 2);
    if (ihl < 20 || ihl > len || total < ihl) {
        return DEC_BAD;
    }
    uint16_t frag = be16(p + 6);
    if ((frag & 0x3fff) != 0) {
        return DEC_FRAGMENT;
    }
    if (p[9] != 6) {
        return DEC_OTHER;
    }
    f->family = 4;
    memcpy(f->src, p + 12, 4);
    memcpy(f->dst, p + 16, 4);
    size_t present = (total < len ? total : len) - ihl;
    return decode_tcp(p + ihl, present, total - ihl, f);
}

static int decode_ipv6(const uint8_t *p, size_t len, frame *f)
{
    if (len < 40 || (p[0] >> 4) != 6) {
        return DEC_BAD;
    }
    size_t plen = be16(p + 4);
    size_t end = plen == 0 ? len : (40 + plen < len ? 40 + plen : len);
    size_t wire_end = plen == 0 ? len : 40 + plen;
    uint8_t next = p[6];
    size_t off = 40;
    for (int i = 0; i < PT_MOCK_MAX_V6_EXT; i++) {
        if (next == 6) {
            f->family = 6;
            memcpy(f->src, p + 8, 16);
            memcpy(f->dst, p + 24, 16);
            return decode_tcp(p + off, end - off, wire_end - off, f);
        }
        if (next == 44) {
            return DEC_FRAGMENT;
        }
        if (next != 0 && next != 43 && next != 60 && next != 51) {
            return DEC_OTHER;
        }
        if (end - off < 8) {
            return DEC_BAD;
        }
        size_t hl = next == 51 ? ((size_t)p[off + 1] + 2) * 4 : ((size_t)p[off + 1] + 1) * 8;
        if (hl > end - off) {
            return DEC_BAD;
        }
        next = p[off];
        off += hl;
    }
    return DEC_BAD;
}

static int decode_ip(uint16_t ethertype, const uint8_t *p, size_t len, frame *f)
{
    if (ethertype == 0x0800) {
        return decode_ipv4(p, len, f);
    }
    if (ethertype == 0x86dd) {
        return decode_ipv6(p, len, f);
    }
    return DEC_OTHER;
}

/* Raw IP: the version nibble says which. */
static int decode_raw(const uint8_t *p, size_t len, frame *f)
{
    if (len < 1) {
        return DEC_BAD;
    }
    return decode_ip((p[0] >> 4) == 6 ? 0x86dd : 0x0800, p, len, f);
}

/* BSD loopback: a 4-byte address family, host order (NULL) or network order (LOOP). The
 * IPv6 value differs between OSes (24, 28, 30), so every known one is accepted. */
static int decode_null(const uint8_t *p, size_t len, frame *f)
{
    if (len < 4) {
        return DEC_BAD;
    }
    uint32_t le =
        (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    uint32_t fam = le <= 0xffff ? le : be32(p);
    if (fam == 2) {
        return decode_ipv4(p + 4, len - 4, f);
    }
    if (fam == 10 || fam == 24 || fam == 28 || fam == 30) {
        return decode_ipv6(p + 4, len - 4, f);
    }
    return DEC_OTHER;
}

static int decode_frame(int dlt, const uint8_t *p, size_t len, frame *f)
{
    switch (dlt) {
    case DLT_EN10MB: {
        if (len < 14) {
            return DEC_BAD;
        }
        size_t off = 12;
        uint16_t et = be16(p + off);
        for (int i = 0; i < PT_MOCK_MAX_VLAN && (et == 0x8100 || et == 0x88a8 || et == 0x9100);
             i++) {
            off += 4;
            if (len - off < 2) {
                return DEC_BAD;
            }
            et = be16(p + off);
        }
        off += 2;
        return decode_ip(et, p + off, len - off, f);
    }
    case DLT_LINUX_SLL:
        return len < 16 ? DEC_BAD : decode_ip(be16(p + 14), p + 16, len - 16, f);
#ifdef DLT_LINUX_SLL2
    case DLT_LINUX_SLL2:
        return len < 20 ? DEC_BAD : decode_ip(be16(p), p + 20, len - 20, f);
#endif
    case DLT_NULL:
    case DLT_LOOP:
        return decode_null(p, len, f);
    case DLT_RAW:
#ifdef DLT_IPV4
    case DLT_IPV4:
    case DLT_IPV6:
#endif
        return decode_raw(p, len, f);
    default:
        return DEC_OTHER;
    }
}

/* ---- flows ------------------------------------------------------------------------------- */

static guint key_hash(gconstpointer k)
{
    const flow_key *f = k;
    guint h = 2166136261u;
    const uint8_t *b = (const uint8_t *)f;
    for (size_t i = 0; i < sizeof *f; i++) {
        h = (h ^ b[i]) * 16777619u;
    }
    return h;
}

static gboolean key_equal(gconstpointer a, gconstpointer b)
{
    return memcmp(a, b, sizeof(flow_key)) == 0;
}

static void chunk_free(gpointer p)
{
    probe_chunk *c = p;
    g_byte_array_free(c->bytes, TRUE);
    g_free(c);
}

static void flow_free(gpointer p)
{
    kit_flow *fl = p;
    if (fl->chunks != NULL) {
        g_ptr_array_free(fl->chunks, TRUE);
    }
    g_free(fl);
}

/* Build the canonical key; *forward says whether (src, sport) is the key's `a` side. */
static void make_key(const frame *f, flow_key *k, bool *forward)
{
    size_t n = f->family == 4 ? 4 : 16;
    memset(k, 0, sizeof *k);
    k->family = f->family;
    int c = memcmp(f->src, f->dst, n);
    *forward = c < 0 || (c == 0 && f->sport <= f->dport);
    memcpy(k->a, *forward ? f->src : f->dst, n);
    memcpy(k->b, *forward ? f->dst : f->src, n);
    k->pa = *forward ? f->sport : f->dport;
    k->pb = *forward ? f->dport : f->sport;
}

static bool is_server_port(const feeder *fd, uint16_t port)
{
    for (const uint16_t *p = fd->ports; p != NULL && *p != 0; p++) {
        if (*p == port) {
            return true;
        }
    }
    return false;
}

static void set_endpoint(pt_endpoint *ep, uint8_t family, const uint8_t *addr, uint16_t port)
{
    memset(ep, 0, sizeof *ep);
    ep->addr.family = family;
    memcpy(ep->addr.bytes, addr, family == 4 ? 4 : 16);
    ep->port = port;
}

/* Open the mock stream for a flow; false when the plugin declined it. */
static bool flow_activate(feeder *fd, kit_flow *fl)
{
    fl->stream = pt_mock_stream_open_ep(fd->m, &fl->client, &fl->server);
    if (fl->stream == NULL) {
        fl->state = FLOW_IGNORED;
        return false;
    }
    fl->state = FLOW_ACTIVE;
    fd->st->streams++;
    return true;
}

static kit_flow *flow_new(feeder *fd, const frame *f, const flow_key *k)
{
    if (g_hash_table_size(fd->flows) >= fd->max_flows) {
        fd->st->flows_dropped++;
        return NULL;
    }
    kit_flow *fl = g_new0(kit_flow, 1);
    memcpy(&fl->key, k, sizeof fl->key);
    /* Who is the client: the SYN's sender, else the side not on a server port, else the
     * higher port. */
    bool sender_is_client;
    if ((f->flags & (TCP_SYN | TCP_ACK)) == TCP_SYN) {
        sender_is_client = true;
    } else if ((f->flags & (TCP_SYN | TCP_ACK)) == (TCP_SYN | TCP_ACK)) {
        sender_is_client = false;
    } else if (is_server_port(fd, f->dport)) {
        sender_is_client = true;
    } else if (is_server_port(fd, f->sport)) {
        sender_is_client = false;
    } else {
        sender_is_client = f->sport >= f->dport;
    }
    if (sender_is_client) {
        set_endpoint(&fl->client, f->family, f->src, f->sport);
        set_endpoint(&fl->server, f->family, f->dst, f->dport);
    } else {
        set_endpoint(&fl->client, f->family, f->dst, f->dport);
        set_endpoint(&fl->server, f->family, f->src, f->sport);
    }
    g_hash_table_insert(fd->flows, &fl->key, fl);
    fd->st->flows++;
    if (fd->opts->all_ports || is_server_port(fd, fl->server.port)) {
        flow_activate(fd, fl);
    } else {
        fl->state = FLOW_PROBING;
        fl->chunks = g_ptr_array_new_with_free_func(chunk_free);
    }
    return fl;
}

/* Replay what was held while probing, in arrival order. */
static void flow_replay(feeder *fd, kit_flow *fl)
{
    GPtrArray *chunks = fl->chunks;
    fl->chunks = NULL;
    for (guint i = 0; i < chunks->len && fl->state == FLOW_ACTIVE; i++) {
        probe_chunk *c = g_ptr_array_index(chunks, i);
        if (pt_mock_feed(fl->stream, c->dir, c->bytes->data, c->bytes->len, &c->ts) != PT_FEED_OK) {
            fl->state = FLOW_IGNORED;
        }
    }
    g_ptr_array_free(chunks, TRUE);
}

/* Hold bytes of a probing flow and ask probe() about the direction's bytes so far. */
static void flow_probe(feeder *fd, kit_flow *fl, pt_dir dir, const uint8_t *p, size_t len)
{
    size_t room = PT_MOCK_PCAP_PROBE_BYTES - fl->probe_len[dir];
    if (len > room) {
        len = room;
    }
    probe_chunk *c = g_new0(probe_chunk, 1);
    c->dir = dir;
    c->ts = fd->now;
    c->bytes = g_byte_array_sized_new((guint)len);
    g_byte_array_append(c->bytes, p, (guint)len);
    g_ptr_array_add(fl->chunks, c);
    fl->probe_len[dir] += len;

    GByteArray *all = g_byte_array_sized_new((guint)fl->probe_len[dir]);
    for (guint i = 0; i < fl->chunks->len; i++) {
        probe_chunk *h = g_ptr_array_index(fl->chunks, i);
        if (h->dir == dir) {
            g_byte_array_append(all, h->bytes->data, h->bytes->len);
        }
    }
    pt_probe_result r = pt_mock_probe(fd->m, dir, all->data, all->len);
    g_byte_array_free(all, TRUE);
    if (r == PT_PROBE_YES) {
        if (flow_activate(fd, fl)) {
            flow_replay(fd, fl);
        }
    } else if (r == PT_PROBE_NO || fl->probe_len[dir] >= PT_MOCK_PCAP_PROBE_BYTES) {
        fl->state = FLOW_IGNORED;
        g_ptr_array_free(fl->chunks, TRUE);
        fl->chunks = NULL;
    }
}

static void flow_deliver(feeder *fd, kit_flow *fl, pt_dir dir, const uint8_t *p, size_t len)
{
    if (len == 0) {
        return;
    }
    if (fl->state == FLOW_PROBING) {
        flow_probe(fd, fl, dir, p, len);
        return;
    }
    if (fl->state != FLOW_ACTIVE) {
        return;
    }
    fd->st->payload_bytes += len;
    if (pt_mock_feed(fl->stream, dir, p, len, &fd->now) != PT_FEED_OK) {
        fl->state = FLOW_IGNORED;
    }
}

static void flow_gap(feeder *fd, kit_flow *fl, pt_dir dir, uint64_t missing)
{
    fd->st->gap_bytes += missing;
    if (fl->state == FLOW_ACTIVE) {
        pt_mock_gap(fl->stream, dir, missing, &fd->now);
    } else if (fl->state == FLOW_PROBING) {
        fl->state = FLOW_IGNORED;
        g_ptr_array_free(fl->chunks, TRUE);
        fl->chunks = NULL;
    }
}

static void flow_end(feeder *fd, kit_flow *fl, pt_close_reason why)
{
    if (fl->state == FLOW_ACTIVE && pt_mock_stream_is_open(fl->stream)) {
        pt_mock_close(fl->stream, why, &fd->now);
    }
    g_hash_table_remove(fd->flows, &fl->key);
}

/* Sequence one segment's payload: drop what was seen, report skipped bytes as a gap. */
static void flow_segment(feeder *fd, kit_flow *fl, pt_dir dir, const frame *f)
{
    uint32_t seq = f->seq + ((f->flags & TCP_SYN) ? 1u : 0u);
    if (f->flags & TCP_SYN) {
        fl->seq_known[dir] = true;
        fl->next[dir] = seq;
    }
    if (f->wire_len == 0) {
        return;
    }
    if (!fl->seq_known[dir]) {
        fl->seq_known[dir] = true;
        fl->next[dir] = seq;
    }
    const uint8_t *p = f->payload;
    size_t len = f->len;
    size_t wire = f->wire_len;
    int32_t d = (int32_t)(seq - fl->next[dir]);
    if (d < 0) {
        uint64_t old = (uint64_t)(-(int64_t)d);
        if (old >= wire) {
            fd->st->old_bytes += wire;
            return;
        }
        fd->st->old_bytes += old;
        size_t cut = old < len ? (size_t)old : len;
        p += cut;
        len -= cut;
        wire -= (size_t)old;
    } else if (d > 0) {
        flow_gap(fd, fl, dir, (uint64_t)d);
        fl->next[dir] += (uint32_t)d;
    }
    flow_deliver(fd, fl, dir, p, len);
    fl->next[dir] += (uint32_t)wire;
    if (wire > len) {
        flow_gap(fd, fl, dir, wire - len);
    }
}

static void handle_frame(feeder *fd, const frame *f)
{
    flow_key k;
    bool forward;
    make_key(f, &k, &forward);
    kit_flow *fl = g_hash_table_lookup(fd->flows, &k);
    if (fl == NULL) {
        if (!(f->flags & TCP_SYN) && f->wire_len == 0) {
            return; /* a bare ACK or FIN of a flow we do not know */
        }
        if (f->flags & TCP_RST) {
            return;
        }
        fl = flow_new(fd, f, &k);
        if (fl == NULL) {
            return;
        }
    }
    bool from_client = f->sport == fl->client.port &&
                       memcmp(f->src, fl->client.addr.bytes, f->family == 4 ? 4 : 16) == 0;
    pt_dir dir = from_client ? PT_DIR_TO_SERVER : PT_DIR_TO_CLIENT;
    if (f->flags & TCP_RST) {
        flow_end(fd, fl, PT_CLOSE_RST);
        return;
    }
    flow_segment(fd, fl, dir, f);
    if (f->flags & TCP_FIN) {
        fl->fin[dir] = true;
        if (fl->fin[0] && fl->fin[1]) {
            flow_end(fd, fl, PT_CLOSE_FIN);
        }
    }
}

static gboolean end_one(gpointer key, gpointer value, gpointer user)
{
    feeder *fd = user;
    kit_flow *fl = value;
    if (fl->state == FLOW_ACTIVE && pt_mock_stream_is_open(fl->stream)) {
        pt_mock_close(fl->stream, PT_CLOSE_END_OF_CAPTURE, &fd->now);
    }
    return TRUE;
}

static void set_error(char **error, char *gmsg)
{
    if (error != NULL) {
        *error = strdup(gmsg);
    }
    g_free(gmsg);
}

int pt_mock_feed_pcap(pt_mockhost *m, const char *path, const pt_mock_pcap_opts *opts,
                      pt_mock_pcap_stats *stats, char **error)
{
    if (error != NULL) {
        *error = NULL;
    }
    char errbuf[PCAP_ERRBUF_SIZE] = "";
    pcap_t *pc = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, errbuf);
    if (pc == NULL) {
        set_error(error, g_strdup_printf("%s: %s", path, errbuf));
        return -1;
    }
    const pt_mock_pcap_opts defaults = {0};
    if (opts == NULL) {
        opts = &defaults;
    }
    if (opts->filter != NULL) {
        struct bpf_program prog;
        if (pcap_compile(pc, &prog, opts->filter, 1, PCAP_NETMASK_UNKNOWN) != 0 ||
            pcap_setfilter(pc, &prog) != 0) {
            set_error(error, g_strdup_printf("filter '%s': %s", opts->filter, pcap_geterr(pc)));
            pcap_close(pc);
            return -1;
        }
        pcap_freecode(&prog);
    }
    pt_mock_pcap_stats local = {0};
    feeder fd = {
        .m = m,
        .opts = opts,
        .ports = opts->server_ports ? opts->server_ports : m->plugin->server_ports,
        .max_flows = opts->max_flows ? opts->max_flows : PT_MOCK_PCAP_MAX_FLOWS,
        .flows = g_hash_table_new_full(key_hash, key_equal, NULL, flow_free),
        .st = stats ? stats : &local,
    };
    memset(fd.st, 0, sizeof *fd.st);
    int dlt = pcap_datalink(pc);
    struct pcap_pkthdr *h;
    const u_char *data;
    int rc;
    while ((rc = pcap_next_ex(pc, &h, &data)) == 1) {
        fd.st->packets++;
        fd.now = (pt_time){h->ts.tv_sec, (uint32_t)h->ts.tv_usec};
        frame f;
        memset(&f, 0, sizeof f);
        switch (decode_frame(dlt, data, h->caplen, &f)) {
        case DEC_TCP:
            fd.st->tcp_packets++;
            handle_frame(&fd, &f);
            break;
        case DEC_FRAGMENT:
            fd.st->fragments++;
            break;
        default:
            fd.st->undecoded++;
            break;
        }
    }
    if (rc == PCAP_ERROR) {
        set_error(error, g_strdup_printf("%s: %s", path, pcap_geterr(pc)));
    }
    g_hash_table_foreach_remove(fd.flows, end_one, &fd);
    g_hash_table_destroy(fd.flows);
    pcap_close(pc);
    return rc == PCAP_ERROR ? -1 : 0;
}
