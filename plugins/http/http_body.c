/* http_body.c — keep a bounded prefix of a message body when bodies are shown, and decode
 * gzip/deflate content codings (RFC 9110 §8.4.1) as the body streams by, with GLib's
 * GZlibDecompressor, into a buffer of body_max bytes. */
#include <gio/gio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http.h"

static bool span_prefix(pt_span s, const char *prefix)
{
    size_t n = strlen(prefix);
    return s.len >= n && strncasecmp((const char *)s.ptr, prefix, n) == 0;
}

/* A body begins: forget the previous one and note its content coding. */
void http_body_start(http_dir *d, pt_span enc)
{
    d->body_len = 0;
    d->dec_len = 0;
    d->zfailed = false;
    d->zfmt = HTTP_Z_NONE;
    if (span_prefix(enc, "gzip") || span_prefix(enc, "x-gzip")) {
        d->zfmt = HTTP_Z_GZIP;
    } else if (span_prefix(enc, "deflate")) {
        d->zfmt = HTTP_Z_DEFLATE; /* zlib-wrapped or raw: decided on the first byte */
    }
    d->zstop = false;
    for (int i = 0; i < HTTP_Z_COUNT; i++) {
        if (d->z[i] != NULL && d->zfmt != HTTP_Z_NONE) {
            g_converter_reset(d->z[i]);
        }
    }
}

/* Bytes of the body were lost: keep what was decoded, decode no more. */
void http_body_lost(http_dir *d)
{
    d->zstop = true;
    d->zfailed = d->zfailed || d->dec_len == 0;
}

static const GZlibCompressorFormat zformats[HTTP_Z_COUNT] = {
    G_ZLIB_COMPRESSOR_FORMAT_GZIP, G_ZLIB_COMPRESSOR_FORMAT_ZLIB, G_ZLIB_COMPRESSOR_FORMAT_RAW};

/* Decode one piece of body into d->dec until the input is used up or the output is full. */
static void inflate_piece(http_dir *d, size_t max, const uint8_t *in, size_t n)
{
    if (d->zfmt == HTTP_Z_DEFLATE) {
        /* RFC 1950: CM = 8 in the low nibble, window size <= 7 in the high one */
        d->zfmt = (in[0] & 0x0f) == 8 && (in[0] >> 4) <= 7 ? HTTP_Z_ZLIB : HTTP_Z_RAW;
    }
    if (d->dec == NULL && (d->dec = malloc(max)) == NULL) {
        d->zfailed = true;
        return;
    }
    GConverter *z = d->z[d->zfmt];
    if (z == NULL) {
        z = G_CONVERTER(g_zlib_decompressor_new(zformats[d->zfmt]));
        d->z[d->zfmt] = z;
    }
    while (n > 0 && d->dec_len < max) {
        gsize r = 0, w = 0;
        GError *err = NULL;
        GConverterResult cr = g_converter_convert(z, in, n, d->dec + d->dec_len, max - d->dec_len,
                                                  G_CONVERTER_NO_FLAGS, &r, &w, &err);
        if (cr == G_CONVERTER_ERROR) {
            if (!g_error_matches(err, G_IO_ERROR, G_IO_ERROR_PARTIAL_INPUT)) {
                d->zfailed = d->dec_len == 0;
            }
            g_error_free(err);
            return;
        }
        in += r;
        n -= r;
        d->dec_len += w;
        if (cr == G_CONVERTER_FINISHED || (r == 0 && w == 0)) {
            return;
        }
    }
}

void http_body_append(http_dir *d, size_t max, const char *at, size_t n)
{
    if (n == 0) {
        return;
    }
    if (d->body_cap < max) {
        uint8_t *b = realloc(d->body, max);
        if (b == NULL) {
            return;
        }
        d->body = b;
        d->body_cap = max;
    }
    size_t room = d->body_cap - d->body_len;
    size_t k = n < room ? n : room;
    memcpy(d->body + d->body_len, at, k);
    d->body_len += k;
    if (d->zfmt != HTTP_Z_NONE && !d->zfailed && !d->zstop) {
        inflate_piece(d, max, (const uint8_t *)at, n);
    }
}

void http_body_free(http_dir *d)
{
    for (int i = 0; i < HTTP_Z_COUNT; i++) {
        if (d->z[i] != NULL) {
            g_object_unref(d->z[i]);
            d->z[i] = NULL;
        }
    }
    free(d->body);
    free(d->dec);
    d->body = d->dec = NULL;
}

/* Whether a body of this media type is shown: text-like types, or any with bodies=all. */
bool http_body_wanted(const http_plugin *pl, pt_span ct)
{
    if (pl->bodies == HTTP_BODIES_ALL) {
        return true;
    }
    if (pl->bodies != HTTP_BODIES_TEXT || ct.len == 0) {
        return false;
    }
    static const char *const text[] = {"text/",
                                       "application/json",
                                       "application/javascript",
                                       "application/ecmascript",
                                       "application/xml",
                                       "application/xhtml+xml",
                                       "application/x-www-form-urlencoded",
                                       "application/graphql",
                                       "application/x-ndjson",
                                       "message/http"};
    for (size_t i = 0; i < G_N_ELEMENTS(text); i++) {
        if (span_prefix(ct, text[i])) {
            return true;
        }
    }
    /* structured syntax suffixes: application/problem+json, image/svg+xml */
    const uint8_t *semi = memchr(ct.ptr, ';', ct.len);
    size_t n = semi ? (size_t)(semi - ct.ptr) : ct.len;
    while (n > 0 && ct.ptr[n - 1] == ' ') {
        n--;
    }
    return (n >= 5 && strncasecmp((const char *)ct.ptr + n - 5, "+json", 5) == 0) ||
           (n >= 4 && strncasecmp((const char *)ct.ptr + n - 4, "+xml", 4) == 0);
}

pt_span http_body_shown(http_dir *d)
{
    if (d->zfmt != HTTP_Z_NONE && !d->zfailed && d->dec != NULL) {
        return PT_SPAN(d->dec, d->dec_len);
    }
    if (d->body == NULL) {
        return (pt_span){(const uint8_t *)"", 0, d->body_bytes};
    }
    return (pt_span){d->body, d->body_len, d->body_bytes};
}
