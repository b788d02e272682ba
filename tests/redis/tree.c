/* tree.c — test helper: a RESP parser handler that writes one line per value (see tree.h). */
#include "tree.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void tree_init(tree *t, size_t show)
{
    memset(t, 0, sizeof(*t));
    t->show = show;
}

void tree_free(tree *t)
{
    free(t->buf);
    memset(t, 0, sizeof(*t));
}

static void reserve(tree *t, size_t more)
{
    if (t->len + more + 1 <= t->cap)
        return;
    size_t cap = t->cap ? t->cap : 256;
    while (cap < t->len + more + 1)
        cap *= 2;
    t->buf = realloc(t->buf, cap);
    if (!t->buf)
        abort();
    t->cap = cap;
}

void tree_printf(tree *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    reserve(t, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(t->buf + t->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    t->len += (size_t)n;
}

void tree_bytes(tree *t, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\\')
            tree_printf(t, "%c", p[i]);
        else
            tree_printf(t, "\\x%02x", p[i]);
    }
}

static void on_value(void *ctx, const pt_resp_item *it)
{
    tree *t = ctx;
    tree_printf(t, "%*s%c", (int)it->depth * 2, "", (char)it->type);
    if (it->null) {
        tree_printf(t, " nil\n");
        return;
    }
    switch (it->type) {
    case PT_RESP_ARRAY:
    case PT_RESP_MAP:
    case PT_RESP_SET:
    case PT_RESP_ATTRIBUTE:
    case PT_RESP_PUSH:
        tree_printf(t, " %lld\n", (long long)it->count);
        return;
    default:
        break;
    }
    if (it->value.len > it->value.full_len || (it->value.len && !it->value.ptr))
        tree_printf(t, " BAD-SPAN");
    size_t n = it->value.len < t->show ? it->value.len : t->show;
    tree_printf(t, " (%llu) ", (unsigned long long)it->value.full_len);
    tree_bytes(t, it->value.ptr, n);
    tree_printf(t, "\n");
}

static void on_end(void *ctx, const pt_resp_item *it)
{
    tree *t = ctx;
    tree_printf(t, "%*s/%c\n", (int)it->depth * 2, "", (char)it->type);
}

static void on_done(void *ctx, const pt_resp_msg *m)
{
    tree *t = ctx;
    t->messages++;
    t->wire_bytes += m->wire_bytes;
    tree_printf(t, "= %llu%s\n", (unsigned long long)m->wire_bytes, m->is_inline ? " inline" : "");
}

const pt_resp_handler tree_handler = {on_value, on_end, on_done};

int tree_parse(tree *t, pt_resp_mode mode, const pt_resp_limits *lim, const uint8_t *data,
               size_t len, const size_t *chunks, size_t n_chunks)
{
    pt_resp_parser *p = pt_resp_new(mode, lim, &tree_handler, t);
    if (!p)
        abort();
    int r = PT_OK;
    size_t off = 0, k = 0;
    while (off < len && r == PT_OK) {
        size_t n = (n_chunks && chunks[k % n_chunks]) ? chunks[k % n_chunks] : len - off;
        if (n > len - off)
            n = len - off;
        /* an exact-size heap copy, so ASan catches reads past the chunk */
        uint8_t *c = malloc(n);
        memcpy(c, data + off, n);
        r = pt_resp_feed(p, c, n);
        free(c);
        off += n;
        k++;
    }
    if (r != PT_OK)
        tree_printf(t, "ERROR %s at %llu\n", pt_resp_error(p),
                    (unsigned long long)pt_resp_offset(p));
    pt_resp_free(p);
    return r;
}
