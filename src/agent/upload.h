/* upload.h — the uploader thread: a bounded queue of gzipped pprof bodies sent to the
 * server's /ingest with our own small HTTP/1.1 client (plain sockets, Connection: close),
 * retried with exponential backoff (1 s doubling to 60 s) on connection errors, 408, 429
 * and 5xx; other 4xx answers drop the profile (retrying cannot help).
 *
 * The host program never waits for it: the collector only enqueues. When the server is down
 * the queue stays bounded (UPLOAD_MAX_ITEMS / UPLOAD_MAX_BYTES): the oldest profile is
 * dropped and counted. No libcurl: the preloaded library stays small and fork-safe.
 */
#ifndef AGENT_UPLOAD_H
#define AGENT_UPLOAD_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/conf.h"

#define UPLOAD_MAX_ITEMS 16
#define UPLOAD_MAX_BYTES (32u << 20)

typedef struct upload upload_t;

typedef struct upload_stats {
    uint64_t sent, failed_attempts, dropped, rejected;
} upload_stats_t;

/* Starts the uploader thread for conf c (copied): created with create_thread (libember
 * passes the real pthread_create, so the thread is not profiled), which first calls
 * thread_init (may be NULL; libember excludes the thread from allocation sampling).
 * OUT: *out (owned, upload_stop frees it). Returns 0, EMBER_ENOMEM, EMBER_ESYS. */
int upload_new(upload_t **out, const conf_t *c,
               int (*create_thread)(pthread_t *, void *(*)(void *), void *),
               void (*thread_init)(void));

/* Queues one body for target (path and query, e.g. "/ingest?name=..."; copied). Takes
 * body (freed by the uploader, also on failure). Thread-safe. */
void upload_push(upload_t *u, const char *target, uint8_t *body, size_t len);

/* Sends what is queued for at most deadline_ms, then stops the thread and frees u. */
void upload_stop(upload_t *u, int deadline_ms);

/* Counters so far. */
upload_stats_t upload_stats(upload_t *u);

/* Percent-encodes s for a query string value into out[size]; false when it does not fit. */
bool upload_urlencode(char *out, size_t size, const char *s);

#endif
