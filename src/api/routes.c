/* Routes: one handler per endpoint of PROTOCOLS.md §0/§1/§3 (Pyroscope 1.x semantics), with
 * the pre-1.0 aliases sharing the same handlers. Errors are JSON {"code","message"} with the
 * status from api_status_for (§1.7). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_int.h"
#include "api/ui.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/mem.h"
#include "ingest/ingest.h"
#include "base/gz.h"
#include "query/attime.h"
#include "query/export.h"
#include "query/query.h"

static const int STATUSES[API_NSTATUS] = {200, 204, 304, 400, 401, 403, 404, 405, 408,
                                          413, 415, 422, 429, 500, 501, 503, 0};

int api_status_for(int code)
{
    switch (code) {
    case 0: return 200;
    case EMB_EINVAL: return 400;
    case EMB_ETOOBIG: return 413;
    case EMB_ENOTFOUND: return 404;
    case EMB_ELIMIT: return 429;
    case EMB_ECORRUPT: return 422;
    case EMB_EUNAVAIL: return 503;
    case EMB_EUNSUPPORTED: return 501;
    default: return 500;
    }
}

static const char *connect_code(int status)
{
    switch (status) {
    case 400: case 413: return "invalid_argument";
    case 401: return "unauthenticated";
    case 403: return "permission_denied";
    case 404: return "not_found";
    case 405: return "unimplemented";
    case 408: case 504: return "deadline_exceeded";
    case 429: return "resource_exhausted";
    case 501: return "unimplemented";
    case 503: return "unavailable";
    default: return "unknown";
    }
}

void api__reply_error(api_resp_t *resp, int status, const char *msg)
{
    resp->status = status;
    resp->content_type = "application/json";
    buf_reset(&resp->body);
    if (buf_printf(&resp->body, "{\"code\":\"%s\",\"message\":", connect_code(status)) ||
        buf_json_str(&resp->body, msg, strlen(msg)) || buf_putc(&resp->body, '}')) {
        buf_reset(&resp->body);
    }
}

static void reply_err(api_resp_t *resp, const err_t *err)
{
    api__reply_error(resp, api_status_for(err->code), err->msg);
}

static const char *arg(const api_req_t *r, const char *key)
{
    for (size_t i = 0; i < r->nargs; i++)
        if (!strcmp(r->args[i].key, key))
            return r->args[i].value;
    return NULL;
}

int api_tenant_valid(const char *id, err_t *err)
{
    size_t n = strlen(id);
    if (n == 0 || n > 150)
        return err_set(err, EMB_EINVAL, "tenant id must be 1..150 bytes");
    if (!strcmp(id, ".") || !strcmp(id, ".."))
        return err_set(err, EMB_EINVAL, "tenant id \"%s\" is not allowed", id);
    for (size_t i = 0; i < n; i++) {
        char c = id[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              strchr("!-_.*'()", c)))
            return err_set(err, EMB_EINVAL, "tenant id contains unsupported character '%c'",
                           c >= 0x20 && c < 0x7f ? c : '?');
    }
    return 0;
}

/* Resolves the tenant per PROTOCOLS.md §4: header ignored unless multitenancy is on. */
const char *api__tenant(api_t *a, const api_req_t *req, api_resp_t *resp)
{
    if (!a->opt.multitenancy)
        return "anonymous";
    const char *t = req->tenant_header;
    if (!t || !*t) {
        api__reply_error(resp, 401, "no org id: the X-Scope-OrgID header is required");
        return NULL;
    }
    err_t err;
    if (api_tenant_valid(t, &err)) {
        api__reply_error(resp, 400, err.msg);
        return NULL;
    }
    return t;
}

/* Formats as ingest_decode names them, in FMT_* order (metrics label values). */
static const char *const FMT_NAMES[FMT_N] = {"folded", "lines", "tree", "trie", "pprof", "jfr",
                                             "speedscope", "perf_script", "push", "otlp"};

static int format_index(const char *f)
{
    for (int i = 0; i < FMT_N; i++)
        if (!strcmp(FMT_NAMES[i], f))
            return i;
    return FMT_FOLDED;
}

static bool rate_take(api_t *a, const char *tenant, size_t cost);

bool api__rate_allow(api_t *a, const char *tenant, size_t cost, err_t *err)
{
    if (rate_take(a, tenant, cost))
        return true;
    err_set(err, EMB_ELIMIT, "ingestion rate limit (%.2f MiB/s, burst %.2f MiB) exceeded for "
            "tenant %s", a->opt.rate_bytes_per_s / 1048576.0, a->opt.burst_bytes / 1048576.0,
            tenant);
    return false;
}

/* Takes cost bytes from tenant's bucket; false (→ 429) when they are not there. */
static bool rate_take(api_t *a, const char *tenant, size_t cost)
{
    if (a->opt.rate_bytes_per_s <= 0)
        return true;
    pthread_mutex_lock(&a->limit_mu);
    api_bucket_t *b = NULL;
    for (size_t i = 0; i < a->nbuckets; i++)
        if (!strcmp(a->buckets[i].tenant, tenant))
            b = &a->buckets[i];
    int64_t now = clock_mono_ns();
    if (!b) {
        xgrow(&a->buckets, &a->capbuckets, a->nbuckets + 1, sizeof(*a->buckets));
        b = &a->buckets[a->nbuckets++];
        b->tenant = xstrdup(tenant);
        b->tokens = a->opt.burst_bytes;
        b->last_ns = now;
    }
    b->tokens += (double)(now - b->last_ns) / 1e9 * a->opt.rate_bytes_per_s;
    if (b->tokens > a->opt.burst_bytes)
        b->tokens = a->opt.burst_bytes;
    b->last_ns = now;
    bool ok = (double)cost <= b->tokens;
    if (ok)
        b->tokens -= (double)cost;
    pthread_mutex_unlock(&a->limit_mu);
    return ok;
}

static void h_ingest(api_t *a, const api_req_t *req, api_resp_t *resp)
{
    if (req->body_too_big) {
        api__reply_error(resp, 413, "request body too large");
        return;
    }
    const char *tenant = api__tenant(a, req, resp);
    if (!tenant)
        return;
    err_t rerr;
    if (!api__rate_allow(a, tenant, req->body_len, &rerr)) {
        api__reply_error(resp, 429, rerr.msg);
        return;
    }
    int64_t now = clock_now_ns();
    const char *name = arg(req, "name");
    if (!name || !*name) {
        api__reply_error(resp, 400, "missing required parameter \"name\"");
        return;
    }
    ingest_req_t ir = {
        .name = name,
        .from_ns = attime_parse(arg(req, "from"), now),
        .until_ns = attime_parse(arg(req, "until"), now),
        .format = arg(req, "format"),
        .sample_rate = arg(req, "sampleRate"),
        .spy_name = arg(req, "spyName"),
        .content_type = req->content_type,
        .body = req->body ? req->body : (const uint8_t *)"",
        .body_len = req->body_len,
    };
    if (ir.until_ns < ir.from_ns)
        ir.until_ns = ir.from_ns;
    err_t err = {0, ""};
    int status = api__ingest(a, tenant, &ir, &err);
    if (status != 200)
        api__reply_error(resp, status, err.msg);
    resp->status = status;
}

int api__ingest(api_t *a, const char *tenant, const ingest_req_t *ir, err_t *err)
{
    int status;
    api__ingest_many(a, tenant, ir, 1, &status, err);
    return status;
}

void api__ingest_many(api_t *a, const char *tenant, const ingest_req_t *irs, size_t n,
                      int *status, err_t *errs)
{
    ingest_limits_t lim = {a->opt.max_profile_size, a->opt.max_label_names_per_series,
                           a->opt.max_label_name_length, a->opt.max_label_value_length,
                           a->opt.max_nodes_per_profile};
    batch_t *bs = xcalloc(n + 1, sizeof(*bs));
    buf_t *recs = xcalloc(n + 1, sizeof(*recs));
    const char **fmts = xcalloc(n + 1, sizeof(*fmts));
    store_item_t *items = xcalloc(n + 1, sizeof(*items));
    size_t *item_of = xcalloc(n + 1, sizeof(*item_of));
    size_t nitems = 0;
    for (size_t i = 0; i < n; i++) {
        fmts[i] = "folded";
        status[i] = 200;
        int rc = ingest_decode(&bs[i], &fmts[i], &irs[i], &lim, &errs[i]);
        if (rc) {
            /* Pyroscope: bad metadata 400; anything wrong with the body 422 */
            status[i] = rc == EMB_EINVAL ? 400 : rc == EMB_EUNSUPPORTED ? 501 : 422;
            atomic_fetch_add(&a->ing_errors, 1);
        } else if (bs[i].nprofs > 0) {
            if (ingest_record_encode(&recs[i], tenant, &irs[i])) {
                err_set(&errs[i], EMB_EINVAL, "parameters contain unsupported bytes");
                status[i] = 400;
            } else {
                item_of[nitems] = i;
                items[nitems++] = (store_item_t){&bs[i], (const uint8_t *)recs[i].data,
                                                 recs[i].len, 0, &errs[i]};
            }
        }
    }
    if (nitems)
        store_append_many(a->store, tenant, items, nitems);
    for (size_t k = 0; k < nitems; k++)
        if (items[k].rc) {
            if (items[k].rc != EMB_ELIMIT)
                log_error("ingest: %s", items[k].err->msg);
            status[item_of[k]] = api_status_for(items[k].rc);
        }
    for (size_t i = 0; i < n; i++) {
        if (status[i] == 200) {
            int fi = format_index(fmts[i]);
            atomic_fetch_add(&a->ing_profiles[fi], bs[i].nprofs);
            atomic_fetch_add(&a->ing_bytes[fi], irs[i].body_len);
            atomic_fetch_add(&a->ing_samples[fi], bs[i].nsamples);
        }
        batch_release(&bs[i]);
        buf_release(&recs[i]);
    }
    free(bs);
    free(recs);
    free(fmts);
    free(items);
    free(item_of);
}

int api_query_range(const api_options_t *opt, int64_t *from, int64_t *until, err_t *err)
{
    if (opt->max_query_lookback_ns > 0) {
        int64_t oldest = clock_now_ns() - opt->max_query_lookback_ns;
        if (*from < oldest)
            *from = oldest;
        if (*until < *from)
            *until = *from;
    }
    if (opt->max_query_length_ns > 0 && *until - *from > opt->max_query_length_ns)
        return err_set(err, EMB_EINVAL, "the query time range exceeds the limit "
                       "(max_query_length %llds)",
                       (long long)(opt->max_query_length_ns / NS_PER_S));
    return 0;
}

/* from/until with Pyroscope's defaults; a bound that parses to 0 is an error (§3.1). */
static bool time_range(const api_options_t *opt, const api_req_t *req, api_resp_t *resp,
                       int64_t *from, int64_t *until, int64_t def_from_ago)
{
    int64_t now = clock_now_ns();
    const char *f = arg(req, "from"), *u = arg(req, "until");
    *from = f ? attime_parse(f, now) : now - def_from_ago;
    *until = u ? attime_parse(u, now) : now;
    if (*from == 0 || *until == 0) {
        api__reply_error(resp, 400, "missing time range");
        return false;
    }
    if (*from > *until) {
        api__reply_error(resp, 400, "from is after until");
        return false;
    }
    err_t err = {0, ""};
    if (api_query_range(opt, from, until, &err)) {
        api__reply_error(resp, 400, err.msg);
        return false;
    }
    return true;
}

/* maxNodes (or max-nodes; 0 when absent); false after answering 400. */
/* A non-negative integer parameter (text, NULL or "" = keep *out); false after answering
 * 400 naming it. */
static bool uint_param(const char *text, const char *name, api_resp_t *resp, int64_t *out)
{
    if (!text || !*text)
        return true;
    char *end;
    long long v = strtoll(text, &end, 10);
    if (*end || v < 0) {
        char msg[96];
        snprintf(msg, sizeof(msg), "%s must be a non-negative integer", name);
        api__reply_error(resp, 400, msg);
        return false;
    }
    *out = v;
    return true;
}

static bool max_nodes_param(const api_req_t *req, api_resp_t *resp, int64_t *out)
{
    const char *mn = arg(req, "maxNodes");
    if (!mn || !*mn)
        mn = arg(req, "max-nodes");
    *out = 0;
    return uint_param(mn, "maxNodes", resp, out);
}

/* /render?format=pprof|collapsed (the pre-1.0 exports): the merged tree as gzipped pprof
 * or folded text. */
static void render_export(api_t *a, const char *tenant, const query_render_t *r, bool pprof,
                          api_resp_t *resp)
{
    selector_t sel;
    err_t err = {0, ""};
    if (query_selector(&sel, r->query, &err)) {
        reply_err(resp, &err);
        return;
    }
    query_tree_t t;
    int rc = query_merge_tree(&t, a->store, tenant, &sel, r->from_ns, r->until_ns, &err);
    if (rc == 0 && pprof) {
        buf_t raw = BUF_INIT;
        export_meta_t meta = {t.sample_type, t.sample_unit, t.period_type ?: "",
                              t.period_unit ?: "", 0, r->from_ns, r->until_ns - r->from_ns};
        rc = export_pprof(&raw, &t, &meta);
        if (rc == 0)
            rc = gz_compress(&resp->body, (const uint8_t *)raw.data, raw.len, 6, &err);
        buf_release(&raw);
        resp->content_type = "application/octet-stream";
    } else if (rc == 0) {
        rc = export_collapsed(&resp->body, &t);
        resp->content_type = "text/plain; charset=utf-8";
    }
    query_tree_release(&t);
    selector_release(&sel);
    if (rc) {
        if (!err.msg[0])
            err_set(&err, rc, "export failed (%s)", err_name(rc));
        reply_err(resp, &err);
        return;
    }
    resp->status = 200;
}

static void h_render(api_t *a, const api_req_t *req, api_resp_t *resp)
{
    const char *tenant = api__tenant(a, req, resp);
    if (!tenant)
        return;
    const char *q = arg(req, "query");
    if (!q || !*q)
        q = arg(req, "name");
    if (!q || !*q) {
        api__reply_error(resp, 400, "missing required parameter \"query\"");
        return;
    }
    const char *format = arg(req, "format");
    bool want_pprof = format && !strcmp(format, "pprof");
    bool want_collapsed = format && !strcmp(format, "collapsed");
    if (format && *format && strcmp(format, "json") && !want_pprof && !want_collapsed) {
        char msg[128];
        snprintf(msg, sizeof(msg), "format \"%.40s\" is not supported (json, pprof, collapsed)",
                 format);
        api__reply_error(resp, 400, msg);
        return;
    }
    query_render_t r;
    memset(&r, 0, sizeof(r));
    r.query = q;
    if (!time_range(&a->opt, req, resp, &r.from_ns, &r.until_ns, 3600 * NS_PER_S))
        return;
    if (!max_nodes_param(req, resp, &r.max_nodes))
        return;
    r.group_by = arg(req, "groupBy");
    const char *agg = arg(req, "aggregation");
    r.avg = agg && !strcmp(agg, "avg");
    if (want_pprof || want_collapsed) {
        render_export(a, tenant, &r, want_pprof, resp);
        return;
    }
    query_limits_t lim = {a->opt.max_nodes_default, a->opt.max_nodes_max};
    err_t err = {0, ""};
    int rc = query_render_json(&resp->body, a->store, tenant, &r, &lim, &err);
    if (rc) {
        reply_err(resp, &err);
        return;
    }
    resp->status = 200;
}

/* One side of /render-diff: <side>Query, <side>From, <side>Until. */
static bool diff_side(const api_options_t *opt, const api_req_t *req, api_resp_t *resp,
                      const char *side, query_render_t *out)
{
    char k[32];
    int64_t now = clock_now_ns();
    snprintf(k, sizeof(k), "%sQuery", side);
    out->query = arg(req, k);
    if (!out->query || !*out->query) {
        char msg[64];
        snprintf(msg, sizeof(msg), "missing required parameter \"%s\"", k);
        api__reply_error(resp, 400, msg);
        return false;
    }
    snprintf(k, sizeof(k), "%sFrom", side);
    const char *f = arg(req, k);
    snprintf(k, sizeof(k), "%sUntil", side);
    const char *u = arg(req, k);
    out->from_ns = f ? attime_parse(f, now) : now - 3600 * NS_PER_S;
    out->until_ns = u ? attime_parse(u, now) : now;
    if (out->from_ns > out->until_ns) {
        api__reply_error(resp, 400, "from is after until");
        return false;
    }
    err_t err = {0, ""};
    if (api_query_range(opt, &out->from_ns, &out->until_ns, &err)) {
        api__reply_error(resp, 400, err.msg);
        return false;
    }
    return true;
}

/* Tenant and both sides of a diff request; NULL after answering an error. */
static const char *diff_request(api_t *a, const api_req_t *req, api_resp_t *resp,
                                query_render_t *l, query_render_t *r)
{
    const char *tenant = api__tenant(a, req, resp);
    if (!tenant)
        return NULL;
    memset(l, 0, sizeof(*l));
    memset(r, 0, sizeof(*r));
    if (!diff_side(&a->opt, req, resp, "left", l) || !diff_side(&a->opt, req, resp, "right", r))
        return NULL;
    return tenant;
}

static void h_render_diff(api_t *a, const api_req_t *req, api_resp_t *resp)
{
    query_render_t l, r;
    const char *tenant = diff_request(a, req, resp, &l, &r);
    if (!tenant)
        return;
    if (!max_nodes_param(req, resp, &l.max_nodes))
        return;
    query_limits_t lim = {a->opt.max_nodes_default, a->opt.max_nodes_max};
    err_t err = {0, ""};
    if (query_render_diff_json(&resp->body, a->store, tenant, &l, &r, &lim, &err)) {
        reply_err(resp, &err);
        return;
    }
    resp->status = 200;
}

static void h_diff_top(api_t *a, const api_req_t *req, api_resp_t *resp)
{
    query_render_t l, r;
    const char *tenant = diff_request(a, req, resp, &l, &r);
    if (!tenant)
        return;
    int64_t limit = 20;
    if (!uint_param(arg(req, "limit"), "limit", resp, &limit))
        return;
    err_t err = {0, ""};
    if (query_diff_top_json(&resp->body, a->store, tenant, &l, &r, (size_t)limit, &err)) {
        reply_err(resp, &err);
        return;
    }
    resp->status = 200;
}

static void h_labels(api_t *a, const api_req_t *req, api_resp_t *resp)
{
    const char *tenant = api__tenant(a, req, resp);
    if (!tenant)
        return;
    int64_t from, until;
    if (!time_range(&a->opt, req, resp, &from, &until, 3600 * NS_PER_S))
        return;
    err_t err = {0, ""};
    if (query_label_names(&resp->body, a->store, tenant, arg(req, "query"), from, until,
                          false, &err)) {
        reply_err(resp, &err);
        return;
    }
    resp->status = 200;
}

static void h_label_values(api_t *a, const api_req_t *req, api_resp_t *resp, bool v1)
{
    const char *tenant = api__tenant(a, req, resp);
    if (!tenant)
        return;
    const char *label = arg(req, "label");
    if (!label || !*label) {
        api__reply_error(resp, 400, "missing required parameter \"label\"");
        return;
    }
    int64_t from = 0, until = INT64_MAX;
    /* Pyroscope 1.x ignores the range on /pyroscope/label-values; pre-1.0 honours it */
    if (!v1 || arg(req, "from") || arg(req, "until"))
        if (!time_range(&a->opt, req, resp, &from, &until, 3600 * NS_PER_S))
            return;
    err_t err = {0, ""};
    if (query_label_values(&resp->body, a->store, tenant, label, arg(req, "query"), from,
                           until, v1, &err)) {
        reply_err(resp, &err);
        return;
    }
    resp->status = 200;
}

static void h_apps(api_t *a, const api_req_t *req, api_resp_t *resp)
{
    const char *tenant = api__tenant(a, req, resp);
    if (!tenant)
        return;
    err_t err = {0, ""};
    if (query_apps(&resp->body, a->store, tenant, &err)) {
        reply_err(resp, &err);
        return;
    }
    resp->status = 200;
}

/* /api/v1/status/buildinfo (Prometheus' shape, as Pyroscope answers it) and
 * /api/v1/status/config (the effective configuration as YAML, secrets redacted). */
static void h_status(api_t *a, const api_req_t *req, api_resp_t *resp)
{
    resp->status = 200;
    int rc;
    if (!strcmp(req->path, "/api/v1/status/config")) {
        resp->content_type = "text/plain; charset=utf-8";
        rc = buf_puts(&resp->body, a->opt.config_yaml ? a->opt.config_yaml : "");
    } else {
        const char *v = a->opt.version ? a->opt.version : "";
        rc = buf_puts(&resp->body, "{\"status\":\"success\",\"data\":{\"application\":\"ember\","
                                   "\"version\":");
        if (rc == 0)
            rc = buf_json_str(&resp->body, v, strlen(v));
        if (rc == 0)
            rc = buf_puts(&resp->body, ",\"revision\":\"\",\"branch\":\"\",\"buildUser\":\"\","
                                       "\"buildDate\":\"\",\"goVersion\":\"\"}}");
    }
    if (rc)
        resp->status = 500;
}

static void h_ready(api_t *a, api_resp_t *resp)
{
    resp->content_type = "text/plain; charset=utf-8";
    bool ok = atomic_load(&a->ready);
    resp->status = ok ? 200 : 503;
    if (buf_puts(&resp->body, ok ? "ready\n" : "not ready: replaying the WAL\n"))
        resp->status = 500;
}

static void h_metrics(api_t *a, api_resp_t *resp)
{
    static const char *route_names[R_N] = {"ingest", "render", "render_diff", "connect", "labels",
                                           "label_values",
                                           "apps", "ready", "metrics", "admin", "otlp",
                                           "status", "other"};
    buf_t *b = &resp->body;
    store_stats_t st;
    store_stats(a->store, &st);
    int rc = buf_puts(b, "# HELP ember_http_requests_total HTTP requests by route and status.\n"
                         "# TYPE ember_http_requests_total counter\n");
    for (int r = 0; rc == 0 && r < R_N; r++)
        for (int s = 0; rc == 0 && s < API_NSTATUS; s++) {
            uint64_t v = atomic_load(&a->requests[r][s]);
            if (v)
                rc = buf_printf(b, "ember_http_requests_total{route=\"%s\",status=\"%d\"} %llu\n",
                                route_names[r], STATUSES[s] ? STATUSES[s] : 0,
                                (unsigned long long)v);
        }
    const char *fam[3][2] = {
        {"ember_ingested_profiles_total", "Profiles (one per sample type) accepted."},
        {"ember_ingested_bytes_total", "Request body bytes accepted."},
        {"ember_ingested_samples_total", "Samples accepted."}};
    _Atomic uint64_t *arrs[3] = {a->ing_profiles, a->ing_bytes, a->ing_samples};
    for (int k = 0; rc == 0 && k < 3; k++) {
        rc = buf_printf(b, "# HELP %s %s\n# TYPE %s counter\n", fam[k][0], fam[k][1], fam[k][0]);
        for (int f = 0; rc == 0 && f < FMT_N; f++)
            rc = buf_printf(b, "%s{format=\"%s\"} %llu\n", fam[k][0], FMT_NAMES[f],
                            (unsigned long long)atomic_load(&arrs[k][f]));
    }
    if (rc == 0)
        rc = buf_printf(b,
                        "# HELP ember_ingest_errors_total Ingest requests refused for bad input.\n"
                        "# TYPE ember_ingest_errors_total counter\n"
                        "ember_ingest_errors_total %llu\n"
                        "# HELP ember_blocks Blocks serving queries.\n"
                        "# TYPE ember_blocks gauge\n"
                        "ember_blocks %llu\n"
                        "# HELP ember_block_bytes Bytes of the blocks serving queries.\n"
                        "# TYPE ember_block_bytes gauge\n"
                        "ember_block_bytes %llu\n"
                        "# HELP ember_block_cuts_total Head cuts into blocks.\n"
                        "# TYPE ember_block_cuts_total counter\n"
                        "ember_block_cuts_total %llu\n"
                        "# HELP ember_compactions_total Compactions done.\n"
                        "# TYPE ember_compactions_total counter\n"
                        "ember_compactions_total %llu\n"
                        "# HELP ember_retention_deleted_blocks_total Blocks deleted by retention.\n"
                        "# TYPE ember_retention_deleted_blocks_total counter\n"
                        "ember_retention_deleted_blocks_total %llu\n"
                        "# HELP ember_blocks_quarantined_total Damaged blocks moved aside.\n"
                        "# TYPE ember_blocks_quarantined_total counter\n"
                        "ember_blocks_quarantined_total %llu\n"
                        "# HELP ember_wal_fsyncs_total WAL fsync calls (group commits).\n"
                        "# TYPE ember_wal_fsyncs_total counter\n"
                        "ember_wal_fsyncs_total %llu\n"
                        "# HELP ember_wal_bytes_total Bytes appended to the WAL.\n"
                        "# TYPE ember_wal_bytes_total counter\n"
                        "ember_wal_bytes_total %llu\n"
                        "# HELP ember_head_series Series held in the in-memory head.\n"
                        "# TYPE ember_head_series gauge\n"
                        "ember_head_series %zu\n",
                        (unsigned long long)atomic_load(&a->ing_errors),
                        (unsigned long long)st.blocks, (unsigned long long)st.block_bytes,
                        (unsigned long long)st.cuts, (unsigned long long)st.compactions,
                        (unsigned long long)st.retention_deleted,
                        (unsigned long long)st.quarantined,
                        (unsigned long long)st.wal_fsyncs, (unsigned long long)st.wal_bytes,
                        (size_t)st.head_series);
    resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
    resp->status = rc ? 500 : 200;
}

/* Storage maintenance on demand (the background thread does the same on its schedule):
 * cut the head into blocks, compact, apply retention. Answers what was done as JSON. */
static void h_admin(api_t *a, const api_req_t *req, api_resp_t *resp)
{
    err_t err = {0, ""};
    size_t n = 0;
    int rc;
    const char *what = req->path + strlen("/api/v1/admin/");
    if (!strcmp(what, "cut"))
        rc = store_cut(a->store, &n, &err);
    else if (!strcmp(what, "compact"))
        rc = store_compact(a->store, &n, &err);
    else
        rc = store_retain(a->store, clock_now_ns(), &n, &err);
    if (rc) {
        reply_err(resp, &err);
        return;
    }
    store_stats_t st;
    store_stats(a->store, &st);
    resp->status = buf_printf(&resp->body, "{\"done\":\"%s\",\"blocksAffected\":%zu,"
                              "\"blocks\":%llu,\"headSeries\":%llu}", what, n,
                              (unsigned long long)st.blocks,
                              (unsigned long long)st.head_series) ? 500 : 200;
}

typedef struct route {
    const char *path;
    const char *method;
    int id;
} route_t;

static const route_t ROUTES[] = {
    {"/ingest", "POST", R_INGEST},
    {"/v1development/profiles", "POST", R_OTLP},
    {"/api/v1/status/buildinfo", "GET", R_STATUS},
    {"/api/v1/status/config", "GET", R_STATUS},
    {"/opentelemetry.proto.collector.profiles.v1development.ProfilesService/Export", "POST",
     R_OTLP},
    {"/pyroscope/ingest", "POST", R_INGEST},
    {"/render", "GET", R_RENDER},
    {"/pyroscope/render", "GET", R_RENDER},
    {"/render-diff", "GET", R_RENDER_DIFF},
    {"/pyroscope/render-diff", "GET", R_RENDER_DIFF},
    {"/api/diff/top", "GET", R_RENDER_DIFF},
    {"/labels", "GET", R_LABELS},
    {"/label-values", "GET", R_LABEL_VALUES},
    {"/pyroscope/label-values", "GET", R_LABEL_VALUES},
    {"/api/apps", "GET", R_APPS},
    {"/ready", "GET", R_READY},
    {"/metrics", "GET", R_METRICS},
    {"/api/v1/admin/cut", "POST", R_ADMIN},
    {"/api/v1/admin/compact", "POST", R_ADMIN},
    {"/api/v1/admin/retention", "POST", R_ADMIN},
};

static void count(api_t *a, int route, int status)
{
    int s = API_NSTATUS - 1;
    for (int i = 0; i < API_NSTATUS - 1; i++)
        if (STATUSES[i] == status) {
            s = i;
            break;
        }
    atomic_fetch_add(&a->requests[route][s], 1);
}

void api__dispatch(api_t *a, const api_req_t *req, api_resp_t *resp)
{
    const route_t *rt = NULL;
    for (size_t i = 0; i < sizeof(ROUTES) / sizeof(ROUTES[0]); i++)
        if (!strcmp(ROUTES[i].path, req->path)) {
            rt = &ROUTES[i];
            break;
        }
    if (!rt && (!strncmp(req->path, "/querier.v1.", 12) || !strncmp(req->path, "/push.v1.", 9))) {
        if (!atomic_load(&a->ready)) {
            api__reply_error(resp, 503, "not ready: replaying the WAL");
            count(a, R_CONNECT, 503);
            return;
        }
        api__connect(a, req, resp);
        count(a, R_CONNECT, resp->status);
        return;
    }
    if (!rt && ui_serve(req, resp)) {
        count(a, R_OTHER, resp->status);
        return;
    }
    if (!rt) {
        api__reply_error(resp, 404, "not found");
        count(a, R_OTHER, 404);
        return;
    }
    bool head_ok = !strcmp(rt->method, "GET") && !strcmp(req->method, "HEAD");
    if (strcmp(rt->method, req->method) && !head_ok) {
        api__reply_error(resp, 405, "method not allowed");
        resp->allow = rt->method;
        count(a, rt->id, 405);
        return;
    }
    if (!atomic_load(&a->ready) && rt->id != R_READY && rt->id != R_METRICS) {
        api__reply_error(resp, 503, "not ready: replaying the WAL");
        count(a, rt->id, 503);
        return;
    }
    switch (rt->id) {
    case R_INGEST: h_ingest(a, req, resp); break;
    case R_RENDER: h_render(a, req, resp); break;
    case R_RENDER_DIFF:
        if (!strcmp(req->path, "/api/diff/top"))
            h_diff_top(a, req, resp);
        else
            h_render_diff(a, req, resp);
        break;
    case R_LABELS: h_labels(a, req, resp); break;
    case R_LABEL_VALUES:
        h_label_values(a, req, resp, !strcmp(req->path, "/pyroscope/label-values"));
        break;
    case R_APPS: h_apps(a, req, resp); break;
    case R_READY: h_ready(a, resp); break;
    case R_METRICS: h_metrics(a, resp); break;
    case R_ADMIN: h_admin(a, req, resp); break;
    case R_OTLP: api__otlp(a, req, resp); break;
    case R_STATUS: h_status(a, req, resp); break;
    }
    if (resp->status == 0)
        resp->status = 500;
    count(a, rt->id, resp->status);
}

int api_start(api_t **out, store_t *s, const api_options_t *opt, err_t *err)
{
    api_t *a = xcalloc(1, sizeof(*a));
    pthread_mutex_init(&a->limit_mu, NULL);
    a->store = s;
    a->opt = *opt;
    int rc = api__http_start(a, err);
    if (rc) {
        pthread_mutex_destroy(&a->limit_mu);
        free(a);
        *out = NULL;
        return rc;
    }
    *out = a;
    return 0;
}

void api_set_ready(api_t *a, bool ready) { atomic_store(&a->ready, ready); }

void api_stop(api_t *a)
{
    if (!a)
        return;
    api__http_stop(a);
    for (size_t i = 0; i < a->nbuckets; i++)
        free(a->buckets[i].tenant);
    free(a->buckets);
    pthread_mutex_destroy(&a->limit_mu);
    free(a);
}
