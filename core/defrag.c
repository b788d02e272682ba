/* defrag.c — IPv4 (RFC 791 §3.2, RFC 815) and IPv6 (RFC 8200 §4.5, RFC 5722) fragment
 * reassembly. Datagrams in progress sit in a chained hash table keyed by (family, source,
 * destination, id[, protocol for IPv4]) and in a list ordered by arrival, so the timeout and
 * the memory cap drop the oldest first. Memory is allocated per datagram, never per packet
 * of unfragmented traffic. */
#include "defrag.h"

#include <stdlib.h>
#include <string.h>

#include "addr.h"

/* Largest IP datagram payload offset + length (RFC 791, RFC 8200). */
#define DEFRAG_MAX_PAYLOAD 65535u
/* First allocation of a datagram's payload buffer; it doubles up to DEFRAG_MAX_PAYLOAD. */
#define DEFRAG_MIN_BUF 2048u
/* First allocation of a datagram's fragment list. */
#define DEFRAG_MIN_RANGES 8u

typedef struct range {
    uint32_t start, end; /* payload bytes [start, end) */
} range;

typedef struct dg {
    struct dg *older, *newer; /* arrival list */
    struct dg *hnext;         /* hash chain */
    uint32_t hash;
    uint8_t family, proto;
    uint32_t id;
    pt_addr src, dst;
    pt_time first; /* capture time of the first fragment seen */

    uint8_t *hdr; /* header of the offset-0 fragment (IPv6: unfragmentable part) */
    uint32_t hdr_len;
    uint16_t ip6_nh;  /* IPv6: offset in hdr of the byte naming the fragment header */
    uint8_t ip6_next; /* IPv6: next header after the fragment header (offset 0) */
    uint8_t *buf;     /* payload by offset */
    uint32_t cap;     /* bytes allocated at buf */
    uint32_t total;   /* payload length, known once the last fragment came */
    bool have_last;
    range *ranges; /* fragments held, sorted by start */
    uint32_t n_ranges, ranges_cap;
    size_t mem; /* bytes accounted to this datagram */
} dg;

struct pt_defrag {
    pt_defrag_limits lim;
    dg **buckets;
    uint32_t mask;
    dg *oldest, *newest;
    pt_defrag_stats st;
    uint8_t *out; /* the last completed datagram */
    size_t out_cap;
};

void pt_defrag_limits_default(pt_defrag_limits *l)
{
    l->max_bytes = PT_DEFRAG_MAX_BYTES;
    l->timeout_us = PT_DEFRAG_TIMEOUT_US;
    l->max_datagrams = PT_DEFRAG_MAX_DATAGRAMS;
    l->max_fragments = PT_DEFRAG_MAX_FRAGMENTS;
    l->max_header = PT_DEFRAG_MAX_HEADER;
}

pt_defrag *pt_defrag_new(const pt_defrag_limits *limits)
{
    pt_defrag *d = calloc(1, sizeof *d);
    uint32_t nb = 64;

    if (!d)
        return NULL;
    pt_defrag_limits_default(&d->lim);
    if (limits) {
        if (limits->max_bytes)
            d->lim.max_bytes = limits->max_bytes;
        if (limits->timeout_us)
            d->lim.timeout_us = limits->timeout_us;
        if (limits->max_datagrams)
            d->lim.max_datagrams = limits->max_datagrams;
        if (limits->max_fragments)
            d->lim.max_fragments = limits->max_fragments;
        if (limits->max_header)
            d->lim.max_header = limits->max_header;
    }
    while (nb < d->lim.max_datagrams && nb < (1u << 20))
        nb <<= 1;
    d->buckets = calloc(nb, sizeof *d->buckets);
    if (!d->buckets) {
        free(d);
        return NULL;
    }
    d->mask = nb - 1;
    return d;
}

static void dg_unlink(pt_defrag *d, dg *g)
{
    dg **pp = &d->buckets[g->hash & d->mask];

    while (*pp != g)
        pp = &(*pp)->hnext;
    *pp = g->hnext;
    if (g->older)
        g->older->newer = g->newer;
    else
        d->oldest = g->newer;
    if (g->newer)
        g->newer->older = g->older;
    else
        d->newest = g->older;
    d->st.bytes -= g->mem;
    d->st.pending--;
    free(g->hdr);
    free(g->buf);
    free(g->ranges);
    free(g);
}

/* Give up a datagram; `counter` (may be NULL) says why. */
static void dg_drop(pt_defrag *d, dg *g, uint64_t *counter)
{
    if (counter)
        (*counter)++;
    d->st.dropped++;
    dg_unlink(d, g);
}

void pt_defrag_free(pt_defrag *d)
{
    if (!d)
        return;
    while (d->oldest)
        dg_unlink(d, d->oldest);
    free(d->buckets);
    free(d->out);
    free(d);
}

void pt_defrag_expire(pt_defrag *d, const pt_time *now)
{
    while (d->oldest && pt_time_diff_us(now, &d->oldest->first) > (int64_t)d->lim.timeout_us)
        dg_drop(d, d->oldest, &d->st.timed_out);
}

void pt_defrag_get_stats(const pt_defrag *d, pt_defrag_stats *out)
{
    *out = d->st;
}

static uint32_t key_hash(const pt_packet *p)
{
    uint32_t h = pt_addr_hash(&p->src, p->ip_id);

    h = pt_addr_hash(&p->dst, h);
    return (h ^ (p->ip_version == 4 ? p->ip_proto : 0)) * 2654435761u;
}

static bool key_match(const dg *g, const pt_packet *p)
{
    return g->family == p->ip_version && g->id == p->ip_id &&
           (g->family == 6 || g->proto == p->ip_proto) && pt_addr_equal(&g->src, &p->src) &&
           pt_addr_equal(&g->dst, &p->dst);
}

/* Account `more` bytes to datagram `g`, dropping the oldest other datagrams to stay under the
 * memory cap. Returns false when even that is not enough. */
static bool mem_reserve(pt_defrag *d, dg *g, size_t more)
{
    while (d->st.bytes + more > d->lim.max_bytes) {
        dg *victim = d->oldest;

        if (victim == g)
            victim = g->newer;
        if (!victim)
            return false;
        dg_drop(d, victim, &d->st.dropped_cap);
    }
    d->st.bytes += more;
    g->mem += more;
    if (d->st.bytes > d->st.peak_bytes)
        d->st.peak_bytes = d->st.bytes;
    return true;
}

static dg *dg_new(pt_defrag *d, const pt_packet *p, uint32_t hash)
{
    dg *g;

    if (d->st.pending >= d->lim.max_datagrams && d->oldest)
        dg_drop(d, d->oldest, &d->st.dropped_cap);
    g = calloc(1, sizeof *g);
    if (!g)
        return NULL;
    g->hash = hash;
    g->family = p->ip_version;
    g->proto = p->ip_proto;
    g->id = p->ip_id;
    g->src = p->src;
    g->dst = p->dst;
    g->first = p->ts;
    g->hnext = d->buckets[hash & d->mask];
    d->buckets[hash & d->mask] = g;
    g->older = d->newest;
    if (d->newest)
        d->newest->newer = g;
    else
        d->oldest = g;
    d->newest = g;
    d->st.pending++;
    if (!mem_reserve(d, g, sizeof *g)) {
        dg_drop(d, g, &d->st.dropped_cap);
        return NULL;
    }
    return g;
}

/* Make room for payload bytes up to `end` in g->buf. */
static bool dg_grow_buf(pt_defrag *d, dg *g, uint32_t end)
{
    uint32_t cap = g->cap ? g->cap : DEFRAG_MIN_BUF;
    uint8_t *nb;

    if (end <= g->cap)
        return true;
    while (cap < end)
        cap *= 2;
    if (cap > DEFRAG_MAX_PAYLOAD)
        cap = DEFRAG_MAX_PAYLOAD;
    if (!mem_reserve(d, g, cap - g->cap))
        return false;
    nb = realloc(g->buf, cap);
    if (!nb)
        return false;
    g->buf = nb;
    g->cap = cap;
    return true;
}

/* Room for one more entry in g->ranges. */
static bool dg_grow_ranges(pt_defrag *d, dg *g)
{
    uint32_t n = g->ranges_cap ? g->ranges_cap * 2 : DEFRAG_MIN_RANGES;
    range *nr;

    if (g->n_ranges < g->ranges_cap)
        return true;
    if (!mem_reserve(d, g, (size_t)(n - g->ranges_cap) * sizeof *nr))
        return false;
    nr = realloc(g->ranges, (size_t)n * sizeof *nr);
    if (!nr)
        return false;
    g->ranges = nr;
    g->ranges_cap = n;
    return true;
}

/* Keep the header of the offset-0 fragment: the IPv4 header with its options, or the IPv6
 * header and extension headers before the fragment header. */
static bool dg_keep_header(pt_defrag *d, dg *g, const pt_packet *p)
{
    size_t n = p->ip_version == 4 ? (size_t)(p->frag_payload - p->l3) : p->ip6_frag_hdr;

    if (!mem_reserve(d, g, n))
        return false;
    g->hdr = malloc(n ? n : 1);
    if (!g->hdr)
        return false;
    memcpy(g->hdr, p->l3, n);
    g->hdr_len = (uint32_t)n;
    if (p->ip_version == 6) {
        g->ip6_nh = p->ip6_frag_nh;
        g->ip6_next = p->ip_proto;
    }
    return true;
}

/* Copy the parts of [start, end) not yet held (first copy wins), then record the range in
 * order. */
static void dg_store(dg *g, uint32_t start, uint32_t end, const uint8_t *data)
{
    uint32_t pos = start, i, at = g->n_ranges;

    for (i = 0; i < g->n_ranges && pos < end; i++) {
        const range *r = &g->ranges[i];

        if (r->end <= pos)
            continue;
        if (r->start >= end)
            break;
        if (r->start > pos)
            memcpy(g->buf + pos, data + (pos - start), r->start - pos);
        if (r->end > pos)
            pos = r->end;
    }
    if (pos < end)
        memcpy(g->buf + pos, data + (pos - start), end - pos);
    for (i = 0; i < g->n_ranges; i++) {
        if (g->ranges[i].start > start) {
            at = i;
            break;
        }
    }
    memmove(&g->ranges[at + 1], &g->ranges[at], (g->n_ranges - at) * sizeof *g->ranges);
    g->ranges[at].start = start;
    g->ranges[at].end = end;
    g->n_ranges++;
}

/* Whether the held fragments cover [0, total) without a hole. */
static bool dg_complete(const dg *g)
{
    uint32_t reach = 0;

    if (!g->have_last || !g->hdr)
        return false;
    for (uint32_t i = 0; i < g->n_ranges; i++) {
        if (g->ranges[i].start > reach)
            return false;
        if (g->ranges[i].end > reach)
            reach = g->ranges[i].end;
    }
    return reach >= g->total;
}

/* RFC 1071 checksum of an IPv4 header. */
static uint16_t ipv4_checksum(const uint8_t *h, size_t n)
{
    uint32_t sum = 0;

    for (size_t i = 0; i + 1 < n; i += 2)
        sum += (uint32_t)h[i] << 8 | h[i + 1];
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

/* Build the whole datagram in d->out from g, then forget g. */
static int dg_finish(pt_defrag *d, dg *g, const uint8_t **datagram, size_t *len)
{
    size_t n = (size_t)g->hdr_len + g->total;
    size_t ip_len = g->family == 4 ? n : n - 40;
    uint8_t *o;

    if (g->family == 6 ? g->hdr_len < 40 : g->hdr_len < 20) {
        dg_drop(d, g, &d->st.malformed);
        return PT_AGAIN;
    }
    if (ip_len > DEFRAG_MAX_PAYLOAD) {
        dg_drop(d, g, &d->st.malformed);
        return PT_AGAIN;
    }
    if (n > d->out_cap) {
        o = realloc(d->out, n);
        if (!o) {
            dg_drop(d, g, &d->st.dropped_cap);
            return PT_AGAIN;
        }
        d->out = o;
        d->out_cap = n;
    }
    o = d->out;
    memcpy(o, g->hdr, g->hdr_len);
    if (g->total > 0)
        memcpy(o + g->hdr_len, g->buf, g->total);
    if (g->family == 4) {
        o[2] = (uint8_t)(ip_len >> 8);
        o[3] = (uint8_t)ip_len;
        o[6] &= 0x40; /* keep DF; clear MF and the offset */
        o[7] = 0;
        o[10] = o[11] = 0;
        uint16_t sum = ipv4_checksum(o, g->hdr_len);
        o[10] = (uint8_t)(sum >> 8);
        o[11] = (uint8_t)sum;
    } else {
        o[4] = (uint8_t)(ip_len >> 8);
        o[5] = (uint8_t)ip_len;
        o[g->ip6_nh] = g->ip6_next;
    }
    *datagram = o;
    *len = n;
    d->st.reassembled++;
    dg_unlink(d, g);
    return PT_OK;
}

/* What a fragment's range does to the ranges already held. */
typedef enum { FRAG_NEW, FRAG_DUPLICATE, FRAG_OVERLAP } frag_fit;

static frag_fit dg_fit(const dg *g, uint32_t start, uint32_t end)
{
    frag_fit fit = FRAG_NEW;

    for (uint32_t i = 0; i < g->n_ranges; i++) {
        const range *r = &g->ranges[i];

        if (r->start == start && r->end == end)
            return FRAG_DUPLICATE;
        if (r->start < end && start < r->end)
            fit = FRAG_OVERLAP;
    }
    return fit;
}

int pt_defrag_add(pt_defrag *d, const pt_packet *p, const uint8_t **datagram, size_t *len)
{
    uint32_t start, end, hash;
    size_t off_in_l3, wire;
    dg *g;
    frag_fit fit;

    if (!p->is_fragment || (p->ip_version != 4 && p->ip_version != 6) || !p->l3 || !p->frag_payload)
        return PT_ERROR;
    d->st.fragments++;
    pt_defrag_expire(d, &p->ts);

    off_in_l3 = (size_t)(p->frag_payload - p->l3);
    if (off_in_l3 > p->l3_wire_len) {
        d->st.malformed++;
        return PT_AGAIN;
    }
    wire = p->l3_wire_len - off_in_l3;
    if (p->frag_payload_len < wire) {
        d->st.truncated++;
        return PT_AGAIN;
    }
    start = p->frag_offset;
    if (wire > DEFRAG_MAX_PAYLOAD - start) {
        d->st.malformed++;
        return PT_AGAIN;
    }
    end = start + (uint32_t)wire;
    /* Every fragment but the last carries a non-empty multiple of 8 bytes. */
    if (p->more_fragments && (wire == 0 || wire % 8 != 0)) {
        d->st.malformed++;
        return PT_AGAIN;
    }

    hash = key_hash(p);
    for (g = d->buckets[hash & d->mask]; g; g = g->hnext)
        if (g->hash == hash && key_match(g, p))
            break;
    if (!g) {
        g = dg_new(d, p, hash);
        if (!g)
            return PT_AGAIN;
    }

    fit = dg_fit(g, start, end);
    if (fit == FRAG_DUPLICATE) {
        d->st.duplicates++;
        return PT_AGAIN;
    }
    if (fit == FRAG_OVERLAP) {
        d->st.overlaps++;
        if (g->family == 6) {
            dg_drop(d, g, NULL);
            return PT_AGAIN;
        }
    }
    /* The last fragment fixes the length; data past it, or a second different end, is
     * impossible. */
    if (!p->more_fragments) {
        uint32_t reach = 0;

        for (uint32_t i = 0; i < g->n_ranges; i++)
            if (g->ranges[i].end > reach)
                reach = g->ranges[i].end;
        if ((g->have_last && g->total != end) || reach > end) {
            dg_drop(d, g, &d->st.malformed);
            return PT_AGAIN;
        }
        g->have_last = true;
        g->total = end;
    } else if (g->have_last && end > g->total) {
        dg_drop(d, g, &d->st.malformed);
        return PT_AGAIN;
    }
    if (g->n_ranges >= d->lim.max_fragments) {
        dg_drop(d, g, &d->st.too_many);
        return PT_AGAIN;
    }
    if (start == 0 && !g->hdr) {
        size_t hl = p->ip_version == 4 ? off_in_l3 : p->ip6_frag_hdr;

        if (hl > d->lim.max_header || hl > p->l3_len ||
            (p->ip_version == 6 && p->ip6_frag_nh >= hl)) {
            dg_drop(d, g, &d->st.malformed);
            return PT_AGAIN;
        }
        if (!dg_keep_header(d, g, p)) {
            dg_drop(d, g, &d->st.dropped_cap);
            return PT_AGAIN;
        }
    }
    if (!dg_grow_buf(d, g, end) || !dg_grow_ranges(d, g)) {
        dg_drop(d, g, &d->st.dropped_cap);
        return PT_AGAIN;
    }
    dg_store(g, start, end, p->frag_payload);
    if (dg_complete(g))
        return dg_finish(d, g, datagram, len);
    return PT_AGAIN;
}
