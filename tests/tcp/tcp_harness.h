/* tcp_harness.h — crafted TCP segments and a recording consumer for the tcp unit tests. */
#ifndef PT_TESTS_TCP_HARNESS_H
#define PT_TESTS_TCP_HARNESS_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "decode.h"
#include "tcp.h"

/* What the consumer saw of one flow. */
typedef struct rec_flow {
    char id[24];
    pt_endpoint client, server;
    GByteArray *data[2]; /* by pt_dir; a gap appends nothing */
    GString *log;        /* "S", "D0:3", "G1:10", "E:fin" ... in callback order */
    uint64_t gaps[2];
    int starts, ends;
    pt_close_reason why;
    pt_flow_info end_info; /* copied at on_end */
} rec_flow;

typedef struct rec {
    GPtrArray *flows;     /* rec_flow *, in start order */
    GArray *server_ports; /* uint16_t */
} rec;

void rec_init(rec *r);
void rec_clear(rec *r);
pt_tcp_consumer rec_consumer(rec *r);
rec_flow *rec_get(rec *r, guint i);

/* Endpoints used by mk(): the client and server of the crafted connection. */
typedef struct hs_conn {
    pt_addr caddr, saddr;
    uint16_t cport, sport;
} hs_conn;

hs_conn hs_v4(uint16_t cport, uint16_t sport);
hs_conn hs_v6(uint16_t cport, uint16_t sport);

/* A decoded TCP packet of `c`, from the client when to_server, at time `t` seconds. The
 * payload pointer refers to `data`, which must outlive the call that consumes it. */
pt_packet mk(const hs_conn *c, bool to_server, uint32_t seq, uint32_t ack, uint8_t flags,
             const char *data, size_t len, double t);

/* Feed a full three-way handshake (client ISN ci, server ISN si) at times t, t+0.01, t+0.02. */
void hs_handshake(pt_tcp *tcp, const hs_conn *c, uint32_t ci, uint32_t si, double t);

#endif
