/* test_hiredis.c — RESP2 agreement between our parser and hiredis 0.14's redisReader (the
 * reference): the same pseudo-random byte streams, fed whole and in random chunks to both,
 * must give the same trees of values. */
#include <CUnit/Basic.h>
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tree.h"

/* hiredis 0.14 refuses nesting deeper than 7; stay below. */
#define GEN_MAX_DEPTH 5
#define ROUNDS        300

static uint64_t rng_state;

static uint32_t rnd(uint32_t n)
{
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(rng_state >> 33) % n;
}

static void gen_bytes(tree *out, size_t n, bool line)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t c = (uint8_t)rnd(256);
        if (line && (c == '\r' || c == '\n'))
            c = 'x';
        tree_printf(out, "%c", c ? c : 'z');
    }
}

/* Append one random RESP2 value to `out` (raw bytes). */
static void gen_value(tree *out, int depth)
{
    switch (rnd(depth < GEN_MAX_DEPTH ? 7 : 5)) {
    case 0:
        tree_printf(out, "+");
        gen_bytes(out, rnd(20), true);
        tree_printf(out, "\r\n");
        break;
    case 1:
        tree_printf(out, "-ERR ");
        gen_bytes(out, rnd(30), true);
        tree_printf(out, "\r\n");
        break;
    case 2: {
        long long v = (long long)rnd(2000000) - 1000000;
        if (rnd(4) == 0)
            v = v * 1000000000ll;
        tree_printf(out, ":%lld\r\n", v);
        break;
    }
    case 3: {
        size_t n = rnd(8) == 0 ? rnd(3000) : rnd(40);
        tree_printf(out, "$%zu\r\n", n);
        gen_bytes(out, n, false);
        tree_printf(out, "\r\n");
        break;
    }
    case 4:
        tree_printf(out, rnd(2) ? "$-1\r\n" : "*-1\r\n");
        break;
    default: {
        uint32_t n = rnd(6);
        tree_printf(out, "*%u\r\n", n);
        for (uint32_t i = 0; i < n; i++)
            gen_value(out, depth + 1);
        break;
    }
    }
}

/* Our parser, printed in a form hiredis can be printed in too. */
static void ours_value(void *ctx, const pt_resp_item *it)
{
    tree *t = ctx;
    tree_printf(t, "%*s", (int)it->depth * 2, "");
    if (it->null) {
        tree_printf(t, "nil\n");
        return;
    }
    if (it->type == PT_RESP_ARRAY) {
        tree_printf(t, "* %lld\n", (long long)it->count);
        return;
    }
    if (it->type == PT_RESP_INTEGER) {
        char num[32];
        memcpy(num, it->value.ptr, it->value.len);
        num[it->value.len] = '\0';
        tree_printf(t, ": %lld\n", strtoll(num, NULL, 10));
        return;
    }
    tree_printf(t, "%c (%zu) ", (char)it->type, it->value.len);
    tree_bytes(t, it->value.ptr, it->value.len);
    tree_printf(t, "\n");
}

static void ours_done(void *ctx, const pt_resp_msg *m)
{
    tree_printf(ctx, "---\n");
}

static const pt_resp_handler ours = {ours_value, NULL, ours_done};

static void print_hiredis(tree *t, const redisReply *r, int depth)
{
    tree_printf(t, "%*s", depth * 2, "");
    switch (r->type) {
    case REDIS_REPLY_NIL:
        tree_printf(t, "nil\n");
        return;
    case REDIS_REPLY_ARRAY:
        tree_printf(t, "* %zu\n", r->elements);
        for (size_t i = 0; i < r->elements; i++)
            print_hiredis(t, r->element[i], depth + 1);
        return;
    case REDIS_REPLY_INTEGER:
        tree_printf(t, ": %lld\n", r->integer);
        return;
    default:
        tree_printf(t, "%c (%zu) ",
                    r->type == REDIS_REPLY_STATUS  ? '+'
                    : r->type == REDIS_REPLY_ERROR ? '-'
                                                   : '$',
                    (size_t)r->len);
        tree_bytes(t, (const uint8_t *)r->str, (size_t)r->len);
        tree_printf(t, "\n");
    }
}

/* Feed both parsers the same chunks; both must accept everything and print the same. */
static void compare(const tree *stream, size_t max_chunk)
{
    tree a, b;
    tree_init(&a, 0);
    tree_init(&b, 0);
    pt_resp_limits lim;
    pt_resp_limits_default(&lim);
    lim.prefix_bytes = 1 << 16; /* show whole values even when they straddle chunks */
    pt_resp_parser *p = pt_resp_new(PT_RESP_MODE_REPLY, &lim, &ours, &a);
    redisReader *hr = redisReaderCreate();
    size_t off = 0;
    bool ok = true;
    while (off < stream->len && ok) {
        size_t n = max_chunk ? 1 + rnd((uint32_t)max_chunk) : stream->len;
        if (n > stream->len - off)
            n = stream->len - off;
        uint8_t *c = malloc(n);
        memcpy(c, stream->buf + off, n);
        ok = pt_resp_feed(p, c, n) == PT_OK;
        CU_ASSERT_EQUAL(redisReaderFeed(hr, (const char *)c, n), REDIS_OK);
        free(c);
        void *reply;
        while (redisReaderGetReply(hr, &reply) == REDIS_OK && reply) {
            print_hiredis(&b, reply, 0);
            tree_printf(&b, "---\n");
            freeReplyObject(reply);
        }
        off += n;
    }
    CU_ASSERT_TRUE(ok);
    CU_ASSERT_FALSE(pt_resp_busy(p));
    CU_ASSERT_PTR_NOT_NULL_FATAL(a.buf);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b.buf);
    CU_ASSERT_STRING_EQUAL(a.buf, b.buf);
    if (strcmp(a.buf, b.buf) != 0)
        fprintf(stderr, "ours:\n%.2000s\nhiredis:\n%.2000s\n", a.buf, b.buf);
    redisReaderFree(hr);
    pt_resp_free(p);
    tree_free(&a);
    tree_free(&b);
}

static void test_agreement(void)
{
    for (int round = 0; round < ROUNDS; round++) {
        rng_state = 0x5eed0000u + (uint64_t)round;
        tree stream;
        tree_init(&stream, 0);
        uint32_t n = 1 + rnd(20);
        for (uint32_t i = 0; i < n; i++)
            gen_value(&stream, 0);
        compare(&stream, 0);
        compare(&stream, 1);
        compare(&stream, 17);
        compare(&stream, 700);
        tree_free(&stream);
    }
}

/* Hand-picked edge cases both must read the same way. */
static void test_edges(void)
{
    static const char *const cases[] = {
        "+\r\n",      "-\r\n",         ":0\r\n",         ":-9223372036854775807\r\n",
        "$0\r\n\r\n", "*0\r\n",        "+a\rb\r\n",      "*2\r\n*0\r\n*-1\r\n",
        "$-1\r\n",    "*1\r\n$-1\r\n", "$2\r\n\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        tree s;
        tree_init(&s, 0);
        tree_printf(&s, "%s", cases[i]);
        compare(&s, 0);
        compare(&s, 1);
        tree_free(&s);
    }
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    CU_pSuite s = CU_add_suite("resp-vs-hiredis", NULL, NULL);
    CU_add_test(s, "edge cases", test_edges);
    CU_add_test(s, "random RESP2 streams, whole and chunked", test_agreement);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures();
    CU_cleanup_registry();
    return failed ? 1 : 0;
}
