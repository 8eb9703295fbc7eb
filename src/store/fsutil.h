/* File-system helpers for durable writes: every file written here is fsynced, and
 * directories are fsynced after entries change, so a rename is a commit point. */
#ifndef EMBER_STORE_FSUTIL_H
#define EMBER_STORE_FSUTIL_H

#include <stddef.h>

#include "base/err.h"

int fs_mkdir_p(const char *dir, err_t *err);
/* Creates dir/name with data and fsyncs it. */
int fs_write_file(const char *dir, const char *name, const void *data, size_t len, err_t *err);
int fs_fsync_dir(const char *dir, err_t *err);
/* rm -rf; errors are logged, not returned (used on cleanup paths). */
void fs_remove_tree(const char *path);
/* Reads a whole file into *out (malloc'd, NUL-terminated). */
int fs_read_file(char **out, size_t *len, const char *path, err_t *err);

#endif
