/* store/ facade: WAL + head + blocks, the cut/compaction/retention state machine described
 * in store.h, and the background maintenance thread. */
#include "store/store.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/mem.h"
#include "store/crash.h"
#include "store/fsutil.h"

struct store {
    char *dir, *blocks_dir;
    store_options_t opt;
    pthread_rwlock_t lock; /* guards head, frozen and the block lists */
    head_t *head, *frozen;
    uint64_t frozen_first, frozen_last; /* WAL segments the frozen head covers */
    store_tenant_blocks_t *tenants;
    size_t ntenants, captenants;
    wal_t *wal;
    pthread_mutex_t maint; /* one cut / compaction / retention at a time */
    pthread_t thread;
    bool thread_started, stopping;
    pthread_mutex_t stop_mu;
    pthread_cond_t stop_cv;
    _Atomic uint64_t cuts, compactions, retention_deleted, quarantined;
};

/* ---- block lists (callers hold s->lock for writing, or are single-threaded) ---- */

static store_tenant_blocks_t *tenant_blocks(store_t *s, const char *tenant, bool create)
{
    for (size_t i = 0; i < s->ntenants; i++)
        if (!strcmp(s->tenants[i].tenant, tenant))
            return &s->tenants[i];
    if (!create)
        return NULL;
    xgrow(&s->tenants, &s->captenants, s->ntenants + 1, sizeof(*s->tenants));
    store_tenant_blocks_t *t = &s->tenants[s->ntenants++];
    memset(t, 0, sizeof(*t));
    t->tenant = xstrdup(tenant);
    return t;
}

static void add_block(store_t *s, const char *tenant, block_t *b)
{
    store_tenant_blocks_t *t = tenant_blocks(s, tenant, true);
    xgrow(&t->blocks, &t->cap, t->n + 1, sizeof(*t->blocks));
    t->blocks[t->n++] = b;
}

/* Removes b from its tenant's list (dropping the list's reference); returns true if found. */
static bool remove_block(store_t *s, const char *tenant, block_t *b, bool doom)
{
    store_tenant_blocks_t *t = tenant_blocks(s, tenant, false);
    for (size_t i = 0; t && i < t->n; i++)
        if (t->blocks[i] == b) {
            memmove(&t->blocks[i], &t->blocks[i + 1], (t->n - i - 1) * sizeof(*t->blocks));
            t->n--;
            if (doom)
                atomic_store(&b->doomed, true);
            block_unref(b);
            return true;
        }
    return false;
}

static bool covers_segment(const store_tenant_blocks_t *t, uint64_t seg)
{
    for (size_t i = 0; t && i < t->n; i++)
        for (size_t k = 0; k < t->blocks[i]->nwal_segs; k++)
            if (t->blocks[i]->wal_segs[k] == seg)
                return true;
    return false;
}

/* ---- open ---- */

static void quarantine(store_t *s, const char *tenant, const char *name, const char *why)
{
    char from[4400], qdir[4400], to[4700];
    snprintf(from, sizeof(from), "%s/%s/%s", s->blocks_dir, tenant, name);
    snprintf(qdir, sizeof(qdir), "%s/%s/quarantine", s->blocks_dir, tenant);
    snprintf(to, sizeof(to), "%s/%s-%lld", qdir, name, (long long)(clock_now_ns() / NS_PER_S));
    err_t err;
    if (fs_mkdir_p(qdir, &err) || rename(from, to) < 0)
        log_error("block %s is damaged (%s) and could not be moved aside: %s", from, why,
                  strerror(errno));
    else
        log_error("block %s is damaged (%s); moved to %s, the rest keeps serving", from, why, to);
    atomic_fetch_add(&s->quarantined, 1);
}

static int load_blocks(store_t *s, err_t *err)
{
    int rc = fs_mkdir_p(s->blocks_dir, err);
    if (rc)
        return rc;
    DIR *d = opendir(s->blocks_dir);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char tdir[4400];
        snprintf(tdir, sizeof(tdir), "%s/%s", s->blocks_dir, e->d_name);
        DIR *td = opendir(tdir);
        struct dirent *be;
        while (td && (be = readdir(td))) {
            const char *n = be->d_name;
            if (n[0] == '.' || !strcmp(n, "quarantine"))
                continue;
            char bdir[4700];
            snprintf(bdir, sizeof(bdir), "%s/%s", tdir, n);
            if (strstr(n, ".tmp")) { /* an interrupted write: never published */
                log_info("removing incomplete block %s", bdir);
                fs_remove_tree(bdir);
                continue;
            }
            block_t *b;
            err_t berr;
            if (block_open(&b, bdir, &berr)) {
                quarantine(s, e->d_name, n, berr.msg);
                continue;
            }
            add_block(s, e->d_name, b);
        }
        if (td)
            closedir(td);
    }
    if (d)
        closedir(d);
    /* A compacted block supersedes its sources: a crash may have left them behind. */
    for (size_t ti = 0; ti < s->ntenants; ti++) {
        store_tenant_blocks_t *t = &s->tenants[ti];
        for (size_t i = 0; i < t->n; i++)
            for (size_t k = 0; k < t->blocks[i]->nsources; k++)
                for (size_t j = 0; j < t->n; j++)
                    if (j != i && !strcmp(t->blocks[j]->ulid, t->blocks[i]->sources[k])) {
                        log_info("block %s is superseded by compacted %s; deleting it",
                                 t->blocks[j]->ulid, t->blocks[i]->ulid);
                        if (j < i)
                            i--;
                        remove_block(s, t->tenant, t->blocks[j], true);
                        break;
                    }
    }
    return 0;
}

typedef struct replay_ctx {
    store_t *s;
    store_decode_fn fn;
    void *arg;
    size_t skipped, applied;
} replay_ctx_t;

static int replay_one(const uint8_t *payload, size_t len, uint64_t seg, void *arg)
{
    replay_ctx_t *c = arg;
    batch_t b;
    const char *tenant = NULL;
    if (c->fn(&b, &tenant, payload, len, c->arg) == 0) {
        if (covers_segment(tenant_blocks(c->s, tenant, false), seg)) {
            c->skipped++; /* already in a block cut before a crash */
        } else {
            head_apply(c->s->head, tenant, &b);
            c->applied++;
        }
    }
    batch_release(&b);
    return 0;
}

int store_open(store_t **out, const char *dir, const store_options_t *opt, store_decode_fn fn,
               void *arg, err_t *err)
{
    *out = NULL;
    store_t *s = xcalloc(1, sizeof(*s));
    s->dir = xstrdup(dir);
    size_t n = strlen(dir) + 16;
    s->blocks_dir = xmalloc(n);
    snprintf(s->blocks_dir, n, "%s/blocks", dir);
    s->opt = *opt;
    if (s->opt.compaction_window_ns <= 0)
        s->opt.compaction_window_ns = 24 * 3600 * NS_PER_S;
    pthread_rwlockattr_t attr;
    pthread_rwlockattr_init(&attr);
    /* cuts must not starve behind a steady stream of ingest readers */
    pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&s->lock, &attr);
    pthread_rwlockattr_destroy(&attr);
    pthread_mutex_init(&s->maint, NULL);
    pthread_mutex_init(&s->stop_mu, NULL);
    pthread_cond_init(&s->stop_cv, NULL);
    s->head = head_new();
    int rc = fs_mkdir_p(dir, err);
    if (rc == 0)
        rc = load_blocks(s, err);
    replay_ctx_t c = {s, fn, arg, 0, 0};
    if (rc == 0)
        rc = wal_open(&s->wal, dir, opt->fsync, fn ? replay_one : NULL, &c, err);
    if (rc) {
        store_close(s);
        return rc;
    }
    size_t nb = 0;
    for (size_t i = 0; i < s->ntenants; i++)
        nb += s->tenants[i].n;
    log_info("storage: %zu blocks loaded, %zu WAL records replayed (%zu already in blocks)", nb,
             c.applied, c.skipped);
    *out = s;
    return 0;
}

/* ---- write path ---- */

/* The series limit for b (store lock held). */
static int series_limit(store_t *s, const char *tenant, batch_t *b, err_t *err)
{
    if (!s->opt.max_series_per_tenant)
        return 0;
    size_t active, add = head_new_series(s->head, tenant, b, &active);
    if (add && active + add > s->opt.max_series_per_tenant)
        return err_set(err, EMB_ELIMIT,
                       "max_global_series_per_tenant limit of %llu reached: tenant %s has %zu "
                       "active series and this request adds %zu",
                       (unsigned long long)s->opt.max_series_per_tenant, tenant, active, add);
    return 0;
}

int store_append(store_t *s, const char *tenant, batch_t *b, const uint8_t *record,
                 size_t record_len, err_t *err)
{
    store_item_t it = {b, record, record_len, 0, err};
    store_append_many(s, tenant, &it, 1);
    return it.rc;
}

void store_append_many(store_t *s, const char *tenant, store_item_t *items, size_t n)
{
    pthread_rwlock_rdlock(&s->lock);
    uint64_t last = 0;
    bool any = false;
    for (size_t i = 0; i < n; i++) {
        store_item_t *it = &items[i];
        uint64_t seq;
        it->rc = series_limit(s, tenant, it->b, it->err);
        if (it->rc == 0)
            it->rc = wal_append(s->wal, it->record, it->record_len, &seq, it->err);
        if (it->rc == 0) {
            last = seq;
            any = true;
        }
    }
    /* one group commit for all of them */
    err_t serr = {0, ""};
    int src = any ? wal_sync(s->wal, last, &serr) : 0;
    for (size_t i = 0; i < n; i++) {
        store_item_t *it = &items[i];
        if (it->rc)
            continue;
        if (src) {
            *it->err = serr;
            it->rc = src;
        } else {
            head_apply(s->head, tenant, it->b);
        }
    }
    pthread_rwlock_unlock(&s->lock);
}

/* ---- snapshots ---- */

void store_snapshot_get(store_t *s, const char *tenant, int64_t from, int64_t until,
                        store_snapshot_t *out)
{
    memset(out, 0, sizeof(*out));
    pthread_rwlock_rdlock(&s->lock);
    out->heads[out->nheads++] = s->head;
    head_ref(s->head);
    if (s->frozen) {
        out->heads[out->nheads++] = s->frozen;
        head_ref(s->frozen);
    }
    store_tenant_blocks_t *t = tenant_blocks(s, tenant, false);
    if (t && t->n) {
        out->blocks = xmalloc(t->n * sizeof(*out->blocks));
        for (size_t i = 0; i < t->n; i++) {
            block_t *b = t->blocks[i];
            if (b->max_ts < from || b->min_ts > until)
                continue;
            block_ref(b);
            out->blocks[out->nblocks++] = b;
        }
    }
    pthread_rwlock_unlock(&s->lock);
}

void store_snapshot_put(store_snapshot_t *snap)
{
    for (size_t i = 0; i < snap->nheads; i++)
        head_unref(snap->heads[i]);
    for (size_t i = 0; i < snap->nblocks; i++)
        block_unref(snap->blocks[i]);
    free(snap->blocks);
    memset(snap, 0, sizeof(*snap));
}

/* ---- cut ---- */

/* Writes one block per tenant of h; on success *out holds them opened (caller publishes). */
static int write_head_blocks(store_t *s, head_t *h, uint64_t first_seg, uint64_t last_seg,
                             block_t ***out, char ***tenants_out, size_t *nout, err_t *err)
{
    const char **ids;
    size_t nt = head_tenants(h, &ids);
    size_t nsegs = last_seg >= first_seg ? (size_t)(last_seg - first_seg + 1) : 0;
    uint64_t *segs = xcalloc(nsegs + 1, sizeof(*segs));
    for (size_t i = 0; i < nsegs; i++)
        segs[i] = first_seg + i;
    block_info_t info = {segs, nsegs, 0, NULL, 0};
    block_t **blocks = xcalloc(nt + 1, sizeof(*blocks));
    char **tenants = xcalloc(nt + 1, sizeof(*tenants));
    size_t n = 0;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < nt; i++) {
        head_tenant_t *t = head_tenant(h, ids[i], false);
        char tdir[4096], ulid[32];
        snprintf(tdir, sizeof(tdir), "%s/%s", s->blocks_dir, ids[i]);
        rc = fs_mkdir_p(tdir, err);
        head_tenant_rdlock(t);
        if (rc == 0)
            rc = block_write(ulid, tdir, ids[i], t, &info, err);
        head_tenant_unlock(t);
        if (rc || !ulid[0])
            continue;
        char bdir[4200];
        snprintf(bdir, sizeof(bdir), "%s/%s", tdir, ulid);
        rc = block_open(&blocks[n], bdir, err);
        if (rc == 0)
            tenants[n++] = xstrdup(ids[i]);
        crash_point("cut.after_tenant_block");
    }
    if (rc) { /* unpublished blocks would double count once the WAL replays: remove them */
        for (size_t i = 0; i < n; i++) {
            atomic_store(&blocks[i]->doomed, true);
            block_unref(blocks[i]);
            free(tenants[i]);
        }
        free(blocks);
        free(tenants);
        n = 0;
        blocks = NULL;
        tenants = NULL;
    }
    free(ids);
    free(segs);
    *out = blocks;
    *tenants_out = tenants;
    *nout = n;
    return rc;
}

static bool head_empty(head_t *h)
{
    const char **ids;
    size_t nt = head_tenants(h, &ids);
    bool empty = true;
    for (size_t i = 0; empty && i < nt; i++) {
        head_tenant_t *t = head_tenant(h, ids[i], false);
        head_tenant_rdlock(t);
        empty = t->nseries == 0;
        head_tenant_unlock(t);
    }
    free(ids);
    return empty;
}

int store_cut(store_t *s, size_t *nblocks, err_t *err)
{
    *nblocks = 0;
    pthread_mutex_lock(&s->maint);
    int rc = 0;
    if (!s->frozen) { /* (a frozen head left by a failed cut is retried as it is) */
        pthread_rwlock_wrlock(&s->lock);
        if (head_empty(s->head)) {
            /* Nothing to cut, so every record of a closed segment is in a block already (a
             * crash between publishing blocks and removing their WAL segments leaves such
             * segments behind; replay skipped them). Remove them: they hold their blocks back
             * from retention (store_retain). */
            uint64_t active = wal_active_segment(s->wal);
            pthread_rwlock_unlock(&s->lock);
            if (wal_first_segment(s->wal) < active)
                rc = wal_remove_upto(s->wal, active - 1, err);
            pthread_mutex_unlock(&s->maint);
            return rc;
        }
        uint64_t closed;
        rc = wal_rotate(s->wal, &closed, err);
        if (rc == 0) {
            s->frozen = s->head;
            s->frozen_first = wal_first_segment(s->wal);
            s->frozen_last = closed;
            s->head = head_new();
        }
        pthread_rwlock_unlock(&s->lock);
        if (rc) {
            pthread_mutex_unlock(&s->maint);
            return rc;
        }
        crash_point("cut.after_rotate");
    }
    block_t **blocks;
    char **tenants;
    size_t n;
    rc = write_head_blocks(s, s->frozen, s->frozen_first, s->frozen_last, &blocks, &tenants, &n,
                           err);
    if (rc) {
        log_error("block cut failed, will retry: %s", err->msg);
        pthread_mutex_unlock(&s->maint);
        return rc;
    }
    pthread_rwlock_wrlock(&s->lock);
    for (size_t i = 0; i < n; i++)
        add_block(s, tenants[i], blocks[i]);
    head_t *old = s->frozen;
    s->frozen = NULL;
    uint64_t last = s->frozen_last;
    pthread_rwlock_unlock(&s->lock);
    head_unref(old);
    crash_point("cut.before_wal_remove");
    rc = wal_remove_upto(s->wal, last, err);
    for (size_t i = 0; i < n; i++)
        free(tenants[i]);
    free(tenants);
    free(blocks);
    atomic_fetch_add(&s->cuts, 1);
    *nblocks = n;
    log_info("cut %zu blocks from the head (WAL segments up to %llu)", n,
             (unsigned long long)last);
    pthread_mutex_unlock(&s->maint);
    return rc;
}

/* ---- compaction ---- */

typedef struct load_ctx {
    batch_t *b;
    const labels_t *labels;
} load_ctx_t;

static int load_profile(int64_t ts, const uint32_t *nodes, const int64_t *values, uint32_t n,
                        const span_sample_t *spans, uint32_t nspans, void *arg)
{
    load_ctx_t *c = arg;
    batch_profile_t *p = batch_add_profile(c->b, c->labels, ts, 0);
    for (uint32_t i = 0; i < n; i++)
        batch_add_sample(c->b, p, nodes[i], values[i]);
    for (uint32_t i = 0; i < nspans; i++)
        batch_add_span(p, spans[i].span, spans[i].node, spans[i].value);
    return 0;
}

/* Appends block src's data for tenant into h (names remapped by head_apply). */
static int load_block(head_t *h, const char *tenant, const block_t *src, err_t *err)
{
    batch_t b;
    batch_init(&b);
    for (uint32_t i = 1; i < src->nsyms; i++) {
        size_t len;
        const char *str = block_sym(src, i, &len);
        strtab_intern(&b.strs, str, len);
    }
    /* same ids: symbols are unique and parents precede children */
    for (uint32_t i = 1; i < src->nnodes; i++)
        stacktree_child(&b.tree, src->parent[i], src->name[i]);
    int rc = 0;
    if (b.strs.n != src->nsyms || b.tree.n != src->nnodes)
        rc = err_set(err, EMB_ECORRUPT, "block %s: duplicate symbols or nodes", src->dir);
    for (uint32_t si = 0; rc == 0 && si < src->nseries; si++) {
        load_ctx_t c = {&b, &src->series[si].labels};
        rc = block_series_profiles(src, si, load_profile, &c, err);
    }
    if (rc == 0)
        head_apply(h, tenant, &b);
    batch_release(&b);
    return rc;
}

static int compact_group(store_t *s, const char *tenant, block_t **group, size_t n, err_t *err)
{
    head_t *h = head_new();
    int rc = 0, level = 0;
    const char **sources = xcalloc(n + 1, sizeof(*sources));
    for (size_t i = 0; rc == 0 && i < n; i++) {
        rc = load_block(h, tenant, group[i], err);
        sources[i] = group[i]->ulid;
        if (group[i]->level >= level)
            level = group[i]->level + 1;
    }
    char tdir[4096], ulid[32] = "";
    snprintf(tdir, sizeof(tdir), "%s/%s", s->blocks_dir, tenant);
    block_info_t info = {NULL, 0, level, sources, n};
    head_tenant_t *t = head_tenant(h, tenant, false);
    if (rc == 0 && t)
        rc = block_write(ulid, tdir, tenant, t, &info, err);
    block_t *nb = NULL;
    if (rc == 0 && ulid[0]) {
        crash_point("compact.after_write");
        char bdir[4200];
        snprintf(bdir, sizeof(bdir), "%s/%s", tdir, ulid);
        rc = block_open(&nb, bdir, err);
    }
    if (rc == 0 && nb) {
        pthread_rwlock_wrlock(&s->lock);
        add_block(s, tenant, nb);
        for (size_t i = 0; i < n; i++)
            remove_block(s, tenant, group[i], true);
        pthread_rwlock_unlock(&s->lock);
        log_info("compacted %zu blocks of tenant %s into %s (level %d)", n, tenant, ulid, level);
        atomic_fetch_add(&s->compactions, 1);
    }
    free(sources);
    head_free(h);
    return rc;
}

static int cmp_block_min(const void *a, const void *b)
{
    int64_t x = (*(block_t *const *)a)->min_ts, y = (*(block_t *const *)b)->min_ts;
    return (x > y) - (x < y);
}

int store_compact(store_t *s, size_t *merged, err_t *err)
{
    *merged = 0;
    pthread_mutex_lock(&s->maint);
    uint64_t first_seg = wal_first_segment(s->wal);
    int64_t w = s->opt.compaction_window_ns;
    int rc = 0;
    pthread_rwlock_rdlock(&s->lock);
    size_t nt = s->ntenants;
    char **names = xcalloc(nt + 1, sizeof(*names));
    for (size_t i = 0; i < nt; i++)
        names[i] = xstrdup(s->tenants[i].tenant);
    pthread_rwlock_unlock(&s->lock);
    for (size_t ti = 0; rc == 0 && ti < nt; ti++) {
        /* eligible: WAL segments gone, whole block inside one window */
        pthread_rwlock_rdlock(&s->lock);
        store_tenant_blocks_t *t = tenant_blocks(s, names[ti], false);
        size_t n = 0;
        block_t **el = xcalloc((t ? t->n : 0) + 1, sizeof(*el));
        for (size_t i = 0; t && i < t->n; i++) {
            block_t *b = t->blocks[i];
            bool gone = true;
            for (size_t k = 0; k < b->nwal_segs; k++)
                gone &= b->wal_segs[k] < first_seg;
            if (gone && b->min_ts / w == b->max_ts / w) {
                block_ref(b);
                el[n++] = b;
            }
        }
        pthread_rwlock_unlock(&s->lock);
        qsort(el, n, sizeof(*el), cmp_block_min);
        /* Compaction holds its sources' samples in memory, so a merge stops adding blocks
         * at compaction_max_samples: RSS is bounded by that setting, not by data size. */
        uint64_t cap = s->opt.compaction_max_samples ? s->opt.compaction_max_samples : UINT64_MAX;
        for (size_t i = 0; i < n;) {
            size_t j = i;
            uint64_t samples = 0;
            while (j < n && el[j]->min_ts / w == el[i]->min_ts / w &&
                   (j == i || samples + el[j]->nsamples <= cap)) {
                samples += el[j]->nsamples;
                j++;
            }
            if (rc == 0 && j - i >= 2) {
                rc = compact_group(s, names[ti], el + i, j - i, err);
                if (rc == 0)
                    *merged += j - i;
            }
            i = j;
        }
        for (size_t i = 0; i < n; i++)
            block_unref(el[i]);
        free(el);
    }
    for (size_t i = 0; i < nt; i++)
        free(names[i]);
    free(names);
    pthread_mutex_unlock(&s->maint);
    return rc;
}

/* ---- retention ---- */

int store_retain(store_t *s, int64_t now_ns, size_t *deleted, err_t *err)
{
    (void)err;
    *deleted = 0;
    if (s->opt.retention_ns <= 0)
        return 0;
    int64_t cutoff = now_ns - s->opt.retention_ns;
    pthread_mutex_lock(&s->maint);
    uint64_t first_seg = wal_first_segment(s->wal);
    pthread_rwlock_wrlock(&s->lock);
    for (size_t ti = 0; ti < s->ntenants; ti++) {
        store_tenant_blocks_t *t = &s->tenants[ti];
        for (size_t i = 0; i < t->n;) {
            block_t *b = t->blocks[i];
            /* a block whose WAL segments are still on disk (a crash between publishing it and
             * removing them) must stay until they go: without it, replay would bring the
             * deleted data back into the head at the next start */
            bool wal_gone = true;
            for (size_t k = 0; k < b->nwal_segs; k++)
                wal_gone &= b->wal_segs[k] < first_seg;
            if (b->max_ts < cutoff && wal_gone) { /* entirely out: the edge block stays */
                log_info("retention: deleting block %s of tenant %s (newest profile %llds old)",
                         b->ulid, t->tenant, (long long)((now_ns - b->max_ts) / NS_PER_S));
                remove_block(s, t->tenant, b, true);
                (*deleted)++;
            } else {
                i++;
            }
        }
    }
    pthread_rwlock_unlock(&s->lock);
    atomic_fetch_add(&s->retention_deleted, *deleted);
    pthread_mutex_unlock(&s->maint);
    return 0;
}

/* ---- background maintenance ---- */

static void *maintenance(void *arg)
{
    store_t *s = arg;
    /* Cuts happen when the wall clock crosses a multiple of block_duration (the top of the
     * hour for 1h), so live blocks line up with compaction windows instead of straddling
     * midnight and never merging. */
    int64_t d = s->opt.block_duration_ns;
    int64_t next_cut = d > 0 ? (clock_now_ns() / d + 1) * d : INT64_MAX;
    pthread_mutex_lock(&s->stop_mu);
    while (!s->stopping) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += 1;
        pthread_cond_timedwait(&s->stop_cv, &s->stop_mu, &ts);
        if (s->stopping)
            break;
        pthread_mutex_unlock(&s->stop_mu);
        err_t err = {0, ""};
        size_t n;
        int64_t now = clock_now_ns();
        if (now >= next_cut) {
            next_cut = (now / d + 1) * d;
            if (store_cut(s, &n, &err))
                log_error("block cut: %s", err.msg);
            else if (store_compact(s, &n, &err))
                log_error("compaction: %s", err.msg);
        }
        if (store_retain(s, clock_now_ns(), &n, &err))
            log_error("retention: %s", err.msg);
        pthread_mutex_lock(&s->stop_mu);
    }
    pthread_mutex_unlock(&s->stop_mu);
    return NULL;
}

int store_start(store_t *s, err_t *err)
{
    if (pthread_create(&s->thread, NULL, maintenance, s) != 0)
        return err_set(err, EMB_EIO, "cannot start the storage thread");
    s->thread_started = true;
    return 0;
}

void store_stats(store_t *s, store_stats_t *out)
{
    memset(out, 0, sizeof(*out));
    pthread_rwlock_rdlock(&s->lock);
    out->head_series = head_series_count(s->head);
    for (size_t i = 0; i < s->ntenants; i++) {
        out->blocks += s->tenants[i].n;
        for (size_t k = 0; k < s->tenants[i].n; k++)
            out->block_bytes += s->tenants[i].blocks[k]->bytes;
    }
    pthread_rwlock_unlock(&s->lock);
    out->cuts = atomic_load(&s->cuts);
    out->compactions = atomic_load(&s->compactions);
    out->retention_deleted = atomic_load(&s->retention_deleted);
    out->quarantined = atomic_load(&s->quarantined);
    out->wal_fsyncs = s->wal ? wal_fsyncs(s->wal) : 0;
    out->wal_bytes = s->wal ? wal_bytes(s->wal) : 0;
}

void store_close(store_t *s)
{
    if (!s)
        return;
    if (s->thread_started) {
        pthread_mutex_lock(&s->stop_mu);
        s->stopping = true;
        pthread_cond_signal(&s->stop_cv);
        pthread_mutex_unlock(&s->stop_mu);
        pthread_join(s->thread, NULL);
    }
    wal_close(s->wal);
    head_unref(s->head);
    head_unref(s->frozen);
    for (size_t i = 0; i < s->ntenants; i++) {
        for (size_t k = 0; k < s->tenants[i].n; k++)
            block_unref(s->tenants[i].blocks[k]);
        free(s->tenants[i].blocks);
        free(s->tenants[i].tenant);
    }
    free(s->tenants);
    pthread_rwlock_destroy(&s->lock);
    pthread_mutex_destroy(&s->maint);
    pthread_mutex_destroy(&s->stop_mu);
    pthread_cond_destroy(&s->stop_cv);
    free(s->blocks_dir);
    free(s->dir);
    free(s);
}
