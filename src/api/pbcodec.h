/* pbcodec: a schema-driven codec between protobuf binary, protobuf JSON (protojson) and an
 * in-memory message value, so Connect handlers (PROTOCOLS.md §4) decode a request in either
 * encoding and build a response once, then encode it in the encoding the client asked for.
 *
 * Data flow: HTTP body -> pb_decode_binary / pb_decode_json -> pb_obj_t tree (read with the
 * pb_get_* accessors) ... handler builds a response tree (pb_new, pb_set_*, pb_add_*) ->
 * pb_encode_binary / pb_encode_json -> response body. Schemas are static tables (pb_msg_t),
 * written by hand in api/pbschema.c from the .proto files under proto/.
 *
 * Ownership (one rule for the whole module): every tree lives in one arena owned by its root.
 * pb_new() and the decoders return an *owned* root, freed with pb_free(root), which frees the
 * whole tree at once. Every pointer the module hands out (children from pb_get_msg /
 * pb_set_msg / pb_add_msg, strings and bytes from the getters) is *borrowed* until
 * pb_free(root); overwriting a field does not free its old value early. The decoders copy
 * every string and bytes value into the arena (NUL-terminated), so the input buffer may be
 * freed as soon as the decoder returns. A tree may be read from several threads at once; a
 * tree being modified must not be touched by another thread. Schemas are immutable.
 *
 * Invariant a reader must not break: a singular field without presence (proto3 scalar not
 * marked `optional`) that holds its default value (0, false, "", empty bytes, +0.0) is stored
 * as *absent*; every setter and both decoders keep this, so "absent" and "default" are the
 * same state and both encoders simply skip absent fields. Fields with presence (`optional`
 * scalars, sub-messages) are present once set, whatever the value.
 *
 * Wire rules implemented (proto3, as protobuf-go):
 *   binary decode  fields in any order; last value wins for singular scalars, singular
 *                  sub-messages are merged; repeated scalars packed or unpacked (mixed too);
 *                  unknown fields, and known fields with another wire type, are skipped by
 *                  wire type (groups included); strings must be valid UTF-8; nesting (groups
 *                  included) is at most max_depth (64); field number 0 or a truncated,
 *                  overlong (>10 bytes) or overflowing varint is malformed.
 *   binary encode  canonical: fields in field-number order, defaults omitted, repeated
 *                  scalars packed.
 *   JSON decode    field names in lowerCamel (json) or proto spelling, each at most once;
 *                  int64/uint64 (and 32-bit) as number or string; enums by name or number;
 *                  bytes in standard or URL-safe base64, with or without padding; doubles
 *                  also as "NaN", "Infinity", "-Infinity" or a numeric string; `null` means
 *                  default; unknown fields (and unknown enum names) are an error unless
 *                  pb_opts_t.ignore_unknown. 64-bit integers above 2^63-1 must be strings
 *                  (the JSON parser keeps numbers as signed 64-bit).
 *   JSON encode    defaults omitted (set `optional` fields kept), fields in schema order,
 *                  64-bit integers as strings, enums by name (unknown numbers as numbers),
 *                  doubles as the shortest text that reads back exactly, non-finite as
 *                  "NaN"/"Infinity"/"-Infinity" (and -0 as -0.0, which a JSON parser
 *                  cannot confuse with the integer 0), bytes as padded standard base64.
 * Every NaN is stored as the one quiet NaN (a payload or sign could not survive JSON).
 * Not supported (Ember's schemas need none): map fields, oneof, groups as known fields,
 * well-known types (Timestamp, Any, ...).
 *
 * Errors: 0 or a negative EMB_E* code with detail in err. Malformed input is EMB_EINVAL and
 * the message names the field path (proto names for binary input, JSON names for JSON, as
 * the client wrote them) and, for binary, the byte offset of the field's tag
 * ("labels_set[0].labels[1].value: byte 40: invalid UTF-8"); going over the memory budget is
 * EMB_ETOOBIG. Misusing the accessors (an unknown field name, a getter of the wrong type, an
 * index out of range, pb_free on a child) is a programming error: it prints the reason and
 * aborts, like an assertion. Bad input never aborts.
 */
#ifndef EMBER_API_PBCODEC_H
#define EMBER_API_PBCODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"

/* Hard limit on nesting, for both decoders (a request naming a larger max_depth gets this). */
#define PB_MAX_DEPTH 64
/* Fields per message a schema may declare (the JSON decoder keeps a bitmap of seen fields). */
#define PB_MAX_FIELDS 256
/* Default decode memory budget: PB_MEM_FACTOR bytes per input byte, plus PB_MEM_BASE. */
#define PB_MEM_FACTOR 32
#define PB_MEM_BASE (64 * 1024)

typedef enum pb_type {
    PB_STRING = 1, /* UTF-8 text */
    PB_BYTES,
    PB_INT64,      /* varint; JSON string */
    PB_UINT64,     /* varint; JSON string */
    PB_INT32,      /* varint (negative values take 10 bytes); JSON number */
    PB_UINT32,     /* varint; JSON number */
    PB_SINT64,     /* zigzag varint; JSON string */
    PB_SINT32,     /* zigzag varint; JSON number */
    PB_FIXED64,    /* 8 bytes little-endian; JSON string */
    PB_SFIXED64,   /* 8 bytes; JSON string */
    PB_FIXED32,    /* 4 bytes; JSON number */
    PB_SFIXED32,   /* 4 bytes; JSON number */
    PB_BOOL,
    PB_DOUBLE,
    PB_FLOAT,      /* kept as a double rounded to float precision */
    PB_ENUM,       /* varint int32; JSON name (or number when unknown); needs enm */
    PB_MSG,        /* length-delimited sub-message; needs msg */
} pb_type_t;

typedef struct pb_enum_value {
    const char *name; /* e.g. "PROFILE_FORMAT_TREE" */
    int32_t num;
} pb_enum_value_t;

typedef struct pb_enum {
    const char *name; /* full name, e.g. "querier.v1.ProfileFormat" */
    const pb_enum_value_t *values;
    size_t nvalues;
} pb_enum_t;

typedef struct pb_msg pb_msg_t;

typedef struct pb_field {
    uint32_t num;         /* field number, 1..2^29-1 */
    const char *name;     /* proto name, e.g. "profile_typeID" */
    const char *json;     /* protojson name (lowerCamel of name), e.g. "profileTypeID" */
    pb_type_t type;
    bool repeated;
    const pb_msg_t *msg;  /* PB_MSG: the sub-message schema */
    const pb_enum_t *enm; /* PB_ENUM: the enum */
    bool optional;        /* proto3 `optional`: presence tracked for a scalar */
} pb_field_t;

/* A message schema. fields are sorted by ascending field number (pb_schema_check). */
struct pb_msg {
    const char *name; /* full name, e.g. "querier.v1.SelectMergeStacktracesRequest" */
    const pb_field_t *fields;
    size_t nfields;
};

/* A message value: the schema plus the values of each field. Opaque. */
typedef struct pb_obj pb_obj_t;

typedef struct pb_opts {
    bool ignore_unknown; /* JSON: skip unknown fields and unknown enum names (protojson
                          * DiscardUnknown); binary always skips unknown fields */
    unsigned max_depth;  /* 0 or > PB_MAX_DEPTH = PB_MAX_DEPTH */
    size_t max_mem;      /* bytes the decoded tree may hold (objects, values, copies; the
                          * allocator's slack, at most as much again, is not counted);
                          * 0 = PB_MEM_FACTOR * len + PB_MEM_BASE. Over it: EMB_ETOOBIG */
} pb_opts_t;

/* ---- schemas ----------------------------------------------------------------------------- */

/* The field named name (protojson or proto spelling) or numbered num; NULL if none. */
const pb_field_t *pb_field_find(const pb_msg_t *m, const char *name);
const pb_field_t *pb_field_by_num(const pb_msg_t *m, uint32_t num);

/* Checks a schema and every schema it reaches: field numbers valid (1..2^29-1, not
 * 19000..19999), strictly ascending; names non-empty and unique in both spellings; json is
 * the protojson lowerCamel of name; MSG fields have msg, ENUM fields have enm (with a value
 * 0 first, proto3 rule) and no other field has either; `optional` never with repeated; at
 * most PB_MAX_FIELDS fields. For tests and start-up asserts; returns 0 or EMB_EINVAL. */
int pb_schema_check(const pb_msg_t *m, err_t *err);

/* ---- decode / encode --------------------------------------------------------------------- */

/* Decodes a protobuf binary message of the given schema. OUT: *out, an owned tree (NULL on
 * failure). The input is not kept. Errors: EMB_EINVAL (malformed, bad UTF-8, too deep),
 * EMB_ETOOBIG (memory budget). A zero-length input is a valid empty message. */
int pb_decode_binary(pb_obj_t **out, const pb_msg_t *schema, const void *data, size_t len,
                     err_t *err) __attribute__((warn_unused_result));
int pb_decode_binary_opts(pb_obj_t **out, const pb_msg_t *schema, const void *data,
                          size_t len, const pb_opts_t *opts, err_t *err)
    __attribute__((warn_unused_result));

/* Decodes protojson text (a JSON object) of the given schema, with jansson. OUT: *out, owned
 * (NULL on failure). Errors: EMB_EINVAL (bad JSON, wrong types, unknown fields unless
 * ignore_unknown, values out of range, bad base64, too deep), EMB_ETOOBIG (budget). An empty
 * body is not JSON and fails here; Connect's "empty body -> 400" is the caller's rule. */
int pb_decode_json(pb_obj_t **out, const pb_msg_t *schema, const char *text, size_t len,
                   err_t *err) __attribute__((warn_unused_result));
int pb_decode_json_opts(pb_obj_t **out, const pb_msg_t *schema, const char *text, size_t len,
                        const pb_opts_t *opts, err_t *err) __attribute__((warn_unused_result));

/* Appends the canonical binary encoding of o to out. Returns 0 or EMB_ETOOBIG (out's cap;
 * out is then unchanged). */
int pb_encode_binary(buf_t *out, const pb_obj_t *o) __attribute__((warn_unused_result));
/* Appends the protojson encoding of o (compact, no spaces) to out. Returns 0 or EMB_ETOOBIG
 * (out is then unchanged). */
int pb_encode_json(buf_t *out, const pb_obj_t *o) __attribute__((warn_unused_result));

/* True if a and b have the same schema and equal field values: absent and default are equal
 * for fields without presence; presence must match for the others; doubles compare with ==
 * except that NaN equals NaN. NULL equals only NULL. */
bool pb_equal(const pb_obj_t *a, const pb_obj_t *b);

/* ---- building ---------------------------------------------------------------------------- */

/* A new empty message (owned; pb_free). Aborts on OOM (xmalloc), like all builders. */
pb_obj_t *pb_new(const pb_msg_t *schema);
/* Frees the tree rooted at o. NULL is a no-op; a child (not a root) is a programming error. */
void pb_free(pb_obj_t *o);
/* The schema of o. */
const pb_msg_t *pb_schema(const pb_obj_t *o);

/* ---- field access -------------------------------------------------------------------------
 * Every accessor below names the field by `key`, which is either a string (protojson or proto
 * name: "profileTypeID" or "profile_typeID") or an integer field number (1, 2, ...); the
 * macros dispatch on its type (C11 _Generic) and may evaluate key twice. An unknown key or a
 * type mismatch aborts (programming error).
 *
 * Getters take a possibly-NULL object (an absent sub-message from pb_get_msg) and then return
 * the field's default, so `pb_get_i64(pb_get_msg(req, "left"), "start")` needs no check.
 * Getters on a repeated field read element 0 (default if empty); the *_at forms index a
 * repeated field (i < pb_count, else abort). Integer getters accept every integer type,
 * ENUM and BOOL; pb_get_double accepts DOUBLE and FLOAT; string getters STRING and BYTES.
 *
 * Setters (pb_set_*) replace a singular field's value (storing the default makes it absent
 * unless the field is `optional`); adders (pb_add_*) append to a repeated field; using one
 * on the other kind aborts. Integers are truncated to the field's width (as a cast would);
 * strings are copied and invalid UTF-8 in them becomes U+FFFD, so both encodings stay valid.
 */
#define PB__NUM(k) _Generic((k), char *: 0u, const char *: 0u, default: (k))
#define PB__NAME(k) _Generic((k), char *: (k), const char *: (k), default: (const char *)0)
#define PB__K(k) PB__NUM(k), PB__NAME(k)

/* Presence: singular fields as described at the top; repeated fields: non-empty. */
#define pb_has(o, key) pb__has((o), PB__K(key))
/* Number of values: repeated fields their length, singular fields 0 or 1. */
#define pb_count(o, key) pb__count((o), PB__K(key))

#define pb_get_str(o, key) pb__get_str((o), PB__K(key), 0, NULL)         /* "" if absent */
#define pb_get_str_at(o, key, i) pb__get_str((o), PB__K(key), (i) + 1, NULL)
#define pb_get_bytes(o, key, out_len) pb__get_str((o), PB__K(key), 0, (out_len))
#define pb_get_bytes_at(o, key, i, out_len) pb__get_str((o), PB__K(key), (i) + 1, (out_len))
#define pb_get_i64(o, key) ((int64_t)pb__get_u64((o), PB__K(key), 0))
#define pb_get_i64_at(o, key, i) ((int64_t)pb__get_u64((o), PB__K(key), (i) + 1))
#define pb_get_u64(o, key) pb__get_u64((o), PB__K(key), 0)
#define pb_get_u64_at(o, key, i) pb__get_u64((o), PB__K(key), (i) + 1)
#define pb_get_bool(o, key) (pb__get_u64((o), PB__K(key), 0) != 0)
#define pb_get_bool_at(o, key, i) (pb__get_u64((o), PB__K(key), (i) + 1) != 0)
#define pb_get_enum(o, key) ((int32_t)pb__get_u64((o), PB__K(key), 0))
#define pb_get_enum_at(o, key, i) ((int32_t)pb__get_u64((o), PB__K(key), (i) + 1))
#define pb_get_double(o, key) pb__get_double((o), PB__K(key), 0)
#define pb_get_double_at(o, key, i) pb__get_double((o), PB__K(key), (i) + 1)
/* The enum value's name; NULL for a number the enum does not list, or when o is NULL. */
#define pb_get_enum_name(o, key) pb__get_enum_name((o), PB__K(key), 0)
/* A sub-message, or NULL when absent (getters accept NULL). */
#define pb_get_msg(o, key) pb__get_msg((o), PB__K(key), 0)
#define pb_get_msg_at(o, key, i) pb__get_msg((o), PB__K(key), (i) + 1)

#define pb_set_str(o, key, s) pb__put_str((o), PB__K(key), false, (s), (size_t)-1)
#define pb_set_strn(o, key, s, n) pb__put_str((o), PB__K(key), false, (s), (n))
#define pb_add_str(o, key, s) pb__put_str((o), PB__K(key), true, (s), (size_t)-1)
#define pb_add_strn(o, key, s, n) pb__put_str((o), PB__K(key), true, (s), (n))
#define pb_set_bytes(o, key, p, n) pb__put_bytes((o), PB__K(key), false, (p), (n))
#define pb_add_bytes(o, key, p, n) pb__put_bytes((o), PB__K(key), true, (p), (n))
#define pb_set_i64(o, key, v) pb__put_u64((o), PB__K(key), false, (uint64_t)(int64_t)(v))
#define pb_add_i64(o, key, v) pb__put_u64((o), PB__K(key), true, (uint64_t)(int64_t)(v))
#define pb_set_u64(o, key, v) pb__put_u64((o), PB__K(key), false, (uint64_t)(v))
#define pb_add_u64(o, key, v) pb__put_u64((o), PB__K(key), true, (uint64_t)(v))
#define pb_set_bool(o, key, v) pb__put_u64((o), PB__K(key), false, (v) ? 1u : 0u)
#define pb_add_bool(o, key, v) pb__put_u64((o), PB__K(key), true, (v) ? 1u : 0u)
#define pb_set_enum(o, key, v) pb__put_u64((o), PB__K(key), false, (uint64_t)(int64_t)(v))
#define pb_add_enum(o, key, v) pb__put_u64((o), PB__K(key), true, (uint64_t)(int64_t)(v))
#define pb_set_double(o, key, v) pb__put_double((o), PB__K(key), false, (v))
#define pb_add_double(o, key, v) pb__put_double((o), PB__K(key), true, (v))
/* Appends n int64 values at once (a flame graph level). */
#define pb_add_i64s(o, key, v, n) pb__put_i64s((o), PB__K(key), (v), (n))
/* The singular sub-message, created empty (and so present) if absent. Borrowed. */
#define pb_set_msg(o, key) pb__put_msg((o), PB__K(key), false)
/* Appends a new empty sub-message to a repeated field and returns it. Borrowed. */
#define pb_add_msg(o, key) pb__put_msg((o), PB__K(key), true)
/* Makes a field absent / empty. */
#define pb_clear(o, key) pb__clear((o), PB__K(key))

/* The functions behind the macros; `at` is 0 for "singular / element 0" or index + 1. */
bool pb__has(const pb_obj_t *o, uint32_t num, const char *name);
size_t pb__count(const pb_obj_t *o, uint32_t num, const char *name);
const char *pb__get_str(const pb_obj_t *o, uint32_t num, const char *name, size_t at,
                        size_t *out_len);
uint64_t pb__get_u64(const pb_obj_t *o, uint32_t num, const char *name, size_t at);
double pb__get_double(const pb_obj_t *o, uint32_t num, const char *name, size_t at);
const char *pb__get_enum_name(const pb_obj_t *o, uint32_t num, const char *name, size_t at);
const pb_obj_t *pb__get_msg(const pb_obj_t *o, uint32_t num, const char *name, size_t at);
void pb__put_str(pb_obj_t *o, uint32_t num, const char *name, bool add, const char *s,
                 size_t n);
void pb__put_bytes(pb_obj_t *o, uint32_t num, const char *name, bool add, const void *p,
                   size_t n);
void pb__put_u64(pb_obj_t *o, uint32_t num, const char *name, bool add, uint64_t v);
void pb__put_double(pb_obj_t *o, uint32_t num, const char *name, bool add, double v);
void pb__put_i64s(pb_obj_t *o, uint32_t num, const char *name, const int64_t *v, size_t n);
pb_obj_t *pb__put_msg(pb_obj_t *o, uint32_t num, const char *name, bool add);
void pb__clear(pb_obj_t *o, uint32_t num, const char *name);

#endif
