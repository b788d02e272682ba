/* resp.h — incremental, zero-copy parser for the Redis serialization protocol, RESP2 and RESP3
 * (https://redis.io/docs/reference/protocol-spec/), plus Redis's inline command syntax.
 *
 * Bytes are fed in chunks as they arrive; the parser reports each value through callbacks as
 * soon as it is complete. A value that lies wholly inside one chunk is reported as a span into
 * that chunk (no copy). A value that straddles chunks is reported as a bounded prefix kept in
 * the parser's own buffer plus its full length (pt_span.full_len). Memory is fixed when the
 * parser is created; feeding never allocates except for the inline line buffer, which is
 * allocated once, on first use, with the configured bound.
 */
#ifndef PT_REDIS_RESP_H
#define PT_REDIS_RESP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <pcaptrace/types.h>

/* Default limits (each one is a plugin option; see redis.c). */
#define PT_RESP_DEFAULT_MAX_DEPTH    32
#define PT_RESP_DEFAULT_MAX_ELEMENTS (4u * 1024u * 1024u)
#define PT_RESP_DEFAULT_MAX_BULK     (512ull * 1024u * 1024u)
#define PT_RESP_DEFAULT_MAX_INLINE   (64u * 1024u)
#define PT_RESP_DEFAULT_PREFIX       512u
/* Hard ceilings so that a configured limit cannot make the fixed allocations absurd. */
#define PT_RESP_CEIL_DEPTH  4096u
#define PT_RESP_CEIL_INLINE (16u * 1024u * 1024u)
#define PT_RESP_CEIL_PREFIX (16u * 1024u * 1024u)
#define PT_RESP_MIN_PREFIX  32u

/* Value types, named by their RESP type byte. */
typedef enum pt_resp_type {
    PT_RESP_SIMPLE = '+',
    PT_RESP_ERROR = '-',
    PT_RESP_INTEGER = ':',
    PT_RESP_BULK = '$',
    PT_RESP_ARRAY = '*',
    PT_RESP_NULL = '_',
    PT_RESP_BOOLEAN = '#',
    PT_RESP_DOUBLE = ',',
    PT_RESP_BIGNUM = '(',
    PT_RESP_BLOB_ERROR = '!',
    PT_RESP_VERBATIM = '=',
    PT_RESP_MAP = '%',
    PT_RESP_SET = '~',
    PT_RESP_ATTRIBUTE = '|',
    PT_RESP_PUSH = '>'
} pt_resp_type;

/* What the bytes are: replies (every RESP2/RESP3 type) or requests as a Redis server reads
 * them (a top-level '*' starts an array of '$' bulk strings, anything else is an inline
 * command line split on blanks with Redis's quoting rules). */
typedef enum pt_resp_mode { PT_RESP_MODE_REPLY = 0, PT_RESP_MODE_REQUEST = 1 } pt_resp_mode;

typedef struct pt_resp_limits {
    uint32_t max_depth;    /* nesting of aggregates */
    uint64_t max_elements; /* elements of one aggregate, and values in one message */
    uint64_t max_bulk;     /* length of one bulk string or line */
    uint32_t max_inline;   /* length of one inline command line */
    uint32_t prefix_bytes; /* bytes kept of a value that straddles chunks */
} pt_resp_limits;

/* One value (scalar) or the header of an aggregate. */
typedef struct pt_resp_item {
    pt_resp_type type;
    bool null;      /* RESP3 '_', RESP2 "$-1" / "*-1" */
    uint32_t depth; /* 0 for a top-level value */
    pt_span value;  /* scalars: the payload (without type byte and CRLF) */
    int64_t count;  /* aggregates: child values that follow (a map of n pairs: 2n) */
} pt_resp_item;

/* A complete top-level value (a reply or a command). */
typedef struct pt_resp_msg {
    uint64_t wire_bytes; /* bytes on the wire, type byte to final LF */
    bool is_inline;      /* an inline command */
} pt_resp_msg;

/* Callbacks. `value` sees every scalar and every aggregate header, `end` every completed
 * aggregate, `done` every completed top-level value. Spans are valid only during the call.
 * Callbacks may not feed the same parser. */
typedef struct pt_resp_handler {
    void (*value)(void *ctx, const pt_resp_item *it);
    void (*end)(void *ctx, const pt_resp_item *it);
    void (*done)(void *ctx, const pt_resp_msg *m);
} pt_resp_handler;

/* Optional batch callback of a request parser: a whole "*<n>" array of n bulk strings that
 * lies in the chunk being fed is reported in one call, argv[0..argc) being its strings (spans
 * of the chunk) and wire_bytes its bytes on the wire, instead of the value (header), n x value
 * (depth 1), end and done calls it stands for. Commands read otherwise (split across chunks,
 * inline) still come through those calls. */
typedef void (*pt_resp_command_fn)(void *ctx, const pt_span *argv, size_t argc,
                                   uint64_t wire_bytes);

typedef struct pt_resp_parser pt_resp_parser;

/* Fill *l with the defaults. */
void pt_resp_limits_default(pt_resp_limits *l);

/* Create a parser; NULL limits means the defaults (out-of-range limits are clamped). */
pt_resp_parser *pt_resp_new(pt_resp_mode mode, const pt_resp_limits *limits,
                            const pt_resp_handler *handler, void *ctx);
void pt_resp_free(pt_resp_parser *p);

/* Set (or, with NULL, clear) the batch callback of a request parser (see pt_resp_command_fn). */
void pt_resp_on_command(pt_resp_parser *p, pt_resp_command_fn fn);

/* Optional callback of a reply parser: a top-level simple string, error, integer or bulk
 * string that lies in the chunk being fed is reported in one call (its type, its value
 * [val, val + len) in the chunk, and its bytes on the wire) instead of the value and done
 * calls it stands for (an item of that type, depth 0, not null, value {val, len, len}). */
typedef void (*pt_resp_scalar_fn)(void *ctx, pt_resp_type type, const uint8_t *val, size_t len,
                                  uint64_t wire_bytes);

/* Set (or, with NULL, clear) that callback. */
void pt_resp_on_scalar(pt_resp_parser *p, pt_resp_scalar_fn fn);

/* Parse `len` bytes. Returns PT_OK when all were consumed (a value may be in progress), or
 * PT_ERROR on a protocol violation or a limit; the parser then stays in error until reset. */
int pt_resp_feed(pt_resp_parser *p, const uint8_t *data, size_t len);

/* Forget any value in progress and any error (after a gap, to resynchronise). */
void pt_resp_reset(pt_resp_parser *p);

/* Whether a value is in progress (some of its bytes were consumed). */
bool pt_resp_busy(const pt_resp_parser *p);

/* The error message after PT_ERROR (static text), or NULL. */
const char *pt_resp_error(const pt_resp_parser *p);
/* Total bytes consumed since creation; after an error, the offset of the offending byte. */
uint64_t pt_resp_offset(const pt_resp_parser *p);

/* Whether `c` is a RESP type byte that may start a reply (RESP2 or RESP3). */
bool pt_resp_is_type_byte(uint8_t c);

#endif
