/* test_resp.c — unit tests of the RESP2/RESP3 parser (plugins/redis/resp.c): every type, every
 * split of the input, inline commands, and hostile input with its limits. */
#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tree.h"

#define PREFIX 32

/* One reply of every RESP2 and RESP3 type, with attributes, nulls and nesting. */
static const char all_types[] =
    "+OK\r\n"
    "-ERR unknown command 'FOO'\r\n"
    ":-42\r\n"
    "$5\r\nhello\r\n"
    "$0\r\n\r\n"
    "$-1\r\n"
    "*-1\r\n"
    "*0\r\n"
    "*3\r\n:1\r\n$4\r\nb\r\nc\r\n*1\r\n+x\r\n"
    "_\r\n"
    "#t\r\n"
    "#f\r\n"
    ",3.14\r\n"
    ",-inf\r\n"
    "(3492890328409238509324850943850943825024385\r\n"
    "!21\r\nSYNTAX invalid syntax\r\n"
    "=15\r\ntxt:Some string\r\n"
    "%2\r\n+first\r\n:1\r\n+second\r\n:2\r\n"
    "~2\r\n+a\r\n+b\r\n"
    "|1\r\n+key-popularity\r\n%1\r\n$1\r\na\r\n,0.19\r\n*2\r\n:2039123\r\n:9543892\r\n"
    ">3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$2\r\nhi\r\n"
    "*2\r\n|1\r\n+ttl\r\n:3600\r\n$1\r\nv\r\n:7\r\n"
    "+with\rcr\r\n"
    "$40\r\n0123456789012345678901234567890123456789\r\n";

static const char all_types_tree[] =
    "+ (2) OK\n= 5\n"
    "- (25) ERR unknown command 'FOO'\n= 28\n"
    ": (3) -42\n= 6\n"
    "$ (5) hello\n= 11\n"
    "$ (0) \n= 6\n"
    "$ nil\n= 5\n"
    "* nil\n= 5\n"
    "* 0\n/*\n= 4\n"
    "* 3\n  : (1) 1\n  $ (4) b\\x0d\\x0ac\n  * 1\n    + (1) x\n  /*\n/*\n= 26\n"
    "_ nil\n= 3\n"
    "# (1) t\n= 4\n"
    "# (1) f\n= 4\n"
    ", (4) 3.14\n= 7\n"
    ", (4) -inf\n= 7\n"
    "( (43) 34928903284092385093248509438509\n= 46\n"
    "! (21) SYNTAX invalid syntax\n= 28\n"
    "= (15) txt:Some string\n= 22\n"
    "% 4\n  + (5) first\n  : (1) 1\n  + (6) second\n  : (1) 2\n/%\n= 29\n"
    "~ 2\n  + (1) a\n  + (1) b\n/~\n= 12\n"
    "| 2\n  + (14) key-popularity\n  % 2\n    $ (1) a\n    , (4) 0.19\n  /%\n/|\n"
    "* 2\n  : (7) 2039123\n  : (7) 9543892\n/*\n= 63\n"
    "> 3\n  $ (7) message\n  $ (4) news\n  $ (2) hi\n/>\n= 35\n"
    "* 2\n  | 2\n    + (3) ttl\n    : (4) 3600\n  /|\n  $ (1) v\n  : (1) 7\n/*\n= 32\n"
    "+ (7) with\\x0dcr\n= 10\n"
    "$ (40) 01234567890123456789012345678901\n= 47\n";

static void parse_whole(tree *t, pt_resp_mode mode, const pt_resp_limits *lim, const char *s,
                        size_t len)
{
    tree_init(t, PREFIX);
    tree_parse(t, mode, lim, (const uint8_t *)s, len, NULL, 0);
}

static pt_resp_limits small_prefix(void)
{
    pt_resp_limits l;
    pt_resp_limits_default(&l);
    l.prefix_bytes = PREFIX;
    return l;
}

static void test_all_types(void)
{
    pt_resp_limits l = small_prefix();
    tree t;
    parse_whole(&t, PT_RESP_MODE_REPLY, &l, all_types, sizeof(all_types) - 1);
    if (strcmp(t.buf, all_types_tree) != 0)
        fprintf(stderr, "got:\n%s\nwant:\n%s\n", t.buf, all_types_tree);
    CU_ASSERT_STRING_EQUAL(t.buf, all_types_tree);
    CU_ASSERT_EQUAL(t.messages, 24);
    CU_ASSERT_EQUAL(t.wire_bytes, sizeof(all_types) - 1);
    tree_free(&t);
}

/* Every split into two chunks, byte by byte, and pseudo-random chunks give the same tree. */
static void check_splits(pt_resp_mode mode, const char *s, size_t len)
{
    pt_resp_limits l = small_prefix();
    tree whole;
    parse_whole(&whole, mode, &l, s, len);
    for (size_t cut = 1; cut < len; cut++) {
        size_t chunks[2] = {cut, len};
        tree t;
        tree_init(&t, PREFIX);
        tree_parse(&t, mode, &l, (const uint8_t *)s, len, chunks, 2);
        CU_ASSERT_STRING_EQUAL(t.buf, whole.buf);
        if (strcmp(t.buf, whole.buf) != 0) {
            fprintf(stderr, "split at %zu differs:\n%s\n", cut, t.buf);
            tree_free(&t);
            break;
        }
        tree_free(&t);
    }
    size_t one = 1;
    tree t;
    tree_init(&t, PREFIX);
    tree_parse(&t, mode, &l, (const uint8_t *)s, len, &one, 1);
    CU_ASSERT_STRING_EQUAL(t.buf, whole.buf);
    tree_free(&t);
    srand(1234);
    for (int round = 0; round < 200; round++) {
        size_t chunks[16];
        for (int i = 0; i < 16; i++)
            chunks[i] = 1 + (size_t)(rand() % 23);
        tree_init(&t, PREFIX);
        tree_parse(&t, mode, &l, (const uint8_t *)s, len, chunks, 16);
        CU_ASSERT_STRING_EQUAL(t.buf, whole.buf);
        tree_free(&t);
    }
    tree_free(&whole);
}

static void test_splits_reply(void)
{
    check_splits(PT_RESP_MODE_REPLY, all_types, sizeof(all_types) - 1);
}

static const char requests[] = "*3\r\n$3\r\nSET\r\n$3\r\nfoo\r\n$3\r\nbar\r\n"
                               "PING\r\n"
                               "set k \"a b\\x41\\n\" 'it\\'s'\n"
                               "\r\n"
                               "   \r\n"
                               "*0\r\n"
                               "*-1\r\n"
                               "*1\r\n$4\r\nPING\r\n"
                               "get  key\r\n";

static const char requests_tree[] = "* 3\n  $ (3) SET\n  $ (3) foo\n  $ (3) bar\n/*\n= 31\n"
                                    "* 1\n  $ (4) PING\n/*\n= 6 inline\n"
                                    "* 4\n  $ (3) set\n  $ (1) k\n  $ (5) a bA\\x0a\n"
                                    "  $ (4) it's\n/*\n= 26 inline\n"
                                    "* 1\n  $ (4) PING\n/*\n= 14\n"
                                    "* 2\n  $ (3) get\n  $ (3) key\n/*\n= 10 inline\n";

static void test_requests(void)
{
    pt_resp_limits l = small_prefix();
    tree t;
    parse_whole(&t, PT_RESP_MODE_REQUEST, &l, requests, sizeof(requests) - 1);
    if (strcmp(t.buf, requests_tree) != 0)
        fprintf(stderr, "got:\n%s\n", t.buf);
    CU_ASSERT_STRING_EQUAL(t.buf, requests_tree);
    tree_free(&t);
    check_splits(PT_RESP_MODE_REQUEST, requests, sizeof(requests) - 1);
}

/* Blanks of every kind between inline arguments, NUL included (Redis splits a C string), and
 * quotes next to them. Each token must advance: a NUL was once a zero-length token that the
 * splitting loop read forever (robust/resp_4_infiniteloop.pcapng). The last line is that
 * capture's shape: an inline line with a NUL, a digit and an unbalanced quote after it. */
static const char blank_requests[] = "GET\0key\r\n"
                                     "\0\0\0\r\n"
                                     "SET\vk\fv\r\n"
                                     "\v\f\0PING\0\r\n"
                                     "SET k \"a\0b\"\r\n"
                                     "'x'\0'y'\r\n"
                                     "\"x\"\v\"y\"\f'z'\r\n"
                                     "echo \"\\x00\"\0\r\n"
                                     "GKMbNZq\0"
                                     "0 'stuubt\r\n";

static const char blank_tree[] = "* 2\n  $ (3) GET\n  $ (3) key\n/*\n= 9 inline\n"
                                 "* 3\n  $ (3) SET\n  $ (1) k\n  $ (1) v\n/*\n= 9 inline\n"
                                 "* 1\n  $ (4) PING\n/*\n= 10 inline\n"
                                 "* 3\n  $ (3) SET\n  $ (1) k\n  $ (3) a\\x00b\n/*\n= 13 inline\n"
                                 "* 2\n  $ (1) x\n  $ (1) y\n/*\n= 9 inline\n"
                                 "* 3\n  $ (1) x\n  $ (1) y\n  $ (1) z\n/*\n= 13 inline\n"
                                 "* 2\n  $ (4) echo\n  $ (1) \\x00\n/*\n= 14 inline\n"
                                 "ERROR unbalanced quotes in inline command at 101\n";

static void test_inline_blanks(void)
{
    pt_resp_limits l = small_prefix();
    tree t;
    parse_whole(&t, PT_RESP_MODE_REQUEST, &l, blank_requests, sizeof(blank_requests) - 1);
    if (strcmp(t.buf, blank_tree) != 0)
        fprintf(stderr, "got:\n%s\n", t.buf);
    CU_ASSERT_STRING_EQUAL(t.buf, blank_tree);
    tree_free(&t);
    /* the same without the bad last line, split everywhere */
    size_t good = sizeof(blank_requests) - 1 - strlen("0 'stuubt\r\n") - strlen("GKMbNZq") - 1;
    check_splits(PT_RESP_MODE_REQUEST, blank_requests, good);
}

/* Expect `input` to fail with an error message containing `why`. */
static void expect_error(pt_resp_mode mode, const pt_resp_limits *lim, const char *input,
                         size_t len, const char *why)
{
    tree t;
    tree_init(&t, PREFIX);
    int r = tree_parse(&t, mode, lim, (const uint8_t *)input, len, NULL, 0);
    CU_ASSERT_EQUAL(r, PT_ERROR);
    CU_ASSERT_PTR_NOT_NULL(strstr(t.buf ? t.buf : "", why));
    if (!strstr(t.buf ? t.buf : "", why))
        fprintf(stderr, "expected '%s' in:\n%s\n", why, t.buf ? t.buf : "");
    tree_free(&t);
    /* byte by byte fails the same way */
    size_t one = 1;
    tree_init(&t, PREFIX);
    r = tree_parse(&t, mode, lim, (const uint8_t *)input, len, &one, 1);
    CU_ASSERT_EQUAL(r, PT_ERROR);
    CU_ASSERT_PTR_NOT_NULL(strstr(t.buf ? t.buf : "", why));
    tree_free(&t);
}

#define EXPECT_ERROR(mode, lim, s, why) expect_error(mode, lim, s, sizeof(s) - 1, why)

static void test_hostile(void)
{
    pt_resp_limits l = small_prefix();
    EXPECT_ERROR(PT_RESP_MODE_REPLY, &l, "$-5\r\n", "invalid bulk length");
    EXPECT_ERROR(PT_RESP_MODE_REPLY, &l, "*-2\r\n", "invalid aggregate length");
    EXPECT_ERROR(PT_RESP_MODE_REPLY, &l, "$99999999999999999999\r\n", "length header too long");
    EXPECT_ERROR(PT_RESP_MODE_REPLY, &l, "$1000000000\r\n", "bulk longer than max_bulk");
    EXPECT_ERROR(PT_RESP_MODE_REPLY, &l, "*999999999\r\n", "aggregate longer than max_elements");
    EXPECT_ERROR(PT_RESP_MODE_REPLY, &l, "%999999999999\r\n", "aggregate longer than max_elements");
    EXPECT_ERROR(PT_RESP_MODE_REPLY, &l, "$3\r\nabcd\r\n", "not followed by CRLF");
    EXPECT_ERROR(PT_RESP_MODE_REPLY, &l, "?what\r\n", "unknown type byte");
    EXPECT_ERROR(PT_RESP_MODE_REPLY, &l, "$\r\n", "bad length header");
    EXPECT_ERROR(PT_RESP_MODE_REPLY, &l, "*1x\r\n", "bad length header");
    EXPECT_ERROR(PT_RESP_MODE_REPLY, &l, ":12a\r\n", "bad integer");
    EXPECT_ERROR(PT_RESP_MODE_REPLY, &l, "#x\r\n", "bad boolean");
    /* a big number is checked whole even when it straddles chunks past the kept prefix */
    EXPECT_ERROR(PT_RESP_MODE_REPLY, &l, "(1234567890123456789012345678901234567890x\r\n",
                 "bad big number");
    EXPECT_ERROR(PT_RESP_MODE_REPLY, &l, "(12\r34\r\n", "bad big number");
    EXPECT_ERROR(PT_RESP_MODE_REPLY, &l, "(-\r\n", "bad big number");
    EXPECT_ERROR(PT_RESP_MODE_REPLY, &l, "_x\r\n", "bad null");
    EXPECT_ERROR(PT_RESP_MODE_REPLY, &l, "=3\r\ntxt\r\n", "bad verbatim");
    EXPECT_ERROR(PT_RESP_MODE_REQUEST, &l, "*2\r\n$3\r\nGET\r\n:1\r\n", "expected '$'");
    EXPECT_ERROR(PT_RESP_MODE_REQUEST, &l, "*1\r\n$-1\r\n", "invalid bulk length");
    EXPECT_ERROR(PT_RESP_MODE_REQUEST, &l, "set k \"unbalanced\r\n", "unbalanced quotes");
    EXPECT_ERROR(PT_RESP_MODE_REQUEST, &l, "set k 'a'b\r\n", "unbalanced quotes");

    /* deep nesting: one more level than allowed */
    l.max_depth = 4;
    EXPECT_ERROR(PT_RESP_MODE_REPLY, &l, "*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n:1\r\n", "max_depth");
    tree t;
    parse_whole(&t, PT_RESP_MODE_REPLY, &l, "*1\r\n*1\r\n*1\r\n*1\r\n:1\r\n", 20);
    CU_ASSERT_EQUAL(t.messages, 1);
    tree_free(&t);

    /* too many values in one message, even when each aggregate is small */
    l = small_prefix();
    l.max_elements = 5;
    EXPECT_ERROR(PT_RESP_MODE_REPLY, &l, "*2\r\n*2\r\n:1\r\n:2\r\n*2\r\n:3\r\n:4\r\n", "too many");
    EXPECT_ERROR(PT_RESP_MODE_REPLY, &l, "*6\r\n", "max_elements");

    /* a line or an inline command that never ends stops at its limit */
    l = small_prefix();
    l.max_bulk = 1000;
    l.max_inline = 100;
    size_t big = 1 << 20;
    char *s = malloc(big);
    memset(s, 'a', big);
    s[0] = '+';
    expect_error(PT_RESP_MODE_REPLY, &l, s, big, "line longer than max_bulk");
    expect_error(PT_RESP_MODE_REQUEST, &l, s + 1, big - 1, "longer than max_inline");
    /* an endless nesting of arrays stops at max_depth, whatever the input size */
    for (size_t i = 0; i + 4 <= big; i += 4)
        memcpy(s + i, "*1\r\n", 4);
    l = small_prefix();
    expect_error(PT_RESP_MODE_REPLY, &l, s, big, "max_depth");
    free(s);
}

/* The error is sticky; a reset makes the parser usable again. */
static void test_reset(void)
{
    tree t;
    tree_init(&t, PREFIX);
    pt_resp_parser *p = pt_resp_new(PT_RESP_MODE_REPLY, NULL, &tree_handler, &t);
    CU_ASSERT_EQUAL(pt_resp_feed(p, (const uint8_t *)"$3\r\nab", 6), PT_OK);
    CU_ASSERT_TRUE(pt_resp_busy(p));
    CU_ASSERT_EQUAL(pt_resp_feed(p, (const uint8_t *)"cd\r\n", 4), PT_ERROR);
    CU_ASSERT_EQUAL(pt_resp_offset(p), 7);
    CU_ASSERT_EQUAL(pt_resp_feed(p, (const uint8_t *)"+OK\r\n", 5), PT_ERROR);
    pt_resp_reset(p);
    CU_ASSERT_FALSE(pt_resp_busy(p));
    CU_ASSERT_EQUAL(pt_resp_feed(p, (const uint8_t *)"+OK\r\n", 5), PT_OK);
    CU_ASSERT_EQUAL(t.messages, 1);
    pt_resp_free(p);
    tree_free(&t);
}

/* A long value split across chunks keeps only the prefix, and its full length. */
static void test_prefix_bound(void)
{
    pt_resp_limits l = small_prefix();
    size_t n = 100000;
    char *s = malloc(n + 32);
    int h = snprintf(s, 32, "$%zu\r\n", n);
    memset(s + h, 'v', n);
    memcpy(s + h + n, "\r\n", 2);
    size_t chunks[1] = {1000};
    tree t;
    tree_init(&t, 1 << 20);
    CU_ASSERT_EQUAL(
        tree_parse(&t, PT_RESP_MODE_REPLY, &l, (const uint8_t *)s, h + n + 2, chunks, 1), PT_OK);
    char want[64];
    snprintf(want, sizeof(want), "$ (%zu) ", n);
    CU_ASSERT_PTR_NOT_NULL(strstr(t.buf, want));
    /* the shown bytes are the 32-byte prefix */
    char *v = strstr(t.buf, ") ") + 2;
    CU_ASSERT_EQUAL(strchr(v, '\n') - v, PREFIX);
    tree_free(&t);
    free(s);
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    CU_pSuite s = CU_add_suite("resp", NULL, NULL);
    CU_add_test(s, "every RESP2/RESP3 type", test_all_types);
    CU_add_test(s, "every split of the replies", test_splits_reply);
    CU_add_test(s, "requests, inline commands, splits", test_requests);
    CU_add_test(s, "inline blanks: NUL, \\v, \\f, quotes", test_inline_blanks);
    CU_add_test(s, "hostile input and limits", test_hostile);
    CU_add_test(s, "sticky error and reset", test_reset);
    CU_add_test(s, "straddling value keeps a bounded prefix", test_prefix_bound);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures();
    CU_cleanup_registry();
    return failed ? 1 : 0;
}
