/* kit_lines_plugin.c — a tiny line-based protocol plugin ("HELLO", CRLF lines) used to test
 * the plugin test kit itself, both linked into the test and loaded as a shared object. It
 * also has switches to misbehave on purpose so the kit's contract checks can be tested. */
#include <stdlib.h>
#include <string.h>

#include <pcaptrace/plugin.h>

/* Longest line kept per direction (option `max_line`). */
#define KIT_LINES_MAX_LINE 256

typedef struct lines_plugin {
    const pt_host *host;
    size_t max_line;
    bool misbehave; /* option `misbehave`: emit broken events on the line "BREAK" */
} lines_plugin;

typedef struct lines_stream {
    lines_plugin *p;
    pt_stream *s;
    char buf[2][KIT_LINES_MAX_LINE];
    size_t len[2];
    bool overflow[2];
    unsigned lines;
} lines_stream;

static const pt_option_spec lines_options[] = {
    {"max_line", "64", "longest line kept, bytes (at most 256)"},
    {"misbehave", "false", "emit contract-breaking events on the line BREAK"},
    {"tag", NULL, "optional text added to every line event"},
    {NULL, NULL, NULL},
};

static void *lines_init(const pt_host *host, const pt_options *opts, char **error)
{
    int64_t max = host->option_int(opts, "max_line", -1);
    if (max < 1 || max > KIT_LINES_MAX_LINE) {
        *error = strdup("max_line must be 1..256");
        return NULL;
    }
    lines_plugin *p = calloc(1, sizeof *p);
    p->host = host;
    p->max_line = (size_t)max;
    p->misbehave = host->option_bool(opts, "misbehave", false);
    return p;
}

static void lines_fini(void *state)
{
    free(state);
}

/* "HELLO" opens every conversation of this protocol. */
static pt_probe_result lines_probe(pt_dir dir, const uint8_t *data, size_t len)
{
    static const char hello[] = "HELLO";
    size_t n = len < 5 ? len : 5;
    if (memcmp(data, hello, n) != 0) {
        return PT_PROBE_NO;
    }
    return len < 5 ? PT_PROBE_NEED_MORE : PT_PROBE_YES;
}

static void *lines_open(void *plugin_state, pt_stream *s)
{
    lines_plugin *p = plugin_state;
    const pt_endpoint *server = p->host->stream_server(s);
    if (server->port == 9) {
        return NULL; /* the discard port: declined, to test declines */
    }
    lines_stream *ls = calloc(1, sizeof *ls);
    ls->p = p;
    ls->s = s;
    return ls;
}

static void emit_line(lines_stream *ls, pt_dir dir, const pt_time *ts)
{
    const pt_host *h = ls->p->host;
    pt_span text = {(const uint8_t *)ls->buf[dir], ls->len[dir], ls->len[dir]};
    if (ls->p->misbehave && ls->len[dir] == 5 && memcmp(ls->buf[dir], "BREAK", 5) == 0) {
        pt_field bad[] = {PT_F_STR("BadName", PT_SPAN(NULL, 3)), PT_F_INT("n", 1), PT_F_INT("n", 2),
                          PT_F_INT("flow", 3)};
        h->emit(ls->s, "Not Snake", ts, bad, 4);
        return;
    }
    pt_field f[] = {
        PT_F_STR("text", text),
        PT_F_UINT("dir", dir),
        PT_F_BOOL("truncated", ls->overflow[dir]),
        PT_F_INT("seq", (int64_t)ls->lines),
    };
    h->emit(ls->s, "line", ts, f, 4);
    ls->lines++;
}

static pt_feed_result lines_data(void *state, pt_dir dir, const uint8_t *data, size_t len,
                                 const pt_time *ts)
{
    lines_stream *ls = state;
    for (size_t i = 0; i < len; i++) {
        char c = (char)data[i];
        if (c == '\n') {
            if (ls->len[dir] > 0 && ls->buf[dir][ls->len[dir] - 1] == '\r') {
                ls->len[dir]--;
            }
            bool quit = ls->len[dir] == 4 && memcmp(ls->buf[dir], "QUIT", 4) == 0;
            bool bad = ls->len[dir] == 5 && memcmp(ls->buf[dir], "WRONG", 5) == 0;
            emit_line(ls, dir, ts);
            ls->len[dir] = 0;
            ls->overflow[dir] = false;
            if (quit) {
                return PT_FEED_RELEASE;
            }
            if (bad) {
                ls->p->host->log(ls->s, PT_LOG_WARNING, "protocol violation after %u lines",
                                 ls->lines);
                return PT_FEED_VIOLATION;
            }
        } else if (ls->len[dir] < ls->p->max_line) {
            ls->buf[dir][ls->len[dir]++] = c;
        } else {
            ls->overflow[dir] = true;
        }
    }
    return PT_FEED_OK;
}

static void lines_gap(void *state, pt_dir dir, uint64_t missing, const pt_time *ts)
{
    lines_stream *ls = state;
    ls->len[dir] = 0;
    pt_field f[] = {PT_F_UINT("dir", dir), PT_F_UINT("missing", missing)};
    ls->p->host->emit(ls->s, "gap", ts, f, 2);
}

static void lines_close(void *state, pt_close_reason why, const pt_time *ts)
{
    lines_stream *ls = state;
    pt_field f[] = {PT_F_INT("reason", why), PT_F_UINT("lines", ls->lines)};
    ls->p->host->emit(ls->s, "closed", ts, f, 2);
    if (ls->p->misbehave) {
        pt_stream *s = ls->s;
        const pt_host *h = ls->p->host;
        free(ls);
        h->log(s, PT_LOG_DEBUG, "freed");
        return;
    }
    free(ls);
}

static void lines_format(void *plugin_state, const pt_event *ev, pt_text *out)
{
    const pt_host *h = ((lines_plugin *)plugin_state)->host;
    h->text_printf(out, "%s", ev->kind);
    for (size_t i = 0; i < ev->n_fields; i++) {
        if (strcmp(ev->fields[i].name, "text") == 0) {
            h->text_printf(out, " ");
            h->text_span(out, ev->fields[i].v.str, 8, true);
        }
    }
}

static const uint16_t lines_ports[] = {7777, 0};

const pt_plugin kit_lines_plugin = {
    .abi_version = PT_PLUGIN_ABI,
    .struct_size = sizeof(pt_plugin),
    .name = "lines",
    .version = "1.0",
    .description = "CRLF line protocol for the test kit's own tests",
    .server_ports = lines_ports,
    .options = lines_options,
    .init = lines_init,
    .fini = lines_fini,
    .probe = lines_probe,
    .stream_open = lines_open,
    .stream_data = lines_data,
    .stream_gap = lines_gap,
    .stream_close = lines_close,
    .format_text = lines_format,
};

PT_PLUGIN_EXPORT(kit_lines_plugin)
