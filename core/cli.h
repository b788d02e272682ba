/* cli.h — the command line of `pcaptrace` (GOption): capture options, the positional
 * [INTERFACE] [FILTER...], and the option groups of the tcp, dispatch and event stages. */
#ifndef PT_CORE_CLI_H
#define PT_CORE_CLI_H

#include <stdbool.h>

#include <glib.h>

#include "dispatch.h"
#include "events.h"
#include "pcaptrace/pcaptrace.h"
#include "tcp.h"

/* Defaults of the limits the command line enforces. */
#define PT_CLI_STATS_MAX_S 86400 /* --stats N: at most once a day */

/* Exit statuses. */
enum { PT_EXIT_OK = 0, PT_EXIT_FAILURE = 1, PT_EXIT_USAGE = 2 };

typedef struct pt_cli {
    /* capture options */
    char *interface;          /* -i */
    char *file;               /* -r */
    char *filter_opt;         /* -f */
    char *save_file;          /* -w */
    gint snaplen;             /* -s */
    gint buffer_mib;          /* -B */
    gint timeout_ms;          /* --read-timeout */
    gint batch;               /* --batch */
    gint64 count;             /* -c */
    gint stats_s;             /* --stats N */
    gint64 defrag_max_bytes;  /* --defrag-max-bytes */
    gint64 defrag_timeout_ms; /* --defrag-timeout-ms */
    gboolean no_promisc, immediate, list_interfaces, packets, decode_only, quiet;
    char **rest;         /* positional words */
    gboolean no_tunnels; /* --no-tunnels */

    /* options of the other stages */
    pt_tcp_config tcp;
    pt_dispatch_config dispatch;
    pt_events_config events;

    /* resolved by pt_cli_parse() */
    char *filter; /* -f, or the trailing words joined */
    pt_source source;
    pt_tcp_limits tcp_limits;
} pt_cli;

/* Parse argv (GOption; --help exits). On a bad option or a contradiction returns false
 * with *error set: the caller prints it and exits PT_EXIT_USAGE. */
bool pt_cli_parse(pt_cli *cli, int argc, char **argv, GError **error);

/* Whether a word given as the first positional looks like an interface name ("eth0",
 * "lo0", "wlp3s0", "any", "lo") rather than the start of a filter ("tcp", "ip6"). */
bool pt_cli_looks_like_interface(const char *word);

/* Free what pt_cli_parse() allocated. */
void pt_cli_clear(pt_cli *cli);

#endif
