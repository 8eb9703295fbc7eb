/* bench_ingest: Ember's ingest and render figures over a corpus of real Go pprof files.
 *
 *   bench_ingest CORPUS_DIR                     in-process: gunzip+decode only vs the full
 *                                               ingest pipeline (decode, convert, WAL record,
 *                                               WAL append, head apply), ratio printed
 *   bench_ingest CORPUS_DIR PORT PID            HTTP against a running server: ingest
 *                                               throughput with 8 clients, then 1,000 CPU
 *                                               profiles into one series 10 s apart, /render
 *                                               latency over them and the server's RSS
 *
 * Timestamps are rewritten by replacing each profile's time_nanos (bench_with_time). */
#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/buf.h"
#include "benchlib.h"
#include "base/clock.h"
#include "base/gz.h"
#include "ingest/ingest.h"
#include "ingest/pprof.h"
#include "store/store.h"

static bench_file_t *files;
static size_t nfiles;
static size_t total_bytes;

static void load_corpus(const char *dir)
{
    nfiles = bench_load_corpus(&files, dir, "");
    for (size_t i = 0; i < nfiles; i++)
        total_bytes += files[i].gz_len;
}

static double secs(int64_t ns) { return (double)ns / 1e9; }

static void in_process(void)
{
    const int rounds = 300;
    err_t err;
    /* warm up + correctness */
    int64_t t0 = clock_mono_ns();
    size_t nprof = 0;
    for (int r = 0; r < rounds; r++)
        for (size_t i = 0; i < nfiles; i++) {
            buf_t raw = BUF_INIT;
            pprof_t p;
            if (gz_decompress(&raw, files[i].gz, files[i].gz_len, 0, &err) ||
                pprof_decode(&p, (const uint8_t *)raw.data, raw.len, &err)) {
                fprintf(stderr, "%s: %s\n", files[i].name, err.msg);
                exit(1);
            }
            pprof_release(&p);
            buf_release(&raw);
            nprof++;
        }
    int64_t decode_ns = clock_mono_ns() - t0;

    char dir[] = "/tmp/ember-bench-XXXXXX";
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        exit(1);
    }
    store_t *st;
    store_options_t sopt = {.fsync = false};
    if (store_open(&st, dir, &sopt, NULL, NULL, &err)) {
        fprintf(stderr, "store: %s\n", err.msg);
        exit(1);
    }
    ingest_limits_t lim = {4u << 20, 30, 1024, 2048, 8192};
    t0 = clock_mono_ns();
    int64_t ts = 1700000000LL * NS_PER_S;
    for (int r = 0; r < rounds; r++)
        for (size_t i = 0; i < nfiles; i++) {
            ingest_req_t req = {.name = "bench{env=prod}", .from_ns = ts, .until_ns = ts + 10 * NS_PER_S,
                                .format = "pprof", .spy_name = "gospy",
                                .body = files[i].gz, .body_len = files[i].gz_len};
            batch_t b;
            const char *fmt;
            buf_t rec = BUF_INIT;
            if (ingest_decode(&b, &fmt, &req, &lim, &err) ||
                ingest_record_encode(&rec, "anonymous", &req) ||
                store_append(st, "anonymous", &b, (const uint8_t *)rec.data, rec.len, &err)) {
                fprintf(stderr, "ingest %s: %s\n", files[i].name, err.msg);
                exit(1);
            }
            batch_release(&b);
            buf_release(&rec);
        }
    int64_t ingest_ns = clock_mono_ns() - t0;
    store_close(st);
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);

    double mb = (double)total_bytes * rounds / 1e6;
    printf("corpus: %zu Go pprof files (CPU + heap), %.1f KB gzipped, replayed %d times\n",
           nfiles, total_bytes / 1e3, rounds);
    printf("gunzip+decode only:      %8.0f profiles/s  %7.1f MB/s (gzipped input)\n",
           nprof / secs(decode_ns), mb / secs(decode_ns));
    printf("ingest pipeline (no fsync, in-process): %8.0f profiles/s  %7.1f MB/s\n",
           nprof / secs(ingest_ns), mb / secs(ingest_ns));
    printf("RATIO ingest/decode-only time: %.2fx (goal <= 1.5x)\n",
           (double)ingest_ns / (double)decode_ns);
}

/* ---- HTTP ---- */

static int port;

typedef struct worker {
    int id, nthreads, rounds;
    size_t sent, bytes;
} worker_t;

static void *ingest_worker(void *arg)
{
    worker_t *w = arg;
    int fd = bench_connect(port);
    for (int r = 0; r < w->rounds; r++)
        for (size_t i = (size_t)w->id; i < nfiles; i += (size_t)w->nthreads) {
            int st = bench_http(fd, "POST", "/ingest?name=httpbench%7Benv%3Dprod%7D&format=pprof"
                                      "&spyName=gospy", files[i].gz, files[i].gz_len, NULL);
            if (st != 200) {
                fprintf(stderr, "ingest answered %d\n", st);
                exit(1);
            }
            w->sent++;
            w->bytes += files[i].gz_len;
        }
    close(fd);
    return NULL;
}

static void over_http(int pid)
{
    const int nthreads = 8, rounds = 40;
    pthread_t th[8];
    worker_t w[8];
    int64_t t0 = clock_mono_ns();
    for (int i = 0; i < nthreads; i++) {
        w[i] = (worker_t){i, nthreads, rounds, 0, 0};
        pthread_create(&th[i], NULL, ingest_worker, &w[i]);
    }
    size_t sent = 0, bytes = 0;
    for (int i = 0; i < nthreads; i++) {
        pthread_join(th[i], NULL);
        sent += w[i].sent;
        bytes += w[i].bytes;
    }
    int64_t dt = clock_mono_ns() - t0;
    printf("HTTP ingest, 8 keep-alive clients, WAL fsync on: %zu requests, %.0f profiles/s, "
           "%.1f MB/s\n", sent, sent / secs(dt), bytes / 1e6 / secs(dt));

    /* one series, 1,000 CPU profiles 10 s apart ending now */
    size_t ncpu = 0;
    for (size_t i = 0; i < nfiles; i++)
        ncpu += strncmp(files[i].name, "cpu-", 4) == 0;
    int fd = bench_connect(port);
    int64_t now = clock_now_ns();
    size_t k = 0;
    for (int p = 0; p < 1000; p++) {
        while (strncmp(files[k % nfiles].name, "cpu-", 4) != 0)
            k++;
        buf_t body = BUF_INIT;
        bench_with_time(&body, &files[k % nfiles], now - (int64_t)(1000 - p) * 10 * NS_PER_S);
        k++;
        if (bench_http(fd, "POST", "/ingest?name=render1k&format=pprof&spyName=gospy",
                 (const uint8_t *)body.data, body.len, NULL) != 200)
            exit(1);
        buf_release(&body);
    }
    long rss = bench_status_kb(pid, "VmRSS");
    int64_t lat[30];
    size_t resp_len = 0;
    char target[512];
    snprintf(target, sizeof(target), "/render?query=process_cpu%%3Acpu%%3Ananoseconds%%3Acpu%%3A"
             "nanoseconds%%7Bservice_name%%3D%%22render1k%%22%%7D&from=now-3h&until=now"
             "&format=json");
    for (int i = 0; i < 30; i++) {
        buf_t out = BUF_INIT;
        int64_t s = clock_mono_ns();
        if (bench_http(fd, "GET", target, NULL, 0, &out) != 200) {
            fprintf(stderr, "render failed: %s\n", out.data);
            exit(1);
        }
        lat[i] = clock_mono_ns() - s;
        resp_len = out.len;
        buf_release(&out);
    }
    qsort(lat, 30, sizeof(lat[0]), bench_cmp_i64);
    printf("/render over 1 series x 1,000 CPU profiles (%zu distinct files): median %.2f ms, "
           "p90 %.2f ms, response %zu bytes\n", ncpu, lat[15] / 1e6, lat[27] / 1e6, resp_len);
    printf("server RSS after ingest (%d ingest requests + 1,000 profiles): %.1f MB\n",
           (int)sent, rss / 1024.0);
    close(fd);
}

int main(int argc, char **argv)
{
    if (argc != 2 && argc != 4) {
        fprintf(stderr, "usage: bench_ingest CORPUS_DIR [PORT PID]\n");
        return 2;
    }
    bench_malloc_like_server();
    load_corpus(argv[1]);
    if (argc == 2) {
        in_process();
        return 0;
    }
    port = (int)strtol(argv[2], NULL, 10);
    over_http((int)strtol(argv[3], NULL, 10));
    return 0;
}
