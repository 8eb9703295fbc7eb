/* crash_point: see crash.h. The skip counter is per process and only used by tests, so it
 * lives in an atomic here rather than in server/. */
#include "store/crash.h"

#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void crash_point(const char *name)
{
    const char *want = getenv("EMBER_CRASH_POINT");
    if (!want || strcmp(want, name) != 0)
        return;
    static _Atomic long hits; /* test-only counter, see header */
    const char *skip = getenv("EMBER_CRASH_SKIP");
    long n = atomic_fetch_add(&hits, 1);
    if (skip && n < strtol(skip, NULL, 10))
        return;
    fprintf(stderr, "ember: crash point %s reached, killing the process\n", name);
    fflush(stderr);
    raise(SIGKILL);
}
