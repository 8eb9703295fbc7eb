/* Label selectors: `{service_name="app", env=~"prod|dev", host!="a", dc!~"x.*"}`, optionally
 * preceded by a metric name, which in Ember is a profile type id
 * (`process_cpu:cpu:nanoseconds:cpu:nanoseconds{...}`) or a legacy app name (`app.cpu{...}`,
 * see PROTOCOLS.md §3.1/§1.2; the caller decides how to interpret `metric`).
 *
 * Syntax (Prometheus/PromQL selector rules): label names [A-Za-z_][A-Za-z0-9_.]* (also a
 * double-quoted name), values double-, single- or back-quoted strings with Go escapes
 * (\" \\ \n \t \xNN \uNNNN ...), matchers separated by `,` (trailing comma allowed), whitespace
 * anywhere between tokens. Regexes are fully anchored (`=~"a.*"` matches "abc" but not "xabc")
 * and compiled with PCRE2 (UTF mode). A missing label matches as the empty string, so
 * `{x=""}` matches series without x and `{x!=""}` requires x.
 *
 * Details: `{}` is a valid selector with no matchers; a lone quoted string inside the braces
 * is the metric name (Prometheus 3: `{"app.cpu", env="x"}`); a metric before `{` is made of
 * [A-Za-z0-9_:.\-/]. Strings must be valid UTF-8 and may not contain NUL (also not as an
 * escape). Regex semantics follow Prometheus' `^(?s:re)$`: `.` matches newline, `$` is the end
 * of text, \d \w are ASCII; a subject that is not UTF-8 is matched with U+FFFD for each bad
 * byte, as Go does. Backtracking is bounded: a match that exceeds the limit counts as "the
 * regex did not match".
 *
 * Everything inside selector_t is owned by it; selector_release frees it.
 */
#ifndef EMBER_QUERY_SELECTOR_H
#define EMBER_QUERY_SELECTOR_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"
#include "model/labels.h"

typedef enum { MATCH_EQ, MATCH_NEQ, MATCH_RE, MATCH_NRE } match_op_t;

typedef struct matcher {
    char *name;   /* owned */
    char *value;  /* owned, unescaped */
    match_op_t op;
    void *re;     /* owned pcre2_code* for MATCH_RE/MATCH_NRE, else NULL */
    void *md;     /* always NULL: match data is made per call, see matcher_match */
} matcher_t;

typedef struct selector {
    char *metric;  /* owned; text before `{`, trimmed; NULL if absent */
    matcher_t *m;
    size_t n;
} selector_t;

/* Parses s[0..len). A bare metric without braces (`app.cpu`) is accepted with no matchers.
 * Empty input, unbalanced braces, bad names, unterminated strings and invalid regexes fail
 * with EMB_EINVAL and a message naming the byte offset. OUT: out, initialised by this call
 * (release with selector_release, also after failure). */
int selector_parse(selector_t *out, const char *s, size_t len, err_t *err);

void selector_release(selector_t *sel);

/* True if value (NULL = label absent, treated as "") satisfies m. Uses pcre2_match with a
 * per-call match data block, so it is thread-safe for concurrent queries on one selector. */
bool matcher_match(const matcher_t *m, const char *value);

/* True if every matcher matches the label set. The metric is not consulted: the caller maps
 * it to labels (query_selector) or ignores it. Thread-safe like matcher_match. */
bool selector_match(const selector_t *sel, const labels_t *l);

/* Appends a matcher (copies name and value; compiles regexes). Used to add service_name
 * from a legacy name. Fails with EMB_EINVAL for a bad regex. */
int selector_add(selector_t *sel, const char *name, match_op_t op, const char *value, err_t *err);

#endif
