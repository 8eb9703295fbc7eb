/* Tests for api/pbcodec and api/pbschema: every schema table passes pb_schema_check; building
 * and reading by name and number; exact binary and JSON encodings; binary <-> JSON round trips
 * over several schemas (and real Go pprof profiles); int64 as strings, enums, optional
 * presence, packed/unpacked scalars, unknown fields, merging; and rejection of malformed input
 * (every truncation, depth bombs, bad UTF-8, bad base64, out-of-range numbers, budgets). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/pbcodec.h"
#include "api/pbschema.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/gz.h"
#include "ingest/pprof.h"

#ifndef FIXTURES_DIR
#error "FIXTURES_DIR must be defined by the build"
#endif

/* ---- helpers ----------------------------------------------------------------------------- */

static void put_varint(buf_t *b, uint64_t v)
{
    do {
        cr_assert_eq(buf_putc(b, (char)((v & 0x7f) | (v > 0x7f ? 0x80 : 0))), 0);
        v >>= 7;
    } while (v);
}

static void put_tag(buf_t *b, uint32_t num, unsigned wt) { put_varint(b, (uint64_t)num << 3 | wt); }

static void put_len(buf_t *b, uint32_t num, const void *p, size_t n)
{
    put_tag(b, num, 2);
    put_varint(b, n);
    cr_assert_eq(buf_append(b, p, n), 0);
}

static pb_obj_t *dec_bin(const pb_msg_t *m, const buf_t *b)
{
    pb_obj_t *o = NULL;
    err_t err = {0};
    int rc = pb_decode_binary(&o, m, b->data, b->len, &err);
    cr_assert_eq(rc, 0, "decode %s: %s", m->name, err.msg);
    return o;
}

static pb_obj_t *dec_json(const pb_msg_t *m, const char *s)
{
    pb_obj_t *o = NULL;
    err_t err = {0};
    int rc = pb_decode_json(&o, m, s, strlen(s), &err);
    cr_assert_eq(rc, 0, "decode %s from %s: %s", m->name, s, err.msg);
    return o;
}

/* Decoding s must fail with code; the message must contain want (if given). */
static void json_fails(const pb_msg_t *m, const char *s, int code, const char *want)
{
    pb_obj_t *o = (pb_obj_t *)1;
    err_t err = {0};
    int rc = pb_decode_json(&o, m, s, strlen(s), &err);
    cr_assert_eq(rc, code, "%s: rc %d (%s)", s, rc, err.msg);
    cr_assert_null(o);
    cr_assert(!want || strstr(err.msg, want), "%s: message \"%s\" lacks \"%s\"", s, err.msg, want);
}

static void bin_fails(const pb_msg_t *m, const void *p, size_t n, const char *want)
{
    pb_obj_t *o = (pb_obj_t *)1;
    err_t err = {0};
    int rc = pb_decode_binary(&o, m, p, n, &err);
    cr_assert_eq(rc, EMB_EINVAL, "rc %d (%s)", rc, err.msg);
    cr_assert_null(o);
    cr_assert(!want || strstr(err.msg, want), "message \"%s\" lacks \"%s\"", err.msg, want);
}

static char *to_json(const pb_obj_t *o)
{
    buf_t b = BUF_INIT;
    cr_assert_eq(pb_encode_json(&b, o), 0);
    return buf_detach(&b, NULL);
}

static void expect_json(const pb_obj_t *o, const char *want)
{
    char *got = to_json(o);
    cr_assert_str_eq(got, want);
    free(got);
}

static void expect_bin(const pb_obj_t *o, const char *want, size_t n)
{
    buf_t b = BUF_INIT;
    cr_assert_eq(pb_encode_binary(&b, o), 0);
    cr_assert_eq(b.len, n, "binary length %zu, want %zu", b.len, n);
    cr_assert(memcmp(b.data, want, n) == 0, "binary bytes differ");
    buf_release(&b);
}

/* o -> binary -> o2 and o -> JSON -> o3 must all be equal, and both encodings stable. */
static void round_trip(const pb_obj_t *o)
{
    const pb_msg_t *m = pb_schema(o);
    buf_t b1 = BUF_INIT, b2 = BUF_INIT, j1 = BUF_INIT, j2 = BUF_INIT;
    cr_assert_eq(pb_encode_binary(&b1, o), 0);
    pb_obj_t *o2 = dec_bin(m, &b1);
    cr_assert(pb_equal(o, o2), "%s: binary round trip differs", m->name);
    cr_assert_eq(pb_encode_binary(&b2, o2), 0);
    cr_assert(b1.len == b2.len && memcmp(b1.data, b2.data, b1.len) == 0);

    cr_assert_eq(pb_encode_json(&j1, o), 0);
    pb_obj_t *o3 = dec_json(m, j1.data);
    cr_assert(pb_equal(o, o3), "%s: JSON round trip differs: %s", m->name, j1.data);
    cr_assert_eq(pb_encode_json(&j2, o3), 0);
    cr_assert_str_eq(j1.data, j2.data);
    pb_free(o2);
    pb_free(o3);
    buf_release(&b1);
    buf_release(&b2);
    buf_release(&j1);
    buf_release(&j2);
}

/* A recursive test schema for depth limits. */
extern const pb_msg_t node_msg;
static const pb_field_t node_fields[] = {
    {.num = 1, .name = "child", .json = "child", .type = PB_MSG, .msg = &node_msg},
    {.num = 2, .name = "v", .json = "v", .type = PB_INT64},
};
const pb_msg_t node_msg = {"test.Node", node_fields, 2};

/* Every scalar type, for exhaustive encodings. */
static const pb_enum_value_t color_values[] = {{"RED", 0}, {"GREEN", 1}, {"BLUE", -2}};
static const pb_enum_t color_enum = {"test.Color", color_values, 3};
static const pb_field_t all_fields[] = {
    {.num = 1, .name = "s", .json = "s", .type = PB_STRING},
    {.num = 2, .name = "b", .json = "b", .type = PB_BYTES},
    {.num = 3, .name = "i64", .json = "i64", .type = PB_INT64},
    {.num = 4, .name = "u64", .json = "u64", .type = PB_UINT64},
    {.num = 5, .name = "i32", .json = "i32", .type = PB_INT32},
    {.num = 6, .name = "u32", .json = "u32", .type = PB_UINT32},
    {.num = 7, .name = "s64", .json = "s64", .type = PB_SINT64},
    {.num = 8, .name = "s32", .json = "s32", .type = PB_SINT32},
    {.num = 9, .name = "f64", .json = "f64", .type = PB_FIXED64},
    {.num = 10, .name = "sf64", .json = "sf64", .type = PB_SFIXED64},
    {.num = 11, .name = "f32", .json = "f32", .type = PB_FIXED32},
    {.num = 12, .name = "sf32", .json = "sf32", .type = PB_SFIXED32},
    {.num = 13, .name = "ok", .json = "ok", .type = PB_BOOL},
    {.num = 14, .name = "d", .json = "d", .type = PB_DOUBLE},
    {.num = 15, .name = "fl", .json = "fl", .type = PB_FLOAT},
    {.num = 16, .name = "color", .json = "color", .type = PB_ENUM, .enm = &color_enum},
    {.num = 17, .name = "r_s64", .json = "rS64", .type = PB_SINT64, .repeated = true},
    {.num = 18, .name = "r_f32", .json = "rF32", .type = PB_FIXED32, .repeated = true},
    {.num = 19, .name = "r_d", .json = "rD", .type = PB_DOUBLE, .repeated = true},
    {.num = 20, .name = "r_color", .json = "rColor", .type = PB_ENUM, .enm = &color_enum,
     .repeated = true},
    {.num = 21, .name = "r_ok", .json = "rOk", .type = PB_BOOL, .repeated = true},
    {.num = 22, .name = "o_i32", .json = "oI32", .type = PB_INT32, .optional = true},
    {.num = 23, .name = "o_s", .json = "oS", .type = PB_STRING, .optional = true},
    {.num = 24, .name = "o_d", .json = "oD", .type = PB_DOUBLE, .optional = true},
    {.num = 25, .name = "r_b", .json = "rB", .type = PB_BYTES, .repeated = true},
};
static const pb_msg_t all_msg = {"test.All", all_fields, sizeof(all_fields) / sizeof(all_fields[0])};

/* ---- schemas ----------------------------------------------------------------------------- */

Test(pbschema, every_table_is_consistent)
{
    for (size_t i = 0; i < pbs_nall; i++) {
        err_t err = {0};
        cr_assert_eq(pb_schema_check(pbs_all[i], &err), 0, "%s", err.msg);
        cr_assert_eq(pbs_find(pbs_all[i]->name), pbs_all[i]);
    }
    err_t err = {0};
    cr_assert_eq(pb_schema_check(&node_msg, &err), 0, "%s", err.msg);
    cr_assert_eq(pb_schema_check(&all_msg, &err), 0, "%s", err.msg);
    cr_assert_eq(pbs_nmethods, 13);
    for (size_t i = 0; i < pbs_nmethods; i++)
        cr_assert_eq(pbs_method_find(pbs_methods[i].path), &pbs_methods[i]);
    const pbs_method_t *m = pbs_method_find("/querier.v1.QuerierService/SelectMergeProfile");
    cr_assert_not_null(m);
    cr_assert_eq(m->resp, &pbs_google_profile);
    cr_assert_null(pbs_method_find("/querier.v1.QuerierService/Nope"));
    cr_assert_null(pbs_find("types.v1.Nope"));
}

Test(pbschema, check_rejects_bad_tables)
{
    static const pb_field_t bad_json[] = {
        {.num = 1, .name = "profile_typeID", .json = "profileTypeId", .type = PB_STRING}};
    static const pb_field_t bad_order[] = {
        {.num = 2, .name = "a", .json = "a", .type = PB_STRING},
        {.num = 1, .name = "b", .json = "b", .type = PB_STRING}};
    static const pb_field_t bad_msg[] = {{.num = 1, .name = "a", .json = "a", .type = PB_MSG}};
    static const pb_field_t bad_opt[] = {
        {.num = 1, .name = "a", .json = "a", .type = PB_INT64, .repeated = true, .optional = true}};
    static const pb_field_t bad_num[] = {{.num = 19001, .name = "a", .json = "a", .type = PB_BOOL}};
    const pb_msg_t bad[] = {{"t.A", bad_json, 1}, {"t.B", bad_order, 2}, {"t.C", bad_msg, 1},
                            {"t.D", bad_opt, 1}, {"t.E", bad_num, 1}};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err_t err = {0};
        cr_assert_eq(pb_schema_check(&bad[i], &err), EMB_EINVAL, "%s", bad[i].name);
        cr_assert(err.msg[0]);
    }
}

/* ---- building and reading ---------------------------------------------------------------- */

Test(pbcodec, build_read_by_name_and_number)
{
    pb_obj_t *r = pb_new(&pbs_querier_select_merge_stacktraces_request);
    pb_set_str(r, "profileTypeID", "process_cpu:cpu:nanoseconds:cpu:nanoseconds");
    pb_set_str(r, "label_selector", "{service_name=\"app\"}");
    pb_set_i64(r, 3, 1700000000000LL);
    pb_set_i64(r, "end", 1700003600000LL);
    pb_set_i64(r, "maxNodes", 1024);
    pb_set_enum(r, "format", PBS_PROFILE_FORMAT_TREE);
    pb_add_str(r, "spanSelector", "9a517183f26a089d");
    pb_add_str(r, 11, "5a4fe264a9c987fe");
    pb_obj_t *sel = pb_set_msg(r, "stackTraceSelector");
    pb_set_str(pb_add_msg(sel, "callSite"), "name", "main");
    pb_set_str(pb_add_msg(sel, "call_site"), 1, "work");

    cr_assert_str_eq(pb_get_str(r, 1), "process_cpu:cpu:nanoseconds:cpu:nanoseconds");
    cr_assert_str_eq(pb_get_str(r, "labelSelector"), "{service_name=\"app\"}");
    cr_assert_eq(pb_get_i64(r, "start"), 1700000000000LL);
    cr_assert_eq(pb_get_i64(r, 4), 1700003600000LL);
    cr_assert(pb_has(r, "maxNodes"));
    cr_assert_eq(pb_get_i64(r, "max_nodes"), 1024);
    cr_assert_eq(pb_get_enum(r, "format"), PBS_PROFILE_FORMAT_TREE);
    cr_assert_str_eq(pb_get_enum_name(r, "format"), "PROFILE_FORMAT_TREE");
    cr_assert_eq(pb_count(r, "spanSelector"), 2);
    cr_assert_str_eq(pb_get_str_at(r, "span_selector", 1), "5a4fe264a9c987fe");
    const pb_obj_t *s = pb_get_msg(r, "stackTraceSelector");
    cr_assert_eq(s, sel);
    cr_assert_eq(pb_count(s, "callSite"), 2);
    cr_assert_str_eq(pb_get_str(pb_get_msg_at(s, "callSite", 1), "name"), "work");
    /* Absent sub-messages read as NULL, and getters take NULL. */
    cr_assert_null(pb_get_msg(r, "async"));
    cr_assert_eq(pb_get_enum(pb_get_msg(r, "async"), "type"), 0);
    cr_assert_str_eq(pb_get_str(pb_get_msg(r, "async"), "requestId"), "");
    cr_assert(!pb_has(r, "async"));
    cr_assert(!pb_has(r, "traceIdSelector"));
    cr_assert_eq(pb_count(r, "traceIdSelector"), 0);

    expect_json(r, "{\"profileTypeID\":\"process_cpu:cpu:nanoseconds:cpu:nanoseconds\","
                   "\"labelSelector\":\"{service_name=\\\"app\\\"}\",\"start\":\"1700000000000\","
                   "\"end\":\"1700003600000\",\"maxNodes\":\"1024\",\"format\":"
                   "\"PROFILE_FORMAT_TREE\",\"stackTraceSelector\":{\"callSite\":[{\"name\":"
                   "\"main\"},{\"name\":\"work\"}]},\"spanSelector\":[\"9a517183f26a089d\","
                   "\"5a4fe264a9c987fe\"]}");
    round_trip(r);

    /* Setting a default makes a field without presence absent again. */
    pb_set_str(r, "labelSelector", "");
    pb_set_i64(r, "start", 0);
    pb_set_enum(r, "format", 0);
    cr_assert(!pb_has(r, "labelSelector") && !pb_has(r, "start") && !pb_has(r, "format"));
    pb_clear(r, "maxNodes");
    pb_clear(r, "stackTraceSelector");
    pb_clear(r, "spanSelector");
    cr_assert(!pb_has(r, "maxNodes") && !pb_has(r, "stackTraceSelector"));
    expect_json(r, "{\"profileTypeID\":\"process_cpu:cpu:nanoseconds:cpu:nanoseconds\","
                   "\"end\":\"1700003600000\"}");
    pb_free(r);
    pb_free(NULL);
}

Test(pbcodec, protocols_example)
{
    /* The SelectMergeStacktraces example of PROTOCOLS.md §6.3. */
    const char *req = "{\"profileTypeID\":\"process_cpu:cpu:nanoseconds:cpu:nanoseconds\","
                      "\"labelSelector\":\"{service_name=\\\"app\\\"}\",\"start\":1700000000000,"
                      "\"end\":1700003600000,\"maxNodes\":1024}";
    pb_obj_t *r = dec_json(&pbs_querier_select_merge_stacktraces_request, req);
    cr_assert_eq(pb_get_i64(r, "start"), 1700000000000LL);
    cr_assert_eq(pb_get_i64(r, "end"), 1700003600000LL);
    cr_assert_eq(pb_get_i64(r, "maxNodes"), 1024);
    cr_assert_str_eq(pb_get_str(r, "labelSelector"), "{service_name=\"app\"}");
    pb_free(r);

    pb_obj_t *resp = pb_new(&pbs_querier_select_merge_stacktraces_response);
    pb_obj_t *fg = pb_set_msg(resp, "flamegraph");
    pb_add_str(fg, "names", "total");
    pb_add_str(fg, "names", "main");
    static const int64_t l0[] = {0, 10, 0, 0}, l1[] = {0, 10, 5, 1};
    pb_add_i64s(pb_add_msg(fg, "levels"), "values", l0, 4);
    pb_add_i64s(pb_add_msg(fg, "levels"), "values", l1, 4);
    pb_set_i64(fg, "total", 10);
    pb_set_i64(fg, "maxSelf", 5);
    expect_json(resp, "{\"flamegraph\":{\"names\":[\"total\",\"main\"],\"levels\":[{\"values\":"
                      "[\"0\",\"10\",\"0\",\"0\"]},{\"values\":[\"0\",\"10\",\"5\",\"1\"]}],"
                      "\"total\":\"10\",\"maxSelf\":\"5\"}}");
    /* Binary: flamegraph {names x2, levels x2 (packed), total, max_self}. */
    static const char bin[] = "\x0a\x21"
                              "\x0a\x05total\x0a\x04main"
                              "\x12\x06\x0a\x04\x00\x0a\x00\x00"
                              "\x12\x06\x0a\x04\x00\x0a\x05\x01"
                              "\x18\x0a\x20\x05";
    expect_bin(resp, bin, sizeof(bin) - 1);
    round_trip(resp);
    pb_free(resp);

    /* An empty message encodes as {} and as no bytes. */
    pb_obj_t *e = pb_new(&pbs_push_push_response);
    expect_json(e, "{}");
    expect_bin(e, "", 0);
    pb_free(e);
}

Test(pbcodec, every_scalar_type_encodes_exactly)
{
    pb_obj_t *o = pb_new(&all_msg);
    pb_set_str(o, "s", "h\xc3\xa9");
    pb_set_bytes(o, "b", "\x00\xff", 2);
    pb_set_i64(o, "i64", -1);
    pb_set_u64(o, "u64", UINT64_MAX);
    pb_set_i64(o, "i32", -2);
    pb_set_u64(o, "u32", 4000000000u);
    pb_set_i64(o, "s64", -3);
    pb_set_i64(o, "s32", -4);
    pb_set_u64(o, "f64", 5);
    pb_set_i64(o, "sf64", -6);
    pb_set_u64(o, "f32", 7);
    pb_set_i64(o, "sf32", -8);
    pb_set_bool(o, "ok", true);
    pb_set_double(o, "d", 0.1);
    pb_set_double(o, "fl", 0.1);
    pb_set_enum(o, "color", -2);
    static const char bin[] =
        "\x0a\x03h\xc3\xa9"
        "\x12\x02\x00\xff"
        "\x18\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01"
        "\x20\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01"
        "\x28\xfe\xff\xff\xff\xff\xff\xff\xff\xff\x01"
        "\x30\x80\xd0\xac\xf3\x0e"
        "\x38\x05"
        "\x40\x07"
        "\x49\x05\x00\x00\x00\x00\x00\x00\x00"
        "\x51\xfa\xff\xff\xff\xff\xff\xff\xff"
        "\x5d\x07\x00\x00\x00"
        "\x65\xf8\xff\xff\xff"
        "\x68\x01"
        "\x71\x9a\x99\x99\x99\x99\x99\xb9\x3f"
        "\x7d\xcd\xcc\xcc\x3d"
        "\x80\x01\xfe\xff\xff\xff\xff\xff\xff\xff\xff\x01";
    expect_bin(o, bin, sizeof(bin) - 1);
    expect_json(o, "{\"s\":\"h\xc3\xa9\",\"b\":\"AP8=\",\"i64\":\"-1\",\"u64\":"
                   "\"18446744073709551615\",\"i32\":-2,\"u32\":4000000000,\"s64\":\"-3\","
                   "\"s32\":-4,\"f64\":\"5\",\"sf64\":\"-6\",\"f32\":7,\"sf32\":-8,\"ok\":true,"
                   "\"d\":0.1,\"fl\":0.1,\"color\":\"BLUE\"}");
    cr_assert_eq(pb_get_u64(o, "u64"), UINT64_MAX);
    cr_assert_eq(pb_get_i64(o, "s32"), -4);
    cr_assert_eq(pb_get_i64(o, "sf32"), -8);
    cr_assert_eq(pb_get_double(o, "fl"), (double)0.1f);
    round_trip(o);

    /* Integers are cut to the field width, as a cast would. */
    pb_set_i64(o, "i32", 0x100000005LL);
    cr_assert_eq(pb_get_i64(o, "i32"), 5);
    pb_set_u64(o, "u32", UINT64_MAX);
    cr_assert_eq(pb_get_u64(o, "u32"), UINT32_MAX);
    pb_free(o);
}

Test(pbcodec, repeated_scalars_pack_and_unpack)
{
    pb_obj_t *o = pb_new(&all_msg);
    pb_add_i64(o, "r_s64", -1);
    pb_add_i64(o, "r_s64", 1);
    pb_add_u64(o, "rF32", 9);
    pb_add_double(o, "rD", -0.0);
    pb_add_double(o, "rD", NAN);
    pb_add_double(o, "rD", INFINITY);
    pb_add_double(o, "rD", -INFINITY);
    pb_add_enum(o, "rColor", 1);
    pb_add_enum(o, "rColor", 7); /* not a listed value: kept, JSON as a number */
    pb_add_bool(o, "rOk", false);
    pb_add_bool(o, "rOk", true);
    pb_add_bytes(o, "rB", "", 0);
    pb_add_bytes(o, "rB", "\xfb\xff", 2);
    expect_json(o, "{\"rS64\":[\"-1\",\"1\"],\"rF32\":[9],\"rD\":[-0.0,\"NaN\",\"Infinity\","
                   "\"-Infinity\"],\"rColor\":[\"GREEN\",7],\"rOk\":[false,true],"
                   "\"rB\":[\"\",\"+/8=\"]}");
    static const char packed[] =
        "\x8a\x01\x02\x01\x02"                     /* 17: zigzag -1, 1 */
        "\x92\x01\x04\x09\x00\x00\x00"             /* 18: fixed32 */
        "\x9a\x01\x20"                             /* 19: 4 doubles */
        "\x00\x00\x00\x00\x00\x00\x00\x80"
        "\x00\x00\x00\x00\x00\x00\xf8\x7f"
        "\x00\x00\x00\x00\x00\x00\xf0\x7f"
        "\x00\x00\x00\x00\x00\x00\xf0\xff"
        "\xa2\x01\x02\x01\x07"                     /* 20 */
        "\xaa\x01\x02\x00\x01"                     /* 21 */
        "\xca\x01\x00\xca\x01\x02\xfb\xff";        /* 25: bytes, one tag each */
    expect_bin(o, packed, sizeof(packed) - 1);
    round_trip(o);

    /* The same values unpacked, and mixed, decode to the same message. */
    buf_t b = BUF_INIT;
    put_tag(&b, 17, 0); put_varint(&b, 1);
    put_tag(&b, 17, 0); put_varint(&b, 2);
    put_tag(&b, 18, 5); cr_assert_eq(buf_append(&b, "\x09\x00\x00\x00", 4), 0);
    put_len(&b, 19, "\x00\x00\x00\x00\x00\x00\x00\x80\x00\x00\x00\x00\x00\x00\xf8\x7f", 16);
    put_tag(&b, 19, 1); cr_assert_eq(buf_append(&b, "\x00\x00\x00\x00\x00\x00\xf0\x7f", 8), 0);
    put_tag(&b, 19, 1); cr_assert_eq(buf_append(&b, "\x00\x00\x00\x00\x00\x00\xf0\xff", 8), 0);
    put_tag(&b, 20, 0); put_varint(&b, 1);
    put_len(&b, 20, "\x07", 1);
    put_len(&b, 21, "", 0); /* an empty packed run adds nothing */
    put_tag(&b, 21, 0); put_varint(&b, 0);
    put_tag(&b, 21, 0); put_varint(&b, 5); /* any non-zero is true */
    put_len(&b, 25, "", 0);
    put_len(&b, 25, "\xfb\xff", 2);
    pb_obj_t *u = dec_bin(&all_msg, &b);
    cr_assert(pb_equal(o, u));
    cr_assert_eq(pb_get_bool_at(u, "rOk", 1), true);
    cr_assert(isnan(pb_get_double_at(u, "rD", 1)));
    cr_assert(signbit(pb_get_double_at(u, "rD", 0)));
    pb_free(u);
    buf_release(&b);
    pb_free(o);
}

Test(pbcodec, large_repeated_fields)
{
    pb_obj_t *fg = pb_new(&pbs_querier_flame_graph);
    int64_t *v = malloc(200000 * sizeof(int64_t));
    for (size_t i = 0; i < 200000; i++)
        v[i] = (int64_t)(i * 7919 % 100003) - 50000;
    for (size_t l = 0; l < 50; l++) {
        pb_obj_t *lv = pb_add_msg(fg, "levels");
        pb_add_i64s(lv, "values", v, 4000);
        for (size_t i = 0; i < 100; i++)
            pb_add_i64(lv, "values", v[i]);
    }
    pb_add_i64s(pb_add_msg(fg, "levels"), "values", v, 200000);
    for (size_t i = 0; i < 20000; i++) {
        char name[32];
        snprintf(name, sizeof(name), "fn_%zu", i);
        pb_add_str(fg, "names", name);
    }
    cr_assert_eq(pb_count(pb_get_msg_at(fg, "levels", 50), "values"), 200000);
    cr_assert_eq(pb_get_i64_at(pb_get_msg_at(fg, "levels", 50), "values", 199999), v[199999]);
    cr_assert_str_eq(pb_get_str_at(fg, "names", 19999), "fn_19999");
    round_trip(fg);
    free(v);
    pb_free(fg);
}

/* ---- presence ---------------------------------------------------------------------------- */

Test(pbcodec, optional_presence)
{
    pb_obj_t *r = pb_new(&pbs_querier_select_series_request);
    pb_set_i64(r, "limit", 0);
    pb_set_enum(r, "aggregation", PBS_TIME_SERIES_AGGREGATION_TYPE_SUM);
    pb_set_double(r, "step", 0.0);
    pb_set_msg(r, "stackTraceSelector");
    cr_assert(pb_has(r, "limit") && pb_has(r, "aggregation") && !pb_has(r, "step"));
    expect_json(r, "{\"aggregation\":\"TIME_SERIES_AGGREGATION_TYPE_SUM\","
                   "\"stackTraceSelector\":{},\"limit\":\"0\"}");
    expect_bin(r, "\x38\x00\x42\x00\x48\x00", 6);
    round_trip(r);
    pb_obj_t *j = dec_json(&pbs_querier_select_series_request, "{\"limit\":null,\"step\":0}");
    cr_assert(!pb_has(j, "limit") && !pb_has(j, "step"));
    pb_free(j);
    j = dec_json(&pbs_querier_select_series_request, "{\"limit\":\"0\",\"step\":1.5}");
    cr_assert(pb_has(j, "limit") && pb_get_double(j, "step") == 1.5);
    expect_bin(j, "\x31\x00\x00\x00\x00\x00\x00\xf8\x3f\x48\x00", 11);
    pb_free(j);
    /* Binary zero for a field without presence is absent; for optional it is present. */
    pb_obj_t *b = NULL;
    err_t err = {0};
    cr_assert_eq(pb_decode_binary(&b, &pbs_querier_select_series_request,
                                  "\x18\x00\x48\x00", 4, &err), 0);
    cr_assert(!pb_has(b, "start") && pb_has(b, "limit"));
    expect_bin(b, "\x48\x00", 2);
    pb_free(b);
    /* -0.0 is not the default (protobuf-go): kept by binary. */
    pb_set_double(r, "step", -0.0);
    cr_assert(pb_has(r, "step"));
    pb_free(r);
}

Test(pbcodec, singular_fields_last_wins_and_messages_merge)
{
    buf_t b = BUF_INIT, left = BUF_INIT;
    put_len(&left, 1, "a", 1);
    put_tag(&left, 3, 0);
    put_varint(&left, 5);
    put_len(&b, 1, left.data, left.len); /* left {profile_typeID "a", start 5} */
    buf_reset(&left);
    put_tag(&left, 3, 0);
    put_varint(&left, 6);
    put_tag(&left, 4, 0);
    put_varint(&left, 9);
    put_len(&b, 1, left.data, left.len); /* left {start 6, end 9}: merged */
    put_len(&b, 2, "", 0);                /* right {} present */
    pb_obj_t *o = dec_bin(&pbs_querier_diff_request, &b);
    const pb_obj_t *l = pb_get_msg(o, "left");
    cr_assert_str_eq(pb_get_str(l, "profileTypeID"), "a");
    cr_assert_eq(pb_get_i64(l, "start"), 6);
    cr_assert_eq(pb_get_i64(l, "end"), 9);
    cr_assert(pb_has(o, "right"));
    expect_json(o, "{\"left\":{\"profileTypeID\":\"a\",\"start\":\"6\",\"end\":\"9\"},"
                   "\"right\":{}}");
    round_trip(o);
    pb_free(o);
    buf_release(&b);
    buf_release(&left);
}

/* ---- unknown fields ---------------------------------------------------------------------- */

Test(pbcodec, binary_unknown_fields_are_skipped)
{
    buf_t b = BUF_INIT;
    put_tag(&b, 99, 0); put_varint(&b, UINT64_MAX);
    put_tag(&b, 98, 1); cr_assert_eq(buf_append(&b, "12345678", 8), 0);
    put_len(&b, 97, "\xff\xfe", 2);        /* not UTF-8, but unknown: skipped */
    put_tag(&b, 96, 5); cr_assert_eq(buf_append(&b, "1234", 4), 0);
    put_tag(&b, 95, 3);                    /* group { 1: varint, group 2 { } } */
    put_tag(&b, 1, 0); put_varint(&b, 1);
    put_tag(&b, 2, 3); put_tag(&b, 2, 4);
    put_tag(&b, 95, 4);
    put_len(&b, 1, "n", 1);                /* name */
    put_tag(&b, 3, 1);                     /* start with the wrong wire type: skipped */
    cr_assert_eq(buf_append(&b, "\x01\x00\x00\x00\x00\x00\x00\x00", 8), 0);
    put_len(&b, 4, "\x01", 1);             /* singular end, packed form: skipped */
    put_tag(&b, 2, 0); put_varint(&b, 1);  /* matchers as varint: skipped */
    put_len(&b, 2, "m", 1);
    pb_obj_t *o = dec_bin(&pbs_types_label_values_request, &b);
    cr_assert_str_eq(pb_get_str(o, "name"), "n");
    cr_assert(!pb_has(o, "start") && !pb_has(o, "end"));
    cr_assert_eq(pb_count(o, "matchers"), 1);
    expect_bin(o, "\x0a\x01n\x12\x01m", 6);
    pb_free(o);
    buf_release(&b);
}

Test(pbcodec, json_names_and_unknown_fields)
{
    const pb_msg_t *m = &pbs_querier_select_merge_stacktraces_request;
    pb_obj_t *a = dec_json(m, "{\"profile_typeID\":\"x\",\"label_selector\":\"{}\","
                              "\"max_nodes\":\"5\",\"stack_trace_selector\":{\"go_pgo\":"
                              "{\"keep_locations\":2,\"aggregate_callees\":true}}}");
    pb_obj_t *b = dec_json(m, "{\"profileTypeID\":\"x\",\"labelSelector\":\"{}\",\"maxNodes\":5,"
                              "\"stackTraceSelector\":{\"goPgo\":{\"keepLocations\":\"2\","
                              "\"aggregateCallees\":true}}}");
    cr_assert(pb_equal(a, b));
    cr_assert_eq(pb_get_u64(pb_get_msg(pb_get_msg(a, "stackTraceSelector"), "goPgo"),
                            "keepLocations"), 2);
    pb_free(a);
    pb_free(b);

    json_fails(m, "{\"profileTypeID\":\"x\",\"nope\":1}", EMB_EINVAL, "unknown field \"nope\"");
    json_fails(m, "{\"stackTraceSelector\":{\"callSite\":[{\"name\":\"a\",\"x\":1}]}}", EMB_EINVAL,
               "stackTraceSelector.callSite[0]: unknown field \"x\"");
    json_fails(m, "{\"maxNodes\":1,\"max_nodes\":2}", EMB_EINVAL, "duplicate field");
    json_fails(m, "{\"start\":1,\"start\":2}", EMB_EINVAL, "duplicate");
    json_fails(m, "{\"ProfileTypeID\":\"x\"}", EMB_EINVAL, "unknown field"); /* case matters */

    pb_opts_t opts = {.ignore_unknown = true};
    const char *s = "{\"profileTypeID\":\"x\",\"nope\":{\"deep\":[1,2]},\"format\":\"PROFILE_FORMAT_X\","
                    "\"stackTraceSelector\":{\"callSite\":[{\"name\":\"a\",\"x\":1}]}}";
    pb_obj_t *o = NULL;
    err_t err = {0};
    cr_assert_eq(pb_decode_json_opts(&o, m, s, strlen(s), &opts, &err), 0, "%s", err.msg);
    cr_assert_str_eq(pb_get_str(o, "profileTypeID"), "x");
    cr_assert(!pb_has(o, "format"));
    expect_json(o, "{\"profileTypeID\":\"x\",\"stackTraceSelector\":{\"callSite\":[{\"name\":"
                   "\"a\"}]}}");
    pb_free(o);
}

/* ---- JSON values ------------------------------------------------------------------------- */

Test(pbcodec, json_integers)
{
    const pb_msg_t *m = &all_msg;
    pb_obj_t *o = dec_json(m, "{\"i64\":\"-9223372036854775808\",\"u64\":\"18446744073709551615\","
                              "\"i32\":-2147483648,\"u32\":\"4294967295\",\"s64\":1e3,"
                              "\"s32\":\"-7\",\"f64\":12.0,\"sf64\":-9223372036854775807,"
                              "\"f32\":\"1.5e1\",\"sf32\":2147483647}");
    cr_assert_eq(pb_get_i64(o, "i64"), INT64_MIN);
    cr_assert_eq(pb_get_u64(o, "u64"), UINT64_MAX);
    cr_assert_eq(pb_get_i64(o, "i32"), INT32_MIN);
    cr_assert_eq(pb_get_u64(o, "u32"), UINT32_MAX);
    cr_assert_eq(pb_get_i64(o, "s64"), 1000);
    cr_assert_eq(pb_get_i64(o, "s32"), -7);
    cr_assert_eq(pb_get_u64(o, "f64"), 12);
    cr_assert_eq(pb_get_i64(o, "sf64"), -INT64_MAX);
    cr_assert_eq(pb_get_u64(o, "f32"), 15);
    cr_assert_eq(pb_get_i64(o, "sf32"), INT32_MAX);
    round_trip(o);
    pb_free(o);

    static const char *const bad[] = {
        "{\"i64\":\"9223372036854775808\"}", "{\"i64\":\"-9223372036854775809\"}",
        "{\"u64\":\"18446744073709551616\"}", "{\"u64\":\"-1\"}", "{\"u64\":-1}",
        "{\"i32\":2147483648}", "{\"i32\":\"-2147483649\"}", "{\"u32\":4294967296}",
        "{\"u32\":-1}", "{\"i64\":1.5}", "{\"i64\":\"1.5\"}", "{\"i64\":\" 1\"}",
        "{\"i64\":\"1 \"}", "{\"i64\":\"+1\"}", "{\"i64\":\"0x10\"}", "{\"i64\":\"\"}",
        "{\"i64\":\"01\"}", "{\"i64\":true}", "{\"i64\":[1]}", "{\"i64\":{}}",
        "{\"i64\":\"NaN\"}", "{\"i64\":1e19}", "{\"u64\":1e20}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        json_fails(m, bad[i], EMB_EINVAL, NULL);
    json_fails(m, "{\"u64\":18446744073709551615}", EMB_EINVAL, "invalid JSON"); /* jansson */
    json_fails(m, "{\"i32\":2147483648}", EMB_EINVAL, "i32: 2147483648 out of range");
}

Test(pbcodec, json_floats)
{
    const pb_msg_t *m = &all_msg;
    pb_obj_t *o = dec_json(m, "{\"d\":\"NaN\",\"fl\":\"-Infinity\",\"rD\":[\"Infinity\",1,"
                              "\"2.5\",-1e-300,1.7976931348623157e308]}");
    cr_assert(isnan(pb_get_double(o, "d")));
    cr_assert(isinf(pb_get_double(o, "fl")) && pb_get_double(o, "fl") < 0);
    cr_assert_eq(pb_get_double_at(o, "rD", 2), 2.5);
    expect_json(o, "{\"d\":\"NaN\",\"fl\":\"-Infinity\",\"rD\":[\"Infinity\",1,2.5,-1e-300,"
                   "1.7976931348623157e+308]}");
    round_trip(o);
    pb_free(o);

    o = pb_new(m);
    pb_set_double(o, "d", 1.0 / 3);
    pb_set_double(o, "fl", 1.0 / 3);
    pb_set_double(o, "oD", 0.0);
    expect_json(o, "{\"d\":0.3333333333333333,\"fl\":0.33333334,\"oD\":0}");
    round_trip(o);
    pb_free(o);

    /* FLT_MAX's shortest text is above FLT_MAX as a double, yet rounds to it. */
    o = dec_json(m, "{\"fl\":3.4028235e+38,\"oD\":-0.0}");
    cr_assert_eq(pb_get_double(o, "fl"), (double)3.40282347e+38f);
    cr_assert(pb_has(o, "oD") && signbit(pb_get_double(o, "oD")));
    expect_json(o, "{\"fl\":3.4028235e+38,\"oD\":-0.0}");
    round_trip(o);
    pb_set_double(o, "fl", -1e300); /* a builder's out-of-range float rounds to -Infinity */
    expect_json(o, "{\"fl\":\"-Infinity\",\"oD\":-0.0}");
    pb_free(o);

    static const char *const bad[] = {
        "{\"fl\":3.4028236e38}", "{\"d\":\"nan\"}", "{\"d\":\"inf\"}", "{\"d\":\"1e999\"}", "{\"d\":\"\"}",
        "{\"d\":\" 1\"}", "{\"d\":true}", "{\"fl\":1e39}", "{\"fl\":\"-3.5e38\"}",
        "{\"d\":\"0x1p3\"}", "{\"d\":[1]}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        json_fails(m, bad[i], EMB_EINVAL, NULL);
}

Test(pbcodec, json_enums)
{
    const pb_msg_t *m = &pbs_querier_select_heatmap_request;
    pb_obj_t *o = dec_json(m, "{\"queryType\":\"HEATMAP_QUERY_TYPE_SPAN\",\"exemplarType\":3}");
    cr_assert_eq(pb_get_enum(o, "queryType"), PBS_HEATMAP_QUERY_TYPE_SPAN);
    cr_assert_eq(pb_get_enum(o, "exemplarType"), PBS_EXEMPLAR_TYPE_SPAN);
    expect_json(o, "{\"queryType\":\"HEATMAP_QUERY_TYPE_SPAN\",\"exemplarType\":"
                   "\"EXEMPLAR_TYPE_SPAN\"}");
    expect_bin(o, "\x38\x02\x40\x03", 4);
    pb_free(o);
    /* Unknown numbers are kept (open enums) and written back as numbers. */
    o = dec_json(m, "{\"queryType\":42,\"exemplarType\":\"EXEMPLAR_TYPE_UNSPECIFIED\"}");
    cr_assert_eq(pb_get_enum(o, "queryType"), 42);
    cr_assert_null(pb_get_enum_name(o, "queryType"));
    cr_assert_str_eq(pb_get_enum_name(o, "exemplarType"), "EXEMPLAR_TYPE_UNSPECIFIED");
    cr_assert(!pb_has(o, "exemplarType"));
    expect_json(o, "{\"queryType\":42}");
    round_trip(o);
    pb_free(o);
    /* A negative enum number takes ten bytes on the wire, like int32. */
    o = dec_json(m, "{\"queryType\":-1}");
    expect_bin(o, "\x38\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 11);
    round_trip(o);
    pb_free(o);
    json_fails(m, "{\"queryType\":\"SPAN\"}", EMB_EINVAL, "unknown querier.v1.HeatmapQueryType");
    json_fails(m, "{\"queryType\":\"heatmap_query_type_span\"}", EMB_EINVAL, NULL);
    json_fails(m, "{\"queryType\":2147483648}", EMB_EINVAL, "out of range");
    json_fails(m, "{\"queryType\":1.5}", EMB_EINVAL, NULL);
    json_fails(m, "{\"queryType\":true}", EMB_EINVAL, "expected enum");
}

Test(pbcodec, json_bytes_base64)
{
    const pb_msg_t *m = &pbs_push_raw_sample;
    static const struct {
        const char *text;
        const char *bytes;
        size_t n;
    } ok[] = {
        {"", "", 0},
        {"QQ==", "A", 1},
        {"QQ", "A", 1},
        {"QUI=", "AB", 2},
        {"QUI", "AB", 2},
        {"QUJD", "ABC", 3},
        {"+/8=", "\xfb\xff", 2},
        {"-_8=", "\xfb\xff", 2},
        {"-_8", "\xfb\xff", 2},
        {"+/8", "\xfb\xff", 2},
        {"AAEC", "\x00\x01\x02", 3},
    };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        char s[64];
        snprintf(s, sizeof(s), "{\"rawProfile\":\"%s\"}", ok[i].text);
        pb_obj_t *o = dec_json(m, s);
        size_t n;
        const char *p = pb_get_bytes(o, "rawProfile", &n);
        cr_assert_eq(n, ok[i].n, "%s", s);
        cr_assert(memcmp(p, ok[i].bytes, n) == 0, "%s", s);
        pb_free(o);
    }
    static const char *const bad[] = {"Q", "QQ=", "Q===", "====", "QQ=A", "+-8=", "@@@@",
                                      "QQ==QQ==", "QQ\\n==", "QUJDR"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char s[64];
        snprintf(s, sizeof(s), "{\"rawProfile\":\"%s\"}", bad[i]);
        json_fails(m, s, EMB_EINVAL, "rawProfile: invalid base64");
    }
    json_fails(m, "{\"rawProfile\":1}", EMB_EINVAL, "expected base64");

    pb_obj_t *o = pb_new(m);
    pb_set_bytes(o, "rawProfile", "\x1f\x8b\x08\x00", 4);
    pb_set_str(o, "ID", "7c9e6679-7425-40de-944b-e07fc1f90ae7");
    expect_json(o, "{\"rawProfile\":\"H4sIAA==\",\"ID\":\"7c9e6679-7425-40de-944b-e07fc1f90ae7\"}");
    round_trip(o);
    pb_free(o);
}

Test(pbcodec, json_strings_and_nulls)
{
    const pb_msg_t *m = &pbs_types_label_values_request;
    pb_obj_t *o = dec_json(m, "{\"name\":\"a\\u0000b\\u00e9\\ud83d\\ude00\",\"matchers\":null,"
                              "\"start\":null}");
    size_t n;
    const char *s = pb_get_bytes(o, "name", &n);
    cr_assert_eq(n, 9);
    cr_assert(memcmp(s, "a\0b\xc3\xa9\xf0\x9f\x98\x80", 9) == 0);
    cr_assert_eq(pb_count(o, "matchers"), 0);
    expect_json(o, "{\"name\":\"a\\u0000b\xc3\xa9\xf0\x9f\x98\x80\"}");
    round_trip(o);
    pb_free(o);

    json_fails(m, "{\"matchers\":[\"a\",null]}", EMB_EINVAL, "matchers[1]: null");
    json_fails(m, "{\"matchers\":\"a\"}", EMB_EINVAL, "matchers: expected array");
    json_fails(m, "{\"name\":1}", EMB_EINVAL, "name: expected string");
    json_fails(m, "{\"name\":\"\\ud800\"}", EMB_EINVAL, "invalid JSON");
    json_fails(m, "[]", EMB_EINVAL, "expected a JSON object");
    json_fails(m, "null", EMB_EINVAL, "expected a JSON object");
    json_fails(m, "", EMB_EINVAL, "invalid JSON");
    json_fails(m, "{", EMB_EINVAL, "invalid JSON");
    json_fails(m, "{} {}", EMB_EINVAL, "invalid JSON");
    json_fails(m, "{\"name\":\"\xff\"}", EMB_EINVAL, "invalid JSON");
    json_fails(&pbs_querier_series_response, "{\"labelsSet\":[{\"labels\":[1]}]}", EMB_EINVAL,
               "labelsSet[0].labels[0]: expected object, got number");
}

/* ---- malformed binary -------------------------------------------------------------------- */

static pb_obj_t *rich_profile(void)
{
    pb_obj_t *p = pb_new(&pbs_google_profile);
    static const char *const strs[] = {"", "cpu", "nanoseconds", "main", "main.go", "thread"};
    for (size_t i = 0; i < 6; i++)
        pb_add_str(p, "stringTable", strs[i]);
    pb_obj_t *vt = pb_add_msg(p, "sampleType");
    pb_set_i64(vt, "type", 1);
    pb_set_i64(vt, "unit", 2);
    pb_obj_t *s = pb_add_msg(p, "sample");
    pb_add_u64(s, "locationId", 1);
    pb_add_u64(s, "locationId", 1ull << 40);
    pb_add_i64(s, "value", -5);
    pb_obj_t *lb = pb_add_msg(s, "label");
    pb_set_i64(lb, "key", 5);
    pb_set_i64(lb, "num", 3);
    pb_obj_t *mp = pb_add_msg(p, "mapping");
    pb_set_u64(mp, "id", 1);
    pb_set_u64(mp, "memoryLimit", UINT64_MAX);
    pb_set_bool(mp, "hasFunctions", true);
    pb_obj_t *loc = pb_add_msg(p, "location");
    pb_set_u64(loc, "id", 1);
    pb_set_u64(loc, "mappingId", 1);
    pb_obj_t *ln = pb_add_msg(loc, "line");
    pb_set_u64(ln, "functionId", 1);
    pb_set_i64(ln, "line", 42);
    pb_obj_t *fn = pb_add_msg(p, "function");
    pb_set_u64(fn, "id", 1);
    pb_set_i64(fn, "name", 3);
    pb_set_i64(fn, "filename", 4);
    pb_set_i64(p, "timeNanos", 1700000000000000000LL);
    pb_obj_t *pt = pb_set_msg(p, "periodType");
    pb_set_i64(pt, "type", 1);
    pb_set_i64(p, "period", 10000000);
    pb_add_i64(p, "comment", 5);
    return p;
}

Test(pbcodec, every_truncation_is_rejected)
{
    /* A message that is one length-delimited field: every strict prefix but the empty one is
     * malformed. Nested inside it, the rich profile covers every wire type. */
    pb_obj_t *prof = rich_profile();
    buf_t pb = BUF_INIT, wrap = BUF_INIT, b = BUF_INIT;
    cr_assert_eq(pb_encode_binary(&pb, prof), 0);
    put_len(&wrap, 1, pb.data, pb.len); /* querier.v1.PprofProfile {profile} */
    put_len(&b, 5, wrap.data, wrap.len); /* SelectMergeStacktracesResponse {pprof} */
    const pb_msg_t *m = &pbs_querier_select_merge_stacktraces_response;
    pb_obj_t *full = dec_bin(m, &b);
    cr_assert(pb_equal(pb_get_msg(pb_get_msg(full, "pprof"), "profile"), prof));
    round_trip(full);
    for (size_t n = 1; n < b.len; n++) {
        pb_obj_t *o = (pb_obj_t *)1;
        err_t err = {0};
        int rc = pb_decode_binary(&o, m, b.data, n, &err);
        cr_assert_eq(rc, EMB_EINVAL, "prefix %zu of %zu decoded", n, b.len);
        cr_assert_null(o);
        cr_assert(strstr(err.msg, "byte "), "%s", err.msg);
    }
    bin_fails(m, b.data, b.len - 1, "pprof: byte 0: length");
    /* Inside the profile, every prefix either decodes (it ends between two fields) or fails;
     * the ones that decode re-encode to exactly that prefix. */
    size_t ok = 0;
    for (size_t n = 0; n < pb.len; n++) {
        pb_obj_t *o = NULL;
        err_t err = {0};
        int rc = pb_decode_binary(&o, &pbs_google_profile, pb.data, n, &err);
        cr_assert(rc == 0 || rc == EMB_EINVAL);
        if (rc == 0) {
            buf_t re = BUF_INIT;
            cr_assert_eq(pb_encode_binary(&re, o), 0);
            cr_assert(re.len == n && memcmp(re.data, pb.data, n) == 0, "prefix %zu", n);
            buf_release(&re);
            ok++;
        }
        pb_free(o);
    }
    cr_assert_gt(ok, 5);
    cr_assert_lt(ok, pb.len / 4);
    pb_free(full);
    pb_free(prof);
    buf_release(&pb);
    buf_release(&b);
    buf_release(&wrap);
}

Test(pbcodec, malformed_binary)
{
    const pb_msg_t *m = &pbs_types_label_values_request;
    bin_fails(m, "\x00", 1, "byte 0: invalid field number 0");
    bin_fails(m, "\x80", 1, "byte 0: malformed or truncated tag");
    bin_fails(m, "\x18", 1, "start: byte 0: malformed or truncated varint");
    bin_fails(m, "\x18\x80\x80", 3, "malformed");
    bin_fails(m, "\x18\xff\xff\xff\xff\xff\xff\xff\xff\xff\x02", 11, "malformed"); /* > 64 bits */
    bin_fails(m, "\x18\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 12, "malformed");
    bin_fails(m, "\x0a\x05" "abc", 5, "name: byte 0: length 5 past the end");
    bin_fails(m, "\x0a\x01" "a" "\x12\x80", 5, "byte 3");
    bin_fails(m, "\x0f", 1, "invalid wire type 7");
    bin_fails(m, "\x0e", 1, "invalid wire type 6");
    bin_fails(m, "\x0c", 1, "end of group without a start");
    bin_fails(m, "\x0b", 1, "unterminated group");
    bin_fails(m, "\x0b\x14", 2, "group 1 closed by end of group 2");
    bin_fails(m, "\x81\x80\x80\x80\x10", 5, "invalid field number"); /* 2^29 */
    bin_fails(m, "\x29\x01\x02", 3, "truncated fixed64");
    bin_fails(m, "\x2d\x01", 2, "truncated fixed32");
    bin_fails(&pbs_querier_level, "\x0a\x02\x01\x80", 4, "malformed varint in packed run");
    bin_fails(&all_msg, "\x92\x01\x03\x01\x02\x03", 6, "packed fixed32 run of 3 bytes");
    bin_fails(&all_msg, "\x9a\x01\x07\x01\x02\x03\x04\x05\x06\x07", 10, "packed fixed64");
    /* A field number at the top of the range is fine (skipped). */
    pb_obj_t *o = NULL;
    err_t err = {0};
    cr_assert_eq(pb_decode_binary(&o, m, "\xf8\xff\xff\xff\x0f\x01", 6, &err), 0, "%s", err.msg);
    pb_free(o);
    /* Empty input is a valid empty message. */
    cr_assert_eq(pb_decode_binary(&o, m, "", 0, &err), 0);
    expect_json(o, "{}");
    pb_free(o);
}

Test(pbcodec, bad_utf8_is_rejected)
{
    static const char *const bad[] = {"\xff", "\xc0\x80", "\xed\xa0\x80", "\xf4\x90\x80\x80",
                                      "a\xe2\x82", "\x80"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        buf_t b = BUF_INIT;
        put_len(&b, 1, "ok", 2);
        put_len(&b, 2, bad[i], strlen(bad[i]));
        bin_fails(&pbs_types_label_pair, b.data, b.len, "value: byte 4: invalid UTF-8");
        buf_release(&b);
    }
    buf_t b = BUF_INIT, l = BUF_INIT, outer = BUF_INIT;
    put_len(&l, 1, "ok", 2);
    put_len(&l, 2, "\xff", 1);
    put_len(&b, 1, "", 0);
    put_len(&b, 1, l.data, l.len);
    put_len(&outer, 2, b.data, b.len);
    bin_fails(&pbs_querier_series_response, outer.data, outer.len,
              "labels_set[0].labels[1].value: byte 10: invalid UTF-8");
    buf_release(&b);
    buf_release(&l);
    buf_release(&outer);
    /* Bytes fields take any bytes. */
    pb_obj_t *o = NULL;
    err_t err = {0};
    cr_assert_eq(pb_decode_binary(&o, &pbs_push_raw_sample, "\x0a\x02\xff\xfe", 4, &err), 0);
    pb_free(o);
    /* Builders replace invalid UTF-8 with U+FFFD so the output stays valid. */
    o = pb_new(&pbs_types_label_pair);
    pb_set_str(o, "name", "a\xff");
    pb_set_strn(o, "value", "b\xc3", 2);
    cr_assert_str_eq(pb_get_str(o, "name"), "a\xef\xbf\xbd");
    cr_assert_str_eq(pb_get_str(o, "value"), "b\xef\xbf\xbd");
    round_trip(o);
    pb_free(o);
}

Test(pbcodec, depth_bombs_are_bounded)
{
    /* Node{child{child{...}}}: 64 levels decode, 65 do not. */
    for (int depth = 63; depth <= 66; depth++) {
        buf_t b = BUF_INIT, t = BUF_INIT;
        put_tag(&b, 2, 0);
        put_varint(&b, 7);
        for (int i = 0; i < depth; i++) {
            buf_reset(&t);
            put_len(&t, 1, b.data, b.len);
            buf_reset(&b);
            cr_assert_eq(buf_append(&b, t.data, t.len), 0);
        }
        pb_obj_t *o = NULL;
        err_t err = {0};
        int rc = pb_decode_binary(&o, &node_msg, b.data, b.len, &err);
        if (depth <= PB_MAX_DEPTH) {
            cr_assert_eq(rc, 0, "depth %d: %s", depth, err.msg);
            round_trip(o);
            pb_free(o);
        } else {
            cr_assert_eq(rc, EMB_EINVAL);
            cr_assert(strstr(err.msg, "nesting deeper than 64"), "%s", err.msg);
        }
        /* The same as JSON. */
        buf_t j = BUF_INIT;
        for (int i = 0; i < depth; i++)
            cr_assert_eq(buf_puts(&j, "{\"child\":"), 0);
        cr_assert_eq(buf_puts(&j, "{\"v\":7}"), 0);
        for (int i = 0; i < depth; i++)
            cr_assert_eq(buf_putc(&j, '}'), 0);
        rc = pb_decode_json(&o, &node_msg, j.data, j.len, &err);
        if (depth <= PB_MAX_DEPTH) {
            cr_assert_eq(rc, 0, "depth %d: %s", depth, err.msg);
            pb_free(o);
        } else {
            cr_assert_eq(rc, EMB_EINVAL);
            cr_assert(strstr(err.msg, "nesting deeper than 64"), "%s", err.msg);
        }
        buf_release(&j);
        buf_release(&b);
        buf_release(&t);
    }
    /* A hundred thousand nested length prefixes, each exact: rejected at level 65, long
     * before the stack would notice. */
    size_t levels = 100000;
    size_t *sz = calloc(levels, sizeof(size_t));
    for (size_t i = levels - 1; i-- > 0;) {
        size_t v = sz[i + 1], vl = 1;
        while (v >= 0x80)
            v >>= 7, vl++;
        sz[i] = 1 + vl + sz[i + 1];
    }
    buf_t b = BUF_INIT;
    for (size_t i = 0; i < levels; i++) {
        put_tag(&b, 1, 2);
        put_varint(&b, sz[i]);
    }
    bin_fails(&node_msg, b.data, b.len, "nesting deeper than 64");
    buf_release(&b);
    free(sz);
    buf_t j = BUF_INIT;
    for (size_t i = 0; i < levels; i++)
        cr_assert_eq(buf_puts(&j, "{\"child\":"), 0);
    cr_assert_eq(buf_puts(&j, "{}"), 0);
    for (size_t i = 0; i < levels; i++)
        cr_assert_eq(buf_putc(&j, '}'), 0);
    json_fails(&node_msg, j.data, EMB_EINVAL, NULL);
    buf_release(&j);
    /* Unknown groups nest too, and count toward the bound. */
    for (int i = 0; i < 70; i++)
        put_tag(&b, 9, 3);
    for (int i = 0; i < 70; i++)
        put_tag(&b, 9, 4);
    bin_fails(&node_msg, b.data, b.len, "nesting deeper than 64");
    buf_release(&b);
    /* A smaller limit on request. */
    pb_opts_t opts = {.max_depth = 2};
    pb_obj_t *o = NULL;
    err_t err = {0};
    const char *js = "{\"child\":{\"child\":{\"child\":{}}}}";
    cr_assert_eq(pb_decode_json_opts(&o, &node_msg, js, strlen(js), &opts, &err), EMB_EINVAL);
    cr_assert(strstr(err.msg, "child.child: nesting deeper than 2"), "%s", err.msg);
}

Test(pbcodec, memory_budget)
{
    buf_t b = BUF_INIT;
    for (int i = 0; i < 10000; i++)
        put_len(&b, 1, "", 0); /* 10000 empty series: 20000 bytes of input */
    pb_opts_t opts = {.max_mem = 64 * 1024};
    pb_obj_t *o = (pb_obj_t *)1;
    err_t err = {0};
    cr_assert_eq(pb_decode_binary_opts(&o, &pbs_push_push_request, b.data, b.len, &opts, &err),
                 EMB_ETOOBIG);
    cr_assert_null(o);
    cr_assert(strstr(err.msg, "budget"), "%s", err.msg);
    /* The default budget is proportional to the input and lets it through. */
    cr_assert_eq(pb_decode_binary(&o, &pbs_push_push_request, b.data, b.len, &err), 0, "%s",
                 err.msg);
    cr_assert_eq(pb_count(o, "series"), 10000);
    /* After decoding, a tree can be extended freely. */
    pb_set_str(pb_add_msg(pb_add_msg(o, "series"), "labels"), "name", "x");
    pb_free(o);
    /* JSON too. */
    buf_t j = BUF_INIT;
    cr_assert_eq(buf_puts(&j, "{\"series\":["), 0);
    for (int i = 0; i < 10000; i++)
        cr_assert_eq(buf_puts(&j, i ? ",{}" : "{}"), 0);
    cr_assert_eq(buf_puts(&j, "]}"), 0);
    cr_assert_eq(pb_decode_json_opts(&o, &pbs_push_push_request, j.data, j.len, &opts, &err),
                 EMB_ETOOBIG);
    buf_release(&j);
    buf_release(&b);
}

Test(pbcodec, encode_respects_buffer_cap)
{
    pb_obj_t *o = rich_profile();
    buf_t b;
    buf_init(&b, 10);
    cr_assert_eq(buf_puts(&b, "xy"), 0);
    cr_assert_eq(pb_encode_binary(&b, o), EMB_ETOOBIG);
    cr_assert_eq(pb_encode_json(&b, o), EMB_ETOOBIG);
    cr_assert_str_eq(b.data, "xy");
    buf_release(&b);
    pb_free(o);
}

/* ---- round trips over schemas ------------------------------------------------------------ */

Test(pbcodec, round_trips)
{
    pb_obj_t *p = rich_profile();
    round_trip(p);
    expect_json(p, "{\"sampleType\":[{\"type\":\"1\",\"unit\":\"2\"}],\"sample\":[{\"locationId\":"
                   "[\"1\",\"1099511627776\"],\"value\":[\"-5\"],\"label\":[{\"key\":\"5\",\"num\":"
                   "\"3\"}]}],\"mapping\":[{\"id\":\"1\",\"memoryLimit\":\"18446744073709551615\","
                   "\"hasFunctions\":true}],\"location\":[{\"id\":\"1\",\"mappingId\":\"1\",\"line\":"
                   "[{\"functionId\":\"1\",\"line\":\"42\"}]}],\"function\":[{\"id\":\"1\",\"name\":"
                   "\"3\",\"filename\":\"4\"}],\"stringTable\":[\"\",\"cpu\",\"nanoseconds\","
                   "\"main\",\"main.go\",\"thread\"],\"timeNanos\":\"1700000000000000000\","
                   "\"periodType\":{\"type\":\"1\"},\"period\":\"10000000\",\"comment\":[\"5\"]}");
    pb_free(p);

    pb_obj_t *push = pb_new(&pbs_push_push_request);
    for (int i = 0; i < 3; i++) {
        pb_obj_t *s = pb_add_msg(push, "series");
        pb_obj_t *l = pb_add_msg(s, "labels");
        pb_set_str(l, "name", "service_name");
        pb_set_str(l, "value", i ? "b" : "a");
        pb_obj_t *smp = pb_add_msg(s, "samples");
        pb_set_bytes(smp, "rawProfile", "\x1f\x8b\x00\x01\x02", (size_t)i + 2);
        pb_set_str(smp, "ID", "id");
        pb_obj_t *an = pb_add_msg(s, "annotations");
        pb_set_str(an, "key", "k");
    }
    round_trip(push);
    pb_free(push);

    pb_obj_t *ss = pb_new(&pbs_querier_select_series_response);
    pb_obj_t *series = pb_add_msg(ss, "series");
    pb_set_str(pb_add_msg(series, "labels"), "name", "pod");
    for (int i = 0; i < 5; i++) {
        pb_obj_t *pt = pb_add_msg(series, "points");
        pb_set_double(pt, "value", i * 1.25);
        pb_set_i64(pt, "timestamp", 1700000000000LL + i * 15000);
        pb_obj_t *ex = pb_add_msg(pt, "exemplars");
        pb_set_str(ex, "profileId", "p");
        pb_set_i64(ex, "value", -i);
        pb_set_str(ex, "traceId", "t");
    }
    round_trip(ss);
    pb_free(ss);

    pb_obj_t *hm = pb_new(&pbs_querier_select_heatmap_response);
    pb_obj_t *hs = pb_add_msg(hm, "series");
    pb_obj_t *slot = pb_add_msg(hs, "slots");
    pb_set_i64(slot, "timestamp", 1);
    pb_add_double(slot, "yMin", 0.5);
    pb_add_double(slot, "yMin", 1e-9);
    pb_add_i64(slot, "counts", -1);
    pb_add_i64(slot, "counts", 3);
    round_trip(hm);
    expect_json(hm, "{\"series\":[{\"slots\":[{\"timestamp\":\"1\",\"yMin\":[0.5,1e-09],"
                    "\"counts\":[-1,3]}]}]}");
    pb_free(hm);

    pb_obj_t *aq = pb_new(&pbs_querier_analyze_query_response);
    pb_obj_t *sc = pb_add_msg(aq, "queryScopes");
    pb_set_str(sc, "componentType", "short term storage");
    pb_set_u64(sc, "symbolBytes", UINT64_MAX - 1);
    pb_set_bool(pb_set_msg(aq, "queryImpact"), "deduplicationNeeded", true);
    round_trip(aq);
    pb_free(aq);

    pb_obj_t *st = pb_new(&pbs_types_get_profile_stats_response);
    pb_set_bool(st, "dataIngested", true);
    pb_set_i64(st, "oldestProfileTime", -1);
    expect_json(st, "{\"dataIngested\":true,\"oldestProfileTime\":\"-1\"}");
    round_trip(st);
    pb_free(st);
}

/* Real Go profiles: pbcodec decodes them, re-encodes canonically, and ingest/pprof reads the
 * re-encoded bytes to the same totals as the originals. */
static void check_fixture(const char *name)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/pprof/%s", FIXTURES_DIR, name);
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "%s", path);
    buf_t gz = BUF_INIT, raw = BUF_INIT, re = BUF_INIT, js = BUF_INIT;
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        cr_assert_eq(buf_append(&gz, chunk, n), 0);
    fclose(f);
    err_t err = {0};
    cr_assert_eq(gz_decompress(&raw, (const uint8_t *)gz.data, gz.len, 64u << 20, &err), 0, "%s",
                 err.msg);
    pb_obj_t *p = dec_bin(&pbs_google_profile, &raw);
    cr_assert_gt(pb_count(p, "sample"), 0);
    cr_assert_str_eq(pb_get_str_at(p, "stringTable", 0), "");
    cr_assert_eq(pb_encode_binary(&re, p), 0);
    pprof_t a, b;
    cr_assert_eq(pprof_decode(&a, (const uint8_t *)raw.data, raw.len, &err), 0, "%s", err.msg);
    cr_assert_eq(pprof_decode(&b, (const uint8_t *)re.data, re.len, &err), 0, "%s", err.msg);
    cr_assert_eq(a.nsamples, b.nsamples);
    cr_assert_eq(a.nvalues, b.nvalues);
    for (size_t i = 0; i < a.nvalues; i++)
        cr_assert_eq(a.values[i], b.values[i]);
    cr_assert_eq(a.nstrings, b.nstrings);
    pprof_release(&a);
    pprof_release(&b);
    cr_assert_eq(pb_encode_json(&js, p), 0);
    pb_obj_t *pj = dec_json(&pbs_google_profile, js.data);
    cr_assert(pb_equal(p, pj));
    pb_free(pj);
    pb_free(p);
    buf_release(&gz);
    buf_release(&raw);
    buf_release(&re);
    buf_release(&js);
}

Test(pbcodec, real_pprof_fixtures)
{
    check_fixture("cpu.pb.gz");
    check_fixture("heap.pb.gz");
}
