/* agg.c — distinct-stack table of the collector (see agg.h). A stack's hash covers its tag
 * set, flags and frames; the index maps hash → id and resolves collisions by probing
 * hash + 1, hash + 2, ... and comparing contents. */
#include "agent/agg.h"

#include <stdlib.h>
#include <string.h>

#include "base/hash.h"
#include "ember.h"

void agg_init(agg_t *a, size_t max)
{
    memset(a, 0, sizeof(*a));
    a->max = max;
}

static uint64_t stack_hash(uint32_t tagset, uint32_t flags, const uint64_t *f, uint32_t n)
{
    uint64_t h = hash_u64(((uint64_t)tagset << 32) ^ flags ^ ((uint64_t)n << 48));
    for (uint32_t i = 0; i < n; i++)
        h = hash_u64(h ^ f[i]) + i;
    return h;
}

int agg_add(agg_t *a, uint32_t tagset, uint32_t flags, const uint64_t *frames, uint32_t n,
            uint32_t *id)
{
    uint64_t h = stack_hash(tagset, flags, frames, n), v, key = h;
    for (;; key++) {
        if (!u64map_get(&a->idx, key, &v))
            break;
        const agg_stack_t *s = &a->st[v];
        if (s->hash == h && s->tagset == tagset && s->flags == flags && s->nframes == n &&
            !memcmp(a->fr + s->off, frames, n * sizeof(*frames))) {
            *id = (uint32_t)v;
            return 0;
        }
    }
    if (a->n >= a->max) {
        a->dropped++;
        return EMBER_ELIMIT;
    }
    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 256;
        agg_stack_t *st = realloc(a->st, cap * sizeof(*st));
        if (!st)
            return EMBER_ENOMEM;
        a->st = st;
        a->cap = cap;
    }
    if (a->nfr + n > a->capfr) {
        size_t cap = a->capfr ? a->capfr : 4096;
        while (cap < a->nfr + n)
            cap *= 2;
        uint64_t *fr = realloc(a->fr, cap * sizeof(*fr));
        if (!fr)
            return EMBER_ENOMEM;
        a->fr = fr;
        a->capfr = cap;
    }
    if (u64map_put(&a->idx, key, a->n))
        return EMBER_ENOMEM;
    agg_stack_t *s = &a->st[a->n];
    s->hash = h;
    s->tagset = tagset;
    s->flags = flags;
    s->nframes = n;
    s->off = a->nfr;
    s->v[0] = s->v[1] = 0;
    memcpy(a->fr + a->nfr, frames, n * sizeof(*frames));
    a->nfr += n;
    *id = (uint32_t)a->n++;
    return 0;
}

void agg_reset(agg_t *a)
{
    a->n = 0;
    a->nfr = 0;
    u64map_reset(&a->idx);
}

void agg_release(agg_t *a)
{
    free(a->st);
    free(a->fr);
    u64map_release(&a->idx);
    size_t max = a->max;
    memset(a, 0, sizeof(*a));
    a->max = max;
}
