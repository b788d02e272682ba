/* sink_redis.c — the Redis stream sink: every event becomes
 *   XADD STREAM [MAXLEN ~ N] * ts T flow F proto P event E client C server S json {...}
 * (RESP, https://redis.io/docs/reference/protocol-spec/) sent by a background thread.
 *
 * A slow or dead server never stops capture: the capture thread renders the command into a
 * bounded queue (queue_bytes) and returns; when the queue is full the event is dropped and
 * counted. The sender thread takes the whole queue at once (double buffering, so the capture
 * thread never waits on the network), pipelines it, and reads one reply per command. While the
 * server is unreachable the queue is kept (up to its bound) and the connection retried every
 * reconnect_ms; a connection lost mid-batch drops the commands in flight (counted). At exit
 * the queue is sent once more, bounded by timeout_ms; what cannot be sent is counted. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>

#include <hiredis/hiredis.h>

#include "addr.h"
#include "escape.h"
#include "sink.h"

#define PT_REDIS_ERROR (pt_redis_sink_error_quark())
static GQuark pt_redis_sink_error_quark(void)
{
    return g_quark_from_static_string("pt-sink-redis-error");
}

#define REDIS_DEFAULT_PORT   6379
#define REDIS_DEFAULT_STREAM "pcaptrace"
#define REDIS_WAKE_MS        100 /* the sender looks at the queue at least this often */

typedef struct redis_sink {
    pt_sink base;
    char *host;
    int port;
    char *stream;
    uint64_t maxlen;
    uint64_t queue_bytes;
    uint32_t reconnect_ms, timeout_ms;

    /* capture thread only */
    GString *json; /* reused renderings */
    GString *cmd;

    /* shared, under lock */
    GMutex lock;
    GCond wake;
    GString *pending; /* RESP commands not yet taken by the sender */
    uint64_t pending_count;
    bool stop;
    bool flush_asked;

    /* sender thread only */
    GThread *thread;
    GString *sending;
    redisContext *ctx;
    int64_t next_connect; /* monotonic µs */
    bool warned;
} redis_sink;

/* Counters touched by both threads. */
static void count(uint64_t *c, uint64_t n)
{
    __atomic_fetch_add(c, n, __ATOMIC_RELAXED);
}

static void resp_bulk(GString *out, const char *p, size_t n)
{
    pt_escape_printf(out, "$%zu\r\n", n);
    g_string_append_len(out, p, (gssize)n);
    g_string_append_len(out, "\r\n", 2);
}

static void resp_str(GString *out, const char *s)
{
    resp_bulk(out, s, strlen(s));
}

/* Render the XADD command of one event into r->cmd. */
static void render_command(redis_sink *r, const pt_envelope *env, const pt_event *ev)
{
    GString *c = r->cmd;
    g_string_truncate(c, 0);
    g_string_truncate(r->json, 0);
    pt_sink_json_render(r->json, env, ev);

    char ep_c[PT_ENDPOINT_STRLEN], ep_s[PT_ENDPOINT_STRLEN], ts[40], ml[24];
    snprintf(ts, sizeof ts, "%" PRId64 ".%06u", ev->ts.sec, (ev->ts.nsec % 1000000000u) / 1000u);
    int argc = 3 + 14 + (r->maxlen ? 3 : 0);
    pt_escape_printf(c, "*%d\r\n", argc);
    resp_str(c, "XADD");
    resp_str(c, r->stream);
    if (r->maxlen) {
        snprintf(ml, sizeof ml, "%" PRIu64, r->maxlen);
        resp_str(c, "MAXLEN");
        resp_str(c, "~");
        resp_str(c, ml);
    }
    resp_str(c, "*");
    resp_str(c, "ts");
    resp_str(c, ts);
    resp_str(c, "flow");
    resp_str(c, env->flow_id ? env->flow_id : "");
    resp_str(c, "proto");
    resp_str(c, env->proto ? env->proto : "");
    resp_str(c, "event");
    resp_str(c, ev->kind ? ev->kind : "");
    resp_str(c, "client");
    resp_str(c, env->client ? pt_endpoint_format(env->client, ep_c) : "");
    resp_str(c, "server");
    resp_str(c, env->server ? pt_endpoint_format(env->server, ep_s) : "");
    resp_str(c, "json");
    resp_bulk(c, r->json->str, r->json->len);
}

static void redis_write(pt_sink *s, const pt_envelope *env, const pt_event *ev)
{
    redis_sink *r = (redis_sink *)s;
    render_command(r, env, ev);
    bool queued = false, wake = false;
    g_mutex_lock(&r->lock);
    if (r->pending->len + r->cmd->len <= r->queue_bytes) {
        g_string_append_len(r->pending, r->cmd->str, (gssize)r->cmd->len);
        r->pending_count++;
        queued = true;
        /* Wake the sender early only when the queue fills up; otherwise it polls. */
        wake = r->pending->len > r->queue_bytes / 2;
    }
    g_mutex_unlock(&r->lock);
    if (wake)
        g_cond_signal(&r->wake);
    if (queued)
        count(&s->stats.events, 1);
    else
        count(&s->stats.dropped, 1);
}

static void redis_flush(pt_sink *s)
{
    redis_sink *r = (redis_sink *)s;
    g_mutex_lock(&r->lock);
    r->flush_asked = true;
    g_mutex_unlock(&r->lock);
    g_cond_signal(&r->wake);
}

static struct timeval ms_tv(uint32_t ms)
{
    struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (long)(ms % 1000) * 1000};
    return tv;
}

static void disconnect(redis_sink *r)
{
    if (r->ctx) {
        redisFree(r->ctx);
        r->ctx = NULL;
    }
    r->next_connect = g_get_monotonic_time() + (int64_t)r->reconnect_ms * 1000;
}

static bool ensure_connected(redis_sink *r)
{
    if (r->ctx)
        return true;
    if (g_get_monotonic_time() < r->next_connect)
        return false;
    redisContext *c = redisConnectWithTimeout(r->host, r->port, ms_tv(r->timeout_ms));
    if (!c || c->err) {
        if (!r->warned)
            g_printerr("pcaptrace: sink %s: cannot connect: %s (retrying every %u ms; events "
                       "are queued up to %" PRIu64 " bytes, then dropped and counted)\n",
                       r->base.name, c ? c->errstr : "out of memory", r->reconnect_ms,
                       r->queue_bytes);
        r->warned = true;
        count(&r->base.stats.errors, 1);
        if (c)
            redisFree(c);
        r->next_connect = g_get_monotonic_time() + (int64_t)r->reconnect_ms * 1000;
        return false;
    }
    redisSetTimeout(c, ms_tv(r->timeout_ms));
    redisEnableKeepAlive(c);
    r->ctx = c;
    if (r->warned)
        g_printerr("pcaptrace: sink %s: connected\n", r->base.name);
    r->warned = false;
    return true;
}

/* Send the n commands in r->sending and read their replies. */
static void send_batch(redis_sink *r, uint64_t n)
{
    if (!ensure_connected(r)) {
        count(&r->base.stats.dropped, n);
        return;
    }
    if (redisAppendFormattedCommand(r->ctx, r->sending->str, r->sending->len) != REDIS_OK) {
        count(&r->base.stats.dropped, n);
        disconnect(r);
        return;
    }
    for (uint64_t i = 0; i < n; i++) {
        redisReply *reply = NULL;
        if (redisGetReply(r->ctx, (void **)&reply) != REDIS_OK || !reply) {
            g_printerr("pcaptrace: sink %s: connection lost: %s\n", r->base.name, r->ctx->errstr);
            r->warned = true;
            count(&r->base.stats.dropped, n - i);
            count(&r->base.stats.errors, 1);
            disconnect(r);
            return;
        }
        if (reply->type == REDIS_REPLY_ERROR) {
            if (r->base.stats.errors == 0)
                g_printerr("pcaptrace: sink %s: server error: %s\n", r->base.name, reply->str);
            count(&r->base.stats.errors, 1);
            count(&r->base.stats.dropped, 1);
        }
        freeReplyObject(reply);
    }
}

/* The sender: while the server is unreachable the queue stays where it is (the capture
 * thread drops and counts what does not fit); once connected it takes the whole queue. */
static gpointer sender_main(gpointer data)
{
    redis_sink *r = data;
    for (;;) {
        g_mutex_lock(&r->lock);
        if (!r->stop && !r->flush_asked) {
            gint64 until = g_get_monotonic_time() + REDIS_WAKE_MS * G_TIME_SPAN_MILLISECOND;
            g_cond_wait_until(&r->wake, &r->lock, until);
        }
        bool stop = r->stop;
        r->flush_asked = false;
        g_mutex_unlock(&r->lock);
        if (stop)
            r->next_connect = 0; /* one last attempt at exit */
        if (ensure_connected(r)) {
            g_mutex_lock(&r->lock);
            GString *t = r->pending;
            r->pending = r->sending;
            r->sending = t;
            uint64_t n = r->pending_count;
            r->pending_count = 0;
            g_mutex_unlock(&r->lock);
            if (n)
                send_batch(r, n);
            g_string_truncate(r->sending, 0);
        }
        if (stop)
            break;
    }
    if (r->ctx)
        redisFree(r->ctx);
    r->ctx = NULL;
    return NULL;
}

static void redis_finish(pt_sink *s)
{
    redis_sink *r = (redis_sink *)s;
    if (!r->thread)
        return;
    g_mutex_lock(&r->lock);
    r->stop = true;
    g_mutex_unlock(&r->lock);
    g_cond_signal(&r->wake);
    g_thread_join(r->thread);
    r->thread = NULL;
    /* Nobody sends any more: what is still queued is lost. */
    count(&s->stats.dropped, r->pending_count);
    r->pending_count = 0;
    r->queue_bytes = 0;
}

static void redis_free(pt_sink *s)
{
    redis_sink *r = (redis_sink *)s;
    redis_finish(s);
    g_mutex_clear(&r->lock);
    g_cond_clear(&r->wake);
    g_string_free(r->pending, TRUE);
    g_string_free(r->sending, TRUE);
    g_string_free(r->json, TRUE);
    g_string_free(r->cmd, TRUE);
    g_free(r->host);
    g_free(r->stream);
    g_free(r);
}

static const pt_sink_ops redis_ops = {.type = "redis",
                                      .write = redis_write,
                                      .flush = redis_flush,
                                      .finish = redis_finish,
                                      .free = redis_free};

/* Parse redis://HOST[:PORT][/STREAM]; HOST may be [IPv6]. */
static bool parse_url(const char *url, char **host, int *port, char **stream, GError **error)
{
    const char *p = url + strlen("redis://");
    const char *host_end, *after;
    if (*p == '[') {
        host_end = strchr(p, ']');
        if (!host_end)
            goto bad;
        *host = g_strndup(p + 1, (gsize)(host_end - p - 1));
        after = host_end + 1;
    } else {
        size_t n = strcspn(p, ":/");
        *host = g_strndup(p, n);
        after = p + n;
    }
    if (**host == '\0')
        goto bad_free;
    *port = REDIS_DEFAULT_PORT;
    if (*after == ':') {
        char *end;
        long v = strtol(after + 1, &end, 10);
        if (end == after + 1 || v < 1 || v > 65535 || (*end != '\0' && *end != '/'))
            goto bad_free;
        *port = (int)v;
        after = end;
    }
    if (*after == '/' && after[1] != '\0')
        *stream = g_strdup(after + 1);
    else if (*after == '\0' || (*after == '/' && after[1] == '\0'))
        *stream = g_strdup(REDIS_DEFAULT_STREAM);
    else
        goto bad_free;
    return true;
bad_free:
    g_free(*host);
    *host = NULL;
bad:
    g_set_error(error, PT_REDIS_ERROR, 1,
                "bad redis sink '%s': expected redis://HOST[:PORT][/STREAM]", url);
    return false;
}

pt_sink *pt_sink_redis_new(const pt_sink_redis_config *cfg, GError **error)
{
    char *host, *stream;
    int port;
    if (!g_str_has_prefix(cfg->url, "redis://")) {
        g_set_error(error, PT_REDIS_ERROR, 1, "bad redis sink '%s': must start with redis://",
                    cfg->url);
        return NULL;
    }
    if (!parse_url(cfg->url, &host, &port, &stream, error))
        return NULL;
    redis_sink *r = g_new0(redis_sink, 1);
    r->base.ops = &redis_ops;
    r->base.name = g_strdup(cfg->url);
    r->host = host;
    r->port = port;
    r->stream = stream;
    r->maxlen = cfg->maxlen;
    r->queue_bytes = cfg->queue_bytes ? cfg->queue_bytes : PT_SINK_REDIS_QUEUE_BYTES_DEFAULT;
    r->reconnect_ms = cfg->reconnect_ms ? cfg->reconnect_ms : PT_SINK_REDIS_RECONNECT_MS_DEFAULT;
    r->timeout_ms = cfg->timeout_ms ? cfg->timeout_ms : PT_SINK_REDIS_TIMEOUT_MS_DEFAULT;
    r->json = g_string_sized_new(1024);
    r->cmd = g_string_sized_new(2048);
    r->pending = g_string_sized_new(64 * 1024);
    r->sending = g_string_sized_new(64 * 1024);
    g_mutex_init(&r->lock);
    g_cond_init(&r->wake);
    r->thread = g_thread_new("pt-sink-redis", sender_main, r);
    return &r->base;
}
