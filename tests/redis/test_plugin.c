/* test_plugin.c — the Redis plugin driven through the plugin test kit (mock host): pairing,
 * latency, pipelining, every split, session semantics (HELLO 3, pub/sub, MULTI, CLIENT REPLY,
 * MONITOR, blocking), redaction, resynchronisation, hostile input, text rendering. */
#include <CUnit/Basic.h>
#include <pcaptrace/testkit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"

const pt_plugin *pt_redis_descriptor(void);

#define C PT_DIR_TO_SERVER
#define S PT_DIR_TO_CLIENT

static pt_mockhost *mock(const char *const *opts)
{
    char *err = NULL;
    pt_mockhost *m = pt_mock_new(pt_redis_descriptor(), opts, &err);
    if (!m)
        fprintf(stderr, "pt_mock_new: %s\n", err);
    free(err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    return m;
}

static pt_mock_stream *open_stream(pt_mockhost *m)
{
    pt_mock_stream *s = pt_mock_stream_open(m, "127.0.0.1:61318", "127.0.0.1:6379");
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    return s;
}

static const char *str(const pt_mock_event *e, const char *f)
{
    const char *v = pt_mock_field_str(e, f);
    return v ? v : "(absent)";
}

static void check_text(pt_mockhost *m, const pt_mock_event *e, const char *want)
{
    char *t = pt_mock_format_text(m, e);
    CU_ASSERT_STRING_EQUAL(t, want);
    if (strcmp(t, want) != 0)
        fprintf(stderr, "\ntext: [%s]\nwant: [%s]\n", t, want);
    free(t);
}

static void finish(pt_mockhost *m)
{
    CU_ASSERT_EQUAL(pt_mock_error_count(m), 0);
    pt_mock_free(m);
}

static void test_get_latency(void)
{
    pt_mockhost *m = mock(NULL);
    pt_mock_stream *s = open_stream(m);
    pt_mock_feed_str(s, C, "*2\r\n$3\r\nGET\r\n$3\r\nfoo\r\n");
    pt_mock_clock_advance_us(m, 92);
    pt_mock_feed_str(s, S, "$3\r\nbar\r\n");
    CU_ASSERT_EQUAL(pt_mock_count_kind(m, "command"), 1);
    const pt_mock_event *e = pt_mock_find(m, "command", 0);
    CU_ASSERT_STRING_EQUAL(str(e, "command"), "GET");
    CU_ASSERT_STRING_EQUAL(str(e, "key"), "foo");
    CU_ASSERT_STRING_EQUAL(str(e, "reply"), "bar");
    CU_ASSERT_STRING_EQUAL(str(e, "reply_type"), "bulk");
    CU_ASSERT_FALSE(pt_mock_field_has(e, "inline") || pt_mock_field_has(e, "blocking") ||
                    pt_mock_field_has(e, "multi") || pt_mock_field_has(e, "resp"));
    CU_ASSERT_EQUAL(pt_mock_field_int(e, "latency_us", -1), 92);
    CU_ASSERT_EQUAL(pt_mock_field_int(e, "seq", -1), 1);
    const pt_field *err = pt_mock_field(e, "error"); /* always present on a paired command */
    CU_ASSERT_TRUE(err && err->type == PT_FIELD_BOOL && !err->v.b);
    CU_ASSERT_EQUAL(pt_mock_field_int(e, "reply_bytes", -1), 9);
    CU_ASSERT_EQUAL(pt_mock_field_int(e, "request_bytes", -1), 22);
    CU_ASSERT_EQUAL(pt_mock_field_int(e, "arg_bytes", -1), 3);
    CU_ASSERT_EQUAL(e->ts.sec, PT_MOCK_EPOCH_SEC);
    check_text(m, e, "GET foo -> \"bar\" 0.092ms");
    finish(m);
}

/* A session with a bit of everything, used for the split tests. */
static const char session_req[] = "*3\r\n$3\r\nSET\r\n$3\r\nfoo\r\n$3\r\nbar\r\n"
                                  "*2\r\n$3\r\nGET\r\n$3\r\nfoo\r\n"
                                  "*1\r\n$4\r\nNOPE\r\n"
                                  "PING\r\n"
                                  "*2\r\n$4\r\nINCR\r\n$1\r\nn\r\n"
                                  "*3\r\n$6\r\nCONFIG\r\n$3\r\nGET\r\n$9\r\nmaxmemory\r\n"
                                  "*3\r\n$6\r\nLRANGE\r\n$1\r\nl\r\n$2\r\n-1\r\n";
static const char session_rep[] = "+OK\r\n"
                                  "$3\r\nbar\r\n"
                                  "-ERR unknown command 'NOPE'\r\n"
                                  "+PONG\r\n"
                                  ":5\r\n"
                                  "*2\r\n$9\r\nmaxmemory\r\n$1\r\n0\r\n"
                                  "*3\r\n$1\r\na\r\n$-1\r\n:7\r\n";

static const char *const session_text[] = {
    "SET foo bar -> OK 0.000ms",
    "GET foo -> \"bar\" 0.000ms",
    "NOPE -> (error) ERR unknown command 'NOPE' 0.000ms",
    "PING -> PONG 0.000ms",
    "INCR n -> (integer) 5 0.000ms",
    "CONFIG GET maxmemory -> [maxmemory, 0] 0.000ms",
    "LRANGE l -1 -> [a, (nil), 7] 0.000ms",
};

static void check_session(pt_mockhost *m)
{
    size_t n = sizeof(session_text) / sizeof(session_text[0]);
    CU_ASSERT_EQUAL(pt_mock_count_kind(m, "command"), n);
    CU_ASSERT_EQUAL(pt_mock_event_count(m), n);
    for (size_t i = 0; i < n && i < pt_mock_count_kind(m, "command"); i++) {
        const pt_mock_event *e = pt_mock_find(m, "command", i);
        CU_ASSERT_EQUAL(pt_mock_field_int(e, "seq", -1), (int64_t)i + 1);
        check_text(m, e, session_text[i]);
    }
    const pt_mock_event *err = pt_mock_find(m, "command", 2);
    CU_ASSERT_EQUAL(pt_mock_field_int(err, "error", -1), 1);
    CU_ASSERT_STRING_EQUAL(str(err, "reply_type"), "error");
    const pt_mock_event *ping = pt_mock_find(m, "command", 3);
    CU_ASSERT_EQUAL(pt_mock_field_int(ping, "inline", -1), 1);
    CU_ASSERT_FALSE(pt_mock_field_has(ping, "key") && pt_mock_field_str(ping, "key"));
    const pt_mock_event *cfg = pt_mock_find(m, "command", 5);
    CU_ASSERT_STRING_EQUAL(str(cfg, "command"), "CONFIG|GET");
    CU_ASSERT_STRING_EQUAL(pt_mock_field_list_item(cfg, "args", 0), "maxmemory");
    CU_ASSERT_PTR_NULL(pt_mock_field_str(cfg, "key"));
}

static void test_pipelined_session(void)
{
    pt_mockhost *m = mock(NULL);
    pt_mock_stream *s = open_stream(m);
    pt_mock_feed_str(s, C, session_req);
    pt_mock_feed_str(s, S, session_rep);
    check_session(m);
    finish(m);
}

static void test_every_split(void)
{
    size_t chunks[] = {1, 2, 3, 5, 7, 11, 64};
    for (size_t k = 0; k < sizeof(chunks) / sizeof(chunks[0]); k++) {
        pt_mockhost *m = mock(NULL);
        pt_mock_stream *s = open_stream(m);
        pt_mock_feed_split(s, C, session_req, sizeof(session_req) - 1, chunks[k], NULL);
        pt_mock_feed_split(s, S, session_rep, sizeof(session_rep) - 1, chunks[k], NULL);
        check_session(m);
        finish(m);
    }
    /* every two-piece split of both sides */
    for (size_t cut = 1; cut < sizeof(session_rep) - 1; cut++) {
        pt_mockhost *m = mock(NULL);
        pt_mock_stream *s = open_stream(m);
        size_t rc = cut < sizeof(session_req) - 1 ? cut : 1;
        pt_mock_feed(s, C, session_req, rc, NULL);
        pt_mock_feed(s, C, session_req + rc, sizeof(session_req) - 1 - rc, NULL);
        pt_mock_feed(s, S, session_rep, cut, NULL);
        pt_mock_feed(s, S, session_rep + cut, sizeof(session_rep) - 1 - cut, NULL);
        check_session(m);
        finish(m);
    }
}

static void test_redaction(void)
{
    static const char req[] =
        "*2\r\n$4\r\nAUTH\r\n$6\r\nsecret\r\n"
        "*5\r\n$5\r\nHELLO\r\n$1\r\n3\r\n$4\r\nAUTH\r\n$4\r\nuser\r\n$4\r\npass\r\n";
    pt_mockhost *m = mock(NULL);
    pt_mock_stream *s = open_stream(m);
    pt_mock_feed_str(s, C, req);
    pt_mock_feed_str(s, S, "+OK\r\n%1\r\n+server\r\n+redis\r\n");
    const pt_mock_event *a = pt_mock_find(m, "command", 0);
    const pt_mock_event *h = pt_mock_find(m, "command", 1);
    CU_ASSERT_STRING_EQUAL(pt_mock_field_list_item(a, "args", 0), "(redacted)");
    CU_ASSERT_STRING_EQUAL(pt_mock_field_list_item(h, "args", 0), "3");
    CU_ASSERT_STRING_EQUAL(pt_mock_field_list_item(h, "args", 1), "AUTH");
    CU_ASSERT_STRING_EQUAL(pt_mock_field_list_item(h, "args", 2), "(redacted)");
    CU_ASSERT_STRING_EQUAL(pt_mock_field_list_item(h, "args", 3), "(redacted)");
    CU_ASSERT_STRING_EQUAL(str(h, "reply_type"), "map");
    CU_ASSERT_STRING_EQUAL(str(h, "reply"), "{server: redis}");
    CU_ASSERT_EQUAL(pt_mock_field_int(h, "resp", -1), 3);
    finish(m);

    const char *opts[] = {"redact=false", NULL};
    m = mock(opts);
    s = open_stream(m);
    pt_mock_feed_str(s, C, req);
    pt_mock_feed_str(s, S, "+OK\r\n");
    CU_ASSERT_STRING_EQUAL(pt_mock_field_list_item(pt_mock_find(m, "command", 0), "args", 0),
                           "secret");
    finish(m);
}

static void test_resp3_push(void)
{
    pt_mockhost *m = mock(NULL);
    pt_mock_stream *s = open_stream(m);
    pt_mock_feed_str(s, C, "HELLO 3\r\n");
    pt_mock_feed_str(s, S, "%1\r\n$5\r\nproto\r\n:3\r\n");
    pt_mock_feed_str(s, C, "*3\r\n$9\r\nSUBSCRIBE\r\n$1\r\na\r\n$1\r\nb\r\n");
    pt_mock_feed_str(s, S,
                     ">3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n"
                     ">3\r\n$9\r\nsubscribe\r\n$1\r\nb\r\n:2\r\n"
                     ">3\r\n$7\r\nmessage\r\n$1\r\na\r\n$5\r\nhello\r\n");
    pt_mock_feed_str(s, C, "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n");
    pt_mock_feed_str(s, S,
                     ">3\r\n$7\r\nmessage\r\n$1\r\nb\r\n$2\r\nyo\r\n"
                     "|1\r\n+ttl\r\n:5\r\n_\r\n");
    CU_ASSERT_EQUAL(pt_mock_count_kind(m, "command"), 3);
    CU_ASSERT_EQUAL(pt_mock_count_kind(m, "push"), 2);
    const pt_mock_event *sub = pt_mock_find(m, "command", 1);
    CU_ASSERT_STRING_EQUAL(str(sub, "command"), "SUBSCRIBE");
    CU_ASSERT_STRING_EQUAL(str(sub, "reply_type"), "push");
    const pt_mock_event *p = pt_mock_find(m, "push", 0);
    CU_ASSERT_STRING_EQUAL(str(p, "kind"), "message");
    CU_ASSERT_STRING_EQUAL(str(p, "channel"), "a");
    CU_ASSERT_STRING_EQUAL(str(p, "message"), "hello");
    check_text(m, p, ">> message a \"hello\" [message, a, hello]");
    const pt_mock_event *get = pt_mock_find(m, "command", 2);
    CU_ASSERT_STRING_EQUAL(str(get, "reply_type"), "null");
    CU_ASSERT_EQUAL(pt_mock_field_int(get, "resp", -1), 3);
    check_text(m, get, "GET k -> (nil) 0.000ms");
    finish(m);
}

static void test_resp2_pubsub(void)
{
    pt_mockhost *m = mock(NULL);
    pt_mock_stream *s = open_stream(m);
    pt_mock_feed_str(s, C, "SUBSCRIBE a b\r\n");
    pt_mock_feed_str(s, S,
                     "*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n"
                     "*3\r\n$9\r\nsubscribe\r\n$1\r\nb\r\n:2\r\n");
    pt_mock_feed_str(s, C, "PSUBSCRIBE n*\r\n");
    pt_mock_feed_str(s, S,
                     "*3\r\n$10\r\npsubscribe\r\n$2\r\nn*\r\n:3\r\n"
                     "*3\r\n$7\r\nmessage\r\n$1\r\na\r\n$2\r\nhi\r\n"
                     "*4\r\n$8\r\npmessage\r\n$2\r\nn*\r\n$2\r\nnx\r\n$3\r\nbye\r\n");
    pt_mock_feed_str(s, C, "PING\r\nUNSUBSCRIBE\r\nPUNSUBSCRIBE\r\n");
    pt_mock_feed_str(s, S,
                     "*2\r\n$4\r\npong\r\n$0\r\n\r\n"
                     "*3\r\n$11\r\nunsubscribe\r\n$1\r\na\r\n:2\r\n"
                     "*3\r\n$11\r\nunsubscribe\r\n$1\r\nb\r\n:1\r\n"
                     "*3\r\n$12\r\npunsubscribe\r\n$2\r\nn*\r\n:0\r\n");
    pt_mock_feed_str(s, C, "LRANGE l 0 -1\r\n");
    pt_mock_feed_str(s, S, "*3\r\n$7\r\nmessage\r\n$1\r\nx\r\n$1\r\ny\r\n");
    CU_ASSERT_EQUAL(pt_mock_count_kind(m, "unanswered"), 0);
    CU_ASSERT_EQUAL(pt_mock_count_kind(m, "command"), 6);
    CU_ASSERT_EQUAL(pt_mock_count_kind(m, "push"), 2);
    const char *names[] = {"SUBSCRIBE",   "PSUBSCRIBE",   "PING",
                           "UNSUBSCRIBE", "PUNSUBSCRIBE", "LRANGE"};
    for (size_t i = 0; i < 6; i++)
        CU_ASSERT_STRING_EQUAL(str(pt_mock_find(m, "command", i), "command"), names[i]);
    const pt_mock_event *pm = pt_mock_find(m, "push", 1);
    CU_ASSERT_STRING_EQUAL(str(pm, "kind"), "pmessage");
    CU_ASSERT_STRING_EQUAL(str(pm, "pattern"), "n*");
    CU_ASSERT_STRING_EQUAL(str(pm, "channel"), "nx");
    CU_ASSERT_STRING_EQUAL(str(pm, "message"), "bye");
    /* unsubscribed: an array that looks like a message is LRANGE's reply */
    CU_ASSERT_STRING_EQUAL(str(pt_mock_find(m, "command", 5), "reply"), "[message, x, y]");
    finish(m);
}

static void test_multi_exec(void)
{
    pt_mockhost *m = mock(NULL);
    pt_mock_stream *s = open_stream(m);
    pt_mock_feed_str(s, C, "MULTI\r\nINCR a\r\nLPUSH a x\r\nEXEC\r\n");
    pt_mock_feed_str(s, S, "+OK\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n:1\r\n-WRONGTYPE Operation\r\n");
    CU_ASSERT_EQUAL(pt_mock_count_kind(m, "command"), 4);
    CU_ASSERT_FALSE(pt_mock_field_has(pt_mock_find(m, "command", 0), "multi"));
    CU_ASSERT_EQUAL(pt_mock_field_int(pt_mock_find(m, "command", 1), "multi", -1), 1);
    CU_ASSERT_STRING_EQUAL(str(pt_mock_find(m, "command", 2), "reply"), "QUEUED");
    const pt_mock_event *exec = pt_mock_find(m, "command", 3);
    CU_ASSERT_FALSE(pt_mock_field_has(exec, "multi"));
    CU_ASSERT_STRING_EQUAL(str(exec, "reply"), "[1, (error) WRONGTYPE Operation]");
    CU_ASSERT_EQUAL(pt_mock_field_int(exec, "error", -1), 0); /* an error inside is not EXEC's */
    finish(m);
}

static void test_client_reply(void)
{
    pt_mockhost *m = mock(NULL);
    pt_mock_stream *s = open_stream(m);
    pt_mock_feed_str(s, C,
                     "PING\r\nCLIENT REPLY OFF\r\nPING\r\nCLIENT REPLY SKIP\r\n"
                     "CLIENT REPLY ON\r\nPING\r\nCLIENT REPLY SKIP\r\nPING\r\nPING\r\n");
    pt_mock_feed_str(s, S, "+PONG\r\n+OK\r\n+PONG\r\n+PONG\r\n");
    CU_ASSERT_EQUAL(pt_mock_count_kind(m, "command"), 9);
    CU_ASSERT_EQUAL(pt_mock_count_kind(m, "unanswered"), 0);
    /* events come when the command is known to get no reply, or with its reply */
    int none = 0, replied = 0;
    for (size_t i = 0; i < 9; i++) {
        const pt_mock_event *e = pt_mock_find(m, "command", i);
        if (!strcmp(str(e, "reply_type"), "none"))
            none++;
        else
            replied++;
    }
    CU_ASSERT_EQUAL(none, 5);
    CU_ASSERT_EQUAL(replied, 4);
    finish(m);
}

static void test_monitor_and_blocking(void)
{
    pt_mockhost *m = mock(NULL);
    pt_mock_stream *s = open_stream(m);
    pt_mock_feed_str(s, C, "*3\r\n$5\r\nBLPOP\r\n$1\r\nq\r\n$1\r\n0\r\n");
    pt_mock_clock_advance_us(m, 1500000);
    pt_mock_feed_str(s, S, "*2\r\n$1\r\nq\r\n$1\r\nv\r\n");
    const pt_mock_event *b = pt_mock_find(m, "command", 0);
    CU_ASSERT_EQUAL(pt_mock_field_int(b, "blocking", -1), 1);
    CU_ASSERT_EQUAL(pt_mock_field_int(b, "latency_us", -1), 1500000);
    CU_ASSERT_STRING_EQUAL(str(b, "key"), "q");
    check_text(m, b, "BLPOP q 0 -> [q, v] 1500.000ms (blocked)");
    pt_mock_feed_str(s, C, "MONITOR\r\n");
    pt_mock_feed_str(s, S, "+OK\r\n+1700000000.123456 [0 127.0.0.1:5000] \"get\" \"k\"\r\n");
    CU_ASSERT_EQUAL(pt_mock_count_kind(m, "command"), 2);
    const pt_mock_event *p = pt_mock_find(m, "push", 0);
    CU_ASSERT_STRING_EQUAL(str(p, "kind"), "monitor");
    CU_ASSERT_PTR_NOT_NULL(strstr(str(p, "message"), "\"get\" \"k\""));
    CU_ASSERT_EQUAL(pt_mock_count_kind(m, "unanswered"), 0);
    finish(m);
}

static void test_unanswered_and_orphans(void)
{
    pt_mockhost *m = mock(NULL);
    pt_mock_stream *s = open_stream(m);
    pt_mock_feed_str(s, S, "+OK\r\n"); /* a reply before any command: mid-stream */
    pt_mock_feed_str(s, C, "GET a\r\nGET b\r\n");
    pt_mock_feed_str(s, S, "$1\r\n1\r\n");
    pt_mock_close(s, PT_CLOSE_FIN, NULL);
    CU_ASSERT_EQUAL(pt_mock_count_kind(m, "command"), 1);
    CU_ASSERT_EQUAL(pt_mock_count_kind(m, "unanswered"), 2);
    const pt_mock_event *o = pt_mock_find(m, "unanswered", 0);
    CU_ASSERT_STRING_EQUAL(str(o, "side"), "reply");
    const pt_mock_event *u = pt_mock_find(m, "unanswered", 1);
    CU_ASSERT_STRING_EQUAL(str(u, "side"), "command");
    CU_ASSERT_STRING_EQUAL(str(u, "reason"), "fin");
    CU_ASSERT_STRING_EQUAL(str(u, "key"), "b");
    check_text(m, u, "GET b -> (unanswered: fin)");
    finish(m);
}

/* Capture started inside a command; later a gap in each direction. */
static void test_resync(void)
{
    pt_mockhost *m = mock(NULL);
    pt_mock_stream *s = open_stream(m);
    pt_mock_feed_str(s, C, "lue\r\n$3\r\nxyz\r\n");
    pt_mock_feed_str(s, S, "+OK\r\n");
    pt_mock_feed_str(s, C, "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n");
    pt_mock_feed_str(s, S, "$1\r\nv\r\n");
    CU_ASSERT_EQUAL(pt_mock_count_kind(m, "command"), 1);
    CU_ASSERT_STRING_EQUAL(str(pt_mock_find(m, "command", 0), "command"), "GET");
    CU_ASSERT_STRING_EQUAL(str(pt_mock_find(m, "command", 0), "reply"), "v");
    CU_ASSERT_EQUAL(pt_mock_count_kind(m, "unanswered"), 1); /* +OK had no command */
    /* lost request bytes: resync at the next command */
    pt_mock_feed_str(s, C, "*2\r\n$3\r\nGET\r\n$1\r");
    pt_mock_gap(s, C, 1000, NULL);
    pt_mock_feed_str(s, C, "00\r\n*1\r\n$4\r\nPING\r\n");
    pt_mock_feed_str(s, S, "+PONG\r\n");
    CU_ASSERT_EQUAL(pt_mock_count_kind(m, "command"), 2);
    CU_ASSERT_STRING_EQUAL(str(pt_mock_find(m, "command", 1), "command"), "PING");
    /* lost reply bytes: waiting commands are given up, pairing resumes */
    pt_mock_feed_str(s, C, "GET x\r\nGET y\r\n");
    pt_mock_feed_str(s, S, "$100\r\nabc");
    pt_mock_gap(s, S, 500, NULL);
    pt_mock_feed_str(s, C, "GET z\r\n");
    pt_mock_feed_str(s, S, "$1\r\nZ\r\n");
    CU_ASSERT_EQUAL(pt_mock_count_kind(m, "unanswered"), 3);
    CU_ASSERT_STRING_EQUAL(str(pt_mock_find(m, "unanswered", 1), "reason"), "gap");
    const pt_mock_event *z = pt_mock_find(m, "command", 2);
    CU_ASSERT_STRING_EQUAL(str(z, "key"), "z");
    CU_ASSERT_STRING_EQUAL(str(z, "reply"), "Z");
    CU_ASSERT_EQUAL(pt_mock_stream_result(s), PT_FEED_OK);
    finish(m);
}

static void test_hostile(void)
{
    pt_mockhost *m2;
    const char *opts[] = {"max_depth=8", NULL};
    pt_mockhost *m = mock(opts);
    pt_mock_stream *s = open_stream(m);
    pt_mock_feed_str(s, C, "GET k\r\n");
    pt_mock_feed_str(s, S, "$1\r\nv\r\n");
    char deep[4 * 100 + 1];
    for (int i = 0; i < 100; i++)
        memcpy(deep + 4 * i, "*1\r\n", 4);
    pt_mock_feed_str(s, C, "GET k\r\n");
    CU_ASSERT_EQUAL(pt_mock_feed(s, S, deep, 400, NULL), PT_FEED_VIOLATION);
    CU_ASSERT_EQUAL(pt_mock_count_kind(m, "parse_error"), 1);
    const pt_mock_event *e = pt_mock_find(m, "parse_error", 0);
    CU_ASSERT_STRING_EQUAL(str(e, "direction"), "reply");
    CU_ASSERT_EQUAL(pt_mock_field_int(e, "offset", -1), 7 + 9 * 4); /* after the 9th header */
    CU_ASSERT_EQUAL(pt_mock_count_kind(m, "unanswered"), 1);        /* released: GET k given up */
    finish(m);

    m = mock(NULL);
    s = open_stream(m);
    pt_mock_feed_str(s, C, "GET k\r\n");
    /* a bad request: Redis still answers the commands before it, then closes */
    CU_ASSERT_EQUAL(pt_mock_feed_str(s, C, "*2\r\n$-7\r\n"), PT_FEED_OK);
    CU_ASSERT_EQUAL(pt_mock_count_kind(m, "parse_error"), 1);
    CU_ASSERT_EQUAL(pt_mock_feed_str(s, C, "GET ignored\r\n"), PT_FEED_OK);
    CU_ASSERT_EQUAL(pt_mock_feed_str(s, S, "$1\r\nv\r\n"), PT_FEED_VIOLATION);
    CU_ASSERT_EQUAL(pt_mock_count_kind(m, "command"), 1);
    CU_ASSERT_EQUAL(pt_mock_count_kind(m, "unanswered"), 0);
    m2 = mock(NULL);
    s = open_stream(m2);
    CU_ASSERT_EQUAL(pt_mock_feed_str(s, C, "*2\r\n$-7\r\n"), PT_FEED_VIOLATION);
    finish(m2);
    finish(m);

    /* more commands than max_pending: the oldest are given up, memory stays bounded */
    const char *few[] = {"max_pending=4", NULL};
    m = mock(few);
    s = open_stream(m);
    for (int i = 0; i < 100; i++)
        pt_mock_feed_str(s, C, "PING\r\n");
    CU_ASSERT_EQUAL(pt_mock_count_kind(m, "unanswered"), 96);
    pt_mock_feed_str(s, S, "+PONG\r\n+PONG\r\n+PONG\r\n+PONG\r\n");
    CU_ASSERT_EQUAL(pt_mock_count_kind(m, "command"), 4);
    CU_ASSERT_EQUAL(pt_mock_field_int(pt_mock_find(m, "command", 0), "seq", -1), 97);
    finish(m);

    char *err = NULL;
    const char *bad[] = {"max_depth=0", NULL};
    CU_ASSERT_PTR_NULL(pt_mock_new(pt_redis_descriptor(), bad, &err));
    CU_ASSERT_PTR_NOT_NULL(err);
    free(err);
}

/* A value larger than a chunk: shown shortened with its length, binary-safe. */
static void test_big_value(void)
{
    pt_mockhost *m = mock(NULL);
    pt_mock_stream *s = open_stream(m);
    size_t n = 300000;
    char *req = malloc(n + 64);
    int h = snprintf(req, 64, "*3\r\n$3\r\nSET\r\n$3\r\nbig\r\n$%zu\r\n", n);
    for (size_t i = 0; i < n; i++)
        req[h + i] = (char)(i % 256);
    memcpy(req + h + n, "\r\n", 2);
    pt_mock_feed_split(s, C, req, h + n + 2, 1448, NULL);
    pt_mock_feed_str(s, S, "+OK\r\n");
    const pt_mock_event *e = pt_mock_find(m, "command", 0);
    const pt_field *args = pt_mock_field(e, "args");
    CU_ASSERT_PTR_NOT_NULL_FATAL(args);
    CU_ASSERT_EQUAL(args->v.list.count, 2);
    CU_ASSERT_EQUAL(args->v.list.items[1].len, 64);
    CU_ASSERT_EQUAL(args->v.list.items[1].full_len, n);
    CU_ASSERT_EQUAL(memcmp(args->v.list.items[1].ptr, req + h, 64), 0);
    CU_ASSERT_EQUAL(pt_mock_field_int(e, "arg_bytes", -1), (int64_t)(n + 3));
    CU_ASSERT_EQUAL(pt_mock_field_int(e, "request_bytes", -1), (int64_t)(h + n + 2));
    free(req);
    finish(m);
}

/* Every command of the table is found by its name in any case; near misses are not. */
static void test_command_lookup(void)
{
    for (size_t i = 0; i < pt_rcmd_count(); i++) {
        const pt_rcmd *c = pt_rcmd_at(i);
        char lower[PT_RCMD_NAME_MAX + 2], mixed[PT_RCMD_NAME_MAX + 2];
        size_t n = strlen(c->name);
        CU_ASSERT_FATAL(n <= PT_RCMD_NAME_MAX);
        for (size_t k = 0; k < n; k++) {
            char ch = c->name[k];
            lower[k] = (ch >= 'A' && ch <= 'Z') ? (char)(ch - 'A' + 'a') : ch;
            mixed[k] = (k & 1) ? lower[k] : ch;
        }
        CU_ASSERT_PTR_EQUAL(pt_rcmd_find((const uint8_t *)c->name, n), c);
        CU_ASSERT_PTR_EQUAL(pt_rcmd_find((const uint8_t *)lower, n), c);
        CU_ASSERT_PTR_EQUAL(pt_rcmd_find((const uint8_t *)mixed, n), c);
        CU_ASSERT_TRUE(pt_rcmd_is(c, (const uint8_t *)lower, n));
        /* one byte more or less is another name (or none) */
        lower[n] = 'x';
        const pt_rcmd *longer = pt_rcmd_find((const uint8_t *)lower, n + 1);
        CU_ASSERT_TRUE(longer != c);
        if (n > 1)
            CU_ASSERT_TRUE(pt_rcmd_find((const uint8_t *)c->name, n - 1) != c);
    }
    CU_ASSERT_PTR_NULL(pt_rcmd_find((const uint8_t *)"", 0));
    CU_ASSERT_PTR_NULL(pt_rcmd_find((const uint8_t *)"GETX", 4));
    CU_ASSERT_PTR_NULL(pt_rcmd_find((const uint8_t *)"GE\0", 3));
    CU_ASSERT_PTR_NULL(pt_rcmd_find((const uint8_t *)"GEORADIUSBYMEMBER_RO_XYZW", 25));
    CU_ASSERT_PTR_NOT_NULL(pt_rcmd_find((const uint8_t *)"GeoRadiusByMember_Ro", 20));
}

static void test_probe(void)
{
    pt_mockhost *m = mock(NULL);
    CU_ASSERT_EQUAL(pt_mock_probe(m, C, "*1\r\n$4\r\nPING\r\n", 14), PT_PROBE_YES);
    CU_ASSERT_EQUAL(pt_mock_probe(m, C, "*2\r\n$3\r\nget\r\n$1\r\nk\r\n", 20), PT_PROBE_YES);
    CU_ASSERT_EQUAL(pt_mock_probe(m, C, "*1\r\n$4\r\nPI", 10), PT_PROBE_NEED_MORE);
    CU_ASSERT_EQUAL(pt_mock_probe(m, C, "ping\r\n", 6), PT_PROBE_YES);
    CU_ASSERT_EQUAL(pt_mock_probe(m, C, "set k v\r\n", 9), PT_PROBE_YES);
    CU_ASSERT_EQUAL(pt_mock_probe(m, C, "GE", 2), PT_PROBE_NEED_MORE);
    CU_ASSERT_EQUAL(pt_mock_probe(m, C, "GET / HTTP/1.1\r\n", 16), PT_PROBE_NO);
    CU_ASSERT_EQUAL(pt_mock_probe(m, C, "\x16\x03\x01\x02\x00", 5), PT_PROBE_NO);
    CU_ASSERT_EQUAL(pt_mock_probe(m, C, "*1\r\n$4\r\nXXXX\r\n", 14), PT_PROBE_NO);
    CU_ASSERT_EQUAL(pt_mock_probe(m, S, "HTTP/1.1 200 OK\r\n", 17), PT_PROBE_NO);
    finish(m);
}

/* The shared object the program loads: only pt_plugin_entry exported, same behaviour. */
static void test_shared_object(void)
{
    const char *build = getenv("PT_BUILD_ROOT");
    if (!build)
        return;
    char path[4096];
    snprintf(path, sizeof(path), "%s/plugins/redis/pcaptrace-redis.so", build);
    char *err = NULL;
    pt_mockhost *m = pt_mock_load(path, NULL, &err);
    if (!m)
        fprintf(stderr, "pt_mock_load: %s\n", err);
    free(err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    CU_ASSERT_STRING_EQUAL(pt_mock_plugin(m)->name, "redis");
    pt_mock_stream *s = open_stream(m);
    pt_mock_feed_str(s, C, "*2\r\n$3\r\nGET\r\n$3\r\nfoo\r\n");
    pt_mock_clock_advance_us(m, 92);
    pt_mock_feed_str(s, S, "$3\r\nbar\r\n");
    check_text(m, pt_mock_find(m, "command", 0), "GET foo -> \"bar\" 0.092ms");
    finish(m);
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    CU_pSuite s = CU_add_suite("redis-plugin", NULL, NULL);
    CU_add_test(s, "GET paired with latency and text", test_get_latency);
    CU_add_test(s, "pipelined session", test_pipelined_session);
    CU_add_test(s, "every split of a session", test_every_split);
    CU_add_test(s, "AUTH and HELLO AUTH redacted", test_redaction);
    CU_add_test(s, "HELLO 3, RESP3 push, attributes", test_resp3_push);
    CU_add_test(s, "RESP2 pub/sub", test_resp2_pubsub);
    CU_add_test(s, "MULTI/QUEUED/EXEC", test_multi_exec);
    CU_add_test(s, "CLIENT REPLY OFF/SKIP/ON", test_client_reply);
    CU_add_test(s, "MONITOR and blocking commands", test_monitor_and_blocking);
    CU_add_test(s, "unanswered commands and orphan replies", test_unanswered_and_orphans);
    CU_add_test(s, "mid-stream and gaps resynchronise", test_resync);
    CU_add_test(s, "hostile input and limits", test_hostile);
    CU_add_test(s, "big value across chunks", test_big_value);
    CU_add_test(s, "command table lookup", test_command_lookup);
    CU_add_test(s, "probe", test_probe);
    CU_add_test(s, "the shared object", test_shared_object);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures();
    CU_cleanup_registry();
    return failed ? 1 : 0;
}
