/* UTF-8 as Go reads it: the one decoder every module uses (ingest names, query selectors and
 * @-times, JSON output, ingest validation).
 *
 * A sequence is well-formed when it is the shortest encoding of a Unicode scalar value:
 * overlongs (C0 80, E0 80 80, ...), surrogates (U+D800..U+DFFF), values past U+10FFFF and
 * truncated sequences are all malformed. Like Go's utf8.DecodeRune, callers that recover step
 * over one byte of a malformed sequence, so each bad byte becomes one U+FFFD.
 *
 * Nothing here allocates except utf8_sanitize_dup; nothing keeps a pointer.
 */
#ifndef EMBER_BASE_UTF8_H
#define EMBER_BASE_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest encoding of one rune, in bytes. */
#define UTF8_MAX 4
/* U+FFFD REPLACEMENT CHARACTER, encoded. */
#define UTF8_REPLACEMENT "\xEF\xBF\xBD"

/* Decodes the well-formed sequence at s[0..n) into *out (may be NULL: validate only).
 * Returns its length 1..4, or 0 if n == 0 or the sequence is malformed (*out untouched). */
size_t utf8_decode(const char *s, size_t n, uint32_t *out);
/* True if all of s[0..n) is well-formed UTF-8. */
bool utf8_valid(const char *s, size_t n);
/* Writes the encoding of rune (a scalar value: <= U+10FFFF, not a surrogate) to out, which
 * has room for UTF8_MAX bytes; no NUL. Returns the length 1..4. */
size_t utf8_encode(char *out, uint32_t rune);
/* Go's unicode.IsSpace: ASCII \t \n \v \f \r and space, U+0085, U+00A0, and the Unicode
 * White_Space runes of category Z (U+1680, U+2000..U+200A, U+2028, U+2029, U+202F,
 * U+205F, U+3000). */
bool utf8_is_space(uint32_t rune);
/* Go's strings.TrimSpace on the byte range s[*b..*e): advances *b past leading and pulls *e
 * back over trailing utf8_is_space runes. A malformed byte stops the trim on that side. */
void utf8_trim_space(const char *s, size_t *b, size_t *e);
/* Copy of s[0..n), NUL-terminated, with each byte that does not belong to a well-formed
 * sequence replaced by U+FFFD (Go's view of invalid text). Owned: free(); *out_len gets its
 * length. Aborts on OOM (xmalloc). */
char *utf8_sanitize_dup(const char *s, size_t n, size_t *out_len);

#endif
