/* query/: read path over a store snapshot (heads and blocks) — selectors to series, merge
 * by frame names into one call tree, and the legacy render outputs (flamebearer JSON,
 * timeline, label lists) of PROTOCOLS.md §3.
 *
 * Every function takes the tenant id and touches only that tenant's tables. Results are
 * written into caller-owned buffers (buf_t, capped by its max → EMB_ETOOBIG).
 */
#ifndef EMBER_QUERY_QUERY_H
#define EMBER_QUERY_QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"
#include "query/selector.h"
#include "model/stacktree.h"
#include "model/strtab.h"
#include "store/store.h"

typedef struct query_render {
    const char *query;     /* selector with a profile-type id or legacy app.suffix */
    int64_t from_ns, until_ns;
    int64_t max_nodes;     /* 0 = default */
    const char *group_by;  /* first groupBy label or NULL */
    bool avg;              /* aggregation=avg for the timeline */
} query_render_t;

typedef struct query_limits {
    int64_t max_nodes_default; /* 8192 */
    int64_t max_nodes_max;     /* 1048576 */
} query_limits_t;

/* Parses a render query into a selector that includes the profile-type matchers
 * (legacy `app.cpu{...}` → service_name + __name__ + __type__; `<id>{...}` →
 * __profile_type__). OUT: sel (release with selector_release). *sample_type / *sample_unit
 * point to static or selector-owned text for metadata. EMB_EINVAL without a profile type. */
int query_selector(selector_t *sel, const char *query, err_t *err);

/* /render?format=json: flamebearer + timeline (+ groups). */
int query_render_json(buf_t *out, store_t *st, const char *tenant, const query_render_t *q,
                      const query_limits_t *lim, err_t *err);

/* Label names (sorted, unique) of series matching the optional selector (NULL/"" = all)
 * in [from, until]; JSON array. Reserved `__` names are included only if with_reserved. */
int query_label_names(buf_t *out, store_t *st, const char *tenant, const char *query,
                      int64_t from_ns, int64_t until_ns, bool with_reserved, err_t *err);

/* Values of label name (sorted, unique), JSON array; `null` when empty if null_if_empty. */
int query_label_values(buf_t *out, store_t *st, const char *tenant, const char *name,
                       const char *query, int64_t from_ns, int64_t until_ns,
                       bool null_if_empty, err_t *err);

/* /api/apps: [{"name":"app.cpu","spyName":"...","sampleRate":100,"units":"samples"}...] */
int query_apps(buf_t *out, store_t *st, const char *tenant, err_t *err);

/* A merged call tree: frames by name, self and total per node (tot[0] = grand total). */
typedef struct query_tree {
    strtab_t strs;
    stacktree_t tree;
    int64_t *self, *tot;
    char *sample_type, *sample_unit, *spy; /* of the first matching series, or NULL */
    char *period_type, *period_unit;       /* likewise ("" when the type has none) */
} query_tree_t;

/* Merges every profile of the series matching sel (which should carry the profile-type
 * matchers, see query_selector) with from ≤ ts ≤ until, across heads and blocks.
 * OUT: out (release with query_tree_release, also after failure). */
int query_merge_tree(query_tree_t *out, store_t *st, const char *tenant, const selector_t *sel,
                     int64_t from_ns, int64_t until_ns, err_t *err);
void query_tree_release(query_tree_t *t);

/* Like query_merge_tree, restricted to the samples that carried one of the span ids
 * (SelectMergeSpanProfile). Sorts spans in place; an empty list selects nothing. */
int query_merge_spans(query_tree_t *out, store_t *st, const char *tenant, const selector_t *sel,
                      int64_t from_ns, int64_t until_ns, uint64_t *spans, size_t nspans,
                      err_t *err);

/* Adds right's nodes into left's tree by frame names; afterwards right's values (OUT:
 * right_self, right_tot, owned, free()) and left's own arrays both index left->tree. */
void query_tree_align(query_tree_t *left, const query_tree_t *right, int64_t **right_self,
                      int64_t **right_tot);

/* /render-diff: flamebearer "double" of two queries (PROTOCOLS.md §3.6). The profile types
 * must match (EMB_EINVAL). */
int query_render_diff_json(buf_t *out, store_t *st, const char *tenant, const query_render_t *l,
                           const query_render_t *r, const query_limits_t *lim, err_t *err);

/* SelectSeries (PROTOCOLS.md §6): totals per step, one series per distinct combination of
 * the group_by labels' values (absent = ""). A profile at t belongs to the first edge
 * from + k·step ≥ t; points carry that edge (ms); empty steps are omitted. */
typedef struct query_point {
    int64_t ts_ms;
    double value;
} query_point_t;

typedef struct query_series {
    labels_t labels; /* the group_by labels present */
    query_point_t *pts;
    size_t npts;
    double total;
} query_series_t;

typedef struct query_series_set {
    query_series_t *v;
    size_t n;
} query_series_set_t;

/* limit > 0 keeps the limit series with the largest totals. avg averages per profile.
 * OUT: out (release with query_series_set_release, also after failure). */
int query_select_series(query_series_set_t *out, store_t *st, const char *tenant,
                        const selector_t *sel, int64_t from_ns, int64_t until_ns,
                        int64_t step_ns, const char *const *group_by, size_t ngroup, bool avg,
                        int64_t limit, err_t *err);
void query_series_set_release(query_series_set_t *set);

/* /api/diff/top: functions ranked by how much their share of the profile changed between two
 * selections. Self and total are summed per function name (total counts a function once per
 * stack, so recursion does not inflate it) and divided by each side's grand total. JSON
 * array of at most limit entries, largest absolute change (self or total share) first. */
int query_diff_top_json(buf_t *out, store_t *st, const char *tenant, const query_render_t *l,
                        const query_render_t *r, size_t limit, err_t *err);

/* Calls fn with the labels of every series of tenant overlapping [from, until] that matches
 * any of sels (all series when nsel == 0), across heads and blocks. Labels are borrowed for
 * the call only; a series present in several sources is reported once per source. */
typedef void (*query_labels_fn)(const labels_t *l, void *arg);
void query_each_series(store_t *st, const char *tenant, const selector_t *sels, size_t nsel,
                       int64_t from_ns, int64_t until_ns, query_labels_fn fn, void *arg);

/* Oldest and newest profile timestamps of tenant; false if it has no data. */
bool query_profile_stats(store_t *st, const char *tenant, int64_t *oldest_ns,
                         int64_t *newest_ns);

/* Timeline step for a range (§3.5), in seconds. */
int64_t query_timeline_step(int64_t from_ns, int64_t until_ns);

#endif
