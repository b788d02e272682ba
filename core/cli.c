/* cli.c — parsing the `pcaptrace` command line (GOption): `pcaptrace [OPTIONS] [INTERFACE]
 * [FILTER...]`, where a first word naming a file reads it, one naming an interface captures
 * there, and the remaining words are a tcpdump filter (pcap-filter(7)). */
#include "cli.h"

#include <string.h>

#include "capture.h"

/* Longest interface name Linux accepts (IFNAMSIZ - 1). */
#define PT_CLI_IFNAME_MAX 15

/* Filter primitives that would otherwise look like interface names. */
static const char *const pt_cli_filter_words[] = {"ip6", "icmp6", "l1", "l2", NULL};

bool pt_cli_looks_like_interface(const char *word)
{
    size_t len = strlen(word);
    if (strcmp(word, "any") == 0 || strcmp(word, "lo") == 0) {
        return true;
    }
    if (len < 2 || len > PT_CLI_IFNAME_MAX || !g_ascii_isalpha(word[0]) ||
        !g_ascii_isdigit(word[len - 1])) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        char c = word[i];
        if (!g_ascii_isalnum(c) && c != '_' && c != '-' && c != '.' && c != ':' && c != '@') {
            return false;
        }
    }
    for (size_t i = 0; pt_cli_filter_words[i] != NULL; i++) {
        if (strcmp(word, pt_cli_filter_words[i]) == 0) {
            return false;
        }
    }
    return true;
}

/* The capture options of pcaptrace itself. */
static GOptionEntry *pt_cli_capture_entries(pt_cli *c)
{
    GOptionEntry e[] = {
        {"interface", 'i', 0, G_OPTION_ARG_STRING, &c->interface,
         "Capture live on IFACE (default: the first up, non-loopback interface)", "IFACE"},
        {"read", 'r', 0, G_OPTION_ARG_FILENAME, &c->file,
         "Read packets from a pcap or pcapng FILE ('-' = standard input)", "FILE"},
        {"filter", 'f', 0, G_OPTION_ARG_STRING, &c->filter_opt,
         "BPF filter in tcpdump syntax (or give it as trailing words)", "EXPR"},
        {"snaplen", 's', 0, G_OPTION_ARG_INT, &c->snaplen,
         "Bytes kept of each packet (default 262144)", "N"},
        {"buffer-size", 'B', 0, G_OPTION_ARG_INT, &c->buffer_mib,
         "Kernel capture buffer in MiB (raise it when the kernel drops packets)", "MIB"},
        {"no-promisc", 0, 0, G_OPTION_ARG_NONE, &c->no_promisc,
         "Do not put the interface into promiscuous mode", NULL},
        {"immediate", 0, 0, G_OPTION_ARG_NONE, &c->immediate,
         "Deliver packets as soon as they arrive (no kernel batching)", NULL},
        {"read-timeout", 0, 0, G_OPTION_ARG_INT, &c->timeout_ms,
         "Live read timeout in ms (default 250)", "MS"},
        {"batch", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_INT, &c->batch,
         "Packets read per libpcap dispatch call (default 256)", "N"},
        {"count", 'c', 0, G_OPTION_ARG_INT64, &c->count, "Stop after N packets", "N"},
        {"list-interfaces", 'D', 0, G_OPTION_ARG_NONE, &c->list_interfaces,
         "List the interfaces that can be captured on and exit", NULL},
        {"write", 'w', 0, G_OPTION_ARG_FILENAME, &c->save_file,
         "Also save the raw packets read to FILE (pcap)", "FILE"},
        {"stats", 0, 0, G_OPTION_ARG_INT, &c->stats_s,
         "Print statistics to stderr every N seconds (and always at the end)", "N"},
        {"quiet", 'q', 0, G_OPTION_ARG_NONE, &c->quiet, "Do not print the statistics at the end",
         NULL},
        {"packets", 0, 0, G_OPTION_ARG_NONE, &c->packets,
         "Print one line per packet instead of tracing protocols", NULL},
        {"decode-only", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_NONE, &c->decode_only,
         "Capture and decode (and defragment) without any output (benchmarks)", NULL},
        {"no-tunnels", 0, 0, G_OPTION_ARG_NONE, &c->no_tunnels,
         "Do not decapsulate tunnels (IP-in-IP, GRE, VXLAN, Geneve, Teredo, GTP-U, AYIYA)", NULL},
        {"defrag-max-bytes", 0, 0, G_OPTION_ARG_INT64, &c->defrag_max_bytes,
         "Memory cap of IP fragment reassembly in bytes", "N"},
        {"defrag-timeout-ms", 0, 0, G_OPTION_ARG_INT64, &c->defrag_timeout_ms,
         "Give up on an incomplete fragmented datagram after MS of capture time", "MS"},
        {G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_STRING_ARRAY, &c->rest, NULL,
         "[INTERFACE|FILE] [FILTER...]"},
        {NULL, 0, 0, 0, NULL, NULL, NULL}};
    return g_memdup2(e, sizeof(e));
}

/* Range checks of numeric options (GOption only checks the syntax). */
static bool pt_cli_check_ranges(const pt_cli *c, GError **error)
{
    const char *bad = NULL;
    if (c->snaplen < 0 || c->snaplen > PT_CAPTURE_SNAPLEN_MAX) {
        bad = "-s/--snaplen must be between 1 and 262144";
    } else if (c->buffer_mib < 0 || c->buffer_mib > PT_CAPTURE_BUFFER_MIB_MAX) {
        bad = "-B/--buffer-size must be between 1 and 4096 MiB";
    } else if (c->count < 0) {
        bad = "-c/--count must not be negative";
    } else if (c->stats_s < 0 || c->stats_s > PT_CLI_STATS_MAX_S) {
        bad = "--stats must be between 1 and 86400 seconds";
    } else if (c->timeout_ms < 0 || c->batch < 0) {
        bad = "--read-timeout and --batch must not be negative";
    } else if (c->defrag_max_bytes < 0 || c->defrag_timeout_ms < 0 ||
               c->defrag_timeout_ms > G_MAXINT64 / 1000) {
        bad = "--defrag-max-bytes and --defrag-timeout-ms must not be negative";
    } else if (c->file != NULL && c->interface != NULL) {
        bad = "give either -r FILE or -i IFACE, not both";
    } else if (c->packets && c->decode_only) {
        bad = "--packets and --decode-only exclude each other";
    }
    if (bad != NULL) {
        g_set_error_literal(error, PT_SESSION_ERROR, PT_SESSION_ERROR_USAGE, bad);
        return false;
    }
    return true;
}

/* Decide what the positional words are: a capture file or an interface first, then the
 * filter. */
static bool pt_cli_resolve_positionals(pt_cli *c, GError **error)
{
    char **words = c->rest;
    if (words != NULL && words[0] != NULL && c->file == NULL && c->interface == NULL) {
        if (g_file_test(words[0], G_FILE_TEST_IS_REGULAR)) {
            c->file = g_strdup(words[0]);
            words++;
        } else if (pt_capture_interface_exists(words[0]) || pt_cli_looks_like_interface(words[0])) {
            c->interface = g_strdup(words[0]);
            words++;
        }
    }
    if (words != NULL && words[0] != NULL) {
        if (c->filter_opt != NULL) {
            g_set_error(error, PT_SESSION_ERROR, PT_SESSION_ERROR_USAGE,
                        "give the filter either with -f or as trailing words, not both "
                        "(unexpected '%s')",
                        words[0]);
            return false;
        }
        c->filter = g_strjoinv(" ", words);
    } else if (c->filter_opt != NULL) {
        c->filter = g_strdup(c->filter_opt);
    }
    return true;
}

bool pt_cli_parse(pt_cli *c, int argc, char **argv, GError **error)
{
    GOptionContext *ctx = g_option_context_new(NULL);
    g_option_context_set_summary(
        ctx, "Trace application protocols (Redis, HTTP, ...) from live traffic or a capture "
             "file.\nThe first word may name a capture file or an interface; the remaining "
             "words are a\nfilter in tcpdump syntax, e.g. `pcaptrace lo tcp port 6379`.");
    GOptionEntry *own = pt_cli_capture_entries(c);
    g_option_context_add_main_entries(ctx, own, NULL);
    pt_tcp_config_init(&c->tcp);
    g_option_context_add_main_entries(ctx, pt_tcp_option_entries(&c->tcp), NULL);
    g_option_context_add_main_entries(ctx, pt_dispatch_option_entries(&c->dispatch), NULL);
    g_option_context_add_main_entries(ctx, pt_events_option_entries(&c->events), NULL);
    bool ok = g_option_context_parse(ctx, &argc, &argv, error);
    g_option_context_free(ctx);
    g_free(own);
    if (!ok) {
        if (*error != NULL && (*error)->domain == G_OPTION_ERROR) {
            (*error)->domain = PT_SESSION_ERROR;
            (*error)->code = PT_SESSION_ERROR_USAGE;
        }
        return false;
    }
    if (!pt_cli_check_ranges(c, error) || !pt_cli_resolve_positionals(c, error)) {
        return false;
    }
    if (!pt_tcp_config_limits(&c->tcp, &c->tcp_limits, error)) {
        if (*error != NULL) {
            (*error)->domain = PT_SESSION_ERROR;
            (*error)->code = PT_SESSION_ERROR_USAGE;
        }
        return false;
    }
    c->source = (pt_source){
        .file = c->file,
        .interface = c->interface,
        .filter = c->filter,
        .snaplen = c->snaplen,
        .buffer_mib = c->buffer_mib,
        .no_promisc = c->no_promisc,
        .immediate = c->immediate,
        .timeout_ms = c->timeout_ms,
        .save_file = c->save_file,
        .batch = c->batch,
        .defrag_max_bytes = (uint64_t)c->defrag_max_bytes,
        .defrag_timeout_us = (uint64_t)c->defrag_timeout_ms * 1000,
        .no_tunnels = c->no_tunnels,
    };
    return true;
}

void pt_cli_clear(pt_cli *c)
{
    g_free(c->interface);
    g_free(c->file);
    g_free(c->filter_opt);
    g_free(c->save_file);
    g_strfreev(c->rest);
    g_free(c->filter);
    /* GOption allocated the strings of the other stages' settings too. */
    g_strfreev(c->dispatch.loader.plugins);
    g_free(c->dispatch.loader.plugin_dir);
    g_strfreev(c->dispatch.options.plugin_opts);
    g_free(c->dispatch.options.config_file);
    g_strfreev(c->dispatch.options.ports);
    g_free(c->events.format);
    g_strfreev(c->events.sinks);
    memset(c, 0, sizeof(*c));
}
