/* plugin_loader.h — finding, loading and checking protocol plugins (GModule,
 * G_MODULE_BIND_LOCAL) and their life cycle (init/fini). See include/pcaptrace/plugin.h. */
#ifndef PT_CORE_PLUGIN_LOADER_H
#define PT_CORE_PLUGIN_LOADER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <glib.h>
#include <gmodule.h>

#include "options.h"
#include "pcaptrace/plugin.h"

#define PT_LOADER_FILE_PREFIX "pcaptrace-"
#define PT_LOADER_FILE_SUFFIX ".so"
#define PT_LOADER_MAX_PLUGINS 256 /* plugins loaded at once */
#define PT_LOADER_NAME_MAX    32  /* longest plugin name */
#define PT_LOADER_PATH_ENV    "PCAPTRACE_PLUGIN_PATH"

/* The smallest descriptor the host accepts: ABI 1 up to and including format_text. */
#define PT_LOADER_DESC_V1_SIZE (offsetof(pt_plugin, format_text) + sizeof(void (*)(void)))

typedef struct pt_loader_config {
    char **plugins;        /* --plugin NAME|PATH|none, repeatable; NULL = every plugin found */
    char *plugin_dir;      /* --plugin-dir DIR[:DIR...], searched first */
    gboolean list_plugins; /* --list-plugins */
    /* Set by the program (not options): PT_BUILD_PLUGIN_DIR, searched only when the running
     * executable lives under its parent (the build tree), and PT_INSTALL_PLUGIN_DIR. */
    const char *build_plugin_dir;
    const char *install_plugin_dir;
} pt_loader_config;

/* One loaded plugin. */
typedef struct pt_plugin_ref {
    pt_plugin desc; /* copy of the descriptor, zero past its struct_size */
    char *path;     /* file, or "(builtin)" for pt_plugin_loader_add() */
    GModule *module;
    pt_options *options;
    void *state; /* init()'s result */
    bool initialized;
    unsigned index;        /* position in the set */
    GArray *ports;         /* uint16_t server ports: defaults, then --port and `ports` keys */
    guint n_default_ports; /* how many of `ports` are the descriptor's defaults */
    /* counters */
    uint64_t streams, declined, violations, releases, misbehaved, events, log_lines;
} pt_plugin_ref;

/* Receives each refusal line ("pcaptrace: plugin FILE refused: reason"). */
typedef void (*pt_loader_report_fn)(void *ctx, const char *line);

typedef struct pt_plugin_set {
    GPtrArray *plugins;     /* pt_plugin_ref *, in load order */
    GPtrArray *search_dirs; /* char *, in search order */
    GPtrArray *refused;     /* char *, the refusal lines */
    pt_loader_report_fn report;
    void *report_ctx;
} pt_plugin_set;

/* The directories searched, in order (g_ptr_array_unref it). */
GPtrArray *pt_plugin_loader_search_dirs(const pt_loader_config *cfg);

/* An empty set searching cfg's directories; report NULL = print to stderr. */
pt_plugin_set *pt_plugin_loader_new(const pt_loader_config *cfg, pt_loader_report_fn report,
                                    void *ctx);
/* Load what cfg selects (every plugin found, the named ones, or none). Bad plugins are
 * refused with one reported line each and skipped; a --plugin NAME that no directory has
 * is a GError. */
pt_plugin_set *pt_plugin_loader_load(const pt_loader_config *cfg, pt_loader_report_fn report,
                                     void *ctx, GError **error);
/* Load one file; false (and a reported line) when refused. */
bool pt_plugin_loader_load_file(pt_plugin_set *set, const char *path);
/* Add a descriptor linked into the program (tests, benchmarks); same checks. */
bool pt_plugin_loader_add(pt_plugin_set *set, const pt_plugin *desc, const char *origin);

pt_plugin_ref *pt_plugin_loader_find(const pt_plugin_set *set, const char *name);
/* Whether a plugin file of that name exists in the search directories (loaded or not). */
bool pt_plugin_loader_exists(const pt_plugin_set *set, const char *name);

/* Give plugins without options an empty pt_options, then call init() of each; a plugin whose
 * init fails is refused (reported, unloaded) and the rest go on. */
void pt_plugin_loader_init(pt_plugin_set *set, const pt_host *host);

/* Print name, version, description, default ports and file of each plugin. */
void pt_plugin_loader_list(const pt_plugin_set *set, FILE *out);

/* fini() each initialized plugin, close the modules, free. NULL is fine. */
void pt_plugin_loader_free(pt_plugin_set *set);

/* Apply --plugin-opt, --port and the plugin sections of the config file (may be NULL) to the
 * loaded plugins. Unknown plugins, unknown keys and bad values are errors; a config section
 * for a plugin that exists but was not selected is ignored. (Implemented in options.c.) */
bool pt_options_apply(pt_plugin_set *set, const pt_options_config *cfg, GKeyFile *kf,
                      GError **error);

#endif
