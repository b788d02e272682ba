/* kit_capture.c — writes small Ethernet/IPv4/TCP captures (RFC 791, RFC 9293 headers) for the
 * test kit's own tests; checksums are left zero, as nothing here verifies them. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kit_capture.h"

/* Largest payload a test frame carries. */
#define KIT_MAX_PAYLOAD 1500

void kit_put_tcp(pcap_dumper_t *d, long usec, int src, int sport, int dst, int dport, uint32_t seq,
                 int flags, const char *payload)
{
    size_t plen = payload ? strlen(payload) : 0;
    if (plen > KIT_MAX_PAYLOAD) {
        plen = KIT_MAX_PAYLOAD;
    }
    uint8_t f[14 + 40 + KIT_MAX_PAYLOAD];
    memset(f, 0, 54);
    f[12] = 0x08;
    uint8_t *ip = f + 14;
    size_t total = 20 + 20 + plen;
    ip[0] = 0x45;
    ip[2] = (uint8_t)(total >> 8);
    ip[3] = (uint8_t)total;
    ip[8] = 64;
    ip[9] = 6;
    ip[12] = 10;
    ip[15] = (uint8_t)src;
    ip[16] = 10;
    ip[19] = (uint8_t)dst;
    uint8_t *t = ip + 20;
    t[0] = (uint8_t)(sport >> 8);
    t[1] = (uint8_t)sport;
    t[2] = (uint8_t)(dport >> 8);
    t[3] = (uint8_t)dport;
    t[4] = (uint8_t)(seq >> 24);
    t[5] = (uint8_t)(seq >> 16);
    t[6] = (uint8_t)(seq >> 8);
    t[7] = (uint8_t)seq;
    t[12] = 5 << 4;
    t[13] = (uint8_t)flags;
    memcpy(t + 20, payload ? payload : "", plen);
    struct pcap_pkthdr h = {{1700000000 + usec / 1000000, usec % 1000000},
                            (bpf_u_int32)(14 + total),
                            (bpf_u_int32)(14 + total)};
    pcap_dump((u_char *)d, &h, f);
}

pcap_dumper_t *kit_capture_open(char **path, pcap_t **dead)
{
    *path = strdup("/tmp/pt-kit-XXXXXX");
    int fd = mkstemp(*path);
    close(fd);
    *dead = pcap_open_dead(DLT_EN10MB, 65535);
    return pcap_dump_open(*dead, *path);
}

void kit_capture_close(pcap_dumper_t *d, pcap_t *dead)
{
    pcap_dump_close(d);
    pcap_close(dead);
}
