/* escape.c — byte escaping for the sinks: JSON strings (RFC 8259) with U+FFFD for bytes that
 * are not UTF-8 (RFC 3629), base64 (RFC 4648) and terminal-safe text. */
#include "escape.h"

#include "addr.h"

#include <stdio.h>
#include <string.h>

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

bool pt_escape_json(GString *out, const uint8_t *p, size_t n)
{
    bool exact = true;
    size_t i = 0;
    while (i < n) {
        /* Copy the longest run of bytes that need no escaping in one go. */
        size_t run = i;
        while (run < n && p[run] >= 0x20 && p[run] < 0x80 && p[run] != '"' && p[run] != '\\')
            run++;
        if (run > i) {
            pt_buf_append(out, (const char *)p + i, (size_t)(run - i));
            i = run;
            if (i == n)
                break;
        }
        uint8_t b = p[i];
        if (b < 0x80) {
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

void pt_escape_text(GString *out, const uint8_t *p, size_t n, bool quoted)
{
    size_t i = 0;
    while (i < n) {
        /* Copy the longest run of plain printable ASCII in one go. */
        size_t run = i;
        while (run < n && p[run] >= 0x20 && p[run] < 0x7f && p[run] != '\\' && p[run] != '"')
            run++;
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

void pt_escape_u64(GString *out, uint64_t v)
{
    char tmp[20];
    size_t i = sizeof tmp;
    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    pt_buf_append(out, tmp + i, (size_t)(sizeof tmp - i));
}

void pt_escape_i64(GString *out, int64_t v)
{
    if (v < 0) {
        g_string_append_c(out, '-');
        pt_escape_u64(out, (uint64_t)0 - (uint64_t)v);
    } else {
        pt_escape_u64(out, (uint64_t)v);
    }
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

void pt_escape_endpoint(GString *out, const pt_endpoint *e, pt_endpoint_cache *cache)
{
    if (!e) {
        g_string_append_c(out, '-');
        return;
    }
    if (!cache->valid || cache->ep.port != e->port || !pt_addr_equal(&cache->ep.addr, &e->addr) ||
        cache->ep.addr.family != e->addr.family) {
        cache->ep = *e;
        pt_endpoint_format(e, cache->text);
        cache->len = strlen(cache->text);
        cache->valid = true;
    }
    pt_buf_append(out, cache->text, cache->len);
}
