/* defrag.h — IPv4 (RFC 791) and IPv6 (RFC 8200) fragment reassembly with a memory cap and a
 * timeout measured in capture time.
 *
 * Overlap policy: for IPv4 the first copy of a byte wins (later overlapping bytes are
 * ignored and counted); for IPv6 any overlap abandons the whole datagram (RFC 5722). A
 * fragment identical in offset and length to one already held is a duplicate: ignored and
 * counted, for both families.
 */
#ifndef PT_CORE_DEFRAG_H
#define PT_CORE_DEFRAG_H

#include <stddef.h>
#include <stdint.h>

#include "decode.h"

/* Defaults of pt_defrag_limits. */
#define PT_DEFRAG_MAX_BYTES     (4u * 1024u * 1024u) /* bytes held for all datagrams */
#define PT_DEFRAG_TIMEOUT_US    30000000u /* since a datagram's first fragment (capture time) */
#define PT_DEFRAG_MAX_DATAGRAMS 1024u     /* datagrams in progress */
#define PT_DEFRAG_MAX_FRAGMENTS 128u      /* fragments held for one datagram */
#define PT_DEFRAG_MAX_HEADER    1024u     /* IPv4 header / IPv6 unfragmentable part */

typedef struct pt_defrag_limits {
    size_t max_bytes;       /* memory cap; the oldest datagrams are dropped to stay under it */
    uint64_t timeout_us;    /* a datagram not complete after this much capture time is dropped */
    uint32_t max_datagrams; /* in progress at once; the oldest is dropped for a new one */
    uint32_t max_fragments; /* per datagram; more drops the datagram */
    uint32_t max_header;    /* longest header kept to rebuild a datagram */
} pt_defrag_limits;

typedef struct pt_defrag_stats {
    uint64_t fragments;   /* fragments handed to pt_defrag_add() */
    uint64_t reassembled; /* datagrams completed */
    uint64_t timed_out;   /* datagrams dropped by the timeout */
    uint64_t dropped_cap; /* datagrams dropped for the memory cap or max_datagrams */
    uint64_t overlaps;    /* fragments overlapping data already held */
    uint64_t duplicates;  /* fragments identical in place to one already held */
    uint64_t malformed;   /* fragments with impossible values (datagram dropped if held) */
    uint64_t truncated;   /* fragments cut by the snaplen (unusable) */
    uint64_t too_many;    /* datagrams dropped for exceeding max_fragments */
    uint64_t dropped;     /* all datagrams given up, whatever the reason */
    uint64_t pending;     /* datagrams in progress now */
    uint64_t bytes;       /* bytes held now */
    uint64_t peak_bytes;  /* most bytes held at once */
} pt_defrag_stats;

typedef struct pt_defrag pt_defrag;

/* Fill *l with the defaults above. */
void pt_defrag_limits_default(pt_defrag_limits *l);

/* A reassembler; `limits` is copied (NULL = defaults; zero fields take the default). */
pt_defrag *pt_defrag_new(const pt_defrag_limits *limits);
void pt_defrag_free(pt_defrag *d);

/* Add one fragment (a packet for which pt_decode_*() returned PT_DECODE_FRAGMENT). Returns
 * PT_OK when it completed a datagram: *datagram and *len then hold the whole IP datagram,
 * its header rebuilt (right length, no fragment fields), valid until the next call on `d`;
 * decode it with pt_decode_ip() on a copy of the packet to keep its link fields. Returns
 * PT_AGAIN when the fragment was held or given up (see the counters), PT_ERROR when `frag`
 * is not a fragment. Also drops datagrams that timed out by frag->ts. */
int pt_defrag_add(pt_defrag *d, const pt_packet *frag, const uint8_t **datagram, size_t *len);

/* Drop datagrams older than the timeout at capture time `now` (for idle periods). */
void pt_defrag_expire(pt_defrag *d, const pt_time *now);

void pt_defrag_get_stats(const pt_defrag *d, pt_defrag_stats *out);

#endif
