/* Time parameter syntax of Pyroscope's /render and /ingest (PROTOCOLS.md §3.2, attime.Parse):
 * `now`, `now-1h`, `now-1h30m`, `now+5m`, unix seconds / ms (13 digits) / µs (16) / ns (19),
 * 8-digit YYYYMMDD dates (UTC). Spaces, `_` and `,` are ignored. Units by prefix: s, m/min
 * (minute), h, d, w, M/mon (30 d), y (365 d); an unknown unit counts 0; garbage means now,
 * exactly as Pyroscope does (so a typo is not an error).
 */
#ifndef EMBER_QUERY_ATTIME_H
#define EMBER_QUERY_ATTIME_H

#include <stdint.h>

/* Parses s relative to now_ns; returns nanoseconds since the epoch. NULL or "" → now_ns. */
int64_t attime_parse(const char *s, int64_t now_ns);

#endif
