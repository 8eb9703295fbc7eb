/* JFR ingest throughput (`make bench`, bench/run.sh records the corpus with the JDK): for
 * every .jfr file of DIR, the bytes are gzipped as pyroscope-java sends them and wrapped in the
 * agent's multipart form; then, each repeated for at least a second,
 *   1. gunzip only      — gz_decompress of the gzipped JFR (the floor any ingest pays),
 *   2. JFR ingest       — ingest_decode(format=jfr) of the multipart form: gunzip, parse,
 *                          profiles into a batch (everything before the store),
 *   3. JFR ingest (raw) — the same with the uncompressed body.
 * Figures are MB/s of uncompressed JFR; the ratio is ingest time / gunzip-only time.
 * Usage: bench_jfr DIR */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/buf.h"
#include "base/gz.h"
#include "benchlib.h"
#include "ingest/ingest.h"

typedef struct jfile {
    buf_t raw, gz, form;
} jfile_t;

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

static int is_jfr(const struct dirent *e)
{
    size_t n = strlen(e->d_name);
    return n > 4 && !strcmp(e->d_name + n - 4, ".jfr");
}

static const char BOUNDARY[] = "----EmberBenchJfr";

static size_t load(jfile_t **out, const char *dir)
{
    struct dirent **ents;
    int n = scandir(dir, &ents, is_jfr, by_name);
    if (n <= 0)
        bench_die("no .jfr files in the corpus directory");
    jfile_t *fs = calloc((size_t)n, sizeof(*fs));
    for (int i = 0; i < n; i++) {
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", dir, ents[i]->d_name);
        FILE *f = fopen(path, "rb");
        if (!f)
            bench_die(path);
        char chunk[65536];
        size_t got;
        while ((got = fread(chunk, 1, sizeof(chunk), f)) > 0)
            if (buf_append(&fs[i].raw, chunk, got))
                bench_die("read");
        fclose(f);
        err_t err;
        if (gz_compress(&fs[i].gz, (const uint8_t *)fs[i].raw.data, fs[i].raw.len, 6, &err))
            bench_die(err.msg);
        if (buf_printf(&fs[i].form, "--%s\r\nContent-Disposition: form-data; name=\"jfr\"; "
                       "filename=\"jfr\"\r\nContent-Type: application/octet-stream\r\n\r\n",
                       BOUNDARY) ||
            buf_append(&fs[i].form, fs[i].gz.data, fs[i].gz.len) ||
            buf_printf(&fs[i].form, "\r\n--%s--\r\n", BOUNDARY))
            bench_die("form");
        free(ents[i]);
    }
    free(ents);
    *out = fs;
    return (size_t)n;
}

/* mode 0: gunzip only, 1: ingest of the multipart form, 2: ingest of the raw body.
 * Returns seconds per pass over all files (best of the passes made in >= 1 s). */
static double run(const jfile_t *fs, size_t n, int mode, size_t *samples)
{
    char ct[128];
    snprintf(ct, sizeof(ct), "multipart/form-data; boundary=%s", BOUNDARY);
    ingest_limits_t lim = {.max_profile_size = 0};
    double best = 1e30;
    int64_t start = now_ns();
    int passes = 0;
    buf_t out = BUF_INIT;
    while (passes < 3 || now_ns() - start < 1000000000) {
        int64_t t0 = now_ns();
        *samples = 0;
        for (size_t i = 0; i < n; i++) {
            err_t err;
            if (mode == 0) {
                buf_reset(&out);
                if (gz_decompress(&out, (const uint8_t *)fs[i].gz.data, fs[i].gz.len, 0, &err))
                    bench_die(err.msg);
                continue;
            }
            const buf_t *body = mode == 1 ? &fs[i].form : &fs[i].raw;
            ingest_req_t req = {.name = "bench.java{env=bench}",
                                .from_ns = 1700000000000000000LL,
                                .until_ns = 1700000010000000000LL,
                                .format = "jfr",
                                .sample_rate = "100",
                                .spy_name = "javaspy",
                                .content_type = mode == 1 ? ct : NULL,
                                .body = (const uint8_t *)body->data,
                                .body_len = body->len};
            batch_t b;
            const char *fmt;
            if (ingest_decode(&b, &fmt, &req, &lim, &err))
                bench_die(err.msg);
            *samples += b.nsamples;
            batch_release(&b);
        }
        double s = (double)(now_ns() - t0) / 1e9;
        if (s < best)
            best = s;
        passes++;
    }
    buf_release(&out);
    return best;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: bench_jfr DIR\n");
        return 2;
    }
    bench_malloc_like_server();
    jfile_t *fs;
    size_t n = load(&fs, argv[1]), raw = 0, gz = 0, samples = 0;
    for (size_t i = 0; i < n; i++) {
        raw += fs[i].raw.len;
        gz += fs[i].gz.len;
    }
    double mb = (double)raw / 1e6;
    printf("corpus: %zu JFR files, %.2f MB uncompressed, %.2f MB gzipped (level 6)\n", n, mb,
           (double)gz / 1e6);
    double t_gz = run(fs, n, 0, &samples);
    double t_form = run(fs, n, 1, &samples);
    printf("batch samples per pass: %zu\n", samples);
    double t_raw = run(fs, n, 2, &samples);
    printf("gunzip only:             %8.1f MB/s of JFR (%.2f ms per pass)\n", mb / t_gz,
           t_gz * 1e3);
    printf("JFR ingest (gzip form):  %8.1f MB/s of JFR (%.2f ms per pass)\n", mb / t_form,
           t_form * 1e3);
    printf("JFR ingest (raw body):   %8.1f MB/s of JFR (%.2f ms per pass)\n", mb / t_raw,
           t_raw * 1e3);
    printf("RATIO JFR ingest / gunzip-only time: %.2f\n", t_form / t_gz);
    printf("result: jfr_ingest_mb_s=%.1f\nresult: jfr_gunzip_mb_s=%.1f\n"
           "result: jfr_ratio=%.2f\n", mb / t_form, mb / t_gz, t_form / t_gz);
    return 0;
}
