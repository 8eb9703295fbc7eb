/* Read path: select series, accumulate values per stack node, render flamebearer JSON with
 * a timeline, and answer label queries (PROTOCOLS.md §3).
 *
 * Merge is array indexing: self[node] += value over the profiles in range, then one reverse
 * pass over node ids (parents precede children) turns self into totals. */
#include "query/query.h"

#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/mem.h"
#include "model/ptype.h"

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

/* ---- flamebearer ---- */

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

/* Writes "names", "levels", "numTicks", "maxSelf" for the merged tree. tot[] and self[] are
 * per node of tree (size tree->n). */
static int write_flamebearer(buf_t *out, const head_tenant_t *t, const int64_t *self,
                             const int64_t *tot, int64_t max_nodes)
{
    const stacktree_t *tree = &t->tree;
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
    int32_t *name_idx = xmalloc((t->strs.n + 1) * sizeof(*name_idx));
    for (size_t i = 0; i < t->strs.n; i++)
        name_idx[i] = -1;
    int32_t other_idx = -1;
    buf_t names = BUF_INIT;
    size_t nnames = 1;
    int rc = buf_puts(&names, "\"total\"");

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
    while (rc == 0 && sn > 0) {
        item_t it = stack[--sn];
        uint32_t nidx;
        if (it.level == 0) {
            nidx = 0;
        } else if (it.node == UINT32_MAX) {
            if (other_idx < 0) {
                other_idx = (int32_t)nnames++;
                rc = buf_puts(&names, ",\"other\"");
            }
            nidx = (uint32_t)other_idx;
        } else {
            uint32_t sid = tree->name[it.node];
            if (name_idx[sid] < 0) {
                name_idx[sid] = (int32_t)nnames++;
                rc = buf_putc(&names, ',');
                if (rc == 0)
                    rc = buf_json_str(&names, strtab_get(&t->strs, sid), strtab_len(&t->strs, sid));
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
            kids[k++] = (fb_child_t){strtab_get(&t->strs, sid), (uint32_t)strtab_len(&t->strs, sid),
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
    if (rc == 0)
        rc = buf_puts(out, "\"names\":[");
    if (rc == 0)
        rc = buf_append(out, names.data, names.len);
    if (rc == 0)
        rc = buf_puts(out, "],\"levels\":[");
    for (size_t l = 0; rc == 0 && l < nlevels; l++) {
        fb_level_t *lv = &levels[l];
        rc = buf_puts(out, l ? ",[" : "[");
        int64_t prev_end = 0;
        /* entries were visited right to left */
        for (size_t i = lv->n; rc == 0 && i > 0; i--) {
            fb_entry_t *e = &lv->e[i - 1];
            rc = buf_printf(out, "%s%lld,%lld,%lld,%u", i == lv->n ? "" : ",",
                            (long long)(e->x - prev_end), (long long)e->total,
                            (long long)e->self, e->name_idx);
            prev_end = e->x + e->total;
        }
        if (rc == 0)
            rc = buf_putc(out, ']');
    }
    if (rc == 0)
        rc = buf_printf(out, "],\"numTicks\":%lld,\"maxSelf\":%lld", (long long)tot[0],
                        (long long)max_self);
    for (size_t l = 0; l < nlevels; l++)
        free(levels[l].e);
    free(levels);
    free(stack);
    free(kids);
    free(name_idx);
    buf_release(&names);
    free(cstart);
    free(clist);
    free(other);
    return rc;
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

typedef struct group {
    char *value;
    timeline_t tl;
} group_t;

static bool series_in_range(const head_series_t *s, int64_t from, int64_t until)
{
    return s->nprofs && s->max_ts >= from && s->min_ts <= until;
}

int query_render_json(buf_t *out, head_t *h, const char *tenant, const query_render_t *q,
                      const query_limits_t *lim, err_t *err)
{
    selector_t sel;
    int rc = query_selector(&sel, q->query, err);
    if (rc)
        return rc;
    int64_t max_nodes = q->max_nodes > 0 ? q->max_nodes : lim->max_nodes_default;
    if (lim->max_nodes_max > 0 && max_nodes > lim->max_nodes_max) {
        selector_release(&sel);
        return err_set(err, EMB_EINVAL, "max nodes %lld exceeds the limit of %lld",
                       (long long)max_nodes, (long long)lim->max_nodes_max);
    }
    if (q->from_ns > q->until_ns) {
        selector_release(&sel);
        return err_set(err, EMB_EINVAL, "from is after until");
    }
    timeline_t tl;
    timeline_init(&tl, q->from_ns, q->until_ns);
    group_t *groups = NULL;
    size_t ngroups = 0, capgroups = 0;
    char *sample_type = NULL, *sample_unit = NULL, *spy = NULL;

    head_tenant_t *t = head_tenant(h, tenant, false);
    int64_t *self = NULL, *tot = NULL;
    size_t nnodes = 1;
    if (t) {
        head_tenant_rdlock(t);
        nnodes = t->tree.n;
        self = xcalloc(nnodes, sizeof(*self));
        for (size_t i = 0; i < t->nseries; i++) {
            const head_series_t *s = &t->series[i];
            if (!series_in_range(s, q->from_ns, q->until_ns) || !selector_match(&sel, &s->labels))
                continue;
            if (!sample_type) {
                sample_type = xstrdup(labels_get(&s->labels, PTYPE_L_TYPE) ?: "");
                sample_unit = xstrdup(labels_get(&s->labels, PTYPE_L_UNIT) ?: "");
                spy = xstrdup(labels_get(&s->labels, PTYPE_L_SPY) ?: "");
            }
            timeline_t *gtl = NULL;
            if (q->group_by && *q->group_by) {
                const char *gv = labels_get(&s->labels, q->group_by);
                if (!gv)
                    gv = "*";
                size_t g;
                for (g = 0; g < ngroups; g++)
                    if (!strcmp(groups[g].value, gv))
                        break;
                if (g == ngroups) {
                    xgrow(&groups, &capgroups, ngroups + 1, sizeof(*groups));
                    groups[g].value = xstrdup(gv);
                    timeline_init(&groups[g].tl, q->from_ns, q->until_ns);
                    ngroups++;
                }
                gtl = &groups[g].tl;
            }
            for (size_t p = 0; p < s->nprofs; p++) {
                const head_profile_t *hp = &s->profs[p];
                if (hp->ts_ns < q->from_ns || hp->ts_ns > q->until_ns)
                    continue;
                int64_t sum = 0;
                const node_id_t *nodes = head_profile_nodes(hp);
                for (uint32_t k = 0; k < hp->n; k++) {
                    self[nodes[k]] += hp->value[k];
                    sum += hp->value[k];
                }
                timeline_add(&tl, hp->ts_ns, sum);
                if (gtl)
                    timeline_add(gtl, hp->ts_ns, sum);
            }
        }
        tot = xmalloc(nnodes * sizeof(*tot));
        memcpy(tot, self, nnodes * sizeof(*tot));
        for (size_t i = nnodes - 1; i > 0; i--)
            tot[t->tree.parent[i]] += tot[i];
    }
    if (!sample_type) {
        /* no data: derive the metadata from the query itself */
        const char *m = sel.metric;
        ptype_t pt;
        char *tmp = xmalloc(strlen(m) + 1);
        if (strchr(m, ':') && ptype_parse(&pt, tmp, m, NULL) == 0) {
            sample_type = xstrdup(pt.sample_type);
            sample_unit = xstrdup(pt.sample_unit);
        } else {
            ptype_legacy_t lt;
            size_t al;
            if (ptype_from_legacy(&lt, &al, m, true, NULL) == 0) {
                sample_type = xstrdup(lt.type.sample_type);
                sample_unit = xstrdup(lt.type.sample_unit);
            }
        }
        free(tmp);
        if (!sample_type) {
            sample_type = xstrdup("");
            sample_unit = xstrdup("");
        }
    }
    const char *units;
    long rate;
    ptype_render_meta(sample_type, sample_unit, &units, &rate);

    rc = buf_puts(out, "{\"version\":1,\"flamebearer\":{");
    if (rc == 0) {
        if (t) {
            rc = write_flamebearer(out, t, self, tot, max_nodes);
        } else {
            int64_t z = 0;
            head_tenant_t empty;
            memset(&empty, 0, sizeof(empty));
            strtab_init(&empty.strs);
            stacktree_init(&empty.tree);
            rc = write_flamebearer(out, &empty, &z, &z, max_nodes);
            strtab_release(&empty.strs);
            stacktree_release(&empty.tree);
        }
    }
    if (t)
        head_tenant_unlock(t);
    if (rc == 0)
        rc = buf_puts(out, "},\"metadata\":{\"format\":\"single\",\"spyName\":");
    if (rc == 0)
        rc = buf_json_str(out, spy ? spy : "", spy ? strlen(spy) : 0);
    if (rc == 0)
        rc = buf_printf(out, ",\"sampleRate\":%ld,\"units\":", rate);
    if (rc == 0)
        rc = buf_json_str(out, units, strlen(units));
    if (rc == 0)
        rc = buf_puts(out, ",\"name\":");
    if (rc == 0)
        rc = buf_json_str(out, sample_type, strlen(sample_type));
    if (rc == 0)
        rc = buf_puts(out, "},\"timeline\":");
    if (rc == 0)
        rc = timeline_write(out, &tl, q->avg);
    if (rc == 0)
        rc = buf_puts(out, ",\"groups\":");
    if (rc == 0 && ngroups == 0)
        rc = buf_puts(out, "null");
    for (size_t g = 0; rc == 0 && g < ngroups; g++) {
        rc = buf_puts(out, g ? "," : "{");
        if (rc == 0)
            rc = buf_json_str(out, groups[g].value, strlen(groups[g].value));
        if (rc == 0)
            rc = buf_putc(out, ':');
        if (rc == 0)
            rc = timeline_write(out, &groups[g].tl, q->avg);
    }
    if (rc == 0 && ngroups)
        rc = buf_putc(out, '}');
    if (rc == 0)
        rc = buf_puts(out, ",\"heatmap\":null}");
    if (rc)
        err_set(err, rc, "response exceeds the size limit");
    for (size_t g = 0; g < ngroups; g++) {
        free(groups[g].value);
        timeline_release(&groups[g].tl);
    }
    free(groups);
    timeline_release(&tl);
    free(self);
    free(tot);
    free(sample_type);
    free(sample_unit);
    free(spy);
    selector_release(&sel);
    return rc;
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

/* Label names (value_of == NULL) or the values of label value_of, over the tenant's series
 * that match the optional selector and overlap [from, until]; sorted, unique JSON array. */
static int collect_labels(buf_t *out, head_t *h, const char *tenant, const char *query,
                          int64_t from_ns, int64_t until_ns, const char *value_of,
                          bool with_reserved, bool null_if_empty, err_t *err)
{
    selector_t sel;
    bool have;
    int rc = parse_optional(&sel, &have, query, err);
    if (rc)
        return rc;
    head_tenant_t *t = head_tenant(h, tenant, false);
    const char **strs = NULL;
    size_t n = 0, cap = 0;
    if (t)
        head_tenant_rdlock(t);
    for (size_t i = 0; t && i < t->nseries; i++) {
        const head_series_t *s = &t->series[i];
        if (!series_in_range(s, from_ns, until_ns) || (have && !selector_match(&sel, &s->labels)))
            continue;
        for (size_t j = 0; j < s->labels.n; j++) {
            const label_t *l = &s->labels.v[j];
            if (value_of ? strcmp(l->name, value_of) != 0
                         : !with_reserved && l->name[0] == '_' && l->name[1] == '_')
                continue;
            xgrow(&strs, &cap, n + 1, sizeof(*strs));
            strs[n++] = value_of ? l->value : l->name;
        }
    }
    rc = write_str_set(out, strs, n, null_if_empty);
    if (t)
        head_tenant_unlock(t);
    free(strs);
    if (have)
        selector_release(&sel);
    if (rc)
        err_set(err, rc, "response exceeds the size limit");
    return rc;
}

int query_label_names(buf_t *out, head_t *h, const char *tenant, const char *query,
                      int64_t from_ns, int64_t until_ns, bool with_reserved, err_t *err)
{
    return collect_labels(out, h, tenant, query, from_ns, until_ns, NULL, with_reserved, false,
                          err);
}

int query_label_values(buf_t *out, head_t *h, const char *tenant, const char *name,
                       const char *query, int64_t from_ns, int64_t until_ns,
                       bool null_if_empty, err_t *err)
{
    /* Pyroscope 1.x: __name__ lists profile type ids */
    const char *key = strcmp(name, "__name__") == 0 ? PTYPE_L_ID : name;
    return collect_labels(out, h, tenant, query, from_ns, until_ns, key, true, null_if_empty,
                          err);
}

/* Legacy suffix for a series, the inverse of the ingest table for the common types. */
static const char *legacy_suffix(const labels_t *l)
{
    const char *name = labels_get(l, PTYPE_L_NAME), *type = labels_get(l, PTYPE_L_TYPE);
    if (!name || !type)
        return NULL;
    if (!strcmp(name, "process_cpu") && (!strcmp(type, "cpu") || !strcmp(type, "samples")))
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

int query_apps(buf_t *out, head_t *h, const char *tenant, err_t *err)
{
    head_tenant_t *t = head_tenant(h, tenant, false);
    const char **names = NULL;
    size_t n = 0, cap = 0;
    buf_t all = BUF_INIT; /* "app.suffix\0spy\0type\0unit\0" records */
    size_t *offs = NULL, ocap = 0;
    if (t)
        head_tenant_rdlock(t);
    int rc = 0;
    for (size_t i = 0; t && rc == 0 && i < t->nseries; i++) {
        const labels_t *l = &t->series[i].labels;
        const char *svc = labels_get(l, PTYPE_L_SERVICE), *suf = legacy_suffix(l);
        if (!svc || !suf)
            continue;
        xgrow(&offs, &ocap, n + 1, sizeof(*offs));
        offs[n++] = all.len;
        const char *spy = labels_get(l, PTYPE_L_SPY);
        rc = buf_printf(&all, "%s.%s%c%s%c%s%c%s%c", svc, suf, 0, spy ? spy : "", 0,
                        labels_get(l, PTYPE_L_TYPE), 0, labels_get(l, PTYPE_L_UNIT) ?: "", 0);
    }
    if (t)
        head_tenant_unlock(t);
    xgrow(&names, &cap, n + 1, sizeof(*names));
    for (size_t i = 0; i < n; i++)
        names[i] = all.data + offs[i];
    qsort(names, n, sizeof(*names), cmp_str);
    if (rc == 0)
        rc = buf_putc(out, '[');
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
    free(offs);
    buf_release(&all);
    if (rc)
        err_set(err, rc, "response exceeds the size limit");
    return rc;
}
