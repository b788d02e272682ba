/* decode_micro.c — micro-benchmark of pt_decode_packet() (+ IP defrag for fragments): decodes
 * packets already in memory, so the figure is decode time alone, without file reading.
 * Usage: decode_micro [CAPTURE] [ROUNDS]. Without a capture it decodes three built-in frames
 * (Ethernet/IPv4/TCP with timestamps, 802.1Q/IPv6/UDP, SLL2/IPv4/TCP). */
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "decode.h"
#include "defrag.h"

#define DEFAULT_ROUNDS 2000000u /* built-in frames: decodes per frame */

typedef struct frame {
    const uint8_t *data;
    uint32_t caplen, wirelen;
    int dlt;
} frame;

/* Ethernet, IPv4, TCP with NOP NOP timestamps, 6 bytes of payload. */
static const uint8_t eth_tcp[] = {
    0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0x08, 0x00, 0x45,
    0x00, 0x00, 0x3a, 0x12, 0x34, 0x40, 0x00, 0x40, 0x06, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x01,
    0x0a, 0x00, 0x00, 0x02, 0x9c, 0x40, 0x18, 0xeb, 0x00, 0x00, 0x03, 0xe8, 0x00, 0x00, 0x07,
    0xd0, 0x80, 0x18, 0x01, 0xf5, 0x00, 0x00, 0x00, 0x00, 0x01, 0x01, 0x08, 0x0a, 0x00, 0x00,
    0x00, 0x01, 0x00, 0x00, 0x00, 0x02, 'P',  'I',  'N',  'G',  '\r', '\n'};
/* Ethernet, 802.1Q, IPv6, UDP, 4 bytes of payload. */
static const uint8_t vlan_udp6[] = {
    0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0x81, 0x00,
    0x00, 0x64, 0x86, 0xdd, 0x60, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x11, 0x40, 0x20, 0x01,
    0x0d, 0xb8, 0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    1,
    0x20, 0x01, 0x0d, 0xb8, 0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
    0,    2,    0x14, 0xe9, 0x00, 0x35, 0x00, 0x0c, 0x00, 0x00, 'a',  'b',  'c',  'd'};
/* Linux SLL2, IPv4, TCP without options, 2 bytes of payload. */
static const uint8_t sll2_tcp[] = {
    0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x04, 0x06, 0x00, 0x11, 0x22, 0x33,
    0x44, 0x55, 0x00, 0x00, 0x45, 0x00, 0x00, 0x2a, 0x00, 0x01, 0x00, 0x00, 0x40, 0x06, 0x00, 0x00,
    0x7f, 0x00, 0x00, 0x01, 0x7f, 0x00, 0x00, 0x01, 0x18, 0xeb, 0x9c, 0x40, 0x00, 0x00, 0x00, 0x01,
    0x00, 0x00, 0x00, 0x02, 0x50, 0x18, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, '+',  'K'};

/* Seconds on `clock`: CLOCK_MONOTONIC (wall) or CLOCK_PROCESS_CPUTIME_ID (CPU time, which
 * leaves out the time other processes held the CPU on a busy machine). */
static double now_s(clockid_t clock)
{
    struct timespec t;

    clock_gettime(clock, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Read every packet of `path` into memory. */
static frame *load(const char *path, size_t *n_out, size_t *bytes_out)
{
    char err[PCAP_ERRBUF_SIZE];
    pcap_t *pc = pcap_open_offline(path, err);
    struct pcap_pkthdr *h;
    const u_char *d;
    frame *v = NULL;
    size_t n = 0, cap = 0, bytes = 0;

    if (!pc) {
        fprintf(stderr, "decode_micro: %s\n", err);
        return NULL;
    }
    while (pcap_next_ex(pc, &h, &d) == 1) {
        uint8_t *copy = malloc(h->caplen ? h->caplen : 1);

        if (n == cap) {
            cap = cap ? cap * 2 : 1024;
            v = realloc(v, cap * sizeof *v);
        }
        if (!copy || !v) {
            fprintf(stderr, "decode_micro: out of memory\n");
            exit(1);
        }
        memcpy(copy, d, h->caplen);
        v[n++] = (frame){copy, h->caplen, h->len, pcap_datalink(pc)};
        bytes += h->caplen;
    }
    pcap_close(pc);
    *n_out = n;
    *bytes_out = bytes;
    return v;
}

int main(int argc, char **argv)
{
    frame builtin[] = {{eth_tcp, sizeof eth_tcp, sizeof eth_tcp, 1},
                       {vlan_udp6, sizeof vlan_udp6, sizeof vlan_udp6, 1},
                       {sll2_tcp, sizeof sll2_tcp, sizeof sll2_tcp, 276}};
    frame *v = builtin;
    size_t n = 3, bytes = sizeof eth_tcp + sizeof vlan_udp6 + sizeof sll2_tcp;
    unsigned long rounds = DEFAULT_ROUNDS, counts[4] = {0};
    pt_defrag *df = pt_defrag_new(NULL);
    pt_time ts = {0, 0};
    pt_packet pkt;
    double t0, c0, t, cpu;
    uint64_t sink = 0;

    if (argc > 1) {
        v = load(argv[1], &n, &bytes);
        if (!v)
            return 1;
        rounds = 20;
    }
    if (argc > 2)
        rounds = strtoul(argv[2], NULL, 10);
    if (n == 0 || rounds == 0) {
        fprintf(stderr, "decode_micro: nothing to decode\n");
        return 1;
    }
    t0 = now_s(CLOCK_MONOTONIC);
    c0 = now_s(CLOCK_PROCESS_CPUTIME_ID);
    for (unsigned long r = 0; r < rounds; r++) {
        for (size_t i = 0; i < n; i++) {
            pt_decode_result res =
                pt_decode_packet(v[i].dlt, v[i].data, v[i].caplen, v[i].wirelen, &ts, &pkt);
            const uint8_t *dg;
            size_t dg_len;

            counts[res]++;
            if (res == PT_DECODE_FRAGMENT && pt_defrag_add(df, &pkt, &dg, &dg_len) == PT_OK)
                pt_decode_ip(dg, dg_len, &pkt);
            sink += pkt.payload_len + pkt.sport;
        }
    }
    t = now_s(CLOCK_MONOTONIC) - t0;
    cpu = now_s(CLOCK_PROCESS_CPUTIME_ID) - c0;
    printf("decode_micro: %zu packets x %lu rounds in %.3f s (%.3f s CPU): %.1f ns/packet "
           "(%.1f CPU), %.2f Mpackets/s, %.0f MB/s (ok %lu truncated %lu malformed %lu "
           "fragments %lu; check %llu)\n",
           n, rounds, t, cpu, t * 1e9 / ((double)n * (double)rounds),
           cpu * 1e9 / ((double)n * (double)rounds), (double)n * (double)rounds / t / 1e6,
           (double)bytes * (double)rounds / t / 1e6, counts[PT_DECODE_OK],
           counts[PT_DECODE_TRUNCATED], counts[PT_DECODE_MALFORMED], counts[PT_DECODE_FRAGMENT],
           (unsigned long long)sink);
    pt_defrag_free(df);
    if (v != builtin) {
        for (size_t i = 0; i < n; i++)
            free((void *)v[i].data);
        free(v);
    }
    return 0;
}
