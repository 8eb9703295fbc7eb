/* Crash injection for durability tests: crash_point("name") aborts the process when the
 * environment variable EMBER_CRASH_POINT equals name (and, with EMBER_CRASH_SKIP=N, only at
 * the N+1-th time it is reached). Production never sets these; the check is a getenv. */
#ifndef EMBER_STORE_CRASH_H
#define EMBER_STORE_CRASH_H

void crash_point(const char *name);

#endif
