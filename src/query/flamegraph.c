/* Flame graph levels from a merged call tree: see flamegraph.h. One builder serves single
 * graphs and diffs: a diff is the same walk carrying two (x, total, self) columns. */
#include "query/flamegraph.h"

#include <stdlib.h>
#include <string.h>

#include "base/mem.h"

typedef struct fb_child {
    const char *name;
    uint32_t name_len;
    uint32_t node; /* UINT32_MAX = synthetic "other" */
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

static int cmp_i64_desc(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x < y) - (x > y);
}

/* One visited node: per side x, total, self; visited right to left per level. */
typedef struct fb_entry {
    int64_t x[2], total[2], self[2];
    uint32_t name_idx;
} fb_entry_t;

typedef struct fb_level {
    fb_entry_t *e;
    size_t n, cap;
} fb_level_t;

typedef struct item {
    uint32_t node, level;
    int64_t x[2], total[2], self[2];
} item_t;

void fg_build_sides(fg_t *out, const strtab_t *strs, const stacktree_t *tree, int sides,
                    const int64_t *const *self, const int64_t *const *tot, int64_t max_nodes)
{
    memset(out, 0, sizeof(*out));
    out->sides = sides;
    size_t n = tree->n;
    /* a node's weight for the cut is its largest total over the sides */
    int64_t *w = xmalloc((n + 1) * sizeof(*w));
    size_t live = 0;
    for (size_t i = 0; i < n; i++) {
        w[i] = tot[0][i];
        if (sides == 2 && tot[1][i] > w[i])
            w[i] = tot[1][i];
        live += i > 0 && w[i] > 0;
    }
    int64_t minv = 1;
    if (max_nodes > 0 && live > (size_t)max_nodes) {
        int64_t *v = xmalloc(live * sizeof(*v));
        size_t k = 0;
        for (size_t i = 1; i < n; i++)
            if (w[i] > 0)
                v[k++] = w[i];
        qsort(v, k, sizeof(*v), cmp_i64_desc);
        minv = v[max_nodes - 1] < 1 ? 1 : v[max_nodes - 1];
        free(v);
    }
    /* children in CSR form, only kept nodes; other[side][p] collects cut children */
    uint32_t *cstart = xcalloc(n + 1, sizeof(*cstart));
    int64_t *other[2] = {xcalloc(n + 1, sizeof(int64_t)), xcalloc(n + 1, sizeof(int64_t))};
    for (size_t i = 1; i < n; i++) {
        if (w[i] <= 0)
            continue;
        uint32_t p = tree->parent[i];
        if (w[i] >= minv)
            cstart[p + 1]++;
        else if (w[p] >= minv || p == 0)
            for (int sd = 0; sd < sides; sd++)
                other[sd][p] += tot[sd][i];
    }
    for (size_t i = 0; i < n; i++)
        cstart[i + 1] += cstart[i];
    uint32_t *cfill = xmalloc((n + 1) * sizeof(*cfill));
    memcpy(cfill, cstart, (n + 1) * sizeof(*cfill));
    uint32_t *clist = xmalloc((cstart[n] + 1) * sizeof(*clist));
    for (size_t i = 1; i < n; i++)
        if (w[i] > 0 && w[i] >= minv)
            clist[cfill[tree->parent[i]]++] = (uint32_t)i;
    free(cfill);

    /* names: each string once, in visit order; "total" first, "other" on demand */
    int32_t *name_idx = xmalloc((strs->n + 1) * sizeof(*name_idx));
    for (size_t i = 0; i < strs->n; i++)
        name_idx[i] = -1;
    int32_t other_idx = -1;
    size_t capnames = 0;
    xgrow(&out->names, &capnames, 1, sizeof(*out->names));
    out->names[out->nnames++] = slice_cstr("total");

    fb_level_t *levels = NULL;
    size_t nlevels = 0, caplevels = 0;
    item_t *stack = NULL;
    size_t sn = 0, scap = 0;
    fb_child_t *kids = NULL;
    size_t kcap = 0;
    xgrow(&stack, &scap, 1, sizeof(*stack));
    item_t root = {0, 0, {0, 0}, {0, 0}, {0, 0}};
    for (int sd = 0; sd < sides; sd++) {
        root.total[sd] = tot[sd][0];
        root.self[sd] = self[sd][0];
    }
    stack[sn++] = root;
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
                out->names[out->nnames++] =
                    slice_make(strtab_get(strs, sid), strtab_len(strs, sid));
            }
            nidx = (uint32_t)name_idx[sid];
        }
        for (int sd = 0; sd < sides; sd++)
            if (it.self[sd] > out->max_self)
                out->max_self = it.self[sd];
        if (it.level >= nlevels) {
            xgrow(&levels, &caplevels, it.level + 1, sizeof(*levels));
            while (nlevels <= it.level) {
                memset(&levels[nlevels], 0, sizeof(levels[nlevels]));
                nlevels++;
            }
        }
        fb_level_t *lv = &levels[it.level];
        xgrow(&lv->e, &lv->cap, lv->n + 1, sizeof(*lv->e));
        fb_entry_t *e = &lv->e[lv->n++];
        memcpy(e->x, it.x, sizeof(e->x));
        memcpy(e->total, it.total, sizeof(e->total));
        memcpy(e->self, it.self, sizeof(e->self));
        e->name_idx = nidx;
        if (it.node == UINT32_MAX)
            continue;
        /* children sorted by name; pushed so the last one pops first */
        size_t nk = cstart[it.node + 1] - cstart[it.node];
        xgrow(&kids, &kcap, nk + 2, sizeof(*kids));
        size_t k = 0;
        for (uint32_t j = cstart[it.node]; j < cstart[it.node + 1]; j++) {
            uint32_t c = clist[j], sid = tree->name[c];
            kids[k++] = (fb_child_t){strtab_get(strs, sid), (uint32_t)strtab_len(strs, sid), c};
        }
        if (other[0][it.node] > 0 || other[1][it.node] > 0)
            kids[k++] = (fb_child_t){"other", 5, UINT32_MAX};
        qsort(kids, k, sizeof(*kids), cmp_child);
        int64_t x[2] = {it.x[0] + it.self[0], it.x[1] + it.self[1]};
        xgrow(&stack, &scap, sn + k, sizeof(*stack));
        for (size_t j = 0; j < k; j++) {
            item_t c = {kids[j].node, it.level + 1, {0, 0}, {0, 0}, {0, 0}};
            for (int sd = 0; sd < sides; sd++) {
                c.x[sd] = x[sd];
                if (kids[j].node == UINT32_MAX) {
                    c.total[sd] = c.self[sd] = other[sd][it.node];
                } else {
                    c.total[sd] = tot[sd][kids[j].node];
                    c.self[sd] = self[sd][kids[j].node];
                }
                x[sd] += c.total[sd];
            }
            stack[sn++] = c;
        }
    }
    /* entries were visited right to left: reverse and delta-encode x per side */
    size_t per = (size_t)(3 * sides + 1);
    out->nlevels = nlevels;
    out->levels = xcalloc(nlevels + 1, sizeof(*out->levels));
    out->nvalues = xcalloc(nlevels + 1, sizeof(*out->nvalues));
    for (size_t l = 0; l < nlevels; l++) {
        fb_level_t *lv = &levels[l];
        int64_t *v = xmalloc((per * lv->n + 1) * sizeof(*v));
        int64_t prev_end[2] = {0, 0};
        size_t k = 0;
        for (size_t i = lv->n; i > 0; i--) {
            fb_entry_t *e = &lv->e[i - 1];
            for (int sd = 0; sd < sides; sd++) {
                v[k++] = e->x[sd] - prev_end[sd];
                v[k++] = e->total[sd];
                v[k++] = e->self[sd];
                prev_end[sd] = e->x[sd] + e->total[sd];
            }
            v[k++] = e->name_idx;
        }
        out->levels[l] = v;
        out->nvalues[l] = k;
        free(lv->e);
    }
    out->ticks[0] = tot[0][0];
    out->ticks[1] = sides == 2 ? tot[1][0] : 0;
    out->total = out->ticks[0] + out->ticks[1];
    free(levels);
    free(stack);
    free(kids);
    free(name_idx);
    free(cstart);
    free(clist);
    free(other[0]);
    free(other[1]);
    free(w);
}

void fg_build(fg_t *out, const strtab_t *strs, const stacktree_t *tree, const int64_t *self,
              const int64_t *tot, int64_t max_nodes)
{
    const int64_t *s[1] = {self}, *t[1] = {tot};
    fg_build_sides(out, strs, tree, 1, s, t, max_nodes);
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
