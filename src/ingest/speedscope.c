/* format=speedscope: speedscope's JSON file format (https://www.speedscope.app/file-format-
 * schema.json) as Pyroscope's /ingest takes it (PROTOCOLS.md §1.4), so that totals match what
 * Pyroscope stores for the same upload:
 *  - profiles with equal (name, type, unit, startValue) are merged, then ordered by
 *    startValue; each becomes one profile labelled profile_name=<name>; with more than one,
 *    the application name gets `.<unit>` appended (which picks the profile type: time units
 *    are wall, bytes is memory:samples:bytes, none is refused as an unknown suffix);
 *  - an explicit or default sampleRate of 100 becomes the unit's own rate (100 × ticks per
 *    second; bytes 0), and weights are kept with a precision factor of 100 (bytes 1) before
 *    the legacy conversion to nanoseconds;
 *  - evented profiles: time between an open and the next event goes to the open stack; like
 *    Pyroscope, time before a nested open is counted without the precision factor.
 * Values are truncated to integers per sample, summed per stack, then scaled once per stack
 * (as Pyroscope inserts into a tree, then converts). */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "ingest/ingest_int.h"
#include "model/ptype.h"

#define SPEEDSCOPE_SCHEMA "https://www.speedscope.app/file-format-schema.json"
#define PRECISION 100

typedef struct unit_info {
    const char *name;
    int64_t rate; /* default sample rate */
    uint64_t mult;
} unit_info_t;

static const unit_info_t UNITS[] = {
    {"nanoseconds", PRECISION * 1000000000LL, PRECISION},
    {"microseconds", PRECISION * 1000000LL, PRECISION},
    {"milliseconds", PRECISION * 1000LL, PRECISION},
    {"seconds", PRECISION, PRECISION},
    {"none", PRECISION * 100, PRECISION},
    {"bytes", 0, 1},
};

/* One merged profile: the indices of the file's profiles it takes samples/events from. */
typedef struct group {
    const char *name, *type, *unit;
    double start;
    size_t *members;
    size_t n, cap;
} group_t;

/* Per-stack raw sums of one group, before scaling (stack = batch node). */
typedef struct acc {
    uint64_t *v;  /* indexed by batch node */
    size_t cap;
    uint32_t *touched;
    size_t ntouched, captouched;
} acc_t;

static void acc_add(acc_t *a, uint32_t node, uint64_t v)
{
    if (v == 0)
        return;
    if (node >= a->cap) {
        size_t old = a->cap;
        xgrow(&a->v, &a->cap, (size_t)node + 1, sizeof(*a->v));
        memset(a->v + old, 0, (a->cap - old) * sizeof(*a->v));
    }
    if (a->v[node] == 0) {
        xgrow(&a->touched, &a->captouched, a->ntouched + 1, sizeof(*a->touched));
        a->touched[a->ntouched++] = node;
    }
    a->v[node] = a->v[node] > UINT64_MAX - v ? UINT64_MAX : a->v[node] + v;
}

static const unit_info_t *unit_of(const char *u)
{
    for (size_t i = 0; u && i < sizeof(UNITS) / sizeof(UNITS[0]); i++)
        if (!strcmp(UNITS[i].name, u))
            return &UNITS[i];
    return NULL;
}

/* Truncates a non-negative JSON number to an integer as Go's uint64() does for in-range
 * values; -1 for anything else. */
static int64_t whole(double d)
{
    if (!(d >= 0) || !(d < 9.2e18))
        return -1;
    return (int64_t)d;
}

typedef struct frames {
    const uint32_t *ids; /* batch string id per shared frame */
    size_t n;
} frames_t;

static int parse_sampled(batch_t *b, acc_t *a, const json_t *prof, const frames_t *fr,
                         uint64_t mult, uint32_t *stack, err_t *err)
{
    const json_t *samples = json_object_get(prof, "samples");
    const json_t *weights = json_object_get(prof, "weights");
    if (json_array_size(samples) != json_array_size(weights))
        return err_set(err, EMB_ECORRUPT, "speedscope: %zu samples but %zu weights",
                       json_array_size(samples), json_array_size(weights));
    for (size_t i = 0; i < json_array_size(samples); i++) {
        const json_t *s = json_array_get(samples, i);
        double w = json_number_value(json_array_get(weights, i));
        int64_t wi = whole(w);
        if (!json_is_number(json_array_get(weights, i)) || wi < 0)
            return err_set(err, EMB_ECORRUPT, "speedscope: bad weight at sample %zu", i);
        size_t depth = json_array_size(s);
        if (!json_is_array(s) || depth > 4096)
            return err_set(err, EMB_ECORRUPT, "speedscope: bad stack at sample %zu", i);
        for (size_t k = 0; k < depth; k++) {
            const json_t *f = json_array_get(s, k);
            json_int_t fid = json_is_integer(f) ? json_integer_value(f) : -1;
            if (fid < 0 || (size_t)fid >= fr->n)
                return err_set(err, EMB_ECORRUPT, "speedscope: invalid frame %lld",
                               (long long)fid);
            stack[k] = fr->ids[fid];
        }
        acc_add(a, batch_add_stack(b, stack, (uint32_t)depth), (uint64_t)wi * mult);
    }
    return 0;
}

static int parse_evented(batch_t *b, acc_t *a, const json_t *prof, double start,
                         const frames_t *fr, uint64_t mult, uint32_t *stack, err_t *err)
{
    const json_t *events = json_object_get(prof, "events");
    size_t depth = 0;
    json_int_t *open = xmalloc(4097 * sizeof(*open));
    double last = start;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < json_array_size(events); i++) {
        const json_t *ev = json_array_get(events, i);
        const char *type = json_string_value(json_object_get(ev, "type"));
        const json_t *fj = json_object_get(ev, "frame");
        json_int_t fid = json_is_integer(fj) ? json_integer_value(fj) : -1;
        double at = json_number_value(json_object_get(ev, "at"));
        if (!json_is_number(json_object_get(ev, "at")) || !(at >= last) || !isfinite(at)) {
            rc = err_set(err, EMB_ECORRUPT, "speedscope: event %zu is out of order", i);
        } else if (fid < 0 || (size_t)fid >= fr->n) {
            rc = err_set(err, EMB_ECORRUPT, "speedscope: invalid frame %lld", (long long)fid);
        } else if (type && !strcmp(type, "C")) {
            if (depth == 0 || open[depth - 1] != fid)
                rc = err_set(err, EMB_ECORRUPT, "speedscope: event %zu closes frame %lld, "
                             "which is not the open one", i, (long long)fid);
            else {
                int64_t d = whole(at - last);
                acc_add(a, batch_add_stack(b, stack, (uint32_t)depth),
                        d < 0 ? 0 : (uint64_t)d * mult);
                depth--;
            }
        } else if (type && !strcmp(type, "O")) {
            if (depth == 4096) {
                rc = err_set(err, EMB_ECORRUPT, "speedscope: stack deeper than 4096 frames");
            } else {
                int64_t d = whole(at - last);
                if (depth > 0)
                    acc_add(a, batch_add_stack(b, stack, (uint32_t)depth), d < 0 ? 0 : (uint64_t)d);
                open[depth] = fid;
                stack[depth++] = fr->ids[fid];
            }
        } else {
            rc = err_set(err, EMB_ECORRUPT, "speedscope: unknown event type \"%.16s\"",
                         type ? type : "");
        }
        last = at;
    }
    free(open);
    return rc;
}

static int cmp_group(const void *x, const void *y)
{
    double a = ((const group_t *)x)->start, b = ((const group_t *)y)->start;
    return (a > b) - (a < b);
}

static bool same_str(const char *a, const char *b)
{
    return (!a && !b) || (a && b && !strcmp(a, b));
}

/* Converts one merged group into a profile of out. */
static int convert_group(batch_t *out, const group_t *g, const json_t *profiles,
                         const frames_t *fr, bool multi, const ingest_req_t *req,
                         const char *app, const labels_t *tags, const ingest_limits_t *lim,
                         err_t *err)
{
    const unit_info_t *u = unit_of(g->unit);
    if (!u)
        return err_set(err, EMB_ECORRUPT, "speedscope: invalid profile unit \"%.32s\"",
                       g->unit ? g->unit : "");
    bool evented = g->type && !strcmp(g->type, "evented");
    if (!evented && !(g->type && !strcmp(g->type, "sampled")))
        return err_set(err, EMB_ECORRUPT, "speedscope: profile type \"%.32s\" is not supported",
                       g->type ? g->type : "");
    int64_t rate = ingest__parse_rate(req->sample_rate);
    if (rate == 100)
        rate = u->rate;
    size_t n = strlen(app) + strlen(u->name) + 2;
    char *name = xmalloc(n);
    snprintf(name, n, multi ? "%s.%s" : "%s", app, u->name);
    labels_t extra = LABELS_INIT;
    labels_set_cstr(&extra, "profile_name", g->name ? g->name : "");
    int64_t mul, div;
    batch_profile_t *p = ingest__legacy_profile(out, &mul, &div, req, name, tags, rate, &extra,
                                                lim, err);
    size_t pi = out->nprofs - 1;
    free(name);
    labels_release(&extra);
    if (!p)
        return err->code;
    acc_t a;
    memset(&a, 0, sizeof(a));
    uint32_t *stack = xmalloc(4097 * sizeof(*stack));
    int rc = 0;
    for (size_t m = 0; rc == 0 && m < g->n; m++) {
        const json_t *prof = json_array_get(profiles, g->members[m]);
        rc = evented ? parse_evented(out, &a, prof, g->start, fr, u->mult, stack, err)
                     : parse_sampled(out, &a, prof, fr, u->mult, stack, err);
    }
    /* samples in node order, so equal input gives an equal batch */
    for (size_t i = 0; rc == 0 && i < a.ntouched; i++) {
        uint32_t node = a.touched[i];
        int64_t v = a.v[node] > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)a.v[node];
        batch_add_sample(out, &out->profs[pi], node, ingest__scale(v, mul, div));
    }
    free(stack);
    free(a.v);
    free(a.touched);
    return rc;
}

int speedscope_ingest(batch_t *out, const ingest_req_t *req, const char *app,
                      const labels_t *tags, const ingest_limits_t *lim, err_t *err)
{
    json_error_t je;
    json_t *doc = json_loadb((const char *)req->body, req->body_len, 0, &je);
    if (!doc)
        return err_set(err, EMB_ECORRUPT, "speedscope: invalid JSON at line %d: %s", je.line,
                       je.text);
    int rc = 0;
    const char *schema = json_string_value(json_object_get(doc, "$schema"));
    const json_t *frames = json_object_get(json_object_get(doc, "shared"), "frames");
    const json_t *profiles = json_object_get(doc, "profiles");
    if (!schema || strcmp(schema, SPEEDSCOPE_SCHEMA))
        rc = err_set(err, EMB_ECORRUPT, "speedscope: unknown schema \"%.80s\"",
                     schema ? schema : "");
    frames_t fr = {NULL, json_array_size(frames)};
    uint32_t *ids = xcalloc(fr.n + 1, sizeof(*ids));
    fr.ids = ids;
    for (size_t i = 0; rc == 0 && i < fr.n; i++) {
        const char *nm = json_string_value(json_object_get(json_array_get(frames, i), "name"));
        ids[i] = strtab_intern(&out->strs, nm ? nm : "", nm ? strlen(nm) : 0);
    }
    group_t *groups = NULL;
    size_t ng = 0, capg = 0;
    for (size_t i = 0; rc == 0 && i < json_array_size(profiles); i++) {
        const json_t *p = json_array_get(profiles, i);
        const char *name = json_string_value(json_object_get(p, "name"));
        const char *type = json_string_value(json_object_get(p, "type"));
        const char *unit = json_string_value(json_object_get(p, "unit"));
        double start = json_number_value(json_object_get(p, "startValue"));
        size_t g;
        for (g = 0; g < ng; g++)
            if (same_str(groups[g].name, name) && same_str(groups[g].type, type) &&
                same_str(groups[g].unit, unit) && groups[g].start == start)
                break;
        if (g == ng) {
            xgrow(&groups, &capg, ng + 1, sizeof(*groups));
            groups[ng++] = (group_t){name, type, unit, start, NULL, 0, 0};
        }
        xgrow(&groups[g].members, &groups[g].cap, groups[g].n + 1, sizeof(size_t));
        groups[g].members[groups[g].n++] = i;
    }
    if (ng > 1)
        qsort(groups, ng, sizeof(*groups), cmp_group);
    for (size_t g = 0; rc == 0 && g < ng; g++)
        rc = convert_group(out, &groups[g], profiles, &fr, ng > 1, req, app, tags, lim, err);
    for (size_t g = 0; g < ng; g++)
        free(groups[g].members);
    free(groups);
    free(ids);
    json_decref(doc);
    return rc;
}
