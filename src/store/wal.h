/* Write-ahead log: every accepted ingest request is appended here and fsynced before the
 * client gets its 2xx (DESIGN.md §3).
 *
 * The log is a sequence of segment files `<dir>/wal/wal-<8-digit number>.log`; appends go to
 * the highest. A block cut rotates to a new segment (wal_rotate), writes blocks for what the
 * older segments held, then deletes them (wal_remove_upto).
 *
 * Segment format (little-endian):
 *
 *   offset  size  field
 *   0       8     magic "EMBWAL01"
 *   then records:
 *   0       4     payload length N (1 .. WAL_MAX_RECORD)
 *   4       4     CRC-32 (zlib) of the payload
 *   8       N     payload (opaque to the WAL; store/ serialises ingest requests into it)
 *
 * Invariants:
 *  1. A record is acknowledged only after wal_sync() returned for a sequence ≥ its own.
 *  2. Replay stops at the first record whose length or CRC is wrong (a torn tail from a crash
 *     mid-write); the segment is truncated there, with a log line, so new appends follow the
 *     last good record. Nothing before it is ever dropped. Only the last segment can have a
 *     torn tail (earlier ones were complete when rotated), but every segment is checked.
 *  3. Group commit: concurrent writers append under `mu`, then wal_sync() lets one thread
 *     fdatasync for everyone written so far; others waiting find their sequence covered.
 *
 * Thread-safe. The wal_t is owned by the caller (wal_open → wal_close).
 */
#ifndef EMBER_STORE_WAL_H
#define EMBER_STORE_WAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

#define WAL_MAX_RECORD (1u << 30)

typedef struct wal wal_t;

/* Callback for each valid record during replay, with the number of the segment holding it;
 * a non-zero return stops replay with that code. The payload is borrowed for the call. */
typedef int (*wal_replay_fn)(const uint8_t *payload, size_t len, uint64_t segment, void *arg);

/* Opens (creating if needed) the WAL under dir, replays every valid record of every segment
 * in order through fn, drops torn tails, and leaves the log ready for appends.
 * OUT: *out (owned; wal_close). */
int wal_open(wal_t **out, const char *dir, bool fsync_enabled, wal_replay_fn fn, void *arg,
             err_t *err);

/* Appends one record; returns its sequence number in *seq. Does not sync. */
int wal_append(wal_t *w, const uint8_t *payload, size_t len, uint64_t *seq, err_t *err);

/* Blocks until every record up to seq is durable (group commit). */
int wal_sync(wal_t *w, uint64_t seq, err_t *err);

/* Starts a new segment for appends and returns the number of the one it closed (all of
 * whose records are synced). Callers serialise this against wal_append themselves. */
int wal_rotate(wal_t *w, uint64_t *closed, err_t *err);

/* Deletes every segment numbered ≤ upto (never the active one). */
int wal_remove_upto(wal_t *w, uint64_t upto, err_t *err);

/* Numbers of the oldest and the active segment. */
uint64_t wal_first_segment(wal_t *w);
uint64_t wal_active_segment(wal_t *w);

/* Number of fsyncs done so far (metrics). */
uint64_t wal_fsyncs(const wal_t *w);
uint64_t wal_bytes(const wal_t *w);

void wal_close(wal_t *w);

#endif
