/* OTLP profiles over HTTP: the conversion (otlp.h) and the handler for POST
 * /v1development/profiles and /opentelemetry.proto.collector.profiles.v1development.
 * ProfilesService/Export (protobuf or JSON, gzip optional; errors are plain text as in
 * Pyroscope: 400 for bad data, 413 too large, 415 wrong type, 429 limits). */
#include "api/otlp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_int.h"
#include "api/pbschema.h"
#include "base/buf.h"
#include "base/clock.h"
#include "base/mem.h"
#include "model/strtab.h"

#define SERVICE_NAME_KEY "service.name"

/* Field numbers (proto/opentelemetry/...). */
enum { RQ_RESOURCE_PROFILES = 1, RQ_DICTIONARY = 2 };
enum { D_MAPPING = 1, D_LOCATION, D_FUNCTION, D_LINK, D_STRING, D_ATTRIBUTE, D_STACK };
enum { P_SAMPLE_TYPE = 1, P_SAMPLES, P_TIME, P_DURATION, P_PERIOD_TYPE, P_PERIOD };
enum { S_STACK = 1, S_ATTRS, S_LINK, S_VALUES, S_TIMESTAMPS };

typedef struct conv {
    const pb_obj_t *dict;
    bool json;
    err_t *err;
} conv_t;

/* String table entry idx, or NULL (err set) when out of range. */
static const char *dstr(const conv_t *c, int64_t idx, const char *what)
{
    if (idx < 0 || (size_t)idx >= pb_count(c->dict, (unsigned)D_STRING)) {
        err_set(c->err, EMB_EINVAL, "%s: string index %lld out of range", what, (long long)idx);
        return NULL;
    }
    return pb_get_str_at(c->dict, (unsigned)D_STRING, (size_t)idx);
}

/* A table entry (message) idx of dictionary field f, or NULL (err set). */
static const pb_obj_t *dentry(const conv_t *c, unsigned f, int64_t idx, const char *what)
{
    if (idx < 0 || (size_t)idx >= pb_count(c->dict, f)) {
        err_set(c->err, EMB_EINVAL, "%s index %lld out of range", what, (long long)idx);
        return NULL;
    }
    return pb_get_msg_at(c->dict, f, (size_t)idx);
}

/* An attribute value as label text: strings, integers, or a one-element array of those
 * (Pyroscope's rule). false for anything else. */
static bool any_text(const pb_obj_t *v, buf_t *out)
{
    buf_reset(out);
    if (!v)
        return false;
    if (pb_has(v, 1u))
        return buf_append(out, pb_get_str(v, 1u), strlen(pb_get_str(v, 1u))) == 0;
    if (pb_has(v, 3u))
        return buf_printf(out, "%lld", (long long)pb_get_i64(v, 3u)) == 0;
    const pb_obj_t *arr = pb_get_msg(v, 5u);
    if (arr && pb_count(arr, 1u) == 1) {
        const pb_obj_t *e = pb_get_msg_at(arr, 1u, 0);
        if (e && pb_has(e, 1u))
            return buf_append(out, pb_get_str(e, 1u), strlen(pb_get_str(e, 1u))) == 0;
        if (e && pb_has(e, 3u))
            return buf_printf(out, "%lld", (long long)pb_get_i64(e, 3u)) == 0;
    }
    return false;
}

/* Adds KeyValue attributes (repeated field f of o) to l, keeping labels already there. */
static void add_attrs(labels_t *l, const pb_obj_t *o, unsigned f, buf_t *tmp)
{
    for (size_t i = 0; o && i < pb_count(o, f); i++) {
        const pb_obj_t *kv = pb_get_msg_at(o, f, i);
        const char *k = pb_get_str(kv, 1u);
        if (*k && !labels_get(l, k) && any_text(pb_get_msg(kv, 2u), tmp) && tmp->len)
            labels_set(l, k, strlen(k), tmp->data, tmp->len);
    }
}

/* A trace or span id as lowercase hex. JSON carries them as hex text, which the codec took
 * for base64: encode those bytes back to recover the text. */
static bool id_hex(const conv_t *c, const uint8_t *p, size_t n, size_t want, char *out)
{
    static const char hx[] = "0123456789abcdef";
    if (n == want) {
        for (size_t i = 0; i < n; i++) {
            out[2 * i] = hx[p[i] >> 4];
            out[2 * i + 1] = hx[p[i] & 15];
        }
        out[2 * n] = 0;
        return true;
    }
    if (!c->json || n * 4 != want * 2 * 3)
        return false;
    static const char b64[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t k = 0;
    for (size_t i = 0; i + 2 < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        for (int s = 18; s >= 0; s -= 6)
            out[k++] = b64[(v >> s) & 63];
    }
    out[k] = 0;
    for (size_t i = 0; i < k; i++)
        if (!strchr(hx, out[i]))
            return false;
    return k == 2 * want;
}

/* One pprof being built for a (profile, service). Ids: dictionary index + 1. */
typedef struct builder {
    pb_obj_t *prof;
    strtab_t strs;
    uint8_t *loc_done, *fn_done, *map_done;
} builder_t;

static int64_t bstr(builder_t *b, const char *s)
{
    return strtab_intern(&b->strs, s, strlen(s));
}

static void builder_init(builder_t *b, const conv_t *c)
{
    b->prof = pb_new(&pbs_google_profile);
    strtab_init(&b->strs);
    bstr(b, "");
    b->loc_done = xcalloc(pb_count(c->dict, (unsigned)D_LOCATION) + 1, 1);
    b->fn_done = xcalloc(pb_count(c->dict, (unsigned)D_FUNCTION) + 1, 1);
    b->map_done = xcalloc(pb_count(c->dict, (unsigned)D_MAPPING) + 1, 1);
}

static void builder_release(builder_t *b)
{
    pb_free(b->prof);
    strtab_release(&b->strs);
    free(b->loc_done);
    free(b->fn_done);
    free(b->map_done);
}

static int add_function(builder_t *b, const conv_t *c, int64_t idx)
{
    const pb_obj_t *f = dentry(c, (unsigned)D_FUNCTION, idx, "function");
    if (!f)
        return EMB_EINVAL;
    if (b->fn_done[idx])
        return 0;
    const char *name = dstr(c, pb_get_i64(f, 1u), "function name");
    const char *sys = name ? dstr(c, pb_get_i64(f, 2u), "function system name") : NULL;
    const char *file = sys ? dstr(c, pb_get_i64(f, 3u), "function file name") : NULL;
    if (!file)
        return EMB_EINVAL;
    pb_obj_t *g = pb_add_msg(b->prof, 5u);
    pb_set_u64(g, 1u, (uint64_t)idx + 1);
    pb_set_i64(g, 2u, bstr(b, name));
    pb_set_i64(g, 3u, bstr(b, sys));
    pb_set_i64(g, 4u, bstr(b, file));
    pb_set_i64(g, 5u, pb_get_i64(f, 4u));
    b->fn_done[idx] = 1;
    return 0;
}

static int add_location(builder_t *b, const conv_t *c, int64_t idx)
{
    const pb_obj_t *l = dentry(c, (unsigned)D_LOCATION, idx, "location");
    if (!l)
        return EMB_EINVAL;
    if (b->loc_done[idx])
        return 0;
    int64_t mi = pb_get_i64(l, 1u);
    const pb_obj_t *m = NULL; /* no mapping table at all: no mapping */
    if ((pb_count(c->dict, (unsigned)D_MAPPING) || mi != 0) &&
        !(m = dentry(c, (unsigned)D_MAPPING, mi, "mapping")))
        return EMB_EINVAL;
    if (m && !b->map_done[mi]) {
        const char *fn = dstr(c, pb_get_i64(m, 4u), "mapping file name");
        if (!fn)
            return EMB_EINVAL;
        pb_obj_t *g = pb_add_msg(b->prof, 3u);
        pb_set_u64(g, 1u, (uint64_t)mi + 1);
        pb_set_u64(g, 2u, pb_get_u64(m, 1u));
        pb_set_u64(g, 3u, pb_get_u64(m, 2u));
        pb_set_u64(g, 4u, pb_get_u64(m, 3u));
        pb_set_i64(g, 5u, bstr(b, fn));
        b->map_done[mi] = 1;
    }
    for (size_t i = 0; i < pb_count(l, 3u); i++)
        if (add_function(b, c, pb_get_i64(pb_get_msg_at(l, 3u, i), 1u)))
            return EMB_EINVAL;
    pb_obj_t *g = pb_add_msg(b->prof, 4u);
    pb_set_u64(g, 1u, (uint64_t)idx + 1);
    if (m)
        pb_set_u64(g, 2u, (uint64_t)mi + 1);
    pb_set_u64(g, 3u, pb_get_u64(l, 2u));
    for (size_t i = 0; i < pb_count(l, 3u); i++) {
        const pb_obj_t *ln = pb_get_msg_at(l, 3u, i);
        pb_obj_t *gl = pb_add_msg(g, 4u);
        pb_set_u64(gl, 1u, (uint64_t)pb_get_i64(ln, 1u) + 1);
        pb_set_i64(gl, 2u, pb_get_i64(ln, 2u));
    }
    b->loc_done[idx] = 1;
    return 0;
}

enum { CONV_NONE, CONV_TO_NANOS, CONV_SUM };

/* Adds sample s (values already checked) to b. */
static int add_sample(builder_t *b, const conv_t *c, const pb_obj_t *s, int conv, int64_t period,
                      buf_t *tmp)
{
    const pb_obj_t *st = dentry(c, (unsigned)D_STACK, pb_get_i64(s, (unsigned)S_STACK), "stack");
    if (!st)
        return EMB_EINVAL;
    for (size_t i = 0; i < pb_count(st, 1u); i++)
        if (add_location(b, c, pb_get_i64_at(st, 1u, i)))
            return EMB_EINVAL;
    pb_obj_t *g = pb_add_msg(b->prof, 2u);
    for (size_t i = 0; i < pb_count(st, 1u); i++)
        pb_add_u64(g, 1u, (uint64_t)pb_get_i64_at(st, 1u, i) + 1);
    size_t nv = pb_count(s, (unsigned)S_VALUES);
    int64_t v = 0;
    if (nv == 0)
        v = (int64_t)pb_count(s, (unsigned)S_TIMESTAMPS); /* one per timestamp */
    for (size_t i = 0; i < nv; i++)
        v += pb_get_i64_at(s, (unsigned)S_VALUES, i);
    if (conv == CONV_TO_NANOS)
        v *= period;
    pb_add_i64(g, 2u, v);
    for (size_t i = 0; i < pb_count(s, (unsigned)S_ATTRS); i++) {
        const pb_obj_t *kv = dentry(c, (unsigned)D_ATTRIBUTE,
                                    pb_get_i64_at(s, (unsigned)S_ATTRS, i), "attribute");
        const char *k = kv ? dstr(c, pb_get_i64(kv, 1u), "attribute key") : NULL;
        if (!k)
            return EMB_EINVAL;
        if (!strcmp(k, SERVICE_NAME_KEY) || !any_text(pb_get_msg(kv, 2u), tmp) || !tmp->len)
            continue;
        pb_obj_t *lb = pb_add_msg(g, 3u);
        pb_set_i64(lb, 1u, bstr(b, k));
        pb_set_i64(lb, 2u, strtab_intern(&b->strs, tmp->data, tmp->len));
    }
    int64_t li = pb_get_i64(s, (unsigned)S_LINK);
    if (li != 0) {
        const pb_obj_t *link = dentry(c, (unsigned)D_LINK, li, "link");
        if (!link)
            return EMB_EINVAL;
        size_t n;
        const char *id = pb_get_bytes(link, 2u, &n);
        char hx[40];
        if (id_hex(c, (const uint8_t *)id, n, 8, hx)) {
            pb_obj_t *lb = pb_add_msg(g, 3u);
            pb_set_i64(lb, 1u, bstr(b, "span_id"));
            pb_set_i64(lb, 2u, bstr(b, hx));
        }
        id = pb_get_bytes(link, 1u, &n);
        if (id_hex(c, (const uint8_t *)id, n, 16, hx)) {
            pb_obj_t *lb = pb_add_msg(g, 3u);
            pb_set_i64(lb, 1u, bstr(b, "trace_id"));
            pb_set_i64(lb, 2u, bstr(b, hx));
        }
    }
    return 0;
}

/* The service a sample belongs to (its service.name attribute, "" if none). */
static const char *sample_service(const conv_t *c, const pb_obj_t *s)
{
    for (size_t i = 0; i < pb_count(s, (unsigned)S_ATTRS); i++) {
        int64_t ai = pb_get_i64_at(s, (unsigned)S_ATTRS, i);
        if (ai < 0 || (size_t)ai >= pb_count(c->dict, (unsigned)D_ATTRIBUTE))
            continue;
        const pb_obj_t *kv = pb_get_msg_at(c->dict, (unsigned)D_ATTRIBUTE, (size_t)ai);
        int64_t k = pb_get_i64(kv, 1u);
        if (k >= 0 && (size_t)k < pb_count(c->dict, (unsigned)D_STRING) &&
            !strcmp(pb_get_str_at(c->dict, (unsigned)D_STRING, (size_t)k), SERVICE_NAME_KEY)) {
            const pb_obj_t *v = pb_get_msg(kv, 2u);
            if (v && pb_has(v, 1u))
                return pb_get_str(v, 1u);
        }
    }
    return "";
}

/* Converts one profile; base holds the resource and scope attributes. */
static int convert_profile(const conv_t *c, const pb_obj_t *p, const labels_t *base,
                           int64_t now_ns, otlp_emit_fn emit, void *arg, size_t pi)
{
    err_t *err = c->err;
    const pb_obj_t *st = pb_get_msg(p, (unsigned)P_SAMPLE_TYPE);
    if (!st)
        return err_set(err, EMB_EINVAL, "profile %zu: sample type is missing", pi);
    const char *ty = dstr(c, pb_get_i64(st, 1u), "sample type");
    const char *un = ty ? dstr(c, pb_get_i64(st, 2u), "sample unit") : NULL;
    if (!un)
        return err->code;
    int64_t period = pb_get_i64(p, (unsigned)P_PERIOD);
    const pb_obj_t *pt = pb_get_msg(p, (unsigned)P_PERIOD_TYPE);
    const char *pty = "", *pun = "";
    if (pt && period != 0) {
        pty = dstr(c, pb_get_i64(pt, 1u), "period type");
        pun = pty ? dstr(c, pb_get_i64(pt, 2u), "period unit") : NULL;
        if (!pun)
            return err->code;
    }
    /* Pyroscope's naming: CPU sample counts become nanoseconds, a sole off_cpu type keeps
     * its name, anything else is named after its period type */
    int conv = CONV_NONE;
    const char *name = pty, *out_ty = ty, *out_un = un;
    if (!strcmp(ty, "samples") && !strcmp(un, "count") && !strcmp(pty, "cpu") &&
        !strcmp(pun, "nanoseconds")) {
        conv = CONV_TO_NANOS;
        name = "process_cpu";
        out_ty = "cpu";
        out_un = "nanoseconds";
    } else if (!strcmp(ty, "off_cpu") && !strcmp(un, "nanoseconds") && !*pty) {
        conv = CONV_SUM;
        name = "off_cpu";
    }
    if (!*name)
        name = "process_cpu";
    int64_t t = (int64_t)pb_get_u64(p, (unsigned)P_TIME);
    int64_t d = (int64_t)pb_get_u64(p, (unsigned)P_DURATION);
    size_t ns = pb_count(p, (unsigned)P_SAMPLES);
    /* one pprof per distinct sample service.name, in order of first appearance */
    const char **svcs = xcalloc(ns + 1, sizeof(*svcs));
    size_t nsvc = 0;
    for (size_t i = 0; i < ns; i++) {
        const char *s = sample_service(c, pb_get_msg_at(p, (unsigned)P_SAMPLES, i));
        size_t k;
        for (k = 0; k < nsvc && strcmp(svcs[k], s); k++)
            ;
        if (k == nsvc)
            svcs[nsvc++] = s;
    }
    int rc = 0;
    buf_t tmp = BUF_INIT, pprof = BUF_INIT;
    for (size_t k = 0; rc == 0 && k < nsvc; k++) {
        builder_t b;
        builder_init(&b, c);
        pb_obj_t *vt = pb_add_msg(b.prof, 1u);
        pb_set_i64(vt, 1u, bstr(&b, out_ty));
        pb_set_i64(vt, 2u, bstr(&b, out_un));
        for (size_t i = 0; rc == 0 && i < ns; i++) {
            const pb_obj_t *s = pb_get_msg_at(p, (unsigned)P_SAMPLES, i);
            if (strcmp(sample_service(c, s), svcs[k]))
                continue;
            size_t nv = pb_count(s, (unsigned)S_VALUES);
            if (nv == 0 && pb_count(s, (unsigned)S_TIMESTAMPS) == 0)
                rc = err_set(err, EMB_EINVAL, "profile %zu sample %zu: no values", pi, i);
            else if (nv > 1 && conv != CONV_SUM)
                rc = err_set(err, EMB_EINVAL, "profile %zu sample %zu: %zu values for one "
                             "sample type", pi, i, nv);
            else if (add_sample(&b, c, s, conv, period, &tmp))
                rc = err_prefix(err, "profile %zu sample %zu", pi, i);
        }
        if (rc == 0) {
            if (*pty) {
                pb_obj_t *g = pb_set_msg(b.prof, 11u);
                pb_set_i64(g, 1u, bstr(&b, pty));
                pb_set_i64(g, 2u, bstr(&b, pun));
            }
            pb_set_i64(b.prof, 12u, period);
            pb_set_i64(b.prof, 9u, t ? t : now_ns);
            pb_set_i64(b.prof, 10u, d ? d : 10 * NS_PER_S);
            for (size_t i = 0; i < b.strs.n; i++)
                pb_add_strn(b.prof, 6u, strtab_get(&b.strs, (uint32_t)i),
                            strtab_len(&b.strs, (uint32_t)i));
            buf_reset(&pprof);
            if (pb_encode_binary(&pprof, b.prof))
                rc = err_set(err, EMB_ETOOBIG, "profile %zu: too large", pi);
        }
        if (rc == 0) {
            labels_t l = LABELS_INIT;
            labels_set_cstr(&l, "__name__", name);
            labels_set_cstr(&l, "__otel__", "true");
            const char *svc = *svcs[k] ? svcs[k] : labels_get(base, "service_name");
            labels_set_cstr(&l, "service_name", svc);
            for (size_t i = 0; i < base->n; i++)
                if (!labels_get(&l, base->v[i].name))
                    labels_set_cstr(&l, base->v[i].name, base->v[i].value);
            rc = emit(&l, (const uint8_t *)(pprof.data ? pprof.data : ""), pprof.len, arg);
            labels_release(&l);
        }
        builder_release(&b);
    }
    buf_release(&tmp);
    buf_release(&pprof);
    free(svcs);
    return rc;
}

int otlp_convert(const pb_obj_t *req, bool json, int64_t now_ns, otlp_emit_fn emit, void *arg,
                 err_t *err)
{
    conv_t c = {pb_get_msg(req, (unsigned)RQ_DICTIONARY), json, err};
    size_t nrp = pb_count(req, (unsigned)RQ_RESOURCE_PROFILES);
    if (nrp && !c.dict)
        return err_set(err, EMB_EINVAL, "the request has no dictionary");
    int rc = 0;
    size_t pi = 0;
    buf_t tmp = BUF_INIT;
    for (size_t r = 0; rc == 0 && r < nrp; r++) {
        const pb_obj_t *rp = pb_get_msg_at(req, (unsigned)RQ_RESOURCE_PROFILES, r);
        const pb_obj_t *res = pb_get_msg(rp, 1u);
        for (size_t s = 0; rc == 0 && s < pb_count(rp, 2u); s++) {
            const pb_obj_t *sp = pb_get_msg_at(rp, 2u, s);
            labels_t base = LABELS_INIT;
            add_attrs(&base, res, 1u, &tmp);
            add_attrs(&base, pb_get_msg(sp, 1u), 3u, &tmp);
            const char *svc = labels_get(&base, SERVICE_NAME_KEY);
            if (svc && *svc) {
                labels_set_cstr(&base, "service_name", svc);
            } else {
                const char *exe = labels_get(&base, "process.executable.name");
                buf_reset(&tmp);
                if (buf_printf(&tmp, "unknown_service%s%s", exe ? ":" : "", exe ? exe : "")) {
                    /* unbounded buffer */
                }
                labels_set_cstr(&base, "service_name", tmp.data);
            }
            for (size_t k = 0; rc == 0 && k < pb_count(sp, 2u); k++)
                rc = convert_profile(&c, pb_get_msg_at(sp, 2u, k), &base, now_ns, emit, arg,
                                     pi++);
            labels_release(&base);
        }
    }
    buf_release(&tmp);
    return rc;
}

/* ---- HTTP ---- */

/* The converted profiles of a request, stored together after the conversion succeeded. */
typedef struct collect {
    buf_t *names, *pprofs; /* push record names, pprof bytes (owned) */
    size_t n, cap;
} collect_t;

static int collect_one(const labels_t *l, const uint8_t *pprof, size_t len, void *arg)
{
    collect_t *c = arg;
    if (c->n == c->cap) {
        size_t cap = c->cap;
        xgrow(&c->names, &cap, c->n + 1, sizeof(*c->names));
        xgrow(&c->pprofs, &c->cap, c->n + 1, sizeof(*c->pprofs));
    }
    buf_init(&c->names[c->n], 0);
    buf_init(&c->pprofs[c->n], 0);
    int rc = ingest_push_name(&c->names[c->n], l);
    if (rc == 0 && len)
        rc = buf_append(&c->pprofs[c->n], pprof, len);
    c->n++;
    return rc;
}

static void collect_release(collect_t *c)
{
    for (size_t i = 0; i < c->n; i++) {
        buf_release(&c->names[i]);
        buf_release(&c->pprofs[i]);
    }
    free(c->names);
    free(c->pprofs);
}

/* Stores the collected profiles with one WAL sync; returns the first failure's status (and
 * its message in err), or 200. */
static int store_all(api_t *a, const char *tenant, const collect_t *c, int64_t now, err_t *err)
{
    ingest_req_t *irs = xcalloc(c->n + 1, sizeof(*irs));
    int *status = xcalloc(c->n + 1, sizeof(*status));
    err_t *errs = xcalloc(c->n + 1, sizeof(*errs));
    for (size_t i = 0; i < c->n; i++)
        irs[i] = (ingest_req_t){.name = c->names[i].data, .from_ns = now, .until_ns = now,
                                .format = INGEST_FORMAT_PUSH,
                                .body = (const uint8_t *)(c->pprofs[i].data ? c->pprofs[i].data
                                                                             : ""),
                                .body_len = c->pprofs[i].len};
    if (c->n)
        api__ingest_many(a, tenant, irs, c->n, status, errs);
    int st = 200;
    for (size_t i = 0; i < c->n && st == 200; i++)
        if (status[i] != 200) {
            st = status[i];
            *err = errs[i];
        }
    free(irs);
    free(status);
    free(errs);
    return st;
}

static void reply_text(api_resp_t *resp, int status, const char *msg)
{
    resp->status = status;
    resp->content_type = "text/plain; charset=utf-8";
    buf_reset(&resp->body);
    if (buf_append(&resp->body, msg, strlen(msg)) || buf_putc(&resp->body, '\n')) {
        /* the body cap is far above an error message */
    }
}

void api__otlp(api_t *a, const api_req_t *req, api_resp_t *resp)
{
    if (req->body_too_big) {
        reply_text(resp, 413, "request body too large");
        return;
    }
    bool json = api__media_type_is(req->content_type, "application/json");
    if (!json && !api__media_type_is(req->content_type, "application/x-protobuf") &&
        !api__media_type_is(req->content_type, "application/protobuf")) {
        reply_text(resp, 415, "Content-Type must be application/x-protobuf, "
                   "application/protobuf or application/json");
        return;
    }
    const char *tenant = api__tenant(a, req, resp);
    if (!tenant)
        return;
    err_t err = {0, ""};
    const uint8_t *body;
    size_t len;
    buf_t unz = BUF_INIT;
    pb_obj_t *in = NULL;
    int bst = api__request_body(a, req, &unz, &body, &len, &err);
    if (bst) {
        reply_text(resp, bst, err.msg);
        goto out;
    }
    if (!api__rate_allow(a, tenant, len, &err)) {
        reply_text(resp, 429, err.msg);
        goto out;
    }
    int rc = json ? pb_decode_json(&in, &pbs_otlp_export_request, (const char *)body, len, &err)
                  : pb_decode_binary(&in, &pbs_otlp_export_request, body, len, &err);
    if (rc) {
        reply_text(resp, rc == EMB_ETOOBIG ? 413 : 400, err.msg);
        goto out;
    }
    collect_t col;
    memset(&col, 0, sizeof(col));
    int64_t now = clock_now_ns();
    rc = otlp_convert(in, json, now, collect_one, &col, &err);
    int status = rc ? api_status_for(rc) : store_all(a, tenant, &col, now, &err);
    collect_release(&col);
    if (status != 200) {
        reply_text(resp, status, err.msg);
        goto out;
    }
    resp->status = 200;
    if (json) {
        resp->content_type = "application/json";
        if (buf_append(&resp->body, "{}", 2)) {
            /* tiny */
        }
    } else {
        resp->content_type = "application/x-protobuf"; /* the empty response message */
    }
out:
    pb_free(in);
    buf_release(&unz);
}
