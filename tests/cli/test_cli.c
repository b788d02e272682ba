/* test_cli.c — CUnit tests of core/cli.c: which positional word is a file, an interface or
 * the start of a filter, how the filter is joined, and which values are refused. */
#include <CUnit/Basic.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static char *ref_capture;

/* Parse a NULL-terminated argument list into *cli; returns pt_cli_parse()'s result. */
static bool parse(pt_cli *cli, const char *const *words, GError **err)
{
    int argc = 1;
    char *argv[32] = {"pcaptrace"};
    for (int i = 0; words[i] != NULL && argc < 31; i++) {
        argv[argc++] = (char *)words[i];
    }
    memset(cli, 0, sizeof(*cli));
    return pt_cli_parse(cli, argc, argv, err);
}

static void test_looks_like_interface(void)
{
    const char *yes[] = {"eth0", "lo0", "en0",       "wlp3s0",    "enp0s31f6",
                         "any",  "lo",  "bond0.100", "veth1@if2", NULL};
    const char *no[] = {"tcp", "port", "ip6",  "icmp6", "host",
                        "80",  "not",  "vlan", "l1",    "a-very-long-interface-name0",
                        "",    NULL};
    for (int i = 0; yes[i]; i++) {
        CU_ASSERT_TRUE(pt_cli_looks_like_interface(yes[i]));
    }
    for (int i = 0; no[i]; i++) {
        CU_ASSERT_FALSE(pt_cli_looks_like_interface(no[i]));
    }
}

static void test_positionals(void)
{
    pt_cli cli;
    GError *err = NULL;
    const char *a[] = {ref_capture, "tcp", "port", "80", NULL};
    CU_ASSERT_TRUE(parse(&cli, a, &err));
    CU_ASSERT_STRING_EQUAL(cli.source.file, ref_capture);
    CU_ASSERT_PTR_NULL(cli.source.interface);
    CU_ASSERT_STRING_EQUAL(cli.source.filter, "tcp port 80");
    pt_cli_clear(&cli);

    const char *b[] = {"lo0", "ip6", NULL};
    CU_ASSERT_TRUE(parse(&cli, b, &err));
    CU_ASSERT_STRING_EQUAL(cli.source.interface, "lo0");
    CU_ASSERT_STRING_EQUAL(cli.source.filter, "ip6");
    pt_cli_clear(&cli);

    const char *c[] = {"ip6", "and", "tcp", NULL};
    CU_ASSERT_TRUE(parse(&cli, c, &err));
    CU_ASSERT_PTR_NULL(cli.source.interface);
    CU_ASSERT_PTR_NULL(cli.source.file);
    CU_ASSERT_STRING_EQUAL(cli.source.filter, "ip6 and tcp");
    pt_cli_clear(&cli);

    /* With -i, every positional word is filter, even one that looks like an interface. */
    const char *d[] = {"-i", "lo", "-s", "128", "-B", "8", "--no-promisc", "eth0", NULL};
    CU_ASSERT_TRUE(parse(&cli, d, &err));
    CU_ASSERT_STRING_EQUAL(cli.source.interface, "lo");
    CU_ASSERT_STRING_EQUAL(cli.source.filter, "eth0");
    CU_ASSERT_EQUAL(cli.source.snaplen, 128);
    CU_ASSERT_EQUAL(cli.source.buffer_mib, 8);
    CU_ASSERT_TRUE(cli.source.no_promisc);
    pt_cli_clear(&cli);

    const char *e[] = {"-f", "udp", NULL};
    CU_ASSERT_TRUE(parse(&cli, e, &err));
    CU_ASSERT_STRING_EQUAL(cli.source.filter, "udp");
    pt_cli_clear(&cli);
}

static void test_refused(void)
{
    const char *bad[][6] = {
        {"-f", "udp", "tcp", NULL},
        {"-s", "262145", NULL},
        {"-B", "5000", NULL},
        {"-c", "-1", NULL},
        {"--stats", "100000", NULL},
        {"-r", "x.pcap", "-i", "lo", NULL},
        {"--packets", "--decode-only", NULL},
        {"--bogus", NULL},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        pt_cli cli;
        GError *err = NULL;
        CU_ASSERT_FALSE(parse(&cli, bad[i], &err));
        CU_ASSERT_TRUE(err != NULL &&
                       g_error_matches(err, PT_SESSION_ERROR, PT_SESSION_ERROR_USAGE));
        g_clear_error(&err);
        pt_cli_clear(&cli);
    }
}

int main(void)
{
    const char *root = getenv("PT_SOURCE_ROOT");
    ref_capture =
        g_build_filename(root ? root : ".", "tests", "captures", "eth-ipv4-ipv6.pcap", NULL);
    if (CU_initialize_registry() != CUE_SUCCESS) {
        return 1;
    }
    CU_pSuite s = CU_add_suite("cli", NULL, NULL);
    CU_add_test(s, "looks like an interface", test_looks_like_interface);
    CU_add_test(s, "positionals", test_positionals);
    CU_add_test(s, "refused values", test_refused);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures();
    CU_cleanup_registry();
    g_free(ref_capture);
    return failed == 0 ? 0 : 1;
}
