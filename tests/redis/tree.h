/* tree.h — test helper: records what the RESP parser reports as one line per value, so two
 * parses (one-shot and chunked, or ours and hiredis's) can be compared as strings. */
#ifndef PT_TEST_REDIS_TREE_H
#define PT_TEST_REDIS_TREE_H

#include <stddef.h>
#include <stdint.h>

#include "resp.h"

typedef struct tree {
    char *buf;
    size_t len, cap;
    size_t messages;
    uint64_t wire_bytes; /* sum over completed messages */
    size_t show;         /* bytes of each value shown (the parser's prefix bound) */
} tree;

void tree_init(tree *t, size_t show);
void tree_free(tree *t);
void tree_printf(tree *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Append `n` bytes escaped (printable ASCII as is, others as \xHH). */
void tree_bytes(tree *t, const uint8_t *p, size_t n);

extern const pt_resp_handler tree_handler;

/* Parse `data` in chunks of the given sizes (cycled; 0 = all at once) with a fresh parser.
 * Returns the pt_resp_feed() status of the last call; *t receives the tree. */
int tree_parse(tree *t, pt_resp_mode mode, const pt_resp_limits *lim, const uint8_t *data,
               size_t len, const size_t *chunks, size_t n_chunks);

#endif
