/* xxHash-based hashing and a linear-probing multimap (see hash.h). Load factor ≤ 1/2 keeps
 * probe runs short; the table only grows because ids are never deleted from a head. */
#include "base/hash.h"

#include <stdlib.h>
#include <xxhash.h>

#include "base/mem.h"

uint64_t hash_bytes(const void *p, size_t n) { return XXH3_64bits(p, n); }

uint64_t hash_u64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

void hmap_init(hmap_t *m)
{
    m->keys = NULL;
    m->vals = NULL;
    m->cap = 0;
    m->count = 0;
}

void hmap_release(hmap_t *m)
{
    free(m->keys);
    free(m->vals);
    hmap_init(m);
}

uint32_t hmap_probe(const hmap_t *m, uint64_t key, size_t *pos, int *started)
{
    if (m->cap == 0)
        return HMAP_EMPTY;
    size_t mask = m->cap - 1;
    size_t i;
    if (!*started) {
        *started = 1;
        i = (size_t)hash_u64(key) & mask;
    } else {
        i = (*pos + 1) & mask;
    }
    for (;; i = (i + 1) & mask) {
        if (m->vals[i] == HMAP_EMPTY) {
            *pos = i;
            return HMAP_EMPTY;
        }
        if (m->keys[i] == key) {
            *pos = i;
            return m->vals[i];
        }
    }
}

static void insert_raw(uint64_t *keys, uint32_t *vals, size_t cap, uint64_t key, uint32_t val)
{
    size_t mask = cap - 1;
    size_t i = (size_t)hash_u64(key) & mask;
    while (vals[i] != HMAP_EMPTY)
        i = (i + 1) & mask;
    keys[i] = key;
    vals[i] = val;
}

void hmap_put(hmap_t *m, uint64_t key, uint32_t val)
{
    if ((m->count + 1) * 2 > m->cap) {
        size_t ncap = m->cap ? m->cap * 2 : 64;
        uint64_t *nk = xmalloc(ncap * sizeof(*nk));
        uint32_t *nv = xmalloc(ncap * sizeof(*nv));
        for (size_t i = 0; i < ncap; i++)
            nv[i] = HMAP_EMPTY;
        for (size_t i = 0; i < m->cap; i++)
            if (m->vals[i] != HMAP_EMPTY)
                insert_raw(nk, nv, ncap, m->keys[i], m->vals[i]);
        free(m->keys);
        free(m->vals);
        m->keys = nk;
        m->vals = nv;
        m->cap = ncap;
    }
    insert_raw(m->keys, m->vals, m->cap, key, val);
    m->count++;
}
