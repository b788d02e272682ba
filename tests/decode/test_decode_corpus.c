/* test_decode_corpus.c — reads every capture under $PT_CORPUS/robust and
 * $PT_CORPUS/linktypes with libpcap and runs each packet through decode and IP defrag,
 * checking that every pointer stays inside its buffer (ASan/UBSan watch the rest), that the
 * linktypes packet counts match INDEX.tsv, and printing what was decoded. Exits 77 (skipped)
 * when the corpus is absent. */
#include <dirent.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "decode.h"
#include "defrag.h"

/* Each packet is also decoded cut at every length up to this many bytes, from an exact-size
 * copy so that ASan sees any read past the cut. */
#define CUT_LIMIT 128

#define MAX_INDEX_ROWS 4096
#define MAX_LINE       8192

typedef struct counts {
    unsigned long files, refused, read_errors, unsupported_dlt;
    unsigned long packets, ok, truncated, malformed, fragments, reassembled, reassembled_bad;
    unsigned long ip, tcp, udp, non_ip, tunnels;
} counts;

static struct {
    char *path;
    long packets;
} idx[MAX_INDEX_ROWS];
static size_t n_idx;
static unsigned long failures;
static unsigned long counts_checked; /* linktypes files whose count matched INDEX.tsv */

/* Read INDEX.tsv: column 1 is the path, column 5 the packet count ("" when unknown). */
static void load_index(const char *corpus)
{
    char fn[4096], line[MAX_LINE];
    FILE *f;

    snprintf(fn, sizeof fn, "%s/INDEX.tsv", corpus);
    f = fopen(fn, "r");
    if (!f)
        return;
    while (fgets(line, sizeof line, f) && n_idx < MAX_INDEX_ROWS) {
        char *col[5] = {0};
        char *p = line;

        for (int i = 0; i < 5 && p; i++) {
            col[i] = p;
            p = strchr(p, '\t');
            if (p)
                *p++ = '\0';
        }
        if (!col[4] || strcmp(col[0], "path") == 0 || col[4][0] < '0' || col[4][0] > '9')
            continue;
        idx[n_idx].path = strdup(col[0]);
        idx[n_idx].packets = strtol(col[4], NULL, 10);
        n_idx++;
    }
    fclose(f);
}

static long index_packets(const char *rel)
{
    for (size_t i = 0; i < n_idx; i++)
        if (strcmp(idx[i].path, rel) == 0)
            return idx[i].packets;
    return -1;
}

static bool inside(const void *p, size_t n, const uint8_t *lo, size_t len)
{
    const uint8_t *q = p;

    return !p || (q >= lo && n <= len && (size_t)(q - lo) <= len - n);
}

/* Every pointer of *p within [lo, lo + len). */
static void check_packet(const pt_packet *p, const uint8_t *lo, size_t len, const char *file,
                         unsigned long pkt_no)
{
    if (inside(p->l3, p->l3_len, lo, len) && inside(p->l4, p->l4_len, lo, len) &&
        inside(p->payload, p->payload_len, lo, len) &&
        inside(p->frag_payload, p->frag_payload_len, lo, len) && p->n_vlan <= PT_MAX_VLAN &&
        p->n_mpls <= PT_MAX_MPLS && p->payload_len <= p->payload_wire_len)
        return;
    fprintf(stderr, "FAIL %s packet %lu: a decoded pointer is outside its buffer\n", file, pkt_no);
    failures++;
}

/* Decode `data` cut at every length below min(caplen, CUT_LIMIT), as a snaplen would. */
static void decode_cuts(int dlt, const uint8_t *data, uint32_t caplen, uint32_t wirelen,
                        const char *file, unsigned long pkt_no)
{
    uint32_t top = caplen < CUT_LIMIT ? caplen : CUT_LIMIT;
    pt_packet pkt;

    for (uint32_t n = 0; n < top; n++) {
        uint8_t *cut = malloc(n ? n : 1);

        if (!cut)
            abort();
        memcpy(cut, data, n);
        pt_decode_packet(dlt, cut, n, wirelen, NULL, &pkt);
        check_packet(&pkt, cut, n, file, pkt_no);
        free(cut);
    }
}

static void count_l4(counts *c, const pt_packet *p)
{
    if (p->ip_version == 0)
        c->non_ip++;
    else
        c->ip++;
    if (p->ip_proto == 6 && p->payload)
        c->tcp++;
    else if (p->ip_proto == 17 && p->payload)
        c->udp++;
}

/* Open every tunnel the packet carries (pt_decode_tunnel), checking each inner packet. */
static void open_tunnels(counts *c, pt_packet *pkt, const uint8_t *data, size_t len,
                         const char *file, unsigned long pkt_no)
{
    pt_decode_result r = PT_DECODE_OK;

    while (r == PT_DECODE_OK && pt_decode_tunnel(pkt, &r) == PT_OK) {
        c->tunnels++;
        check_packet(pkt, data, len, file, pkt_no);
    }
}

/* Decode one capture file; returns the packets read, -1 when libpcap refused it, -2 when
 * libpcap stopped reading it part-way (e.g. pcapng interfaces of mixed link types). */
static long run_file(const char *path, const char *rel, counts *c, bool verbose)
{
    char err[PCAP_ERRBUF_SIZE];
    pcap_t *pc = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, err);
    struct pcap_pkthdr *h;
    const u_char *data;
    pt_defrag *d;
    pt_packet pkt, re;
    counts before = *c;
    long n = 0;
    int dlt, r;
    bool supported;

    c->files++;
    if (!pc) {
        c->refused++;
        if (verbose)
            printf("  %-40s refused by libpcap: %s\n", rel, err);
        return -1;
    }
    dlt = pcap_datalink(pc);
    supported = pt_decode_supports_dlt(dlt);
    if (!supported)
        c->unsupported_dlt++;
    d = pt_defrag_new(NULL);
    while ((r = pcap_next_ex(pc, &h, &data)) == 1) {
        pt_time ts = {h->ts.tv_sec, (uint32_t)h->ts.tv_usec};
        const uint8_t *dg;
        size_t dg_len;

        n++;
        c->packets++;
        if (!supported)
            continue;
        decode_cuts(dlt, data, h->caplen, h->len, rel, (unsigned long)n);
        switch (pt_decode_packet(dlt, data, h->caplen, h->len, &ts, &pkt)) {
        case PT_DECODE_OK:
            c->ok++;
            count_l4(c, &pkt);
            open_tunnels(c, &pkt, data, h->caplen, rel, (unsigned long)n);
            break;
        case PT_DECODE_TRUNCATED:
            c->truncated++;
            break;
        case PT_DECODE_MALFORMED:
            c->malformed++;
            break;
        case PT_DECODE_FRAGMENT:
            c->fragments++;
            check_packet(&pkt, data, h->caplen, rel, (unsigned long)n);
            if (pt_defrag_add(d, &pkt, &dg, &dg_len) == PT_OK) {
                re = pkt;
                c->reassembled++;
                if (pt_decode_ip(dg, dg_len, &re) == PT_DECODE_OK)
                    count_l4(c, &re);
                else
                    c->reassembled_bad++;
                check_packet(&re, dg, dg_len, rel, (unsigned long)n);
            }
            break;
        }
        check_packet(&pkt, data, h->caplen, rel, (unsigned long)n);
    }
    if (r == -1) {
        c->read_errors++;
        if (verbose)
            printf("  %-40s read error after %ld packets: %s\n", rel, n, pcap_geterr(pc));
    }
    if (verbose)
        printf("  %-40s dlt %-4d %-14s %5ld pkts: ok %lu trunc %lu malformed %lu frag %lu "
               "reassembled %lu non-ip %lu%s\n",
               rel, dlt, pcap_datalink_val_to_name(dlt) ? pcap_datalink_val_to_name(dlt) : "?", n,
               c->ok - before.ok, c->truncated - before.truncated, c->malformed - before.malformed,
               c->fragments - before.fragments, c->reassembled - before.reassembled,
               c->non_ip - before.non_ip, supported ? "" : " (link type not decoded)");
    pt_defrag_free(d);
    pcap_close(pc);
    return r == -1 ? -2 : n;
}

static bool is_capture_name(const char *name)
{
    static const char *ext[] = {".pcap", ".pcapng", ".snoop", ".cap", ".pcap.gz"};
    size_t n = strlen(name);

    for (size_t i = 0; i < sizeof ext / sizeof ext[0]; i++) {
        size_t e = strlen(ext[i]);
        if (n > e && strcmp(name + n - e, ext[i]) == 0)
            return true;
    }
    return false;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

static void run_dir(const char *corpus, const char *sub, bool verbose, bool check_counts)
{
    char dir[4096], path[8192], rel[4096];
    struct dirent **names;
    counts c = {0};
    int n;

    snprintf(dir, sizeof dir, "%s/%s", corpus, sub);
    n = scandir(dir, &names, NULL, by_name);
    if (n < 0) {
        printf("%s: missing\n", sub);
        return;
    }
    printf("%s/\n", sub);
    for (int i = 0; i < n; i++) {
        struct stat st;

        snprintf(path, sizeof path, "%s/%s", dir, names[i]->d_name);
        snprintf(rel, sizeof rel, "%s/%s", sub, names[i]->d_name);
        if (stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
            (!check_counts || is_capture_name(names[i]->d_name))) {
            long got = run_file(path, rel, &c, verbose);
            long want = index_packets(rel);

            if (check_counts && got >= 0 && want >= 0 && got != want) {
                fprintf(stderr, "FAIL %s: %ld packets read, INDEX.tsv says %ld\n", rel, got, want);
                failures++;
            } else if (check_counts && got >= 0 && want >= 0) {
                counts_checked++;
            }
        }
        free(names[i]);
    }
    free(names);
    printf(
        "%s: %lu files (%lu refused by libpcap, %lu read errors, %lu link types not "
        "decoded), %lu packets: ok %lu (ip %lu tcp %lu udp %lu non-ip %lu), truncated %lu, "
        "malformed %lu, fragments %lu, reassembled %lu (%lu not decodable), tunnels opened %lu\n",
        sub, c.files, c.refused, c.read_errors, c.unsupported_dlt, c.packets, c.ok, c.ip, c.tcp,
        c.udp, c.non_ip, c.truncated, c.malformed, c.fragments, c.reassembled, c.reassembled_bad,
        c.tunnels);
}

int main(void)
{
    const char *corpus = getenv("PT_CORPUS");
    char probe[4096];
    struct stat st;

    if (!corpus) {
        printf("PT_CORPUS not set: skipped\n");
        return 77;
    }
    snprintf(probe, sizeof probe, "%s/robust", corpus);
    if (stat(probe, &st) != 0) {
        printf("%s absent: skipped\n", probe);
        return 77;
    }
    load_index(corpus);
    run_dir(corpus, "linktypes", true, true);
    run_dir(corpus, "robust", getenv("PT_VERBOSE") != NULL, false);
    printf("linktypes packet counts equal to INDEX.tsv: %lu files\n", counts_checked);
    if (n_idx > 0 && counts_checked == 0) {
        fprintf(stderr, "FAIL no linktypes capture could be checked against INDEX.tsv\n");
        failures++;
    }
    for (size_t i = 0; i < n_idx; i++)
        free(idx[i].path);
    if (failures)
        fprintf(stderr, "%lu failures\n", failures);
    return failures ? 1 : 0;
}
