/* format=jfr ingest (PROTOCOLS.md §1.6): the request body — raw JFR, or the multipart form
 * pyroscope-java sends (a `jfr` part and an optional `labels` part, each gzipped or not) —
 * goes through jfr_parse (jfr.c), and its samples become profiles of the batch: one per
 * (sample type × label set), with the profile types grafana/jfr-parser gives each event kind.
 *
 * Labels: the `labels` part is a LabelsSnapshot protobuf (contexts [1] map<int64, Context>,
 * strings [2] map<int64, string>; Context.labels [1] map<int64, int64> of string ids). A
 * sample's contextId picks a context whose pairs become series labels, as pprof sample labels
 * do (request labels win), so samples with different label sets land in different series.
 * Invariant: output depends only on the request bytes and parameters (WAL replay).
 */
#include "ingest/ingest_int.h"

#include <stdlib.h>
#include <string.h>

#include "base/gz.h"
#include "base/hash.h"
#include "base/mem.h"
#include "base/slice.h"
#include "ingest/jfr.h"
#include "ingest/multipart.h"
#include "model/ptype.h"

/* Stacks deeper than this keep their leaf-most frames (Pyroscope's validation, 1000). */
#define JFR_MAX_DEPTH 1000

/* Output slots: what a sample is counted as. JFR_EXEC samples count as CPU (unless the
 * thread slept) and, in async-profiler's wall mode, as wall too. */
enum { SLOT_CPU = JFR_EXEC };

typedef struct jtype {
    uint8_t slot;  /* jfr_kind_t, JFR_EXEC meaning CPU */
    uint8_t value; /* 1: v1, 2: v2 */
    bool per_period;
    ptype_t type;
} jtype_t;

/* grafana/jfr-parser's profile types, one row per sample type (pprof/pprof.go). */
static const jtype_t TYPES[] = {
    {SLOT_CPU, 1, true, {"process_cpu", "cpu", "nanoseconds", "cpu", "nanoseconds"}},
    {JFR_WALL, 1, true, {"wall", "wall", "nanoseconds", "wall", "nanoseconds"}},
    {JFR_ALLOC_TLAB, 1, false, {"memory", "alloc_in_new_tlab_objects", "count", "space", "bytes"}},
    {JFR_ALLOC_TLAB, 2, false, {"memory", "alloc_in_new_tlab_bytes", "bytes", "space", "bytes"}},
    {JFR_ALLOC_OUTSIDE, 1, false,
     {"memory", "alloc_outside_tlab_objects", "count", "space", "bytes"}},
    {JFR_ALLOC_OUTSIDE, 2, false,
     {"memory", "alloc_outside_tlab_bytes", "bytes", "space", "bytes"}},
    {JFR_ALLOC_SAMPLE, 1, false, {"memory", "alloc_sample_objects", "count", "space", "bytes"}},
    {JFR_ALLOC_SAMPLE, 2, false, {"memory", "alloc_sample_bytes", "bytes", "space", "bytes"}},
    {JFR_LOCK, 1, false, {"mutex", "contentions", "count", "mutex", "count"}},
    {JFR_LOCK, 2, false, {"mutex", "delay", "nanoseconds", "mutex", "count"}},
    {JFR_PARK, 1, false, {"block", "contentions", "count", "block", "count"}},
    {JFR_PARK, 2, false, {"block", "delay", "nanoseconds", "block", "count"}},
    {JFR_LIVE, 1, false, {"memory", "live", "count", "objects", "count"}},
    {JFR_MALLOC, 1, false, {"memory", "malloc_objects", "count", "", ""}},
    {JFR_MALLOC, 2, false, {"memory", "malloc_bytes", "bytes", "", ""}},
};
#define NTYPES (sizeof(TYPES) / sizeof(TYPES[0]))

/* ---- LabelsSnapshot (protobuf) ---- */

typedef struct kv {
    int64_t id;
    uint32_t seq;   /* wire order: the last of equal ids wins, as in protobuf maps */
    uint32_t a, b;  /* contexts: pair range [a, b); strings: slice index a */
} kv_t;

typedef struct lsnap {
    kv_t *ctx;
    size_t nctx, capctx;
    int64_t *pairs; /* key id, value id, ... */
    size_t npairs, cappairs;
    kv_t *str;
    size_t nstr, capstr;
    slice_t *strs;
    size_t capstrs;
} lsnap_t;

static bool pb_varint(const uint8_t **p, const uint8_t *end, uint64_t *out)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 64 && *p < end; shift += 7) {
        uint8_t b = *(*p)++;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *out = v;
            return true;
        }
    }
    return false;
}

/* Next field of the message [*p, end): number, wire type, varint value or LEN payload. */
static bool pb_field(const uint8_t **p, const uint8_t *end, uint32_t *num, uint64_t *v,
                     slice_t *payload)
{
    uint64_t tag;
    if (!pb_varint(p, end, &tag) || tag >> 3 == 0 || tag >> 3 > UINT32_MAX)
        return false;
    *num = (uint32_t)(tag >> 3);
    switch (tag & 7) {
    case 0:
        return pb_varint(p, end, v);
    case 1:
    case 5: {
        size_t n = (tag & 7) == 1 ? 8 : 4;
        if ((size_t)(end - *p) < n)
            return false;
        *p += n;
        *num = 0; /* fixed-width fields are not ours: skipped */
        return true;
    }
    case 2:
        if (!pb_varint(p, end, v) || *v > (uint64_t)(end - *p))
            return false;
        *payload = slice_make(*p, (size_t)*v);
        *p += *v;
        *v = UINT64_MAX; /* marks a LEN field */
        return true;
    default:
        return false;
    }
}

/* A map entry {1: int64 key, 2: value}: key, and the value as varint or LEN payload. */
static bool pb_entry(slice_t e, int64_t *key, uint64_t *ival, slice_t *sval)
{
    const uint8_t *p = e.p, *end = e.p + e.len;
    *key = 0;
    *ival = 0;
    *sval = slice_make("", 0);
    while (p < end) {
        uint32_t num;
        uint64_t v = 0;
        slice_t pl = {NULL, 0};
        if (!pb_field(&p, end, &num, &v, &pl))
            return false;
        if (num == 1 && v != UINT64_MAX)
            *key = (int64_t)v;
        else if (num == 2 && v == UINT64_MAX)
            *sval = pl;
        else if (num == 2)
            *ival = v;
    }
    return true;
}

static int cmp_kv(const void *x, const void *y)
{
    const kv_t *a = x, *b = y;
    if (a->id != b->id)
        return a->id < b->id ? -1 : 1;
    return (a->seq > b->seq) - (a->seq < b->seq);
}

static void lsnap_release(lsnap_t *s)
{
    free(s->ctx);
    free(s->pairs);
    free(s->str);
    free(s->strs);
    memset(s, 0, sizeof(*s));
}

static int lsnap_parse(lsnap_t *s, slice_t in, err_t *err)
{
    const uint8_t *p = in.p, *end = in.p + in.len;
    uint32_t seq = 0;
    while (p < end) {
        uint32_t num;
        uint64_t v = 0;
        slice_t entry = {NULL, 0};
        int64_t key;
        uint64_t ival;
        slice_t sval;
        if (!pb_field(&p, end, &num, &v, &entry) ||
            (v == UINT64_MAX && (num == 1 || num == 2) && !pb_entry(entry, &key, &ival, &sval)))
            return err_set(err, EMB_ECORRUPT, "labels: malformed LabelsSnapshot at byte %zu",
                           (size_t)(p - in.p));
        if (v != UINT64_MAX || (num != 1 && num != 2))
            continue;
        if (num == 2) {
            xgrow(&s->str, &s->capstr, s->nstr + 1, sizeof(*s->str));
            xgrow(&s->strs, &s->capstrs, s->nstr + 1, sizeof(*s->strs));
            s->strs[s->nstr] = sval;
            s->str[s->nstr] = (kv_t){key, seq++, (uint32_t)s->nstr, 0};
            s->nstr++;
            continue;
        }
        /* a Context: repeated LabelsEntry {1: key string id, 2: value string id} */
        size_t first = s->npairs;
        const uint8_t *q = sval.p, *qend = sval.p + sval.len;
        while (q < qend) {
            uint32_t cn;
            uint64_t cv = 0;
            slice_t le = {NULL, 0};
            int64_t lk;
            uint64_t lv;
            slice_t unused;
            if (!pb_field(&q, qend, &cn, &cv, &le) ||
                (cn == 1 && cv == UINT64_MAX && !pb_entry(le, &lk, &lv, &unused)))
                return err_set(err, EMB_ECORRUPT, "labels: malformed Context %lld",
                               (long long)key);
            if (cn != 1 || cv != UINT64_MAX)
                continue;
            xgrow(&s->pairs, &s->cappairs, s->npairs + 2, sizeof(*s->pairs));
            s->pairs[s->npairs++] = lk;
            s->pairs[s->npairs++] = (int64_t)lv;
        }
        if (s->npairs > UINT32_MAX)
            return err_set(err, EMB_ECORRUPT, "labels: too many labels");
        xgrow(&s->ctx, &s->capctx, s->nctx + 1, sizeof(*s->ctx));
        s->ctx[s->nctx++] = (kv_t){key, seq++, (uint32_t)first, (uint32_t)s->npairs};
    }
    if (s->nctx)
        qsort(s->ctx, s->nctx, sizeof(*s->ctx), cmp_kv);
    if (s->nstr)
        qsort(s->str, s->nstr, sizeof(*s->str), cmp_kv);
    return 0;
}

/* The last entry with id (maps keep the last duplicate), or NULL. */
static const kv_t *kv_find(const kv_t *v, size_t n, int64_t id)
{
    size_t lo = 0, hi = n;
    while (lo < hi) { /* first index with v[i].id > id */
        size_t mid = lo + (hi - lo) / 2;
        if (v[mid].id <= id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo > 0 && v[lo - 1].id == id ? &v[lo - 1] : NULL;
}

static bool lsnap_str(const lsnap_t *s, int64_t id, slice_t *out)
{
    const kv_t *e = kv_find(s->str, s->nstr, id);
    if (e)
        *out = s->strs[e->a];
    return e && out->len > 0;
}

/* ---- samples → profiles ---- */

typedef struct entry {
    uint32_t group, stack;
    uint8_t slot;
    uint64_t span;
    int64_t v1, v2;
} entry_t;

static int cmp_entry(const void *x, const void *y)
{
    const entry_t *a = x, *b = y;
    if (a->group != b->group)
        return a->group < b->group ? -1 : 1;
    if (a->slot != b->slot)
        return a->slot < b->slot ? -1 : 1;
    if (a->stack != b->stack)
        return a->stack < b->stack ? -1 : 1;
    return (a->span > b->span) - (a->span < b->span);
}

typedef struct groups {
    labels_t *sets;  /* sets[g]: a context's series labels; sets[0] is the empty set */
    size_t n, cap;
    strtab_t keys;   /* canonical key of each set → group id (key "" is group 0) */
    hmap_t by_ctx;   /* contextId → memo slot */
    int64_t *memo_ctx;
    uint32_t *memo_group;
    size_t nmemo, capmemo;
} groups_t;

static void groups_init(groups_t *g)
{
    memset(g, 0, sizeof(*g));
    strtab_init(&g->keys);
    xgrow(&g->sets, &g->cap, 1, sizeof(*g->sets));
    labels_init(&g->sets[0]);
    g->n = 1;
}

static void groups_release(groups_t *g)
{
    for (size_t i = 0; i < g->n; i++)
        labels_release(&g->sets[i]);
    free(g->sets);
    strtab_release(&g->keys);
    hmap_release(&g->by_ctx);
    free(g->memo_ctx);
    free(g->memo_group);
    memset(g, 0, sizeof(*g));
}

static bool series_label(slice_t k)
{
    return !(slice_eq_cstr(k, "trace_id") || slice_eq_cstr(k, "span_id") ||
             slice_eq_cstr(k, "profile_id"));
}

/* Group of the label set of context ctx: 0 for none, unknown contexts and empty sets.
 * Contexts with equal label sets share a group. */
static uint32_t group_of(groups_t *g, const lsnap_t *ls, int64_t ctx, buf_t *key)
{
    if (ctx == 0 || ls->nctx == 0)
        return 0;
    size_t pos = 0;
    int started = 0;
    uint32_t e;
    while ((e = hmap_probe(&g->by_ctx, (uint64_t)ctx, &pos, &started)) != HMAP_EMPTY)
        if (g->memo_ctx[e] == ctx)
            return g->memo_group[e];
    labels_t l = LABELS_INIT;
    const kv_t *c = kv_find(ls->ctx, ls->nctx, ctx);
    for (uint32_t i = c ? c->a : 0; c && i + 1 < c->b; i += 2) {
        slice_t k, v;
        if (lsnap_str(ls, ls->pairs[i], &k) && lsnap_str(ls, ls->pairs[i + 1], &v) &&
            series_label(k))
            labels_set(&l, (const char *)k.p, k.len, (const char *)v.p, v.len);
    }
    labels_sort(&l);
    buf_reset(key);
    uint32_t id = 0;
    if (l.n && labels_key(key, &l) == 0)
        id = strtab_intern(&g->keys, key->data, key->len);
    if (id == g->n) {
        xgrow(&g->sets, &g->cap, g->n + 1, sizeof(*g->sets));
        g->sets[g->n++] = l;
    } else {
        labels_release(&l);
    }
    xgrow(&g->memo_ctx, &g->capmemo, g->nmemo + 1, sizeof(*g->memo_ctx));
    g->memo_group = xrealloc(g->memo_group, g->capmemo * sizeof(*g->memo_group));
    g->memo_ctx[g->nmemo] = ctx;
    g->memo_group[g->nmemo] = id;
    hmap_put(&g->by_ctx, (uint64_t)ctx, (uint32_t)g->nmemo++);
    return id;
}

static int64_t sat_add(int64_t a, int64_t b)
{
    int64_t r;
    return __builtin_add_overflow(a, b, &r) ? (a > 0 ? INT64_MAX : INT64_MIN) : r;
}

static int64_t sat_mul(int64_t a, int64_t b)
{
    int64_t r;
    return __builtin_mul_overflow(a, b, &r) ? ((a > 0) == (b > 0) ? INT64_MAX : INT64_MIN) : r;
}

/* A multipart part's bytes: gunzipped (output capped at max_profile_size) when it starts
 * with the gzip magic. Pyroscope refuses parts shorter than the magic. OUT: *out, which may
 * point into tmp. */
static int part_bytes(buf_t *tmp, slice_t in, const ingest_limits_t *lim, const char *what,
                      slice_t *out, err_t *err)
{
    if (in.len < 2)
        return err_set(err, EMB_ECORRUPT, "%s: part of %zu bytes, too short", what, in.len);
    *out = in;
    if (!gz_is_gzip(in.p, in.len))
        return 0;
    int rc = gz_decompress(tmp, in.p, in.len, lim->max_profile_size, err);
    if (rc == EMB_ETOOBIG)
        return err_set(err, EMB_ETOOBIG, "%s: decompressed size exceeds "
                       "max_profile_size_bytes (%zu)", what, lim->max_profile_size);
    if (rc)
        return err_prefix(err, "%s", what);
    *out = slice_make(tmp->data ? tmp->data : "", tmp->len);
    return 0;
}

/* Batch node of jfr stack st (memoised in node_of; frame names via str_of). */
static uint32_t stack_node(batch_t *b, const jfr_t *j, uint32_t st, uint32_t *node_of,
                           uint32_t *str_of)
{
    if (node_of[st] != UINT32_MAX)
        return node_of[st];
    uint32_t n;
    const uint32_t *fr = jfr_stack(j, st, &n);
    uint32_t skip = n > JFR_MAX_DEPTH ? n - JFR_MAX_DEPTH : 0;
    node_id_t node = 0;
    for (uint32_t i = skip; i < n; i++) {
        uint32_t s = fr[i];
        if (str_of[s] == UINT32_MAX)
            str_of[s] = strtab_intern(&b->strs, strtab_get(&j->strs, s), strtab_len(&j->strs, s));
        node = stacktree_child(&b->tree, node, str_of[s]);
    }
    node_of[st] = node;
    return node;
}

/* Adds profile t of group grp (labels: the group's, then the request's, then the type's). */
static int add_profile(batch_t *out, size_t *idx, const groups_t *g, uint32_t grp,
                       const labels_t *base, const jtype_t *t, const ingest_req_t *req,
                       const ingest_limits_t *lim, err_t *err)
{
    labels_t l = LABELS_INIT;
    labels_copy(&l, &g->sets[grp]);
    for (size_t i = 0; i < base->n; i++) /* series labels win over context labels */
        labels_set_cstr(&l, base->v[i].name, base->v[i].value);
    int rc = ingest__check_labels(&l, lim, err);
    if (rc == 0) {
        ptype_set_labels(&l, &t->type);
        *idx = out->nprofs;
        batch_add_profile(out, &l, req->from_ns, req->until_ns - req->from_ns);
    }
    labels_release(&l);
    return rc;
}

int jfr_ingest(batch_t *out, const ingest_req_t *req, const char *app, const labels_t *tags,
               const ingest_limits_t *lim, err_t *err)
{
    int rc = 0;
    buf_t jbuf = BUF_INIT, lbuf = BUF_INIT, key = BUF_INIT;
    jfr_t j;
    lsnap_t ls;
    groups_t g;
    labels_t base = LABELS_INIT;
    entry_t *ents = NULL;
    uint32_t *node_of = NULL, *str_of = NULL;
    memset(&j, 0, sizeof(j));
    memset(&ls, 0, sizeof(ls));
    groups_init(&g);
    slice_t body = slice_make(req->body ? req->body : (const uint8_t *)"", req->body_len);
    slice_t lpart = {NULL, 0};

    if (req->content_type && strcasestr(req->content_type, "multipart/form-data")) {
        mpart_t parts[MULTIPART_MAX_PARTS];
        size_t np;
        slice_t boundary;
        if ((rc = multipart_boundary(&boundary, req->content_type, err)) ||
            (rc = multipart_parse(parts, &np, boundary, body.p, body.len, err)))
            goto out;
        const mpart_t *jp = multipart_file(parts, np, "jfr");
        if (!jp) {
            rc = err_set(err, EMB_ECORRUPT, "jfr field is required");
            goto out;
        }
        if ((rc = part_bytes(&jbuf, jp->data, lim, "jfr", &body, err)))
            goto out;
        const mpart_t *lp = multipart_file(parts, np, "labels");
        if (lp && lp->data.len && (rc = part_bytes(&lbuf, lp->data, lim, "labels", &lpart, err)))
            goto out;
    } else if (gz_is_gzip(body.p, body.len)) {
        /* not in Pyroscope (its raw JFR is never gunzipped), but unambiguous: "FLR" != 1f 8b */
        if ((rc = part_bytes(&jbuf, body, lim, "jfr", &body, err)))
            goto out;
    }
    if (lpart.len && (rc = lsnap_parse(&ls, lpart, err)))
        goto out;
    ingest__base_labels(&base, tags, app, strlen(app), req->spy_name, true);
    if ((rc = ingest__check_labels(&base, lim, err)))
        goto out;
    if ((rc = jfr_parse(&j, body.p, body.len, err)))
        goto out;
    if (j.event && *j.event)
        labels_set_cstr(&base, "jfr_event", j.event);
    bool wall_mode = j.event && !strcmp(j.event, "wall");

    /* one entry per (sample, slot), sorted and merged by (group, slot, stack, span) */
    ents = xmalloc((2 * j.nsamples + 1) * sizeof(*ents));
    size_t ne = 0;
    for (size_t i = 0; i < j.nsamples; i++) {
        const jfr_sample_t *s = &j.samples[i];
        entry_t e = {group_of(&g, &ls, s->context, &key), s->stack, s->kind, s->span, s->v1,
                     s->v2};
        if (s->kind != JFR_EXEC) {
            ents[ne++] = e;
            continue;
        }
        if (!s->sleeping)
            ents[ne++] = e;
        if (wall_mode) {
            e.slot = JFR_WALL;
            ents[ne++] = e;
        }
    }
    if (ne > 1)
        qsort(ents, ne, sizeof(*ents), cmp_entry);
    size_t nm = 0;
    for (size_t i = 0; i < ne; i++) {
        if (nm && cmp_entry(&ents[nm - 1], &ents[i]) == 0) {
            ents[nm - 1].v1 = sat_add(ents[nm - 1].v1, ents[i].v1);
            ents[nm - 1].v2 = sat_add(ents[nm - 1].v2, ents[i].v2);
        } else {
            ents[nm++] = ents[i];
        }
    }

    int64_t rate = ingest__parse_rate(req->sample_rate);
    int64_t period = rate > 0 ? 1000000000LL / rate : 0;
    node_of = xmalloc((j.nstacks + 1) * sizeof(*node_of));
    memset(node_of, 0xff, (j.nstacks + 1) * sizeof(*node_of));
    str_of = xmalloc((j.strs.n + 1) * sizeof(*str_of));
    memset(str_of, 0xff, (j.strs.n + 1) * sizeof(*str_of));
    size_t prof[NTYPES];
    for (size_t i = 0; i < nm; i++) {
        const entry_t *e = &ents[i];
        if (i == 0 || e->group != ents[i - 1].group || e->slot != ents[i - 1].slot)
            for (size_t t = 0; t < NTYPES; t++)
                prof[t] = SIZE_MAX; /* profiles are made on their first non-zero sample */
        uint32_t node = stack_node(out, &j, e->stack, node_of, str_of);
        for (size_t t = 0; t < NTYPES; t++) {
            const jtype_t *ty = &TYPES[t];
            if (ty->slot != e->slot)
                continue;
            int64_t v = ty->value == 1 ? e->v1 : e->v2;
            if (ty->per_period)
                v = sat_mul(v, period);
            if (v == 0)
                continue;
            if (prof[t] == SIZE_MAX &&
                (rc = add_profile(out, &prof[t], &g, e->group, &base, ty, req, lim, err)))
                goto out;
            batch_profile_t *p = &out->profs[prof[t]];
            batch_add_sample(out, p, node, v);
            if (e->span)
                batch_add_span(p, e->span, node, v);
        }
    }
out:
    jfr_release(&j);
    lsnap_release(&ls);
    groups_release(&g);
    labels_release(&base);
    buf_release(&jbuf);
    buf_release(&lbuf);
    buf_release(&key);
    free(ents);
    free(node_of);
    free(str_of);
    return rc;
}
