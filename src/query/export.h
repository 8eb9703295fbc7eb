/* Exports of a merged call tree: pprof (google.v1.Profile, loadable by `go tool pprof`) and
 * collapsed text (`a;b;c 12`, Brendan Gregg's folded format), for /render?format=pprof|
 * collapsed and the Connect SelectMergeProfile method.
 */
#ifndef EMBER_QUERY_EXPORT_H
#define EMBER_QUERY_EXPORT_H

#include <stdint.h>

#include "base/buf.h"
#include "query/query.h"

typedef struct export_meta {
    const char *sample_type, *sample_unit; /* e.g. "cpu", "nanoseconds" */
    const char *period_type, *period_unit; /* may be "" */
    int64_t period;
    int64_t time_ns, duration_ns;
} export_meta_t;

/* Appends an uncompressed pprof: one function and one location per distinct frame name,
 * one sample per stack with a non-zero self value (locations leaf first). */
int export_pprof(buf_t *out, const query_tree_t *t, const export_meta_t *meta)
    __attribute__((warn_unused_result));

/* Appends one `root;...;leaf value` line per stack with a non-zero self value. */
int export_collapsed(buf_t *out, const query_tree_t *t) __attribute__((warn_unused_result));

#endif
