/* api/: HTTP glue — parse a request, call ingest/query/store, write the response
 * (DESIGN.md §5). Thin on purpose: no decoding or merging happens here.
 *
 * api_t is created by server/ with borrowed pointers to the store and config values and
 * owns the HTTP daemon (libmicrohttpd, thread pool + epoll). Every handler is reentrant;
 * counters for /metrics are atomics inside api_t.
 */
#ifndef EMBER_API_API_H
#define EMBER_API_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "store/store.h"

typedef struct api_options {
    const char *version;          /* /api/v1/status/buildinfo */
    const char *config_yaml;      /* /api/v1/status/config: the effective config, secrets
                                   * redacted; borrowed, must outlive the api */
    const char *listen_address;   /* NULL or "" = all interfaces */
    int port;
    int threads;
    bool multitenancy;
    size_t body_limit;            /* bytes; 413 above */
    size_t max_profile_size;      /* decompressed pprof bytes */
    size_t max_label_names_per_series, max_label_name_length, max_label_value_length;
    int64_t max_nodes_default, max_nodes_max;
    size_t max_nodes_per_profile; /* ingest-time truncation, 0 = off */
    double rate_bytes_per_s, burst_bytes; /* per-tenant ingest limit, rate 0 = off */
    int64_t max_query_lookback_ns, max_query_length_ns; /* 0 = off */
} api_options_t;

typedef struct api api_t;

/* Starts serving. s is borrowed and must outlive the api. OUT: *out (owned; api_stop). */
int api_start(api_t **out, store_t *s, const api_options_t *opt, err_t *err);

/* Marks the server ready (/ready answers 200) — after WAL replay. */
void api_set_ready(api_t *a, bool ready);

/* Stops accepting, waits for in-flight requests, frees the api. */
void api_stop(api_t *a);

/* Validates a tenant id (dskit rules: [A-Za-z0-9!-_.*'()], ≤150 bytes, not "." or ".."). */
int api_tenant_valid(const char *id, err_t *err);

/* Applies the query range limits: moves *from up to now - lookback (silently, as Pyroscope)
 * and refuses a range longer than max_query_length (EMB_EINVAL). */
int api_query_range(const api_options_t *opt, int64_t *from, int64_t *until, err_t *err);

/* HTTP status for an error code (one table, STYLE.md B3). */
int api_status_for(int code);

#endif
