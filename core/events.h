/* events.h — the event bus between event producers (plugins through the host table, the
 * built-in tcp source) and the sinks (text, json, redis). The contract; see events.c. */
#ifndef PT_CORE_EVENTS_H
#define PT_CORE_EVENTS_H

#include <stdbool.h>

#include "pcaptrace/plugin.h"
#include "pcaptrace/types.h"

typedef struct pt_events pt_events; /* the bus and its sinks */

/* Renders the part of a text line after the envelope, for one producer's events. */
typedef void (*pt_format_text_fn)(void *ctx, const pt_event *ev, pt_text *out);

/* The envelope the core puts around every event. */
typedef struct pt_envelope {
    const char *proto;   /* "tcp", "redis", "http", ... */
    const char *flow_id; /* printable flow id */
    const pt_endpoint *client;
    const pt_endpoint *server;
    pt_format_text_fn format_text; /* NULL: fields print as key=value */
    void *format_ctx;
} pt_envelope;

/* Deliver one event to every sink. Fields are only read during the call. */
void pt_events_emit(pt_events *bus, const pt_envelope *env, const pt_event *ev);

/* Text helpers for formatters (also offered to plugins through pt_host). */
void pt_text_printf(pt_text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void pt_text_span(pt_text *t, pt_span value, size_t max_bytes, bool quoted);
bool pt_text_color(const pt_text *t);

#endif
