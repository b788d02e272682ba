/* corpus_memcached.c — robustness run of the memcached plugin over every capture of the
 * shared corpus (../shared/corpus: HTTP, Redis, link types, tcpdump's malformed captures),
 * every TCP connection handed to it whatever its port: it must give non-memcached streams up
 * or report them as parse errors, never crash or breach the plugin contract (checked by the
 * test kit; run it in the sanitizer build too). Exit 77 when the corpus is absent. */
#include <glib.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pcaptrace/testkit.h>

const pt_plugin *pt_plugin_entry(void);

/* Captures bigger than this are skipped, to keep the run short. */
#define CORPUS_MAX_FILE_BYTES (8u << 20)

typedef struct totals {
    unsigned files, unreadable, breaches;
    uint64_t packets, streams, events, commands;
} totals;

static void run_file(const char *path, totals *t)
{
    char *err = NULL;
    pt_mockhost *m = pt_mock_new(pt_plugin_entry(), NULL, &err);
    if (m == NULL) {
        fprintf(stderr, "pt_mock_new: %s\n", err);
        free(err);
        exit(1);
    }
    pt_mock_pcap_opts opts = {.all_ports = true};
    pt_mock_pcap_stats st;
    if (pt_mock_feed_pcap(m, path, &opts, &st, &err) != 0) {
        t->unreadable++; /* libpcap refuses it: fine, that is not the plugin's business */
        free(err);
    }
    t->files++;
    t->packets += st.packets;
    t->streams += st.streams;
    t->events += pt_mock_event_count(m);
    t->commands += pt_mock_count_kind(m, "command");
    if (pt_mock_error_count(m) > 0) {
        fprintf(stderr, "%s: %zu contract breaches, first: %s\n", path, pt_mock_error_count(m),
                pt_mock_error_at(m, 0));
        t->breaches++;
    }
    pt_mock_free(m);
}

static void walk(const char *dir, totals *t)
{
    GDir *d = g_dir_open(dir, 0, NULL);
    if (d == NULL) {
        return;
    }
    const char *name;
    while ((name = g_dir_read_name(d)) != NULL) {
        char *path = g_build_filename(dir, name, NULL);
        GStatBuf sb;
        if (g_file_test(path, G_FILE_TEST_IS_DIR)) {
            walk(path, t);
        } else if ((g_str_has_suffix(name, ".pcap") || g_str_has_suffix(name, ".pcapng")) &&
                   g_stat(path, &sb) == 0 && sb.st_size <= CORPUS_MAX_FILE_BYTES) {
            run_file(path, t);
        }
        g_free(path);
    }
    g_dir_close(d);
}

int main(void)
{
    const char *corpus = getenv("PT_CORPUS");
    if (corpus == NULL || !g_file_test(corpus, G_FILE_TEST_IS_DIR)) {
        printf("SKIP: no corpus (PT_CORPUS)\n");
        return 77;
    }
    totals t = {0};
    walk(corpus, &t);
    printf("%u captures (%u refused by libpcap), %" G_GUINT64_FORMAT " packets, %" G_GUINT64_FORMAT
           " streams, %" G_GUINT64_FORMAT " events (%" G_GUINT64_FORMAT " commands), "
           "%u with contract breaches\n",
           t.files, t.unreadable, t.packets, t.streams, t.events, t.commands, t.breaches);
    return t.files > 0 && t.breaches == 0 ? 0 : 1;
}
