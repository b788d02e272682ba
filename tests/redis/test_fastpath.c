/* test_fastpath.c — the plugin's fast paths against its byte-wise states: random sessions of
 * well-formed traffic (pipelined commands of every shape the command table knows, RESP2 and
 * RESP3 replies of every type, inline commands, CLIENT REPLY, MULTI, HELLO 3, big and binary
 * arguments, more arguments than the one-chunk fast path takes) are fed packet by packet,
 * once with each packet whole (whole commands and replies take the fast paths: one-pass
 * request arrays, whole scalar replies, reused event fields) and once with each packet cut
 * into small random chunks or at one random byte (the byte-wise states). Every event, field
 * by field, must be the same. Values are kept under the parser's prefix bound, so a value
 * split across chunks is reported whole too. PT_REDIS_FASTPATH_CASES / _SEED change the run. */
#include <CUnit/Basic.h>
#include <pcaptrace/testkit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const pt_plugin *pt_redis_descriptor(void);

#define C PT_DIR_TO_SERVER
#define S PT_DIR_TO_CLIENT

#define FP_CASES    1000
#define FP_SEED     0x5eed2026u
#define FP_MAX_CMDS 60
#define FP_BUF      (256 * 1024)

static uint64_t rng;

static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static size_t below(size_t n)
{
    return n ? (size_t)(rnd() % n) : 0;
}

/* A growing byte buffer. */
typedef struct buf {
    uint8_t *d;
    size_t len;
} buf;

static void put(buf *b, const void *p, size_t n)
{
    CU_ASSERT_FATAL(b->len + n <= FP_BUF);
    memcpy(b->d + b->len, p, n);
    b->len += n;
}

static void putf(buf *b, const char *fmt, long long v)
{
    char t[64];
    int n = snprintf(t, sizeof(t), fmt, v);
    put(b, t, (size_t)n);
}

static void put_s(buf *b, const char *text)
{
    put(b, text, strlen(text));
}

static void put_bulk(buf *b, const uint8_t *p, size_t n)
{
    putf(b, "$%lld\r\n", (long long)n);
    put(b, p, n);
    put(b, "\r\n", 2);
}

static void put_word(buf *b, const char *w)
{
    put_bulk(b, (const uint8_t *)w, strlen(w));
}

/* A random value: mostly short text, sometimes binary (CR, LF, NUL, quotes), sometimes longer
 * than max_arg_bytes. */
static size_t value(uint8_t *out, size_t max)
{
    size_t n;
    switch (below(6)) {
    case 0:
        n = 0;
        break;
    case 1:
        n = 65 + below(max - 65);
        break;
    default:
        n = 1 + below(20);
        break;
    }
    bool binary = below(5) == 0;
    for (size_t i = 0; i < n; i++) {
        if (binary) {
            static const char odd[] = "\r\n\0\"' \\x";
            out[i] = below(3) ? (uint8_t)odd[below(sizeof(odd) - 1)] : (uint8_t)rnd();
        } else {
            out[i] = (uint8_t)('a' + below(26));
        }
    }
    return n;
}

static void put_value(buf *b)
{
    uint8_t v[200];
    put_bulk(b, v, value(v, 160));
}

/* One random reply (depth levels of aggregates at most). */
static void put_reply(buf *b, int depth, bool resp3)
{
    uint8_t v[200];
    size_t n;
    switch (below(depth > 0 ? 16 : 11)) {
    case 0:
        put_s(b, "+OK\r\n");
        break;
    case 1:
        put(b, "+", 1);
        n = 1 + below(60);
        for (size_t i = 0; i < n; i++)
            v[i] = (uint8_t)(' ' + below(90));
        put(b, v, n);
        put(b, "\r\n", 2);
        break;
    case 2:
        put_s(b, "-ERR wrong number of arguments\r\n");
        break;
    case 3:
        putf(b, ":%lld\r\n", (long long)(rnd() % 2000000) - 1000000);
        break;
    case 4:
    case 5:
        put_value(b);
        break;
    case 6:
        put_s(b, "$-1\r\n");
        break;
    case 7:
        put_s(b, resp3 ? "_\r\n" : "*-1\r\n");
        break;
    case 8:
        put_s(b, resp3 ? "#t\r\n" : ":0\r\n");
        break;
    case 9:
        put_s(b, resp3 ? ",3.25\r\n" : "+3.25\r\n");
        break;
    case 10:
        put_s(b, resp3 ? "=8\r\ntxt:abcd\r\n" : "$4\r\nabcd\r\n");
        break;
    default: {
        /* an aggregate */
        size_t k = below(5);
        const char *t = resp3 ? (below(3) == 0 ? "%" : below(2) ? "~" : "*") : "*";
        if (resp3 && below(8) == 0) {
            /* an attribute before the value */
            put_s(b, "|1\r\n+ttl\r\n:3\r\n");
        }
        putf(b, t[0] == '%' ? "%%%lld\r\n" : t[0] == '~' ? "~%lld\r\n" : "*%lld\r\n", (long long)k);
        size_t items = t[0] == '%' ? 2 * k : k;
        for (size_t i = 0; i < items; i++)
            put_reply(b, depth - 1, resp3);
        break;
    }
    }
}

/* The state a session needs to write replies the way a server would. */
typedef struct session {
    buf req, rep;
    bool resp3;
    int reply_mode; /* 0 on, 1 off, 2 skip next */
    /* packets: [start, end) of each direction, in feeding order */
    size_t cuts[2 * FP_MAX_CMDS + 2][3]; /* dir, start, end */
    size_t n_cuts;
} session;

static const char *const plain[] = {"SET",  "GET",   "set",    "Get",    "INCR",    "DEL",  "MSET",
                                    "HSET", "LPUSH", "SADD",   "EXISTS", "TYPE",    "PING", "ECHO",
                                    "FOO",  "ZADD",  "RENAME", "BITOP",  "MIGRATE", "XADD"};

/* One random command on the request side; returns whether the server answers it. */
static bool put_command(session *ss)
{
    buf *b = &ss->req;
    bool answered = ss->reply_mode == 0;
    if (ss->reply_mode == 2)
        ss->reply_mode = 0;
    switch (below(14)) {
    case 0: {
        /* inline, sometimes quoted */
        static const char *const lines[] = {"PING\r\n",
                                            "SET a b\r\n",
                                            "get  k1\r\n",
                                            "SET \"q w\" 'x y'\r\n",
                                            "ECHO \"\\x41\\n\"\n",
                                            "INCR counter\r\n"};
        const char *l = lines[below(sizeof(lines) / sizeof(lines[0]))];
        put_s(b, l);
        return answered;
    }
    case 1: {
        /* many arguments: more than the fast path's 64 */
        size_t n = 60 + below(20);
        putf(b, "*%lld\r\n", (long long)n + 2);
        put_word(b, "RPUSH");
        put_word(b, "list");
        for (size_t i = 0; i < n; i++)
            put_value(b);
        return answered;
    }
    case 2: {
        /* numkeys and STREAMS keys, BLOCK */
        if (below(2)) {
            put_s(b, "*5\r\n");
            put_word(b, below(2) ? "EVAL" : "evalsha");
            put_word(b, "return 1");
            put_word(b, "2");
            put_value(b);
            put_value(b);
        } else {
            put_s(b, "*8\r\n");
            put_word(b, "XREAD");
            put_word(b, "COUNT");
            put_word(b, "1");
            put_word(b, below(2) ? "BLOCK" : "block");
            put_word(b, "0");
            put_word(b, "STREAMS");
            put_value(b);
            put_word(b, "0");
        }
        return answered;
    }
    case 3: {
        /* subcommands, keyed and not */
        static const char *const sub[][2] = {{"CONFIG", "GET"},   {"OBJECT", "ENCODING"},
                                             {"MEMORY", "USAGE"}, {"CLIENT", "SETNAME"},
                                             {"XINFO", "STREAM"}, {"config", "set"}};
        size_t i = below(6);
        put_s(b, "*3\r\n");
        put_word(b, sub[i][0]);
        put_word(b, sub[i][1]);
        put_value(b);
        return answered;
    }
    case 4:
        put_s(b, "*2\r\n");
        put_word(b, "AUTH");
        put_value(b);
        return answered;
    case 5:
        put_s(b, "*5\r\n");
        put_word(b, "HELLO");
        put_word(b, ss->resp3 ? "2" : "3");
        put_word(b, "AUTH");
        put_word(b, "user");
        put_value(b);
        /* the reply (a map, or an error) is written by the caller; the switch holds */
        return answered;
    case 6:
        put_s(b, "*1\r\n");
        put_word(b, below(2) ? "MULTI" : "EXEC");
        return answered;
    case 7: {
        static const char *const modes[] = {"OFF", "SKIP", "ON", "on"};
        const char *mode = modes[below(4)];
        put_s(b, "*3\r\n");
        put_word(b, "CLIENT");
        put_word(b, "REPLY");
        put_word(b, mode);
        if (!strcmp(mode, "OFF")) {
            ss->reply_mode = 1;
            return false;
        }
        if (!strcmp(mode, "SKIP")) {
            if (ss->reply_mode == 0)
                ss->reply_mode = 2;
            return false;
        }
        ss->reply_mode = 0;
        return true;
    }
    default: {
        size_t n = below(5);
        putf(b, "*%lld\r\n", (long long)n + 1);
        put_word(b, plain[below(sizeof(plain) / sizeof(plain[0]))]);
        for (size_t i = 0; i < n; i++)
            put_value(b);
        return answered;
    }
    }
}

static void cut(session *ss, pt_dir dir, size_t start, size_t end)
{
    if (end > start) {
        ss->cuts[ss->n_cuts][0] = dir;
        ss->cuts[ss->n_cuts][1] = start;
        ss->cuts[ss->n_cuts][2] = end;
        ss->n_cuts++;
    }
}

/* A session: batches of pipelined commands, each batch followed by its replies. */
static void make_session(session *ss)
{
    ss->req.len = ss->rep.len = 0;
    ss->resp3 = false;
    ss->reply_mode = 0;
    ss->n_cuts = 0;
    size_t cmds = 1 + below(FP_MAX_CMDS);
    for (size_t done = 0; done < cmds;) {
        size_t batch = 1 + below(16);
        size_t r0 = ss->req.len, p0 = ss->rep.len;
        for (size_t i = 0; i < batch && done < cmds; i++, done++) {
            size_t at = ss->req.len;
            bool answered = put_command(ss);
            if (!answered)
                continue;
            if (ss->req.len - at > 20 && !memcmp(ss->req.d + at, "*5\r\n$5\r\nHELLO", 13)) {
                if (below(3) == 0) {
                    put_s(&ss->rep, "-NOAUTH bad\r\n");
                } else {
                    ss->resp3 = !ss->resp3;
                    put_s(&ss->rep,
                          ss->resp3 ? "%1\r\n+proto\r\n:3\r\n" : "*2\r\n+proto\r\n:2\r\n");
                }
            } else {
                /* now and then a RESP3 push first: reported apart, not paired */
                if (ss->resp3 && below(10) == 0)
                    put_s(&ss->rep, ">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n");
                put_reply(&ss->rep, 2, ss->resp3);
            }
        }
        cut(ss, C, r0, ss->req.len);
        cut(ss, S, p0, ss->rep.len);
    }
}

/* Feed the session: each packet whole (mode 0), in random chunks of 1..7 bytes (1), or cut
 * at one random byte (2). */
static pt_mockhost *run(const session *ss, int mode, uint64_t chunk_seed)
{
    char *err = NULL;
    pt_mockhost *m = pt_mock_new(pt_redis_descriptor(), NULL, &err);
    if (!m)
        fprintf(stderr, "pt_mock_new: %s\n", err);
    free(err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    pt_mock_stream *s = pt_mock_stream_open(m, "127.0.0.1:61318", "127.0.0.1:6379");
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    uint64_t saved = rng;
    rng = chunk_seed | 1;
    for (size_t k = 0; k < ss->n_cuts && pt_mock_stream_is_open(s); k++) {
        pt_dir dir = (pt_dir)ss->cuts[k][0];
        const uint8_t *d = (dir == C ? ss->req.d : ss->rep.d) + ss->cuts[k][1];
        size_t len = ss->cuts[k][2] - ss->cuts[k][1];
        size_t one = 1 + below(len);
        for (size_t o = 0; o < len;) {
            size_t n = mode == 0 ? len : mode == 1 ? 1 + below(7) : (o == 0 ? one : len - o);
            if (n > len - o)
                n = len - o;
            /* an exact-size heap copy, so that ASan sees any read past the chunk */
            uint8_t *c = malloc(n);
            memcpy(c, d + o, n);
            pt_mock_feed(s, dir, c, n, NULL);
            free(c);
            o += n;
        }
        pt_mock_clock_advance_us(m, 7);
    }
    if (pt_mock_stream_is_open(s))
        pt_mock_close(s, PT_CLOSE_FIN, NULL);
    rng = saved;
    return m;
}

static uint64_t env_u64(const char *name, uint64_t def)
{
    const char *v = getenv(name);
    return v && *v ? strtoull(v, NULL, 0) : def;
}

static void test_fast_equals_bytewise(void)
{
    uint64_t cases = env_u64("PT_REDIS_FASTPATH_CASES", FP_CASES);
    uint64_t seed = env_u64("PT_REDIS_FASTPATH_SEED", FP_SEED);
    session *ss = calloc(1, sizeof(*ss));
    CU_ASSERT_PTR_NOT_NULL_FATAL(ss);
    ss->req.d = malloc(FP_BUF);
    ss->rep.d = malloc(FP_BUF);
    CU_ASSERT_FATAL(ss->req.d && ss->rep.d);
    size_t commands = 0;
    for (uint64_t i = 0; i < cases; i++) {
        rng = (seed ^ (i * 0x9E3779B97F4A7C15ull)) | 1;
        make_session(ss);
        pt_mockhost *whole = run(ss, 0, rnd());
        char *want = pt_mock_events_dump(whole);
        commands += pt_mock_count_kind(whole, "command");
        /* every command is reported once, numbered 1, 2, 3... in some order (a check of the
         * event fields the plugin reuses from one event to the next) */
        bool seen[FP_MAX_CMDS + 1] = {false};
        size_t numbered = 0;
        for (size_t k = 0; k < pt_mock_event_count(whole); k++) {
            const pt_mock_event *e = pt_mock_event_at(whole, k);
            if (!pt_mock_field_has(e, "seq"))
                continue;
            int64_t seq = pt_mock_field_int(e, "seq", -1);
            CU_ASSERT_FATAL(seq >= 1 && seq <= FP_MAX_CMDS);
            CU_ASSERT_FALSE(seen[seq]);
            seen[seq] = true;
            numbered++;
        }
        for (size_t k = 1; k <= numbered; k++)
            CU_ASSERT_TRUE(seen[k]);
        CU_ASSERT_EQUAL(pt_mock_error_count(whole), 0);
        pt_mock_free(whole);
        for (int mode = 1; mode <= 2; mode++) {
            pt_mockhost *split = run(ss, mode, rnd());
            char *got = pt_mock_events_dump(split);
            CU_ASSERT_EQUAL(pt_mock_error_count(split), 0);
            CU_ASSERT_STRING_EQUAL(got, want);
            if (strcmp(got, want) != 0)
                fprintf(stderr,
                        "\ncase %llu, mode %d: whole and split differ\n--- whole\n%s"
                        "--- split\n%s",
                        (unsigned long long)i, mode, want, got);
            free(got);
            pt_mock_free(split);
        }
        free(want);
    }
    /* the sessions are mostly paired commands, not parse errors */
    CU_ASSERT_TRUE(commands > cases * 5);
    free(ss->req.d);
    free(ss->rep.d);
    free(ss);
}

/* Command names looked up one after another in one packet, each differing from the one
 * before by a byte or by case (the plugin compares a name with the previous one's bytes
 * before hashing it): every event names its own command. */
static void test_name_after_name(void)
{
    static const char *const words[][2] = {{"GET", "GET"},
                                           {"SET", "SET"},
                                           {"set", "SET"},
                                           {"DEL", "DEL"},
                                           {"Del", "DEL"},
                                           {"FOO", "FOO"},
                                           {"foo", "FOO"},
                                           {"HGET", "HGET"},
                                           {"HSET", "HSET"},
                                           {"GETEX", "GETEX"},
                                           {"SETEX", "SETEX"},
                                           {"ZPOPMAX", "ZPOPMAX"},
                                           {"ZPOPMIN", "ZPOPMIN"},
                                           {"zpopmin", "ZPOPMIN"},
                                           {"XREVRANGE", "XREVRANGE"},
                                           {"ZREVRANGE", "ZREVRANGE"},
                                           {"SUNIONSTORE", "SUNIONSTORE"},
                                           {"ZUNIONSTORE", "ZUNIONSTORE"},
                                           {"ZREMRANGEBYLEX", "ZREMRANGEBYLEX"},
                                           {"ZREVRANGEBYLEX", "ZREVRANGEBYLEX"},
                                           {"ZREMRANGEBYSCORE", "ZREMRANGEBYSCORE"},
                                           {"ZREVRANGEBYSCORE", "ZREVRANGEBYSCORE"},
                                           {"GEORADIUSBYMEMBER", "GEORADIUSBYMEMBER"},
                                           {"GEORADIUSBYMEMBEX", "GEORADIUSBYMEMBEX"},
                                           {"E", "E"},
                                           {"ECHO", "ECHO"},
                                           {"ECHO", "ECHO"}};
    size_t n = sizeof(words) / sizeof(words[0]);
    buf req = {malloc(FP_BUF), 0}, rep = {malloc(FP_BUF), 0};
    CU_ASSERT_FATAL(req.d && rep.d);
    for (size_t i = 0; i < n; i++) {
        put_s(&req, "*2\r\n");
        put_word(&req, words[i][0]);
        put_word(&req, "k");
        put_s(&rep, ":1\r\n");
    }
    pt_mockhost *m = pt_mock_new(pt_redis_descriptor(), NULL, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    pt_mock_stream *s = pt_mock_stream_open(m, "127.0.0.1:61318", "127.0.0.1:6379");
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    pt_mock_feed(s, C, req.d, req.len, NULL);
    pt_mock_feed(s, S, rep.d, rep.len, NULL);
    CU_ASSERT_EQUAL_FATAL(pt_mock_count_kind(m, "command"), n);
    for (size_t i = 0; i < n; i++) {
        const pt_mock_event *e = pt_mock_find(m, "command", i);
        const char *got = pt_mock_field_str(e, "command");
        CU_ASSERT_STRING_EQUAL(got, words[i][1]);
        if (strcmp(got, words[i][1]) != 0)
            fprintf(stderr, "\ncommand %zu: %s, want %s\n", i, got, words[i][1]);
    }
    pt_mock_free(m);
    free(req.d);
    free(rep.d);
}

/* Ring slots reused by commands of every path: the usual fast-path command keeps a slot's
 * name, inline and blocking flags when the slot last held the same usual command, so each
 * slot here holds, one round after another, a different usual command (GET, SET, INCR), a
 * container command with a subcommand, a blocking one, an inline one and a command split
 * across packets (the byte-wise states). Seven kinds in pipelines of 20 (40 waiting) over a
 * ring of 64 slots put every kind in every slot; the replies come two packets later. Every
 * event names its own command, with its own flags, arguments and key. */
static void test_slot_reuse(void)
{
    static const struct {
        const char *wire, *name, *arg0;
        bool is_inline, blocking;
    } kinds[] = {
        {"*3\r\n$3\r\nSET\r\n$4\r\nkey1\r\n$5\r\nvalue\r\n", "SET", "key1", false, false},
        {"*2\r\n$3\r\nGET\r\n$4\r\nkey2\r\n", "GET", "key2", false, false},
        {"*3\r\n$6\r\nOBJECT\r\n$8\r\nENCODING\r\n$4\r\nkey3\r\n", "OBJECT|ENCODING", "key3", false,
         false},
        {"*2\r\n$4\r\nINCR\r\n$4\r\nkey4\r\n", "INCR", "key4", false, false},
        {"*3\r\n$5\r\nBLPOP\r\n$4\r\nkey5\r\n$1\r\n0\r\n", "BLPOP", "key5", false, true},
        {"get key6\r\n", "GET", "key6", true, false},
        {"*2\r\n$3\r\nGET\r\n$4\r\nkey7\r\n", "GET", "key7", false, false},
    };
    const size_t nk = sizeof(kinds) / sizeof(kinds[0]), batch = 20, rounds = 12;
    pt_mockhost *m = pt_mock_new(pt_redis_descriptor(), NULL, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    pt_mock_stream *s = pt_mock_stream_open(m, "127.0.0.1:61319", "127.0.0.1:6379");
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    buf req = {malloc(FP_BUF), 0}, rep = {malloc(FP_BUF), 0};
    CU_ASSERT_FATAL(req.d && rep.d);
    size_t sent = 0, split_at = 0;
    for (size_t r = 0; r < rounds; r++) {
        req.len = rep.len = 0;
        for (size_t i = 0; i < batch; i++, sent++) {
            /* the last kind is cut in two packets (one in three rounds) */
            if (sent % nk == nk - 1 && r % 3 == 0)
                split_at = req.len + 5;
            put_s(&req, kinds[sent % nk].wire);
            put_s(&rep, "+OK\r\n");
        }
        if (split_at) {
            pt_mock_feed(s, C, req.d, split_at, NULL);
            pt_mock_feed(s, C, req.d + split_at, req.len - split_at, NULL);
            split_at = 0;
        } else {
            pt_mock_feed(s, C, req.d, req.len, NULL);
        }
        /* the next batch's commands before these replies: two batches wait at a time */
        if (r > 0)
            pt_mock_feed(s, S, rep.d, rep.len, NULL);
    }
    pt_mock_feed(s, S, rep.d, rep.len, NULL);
    CU_ASSERT_EQUAL_FATAL(pt_mock_count_kind(m, "command"), sent);
    CU_ASSERT_EQUAL(pt_mock_error_count(m), 0);
    for (size_t i = 0; i < sent; i++) {
        const pt_mock_event *e = pt_mock_find(m, "command", i);
        const char *name = pt_mock_field_str(e, "command");
        const char *arg0 = pt_mock_field_list_item(e, "args", 0);
        bool ok = name && arg0 && strcmp(name, kinds[i % nk].name) == 0 &&
                  strcmp(arg0, kinds[i % nk].arg0) == 0 &&
                  pt_mock_field_int(e, "inline", 0) == kinds[i % nk].is_inline &&
                  pt_mock_field_int(e, "blocking", 0) == kinds[i % nk].blocking &&
                  pt_mock_field_int(e, "seq", 0) == (int64_t)i + 1;
        CU_ASSERT_TRUE(ok);
        if (!ok)
            fprintf(stderr, "\ncommand %zu: %s %s, want %s %s\n", i, name ? name : "-",
                    arg0 ? arg0 : "-", kinds[i % nk].name, kinds[i % nk].arg0);
    }
    pt_mock_free(m);
    free(req.d);
    free(rep.d);
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    CU_pSuite s = CU_add_suite("redis-fastpath", NULL, NULL);
    CU_add_test(s, "fast paths report what the byte-wise states report", test_fast_equals_bytewise);
    CU_add_test(s, "each name after another is its own command", test_name_after_name);
    CU_add_test(s, "ring slots reused by commands of every path", test_slot_reuse);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures();
    CU_cleanup_registry();
    return failed ? 1 : 0;
}
