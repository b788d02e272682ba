/* tcp_events.h — the built-in `tcp` event source: tcp_start and tcp_end for every
 * connection, and retransmit, reset, gap and syn_retry with --tcp-verbose.
 *
 * Schema (JSON names are stable; the envelope ts, flow, proto "tcp", event, client, server
 * comes first):
 *   tcp_start   handshake (bool: SYN seen, else picked up mid-stream), rtt_us (int or null:
 *               SYN -> SYN/ACK -> ACK at the capture point), syn_retries
 *   tcp_end     reason (fin|rst|timeout|evicted|end_of_capture|released),
 *               packets_to_server, packets_to_client, bytes_to_server, bytes_to_client
 *               (payload delivered in order), gap_bytes_to_server, gap_bytes_to_client,
 *               retransmits (segments, both directions), retransmit_bytes_to_server,
 *               retransmit_bytes_to_client, overlap_conflicts (retransmitted bytes that
 *               differed from the first copy), out_of_order (segments buffered ahead of a
 *               hole), unseen_acks (holes acknowledged but never captured), rtt_us,
 *               rtt_server_us (SYN -> SYN/ACK), rtt_client_us (SYN/ACK -> ACK), syn_retries,
 *               handshake, duration_us (first to last packet)
 *   retransmit  dir (to_server|to_client), seq, bytes, conflict_bytes
 *   reset       by (client|server)
 *   gap         dir, bytes
 *   syn_retry   syn_retries
 */
#ifndef PT_CORE_TCP_EVENTS_H
#define PT_CORE_TCP_EVENTS_H

#include <stdint.h>

#include "events.h"
#include "tcp.h"

void pt_tcp_events_start(pt_events *bus, const pt_flow_info *fi, const pt_time *ts);
void pt_tcp_events_end(pt_events *bus, const pt_flow_info *fi, pt_close_reason why,
                       const pt_time *ts);
/* A segment of `dir` carried `bytes` already seen (`conflict` of them different). */
void pt_tcp_events_retransmit(pt_events *bus, const pt_flow_info *fi, pt_dir dir, uint32_t seq,
                              uint64_t bytes, uint64_t conflict, const pt_time *ts);
/* The sender of direction `dir` reset the connection. */
void pt_tcp_events_reset(pt_events *bus, const pt_flow_info *fi, pt_dir dir, const pt_time *ts);
void pt_tcp_events_gap(pt_events *bus, const pt_flow_info *fi, pt_dir dir, uint64_t missing,
                       const pt_time *ts);
void pt_tcp_events_syn_retry(pt_events *bus, const pt_flow_info *fi, uint32_t retries,
                             const pt_time *ts);

#endif
