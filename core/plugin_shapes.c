/* plugin_shapes.c — the registry of declared event shapes. A plugin declares each shape of
 * its events once (kind, field names and types), the host checks it here once, and its
 * events then carry values only: no name or type is looked at per event (plugin_host.c's
 * emit_shaped checks the spans and lists). Shapes live until the plugins are unloaded. */
#include "plugin_shapes.h"

#include <string.h>

#include <glib.h>

static GPtrArray *shapes; /* of pt_shape, in declaration order */

const char *pt_value_check(unsigned t, const pt_value *v)
{
    if (t <= PT_FIELD_BYTES)
        return v->str.ptr || !v->str.len ? NULL : "NULL span with a length";
    if (t != PT_FIELD_STR_LIST)
        return t <= PT_FIELD_NULL ? NULL : "unknown field type";
    if (v->list.count && !v->list.items)
        return "NULL list items";
    for (size_t k = 0; k < v->list.count; k++)
        if (!v->list.items[k].ptr && v->list.items[k].len)
            return "NULL span with a length in a list";
    return NULL;
}

const char *pt_shape_why_values(const pt_shape *shape, const pt_value *values)
{
    for (size_t i = 0; i < shape->n; i++) {
        const char *why = pt_value_check((unsigned)shape->fields[i].type, &values[i]);
        if (why)
            return why;
    }
    return "malformed value";
}

/* Why the kind and fields cannot be a shape, or NULL. */
static const char *shape_invalid(const char *kind, const pt_field *fields, size_t n,
                                 size_t max_fields)
{
    if (!(pt_plugin_host_name_verdict(kind) & PT_NAME_KIND_OK))
        return "event kind is not [a-z0-9_]+";
    if (n > max_fields)
        return "too many fields";
    if (n && !fields)
        return "NULL fields";
    for (size_t i = 0; i < n; i++) {
        if (!(pt_plugin_host_name_verdict(fields[i].name) & PT_NAME_FIELD_OK))
            return "bad field name";
        if ((unsigned)fields[i].type > PT_FIELD_NULL)
            return "unknown field type";
        for (size_t j = 0; j < i; j++)
            if (strcmp(fields[j].name, fields[i].name) == 0)
                return "repeated field name";
    }
    return NULL;
}

/* Whether s is the shape of kind and fields (same texts, same types). */
static bool shape_same(const pt_shape *s, const char *kind, const pt_field *fields, size_t n)
{
    if (s->n != n || strcmp(s->kind, kind) != 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s->fields[i].type != fields[i].type || strcmp(s->fields[i].name, fields[i].name))
            return false;
    return true;
}

/* A name kept by the shape: a string literal as it is (its address stays valid while the
 * plugin is loaded and sinks may compare it), anything else copied. */
static const char *keep_name(const char *s, GPtrArray *owned)
{
    if (pt_plugin_host_name_verdict(s) & PT_NAME_READ_ONLY)
        return s;
    char *copy = g_strdup(s);
    g_ptr_array_add(owned, copy);
    return copy;
}

typedef struct shape_entry {
    pt_shape shape;
    GPtrArray *owned; /* copied names */
} shape_entry;

static void entry_free(gpointer p)
{
    shape_entry *e = p;
    g_free(e->shape.fields);
    g_free((void *)e->shape.spans);
    g_free((void *)e->shape.lists);
    g_ptr_array_unref(e->owned);
    g_free(e);
}

const pt_shape *pt_shape_declare(const char *kind, const pt_field *fields, size_t n,
                                 size_t max_fields, uint64_t *last_id, const char **why)
{
    *why = shape_invalid(kind, fields, n, max_fields);
    if (*why)
        return NULL;
    if (!shapes)
        shapes = g_ptr_array_new_with_free_func(entry_free);
    for (size_t i = 0; i < shapes->len; i++) {
        const pt_shape *s = g_ptr_array_index(shapes, i);
        if (shape_same(s, kind, fields, n))
            return s;
    }
    if (shapes->len >= PT_SHAPES_MAX) {
        *why = "too many shapes declared";
        return NULL;
    }
    shape_entry *e = g_new0(shape_entry, 1);
    e->owned = g_ptr_array_new_with_free_func(g_free);
    pt_shape *s = &e->shape;
    s->magic = PT_SHAPE_MAGIC;
    s->id = ++*last_id;
    s->kind = keep_name(kind, e->owned);
    s->n = n;
    s->fields = g_new0(pt_field, n ? n : 1);
    uint32_t *spans = g_new0(uint32_t, n ? n : 1), *lists = g_new0(uint32_t, n ? n : 1);
    for (size_t i = 0; i < n; i++) {
        s->fields[i].name = keep_name(fields[i].name, e->owned);
        s->fields[i].type = fields[i].type;
        unsigned t = (unsigned)fields[i].type;
        if (t <= PT_FIELD_BYTES)
            spans[s->n_spans++] = (uint32_t)i;
        else if (t == PT_FIELD_STR_LIST)
            lists[s->n_lists++] = (uint32_t)i;
    }
    s->spans = spans;
    s->lists = lists;
    g_ptr_array_add(shapes, e);
    return s;
}

void pt_shapes_free(void)
{
    if (shapes)
        g_ptr_array_unref(shapes);
    shapes = NULL;
}
