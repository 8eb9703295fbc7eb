/* /ingest decoding: format dispatch (PROTOCOLS.md §1.3), legacy name → series labels (§1.4),
 * and pprof → one profile per sample type and sample-label set (§1.5, §2.3).
 *
 * Invariant: this file never looks at server state; a request decodes the same way at
 * ingest and at WAL replay. */
#include "ingest/ingest.h"
#include "ingest/ingest_int.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "base/gz.h"
#include "base/mem.h"
#include "base/utf8.h"
#include "ingest/multipart.h"
#include "ingest/name.h"
#include "ingest/pprof.h"
#include "model/ptype.h"

/* Deeper stacks keep their PPROF_MAX_DEPTH leaf-most frames, as Pyroscope's validation
 * truncates them (max_profile_stacktrace_depth, 1000). */
#define PPROF_MAX_DEPTH 1000

/* Pyroscope: non-numeric or negative → 100; 0 is kept. */
int64_t ingest__parse_rate(const char *s)
{
    if (!s || !*s)
        return 100;
    char *end;
    double d = strtod(s, &end);
    if (*end || d < 0 || d != d || d > 1e12)
        return 100;
    return (int64_t)d;
}

static bool has_ci(const char *hay, const char *needle)
{
    return hay && strcasestr(hay, needle) != NULL;
}

/* Checks label limits on the user-visible series labels. */
int ingest__check_labels(const labels_t *l, const ingest_limits_t *lim, err_t *err)
{
    if (lim->max_label_names_per_series && l->n > lim->max_label_names_per_series)
        return err_set(err, EMB_EINVAL, "profile series has %zu labels, limit is %zu", l->n,
                       lim->max_label_names_per_series);
    for (size_t i = 0; i < l->n; i++) {
        size_t nl = strlen(l->v[i].name), vl = strlen(l->v[i].value);
        if (lim->max_label_name_length && nl > lim->max_label_name_length)
            return err_set(err, EMB_EINVAL, "label name \"%.64s...\" longer than %zu bytes",
                           l->v[i].name, lim->max_label_name_length);
        if (lim->max_label_value_length && vl > lim->max_label_value_length)
            return err_set(err, EMB_EINVAL, "value of label \"%.64s\" longer than %zu bytes",
                           l->v[i].name, lim->max_label_value_length);
    }
    return 0;
}

/* Series labels shared by every profile of a request: tags, service_name/app_name, spy. */
void ingest__base_labels(labels_t *out, const labels_t *tags, const char *app, size_t app_len,
                         const char *spy, bool spy_always)
{
    labels_copy(out, tags);
    if (labels_get(tags, PTYPE_L_SERVICE))
        labels_set(out, "app_name", 8, app, app_len);
    else
        labels_set(out, PTYPE_L_SERVICE, strlen(PTYPE_L_SERVICE), app, app_len);
    if (spy && *spy)
        labels_set_cstr(out, PTYPE_L_SPY, spy);
    else if (spy_always)
        labels_set_cstr(out, PTYPE_L_SPY, "unknown");
}

/* ---- text formats ---- */

batch_profile_t *ingest__legacy_profile(batch_t *out, int64_t *mul, int64_t *div,
                                        const ingest_req_t *req, const char *app,
                                        const labels_t *tags, int64_t rate,
                                        const labels_t *extra, const ingest_limits_t *lim,
                                        err_t *err)
{
    ptype_legacy_t pt;
    size_t app_len;
    if (ptype_from_legacy(&pt, &app_len, app, rate > 0, err))
        return NULL;
    if (app_len == 0) {
        err_set(err, EMB_EINVAL, "empty application name in \"%s\"", app);
        return NULL;
    }
    labels_t l = LABELS_INIT;
    ingest__base_labels(&l, tags, app, app_len, req->spy_name, true);
    for (size_t i = 0; extra && i < extra->n; i++)
        labels_set_cstr(&l, extra->v[i].name, extra->v[i].value);
    batch_profile_t *p = NULL;
    if (ingest__check_labels(&l, lim, err) == 0) {
        ptype_set_labels(&l, &pt.type);
        p = batch_add_profile(out, &l, req->from_ns, req->until_ns - req->from_ns);
        *mul = pt.scale_to_ns ? 1000000000LL : 1;
        *div = pt.scale_to_ns ? rate : 1;
    }
    labels_release(&l);
    return p;
}

static int decode_legacy(batch_t *out, const ingest_req_t *req, const char *app,
                         const labels_t *tags, int kind, const ingest_limits_t *lim, err_t *err)
{
    int64_t mul, div;
    batch_profile_t *p = ingest__legacy_profile(out, &mul, &div, req, app, tags,
                                                ingest__parse_rate(req->sample_rate), NULL, lim,
                                                err);
    if (!p)
        return err->code;
    if (kind <= 1)
        return folded_parse(out, p, req->body, req->body_len, kind == 1, mul, div, err);
    return tree_parse(out, p, req->body, req->body_len, kind == 3, mul, div, err);
}

/* ---- pprof ---- */

typedef struct st_conf {
    const char *display; /* borrowed from the JSON document, or NULL */
    int cumulative;      /* -1 unknown, 0, 1 */
} st_conf_t;

static const char *default_display(const char *t)
{
    if (!strcmp(t, "samples")) return "cpu";
    if (!strcmp(t, "goroutine")) return "goroutines";
    if (!strcmp(t, "contentions")) return "mutex_count";
    if (!strcmp(t, "delay")) return "mutex_duration";
    return t;
}

static char *slice_dup(slice_t s) { return xstrndup((const char *)s.p, s.len); }

/* Profile name (__name__) for a pprof's sample types, §1.5. */
static char *derive_name(const pprof_t *pp, char **display)
{
    for (size_t i = 0; i < pp->nsample_types; i++)
        if (slice_eq_cstr(pp->strings[pp->sample_types[i].type], "wall"))
            return xstrdup("wall");
    for (size_t i = 0; i < pp->nsample_types; i++) {
        const char *n = display[i];
        if (strstr(n, "cpu")) return xstrdup("process_cpu");
        if (strstr(n, "alloc_") || strstr(n, "inuse_") || !strcmp(n, "space") ||
            !strcmp(n, "objects"))
            return xstrdup("memory");
        if (strstr(n, "mutex_")) return xstrdup("mutex");
        if (strstr(n, "block_")) return xstrdup("block");
        if (strstr(n, "goroutines")) return xstrdup("goroutines");
    }
    return pp->nsample_types ? slice_dup(pp->strings[pp->sample_types[pp->nsample_types - 1].type])
                             : xstrdup("unknown");
}

/* Builds, per location, its frames (batch string ids, root-most first). */
static void location_frames(batch_t *b, const pprof_t *pp, const char *spy, uint32_t **out_ids,
                            uint32_t **out_off)
{
    bool filename_prefix = spy && (!strcmp(spy, "pyspy") || !strcmp(spy, "rbspy") ||
                                   !strcmp(spy, "scripting"));
    uint32_t *fname = xmalloc((pp->nfuncs + 1) * sizeof(*fname));
    buf_t tmp = BUF_INIT;
    for (size_t i = 0; i < pp->nfuncs; i++) {
        slice_t n = pp->strings[pp->funcs[i].name];
        if (n.len == 0)
            n = pp->strings[pp->funcs[i].system_name];
        slice_t f = pp->strings[pp->funcs[i].filename];
        if (filename_prefix && f.len && !(!strcmp(spy, "pyspy") && f.p[0] == '/')) {
            buf_reset(&tmp);
            if (buf_append(&tmp, f.p, f.len) || buf_putc(&tmp, ' ') ||
                buf_append(&tmp, n.p, n.len))
                fname[i] = strtab_intern(&b->strs, (const char *)n.p, n.len);
            else
                fname[i] = strtab_intern(&b->strs, tmp.data, tmp.len);
        } else {
            fname[i] = strtab_intern(&b->strs, (const char *)n.p, n.len);
        }
    }
    uint32_t *off = xmalloc((pp->nlocs + 1) * sizeof(*off));
    size_t total = 0;
    for (size_t i = 0; i < pp->nlocs; i++)
        total += pp->locs[i].nlines ? pp->locs[i].nlines : 1;
    uint32_t *ids = xmalloc((total + 1) * sizeof(*ids));
    size_t k = 0;
    for (size_t i = 0; i < pp->nlocs; i++) {
        const pprof_location_t *loc = &pp->locs[i];
        off[i] = (uint32_t)k;
        if (loc->nlines == 0) {
            char addr[64];
            int n = snprintf(addr, sizeof(addr), "0x%llx", (unsigned long long)loc->address);
            ids[k++] = strtab_intern(&b->strs, addr, (size_t)n);
            continue;
        }
        /* lines[0] is the innermost inlined frame: emit outermost first */
        for (uint32_t j = loc->nlines; j > 0; j--) {
            const pprof_line_t *ln = &pp->lines[loc->line_off + j - 1];
            ids[k++] = ln->func == PPROF_NONE ? strtab_intern(&b->strs, "unknown", 7)
                                              : fname[ln->func];
        }
    }
    off[pp->nlocs] = (uint32_t)k;
    buf_release(&tmp);
    free(fname);
    *out_ids = ids;
    *out_off = off;
}

/* Sample labels that become series labels: string-valued, except trace_id/span_id and
 * profile_id (which Pyroscope keeps per sample for span selection). */
static bool series_label(const pprof_t *pp, const pprof_label_t *lb)
{
    if (lb->str == 0)
        return false;
    slice_t k = pp->strings[lb->key];
    return !(slice_eq_cstr(k, "trace_id") || slice_eq_cstr(k, "span_id") ||
             slice_eq_cstr(k, "profile_id") || k.len == 0);
}

/* The sample's span id (label span_id, hex as OpenTelemetry writes it), or 0. */
static uint64_t sample_span(const pprof_t *pp, const pprof_sample_t *sm)
{
    for (uint32_t j = 0; j < sm->nlabels; j++) {
        const pprof_label_t *lb = &pp->labels[sm->label_off + j];
        if (lb->str && slice_eq_cstr(pp->strings[lb->key], "span_id")) {
            slice_t v = pp->strings[lb->str];
            return span_parse((const char *)v.p, v.len);
        }
    }
    return 0;
}

/* Converts one decoded pprof into profiles appended to b. first_prof receives the index of
 * the first profile added (so delta computation can find them). */
static int convert_pprof(batch_t *b, const pprof_t *pp, const labels_t *base,
                         const st_conf_t *conf, int64_t from_ns, int64_t until_ns,
                         const char *spy, const char *name, err_t *err)
{
    (void)err;
    size_t nt = pp->nsample_types;
    char **display = xcalloc(nt + 1, sizeof(*display));
    for (size_t i = 0; i < nt; i++) {
        char *raw = slice_dup(pp->strings[pp->sample_types[i].type]);
        display[i] = conf && conf[i].display ? xstrdup(conf[i].display)
                                             : xstrdup(default_display(raw));
        free(raw);
    }
    char *pname = name ? xstrdup(name) : derive_name(pp, display);
    int64_t ts = pp->time_nanos;
    if (ts <= 365LL * 24 * 3600 * 1000000000LL)
        ts = from_ns;
    int64_t dur = pp->duration_nanos > 0 ? pp->duration_nanos : until_ns - from_ns;

    uint32_t *lids, *loff;
    location_frames(b, pp, spy, &lids, &loff);

    /* Group samples by their series-label set. Most profiles have none, so the common path
     * is one group; otherwise a key per distinct set, found by linear scan of groups. */
    size_t ngroups = 0, capg = 0;
    struct group { labels_t extra; buf_t key; size_t first_prof; } *groups = NULL;
    uint32_t *sample_group = xmalloc((pp->nsamples + 1) * sizeof(*sample_group));
    buf_t key = BUF_INIT;
    for (size_t s = 0; s < pp->nsamples; s++) {
        const pprof_sample_t *sm = &pp->samples[s];
        buf_reset(&key);
        for (uint32_t j = 0; j < sm->nlabels; j++) {
            const pprof_label_t *lb = &pp->labels[sm->label_off + j];
            if (!series_label(pp, lb))
                continue;
            slice_t k = pp->strings[lb->key], v = pp->strings[lb->str];
            if (buf_append(&key, k.p, k.len) || buf_putc(&key, 1) ||
                buf_append(&key, v.p, v.len) || buf_putc(&key, 2))
                break;
        }
        size_t g;
        for (g = 0; g < ngroups; g++)
            if (groups[g].key.len == key.len &&
                (key.len == 0 || memcmp(groups[g].key.data, key.data, key.len) == 0))
                break;
        if (g == ngroups) {
            xgrow(&groups, &capg, ngroups + 1, sizeof(*groups));
            labels_init(&groups[g].extra);
            buf_init(&groups[g].key, 0);
            if (buf_append(&groups[g].key, key.data ? key.data : "", key.len)) {
                /* unbounded buffer: cannot fail */
            }
            for (uint32_t j = 0; j < sm->nlabels; j++) {
                const pprof_label_t *lb = &pp->labels[sm->label_off + j];
                if (!series_label(pp, lb))
                    continue;
                slice_t k = pp->strings[lb->key], v = pp->strings[lb->str];
                labels_set(&groups[g].extra, (const char *)k.p, k.len, (const char *)v.p, v.len);
            }
            ngroups++;
        }
        sample_group[s] = (uint32_t)g;
    }

    /* One batch profile per (group, sample type). */
    for (size_t g = 0; g < ngroups; g++) {
        groups[g].first_prof = b->nprofs;
        for (size_t t = 0; t < nt; t++) {
            labels_t l = LABELS_INIT;
            labels_copy(&l, &groups[g].extra);
            for (size_t i = 0; i < base->n; i++) /* series labels win */
                labels_set_cstr(&l, base->v[i].name, base->v[i].value);
            ptype_t type = {pname, NULL, NULL, NULL, NULL};
            char *st = slice_dup(pp->strings[pp->sample_types[t].type]);
            if (spy && !strcmp(spy, "dotnetspy")) /* .NET names its types alloc-samples */
                for (char *c = st; *c; c++)
                    if (*c == '-')
                        *c = '_';
            char *su = slice_dup(pp->strings[pp->sample_types[t].unit]);
            char *pt = slice_dup(pp->strings[pp->period_type.type]);
            char *pu = slice_dup(pp->strings[pp->period_type.unit]);
            type.sample_type = st;
            type.sample_unit = su;
            type.period_type = pt;
            type.period_unit = pu;
            ptype_set_labels(&l, &type);
            batch_add_profile(b, &l, ts, dur);
            free(st); free(su); free(pt); free(pu);
            labels_release(&l);
        }
    }
    node_id_t *memo_parent = xmalloc((pp->nlocs + 1) * sizeof(*memo_parent));
    node_id_t *memo_node = xcalloc(pp->nlocs + 1, sizeof(*memo_node));
    for (size_t i = 0; i < pp->nlocs; i++)
        memo_parent[i] = UINT32_MAX;
    for (size_t s = 0; s < pp->nsamples; s++) {
        const pprof_sample_t *sm = &pp->samples[s];
        const int64_t *vals = pp->values + sm->value_off;
        bool any = false;
        for (size_t t = 0; t < nt; t++)
            any |= vals[t] != 0;
        if (!any)
            continue;
        /* Walk root → leaf through the batch tree. Stacks deeper than PPROF_MAX_DEPTH lose
         * root-side frames (Pyroscope keeps the leaf end). Most samples share their root-side
         * locations, so remember per location the last (parent → node) step and skip the
         * hash lookups when the same location hangs off the same parent again. */
        size_t total = 0;
        for (uint32_t j = 0; j < sm->nlocs; j++) {
            uint32_t li = pp->sample_locs[sm->loc_off + j];
            total += loff[li + 1] - loff[li];
        }
        size_t skip = total > PPROF_MAX_DEPTH ? total - PPROF_MAX_DEPTH : 0;
        node_id_t node = 0;
        for (uint32_t j = sm->nlocs; j > 0; j--) {
            uint32_t li = pp->sample_locs[sm->loc_off + j - 1];
            size_t nf = loff[li + 1] - loff[li];
            if (skip >= nf) {
                skip -= nf;
                continue;
            }
            if (skip == 0 && memo_parent[li] == node && memo_node[li] != 0) {
                node = memo_node[li];
                continue;
            }
            node_id_t from = node;
            for (uint32_t f = loff[li] + (uint32_t)skip; f < loff[li + 1]; f++)
                node = stacktree_child(&b->tree, node, lids[f]);
            if (skip == 0) {
                memo_parent[li] = from;
                memo_node[li] = node;
            }
            skip = 0;
        }
        uint32_t sid = node;
        size_t first = groups[sample_group[s]].first_prof;
        uint64_t span = sample_span(pp, sm);
        for (size_t t = 0; t < nt; t++)
            if (vals[t] != 0) {
                batch_add_sample(b, &b->profs[first + t], sid, vals[t]);
                if (span)
                    batch_add_span(&b->profs[first + t], span, sid, vals[t]);
            }
    }
    free(memo_parent);
    free(memo_node);
    for (size_t g = 0; g < ngroups; g++) {
        labels_release(&groups[g].extra);
        buf_release(&groups[g].key);
    }
    free(groups);
    free(sample_group);
    buf_release(&key);
    free(lids);
    free(loff);
    for (size_t i = 0; i < nt; i++)
        free(display[i]);
    free(display);
    free(pname);
    return 0;
}

/* Decompresses (if gzipped) and decodes a pprof. data_buf keeps decompressed bytes alive. */
static int load_pprof(pprof_t *pp, buf_t *data_buf, slice_t in, const ingest_limits_t *lim,
                      err_t *err)
{
    memset(pp, 0, sizeof(*pp));
    const uint8_t *p = in.p;
    size_t n = in.len;
    if (gz_is_gzip(p, n)) {
        int rc = gz_decompress(data_buf, p, n, lim->max_profile_size, err);
        if (rc == EMB_ETOOBIG)
            return err_set(err, EMB_ETOOBIG,
                           "decompressed profile exceeds max_profile_size_bytes (%zu)",
                           lim->max_profile_size);
        if (rc)
            return err_prefix(err, "pprof");
        p = (const uint8_t *)data_buf->data;
        n = data_buf->len;
    } else if (lim->max_profile_size && n > lim->max_profile_size) {
        return err_set(err, EMB_ETOOBIG, "profile of %zu bytes exceeds max_profile_size_bytes "
                       "(%zu)", n, lim->max_profile_size);
    }
    int rc = pprof_decode(pp, p ? p : (const uint8_t *)"", n, err);
    if (rc)
        err_prefix(err, "pprof");
    return rc;
}

/* Subtracts prev from the cumulative profiles [first, end) of b, matching profiles by labels
 * and samples by stack content. Values never go below zero (a counter reset). */
static void subtract_prev(batch_t *b, size_t cur_first, size_t cur_end, size_t prev_first,
                          size_t prev_end, const bool *cumulative_by_type, size_t nt)
{
    buf_t ka = BUF_INIT, kb = BUF_INIT;
    for (size_t i = cur_first; i < cur_end; i++) {
        if (!cumulative_by_type[(i - cur_first) % nt])
            continue;
        batch_profile_t *cp = &b->profs[i];
        labels_sort(&cp->labels);
        buf_reset(&ka);
        if (labels_key(&ka, &cp->labels))
            continue;
        for (size_t j = prev_first; j < prev_end; j++) {
            batch_profile_t *pp = &b->profs[j];
            labels_sort(&pp->labels);
            buf_reset(&kb);
            if (labels_key(&kb, &pp->labels) || ka.len != kb.len ||
                memcmp(ka.data, kb.data, ka.len) != 0)
                continue;
            /* equal stacks are equal batch nodes: subtract through a node-indexed array */
            int64_t *rem = xcalloc(b->tree.n + 1, sizeof(*rem));
            for (size_t k = 0; k < pp->n; k++)
                rem[pp->stack[k]] += pp->value[k];
            for (size_t k = 0; k < cp->n; k++) {
                int64_t d = rem[cp->stack[k]] < cp->value[k] ? rem[cp->stack[k]] : cp->value[k];
                if (d > 0) {
                    cp->value[k] -= d;
                    rem[cp->stack[k]] -= d;
                }
            }
            free(rem);
            /* span values would no longer add up to the delta's: span selection of
             * cumulative profiles has no meaning anyway */
            cp->nspans = 0;
            break;
        }
    }
    buf_release(&ka);
    buf_release(&kb);
}

static void drop_profiles_from(batch_t *b, size_t first)
{
    for (size_t i = first; i < b->nprofs; i++) {
        b->nsamples -= b->profs[i].n;
        labels_release(&b->profs[i].labels);
        free(b->profs[i].stack);
        free(b->profs[i].value);
        free(b->profs[i].spans);
    }
    b->nprofs = first;
}

static bool default_cumulative(slice_t type)
{
    return slice_eq_cstr(type, "alloc_objects") || slice_eq_cstr(type, "alloc_space") ||
           slice_eq_cstr(type, "contentions") || slice_eq_cstr(type, "delay");
}

static int decode_pprof(batch_t *out, const ingest_req_t *req, const char *app,
                        const labels_t *tags, bool multipart, const ingest_limits_t *lim,
                        err_t *err)
{
    int rc = 0;
    slice_t profile = slice_make(req->body, req->body_len), prev = {NULL, 0};
    json_t *conf_doc = NULL;
    pprof_t pp, pprev;
    memset(&pp, 0, sizeof(pp));
    memset(&pprev, 0, sizeof(pprev));
    buf_t dbuf = BUF_INIT, dbuf_prev = BUF_INIT;
    labels_t base = LABELS_INIT;
    st_conf_t *conf = NULL;
    bool *cumulative = NULL;

    if (multipart) {
        mpart_t parts[MULTIPART_MAX_PARTS];
        size_t np;
        slice_t boundary;
        if ((rc = multipart_boundary(&boundary, req->content_type, err)) ||
            (rc = multipart_parse(parts, &np, boundary, req->body, req->body_len, err)))
            goto out;
        const mpart_t *pf = multipart_file(parts, np, "profile");
        if (!pf || pf->data.len == 0)
            goto out; /* Pyroscope: no profile part is a successful no-op */
        profile = pf->data;
        const mpart_t *pv = multipart_file(parts, np, "prev_profile");
        if (pv)
            prev = pv->data;
        const mpart_t *sc = multipart_file(parts, np, "sample_type_config");
        if (sc && sc->data.len) {
            json_error_t je;
            conf_doc = json_loadb((const char *)sc->data.p, sc->data.len, 0, &je);
            if (!conf_doc || !json_is_object(conf_doc)) {
                rc = err_set(err, EMB_ECORRUPT, "sample_type_config: invalid JSON: %s",
                             conf_doc ? "not an object" : je.text);
                goto out;
            }
        }
    }
    if ((rc = load_pprof(&pp, &dbuf, profile, lim, err)))
        goto out;
    if (pp.nsample_types == 0) {
        rc = err_set(err, EMB_ECORRUPT, "pprof: no sample types");
        goto out;
    }
    size_t nt = pp.nsample_types;
    conf = xcalloc(nt, sizeof(*conf));
    cumulative = xcalloc(nt, sizeof(*cumulative));
    for (size_t i = 0; i < nt; i++) {
        slice_t tn = pp.strings[pp.sample_types[i].type];
        conf[i].cumulative = -1;
        if (conf_doc) {
            char *k = slice_dup(tn);
            json_t *e = json_object_get(conf_doc, k);
            free(k);
            if (json_is_object(e)) {
                json_t *d = json_object_get(e, "display-name");
                if (json_is_string(d))
                    conf[i].display = json_string_value(d);
                json_t *c = json_object_get(e, "cumulative");
                if (json_is_boolean(c))
                    conf[i].cumulative = json_is_true(c);
            }
        }
        cumulative[i] = conf[i].cumulative >= 0 ? conf[i].cumulative : default_cumulative(tn);
    }
    ingest__base_labels(&base, tags, app, strlen(app), req->spy_name, true);
    if ((rc = ingest__check_labels(&base, lim, err)))
        goto out;
    size_t first = out->nprofs;
    convert_pprof(out, &pp, &base, conf, req->from_ns, req->until_ns, req->spy_name, NULL, err);
    size_t end = out->nprofs;
    if (prev.len) {
        if ((rc = load_pprof(&pprev, &dbuf_prev, prev, lim, err))) {
            err_prefix(err, "prev_profile");
            goto out;
        }
        bool same = pprev.nsample_types == nt;
        for (size_t i = 0; same && i < nt; i++)
            same = slice_eq(pprev.strings[pprev.sample_types[i].type],
                            pp.strings[pp.sample_types[i].type]);
        if (!same) {
            rc = err_set(err, EMB_ECORRUPT, "prev_profile: sample types differ from profile");
            goto out;
        }
        /* prev converts with the same labels so profiles pair up by label set */
        convert_pprof(out, &pprev, &base, conf, req->from_ns, req->until_ns, req->spy_name,
                      NULL, err);
        /* convert_pprof emits nt profiles per label group, in type order */
        subtract_prev(out, first, end, end, out->nprofs, cumulative, nt);
        drop_profiles_from(out, end);
    }
out:
    pprof_release(&pp);
    pprof_release(&pprev);
    buf_release(&dbuf);
    buf_release(&dbuf_prev);
    labels_release(&base);
    free(conf);
    free(cumulative);
    if (conf_doc)
        json_decref(conf_doc);
    return rc;
}

static int cmp_i64_desc(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x < y) - (x > y);
}

/* limits.max_nodes_per_profile: keeps the max nodes with the largest totals (ancestors always
 * have totals ≥ their descendants, so kept nodes form a tree) and re-attaches each sample
 * below the cut to an "other" child of its deepest kept ancestor. Totals are unchanged. */
static void truncate_nodes(batch_t *b, size_t max)
{
    int64_t *tot = NULL, *vals = NULL;
    for (size_t pi = 0; pi < b->nprofs; pi++) {
        batch_profile_t *p = &b->profs[pi];
        size_t n = b->tree.n; /* grows as "other" nodes are added */
        tot = xrealloc(tot, n * sizeof(*tot));
        vals = xrealloc(vals, n * sizeof(*vals));
        memset(tot, 0, n * sizeof(*tot));
        for (size_t k = 0; k < p->n; k++)
            tot[p->stack[k]] += p->value[k] > 0 ? p->value[k] : 0;
        for (size_t i = n - 1; i > 0; i--)
            tot[b->tree.parent[i]] += tot[i];
        size_t live = 0;
        for (size_t i = 1; i < n; i++)
            if (tot[i] > 0)
                vals[live++] = tot[i];
        if (live <= max)
            continue;
        qsort(vals, live, sizeof(*vals), cmp_i64_desc);
        int64_t minv = vals[max - 1];
        uint32_t other = strtab_intern(&b->strs, "other", 5);
        for (size_t k = 0; k < p->n; k++) {
            node_id_t nd = p->stack[k];
            if (nd == 0 || tot[nd] >= minv)
                continue;
            while (nd != 0 && tot[nd] < minv)
                nd = b->tree.parent[nd];
            /* the new node's id is past n: it is not in tot[], which is fine, we never
             * look it up again for this profile */
            p->stack[k] = stacktree_child(&b->tree, nd, other);
        }
        for (size_t k = 0; k < p->nspans; k++) {
            node_id_t nd = p->spans[k].node;
            if (nd == 0 || nd >= n || tot[nd] >= minv)
                continue;
            while (nd != 0 && tot[nd] < minv)
                nd = b->tree.parent[nd];
            p->spans[k].node = stacktree_child(&b->tree, nd, other);
        }
    }
    free(tot);
    free(vals);
}

/* Pyroscope refuses profiles with invalid UTF-8 in any string (§1.7: 422). Checking the
 * batch's interned strings and labels covers every format in one place. */
static int validate_utf8(const batch_t *b, err_t *err)
{
    for (size_t i = 0; i < b->strs.n; i++)
        if (!utf8_valid(strtab_get(&b->strs, (uint32_t)i), strtab_len(&b->strs, (uint32_t)i)))
            return err_set(err, EMB_ECORRUPT, "invalid UTF-8 in function name \"%.64s\"",
                           strtab_get(&b->strs, (uint32_t)i));
    for (size_t p = 0; p < b->nprofs; p++)
        for (size_t i = 0; i < b->profs[p].labels.n; i++) {
            const label_t *l = &b->profs[p].labels.v[i];
            if (!utf8_valid(l->name, strlen(l->name)) ||
                !utf8_valid(l->value, strlen(l->value)))
                return err_set(err, EMB_ECORRUPT, "invalid UTF-8 in label \"%.64s\"", l->name);
        }
    return 0;
}

/* ---- push.v1 samples ---- */

int ingest_push_name(buf_t *out, const labels_t *l)
{
    json_t *a = json_array();
    for (size_t i = 0; i < l->n; i++)
        json_array_append_new(a, json_pack("[ss]", l->v[i].name, l->v[i].value));
    char *text = json_dumps(a, JSON_COMPACT);
    json_decref(a);
    int rc = text ? buf_append(out, text, strlen(text) + 1) : EMB_EINVAL;
    free(text);
    return rc;
}

/* Series labels of a push sample, from its record name (ingest_push_name), checked and
 * normalised as Pyroscope's distributor does (PROTOCOLS.md §2.3-2.4, §5). */
static int push_labels(labels_t *out, const char *name, const ingest_limits_t *lim, err_t *err)
{
    json_error_t je;
    json_t *a = json_loads(name, 0, &je);
    int rc = 0;
    if (!json_is_array(a))
        rc = err_set(err, EMB_EINVAL, "push: bad label record");
    for (size_t i = 0; rc == 0 && i < json_array_size(a); i++) {
        const char *k = json_string_value(json_array_get(json_array_get(a, i), 0));
        const char *v = json_string_value(json_array_get(json_array_get(a, i), 1));
        if (!k || !v)
            rc = err_set(err, EMB_EINVAL, "push: bad label record");
        else if (!*k)
            rc = err_set(err, EMB_EINVAL, "empty label name");
        else if (!utf8_valid(k, strlen(k)) || !utf8_valid(v, strlen(v)))
            rc = err_set(err, EMB_EINVAL, "label \"%.64s\" is not valid UTF-8", k);
        else if (labels_get(out, k))
            rc = err_set(err, EMB_EINVAL, "duplicate label name \"%.64s\"", k);
        else
            labels_set_cstr(out, k, v);
    }
    json_decref(a);
    if (rc)
        return rc;
    const char *nm = labels_get(out, PTYPE_L_NAME);
    if (!nm || !*nm)
        return err_set(err, EMB_EINVAL, "the series has no __name__ label (the profile name "
                       "such as process_cpu or memory)");
    if (!strncmp(nm, "godeltaprof_", 12)) { /* Pyroscope's default relabel rule */
        char *base = xstrdup(nm + 12);
        labels_set_cstr(out, PTYPE_L_NAME, base);
        free(base);
    }
    const char *svc = labels_get(out, PTYPE_L_SERVICE);
    if (!svc || !*svc)
        labels_set_cstr(out, PTYPE_L_SERVICE, "unknown_service");
    labels_del(out, "__delta__"); /* clients send deltas (Pyroscope's v2 ingest path) */
    return ingest__check_labels(out, lim, err);
}

static int decode_push(batch_t *out, const ingest_req_t *req, const ingest_limits_t *lim,
                       err_t *err)
{
    labels_t l = LABELS_INIT;
    pprof_t pp;
    memset(&pp, 0, sizeof(pp));
    buf_t dbuf = BUF_INIT;
    int rc = push_labels(&l, req->name ? req->name : "", lim, err);
    if (rc == 0)
        rc = load_pprof(&pp, &dbuf, slice_make(req->body, req->body_len), lim, err);
    if (rc == 0 && pp.nsample_types == 0)
        rc = err_set(err, EMB_ECORRUPT, "pprof: no sample types");
    if (rc == 0) {
        char *name = xstrdup(labels_get(&l, PTYPE_L_NAME));
        labels_del(&l, PTYPE_L_NAME); /* set again per sample type, with the type's parts */
        rc = convert_pprof(out, &pp, &l, NULL, req->from_ns, req->until_ns, NULL, name, err);
        free(name);
    }
    pprof_release(&pp);
    buf_release(&dbuf);
    labels_release(&l);
    return rc;
}

int ingest_decode(batch_t *out, const char **format_out, const ingest_req_t *req,
                  const ingest_limits_t *lim, err_t *err)
{
    batch_init(out);
    char *app = NULL;
    labels_t tags = LABELS_INIT;
    const char *fmt = req->format ? req->format : "";
    const char *ct = req->content_type ? req->content_type : "";
    *format_out = "folded";
    if (!strcmp(fmt, INGEST_FORMAT_PUSH)) {
        *format_out = "push";
        int rc = decode_push(out, req, lim, err);
        if (rc == 0 && lim->max_nodes_per_profile)
            truncate_nodes(out, lim->max_nodes_per_profile);
        return rc;
    }
    int rc = name_parse(&app, &tags, req->name ? req->name : "",
                        req->name ? strlen(req->name) : 0, err);
    if (rc)
        goto out;
    const char *pid = labels_get(&tags, "profile_id");
    if (pid && *pid)
        goto out; /* Pyroscope drops these silently */
    if (!strcmp(fmt, "trie") || has_ci(ct, "binary/octet-stream+trie")) {
        *format_out = "trie";
        rc = decode_legacy(out, req, app, &tags, 3, lim, err);
    } else if (!strcmp(fmt, "tree") || has_ci(ct, "binary/octet-stream+tree")) {
        *format_out = "tree";
        rc = decode_legacy(out, req, app, &tags, 2, lim, err);
    } else if (!strcmp(fmt, "lines")) {
        *format_out = "lines";
        rc = decode_legacy(out, req, app, &tags, 1, lim, err);
    } else if (!strcmp(fmt, "jfr")) {
        *format_out = "jfr";
        rc = jfr_ingest(out, req, app, &tags, lim, err);
    } else if (!strcmp(fmt, "pprof")) {
        *format_out = "pprof";
        rc = decode_pprof(out, req, app, &tags, false, lim, err);
    } else if (!strcmp(fmt, "perf_script")) {
        *format_out = "perf_script";
        rc = perf_script_ingest(out, req, app, &tags, lim, err);
    } else if (!strcmp(fmt, "speedscope")) {
        *format_out = "speedscope";
        rc = speedscope_ingest(out, req, app, &tags, lim, err);
    } else if (has_ci(ct, "multipart/form-data")) {
        *format_out = "pprof";
        rc = decode_pprof(out, req, app, &tags, true, lim, err);
    } else {
        rc = decode_legacy(out, req, app, &tags, 0, lim, err);
    }
    if (rc == 0)
        rc = validate_utf8(out, err);
    if (rc == 0 && lim->max_nodes_per_profile)
        truncate_nodes(out, lim->max_nodes_per_profile);
out:
    free(app);
    labels_release(&tags);
    return rc;
}

/* ---- WAL records ---- */

static int put_str(buf_t *out, const char *s)
{
    if (!s)
        return buf_append(out, "\x01", 2);
    if (s[0] == '\x01')
        return EMB_EINVAL;
    return buf_append(out, s, strlen(s) + 1);
}

static int put_u64(buf_t *out, uint64_t v)
{
    uint8_t b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    return buf_append(out, b, 8);
}

int ingest_record_encode(buf_t *out, const char *tenant, const ingest_req_t *req)
{
    int rc = buf_putc(out, 1);
    const char *strs[] = {tenant, req->name, req->format, req->sample_rate, req->spy_name,
                          req->content_type};
    for (size_t i = 0; rc == 0 && i < 6; i++)
        rc = put_str(out, strs[i]);
    if (rc == 0)
        rc = put_u64(out, (uint64_t)req->from_ns);
    if (rc == 0)
        rc = put_u64(out, (uint64_t)req->until_ns);
    if (rc == 0)
        rc = put_u64(out, req->body_len);
    if (rc == 0)
        rc = buf_append(out, req->body, req->body_len);
    return rc;
}

int ingest_record_decode(ingest_req_t *req, const char **tenant, const uint8_t *rec,
                         size_t len, err_t *err)
{
    memset(req, 0, sizeof(*req));
    size_t pos = 1;
    if (len < 1 || rec[0] != 1)
        return err_set(err, EMB_ECORRUPT, "ingest record: unknown version");
    const char *strs[6];
    for (size_t i = 0; i < 6; i++) {
        const uint8_t *z = pos < len ? memchr(rec + pos, 0, len - pos) : NULL;
        if (!z)
            return err_set(err, EMB_ECORRUPT, "ingest record: truncated string %zu", i);
        strs[i] = rec[pos] == 1 ? NULL : (const char *)rec + pos;
        pos = (size_t)(z - rec) + 1;
    }
    if (len - pos < 24)
        return err_set(err, EMB_ECORRUPT, "ingest record: truncated header");
    uint64_t v[3] = {0, 0, 0};
    for (int k = 0; k < 3; k++)
        for (int i = 0; i < 8; i++)
            v[k] |= (uint64_t)rec[pos + (size_t)(8 * k + i)] << (8 * i);
    pos += 24;
    if (v[2] != len - pos)
        return err_set(err, EMB_ECORRUPT, "ingest record: body length mismatch");
    *tenant = strs[0];
    req->name = strs[1];
    req->format = strs[2];
    req->sample_rate = strs[3];
    req->spy_name = strs[4];
    req->content_type = strs[5];
    req->from_ns = (int64_t)v[0];
    req->until_ns = (int64_t)v[1];
    req->body = rec + pos;
    req->body_len = (size_t)v[2];
    if (!*tenant)
        return err_set(err, EMB_ECORRUPT, "ingest record: no tenant");
    return 0;
}
