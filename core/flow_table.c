/* flow_table.c — TCP flows keyed by the canonical 5-tuple, with an LRU list of open flows,
 * a FIFO of closed ones and a list of flows holding out-of-order bytes. */
#include "flow_table.h"

#include <glib.h>
#include <string.h>

/* Open-addressing index: slots start at this many and double when half full. */
#define PT_FLOW_INDEX_MIN_SLOTS 1024u

/* An intrusive doubly-linked list over one pair of link fields. */
typedef struct flow_list {
    pt_flow *head, *tail;
    uint32_t count;
} flow_list;

/* One index slot: the key's hash kept beside the flow, so a probe reads the flow (whose key
 * starts it) only when the hash matches. */
typedef struct flow_slot {
    uint32_t hash;
    pt_flow *flow; /* NULL: empty */
} flow_slot;

struct pt_flow_table {
    flow_slot *slots; /* linear probing, backward-shift deletion (no tombstones) */
    uint32_t mask;    /* slots - 1 (a power of two) */
    uint32_t count;
    uint64_t seed[6]; /* random multipliers (odd) and offset of flow_key_hash() */
    flow_list open, closed, buffering;
    uint64_t next_id;
};

G_STATIC_ASSERT(sizeof(pt_flow_key) == 40);

/* Multilinear hash of the key's five 64-bit words with random odd multipliers drawn per
 * table (a universal family: crafted tuples cannot aim at one slot without the seed). The
 * five products are independent, so they run in parallel. */
static uint32_t flow_key_hash(const pt_flow_table *ft, const pt_flow_key *k)
{
    uint64_t w[5];
    memcpy(w, k, sizeof w);
    uint64_t h = ft->seed[5] + w[0] * ft->seed[0] + w[1] * ft->seed[1] + w[2] * ft->seed[2] +
                 w[3] * ft->seed[3] + w[4] * ft->seed[4];
    return (uint32_t)(h >> 32);
}

static bool flow_key_same(const pt_flow_key *a, const pt_flow_key *b)
{
    uint64_t x[5], y[5];
    memcpy(x, a, sizeof x);
    memcpy(y, b, sizeof y);
    return ((x[0] ^ y[0]) | (x[1] ^ y[1]) | (x[2] ^ y[2]) | (x[3] ^ y[3]) | (x[4] ^ y[4])) == 0;
}

/* Put `f` (hash h) in the first free slot of its probe sequence. */
static void index_place(pt_flow_table *ft, uint32_t h, pt_flow *f)
{
    uint32_t i = h & ft->mask;
    while (ft->slots[i].flow != NULL) {
        i = (i + 1) & ft->mask;
    }
    ft->slots[i].hash = h;
    ft->slots[i].flow = f;
}

/* Double the slots (only when the table grows: never in the steady state). */
static void index_grow(pt_flow_table *ft)
{
    flow_slot *old = ft->slots;
    uint32_t old_n = ft->mask + 1;
    ft->slots = g_new0(flow_slot, (gsize)old_n * 2);
    ft->mask = old_n * 2 - 1;
    for (uint32_t i = 0; i < old_n; i++) {
        if (old[i].flow != NULL) {
            index_place(ft, old[i].hash, old[i].flow);
        }
    }
    g_free(old);
}

/* Remove `f` from the index, shifting later entries of the cluster back so that lookups
 * never need tombstones. */
static void index_remove(pt_flow_table *ft, pt_flow *f)
{
    uint32_t i = f->hash & ft->mask;
    while (ft->slots[i].flow != f) {
        if (ft->slots[i].flow == NULL) {
            return;
        }
        i = (i + 1) & ft->mask;
    }
    uint32_t j = i;
    for (;;) {
        j = (j + 1) & ft->mask;
        if (ft->slots[j].flow == NULL) {
            break;
        }
        uint32_t home = ft->slots[j].hash & ft->mask;
        /* Move j back to i unless its home lies cyclically in (i, j]. */
        bool stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
        if (!stays) {
            ft->slots[i] = ft->slots[j];
            i = j;
        }
    }
    ft->slots[i].flow = NULL;
    ft->slots[i].hash = 0;
    ft->count--;
}

pt_flow_table *pt_flow_table_new(void)
{
    pt_flow_table *ft = g_new0(pt_flow_table, 1);
    ft->slots = g_new0(flow_slot, PT_FLOW_INDEX_MIN_SLOTS);
    ft->mask = PT_FLOW_INDEX_MIN_SLOTS - 1;
    for (int i = 0; i < 6; i++) {
        ft->seed[i] = ((uint64_t)g_random_int() << 32) | g_random_int() | 1u;
    }
    return ft;
}

void pt_flow_table_free(pt_flow_table *ft)
{
    if (ft == NULL) {
        return;
    }
    for (uint32_t i = 0; i <= ft->mask; i++) {
        g_free(ft->slots[i].flow);
    }
    g_free(ft->slots);
    g_free(ft);
}

pt_flow *pt_flow_table_lookup(pt_flow_table *ft, const pt_flow_key *key)
{
    uint32_t h = flow_key_hash(ft, key);
    uint32_t i = h & ft->mask;
    const flow_slot *s;
    while ((s = &ft->slots[i])->flow != NULL) {
        if (s->hash == h && flow_key_same(&s->flow->key, key)) {
            return s->flow;
        }
        i = (i + 1) & ft->mask;
    }
    return NULL;
}

static void list_append(flow_list *l, pt_flow *f)
{
    f->next = NULL;
    f->prev = l->tail;
    if (l->tail != NULL) {
        l->tail->next = f;
    } else {
        l->head = f;
    }
    l->tail = f;
    l->count++;
}

static void list_unlink(flow_list *l, pt_flow *f)
{
    if (f->prev != NULL) {
        f->prev->next = f->next;
    } else {
        l->head = f->next;
    }
    if (f->next != NULL) {
        f->next->prev = f->prev;
    } else {
        l->tail = f->prev;
    }
    f->prev = f->next = NULL;
    l->count--;
}

/* The flow's current list. */
static flow_list *flow_list_of(pt_flow_table *ft, pt_flow *f)
{
    switch (f->list) {
    case PT_LIST_OPEN:
        return &ft->open;
    case PT_LIST_CLOSED:
        return &ft->closed;
    default:
        return NULL;
    }
}

/* Short printable id: "C" and the flow's number in base 36. */
static void flow_make_id(char *out, size_t n, uint64_t num)
{
    static const char digits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
    char tmp[16];
    size_t len = 0;
    do {
        tmp[len++] = digits[num % 36];
        num /= 36;
    } while (num != 0 && len < sizeof tmp);
    size_t o = 0;
    out[o++] = 'C';
    while (len > 0 && o + 1 < n) {
        out[o++] = tmp[--len];
    }
    out[o] = '\0';
}

pt_flow *pt_flow_table_add(pt_flow_table *ft, const pt_flow_key *key)
{
    pt_flow *f = g_new0(pt_flow, 1);
    f->key = *key;
    f->info.rtt_us = -1;
    flow_make_id(f->info.id, sizeof f->info.id, ++ft->next_id);
    f->hash = flow_key_hash(ft, key);
    if ((ft->count + 1) * 2 > ft->mask + 1) {
        index_grow(ft);
    }
    index_place(ft, f->hash, f);
    ft->count++;
    f->list = PT_LIST_OPEN;
    list_append(&ft->open, f);
    return f;
}

void pt_flow_table_remove(pt_flow_table *ft, pt_flow *f)
{
    flow_list *l = flow_list_of(ft, f);
    if (l != NULL) {
        list_unlink(l, f);
    }
    pt_flow_table_buf_unlink(ft, f);
    index_remove(ft, f);
    g_free(f);
}

/* pt_flow_table_touch() of a flow that is not at the tail of its list. */
void pt_flow_table_touch_slow(pt_flow_table *ft, pt_flow *f)
{
    flow_list *l = flow_list_of(ft, f);
    if (l == NULL || l->tail == f) {
        return;
    }
    list_unlink(l, f);
    list_append(l, f);
}

pt_flow *pt_flow_table_oldest_open(const pt_flow_table *ft)
{
    return ft->open.head;
}

void pt_flow_table_close(pt_flow_table *ft, pt_flow *f)
{
    flow_list *l = flow_list_of(ft, f);
    if (l != NULL) {
        list_unlink(l, f);
    }
    pt_flow_table_buf_unlink(ft, f);
    f->list = PT_LIST_CLOSED;
    list_append(&ft->closed, f);
}

pt_flow *pt_flow_table_oldest_closed(const pt_flow_table *ft)
{
    return ft->closed.head;
}

void pt_flow_table_buf_touch(pt_flow_table *ft, pt_flow *f)
{
    flow_list *l = &ft->buffering;
    if (f->on_buf) {
        if (l->tail == f) {
            return;
        }
        pt_flow_table_buf_unlink(ft, f);
    }
    f->buf_next = NULL;
    f->buf_prev = l->tail;
    if (l->tail != NULL) {
        l->tail->buf_next = f;
    } else {
        l->head = f;
    }
    l->tail = f;
    l->count++;
    f->on_buf = true;
}

void pt_flow_table_buf_unlink(pt_flow_table *ft, pt_flow *f)
{
    if (!f->on_buf) {
        return;
    }
    flow_list *l = &ft->buffering;
    if (f->buf_prev != NULL) {
        f->buf_prev->buf_next = f->buf_next;
    } else {
        l->head = f->buf_next;
    }
    if (f->buf_next != NULL) {
        f->buf_next->buf_prev = f->buf_prev;
    } else {
        l->tail = f->buf_prev;
    }
    f->buf_prev = f->buf_next = NULL;
    l->count--;
    f->on_buf = false;
}

pt_flow *pt_flow_table_oldest_buffering(const pt_flow_table *ft)
{
    return ft->buffering.head;
}

uint32_t pt_flow_table_count(const pt_flow_table *ft)
{
    return ft->count;
}

uint32_t pt_flow_table_open_count(const pt_flow_table *ft)
{
    return ft->open.count;
}
