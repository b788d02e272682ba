/* resp.c — incremental, zero-copy RESP2/RESP3 and inline-command parser (see resp.h;
 * https://redis.io/docs/reference/protocol-spec/ and Redis's processInlineBuffer()). */
#include "resp.h"

#include <stdlib.h>
#include <string.h>

/* Longest integer line accepted (sign + 19 digits). */
#define RESP_MAX_INT_LEN 20
/* Digits accepted in a length header; more would overflow int64. */
#define RESP_MAX_LEN_DIGITS 18
/* Most arguments of a request read by the one-chunk fast path (longer ones take the states). */
#define RESP_FAST_ARGS 64

enum resp_state {
    S_TYPE = 0, /* expecting a type byte (or an inline command) */
    S_NUM,      /* length/count header digits */
    S_NUM_LF,   /* header CR seen, expecting LF */
    S_LINE,     /* line value bytes */
    S_LINE_CR,  /* CR seen inside a line value */
    S_BULK,     /* bulk payload bytes */
    S_BULK_CR,  /* expecting the CR after a bulk payload */
    S_BULK_LF,  /* expecting the LF after a bulk payload */
    S_INLINE,   /* inside an inline command line */
    S_ERROR     /* sticky until pt_resp_reset() */
};

typedef struct resp_frame {
    pt_resp_type type;
    int64_t remaining; /* child values still expected */
} resp_frame;

struct pt_resp_parser {
    pt_resp_mode mode;
    pt_resp_limits lim;
    pt_resp_handler h;
    pt_resp_command_fn command; /* optional batch callback for whole requests */
    pt_resp_scalar_fn scalar;   /* optional callback for whole top-level scalar replies */
    void *ctx;

    enum resp_state state;
    pt_resp_type cur; /* type of the value being read */

    /* header number */
    bool neg;
    uint32_t ndigits;
    uint64_t num;

    /* the value being read: a span into the current chunk while val_here, else the prefix */
    bool val_here;
    size_t val_start; /* start in the current chunk (val_here) */
    size_t seg_start; /* start of this chunk's part of the value */
    size_t seg_count; /* value bytes consumed in this chunk */
    uint64_t val_len; /* value bytes so far */
    uint8_t *pre;     /* lim.prefix_bytes */
    size_t pre_len;
    uint64_t bulk_left;
    /* a big number's digits, checked as they arrive (its bytes may straddle chunks) */
    uint64_t bn_digits;
    bool bn_bad;

    resp_frame *stack; /* lim.max_depth frames */
    uint32_t depth;

    /* the top-level value being read */
    bool in_msg;
    size_t msg_start;    /* where it started in the current chunk */
    uint64_t msg_before; /* its bytes in earlier chunks */
    uint64_t msg_values; /* values reported so far */

    /* inline line that straddles chunks (allocated on first use) */
    uint8_t *line;
    size_t line_len;
    bool line_here; /* the line started in the current chunk */
    size_t line_start;
    uint8_t *scratch; /* unescaped inline arguments (allocated on first use) */

    const uint8_t *data; /* the chunk being parsed */
    size_t len;          /* its length */
    size_t pos;          /* position in it */
    uint64_t base;       /* bytes consumed before this chunk */
    const char *err;
    uint64_t err_offset;
};

void pt_resp_limits_default(pt_resp_limits *l)
{
    l->max_depth = PT_RESP_DEFAULT_MAX_DEPTH;
    l->max_elements = PT_RESP_DEFAULT_MAX_ELEMENTS;
    l->max_bulk = PT_RESP_DEFAULT_MAX_BULK;
    l->max_inline = PT_RESP_DEFAULT_MAX_INLINE;
    l->prefix_bytes = PT_RESP_DEFAULT_PREFIX;
}

bool pt_resp_is_type_byte(uint8_t c)
{
    return c != 0 && strchr("+-:$*_#,(!=%~|>", c) != NULL;
}

pt_resp_parser *pt_resp_new(pt_resp_mode mode, const pt_resp_limits *limits,
                            const pt_resp_handler *handler, void *ctx)
{
    pt_resp_parser *p = calloc(1, sizeof(*p));
    if (!p)
        return NULL;
    if (limits)
        p->lim = *limits;
    else
        pt_resp_limits_default(&p->lim);
    if (p->lim.max_depth < 1)
        p->lim.max_depth = 1;
    if (p->lim.max_depth > PT_RESP_CEIL_DEPTH)
        p->lim.max_depth = PT_RESP_CEIL_DEPTH;
    if (p->lim.max_inline < 16)
        p->lim.max_inline = 16;
    if (p->lim.max_inline > PT_RESP_CEIL_INLINE)
        p->lim.max_inline = PT_RESP_CEIL_INLINE;
    if (p->lim.prefix_bytes < PT_RESP_MIN_PREFIX)
        p->lim.prefix_bytes = PT_RESP_MIN_PREFIX;
    if (p->lim.prefix_bytes > PT_RESP_CEIL_PREFIX)
        p->lim.prefix_bytes = PT_RESP_CEIL_PREFIX;
    p->mode = mode;
    p->h = *handler;
    p->ctx = ctx;
    p->stack = calloc(p->lim.max_depth, sizeof(*p->stack));
    p->pre = malloc(p->lim.prefix_bytes);
    if (!p->stack || !p->pre) {
        pt_resp_free(p);
        return NULL;
    }
    return p;
}

void pt_resp_free(pt_resp_parser *p)
{
    if (!p)
        return;
    free(p->stack);
    free(p->pre);
    free(p->line);
    free(p->scratch);
    free(p);
}

void pt_resp_on_command(pt_resp_parser *p, pt_resp_command_fn fn)
{
    p->command = fn;
}

void pt_resp_on_scalar(pt_resp_parser *p, pt_resp_scalar_fn fn)
{
    p->scalar = fn;
}

void pt_resp_reset(pt_resp_parser *p)
{
    p->state = S_TYPE;
    p->depth = 0;
    p->in_msg = false;
    p->msg_before = 0;
    p->msg_values = 0;
    p->val_here = false;
    p->val_len = 0;
    p->pre_len = 0;
    p->line_len = 0;
    p->err = NULL;
}

bool pt_resp_busy(const pt_resp_parser *p)
{
    return p->in_msg;
}

const char *pt_resp_error(const pt_resp_parser *p)
{
    return p->err;
}

uint64_t pt_resp_offset(const pt_resp_parser *p)
{
    return p->err ? p->err_offset : p->base;
}

static int fail(pt_resp_parser *p, const char *why)
{
    p->err = why;
    p->err_offset = p->base + p->pos;
    p->state = S_ERROR;
    return PT_ERROR;
}

/* Keep up to the prefix bound of `n` bytes at `src` (value bytes beyond it are only counted). */
static void pre_append(pt_resp_parser *p, const uint8_t *src, size_t n)
{
    size_t room = p->lim.prefix_bytes - p->pre_len;
    if (n > room)
        n = room;
    if (n) {
        memcpy(p->pre + p->pre_len, src, n);
        p->pre_len += n;
    }
}

static void val_begin(pt_resp_parser *p)
{
    p->val_here = true;
    p->val_start = p->pos;
    p->seg_start = p->pos;
    p->seg_count = 0;
    p->val_len = 0;
    p->pre_len = 0;
}

/* The chunk ends inside a value: keep its bounded prefix. */
static void val_spill(pt_resp_parser *p)
{
    pre_append(p, p->data + p->seg_start, p->seg_count);
    p->val_here = false;
    p->seg_start = 0;
    p->seg_count = 0;
}

static pt_span val_span(pt_resp_parser *p)
{
    if (p->val_here)
        return PT_SPAN(p->data + p->val_start, (size_t)p->val_len);
    pre_append(p, p->data + p->seg_start, p->seg_count);
    p->seg_count = 0;
    return (pt_span){p->pre, p->pre_len, p->val_len};
}

static int count_value(pt_resp_parser *p)
{
    if (++p->msg_values > p->lim.max_elements)
        return fail(p, "too many values in one message");
    return PT_OK;
}

/* A value at the current depth is complete: pop finished aggregates, report the message when
 * the top level is done. An attribute does not take its parent's slot (RESP3). */
static void complete_value(pt_resp_parser *p, bool was_attribute)
{
    for (;;) {
        if (p->depth == 0) {
            if (!was_attribute) {
                pt_resp_msg m = {p->msg_before + (p->pos - p->msg_start), false};
                p->in_msg = false;
                p->msg_before = 0;
                p->msg_values = 0;
                if (p->h.done)
                    p->h.done(p->ctx, &m);
            }
            return;
        }
        if (was_attribute)
            return;
        resp_frame *f = &p->stack[p->depth - 1];
        if (--f->remaining > 0)
            return;
        p->depth--;
        pt_resp_item it = {.type = f->type, .depth = p->depth};
        if (p->h.end)
            p->h.end(p->ctx, &it);
        was_attribute = f->type == PT_RESP_ATTRIBUTE;
    }
}

static bool is_digits(const uint8_t *s, size_t n, bool allow_sign)
{
    size_t i = 0;
    if (allow_sign && n > 0 && (s[0] == '-' || s[0] == '+'))
        i = 1;
    if (i == n)
        return false;
    for (; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

/* Check `n` more bytes of a big number: [+-]digits, whatever the chunking. */
static void bignum_scan(pt_resp_parser *p, const uint8_t *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] >= '0' && s[i] <= '9')
            p->bn_digits++;
        else if (!(p->val_len + i == 0 && (s[i] == '-' || s[i] == '+')))
            p->bn_bad = true;
    }
}

/* A line value (simple, error, integer, null, boolean, double, big number) ended. */
static int finish_line(pt_resp_parser *p)
{
    pt_span v = val_span(p);
    switch (p->cur) {
    case PT_RESP_INTEGER:
        if (v.full_len > RESP_MAX_INT_LEN || !is_digits(v.ptr, v.len, true))
            return fail(p, "bad integer");
        break;
    case PT_RESP_NULL:
        if (v.full_len != 0)
            return fail(p, "bad null");
        break;
    case PT_RESP_BOOLEAN:
        if (v.full_len != 1 || (v.ptr[0] != 't' && v.ptr[0] != 'f'))
            return fail(p, "bad boolean");
        break;
    case PT_RESP_BIGNUM:
        if (p->bn_bad || p->bn_digits == 0)
            return fail(p, "bad big number");
        break;
    case PT_RESP_DOUBLE:
        if (v.full_len == 0)
            return fail(p, "bad double");
        break;
    default:
        break;
    }
    if (count_value(p) != PT_OK)
        return PT_ERROR;
    pt_resp_item it = {.type = p->cur, .null = p->cur == PT_RESP_NULL, .depth = p->depth};
    it.value = v;
    p->h.value(p->ctx, &it);
    p->state = S_TYPE;
    complete_value(p, false);
    return PT_OK;
}

static int finish_bulk(pt_resp_parser *p)
{
    pt_span v = val_span(p);
    if (p->cur == PT_RESP_VERBATIM && (v.full_len < 4 || (v.len >= 4 && v.ptr[3] != ':')))
        return fail(p, "bad verbatim string");
    pt_resp_item it = {.type = p->cur, .depth = p->depth, .value = v};
    p->h.value(p->ctx, &it);
    p->state = S_TYPE;
    complete_value(p, false);
    return PT_OK;
}

static bool is_aggregate(pt_resp_type t)
{
    return t == PT_RESP_ARRAY || t == PT_RESP_MAP || t == PT_RESP_SET || t == PT_RESP_ATTRIBUTE ||
           t == PT_RESP_PUSH;
}

/* A length/count header `n` is complete. */

/* A RESP2 null (`*-1` or `$-1`): one value with no payload, complete at once. */
static int null_value(pt_resp_parser *p)
{
    if (count_value(p) != PT_OK)
        return PT_ERROR;
    pt_resp_item it = {.type = p->cur, .null = true, .depth = p->depth};
    p->h.value(p->ctx, &it);
    p->state = S_TYPE;
    complete_value(p, false);
    return PT_OK;
}
static int finish_header(pt_resp_parser *p, int64_t n)
{
    if (p->mode == PT_RESP_MODE_REQUEST && p->depth == 0) {
        /* Redis ignores "*0" and "*-1" requests. */
        if (n <= 0) {
            p->state = S_TYPE;
            p->in_msg = false;
            p->msg_before = 0;
            p->msg_values = 0;
            return PT_OK;
        }
    }
    if (is_aggregate(p->cur)) {
        if (n == -1 && p->cur == PT_RESP_ARRAY)
            return null_value(p);
        if (n < 0)
            return fail(p, "invalid aggregate length");
        if ((uint64_t)n > p->lim.max_elements)
            return fail(p, "aggregate longer than max_elements");
        if (n > 0 && p->depth >= p->lim.max_depth)
            return fail(p, "nesting deeper than max_depth");
        if (count_value(p) != PT_OK)
            return PT_ERROR;
        bool pairs = p->cur == PT_RESP_MAP || p->cur == PT_RESP_ATTRIBUTE;
        pt_resp_item it = {.type = p->cur, .depth = p->depth, .count = pairs ? 2 * n : n};
        p->h.value(p->ctx, &it);
        p->state = S_TYPE;
        if (n == 0) {
            if (p->h.end)
                p->h.end(p->ctx, &it);
            complete_value(p, p->cur == PT_RESP_ATTRIBUTE);
            return PT_OK;
        }
        p->stack[p->depth].type = p->cur;
        p->stack[p->depth].remaining = it.count;
        p->depth++;
        return PT_OK;
    }
    /* bulk, blob error, verbatim */
    if (n == -1 && p->cur == PT_RESP_BULK && p->mode == PT_RESP_MODE_REPLY)
        return null_value(p);
    if (n < 0)
        return fail(p, "invalid bulk length");
    if ((uint64_t)n > p->lim.max_bulk)
        return fail(p, "bulk longer than max_bulk");
    if (count_value(p) != PT_OK)
        return PT_ERROR;
    val_begin(p);
    p->bulk_left = (uint64_t)n;
    /* fast path: payload and CRLF are in this chunk, the value is a span of it */
    if ((uint64_t)(p->len - p->pos) >= (uint64_t)n + 2 && p->data[p->pos + (size_t)n] == '\r' &&
        p->data[p->pos + (size_t)n + 1] == '\n') {
        p->val_len = (uint64_t)n;
        p->pos += (size_t)n + 2;
        p->bulk_left = 0;
        return finish_bulk(p);
    }
    p->state = n ? S_BULK : S_BULK_CR;
    return PT_OK;
}

/* Separators between inline arguments. NUL counts too (Redis splits a C string), and the
 * skip and token loops must agree on it, or a NUL would be a zero-length token forever. */
static bool is_blank(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f' || c == '\0';
}

static int hexval(uint8_t c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Read one inline argument of `src` from *pos into `out` following Redis's sdssplitargs():
 * blanks separate arguments, "..." allows \n \r \t \b \a \\ \" \xHH escapes, '...' allows
 * \'. Returns 1 and the argument, 0 at the end of the line, -1 on unbalanced quotes. */
static int inline_token(const uint8_t *src, size_t n, size_t *pos, uint8_t *out, size_t *out_len)
{
    size_t i = *pos, o = 0;
    while (i < n && is_blank(src[i]))
        i++;
    if (i == n) {
        *pos = i;
        return 0;
    }
    bool inq = false, insq = false;
    for (;;) {
        if (inq) {
            if (i == n)
                return -1;
            uint8_t c = src[i];
            if (c == '\\' && i + 3 < n && src[i + 1] == 'x' && hexval(src[i + 2]) >= 0 &&
                hexval(src[i + 3]) >= 0) {
                out[o++] = (uint8_t)(hexval(src[i + 2]) * 16 + hexval(src[i + 3]));
                i += 4;
            } else if (c == '\\' && i + 1 < n) {
                uint8_t e = src[i + 1];
                out[o++] = e == 'n'   ? '\n'
                           : e == 'r' ? '\r'
                           : e == 't' ? '\t'
                           : e == 'b' ? '\b'
                           : e == 'a' ? '\a'
                                      : e;
                i += 2;
            } else if (c == '"') {
                i++;
                if (i < n && !is_blank(src[i]))
                    return -1;
                break;
            } else {
                out[o++] = c;
                i++;
            }
        } else if (insq) {
            if (i == n)
                return -1;
            uint8_t c = src[i];
            if (c == '\\' && i + 1 < n && src[i + 1] == '\'') {
                out[o++] = '\'';
                i += 2;
            } else if (c == '\'') {
                i++;
                if (i < n && !is_blank(src[i]))
                    return -1;
                break;
            } else {
                out[o++] = c;
                i++;
            }
        } else {
            if (i == n)
                break;
            uint8_t c = src[i];
            if (is_blank(c))
                break;
            if (c == '"')
                inq = true;
            else if (c == '\'')
                insq = true;
            else
                out[o++] = c;
            i++;
        }
    }
    *pos = i;
    *out_len = o;
    return 1;
}

/* One argument of an unquoted inline line: a span of `src` (no copy). */
static int plain_token(const uint8_t *src, size_t n, size_t *pos, size_t *start, size_t *len)
{
    size_t i = *pos;
    while (i < n && is_blank(src[i]))
        i++;
    if (i == n) {
        *pos = i;
        return 0;
    }
    *start = i;
    while (i < n && !is_blank(src[i]))
        i++;
    *len = i - *start;
    *pos = i;
    return 1;
}

/* The next argument of an inline line as a span; quoted lines are unescaped into scratch. */
static int next_arg(pt_resp_parser *p, const uint8_t *src, size_t n, bool quoted, size_t *pos,
                    size_t *out_off, pt_span *arg)
{
    size_t start = 0, len = 0;
    int r;
    if (!quoted) {
        r = plain_token(src, n, pos, &start, &len);
        if (r == 1)
            *arg = PT_SPAN(src + start, len);
        return r;
    }
    r = inline_token(src, n, pos, p->scratch + *out_off, &len);
    if (r == 1) {
        *arg = PT_SPAN(p->scratch + *out_off, len);
        *out_off += len;
    }
    return r;
}

/* Split an inline command line and report it as an array of bulk strings (two passes: the
 * array header needs the argument count). An empty line is ignored, as Redis does. */
static int process_inline(pt_resp_parser *p, const uint8_t *src, size_t n, uint64_t wire)
{
    if (n > 0 && src[n - 1] == '\r')
        n--;
    bool quoted = memchr(src, '"', n) || memchr(src, '\'', n);
    if (quoted && !p->scratch && !(p->scratch = malloc(p->lim.max_inline)))
        return fail(p, "out of memory");
    size_t pos = 0, off = 0;
    uint64_t argc = 0;
    pt_span arg;
    int r;
    while ((r = next_arg(p, src, n, quoted, &pos, &off, &arg)) == 1)
        argc++;
    if (r < 0)
        return fail(p, "unbalanced quotes in inline command");
    p->in_msg = false;
    p->state = S_TYPE;
    if (argc == 0)
        return PT_OK;
    if (argc + 1 > p->lim.max_elements)
        return fail(p, "inline command with more than max_elements arguments");
    pt_resp_item head = {.type = PT_RESP_ARRAY, .depth = 0, .count = (int64_t)argc};
    p->h.value(p->ctx, &head);
    pos = 0;
    off = 0;
    while (next_arg(p, src, n, quoted, &pos, &off, &arg) == 1) {
        pt_resp_item it = {.type = PT_RESP_BULK, .depth = 1, .value = arg};
        p->h.value(p->ctx, &it);
    }
    if (p->h.end)
        p->h.end(p->ctx, &head);
    pt_resp_msg m = {wire, true};
    if (p->h.done)
        p->h.done(p->ctx, &m);
    return PT_OK;
}

/* Inline state: look for the LF that ends the line. */
static int step_inline(pt_resp_parser *p, size_t len)
{
    const uint8_t *d = p->data;
    size_t i = p->pos;
    const uint8_t *lf = memchr(d + i, '\n', len - i);
    size_t end = lf ? (size_t)(lf - d) : len;
    size_t have = p->line_here ? end - p->line_start : p->line_len + (end - i);
    if (have > p->lim.max_inline) {
        /* the offending byte is the first past the limit, however the line was chunked */
        p->pos = p->line_here ? p->line_start + p->lim.max_inline
                              : i + (p->lim.max_inline - p->line_len);
        return fail(p, "inline command longer than max_inline");
    }
    if (!lf) {
        /* keep the partial line for the next chunk */
        if (!p->line && !(p->line = malloc(p->lim.max_inline)))
            return fail(p, "out of memory");
        size_t from = p->line_here ? p->line_start : i;
        memcpy(p->line + p->line_len, d + from, len - from);
        p->line_len += len - from;
        p->line_here = false;
        p->pos = len;
        return PT_OK;
    }
    p->pos = end + 1;
    uint64_t wire = p->msg_before + (p->pos - p->msg_start);
    if (p->line_here)
        return process_inline(p, d + p->line_start, end - p->line_start, wire);
    memcpy(p->line + p->line_len, d + i, end - i);
    size_t n = p->line_len + (end - i);
    p->line_len = 0;
    return process_inline(p, p->line, n, wire);
}

/* An unsigned "<digits>\r\n" length wholly in [s, end): returns the byte after its LF and
 * the number, or NULL when it is not wholly there, is empty, signed or longer than
 * RESP_MAX_LEN_DIGITS (the byte-wise states then read it and report any error at its byte).
 * The one- and two-digit lengths of the usual commands and replies are read without the loop. */
static inline const uint8_t *len_here(const uint8_t *s, const uint8_t *end, uint64_t *out)
{
    if (end - s >= 4) {
        unsigned d0 = (unsigned)s[0] - '0';
        if (d0 < 10) {
            if (s[1] == '\r') {
                if (s[2] != '\n')
                    return NULL;
                *out = d0;
                return s + 3;
            }
            unsigned d1 = (unsigned)s[1] - '0';
            if (d1 < 10 && s[2] == '\r' && s[3] == '\n') {
                *out = d0 * 10 + d1;
                return s + 4;
            }
        }
    }
    const uint8_t *start = s;
    uint64_t v = 0;
    while (s < end && (unsigned)*s - '0' < 10) {
        if (s - start == RESP_MAX_LEN_DIGITS)
            return NULL;
        v = v * 10 + (uint64_t)(*s - '0');
        s++;
    }
    if (s == start || end - s < 2 || s[0] != '\r' || s[1] != '\n')
        return NULL;
    *out = v;
    return s + 2;
}

/* A complete "[-]digits\r\n" header at d, as the byte-wise states would read it: returns the
 * bytes it takes and the number, or 0 when it is not wholly there (or is malformed: the
 * byte-wise states then report the error at the right offset). len_here() with a sign. */
static size_t header_here(const uint8_t *d, size_t len, int64_t *out)
{
    bool neg = len > 0 && d[0] == '-';
    uint64_t v;
    const uint8_t *end = len_here(d + neg, d + len, &v);
    if (!end)
        return 0;
    *out = neg ? -(int64_t)v : (int64_t)v;
    return (size_t)(end - d);
}

/* A "$<digits>\r\n" bulk header wholly in [q, end), as len_here() reads it: the byte after its
 * LF and the length, or NULL. */
static inline const uint8_t *bulk_len_here(const uint8_t *q, const uint8_t *end, uint64_t *m)
{
    return q < end && *q == '$' ? len_here(q + 1, end, m) : NULL;
}

/* Whether a CRLF is at p (two readable bytes): one 16-bit comparison. */
static inline bool crlf_at(const uint8_t *p)
{
    return memcmp(p, "\r\n", 2) == 0;
}

/* The first CR in [s, end), or end. Reply lines are short ("OK"): a plain loop over the first
 * bytes, memchr() past them. */
static inline const uint8_t *find_cr(const uint8_t *s, const uint8_t *end)
{
    const uint8_t *stop = end - s > 16 ? s + 16 : end;
    for (; s < stop; s++)
        if (*s == '\r')
            return s;
    if (s == end)
        return end;
    const uint8_t *cr = memchr(s, '\r', (size_t)(end - s));
    return cr ? cr : end;
}

/* Fast path for requests: each whole "*<n>\r\n" + n x "$<len>\r\n<bytes>\r\n" command that lies
 * in this chunk, one after the other, is checked and then reported (through the batch
 * callback when set, else as the value/end/done calls the states would make) without the
 * byte-wise states. It stops, with nothing consumed of that command, at one that is not wholly
 * here, breaks a limit or is malformed: the states then read it and report any error at its
 * byte. At most RESP_FAST_ARGS arguments, so a failed attempt costs little. p->pos is at a '*'
 * at the top level, no message in progress. Returns whether it consumed a command. */
static bool request_here(pt_resp_parser *p)
{
    const uint8_t *const data = p->data, *const end = data + p->len;
    const uint8_t *s = data + p->pos;
    pt_span arg[RESP_FAST_ARGS];
    bool any = false;
    do {
        uint64_t n, m;
        const uint8_t *q = len_here(s + 1, end, &n);
        if (!q || n == 0 || n > RESP_FAST_ARGS || n + 1 > p->lim.max_elements)
            break;
        size_t k = 0;
        for (; k < n; k++) {
            if (!(q = bulk_len_here(q, end, &m)) || m > p->lim.max_bulk ||
                (uint64_t)(end - q) < m + 2 || !crlf_at(q + m))
                break;
            arg[k] = PT_SPAN(q, (size_t)m);
            q += m + 2;
        }
        if (k < n)
            break;
        p->pos = (size_t)(q - data);
        if (p->command) {
            p->command(p->ctx, arg, (size_t)n, (uint64_t)(q - s));
        } else {
            pt_resp_msg msg = {(uint64_t)(q - s), false};
            pt_resp_item head = {.type = PT_RESP_ARRAY, .depth = 0, .count = (int64_t)n};
            p->h.value(p->ctx, &head);
            for (k = 0; k < n; k++) {
                pt_resp_item it = {.type = PT_RESP_BULK, .depth = 1, .value = arg[k]};
                p->h.value(p->ctx, &it);
            }
            if (p->h.end)
                p->h.end(p->ctx, &head);
            if (p->h.done)
                p->h.done(p->ctx, &msg);
        }
        s = q;
        any = true;
    } while (s < end && *s == '*');
    return any;
}

/* Fast path for replies: each top-level simple string, error, integer or bulk string
 * ("+OK\r\n", ":1\r\n", "$3\r\nfoo\r\n") that lies wholly in this chunk, one after the other, is
 * reported (through the scalar callback when set, else value then done) without the byte-wise
 * states. It stops, with nothing consumed of that value, at any other type, at a value not
 * wholly here, at a line with a lone CR, and at a malformed or limit-breaking value: the
 * states then read it and report any error at its byte. p->pos is at the top level, no
 * message in progress. Returns whether it consumed a reply. */
static bool reply_here(pt_resp_parser *p)
{
    const uint8_t *const data = p->data, *const end = data + p->len;
    const uint8_t *s = data + p->pos;
    bool any = false;
    if (p->lim.max_elements == 0)
        return false;
    while (s < end) {
        uint8_t t = *s;
        const uint8_t *v = s + 1, *q;
        uint64_t n;
        if (t == '+' && end - v >= 4 && memcmp(v, "OK\r\n", 4) == 0 && p->lim.max_bulk >= 2) {
            /* "+OK\r\n", the most common reply of all, without the scan and the checks */
            n = 2;
            q = v + 4;
        } else if (t == '+' || t == '-' || t == ':') {
            q = find_cr(v, end);
            if (end - q < 2 || q[1] != '\n')
                break;
            n = (uint64_t)(q - v);
            if (n > p->lim.max_bulk ||
                (t == ':' && (n > RESP_MAX_INT_LEN || !is_digits(v, (size_t)n, true))))
                break;
            q += 2;
        } else if (t == '$') {
            if (!(q = len_here(v, end, &n)) || n > p->lim.max_bulk || (uint64_t)(end - q) < n + 2 ||
                !crlf_at(q + n))
                break;
            v = q;
            q += n + 2;
        } else {
            break;
        }
        p->pos = (size_t)(q - data);
        if (p->scalar) {
            p->scalar(p->ctx, (pt_resp_type)t, v, (size_t)n, (uint64_t)(q - s));
        } else {
            pt_resp_item it = {.type = (pt_resp_type)t, .value = PT_SPAN(v, (size_t)n)};
            pt_resp_msg msg = {(uint64_t)(q - s), false};
            p->h.value(p->ctx, &it);
            if (p->h.done)
                p->h.done(p->ctx, &msg);
        }
        s = q;
        any = true;
    }
    return any;
}

/* Type byte state: start a value (or, for requests at the top level, an inline command). */
static int step_type(pt_resp_parser *p)
{
    uint8_t c = p->data[p->pos];
    if (p->depth == 0 && !p->in_msg) {
        /* whole messages in this chunk first */
        if (p->mode == PT_RESP_MODE_REQUEST ? c == '*' && request_here(p) : reply_here(p))
            return PT_OK;
        p->in_msg = true;
        p->msg_start = p->pos;
        p->msg_before = 0;
        p->msg_values = 0;
    }
    if (p->mode == PT_RESP_MODE_REQUEST) {
        if (p->depth == 0 && c != '*') {
            p->state = S_INLINE;
            p->line_here = true;
            p->line_start = p->pos;
            p->line_len = 0;
            return PT_OK;
        }
        if (p->depth > 0 && c != '$')
            return fail(p, "expected '$' in a request");
    }
    p->cur = (pt_resp_type)c;
    p->pos++;
    switch (c) {
    case '+':
    case '-':
    case ':':
    case '_':
    case '#':
    case ',':
    case '(':
        val_begin(p);
        p->bn_digits = 0;
        p->bn_bad = false;
        p->state = S_LINE;
        return PT_OK;
    case '$':
    case '!':
    case '=':
    case '*':
    case '%':
    case '~':
    case '|':
    case '>': {
        /* fast path: the whole header is in this chunk */
        int64_t n;
        size_t used = header_here(p->data + p->pos, p->len - p->pos, &n);
        if (used) {
            p->pos += used;
            return finish_header(p, n);
        }
        p->neg = false;
        p->ndigits = 0;
        p->num = 0;
        p->state = S_NUM;
        return PT_OK;
    }
    default:
        p->pos--;
        return fail(p, "unknown type byte");
    }
}

/* Header digits: [-]digits CR LF. */
static int step_num(pt_resp_parser *p)
{
    uint8_t c = p->data[p->pos];
    if (c == '-' && p->ndigits == 0 && !p->neg) {
        p->neg = true;
    } else if (c >= '0' && c <= '9') {
        if (++p->ndigits > RESP_MAX_LEN_DIGITS)
            return fail(p, "length header too long");
        p->num = p->num * 10 + (uint64_t)(c - '0');
    } else if (c == '\r' && p->ndigits > 0) {
        p->state = S_NUM_LF;
    } else {
        return fail(p, "bad length header");
    }
    p->pos++;
    return PT_OK;
}

int pt_resp_feed(pt_resp_parser *p, const uint8_t *data, size_t len)
{
    if (p->state == S_ERROR)
        return PT_ERROR;
    p->data = data;
    p->len = len;
    p->pos = 0;
    if (p->in_msg)
        p->msg_start = 0;
    int r = PT_OK;
    while (p->pos < len && r == PT_OK) {
        switch (p->state) {
        case S_TYPE:
            r = step_type(p);
            break;
        case S_NUM:
            r = step_num(p);
            break;
        case S_NUM_LF:
            if (data[p->pos] != '\n') {
                r = fail(p, "bad length header");
                break;
            }
            p->pos++;
            r = finish_header(p, p->neg ? -(int64_t)p->num : (int64_t)p->num);
            break;
        case S_LINE: {
            const uint8_t *cr = memchr(data + p->pos, '\r', len - p->pos);
            size_t end = cr ? (size_t)(cr - data) : len;
            size_t n = end - p->pos;
            if (p->cur == PT_RESP_BIGNUM)
                bignum_scan(p, data + p->pos, n);
            p->val_len += n;
            p->seg_count += n;
            p->pos = end;
            if (p->val_len > p->lim.max_bulk) {
                /* at the first byte past the limit, however the line was chunked */
                p->pos = end - (size_t)(p->val_len - p->lim.max_bulk);
                r = fail(p, "line longer than max_bulk");
                break;
            }
            if (cr) {
                p->pos++;
                /* fast path: the LF follows in this chunk */
                if (p->pos < len && data[p->pos] == '\n') {
                    p->pos++;
                    r = finish_line(p);
                    break;
                }
                p->state = S_LINE_CR;
            }
            break;
        }
        case S_LINE_CR:
            if (data[p->pos] == '\n') {
                p->pos++;
                r = finish_line(p);
                break;
            }
            /* a lone CR is part of the line (and spoils a big number) */
            p->bn_bad = true;
            if (p->pos > 0) {
                p->seg_count++;
            } else {
                pre_append(p, (const uint8_t *)"\r", 1);
                p->seg_start = 0;
                p->seg_count = 0;
            }
            p->val_len++;
            p->state = S_LINE;
            break;
        case S_BULK: {
            size_t avail = len - p->pos;
            size_t take = p->bulk_left < avail ? (size_t)p->bulk_left : avail;
            p->val_len += take;
            p->seg_count += take;
            p->pos += take;
            p->bulk_left -= take;
            if (p->bulk_left == 0)
                p->state = S_BULK_CR;
            break;
        }
        case S_BULK_CR:
            if (data[p->pos] != '\r') {
                r = fail(p, "bulk string not followed by CRLF");
                break;
            }
            p->pos++;
            p->state = S_BULK_LF;
            break;
        case S_BULK_LF:
            if (data[p->pos] != '\n') {
                r = fail(p, "bulk string not followed by CRLF");
                break;
            }
            p->pos++;
            r = finish_bulk(p);
            break;
        case S_INLINE:
            r = step_inline(p, len);
            break;
        case S_ERROR:
            r = PT_ERROR;
            break;
        }
    }
    if (r == PT_OK) {
        /* the chunk ends inside a value: keep what later chunks cannot see */
        if (p->state == S_LINE || p->state == S_LINE_CR || p->state == S_BULK ||
            p->state == S_BULK_CR || p->state == S_BULK_LF)
            val_spill(p);
        if (p->in_msg)
            p->msg_before += len - p->msg_start;
    }
    p->base += len;
    p->data = NULL;
    return r;
}
