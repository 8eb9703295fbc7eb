/* agent.h — libember's facade: the lifecycle behind include/ember.h (start, stop, flush),
 * the collector thread, and LD_PRELOAD mode (a constructor that starts from the EMBER_* /
 * PYROSCOPE_* environment and a destructor that stops at exit).
 *
 * Data flow:  SIGPROF handler / malloc hooks ─► ring ─► collector (agg, every 50 ms)
 *             ─► every interval: symbols + profenc ─► gzipped pprof ─► upload thread ─► /ingest
 *
 * States: OFF ─ember_start─► RUNNING ─ember_stop─► OFF;  RUNNING ─fork (child)─► FORKED
 * (the child has neither timers nor threads: profiling stays off there; an exec'ed child
 * with LD_PRELOAD starts its own agent from the environment).
 */
#ifndef AGENT_AGENT_H
#define AGENT_AGENT_H

#include <stdint.h>

/* Counters for tests and the EMBER_DEBUG=1 summary printed at stop. */
typedef struct agent_stats {
    uint64_t cpu_samples, alloc_samples, ring_dropped, stacks_dropped, uploads_sent,
        uploads_dropped, upload_failures, timer_failures, alloc_untracked;
    uint64_t handler_ns, handler_calls, collector_cpu_ns; /* libember's own CPU (debug) */
} agent_stats_t;

/* The counters so far (zero when never started). */
agent_stats_t agent_stats(void);

#endif
