/* alloc.h — allocation profiling: the interposed malloc family (malloc, calloc, realloc,
 * free, posix_memalign, aligned_alloc, memalign, valloc, pvalloc, C++ operator new/delete)
 * and byte-based Poisson sampling.
 *
 * Every allocation subtracts its size from a per-thread countdown; when it goes below zero
 * the allocation is sampled (backtrace → ring record RING_ALLOC) and the countdown is redrawn
 * from an exponential distribution with mean alloc_bytes, so an allocation of s bytes is
 * sampled with probability 1 - exp(-s / mean), independent of its neighbours. The collector
 * scales a sample by 1 / (1 - exp(-s / mean)) (as Go's runtime does), which makes the
 * estimates of allocated and in-use objects and bytes unbiased.
 *
 * Sampled addresses live in a lock-free set of 8-way buckets with a byte of occupancy per
 * bucket (16 KiB, cache-resident): free() of an unsampled pointer mostly reads one byte;
 * a sampled one is found in one cache line and pushes RING_FREE. The real allocator is
 * found with dlsym(RTLD_NEXT); the allocations dlsym itself makes meanwhile are served from
 * a static arena and never freed. A thread-local guard keeps libember's own allocations
 * (collector, uploader, backtrace) from being sampled or re-entering the sampler.
 */
#ifndef AGENT_ALLOC_H
#define AGENT_ALLOC_H

#include <stdbool.h>
#include <stdint.h>

#include "agent/ring.h"

/* Sets the sampling mean and ring, and turns sampling on. Not thread-safe against itself. */
void alloc_start(ring_t *ring, long mean_bytes);

/* Turns sampling off (frees of already sampled blocks are still reported). */
void alloc_stop(void);

/* The sampling mean in bytes last given to alloc_start(). */
long alloc_mean_bytes(void);

/* Marks the calling thread as libember's own: its allocations are never sampled. */
void alloc_exclude_thread(void);

/* Sampled blocks that could not be tracked (set or ring full): in-use figures miss them. */
uint64_t alloc_untracked(void);

/* fork child: sampling off, the parent's sampled set forgotten. */
void alloc_atfork_child(void);

#endif
