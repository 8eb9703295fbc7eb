/* Blocks: immutable, checksummed, per-tenant directories holding what a head held
 * (DESIGN.md §3). docs/STORAGE.md summarises the format; this header is authoritative.
 *
 * Directory `<storage.path>/<tenant>/<ulid>/`:
 *   meta.json   version, ulid, tenant, minTime/maxTime (ns), stats, WAL segments covered,
 *               compaction level and sources, each file's size and XXH3, and a checksum of
 *               meta.json itself (field "checksum", computed with its value zeroed)
 *   symbols     strings (function names and label strings), id 0 = ""
 *   tree        the stack tree: parent[] and name[] (symbol ids), parent[i] < i
 *   index       series (labels as symbol id pairs, time range, chunk directories for raw
 *               profiles and each rollup resolution) and postings per label pair
 *   profiles    raw profiles, per series in chunks of ≤ BLOCK_CHUNK_PROFILES, each chunk two
 *               zstd frames: A = timestamps, totals and sample counts (what a timeline needs),
 *               B = per profile, node ids (ascending, delta) then values (zigzag)
 *   rollups     per series and resolution (BLOCK_ROLLUP_RES), exact pre-merged buckets
 *               (end-R, end] in the same two-frame chunk layout (A = bucket ends, totals)
 *   spans       (version ≥ 2) the span side lists (span_sample_t) of the series that have
 *               any: u32 count, then per such series {u32 series, u64 offset, u32 length,
 *               u32 raw length, i64 min_ts, i64 max_ts} (36 bytes), then one zstd frame per
 *               series at offset (from the end of that directory) holding, per profile
 *               with spans in time order: uv ordinal of the profile in the series, sv ts
 *               delta, uv count, count × {u64 span LE, uv node, sv value}
 *
 * Version 1 blocks have no spans file; they are read as having no span samples.
 *
 * Every file except meta.json: 16-byte header {magic "EMB1", kind tag (4 bytes), u32 version,
 * u32 0}, body, then trailer {u64 body length, u64 XXH3-64 of header+body}. All integers are
 * little-endian; varints are LEB128, signed ones zigzag.
 *
 * Invariants:
 *  1. A block directory is complete or absent: written under `<ulid>.tmp`, every file and the
 *     directory fsynced, then renamed (block_write). Readers never see a `.tmp`.
 *  2. block_open verifies every checksum before the block serves; a failure moves the
 *     directory to `<tenant>/quarantine/` (store.c) and the rest keeps serving.
 *  3. A rollup bucket equals the exact sum of the raw profiles it covers.
 *
 * Thread-safety: an open block is immutable; concurrent queries share it through
 * block_ref/block_unref (the last unref unmaps, and deletes the directory if it was marked
 * for deletion by retention or compaction).
 */
#ifndef EMBER_STORE_BLOCK_H
#define EMBER_STORE_BLOCK_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "model/labels.h"
#include "store/head.h"

#define BLOCK_VERSION 2
#define BLOCK_CHUNK_PROFILES 128
#define BLOCK_NRES 2
/* Rollup resolutions, coarsest first (ns). 1 min divides every timeline step ≥ 1 min. */
extern const int64_t BLOCK_ROLLUP_RES[BLOCK_NRES];

typedef struct block_chunk {
    int64_t min_ts, max_ts;     /* of the profiles (raw) or bucket ends (rollups) */
    uint32_t n;                 /* profiles or buckets */
    uint64_t off_a, off_b;      /* offsets in the profiles/rollups file */
    uint32_t len_a, raw_a, len_b, raw_b;
} block_chunk_t;

typedef struct block_series {
    labels_t labels; /* sorted */
    int64_t min_ts, max_ts;
    uint64_t nprofiles, nsamples;
    block_chunk_t *raw;
    uint32_t nraw;
    block_chunk_t *roll[BLOCK_NRES];
    uint32_t nroll[BLOCK_NRES];
    uint64_t span_off;           /* in the spans file's data; span_len 0 = no spans */
    uint32_t span_len, span_raw;
    int64_t span_min_ts, span_max_ts;
} block_series_t;

typedef struct block_map {
    const uint8_t *p; /* whole file (mmap) */
    size_t len;
    const uint8_t *body;
    size_t body_len;
} block_map_t;

typedef struct block {
    _Atomic int refs;
    atomic_bool doomed; /* delete the directory at the last unref */
    char *dir;          /* owned */
    char ulid[32];
    int64_t min_ts, max_ts;
    uint64_t *wal_segs;   /* WAL segments this block covers (owned); none when compacted */
    size_t nwal_segs;
    int level;            /* 0 = cut from a head, n = compacted n times */
    char **sources;       /* ulids this block was compacted from (owned) */
    size_t nsources;
    uint64_t nprofiles, nsamples, bytes;
    block_map_t syms, tree_f, index, profs, rolls, spans; /* spans.p NULL in version 1 */
    const uint8_t *span_data; /* start of the spans file's frames */
    size_t span_data_len;
    const uint32_t *sym_off; /* nsyms + 1 offsets into sym_data */
    const char *sym_data;
    uint32_t nsyms;
    const uint32_t *parent, *name;
    uint32_t nnodes;
    block_series_t *series;
    uint32_t nseries;
} block_t;

/* What a block cut or compaction records in meta.json besides the data. */
typedef struct block_info {
    const uint64_t *wal_segs;
    size_t nwal_segs;
    int level;
    const char *const *sources; /* ulids of compacted blocks, or NULL */
    size_t nsources;
} block_info_t;

/* Writes tenant t's data (the caller holds t's lock or owns t exclusively) as a new block
 * under tenant_dir, atomically (invariant 1). OUT: ulid_out (≥ 27 bytes). Fails with EMB_EIO
 * (nothing visible is left behind). Empty tenants write nothing and return 0 with ulid_out "". */
int block_write(char *ulid_out, const char *tenant_dir, const char *tenant,
                const head_tenant_t *t, const block_info_t *info, err_t *err);

/* Opens and verifies a block directory. OUT: *out with one reference (block_unref).
 * EMB_ECORRUPT when a checksum, size or structure check fails (message names the file). */
int block_open(block_t **out, const char *dir, err_t *err);

void block_ref(block_t *b);
void block_unref(block_t *b);

/* Symbol text by id (borrowed from the mapping). */
static inline const char *block_sym(const block_t *b, uint32_t id, size_t *len)
{
    *len = b->sym_off[id + 1] - b->sym_off[id] - 1;
    return b->sym_data + b->sym_off[id];
}

/* Per-profile (or per-bucket) callback for timelines: end/ts and total. */
typedef void (*block_point_fn)(int64_t ts_ns, int64_t total, void *arg);

/* Accumulates series si's data in [from, until] (inclusive): if self is non-NULL, adds
 * values into self[node] (size nnodes) using the coarsest rollups that fit inside the range
 * and raw profiles at its edges; if point is non-NULL, reports totals at the finest
 * granularity whose buckets nest in the caller's steps — rollups of resolution R when R
 * divides tl_step_ns and the steps' edges are multiples of R (edges are tl_origin_ns + k·step)
 * — else raw profiles; tl_step_ns 0 forces raw profiles (e.g. to average per profile).
 * EMB_ECORRUPT if a chunk fails to decompress or decode. */
int block_series_accumulate(const block_t *b, uint32_t si, int64_t from, int64_t until,
                            int64_t *self, int64_t tl_step_ns, int64_t tl_origin_ns,
                            block_point_fn point, void *arg,
                            err_t *err);

/* Calls fn for every raw profile of series si (ts, nodes, values, n, and its span side
 * list), in time order. */
typedef int (*block_profile_fn)(int64_t ts, const uint32_t *nodes, const int64_t *values,
                                uint32_t n, const span_sample_t *spans, uint32_t nspans,
                                void *arg);
int block_series_profiles(const block_t *b, uint32_t si, block_profile_fn fn, void *arg,
                          err_t *err);

/* Adds into self[node] (size nnodes) the span samples of series si with ts in [from, until]
 * whose span id is in spans (sorted ascending, nspans > 0). EMB_ECORRUPT on a bad frame. */
int block_series_spans(const block_t *b, uint32_t si, int64_t from, int64_t until,
                       const uint64_t *spans, size_t nspans, int64_t *self, err_t *err);

/* Generates a new ULID (time-ordered, 26 Crockford base32 chars) into out (≥ 27 bytes). */
void block_ulid(char *out, int64_t now_ns);

#endif
