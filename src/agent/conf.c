/* conf.c — libember configuration from ember_config_t or the environment (see conf.h).
 *
 * Fixed buffers only: this runs in the LD_PRELOAD constructor, possibly before the program's
 * allocator is ready, and must never abort. Every rejected value names its variable so the
 * one line libember prints on stderr tells the user what to fix.
 */
#include "agent/conf.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(char *msg, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(char *msg, size_t size, const char *fmt, ...)
{
    if (msg && size) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, size, fmt, ap);
        va_end(ap);
    }
    return EMBER_EINVAL;
}

/* Copies s into dst[size]; false when it does not fit. */
static bool copy(char *dst, size_t size, const char *s)
{
    size_t n = strlen(s);
    if (n >= size)
        return false;
    memcpy(dst, s, n + 1);
    return true;
}

void conf_defaults(conf_t *out)
{
    memset(out, 0, sizeof(*out));
    copy(out->server, sizeof(out->server), "http://localhost:4040");
    out->rate_hz = 100;
    out->interval_s = 15;
    out->types = EMBER_PROFILE_CPU;
    out->alloc_bytes = 512 * 1024;
}

bool conf_valid_key(const char *key)
{
    size_t n = 0;
    for (const char *p = key; *p; p++, n++)
        if (!(isalnum((unsigned char)*p) || *p == '_' || *p == '.'))
            return false;
    return n > 0 && n < CONF_KEY_MAX;
}

bool conf_valid_value(const char *value)
{
    size_t n = 0;
    for (const char *p = value; *p; p++, n++)
        if (*p == ',' || *p == '{' || *p == '}' || *p == '=' || (unsigned char)*p < 0x20)
            return false;
    return n < CONF_VALUE_MAX;
}

static bool valid_app(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!(isalnum((unsigned char)*s) || *s == '_' || *s == '.' || *s == '-' || *s == '/'))
            return false;
    return true;
}

/* [b, e) with spaces trimmed, copied into dst[size]; false when too long. */
static bool trim_copy(char *dst, size_t size, const char *b, const char *e)
{
    while (b < e && isspace((unsigned char)*b))
        b++;
    while (e > b && isspace((unsigned char)e[-1]))
        e--;
    if ((size_t)(e - b) >= size)
        return false;
    memcpy(dst, b, (size_t)(e - b));
    dst[e - b] = 0;
    return true;
}

int conf_parse_tags(conf_tag_t *out, size_t max, size_t *n, const char *s, char *msg,
                    size_t msg_size)
{
    *n = 0;
    const char *p = s;
    while (*p) {
        const char *end = strchr(p, ',');
        if (!end)
            end = p + strlen(p);
        const char *eq = memchr(p, '=', (size_t)(end - p));
        const char *q = p;
        while (q < end && isspace((unsigned char)*q))
            q++;
        if (q == end) { /* empty item: "a=1,,b=2" or a trailing comma */
            p = *end ? end + 1 : end;
            continue;
        }
        if (!eq)
            return fail(msg, msg_size, "tag %zu: want key=value", *n + 1);
        if (*n == max)
            return fail(msg, msg_size, "more than %zu tags", max);
        conf_tag_t *t = &out[*n];
        if (!trim_copy(t->key, sizeof(t->key), p, eq) || !conf_valid_key(t->key))
            return fail(msg, msg_size, "tag %zu: bad key (want [A-Za-z0-9_.]{1,63})", *n + 1);
        if (!trim_copy(t->value, sizeof(t->value), eq + 1, end) || !conf_valid_value(t->value))
            return fail(msg, msg_size, "tag %zu (%s): bad value (at most 127 bytes, no , { } =)",
                        *n + 1, t->key);
        for (size_t i = 0; i < *n; i++)
            if (!strcmp(out[i].key, t->key))
                return fail(msg, msg_size, "tag %s given twice", t->key);
        (*n)++;
        p = *end ? end + 1 : end;
    }
    return 0;
}

int conf_parse_types(unsigned *out, const char *s, char *msg, size_t msg_size)
{
    static const struct { const char *name; unsigned bit; } names[] = {
        {"cpu", EMBER_PROFILE_CPU},           {"itimer", EMBER_PROFILE_CPU},
        {"alloc", EMBER_PROFILE_ALLOC},       {"alloc_objects", EMBER_PROFILE_ALLOC},
        {"alloc_space", EMBER_PROFILE_ALLOC}, {"inuse_objects", EMBER_PROFILE_ALLOC},
        {"inuse_space", EMBER_PROFILE_ALLOC}, {"heap", EMBER_PROFILE_ALLOC},
        {"memory", EMBER_PROFILE_ALLOC},
    };
    unsigned bits = 0;
    const char *p = s;
    while (*p) {
        const char *end = strchr(p, ',');
        if (!end)
            end = p + strlen(p);
        char item[32];
        if (!trim_copy(item, sizeof(item), p, end))
            return fail(msg, msg_size, "unknown profile type (want cpu,alloc)");
        if (item[0]) {
            size_t i;
            for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
                if (!strcmp(item, names[i].name))
                    break;
            if (i == sizeof(names) / sizeof(names[0]))
                return fail(msg, msg_size, "unknown profile type \"%s\" (want cpu,alloc)", item);
            bits |= names[i].bit;
        }
        p = *end ? end + 1 : end;
    }
    if (!bits)
        return fail(msg, msg_size, "no profile type (want cpu,alloc)");
    *out = bits;
    return 0;
}

/* A decimal integer in [lo, hi], nothing else (spaces around allowed). */
static bool parse_long(const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || errno)
        return false;
    while (isspace((unsigned char)*end))
        end++;
    if (*end || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

/* EMBER_<name>, else PYROSCOPE_<name>; *var gets the spelling found (for messages). */
static const char *lookup(conf_getenv_fn get, void *arg, const char *name, char *var,
                          size_t var_size)
{
    snprintf(var, var_size, "EMBER_%s", name);
    const char *v = get(var, arg);
    if (v)
        return v;
    snprintf(var, var_size, "PYROSCOPE_%s", name);
    return get(var, arg);
}

bool conf_env_wanted(conf_getenv_fn get, void *arg)
{
    char var[64];
    const char *app = lookup(get, arg, "APPLICATION_NAME", var, sizeof(var));
    const char *out = get("EMBER_OUTPUT", arg);
    return (app && *app) || (out && *out);
}

int conf_from_env(conf_t *c, conf_getenv_fn get, void *arg, char *msg, size_t msg_size)
{
    char var[64];
    const char *v;
    long n;
    struct { const char *name; char *dst; size_t size; } strs[] = {
        {"SERVER_ADDRESS", c->server, sizeof(c->server)},
        {"APPLICATION_NAME", c->app, sizeof(c->app)},
        {"TENANT_ID", c->tenant, sizeof(c->tenant)},
        {"AUTH_TOKEN", c->token, sizeof(c->token)},
        {"BASIC_AUTH_USER", c->basic_user, sizeof(c->basic_user)},
        {"BASIC_AUTH_PASSWORD", c->basic_pass, sizeof(c->basic_pass)},
    };
    for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
        if (!(v = lookup(get, arg, strs[i].name, var, sizeof(var))))
            continue;
        if (!copy(strs[i].dst, strs[i].size, v))
            return fail(msg, msg_size, "%s: longer than %zu bytes", var, strs[i].size - 1);
    }
    if ((v = lookup(get, arg, "TAGS", var, sizeof(var)))) {
        char m[160];
        if (conf_parse_tags(c->tags, CONF_MAX_TAGS, &c->ntags, v, m, sizeof(m)))
            return fail(msg, msg_size, "%s: %s", var, m);
    }
    if ((v = lookup(get, arg, "SAMPLE_RATE", var, sizeof(var)))) {
        if (!parse_long(v, 1, 10000, &n))
            return fail(msg, msg_size, "%s: \"%.40s\" is not a rate in Hz (1..10000)", var, v);
        c->rate_hz = (int)n;
    }
    if ((v = lookup(get, arg, "UPLOAD_INTERVAL", var, sizeof(var)))) {
        if (!parse_long(v, 1, 3600, &n))
            return fail(msg, msg_size, "%s: \"%.40s\" is not a number of seconds (1..3600)",
                        var, v);
        c->interval_s = (int)n;
    }
    if ((v = lookup(get, arg, "PROFILE_TYPES", var, sizeof(var)))) {
        char m[160];
        if (conf_parse_types(&c->types, v, m, sizeof(m)))
            return fail(msg, msg_size, "%s: %s", var, m);
    }
    if ((v = lookup(get, arg, "ALLOC_SAMPLE_BYTES", var, sizeof(var)))) {
        if (!parse_long(v, 1, 1L << 40, &n))
            return fail(msg, msg_size, "%s: \"%.40s\" is not a byte count", var, v);
        c->alloc_bytes = n;
    }
    if ((v = get("EMBER_UNWIND", arg))) {
        if (strcmp(v, "fp") && strcmp(v, "libunwind"))
            return fail(msg, msg_size, "EMBER_UNWIND: want fp or libunwind");
        c->unwind_libunwind = !strcmp(v, "libunwind");
    }
    if ((v = get("EMBER_DEBUG", arg)))
        c->debug = *v == '1';
    if ((v = get("EMBER_OUTPUT", arg)) && *v) {
        if (!copy(c->output, sizeof(c->output), v))
            return fail(msg, msg_size, "EMBER_OUTPUT: path too long");
        if (!c->app[0])
            copy(c->app, sizeof(c->app), "ember_record");
    }
    if ((v = get("EMBER_OUTPUT_PID", arg))) {
        if (!parse_long(v, 1, 1L << 30, &n))
            return fail(msg, msg_size, "EMBER_OUTPUT_PID: not a pid");
        c->output_pid = n;
    }
    return conf_finish(c, msg, msg_size);
}

int conf_from_public(conf_t *c, const ember_config_t *cfg, char *msg, size_t msg_size)
{
    conf_defaults(c);
    if (!cfg || cfg->version != EMBER_CONFIG_VERSION)
        return fail(msg, msg_size, "config: not initialised by ember_config_init");
    struct { const char *src; const char *what; char *dst; size_t size; } strs[] = {
        {cfg->server_address, "server_address", c->server, sizeof(c->server)},
        {cfg->application_name, "application_name", c->app, sizeof(c->app)},
        {cfg->tenant_id, "tenant_id", c->tenant, sizeof(c->tenant)},
        {cfg->auth_token, "auth_token", c->token, sizeof(c->token)},
        {cfg->basic_auth_user, "basic_auth_user", c->basic_user, sizeof(c->basic_user)},
        {cfg->basic_auth_password, "basic_auth_password", c->basic_pass, sizeof(c->basic_pass)},
        {cfg->output_path, "output_path", c->output, sizeof(c->output)},
    };
    for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
        if (strs[i].src && !copy(strs[i].dst, strs[i].size, strs[i].src))
            return fail(msg, msg_size, "%s: longer than %zu bytes", strs[i].what,
                        strs[i].size - 1);
    if (cfg->tags) {
        char m[160];
        if (conf_parse_tags(c->tags, CONF_MAX_TAGS, &c->ntags, cfg->tags, m, sizeof(m)))
            return fail(msg, msg_size, "tags: %s", m);
    }
    if (cfg->sample_rate_hz < 1 || cfg->sample_rate_hz > 10000)
        return fail(msg, msg_size, "sample_rate_hz: %d not in 1..10000", cfg->sample_rate_hz);
    if (cfg->upload_interval_s < 1 || cfg->upload_interval_s > 3600)
        return fail(msg, msg_size, "upload_interval_s: %d not in 1..3600",
                    cfg->upload_interval_s);
    if (!cfg->profile_types || (cfg->profile_types & ~(EMBER_PROFILE_CPU | EMBER_PROFILE_ALLOC)))
        return fail(msg, msg_size, "profile_types: want EMBER_PROFILE_CPU and/or _ALLOC");
    if (cfg->alloc_sample_bytes < 1)
        return fail(msg, msg_size, "alloc_sample_bytes: must be positive");
    c->rate_hz = cfg->sample_rate_hz;
    c->interval_s = cfg->upload_interval_s;
    c->types = cfg->profile_types;
    c->alloc_bytes = cfg->alloc_sample_bytes;
    return conf_finish(c, msg, msg_size);
}

int conf_finish(conf_t *c, char *msg, size_t msg_size)
{
    if (!valid_app(c->app))
        return fail(msg, msg_size, "application name \"%.60s\": want [A-Za-z0-9_.-/]+", c->app);
    for (size_t i = 0; i < c->ntags; i++)
        if (!conf_valid_key(c->tags[i].key) || !conf_valid_value(c->tags[i].value))
            return fail(msg, msg_size, "tag %zu is invalid", i + 1);
    if ((c->basic_user[0] != 0) != (c->basic_pass[0] != 0))
        return fail(msg, msg_size, "basic auth needs both a user and a password");
    if (c->output[0])
        return 0; /* no server needed */
    /* server: [http://]host[:port][/prefix] — plain HTTP only (no TLS in the preloaded lib) */
    const char *s = c->server;
    if (!strncmp(s, "https://", 8))
        return fail(msg, msg_size, "server address %.60s: https is not supported, use http://",
                    s);
    if (!strncmp(s, "http://", 7))
        s += 7;
    else if (strstr(s, "://"))
        return fail(msg, msg_size, "server address %.60s: want http://host:port", s);
    const char *slash = strchr(s, '/');
    const char *hp_end = slash ? slash : s + strlen(s);
    const char *colon = NULL;
    for (const char *p = s; p < hp_end; p++)
        if (*p == ':')
            colon = p;
    const char *host_end = colon ? colon : hp_end;
    if (host_end == s || (size_t)(host_end - s) >= sizeof(c->host))
        return fail(msg, msg_size, "server address %.60s: no host", c->server);
    memcpy(c->host, s, (size_t)(host_end - s));
    c->host[host_end - s] = 0;
    for (const char *p = c->host; *p; p++)
        if (!(isalnum((unsigned char)*p) || *p == '.' || *p == '-' || *p == '_'))
            return fail(msg, msg_size, "server address %.60s: bad host", c->server);
    long port = 80;
    if (colon) {
        char tmp[8];
        if ((size_t)(hp_end - colon - 1) >= sizeof(tmp))
            return fail(msg, msg_size, "server address %.60s: bad port", c->server);
        memcpy(tmp, colon + 1, (size_t)(hp_end - colon - 1));
        tmp[hp_end - colon - 1] = 0;
        if (!parse_long(tmp, 1, 65535, &port))
            return fail(msg, msg_size, "server address %.60s: bad port", c->server);
    }
    snprintf(c->port, sizeof(c->port), "%ld", port);
    c->path_prefix[0] = 0;
    if (slash) {
        size_t n = strlen(slash);
        while (n > 0 && slash[n - 1] == '/')
            n--;
        if (n >= sizeof(c->path_prefix))
            return fail(msg, msg_size, "server address %.60s: path too long", c->server);
        memcpy(c->path_prefix, slash, n);
        c->path_prefix[n] = 0;
        for (const char *p = c->path_prefix; *p; p++)
            if ((unsigned char)*p <= 0x20 || *p == '?' || *p == '#')
                return fail(msg, msg_size, "server address %.60s: bad path", c->server);
    }
    return 0;
}
