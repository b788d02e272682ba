/* sync.c — finding where Redis commands and replies start in bytes that did not begin at a
 * message boundary (capture started mid-connection, or data lost in a gap), and probe(). */
#include <string.h>

#include "redis_priv.h"

/* Longest header or command name looked at when judging a candidate boundary. */
#define RD_SYNC_LOOKAHEAD 64

typedef enum { CAND_NO, CAND_PARTIAL, CAND_YES } cand;

/* Digits then CRLF at *i; CAND_PARTIAL when the data ends first. */
static cand digits_crlf(const uint8_t *d, size_t len, size_t *i)
{
    size_t start = *i;
    while (*i < len && d[*i] >= '0' && d[*i] <= '9' && *i - start < 18)
        (*i)++;
    if (*i == len)
        return CAND_PARTIAL;
    if (*i == start || d[*i] != '\r')
        return CAND_NO;
    if (++*i == len)
        return CAND_PARTIAL;
    if (d[*i] != '\n')
        return CAND_NO;
    (*i)++;
    return CAND_YES;
}

static bool is_word_char(uint8_t c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '-';
}

/* Does a command start at d[0]? "*<n>\r\n$<m>\r\n<known name>\r\n" or an inline line
 * starting with a known command name. */
static cand command_at(const uint8_t *d, size_t len, bool any_name)
{
    size_t i = 0;
    if (len == 0)
        return CAND_PARTIAL;
    if (d[0] == '*') {
        /* the first byte of a stream: an array is a command, even a malformed one (the
         * parser then reports it) */
        if (any_name)
            return CAND_YES;
        i = 1;
        cand c = digits_crlf(d, len, &i);
        if (c != CAND_YES)
            return c;
        if (i == len)
            return CAND_PARTIAL;
        if (d[i++] != '$')
            return CAND_NO;
        size_t at = i;
        c = digits_crlf(d, len, &i);
        if (c != CAND_YES)
            return c;
        size_t n = 0;
        for (size_t k = at; d[k] != '\r'; k++)
            n = n * 10 + (size_t)(d[k] - '0');
        if (n == 0 || n > PT_RCMD_NAME_MAX)
            return CAND_NO;
        if (len - i < n + 2)
            return pt_rcmd_is_prefix(d + i, len - i < n ? len - i : n) ? CAND_PARTIAL : CAND_NO;
        if (d[i + n] != '\r' || d[i + n + 1] != '\n')
            return CAND_NO;
        return pt_rcmd_find(d + i, n) ? CAND_YES : CAND_NO;
    }
    while (i < len && i <= PT_RCMD_NAME_MAX && is_word_char(d[i]))
        i++;
    if (i == 0 || i > PT_RCMD_NAME_MAX)
        return CAND_NO;
    if (i == len)
        return pt_rcmd_is_prefix(d, i) ? CAND_PARTIAL : CAND_NO;
    if (d[i] != ' ' && d[i] != '\r' && d[i] != '\n')
        return CAND_NO;
    if (!pt_rcmd_find(d, i))
        return CAND_NO;
    /* "GET / HTTP/1.1" is HTTP, not an inline GET */
    const uint8_t *eol = memchr(d + i, '\n', len - i);
    size_t line = eol ? (size_t)(eol - d) : len;
    for (size_t k = i; k + 5 <= line; k++)
        if (!memcmp(d + k, " HTTP/", k + 6 <= line ? 6 : 5))
            return CAND_NO;
    return CAND_YES;
}

size_t rd_sync_find(const uint8_t *data, size_t len, bool at_line_start, bool stream_start,
                    bool *sure)
{
    size_t i = 0;
    if (!at_line_start) {
        const uint8_t *lf = memchr(data, '\n', len);
        if (!lf)
            return len;
        i = (size_t)(lf - data) + 1;
    }
    while (i < len) {
        size_t look = len - i < RD_SYNC_LOOKAHEAD ? len - i : RD_SYNC_LOOKAHEAD;
        cand c = command_at(data + i, look, stream_start && i == 0);
        if (c == CAND_YES || (c == CAND_PARTIAL && look == len - i)) {
            *sure = c == CAND_YES;
            return i;
        }
        const uint8_t *lf = memchr(data + i, '\n', len - i);
        if (!lf)
            return len;
        i = (size_t)(lf - data) + 1;
    }
    return len;
}

/* Whether a reply plausibly starts at d[0] (a type byte and a sane next byte). */
static bool reply_at(const uint8_t *d, size_t len)
{
    if (!pt_resp_is_type_byte(d[0]))
        return false;
    if (len < 2)
        return true;
    uint8_t n = d[1];
    switch (d[0]) {
    case '$':
    case '*':
    case '%':
    case '~':
    case '>':
    case '!':
    case '=':
    case '|':
    case ':':
        return n == '-' || (n >= '0' && n <= '9');
    case '_':
        return n == '\r';
    case '#':
        return n == 't' || n == 'f';
    default:
        return true;
    }
}

size_t rd_sync_find_reply(const uint8_t *data, size_t len, bool at_line_start)
{
    size_t i = 0;
    if (!at_line_start) {
        const uint8_t *lf = memchr(data, '\n', len);
        if (!lf)
            return len;
        i = (size_t)(lf - data) + 1;
    }
    while (i < len) {
        if (reply_at(data + i, len - i))
            return i;
        const uint8_t *lf = memchr(data + i, '\n', len - i);
        if (!lf)
            return len;
        i = (size_t)(lf - data) + 1;
    }
    return len;
}

pt_probe_result rd_probe_request(const uint8_t *data, size_t len)
{
    size_t look = len < RD_SYNC_LOOKAHEAD ? len : RD_SYNC_LOOKAHEAD;
    cand c = command_at(data, look, false);
    if (c == CAND_YES)
        return PT_PROBE_YES;
    if (c == CAND_PARTIAL && look == len)
        return PT_PROBE_NEED_MORE;
    return PT_PROBE_NO;
}
