/* Zero-copy decoder for pprof (google.v1 Profile, see PROTOCOLS.md §7).
 *
 * pprof_decode() parses one uncompressed Profile message into flat arrays. Strings are
 * slices into the input bytes, so the input must outlive the pprof_t. Everything else is
 * allocated by the decoder and freed by pprof_release(). Packed and unpacked repeated scalars
 * are both accepted; unknown fields are skipped by wire type. Validation done here (so callers
 * can index without checks): every string index < nstrings, string_table[0] == "", every
 * sample location id resolves to a location (loc_index), every line's function id resolves
 * (or is 0), every sample has exactly nsample_types values, table ids are non-zero and unique.
 * A location's mapping id that matches no mapping becomes PPROF_NONE, as in Go's pprof. Errors
 * name the position ("sample 17: location id 9 not found", "location 3 (offset 812): ...").
 *
 * Ids in pprof are arbitrary uint64; pprof_decode maps them to dense indices: sample
 * locations and line functions below are *indices* into locs[] / funcs[] (UINT32_MAX = none).
 */
#ifndef EMBER_INGEST_PPROF_H
#define EMBER_INGEST_PPROF_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "base/slice.h"

#define PPROF_NONE UINT32_MAX

/* Sanity bounds; a profile over any of them fails with EMB_ETOOBIG. Every counted item costs
 * at least one input byte, so memory stays proportional to the (already capped) input. */
#define PPROF_MAX_SAMPLES (1u << 24)      /* samples */
#define PPROF_MAX_SAMPLE_TYPES 1024u      /* sample_type entries */
#define PPROF_MAX_TABLE (1u << 24)        /* locations, functions, mappings, strings each */
#define PPROF_MAX_REFS (1u << 28)         /* sample location ids, values, labels, lines */

typedef struct pprof_value_type {
    uint32_t type; /* string index */
    uint32_t unit; /* string index */
} pprof_value_type_t;

typedef struct pprof_label {
    uint32_t key;      /* string index */
    uint32_t str;      /* string index, 0 if numeric */
    int64_t num;
    uint32_t num_unit; /* string index */
} pprof_label_t;

typedef struct pprof_sample {
    uint32_t loc_off, nlocs;     /* into pprof_t.sample_locs: location indices, leaf first */
    uint32_t value_off;          /* into pprof_t.values: nsample_types values */
    uint32_t label_off, nlabels; /* into pprof_t.labels */
} pprof_sample_t;

typedef struct pprof_line {
    uint32_t func; /* index into funcs[], PPROF_NONE if function_id was 0 */
    int64_t line;
} pprof_line_t;

typedef struct pprof_location {
    uint64_t id;
    uint32_t mapping;  /* index into mappings[], PPROF_NONE if none */
    uint64_t address;
    uint32_t line_off, nlines; /* into pprof_t.lines; line[0] is the innermost inlined frame */
} pprof_location_t;

typedef struct pprof_function {
    uint64_t id;
    uint32_t name, system_name, filename; /* string indices */
    int64_t start_line;
} pprof_function_t;

typedef struct pprof_mapping {
    uint64_t id, memory_start, memory_limit, file_offset;
    uint32_t filename, build_id; /* string indices */
} pprof_mapping_t;

typedef struct pprof {
    slice_t *strings;          size_t nstrings;
    pprof_value_type_t *sample_types; size_t nsample_types;
    pprof_sample_t *samples;   size_t nsamples;
    uint32_t *sample_locs;     size_t nsample_locs;
    int64_t *values;           size_t nvalues;
    pprof_label_t *labels;     size_t nlabels;
    pprof_location_t *locs;    size_t nlocs;
    pprof_line_t *lines;       size_t nlines;
    pprof_function_t *funcs;   size_t nfuncs;
    pprof_mapping_t *mappings; size_t nmappings;
    int64_t time_nanos, duration_nanos, period;
    pprof_value_type_t period_type; /* {0,0} if absent */
    uint32_t default_sample_type;  /* string index */
} pprof_t;

/* Decodes data[0..len) (not gzipped) into out, which this call initialises. On failure out is
 * released and the error names the problem (EMB_ECORRUPT for malformed bytes, EMB_ETOOBIG if
 * a count exceeds the PPROF_MAX_* bounds, EMB_EINVAL for NULL data with len > 0). Memory is at
 * most ~25x len. Thread-safe on distinct outputs. OUT: out (release with pprof_release, also
 * after failure). */
int pprof_decode(pprof_t *out, const uint8_t *data, size_t len, err_t *err);

/* Frees the arrays (not the input bytes). Safe on a zeroed or released pprof_t. */
void pprof_release(pprof_t *p);

#endif
