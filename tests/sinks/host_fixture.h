/* host_fixture.h — for the sink tests that drive the real plugin host: a stream of a fake
 * plugin on its own bus (no sinks until a test adds some), with the host's log quiet. */
#ifndef PT_TESTS_HOST_FIXTURE_H
#define PT_TESTS_HOST_FIXTURE_H

#include <string.h>

#include "events.h"
#include "plugin_host.h"

typedef struct host_fixture {
    pt_endpoint c, s;
    pt_plugin_ref ref;
    pt_stream st;
    pt_events *bus;
    const pt_host *h;
} host_fixture;

/* Set x up for a plugin called `plugin` (a literal). */
static inline void host_fixture_init(host_fixture *x, const char *plugin)
{
    memset(x, 0, sizeof *x);
    x->c = (pt_endpoint){{4, {127, 0, 0, 1}}, 40000};
    x->s = (pt_endpoint){{4, {127, 0, 0, 1}}, 6379};
    x->ref.desc.name = plugin;
    x->bus = pt_events_new_empty();
    x->st =
        (pt_stream){.client = &x->c, .server = &x->s, .id = "C1", .plugin = &x->ref, .bus = x->bus};
    x->h = pt_plugin_host_get();
    pt_plugin_host_limits lim = {.log_lines = 1, .log_level = PT_LOG_ERROR}; /* quiet */
    pt_plugin_host_set_limits(&lim);
}

#endif
