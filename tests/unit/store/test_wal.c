/* Tests for store/wal: replay order, torn tails dropped (and appends continue after the last
 * good record), corrupt CRC stops replay, bad magic refused. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/wal.h"

typedef struct seen {
    int n;
    char last[64];
    uint64_t last_segment;
} seen_t;

static int collect(const uint8_t *p, size_t len, uint64_t segment, void *arg)
{
    seen_t *s = arg;
    s->n++;
    s->last_segment = segment;
    snprintf(s->last, sizeof(s->last), "%.*s", (int)len, (const char *)p);
    return 0;
}

static char dir_buf[4096];

/* A fresh directory under $TMPDIR, removed again by cleanup(). */
static char *tmpdir(void)
{
    const char *base = getenv("TMPDIR");
    snprintf(dir_buf, sizeof(dir_buf), "%s/ember-wal-XXXXXX", base && *base ? base : "/tmp");
    cr_assert_not_null(mkdtemp(dir_buf));
    return dir_buf;
}

static void cleanup(void)
{
    if (dir_buf[0]) {
        char cmd[4200];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir_buf);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", dir_buf);
        dir_buf[0] = 0;
    }
}

static void append_n(wal_t *w, int from, int n)
{
    for (int i = from; i < from + n; i++) {
        char rec[32];
        int len = snprintf(rec, sizeof(rec), "record-%d", i);
        uint64_t seq;
        err_t err;
        cr_assert_eq(wal_append(w, (const uint8_t *)rec, (size_t)len, &seq, &err), 0);
        cr_assert_eq(wal_sync(w, seq, &err), 0);
    }
}

static off_t wal_size(const char *dir)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/wal/wal-00000001.log", dir);
    struct stat st;
    cr_assert_eq(stat(path, &st), 0);
    return st.st_size;
}

Test(wal, replays_every_record_in_order, .fini = cleanup)
{
    char *dir = tmpdir();
    wal_t *w;
    err_t err;
    cr_assert_eq(wal_open(&w, dir, true, NULL, NULL, &err), 0);
    append_n(w, 0, 100);
    cr_assert_geq(wal_fsyncs(w), 1);
    wal_close(w);
    seen_t s = {0, "", 0};
    cr_assert_eq(wal_open(&w, dir, true, collect, &s, &err), 0);
    cr_assert_eq(s.n, 100);
    cr_assert_str_eq(s.last, "record-99");
    wal_close(w);
}

Test(wal, torn_tail_is_dropped_and_appends_continue, .fini = cleanup)
{
    char *dir = tmpdir();
    wal_t *w;
    err_t err;
    cr_assert_eq(wal_open(&w, dir, true, NULL, NULL, &err), 0);
    append_n(w, 0, 10);
    wal_close(w);
    off_t good = wal_size(dir);
    /* a crash mid-append: header says 100 bytes, only 5 arrived */
    char path[256];
    snprintf(path, sizeof(path), "%s/wal/wal-00000001.log", dir);
    int fd = open(path, O_WRONLY | O_APPEND);
    const uint8_t torn[] = {100, 0, 0, 0, 1, 2, 3, 4, 'a', 'b', 'c', 'd', 'e'};
    cr_assert_eq(write(fd, torn, sizeof(torn)), (ssize_t)sizeof(torn));
    close(fd);
    seen_t s = {0, "", 0};
    cr_assert_eq(wal_open(&w, dir, true, collect, &s, &err), 0);
    cr_assert_eq(s.n, 10);
    cr_assert_eq(wal_size(dir), good);
    append_n(w, 10, 1);
    wal_close(w);
    s.n = 0;
    cr_assert_eq(wal_open(&w, dir, true, collect, &s, &err), 0);
    cr_assert_eq(s.n, 11);
    cr_assert_str_eq(s.last, "record-10");
    wal_close(w);
}

Test(wal, flipped_payload_byte_stops_replay_at_that_record, .fini = cleanup)
{
    char *dir = tmpdir();
    wal_t *w;
    err_t err;
    cr_assert_eq(wal_open(&w, dir, true, NULL, NULL, &err), 0);
    append_n(w, 0, 3);
    wal_close(w);
    char path[256];
    snprintf(path, sizeof(path), "%s/wal/wal-00000001.log", dir);
    int fd = open(path, O_RDWR);
    /* header 8 + record 0 (8 + 8 bytes) + record 1 header 8 → first payload byte of record 1 */
    uint8_t c = 'X';
    cr_assert_eq(pwrite(fd, &c, 1, 8 + 16 + 8), 1);
    close(fd);
    seen_t s = {0, "", 0};
    cr_assert_eq(wal_open(&w, dir, true, collect, &s, &err), 0);
    cr_assert_eq(s.n, 1);
    wal_close(w);
}

Test(wal, refuses_a_file_that_is_not_a_wal, .fini = cleanup)
{
    char *dir = tmpdir();
    char path[256];
    snprintf(path, sizeof(path), "%s/wal", dir);
    mkdir(path, 0755);
    snprintf(path, sizeof(path), "%s/wal/wal-00000001.log", dir);
    FILE *f = fopen(path, "w");
    fputs("this is not a write-ahead log", f);
    fclose(f);
    wal_t *w;
    err_t err;
    cr_assert_eq(wal_open(&w, dir, true, NULL, NULL, &err), EMB_ECORRUPT);
    cr_assert(strstr(err.msg, "bad magic") != NULL);
}

Test(wal, rotation_starts_a_segment_and_removal_drops_old_ones, .fini = cleanup)
{
    char *dir = tmpdir();
    wal_t *w;
    err_t err;
    cr_assert_eq(wal_open(&w, dir, true, NULL, NULL, &err), 0);
    append_n(w, 0, 3);
    uint64_t closed = 0;
    cr_assert_eq(wal_rotate(w, &closed, &err), 0);
    cr_assert_eq(closed, 1);
    cr_assert_eq(wal_active_segment(w), 2);
    append_n(w, 3, 2);
    wal_close(w);
    seen_t s = {0, "", 0};
    cr_assert_eq(wal_open(&w, dir, true, collect, &s, &err), 0);
    cr_assert_eq(s.n, 5);
    cr_assert_eq(s.last_segment, 2);
    cr_assert_eq(wal_first_segment(w), 1);
    cr_assert_eq(wal_remove_upto(w, 1, &err), 0);
    cr_assert_eq(wal_first_segment(w), 2);
    /* the active segment is never removed */
    cr_assert_eq(wal_remove_upto(w, 99, &err), 0);
    cr_assert_eq(wal_active_segment(w), 2);
    wal_close(w);
    s = (seen_t){0, "", 0};
    cr_assert_eq(wal_open(&w, dir, true, collect, &s, &err), 0);
    cr_assert_eq(s.n, 2);
    cr_assert_str_eq(s.last, "record-4");
    wal_close(w);
}
