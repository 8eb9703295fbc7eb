/* Tests for ingest/pprof: real Go profiles (tests/fixtures/pprof, checked against the sums in
 * expect.json read at run time), hand-encoded edge cases via a tiny protobuf encoder, and
 * malformed input (every truncation, bad indices, missing ids, bad wire types). */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/gz.h"
#include "ingest/pprof.h"

#ifndef FIXTURES_DIR
#error "FIXTURES_DIR must be defined by the build"
#endif

/* ---- tiny protobuf encoder ------------------------------------------------------------ */

static void put_varint(buf_t *b, uint64_t v)
{
    uint8_t tmp[10];
    size_t n = 0;
    do {
        tmp[n++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
        v >>= 7;
    } while (v);
    cr_assert_eq(buf_append(b, tmp, n), 0);
}

static void put_tag(buf_t *b, uint32_t num, uint32_t wt) { put_varint(b, (uint64_t)num << 3 | wt); }

static void put_uint(buf_t *b, uint32_t num, uint64_t v)
{
    put_tag(b, num, 0);
    put_varint(b, v);
}

static void put_bytes(buf_t *b, uint32_t num, const void *p, size_t n)
{
    put_tag(b, num, 2);
    put_varint(b, n);
    cr_assert_eq(buf_append(b, p, n), 0);
}

static void put_str(buf_t *b, uint32_t num, const char *s) { put_bytes(b, num, s, strlen(s)); }

/* Appends sub as a length-delimited field and releases it. */
static void put_msg(buf_t *b, uint32_t num, buf_t *sub)
{
    put_bytes(b, num, sub->data, sub->len);
    buf_release(sub);
}

static void put_repeated(buf_t *b, uint32_t num, const uint64_t *v, size_t n, bool packed)
{
    if (!packed) {
        for (size_t i = 0; i < n; i++)
            put_uint(b, num, v[i]);
        return;
    }
    buf_t sub = BUF_INIT;
    for (size_t i = 0; i < n; i++)
        put_varint(&sub, v[i]);
    put_tag(b, num, 2);
    put_varint(b, sub.len);
    if (sub.len)
        cr_assert_eq(buf_append(b, sub.data, sub.len), 0);
    buf_release(&sub);
}

static void put_value_type(buf_t *b, uint32_t num, uint64_t type, uint64_t unit)
{
    buf_t m = BUF_INIT;
    put_uint(&m, 1, type);
    put_uint(&m, 2, unit);
    put_msg(b, num, &m);
}

static void put_function(buf_t *b, uint64_t id, uint64_t name, uint64_t file)
{
    buf_t m = BUF_INIT;
    put_uint(&m, 1, id);
    put_uint(&m, 2, name);
    put_uint(&m, 3, name);
    put_uint(&m, 4, file);
    put_uint(&m, 5, 7);
    put_msg(b, 5, &m);
}

/* Location with one line per (func, line) pair. */
static void put_location(buf_t *b, uint64_t id, uint64_t mapping, const uint64_t *funcs,
                         size_t nlines)
{
    buf_t m = BUF_INIT;
    put_uint(&m, 1, id);
    if (mapping)
        put_uint(&m, 2, mapping);
    put_uint(&m, 3, 0x1000 + id);
    for (size_t i = 0; i < nlines; i++) {
        buf_t l = BUF_INIT;
        put_uint(&l, 1, funcs[i]);
        put_uint(&l, 2, 10 * (i + 1));
        put_msg(&m, 4, &l);
    }
    put_msg(b, 4, &m);
}

static void put_sample(buf_t *b, const uint64_t *locs, size_t nlocs, const uint64_t *vals,
                       size_t nvals, bool packed)
{
    buf_t m = BUF_INIT;
    put_repeated(&m, 1, locs, nlocs, packed);
    put_repeated(&m, 2, vals, nvals, packed);
    put_msg(b, 2, &m);
}

static const char *const basic_strings[] = {"", "samples", "count", "cpu", "nanoseconds",
                                            "main", "foo", "file.go", "worker", "alpha",
                                            "bytes"};
#define NBASIC (sizeof(basic_strings) / sizeof(*basic_strings))

static void put_strings(buf_t *b)
{
    for (size_t i = 0; i < NBASIC; i++)
        put_str(b, 6, basic_strings[i]);
}

/* A small profile with samples before the tables they reference (as Go writes it). ids may be
 * shifted/scaled to exercise the id maps: id(i) = base + i * step. */
static void build_basic(buf_t *b, bool packed, uint64_t base, uint64_t step)
{
    put_value_type(b, 1, 1, 2);
    put_value_type(b, 1, 3, 4);
    uint64_t l1[] = {base, base + step}, v1[] = {1, 10000000};
    uint64_t l2[] = {base + 2 * step, base + step, base + step, base}, v2[] = {3, (uint64_t)-5};
    put_sample(b, l1, 2, v1, 2, packed);
    {
        buf_t m = BUF_INIT, lab = BUF_INIT, lab2 = BUF_INIT;
        put_repeated(&m, 1, l2, 4, packed);
        put_uint(&lab, 1, 8);
        put_uint(&lab, 2, 9);
        put_msg(&m, 3, &lab);
        put_repeated(&m, 2, v2, 2, packed);
        put_uint(&lab2, 1, 10);
        put_uint(&lab2, 3, 4096);
        put_uint(&lab2, 4, 10);
        put_msg(&m, 3, &lab2);
        put_msg(b, 2, &m);
    }
    buf_t mp = BUF_INIT;
    put_uint(&mp, 1, 7);
    put_uint(&mp, 2, 0x400000);
    put_uint(&mp, 3, 0x500000);
    put_uint(&mp, 5, 7);
    put_msg(b, 3, &mp);
    uint64_t f_main[] = {base}, f_inl[] = {base + step, base};
    put_location(b, base, 7, f_main, 1);
    put_location(b, base + step, 7, f_inl, 2);
    put_location(b, base + 2 * step, 99 /* unknown mapping: none */, f_main, 1);
    put_function(b, base, 5, 7);
    put_function(b, base + step, 6, 7);
    put_strings(b);
    put_uint(b, 9, 1700000000000000000ull);
    put_uint(b, 10, 10000000000ull);
    put_value_type(b, 11, 3, 4);
    put_uint(b, 12, 10000000);
    put_uint(b, 14, 3);
}

/* ---- helpers ---------------------------------------------------------------------------- */

/* The guarantees pprof.h promises: callers index without checks. */
static void check_invariants(const pprof_t *p)
{
    cr_assert_geq(p->nstrings, 1);
    cr_assert_eq(p->strings[0].len, 0);
    for (size_t i = 0; i < p->nsample_types; i++)
        cr_assert(p->sample_types[i].type < p->nstrings && p->sample_types[i].unit < p->nstrings);
    cr_assert_eq(p->nvalues, p->nsamples * p->nsample_types);
    for (size_t i = 0; i < p->nsamples; i++) {
        const pprof_sample_t *s = &p->samples[i];
        cr_assert_leq((size_t)s->loc_off + s->nlocs, p->nsample_locs);
        cr_assert_eq(s->value_off, i * p->nsample_types);
        cr_assert_leq((size_t)s->label_off + s->nlabels, p->nlabels);
        for (uint32_t j = 0; j < s->nlocs; j++)
            cr_assert_lt(p->sample_locs[s->loc_off + j], p->nlocs);
    }
    for (size_t i = 0; i < p->nlabels; i++) {
        const pprof_label_t *l = &p->labels[i];
        cr_assert(l->key < p->nstrings && l->str < p->nstrings && l->num_unit < p->nstrings);
    }
    for (size_t i = 0; i < p->nlocs; i++) {
        const pprof_location_t *l = &p->locs[i];
        cr_assert(l->mapping == PPROF_NONE || l->mapping < p->nmappings);
        cr_assert_leq((size_t)l->line_off + l->nlines, p->nlines);
    }
    for (size_t i = 0; i < p->nlines; i++)
        cr_assert(p->lines[i].func == PPROF_NONE || p->lines[i].func < p->nfuncs);
    for (size_t i = 0; i < p->nfuncs; i++) {
        const pprof_function_t *f = &p->funcs[i];
        cr_assert(f->name < p->nstrings && f->system_name < p->nstrings &&
                  f->filename < p->nstrings);
    }
    for (size_t i = 0; i < p->nmappings; i++)
        cr_assert(p->mappings[i].filename < p->nstrings && p->mappings[i].build_id < p->nstrings);
    cr_assert(p->default_sample_type < p->nstrings);
}

static bool str_is(const pprof_t *p, uint32_t idx, const char *s)
{
    return idx < p->nstrings && slice_eq_cstr(p->strings[idx], s);
}

static int decode_buf(pprof_t *p, const buf_t *b, err_t *err)
{
    return pprof_decode(p, (const uint8_t *)(b->data ? b->data : ""), b->len, err);
}

static void expect_corrupt(const buf_t *b, const char *needle)
{
    pprof_t p;
    err_t err = {0};
    int rc = decode_buf(&p, b, &err);
    cr_assert_eq(rc, EMB_ECORRUPT, "rc %d (%s)", rc, err.msg);
    cr_assert_eq(err.code, EMB_ECORRUPT);
    cr_assert(strstr(err.msg, needle), "message \"%s\" lacks \"%s\"", err.msg, needle);
    cr_assert_null(p.samples);
    pprof_release(&p);
}

static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "cannot open %s", path);
    buf_t b = BUF_INIT;
    char tmp[65536];
    size_t n;
    while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0)
        cr_assert_eq(buf_append(&b, tmp, n), 0);
    fclose(f);
    return (uint8_t *)buf_detach(&b, len);
}

/* Reads and gunzips a fixture profile. OUT: raw (owned). */
static void load_fixture(const char *name, buf_t *raw)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/pprof/%s", FIXTURES_DIR, name);
    size_t zlen;
    uint8_t *z = read_file(path, &zlen);
    cr_assert(gz_is_gzip(z, zlen), "%s is not gzip", path);
    err_t err = {0};
    buf_init(raw, 0);
    cr_assert_eq(gz_decompress(raw, z, zlen, 64u << 20, &err), 0, "%s: %s", name, err.msg);
    free(z);
}

/* ---- real profiles ---------------------------------------------------------------------- */

static size_t jsize(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    cr_assert(json_is_integer(v), "expect.json: %s missing", key);
    return (size_t)json_integer_value(v);
}

static void check_fixture(json_t *root, const char *name)
{
    json_t *e = json_object_get(root, name);
    cr_assert_not_null(e, "expect.json has no %s", name);
    buf_t raw;
    load_fixture(name, &raw);
    pprof_t p;
    err_t err = {0};
    cr_assert_eq(pprof_decode(&p, (uint8_t *)raw.data, raw.len, &err), 0, "%s: %s", name,
                 err.msg);
    check_invariants(&p);
    cr_assert_eq(p.nsamples, jsize(e, "samples"), "%s samples", name);
    cr_assert_eq(p.nsample_locs, jsize(e, "sample_locs"), "%s sample_locs", name);
    cr_assert_eq(p.nlabels, jsize(e, "labels"), "%s labels", name);
    cr_assert_eq(p.nlocs, jsize(e, "locations"), "%s locations", name);
    cr_assert_eq(p.nlines, jsize(e, "lines"), "%s lines", name);
    cr_assert_eq(p.nfuncs, jsize(e, "functions"), "%s functions", name);
    cr_assert_eq(p.nmappings, jsize(e, "mappings"), "%s mappings", name);
    cr_assert_eq(p.nstrings, jsize(e, "strings"), "%s strings", name);
    cr_assert_eq(p.period, (int64_t)jsize(e, "period"), "%s period", name);
    json_t *types = json_object_get(e, "sample_types");
    cr_assert_eq(json_array_size(types), p.nsample_types, "%s sample types", name);
    for (size_t t = 0; t < p.nsample_types; t++) {
        json_t *jt = json_array_get(types, t);
        const char *type = json_string_value(json_object_get(jt, "type"));
        const char *unit = json_string_value(json_object_get(jt, "unit"));
        cr_assert(str_is(&p, p.sample_types[t].type, type), "%s type %zu", name, t);
        cr_assert(str_is(&p, p.sample_types[t].unit, unit), "%s unit %zu", name, t);
        int64_t sum = 0;
        for (size_t s = 0; s < p.nsamples; s++)
            sum += p.values[p.samples[s].value_off + t];
        int64_t want = json_integer_value(json_object_get(jt, "sum"));
        cr_assert_eq(sum, want, "%s %s/%s: sum %lld, expect.json %lld", name, type, unit,
                     (long long)sum, (long long)want);
        cr_assert_gt(want, 0, "%s %s: empty fixture", name, type);
    }
    pprof_release(&p);
    buf_release(&raw);
}

static json_t *load_expect(void)
{
    json_error_t jerr;
    json_t *root = json_load_file(FIXTURES_DIR "/pprof/expect.json", 0, &jerr);
    cr_assert_not_null(root, "expect.json: %s (line %d)", jerr.text, jerr.line);
    return root;
}

Test(pprof, go_fixtures_match_expect_json)
{
    json_t *root = load_expect();
    check_fixture(root, "cpu.pb.gz");
    check_fixture(root, "heap.pb.gz");
    json_decref(root);
}

/* Index of the function called name, or PPROF_NONE. */
static uint32_t find_func(const pprof_t *p, const char *name)
{
    for (size_t i = 0; i < p->nfuncs; i++)
        if (str_is(p, p->funcs[i].name, name))
            return (uint32_t)i;
    return PPROF_NONE;
}

static bool stack_has(const pprof_t *p, const pprof_sample_t *s, uint32_t fn)
{
    for (uint32_t j = 0; j < s->nlocs; j++) {
        const pprof_location_t *l = &p->locs[p->sample_locs[s->loc_off + j]];
        for (uint32_t k = 0; k < l->nlines; k++)
            if (p->lines[l->line_off + k].func == fn)
                return true;
    }
    return false;
}

Test(pprof, go_cpu_fixture_has_named_functions_and_labels)
{
    buf_t raw;
    load_fixture("cpu.pb.gz", &raw);
    pprof_t p;
    err_t err = {0};
    cr_assert_eq(pprof_decode(&p, (uint8_t *)raw.data, raw.len, &err), 0, "%s", err.msg);
    uint32_t alpha = find_func(&p, "main.burnAlpha"), beta = find_func(&p, "main.burnBeta");
    cr_assert_neq(alpha, PPROF_NONE);
    cr_assert_neq(beta, PPROF_NONE);
    int64_t in_alpha = 0, in_beta = 0;
    for (size_t s = 0; s < p.nsamples; s++) {
        const pprof_sample_t *sm = &p.samples[s];
        const char *worker = NULL;
        for (uint32_t j = 0; j < sm->nlabels; j++) {
            const pprof_label_t *l = &p.labels[sm->label_off + j];
            if (str_is(&p, l->key, "worker"))
                worker = str_is(&p, l->str, "alpha") ? "alpha" : "beta";
        }
        if (stack_has(&p, sm, alpha)) {
            in_alpha += p.values[sm->value_off + 1];
            cr_assert(worker && strcmp(worker, "alpha") == 0, "sample %zu", s);
        }
        if (stack_has(&p, sm, beta)) {
            in_beta += p.values[sm->value_off + 1];
            cr_assert(worker && strcmp(worker, "beta") == 0, "sample %zu", s);
        }
    }
    cr_assert_gt(in_alpha, 0);
    cr_assert_gt(in_beta, 0);
    cr_assert(str_is(&p, p.period_type.type, "cpu"));
    cr_assert(str_is(&p, p.period_type.unit, "nanoseconds"));
    cr_assert_gt(p.time_nanos, 0);
    cr_assert_gt(p.duration_nanos, 0);
    pprof_release(&p);
    buf_release(&raw);
}

Test(pprof, every_truncation_of_real_profiles_fails_cleanly)
{
    static const char *const names[] = {"cpu.pb.gz", "heap.pb.gz"};
    for (size_t k = 0; k < 2; k++) {
        buf_t raw;
        load_fixture(names[k], &raw);
        size_t ok = 0;
        for (size_t n = 0; n < raw.len; n++) {
            /* An exact-size copy so ASan sees any read past the prefix. */
            uint8_t *cut = malloc(n ? n : 1);
            memcpy(cut, raw.data, n);
            pprof_t p;
            err_t err = {0};
            int rc = pprof_decode(&p, cut, n, &err);
            if (rc == 0) {
                ok++;
                check_invariants(&p);
            } else {
                cr_assert_eq(rc, EMB_ECORRUPT, "%s prefix %zu: rc %d %s", names[k], n, rc,
                             err.msg);
                cr_assert_neq(err.msg[0], 0);
            }
            pprof_release(&p);
            free(cut);
        }
        /* A cut at a field boundary inside the trailing string table can still be valid, but
         * the vast majority must fail. */
        cr_assert_lt(ok, raw.len / 10, "%s: %zu prefixes decoded", names[k], ok);
        buf_release(&raw);
    }
}

Test(pprof, byte_flips_never_break_invariants)
{
    buf_t raw;
    load_fixture("heap.pb.gz", &raw);
    uint8_t *m = malloc(raw.len);
    uint32_t x = 12345;
    size_t ok = 0;
    for (int iter = 0; iter < 20000; iter++) {
        memcpy(m, raw.data, raw.len);
        for (int f = 0; f < 1 + iter % 4; f++) {
            x = x * 1103515245u + 12345u;
            size_t at = (x >> 8) % raw.len;
            x = x * 1103515245u + 12345u;
            m[at] = (iter & 1) ? (uint8_t)(x >> 24) : (uint8_t)(m[at] ^ (1u << (x >> 29)));
        }
        pprof_t p;
        err_t err = {0};
        int rc = pprof_decode(&p, m, raw.len, &err);
        if (rc == 0) {
            ok++;
            check_invariants(&p);
        } else {
            cr_assert(rc == EMB_ECORRUPT || rc == EMB_ETOOBIG, "rc %d %s", rc, err.msg);
        }
        pprof_release(&p);
    }
    cr_assert_gt(ok, 0); /* flips inside strings/values stay valid */
    free(m);
    buf_release(&raw);
}

/* ---- hand-encoded profiles -------------------------------------------------------------- */

static void check_basic(const pprof_t *p)
{
    check_invariants(p);
    cr_assert_eq(p->nstrings, NBASIC);
    cr_assert_eq(p->nsample_types, 2);
    cr_assert(str_is(p, p->sample_types[1].type, "cpu"));
    cr_assert_eq(p->nsamples, 2);
    cr_assert_eq(p->nlocs, 3);
    cr_assert_eq(p->nfuncs, 2);
    cr_assert_eq(p->nmappings, 1);
    cr_assert_eq(p->nlines, 4);
    const pprof_sample_t *s0 = &p->samples[0], *s1 = &p->samples[1];
    cr_assert_eq(s0->nlocs, 2);
    cr_assert_eq(p->sample_locs[s0->loc_off], 0);
    cr_assert_eq(p->sample_locs[s0->loc_off + 1], 1);
    cr_assert_eq(s1->nlocs, 4);
    static const uint32_t want1[] = {2, 1, 1, 0};
    for (int i = 0; i < 4; i++)
        cr_assert_eq(p->sample_locs[s1->loc_off + i], want1[i]);
    cr_assert_eq(p->values[s0->value_off], 1);
    cr_assert_eq(p->values[s0->value_off + 1], 10000000);
    cr_assert_eq(p->values[s1->value_off], 3);
    cr_assert_eq(p->values[s1->value_off + 1], -5);
    cr_assert_eq(s0->nlabels, 0);
    cr_assert_eq(s1->nlabels, 2);
    const pprof_label_t *l0 = &p->labels[s1->label_off], *l1 = l0 + 1;
    cr_assert(str_is(p, l0->key, "worker") && str_is(p, l0->str, "alpha"));
    cr_assert(str_is(p, l1->key, "bytes") && l1->str == 0 && l1->num == 4096);
    cr_assert(str_is(p, l1->num_unit, "bytes"));
    /* location 1 has two lines: inlined foo inside main */
    const pprof_location_t *loc1 = &p->locs[1];
    cr_assert_eq(loc1->nlines, 2);
    cr_assert(str_is(p, p->funcs[p->lines[loc1->line_off].func].name, "foo"));
    cr_assert(str_is(p, p->funcs[p->lines[loc1->line_off + 1].func].name, "main"));
    cr_assert_eq(p->lines[loc1->line_off + 1].line, 20);
    cr_assert_eq(loc1->mapping, 0);
    cr_assert_eq(p->locs[2].mapping, PPROF_NONE);
    cr_assert_eq(p->mappings[0].id, 7);
    cr_assert_eq(p->mappings[0].memory_start, 0x400000);
    cr_assert(str_is(p, p->mappings[0].filename, "file.go"));
    cr_assert_eq(p->funcs[0].start_line, 7);
    cr_assert_eq(p->time_nanos, 1700000000000000000ll);
    cr_assert_eq(p->duration_nanos, 10000000000ll);
    cr_assert_eq(p->period, 10000000);
    cr_assert(str_is(p, p->period_type.unit, "nanoseconds"));
    cr_assert(str_is(p, p->default_sample_type, "cpu"));
}

Test(pprof, packed_and_unpacked_decode_identically)
{
    buf_t a = BUF_INIT, b = BUF_INIT;
    build_basic(&a, true, 1, 1);
    build_basic(&b, false, 1, 1);
    cr_assert_neq(a.len, b.len);
    pprof_t pa, pb;
    err_t err = {0};
    cr_assert_eq(decode_buf(&pa, &a, &err), 0, "%s", err.msg);
    cr_assert_eq(decode_buf(&pb, &b, &err), 0, "%s", err.msg);
    check_basic(&pa);
    check_basic(&pb);
    cr_assert_eq(pa.nsample_locs, pb.nsample_locs);
    cr_assert(memcmp(pa.sample_locs, pb.sample_locs, pa.nsample_locs * 4) == 0);
    cr_assert(memcmp(pa.values, pb.values, pa.nvalues * 8) == 0);
    cr_assert(memcmp(pa.samples, pb.samples, pa.nsamples * sizeof(*pa.samples)) == 0);
    pprof_release(&pa);
    pprof_release(&pb);
    buf_release(&a);
    buf_release(&b);
}

Test(pprof, sparse_and_huge_ids_use_maps)
{
    /* step 10: dense array; 10^6: hash; 2^40: hash and the redo walk for ids >= 2^32 */
    static const uint64_t bases[] = {5, 1000, 100, 1ull << 40};
    static const uint64_t steps[] = {10, 3, 1000000, 1ull << 40};
    for (int i = 0; i < 4; i++) {
        buf_t a = BUF_INIT;
        build_basic(&a, i != 1, bases[i], steps[i]);
        pprof_t p;
        err_t err = {0};
        cr_assert_eq(decode_buf(&p, &a, &err), 0, "base %llu: %s",
                     (unsigned long long)bases[i], err.msg);
        check_basic(&p);
        cr_assert_eq(p.locs[2].id, bases[i] + 2 * steps[i]);
        pprof_release(&p);
        buf_release(&a);
    }
}

Test(pprof, unknown_fields_of_every_wire_type_are_skipped)
{
    buf_t a = BUF_INIT;
    build_basic(&a, true, 1, 1);
    put_uint(&a, 100, 12345);
    put_tag(&a, 101, 1);
    cr_assert_eq(buf_append(&a, "12345678", 8), 0);
    put_tag(&a, 102, 5);
    cr_assert_eq(buf_append(&a, "1234", 4), 0);
    put_str(&a, 103, "opaque");
    put_uint(&a, 7, 5);  /* drop_frames */
    put_uint(&a, 13, 6); /* comment */
    uint64_t comments[] = {1, 2};
    put_repeated(&a, 13, comments, 2, true);
    pprof_t p;
    err_t err = {0};
    cr_assert_eq(decode_buf(&p, &a, &err), 0, "%s", err.msg);
    check_basic(&p);
    pprof_release(&p);
    buf_release(&a);
}

Test(pprof, negative_values_use_ten_byte_varints)
{
    buf_t a = BUF_INIT;
    put_value_type(&a, 1, 0, 0);
    uint64_t locs[] = {1}, vals[] = {(uint64_t)INT64_MIN};
    put_sample(&a, locs, 1, vals, 1, false);
    uint64_t f[] = {0}; /* function id 0: no function */
    put_location(&a, 1, 0, f, 1);
    put_str(&a, 6, "");
    pprof_t p;
    err_t err = {0};
    cr_assert_eq(decode_buf(&p, &a, &err), 0, "%s", err.msg);
    cr_assert_eq(p.values[0], INT64_MIN);
    cr_assert_eq(p.lines[0].func, PPROF_NONE);
    cr_assert_eq(p.locs[0].mapping, PPROF_NONE);
    pprof_release(&p);
    buf_release(&a);
}

Test(pprof, minimal_profiles)
{
    buf_t a = BUF_INIT;
    put_str(&a, 6, "");
    pprof_t p;
    err_t err = {0};
    cr_assert_eq(decode_buf(&p, &a, &err), 0, "%s", err.msg);
    cr_assert_eq(p.nstrings, 1);
    cr_assert_eq(p.nsamples, 0);
    pprof_release(&p);
    pprof_release(&p); /* double release is a no-op */
    buf_release(&a);
    buf_t empty = BUF_INIT;
    expect_corrupt(&empty, "string table");
    cr_assert_eq(pprof_decode(&p, NULL, 0, &err), EMB_ECORRUPT);
    cr_assert_eq(pprof_decode(&p, NULL, 5, &err), EMB_EINVAL);
    put_str(&a, 6, "x");
    expect_corrupt(&a, "string_table[0]");
    buf_release(&a);
}

Test(pprof, bad_string_index_is_rejected)
{
    buf_t a = BUF_INIT;
    put_value_type(&a, 1, 1, 2);
    put_str(&a, 6, "");
    put_str(&a, 6, "cpu");
    expect_corrupt(&a, "string index 2 out of range");
    buf_release(&a);

    /* In a label, a function, a mapping, default_sample_type. */
    for (int where = 0; where < 4; where++) {
        build_basic(&a, true, 1, 1);
        if (where == 0) {
            buf_t m = BUF_INIT, lab = BUF_INIT;
            uint64_t l[] = {1}, v[] = {1, 2};
            put_repeated(&m, 1, l, 1, true);
            put_repeated(&m, 2, v, 2, true);
            put_uint(&lab, 1, 1000);
            put_msg(&m, 3, &lab);
            put_msg(&a, 2, &m);
        } else if (where == 1) {
            put_function(&a, 50, 11, 0);
        } else if (where == 2) {
            buf_t mp = BUF_INIT;
            put_uint(&mp, 1, 8);
            put_uint(&mp, 6, 12);
            put_msg(&a, 3, &mp);
        } else {
            put_uint(&a, 14, NBASIC);
        }
        expect_corrupt(&a, "out of range");
        buf_release(&a);
    }
}

Test(pprof, missing_location_id_is_rejected_with_position)
{
    buf_t a = BUF_INIT;
    build_basic(&a, true, 1, 1);
    uint64_t l[] = {1, 9}, v[] = {1, 2};
    put_sample(&a, l, 2, v, 2, true);
    expect_corrupt(&a, "sample 2: location id 9 not found");
    buf_release(&a);
    build_basic(&a, false, 1, 1);
    put_sample(&a, l, 2, v, 2, false);
    expect_corrupt(&a, "location id 9 not found");
    buf_release(&a);
}

Test(pprof, missing_function_and_bad_ids_are_rejected)
{
    buf_t a = BUF_INIT;
    build_basic(&a, true, 1, 1);
    uint64_t f[] = {42};
    put_location(&a, 4, 0, f, 1);
    expect_corrupt(&a, "function id 42 not found");
    buf_release(&a);

    build_basic(&a, true, 1, 1);
    put_location(&a, 2, 0, NULL, 0);
    expect_corrupt(&a, "duplicate id 2");
    buf_release(&a);

    build_basic(&a, true, 1, 1);
    put_function(&a, 0, 5, 7);
    expect_corrupt(&a, "id 0 is reserved");
    buf_release(&a);

    build_basic(&a, true, 100, 1000000); /* hash map path */
    put_function(&a, 100, 5, 7);
    expect_corrupt(&a, "duplicate id 100");
    buf_release(&a);
}

Test(pprof, value_count_must_match_sample_types)
{
    buf_t a = BUF_INIT;
    build_basic(&a, true, 1, 1);
    uint64_t l[] = {1}, v[] = {1, 2, 3};
    put_sample(&a, l, 1, v, 3, true);
    expect_corrupt(&a, "values");
    buf_release(&a);

    put_str(&a, 6, "");
    put_sample(&a, l, 0, v, 0, true);
    expect_corrupt(&a, "no sample types");
    buf_release(&a);
}

Test(pprof, malformed_wire_data_is_rejected)
{
    buf_t a = BUF_INIT;
    build_basic(&a, true, 1, 1);
    put_tag(&a, 20, 3); /* start group */
    expect_corrupt(&a, "wire type 3");
    buf_release(&a);

    build_basic(&a, true, 1, 1);
    put_tag(&a, 20, 6);
    expect_corrupt(&a, "wire type 6");
    buf_release(&a);

    build_basic(&a, true, 1, 1);
    put_uint(&a, 2, 5); /* sample as varint */
    expect_corrupt(&a, "field 2: wire type 0, want 2");
    buf_release(&a);

    build_basic(&a, true, 1, 1);
    put_str(&a, 9, "x"); /* time_nanos as bytes */
    expect_corrupt(&a, "field 9");
    buf_release(&a);

    build_basic(&a, true, 1, 1);
    put_tag(&a, 0, 0);
    put_varint(&a, 1);
    expect_corrupt(&a, "field number 0");
    buf_release(&a);

    /* 11-byte varint */
    build_basic(&a, true, 1, 1);
    put_tag(&a, 12, 0);
    cr_assert_eq(buf_append(&a, "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 11), 0);
    expect_corrupt(&a, "overlong");
    buf_release(&a);

    /* 10-byte varint with a value past 64 bits */
    build_basic(&a, true, 1, 1);
    put_tag(&a, 12, 0);
    cr_assert_eq(buf_append(&a, "\xff\xff\xff\xff\xff\xff\xff\xff\xff\x02", 10), 0);
    expect_corrupt(&a, "overlong");
    buf_release(&a);

    /* length past the end */
    build_basic(&a, true, 1, 1);
    put_tag(&a, 2, 2);
    put_varint(&a, 1000);
    expect_corrupt(&a, "runs past end");
    buf_release(&a);

    /* packed field ending mid-varint */
    build_basic(&a, true, 1, 1);
    {
        buf_t m = BUF_INIT;
        put_tag(&m, 1, 2);
        put_varint(&m, 2);
        cr_assert_eq(buf_append(&m, "\x01\x81", 2), 0);
        put_msg(&a, 2, &m);
    }
    expect_corrupt(&a, "sample 2 (offset 261): truncated or overlong location id");
    buf_release(&a);

    /* overlong varint inside a packed field */
    build_basic(&a, true, 1, 1);
    {
        buf_t m = BUF_INIT;
        uint64_t v[] = {1, 2};
        put_tag(&m, 1, 2);
        put_varint(&m, 11);
        cr_assert_eq(buf_append(&m, "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 11), 0);
        put_repeated(&m, 2, v, 2, true);
        put_msg(&a, 2, &m);
    }
    expect_corrupt(&a, "overlong location id");
    buf_release(&a);

    /* a sample's location field as fixed64 */
    build_basic(&a, true, 1, 1);
    {
        buf_t m = BUF_INIT;
        put_tag(&m, 1, 1);
        cr_assert_eq(buf_append(&m, "12345678", 8), 0);
        put_msg(&a, 2, &m);
    }
    expect_corrupt(&a, "sample 2 (offset");
    buf_release(&a);
}

/* Location ids of every varint length, in long packed runs (the block decoder's windows),
 * including non-minimal encodings, must decode like the unpacked form. */
Test(pprof, long_stacks_with_mixed_varint_sizes)
{
    static const uint64_t ids[] = {1, 127, 128, 16383, 16384, 2097151, 2097152, 268435456};
    enum { NIDS = 8, DEPTH = 300 };
    uint64_t locs[DEPTH];
    uint32_t want[DEPTH];
    uint32_t x = 7;
    for (int i = 0; i < DEPTH; i++) {
        x = x * 1103515245u + 12345u;
        want[i] = (x >> 16) % NIDS;
        locs[i] = ids[want[i]];
    }
    for (int packed = 0; packed < 2; packed++) {
        buf_t a = BUF_INIT;
        put_value_type(&a, 1, 0, 0);
        uint64_t v[] = {1};
        for (int s = 0; s < 3; s++) /* several samples: windows start mid-profile */
            put_sample(&a, locs + s, DEPTH - s, v, 1, packed);
        {
            /* id 1 written in 4 and 9 bytes (non-minimal but valid), then 16384 */
            buf_t m = BUF_INIT;
            put_tag(&m, 1, 2);
            put_varint(&m, 4 + 9 + 3);
            cr_assert_eq(buf_append(&m, "\x81\x80\x80\x00", 4), 0);
            cr_assert_eq(buf_append(&m, "\x81\x80\x80\x80\x80\x80\x80\x80\x00", 9), 0);
            put_varint(&m, 16384);
            put_repeated(&m, 2, v, 1, false);
            put_msg(&a, 2, &m);
        }
        for (int i = 0; i < NIDS; i++)
            put_location(&a, ids[i], 0, NULL, 0);
        put_str(&a, 6, "");
        pprof_t p;
        err_t err = {0};
        cr_assert_eq(decode_buf(&p, &a, &err), 0, "packed %d: %s", packed, err.msg);
        check_invariants(&p);
        cr_assert_eq(p.nsamples, 4);
        for (int s = 0; s < 3; s++) {
            cr_assert_eq(p.samples[s].nlocs, (uint32_t)(DEPTH - s));
            for (int i = 0; i < DEPTH - s; i++)
                cr_assert_eq(p.sample_locs[p.samples[s].loc_off + i], want[i + s],
                             "packed %d sample %d loc %d", packed, s, i);
        }
        cr_assert_eq(p.samples[3].nlocs, 3);
        cr_assert_eq(p.sample_locs[p.samples[3].loc_off], 0);
        cr_assert_eq(p.sample_locs[p.samples[3].loc_off + 1], 0);
        cr_assert_eq(p.sample_locs[p.samples[3].loc_off + 2], 4);
        pprof_release(&p);
        buf_release(&a);
    }
}

Test(pprof, empty_samples_cannot_claim_huge_value_arrays)
{
    /* 1024 sample types x 100000 empty samples would be 800 MB of values. */
    buf_t a = BUF_INIT;
    put_str(&a, 6, "");
    for (int i = 0; i < 1024; i++)
        put_value_type(&a, 1, 0, 0);
    for (int i = 0; i < 100000; i++) {
        put_tag(&a, 2, 2);
        put_varint(&a, 0);
    }
    expect_corrupt(&a, "cannot fit");
    buf_release(&a);
}

Test(pprof, counts_are_bounded)
{
    buf_t a = BUF_INIT;
    put_str(&a, 6, "");
    for (unsigned i = 0; i <= PPROF_MAX_SAMPLE_TYPES; i++)
        put_value_type(&a, 1, 0, 0);
    pprof_t p;
    err_t err = {0};
    cr_assert_eq(decode_buf(&p, &a, &err), EMB_ETOOBIG, "%s", err.msg);
    cr_assert(strstr(err.msg, "sample types"), "%s", err.msg);
    buf_release(&a);

    /* PPROF_MAX_SAMPLES + 1 empty samples: 2 bytes each, rejected before any allocation. */
    size_t n = (size_t)PPROF_MAX_SAMPLES + 1;
    uint8_t *big = malloc(2 * n + 3);
    for (size_t i = 0; i < n; i++) {
        big[2 * i] = 0x12;
        big[2 * i + 1] = 0;
    }
    memcpy(big + 2 * n, "\x32\x00\x0a", 3);
    cr_assert_eq(pprof_decode(&p, big, 2 * n + 2, &err), EMB_ETOOBIG, "%s", err.msg);
    cr_assert(strstr(err.msg, "too many samples"), "%s", err.msg);
    free(big);
}
