/* test_loader.c — plugin loader tests: search order, selection, every refusal reason (with
 * deliberately broken plugins built beside this test), options, ports and the config file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/Basic.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "dispatch.h"
#include "options.h"
#include "plugin_host.h"
#include "plugin_loader.h"

static const char *plugdir; /* where meson built the test plugins */
static GPtrArray *lines;    /* refusal lines reported */

static void collect(void *ctx, const char *line)
{
    g_ptr_array_add(lines, g_strdup(line));
}

static char *plugin_path(const char *name)
{
    return g_strdup_printf("%s/pcaptrace-%s.so", plugdir, name);
}

/* The one reported line that names `file`, or NULL (fails when there are several). */
static const char *line_for(const char *file)
{
    const char *found = NULL;
    int n = 0;
    for (guint i = 0; i < lines->len; i++) {
        const char *l = g_ptr_array_index(lines, i);
        if (strstr(l, file)) {
            found = l;
            n++;
        }
    }
    CU_ASSERT_EQUAL(n, found ? 1 : 0);
    return found;
}

static void check_refused(const char *variant, const char *reason)
{
    g_autofree char *file = plugin_path(variant);
    const char *l = line_for(file);
    CU_ASSERT_PTR_NOT_NULL_FATAL(l);
    CU_ASSERT_PTR_NOT_NULL(strstr(l, "refused"));
    if (!strstr(l, reason))
        fprintf(stderr, "\n  line '%s' lacks '%s'\n", l, reason);
    CU_ASSERT_PTR_NOT_NULL(strstr(l, reason));
}

static pt_plugin_set *load(char **select, GError **error)
{
    pt_loader_config cfg = {.plugins = select, .plugin_dir = (char *)plugdir};
    g_ptr_array_set_size(lines, 0);
    return pt_plugin_loader_load(&cfg, collect, NULL, error);
}

static void test_load_all_refuses_broken(void)
{
    GError *err = NULL;
    pt_plugin_set *set = load(NULL, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(set);
    CU_ASSERT_EQUAL(set->plugins->len, 3);
    CU_ASSERT_PTR_NOT_NULL(pt_plugin_loader_find(set, "alpha"));
    CU_ASSERT_PTR_NOT_NULL(pt_plugin_loader_find(set, "beta"));
    CU_ASSERT_PTR_NOT_NULL(pt_plugin_loader_find(set, "gone"));
    CU_ASSERT_EQUAL(lines->len, 6);
    CU_ASSERT_EQUAL(set->refused->len, 6);
    check_refused("badabi", "built for plugin ABI 99, this pcaptrace speaks ABI 1");
    check_refused("smallsize", "struct_size 16 is smaller");
    check_refused("nullcb", "required callback stream_gap is NULL");
    check_refused("dupname", "duplicate plugin name 'alpha'");
    check_refused("noentry", "no entry point pt_plugin_entry");
    check_refused("nullentry", "pt_plugin_entry returned NULL");
    /* The good ones kept their descriptors. */
    pt_plugin_ref *a = pt_plugin_loader_find(set, "alpha");
    CU_ASSERT_STRING_EQUAL(a->desc.version, "1.2.3");
    CU_ASSERT_EQUAL(a->ports->len, 2);
    CU_ASSERT_EQUAL(a->n_default_ports, 2);
    pt_plugin_loader_free(set);
}

static void test_select(void)
{
    GError *err = NULL;
    char *beta[] = {"beta", NULL};
    pt_plugin_set *set = load(beta, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(set);
    CU_ASSERT_EQUAL(set->plugins->len, 1);
    CU_ASSERT_PTR_NOT_NULL(pt_plugin_loader_find(set, "beta"));
    CU_ASSERT_EQUAL(lines->len, 0);
    pt_plugin_loader_free(set);

    char *none[] = {"none", NULL};
    set = load(none, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(set);
    CU_ASSERT_EQUAL(set->plugins->len, 0);
    pt_plugin_loader_free(set);

    char *missing[] = {"nosuch", NULL};
    set = load(missing, &err);
    CU_ASSERT_PTR_NULL(set);
    CU_ASSERT_PTR_NOT_NULL_FATAL(err);
    CU_ASSERT_PTR_NOT_NULL(strstr(err->message, "no plugin named nosuch"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err->message, plugdir));
    g_clear_error(&err);

    char *mixed[] = {"none", "beta", NULL};
    set = load(mixed, &err);
    CU_ASSERT_PTR_NULL(set);
    CU_ASSERT_PTR_NOT_NULL(err);
    g_clear_error(&err);

    g_autofree char *path = plugin_path("alpha");
    char *bypath[] = {path, "beta", "beta", NULL};
    set = load(bypath, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(set);
    CU_ASSERT_EQUAL(set->plugins->len, 2);
    CU_ASSERT_STRING_EQUAL(((pt_plugin_ref *)g_ptr_array_index(set->plugins, 0))->path, path);
    pt_plugin_loader_free(set);

    /* A named plugin that is broken is refused with its line, the rest load. */
    char *broken[] = {"badabi", "beta", NULL};
    set = load(broken, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(set);
    CU_ASSERT_EQUAL(set->plugins->len, 1);
    CU_ASSERT_EQUAL(lines->len, 1);
    pt_plugin_loader_free(set);
}

static char *lib_path, *lib_moved;
static void restore_lib(void)
{
    if (lib_moved && g_file_test(lib_moved, G_FILE_TEST_EXISTS))
        g_rename(lib_moved, lib_path);
}

static void test_missing_library(void)
{
    lib_path = g_strdup_printf("%s/libptgone.so", plugdir);
    lib_moved = g_strdup_printf("%s/libptgone.so.moved-by-test", plugdir);
    CU_ASSERT_FATAL(g_rename(lib_path, lib_moved) == 0);
    atexit(restore_lib);
    pt_plugin_set *set = pt_plugin_loader_new(NULL, collect, NULL);
    g_ptr_array_set_size(lines, 0);
    g_autofree char *gone = plugin_path("gone");
    CU_ASSERT_FALSE(pt_plugin_loader_load_file(set, gone));
    const char *l = line_for(gone);
    CU_ASSERT_PTR_NOT_NULL_FATAL(l);
    CU_ASSERT_PTR_NOT_NULL(strstr(l, "libptgone.so"));
    CU_ASSERT_PTR_NOT_NULL(strstr(l, "ldd"));
    CU_ASSERT_EQUAL(set->plugins->len, 0);
    pt_plugin_loader_free(set);
    restore_lib();
}

static char *make_tmpdir(void)
{
    return g_dir_make_tmp("pt-loader-XXXXXX", NULL);
}

static void copy_file(const char *from, const char *to)
{
    gchar *data;
    gsize n;
    CU_ASSERT_FATAL(g_file_get_contents(from, &data, &n, NULL));
    CU_ASSERT_FATAL(g_file_set_contents(to, data, (gssize)n, NULL));
    g_free(data);
}

static void rm_rf(const char *dir)
{
    GDir *d = g_dir_open(dir, 0, NULL);
    const char *n;
    while (d && (n = g_dir_read_name(d))) {
        g_autofree char *p = g_build_filename(dir, n, NULL);
        if (g_file_test(p, G_FILE_TEST_IS_DIR))
            rm_rf(p);
        else
            g_unlink(p);
    }
    if (d)
        g_dir_close(d);
    g_rmdir(dir);
}

static void test_unloadable_file(void)
{
    g_autofree char *dir = make_tmpdir();
    g_autofree char *f = g_build_filename(dir, "pcaptrace-garbage.so", NULL);
    CU_ASSERT_FATAL(g_file_set_contents(f, "this is not an ELF file\n", -1, NULL));
    pt_plugin_set *set = pt_plugin_loader_new(NULL, collect, NULL);
    g_ptr_array_set_size(lines, 0);
    CU_ASSERT_FALSE(pt_plugin_loader_load_file(set, f));
    const char *l = line_for(f);
    CU_ASSERT_PTR_NOT_NULL_FATAL(l);
    CU_ASSERT_PTR_NOT_NULL(strstr(l, "cannot load"));
    g_autofree char *nofile = g_build_filename(dir, "pcaptrace-absent.so", NULL);
    CU_ASSERT_FALSE(pt_plugin_loader_load_file(set, nofile));
    CU_ASSERT_PTR_NOT_NULL(strstr(line_for(nofile), "no such file"));
    pt_plugin_loader_free(set);
    rm_rf(dir);
}

static void test_search_order(void)
{
    g_autofree char *a = make_tmpdir();
    g_autofree char *b = make_tmpdir();
    g_autofree char *c = make_tmpdir();
    g_autofree char *beta = plugin_path("beta");
    g_autofree char *in_a = g_build_filename(a, "pcaptrace-beta.so", NULL);
    /* one level down, like the build tree's plugins/<name>/ */
    g_autofree char *b_sub = g_build_filename(b, "beta", NULL);
    g_mkdir(b_sub, 0755);
    g_autofree char *in_b = g_build_filename(b_sub, "pcaptrace-beta.so", NULL);
    g_autofree char *in_c = g_build_filename(c, "pcaptrace-beta.so", NULL);
    copy_file(beta, in_a);
    copy_file(beta, in_b);
    copy_file(beta, in_c);

    char *sel[] = {"beta", NULL};
    pt_loader_config cfg = {.plugins = sel, .plugin_dir = a, .install_plugin_dir = c};
    g_setenv(PT_LOADER_PATH_ENV, b, TRUE);
    GError *err = NULL;
    pt_plugin_set *set = pt_plugin_loader_load(&cfg, collect, NULL, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(set);
    CU_ASSERT_STRING_EQUAL(((pt_plugin_ref *)g_ptr_array_index(set->plugins, 0))->path, in_a);
    pt_plugin_loader_free(set);

    cfg.plugin_dir = NULL;
    set = pt_plugin_loader_load(&cfg, collect, NULL, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(set);
    CU_ASSERT_STRING_EQUAL(((pt_plugin_ref *)g_ptr_array_index(set->plugins, 0))->path, in_b);
    pt_plugin_loader_free(set);

    g_unsetenv(PT_LOADER_PATH_ENV);
    set = pt_plugin_loader_load(&cfg, collect, NULL, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(set);
    CU_ASSERT_STRING_EQUAL(((pt_plugin_ref *)g_ptr_array_index(set->plugins, 0))->path, in_c);
    pt_plugin_loader_free(set);

    /* Without --plugin, one file per name: the earlier directory shadows the later. */
    cfg.plugins = NULL;
    cfg.plugin_dir = a;
    g_ptr_array_set_size(lines, 0);
    set = pt_plugin_loader_load(&cfg, collect, NULL, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(set);
    CU_ASSERT_EQUAL(set->plugins->len, 1);
    CU_ASSERT_EQUAL(lines->len, 0);
    pt_plugin_loader_free(set);

    /* The build tree is searched only when the program runs from it. This test runs from
     * the build tree, so a plugin dir in it counts, a plugin dir elsewhere does not. */
    pt_loader_config bt = {.build_plugin_dir = plugdir};
    GPtrArray *dirs = pt_plugin_loader_search_dirs(&bt);
    CU_ASSERT_EQUAL(dirs->len, 1);
    g_ptr_array_unref(dirs);
    g_autofree char *elsewhere = g_build_filename(a, "plugins", NULL);
    pt_loader_config bt2 = {.build_plugin_dir = elsewhere};
    dirs = pt_plugin_loader_search_dirs(&bt2);
    CU_ASSERT_EQUAL(dirs->len, 0);
    g_ptr_array_unref(dirs);
    rm_rf(a);
    rm_rf(b);
    rm_rf(c);
}

/* Load alpha and beta, apply options, init. */
static pt_plugin_set *load_with(char **opts, char **ports, GKeyFile *kf, GError **err)
{
    char *sel[] = {"alpha", "beta", NULL};
    pt_plugin_set *set = load(sel, err);
    if (!set)
        return NULL;
    pt_options_config oc = {.plugin_opts = opts, .ports = ports};
    if (!pt_options_apply(set, &oc, kf, err)) {
        pt_plugin_loader_free(set);
        return NULL;
    }
    pt_plugin_loader_init(set, pt_plugin_host_get());
    return set;
}

static void test_options(void)
{
    GError *err = NULL;
    char *ok[] = {"alpha.max_line=128", NULL};
    pt_plugin_set *set = load_with(ok, NULL, NULL, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(set);
    pt_plugin_ref *a = pt_plugin_loader_find(set, "alpha");
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_TRUE(a->initialized);
    CU_ASSERT_EQUAL(pt_options_get_int(a->options, "max_line", 0), 128);
    CU_ASSERT_STRING_EQUAL(pt_options_get(a->options, "fail_init"), "false");
    CU_ASSERT_PTR_NULL(pt_options_get(a->options, "nosuch"));
    pt_plugin_loader_free(set);

    /* The value reaches init(), which refuses it: alpha is refused, beta goes on. */
    char *bad_value[] = {"alpha.max_line=abc", NULL};
    set = load_with(bad_value, NULL, NULL, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(set);
    CU_ASSERT_PTR_NULL(pt_plugin_loader_find(set, "alpha"));
    CU_ASSERT_PTR_NOT_NULL(pt_plugin_loader_find(set, "beta"));
    CU_ASSERT_EQUAL(lines->len, 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(g_ptr_array_index(lines, 0), "max_line must be"));
    pt_plugin_loader_free(set);

    char *fail[] = {"alpha.fail_init=yes", NULL};
    set = load_with(fail, NULL, NULL, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(set);
    CU_ASSERT_EQUAL(set->plugins->len, 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(g_ptr_array_index(lines, 0), "init failed"));
    pt_plugin_loader_free(set);

    struct {
        const char *arg;
        const char *msg;
    } bad[] = {
        {"alpha.nosuch=1", "plugin alpha has no option 'nosuch' (options: max_line, fail_init)"},
        {"beta.x=1", "plugin beta has no option 'x' (options: none)"},
        {"zeta.x=1", "no plugin named zeta"},
        {"gone.x=1", "plugin gone is not loaded"},
        {"alpha", "expected NAME.KEY=VALUE"},
        {"alpha.=1", "expected NAME.KEY=VALUE"},
        {"Alpha.max_line=1", "expected NAME.KEY=VALUE"},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        char *opts[] = {(char *)bad[i].arg, NULL};
        set = load_with(opts, NULL, NULL, &err);
        CU_ASSERT_PTR_NULL(set);
        CU_ASSERT_PTR_NOT_NULL_FATAL(err);
        if (!strstr(err->message, bad[i].msg))
            fprintf(stderr, "\n  '%s': got '%s'\n", bad[i].arg, err->message);
        CU_ASSERT_PTR_NOT_NULL(strstr(err->message, bad[i].msg));
        g_clear_error(&err);
    }
}

static void test_ports(void)
{
    GError *err = NULL;
    char *ports[] = {"alpha=6380,7000-7005", "beta=80", NULL};
    pt_plugin_set *set = load_with(NULL, ports, NULL, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(set);
    pt_plugin_ref *a = pt_plugin_loader_find(set, "alpha");
    CU_ASSERT_EQUAL(a->ports->len, 2 + 1 + 6);
    CU_ASSERT_EQUAL(g_array_index(a->ports, uint16_t, 2), 6380);
    CU_ASSERT_EQUAL(g_array_index(a->ports, uint16_t, 8), 7005);
    pt_dispatch *d = pt_dispatch_new(set, NULL, false, NULL);
    CU_ASSERT_TRUE(pt_dispatch_is_server_port(d, 17001));
    CU_ASSERT_TRUE(pt_dispatch_is_server_port(d, 7003));
    CU_ASSERT_TRUE(pt_dispatch_is_server_port(d, 80));
    CU_ASSERT_FALSE(pt_dispatch_is_server_port(d, 7006));
    CU_ASSERT_FALSE(pt_dispatch_is_server_port(d, 6379));
    pt_dispatch_free(d);

    const char *bad[] = {
        "alpha=0", "alpha=70000", "alpha=5-3", "alpha=", "alpha=1,,2", "alpha=x", "=80", "zeta=80"};
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        char *p[] = {(char *)bad[i], NULL};
        set = load_with(NULL, p, NULL, &err);
        CU_ASSERT_PTR_NULL(set);
        CU_ASSERT_PTR_NOT_NULL(err);
        g_clear_error(&err);
    }
}

static GKeyFile *keyfile(const char *text)
{
    GKeyFile *kf = g_key_file_new();
    CU_ASSERT_FATAL(g_key_file_load_from_data(kf, text, (gsize)-1, G_KEY_FILE_NONE, NULL));
    return kf;
}

static void test_config_file(void)
{
    GError *err = NULL;
    GKeyFile *kf = keyfile("[plugin alpha]\nmax_line=100\nports=9000-9001\n"
                           "[gone]\nanything=1\n[sink json]\npath=/dev/null\n"
                           "[dispatch]\nprobe_max_bytes=100\n");
    /* The command line wins over the file. */
    char *opts[] = {"alpha.max_line=200", NULL};
    pt_plugin_set *set = load_with(opts, NULL, kf, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(set);
    pt_plugin_ref *a = pt_plugin_loader_find(set, "alpha");
    CU_ASSERT_EQUAL(pt_options_get_int(a->options, "max_line", 0), 200);
    CU_ASSERT_EQUAL(a->ports->len, 4);
    pt_plugin_loader_free(set);
    g_key_file_free(kf);

    kf = keyfile("[alpha]\nmax_line=100\n");
    set = load_with(NULL, NULL, kf, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(set);
    CU_ASSERT_EQUAL(pt_options_get_int(pt_plugin_loader_find(set, "alpha")->options, "max_line", 0),
                    100);
    pt_plugin_loader_free(set);
    g_key_file_free(kf);

    const char *bad[] = {"[alpha]\nmaxline=1\n", "[zeta]\nx=1\n", "[plugin beta]\nx=1\n",
                         "[alpha]\nports=0\n"};
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        kf = keyfile(bad[i]);
        set = load_with(NULL, NULL, kf, &err);
        CU_ASSERT_PTR_NULL(set);
        CU_ASSERT_PTR_NOT_NULL(err);
        CU_ASSERT_PTR_NOT_NULL(err && strstr(err->message, "config"));
        g_clear_error(&err);
        g_key_file_free(kf);
    }
}

/* pt_dispatch_setup() end to end: config file, sinks, unknown [dispatch] and sink keys. */
static void test_setup(void)
{
    g_autofree char *dir = make_tmpdir();
    g_autofree char *conf = g_build_filename(dir, "pt.conf", NULL);
    g_autofree char *out = g_build_filename(dir, "events.jsonl", NULL);
    g_autofree char *text = g_strdup_printf("[alpha]\nmax_line=10\n[sink json]\npath=%s\n"
                                            "block_bytes=4096\n"
                                            "[dispatch]\nprobe_max_bytes=512\nprobe_memory=65536\n"
                                            "event_max_fields=8\nevent_max_shapes=64\n",
                                            out);
    CU_ASSERT_FATAL(g_file_set_contents(conf, text, -1, NULL));
    char *sel[] = {"alpha", NULL};
    pt_dispatch_config dc = {.loader = {.plugins = sel, .plugin_dir = (char *)plugdir},
                             .options = {.config_file = conf}};
    pt_events_config ec = {.format = "none"};
    GError *err = NULL;
    pt_dispatch *d = pt_dispatch_setup(&dc, &ec, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    CU_ASSERT_TRUE(g_file_test(out, G_FILE_TEST_EXISTS));
    CU_ASSERT_TRUE(pt_dispatch_is_server_port(d, 17001));
    pt_dispatch_free(d);

    const char *bad[] = {"[dispatch]\nprobe_max_byte=1\n",
                         "[dispatch]\nprobe_max_bytes=0\n",
                         "[dispatch]\nprobe_memory=abc\n",
                         "[dispatch]\nevent_max_shapes=0\n",
                         "[sink json]\npath=/nonexistent-dir/x\n",
                         "[sink json]\nfile=x\n",
                         "[sink json]\npath=/dev/null\nblock_bytes=100\n",
                         "[sink text]\npath=/dev/null\nblock_bytes=lots\n",
                         "[sink xml]\npath=x\n",
                         "[sink redis]\nurl=http://x\n",
                         "not a key file"};
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        CU_ASSERT_FATAL(g_file_set_contents(conf, bad[i], -1, NULL));
        d = pt_dispatch_setup(&dc, &ec, &err);
        CU_ASSERT_PTR_NULL(d);
        CU_ASSERT_PTR_NOT_NULL(err);
        g_clear_error(&err);
    }
    rm_rf(dir);
}

static void test_list(void)
{
    GError *err = NULL;
    pt_plugin_set *set = load(NULL, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(set);
    char *buf = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&buf, &n);
    pt_plugin_loader_list(set, f);
    fclose(f);
    g_autofree char *alpha = plugin_path("alpha");
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "alpha"));
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "1.2.3"));
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "17001,17002"));
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "loader test plugin alpha"));
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, alpha));
    free(buf);
    pt_plugin_loader_free(set);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s TEST_PLUGIN_DIR\n", argv[0]);
        return 2;
    }
    plugdir = argv[1];
    g_unsetenv(PT_LOADER_PATH_ENV);
    lines = g_ptr_array_new_with_free_func(g_free);
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    CU_pSuite s = CU_add_suite("loader", NULL, NULL);
    CU_add_test(s, "load all, refuse the broken", test_load_all_refuses_broken);
    CU_add_test(s, "select by name, path, none", test_select);
    CU_add_test(s, "missing library dependency", test_missing_library);
    CU_add_test(s, "unloadable file", test_unloadable_file);
    CU_add_test(s, "search order", test_search_order);
    CU_add_test(s, "plugin options", test_options);
    CU_add_test(s, "server ports", test_ports);
    CU_add_test(s, "config file", test_config_file);
    CU_add_test(s, "setup", test_setup);
    CU_add_test(s, "list", test_list);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
    CU_cleanup_registry();
    g_ptr_array_unref(lines);
    return failed ? 1 : 0;
}
