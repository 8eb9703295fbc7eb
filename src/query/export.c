/* pprof and collapsed exports of a merged tree (see export.h). The pprof is written field by
 * field (no intermediate message): string table first-use order, functions and locations
 * share ids with the tree's name ids (+1, since pprof ids start at 1). */
#include "query/export.h"

#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "base/varint.h"

static int pb_tag(buf_t *b, uint32_t field, uint32_t wire)
{
    return varint_put(b, (uint64_t)field << 3 | wire);
}

static int pb_uint(buf_t *b, uint32_t field, uint64_t v)
{
    if (v == 0)
        return 0;
    int rc = pb_tag(b, field, 0);
    return rc ? rc : varint_put(b, v);
}

static int pb_bytes(buf_t *b, uint32_t field, const void *p, size_t n)
{
    int rc = pb_tag(b, field, 2);
    if (rc == 0)
        rc = varint_put(b, n);
    if (rc == 0 && n)
        rc = buf_append(b, p, n);
    return rc;
}

/* A small string table for the profile: ids by first use; id 0 = "". */
typedef struct ptab {
    strtab_t t;
} ptab_t;

static int64_t sid(ptab_t *p, const char *s) { return strtab_intern(&p->t, s, strlen(s)); }

static int value_type(buf_t *out, uint32_t field, int64_t type, int64_t unit)
{
    buf_t m = BUF_INIT;
    int rc = pb_uint(&m, 1, (uint64_t)type);
    if (rc == 0)
        rc = pb_uint(&m, 2, (uint64_t)unit);
    if (rc == 0)
        rc = pb_bytes(out, field, m.data ? m.data : "", m.len);
    buf_release(&m);
    return rc;
}

int export_pprof(buf_t *out, const query_tree_t *t, const export_meta_t *meta)
{
    ptab_t p;
    strtab_init(&p.t);
    int64_t st = sid(&p, meta->sample_type ? meta->sample_type : "samples");
    int64_t su = sid(&p, meta->sample_unit ? meta->sample_unit : "count");
    int64_t pt = sid(&p, meta->period_type ? meta->period_type : "");
    int64_t pu = sid(&p, meta->period_unit ? meta->period_unit : "");
    int rc = value_type(out, 1, st, su);
    buf_t m = BUF_INIT;
    /* samples: one per node with self != 0, locations leaf first (location id = name id + 1) */
    uint32_t *locs = NULL;
    size_t cap = 0;
    uint8_t *used = xcalloc(t->strs.n + 1, 1);
    for (size_t i = 1; rc == 0 && i < t->tree.n; i++) {
        if (t->self[i] == 0)
            continue;
        size_t d = 0;
        for (uint32_t n = (uint32_t)i; n != 0; n = t->tree.parent[n]) {
            xgrow(&locs, &cap, d + 1, sizeof(*locs));
            locs[d++] = t->tree.name[n] + 1;
            used[t->tree.name[n]] = 1;
        }
        buf_reset(&m);
        buf_t packed = BUF_INIT;
        for (size_t k = 0; rc == 0 && k < d; k++)
            rc = varint_put(&packed, locs[k]);
        if (rc == 0)
            rc = pb_bytes(&m, 1, packed.data ? packed.data : "", packed.len);
        buf_release(&packed);
        buf_t vals = BUF_INIT;
        if (rc == 0)
            rc = varint_put(&vals, (uint64_t)t->self[i]);
        if (rc == 0)
            rc = pb_bytes(&m, 2, vals.data, vals.len);
        buf_release(&vals);
        if (rc == 0)
            rc = pb_bytes(out, 2, m.data, m.len);
    }
    /* locations and functions for every name used */
    for (size_t i = 0; rc == 0 && i < t->strs.n; i++) {
        if (!used[i])
            continue;
        int64_t name = strtab_intern(&p.t, strtab_get(&t->strs, (uint32_t)i),
                                     strtab_len(&t->strs, (uint32_t)i));
        buf_t line = BUF_INIT, loc = BUF_INIT, fn = BUF_INIT;
        rc = pb_uint(&line, 1, i + 1);
        if (rc == 0) rc = pb_uint(&loc, 1, i + 1);
        if (rc == 0) rc = pb_bytes(&loc, 4, line.data, line.len);
        if (rc == 0) rc = pb_bytes(out, 4, loc.data, loc.len);
        if (rc == 0) rc = pb_uint(&fn, 1, i + 1);
        if (rc == 0) rc = pb_uint(&fn, 2, (uint64_t)name);
        if (rc == 0) rc = pb_uint(&fn, 3, (uint64_t)name);
        if (rc == 0) rc = pb_bytes(out, 5, fn.data, fn.len);
        buf_release(&line);
        buf_release(&loc);
        buf_release(&fn);
    }
    /* string table, then times and period */
    for (size_t i = 0; rc == 0 && i < p.t.n; i++)
        rc = pb_bytes(out, 6, strtab_get(&p.t, (uint32_t)i), strtab_len(&p.t, (uint32_t)i));
    if (rc == 0)
        rc = pb_uint(out, 9, (uint64_t)meta->time_ns);
    if (rc == 0)
        rc = pb_uint(out, 10, (uint64_t)meta->duration_ns);
    if (rc == 0 && (pt || pu))
        rc = value_type(out, 11, pt, pu);
    if (rc == 0)
        rc = pb_uint(out, 12, (uint64_t)meta->period);
    buf_release(&m);
    free(locs);
    free(used);
    strtab_release(&p.t);
    return rc;
}

int export_collapsed(buf_t *out, const query_tree_t *t)
{
    uint32_t *path = NULL;
    size_t cap = 0;
    int rc = 0;
    for (size_t i = 1; rc == 0 && i < t->tree.n; i++) {
        if (t->self[i] == 0)
            continue;
        size_t d = 0;
        for (uint32_t n = (uint32_t)i; n != 0; n = t->tree.parent[n]) {
            xgrow(&path, &cap, d + 1, sizeof(*path));
            path[d++] = t->tree.name[n];
        }
        for (size_t k = d; rc == 0 && k > 0; k--) {
            if (k != d)
                rc = buf_putc(out, ';');
            if (rc == 0)
                rc = buf_append(out, strtab_get(&t->strs, path[k - 1]),
                                strtab_len(&t->strs, path[k - 1]));
        }
        if (rc == 0)
            rc = buf_printf(out, " %lld\n", (long long)t->self[i]);
    }
    free(path);
    return rc;
}
