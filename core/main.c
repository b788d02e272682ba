/* main.c — the `pcaptrace` program: parse the command line, open the source, and run either
 * the packet printer (--packets), decode only (--decode-only), or the full pipeline
 * (TCP tracker → dispatcher → plugins → event bus → sinks). */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "capture.h"
#include "cli.h"
#include "dispatch.h"
#include "packet_print.h"
#include "stats.h"

#ifndef PT_BUILD_PLUGIN_DIR
#define PT_BUILD_PLUGIN_DIR ""
#endif
#ifndef PT_INSTALL_PLUGIN_DIR
#define PT_INSTALL_PLUGIN_DIR ""
#endif

/* The running session, for the signal handler. */
static pt_session *volatile pt_main_session;

/* The first SIGINT/SIGTERM asks the capture loop to stop (streams are flushed, statistics
 * printed); a second one kills the process, in case something never returns to the loop. */
static void pt_main_on_signal(int sig)
{
    static volatile sig_atomic_t signalled;
    if (signalled) {
        signal(sig, SIG_DFL);
        raise(sig);
        return;
    }
    signalled = 1;
    if (pt_main_session != NULL) {
        pt_session_stop(pt_main_session);
    }
}

/* SIGINT/SIGTERM break the capture loop; no SA_RESTART so a blocking read returns. */
static void pt_main_install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = pt_main_on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

static void pt_main_print_packet(void *ctx, const pt_packet *pkt, pt_packet_status status)
{
    pt_packet_print_line(ctx, pkt, status);
}

static void pt_main_on_tick(void *ctx, const pt_stats *st)
{
    pt_stats_print(ctx, stderr, st, false);
}

static void pt_main_flush_stdout(void *ctx)
{
    (void)ctx;
    fflush(stdout);
}

static void pt_main_events_tick(void *ctx)
{
    pt_events_tick(ctx);
}

/* Print a setup or run error and return the exit status it calls for. */
static int pt_main_fail(GError *error)
{
    fprintf(stderr, "pcaptrace: %s\n", error->message);
    bool usage = error->domain == PT_SESSION_ERROR &&
                 (error->code == PT_SESSION_ERROR_USAGE || error->code == PT_SESSION_ERROR_FILTER);
    if (usage && error->code == PT_SESSION_ERROR_USAGE) {
        fprintf(stderr, "Try 'pcaptrace --help' for the options.\n");
    }
    g_error_free(error);
    return usage ? PT_EXIT_USAGE : PT_EXIT_FAILURE;
}

/* Run the session with the full pipeline: tracker → dispatcher → plugins → sinks. */
static int pt_main_trace(pt_cli *cli, pt_session *s, pt_stats_printer *pr)
{
    GError *error = NULL;
    cli->dispatch.loader.build_plugin_dir = PT_BUILD_PLUGIN_DIR;
    cli->dispatch.loader.install_plugin_dir = PT_INSTALL_PLUGIN_DIR;
    pt_dispatch *d = pt_dispatch_setup(&cli->dispatch, &cli->events, &error);
    if (d == NULL) {
        return pt_main_fail(error);
    }
    pt_tcp_consumer consumer;
    pt_dispatch_consumer(d, &consumer);
    if (!pt_session_set_tcp(s, &cli->tcp_limits, &consumer)) {
        pt_dispatch_free(d);
        fprintf(stderr, "pcaptrace: cannot create the TCP tracker\n");
        return PT_EXIT_FAILURE;
    }
    pt_tcp_set_events(pt_session_tcp(s), pt_dispatch_events(d), cli->tcp.verbose);
    pt_session_on_batch(s, pt_main_events_tick, pt_dispatch_events(d));
    bool ok = pt_session_run(s, &error);
    pt_events_flush(pt_dispatch_events(d));
    int status = ok ? PT_EXIT_OK : pt_main_fail(error);
    if (!cli->quiet) {
        pt_stats st;
        pt_session_get_stats(s, &st);
        pt_stats_print(pr, stderr, &st, true);
        pt_dispatch_report(d, stderr);
    }
    /* The tracker (flushed by pt_session_run) goes before the dispatcher it reports to. */
    pt_session_set_tcp(s, NULL, NULL);
    pt_dispatch_free(d);
    return status;
}

/* Run the session printing packets (--packets) or nothing (--decode-only). */
static int pt_main_packets(pt_cli *cli, pt_session *s, pt_stats_printer *pr)
{
    GError *error = NULL;
    if (cli->packets) {
        pt_session_on_packet(s, pt_main_print_packet, stdout);
        pt_session_on_batch(s, pt_main_flush_stdout, NULL);
    }
    bool ok = pt_session_run(s, &error);
    fflush(stdout);
    int status = ok ? PT_EXIT_OK : pt_main_fail(error);
    if (!cli->quiet) {
        pt_stats st;
        pt_session_get_stats(s, &st);
        pt_stats_print(pr, stderr, &st, true);
    }
    return status;
}

int main(int argc, char **argv)
{
    pt_cli cli;
    memset(&cli, 0, sizeof(cli));
    GError *error = NULL;
    int status = PT_EXIT_OK;
    tzset(); /* packet lines print local time (TZ) */
    if (!pt_cli_parse(&cli, argc, argv, &error)) {
        status = pt_main_fail(error);
        goto out;
    }
    if (cli.list_interfaces) {
        status = pt_capture_list_interfaces(stdout, &error) ? PT_EXIT_OK : pt_main_fail(error);
        goto out;
    }
    if (cli.dispatch.loader.list_plugins) {
        cli.dispatch.loader.build_plugin_dir = PT_BUILD_PLUGIN_DIR;
        cli.dispatch.loader.install_plugin_dir = PT_INSTALL_PLUGIN_DIR;
        status = pt_dispatch_list_plugins(&cli.dispatch, stdout, &error) ? PT_EXIT_OK
                                                                         : pt_main_fail(error);
        goto out;
    }
    pt_session *s = pt_session_open(&cli.source, &error);
    if (s == NULL) {
        status = pt_main_fail(error);
        goto out;
    }
    pt_stats_printer pr = {.buffer_mib = cli.buffer_mib};
    pt_session_set_count(s, (uint64_t)cli.count);
    if (cli.stats_s > 0) {
        pt_session_on_tick(s, (unsigned)cli.stats_s, pt_main_on_tick, &pr);
    }
    pt_main_session = s;
    pt_main_install_signals();
    if (pt_session_is_live(s) && !cli.quiet) {
        const char *dlt = pcap_datalink_val_to_name(pt_session_datalink(s));
        fprintf(stderr, "pcaptrace: listening on %s, link type %s\n", pt_session_name(s),
                dlt != NULL ? dlt : "unknown");
    }
    if (cli.packets || cli.decode_only) {
        status = pt_main_packets(&cli, s, &pr);
    } else {
        status = pt_main_trace(&cli, s, &pr);
    }
    pt_main_session = NULL;
    pt_session_close(s);
out:
    pt_cli_clear(&cli);
    return status;
}
