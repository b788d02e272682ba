/* addr.c — text form (RFC 5952 via inet_ntop) and ordering of pt_addr / pt_endpoint. */
#include "addr.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

static size_t addr_size(const pt_addr *a)
{
    return a->family == 4 ? 4 : a->family == 6 ? 16 : 0;
}

char *pt_addr_format(const pt_addr *a, char *buf, size_t n)
{
    char tmp[PT_ADDR_STRLEN];
    const char *s = "-";

    if (n == 0)
        return buf;
    if (a->family == 4 && inet_ntop(AF_INET, a->bytes, tmp, sizeof tmp))
        s = tmp;
    else if (a->family == 6 && inet_ntop(AF_INET6, a->bytes, tmp, sizeof tmp))
        s = tmp;
    snprintf(buf, n, "%s", s);
    return buf;
}

char *pt_endpoint_format(const pt_endpoint *e, char buf[PT_ENDPOINT_STRLEN])
{
    char a[PT_ADDR_STRLEN];

    pt_addr_format(&e->addr, a, sizeof a);
    if (e->addr.family == 6)
        snprintf(buf, PT_ENDPOINT_STRLEN, "[%s]:%u", a, (unsigned)e->port);
    else
        snprintf(buf, PT_ENDPOINT_STRLEN, "%s:%u", a, (unsigned)e->port);
    return buf;
}

void pt_addr_set4(pt_addr *a, const uint8_t bytes[4])
{
    memset(a, 0, sizeof *a);
    a->family = 4;
    memcpy(a->bytes, bytes, 4);
}

void pt_addr_set6(pt_addr *a, const uint8_t bytes[16])
{
    a->family = 6;
    memcpy(a->bytes, bytes, 16);
}

bool pt_addr_parse(pt_addr *a, const char *text)
{
    uint8_t b[16];

    if (inet_pton(AF_INET, text, b) == 1) {
        pt_addr_set4(a, b);
        return true;
    }
    if (inet_pton(AF_INET6, text, b) == 1) {
        pt_addr_set6(a, b);
        return true;
    }
    return false;
}

bool pt_addr_equal(const pt_addr *a, const pt_addr *b)
{
    return a->family == b->family && memcmp(a->bytes, b->bytes, addr_size(a)) == 0;
}

int pt_addr_compare(const pt_addr *a, const pt_addr *b)
{
    if (a->family != b->family)
        return a->family < b->family ? -1 : 1;
    return memcmp(a->bytes, b->bytes, addr_size(a));
}

bool pt_endpoint_equal(const pt_endpoint *a, const pt_endpoint *b)
{
    return a->port == b->port && pt_addr_equal(&a->addr, &b->addr);
}

int pt_endpoint_compare(const pt_endpoint *a, const pt_endpoint *b)
{
    int c = pt_addr_compare(&a->addr, &b->addr);

    if (c != 0)
        return c;
    return a->port < b->port ? -1 : a->port > b->port ? 1 : 0;
}

uint32_t pt_addr_hash(const pt_addr *a, uint32_t seed)
{
    uint32_t h = 2166136261u ^ seed;
    size_t n = addr_size(a);

    h = (h ^ a->family) * 16777619u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ a->bytes[i]) * 16777619u;
    return h;
}
