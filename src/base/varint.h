/* LEB128 varints as protobuf and Ember's block files write them: unsigned, and signed via
 * zigzag. Appends are all-or-nothing like every buf_t append. */
#ifndef EMBER_BASE_VARINT_H
#define EMBER_BASE_VARINT_H

#include <stdint.h>

#include "base/buf.h"

/* Appends v as an unsigned varint (1..10 bytes). EMB_ETOOBIG past the buffer's cap. */
static inline int varint_put(buf_t *b, uint64_t v)
{
    uint8_t x[10];
    size_t n = 0;
    while (v >= 0x80) {
        x[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    x[n++] = (uint8_t)v;
    return buf_append(b, x, n);
}

/* Appends v zigzag-encoded (small magnitudes of either sign stay short). */
static inline int varint_put_signed(buf_t *b, int64_t v)
{
    return varint_put(b, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}

#endif
