/* cursor.h — bounded, byte-wise reader over packet/stream bytes with a sticky error flag.
 *
 * Every length check is written `n > len - off` (off <= len always holds), so it cannot
 * overflow. Multi-byte fields are assembled byte by byte, so alignment and host byte order
 * never matter. After any failed read `err` stays set and every later read returns 0:
 * a decoder can read a whole header and test `err` once.
 */
#ifndef PT_CORE_CURSOR_H
#define PT_CORE_CURSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct pt_cursor {
    const uint8_t *p; /* first byte */
    size_t len;       /* readable bytes at p */
    size_t off;       /* next byte to read; always <= len */
    bool err;         /* a read ran past len */
} pt_cursor;

static inline pt_cursor pt_cursor_make(const uint8_t *p, size_t len)
{
    pt_cursor c = {p, len, 0, false};
    return c;
}

static inline size_t pt_cursor_remaining(const pt_cursor *c)
{
    return c->len - c->off;
}

/* Whether n more bytes can be read; sets err when they cannot. */
static inline bool pt_cursor_need(pt_cursor *c, size_t n)
{
    if (c->err || n > c->len - c->off) {
        c->err = true;
        return false;
    }
    return true;
}

/* Pointer to the next byte (valid for pt_cursor_remaining() bytes). */
static inline const uint8_t *pt_cursor_ptr(const pt_cursor *c)
{
    return c->p + c->off;
}

static inline bool pt_cursor_skip(pt_cursor *c, size_t n)
{
    if (!pt_cursor_need(c, n))
        return false;
    c->off += n;
    return true;
}

/* Pointer to the next n bytes and advance past them; NULL (and err) when they are missing. */
static inline const uint8_t *pt_cursor_take(pt_cursor *c, size_t n)
{
    const uint8_t *q;

    if (!pt_cursor_need(c, n))
        return NULL;
    q = c->p + c->off;
    c->off += n;
    return q;
}

/* Loads from bytes a successful pt_cursor_take() already checked: one bounds check for a
 * whole fixed-size header instead of one per field, still byte-wise. */
static inline uint16_t pt_cursor_load_be16(const uint8_t *q)
{
    return (uint16_t)((uint16_t)q[0] << 8 | q[1]);
}

static inline uint32_t pt_cursor_load_be32(const uint8_t *q)
{
    return (uint32_t)q[0] << 24 | (uint32_t)q[1] << 16 | (uint32_t)q[2] << 8 | q[3];
}

/* A cursor over the next n bytes, and advance past them. On shortage the sub-cursor is empty
 * with err set, and so is the parent. */
static inline pt_cursor pt_cursor_sub(pt_cursor *c, size_t n)
{
    pt_cursor s = {c->p, 0, 0, true};

    if (pt_cursor_need(c, n)) {
        s = pt_cursor_make(c->p + c->off, n);
        c->off += n;
    }
    return s;
}

static inline uint8_t pt_cursor_u8(pt_cursor *c)
{
    if (!pt_cursor_need(c, 1))
        return 0;
    return c->p[c->off++];
}

static inline uint16_t pt_cursor_be16(pt_cursor *c)
{
    const uint8_t *q = pt_cursor_take(c, 2);
    return q ? pt_cursor_load_be16(q) : 0;
}

static inline uint32_t pt_cursor_be32(pt_cursor *c)
{
    const uint8_t *q = pt_cursor_take(c, 4);
    return q ? pt_cursor_load_be32(q) : 0;
}

static inline uint16_t pt_cursor_le16(pt_cursor *c)
{
    const uint8_t *q = pt_cursor_take(c, 2);
    return q ? (uint16_t)((uint16_t)q[1] << 8 | q[0]) : 0;
}

static inline uint32_t pt_cursor_le32(pt_cursor *c)
{
    const uint8_t *q = pt_cursor_take(c, 4);
    return q ? (uint32_t)q[3] << 24 | (uint32_t)q[2] << 16 | (uint32_t)q[1] << 8 | q[0] : 0;
}

/* Peek helpers: read at offset `at` from the current position without advancing or setting
 * err; return false when the bytes are not there. */
static inline bool pt_cursor_peek_u8(const pt_cursor *c, size_t at, uint8_t *v)
{
    if (c->err || at >= c->len - c->off)
        return false;
    *v = c->p[c->off + at];
    return true;
}

static inline bool pt_cursor_peek_be16(const pt_cursor *c, size_t at, uint16_t *v)
{
    size_t rem = c->len - c->off;

    if (c->err || rem < 2 || at > rem - 2)
        return false;
    *v = (uint16_t)((uint16_t)c->p[c->off + at] << 8 | c->p[c->off + at + 1]);
    return true;
}

#endif
