/* flow_table.c — TCP flows keyed by the canonical 5-tuple, with an LRU list of open flows,
 * a FIFO of closed ones and a list of flows holding out-of-order bytes. */
#include "flow_table.h"

#include <glib.h>
#include <string.h>

/* An intrusive doubly-linked list over one pair of link fields. */
typedef struct flow_list {
    pt_flow *head, *tail;
    uint32_t count;
} flow_list;

struct pt_flow_table {
    GHashTable *map; /* pt_flow_key * -> pt_flow * (key stored inside the flow) */
    pt_flow *last;   /* the flow found last: packets of a flow come in runs */
    flow_list open, closed, buffering;
    uint64_t next_id;
};

/* Per-run hash seed, so crafted tuples cannot aim at one bucket. GHashFunc takes no user
 * data, hence a file-level value set once. */
static uint32_t flow_hash_seed;

G_STATIC_ASSERT(sizeof(pt_flow_key) == 40);

/* Multiply-xorshift over the key's five 64-bit words, seeded. */
static guint flow_key_hash(gconstpointer p)
{
    uint64_t w[5];
    memcpy(w, p, sizeof w);
    uint64_t h = flow_hash_seed;
    for (int i = 0; i < 5; i++) {
        h = (h ^ w[i]) * 0x9E3779B97F4A7C15ull;
        h ^= h >> 29;
    }
    return (guint)(h ^ (h >> 32));
}

static bool flow_key_same(const pt_flow_key *a, const pt_flow_key *b)
{
    uint64_t x[5], y[5];
    memcpy(x, a, sizeof x);
    memcpy(y, b, sizeof y);
    return ((x[0] ^ y[0]) | (x[1] ^ y[1]) | (x[2] ^ y[2]) | (x[3] ^ y[3]) | (x[4] ^ y[4])) == 0;
}

static gboolean flow_key_equal(gconstpointer a, gconstpointer b)
{
    return flow_key_same(a, b);
}

pt_flow_table *pt_flow_table_new(void)
{
    pt_flow_table *ft = g_new0(pt_flow_table, 1);
    ft->map = g_hash_table_new(flow_key_hash, flow_key_equal);
    if (flow_hash_seed == 0) {
        flow_hash_seed = g_random_int() | 1u;
    }
    return ft;
}

void pt_flow_table_free(pt_flow_table *ft)
{
    if (ft == NULL) {
        return;
    }
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, ft->map);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        g_free(v);
    }
    g_hash_table_destroy(ft->map);
    g_free(ft);
}

/* Compare endpoint (a, pa) with (b, pb): address bytes then port. */
static int endpoint_cmp(const uint8_t *a, uint16_t pa, const uint8_t *b, uint16_t pb, size_t n)
{
    int c = memcmp(a, b, n);
    if (c != 0) {
        return c;
    }
    return (pa > pb) - (pa < pb);
}

void pt_flow_table_key(pt_flow_key *key, const pt_addr *src, uint16_t sport, const pt_addr *dst,
                       uint16_t dport, bool *swapped)
{
    memset(key, 0, sizeof *key);
    size_t n = src->family == 6 ? 16 : 4;
    key->family = src->family;
    bool swap = endpoint_cmp(src->bytes, sport, dst->bytes, dport, n) > 0;
    const pt_addr *a0 = swap ? dst : src, *a1 = swap ? src : dst;
    key->port[0] = swap ? dport : sport;
    key->port[1] = swap ? sport : dport;
    memcpy(key->addr[0], a0->bytes, n);
    memcpy(key->addr[1], a1->bytes, n);
    *swapped = swap;
}

pt_flow *pt_flow_table_lookup(pt_flow_table *ft, const pt_flow_key *key)
{
    if (ft->last != NULL && flow_key_same(&ft->last->key, key)) {
        return ft->last;
    }
    pt_flow *f = g_hash_table_lookup(ft->map, key);
    if (f != NULL) {
        ft->last = f;
    }
    return f;
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
    g_hash_table_insert(ft->map, &f->key, f);
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
    g_hash_table_remove(ft->map, &f->key);
    if (ft->last == f) {
        ft->last = NULL;
    }
    g_free(f);
}

void pt_flow_table_touch(pt_flow_table *ft, pt_flow *f)
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
    return g_hash_table_size(ft->map);
}

uint32_t pt_flow_table_open_count(const pt_flow_table *ft)
{
    return ft->open.count;
}
