/* libFuzzer target for server/config: the input is a YAML config file. Each input gets fresh
 * defaults. On success the invariants of a loaded config must hold and its dump must load back
 * to an identical dump; on failure the message must name the file. The same input also goes
 * through ${VAR} expansion. Replayed over corpus/config/ by standalone.c in `meson test`. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/err.h"
#include "server/config.h"

#define CHECK(c)                                                                               \
    do {                                                                                       \
        if (!(c)) {                                                                            \
            fprintf(stderr, "fuzz_config: invariant failed: %s (line %d)\n", #c, __LINE__);    \
            abort();                                                                           \
        }                                                                                      \
    } while (0)

static void check_loaded(const config_t *c)
{
    CHECK(c->http_listen_port >= 1 && c->http_listen_port <= 65535);
    CHECK(c->http_threads >= 0);
    CHECK(c->http_listen_address && c->log_level && c->log_format && c->storage_backend);
    CHECK(c->storage_path && *c->storage_path);
    CHECK(c->s3_bucket_name && c->s3_endpoint && c->s3_region && c->s3_access_key_id &&
          c->s3_secret_access_key);
    CHECK(!strcmp(c->log_level, "debug") || !strcmp(c->log_level, "info") ||
          !strcmp(c->log_level, "warn") || !strcmp(c->log_level, "error"));
    CHECK(c->max_nodes_per_profile >= 0 && c->retention_ns >= 0 &&
          c->ingestion_body_limit_bytes >= 0 && c->max_profile_size_bytes >= 0 &&
          c->max_flamegraph_nodes_default >= 0 && c->max_flamegraph_nodes_max >= 0 &&
          c->max_label_names_per_series >= 0 && c->max_label_name_length >= 0 &&
          c->max_label_value_length >= 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    config_t cfg, again;
    err_t err = {0, ""};
    buf_t d1 = BUF_INIT, d2 = BUF_INIT, ex = BUF_INIT;

    config_defaults(&cfg);
    int rc = config_load_yaml(&cfg, "fuzz.yaml", (const char *)data, size, &err);
    if (rc == 0) {
        check_loaded(&cfg);
        CHECK(config_write_yaml(&d1, &cfg, false) == 0);
        config_defaults(&again);
        err_t err2 = {0, ""};
        int rc2 = config_load_yaml(&again, "dump.yaml", d1.data, d1.len, &err2);
        if (rc2)
            fprintf(stderr, "dump does not load: %s\n%s", err2.msg, d1.data);
        CHECK(rc2 == 0);
        CHECK(config_write_yaml(&d2, &again, false) == 0);
        CHECK(d1.len == d2.len && !memcmp(d1.data, d2.data, d1.len));
        config_release(&again);
    } else {
        CHECK(rc == EMB_EINVAL || rc == EMB_ENOMEM);
        CHECK(err.code == rc);
        CHECK(!strncmp(err.msg, "fuzz.yaml", 9));
    }
    config_release(&cfg);
    config_release(&cfg);

    rc = config_expand_env(&ex, "fuzz.yaml", (const char *)data, size, &err);
    CHECK(rc == 0 || rc == EMB_EINVAL || rc == EMB_ETOOBIG);

    buf_release(&d1);
    buf_release(&d2);
    buf_release(&ex);
    return 0;
}
