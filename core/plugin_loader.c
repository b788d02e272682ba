/* plugin_loader.c — finds pcaptrace-*.so files, loads them with GModule
 * (G_MODULE_BIND_LOCAL, symbols resolved at load time), checks each descriptor (ABI version,
 * struct size, required callbacks, unique name) and runs init()/fini(). A bad plugin is refused
 * with one line naming the file and the reason, and never loaded half-way. */
#include "plugin_loader.h"
#include "plugin_shapes.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PT_LOADER_ERROR (pt_loader_error_quark())
static GQuark pt_loader_error_quark(void)
{
    return g_quark_from_static_string("pt-loader-error");
}

/* A default port list longer than this is treated as unterminated. */
#define PT_LOADER_MAX_DEFAULT_PORTS 1024

static void report_stderr(void *ctx, const char *line)
{
    g_printerr("%s\n", line);
}

static void refuse(pt_plugin_set *set, const char *file, const char *fmt, ...) G_GNUC_PRINTF(3, 4);
static void refuse(pt_plugin_set *set, const char *file, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *why = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    char *line = g_strdup_printf("pcaptrace: plugin %s refused: %s", file, why);
    g_ptr_array_add(set->refused, line);
    set->report(set->report_ctx, line);
}

static void split_into(GPtrArray *dirs, const char *list)
{
    if (!list)
        return;
    g_auto(GStrv) parts = g_strsplit(list, ":", -1);
    for (char **p = parts; *p; p++)
        if (**p)
            g_ptr_array_add(dirs, g_strdup(*p));
}

/* Whether the running program lives under the build tree that holds build_plugin_dir. */
static bool running_from_build_tree(const char *build_plugin_dir)
{
    g_autofree char *exe = g_file_read_link("/proc/self/exe", NULL);
    g_autofree char *root = g_path_get_dirname(build_plugin_dir);
    if (!exe)
        return false;
    char *real_root = realpath(root, NULL);
    if (!real_root)
        return false;
    size_t n = strlen(real_root);
    bool under = strncmp(exe, real_root, n) == 0 && exe[n] == '/';
    free(real_root);
    return under;
}

GPtrArray *pt_plugin_loader_search_dirs(const pt_loader_config *cfg)
{
    GPtrArray *dirs = g_ptr_array_new_with_free_func(g_free);
    split_into(dirs, cfg ? cfg->plugin_dir : NULL);
    split_into(dirs, g_getenv(PT_LOADER_PATH_ENV));
    if (cfg && cfg->build_plugin_dir && running_from_build_tree(cfg->build_plugin_dir))
        g_ptr_array_add(dirs, g_strdup(cfg->build_plugin_dir));
    if (cfg && cfg->install_plugin_dir)
        g_ptr_array_add(dirs, g_strdup(cfg->install_plugin_dir));
    return dirs;
}

static bool is_plugin_file_name(const char *base)
{
    return g_str_has_prefix(base, PT_LOADER_FILE_PREFIX) &&
           g_str_has_suffix(base, PT_LOADER_FILE_SUFFIX) &&
           strlen(base) > strlen(PT_LOADER_FILE_PREFIX) + strlen(PT_LOADER_FILE_SUFFIX);
}

static gint cmp_str(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Plugin files in dir and one level down (the build tree has plugins/<name>/pcaptrace-*.so),
 * sorted, skipping file names an earlier directory already provided. */
static void scan_dir(GPtrArray *files, GHashTable *seen, const char *dir, int depth)
{
    GDir *d = g_dir_open(dir, 0, NULL);
    if (!d)
        return;
    GPtrArray *here = g_ptr_array_new_with_free_func(g_free);
    GPtrArray *subdirs = g_ptr_array_new_with_free_func(g_free);
    const char *name;
    while ((name = g_dir_read_name(d))) {
        char *path = g_build_filename(dir, name, NULL);
        if (is_plugin_file_name(name) && g_file_test(path, G_FILE_TEST_IS_REGULAR))
            g_ptr_array_add(here, path);
        else if (depth == 0 && g_file_test(path, G_FILE_TEST_IS_DIR))
            g_ptr_array_add(subdirs, path);
        else
            g_free(path);
    }
    g_dir_close(d);
    g_ptr_array_sort(here, cmp_str);
    for (guint i = 0; i < here->len; i++) {
        const char *path = g_ptr_array_index(here, i);
        g_autofree char *base = g_path_get_basename(path);
        if (g_hash_table_contains(seen, base))
            continue;
        g_hash_table_add(seen, g_strdup(base));
        g_ptr_array_add(files, g_strdup(path));
    }
    g_ptr_array_sort(subdirs, cmp_str);
    for (guint i = 0; i < subdirs->len; i++)
        scan_dir(files, seen, g_ptr_array_index(subdirs, i), depth + 1);
    g_ptr_array_unref(here);
    g_ptr_array_unref(subdirs);
}

static void ref_free(gpointer p)
{
    pt_plugin_ref *ref = p;
    if (ref->initialized && ref->desc.fini)
        ref->desc.fini(ref->state);
    pt_options_free(ref->options);
    if (ref->ports)
        g_array_unref(ref->ports);
    if (ref->module)
        g_module_close(ref->module);
    g_free(ref->path);
    g_free(ref);
}

pt_plugin_set *pt_plugin_loader_new(const pt_loader_config *cfg, pt_loader_report_fn report,
                                    void *ctx)
{
    pt_plugin_set *set = g_new0(pt_plugin_set, 1);
    set->plugins = g_ptr_array_new_with_free_func(ref_free);
    set->search_dirs = pt_plugin_loader_search_dirs(cfg);
    set->refused = g_ptr_array_new_with_free_func(g_free);
    set->report = report ? report : report_stderr;
    set->report_ctx = ctx;
    return set;
}

/* The candidate files of the search path, scanned on demand. */
static GPtrArray *candidate_files(const pt_plugin_set *set)
{
    GPtrArray *files = g_ptr_array_new_with_free_func(g_free);
    GHashTable *seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    for (guint i = 0; i < set->search_dirs->len; i++)
        scan_dir(files, seen, g_ptr_array_index(set->search_dirs, i), 0);
    g_hash_table_unref(seen);
    return files;
}

/* The first file named pcaptrace-NAME.so on the search path (g_free it), or NULL. */
static char *find_file(const pt_plugin_set *set, const char *name)
{
    g_autofree char *want = g_strconcat(PT_LOADER_FILE_PREFIX, name, PT_LOADER_FILE_SUFFIX, NULL);
    GPtrArray *files = candidate_files(set);
    char *found = NULL;
    for (guint i = 0; i < files->len && !found; i++) {
        g_autofree char *base = g_path_get_basename(g_ptr_array_index(files, i));
        if (strcmp(base, want) == 0)
            found = g_strdup(g_ptr_array_index(files, i));
    }
    g_ptr_array_unref(files);
    return found;
}

bool pt_plugin_loader_exists(const pt_plugin_set *set, const char *name)
{
    g_autofree char *f = find_file(set, name);
    return f != NULL;
}

pt_plugin_ref *pt_plugin_loader_find(const pt_plugin_set *set, const char *name)
{
    for (guint i = 0; i < set->plugins->len; i++) {
        pt_plugin_ref *ref = g_ptr_array_index(set->plugins, i);
        if (strcmp(ref->desc.name, name) == 0)
            return ref;
    }
    return NULL;
}

static bool valid_plugin_name(const char *s)
{
    size_t n = strnlen(s, PT_LOADER_NAME_MAX + 1);
    if (n == 0 || n > PT_LOADER_NAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!g_ascii_islower(s[i]) && !g_ascii_isdigit(s[i]) && s[i] != '_')
            return false;
    return true;
}

/* Check a descriptor and add it; `module` is closed when refused. */
static bool add_checked(pt_plugin_set *set, const pt_plugin *p, const char *origin, GModule *module)
{
    if (p->abi_version != PT_PLUGIN_ABI) {
        refuse(set, origin, "built for plugin ABI %u, this pcaptrace speaks ABI %u", p->abi_version,
               (unsigned)PT_PLUGIN_ABI);
        goto fail;
    }
    if (p->struct_size < PT_LOADER_DESC_V1_SIZE) {
        refuse(set, origin,
               "descriptor struct_size %u is smaller than the ABI %u descriptor (%zu bytes)",
               p->struct_size, (unsigned)PT_PLUGIN_ABI, (size_t)PT_LOADER_DESC_V1_SIZE);
        goto fail;
    }
    pt_plugin d;
    memset(&d, 0, sizeof d);
    memcpy(&d, p, p->struct_size < sizeof d ? p->struct_size : sizeof d);
    if (!d.name || !valid_plugin_name(d.name)) {
        refuse(set, origin, "plugin name must be 1-%d characters of [a-z0-9_]", PT_LOADER_NAME_MAX);
        goto fail;
    }
    if (strcmp(d.name, "tcp") == 0 || strcmp(d.name, "none") == 0) {
        refuse(set, origin, "plugin name '%s' is reserved", d.name);
        goto fail;
    }
    const struct {
        const char *name;
        bool set;
    } required[] = {{"probe", d.probe != NULL},
                    {"stream_open", d.stream_open != NULL},
                    {"stream_data", d.stream_data != NULL},
                    {"stream_gap", d.stream_gap != NULL},
                    {"stream_close", d.stream_close != NULL}};
    for (size_t i = 0; i < G_N_ELEMENTS(required); i++) {
        if (!required[i].set) {
            refuse(set, origin, "plugin %s: required callback %s is NULL", d.name,
                   required[i].name);
            goto fail;
        }
    }
    pt_plugin_ref *dup = pt_plugin_loader_find(set, d.name);
    if (dup) {
        refuse(set, origin, "duplicate plugin name '%s' (already loaded from %s)", d.name,
               dup->path);
        goto fail;
    }
    if (set->plugins->len >= PT_LOADER_MAX_PLUGINS) {
        refuse(set, origin, "too many plugins (at most %d)", PT_LOADER_MAX_PLUGINS);
        goto fail;
    }
    if (!d.version)
        d.version = "?";
    if (!d.description)
        d.description = "";
    pt_plugin_ref *ref = g_new0(pt_plugin_ref, 1);
    ref->desc = d;
    ref->path = g_strdup(origin);
    ref->module = module;
    ref->index = set->plugins->len;
    ref->ports = g_array_new(FALSE, FALSE, sizeof(uint16_t));
    for (size_t i = 0; d.server_ports && i < PT_LOADER_MAX_DEFAULT_PORTS && d.server_ports[i]; i++)
        g_array_append_val(ref->ports, d.server_ports[i]);
    ref->n_default_ports = ref->ports->len;
    g_ptr_array_add(set->plugins, ref);
    return true;
fail:
    if (module)
        g_module_close(module);
    return false;
}

bool pt_plugin_loader_add(pt_plugin_set *set, const pt_plugin *desc, const char *origin)
{
    if (!desc) {
        refuse(set, origin, "no descriptor");
        return false;
    }
    return add_checked(set, desc, origin, NULL);
}

bool pt_plugin_loader_load_file(pt_plugin_set *set, const char *path)
{
    /* dlopen() searches the library path for names without a slash: keep it to this file. */
    g_autofree char *p = strchr(path, '/') ? g_strdup(path) : g_strconcat("./", path, NULL);
    GModule *m = g_module_open(p, G_MODULE_BIND_LOCAL);
    if (!m) {
        const char *err = g_module_error();
        if (!g_file_test(p, G_FILE_TEST_EXISTS))
            refuse(set, path, "no such file");
        else if (err && strstr(err, "cannot open shared object file"))
            refuse(set, path, "a library it needs is missing (%s); run `ldd %s`", err, p);
        else
            refuse(set, path, "cannot load: %s", err ? err : "unknown error");
        return false;
    }
    gpointer sym = NULL;
    if (!g_module_symbol(m, PT_PLUGIN_ENTRY_SYMBOL, &sym) || !sym) {
        refuse(set, path, "no entry point %s (not a pcaptrace plugin?)", PT_PLUGIN_ENTRY_SYMBOL);
        g_module_close(m);
        return false;
    }
    /* dlsym() gives an object pointer; ISO C has no cast to a function pointer for it. */
    pt_plugin_entry_fn entry;
    G_STATIC_ASSERT(sizeof entry == sizeof sym);
    memcpy(&entry, &sym, sizeof entry);
    const pt_plugin *desc = entry();
    if (!desc) {
        refuse(set, path, "%s returned NULL", PT_PLUGIN_ENTRY_SYMBOL);
        g_module_close(m);
        return false;
    }
    return add_checked(set, desc, path, m);
}

static bool looks_like_path(const char *s)
{
    return strchr(s, '/') || g_str_has_suffix(s, PT_LOADER_FILE_SUFFIX);
}

pt_plugin_set *pt_plugin_loader_load(const pt_loader_config *cfg, pt_loader_report_fn report,
                                     void *ctx, GError **error)
{
    pt_plugin_set *set = pt_plugin_loader_new(cfg, report, ctx);
    char **sel = cfg ? cfg->plugins : NULL;
    if (sel && *sel) {
        bool none = false;
        for (char **s = sel; *s; s++)
            none |= strcmp(*s, "none") == 0;
        if (none) {
            if (g_strv_length(sel) > 1) {
                g_set_error(error, PT_LOADER_ERROR, 1,
                            "--plugin none cannot be combined with other plugins");
                goto fail;
            }
            return set;
        }
        for (char **s = sel; *s; s++) {
            if (looks_like_path(*s)) {
                if (!g_file_test(*s, G_FILE_TEST_EXISTS)) {
                    g_set_error(error, PT_LOADER_ERROR, 1, "plugin file %s: no such file", *s);
                    goto fail;
                }
                pt_plugin_loader_load_file(set, *s);
                continue;
            }
            g_autofree char *file = find_file(set, *s);
            if (!file) {
                g_autofree char *dirs = NULL;
                g_ptr_array_add(set->search_dirs, NULL);
                dirs = g_strjoinv(":", (char **)set->search_dirs->pdata);
                g_ptr_array_remove_index(set->search_dirs, set->search_dirs->len - 1);
                g_set_error(error, PT_LOADER_ERROR, 1,
                            "no plugin named %s (looked for %s%s%s in %s; see --list-plugins)", *s,
                            PT_LOADER_FILE_PREFIX, *s, PT_LOADER_FILE_SUFFIX,
                            *dirs ? dirs : "no directories");
                goto fail;
            }
            if (pt_plugin_loader_find(set, *s))
                continue; /* named twice */
            pt_plugin_loader_load_file(set, file);
        }
        return set;
    }
    GPtrArray *files = candidate_files(set);
    for (guint i = 0; i < files->len; i++)
        pt_plugin_loader_load_file(set, g_ptr_array_index(files, i));
    g_ptr_array_unref(files);
    return set;
fail:
    pt_plugin_loader_free(set);
    return NULL;
}

void pt_plugin_loader_init(pt_plugin_set *set, const pt_host *host)
{
    for (guint i = 0; i < set->plugins->len;) {
        pt_plugin_ref *ref = g_ptr_array_index(set->plugins, i);
        if (!ref->options)
            ref->options = pt_options_new(ref->desc.name, ref->desc.options);
        if (!ref->initialized && ref->desc.init) {
            char *err = NULL;
            void *state = ref->desc.init(host, ref->options, &err);
            if (!state && err) {
                refuse(set, ref->path, "plugin %s: init failed: %s", ref->desc.name, err);
                free(err);
                g_ptr_array_remove_index(set->plugins, i);
                continue;
            }
            free(err);
            ref->state = state;
        }
        ref->initialized = true;
        i++;
    }
    for (guint i = 0; i < set->plugins->len; i++)
        ((pt_plugin_ref *)g_ptr_array_index(set->plugins, i))->index = i;
}

void pt_plugin_loader_list(const pt_plugin_set *set, FILE *out)
{
    if (set->plugins->len == 0) {
        fprintf(out, "no plugins found");
        for (guint i = 0; i < set->search_dirs->len; i++)
            fprintf(out, "%s%s", i ? ":" : " in ", (char *)g_ptr_array_index(set->search_dirs, i));
        fprintf(out, "\n");
        return;
    }
    /* Columns as wide as their longest cell. */
    GPtrArray *ports = g_ptr_array_new_with_free_func(g_free);
    int w_name = 4, w_ver = 7, w_ports = 5, w_desc = 11;
    for (guint i = 0; i < set->plugins->len; i++) {
        const pt_plugin_ref *ref = g_ptr_array_index(set->plugins, i);
        GString *p = g_string_new(NULL);
        for (guint k = 0; k < ref->ports->len; k++)
            g_string_append_printf(p, "%s%u", k ? "," : "", g_array_index(ref->ports, uint16_t, k));
        if (p->len == 0)
            g_string_append_c(p, '-');
        w_name = MAX(w_name, (int)strlen(ref->desc.name));
        w_ver = MAX(w_ver, (int)strlen(ref->desc.version));
        w_ports = MAX(w_ports, (int)p->len);
        w_desc = MAX(w_desc, (int)g_utf8_strlen(ref->desc.description, -1));
        g_ptr_array_add(ports, g_string_free(p, FALSE));
    }
    fprintf(out, "%-*s  %-*s  %-*s  %-*s  %s\n", w_name, "NAME", w_ver, "VERSION", w_ports, "PORTS",
            w_desc, "DESCRIPTION", "FILE");
    for (guint i = 0; i < set->plugins->len; i++) {
        const pt_plugin_ref *ref = g_ptr_array_index(set->plugins, i);
        int pad = w_desc - (int)g_utf8_strlen(ref->desc.description, -1);
        fprintf(out, "%-*s  %-*s  %-*s  %s%*s  %s\n", w_name, ref->desc.name, w_ver,
                ref->desc.version, w_ports, (char *)g_ptr_array_index(ports, i),
                ref->desc.description, pad, "", ref->path);
    }
    g_ptr_array_unref(ports);
}

void pt_plugin_loader_free(pt_plugin_set *set)
{
    if (!set)
        return;
    /* fini in reverse load order. */
    while (set->plugins->len)
        g_ptr_array_remove_index(set->plugins, set->plugins->len - 1);
    /* the shapes they declared name their literals: forgotten with them */
    pt_shapes_free();
    g_ptr_array_unref(set->plugins);
    g_ptr_array_unref(set->search_dirs);
    g_ptr_array_unref(set->refused);
    g_free(set);
}
