/* Hashing and an open-addressing map from 64-bit keys to 32-bit values.
 *
 * The map stores (key, value) with key hashed by the caller-supplied 64-bit hash; callers
 * that intern variable-length things (strings, stack nodes) keep the things in their own dense
 * arrays and use the map only to find an existing id: they pass the full hash as the key and
 * confirm equality themselves via the probe API (hmap_find_first/next). Value UINT32_MAX is
 * reserved as "empty". Not thread-safe; owners lock.
 */
#ifndef EMBER_BASE_HASH_H
#define EMBER_BASE_HASH_H

#include <stddef.h>
#include <stdint.h>

uint64_t hash_bytes(const void *p, size_t n);

/* The murmur3 finalizer. Inline and dependency-free, so libember (which links nothing of
 * base/) mixes its keys with the same function. */
static inline uint64_t hash_u64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

typedef struct hmap_entry {
    uint64_t key;
    uint32_t val; /* HMAP_EMPTY = free slot */
    uint32_t pad;
} hmap_entry_t;

typedef struct hmap {
    hmap_entry_t *e; /* key and value side by side: one cache line per probe */
    size_t cap;      /* power of two */
    size_t count;
} hmap_t;

#define HMAP_EMPTY UINT32_MAX

void hmap_init(hmap_t *m);
void hmap_release(hmap_t *m);
/* Probe cursor over entries whose key equals key. Start with *pos = 0 (any initial value is
 * reset), returns the next matching value or HMAP_EMPTY when done. */
uint32_t hmap_probe(const hmap_t *m, uint64_t key, size_t *pos, int *started);
/* Inserts (key, val); duplicates allowed (callers check first). val != HMAP_EMPTY. */
void hmap_put(hmap_t *m, uint64_t key, uint32_t val);

#endif
