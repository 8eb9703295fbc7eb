/* u64map.c — linear-probing uint64 → uint64 map with backward-shift deletion (u64map.h).
 * Load factor is kept under 1/2 so probes stay short. */
#include "agent/u64map.h"

#include <stdlib.h>
#include <string.h>

#include "base/hash.h"
#include "ember.h"


bool u64map_get(const u64map_t *m, uint64_t key, uint64_t *out)
{
    if (!m->cap)
        return false;
    size_t mask = m->cap - 1;
    for (size_t i = hash_u64(key) & mask;; i = (i + 1) & mask) {
        if (!m->used[i])
            return false;
        if (m->keys[i] == key) {
            if (out)
                *out = m->vals[i];
            return true;
        }
    }
}

static int grow(u64map_t *m)
{
    size_t cap = m->cap ? m->cap * 2 : 64;
    u64map_t g = {calloc(cap, 8), calloc(cap, 8), calloc(cap, 1), cap, 0};
    if (!g.keys || !g.vals || !g.used) {
        free(g.keys);
        free(g.vals);
        free(g.used);
        return EMBER_ENOMEM;
    }
    for (size_t i = 0; i < m->cap; i++)
        if (m->used[i]) {
            size_t j = hash_u64(m->keys[i]) & (cap - 1);
            while (g.used[j])
                j = (j + 1) & (cap - 1);
            g.used[j] = 1;
            g.keys[j] = m->keys[i];
            g.vals[j] = m->vals[i];
            g.n++;
        }
    u64map_release(m);
    *m = g;
    return 0;
}

int u64map_put(u64map_t *m, uint64_t key, uint64_t val)
{
    if ((m->n + 1) * 2 > m->cap) {
        int rc = grow(m);
        if (rc)
            return rc;
    }
    size_t mask = m->cap - 1;
    size_t i = hash_u64(key) & mask;
    while (m->used[i] && m->keys[i] != key)
        i = (i + 1) & mask;
    if (!m->used[i]) {
        m->used[i] = 1;
        m->keys[i] = key;
        m->n++;
    }
    m->vals[i] = val;
    return 0;
}

bool u64map_del(u64map_t *m, uint64_t key)
{
    if (!m->cap)
        return false;
    size_t mask = m->cap - 1;
    size_t i = hash_u64(key) & mask;
    while (m->used[i] && m->keys[i] != key)
        i = (i + 1) & mask;
    if (!m->used[i])
        return false;
    /* backward shift: move later members of the cluster into the hole when their home slot
     * does not lie cyclically in (hole, their slot] */
    size_t j = i;
    for (;;) {
        m->used[i] = 0;
        for (;;) {
            j = (j + 1) & mask;
            if (!m->used[j]) {
                m->n--;
                return true;
            }
            size_t home = hash_u64(m->keys[j]) & mask;
            if (i <= j ? (i < home && home <= j) : (i < home || home <= j))
                continue;
            break;
        }
        m->used[i] = 1;
        m->keys[i] = m->keys[j];
        m->vals[i] = m->vals[j];
        i = j;
    }
}

void u64map_reset(u64map_t *m)
{
    if (m->cap)
        memset(m->used, 0, m->cap);
    m->n = 0;
}

void u64map_release(u64map_t *m)
{
    free(m->keys);
    free(m->vals);
    free(m->used);
    memset(m, 0, sizeof(*m));
}
