/* multipart/form-data splitting (RFC 7578) for /ingest uploads. Zero-copy: part names,
 * filenames and bodies are slices into the request body. Only what Pyroscope reads is kept:
 * the form name, whether a filename was given, and the bytes.
 */
#ifndef EMBER_INGEST_MULTIPART_H
#define EMBER_INGEST_MULTIPART_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"
#include "base/slice.h"

typedef struct mpart {
    slice_t name;
    bool has_filename;
    slice_t data;
} mpart_t;

#define MULTIPART_MAX_PARTS 16

/* Extracts the boundary parameter from a Content-Type value. */
int multipart_boundary(slice_t *out, const char *content_type, err_t *err);

/* Splits body into at most MULTIPART_MAX_PARTS parts. OUT: parts[], *nparts. EMB_ECORRUPT on
 * a missing boundary line, unterminated part or malformed headers. */
int multipart_parse(mpart_t *parts, size_t *nparts, slice_t boundary, const uint8_t *body,
                    size_t len, err_t *err);

/* First part named name with a filename (Go's FormFile semantics), or NULL. */
const mpart_t *multipart_file(const mpart_t *parts, size_t n, const char *name);

#endif
