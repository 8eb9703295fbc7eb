/* ring.h — the lock-free multi-producer / single-consumer ring that carries samples from the
 * SIGPROF handler and the malloc hooks (producers, any thread) to the collector thread.
 *
 * A bounded array of fixed-size records with a sequence number per slot (Vyukov's bounded
 * queue): a producer claims a slot with one CAS on `head`, fills it, and publishes it by
 * storing the slot's sequence; the consumer reads slots in order. No locks and no allocation
 * after ring_init(), so producing is async-signal-safe. A full ring drops the sample and
 * counts it; it never blocks. A slot claimed by a producer that was interrupted (a signal
 * handler sampling in the middle of a malloc hook on the same thread) is simply not ready
 * yet: the consumer stops at it and comes back on its next pass.
 *
 * Invariant: ring memory is mapped once and never unmapped, so a handler that fires during
 * exit or after ember_stop() still writes to valid memory.
 */
#ifndef AGENT_RING_H
#define AGENT_RING_H

#include <semaphore.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define RING_MAX_FRAMES 64

#define RING_F_LEAF_PC 1u /* frames[0] is the interrupted PC, not a return address */

enum ring_kind {
    RING_CPU = 1,   /* one CPU sample: frames, value = 1 */
    RING_ALLOC = 2, /* one sampled allocation: addr, size, frames */
    RING_FREE = 3,  /* a sampled allocation was freed: addr */
};

typedef struct ring_rec {
    _Atomic uint64_t seq;
    uint32_t kind;
    uint32_t tagset; /* tags_current() of the thread when sampled */
    uint32_t nframes;
    uint32_t flags;  /* RING_F_* */
    uint64_t addr;   /* ALLOC/FREE: the block; CPU: the word at the stack pointer */
    uint64_t size;   /* ALLOC: bytes; CPU: samples (1 + timer overruns) */
    uint64_t frames[RING_MAX_FRAMES]; /* leaf first; frames[0] is a PC, the rest return addrs */
} ring_rec_t;

typedef struct ring {
    ring_rec_t *slots; /* mmap'ed, never unmapped */
    uint64_t mask;
    _Alignas(64) _Atomic uint64_t head; /* next slot to claim */
    _Alignas(64) _Atomic uint64_t tail;  /* next slot to read (written by the consumer) */
    _Atomic uint64_t dropped;            /* samples lost to a full ring */
    sem_t *wake;                         /* posted when the ring gets half full, or NULL */
} ring_t;

/* Maps 2^order slots (wake = NULL; set it before producers start). Returns 0 or
 * EMBER_ENOMEM. Not thread-safe; call once. */
int ring_init(ring_t *r, unsigned order);

/* Claims a slot; NULL when the ring is full (then `dropped` is incremented). OUT: *pos.
 * Async-signal-safe. */
ring_rec_t *ring_claim(ring_t *r, uint64_t *pos);

/* Like ring_claim, for producers outside signal handlers (the allocation hooks): when the
 * ring is full it wakes the consumer and yields, up to `tries` times, before giving up. A
 * starved collector (a loaded machine) then delays an allocation by a few yields instead of
 * losing the sample, which would bias the in-use estimate. */
ring_rec_t *ring_claim_wait(ring_t *r, uint64_t *pos, int tries);

/* Publishes a claimed slot to the consumer. Async-signal-safe. */
void ring_publish(ring_t *r, ring_rec_t *rec, uint64_t pos);

/* The next published record, or NULL. Consumer only; borrowed until ring_consume(). */
ring_rec_t *ring_peek(ring_t *r);

/* Returns the record of the last ring_peek() to producers. Consumer only. */
void ring_consume(ring_t *r, ring_rec_t *rec);

#endif
