/* agg.h — the collector's table of distinct stacks: (tag set, flags, frames) → dense id with
 * per-stack values (CPU: v[0] = samples; allocations: v[0] = objects, v[1] = bytes, both
 * already scaled). Collector thread only.
 *
 * Memory: owned arrays, grown with realloc and capped at `max` stacks; a stack beyond the
 * cap is counted in `dropped` and its sample lost (bounded memory over unbounded variety).
 */
#ifndef AGENT_AGG_H
#define AGENT_AGG_H

#include <stddef.h>
#include <stdint.h>

#include "agent/u64map.h"

typedef struct agg_stack {
    uint64_t hash;
    uint32_t tagset;
    uint32_t flags;   /* RING_F_* of the first record */
    uint32_t nframes;
    size_t off;       /* into agg_t.fr */
    double v[2];
} agg_stack_t;

typedef struct agg {
    agg_stack_t *st;
    size_t n, cap;
    uint64_t *fr;
    size_t nfr, capfr;
    u64map_t idx; /* hash (+ probe) → id */
    size_t max;
    uint64_t dropped;
} agg_t;

/* An empty table holding at most max stacks. */
void agg_init(agg_t *a, size_t max);

/* The id of the stack, added when new. OUT: *id. Returns 0, EMBER_ELIMIT or EMBER_ENOMEM. */
int agg_add(agg_t *a, uint32_t tagset, uint32_t flags, const uint64_t *frames, uint32_t n,
            uint32_t *id);

/* Empties the table, keeping capacity. */
void agg_reset(agg_t *a);

/* Frees everything; the table is empty and reusable. */
void agg_release(agg_t *a);

#endif
