/* Connect unary RPCs over HTTP/1.1 (PROTOCOLS.md §4, §6): querier.v1.QuerierService, the API
 * Grafana's Pyroscope data source, profilecli and Ember's UI speak.
 *
 * A request is decoded with the method's schema from application/json (protojson) or
 * application/proto, optionally gzip-compressed (Content-Encoding); the handler builds a
 * response message that is encoded in the request's codec. Errors are Connect error JSON
 * bodies ({"code","message"}) with the matching HTTP status, whatever the request codec.
 * Times on this API are Unix milliseconds.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/api_int.h"
#include "api/pbcodec.h"
#include "api/pbschema.h"
#include "base/clock.h"
#include "base/gz.h"
#include "base/mem.h"
#include "model/ptype.h"
#include "query/export.h"
#include "query/flamegraph.h"
#include "query/query.h"

typedef struct rpc_ctx {
    api_t *a;
    const api_req_t *req;
    const char *tenant;
    bool utf8_names; /* client accepts UTF-8 label names (Accept: allow-utf8-labelnames) */
} rpc_ctx_t;

typedef int (*rpc_fn)(rpc_ctx_t *c, const pb_obj_t *in, pb_obj_t *out, err_t *err);

/* ---- helpers ---- */

/* [start, end] in ms → ns; zero bounds are an error except where allowed (§6 rules). */
static int time_range(const pb_obj_t *in, unsigned start_field, unsigned end_field,
                      bool zero_ok, int64_t *from, int64_t *until, err_t *err)
{
    int64_t s = pb_get_i64(in, start_field), e = pb_get_i64(in, end_field);
    if (!zero_ok && (s == 0 || e == 0))
        return err_set(err, EMB_EINVAL, "start and end are required (Unix milliseconds)");
    if (s == 0 && e == 0) {
        *from = INT64_MIN;
        *until = INT64_MAX;
        return 0;
    }
    if (e == 0)
        e = clock_now_ns() / NS_PER_MS;
    if (s > e)
        return err_set(err, EMB_EINVAL, "start (%lld) is after end (%lld)", (long long)s,
                       (long long)e);
    *from = s * NS_PER_MS;
    *until = e * NS_PER_MS;
    return 0;
}

/* time_range plus the server's query range limits (lookback, length). */
static int query_range(rpc_ctx_t *c, const pb_obj_t *in, unsigned start_field,
                       unsigned end_field, bool zero_ok, int64_t *from, int64_t *until,
                       err_t *err)
{
    int rc = time_range(in, start_field, end_field, zero_ok, from, until, err);
    if (rc == 0 && *from != INT64_MIN)
        rc = api_query_range(&c->a->opt, from, until, err);
    return rc;
}

/* Parses matchers (selectors without a metric are fine here). */
static int parse_matchers(selector_t **out, size_t *n, const pb_obj_t *in, unsigned field,
                          err_t *err)
{
    *n = pb_count(in, field);
    *out = xcalloc(*n + 1, sizeof(**out));
    for (size_t i = 0; i < *n; i++) {
        const char *m = pb_get_str_at(in, field, i);
        if (selector_parse(&(*out)[i], m, strlen(m), err)) {
            for (size_t k = 0; k < i; k++)
                selector_release(&(*out)[k]);
            free(*out);
            *out = NULL;
            *n = 0;
            return err_prefix(err, "matchers[%zu]", i);
        }
    }
    return 0;
}

static void free_matchers(selector_t *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        selector_release(&s[i]);
    free(s);
}

/* Prometheus' legacy name rule, used unless the client accepts UTF-8 names. */
static bool legacy_name(const char *s)
{
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_'))
        return false;
    for (s++; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_' ||
              (*s >= '0' && *s <= '9')))
            return false;
    return true;
}

/* Builds the selector "<profile type id><label selector>" with type matchers. */
static int type_selector(selector_t *sel, const char *type_id, const char *label_selector,
                         err_t *err)
{
    if (!type_id || !*type_id)
        return err_set(err, EMB_EINVAL, "profile_typeID is required");
    ptype_t pt;
    char *tmp = xmalloc(strlen(type_id) + 1);
    int rc = ptype_parse(&pt, tmp, type_id, err);
    free(tmp);
    if (rc)
        return rc;
    if (!label_selector || !*label_selector)
        return err_set(err, EMB_EINVAL, "label_selector is required (at least \"{}\")");
    size_t n = strlen(type_id) + strlen(label_selector) + 1;
    char *q = xmalloc(n);
    snprintf(q, n, "%s%s", type_id, label_selector);
    rc = query_selector(sel, q, err);
    free(q);
    return rc;
}

static int64_t max_nodes_of(rpc_ctx_t *c, const pb_obj_t *in, unsigned field, err_t *err)
{
    int64_t mn = pb_has(in, field) ? pb_get_i64(in, field) : 0;
    if (mn <= 0) /* the limit bounds what a query asks for, not the default (as Pyroscope) */
        return c->a->opt.max_nodes_default;
    if (c->a->opt.max_nodes_max > 0 && mn > c->a->opt.max_nodes_max) {
        err_set(err, EMB_EINVAL, "max_nodes %lld exceeds the limit of %lld", (long long)mn,
                (long long)c->a->opt.max_nodes_max);
        return -1;
    }
    return mn;
}

static void put_flamegraph(pb_obj_t *fgm, const fg_t *fg, bool diff)
{
    for (size_t i = 0; i < fg->nnames; i++)
        pb_add_strn(fgm, 1u, (const char *)fg->names[i].p, fg->names[i].len);
    for (size_t l = 0; l < fg->nlevels; l++) {
        pb_obj_t *lv = pb_add_msg(fgm, 2u);
        pb_add_i64s(lv, 1u, fg->levels[l], fg->nvalues[l]);
    }
    pb_set_i64(fgm, 3u, fg->total);
    pb_set_i64(fgm, 4u, fg->max_self);
    if (diff) {
        pb_set_i64(fgm, 5u, fg->ticks[0]);
        pb_set_i64(fgm, 6u, fg->ticks[1]);
    }
}

/* ---- label APIs ---- */

typedef struct collect {
    strtab_t found;
    const char *value_of;     /* NULL: names */
    const char *const *names; /* Series: label names to keep (NULL/0 = all) */
    size_t nnames;
    bool utf8;
    buf_t key;
} collect_t;

static void collect_names(const labels_t *l, void *arg)
{
    collect_t *c = arg;
    for (size_t i = 0; i < l->n; i++)
        if (c->utf8 || legacy_name(l->v[i].name))
            strtab_intern(&c->found, l->v[i].name, strlen(l->v[i].name));
}

static void collect_values(const labels_t *l, void *arg)
{
    collect_t *c = arg;
    const char *v = labels_get(l, c->value_of);
    if (v && *v)
        strtab_intern(&c->found, v, strlen(v));
}

static int cmp_cstr(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Adds the collected strings, sorted, to repeated field `field` of out. */
static void put_sorted(pb_obj_t *out, unsigned field, const strtab_t *t)
{
    const char **v = xmalloc((t->n + 1) * sizeof(*v));
    size_t n = 0;
    for (size_t i = 1; i < t->n; i++)
        v[n++] = strtab_get(t, (uint32_t)i);
    qsort(v, n, sizeof(*v), cmp_cstr);
    for (size_t i = 0; i < n; i++)
        pb_add_str(out, field, v[i]);
    free(v);
}

static int rpc_label_names(rpc_ctx_t *c, const pb_obj_t *in, pb_obj_t *out, err_t *err)
{
    int64_t from, until;
    selector_t *sels;
    size_t nsel;
    int rc = time_range(in, 2, 3, true, &from, &until, err);
    if (rc == 0)
        rc = parse_matchers(&sels, &nsel, in, 1, err);
    if (rc)
        return rc;
    collect_t col = {.utf8 = c->utf8_names};
    strtab_init(&col.found);
    query_each_series(c->a->store, c->tenant, sels, nsel, from, until, collect_names, &col);
    put_sorted(out, 1u, &col.found);
    strtab_release(&col.found);
    free_matchers(sels, nsel);
    return 0;
}

static int rpc_label_values(rpc_ctx_t *c, const pb_obj_t *in, pb_obj_t *out, err_t *err)
{
    int64_t from, until;
    selector_t *sels;
    size_t nsel;
    const char *name = pb_get_str(in, 1u);
    if (!*name)
        return err_set(err, EMB_EINVAL, "name is required");
    int rc = time_range(in, 3, 4, true, &from, &until, err);
    if (rc == 0)
        rc = parse_matchers(&sels, &nsel, in, 2, err);
    if (rc)
        return rc;
    collect_t col = {.value_of = name};
    strtab_init(&col.found);
    query_each_series(c->a->store, c->tenant, sels, nsel, from, until, collect_values, &col);
    put_sorted(out, 1u, &col.found);
    strtab_release(&col.found);
    free_matchers(sels, nsel);
    return 0;
}

static void collect_types(const labels_t *l, void *arg)
{
    collect_t *c = arg;
    const char *v = labels_get(l, PTYPE_L_ID);
    if (v && *v)
        strtab_intern(&c->found, v, strlen(v));
}

static int rpc_profile_types(rpc_ctx_t *c, const pb_obj_t *in, pb_obj_t *out, err_t *err)
{
    int64_t from, until;
    int rc = time_range(in, 1, 2, true, &from, &until, err);
    if (rc)
        return rc;
    collect_t col = {0};
    strtab_init(&col.found);
    query_each_series(c->a->store, c->tenant, NULL, 0, from, until, collect_types, &col);
    const char **v = xmalloc((col.found.n + 1) * sizeof(*v));
    size_t n = 0;
    for (size_t i = 1; i < col.found.n; i++)
        v[n++] = strtab_get(&col.found, (uint32_t)i);
    qsort(v, n, sizeof(*v), cmp_cstr);
    for (size_t i = 0; i < n; i++) {
        ptype_t pt;
        char *tmp = xmalloc(strlen(v[i]) + 1);
        if (ptype_parse(&pt, tmp, v[i], NULL) == 0) {
            pb_obj_t *t = pb_add_msg(out, 1u);
            pb_set_str(t, 1u, v[i]);
            pb_set_str(t, 2u, pt.name);
            pb_set_str(t, 4u, pt.sample_type);
            pb_set_str(t, 5u, pt.sample_unit);
            pb_set_str(t, 6u, pt.period_type);
            pb_set_str(t, 7u, pt.period_unit);
        }
        free(tmp);
    }
    free(v);
    strtab_release(&col.found);
    return 0;
}

typedef struct series_col {
    collect_t base;
    pb_obj_t *out;
    const char *const *names;
    size_t nnames;
    bool utf8;
} series_col_t;

static void collect_series(const labels_t *l, void *arg)
{
    series_col_t *c = arg;
    buf_t key = BUF_INIT;
    labels_t keep = LABELS_INIT;
    for (size_t i = 0; i < l->n; i++) {
        bool want = c->nnames == 0;
        for (size_t k = 0; !want && k < c->nnames; k++)
            want = !strcmp(c->names[k], l->v[i].name);
        if (want && (c->utf8 || legacy_name(l->v[i].name)))
            labels_set_cstr(&keep, l->v[i].name, l->v[i].value);
    }
    labels_sort(&keep);
    if (labels_key(&key, &keep) == 0) {
        uint32_t before = (uint32_t)c->base.found.n;
        strtab_intern(&c->base.found, key.data ? key.data : "", key.len);
        if (c->base.found.n > before) { /* first time we see this set */
            pb_obj_t *ls = pb_add_msg(c->out, 2u);
            for (size_t i = 0; i < keep.n; i++) {
                pb_obj_t *lp = pb_add_msg(ls, 1u);
                pb_set_str(lp, 1u, keep.v[i].name);
                pb_set_str(lp, 2u, keep.v[i].value);
            }
        }
    }
    labels_release(&keep);
    buf_release(&key);
}

static int rpc_series(rpc_ctx_t *c, const pb_obj_t *in, pb_obj_t *out, err_t *err)
{
    int64_t from, until;
    selector_t *sels;
    size_t nsel;
    int rc = time_range(in, 3, 4, true, &from, &until, err);
    if (rc == 0)
        rc = parse_matchers(&sels, &nsel, in, 1, err);
    if (rc)
        return rc;
    size_t nn = pb_count(in, 2u);
    const char **names = xcalloc(nn + 1, sizeof(*names));
    for (size_t i = 0; i < nn; i++)
        names[i] = pb_get_str_at(in, 2u, i);
    series_col_t col;
    memset(&col, 0, sizeof(col));
    col.out = out;
    col.names = names;
    col.nnames = nn;
    col.utf8 = c->utf8_names;
    strtab_init(&col.base.found);
    query_each_series(c->a->store, c->tenant, sels, nsel, from, until, collect_series, &col);
    strtab_release(&col.base.found);
    free(names);
    free_matchers(sels, nsel);
    return 0;
}

/* ---- merges ---- */

static int merge_request(rpc_ctx_t *c, const pb_obj_t *in, query_tree_t *t, int64_t *from,
                         int64_t *until, err_t *err)
{
    memset(t, 0, sizeof(*t));
    selector_t sel;
    int rc = query_range(c, in, 3, 4, false, from, until, err);
    if (rc == 0)
        rc = type_selector(&sel, pb_get_str(in, 1u), pb_get_str(in, 2u), err);
    if (rc)
        return rc;
    rc = query_merge_tree(t, c->a->store, c->tenant, &sel, *from, *until, err);
    selector_release(&sel);
    return rc;
}

/* Max nodes and format (flame graph only) of a flame-graph request; -1 (err set) if bad. */
static int64_t fg_options(rpc_ctx_t *c, const pb_obj_t *in, unsigned mn_field,
                          unsigned fmt_field, err_t *err)
{
    int64_t mn = max_nodes_of(c, in, mn_field, err);
    if (mn < 0)
        return -1;
    int32_t format = pb_get_enum(in, fmt_field);
    if (format != 0 && format != 1) {
        err_set(err, EMB_EUNSUPPORTED, "format %d is not supported (flame graph only)", format);
        return -1;
    }
    return mn;
}

/* Sets FlameGraph field 1 of out from t when rc is 0; releases t either way. */
static int put_merged(pb_obj_t *out, query_tree_t *t, int64_t max_nodes, int rc)
{
    if (rc == 0) {
        fg_t fg;
        fg_build(&fg, &t->strs, &t->tree, t->self, t->tot, max_nodes);
        put_flamegraph(pb_set_msg(out, 1u), &fg, false);
        fg_release(&fg);
    }
    query_tree_release(t);
    return rc;
}

static int rpc_merge_stacktraces(rpc_ctx_t *c, const pb_obj_t *in, pb_obj_t *out, err_t *err)
{
    int64_t mn = fg_options(c, in, 5, 6, err);
    if (mn < 0)
        return err->code;
    query_tree_t t;
    int64_t from, until;
    return put_merged(out, &t, mn, merge_request(c, in, &t, &from, &until, err));
}

/* SelectMergeSpanProfile: the flame graph of the samples that carried the given span ids
 * (trace-to-profiles). Fields: 1 type, 2 selector, 3 span ids (hex), 4/5 range, 6 max
 * nodes, 7 format. */
static int rpc_merge_span_profile(rpc_ctx_t *c, const pb_obj_t *in, pb_obj_t *out,
                                  err_t *err)
{
    int64_t mn = fg_options(c, in, 6, 7, err);
    if (mn < 0)
        return err->code;
    size_t n = pb_count(in, 3u);
    uint64_t *spans = xcalloc(n + 1, sizeof(*spans));
    for (size_t i = 0; i < n; i++) {
        const char *txt = pb_get_str_at(in, 3u, i);
        spans[i] = span_parse(txt, strlen(txt));
        if (!spans[i]) {
            free(spans);
            return err_set(err, EMB_EINVAL,
                           "span_selector[%zu] \"%.40s\" is not a span id (16 hex digits)", i,
                           txt);
        }
    }
    int64_t from, until;
    selector_t sel;
    int rc = query_range(c, in, 4, 5, false, &from, &until, err);
    if (rc == 0)
        rc = type_selector(&sel, pb_get_str(in, 1u), pb_get_str(in, 2u), err);
    if (rc) {
        free(spans);
        return rc;
    }
    query_tree_t t;
    rc = query_merge_spans(&t, c->a->store, c->tenant, &sel, from, until, spans, n, err);
    selector_release(&sel);
    free(spans);
    return put_merged(out, &t, mn, rc);
}

static int rpc_merge_profile(rpc_ctx_t *c, const pb_obj_t *in, pb_obj_t **out, err_t *err)
{
    query_tree_t t;
    int64_t from, until;
    int rc = merge_request(c, in, &t, &from, &until, err);
    buf_t raw = BUF_INIT;
    if (rc == 0) {
        ptype_t pt;
        char *tmp = xmalloc(strlen(pb_get_str(in, 1u)) + 1);
        rc = ptype_parse(&pt, tmp, pb_get_str(in, 1u), err);
        export_meta_t meta = {pt.sample_type, pt.sample_unit, pt.period_type, pt.period_unit,
                              0, from, until - from};
        if (rc == 0)
            rc = export_pprof(&raw, &t, &meta);
        free(tmp);
    }
    if (rc == 0) {
        /* our own bytes: no need for the untrusted-input memory budget */
        pb_opts_t opts = {.ignore_unknown = false, .max_depth = 0, .max_mem = SIZE_MAX};
        rc = pb_decode_binary_opts(out, &pbs_google_profile, raw.data ? raw.data : "", raw.len,
                                   &opts, err);
    }
    buf_release(&raw);
    query_tree_release(&t);
    return rc;
}

static int rpc_select_series(rpc_ctx_t *c, const pb_obj_t *in, pb_obj_t *out, err_t *err)
{
    int64_t from, until;
    int rc = query_range(c, in, 3, 4, false, &from, &until, err);
    double step = pb_get_double(in, 6u);
    if (rc == 0 && !(step > 0))
        rc = err_set(err, EMB_EINVAL, "step must be a positive number of seconds");
    selector_t sel;
    if (rc == 0)
        rc = type_selector(&sel, pb_get_str(in, 1u), pb_get_str(in, 2u), err);
    if (rc)
        return rc;
    size_t ng = pb_count(in, 5u);
    const char **gb = xcalloc(ng + 1, sizeof(*gb));
    for (size_t i = 0; i < ng; i++)
        gb[i] = pb_get_str_at(in, 5u, i);
    bool avg = pb_has(in, 7u) && pb_get_enum(in, 7u) == 1;
    int64_t limit = pb_has(in, 9u) ? pb_get_i64(in, 9u) : 0;
    query_series_set_t set;
    rc = query_select_series(&set, c->a->store, c->tenant, &sel, from, until,
                             (int64_t)(step * 1e9), gb, ng, avg, limit, err);
    for (size_t i = 0; rc == 0 && i < set.n; i++) {
        pb_obj_t *s = pb_add_msg(out, 1u);
        for (size_t k = 0; k < set.v[i].labels.n; k++) {
            pb_obj_t *lp = pb_add_msg(s, 1u);
            pb_set_str(lp, 1u, set.v[i].labels.v[k].name);
            pb_set_str(lp, 2u, set.v[i].labels.v[k].value);
        }
        for (size_t k = 0; k < set.v[i].npts; k++) {
            pb_obj_t *p = pb_add_msg(s, 2u);
            pb_set_double(p, 1u, set.v[i].pts[k].value);
            pb_set_i64(p, 2u, set.v[i].pts[k].ts_ms);
        }
    }
    query_series_set_release(&set);
    free(gb);
    selector_release(&sel);
    return rc;
}

static int rpc_diff(rpc_ctx_t *c, const pb_obj_t *in, pb_obj_t *out, err_t *err)
{
    const pb_obj_t *l = pb_get_msg(in, 1u), *r = pb_get_msg(in, 2u);
    if (!l || !r)
        return err_set(err, EMB_EINVAL, "left and right are required");
    if (strcmp(pb_get_str(l, 1u), pb_get_str(r, 1u)) != 0)
        return err_set(err, EMB_EINVAL, "left and right must have the same profile_typeID");
    int64_t mn = max_nodes_of(c, l, 5, err);
    if (mn < 0)
        return EMB_EINVAL;
    query_tree_t lt, rt;
    int64_t f, u;
    int rc = merge_request(c, l, &lt, &f, &u, err);
    if (rc == 0)
        rc = merge_request(c, r, &rt, &f, &u, err);
    else
        memset(&rt, 0, sizeof(rt));
    if (rc == 0) {
        int64_t *rs, *rtot;
        query_tree_align(&lt, &rt, &rs, &rtot);
        const int64_t *selfs[2] = {lt.self, rs}, *tots[2] = {lt.tot, rtot};
        fg_t fg;
        fg_build_sides(&fg, &lt.strs, &lt.tree, 2, selfs, tots, mn);
        put_flamegraph(pb_set_msg(out, 1u), &fg, true);
        fg_release(&fg);
        free(rs);
        free(rtot);
    }
    query_tree_release(&lt);
    query_tree_release(&rt);
    return rc;
}

static int rpc_profile_stats(rpc_ctx_t *c, const pb_obj_t *in, pb_obj_t *out, err_t *err)
{
    (void)in;
    (void)err;
    int64_t lo, hi;
    if (query_profile_stats(c->a->store, c->tenant, &lo, &hi)) {
        pb_set_bool(out, 1u, true);
        pb_set_i64(out, 2u, lo / NS_PER_MS);
        pb_set_i64(out, 3u, hi / NS_PER_MS);
    }
    return 0;
}

static int rpc_unimplemented(rpc_ctx_t *c, const pb_obj_t *in, pb_obj_t *out, err_t *err)
{
    (void)c;
    (void)in;
    (void)out;
    return err_set(err, EMB_EUNSUPPORTED, "this method is not implemented by Ember yet");
}

/* ---- push.v1 ---- */

/* Push: every sample of every series goes through /ingest's path (rate limit, decode, WAL,
 * head) as format INGEST_FORMAT_PUSH, with one WAL sync for the whole request. Valid samples
 * are stored even when others fail, but any failure fails the call, naming each failed sample
 * (as Pyroscope's distributor). */
static int rpc_push(rpc_ctx_t *c, const pb_obj_t *in, pb_obj_t *out, err_t *err)
{
    (void)out;
    int64_t now = clock_now_ns();
    size_t total = 0;
    for (size_t i = 0; i < pb_count(in, 1u); i++)
        total += pb_count(pb_get_msg_at(in, 1u, i), 2u);
    ingest_req_t *irs = xcalloc(total + 1, sizeof(*irs));
    int *status = xcalloc(total + 1, sizeof(*status));
    err_t *errs = xcalloc(total + 1, sizeof(*errs));
    size_t *where = xcalloc(2 * total + 2, sizeof(*where)); /* series, sample of each item */
    buf_t *names = xcalloc(pb_count(in, 1u) + 1, sizeof(*names));
    size_t n = 0, nstore = 0;
    /* rate limit and label encoding first; what passes is stored in one go */
    for (size_t i = 0; i < pb_count(in, 1u); i++) {
        const pb_obj_t *series = pb_get_msg_at(in, 1u, i);
        labels_t l = LABELS_INIT;
        for (size_t k = 0; k < pb_count(series, 1u); k++) {
            const pb_obj_t *lp = pb_get_msg_at(series, 1u, k);
            labels_set_cstr(&l, pb_get_str(lp, 1u), pb_get_str(lp, 2u));
        }
        int nrc = ingest_push_name(&names[i], &l);
        labels_release(&l);
        for (size_t j = 0; j < pb_count(series, 2u); j++, n++) {
            size_t len = 0;
            const char *raw = pb_get_bytes(pb_get_msg_at(series, 2u, j), 1u, &len);
            where[2 * n] = i;
            where[2 * n + 1] = j;
            status[n] = 200;
            if (nrc) {
                err_set(&errs[n], EMB_EINVAL, "labels cannot be encoded");
                status[n] = 400;
            } else if (!api__rate_allow(c->a, c->tenant, len, &errs[n])) {
                status[n] = 429;
            } else {
                irs[n] = (ingest_req_t){.name = names[i].data, .from_ns = now, .until_ns = now,
                                        .format = INGEST_FORMAT_PUSH,
                                        .body = (const uint8_t *)raw, .body_len = len};
                status[n] = 0; /* to store */
                nstore++;
            }
        }
    }
    /* the samples to store, packed (their statuses land back by index) */
    ingest_req_t *batch = xcalloc(nstore + 1, sizeof(*batch));
    int *bstatus = xcalloc(nstore + 1, sizeof(*bstatus));
    err_t *berrs = xcalloc(nstore + 1, sizeof(*berrs));
    size_t *back = xcalloc(nstore + 1, sizeof(*back));
    size_t m = 0;
    for (size_t k = 0; k < n; k++)
        if (status[k] == 0) {
            back[m] = k;
            batch[m++] = irs[k];
        }
    if (m)
        api__ingest_many(c->a, c->tenant, batch, m, bstatus, berrs);
    for (size_t k = 0; k < m; k++) {
        status[back[k]] = bstatus[k];
        errs[back[k]] = berrs[k];
    }
    int worst = 0, nfailed = 0;
    buf_t msg = BUF_INIT;
    for (size_t k = 0; k < n; k++) {
        if (status[k] == 200)
            continue;
        nfailed++;
        /* resource_exhausted (retry later) outranks invalid_argument outranks internal */
        int code = status[k] == 429 ? 3 : status[k] < 500 ? 2 : 1;
        if (code > worst)
            worst = code;
        if (nfailed <= 8 && buf_printf(&msg, "%sseries[%zu].samples[%zu]: %s",
                                       nfailed > 1 ? "; " : "", where[2 * k], where[2 * k + 1],
                                       errs[k].msg)) {
            /* unbounded buffer */
        }
    }
    int rc = 0;
    if (nfailed)
        rc = err_set(err, worst == 3 ? EMB_ELIMIT : worst == 2 ? EMB_EINVAL : EMB_EIO,
                     "%d of %zu samples failed: %s%s", nfailed, n, msg.data ? msg.data : "",
                     nfailed > 8 ? "; ..." : "");
    buf_release(&msg);
    for (size_t i = 0; i < pb_count(in, 1u); i++)
        buf_release(&names[i]);
    free(names);
    free(irs);
    free(status);
    free(errs);
    free(where);
    free(batch);
    free(bstatus);
    free(berrs);
    free(back);
    return rc;
}

/* ---- dispatch ---- */

typedef struct rpc {
    const char *path;
    const pb_msg_t *in, *out; /* out NULL: the handler creates the response (merge profile) */
    rpc_fn fn;
} rpc_t;

#define Q "/querier.v1.QuerierService/"
static const rpc_t RPCS[] = {
    {Q "ProfileTypes", &pbs_querier_profile_types_request,
     &pbs_querier_profile_types_response, rpc_profile_types},
    {Q "LabelValues", &pbs_types_label_values_request, &pbs_types_label_values_response,
     rpc_label_values},
    {Q "LabelNames", &pbs_types_label_names_request, &pbs_types_label_names_response,
     rpc_label_names},
    {Q "Series", &pbs_querier_series_request, &pbs_querier_series_response, rpc_series},
    {Q "SelectMergeStacktraces", &pbs_querier_select_merge_stacktraces_request,
     &pbs_querier_select_merge_stacktraces_response, rpc_merge_stacktraces},
    {Q "SelectMergeProfile", &pbs_querier_select_merge_profile_request, NULL, NULL},
    {Q "SelectSeries", &pbs_querier_select_series_request, &pbs_querier_select_series_response,
     rpc_select_series},
    {Q "Diff", &pbs_querier_diff_request, &pbs_querier_diff_response, rpc_diff},
    {Q "GetProfileStats", &pbs_types_get_profile_stats_request,
     &pbs_types_get_profile_stats_response, rpc_profile_stats},
    {Q "SelectMergeSpanProfile", &pbs_querier_select_merge_span_profile_request,
     &pbs_querier_select_merge_span_profile_response, rpc_merge_span_profile},
    {Q "SelectHeatmap", &pbs_querier_select_heatmap_request,
     &pbs_querier_select_heatmap_response, rpc_unimplemented},
    {Q "AnalyzeQuery", &pbs_querier_analyze_query_request, &pbs_querier_analyze_query_response,
     rpc_unimplemented},
    {"/push.v1.PusherService/Push", &pbs_push_push_request, &pbs_push_push_response, rpc_push},
};

bool api__media_type_is(const char *ct, const char *want)
{
    size_t n = strlen(want);
    if (!ct || strncasecmp(ct, want, n) != 0)
        return false;
    ct += n;
    while (*ct == ' ' || *ct == '\t')
        ct++;
    return *ct == '\0' || *ct == ';';
}

int api__request_body(const api_t *a, const api_req_t *req, buf_t *unz, const uint8_t **body,
                      size_t *len, err_t *err)
{
    *body = req->body ? req->body : (const uint8_t *)"";
    *len = req->body_len;
    if (!req->content_encoding || strcasecmp(req->content_encoding, "gzip"))
        return 0;
    if (gz_decompress(unz, *body, *len, a->opt.body_limit, err))
        return err->code == EMB_ETOOBIG ? 413 : 400;
    *body = (const uint8_t *)(unz->data ? unz->data : "");
    *len = unz->len;
    return 0;
}

static void connect_error(api_resp_t *resp, int code, const char *msg)
{
    api__reply_error(resp, api_status_for(code), msg);
}

void api__connect(api_t *a, const api_req_t *req, api_resp_t *resp)
{
    const rpc_t *rpc = NULL;
    for (size_t i = 0; i < sizeof(RPCS) / sizeof(RPCS[0]); i++)
        if (!strcmp(RPCS[i].path, req->path))
            rpc = &RPCS[i];
    if (!rpc) {
        api__reply_error(resp, 404, "no such method");
        return;
    }
    if (strcmp(req->method, "POST") != 0) {
        api__reply_error(resp, 405, "Connect methods take POST");
        resp->allow = "POST";
        return;
    }
    if (req->body_too_big) {
        api__reply_error(resp, 413, "request body too large");
        return;
    }
    bool json = api__media_type_is(req->content_type, "application/json");
    bool proto = api__media_type_is(req->content_type, "application/proto");
    if (!json && !proto) {
        api__reply_error(resp, 415, "Content-Type must be application/json or application/proto");
        return;
    }
    const char *tenant = api__tenant(a, req, resp);
    if (!tenant)
        return;
    const char *enc = req->content_encoding;
    if (enc && *enc && strcasecmp(enc, "gzip") && strcasecmp(enc, "identity")) {
        /* Connect: an unsupported compression is code unimplemented */
        api__reply_error(resp, 501, "unsupported Content-Encoding (gzip and identity are)");
        return;
    }
    err_t err = {0, ""};
    const uint8_t *body;
    size_t len;
    buf_t unz = BUF_INIT;
    int status = api__request_body(a, req, &unz, &body, &len, &err);
    if (status) {
        api__reply_error(resp, status, err.msg);
        buf_release(&unz); /* holds what was inflated before the error */
        return;
    }
    pb_obj_t *in = NULL, *out = NULL;
    int rc;
    if (json && len == 0)
        rc = err_set(&err, EMB_EINVAL, "empty JSON body: send {} for an empty message");
    else if (json)
        rc = pb_decode_json(&in, rpc->in, (const char *)body, len, &err);
    else
        rc = pb_decode_binary(&in, rpc->in, body, len, &err);
    if (rc) {
        connect_error(resp, rc == EMB_ETOOBIG ? EMB_ETOOBIG : EMB_EINVAL, err.msg);
        goto out;
    }
    rpc_ctx_t c = {a, req, tenant,
                   req->accept && strstr(req->accept, "allow-utf8-labelnames=true") != NULL};
    if (rpc->out) {
        out = pb_new(rpc->out);
        rc = rpc->fn(&c, in, out, &err);
    } else {
        rc = rpc_merge_profile(&c, in, &out, &err);
    }
    if (rc) {
        connect_error(resp, rc, err.msg);
        goto out;
    }
    rc = json ? pb_encode_json(&resp->body, out) : pb_encode_binary(&resp->body, out);
    if (rc) {
        connect_error(resp, rc, "response exceeds the size limit");
        goto out;
    }
    resp->status = 200;
    resp->content_type = json ? "application/json" : "application/proto";
out:
    pb_free(in);
    pb_free(out);
    buf_release(&unz);
}
