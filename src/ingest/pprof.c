/* pprof decoder: protobuf bytes -> pprof_t flat arrays (see pprof.h). First stage of ingest,
 * right after gunzip; everything downstream indexes these arrays without checks.
 *
 * Two walks over the Profile message:
 *   1. scan_pass   - top level only: checks framing and wire types and counts the tables, so
 *                    the fixed-size arrays are allocated once (samples, values, locations, ...);
 *   2. decode_pass - decodes every message once. References to ids (sample location ids, a
 *                    location's mapping id, a line's function id) cannot be resolved yet - the
 *                    tables may come after the samples (Go writes them so) - so they are stored
 *                    raw in their uint32 slots and resolved afterwards by tight loops over the
 *                    flat arrays (resolve_locs, resolve_samples).
 * An id that does not fit 32 bits (legal, never seen in practice) sets a flag, and that part
 * is decoded again by a third walk that resolves inline (redo_pass).
 *
 * Speed comes from the per-field cost, since pprof is mostly tiny messages: fields are read by
 * a small inlined rd_field() and dispatched by a switch on the whole tag (field number and wire
 * type in one constant); anything unusual falls to a cold path (explain_field) that re-parses
 * the field only to word the error. Packed location ids use a branch-free varint decoder.
 * Invariant: after a successful decode every index stored in pprof_t is in range, and every
 * write into an array is preceded by a capacity check.
 */
#include "ingest/pprof.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/hash.h"
#include "base/mem.h"

#define LIKELY(x) __builtin_expect(!!(x), 1)
#define UNLIKELY(x) __builtin_expect(!!(x), 0)

enum { WT_VARINT = 0, WT_I64 = 1, WT_LEN = 2, WT_SGROUP = 3, WT_EGROUP = 4, WT_I32 = 5 };

/* A whole tag as it appears on the wire (when the field number is below 16: one byte). */
#define TAG(num, wt) ((uint64_t)(num) << 3 | (wt))
#define BIT(n) (1u << (n))

/* Field numbers each message decodes, by expected wire type; a known field with another wire
 * type is an error, an unknown one is skipped. Repeated scalars (Sample 1, 2; Profile 13)
 * accept both varint and packed, handled explicitly; they sit in the LEN masks so any third
 * wire type is reported. */
#define PROFILE_VARINT (BIT(7) | BIT(8) | BIT(9) | BIT(10) | BIT(12) | BIT(14))
#define PROFILE_LEN (BIT(1) | BIT(2) | BIT(3) | BIT(4) | BIT(5) | BIT(6) | BIT(11) | BIT(13))
#define VTYPE_VARINT (BIT(1) | BIT(2))
#define SAMPLE_LEN (BIT(1) | BIT(2) | BIT(3))
#define LABEL_VARINT (BIT(1) | BIT(2) | BIT(3) | BIT(4))
#define MAPPING_VARINT (BIT(1) | BIT(2) | BIT(3) | BIT(4) | BIT(5) | BIT(6))
#define LOCATION_VARINT (BIT(1) | BIT(2) | BIT(3))
#define LOCATION_LEN BIT(4)
#define LINE_VARINT (BIT(1) | BIT(2))
#define FUNCTION_VARINT (BIT(1) | BIT(2) | BIT(3) | BIT(4) | BIT(5))

typedef struct field {
    uint64_t tag;
    uint64_t v;         /* WT_VARINT value, or the length for WT_LEN */
    const uint8_t *p;   /* WT_LEN payload */
} field_t;

typedef struct scan {
    size_t sample_types, samples, locs, funcs, mappings, strings;
    size_t sample_bytes; /* payload bytes of all samples: bounds the location ids */
} scan_t;

/* Maps pprof ids (arbitrary uint64, 0 reserved) to dense indices. Producers nearly always
 * number 1..n in table order (IDENTITY: no memory at all); otherwise a direct array when ids are
 * dense enough, else the hash multimap. */
enum { IDMAP_IDENTITY, IDMAP_DENSE, IDMAP_HASH };

typedef struct idmap {
    int kind;
    size_t n;
    uint32_t *dense;
    size_t ndense;
    hmap_t h;
} idmap_t;

typedef struct dec {
    const uint8_t *base, *end; /* the whole input */
    err_t *err;
    pprof_t *out;
    const char *what; /* context for messages: "sample", "location", ... or NULL */
    size_t idx;
    size_t nstrings;
    size_t types_done; /* sample types decoded so far (nsample_types is preset) */
    size_t cap_sample_locs, cap_labels, cap_lines;
    bool big_loc_refs;   /* a mapping or function id >= UINT32_MAX was seen */
    bool big_sample_ids; /* a sample location id >= UINT32_MAX was seen */
} dec_t;

/* ---- errors ---------------------------------------------------------------------------- */

__attribute__((format(printf, 4, 5), cold)) static int fail(dec_t *d, int code,
                                                             const uint8_t *at,
                                                             const char *fmt, ...)
{
    char msg[ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    size_t off = at ? (size_t)(at - d->base) : 0;
    if (d->what && at)
        return err_set(d->err, code, "%s %zu (offset %zu): %s", d->what, d->idx, off, msg);
    if (d->what)
        return err_set(d->err, code, "%s %zu: %s", d->what, d->idx, msg);
    if (at)
        return err_set(d->err, code, "offset %zu: %s", off, msg);
    return err_set(d->err, code, "%s", msg);
}

/* ---- wire format ----------------------------------------------------------------------- */

/* A varint and the position after it; p is NULL if the varint is truncated or longer than
 * 64 bits. Returned by value so that callers' cursors stay in registers. */
typedef struct vr {
    const uint8_t *p;
    uint64_t v;
} vr_t;

/* Varints of 2+ bytes. Unrolled when 10 bytes are readable (protobuf's
 * ReadVarint64FromArray): each step adds the byte and subtracts the previous continuation bit. */
static vr_t varint_slow(const uint8_t *p, const uint8_t *end)
{
    vr_t r = {NULL, 0};
    if (LIKELY(end - p >= 10 && p[0] >= 0x80)) {
        uint64_t x = p[0];
        for (unsigned i = 1; i < 10; i++) {
            uint64_t b = p[i];
            x += (b - 1) << (7 * i);
            if (b < 0x80) {
                if (i == 9 && b > 1)
                    return r; /* more than 64 bits */
                r.p = p + i + 1;
                r.v = x;
                return r;
            }
        }
        return r;
    }
    uint64_t x = 0;
    for (unsigned i = 0; i < 10 && p + i < end; i++) {
        uint64_t b = p[i];
        if (i == 9 && b > 1)
            return r;
        x |= (b & 0x7f) << (7 * i);
        if (b < 0x80) {
            r.p = p + i + 1;
            r.v = x;
            return r;
        }
    }
    return r;
}

static inline __attribute__((always_inline)) vr_t rd_varint(const uint8_t *p,
                                                             const uint8_t *end)
{
    if (LIKELY(p < end && p[0] < 0x80)) {
        vr_t r = {p + 1, p[0]};
        return r;
    }
    if (LIKELY(end - p >= 2 && p[1] < 0x80)) {
        vr_t r = {p + 2, (uint64_t)(p[0] & 0x7f) | (uint64_t)p[1] << 7};
        return r;
    }
    return varint_slow(p, end);
}

/* Reads the field at p (< end): tag, then the value (varint), or the payload bounds (len),
 * or skips fixed32/fixed64. Returns the position after the field, or NULL if the field is
 * malformed in any way (explain_field then says how). */
static inline __attribute__((always_inline)) const uint8_t *rd_field(const uint8_t *p,
                                                                     const uint8_t *end,
                                                                     field_t *f)
{
    vr_t t = rd_varint(p, end);
    if (UNLIKELY(!t.p || t.v < 8 || (t.v >> 32)))
        return NULL; /* bad tag, field number 0 or >= 2^29 */
    f->tag = t.v;
    f->p = t.p;
    switch (t.v & 7) {
    case WT_VARINT: {
        vr_t r = rd_varint(t.p, end);
        f->v = r.v;
        return r.p;
    }
    case WT_LEN: {
        vr_t r = rd_varint(t.p, end);
        if (UNLIKELY(!r.p || r.v > (uint64_t)(end - r.p)))
            return NULL;
        f->v = r.v;
        f->p = r.p;
        return r.p + r.v;
    }
    case WT_I64:
        f->v = 0;
        return end - t.p >= 8 ? t.p + 8 : NULL;
    case WT_I32:
        f->v = 0;
        return end - t.p >= 4 ? t.p + 4 : NULL;
    default:
        return NULL;
    }
}

/* Cold: the field at `at` failed rd_field; re-parse it to say why. */
__attribute__((cold, noinline)) static int explain_field(dec_t *d, const uint8_t *at,
                                                         const uint8_t *end)
{
    vr_t t = rd_varint(at, end);
    if (!t.p)
        return fail(d, EMB_ECORRUPT, at, "truncated or overlong field tag");
    if ((t.v >> 3) == 0 || (t.v >> 32))
        return fail(d, EMB_ECORRUPT, at, "invalid field number %" PRIu64, t.v >> 3);
    unsigned num = (unsigned)(t.v >> 3), wt = (unsigned)(t.v & 7);
    switch (wt) {
    case WT_VARINT:
        return fail(d, EMB_ECORRUPT, at, "field %u: truncated or overlong varint", num);
    case WT_I64:
        return fail(d, EMB_ECORRUPT, at, "field %u: truncated fixed64", num);
    case WT_I32:
        return fail(d, EMB_ECORRUPT, at, "field %u: truncated fixed32", num);
    case WT_LEN: {
        vr_t r = rd_varint(t.p, end);
        if (!r.p)
            return fail(d, EMB_ECORRUPT, at, "field %u: truncated or overlong length", num);
        return fail(d, EMB_ECORRUPT, at, "field %u: length %" PRIu64 " runs past end (%zu left)",
                    num, r.v, (size_t)(end - r.p));
    }
    default:
        return fail(d, EMB_ECORRUPT, at, "field %u: unsupported wire type %u", num, wt);
    }
}

/* A field no case matched: fine if unknown, an error if known with another wire type. */
static int other_field(dec_t *d, const uint8_t *at, uint64_t tag, uint32_t want_varint,
                       uint32_t want_len)
{
    uint64_t num = tag >> 3;
    if (num >= 32 || !((want_varint | want_len) >> num & 1))
        return 0;
    return fail(d, EMB_ECORRUPT, at, "field %u: wire type %u, want %u", (unsigned)num,
                (unsigned)(tag & 7), (want_varint >> num & 1) ? 0u : 2u);
}

static inline int get_str(dec_t *d, const uint8_t *at, const field_t *f, uint32_t *out)
{
    if (UNLIKELY(f->v >= d->nstrings))
        return fail(d, EMB_ECORRUPT, at, "field %u: string index %" PRIu64
                    " out of range (%zu strings)", (unsigned)(f->tag >> 3), f->v, d->nstrings);
    *out = (uint32_t)f->v;
    return 0;
}

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define PPROF_BLOCK_VARINTS 1

/* Bit i set iff p[i] < 0x80 (the last byte of a varint), for the 8 * words bytes at p. */
static inline uint64_t stop_mask(const uint8_t *p, unsigned words)
{
    uint64_t m = 0;
    for (unsigned i = 0; i < words; i++) {
        uint64_t w;
        memcpy(&w, p + 8 * i, 8);
        uint64_t t = (~w & 0x8080808080808080ull) >> 7;      /* one bit per byte */
        m |= ((t * 0x0102040810204080ull) >> 56) << (8 * i); /* gathered into 8 bits */
    }
    return m;
}

/* Value of the len-byte varint (1..4 bytes) in the low bytes of x. */
static inline uint32_t gather4(uint32_t x, unsigned len)
{
    x &= 0xffffffffu >> (32 - 8 * len);
    x &= 0x7f7f7f7fu;
    x = ((x & 0x7f007f00u) >> 1) | (x & 0x007f007fu);
    x = ((x & 0x3fff0000u) >> 2) | (x & 0x00003fffu);
    return x;
}

/* Value of the len-byte varint (1..8 bytes) in the low bytes of x. */
static inline uint64_t gather8(uint64_t x, unsigned len)
{
    x &= len == 8 ? ~0ull : (1ull << (8 * len)) - 1;
    x &= 0x7f7f7f7f7f7f7f7full;
    x = ((x & 0x7f007f007f007f00ull) >> 1) | (x & 0x007f007f007f007full);
    x = ((x & 0x3fff00003fff0000ull) >> 2) | (x & 0x00003fff00003fffull);
    x = ((x & 0x0fffffff00000000ull) >> 4) | (x & 0x000000000fffffffull);
    return x;
}
#endif

/* Decodes the packed varints in [q, qe) into dst, which has room for qe - q entries (each
 * varint takes at least one byte); bytes up to bend (the end of the whole input) may be read.
 * Location ids are 1-3 bytes in no predictable order, which costs a branchy decoder a
 * mispredict every few ids. So, 64 bytes at a time, the last byte of every varint is found
 * first (one bit per byte in a mask); each varint's bounds then come from the mask alone (ctz,
 * clear lowest bit: no load on the critical path) and its value from a load and shifts. A
 * window of only 1-byte varints is just widened. Values that do not fit 32 bits set *big.
 * Returns the count, or SIZE_MAX on a truncated or overlong varint. */
static size_t unpack_u32(const uint8_t *q, const uint8_t *qe, const uint8_t *bend,
                         uint32_t *dst, bool *big)
{
    uint32_t *d0 = dst;
    bool wide = false;
#ifdef PPROF_BLOCK_VARINTS
    while (q < qe && bend - q >= 72) { /* 64-byte window + 8 readable bytes past any start */
        size_t left = (size_t)(qe - q);
        uint64_t full = left < 64 ? (1ull << left) - 1 : ~0ull;
        uint64_t m = stop_mask(q, left < 64 ? (unsigned)(left + 7) / 8 : 8) & full;
        if (m == full) {
            size_t n = left < 64 ? left : 64;
            for (size_t i = 0; i < n; i++)
                dst[i] = q[i];
            dst += n;
            q += n;
            continue;
        }
        unsigned start = 0;
        while (m) {
            unsigned last = (unsigned)__builtin_ctzll(m);
            m &= m - 1;
            unsigned len = last + 1 - start;
            if (LIKELY(len <= 4)) {
                uint32_t x;
                memcpy(&x, q + start, 4);
                *dst++ = gather4(x, len);
            } else {
                uint64_t v;
                if (len <= 8) {
                    uint64_t x;
                    memcpy(&x, q + start, 8);
                    v = gather8(x, len);
                } else {
                    vr_t r = varint_slow(q + start, qe);
                    if (!r.p)
                        return SIZE_MAX;
                    v = r.v;
                }
                wide |= v >= UINT32_MAX;
                *dst++ = (uint32_t)v;
            }
            start = last + 1;
        }
        if (start == 0)
            return SIZE_MAX; /* no varint ends in the window */
        q += start;
    }
#else
    (void)bend;
#endif
    while (q < qe) {
        vr_t r = rd_varint(q, qe);
        if (!r.p)
            return SIZE_MAX;
        q = r.p;
        wide |= r.v >= UINT32_MAX;
        *dst++ = (uint32_t)r.v;
    }
    *big |= wide;
    return (size_t)(dst - d0);
}

/* idmap_build reads each table entry's id as its first member. */
_Static_assert(offsetof(pprof_location_t, id) == 0, "id first");
_Static_assert(offsetof(pprof_function_t, id) == 0, "id first");
_Static_assert(offsetof(pprof_mapping_t, id) == 0, "id first");

/* ---- id maps --------------------------------------------------------------------------- */

static void idmap_release(idmap_t *m)
{
    free(m->dense);
    m->dense = NULL;
    hmap_release(&m->h);
}

static uint64_t id_at(const void *items, size_t stride, size_t i)
{
    uint64_t id;
    memcpy(&id, (const char *)items + i * stride, sizeof(id));
    return id;
}

static inline uint32_t idmap_get(const idmap_t *m, uint64_t id)
{
    if (m->kind == IDMAP_IDENTITY)
        return id - 1 < m->n ? (uint32_t)(id - 1) : PPROF_NONE; /* id 0 wraps: none */
    if (m->kind == IDMAP_DENSE)
        return id < m->ndense ? m->dense[id] : PPROF_NONE;
    size_t pos = 0;
    int started = 0;
    uint32_t v = hmap_probe(&m->h, id, &pos, &started);
    return v == HMAP_EMPTY ? PPROF_NONE : v;
}

/* Builds the map for n items whose uint64 id is the first member of each stride-sized item.
 * Rejects id 0 and duplicates (as pprof's CheckValid does). */
static int idmap_build(dec_t *d, idmap_t *m, const void *items, size_t stride, size_t n,
                       const char *what)
{
    m->n = n;
    m->kind = IDMAP_IDENTITY;
    uint64_t maxid = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t id = id_at(items, stride, i);
        if (id == 0)
            return fail(d, EMB_ECORRUPT, NULL, "%s %zu: id 0 is reserved", what, i);
        if (id != i + 1)
            m->kind = IDMAP_DENSE;
        if (id > maxid)
            maxid = id;
    }
    if (m->kind == IDMAP_IDENTITY)
        return 0;
    if (maxid <= 4 * (uint64_t)n + 1024) {
        m->ndense = (size_t)maxid + 1;
        m->dense = xmalloc(m->ndense * sizeof(*m->dense));
        memset(m->dense, 0xff, m->ndense * sizeof(*m->dense)); /* PPROF_NONE */
        for (size_t i = 0; i < n; i++) {
            uint64_t id = id_at(items, stride, i);
            if (m->dense[id] != PPROF_NONE)
                return fail(d, EMB_ECORRUPT, NULL, "%s %zu: duplicate id %" PRIu64, what, i, id);
            m->dense[id] = (uint32_t)i;
        }
        return 0;
    }
    m->kind = IDMAP_HASH;
    for (size_t i = 0; i < n; i++) {
        uint64_t id = id_at(items, stride, i);
        if (idmap_get(m, id) != PPROF_NONE)
            return fail(d, EMB_ECORRUPT, NULL, "%s %zu: duplicate id %" PRIu64, what, i, id);
        hmap_put(&m->h, id, (uint32_t)i);
    }
    return 0;
}

/* ---- pass 1: top-level framing and counts ---------------------------------------------- */

static int check_limit(dec_t *d, const char *what, size_t n, size_t max)
{
    if (LIKELY(n <= max))
        return 0;
    return fail(d, EMB_ETOOBIG, NULL, "too many %s: %zu (max %zu)", what, n, max);
}

static int scan_pass(dec_t *d, const uint8_t *p, const uint8_t *end, scan_t *c)
{
    field_t f;
    int rc;
    memset(c, 0, sizeof(*c));
    while (p < end) {
        const uint8_t *at = p;
        if (UNLIKELY(!(p = rd_field(p, end, &f))))
            return explain_field(d, at, end);
        switch (f.tag) {
        case TAG(1, WT_LEN): c->sample_types++; break;
        case TAG(2, WT_LEN): c->samples++; c->sample_bytes += f.v; break;
        case TAG(3, WT_LEN): c->mappings++; break;
        case TAG(4, WT_LEN): c->locs++; break;
        case TAG(5, WT_LEN): c->funcs++; break;
        case TAG(6, WT_LEN): c->strings++; break;
        case TAG(11, WT_LEN): case TAG(13, WT_LEN): case TAG(13, WT_VARINT):
        case TAG(7, WT_VARINT): case TAG(8, WT_VARINT): case TAG(9, WT_VARINT):
        case TAG(10, WT_VARINT): case TAG(12, WT_VARINT): case TAG(14, WT_VARINT):
            break;
        default:
            if ((rc = other_field(d, at, f.tag, PROFILE_VARINT, PROFILE_LEN)))
                return rc;
        }
    }
    if ((rc = check_limit(d, "samples", c->samples, PPROF_MAX_SAMPLES)) ||
        (rc = check_limit(d, "sample types", c->sample_types, PPROF_MAX_SAMPLE_TYPES)) ||
        (rc = check_limit(d, "locations", c->locs, PPROF_MAX_TABLE)) ||
        (rc = check_limit(d, "functions", c->funcs, PPROF_MAX_TABLE)) ||
        (rc = check_limit(d, "mappings", c->mappings, PPROF_MAX_TABLE)) ||
        (rc = check_limit(d, "strings", c->strings, PPROF_MAX_TABLE)) ||
        (rc = check_limit(d, "sample values", c->samples * c->sample_types, PPROF_MAX_REFS)))
        return rc;
    if (c->strings == 0)
        return fail(d, EMB_ECORRUPT, NULL, "empty string table (string_table[0] must be \"\")");
    if (c->samples && c->sample_types == 0)
        return fail(d, EMB_ECORRUPT, NULL, "%zu samples but no sample types", c->samples);
    /* Every value takes at least a byte: checked before allocating nsamples * ntypes values,
     * so a few bytes of empty samples cannot make us allocate gigabytes. */
    if (c->samples * c->sample_types > c->sample_bytes)
        return fail(d, EMB_ECORRUPT, NULL, "%zu samples of %zu values cannot fit in %zu bytes",
                    c->samples, c->sample_types, c->sample_bytes);
    return 0;
}

/* ---- messages -------------------------------------------------------------------------- */

static int decode_value_type(dec_t *d, const uint8_t *p, const uint8_t *end,
                             pprof_value_type_t *vt)
{
    field_t f;
    int rc = 0;
    vt->type = vt->unit = 0;
    while (p < end && rc == 0) {
        const uint8_t *at = p;
        if (UNLIKELY(!(p = rd_field(p, end, &f))))
            return explain_field(d, at, end);
        switch (f.tag) {
        case TAG(1, WT_VARINT): rc = get_str(d, at, &f, &vt->type); break;
        case TAG(2, WT_VARINT): rc = get_str(d, at, &f, &vt->unit); break;
        default: rc = other_field(d, at, f.tag, VTYPE_VARINT, 0);
        }
    }
    return rc;
}

static int decode_mapping(dec_t *d, const uint8_t *p, const uint8_t *end, pprof_mapping_t *m)
{
    field_t f;
    int rc = 0;
    memset(m, 0, sizeof(*m));
    while (p < end && rc == 0) {
        const uint8_t *at = p;
        if (UNLIKELY(!(p = rd_field(p, end, &f))))
            return explain_field(d, at, end);
        switch (f.tag) {
        case TAG(1, WT_VARINT): m->id = f.v; break;
        case TAG(2, WT_VARINT): m->memory_start = f.v; break;
        case TAG(3, WT_VARINT): m->memory_limit = f.v; break;
        case TAG(4, WT_VARINT): m->file_offset = f.v; break;
        case TAG(5, WT_VARINT): rc = get_str(d, at, &f, &m->filename); break;
        case TAG(6, WT_VARINT): rc = get_str(d, at, &f, &m->build_id); break;
        default: rc = other_field(d, at, f.tag, MAPPING_VARINT, 0);
        }
    }
    return rc;
}

static int decode_function(dec_t *d, const uint8_t *p, const uint8_t *end, pprof_function_t *fn)
{
    field_t f;
    int rc = 0;
    memset(fn, 0, sizeof(*fn));
    while (p < end && rc == 0) {
        const uint8_t *at = p;
        if (UNLIKELY(!(p = rd_field(p, end, &f))))
            return explain_field(d, at, end);
        switch (f.tag) {
        case TAG(1, WT_VARINT): fn->id = f.v; break;
        case TAG(2, WT_VARINT): rc = get_str(d, at, &f, &fn->name); break;
        case TAG(3, WT_VARINT): rc = get_str(d, at, &f, &fn->system_name); break;
        case TAG(4, WT_VARINT): rc = get_str(d, at, &f, &fn->filename); break;
        case TAG(5, WT_VARINT): fn->start_line = (int64_t)f.v; break;
        default: rc = other_field(d, at, f.tag, FUNCTION_VARINT, 0);
        }
    }
    return rc;
}

/* Stores a reference id: resolved through m, or raw (to be resolved later) when m is NULL.
 * Raw 0 means "none"; ids that do not fit are flagged for the redo walk. */
static inline uint32_t ref_id(const idmap_t *m, uint64_t id, bool *big)
{
    if (m)
        return id ? idmap_get(m, id) : PPROF_NONE;
    if (UNLIKELY(id >= UINT32_MAX)) {
        *big = true;
        return 0;
    }
    return (uint32_t)id;
}

/* funcs NULL: store the raw function id (see ref_id). */
static int decode_line(dec_t *d, const uint8_t *p, const uint8_t *end, const idmap_t *funcs,
                       pprof_line_t *ln)
{
    const uint8_t *start = p;
    field_t f;
    int rc;
    uint64_t fid = 0;
    ln->line = 0;
    while (p < end) {
        const uint8_t *at = p;
        if (UNLIKELY(!(p = rd_field(p, end, &f))))
            return explain_field(d, at, end);
        switch (f.tag) {
        case TAG(1, WT_VARINT): fid = f.v; break;
        case TAG(2, WT_VARINT): ln->line = (int64_t)f.v; break;
        default:
            if ((rc = other_field(d, at, f.tag, LINE_VARINT, 0)))
                return rc;
        }
    }
    ln->func = ref_id(funcs, fid, &d->big_loc_refs);
    if (funcs && fid && ln->func == PPROF_NONE)
        return fail(d, EMB_ECORRUPT, start, "line: function id %" PRIu64 " not found", fid);
    return 0;
}

/* maps/funcs NULL: raw mode (ids resolved later by resolve_locs). */
static int decode_location(dec_t *d, const uint8_t *p, const uint8_t *end, const idmap_t *maps,
                           const idmap_t *funcs, pprof_location_t *loc)
{
    pprof_t *o = d->out;
    field_t f;
    int rc = 0;
    uint64_t mid = 0;
    memset(loc, 0, sizeof(*loc));
    loc->line_off = (uint32_t)o->nlines;
    while (p < end && rc == 0) {
        const uint8_t *at = p;
        if (UNLIKELY(!(p = rd_field(p, end, &f))))
            return explain_field(d, at, end);
        switch (f.tag) {
        case TAG(1, WT_VARINT): loc->id = f.v; break;
        case TAG(2, WT_VARINT): mid = f.v; break;
        case TAG(3, WT_VARINT): loc->address = f.v; break;
        case TAG(4, WT_LEN):
            if (UNLIKELY(o->nlines == d->cap_lines)) {
                if ((rc = check_limit(d, "lines", o->nlines + 1, PPROF_MAX_REFS)))
                    return rc;
                xgrow(&o->lines, &d->cap_lines, o->nlines + 1, sizeof(*o->lines));
            }
            rc = decode_line(d, f.p, f.p + f.v, funcs, &o->lines[o->nlines++]);
            break;
        default: rc = other_field(d, at, f.tag, LOCATION_VARINT, LOCATION_LEN);
        }
    }
    loc->nlines = (uint32_t)(o->nlines - loc->line_off);
    /* Like pprof, an unknown mapping id means "no mapping" rather than an error. */
    loc->mapping = ref_id(maps, mid, &d->big_loc_refs);
    return rc;
}

static int decode_label(dec_t *d, const uint8_t *p, const uint8_t *end, pprof_label_t *l)
{
    field_t f;
    int rc = 0;
    memset(l, 0, sizeof(*l));
    while (p < end && rc == 0) {
        const uint8_t *at = p;
        if (UNLIKELY(!(p = rd_field(p, end, &f))))
            return explain_field(d, at, end);
        switch (f.tag) {
        case TAG(1, WT_VARINT): rc = get_str(d, at, &f, &l->key); break;
        case TAG(2, WT_VARINT): rc = get_str(d, at, &f, &l->str); break;
        case TAG(3, WT_VARINT): l->num = (int64_t)f.v; break;
        case TAG(4, WT_VARINT): rc = get_str(d, at, &f, &l->num_unit); break;
        default: rc = other_field(d, at, f.tag, LABEL_VARINT, 0);
        }
    }
    return rc;
}

/* Decodes sample number si. locmap NULL: location ids are stored raw and resolved later by
 * resolve_samples; otherwise resolved here. Values go straight to their fixed slots. */
static int decode_sample(dec_t *d, const uint8_t *p, const uint8_t *end, const idmap_t *locmap,
                         size_t si, pprof_sample_t *s)
{
    pprof_t *o = d->out;
    const size_t nt = o->nsample_types;
    int64_t *vals = o->values + si * nt;
    size_t nv = 0, nsl = o->nsample_locs;
    field_t f;
    int rc;
    s->loc_off = (uint32_t)nsl;
    s->value_off = (uint32_t)(si * nt);
    s->label_off = (uint32_t)o->nlabels;
    while (p < end) {
        const uint8_t *at = p;
        if (UNLIKELY(!(p = rd_field(p, end, &f))))
            return explain_field(d, at, end);
        switch (f.tag) {
        case TAG(1, WT_LEN): {
            /* Each varint takes at least one byte, so the length bounds the count. */
            if (UNLIKELY(nsl + f.v > d->cap_sample_locs))
                xgrow(&o->sample_locs, &d->cap_sample_locs, nsl + f.v,
                      sizeof(*o->sample_locs));
            uint32_t *dst = o->sample_locs + nsl;
            if (LIKELY(!locmap)) {
                size_t n = unpack_u32(f.p, f.p + f.v, d->end, dst, &d->big_sample_ids);
                if (UNLIKELY(n == SIZE_MAX))
                    return fail(d, EMB_ECORRUPT, at, "truncated or overlong location id");
                nsl += n;
                break;
            }
            const uint8_t *q = f.p, *qe = f.p + f.v;
            while (q < qe) {
                vr_t r = rd_varint(q, qe);
                if (!r.p)
                    return fail(d, EMB_ECORRUPT, at, "truncated or overlong location id");
                uint32_t li = idmap_get(locmap, r.v);
                if (li == PPROF_NONE)
                    return fail(d, EMB_ECORRUPT, at, "location id %" PRIu64 " not found", r.v);
                o->sample_locs[nsl++] = li;
                q = r.p;
            }
            break;
        }
        case TAG(1, WT_VARINT): {
            if (UNLIKELY(nsl + 1 > d->cap_sample_locs))
                xgrow(&o->sample_locs, &d->cap_sample_locs, nsl + 1, sizeof(*o->sample_locs));
            uint32_t li = ref_id(locmap, f.v, &d->big_sample_ids);
            if (locmap && li == PPROF_NONE)
                return fail(d, EMB_ECORRUPT, at, "location id %" PRIu64 " not found", f.v);
            o->sample_locs[nsl++] = li;
            break;
        }
        case TAG(2, WT_LEN): {
            const uint8_t *q = f.p, *qe = f.p + f.v;
            while (q < qe) {
                vr_t r = rd_varint(q, qe);
                if (UNLIKELY(!r.p))
                    return fail(d, EMB_ECORRUPT, at, "truncated or overlong value");
                if (UNLIKELY(nv >= nt))
                    return fail(d, EMB_ECORRUPT, at, "more than %zu values", nt);
                vals[nv++] = (int64_t)r.v;
                q = r.p;
            }
            break;
        }
        case TAG(2, WT_VARINT):
            if (UNLIKELY(nv >= nt))
                return fail(d, EMB_ECORRUPT, at, "more than %zu values", nt);
            vals[nv++] = (int64_t)f.v;
            break;
        case TAG(3, WT_LEN):
            if (UNLIKELY(o->nlabels == d->cap_labels)) {
                if ((rc = check_limit(d, "labels", o->nlabels + 1, PPROF_MAX_REFS)))
                    return rc;
                xgrow(&o->labels, &d->cap_labels, o->nlabels + 1, sizeof(*o->labels));
            }
            if ((rc = decode_label(d, f.p, f.p + f.v, &o->labels[o->nlabels++])))
                return rc;
            break;
        default:
            if ((rc = other_field(d, at, f.tag, 0, SAMPLE_LEN)))
                return rc;
        }
    }
    if ((rc = check_limit(d, "sample location ids", nsl, PPROF_MAX_REFS)))
        return rc;
    s->nlocs = (uint32_t)(nsl - s->loc_off);
    s->nlabels = (uint32_t)(o->nlabels - s->label_off);
    o->nsample_locs = nsl;
    if (UNLIKELY(nv != nt))
        return fail(d, EMB_ECORRUPT, NULL, "%zu values for %zu sample types", nv, nt);
    return 0;
}

/* ---- pass 2: everything, ids raw ------------------------------------------------------- */

static int decode_pass(dec_t *d, const uint8_t *p, const uint8_t *end)
{
    pprof_t *o = d->out;
    field_t f;
    int rc = 0;
    while (p < end && rc == 0) {
        const uint8_t *at = p;
        if (UNLIKELY(!(p = rd_field(p, end, &f)))) /* scan_pass checked it: cannot happen */
            return explain_field(d, at, end);
        d->what = NULL;
        switch (f.tag) {
        case TAG(1, WT_LEN):
            d->what = "sample_type";
            d->idx = d->types_done;
            rc = decode_value_type(d, f.p, f.p + f.v, &o->sample_types[d->types_done++]);
            break;
        case TAG(2, WT_LEN):
            d->what = "sample";
            d->idx = o->nsamples;
            rc = decode_sample(d, f.p, f.p + f.v, NULL, o->nsamples, &o->samples[o->nsamples]);
            o->nsamples++;
            break;
        case TAG(3, WT_LEN):
            d->what = "mapping";
            d->idx = o->nmappings;
            rc = decode_mapping(d, f.p, f.p + f.v, &o->mappings[o->nmappings++]);
            break;
        case TAG(4, WT_LEN):
            d->what = "location";
            d->idx = o->nlocs;
            rc = decode_location(d, f.p, f.p + f.v, NULL, NULL, &o->locs[o->nlocs++]);
            break;
        case TAG(5, WT_LEN):
            d->what = "function";
            d->idx = o->nfuncs;
            rc = decode_function(d, f.p, f.p + f.v, &o->funcs[o->nfuncs++]);
            break;
        case TAG(6, WT_LEN):
            o->strings[o->nstrings++] = slice_make(f.p, (size_t)f.v);
            break;
        case TAG(9, WT_VARINT): o->time_nanos = (int64_t)f.v; break;
        case TAG(10, WT_VARINT): o->duration_nanos = (int64_t)f.v; break;
        case TAG(11, WT_LEN):
            d->what = "period_type";
            d->idx = 0;
            rc = decode_value_type(d, f.p, f.p + f.v, &o->period_type);
            break;
        case TAG(12, WT_VARINT): o->period = (int64_t)f.v; break;
        case TAG(14, WT_VARINT): rc = get_str(d, at, &f, &o->default_sample_type); break;
        default: break;
        }
    }
    d->what = NULL;
    return rc;
}

/* ---- resolution of raw ids ------------------------------------------------------------- */

static int resolve_locs(dec_t *d, const idmap_t *maps, const idmap_t *funcs)
{
    pprof_t *o = d->out;
    for (size_t i = 0; i < o->nlocs; i++) {
        pprof_location_t *loc = &o->locs[i];
        uint32_t m = loc->mapping;
        loc->mapping = m ? idmap_get(maps, m) : PPROF_NONE;
        pprof_line_t *ln = o->lines + loc->line_off;
        for (uint32_t j = 0; j < loc->nlines; j++) {
            uint32_t fid = ln[j].func;
            ln[j].func = fid ? idmap_get(funcs, fid) : PPROF_NONE;
            if (UNLIKELY(fid && ln[j].func == PPROF_NONE))
                return fail(d, EMB_ECORRUPT, NULL, "location %zu line %u: function id %" PRIu32
                            " not found", i, j, fid);
        }
    }
    return 0;
}

/* The sample holding sample_locs[i]: the last one whose loc_off <= i. */
static size_t sample_of(const pprof_t *o, size_t i)
{
    size_t lo = 0, hi = o->nsamples;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (o->samples[mid].loc_off <= i)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

static int resolve_samples(dec_t *d, const idmap_t *locmap)
{
    pprof_t *o = d->out;
    uint32_t *sl = o->sample_locs;
    size_t n = o->nsample_locs, i;
    if (locmap->kind == IDMAP_IDENTITY) {
        uint32_t nlocs = (uint32_t)locmap->n;
        for (i = 0; i < n; i++) {
            uint32_t v = sl[i] - 1; /* raw id 0 wraps to UINT32_MAX: not found */
            if (UNLIKELY(v >= nlocs))
                goto bad;
            sl[i] = v;
        }
        return 0;
    }
    for (i = 0; i < n; i++) {
        uint32_t v = idmap_get(locmap, sl[i]);
        if (UNLIKELY(v == PPROF_NONE))
            goto bad;
        sl[i] = v;
    }
    return 0;
bad:
    return err_set(d->err, EMB_ECORRUPT, "sample %zu: location id %" PRIu32 " not found",
                   sample_of(o, i), sl[i]);
}

/* Third walk, only for ids >= 2^32: decodes locations and/or samples again resolving inline. */
static int redo_pass(dec_t *d, const uint8_t *p, const uint8_t *end, const idmap_t *maps,
                     const idmap_t *funcs, const idmap_t *locmap)
{
    pprof_t *o = d->out;
    field_t f;
    int rc = 0;
    if (maps)
        o->nlocs = o->nlines = 0;
    if (locmap)
        o->nsamples = o->nsample_locs = o->nlabels = 0;
    while (p < end && rc == 0) {
        const uint8_t *at = p;
        if (UNLIKELY(!(p = rd_field(p, end, &f)))) /* scan_pass checked it: cannot happen */
            return explain_field(d, at, end);
        if (f.tag == TAG(4, WT_LEN) && maps) {
            d->what = "location";
            d->idx = o->nlocs;
            rc = decode_location(d, f.p, f.p + f.v, maps, funcs, &o->locs[o->nlocs++]);
        } else if (f.tag == TAG(2, WT_LEN) && locmap) {
            d->what = "sample";
            d->idx = o->nsamples;
            rc = decode_sample(d, f.p, f.p + f.v, locmap, o->nsamples,
                               &o->samples[o->nsamples]);
            o->nsamples++;
        }
    }
    d->what = NULL;
    return rc;
}

/* ---- entry points ---------------------------------------------------------------------- */

int pprof_decode(pprof_t *out, const uint8_t *data, size_t len, err_t *err)
{
    dec_t d;
    idmap_t maps, funcs, locs;
    scan_t c;
    const uint8_t *end;
    int rc;

    memset(out, 0, sizeof(*out));
    memset(&d, 0, sizeof(d));
    memset(&maps, 0, sizeof(maps));
    memset(&funcs, 0, sizeof(funcs));
    memset(&locs, 0, sizeof(locs));
    d.err = err;
    d.out = out;
    hmap_init(&maps.h);
    hmap_init(&funcs.h);
    hmap_init(&locs.h);
    if (!data) {
        if (len) {
            rc = err_set(err, EMB_EINVAL, "no data");
            goto out;
        }
        data = (const uint8_t *)""; /* NULL + 0 is undefined */
    }
    end = data + len;
    d.base = data;
    d.end = end;
    if ((rc = scan_pass(&d, data, end, &c)))
        goto out;
    d.nstrings = c.strings;

    out->strings = xmalloc(c.strings * sizeof(*out->strings));
    out->sample_types = xmalloc(c.sample_types * sizeof(*out->sample_types));
    out->samples = xmalloc(c.samples * sizeof(*out->samples));
    out->values = xmalloc(c.samples * c.sample_types * sizeof(*out->values));
    out->locs = xmalloc(c.locs * sizeof(*out->locs));
    out->funcs = xmalloc(c.funcs * sizeof(*out->funcs));
    out->mappings = xmalloc(c.mappings * sizeof(*out->mappings));
    /* Growable, starting from typical sizes (ids ~2 bytes, ~1.2 lines per location). */
    d.cap_sample_locs = c.sample_bytes / 2 + 16;
    out->sample_locs = xmalloc(d.cap_sample_locs * sizeof(*out->sample_locs));
    d.cap_lines = c.locs + c.locs / 4 + 16;
    out->lines = xmalloc(d.cap_lines * sizeof(*out->lines));
    d.cap_labels = 0;
    out->nsample_types = c.sample_types; /* decode_sample needs it before types are filled */
    out->nvalues = c.samples * c.sample_types;
    if ((rc = decode_pass(&d, data, end)))
        goto out;
    if (out->strings[0].len != 0) {
        rc = fail(&d, EMB_ECORRUPT, NULL, "string_table[0] is not \"\"");
        goto out;
    }
    if ((rc = idmap_build(&d, &maps, out->mappings, sizeof(*out->mappings), out->nmappings,
                          "mapping")) ||
        (rc = idmap_build(&d, &funcs, out->funcs, sizeof(*out->funcs), out->nfuncs,
                          "function")))
        goto out;
    if (d.big_loc_refs)
        rc = redo_pass(&d, data, end, &maps, &funcs, NULL);
    else
        rc = resolve_locs(&d, &maps, &funcs);
    if (rc)
        goto out;
    if ((rc = idmap_build(&d, &locs, out->locs, sizeof(*out->locs), out->nlocs, "location")))
        goto out;
    if (d.big_sample_ids)
        rc = redo_pass(&d, data, end, NULL, NULL, &locs);
    else
        rc = resolve_samples(&d, &locs);
out:
    idmap_release(&maps);
    idmap_release(&funcs);
    idmap_release(&locs);
    if (rc)
        pprof_release(out);
    return rc;
}

void pprof_release(pprof_t *p)
{
    free(p->strings);
    free(p->sample_types);
    free(p->samples);
    free(p->sample_locs);
    free(p->values);
    free(p->labels);
    free(p->locs);
    free(p->lines);
    free(p->funcs);
    free(p->mappings);
    memset(p, 0, sizeof(*p));
}
