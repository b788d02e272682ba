/* plugin_shapes.c — the registry of declared event shapes. A plugin declares each shape of
 * its events once (kind, field names and types), the host checks it here once, and its
 * events then carry values only: no name or type is looked at per event (plugin_host.c's
 * emit_shaped checks the spans and lists). Shapes live until the plugins are unloaded. */
#include "plugin_shapes.h"

#include <string.h>

#include <glib.h>

#include "plugin_host.h"

/* The declared shapes, each its own key (by kind, names and types: shape_hash, shape_equal). */
static GHashTable *shapes;

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
    const char *why = NULL;
    GHashTable *seen = g_hash_table_new(g_str_hash, g_str_equal); /* a set of the names */
    for (size_t i = 0; i < n && !why; i++) {
        if (!(pt_plugin_host_name_verdict(fields[i].name) & PT_NAME_FIELD_OK))
            why = "bad field name";
        else if ((unsigned)fields[i].type > PT_FIELD_NULL)
            why = "unknown field type";
        else if (!g_hash_table_add(seen, (gpointer)fields[i].name))
            why = "repeated field name";
    }
    g_hash_table_destroy(seen);
    return why;
}

/* The registry's hash of a shape: its kind, names and types. */
static guint shape_hash(gconstpointer p)
{
    const pt_shape *s = p;
    guint h = g_str_hash(s->kind) ^ (guint)s->n;
    for (size_t i = 0; i < s->n; i++)
        h = h * 31u + g_str_hash(s->fields[i].name) + (guint)s->fields[i].type;
    return h;
}

/* Whether two shapes have the same kind, names and types (texts compared). */
static gboolean shape_equal(gconstpointer pa, gconstpointer pb)
{
    const pt_shape *a = pa, *b = pb;
    if (a->n != b->n || strcmp(a->kind, b->kind) != 0)
        return FALSE;
    for (size_t i = 0; i < a->n; i++)
        if (a->fields[i].type != b->fields[i].type ||
            strcmp(a->fields[i].name, b->fields[i].name) != 0)
            return FALSE;
    return TRUE;
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
    pt_shape shape;   /* first: an entry's address is its shape's */
    GPtrArray *owned; /* copied names */
} shape_entry;

/* A registry entry's free function (the entry is its own key). */
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
                                 const pt_shape_limits *lim, uint64_t *last_id, const char **why)
{
    *why = shape_invalid(kind, fields, n, lim->max_fields);
    if (*why)
        return NULL;
    if (!shapes)
        shapes = g_hash_table_new_full(shape_hash, shape_equal, entry_free, NULL);
    /* the candidate as a key: the registry reads only kind, n and the names and types */
    pt_shape probe = {.kind = kind, .n = n, .fields = (pt_field *)fields};
    const pt_shape *known = g_hash_table_lookup(shapes, &probe);
    if (known)
        return known;
    if (g_hash_table_size(shapes) >= lim->max_shapes) {
        *why = "too many shapes declared (event_max_shapes)";
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
    g_hash_table_add(shapes, e); /* e starts with its shape: the key is the shape */
    return s;
}

void pt_shapes_free(void)
{
    if (shapes)
        g_hash_table_destroy(shapes);
    shapes = NULL;
}
