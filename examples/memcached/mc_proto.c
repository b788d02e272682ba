/* mc_proto.c — memcached text and meta protocol tables and line tokeniser
 * (memcached doc/protocol.txt). */
#include <string.h>

#include "mc_proto.h"

/* A table entry with the name's length computed at compile time. */
#define CMD(name, cls, first_key, min_args)                                                        \
    {                                                                                              \
        name, sizeof(name) - 1, cls, first_key, min_args                                           \
    }

/* Every command memcached 1.6 knows, with how it is answered. */
static const mc_command commands[] = {
    CMD("get", MC_RETRIEVAL, 1, 1),    CMD("gets", MC_RETRIEVAL, 1, 1),
    CMD("gat", MC_RETRIEVAL, 2, 2),    CMD("gats", MC_RETRIEVAL, 2, 2),
    CMD("set", MC_STORAGE, 1, 4),      CMD("add", MC_STORAGE, 1, 4),
    CMD("replace", MC_STORAGE, 1, 4),  CMD("append", MC_STORAGE, 1, 4),
    CMD("prepend", MC_STORAGE, 1, 4),  CMD("cas", MC_STORAGE, 1, 5),
    CMD("delete", MC_SIMPLE, 1, 1),    CMD("incr", MC_SIMPLE, 1, 2),
    CMD("decr", MC_SIMPLE, 1, 2),      CMD("touch", MC_SIMPLE, 1, 2),
    CMD("version", MC_SIMPLE, 0, 0),   CMD("flush_all", MC_SIMPLE, 0, 0),
    CMD("verbosity", MC_SIMPLE, 0, 1), CMD("cache_memlimit", MC_SIMPLE, 0, 1),
    CMD("shutdown", MC_SIMPLE, 0, 0),  CMD("slabs", MC_SIMPLE, 0, 1),
    CMD("lru", MC_SIMPLE, 0, 1),       CMD("extstore", MC_SIMPLE, 0, 1),
    CMD("watch", MC_SIMPLE, 0, 0),     CMD("misbehave", MC_SIMPLE, 0, 0),
    CMD("stats", MC_MULTI, 0, 0),      CMD("lru_crawler", MC_MULTI, 0, 1),
    CMD("quit", MC_QUIT, 0, 0),        CMD("mg", MC_META_GET, 1, 1),
    CMD("ms", MC_META_SET, 1, 2),      CMD("md", MC_META, 1, 1),
    CMD("ma", MC_META, 1, 1),          CMD("me", MC_META, 1, 1),
    CMD("mn", MC_META, 0, 0),
};

bool mc_token_is(mc_token tok, const char *s)
{
    size_t n = strlen(s);
    return tok.len == n && memcmp(tok.ptr, s, n) == 0;
}

bool mc_tokenize(const uint8_t *p, size_t len, mc_line *out)
{
    out->n = 0;
    out->total = 0;
    size_t i = 0;
    while (i < len) {
        while (i < len && p[i] == ' ') {
            i++;
        }
        if (i == len) {
            break;
        }
        size_t start = i;
        while (i < len && p[i] != ' ') {
            if (p[i] < 0x20 && p[i] != '\t') {
                return false;
            }
            if (p[i] == 0x7f) {
                return false;
            }
            i++;
        }
        if (out->n < MC_MAX_TOKENS) {
            out->tok[out->n++] = (mc_token){p + start, i - start};
        }
        out->total++;
    }
    return true;
}

const mc_command *mc_command_find(mc_token tok)
{
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        if (tok.len == commands[i].name_len && memcmp(tok.ptr, commands[i].name, tok.len) == 0) {
            return &commands[i];
        }
    }
    return NULL;
}

bool mc_parse_u64(mc_token tok, uint64_t *out)
{
    if (tok.len == 0 || tok.len > 20) {
        return false;
    }
    uint64_t v = 0;
    for (size_t i = 0; i < tok.len; i++) {
        uint8_t c = tok.ptr[i];
        if (c < '0' || c > '9') {
            return false;
        }
        if (v > (UINT64_MAX - (c - '0')) / 10) {
            return false;
        }
        v = v * 10 + (c - '0');
    }
    *out = v;
    return true;
}

bool mc_key_valid(mc_token tok)
{
    if (tok.len == 0 || tok.len > MC_KEY_MAX) {
        return false;
    }
    for (size_t i = 0; i < tok.len; i++) {
        if (tok.ptr[i] <= 0x20 || tok.ptr[i] == 0x7f) {
            return false;
        }
    }
    return true;
}

mc_resp mc_response_kind(const mc_line *l)
{
    static const char *const status[] = {"STORED",  "NOT_STORED", "EXISTS", "NOT_FOUND", "DELETED",
                                         "TOUCHED", "OK",         "RESET",  "BUSY",      "BADCLASS",
                                         "NOSPARE", "NOTFULL",    "UNSAFE", "SAME"};
    static const char *const meta[] = {"HD", "EN", "NF", "NS", "EX", "MN", "ME"};
    if (l->n == 0) {
        return MC_R_UNKNOWN;
    }
    mc_token t = l->tok[0];
    uint64_t num;
    if (mc_token_is(t, "VALUE")) {
        return l->n >= 4 ? MC_R_VALUE : MC_R_UNKNOWN;
    }
    if (mc_token_is(t, "END")) {
        return MC_R_END;
    }
    for (size_t i = 0; i < sizeof status / sizeof status[0]; i++) {
        if (mc_token_is(t, status[i])) {
            return MC_R_STATUS;
        }
    }
    if (mc_token_is(t, "VERSION")) {
        return MC_R_VERSION;
    }
    if (mc_token_is(t, "ERROR") || mc_token_is(t, "CLIENT_ERROR") ||
        mc_token_is(t, "SERVER_ERROR")) {
        return MC_R_ERROR;
    }
    if (mc_token_is(t, "STAT") || mc_token_is(t, "ITEM") || mc_token_is(t, "PREFIX")) {
        return MC_R_INFO;
    }
    if (mc_parse_u64(t, &num) && l->n == 1) {
        return MC_R_NUMBER;
    }
    if (mc_token_is(t, "VA")) {
        return l->n >= 2 ? MC_R_META_VA : MC_R_UNKNOWN;
    }
    for (size_t i = 0; i < sizeof meta / sizeof meta[0]; i++) {
        if (mc_token_is(t, meta[i])) {
            return MC_R_META;
        }
    }
    return MC_R_UNKNOWN;
}
