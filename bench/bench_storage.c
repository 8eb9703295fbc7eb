/* bench_storage: Ember's storage-engine figures (issue 4 "Must measure") against a running
 * server, over a corpus of real Go pprof files replayed with timestamps every STEP seconds.
 *
 *   bench_storage ingest CORPUS PORT KIND APP START_S COUNT STEP_S CLIENTS CUT_EVERY [DIR]
 *       COUNT profiles of KIND (cpu|heap) into service APP, timestamps START_S + i*STEP_S,
 *       over CLIENTS concurrent keep-alive connections, cycling the corpus files of that kind.
 *       Every CUT_EVERY profiles (0 = once at the end) all clients pause, the head is cut
 *       (POST /api/v1/admin/cut), and at each simulated UTC day boundary blocks are compacted
 *       (POST /api/v1/admin/compact). With DIR, every body sent is also written there as
 *       p<index>.pb.gz (for `go tool pprof`).
 *   bench_storage render PORT PID APP TYPE FROM_S UNTIL_S RUNS
 *       RUNS x GET /render?query=TYPE{service_name="APP"}&from=&until=, latency median/p90,
 *       numTicks, the server's VmRSS (sampled every 2 ms) and VmHWM (reset first through
 *       /proc/PID/clear_refs) during the queries.
 *   bench_storage steady CORPUS PORT PID SERVICES ROUNDS START_S CLIENTS
 *       SERVICES services x 1 CPU profile per 10 s for ROUNDS rounds (ROUNDS x 10 s of
 *       simulated time), sent as fast as the server takes them; RSS sampled throughout, then
 *       one cut (what block_duration would do) and RSS after it.
 *   bench_storage compact PORT PID
 *       POST /api/v1/admin/compact: its duration and the server's VmHWM while it ran.
 *   bench_storage total FILE SAMPLE_TYPE
 *       sum of one sample type's values in a gzipped pprof (to check a merge's total).
 *
 * Timestamps: each decompressed corpus profile's time_nanos (field 9) is replaced (dropped,
 * then the new value appended) and the result gzipped at level 1, which is what Go's
 * runtime/pprof uses (gzip.BestSpeed). Lines starting with "result:" are machine-readable
 * (bench/run.sh builds its summary from them). */
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/buf.h"
#include "benchlib.h"
#include "base/clock.h"
#include "base/gz.h"
#include "ingest/pprof.h"

#define DAY_S 86400LL

static bench_file_t *files;
static size_t nfiles;

static void load_corpus(const char *dir, const char *prefix)
{
    nfiles = bench_load_corpus(&files, dir, prefix);
}

/* ---- HTTP/1.1 keep-alive client ---- */

static int port;

static void admin(int fd, const char *what, double *secs_acc)
{
    char target[128];
    snprintf(target, sizeof(target), "/api/v1/admin/%s", what);
    buf_t out = BUF_INIT;
    int64_t t0 = clock_mono_ns();
    int st = bench_http(fd, "POST", target, NULL, 0, &out);
    *secs_acc += (double)(clock_mono_ns() - t0) / 1e9;
    if (st != 200) {
        fprintf(stderr, "%s answered %d: %.*s\n", target, st, (int)out.len, out.data);
        exit(1);
    }
    buf_release(&out);
}

/* ---- /proc/PID/status sampling ---- */

/* Resets VmHWM to the current RSS (Linux ≥ 4.0); returns 0 on success. */
static int reset_hwm(int pid)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/clear_refs", pid);
    int fd = open(path, O_WRONLY);
    if (fd < 0)
        return -1;
    int rc = write(fd, "5", 1) == 1 ? 0 : -1;
    close(fd);
    return rc;
}

typedef struct sampler {
    int pid;
    atomic_bool stop;
    long max_rss_kb;
    pthread_t th;
} sampler_t;

static void *sample_loop(void *arg)
{
    sampler_t *s = arg;
    while (!atomic_load(&s->stop)) {
        long kb = bench_status_kb(s->pid, "VmRSS");
        if (kb > s->max_rss_kb)
            s->max_rss_kb = kb;
        usleep(2000);
    }
    return NULL;
}

static void sampler_start(sampler_t *s, int pid)
{
    s->pid = pid;
    s->max_rss_kb = bench_status_kb(pid, "VmRSS");
    atomic_store(&s->stop, false);
    pthread_create(&s->th, NULL, sample_loop, s);
}

static void sampler_stop(sampler_t *s)
{
    atomic_store(&s->stop, true);
    pthread_join(s->th, NULL);
}

/* ---- ingest ---- */

typedef struct ingest_job {
    const char *app, *dir;
    int64_t start_s, step_s;
    size_t count;
    _Atomic size_t next;    /* next profile index to send */
    size_t phase_end;       /* profiles below this index belong to the current phase */
    pthread_barrier_t go, done;
    atomic_bool finished;
    _Atomic uint64_t bytes; /* gzipped bodies sent */
} ingest_job_t;

static void *ingest_worker(void *arg)
{
    ingest_job_t *j = arg;
    int fd = bench_connect(port);
    char target[512];
    snprintf(target, sizeof(target), "/ingest?name=%s&format=pprof&spyName=gospy", j->app);
    buf_t body = BUF_INIT;
    for (;;) {
        pthread_barrier_wait(&j->go);
        if (atomic_load(&j->finished))
            break;
        for (;;) {
            size_t i = atomic_fetch_add(&j->next, 1);
            if (i >= j->phase_end) {
                atomic_fetch_sub(&j->next, 1); /* leave it for the next phase */
                break;
            }
            buf_reset(&body);
            bench_with_time(&body, &files[i % nfiles],
                      (j->start_s + (int64_t)i * j->step_s) * NS_PER_S);
            int st = bench_http(fd, "POST", target, (const uint8_t *)body.data, body.len, NULL);
            if (st != 200) {
                fprintf(stderr, "ingest of profile %zu answered %d\n", i, st);
                exit(1);
            }
            atomic_fetch_add(&j->bytes, body.len);
            if (j->dir) {
                char path[4096];
                snprintf(path, sizeof(path), "%s/p%06zu.pb.gz", j->dir, i);
                FILE *f = fopen(path, "wb");
                if (!f || fwrite(body.data, 1, body.len, f) != body.len || fclose(f))
                    bench_die("cannot write a profile file");
            }
        }
        pthread_barrier_wait(&j->done);
    }
    buf_release(&body);
    close(fd);
    return NULL;
}

static int cmd_ingest(int argc, char **argv)
{
    if (argc < 10)
        bench_die("usage: ingest CORPUS PORT KIND APP START_S COUNT STEP_S CLIENTS CUT_EVERY [DIR]");
    char prefix[32];
    snprintf(prefix, sizeof(prefix), "%s-", argv[3]);
    load_corpus(argv[1], prefix);
    port = atoi(argv[2]);
    static ingest_job_t j;
    j.app = argv[4];
    j.start_s = atoll(argv[5]);
    j.count = (size_t)atoll(argv[6]);
    j.step_s = atoll(argv[7]);
    int clients = atoi(argv[8]);
    size_t cut_every = (size_t)atoll(argv[9]);
    j.dir = argc > 10 && argv[10][0] ? argv[10] : NULL;
    if (clients < 1 || clients > 256 || j.count == 0 || j.step_s <= 0)
        bench_die("bad arguments");
    if (cut_every == 0)
        cut_every = j.count;
    pthread_barrier_init(&j.go, NULL, (unsigned)clients + 1);
    pthread_barrier_init(&j.done, NULL, (unsigned)clients + 1);
    pthread_t *th = calloc((size_t)clients, sizeof(*th));
    for (int i = 0; i < clients; i++)
        pthread_create(&th[i], NULL, ingest_worker, &j);
    int fd = bench_connect(port);
    double send_s = 0, cut_s = 0, compact_s = 0;
    size_t ncuts = 0, ncompacts = 0;
    int64_t t0 = clock_mono_ns();
    int64_t day_of_last = (j.start_s) / DAY_S;
    for (size_t done = 0; done < j.count;) {
        j.phase_end = done + cut_every < j.count ? done + cut_every : j.count;
        int64_t p0 = clock_mono_ns();
        pthread_barrier_wait(&j.go);
        pthread_barrier_wait(&j.done);
        send_s += (double)(clock_mono_ns() - p0) / 1e9;
        done = j.phase_end;
        admin(fd, "cut", &cut_s);
        ncuts++;
        /* compact once the simulated clock passed a UTC day (the compaction window) */
        int64_t next_ts = j.start_s + (int64_t)done * j.step_s;
        if (next_ts / DAY_S != day_of_last || done == j.count) {
            admin(fd, "compact", &compact_s);
            ncompacts++;
            day_of_last = next_ts / DAY_S;
        }
    }
    double total_s = (double)(clock_mono_ns() - t0) / 1e9;
    atomic_store(&j.finished, true);
    pthread_barrier_wait(&j.go);
    for (int i = 0; i < clients; i++)
        pthread_join(th[i], NULL);
    close(fd);
    uint64_t bytes = atomic_load(&j.bytes);
    size_t corpus_gz = 0;
    for (size_t i = 0; i < nfiles; i++)
        corpus_gz += files[i].gz_len;
    printf("ingested %zu %s profiles (%zu distinct corpus files, avg %.0f B gzipped as Go wrote "
           "them, %.0f B as sent) into %s, ts %lld .. %lld every %llds, %d keep-alive clients\n",
           j.count, argv[3], nfiles, (double)corpus_gz / (double)nfiles,
           (double)bytes / (double)j.count, j.app, (long long)j.start_s,
           (long long)(j.start_s + (int64_t)(j.count - 1) * j.step_s), (long long)j.step_s,
           clients);
    printf("  wall %.1f s: sending %.1f s (%.0f profiles/s, %.1f MB/s), %zu cuts %.1f s, "
           "%zu compactions %.1f s\n", total_s, send_s, (double)j.count / send_s,
           (double)bytes / 1e6 / send_s, ncuts, cut_s, ncompacts, compact_s);
    printf("result: ingest_profiles=%zu\nresult: ingest_bytes=%llu\nresult: ingest_wall_s=%.2f\n"
           "result: ingest_send_s=%.2f\nresult: ingest_rate=%.0f\nresult: ingest_cut_s=%.2f\n"
           "result: ingest_compact_s=%.2f\nresult: ingest_ncuts=%zu\n",
           j.count, (unsigned long long)bytes, total_s, send_s, (double)j.count / send_s, cut_s,
           compact_s, ncuts);
    return 0;
}

/* ---- render ---- */

static int cmd_render(int argc, char **argv)
{
    if (argc < 8)
        bench_die("usage: render PORT PID APP TYPE FROM_S UNTIL_S RUNS");
    port = atoi(argv[1]);
    int pid = atoi(argv[2]);
    const char *app = argv[3], *type = argv[4];
    long long from = atoll(argv[5]), until = atoll(argv[6]);
    int runs = atoi(argv[7]);
    if (runs < 1)
        bench_die("RUNS must be >= 1");
    char target[1024], esc_type[256];
    size_t k = 0;
    for (const char *p = type; *p && k + 4 < sizeof(esc_type); p++) {
        if (*p == ':')
            k += (size_t)snprintf(esc_type + k, sizeof(esc_type) - k, "%%3A");
        else
            esc_type[k++] = *p;
    }
    esc_type[k] = 0;
    snprintf(target, sizeof(target), "/render?query=%s%%7Bservice_name%%3D%%22%s%%22%%7D"
             "&from=%lld&until=%lld&format=json", esc_type, app, from, until);
    int fd = bench_connect(port);
    long rss_before = bench_status_kb(pid, "VmRSS");
    bool hwm_reset = reset_hwm(pid) == 0;
    sampler_t smp;
    sampler_start(&smp, pid);
    int64_t *lat = calloc((size_t)runs, sizeof(*lat));
    size_t resp_len = 0;
    long long ticks = -1;
    for (int i = 0; i < runs; i++) {
        buf_t out = BUF_INIT;
        int64_t s = clock_mono_ns();
        int st = bench_http(fd, "GET", target, NULL, 0, &out);
        lat[i] = clock_mono_ns() - s;
        if (st != 200) {
            fprintf(stderr, "render answered %d: %.*s\n", st, (int)out.len, out.data);
            exit(1);
        }
        resp_len = out.len;
        if (buf_putc(&out, 0))
            bench_die("out of memory");
        const char *nt = strstr(out.data, "\"numTicks\":");
        ticks = nt ? atoll(nt + 11) : -1;
        buf_release(&out);
    }
    sampler_stop(&smp);
    long hwm = bench_status_kb(pid, "VmHWM"), rss_after = bench_status_kb(pid, "VmRSS");
    close(fd);
    int64_t first = lat[0];
    qsort(lat, (size_t)runs, sizeof(*lat), bench_cmp_i64);
    double med = (runs % 2 ? lat[runs / 2] : (lat[runs / 2 - 1] + lat[runs / 2]) / 2) / 1e6;
    int p90i = (int)((runs * 9 + 9) / 10) - 1;
    double p90 = lat[p90i] / 1e6;
    printf("GET %s\n", target);
    printf("  %d runs: median %.2f ms, p90 %.2f ms, min %.2f ms, max %.2f ms, first %.2f ms; "
           "response %zu bytes, numTicks %lld\n", runs, med, p90, lat[0] / 1e6,
           lat[runs - 1] / 1e6, first / 1e6, resp_len, ticks);
    printf("  server RSS: %.1f MB before, max %.1f MB sampled during the queries, VmHWM %.1f MB "
           "%s, %.1f MB after\n", rss_before / 1024.0, smp.max_rss_kb / 1024.0, hwm / 1024.0,
           hwm_reset ? "(reset just before the queries)" : "(since server start: reset failed)",
           rss_after / 1024.0);
    printf("result: render_median_ms=%.3f\nresult: render_p90_ms=%.3f\nresult: render_ticks=%lld\n"
           "result: render_rss_max_mb=%.1f\nresult: render_hwm_mb=%.1f\n", med, p90, ticks,
           smp.max_rss_kb / 1024.0, hwm / 1024.0);
    free(lat);
    return 0;
}

/* ---- steady ingest of many services ---- */

typedef struct steady_job {
    size_t services, rounds, total;
    int64_t start_s;
    _Atomic size_t next;
    _Atomic uint64_t bytes;
} steady_job_t;

static void *steady_worker(void *arg)
{
    steady_job_t *j = arg;
    int fd = bench_connect(port);
    buf_t body = BUF_INIT;
    for (;;) {
        size_t i = atomic_fetch_add(&j->next, 1);
        if (i >= j->total)
            break;
        size_t round = i / j->services, svc = i % j->services;
        buf_reset(&body);
        bench_with_time(&body, &files[(svc + round) % nfiles],
                  (j->start_s + (int64_t)round * 10) * NS_PER_S + (int64_t)svc * NS_PER_MS);
        char target[256];
        snprintf(target, sizeof(target), "/ingest?name=svc-%03zu%%7Benv%%3Dprod%%7D"
                 "&format=pprof&spyName=gospy", svc);
        int st = bench_http(fd, "POST", target, (const uint8_t *)body.data, body.len, NULL);
        if (st != 200) {
            fprintf(stderr, "ingest answered %d\n", st);
            exit(1);
        }
        atomic_fetch_add(&j->bytes, body.len);
    }
    buf_release(&body);
    close(fd);
    return NULL;
}

static int cmd_steady(int argc, char **argv)
{
    if (argc < 8)
        bench_die("usage: steady CORPUS PORT PID SERVICES ROUNDS START_S CLIENTS");
    load_corpus(argv[1], "cpu-");
    port = atoi(argv[2]);
    int pid = atoi(argv[3]);
    static steady_job_t j;
    j.services = (size_t)atoll(argv[4]);
    j.rounds = (size_t)atoll(argv[5]);
    j.start_s = atoll(argv[6]);
    j.total = j.services * j.rounds;
    int clients = atoi(argv[7]);
    if (clients < 1 || clients > 256 || j.total == 0)
        bench_die("bad arguments");
    long rss0 = bench_status_kb(pid, "VmRSS");
    bool hwm_reset = reset_hwm(pid) == 0;
    sampler_t smp;
    sampler_start(&smp, pid);
    pthread_t *th = calloc((size_t)clients, sizeof(*th));
    int64_t t0 = clock_mono_ns();
    for (int i = 0; i < clients; i++)
        pthread_create(&th[i], NULL, steady_worker, &j);
    for (int i = 0; i < clients; i++)
        pthread_join(th[i], NULL);
    double dt = (double)(clock_mono_ns() - t0) / 1e9;
    long rss_end = bench_status_kb(pid, "VmRSS");
    int fd = bench_connect(port);
    double cut_s = 0;
    admin(fd, "cut", &cut_s);
    close(fd);
    usleep(200000);
    sampler_stop(&smp);
    long hwm = bench_status_kb(pid, "VmHWM"), rss_cut = bench_status_kb(pid, "VmRSS");
    printf("%zu services x %zu rounds (1 CPU profile per service per simulated 10 s = %.0f min "
           "of that load) sent in %.1f s by %d keep-alive clients (%.0f profiles/s, %.0fx real "
           "time), %.1f MB gzipped\n", j.services, j.rounds, (double)j.rounds * 10 / 60, dt,
           clients, (double)j.total / dt, (double)j.rounds * 10 / dt,
           atomic_load(&j.bytes) / 1e6);
    printf("  server RSS: %.1f MB before, max %.1f MB sampled during ingest, %.1f MB at the end "
           "(head holds all of it), VmHWM %.1f MB%s; after one cut (%.2f s) %.1f MB\n",
           rss0 / 1024.0, smp.max_rss_kb / 1024.0, rss_end / 1024.0, hwm / 1024.0,
           hwm_reset ? "" : " (since server start)", cut_s, rss_cut / 1024.0);
    printf("result: steady_rate=%.0f\nresult: steady_rss_max_mb=%.1f\nresult: steady_hwm_mb=%.1f\n"
           "result: steady_rss_end_mb=%.1f\nresult: steady_rss_cut_mb=%.1f\n",
           (double)j.total / dt, smp.max_rss_kb / 1024.0, hwm / 1024.0, rss_end / 1024.0,
           rss_cut / 1024.0);
    return 0;
}

/* ---- compaction ---- */

static int cmd_compact(int argc, char **argv)
{
    if (argc < 3)
        bench_die("usage: compact PORT PID");
    port = atoi(argv[1]);
    int pid = atoi(argv[2]);
    long rss0 = bench_status_kb(pid, "VmRSS");
    bool hwm_reset = reset_hwm(pid) == 0;
    int fd = bench_connect(port);
    buf_t out = BUF_INIT;
    int64_t t0 = clock_mono_ns();
    int st = bench_http(fd, "POST", "/api/v1/admin/compact", NULL, 0, &out);
    double dt = (double)(clock_mono_ns() - t0) / 1e9;
    close(fd);
    if (st != 200) {
        fprintf(stderr, "compact answered %d: %.*s\n", st, (int)out.len, out.data);
        exit(1);
    }
    long hwm = bench_status_kb(pid, "VmHWM"), rss = bench_status_kb(pid, "VmRSS");
    printf("POST /api/v1/admin/compact: %.2f s, %.*s\n", dt, (int)out.len, out.data);
    printf("  server RSS: %.1f MB before, VmHWM %.1f MB during%s, %.1f MB after\n",
           rss0 / 1024.0, hwm / 1024.0, hwm_reset ? "" : " (since server start)", rss / 1024.0);
    printf("result: compact_s=%.2f\nresult: compact_hwm_mb=%.1f\n", dt, hwm / 1024.0);
    buf_release(&out);
    return 0;
}

/* ---- total of a pprof ---- */

static int cmd_total(int argc, char **argv)
{
    if (argc < 3)
        bench_die("usage: total FILE SAMPLE_TYPE");
    FILE *f = fopen(argv[1], "rb");
    if (!f) {
        perror(argv[1]);
        return 1;
    }
    buf_t gz = BUF_INIT, raw = BUF_INIT;
    char tmp[65536];
    size_t n;
    while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0)
        if (buf_append(&gz, tmp, n))
            bench_die("out of memory");
    fclose(f);
    err_t err;
    pprof_t p;
    if (gz_decompress(&raw, (const uint8_t *)gz.data, gz.len, 0, &err) ||
        pprof_decode(&p, (const uint8_t *)raw.data, raw.len, &err))
        bench_die(err.msg);
    long long idx = -1;
    for (size_t i = 0; i < p.nsample_types; i++) {
        if (slice_eq_cstr(p.strings[p.sample_types[i].type], argv[2]))
            idx = (long long)i;
    }
    if (idx < 0)
        bench_die("no such sample type");
    long long sum = 0;
    for (size_t i = 0; i < p.nsamples; i++)
        sum += p.values[p.samples[i].value_off + (size_t)idx];
    printf("%lld\n", sum);
    pprof_release(&p);
    buf_release(&gz);
    buf_release(&raw);
    return 0;
}

int main(int argc, char **argv)
{
    bench_malloc_like_server();
    if (argc < 2)
        bench_die("usage: bench_storage ingest|render|steady|compact|total ...");
    if (!strcmp(argv[1], "ingest"))
        return cmd_ingest(argc - 1, argv + 1);
    if (!strcmp(argv[1], "render"))
        return cmd_render(argc - 1, argv + 1);
    if (!strcmp(argv[1], "steady"))
        return cmd_steady(argc - 1, argv + 1);
    if (!strcmp(argv[1], "compact"))
        return cmd_compact(argc - 1, argv + 1);
    if (!strcmp(argv[1], "total"))
        return cmd_total(argc - 1, argv + 1);
    bench_die("unknown command");
    return 2;
}
