/* http_msg.c — bounded, reused storage for one HTTP message's start line and header fields
 * (RFC 9112 §5), filled from llhttp's span callbacks, which may split any token across packets. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http.h"

void http_msg_reset(http_msg *m)
{
    m->len = 0;
    m->n_hdrs = 0;
    m->total_hdrs = 0;
    m->truncated = false;
    m->in_value = false;
    m->method_off = m->method_len = 0;
    m->target_off = m->target_len = 0;
    m->reason_off = m->reason_len = 0;
    m->host = m->user_agent = m->content_type = m->content_encoding = m->upgrade = -1;
}

void http_msg_free(http_msg *m)
{
    free(m->buf);
    free(m->hdrs);
    memset(m, 0, sizeof(*m));
}

/* Append n bytes to the buffer, growing it up to `max` (doubling, so a stream settles on
 * one allocation). Returns how many bytes fitted. The slow path of put(). */
static size_t put_grow(http_msg *m, size_t max, const char *at, size_t n)
{
    if (m->len + n > m->cap && m->cap < max) {
        size_t cap = m->cap ? m->cap : HTTP_MIN_HEADER_BYTES;
        while (cap < m->len + n && cap < max) {
            cap *= 2;
        }
        if (cap > max) {
            cap = max;
        }
        uint8_t *b = realloc(m->buf, cap);
        if (b != NULL) {
            m->buf = b;
            m->cap = cap;
        }
    }
    size_t room = m->cap - m->len;
    size_t k = n < room ? n : room;
    if (k > 0) {
        memcpy(m->buf + m->len, at, k);
        m->len += k;
    }
    if (k < n) {
        m->truncated = true;
    }
    return k;
}

/* Append n bytes; called for every token piece, so the common case (it fits in the buffer
 * the stream already has) is kept to one comparison and a copy. */
static inline size_t put(http_msg *m, size_t max, const char *at, size_t n)
{
    if (n <= m->cap - m->len && n > 0) {
        memcpy(m->buf + m->len, at, n);
        m->len += n;
        return n;
    }
    return put_grow(m, max, at, n);
}

/* Append to the value whose bytes end the buffer (token pieces arrive in order, so the last
 * token being built always sits at the end). */
void http_msg_append(http_msg *m, size_t max, uint32_t *off, uint32_t *len, const char *at,
                     size_t n)
{
    if (*len == 0) {
        *off = (uint32_t)m->len;
    } else if ((size_t)*off + *len != m->len) {
        return; /* an earlier piece did not fit: keep what we have */
    }
    *len += (uint32_t)put(m, max, at, n);
}

void http_msg_header_field(http_msg *m, size_t max, const char *at, size_t n)
{
    if (m->in_value || m->total_hdrs == 0) {
        m->total_hdrs++;
        m->in_value = false;
        if (m->len >= max) {
            m->truncated = true;
            return; /* no room left for this header */
        }
        if (m->n_hdrs == m->cap_hdrs) {
            size_t cap = m->cap_hdrs ? m->cap_hdrs * 2 : 16;
            if (cap > max / 4) {
                cap = max / 4; /* a header line is at least "a:\r\n" */
            }
            http_hdr *h = cap > m->cap_hdrs ? realloc(m->hdrs, cap * sizeof(*h)) : NULL;
            if (h == NULL) {
                m->truncated = true;
                return;
            }
            m->hdrs = h;
            m->cap_hdrs = cap;
        }
        http_hdr *h = &m->hdrs[m->n_hdrs++];
        memset(h, 0, sizeof(*h));
    }
    if (m->n_hdrs < m->total_hdrs) {
        return; /* this header did not get a slot */
    }
    http_hdr *h = &m->hdrs[m->n_hdrs - 1];
    http_msg_append(m, max, &h->name_off, &h->name_len, at, n);
}

/* Values are stored right after their name and ": ", so "Name: value" is one span. */
static void value_start(http_msg *m, size_t max, http_hdr *h)
{
    if (h->value_off != 0) {
        return;
    }
    if ((size_t)h->name_off + h->name_len == m->len && put(m, max, ": ", 2) == 2) {
        h->value_off = (uint32_t)m->len;
    } else {
        h->value_off = UINT32_MAX; /* did not fit: no value kept */
    }
}

void http_msg_header_value(http_msg *m, size_t max, const char *at, size_t n)
{
    m->in_value = true;
    if (m->n_hdrs == 0 || m->n_hdrs < m->total_hdrs) {
        return;
    }
    http_hdr *h = &m->hdrs[m->n_hdrs - 1];
    value_start(m, max, h);
    if (h->value_off == UINT32_MAX) {
        return;
    }
    if (h->value_len == 0) {
        h->value_len = (uint32_t)put(m, max, at, n);
    } else if ((size_t)h->value_off + h->value_len == m->len) {
        h->value_len += (uint32_t)put(m, max, at, n);
    }
}

pt_span http_msg_line(const http_msg *m, size_t i)
{
    const http_hdr *h = &m->hdrs[i];
    if (h->value_off == UINT32_MAX || h->value_off == 0) {
        return http_msg_span(m, h->name_off, h->name_len);
    }
    return http_msg_span(m, h->name_off, h->value_off - h->name_off + h->value_len);
}

/* Whether header h is named `name` (n bytes), ignoring case. */
static bool name_is_n(const http_msg *m, const http_hdr *h, const char *name, size_t n)
{
    return h->name_len == n && strncasecmp((const char *)m->buf + h->name_off, name, n) == 0;
}

/* The headers the plugin itself needs, and where their index goes in http_msg. */
static const struct {
    const char *name;
    size_t len;
    size_t at;
} known_headers[] = {
    {"host", sizeof("host") - 1, offsetof(http_msg, host)},
    {"user-agent", sizeof("user-agent") - 1, offsetof(http_msg, user_agent)},
    {"content-type", sizeof("content-type") - 1, offsetof(http_msg, content_type)},
    {"content-encoding", sizeof("content-encoding") - 1, offsetof(http_msg, content_encoding)},
    {"upgrade", sizeof("upgrade") - 1, offsetof(http_msg, upgrade)},
};

/* A header line is complete: remember where the few headers the plugin itself needs are
 * (first occurrence wins, as most servers do). Their lengths differ, so most headers cost a
 * few length comparisons and at most one string comparison. */
void http_msg_header_done(http_msg *m, size_t max)
{
    m->in_value = true;
    if (m->n_hdrs == 0 || m->n_hdrs < m->total_hdrs) {
        return;
    }
    int idx = (int)m->n_hdrs - 1;
    http_hdr *h = &m->hdrs[idx];
    value_start(m, max, h);
    for (size_t k = 0; k < sizeof known_headers / sizeof known_headers[0]; k++) {
        if (!name_is_n(m, h, known_headers[k].name, known_headers[k].len))
            continue;
        int *slot = (int *)((char *)m + known_headers[k].at);
        if (*slot < 0)
            *slot = idx;
        break;
    }
}

pt_span http_msg_span(const http_msg *m, uint32_t off, uint32_t len)
{
    if (m->buf == NULL || len == 0 || (size_t)off + len > m->len) {
        return PT_SPAN("", 0);
    }
    return PT_SPAN(m->buf + off, len);
}

pt_span http_msg_header(const http_msg *m, int idx)
{
    if (idx < 0 || (size_t)idx >= m->n_hdrs || m->hdrs[idx].value_off == UINT32_MAX) {
        return PT_SPAN("", 0);
    }
    return http_msg_span(m, m->hdrs[idx].value_off, m->hdrs[idx].value_len);
}
