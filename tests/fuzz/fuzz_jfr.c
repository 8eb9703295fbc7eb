/* libFuzzer target for ingest/jfr (parser) and jfr_ingest (events → batch, LabelsSnapshot):
 * the input is a JFR recording (gunzipped first when it is gzip, output capped), parsed with
 * jfr_parse and pushed through ingest_decode(format=jfr). An input starting with 0xA5 is the
 * multipart form instead: byte 1 is the length of a `labels` part that follows, the rest is
 * the `jfr` part. On success every guarantee of jfr.h is checked (sample → stack → frame →
 * string indices in range, values as documented) and every batch sample must point into the
 * batch, so a parser bug aborts rather than corrupting what comes downstream.
 * Seed corpus: tests/fuzz/corpus/jfr/ (JDK recordings gzipped, small async-profiler-shaped
 * files from tests/integration/test_ingest_jfr.py's writer). */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/gz.h"
#include "ingest/ingest.h"
#include "ingest/jfr.h"

#define FUZZ_GZ_MAX (4u << 20)

static void check(bool ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_jfr: invariant violated: %s\n", what);
        abort();
    }
}

static void check_jfr(const jfr_t *j)
{
    check(j->nchunks >= 1, "at least one chunk");
    check(j->stack_off && j->stack_off[0] == 0, "stack_off[0] == 0");
    for (size_t i = 0; i < j->nstacks; i++)
        check(j->stack_off[i] <= j->stack_off[i + 1], "stack ranges ascend");
    check(j->stack_off[j->nstacks] == j->nframes, "stack ranges cover the frames");
    for (size_t i = 0; i < j->nframes; i++)
        check(j->frames[i] < j->strs.n, "frame name id");
    for (size_t i = 0; i < j->nsamples; i++) {
        const jfr_sample_t *s = &j->samples[i];
        check(s->stack < j->nstacks, "sample stack");
        check(s->kind < JFR_NKINDS, "sample kind");
        check(s->v1 >= 1 && s->v2 >= 0, "sample values");
        check(!s->sleeping || s->kind == JFR_EXEC, "sleeping only for execution samples");
    }
}

static void check_batch(const batch_t *b)
{
    for (size_t p = 0; p < b->nprofs; p++) {
        const batch_profile_t *bp = &b->profs[p];
        check(bp->n > 0, "no empty profiles");
        for (size_t k = 0; k < bp->n; k++)
            check(bp->stack[k] < b->tree.n && bp->value[k] != 0, "batch sample");
        for (size_t k = 0; k < bp->nspans; k++)
            check(bp->spans[k].node < b->tree.n && bp->spans[k].span, "span sample");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    buf_t raw = BUF_INIT, form = BUF_INIT;
    err_t err = {0};
    const uint8_t *p = data;
    size_t n = size;
    const char *ct = NULL;
    if (size >= 2 && data[0] == 0xA5) {
        size_t nl = data[1] < size - 2 ? data[1] : size - 2;
#define PART(name) \
    "--B\r\nContent-Disposition: form-data; name=\"" name "\"; filename=\"f\"\r\n\r\n"
        int rc = 0;
        rc |= buf_puts(&form, PART("labels"));
        rc |= buf_append(&form, data + 2, nl);
        rc |= buf_puts(&form, "\r\n" PART("jfr"));
#undef PART
        rc |= buf_append(&form, data + 2 + nl, size - 2 - nl);
        rc |= buf_puts(&form, "\r\n--B--\r\n");
        check(rc == 0, "form buffer");
        ct = "multipart/form-data; boundary=B";
        p = (const uint8_t *)form.data;
        n = form.len;
    } else if (gz_is_gzip(data, size)) {
        int rc = gz_decompress(&raw, data, size, FUZZ_GZ_MAX, &err);
        if (rc) {
            check(rc == EMB_ECORRUPT || rc == EMB_ETOOBIG, "gz error code");
            buf_release(&raw);
            return 0;
        }
        p = raw.data ? (const uint8_t *)raw.data : (const uint8_t *)"";
        n = raw.len;
    }
    if (!ct) {
        jfr_t j;
        int rc = jfr_parse(&j, p, n, &err);
        if (rc == 0)
            check_jfr(&j);
        else
            check(rc == EMB_ECORRUPT && err.code == rc && err.msg[0], "parse error and message");
        jfr_release(&j);
        jfr_release(&j); /* documented no-op */
    }
    ingest_req_t req = {
        .name = "fuzz.app{env=f}",
        .from_ns = 1700000000000000000LL,
        .until_ns = 1700000010000000000LL,
        .format = "jfr",
        .sample_rate = "100",
        .spy_name = "javaspy",
        .content_type = ct,
        .body = p,
        .body_len = n,
    };
    ingest_limits_t lim = {.max_profile_size = FUZZ_GZ_MAX, .max_label_names_per_series = 30,
                           .max_label_name_length = 1024, .max_label_value_length = 2048};
    batch_t b;
    const char *fmt_used;
    memset(&err, 0, sizeof(err));
    int rc = ingest_decode(&b, &fmt_used, &req, &lim, &err);
    if (rc == 0)
        check_batch(&b);
    else
        check((rc == EMB_ECORRUPT || rc == EMB_ETOOBIG || rc == EMB_EINVAL) && err.msg[0],
              "ingest error code and message");
    batch_release(&b);
    buf_release(&raw);
    buf_release(&form);
    return 0;
}
