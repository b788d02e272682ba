/* mc_proto.h — memcached text and meta protocol: tokenising command and response lines and
 * knowing what each command expects (memcached's doc/protocol.txt). Pure functions over
 * bounded byte ranges; nothing here allocates or keeps pointers. */
#ifndef MC_PROTO_H
#define MC_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Most tokens looked at in one line; further tokens are counted, not kept. */
#define MC_MAX_TOKENS 24
/* Longest key memcached accepts (KEY_MAX_LENGTH). */
#define MC_KEY_MAX 250

typedef struct mc_token {
    const uint8_t *ptr;
    size_t len;
} mc_token;

typedef struct mc_line {
    mc_token tok[MC_MAX_TOKENS];
    size_t n;     /* tokens kept (<= MC_MAX_TOKENS) */
    size_t total; /* tokens on the line */
} mc_line;

/* How a command is answered. */
typedef enum mc_class {
    MC_STORAGE,   /* set add replace append prepend cas: data block, one status line */
    MC_RETRIEVAL, /* get gets gat gats: VALUE blocks then END */
    MC_SIMPLE,    /* delete incr decr touch version flush_all verbosity ...: one line */
    MC_MULTI,     /* stats lru_crawler ...: lines until END (or one status line) */
    MC_QUIT,      /* quit: no answer */
    MC_META_GET,  /* mg: VA+data / HD / EN */
    MC_META_SET,  /* ms: data block; HD NS EX NF */
    MC_META,      /* md ma me mn: one line (ma may answer VA+data) */
    MC_UNKNOWN    /* anything else: memcached answers ERROR */
} mc_class;

typedef struct mc_command {
    const char *name;
    uint8_t name_len;
    mc_class cls;
    uint8_t first_key; /* token index of the first key; 0 when the command has none */
    uint8_t min_args;  /* tokens required after the name */
} mc_command;

/* Split `len` bytes (without the line end) at spaces; false when a byte is a control
 * character other than tab, which no memcached line contains. */
bool mc_tokenize(const uint8_t *p, size_t len, mc_line *out);

/* The command named by `tok`, or NULL. */
const mc_command *mc_command_find(mc_token tok);

/* Decimal unsigned number that fills the token; false on anything else or overflow. */
bool mc_parse_u64(mc_token tok, uint64_t *out);

/* Whether the token equals the C string. */
bool mc_token_is(mc_token tok, const char *s);

/* Whether a token is a valid key: 1..250 bytes, no control characters. */
bool mc_key_valid(mc_token tok);

/* Kinds of response line. */
typedef enum mc_resp {
    MC_R_VALUE,   /* VALUE <key> <flags> <bytes> [<cas>]: data block follows */
    MC_R_END,     /* END */
    MC_R_STATUS,  /* STORED NOT_STORED EXISTS NOT_FOUND DELETED TOUCHED OK RESET BUSY ... */
    MC_R_NUMBER,  /* incr/decr result */
    MC_R_VERSION, /* VERSION x */
    MC_R_ERROR,   /* ERROR, CLIENT_ERROR msg, SERVER_ERROR msg */
    MC_R_INFO,    /* STAT ITEM PREFIX ... lines inside a multi-line answer */
    MC_R_META_VA, /* VA <size> <flags>*: data block follows */
    MC_R_META,    /* HD EN NF NS EX MN ME */
    MC_R_UNKNOWN
} mc_resp;

mc_resp mc_response_kind(const mc_line *l);

#endif
