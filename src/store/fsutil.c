/* fsutil: see fsutil.h. */
#include "store/fsutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/log.h"
#include "base/mem.h"

int fs_mkdir_p(const char *dir, err_t *err)
{
    char tmp[4096];
    size_t n = strlen(dir);
    if (n >= sizeof(tmp))
        return err_set(err, EMB_EIO, "path too long: %s", dir);
    memcpy(tmp, dir, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (tmp[i] == '/' || tmp[i] == 0) {
            char c = tmp[i];
            tmp[i] = 0;
            if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
                return err_set(err, EMB_EIO, "mkdir %s: %s", tmp, strerror(errno));
            tmp[i] = c;
        }
    }
    return 0;
}

int fs_write_file(const char *dir, const char *name, const void *data, size_t len, err_t *err)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return err_set(err, EMB_EIO, "create %s: %s", path, strerror(errno));
    const char *p = data;
    size_t left = len;
    while (left) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            int e = errno;
            close(fd);
            return err_set(err, EMB_EIO, "write %s: %s", path, strerror(e));
        }
        p += w;
        left -= (size_t)w;
    }
    if (fsync(fd) < 0) {
        int e = errno;
        close(fd);
        return err_set(err, EMB_EIO, "fsync %s: %s", path, strerror(e));
    }
    close(fd);
    return 0;
}

int fs_fsync_dir(const char *dir, err_t *err)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return err_set(err, EMB_EIO, "open dir %s: %s", dir, strerror(errno));
    int rc = fsync(fd) < 0 ? err_set(err, EMB_EIO, "fsync dir %s: %s", dir, strerror(errno)) : 0;
    close(fd);
    return rc;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    if (remove(path) < 0 && errno != ENOENT)
        log_warn("cannot remove %s: %s", path, strerror(errno));
    return 0;
}

void fs_remove_tree(const char *path)
{
    nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

int fs_read_file(char **out, size_t *len, const char *path, err_t *err)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return err_set(err, errno == ENOENT ? EMB_ENOTFOUND : EMB_EIO, "open %s: %s", path,
                       strerror(errno));
    buf_t b = BUF_INIT;
    int rc = 0;
    for (;;) {
        char *t = buf_reserve(&b, 65536);
        size_t n = fread(t, 1, 65536, f);
        buf_setlen(&b, b.len + n);
        if (n < 65536) {
            if (ferror(f))
                rc = err_set(err, EMB_EIO, "read %s", path);
            break;
        }
    }
    fclose(f);
    if (rc) {
        buf_release(&b);
        return rc;
    }
    *out = buf_detach(&b, len);
    return 0;
}
