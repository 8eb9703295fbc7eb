/* Fuzz target: query/selector. The input is a selector text. Invariants on success: every
 * matcher has a non-empty name and a value, regex matchers (and only they) carry compiled
 * code, equality matchers accept their own value, matching never crashes, and printing the
 * selector back (every byte escaped) and reparsing it gives the same selector. On failure:
 * EMB_EINVAL, a message, and an empty selector. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "query/selector.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond)
{
    if (!cond)
        abort();
}

static void put_quoted(buf_t *b, const char *s)
{
    check(buf_putc(b, '"') == 0);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        check(buf_printf(b, "\\x%02x", *p) == 0);
    check(buf_putc(b, '"') == 0);
}

static bool bare_metric(const char *m)
{
    for (; *m; m++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_:.-/", *m))
            return false;
    return true;
}

static void check_same(const selector_t *a, const selector_t *b)
{
    check((a->metric == NULL) == (b->metric == NULL));
    check(!a->metric || strcmp(a->metric, b->metric) == 0);
    check(a->n == b->n);
    for (size_t i = 0; i < a->n; i++) {
        check(strcmp(a->m[i].name, b->m[i].name) == 0);
        check(strcmp(a->m[i].value, b->m[i].value) == 0);
        check(a->m[i].op == b->m[i].op);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const ops[] = {"=", "!=", "=~", "!~"};
    selector_t sel, again;
    err_t err = {0};
    int rc = selector_parse(&sel, (const char *)data, size, &err);
    if (rc != 0) {
        check(rc == EMB_EINVAL && err.code == EMB_EINVAL && err.msg[0]);
        check(sel.n == 0 && sel.m == NULL && sel.metric == NULL);
        selector_release(&sel);
        return 0;
    }

    check(!sel.metric || sel.metric[0]);
    check((sel.n == 0) == (sel.m == NULL));
    labels_t l = LABELS_INIT;
    for (size_t i = 0; i < sel.n; i++) {
        const matcher_t *m = &sel.m[i];
        check(m->name && m->name[0] && m->value);
        check(m->op == MATCH_EQ || m->op == MATCH_NEQ || m->op == MATCH_RE || m->op == MATCH_NRE);
        check((m->re != NULL) == (m->op == MATCH_RE || m->op == MATCH_NRE));
        check(m->md == NULL);
        if (m->op == MATCH_EQ)
            check(matcher_match(m, m->value));
        if (m->op == MATCH_NEQ)
            check(!matcher_match(m, m->value));
        const char *probes[] = {NULL, "", m->value, "a", "\xff", "prod-eu-1\n"};
        for (size_t k = 0; k < sizeof(probes) / sizeof(*probes); k++)
            (void)matcher_match(m, probes[k]);
        labels_set_cstr(&l, m->name, m->value);
    }
    (void)selector_match(&sel, &l);
    labels_release(&l);

    /* Round trip through the most escaped spelling. */
    buf_t b = BUF_INIT;
    bool metric_inside = sel.metric && !bare_metric(sel.metric);
    if (sel.metric && !metric_inside)
        check(buf_puts(&b, sel.metric) == 0);
    check(buf_putc(&b, '{') == 0);
    if (metric_inside) {
        put_quoted(&b, sel.metric);
        check(buf_puts(&b, ", ") == 0);
    }
    for (size_t i = 0; i < sel.n; i++) {
        put_quoted(&b, sel.m[i].name);
        check(buf_puts(&b, ops[sel.m[i].op]) == 0);
        put_quoted(&b, sel.m[i].value);
        check(buf_putc(&b, ',') == 0);
    }
    check(buf_putc(&b, '}') == 0);
    rc = selector_parse(&again, b.data, b.len, &err);
    if (rc != 0) {
        fprintf(stderr, "reparse of %s failed: %s\n", b.data, err.msg);
        abort();
    }
    check_same(&sel, &again);
    selector_release(&again);
    buf_release(&b);
    selector_release(&sel);
    selector_release(&sel);
    return 0;
}
