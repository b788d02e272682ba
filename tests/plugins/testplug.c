/* testplug.c — small plugins for the loader tests, one per TP_* variant macro: good ones
 * (alpha, beta) and deliberately broken ones (other ABI, short struct, NULL callback,
 * duplicate name, no entry point, NULL descriptor, missing library dependency). */
#include <stdlib.h>
#include <string.h>

#include <pcaptrace/plugin.h>

#ifdef TP_MISSINGLIB
int ptgone_answer(void);
#endif

static const pt_host *host;

static pt_probe_result tp_probe(pt_dir dir, const uint8_t *data, size_t len)
{
#ifdef TP_MISSINGLIB
    if (ptgone_answer() != 42)
        return PT_PROBE_NO;
#endif
    return len >= 5 && memcmp(data, "ALPHA", 5) == 0 ? PT_PROBE_YES : PT_PROBE_NO;
}

static char *dup_msg(const char *m)
{
    char *s = malloc(strlen(m) + 1);
    if (s)
        strcpy(s, m);
    return s;
}

/* Validates its options like a real plugin: a bad value makes init fail. */
/* Unused by some variants. */
#define TP_MAYBE_UNUSED __attribute__((unused))

TP_MAYBE_UNUSED static void *tp_init(const pt_host *h, const pt_options *o, char **error)
{
    host = h;
    int64_t max_line = h->option_int(o, "max_line", -1);
    if (max_line < 1 || max_line > 4096) {
        *error = dup_msg("max_line must be a number from 1 to 4096");
        return NULL;
    }
    if (h->option_bool(o, "fail_init", false)) {
        *error = dup_msg("asked to fail by fail_init");
        return NULL;
    }
    return (void *)host;
}

static void *tp_open(void *plugin_state, pt_stream *s)
{
    return s;
}

static pt_feed_result tp_data(void *state, pt_dir dir, const uint8_t *data, size_t len,
                              const pt_time *ts)
{
    pt_field f[] = {PT_F_STR("line", PT_SPAN(data, len))};
    host->emit(state, "line", ts, f, 1);
    return PT_FEED_OK;
}

TP_MAYBE_UNUSED static void tp_gap(void *state, pt_dir dir, uint64_t missing, const pt_time *ts)
{
}

static void tp_close(void *state, pt_close_reason why, const pt_time *ts)
{
}

TP_MAYBE_UNUSED static const uint16_t tp_ports[] = {17001, 17002, 0};
TP_MAYBE_UNUSED static const pt_option_spec tp_options[] = {
    {"max_line", "64", "longest line"},
    {"fail_init", "false", "make init fail (tests)"},
    {NULL, NULL, NULL},
};

#if defined(TP_BETA)
#define TP_NAME "beta"
#elif defined(TP_DUPNAME)
#define TP_NAME "alpha"
#elif defined(TP_MISSINGLIB)
#define TP_NAME "gone"
#else
#define TP_NAME "alpha"
#endif

static const pt_plugin descriptor = {
#ifdef TP_BADABI
    .abi_version = PT_PLUGIN_ABI + 98,
#else
    .abi_version = PT_PLUGIN_ABI,
#endif
#ifdef TP_SMALLSIZE
    .struct_size = 16,
#else
    .struct_size = sizeof(pt_plugin),
#endif
    .name = TP_NAME,
    .version = "1.2.3",
    .description = "loader test plugin " TP_NAME,
#ifndef TP_BETA
    .server_ports = tp_ports,
    .options = tp_options,
    .init = tp_init,
#endif
    .probe = tp_probe,
    .stream_open = tp_open,
    .stream_data = tp_data,
#ifndef TP_NULLCB
    .stream_gap = tp_gap,
#endif
    .stream_close = tp_close,
};

#if defined(TP_NOENTRY)
__attribute__((visibility("default"))) const pt_plugin *pt_plugin_entry_misspelt(void);
__attribute__((visibility("default"))) const pt_plugin *pt_plugin_entry_misspelt(void)
{
    return &descriptor;
}
#elif defined(TP_NULLENTRY)
__attribute__((visibility("default"))) const pt_plugin *pt_plugin_entry(void);
__attribute__((visibility("default"))) const pt_plugin *pt_plugin_entry(void)
{
    return descriptor.name ? NULL : &descriptor;
}
#else
PT_PLUGIN_EXPORT(descriptor)
#endif
