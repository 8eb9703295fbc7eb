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
 * Timestamps are rewritten by appending a time_nanos field to each decompressed profile
 * (protobuf: the last value of a scalar field wins) and gzipping it again. */
#include <arpa/inet.h>
#include <dirent.h>
#include <malloc.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/gz.h"
#include "ingest/ingest.h"
#include "ingest/pprof.h"
#include "store/store.h"

typedef struct file {
    char name[256];
    uint8_t *data;
    size_t len;
} file_t;

static file_t *files;
static size_t nfiles;
static size_t total_bytes;

static void load_corpus(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) {
        perror(dir);
        exit(1);
    }
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strstr(e->d_name, ".pb.gz"))
            continue;
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        FILE *f = fopen(path, "rb");
        if (!f)
            continue;
        fseek(f, 0, SEEK_END);
        long n = ftell(f);
        fseek(f, 0, SEEK_SET);
        files = realloc(files, (nfiles + 1) * sizeof(*files));
        file_t *fl = &files[nfiles++];
        snprintf(fl->name, sizeof(fl->name), "%s", e->d_name);
        fl->data = malloc((size_t)n);
        fl->len = fread(fl->data, 1, (size_t)n, f);
        total_bytes += fl->len;
        fclose(f);
    }
    closedir(d);
    if (!nfiles) {
        fprintf(stderr, "no .pb.gz files in %s\n", dir);
        exit(1);
    }
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
            if (gz_decompress(&raw, files[i].data, files[i].len, 0, &err) ||
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
    store_options_t sopt = {false, 0, 0, 0, 0};
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
                                .body = files[i].data, .body_len = files[i].len};
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

static int connect_server(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        perror("connect");
        exit(1);
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return fd;
}

/* Sends one request on a keep-alive connection and reads the response; returns the status. */
static int http(int fd, const char *method, const char *target, const uint8_t *body,
                size_t len, buf_t *resp_body)
{
    char hdr[1024];
    int n = snprintf(hdr, sizeof(hdr), "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     "Content-Length: %zu\r\nContent-Type: application/octet-stream\r\n\r\n",
                     method, target, len);
    if (write(fd, hdr, (size_t)n) != n || (len && write(fd, body, len) != (ssize_t)len)) {
        perror("write");
        exit(1);
    }
    buf_t in = BUF_INIT;
    size_t need = 0, hdr_end = 0;
    for (;;) {
        char *t = buf_reserve(&in, 65536);
        ssize_t r = read(fd, t, 65536);
        if (r <= 0) {
            fprintf(stderr, "connection closed\n");
            exit(1);
        }
        buf_setlen(&in, in.len + (size_t)r);
        if (!hdr_end) {
            char *e = strstr(in.data, "\r\n\r\n");
            if (!e)
                continue;
            hdr_end = (size_t)(e - in.data) + 4;
            char *cl = strcasestr(in.data, "Content-Length:");
            need = hdr_end + (cl ? strtoul(cl + 15, NULL, 10) : 0);
        }
        if (in.len >= need)
            break;
    }
    int status = (int)strtol(in.data + 9, NULL, 10);
    if (resp_body && buf_append(resp_body, in.data + hdr_end, need - hdr_end))
        exit(1);
    buf_release(&in);
    return status;
}

typedef struct worker {
    int id, nthreads, rounds;
    size_t sent, bytes;
} worker_t;

static void *ingest_worker(void *arg)
{
    worker_t *w = arg;
    int fd = connect_server();
    for (int r = 0; r < w->rounds; r++)
        for (size_t i = (size_t)w->id; i < nfiles; i += (size_t)w->nthreads) {
            int st = http(fd, "POST", "/ingest?name=httpbench%7Benv%3Dprod%7D&format=pprof"
                                      "&spyName=gospy", files[i].data, files[i].len, NULL);
            if (st != 200) {
                fprintf(stderr, "ingest answered %d\n", st);
                exit(1);
            }
            w->sent++;
            w->bytes += files[i].len;
        }
    close(fd);
    return NULL;
}

static long rss_kb(int pid)
{
    char path[64], line[256];
    snprintf(path, sizeof(path), "/proc/%d/status", pid);
    FILE *f = fopen(path, "r");
    long kb = -1;
    while (f && fgets(line, sizeof(line), f))
        if (!strncmp(line, "VmRSS:", 6))
            kb = strtol(line + 6, NULL, 10);
    if (f)
        fclose(f);
    return kb;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Re-encodes a gzipped pprof with time_nanos = ts_ns appended (last value wins). */
static void with_time(buf_t *out, const file_t *f, int64_t ts_ns)
{
    err_t err;
    buf_t raw = BUF_INIT;
    if (gz_decompress(&raw, f->data, f->len, 0, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        exit(1);
    }
    uint8_t v[12];
    size_t n = 0;
    v[n++] = 9 << 3;
    uint64_t x = (uint64_t)ts_ns;
    while (x >= 0x80) {
        v[n++] = (uint8_t)(x | 0x80);
        x >>= 7;
    }
    v[n++] = (uint8_t)x;
    if (buf_append(&raw, v, n) || gz_compress(out, (const uint8_t *)raw.data, raw.len, 6, &err))
        exit(1);
    buf_release(&raw);
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
    int fd = connect_server();
    int64_t now = clock_now_ns();
    size_t k = 0;
    for (int p = 0; p < 1000; p++) {
        while (strncmp(files[k % nfiles].name, "cpu-", 4) != 0)
            k++;
        buf_t body = BUF_INIT;
        with_time(&body, &files[k % nfiles], now - (int64_t)(1000 - p) * 10 * NS_PER_S);
        k++;
        if (http(fd, "POST", "/ingest?name=render1k&format=pprof&spyName=gospy",
                 (const uint8_t *)body.data, body.len, NULL) != 200)
            exit(1);
        buf_release(&body);
    }
    long rss = rss_kb(pid);
    int64_t lat[30];
    size_t resp_len = 0;
    char target[512];
    snprintf(target, sizeof(target), "/render?query=process_cpu%%3Acpu%%3Ananoseconds%%3Acpu%%3A"
             "nanoseconds%%7Bservice_name%%3D%%22render1k%%22%%7D&from=now-3h&until=now"
             "&format=json");
    for (int i = 0; i < 30; i++) {
        buf_t out = BUF_INIT;
        int64_t s = clock_mono_ns();
        if (http(fd, "GET", target, NULL, 0, &out) != 200) {
            fprintf(stderr, "render failed: %s\n", out.data);
            exit(1);
        }
        lat[i] = clock_mono_ns() - s;
        resp_len = out.len;
        buf_release(&out);
    }
    qsort(lat, 30, sizeof(lat[0]), cmp_i64);
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
    /* the server's allocator settings (server/server.c), so in-process figures match it */
    mallopt(M_MMAP_THRESHOLD, 64 << 20);
    mallopt(M_TRIM_THRESHOLD, 256 << 20);
    load_corpus(argv[1]);
    if (argc == 2) {
        in_process();
        return 0;
    }
    port = (int)strtol(argv[2], NULL, 10);
    over_http((int)strtol(argv[3], NULL, 10));
    return 0;
}
