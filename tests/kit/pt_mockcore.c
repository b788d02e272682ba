/* pt_mockcore.c — feeds a capture file to the mock host's plugin through the core's session
 * (capture, decode, defrag) and TCP tracker (core/tcp.h): a pt_tcp_consumer that opens a mock
 * stream per flow and forwards data, gaps and ends. */
#include <stdlib.h>
#include <string.h>

#include "pcaptrace/pcaptrace.h"
#include "pt_mockcore.h"
#include "tcp.h"

typedef struct core_feeder {
    pt_mockhost *m;
    const pt_mock_pcap_opts *opts;
    const uint16_t *ports;
    pt_mock_pcap_stats *st;
} core_feeder;

static bool core_is_server_port(void *ctx, uint16_t port)
{
    const core_feeder *fd = ctx;
    for (const uint16_t *p = fd->ports; p != NULL && *p != 0; p++) {
        if (*p == port) {
            return true;
        }
    }
    return false;
}

static void core_on_start(void *ctx, pt_flow *f, const pt_time *ts)
{
    core_feeder *fd = ctx;
    const pt_flow_info *info = pt_flow_get_info(f);
    fd->st->flows++;
    if (!fd->opts->all_ports && !core_is_server_port(fd, info->server.port)) {
        return;
    }
    pt_mock_stream *s = pt_mock_stream_open_ep(fd->m, &info->client, &info->server);
    if (s == NULL) {
        fd->st->flows_dropped++;
        return;
    }
    fd->st->streams++;
    *pt_flow_user(f) = s;
}

static pt_mock_stream *core_stream(pt_flow *f)
{
    pt_mock_stream *s = *pt_flow_user(f);
    return s != NULL && pt_mock_stream_is_open(s) ? s : NULL;
}

static void core_on_data(void *ctx, pt_flow *f, pt_dir dir, const uint8_t *data, size_t len,
                         const pt_time *ts)
{
    core_feeder *fd = ctx;
    pt_mock_stream *s = core_stream(f);
    if (s != NULL) {
        fd->st->payload_bytes += len;
        pt_mock_feed(s, dir, data, len, ts);
    }
}

static void core_on_gap(void *ctx, pt_flow *f, pt_dir dir, uint64_t missing, const pt_time *ts)
{
    core_feeder *fd = ctx;
    fd->st->gap_bytes += missing;
    pt_mock_stream *s = core_stream(f);
    if (s != NULL) {
        pt_mock_gap(s, dir, missing, ts);
    }
}

static void core_on_end(void *ctx, pt_flow *f, pt_close_reason why, const pt_time *ts)
{
    pt_mock_stream *s = core_stream(f);
    if (s != NULL) {
        pt_mock_close(s, why, ts);
    }
    *pt_flow_user(f) = NULL;
}

static void set_error(char **error, const char *msg)
{
    if (error != NULL) {
        *error = strdup(msg);
    }
}

int pt_mock_feed_pcap_core(pt_mockhost *m, const char *path, const pt_mock_pcap_opts *opts,
                           pt_mock_pcap_stats *stats, char **error)
{
    if (error != NULL) {
        *error = NULL;
    }
    const pt_mock_pcap_opts defaults = {0};
    pt_mock_pcap_stats local;
    core_feeder fd = {
        .m = m,
        .opts = opts != NULL ? opts : &defaults,
        .st = stats != NULL ? stats : &local,
    };
    fd.ports = fd.opts->server_ports ? fd.opts->server_ports : pt_mock_plugin(m)->server_ports;
    memset(fd.st, 0, sizeof *fd.st);

    pt_source src = {.file = path, .filter = fd.opts->filter};
    GError *gerr = NULL;
    pt_session *session = pt_session_open(&src, &gerr);
    if (session == NULL) {
        set_error(error, gerr->message);
        g_error_free(gerr);
        return -1;
    }
    pt_tcp_limits limits = {.max_flows = fd.opts->max_flows};
    pt_tcp_consumer consumer = {
        .ctx = &fd,
        .on_start = core_on_start,
        .on_data = core_on_data,
        .on_gap = core_on_gap,
        .on_end = core_on_end,
        .is_server_port = core_is_server_port,
    };
    if (!pt_session_set_tcp(session, &limits, &consumer)) {
        set_error(error, "cannot create the TCP tracker");
        pt_session_close(session);
        return -1;
    }
    bool ok = pt_session_run(session, &gerr);
    pt_stats ps;
    pt_session_get_stats(session, &ps);
    fd.st->packets = ps.packets;
    fd.st->tcp_packets = ps.tcp;
    fd.st->fragments = ps.fragments;
    pt_session_set_tcp(session, NULL, NULL);
    pt_session_close(session);
    if (!ok) {
        set_error(error, gerr != NULL ? gerr->message : "read failed");
        g_clear_error(&gerr);
        return -1;
    }
    return 0;
}
