/* escape.h — byte escaping shared by the sinks: JSON strings (RFC 8259) with a lossless
 * base64 side channel (RFC 4648) for bytes that are not UTF-8, and terminal-safe text. */
#ifndef PT_CORE_ESCAPE_H
#define PT_CORE_ESCAPE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <glib.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "pcaptrace/types.h"

/* Whether p[0..n) is well-formed UTF-8 (RFC 3629: no overlongs, no surrogates, <= U+10FFFF). */
bool pt_escape_utf8_valid(const uint8_t *p, size_t n);

/* Append p[0..n) to out as the inside of a JSON string (no quotes): ", \ and control
 * characters escaped, U+2028/U+2029 escaped, each byte that is not part of a well-formed
 * UTF-8 sequence replaced by U+FFFD. Returns false when such a replacement happened (the
 * caller then adds the exact bytes as base64). */
bool pt_escape_json(GString *out, const uint8_t *p, size_t n);

/* Append p[0..n) as standard base64 with padding (RFC 4648 section 4). */
void pt_escape_base64(GString *out, const uint8_t *p, size_t n);

/* Append p[0..n) for a terminal: printable ASCII and well-formed UTF-8 of printable code
 * points as is; \n \r \t \\ as C escapes, `"` as \" when `quoted`; every other byte
 * (controls, ESC, C1 controls, invalid UTF-8) as \xNN. Never cuts inside a sequence. */
void pt_escape_text(GString *out, const uint8_t *p, size_t n, bool quoted);

/* Append n bytes: the common case (room available) inline, without GLib's general insert. */
static inline void pt_buf_append(GString *out, const void *p, size_t n)
{
    if (n < out->allocated_len - out->len) {
        memcpy(out->str + out->len, p, n);
        out->len += n;
        out->str[out->len] = '\0';
    } else {
        g_string_append_len(out, (const char *)p, (gssize)n);
    }
}
#define pt_buf_append_lit(out, lit) pt_buf_append((out), (lit), sizeof(lit) - 1)

/* Make room for n more bytes and return where they go (out->len is unchanged): render
 * straight into the buffer, then pt_buf_commit() what was written (at most n bytes). */
static inline char *pt_buf_reserve(GString *out, size_t n)
{
    if (n >= out->allocated_len - out->len) {
        size_t len = out->len;
        g_string_set_size(out, len + n);
        out->len = len;
        out->str[len] = '\0';
    }
    return out->str + out->len;
}
static inline void pt_buf_commit(GString *out, size_t n)
{
    out->len += n;
    out->str[out->len] = '\0';
}

/* How many leading bytes of p[0..n) a JSON string can hold as they are (printable ASCII and
 * DEL, not '"' or '\\'): sixteen bytes per step with SSE2, else eight (SWAR), short tails
 * byte-wise. */
size_t pt_escape_json_plain(const uint8_t *p, size_t n);

#define PT_SWAR_ONES  UINT64_C(0x0101010101010101)
#define PT_SWAR_HIGHS UINT64_C(0x8080808080808080)

/* Non-zero when any byte of x is below c (c <= 0x80; exact for "any": Bit Twiddling Hacks). */
static inline uint64_t pt_swar_less(uint64_t x, uint8_t c)
{
    return (x - PT_SWAR_ONES * c) & ~x & PT_SWAR_HIGHS;
}

/* Non-zero when any byte of x equals c. */
static inline uint64_t pt_swar_has(uint64_t x, uint8_t c)
{
    return pt_swar_less(x ^ (PT_SWAR_ONES * c), 1);
}

/* Non-zero when any of the eight bytes of x must be escaped in a JSON string (not 0x20..0x7f,
 * or '"' or '\\'). */
static inline uint64_t pt_escape_json_special8(uint64_t x)
{
    return (x & PT_SWAR_HIGHS) | pt_swar_less(x, 0x20) | pt_swar_has(x, '"') | pt_swar_has(x, '\\');
}

#ifdef __SSE2__
/* Non-zero when any of the sixteen bytes of v must be escaped in a JSON string (signed
 * compare: bytes from 0x80 count as below 0x20). */
static inline int pt_escape_json_special_m128(__m128i v)
{
    __m128i bad = _mm_or_si128(_mm_cmplt_epi8(v, _mm_set1_epi8(0x20)),
                               _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')),
                                            _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))));
    return _mm_movemask_epi8(bad);
}
#endif

/* Non-zero when any byte of the sixteen in a and b must be escaped in a JSON string: one
 * SSE2 test, else two word tests. */
static inline int pt_escape_json_special16(uint64_t a, uint64_t b)
{
#ifdef __SSE2__
    return pt_escape_json_special_m128(_mm_set_epi64x((long long)b, (long long)a));
#else
    return (pt_escape_json_special8(a) | pt_escape_json_special8(b)) != 0;
#endif
}

/* 1 for the bytes a JSON string holds as they are (0x20..0x7f but '"' and '\\'), else 0. */
extern const uint8_t pt_escape_json_plain_byte[256];

/* pt_escape_json_copy_plain() for n <= 16: the first and last word (or half word) cover the
 * span, tested together, then stored; up to three bytes are tested by table. */
static inline char *pt_escape_json_copy_short(char *w, const uint8_t *p, size_t n)
{
    const uint64_t pad = UINT64_C(0x2020202020202020); /* spaces: plain */
    if (n >= 8) {
        uint64_t a, b;
        memcpy(&a, p, 8);
        memcpy(&b, p + n - 8, 8);
        if (pt_escape_json_special16(a, b))
            return NULL;
        memcpy(w, &a, 8);
        memcpy(w + n - 8, &b, 8);
    } else if (n >= 4) {
        uint32_t a, b;
        memcpy(&a, p, 4);
        memcpy(&b, p + n - 4, 4);
        if (pt_escape_json_special16((uint64_t)a | (uint64_t)b << 32, pad))
            return NULL;
        memcpy(w, &a, 4);
        memcpy(w + n - 4, &b, 4);
    } else if (n) {
        if (!(pt_escape_json_plain_byte[p[0]] & pt_escape_json_plain_byte[p[n / 2]] &
              pt_escape_json_plain_byte[p[n - 1]]))
            return NULL;
        w[0] = (char)p[0];
        w[n / 2] = (char)p[n / 2];
        w[n - 1] = (char)p[n - 1];
    }
    return w + n;
}

/* Copy p[0..n) to w when all of it can stand in a JSON string as it is, and return the end;
 * NULL otherwise (what was written at w then is garbage). Tested and moved inline, never
 * reading outside p[0..n): short spans by words, longer ones by 16-byte blocks, the last
 * block overlapping the one before. */
static inline char *pt_escape_json_copy_plain(char *w, const uint8_t *p, size_t n)
{
    if (n <= 16)
        return pt_escape_json_copy_short(w, p, n);
#ifdef __SSE2__
    for (size_t i = 0; i + 16 < n; i += 16) {
        __m128i a = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
        if (pt_escape_json_special_m128(a))
            return NULL;
        _mm_storeu_si128((__m128i *)(void *)(w + i), a);
    }
    __m128i b = _mm_loadu_si128((const __m128i *)(const void *)(p + n - 16));
    if (pt_escape_json_special_m128(b))
        return NULL;
    _mm_storeu_si128((__m128i *)(void *)(w + n - 16), b);
#else
    if (pt_escape_json_plain(p, n) != n)
        return NULL;
    memcpy(w, p, n);
#endif
    return w + n;
}

/* A cached text form of the last endpoint printed (sinks print the same ones over and over). */
typedef struct pt_endpoint_cache {
    pt_endpoint ep;
    bool valid;
    size_t len;
    char text[PT_ENDPOINT_STRLEN];
} pt_endpoint_cache;
/* Append the text form of *e ("-" for NULL) using the cache. */
void pt_escape_endpoint(GString *out, const pt_endpoint *e, pt_endpoint_cache *cache);
/* The same written at w (room for PT_ENDPOINT_STRLEN bytes, no NUL added); returns its length. */
size_t pt_escape_endpoint_to(char *w, const pt_endpoint *e, pt_endpoint_cache *cache);

/* Decimal numbers without printf. */
/* Write v in decimal at buf (room for 20 bytes); returns the number of digits. */
size_t pt_escape_u64_to(char *buf, uint64_t v);
static inline void pt_escape_u64(GString *out, uint64_t v)
{
    char *w = pt_buf_reserve(out, 20);
    pt_buf_commit(out, pt_escape_u64_to(w, v));
}
static inline void pt_escape_i64(GString *out, int64_t v)
{
    char *w = pt_buf_reserve(out, 21);
    size_t n = 0;
    if (v < 0)
        w[n++] = '-';
    n += pt_escape_u64_to(w + n, v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v);
    pt_buf_commit(out, n);
}
/* "00" to "99": two decimal digits per step. */
extern const char pt_escape_digit_pairs[201];

/* 1 to 4 digits of v (below 10000) at buf, without leading zeros; returns how many. */
static inline size_t pt_escape_u16_to(char *buf, uint32_t v)
{
    if (v < 10) {
        buf[0] = (char)('0' + v);
        return 1;
    }
    if (v < 100) {
        memcpy(buf, pt_escape_digit_pairs + v * 2, 2);
        return 2;
    }
    uint32_t hi = v / 100, lo = v % 100;
    if (hi < 10) {
        buf[0] = (char)('0' + hi);
        memcpy(buf + 1, pt_escape_digit_pairs + lo * 2, 2);
        return 3;
    }
    memcpy(buf, pt_escape_digit_pairs + hi * 2, 2);
    memcpy(buf + 2, pt_escape_digit_pairs + lo * 2, 2);
    return 4;
}

/* Exactly four digits of v (below 10000) at buf, zero-padded. */
static inline void pt_escape_put4(char *buf, uint32_t v)
{
    memcpy(buf, pt_escape_digit_pairs + (v / 100) * 2, 2);
    memcpy(buf + 2, pt_escape_digit_pairs + (v % 100) * 2, 2);
}

/* pt_escape_u64_to() with the small values (most numbers in events: sequence numbers,
 * sizes, latencies) inline: up to eight digits in 32-bit steps of four. */
static inline size_t pt_escape_u64_to_inline(char *buf, uint64_t v)
{
    if (v < 10000)
        return pt_escape_u16_to(buf, (uint32_t)v);
    if (v < 100000000) {
        size_t n = pt_escape_u16_to(buf, (uint32_t)v / 10000);
        pt_escape_put4(buf + n, (uint32_t)v % 10000);
        return n + 4;
    }
    return pt_escape_u64_to(buf, v);
}

/* Exactly `width` digits (at most 9), zero-padded: the microseconds of a timestamp. */
void pt_escape_digits(GString *out, uint32_t v, int width);

/* printf into out without a temporary string (GLib's g_string_append_printf allocates one per
 * call): formats straight into out's spare room, growing it only when too small. */
void pt_escape_vprintf(GString *out, const char *fmt, va_list ap);
void pt_escape_printf(GString *out, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

#endif
