/* A batch: what one ingest request decodes into, before it touches a tenant's head.
 *
 * Decoders (ingest/) fill a batch without any lock: strings are interned in the batch's own
 * strtab, stacks are nodes of the batch's own stack tree (so a stack is one id, shared
 * prefixes are stored once, and equal stacks have equal ids), and each profile holds samples
 * (stack node, value). store/head.c then remaps strings and nodes into the tenant's tables
 * under a short lock — one lookup per distinct batch node, not per frame of every sample
 * (DESIGN.md §3 "decode outside locks"). Everything is owned by the batch.
 */
#ifndef EMBER_MODEL_BATCH_H
#define EMBER_MODEL_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "model/labels.h"
#include "model/stacktree.h"
#include "model/strtab.h"

/* A sample that carried a tracing span id (pprof label span_id). Span samples are kept in
 * a side list next to the profile's samples, which already count them: the side list only
 * serves span selection (SelectMergeSpanProfile) and is never summed with the samples. */
typedef struct span_sample {
    uint64_t span;  /* non-zero */
    int64_t value;
    uint32_t node;  /* stack node (batch, head or block ids, by context) */
} span_sample_t;

typedef struct batch_profile {
    labels_t labels;     /* complete series labels, incl. reserved ones, unsorted */
    int64_t ts_ns, dur_ns;
    uint32_t *stack;     /* batch stack node per sample */
    int64_t *value;
    size_t n, cap;
    span_sample_t *spans; /* side list, see span_sample_t */
    size_t nspans, capspans;
    buf_t key;            /* labels_key of the sorted labels once the head prepared it */
    bool keyed;
} batch_profile_t;

typedef struct batch {
    strtab_t strs;
    stacktree_t tree; /* frame names are ids of strs; node 0 = empty stack */
    batch_profile_t *profs;
    size_t nprofs, capprofs;
    size_t nsamples; /* total over profiles, for metrics */
} batch_t;

void batch_init(batch_t *b);
void batch_release(batch_t *b);
/* Returns the node of the stack made of the given frame string ids (root first). */
uint32_t batch_add_stack(batch_t *b, const uint32_t *frames, uint32_t depth);
/* Adds an empty profile with a copy of labels; returns a pointer valid until the next
 * batch_add_profile. */
batch_profile_t *batch_add_profile(batch_t *b, const labels_t *labels, int64_t ts_ns,
                                   int64_t dur_ns);
void batch_add_sample(batch_t *b, batch_profile_t *p, uint32_t stack, int64_t value);
/* Records that value of stack (already added with batch_add_sample) carried span. */
void batch_add_span(batch_profile_t *p, uint64_t span, uint32_t stack, int64_t value);
/* Parses a span id as tracing SDKs write it (16 hex digits; 1..16 accepted). Returns 0
 * when text is not a non-zero hex number of at most 16 digits. */
uint64_t span_parse(const char *text, size_t len);

#endif
