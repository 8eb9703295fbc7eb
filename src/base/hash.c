/* xxHash-based hashing and a linear-probing multimap (see hash.h). Load factor ≤ 1/2 keeps
 * probe runs short; the table only grows because ids are never deleted from a head. */
#include "base/hash.h"

#include <stdlib.h>
#include <xxhash.h>

#include "base/mem.h"

uint64_t hash_bytes(const void *p, size_t n) { return XXH3_64bits(p, n); }


void hmap_init(hmap_t *m)
{
    m->e = NULL;
    m->cap = 0;
    m->count = 0;
}

void hmap_release(hmap_t *m)
{
    free(m->e);
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
        const hmap_entry_t *e = &m->e[i];
        if (e->val == HMAP_EMPTY) {
            *pos = i;
            return HMAP_EMPTY;
        }
        if (e->key == key) {
            *pos = i;
            return e->val;
        }
    }
}

static void insert_raw(hmap_entry_t *tab, size_t cap, uint64_t key, uint32_t val)
{
    size_t mask = cap - 1;
    size_t i = (size_t)hash_u64(key) & mask;
    while (tab[i].val != HMAP_EMPTY)
        i = (i + 1) & mask;
    tab[i].key = key;
    tab[i].val = val;
}

void hmap_put(hmap_t *m, uint64_t key, uint32_t val)
{
    if ((m->count + 1) * 2 > m->cap) {
        size_t ncap = m->cap ? m->cap * 2 : 64;
        hmap_entry_t *ne = xmalloc(ncap * sizeof(*ne));
        for (size_t i = 0; i < ncap; i++)
            ne[i].val = HMAP_EMPTY;
        for (size_t i = 0; i < m->cap; i++)
            if (m->e[i].val != HMAP_EMPTY)
                insert_raw(ne, ncap, m->e[i].key, m->e[i].val);
        free(m->e);
        m->e = ne;
        m->cap = ncap;
    }
    insert_raw(m->e, m->cap, key, val);
    m->count++;
}
