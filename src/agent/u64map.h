/* u64map.h — an open-addressing hash map from uint64_t keys to uint64_t values, for the
 * collector thread (stack ids, addresses of sampled blocks, locations). Linear probing with
 * backward-shift deletion, so no tombstones build up under churn.
 *
 * Memory: the map owns its arrays (malloc); u64map_release() frees them. Not thread-safe.
 * Fallible calls return 0 or EMBER_ENOMEM and leave the map unchanged on failure.
 */
#ifndef AGENT_U64MAP_H
#define AGENT_U64MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct u64map {
    uint64_t *keys;
    uint64_t *vals;
    uint8_t *used;
    size_t cap; /* power of two, or 0 */
    size_t n;
} u64map_t;

#define U64MAP_INIT {NULL, NULL, NULL, 0, 0}

/* The value of key in *out; false when absent. */
bool u64map_get(const u64map_t *m, uint64_t key, uint64_t *out);

/* Sets key to val (insert or replace). Returns 0 or EMBER_ENOMEM. */
int u64map_put(u64map_t *m, uint64_t key, uint64_t val);

/* Removes key; false when absent. */
bool u64map_del(u64map_t *m, uint64_t key);

/* Iteration: for (size_t i = 0; i < m->cap; i++) if (m->used[i]) ... keys[i], vals[i]. */

/* Empties the map, keeping its capacity. */
void u64map_reset(u64map_t *m);

/* Frees the arrays; the map is empty and reusable afterwards. */
void u64map_release(u64map_t *m);

#endif
