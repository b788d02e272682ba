/* pt_mock_internal.h — the mock host's private structures, shared by the kit's sources. */
#ifndef PT_MOCK_INTERNAL_H
#define PT_MOCK_INTERNAL_H

#include <glib.h>
#include <gmodule.h>

#include "pcaptrace/testkit.h"

/* Longest printable stream id ("mock-<n>"). */
#define PT_MOCK_ID_LEN 24

struct pt_options {
    GHashTable *values; /* key -> value (owned strings); defaults applied */
};

struct pt_stream {
    pt_mockhost *mock;
    size_t index;
    pt_endpoint client, server;
    char id[PT_MOCK_ID_LEN];
    void *state; /* what stream_open() returned */
    bool open;
    pt_feed_result last;
};

struct pt_text {
    GString *buf;
    bool color;
};

struct pt_mockhost {
    const pt_plugin *plugin;
    GModule *module; /* NULL when the plugin is linked in */
    pt_host host;
    struct pt_options opts;
    void *plugin_state;
    bool initialised;
    pt_time clock;
    bool color;
    GPtrArray *streams; /* pt_mock_stream*, owned */
    size_t declined;
    GPtrArray *declined_streams; /* kept so events emitted in stream_open stay valid */
    GPtrArray *events;           /* pt_mock_event*, owned */
    GPtrArray *logs;             /* pt_mock_log*, owned */
    GPtrArray *errors;           /* char*, owned */
    GPtrArray *shapes;           /* pt_shape*, owned (host.shape) */
};

/* Record a breach of the plugin contract (printf-style) and print it to stderr. */
void pt_mock_error(pt_mockhost *m, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

/* Parse "a.b.c.d:port" or "[v6]:port"; false when it does not parse. */
bool pt_mock_endpoint_parse(const char *text, pt_endpoint *out);

/* Append an endpoint as "ip:port" or "[v6]:port". */
void pt_mock_endpoint_append(GString *out, const pt_endpoint *ep);

/* Render a span escaped (binary-safe), cut to max_bytes with the full length shown. */
void pt_mock_text_span_append(GString *out, pt_span value, size_t max_bytes, bool quoted);

#endif
