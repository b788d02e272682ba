/* addr.h — printing and comparing IPv4/IPv6 addresses and endpoints (RFC 5952 text form). */
#ifndef PT_CORE_ADDR_H
#define PT_CORE_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pcaptrace/types.h"

/* Longest printable address: "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255" plus NUL. */
#define PT_ADDR_STRLEN 46

/* Write the text form of *a into buf (n bytes, always NUL-terminated when n > 0):
 * "1.2.3.4", "2001:db8::1" (RFC 5952), or "-" for an unset address. Returns buf.
 * A buffer shorter than needed gets a truncated string. */
char *pt_addr_format(const pt_addr *a, char *buf, size_t n);

/* Write "1.2.3.4:80" or "[2001:db8::1]:80" into buf. Returns buf. */
char *pt_endpoint_format(const pt_endpoint *e, char buf[PT_ENDPOINT_STRLEN]);

/* Set *a to an IPv4 (4 bytes) or IPv6 (16 bytes) address in network order. */
void pt_addr_set4(pt_addr *a, const uint8_t bytes[4]);
void pt_addr_set6(pt_addr *a, const uint8_t bytes[16]);

/* Parse "1.2.3.4" or "2001:db8::1" (brackets not allowed). Returns false on bad text. */
bool pt_addr_parse(pt_addr *a, const char *text);

/* Same family and same address bytes (only the first 4 bytes count for IPv4). */
bool pt_addr_equal(const pt_addr *a, const pt_addr *b);

/* Total order: family first, then address bytes in network order. <0, 0, >0 like memcmp. */
int pt_addr_compare(const pt_addr *a, const pt_addr *b);

/* Address then port. */
bool pt_endpoint_equal(const pt_endpoint *a, const pt_endpoint *b);
int pt_endpoint_compare(const pt_endpoint *a, const pt_endpoint *b);

/* A 32-bit hash of the significant bytes of *a mixed with `seed` (FNV-1a). */
uint32_t pt_addr_hash(const pt_addr *a, uint32_t seed);

#endif
