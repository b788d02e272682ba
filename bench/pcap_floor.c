/* pcap_floor.c — the floor for pcaptrace's benchmarks: the bare libpcap read loop
 * (pcap_next_ex over a capture file, nanosecond precision like pcaptrace) touching one byte
 * per packet, printing packets/s and bytes/s. Usage: pcap_floor FILE [PASSES] */
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* Upper bound of passes over the file (more passes smooth out page-cache noise). */
#define PT_FLOOR_MAX_PASSES 100

static double pt_floor_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: %s FILE [PASSES]\n", argv[0]);
        return 2;
    }
    int passes = argc == 3 ? atoi(argv[2]) : 1;
    if (passes < 1 || passes > PT_FLOOR_MAX_PASSES) {
        fprintf(stderr, "%s: PASSES must be 1..%d\n", argv[0], PT_FLOOR_MAX_PASSES);
        return 2;
    }
    uint64_t packets = 0, bytes = 0, sum = 0;
    double start = pt_floor_now();
    for (int p = 0; p < passes; p++) {
        char errbuf[PCAP_ERRBUF_SIZE];
        pcap_t *pc =
            pcap_open_offline_with_tstamp_precision(argv[1], PCAP_TSTAMP_PRECISION_NANO, errbuf);
        if (pc == NULL) {
            fprintf(stderr, "%s: %s\n", argv[1], errbuf);
            return 1;
        }
        struct pcap_pkthdr *h;
        const u_char *data;
        int rc;
        while ((rc = pcap_next_ex(pc, &h, &data)) == 1) {
            packets++;
            bytes += h->caplen;
            sum += h->caplen > 0 ? data[0] : 0;
        }
        if (rc == PCAP_ERROR) {
            fprintf(stderr, "%s: packet %llu: %s\n", argv[1], (unsigned long long)packets + 1,
                    pcap_geterr(pc));
            pcap_close(pc);
            return 1;
        }
        pcap_close(pc);
    }
    double secs = pt_floor_now() - start;
    printf("pcap_floor: %llu packets, %llu bytes in %.3f s: %.0f packets/s, %.1f MB/s "
           "(checksum %llu)\n",
           (unsigned long long)packets, (unsigned long long)bytes, secs,
           secs > 0 ? (double)packets / secs : 0.0, secs > 0 ? (double)bytes / secs / 1e6 : 0.0,
           (unsigned long long)(sum & 0xff));
    return 0;
}
