/* Read path: select series, accumulate values per stack node, render flamebearer JSON with
 * a timeline, and answer label queries (PROTOCOLS.md §3).
 *
 * Merge is array indexing: self[node] += value over the profiles in range, then one reverse
 * pass over node ids (parents precede children) turns self into totals. */
#include "query/query.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/mem.h"
#include "model/ptype.h"
#include "query/flamegraph.h"

/* Legacy suffix → (__name__, __type__) for queries; cpu/wall assume a positive sample rate
 * as the seed's SDKs send. */
int query_selector(selector_t *sel, const char *query, err_t *err)
{
    int rc = selector_parse(sel, query, strlen(query), err);
    if (rc)
        return rc;
    const char *metric = sel->metric;
    if (!metric || !*metric) {
        /* {__name__="<profile type id>", ...} is the same query in Prometheus syntax */
        for (size_t i = 0; i < sel->n; i++) {
            matcher_t *m = &sel->m[i];
            if (m->op == MATCH_EQ && !strcmp(m->name, PTYPE_L_NAME) && strchr(m->value, ':')) {
                free(sel->metric);
                sel->metric = xstrdup(m->value);
                free(m->name);
                m->name = xstrdup(PTYPE_L_ID);
                metric = sel->metric;
                break;
            }
        }
    }
    if (metric && *metric && sel->n && !strcmp(sel->m[sel->n - 1].name, PTYPE_L_ID) &&
        !strcmp(sel->m[sel->n - 1].value, metric)) {
        return 0; /* rewritten from __name__ above: already matches the type */
    }
    if (!metric || !*metric) {
        selector_release(sel);
        return err_set(err, EMB_EINVAL, "query \"%s\" names no profile type: want "
                       "<name>:<type>:<unit>:<period_type>:<period_unit>{...} or app.cpu{...}",
                       query);
    }
    if (strchr(metric, ':')) {
        ptype_t pt;
        char *tmp = xmalloc(strlen(metric) + 1);
        rc = ptype_parse(&pt, tmp, metric, err);
        free(tmp);
        if (rc == 0)
            rc = selector_add(sel, PTYPE_L_ID, MATCH_EQ, metric, err);
    } else {
        ptype_legacy_t lt;
        size_t app_len;
        rc = ptype_from_legacy(&lt, &app_len, metric, true, err);
        if (rc == 0 && app_len == 0)
            rc = err_set(err, EMB_EINVAL, "empty application name in query \"%s\"", query);
        if (rc == 0) {
            char *app = xstrndup(metric, app_len);
            rc = selector_add(sel, PTYPE_L_SERVICE, MATCH_EQ, app, err);
            free(app);
        }
        if (rc == 0)
            rc = selector_add(sel, PTYPE_L_NAME, MATCH_EQ, lt.type.name, err);
        if (rc == 0)
            rc = selector_add(sel, PTYPE_L_TYPE, MATCH_EQ, lt.type.sample_type, err);
    }
    if (rc)
        selector_release(sel);
    return rc;
}

int64_t query_timeline_step(int64_t from_ns, int64_t until_ns)
{
    static const int64_t steps[] = {1, 2, 5, 10, 15, 20, 30, 60, 120, 300, 600, 900, 1200,
                                    1800, 3600, 7200, 10800, 21600, 43200, 86400, 604800,
                                    2592000, 31536000};
    int64_t range = (until_ns - from_ns) / NS_PER_S;
    double raw = (double)range / 1500.0;
    int64_t step = steps[sizeof(steps) / sizeof(steps[0]) - 1];
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
        if ((double)steps[i] >= raw) {
            step = steps[i];
            break;
        }
    return step < 15 ? 15 : step;
}

/* ---- timeline ---- */

typedef struct timeline {
    int64_t start_s, step_s;
    size_t n;
    int64_t *sum;
    int64_t *cnt;
} timeline_t;

static void timeline_init(timeline_t *tl, int64_t from_ns, int64_t until_ns)
{
    tl->step_s = query_timeline_step(from_ns, until_ns);
    int64_t from_s = from_ns / NS_PER_S, until_s = until_ns / NS_PER_S;
    tl->start_s = from_s - (from_s % tl->step_s + tl->step_s) % tl->step_s;
    int64_t span = until_s - tl->start_s;
    tl->n = (size_t)(span / tl->step_s) + 1;
    if (tl->n > 100000)
        tl->n = 100000;
    tl->sum = xcalloc(tl->n, sizeof(*tl->sum));
    tl->cnt = xcalloc(tl->n, sizeof(*tl->cnt));
}

static void timeline_add(timeline_t *tl, int64_t ts_ns, int64_t v)
{
    if (tl->n == 0)
        return; /* no timeline wanted */
    /* A profile at t belongs to the first bucket edge >= t (PROTOCOLS.md §3.5). */
    int64_t d = ts_ns - tl->start_s * NS_PER_S;
    if (d < 0)
        return;
    int64_t step_ns = tl->step_s * NS_PER_S;
    size_t i = (size_t)((d + step_ns - 1) / step_ns);
    if (i >= tl->n)
        return;
    tl->sum[i] += v;
    tl->cnt[i]++;
}

static int timeline_write(buf_t *out, const timeline_t *tl, bool avg)
{
    int rc = buf_printf(out, "{\"startTime\":%lld,\"samples\":[", (long long)tl->start_s);
    for (size_t i = 0; rc == 0 && i < tl->n; i++) {
        int64_t v = tl->sum[i];
        if (avg && tl->cnt[i])
            v /= tl->cnt[i];
        if (v < 0)
            v = 0;
        rc = buf_printf(out, i ? ",%lld" : "%lld", (long long)v);
    }
    if (rc == 0)
        rc = buf_printf(out, "],\"durationDelta\":%lld,\"watermarks\":null}",
                        (long long)tl->step_s);
    return rc;
}

static void timeline_release(timeline_t *tl)
{
    free(tl->sum);
    free(tl->cnt);
}

/* ---- render ---- */

/* ---- merging sources (heads and blocks) into one tree keyed by frame names ---- */

typedef struct merged {
    strtab_t strs;
    stacktree_t tree;
    int64_t *self;
    size_t cap;
} merged_t;

static void merged_init(merged_t *m)
{
    strtab_init(&m->strs);
    stacktree_init(&m->tree);
    m->self = xcalloc(64, sizeof(*m->self));
    m->cap = 64;
}

static void merged_release(merged_t *m)
{
    strtab_release(&m->strs);
    stacktree_release(&m->tree);
    free(m->self);
}

typedef const char *(*name_fn)(const void *src, uint32_t id, size_t *len);

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static const char *head_name(const void *src, uint32_t id, size_t *len)
{
    const strtab_t *t = src;
    *len = strtab_len(t, id);
    return strtab_get(t, id);
}

static const char *block_name(const void *src, uint32_t id, size_t *len)
{
    return block_sym(src, id, len);
}

/* Adds a source's per-node self values (its own node ids) into m, mapping each live node
 * by its path of names. Cost: one pass over the source's nodes. */
static void merged_add(merged_t *m, const uint32_t *parent, const uint32_t *name, size_t n,
                       uint32_t nnames, const int64_t *self, name_fn fn, const void *src)
{
    uint8_t *live = xcalloc(n + 1, 1);
    for (size_t i = n; i-- > 1;)
        if (self[i] != 0 || live[i]) {
            live[i] = 1;
            live[parent[i]] = 1;
        }
    uint32_t *map = xmalloc((n + 1) * sizeof(*map));
    uint32_t *smap = xmalloc((nnames + 1) * sizeof(*smap));
    memset(smap, 0xff, (nnames + 1) * sizeof(*smap));
    map[0] = 0;
    m->self[0] += self[0];
    for (size_t i = 1; i < n; i++) {
        if (!live[i])
            continue;
        uint32_t nm = name[i];
        if (smap[nm] == UINT32_MAX) {
            size_t len;
            const char *str = fn(src, nm, &len);
            smap[nm] = strtab_intern(&m->strs, str, len);
        }
        map[i] = stacktree_child(&m->tree, map[parent[i]], smap[nm]);
        if (m->tree.n > m->cap) {
            size_t old = m->cap;
            xgrow(&m->self, &m->cap, m->tree.n, sizeof(*m->self));
            memset(m->self + old, 0, (m->cap - old) * sizeof(*m->self));
        }
        m->self[map[i]] += self[i];
    }
    free(live);
    free(map);
    free(smap);
}

/* ---- render ---- */

typedef struct group {
    char *value;
    timeline_t tl;
} group_t;

typedef struct render_ctx {
    const query_render_t *q;
    selector_t sel;
    timeline_t tl;
    group_t *groups;
    size_t ngroups, capgroups;
    char *sample_type, *sample_unit, *spy;
    char *period_type, *period_unit;
    const uint64_t *spans; /* span selection: sorted ids, or NULL for all samples */
    size_t nspans;
} render_ctx_t;

static bool head_series_in_range(const head_series_t *s, int64_t from, int64_t until)
{
    return s->nprofs && s->max_ts >= from && s->min_ts <= until;
}

/* The group timeline for a series (NULL without groupBy); notes metadata on first match. */
static timeline_t *series_group(render_ctx_t *c, const labels_t *l)
{
    if (!c->sample_type) {
        c->sample_type = xstrdup(labels_get(l, PTYPE_L_TYPE) ?: "");
        c->sample_unit = xstrdup(labels_get(l, PTYPE_L_UNIT) ?: "");
        c->spy = xstrdup(labels_get(l, PTYPE_L_SPY) ?: "");
        c->period_type = xstrdup(labels_get(l, PTYPE_L_PTYPE) ?: "");
        c->period_unit = xstrdup(labels_get(l, PTYPE_L_PUNIT) ?: "");
    }
    if (!c->q->group_by || !*c->q->group_by)
        return NULL;
    const char *gv = labels_get(l, c->q->group_by);
    if (!gv)
        gv = "*";
    size_t g;
    for (g = 0; g < c->ngroups; g++)
        if (!strcmp(c->groups[g].value, gv))
            return &c->groups[g].tl;
    xgrow(&c->groups, &c->capgroups, c->ngroups + 1, sizeof(*c->groups));
    c->groups[g].value = xstrdup(gv);
    timeline_init(&c->groups[g].tl, c->q->from_ns, c->q->until_ns);
    c->ngroups++;
    return &c->groups[g].tl;
}

static void render_head(render_ctx_t *c, merged_t *m, head_t *h, const char *tenant)
{
    head_tenant_t *t = head_tenant(h, tenant, false);
    if (!t)
        return;
    const query_render_t *q = c->q;
    head_tenant_rdlock(t);
    int64_t *self = xcalloc(t->tree.n + 1, sizeof(*self));
    for (size_t i = 0; i < t->nseries; i++) {
        const head_series_t *s = &t->series[i];
        if (!head_series_in_range(s, q->from_ns, q->until_ns) ||
            !selector_match(&c->sel, &s->labels))
            continue;
        timeline_t *gtl = series_group(c, &s->labels);
        for (size_t p = 0; p < s->nprofs; p++) {
            const head_profile_t *hp = &s->profs[p];
            if (hp->ts_ns < q->from_ns || hp->ts_ns > q->until_ns)
                continue;
            if (c->spans) {
                const span_sample_t *sp = head_profile_spans(hp);
                for (uint32_t k = 0; k < hp->nspans; k++)
                    if (bsearch(&sp[k].span, c->spans, c->nspans, sizeof(*c->spans), cmp_u64))
                        self[sp[k].node] += sp[k].value;
                continue;
            }
            int64_t sum = 0;
            const node_id_t *nodes = head_profile_nodes(hp);
            for (uint32_t k = 0; k < hp->n; k++) {
                self[nodes[k]] += hp->value[k];
                sum += hp->value[k];
            }
            timeline_add(&c->tl, hp->ts_ns, sum);
            if (gtl)
                timeline_add(gtl, hp->ts_ns, sum);
        }
    }
    merged_add(m, t->tree.parent, t->tree.name, t->tree.n, (uint32_t)t->strs.n, self, head_name,
               &t->strs);
    head_tenant_unlock(t);
    free(self);
}

typedef struct point_ctx {
    timeline_t *tl, *gtl;
} point_ctx_t;

static void add_point(int64_t ts, int64_t total, void *arg)
{
    point_ctx_t *p = arg;
    timeline_add(p->tl, ts, total);
    if (p->gtl)
        timeline_add(p->gtl, ts, total);
}

static int render_block(render_ctx_t *c, merged_t *m, const block_t *b, err_t *err)
{
    const query_render_t *q = c->q;
    int64_t *self = NULL;
    int rc = 0;
    for (uint32_t si = 0; rc == 0 && si < b->nseries; si++) {
        const block_series_t *s = &b->series[si];
        if (s->max_ts < q->from_ns || s->min_ts > q->until_ns ||
            !selector_match(&c->sel, &s->labels))
            continue;
        if (!self)
            self = xcalloc(b->nnodes + 1, sizeof(*self));
        if (c->spans) {
            series_group(c, &s->labels);
            rc = block_series_spans(b, si, q->from_ns, q->until_ns, c->spans, c->nspans, self,
                                    err);
            continue;
        }
        point_ctx_t pc = {&c->tl, series_group(c, &s->labels)};
        /* averages are per profile: a rollup bucket would count as one */
        rc = block_series_accumulate(b, si, q->from_ns, q->until_ns, self,
                                     q->avg ? 0 : c->tl.step_s * NS_PER_S,
                                     c->tl.start_s * NS_PER_S, c->tl.n ? add_point : NULL, &pc,
                                     err);
    }
    if (self && rc == 0)
        merged_add(m, b->parent, b->name, b->nnodes, b->nsyms, self, block_name, b);
    free(self);
    return rc;
}

/* Every head and block of tenant overlapping the query's range, merged into m (and c's
 * timelines when initialised). */
static int merge_sources(render_ctx_t *c, merged_t *m, store_t *st, const char *tenant,
                         err_t *err)
{
    store_snapshot_t snap;
    store_snapshot_get(st, tenant, c->q->from_ns, c->q->until_ns, &snap);
    int rc = 0;
    for (size_t i = 0; i < snap.nheads; i++)
        render_head(c, m, snap.heads[i], tenant);
    for (size_t i = 0; rc == 0 && i < snap.nblocks; i++)
        rc = render_block(c, m, snap.blocks[i], err);
    store_snapshot_put(&snap);
    return rc;
}

int query_render_json(buf_t *out, store_t *st, const char *tenant, const query_render_t *q,
                      const query_limits_t *lim, err_t *err)
{
    render_ctx_t c;
    memset(&c, 0, sizeof(c));
    c.q = q;
    int rc = query_selector(&c.sel, q->query, err);
    if (rc)
        return rc;
    /* the limit bounds what a query asks for, not the default (Pyroscope's ValidateMaxNodes) */
    int64_t max_nodes = q->max_nodes > 0 ? q->max_nodes : lim->max_nodes_default;
    if (q->max_nodes > 0 && lim->max_nodes_max > 0 && max_nodes > lim->max_nodes_max) {
        selector_release(&c.sel);
        return err_set(err, EMB_EINVAL, "max nodes %lld exceeds the limit of %lld",
                       (long long)max_nodes, (long long)lim->max_nodes_max);
    }
    if (q->from_ns > q->until_ns) {
        selector_release(&c.sel);
        return err_set(err, EMB_EINVAL, "from is after until");
    }
    timeline_init(&c.tl, q->from_ns, q->until_ns);
    merged_t m;
    merged_init(&m);
    rc = merge_sources(&c, &m, st, tenant, err);

    if (rc == 0 && !c.sample_type) {
        /* no data: derive the metadata from the query itself */
        const char *mt = c.sel.metric;
        ptype_t pt;
        char *tmp = xmalloc(strlen(mt) + 1);
        if (strchr(mt, ':') && ptype_parse(&pt, tmp, mt, NULL) == 0) {
            c.sample_type = xstrdup(pt.sample_type);
            c.sample_unit = xstrdup(pt.sample_unit);
        } else {
            ptype_legacy_t lt;
            size_t al;
            if (ptype_from_legacy(&lt, &al, mt, true, NULL) == 0) {
                c.sample_type = xstrdup(lt.type.sample_type);
                c.sample_unit = xstrdup(lt.type.sample_unit);
            }
        }
        free(tmp);
        if (!c.sample_type) {
            c.sample_type = xstrdup("");
            c.sample_unit = xstrdup("");
        }
    }
    if (rc == 0) {
        const char *units;
        long rate;
        ptype_render_meta(c.sample_type, c.sample_unit, &units, &rate);
        int64_t *tot = xmalloc((m.tree.n + 1) * sizeof(*tot));
        memcpy(tot, m.self, m.tree.n * sizeof(*tot));
        for (size_t i = m.tree.n - 1; i > 0; i--)
            tot[m.tree.parent[i]] += tot[i];
        fg_t fg;
        fg_build(&fg, &m.strs, &m.tree, m.self, tot, max_nodes);
        free(tot);
        rc = buf_puts(out, "{\"version\":1,\"flamebearer\":{");
        if (rc == 0)
            rc = fg_write_json(out, &fg);
        fg_release(&fg);
        if (rc == 0)
            rc = buf_puts(out, "},\"metadata\":{\"format\":\"single\",\"spyName\":");
        if (rc == 0)
            rc = buf_json_str(out, c.spy ? c.spy : "", c.spy ? strlen(c.spy) : 0);
        if (rc == 0)
            rc = buf_printf(out, ",\"sampleRate\":%ld,\"units\":", rate);
        if (rc == 0)
            rc = buf_json_str(out, units, strlen(units));
        if (rc == 0)
            rc = buf_puts(out, ",\"name\":");
        if (rc == 0)
            rc = buf_json_str(out, c.sample_type, strlen(c.sample_type));
        if (rc == 0)
            rc = buf_puts(out, "},\"timeline\":");
        if (rc == 0)
            rc = timeline_write(out, &c.tl, q->avg);
        if (rc == 0)
            rc = buf_puts(out, ",\"groups\":");
        if (rc == 0 && c.ngroups == 0)
            rc = buf_puts(out, "null");
        for (size_t g = 0; rc == 0 && g < c.ngroups; g++) {
            rc = buf_puts(out, g ? "," : "{");
            if (rc == 0)
                rc = buf_json_str(out, c.groups[g].value, strlen(c.groups[g].value));
            if (rc == 0)
                rc = buf_putc(out, ':');
            if (rc == 0)
                rc = timeline_write(out, &c.groups[g].tl, q->avg);
        }
        if (rc == 0 && c.ngroups)
            rc = buf_putc(out, '}');
        if (rc == 0)
            rc = buf_puts(out, ",\"heatmap\":null}");
        if (rc)
            err_set(err, rc, "response exceeds the size limit");
    }
    for (size_t g = 0; g < c.ngroups; g++) {
        free(c.groups[g].value);
        timeline_release(&c.groups[g].tl);
    }
    free(c.groups);
    timeline_release(&c.tl);
    merged_release(&m);
    free(c.sample_type);
    free(c.sample_unit);
    free(c.spy);
    free(c.period_type);
    free(c.period_unit);
    selector_release(&c.sel);
    return rc;
}

static int merge_tree(query_tree_t *out, store_t *st, const char *tenant, const selector_t *sel,
                      int64_t from_ns, int64_t until_ns, const uint64_t *spans, size_t nspans,
                      err_t *err)
{
    memset(out, 0, sizeof(*out));
    query_render_t q = {.from_ns = from_ns, .until_ns = until_ns};
    render_ctx_t c;
    memset(&c, 0, sizeof(c));
    c.q = &q;
    c.sel = *sel; /* borrowed: not released here */
    c.spans = spans;
    c.nspans = nspans;
    merged_t m;
    merged_init(&m);
    int rc = merge_sources(&c, &m, st, tenant, err);
    out->strs = m.strs;
    out->tree = m.tree;
    out->self = m.self;
    out->tot = xmalloc((m.tree.n + 1) * sizeof(*out->tot));
    memcpy(out->tot, m.self, m.tree.n * sizeof(*out->tot));
    for (size_t i = m.tree.n - 1; i > 0; i--)
        out->tot[m.tree.parent[i]] += out->tot[i];
    out->sample_type = c.sample_type;
    out->sample_unit = c.sample_unit;
    out->spy = c.spy;
    out->period_type = c.period_type;
    out->period_unit = c.period_unit;
    return rc;
}

int query_merge_tree(query_tree_t *out, store_t *st, const char *tenant, const selector_t *sel,
                     int64_t from_ns, int64_t until_ns, err_t *err)
{
    return merge_tree(out, st, tenant, sel, from_ns, until_ns, NULL, 0, err);
}

int query_merge_spans(query_tree_t *out, store_t *st, const char *tenant, const selector_t *sel,
                      int64_t from_ns, int64_t until_ns, uint64_t *spans, size_t nspans,
                      err_t *err)
{
    qsort(spans, nspans, sizeof(*spans), cmp_u64);
    /* an empty selection selects nothing (not everything) */
    static const uint64_t none = 0;
    return merge_tree(out, st, tenant, sel, from_ns, until_ns, nspans ? spans : &none,
                      nspans ? nspans : 1, err);
}

void query_tree_release(query_tree_t *t)
{
    strtab_release(&t->strs);
    stacktree_release(&t->tree);
    free(t->self);
    free(t->tot);
    free(t->sample_type);
    free(t->sample_unit);
    free(t->spy);
    free(t->period_type);
    free(t->period_unit);
    memset(t, 0, sizeof(*t));
}

/* ---- SelectSeries ---- */

typedef struct sgroup {
    labels_t labels;
    buf_t key;
    double *sum;
    int64_t *cnt;
} sgroup_t;

typedef struct sel_ctx {
    int64_t from, until, step;
    size_t nsteps;
    const char *const *group_by;
    size_t ngroup;
    sgroup_t *g;
    size_t ng, capg;
} sel_ctx_t;

static sgroup_t *sel_group(sel_ctx_t *c, const labels_t *l)
{
    buf_t key = BUF_INIT;
    for (size_t i = 0; i < c->ngroup; i++) {
        const char *v = labels_get(l, c->group_by[i]);
        if (buf_puts(&key, v ? v : "") || buf_putc(&key, '\xff')) {
            /* unbounded: cannot fail */
        }
    }
    for (size_t i = 0; i < c->ng; i++)
        if (c->g[i].key.len == key.len && (key.len == 0 || !memcmp(c->g[i].key.data, key.data, key.len))) {
            buf_release(&key);
            return &c->g[i];
        }
    xgrow(&c->g, &c->capg, c->ng + 1, sizeof(*c->g));
    sgroup_t *g = &c->g[c->ng++];
    labels_init(&g->labels);
    for (size_t i = 0; i < c->ngroup; i++) {
        const char *v = labels_get(l, c->group_by[i]);
        if (v)
            labels_set_cstr(&g->labels, c->group_by[i], v);
    }
    labels_sort(&g->labels);
    g->key = key;
    g->sum = xcalloc(c->nsteps, sizeof(*g->sum));
    g->cnt = xcalloc(c->nsteps, sizeof(*g->cnt));
    return g;
}

typedef struct sel_point {
    sel_ctx_t *c;
    sgroup_t *g;
} sel_point_t;

static void sel_add(int64_t ts, int64_t total, void *arg)
{
    sel_point_t *p = arg;
    sel_ctx_t *c = p->c;
    if (ts < c->from || ts > c->until)
        return;
    size_t k = (size_t)((ts - c->from + c->step - 1) / c->step);
    if (k >= c->nsteps)
        return;
    p->g->sum[k] += (double)total;
    p->g->cnt[k]++;
}

static int cmp_series_total(const void *a, const void *b)
{
    double x = ((const query_series_t *)a)->total, y = ((const query_series_t *)b)->total;
    return (x < y) - (x > y);
}

int query_select_series(query_series_set_t *out, store_t *st, const char *tenant,
                        const selector_t *sel, int64_t from_ns, int64_t until_ns,
                        int64_t step_ns, const char *const *group_by, size_t ngroup, bool avg,
                        int64_t limit, err_t *err)
{
    memset(out, 0, sizeof(*out));
    if (step_ns <= 0)
        return err_set(err, EMB_EINVAL, "step must be positive");
    if (until_ns < from_ns)
        return err_set(err, EMB_EINVAL, "start is after end");
    uint64_t nsteps = (uint64_t)(until_ns - from_ns) / (uint64_t)step_ns + 2;
    if (nsteps > 1000000)
        return err_set(err, EMB_EINVAL, "too many points: %llu steps (raise the step)",
                       (unsigned long long)nsteps);
    sel_ctx_t c = {from_ns, until_ns, step_ns, (size_t)nsteps, group_by, ngroup, NULL, 0, 0};
    store_snapshot_t snap;
    store_snapshot_get(st, tenant, from_ns, until_ns, &snap);
    int rc = 0;
    for (size_t h = 0; h < snap.nheads; h++) {
        head_tenant_t *t = head_tenant(snap.heads[h], tenant, false);
        if (!t)
            continue;
        head_tenant_rdlock(t);
        for (size_t i = 0; i < t->nseries; i++) {
            const head_series_t *s = &t->series[i];
            if (!head_series_in_range(s, from_ns, until_ns) || !selector_match(sel, &s->labels))
                continue;
            sel_point_t p = {&c, sel_group(&c, &s->labels)};
            for (size_t k = 0; k < s->nprofs; k++) {
                int64_t sum = 0;
                for (uint32_t j = 0; j < s->profs[k].n; j++)
                    sum += s->profs[k].value[j];
                sel_add(s->profs[k].ts_ns, sum, &p);
            }
        }
        head_tenant_unlock(t);
    }
    for (size_t bi = 0; rc == 0 && bi < snap.nblocks; bi++) {
        const block_t *b = snap.blocks[bi];
        for (uint32_t si = 0; rc == 0 && si < b->nseries; si++) {
            const block_series_t *s = &b->series[si];
            if (s->max_ts < from_ns || s->min_ts > until_ns || !selector_match(sel, &s->labels))
                continue;
            sel_point_t p = {&c, sel_group(&c, &s->labels)};
            rc = block_series_accumulate(b, si, from_ns, until_ns, NULL, avg ? 0 : step_ns,
                                         from_ns, sel_add, &p, err);
        }
    }
    store_snapshot_put(&snap);
    out->v = xcalloc(c.ng + 1, sizeof(*out->v));
    for (size_t i = 0; i < c.ng; i++) {
        sgroup_t *g = &c.g[i];
        query_series_t *qs = &out->v[out->n++];
        qs->labels = g->labels;
        qs->pts = xmalloc((c.nsteps + 1) * sizeof(*qs->pts));
        for (size_t k = 0; k < c.nsteps; k++) {
            if (!g->cnt[k])
                continue;
            double v = avg ? g->sum[k] / (double)g->cnt[k] : g->sum[k];
            qs->pts[qs->npts++] = (query_point_t){(from_ns + (int64_t)k * step_ns) / NS_PER_MS, v};
            qs->total += g->sum[k];
        }
        buf_release(&g->key);
        free(g->sum);
        free(g->cnt);
    }
    free(c.g);
    if (limit > 0 && out->n > (size_t)limit) {
        qsort(out->v, out->n, sizeof(*out->v), cmp_series_total);
        for (size_t i = (size_t)limit; i < out->n; i++) {
            labels_release(&out->v[i].labels);
            free(out->v[i].pts);
        }
        out->n = (size_t)limit;
    }
    return rc;
}

void query_series_set_release(query_series_set_t *set)
{
    for (size_t i = 0; i < set->n; i++) {
        labels_release(&set->v[i].labels);
        free(set->v[i].pts);
    }
    free(set->v);
    memset(set, 0, sizeof(*set));
}

void query_tree_align(query_tree_t *left, const query_tree_t *right, int64_t **right_self,
                      int64_t **right_tot)
{
    merged_t m = {left->strs, left->tree, left->self, left->tree.n};
    /* merged_add grows m.self with zeros for new nodes; feed it a zero array for right's
     * values and record where right's nodes land */
    size_t n = right->tree.n;
    uint32_t *map = xmalloc((n + 1) * sizeof(*map));
    map[0] = 0;
    for (size_t i = 1; i < n; i++) {
        size_t len;
        const char *str = head_name(&right->strs, right->tree.name[i], &len);
        uint32_t sid = strtab_intern(&m.strs, str, len);
        map[i] = stacktree_child(&m.tree, map[right->tree.parent[i]], sid);
    }
    size_t total = m.tree.n;
    m.self = xrealloc(m.self, (total + 1) * sizeof(*m.self));
    for (size_t i = left->tree.n; i < total; i++)
        m.self[i] = 0;
    int64_t *rs = xcalloc(total + 1, sizeof(*rs));
    for (size_t i = 0; i < n; i++)
        rs[map[i]] += right->self[i];
    int64_t *rt = xmalloc((total + 1) * sizeof(*rt));
    memcpy(rt, rs, total * sizeof(*rt));
    int64_t *lt = xrealloc(left->tot, (total + 1) * sizeof(*lt));
    memcpy(lt, m.self, total * sizeof(*lt));
    for (size_t i = total - 1; i > 0; i--) {
        rt[m.tree.parent[i]] += rt[i];
        lt[m.tree.parent[i]] += lt[i];
    }
    free(map);
    left->strs = m.strs;
    left->tree = m.tree;
    left->self = m.self;
    left->tot = lt;
    *right_self = rs;
    *right_tot = rt;
}

/* Both sides' selectors for a diff; the profile types must match (shares or trees of
 * different types are not comparable). OUT: ls, rs (release both on success only). */
static int diff_selectors(selector_t *ls, selector_t *rs, const char *left, const char *right,
                          err_t *err)
{
    int rc = query_selector(ls, left, err);
    if (rc)
        return err_prefix(err, "leftQuery");
    rc = query_selector(rs, right, err);
    if (rc) {
        selector_release(ls);
        return err_prefix(err, "rightQuery");
    }
    /* query_selector appends the type matchers last */
    const matcher_t *lm = &ls->m[ls->n - 1], *rm = &rs->m[rs->n - 1];
    if (strcmp(lm->name, rm->name) || strcmp(lm->value, rm->value)) {
        selector_release(ls);
        selector_release(rs);
        return err_set(err, EMB_EINVAL, "left and right queries must select the same profile "
                                        "type");
    }
    return 0;
}

/* Merges both sides and aligns right onto left's tree (query_tree_align). OUT: lt, rt
 * (release both whatever the result), *r_self, *r_tot (owned, set on success). */
static int diff_merge(query_tree_t *lt, query_tree_t *rt, int64_t **r_self, int64_t **r_tot,
                      store_t *st, const char *tenant, const selector_t *ls,
                      const selector_t *rs, const query_render_t *l, const query_render_t *r,
                      err_t *err)
{
    memset(rt, 0, sizeof(*rt));
    int rc = query_merge_tree(lt, st, tenant, ls, l->from_ns, l->until_ns, err);
    if (rc == 0)
        rc = query_merge_tree(rt, st, tenant, rs, r->from_ns, r->until_ns, err);
    if (rc == 0)
        query_tree_align(lt, rt, r_self, r_tot);
    return rc;
}

int query_render_diff_json(buf_t *out, store_t *st, const char *tenant, const query_render_t *l,
                           const query_render_t *r, const query_limits_t *lim, err_t *err)
{
    selector_t ls, rs;
    int rc = diff_selectors(&ls, &rs, l->query, r->query, err);
    if (rc)
        return rc;
    /* the limit bounds what a query asks for, not the default (Pyroscope's ValidateMaxNodes) */
    int64_t max_nodes = l->max_nodes > 0 ? l->max_nodes : lim->max_nodes_default;
    if (l->max_nodes > 0 && lim->max_nodes_max > 0 && max_nodes > lim->max_nodes_max) {
        selector_release(&ls);
        selector_release(&rs);
        return err_set(err, EMB_EINVAL, "max nodes %lld exceeds the limit of %lld",
                       (long long)max_nodes, (long long)lim->max_nodes_max);
    }
    query_tree_t lt, rt;
    int64_t *r_self = NULL, *r_tot = NULL;
    rc = diff_merge(&lt, &rt, &r_self, &r_tot, st, tenant, &ls, &rs, l, r, err);
    if (rc == 0) {
        const int64_t *selfs[2] = {lt.self, r_self}, *tots[2] = {lt.tot, r_tot};
        fg_t fg;
        fg_build_sides(&fg, &lt.strs, &lt.tree, 2, selfs, tots, max_nodes);
        const char *st_name = lt.sample_type ? lt.sample_type : rt.sample_type;
        const char *su_name = lt.sample_unit ? lt.sample_unit : rt.sample_unit;
        const char *units = "";
        long rate = 100;
        if (st_name)
            ptype_render_meta(st_name, su_name ? su_name : "", &units, &rate);
        rc = buf_puts(out, "{\"version\":1,\"flamebearer\":{");
        if (rc == 0)
            rc = fg_write_json(out, &fg);
        if (rc == 0)
            rc = buf_printf(out, "},\"metadata\":{\"format\":\"double\",\"spyName\":\"\","
                            "\"sampleRate\":%ld,\"units\":", rate);
        if (rc == 0)
            rc = buf_json_str(out, units, strlen(units));
        if (rc == 0)
            rc = buf_puts(out, ",\"name\":");
        if (rc == 0)
            rc = buf_json_str(out, st_name ? st_name : "", st_name ? strlen(st_name) : 0);
        if (rc == 0)
            rc = buf_printf(out, "},\"timeline\":null,\"groups\":null,\"heatmap\":null,"
                            "\"leftTicks\":%lld,\"rightTicks\":%lld}",
                            (long long)fg.ticks[0], (long long)fg.ticks[1]);
        if (rc)
            err_set(err, rc, "response exceeds the size limit");
        fg_release(&fg);
        free(r_self);
        free(r_tot);
    }
    query_tree_release(&lt);
    query_tree_release(&rt);
    selector_release(&ls);
    selector_release(&rs);
    return rc;
}

typedef struct fn_change {
    uint32_t name;
    int64_t self[2], total[2];
    double self_share[2], total_share[2], score;
} fn_change_t;

static int cmp_change(const void *a, const void *b)
{
    double x = ((const fn_change_t *)a)->score, y = ((const fn_change_t *)b)->score;
    return (x < y) - (x > y);
}

/* true if an ancestor of node i carries the same name (recursion) */
static bool name_above(const stacktree_t *t, uint32_t i)
{
    uint32_t nm = t->name[i];
    for (uint32_t p = t->parent[i]; p != 0; p = t->parent[p])
        if (t->name[p] == nm)
            return true;
    return false;
}

int query_diff_top_json(buf_t *out, store_t *st, const char *tenant, const query_render_t *l,
                        const query_render_t *r, size_t limit, err_t *err)
{
    selector_t ls, rs;
    int rc = diff_selectors(&ls, &rs, l->query, r->query, err);
    if (rc)
        return rc;
    query_tree_t lt, rt;
    int64_t *r_self = NULL, *r_tot = NULL;
    rc = diff_merge(&lt, &rt, &r_self, &r_tot, st, tenant, &ls, &rs, l, r, err);
    if (rc == 0) {
        const int64_t *selfs[2] = {lt.self, r_self}, *tots[2] = {lt.tot, r_tot};
        size_t nn = lt.strs.n;
        fn_change_t *f = xcalloc(nn + 1, sizeof(*f));
        for (size_t i = 1; i < lt.tree.n; i++) {
            fn_change_t *c = &f[lt.tree.name[i]];
            bool rec = name_above(&lt.tree, (uint32_t)i);
            for (int sd = 0; sd < 2; sd++) {
                c->self[sd] += selfs[sd][i];
                if (!rec)
                    c->total[sd] += tots[sd][i];
            }
        }
        size_t n = 0;
        for (size_t i = 0; i < nn; i++) {
            fn_change_t c = f[i];
            if (!c.total[0] && !c.total[1])
                continue;
            c.name = (uint32_t)i;
            for (int sd = 0; sd < 2; sd++) {
                double tot = (double)tots[sd][0];
                c.self_share[sd] = tot > 0 ? (double)c.self[sd] / tot : 0;
                c.total_share[sd] = tot > 0 ? (double)c.total[sd] / tot : 0;
            }
            double ds = c.self_share[1] - c.self_share[0], dt = c.total_share[1] - c.total_share[0];
            ds = ds < 0 ? -ds : ds;
            dt = dt < 0 ? -dt : dt;
            c.score = ds > dt ? ds : dt;
            f[n++] = c;
        }
        qsort(f, n, sizeof(*f), cmp_change);
        if (limit && n > limit)
            n = limit;
        rc = buf_printf(out, "{\"leftTicks\":%lld,\"rightTicks\":%lld,\"functions\":[",
                        (long long)lt.tot[0], (long long)r_tot[0]);
        for (size_t i = 0; rc == 0 && i < n; i++) {
            const fn_change_t *c = &f[i];
            rc = buf_puts(out, i ? ",{\"name\":" : "{\"name\":");
            if (rc == 0)
                rc = buf_json_str(out, strtab_get(&lt.strs, c->name), strtab_len(&lt.strs, c->name));
            if (rc == 0)
                rc = buf_printf(out,
                                ",\"leftSelf\":%lld,\"rightSelf\":%lld,\"leftTotal\":%lld,"
                                "\"rightTotal\":%lld,\"leftSelfShare\":%.6f,"
                                "\"rightSelfShare\":%.6f,\"selfShareChange\":%.6f,"
                                "\"leftTotalShare\":%.6f,\"rightTotalShare\":%.6f,"
                                "\"totalShareChange\":%.6f}",
                                (long long)c->self[0], (long long)c->self[1],
                                (long long)c->total[0], (long long)c->total[1], c->self_share[0],
                                c->self_share[1], c->self_share[1] - c->self_share[0],
                                c->total_share[0], c->total_share[1],
                                c->total_share[1] - c->total_share[0]);
        }
        if (rc == 0)
            rc = buf_puts(out, "]}");
        if (rc)
            err_set(err, rc, "response exceeds the size limit");
        free(f);
        free(r_self);
        free(r_tot);
    }
    query_tree_release(&lt);
    query_tree_release(&rt);
    selector_release(&ls);
    selector_release(&rs);
    return rc;
}

/* Calls fn with the labels of every series of tenant in snap overlapping [from, until]. The
 * labels are borrowed for the call (heads are locked meanwhile). */
typedef void (*series_fn)(const labels_t *l, void *arg);

static void each_series(store_snapshot_t *snap, const char *tenant, int64_t from,
                        int64_t until, series_fn fn, void *arg)
{
    for (size_t h = 0; h < snap->nheads; h++) {
        head_tenant_t *t = head_tenant(snap->heads[h], tenant, false);
        if (!t)
            continue;
        head_tenant_rdlock(t);
        for (size_t i = 0; i < t->nseries; i++)
            if (head_series_in_range(&t->series[i], from, until))
                fn(&t->series[i].labels, arg);
        head_tenant_unlock(t);
    }
    for (size_t bi = 0; bi < snap->nblocks; bi++) {
        const block_t *b = snap->blocks[bi];
        for (uint32_t i = 0; i < b->nseries; i++) {
            const block_series_t *s = &b->series[i];
            if (s->nprofiles && s->max_ts >= from && s->min_ts <= until)
                fn(&s->labels, arg);
        }
    }
}

typedef struct each_ctx {
    const selector_t *sels;
    size_t nsel;
    query_labels_fn fn;
    void *arg;
} each_ctx_t;

static void each_filter(const labels_t *l, void *arg)
{
    each_ctx_t *c = arg;
    bool ok = c->nsel == 0;
    for (size_t i = 0; !ok && i < c->nsel; i++)
        ok = selector_match(&c->sels[i], l);
    if (ok)
        c->fn(l, c->arg);
}

void query_each_series(store_t *st, const char *tenant, const selector_t *sels, size_t nsel,
                       int64_t from_ns, int64_t until_ns, query_labels_fn fn, void *arg)
{
    each_ctx_t c = {sels, nsel, fn, arg};
    store_snapshot_t snap;
    store_snapshot_get(st, tenant, from_ns, until_ns, &snap);
    each_series(&snap, tenant, from_ns, until_ns, each_filter, &c);
    store_snapshot_put(&snap);
}

bool query_profile_stats(store_t *st, const char *tenant, int64_t *oldest_ns,
                         int64_t *newest_ns)
{
    int64_t lo = INT64_MAX, hi = INT64_MIN;
    store_snapshot_t snap;
    store_snapshot_get(st, tenant, INT64_MIN, INT64_MAX, &snap);
    for (size_t h = 0; h < snap.nheads; h++) {
        head_tenant_t *t = head_tenant(snap.heads[h], tenant, false);
        if (!t)
            continue;
        head_tenant_rdlock(t);
        for (size_t i = 0; i < t->nseries; i++) {
            const head_series_t *s = &t->series[i];
            if (!s->nprofs)
                continue;
            lo = s->min_ts < lo ? s->min_ts : lo;
            hi = s->max_ts > hi ? s->max_ts : hi;
        }
        head_tenant_unlock(t);
    }
    for (size_t b = 0; b < snap.nblocks; b++) {
        lo = snap.blocks[b]->min_ts < lo ? snap.blocks[b]->min_ts : lo;
        hi = snap.blocks[b]->max_ts > hi ? snap.blocks[b]->max_ts : hi;
    }
    store_snapshot_put(&snap);
    *oldest_ns = lo;
    *newest_ns = hi;
    return lo <= hi;
}

/* ---- labels ---- */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Writes a sorted, de-duplicated JSON string array of strs (borrowed pointers). */
static int write_str_set(buf_t *out, const char **strs, size_t n, bool null_if_empty)
{
    if (n == 0)
        return buf_puts(out, null_if_empty ? "null" : "[]");
    qsort(strs, n, sizeof(*strs), cmp_str);
    int rc = buf_putc(out, '[');
    const char *prev = NULL;
    bool first = true;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (prev && !strcmp(prev, strs[i]))
            continue;
        if (!first)
            rc = buf_putc(out, ',');
        if (rc == 0)
            rc = buf_json_str(out, strs[i], strlen(strs[i]));
        first = false;
        prev = strs[i];
    }
    if (rc == 0)
        rc = buf_putc(out, ']');
    return rc;
}

static int parse_optional(selector_t *sel, bool *have, const char *query, err_t *err)
{
    *have = false;
    memset(sel, 0, sizeof(*sel));
    if (!query || !*query)
        return 0;
    int rc = selector_parse(sel, query, strlen(query), err);
    if (rc)
        return rc;
    *have = true;
    if (sel->metric && *sel->metric) {
        /* a legacy or typed metric narrows like it does for /render */
        selector_release(sel);
        rc = query_selector(sel, query, err);
        if (rc)
            *have = false;
    }
    return rc;
}

typedef struct label_ctx {
    const selector_t *sel; /* NULL = every series */
    const char *value_of;  /* NULL = collect names */
    bool with_reserved;
    strtab_t found;
} label_ctx_t;

static void collect_one(const labels_t *l, void *arg)
{
    label_ctx_t *c = arg;
    if (c->sel && !selector_match(c->sel, l))
        return;
    for (size_t j = 0; j < l->n; j++) {
        const label_t *lb = &l->v[j];
        if (c->value_of ? strcmp(lb->name, c->value_of) != 0
                        : !c->with_reserved && lb->name[0] == '_' && lb->name[1] == '_')
            continue;
        const char *v = c->value_of ? lb->value : lb->name;
        strtab_intern(&c->found, v, strlen(v));
    }
}

/* Label names (value_of == NULL) or the values of label value_of, over the tenant's series
 * that match the optional selector and overlap [from, until]; sorted, unique JSON array. */
static int collect_labels(buf_t *out, store_t *st, const char *tenant, const char *query,
                          int64_t from_ns, int64_t until_ns, const char *value_of,
                          bool with_reserved, bool null_if_empty, err_t *err)
{
    selector_t sel;
    bool have;
    int rc = parse_optional(&sel, &have, query, err);
    if (rc)
        return rc;
    label_ctx_t c = {have ? &sel : NULL, value_of, with_reserved, {0}};
    strtab_init(&c.found);
    store_snapshot_t snap;
    store_snapshot_get(st, tenant, from_ns, until_ns, &snap);
    each_series(&snap, tenant, from_ns, until_ns, collect_one, &c);
    store_snapshot_put(&snap);
    /* id 0 is the table's own "" entry: include it only if an empty value was seen */
    const char **strs = xmalloc((c.found.n + 1) * sizeof(*strs));
    size_t n = 0;
    for (size_t i = 1; i < c.found.n; i++)
        strs[n++] = strtab_get(&c.found, (uint32_t)i);
    rc = write_str_set(out, strs, n, null_if_empty);
    free(strs);
    strtab_release(&c.found);
    if (have)
        selector_release(&sel);
    if (rc)
        err_set(err, rc, "response exceeds the size limit");
    return rc;
}

int query_label_names(buf_t *out, store_t *st, const char *tenant, const char *query,
                      int64_t from_ns, int64_t until_ns, bool with_reserved, err_t *err)
{
    return collect_labels(out, st, tenant, query, from_ns, until_ns, NULL, with_reserved, false,
                          err);
}

int query_label_values(buf_t *out, store_t *st, const char *tenant, const char *name,
                       const char *query, int64_t from_ns, int64_t until_ns,
                       bool null_if_empty, err_t *err)
{
    /* Pyroscope 1.x: __name__ lists profile type ids */
    const char *key = strcmp(name, "__name__") == 0 ? PTYPE_L_ID : name;
    return collect_labels(out, st, tenant, query, from_ns, until_ns, key, true, null_if_empty,
                          err);
}

/* Legacy suffix for a series, the inverse of the ingest table for the common types. */
static const char *legacy_suffix(const labels_t *l)
{
    const char *name = labels_get(l, PTYPE_L_NAME), *type = labels_get(l, PTYPE_L_TYPE);
    if (!name || !type)
        return NULL;
    if (!strcmp(name, "process_cpu") && !strcmp(type, "samples")) {
        /* pprof CPU profiles carry samples and cpu; the cpu one speaks for the app */
        const char *pt = labels_get(l, PTYPE_L_PTYPE);
        return pt && !strcmp(pt, "cpu") ? NULL : "cpu";
    }
    if (!strcmp(name, "process_cpu") && !strcmp(type, "cpu"))
        return "cpu";
    if (!strcmp(name, "wall"))
        return "wall";
    if (!strcmp(name, "memory"))
        return type;
    if (!strcmp(name, "mutex"))
        return !strcmp(type, "contentions") ? "mutex_count" : "mutex_duration";
    if (!strcmp(name, "block"))
        return !strcmp(type, "contentions") ? "block_count" : "block_duration";
    if (!strcmp(name, "goroutine") || !strcmp(name, "goroutines"))
        return "goroutines";
    return type;
}

static void collect_app(const labels_t *l, void *arg)
{
    strtab_t *found = arg;
    const char *svc = labels_get(l, PTYPE_L_SERVICE), *suf = legacy_suffix(l);
    if (!svc || !suf)
        return;
    const char *spy = labels_get(l, PTYPE_L_SPY), *unit = labels_get(l, PTYPE_L_UNIT);
    char rec[2048];
    int n = snprintf(rec, sizeof(rec), "%s.%s%c%s%c%s%c%s", svc, suf, 0, spy ? spy : "", 0,
                     labels_get(l, PTYPE_L_TYPE), 0, unit ? unit : "");
    if (n > 0 && (size_t)n < sizeof(rec))
        strtab_intern(found, rec, (size_t)n);
}

int query_apps(buf_t *out, store_t *st, const char *tenant, err_t *err)
{
    strtab_t found; /* "app.suffix\0spy\0type\0unit" records */
    strtab_init(&found);
    store_snapshot_t snap;
    store_snapshot_get(st, tenant, INT64_MIN, INT64_MAX, &snap);
    each_series(&snap, tenant, INT64_MIN, INT64_MAX, collect_app, &found);
    store_snapshot_put(&snap);
    const char **names = xmalloc((found.n + 1) * sizeof(*names));
    size_t n = 0;
    for (size_t i = 1; i < found.n; i++)
        names[n++] = strtab_get(&found, (uint32_t)i);
    qsort(names, n, sizeof(*names), cmp_str);
    int rc = buf_putc(out, '[');
    const char *prev = NULL;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (prev && !strcmp(prev, names[i]))
            continue;
        const char *spy = names[i] + strlen(names[i]) + 1;
        const char *type = spy + strlen(spy) + 1;
        const char *unit = type + strlen(type) + 1;
        const char *units;
        long rate;
        ptype_render_meta(type, unit, &units, &rate);
        rc = buf_printf(out, "%s{\"name\":", prev ? "," : "");
        if (rc == 0)
            rc = buf_json_str(out, names[i], strlen(names[i]));
        if (rc == 0)
            rc = buf_puts(out, ",\"spyName\":");
        if (rc == 0)
            rc = buf_json_str(out, spy, strlen(spy));
        if (rc == 0)
            rc = buf_printf(out, ",\"sampleRate\":%ld,\"units\":", rate);
        if (rc == 0)
            rc = buf_json_str(out, units, strlen(units));
        if (rc == 0)
            rc = buf_putc(out, '}');
        prev = names[i];
    }
    if (rc == 0)
        rc = buf_putc(out, ']');
    free(names);
    strtab_release(&found);
    if (rc)
        err_set(err, rc, "response exceeds the size limit");
    return rc;
}
