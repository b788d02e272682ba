/* pt_streamdump.c — reads a capture through decode, defrag and the TCP tracker and writes
 * what reassembly delivers (tcpflow-like): per flow a JSON summary line with byte, gap and
 * SHA-256 figures per direction, optionally the two directions as files (-o DIR) or both
 * directions interleaved in delivery order with "[N bytes missing]" for gaps (--pcpp DIR,
 * PcapPlusPlus's test format). With -n it only counts (benchmarks). */
#include <errno.h>
#include <glib.h>
#include <inttypes.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "addr.h"
#include "decode.h"
#include "defrag.h"
#include "tcp.h"
#include "tcp_events.h"

typedef struct dump_opts {
    char *out_dir;
    char *pcpp_dir;
    gboolean count_only;
    gboolean decode_only;
    gboolean quiet;
    gint server_port;
} dump_opts;

typedef struct dump_flow {
    FILE *f[2];
    FILE *pcpp;
    GChecksum *sum[2];
} dump_flow;

typedef struct dump {
    dump_opts o;
    uint64_t flows, bytes[2], gaps[2], ended[PT_CLOSE_RELEASED + 1];
} dump;

static const char *const dir_suffix[2] = {"to_server", "to_client"};

static FILE *dump_open(const char *dir, const char *id, const char *suffix)
{
    g_autofree char *name = g_strdup_printf("%s/%s%s%s", dir, id, suffix[0] ? "." : "", suffix);
    FILE *f = fopen(name, "wb");
    if (f == NULL) {
        fprintf(stderr, "pt_streamdump: cannot write %s: %s\n", name, strerror(errno));
        exit(1);
    }
    return f;
}

static void on_start(void *ctx, pt_flow *f, const pt_time *ts)
{
    dump *d = ctx;
    d->flows++;
    if (d->o.count_only) {
        return;
    }
    const pt_flow_info *fi = pt_flow_get_info(f);
    dump_flow *df = g_new0(dump_flow, 1);
    for (int i = 0; i < 2; i++) {
        df->sum[i] = g_checksum_new(G_CHECKSUM_SHA256);
        if (d->o.out_dir != NULL) {
            df->f[i] = dump_open(d->o.out_dir, fi->id, dir_suffix[i]);
        }
    }
    if (d->o.pcpp_dir != NULL) {
        df->pcpp = dump_open(d->o.pcpp_dir, fi->id, "");
    }
    *pt_flow_user(f) = df;
}

static void on_data(void *ctx, pt_flow *f, pt_dir dir, const uint8_t *data, size_t len,
                    const pt_time *ts)
{
    dump *d = ctx;
    d->bytes[dir] += len;
    dump_flow *df = *pt_flow_user(f);
    if (df == NULL) {
        return;
    }
    g_checksum_update(df->sum[dir], data, (gssize)len);
    if (df->f[dir] != NULL) {
        fwrite(data, 1, len, df->f[dir]);
    }
    if (df->pcpp != NULL) {
        fwrite(data, 1, len, df->pcpp);
    }
}

static void on_gap(void *ctx, pt_flow *f, pt_dir dir, uint64_t missing, const pt_time *ts)
{
    dump *d = ctx;
    d->gaps[dir] += missing;
    dump_flow *df = *pt_flow_user(f);
    if (df != NULL && df->pcpp != NULL) {
        fprintf(df->pcpp, "[%" PRIu64 " bytes missing]", missing);
    }
}

static void on_end(void *ctx, pt_flow *f, pt_close_reason why, const pt_time *ts)
{
    dump *d = ctx;
    d->ended[why]++;
    dump_flow *df = *pt_flow_user(f);
    if (df == NULL) {
        return;
    }
    const pt_flow_info *fi = pt_flow_get_info(f);
    char c[PT_ENDPOINT_STRLEN], s[PT_ENDPOINT_STRLEN];
    pt_endpoint_format(&fi->client, c);
    pt_endpoint_format(&fi->server, s);
    const pt_tcp_dir_stats *a = &fi->dir[0], *b = &fi->dir[1];
    printf("{\"flow\":\"%s\",\"client\":\"%s\",\"server\":\"%s\",\"reason\":\"%s\","
           "\"handshake\":%s,\"bytes_to_server\":%" PRIu64 ",\"bytes_to_client\":%" PRIu64
           ",\"gap_bytes_to_server\":%" PRIu64 ",\"gap_bytes_to_client\":%" PRIu64
           ",\"retransmits\":%" PRIu64 ",\"out_of_order\":%" PRIu64
           ",\"overlap_conflicts\":%" PRIu64 ",\"unseen_acks\":%" PRIu64 ",\"rtt_us\":%" PRId64
           ",\"sha256_to_server\":\"%s\",\"sha256_to_client\":\"%s\"}\n",
           fi->id, c, s, pt_close_reason_name(why), fi->saw_syn ? "true" : "false", a->bytes,
           b->bytes, a->gap_bytes, b->gap_bytes, a->retransmits + b->retransmits,
           a->out_of_order + b->out_of_order, a->overlap_conflicts + b->overlap_conflicts,
           a->unseen_acks + b->unseen_acks, fi->rtt_us, g_checksum_get_string(df->sum[0]),
           g_checksum_get_string(df->sum[1]));
    for (int i = 0; i < 2; i++) {
        if (df->f[i] != NULL) {
            fclose(df->f[i]);
        }
        g_checksum_free(df->sum[i]);
    }
    if (df->pcpp != NULL) {
        fclose(df->pcpp);
    }
    g_free(df);
    *pt_flow_user(f) = NULL;
}

static bool is_server_port(void *ctx, uint16_t port)
{
    dump *d = ctx;
    return d->o.server_port > 0 && port == (uint16_t)d->o.server_port;
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    dump d = {0};
    pt_tcp_config cfg;
    pt_tcp_config_init(&cfg);
    GOptionEntry entries[] = {
        {"output", 'o', 0, G_OPTION_ARG_FILENAME, &d.o.out_dir,
         "Write DIR/<flow>.to_server and DIR/<flow>.to_client", "DIR"},
        {"pcpp", 0, 0, G_OPTION_ARG_FILENAME, &d.o.pcpp_dir,
         "Write DIR/<flow>: both directions in delivery order, gaps as [N bytes missing]", "DIR"},
        {"count", 'n', 0, G_OPTION_ARG_NONE, &d.o.count_only, "Only count (benchmark)", NULL},
        {"quiet", 'q', 0, G_OPTION_ARG_NONE, &d.o.quiet, "No hints on stderr", NULL},
        {"decode-only", 0, 0, G_OPTION_ARG_NONE, &d.o.decode_only,
         "Decode but do not track (benchmark attribution)", NULL},
        {"server-port", 'p', 0, G_OPTION_ARG_INT, &d.o.server_port,
         "A known server port (for flows without a handshake)", "PORT"},
        {NULL, 0, 0, G_OPTION_ARG_NONE, NULL, NULL, NULL},
    };
    GOptionContext *ctx = g_option_context_new("FILE - dump reassembled TCP streams");
    g_option_context_add_main_entries(ctx, entries, NULL);
    g_option_context_add_main_entries(ctx, pt_tcp_option_entries(&cfg), NULL);
    GError *err = NULL;
    pt_tcp_limits lim;
    if (!g_option_context_parse(ctx, &argc, &argv, &err) ||
        !pt_tcp_config_limits(&cfg, &lim, &err)) {
        fprintf(stderr, "pt_streamdump: %s\n", err->message);
        return 2;
    }
    g_option_context_free(ctx);
    if (argc != 2) {
        fprintf(stderr, "usage: pt_streamdump [OPTION...] FILE\n");
        return 2;
    }
    lim.quiet = d.o.quiet;
    char errbuf[PCAP_ERRBUF_SIZE];
    pcap_t *pc =
        pcap_open_offline_with_tstamp_precision(argv[1], PCAP_TSTAMP_PRECISION_NANO, errbuf);
    if (pc == NULL) {
        fprintf(stderr, "pt_streamdump: %s\n", errbuf);
        return 1;
    }
    int dlt = pcap_datalink(pc);
    if (!pt_decode_supports_dlt(dlt)) {
        fprintf(stderr, "pt_streamdump: link type %d not supported\n", dlt);
        pcap_close(pc);
        g_free(d.o.out_dir);
        g_free(d.o.pcpp_dir);
        return 1;
    }
    pt_tcp_consumer cons = {&d, on_start, on_data, on_gap, on_end, is_server_port};
    pt_tcp *tcp = pt_tcp_new(&lim, &cons);
    pt_defrag *defrag = pt_defrag_new(NULL);
    struct pcap_pkthdr *h;
    const u_char *bytes;
    pt_packet pkt;
    pt_time last = {0, 0};
    uint64_t packets = 0, frames_bytes = 0, undecoded = 0;
    double t0 = now_s();
    int rc;
    while ((rc = pcap_next_ex(pc, &h, &bytes)) == 1) {
        pt_time ts = {h->ts.tv_sec, (uint32_t)h->ts.tv_usec};
        packets++;
        frames_bytes += h->caplen;
        last = ts;
        pt_decode_result r = pt_decode_packet(dlt, bytes, h->caplen, h->len, &ts, &pkt);
        if (r == PT_DECODE_FRAGMENT) {
            const uint8_t *dg;
            size_t len;
            if (pt_defrag_add(defrag, &pkt, &dg, &len) != PT_OK) {
                continue;
            }
            pt_packet whole = pkt;
            if (pt_decode_ip(dg, len, &whole) != PT_DECODE_OK) {
                undecoded++;
                continue;
            }
            pt_tcp_packet(tcp, &whole);
            continue;
        }
        if (r != PT_DECODE_OK) {
            undecoded++;
            continue;
        }
        if (pkt.ip_proto == 6 && pkt.l4 != NULL && !d.o.decode_only) {
            pt_tcp_packet(tcp, &pkt);
        }
    }
    if (rc == PCAP_ERROR) {
        fprintf(stderr, "pt_streamdump: %s\n", pcap_geterr(pc));
    }
    pt_tcp_flush(tcp, PT_CLOSE_END_OF_CAPTURE, &last);
    double elapsed = now_s() - t0;
    pt_tcp_stats st;
    pt_tcp_get_stats(tcp, &st);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    fprintf(stderr,
            "pt_streamdump: %" PRIu64 " packets (%" PRIu64 " bytes, %" PRIu64
            " undecoded) in %.3f s, %" PRIu64 " flows total, %" PRIu64 " started, %" PRIu64
            " evicted, %" PRIu64 " timed out, peak flows %" PRIu64 ", peak buffered %" PRIu64
            " bytes, delivered %" PRIu64 "/%" PRIu64 " bytes, gaps %" PRIu64 "/%" PRIu64
            ", unseen acks %" PRIu64 ", max RSS %ld KiB\n",
            packets, frames_bytes, undecoded, elapsed, st.flows_total, d.flows, st.flows_evicted,
            st.flows_timed_out, st.flows_peak, st.buffered_bytes_peak, d.bytes[0], d.bytes[1],
            d.gaps[0], d.gaps[1], st.unseen_acks, ru.ru_maxrss);
    pt_tcp_free(tcp);
    pt_defrag_free(defrag);
    pcap_close(pc);
    g_free(d.o.out_dir);
    g_free(d.o.pcpp_dir);
    return rc == PCAP_ERROR ? 1 : 0;
}
