/* dispatch.c — hands each TCP stream to a plugin: the owner of its server port, or else the
 * first plugin whose probe() says yes about the first bytes of a direction (dynamic protocol
 * detection in the manner of Zeek's DPD and Suricata's probing parsers).
 *
 * While a stream is undecided its bytes are kept (at most probe_max_bytes per direction) with
 * a short log of which direction sent what and when, so the chosen plugin gets them replayed
 * in order; a chunk that arrives with nothing buffered is probed in place and only copied when
 * the answer is "need more". A stream that every plugin refuses, or that reaches the bound
 * undecided, stays with the tcp events only. A plugin returning RELEASE or VIOLATION, an
 * unknown result, or a malformed event gives the stream up: stream_close(PT_CLOSE_RELEASED)
 * is called once and later bytes are ignored. */
#include "dispatch.h"

#include <string.h>

#include "plugin_host.h"

#define PT_DISPATCH_ERROR (pt_dispatch_error_quark())
static GQuark pt_dispatch_error_quark(void)
{
    return g_quark_from_static_string("pt-dispatch-error");
}

#define NO_OWNER 0xffff

typedef enum ds_state { DS_PROBING, DS_ACTIVE, DS_TCP_ONLY } ds_state;

/* One entry of the undecided stream's log: bytes [off, off+len) of buf[dir], or a gap. */
typedef struct probe_rec {
    uint8_t dir;
    bool gap;
    size_t off;
    uint64_t len;
    pt_time ts;
} probe_rec;

typedef struct dstream {
    pt_stream host; /* what the plugin's pt_stream points to */
    ds_state state;
    pt_plugin_ref *plugin;
    void *pstate;
    struct dstream *next_free;
    /* probing */
    uint8_t *buf[2];
    size_t len[2];
    size_t probe_off[2]; /* probes see buf[dir] from here (bytes after the last gap) */
    unsigned n_log;
    unsigned alive;   /* plugins that have not said no for both directions */
    probe_rec *log;   /* max_turns entries, after the struct */
    uint8_t *refused; /* one per plugin: bit (1 << dir) set when it said no for dir */
} dstream;

struct pt_dispatch {
    pt_plugin_set *set;
    pt_events *bus;
    bool own_bus;
    size_t probe_max_bytes;
    unsigned max_log;
    unsigned n_plugins;
    pt_plugin_ref **plugins;
    uint16_t owner[65536]; /* server port -> plugin index, NO_OWNER */
    dstream *free_streams; /* pool: a stream's state is reused, not reallocated */
    GPtrArray *free_bufs;  /* pool of probe buffers */
    unsigned n_free_streams;
    size_t bufs_in_use, max_bufs; /* probe buffers now, and the probe_memory bound */
    pt_dispatch_stats stats;
};

static void build_port_table(pt_dispatch *d)
{
    for (size_t p = 0; p < G_N_ELEMENTS(d->owner); p++)
        d->owner[p] = NO_OWNER;
    /* Default ports: the first plugin loaded keeps a port two plugins claim. */
    for (unsigned i = 0; i < d->n_plugins; i++) {
        const pt_plugin_ref *r = d->plugins[i];
        for (guint k = 0; k < r->n_default_ports; k++) {
            uint16_t port = g_array_index(r->ports, uint16_t, k);
            if (d->owner[port] == NO_OWNER)
                d->owner[port] = (uint16_t)i;
        }
    }
    /* Ports given with --port or `ports` keys override the defaults. */
    for (unsigned i = 0; i < d->n_plugins; i++) {
        const pt_plugin_ref *r = d->plugins[i];
        for (guint k = r->n_default_ports; k < r->ports->len; k++)
            d->owner[g_array_index(r->ports, uint16_t, k)] = (uint16_t)i;
    }
}

pt_dispatch *pt_dispatch_new(pt_plugin_set *plugins, pt_events *bus, bool own_bus,
                             const pt_dispatch_limits *lim)
{
    pt_dispatch *d = g_new0(pt_dispatch, 1);
    d->set = plugins;
    d->bus = bus;
    d->own_bus = own_bus;
    d->probe_max_bytes =
        lim && lim->probe_max_bytes ? lim->probe_max_bytes : PT_DISPATCH_PROBE_MAX_BYTES_DEFAULT;
    d->max_log =
        lim && lim->probe_max_turns ? lim->probe_max_turns : PT_DISPATCH_PROBE_MAX_TURNS_DEFAULT;
    d->n_plugins = plugins ? plugins->plugins->len : 0;
    d->plugins = plugins ? (pt_plugin_ref **)plugins->plugins->pdata : NULL;
    d->free_bufs = g_ptr_array_new_with_free_func(g_free);
    size_t mem = lim && lim->probe_memory ? lim->probe_memory : PT_DISPATCH_PROBE_MEMORY_DEFAULT;
    d->max_bufs = mem / d->probe_max_bytes ? mem / d->probe_max_bytes : 1;
    build_port_table(d);
    return d;
}

bool pt_dispatch_is_server_port(const pt_dispatch *d, uint16_t port)
{
    return d->owner[port] != NO_OWNER;
}

static dstream *stream_alloc(pt_dispatch *d)
{
    dstream *s = d->free_streams;
    if (s) {
        d->free_streams = s->next_free;
        d->n_free_streams--;
    } else {
        size_t size = sizeof(dstream) + d->max_log * sizeof(probe_rec) + d->n_plugins;
        s = g_malloc(size);
    }
    probe_rec *log = (probe_rec *)(s + 1);
    memset(s, 0, sizeof *s);
    s->log = log;
    s->refused = (uint8_t *)(log + d->max_log);
    memset(s->refused, 0, d->n_plugins);
    return s;
}

static void drop_buffers(pt_dispatch *d, dstream *s)
{
    for (int i = 0; i < 2; i++) {
        if (s->buf[i]) {
            d->bufs_in_use--;
            if (d->free_bufs->len < PT_DISPATCH_POOL_MAX)
                g_ptr_array_add(d->free_bufs, s->buf[i]);
            else
                g_free(s->buf[i]);
        }
        s->buf[i] = NULL;
        s->len[i] = s->probe_off[i] = 0;
    }
    s->n_log = 0;
}

static void stream_release_mem(pt_dispatch *d, dstream *s)
{
    drop_buffers(d, s);
    if (d->n_free_streams >= PT_DISPATCH_POOL_MAX) {
        g_free(s);
        return;
    }
    s->next_free = d->free_streams;
    d->free_streams = s;
    d->n_free_streams++;
}

/* A probe buffer, or NULL when the undecided streams hold probe_memory already. */
static uint8_t *buf_alloc(pt_dispatch *d)
{
    if (d->bufs_in_use >= d->max_bufs)
        return NULL;
    d->bufs_in_use++;
    if (d->free_bufs->len)
        return g_ptr_array_steal_index_fast(d->free_bufs, d->free_bufs->len - 1);
    return g_malloc(d->probe_max_bytes);
}

/* Why a stream is given up. */
typedef enum release_why { REL_RELEASE, REL_VIOLATION, REL_MISBEHAVED } release_why;

/* Give the stream up: close the plugin's state once, keep only the tcp events. */
static void release(pt_dispatch *d, dstream *s, release_why why, const pt_time *ts)
{
    pt_plugin_ref *p = s->plugin;
    if (why == REL_RELEASE)
        p->releases++;
    else if (why == REL_VIOLATION)
        p->violations++;
    else {
        p->misbehaved++;
        d->stats.misbehaved++;
    }
    d->stats.released++;
    s->state = DS_TCP_ONLY;
    p->desc.stream_close(s->pstate, PT_CLOSE_RELEASED, ts);
    s->host.closed = true;
    s->pstate = NULL;
}

/* Pass bytes to the active plugin; false when the stream was released. */
static bool feed(pt_dispatch *d, dstream *s, pt_dir dir, const uint8_t *data, size_t len,
                 const pt_time *ts)
{
    pt_feed_result r = s->plugin->desc.stream_data(s->pstate, dir, data, len, ts);
    if (r == PT_FEED_OK && !s->host.failed)
        return true;
    /* A malformed event, or a result that is none of the three, is misbehaviour. */
    release_why why = REL_MISBEHAVED;
    if (!s->host.failed && r == PT_FEED_RELEASE)
        why = REL_RELEASE;
    else if (!s->host.failed && r == PT_FEED_VIOLATION)
        why = REL_VIOLATION;
    release(d, s, why, ts);
    return false;
}

static bool gap(pt_dispatch *d, dstream *s, pt_dir dir, uint64_t missing, const pt_time *ts)
{
    s->plugin->desc.stream_gap(s->pstate, dir, missing, ts);
    if (!s->host.failed)
        return true;
    release(d, s, REL_MISBEHAVED, ts);
    return false;
}

/* Open the plugin's state; false when it declined (the stream stays tcp-only). */
static bool open_with(pt_dispatch *d, dstream *s, pt_plugin_ref *p, const pt_time *ts)
{
    s->plugin = p;
    s->host.plugin = p;
    s->pstate = p->desc.stream_open(p->state, &s->host);
    if (!s->pstate || s->host.failed) {
        if (s->pstate)
            release(d, s, REL_MISBEHAVED, ts);
        p->declined++;
        d->stats.declined++;
        s->state = DS_TCP_ONLY;
        s->host.plugin = NULL;
        return false;
    }
    p->streams++;
    s->state = DS_ACTIVE;
    return true;
}

static void give_up(pt_dispatch *d, dstream *s)
{
    d->stats.unclaimed++;
    s->state = DS_TCP_ONLY;
    drop_buffers(d, s);
}

/* A probe chose plugin p: open it, replay the log, then the current chunk (data may be
 * NULL for a gap of `missing` bytes). */
static void claim(pt_dispatch *d, dstream *s, pt_plugin_ref *p, pt_dir dir, const uint8_t *data,
                  size_t len, const pt_time *ts)
{
    d->stats.by_probe++;
    if (!open_with(d, s, p, ts)) {
        drop_buffers(d, s);
        return;
    }
    bool alive = true;
    for (unsigned i = 0; i < s->n_log && alive; i++) {
        const probe_rec *r = &s->log[i];
        if (r->gap)
            alive = gap(d, s, (pt_dir)r->dir, r->len, &r->ts);
        else
            alive = feed(d, s, (pt_dir)r->dir, s->buf[r->dir] + r->off, (size_t)r->len, &r->ts);
    }
    drop_buffers(d, s);
    if (alive && data && len)
        feed(d, s, dir, data, len, ts);
}

/* Ask every plugin that has not said no for this direction about view[0..n). Returns the
 * first that says yes; NULL otherwise. A plugin is out of the running once it said no for
 * both directions (s->alive counts the others): like Suricata's probing parsers, either
 * direction may identify the protocol, e.g. a reply when the request was not recognised. */
static pt_plugin_ref *run_probes(pt_dispatch *d, dstream *s, pt_dir dir, const uint8_t *view,
                                 size_t n)
{
    uint8_t bit = (uint8_t)(1u << dir);
    if (n == 0)
        return NULL; /* probes are never asked about nothing */
    for (unsigned i = 0; i < d->n_plugins; i++) {
        if (s->refused[i] & bit)
            continue;
        pt_plugin_ref *p = d->plugins[i];
        pt_probe_result r = p->desc.probe(dir, view, n);
        if (r == PT_PROBE_YES)
            return p;
        if (r == PT_PROBE_NEED_MORE)
            continue;
        if (r != PT_PROBE_NO) {
            p->misbehaved++;
            d->stats.misbehaved++;
        }
        s->refused[i] |= bit;
        if (s->refused[i] == 3)
            s->alive--;
    }
    return NULL;
}

/* Append a log entry (merging with the previous one of the same direction); false when the
 * log is full. */
static bool log_add(pt_dispatch *d, dstream *s, pt_dir dir, bool is_gap, size_t off, uint64_t len)
{
    if (s->n_log && !is_gap) {
        probe_rec *last = &s->log[s->n_log - 1];
        if (!last->gap && last->dir == dir && last->off + last->len == off) {
            last->len += len;
            return true;
        }
    }
    if (s->n_log >= d->max_log)
        return false;
    s->log[s->n_log++] = (probe_rec){.dir = (uint8_t)dir, .gap = is_gap, .off = off, .len = len};
    return true;
}

static void probe_data(pt_dispatch *d, dstream *s, pt_dir dir, const uint8_t *data, size_t len,
                       const pt_time *ts)
{
    size_t max = d->probe_max_bytes;
    size_t have = s->len[dir] - s->probe_off[dir]; /* probed bytes of this direction so far */
    pt_plugin_ref *yes;
    if (have == 0) {
        /* Nothing pending: probe the chunk where it lies. */
        yes = run_probes(d, s, dir, data,
                         len < max - s->probe_off[dir] ? len : max - s->probe_off[dir]);
    } else {
        size_t room = max - s->len[dir];
        size_t n = len < room ? len : room;
        memcpy(s->buf[dir] + s->len[dir], data, n);
        yes = run_probes(d, s, dir, s->buf[dir] + s->probe_off[dir], have + n);
    }
    if (yes) {
        claim(d, s, yes, dir, data, len, ts);
        return;
    }
    if (s->alive == 0 || len > max - s->len[dir]) {
        give_up(d, s);
        return;
    }
    /* Everyone left needs more: keep the chunk for the next probe and the replay. */
    if (!s->buf[dir] && !(s->buf[dir] = buf_alloc(d))) {
        d->stats.probe_memory_full++;
        give_up(d, s);
        return;
    }
    if (have == 0)
        memcpy(s->buf[dir] + s->len[dir], data, len);
    if (!log_add(d, s, dir, false, s->len[dir], len)) {
        give_up(d, s);
        return;
    }
    /* A merged entry carries the time its last bytes arrived. */
    s->log[s->n_log - 1].ts = *ts;
    s->len[dir] += len;
    d->stats.probe_bytes_copied += len;
}

static void on_start(void *ctx, pt_flow *f, const pt_time *ts)
{
    pt_dispatch *d = ctx;
    void **slot = pt_flow_user(f);
    if (*slot)
        return;
    const pt_flow_info *info = pt_flow_get_info(f);
    dstream *s = stream_alloc(d);
    s->host.client = &info->client;
    s->host.server = &info->server;
    s->host.id = info->id;
    s->host.bus = d->bus;
    s->alive = d->n_plugins;
    *slot = s;
    d->stats.streams++;
    uint16_t owner = d->owner[info->server.port];
    if (owner != NO_OWNER) {
        d->stats.by_port++;
        open_with(d, s, d->plugins[owner], ts);
    } else if (d->n_plugins == 0) {
        s->state = DS_TCP_ONLY;
    } else {
        s->state = DS_PROBING;
    }
}

static void on_data(void *ctx, pt_flow *f, pt_dir dir, const uint8_t *data, size_t len,
                    const pt_time *ts)
{
    pt_dispatch *d = ctx;
    if (d->n_plugins == 0)
        return; /* every stream is DS_TCP_ONLY: skip the per-chunk stream lookup */
    dstream *s = *pt_flow_user(f);
    if (!s || len == 0 || !data || (dir != PT_DIR_TO_SERVER && dir != PT_DIR_TO_CLIENT))
        return;
    if (s->state == DS_ACTIVE)
        feed(d, s, dir, data, len, ts);
    else if (s->state == DS_PROBING)
        probe_data(d, s, dir, data, len, ts);
}

static void on_gap(void *ctx, pt_flow *f, pt_dir dir, uint64_t missing, const pt_time *ts)
{
    pt_dispatch *d = ctx;
    dstream *s = *pt_flow_user(f);
    if (!s || (dir != PT_DIR_TO_SERVER && dir != PT_DIR_TO_CLIENT))
        return;
    if (s->state == DS_ACTIVE) {
        gap(d, s, dir, missing, ts);
    } else if (s->state == DS_PROBING) {
        /* Later probes of this direction start after the hole; the replay keeps the gap. */
        if (!log_add(d, s, dir, true, s->len[dir], missing)) {
            give_up(d, s);
            return;
        }
        s->log[s->n_log - 1].ts = *ts;
        s->probe_off[dir] = s->len[dir];
    }
}

static void on_end(void *ctx, pt_flow *f, pt_close_reason why, const pt_time *ts)
{
    pt_dispatch *d = ctx;
    void **slot = pt_flow_user(f);
    dstream *s = *slot;
    if (!s)
        return;
    if (s->state == DS_ACTIVE) {
        s->plugin->desc.stream_close(s->pstate, why, ts);
        s->host.closed = true;
    } else if (s->state == DS_PROBING) {
        d->stats.unclaimed++;
    }
    *slot = NULL;
    stream_release_mem(d, s);
}

static bool is_server_port(void *ctx, uint16_t port)
{
    return pt_dispatch_is_server_port(ctx, port);
}

void pt_dispatch_consumer(pt_dispatch *d, pt_tcp_consumer *out)
{
    memset(out, 0, sizeof *out);
    out->ctx = d;
    out->on_start = on_start;
    out->on_data = on_data;
    out->on_gap = on_gap;
    out->on_end = on_end;
    out->is_server_port = is_server_port;
}

pt_events *pt_dispatch_events(pt_dispatch *d)
{
    return d->bus;
}

pt_plugin_set *pt_dispatch_plugins(pt_dispatch *d)
{
    return d->set;
}

void pt_dispatch_get_stats(const pt_dispatch *d, pt_dispatch_stats *out)
{
    *out = d->stats;
}

void pt_dispatch_report(const pt_dispatch *d, FILE *out)
{
    pt_events_finish(d->bus);
    for (unsigned i = 0; i < d->n_plugins; i++) {
        const pt_plugin_ref *p = d->plugins[i];
        if (p->violations || p->misbehaved)
            fprintf(out,
                    "pcaptrace: plugin %s: %" G_GUINT64_FORMAT " streams, %" G_GUINT64_FORMAT
                    " given up on protocol violations, %" G_GUINT64_FORMAT " on plugin errors\n",
                    p->desc.name, p->streams, p->violations, p->misbehaved);
    }
    pt_events_report(d->bus, out);
}

void pt_dispatch_free(pt_dispatch *d)
{
    if (!d)
        return;
    while (d->free_streams) {
        dstream *s = d->free_streams;
        d->free_streams = s->next_free;
        g_free(s);
    }
    g_ptr_array_unref(d->free_bufs);
    if (d->own_bus)
        pt_events_free(d->bus);
    pt_plugin_loader_free(d->set);
    g_free(d);
}

/* --- setup from the command line and the config file --- */

const GOptionEntry *pt_dispatch_option_entries(pt_dispatch_config *cfg)
{
    static GOptionEntry e[12];
    GOptionEntry v[] = {
        {"plugin", 0, 0, G_OPTION_ARG_STRING_ARRAY, &cfg->loader.plugins,
         "Load only this plugin (name or .so path; repeatable); 'none' for tcp events only",
         "NAME|PATH"},
        {"plugin-dir", 0, 0, G_OPTION_ARG_FILENAME, &cfg->loader.plugin_dir,
         "Search plugins here first (colon-separated list)", "DIR"},
        {"list-plugins", 0, 0, G_OPTION_ARG_NONE, &cfg->loader.list_plugins,
         "List the plugins found and exit", NULL},
        {"plugin-opt", 0, 0, G_OPTION_ARG_STRING_ARRAY, &cfg->options.plugin_opts,
         "Set a plugin option, e.g. redis.max_arg_bytes=64 (repeatable)", "NAME.KEY=VALUE"},
        {"config", 0, 0, G_OPTION_ARG_FILENAME, &cfg->options.config_file,
         "Read plugin, sink and dispatch settings from this key file", "FILE"},
        {"port", 0, 0, G_OPTION_ARG_STRING_ARRAY, &cfg->options.ports,
         "Add server ports to a plugin, e.g. redis=6380,7000-7005 (repeatable)", "NAME=PORTS"},
        {"probe-max-bytes", 0, 0, G_OPTION_ARG_INT64, &cfg->probe_max_bytes,
         "Bytes per direction to detect the protocol of a stream on an unknown port "
         "(default 4096)",
         "N"},
        {"probe-max-turns", 0, 0, G_OPTION_ARG_INT64, &cfg->probe_max_turns,
         "Direction changes while the protocol is undecided (default 16)", "N"},
        {"probe-memory", 0, 0, G_OPTION_ARG_INT64, &cfg->probe_memory,
         "Bytes all undecided streams may buffer together (default 64 MiB)", "N"},
        {"plugin-log-lines", 0, 0, G_OPTION_ARG_INT64, &cfg->plugin_log_lines,
         "Log lines printed per plugin before they are only counted (default 100)", "N"},
        {"plugin-debug", 0, 0, G_OPTION_ARG_NONE, &cfg->plugin_debug,
         "Print the plugins' info and debug log messages", NULL},
        {NULL, 0, 0, 0, NULL, NULL, NULL},
    };
    G_STATIC_ASSERT(sizeof v == sizeof e);
    memcpy(e, v, sizeof e);
    return e;
}

/* The limits: defaults, then the [dispatch] section, then the command line. */
static bool read_limits(const pt_dispatch_config *cfg, GKeyFile *kf, pt_dispatch_limits *lim,
                        pt_plugin_host_limits *hl, GError **error)
{
    struct {
        const char *key, *option;
        int64_t value, min, max;
        gint64 cli;
    } k[] = {
        {"probe_max_bytes", "--probe-max-bytes", PT_DISPATCH_PROBE_MAX_BYTES_DEFAULT, 1,
         PT_DISPATCH_PROBE_MAX_BYTES_MAX, cfg->probe_max_bytes},
        {"probe_max_turns", "--probe-max-turns", PT_DISPATCH_PROBE_MAX_TURNS_DEFAULT, 1, 4096,
         cfg->probe_max_turns},
        {"probe_memory", "--probe-memory", PT_DISPATCH_PROBE_MEMORY_DEFAULT, 1, INT64_C(1) << 40,
         cfg->probe_memory},
        {"plugin_log_lines", "--plugin-log-lines", PT_HOST_LOG_LINES_DEFAULT, 1, UINT32_MAX,
         cfg->plugin_log_lines},
        {"event_max_fields", NULL, PT_HOST_MAX_FIELDS_DEFAULT, 1, 65536, 0},
        {"event_max_shapes", NULL, PT_HOST_MAX_SHAPES_DEFAULT, 1, 1 << 20, 0},
    };
    if (kf && g_key_file_has_group(kf, "dispatch")) {
        g_auto(GStrv) keys = g_key_file_get_keys(kf, "dispatch", NULL, NULL);
        for (char **key = keys; key && *key; key++) {
            bool known = false;
            for (size_t i = 0; i < G_N_ELEMENTS(k); i++)
                known |= strcmp(*key, k[i].key) == 0;
            if (!known) {
                g_set_error(error, PT_DISPATCH_ERROR, 1,
                            "[dispatch]: unknown key '%s' (known: probe_max_bytes, "
                            "probe_max_turns, probe_memory, plugin_log_lines, event_max_fields, "
                            "event_max_shapes)",
                            *key);
                return false;
            }
        }
        for (size_t i = 0; i < G_N_ELEMENTS(k); i++)
            if (!pt_options_file_int(kf, "dispatch", k[i].key, k[i].min, k[i].max, &k[i].value,
                                     error))
                return false;
    }
    for (size_t i = 0; i < G_N_ELEMENTS(k); i++) {
        if (!k[i].cli)
            continue;
        if (k[i].cli < k[i].min || k[i].cli > k[i].max) {
            g_set_error(error, PT_DISPATCH_ERROR, 1,
                        "%s must be between %" G_GINT64_FORMAT " and %" G_GINT64_FORMAT,
                        k[i].option, k[i].min, k[i].max);
            return false;
        }
        k[i].value = k[i].cli;
    }
    lim->probe_max_bytes = (size_t)k[0].value;
    lim->probe_max_turns = (unsigned)k[1].value;
    lim->probe_memory = (size_t)k[2].value;
    hl->log_lines = (uint32_t)k[3].value;
    hl->max_fields = (uint32_t)k[4].value;
    hl->max_shapes = (uint32_t)k[5].value;
    hl->log_level = cfg->plugin_debug ? PT_LOG_DEBUG : PT_LOG_WARNING;
    return true;
}

pt_dispatch *pt_dispatch_setup(const pt_dispatch_config *cfg, const pt_events_config *ecfg,
                               GError **error)
{
    pt_dispatch_config none = {0};
    if (!cfg)
        cfg = &none;
    GKeyFile *kf = NULL;
    pt_plugin_set *set = NULL;
    pt_events *bus = NULL;
    if (cfg->options.config_file) {
        kf = pt_options_load_file(cfg->options.config_file, error);
        if (!kf)
            return NULL;
    }
    pt_dispatch_limits lim;
    pt_plugin_host_limits hl;
    if (!read_limits(cfg, kf, &lim, &hl, error))
        goto fail;
    set = pt_plugin_loader_load(&cfg->loader, NULL, NULL, error);
    if (!set)
        goto fail;
    if (!pt_options_apply(set, &cfg->options, kf, error))
        goto fail;
    bus = pt_events_new(ecfg, kf, error);
    if (!bus)
        goto fail;
    pt_plugin_host_set_limits(&hl);
    guint selected = set->plugins->len;
    pt_plugin_loader_init(set, pt_plugin_host_get());
    /* A plugin the user asked for by name that cannot start (its init() refused the options
     * given) is a setup error, like an unknown option key: going on without it would trace
     * nothing the user wanted. Without --plugin, a refused plugin is only reported. */
    if (cfg->loader.plugins && set->plugins->len < selected) {
        g_set_error(error, PT_DISPATCH_ERROR, 1,
                    "a plugin selected with --plugin could not start (see the line above)");
        goto fail;
    }
    if (kf)
        g_key_file_free(kf);
    return pt_dispatch_new(set, bus, true, &lim);
fail:
    pt_events_free(bus);
    pt_plugin_loader_free(set);
    if (kf)
        g_key_file_free(kf);
    return NULL;
}

bool pt_dispatch_list_plugins(const pt_dispatch_config *cfg, FILE *out, GError **error)
{
    pt_plugin_set *set = pt_plugin_loader_load(&cfg->loader, NULL, NULL, error);
    if (!set)
        return false;
    pt_plugin_loader_list(set, out);
    pt_plugin_loader_free(set);
    return true;
}
