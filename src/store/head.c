/* The head: see head.h. Remapping a batch costs one hash lookup per distinct batch string and
 * per frame of each distinct stack; a stack cache keyed by batch stack index avoids redoing
 * identical stacks across the profiles of one batch (one per sample type). */
#include "store/head.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/mem.h"

struct head {
    _Atomic int refs;
    pthread_mutex_t mu; /* guards the tenant list */
    head_tenant_t **tenants;
    size_t ntenants, cap;
};

head_t *head_new(void)
{
    head_t *h = xcalloc(1, sizeof(*h));
    atomic_store(&h->refs, 1);
    pthread_mutex_init(&h->mu, NULL);
    return h;
}

void head_ref(head_t *h) { atomic_fetch_add(&h->refs, 1); }

void head_unref(head_t *h)
{
    if (h && atomic_fetch_sub(&h->refs, 1) == 1)
        head_free(h);
}

static void series_release(head_series_t *s)
{
    labels_release(&s->labels);
    free(s->key);
    free(s->profs);
}

static void tenant_free(head_tenant_t *t)
{
    for (size_t i = 0; i < t->nseries; i++)
        series_release(&t->series[i]);
    free(t->series);
    for (size_t i = 0; i < t->nchunks; i++)
        free(t->chunks[i]);
    free(t->chunks);
    hmap_release(&t->series_map);
    strtab_release(&t->strs);
    stacktree_release(&t->tree);
    pthread_rwlock_destroy(&t->lock);
    free(t->id);
    free(t);
}

void head_free(head_t *h)
{
    if (!h)
        return;
    for (size_t i = 0; i < h->ntenants; i++)
        tenant_free(h->tenants[i]);
    free(h->tenants);
    pthread_mutex_destroy(&h->mu);
    free(h);
}

head_tenant_t *head_tenant(head_t *h, const char *tenant, bool create)
{
    pthread_mutex_lock(&h->mu);
    head_tenant_t *t = NULL;
    for (size_t i = 0; i < h->ntenants; i++)
        if (strcmp(h->tenants[i]->id, tenant) == 0) {
            t = h->tenants[i];
            break;
        }
    if (!t && create) {
        t = xcalloc(1, sizeof(*t));
        t->id = xstrdup(tenant);
        pthread_rwlock_init(&t->lock, NULL);
        strtab_init(&t->strs);
        stacktree_init(&t->tree);
        hmap_init(&t->series_map);
        xgrow(&h->tenants, &h->cap, h->ntenants + 1, sizeof(*h->tenants));
        h->tenants[h->ntenants++] = t;
    }
    pthread_mutex_unlock(&h->mu);
    return t;
}

size_t head_tenants(head_t *h, const char ***out)
{
    pthread_mutex_lock(&h->mu);
    size_t n = h->ntenants;
    const char **ids = xmalloc((n + 1) * sizeof(*ids));
    for (size_t i = 0; i < n; i++)
        ids[i] = h->tenants[i]->id;
    pthread_mutex_unlock(&h->mu);
    *out = ids;
    return n;
}

size_t head_series_count(head_t *h)
{
    size_t n = 0;
    pthread_mutex_lock(&h->mu);
    for (size_t i = 0; i < h->ntenants; i++) {
        pthread_rwlock_rdlock(&h->tenants[i]->lock);
        n += h->tenants[i]->nseries;
        pthread_rwlock_unlock(&h->tenants[i]->lock);
    }
    pthread_mutex_unlock(&h->mu);
    return n;
}

/* Finds or creates the series for sorted labels l (key = labels_key(l)). */
static head_series_t *series_find(head_tenant_t *t, uint64_t hv, const buf_t *key);

static head_series_t *series_get(head_tenant_t *t, labels_t *l, const buf_t *key)
{
    uint64_t hv = hash_bytes(key->data, key->len);
    head_series_t *found = series_find(t, hv, key);
    if (found)
        return found;
    xgrow(&t->series, &t->capseries, t->nseries + 1, sizeof(*t->series));
    head_series_t *s = &t->series[t->nseries];
    memset(s, 0, sizeof(*s));
    s->labels = *l; /* take ownership */
    s->key = xstrndup(key->data ? key->data : "", key->len);
    s->key_len = key->len;
    labels_init(l);
    s->sorted = true;
    s->min_ts = INT64_MAX;
    s->max_ts = INT64_MIN;
    hmap_put(&t->series_map, hv, (uint32_t)t->nseries);
    t->nseries++;
    return s;
}

#define HEAD_CHUNK (4u << 20)

/* 8-byte aligned bump allocation from the tenant's chunks (write lock held). */
static void *tenant_alloc(head_tenant_t *t, size_t n)
{
    n = (n + 7) & ~(size_t)7;
    if (!t->nchunks || t->chunk_used + n > t->chunk_size) {
        size_t sz = n > HEAD_CHUNK ? n : HEAD_CHUNK;
        xgrow(&t->chunks, &t->capchunks, t->nchunks + 1, sizeof(*t->chunks));
        t->chunks[t->nchunks++] = xmalloc(sz);
        t->chunk_size = sz;
        t->chunk_used = 0;
    }
    void *p = t->chunks[t->nchunks - 1] + t->chunk_used;
    t->chunk_used += n;
    return p;
}

/* Sorts each profile's labels and builds its series key, once (outside any lock). */
static void prepare(batch_t *b)
{
    for (size_t i = 0; i < b->nprofs; i++) {
        batch_profile_t *p = &b->profs[i];
        if (p->keyed)
            continue;
        labels_sort(&p->labels);
        buf_reset(&p->key);
        if (labels_key(&p->key, &p->labels)) {
            /* unbounded buffer: cannot fail */
        }
        p->keyed = true;
    }
}

static head_series_t *series_find(head_tenant_t *t, uint64_t hv, const buf_t *key)
{
    size_t pos = 0;
    int started = 0;
    uint32_t id;
    while ((id = hmap_probe(&t->series_map, hv, &pos, &started)) != HMAP_EMPTY) {
        head_series_t *c = &t->series[id];
        if (c->key_len == key->len && memcmp(c->key, key->data, key->len) == 0)
            return c;
    }
    return NULL;
}

size_t head_new_series(head_t *h, const char *tenant, batch_t *b, size_t *active)
{
    prepare(b);
    *active = 0;
    head_tenant_t *t = head_tenant(h, tenant, false);
    size_t n = 0;
    if (t)
        pthread_rwlock_rdlock(&t->lock);
    if (t)
        *active = t->nseries;
    for (size_t i = 0; i < b->nprofs; i++) {
        const buf_t *k = &b->profs[i].key;
        if (b->profs[i].n == 0 || (t && series_find(t, hash_bytes(k->data, k->len), k)))
            continue;
        bool dup = false; /* the same new series twice in one batch counts once */
        for (size_t j = 0; j < i && !dup; j++)
            dup = b->profs[j].n && b->profs[j].key.len == k->len &&
                  memcmp(b->profs[j].key.data, k->data, k->len) == 0;
        n += !dup;
    }
    if (t)
        pthread_rwlock_unlock(&t->lock);
    return n;
}

void head_apply(head_t *h, const char *tenant, batch_t *b)
{
    if (b->nprofs == 0)
        return;
    head_tenant_t *t = head_tenant(h, tenant, true);
    prepare(b);
    uint32_t *smap = xmalloc((b->strs.n + 1) * sizeof(*smap));
    node_id_t *nmap = xmalloc((b->tree.n + 1) * sizeof(*nmap));

    pthread_rwlock_wrlock(&t->lock);
    for (size_t i = 0; i < b->strs.n; i++)
        smap[i] = strtab_intern(&t->strs, strtab_get(&b->strs, (uint32_t)i),
                                strtab_len(&b->strs, (uint32_t)i));
    /* parents precede children in the batch tree, so one forward pass maps every node */
    nmap[0] = 0;
    for (size_t i = 1; i < b->tree.n; i++)
        nmap[i] = stacktree_child(&t->tree, nmap[b->tree.parent[i]], smap[b->tree.name[i]]);
    for (size_t i = 0; i < b->nprofs; i++) {
        batch_profile_t *bp = &b->profs[i];
        if (bp->n == 0)
            continue; /* no spans either: they are a subset of the samples */
        head_series_t *s = series_get(t, &bp->labels, &bp->key);
        xgrow(&s->profs, &s->capprofs, s->nprofs + 1, sizeof(*s->profs));
        size_t nz = 0;
        for (size_t j = 0; j < bp->n; j++)
            nz += bp->value[j] != 0;
        head_profile_t *hp = &s->profs[s->nprofs++];
        hp->ts_ns = bp->ts_ns;
        hp->n = (uint32_t)nz;
        hp->nspans = (uint32_t)bp->nspans;
        hp->value = tenant_alloc(t, head_profile_spans_off(hp->n) +
                                        bp->nspans * sizeof(span_sample_t));
        span_sample_t *spans = (span_sample_t *)((char *)hp->value +
                                                 head_profile_spans_off(hp->n));
        for (size_t j = 0; j < bp->nspans; j++)
            spans[j] = (span_sample_t){bp->spans[j].span, bp->spans[j].value,
                                       nmap[bp->spans[j].node]};
        node_id_t *nodes = (node_id_t *)(hp->value + nz);
        size_t k = 0;
        for (size_t j = 0; j < bp->n; j++) {
            if (bp->value[j] == 0)
                continue;
            nodes[k] = nmap[bp->stack[j]];
            hp->value[k] = bp->value[j];
            k++;
        }
        s->nsamples += nz;
        if (s->nprofs > 1 && s->profs[s->nprofs - 2].ts_ns > hp->ts_ns)
            s->sorted = false;
        if (hp->ts_ns < s->min_ts)
            s->min_ts = hp->ts_ns;
        if (hp->ts_ns > s->max_ts)
            s->max_ts = hp->ts_ns;
    }
    pthread_rwlock_unlock(&t->lock);

    free(smap);
    free(nmap);
}

void head_tenant_rdlock(head_tenant_t *t) { pthread_rwlock_rdlock(&t->lock); }

void head_tenant_unlock(head_tenant_t *t) { pthread_rwlock_unlock(&t->lock); }
