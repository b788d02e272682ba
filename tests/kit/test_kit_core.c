/* test_kit_core.c — CUnit tests of the test kit's core-backed capture feeder
 * (pt_mock_feed_pcap_core), against the kit's own simple feeder on reordered segments. */
#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kit_capture.h"
#include "pt_mockcore.h"

extern const pt_plugin kit_lines_plugin;

/* A connection on the plugin's port whose second segment arrives before its first, with a
 * retransmission and a FIN close; and a connection on another port. */
static char *write_reordered(void)
{
    char *path;
    pcap_t *dead;
    pcap_dumper_t *d = kit_capture_open(&path, &dead);
    kit_put_tcp(d, 0, 1, 40000, 2, 7777, 1000, KIT_SYN, NULL);
    kit_put_tcp(d, 100, 2, 7777, 1, 40000, 5000, KIT_SYN | KIT_ACK, NULL);
    kit_put_tcp(d, 200, 1, 40000, 2, 7777, 1001, KIT_ACK, NULL);
    kit_put_tcp(d, 300, 1, 40000, 2, 7777, 1012, KIT_ACK | KIT_PSH, "two\r\n");
    kit_put_tcp(d, 400, 1, 40000, 2, 7777, 1001, KIT_ACK | KIT_PSH, "HELLO one\r\n");
    kit_put_tcp(d, 450, 1, 40000, 2, 7777, 1001, KIT_ACK | KIT_PSH, "HELLO one\r\n");
    kit_put_tcp(d, 500, 1, 40000, 2, 7777, 1017, KIT_ACK | KIT_PSH, "three\r\n");
    kit_put_tcp(d, 600, 2, 7777, 1, 40000, 5001, KIT_ACK | KIT_PSH, "ok\r\n");
    kit_put_tcp(d, 650, 3, 40001, 4, 9999, 1, KIT_ACK | KIT_PSH, "HELLO elsewhere\r\n");
    kit_put_tcp(d, 700, 1, 40000, 2, 7777, 1024, KIT_ACK | KIT_FIN, NULL);
    kit_put_tcp(d, 800, 2, 7777, 1, 40000, 5005, KIT_ACK | KIT_FIN, NULL);
    kit_put_tcp(d, 900, 1, 40000, 2, 7777, 1025, KIT_ACK, NULL);
    kit_capture_close(d, dead);
    return path;
}

static pt_mockhost *new_mock(void)
{
    return pt_mock_new(&kit_lines_plugin, NULL, NULL);
}

static void test_reordered(void)
{
    char *path = write_reordered();
    pt_mock_pcap_opts only_port = {.server_ports = (const uint16_t[]){7777, 0}};

    /* the core reassembles: every line, in order, no gap */
    pt_mockhost *m = new_mock();
    pt_mock_pcap_stats st;
    char *err = NULL;
    CU_ASSERT_EQUAL_FATAL(pt_mock_feed_pcap_core(m, path, &only_port, &st, &err), 0);
    CU_ASSERT_PTR_NULL(err);
    CU_ASSERT_EQUAL(st.packets, 12);
    CU_ASSERT_EQUAL(st.streams, 1);
    CU_ASSERT_EQUAL(st.gap_bytes, 0);
    CU_ASSERT_EQUAL(st.payload_bytes, 11 + 5 + 7 + 4);
    CU_ASSERT_EQUAL_FATAL(pt_mock_count_kind(m, "line"), 4);
    CU_ASSERT_STRING_EQUAL(pt_mock_field_str(pt_mock_find(m, "line", 0), "text"), "HELLO one");
    CU_ASSERT_STRING_EQUAL(pt_mock_field_str(pt_mock_find(m, "line", 1), "text"), "two");
    CU_ASSERT_STRING_EQUAL(pt_mock_field_str(pt_mock_find(m, "line", 2), "text"), "three");
    CU_ASSERT_EQUAL(pt_mock_count_kind(m, "gap"), 0);
    const pt_mock_event *c = pt_mock_find(m, "closed", 0);
    CU_ASSERT_EQUAL(pt_mock_field_int(c, "reason", -1), PT_CLOSE_FIN);
    CU_ASSERT_EQUAL(pt_mock_error_count(m), 0);
    pt_mock_free(m);

    /* the simple feeder does not buffer: the early segment leaves a gap (documented); it
     * also probes the connection on port 9999, which the core feeder does not */
    m = new_mock();
    CU_ASSERT_EQUAL_FATAL(pt_mock_feed_pcap(m, path, &only_port, &st, NULL), 0);
    CU_ASSERT_EQUAL(st.gap_bytes, 11);
    CU_ASSERT_EQUAL(st.streams, 2);
    CU_ASSERT_EQUAL(pt_mock_count_kind(m, "gap"), 1);
    CU_ASSERT_EQUAL(pt_mock_count_kind(m, "line"), 4);
    CU_ASSERT_STRING_EQUAL(pt_mock_field_str(pt_mock_find(m, "line", 0), "text"), "two");
    pt_mock_free(m);

    /* all_ports: the other connection too */
    m = new_mock();
    pt_mock_pcap_opts all = {.all_ports = true};
    CU_ASSERT_EQUAL(pt_mock_feed_pcap_core(m, path, &all, &st, NULL), 0);
    CU_ASSERT_EQUAL(st.streams, 2);
    CU_ASSERT_EQUAL(pt_mock_count_kind(m, "line"), 5);
    pt_mock_free(m);

    m = new_mock();
    CU_ASSERT_EQUAL(pt_mock_feed_pcap_core(m, "/nonexistent.pcap", NULL, NULL, &err), -1);
    CU_ASSERT_PTR_NOT_NULL(err);
    free(err);
    pt_mock_free(m);
    unlink(path);
    free(path);
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS) {
        return 1;
    }
    CU_pSuite s = CU_add_suite("kit-core", NULL, NULL);
    CU_add_test(s, "reordered segments", test_reordered);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures();
    CU_cleanup_registry();
    return failed ? 1 : 0;
}
