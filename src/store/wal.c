/* WAL: append + group commit + replay with torn-tail truncation. See wal.h for the format
 * and invariants. */
#include "store/wal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#include <zlib.h>

#include "base/log.h"
#include "base/mem.h"
#include "store/fsutil.h"

static const char WAL_MAGIC[8] = {'E', 'M', 'B', 'W', 'A', 'L', '0', '1'};

struct wal {
    int fd;
    char *dir;               /* <storage>/wal */
    uint64_t segment;        /* active segment number */
    uint64_t first;          /* oldest segment still on disk */
    bool fsync_enabled;
    pthread_mutex_t mu;      /* guards writes and `written` */
    pthread_mutex_t sync_mu; /* one syncer at a time */
    uint64_t written;        /* last sequence written */
    _Atomic uint64_t synced; /* last sequence known durable */
    _Atomic uint64_t fsyncs;
    _Atomic uint64_t bytes;
    char *path;
};

static int write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n) {
        ssize_t w = write(fd, c, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void wr32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

/* Reads the whole file, replays good records, returns the offset after the last one. */
static int replay(wal_t *w, off_t *good_end, size_t *nrec, wal_replay_fn fn, void *arg,
                  err_t *err)
/* replays the segment open in w->fd (w->path, number w->segment) */
{
    struct stat st;
    if (fstat(w->fd, &st) < 0)
        return err_set(err, EMB_EIO, "wal: stat %s: %s", w->path, strerror(errno));
    size_t size = (size_t)st.st_size;
    *nrec = 0;
    if (size == 0) {
        *good_end = 0;
        return 0;
    }
    uint8_t *data = xmalloc(size);
    size_t got = 0;
    while (got < size) {
        ssize_t r = pread(w->fd, data + got, size - got, (off_t)got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            free(data);
            return err_set(err, EMB_EIO, "wal: read %s: %s", w->path,
                           r < 0 ? strerror(errno) : "short read");
        }
        got += (size_t)r;
    }
    int rc = 0;
    size_t pos = 0;
    if (size < sizeof(WAL_MAGIC) || memcmp(data, WAL_MAGIC, sizeof(WAL_MAGIC)) != 0) {
        if (size >= sizeof(WAL_MAGIC)) {
            free(data);
            return err_set(err, EMB_ECORRUPT, "wal: %s is not an Ember WAL (bad magic)",
                           w->path);
        }
        log_warn("wal: %s shorter than its header; starting it again", w->path);
        *good_end = 0;
        free(data);
        return 0;
    }
    pos = sizeof(WAL_MAGIC);
    while (pos < size) {
        if (size - pos < 8)
            break;
        uint32_t len = rd32(data + pos), crc = rd32(data + pos + 4);
        if (len == 0 || len > WAL_MAX_RECORD || len > size - pos - 8)
            break;
        if ((uint32_t)crc32(0, data + pos + 8, len) != crc)
            break;
        rc = fn ? fn(data + pos + 8, len, w->segment, arg) : 0;
        if (rc) {
            err_prefix(err, "wal: replaying record at offset %zu", pos);
            break;
        }
        pos += 8 + len;
        (*nrec)++;
    }
    if (rc == 0 && pos < size)
        log_warn("wal: dropping torn tail of %s: %zu bytes after offset %zu (last %zu good "
                 "records kept)", w->path, size - pos, pos, *nrec);
    *good_end = (off_t)pos;
    free(data);
    return rc;
}

static void seg_path(const wal_t *w, uint64_t seg, char *out, size_t n)
{
    snprintf(out, n, "%s/wal-%08llu.log", w->dir, (unsigned long long)seg);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Opens segment seg, replays it and truncates a torn tail; leaves fd positioned at its end. */
static int open_segment(wal_t *w, uint64_t seg, wal_replay_fn fn, void *arg, size_t *nrec,
                        err_t *err)
{
    char path[4096];
    seg_path(w, seg, path, sizeof(path));
    free(w->path);
    w->path = xstrdup(path);
    w->segment = seg;
    w->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (w->fd < 0)
        return err_set(err, EMB_EIO, "wal: open %s: %s", path, strerror(errno));
    off_t end = 0;
    int rc = replay(w, &end, nrec, fn, arg, err);
    if (rc)
        return rc;
    if (end == 0) {
        if (ftruncate(w->fd, 0) < 0 || pwrite(w->fd, WAL_MAGIC, 8, 0) != 8)
            return err_set(err, EMB_EIO, "wal: init %s: %s", path, strerror(errno));
        end = 8;
    } else if (ftruncate(w->fd, end) < 0) {
        return err_set(err, EMB_EIO, "wal: truncate %s: %s", path, strerror(errno));
    }
    if (lseek(w->fd, end, SEEK_SET) < 0 || (w->fsync_enabled && fsync(w->fd) < 0))
        return err_set(err, EMB_EIO, "wal: %s: %s", path, strerror(errno));
    return 0;
}

int wal_open(wal_t **out, const char *dir, bool fsync_enabled, wal_replay_fn fn, void *arg,
             err_t *err)
{
    *out = NULL;
    char wdir[4096];
    snprintf(wdir, sizeof(wdir), "%s/wal", dir);
    if (fs_mkdir_p(wdir, err))
        return err_prefix(err, "wal");
    wal_t *w = xcalloc(1, sizeof(*w));
    w->fd = -1;
    w->fsync_enabled = fsync_enabled;
    w->dir = xstrdup(wdir);
    pthread_mutex_init(&w->mu, NULL);
    pthread_mutex_init(&w->sync_mu, NULL);
    /* find segments */
    uint64_t *segs = NULL;
    size_t nsegs = 0, cap = 0;
    DIR *d = opendir(wdir);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        unsigned long long n;
        char tail[8];
        if (sscanf(e->d_name, "wal-%8llu.%3s", &n, tail) == 2 && !strcmp(tail, "log") &&
            strlen(e->d_name) == 16 && n > 0) {
            xgrow(&segs, &cap, nsegs + 1, sizeof(*segs));
            segs[nsegs++] = n;
        }
    }
    if (d)
        closedir(d);
    if (nsegs) /* qsort(NULL, 0, ...) is undefined behaviour (UBSan) */
        qsort(segs, nsegs, sizeof(*segs), cmp_u64);
    int rc = 0;
    size_t total = 0;
    for (size_t i = 0; rc == 0 && i < nsegs; i++) {
        size_t nrec = 0;
        if (w->fd >= 0)
            close(w->fd);
        rc = open_segment(w, segs[i], fn, arg, &nrec, err);
        total += nrec;
    }
    if (rc == 0 && nsegs == 0) {
        size_t nrec;
        rc = open_segment(w, 1, fn, arg, &nrec, err);
    }
    w->first = nsegs ? segs[0] : 1;
    free(segs);
    if (rc) {
        wal_close(w);
        return rc;
    }
    /* Make the file's directory entry durable too. */
    if (fsync_enabled)
        (void)fs_fsync_dir(wdir, NULL);
    log_info("wal: %s opened, %zu records replayed from %zu segments", wdir, total,
             nsegs ? nsegs : 1);
    *out = w;
    return 0;
}

int wal_rotate(wal_t *w, uint64_t *closed, err_t *err)
{
    pthread_mutex_lock(&w->mu);
    int rc = 0;
    if (w->fsync_enabled && fdatasync(w->fd) < 0)
        rc = err_set(err, EMB_EIO, "wal: fdatasync: %s", strerror(errno));
    uint64_t old = w->segment;
    int old_fd = w->fd;
    if (rc == 0) {
        size_t nrec;
        w->fd = -1;
        rc = open_segment(w, old + 1, NULL, NULL, &nrec, err);
        if (rc) {
            if (w->fd >= 0)
                close(w->fd);
            w->fd = old_fd;
            w->segment = old;
        } else {
            close(old_fd);
            atomic_store(&w->synced, w->written);
            *closed = old;
            if (w->fsync_enabled)
                (void)fs_fsync_dir(w->dir, NULL);
        }
    }
    pthread_mutex_unlock(&w->mu);
    return rc;
}

int wal_remove_upto(wal_t *w, uint64_t upto, err_t *err)
{
    pthread_mutex_lock(&w->mu);
    int rc = 0;
    for (uint64_t s = w->first; s <= upto && s < w->segment; s++) {
        char path[4096];
        seg_path(w, s, path, sizeof(path));
        if (unlink(path) < 0 && errno != ENOENT) {
            rc = err_set(err, EMB_EIO, "wal: remove %s: %s", path, strerror(errno));
            break;
        }
        w->first = s + 1;
    }
    pthread_mutex_unlock(&w->mu);
    return rc;
}

uint64_t wal_first_segment(wal_t *w)
{
    pthread_mutex_lock(&w->mu);
    uint64_t f = w->first;
    pthread_mutex_unlock(&w->mu);
    return f;
}

uint64_t wal_active_segment(wal_t *w)
{
    pthread_mutex_lock(&w->mu);
    uint64_t f = w->segment;
    pthread_mutex_unlock(&w->mu);
    return f;
}

int wal_append(wal_t *w, const uint8_t *payload, size_t len, uint64_t *seq, err_t *err)
{
    if (len == 0 || len > WAL_MAX_RECORD)
        return err_set(err, EMB_ETOOBIG, "wal: record of %zu bytes", len);
    uint8_t hdr[8];
    wr32(hdr, (uint32_t)len);
    wr32(hdr + 4, (uint32_t)crc32(0, payload, (uInt)len));
    pthread_mutex_lock(&w->mu);
    off_t start = lseek(w->fd, 0, SEEK_CUR);
    int rc = 0;
    /* One syscall for header and payload; fall back to plain writes on a short write. */
    struct iovec iov[2] = {{hdr, 8}, {(void *)payload, len}};
    ssize_t wr;
    do
        wr = writev(w->fd, iov, 2);
    while (wr < 0 && errno == EINTR);
    bool ok = wr == (ssize_t)(len + 8);
    if (!ok && wr >= 0) {
        size_t done = (size_t)wr;
        ok = (done >= 8 || write_all(w->fd, hdr + done, 8 - done) == 0) &&
             write_all(w->fd, payload + (done > 8 ? done - 8 : 0), len - (done > 8 ? done - 8 : 0)) == 0;
    }
    if (!ok) {
        rc = err_set(err, EMB_EIO, "wal: write: %s", strerror(errno));
        /* Roll back a partial record so later appends stay readable. */
        if (start >= 0 && ftruncate(w->fd, start) == 0)
            (void)lseek(w->fd, start, SEEK_SET);
    } else {
        *seq = ++w->written;
        atomic_fetch_add(&w->bytes, len + 8);
    }
    pthread_mutex_unlock(&w->mu);
    return rc;
}

int wal_sync(wal_t *w, uint64_t seq, err_t *err)
{
    if (atomic_load(&w->synced) >= seq)
        return 0;
    pthread_mutex_lock(&w->sync_mu);
    int rc = 0;
    if (atomic_load(&w->synced) < seq) {
        pthread_mutex_lock(&w->mu);
        uint64_t target = w->written;
        pthread_mutex_unlock(&w->mu);
        if (w->fsync_enabled && fdatasync(w->fd) < 0)
            rc = err_set(err, EMB_EIO, "wal: fdatasync: %s", strerror(errno));
        else {
            atomic_store(&w->synced, target);
            atomic_fetch_add(&w->fsyncs, 1);
        }
    }
    pthread_mutex_unlock(&w->sync_mu);
    return rc;
}

uint64_t wal_fsyncs(const wal_t *w) { return atomic_load(&((wal_t *)w)->fsyncs); }
uint64_t wal_bytes(const wal_t *w) { return atomic_load(&((wal_t *)w)->bytes); }

void wal_close(wal_t *w)
{
    if (!w)
        return;
    if (w->fd >= 0)
        close(w->fd);
    pthread_mutex_destroy(&w->mu);
    pthread_mutex_destroy(&w->sync_mu);
    free(w->path);
    free(w->dir);
    free(w);
}
