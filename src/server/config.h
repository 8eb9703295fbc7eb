/* Server configuration: defaults, then the YAML file (-config.file), then environment
 * (PYROSCOPE_LOG_LEVEL, EMBER_LOG_LEVEL), then command-line flags — later wins.
 *
 * Every setting has a YAML key (Pyroscope's name where one exists, PROTOCOLS.md §9) and a flag
 * (`-server.http-listen-port=4040` style: dots between sections, dashes inside names; both
 * `-flag=value`, `-flag value` and `--flag` spellings accepted). `ember server -help` lists them
 * all from one table in config.c. Unknown keys and bad values stop startup with a message that
 * names the key and the YAML line.
 *
 * Strings in config_t are owned by it (config_release frees them).
 */
#ifndef EMBER_SERVER_CONFIG_H
#define EMBER_SERVER_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "base/buf.h"
#include "base/err.h"

typedef struct config {
    /* server */
    char *http_listen_address;   /* server.http_listen_address, "" = all interfaces */
    int http_listen_port;        /* server.http_listen_port, 4040 */
    int http_threads;            /* server.http_threads, 0 = number of CPUs (min 4) */
    char *log_level;             /* server.log_level / -log.level / PYROSCOPE_LOG_LEVEL, "info" */
    char *log_format;            /* server.log_format, "logfmt" (only logfmt supported) */
    /* storage */
    char *storage_backend;       /* storage.backend: filesystem (default) | s3 (not yet) */
    char *storage_path;          /* storage.path, also pyroscopedb.data_path, "./data" */
    char *s3_bucket_name, *s3_endpoint, *s3_region, *s3_access_key_id, *s3_secret_access_key;
    bool s3_insecure;
    bool wal_fsync;              /* storage.wal_fsync, true; false only for benchmarks */
    int64_t block_duration_ns;   /* storage.block_duration (pyroscopedb.max_block_duration), 1h */
    int64_t compaction_window_ns;/* storage.compaction_window, 24h */
    int64_t compaction_max_samples; /* storage.compaction_max_samples, 20M */
    /* limits */
    int64_t max_nodes_per_profile;     /* limits.max_nodes_per_profile, 0 = unlimited */
    int64_t retention_ns;              /* limits.retention (also
                                        * limits.compactor_blocks_retention_period), 0 = forever */
    int64_t ingestion_body_limit_bytes;/* limits.ingestion_body_limit_mb, 256 MiB */
    int64_t max_profile_size_bytes;    /* limits.max_profile_size_bytes, 4 MiB (decompressed) */
    int64_t max_flamegraph_nodes_default; /* limits.max_flamegraph_nodes_default, 8192 */
    int64_t max_flamegraph_nodes_max;     /* limits.max_flamegraph_nodes_max, 1048576 */
    int64_t max_global_series_per_tenant; /* limits.max_global_series_per_tenant, 5000 */
    int64_t max_label_names_per_series;   /* limits.max_label_names_per_series, 30 */
    int64_t max_label_name_length;        /* limits.max_label_name_length, 1024 */
    int64_t max_label_value_length;       /* limits.max_label_value_length, 2048 */
    double ingestion_rate_mb;             /* limits.ingestion_rate_mb, 0 = no limit */
    int64_t max_query_lookback_ns;        /* limits.max_query_lookback, 0 = no limit */
    int64_t max_query_length_ns;          /* limits.max_query_length, 0 = no limit */
    double ingestion_burst_size_mb;       /* limits.ingestion_burst_size_mb, 2 */
    /* tenancy and misc */
    bool multitenancy_enabled;   /* multitenancy_enabled, false */
    bool analytics_reporting_enabled; /* analytics.reporting_enabled: accepted, never used */
    char *config_file;           /* -config.file, NULL if none */
    bool config_expand_env;      /* -config.expand-env: ${VAR} expansion in the file */
    bool help;                   /* -help / -h / --help was given */
} config_t;

/* Fills out with defaults only. */
void config_defaults(config_t *out);

/* Applies defaults, the file named by -config.file (if any), environment and flags from
 * argv[0..argc) (argv excludes the subcommand). -config.expand-env=true expands ${VAR} and
 * ${VAR:-default} in the file. OUT: out (release with config_release, also on failure).
 * Errors: EMB_EINVAL naming the key/flag and line ("config.yaml:7: storage.backend: ..."),
 * EMB_EIO if the file cannot be read. */
int config_load(config_t *out, int argc, char **argv, err_t *err);

/* Loads YAML text (for tests and fuzzing) on top of the current values of cfg. name is used
 * in messages. */
int config_load_yaml(config_t *cfg, const char *name, const char *text, size_t len, err_t *err);

/* Prints every flag with its YAML key, default and help to f. */
void config_usage(FILE *f);

/* Expands ${VAR}, ${VAR:-default} (also ${VAR:default}) and $VAR in text[0..len) from the
 * environment, appending to out; unset variables expand to "" (or the default, which is also
 * used when the variable is empty). name is used in messages. Errors: EMB_EINVAL for an
 * unterminated or malformed ${...} ("config.yaml:3: ..."), EMB_ETOOBIG past out's cap. */
int config_expand_env(buf_t *out, const char *name, const char *text, size_t len, err_t *err);

/* Appends cfg as a YAML document (every implemented key under its canonical name, nested
 * sections) to out; it loads back to the same values. redact replaces secrets (the S3 secret
 * key) with "********" for display (/api/v1/status/config). Errors: EMB_ETOOBIG past out's
 * cap. */
int config_write_yaml(buf_t *out, const config_t *cfg, bool redact);

/* Frees the strings owned by cfg and sets them to NULL; a second call is a no-op. */
void config_release(config_t *cfg);

#endif
