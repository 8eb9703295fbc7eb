/* Internal to ingest/: what the format decoders (ingest.c, jfr.c, speedscope.c, ...) share.
 * Each `*_ingest` function turns one request body of its format into profiles of out, with
 * the request's series labels (tags, service_name, spy) and the label limits applied, and
 * returns EMB_ECORRUPT (→ 422) for a body that does not decode. */
#ifndef EMBER_INGEST_INGEST_INT_H
#define EMBER_INGEST_INGEST_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "ingest/ingest.h"
#include "model/batch.h"
#include "model/labels.h"

/* sampleRate parameter: Pyroscope's rule (non-numeric or negative → 100; 0 is kept). */
int64_t ingest__parse_rate(const char *s);

/* Label limits (names per series, name and value lengths) → EMB_EINVAL. */
int ingest__check_labels(const labels_t *l, const ingest_limits_t *lim, err_t *err);

/* Series labels shared by a request's profiles: tags, service_name (or app_name when a
 * service_name tag exists) = app, pyroscope_spy (or "unknown" if spy_always). OUT: out. */
void ingest__base_labels(labels_t *out, const labels_t *tags, const char *app, size_t app_len,
                         const char *spy, bool spy_always);

/* Adds the one profile of a request in a legacy format: app's last `.suffix` picks the type
 * (§1.4; rate > 0 turns CPU/wall samples into nanoseconds), labels are the request's plus
 * extra (may be NULL). OUT: *mul / *div, the factor raw values take. Returns the profile
 * (valid until the next batch_add_profile) or NULL with err set (EMB_EINVAL). */
batch_profile_t *ingest__legacy_profile(batch_t *out, int64_t *mul, int64_t *div,
                                        const ingest_req_t *req, const char *app,
                                        const labels_t *tags, int64_t rate,
                                        const labels_t *extra, const ingest_limits_t *lim,
                                        err_t *err);

/* Scales a raw value by mul/div, rounding to nearest and clamping instead of overflowing
 * (folded.c: the rule every legacy format shares). */
int64_t ingest__scale(int64_t v, int64_t mul, int64_t div);

/* format=jfr (jfr.c): raw JFR or the multipart form (jfr + labels parts), PROTOCOLS.md §1.6. */
int jfr_ingest(batch_t *out, const ingest_req_t *req, const char *app, const labels_t *tags,
               const ingest_limits_t *lim, err_t *err);

/* format=speedscope (speedscope.c), PROTOCOLS.md §1.4. */
int speedscope_ingest(batch_t *out, const ingest_req_t *req, const char *app,
                      const labels_t *tags, const ingest_limits_t *lim, err_t *err);

/* format=perf_script (perf_script.c): `perf script` text of a perf record -g recording. */
int perf_script_ingest(batch_t *out, const ingest_req_t *req, const char *app,
                       const labels_t *tags, const ingest_limits_t *lim, err_t *err);

#endif
