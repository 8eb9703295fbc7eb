/* Profile type tables. The legacy suffix table mirrors Pyroscope's convertMetadata so that
 * data pushed through /ingest lands under the same ids Pyroscope would use. */
#include "model/ptype.h"

#include <stdio.h>
#include <string.h>

#include "base/buf.h"

typedef struct suffix_rule {
    const char *suffix;
    const char *name, *type, *unit; /* period is empty for these unless scaled */
    int kind; /* 0 plain, 1 cpu-like, 2 wall-like */
} suffix_rule_t;

static const suffix_rule_t RULES[] = {
    {"cpu", "process_cpu", "samples", "count", 1},
    {"itimer", "process_cpu", "samples", "count", 1},
    {"wall", "wall", "samples", "count", 2},
    {"seconds", "wall", "samples", "count", 2},
    {"nanoseconds", "wall", "samples", "count", 2},
    {"microseconds", "wall", "samples", "count", 2},
    {"milliseconds", "wall", "samples", "count", 2},
    {"inuse_objects", "memory", "inuse_objects", "count", 0},
    {"alloc_objects", "memory", "alloc_objects", "count", 0},
    {"alloc_in_new_tlab_objects", "memory", "alloc_in_new_tlab_objects", "count", 0},
    {"alloc_outside_tlab_objects", "memory", "alloc_outside_tlab_objects", "count", 0},
    {"inuse_space", "memory", "inuse_space", "bytes", 0},
    {"alloc_space", "memory", "alloc_space", "bytes", 0},
    {"alloc_in_new_tlab_bytes", "memory", "alloc_in_new_tlab_bytes", "bytes", 0},
    {"alloc_outside_tlab_bytes", "memory", "alloc_outside_tlab_bytes", "bytes", 0},
    {"goroutines", "goroutine", "goroutines", "count", 0},
    {"mutex_count", "mutex", "contentions", "count", 0},
    {"mutex_duration", "mutex", "delay", "nanoseconds", 0},
    {"block_count", "block", "contentions", "count", 0},
    {"lock_count", "block", "contentions", "count", 0},
    {"block_duration", "block", "delay", "nanoseconds", 0},
    {"lock_duration", "block", "delay", "nanoseconds", 0},
    {"live", "memory", "live", "count", 0},
    {"exceptions", "exceptions", "samples", "count", 0},
    {"bytes", "memory", "samples", "bytes", 0},
};

int ptype_from_legacy(ptype_legacy_t *out, size_t *app_len, const char *app_full,
                      bool rate_positive, err_t *err)
{
    const char *dot = strrchr(app_full, '.');
    const char *suffix = dot ? dot + 1 : "cpu";
    *app_len = dot ? (size_t)(dot - app_full) : strlen(app_full);
    for (size_t i = 0; i < sizeof(RULES) / sizeof(RULES[0]); i++) {
        const suffix_rule_t *r = &RULES[i];
        if (strcmp(r->suffix, suffix) != 0)
            continue;
        memset(out, 0, sizeof(*out));
        out->type.name = r->name;
        out->type.period_type = "";
        out->type.period_unit = "";
        if (r->kind && rate_positive) {
            out->type.sample_type = r->kind == 1 ? "cpu" : "wall";
            out->type.sample_unit = "nanoseconds";
            out->type.period_type = "cpu";
            out->type.period_unit = "nanoseconds";
            out->scale_to_ns = true;
        } else {
            out->type.sample_type = r->type;
            out->type.sample_unit = r->unit;
        }
        return 0;
    }
    return err_set(err, EMB_EINVAL, "unknown profile type suffix \"%s\" in name \"%s\"",
                   suffix, app_full);
}

void ptype_set_labels(labels_t *l, const ptype_t *t)
{
    char id[1024];
    snprintf(id, sizeof(id), "%s:%s:%s:%s:%s", t->name, t->sample_type, t->sample_unit,
             t->period_type, t->period_unit);
    labels_set_cstr(l, PTYPE_L_ID, id);
    labels_set_cstr(l, PTYPE_L_NAME, t->name);
    labels_set_cstr(l, PTYPE_L_TYPE, t->sample_type);
    labels_set_cstr(l, PTYPE_L_UNIT, t->sample_unit);
    labels_set_cstr(l, PTYPE_L_PTYPE, t->period_type);
    labels_set_cstr(l, PTYPE_L_PUNIT, t->period_unit);
}

int ptype_parse(ptype_t *out, char *parts_buf, const char *id, err_t *err)
{
    size_t n = strlen(id);
    memcpy(parts_buf, id, n + 1);
    char *parts[6];
    size_t np = 0;
    char *p = parts_buf;
    parts[np++] = p;
    for (; *p; p++) {
        if (*p == ':') {
            if (np == 6)
                return err_set(err, EMB_EINVAL, "invalid profile type id \"%s\"", id);
            *p = 0;
            parts[np++] = p + 1;
        }
    }
    if (np != 5 && np != 6)
        return err_set(err, EMB_EINVAL,
                       "invalid profile type id \"%s\": want name:sample_type:sample_unit:"
                       "period_type:period_unit", id);
    size_t b = np - 5;
    if (!*parts[b] || !*parts[b + 1])
        return err_set(err, EMB_EINVAL, "invalid profile type id \"%s\"", id);
    out->name = parts[b];
    out->sample_type = parts[b + 1];
    out->sample_unit = parts[b + 2];
    out->period_type = parts[b + 3];
    out->period_unit = parts[b + 4];
    return 0;
}

void ptype_render_meta(const char *sample_type, const char *sample_unit, const char **units,
                       long *sample_rate)
{
    if (!strcmp(sample_type, "inuse_objects") || !strcmp(sample_type, "alloc_objects") ||
        !strcmp(sample_type, "goroutine") || !strcmp(sample_type, "samples")) {
        *units = "objects";
        *sample_rate = 100;
    } else if (!strcmp(sample_type, "cpu")) {
        *units = "samples";
        *sample_rate = 1000000000L;
    } else {
        *units = sample_unit;
        *sample_rate = 100;
    }
}
