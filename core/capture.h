/* capture.h — packet sources on top of libpcap: live interfaces (pcap_create/pcap_activate),
 * capture files (pcap and pcapng, µs and ns, either byte order, "-" = stdin), the BPF
 * filter, saving raw packets (-w) and pcap_stats(). Timestamps are delivered in ns. */
#ifndef PT_CORE_CAPTURE_H
#define PT_CORE_CAPTURE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <glib.h>
#include <pcap/pcap.h>

#include "pcaptrace/pcaptrace.h"

/* Defaults of the limits the capture stage enforces; each is a pt_source field. */
#define PT_CAPTURE_SNAPLEN_DEFAULT    262144
#define PT_CAPTURE_SNAPLEN_MAX        262144
#define PT_CAPTURE_TIMEOUT_MS_DEFAULT 250
#define PT_CAPTURE_BATCH_DEFAULT      256
#define PT_CAPTURE_BUFFER_MIB_MAX     4096
#define PT_CAPTURE_FILE_BUFFER        (1u << 16) /* stdio buffer when reading a file */

typedef struct pt_capture pt_capture;

/* Per-frame callback: `ts` is in nanoseconds whatever the source's precision. */
typedef void (*pt_capture_fn)(void *ctx, const pt_time *ts, uint32_t caplen, uint32_t wirelen,
                              const uint8_t *data);

/* Open the file or interface of `src` (defaults applied), check its link type and install
 * the filter. Errors are in the PT_SESSION_ERROR domain. */
pt_capture *pt_capture_open(const pt_source *src, GError **error);
void pt_capture_close(pt_capture *c);

int pt_capture_datalink(const pt_capture *c);
const char *pt_capture_name(const pt_capture *c);
bool pt_capture_is_live(const pt_capture *c);

/* Read one batch and call fn per frame. Returns the number of frames (0 at the end of a
 * file or on a live timeout), -1 on error (*error set, naming the file and packet number),
 * -2 when pt_capture_break() interrupted it. `*eof` is set at the end of a file. */
int pt_capture_dispatch(pt_capture *c, int max, pt_capture_fn fn, void *ctx, bool *eof,
                        GError **error);

/* Interrupt pt_capture_dispatch(); async-signal-safe (pcap_breakloop). */
void pt_capture_break(pt_capture *c);

/* Kernel counters of a live capture; false for files. */
bool pt_capture_stats(pt_capture *c, uint64_t *received, uint64_t *kernel_drops,
                      uint64_t *iface_drops);

/* Print the interfaces like `tcpdump -D`. Returns false with *error when listing fails. */
bool pt_capture_list_interfaces(FILE *out, GError **error);

/* The first up, non-loopback interface (g_free it), or NULL with *error. */
char *pt_capture_default_interface(GError **error);

/* Whether an interface of that name exists. */
bool pt_capture_interface_exists(const char *name);

/* The existing interface name closest to `name` (edit distance), or NULL; g_free it. */
char *pt_capture_suggest_interface(const char *name);

/* Edit distance between two strings (Levenshtein), capped at `cap`. */
unsigned pt_capture_edit_distance(const char *a, const char *b, unsigned cap);

#endif
