/* gzip detection and bounded decompression (libdeflate when the size is known, zlib
 * streaming otherwise). Used for pprof bodies, multipart parts and WAL-independent inputs. */
#ifndef EMBER_BASE_GZ_H
#define EMBER_BASE_GZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"

/* True if data starts with the gzip magic 1f 8b. */
bool gz_is_gzip(const uint8_t *data, size_t len);

/* Decompresses a gzip stream (concatenated members allowed) into out (appended). Fails with
 * EMB_ETOOBIG if the output would exceed max bytes (0 = out->max or unlimited), EMB_ECORRUPT on
 * bad data or truncation. out keeps what it had before on failure. */
int gz_decompress(buf_t *out, const uint8_t *data, size_t len, size_t max, err_t *err)
    __attribute__((warn_unused_result));

/* Compresses data into out (appended) as one gzip member at the given level (1..12). */
int gz_compress(buf_t *out, const uint8_t *data, size_t len, int level, err_t *err)
    __attribute__((warn_unused_result));

#endif
