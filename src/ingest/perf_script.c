/* format=perf_script (beyond Pyroscope): the text `perf script` prints for a `perf record -g`
 * recording, so perf users can push without a conversion step. A sample is a header line
 *   comm  pid[/tid] [cpu] time: [period] event[:modifiers]:
 * followed by its stack, one frame per indented line, leaf first:
 *   <hex address> <symbol>[+0xoff] (<dso>)
 * and ends at a blank line (or the next header). As stackcollapse-perf.pl does, the stack gets the command name as
 * its root frame, offsets are dropped and an unknown symbol is named after its module
 * ("[libc.so.6]"). Each event (cpu-clock, cycles, ...) becomes its own profile with a label
 * perf_event=<event>.
 *
 * Values: for the clock events (cpu-clock, task-clock) the period is CPU time in nanoseconds,
 * so when every sample of the event carries one the profile holds those exact nanoseconds;
 * otherwise each sample counts one, converted like the other legacy formats (× 1e9 /
 * sampleRate for CPU). The app name's `.suffix` picks the type as for folded input. */
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "ingest/ingest_int.h"

#define MAX_FRAMES 4096

typedef struct event {
    char *name;
    size_t prof;        /* index in the batch */
    int64_t mul, div;   /* legacy factors for counted samples */
    bool by_period;     /* every sample had a period and the event is a clock */
    uint32_t *nodes;    /* per sample: stack node, value (period or 1) */
    int64_t *vals;
    size_t n, cap;
} event_t;

typedef struct line {
    const char *p;
    size_t len;
} line_t;

static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r'; }

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

/* Parses a header line. OUT: comm (trimmed), event (modifiers dropped), period (-1 if
 * absent). false when the line does not look like a sample header. */
static bool parse_header(line_t l, line_t *comm, line_t *event, int64_t *period)
{
    const char *s = l.p, *e = l.p + l.len;
    while (s < e && is_space(*s)) /* perf pads comm on the left in some layouts */
        s++;
    while (e > s && is_space(e[-1]))
        e--;
    if (e == s || e[-1] != ':')
        return false;
    /* event: the last token, "name[:mods]:" */
    const char *ev_end = e - 1, *ev = ev_end;
    while (ev > s && !is_space(ev[-1]))
        ev--;
    if (ev == ev_end)
        return false;
    const char *colon = memchr(ev, ':', (size_t)(ev_end - ev));
    *event = (line_t){ev, (size_t)((colon ? colon : ev_end) - ev)};
    /* optional period just before the event */
    const char *q = ev;
    while (q > s && is_space(q[-1]))
        q--;
    const char *pe = q;
    while (q > s && is_digit(q[-1]))
        q--;
    *period = -1;
    if (q < pe && q > s && is_space(q[-1])) {
        int64_t v = 0;
        for (const char *d = q; d < pe && v < INT64_MAX / 10; d++)
            v = v * 10 + (*d - '0');
        *period = v;
    }
    /* comm: everything before the first " <pid>[/<tid>] " field */
    for (const char *c = s; c < e; c++) {
        if (!is_space(*c) || c == s)
            continue;
        const char *d = c;
        while (d < e && is_space(*d))
            d++;
        const char *num = d;
        while (d < e && (is_digit(*d) || *d == '/'))
            d++;
        if (d > num && is_digit(*num) && d < e && is_space(*d)) {
            *comm = (line_t){s, (size_t)(c - s)};
            return true;
        }
    }
    return false;
}

/* A frame line "addr sym[+0xoff] (dso)" → the frame's name into name (owned buffer). */
static void frame_name(line_t l, buf_t *name)
{
    const char *s = l.p, *e = l.p + l.len;
    while (s < e && is_space(*s))
        s++;
    while (e > s && is_space(e[-1]))
        e--;
    while (s < e && !is_space(*s)) /* address */
        s++;
    while (s < e && is_space(*s))
        s++;
    const char *dso = NULL, *dso_end = NULL;
    if (e > s && e[-1] == ')') {
        const char *o = e - 1;
        while (o > s && o[-1] != '(')
            o--;
        if (o > s) {
            dso = o;
            dso_end = e - 1;
            e = o - 1;
            while (e > s && is_space(e[-1]))
                e--;
        }
    }
    /* drop "+0x..." */
    for (const char *p = e; p > s + 1; p--)
        if (p[-1] == 'x' && p - 2 > s && p[-2] == '0' && p - 3 >= s && p[-3] == '+') {
            bool hex = true;
            for (const char *h = p; h < e; h++)
                hex &= is_digit(*h) || (*h >= 'a' && *h <= 'f') || (*h >= 'A' && *h <= 'F');
            if (hex)
                e = p - 3;
            break;
        }
    buf_reset(name);
    bool unknown = (size_t)(e - s) == 9 && !memcmp(s, "[unknown]", 9);
    if ((unknown || e == s) && dso && dso_end > dso) {
        const char *base = dso_end;
        while (base > dso && base[-1] != '/')
            base--;
        if (buf_putc(name, '[') || buf_append(name, base, (size_t)(dso_end - base)) ||
            buf_putc(name, ']')) {
            /* unbounded buffer */
        }
        return;
    }
    if (e == s) {
        s = "[unknown]";
        e = s + 9;
    }
    if (buf_append(name, s, (size_t)(e - s))) {
        /* unbounded buffer */
    }
}

static bool is_clock(const char *ev)
{
    return !strcmp(ev, "cpu-clock") || !strcmp(ev, "task-clock");
}

static event_t *event_get(event_t **evs, size_t *n, size_t *cap, line_t name)
{
    for (size_t i = 0; i < *n; i++)
        if (strlen((*evs)[i].name) == name.len && !memcmp((*evs)[i].name, name.p, name.len))
            return &(*evs)[i];
    xgrow(evs, cap, *n + 1, sizeof(**evs));
    event_t *e = &(*evs)[(*n)++];
    memset(e, 0, sizeof(*e));
    e->name = xstrndup(name.p, name.len);
    e->by_period = is_clock(e->name);
    return e;
}

int perf_script_ingest(batch_t *out, const ingest_req_t *req, const char *app,
                       const labels_t *tags, const ingest_limits_t *lim, err_t *err)
{
    const char *p = (const char *)req->body, *end = p + req->body_len;
    event_t *evs = NULL;
    size_t nev = 0, capev = 0;
    uint32_t *frames = xmalloc((MAX_FRAMES + 1) * sizeof(*frames));
    buf_t name = BUF_INIT;
    int rc = 0;
    size_t lineno = 0, nsamples = 0;
    while (rc == 0 && p < end) {
        /* skip blank and comment lines ("# ..." headers of perf script --header) */
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        line_t l = {p, (size_t)((nl ? nl : end) - p)};
        p = nl ? nl + 1 : end;
        lineno++;
        size_t k = 0;
        while (k < l.len && is_space(l.p[k]))
            k++;
        if (k == l.len || l.p[k] == '#')
            continue;
        line_t comm, evname;
        int64_t period;
        if (!parse_header(l, &comm, &evname, &period)) {
            rc = err_set(err, EMB_ECORRUPT, "perf_script: line %zu is not a sample header "
                         "(\"comm pid time: [period] event:\")", lineno);
            break;
        }
        /* frames, leaf first, until a blank line */
        uint32_t depth = 0;
        while (p < end) {
            nl = memchr(p, '\n', (size_t)(end - p));
            line_t f = {p, (size_t)((nl ? nl : end) - p)};
            size_t j = 0;
            while (j < f.len && is_space(f.p[j]))
                j++;
            line_t c2, e2;
            int64_t p2;
            if (j == f.len || parse_header(f, &c2, &e2, &p2))
                break; /* blank: end of sample; or the next sample's header */
            p = nl ? nl + 1 : end;
            lineno++;
            if (depth == MAX_FRAMES)
                continue; /* keep the leaf end */
            frame_name(f, &name);
            frames[depth++] = strtab_intern(&out->strs, name.data, name.len);
        }
        event_t *ev = event_get(&evs, &nev, &capev, evname);
        if (period < 0)
            ev->by_period = false;
        /* root first: comm, then the frames outermost first */
        uint32_t *stack = xmalloc((depth + 2) * sizeof(*stack));
        stack[0] = strtab_intern(&out->strs, comm.p, comm.len);
        for (uint32_t i = 0; i < depth; i++)
            stack[1 + i] = frames[depth - 1 - i];
        xgrow(&ev->nodes, &ev->cap, ev->n + 1, sizeof(*ev->nodes));
        ev->vals = xrealloc(ev->vals, ev->cap * sizeof(*ev->vals));
        ev->nodes[ev->n] = batch_add_stack(out, stack, depth + 1);
        ev->vals[ev->n++] = period < 0 ? 1 : period;
        free(stack);
        nsamples++;
    }
    if (rc == 0 && nsamples == 0)
        rc = err_set(err, EMB_ECORRUPT, "perf_script: no samples (expected `perf script` "
                     "output of a perf record -g recording)");
    for (size_t i = 0; rc == 0 && i < nev; i++) {
        event_t *ev = &evs[i];
        labels_t extra = LABELS_INIT;
        labels_set_cstr(&extra, "perf_event", ev->name);
        int64_t rate = ingest__parse_rate(req->sample_rate);
        if (!ingest__legacy_profile(out, &ev->mul, &ev->div, req, app, tags, rate, &extra, lim,
                                    err))
            rc = err->code;
        labels_release(&extra);
        ev->prof = out->nprofs - 1;
        /* exact CPU time only where the profile is one of nanoseconds anyway */
        bool ns = ev->mul != ev->div;
        for (size_t s = 0; rc == 0 && s < ev->n; s++) {
            int64_t v = ev->by_period && ns ? ev->vals[s]
                                            : ingest__scale(1, ev->mul, ev->div);
            batch_add_sample(out, &out->profs[ev->prof], ev->nodes[s], v);
        }
    }
    for (size_t i = 0; i < nev; i++) {
        free(evs[i].name);
        free(evs[i].nodes);
        free(evs[i].vals);
    }
    free(evs);
    free(frames);
    buf_release(&name);
    return rc;
}
