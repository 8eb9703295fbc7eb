/* pbcodec: schema-driven protobuf binary / protojson codec (see pbcodec.h for the rules).
 *
 * Layout: a tree of pb_obj_t in one arena. Each object has one slot per schema field
 * (allocated on the first write), a slot being an array of n values: num_t (integers as
 * uint64 two's complement, doubles), pstr_t (strings and bytes, NUL-terminated copies) or
 * pb_obj_t * (sub-messages). Singular fields use element 0 with n = 0 (absent) or 1.
 *
 * Sections: arena -> objects and slots -> accessors -> binary decode -> binary encode ->
 * JSON decode -> JSON encode -> equality -> schema check.
 */
#include "api/pbcodec.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "base/utf8.h"

/* Under AddressSanitizer every arena allocation is its own malloc, so overflows are caught. */
#if defined(__SANITIZE_ADDRESS__)
#define ARENA_EXACT 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ARENA_EXACT 1
#endif
#endif
#ifndef ARENA_EXACT
#define ARENA_EXACT 0
#endif

#define FIELD_NUM_MAX ((1u << 29) - 1)
/* The smallest magnitude that rounds to infinity as a float (half-way past FLT_MAX). */
#define FLOAT_OVERFLOW 0x1.ffffffp+127

static void bug(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void bug(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("pbcodec: BUG: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    abort();
}

/* ---- arena ------------------------------------------------------------------------------- */

typedef struct chunk {
    struct chunk *next;
    size_t size, used; /* bytes of data */
    max_align_t data[];
} chunk_t;

typedef struct arena {
    chunk_t *head;
    size_t total;  /* bytes charged (see arena_charge) */
    size_t budget; /* 0 = unlimited */
    size_t next;   /* size of the next ordinary chunk */
} arena_t;

#define ARENA_ALIGN 16
#define ARENA_FIRST 1024
#define ARENA_MAXCHUNK (64 * 1024)

static size_t round_up(size_t n) { return (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1); }

static unsigned char *chunk_bytes(chunk_t *c) { return (unsigned char *)c->data; }

/* The budget counts the bytes handed out (rounded), not the allocator's slack or blocks
 * abandoned by growth (at most as much again), so it means the same with ARENA_EXACT. */
static bool arena_charge(arena_t *a, size_t n)
{
    if (a->budget && (n > a->budget || a->total > a->budget - n))
        return false;
    a->total += n;
    return true;
}

/* n (rounded) bytes, uncharged. Small blocks are carved from the head chunk (chunks double up
 * to ARENA_MAXCHUNK); a block bigger than the next chunk gets a chunk of its own, linked
 * behind the head so the head's free room stays usable. */
static void *arena_raw(arena_t *a, size_t n)
{
    chunk_t *c = a->head;
    if (!ARENA_EXACT && c && c->size - c->used >= n) {
        void *p = chunk_bytes(c) + c->used;
        c->used += n;
        return p;
    }
    bool own = ARENA_EXACT || n > a->next;
    size_t sz = own ? n : a->next;
    chunk_t *nc = xmalloc(sizeof(chunk_t) + sz);
    nc->size = sz;
    nc->used = n;
    if (own && c && !ARENA_EXACT) {
        nc->next = c->next;
        c->next = nc;
    } else {
        nc->next = c;
        a->head = nc;
    }
    if (!own && a->next < ARENA_MAXCHUNK)
        a->next *= 2;
    return chunk_bytes(nc);
}

/* n bytes, 16-aligned, uninitialised; NULL when over the budget. */
static void *arena_alloc(arena_t *a, size_t n)
{
    if (n > SIZE_MAX / 4)
        return NULL;
    n = round_up(n ? n : 1);
    if (!arena_charge(a, n))
        return NULL;
    return arena_raw(a, n);
}

static void *arena_zalloc(arena_t *a, size_t n)
{
    void *p = arena_alloc(a, n);
    if (p)
        memset(p, 0, n);
    return p;
}

/* Grows block p (old bytes; p NULL when old is 0) to n > old bytes, keeping its contents: in
 * place when it is the last block of the head chunk and the room is there, by realloc when it
 * is alone in the head chunk or the one behind it (big arrays), else by copying. */
static void *arena_grow(arena_t *a, void *p, size_t old, size_t n)
{
    if (n > SIZE_MAX / 4)
        return NULL;
    size_t ro = round_up(old), rn = round_up(n ? n : 1);
    if (rn <= ro)
        return p;
    if (!arena_charge(a, rn - ro))
        return NULL;
    if (!ARENA_EXACT && p) {
        chunk_t *c = a->head;
        if ((unsigned char *)p + ro == chunk_bytes(c) + c->used && c->size - c->used >= rn - ro) {
            c->used += rn - ro;
            return p;
        }
        chunk_t **link = &a->head;
        for (int k = 0; k < 2 && *link; k++, link = &(*link)->next) {
            chunk_t *d = *link;
            if (chunk_bytes(d) != p || d->used != ro)
                continue;
            if (rn > d->size) {
                d = xrealloc(d, sizeof(chunk_t) + rn);
                d->size = rn;
                *link = d;
            }
            d->used = rn;
            return chunk_bytes(d);
        }
    }
    void *q = arena_raw(a, rn);
    if (old)
        memcpy(q, p, old);
    return q;
}

static void arena_release(arena_t *a)
{
    for (chunk_t *c = a->head, *nx; c; c = nx) {
        nx = c->next;
        free(c);
    }
    a->head = NULL;
}

/* ---- objects and slots ------------------------------------------------------------------- */

typedef union num {
    uint64_t u;
    double d;
} num_t;

typedef struct pstr {
    char *p; /* NUL-terminated */
    size_t len;
} pstr_t;

typedef struct slot {
    void *v; /* num_t[], pstr_t[] or pb_obj_t *[] */
    uint32_t n, cap;
} slot_t;

struct pb_obj {
    const pb_msg_t *schema;
    arena_t *arena;
    slot_t *slots; /* schema->nfields, NULL until the first write */
    bool root;
};

typedef struct root {
    pb_obj_t obj;
    arena_t arena;
} root_t;

static pb_obj_t *root_new(const pb_msg_t *schema, size_t budget)
{
    root_t *r = xmalloc(sizeof(*r));
    memset(r, 0, sizeof(*r));
    r->arena.next = ARENA_FIRST;
    r->arena.budget = budget;
    r->obj.schema = schema;
    r->obj.arena = &r->arena;
    r->obj.root = true;
    return &r->obj;
}

pb_obj_t *pb_new(const pb_msg_t *schema)
{
    if (!schema)
        bug("pb_new(NULL)");
    return root_new(schema, 0);
}

void pb_free(pb_obj_t *o)
{
    if (!o)
        return;
    if (!o->root)
        bug("pb_free on a child of %s (free the root)", o->schema->name);
    root_t *r = (root_t *)o;
    arena_release(&r->arena);
    free(r);
}

const pb_msg_t *pb_schema(const pb_obj_t *o) { return o ? o->schema : NULL; }

static pb_obj_t *obj_new(arena_t *a, const pb_msg_t *schema)
{
    pb_obj_t *o = arena_alloc(a, sizeof(*o));
    if (!o)
        return NULL;
    o->schema = schema;
    o->arena = a;
    o->slots = NULL;
    o->root = false;
    return o;
}

static size_t elem_size(const pb_field_t *f)
{
    switch (f->type) {
    case PB_STRING: case PB_BYTES: return sizeof(pstr_t);
    case PB_MSG: return sizeof(pb_obj_t *);
    default: return sizeof(num_t);
    }
}

static bool is_int_type(pb_type_t t)
{
    switch (t) {
    case PB_INT64: case PB_UINT64: case PB_INT32: case PB_UINT32: case PB_SINT64:
    case PB_SINT32: case PB_FIXED64: case PB_SFIXED64: case PB_FIXED32: case PB_SFIXED32:
    case PB_BOOL: case PB_ENUM:
        return true;
    default:
        return false;
    }
}

static bool is_float_type(pb_type_t t) { return t == PB_DOUBLE || t == PB_FLOAT; }
static bool is_str_type(pb_type_t t) { return t == PB_STRING || t == PB_BYTES; }

/* The slot of field index fi, allocating the slot array; NULL over budget. */
static slot_t *obj_slot(pb_obj_t *o, size_t fi)
{
    if (!o->slots) {
        o->slots = arena_zalloc(o->arena, o->schema->nfields * sizeof(slot_t));
        if (!o->slots)
            return NULL;
    }
    return &o->slots[fi];
}

static const slot_t *obj_slot_ro(const pb_obj_t *o, size_t fi)
{
    return o && o->slots ? &o->slots[fi] : NULL;
}

/* Makes room for `more` elements; false over budget. */
static bool slot_reserve(arena_t *a, slot_t *s, size_t esz, size_t more)
{
    if (more <= (size_t)(s->cap - s->n))
        return true;
    if (more > UINT32_MAX - s->n)
        return false;
    size_t need = s->n + more;
    size_t nc = s->cap ? s->cap : 4;
    while (nc < need)
        nc = nc > UINT32_MAX / 2 ? UINT32_MAX : nc * 2;
    void *v = arena_grow(a, s->v, (size_t)s->cap * esz, nc * esz);
    if (!v)
        return false;
    s->v = v;
    s->cap = (uint32_t)nc;
    return true;
}

/* Pointer to the element to write: a new one at the end (add) or element 0 (set, n = 1). */
static void *slot_put(arena_t *a, slot_t *s, size_t esz, bool add)
{
    if (!add) {
        if (!s->cap && !slot_reserve(a, s, esz, 1))
            return NULL;
        s->n = 1;
        return s->v;
    }
    if (!slot_reserve(a, s, esz, 1))
        return NULL;
    return (char *)s->v + (size_t)s->n++ * esz;
}

/* A num as the field's type keeps it: truncated to the width, float rounded. */
static num_t normalize(const pb_field_t *f, num_t v)
{
    switch (f->type) {
    case PB_INT32: case PB_SINT32: case PB_SFIXED32: case PB_ENUM:
        v.u = (uint64_t)(int64_t)(int32_t)(uint32_t)v.u;
        break;
    case PB_UINT32: case PB_FIXED32:
        v.u = (uint32_t)v.u;
        break;
    case PB_BOOL:
        v.u = v.u != 0;
        break;
    case PB_DOUBLE:
        if (isnan(v.d))
            v.d = NAN; /* one NaN: JSON cannot carry a payload or a sign */
        break;
    case PB_FLOAT:
        if (isnan(v.d))
            v.d = NAN;
        else if (isfinite(v.d) && fabs(v.d) >= FLOAT_OVERFLOW)
            v.d = v.d > 0 ? INFINITY : -INFINITY; /* what the rounding would give */
        else
            v.d = (double)(float)v.d;
        break;
    default:
        break;
    }
    return v;
}

static bool num_is_default(const pb_field_t *f, num_t v)
{
    (void)f;
    return v.u == 0; /* for doubles: +0.0 only (the bits), as protobuf-go */
}

/* Stores a scalar; returns false over budget. */
static bool put_num(pb_obj_t *o, size_t fi, bool add, num_t v)
{
    const pb_field_t *f = &o->schema->fields[fi];
    slot_t *s = obj_slot(o, fi);
    if (!s)
        return false;
    v = normalize(f, v);
    if (!add && !f->optional && num_is_default(f, v)) {
        s->n = 0;
        return true;
    }
    num_t *e = slot_put(o->arena, s, sizeof(num_t), add);
    if (!e)
        return false;
    *e = v;
    return true;
}

/* Stores a copy of p[0..n) as a string/bytes value; returns false over budget. */
static bool put_pstr(pb_obj_t *o, size_t fi, bool add, const void *p, size_t n)
{
    const pb_field_t *f = &o->schema->fields[fi];
    slot_t *s = obj_slot(o, fi);
    if (!s)
        return false;
    if (!add && !f->optional && n == 0) {
        s->n = 0;
        return true;
    }
    if (n == SIZE_MAX)
        return false;
    char *c = arena_alloc(o->arena, n + 1);
    if (!c)
        return false;
    if (n)
        memcpy(c, p, n);
    c[n] = '\0';
    pstr_t *e = slot_put(o->arena, s, sizeof(pstr_t), add);
    if (!e)
        return false;
    e->p = c;
    e->len = n;
    return true;
}

/* The sub-message to fill: a new element (add), or the existing/new singular one (merge). */
static pb_obj_t *put_child(pb_obj_t *o, size_t fi, bool add)
{
    const pb_field_t *f = &o->schema->fields[fi];
    slot_t *s = obj_slot(o, fi);
    if (!s)
        return NULL;
    if (!add && s->n)
        return ((pb_obj_t **)s->v)[0];
    pb_obj_t *c = obj_new(o->arena, f->msg);
    if (!c)
        return NULL;
    pb_obj_t **e = slot_put(o->arena, s, sizeof(pb_obj_t *), add);
    if (!e)
        return NULL;
    *e = c;
    return c;
}

/* ---- accessors --------------------------------------------------------------------------- */

const pb_field_t *pb_field_by_num(const pb_msg_t *m, uint32_t num)
{
    size_t lo = 0, hi = m->nfields;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (m->fields[mid].num == num)
            return &m->fields[mid];
        if (m->fields[mid].num < num)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

const pb_field_t *pb_field_find(const pb_msg_t *m, const char *name)
{
    for (size_t i = 0; i < m->nfields; i++)
        if (strcmp(m->fields[i].json, name) == 0)
            return &m->fields[i];
    for (size_t i = 0; i < m->nfields; i++)
        if (strcmp(m->fields[i].name, name) == 0)
            return &m->fields[i];
    return NULL;
}

/* Field index for an accessor key; aborts if the schema has no such field. */
static size_t key_index(const pb_msg_t *m, uint32_t num, const char *name)
{
    const pb_field_t *f = name ? pb_field_find(m, name) : pb_field_by_num(m, num);
    if (!f) {
        if (name)
            bug("%s has no field \"%s\"", m->name, name);
        bug("%s has no field number %u", m->name, num);
    }
    return (size_t)(f - m->fields);
}

enum { K_STR, K_INT, K_DOUBLE, K_ENUM, K_MSG, K_ANY };

static const char *kind_name(int kind)
{
    static const char *const names[] = {"string", "integer", "double", "enum", "message", "any"};
    return names[kind];
}

static bool kind_ok(const pb_field_t *f, int kind)
{
    switch (kind) {
    case K_STR: return is_str_type(f->type);
    case K_INT: return is_int_type(f->type);
    case K_DOUBLE: return is_float_type(f->type);
    case K_ENUM: return f->type == PB_ENUM;
    case K_MSG: return f->type == PB_MSG;
    default: return true;
    }
}

static size_t key_check(const pb_msg_t *m, uint32_t num, const char *name, int kind)
{
    size_t fi = key_index(m, num, name);
    if (!kind_ok(&m->fields[fi], kind))
        bug("%s.%s is not a %s field", m->name, m->fields[fi].name, kind_name(kind));
    return fi;
}

/* Element `at` (0 = singular / first, else index + 1) of a field, or NULL if there is none. */
static const void *get_elem(const pb_obj_t *o, uint32_t num, const char *name, size_t at,
                            int kind)
{
    if (!o)
        return NULL;
    size_t fi = key_check(o->schema, num, name, kind);
    const slot_t *s = obj_slot_ro(o, fi);
    size_t n = s ? s->n : 0;
    size_t i = at ? at - 1 : 0;
    if (at && i >= n)
        bug("%s.%s: index %zu out of range (count %zu)", o->schema->name,
            o->schema->fields[fi].name, i, n);
    if (i >= n)
        return NULL;
    return (const char *)s->v + i * elem_size(&o->schema->fields[fi]);
}

bool pb__has(const pb_obj_t *o, uint32_t num, const char *name)
{
    return pb__count(o, num, name) > 0;
}

size_t pb__count(const pb_obj_t *o, uint32_t num, const char *name)
{
    if (!o)
        return 0;
    const slot_t *s = obj_slot_ro(o, key_check(o->schema, num, name, K_ANY));
    return s ? s->n : 0;
}

const char *pb__get_str(const pb_obj_t *o, uint32_t num, const char *name, size_t at,
                        size_t *out_len)
{
    const pstr_t *e = get_elem(o, num, name, at, K_STR);
    if (out_len)
        *out_len = e ? e->len : 0;
    return e ? e->p : "";
}

uint64_t pb__get_u64(const pb_obj_t *o, uint32_t num, const char *name, size_t at)
{
    const num_t *e = get_elem(o, num, name, at, K_INT);
    return e ? e->u : 0;
}

double pb__get_double(const pb_obj_t *o, uint32_t num, const char *name, size_t at)
{
    const num_t *e = get_elem(o, num, name, at, K_DOUBLE);
    return e ? e->d : 0.0;
}

static const char *enum_name(const pb_enum_t *en, int32_t v)
{
    for (size_t i = 0; i < en->nvalues; i++)
        if (en->values[i].num == v)
            return en->values[i].name;
    return NULL;
}

const char *pb__get_enum_name(const pb_obj_t *o, uint32_t num, const char *name, size_t at)
{
    const num_t *e = get_elem(o, num, name, at, K_ENUM);
    if (!o)
        return NULL;
    const pb_field_t *f = &o->schema->fields[key_index(o->schema, num, name)];
    return enum_name(f->enm, e ? (int32_t)e->u : 0);
}

const pb_obj_t *pb__get_msg(const pb_obj_t *o, uint32_t num, const char *name, size_t at)
{
    pb_obj_t *const *e = get_elem(o, num, name, at, K_MSG);
    return e ? *e : NULL;
}

/* Field index for a writer; aborts on a wrong kind or on set/add against the field shape. */
static size_t put_check(pb_obj_t *o, uint32_t num, const char *name, bool add, int kind)
{
    if (!o)
        bug("write to a NULL message");
    size_t fi = key_check(o->schema, num, name, kind);
    const pb_field_t *f = &o->schema->fields[fi];
    if (add != f->repeated)
        bug("%s.%s is %s: use pb_%s_*", o->schema->name, f->name,
            f->repeated ? "repeated" : "singular", f->repeated ? "add" : "set");
    return fi;
}

static void put_ok(bool ok)
{
    if (!ok) /* builders run without a budget; only a decoded tree's arena has one */
        bug("allocation over budget while building");
}

void pb__put_str(pb_obj_t *o, uint32_t num, const char *name, bool add, const char *s,
                 size_t n)
{
    size_t fi = put_check(o, num, name, add, K_STR);
    if (!s)
        s = "";
    if (n == (size_t)-1)
        n = strlen(s);
    if (o->schema->fields[fi].type == PB_STRING && !utf8_valid(s, n)) {
        size_t clen;
        char *clean = utf8_sanitize_dup(s, n, &clen);
        put_ok(put_pstr(o, fi, add, clean, clen));
        free(clean);
        return;
    }
    put_ok(put_pstr(o, fi, add, s, n));
}

void pb__put_bytes(pb_obj_t *o, uint32_t num, const char *name, bool add, const void *p,
                   size_t n)
{
    size_t fi = put_check(o, num, name, add, K_STR);
    put_ok(put_pstr(o, fi, add, n ? p : "", n));
}

void pb__put_u64(pb_obj_t *o, uint32_t num, const char *name, bool add, uint64_t v)
{
    size_t fi = put_check(o, num, name, add, K_INT);
    num_t x = {.u = v};
    put_ok(put_num(o, fi, add, x));
}

void pb__put_double(pb_obj_t *o, uint32_t num, const char *name, bool add, double v)
{
    size_t fi = put_check(o, num, name, add, K_DOUBLE);
    num_t x = {.d = v};
    put_ok(put_num(o, fi, add, x));
}

void pb__put_i64s(pb_obj_t *o, uint32_t num, const char *name, const int64_t *v, size_t n)
{
    size_t fi = put_check(o, num, name, true, K_INT);
    slot_t *s = obj_slot(o, fi);
    put_ok(s && slot_reserve(o->arena, s, sizeof(num_t), n));
    for (size_t i = 0; i < n; i++) {
        num_t x = {.u = (uint64_t)v[i]};
        ((num_t *)s->v)[s->n++] = normalize(&o->schema->fields[fi], x);
    }
}

pb_obj_t *pb__put_msg(pb_obj_t *o, uint32_t num, const char *name, bool add)
{
    size_t fi = put_check(o, num, name, add, K_MSG);
    pb_obj_t *c = put_child(o, fi, add);
    put_ok(c != NULL);
    return c;
}

void pb__clear(pb_obj_t *o, uint32_t num, const char *name)
{
    if (!o)
        bug("write to a NULL message");
    size_t fi = key_index(o->schema, num, name);
    if (o->slots)
        o->slots[fi].n = 0;
}

/* ---- error paths ------------------------------------------------------------------------- */

/* The field path of the value being decoded ("series[0].labels[1].value"), for messages. */
typedef struct path {
    char s[192];
    size_t len;
} path_t;

static size_t path_push(path_t *p, const char *name, size_t idx, bool indexed)
{
    size_t old = p->len;
    int n;
    if (indexed)
        n = snprintf(p->s + old, sizeof(p->s) - old, "%s%s[%zu]", old ? "." : "", name, idx);
    else
        n = snprintf(p->s + old, sizeof(p->s) - old, "%s%s", old ? "." : "", name);
    if (n < 0 || (size_t)n >= sizeof(p->s) - old)
        p->len = sizeof(p->s) - 1;
    else
        p->len = old + (size_t)n;
    return old;
}

static void path_pop(path_t *p, size_t old)
{
    p->len = old;
    p->s[old] = '\0';
}

static unsigned depth_limit(const pb_opts_t *opts)
{
    unsigned d = opts ? opts->max_depth : 0;
    return d == 0 || d > PB_MAX_DEPTH ? PB_MAX_DEPTH : d;
}

static size_t mem_budget(const pb_opts_t *opts, size_t len)
{
    if (opts && opts->max_mem)
        return opts->max_mem;
    if (len > (SIZE_MAX - PB_MEM_BASE) / PB_MEM_FACTOR)
        return SIZE_MAX;
    return len * PB_MEM_FACTOR + PB_MEM_BASE;
}

/* ---- binary decode ----------------------------------------------------------------------- */

enum { WT_VARINT = 0, WT_I64 = 1, WT_LEN = 2, WT_SGROUP = 3, WT_EGROUP = 4, WT_I32 = 5 };

typedef struct bdec {
    const uint8_t *base;
    unsigned max_depth;
    path_t path;
    err_t *err;
} bdec_t;

static int bfail(bdec_t *d, int code, const uint8_t *at, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int bfail(bdec_t *d, int code, const uint8_t *at, const char *fmt, ...)
{
    char msg[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return err_set(d->err, code, "%s%sbyte %zu: %s", d->path.s, d->path.len ? ": " : "",
                   (size_t)(at - d->base), msg);
}

/* Reads a varint at *p (< end); false if truncated or longer than 10 bytes / past 64 bits. */
static bool rd_varint(const uint8_t **p, const uint8_t *end, uint64_t *out)
{
    const uint8_t *q = *p;
    uint64_t v = 0;
    for (unsigned i = 0; i < 10; i++) {
        if (q >= end)
            return false;
        uint8_t b = *q++;
        if (i == 9 && b > 1)
            return false;
        v |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            *p = q;
            *out = v;
            return true;
        }
    }
    return false;
}

static uint64_t rd_le(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static int bdec_tag(bdec_t *d, const uint8_t **p, const uint8_t *end, uint32_t *num,
                    unsigned *wt)
{
    const uint8_t *at = *p;
    uint64_t tag;
    if (!rd_varint(p, end, &tag))
        return bfail(d, EMB_EINVAL, at, "malformed or truncated tag");
    if ((tag >> 3) == 0 || (tag >> 3) > FIELD_NUM_MAX)
        return bfail(d, EMB_EINVAL, at, "invalid field number %" PRIu64, tag >> 3);
    *num = (uint32_t)(tag >> 3);
    *wt = (unsigned)(tag & 7);
    return 0;
}

/* Skips one value of wire type wt at *p (the tag already read). */
static int bskip(bdec_t *d, const uint8_t **p, const uint8_t *end, uint32_t num, unsigned wt,
                 unsigned depth)
{
    const uint8_t *at = *p;
    uint64_t v;
    switch (wt) {
    case WT_VARINT:
        if (!rd_varint(p, end, &v))
            return bfail(d, EMB_EINVAL, at, "field %u: malformed or truncated varint", num);
        return 0;
    case WT_I64:
    case WT_I32: {
        size_t n = wt == WT_I64 ? 8 : 4;
        if ((size_t)(end - *p) < n)
            return bfail(d, EMB_EINVAL, at, "field %u: truncated fixed%zu", num, n * 8);
        *p += n;
        return 0;
    }
    case WT_LEN:
        if (!rd_varint(p, end, &v))
            return bfail(d, EMB_EINVAL, at, "field %u: malformed or truncated length", num);
        if (v > (uint64_t)(end - *p))
            return bfail(d, EMB_EINVAL, at, "field %u: length %" PRIu64 " past the end", num, v);
        *p += v;
        return 0;
    case WT_SGROUP:
        if (depth + 1 > d->max_depth)
            return bfail(d, EMB_EINVAL, at, "field %u: nesting deeper than %u", num,
                         d->max_depth);
        for (;;) {
            const uint8_t *tat = *p;
            if (*p >= end)
                return bfail(d, EMB_EINVAL, tat, "field %u: unterminated group", num);
            uint32_t n2;
            unsigned wt2;
            int rc = bdec_tag(d, p, end, &n2, &wt2);
            if (rc)
                return rc;
            if (wt2 == WT_EGROUP) {
                if (n2 != num)
                    return bfail(d, EMB_EINVAL, tat, "group %u closed by end of group %u", num,
                                 n2);
                return 0;
            }
            rc = bskip(d, p, end, n2, wt2, depth + 1);
            if (rc)
                return rc;
        }
    case WT_EGROUP:
        return bfail(d, EMB_EINVAL, at, "field %u: end of group without a start", num);
    default:
        return bfail(d, EMB_EINVAL, at, "field %u: invalid wire type %u", num, wt);
    }
}

/* The wire type a scalar field uses for one value. */
static unsigned scalar_wt(pb_type_t t)
{
    switch (t) {
    case PB_FIXED64: case PB_SFIXED64: case PB_DOUBLE: return WT_I64;
    case PB_FIXED32: case PB_SFIXED32: case PB_FLOAT: return WT_I32;
    case PB_STRING: case PB_BYTES: case PB_MSG: return WT_LEN;
    default: return WT_VARINT;
    }
}

/* The value of one scalar read as raw (varint or little-endian bits), as stored. */
static num_t scalar_from_wire(pb_type_t t, uint64_t raw)
{
    num_t v = {.u = raw};
    switch (t) {
    case PB_SINT64: v.u = (raw >> 1) ^ (0 - (raw & 1)); break;
    case PB_SINT32: {
        uint32_t r = (uint32_t)raw;
        v.u = (uint64_t)(int64_t)(int32_t)((r >> 1) ^ (0u - (r & 1)));
        break;
    }
    case PB_FLOAT: {
        uint32_t b = (uint32_t)raw;
        float fl;
        memcpy(&fl, &b, 4);
        v.d = fl;
        break;
    }
    case PB_DOUBLE: memcpy(&v.d, &raw, 8); break;
    default: break; /* widths are applied by normalize() */
    }
    return v;
}

static int bdec_msg(bdec_t *d, pb_obj_t *o, const uint8_t *p, const uint8_t *end,
                    unsigned depth);

/* Decodes a packed run [p, end) of scalars into a repeated field. */
static int bdec_packed(bdec_t *d, pb_obj_t *o, size_t fi, const uint8_t *p, const uint8_t *end)
{
    const pb_field_t *f = &o->schema->fields[fi];
    unsigned wt = scalar_wt(f->type);
    size_t count = 0;
    if (wt == WT_VARINT) {
        for (const uint8_t *q = p; q < end; q++)
            count += *q < 0x80;
    } else {
        size_t w = wt == WT_I64 ? 8 : 4;
        if ((size_t)(end - p) % w)
            return bfail(d, EMB_EINVAL, p, "packed fixed%zu run of %zu bytes", w * 8,
                         (size_t)(end - p));
        count = (size_t)(end - p) / w;
    }
    slot_t *s = obj_slot(o, fi);
    if (!s || !slot_reserve(o->arena, s, sizeof(num_t), count))
        return bfail(d, EMB_ETOOBIG, p, "over the decode memory budget");
    while (p < end) {
        const uint8_t *at = p;
        uint64_t raw;
        if (wt == WT_VARINT) {
            if (!rd_varint(&p, end, &raw))
                return bfail(d, EMB_EINVAL, at, "malformed varint in packed run");
        } else {
            unsigned w = wt == WT_I64 ? 8 : 4;
            raw = rd_le(p, w);
            p += w;
        }
        if (s->n == s->cap) /* only if a varint was malformed-but-accepted; cannot happen */
            return bfail(d, EMB_EINVAL, at, "packed run miscounted");
        ((num_t *)s->v)[s->n++] = normalize(f, scalar_from_wire(f->type, raw));
    }
    return 0;
}

static int bdec_field(bdec_t *d, pb_obj_t *o, size_t fi, unsigned wt, const uint8_t *at,
                      const uint8_t **p, const uint8_t *end, unsigned depth)
{
    const pb_field_t *f = &o->schema->fields[fi];
    uint64_t raw = 0;
    const uint8_t *vp = *p;
    switch (wt) {
    case WT_VARINT:
        if (!rd_varint(p, end, &raw))
            return bfail(d, EMB_EINVAL, at, "malformed or truncated varint");
        break;
    case WT_I64:
    case WT_I32: {
        size_t n = wt == WT_I64 ? 8 : 4;
        if ((size_t)(end - *p) < n)
            return bfail(d, EMB_EINVAL, at, "truncated fixed%zu", n * 8);
        raw = rd_le(*p, (unsigned)n);
        *p += n;
        break;
    }
    case WT_LEN:
        if (!rd_varint(p, end, &raw))
            return bfail(d, EMB_EINVAL, at, "malformed or truncated length");
        if (raw > (uint64_t)(end - *p))
            return bfail(d, EMB_EINVAL, at, "length %" PRIu64 " past the end", raw);
        vp = *p;
        *p += raw;
        break;
    default:
        return bfail(d, EMB_EINVAL, at, "invalid wire type %u", wt); /* groups: caller */
    }

    if (wt == WT_LEN && f->type == PB_MSG) {
        if (depth + 1 > d->max_depth)
            return bfail(d, EMB_EINVAL, at, "nesting deeper than %u", d->max_depth);
        pb_obj_t *c = put_child(o, fi, f->repeated);
        if (!c)
            return bfail(d, EMB_ETOOBIG, at, "over the decode memory budget");
        return bdec_msg(d, c, vp, vp + raw, depth + 1);
    }
    if (wt == WT_LEN && is_str_type(f->type)) {
        if (f->type == PB_STRING && !utf8_valid((const char *)vp, (size_t)raw))
            return bfail(d, EMB_EINVAL, at, "invalid UTF-8 in string");
        if (!put_pstr(o, fi, f->repeated, vp, (size_t)raw))
            return bfail(d, EMB_ETOOBIG, at, "over the decode memory budget");
        return 0;
    }
    if (wt == WT_LEN)
        return bdec_packed(d, o, fi, vp, vp + raw);
    if (!put_num(o, fi, f->repeated, scalar_from_wire(f->type, raw)))
        return bfail(d, EMB_ETOOBIG, at, "over the decode memory budget");
    return 0;
}

/* True if a known field accepts wire type wt (scalars: their own, or LEN when packed). */
static bool wt_matches(const pb_field_t *f, unsigned wt)
{
    unsigned want = scalar_wt(f->type);
    return wt == want || (wt == WT_LEN && f->repeated && want != WT_LEN);
}

static int bdec_msg(bdec_t *d, pb_obj_t *o, const uint8_t *p, const uint8_t *end,
                    unsigned depth)
{
    while (p < end) {
        const uint8_t *at = p;
        uint32_t num;
        unsigned wt;
        int rc = bdec_tag(d, &p, end, &num, &wt);
        if (rc)
            return rc;
        const pb_field_t *f = pb_field_by_num(o->schema, num);
        if (!f || !wt_matches(f, wt)) {
            rc = bskip(d, &p, end, num, wt, depth);
            if (rc)
                return rc;
            continue;
        }
        size_t fi = (size_t)(f - o->schema->fields);
        const slot_t *s = obj_slot_ro(o, fi);
        size_t old = path_push(&d->path, f->name, s ? s->n : 0,
                               f->repeated && f->type == PB_MSG);
        rc = bdec_field(d, o, fi, wt, at, &p, end, depth);
        if (rc)
            return rc;
        path_pop(&d->path, old);
    }
    return 0;
}

int pb_decode_binary_opts(pb_obj_t **out, const pb_msg_t *schema, const void *data,
                          size_t len, const pb_opts_t *opts, err_t *err)
{
    *out = NULL;
    pb_obj_t *o = root_new(schema, mem_budget(opts, len));
    bdec_t d = {.base = data, .max_depth = depth_limit(opts), .err = err};
    const uint8_t *p = data;
    int rc = bdec_msg(&d, o, p, p + len, 0);
    if (rc) {
        pb_free(o);
        return rc;
    }
    ((root_t *)o)->arena.budget = 0; /* builders may extend the tree without a cap */
    *out = o;
    return 0;
}

int pb_decode_binary(pb_obj_t **out, const pb_msg_t *schema, const void *data, size_t len,
                     err_t *err)
{
    return pb_decode_binary_opts(out, schema, data, len, NULL, err);
}

/* ---- binary encode ----------------------------------------------------------------------- */

/* Sizes of the sub-messages in pre-order, computed by pass 1 and consumed by pass 2. */
typedef struct sizes {
    size_t *v;
    size_t n, cap, pos;
} sizes_t;

static size_t varint_len(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

static size_t tag_len(uint32_t num) { return varint_len((uint64_t)num << 3); }

/* The raw wire value of a stored scalar (varint payload or little-endian bits). */
static uint64_t scalar_to_wire(pb_type_t t, num_t v)
{
    switch (t) {
    case PB_SINT64: return (v.u << 1) ^ (uint64_t)((int64_t)v.u >> 63);
    case PB_SINT32: {
        int32_t x = (int32_t)(uint32_t)v.u;
        return (uint32_t)(((uint32_t)x << 1) ^ (uint32_t)(x >> 31));
    }
    case PB_FLOAT: {
        float fl = (float)v.d;
        uint32_t b;
        memcpy(&b, &fl, 4);
        return b;
    }
    case PB_DOUBLE: {
        uint64_t b;
        memcpy(&b, &v.d, 8);
        return b;
    }
    default: return v.u;
    }
}

static size_t scalar_len(pb_type_t t, num_t v)
{
    switch (scalar_wt(t)) {
    case WT_I64: return 8;
    case WT_I32: return 4;
    default: return varint_len(scalar_to_wire(t, v));
    }
}

static size_t enc_size(const pb_obj_t *o, sizes_t *sz)
{
    if (sz->n == sz->cap)
        xgrow(&sz->v, &sz->cap, sz->n + 1, sizeof(size_t));
    size_t me = sz->n++;
    size_t total = 0;
    const pb_msg_t *m = o->schema;
    for (size_t fi = 0; o->slots && fi < m->nfields; fi++) {
        const pb_field_t *f = &m->fields[fi];
        const slot_t *s = &o->slots[fi];
        if (!s->n)
            continue;
        size_t tl = tag_len(f->num);
        if (f->type == PB_MSG) {
            for (size_t i = 0; i < s->n; i++) {
                size_t c = enc_size(((pb_obj_t *const *)s->v)[i], sz);
                total += tl + varint_len(c) + c;
            }
        } else if (is_str_type(f->type)) {
            for (size_t i = 0; i < s->n; i++) {
                size_t c = ((const pstr_t *)s->v)[i].len;
                total += tl + varint_len(c) + c;
            }
        } else if (f->repeated) {
            size_t c = 0;
            for (size_t i = 0; i < s->n; i++)
                c += scalar_len(f->type, ((const num_t *)s->v)[i]);
            total += tl + varint_len(c) + c;
        } else {
            total += tl + scalar_len(f->type, ((const num_t *)s->v)[0]);
        }
    }
    sz->v[me] = total;
    return total;
}

static uint8_t *wr_varint(uint8_t *p, uint64_t v)
{
    while (v >= 0x80) {
        *p++ = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    *p++ = (uint8_t)v;
    return p;
}

static uint8_t *wr_scalar(uint8_t *p, pb_type_t t, num_t v)
{
    uint64_t raw = scalar_to_wire(t, v);
    unsigned wt = scalar_wt(t);
    if (wt == WT_VARINT)
        return wr_varint(p, raw);
    unsigned n = wt == WT_I64 ? 8 : 4;
    for (unsigned i = 0; i < n; i++)
        *p++ = (uint8_t)(raw >> (8 * i));
    return p;
}

static uint8_t *enc_write(uint8_t *p, const pb_obj_t *o, sizes_t *sz)
{
    sz->pos++; /* this message's own size, already written by the parent */
    const pb_msg_t *m = o->schema;
    for (size_t fi = 0; o->slots && fi < m->nfields; fi++) {
        const pb_field_t *f = &m->fields[fi];
        const slot_t *s = &o->slots[fi];
        if (!s->n)
            continue;
        if (f->type == PB_MSG) {
            for (size_t i = 0; i < s->n; i++) {
                p = wr_varint(p, (uint64_t)f->num << 3 | WT_LEN);
                p = wr_varint(p, sz->v[sz->pos]);
                p = enc_write(p, ((pb_obj_t *const *)s->v)[i], sz);
            }
        } else if (is_str_type(f->type)) {
            for (size_t i = 0; i < s->n; i++) {
                const pstr_t *e = &((const pstr_t *)s->v)[i];
                p = wr_varint(p, (uint64_t)f->num << 3 | WT_LEN);
                p = wr_varint(p, e->len);
                if (e->len)
                    memcpy(p, e->p, e->len);
                p += e->len;
            }
        } else if (f->repeated) {
            size_t c = 0;
            for (size_t i = 0; i < s->n; i++)
                c += scalar_len(f->type, ((const num_t *)s->v)[i]);
            p = wr_varint(p, (uint64_t)f->num << 3 | WT_LEN);
            p = wr_varint(p, c);
            for (size_t i = 0; i < s->n; i++)
                p = wr_scalar(p, f->type, ((const num_t *)s->v)[i]);
        } else {
            p = wr_varint(p, (uint64_t)f->num << 3 | scalar_wt(f->type));
            p = wr_scalar(p, f->type, ((const num_t *)s->v)[0]);
        }
    }
    return p;
}

int pb_encode_binary(buf_t *out, const pb_obj_t *o)
{
    sizes_t sz = {0};
    size_t total = enc_size(o, &sz);
    int rc = 0;
    uint8_t *p = (uint8_t *)buf_reserve(out, total);
    if (!p) {
        rc = EMB_ETOOBIG;
        goto out;
    }
    uint8_t *e = enc_write(p, o, &sz);
    if ((size_t)(e - p) != total)
        bug("binary encoder wrote %zu bytes, sized %zu", (size_t)(e - p), total);
    buf_setlen(out, out->len + total);
out:
    free(sz.v);
    return rc;
}

/* ---- base64 ------------------------------------------------------------------------------ */

static const char b64_std[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Decodes s[0..n) as protojson does: URL-safe alphabet if it holds '-' or '_', standard
 * otherwise (never mixed); '=' padding only when n % 4 == 0, then exactly to a multiple of
 * 4. Writes into out (room for n * 3 / 4 + 3). Returns the length or (size_t)-1. */
static size_t b64_decode(const char *s, size_t n, uint8_t *out)
{
    bool url = memchr(s, '-', n) || memchr(s, '_', n);
    if (n % 4 == 0 && n) {
        size_t pad = s[n - 1] == '=' ? (s[n - 2] == '=' ? 2 : 1) : 0;
        n -= pad;
    }
    if (n % 4 == 1)
        return (size_t)-1;
    size_t o = 0;
    uint32_t acc = 0;
    unsigned bits = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        int v;
        if (c >= 'A' && c <= 'Z') v = c - 'A';
        else if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
        else if (c >= '0' && c <= '9') v = c - '0' + 52;
        else if (c == (url ? '-' : '+')) v = 62;
        else if (c == (url ? '_' : '/')) v = 63;
        else return (size_t)-1;
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (uint8_t)(acc >> bits);
        }
    }
    return o;
}

static int b64_encode(buf_t *b, const uint8_t *p, size_t n)
{
    size_t olen = (n + 2) / 3 * 4;
    char *w = buf_reserve(b, olen);
    if (!w)
        return EMB_ETOOBIG;
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16;
        if (i + 1 < n) v |= (uint32_t)p[i + 1] << 8;
        if (i + 2 < n) v |= p[i + 2];
        w[o++] = b64_std[v >> 18 & 63];
        w[o++] = b64_std[v >> 12 & 63];
        w[o++] = i + 1 < n ? b64_std[v >> 6 & 63] : '=';
        w[o++] = i + 2 < n ? b64_std[v & 63] : '=';
    }
    buf_setlen(b, b->len + olen);
    return 0;
}

/* ---- JSON decode ------------------------------------------------------------------------- */

typedef struct jdec {
    arena_t *arena;
    unsigned max_depth;
    bool ignore_unknown;
    path_t path;
    err_t *err;
} jdec_t;

static int jfail(jdec_t *d, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int jfail(jdec_t *d, int code, const char *fmt, ...)
{
    char msg[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return err_set(d->err, code, "%s%s%s", d->path.s, d->path.len ? ": " : "", msg);
}

static const char *json_kind(const json_t *j)
{
    switch (json_typeof(j)) {
    case JSON_OBJECT: return "object";
    case JSON_ARRAY: return "array";
    case JSON_STRING: return "string";
    case JSON_INTEGER: case JSON_REAL: return "number";
    case JSON_TRUE: case JSON_FALSE: return "boolean";
    default: return "null";
    }
}

/* True if s[0..n) is a JSON number (RFC 8259 grammar); *integer says it has no . or e. */
static bool number_syntax(const char *s, size_t n, bool *integer)
{
    size_t i = 0;
    *integer = true;
    if (i < n && s[i] == '-')
        i++;
    if (i >= n)
        return false;
    if (s[i] == '0') {
        i++;
    } else if (s[i] >= '1' && s[i] <= '9') {
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
    } else {
        return false;
    }
    if (i < n && s[i] == '.') {
        *integer = false;
        i++;
        if (i >= n || s[i] < '0' || s[i] > '9')
            return false;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        *integer = false;
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        if (i >= n || s[i] < '0' || s[i] > '9')
            return false;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
    }
    return i == n;
}

/* Parses the number text into a double (syntax already checked). */
static double text_to_double(const char *s, size_t n)
{
    char tmp[128];
    char *heap = NULL, *t = tmp;
    if (n >= sizeof(tmp))
        t = heap = xmalloc(n + 1);
    memcpy(t, s, n);
    t[n] = '\0';
    double v = strtod(t, NULL);
    free(heap);
    return v;
}

/* Range of an integer field: [lo, hi] as signed, or unsigned up to uhi. */
static void int_range(pb_type_t t, bool *is_signed, int64_t *lo, int64_t *hi, uint64_t *uhi)
{
    *is_signed = true;
    *lo = INT64_MIN;
    *hi = INT64_MAX;
    *uhi = UINT64_MAX;
    switch (t) {
    case PB_INT32: case PB_SINT32: case PB_SFIXED32: case PB_ENUM:
        *lo = INT32_MIN;
        *hi = INT32_MAX;
        break;
    case PB_UINT32: case PB_FIXED32:
        *is_signed = false;
        *uhi = UINT32_MAX;
        break;
    case PB_UINT64: case PB_FIXED64:
        *is_signed = false;
        break;
    default:
        break;
    }
}

/* Checks an integral double against the field range; false if fractional or out of range. */
static bool double_to_int(pb_type_t t, double x, uint64_t *out)
{
    bool sg;
    int64_t lo, hi;
    uint64_t uhi;
    int_range(t, &sg, &lo, &hi, &uhi);
    if (!isfinite(x) || x != floor(x))
        return false;
    if (sg) {
        if (x < (double)lo || x >= -(double)INT64_MIN || x > (double)hi)
            return false;
        *out = (uint64_t)(int64_t)x;
    } else {
        if (x < 0 || x >= 18446744073709551616.0 || x > (double)uhi)
            return false;
        *out = (uint64_t)x;
    }
    return true;
}

/* Parses integer text (JSON number grammar) for field type t. */
static bool text_to_int(pb_type_t t, const char *s, size_t n, uint64_t *out)
{
    bool integer;
    if (!number_syntax(s, n, &integer))
        return false;
    if (!integer)
        return double_to_int(t, text_to_double(s, n), out);
    bool sg;
    int64_t lo, hi;
    uint64_t uhi;
    int_range(t, &sg, &lo, &hi, &uhi);
    bool neg = s[0] == '-';
    uint64_t mag = 0;
    for (size_t i = neg; i < n; i++) {
        unsigned dgt = (unsigned)(s[i] - '0');
        if (mag > (UINT64_MAX - dgt) / 10)
            return false;
        mag = mag * 10 + dgt;
    }
    if (sg) {
        if (neg ? mag > (uint64_t)INT64_MAX + 1 : mag > (uint64_t)INT64_MAX)
            return false;
        int64_t v = neg ? (int64_t)(0 - mag) : (int64_t)mag;
        if (v < lo || v > hi)
            return false;
        *out = (uint64_t)v;
    } else {
        if ((neg && mag) || mag > uhi)
            return false;
        *out = mag;
    }
    return true;
}

static int jdec_msg(jdec_t *d, pb_obj_t *o, json_t *j, unsigned depth);

/* Decodes one JSON value j into field fi (appended when repeated). 1 = skipped (unknown enum
 * name under ignore_unknown), 0 = stored, < 0 = error. */
static int jdec_value(jdec_t *d, pb_obj_t *o, size_t fi, json_t *j, unsigned depth)
{
    const pb_field_t *f = &o->schema->fields[fi];
    bool add = f->repeated;
    num_t v = {0};
    switch (f->type) {
    case PB_MSG: {
        if (!json_is_object(j))
            return jfail(d, EMB_EINVAL, "expected object, got %s", json_kind(j));
        if (depth + 1 > d->max_depth)
            return jfail(d, EMB_EINVAL, "nesting deeper than %u", d->max_depth);
        pb_obj_t *c = put_child(o, fi, add);
        if (!c)
            return jfail(d, EMB_ETOOBIG, "over the decode memory budget");
        return jdec_msg(d, c, j, depth + 1);
    }
    case PB_STRING:
        if (!json_is_string(j))
            return jfail(d, EMB_EINVAL, "expected string, got %s", json_kind(j));
        if (!put_pstr(o, fi, add, json_string_value(j), json_string_length(j)))
            return jfail(d, EMB_ETOOBIG, "over the decode memory budget");
        return 0;
    case PB_BYTES: {
        if (!json_is_string(j))
            return jfail(d, EMB_EINVAL, "expected base64 string, got %s", json_kind(j));
        size_t n = json_string_length(j);
        uint8_t *tmp = xmalloc(n / 4 * 3 + 4);
        size_t got = b64_decode(json_string_value(j), n, tmp);
        int rc = 0;
        if (got == (size_t)-1)
            rc = jfail(d, EMB_EINVAL, "invalid base64");
        else if (!put_pstr(o, fi, add, tmp, got))
            rc = jfail(d, EMB_ETOOBIG, "over the decode memory budget");
        free(tmp);
        return rc;
    }
    case PB_BOOL:
        if (!json_is_boolean(j))
            return jfail(d, EMB_EINVAL, "expected true or false, got %s", json_kind(j));
        v.u = json_is_true(j);
        break;
    case PB_DOUBLE:
    case PB_FLOAT:
        if (json_is_integer(j)) {
            v.d = (double)json_integer_value(j);
        } else if (json_is_real(j)) {
            v.d = json_real_value(j);
        } else if (json_is_string(j)) {
            const char *s = json_string_value(j);
            size_t n = json_string_length(j);
            bool integer;
            if (n == 3 && strcmp(s, "NaN") == 0)
                v.d = NAN;
            else if (n == 8 && strcmp(s, "Infinity") == 0)
                v.d = INFINITY;
            else if (n == 9 && strcmp(s, "-Infinity") == 0)
                v.d = -INFINITY;
            else if (!number_syntax(s, n, &integer) || !isfinite(v.d = text_to_double(s, n)))
                return jfail(d, EMB_EINVAL, "invalid number \"%.40s\"", s);
        } else {
            return jfail(d, EMB_EINVAL, "expected number, got %s", json_kind(j));
        }
        if (f->type == PB_FLOAT && isfinite(v.d) && fabs(v.d) >= FLOAT_OVERFLOW)
            return jfail(d, EMB_EINVAL, "%g out of float range", v.d);
        break;
    case PB_ENUM:
        if (json_is_string(j)) {
            const char *s = json_string_value(j);
            const pb_enum_value_t *ev = NULL;
            for (size_t i = 0; i < f->enm->nvalues && !ev; i++)
                if (strcmp(f->enm->values[i].name, s) == 0)
                    ev = &f->enm->values[i];
            if (!ev) {
                if (d->ignore_unknown)
                    return 1;
                return jfail(d, EMB_EINVAL, "unknown %s value \"%.60s\"", f->enm->name, s);
            }
            v.u = (uint64_t)(int64_t)ev->num;
            break;
        }
        if (json_is_integer(j) || json_is_real(j)) {
            double x = json_is_integer(j) ? (double)json_integer_value(j) : json_real_value(j);
            if (!double_to_int(PB_ENUM, x, &v.u))
                return jfail(d, EMB_EINVAL, "enum number out of range");
            break;
        }
        return jfail(d, EMB_EINVAL, "expected enum name or number, got %s", json_kind(j));
    default: /* integers */
        if (json_is_integer(j)) {
            json_int_t x = json_integer_value(j);
            char tmp[32];
            int n = snprintf(tmp, sizeof(tmp), "%" JSON_INTEGER_FORMAT, x);
            if (!text_to_int(f->type, tmp, (size_t)n, &v.u))
                return jfail(d, EMB_EINVAL, "%s out of range", tmp);
        } else if (json_is_real(j)) {
            if (!double_to_int(f->type, json_real_value(j), &v.u))
                return jfail(d, EMB_EINVAL, "%g is not an integer in range",
                             json_real_value(j));
        } else if (json_is_string(j)) {
            const char *s = json_string_value(j);
            if (!text_to_int(f->type, s, json_string_length(j), &v.u))
                return jfail(d, EMB_EINVAL, "invalid integer \"%.40s\"", s);
        } else {
            return jfail(d, EMB_EINVAL, "expected integer, got %s", json_kind(j));
        }
        break;
    }
    if (!put_num(o, fi, add, v))
        return jfail(d, EMB_ETOOBIG, "over the decode memory budget");
    return 0;
}

static int jdec_msg(jdec_t *d, pb_obj_t *o, json_t *j, unsigned depth)
{
    const pb_msg_t *m = o->schema;
    unsigned char seen[PB_MAX_FIELDS / 8] = {0};
    const char *key;
    json_t *val;
    if (m->nfields > PB_MAX_FIELDS)
        bug("%s has more than %d fields", m->name, PB_MAX_FIELDS);
    json_object_foreach(j, key, val) {
        const pb_field_t *f = pb_field_find(m, key);
        if (!f) {
            if (d->ignore_unknown)
                continue;
            return jfail(d, EMB_EINVAL, "unknown field \"%.60s\" in %s", key, m->name);
        }
        size_t fi = (size_t)(f - m->fields);
        if (seen[fi / 8] & (1u << (fi % 8)))
            return jfail(d, EMB_EINVAL, "duplicate field \"%s\"", f->json);
        seen[fi / 8] |= (unsigned char)(1u << (fi % 8));
        if (json_is_null(val))
            continue;
        if (!f->repeated) {
            size_t old = path_push(&d->path, f->json, 0, false);
            int rc = jdec_value(d, o, fi, val, depth);
            if (rc < 0)
                return rc;
            path_pop(&d->path, old);
            continue;
        }
        if (!json_is_array(val)) {
            size_t old = path_push(&d->path, f->json, 0, false);
            int rc = jfail(d, EMB_EINVAL, "expected array, got %s", json_kind(val));
            path_pop(&d->path, old);
            return rc;
        }
        size_t i;
        json_t *el;
        json_array_foreach(val, i, el) {
            size_t old = path_push(&d->path, f->json, i, true);
            int rc = json_is_null(el) ? jfail(d, EMB_EINVAL, "null in a repeated field")
                                      : jdec_value(d, o, fi, el, depth);
            if (rc < 0)
                return rc;
            path_pop(&d->path, old);
        }
    }
    return 0;
}

int pb_decode_json_opts(pb_obj_t **out, const pb_msg_t *schema, const char *text, size_t len,
                        const pb_opts_t *opts, err_t *err)
{
    *out = NULL;
    json_error_t je;
    json_t *j = json_loadb(text, len, JSON_DECODE_ANY | JSON_ALLOW_NUL | JSON_REJECT_DUPLICATES,
                           &je);
    if (!j)
        return err_set(err, EMB_EINVAL, "invalid JSON at line %d column %d: %s", je.line,
                       je.column, je.text);
    int rc;
    pb_obj_t *o = NULL;
    if (!json_is_object(j)) {
        rc = err_set(err, EMB_EINVAL, "expected a JSON object for %s, got %s", schema->name,
                     json_kind(j));
        goto out;
    }
    o = root_new(schema, mem_budget(opts, len));
    jdec_t d = {.arena = o->arena, .max_depth = depth_limit(opts),
                .ignore_unknown = opts && opts->ignore_unknown, .err = err};
    rc = jdec_msg(&d, o, j, 0);
    if (rc == 0) {
        ((root_t *)o)->arena.budget = 0;
        *out = o;
        o = NULL;
    }
out:
    pb_free(o);
    json_decref(j);
    return rc;
}

int pb_decode_json(pb_obj_t **out, const pb_msg_t *schema, const char *text, size_t len,
                   err_t *err)
{
    return pb_decode_json_opts(out, schema, text, len, NULL, err);
}

/* ---- JSON encode ------------------------------------------------------------------------- */

/* Shortest "%.*g" text that reads back as the same double (or float). */
static int put_double(buf_t *b, double v, bool is_float)
{
    if (isnan(v))
        return buf_puts(b, "\"NaN\"");
    if (isinf(v))
        return buf_puts(b, v > 0 ? "\"Infinity\"" : "\"-Infinity\"");
    if (v == 0 && signbit(v))
        return buf_puts(b, "-0.0"); /* "-0" would read back as the integer 0 */
    char tmp[40];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(tmp, sizeof(tmp), "%.*g", prec, v);
        double r = strtod(tmp, NULL);
        if (is_float ? (float)r == (float)v : r == v)
            break;
    }
    return buf_puts(b, tmp);
}

/* Appends the decimal text of an integer (negative if neg, magnitude mag), in quotes if
 * quoted: the hot path of flame graph responses, so no printf. */
static int put_int(buf_t *b, bool neg, uint64_t mag, bool quoted)
{
    char tmp[24];
    size_t i = sizeof(tmp);
    do {
        tmp[--i] = (char)('0' + mag % 10);
        mag /= 10;
    } while (mag);
    if (neg)
        tmp[--i] = '-';
    size_t n = sizeof(tmp) - i + (quoted ? 2 : 0);
    char *w = buf_reserve(b, n);
    if (!w)
        return EMB_ETOOBIG;
    if (quoted)
        *w++ = '"';
    memcpy(w, tmp + i, sizeof(tmp) - i);
    if (quoted)
        w[sizeof(tmp) - i] = '"';
    buf_setlen(b, b->len + n);
    return 0;
}

static int put_signed(buf_t *b, int64_t v, bool quoted)
{
    return put_int(b, v < 0, v < 0 ? 0 - (uint64_t)v : (uint64_t)v, quoted);
}

static int put_json_scalar(buf_t *b, const pb_field_t *f, num_t v)
{
    switch (f->type) {
    case PB_INT64: case PB_SINT64: case PB_SFIXED64:
        return put_signed(b, (int64_t)v.u, true);
    case PB_UINT64: case PB_FIXED64:
        return put_int(b, false, v.u, true);
    case PB_INT32: case PB_SINT32: case PB_SFIXED32:
        return put_signed(b, (int64_t)v.u, false);
    case PB_UINT32: case PB_FIXED32:
        return put_int(b, false, v.u, false);
    case PB_BOOL:
        return buf_puts(b, v.u ? "true" : "false");
    case PB_DOUBLE: case PB_FLOAT:
        return put_double(b, v.d, f->type == PB_FLOAT);
    case PB_ENUM: {
        const char *n = enum_name(f->enm, (int32_t)v.u);
        if (n)
            return buf_printf(b, "\"%s\"", n);
        return put_signed(b, (int64_t)v.u, false);
    }
    default:
        bug("put_json_scalar on type %d", (int)f->type);
    }
}

static int enc_json(buf_t *b, const pb_obj_t *o)
{
    const pb_msg_t *m = o->schema;
    int rc = buf_putc(b, '{');
    bool first = true;
    for (size_t fi = 0; rc == 0 && o->slots && fi < m->nfields; fi++) {
        const pb_field_t *f = &m->fields[fi];
        const slot_t *s = &o->slots[fi];
        if (!s->n)
            continue;
        rc = buf_printf(b, "%s\"%s\":", first ? "" : ",", f->json);
        first = false;
        if (rc == 0 && f->repeated)
            rc = buf_putc(b, '[');
        for (size_t i = 0; rc == 0 && i < s->n; i++) {
            if (i)
                rc = buf_putc(b, ',');
            if (rc)
                break;
            if (f->type == PB_MSG) {
                rc = enc_json(b, ((pb_obj_t *const *)s->v)[i]);
            } else if (f->type == PB_STRING) {
                const pstr_t *e = &((const pstr_t *)s->v)[i];
                rc = buf_json_str(b, e->p, e->len);
            } else if (f->type == PB_BYTES) {
                const pstr_t *e = &((const pstr_t *)s->v)[i];
                rc = buf_putc(b, '"');
                if (rc == 0)
                    rc = b64_encode(b, (const uint8_t *)e->p, e->len);
                if (rc == 0)
                    rc = buf_putc(b, '"');
            } else {
                rc = put_json_scalar(b, f, ((const num_t *)s->v)[i]);
            }
        }
        if (rc == 0 && f->repeated)
            rc = buf_putc(b, ']');
    }
    if (rc == 0)
        rc = buf_putc(b, '}');
    return rc;
}

int pb_encode_json(buf_t *out, const pb_obj_t *o)
{
    size_t start = out->len;
    int rc = enc_json(out, o);
    if (rc)
        buf_setlen(out, start);
    return rc;
}

/* ---- equality ---------------------------------------------------------------------------- */

static bool num_eq(const pb_field_t *f, num_t a, num_t b)
{
    if (is_float_type(f->type))
        return (isnan(a.d) && isnan(b.d)) || a.d == b.d;
    return a.u == b.u;
}

bool pb_equal(const pb_obj_t *a, const pb_obj_t *b)
{
    if (!a || !b)
        return a == b;
    if (a->schema != b->schema)
        return false;
    const pb_msg_t *m = a->schema;
    static const slot_t empty = {0};
    for (size_t fi = 0; fi < m->nfields; fi++) {
        const pb_field_t *f = &m->fields[fi];
        const slot_t *sa = a->slots ? &a->slots[fi] : &empty;
        const slot_t *sb = b->slots ? &b->slots[fi] : &empty;
        bool presence = f->repeated || f->optional || f->type == PB_MSG;
        if (presence && sa->n != sb->n)
            return false;
        size_t n = sa->n > sb->n ? sa->n : sb->n;
        for (size_t i = 0; i < n; i++) {
            /* Only singular fields without presence get here with one side absent. */
            if (f->type == PB_MSG) {
                if (!pb_equal(((pb_obj_t *const *)sa->v)[i], ((pb_obj_t *const *)sb->v)[i]))
                    return false;
            } else if (is_str_type(f->type)) {
                pstr_t none = {"", 0};
                const pstr_t *x = i < sa->n ? &((const pstr_t *)sa->v)[i] : &none;
                const pstr_t *y = i < sb->n ? &((const pstr_t *)sb->v)[i] : &none;
                if (x->len != y->len || (x->len && memcmp(x->p, y->p, x->len)))
                    return false;
            } else {
                num_t zero = {0};
                num_t x = i < sa->n ? ((const num_t *)sa->v)[i] : zero;
                num_t y = i < sb->n ? ((const num_t *)sb->v)[i] : zero;
                if (!num_eq(f, x, y))
                    return false;
            }
        }
    }
    return true;
}

/* ---- schema check ------------------------------------------------------------------------ */

/* protojson's lowerCamel: drop each '_' and upper-case the letter after it. */
static bool json_name_ok(const char *name, const char *json)
{
    char tmp[128];
    size_t o = 0;
    bool up = false;
    for (const char *p = name; *p; p++) {
        if (*p == '_') {
            up = true;
            continue;
        }
        if (o + 1 >= sizeof(tmp))
            return false;
        char c = *p;
        if (up && c >= 'a' && c <= 'z')
            c = (char)(c - 'a' + 'A');
        up = false;
        tmp[o++] = c;
    }
    tmp[o] = '\0';
    return strcmp(tmp, json) == 0;
}

#define CHECK_MAX_MSGS 128

static int check_msg(const pb_msg_t *m, const pb_msg_t **done, size_t *ndone, err_t *err)
{
    for (size_t i = 0; i < *ndone; i++)
        if (done[i] == m)
            return 0;
    if (*ndone == CHECK_MAX_MSGS)
        return err_set(err, EMB_EINVAL, "more than %d messages reachable", CHECK_MAX_MSGS);
    done[(*ndone)++] = m;
    if (!m->name || !*m->name)
        return err_set(err, EMB_EINVAL, "message without a name");
    if (m->nfields > PB_MAX_FIELDS)
        return err_set(err, EMB_EINVAL, "%s: more than %d fields", m->name, PB_MAX_FIELDS);
    for (size_t i = 0; i < m->nfields; i++) {
        const pb_field_t *f = &m->fields[i];
        if (!f->name || !*f->name || !f->json || !*f->json)
            return err_set(err, EMB_EINVAL, "%s: field %u without a name", m->name, f->num);
        if (f->num == 0 || f->num > FIELD_NUM_MAX || (f->num >= 19000 && f->num <= 19999))
            return err_set(err, EMB_EINVAL, "%s.%s: invalid number %u", m->name, f->name,
                           f->num);
        if (i && f->num <= m->fields[i - 1].num)
            return err_set(err, EMB_EINVAL, "%s.%s: numbers not ascending", m->name, f->name);
        if (!json_name_ok(f->name, f->json))
            return err_set(err, EMB_EINVAL, "%s.%s: json name \"%s\" is not its lowerCamel",
                           m->name, f->name, f->json);
        for (size_t k = 0; k < i; k++) {
            const pb_field_t *g = &m->fields[k];
            if (!strcmp(g->name, f->name) || !strcmp(g->json, f->json) ||
                !strcmp(g->name, f->json) || !strcmp(g->json, f->name))
                return err_set(err, EMB_EINVAL, "%s.%s: name clash with %s", m->name, f->name,
                               g->name);
        }
        if (f->type < PB_STRING || f->type > PB_MSG)
            return err_set(err, EMB_EINVAL, "%s.%s: bad type", m->name, f->name);
        if ((f->type == PB_MSG) != (f->msg != NULL) || (f->type == PB_ENUM) != (f->enm != NULL))
            return err_set(err, EMB_EINVAL, "%s.%s: msg/enm do not match the type", m->name,
                           f->name);
        if (f->optional && f->repeated)
            return err_set(err, EMB_EINVAL, "%s.%s: optional and repeated", m->name, f->name);
        if (f->enm && (f->enm->nvalues == 0 || f->enm->values[0].num != 0))
            return err_set(err, EMB_EINVAL, "%s: first value must be 0", f->enm->name);
        if (f->msg) {
            int rc = check_msg(f->msg, done, ndone, err);
            if (rc)
                return rc;
        }
    }
    return 0;
}

int pb_schema_check(const pb_msg_t *m, err_t *err)
{
    const pb_msg_t *done[CHECK_MAX_MSGS];
    size_t ndone = 0;
    return check_msg(m, done, &ndone, err);
}
