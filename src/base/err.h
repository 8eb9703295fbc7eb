/* Error values shared by every module.
 *
 * Fallible functions return int: 0 on success, a negative EMB_E* code on failure, with the
 * detail in a caller-provided err_t. The numbers never change (they are mapped to HTTP
 * statuses in api/ and may be logged); add new codes at the end.
 */
#ifndef EMBER_BASE_ERR_H
#define EMBER_BASE_ERR_H

#include <stddef.h>

enum {
    EMB_OK = 0,
    EMB_EINVAL = -1,     /* bad input from the user: 400 (or 422 for bad profile bodies) */
    EMB_ETOOBIG = -2,    /* over a size cap: 413 */
    EMB_ENOTFOUND = -3,  /* 404 */
    EMB_ELIMIT = -4,     /* rate or count limit: 429 */
    EMB_EIO = -5,        /* disk or system failure: 500 */
    EMB_ECORRUPT = -6,   /* bytes that fail a checksum or do not decode: 422 on ingest */
    EMB_ENOMEM = -7,     /* 500 */
    EMB_EUNAVAIL = -8,   /* not ready / shutting down: 503 */
    EMB_EUNSUPPORTED = -9, /* valid but not implemented: 501 */
};

#define ERR_MSG_MAX 256

typedef struct err {
    int code;
    char msg[ERR_MSG_MAX];
} err_t;

/* Records code and a printf-style message in err (which may be NULL) and returns code,
 * so callers write `return err_set(err, EMB_EINVAL, "...")`. */
int err_set(err_t *err, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Prepends "prefix: " to an existing message, keeping the code; returns err->code. */
int err_prefix(err_t *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Short stable name of a code ("invalid", "too_big", ...), for logs. */
const char *err_name(int code);

#endif
