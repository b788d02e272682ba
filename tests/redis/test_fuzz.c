/* test_fuzz.c — seeded fuzzing of the RESP parser (plugins/redis/resp.c) and of the whole Redis
 * plugin: thousands of mutated and random byte streams fed in random chunks, with a step budget
 * (callbacks and events are bounded by the input size) and each batch of cases run in a forked
 * child under alarm(), so a loop that stops making progress fails the test instead of hanging.
 * PT_REDIS_FUZZ_CASES, PT_REDIS_FUZZ_SEED and PT_REDIS_FUZZ_BATCH_SECONDS override the
 * defaults below; PT_REDIS_FUZZ_ONLY=N runs case N alone, in process (to debug it). */
#include <CUnit/Basic.h>
#include <pcaptrace/testkit.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "resp.h"
#include "tree.h"

const pt_plugin *pt_redis_descriptor(void);

/* Cases per target (parser, plugin), cases per forked child, and a child's time budget. */
#define FUZZ_CASES         3000
#define FUZZ_BATCH         100
#define FUZZ_BATCH_SECONDS 60
#define FUZZ_SEED          0x5eed5eedu
/* Longest generated stream per direction, and most mutations applied to one. */
#define FUZZ_MAX_LEN       1536
#define FUZZ_MAX_MUTATIONS 12
/* Budget: callbacks (parser) or events (plugin) per input byte, plus a constant. */
#define FUZZ_STEPS_PER_BYTE 4
#define FUZZ_STEPS_BASE     16

/* Exit codes of a child: budget exceeded, or a check failed. */
#define EXIT_BUDGET 3
#define EXIT_CHECK  4

static uint64_t rng_state;

static uint64_t rnd(void)
{
    /* xorshift64*: deterministic for a seed, no libc state */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545F4914F6CDD1Dull;
}

static size_t below(size_t n)
{
    return n ? (size_t)(rnd() % n) : 0;
}

/* A seed message; its length is explicit because some hold NULs. */
typedef struct fuzz_seed {
    const char *s;
    size_t len;
} fuzz_seed;
#define SEED(lit)                                                                                  \
    {                                                                                              \
        lit, sizeof(lit) - 1                                                                       \
    }

static const fuzz_seed request_seeds[] = {
    SEED("*3\r\n$3\r\nSET\r\n$3\r\nfoo\r\n$3\r\nbar\r\n"),
    SEED("*2\r\n$3\r\nGET\r\n$3\r\nfoo\r\n"),
    SEED("PING\r\n"),
    SEED("set k \"a b\\x41\\n\" 'it\\'s'\r\n"),
    SEED("GET\0key\r\n"),
    SEED("SET\vk\fv\r\n"),
    SEED("\"x\"\v'y'\0z\r\n"),
    SEED("*3\r\n$6\r\nCONFIG\r\n$3\r\nGET\r\n$9\r\nmaxmemory\r\n"),
    SEED("*2\r\n$5\r\nHELLO\r\n$1\r\n3\r\n"),
    SEED("*5\r\n$5\r\nHELLO\r\n$1\r\n3\r\n$4\r\nAUTH\r\n$1\r\nu\r\n$1\r\np\r\n"),
    SEED("*2\r\n$9\r\nSUBSCRIBE\r\n$4\r\nnews\r\n"),
    SEED("*1\r\n$5\r\nMULTI\r\n*2\r\n$4\r\nINCR\r\n$1\r\nv\r\n*1\r\n$4\r\nEXEC\r\n"),
    SEED("*3\r\n$6\r\nCLIENT\r\n$5\r\nREPLY\r\n$3\r\nOFF\r\n"),
    SEED("*3\r\n$5\r\nBLPOP\r\n$4\r\njobs\r\n$1\r\n5\r\n"),
    SEED("*6\r\n$5\r\nXREAD\r\n$5\r\nBLOCK\r\n$1\r\n0\r\n$7\r\nSTREAMS\r\n$1\r\ns\r\n$1\r\n$\r\n"),
    SEED("*4\r\n$4\r\nEVAL\r\n$1\r\nx\r\n$1\r\n1\r\n$1\r\nk\r\n"),
    SEED("*1\r\n$7\r\nMONITOR\r\n"),
    SEED("*0\r\n*-1\r\n\r\n   \r\n"),
};

static const fuzz_seed reply_seeds[] = {
    SEED("+OK\r\n"),
    SEED("-ERR unknown command 'FOO'\r\n"),
    SEED(":-42\r\n"),
    SEED("$5\r\nhello\r\n$-1\r\n*-1\r\n"),
    SEED("*3\r\n:1\r\n$4\r\nb\r\nc\r\n*1\r\n+x\r\n"),
    SEED("_\r\n#t\r\n,3.14\r\n(1234567890123456789012\r\n"),
    SEED("!21\r\nSYNTAX invalid syntax\r\n=15\r\ntxt:Some string\r\n"),
    SEED("%2\r\n+first\r\n:1\r\n+second\r\n:2\r\n~2\r\n+a\r\n+b\r\n"),
    SEED("|1\r\n+key-popularity\r\n%1\r\n$1\r\na\r\n,0.19\r\n$1\r\nv\r\n"),
    SEED(">3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$2\r\nhi\r\n"),
    SEED("*3\r\n$9\r\nsubscribe\r\n$4\r\nnews\r\n:1\r\n"),
    SEED("*3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$2\r\nhi\r\n"),
    SEED("+1700000000.123456 [0 127.0.0.1:6379] \"GET\" \"k\"\r\n"),
    SEED("+QUEUED\r\n*2\r\n:2\r\n:3\r\n"),
    SEED("%1\r\n$6\r\nserver\r\n$5\r\nredis\r\n"),
};

/* Bytes that matter to the parser's states, used by the mutations. */
static const char interesting[] = "\0\r\n\v\f\t \"'\\*$+-:_#,(!=%~|>0123456789x";

static void append(uint8_t *buf, size_t *len, const void *src, size_t n)
{
    if (n > FUZZ_MAX_LEN - *len)
        n = FUZZ_MAX_LEN - *len;
    memcpy(buf + *len, src, n);
    *len += n;
}

static uint8_t pick_byte(void)
{
    if (rnd() & 1)
        return (uint8_t)interesting[below(sizeof(interesting) - 1)];
    return (uint8_t)rnd();
}

/* Mutate buf in place: overwrite, insert, delete, duplicate a range, truncate. */
static void mutate(uint8_t *buf, size_t *len)
{
    size_t n = 1 + below(FUZZ_MAX_MUTATIONS);
    for (size_t k = 0; k < n; k++) {
        size_t at = below(*len + 1);
        switch (rnd() % 6) {
        case 0:
        case 1:
            if (at < *len)
                buf[at] = pick_byte();
            break;
        case 2:
            if (*len < FUZZ_MAX_LEN) {
                memmove(buf + at + 1, buf + at, *len - at);
                buf[at] = pick_byte();
                (*len)++;
            }
            break;
        case 3: {
            size_t del = below(*len - at + 1);
            if (del > 8)
                del = 8;
            memmove(buf + at, buf + at + del, *len - at - del);
            *len -= del;
            break;
        }
        case 4: {
            size_t span = below(*len - at + 1);
            if (span > FUZZ_MAX_LEN - *len)
                span = FUZZ_MAX_LEN - *len;
            memmove(buf + at + span, buf + at, *len - at);
            *len += span;
            break;
        }
        default:
            if (rnd() % 4 == 0)
                *len = at;
            break;
        }
    }
}

/* A stream: 1-6 seed messages (request or reply seeds), mutated or not, or random bytes. */
static size_t make_stream(uint8_t *buf, bool requests)
{
    size_t len = 0;
    if (rnd() % 8 == 0) {
        size_t n = below(256);
        for (size_t i = 0; i < n; i++)
            buf[len++] = pick_byte();
        return len;
    }
    const fuzz_seed *seeds = requests ? request_seeds : reply_seeds;
    size_t n_seeds = requests ? sizeof(request_seeds) / sizeof(request_seeds[0])
                              : sizeof(reply_seeds) / sizeof(reply_seeds[0]);
    size_t n = 1 + below(6);
    for (size_t i = 0; i < n; i++) {
        const fuzz_seed *sd = &seeds[below(n_seeds)];
        append(buf, &len, sd->s, sd->len);
    }
    if (rnd() % 4 != 0)
        mutate(buf, &len);
    return len;
}

/* ---- the parser -------------------------------------------------------------------------- */

typedef struct budget {
    uint64_t steps, max;
} budget;

static void spend(budget *b)
{
    if (++b->steps > b->max) {
        fprintf(stderr, "step budget of %llu exceeded: a loop without progress?\n",
                (unsigned long long)b->max);
        _exit(EXIT_BUDGET);
    }
}

static void check_span(const pt_span *v)
{
    if (v->len > v->full_len || (v->len && !v->ptr)) {
        fprintf(stderr, "bad span: len %zu full_len %llu\n", v->len,
                (unsigned long long)v->full_len);
        _exit(EXIT_CHECK);
    }
    /* read every byte: ASan catches a span that points outside the chunk */
    volatile uint8_t sum = 0;
    for (size_t i = 0; i < v->len; i++)
        sum ^= v->ptr[i];
    (void)sum;
}

static void on_value(void *ctx, const pt_resp_item *it)
{
    spend(ctx);
    check_span(&it->value);
}

static void on_end(void *ctx, const pt_resp_item *it)
{
    (void)it;
    spend(ctx);
}

static void on_done(void *ctx, const pt_resp_msg *m)
{
    (void)m;
    spend(ctx);
}

static const pt_resp_handler budget_handler = {on_value, on_end, on_done};

static void limits_for_case(pt_resp_limits *l)
{
    pt_resp_limits_default(l);
    if (rnd() % 3 == 0) {
        /* small limits, to reach every limit's error path */
        l->max_depth = 1 + (uint32_t)below(4);
        l->max_elements = 1 + below(16);
        l->max_bulk = below(64);
        l->max_inline = 16 + (uint32_t)below(48);
        l->prefix_bytes = PT_RESP_MIN_PREFIX;
    }
}

/* Feed one stream in random chunks (exact-size heap copies, so ASan sees overreads); after an
 * error the parser must stay in error, and a reset must make it usable again. */
static void fuzz_parser_case(void)
{
    static uint8_t data[FUZZ_MAX_LEN];
    pt_resp_mode mode = (rnd() & 1) ? PT_RESP_MODE_REQUEST : PT_RESP_MODE_REPLY;
    size_t len = make_stream(data, mode == PT_RESP_MODE_REQUEST);
    pt_resp_limits l;
    limits_for_case(&l);
    budget b = {0, FUZZ_STEPS_PER_BYTE * (uint64_t)len + FUZZ_STEPS_BASE};
    pt_resp_parser *p = pt_resp_new(mode, &l, &budget_handler, &b);
    if (!p)
        _exit(EXIT_CHECK);
    size_t off = 0;
    int resets = 0;
    while (off < len) {
        size_t n = 1 + below(rnd() % 4 == 0 ? len - off : 24);
        if (n > len - off)
            n = len - off;
        uint8_t *c = malloc(n);
        memcpy(c, data + off, n);
        int r = pt_resp_feed(p, c, n);
        if (r != PT_OK) {
            if (!pt_resp_error(p) || pt_resp_feed(p, c, n) != PT_ERROR)
                _exit(EXIT_CHECK);
            if (pt_resp_offset(p) > off + n) /* the error lies in the bytes fed */
                _exit(EXIT_CHECK);
            if (resets++ < 4) {
                pt_resp_reset(p);
                b.max += FUZZ_STEPS_BASE;
            } else {
                free(c);
                break;
            }
        }
        free(c);
        off += n;
    }
    pt_resp_free(p);

    /* the chunking must not change what is reported: whole (fast paths) against random
     * chunks (byte-wise states), values shown up to the parser's prefix bound */
    size_t chunks[8];
    for (size_t k = 0; k < 8; k++)
        chunks[k] = 1 + below(16);
    tree whole, split;
    tree_init(&whole, l.prefix_bytes);
    tree_init(&split, l.prefix_bytes);
    tree_parse(&whole, mode, &l, data, len, NULL, 0);
    tree_parse(&split, mode, &l, data, len, chunks, 8);
    if (strcmp(whole.buf ? whole.buf : "", split.buf ? split.buf : "") != 0) {
        fprintf(stderr, "whole and chunked parses differ:\n%s\n----\n%s\n",
                whole.buf ? whole.buf : "", split.buf ? split.buf : "");
        _exit(EXIT_CHECK);
    }
    tree_free(&whole);
    tree_free(&split);
}

/* ---- the plugin -------------------------------------------------------------------------- */

static const char *const small_opts[] = {
    "max_depth=3",     "max_elements=12",    "max_bulk=48",   "max_inline=24", "max_args=2",
    "max_arg_bytes=4", "max_reply_bytes=16", "max_pending=3", "redact=false",  NULL,
};

/* Both directions of a connection, interleaved in random chunks, with an occasional gap and
 * a random way to end; every event must render as text, and their number stays bounded. */
static void fuzz_plugin_case(void)
{
    static uint8_t req[FUZZ_MAX_LEN], rep[FUZZ_MAX_LEN];
    size_t rlen = make_stream(req, true), plen = make_stream(rep, false);
    char *err = NULL;
    pt_mockhost *m = pt_mock_new(pt_redis_descriptor(), (rnd() % 3 == 0) ? small_opts : NULL, &err);
    if (!m) {
        fprintf(stderr, "pt_mock_new: %s\n", err ? err : "?");
        _exit(EXIT_CHECK);
    }
    pt_mock_probe(m, PT_DIR_TO_SERVER, req, rlen);
    pt_mock_probe(m, PT_DIR_TO_CLIENT, rep, plen);
    pt_mock_stream *s = pt_mock_stream_open(m, "127.0.0.1:61318", "127.0.0.1:6379");
    if (!s)
        _exit(EXIT_CHECK);
    size_t ro = 0, po = 0;
    if (rnd() % 4 == 0)
        ro = below(rlen + 1); /* a capture that starts mid-stream */
    while ((ro < rlen || po < plen) && pt_mock_stream_is_open(s)) {
        bool to_server = po >= plen || (ro < rlen && (rnd() & 1));
        const uint8_t *d = to_server ? req : rep;
        size_t *o = to_server ? &ro : &po;
        size_t total = to_server ? rlen : plen;
        size_t n = 1 + below(rnd() % 4 == 0 ? total - *o : 32);
        if (n > total - *o)
            n = total - *o;
        pt_dir dir = to_server ? PT_DIR_TO_SERVER : PT_DIR_TO_CLIENT;
        if (rnd() % 32 == 0) {
            pt_mock_gap(s, dir, n, NULL);
        } else {
            uint8_t *c = malloc(n);
            memcpy(c, d + *o, n);
            pt_mock_feed(s, dir, c, n, NULL);
            free(c);
        }
        *o += n;
        pt_mock_clock_advance_us(m, (int64_t)below(1000));
    }
    if (pt_mock_stream_is_open(s))
        pt_mock_close(s, (pt_close_reason)(rnd() % 6), NULL);
    size_t events = pt_mock_event_count(m);
    if (events > FUZZ_STEPS_PER_BYTE * (rlen + plen) + FUZZ_STEPS_BASE) {
        fprintf(stderr, "%zu events from %zu bytes\n", events, rlen + plen);
        _exit(EXIT_BUDGET);
    }
    for (size_t i = 0; i < events; i++)
        free(pt_mock_format_text(m, pt_mock_event_at(m, i)));
    if (pt_mock_error_count(m) != 0) {
        fprintf(stderr, "kit error: %s\n", pt_mock_error_at(m, 0));
        _exit(EXIT_CHECK);
    }
    pt_mock_free(m);
}

/* ---- the driver -------------------------------------------------------------------------- */

static uint64_t env_u64(const char *name, uint64_t def)
{
    const char *v = getenv(name);
    return v && *v ? strtoull(v, NULL, 0) : def;
}

/* Case i of a target runs from its own seed, so it can be replayed alone. */
static void run_case(void (*fn)(void), uint64_t seed, uint64_t i)
{
    rng_state = (seed ^ (i * 0x9E3779B97F4A7C15ull)) | 1;
    fn();
}

/* Run `cases` cases in forked children of FUZZ_BATCH cases each, under alarm(); the case a
 * child was in is kept in shared memory to name it when the child hangs or fails. */
static void run_target(const char *name, void (*fn)(void))
{
    uint64_t cases = env_u64("PT_REDIS_FUZZ_CASES", FUZZ_CASES);
    uint64_t seed = env_u64("PT_REDIS_FUZZ_SEED", FUZZ_SEED);
    unsigned secs = (unsigned)env_u64("PT_REDIS_FUZZ_BATCH_SECONDS", FUZZ_BATCH_SECONDS);
    const char *only = getenv("PT_REDIS_FUZZ_ONLY");
    if (only && *only) {
        run_case(fn, seed, strtoull(only, NULL, 0));
        return;
    }
    volatile uint64_t *current =
        mmap(NULL, sizeof(uint64_t), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    CU_ASSERT_FATAL(current != MAP_FAILED);
    for (uint64_t first = 0; first < cases; first += FUZZ_BATCH) {
        uint64_t last = first + FUZZ_BATCH < cases ? first + FUZZ_BATCH : cases;
        fflush(NULL);
        pid_t pid = fork();
        CU_ASSERT_FATAL(pid >= 0);
        if (pid == 0) {
            alarm(secs);
            for (uint64_t i = first; i < last; i++) {
                *current = i;
                run_case(fn, seed, i);
            }
            _exit(0);
        }
        int status = 0;
        CU_ASSERT_FATAL(waitpid(pid, &status, 0) == pid);
        bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
        CU_ASSERT_TRUE(ok);
        if (!ok) {
            const char *what = WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM
                                   ? "did not finish in time (a loop without progress?)"
                               : WIFSIGNALED(status)                ? "crashed"
                               : WEXITSTATUS(status) == EXIT_BUDGET ? "exceeded its step budget"
                                                                    : "failed a check";
            fprintf(stderr,
                    "%s: case %llu %s; replay: PT_REDIS_FUZZ_SEED=%llu PT_REDIS_FUZZ_ONLY=%llu\n",
                    name, (unsigned long long)*current, what, (unsigned long long)seed,
                    (unsigned long long)*current);
            break;
        }
    }
    munmap((void *)current, sizeof(uint64_t));
}

static void test_fuzz_parser(void)
{
    run_target("parser", fuzz_parser_case);
}

static void test_fuzz_plugin(void)
{
    run_target("plugin", fuzz_plugin_case);
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    CU_pSuite s = CU_add_suite("redis-fuzz", NULL, NULL);
    CU_add_test(s, "RESP parser: mutated and random streams, bounded steps", test_fuzz_parser);
    CU_add_test(s, "plugin: mutated sessions, gaps, limits, bounded events", test_fuzz_plugin);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures();
    CU_cleanup_registry();
    return failed ? 1 : 0;
}
