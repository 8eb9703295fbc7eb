/* JFR (Java Flight Recorder) parser: the bytes of a .jfr recording → a neutral event model
 * (jfr_t) that jfr_ingest.c turns into profiles. First stage of format=jfr ingest (PROTOCOLS.md
 * §1.6), after the multipart split and gunzip.
 *
 * A recording is one or more self-contained chunks. Each chunk (all integers big-endian in
 * the header; in the body LEB128 "compressed" integers unless the header's feature bit 0 is
 * clear, in which case they are fixed-width big-endian):
 *
 *   off  size  field
 *     0     4  magic "FLR\0"
 *     4   2+2  major, minor version (major 1 or 2 accepted)
 *     8     8  chunk size (header included)
 *    16     8  offset of the last constant-pool (checkpoint) event
 *    24     8  offset of the metadata event
 *    32     8  start, nanoseconds since the epoch
 *    40     8  duration, nanoseconds
 *    48     8  start, ticks
 *    56     8  ticks per second (durations are in ticks)
 *    64     4  features: bit 0 compressed integers, bit 1 final chunk
 *    68   ...  events: size (int), type id (long), fields in metadata order
 *
 * Event type 0 is the metadata event: a string table and an element tree whose "class"
 * elements declare every type (id, name) and its "field" children (name, type id, whether the
 * value is a constant-pool index, whether it is an array). Nothing about event layouts is
 * hard-coded: fields are found by name, so JDK versions and async-profiler differ freely.
 * Event type 1 is a checkpoint: constant pools (class id → index → value), linked backwards by
 * a relative offset (0 ends the chain). Values are decoded lazily: a pool entry is remembered
 * as the chunk offset of its value and read when an event needs it.
 *
 * Strings: a leading byte 0 null, 1 empty, 2 constant-pool index (java.lang.String pool),
 * 3 UTF-8, 4 char array (UTF-16 code units as ints), 5 Latin-1; all are returned as UTF-8.
 *
 * Hostile input: every read is bounds-checked, every allocation is bounded by the input size
 * (counts are checked against the bytes that remain before anything is allocated), nesting of
 * inline structs and string references is depth-limited, checkpoint chains are checked for
 * cycles, and a work budget proportional to the input bounds the time. Any violation is
 * EMB_ECORRUPT with the byte offset in the message. Parsing is a pure function of the bytes.
 */
#ifndef EMBER_INGEST_JFR_H
#define EMBER_INGEST_JFR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "model/strtab.h"

/* What a sample counts. JFR_EXEC is a jdk.ExecutionSample, which is CPU time unless its
 * thread state is STATE_SLEEPING, and also wall time when the recording's "event" setting
 * is "wall" (async-profiler); the decision is jfr_ingest's, so it does not depend on where
 * the setting appears in the file. */
typedef enum jfr_kind {
    JFR_EXEC,         /* jdk.ExecutionSample: v1 = 1 */
    JFR_WALL,         /* profiler.WallClockSample (v1 = samples), jdk.NativeMethodSample */
    JFR_ALLOC_TLAB,   /* jdk.ObjectAllocationInNewTLAB: v1 = 1, v2 = tlabSize */
    JFR_ALLOC_OUTSIDE,/* jdk.ObjectAllocationOutsideTLAB: v1 = 1, v2 = allocationSize */
    JFR_ALLOC_SAMPLE, /* jdk.ObjectAllocationSample: v1 = 1, v2 = weight */
    JFR_LOCK,         /* jdk.JavaMonitorEnter: v1 = 1, v2 = duration in ns */
    JFR_PARK,         /* jdk.ThreadPark: v1 = 1, v2 = duration in ns */
    JFR_LIVE,         /* profiler.LiveObject: v1 = 1 */
    JFR_MALLOC,       /* profiler.Malloc: v1 = 1, v2 = size */
    JFR_NKINDS
} jfr_kind_t;

typedef struct jfr_sample {
    uint32_t stack;   /* index into the stacks of jfr_t */
    uint8_t kind;     /* jfr_kind_t */
    bool sleeping;    /* JFR_EXEC: thread state STATE_SLEEPING */
    int64_t v1, v2;
    int64_t context;  /* async-profiler contextId (labels part), 0 = none */
    uint64_t span;    /* spanId, 0 = none */
} jfr_sample_t;

typedef struct jfr {
    strtab_t strs;        /* frame names "pkg/Class.method"; id 0 = "" */
    uint32_t *frames;     /* frames of all stacks, root first, ids of strs */
    size_t nframes, capframes;
    uint32_t *stack_off;  /* stack i = frames[stack_off[i] .. stack_off[i + 1]) */
    size_t nstacks, capstacks;
    jfr_sample_t *samples;
    size_t nsamples, capsamples;
    char *event;          /* last "event" jdk.ActiveSetting value (owned), or NULL */
    size_t nchunks;
} jfr_t;

/* Parses every chunk of data[0..len) into out (initialised by this call; release with
 * jfr_release also on failure). Events without a stack trace, or whose stack trace is not in
 * the constant pool, are dropped (as grafana/jfr-parser does). Frames are "class.method" with
 * the class in internal form (`java/lang/Thread.run`); JVM-generated lambda and reflection
 * accessor class names get their numeric suffix replaced by `_` so they merge across runs.
 * Errors: EMB_ECORRUPT for anything malformed or truncated, message with the offset. */
int jfr_parse(jfr_t *out, const uint8_t *data, size_t len, err_t *err);

/* Frees what jfr_parse allocated; a second call is a no-op. */
void jfr_release(jfr_t *j);

/* Frames of stack i, root first. OUT: *n. Borrowed from j. */
static inline const uint32_t *jfr_stack(const jfr_t *j, uint32_t i, uint32_t *n)
{
    *n = j->stack_off[i + 1] - j->stack_off[i];
    return j->frames ? j->frames + j->stack_off[i] : NULL; /* no frames at all: NULL */
}

#endif
