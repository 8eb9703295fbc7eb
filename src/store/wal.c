/* WAL: append + group commit + replay with torn-tail truncation. See wal.h for the format
 * and invariants. */
#include "store/wal.h"

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

static const char WAL_MAGIC[8] = {'E', 'M', 'B', 'W', 'A', 'L', '0', '1'};

struct wal {
    int fd;
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

static int mkdir_p(const char *dir)
{
    char tmp[4096];
    size_t n = strlen(dir);
    if (n >= sizeof(tmp))
        return -1;
    memcpy(tmp, dir, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (tmp[i] == '/' || tmp[i] == 0) {
            char c = tmp[i];
            tmp[i] = 0;
            if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
                return -1;
            tmp[i] = c;
        }
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
        rc = fn ? fn(data + pos + 8, len, arg) : 0;
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

int wal_open(wal_t **out, const char *dir, bool fsync_enabled, wal_replay_fn fn, void *arg,
             err_t *err)
{
    *out = NULL;
    char wdir[4096];
    snprintf(wdir, sizeof(wdir), "%s/wal", dir);
    if (mkdir_p(wdir) < 0)
        return err_set(err, EMB_EIO, "wal: mkdir %s: %s", wdir, strerror(errno));
    wal_t *w = xcalloc(1, sizeof(*w));
    w->fsync_enabled = fsync_enabled;
    size_t plen = strlen(wdir) + 32;
    w->path = xmalloc(plen);
    snprintf(w->path, plen, "%s/wal-00000001.log", wdir);
    w->fd = open(w->path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (w->fd < 0) {
        int e = errno;
        free(w->path);
        free(w);
        return err_set(err, EMB_EIO, "wal: open %s/wal-00000001.log: %s", wdir, strerror(e));
    }
    pthread_mutex_init(&w->mu, NULL);
    pthread_mutex_init(&w->sync_mu, NULL);
    off_t end = 0;
    size_t nrec = 0;
    int rc = replay(w, &end, &nrec, fn, arg, err);
    if (rc) {
        wal_close(w);
        return rc;
    }
    if (end == 0) {
        if (ftruncate(w->fd, 0) < 0 || pwrite(w->fd, WAL_MAGIC, 8, 0) != 8) {
            rc = err_set(err, EMB_EIO, "wal: init %s: %s", w->path, strerror(errno));
            wal_close(w);
            return rc;
        }
        end = 8;
    } else if (ftruncate(w->fd, end) < 0) {
        rc = err_set(err, EMB_EIO, "wal: truncate %s: %s", w->path, strerror(errno));
        wal_close(w);
        return rc;
    }
    if (lseek(w->fd, end, SEEK_SET) < 0 || (fsync_enabled && fsync(w->fd) < 0)) {
        rc = err_set(err, EMB_EIO, "wal: %s: %s", w->path, strerror(errno));
        wal_close(w);
        return rc;
    }
    /* Make the file's directory entry durable too. */
    int dfd = open(wdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        if (fsync_enabled)
            (void)fsync(dfd);
        close(dfd);
    }
    log_info("wal: %s opened, %zu records replayed", w->path, nrec);
    *out = w;
    return 0;
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
    free(w);
}
