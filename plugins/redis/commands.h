/* commands.h — what the Redis plugin knows about command names (Redis 7 command table,
 * https://redis.io/commands/): which exist (for probing and resynchronisation), which take
 * a subcommand (CONFIG GET -> "CONFIG|GET"), where the first key is, which ones block. */
#ifndef PT_REDIS_COMMANDS_H
#define PT_REDIS_COMMANDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest command name in the table (GEORADIUSBYMEMBER_RO). */
#define PT_RCMD_NAME_MAX 24

enum {
    PT_RCMD_CONTAINER = 1u << 0, /* the second word is a subcommand */
    PT_RCMD_BLOCKING = 1u << 1,  /* may block the client (BLPOP, WAIT...) */
    PT_RCMD_BLOCK_OPT = 1u << 2, /* blocks when given a BLOCK option (XREAD) */
    PT_RCMD_SUBSCRIBE = 1u << 3, /* (P|S)(UN)SUBSCRIBE: confirmed per channel */
    PT_RCMD_REDACT = 1u << 4,    /* every argument is a secret (AUTH) */
    PT_RCMD_SESSION = 1u << 5    /* changes the connection's state (MULTI, HELLO, CLIENT...) */
};

/* Where the first key is, counted in arguments after the command (and subcommand) words. */
typedef enum pt_rcmd_key {
    PT_RKEY_NONE = 0,
    PT_RKEY_ARG0,         /* GET key */
    PT_RKEY_ARG1,         /* BITOP op key */
    PT_RKEY_ARG2,         /* MIGRATE host port key */
    PT_RKEY_NUMKEYS_ARG0, /* ZUNION numkeys key... */
    PT_RKEY_NUMKEYS_ARG1, /* EVAL script numkeys key..., BLMPOP timeout numkeys key... */
    PT_RKEY_AFTER_STREAMS /* XREAD ... STREAMS key... */
} pt_rcmd_key;

typedef struct pt_rcmd {
    /* upper case, NUL-padded: a fixed-size array so that a name is copied without its length */
    char name[PT_RCMD_NAME_MAX + 8];
    uint32_t flags;
    pt_rcmd_key key;
} pt_rcmd;

/* Look a command name up, case-insensitively; NULL when unknown. */
const pt_rcmd *pt_rcmd_find(const uint8_t *name, size_t len);

/* Whether `name` (len bytes) is command `c`, ignoring case (a cheap check before a lookup). */
bool pt_rcmd_is(const pt_rcmd *c, const uint8_t *name, size_t len);

/* Whether `name` (len bytes) is a case-insensitive prefix of some known command. */
bool pt_rcmd_is_prefix(const uint8_t *name, size_t len);

/* The table itself, for tests: its size and entry i (NULL past the end). */
size_t pt_rcmd_count(void);
const pt_rcmd *pt_rcmd_at(size_t i);

#endif
