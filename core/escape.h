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
/* Exactly `width` digits (at most 9), zero-padded: the microseconds of a timestamp. */
void pt_escape_digits(GString *out, uint32_t v, int width);

/* printf into out without a temporary string (GLib's g_string_append_printf allocates one per
 * call): formats straight into out's spare room, growing it only when too small. */
void pt_escape_vprintf(GString *out, const char *fmt, va_list ap);
void pt_escape_printf(GString *out, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

#endif
