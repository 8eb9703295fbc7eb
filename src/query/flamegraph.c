/* Flame graph levels from a merged call tree: see flamegraph.h. */
#include "query/flamegraph.h"

#include <stdlib.h>
#include <string.h>

#include "base/mem.h"


typedef struct fb_child {
    const char *name;
    uint32_t name_len;
    uint32_t node;  /* UINT32_MAX = synthetic "other" */
    int64_t total, self;
} fb_child_t;

static int cmp_child(const void *a, const void *b)
{
    const fb_child_t *x = a, *y = b;
    size_t n = x->name_len < y->name_len ? x->name_len : y->name_len;
    int c = memcmp(x->name, y->name, n);
    if (c)
        return c;
    return (x->name_len > y->name_len) - (x->name_len < y->name_len);
}

typedef struct fb_entry {
    int64_t x, total, self;
    uint32_t name_idx;
} fb_entry_t;

typedef struct fb_level {
    fb_entry_t *e;
    size_t n, cap;
} fb_level_t;

static int cmp_i64_desc(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x < y) - (x > y);
}

void fg_build(fg_t *out, const strtab_t *strs, const stacktree_t *tree, const int64_t *self,
              const int64_t *tot, int64_t max_nodes)
{
    memset(out, 0, sizeof(*out));
    size_t n = tree->n;
    /* cut-off: keep the max_nodes largest totals */
    int64_t minv = 1;
    size_t live = 0;
    for (size_t i = 1; i < n; i++)
        live += tot[i] > 0;
    if (max_nodes > 0 && live > (size_t)max_nodes) {
        int64_t *v = xmalloc(live * sizeof(*v));
        size_t k = 0;
        for (size_t i = 1; i < n; i++)
            if (tot[i] > 0)
                v[k++] = tot[i];
        qsort(v, k, sizeof(*v), cmp_i64_desc);
        minv = v[max_nodes - 1];
        if (minv < 1)
            minv = 1;
        free(v);
    }
    /* children in CSR form, only kept nodes; other[p] collects cut children */
    uint32_t *cstart = xcalloc(n + 1, sizeof(*cstart));
    int64_t *other = xcalloc(n, sizeof(*other));
    for (size_t i = 1; i < n; i++) {
        if (tot[i] <= 0)
            continue;
        if (tot[i] >= minv)
            cstart[tree->parent[i] + 1]++;
        else if (tot[tree->parent[i]] >= minv || tree->parent[i] == 0)
            other[tree->parent[i]] += tot[i];
    }
    for (size_t i = 0; i < n; i++)
        cstart[i + 1] += cstart[i];
    uint32_t *cfill = xmalloc((n + 1) * sizeof(*cfill));
    memcpy(cfill, cstart, (n + 1) * sizeof(*cfill));
    uint32_t *clist = xmalloc((cstart[n] + 1) * sizeof(*clist));
    for (size_t i = 1; i < n; i++)
        if (tot[i] > 0 && tot[i] >= minv)
            clist[cfill[tree->parent[i]]++] = (uint32_t)i;
    free(cfill);

    /* names: dedupe by string id; "total" at 0, "other" on demand */
    int32_t *name_idx = xmalloc((strs->n + 1) * sizeof(*name_idx));
    for (size_t i = 0; i < strs->n; i++)
        name_idx[i] = -1;
    int32_t other_idx = -1;
    size_t capnames = 0;
    xgrow(&out->names, &capnames, 1, sizeof(*out->names));
    out->names[out->nnames++] = slice_cstr("total");

    fb_level_t *levels = NULL;
    size_t nlevels = 0, caplevels = 0;
    int64_t max_self = 0;

    typedef struct item { uint32_t node; int64_t x, total, self; uint32_t level; } item_t;
    item_t *stack = NULL;
    size_t sn = 0, scap = 0;
    fb_child_t *kids = NULL;
    size_t kcap = 0;
    xgrow(&stack, &scap, 1, sizeof(*stack));
    stack[sn++] = (item_t){0, 0, tot[0], self[0], 0};
    while (sn > 0) {
        item_t it = stack[--sn];
        uint32_t nidx;
        if (it.level == 0) {
            nidx = 0;
        } else if (it.node == UINT32_MAX) {
            if (other_idx < 0) {
                other_idx = (int32_t)out->nnames;
                xgrow(&out->names, &capnames, out->nnames + 1, sizeof(*out->names));
                out->names[out->nnames++] = slice_cstr("other");
            }
            nidx = (uint32_t)other_idx;
        } else {
            uint32_t sid = tree->name[it.node];
            if (name_idx[sid] < 0) {
                name_idx[sid] = (int32_t)out->nnames;
                xgrow(&out->names, &capnames, out->nnames + 1, sizeof(*out->names));
                out->names[out->nnames++] = slice_make(strtab_get(strs, sid), strtab_len(strs, sid));
            }
            nidx = (uint32_t)name_idx[sid];
        }
        if (it.self > max_self)
            max_self = it.self;
        if (it.level >= nlevels) {
            xgrow(&levels, &caplevels, it.level + 1, sizeof(*levels));
            while (nlevels <= it.level) {
                memset(&levels[nlevels], 0, sizeof(levels[nlevels]));
                nlevels++;
            }
        }
        fb_level_t *lv = &levels[it.level];
        xgrow(&lv->e, &lv->cap, lv->n + 1, sizeof(*lv->e));
        lv->e[lv->n++] = (fb_entry_t){it.x, it.total, it.self, nidx};
        if (it.node == UINT32_MAX)
            continue;
        /* children sorted by name; pushed so the last one pops first */
        size_t nk = cstart[it.node + 1] - cstart[it.node];
        xgrow(&kids, &kcap, nk + 1, sizeof(*kids));
        size_t k = 0;
        for (uint32_t j = cstart[it.node]; j < cstart[it.node + 1]; j++) {
            uint32_t c = clist[j];
            uint32_t sid = tree->name[c];
            kids[k++] = (fb_child_t){strtab_get(strs, sid), (uint32_t)strtab_len(strs, sid),
                                     c, tot[c], self[c]};
        }
        if (other[it.node] > 0)
            kids[k++] = (fb_child_t){"other", 5, UINT32_MAX, other[it.node], other[it.node]};
        qsort(kids, k, sizeof(*kids), cmp_child);
        int64_t x = it.x + it.self;
        xgrow(&stack, &scap, sn + k, sizeof(*stack));
        for (size_t j = 0; j < k; j++) {
            stack[sn++] = (item_t){kids[j].node, x, kids[j].total, kids[j].self, it.level + 1};
            x += kids[j].total;
        }
    }
    /* entries were visited right to left: reverse and delta-encode x */
    out->nlevels = nlevels;
    out->levels = xcalloc(nlevels + 1, sizeof(*out->levels));
    out->nvalues = xcalloc(nlevels + 1, sizeof(*out->nvalues));
    for (size_t l = 0; l < nlevels; l++) {
        fb_level_t *lv = &levels[l];
        int64_t *v = xmalloc((4 * lv->n + 1) * sizeof(*v));
        int64_t prev_end = 0;
        size_t k = 0;
        for (size_t i = lv->n; i > 0; i--) {
            fb_entry_t *e = &lv->e[i - 1];
            v[k++] = e->x - prev_end;
            v[k++] = e->total;
            v[k++] = e->self;
            v[k++] = e->name_idx;
            prev_end = e->x + e->total;
        }
        out->levels[l] = v;
        out->nvalues[l] = k;
    }
    out->total = tot[0];
    out->max_self = max_self;
    for (size_t l = 0; l < nlevels; l++)
        free(levels[l].e);
    free(levels);
    free(stack);
    free(kids);
    free(name_idx);
    free(cstart);
    free(clist);
    free(other);
}

void fg_release(fg_t *fg)
{
    for (size_t l = 0; l < fg->nlevels; l++)
        free(fg->levels[l]);
    free(fg->levels);
    free(fg->nvalues);
    free(fg->names);
    memset(fg, 0, sizeof(*fg));
}

int fg_write_json(buf_t *out, const fg_t *fg)
{
    int rc = buf_puts(out, "\"names\":[");
    for (size_t i = 0; rc == 0 && i < fg->nnames; i++) {
        if (i)
            rc = buf_putc(out, ',');
        if (rc == 0)
            rc = buf_json_str(out, (const char *)fg->names[i].p, fg->names[i].len);
    }
    if (rc == 0)
        rc = buf_puts(out, "],\"levels\":[");
    for (size_t l = 0; rc == 0 && l < fg->nlevels; l++) {
        rc = buf_puts(out, l ? ",[" : "[");
        for (size_t i = 0; rc == 0 && i < fg->nvalues[l]; i++)
            rc = buf_printf(out, i ? ",%lld" : "%lld", (long long)fg->levels[l][i]);
        if (rc == 0)
            rc = buf_putc(out, ']');
    }
    if (rc == 0)
        rc = buf_printf(out, "],\"numTicks\":%lld,\"maxSelf\":%lld", (long long)fg->total,
                        (long long)fg->max_self);
    return rc;
}

