/* commands.c — the Redis 7 command table the plugin uses (names, subcommand containers, first
 * key position, blocking commands), after https://redis.io/commands/ and Redis's
 * src/commands.def. Sorted by name; looked up through a hash built when the code is loaded. */
#include "commands.h"

#include <string.h>

static const pt_rcmd commands[] = {
    {"ACL", PT_RCMD_CONTAINER, PT_RKEY_NONE},
    {"APPEND", 0, PT_RKEY_ARG0},
    {"ASKING", 0, PT_RKEY_NONE},
    {"AUTH", PT_RCMD_REDACT, PT_RKEY_NONE},
    {"BGREWRITEAOF", 0, PT_RKEY_NONE},
    {"BGSAVE", 0, PT_RKEY_NONE},
    {"BITCOUNT", 0, PT_RKEY_ARG0},
    {"BITFIELD", 0, PT_RKEY_ARG0},
    {"BITFIELD_RO", 0, PT_RKEY_ARG0},
    {"BITOP", 0, PT_RKEY_ARG1},
    {"BITPOS", 0, PT_RKEY_ARG0},
    {"BLMOVE", PT_RCMD_BLOCKING, PT_RKEY_ARG0},
    {"BLMPOP", PT_RCMD_BLOCKING, PT_RKEY_NUMKEYS_ARG1},
    {"BLPOP", PT_RCMD_BLOCKING, PT_RKEY_ARG0},
    {"BRPOP", PT_RCMD_BLOCKING, PT_RKEY_ARG0},
    {"BRPOPLPUSH", PT_RCMD_BLOCKING, PT_RKEY_ARG0},
    {"BZMPOP", PT_RCMD_BLOCKING, PT_RKEY_NUMKEYS_ARG1},
    {"BZPOPMAX", PT_RCMD_BLOCKING, PT_RKEY_ARG0},
    {"BZPOPMIN", PT_RCMD_BLOCKING, PT_RKEY_ARG0},
    {"CLIENT", PT_RCMD_CONTAINER | PT_RCMD_SESSION, PT_RKEY_NONE},
    {"CLUSTER", PT_RCMD_CONTAINER, PT_RKEY_NONE},
    {"COMMAND", PT_RCMD_CONTAINER, PT_RKEY_NONE},
    {"CONFIG", PT_RCMD_CONTAINER, PT_RKEY_NONE},
    {"COPY", 0, PT_RKEY_ARG0},
    {"DBSIZE", 0, PT_RKEY_NONE},
    {"DEBUG", 0, PT_RKEY_NONE},
    {"DECR", 0, PT_RKEY_ARG0},
    {"DECRBY", 0, PT_RKEY_ARG0},
    {"DEL", 0, PT_RKEY_ARG0},
    {"DISCARD", PT_RCMD_SESSION, PT_RKEY_NONE},
    {"DUMP", 0, PT_RKEY_ARG0},
    {"ECHO", 0, PT_RKEY_NONE},
    {"EVAL", 0, PT_RKEY_NUMKEYS_ARG1},
    {"EVALSHA", 0, PT_RKEY_NUMKEYS_ARG1},
    {"EVALSHA_RO", 0, PT_RKEY_NUMKEYS_ARG1},
    {"EVAL_RO", 0, PT_RKEY_NUMKEYS_ARG1},
    {"EXEC", PT_RCMD_SESSION, PT_RKEY_NONE},
    {"EXISTS", 0, PT_RKEY_ARG0},
    {"EXPIRE", 0, PT_RKEY_ARG0},
    {"EXPIREAT", 0, PT_RKEY_ARG0},
    {"EXPIRETIME", 0, PT_RKEY_ARG0},
    {"FAILOVER", 0, PT_RKEY_NONE},
    {"FCALL", 0, PT_RKEY_NUMKEYS_ARG1},
    {"FCALL_RO", 0, PT_RKEY_NUMKEYS_ARG1},
    {"FLUSHALL", 0, PT_RKEY_NONE},
    {"FLUSHDB", 0, PT_RKEY_NONE},
    {"FUNCTION", PT_RCMD_CONTAINER, PT_RKEY_NONE},
    {"GEOADD", 0, PT_RKEY_ARG0},
    {"GEODIST", 0, PT_RKEY_ARG0},
    {"GEOHASH", 0, PT_RKEY_ARG0},
    {"GEOPOS", 0, PT_RKEY_ARG0},
    {"GEORADIUS", 0, PT_RKEY_ARG0},
    {"GEORADIUSBYMEMBER", 0, PT_RKEY_ARG0},
    {"GEORADIUSBYMEMBER_RO", 0, PT_RKEY_ARG0},
    {"GEORADIUS_RO", 0, PT_RKEY_ARG0},
    {"GEOSEARCH", 0, PT_RKEY_ARG0},
    {"GEOSEARCHSTORE", 0, PT_RKEY_ARG0},
    {"GET", 0, PT_RKEY_ARG0},
    {"GETBIT", 0, PT_RKEY_ARG0},
    {"GETDEL", 0, PT_RKEY_ARG0},
    {"GETEX", 0, PT_RKEY_ARG0},
    {"GETRANGE", 0, PT_RKEY_ARG0},
    {"GETSET", 0, PT_RKEY_ARG0},
    {"HDEL", 0, PT_RKEY_ARG0},
    {"HELLO", PT_RCMD_SESSION, PT_RKEY_NONE},
    {"HEXISTS", 0, PT_RKEY_ARG0},
    {"HGET", 0, PT_RKEY_ARG0},
    {"HGETALL", 0, PT_RKEY_ARG0},
    {"HINCRBY", 0, PT_RKEY_ARG0},
    {"HINCRBYFLOAT", 0, PT_RKEY_ARG0},
    {"HKEYS", 0, PT_RKEY_ARG0},
    {"HLEN", 0, PT_RKEY_ARG0},
    {"HMGET", 0, PT_RKEY_ARG0},
    {"HMSET", 0, PT_RKEY_ARG0},
    {"HRANDFIELD", 0, PT_RKEY_ARG0},
    {"HSCAN", 0, PT_RKEY_ARG0},
    {"HSET", 0, PT_RKEY_ARG0},
    {"HSETNX", 0, PT_RKEY_ARG0},
    {"HSTRLEN", 0, PT_RKEY_ARG0},
    {"HVALS", 0, PT_RKEY_ARG0},
    {"INCR", 0, PT_RKEY_ARG0},
    {"INCRBY", 0, PT_RKEY_ARG0},
    {"INCRBYFLOAT", 0, PT_RKEY_ARG0},
    {"INFO", 0, PT_RKEY_NONE},
    {"KEYS", 0, PT_RKEY_NONE},
    {"LASTSAVE", 0, PT_RKEY_NONE},
    {"LATENCY", PT_RCMD_CONTAINER, PT_RKEY_NONE},
    {"LCS", 0, PT_RKEY_ARG0},
    {"LINDEX", 0, PT_RKEY_ARG0},
    {"LINSERT", 0, PT_RKEY_ARG0},
    {"LLEN", 0, PT_RKEY_ARG0},
    {"LMOVE", 0, PT_RKEY_ARG0},
    {"LMPOP", 0, PT_RKEY_NUMKEYS_ARG0},
    {"LOLWUT", 0, PT_RKEY_NONE},
    {"LPOP", 0, PT_RKEY_ARG0},
    {"LPOS", 0, PT_RKEY_ARG0},
    {"LPUSH", 0, PT_RKEY_ARG0},
    {"LPUSHX", 0, PT_RKEY_ARG0},
    {"LRANGE", 0, PT_RKEY_ARG0},
    {"LREM", 0, PT_RKEY_ARG0},
    {"LSET", 0, PT_RKEY_ARG0},
    {"LTRIM", 0, PT_RKEY_ARG0},
    {"MEMORY", PT_RCMD_CONTAINER, PT_RKEY_NONE},
    {"MGET", 0, PT_RKEY_ARG0},
    {"MIGRATE", 0, PT_RKEY_ARG2},
    {"MODULE", PT_RCMD_CONTAINER, PT_RKEY_NONE},
    {"MONITOR", PT_RCMD_SESSION, PT_RKEY_NONE},
    {"MOVE", 0, PT_RKEY_ARG0},
    {"MSET", 0, PT_RKEY_ARG0},
    {"MSETNX", 0, PT_RKEY_ARG0},
    {"MULTI", PT_RCMD_SESSION, PT_RKEY_NONE},
    {"OBJECT", PT_RCMD_CONTAINER, PT_RKEY_ARG0},
    {"PERSIST", 0, PT_RKEY_ARG0},
    {"PEXPIRE", 0, PT_RKEY_ARG0},
    {"PEXPIREAT", 0, PT_RKEY_ARG0},
    {"PEXPIRETIME", 0, PT_RKEY_ARG0},
    {"PFADD", 0, PT_RKEY_ARG0},
    {"PFCOUNT", 0, PT_RKEY_ARG0},
    {"PFDEBUG", 0, PT_RKEY_ARG1},
    {"PFMERGE", 0, PT_RKEY_ARG0},
    {"PFSELFTEST", 0, PT_RKEY_NONE},
    {"PING", 0, PT_RKEY_NONE},
    {"PSETEX", 0, PT_RKEY_ARG0},
    {"PSUBSCRIBE", PT_RCMD_SUBSCRIBE, PT_RKEY_NONE},
    {"PSYNC", 0, PT_RKEY_NONE},
    {"PTTL", 0, PT_RKEY_ARG0},
    {"PUBLISH", 0, PT_RKEY_NONE},
    {"PUBSUB", PT_RCMD_CONTAINER, PT_RKEY_NONE},
    {"PUNSUBSCRIBE", PT_RCMD_SUBSCRIBE, PT_RKEY_NONE},
    {"QUIT", 0, PT_RKEY_NONE},
    {"RANDOMKEY", 0, PT_RKEY_NONE},
    {"READONLY", 0, PT_RKEY_NONE},
    {"READWRITE", 0, PT_RKEY_NONE},
    {"RENAME", 0, PT_RKEY_ARG0},
    {"RENAMENX", 0, PT_RKEY_ARG0},
    {"REPLCONF", 0, PT_RKEY_NONE},
    {"REPLICAOF", 0, PT_RKEY_NONE},
    {"RESET", PT_RCMD_SESSION, PT_RKEY_NONE},
    {"RESTORE", 0, PT_RKEY_ARG0},
    {"RESTORE-ASKING", 0, PT_RKEY_ARG0},
    {"ROLE", 0, PT_RKEY_NONE},
    {"RPOP", 0, PT_RKEY_ARG0},
    {"RPOPLPUSH", 0, PT_RKEY_ARG0},
    {"RPUSH", 0, PT_RKEY_ARG0},
    {"RPUSHX", 0, PT_RKEY_ARG0},
    {"SADD", 0, PT_RKEY_ARG0},
    {"SAVE", 0, PT_RKEY_NONE},
    {"SCAN", 0, PT_RKEY_NONE},
    {"SCARD", 0, PT_RKEY_ARG0},
    {"SCRIPT", PT_RCMD_CONTAINER, PT_RKEY_NONE},
    {"SDIFF", 0, PT_RKEY_ARG0},
    {"SDIFFSTORE", 0, PT_RKEY_ARG0},
    {"SELECT", 0, PT_RKEY_NONE},
    {"SET", 0, PT_RKEY_ARG0},
    {"SETBIT", 0, PT_RKEY_ARG0},
    {"SETEX", 0, PT_RKEY_ARG0},
    {"SETNX", 0, PT_RKEY_ARG0},
    {"SETRANGE", 0, PT_RKEY_ARG0},
    {"SHUTDOWN", 0, PT_RKEY_NONE},
    {"SINTER", 0, PT_RKEY_ARG0},
    {"SINTERCARD", 0, PT_RKEY_NUMKEYS_ARG0},
    {"SINTERSTORE", 0, PT_RKEY_ARG0},
    {"SISMEMBER", 0, PT_RKEY_ARG0},
    {"SLAVEOF", 0, PT_RKEY_NONE},
    {"SLOWLOG", PT_RCMD_CONTAINER, PT_RKEY_NONE},
    {"SMEMBERS", 0, PT_RKEY_ARG0},
    {"SMISMEMBER", 0, PT_RKEY_ARG0},
    {"SMOVE", 0, PT_RKEY_ARG0},
    {"SORT", 0, PT_RKEY_ARG0},
    {"SORT_RO", 0, PT_RKEY_ARG0},
    {"SPOP", 0, PT_RKEY_ARG0},
    {"SPUBLISH", 0, PT_RKEY_NONE},
    {"SRANDMEMBER", 0, PT_RKEY_ARG0},
    {"SREM", 0, PT_RKEY_ARG0},
    {"SSCAN", 0, PT_RKEY_ARG0},
    {"SSUBSCRIBE", PT_RCMD_SUBSCRIBE, PT_RKEY_NONE},
    {"STRLEN", 0, PT_RKEY_ARG0},
    {"SUBSCRIBE", PT_RCMD_SUBSCRIBE, PT_RKEY_NONE},
    {"SUBSTR", 0, PT_RKEY_ARG0},
    {"SUNION", 0, PT_RKEY_ARG0},
    {"SUNIONSTORE", 0, PT_RKEY_ARG0},
    {"SUNSUBSCRIBE", PT_RCMD_SUBSCRIBE, PT_RKEY_NONE},
    {"SWAPDB", 0, PT_RKEY_NONE},
    {"SYNC", 0, PT_RKEY_NONE},
    {"TIME", 0, PT_RKEY_NONE},
    {"TOUCH", 0, PT_RKEY_ARG0},
    {"TTL", 0, PT_RKEY_ARG0},
    {"TYPE", 0, PT_RKEY_ARG0},
    {"UNLINK", 0, PT_RKEY_ARG0},
    {"UNSUBSCRIBE", PT_RCMD_SUBSCRIBE, PT_RKEY_NONE},
    {"UNWATCH", 0, PT_RKEY_NONE},
    {"WAIT", PT_RCMD_BLOCKING, PT_RKEY_NONE},
    {"WAITAOF", PT_RCMD_BLOCKING, PT_RKEY_NONE},
    {"WATCH", 0, PT_RKEY_ARG0},
    {"XACK", 0, PT_RKEY_ARG0},
    {"XADD", 0, PT_RKEY_ARG0},
    {"XAUTOCLAIM", 0, PT_RKEY_ARG0},
    {"XCLAIM", 0, PT_RKEY_ARG0},
    {"XDEL", 0, PT_RKEY_ARG0},
    {"XGROUP", PT_RCMD_CONTAINER, PT_RKEY_ARG0},
    {"XINFO", PT_RCMD_CONTAINER, PT_RKEY_ARG0},
    {"XLEN", 0, PT_RKEY_ARG0},
    {"XPENDING", 0, PT_RKEY_ARG0},
    {"XRANGE", 0, PT_RKEY_ARG0},
    {"XREAD", PT_RCMD_BLOCK_OPT, PT_RKEY_AFTER_STREAMS},
    {"XREADGROUP", PT_RCMD_BLOCK_OPT, PT_RKEY_AFTER_STREAMS},
    {"XREVRANGE", 0, PT_RKEY_ARG0},
    {"XSETID", 0, PT_RKEY_ARG0},
    {"XTRIM", 0, PT_RKEY_ARG0},
    {"ZADD", 0, PT_RKEY_ARG0},
    {"ZCARD", 0, PT_RKEY_ARG0},
    {"ZCOUNT", 0, PT_RKEY_ARG0},
    {"ZDIFF", 0, PT_RKEY_NUMKEYS_ARG0},
    {"ZDIFFSTORE", 0, PT_RKEY_ARG0},
    {"ZINCRBY", 0, PT_RKEY_ARG0},
    {"ZINTER", 0, PT_RKEY_NUMKEYS_ARG0},
    {"ZINTERCARD", 0, PT_RKEY_NUMKEYS_ARG0},
    {"ZINTERSTORE", 0, PT_RKEY_ARG0},
    {"ZLEXCOUNT", 0, PT_RKEY_ARG0},
    {"ZMPOP", 0, PT_RKEY_NUMKEYS_ARG0},
    {"ZMSCORE", 0, PT_RKEY_ARG0},
    {"ZPOPMAX", 0, PT_RKEY_ARG0},
    {"ZPOPMIN", 0, PT_RKEY_ARG0},
    {"ZRANDMEMBER", 0, PT_RKEY_ARG0},
    {"ZRANGE", 0, PT_RKEY_ARG0},
    {"ZRANGEBYLEX", 0, PT_RKEY_ARG0},
    {"ZRANGEBYSCORE", 0, PT_RKEY_ARG0},
    {"ZRANGESTORE", 0, PT_RKEY_ARG0},
    {"ZRANK", 0, PT_RKEY_ARG0},
    {"ZREM", 0, PT_RKEY_ARG0},
    {"ZREMRANGEBYLEX", 0, PT_RKEY_ARG0},
    {"ZREMRANGEBYRANK", 0, PT_RKEY_ARG0},
    {"ZREMRANGEBYSCORE", 0, PT_RKEY_ARG0},
    {"ZREVRANGE", 0, PT_RKEY_ARG0},
    {"ZREVRANGEBYLEX", 0, PT_RKEY_ARG0},
    {"ZREVRANGEBYSCORE", 0, PT_RKEY_ARG0},
    {"ZREVRANK", 0, PT_RKEY_ARG0},
    {"ZSCAN", 0, PT_RKEY_ARG0},
    {"ZSCORE", 0, PT_RKEY_ARG0},
    {"ZUNION", 0, PT_RKEY_NUMKEYS_ARG0},
    {"ZUNIONSTORE", 0, PT_RKEY_ARG0},
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static uint8_t upper(uint8_t c)
{
    return (c >= 'a' && c <= 'z') ? (uint8_t)(c - 'a' + 'A') : c;
}

/* Compare `len` bytes of `name` (any case) with the upper-case table entry `ref`, limited to
 * the shorter of the two; *shorter tells which one ran out. */
static int cmp_prefix(const uint8_t *name, size_t len, const char *ref, size_t *common)
{
    size_t i = 0;
    for (; i < len && ref[i]; i++) {
        int d = (int)upper(name[i]) - (int)(uint8_t)ref[i];
        if (d)
            return d;
    }
    *common = i;
    return 0;
}

/* Slots of the lookup hash (a power of two, at least twice the table: short probe chains). */
#define RCMD_HASH_SLOTS 1024u

/* Open-addressing hash of the table by name: slot -> table index + 1 (0: empty), and each
 * name's length. Filled once, when the plugin (or a test linking it) is loaded. */
static uint16_t rcmd_slots[RCMD_HASH_SLOTS];
static uint8_t rcmd_len[N_COMMANDS];

/* FNV-1a over the upper-cased name: any case of a name lands in the same slot. */
static uint32_t rcmd_hash(const uint8_t *name, size_t len)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++)
        h = (h ^ upper(name[i])) * 16777619u;
    return h;
}

__attribute__((constructor)) static void rcmd_hash_build(void)
{
    _Static_assert(RCMD_HASH_SLOTS >= 2 * N_COMMANDS, "RCMD_HASH_SLOTS too small");
    _Static_assert((RCMD_HASH_SLOTS & (RCMD_HASH_SLOTS - 1)) == 0, "not a power of two");
    for (size_t i = 0; i < N_COMMANDS; i++) {
        size_t n = strlen(commands[i].name);
        rcmd_len[i] = (uint8_t)n;
        uint32_t h = rcmd_hash((const uint8_t *)commands[i].name, n) & (RCMD_HASH_SLOTS - 1);
        while (rcmd_slots[h])
            h = (h + 1) & (RCMD_HASH_SLOTS - 1);
        rcmd_slots[h] = (uint16_t)(i + 1);
    }
}

/* One hash and, in the usual case, one comparison (the binary search it replaces took about
 * eight case-folding comparisons per command). */
const pt_rcmd *pt_rcmd_find(const uint8_t *name, size_t len)
{
    if (len == 0 || len > PT_RCMD_NAME_MAX)
        return NULL;
    uint32_t h = rcmd_hash(name, len) & (RCMD_HASH_SLOTS - 1);
    for (uint16_t k; (k = rcmd_slots[h]) != 0; h = (h + 1) & (RCMD_HASH_SLOTS - 1)) {
        const pt_rcmd *c = &commands[k - 1];
        size_t common = 0;
        if (rcmd_len[k - 1] == len && cmp_prefix(name, len, c->name, &common) == 0)
            return c;
    }
    return NULL;
}

/* The length first (one load), then the bytes. */
bool pt_rcmd_is(const pt_rcmd *c, const uint8_t *name, size_t len)
{
    if (!c || rcmd_len[c - commands] != len)
        return false;
    for (size_t i = 0; i < len; i++)
        if (upper(name[i]) != (uint8_t)c->name[i])
            return false;
    return true;
}

bool pt_rcmd_is_prefix(const uint8_t *name, size_t len)
{
    if (len > PT_RCMD_NAME_MAX)
        return false;
    for (size_t i = 0; i < N_COMMANDS; i++) {
        size_t common = 0;
        if (cmp_prefix(name, len, commands[i].name, &common) == 0 && common == len)
            return true;
    }
    return false;
}

size_t pt_rcmd_count(void)
{
    return N_COMMANDS;
}

const pt_rcmd *pt_rcmd_at(size_t i)
{
    return i < N_COMMANDS ? &commands[i] : NULL;
}
