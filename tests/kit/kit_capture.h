/* kit_capture.h — writes small Ethernet/IPv4/TCP captures for the test kit's own tests. */
#ifndef KIT_CAPTURE_H
#define KIT_CAPTURE_H

#include <pcap/pcap.h>
#include <stdint.h>

enum { KIT_FIN = 0x01, KIT_SYN = 0x02, KIT_RST = 0x04, KIT_PSH = 0x08, KIT_ACK = 0x10 };

/* Append one frame at 1700000000 s + `usec`, from 10.0.0.<src>:sport to 10.0.0.<dst>:dport,
 * with a NUL-terminated payload (or NULL). */
void kit_put_tcp(pcap_dumper_t *d, long usec, int src, int sport, int dst, int dport, uint32_t seq,
                 int flags, const char *payload);

/* A new temporary capture file (Ethernet); returns the dumper and sets *path (malloc()ed). */
pcap_dumper_t *kit_capture_open(char **path, pcap_t **dead);
void kit_capture_close(pcap_dumper_t *d, pcap_t *dead);

#endif
