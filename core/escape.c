/* escape.c — byte escaping for the sinks: JSON strings (RFC 8259) with U+FFFD for bytes that
 * are not UTF-8 (RFC 3629), base64 (RFC 4648) and terminal-safe text. */
#include "escape.h"

#include "addr.h"

#include <stdio.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

static const char hex_digits[] = "0123456789abcdef";

/* Length of the well-formed UTF-8 sequence at p[0..n), or 0 when p[0] does not start one
 * (RFC 3629 table 3-7: rejects overlongs, surrogates and code points above U+10FFFF). */
static size_t utf8_seq_len(const uint8_t *p, size_t n, uint32_t *cp)
{
    uint8_t b0 = p[0];
    if (b0 < 0x80) {
        *cp = b0;
        return 1;
    }
    size_t len;
    uint8_t lo = 0x80, hi = 0xbf;
    uint32_t c;
    if (b0 >= 0xc2 && b0 <= 0xdf) {
        len = 2;
        c = b0 & 0x1f;
    } else if (b0 >= 0xe0 && b0 <= 0xef) {
        len = 3;
        c = b0 & 0x0f;
        if (b0 == 0xe0)
            lo = 0xa0;
        else if (b0 == 0xed)
            hi = 0x9f;
    } else if (b0 >= 0xf0 && b0 <= 0xf4) {
        len = 4;
        c = b0 & 0x07;
        if (b0 == 0xf0)
            lo = 0x90;
        else if (b0 == 0xf4)
            hi = 0x8f;
    } else {
        return 0;
    }
    if (len > n)
        return 0;
    if (p[1] < lo || p[1] > hi)
        return 0;
    c = (c << 6) | (p[1] & 0x3f);
    for (size_t i = 2; i < len; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        c = (c << 6) | (p[i] & 0x3f);
    }
    *cp = c;
    return len;
}

bool pt_escape_utf8_valid(const uint8_t *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        if (p[i] < 0x80) {
            i++;
            continue;
        }
        uint32_t cp;
        size_t l = utf8_seq_len(p + i, n - i, &cp);
        if (l == 0)
            return false;
        i += l;
    }
    return true;
}

static void append_u_escape(GString *out, unsigned cp)
{
    char e[6] = {'\\',
                 'u',
                 hex_digits[(cp >> 12) & 15],
                 hex_digits[(cp >> 8) & 15],
                 hex_digits[(cp >> 4) & 15],
                 hex_digits[cp & 15]};
    pt_buf_append(out, e, 6);
}

size_t pt_escape_json_plain(const uint8_t *p, size_t n)
{
    size_t i = 0;
#ifdef __SSE2__
    /* Sixteen bytes per step; the last step re-reads bytes already known plain so that it
     * never reads past p + n. */
    if (n >= 16) {
        for (; n - i >= 16; i += 16) {
            unsigned m = (unsigned)pt_escape_json_special_m128(
                _mm_loadu_si128((const __m128i *)(const void *)(p + i)));
            if (m)
                return i + (size_t)__builtin_ctz(m);
        }
        if (i < n) {
            unsigned m = (unsigned)pt_escape_json_special_m128(
                _mm_loadu_si128((const __m128i *)(const void *)(p + n - 16)));
            return m ? n - 16 + (size_t)__builtin_ctz(m) : n;
        }
        return n;
    }
#endif
    for (; n - i >= 8; i += 8) {
        uint64_t x;
        memcpy(&x, p + i, 8);
        if (pt_escape_json_special8(x))
            break;
    }
    if (n - i >= 4 && n - i < 8) {
        /* 4 to 7 bytes left: two overlapping 4-byte reads cover them. */
        uint32_t a, b;
        memcpy(&a, p + i, 4);
        memcpy(&b, p + n - 4, 4);
        if (!pt_escape_json_special8(((uint64_t)a << 32) | b))
            return n;
    }
    while (i < n && pt_escape_json_plain_byte[p[i]])
        i++;
    return i;
}

/* The escaped form of an ASCII byte that is not plain: '"', '\\' and the controls. */
static void json_escape_ascii(GString *out, uint8_t b)
{
    switch (b) {
    case '"':
        pt_buf_append(out, "\\\"", 2);
        break;
    case '\\':
        pt_buf_append(out, "\\\\", 2);
        break;
    case '\n':
        pt_buf_append(out, "\\n", 2);
        break;
    case '\r':
        pt_buf_append(out, "\\r", 2);
        break;
    case '\t':
        pt_buf_append(out, "\\t", 2);
        break;
    default:
        append_u_escape(out, b);
        break;
    }
}

bool pt_escape_json(GString *out, const uint8_t *p, size_t n)
{
    bool exact = true;
    size_t i = 0;
    while (i < n) {
        /* Copy the longest run of bytes that need no escaping in one go. */
        size_t run = pt_escape_json_plain(p + i, n - i);
        if (run) {
            pt_buf_append(out, p + i, run);
            i += run;
            if (i == n)
                break;
        }
        uint8_t b = p[i];
        if (b < 0x80) {
            json_escape_ascii(out, b);
            i++;
            continue;
        }
        uint32_t cp;
        size_t l = utf8_seq_len(p + i, n - i, &cp);
        if (l == 0) {
            pt_buf_append(out, "\xef\xbf\xbd", 3);
            exact = false;
            i++;
        } else if (cp == 0x2028 || cp == 0x2029) {
            append_u_escape(out, cp);
            i += l;
        } else {
            pt_buf_append(out, (const char *)p + i, (size_t)l);
            i += l;
        }
    }
    return exact;
}

void pt_escape_base64(GString *out, const uint8_t *p, size_t n)
{
    static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t i = 0;
    char q[4];
    for (; n - i >= 3; i += 3) {
        uint32_t v = ((uint32_t)p[i] << 16) | ((uint32_t)p[i + 1] << 8) | p[i + 2];
        q[0] = tbl[v >> 18];
        q[1] = tbl[(v >> 12) & 63];
        q[2] = tbl[(v >> 6) & 63];
        q[3] = tbl[v & 63];
        pt_buf_append(out, q, 4);
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)p[i] << 16;
        q[0] = tbl[v >> 18];
        q[1] = tbl[(v >> 12) & 63];
        q[2] = q[3] = '=';
        pt_buf_append(out, q, 4);
    } else if (n - i == 2) {
        uint32_t v = ((uint32_t)p[i] << 16) | ((uint32_t)p[i + 1] << 8);
        q[0] = tbl[v >> 18];
        q[1] = tbl[(v >> 12) & 63];
        q[2] = tbl[(v >> 6) & 63];
        q[3] = '=';
        pt_buf_append(out, q, 4);
    }
}

static void append_x_escape(GString *out, uint8_t b)
{
    char e[4] = {'\\', 'x', hex_digits[b >> 4], hex_digits[b & 15]};
    pt_buf_append(out, e, 4);
}

/* How many leading bytes of p[0..n) a terminal shows as they are in any mode: printable
 * ASCII except '\\' and '"' (JSON's plain set minus DEL), eight bytes per step. */
static size_t text_plain(const uint8_t *p, size_t n)
{
    size_t i = 0;
    for (; n - i >= 8; i += 8) {
        uint64_t x;
        memcpy(&x, p + i, 8);
        if (pt_escape_json_special8(x) | pt_swar_has(x, 0x7f))
            break;
    }
    while (i < n && pt_escape_json_plain_byte[p[i]] && p[i] != 0x7f)
        i++;
    return i;
}

void pt_escape_text(GString *out, const uint8_t *p, size_t n, bool quoted)
{
    size_t i = 0;
    while (i < n) {
        /* Copy the longest run of plain printable ASCII in one go. */
        size_t run = i + text_plain(p + i, n - i);
        if (run > i) {
            pt_buf_append(out, p + i, run - i);
            i = run;
            if (i == n)
                break;
        }
        uint8_t b = p[i];
        if (b >= 0x20 && b < 0x7f) {
            if (b == '\\')
                pt_buf_append(out, "\\\\", 2);
            else if (b == '"' && quoted)
                pt_buf_append(out, "\\\"", 2);
            else
                g_string_append_c(out, (char)b);
            i++;
            continue;
        }
        if (b == '\n' || b == '\r' || b == '\t') {
            char e[2] = {'\\', b == '\n' ? 'n' : b == '\r' ? 'r' : 't'};
            pt_buf_append(out, e, 2);
            i++;
            continue;
        }
        uint32_t cp;
        size_t l = b >= 0x80 ? utf8_seq_len(p + i, n - i, &cp) : 0;
        /* C1 controls (U+0080..U+009F) can drive a terminal too: escape their bytes. */
        if (l > 1 && cp >= 0xa0 && cp != 0x2028 && cp != 0x2029 && cp != 0xfeff) {
            pt_buf_append(out, (const char *)p + i, (size_t)l);
            i += l;
        } else {
            append_x_escape(out, b);
            i++;
        }
    }
}

/* Two decimal digits per step: "00" to "99". */
const char pt_escape_digit_pairs[201] = "00010203040506070809101112131415161718192021222324"
                                        "25262728293031323334353637383940414243444546474849"
                                        "50515253545556575859606162636465666768697071727374"
                                        "75767778798081828384858687888990919293949596979899";

/* 0x80..0xff: not plain (escaped or checked as UTF-8). */
const uint8_t pt_escape_json_plain_byte[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
};

size_t pt_escape_u64_to(char *buf, uint64_t v)
{
    if (v < 100000000)
        return pt_escape_u64_to_inline(buf, v);
    /* Longer: eight digits at a time from the right. */
    char tmp[24];
    size_t i = sizeof tmp;
    while (v >= 100000000) {
        uint32_t low = (uint32_t)(v % 100000000);
        v /= 100000000;
        i -= 8;
        pt_escape_put4(tmp + i, low / 10000);
        pt_escape_put4(tmp + i + 4, low % 10000);
    }
    size_t head = pt_escape_u64_to(buf, v);
    memcpy(buf + head, tmp + i, sizeof tmp - i);
    return head + sizeof tmp - i;
}

void pt_escape_digits(GString *out, uint32_t v, int width)
{
    char tmp[9];
    if (width > 9)
        width = 9;
    for (int i = width - 1; i >= 0; i--) {
        tmp[i] = (char)('0' + v % 10);
        v /= 10;
    }
    pt_buf_append(out, tmp, width);
}

void pt_escape_vprintf(GString *out, const char *fmt, va_list ap)
{
    va_list again;
    va_copy(again, ap);
    size_t room = out->allocated_len - out->len;
    int n = vsnprintf(out->str + out->len, room, fmt, ap);
    if (n < 0) {
        out->str[out->len] = '\0';
        va_end(again);
        return;
    }
    if ((size_t)n >= room) {
        size_t old = out->len;
        g_string_set_size(out, old + (size_t)n);
        vsnprintf(out->str + old, (size_t)n + 1, fmt, again);
    } else {
        out->len += (size_t)n;
    }
    va_end(again);
}

void pt_escape_printf(GString *out, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    pt_escape_vprintf(out, fmt, ap);
    va_end(ap);
}

size_t pt_escape_endpoint_to(char *w, const pt_endpoint *e, pt_endpoint_cache *cache)
{
    if (!e) {
        *w = '-';
        return 1;
    }
    if (!cache->valid || !pt_endpoint_equal(&cache->ep, e)) {
        cache->ep = *e;
        pt_endpoint_format(e, cache->text);
        cache->len = strnlen(cache->text, sizeof cache->text);
        cache->valid = true;
    }
    memcpy(w, cache->text, cache->len);
    return cache->len;
}

void pt_escape_endpoint(GString *out, const pt_endpoint *e, pt_endpoint_cache *cache)
{
    char *w = pt_buf_reserve(out, PT_ENDPOINT_STRLEN);
    pt_buf_commit(out, pt_escape_endpoint_to(w, e, cache));
}
