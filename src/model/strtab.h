/* String interning with dense ids: id 0 is always "" (as in pprof), ids never change and are
 * never freed while the table lives. Lookups return pointers into the table's storage that stay
 * valid until the next strtab_intern (the storage may move); hold the owner's lock.
 */
#ifndef EMBER_MODEL_STRTAB_H
#define EMBER_MODEL_STRTAB_H

#include <stddef.h>
#include <stdint.h>

#include "base/hash.h"

typedef struct strtab {
    char *data;          /* all strings, each NUL-terminated */
    size_t len, cap;
    uint32_t *off;       /* off[id] = offset into data */
    uint32_t *slen;      /* slen[id] = length */
    size_t n, ncap;
    hmap_t map;          /* hash(string) -> id */
} strtab_t;

void strtab_init(strtab_t *t);
void strtab_release(strtab_t *t);
/* Returns the id of s[0..len), adding it if new. */
uint32_t strtab_intern(strtab_t *t, const char *s, size_t len);
/* Returns the id or UINT32_MAX if absent. */
uint32_t strtab_find(const strtab_t *t, const char *s, size_t len);
static inline const char *strtab_get(const strtab_t *t, uint32_t id) { return t->data + t->off[id]; }
static inline size_t strtab_len(const strtab_t *t, uint32_t id) { return t->slen[id]; }

#endif
