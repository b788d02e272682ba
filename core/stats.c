/* stats.c — the statistics lines pcaptrace prints to stderr, and the kernel-drop advice. */
#include "stats.h"

#include <inttypes.h>

/* libpcap's default kernel buffer on Linux (2 MiB), quoted in the advice when -B is unset. */
#define PT_STATS_DEFAULT_BUFFER_MIB 2

void pt_stats_print(pt_stats_printer *pr, FILE *out, const pt_stats *st, bool final)
{
    fprintf(out,
            "pcaptrace: %s%" PRIu64 " packets read (%" PRIu64 " bytes), %" PRIu64
            " truncated, %" PRIu64 " malformed, %" PRIu64 " fragments (%" PRIu64
            " datagrams reassembled, %" PRIu64 " fragments dropped)\n",
            final ? "" : "stats: ", st->packets, st->bytes, st->truncated, st->malformed,
            st->fragments, st->reassembled, st->frag_dropped);
    if (st->have_drops) {
        fprintf(out,
                "pcaptrace: %s%" PRIu64 " packets received by filter, %" PRIu64
                " dropped by kernel, %" PRIu64 " dropped by interface\n",
                final ? "" : "stats: ", st->received, st->kernel_drops, st->iface_drops);
    }
    if (st->have_drops && st->kernel_drops > 0 && !pr->warned_drops) {
        pr->warned_drops = true;
        int now = pr->buffer_mib > 0 ? pr->buffer_mib : PT_STATS_DEFAULT_BUFFER_MIB;
        fprintf(out,
                "pcaptrace: warning: the kernel dropped %" PRIu64
                " packets because pcaptrace did not read them fast enough; streams will have "
                "gaps. Give the capture a larger buffer (-B %d, now about %d MiB) or capture "
                "less with a narrower filter (e.g. 'tcp port 6379').\n",
                st->kernel_drops, now * 4, now);
    }
}
