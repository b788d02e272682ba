/* options.h — plugin options: `--plugin-opt NAME.KEY=VALUE`, the `--config FILE` key file
 * (GKeyFile: `[plugin NAME]` or `[NAME]` per plugin, `[sink TYPE]` per sink, `[dispatch]`)
 * and `--port NAME=PORTS` server ports. Unknown plugins and unknown keys are errors. */
#ifndef PT_CORE_OPTIONS_H
#define PT_CORE_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>

#include <glib.h>

#include "pcaptrace/plugin.h"

/* Defaults of the limits enforced here. */
#define PT_OPTIONS_MAX_VALUE_BYTES 4096 /* longest option value accepted */

/* Key every plugin section accepts besides the plugin's own: its server ports, like --port. */
#define PT_OPTIONS_PORTS_KEY "ports"

typedef struct pt_options_config {
    char **plugin_opts; /* --plugin-opt NAME.KEY=VALUE, repeatable */
    char *config_file;  /* --config FILE */
    char **ports;       /* --port NAME=PORTS (e.g. redis=6380,7000-7005), repeatable */
} pt_options_config;

/* The option values of one plugin (the opaque pt_options of plugin.h). */
pt_options *pt_options_new(const char *plugin, const pt_option_spec *spec);
void pt_options_free(pt_options *o);
/* Set a value; an unknown key or an overlong value is an error naming the plugin. */
bool pt_options_set(pt_options *o, const char *key, const char *value, GError **error);
/* The value, else the spec's default; NULL for unset or unknown keys. */
const char *pt_options_get(const pt_options *o, const char *key);
/* Parsed values; `fallback` when unset or not parseable. */
int64_t pt_options_get_int(const pt_options *o, const char *key, int64_t fallback);
bool pt_options_get_bool(const pt_options *o, const char *key, bool fallback);

/* Parse "6380,7000-7005" (ports 1..65535, ranges inclusive) appending to `out` (uint16_t). */
bool pt_options_parse_ports(const char *text, GArray *out, GError **error);

/* Split "redis.max_arg_bytes=64" into newly allocated parts (g_free them). */
bool pt_options_split_plugin_opt(const char *arg, char **plugin, char **key, char **value,
                                 GError **error);
/* Split "redis=6380,7000" into the plugin name (g_free it) and the port list text. */
bool pt_options_split_port_arg(const char *arg, char **plugin, const char **ports, GError **error);

/* Load a config file. GError names the file and line on a syntax error. */
GKeyFile *pt_options_load_file(const char *path, GError **error);

/* What a config-file group is about. For PLUGIN, *name is the plugin name; for SINK, the rest
 * after "sink " (e.g. "json" or "json alerts"). */
typedef enum pt_options_group_kind {
    PT_OPTIONS_GROUP_PLUGIN,
    PT_OPTIONS_GROUP_SINK,
    PT_OPTIONS_GROUP_DISPATCH
} pt_options_group_kind;
pt_options_group_kind pt_options_group_classify(const char *group, const char **name);

/* Read an integer key of a config group with a range check; *out untouched when absent. */
bool pt_options_file_int(GKeyFile *kf, const char *group, const char *key, int64_t min, int64_t max,
                         int64_t *out, GError **error);

#endif
