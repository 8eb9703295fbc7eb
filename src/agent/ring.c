/* ring.c — bounded MPSC ring of sample records (see ring.h for the protocol).
 *
 * Sequence protocol per slot i (capacity N): seq == pos means free for the producer that
 * claims position pos; seq == pos + 1 means published and readable; the consumer then sets
 * seq = pos + N, which frees it for the claim one lap later. Slots store seq - i, so the
 * zero pages of a fresh mapping already say "free for lap 0": starting costs no page
 * faults, and only the slots actually used become resident.
 */
#include "agent/ring.h"

#include <sched.h>
#include <stdbool.h>
#include <sys/mman.h>

#include "ember.h"

int ring_init(ring_t *r, unsigned order)
{
    size_t n = (size_t)1 << order;
    void *m = mmap(NULL, n * sizeof(ring_rec_t), PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED)
        return EMBER_ENOMEM;
    r->slots = m;
    r->mask = n - 1;
    atomic_store(&r->head, 0);
    atomic_store(&r->tail, 0);
    atomic_store(&r->dropped, 0);
    r->wake = NULL;
    return 0;
}

static ring_rec_t *claim(ring_t *r, uint64_t *pos, bool count_drop)
{
    uint64_t p = atomic_load_explicit(&r->head, memory_order_relaxed);
    for (;;) {
        ring_rec_t *s = &r->slots[p & r->mask];
        uint64_t seq = atomic_load_explicit(&s->seq, memory_order_acquire) + (p & r->mask);
        int64_t dif = (int64_t)(seq - p);
        if (dif == 0) {
            if (atomic_compare_exchange_weak_explicit(&r->head, &p, p + 1, memory_order_relaxed,
                                                      memory_order_relaxed)) {
                *pos = p;
                /* half full: wake the collector early (sem_post is async-signal-safe) */
                if (r->wake && p - atomic_load_explicit(&r->tail, memory_order_relaxed) ==
                                   (r->mask + 1) / 2)
                    sem_post(r->wake);
                return s;
            }
            /* p was reloaded by the failed CAS */
        } else if (dif < 0) {
            if (count_drop)
                atomic_fetch_add_explicit(&r->dropped, 1, memory_order_relaxed);
            return NULL; /* full: the slot still holds last lap's unread record */
        } else {
            p = atomic_load_explicit(&r->head, memory_order_relaxed);
        }
    }
}

void ring_publish(ring_t *r, ring_rec_t *rec, uint64_t pos)
{
    atomic_store_explicit(&rec->seq, pos + 1 - (pos & r->mask), memory_order_release);
}

ring_rec_t *ring_peek(ring_t *r)
{
    uint64_t t = atomic_load_explicit(&r->tail, memory_order_relaxed);
    ring_rec_t *s = &r->slots[t & r->mask];
    uint64_t seq = atomic_load_explicit(&s->seq, memory_order_acquire) + (t & r->mask);
    return seq == t + 1 ? s : NULL;
}

void ring_consume(ring_t *r, ring_rec_t *rec)
{
    uint64_t t = atomic_load_explicit(&r->tail, memory_order_relaxed);
    atomic_store_explicit(&rec->seq, t + r->mask + 1 - (t & r->mask), memory_order_release);
    atomic_store_explicit(&r->tail, t + 1, memory_order_relaxed);
}

ring_rec_t *ring_claim(ring_t *r, uint64_t *pos)
{
    return claim(r, pos, true);
}

ring_rec_t *ring_claim_wait(ring_t *r, uint64_t *pos, int tries)
{
    for (int i = 0; i < tries; i++) {
        ring_rec_t *s = claim(r, pos, false);
        if (s)
            return s;
        if (r->wake)
            sem_post(r->wake);
        sched_yield();
    }
    return claim(r, pos, true);
}
