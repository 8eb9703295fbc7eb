/* Fuzz target: libember's environment configuration (conf_from_env: EMBER_* / PYROSCOPE_*
 * variables, the k=v,k=v tag list, profile types, server address). The input is a list of
 * NAME=VALUE lines served as the environment. Invariants on success: every field within its
 * documented range, tags valid, a host and port whenever no output file is set; the tag
 * parser alone never accepts a key or value the /ingest name syntax cannot carry. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct env {
    char *names[32];
    char *values[32];
    size_t n;
} env_t;

static const char *get(const char *name, void *arg)
{
    env_t *e = arg;
    for (size_t i = 0; i < e->n; i++)
        if (!strcmp(e->names[i], name))
            return e->values[i];
    return NULL;
}

static void check_tags(const conf_tag_t *t, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!conf_valid_key(t[i].key) || !conf_valid_value(t[i].value))
            abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = 0;

    conf_tag_t tags[CONF_MAX_TAGS];
    size_t ntags = 99;
    char msg[256];
    if (conf_parse_tags(tags, CONF_MAX_TAGS, &ntags, text, msg, sizeof(msg)) == 0) {
        if (ntags > CONF_MAX_TAGS)
            abort();
        check_tags(tags, ntags);
    } else if (!memchr(msg, 0, sizeof(msg)) || !msg[0]) {
        abort(); /* an error always says why */
    }

    env_t e = {.n = 0};
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line && e.n < 32;
         line = strtok_r(NULL, "\n", &save)) {
        char *eq = strchr(line, '=');
        if (!eq)
            continue;
        *eq = 0;
        e.names[e.n] = line;
        e.values[e.n] = eq + 1;
        e.n++;
    }
    conf_t c;
    conf_defaults(&c);
    (void)conf_env_wanted(get, &e);
    if (conf_from_env(&c, get, &e, msg, sizeof(msg)) == 0) {
        if (c.rate_hz < 1 || c.rate_hz > 10000 || c.interval_s < 1 || c.interval_s > 3600 ||
            c.alloc_bytes < 1 || !c.types || c.ntags > CONF_MAX_TAGS || !c.app[0])
            abort();
        check_tags(c.tags, c.ntags);
        if (!c.output[0] && (!c.host[0] || strtol(c.port, NULL, 10) < 1 ||
                              strtol(c.port, NULL, 10) > 65535))
            abort();
        if (c.path_prefix[0] && c.path_prefix[0] != '/')
            abort();
    }
    free(text);
    return 0;
}
