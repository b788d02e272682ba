/* plugin.h — the stable C ABI between pcaptrace and its protocol plugins.
 *
 * A plugin is a shared object that exports exactly one symbol, `pt_plugin_entry`, made with
 * PT_PLUGIN_EXPORT(). It returns a const descriptor. The loader checks, in this order:
 * abi_version == PT_PLUGIN_ABI, struct_size is at least the size of the version-1 struct,
 * the required callbacks are non-NULL, and the name is unique. Plugins never link against
 * pcaptrace's core: everything they need from the host comes through `pt_host`, handed to
 * `init()`. New fields are only ever appended to these structs; the host reads a field only
 * when `struct_size` says the plugin was built with it.
 *
 * Life cycle:
 *   init(host, options)           once, after options are parsed; returns plugin state
 *   probe(dir, data, len)         on streams whose port no plugin owns: "is this mine?"
 *   stream_open(plugin, stream)   a stream was handed to this plugin; returns stream state
 *   stream_data(state, dir, ...)  in-order bytes of one direction, as they arrive
 *   stream_gap(state, dir, n)     n bytes of that direction will never arrive: resync
 *   stream_close(state, reason)   the connection ended (or was released); free the state
 *   fini(plugin)                  once, at exit
 *
 * Guarantees the host gives a plugin:
 *   - All callbacks run on one thread, one at a time; a plugin needs no locking.
 *   - For one stream: stream_open first, then any mix of stream_data and stream_gap in
 *     capture order (both directions interleaved as the packets came), then exactly one
 *     stream_close, after which the stream state is never used again. stream_close is also
 *     called when the plugin gave the stream up (PT_FEED_RELEASE or PT_FEED_VIOLATION).
 *   - Bytes arrive in order and without duplicates (the core reassembles TCP); what was
 *     lost is reported as a gap, never silently skipped. Chunk boundaries follow packets and
 *     mean nothing: a parser must accept any split, down to one byte at a time.
 *   - Every timestamp is the capture time of the packet that carried the bytes (or that
 *     ended the stream). Compute latencies from these, never from the wall clock.
 *   - Pointers handed to a callback (data, timestamps) are valid only during that call.
 *
 * What the host expects from a plugin:
 *   - Bounded memory per stream whatever the input (every limit an option), no crash, no
 *     hang, no read outside [data, data + len). Hostile bytes are a counted parse_error
 *     event, or PT_FEED_VIOLATION when the stream is not the plugin's protocol at all.
 *   - No global mutable state beyond what init() returns; no output of its own (use emit and
 *     log); no symbols exported but pt_plugin_entry (build with -fvisibility=hidden).
 *
 * Building: include only <pcaptrace/plugin.h> (pkg-config `pcaptrace`, cflags only) and
 * install the shared object into the `plugindir` pkg-config variable. Test it without the
 * core with the mock host of <pcaptrace/testkit.h>. examples/memcached/ is a complete
 * plugin and its README the step-by-step tutorial.
 */
#ifndef PCAPTRACE_PLUGIN_H
#define PCAPTRACE_PLUGIN_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped on any incompatible change; the loader requires an exact match. Appending fields
 * to pt_plugin or pt_host is not an incompatible change (see struct_size). */
#define PT_PLUGIN_ABI 1

/* Answer of probe(). A stream nobody claims within the host's probe limit (bytes and
 * turns, `--probe-max-bytes`) stays with the tcp events only. */
typedef enum pt_probe_result {
    PT_PROBE_NO = 0,       /* these bytes are not my protocol */
    PT_PROBE_YES = 1,      /* mine */
    PT_PROBE_NEED_MORE = 2 /* cannot tell yet; ask again with more bytes */
} pt_probe_result;

/* Answer of stream_data(). After RELEASE or VIOLATION the host calls stream_close() with
 * PT_CLOSE_RELEASED and feeds the stream to nobody else. */
typedef enum pt_feed_result {
    PT_FEED_OK = 0,       /* consumed; keep going */
    PT_FEED_RELEASE = 1,  /* done with this stream (e.g. after an HTTP upgrade) */
    PT_FEED_VIOLATION = 2 /* not (or no longer) my protocol: the host releases the stream */
} pt_feed_result;

/* Why a stream ended. Requests still waiting for an answer are usually reported as
 * `unanswered` with this reason. */
typedef enum pt_close_reason {
    PT_CLOSE_FIN = 0,        /* both sides sent FIN */
    PT_CLOSE_RST,            /* a side sent RST */
    PT_CLOSE_TIMEOUT,        /* idle for longer than the idle timeout (capture time) */
    PT_CLOSE_EVICTED,        /* the flow table was full and this flow the least recent */
    PT_CLOSE_END_OF_CAPTURE, /* end of the file, or the program was stopped (SIGINT) */
    PT_CLOSE_RELEASED        /* the plugin returned RELEASE or VIOLATION, or errored */
} pt_close_reason;

/* The stable name of a close reason, as every event prints it (`reason` fields):
 * fin, rst, timeout, evicted, end_of_capture, released. Header-only: no core symbol. */
static inline const char *pt_close_reason_name(pt_close_reason why)
{
    switch (why) {
    case PT_CLOSE_FIN:
        return "fin";
    case PT_CLOSE_RST:
        return "rst";
    case PT_CLOSE_TIMEOUT:
        return "timeout";
    case PT_CLOSE_EVICTED:
        return "evicted";
    case PT_CLOSE_END_OF_CAPTURE:
        return "end_of_capture";
    case PT_CLOSE_RELEASED:
        return "released";
    }
    return "unknown";
}

/* Opaque host objects: plugins only hold pointers to them and ask pt_host about them. */
typedef struct pt_stream pt_stream;   /* one TCP connection handed to a plugin */
typedef struct pt_options pt_options; /* this plugin's option values */
typedef struct pt_text pt_text;       /* a line being rendered by the text sink */
typedef struct pt_shape pt_shape;     /* a declared event shape (host->shape) */

/* Typed event fields. Strings are spans of arbitrary bytes (sinks escape them). A field's
 * name and type are part of the plugin's documented schema: keep them stable, and prefer
 * PT_FIELD_NULL over leaving a field out so every event of a kind has the same keys. */
typedef enum pt_field_type {
    PT_FIELD_STR = 0,  /* v.str: text; sinks escape non-printable bytes */
    PT_FIELD_BYTES,    /* v.str: binary data; JSON renders base64 */
    PT_FIELD_INT,      /* v.i */
    PT_FIELD_UINT,     /* v.u */
    PT_FIELD_DOUBLE,   /* v.d */
    PT_FIELD_BOOL,     /* v.b */
    PT_FIELD_STR_LIST, /* v.list: array of strings */
    PT_FIELD_NULL      /* no value (JSON null) */
} pt_field_type;

/* A field's value: the member its type names (see pt_field_type). */
typedef union pt_value {
    pt_span str;
    int64_t i;
    uint64_t u;
    double d;
    bool b;
    struct {
        const pt_span *items;
        size_t count;   /* items present */
        uint64_t total; /* items on the wire (>= count when the plugin kept fewer) */
    } list;
} pt_value;

/* One named value of an event. Only the union member that `type` names is read. */
typedef struct pt_field {
    const char *name; /* stable, documented, snake_case */
    pt_field_type type;
    pt_value v;
} pt_field;

/* Field constructors for compound literals: PT_F_STR("method", span), ... They build a
 * value on the stack; arrays of them are the usual way to emit:
 *     pt_field f[] = {PT_F_STR("command", cmd), PT_F_INT("latency_us", us)};
 *     host->emit(stream, "command", ts, f, 2); */
#define PT_F_STR(n, s)    ((pt_field){.name = (n), .type = PT_FIELD_STR, .v.str = (s)})
#define PT_F_BYTES(n, s)  ((pt_field){.name = (n), .type = PT_FIELD_BYTES, .v.str = (s)})
#define PT_F_INT(n, x)    ((pt_field){.name = (n), .type = PT_FIELD_INT, .v.i = (x)})
#define PT_F_UINT(n, x)   ((pt_field){.name = (n), .type = PT_FIELD_UINT, .v.u = (x)})
#define PT_F_DOUBLE(n, x) ((pt_field){.name = (n), .type = PT_FIELD_DOUBLE, .v.d = (x)})
#define PT_F_BOOL(n, x)   ((pt_field){.name = (n), .type = PT_FIELD_BOOL, .v.b = (x)})
#define PT_F_NULL(n)      ((pt_field){.name = (n), .type = PT_FIELD_NULL})
#define PT_F_LIST(n, it, cnt, tot)                                                                 \
    ((pt_field){.name = (n), .type = PT_FIELD_STR_LIST, .v.list = {(it), (cnt), (tot)}})

/* An event as a sink or a text formatter sees it. The core adds the envelope (ts, flow,
 * proto, client, server) around `kind` and `fields`. Valid only during the call. */
typedef struct pt_event {
    const char *kind; /* "command", "request", "response", "parse_error", ... */
    pt_time ts;       /* capture time the event refers to */
    const pt_field *fields;
    size_t n_fields;
} pt_event;

/* Log levels for host->log. Logs are for the operator (plugin problems, odd traffic worth a
 * note); what happened on the wire is an event, not a log line. */
typedef enum pt_log_level {
    PT_LOG_ERROR = 0,
    PT_LOG_WARNING,
    PT_LOG_INFO,
    PT_LOG_DEBUG
} pt_log_level;

/* One option a plugin accepts (`--plugin-opt NAME.KEY=VALUE` or a config file section).
 * Arrays of these end with an entry whose key is NULL. Unknown keys are errors. */
typedef struct pt_option_spec {
    const char *key;
    const char *default_value; /* as text; NULL means unset */
    const char *help;
} pt_option_spec;

/* Functions the host offers to plugins. Passed to init(); plugins keep the pointer (it
 * stays valid until after fini()). A plugin without init() gets no table, so any plugin that
 * emits events needs init(). Before using a member appended after ABI 1, check that
 * struct_size covers it. */
typedef struct pt_host {
    uint32_t abi_version; /* PT_PLUGIN_ABI of the host */
    uint32_t struct_size; /* sizeof(pt_host) of the host */

    /* Emit an event for a stream. Fields and the spans they point to are only read during
     * the call: the plugin may reuse or free them afterwards. */
    void (*emit)(pt_stream *s, const char *kind, const pt_time *ts, const pt_field *fields,
                 size_t n_fields);

    /* Log a message (stream may be NULL). Printf-style. */
    void (*log)(pt_stream *s, pt_log_level level, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

    /* Option values (defaults applied). Parse helpers return `fallback` when the value
     * does not parse; init() validated them already if it used these. Only keys declared in
     * pt_plugin.options can be asked for; option_str returns NULL for an unset option with
     * no default. The pointer `o` is the one init() received. */
    const char *(*option_str)(const pt_options *o, const char *key);
    int64_t (*option_int)(const pt_options *o, const char *key, int64_t fallback);
    bool (*option_bool)(const pt_options *o, const char *key, bool fallback);

    /* Facts about a stream, valid from stream_open() to the end of stream_close(). The
     * client is the side that sent the SYN (or, picked up mid-stream, the side that is not
     * on a server port). */
    const pt_endpoint *(*stream_client)(const pt_stream *s);
    const pt_endpoint *(*stream_server)(const pt_stream *s);
    const char *(*stream_id)(const pt_stream *s); /* the printable flow id */

    /* Text rendering helpers for format_text(): append printf-style text, or a span
     * escaped (binary-safe) and shortened to at most max_bytes with its length shown.
     * `quoted` wraps the value in double quotes (escaping quotes inside). text_color says
     * whether the line goes to a terminal that wants ANSI colour escapes. */
    void (*text_printf)(pt_text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
    void (*text_span)(pt_text *t, pt_span value, size_t max_bytes, bool quoted);
    bool (*text_color)(const pt_text *t); /* whether colour escapes are wanted */

    /* Appended after ABI 1: use them only when struct_size covers them (PT_HOST_HAS()).
     *
     * Declare an event shape: its kind and the names and types of its n fields, taken from
     * `fields` (their values are ignored), checked once here as emit() checks them on every
     * event, and a repeated name refused too. Returns a handle valid until after fini() (the
     * same one for the same kind, names and types), or NULL (logged) when something is not
     * valid or the host's limit on shapes is reached (event_max_shapes, default 4096).
     * Declare in init() or lazily, once per shape, and keep the handle. */
    const pt_shape *(*shape)(const char *kind, const pt_field *fields, size_t n_fields);
    /* Emit an event of a declared shape: values[i] is the value of field i, in the union
     * member its declared type names. The same event as emit() with those fields, for less:
     * names and types are not looked at again, only spans and lists are checked. Values and
     * the spans they point to are only read during the call. */
    void (*emit_shaped)(pt_stream *s, const pt_shape *shape, const pt_time *ts,
                        const pt_value *values);
    /* Emit n events of one declared shape at once, in order: event i has time ts[i] and its
     * values at values[i * stride] (stride >= the shape's field count). The same as n calls of
     * emit_shaped(), for less: a plugin that finds many events in one chunk of bytes (replies
     * to pipelined commands) hands them over together. A malformed event is dropped as
     * emit_shaped() drops it; the others go out. */
    void (*emit_shaped_batch)(pt_stream *s, const pt_shape *shape, size_t n, const pt_time *ts,
                              const pt_value *values, size_t stride);
} pt_host;

/* Whether host table h has member `m` (appended after ABI 1, or not). */
#define PT_HOST_HAS(h, m)                                                                          \
    ((h)->struct_size >= offsetof(pt_host, m) + sizeof((h)->m) && (h)->m != NULL)

/* The descriptor a plugin returns from pt_plugin_entry(). Usually a `static const` object
 * in the plugin; the host copies the struct_size bytes it knows and never writes to it. */
typedef struct pt_plugin {
    uint32_t abi_version; /* PT_PLUGIN_ABI */
    uint32_t struct_size; /* sizeof(pt_plugin) when the plugin was built */
    const char *name;     /* [a-z0-9_]+, unique; the `proto` of its events */
    const char *version;
    const char *description;
    const uint16_t *server_ports;  /* 0-terminated default server ports; may be NULL */
    const pt_option_spec *options; /* key == NULL terminated; may be NULL */
    /* Streams on these ports (and on `--port NAME=...`) go to this plugin without probe(). */

    /* Optional. Called once; returns plugin-wide state (may be NULL). On failure return
     * NULL and set *error to a g_malloc'd-compatible malloc()ed message. Validate every
     * option here so a bad value stops the program at start-up with that message. */
    void *(*init)(const pt_host *host, const pt_options *opts, char **error);
    void (*fini)(void *plugin_state); /* optional */

    /* Required. Look at the first bytes of one direction of a stream on a port no plugin
     * owns. Must not keep `data`. Called again with more bytes (from the start of the
     * direction, or from just after a gap) while it answers NEED_MORE. It has no state:
     * answer from the bytes alone, quickly, and say YES only for something distinctive
     * (other plugins are asked too). */
    pt_probe_result (*probe)(pt_dir dir, const uint8_t *data, size_t len);

    /* Required. Returns per-stream state, or NULL to decline the stream. `s` stays valid
     * until stream_close() returns: keep it to emit events. Allocate lazily: a stream may
     * never carry a byte. */
    void *(*stream_open)(void *plugin_state, pt_stream *s);
    /* Required. In-order bytes of one direction; `data` is valid only during the call.
     * Parse in place and copy only what must outlive the call (a partial line or header),
     * within a bound. `ts` is the capture time of the packet that carried the bytes. */
    pt_feed_result (*stream_data)(void *state, pt_dir dir, const uint8_t *data, size_t len,
                                  const pt_time *ts);
    /* Required. `missing` bytes of direction `dir` are lost (capture drops, snaplen, a
     * hole that never filled); data continues after them. Skip them if the position is
     * still known (inside a body of known length), else resynchronise, and give up what
     * can no longer be paired. */
    void (*stream_gap)(void *state, pt_dir dir, uint64_t missing, const pt_time *ts);
    /* Required. Emit what is pending (e.g. `unanswered`) and free the state. `ts` is the
     * capture time the stream ended (for RELEASED, the time of the last bytes fed). */
    void (*stream_close)(void *state, pt_close_reason why, const pt_time *ts);

    /* Optional. Render one of this plugin's events as text after the envelope the text
     * sink prints (time, client -> server). Without it, fields print as key=value. */
    void (*format_text)(void *plugin_state, const pt_event *ev, pt_text *out);
    /* appended fields only */
} pt_plugin;

/* The exported entry point: the only symbol the loader looks up (with G_MODULE_BIND_LOCAL,
 * so plugins cannot clash with each other). Write PT_PLUGIN_EXPORT(my_descriptor) once, at
 * file scope, in one source file of the plugin. */
#define PT_PLUGIN_ENTRY_SYMBOL "pt_plugin_entry"
typedef const pt_plugin *(*pt_plugin_entry_fn)(void);

#define PT_PLUGIN_EXPORT(descriptor)                                                               \
    __attribute__((visibility("default"))) const pt_plugin *pt_plugin_entry(void);                 \
    __attribute__((visibility("default"))) const pt_plugin *pt_plugin_entry(void)                  \
    {                                                                                              \
        return &(descriptor);                                                                      \
    }

/* For init(): read the integer option `key` of plugin `plugin` (parsed as host->option_int
 * does) and check it is in [lo, hi], lo > INT64_MIN. On a value that is unset, does not
 * parse or is out of range, set *error to a malloc()ed message naming `plugin.key` and
 * return false. Header-only: no core symbol. */
static inline bool pt_option_range(const pt_host *h, const pt_options *o, const char *plugin,
                                   const char *key, int64_t lo, int64_t hi, int64_t *out,
                                   char **error)
{
    int64_t v = h->option_int(o, key, lo - 1);
    if (v >= lo && v <= hi) {
        *out = v;
        return true;
    }
    const char *s = h->option_str(o, key);
#define PT_OPTION_RANGE_FMT_ "%s.%s: expected an integer from %lld to %lld, got '%s'"
    int n = snprintf(NULL, 0, PT_OPTION_RANGE_FMT_, plugin, key, (long long)lo, (long long)hi,
                     s ? s : "");
    *error = n < 0 ? NULL : (char *)malloc((size_t)n + 1);
    if (*error != NULL) {
        snprintf(*error, (size_t)n + 1, PT_OPTION_RANGE_FMT_, plugin, key, (long long)lo,
                 (long long)hi, s ? s : "");
    }
#undef PT_OPTION_RANGE_FMT_
    return false;
}

#ifdef __cplusplus
}
#endif
#endif
