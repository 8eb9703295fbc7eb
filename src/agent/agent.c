/* agent.c — libember's lifecycle, collector thread and LD_PRELOAD mode (see agent.h).
 *
 * The collector drains the ring every 50 ms into two stack tables (CPU, allocations) and a
 * map of sampled live blocks, and every upload interval encodes one CPU and one allocation
 * pprof and hands them to the uploader. In output mode (ember record) nothing is uploaded:
 * the whole run is kept and written to files at stop.
 *
 * Invariant: the host program never waits for libember — sampling only writes the ring; the
 * collector and uploader run in their own threads; ember_stop bounds its wait for the
 * server (STOP_UPLOAD_MS).
 */
#include "agent/agent.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent/agg.h"
#include "agent/alloc.h"
#include "agent/conf.h"
#include "agent/profenc.h"
#include "agent/ring.h"
#include "agent/sampler.h"
#include "agent/symbols.h"
#include "agent/tags.h"
#include "agent/upload.h"
#include "agent/u64map.h"
#include "ember.h"

#define EXPORT __attribute__((visibility("default")))
#define RING_ORDER 14        /* 16384 records, 8.8 MiB of address space, touched as used */
#define MAX_STACKS 200000
#define STOP_UPLOAD_MS 3000
#define LIVE_SIZE_BITS 40
#define DRAIN_NS 50000000   /* the ring is drained 20 times a second */

enum { OFF, RUNNING, FORKED };

static struct {
    pthread_mutex_t mu; /* guards state and lifecycle */
    int state;
    bool from_env;
    conf_t conf;
    ring_t ring;
    bool ring_ready;
    pthread_t collector;
    upload_t *up;
    /* collector <-> API */
    pthread_mutex_t cmu;
    pthread_cond_t ccv; /* flush_done changed */
    sem_t wake;         /* the collector's alarm: stop, flush, or a half-full ring */
    bool stop_req;
    uint64_t flush_req, flush_done;
    /* collector-owned */
    agg_t cpu, mem;
    u64map_t live; /* sampled block address → stack id << 40 | size */
    symbols_t syms;
    int64_t period_start_ns, run_start_ns;
    agent_stats_t st;
} A = {.mu = PTHREAD_MUTEX_INITIALIZER,
       .cmu = PTHREAD_MUTEX_INITIALIZER,
       .ccv = PTHREAD_COND_INITIALIZER};

static int64_t wall_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Go's unbiasing factor for a block of `size` bytes sampled with mean `mean`. */
static double alloc_scale(double size, double mean)
{
    if (size <= 0)
        return 1;
    return 1.0 / (1.0 - exp(-size / mean));
}

/* ---- collector ---- */

/* A leaf function that sets up no frame (gcc omits it where no stack is needed) leaves rbp
 * pointing at its caller's frame, so the frame-pointer walk skips that caller. Its return
 * address is then the word at the stack pointer, which the handler recorded: we insert it
 * when the instruction before it is a direct call (E8 rel32) to the very function the PC is
 * in — checked against the module's file bytes, so nothing is guessed. x86-64 only. */
static void fix_leaf(ring_rec_t *r, bool *refreshed)
{
#if defined(__x86_64__)
    if (!(r->flags & RING_F_LEAF_PC) || r->nframes < 1 || r->addr < 4096 ||
        r->nframes >= RING_MAX_FRAMES)
        return;
    uint64_t pc = r->frames[0], ret = r->addr;
    if (r->nframes >= 2 && r->frames[1] == ret)
        return;
    long mp = symbols_find(&A.syms, pc), mr = symbols_find(&A.syms, ret);
    if ((mp < 0 || mr < 0) && !*refreshed) {
        *refreshed = true;
        symbols_refresh(&A.syms);
        mp = symbols_find(&A.syms, pc);
        mr = symbols_find(&A.syms, ret);
    }
    if (mp < 0 || mr < 0)
        return;
    symbols_load(&A.syms, mp);
    symbols_load(&A.syms, mr);
    const symbols_mod_t *m = &A.syms.mods[mr];
    uint64_t fstart;
    if (!m->map || ret - 5 < m->start ||
        !elfsym_lookup(&A.syms.mods[mp].elf, pc - A.syms.mods[mp].bias, &fstart))
        return;
    uint64_t off = ret - 5 - m->start + m->file_offset;
    if (off + 5 > m->map_len)
        return;
    const uint8_t *code = (const uint8_t *)m->map + off;
    int32_t rel;
    memcpy(&rel, code + 1, 4);
    if (code[0] != 0xE8 || ret + (uint64_t)(int64_t)rel != fstart + A.syms.mods[mp].bias)
        return;
    memmove(r->frames + 2, r->frames + 1, (r->nframes - 1) * sizeof(r->frames[0]));
    r->frames[1] = ret;
    r->nframes++;
#else
    (void)r;
    (void)refreshed;
#endif
}

static void drain(void)
{
    bool refreshed = false;
    ring_rec_t *r;
    double mean = (double)alloc_mean_bytes();
    while ((r = ring_peek(&A.ring))) {
        uint32_t id;
        switch (r->kind) {
        case RING_CPU:
            fix_leaf(r, &refreshed);
            if (agg_add(&A.cpu, r->tagset, r->flags, r->frames, r->nframes, &id) == 0)
                A.cpu.st[id].v[0] += (double)r->size;
            A.st.cpu_samples += r->size;
            break;
        case RING_ALLOC:
            A.st.alloc_samples++;
            if (agg_add(&A.mem, r->tagset, r->flags, r->frames, r->nframes, &id) == 0) {
                double sc = alloc_scale((double)r->size, mean);
                A.mem.st[id].v[0] += sc;
                A.mem.st[id].v[1] += sc * (double)r->size;
                uint64_t sz = r->size < (1ull << LIVE_SIZE_BITS) ? r->size
                                                                 : (1ull << LIVE_SIZE_BITS) - 1;
                if (r->addr) /* a second ALLOC at a live address implies the first was freed */
                    u64map_put(&A.live, r->addr, ((uint64_t)id << LIVE_SIZE_BITS) | sz);
            }
            break;
        case RING_FREE:
            u64map_del(&A.live, r->addr);
            break;
        default:
            break;
        }
        ring_consume(&A.ring, r);
    }
}

/* Sample labels of a tag set (dynamic tags; static ones travel in the name). */
static size_t labels_of(uint32_t tagset, conf_tag_t *out, size_t max)
{
    return tagset ? tags_get(tagset, out, max) : 0;
}

static int encode_cpu(int64_t t0, int64_t t1, uint8_t **data, size_t *len)
{
    profenc_t p;
    profenc_init(&p, &A.syms);
    int64_t period = 1000000000LL / A.conf.rate_hz;
    profenc_sample_type(&p, "samples", "count");
    profenc_sample_type(&p, "cpu", "nanoseconds");
    profenc_period(&p, "cpu", "nanoseconds", period);
    profenc_time(&p, t0, t1 - t0);
    conf_tag_t labels[TAGS_MAX_DEPTH];
    for (size_t i = 0; i < A.cpu.n; i++) {
        const agg_stack_t *s = &A.cpu.st[i];
        int64_t n = (int64_t)s->v[0];
        if (n <= 0)
            continue;
        int64_t vals[2] = {n, n * period};
        size_t nl = labels_of(s->tagset, labels, TAGS_MAX_DEPTH);
        profenc_sample(&p, A.cpu.fr + s->off, s->nframes, s->flags & RING_F_LEAF_PC, vals, 2,
                       labels, nl);
    }
    return profenc_finish(&p, data, len);
}

static int encode_mem(int64_t t0, int64_t t1, uint8_t **data, size_t *len)
{
    double mean = (double)alloc_mean_bytes();
    double *inuse = calloc(A.mem.n * 2 + 1, sizeof(double));
    if (!inuse)
        return EMBER_ENOMEM;
    for (size_t i = 0; i < A.live.cap; i++) {
        if (!A.live.used[i])
            continue;
        uint64_t v = A.live.vals[i];
        uint64_t id = v >> LIVE_SIZE_BITS;
        double size = (double)(v & ((1ull << LIVE_SIZE_BITS) - 1));
        if (id >= A.mem.n)
            continue;
        double sc = alloc_scale(size, mean);
        inuse[2 * id] += sc;
        inuse[2 * id + 1] += sc * size;
    }
    profenc_t p;
    profenc_init(&p, &A.syms);
    profenc_sample_type(&p, "alloc_objects", "count");
    profenc_sample_type(&p, "alloc_space", "bytes");
    profenc_sample_type(&p, "inuse_objects", "count");
    profenc_sample_type(&p, "inuse_space", "bytes");
    profenc_period(&p, "space", "bytes", alloc_mean_bytes());
    profenc_time(&p, t0, t1 - t0);
    conf_tag_t labels[TAGS_MAX_DEPTH];
    for (size_t i = 0; i < A.mem.n; i++) {
        const agg_stack_t *s = &A.mem.st[i];
        int64_t vals[4] = {llround(s->v[0]), llround(s->v[1]), llround(inuse[2 * i]),
                           llround(inuse[2 * i + 1])};
        if (!vals[0] && !vals[1] && !vals[2] && !vals[3])
            continue;
        size_t nl = labels_of(s->tagset, labels, TAGS_MAX_DEPTH);
        profenc_sample(&p, A.mem.fr + s->off, s->nframes, s->flags & RING_F_LEAF_PC, vals, 4,
                       labels, nl);
    }
    free(inuse);
    return profenc_finish(&p, data, len);
}

/* After an upload: allocation counts restart (they are per interval, like godeltaprof's
 * deltas); stacks no live block refers to are dropped so the table stays bounded. */
static void mem_rotate(void)
{
    for (size_t i = 0; i < A.mem.n; i++)
        A.mem.st[i].v[0] = A.mem.st[i].v[1] = 0;
    if (A.mem.n < 4096)
        return;
    agg_t fresh;
    agg_init(&fresh, MAX_STACKS);
    uint32_t *remap = malloc(A.mem.n * sizeof(*remap));
    if (!remap)
        return;
    for (size_t i = 0; i < A.mem.n; i++)
        remap[i] = UINT32_MAX;
    for (size_t i = 0; i < A.live.cap; i++) {
        if (!A.live.used[i])
            continue;
        uint64_t v = A.live.vals[i], id = v >> LIVE_SIZE_BITS;
        if (id >= A.mem.n)
            continue;
        if (remap[id] == UINT32_MAX) {
            const agg_stack_t *s = &A.mem.st[id];
            uint32_t nid;
            if (agg_add(&fresh, s->tagset, s->flags, A.mem.fr + s->off, s->nframes, &nid))
                continue;
            remap[id] = nid;
        }
        A.live.vals[i] = ((uint64_t)remap[id] << LIVE_SIZE_BITS) |
                         (v & ((1ull << LIVE_SIZE_BITS) - 1));
    }
    free(remap);
    agg_release(&A.mem);
    A.mem = fresh;
}

/* "app{k=v,...}" percent-encoded, for the name parameter. */
static void ingest_target(char *out, size_t size, int64_t from_ns, int64_t until_ns)
{
    char name[4096]; /* fits the longest: 128 + 16 tags x (63 + 127 + 2) + 3 */
    size_t n = (size_t)snprintf(name, sizeof(name), "%s{", A.conf.app);
    for (size_t i = 0; i < A.conf.ntags && n < sizeof(name); i++)
        n += (size_t)snprintf(name + n, sizeof(name) - n, "%s%s=%s", i ? "," : "",
                              A.conf.tags[i].key, A.conf.tags[i].value);
    if (n < sizeof(name) - 1)
        snprintf(name + n, sizeof(name) - n, "}");
    char enc[3 * 4096 + 1];
    if (!upload_urlencode(enc, sizeof(enc), name))
        upload_urlencode(enc, sizeof(enc), A.conf.app);
    int64_t from = from_ns / 1000000000, until = until_ns / 1000000000;
    if (until <= from)
        until = from + 1;
    snprintf(out, size, "/ingest?name=%s&from=%lld&until=%lld&format=pprof&spyName=ember"
                        "&sampleRate=%d",
             enc, (long long)from, (long long)until, A.conf.rate_hz);
}

static void write_file(const char *path, const uint8_t *data, size_t len)
{
    char tmp[600];
    snprintf(tmp, sizeof(tmp), "%s.tmp%d", path, (int)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        goto fail;
    for (size_t off = 0; off < len;) {
        ssize_t w = write(fd, data + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            close(fd);
            unlink(tmp);
            goto fail;
        }
        off += (size_t)w;
    }
    close(fd);
    if (rename(tmp, path) == 0)
        return;
    unlink(tmp);
fail:
    fprintf(stderr, "libember: cannot write %s: %s\n", path, strerror(errno));
}

/* The allocation profile's file next to the CPU one: x.pb.gz → x.alloc.pb.gz. */
static void alloc_path(char *out, size_t size, const char *path)
{
    size_t n = strlen(path);
    if (!(A.conf.types & EMBER_PROFILE_CPU))
        snprintf(out, size, "%s", path);
    else if (n > 6 && !strcmp(path + n - 6, ".pb.gz"))
        snprintf(out, size, "%.*s.alloc.pb.gz", (int)(n - 6), path);
    else
        snprintf(out, size, "%s.alloc", path);
}

/* Encodes and ships (or, in output mode at the end, writes) the profiles of the period. */
static void emit(bool final)
{
    bool output = A.conf.output[0] != 0;
    if (output && !final)
        return; /* ember record: one profile of the whole run */
    int64_t t1 = wall_ns(), t0 = output ? A.run_start_ns : A.period_start_ns;
    symbols_refresh(&A.syms);
    uint8_t *data;
    size_t len;
    char target[3 * 4096 + 256];
    ingest_target(target, sizeof(target), t0, t1);
    if ((A.conf.types & EMBER_PROFILE_CPU) && (A.cpu.n > 0 || output) &&
        encode_cpu(t0, t1, &data, &len) == 0) {
        if (output) {
            write_file(A.conf.output, data, len);
            free(data);
        } else {
            upload_push(A.up, target, data, len);
        }
    }
    if ((A.conf.types & EMBER_PROFILE_ALLOC) && (A.mem.n > 0 || output) &&
        encode_mem(t0, t1, &data, &len) == 0) {
        if (output) {
            char path[600];
            alloc_path(path, sizeof(path), A.conf.output);
            write_file(path, data, len);
            free(data);
        } else {
            upload_push(A.up, target, data, len);
        }
    }
    agg_reset(&A.cpu);
    mem_rotate();
    A.period_start_ns = t1;
}

static void *collector(void *unused)
{
    (void)unused;
    alloc_exclude_thread();
    int64_t interval = (int64_t)A.conf.interval_s * 1000000000LL;
    int64_t next_upload = mono_ns() + interval, next_reap = mono_ns() + 1000000000LL;
    for (;;) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += DRAIN_NS;
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        while (sem_timedwait(&A.wake, &ts) != 0 && errno == EINTR)
            ;
        pthread_mutex_lock(&A.cmu);
        bool stop = A.stop_req;
        uint64_t flush = A.flush_req;
        pthread_mutex_unlock(&A.cmu);
        drain();
        int64_t now = mono_ns();
        if (now >= next_reap) {
            sampler_reap();
            next_reap = now + 1000000000LL;
        }
        if (stop) {
            drain();
            emit(true);
            pthread_mutex_lock(&A.cmu);
            break;
        }
        if (now >= next_upload || flush != A.flush_done) {
            emit(false);
            next_upload = now + interval;
        }
        if (flush != A.flush_done) {
            pthread_mutex_lock(&A.cmu);
            A.flush_done = flush;
            pthread_cond_broadcast(&A.ccv);
            pthread_mutex_unlock(&A.cmu);
        }
    }
    A.flush_done = A.flush_req;
    pthread_cond_broadcast(&A.ccv);
    pthread_mutex_unlock(&A.cmu);
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    A.st.collector_cpu_ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
    return NULL;
}

/* ---- lifecycle ---- */

static void atfork_prepare(void)
{
    pthread_mutex_lock(&A.mu);
    tags_atfork_prepare();
    sampler_atfork_prepare();
}

static void atfork_parent(void)
{
    sampler_atfork_parent();
    tags_atfork_parent();
    pthread_mutex_unlock(&A.mu);
}

static void atfork_child(void)
{
    sampler_atfork_child();
    tags_atfork_child();
    alloc_atfork_child();
    if (A.state == RUNNING)
        A.state = FORKED; /* no collector, no uploader here */
    /* the collector may have held these at fork: the child starts them afresh */
    pthread_mutex_init(&A.cmu, NULL);
    pthread_cond_init(&A.ccv, NULL);
    pthread_mutex_unlock(&A.mu);
}

static int start_locked(const conf_t *c)
{
    static bool atfork_done;
    if (A.state != OFF)
        return EMBER_EBUSY;
    if (c->output[0] && c->output_pid && c->output_pid != getpid())
        return EMBER_EINVAL; /* ember record: only the recorded process itself */
    if (!atfork_done) {
        if (pthread_atfork(atfork_prepare, atfork_parent, atfork_child) != 0)
            return EMBER_ESYS;
        atfork_done = true;
    }
    if (!A.ring_ready) {
        if (ring_init(&A.ring, RING_ORDER) || sem_init(&A.wake, 0, 0))
            return EMBER_ENOMEM;
        A.ring.wake = &A.wake;
        A.ring_ready = true;
    }
    A.conf = *c;
    agg_init(&A.cpu, MAX_STACKS);
    agg_init(&A.mem, MAX_STACKS);
    memset(&A.st, 0, sizeof(A.st));
    A.stop_req = false;
    A.flush_req = A.flush_done = 0;
    A.run_start_ns = A.period_start_ns = wall_ns();
    int rc = sampler_init(&A.ring, c);
    if (rc)
        return rc;
    /* timers first: the /proc/self/task scan must not see our own threads */
    if ((c->types & EMBER_PROFILE_CPU) && (rc = sampler_start(NULL, 0)))
        return rc;
    A.up = NULL;
    if (!c->output[0] && (rc = upload_new(&A.up, c, sampler__real_pthread_create, alloc_exclude_thread))) {
        sampler_stop();
        return rc;
    }
    if (sampler__real_pthread_create(&A.collector, collector, NULL) != 0) {
        sampler_stop();
        upload_stop(A.up, 0);
        return EMBER_ESYS;
    }
    if (c->types & EMBER_PROFILE_ALLOC)
        alloc_start(&A.ring, c->alloc_bytes);
    A.state = RUNNING;
    return 0;
}

EXPORT void ember_config_init(ember_config_t *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->version = EMBER_CONFIG_VERSION;
    cfg->server_address = "http://localhost:4040";
    cfg->sample_rate_hz = 100;
    cfg->upload_interval_s = 15;
    cfg->profile_types = EMBER_PROFILE_CPU;
    cfg->alloc_sample_bytes = 512 * 1024;
}

EXPORT int ember_start(const ember_config_t *cfg)
{
    conf_t c;
    char msg[256];
    if (conf_from_public(&c, cfg, msg, sizeof(msg))) {
        fprintf(stderr, "libember: %s\n", msg);
        return EMBER_EINVAL;
    }
    pthread_mutex_lock(&A.mu);
    int rc = start_locked(&c);
    pthread_mutex_unlock(&A.mu);
    return rc;
}

static void print_stats(void)
{
    agent_stats_t s = agent_stats();
    fprintf(stderr,
            "libember: cpu_samples=%llu alloc_samples=%llu ring_dropped=%llu "
            "stacks_dropped=%llu uploads_sent=%llu upload_failures=%llu uploads_dropped=%llu "
            "timer_failures=%llu alloc_untracked=%llu handler_calls=%llu handler_cpu_ns=%llu "
            "collector_cpu_ns=%llu\n",
            (unsigned long long)s.cpu_samples, (unsigned long long)s.alloc_samples,
            (unsigned long long)s.ring_dropped, (unsigned long long)s.stacks_dropped,
            (unsigned long long)s.uploads_sent, (unsigned long long)s.upload_failures,
            (unsigned long long)s.uploads_dropped, (unsigned long long)s.timer_failures,
            (unsigned long long)s.alloc_untracked, (unsigned long long)s.handler_calls,
            (unsigned long long)s.handler_ns, (unsigned long long)s.collector_cpu_ns);
}

EXPORT int ember_stop(void)
{
    pthread_mutex_lock(&A.mu);
    if (A.state != RUNNING) {
        pthread_mutex_unlock(&A.mu);
        return EMBER_ENOTRUNNING;
    }
    sampler_stop();
    alloc_stop();
    pthread_mutex_lock(&A.cmu);
    A.stop_req = true;
    pthread_mutex_unlock(&A.cmu);
    sem_post(&A.wake);
    pthread_join(A.collector, NULL);
    if (A.up) {
        upload_stats_t us = upload_stats(A.up);
        (void)us;
        upload_stop(A.up, STOP_UPLOAD_MS);
    }
    if (A.conf.debug)
        print_stats();
    A.up = NULL;
    agg_release(&A.cpu);
    agg_release(&A.mem);
    u64map_release(&A.live);
    A.state = OFF;
    pthread_mutex_unlock(&A.mu);
    return 0;
}

EXPORT int ember_flush(void)
{
    pthread_mutex_lock(&A.mu);
    if (A.state != RUNNING) {
        pthread_mutex_unlock(&A.mu);
        return EMBER_ENOTRUNNING;
    }
    pthread_mutex_lock(&A.cmu);
    uint64_t want = ++A.flush_req;
    sem_post(&A.wake);
    while (A.flush_done < want)
        pthread_cond_wait(&A.ccv, &A.cmu);
    pthread_mutex_unlock(&A.cmu);
    pthread_mutex_unlock(&A.mu);
    return 0;
}

EXPORT int ember_tag_push(const char *key, const char *value)
{
    return tags_push(key, value);
}

EXPORT void ember_tag_pop(void)
{
    tags_pop();
}

EXPORT const char *ember_strerror(int code)
{
    switch (code) {
    case EMBER_OK: return "ok";
    case EMBER_EINVAL: return "invalid argument";
    case EMBER_EBUSY: return "profiler already running";
    case EMBER_ENOMEM: return "out of memory";
    case EMBER_ESYS: return "system call failed";
    case EMBER_ENOTRUNNING: return "profiler not running";
    case EMBER_ELIMIT: return "limit reached";
    default: return "unknown error";
    }
}

agent_stats_t agent_stats(void)
{
    agent_stats_t s = A.st;
    s.ring_dropped = A.ring_ready ? atomic_load(&A.ring.dropped) : 0;
    s.stacks_dropped = A.cpu.dropped + A.mem.dropped;
    if (A.up) {
        upload_stats_t us = upload_stats(A.up);
        s.uploads_sent = us.sent;
        s.uploads_dropped = us.dropped;
        s.upload_failures = us.failed_attempts + us.rejected;
    }
    s.timer_failures = sampler_timer_failures();
    s.alloc_untracked = alloc_untracked();
    sampler_handler_cost(&s.handler_ns, &s.handler_calls);
    return s;
}

/* ---- LD_PRELOAD mode ---- */

static const char *env_get(const char *name, void *arg)
{
    (void)arg;
    return getenv(name);
}

__attribute__((constructor)) static void agent_ctor(void)
{
    if (!conf_env_wanted(env_get, NULL))
        return;
    conf_t c;
    char msg[256];
    conf_defaults(&c);
    if (conf_from_env(&c, env_get, NULL, msg, sizeof(msg))) {
        fprintf(stderr, "libember: %s; profiling is off\n", msg);
        return;
    }
    pthread_mutex_lock(&A.mu);
    int rc = start_locked(&c);
    if (rc == 0)
        A.from_env = true;
    pthread_mutex_unlock(&A.mu);
    if (rc && !(rc == EMBER_EINVAL && c.output_pid))
        fprintf(stderr, "libember: cannot start: %s; profiling is off\n", ember_strerror(rc));
}

__attribute__((destructor)) static void agent_dtor(void)
{
    if (A.state == RUNNING)
        ember_stop();
}
