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

#define PT_SHAPES_MAX 4096 /* shapes declared in all (a plugin declaring per event is a bug) */

/* What the host says of a name (pt_plugin_host_name_verdict bits). */
enum { PT_NAME_KIND_OK = 1, PT_NAME_FIELD_OK = 2, PT_NAME_READ_ONLY = 4 };
unsigned pt_plugin_host_name_verdict(const char *s);

/* Why a value of type t is malformed (a NULL span that claims bytes, NULL list items, an
 * unknown type), or NULL. */
const char *pt_value_check(unsigned t, const pt_value *v);

/* The shape of kind and the names and types of fields[0..n): the one declared before with
 * the same kind, names and types, or a new one with a new id from *last_id. NULL with *why
 * set when the kind or a name is invalid (or repeats, or shadows the envelope), a type is
 * unknown, n is over max_fields, or PT_SHAPES_MAX shapes exist. */
const pt_shape *pt_shape_declare(const char *kind, const pt_field *fields, size_t n,
                                 size_t max_fields, uint64_t *last_id, const char **why);

/* Why the values of an event of shape are malformed (one is known to be), the first field's
 * reason. */
const char *pt_shape_why_values(const pt_shape *shape, const pt_value *values);

/* Why the values of an event of shape are malformed, or NULL: only the spans and lists are
 * looked at (the shape's types are known ones). */
static inline const char *pt_shape_check_values(const pt_shape *shape, const pt_value *values)
{
    for (size_t k = 0; k < shape->n_spans; k++) {
        const pt_span *v = &values[shape->spans[k]].str;
        if (G_UNLIKELY(!v->ptr) && v->len)
            return pt_shape_why_values(shape, values);
    }
    for (size_t k = 0; k < shape->n_lists; k++) {
        const pt_value *v = &values[shape->lists[k]];
        if (G_UNLIKELY(!v->list.items) && v->list.count)
            return pt_shape_why_values(shape, values);
        for (size_t i = 0; i < v->list.count; i++)
            if (G_UNLIKELY(!v->list.items[i].ptr) && v->list.items[i].len)
                return pt_shape_why_values(shape, values);
    }
    return NULL;
}

/* Forget every declared shape (after the plugins are finished). */
void pt_shapes_free(void);

#endif
