/* sampler.h — CPU sampling: one CPU-time timer per thread, a SIGPROF handler that unwinds
 * the interrupted stack into the ring, and the pthread_create interposition that arms a
 * timer in every thread created after start.
 *
 * Timers are POSIX timers on the thread's CPU-time clock (CLOCK_THREAD_CPUTIME_ID, or the
 * clock id made from a tid for threads that already ran when profiling started) delivering
 * SIGPROF to that very thread (SIGEV_THREAD_ID), so a sample is taken after every 1/rate s
 * of CPU time of that thread, wherever it runs, and only threads that burn CPU are sampled.
 *
 * The handler is async-signal-safe: no malloc, no locks — frame-pointer walk bounded by the
 * thread's stack (known from thread start), libunwind when the chain is unusable, one
 * ring_claim()/ring_publish(). The SIGPROF handler stays installed once set (a pending timer
 * signal after stop must never meet SIGPROF's default action, which kills the process).
 */
#ifndef AGENT_SAMPLER_H
#define AGENT_SAMPLER_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/conf.h"
#include "agent/ring.h"

/* Installs the SIGPROF handler (once) and remembers ring and rate. Returns 0 or EMBER_ESYS. */
int sampler_init(ring_t *ring, const conf_t *c);

/* Arms a timer in every thread of the process except the tids in skip[0..nskip) (libember's
 * own threads); later threads are armed by the pthread_create interposition. Returns 0 or
 * EMBER_ESYS when not even the calling thread could be armed. */
int sampler_start(const int *skip, size_t nskip);

/* Stops sampling and deletes every timer. Thread-safe. */
void sampler_stop(void);

/* Deletes the timers of threads that exited without passing through our thread wrapper.
 * Called by the collector about once a second. */
void sampler_reap(void);

/* Records the calling thread's stack bounds (for frame-pointer walks); cheap and idempotent. */
void sampler_thread_init(void);

/* A backtrace of the calling thread (normal context, not a signal handler), leaf first,
 * without the `skip` innermost frames; returns the number of frames in out[0..max). */
size_t sampler_backtrace(uint64_t *out, size_t max, unsigned skip);

/* Timers that could not be created (RLIMIT_SIGPENDING, ...) and samples taken. */
uint64_t sampler_timer_failures(void);

/* With conf.debug: the CPU time spent inside the SIGPROF handler and its number of runs
 * (the kernel's signal delivery is not included). */
void sampler_handler_cost(uint64_t *ns, uint64_t *calls);

/* The calling thread's kernel tid. */
int sampler_gettid(void);

/* libember's own threads are created with this: the real pthread_create, so no timer is
 * armed in them. Same returns as pthread_create. */
int sampler__real_pthread_create(pthread_t *th, void *(*fn)(void *), void *arg);

/* pthread_atfork hooks: the timer table mutex is held across fork; the child (which has no
 * timers: POSIX timers are not inherited) starts with sampling off. */
void sampler_atfork_prepare(void);
void sampler_atfork_parent(void);
void sampler_atfork_child(void);

#endif
