/* conf.h — libember's configuration: the public ember_config_t and the EMBER_* / PYROSCOPE_*
 * environment variables of LD_PRELOAD mode, parsed and validated into one fixed-size conf_t.
 *
 * Everything here is pure and allocation-free (fixed buffers), so it can run in a library
 * constructor before malloc is usable and be fuzzed (tests/fuzz/fuzz_agent_conf.c). A bad
 * value is an error that names the variable; the caller reports it once and stays off.
 */
#ifndef AGENT_CONF_H
#define AGENT_CONF_H

#include <stdbool.h>
#include <stddef.h>

#include "ember.h"

#define CONF_MAX_TAGS 16
#define CONF_KEY_MAX 64
#define CONF_VALUE_MAX 128

typedef struct conf_tag {
    char key[CONF_KEY_MAX];
    char value[CONF_VALUE_MAX];
} conf_tag_t;

typedef struct conf {
    char server[256];      /* "http://host:port/prefix" without a trailing '/' */
    char host[128];        /* parsed from server */
    char port[8];
    char path_prefix[128]; /* "" or "/prefix" */
    char app[128];
    conf_tag_t tags[CONF_MAX_TAGS];
    size_t ntags;
    int rate_hz;
    int interval_s;
    unsigned types;        /* EMBER_PROFILE_* */
    long alloc_bytes;
    char tenant[128];
    char token[512];
    char basic_user[128];
    char basic_pass[128];
    char output[512];      /* write pprof files here instead of uploading */
    long output_pid;       /* with output: only this pid writes it (0 = any) */
    bool unwind_libunwind; /* EMBER_UNWIND=libunwind: always use libunwind */
    bool debug;            /* EMBER_DEBUG=1: counters and libember's own CPU on stderr */
} conf_t;

/* An environment lookup: returns the value of name or NULL (getenv, or a table in tests). */
typedef const char *(*conf_getenv_fn)(const char *name, void *arg);

/* Fills *out with the defaults (server http://localhost:4040, 100 Hz, 15 s, cpu, 512 KiB). */
void conf_defaults(conf_t *out);

/* True when the environment asks for profiling: EMBER_/PYROSCOPE_APPLICATION_NAME, or
 * EMBER_OUTPUT (ember record), is set. */
bool conf_env_wanted(conf_getenv_fn get, void *arg);

/* Reads every EMBER_X (else PYROSCOPE_X) variable over the defaults in *out. Returns 0, or
 * EMBER_EINVAL with a message naming the variable in msg (NUL-terminated, msg_size bytes). */
int conf_from_env(conf_t *out, conf_getenv_fn get, void *arg, char *msg, size_t msg_size);

/* Copies a public ember_config_t into *out (defaults first, then every set field). Returns 0
 * or EMBER_EINVAL with msg set. */
int conf_from_public(conf_t *out, const ember_config_t *cfg, char *msg, size_t msg_size);

/* Checks what every source must satisfy (application name present, server parsable, ranges)
 * and fills host/port/path_prefix from server. Returns 0 or EMBER_EINVAL with msg set. */
int conf_finish(conf_t *c, char *msg, size_t msg_size);

/* Parses "k=v,k=v" (spaces around keys and values trimmed, empty items skipped) into
 * out[0..*n), at most max pairs. Returns 0 or EMBER_EINVAL with msg set. */
int conf_parse_tags(conf_tag_t *out, size_t max, size_t *n, const char *s, char *msg,
                    size_t msg_size);

/* Parses "cpu,alloc" (also "alloc_objects", "alloc_space", "inuse_objects", "inuse_space",
 * "heap", "memory" for alloc) into EMBER_PROFILE_* bits. Returns 0 or EMBER_EINVAL. */
int conf_parse_types(unsigned *out, const char *s, char *msg, size_t msg_size);

/* True when key is a valid tag name ([A-Za-z0-9_.]+, shorter than CONF_KEY_MAX). */
bool conf_valid_key(const char *key);

/* True when value is a valid tag value (shorter than CONF_VALUE_MAX, no , { } = or control
 * characters: the /ingest name syntax cannot carry them). */
bool conf_valid_value(const char *value);

#endif
