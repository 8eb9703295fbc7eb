/* gzip for request bodies: see gz.h.
 *
 * Decompression is member by member. Each member is first tried with libdeflate in one shot
 * into a buffer sized from the gzip ISIZE trailer (clamped by the caller's cap and to 64x the
 * input, so a lying trailer cannot make us allocate much more than the input). If the hint was
 * too small, or libdeflate rejects the data, the member is redone with zlib streaming, which
 * grows the output geometrically up to the cap and words the error precisely.
 * Invariant: the output buffer never grows past len + cap + 1 bytes (no doubling past the cap),
 * and on failure out->len is restored.
 */
#include "base/gz.h"

#include <libdeflate.h>
#include <limits.h>
#include <string.h>
#include <zlib.h>

#include "base/mem.h"

#define GZ_MIN_MEMBER 18 /* 10-byte header + smallest deflate stream + 8-byte trailer */
#define GZ_STREAM_FIRST 65536
#define GZ_TRUST_RATIO 64 /* ISIZE hints above 64x the input are not allocated up front */
#define GZ_TRUST_MIN (1u << 20)

bool gz_is_gzip(const uint8_t *data, size_t len)
{
    return len >= 2 && data[0] == 0x1f && data[1] == 0x8b;
}

/* Makes room for exactly n more bytes (plus the NUL) without buf_reserve's doubling, so that
 * capped decompression never allocates past its cap. */
static uint8_t *reserve_exact(buf_t *b, size_t n)
{
    size_t need = b->len + n + 1;
    if (need > b->cap) {
        b->data = xrealloc(b->data, need);
        b->cap = need;
        b->data[b->len] = 0;
    }
    return (uint8_t *)b->data + b->len;
}

static size_t min_sz(size_t a, size_t b) { return a < b ? a : b; }

/* Decompresses the member at data[0..len) (at offset `at` of the whole input) with zlib,
 * appending at most limit bytes to out. OUT: *consumed = input bytes of the member. */
static int zlib_member(buf_t *out, const uint8_t *data, size_t len, size_t limit,
                       size_t *consumed, size_t at, err_t *err)
{
    z_stream zs;
    memset(&zs, 0, sizeof(zs));
    if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK)
        return err_set(err, EMB_ENOMEM, "gzip: inflateInit failed");
    size_t start = out->len;
    size_t in_left = len;
    const uint8_t *in = data;
    int rc = 0;
    for (;;) {
        size_t produced = out->len - start;
        size_t spare = out->cap > out->len ? out->cap - out->len - 1 : 0;
        spare = min_sz(spare, limit - produced);
        if (spare == 0 && produced < limit) {
            /* Geometric growth, never past the cap. */
            size_t want = produced ? produced : GZ_STREAM_FIRST;
            want = min_sz(want, limit - produced);
            reserve_exact(out, want);
            spare = want;
        }
        /* At the cap, offer a 1-byte probe: any output means the stream is too big. */
        uint8_t probe;
        bool probing = spare == 0;
        if (probing) {
            zs.next_out = &probe;
            zs.avail_out = 1;
        } else {
            zs.next_out = (uint8_t *)out->data + out->len;
            zs.avail_out = (uInt)min_sz(spare, UINT_MAX);
        }
        if (zs.avail_in == 0 && in_left) {
            size_t chunk = min_sz(in_left, UINT_MAX);
            zs.next_in = (Bytef *)(uintptr_t)in;
            zs.avail_in = (uInt)chunk;
            in += chunk;
            in_left -= chunk;
        }
        uInt before_out = zs.avail_out;
        int zr = inflate(&zs, Z_NO_FLUSH);
        size_t wrote = before_out - zs.avail_out;
        if (probing && wrote) {
            rc = err_set(err, EMB_ETOOBIG, "gzip: decompressed size exceeds %zu bytes", limit);
            break;
        }
        if (!probing)
            out->len += wrote;
        if (zr == Z_STREAM_END) {
            *consumed = (size_t)(in - data) - zs.avail_in;
            break;
        }
        if (zr == Z_OK)
            continue;
        if (zr == Z_BUF_ERROR) {
            /* No progress with output space available: the input ran out. */
            rc = err_set(err, EMB_ECORRUPT, "gzip: member at offset %zu truncated at offset %zu",
                         at, at + len);
            break;
        }
        if (zr == Z_MEM_ERROR) {
            rc = err_set(err, EMB_ENOMEM, "gzip: out of memory");
            break;
        }
        rc = err_set(err, EMB_ECORRUPT, "gzip: member at offset %zu: %s", at,
                     zs.msg ? zs.msg : "corrupt data");
        break;
    }
    inflateEnd(&zs);
    if (out->data)
        out->data[out->len] = 0;
    return rc;
}

int gz_decompress(buf_t *out, const uint8_t *data, size_t len, size_t max, err_t *err)
{
    size_t limit = max ? max : SIZE_MAX;
    if (out->max) {
        size_t room = out->max > out->len ? out->max - out->len : 0;
        limit = min_sz(limit, room);
    }
    size_t start = out->len;
    struct libdeflate_decompressor *d = NULL;
    int rc = 0;
    size_t pos = 0;

    if (!gz_is_gzip(data, len)) {
        rc = err_set(err, EMB_ECORRUPT, "gzip: bad magic at offset 0");
        goto out;
    }
    d = libdeflate_alloc_decompressor();
    if (!d) {
        rc = err_set(err, EMB_ENOMEM, "gzip: cannot allocate decompressor");
        goto out;
    }
    while (pos < len) {
        const uint8_t *in = data + pos;
        size_t in_len = len - pos;
        if (!gz_is_gzip(in, in_len)) {
            rc = err_set(err, EMB_ECORRUPT, "gzip: trailing garbage at offset %zu", pos);
            goto out;
        }
        if (in_len < GZ_MIN_MEMBER) {
            rc = err_set(err, EMB_ECORRUPT, "gzip: truncated member at offset %zu", pos);
            goto out;
        }
        size_t produced = out->len - start;
        size_t room = limit - produced;
        /* The last 4 bytes are the ISIZE of the last member: exact for the usual single
         * member. Trust it up to a 64x ratio (profiles compress ~5-10x); beyond that the data
         * has to prove itself through zlib's geometric growth. */
        const uint8_t *t = data + len - 4;
        size_t hint = (size_t)t[0] | (size_t)t[1] << 8 | (size_t)t[2] << 16 |
                      (size_t)t[3] << 24;
        size_t trusted = in_len <= SIZE_MAX / GZ_TRUST_RATIO ? in_len * GZ_TRUST_RATIO
                                                             : SIZE_MAX;
        hint = min_sz(hint, trusted > GZ_TRUST_MIN ? trusted : GZ_TRUST_MIN);
        size_t spare = out->cap > out->len ? out->cap - out->len - 1 : 0;
        size_t avail = min_sz(hint > spare ? hint : spare, room);
        uint8_t *dst = reserve_exact(out, avail);
        size_t in_used = 0, out_used = 0;
        enum libdeflate_result r =
            libdeflate_gzip_decompress_ex(d, in, in_len, dst, avail, &in_used, &out_used);
        if (r == LIBDEFLATE_SUCCESS) {
            out->len += out_used;
            out->data[out->len] = 0;
            pos += in_used;
            continue;
        }
        if (r == LIBDEFLATE_INSUFFICIENT_SPACE && avail == room) {
            rc = err_set(err, EMB_ETOOBIG, "gzip: decompressed size exceeds %zu bytes", limit);
            goto out;
        }
        /* Hint too small, or libdeflate rejected the data: stream with zlib, which also
         * words the error. */
        size_t used = 0;
        rc = zlib_member(out, in, in_len, room, &used, pos, err);
        if (rc)
            goto out;
        pos += used;
    }
out:
    if (d)
        libdeflate_free_decompressor(d);
    if (rc && out->data)
        buf_setlen(out, start);
    return rc;
}

int gz_compress(buf_t *out, const uint8_t *data, size_t len, int level, err_t *err)
{
    if (level < 0 || level > 12)
        return err_set(err, EMB_EINVAL, "gzip: compression level %d not in 0..12", level);
    struct libdeflate_compressor *c = libdeflate_alloc_compressor(level);
    if (!c)
        return err_set(err, EMB_ENOMEM, "gzip: cannot allocate compressor");
    int rc = 0;
    size_t room = libdeflate_gzip_compress_bound(c, len);
    if (out->max) {
        size_t left = out->max > out->len ? out->max - out->len : 0;
        room = min_sz(room, left);
    }
    uint8_t *dst = reserve_exact(out, room);
    size_t n = libdeflate_gzip_compress(c, data, len, dst, room);
    if (n == 0)
        rc = err_set(err, EMB_ETOOBIG, "gzip: compressed output exceeds %zu bytes", room);
    else
        buf_setlen(out, out->len + n);
    libdeflate_free_compressor(c);
    return rc;
}
