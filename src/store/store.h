/* store/: durable profile storage — the WAL in front of the in-memory head (DESIGN.md §3).
 * Blocks, compaction and retention arrive with the storage-engine issue and slot in here.
 *
 * store_append is the one write path: WAL append, group-commit fsync, then head apply; only
 * after it returns 0 may the caller acknowledge the request. WAL payloads are opaque here:
 * the caller (server/) encodes ingest requests into them and decodes them on replay, which
 * keeps store/ free of ingest/ (the dependency DAG runs base ← model ← store ← ingest).
 */
#ifndef EMBER_STORE_STORE_H
#define EMBER_STORE_STORE_H

#include <stdbool.h>

#include "base/err.h"
#include "model/batch.h"
#include "store/head.h"
#include "store/wal.h"

typedef struct store {
    head_t *head;
    wal_t *wal;
} store_t;

/* Replay callback: decode payload and apply it to s->head (via head_apply). */
typedef int (*store_replay_fn)(struct store *s, const uint8_t *payload, size_t len, void *arg);

/* Opens storage under dir (created if missing) and replays the WAL into a fresh head.
 * OUT: *out (owned; store_close). */
int store_open(store_t **out, const char *dir, bool fsync_enabled, store_replay_fn fn,
               void *arg, err_t *err);

/* Makes record durable, then applies batch b for tenant. */
int store_append(store_t *s, const char *tenant, batch_t *b, const uint8_t *record,
                 size_t record_len, err_t *err);

void store_close(store_t *s);

#endif
