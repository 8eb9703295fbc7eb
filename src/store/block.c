/* Blocks: writer, verifying reader and range accumulation with rollups. Format and
 * invariants: block.h. */
#include "store/block.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>
#include <zstd.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/varint.h"
#include "store/crash.h"
#include "store/fsutil.h"

const int64_t BLOCK_ROLLUP_RES[BLOCK_NRES] = {3600LL * NS_PER_S, 60LL * NS_PER_S};

#define ROLL_CHUNK_BUCKETS 64
#define BLOCK_NFILES 6
#define SPAN_DIR_ENTRY 36
/* The data files, in the order of block_t's maps (spans last: absent in version 1). */
static const char *const FILE_NAMES[BLOCK_NFILES] = {"symbols", "tree", "index", "profiles",
                                                     "rollups", "spans"};
#define MAX_RAW_CHUNK (512u << 20)

/* ---- encoding helpers ---- */

static int put_u32(buf_t *b, uint32_t v)
{
    uint8_t x[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    return buf_append(b, x, 4);
}

static int put_u64(buf_t *b, uint64_t v)
{
    uint8_t x[8];
    for (int i = 0; i < 8; i++)
        x[i] = (uint8_t)(v >> (8 * i));
    return buf_append(b, x, 8);
}

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t rd64(const uint8_t *p) { return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32; }

/* Bounded reader over a byte range; any overrun sets bad and returns zeros. */
typedef struct rd {
    const uint8_t *p, *end;
    bool bad;
} rd_t;

static uint32_t r_u32(rd_t *r)
{
    if (r->end - r->p < 4) {
        r->bad = true;
        return 0;
    }
    uint32_t v = rd32(r->p);
    r->p += 4;
    return v;
}

static uint64_t r_u64(rd_t *r)
{
    if (r->end - r->p < 8) {
        r->bad = true;
        return 0;
    }
    uint64_t v = rd64(r->p);
    r->p += 8;
    return v;
}

static uint64_t r_uv(rd_t *r)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (r->p >= r->end) {
            r->bad = true;
            return 0;
        }
        uint8_t c = *r->p++;
        v |= (uint64_t)(c & 0x7f) << shift;
        if (!(c & 0x80))
            return v;
    }
    r->bad = true;
    return 0;
}

static int64_t r_sv(rd_t *r)
{
    uint64_t u = r_uv(r);
    return (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
}

/* ---- ULIDs ---- */

void block_ulid(char *out, int64_t now_ns)
{
    static const char A[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    uint64_t ms = (uint64_t)(now_ns / 1000000);
    for (int i = 9; i >= 0; i--) {
        out[i] = A[ms & 31];
        ms >>= 5;
    }
    uint8_t rnd[10];
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd < 0 || read(fd, rnd, sizeof(rnd)) != (ssize_t)sizeof(rnd)) {
        /* fall back to the clock: uniqueness within one process is what matters */
        uint64_t x = (uint64_t)clock_mono_ns() ^ (uint64_t)getpid() << 32;
        for (int i = 0; i < 10; i++)
            rnd[i] = (uint8_t)(x >> (i * 6));
    }
    if (fd >= 0)
        close(fd);
    for (int i = 0; i < 16; i++)
        out[10 + i] = A[rnd[(i * 5) / 8 % 10] >> (i % 3) & 31];
    out[26] = 0;
}

/* ---- writer ---- */

typedef struct pair {
    uint32_t node;
    int64_t value;
} pair_t;

static int cmp_pair(const void *a, const void *b)
{
    uint32_t x = ((const pair_t *)a)->node, y = ((const pair_t *)b)->node;
    return (x > y) - (x < y);
}

/* Sorts pairs by node and sums duplicates in place; returns the new count. */
static size_t merge_pairs(pair_t *p, size_t n)
{
    qsort(p, n, sizeof(*p), cmp_pair);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (k && p[k - 1].node == p[i].node)
            p[k - 1].value += p[i].value;
        else
            p[k++] = p[i];
    }
    return k;
}

typedef struct chunk_writer {
    buf_t a, b;        /* raw frames being built */
    uint32_t n;
    int64_t min_ts, max_ts, prev_ts;
    buf_t *file;       /* profiles or rollups body */
    block_chunk_t *chunks;
    size_t nchunks, cap;
} chunk_writer_t;

static void cw_init(chunk_writer_t *w, buf_t *file)
{
    memset(w, 0, sizeof(*w));
    w->file = file;
}

/* Appends one entry (profile or bucket) with merged pairs; columns go to frame A/B. Frame A
 * holds n per-entry triplets interleaved (ts delta, total, count) to keep one pass. */
static int cw_add(chunk_writer_t *w, int64_t ts, const pair_t *p, size_t n)
{
    int64_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += p[i].value;
    int rc = varint_put_signed(&w->a, ts - w->prev_ts);
    if (rc == 0)
        rc = varint_put_signed(&w->a, total);
    if (rc == 0)
        rc = varint_put(&w->a, n);
    uint32_t prev = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        rc = varint_put(&w->b, p[i].node - prev);
        prev = p[i].node;
    }
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = varint_put_signed(&w->b, p[i].value);
    if (w->n == 0 || ts < w->min_ts)
        w->min_ts = ts;
    if (w->n == 0 || ts > w->max_ts)
        w->max_ts = ts;
    w->prev_ts = ts;
    w->n++;
    return rc;
}

static int compress_into(buf_t *file, const buf_t *raw, uint32_t *len, err_t *err)
{
    size_t bound = ZSTD_compressBound(raw->len);
    char *dst = buf_reserve(file, bound);
    if (!dst)
        return err_set(err, EMB_ETOOBIG, "block: file too large");
    size_t n = ZSTD_compress(dst, bound, raw->data ? raw->data : "", raw->len, 3);
    if (ZSTD_isError(n))
        return err_set(err, EMB_EIO, "block: zstd: %s", ZSTD_getErrorName(n));
    buf_setlen(file, file->len + n);
    *len = (uint32_t)n;
    return 0;
}

static int cw_flush(chunk_writer_t *w, err_t *err)
{
    if (w->n == 0)
        return 0;
    xgrow(&w->chunks, &w->cap, w->nchunks + 1, sizeof(*w->chunks));
    block_chunk_t *c = &w->chunks[w->nchunks++];
    memset(c, 0, sizeof(*c));
    c->min_ts = w->min_ts;
    c->max_ts = w->max_ts;
    c->n = w->n;
    c->raw_a = (uint32_t)w->a.len;
    c->raw_b = (uint32_t)w->b.len;
    c->off_a = w->file->len;
    int rc = compress_into(w->file, &w->a, &c->len_a, err);
    c->off_b = w->file->len;
    if (rc == 0)
        rc = compress_into(w->file, &w->b, &c->len_b, err);
    buf_reset(&w->a);
    buf_reset(&w->b);
    w->n = 0;
    w->prev_ts = 0;
    return rc;
}

static void cw_release(chunk_writer_t *w)
{
    buf_release(&w->a);
    buf_release(&w->b);
    free(w->chunks);
}

static int put_chunks(buf_t *ix, const block_chunk_t *c, size_t n)
{
    int rc = put_u32(ix, (uint32_t)n);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        rc = put_u64(ix, (uint64_t)c[i].min_ts);
        if (rc == 0) rc = put_u64(ix, (uint64_t)c[i].max_ts);
        if (rc == 0) rc = put_u32(ix, c[i].n);
        if (rc == 0) rc = put_u64(ix, c[i].off_a);
        if (rc == 0) rc = put_u32(ix, c[i].len_a);
        if (rc == 0) rc = put_u32(ix, c[i].raw_a);
        if (rc == 0) rc = put_u64(ix, c[i].off_b);
        if (rc == 0) rc = put_u32(ix, c[i].len_b);
        if (rc == 0) rc = put_u32(ix, c[i].raw_b);
    }
    return rc;
}

static int cmp_post(const void *a, const void *b)
{
    const uint64_t *x = a, *y = b;
    if (x[0] != y[0])
        return (x[0] > y[0]) - (x[0] < y[0]);
    return (x[1] > y[1]) - (x[1] < y[1]);
}

static int cmp_prof_ts(const void *a, const void *b)
{
    int64_t x = (*(const head_profile_t *const *)a)->ts_ns;
    int64_t y = (*(const head_profile_t *const *)b)->ts_ns;
    return (x > y) - (x < y);
}

static int64_t bucket_end(int64_t ts, int64_t res)
{
    int64_t q = ts / res;
    if (ts % res > 0)
        q++;
    return q * res;
}

/* Writes header + body + trailer to dir/name and fsyncs it. Returns the trailer hash. */
static int write_file(const char *dir, const char *name, const char kind[4], const buf_t *body,
                      uint64_t *hash, size_t *size, err_t *err)
{
    buf_t f = BUF_INIT;
    uint8_t hdr[16] = {'E', 'M', 'B', '1', (uint8_t)kind[0], (uint8_t)kind[1],
                       (uint8_t)kind[2], (uint8_t)kind[3], BLOCK_VERSION, 0, 0, 0, 0, 0, 0, 0};
    int rc = buf_append(&f, hdr, 16);
    if (rc == 0 && body->len)
        rc = buf_append(&f, body->data, body->len);
    if (rc == 0)
        rc = put_u64(&f, body->len);
    uint64_t h = XXH3_64bits(f.data, f.len);
    if (rc == 0)
        rc = put_u64(&f, h);
    if (rc == 0)
        rc = fs_write_file(dir, name, f.data, f.len, err);
    *hash = h;
    *size = f.len;
    buf_release(&f);
    return rc;
}

/* Appends series si's span side lists (profiles in time order) as one frame to data and
 * its directory entry to dir; nothing for a series without spans. raw is scratch. */
static int write_spans(buf_t *dir, buf_t *data, buf_t *raw, uint32_t *ndir, uint32_t si,
                       const head_profile_t *const *order, size_t nprofs, err_t *err)
{
    buf_reset(raw);
    int rc = 0;
    int64_t prev_ts = 0, min_ts = 0, max_ts = 0;
    bool any = false;
    for (size_t p = 0; rc == 0 && p < nprofs; p++) {
        const head_profile_t *hp = order[p];
        if (!hp->nspans)
            continue;
        if (!any)
            min_ts = hp->ts_ns;
        max_ts = hp->ts_ns;
        any = true;
        const span_sample_t *sp = head_profile_spans(hp);
        rc = varint_put(raw, p);
        if (rc == 0) rc = varint_put_signed(raw, hp->ts_ns - prev_ts);
        if (rc == 0) rc = varint_put(raw, hp->nspans);
        for (uint32_t k = 0; rc == 0 && k < hp->nspans; k++) {
            rc = put_u64(raw, sp[k].span);
            if (rc == 0) rc = varint_put(raw, sp[k].node);
            if (rc == 0) rc = varint_put_signed(raw, sp[k].value);
        }
        prev_ts = hp->ts_ns;
    }
    if (rc || !any)
        return rc;
    uint64_t off = data->len;
    uint32_t len = 0;
    rc = compress_into(data, raw, &len, err);
    if (rc == 0) rc = put_u32(dir, si);
    if (rc == 0) rc = put_u64(dir, off);
    if (rc == 0) rc = put_u32(dir, len);
    if (rc == 0) rc = put_u32(dir, (uint32_t)raw->len);
    if (rc == 0) rc = put_u64(dir, (uint64_t)min_ts);
    if (rc == 0) rc = put_u64(dir, (uint64_t)max_ts);
    (*ndir)++;
    return rc;
}

int block_write(char *ulid_out, const char *tenant_dir, const char *tenant,
                const head_tenant_t *t, const block_info_t *info, err_t *err)
{
    ulid_out[0] = 0;
    uint64_t nprof = 0, nsamp = 0;
    int64_t min_ts = INT64_MAX, max_ts = INT64_MIN;
    for (size_t i = 0; i < t->nseries; i++) {
        nprof += t->series[i].nprofs;
        nsamp += t->series[i].nsamples;
        if (t->series[i].nprofs) {
            if (t->series[i].min_ts < min_ts) min_ts = t->series[i].min_ts;
            if (t->series[i].max_ts > max_ts) max_ts = t->series[i].max_ts;
        }
    }
    if (nprof == 0)
        return 0;

    int rc = 0;
    strtab_t syms;
    strtab_init(&syms);
    for (size_t i = 1; i < t->strs.n; i++)
        strtab_intern(&syms, strtab_get(&t->strs, (uint32_t)i), strtab_len(&t->strs, (uint32_t)i));
    buf_t sb = BUF_INIT, tb = BUF_INIT, ix = BUF_INIT, pb = BUF_INIT, rb = BUF_INIT;
    buf_t spdir = BUF_INIT, spdata = BUF_INIT, spraw = BUF_INIT, spb = BUF_INIT;
    uint32_t nspdir = 0;
    pair_t *pairs = NULL;
    size_t cappairs = 0;
    int64_t *acc = xcalloc(t->tree.n + 1, sizeof(*acc));
    uint32_t *touched = xmalloc((t->tree.n + 1) * sizeof(*touched));
    uint8_t *is_touched = xcalloc(t->tree.n + 1, 1);
    const head_profile_t **order = NULL;
    size_t caporder = 0;
    /* postings: (name sid << 32 | value sid, series) entries */
    uint64_t *post = NULL;
    size_t npost = 0, cappost = 0;

    /* index: series */
    rc = put_u32(&ix, (uint32_t)t->nseries);
    for (size_t si = 0; rc == 0 && si < t->nseries; si++) {
        const head_series_t *s = &t->series[si];
        rc = put_u32(&ix, (uint32_t)s->labels.n);
        for (size_t j = 0; rc == 0 && j < s->labels.n; j++) {
            const label_t *l = &s->labels.v[j];
            uint32_t ns = strtab_intern(&syms, l->name, strlen(l->name));
            uint32_t vs = strtab_intern(&syms, l->value, strlen(l->value));
            rc = put_u32(&ix, ns);
            if (rc == 0)
                rc = put_u32(&ix, vs);
            xgrow(&post, &cappost, npost + 1, sizeof(*post) * 2);
            post[2 * npost] = (uint64_t)ns << 32 | vs;
            post[2 * npost + 1] = si;
            npost++;
        }
        xgrow(&order, &caporder, s->nprofs + 1, sizeof(*order));
        for (size_t p = 0; p < s->nprofs; p++)
            order[p] = &s->profs[p];
        qsort(order, s->nprofs, sizeof(*order), cmp_prof_ts);
        if (rc == 0) rc = put_u64(&ix, (uint64_t)(s->nprofs ? s->min_ts : 0));
        if (rc == 0) rc = put_u64(&ix, (uint64_t)(s->nprofs ? s->max_ts : 0));
        if (rc == 0) rc = put_u64(&ix, s->nprofs);
        if (rc == 0) rc = put_u64(&ix, s->nsamples);

        /* raw profiles */
        chunk_writer_t cw;
        cw_init(&cw, &pb);
        for (size_t p = 0; rc == 0 && p < s->nprofs; p++) {
            const head_profile_t *hp = order[p];
            xgrow(&pairs, &cappairs, hp->n + 1, sizeof(*pairs));
            const node_id_t *nodes = head_profile_nodes(hp);
            for (uint32_t k = 0; k < hp->n; k++)
                pairs[k] = (pair_t){nodes[k], hp->value[k]};
            size_t m = merge_pairs(pairs, hp->n);
            rc = cw_add(&cw, hp->ts_ns, pairs, m);
            if (rc == 0 && cw.n == BLOCK_CHUNK_PROFILES)
                rc = cw_flush(&cw, err);
        }
        if (rc == 0)
            rc = cw_flush(&cw, err);
        if (rc == 0)
            rc = put_chunks(&ix, cw.chunks, cw.nchunks);
        cw_release(&cw);
        if (rc == 0)
            rc = write_spans(&spdir, &spdata, &spraw, &nspdir, (uint32_t)si, order, s->nprofs,
                             err);

        /* rollups: exact sums per bucket (end-R, end] */
        for (int r = 0; rc == 0 && r < BLOCK_NRES; r++) {
            int64_t res = BLOCK_ROLLUP_RES[r];
            chunk_writer_t rw;
            cw_init(&rw, &rb);
            size_t ntouched = 0;
            for (size_t p = 0; rc == 0 && p <= s->nprofs; p++) {
                int64_t end = p < s->nprofs ? bucket_end(order[p]->ts_ns, res) : 0;
                bool flush = ntouched > 0 &&
                             (p == s->nprofs || end != bucket_end(order[p - 1]->ts_ns, res));
                if (flush) {
                    xgrow(&pairs, &cappairs, ntouched + 1, sizeof(*pairs));
                    size_t m = 0;
                    for (size_t k = 0; k < ntouched; k++) {
                        uint32_t nd = touched[k];
                        if (acc[nd] != 0)
                            pairs[m++] = (pair_t){nd, acc[nd]};
                        acc[nd] = 0;
                        is_touched[nd] = 0;
                    }
                    qsort(pairs, m, sizeof(*pairs), cmp_pair);
                    rc = cw_add(&rw, bucket_end(order[p - 1]->ts_ns, res), pairs, m);
                    if (rc == 0 && rw.n == ROLL_CHUNK_BUCKETS)
                        rc = cw_flush(&rw, err);
                    ntouched = 0;
                }
                if (p == s->nprofs)
                    break;
                const head_profile_t *hp = order[p];
                const node_id_t *nodes = head_profile_nodes(hp);
                for (uint32_t k = 0; k < hp->n; k++) {
                    uint32_t nd = nodes[k];
                    acc[nd] += hp->value[k];
                    if (!is_touched[nd]) {
                        is_touched[nd] = 1;
                        touched[ntouched++] = nd;
                    }
                }
            }
            if (rc == 0)
                rc = cw_flush(&rw, err);
            if (rc == 0)
                rc = put_u64(&ix, (uint64_t)res);
            if (rc == 0)
                rc = put_chunks(&ix, rw.chunks, rw.nchunks);
            cw_release(&rw);
        }
    }
    /* postings, sorted by pair then series */
    if (rc == 0) {
        qsort(post, npost, 2 * sizeof(*post), cmp_post);
        size_t npairs = 0;
        for (size_t i = 0; i < npost; i++)
            npairs += i == 0 || post[2 * i] != post[2 * i - 2];
        rc = put_u32(&ix, (uint32_t)npairs);
        for (size_t i = 0; rc == 0 && i < npost;) {
            size_t j = i;
            while (j < npost && post[2 * j] == post[2 * i])
                j++;
            rc = put_u64(&ix, post[2 * i]);
            if (rc == 0)
                rc = put_u32(&ix, (uint32_t)(j - i));
            for (size_t k = i; rc == 0 && k < j; k++)
                rc = put_u32(&ix, (uint32_t)post[2 * k + 1]);
            i = j;
        }
    }
    /* symbols and tree */
    if (rc == 0) {
        rc = put_u32(&sb, (uint32_t)syms.n);
        uint32_t off = 0;
        for (size_t i = 0; rc == 0 && i <= syms.n; i++) {
            rc = put_u32(&sb, off);
            if (i < syms.n)
                off += (uint32_t)strtab_len(&syms, (uint32_t)i) + 1;
        }
        for (size_t i = 0; rc == 0 && i < syms.n; i++)
            rc = buf_append(&sb, strtab_get(&syms, (uint32_t)i), strtab_len(&syms, (uint32_t)i) + 1);
    }
    if (rc == 0) {
        rc = put_u32(&tb, (uint32_t)t->tree.n);
        if (rc == 0)
            rc = buf_append(&tb, t->tree.parent, t->tree.n * sizeof(uint32_t));
        if (rc == 0)
            rc = buf_append(&tb, t->tree.name, t->tree.n * sizeof(uint32_t));
    }
    if (rc) {
        if (rc != EMB_EIO)
            err_set(err, rc, "block: encoding failed (%s)", err_name(rc));
        goto out;
    }

    /* files into <ulid>.tmp, then rename */
    char ulid[32], tmp[4096], final[4096];
    block_ulid(ulid, clock_now_ns());
    snprintf(tmp, sizeof(tmp), "%s/%s.tmp", tenant_dir, ulid);
    snprintf(final, sizeof(final), "%s/%s", tenant_dir, ulid);
    if ((rc = fs_mkdir_p(tmp, err)))
        goto out;
    if (rc == 0)
        rc = put_u32(&spb, nspdir);
    if (rc == 0 && spdir.len)
        rc = buf_append(&spb, spdir.data, spdir.len);
    if (rc == 0 && spdata.len)
        rc = buf_append(&spb, spdata.data, spdata.len);
    static const char kinds[BLOCK_NFILES][4] = {{'S', 'Y', 'M', 'S'}, {'T', 'R', 'E', 'E'},
                                                {'I', 'N', 'D', 'X'}, {'P', 'R', 'O', 'F'},
                                                {'R', 'O', 'L', 'L'}, {'S', 'P', 'A', 'N'}};
    const buf_t *bodies[BLOCK_NFILES] = {&sb, &tb, &ix, &pb, &rb, &spb};
    uint64_t hashes[BLOCK_NFILES];
    size_t sizes[BLOCK_NFILES], total_bytes = 0;
    for (int i = 0; rc == 0 && i < BLOCK_NFILES; i++) {
        rc = write_file(tmp, FILE_NAMES[i], kinds[i], bodies[i], &hashes[i], &sizes[i], err);
        total_bytes += sizes[i];
        if (rc == 0 && i == 2)
            crash_point("block.write.mid_files");
    }
    if (rc == 0) {
        json_t *m = json_object();
        json_object_set_new(m, "version", json_integer(BLOCK_VERSION));
        json_object_set_new(m, "ulid", json_string(ulid));
        json_object_set_new(m, "tenant", json_string(tenant));
        json_object_set_new(m, "minTime", json_integer(min_ts));
        json_object_set_new(m, "maxTime", json_integer(max_ts));
        json_t *segs = json_array();
        for (size_t i = 0; i < info->nwal_segs; i++)
            json_array_append_new(segs, json_integer((json_int_t)info->wal_segs[i]));
        json_object_set_new(m, "walSegments", segs);
        json_object_set_new(m, "level", json_integer(info->level));
        json_t *src = json_array();
        for (size_t i = 0; i < info->nsources; i++)
            json_array_append_new(src, json_string(info->sources[i]));
        json_object_set_new(m, "sources", src);
        json_t *st = json_object();
        json_object_set_new(st, "series", json_integer((json_int_t)t->nseries));
        json_object_set_new(st, "profiles", json_integer((json_int_t)nprof));
        json_object_set_new(st, "samples", json_integer((json_int_t)nsamp));
        json_object_set_new(st, "bytes", json_integer((json_int_t)total_bytes));
        json_object_set_new(m, "stats", st);
        json_t *files = json_object();
        for (int i = 0; i < BLOCK_NFILES; i++) {
            char hx[20];
            snprintf(hx, sizeof(hx), "%016llx", (unsigned long long)hashes[i]);
            json_t *f = json_object();
            json_object_set_new(f, "size", json_integer((json_int_t)sizes[i]));
            json_object_set_new(f, "xxh3", json_string(hx));
            json_object_set_new(files, FILE_NAMES[i], f);
        }
        json_object_set_new(m, "files", files);
        json_object_set_new(m, "checksum", json_string("0000000000000000"));
        char *text = json_dumps(m, JSON_COMPACT | JSON_SORT_KEYS);
        json_decref(m);
        char *ck = strstr(text, "\"checksum\":\"");
        uint64_t h = XXH3_64bits(text, strlen(text));
        char hx[20];
        snprintf(hx, sizeof(hx), "%016llx", (unsigned long long)h);
        memcpy(ck + 12, hx, 16);
        rc = fs_write_file(tmp, "meta.json", text, strlen(text), err);
        free(text);
    }
    if (rc == 0)
        rc = fs_fsync_dir(tmp, err);
    if (rc == 0) {
        crash_point("block.write.before_rename");
        if (rename(tmp, final) < 0)
            rc = err_set(err, EMB_EIO, "block: rename %s: %s", tmp, strerror(errno));
    }
    if (rc == 0)
        rc = fs_fsync_dir(tenant_dir, err);
    if (rc == 0) {
        memcpy(ulid_out, ulid, 27);
        crash_point("block.write.after_rename");
    } else {
        fs_remove_tree(tmp);
    }
out:
    strtab_release(&syms);
    buf_release(&sb);
    buf_release(&tb);
    buf_release(&ix);
    buf_release(&pb);
    buf_release(&rb);
    buf_release(&spdir);
    buf_release(&spdata);
    buf_release(&spraw);
    buf_release(&spb);
    free(pairs);
    free(acc);
    free(touched);
    free(is_touched);
    free(order);
    free(post);
    return rc;
}

/* ---- reader ---- */

static int map_file(block_map_t *m, const char *dir, const char *name, const char kind[4],
                    err_t *err)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    memset(m, 0, sizeof(*m));
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return err_set(err, EMB_ECORRUPT, "block %s: missing %s: %s", dir, name, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) < 0 || st.st_size < 32) {
        close(fd);
        return err_set(err, EMB_ECORRUPT, "block %s: %s is truncated", dir, name);
    }
    void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (p == MAP_FAILED)
        return err_set(err, EMB_EIO, "block %s: mmap %s: %s", dir, name, strerror(errno));
    m->p = p;
    m->len = (size_t)st.st_size;
    const uint8_t *b = m->p;
    if (memcmp(b, "EMB1", 4) != 0 || memcmp(b + 4, kind, 4) != 0 || rd32(b + 8) < 1 ||
        rd32(b + 8) > BLOCK_VERSION)
        return err_set(err, EMB_ECORRUPT, "block %s: %s has a bad header", dir, name);
    uint64_t body_len = rd64(b + m->len - 16), h = rd64(b + m->len - 8);
    if (body_len != m->len - 32)
        return err_set(err, EMB_ECORRUPT, "block %s: %s length mismatch (truncated?)", dir, name);
    if (XXH3_64bits(b, m->len - 8) != h)
        return err_set(err, EMB_ECORRUPT, "block %s: %s checksum mismatch", dir, name);
    /* Verifying faulted every page in: drop them from our RSS (they stay in the page cache
     * and fault back on use), so RSS follows what queries touch, not the bytes on disk. */
    (void)madvise((void *)m->p, m->len, MADV_DONTNEED);
    m->body = b + 16;
    m->body_len = (size_t)body_len;
    return 0;
}

static void unmap_file(block_map_t *m)
{
    if (m->p)
        munmap((void *)m->p, m->len);
    memset(m, 0, sizeof(*m));
}

static void block_free(block_t *b)
{
    for (uint32_t i = 0; b->series && i < b->nseries; i++) {
        labels_release(&b->series[i].labels);
        free(b->series[i].raw);
        for (int r = 0; r < BLOCK_NRES; r++)
            free(b->series[i].roll[r]);
    }
    free(b->series);
    free(b->wal_segs);
    for (size_t i = 0; i < b->nsources; i++)
        free(b->sources[i]);
    free(b->sources);
    unmap_file(&b->syms);
    unmap_file(&b->tree_f);
    unmap_file(&b->index);
    unmap_file(&b->profs);
    unmap_file(&b->rolls);
    unmap_file(&b->spans);
    if (atomic_load(&b->doomed)) {
        fs_remove_tree(b->dir);
        log_info("block %s deleted", b->dir);
    }
    free(b->dir);
    free(b);
}

void block_ref(block_t *b) { atomic_fetch_add(&b->refs, 1); }

void block_unref(block_t *b)
{
    if (b && atomic_fetch_sub(&b->refs, 1) == 1)
        block_free(b);
}

static int read_chunks(rd_t *r, block_chunk_t **out, uint32_t *n, const block_map_t *file)
{
    *n = r_u32(r);
    if (r->bad || *n > (uint32_t)((r->end - r->p) / 52))
        return -1;
    *out = xcalloc(*n + 1, sizeof(**out));
    for (uint32_t i = 0; i < *n; i++) {
        block_chunk_t *c = &(*out)[i];
        c->min_ts = (int64_t)r_u64(r);
        c->max_ts = (int64_t)r_u64(r);
        c->n = r_u32(r);
        c->off_a = r_u64(r);
        c->len_a = r_u32(r);
        c->raw_a = r_u32(r);
        c->off_b = r_u64(r);
        c->len_b = r_u32(r);
        c->raw_b = r_u32(r);
        if (r->bad || c->off_a > file->body_len || c->len_a > file->body_len - c->off_a ||
            c->off_b > file->body_len || c->len_b > file->body_len - c->off_b ||
            c->raw_a > MAX_RAW_CHUNK || c->raw_b > MAX_RAW_CHUNK)
            return -1;
    }
    return 0;
}

/* Verifies meta.json's own checksum and that it lists the files we mapped. */
static int check_meta(block_t *b, const char *dir, err_t *err)
{
    char path[4096], *text = NULL;
    size_t len;
    snprintf(path, sizeof(path), "%s/meta.json", dir);
    int rc = fs_read_file(&text, &len, path, err);
    if (rc)
        return err_set(err, EMB_ECORRUPT, "block %s: meta.json unreadable", dir);
    /* compare the stored hex text exactly: parsing it would accept 'A' for 'a' */
    char *ck = strstr(text, "\"checksum\":\"");
    char stored[17] = "", computed[17];
    if (ck && strlen(ck) >= 12 + 16) {
        memcpy(stored, ck + 12, 16);
        memset(ck + 12, '0', 16);
    }
    snprintf(computed, sizeof(computed), "%016llx", (unsigned long long)XXH3_64bits(text, len));
    if (!ck || memcmp(stored, computed, 16) != 0) {
        free(text);
        return err_set(err, EMB_ECORRUPT, "block %s: meta.json checksum mismatch", dir);
    }
    json_error_t je;
    json_t *m = json_loadb(text, len, 0, &je);
    free(text);
    if (!m)
        return err_set(err, EMB_ECORRUPT, "block %s: meta.json: %s", dir, je.text);
    json_t *files = json_object_get(m, "files");
    const block_map_t *maps[BLOCK_NFILES] = {&b->syms,  &b->tree_f, &b->index,
                                             &b->profs, &b->rolls,  &b->spans};
    for (int i = 0; rc == 0 && i < BLOCK_NFILES; i++) {
        json_t *f = json_object_get(files, FILE_NAMES[i]);
        if (!f && !maps[i]->p && i == BLOCK_NFILES - 1)
            break; /* version 1: no spans file */
        const char *hx = json_string_value(json_object_get(f, "xxh3"));
        json_int_t size = json_integer_value(json_object_get(f, "size"));
        if (!hx || !maps[i]->p || (size_t)size != maps[i]->len ||
            strtoull(hx, NULL, 16) != rd64(maps[i]->p + maps[i]->len - 8))
            rc = err_set(err, EMB_ECORRUPT, "block %s: %s does not match meta.json", dir,
                         FILE_NAMES[i]);
    }
    const char *ulid = json_string_value(json_object_get(m, "ulid"));
    if (rc == 0 && (!ulid || strlen(ulid) != 26))
        rc = err_set(err, EMB_ECORRUPT, "block %s: meta.json has no ulid", dir);
    if (rc == 0) {
        memcpy(b->ulid, ulid, 27);
        b->min_ts = json_integer_value(json_object_get(m, "minTime"));
        b->max_ts = json_integer_value(json_object_get(m, "maxTime"));
        json_t *segs = json_object_get(m, "walSegments");
        size_t ns = json_array_size(segs);
        b->wal_segs = xcalloc(ns + 1, sizeof(*b->wal_segs));
        for (size_t i = 0; i < ns; i++)
            b->wal_segs[i] = (uint64_t)json_integer_value(json_array_get(segs, i));
        b->nwal_segs = ns;
        json_t *src = json_object_get(m, "sources");
        b->nsources = json_array_size(src);
        b->sources = xcalloc(b->nsources + 1, sizeof(*b->sources));
        for (size_t i = 0; i < b->nsources; i++) {
            const char *u = json_string_value(json_array_get(src, i));
            b->sources[i] = xstrdup(u ? u : "");
        }
        b->level = (int)json_integer_value(json_object_get(m, "level"));
        json_t *st = json_object_get(m, "stats");
        b->nprofiles = (uint64_t)json_integer_value(json_object_get(st, "profiles"));
        b->nsamples = (uint64_t)json_integer_value(json_object_get(st, "samples"));
        b->bytes = (uint64_t)json_integer_value(json_object_get(st, "bytes"));
    }
    json_decref(m);
    return rc;
}

/* Parses the spans file's directory into the series; -1 if it is inconsistent. */
static int read_span_dir(block_t *b)
{
    rd_t r = {b->spans.body, b->spans.body + b->spans.body_len, false};
    uint32_t n = r_u32(&r);
    if (r.bad || n > b->nseries || (uint64_t)n * SPAN_DIR_ENTRY > (uint64_t)(r.end - r.p))
        return -1;
    b->span_data = r.p + (size_t)n * SPAN_DIR_ENTRY;
    b->span_data_len = (size_t)(r.end - b->span_data);
    for (uint32_t i = 0; i < n; i++) {
        uint32_t si = r_u32(&r);
        if (si >= b->nseries || b->series[si].span_len)
            return -1;
        block_series_t *s = &b->series[si];
        s->span_off = r_u64(&r);
        s->span_len = r_u32(&r);
        s->span_raw = r_u32(&r);
        s->span_min_ts = (int64_t)r_u64(&r);
        s->span_max_ts = (int64_t)r_u64(&r);
        if (s->span_len == 0 || s->span_off > b->span_data_len ||
            s->span_len > b->span_data_len - s->span_off || s->span_raw > MAX_RAW_CHUNK)
            return -1;
    }
    return r.bad ? -1 : 0;
}

int block_open(block_t **out, const char *dir, err_t *err)
{
    *out = NULL;
    block_t *b = xcalloc(1, sizeof(*b));
    atomic_store(&b->refs, 1);
    b->dir = xstrdup(dir);
    int rc = map_file(&b->syms, dir, "symbols", "SYMS", err);
    if (rc == 0) rc = map_file(&b->tree_f, dir, "tree", "TREE", err);
    if (rc == 0) rc = map_file(&b->index, dir, "index", "INDX", err);
    if (rc == 0) rc = map_file(&b->profs, dir, "profiles", "PROF", err);
    if (rc == 0) rc = map_file(&b->rolls, dir, "rollups", "ROLL", err);
    char sp_path[4096];
    snprintf(sp_path, sizeof(sp_path), "%s/spans", dir);
    if (rc == 0 && access(sp_path, F_OK) == 0) /* meta.json says whether it must exist */
        rc = map_file(&b->spans, dir, "spans", "SPAN", err);
    if (rc == 0) rc = check_meta(b, dir, err);
    if (rc)
        goto fail;
    /* symbols */
    rd_t r = {b->syms.body, b->syms.body + b->syms.body_len, false};
    b->nsyms = r_u32(&r);
    if (r.bad || b->nsyms == 0 || (uint64_t)b->nsyms + 1 > (uint64_t)(r.end - r.p) / 4)
        goto bad_syms;
    b->sym_off = (const uint32_t *)r.p;
    b->sym_data = (const char *)(r.p + 4 * ((size_t)b->nsyms + 1));
    size_t data_len = (size_t)(r.end - (const uint8_t *)b->sym_data);
    for (uint32_t i = 0; i < b->nsyms; i++)
        if (b->sym_off[i + 1] <= b->sym_off[i] || b->sym_off[i + 1] > data_len ||
            b->sym_data[b->sym_off[i + 1] - 1] != 0)
            goto bad_syms;
    /* tree */
    r = (rd_t){b->tree_f.body, b->tree_f.body + b->tree_f.body_len, false};
    b->nnodes = r_u32(&r);
    if (r.bad || b->nnodes == 0 || (uint64_t)b->nnodes * 8 != (uint64_t)(r.end - r.p))
        goto bad_tree;
    b->parent = (const uint32_t *)r.p;
    b->name = b->parent + b->nnodes;
    for (uint32_t i = 1; i < b->nnodes; i++)
        if (b->parent[i] >= i || b->name[i] >= b->nsyms)
            goto bad_tree;
    /* index */
    r = (rd_t){b->index.body, b->index.body + b->index.body_len, false};
    b->nseries = r_u32(&r);
    if (r.bad || b->nseries > (uint32_t)(b->index.body_len / 8))
        goto bad_index;
    b->series = xcalloc(b->nseries + 1, sizeof(*b->series));
    for (uint32_t si = 0; si < b->nseries; si++) {
        block_series_t *s = &b->series[si];
        uint32_t nl = r_u32(&r);
        if (r.bad || nl > 4096)
            goto bad_index;
        for (uint32_t j = 0; j < nl; j++) {
            uint32_t ns = r_u32(&r), vs = r_u32(&r);
            if (r.bad || ns >= b->nsyms || vs >= b->nsyms)
                goto bad_index;
            size_t nlen, vlen;
            const char *nm = block_sym(b, ns, &nlen), *vl = block_sym(b, vs, &vlen);
            labels_set(&s->labels, nm, nlen, vl, vlen);
        }
        labels_sort(&s->labels);
        s->min_ts = (int64_t)r_u64(&r);
        s->max_ts = (int64_t)r_u64(&r);
        s->nprofiles = r_u64(&r);
        s->nsamples = r_u64(&r);
        if (read_chunks(&r, &s->raw, &s->nraw, &b->profs))
            goto bad_index;
        for (int k = 0; k < BLOCK_NRES; k++) {
            if ((int64_t)r_u64(&r) != BLOCK_ROLLUP_RES[k] ||
                read_chunks(&r, &s->roll[k], &s->nroll[k], &b->rolls))
                goto bad_index;
        }
    }
    /* postings: validated here, used by selectors with equality matchers later */
    uint32_t npairs = r_u32(&r);
    for (uint32_t i = 0; !r.bad && i < npairs; i++) {
        r_u64(&r);
        uint32_t n = r_u32(&r);
        if (n > b->nseries)
            goto bad_index;
        for (uint32_t k = 0; k < n; k++)
            if (r_u32(&r) >= b->nseries)
                goto bad_index;
    }
    if (r.bad || r.p != r.end)
        goto bad_index;
    (void)madvise((void *)b->index.p, b->index.len, MADV_DONTNEED); /* parsed: not read again */
    if (b->spans.p && read_span_dir(b))
        goto bad_spans;
    *out = b;
    return 0;
bad_syms:
    rc = err_set(err, EMB_ECORRUPT, "block %s: symbols are malformed", dir);
    goto fail;
bad_tree:
    rc = err_set(err, EMB_ECORRUPT, "block %s: tree is malformed", dir);
    goto fail;
bad_index:
    rc = err_set(err, EMB_ECORRUPT, "block %s: index is malformed", dir);
    goto fail;
bad_spans:
    rc = err_set(err, EMB_ECORRUPT, "block %s: spans directory is malformed", dir);
fail:
    block_free(b);
    return rc;
}

/* ---- reading chunks ---- */

typedef struct chunk_data {
    uint8_t *a, *b;
    size_t a_len, b_len;
} chunk_data_t;

static int decompress(uint8_t **out, size_t *out_len, const block_map_t *f, uint64_t off,
                      uint32_t len, uint32_t raw, err_t *err)
{
    *out = xmalloc(raw + 1);
    size_t n = ZSTD_decompress(*out, raw, f->body + off, len);
    if (ZSTD_isError(n) || n != raw) {
        free(*out);
        *out = NULL;
        return err_set(err, EMB_ECORRUPT, "block chunk at %llu does not decompress",
                       (unsigned long long)off);
    }
    *out_len = n;
    return 0;
}

typedef struct acc_ctx {
    const block_t *b;
    const block_series_t *s;
    int64_t *self;
    block_point_fn point;
    void *arg;
    bool eligible[BLOCK_NRES];
    err_t *err;
} acc_ctx_t;

/* Adds entries of chunk c (from file f) whose ts lies in [from, until]. */
static int acc_chunk(acc_ctx_t *x, const block_map_t *f, const block_chunk_t *c, int64_t from,
                     int64_t until)
{
    if (c->max_ts < from || c->min_ts > until)
        return 0;
    uint8_t *a = NULL, *bb = NULL;
    size_t al, bl = 0;
    int rc = decompress(&a, &al, f, c->off_a, c->len_a, c->raw_a, x->err);
    if (rc == 0 && x->self)
        rc = decompress(&bb, &bl, f, c->off_b, c->len_b, c->raw_b, x->err);
    if (rc)
        goto out;
    rd_t ra = {a, a + al, false}, rb = {bb, bb + bl, false};
    int64_t ts = 0;
    for (uint32_t i = 0; i < c->n; i++) {
        ts += r_sv(&ra);
        int64_t total = r_sv(&ra);
        uint64_t n = r_uv(&ra);
        if (ra.bad || n > c->raw_b) {
            rc = err_set(x->err, EMB_ECORRUPT, "block %s: bad chunk", x->b->dir);
            goto out;
        }
        bool in = ts >= from && ts <= until;
        if (in && x->point)
            x->point(ts, total, x->arg);
        if (!x->self)
            continue;
        /* nodes then values of this entry */
        const uint8_t *nodes_at = rb.p;
        uint32_t node = 0;
        for (uint64_t k = 0; k < n; k++)
            r_uv(&rb);
        const uint8_t *vals_at = rb.p;
        rd_t rn = {nodes_at, vals_at, false};
        for (uint64_t k = 0; k < n; k++) {
            int64_t v = r_sv(&rb);
            node += (uint32_t)r_uv(&rn);
            if (rb.bad || rn.bad || node >= x->b->nnodes) {
                rc = err_set(x->err, EMB_ECORRUPT, "block %s: bad chunk data", x->b->dir);
                goto out;
            }
            if (in)
                x->self[node] += v;
        }
    }
out:
    free(a);
    free(bb);
    return rc;
}

/* Range [from, until] at rollup level lv (BLOCK_NRES = raw profiles). */
static int acc_range(acc_ctx_t *x, int lv, int64_t from, int64_t until)
{
    if (from > until)
        return 0;
    const block_series_t *s = x->s;
    if (lv == BLOCK_NRES) {
        for (uint32_t i = 0; i < s->nraw; i++) {
            int rc = acc_chunk(x, &x->b->profs, &s->raw[i], from, until);
            if (rc)
                return rc;
        }
        return 0;
    }
    if (!x->eligible[lv])
        return acc_range(x, lv + 1, from, until);
    int64_t res = BLOCK_ROLLUP_RES[lv];
    /* buckets (e-res, e] entirely inside [from, until] */
    int64_t lo_end = bucket_end(from + res - 1, res), hi_end = until - (until % res + res) % res;
    if (lo_end > hi_end)
        return acc_range(x, lv + 1, from, until);
    int rc = acc_range(x, lv + 1, from, lo_end - res);
    for (uint32_t i = 0; rc == 0 && i < s->nroll[lv]; i++)
        rc = acc_chunk(x, &x->b->rolls, &s->roll[lv][i], lo_end, hi_end);
    if (rc == 0)
        rc = acc_range(x, lv + 1, hi_end + 1, until);
    return rc;
}

int block_series_accumulate(const block_t *b, uint32_t si, int64_t from, int64_t until,
                            int64_t *self, int64_t tl_step_ns, int64_t tl_origin_ns,
                            block_point_fn point, void *arg,
                            err_t *err)
{
    const block_series_t *s = &b->series[si];
    if (s->nprofiles == 0 || s->max_ts < from || s->min_ts > until)
        return 0;
    acc_ctx_t x = {b, s, self, NULL, NULL, {true, true}, err};
    bool same = true;
    bool tl_ok[BLOCK_NRES];
    for (int i = 0; i < BLOCK_NRES; i++) {
        int64_t r = BLOCK_ROLLUP_RES[i];
        tl_ok[i] = tl_step_ns > 0 && tl_step_ns % r == 0 && (tl_origin_ns % r + r) % r == 0;
        same &= tl_ok[i];
    }
    if (point && same) {
        x.point = point;
        x.arg = arg;
        return acc_range(&x, 0, from, until);
    }
    int rc = self ? acc_range(&x, 0, from, until) : 0;
    if (rc == 0 && point) {
        acc_ctx_t y = {b, s, NULL, point, arg, {tl_ok[0], tl_ok[1]}, err};
        rc = acc_range(&y, 0, from, until);
    }
    return rc;
}

/* A series' span side lists, decoded: groups (one per profile with spans) over v. */
typedef struct span_group {
    uint64_t ordinal; /* of the profile in the series, time order */
    int64_t ts;
    size_t start;
    uint32_t n;
} span_group_t;

typedef struct span_table {
    span_sample_t *v;
    size_t n, cap;
    span_group_t *g;
    size_t ng, capg;
} span_table_t;

static void span_table_release(span_table_t *t)
{
    free(t->v);
    free(t->g);
}

/* Decodes series si's span frame into t (empty when it has none). */
static int span_table_read(span_table_t *t, const block_t *b, uint32_t si, err_t *err)
{
    memset(t, 0, sizeof(*t));
    const block_series_t *s = &b->series[si];
    if (!s->span_len)
        return 0;
    block_map_t m = {.body = b->span_data, .body_len = b->span_data_len};
    uint8_t *raw = NULL;
    size_t len = 0;
    int rc = decompress(&raw, &len, &m, s->span_off, s->span_len, s->span_raw, err);
    if (rc)
        return rc;
    rd_t r = {raw, raw + len, false};
    int64_t ts = 0;
    uint64_t prev_ord = 0;
    while (!r.bad && r.p < r.end) {
        uint64_t ord = r_uv(&r);
        ts += r_sv(&r);
        uint64_t n = r_uv(&r);
        /* each sample takes ≥ 10 bytes: a bound on n before allocating */
        if (r.bad || n == 0 || n > (uint64_t)(r.end - r.p) / 10 ||
            (t->ng && ord <= prev_ord) || ord >= s->nprofiles) {
            r.bad = true;
            break;
        }
        prev_ord = ord;
        xgrow(&t->g, &t->capg, t->ng + 1, sizeof(*t->g));
        t->g[t->ng++] = (span_group_t){ord, ts, t->n, (uint32_t)n};
        xgrow(&t->v, &t->cap, t->n + n, sizeof(*t->v));
        for (uint64_t k = 0; k < n; k++) {
            span_sample_t *sp = &t->v[t->n++];
            sp->span = r_u64(&r);
            sp->node = (uint32_t)r_uv(&r);
            sp->value = r_sv(&r);
            if (sp->node >= b->nnodes)
                r.bad = true;
        }
    }
    free(raw);
    if (r.bad) {
        span_table_release(t);
        memset(t, 0, sizeof(*t));
        return err_set(err, EMB_ECORRUPT, "block %s: bad span data", b->dir);
    }
    return 0;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

int block_series_spans(const block_t *b, uint32_t si, int64_t from, int64_t until,
                       const uint64_t *spans, size_t nspans, int64_t *self, err_t *err)
{
    const block_series_t *s = &b->series[si];
    if (!s->span_len || s->span_max_ts < from || s->span_min_ts > until)
        return 0;
    span_table_t t;
    int rc = span_table_read(&t, b, si, err);
    for (size_t g = 0; rc == 0 && g < t.ng; g++) {
        if (t.g[g].ts < from || t.g[g].ts > until)
            continue;
        for (size_t k = t.g[g].start; k < t.g[g].start + t.g[g].n; k++)
            if (bsearch(&t.v[k].span, spans, nspans, sizeof(*spans), cmp_u64))
                self[t.v[k].node] += t.v[k].value;
    }
    span_table_release(&t);
    return rc;
}

int block_series_profiles(const block_t *b, uint32_t si, block_profile_fn fn, void *arg,
                          err_t *err)
{
    const block_series_t *s = &b->series[si];
    uint32_t *nodes = NULL;
    int64_t *vals = NULL;
    size_t cap = 0;
    span_table_t spt;
    int rc = span_table_read(&spt, b, si, err);
    uint64_t ordinal = 0;
    size_t gi = 0;
    for (uint32_t ci = 0; rc == 0 && ci < s->nraw; ci++) {
        const block_chunk_t *c = &s->raw[ci];
        uint8_t *a = NULL, *bb = NULL;
        size_t al, bl;
        rc = decompress(&a, &al, &b->profs, c->off_a, c->len_a, c->raw_a, err);
        if (rc == 0)
            rc = decompress(&bb, &bl, &b->profs, c->off_b, c->len_b, c->raw_b, err);
        rd_t ra = {a, a + (a ? al : 0), false}, rb = {bb, bb + (bb ? bl : 0), false};
        int64_t ts = 0;
        for (uint32_t i = 0; rc == 0 && i < c->n; i++) {
            ts += r_sv(&ra);
            r_sv(&ra);
            uint64_t n = r_uv(&ra);
            if (ra.bad || n > c->raw_b) {
                rc = err_set(err, EMB_ECORRUPT, "block %s: bad chunk", b->dir);
                break;
            }
            if (n + 1 > cap) {
                size_t c2 = cap;
                xgrow(&nodes, &c2, n + 1, sizeof(*nodes));
                xgrow(&vals, &cap, n + 1, sizeof(*vals));
            }
            uint32_t node = 0;
            for (uint64_t k = 0; k < n; k++) {
                node += (uint32_t)r_uv(&rb);
                nodes[k] = node;
            }
            for (uint64_t k = 0; k < n; k++)
                vals[k] = r_sv(&rb);
            for (uint64_t k = 0; k < n; k++)
                if (nodes[k] >= b->nnodes)
                    rb.bad = true;
            if (rb.bad) {
                rc = err_set(err, EMB_ECORRUPT, "block %s: bad chunk data", b->dir);
                break;
            }
            const span_sample_t *sp = NULL;
            uint32_t nsp = 0;
            if (gi < spt.ng && spt.g[gi].ordinal == ordinal) {
                sp = spt.v + spt.g[gi].start;
                nsp = spt.g[gi].n;
                gi++;
            }
            ordinal++;
            rc = fn(ts, nodes, vals, (uint32_t)n, sp, nsp, arg);
        }
        free(a);
        free(bb);
    }
    free(nodes);
    free(vals);
    span_table_release(&spt);
    return rc;
}
