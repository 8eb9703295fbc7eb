/* JFR parser (see jfr.h for the format): chunks → metadata → constant pools → events, into
 * the neutral jfr_t model. Zero-copy where it can be: the bytes are never copied, constant-pool
 * values are remembered as chunk offsets and decoded only when an event reaches them, and each
 * distinct stack trace, method and thread state is decoded once per chunk (memos keyed by the
 * value's offset, so inline and pooled values are handled alike).
 *
 * Errors are sticky: the first failure is recorded in the context (ctx_t.rc) and every later
 * read returns 0 without touching memory, so the code reads straight through and checks at
 * the few points where a bad value would steer control (counts, offsets, class ids).
 * Invariant: every offset stored in a table is inside the current chunk, and every count is
 * checked against the bytes left before it sizes a loop or an allocation.
 */
#include "ingest/jfr.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/hash.h"
#include "base/mem.h"
#include "base/slice.h"
#include "base/utf8.h"

#define HEADER_SIZE 68
#define MAGIC "FLR\0"
#define MAX_NEST 32     /* inline struct nesting while skipping values */
#define MAX_ELEM_NEST 16 /* metadata element tree (real files: 5) */
#define MAX_STR_REFS 4  /* string → constant pool string → ... */
#define NONE UINT32_MAX

enum { P_STRUCT, P_BOOL, P_BYTE, P_SHORT, P_CHAR, P_INT, P_LONG, P_FLOAT, P_DOUBLE, P_STRING };

/* What an event class is to us (ROLE_NONE: skipped unread). */
enum { ROLE_NONE, ROLE_SAMPLE, ROLE_SETTING };

typedef struct jfld {
    uint32_t name;    /* metadata string index */
    uint32_t type;    /* class index, resolved after the element tree */
    uint64_t type_id;
    bool cpool, array;
} jfld_t;

typedef struct jcls {
    uint64_t id;
    uint32_t name;    /* metadata string index */
    uint8_t prim;     /* P_* */
    uint8_t role, kind;
    uint32_t foff, nf; /* fields fld[foff .. foff + nf) */
    /* sample events: field indices (NONE = absent) */
    uint32_t f_stack, f_state, f_v1, f_v2, f_ctx, f_span;
} jcls_t;

typedef struct rd {
    const uint8_t *p, *end;
} rd_t;

typedef struct ctx {
    jfr_t *out;
    err_t *err;
    int rc;               /* first failure, sticky */
    size_t budget;        /* values left to read: bounds time on hostile input */
    const uint8_t *file;  /* for offsets in messages */
    /* the current chunk */
    const uint8_t *base, *end;
    bool compressed;
    uint64_t tps;
    /* metadata */
    buf_t mstr;           /* strings, each NUL-terminated */
    uint32_t *moff, *mlen;
    size_t nm;
    jcls_t *cls;
    size_t ncls, capcls;
    jfld_t *fld;
    size_t nfld, capfld;
    hmap_t cls_by_id;
    uint32_t open_class;  /* class element being parsed, NONE outside */
    /* constant pools: (class, index) → value offset */
    uint32_t *pcls, *ppos;
    uint64_t *pidx;
    size_t np, capp;
    hmap_t pool, visited;
    /* memos: value offset → stack / frame name / "is sleeping" */
    hmap_t memo_stack, memo_method, memo_state;
    /* well-known classes and their fields (NONE = absent) */
    uint32_t c_string, c_stacktrace, c_frame, c_method, c_class, c_symbol, c_tstate;
    uint32_t f_st_frames, f_sf_method, f_m_type, f_m_name, f_c_name, f_sym_string, f_ts_name;
    buf_t s1, s2, name;   /* scratch text */
    uint32_t *tmp;        /* frames of the stack being resolved, leaf first */
    size_t captmp;
} ctx_t;

static void fail(ctx_t *c, const uint8_t *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void fail(ctx_t *c, const uint8_t *at, const char *fmt, ...)
{
    if (c->rc)
        return;
    char msg[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    c->rc = err_set(c->err, EMB_ECORRUPT, "jfr: %s at offset %zu", msg, (size_t)(at - c->file));
}

/* ---- primitive reads ---- */

/* A reader at chunk offset off; an offset past the chunk reads nothing (the first read
 * then fails as truncated) instead of pointing outside the input. */
static rd_t rd_at(const ctx_t *c, uint32_t off)
{
    const uint8_t *p = (size_t)off <= (size_t)(c->end - c->base) ? c->base + off : c->end;
    rd_t r = {p, c->end};
    return r;
}

static bool need(ctx_t *c, rd_t *r, size_t n)
{
    if (c->rc)
        return false;
    if (r->p > r->end || (size_t)(r->end - r->p) < n) {
        fail(c, r->p, "truncated value");
        r->p = r->end;
        return false;
    }
    return true;
}

static uint8_t rd_u8(ctx_t *c, rd_t *r)
{
    return need(c, r, 1) ? *r->p++ : 0;
}

static uint64_t rd_be(ctx_t *c, rd_t *r, size_t n)
{
    uint64_t v = 0;
    if (!need(c, r, n))
        return 0;
    for (size_t i = 0; i < n; i++)
        v = v << 8 | r->p[i];
    r->p += n;
    return v;
}

/* JFR's compressed integer: LEB128 of at most 9 bytes, the 9th contributing all 8 bits. */
static uint64_t rd_var(ctx_t *c, rd_t *r)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) {
        if (!need(c, r, 1))
            return 0;
        uint8_t b = *r->p++;
        v |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80))
            return v;
    }
    return need(c, r, 1) ? v | (uint64_t)*r->p++ << 56 : 0;
}

static int64_t rd_long(ctx_t *c, rd_t *r)
{
    return (int64_t)(c->compressed ? rd_var(c, r) : rd_be(c, r, 8));
}

static int32_t rd_int(ctx_t *c, rd_t *r)
{
    return (int32_t)(uint32_t)(c->compressed ? rd_var(c, r) : rd_be(c, r, 4));
}

static uint16_t rd_u16(ctx_t *c, rd_t *r)
{
    return (uint16_t)(c->compressed ? rd_var(c, r) : rd_be(c, r, 2));
}

/* A count of things that each take at least one byte: never more than the bytes left. */
static size_t rd_count(ctx_t *c, rd_t *r)
{
    int32_t n = rd_int(c, r);
    if (c->rc)
        return 0;
    if (n < 0 || (size_t)n > (size_t)(r->end - r->p)) {
        fail(c, r->p, "count %d exceeds the %zu bytes left", (int)n, (size_t)(r->end - r->p));
        return 0;
    }
    return (size_t)n;
}

static bool spend(ctx_t *c, const uint8_t *at)
{
    if (c->rc)
        return false;
    if (c->budget == 0) {
        fail(c, at, "work limit reached (value nesting out of proportion to the input)");
        return false;
    }
    c->budget--;
    return true;
}

/* ---- constant pools ---- */

static uint64_t pool_key(uint32_t cls, uint64_t idx)
{
    return hash_u64(idx) ^ ((uint64_t)cls << 1);
}

static uint32_t pool_find(const ctx_t *c, uint32_t cls, uint64_t idx)
{
    size_t pos = 0;
    int started = 0;
    uint32_t e;
    while ((e = hmap_probe(&c->pool, pool_key(cls, idx), &pos, &started)) != HMAP_EMPTY)
        if (c->pcls[e] == cls && c->pidx[e] == idx)
            return c->ppos[e];
    return NONE;
}

static uint32_t memo_get(const hmap_t *m, uint32_t off)
{
    size_t pos = 0;
    int started = 0;
    return hmap_probe(m, off, &pos, &started);
}

/* ---- strings ---- */

/* Appends rune at w (room reserved by the caller); returns the new end. */
static char *put_utf8(char *w, uint32_t rune)
{
    if (rune < 0x80) {
        *w++ = (char)rune;
        return w;
    }
    return w + utf8_encode(w, rune);
}

/* Reads a string value into *out: a slice of the input (UTF-8), or of scratch (converted
 * encodings, reset here). Null and empty both give "". */
static void rd_string(ctx_t *c, rd_t *r, buf_t *scratch, slice_t *out, int refs)
{
    *out = slice_make("", 0);
    const uint8_t *at = r->p;
    uint8_t enc = rd_u8(c, r);
    if (c->rc)
        return;
    switch (enc) {
    case 0:
    case 1:
        return;
    case 2: {
        int64_t idx = rd_long(c, r);
        uint32_t pos = c->c_string == NONE ? NONE : pool_find(c, c->c_string, (uint64_t)idx);
        if (c->rc)
            return;
        if (pos == NONE || refs >= MAX_STR_REFS) {
            fail(c, at, pos == NONE ? "string constant %lld not in the pool"
                                    : "string reference chain too long at %lld",
                 (long long)idx);
            return;
        }
        rd_t sub = rd_at(c, pos);
        rd_string(c, &sub, scratch, out, refs + 1);
        return;
    }
    case 3: {
        size_t n = rd_count(c, r);
        if (!c->rc) {
            *out = slice_make(r->p, n);
            r->p += n;
        }
        return;
    }
    case 4:   /* UTF-16 code units; pairs of surrogates become one rune */
    case 5: { /* Latin-1 */
        size_t n = rd_count(c, r);
        buf_reset(scratch);
        /* n <= the bytes left, so this is bounded by the input; 3 bytes cover a unit */
        char *w0 = c->rc ? NULL : buf_reserve(scratch, 3 * n + UTF8_MAX);
        if (!w0) {
            fail(c, at, "string too long");
            return;
        }
        char *w = w0;
        if (enc == 5) {
            for (size_t i = 0; i < n; i++)
                w = put_utf8(w, r->p[i]);
            r->p += n;
            buf_setlen(scratch, (size_t)(w - w0));
            break;
        }
        uint32_t high = 0;
        for (size_t i = 0; i < n && !c->rc; i++) {
            uint32_t u = rd_u16(c, r);
            if (high && u >= 0xdc00 && u <= 0xdfff) {
                w = put_utf8(w, 0x10000 + ((high - 0xd800) << 10) + (u - 0xdc00));
                high = 0;
                continue;
            }
            if (high)
                w = put_utf8(w, 0xfffd);
            high = 0;
            if (u >= 0xd800 && u <= 0xdbff)
                high = u;
            else
                w = put_utf8(w, u >= 0xdc00 && u <= 0xdfff ? 0xfffd : u);
        }
        if (high)
            w = put_utf8(w, 0xfffd);
        buf_setlen(scratch, (size_t)(w - w0));
        break;
    }
    default:
        fail(c, at, "unknown string encoding %u", enc);
        return;
    }
    if (!c->rc)
        *out = slice_make(scratch->data ? scratch->data : "", scratch->len);
}

static void skip_string(ctx_t *c, rd_t *r)
{
    const uint8_t *at = r->p;
    uint8_t enc = rd_u8(c, r);
    if (enc == 2) {
        rd_long(c, r);
    } else if (enc == 3 || enc == 5) {
        size_t n = rd_count(c, r);
        if (!c->rc)
            r->p += n;
    } else if (enc == 4) {
        size_t n = rd_count(c, r);
        for (size_t i = 0; i < n && !c->rc; i++)
            rd_u16(c, r);
    } else if (enc > 5) {
        fail(c, at, "unknown string encoding %u", enc);
    }
}

/* ---- values ---- */

static void skip_value(ctx_t *c, rd_t *r, uint32_t ci, int depth);

static void skip_field(ctx_t *c, rd_t *r, const jfld_t *f, int depth)
{
    size_t n = f->array ? rd_count(c, r) : 1;
    for (size_t i = 0; i < n && !c->rc; i++) {
        if (f->cpool)
            rd_long(c, r);
        else
            skip_value(c, r, f->type, depth);
    }
}

static void skip_value(ctx_t *c, rd_t *r, uint32_t ci, int depth)
{
    if (!spend(c, r->p))
        return;
    const jcls_t *k = &c->cls[ci];
    switch (k->prim) {
    case P_BOOL:
    case P_BYTE:
        rd_u8(c, r);
        return;
    case P_SHORT:
    case P_CHAR:
        rd_u16(c, r);
        return;
    case P_INT:
        rd_int(c, r);
        return;
    case P_LONG:
        rd_long(c, r);
        return;
    case P_FLOAT:
        rd_be(c, r, 4);
        return;
    case P_DOUBLE:
        rd_be(c, r, 8);
        return;
    case P_STRING:
        skip_string(c, r);
        return;
    default:
        break;
    }
    if (depth >= MAX_NEST) {
        fail(c, r->p, "values nested deeper than %d", MAX_NEST);
        return;
    }
    for (uint32_t i = 0; i < k->nf && !c->rc; i++)
        skip_field(c, r, &c->fld[k->foff + i], depth + 1);
}

/* Integer value of class ci at off (0 for non-integers and NONE). */
static int64_t num_at(ctx_t *c, uint32_t off, uint32_t ci)
{
    if (off == NONE)
        return 0;
    rd_t r = rd_at(c, off);
    switch (c->cls[ci].prim) {
    case P_BOOL:
    case P_BYTE:
        return (int8_t)rd_u8(c, &r);
    case P_SHORT:
        return (int16_t)rd_u16(c, &r);
    case P_CHAR:
        return rd_u16(c, &r);
    case P_INT:
        return rd_int(c, &r);
    case P_LONG:
        return rd_long(c, &r);
    default:
        return 0;
    }
}

/* Reads one field: returns the offset of its value (inline, or in the constant pool), NONE
 * for a pool index that is not there (null references are index 0), and for arrays the
 * offset of the element count. Advances r past the field. */
static uint32_t field_off(ctx_t *c, rd_t *r, const jfld_t *f)
{
    uint32_t at = (uint32_t)(r->p - c->base);
    if (f->cpool && !f->array) {
        int64_t idx = rd_long(c, r);
        return c->rc ? NONE : pool_find(c, f->type, (uint64_t)idx);
    }
    skip_field(c, r, f, 1);
    return at;
}

/* Offset of field want of the struct of class ci at r (NONE if want is NONE or absent). r
 * is left after the whole struct when all is true, else right after the field. */
static uint32_t struct_field(ctx_t *c, rd_t *r, uint32_t ci, uint32_t want, bool all)
{
    const jcls_t *k = &c->cls[ci];
    uint32_t res = NONE;
    if (k->prim != P_STRUCT) {
        fail(c, r->p, "expected a struct of class %s", c->mstr.data + c->moff[k->name]);
        return NONE;
    }
    for (uint32_t i = 0; i < k->nf && !c->rc; i++) {
        uint32_t off = field_off(c, r, &c->fld[k->foff + i]);
        if (i == want) {
            res = off;
            if (!all)
                break;
        }
    }
    return c->rc ? NONE : res;
}

/* Text of a String or Symbol (a struct whose "string" field is the String) at off. */
static slice_t text_at(ctx_t *c, uint32_t off, uint32_t ci, buf_t *scratch, int depth)
{
    slice_t s = slice_make("", 0);
    if (off == NONE || c->rc)
        return s;
    if (depth > MAX_STR_REFS) {
        fail(c, c->base + off, "symbol reference chain too long");
        return s;
    }
    rd_t r = rd_at(c, off);
    if (ci == c->c_symbol && c->f_sym_string != NONE) {
        uint32_t so = struct_field(c, &r, ci, c->f_sym_string, false);
        return text_at(c, so, c->fld[c->cls[ci].foff + c->f_sym_string].type, scratch, depth + 1);
    }
    if (c->cls[ci].prim == P_STRING)
        rd_string(c, &r, scratch, &s, 0);
    return s;
}

/* ---- frames and stacks ---- */

static bool is_digits(const char *s, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

static bool is_hex(const char *s, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

/* Length of the class name once JVM-generated suffixes are dropped (the caller appends "_"),
 * or n when there is nothing to drop. Same classes as grafana/jfr-parser merges:
 * jdk/internal/reflect/GeneratedMethodAccessor<digits>, and <prefix>$$Lambda followed by
 * digits or by `[$]<digits>[./][0x]<hex>`. Names that differ only in those suffixes are the
 * same code; keeping them apart would grow a new series of frames on every JVM restart. */
static size_t generated_prefix(const char *s, size_t n)
{
    static const char acc[] = "jdk/internal/reflect/GeneratedMethodAccessor";
    size_t na = sizeof(acc) - 1;
    if (n > na && memcmp(s, acc, na) == 0 && is_digits(s + na, n - na))
        return na;
    for (size_t i = n; i-- > 1;) { /* the regex's greedy (.+) takes the last $$Lambda */
        if (i + 8 > n || memcmp(s + i, "$$Lambda", 8) != 0)
            continue;
        const char *t = s + i + 8;
        size_t m = n - i - 8;
        if (is_digits(t, m))
            return i + 8;
        size_t j = 0;
        if (j < m && t[j] == '$')
            j++;
        while (j < m && t[j] >= '0' && t[j] <= '9')
            j++;
        if (j < m && (t[j] == '.' || t[j] == '/')) {
            j++;
            if (j + 1 < m && t[j] == '0' && t[j + 1] == 'x' && is_hex(t + j + 2, m - j - 2))
                return i + 8;
            if (is_hex(t + j, m - j))
                return i + 8;
        }
        return n;
    }
    return n;
}

/* Frame name id ("class.method") of the jdk.types.Method at off, NONE if it does not
 * resolve (such frames are left out, as jfr-parser does). */
static uint32_t method_name(ctx_t *c, uint32_t off)
{
    if (off == NONE || c->rc)
        return NONE;
    uint32_t id = memo_get(&c->memo_method, off);
    if (id != HMAP_EMPTY)
        return id;
    const jcls_t *m = &c->cls[c->c_method];
    rd_t r = rd_at(c, off);
    uint32_t toff = NONE, noff = NONE;
    for (uint32_t i = 0; i < m->nf && !c->rc; i++) {
        uint32_t o = field_off(c, &r, &c->fld[m->foff + i]);
        if (i == c->f_m_type)
            toff = o;
        else if (i == c->f_m_name)
            noff = o;
    }
    if (toff == NONE || c->f_c_name == NONE || c->f_m_name == NONE || c->rc)
        return NONE; /* no class: jfr-parser drops the frame */
    const jfld_t *mt = &c->fld[m->foff + c->f_m_type];
    if (mt->type != c->c_class || mt->array)
        return NONE;
    rd_t cr = rd_at(c, toff);
    uint32_t cnoff = struct_field(c, &cr, c->c_class, c->f_c_name, false);
    const jfld_t *cn = &c->fld[c->cls[c->c_class].foff + c->f_c_name];
    slice_t cls = text_at(c, cnoff, cn->type, &c->s1, 0);
    buf_reset(&c->name);
    size_t keep = generated_prefix((const char *)cls.p, cls.len);
    int rc = buf_append(&c->name, cls.p, keep);
    if (rc == 0 && keep < cls.len)
        rc = buf_putc(&c->name, '_');
    if (rc == 0)
        rc = buf_putc(&c->name, '.');
    const jfld_t *mn = &c->fld[m->foff + c->f_m_name];
    slice_t meth = mn->array ? slice_make("", 0) : text_at(c, noff, mn->type, &c->s2, 0);
    if (rc == 0)
        rc = buf_append(&c->name, meth.p, meth.len);
    if (rc)
        fail(c, c->base + off, "frame name too long");
    if (c->rc)
        return NONE;
    id = strtab_intern(&c->out->strs, c->name.data, c->name.len);
    hmap_put(&c->memo_method, off, id);
    return id;
}

/* Stack index (into out) of the jdk.types.StackTrace at off, NONE if it does not resolve. */
static uint32_t stack_at(ctx_t *c, uint32_t off, uint32_t ci)
{
    if (off == NONE || c->rc || ci != c->c_stacktrace || c->f_st_frames == NONE)
        return NONE;
    uint32_t id = memo_get(&c->memo_stack, off);
    if (id != HMAP_EMPTY)
        return id;
    rd_t r = rd_at(c, off);
    uint32_t foff = struct_field(c, &r, ci, c->f_st_frames, false);
    const jfld_t *ff = &c->fld[c->cls[ci].foff + c->f_st_frames];
    if (foff == NONE || !ff->array || ff->type != c->c_frame || c->f_sf_method == NONE)
        return NONE;
    const jfld_t *fm = &c->fld[c->cls[c->c_frame].foff + c->f_sf_method];
    if (fm->type != c->c_method || fm->array)
        return NONE;
    r = rd_at(c, foff);
    size_t n = rd_count(c, &r), depth = 0;
    xgrow(&c->tmp, &c->captmp, n + 1, sizeof(*c->tmp));
    for (size_t i = 0; i < n && !c->rc; i++) {
        uint32_t fo;
        if (ff->cpool) {
            int64_t idx = rd_long(c, &r);
            uint32_t po = c->rc ? NONE : pool_find(c, c->c_frame, (uint64_t)idx);
            rd_t fr = rd_at(c, po == NONE ? 0 : po);
            fo = po == NONE ? NONE : struct_field(c, &fr, c->c_frame, c->f_sf_method, false);
        } else {
            fo = struct_field(c, &r, c->c_frame, c->f_sf_method, true);
        }
        uint32_t name = method_name(c, fo);
        if (name != NONE)
            c->tmp[depth++] = name;
    }
    if (c->rc)
        return NONE;
    jfr_t *o = c->out;
    if (o->nstacks + 2 > UINT32_MAX || o->nframes + depth > UINT32_MAX) {
        fail(c, c->base + off, "too many stacks");
        return NONE;
    }
    xgrow(&o->frames, &o->capframes, o->nframes + depth, sizeof(*o->frames));
    for (size_t i = depth; i > 0; i--) /* JFR lists the leaf first */
        o->frames[o->nframes++] = c->tmp[i - 1];
    xgrow(&o->stack_off, &o->capstacks, o->nstacks + 2, sizeof(*o->stack_off));
    id = (uint32_t)o->nstacks++;
    o->stack_off[o->nstacks] = (uint32_t)o->nframes;
    hmap_put(&c->memo_stack, off, id);
    return id;
}

/* Whether the jdk.types.ThreadState at off is STATE_SLEEPING. */
static bool sleeping_at(ctx_t *c, uint32_t off, uint32_t ci)
{
    if (off == NONE || c->rc || ci != c->c_tstate || c->f_ts_name == NONE)
        return false;
    uint32_t v = memo_get(&c->memo_state, off);
    if (v != HMAP_EMPTY)
        return v == 1;
    rd_t r = rd_at(c, off);
    uint32_t no = struct_field(c, &r, ci, c->f_ts_name, false);
    slice_t s = text_at(c, no, c->fld[c->cls[ci].foff + c->f_ts_name].type, &c->s1, 0);
    bool sl = slice_eq_cstr(s, "STATE_SLEEPING");
    hmap_put(&c->memo_state, off, sl ? 1 : 0);
    return sl;
}

/* ---- events ---- */

static int64_t ticks_to_ns(const ctx_t *c, int64_t ticks)
{
    if (ticks <= 0)
        return 0;
    uint64_t t = (uint64_t)ticks, f = c->tps;
    if (f == 1000000000u)
        return ticks;
    uint64_t q = t / f, r = t % f;
    if (q > (uint64_t)INT64_MAX / 1000000000u)
        return INT64_MAX;
    double frac = (double)r * 1e9 / (double)f; /* r < f: below 1e9, exact enough */
    return (int64_t)(q * 1000000000u + (uint64_t)frac);
}

static void on_sample(ctx_t *c, rd_t *r, const jcls_t *k)
{
    uint32_t offs[6] = {NONE, NONE, NONE, NONE, NONE, NONE};
    const uint32_t want[6] = {k->f_stack, k->f_state, k->f_v1, k->f_v2, k->f_ctx, k->f_span};
    for (uint32_t i = 0; i < k->nf && !c->rc; i++) {
        uint32_t o = field_off(c, r, &c->fld[k->foff + i]);
        for (int w = 0; w < 6; w++)
            if (want[w] == i)
                offs[w] = o;
    }
    if (c->rc)
        return;
#define FTYPE(w) c->fld[k->foff + want[w]].type
#define FNUM(w) (want[w] == NONE || c->fld[k->foff + want[w]].array ? 0 : num_at(c, offs[w], FTYPE(w)))
    if (want[0] == NONE || c->fld[k->foff + want[0]].array)
        return;
    uint32_t st = stack_at(c, offs[0], FTYPE(0));
    if (st == NONE)
        return; /* no stack trace: nothing to attribute the sample to */
    jfr_sample_t s = {.stack = st, .kind = k->kind, .v1 = 1, .v2 = 0};
    if (k->kind == JFR_EXEC && want[1] != NONE)
        s.sleeping = sleeping_at(c, offs[1], FTYPE(1));
    if (want[2] != NONE) {
        s.v1 = FNUM(2);
        if (s.v1 < 1)
            s.v1 = 1; /* async-profiler's wall samples field: at least this one */
    }
    if (want[3] != NONE) {
        s.v2 = FNUM(3);
        if (k->kind == JFR_LOCK || k->kind == JFR_PARK)
            s.v2 = ticks_to_ns(c, s.v2);
        if (s.v2 < 0)
            s.v2 = 0;
    }
    s.context = FNUM(4);
    s.span = (uint64_t)FNUM(5);
#undef FNUM
#undef FTYPE
    if (c->rc)
        return;
    jfr_t *o = c->out;
    xgrow(&o->samples, &o->capsamples, o->nsamples + 1, sizeof(*o->samples));
    o->samples[o->nsamples++] = s;
}

/* jdk.ActiveSetting: async-profiler records its mode as the setting "event" (cpu, itimer,
 * wall, alloc, lock, ...), which becomes the jfr_event label. The last one wins. */
static void on_setting(ctx_t *c, rd_t *r, const jcls_t *k)
{
    uint32_t no = NONE, vo = NONE;
    for (uint32_t i = 0; i < k->nf && !c->rc; i++) {
        uint32_t o = field_off(c, r, &c->fld[k->foff + i]);
        if (i == k->f_v1)
            no = o;
        else if (i == k->f_v2)
            vo = o;
    }
    if (k->f_v1 == NONE || k->f_v2 == NONE || c->rc)
        return;
    slice_t name = text_at(c, no, c->fld[k->foff + k->f_v1].type, &c->s1, 0);
    if (!slice_eq_cstr(name, "event"))
        return;
    slice_t val = text_at(c, vo, c->fld[k->foff + k->f_v2].type, &c->s2, 0);
    if (c->rc)
        return;
    free(c->out->event);
    c->out->event = xstrndup((const char *)val.p, val.len);
}

/* ---- metadata ---- */

static uint32_t class_find(const ctx_t *c, uint64_t id)
{
    size_t pos = 0;
    int started = 0;
    uint32_t e;
    while ((e = hmap_probe(&c->cls_by_id, id, &pos, &started)) != HMAP_EMPTY)
        if (c->cls[e].id == id)
            return e;
    return NONE;
}

static const char *mstr(const ctx_t *c, uint32_t i) { return c->mstr.data + c->moff[i]; }

static uint32_t rd_mstr(ctx_t *c, rd_t *r)
{
    const uint8_t *at = r->p;
    int32_t i = rd_int(c, r);
    if (c->rc)
        return 0;
    if (i < 0 || (size_t)i >= c->nm) {
        fail(c, at, "metadata string index %d out of range", (int)i);
        return 0;
    }
    return (uint32_t)i;
}

static bool parse_u64(const char *s, uint64_t *out)
{
    uint64_t v = 0;
    if (!*s)
        return false;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || v > (UINT64_MAX - 9) / 10)
            return false;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    *out = v;
    return true;
}

static void parse_element(ctx_t *c, rd_t *r, int depth)
{
    const uint8_t *at = r->p;
    if (depth > MAX_ELEM_NEST) {
        fail(c, at, "metadata elements nested deeper than %d", MAX_ELEM_NEST);
        return;
    }
    if (!spend(c, at))
        return;
    const char *name = mstr(c, rd_mstr(c, r));
    bool is_class = !strcmp(name, "class");
    bool is_field = !strcmp(name, "field") && c->open_class != NONE && depth > 0;
    if (is_class && c->open_class != NONE) {
        fail(c, at, "class element inside a class element");
        return;
    }
    jcls_t k = {.name = 0, .prim = P_STRUCT, .foff = (uint32_t)c->nfld};
    jfld_t f = {.name = 0, .type = NONE};
    bool have_id = false, have_name = false, have_type = false;
    size_t nattr = rd_count(c, r);
    for (size_t i = 0; i < nattr && !c->rc; i++) {
        const char *key = mstr(c, rd_mstr(c, r));
        uint32_t vi = rd_mstr(c, r);
        const char *val = mstr(c, vi);
        if (c->rc)
            break;
        if (is_class && !strcmp(key, "id"))
            have_id = parse_u64(val, &k.id);
        else if (is_class && !strcmp(key, "name"))
            k.name = vi, have_name = true;
        else if (is_field && !strcmp(key, "name"))
            f.name = vi, have_name = true;
        else if (is_field && !strcmp(key, "class"))
            have_type = parse_u64(val, &f.type_id);
        else if (is_field && !strcmp(key, "constantPool"))
            f.cpool = !strcmp(val, "true");
        else if (is_field && !strcmp(key, "dimension")) {
            if (strcmp(val, "0") && strcmp(val, "1"))
                fail(c, at, "field dimension %s not supported", val);
            f.array = !strcmp(val, "1");
        }
    }
    if (c->rc)
        return;
    uint32_t self = NONE;
    if (is_class) {
        if (!have_id || !have_name) {
            fail(c, at, "class element without id or name");
            return;
        }
        if (c->ncls >= NONE - 1) {
            fail(c, at, "too many classes");
            return;
        }
        xgrow(&c->cls, &c->capcls, c->ncls + 1, sizeof(*c->cls));
        self = (uint32_t)c->ncls;
        c->cls[c->ncls++] = k;
        hmap_put(&c->cls_by_id, k.id, self);
        c->open_class = self;
    } else if (is_field) {
        if (!have_name || !have_type) {
            fail(c, at, "field element without name or class");
            return;
        }
        xgrow(&c->fld, &c->capfld, c->nfld + 1, sizeof(*c->fld));
        c->fld[c->nfld++] = f;
        c->cls[c->open_class].nf++;
    }
    uint32_t saved = c->open_class;
    if (is_field)
        c->open_class = NONE; /* a field's children (annotations) add nothing to its class */
    size_t nchild = rd_count(c, r);
    for (size_t i = 0; i < nchild && !c->rc; i++)
        parse_element(c, r, depth + 1);
    c->open_class = is_class ? NONE : saved;
}

static uint32_t class_named(const ctx_t *c, const char *name)
{
    for (size_t i = 0; i < c->ncls; i++)
        if (!strcmp(mstr(c, c->cls[i].name), name))
            return (uint32_t)i;
    return NONE;
}

static uint32_t field_named(const ctx_t *c, uint32_t ci, const char *name)
{
    if (ci == NONE)
        return NONE;
    const jcls_t *k = &c->cls[ci];
    for (uint32_t i = 0; i < k->nf; i++)
        if (!strcmp(mstr(c, c->fld[k->foff + i].name), name))
            return i;
    return NONE;
}

static const struct {
    const char *name;
    jfr_kind_t kind;
    const char *v1, *v2; /* value fields, NULL = none */
} EVENT_KINDS[] = {
    {"jdk.ExecutionSample", JFR_EXEC, NULL, NULL},
    {"jdk.NativeMethodSample", JFR_WALL, NULL, NULL},
    {"profiler.WallClockSample", JFR_WALL, "samples", NULL},
    {"jdk.ObjectAllocationInNewTLAB", JFR_ALLOC_TLAB, NULL, "tlabSize"},
    {"jdk.ObjectAllocationOutsideTLAB", JFR_ALLOC_OUTSIDE, NULL, "allocationSize"},
    {"jdk.ObjectAllocationSample", JFR_ALLOC_SAMPLE, NULL, "weight"},
    {"jdk.JavaMonitorEnter", JFR_LOCK, NULL, "duration"},
    {"jdk.ThreadPark", JFR_PARK, NULL, "duration"},
    {"profiler.LiveObject", JFR_LIVE, NULL, NULL},
    {"profiler.Malloc", JFR_MALLOC, NULL, "size"},
};

static const struct {
    const char *name;
    int prim;
} PRIMS[] = {
    {"boolean", P_BOOL}, {"byte", P_BYTE},   {"short", P_SHORT},    {"char", P_CHAR},
    {"int", P_INT},      {"long", P_LONG},   {"float", P_FLOAT},    {"double", P_DOUBLE},
    {"java.lang.String", P_STRING},
};

/* Reader over the fields of the special event (metadata 0, checkpoint 1) at off, after its
 * size, type, start and duration; bounded by the event's size. */
static rd_t special_event(ctx_t *c, uint32_t off, int64_t type, const char *what)
{
    rd_t r = rd_at(c, off);
    const uint8_t *at = r.p;
    int32_t size = rd_int(c, &r);
    if (!c->rc && (size <= 0 || (size_t)size > (size_t)(c->end - at)))
        fail(c, at, "%s event size %d out of range", what, (int)size);
    if (c->rc)
        return (rd_t){at, at};
    r.end = at + size;
    if (rd_long(c, &r) != type && !c->rc)
        fail(c, at, "%s offset does not point at a %s event", what, what);
    rd_long(c, &r); /* start */
    rd_long(c, &r); /* duration */
    return r;
}

static void parse_metadata(ctx_t *c, uint32_t off)
{
    rd_t r = special_event(c, off, 0, "metadata");
    const uint8_t *at = r.p;
    rd_long(c, &r); /* metadata id */
    c->nm = rd_count(c, &r);
    if (c->rc)
        return;
    c->moff = xmalloc((c->nm + 1) * sizeof(*c->moff));
    c->mlen = xmalloc((c->nm + 1) * sizeof(*c->mlen));
    for (size_t i = 0; i < c->nm && !c->rc; i++) {
        slice_t s;
        const uint8_t *sat = r.p;
        if (r.p < r.end && *r.p == 2) {
            fail(c, sat, "constant-pool string in metadata");
            return;
        }
        rd_string(c, &r, &c->s1, &s, MAX_STR_REFS);
        c->moff[i] = (uint32_t)c->mstr.len;
        c->mlen[i] = (uint32_t)s.len;
        if (!c->rc && (memchr(s.p, 0, s.len) || buf_append(&c->mstr, s.p, s.len) ||
                       buf_putc(&c->mstr, 0)))
            fail(c, sat, "bad metadata string");
    }
    if (c->rc)
        return;
    if (c->nm == 0) {
        fail(c, at, "metadata without strings");
        return;
    }
    parse_element(c, &r, 0);
    if (c->rc)
        return;
    for (size_t i = 0; i < c->nfld; i++) {
        jfld_t *f = &c->fld[i];
        f->type = class_find(c, f->type_id);
        if (f->type == NONE) {
            fail(c, at, "field %s has unknown type id %llu", mstr(c, f->name),
                 (unsigned long long)f->type_id);
            return;
        }
    }
    for (size_t i = 0; i < c->ncls; i++) {
        jcls_t *k = &c->cls[i];
        for (size_t p = 0; p < sizeof(PRIMS) / sizeof(PRIMS[0]); p++)
            if (!strcmp(mstr(c, k->name), PRIMS[p].name))
                k->prim = (uint8_t)PRIMS[p].prim;
        if (k->prim != P_STRUCT && k->nf) {
            fail(c, at, "primitive class %s with fields", mstr(c, k->name));
            return;
        }
        if (!strcmp(mstr(c, k->name), "jdk.ActiveSetting")) {
            k->role = ROLE_SETTING;
            k->f_v1 = field_named(c, (uint32_t)i, "name");
            k->f_v2 = field_named(c, (uint32_t)i, "value");
        }
        for (size_t e = 0; e < sizeof(EVENT_KINDS) / sizeof(EVENT_KINDS[0]); e++) {
            if (strcmp(mstr(c, k->name), EVENT_KINDS[e].name))
                continue;
            uint32_t ci = (uint32_t)i;
            k->role = ROLE_SAMPLE;
            k->kind = (uint8_t)EVENT_KINDS[e].kind;
            k->f_stack = field_named(c, ci, "stackTrace");
            k->f_state = field_named(c, ci, "state");
            k->f_v1 = EVENT_KINDS[e].v1 ? field_named(c, ci, EVENT_KINDS[e].v1) : NONE;
            k->f_v2 = EVENT_KINDS[e].v2 ? field_named(c, ci, EVENT_KINDS[e].v2) : NONE;
            k->f_ctx = field_named(c, ci, "contextId");
            k->f_span = field_named(c, ci, "spanId");
        }
    }
    c->c_string = class_named(c, "java.lang.String");
    c->c_stacktrace = class_named(c, "jdk.types.StackTrace");
    c->c_frame = class_named(c, "jdk.types.StackFrame");
    c->c_method = class_named(c, "jdk.types.Method");
    c->c_class = class_named(c, "java.lang.Class");
    c->c_symbol = class_named(c, "jdk.types.Symbol");
    c->c_tstate = class_named(c, "jdk.types.ThreadState");
    c->f_st_frames = field_named(c, c->c_stacktrace, "frames");
    c->f_sf_method = field_named(c, c->c_frame, "method");
    c->f_m_type = field_named(c, c->c_method, "type");
    c->f_m_name = field_named(c, c->c_method, "name");
    c->f_c_name = field_named(c, c->c_class, "name");
    c->f_sym_string = field_named(c, c->c_symbol, "string");
    c->f_ts_name = field_named(c, c->c_tstate, "name");
}

/* ---- constant pools ---- */

static void parse_pools(ctx_t *c, uint32_t off)
{
    for (;;) {
        const uint8_t *at = c->base + off;
        if (memo_get(&c->visited, off) != HMAP_EMPTY) {
            fail(c, at, "constant pool chain loops");
            return;
        }
        hmap_put(&c->visited, off, 1);
        rd_t r = special_event(c, off, 1, "checkpoint");
        int64_t delta = rd_long(c, &r);
        rd_u8(c, &r);   /* checkpoint kind (flush, chunk header, statics, threads) */
        size_t npools = rd_count(c, &r);
        for (size_t p = 0; p < npools && !c->rc; p++) {
            const uint8_t *pat = r.p;
            uint64_t id = (uint64_t)rd_long(c, &r);
            uint32_t ci = c->rc ? NONE : class_find(c, id);
            if (ci == NONE) {
                fail(c, pat, "constant pool of unknown class id %llu", (unsigned long long)id);
                return;
            }
            size_t n = rd_count(c, &r);
            for (size_t i = 0; i < n && !c->rc; i++) {
                uint64_t idx = (uint64_t)rd_long(c, &r);
                uint32_t vo = (uint32_t)(r.p - c->base);
                skip_value(c, &r, ci, 0);
                if (c->rc || pool_find(c, ci, idx) != NONE)
                    continue; /* walking back from the newest: the first seen wins */
                xgrow(&c->pcls, &c->capp, c->np + 1, sizeof(*c->pcls));
                c->pidx = xrealloc(c->pidx, c->capp * sizeof(*c->pidx));
                c->ppos = xrealloc(c->ppos, c->capp * sizeof(*c->ppos));
                c->pcls[c->np] = ci;
                c->pidx[c->np] = idx;
                c->ppos[c->np] = vo;
                hmap_put(&c->pool, pool_key(ci, idx), (uint32_t)c->np);
                c->np++;
            }
        }
        if (c->rc || delta == 0)
            return;
        if (delta > INT32_MAX || delta < -(int64_t)INT32_MAX) {
            fail(c, at, "constant pool link %lld out of the chunk", (long long)delta);
            return;
        }
        int64_t next = (int64_t)off + delta;
        if (next < HEADER_SIZE || next >= c->end - c->base) {
            fail(c, at, "constant pool link %lld out of the chunk", (long long)delta);
            return;
        }
        off = (uint32_t)next;
    }
}

/* ---- chunks ---- */

static void chunk_reset(ctx_t *c)
{
    buf_reset(&c->mstr);
    free(c->moff);
    free(c->mlen);
    c->moff = c->mlen = NULL;
    c->nm = 0;
    c->ncls = c->nfld = c->np = 0;
    hmap_release(&c->cls_by_id);
    hmap_release(&c->pool);
    hmap_release(&c->visited);
    hmap_release(&c->memo_stack);
    hmap_release(&c->memo_method);
    hmap_release(&c->memo_state);
    c->open_class = NONE;
}

static uint64_t be_at(const uint8_t *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

/* Parses the chunk at data[0..avail); returns its size (0 after a failure). */
static size_t parse_chunk(ctx_t *c, const uint8_t *data, size_t avail)
{
    if (avail < HEADER_SIZE) {
        fail(c, data, "truncated chunk header (%zu bytes)", avail);
        return 0;
    }
    if (memcmp(data, MAGIC, 4) != 0) {
        fail(c, data, "not a JFR chunk (bad magic)");
        return 0;
    }
    uint64_t major = be_at(data + 4, 2), size = be_at(data + 8, 8), cp = be_at(data + 16, 8);
    uint64_t meta = be_at(data + 24, 8), features = be_at(data + 64, 4);
    if (major != 1 && major != 2) {
        fail(c, data, "unsupported JFR version %llu", (unsigned long long)major);
        return 0;
    }
    if (size < HEADER_SIZE || size > avail || size >= UINT32_MAX) {
        fail(c, data, "chunk size %llu out of range (%zu bytes left)", (unsigned long long)size,
             avail);
        return 0;
    }
    if (cp < HEADER_SIZE || cp >= size || meta < HEADER_SIZE || meta >= size) {
        fail(c, data, "constant pool or metadata offset outside the chunk");
        return 0;
    }
    chunk_reset(c);
    c->base = data;
    c->end = data + size;
    c->compressed = features & 1;
    c->tps = be_at(data + 56, 8);
    if (c->tps == 0) {
        fail(c, data, "zero ticks per second");
        return 0;
    }
    parse_metadata(c, (uint32_t)meta);
    parse_pools(c, (uint32_t)cp);
    size_t pos = HEADER_SIZE;
    while (pos < size && !c->rc) {
        rd_t r = rd_at(c, (uint32_t)pos);
        const uint8_t *at = r.p;
        int32_t esz = rd_int(c, &r);
        if (!c->rc && (esz <= 0 || (size_t)esz > size - pos)) {
            fail(c, at, "event size %d out of range", (int)esz);
            break;
        }
        r.end = at + esz;
        uint64_t type = (uint64_t)rd_long(c, &r);
        uint32_t ci = type > 1 && !c->rc ? class_find(c, type) : NONE;
        if (ci != NONE && c->cls[ci].role == ROLE_SAMPLE)
            on_sample(c, &r, &c->cls[ci]);
        else if (ci != NONE && c->cls[ci].role == ROLE_SETTING)
            on_setting(c, &r, &c->cls[ci]);
        pos += (size_t)esz;
    }
    return c->rc ? 0 : (size_t)size;
}

int jfr_parse(jfr_t *out, const uint8_t *data, size_t len, err_t *err)
{
    memset(out, 0, sizeof(*out));
    strtab_init(&out->strs);
    ctx_t c;
    memset(&c, 0, sizeof(c));
    c.out = out;
    c.err = err;
    c.file = data;
    c.budget = 64 * len + (1u << 20);
    c.open_class = NONE;
    buf_init(&c.mstr, 0);
    buf_init(&c.s1, 0);
    buf_init(&c.s2, 0);
    buf_init(&c.name, 0);
    xgrow(&out->stack_off, &out->capstacks, 1, sizeof(*out->stack_off));
    out->stack_off[0] = 0;
    size_t off = 0;
    if (len == 0)
        fail(&c, data, "empty recording");
    while (off < len && !c.rc) {
        size_t n = parse_chunk(&c, data + off, len - off);
        off += n;
        out->nchunks++;
    }
    chunk_reset(&c);
    buf_release(&c.mstr);
    buf_release(&c.s1);
    buf_release(&c.s2);
    buf_release(&c.name);
    free(c.cls);
    free(c.fld);
    free(c.pcls);
    free(c.pidx);
    free(c.ppos);
    free(c.tmp);
    return c.rc;
}

void jfr_release(jfr_t *j)
{
    strtab_release(&j->strs);
    free(j->frames);
    free(j->stack_off);
    free(j->samples);
    free(j->event);
    memset(j, 0, sizeof(*j));
}
