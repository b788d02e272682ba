/* http_line.c — recognise an HTTP/1.x start line (RFC 9112 §3 request-line, §4 status-line) at
 * the front of a buffer: used by probe() and to resynchronise after a gap or mid-stream pickup. */
#include <string.h>
#include <strings.h>

#include "http.h"

/* The HTTP methods llhttp parses (RTSP's are left out: they are not HTTP). */
#define HTTP_METHOD_NAME(num, name, string) #string,
static const char *const http_methods[] = {HTTP_METHOD_MAP(HTTP_METHOD_NAME)};

/* Characters of a method token as seen in practice (RFC 9110 allows a few more). */
bool http_method_char(uint8_t c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
}

static bool is_digit(uint8_t c)
{
    return c >= '0' && c <= '9';
}

/* Whether `tok` is a method llhttp parses (others are handed to it as GET, http_stream.c). */
bool http_method_known(const uint8_t *tok, size_t n)
{
    for (size_t i = 0; i < sizeof(http_methods) / sizeof(http_methods[0]); i++) {
        const char *name = http_methods[i];
        if (strlen(name) == n && memcmp(name, tok, n) == 0 && strcmp(name, "PRI") != 0) {
            return true;
        }
    }
    return false;
}

/* Match "HTTP/1.d" at p (len bytes available); case-insensitive for status lines, which
 * http_stream.c hands to llhttp upper-cased. */
static http_line_result match_version(const uint8_t *p, size_t len, bool any_case)
{
    static const char v[] = "HTTP/1.";
    size_t n = sizeof(v) - 1;
    size_t k = len < n ? len : n;
    if (any_case ? strncasecmp((const char *)p, v, k) != 0 : memcmp(p, v, k) != 0) {
        return HTTP_LINE_NO;
    }
    if (len <= n) {
        return HTTP_LINE_PARTIAL;
    }
    return is_digit(p[n]) ? HTTP_LINE_YES : HTTP_LINE_NO;
}

static http_line_result check_status(const uint8_t *p, size_t len)
{
    http_line_result r = match_version(p, len, true);
    if (r != HTTP_LINE_YES) {
        return r;
    }
    /* "HTTP/1.x" is 8 bytes, then SP and three digits */
    for (size_t i = 8; i < 12; i++) {
        if (i >= len) {
            return HTTP_LINE_PARTIAL;
        }
        if (i == 8 ? p[i] != ' ' : !is_digit(p[i])) {
            return HTTP_LINE_NO;
        }
    }
    return HTTP_LINE_YES;
}

static http_line_result check_request(const uint8_t *p, size_t len, bool allow_http09)
{
    size_t i = 0;
    while (i < len && i < HTTP_METHOD_MAX && http_method_char(p[i])) {
        i++;
    }
    if (i == len) {
        return i < HTTP_METHOD_MAX ? HTTP_LINE_PARTIAL : HTTP_LINE_NO;
    }
    if (i == 0 || p[i] != ' ') {
        return HTTP_LINE_NO;
    }
    bool is_get = i == 3 && memcmp(p, "GET", 3) == 0;
    size_t target = ++i;
    while (i < len && p[i] > ' ' && p[i] != 0x7f) {
        i++;
    }
    if (i == len) {
        return HTTP_LINE_PARTIAL;
    }
    if (i == target) {
        return HTTP_LINE_NO;
    }
    if (p[i] == '\r' || p[i] == '\n') {
        return allow_http09 && is_get ? HTTP_LINE_YES : HTTP_LINE_NO;
    }
    if (p[i] != ' ') {
        return HTTP_LINE_NO;
    }
    i++;
    if (i == len) {
        return HTTP_LINE_PARTIAL;
    }
    return match_version(p + i, len - i, false);
}

http_line_result http_line_check(pt_dir dir, const uint8_t *p, size_t len, bool allow_http09)
{
    if (len == 0) {
        return HTTP_LINE_PARTIAL;
    }
    return dir == PT_DIR_TO_CLIENT ? check_status(p, len) : check_request(p, len, allow_http09);
}

http_line_result http_line_scan(pt_dir dir, const uint8_t *p, size_t len, bool *line_start,
                                size_t *at, bool allow_http09)
{
    size_t i = 0;
    if (!*line_start) {
        const uint8_t *nl = memchr(p, '\n', len);
        if (nl == NULL) {
            return HTTP_LINE_NO;
        }
        i = (size_t)(nl - p) + 1;
    }
    while (i < len) {
        http_line_result r = http_line_check(dir, p + i, len - i, allow_http09);
        if (r != HTTP_LINE_NO) {
            *at = i;
            return r;
        }
        const uint8_t *nl = memchr(p + i, '\n', len - i);
        if (nl == NULL) {
            *line_start = false;
            return HTTP_LINE_NO;
        }
        i = (size_t)(nl - p) + 1;
    }
    *line_start = true;
    return HTTP_LINE_NO;
}
