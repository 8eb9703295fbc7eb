/* sampler.c — per-thread CPU-time timers, the SIGPROF handler and the pthread_create
 * interposition (see sampler.h).
 *
 * Why per-thread timers and not setitimer(ITIMER_PROF): the process-wide timer delivers the
 * signal to an arbitrary running thread, which biases samples towards some threads, and its
 * rate is per process, not per thread. timer_create + SIGEV_THREAD_ID fixes both.
 *
 * Invariant: nothing the handler touches is ever freed or locked: the ring (mmap'ed once),
 * the `on` flag, and initial-exec TLS (no __tls_get_addr, which may allocate).
 */
#include "agent/sampler.h"

#include "agent/tags.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#ifdef EMBER_HAVE_LIBUNWIND
#define UNW_LOCAL_ONLY
#include <libunwind.h>
#endif

#define IE __attribute__((tls_model("initial-exec")))
#define EXPORT __attribute__((visibility("default")))
#define MAX_TIMERS 4096

typedef struct tslot {
    int tid;
    timer_t timer;
} tslot_t;

static ring_t *g_ring;
static atomic_int g_on;
static bool g_libunwind_always;
static long g_period_ns = 10000000;
static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER; /* guards g_timers, g_ntimers */
static tslot_t g_timers[MAX_TIMERS];
static size_t g_ntimers;
static atomic_ullong g_timer_failures;
static bool g_time_handler;                   /* EMBER_DEBUG: account the handler's CPU */
static atomic_ullong g_handler_ns, g_handler_calls;
static bool g_handler_installed;

static __thread uintptr_t tls_stack_hi IE; /* 0 = unknown */
static __thread int tls_bounds_done IE;

int sampler_gettid(void)
{
    return (int)syscall(SYS_gettid);
}

uint64_t sampler_timer_failures(void)
{
    return atomic_load(&g_timer_failures);
}

void sampler_thread_init(void)
{
    if (tls_bounds_done)
        return;
    tls_bounds_done = 1;
    pthread_attr_t a;
    if (pthread_getattr_np(pthread_self(), &a) != 0)
        return;
    void *addr;
    size_t size;
    if (pthread_attr_getstack(&a, &addr, &size) == 0)
        tls_stack_hi = (uintptr_t)addr + size;
    pthread_attr_destroy(&a);
}

/* Frame-pointer walk from (pc, fp), reading only [lo, tls_stack_hi): every read is inside
 * the live part of this thread's stack, so a garbage rbp (code built without frame
 * pointers) ends the walk instead of faulting. */
static size_t walk_fp(uintptr_t pc, uintptr_t fp, uintptr_t lo, uint64_t *out, size_t max)
{
    size_t n = 0;
    uintptr_t hi = tls_stack_hi;
    if (pc)
        out[n++] = pc;
    if (!hi)
        return n;
    while (n < max) {
        if (fp < lo || fp + 16 > hi || (fp & 7))
            break;
        uintptr_t next = ((const uintptr_t *)fp)[0];
        uintptr_t ret = ((const uintptr_t *)fp)[1];
        if (ret < 4096)
            break;
        out[n++] = ret;
        if (next <= fp)
            break;
        lo = fp + 16;
        fp = next;
    }
    return n;
}

#ifdef EMBER_HAVE_LIBUNWIND
static size_t walk_libunwind(ucontext_t *uc, uint64_t *out, size_t max)
{
    unw_cursor_t cur;
    size_t n = 0;
    if (unw_init_local2(&cur, (unw_context_t *)uc, UNW_INIT_SIGNAL_FRAME) < 0)
        return 0;
    do {
        unw_word_t ip;
        if (unw_get_reg(&cur, UNW_REG_IP, &ip) < 0 || ip == 0)
            break;
        out[n++] = ip;
    } while (n < max && unw_step(&cur) > 0);
    return n;
}
#endif

static void on_sigprof(int sig, siginfo_t *si, void *ucv)
{
    (void)sig;
    if (si->si_code != SI_TIMER)
        return; /* not one of our timers (kill -PROF, someone's setitimer) */
    int saved = errno;
    struct timespec t0 = {0, 0}, t1;
    if (g_time_handler) /* clock_gettime is async-signal-safe */
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0);
    if (atomic_load_explicit(&g_on, memory_order_relaxed)) {
        uint64_t pos;
        ring_rec_t *r = ring_claim(g_ring, &pos);
        if (r) {
            ucontext_t *uc = ucv;
            size_t n = 0;
#if defined(__x86_64__)
            uintptr_t pc = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
            uintptr_t fp = (uintptr_t)uc->uc_mcontext.gregs[REG_RBP];
            uintptr_t sp = (uintptr_t)uc->uc_mcontext.gregs[REG_RSP];
#elif defined(__aarch64__)
            uintptr_t pc = (uintptr_t)uc->uc_mcontext.pc;
            uintptr_t fp = (uintptr_t)uc->uc_mcontext.regs[29];
            uintptr_t sp = (uintptr_t)uc->uc_mcontext.sp;
#else
            uintptr_t pc = 0, fp = 0, sp = 0;
#endif
            if (!g_libunwind_always)
                n = walk_fp(pc, fp, sp, r->frames, RING_MAX_FRAMES);
#ifdef EMBER_HAVE_LIBUNWIND
            if (n < 2)
                n = walk_libunwind(uc, r->frames, RING_MAX_FRAMES);
#endif
            if (n == 0 && pc)
                r->frames[n++] = pc;
            r->kind = RING_CPU;
            r->tagset = tags_current();
            r->nframes = (uint32_t)n;
            r->flags = RING_F_LEAF_PC;
            /* the word at the stack pointer: the return address into the caller when the
             * leaf has no frame of its own (the collector checks it, see fix_leaf) */
            r->addr = sp && tls_stack_hi && sp + 8 <= tls_stack_hi ? *(const uintptr_t *)sp : 0;
            r->size = 1 + (uint64_t)(si->si_overrun > 0 ? si->si_overrun : 0);
            ring_publish(g_ring, r, pos);
        }
    }
    if (g_time_handler) {
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t1);
        atomic_fetch_add_explicit(&g_handler_ns,
                                  (uint64_t)((t1.tv_sec - t0.tv_sec) * 1000000000LL +
                                             (t1.tv_nsec - t0.tv_nsec)),
                                  memory_order_relaxed);
        atomic_fetch_add_explicit(&g_handler_calls, 1, memory_order_relaxed);
    }
    errno = saved;
}

void sampler_handler_cost(uint64_t *ns, uint64_t *calls)
{
    *ns = atomic_load(&g_handler_ns);
    *calls = atomic_load(&g_handler_calls);
}

int sampler_init(ring_t *ring, const conf_t *c)
{
    g_ring = ring;
    g_period_ns = 1000000000L / c->rate_hz;
    g_libunwind_always = c->unwind_libunwind;
    g_time_handler = c->debug;
#ifdef EMBER_HAVE_LIBUNWIND
    unw_set_caching_policy(unw_local_addr_space, UNW_CACHE_PER_THREAD);
#endif
    if (g_handler_installed)
        return 0;
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_sigprof;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGPROF, &sa, NULL) != 0)
        return EMBER_ESYS;
    g_handler_installed = true;
    return 0;
}

/* Creates and starts a timer on clock for tid; caller holds g_mu. */
static void arm_locked(int tid, clockid_t clock)
{
    for (size_t i = 0; i < g_ntimers; i++)
        if (g_timers[i].tid == tid)
            return;
    if (g_ntimers == MAX_TIMERS) {
        atomic_fetch_add(&g_timer_failures, 1);
        return;
    }
    struct sigevent sev;
    memset(&sev, 0, sizeof(sev));
    sev.sigev_notify = SIGEV_THREAD_ID;
    sev.sigev_signo = SIGPROF;
    sev._sigev_un._tid = tid;
    timer_t t;
    if (timer_create(clock, &sev, &t) != 0) {
        atomic_fetch_add(&g_timer_failures, 1);
        return;
    }
    /* the first expiry is spread over one period by tid, so threads started together do
     * not fire in lockstep */
    struct itimerspec its;
    its.it_interval.tv_sec = g_period_ns / 1000000000L;
    its.it_interval.tv_nsec = g_period_ns % 1000000000L;
    long first = g_period_ns / 2 + (long)((unsigned)tid * 2654435761u % (unsigned)(g_period_ns / 2 + 1));
    its.it_value.tv_sec = first / 1000000000L;
    its.it_value.tv_nsec = first % 1000000000L;
    if (timer_settime(t, 0, &its, NULL) != 0) {
        timer_delete(t);
        atomic_fetch_add(&g_timer_failures, 1);
        return;
    }
    g_timers[g_ntimers].tid = tid;
    g_timers[g_ntimers].timer = t;
    g_ntimers++;
}

static void disarm_locked(size_t i)
{
    timer_delete(g_timers[i].timer);
    g_timers[i] = g_timers[--g_ntimers];
}

/* The CPU-time clock of another thread of this process (Linux: MAKE_THREAD_CPUCLOCK). */
static clockid_t thread_clock(int tid)
{
    return (clockid_t)(((unsigned)~tid << 3) | 6);
}

int sampler_start(const int *skip, size_t nskip)
{
    int self = sampler_gettid();
    sampler_thread_init();
    pthread_mutex_lock(&g_mu);
    atomic_store(&g_on, 1);
    arm_locked(self, CLOCK_THREAD_CPUTIME_ID);
    bool self_ok = g_ntimers > 0;
    DIR *d = opendir("/proc/self/task");
    struct dirent *e;
    while (d && (e = readdir(d))) {
        int tid = (int)strtol(e->d_name, NULL, 10);
        if (tid <= 0 || tid == self)
            continue;
        bool skipped = false;
        for (size_t i = 0; i < nskip; i++)
            skipped |= skip[i] == tid;
        if (!skipped)
            arm_locked(tid, thread_clock(tid));
    }
    if (d)
        closedir(d);
    pthread_mutex_unlock(&g_mu);
    return self_ok ? 0 : EMBER_ESYS;
}

void sampler_stop(void)
{
    atomic_store(&g_on, 0);
    pthread_mutex_lock(&g_mu);
    while (g_ntimers)
        disarm_locked(g_ntimers - 1);
    pthread_mutex_unlock(&g_mu);
}

void sampler_reap(void)
{
    pid_t pid = getpid();
    pthread_mutex_lock(&g_mu);
    for (size_t i = 0; i < g_ntimers;) {
        if (syscall(SYS_tgkill, pid, g_timers[i].tid, 0) != 0 && errno == ESRCH)
            disarm_locked(i);
        else
            i++;
    }
    pthread_mutex_unlock(&g_mu);
}

size_t sampler_backtrace(uint64_t *out, size_t max, unsigned skip)
{
    uint64_t tmp[RING_MAX_FRAMES + 8];
    size_t cap = max + skip < sizeof(tmp) / sizeof(tmp[0]) ? max + skip
                                                           : sizeof(tmp) / sizeof(tmp[0]);
    sampler_thread_init();
    uintptr_t fp = (uintptr_t)__builtin_frame_address(0);
    size_t n = walk_fp(0, fp, fp, tmp, cap);
#ifdef EMBER_HAVE_LIBUNWIND
    if (n < 2 || g_libunwind_always)
        n = (size_t)unw_backtrace((void **)tmp, (int)cap);
#endif
    if (n <= skip)
        return 0;
    n -= skip;
    if (n > max)
        n = max;
    memcpy(out, tmp + skip, n * sizeof(*out));
    return n;
}

/* ---- threads created after start ---- */

typedef struct tramp {
    void *(*fn)(void *);
    void *arg;
} tramp_t;

static void thread_exit(void *unused)
{
    (void)unused;
    int tid = sampler_gettid();
    pthread_mutex_lock(&g_mu);
    for (size_t i = 0; i < g_ntimers; i++)
        if (g_timers[i].tid == tid) {
            disarm_locked(i);
            break;
        }
    pthread_mutex_unlock(&g_mu);
}

/* Every thread made through pthread_create starts here (the name shows in profiles). */
static void *libember_thread_start(void *p)
{
    tramp_t t = *(tramp_t *)p;
    free(p);
    sampler_thread_init();
    if (atomic_load(&g_on)) {
        pthread_mutex_lock(&g_mu);
        if (atomic_load(&g_on))
            arm_locked(sampler_gettid(), CLOCK_THREAD_CPUTIME_ID);
        pthread_mutex_unlock(&g_mu);
    }
    void *ret;
    pthread_cleanup_push(thread_exit, NULL);
    ret = t.fn(t.arg);
    pthread_cleanup_pop(1);
    return ret;
}

typedef int (*pthread_create_fn)(pthread_t *, const pthread_attr_t *, void *(*)(void *),
                                 void *);

EXPORT int pthread_create(pthread_t *th, const pthread_attr_t *attr, void *(*fn)(void *),
                          void *arg)
{
    static _Atomic(pthread_create_fn) real;
    pthread_create_fn r = atomic_load(&real);
    if (!r) {
        r = (pthread_create_fn)dlsym(RTLD_NEXT, "pthread_create");
        if (!r)
            return EAGAIN;
        atomic_store(&real, r);
    }
    tramp_t *t = malloc(sizeof(*t));
    if (!t)
        return r(th, attr, fn, arg);
    t->fn = fn;
    t->arg = arg;
    int rc = r(th, attr, libember_thread_start, t);
    if (rc)
        free(t);
    return rc;
}

/* libember's own threads are made with this: the real pthread_create, no timer. */
int sampler__real_pthread_create(pthread_t *th, void *(*fn)(void *), void *arg)
{
    pthread_create_fn r = (pthread_create_fn)dlsym(RTLD_NEXT, "pthread_create");
    if (!r)
        return EAGAIN;
    return r(th, NULL, fn, arg);
}

void sampler_atfork_prepare(void)
{
    pthread_mutex_lock(&g_mu);
}

void sampler_atfork_parent(void)
{
    pthread_mutex_unlock(&g_mu);
}

void sampler_atfork_child(void)
{
    /* timers are not inherited by the child; forget the parent's */
    atomic_store(&g_on, 0);
    g_ntimers = 0;
    pthread_mutex_unlock(&g_mu);
}
