/* types.h — basic value types shared by the pcaptrace library, its plugins and its sinks. */
#ifndef PCAPTRACE_TYPES_H
#define PCAPTRACE_TYPES_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Status codes (nginx's convention). */
enum {
    PT_OK = 0,
    PT_ERROR = -1,
    PT_AGAIN = -2,   /* need more input */
    PT_DECLINED = -3 /* not mine */
};

/* Capture time: seconds since the epoch plus nanoseconds. Files with microsecond
 * resolution are read with nanosecond precision by libpcap, so one type fits both. */
typedef struct pt_time {
    int64_t sec;
    uint32_t nsec;
} pt_time;

/* Difference a - b in microseconds (may be negative). */
static inline int64_t pt_time_diff_us(const pt_time *a, const pt_time *b)
{
    return (a->sec - b->sec) * 1000000 + ((int64_t)a->nsec - (int64_t)b->nsec) / 1000;
}

/* Difference a - b in nanoseconds (may be negative). */
static inline int64_t pt_time_diff_ns(const pt_time *a, const pt_time *b)
{
    return (a->sec - b->sec) * 1000000000 + ((int64_t)a->nsec - (int64_t)b->nsec);
}

/* An IPv4 or IPv6 address. IPv4 uses the first four bytes of `bytes`. */
typedef struct pt_addr {
    uint8_t family; /* 4 or 6; 0 when unset */
    uint8_t bytes[16];
} pt_addr;

typedef struct pt_endpoint {
    pt_addr addr;
    uint16_t port;
} pt_endpoint;

/* Longest printable endpoint: "[ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255]:65535". */
#define PT_ENDPOINT_STRLEN 56

/* Direction of a byte stream inside a TCP connection. */
typedef enum pt_dir { PT_DIR_TO_SERVER = 0, PT_DIR_TO_CLIENT = 1 } pt_dir;

/* A run of bytes, usually pointing into a capture buffer or a plugin's own storage.
 * `len` bytes are readable at `ptr`; `full_len` (>= len) is the length of the value on
 * the wire when the producer kept only a prefix (sinks show "…(N bytes)"). */
typedef struct pt_span {
    const uint8_t *ptr;
    size_t len;
    uint64_t full_len;
} pt_span;

#define PT_SPAN(p, n) ((pt_span){(const uint8_t *)(p), (n), (n)})

#ifdef __cplusplus
}
#endif
#endif
