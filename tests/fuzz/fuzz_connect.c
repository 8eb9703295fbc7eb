/* libFuzzer target for api/pbcodec, the Connect request/response codec. Byte 0 picks a schema
 * (low 4 bits: one of the tables below) and the JSON ignore_unknown flag (bit 4); the rest is
 * decoded as protobuf binary and, separately, as protojson. A failed decode must return
 * EMB_EINVAL or EMB_ETOOBIG with a message and no tree. A successful one must survive both
 * re-encodings: binary -> decode -> equal tree and identical bytes; JSON -> decode -> equal
 * tree and identical text; and the JSON-decoded tree must encode to the same binary. Any
 * mismatch aborts. Seed corpus: tests/fuzz/corpus/connect/ (binary made by protoc --encode
 * from the files under proto/, JSON in protojson form; see mkcorpus_connect.sh). */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/pbcodec.h"
#include "api/pbschema.h"
#include "base/buf.h"
#include "base/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Every scalar type and a recursive child, which Ember's own schemas do not cover. */
extern const pb_msg_t fuzz_all_msg;
static const pb_enum_value_t fuzz_color_values[] = {{"RED", 0}, {"GREEN", 1}, {"BLUE", -2}};
static const pb_enum_t fuzz_color = {"fuzz.Color", fuzz_color_values, 3};
static const pb_field_t fuzz_all_fields[] = {
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
    {.num = 16, .name = "color", .json = "color", .type = PB_ENUM, .enm = &fuzz_color},
    {.num = 17, .name = "r_s32", .json = "rS32", .type = PB_SINT32, .repeated = true},
    {.num = 18, .name = "r_f32", .json = "rF32", .type = PB_FLOAT, .repeated = true},
    {.num = 19, .name = "r_sf64", .json = "rSf64", .type = PB_SFIXED64, .repeated = true},
    {.num = 20, .name = "r_color", .json = "rColor", .type = PB_ENUM, .enm = &fuzz_color,
     .repeated = true},
    {.num = 21, .name = "r_b", .json = "rB", .type = PB_BYTES, .repeated = true},
    {.num = 22, .name = "o_u32", .json = "oU32", .type = PB_UINT32, .optional = true},
    {.num = 23, .name = "o_b", .json = "oB", .type = PB_BYTES, .optional = true},
    {.num = 24, .name = "o_fl", .json = "oFl", .type = PB_FLOAT, .optional = true},
    {.num = 25, .name = "child", .json = "child", .type = PB_MSG, .msg = &fuzz_all_msg},
    {.num = 26, .name = "kids", .json = "kids", .type = PB_MSG, .msg = &fuzz_all_msg,
     .repeated = true},
};
const pb_msg_t fuzz_all_msg = {"fuzz.All", fuzz_all_fields,
                               sizeof(fuzz_all_fields) / sizeof(fuzz_all_fields[0])};

static const pb_msg_t *const schemas[16] = {
    &pbs_querier_select_merge_stacktraces_request,
    &pbs_querier_select_series_request,
    &pbs_querier_series_request,
    &pbs_types_label_values_request,
    &pbs_types_label_names_request,
    &pbs_push_push_request,
    &pbs_querier_diff_request,
    &pbs_querier_select_heatmap_request,
    &pbs_querier_profile_types_request,
    &pbs_querier_select_merge_profile_request,
    &pbs_google_profile,
    &pbs_querier_select_heatmap_response,
    &pbs_querier_select_series_response,
    &pbs_querier_analyze_query_response,
    &pbs_querier_select_merge_stacktraces_response,
    &fuzz_all_msg,
};

static void check(bool ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_connect: invariant violated: %s\n", what);
        abort();
    }
}

static void check_failure(int rc, const pb_obj_t *o, const err_t *err)
{
    check(rc == EMB_EINVAL || rc == EMB_ETOOBIG, "failure code");
    check(o == NULL, "no tree on failure");
    check(err->code == rc && err->msg[0], "failure message");
}

/* The tree of a successful decode must re-encode both ways, stably. */
static void check_round_trips(const pb_obj_t *x)
{
    const pb_msg_t *m = pb_schema(x);
    /* Re-decoding holds the same values as x, which already fit its own budget. */
    pb_opts_t big = {.max_mem = SIZE_MAX};
    buf_t b1 = BUF_INIT, b2 = BUF_INIT, b3 = BUF_INIT, j1 = BUF_INIT, j2 = BUF_INIT;
    pb_obj_t *y = NULL, *z = NULL;
    err_t err = {0};

    check(pb_encode_binary(&b1, x) == 0, "binary encode");
    check(pb_decode_binary_opts(&y, m, b1.data, b1.len, &big, &err) == 0, "binary re-decode");
    check(pb_equal(x, y), "binary round trip equal");
    check(pb_encode_binary(&b2, y) == 0, "binary re-encode");
    check(b1.len == b2.len && memcmp(b1.data, b2.data, b1.len) == 0, "binary encoding stable");

    check(pb_encode_json(&j1, x) == 0, "JSON encode");
    check(pb_decode_json_opts(&z, m, j1.data, j1.len, &big, &err) == 0, "JSON re-decode");
    check(pb_equal(x, z), "JSON round trip equal");
    check(pb_encode_json(&j2, z) == 0, "JSON re-encode");
    check(j1.len == j2.len && memcmp(j1.data, j2.data, j1.len) == 0, "JSON encoding stable");
    check(pb_encode_binary(&b3, z) == 0, "binary encode of the JSON tree");
    check(b1.len == b3.len && memcmp(b1.data, b3.data, b1.len) == 0, "JSON and binary agree");

    pb_free(y);
    pb_free(z);
    buf_release(&b1);
    buf_release(&b2);
    buf_release(&b3);
    buf_release(&j1);
    buf_release(&j2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const pb_msg_t *m = schemas[data[0] & 15];
    pb_opts_t opts = {.ignore_unknown = (data[0] >> 4) & 1};
    const uint8_t *p = data + 1;
    size_t n = size - 1;

    pb_obj_t *o = NULL;
    err_t err = {0};
    int rc = pb_decode_binary_opts(&o, m, p, n, &opts, &err);
    if (rc == 0)
        check_round_trips(o);
    else
        check_failure(rc, o, &err);
    pb_free(o);

    o = NULL;
    memset(&err, 0, sizeof(err));
    rc = pb_decode_json_opts(&o, m, (const char *)p, n, &opts, &err);
    if (rc == 0)
        check_round_trips(o);
    else
        check_failure(rc, o, &err);
    pb_free(o);
    return 0;
}
