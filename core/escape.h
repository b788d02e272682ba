/* escape.h — byte escaping shared by the sinks: JSON strings (RFC 8259) with a lossless
 * base64 side channel (RFC 4648) for bytes that are not UTF-8, and terminal-safe text. */
#ifndef PT_CORE_ESCAPE_H
#define PT_CORE_ESCAPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <glib.h>

/* Whether p[0..n) is well-formed UTF-8 (RFC 3629: no overlongs, no surrogates, <= U+10FFFF). */
bool pt_escape_utf8_valid(const uint8_t *p, size_t n);

/* Append p[0..n) to out as the inside of a JSON string (no quotes): ", \ and control
 * characters escaped, U+2028/U+2029 escaped, each byte that is not part of a well-formed
 * UTF-8 sequence replaced by U+FFFD. Returns false when such a replacement happened (the
 * caller then adds the exact bytes as base64). */
bool pt_escape_json(GString *out, const uint8_t *p, size_t n);

/* Append p[0..n) as standard base64 with padding (RFC 4648 section 4). */
void pt_escape_base64(GString *out, const uint8_t *p, size_t n);

/* Append p[0..n) for a terminal: printable ASCII and well-formed UTF-8 of printable code
 * points as is; \n \r \t \\ as C escapes, `"` as \" when `quoted`; every other byte
 * (controls, ESC, C1 controls, invalid UTF-8) as \xNN. Never cuts inside a sequence. */
void pt_escape_text(GString *out, const uint8_t *p, size_t n, bool quoted);

#endif
