/* options.c — plugin option values (--plugin-opt NAME.KEY=VALUE, [plugin NAME] sections of
 * the --config key file), server ports (--port NAME=PORTS, `ports` keys) and the helpers
 * the bus and the dispatcher use to read their own config sections. */
#include "options.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "plugin_loader.h"

#define PT_OPTIONS_ERROR (pt_options_error_quark())
static GQuark pt_options_error_quark(void)
{
    return g_quark_from_static_string("pt-options-error");
}

struct pt_options {
    char *plugin;
    const pt_option_spec *spec;
    size_t n;
    char **values; /* n entries; NULL = not set (the spec default applies) */
};

pt_options *pt_options_new(const char *plugin, const pt_option_spec *spec)
{
    pt_options *o = g_new0(pt_options, 1);
    o->plugin = g_strdup(plugin);
    o->spec = spec;
    while (spec && spec[o->n].key)
        o->n++;
    o->values = g_new0(char *, o->n + 1);
    return o;
}

void pt_options_free(pt_options *o)
{
    if (!o)
        return;
    for (size_t i = 0; i < o->n; i++)
        g_free(o->values[i]);
    g_free(o->values);
    g_free(o->plugin);
    g_free(o);
}

static long find_key(const pt_options *o, const char *key)
{
    if (!o || !key)
        return -1;
    for (size_t i = 0; i < o->n; i++)
        if (strcmp(o->spec[i].key, key) == 0)
            return (long)i;
    return -1;
}

static char *known_keys(const pt_options *o)
{
    GString *s = g_string_new(NULL);
    for (size_t i = 0; i < o->n; i++)
        g_string_append_printf(s, "%s%s", i ? ", " : "", o->spec[i].key);
    if (o->n == 0)
        g_string_append(s, "none");
    return g_string_free(s, FALSE);
}

bool pt_options_set(pt_options *o, const char *key, const char *value, GError **error)
{
    long i = find_key(o, key);
    if (i < 0) {
        g_autofree char *keys = known_keys(o);
        g_set_error(error, PT_OPTIONS_ERROR, 1, "plugin %s has no option '%s' (options: %s)",
                    o->plugin, key, keys);
        return false;
    }
    if (strlen(value) > PT_OPTIONS_MAX_VALUE_BYTES) {
        g_set_error(error, PT_OPTIONS_ERROR, 1, "option %s.%s: value longer than %d bytes",
                    o->plugin, key, PT_OPTIONS_MAX_VALUE_BYTES);
        return false;
    }
    g_free(o->values[i]);
    o->values[i] = g_strdup(value);
    return true;
}

const char *pt_options_get(const pt_options *o, const char *key)
{
    long i = find_key(o, key);
    if (i < 0)
        return NULL;
    return o->values[i] ? o->values[i] : o->spec[i].default_value;
}

int64_t pt_options_get_int(const pt_options *o, const char *key, int64_t fallback)
{
    const char *v = pt_options_get(o, key);
    if (!v || !*v)
        return fallback;
    char *end;
    errno = 0;
    long long x = strtoll(v, &end, 0);
    if (errno || *end != '\0')
        return fallback;
    return (int64_t)x;
}

bool pt_options_get_bool(const pt_options *o, const char *key, bool fallback)
{
    const char *v = pt_options_get(o, key);
    if (!v)
        return fallback;
    static const char *const yes[] = {"1", "true", "yes", "on", NULL};
    static const char *const no[] = {"0", "false", "no", "off", NULL};
    for (const char *const *p = yes; *p; p++)
        if (g_ascii_strcasecmp(v, *p) == 0)
            return true;
    for (const char *const *p = no; *p; p++)
        if (g_ascii_strcasecmp(v, *p) == 0)
            return false;
    return fallback;
}

static bool parse_port(const char *s, size_t n, uint16_t *out)
{
    if (n == 0 || n > 5)
        return false;
    unsigned v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    if (v < 1 || v > 65535)
        return false;
    *out = (uint16_t)v;
    return true;
}

bool pt_options_parse_ports(const char *text, GArray *out, GError **error)
{
    const char *p = text;
    if (!*p)
        goto bad;
    for (;;) {
        size_t n = strcspn(p, ",");
        const char *dash = memchr(p, '-', n);
        uint16_t lo, hi;
        if (dash) {
            if (!parse_port(p, (size_t)(dash - p), &lo) ||
                !parse_port(dash + 1, n - (size_t)(dash - p) - 1, &hi) || hi < lo)
                goto bad;
        } else {
            if (!parse_port(p, n, &lo))
                goto bad;
            hi = lo;
        }
        for (unsigned port = lo; port <= hi; port++) {
            uint16_t v = (uint16_t)port;
            g_array_append_val(out, v);
        }
        if (p[n] == '\0')
            return true;
        p += n + 1;
    }
bad:
    g_set_error(error, PT_OPTIONS_ERROR, 1,
                "bad port list '%s': expected ports 1-65535 and ranges, e.g. 6380,7000-7005", text);
    return false;
}

static bool valid_name(const char *s, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!g_ascii_islower(s[i]) && !g_ascii_isdigit(s[i]) && s[i] != '_')
            return false;
    return true;
}

bool pt_options_split_plugin_opt(const char *arg, char **plugin, char **key, char **value,
                                 GError **error)
{
    const char *dot = strchr(arg, '.');
    const char *eq = strchr(arg, '=');
    if (!dot || !eq || eq < dot || !valid_name(arg, (size_t)(dot - arg)) || eq == dot + 1) {
        g_set_error(error, PT_OPTIONS_ERROR, 1,
                    "bad --plugin-opt '%s': expected NAME.KEY=VALUE, e.g. redis.max_arg_bytes=64",
                    arg);
        return false;
    }
    *plugin = g_strndup(arg, (gsize)(dot - arg));
    *key = g_strndup(dot + 1, (gsize)(eq - dot - 1));
    *value = g_strdup(eq + 1);
    return true;
}

bool pt_options_split_port_arg(const char *arg, char **plugin, const char **ports, GError **error)
{
    const char *eq = strchr(arg, '=');
    if (!eq || !valid_name(arg, (size_t)(eq - arg))) {
        g_set_error(error, PT_OPTIONS_ERROR, 1,
                    "bad --port '%s': expected NAME=PORTS, e.g. redis=6380,7000-7005", arg);
        return false;
    }
    *plugin = g_strndup(arg, (gsize)(eq - arg));
    *ports = eq + 1;
    return true;
}

GKeyFile *pt_options_load_file(const char *path, GError **error)
{
    GKeyFile *kf = g_key_file_new();
    GError *e = NULL;
    if (!g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, &e)) {
        g_set_error(error, PT_OPTIONS_ERROR, 1, "config file %s: %s", path, e->message);
        g_error_free(e);
        g_key_file_free(kf);
        return NULL;
    }
    return kf;
}

pt_options_group_kind pt_options_group_classify(const char *group, const char **name)
{
    if (g_str_has_prefix(group, "sink ")) {
        *name = group + 5;
        return PT_OPTIONS_GROUP_SINK;
    }
    if (strcmp(group, "dispatch") == 0) {
        *name = group;
        return PT_OPTIONS_GROUP_DISPATCH;
    }
    *name = g_str_has_prefix(group, "plugin ") ? group + 7 : group;
    return PT_OPTIONS_GROUP_PLUGIN;
}

bool pt_options_file_int(GKeyFile *kf, const char *group, const char *key, int64_t min, int64_t max,
                         int64_t *out, GError **error)
{
    if (!g_key_file_has_key(kf, group, key, NULL))
        return true;
    g_autofree char *v = g_key_file_get_string(kf, group, key, NULL);
    char *end;
    errno = 0;
    long long x = v ? strtoll(v, &end, 0) : 0;
    if (!v || !*v || errno || *end != '\0' || x < min || x > max) {
        g_set_error(error, PT_OPTIONS_ERROR, 1,
                    "[%s] %s: '%s' is not a number between %" G_GINT64_FORMAT
                    " and %" G_GINT64_FORMAT,
                    group, key, v ? v : "", min, max);
        return false;
    }
    *out = (int64_t)x;
    return true;
}

/* Add ports to a plugin, "NAME=..." text already split. */
static bool add_ports(pt_plugin_ref *ref, const char *text, GError **error)
{
    GError *e = NULL;
    if (!pt_options_parse_ports(text, ref->ports, &e)) {
        g_set_error(error, PT_OPTIONS_ERROR, 1, "plugin %s: %s", ref->desc.name, e->message);
        g_error_free(e);
        return false;
    }
    return true;
}

static bool unknown_plugin(const pt_plugin_set *set, const char *name, const char *where,
                           GError **error)
{
    if (pt_plugin_loader_exists(set, name))
        g_set_error(error, PT_OPTIONS_ERROR, 1, "%s: plugin %s is not loaded (see --plugin)", where,
                    name);
    else
        g_set_error(error, PT_OPTIONS_ERROR, 1, "%s: no plugin named %s (see --list-plugins)",
                    where, name);
    return false;
}

/* Apply one [plugin NAME] section. */
static bool apply_section(pt_plugin_set *set, GKeyFile *kf, const char *group, const char *name,
                          GError **error)
{
    pt_plugin_ref *ref = pt_plugin_loader_find(set, name);
    if (!ref) {
        /* A section for an installed plugin that was not selected is fine. */
        if (pt_plugin_loader_exists(set, name) || strcmp(name, "tcp") == 0)
            return true;
        g_autofree char *where = g_strdup_printf("config section [%s]", group);
        return unknown_plugin(set, name, where, error);
    }
    gsize n = 0;
    g_auto(GStrv) keys = g_key_file_get_keys(kf, group, &n, NULL);
    for (gsize i = 0; i < n; i++) {
        g_autofree char *v = g_key_file_get_string(kf, group, keys[i], NULL);
        if (!v)
            v = g_strdup("");
        GError *e = NULL;
        bool ok = strcmp(keys[i], PT_OPTIONS_PORTS_KEY) == 0
                      ? add_ports(ref, v, &e)
                      : pt_options_set(ref->options, keys[i], v, &e);
        if (!ok) {
            g_set_error(error, PT_OPTIONS_ERROR, 1, "config [%s]: %s", group, e->message);
            g_error_free(e);
            return false;
        }
    }
    return true;
}

bool pt_options_apply(pt_plugin_set *set, const pt_options_config *cfg, GKeyFile *kf,
                      GError **error)
{
    for (guint i = 0; i < set->plugins->len; i++) {
        pt_plugin_ref *ref = g_ptr_array_index(set->plugins, i);
        if (!ref->options)
            ref->options = pt_options_new(ref->desc.name, ref->desc.options);
    }
    /* Config file first, so the command line wins. */
    if (kf) {
        g_auto(GStrv) groups = g_key_file_get_groups(kf, NULL);
        for (char **g = groups; *g; g++) {
            const char *name;
            if (pt_options_group_classify(*g, &name) != PT_OPTIONS_GROUP_PLUGIN)
                continue;
            if (!apply_section(set, kf, *g, name, error))
                return false;
        }
    }
    for (char **a = cfg ? cfg->plugin_opts : NULL; a && *a; a++) {
        g_autofree char *plugin = NULL, *key = NULL, *value = NULL;
        if (!pt_options_split_plugin_opt(*a, &plugin, &key, &value, error))
            return false;
        pt_plugin_ref *ref = pt_plugin_loader_find(set, plugin);
        if (!ref)
            return unknown_plugin(set, plugin, "--plugin-opt", error);
        if (!pt_options_set(ref->options, key, value, error))
            return false;
    }
    for (char **a = cfg ? cfg->ports : NULL; a && *a; a++) {
        g_autofree char *plugin = NULL;
        const char *ports;
        if (!pt_options_split_port_arg(*a, &plugin, &ports, error))
            return false;
        pt_plugin_ref *ref = pt_plugin_loader_find(set, plugin);
        if (!ref)
            return unknown_plugin(set, plugin, "--port", error);
        if (!add_ports(ref, ports, error))
            return false;
    }
    return true;
}
