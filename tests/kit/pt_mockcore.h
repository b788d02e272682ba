/* pt_mockcore.h — in-tree addition to the plugin test kit: feed a capture file to the mock's
 * plugin through pcaptrace's own capture, decode, IP defragmentation and TCP reassembly
 * (core/tcp.h), so reordered and overlapping segments are handled exactly as the program
 * handles them. Not installed: it links the core, which plugins built out of tree do not
 * have. Meson dependency `testkit_core_dep`. */
#ifndef PT_MOCKCORE_H
#define PT_MOCKCORE_H

#include <pcaptrace/testkit.h>

/* Like pt_mock_feed_pcap() (same options and statistics), but streams come from the core's
 * TCP tracker: out-of-order data is reassembled rather than reported as a gap, and a stream
 * is handed to the plugin when its server port is a server port (or opts->all_ports); there
 * is no probing. `stats->old_bytes` and `undecoded` stay 0 (the core counts them itself);
 * `flows_dropped` counts flows the plugin declined. Returns 0, or -1 with *error set
 * (malloc()ed) when the file cannot be read. */
int pt_mock_feed_pcap_core(pt_mockhost *m, const char *path, const pt_mock_pcap_opts *opts,
                           pt_mock_pcap_stats *stats, char **error);

#endif
