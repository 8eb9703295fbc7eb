/* Write-ahead log: every accepted ingest request is appended here and fsynced before the
 * client gets its 2xx (DESIGN.md §3).
 *
 * File format (one file, `<dir>/wal/wal-00000001.log`; little-endian):
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
 *     mid-write); the file is truncated there, with a log line, so new appends follow the
 *     last good record. Nothing before it is ever dropped.
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

/* Callback for each valid record during replay; a non-zero return stops replay with that
 * code. The payload is borrowed for the duration of the call. */
typedef int (*wal_replay_fn)(const uint8_t *payload, size_t len, void *arg);

/* Opens (creating if needed) the WAL under dir, replays every valid record through fn, drops
 * a torn tail, and leaves the log ready for appends. OUT: *out (owned; wal_close). */
int wal_open(wal_t **out, const char *dir, bool fsync_enabled, wal_replay_fn fn, void *arg,
             err_t *err);

/* Appends one record; returns its sequence number in *seq. Does not sync. */
int wal_append(wal_t *w, const uint8_t *payload, size_t len, uint64_t *seq, err_t *err);

/* Blocks until every record up to seq is durable (group commit). */
int wal_sync(wal_t *w, uint64_t seq, err_t *err);

/* Number of fsyncs done so far (metrics). */
uint64_t wal_fsyncs(const wal_t *w);
uint64_t wal_bytes(const wal_t *w);

void wal_close(wal_t *w);

#endif
