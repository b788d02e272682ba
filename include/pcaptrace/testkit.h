/* testkit.h — the plugin test kit: a mock pcaptrace host that drives one plugin without the
 * core program, without root and without a network, and collects what the plugin emits.
 *
 * A plugin's unit test typically does:
 *
 *     char *err = NULL;
 *     const char *opts[] = {"max_keys=4", NULL};
 *     pt_mockhost *m = pt_mock_new(&my_plugin, opts, &err);     // or pt_mock_load("x.so", ...)
 *     pt_mock_stream *s = pt_mock_stream_open(m, "10.0.0.1:40000", "10.0.0.2:11211");
 *     pt_mock_feed_str(s, PT_DIR_TO_SERVER, "get k\r\n");
 *     pt_mock_clock_advance_us(m, 250);
 *     pt_mock_feed_str(s, PT_DIR_TO_CLIENT, "END\r\n");
 *     const pt_mock_event *e = pt_mock_find(m, "command", 0);
 *     assert(strcmp(pt_mock_field_str(e, "command"), "get") == 0);
 *     assert(pt_mock_field_int(e, "latency_us", -1) == 250);
 *     pt_mock_free(m);
 *
 * What the kit checks on the plugin's behalf:
 *   - the descriptor, like the core loader: ABI version, struct size, required callbacks,
 *     name syntax, option keys (a bad one makes pt_mock_new() fail with the reason).
 * And, recorded as kit errors (see pt_mock_error_count()) and printed to stderr:
 *   - every emitted event, with the core's rules (an event the core finds malformed costs
 *     the plugin that stream): kind and field names non-NULL, [a-z][a-z0-9_]* and at most
 *     64 bytes, no field named like the envelope (ts flow proto event client server), no
 *     duplicate field, at most 256 fields, spans readable (ptr non-NULL when len > 0,
 *     len <= full_len), lists consistent, emit only on an open stream, timestamp present;
 *     events emitted by a declared shape (host->shape, host->emit_shaped) are checked as the
 *     same fields emitted with host->emit;
 *   - data handed to probe() and stream_data() lives in a buffer of exactly `len` bytes that
 *     is freed right after the call, so under AddressSanitizer a read past the end or a
 *     pointer kept after the call is reported at once.
 *
 * Ownership: the mock owns every stream and every collected event; pointers it returns stay
 * valid until pt_mock_events_clear() (events) or pt_mock_free() (everything). Like the core,
 * the kit is single-threaded: drive a mock from one thread.
 * Link with the static library `pcaptrace-testkit` (pkg-config `pcaptrace-testkit`; in the
 * pcaptrace source tree the meson dependency `testkit_dep`).
 */
#ifndef PCAPTRACE_TESTKIT_H
#define PCAPTRACE_TESTKIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "plugin.h"
#include "types.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pt_mockhost pt_mockhost;  /* the mock host with one plugin loaded */
typedef struct pt_stream pt_mock_stream; /* a fake TCP connection given to the plugin */

/* One collected event: a deep copy of what the plugin emitted. Every string span in
 * `fields` (including list items) is followed by a NUL byte that is not part of `len`, so
 * text values can be used as C strings. */
typedef struct pt_mock_event {
    char *kind;
    pt_time ts;
    pt_field *fields;
    size_t n_fields;
    const pt_mock_stream *stream; /* the stream it was emitted on */
    size_t stream_index;          /* 0 for the first stream opened on this mock, 1, ... */
} pt_mock_event;

/* One captured log line. */
typedef struct pt_mock_log {
    pt_log_level level;
    char *message;
    size_t stream_index; /* SIZE_MAX when logged without a stream */
} pt_mock_log;

/* ---- creating the mock and loading the plugin ------------------------------------------ */

/* Drive a plugin linked into the test. `options` is a NULL-terminated list of "key=value"
 * strings (may be NULL); keys must be declared in plugin->options. Runs the same checks as
 * the core loader, then the plugin's init(). On failure returns NULL and sets *error to a
 * malloc()ed message (free it with free()). */
pt_mockhost *pt_mock_new(const pt_plugin *plugin, const char *const *options, char **error);

/* The same for a plugin built as a shared object: loads `path` with GModule (local
 * binding, as the core does), looks up pt_plugin_entry and calls it. */
pt_mockhost *pt_mock_load(const char *path, const char *const *options, char **error);

/* Close every open stream (reason PT_CLOSE_END_OF_CAPTURE), call fini(), unload the shared
 * object if any, and free everything. NULL is allowed. */
void pt_mock_free(pt_mockhost *m);

const pt_plugin *pt_mock_plugin(const pt_mockhost *m);
const pt_host *pt_mock_host(const pt_mockhost *m); /* the function table given to init() */
void *pt_mock_plugin_state(const pt_mockhost *m);  /* what init() returned */

/* Ask the plugin's probe() about `len` bytes (copied to an exact-size buffer first). */
pt_probe_result pt_mock_probe(pt_mockhost *m, pt_dir dir, const void *data, size_t len);

/* ---- the capture clock --------------------------------------------------------------------
 * Feeds without an explicit timestamp use the mock's clock, which starts at
 * PT_MOCK_EPOCH_SEC.000000 and only moves when the test moves it. */
#define PT_MOCK_EPOCH_SEC 1700000000

void pt_mock_clock_set(pt_mockhost *m, const pt_time *ts);
void pt_mock_clock_advance_us(pt_mockhost *m, int64_t us);
pt_time pt_mock_clock(const pt_mockhost *m);
/* A pt_time value from seconds and microseconds. */
pt_time pt_mock_time(int64_t sec, uint32_t usec);

/* ---- streams --------------------------------------------------------------------------- */

/* Open a stream between "a.b.c.d:port" or "[v6]:port" endpoints and call stream_open().
 * Returns NULL when an address does not parse (recorded as a kit error) or when the plugin
 * declines the stream (stream_open returned NULL; see pt_mock_declined_count()). */
pt_mock_stream *pt_mock_stream_open(pt_mockhost *m, const char *client, const char *server);
/* The same with endpoints already parsed. */
pt_mock_stream *pt_mock_stream_open_ep(pt_mockhost *m, const pt_endpoint *client,
                                       const pt_endpoint *server);

/* Hand `len` bytes of direction `dir` to stream_data() with capture time `ts` (NULL: the
 * mock clock). When the plugin answers RELEASE or VIOLATION the mock does what the core does:
 * it calls stream_close(PT_CLOSE_RELEASED) and ignores later feeds on that stream, which
 * then return the same answer. Feeding a closed stream is a kit error. Zero bytes call
 * nothing (the core never hands a plugin an empty chunk). */
pt_feed_result pt_mock_feed(pt_mock_stream *s, pt_dir dir, const void *data, size_t len,
                            const pt_time *ts);
/* pt_mock_feed() of a C string (without its NUL) at the mock clock. */
pt_feed_result pt_mock_feed_str(pt_mock_stream *s, pt_dir dir, const char *text);
/* Feed in pieces of at most `chunk` bytes (1 = byte by byte) to test resumable parsers;
 * stops early when the plugin releases the stream. Returns the last answer. */
pt_feed_result pt_mock_feed_split(pt_mock_stream *s, pt_dir dir, const void *data, size_t len,
                                  size_t chunk, const pt_time *ts);
/* Report `missing` lost bytes of `dir` through stream_gap(). */
void pt_mock_gap(pt_mock_stream *s, pt_dir dir, uint64_t missing, const pt_time *ts);
/* Call stream_close() with `why`; the stream stays readable but takes no more input. */
void pt_mock_close(pt_mock_stream *s, pt_close_reason why, const pt_time *ts);

bool pt_mock_stream_is_open(const pt_mock_stream *s);
/* The last answer of stream_data() on this stream (PT_FEED_OK before any feed). */
pt_feed_result pt_mock_stream_result(const pt_mock_stream *s);
const char *pt_mock_stream_id(const pt_mock_stream *s);
size_t pt_mock_stream_count(const pt_mockhost *m);
size_t pt_mock_declined_count(const pt_mockhost *m);

/* ---- events ---------------------------------------------------------------------------- */

size_t pt_mock_event_count(const pt_mockhost *m);
/* The i-th event in emission order, or NULL. */
const pt_mock_event *pt_mock_event_at(const pt_mockhost *m, size_t i);
/* How many events of `kind` (NULL: all kinds) were collected. */
size_t pt_mock_count_kind(const pt_mockhost *m, const char *kind);
/* The nth (0-based) event of `kind`, or NULL. */
const pt_mock_event *pt_mock_find(const pt_mockhost *m, const char *kind, size_t nth);
/* Forget collected events (and their memory); streams and logs are kept. */
void pt_mock_events_clear(pt_mockhost *m);
/* Every collected event as one line "kind SEC.NSEC name=value ...", every field whole: spans
 * quoted with bytes outside printable ASCII as \xHH and their full length, lists with their
 * total. Two runs that must emit the same events compare equal. Returns a malloc()ed string. */
char *pt_mock_events_dump(const pt_mockhost *m);

/* Field lookup by name (the first field with that name), or NULL. NULL `ev` is allowed. */
const pt_field *pt_mock_field(const pt_mock_event *ev, const char *name);
/* The value of a STR or BYTES field as a NUL-terminated string, or NULL when the field is
 * absent or of another type. */
const char *pt_mock_field_str(const pt_mock_event *ev, const char *name);
/* Integer value of an INT, UINT (if it fits) or BOOL field; `fallback` otherwise. */
int64_t pt_mock_field_int(const pt_mock_event *ev, const char *name, int64_t fallback);
/* Whether the field exists (of any type). */
bool pt_mock_field_has(const pt_mock_event *ev, const char *name);
/* Item `i` of a STR_LIST field as a NUL-terminated string, or NULL. */
const char *pt_mock_field_list_item(const pt_mock_event *ev, const char *name, size_t i);
/* Number of items present in a STR_LIST field, or 0. */
size_t pt_mock_field_list_count(const pt_mock_event *ev, const char *name);

/* ---- text rendering -------------------------------------------------------------------- */

/* Render an event as the text sink would after its envelope: through the plugin's
 * format_text() when it has one, else as key=value pairs. Returns a malloc()ed string. */
char *pt_mock_format_text(pt_mockhost *m, const pt_mock_event *ev);
/* Whether text_color() answers true for later renderings (default false). */
void pt_mock_set_color(pt_mockhost *m, bool on);

/* ---- logs and kit errors ---------------------------------------------------------------
 * Every host->log() line is kept (and also printed to stderr when the environment variable
 * PT_MOCK_VERBOSE is set). */

size_t pt_mock_log_count(const pt_mockhost *m);
const pt_mock_log *pt_mock_log_at(const pt_mockhost *m, size_t i);
/* Whether any log line at `level` or more severe contains `needle`. */
bool pt_mock_log_contains(const pt_mockhost *m, pt_log_level level, const char *needle);

/* Breaches of the plugin contract the kit detected (see the top of this file); a healthy
 * plugin keeps this at 0. Each message is also printed to stderr. */
size_t pt_mock_error_count(const pt_mockhost *m);
const char *pt_mock_error_at(const pt_mockhost *m, size_t i);

/* ---- feeding a capture file -------------------------------------------------------------
 * pt_mock_feed_pcap() reads a pcap or pcapng file with libpcap and hands every TCP
 * connection in it to the plugin, in capture order, as the core would:
 *   - link types: Ethernet (with 802.1Q/802.1ad tags), Linux SLL and SLL2, BSD NULL/LOOP,
 *     raw IPv4/IPv6; IPv4 and IPv6 (extension headers skipped); IP fragments are counted and
 *     skipped;
 *   - the client is the sender of the SYN; without a SYN the side whose port is one of the
 *     server ports (opts->server_ports, else the plugin's) is the server, else the lower port;
 *   - each direction is sequenced by TCP sequence number: retransmitted bytes are dropped,
 *     overlaps trimmed, but out-of-order segments are NOT buffered: a segment ahead of the
 *     expected sequence number is reported as a gap of the skipped bytes and the late
 *     segment, when it comes, is dropped as old. This is the kit's simplification; captures
 *     with reordering need the core's reassembly (core/tcp.h) to be traced faithfully (inside
 *     the pcaptrace tree, tests/kit/pt_mockcore.h feeds a capture through it);
 *   - FIN from both sides closes a stream with PT_CLOSE_FIN, RST with PT_CLOSE_RST, and the
 *     end of the file closes the rest with PT_CLOSE_END_OF_CAPTURE;
 *   - streams whose server port is not a server port are first offered to probe() (up to
 *     PT_MOCK_PCAP_PROBE_BYTES per direction) unless opts->all_ports is set.
 * Returns 0, or -1 with *error set (malloc()ed) when the file cannot be read. */
#define PT_MOCK_PCAP_MAX_FLOWS   4096
#define PT_MOCK_PCAP_PROBE_BYTES 4096

typedef struct pt_mock_pcap_opts {
    const uint16_t *server_ports; /* 0-terminated; NULL: the plugin's server_ports */
    bool all_ports;               /* give every TCP connection to the plugin without probing */
    const char *filter;           /* optional BPF filter (tcpdump syntax) */
    uint32_t max_flows;           /* 0: PT_MOCK_PCAP_MAX_FLOWS open at a time */
} pt_mock_pcap_opts;

typedef struct pt_mock_pcap_stats {
    uint64_t packets;       /* frames read */
    uint64_t tcp_packets;   /* frames with a decoded TCP header */
    uint64_t undecoded;     /* frames skipped: unknown link type, not IP, truncated */
    uint64_t fragments;     /* IP fragments skipped */
    uint64_t payload_bytes; /* TCP payload bytes delivered to the plugin */
    uint64_t old_bytes;     /* retransmitted or late bytes dropped */
    uint64_t gap_bytes;     /* bytes reported as gaps */
    uint64_t flows;         /* connections seen */
    uint64_t streams;       /* connections handed to the plugin */
    uint64_t flows_dropped; /* connections ignored because max_flows were open */
} pt_mock_pcap_stats;

int pt_mock_feed_pcap(pt_mockhost *m, const char *path, const pt_mock_pcap_opts *opts,
                      pt_mock_pcap_stats *stats, char **error);

#ifdef __cplusplus
}
#endif
#endif
