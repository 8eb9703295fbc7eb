/* Shared benchmark pieces: see benchlib.h. */
#include "benchlib.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <malloc.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/gz.h"

void bench_die(const char *what)
{
    fprintf(stderr, "bench: %s\n", what);
    exit(1);
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(((const bench_file_t *)a)->name, ((const bench_file_t *)b)->name);
}

static bool get_uv(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
    *v = 0;
    for (int shift = 0; shift < 64 && *p < end; shift += 7) {
        uint8_t c = *(*p)++;
        *v |= (uint64_t)(c & 0x7f) << shift;
        if (!(c & 0x80))
            return true;
    }
    return false;
}

/* Removes the top-level time_nanos fields (9) of a profile in place; returns the new length
 * (0 if the message does not parse). `go tool pprof` rejects a profile with two of them
 * ("concatenated profiles detected"), so the new one replaces rather than follows. */
static size_t drop_time_nanos(uint8_t *msg, size_t len)
{
    const uint8_t *p = msg, *end = msg + len;
    size_t out = 0;
    while (p < end) {
        const uint8_t *start = p;
        uint64_t key, v;
        if (!get_uv(&p, end, &key))
            return 0;
        switch (key & 7) {
        case 0:
            if (!get_uv(&p, end, &v))
                return 0;
            break;
        case 1: p += 8; break;
        case 5: p += 4; break;
        case 2:
            if (!get_uv(&p, end, &v) || v > (uint64_t)(end - p))
                return 0;
            p += v;
            break;
        default: return 0;
        }
        if (p > end)
            return 0;
        if (key >> 3 != 9) {
            memmove(msg + out, start, (size_t)(p - start));
            out += (size_t)(p - start);
        }
    }
    return out;
}

size_t bench_load_corpus(bench_file_t **out, const char *dir, const char *prefix)
{
    bench_file_t *files = NULL;
    size_t nfiles = 0;
    DIR *d = opendir(dir);
    if (!d) {
        perror(dir);
        exit(1);
    }
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strncmp(e->d_name, prefix, strlen(prefix)) || !strstr(e->d_name, ".pb.gz"))
            continue;
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        FILE *f = fopen(path, "rb");
        if (!f)
            continue;
        fseek(f, 0, SEEK_END);
        long n = ftell(f);
        fseek(f, 0, SEEK_SET);
        uint8_t *gz = malloc((size_t)n + 1);
        size_t got = fread(gz, 1, (size_t)n, f);
        fclose(f);
        buf_t raw = BUF_INIT;
        err_t err;
        if (gz_decompress(&raw, gz, got, 0, &err))
            bench_die(err.msg);
        files = realloc(files, (nfiles + 1) * sizeof(*files));
        bench_file_t *fl = &files[nfiles++];
        snprintf(fl->name, sizeof(fl->name), "%s", e->d_name);
        fl->gz = gz;
        fl->gz_len = got;
        fl->raw = (uint8_t *)buf_detach(&raw, &fl->raw_len);
        fl->raw_len = drop_time_nanos(fl->raw, fl->raw_len);
        if (fl->raw_len == 0)
            bench_die("corpus file is not a protobuf message");
    }
    closedir(d);
    if (!nfiles) {
        fprintf(stderr, "no %s*.pb.gz files in %s\n", prefix, dir);
        exit(1);
    }
    qsort(files, nfiles, sizeof(*files), cmp_name);
    *out = files;
    return nfiles;
}

void bench_with_time(buf_t *out, const bench_file_t *f, int64_t ts_ns)
{
    uint8_t *tmp = malloc(f->raw_len + 16);
    memcpy(tmp, f->raw, f->raw_len);
    size_t n = f->raw_len;
    tmp[n++] = 9 << 3;
    uint64_t x = (uint64_t)ts_ns;
    while (x >= 0x80) {
        tmp[n++] = (uint8_t)(x | 0x80);
        x >>= 7;
    }
    tmp[n++] = (uint8_t)x;
    err_t err;
    if (gz_compress(out, tmp, n, 1, &err))
        bench_die(err.msg);
    free(tmp);
}

int bench_connect(int port)
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

static void write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n) {
        ssize_t w = write(fd, c, n);
        if (w <= 0) {
            perror("write");
            exit(1);
        }
        c += w;
        n -= (size_t)w;
    }
}

int bench_http(int fd, const char *method, const char *target, const uint8_t *body,
                size_t len, buf_t *resp_body)
{
    char hdr[1024];
    int n = snprintf(hdr, sizeof(hdr), "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     "Content-Length: %zu\r\nContent-Type: application/octet-stream\r\n\r\n",
                     method, target, len);
    write_all(fd, hdr, (size_t)n);
    if (len)
        write_all(fd, body, len);
    buf_t in = BUF_INIT;
    size_t need = 0, hdr_end = 0;
    for (;;) {
        char *t = buf_reserve(&in, 65536);
        if (!t)
            bench_die("out of memory");
        ssize_t r = read(fd, t, 65536);
        if (r <= 0)
            bench_die("connection closed");
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
        bench_die("out of memory");
    buf_release(&in);
    return status;
}

long bench_status_kb(int pid, const char *key)
{
    char path[64], line[256];
    snprintf(path, sizeof(path), "/proc/%d/status", pid);
    FILE *f = fopen(path, "r");
    long kb = -1;
    size_t kl = strlen(key);
    while (f && fgets(line, sizeof(line), f))
        if (!strncmp(line, key, kl) && line[kl] == ':')
            kb = strtol(line + kl + 1, NULL, 10);
    if (f)
        fclose(f);
    return kb;
}

int bench_cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}


void bench_malloc_like_server(void)
{
    mallopt(M_MMAP_THRESHOLD, 64 << 20);
    mallopt(M_TRIM_THRESHOLD, 256 << 20);
}
