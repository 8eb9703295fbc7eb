/* Time helpers. All times inside Ember are int64 nanoseconds since the Unix epoch (*_ns). */
#ifndef EMBER_BASE_CLOCK_H
#define EMBER_BASE_CLOCK_H

#include <stdint.h>

#define NS_PER_S 1000000000LL
#define NS_PER_MS 1000000LL

int64_t clock_now_ns(void);
/* Monotonic clock for measuring durations. */
int64_t clock_mono_ns(void);

#endif
