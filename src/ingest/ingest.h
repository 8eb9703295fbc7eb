/* ingest/: turns one /ingest request (parameters + body) into a batch_t, without locks.
 *
 * Format selection follows PROTOCOLS.md §1.3; the legacy name → labels and profile type
 * conversion follows §1.4/§1.5. The same function replays WAL records at startup, so decoding
 * must be deterministic: every "now" is resolved by the caller into from/until before the
 * record is written.
 *
 * Errors: EMB_EINVAL for bad parameters (`name`) → 400; EMB_ECORRUPT for a body that does not
 * decode → 422; EMB_ETOOBIG for a decompressed profile over max_profile_size → 422 as in
 * Pyroscope (the api layer decides; the body-size limit itself is enforced before this).
 */
#ifndef EMBER_INGEST_INGEST_H
#define EMBER_INGEST_INGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"
#include "model/batch.h"

typedef struct ingest_req {
    const char *name;         /* app.suffix{k=v,...} */
    int64_t from_ns, until_ns;
    const char *format;       /* may be NULL or "" */
    const char *sample_rate;  /* raw parameter text, NULL = absent (→ 100) */
    const char *spy_name;     /* NULL or "" = unknown */
    const char *content_type; /* NULL or "" if absent */
    const uint8_t *body;
    size_t body_len;
} ingest_req_t;

typedef struct ingest_limits {
    size_t max_profile_size;          /* decompressed pprof bytes, 0 = unlimited */
    size_t max_label_names_per_series;/* 0 = unlimited */
    size_t max_label_name_length;
    size_t max_label_value_length;
    size_t max_nodes_per_profile;     /* 0 = unlimited; above it the smallest subtrees of a
                                       * profile fold into an "other" frame (totals kept) */
} ingest_limits_t;

/* Decodes req into out (initialised by this call; release with batch_release also on
 * failure). *format_out is set to the format that was used ("folded", "pprof", ...; static). */
int ingest_decode(batch_t *out, const char **format_out, const ingest_req_t *req,
                  const ingest_limits_t *lim, err_t *err);

/* Push API samples (push.v1.PusherService/Push) go through ingest_decode and the WAL like
 * /ingest requests, as format INGEST_FORMAT_PUSH: name = the series labels as written by
 * ingest_push_name, body = the raw (optionally gzipped) pprof, from = until = receive time.
 * (Sent to /ingest as format=%02push.v1 it means the same as a Push: nothing more.) */
#define INGEST_FORMAT_PUSH "\x02push.v1"

/* Encodes series labels as a push record name (a NUL-terminated JSON array of [name, value]
 * pairs) appended to out. EMB_EINVAL if a string cannot be encoded (invalid UTF-8). */
int ingest_push_name(buf_t *out, const labels_t *l);

/* Text formats (folded.c). Each line adds a sample (scaled by mul/div) to p. */
int folded_parse(batch_t *b, batch_profile_t *p, const uint8_t *body, size_t len, bool lines,
                 int64_t mul, int64_t div, err_t *err);
/* Pyroscope's legacy binary tree/trie serialisations (folded.c). */
int tree_parse(batch_t *b, batch_profile_t *p, const uint8_t *body, size_t len, bool trie,
               int64_t mul, int64_t div, err_t *err);

/* WAL record of an accepted request (the WAL stores requests, not decoded data: gzipped
 * pprof is the most compact form we have, and replay reuses this exact decoder).
 * Layout: u8 version (1), then NUL-terminated strings tenant, name, format, sample_rate,
 * spy_name, content_type (a leading 0x01 byte marks an absent value), i64 LE from_ns,
 * until_ns, u64 LE body length, body. */
int ingest_record_encode(buf_t *out, const char *tenant, const ingest_req_t *req)
    __attribute__((warn_unused_result));
/* Decodes a record; every pointer in req and *tenant borrows from rec. EMB_ECORRUPT if it
 * does not parse. */
int ingest_record_decode(ingest_req_t *req, const char **tenant, const uint8_t *rec,
                         size_t len, err_t *err);
#endif
