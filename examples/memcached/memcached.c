/* memcached.c — pcaptrace plugin for the memcached text and meta protocols (memcached
 * doc/protocol.txt): the descriptor, options, content detection and stream life cycle. The
 * parsers are in mc_stream.c, the events in mc_events.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "memcached.h"

/* probe() looks at most this far for the end of the first line. */
#define MC_PROBE_MAX_LINE 512

#define MC_STR_(x) #x
#define MC_STR(x)  MC_STR_(x)

static const pt_option_spec mc_options[] = {
    {"max_line_bytes", MC_STR(MC_DEFAULT_MAX_LINE),
     "longest command or response line kept; longer lines are cut and flagged"},
    {"max_pending", MC_STR(MC_DEFAULT_MAX_PENDING),
     "requests waiting for a response per connection; beyond, the oldest is reported "
     "unanswered"},
    {"max_keys", MC_STR(MC_DEFAULT_MAX_KEYS), "keys kept per multi-key get (all are counted)"},
    {"max_key_bytes", MC_STR(MC_DEFAULT_MAX_KEY), "bytes kept per key"},
    {"max_text_bytes", MC_STR(MC_DEFAULT_MAX_TEXT),
     "bytes of an error message or unparsable line put in an event"},
    {NULL, NULL, NULL},
};

/* Read one numeric option in [1, max]; false (with *error set) when out of range. */
static bool option_size(const pt_host *h, const pt_options *o, const char *key, size_t max,
                        size_t *out, char **error)
{
    int64_t v;
    if (!pt_option_range(h, o, "memcached", key, 1, (int64_t)max, &v, error)) {
        return false;
    }
    *out = (size_t)v;
    return true;
}

static void *mc_init(const pt_host *host, const pt_options *opts, char **error)
{
    mc_plugin *p = calloc(1, sizeof *p);
    if (p == NULL) {
        *error = strdup("memcached: out of memory");
        return NULL;
    }
    p->host = host;
    if (!option_size(host, opts, "max_line_bytes", MC_LIMIT_MAX_LINE, &p->max_line, error) ||
        !option_size(host, opts, "max_pending", MC_LIMIT_MAX_PENDING, &p->max_pending, error) ||
        !option_size(host, opts, "max_keys", MC_LIMIT_MAX_KEYS, &p->max_keys, error) ||
        !option_size(host, opts, "max_key_bytes", MC_KEY_MAX, &p->max_key, error) ||
        !option_size(host, opts, "max_text_bytes", MC_LIMIT_MAX_TEXT, &p->max_text, error)) {
        free(p);
        return NULL;
    }
    if (p->max_pending < 2) {
        *error = strdup("memcached.max_pending must be at least 2");
        free(p);
        return NULL;
    }
    return p;
}

static void mc_fini(void *plugin_state)
{
    free(plugin_state);
}

/* Whether a request line is a well-formed memcached command. */
static bool probe_request(const mc_line *l)
{
    const mc_command *cmd = mc_command_find(l->tok[0]);
    if (cmd == NULL || l->total - 1 < cmd->min_args) {
        return false;
    }
    if (cmd->first_key != 0 && !mc_key_valid(l->tok[cmd->first_key])) {
        return false;
    }
    uint64_t v;
    if (cmd->cls == MC_STORAGE) {
        return mc_parse_u64(l->tok[2], &v) && mc_parse_u64(l->tok[4], &v);
    }
    if (cmd->cls == MC_META_SET) {
        return mc_parse_u64(l->tok[2], &v);
    }
    return true;
}

/* Whether a response line is distinctly memcached's (codes other protocols use too, such as
 * OK, ERROR or a bare number, do not count). */
static bool probe_response(const mc_line *l)
{
    uint64_t v;
    switch (mc_response_kind(l)) {
    case MC_R_VALUE:
        return mc_parse_u64(l->tok[2], &v) && mc_parse_u64(l->tok[3], &v);
    case MC_R_META_VA:
        return mc_parse_u64(l->tok[1], &v);
    case MC_R_END:
    case MC_R_VERSION:
        return true;
    case MC_R_INFO:
        return mc_token_is(l->tok[0], "STAT");
    case MC_R_STATUS:
        return !mc_token_is(l->tok[0], "OK") && !mc_token_is(l->tok[0], "RESET") &&
               !mc_token_is(l->tok[0], "BUSY");
    case MC_R_ERROR:
        return !mc_token_is(l->tok[0], "ERROR");
    default:
        return false;
    }
}

/* Decide from the first line of a direction: a known command (lower case, right argument
 * count and numbers) or a distinctive response. Before the line is complete, the first
 * token must still look like one. */
static pt_probe_result mc_probe(pt_dir dir, const uint8_t *data, size_t len)
{
    size_t lim = len < MC_PROBE_MAX_LINE ? len : MC_PROBE_MAX_LINE;
    const uint8_t *nl = memchr(data, '\n', lim);
    if (nl == NULL) {
        if (len >= MC_PROBE_MAX_LINE) {
            return PT_PROBE_NO;
        }
        for (size_t i = 0; i < len && data[i] != ' '; i++) {
            uint8_t c = data[i];
            bool ok = dir == PT_DIR_TO_SERVER ? (c >= 'a' && c <= 'z') || c == '_'
                                              : (c >= 'A' && c <= 'Z') || c == '_';
            if (!ok) {
                return PT_PROBE_NO;
            }
        }
        return PT_PROBE_NEED_MORE;
    }
    size_t n = (size_t)(nl - data);
    if (n > 0 && data[n - 1] == '\r') {
        n--;
    }
    mc_line l;
    if (!mc_tokenize(data, n, &l) || l.n == 0) {
        return PT_PROBE_NO;
    }
    bool yes = dir == PT_DIR_TO_SERVER ? probe_request(&l) : probe_response(&l);
    return yes ? PT_PROBE_YES : PT_PROBE_NO;
}

static void *mc_stream_open(void *plugin_state, pt_stream *s)
{
    mc_plugin *p = plugin_state;
    mc_stream *ms = calloc(1, sizeof *ms);
    if (ms == NULL) {
        return NULL;
    }
    ms->spans = calloc(p->max_keys, sizeof *ms->spans);
    if (ms->spans == NULL || !mc_queue_init(&ms->q, p->max_keys, p->max_key)) {
        free(ms->spans);
        free(ms);
        return NULL;
    }
    ms->p = p;
    ms->s = s;
    return ms;
}

static pt_feed_result mc_data(void *state, pt_dir dir, const uint8_t *data, size_t len,
                              const pt_time *ts)
{
    return mc_stream_data(state, dir, data, len, ts);
}

static void mc_gap(void *state, pt_dir dir, uint64_t missing, const pt_time *ts)
{
    mc_stream_gap(state, dir, missing, ts);
}

static void mc_close(void *state, pt_close_reason why, const pt_time *ts)
{
    mc_stream *ms = state;
    mc_stream_unanswered(ms, pt_close_reason_name(why), ts);
    free(ms->dir[0].line);
    free(ms->dir[1].line);
    free(ms->spans);
    mc_queue_free(&ms->q);
    free(ms);
}

static const uint16_t mc_ports[] = {11211, 0};

static const pt_plugin memcached_plugin = {
    .abi_version = PT_PLUGIN_ABI,
    .struct_size = sizeof(pt_plugin),
    .name = "memcached",
    .version = "1.0.0",
    .description = "memcached text and meta protocol: commands paired with responses, latency",
    .server_ports = mc_ports,
    .options = mc_options,
    .init = mc_init,
    .fini = mc_fini,
    .probe = mc_probe,
    .stream_open = mc_stream_open,
    .stream_data = mc_data,
    .stream_gap = mc_gap,
    .stream_close = mc_close,
    .format_text = mc_format_text,
};

PT_PLUGIN_EXPORT(memcached_plugin)
