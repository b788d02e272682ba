/* packet_print.h — the one-line packet summary of `pcaptrace --packets` (in the spirit of
 * tcpdump and node_pcap's simple_capture): time, link, addresses, protocol, flags, lengths. */
#ifndef PT_CORE_PACKET_PRINT_H
#define PT_CORE_PACKET_PRINT_H

#include <stdio.h>

#include "decode.h"
#include "pcaptrace/pcaptrace.h"

/* Longest line pt_packet_print_line() writes; longer summaries are cut. */
#define PT_PACKET_LINE_MAX 512

/* Write the summary of one packet and a newline to `out`. */
void pt_packet_print_line(FILE *out, const pt_packet *pkt, pt_packet_status status);

#endif
