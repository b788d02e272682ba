/* tcp_events.h — the built-in `tcp` event source: tcp_start and tcp_end for every
 * connection, and retransmit, reset, gap and syn_retry with --tcp-verbose. */
#ifndef PT_CORE_TCP_EVENTS_H
#define PT_CORE_TCP_EVENTS_H

#include <stdint.h>

#include "events.h"
#include "tcp.h"

/* The `reason` text of tcp_end: fin, rst, timeout, evicted, end_of_capture, released. */
const char *pt_tcp_events_reason(pt_close_reason why);

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
