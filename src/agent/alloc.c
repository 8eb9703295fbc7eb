/* alloc.c — the interposed malloc family and byte-based allocation sampling (see alloc.h).
 *
 * The fast path of every allocation is one relaxed load of `g_on` and, when on, one
 * subtraction on a thread-local countdown; the fast path of free() is one relaxed load of
 * the number of tracked blocks. Everything else happens for about one allocation in
 * mean_bytes / average size.
 *
 * Invariants: (1) nothing here takes a lock — a fork, a signal or exit() can come at any
 * instruction; (2) the ALLOC record of a block is claimed in the ring before its address is
 * returned to the program, so its FREE record (from any thread) always comes after it.
 */
#include "agent/alloc.h"

#include <dlfcn.h>
#include <errno.h>
#include <math.h>
#include <stdatomic.h>
#include <stddef.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent/sampler.h"
#include "agent/tags.h"

#define IE __attribute__((tls_model("initial-exec")))
#define EXPORT __attribute__((visibility("default")))

/* ---- the real allocator ---- */

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);
extern void *__libc_memalign(size_t, size_t);

typedef void *(*malloc_fn)(size_t);
typedef void *(*calloc_fn)(size_t, size_t);
typedef void *(*realloc_fn)(void *, size_t);
typedef void (*free_fn)(void *);
typedef int (*posix_memalign_fn)(void **, size_t, size_t);
typedef void *(*memalign_fn)(size_t, size_t);

static struct {
    _Atomic(malloc_fn) malloc;
    _Atomic(calloc_fn) calloc;
    _Atomic(realloc_fn) realloc;
    _Atomic(free_fn) free;
    _Atomic(posix_memalign_fn) posix_memalign;
    _Atomic(memalign_fn) aligned_alloc;
    _Atomic(memalign_fn) memalign;
    _Atomic(malloc_fn) valloc;
    _Atomic(malloc_fn) pvalloc;
} real;

static __thread int tls_resolving IE;

#define LOAD(f) atomic_load_explicit(&real.f, memory_order_acquire)
#define STORE(f, v) atomic_store_explicit(&real.f, (v), memory_order_release)

/* Resolves the next allocator in link order. dlsym may itself allocate (dlerror buffers):
 * those nested calls see tls_resolving and are served from the boot arena. */
static void resolve(void)
{
    if (tls_resolving || LOAD(free))
        return;
    tls_resolving = 1;
    malloc_fn m = (malloc_fn)dlsym(RTLD_NEXT, "malloc");
    calloc_fn c = (calloc_fn)dlsym(RTLD_NEXT, "calloc");
    realloc_fn r = (realloc_fn)dlsym(RTLD_NEXT, "realloc");
    free_fn f = (free_fn)dlsym(RTLD_NEXT, "free");
    posix_memalign_fn pm = (posix_memalign_fn)dlsym(RTLD_NEXT, "posix_memalign");
    memalign_fn aa = (memalign_fn)dlsym(RTLD_NEXT, "aligned_alloc");
    memalign_fn ma = (memalign_fn)dlsym(RTLD_NEXT, "memalign");
    malloc_fn va = (malloc_fn)dlsym(RTLD_NEXT, "valloc");
    malloc_fn pv = (malloc_fn)dlsym(RTLD_NEXT, "pvalloc");
    if (!m || !c || !r || !f) { /* no next allocator found: glibc's own entry points */
        m = __libc_malloc;
        c = __libc_calloc;
        r = __libc_realloc;
        f = __libc_free;
    }
    STORE(malloc, m);
    STORE(calloc, c);
    STORE(realloc, r);
    STORE(posix_memalign, pm);
    STORE(aligned_alloc, aa ? aa : __libc_memalign);
    STORE(memalign, ma ? ma : __libc_memalign);
    STORE(valloc, va);
    STORE(pvalloc, pv);
    STORE(free, f); /* last: a non-NULL free means everything is resolved */
    tls_resolving = 0;
}

/* ---- boot arena: what dlsym allocates before the real allocator is known ---- */

static _Alignas(64) unsigned char boot[256 * 1024];
static atomic_size_t boot_used;

static bool in_boot(const void *p)
{
    return (const unsigned char *)p >= boot && (const unsigned char *)p < boot + sizeof(boot);
}

/* 16-byte header with the size (for realloc), then the block; zeroed memory (static) */
static void *boot_alloc(size_t n, size_t align)
{
    if (align < 16)
        align = 16;
    size_t need = n + 16 + align;
    size_t off = atomic_fetch_add(&boot_used, need);
    if (off + need > sizeof(boot) || n > sizeof(boot))
        return NULL;
    uintptr_t p = ((uintptr_t)(boot + off + 16) + align - 1) & ~(uintptr_t)(align - 1);
    ((size_t *)p)[-1] = n;
    return (void *)p;
}

/* ---- the set of sampled live blocks ----
 * Buckets of 8 slots, one cache line each, no probing across buckets: free() of any
 * pointer reads exactly one line, and a removal simply zeroes its slot (no tombstones that
 * would lengthen later lookups under churn). A full bucket leaves the block untracked. */

#define SET_BUCKETS (1u << 14)
#define SET_WAYS 8

static _Alignas(64) _Atomic uintptr_t set[SET_BUCKETS][SET_WAYS];
static _Atomic unsigned char set_used[SET_BUCKETS]; /* occupied slots per bucket */
static atomic_long set_count;
static atomic_ullong untracked;

static size_t set_index(uintptr_t p)
{
    return (size_t)(((uint64_t)(p >> 4) * 0x9E3779B97F4A7C15ull) >> (64 - 14));
}

static bool set_insert(uintptr_t p)
{
    size_t bi = set_index(p);
    _Atomic uintptr_t *b = set[bi];
    for (size_t i = 0; i < SET_WAYS; i++) {
        uintptr_t v = 0;
        if (atomic_load_explicit(&b[i], memory_order_relaxed) == 0 &&
            atomic_compare_exchange_strong_explicit(&b[i], &v, p, memory_order_relaxed,
                                                    memory_order_relaxed)) {
            atomic_fetch_add_explicit(&set_used[bi], 1, memory_order_relaxed);
            atomic_fetch_add_explicit(&set_count, 1, memory_order_relaxed);
            return true;
        }
    }
    return false;
}

static bool set_remove(uintptr_t p)
{
    size_t bi = set_index(p);
    if (atomic_load_explicit(&set_used[bi], memory_order_relaxed) == 0)
        return false; /* the common case: nothing sampled hashes here */
    _Atomic uintptr_t *b = set[bi];
    for (size_t i = 0; i < SET_WAYS; i++) {
        uintptr_t v = p;
        if (atomic_load_explicit(&b[i], memory_order_relaxed) == p &&
            atomic_compare_exchange_strong_explicit(&b[i], &v, 0, memory_order_relaxed,
                                                    memory_order_relaxed)) {
            atomic_fetch_sub_explicit(&set_used[bi], 1, memory_order_relaxed);
            atomic_fetch_sub_explicit(&set_count, 1, memory_order_relaxed);
            return true; /* two racing frees of one block: only one CAS wins */
        }
    }
    return false;
}

/* ---- sampling ---- */

static atomic_int g_on;
static ring_t *g_ring;
/* Yields an allocation may spend waiting for room in a full ring (ring_claim_wait). */
#define CLAIM_TRIES 200
static long g_mean = 512 * 1024;

static __thread struct {
    int64_t countdown;
    uint64_t rng;
    int guard;    /* inside sample_slow: nested allocations are not sampled */
    int excluded; /* a libember thread */
    int seeded;
} t IE;

static uint64_t next_rand(void)
{
    uint64_t x = t.rng; /* xorshift64* */
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    t.rng = x;
    return x * 0x2545F4914F6CDD1Dull;
}

static int64_t next_interval(void)
{
    if (!t.seeded) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        t.rng = ((uint64_t)ts.tv_nsec << 20) ^ (uint64_t)sampler_gettid() ^ 0x9E3779B97F4A7C15ull;
        if (!t.rng)
            t.rng = 1;
        t.seeded = 1;
    }
    /* u in (0, 1]: 53 random bits */
    double u = ((double)(next_rand() >> 11) + 1.0) / 9007199254740992.0;
    double v = -log(u) * (double)g_mean;
    if (v > 4e18)
        v = 4e18;
    return (int64_t)v + 1;
}

static __attribute__((noinline)) void sample_slow(void *p, size_t n)
{
    if (t.excluded) { /* libember's own thread: never sampled */
        t.countdown = INT64_MAX / 2;
        return;
    }
    if (t.guard) /* an allocation made while sampling (backtrace, stack bounds): skip it,
                  * and leave the countdown of the sample in progress alone */
        return;
    t.guard = 1;
    bool first = !t.seeded;
    int64_t next = next_interval();
    if (first) { /* the thread's first allocation only draws its first interval */
        t.countdown = next - (int64_t)n;
        if (t.countdown > 0) {
            t.guard = 0;
            return;
        }
        next = next_interval();
    }
    t.countdown = next;
    uint64_t pos;
    ring_rec_t *r = ring_claim_wait(g_ring, &pos, CLAIM_TRIES);
    if (!r) {
        atomic_fetch_add_explicit(&untracked, 1, memory_order_relaxed);
    } else {
        r->kind = RING_ALLOC;
        r->flags = 0;
        r->tagset = tags_current();
        r->addr = (uintptr_t)p;
        r->size = n;
        r->nframes = (uint32_t)sampler_backtrace(r->frames, RING_MAX_FRAMES, 2);
        if (!set_insert((uintptr_t)p)) {
            atomic_fetch_add_explicit(&untracked, 1, memory_order_relaxed);
            r->addr = 0; /* counted as allocated, never as in use */
        }
        ring_publish(g_ring, r, pos);
    }
    t.guard = 0;
}

static inline void after_alloc(void *p, size_t n)
{
    if (!p || !atomic_load_explicit(&g_on, memory_order_relaxed))
        return;
    t.countdown -= (int64_t)n;
    if (__builtin_expect(t.countdown < 0, 0))
        sample_slow(p, n);
}

static __attribute__((noinline)) void free_slow(void *p)
{
    if (!set_remove((uintptr_t)p))
        return;
    uint64_t pos;
    ring_rec_t *r = ring_claim_wait(g_ring, &pos, CLAIM_TRIES);
    if (!r) {
        atomic_fetch_add_explicit(&untracked, 1, memory_order_relaxed);
        return;
    }
    r->kind = RING_FREE;
    r->flags = 0;
    r->addr = (uintptr_t)p;
    r->nframes = 0;
    ring_publish(g_ring, r, pos);
}

static inline void before_free(void *p)
{
    if (atomic_load_explicit(&set_count, memory_order_relaxed) > 0 &&
        atomic_load_explicit(&set_used[set_index((uintptr_t)p)], memory_order_relaxed) != 0)
        free_slow(p);
}

void alloc_start(ring_t *ring, long mean_bytes)
{
    g_ring = ring;
    g_mean = mean_bytes > 0 ? mean_bytes : 512 * 1024;
    resolve();
    atomic_store(&g_on, 1);
}

void alloc_stop(void)
{
    atomic_store(&g_on, 0);
}

long alloc_mean_bytes(void)
{
    return g_mean;
}

void alloc_exclude_thread(void)
{
    t.excluded = 1;
    t.countdown = INT64_MAX / 2;
}

uint64_t alloc_untracked(void)
{
    return atomic_load(&untracked);
}

void alloc_atfork_child(void)
{
    atomic_store(&g_on, 0);
    for (size_t i = 0; i < SET_BUCKETS; i++)
    {
        atomic_store_explicit(&set_used[i], 0, memory_order_relaxed);
        for (size_t j = 0; j < SET_WAYS; j++)
            atomic_store_explicit(&set[i][j], 0, memory_order_relaxed);
    }
    atomic_store(&set_count, 0);
}

/* ---- the interposed entry points ---- */

EXPORT void *malloc(size_t n)
{
    malloc_fn f = LOAD(malloc);
    if (__builtin_expect(!f, 0)) {
        resolve();
        if (!(f = LOAD(malloc)))
            return boot_alloc(n, 16);
    }
    void *p = f(n);
    after_alloc(p, n);
    return p;
}

EXPORT void free(void *p)
{
    if (!p || in_boot(p))
        return;
    before_free(p);
    free_fn f = LOAD(free);
    if (__builtin_expect(!f, 0)) {
        resolve();
        if (!(f = LOAD(free)))
            return; /* cannot happen: only boot pointers exist before resolution */
    }
    f(p);
}

EXPORT void *calloc(size_t n, size_t m)
{
    size_t total;
    if (__builtin_mul_overflow(n, m, &total)) {
        errno = ENOMEM;
        return NULL;
    }
    calloc_fn f = LOAD(calloc);
    if (__builtin_expect(!f, 0)) {
        resolve();
        if (!(f = LOAD(calloc)))
            return boot_alloc(total, 16); /* static memory: already zero */
    }
    void *p = f(n, m);
    after_alloc(p, total);
    return p;
}

EXPORT void *realloc(void *p, size_t n)
{
    if (p && in_boot(p)) {
        size_t old = ((size_t *)p)[-1];
        void *q = malloc(n);
        if (q)
            memcpy(q, p, old < n ? old : n);
        return q;
    }
    realloc_fn f = LOAD(realloc);
    if (__builtin_expect(!f, 0)) {
        resolve();
        if (!(f = LOAD(realloc)))
            return p ? NULL : boot_alloc(n, 16);
    }
    if (p)
        before_free(p); /* a realloc is a free and an allocation (as Go and tcmalloc count) */
    void *q = f(p, n);
    after_alloc(q, n);
    return q;
}

EXPORT int posix_memalign(void **out, size_t align, size_t n)
{
    posix_memalign_fn f = LOAD(posix_memalign);
    if (__builtin_expect(!f, 0)) {
        resolve();
        if (!(f = LOAD(posix_memalign))) {
            void *p = boot_alloc(n, align);
            if (!p)
                return ENOMEM;
            *out = p;
            return 0;
        }
    }
    int rc = f(out, align, n);
    if (rc == 0)
        after_alloc(*out, n);
    return rc;
}

EXPORT void *aligned_alloc(size_t align, size_t n)
{
    memalign_fn f = LOAD(aligned_alloc);
    if (__builtin_expect(!f, 0)) {
        resolve();
        if (!(f = LOAD(aligned_alloc)))
            return boot_alloc(n, align);
    }
    void *p = f(align, n);
    after_alloc(p, n);
    return p;
}

EXPORT void *memalign(size_t align, size_t n)
{
    memalign_fn f = LOAD(memalign);
    if (__builtin_expect(!f, 0)) {
        resolve();
        if (!(f = LOAD(memalign)))
            return boot_alloc(n, align);
    }
    void *p = f(align, n);
    after_alloc(p, n);
    return p;
}

EXPORT void *valloc(size_t n)
{
    malloc_fn f = LOAD(valloc);
    if (__builtin_expect(!f, 0)) {
        resolve();
        if (!(f = LOAD(valloc)))
            return boot_alloc(n, 4096);
    }
    void *p = f(n);
    after_alloc(p, n);
    return p;
}

EXPORT void *pvalloc(size_t n)
{
    malloc_fn f = LOAD(pvalloc);
    if (__builtin_expect(!f, 0)) {
        resolve();
        if (!(f = LOAD(pvalloc)))
            return boot_alloc(n, 4096);
    }
    void *p = f(n);
    after_alloc(p, n);
    return p;
}

/* ---- C++ operator new/delete (Itanium mangled names) ----
 * new goes straight to our malloc; only when that fails is the real operator new called,
 * which runs the new_handler loop and throws std::bad_alloc as the standard requires (C code
 * cannot throw). delete is free(). */

typedef void *(*new_fn)(size_t);
typedef void *(*new_al_fn)(size_t, size_t);

static void *new_fallback(const char *sym, size_t n)
{
    new_fn f = (new_fn)dlsym(RTLD_NEXT, sym);
    return f ? f(n) : NULL;
}

static void *new_al_fallback(const char *sym, size_t n, size_t al)
{
    new_al_fn f = (new_al_fn)dlsym(RTLD_NEXT, sym);
    return f ? f(n, al) : NULL;
}

static void *aligned_or_null(size_t n, size_t al)
{
    void *p = NULL;
    if (al < sizeof(void *))
        al = sizeof(void *);
    return posix_memalign(&p, al, n ? n : 1) == 0 ? p : NULL;
}

EXPORT void *_Znwm(size_t n)
{
    void *p = malloc(n ? n : 1);
    return p ? p : new_fallback("_Znwm", n);
}

EXPORT void *_Znam(size_t n)
{
    void *p = malloc(n ? n : 1);
    return p ? p : new_fallback("_Znam", n);
}

EXPORT void *_ZnwmRKSt9nothrow_t(size_t n, const void *nt)
{
    (void)nt;
    return malloc(n ? n : 1);
}

EXPORT void *_ZnamRKSt9nothrow_t(size_t n, const void *nt)
{
    (void)nt;
    return malloc(n ? n : 1);
}

EXPORT void *_ZnwmSt11align_val_t(size_t n, size_t al)
{
    void *p = aligned_or_null(n, al);
    return p ? p : new_al_fallback("_ZnwmSt11align_val_t", n, al);
}

EXPORT void *_ZnamSt11align_val_t(size_t n, size_t al)
{
    void *p = aligned_or_null(n, al);
    return p ? p : new_al_fallback("_ZnamSt11align_val_t", n, al);
}

EXPORT void _ZdlPv(void *p)
{
    free(p);
}

EXPORT void _ZdaPv(void *p)
{
    free(p);
}

EXPORT void _ZdlPvm(void *p, size_t n)
{
    (void)n;
    free(p);
}

EXPORT void _ZdaPvm(void *p, size_t n)
{
    (void)n;
    free(p);
}

EXPORT void _ZdlPvSt11align_val_t(void *p, size_t al)
{
    (void)al;
    free(p);
}

EXPORT void _ZdaPvSt11align_val_t(void *p, size_t al)
{
    (void)al;
    free(p);
}

EXPORT void _ZdlPvmSt11align_val_t(void *p, size_t n, size_t al)
{
    (void)n;
    (void)al;
    free(p);
}

EXPORT void _ZdaPvmSt11align_val_t(void *p, size_t n, size_t al)
{
    (void)n;
    (void)al;
    free(p);
}
