/* profenc.h — writes a google.v1 Profile (pprof, PROTOCOLS.md §7) with our own small
 * protobuf encoder, and gzips it (zlib). Collector thread only.
 *
 * Samples arrive as raw addresses (leaf first); each distinct address becomes one Location
 * (with its Mapping: the module's range, file offset, path and build id) and one Line whose
 * Function is named by symbols_name(). Return addresses are looked up at address - 1 so a
 * call at the end of a function is attributed to the caller, not to the next function.
 * Messages are streamed into one buffer as they are created; the string table goes last.
 *
 * Memory: everything is owned by profenc_t; profenc_finish() hands back an owned buffer.
 * Errors: allocation failure is remembered and reported by profenc_finish (EMBER_ENOMEM).
 */
#ifndef AGENT_PROFENC_H
#define AGENT_PROFENC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/conf.h"
#include "agent/symbols.h"
#include "agent/u64map.h"

typedef struct pbuf {
    uint8_t *p;
    size_t len, cap;
    bool oom;
} pbuf_t;

typedef struct profenc {
    pbuf_t out;      /* Profile fields except string_table */
    pbuf_t strs;     /* string_table entries, encoded */
    pbuf_t tmp;      /* scratch for one nested message */
    u64map_t str_ids;  /* string hash → id (collisions probed by rehash) */
    char **str_list; /* id → string (owned), for collision checks */
    size_t nstrs, cap_strs;
    u64map_t locs;   /* address (+ leaf flag) → location id */
    u64map_t funcs;  /* string id → function id */
    u64map_t maps;   /* module index + 1 → mapping id */
    uint64_t next_loc, next_func, next_map;
    symbols_t *syms; /* borrowed */
} profenc_t;

/* Starts a profile; syms (borrowed, may be NULL: addresses stay unnamed) names frames. */
void profenc_init(profenc_t *p, symbols_t *syms);

/* Adds a sample type (in order), the period type and period, and the time range. */
void profenc_sample_type(profenc_t *p, const char *type, const char *unit);
void profenc_period(profenc_t *p, const char *type, const char *unit, int64_t period);
void profenc_time(profenc_t *p, int64_t time_ns, int64_t duration_ns);

/* Adds one sample: frames[0..n) leaf first (frames[0] a PC when leaf_pc, else a return
 * address like the rest), vals[0..nvals), string labels[0..nlabels). */
void profenc_sample(profenc_t *p, const uint64_t *frames, size_t n, bool leaf_pc,
                    const int64_t *vals, size_t nvals, const conf_tag_t *labels,
                    size_t nlabels);

/* Ends the profile, gzips it. OUT: *data (owned, free()), *len. Returns 0 or EMBER_ENOMEM.
 * The encoder is released either way. */
int profenc_finish(profenc_t *p, uint8_t **data, size_t *len);

/* Frees everything (after an error path; profenc_finish already does it). Idempotent. */
void profenc_release(profenc_t *p);

/* Low-level protobuf writing (also used by tests). */
void pbuf_varint(pbuf_t *b, uint64_t v);
void pbuf_uint_field(pbuf_t *b, uint32_t field, uint64_t v);   /* skipped when 0 */
void pbuf_bytes_field(pbuf_t *b, uint32_t field, const void *data, size_t len);
void pbuf_release(pbuf_t *b);

/* gzip of data[0..len). OUT: *out (owned), *out_len. Returns 0 or EMBER_ENOMEM. */
int profenc_gzip(const uint8_t *data, size_t len, uint8_t **out, size_t *out_len);

#endif
