/* simple_capture.c — the library API used the way node_pcap's README uses createSession and
 * decode: open a session on an interface (or a file) with a filter, print one line per
 * decoded packet, stop cleanly on Ctrl-C.
 *
 * Usage: simple_capture [-r FILE | INTERFACE] [FILTER...]
 *   simple_capture lo "tcp port 6379"      (live; needs root or CAP_NET_RAW)
 *   simple_capture -r capture.pcap udp
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <pcaptrace/pcaptrace.h>

/* Longest summary line printed; longer ones are cut. */
#define SIMPLE_LINE_MAX 512

static pt_session *session;

static void on_signal(int sig)
{
    (void)sig;
    pt_session_stop(session);
}

/* The 'packet' event: decode is already done; print it and, for TCP, the payload size. */
static void on_packet(void *ctx, const pt_packet *pkt, pt_packet_status status)
{
    unsigned *count = ctx;
    char line[SIMPLE_LINE_MAX];
    pt_packet_format(pkt, status, line, sizeof(line));
    pt_packet_info info;
    pt_packet_get_info(pkt, &info);
    (*count)++;
    printf("%u %s%s\n", *count, line,
           info.ip_proto == 6 && info.payload_len > 0 ? " (payload)" : "");
}

int main(int argc, char **argv)
{
    pt_source src = {0};
    int first = 1;
    if (argc > 2 && strcmp(argv[1], "-r") == 0) {
        src.file = argv[2];
        first = 3;
    } else if (argc > 1) {
        src.interface = argv[1];
        first = 2;
    }
    char *filter = first < argc ? g_strjoinv(" ", argv + first) : NULL;
    src.filter = filter;

    GError *error = NULL;
    session = pt_session_open(&src, &error);
    if (session == NULL) {
        fprintf(stderr, "simple_capture: %s\n", error->message);
        g_error_free(error);
        g_free(filter);
        return 1;
    }
    fprintf(stderr, "simple_capture: listening on %s\n", pt_session_name(session));
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);

    unsigned count = 0;
    pt_session_on_packet(session, on_packet, &count);
    bool ok = pt_session_run(session, &error);
    if (!ok) {
        fprintf(stderr, "simple_capture: %s\n", error->message);
        g_error_free(error);
    }
    pt_stats st;
    pt_session_get_stats(session, &st);
    fprintf(stderr, "simple_capture: %llu packets\n", (unsigned long long)st.packets);
    pt_session_close(session);
    g_free(filter);
    return ok ? 0 : 1;
}
