/* Shared pieces of Ember's benchmark programs: the Go pprof corpus (loaded, re-timed and
 * re-gzipped), a minimal HTTP/1.1 keep-alive client for 127.0.0.1, and /proc readings.
 * Benchmarks exit on any failure (bench_die), so nothing here returns errors. */
#ifndef EMBER_BENCH_BENCHLIB_H
#define EMBER_BENCH_BENCHLIB_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"

typedef struct bench_file {
    char name[256];
    uint8_t *gz;  /* the file as written by runtime/pprof */
    size_t gz_len;
    uint8_t *raw; /* decompressed, time_nanos removed */
    size_t raw_len;
} bench_file_t;

/* Prints what and exits 1. */
void bench_die(const char *what) __attribute__((noreturn));

/* The server's allocator settings (server/server.c: big buffers stay on the heap instead of
 * being mmap'ed and faulted in per request), so in-process figures match the server's. */
void bench_malloc_like_server(void);

/* Loads DIR/<prefix>*.pb.gz sorted by name (prefix "" = all). OUT: *out (owned, never
 * freed: benchmarks exit). Exits if there are none. */
size_t bench_load_corpus(bench_file_t **out, const char *dir, const char *prefix);

/* Appends f's profile with time_nanos = ts_ns, gzipped at level 1 (what runtime/pprof uses). */
void bench_with_time(buf_t *out, const bench_file_t *f, int64_t ts_ns);

/* A TCP_NODELAY connection to 127.0.0.1:port. */
int bench_connect(int port);

/* One request on a keep-alive connection; returns the status; the body goes to resp_body
 * (may be NULL). */
int bench_http(int fd, const char *method, const char *target, const uint8_t *body, size_t len,
               buf_t *resp_body);

/* A "Key: N kB" value of /proc/PID/status (VmRSS, VmHWM), or -1. */
long bench_status_kb(int pid, const char *key);

int bench_cmp_i64(const void *a, const void *b);

#endif
