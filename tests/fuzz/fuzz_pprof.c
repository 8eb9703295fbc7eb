/* libFuzzer target for ingest/pprof (and base/gz on gzipped inputs): gunzip with a small cap
 * when the input is gzip, decode, and on success check every guarantee pprof.h makes, so a
 * decoder bug shows up as an abort rather than as a silent out-of-range index downstream.
 * Seed corpus: tests/fuzz/corpus/pprof/ (real Go profiles, gzipped and raw). */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/gz.h"
#include "ingest/pprof.h"

#define FUZZ_GZ_MAX (4u << 20)

static void check(bool ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_pprof: invariant violated: %s\n", what);
        abort();
    }
}

static void check_invariants(const pprof_t *p)
{
    size_t ns = p->nstrings;
    check(ns >= 1 && p->strings[0].len == 0, "string_table[0] == \"\"");
    for (size_t i = 0; i < p->nsample_types; i++)
        check(p->sample_types[i].type < ns && p->sample_types[i].unit < ns, "sample type strings");
    check(p->period_type.type < ns && p->period_type.unit < ns, "period type strings");
    check(p->default_sample_type < ns, "default_sample_type");
    check(p->nvalues == p->nsamples * p->nsample_types, "values per sample");
    for (size_t i = 0; i < p->nsamples; i++) {
        const pprof_sample_t *s = &p->samples[i];
        check((size_t)s->loc_off + s->nlocs <= p->nsample_locs, "sample loc range");
        check((size_t)s->value_off + p->nsample_types <= p->nvalues, "sample value range");
        check((size_t)s->label_off + s->nlabels <= p->nlabels, "sample label range");
        for (uint32_t j = 0; j < s->nlocs; j++)
            check(p->sample_locs[s->loc_off + j] < p->nlocs, "sample location index");
    }
    for (size_t i = 0; i < p->nlabels; i++) {
        const pprof_label_t *l = &p->labels[i];
        check(l->key < ns && l->str < ns && l->num_unit < ns, "label strings");
    }
    for (size_t i = 0; i < p->nlocs; i++) {
        const pprof_location_t *l = &p->locs[i];
        check(l->mapping == PPROF_NONE || l->mapping < p->nmappings, "location mapping");
        check((size_t)l->line_off + l->nlines <= p->nlines, "location line range");
    }
    for (size_t i = 0; i < p->nlines; i++)
        check(p->lines[i].func == PPROF_NONE || p->lines[i].func < p->nfuncs, "line function");
    for (size_t i = 0; i < p->nfuncs; i++) {
        const pprof_function_t *f = &p->funcs[i];
        check(f->name < ns && f->system_name < ns && f->filename < ns, "function strings");
    }
    for (size_t i = 0; i < p->nmappings; i++)
        check(p->mappings[i].filename < ns && p->mappings[i].build_id < ns, "mapping strings");
    /* Touch every string so ASan sees a slice pointing outside the input. */
    size_t sum = 0;
    for (size_t i = 0; i < ns; i++)
        for (size_t j = 0; j < p->strings[i].len; j++)
            sum += p->strings[i].p[j];
    (void)sum;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    buf_t raw = BUF_INIT;
    err_t err = {0};
    const uint8_t *p = data;
    size_t n = size;
    if (gz_is_gzip(data, size)) {
        int rc = gz_decompress(&raw, data, size, FUZZ_GZ_MAX, &err);
        if (rc) {
            check(rc == EMB_ECORRUPT || rc == EMB_ETOOBIG, "gz error code");
            check(raw.len == 0, "gz leaves out untouched on failure");
            buf_release(&raw);
            return 0;
        }
        check(raw.len <= FUZZ_GZ_MAX, "gz respects max");
        p = raw.data ? (const uint8_t *)raw.data : (const uint8_t *)"";
        n = raw.len;
    }
    pprof_t prof;
    int rc = pprof_decode(&prof, p ? p : (const uint8_t *)"", n, &err);
    if (rc == 0)
        check_invariants(&prof);
    else
        check((rc == EMB_ECORRUPT || rc == EMB_ETOOBIG) && err.code == rc && err.msg[0],
              "decode error code and message");
    pprof_release(&prof);
    buf_release(&raw);
    return 0;
}
