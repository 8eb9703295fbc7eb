/* CPU-bound workloads for bench/agent_overhead.sh (profiler overhead, issue 7). Each runs a
 * fixed amount of work and prints "wall_ms=<ms> cpu_ms=<ms> check=<n>", where cpu_ms is the
 * CPU time of the whole process (every thread: a profiler's own threads count against it).
 *   agent_work zlib N    compress and uncompress a 1 MiB semi-random buffer N times (zlib)
 *   agent_work hash N    N rounds of inserts/lookups/deletes in an open-addressing table
 *   agent_work alloc N   N rounds of building and freeing a 20,000-node tree of mallocs
 * Built by the bench script itself: gcc -O2 -fno-omit-frame-pointer agent_work.c -lz. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <zlib.h>

static uint64_t rng = 88172645463325252ull;

static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

__attribute__((noinline)) static uint64_t work_zlib(int n)
{
    size_t len = 1 << 20;
    unsigned char *src = malloc(len), *dst = malloc(compressBound(len)), *back = malloc(len);
    for (size_t i = 0; i < len; i++) /* compressible: a small alphabet with runs */
        src[i] = (unsigned char)("abcdefgh"[next() % 8] + (i % 97 == 0));
    uint64_t check = 0;
    for (int r = 0; r < n; r++) {
        uLongf dl = compressBound(len), bl = len;
        compress2(dst, &dl, src, len, 6);
        uncompress(back, &bl, dst, dl);
        check += dl + back[r % len];
    }
    free(src);
    free(dst);
    free(back);
    return check;
}

#define HBITS 20
__attribute__((noinline)) static int hash_find(const uint64_t *keys, uint64_t k)
{
    size_t mask = (1u << HBITS) - 1, i = (k * 0x9E3779B97F4A7C15ull) >> (64 - HBITS);
    for (;; i = (i + 1) & mask) {
        if (keys[i] == k)
            return (int)i;
        if (keys[i] == 0)
            return -1 - (int)i;
    }
}

__attribute__((noinline)) static uint64_t work_hash(int n)
{
    uint64_t *keys = calloc(1u << HBITS, sizeof(uint64_t));
    uint64_t check = 0;
    for (int r = 0; r < n; r++) {
        memset(keys, 0, (1u << HBITS) * sizeof(uint64_t));
        for (int i = 0; i < 400000; i++) {
            uint64_t k = (next() % 600000) + 1;
            int at = hash_find(keys, k);
            if (at < 0)
                keys[-1 - at] = k;
            else
                check++;
        }
    }
    free(keys);
    return check;
}

typedef struct node {
    struct node *l, *r;
    char pad[];
} node_t;

__attribute__((noinline)) static node_t *build(int depth)
{
    node_t *t = malloc(sizeof(node_t) + 8 + next() % 200);
    t->l = depth ? build(depth - 1) : NULL;
    t->r = depth ? build(depth - 1) : NULL;
    return t;
}

__attribute__((noinline)) static uint64_t drop(node_t *t)
{
    if (!t)
        return 0;
    uint64_t n = 1 + drop(t->l) + drop(t->r);
    free(t);
    return n;
}

__attribute__((noinline)) static uint64_t work_alloc(int n)
{
    uint64_t check = 0;
    for (int r = 0; r < n; r++)
        check += drop(build(14)); /* 32,767 nodes */
    return check;
}

static double now_ms(clockid_t c)
{
    struct timespec ts;
    clock_gettime(c, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
    if (argc < 3)
        return 2;
    int n = atoi(argv[2]);
    double w0 = now_ms(CLOCK_MONOTONIC);
    uint64_t check = !strcmp(argv[1], "zlib")   ? work_zlib(n)
                     : !strcmp(argv[1], "hash") ? work_hash(n)
                                                : work_alloc(n);
    double w1 = now_ms(CLOCK_MONOTONIC);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double cpu = ru.ru_utime.tv_sec * 1e3 + ru.ru_utime.tv_usec / 1e3 + ru.ru_stime.tv_sec * 1e3 +
                 ru.ru_stime.tv_usec / 1e3;
    printf("wall_ms=%.1f cpu_ms=%.1f check=%llu\n", w1 - w0, cpu, (unsigned long long)check);
    return 0;
}
