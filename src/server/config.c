/* Server configuration. One table, OPTS, drives everything: defaults (parsed from the same
 * text a user would write), the YAML walk, flags, environment variables, -help output and the
 * effective-config dump. Adding a setting = one row here + one field in config_t.
 *
 * Data flow: config_load = defaults -> YAML file -> environment -> flags (later wins).
 * Invariant: every value reaching config_t went through parse_value, so range and choice
 * checks live in exactly one place; rows marked O_IGNORED are parsed (type-checked) and
 * dropped, for Pyroscope files that carry settings Ember does not implement.
 */
#include "server/config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "base/log.h"
#include "base/mem.h"

enum opt_type { T_STR, T_BOOL, T_INT, T_I64, T_MB, T_BYTES, T_DUR, T_FLOAT, T_ANY };

enum {
    O_IGNORED = 1 << 0,  /* accepted for Pyroscope compatibility; checked, not stored */
    O_META = 1 << 1,     /* flag only; applied before the file is read */
    O_SECRET = 1 << 2,   /* redacted by config_write_yaml(redact=true) */
    O_NONEMPTY = 1 << 3, /* "" is rejected */
};

/* keys[0] is the canonical YAML path (NULL for flag-only rows); a key ending in ".*" accepts
 * any subtree under its prefix. flags[0] is the canonical flag (no dash). min/max bound the
 * stored value (bytes for T_MB, ns for T_DUR); max 0 = the type's maximum. */
typedef struct opt {
    const char *keys[4];
    const char *flags[4];
    const char *env[3];
    enum opt_type type;
    unsigned bits;
    size_t off;
    const char *def;
    int64_t min, max;
    const char *choices; /* "a|b|c" for T_STR */
    const char *help;
} opt_t;

#define OFF(f) offsetof(config_t, f)
#define MIB ((int64_t)1 << 20)

static const opt_t OPTS[] = {
    /* ---- flag-only ---- */
    {.flags = {"config.file"}, .type = T_STR, .bits = O_META, .off = OFF(config_file),
     .help = "YAML configuration file to load."},
    {.flags = {"config.expand-env"}, .type = T_BOOL, .bits = O_META,
     .off = OFF(config_expand_env), .def = "false",
     .help = "Expand ${VAR}, ${VAR:-default} and $VAR in the configuration file."},
    {.flags = {"help", "h"}, .type = T_BOOL, .bits = O_META, .off = OFF(help), .def = "false",
     .help = "Print this help and exit."},

    /* ---- server ---- */
    {.keys = {"server.http_listen_address"}, .flags = {"server.http-listen-address"},
     .type = T_STR, .off = OFF(http_listen_address), .def = "",
     .help = "Address to listen on for HTTP; empty = all interfaces."},
    {.keys = {"server.http_listen_port"}, .flags = {"server.http-listen-port"}, .type = T_INT,
     .off = OFF(http_listen_port), .def = "4040", .min = 1, .max = 65535,
     .help = "HTTP port (API, ingest, UI)."},
    {.keys = {"server.http_threads"}, .flags = {"server.http-threads"}, .type = T_INT,
     .off = OFF(http_threads), .def = "0", .max = 1024,
     .help = "HTTP worker threads; 0 = number of CPUs (at least 4)."},
    {.keys = {"server.log_level"}, .flags = {"log.level", "server.log-level"},
     .env = {"PYROSCOPE_LOG_LEVEL", "EMBER_LOG_LEVEL"}, .type = T_STR, .off = OFF(log_level),
     .def = "info", .choices = "debug|info|warn|error",
     .help = "Only log messages at or above this level."},
    {.keys = {"server.log_format"}, .flags = {"log.format", "server.log-format"}, .type = T_STR,
     .off = OFF(log_format), .def = "logfmt", .choices = "logfmt|json",
     .help = "Log format; json is accepted for compatibility, output is logfmt."},

    /* ---- storage ---- */
    {.keys = {"storage.backend"}, .flags = {"storage.backend"}, .type = T_STR,
     .off = OFF(storage_backend), .def = "filesystem",
     .choices = "filesystem|s3|gcs|azure|swift|cos",
     .help = "Where blocks live; only filesystem is implemented, the server refuses others."},
    {.keys = {"storage.path", "pyroscopedb.data_path", "storage.filesystem.dir"},
     .flags = {"storage.path", "pyroscopedb.data-path", "storage.filesystem.dir"},
     .type = T_STR, .bits = O_NONEMPTY, .off = OFF(storage_path), .def = "./data",
     .help = "Data directory (WAL and blocks)."},
    {.keys = {"storage.wal_fsync"}, .flags = {"storage.wal-fsync"}, .type = T_BOOL,
     .off = OFF(wal_fsync), .def = "true",
     .help = "fsync the WAL before acknowledging a push; false only for benchmarks."},
    {.keys = {"storage.block_duration", "pyroscopedb.max_block_duration"},
     .flags = {"storage.block-duration", "pyroscopedb.max-block-duration"}, .type = T_DUR,
     .off = OFF(block_duration_ns), .def = "1h",
     .help = "How often the in-memory head is cut into an immutable block; 0 = never."},
    {.keys = {"storage.compaction_window"}, .flags = {"storage.compaction-window"},
     .type = T_DUR, .off = OFF(compaction_window_ns), .def = "24h",
     .help = "Blocks whose data lies in one window of this length are merged into one."},
    {.keys = {"storage.compaction_max_samples"}, .flags = {"storage.compaction-max-samples"},
     .type = T_I64, .off = OFF(compaction_max_samples), .def = "20000000",
     .help = "Most samples one compaction merges (it holds them in memory, ~40 bytes each); "
             "blocks beyond it stay separate. 0 = no cap."},
    {.keys = {"storage.s3.bucket_name"}, .flags = {"storage.s3.bucket-name"}, .type = T_STR,
     .off = OFF(s3_bucket_name), .def = "", .help = "S3 bucket name."},
    {.keys = {"storage.s3.endpoint"}, .flags = {"storage.s3.endpoint"}, .type = T_STR,
     .off = OFF(s3_endpoint), .def = "", .help = "S3 endpoint (host[:port])."},
    {.keys = {"storage.s3.region"}, .flags = {"storage.s3.region"}, .type = T_STR,
     .off = OFF(s3_region), .def = "", .help = "S3 region."},
    {.keys = {"storage.s3.access_key_id"}, .flags = {"storage.s3.access-key-id"},
     .type = T_STR, .off = OFF(s3_access_key_id), .def = "", .help = "S3 access key id."},
    {.keys = {"storage.s3.secret_access_key"}, .flags = {"storage.s3.secret-access-key"},
     .type = T_STR, .bits = O_SECRET, .off = OFF(s3_secret_access_key), .def = "",
     .help = "S3 secret access key."},
    {.keys = {"storage.s3.insecure"}, .flags = {"storage.s3.insecure"}, .type = T_BOOL,
     .off = OFF(s3_insecure), .def = "false", .help = "Use http instead of https for S3."},

    /* ---- limits ---- */
    {.keys = {"limits.max_nodes_per_profile"}, .flags = {"limits.max-nodes-per-profile"},
     .type = T_I64, .off = OFF(max_nodes_per_profile), .def = "0",
     .help = "Max stack-tree nodes kept per ingested profile; 0 = unlimited."},
    {.keys = {"limits.retention", "limits.compactor_blocks_retention_period"},
     .flags = {"limits.retention", "compactor.blocks-retention-period"}, .type = T_DUR,
     .off = OFF(retention_ns), .def = "0s",
     .help = "Delete blocks older than this; 0 = keep forever."},
    {.keys = {"limits.ingestion_rate_mb"},
     .flags = {"limits.ingestion-rate-mb", "distributor.ingestion-rate-limit-mb"},
     .type = T_FLOAT, .off = OFF(ingestion_rate_mb), .def = "0",
     .help = "Per-tenant ingest rate in MiB/s of request bodies (429 above it); 0 = no limit "
             "(Pyroscope defaults to 4)."},
    {.keys = {"limits.ingestion_burst_size_mb"},
     .flags = {"limits.ingestion-burst-size-mb", "distributor.ingestion-burst-size-mb"},
     .type = T_FLOAT, .off = OFF(ingestion_burst_size_mb), .def = "2",
     .help = "Per-tenant burst above the ingest rate, MiB; a single body larger than this is "
             "refused while the rate limit is on."},
    {.keys = {"limits.max_query_lookback"},
     .flags = {"limits.max-query-lookback", "querier.max-query-lookback"}, .type = T_DUR,
     .off = OFF(max_query_lookback_ns), .def = "0s",
     .help = "Queries see no data older than this (the start is moved up silently); 0 = no "
             "limit (Pyroscope defaults to 1w)."},
    {.keys = {"limits.max_query_length"},
     .flags = {"limits.max-query-length", "querier.max-query-length"}, .type = T_DUR,
     .off = OFF(max_query_length_ns), .def = "0s",
     .help = "Longest time range one query may ask for (400 above it); 0 = no limit "
             "(Pyroscope defaults to 1d; Ember's rollups make month-long queries cheap)."},
    {.keys = {"limits.ingestion_body_limit_mb"}, .flags = {"limits.ingestion-body-limit-mb"},
     .type = T_MB, .off = OFF(ingestion_body_limit_bytes), .def = "256",
     .help = "Max request body size in MiB; 0 = unlimited."},
    {.keys = {"limits.max_profile_size_bytes"},
     .flags = {"limits.max-profile-size-bytes", "validation.max-profile-size-bytes"},
     .type = T_BYTES, .off = OFF(max_profile_size_bytes), .def = "4194304",
     .help = "Max decompressed profile size in bytes; 0 = unlimited."},
    {.keys = {"limits.max_flamegraph_nodes_default"},
     .flags = {"limits.max-flamegraph-nodes-default", "querier.max-flamegraph-nodes-default"},
     .type = T_I64, .off = OFF(max_flamegraph_nodes_default), .def = "8192",
     .help = "Flame graph nodes returned when a query does not ask; 0 = unlimited."},
    {.keys = {"limits.max_flamegraph_nodes_max"},
     .flags = {"limits.max-flamegraph-nodes-max", "querier.max-flamegraph-nodes-max"},
     .type = T_I64, .off = OFF(max_flamegraph_nodes_max), .def = "1048576",
     .help = "Most flame graph nodes a query may ask for; 0 = unlimited."},
    {.keys = {"limits.max_global_series_per_tenant"},
     .flags = {"limits.max-global-series-per-tenant", "ingester.max-global-series-per-tenant"},
     .type = T_I64, .off = OFF(max_global_series_per_tenant), .def = "5000",
     .help = "Most active series (in the head, since the last block cut) one tenant may "
             "have; a request adding more gets 429. 0 = no limit."},
    {.keys = {"limits.max_label_names_per_series"},
     .flags = {"limits.max-label-names-per-series", "validation.max-label-names-per-series"},
     .type = T_I64, .off = OFF(max_label_names_per_series), .def = "30",
     .help = "Max label pairs per series."},
    {.keys = {"limits.max_label_name_length"},
     .flags = {"limits.max-label-name-length", "validation.max-length-label-name"},
     .type = T_I64, .off = OFF(max_label_name_length), .def = "1024",
     .help = "Max label name length in bytes."},
    {.keys = {"limits.max_label_value_length"},
     .flags = {"limits.max-label-value-length", "validation.max-length-label-value"},
     .type = T_I64, .off = OFF(max_label_value_length), .def = "2048",
     .help = "Max label value length in bytes."},

    /* ---- tenancy and misc ---- */
    {.keys = {"multitenancy_enabled"}, .flags = {"multitenancy-enabled", "auth.multitenancy-enabled"},
     .type = T_BOOL, .off = OFF(multitenancy_enabled), .def = "false",
     .help = "Require X-Scope-OrgID on every request; otherwise tenant \"anonymous\"."},
    {.keys = {"analytics.reporting_enabled"},
     .flags = {"analytics.reporting-enabled", "usage-stats.enabled"}, .type = T_BOOL,
     .off = OFF(analytics_reporting_enabled), .def = "true",
     .help = "Accepted for compatibility; Ember never reports usage."},

    /* ---- accepted and ignored (Pyroscope compatibility, PROTOCOLS.md section 9) ---- */
    {.keys = {"target"}, .flags = {"target"}, .type = T_STR, .bits = O_IGNORED, .def = "all",
     .help = "Pyroscope component list; Ember is always all."},
    {.keys = {"server.grpc_listen_port"}, .flags = {"server.grpc-listen-port"}, .type = T_INT,
     .bits = O_IGNORED, .def = "9095", .max = 65535, .help = "No gRPC server."},
    {.keys = {"self_profiling.disable_push"}, .type = T_BOOL, .bits = O_IGNORED, .def = "false"},
    {.keys = {"self_profiling.mutex_profile_fraction"}, .type = T_INT, .bits = O_IGNORED,
     .def = "5"},
    {.keys = {"self_profiling.block_profile_rate"}, .type = T_INT, .bits = O_IGNORED,
     .def = "5"},
    {.keys = {"self_profiling.use_k6_middleware"}, .type = T_BOOL, .bits = O_IGNORED,
     .def = "false"},
    {.keys = {"self_profiling.tenant_id"}, .type = T_STR, .bits = O_IGNORED, .def = ""},
    {.keys = {"self_profiling.*"}, .type = T_ANY, .bits = O_IGNORED},
    {.keys = {"api.base-url"}, .flags = {"api.base-url"}, .type = T_STR, .bits = O_IGNORED,
     .def = ""},
    {.keys = {"architecture_storage"}, .type = T_STR, .bits = O_IGNORED, .def = "v1-v2-dual"},
    {.keys = {"storage.prefix"}, .flags = {"storage.prefix"}, .type = T_STR, .bits = O_IGNORED,
     .def = ""},
    {.keys = {"storage.s3.signature_version"}, .type = T_STR, .bits = O_IGNORED, .def = "v4"},
    {.keys = {"storage.s3.native_aws_auth_enabled"}, .type = T_BOOL, .bits = O_IGNORED,
     .def = "false"},
    /* Sections of the backends the server refuses with "not yet supported": accepted here so
     * that message, not "unknown key", is what a user with such a file sees. */
    {.keys = {"storage.gcs.*"}, .type = T_ANY, .bits = O_IGNORED},
    {.keys = {"storage.azure.*"}, .type = T_ANY, .bits = O_IGNORED},
    {.keys = {"storage.swift.*"}, .type = T_ANY, .bits = O_IGNORED},
    {.keys = {"storage.cos.*"}, .type = T_ANY, .bits = O_IGNORED},
    {.keys = {"pyroscopedb.min_free_disk_gb"}, .type = T_I64, .bits = O_IGNORED, .def = "10"},
    {.keys = {"pyroscopedb.min_disk_available_percentage"}, .type = T_FLOAT, .bits = O_IGNORED,
     .def = "0.05"},
    {.keys = {"tenant_settings.*"}, .type = T_ANY, .bits = O_IGNORED},
    {.keys = {"limits.max_profile_stacktrace_samples"},
     .flags = {"validation.max-profile-stacktrace-samples"}, .type = T_I64, .bits = O_IGNORED,
     .def = "16000"},
    {.keys = {"limits.max_profile_stacktrace_sample_labels"},
     .flags = {"validation.max-profile-stacktrace-sample-labels"}, .type = T_I64,
     .bits = O_IGNORED, .def = "100"},
    {.keys = {"limits.max_profile_stacktrace_depth"},
     .flags = {"validation.max-profile-stacktrace-depth"}, .type = T_I64, .bits = O_IGNORED,
     .def = "1000"},
    {.keys = {"limits.max_profile_symbol_value_length"},
     .flags = {"validation.max-profile-symbol-value-length"}, .type = T_I64, .bits = O_IGNORED,
     .def = "65535"},
    {.keys = {"limits.reject_older_than"}, .flags = {"validation.reject-older-than"},
     .type = T_DUR, .bits = O_IGNORED, .def = "1h"},
    {.keys = {"limits.reject_newer_than"}, .flags = {"validation.reject-newer-than"},
     .type = T_DUR, .bits = O_IGNORED, .def = "10m"},
    {.keys = {"limits.max_global_series_per_tenant"},
     .flags = {"ingester.max-global-series-per-tenant"}, .type = T_I64, .bits = O_IGNORED,
     .def = "5000"},
    {.keys = {"limits.max_local_series_per_tenant"},
     .flags = {"ingester.max-local-series-per-tenant"}, .type = T_I64, .bits = O_IGNORED,
     .def = "0"},
    {.keys = {"limits.max_sessions_per_series"}, .flags = {"validation.max-sessions-per-series"},
     .type = T_I64, .bits = O_IGNORED, .def = "0"},
    {.keys = {"limits.disable_label_sanitization"}, .type = T_BOOL, .bits = O_IGNORED,
     .def = "true"},
    {.keys = {"limits.retention_period"}, .flags = {"retention-period"}, .type = T_DUR,
     .bits = O_IGNORED, .def = "31d", .help = "v2 retention; use limits.retention."},
    {.keys = {"limits.ingestion_relabeling_rules"},
     .flags = {"distributor.ingestion-relabeling-rules"}, .type = T_ANY, .bits = O_IGNORED},
    {.keys = {"limits.ingestion_relabeling_default_rules_position"},
     .flags = {"distributor.ingestion-relabeling-default-rules-position"}, .type = T_STR,
     .bits = O_IGNORED, .def = "first", .choices = "first|last|disabled"},
    {.keys = {"limits.recording_rules"}, .type = T_ANY, .bits = O_IGNORED},
    {.keys = {"limits.max_recording_rules"}, .type = T_I64, .bits = O_IGNORED, .def = "25"},
};

#define NOPTS (sizeof(OPTS) / sizeof(OPTS[0]))

/* ------------------------------------------------------------------------------------------ */
/* Value parsing: text -> val_t, with every check a setting has.                               */

typedef struct val {
    int64_t i;
    double d;
    bool b;
    const char *s; /* T_STR: points into the input (NUL-terminated at s[n]) */
    size_t n;
} val_t;

static const char *type_name(enum opt_type t)
{
    switch (t) {
    case T_STR: return "string";
    case T_BOOL: return "bool";
    case T_INT:
    case T_I64: return "int";
    case T_MB: return "MiB";
    case T_BYTES: return "bytes";
    case T_DUR: return "duration";
    case T_FLOAT: return "float";
    case T_ANY: return "any";
    }
    return "?";
}

/* Shortens user text shown inside messages so the key and line always fit in err_t. */
#define SHOWN(n) ((int)((n) > 40 ? 40 : (n)))

/* Parses an optionally signed decimal integer filling all of s[0..n). Returns 0, -1 if it is
 * not an integer, -2 if it does not fit in int64_t. */
static int parse_i64(const char *s, size_t n, int64_t *out)
{
    size_t i = 0;
    bool neg = false;
    if (i < n && (s[i] == '+' || s[i] == '-'))
        neg = s[i++] == '-';
    if (i == n)
        return -1;
    uint64_t v = 0;
    uint64_t lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    for (; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (lim - d) / 10)
            return -2;
        v = v * 10 + d;
    }
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return 0;
}

static bool str_in(const char *s, size_t n, const char *const *list)
{
    for (; *list; list++)
        if (strlen(*list) == n && !memcmp(*list, s, n))
            return true;
    return false;
}

/* Go's strconv.ParseBool plus the YAML 1.1 words yaml.v3 accepts for typed bools. */
static int parse_bool(const char *s, size_t n, bool *out)
{
    static const char *const yes[] = {"true", "True", "TRUE", "t", "T", "1", "yes", "Yes", "YES",
                                      "y", "Y", "on", "On", "ON", NULL};
    static const char *const no[] = {"false", "False", "FALSE", "f", "F", "0", "no", "No", "NO",
                                     "n", "N", "off", "Off", "OFF", NULL};
    if (str_in(s, n, yes))
        *out = true;
    else if (str_in(s, n, no))
        *out = false;
    else
        return -1;
    return 0;
}

/* Durations: a sequence of <number><unit> ("1h30m", "1.5h", "720h"), units ns us µs ms s m h
 * d w y (d = 24h, w = 7d, y = 365d, as Prometheus's model.Duration); "0" alone is allowed. */
static int parse_duration(const char *s, size_t n, int64_t *out, const char **why)
{
    static const struct {
        const char *name;
        int64_t ns;
    } units[] = {
        {"ns", 1},
        {"us", 1000},
        {"\xc2\xb5s", 1000}, /* µs */
        {"ms", 1000000},
        {"s", 1000000000},
        {"m", INT64_C(60) * 1000000000},
        {"h", INT64_C(3600) * 1000000000},
        {"d", INT64_C(86400) * 1000000000},
        {"w", INT64_C(7) * 86400 * 1000000000},
        {"y", INT64_C(365) * 86400 * 1000000000},
    };
    if (n == 0) {
        *why = "empty duration";
        return -1;
    }
    if (s[0] == '-') {
        *why = "must not be negative";
        return -1;
    }
    if (n == 1 && s[0] == '0') {
        *out = 0;
        return 0;
    }
    int64_t total = 0;
    size_t i = 0;
    while (i < n) {
        uint64_t whole = 0;
        bool digits = false, overflow = false;
        while (i < n && s[i] >= '0' && s[i] <= '9') {
            if (whole > (uint64_t)INT64_MAX / 10)
                overflow = true;
            else
                whole = whole * 10 + (uint64_t)(s[i] - '0');
            digits = true;
            i++;
        }
        double frac = 0, scale = 1;
        if (i < n && s[i] == '.') {
            i++;
            while (i < n && s[i] >= '0' && s[i] <= '9') {
                if (scale < 1e18) {
                    scale *= 10;
                    frac = frac * 10 + (s[i] - '0');
                }
                digits = true;
                i++;
            }
        }
        if (!digits) {
            *why = "expected a number";
            return -1;
        }
        size_t u = 0, ulen = 0;
        for (size_t k = 0; k < sizeof(units) / sizeof(units[0]); k++) {
            size_t l = strlen(units[k].name);
            /* longest match wins: "ms" before "m", "µs" before nothing */
            if (l > ulen && i + l <= n && !memcmp(s + i, units[k].name, l)) {
                u = k;
                ulen = l;
            }
        }
        if (ulen == 0) {
            *why = i == n ? "missing unit (ns, us, ms, s, m, h, d, w, y)"
                          : "unknown unit (want ns, us, ms, s, m, h, d, w, y)";
            return -1;
        }
        i += ulen;
        int64_t mult = units[u].ns;
        if (overflow || whole > (uint64_t)(INT64_MAX / mult)) {
            *why = "out of range";
            return -1;
        }
        int64_t part = (int64_t)whole * mult;
        int64_t fpart = (int64_t)(frac / scale * (double)mult); /* < mult: cannot overflow */
        if (part > INT64_MAX - fpart || total > INT64_MAX - (part + fpart)) {
            *why = "out of range";
            return -1;
        }
        total += part + fpart;
    }
    *out = total;
    return 0;
}

/* Formats ns as parse_duration reads it, Prometheus style: years and weeks only when exact
 * ("30d", not "4w2d"), then d h m s ms us ns. */
static void format_duration(int64_t ns, char *out, size_t cap)
{
    static const struct {
        const char *name;
        int64_t ns;
        bool exact;
    } units[] = {
        {"y", INT64_C(365) * 86400 * 1000000000, true},
        {"w", INT64_C(7) * 86400 * 1000000000, true},
        {"d", INT64_C(86400) * 1000000000, false},
        {"h", INT64_C(3600) * 1000000000, false},
        {"m", INT64_C(60) * 1000000000, false},
        {"s", 1000000000, false},
        {"ms", 1000000, false},
        {"us", 1000, false},
        {"ns", 1, false},
    };
    size_t len = 0;
    out[0] = 0;
    if (ns <= 0) {
        snprintf(out, cap, "0s");
        return;
    }
    for (size_t k = 0; k < sizeof(units) / sizeof(units[0]); k++) {
        if (units[k].exact && ns % units[k].ns)
            continue;
        int64_t v = ns / units[k].ns;
        if (v > 0 && len < cap) {
            int w = snprintf(out + len, cap - len, "%lld%s", (long long)v, units[k].name);
            if (w > 0)
                len += (size_t)w;
            ns -= v * units[k].ns;
        }
    }
}

static int parse_float(const char *s, size_t n, double *out)
{
    char tmp[64];
    if (n == 0 || n >= sizeof(tmp))
        return -1;
    memcpy(tmp, s, n);
    tmp[n] = 0;
    if (!(isdigit((unsigned char)tmp[0]) || tmp[0] == '.' || tmp[0] == '-' || tmp[0] == '+'))
        return -1;
    char *end = NULL;
    errno = 0;
    double d = strtod(tmp, &end);
    if (end != tmp + n || errno == ERANGE || !isfinite(d))
        return -1;
    *out = d;
    return 0;
}

static bool in_choices(const char *choices, const char *s, size_t n)
{
    const char *p = choices;
    for (;;) {
        const char *bar = strchr(p, '|');
        size_t l = bar ? (size_t)(bar - p) : strlen(p);
        if (l == n && !memcmp(p, s, n))
            return true;
        if (!bar)
            return false;
        p = bar + 1;
    }
}

/* Parses s[0..n) (NUL at s[n]) for o into v. On failure returns -1 with why filled; the
 * caller adds where the value came from. */
static int parse_value(const opt_t *o, const char *s, size_t n, val_t *v, char *why, size_t wn)
{
    int64_t lo = o->min;
    int64_t hi = o->max ? o->max : (o->type == T_INT ? INT_MAX : INT64_MAX);
    const char *dwhy = NULL;
    int rc;

    memset(v, 0, sizeof(*v));
    switch (o->type) {
    case T_ANY:
        return 0;
    case T_STR:
        if (memchr(s, 0, n)) {
            snprintf(why, wn, "contains a NUL byte");
            return -1;
        }
        if ((o->bits & O_NONEMPTY) && n == 0) {
            snprintf(why, wn, "must not be empty");
            return -1;
        }
        if (o->choices && !in_choices(o->choices, s, n)) {
            snprintf(why, wn, "\"%.*s\" is not one of %s", SHOWN(n), s, o->choices);
            return -1;
        }
        v->s = s;
        v->n = n;
        return 0;
    case T_BOOL:
        if (parse_bool(s, n, &v->b)) {
            snprintf(why, wn, "expected true or false, got \"%.*s\"", SHOWN(n), s);
            return -1;
        }
        return 0;
    case T_FLOAT:
        if (parse_float(s, n, &v->d)) {
            snprintf(why, wn, "expected a number, got \"%.*s\"", SHOWN(n), s);
            return -1;
        }
        if (v->d < 0) {
            snprintf(why, wn, "must not be negative");
            return -1;
        }
        return 0;
    case T_MB:
        /* Pyroscope's *_mb settings are float64 MiB. */
        if (parse_float(s, n, &v->d)) {
            snprintf(why, wn, "expected a size in MiB, got \"%.*s\"", SHOWN(n), s);
            return -1;
        }
        if (v->d < 0) {
            snprintf(why, wn, "must not be negative");
            return -1;
        }
        if (v->d >= (double)(INT64_MAX / MIB)) {
            snprintf(why, wn, "%.*s MiB is out of range", SHOWN(n), s);
            return -1;
        }
        v->i = llround(v->d * (double)MIB);
        break;
    case T_DUR:
        if (parse_duration(s, n, &v->i, &dwhy)) {
            snprintf(why, wn, "invalid duration \"%.*s\": %s", SHOWN(n), s, dwhy);
            return -1;
        }
        break;
    case T_INT:
    case T_I64:
    case T_BYTES:
        rc = parse_i64(s, n, &v->i);
        if (rc == -1) {
            snprintf(why, wn, "expected an integer, got \"%.*s\"", SHOWN(n), s);
            return -1;
        }
        if (rc == -2 || v->i < lo || v->i > hi) {
            if (rc == 0 && v->i < 0 && lo == 0)
                snprintf(why, wn, "must not be negative, got %lld", (long long)v->i);
            else
                snprintf(why, wn, "%.*s is out of range (%lld..%lld)", SHOWN(n), s,
                         (long long)lo, (long long)hi);
            return -1;
        }
        return 0;
    }
    if (v->i < lo || v->i > hi) {
        snprintf(why, wn, "\"%.*s\" is out of range", SHOWN(n), s);
        return -1;
    }
    return 0;
}

static void *field(config_t *cfg, const opt_t *o) { return (char *)cfg + o->off; }
static const void *cfield(const config_t *cfg, const opt_t *o)
{
    return (const char *)cfg + o->off;
}

static void store(config_t *cfg, const opt_t *o, const val_t *v)
{
    if (o->bits & O_IGNORED)
        return;
    switch (o->type) {
    case T_STR: {
        char **sp = field(cfg, o);
        free(*sp);
        *sp = xstrndup(v->s, v->n);
        break;
    }
    case T_BOOL: *(bool *)field(cfg, o) = v->b; break;
    case T_INT: *(int *)field(cfg, o) = (int)v->i; break;
    case T_I64:
    case T_MB:
    case T_BYTES:
    case T_DUR: *(int64_t *)field(cfg, o) = v->i; break;
    case T_FLOAT: *(double *)field(cfg, o) = v->d; break;
    case T_ANY: break;
    }
}

static int apply(config_t *cfg, const opt_t *o, const char *s, size_t n, char *why, size_t wn)
{
    val_t v;
    if (parse_value(o, s, n, &v, why, wn))
        return -1;
    store(cfg, o, &v);
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Lookups                                                                                    */

static const opt_t *find_flag(const char *name, size_t n)
{
    for (size_t i = 0; i < NOPTS; i++)
        for (const char *const *f = OPTS[i].flags; *f; f++)
            if (strlen(*f) == n && !memcmp(*f, name, n))
                return &OPTS[i];
    return NULL;
}

static bool is_wildcard(const char *key)
{
    size_t l = strlen(key);
    return l >= 2 && key[l - 1] == '*' && key[l - 2] == '.';
}

static const opt_t *find_key(const char *path)
{
    for (size_t i = 0; i < NOPTS; i++)
        for (const char *const *k = OPTS[i].keys; *k; k++)
            if (!is_wildcard(*k) && !strcmp(*k, path))
                return &OPTS[i];
    return NULL;
}

/* path is a section if some key continues it with ".". */
static bool is_section(const char *path, size_t n)
{
    for (size_t i = 0; i < NOPTS; i++)
        for (const char *const *k = OPTS[i].keys; *k; k++)
            if (!strncmp(*k, path, n) && (*k)[n] == '.')
                return true;
    return false;
}

static bool under_wildcard(const char *path)
{
    for (size_t i = 0; i < NOPTS; i++)
        for (const char *const *k = OPTS[i].keys; *k; k++) {
            size_t l = strlen(*k);
            if (is_wildcard(*k) && !strncmp(*k, path, l - 1))
                return true;
        }
    return false;
}

/* ------------------------------------------------------------------------------------------ */
/* YAML                                                                                       */

#define PATH_CAP 256
#define WALK_MAX_DEPTH 32
#define WALK_MAX_VISITS 100000

typedef struct walk {
    config_t *cfg;
    yaml_document_t *doc;
    const char *name;
    err_t *err;
    size_t visits;
    char path[PATH_CAP];
} walk_t;

static size_t line_of(const yaml_node_t *n) { return n->start_mark.line + 1; }

static const char *kind_name(const yaml_node_t *n)
{
    switch (n->type) {
    case YAML_SCALAR_NODE: return "a scalar";
    case YAML_SEQUENCE_NODE: return "a sequence";
    case YAML_MAPPING_NODE: return "a mapping";
    default: return "nothing";
    }
}

static bool is_null(const yaml_node_t *n)
{
    if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return false;
    static const char *const nulls[] = {"", "~", "null", "Null", "NULL", NULL};
    return str_in((const char *)n->data.scalar.value, n->data.scalar.length, nulls);
}

static int walk_map(walk_t *w, yaml_node_t *map, size_t plen, int depth);

/* "<<: *anchor" merges the anchored mapping(s) into this one (YAML 1.1 merge key, which
 * Go's yaml packages honour). Keys written after the merge override it. */
static int walk_merge(walk_t *w, yaml_node_t *v, size_t plen, int depth)
{
    if (v->type == YAML_MAPPING_NODE)
        return walk_map(w, v, plen, depth + 1);
    if (v->type == YAML_SEQUENCE_NODE) {
        for (yaml_node_item_t *it = v->data.sequence.items.start;
             it < v->data.sequence.items.top; it++) {
            yaml_node_t *m = yaml_document_get_node(w->doc, *it);
            if (!m || m->type != YAML_MAPPING_NODE)
                return err_set(w->err, EMB_EINVAL, "%s:%zu: %s: merge (<<) wants mappings",
                               w->name, line_of(v), plen ? w->path : "(top level)");
            int rc = walk_map(w, m, plen, depth + 1);
            if (rc)
                return rc;
        }
        return 0;
    }
    return err_set(w->err, EMB_EINVAL, "%s:%zu: %s: merge (<<) wants a mapping", w->name,
                   line_of(v), plen ? w->path : "(top level)");
}

/* w->path holds the full key (plen bytes); v is its value. */
static int walk_key(walk_t *w, yaml_node_t *k, yaml_node_t *v, size_t plen, int depth)
{
    const char *path = w->path;
    const opt_t *o = find_key(path);
    char why[160];

    if (o) {
        if (o->type == T_ANY) {
            log_debug("%s:%zu: %s: accepted for Pyroscope compatibility and ignored", w->name,
                      line_of(k), path);
            return 0;
        }
        if (v->type != YAML_SCALAR_NODE)
            return err_set(w->err, EMB_EINVAL, "%s:%zu: %s: expected a %s, got %s", w->name,
                           line_of(v), path, type_name(o->type), kind_name(v));
        if (is_null(v))
            return 0; /* "key:" with no value keeps the current value, as yaml.v3 does */
        if (apply(w->cfg, o, (const char *)v->data.scalar.value, v->data.scalar.length, why,
                  sizeof(why)))
            return err_set(w->err, EMB_EINVAL, "%s:%zu: %s: %s", w->name, line_of(v), path, why);
        if (o->bits & O_IGNORED)
            log_debug("%s:%zu: %s: accepted for Pyroscope compatibility and ignored", w->name,
                      line_of(k), path);
        return 0;
    }
    if (is_section(path, plen)) {
        if (v->type == YAML_MAPPING_NODE)
            return walk_map(w, v, plen, depth + 1);
        if (is_null(v))
            return 0;
        return err_set(w->err, EMB_EINVAL, "%s:%zu: %s: expected a mapping, got %s", w->name,
                       line_of(v), path, kind_name(v));
    }
    if (under_wildcard(path)) {
        log_debug("%s:%zu: %s: accepted for Pyroscope compatibility and ignored", w->name,
                  line_of(k), path);
        return 0;
    }
    return err_set(w->err, EMB_EINVAL, "%s:%zu: %s: unknown key", w->name, line_of(k), path);
}

static bool same_scalar(const yaml_node_t *a, const yaml_node_t *b)
{
    return a && b && a->type == YAML_SCALAR_NODE && b->type == YAML_SCALAR_NODE &&
           a->data.scalar.length == b->data.scalar.length &&
           !memcmp(a->data.scalar.value, b->data.scalar.value, a->data.scalar.length);
}

static bool is_merge_key(const yaml_node_t *k)
{
    return k->type == YAML_SCALAR_NODE && k->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
           k->data.scalar.length == 2 && !memcmp(k->data.scalar.value, "<<", 2);
}

static int walk_map(walk_t *w, yaml_node_t *map, size_t plen, int depth)
{
    if (depth > WALK_MAX_DEPTH)
        return err_set(w->err, EMB_EINVAL, "%s:%zu: %s: nesting too deep (alias loop?)",
                       w->name, line_of(map), plen ? w->path : "(top level)");
    for (yaml_node_pair_t *pr = map->data.mapping.pairs.start; pr < map->data.mapping.pairs.top;
         pr++) {
        yaml_node_t *k = yaml_document_get_node(w->doc, pr->key);
        yaml_node_t *v = yaml_document_get_node(w->doc, pr->value);
        if (!k || !v)
            continue;
        if (++w->visits > WALK_MAX_VISITS)
            return err_set(w->err, EMB_EINVAL, "%s:%zu: too many keys (alias loop?)", w->name,
                           line_of(k));
        if (k->type != YAML_SCALAR_NODE)
            return err_set(w->err, EMB_EINVAL, "%s:%zu: %s: mapping keys must be scalars",
                           w->name, line_of(k), plen ? w->path : "(top level)");
        if (is_merge_key(k)) {
            int rc = walk_merge(w, v, plen, depth);
            w->path[plen] = 0;
            if (rc)
                return rc;
            continue;
        }
        const char *ks = (const char *)k->data.scalar.value;
        size_t kl = k->data.scalar.length;
        size_t sep = plen ? 1 : 0;
        /* Keys never contain '.' (it separates sections) or NUL; such a key is unknown. */
        if (plen + sep + kl >= PATH_CAP || memchr(ks, 0, kl) || memchr(ks, '.', kl) || kl == 0)
            return err_set(w->err, EMB_EINVAL, "%s:%zu: %s%s%.*s: unknown key", w->name,
                           line_of(k), plen ? w->path : "", plen ? "." : "",
                           SHOWN(kl), ks);
        if (sep)
            w->path[plen] = '.';
        memcpy(w->path + plen + sep, ks, kl);
        size_t nl = plen + sep + kl;
        w->path[nl] = 0;
        int rc = walk_key(w, k, v, nl, depth);
        for (yaml_node_pair_t *q = map->data.mapping.pairs.start; !rc && q < pr; q++) {
            yaml_node_t *qk = yaml_document_get_node(w->doc, q->key);
            if (same_scalar(qk, k) && !is_merge_key(qk))
                rc = err_set(w->err, EMB_EINVAL, "%s:%zu: %s: duplicate key (first at line %zu)",
                             w->name, line_of(k), w->path, line_of(qk));
        }
        w->path[plen] = 0;
        if (rc)
            return rc;
    }
    return 0;
}

/* Line of a reader error (bad UTF-8 and the like), which libyaml reports as a byte offset. */
static size_t line_at(const char *text, size_t len, size_t off)
{
    size_t line = 1;
    for (size_t i = 0; i < off && i < len; i++)
        line += text[i] == '\n';
    return line;
}

static int syntax_error(yaml_parser_t *p, const char *name, const char *text, size_t len,
                        err_t *err)
{
    if (p->error == YAML_MEMORY_ERROR)
        return err_set(err, EMB_ENOMEM, "%s: out of memory parsing YAML", name);
    size_t line = p->error == YAML_READER_ERROR ? line_at(text, len, p->problem_offset)
                                                : p->problem_mark.line + 1;
    return err_set(err, EMB_EINVAL, "%s:%zu: YAML syntax error: %s%s%s%s", name, line,
                   p->problem ? p->problem : "unknown problem", p->context ? " (" : "",
                   p->context ? p->context : "", p->context ? ")" : "");
}

int config_load_yaml(config_t *cfg, const char *name, const char *text, size_t len, err_t *err)
{
    yaml_parser_t parser;
    yaml_document_t doc, extra;
    bool have_doc = false, have_extra = false;
    int rc = 0;

    if (!name)
        name = "<config>";
    if (!yaml_parser_initialize(&parser))
        return err_set(err, EMB_ENOMEM, "%s: out of memory parsing YAML", name);
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, &doc)) {
        rc = syntax_error(&parser, name, text, len, err);
        goto out;
    }
    have_doc = true;
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (!root)
        goto out; /* empty file or only comments */
    if (!yaml_parser_load(&parser, &extra)) {
        rc = syntax_error(&parser, name, text, len, err);
        goto out;
    }
    have_extra = true;
    if (yaml_document_get_root_node(&extra)) {
        rc = err_set(err, EMB_EINVAL, "%s:%zu: only one YAML document is allowed", name,
                     extra.start_mark.line + 1);
        goto out;
    }
    if (is_null(root))
        goto out;
    if (root->type != YAML_MAPPING_NODE) {
        rc = err_set(err, EMB_EINVAL, "%s:%zu: expected a mapping at the top level, got %s",
                     name, line_of(root), kind_name(root));
        goto out;
    }
    walk_t w = {.cfg = cfg, .doc = &doc, .name = name, .err = err};
    rc = walk_map(&w, root, 0, 0);
out:
    if (have_extra)
        yaml_document_delete(&extra);
    if (have_doc)
        yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* Environment expansion                                                                       */

#define EXPAND_MAX ((size_t)64 << 20)
#define VARNAME_MAX 128

static bool name_start(char c) { return isalpha((unsigned char)c) || c == '_'; }
static bool name_char(char c) { return isalnum((unsigned char)c) || c == '_'; }

int config_expand_env(buf_t *out, const char *name, const char *text, size_t len, err_t *err)
{
    size_t line = 1;
    if (!name)
        name = "<config>";
    if (!out->max)
        out->max = EXPAND_MAX;
    for (size_t i = 0; i < len;) {
        char c = text[i];
        if (c != '$' || i + 1 >= len || (text[i + 1] != '{' && !name_start(text[i + 1]))) {
            line += c == '\n';
            if (buf_putc(out, c))
                goto toobig;
            i++;
            continue;
        }
        char var[VARNAME_MAX + 1];
        const char *def = NULL;
        size_t vl = 0, dl = 0, next;
        if (text[i + 1] == '{') {
            size_t j = i + 2, end = j;
            while (end < len && text[end] != '}' && text[end] != '\n')
                end++;
            if (end >= len || text[end] != '}')
                return err_set(err, EMB_EINVAL, "%s:%zu: unterminated ${", name, line);
            while (j < end && name_char(text[j]))
                j++;
            vl = j - (i + 2);
            if (vl == 0 || !name_start(text[i + 2]) || (j < end && text[j] != ':'))
                return err_set(err, EMB_EINVAL, "%s:%zu: bad variable reference ${%.*s}", name,
                               line, SHOWN(end - (i + 2)), text + i + 2);
            if (j < end) { /* ":-default" (shell) or ":default" (dskit) */
                j++;
                if (j < end && text[j] == '-')
                    j++;
                def = text + j;
                dl = end - j;
            }
            if (vl > VARNAME_MAX)
                return err_set(err, EMB_EINVAL, "%s:%zu: variable name too long", name, line);
            memcpy(var, text + i + 2, vl);
            next = end + 1;
        } else {
            size_t j = i + 1;
            while (j < len && name_char(text[j]))
                j++;
            vl = j - (i + 1);
            if (vl > VARNAME_MAX)
                return err_set(err, EMB_EINVAL, "%s:%zu: variable name too long", name, line);
            memcpy(var, text + i + 1, vl);
            next = j;
        }
        var[vl] = 0;
        const char *val = getenv(var);
        int rc;
        if ((!val || !*val) && def)
            rc = buf_append(out, def, dl);
        else
            rc = buf_puts(out, val ? val : "");
        if (rc)
            goto toobig;
        i = next;
    }
    return 0;
toobig:
    return err_set(err, EMB_ETOOBIG, "%s: expanded configuration is larger than %zu bytes",
                   name, out->max);
}

/* ------------------------------------------------------------------------------------------ */
/* Defaults, flags, environment                                                               */

void config_defaults(config_t *out)
{
    char why[160];
    memset(out, 0, sizeof(*out));
    for (size_t i = 0; i < NOPTS; i++) {
        const opt_t *o = &OPTS[i];
        /* Ignored rows are parsed too, so a bad default in the table shows up in tests. */
        if (o->def && apply(out, o, o->def, strlen(o->def), why, sizeof(why)))
            log_error("config: bad default for %s: %s", o->keys[0] ? o->keys[0] : o->flags[0],
                      why);
    }
}

void config_release(config_t *cfg)
{
    if (!cfg)
        return;
    for (size_t i = 0; i < NOPTS; i++) {
        const opt_t *o = &OPTS[i];
        if (o->type == T_STR && !(o->bits & O_IGNORED)) {
            char **sp = field(cfg, o);
            free(*sp);
            *sp = NULL;
        }
    }
}

typedef struct flagval {
    const opt_t *o;
    const char *arg; /* as written, for messages */
    size_t arglen;
    const char *val;
} flagval_t;

/* Splits argv into (option, value) pairs, Go flag package style: -a=b, --a=b, -a b, and a
 * bare -boolflag (which never consumes the next argument). Checks every value. */
static int parse_flags(flagval_t *fv, size_t *nfv, int argc, char **argv, err_t *err)
{
    char why[160];
    *nfv = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (a[0] != '-' || a[1] == 0)
            return err_set(err, EMB_EINVAL, "unexpected argument \"%s\" (flags start with -)", a);
        const char *nm = a + 1 + (a[1] == '-');
        if (*nm == 0) { /* "--" ends the flags; nothing may follow */
            if (i + 1 < argc)
                return err_set(err, EMB_EINVAL, "unexpected argument \"%s\"", argv[i + 1]);
            break;
        }
        if (*nm == '-' || *nm == '=')
            return err_set(err, EMB_EINVAL, "bad flag syntax: %s", a);
        const char *eq = strchr(nm, '=');
        size_t nl = eq ? (size_t)(eq - nm) : strlen(nm);
        size_t arglen = (size_t)(nm - a) + nl;
        const opt_t *o = find_flag(nm, nl);
        if (!o)
            return err_set(err, EMB_EINVAL, "unknown flag %.*s (see -help)", (int)arglen, a);
        const char *val;
        if (eq)
            val = eq + 1;
        else if (o->type == T_BOOL)
            val = "true";
        else if (i + 1 < argc)
            val = argv[++i];
        else
            return err_set(err, EMB_EINVAL, "flag %.*s needs a value", (int)arglen, a);
        val_t v;
        if (parse_value(o, val, strlen(val), &v, why, sizeof(why)))
            return err_set(err, EMB_EINVAL, "flag %.*s: %s", (int)arglen, a, why);
        fv[*nfv].o = o;
        fv[*nfv].arg = a;
        fv[*nfv].arglen = arglen;
        fv[*nfv].val = val;
        (*nfv)++;
    }
    return 0;
}

static int read_file(buf_t *out, const char *path, err_t *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return err_set(err, EMB_EIO, "%s: cannot open: %s", path, strerror(errno));
    int rc = 0;
    for (;;) {
        char *p = buf_reserve(out, 65536);
        if (!p) {
            rc = err_set(err, EMB_ETOOBIG, "%s: larger than %zu bytes", path, out->max);
            break;
        }
        size_t n = fread(p, 1, 65536, f);
        buf_setlen(out, out->len + n);
        if (n < 65536) {
            if (ferror(f))
                rc = err_set(err, EMB_EIO, "%s: read error", path);
            break;
        }
    }
    fclose(f);
    return rc;
}

int config_load(config_t *out, int argc, char **argv, err_t *err)
{
    flagval_t *fv = NULL;
    size_t nfv = 0;
    buf_t text = BUF_INIT, expanded = BUF_INIT;
    char why[160];
    int rc;

    config_defaults(out);
    fv = xcalloc((size_t)(argc > 0 ? argc : 1), sizeof(*fv));
    rc = parse_flags(fv, &nfv, argc, argv, err);
    if (rc)
        goto out;
    /* Pass 1: the flags that say how to load (file, expansion, help). */
    for (size_t i = 0; i < nfv; i++)
        if (fv[i].o->bits & O_META)
            apply(out, fv[i].o, fv[i].val, strlen(fv[i].val), why, sizeof(why));
    if (out->help)
        goto out;
    if (out->config_file && *out->config_file) {
        buf_init(&text, (size_t)16 << 20);
        rc = read_file(&text, out->config_file, err);
        if (rc)
            goto out;
        const char *t = text.data ? text.data : "";
        size_t tl = text.len;
        if (out->config_expand_env) {
            rc = config_expand_env(&expanded, out->config_file, t, tl, err);
            if (rc)
                goto out;
            t = expanded.data ? expanded.data : "";
            tl = expanded.len;
        }
        rc = config_load_yaml(out, out->config_file, t, tl, err);
        if (rc)
            goto out;
    }
    /* Environment: later names in a row win (EMBER_LOG_LEVEL over PYROSCOPE_LOG_LEVEL). */
    for (size_t i = 0; i < NOPTS; i++)
        for (const char *const *e = OPTS[i].env; *e; e++) {
            const char *v = getenv(*e);
            if (v && *v && apply(out, &OPTS[i], v, strlen(v), why, sizeof(why))) {
                rc = err_set(err, EMB_EINVAL, "environment variable %s: %s", *e, why);
                goto out;
            }
        }
    /* Pass 2: every other flag, in order, over file and environment. */
    for (size_t i = 0; i < nfv; i++)
        if (!(fv[i].o->bits & O_META)) {
            apply(out, fv[i].o, fv[i].val, strlen(fv[i].val), why, sizeof(why));
            if (fv[i].o->bits & O_IGNORED)
                log_debug("flag %.*s: accepted for Pyroscope compatibility and ignored",
                          (int)fv[i].arglen, fv[i].arg);
        }
out:
    free(fv);
    buf_release(&text);
    buf_release(&expanded);
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* Output                                                                                      */

static void print_names(FILE *f, const char *const *names, const char *dash, const char *sep)
{
    for (size_t i = 0; names[i]; i++)
        fprintf(f, "%s%s%s", i ? sep : "", dash, names[i]);
}

void config_usage(FILE *f)
{
    fprintf(f, "Settings come from defaults, then the YAML file (-config.file), then environment\n"
               "variables, then flags; later wins. Flags are written -name=value, -name value or\n"
               "--name=value; a bool flag alone means true.\n\nFlags:\n");
    for (size_t i = 0; i < NOPTS; i++) {
        const opt_t *o = &OPTS[i];
        if ((o->bits & O_IGNORED) || !o->flags[0])
            continue;
        if (o->type == T_BOOL)
            fprintf(f, "  -%s\n", o->flags[0]);
        else
            fprintf(f, "  -%s %s\n", o->flags[0], type_name(o->type));
        fprintf(f, "        %s\n        yaml: ", o->help);
        if (o->keys[0])
            print_names(f, o->keys, "", ", ");
        else
            fprintf(f, "(flag only)");
        fprintf(f, "   default: %s", o->def ? (*o->def ? o->def : "\"\"") : "(none)");
        if (o->choices)
            fprintf(f, "   one of: %s", o->choices);
        fprintf(f, "\n");
        if (o->flags[1] || o->env[0]) {
            fprintf(f, "       ");
            if (o->flags[1]) {
                fprintf(f, " also: ");
                print_names(f, o->flags + 1, "-", ", ");
            }
            if (o->env[0]) {
                fprintf(f, "%senv: ", o->flags[1] ? "   " : " ");
                print_names(f, o->env, "", ", ");
            }
            fprintf(f, "\n");
        }
    }
    fprintf(f, "\nAccepted for Pyroscope compatibility and ignored (values are still "
               "type-checked):\n");
    for (size_t i = 0; i < NOPTS; i++) {
        const opt_t *o = &OPTS[i];
        if (!(o->bits & O_IGNORED))
            continue;
        fprintf(f, "  %s (%s", o->keys[0], type_name(o->type));
        if (o->def)
            fprintf(f, ", Pyroscope default %s", *o->def ? o->def : "\"\"");
        fprintf(f, ")");
        if (o->flags[0]) {
            fprintf(f, "  flag ");
            print_names(f, o->flags, "-", ", ");
        }
        fprintf(f, "\n");
    }
}

static int put_yaml_str(buf_t *b, const char *s)
{
    int rc = buf_putc(b, '"');
    for (; !rc && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            rc = buf_printf(b, "\\%c", c);
        else if (c < 0x20 || c == 0x7f)
            rc = buf_printf(b, "\\x%02x", c);
        else
            rc = buf_putc(b, (char)c);
    }
    return rc ? rc : buf_putc(b, '"');
}

int config_write_yaml(buf_t *out, const config_t *cfg, bool redact)
{
    const char *prev = ""; /* key of the previous row written, for shared sections */
    int rc = 0;

    for (size_t i = 0; i < NOPTS && !rc; i++) {
        const opt_t *o = &OPTS[i];
        const char *key = o->keys[0];
        if (!key || (o->bits & O_IGNORED))
            continue;
        /* Sections shared with the previous key are already open. */
        size_t common = 0, depth = 0;
        for (size_t j = 0; key[j] && key[j] == prev[j]; j++)
            if (key[j] == '.') {
                common = j + 1;
                depth++;
            }
        const char *p = key + common;
        for (const char *dot; !rc && (dot = strchr(p, '.')); p = dot + 1, depth++)
            rc = buf_printf(out, "%*s%.*s:\n", (int)(2 * depth), "", (int)(dot - p), p);
        if (!rc)
            rc = buf_printf(out, "%*s%s: ", (int)(2 * depth), "", p);
        char tmp[64];
        switch (rc ? T_ANY : o->type) {
        case T_STR: {
            const char *s = *(char *const *)cfield(cfg, o);
            rc = (redact && (o->bits & O_SECRET) && s && *s) ? buf_puts(out, "\"********\"")
                                                             : put_yaml_str(out, s ? s : "");
            break;
        }
        case T_BOOL: rc = buf_puts(out, *(const bool *)cfield(cfg, o) ? "true" : "false"); break;
        case T_INT: rc = buf_printf(out, "%d", *(const int *)cfield(cfg, o)); break;
        case T_I64:
        case T_BYTES: rc = buf_printf(out, "%lld", (long long)*(const int64_t *)cfield(cfg, o)); break;
        case T_MB:
            rc = buf_printf(out, "%.17g", (double)*(const int64_t *)cfield(cfg, o) / (double)MIB);
            break;
        case T_DUR:
            format_duration(*(const int64_t *)cfield(cfg, o), tmp, sizeof(tmp));
            rc = buf_puts(out, tmp);
            break;
        case T_FLOAT: rc = buf_printf(out, "%.17g", *(const double *)cfield(cfg, o)); break;
        case T_ANY: break;
        }
        if (!rc)
            rc = buf_putc(out, '\n');
        prev = key;
    }
    return rc;
}
