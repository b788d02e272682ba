/* stats.h — printing the session counters (pt_stats of pcaptrace.h) to stderr: at the
 * end, every N seconds with --stats N, and one warning with the remedy for kernel drops. */
#ifndef PT_CORE_STATS_H
#define PT_CORE_STATS_H

#include <stdbool.h>
#include <stdio.h>

#include "pcaptrace/pcaptrace.h"

typedef struct pt_stats_printer {
    bool warned_drops; /* the kernel-drop warning is printed once per run */
    int buffer_mib;    /* the -B value in use (0 = libpcap's default), for the advice */
} pt_stats_printer;

/* Print the counters as "pcaptrace: N packets read ..." lines; `final` says whether this
 * is the end-of-run summary or a periodic one. Adds the drop warning the first time the
 * kernel reports drops. */
void pt_stats_print(pt_stats_printer *pr, FILE *out, const pt_stats *st, bool final);

#endif
