/* flow_table.h — TCP flows keyed by their 5-tuple (both directions are one flow), with an
 * LRU list of open flows and a FIFO of recently closed ones (TIME-WAIT tombstones, RFC 9293
 * §3.6.1) that swallow late packets of a finished connection. Internal to core/. */
#ifndef PT_CORE_FLOW_TABLE_H
#define PT_CORE_FLOW_TABLE_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <glib.h>

#include "reassembly.h"
#include "tcp.h"

/* The 5-tuple in canonical order: endpoint 0 sorts before endpoint 1 (address, then port),
 * so both directions of a connection have the same key. Protocol is always TCP. */
typedef struct pt_flow_key {
    uint8_t addr[2][16]; /* IPv4 uses the first 4 bytes; the rest stays zero */
    uint16_t port[2];
    uint8_t family; /* 4 or 6 */
    uint8_t pad[3]; /* zero: the key is hashed and compared as five 64-bit words */
} pt_flow_key;

/* Which of the three lists a flow is on. */
typedef enum pt_flow_list { PT_LIST_NONE = 0, PT_LIST_OPEN, PT_LIST_CLOSED } pt_flow_list;

struct pt_flow {
    pt_flow_key key;
    uint32_t hash; /* flow_table.c: the key's hash (its index slot) */
    pt_flow_info info;
    pt_reasm rs[2]; /* by pt_dir: the bytes that travel in that direction */
    void *user;

    /* flow_table.c: open LRU or closed FIFO, and the list of flows holding buffered bytes */
    pt_flow *prev, *next;
    pt_flow *buf_prev, *buf_next;
    uint8_t list; /* pt_flow_list */
    bool on_buf;  /* on the buffering list */
    pt_time closed_ts;

    /* tcp.c: connection state */
    uint8_t client_ep; /* which endpoint of the key is the client (0 or 1) */
    bool started;      /* on_start was called */
    bool syn[2];       /* SYN seen from the client (TO_SERVER) / SYN-ACK from the server */
    uint32_t isn[2];   /* their sequence numbers */
    pt_time syn_ts;    /* last SYN (retries move it) */
    pt_time synack_ts; /* first SYN-ACK */
    bool fin[2];       /* FIN seen in that direction */
    bool peer_ack_ok[2];
    uint32_t peer_ack[2]; /* last ACK number acknowledging direction d, before d started */
    uint16_t mss[2];      /* MSS announced by the receiver of direction d (0 = unknown) */
    uint32_t syn_retries;
};

typedef struct pt_flow_table pt_flow_table;

pt_flow_table *pt_flow_table_new(void);
/* Frees the table and every flow still in it (without callbacks). */
void pt_flow_table_free(pt_flow_table *ft);

/* The first 8 address bytes at `p` as a big-endian number (IPv4 fills the top 32 bits), so
 * that comparing numbers orders addresses as comparing their bytes does. */
static inline uint64_t pt_flow_addr_hi(const uint8_t *p, bool v6)
{
    if (v6) {
        uint64_t v;
        memcpy(&v, p, sizeof v);
        return GUINT64_FROM_BE(v);
    }
    uint32_t v;
    memcpy(&v, p, sizeof v);
    return (uint64_t)GUINT32_FROM_BE(v) << 32;
}

/* The last 8 bytes of an IPv6 address as a big-endian number (0 for IPv4). */
static inline uint64_t pt_flow_addr_lo(const uint8_t *p, bool v6)
{
    if (!v6) {
        return 0;
    }
    uint64_t v;
    memcpy(&v, p + 8, sizeof v);
    return GUINT64_FROM_BE(v);
}

/* Fill *key for a packet's addresses and ports; *swapped tells whether the packet's source
 * is endpoint 1 of the key. Inline: it runs for every packet. The endpoints are ordered with
 * integer compares (no memcmp call) and the key is written with fixed-size copies. */
static inline void pt_flow_table_key(pt_flow_key *key, const pt_addr *src, uint16_t sport,
                                     const pt_addr *dst, uint16_t dport, bool *swapped)
{
    bool v6 = src->family == 6;
    uint64_t sh = pt_flow_addr_hi(src->bytes, v6), dh = pt_flow_addr_hi(dst->bytes, v6);
    uint64_t sl = pt_flow_addr_lo(src->bytes, v6), dl = pt_flow_addr_lo(dst->bytes, v6);
    bool swap = sh != dh ? sh > dh : sl != dl ? sl > dl : sport > dport;
    const pt_addr *a0 = swap ? dst : src, *a1 = swap ? src : dst;
    *key =
        (pt_flow_key){.port = {swap ? dport : sport, swap ? sport : dport}, .family = src->family};
    if (v6) {
        memcpy(key->addr[0], a0->bytes, 16);
        memcpy(key->addr[1], a1->bytes, 16);
    } else {
        memcpy(key->addr[0], a0->bytes, 4);
        memcpy(key->addr[1], a1->bytes, 4);
    }
    *swapped = swap;
}

pt_flow *pt_flow_table_lookup(pt_flow_table *ft, const pt_flow_key *key);
/* Allocate a flow for `key`, give it the next printable id, add it to the table and to the
 * tail of the open list. */
pt_flow *pt_flow_table_add(pt_flow_table *ft, const pt_flow_key *key);
/* Remove a flow from the table and its lists and free it (its buffers must be empty). */
void pt_flow_table_remove(pt_flow_table *ft, pt_flow *f);

/* Open list (least recently used first). */
void pt_flow_table_touch_slow(pt_flow_table *ft, pt_flow *f);
/* Move a flow to the tail of its list. Inline test for the common case: a flow already at
 * the tail (or on no list) has no successor and stays where it is. */
static inline void pt_flow_table_touch(pt_flow_table *ft, pt_flow *f)
{
    if (f->next != NULL) {
        pt_flow_table_touch_slow(ft, f);
    }
}
pt_flow *pt_flow_table_oldest_open(const pt_flow_table *ft);
/* Move a flow from the open list to the tail of the closed FIFO. */
void pt_flow_table_close(pt_flow_table *ft, pt_flow *f);
pt_flow *pt_flow_table_oldest_closed(const pt_flow_table *ft);

/* Buffering list: flows that hold out-of-order bytes, least recently buffering first. */
void pt_flow_table_buf_touch(pt_flow_table *ft, pt_flow *f);
void pt_flow_table_buf_unlink(pt_flow_table *ft, pt_flow *f);
pt_flow *pt_flow_table_oldest_buffering(const pt_flow_table *ft);

/* Flows in the table: open + closed. */
uint32_t pt_flow_table_count(const pt_flow_table *ft);
uint32_t pt_flow_table_open_count(const pt_flow_table *ft);

#endif
