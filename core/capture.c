/* capture.c — packet sources on top of libpcap (pcap(3PCAP), pcap-savefile(5),
 * the pcapng draft): live interfaces, capture files and stdin, BPF filter, -w, pcap_stats. */
#include "capture.h"

#include <errno.h>
#include <poll.h>
#include <string.h>

#include "decode.h"

/* Longest interface name we compare when suggesting one. */
#define PT_CAPTURE_IFNAME_MAX 64

struct pt_capture {
    pcap_t *pcap;
    pcap_dumper_t *dumper;
    char *file_buffer; /* stdio buffer of the capture file (freed after pcap_close) */
    char *name;        /* file name or interface name, for messages */
    bool live;
    int fd;             /* selectable descriptor of a live capture, -1 for files */
    int timeout_ms;     /* how long one live dispatch waits for packets */
    bool nano;          /* timestamps from libpcap are in ns (else µs) */
    uint64_t delivered; /* frames handed to the callback, for "packet N" messages */
    int dlt;
    /* Per-dispatch state for the libpcap callback. */
    pt_capture_fn fn;
    void *ctx;
};

GQuark pt_session_error_quark(void)
{
    return g_quark_from_static_string("pt-session-error-quark");
}

/* Whether pcap_activate() failed for lack of privileges: PERM_DENIED, or a generic error
 * whose message says "Operation not permitted" (some kernels and paths). */
static bool pt_capture_is_perm_error(int rc, const char *msg)
{
    return rc == PCAP_ERROR_PERM_DENIED || rc == PCAP_ERROR_PROMISC_PERM_DENIED ||
           strstr(msg, "not permitted") != NULL || strstr(msg, "ermission denied") != NULL;
}

/* Build the "unknown interface" message: every interface that exists, and the nearest. */
static void pt_capture_set_no_device(const char *name, GError **error)
{
    GString *msg = g_string_new(NULL);
    g_string_append_printf(msg, "%s: no such interface", name);
    char *hint = pt_capture_suggest_interface(name);
    if (hint != NULL) {
        g_string_append_printf(msg, "; did you mean '%s'?", hint);
        g_free(hint);
    }
    char errbuf[PCAP_ERRBUF_SIZE];
    pcap_if_t *all = NULL;
    if (pcap_findalldevs(&all, errbuf) == 0 && all != NULL) {
        g_string_append(msg, " (interfaces:");
        for (pcap_if_t *d = all; d != NULL; d = d->next) {
            g_string_append_printf(msg, " %s", d->name);
        }
        g_string_append(msg, ")");
    }
    if (all != NULL) {
        pcap_freealldevs(all);
    }
    g_set_error_literal(error, PT_SESSION_ERROR, PT_SESSION_ERROR_NO_DEVICE, msg->str);
    g_string_free(msg, TRUE);
}

/* Create and activate a live capture with the options of `src`. */
static pcap_t *pt_capture_open_live(const pt_source *src, const char *iface, bool *nano,
                                    GError **error)
{
    char errbuf[PCAP_ERRBUF_SIZE] = "";
    pcap_t *p = pcap_create(iface, errbuf);
    if (p == NULL) {
        g_set_error(error, PT_SESSION_ERROR, PT_SESSION_ERROR_OPEN, "%s: %s", iface, errbuf);
        return NULL;
    }
    int snaplen = src->snaplen > 0 ? src->snaplen : PT_CAPTURE_SNAPLEN_DEFAULT;
    pcap_set_snaplen(p, snaplen);
    pcap_set_promisc(p, src->no_promisc ? 0 : 1);
    pcap_set_timeout(p, src->timeout_ms > 0 ? src->timeout_ms : PT_CAPTURE_TIMEOUT_MS_DEFAULT);
    if (src->immediate) {
        pcap_set_immediate_mode(p, 1);
    }
    if (src->buffer_mib > 0) {
        pcap_set_buffer_size(p, src->buffer_mib * 1024 * 1024);
    }
    *nano = pcap_set_tstamp_precision(p, PCAP_TSTAMP_PRECISION_NANO) == 0;

    int rc = pcap_activate(p);
    if (rc < 0) {
        const char *msg = pcap_geterr(p);
        if (rc == PCAP_ERROR_NO_SUCH_DEVICE) {
            pt_capture_set_no_device(iface, error);
        } else if (pt_capture_is_perm_error(rc, msg)) {
            g_set_error(error, PT_SESSION_ERROR, PT_SESSION_ERROR_PERMISSION,
                        "%s: %s: capturing needs root or the CAP_NET_RAW capability (e.g. "
                        "`setcap cap_net_raw,cap_net_admin=eip pcaptrace`)",
                        iface, msg[0] ? msg : pcap_statustostr(rc));
        } else if (rc == PCAP_ERROR_IFACE_NOT_UP) {
            g_set_error(error, PT_SESSION_ERROR, PT_SESSION_ERROR_OPEN,
                        "%s: interface is down (ip link set %s up)", iface, iface);
        } else {
            g_set_error(error, PT_SESSION_ERROR, PT_SESSION_ERROR_OPEN, "%s: %s", iface,
                        msg[0] ? msg : pcap_statustostr(rc));
        }
        pcap_close(p);
        return NULL;
    }
    if (rc > 0) {
        g_printerr("pcaptrace: warning: %s: %s\n", iface, pcap_statustostr(rc));
    }
    *nano = pcap_get_tstamp_precision(p) == PCAP_TSTAMP_PRECISION_NANO;
    return p;
}

/* Compile and install the filter; a bad one gives libpcap's message. */
static bool pt_capture_set_filter(pt_capture *c, const char *filter, GError **error)
{
    if (filter == NULL || filter[0] == '\0') {
        return true;
    }
    bpf_u_int32 net = 0, mask = PCAP_NETMASK_UNKNOWN;
    char errbuf[PCAP_ERRBUF_SIZE];
    if (c->live && pcap_lookupnet(c->name, &net, &mask, errbuf) < 0) {
        mask = PCAP_NETMASK_UNKNOWN;
    }
    struct bpf_program prog;
    if (pcap_compile(c->pcap, &prog, filter, 1, mask) < 0) {
        g_set_error(error, PT_SESSION_ERROR, PT_SESSION_ERROR_FILTER, "bad filter '%s': %s", filter,
                    pcap_geterr(c->pcap));
        return false;
    }
    int rc = pcap_setfilter(c->pcap, &prog);
    pcap_freecode(&prog);
    if (rc < 0) {
        g_set_error(error, PT_SESSION_ERROR, PT_SESSION_ERROR_FILTER, "cannot set filter '%s': %s",
                    filter, pcap_geterr(c->pcap));
        return false;
    }
    return true;
}

/* Refuse link types the decoder does not know, naming them. */
static bool pt_capture_check_dlt(pt_capture *c, GError **error)
{
    c->dlt = pcap_datalink(c->pcap);
    if (pt_decode_supports_dlt(c->dlt)) {
        return true;
    }
    const char *name = pcap_datalink_val_to_name(c->dlt);
    const char *desc = pcap_datalink_val_to_description(c->dlt);
    g_set_error(error, PT_SESSION_ERROR, PT_SESSION_ERROR_LINKTYPE,
                "%s: link type %s (%d%s%s) is not supported (pcaptrace decodes Ethernet, VLAN, "
                "Linux SLL/SLL2, BSD NULL/LOOP and raw IP)",
                c->name, name ? name : "DLT", c->dlt, desc ? ", " : "", desc ? desc : "");
    return false;
}

/* Open a capture file (or stdin for "-") through our own stdio stream with a 64 KiB buffer:
 * libpcap's default 4 KiB refills cost more than decoding small packets, while every record
 * is copied from the stdio buffer into libpcap's, and from a buffer much larger than L2 that
 * copy misses the cache (1 MiB cost 25% more CPU than 64 KiB on 64 KiB TSO records; see
 * bench/README.md). Timestamps come in ns. */
static pcap_t *pt_capture_open_file(pt_capture *c, const char *path, char *errbuf)
{
    FILE *fp = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (fp == NULL) {
        snprintf(errbuf, PCAP_ERRBUF_SIZE, "%s", g_strerror(errno));
        return NULL;
    }
    c->file_buffer = g_malloc(PT_CAPTURE_FILE_BUFFER);
    setvbuf(fp, c->file_buffer, _IOFBF, PT_CAPTURE_FILE_BUFFER);
    pcap_t *p = pcap_fopen_offline_with_tstamp_precision(fp, PCAP_TSTAMP_PRECISION_NANO, errbuf);
    if (p == NULL) {
        fclose(fp);
    }
    return p;
}

pt_capture *pt_capture_open(const pt_source *src, GError **error)
{
    if (src->snaplen < 0 || src->snaplen > PT_CAPTURE_SNAPLEN_MAX) {
        g_set_error(error, PT_SESSION_ERROR, PT_SESSION_ERROR_USAGE,
                    "snapshot length %d out of range (1..%d)", src->snaplen,
                    PT_CAPTURE_SNAPLEN_MAX);
        return NULL;
    }
    if (src->buffer_mib < 0 || src->buffer_mib > PT_CAPTURE_BUFFER_MIB_MAX) {
        g_set_error(error, PT_SESSION_ERROR, PT_SESSION_ERROR_USAGE,
                    "buffer size %d MiB out of range (1..%d)", src->buffer_mib,
                    PT_CAPTURE_BUFFER_MIB_MAX);
        return NULL;
    }
    pt_capture *c = g_new0(pt_capture, 1);
    c->fd = -1;
    if (src->file != NULL) {
        char errbuf[PCAP_ERRBUF_SIZE] = "";
        c->name = g_strdup(strcmp(src->file, "-") == 0 ? "<stdin>" : src->file);
        c->pcap = pt_capture_open_file(c, src->file, errbuf);
        if (c->pcap == NULL) {
            g_set_error(error, PT_SESSION_ERROR, PT_SESSION_ERROR_OPEN, "%s: %s", c->name, errbuf);
            goto fail;
        }
        c->nano = true;
    } else {
        if (src->interface != NULL) {
            c->name = g_strdup(src->interface);
        } else if ((c->name = pt_capture_default_interface(error)) == NULL) {
            goto fail;
        }
        c->live = true;
        c->pcap = pt_capture_open_live(src, c->name, &c->nano, error);
        if (c->pcap == NULL) {
            goto fail;
        }
        char errbuf[PCAP_ERRBUF_SIZE];
        c->timeout_ms = src->timeout_ms > 0 ? src->timeout_ms : PT_CAPTURE_TIMEOUT_MS_DEFAULT;
        c->fd = pcap_setnonblock(c->pcap, 1, errbuf) == 0 ? pcap_get_selectable_fd(c->pcap) : -1;
    }
    if (!pt_capture_check_dlt(c, error) || !pt_capture_set_filter(c, src->filter, error)) {
        goto fail;
    }
    if (src->save_file != NULL) {
        c->dumper = pcap_dump_open(c->pcap, src->save_file);
        if (c->dumper == NULL) {
            g_set_error(error, PT_SESSION_ERROR, PT_SESSION_ERROR_SAVE, "%s: %s", src->save_file,
                        pcap_geterr(c->pcap));
            goto fail;
        }
    }
    return c;
fail:
    pt_capture_close(c);
    return NULL;
}

void pt_capture_close(pt_capture *c)
{
    if (c == NULL) {
        return;
    }
    if (c->dumper != NULL) {
        pcap_dump_flush(c->dumper);
        pcap_dump_close(c->dumper);
    }
    if (c->pcap != NULL) {
        pcap_close(c->pcap); /* closes the file stream too */
    }
    g_free(c->file_buffer);
    g_free(c->name);
    g_free(c);
}

int pt_capture_datalink(const pt_capture *c)
{
    return c->dlt;
}

const char *pt_capture_name(const pt_capture *c)
{
    return c->name;
}

bool pt_capture_is_live(const pt_capture *c)
{
    return c->live;
}

/* libpcap's per-packet callback: save the frame if asked, convert the time, deliver. */
static void pt_capture_on_frame(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
    pt_capture *c = (pt_capture *)user;
    if (c->dumper != NULL) {
        pcap_dump((u_char *)c->dumper, h, bytes);
    }
    pt_time ts = {.sec = h->ts.tv_sec,
                  .nsec = (uint32_t)(c->nano ? h->ts.tv_usec : h->ts.tv_usec * 1000)};
    c->delivered++;
    c->fn(c->ctx, &ts, h->caplen, h->len, bytes);
}

int pt_capture_dispatch(pt_capture *c, int max, pt_capture_fn fn, void *ctx, bool *eof,
                        GError **error)
{
    c->fn = fn;
    c->ctx = ctx;
    *eof = false;
    /* A live handle is non-blocking and waited for here, so an idle network still returns
     * every timeout_ms (TPACKET_V3 alone can block until traffic comes) and a signal
     * interrupts the wait. */
    if (c->live && c->fd >= 0) {
        struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
        int r = poll(&pfd, 1, c->timeout_ms);
        if (r < 0 && errno != EINTR) {
            g_set_error(error, PT_SESSION_ERROR, PT_SESSION_ERROR_READ, "%s: poll: %s", c->name,
                        g_strerror(errno));
            return -1;
        }
        if (r <= 0) {
            return 0;
        }
    }
    int n = pcap_dispatch(c->pcap, max > 0 ? max : PT_CAPTURE_BATCH_DEFAULT, pt_capture_on_frame,
                          (u_char *)c);
    if (n == PCAP_ERROR_BREAK) {
        return -2;
    }
    if (n < 0) {
        if (c->live) {
            g_set_error(error, PT_SESSION_ERROR, PT_SESSION_ERROR_READ, "%s: %s", c->name,
                        pcap_geterr(c->pcap));
        } else {
            g_set_error(error, PT_SESSION_ERROR, PT_SESSION_ERROR_READ,
                        "%s: packet %" G_GUINT64_FORMAT ": %s", c->name, c->delivered + 1,
                        pcap_geterr(c->pcap));
        }
        return -1;
    }
    if (n == 0 && !c->live) {
        *eof = true;
    }
    return n;
}

void pt_capture_break(pt_capture *c)
{
    pcap_breakloop(c->pcap);
}

bool pt_capture_stats(pt_capture *c, uint64_t *received, uint64_t *kernel_drops,
                      uint64_t *iface_drops)
{
    struct pcap_stat st;
    if (!c->live || pcap_stats(c->pcap, &st) < 0) {
        return false;
    }
    *received = st.ps_recv;
    *kernel_drops = st.ps_drop;
    *iface_drops = st.ps_ifdrop;
    return true;
}

bool pt_capture_list_interfaces(FILE *out, GError **error)
{
    char errbuf[PCAP_ERRBUF_SIZE];
    pcap_if_t *all = NULL;
    if (pcap_findalldevs(&all, errbuf) < 0) {
        g_set_error(error, PT_SESSION_ERROR, PT_SESSION_ERROR_OPEN, "listing interfaces: %s",
                    errbuf);
        return false;
    }
    int i = 1;
    for (pcap_if_t *d = all; d != NULL; d = d->next, i++) {
        fprintf(out, "%d.%s", i, d->name);
        if (d->description != NULL) {
            fprintf(out, " (%s)", d->description);
        }
        fprintf(out, " [%s%s%s]", (d->flags & PCAP_IF_UP) ? "Up" : "Down",
                (d->flags & PCAP_IF_RUNNING) ? ", Running" : "",
                (d->flags & PCAP_IF_LOOPBACK) ? ", Loopback" : "");
        fputc('\n', out);
    }
    if (all != NULL) {
        pcap_freealldevs(all);
    }
    return true;
}

char *pt_capture_default_interface(GError **error)
{
    char errbuf[PCAP_ERRBUF_SIZE];
    pcap_if_t *all = NULL;
    if (pcap_findalldevs(&all, errbuf) < 0) {
        g_set_error(error, PT_SESSION_ERROR, PT_SESSION_ERROR_OPEN, "listing interfaces: %s",
                    errbuf);
        return NULL;
    }
    char *name = NULL;
    for (pcap_if_t *d = all; d != NULL && name == NULL; d = d->next) {
        if ((d->flags & PCAP_IF_UP) && !(d->flags & PCAP_IF_LOOPBACK) &&
            strcmp(d->name, "any") != 0) {
            name = g_strdup(d->name);
        }
    }
    if (all != NULL) {
        pcap_freealldevs(all);
    }
    if (name == NULL) {
        g_set_error(error, PT_SESSION_ERROR, PT_SESSION_ERROR_NO_DEVICE,
                    "no interface is up apart from loopback; name one with -i (see -D)");
    }
    return name;
}

bool pt_capture_interface_exists(const char *name)
{
    char errbuf[PCAP_ERRBUF_SIZE];
    pcap_if_t *all = NULL;
    bool found = false;
    if (pcap_findalldevs(&all, errbuf) == 0) {
        for (pcap_if_t *d = all; d != NULL && !found; d = d->next) {
            found = strcmp(d->name, name) == 0;
        }
    }
    if (all != NULL) {
        pcap_freealldevs(all);
    }
    return found;
}

unsigned pt_capture_edit_distance(const char *a, const char *b, unsigned cap)
{
    size_t la = strnlen(a, PT_CAPTURE_IFNAME_MAX), lb = strnlen(b, PT_CAPTURE_IFNAME_MAX);
    unsigned row[PT_CAPTURE_IFNAME_MAX + 1];
    for (size_t j = 0; j <= lb; j++) {
        row[j] = (unsigned)j;
    }
    for (size_t i = 1; i <= la; i++) {
        unsigned diag = row[0];
        row[0] = (unsigned)i;
        for (size_t j = 1; j <= lb; j++) {
            unsigned up = row[j];
            unsigned best = diag + (a[i - 1] == b[j - 1] ? 0 : 1);
            if (up + 1 < best) {
                best = up + 1;
            }
            if (row[j - 1] + 1 < best) {
                best = row[j - 1] + 1;
            }
            row[j] = best;
            diag = up;
        }
    }
    return row[lb] < cap ? row[lb] : cap;
}

char *pt_capture_suggest_interface(const char *name)
{
    char errbuf[PCAP_ERRBUF_SIZE];
    pcap_if_t *all = NULL;
    if (pcap_findalldevs(&all, errbuf) < 0) {
        return NULL;
    }
    /* Accept at most 2 edits, and fewer than half the name, so "xyz" suggests nothing. */
    size_t len = strlen(name);
    unsigned limit = len / 2 < 2 ? (unsigned)(len / 2) : 2;
    unsigned best = limit + 1;
    const char *best_name = NULL;
    for (pcap_if_t *d = all; d != NULL; d = d->next) {
        unsigned dist = pt_capture_edit_distance(name, d->name, best);
        if (dist < best) {
            best = dist;
            best_name = d->name;
        }
    }
    char *out = best_name != NULL ? g_strdup(best_name) : NULL;
    if (all != NULL) {
        pcap_freealldevs(all);
    }
    return out;
}
