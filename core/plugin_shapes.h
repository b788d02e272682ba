/* plugin_shapes.h — event shapes plugins declare once (pt_host.shape) and then emit by value
 * (pt_host.emit_shaped): the registry, its checks and the per-event value checks. */
#ifndef PT_CORE_PLUGIN_SHAPES_H
#define PT_CORE_PLUGIN_SHAPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <glib.h>

#include "events.h"
#include "pcaptrace/plugin.h"

/* The limits a declaration is checked against (pt_plugin_host_limits). */
typedef struct pt_shape_limits {
    size_t max_fields; /* fields of one event */
    size_t max_shapes; /* shapes declared in all (a plugin declaring per event is a bug) */
} pt_shape_limits;

/* Why a value of type t is malformed (a NULL span that claims bytes, NULL list items, an
 * unknown type), or NULL. Asked for every field of an event emitted as fields (the common
 * types take one or two compares) and for the fields of a shaped event found malformed. */
static inline const char *pt_value_check(unsigned t, const pt_value *v)
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

/* The shape of kind and the names and types of fields[0..n): the one declared before with
 * the same kind, names and types (found by hashing them), or a new one with a new id from
 * *last_id. NULL with *why set when the kind or a name is invalid (or repeats, or shadows the
 * envelope), a type is unknown, n is over lim->max_fields, or lim->max_shapes shapes exist. */
const pt_shape *pt_shape_declare(const char *kind, const pt_field *fields, size_t n,
                                 const pt_shape_limits *lim, uint64_t *last_id, const char **why);

/* Why the values of an event of shape are malformed (one is known to be), the first field's
 * reason. */
const char *pt_shape_why_values(const pt_shape *shape, const pt_value *values);

/* Why the values of an event of shape are malformed, or NULL: only the spans and lists are
 * looked at (the shape's types are known ones). */
static inline const char *pt_shape_check_values(const pt_shape *shape, const pt_value *values)
{
    for (size_t k = 0; k < shape->n_spans; k++)
        if (G_UNLIKELY(pt_value_check(PT_FIELD_STR, &values[shape->spans[k]]) != NULL))
            return pt_shape_why_values(shape, values);
    for (size_t k = 0; k < shape->n_lists; k++)
        if (G_UNLIKELY(pt_value_check(PT_FIELD_STR_LIST, &values[shape->lists[k]]) != NULL))
            return pt_shape_why_values(shape, values);
    return NULL;
}

/* Forget every declared shape (after the plugins are finished). */
void pt_shapes_free(void);

#endif
