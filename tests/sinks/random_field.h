/* random_field.h — a random event field for the sink tests that compare two ways of
 * rendering the same event: every type, plain and special bytes, shortened values and lists,
 * now and then a NULL name. */
#ifndef PT_TESTS_RANDOM_FIELD_H
#define PT_TESTS_RANDOM_FIELD_H

#include <glib.h>

#include "pcaptrace/plugin.h"

/* A field named `name` whose bytes are written to `bytes` (40 bytes) and list items to `items`
 * (4 spans). */
static inline pt_field random_field(GRand *r, const char *name, uint8_t *bytes, pt_span *items)
{
    static const uint8_t special[] = {0x00, 0x1f, '"', '\\', 0x7f, 0x80, 0xff, '\n', 0xc3, 0xe2};
    size_t len = (size_t)g_rand_int_range(r, 0, 40);
    for (size_t k = 0; k < len; k++)
        bytes[k] = g_rand_int_range(r, 0, 12) == 0
                       ? special[g_rand_int_range(r, 0, (gint32)sizeof special)]
                       : (uint8_t)g_rand_int_range(r, 0x20, 0x7f);
    pt_span sp = {bytes, len, g_rand_int_range(r, 0, 6) == 0 ? len + 100 : 0};
    pt_field f;
    switch (g_rand_int_range(r, 0, 9)) {
    case 0:
        f = PT_F_BYTES(name, sp);
        break;
    case 1:
        f = PT_F_INT(name, (int64_t)g_rand_int(r) - (int64_t)g_rand_int(r) * 100000);
        break;
    case 2:
        f = PT_F_UINT(name, (uint64_t)g_rand_int(r) * (uint64_t)g_rand_int_range(r, 0, 100000));
        break;
    case 3:
        f = PT_F_DOUBLE(name, g_rand_double_range(r, -1e6, 1e6));
        break;
    case 4:
        f = PT_F_BOOL(name, g_rand_boolean(r));
        break;
    case 5:
        f = PT_F_NULL(name);
        break;
    case 6: {
        size_t count = (size_t)g_rand_int_range(r, 0, 4);
        for (size_t k = 0; k < count; k++) {
            size_t at = (size_t)g_rand_int_range(r, 0, (gint32)len + 1);
            items[k] = (pt_span){bytes + at, len - at, 0};
        }
        f = PT_F_LIST(name, count ? items : NULL, count,
                      g_rand_int_range(r, 0, 4) == 0 ? count + 2 : count);
        break;
    }
    default:
        f = PT_F_STR(name, sp);
        break;
    }
    if (g_rand_int_range(r, 0, 20) == 0)
        f.name = NULL;
    return f;
}

#endif
