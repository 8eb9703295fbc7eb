/* The legacy `name` parameter of /ingest: `app.cpu{env=prod,region=eu}` (PROTOCOLS.md §1.2).
 *
 * Text before the first `{`, trimmed, is the app name (runes [A-Za-z0-9_.\-/], non-empty).
 * Inside the braces: pairs split on `,`, key and value on the first `=`, both trimmed; parsing
 * stops at the first `}`. Values are verbatim (no quoting: `env="x"` keeps the quotes). Keys
 * must match [A-Za-z0-9_.]+; an empty key or a pair without `=` is an error. Keys starting with
 * `__` are dropped except `__session_id__`. A blank last piece is allowed (`app{}`, `{a=1,}`);
 * a missing `}` ends the set at the end of the input. Bytes that are not UTF-8 become U+FFFD
 * in values; a NUL in a value is an error.
 */
#ifndef EMBER_INGEST_NAME_H
#define EMBER_INGEST_NAME_H

#include <stddef.h>

#include "base/err.h"
#include "model/labels.h"

/* Parses s[0..len). OUT: app (owned, free()), tags (initialised here; release with
 * labels_release, also on failure). Errors are EMB_EINVAL with a message. */
int name_parse(char **app, labels_t *tags, const char *s, size_t len, err_t *err);

#endif
