/* store/: durable profile storage — the WAL in front of an in-memory head, immutable blocks
 * cut from it, compaction and retention (DESIGN.md §3, docs/STORAGE.md).
 *
 * Write path: store_append = WAL append → group-commit fsync → head apply, under the store's
 * read lock; only after it returns 0 may a request be acknowledged. WAL payloads are opaque
 * here: server/ encodes ingest requests into them and decodes them on replay (the dependency
 * DAG runs base ← model ← store ← ingest).
 *
 * Block cut (store_cut), the state machine:
 *   ACTIVE --(write lock: rotate WAL, head → frozen, new head)--> CUTTING
 *   CUTTING --(block_write per tenant, no lock)--> WRITTEN
 *   WRITTEN --(write lock: publish blocks, drop frozen)--> ACTIVE, then the WAL segments the
 *   blocks cover are deleted.
 * Queries see frozen until its blocks are published, and never both. Each block records the
 * WAL segments it covers (meta.json walSegments); replay skips a tenant's records in a
 * segment its blocks already cover, so a crash at any step neither loses nor doubles data.
 *
 * Compaction (store_compact) merges a tenant's blocks from one compaction window whose WAL
 * segments are gone; the result lists its sources, and startup deletes sources a complete
 * compacted block already covers. Retention (store_retain) deletes blocks entirely older
 * than the retention period whose WAL segments are gone (else replay would bring their data
 * back); a cut with an empty head removes closed segments left behind by a crash.
 * Deletions take effect for new queries at once and the files go when the last running query
 * drops its reference.
 */
#ifndef EMBER_STORE_STORE_H
#define EMBER_STORE_STORE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "base/err.h"
#include "model/batch.h"
#include "store/block.h"
#include "store/head.h"
#include "store/wal.h"

typedef struct store_options {
    bool fsync;
    int64_t block_duration_ns;      /* cut at every multiple of it (wall clock), 0 = never */
    int64_t retention_ns;           /* 0 = keep forever */
    int64_t compaction_window_ns;   /* blocks in one window merge, 0 = 24 h */
    uint64_t compaction_max_samples; /* most samples one merge loads, 0 = no cap */
    /* limits.max_global_series_per_tenant: series a tenant's head may hold (the active
     * series since the last cut); a request adding more is refused with EMB_ELIMIT before it
     * reaches the WAL. Checked without serialising writers, so concurrent requests may
     * overshoot by what they add together. 0 = no limit. */
    uint64_t max_series_per_tenant;
} store_options_t;

typedef struct store_tenant_blocks {
    char *tenant;
    block_t **blocks;
    size_t n, cap;
} store_tenant_blocks_t;

typedef struct store store_t;

/* Replay callback: decode payload and return a batch to apply for tenant (caller owns
 * the batch it fills; return non-zero to skip the record). */
typedef int (*store_decode_fn)(batch_t *out, const char **tenant, const uint8_t *payload,
                               size_t len, void *arg);

/* Opens storage under dir: loads and verifies blocks (quarantining damaged ones), removes
 * blocks superseded by compaction, replays the WAL. OUT: *out (owned; store_close). */
int store_open(store_t **out, const char *dir, const store_options_t *opt, store_decode_fn fn,
               void *arg, err_t *err);

/* Makes record durable, then applies batch b for tenant. EMB_ELIMIT (nothing written) when
 * b would take the tenant past max_series_per_tenant. */
int store_append(store_t *s, const char *tenant, batch_t *b, const uint8_t *record,
                 size_t record_len, err_t *err);

/* One item of store_append_many: a decoded batch and its WAL record; OUT: rc and *err. */
typedef struct store_item {
    batch_t *b;
    const uint8_t *record;
    size_t record_len;
    int rc;
    err_t *err;
} store_item_t;

/* store_append for several records of one tenant with a single WAL sync (a Push request's
 * samples): each item succeeds or fails on its own (series limit, WAL write); every item
 * that succeeds is durable and applied when this returns. */
void store_append_many(store_t *s, const char *tenant, store_item_t *items, size_t n);

/* A consistent set of sources for one tenant's read: heads and blocks overlapping [from,
 * until], each referenced. Release with store_snapshot_put. */
typedef struct store_snapshot {
    head_t *heads[2];
    size_t nheads;
    block_t **blocks;
    size_t nblocks;
} store_snapshot_t;

void store_snapshot_get(store_t *s, const char *tenant, int64_t from, int64_t until,
                        store_snapshot_t *out);
void store_snapshot_put(store_snapshot_t *snap);

/* Cuts the head into blocks now (also run by the background thread every block_duration).
 * OUT: *nblocks, the blocks written (one per tenant with data). */
int store_cut(store_t *s, size_t *nblocks, err_t *err);
/* Compacts every tenant's eligible blocks; *merged counts blocks replaced. */
int store_compact(store_t *s, size_t *merged, err_t *err);
/* Deletes blocks older than retention (now_ns - retention). */
int store_retain(store_t *s, int64_t now_ns, size_t *deleted, err_t *err);

/* Starts the background thread (cut, compaction, retention). */
int store_start(store_t *s, err_t *err);

typedef struct store_stats {
    uint64_t head_series, blocks, block_bytes, cuts, compactions, retention_deleted,
        quarantined, wal_fsyncs, wal_bytes;
} store_stats_t;
void store_stats(store_t *s, store_stats_t *out);

void store_close(store_t *s);

#endif
