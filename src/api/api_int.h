/* Internals shared by the api/ files: the request/response shapes routes work on, the api_t body
 * and the metric counters. Not to be included from outside api/. */
#ifndef EMBER_API_API_INT_H
#define EMBER_API_API_INT_H

#include <pthread.h>
#include <stdatomic.h>

#include "api/api.h"
#include "base/buf.h"
#include "ingest/ingest.h"

#define API_MAX_ARGS 64

typedef struct api_arg {
    const char *key, *value; /* borrowed from the HTTP library for the request's lifetime */
} api_arg_t;

typedef struct api_req {
    const char *method, *path;
    const char *content_type, *tenant_header;
    const char *content_encoding, *accept, *accept_encoding;
    const char *if_none_match; /* for the UI's ETag revalidation (ui.c) */
    const uint8_t *body;
    size_t body_len;
    bool body_too_big;
    api_arg_t args[API_MAX_ARGS];
    size_t nargs;
} api_req_t;

typedef struct api_resp {
    int status;
    const char *content_type; /* static; NULL = application/json */
    const char *allow;        /* Allow header for 405 */
    const char *content_encoding; /* static, e.g. "gzip"; NULL = none */
    const char *etag, *cache_control, *vary; /* static or borrowed; NULL = no header */
    buf_t body;
} api_resp_t;

enum { FMT_FOLDED, FMT_LINES, FMT_TREE, FMT_TRIE, FMT_PPROF, FMT_JFR, FMT_SPEEDSCOPE,
       FMT_PERF_SCRIPT, FMT_PUSH, FMT_OTLP, FMT_N };

enum {
    R_INGEST, R_RENDER, R_RENDER_DIFF, R_CONNECT, R_LABELS, R_LABEL_VALUES, R_APPS, R_READY, R_METRICS, R_ADMIN,
    R_OTLP, R_STATUS, R_OTHER, R_N
};

#define API_NSTATUS 17

/* Per-tenant token bucket for limits.ingestion_rate_mb. */
typedef struct api_bucket {
    char *tenant;
    double tokens;
    int64_t last_ns;
} api_bucket_t;

struct api {
    pthread_mutex_t limit_mu;
    api_bucket_t *buckets;
    size_t nbuckets, capbuckets;
    store_t *store;
    api_options_t opt;
    void *daemon; /* struct MHD_Daemon* */
    atomic_bool ready;
    _Atomic uint64_t requests[R_N][API_NSTATUS];
    _Atomic uint64_t ing_profiles[FMT_N], ing_bytes[FMT_N], ing_samples[FMT_N];
    _Atomic uint64_t ing_errors;
};

void api__dispatch(api_t *a, const api_req_t *req, api_resp_t *resp);
/* Connect unary RPCs (connect.c); path starts with "/querier.v1." or "/push.v1.". */
void api__connect(api_t *a, const api_req_t *req, api_resp_t *resp);
/* Shared by routes.c and connect.c. */
void api__reply_error(api_resp_t *resp, int status, const char *msg);
const char *api__tenant(api_t *a, const api_req_t *req, api_resp_t *resp);
/* Takes cost bytes from tenant's ingestion rate bucket; false (err: EMB_ELIMIT, message
 * naming the limit) when they are not there. */
bool api__rate_allow(api_t *a, const char *tenant, size_t cost, err_t *err);
/* Decodes ir, makes it durable and applies it for tenant, counting it in the metrics.
 * Returns the HTTP status: 200, or 400/413/422/429/5xx with err set. */
int api__ingest(api_t *a, const char *tenant, const ingest_req_t *ir, err_t *err);
/* api__ingest for n requests of one tenant with one WAL sync for all of them (Push, OTLP).
 * OUT: status[i] and errs[i] per request, as api__ingest returns them. */
void api__ingest_many(api_t *a, const char *tenant, const ingest_req_t *irs, size_t n,
                      int *status, err_t *errs);
/* Whether Content-Type ct (may be NULL) names media type `want` exactly (case-insensitively),
 * parameters such as "; charset=utf-8" aside: "application/jsonx" is not JSON. */
bool api__media_type_is(const char *ct, const char *want);
/* The request body, gunzipped (into unz, capped at the body limit) for Content-Encoding gzip.
 * OUT: *body, *len. Returns 0, or the HTTP status of the failure (413, 400) with err set. */
int api__request_body(const api_t *a, const api_req_t *req, buf_t *unz, const uint8_t **body,
                      size_t *len, err_t *err);
/* OTLP profiles export over HTTP (otlp.c). */
void api__otlp(api_t *a, const api_req_t *req, api_resp_t *resp);
int api__http_start(api_t *a, err_t *err);
void api__http_stop(api_t *a);

#endif
