/* Zero-copy views into bytes owned by someone else (a request body, a mapped file).
 * A slice never owns memory; its lifetime is that of the bytes it points into. */
#ifndef EMBER_BASE_SLICE_H
#define EMBER_BASE_SLICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct slice {
    const uint8_t *p;
    size_t len;
} slice_t;

static inline slice_t slice_make(const void *p, size_t len)
{
    slice_t s = {(const uint8_t *)p, len};
    return s;
}

static inline slice_t slice_cstr(const char *s) { return slice_make(s, strlen(s)); }

static inline bool slice_eq(slice_t a, slice_t b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
}

static inline bool slice_eq_cstr(slice_t a, const char *s) { return slice_eq(a, slice_cstr(s)); }

#endif
