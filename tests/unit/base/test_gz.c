/* Tests for base/gz: round trips, concatenated members, caps (gzip bombs, lying ISIZE
 * trailers), corrupt and truncated input. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/gz.h"

/* Deterministic text-like bytes: compressible but not trivially. */
static uint8_t *make_data(size_t n, uint32_t seed)
{
    uint8_t *p = malloc(n ? n : 1);
    static const char words[][8] = {"alpha", "beta", "gamma", "delta",
                                    "main.", "runtime", ";",    " "};
    uint32_t x = seed * 2654435761u + 1;
    size_t i = 0;
    while (i < n) {
        x = x * 1103515245u + 12345u;
        const char *w = words[(x >> 16) & 7];
        for (size_t j = 0; w[j] && i < n; j++)
            p[i++] = (uint8_t)w[j];
        if (((x >> 8) & 15) == 0 && i < n)
            p[i++] = (uint8_t)(x >> 24);
    }
    return p;
}

static void compress_into(buf_t *out, const uint8_t *p, size_t n, int level)
{
    err_t err = {0};
    cr_assert_eq(gz_compress(out, p, n, level, &err), 0, "%s", err.msg);
}

static void set_isize(buf_t *b, uint32_t v)
{
    uint8_t *t = (uint8_t *)b->data + b->len - 4;
    t[0] = (uint8_t)v;
    t[1] = (uint8_t)(v >> 8);
    t[2] = (uint8_t)(v >> 16);
    t[3] = (uint8_t)(v >> 24);
}

Test(gz, detects_magic)
{
    const uint8_t gz[] = {0x1f, 0x8b, 8};
    cr_assert(gz_is_gzip(gz, 3));
    cr_assert(gz_is_gzip(gz, 2));
    cr_assert_not(gz_is_gzip(gz, 1));
    cr_assert_not(gz_is_gzip((const uint8_t *)"\x0a\x02", 2));
    cr_assert_not(gz_is_gzip(NULL, 0));
}

Test(gz, round_trip_levels_and_sizes)
{
    static const size_t sizes[] = {0, 1, 100, 4096, 300000};
    static const int levels[] = {0, 1, 6, 12};
    for (size_t si = 0; si < sizeof(sizes) / sizeof(*sizes); si++) {
        uint8_t *data = make_data(sizes[si], (uint32_t)si);
        for (size_t li = 0; li < sizeof(levels) / sizeof(*levels); li++) {
            buf_t z = BUF_INIT, out = BUF_INIT;
            err_t err = {0};
            compress_into(&z, data, sizes[si], levels[li]);
            cr_assert(gz_is_gzip((uint8_t *)z.data, z.len));
            cr_assert_eq(gz_decompress(&out, (uint8_t *)z.data, z.len, 0, &err), 0, "%s",
                         err.msg);
            cr_assert_eq(out.len, sizes[si]);
            cr_assert(sizes[si] == 0 || memcmp(out.data, data, sizes[si]) == 0);
            cr_assert_eq(out.data[out.len], 0);
            buf_release(&z);
            buf_release(&out);
        }
        free(data);
    }
}

Test(gz, appends_to_existing_contents)
{
    uint8_t *data = make_data(5000, 7);
    buf_t z = BUF_INIT, out = BUF_INIT;
    err_t err = {0};
    compress_into(&z, data, 5000, 6);
    cr_assert_eq(buf_puts(&out, "prefix:"), 0);
    cr_assert_eq(gz_decompress(&out, (uint8_t *)z.data, z.len, 0, &err), 0, "%s", err.msg);
    cr_assert_eq(out.len, 7 + 5000);
    cr_assert(memcmp(out.data, "prefix:", 7) == 0);
    cr_assert(memcmp(out.data + 7, data, 5000) == 0);
    buf_release(&z);
    buf_release(&out);
    free(data);
}

Test(gz, concatenated_members)
{
    /* A big member then a small one: the trailer's ISIZE (of the last member) is far too small
     * for the first, which exercises the streaming fallback. */
    uint8_t *a = make_data(200000, 1), *b = make_data(10, 2);
    buf_t z = BUF_INIT, out = BUF_INIT;
    err_t err = {0};
    compress_into(&z, a, 200000, 6);
    compress_into(&z, b, 10, 6);
    compress_into(&z, b, 0, 1);
    compress_into(&z, a, 1000, 1);
    cr_assert_eq(gz_decompress(&out, (uint8_t *)z.data, z.len, 0, &err), 0, "%s", err.msg);
    cr_assert_eq(out.len, 200000 + 10 + 1000);
    cr_assert(memcmp(out.data, a, 200000) == 0);
    cr_assert(memcmp(out.data + 200000, b, 10) == 0);
    cr_assert(memcmp(out.data + 200010, a, 1000) == 0);
    buf_release(&z);
    buf_release(&out);
    free(a);
    free(b);
}

Test(gz, max_is_exact_on_both_paths)
{
    uint8_t *data = make_data(100000, 3);
    buf_t z = BUF_INIT;
    compress_into(&z, data, 100000, 6);
    for (int lie = 0; lie < 3; lie++) {
        /* lie 0: honest ISIZE (libdeflate one shot); 1: ISIZE too small (zlib streaming);
         * 2: ISIZE huge (clamped hint). */
        set_isize(&z, lie == 0 ? 100000 : lie == 1 ? 17 : 0xffffffffu);
        buf_t out = BUF_INIT;
        err_t err = {0};
        int rc = gz_decompress(&out, (uint8_t *)z.data, z.len, 100000, &err);
        if (lie == 0)
            cr_assert_eq(rc, 0, "%s", err.msg);
        else
            /* zlib verifies ISIZE: a lying trailer is corrupt data, but never too big. */
            cr_assert(rc == 0 || rc == EMB_ECORRUPT, "lie %d: rc %d %s", lie, rc, err.msg);
        if (rc == 0)
            cr_assert(out.len == 100000 && memcmp(out.data, data, 100000) == 0);
        cr_assert_leq(out.cap, 100000 + 1);
        buf_release(&out);

        rc = gz_decompress(&out, (uint8_t *)z.data, z.len, 99999, &err);
        cr_assert_eq(rc, EMB_ETOOBIG, "lie %d: rc %d %s", lie, rc, err.msg);
        cr_assert_eq(out.len, 0);
        cr_assert_leq(out.cap, 99999 + 1);
        buf_release(&out);
    }
    buf_release(&z);
    free(data);
}

Test(gz, bomb_is_capped_without_allocating_past_max)
{
    size_t n = 32u << 20; /* 32 MiB of zeros compress to ~32 KiB */
    uint8_t *zeros = calloc(n, 1);
    buf_t z = BUF_INIT;
    compress_into(&z, zeros, n, 1);
    free(zeros);
    cr_assert_lt(z.len, 200000);
    static const uint32_t isizes[] = {0, 100, (uint32_t)(32u << 20), 0xffffffffu};
    for (size_t i = 0; i < sizeof(isizes) / sizeof(*isizes); i++) {
        set_isize(&z, isizes[i]);
        buf_t out = BUF_INIT;
        err_t err = {0};
        size_t max = 1u << 20;
        int rc = gz_decompress(&out, (uint8_t *)z.data, z.len, max, &err);
        cr_assert_eq(rc, EMB_ETOOBIG, "isize %u: rc %d %s", isizes[i], rc, err.msg);
        cr_assert_eq(err.code, EMB_ETOOBIG);
        cr_assert_eq(out.len, 0);
        cr_assert_leq(out.cap, max + 1, "isize %u: cap %zu", isizes[i], out.cap);
        buf_release(&out);
    }
    buf_release(&z);
}

Test(gz, highly_compressible_data_round_trips)
{
    /* ~1000x: past the ratio trusted from the trailer, so it goes through zlib streaming. */
    size_t n = 8u << 20;
    uint8_t *zeros = calloc(n, 1);
    zeros[n / 2] = 1;
    buf_t z = BUF_INIT, out = BUF_INIT;
    err_t err = {0};
    compress_into(&z, zeros, n, 6);
    cr_assert_lt(z.len * 64, n);
    cr_assert_eq(gz_decompress(&out, (uint8_t *)z.data, z.len, 0, &err), 0, "%s", err.msg);
    cr_assert_eq(out.len, n);
    cr_assert(memcmp(out.data, zeros, n) == 0);
    buf_release(&out);
    cr_assert_eq(gz_decompress(&out, (uint8_t *)z.data, z.len, n, &err), 0, "%s", err.msg);
    cr_assert_eq(out.len, n);
    cr_assert_leq(out.cap, n + 1);
    buf_release(&out);
    buf_release(&z);
    free(zeros);
}

Test(gz, out_max_caps_too)
{
    uint8_t *data = make_data(10000, 4);
    buf_t z = BUF_INIT, out;
    err_t err = {0};
    compress_into(&z, data, 10000, 6);
    buf_init(&out, 10005);
    cr_assert_eq(buf_puts(&out, "12345"), 0);
    cr_assert_eq(gz_decompress(&out, (uint8_t *)z.data, z.len, 0, &err), 0, "%s", err.msg);
    cr_assert_eq(out.len, 10005);
    buf_reset(&out);
    cr_assert_eq(buf_puts(&out, "123456"), 0);
    cr_assert_eq(gz_decompress(&out, (uint8_t *)z.data, z.len, 0, &err), EMB_ETOOBIG);
    cr_assert_eq(out.len, 6);
    cr_assert_str_eq(out.data, "123456");
    buf_release(&out);
    buf_release(&z);
    free(data);
}

Test(gz, rejects_non_gzip_and_garbage)
{
    buf_t out = BUF_INIT;
    err_t err = {0};
    cr_assert_eq(gz_decompress(&out, (const uint8_t *)"", 0, 0, &err), EMB_ECORRUPT);
    cr_assert_eq(gz_decompress(&out, (const uint8_t *)"hello world, not gzip", 21, 0, &err),
                 EMB_ECORRUPT);
    cr_assert(strstr(err.msg, "magic"), "%s", err.msg);
    const uint8_t hdr_only[] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3};
    cr_assert_eq(gz_decompress(&out, hdr_only, sizeof(hdr_only), 0, &err), EMB_ECORRUPT);

    uint8_t *data = make_data(20000, 5);
    buf_t z = BUF_INIT;
    compress_into(&z, data, 20000, 6);
    /* Trailing garbage after a valid member. */
    cr_assert_eq(buf_puts(&z, "junk"), 0);
    cr_assert_eq(gz_decompress(&out, (uint8_t *)z.data, z.len, 0, &err), EMB_ECORRUPT);
    cr_assert(strstr(err.msg, "trailing"), "%s", err.msg);
    z.len -= 4;
    /* Corrupt CRC. */
    z.data[z.len - 6] ^= 0x55;
    cr_assert_eq(gz_decompress(&out, (uint8_t *)z.data, z.len, 0, &err), EMB_ECORRUPT);
    z.data[z.len - 6] ^= 0x55;
    /* Corrupt deflate data in the middle: any outcome but success or a crash. */
    for (size_t i = 12; i < z.len - 8; i += 97) {
        z.data[i] ^= 0xa5;
        cr_assert_eq(gz_decompress(&out, (uint8_t *)z.data, z.len, 0, &err), EMB_ECORRUPT,
                     "flip at %zu", i);
        z.data[i] ^= 0xa5;
    }
    cr_assert_eq(out.len, 0);
    /* Every truncation fails cleanly and leaves out untouched. */
    cr_assert_eq(buf_puts(&out, "keep"), 0);
    for (size_t n = 0; n < z.len; n++) {
        int rc = gz_decompress(&out, (uint8_t *)z.data, n, 0, &err);
        cr_assert_eq(rc, EMB_ECORRUPT, "prefix %zu: rc %d", n, rc);
        cr_assert_eq(out.len, 4);
        cr_assert_str_eq(out.data, "keep");
    }
    cr_assert_eq(gz_decompress(&out, (uint8_t *)z.data, z.len, 0, &err), 0, "%s", err.msg);
    cr_assert_eq(out.len, 20004);
    buf_release(&out);
    buf_release(&z);
    free(data);
}

Test(gz, compress_rejects_bad_level_and_respects_max)
{
    buf_t out = BUF_INIT;
    err_t err = {0};
    cr_assert_eq(gz_compress(&out, (const uint8_t *)"x", 1, 13, &err), EMB_EINVAL);
    cr_assert_eq(gz_compress(&out, (const uint8_t *)"x", 1, -1, &err), EMB_EINVAL);
    buf_t small;
    buf_init(&small, 10);
    cr_assert_eq(gz_compress(&small, (const uint8_t *)"hello", 5, 6, &err), EMB_ETOOBIG);
    cr_assert_eq(small.len, 0);
    buf_release(&small);
    buf_release(&out);
}
