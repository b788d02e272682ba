/* mc_queue.c — the FIFO of memcached requests waiting for their responses (memcached answers
 * in order on a connection), with each request's keys kept in preallocated slots. */
#include <stdlib.h>
#include <string.h>

#include "memcached.h"

/* First capacity of the ring; it doubles up to the max_pending option. */
#define MC_QUEUE_INITIAL 8

bool mc_queue_init(mc_queue *q, size_t max_keys, size_t max_key)
{
    memset(q, 0, sizeof *q);
    q->max_keys = max_keys;
    q->key_stride = max_keys * max_key;
    return true;
}

void mc_queue_free(mc_queue *q)
{
    free(q->slots);
    free(q->keybuf);
    free(q->keyrefs);
    memset(q, 0, sizeof *q);
}

/* Double the ring, copying the slots in queue order to the front of the new arrays. Only
 * called when the ring is full, so no reserved slot is in use. */
static bool queue_grow(mc_queue *q, size_t max)
{
    size_t ncap = q->cap ? q->cap * 2 : MC_QUEUE_INITIAL;
    if (ncap > max) {
        ncap = max;
    }
    if (ncap <= q->cap) {
        return false;
    }
    mc_request *slots = calloc(ncap, sizeof *slots);
    uint8_t *keybuf = malloc(ncap * q->key_stride + 1);
    mc_keyref *keyrefs = calloc(ncap * q->max_keys + 1, sizeof *keyrefs);
    if (slots == NULL || keybuf == NULL || keyrefs == NULL) {
        free(slots);
        free(keybuf);
        free(keyrefs);
        return false;
    }
    for (size_t i = 0; i < q->count; i++) {
        size_t from = (q->head + i) % q->cap;
        slots[i] = q->slots[from];
        memcpy(keybuf + i * q->key_stride, q->keybuf + from * q->key_stride, q->key_stride);
        memcpy(keyrefs + i * q->max_keys, q->keyrefs + from * q->max_keys,
               q->max_keys * sizeof *keyrefs);
    }
    free(q->slots);
    free(q->keybuf);
    free(q->keyrefs);
    q->slots = slots;
    q->keybuf = keybuf;
    q->keyrefs = keyrefs;
    q->cap = ncap;
    q->head = 0;
    return true;
}

mc_request *mc_queue_reserve(mc_queue *q, size_t max)
{
    /* one slot beyond `count` must exist for the reservation */
    if (q->count + 1 > q->cap && !queue_grow(q, max)) {
        return NULL;
    }
    mc_request *r = &q->slots[(q->head + q->count) % q->cap];
    memset(r, 0, sizeof *r);
    return r;
}

void mc_queue_commit(mc_queue *q)
{
    q->count++;
}

mc_request *mc_queue_front(mc_queue *q)
{
    return q->count ? &q->slots[q->head] : NULL;
}

void mc_queue_pop(mc_queue *q)
{
    if (q->count) {
        q->head = (q->head + 1) % q->cap;
        q->count--;
    }
}

static size_t slot_index(const mc_queue *q, const mc_request *r)
{
    return (size_t)(r - q->slots);
}

void mc_queue_add_key(mc_queue *q, mc_request *r, mc_token key)
{
    r->keys_total++;
    if (r->n_keys >= q->max_keys) {
        return;
    }
    size_t i = slot_index(q, r);
    size_t per_key = q->key_stride / q->max_keys;
    size_t keep = key.len < per_key ? key.len : per_key;
    size_t off = r->n_keys * per_key;
    memcpy(q->keybuf + i * q->key_stride + off, key.ptr, keep);
    q->keyrefs[i * q->max_keys + r->n_keys] =
        (mc_keyref){(uint32_t)off, (uint32_t)keep, (uint32_t)key.len};
    r->n_keys++;
}

size_t mc_queue_keys(const mc_queue *q, const mc_request *r, pt_span *out)
{
    size_t i = slot_index(q, r);
    for (size_t k = 0; k < r->n_keys; k++) {
        const mc_keyref *ref = &q->keyrefs[i * q->max_keys + k];
        out[k] = (pt_span){q->keybuf + i * q->key_stride + ref->off, ref->len, ref->full_len};
    }
    return r->n_keys;
}
