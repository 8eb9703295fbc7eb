/* The head: in-memory profiles per tenant (DESIGN.md §3).
 *
 * Per tenant: a string table, a stack tree, and series (sorted label set + time-ordered
 * profiles whose samples are (stack node, value) runs). Writers remap a decoded batch into the
 * tenant's tables under the tenant's write lock (short: no decoding happens there); queries
 * hold the read lock while they accumulate. Tenants are created on first write and never
 * share tables, so nothing of one tenant is reachable from another's.
 *
 * Thread-safe. head_t is owned by the caller (head_new → head_free).
 */
#ifndef EMBER_STORE_HEAD_H
#define EMBER_STORE_HEAD_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "model/batch.h"
#include "model/labels.h"
#include "model/stacktree.h"
#include "model/strtab.h"

typedef struct head_profile {
    int64_t ts_ns;
    int64_t *value;  /* n values, then n node ids (node_id_t), then (8-aligned) nspans span
                      * samples (span_sample_t, head node ids): one allocation */
    uint32_t n;
    uint32_t nspans; /* side list of span-tagged samples, already counted in value[] */
} head_profile_t;

/* Stack node ids of a profile's samples (stored after the values). */
static inline const node_id_t *head_profile_nodes(const head_profile_t *p)
{
    return (const node_id_t *)(p->value + p->n);
}

static inline size_t head_profile_spans_off(uint32_t n)
{
    return (n * (sizeof(int64_t) + sizeof(node_id_t)) + 7) & ~(size_t)7;
}

/* The span side list (nspans entries). */
static inline const span_sample_t *head_profile_spans(const head_profile_t *p)
{
    return (const span_sample_t *)((const char *)p->value + head_profile_spans_off(p->n));
}

typedef struct head_series {
    labels_t labels; /* sorted */
    char *key;       /* labels_key(labels), owned */
    size_t key_len;
    head_profile_t *profs;
    size_t nprofs, capprofs;
    bool sorted;     /* profs ordered by ts_ns */
    size_t nsamples;
    int64_t min_ts, max_ts;
} head_series_t;

typedef struct head_tenant {
    char *id;
    pthread_rwlock_t lock;
    strtab_t strs;
    stacktree_t tree;
    head_series_t *series;
    size_t nseries, capseries;
    hmap_t series_map; /* hash(label key) -> series index */
    /* Sample storage: bump allocation from large chunks, so appending a profile never
     * copies earlier ones (a realloc'd array would, and fault in fresh pages each time). */
    char **chunks;
    size_t nchunks, capchunks, chunk_used, chunk_size;
} head_tenant_t;

typedef struct head head_t;

/* A new empty head with one reference. */
head_t *head_new(void);
/* References: queries hold one while they read a head that a block cut may retire. */
void head_ref(head_t *h);
void head_unref(head_t *h);
/* Frees now, whatever the count (single-owner use: tests, compaction scratch heads). */
void head_free(head_t *h);

/* Returns the tenant (borrowed; lives as long as the head), creating it when create is true;
 * NULL if absent and !create. */
head_tenant_t *head_tenant(head_t *h, const char *tenant, bool create);

/* Lists tenant ids (owned array of borrowed strings; free() the array). */
size_t head_tenants(head_t *h, const char ***out);

/* Applies a decoded batch to tenant (write lock inside). */
void head_apply(head_t *h, const char *tenant, batch_t *b);

/* Series of b (profiles with samples) that tenant's head does not have yet, counting each
 * once; OUT: *active = the series the tenant's head has now. Prepares b's series keys,
 * which head_apply then reuses. */
size_t head_new_series(head_t *h, const char *tenant, batch_t *b, size_t *active);

/* Total series over all tenants (metrics). */
size_t head_series_count(head_t *h);

/* Read lock for queries. Profiles of a series are in arrival order (usually time order;
 * `sorted` says whether they are), so readers must not assume order unless sorted is set. */
void head_tenant_rdlock(head_tenant_t *t);
void head_tenant_unlock(head_tenant_t *t);

#endif
