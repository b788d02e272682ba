/* test_memcached.c — the example plugin's own unit tests, written with the pcaptrace plugin
 * test kit (<pcaptrace/testkit.h>, pkg-config pcaptrace-testkit): no core, no root, no
 * network. The pcaptrace source tree has a much larger suite in tests/memcached/. */
#include <CUnit/Basic.h>
#include <stdlib.h>
#include <string.h>

#include <pcaptrace/testkit.h>

/* The plugin is linked into this test: its entry point gives the descriptor. */
const pt_plugin *pt_plugin_entry(void);

/* One request, one response 120 µs later: one `command` event with the latency. */
static void test_get(void)
{
    char *err = NULL;
    pt_mockhost *m = pt_mock_new(pt_plugin_entry(), NULL, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    pt_mock_stream *s = pt_mock_stream_open(m, "192.0.2.1:40000", "192.0.2.2:11211");
    pt_mock_feed_str(s, PT_DIR_TO_SERVER, "get greeting\r\n");
    pt_mock_clock_advance_us(m, 120);
    pt_mock_feed_str(s, PT_DIR_TO_CLIENT, "VALUE greeting 0 5\r\nhello\r\nEND\r\n");

    const pt_mock_event *e = pt_mock_find(m, "command", 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(e);
    CU_ASSERT_STRING_EQUAL(pt_mock_field_str(e, "command"), "get");
    CU_ASSERT_STRING_EQUAL(pt_mock_field_str(e, "key"), "greeting");
    CU_ASSERT_EQUAL(pt_mock_field_int(e, "hits", -1), 1);
    CU_ASSERT_EQUAL(pt_mock_field_int(e, "latency_us", -1), 120);
    char *text = pt_mock_format_text(m, e);
    CU_ASSERT_STRING_EQUAL(text, "get greeting -> END 1/1 hits 5 bytes 120us");
    free(text);
    CU_ASSERT_EQUAL(pt_mock_error_count(m), 0); /* the kit found no contract breach */
    pt_mock_free(m);
}

/* Requests still waiting when the connection closes are reported as `unanswered`. */
static void test_unanswered(void)
{
    pt_mockhost *m = pt_mock_new(pt_plugin_entry(), NULL, NULL);
    pt_mock_stream *s = pt_mock_stream_open(m, "192.0.2.1:40000", "192.0.2.2:11211");
    pt_mock_feed_str(s, PT_DIR_TO_SERVER, "set k 0 0 2\r\nhi\r\n");
    pt_mock_close(s, PT_CLOSE_RST, NULL);
    const pt_mock_event *e = pt_mock_find(m, "unanswered", 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(e);
    CU_ASSERT_STRING_EQUAL(pt_mock_field_str(e, "reason"), "rst");
    pt_mock_free(m);
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS) {
        return 1;
    }
    CU_pSuite s = CU_add_suite("memcached example", NULL, NULL);
    CU_add_test(s, "get", test_get);
    CU_add_test(s, "unanswered", test_unanswered);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures();
    CU_cleanup_registry();
    return failed ? 1 : 0;
}
