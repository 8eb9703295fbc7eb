/* Tests for server/config: defaults, the YAML walk (values, aliases, ignored Pyroscope keys,
 * errors with file:line), flags, environment precedence, ${VAR} expansion, -help, and the
 * effective-config dump loading back to the same values. Criterion forks per test, so setenv
 * does not leak between tests. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/err.h"
#include "server/config.h"

#define SEC INT64_C(1000000000)

static const char SEED[] = "server:\n"
                           "  http_listen_port: 4040\n"
                           "storage:\n"
                           "  backend: s3\n"
                           "  s3: {bucket_name: pyroscope-profiles, endpoint: s3.amazonaws.com, "
                           "region: us-east-1}\n"
                           "limits:\n"
                           "  max_nodes_per_profile: 8192\n"
                           "  retention: 720h\n"
                           "analytics:\n"
                           "  reporting_enabled: false\n";

/* Loads text on top of defaults; returns the code, message in *err. */
static int load(config_t *c, const char *text, err_t *err)
{
    config_defaults(c);
    memset(err, 0, sizeof(*err));
    return config_load_yaml(c, "t.yaml", text, strlen(text), err);
}

/* Writes text to a temp file; returns its path (static buffer, one at a time). */
static const char *tmpfile_with(const char *text)
{
    static char path[64];
    snprintf(path, sizeof(path), "/tmp/ember-cfg-XXXXXX");
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    size_t n = strlen(text);
    cr_assert_eq(write(fd, text, n), (ssize_t)n);
    close(fd);
    return path;
}

static int run(config_t *c, err_t *err, char **argv, int argc)
{
    memset(err, 0, sizeof(*err));
    return config_load(c, argc, argv, err);
}

static int expand(buf_t *b, const char *text, err_t *err)
{
    return config_expand_env(b, "x", text, strlen(text), err);
}

#define ARGV(...) ((char *[]){__VA_ARGS__}), (int)(sizeof((char *[]){__VA_ARGS__}) / sizeof(char *))

static void expect_error(const char *text, const char *needle1, const char *needle2)
{
    config_t c;
    err_t err;
    int rc = load(&c, text, &err);
    cr_expect_eq(rc, EMB_EINVAL, "rc %d for %s", rc, text);
    cr_expect(strstr(err.msg, needle1) != NULL, "\"%s\" not in \"%s\"", needle1, err.msg);
    if (needle2)
        cr_expect(strstr(err.msg, needle2) != NULL, "\"%s\" not in \"%s\"", needle2, err.msg);
    config_release(&c);
}

Test(config, defaults)
{
    config_t c;
    config_defaults(&c);
    cr_assert_eq(c.http_listen_port, 4040);
    cr_assert_str_eq(c.http_listen_address, "");
    cr_assert_eq(c.http_threads, 0);
    cr_assert_str_eq(c.log_level, "info");
    cr_assert_str_eq(c.log_format, "logfmt");
    cr_assert_str_eq(c.storage_backend, "filesystem");
    cr_assert_str_eq(c.storage_path, "./data");
    cr_assert_str_eq(c.s3_bucket_name, "");
    cr_assert(!c.s3_insecure);
    cr_assert(c.wal_fsync);
    cr_assert_eq(c.max_nodes_per_profile, 0);
    cr_assert_eq(c.retention_ns, 0);
    cr_assert_eq(c.ingestion_body_limit_bytes, INT64_C(256) << 20);
    cr_assert_eq(c.max_profile_size_bytes, INT64_C(4) << 20);
    cr_assert_eq(c.max_flamegraph_nodes_default, 8192);
    cr_assert_eq(c.max_flamegraph_nodes_max, 1048576);
    cr_assert_eq(c.max_label_names_per_series, 30);
    cr_assert_eq(c.max_label_name_length, 1024);
    cr_assert_eq(c.max_label_value_length, 2048);
    cr_assert(!c.multitenancy_enabled);
    cr_assert(c.analytics_reporting_enabled);
    cr_assert_null(c.config_file);
    cr_assert(!c.help);
    config_release(&c);
    config_release(&c); /* double release is a no-op */
}

Test(config, seed_config_loads)
{
    config_t c;
    err_t err;
    cr_assert_eq(load(&c, SEED, &err), 0, "%s", err.msg);
    cr_assert_eq(c.http_listen_port, 4040);
    cr_assert_str_eq(c.storage_backend, "s3"); /* the server refuses later, not config */
    cr_assert_str_eq(c.s3_bucket_name, "pyroscope-profiles");
    cr_assert_str_eq(c.s3_endpoint, "s3.amazonaws.com");
    cr_assert_str_eq(c.s3_region, "us-east-1");
    cr_assert_eq(c.max_nodes_per_profile, 8192);
    cr_assert_eq(c.retention_ns, INT64_C(2592000) * SEC);
    cr_assert(!c.analytics_reporting_enabled);
    cr_assert_str_eq(c.storage_path, "./data"); /* untouched keys keep defaults */
    config_release(&c);
}

Test(config, seed_config_via_config_load)
{
    config_t c;
    err_t err;
    const char *path = tmpfile_with(SEED);
    char arg[128];
    snprintf(arg, sizeof(arg), "-config.file=%s", path);
    cr_assert_eq(run(&c, &err, ARGV(arg)), 0, "%s", err.msg);
    cr_assert_str_eq(c.config_file, path);
    cr_assert_str_eq(c.storage_backend, "s3");
    cr_assert_eq(c.retention_ns, INT64_C(720) * 3600 * SEC);
    config_release(&c);
    unlink(path);
}

Test(config, block_style_s3_and_all_fields)
{
    config_t c;
    err_t err;
    const char *y = "server:\n"
                    "  http_listen_address: 127.0.0.1\n"
                    "  http_threads: 8\n"
                    "  log_level: debug\n"
                    "  log_format: json\n"
                    "storage:\n"
                    "  path: /var/lib/ember\n"
                    "  wal_fsync: false\n"
                    "  s3:\n"
                    "    bucket_name: b\n"
                    "    access_key_id: AK\n"
                    "    secret_access_key: \"s3cr3t\"\n"
                    "    insecure: true\n"
                    "limits:\n"
                    "  ingestion_body_limit_mb: 0.5\n"
                    "  max_profile_size_bytes: 1000\n"
                    "  max_flamegraph_nodes_default: 100\n"
                    "  max_flamegraph_nodes_max: 200\n"
                    "  max_label_names_per_series: 5\n"
                    "  max_label_name_length: 6\n"
                    "  max_label_value_length: 7\n"
                    "multitenancy_enabled: true\n";
    cr_assert_eq(load(&c, y, &err), 0, "%s", err.msg);
    cr_assert_str_eq(c.http_listen_address, "127.0.0.1");
    cr_assert_eq(c.http_threads, 8);
    cr_assert_str_eq(c.log_level, "debug");
    cr_assert_str_eq(c.log_format, "json");
    cr_assert_str_eq(c.storage_path, "/var/lib/ember");
    cr_assert(!c.wal_fsync);
    cr_assert_str_eq(c.s3_bucket_name, "b");
    cr_assert_str_eq(c.s3_access_key_id, "AK");
    cr_assert_str_eq(c.s3_secret_access_key, "s3cr3t");
    cr_assert(c.s3_insecure);
    cr_assert_eq(c.ingestion_body_limit_bytes, 512 * 1024);
    cr_assert_eq(c.max_profile_size_bytes, 1000);
    cr_assert_eq(c.max_flamegraph_nodes_default, 100);
    cr_assert_eq(c.max_flamegraph_nodes_max, 200);
    cr_assert_eq(c.max_label_names_per_series, 5);
    cr_assert_eq(c.max_label_name_length, 6);
    cr_assert_eq(c.max_label_value_length, 7);
    cr_assert(c.multitenancy_enabled);
    config_release(&c);
}

Test(config, durations)
{
    static const struct {
        const char *text;
        int64_t ns;
    } ok[] = {
        {"720h", INT64_C(720) * 3600 * SEC},
        {"30d", INT64_C(30) * 86400 * SEC},
        {"1h30m", INT64_C(5400) * SEC},
        {"10s", 10 * SEC},
        {"500ms", 500000000},
        {"1w", INT64_C(7) * 86400 * SEC},
        {"1y", INT64_C(365) * 86400 * SEC},
        {"1.5h", INT64_C(5400) * SEC},
        {"0", 0},
        {"0s", 0},
        {"1m1s1ms1us1ns", 61 * SEC + 1001001},
        {"\"2d\"", INT64_C(2) * 86400 * SEC},
    };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        config_t c;
        err_t err;
        char y[128];
        snprintf(y, sizeof(y), "limits:\n  retention: %s\n", ok[i].text);
        cr_expect_eq(load(&c, y, &err), 0, "%s: %s", ok[i].text, err.msg);
        cr_expect_eq(c.retention_ns, ok[i].ns, "%s: got %lld", ok[i].text,
                     (long long)c.retention_ns);
        config_release(&c);
    }
    static const char *const bad[] = {"10x", "5", "h", "-1h", "1h30", "1000y", "1.h.", "abc",
                                      "1hh", "9223372036854775808ns"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char y[128];
        snprintf(y, sizeof(y), "limits:\n  retention: %s\n", bad[i]);
        expect_error(y, "t.yaml:2: limits.retention:", "duration");
    }
}

Test(config, unknown_key_names_key_and_line)
{
    expect_error("server:\n  http_listen_port: 4040\n  bogus: 1\n", "t.yaml:3: server.bogus: unknown key",
                 NULL);
    expect_error("# comment\n\nfrobnicate: true\n", "t.yaml:3: frobnicate: unknown key", NULL);
    expect_error("storage:\n  s3: {bucket_name: x, colour: red}\n",
                 "t.yaml:2: storage.s3.colour: unknown key", NULL);
    expect_error("distributor:\n  x: 1\n", "t.yaml:1: distributor: unknown key", NULL);
    expect_error("server.http_listen_port: 1\n", "unknown key", NULL);
}

Test(config, bad_port)
{
    expect_error("server:\n  http_listen_port: 0\n", "t.yaml:2: server.http_listen_port:",
                 "out of range");
    expect_error("server:\n  http_listen_port: 65536\n", "t.yaml:2: server.http_listen_port:",
                 "out of range");
    expect_error("server:\n  http_listen_port: http\n", "t.yaml:2: server.http_listen_port:",
                 "integer");
    expect_error("server:\n  http_listen_port: 99999999999999999999999\n", "out of range", NULL);
    config_t c;
    err_t err;
    cr_assert_eq(load(&c, "server:\n  http_listen_port: 65535\n", &err), 0, "%s", err.msg);
    cr_assert_eq(c.http_listen_port, 65535);
    config_release(&c);
}

Test(config, bad_values)
{
    expect_error("storage:\n  backend: ftp\n", "t.yaml:2: storage.backend:", "filesystem|s3");
    expect_error("server:\n  log_level: loud\n", "t.yaml:2: server.log_level:", NULL);
    expect_error("limits:\n  max_nodes_per_profile: -1\n", "limits.max_nodes_per_profile:",
                 "negative");
    expect_error("limits:\n  ingestion_body_limit_mb: -2\n", "negative", NULL);
    expect_error("limits:\n  max_profile_size_bytes: 4MB\n", "integer", NULL);
    expect_error("multitenancy_enabled: maybe\n", "t.yaml:1: multitenancy_enabled:",
                 "true or false");
    expect_error("server:\n  http_listen_port: [1, 2]\n", "t.yaml:2: server.http_listen_port:",
                 "sequence");
    expect_error("server: 5\n", "t.yaml:1: server: expected a mapping", NULL);
    expect_error("storage:\n  path: \"\"\n", "storage.path: must not be empty", NULL);
    expect_error("- a\n- b\n", "t.yaml:1:", "top level");
    expect_error("server:\n  http_listen_port: 1\n  http_listen_port: 2\n",
                 "t.yaml:3: server.http_listen_port: duplicate key (first at line 2)", NULL);
    /* Ignored keys are still type-checked where cheap. */
    expect_error("limits:\n  reject_older_than: 1 hour\n", "t.yaml:2: limits.reject_older_than:",
                 "duration");
    expect_error("limits:\n  max_global_series_per_tenant: lots\n", "integer", NULL);
    expect_error("limits:\n  ingestion_rate_mb: fast\n", "number", NULL);
}

Test(config, syntax_error_has_line)
{
    expect_error("server:\n  http_listen_port: 4040\n bad: [\n", "t.yaml:", "YAML syntax error");
    config_t c;
    err_t err;
    cr_assert_eq(load(&c, "a: 1\nb: 2\nc: [1, 2\n", &err), EMB_EINVAL);
    cr_assert(strstr(err.msg, "YAML syntax error"), "%s", err.msg);
    cr_assert(strstr(err.msg, "t.yaml:4:") || strstr(err.msg, "t.yaml:3:"), "%s", err.msg);
    config_release(&c);
    expect_error("server:\n\thttp_listen_port: 1\n", "t.yaml:2:", "YAML syntax error");
    expect_error("a: 1\n---\nb: 2\n", "t.yaml:2: only one YAML document", NULL);
}

Test(config, empty_and_null_values)
{
    config_t c;
    err_t err;
    cr_assert_eq(load(&c, "", &err), 0, "%s", err.msg);
    config_release(&c);
    cr_assert_eq(load(&c, "# only a comment\n", &err), 0, "%s", err.msg);
    config_release(&c);
    cr_assert_eq(load(&c, "server:\nstorage:\n  prefix:\n  path: ~\nlimits: {}\n", &err), 0,
                 "%s", err.msg);
    cr_assert_str_eq(c.storage_path, "./data");
    config_release(&c);
}

Test(config, aliases)
{
    config_t c;
    err_t err;
    cr_assert_eq(load(&c, "pyroscopedb:\n  data_path: /pdb\n", &err), 0, "%s", err.msg);
    cr_assert_str_eq(c.storage_path, "/pdb");
    config_release(&c);
    cr_assert_eq(load(&c, "storage:\n  filesystem:\n    dir: /fs\n", &err), 0, "%s", err.msg);
    cr_assert_str_eq(c.storage_path, "/fs");
    config_release(&c);
    cr_assert_eq(load(&c, "limits:\n  compactor_blocks_retention_period: 30d\n", &err), 0, "%s",
                 err.msg);
    cr_assert_eq(c.retention_ns, INT64_C(30) * 86400 * SEC);
    config_release(&c);

    cr_assert_eq(run(&c, &err,
                     ARGV("-compactor.blocks-retention-period=1d", "-auth.multitenancy-enabled",
                          "-usage-stats.enabled=false", "-log.level", "warn",
                          "-pyroscopedb.data-path=/x", "-validation.max-length-label-name=9",
                          "-querier.max-flamegraph-nodes-max=77")),
                 0, "%s", err.msg);
    cr_assert_eq(c.retention_ns, INT64_C(86400) * SEC);
    cr_assert(c.multitenancy_enabled);
    cr_assert(!c.analytics_reporting_enabled);
    cr_assert_str_eq(c.log_level, "warn");
    cr_assert_str_eq(c.storage_path, "/x");
    cr_assert_eq(c.max_label_name_length, 9);
    cr_assert_eq(c.max_flamegraph_nodes_max, 77);
    config_release(&c);

    cr_assert_eq(run(&c, &err, ARGV("-server.log-level=error", "-multitenancy-enabled=true",
                                    "-storage.filesystem.dir", "/y")),
                 0, "%s", err.msg);
    cr_assert_str_eq(c.log_level, "error");
    cr_assert(c.multitenancy_enabled);
    cr_assert_str_eq(c.storage_path, "/y");
    config_release(&c);
}

Test(config, pyroscope_sections_accepted_and_ignored)
{
    const char *y = "target: all\n"
                    "architecture_storage: v1\n"
                    "api:\n  base-url: /pyroscope\n"
                    "server:\n  http_listen_port: 4041\n  grpc_listen_port: 9095\n"
                    "  log_format: logfmt\n  log_level: info\n"
                    "self_profiling:\n  disable_push: true\n  mutex_profile_fraction: 5\n"
                    "  something_new: {a: [1, 2]}\n"
                    "storage:\n  backend: gcs\n  prefix: ember\n"
                    "  gcs:\n    bucket_name: g\n"
                    "  s3:\n    signature_version: v4\n    native_aws_auth_enabled: false\n"
                    "pyroscopedb:\n  data_path: ./d\n  max_block_duration: 1h\n"
                    "  min_free_disk_gb: 10\n  min_disk_available_percentage: 0.05\n"
                    "tenant_settings:\n  t1: {anything: goes}\n"
                    "limits:\n"
                    "  ingestion_rate_mb: 4\n  ingestion_burst_size_mb: 2.5\n"
                    "  max_profile_stacktrace_samples: 16000\n"
                    "  max_profile_stacktrace_sample_labels: 100\n"
                    "  max_profile_stacktrace_depth: 1000\n"
                    "  max_profile_symbol_value_length: 65535\n"
                    "  reject_older_than: 1h\n  reject_newer_than: 10m\n"
                    "  max_global_series_per_tenant: 5000\n  max_local_series_per_tenant: 0\n"
                    "  max_sessions_per_series: 0\n"
                    "  max_query_lookback: 1w\n  max_query_length: 1d\n"
                    "  disable_label_sanitization: true\n  retention_period: 31d\n"
                    "  ingestion_relabeling_rules:\n    - action: drop\n      regex: x\n"
                    "  ingestion_relabeling_default_rules_position: last\n"
                    "  recording_rules: []\n  max_recording_rules: 25\n"
                    "multitenancy_enabled: false\n";
    config_t c;
    err_t err;
    cr_assert_eq(load(&c, y, &err), 0, "%s", err.msg);
    cr_assert_eq(c.http_listen_port, 4041);
    cr_assert_str_eq(c.storage_backend, "gcs");
    cr_assert_str_eq(c.storage_path, "./d");
    cr_assert_eq(c.retention_ns, 0); /* retention_period (v2) is not ours */
    config_release(&c);
}

Test(config, anchors_and_merge_keys)
{
    config_t c;
    err_t err;
    const char *y = "tenant_settings: &common {x: 1}\n"
                    "server: &srv\n  http_listen_port: 5000\n"
                    "storage:\n  s3:\n    <<: {bucket_name: merged, region: r1}\n    region: r2\n";
    cr_assert_eq(load(&c, y, &err), 0, "%s", err.msg);
    cr_assert_eq(c.http_listen_port, 5000);
    cr_assert_str_eq(c.s3_bucket_name, "merged");
    cr_assert_str_eq(c.s3_region, "r2");
    config_release(&c);
    /* A self-referencing merge is stopped, not followed forever. */
    cr_assert_eq(load(&c, "server: &a\n  <<: *a\n", &err), EMB_EINVAL);
    config_release(&c);
}

Test(config, flags_override_file)
{
    const char *path = tmpfile_with("server:\n  http_listen_port: 4040\n  log_level: warn\n"
                                    "storage:\n  path: /from-file\n");
    config_t c;
    err_t err;
    cr_assert_eq(run(&c, &err,
                     ARGV("-server.http-listen-port=5050", "-config.file", (char *)path,
                          "--storage.path=/from-flag", "-storage.wal-fsync=false",
                          "--storage.s3.insecure", "-limits.retention", "1h30m",
                          "-limits.ingestion-body-limit-mb=1")),
                 0, "%s", err.msg);
    cr_assert_eq(c.http_listen_port, 5050);
    cr_assert_str_eq(c.log_level, "warn");
    cr_assert_str_eq(c.storage_path, "/from-flag");
    cr_assert(!c.wal_fsync);
    cr_assert(c.s3_insecure);
    cr_assert_eq(c.retention_ns, INT64_C(5400) * SEC);
    cr_assert_eq(c.ingestion_body_limit_bytes, 1 << 20);
    config_release(&c);
    unlink(path);
}

Test(config, flag_errors)
{
    config_t c;
    err_t err;
    cr_assert_eq(run(&c, &err, ARGV("-no.such-flag=1")), EMB_EINVAL);
    cr_assert(strstr(err.msg, "-no.such-flag"), "%s", err.msg);
    config_release(&c);
    cr_assert_eq(run(&c, &err, ARGV("--bogus")), EMB_EINVAL);
    cr_assert(strstr(err.msg, "unknown flag --bogus"), "%s", err.msg);
    config_release(&c);
    cr_assert_eq(run(&c, &err, ARGV("-server.http-listen-port")), EMB_EINVAL);
    cr_assert(strstr(err.msg, "needs a value"), "%s", err.msg);
    config_release(&c);
    cr_assert_eq(run(&c, &err, ARGV("-server.http-listen-port=70000")), EMB_EINVAL);
    cr_assert(strstr(err.msg, "-server.http-listen-port"), "%s", err.msg);
    cr_assert(strstr(err.msg, "out of range"), "%s", err.msg);
    config_release(&c);
    cr_assert_eq(run(&c, &err, ARGV("-limits.retention=forever")), EMB_EINVAL);
    cr_assert(strstr(err.msg, "duration"), "%s", err.msg);
    config_release(&c);
    cr_assert_eq(run(&c, &err, ARGV("server")), EMB_EINVAL);
    cr_assert(strstr(err.msg, "unexpected argument"), "%s", err.msg);
    config_release(&c);
    cr_assert_eq(run(&c, &err, ARGV("-config.file=/nonexistent/ember.yaml")), EMB_EIO);
    cr_assert(strstr(err.msg, "/nonexistent/ember.yaml"), "%s", err.msg);
    config_release(&c);
}

Test(config, file_errors_name_the_file)
{
    const char *path = tmpfile_with("server:\n  http_listen_port: 4040\n  nope: 1\n");
    char arg[128], want[128];
    snprintf(arg, sizeof(arg), "-config.file=%s", path);
    snprintf(want, sizeof(want), "%s:3: server.nope: unknown key", path);
    config_t c;
    err_t err;
    cr_assert_eq(run(&c, &err, ARGV(arg)), EMB_EINVAL);
    cr_assert(strstr(err.msg, want), "%s", err.msg);
    config_release(&c);
    unlink(path);
}

Test(config, env_log_level)
{
    const char *path = tmpfile_with("server:\n  log_level: warn\n");
    char arg[128];
    snprintf(arg, sizeof(arg), "-config.file=%s", path);
    config_t c;
    err_t err;

    setenv("PYROSCOPE_LOG_LEVEL", "debug", 1);
    cr_assert_eq(run(&c, &err, ARGV(arg)), 0, "%s", err.msg);
    cr_assert_str_eq(c.log_level, "debug"); /* env beats file */
    config_release(&c);

    setenv("EMBER_LOG_LEVEL", "error", 1);
    cr_assert_eq(run(&c, &err, ARGV(arg)), 0, "%s", err.msg);
    cr_assert_str_eq(c.log_level, "error"); /* EMBER_ beats PYROSCOPE_ */
    config_release(&c);

    cr_assert_eq(run(&c, &err, ARGV(arg, "-log.level=info")), 0, "%s", err.msg);
    cr_assert_str_eq(c.log_level, "info"); /* flag beats env */
    config_release(&c);

    setenv("EMBER_LOG_LEVEL", "chatty", 1);
    cr_assert_eq(run(&c, &err, ARGV(arg)), EMB_EINVAL);
    cr_assert(strstr(err.msg, "EMBER_LOG_LEVEL"), "%s", err.msg);
    config_release(&c);
    unlink(path);
}

Test(config, expand_env)
{
    setenv("EMBER_T_PORT", "4321", 1);
    setenv("EMBER_T_BUCKET", "bkt", 1);
    unsetenv("EMBER_T_UNSET");
    const char *path = tmpfile_with("server:\n  http_listen_port: ${EMBER_T_PORT}\n"
                                    "storage:\n  path: ${EMBER_T_UNSET:-/default/dir}\n"
                                    "  s3:\n    bucket_name: $EMBER_T_BUCKET-x\n"
                                    "    region: \"${EMBER_T_UNSET}\"\n");
    char arg[128];
    snprintf(arg, sizeof(arg), "-config.file=%s", path);
    config_t c;
    err_t err;

    cr_assert_eq(run(&c, &err, ARGV(arg, "-config.expand-env=true")), 0, "%s", err.msg);
    cr_assert_eq(c.http_listen_port, 4321);
    cr_assert_str_eq(c.storage_path, "/default/dir");
    cr_assert_str_eq(c.s3_bucket_name, "bkt-x");
    cr_assert_str_eq(c.s3_region, "");
    config_release(&c);

    /* Without the flag the text is taken literally, so the port is not a number. */
    cr_assert_eq(run(&c, &err, ARGV(arg)), EMB_EINVAL);
    cr_assert(strstr(err.msg, ":2: server.http_listen_port:"), "%s", err.msg);
    config_release(&c);
    unlink(path);

    buf_t b = BUF_INIT;
    cr_assert_eq(expand(&b, "a: $\nb: ${EMBER_T_PORT:7}$", &err), 0);
    cr_assert_str_eq(b.data, "a: $\nb: 4321$");
    buf_release(&b);
    cr_assert_eq(expand(&b, "a: 1\nb: ${OOPS\n", &err), EMB_EINVAL);
    cr_assert(strstr(err.msg, "x:2: unterminated"), "%s", err.msg);
    buf_release(&b);
    cr_assert_eq(expand(&b, "a: ${1BAD}\n", &err), EMB_EINVAL);
    buf_release(&b);
}

Test(config, help_flag)
{
    static const char *const spellings[] = {"-help", "-h", "--help", "--h", "-help=true"};
    for (size_t i = 0; i < sizeof(spellings) / sizeof(spellings[0]); i++) {
        config_t c;
        err_t err;
        /* -help wins over a config file that does not exist. */
        cr_assert_eq(run(&c, &err, ARGV("-config.file=/nonexistent", (char *)spellings[i])), 0,
                     "%s: %s", spellings[i], err.msg);
        cr_assert(c.help, "%s", spellings[i]);
        config_release(&c);
    }
    config_t c;
    err_t err;
    cr_assert_eq(run(&c, &err, ARGV("-help", "-nope")), EMB_EINVAL);
    config_release(&c);
}

Test(config, usage_lists_every_flag)
{
    char *text = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&text, &n);
    cr_assert_not_null(f);
    config_usage(f);
    fclose(f);
    static const char *const want[] = {
        "-config.file", "-config.expand-env", "-help", "-server.http-listen-port",
        "server.http_listen_port", "4040", "-server.http-listen-address", "-server.http-threads",
        "-log.level", "-server.log-level", "PYROSCOPE_LOG_LEVEL", "EMBER_LOG_LEVEL",
        "-log.format", "-storage.backend", "filesystem|s3|gcs|azure|swift|cos", "-storage.path",
        "pyroscopedb.data_path", "storage.filesystem.dir", "-storage.wal-fsync",
        "-storage.s3.bucket-name", "-storage.s3.endpoint", "-storage.s3.region",
        "-storage.s3.access-key-id", "-storage.s3.secret-access-key", "-storage.s3.insecure",
        "-limits.max-nodes-per-profile", "-limits.retention",
        "-compactor.blocks-retention-period", "limits.compactor_blocks_retention_period",
        "-limits.ingestion-body-limit-mb", "-limits.max-profile-size-bytes", "4194304",
        "-limits.max-flamegraph-nodes-default", "-limits.max-flamegraph-nodes-max",
        "-limits.max-label-names-per-series", "-limits.max-label-name-length",
        "-limits.max-label-value-length", "-multitenancy-enabled", "-auth.multitenancy-enabled",
        "-analytics.reporting-enabled", "-usage-stats.enabled", "self_profiling.*",
        "tenant_settings.*", "limits.reject_older_than"};
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
        cr_expect(strstr(text, want[i]) != NULL, "usage lacks %s", want[i]);
    free(text);
}

/* The dump loads back to identical values (and an identical dump). */
Test(config, write_yaml_round_trips)
{
    config_t a, b;
    err_t err;
    const char *y = "server: {http_listen_port: 8080, log_level: debug, http_listen_address: "
                    "\"a \\\"q\\\" \\\\ \\t\"}\n"
                    "storage: {backend: s3, path: /d, s3: {secret_access_key: sk, region: r}}\n"
                    "limits: {retention: 1h30m, ingestion_body_limit_mb: 0.25, "
                    "max_nodes_per_profile: 1}\n";
    cr_assert_eq(load(&a, y, &err), 0, "%s", err.msg);
    buf_t d1 = BUF_INIT, d2 = BUF_INIT;
    cr_assert_eq(config_write_yaml(&d1, &a, false), 0);
    cr_assert_eq(load(&b, d1.data, &err), 0, "%s\n%s", err.msg, d1.data);
    cr_assert_eq(config_write_yaml(&d2, &b, false), 0);
    cr_assert_str_eq(d1.data, d2.data);
    cr_assert_str_eq(b.http_listen_address, "a \"q\" \\ \t");
    cr_assert_eq(b.retention_ns, INT64_C(5400) * SEC);
    cr_assert_eq(b.ingestion_body_limit_bytes, 1 << 18);
    cr_assert(strstr(d1.data, "retention: 1h30m"), "%s", d1.data);
    buf_release(&d2);
    cr_assert_eq(config_write_yaml(&d2, &a, true), 0);
    cr_assert(strstr(d2.data, "\"********\""), "%s", d2.data);
    cr_assert(!strstr(d2.data, "sk"), "%s", d2.data);
    buf_release(&d1);
    buf_release(&d2);
    config_release(&a);
    config_release(&b);

    config_defaults(&a);
    cr_assert_eq(config_write_yaml(&d1, &a, false), 0);
    cr_assert(strstr(d1.data, "retention: 0s"), "%s", d1.data);
    cr_assert_eq(load(&b, d1.data, &err), 0, "%s\n%s", err.msg, d1.data);
    cr_assert_eq(b.retention_ns, 0);
    cr_assert_eq(b.ingestion_body_limit_bytes, INT64_C(256) << 20);
    buf_release(&d1);
    config_release(&a);
    config_release(&b);
}
