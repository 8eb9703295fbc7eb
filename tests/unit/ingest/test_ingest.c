/* Tests for ingest/ingest.c: legacy name → labels and profile type (PROTOCOLS.md §1.4),
 * multipart parsing, prev_profile deltas, and the WAL record round trip. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "ingest/ingest.h"
#include "ingest/multipart.h"

static int decode(batch_t *b, const char *name, const char *rate, const char *body)
{
    ingest_req_t req = {.name = name, .from_ns = 1, .until_ns = 2, .sample_rate = rate,
                        .spy_name = "gospy", .body = (const uint8_t *)body,
                        .body_len = strlen(body)};
    ingest_limits_t lim = {0, 30, 1024, 2048, 0};
    const char *fmt;
    err_t err;
    return ingest_decode(b, &fmt, &req, &lim, &err);
}

Test(ingest, legacy_cpu_name_sets_service_type_and_scales)
{
    batch_t b;
    cr_assert_eq(decode(&b, "my.app.cpu{env=prod}", "100", "a;b 3\n"), 0);
    cr_assert_eq(b.nprofs, 1);
    const labels_t *l = &b.profs[0].labels;
    cr_assert_str_eq(labels_get(l, "service_name"), "my.app");
    cr_assert_str_eq(labels_get(l, "env"), "prod");
    cr_assert_str_eq(labels_get(l, "pyroscope_spy"), "gospy");
    cr_assert_str_eq(labels_get(l, "__profile_type__"),
                     "process_cpu:cpu:nanoseconds:cpu:nanoseconds");
    cr_assert_eq(b.profs[0].value[0], 30000000);
    batch_release(&b);
}

Test(ingest, zero_rate_keeps_samples_and_service_name_tag_moves_app)
{
    batch_t b;
    cr_assert_eq(decode(&b, "app.alloc_space{service_name=svc}", "0", "a 7\n"), 0);
    const labels_t *l = &b.profs[0].labels;
    cr_assert_str_eq(labels_get(l, "service_name"), "svc");
    cr_assert_str_eq(labels_get(l, "app_name"), "app");
    cr_assert_str_eq(labels_get(l, "__profile_type__"), "memory:alloc_space:bytes::");
    cr_assert_eq(b.profs[0].value[0], 7);
    batch_release(&b);
}

Test(ingest, unknown_suffix_is_invalid_and_profile_id_is_dropped)
{
    batch_t b;
    cr_assert_eq(decode(&b, "app.bogus", NULL, "a 1\n"), EMB_EINVAL);
    batch_release(&b);
    cr_assert_eq(decode(&b, "app.cpu{profile_id=abc}", NULL, "a 1\n"), 0);
    cr_assert_eq(b.nprofs, 0);
    batch_release(&b);
}

Test(ingest, too_many_labels_rejected)
{
    batch_t b;
    char name[2048] = "app{";
    for (int i = 0; i < 40; i++) {
        char kv[32];
        snprintf(kv, sizeof(kv), "%sk%d=v", i ? "," : "", i);
        strncat(name, kv, sizeof(name) - strlen(name) - 1);
    }
    strncat(name, "}", sizeof(name) - strlen(name) - 1);
    cr_assert_eq(decode(&b, name, NULL, "a 1\n"), EMB_EINVAL);
    batch_release(&b);
}

Test(ingest, multipart_parts_and_filename_rule)
{
    const char body[] =
        "--XyZ\r\nContent-Disposition: form-data; name=\"profile\"; filename=\"p.pprof\"\r\n"
        "Content-Type: application/octet-stream\r\n\r\nPROFILE\r\n"
        "--XyZ\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nno filename\r\n"
        "--XyZ--\r\n";
    slice_t bd;
    err_t err;
    cr_assert_eq(multipart_boundary(&bd, "multipart/form-data; boundary=XyZ", &err), 0);
    mpart_t parts[MULTIPART_MAX_PARTS];
    size_t n;
    cr_assert_eq(multipart_parse(parts, &n, bd, (const uint8_t *)body, sizeof(body) - 1, &err), 0);
    cr_assert_eq(n, 2);
    const mpart_t *p = multipart_file(parts, n, "profile");
    cr_assert_not_null(p);
    cr_assert_eq(p->data.len, 7);
    cr_assert_eq(memcmp(p->data.p, "PROFILE", 7), 0);
    cr_assert_null(multipart_file(parts, n, "note"));
    /* unterminated part */
    cr_assert_eq(multipart_parse(parts, &n, bd, (const uint8_t *)body, 90, &err), EMB_ECORRUPT);
}

Test(ingest, wal_record_round_trip)
{
    const uint8_t body[] = {0, 1, 2, 'x', 0};
    ingest_req_t req = {.name = "a.cpu{x=y}", .from_ns = -5, .until_ns = 1LL << 62,
                        .format = "pprof", .sample_rate = NULL, .spy_name = "",
                        .content_type = "multipart/form-data; boundary=b", .body = body,
                        .body_len = sizeof(body)};
    buf_t rec = BUF_INIT;
    cr_assert_eq(ingest_record_encode(&rec, "tenant-1", &req), 0);
    ingest_req_t back;
    const char *tenant;
    err_t err;
    cr_assert_eq(ingest_record_decode(&back, &tenant, (const uint8_t *)rec.data, rec.len, &err), 0);
    cr_assert_str_eq(tenant, "tenant-1");
    cr_assert_str_eq(back.name, req.name);
    cr_assert_str_eq(back.format, "pprof");
    cr_assert_null(back.sample_rate);
    cr_assert_str_eq(back.spy_name, "");
    cr_assert_eq(back.from_ns, -5);
    cr_assert_eq(back.until_ns, 1LL << 62);
    cr_assert_eq(back.body_len, sizeof(body));
    cr_assert_eq(memcmp(back.body, body, sizeof(body)), 0);
    for (size_t cut = 0; cut < rec.len; cut++)
        cr_assert_neq(ingest_record_decode(&back, &tenant, (const uint8_t *)rec.data, cut, &err), 0);
    buf_release(&rec);
}

Test(ingest, max_nodes_per_profile_folds_small_subtrees_into_other)
{
    const char *body = "main;big;leaf 100\nmain;s1;x 1\nmain;s2;y 2\nmain;s3 3\n";
    ingest_req_t req = {.name = "app.cpu", .from_ns = 1, .until_ns = 2, .sample_rate = "0",
                        .body = (const uint8_t *)body, .body_len = strlen(body)};
    ingest_limits_t lim = {0, 0, 0, 0, 4};
    batch_t b;
    const char *fmt;
    err_t err;
    cr_assert_eq(ingest_decode(&b, &fmt, &req, &lim, &err), 0, "%s", err.msg);
    cr_assert_eq(b.nprofs, 1);
    int64_t total = 0, in_other = 0;
    uint32_t other = strtab_find(&b.strs, "other", 5);
    cr_assert_neq(other, UINT32_MAX);
    for (size_t i = 0; i < b.profs[0].n; i++) {
        total += b.profs[0].value[i];
        uint32_t nd = b.profs[0].stack[i];
        if (b.tree.name[nd] == other) {
            in_other += b.profs[0].value[i];
            /* re-attached under main, the deepest kept ancestor */
            cr_assert_str_eq(strtab_get(&b.strs, b.tree.name[b.tree.parent[nd]]), "main");
        }
    }
    cr_assert_eq(total, 106);
    cr_assert_eq(in_other, 3); /* s1;x and s2;y: s3 (3) is the 4th largest and stays */
    batch_release(&b);
}

/* ---- a minimal protobuf writer for hand-made pprof inputs ---- */

static void pb_varint(buf_t *b, uint64_t v)
{
    while (v >= 0x80) {
        cr_assert_eq(buf_putc(b, (char)(v | 0x80)), 0);
        v >>= 7;
    }
    cr_assert_eq(buf_putc(b, (char)v), 0);
}

static void pb_bytes(buf_t *b, int field, const void *p, size_t n)
{
    pb_varint(b, (uint64_t)field << 3 | 2);
    pb_varint(b, n);
    cr_assert_eq(buf_append(b, p, n), 0);
}

static void pb_uint(buf_t *b, int field, uint64_t v)
{
    pb_varint(b, (uint64_t)field << 3);
    pb_varint(b, v);
}

/* A profile with one sample whose stack is f1 (leaf) ... f<depth> (root). */
static void deep_profile(buf_t *out, int depth)
{
    pb_bytes(out, 6, "", 0);
    pb_bytes(out, 6, "cpu", 3);
    pb_bytes(out, 6, "nanoseconds", 11);
    buf_t vt = BUF_INIT;
    pb_uint(&vt, 1, 1);
    pb_uint(&vt, 2, 2);
    pb_bytes(out, 1, vt.data, vt.len);
    for (int i = 1; i <= depth; i++) {
        char name[16];
        int n = snprintf(name, sizeof(name), "f%d", i);
        pb_bytes(out, 6, name, (size_t)n);
        buf_t fn = BUF_INIT, loc = BUF_INIT, line = BUF_INIT;
        pb_uint(&fn, 1, (uint64_t)i);
        pb_uint(&fn, 2, (uint64_t)(2 + i)); /* string index of "f<i>" */
        pb_bytes(out, 5, fn.data, fn.len);
        pb_uint(&line, 1, (uint64_t)i);
        pb_uint(&loc, 1, (uint64_t)i);
        pb_bytes(&loc, 4, line.data, line.len);
        pb_bytes(out, 4, loc.data, loc.len);
        buf_release(&fn);
        buf_release(&loc);
        buf_release(&line);
    }
    buf_t sm = BUF_INIT;
    for (int i = 1; i <= depth; i++)
        pb_uint(&sm, 1, (uint64_t)i);
    pb_uint(&sm, 2, 7);
    pb_bytes(out, 2, sm.data, sm.len);
    buf_release(&sm);
    buf_release(&vt);
}

Test(ingest, pprof_stacks_deeper_than_1000_keep_the_leaf_end)
{
    buf_t p = BUF_INIT;
    deep_profile(&p, 1500);
    ingest_req_t req = {.name = "deep", .from_ns = 1, .until_ns = 2, .format = "pprof",
                        .body = (const uint8_t *)p.data, .body_len = p.len};
    ingest_limits_t lim = {0, 0, 0, 0, 0};
    batch_t b;
    const char *fmt;
    err_t err;
    cr_assert_eq(ingest_decode(&b, &fmt, &req, &lim, &err), 0, "%s", err.msg);
    cr_assert_eq(b.nprofs, 1);
    cr_assert_eq(b.profs[0].n, 1);
    uint32_t nd = b.profs[0].stack[0];
    cr_assert_str_eq(strtab_get(&b.strs, b.tree.name[nd]), "f1"); /* leaf kept */
    int depth = 0;
    for (; nd; nd = b.tree.parent[nd])
        depth++;
    cr_assert_eq(depth, 1000);
    cr_assert_str_eq(labels_get(&b.profs[0].labels, "__profile_type__"),
                     "process_cpu:cpu:nanoseconds::");
    batch_release(&b);
    buf_release(&p);
}
