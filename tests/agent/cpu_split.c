/* Workload with a known CPU split for libember's tests: 4 threads (2 started at once, 2 after
 * the first ones burnt CPU for a while, so their timers come from the pthread_create
 * interposition) each spend 75% of their CPU time in a() and 25% in b(). Every call of b()
 * runs under the tag fn=b (EMBER_TAG_SCOPE), so tagged samples must all be b's.
 * Usage: agent_cpu_split [cpu_ms_per_thread]   (default 600). Started by LD_PRELOAD-style
 * environment (it links libember only for the tag API). Prints "done" and exits 0. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "ember.h"

static volatile uint64_t sink, seed = 7;

/* a and b are the same loop, so CPU per iteration is equal: the split is in the counts.
 * noipa: gcc must neither fold the twins into one (ICF) nor hoist a pure call out of the
 * loop; the volatile seed makes every call do its work. */
__attribute__((noinline, noipa)) static uint64_t a(uint64_t n)
{
    uint64_t x = n ^ seed;
    for (uint64_t i = 0; i < n; i++)
        x = x * 6364136223846793005ull + 1442695040888963407ull + (x >> 29);
    return x;
}

__attribute__((noinline, noipa)) static uint64_t b(uint64_t n)
{
    uint64_t x = n ^ seed;
    for (uint64_t i = 0; i < n; i++)
        x = x * 6364136223846793005ull + 1442695040888963407ull + (x >> 29);
    return x;
}

static double cpu_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static double budget_ms;

static void *worker(void *arg)
{
    (void)arg;
    double start = cpu_ms();
    /* small units (~0.1 ms) so many a/b alternations fall in each 10 ms sampling period */
    while (cpu_ms() - start < budget_ms) {
        for (int k = 0; k < 20; k++) {
            sink += a(30000);
            {
                EMBER_TAG_SCOPE("fn", "b");
                sink += b(10000);
            }
        }
    }
    return NULL;
}

int main(int argc, char **argv)
{
    budget_ms = argc > 1 ? atof(argv[1]) : 600;
    pthread_t th[4];
    for (int i = 0; i < 2; i++)
        pthread_create(&th[i], NULL, worker, NULL);
    /* the late threads start once the process has burnt some CPU */
    struct timespec ts;
    do {
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    } while (ts.tv_sec * 1e3 + ts.tv_nsec / 1e6 < budget_ms / 3);
    for (int i = 2; i < 4; i++)
        pthread_create(&th[i], NULL, worker, NULL);
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    printf("done\n");
    return 0;
}
