/* Tests for ingest/folded.c: folded and lines text, Pyroscope's tree and trie encodings. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "ingest/ingest.h"

typedef struct parsed {
    batch_t b;
    batch_profile_t *p;
} parsed_t;

static void setup(parsed_t *x)
{
    batch_init(&x->b);
    labels_t l = LABELS_INIT;
    x->p = batch_add_profile(&x->b, &l, 0, 0);
}

/* "a;b;c=12" rendering of sample i (walks the batch tree from the leaf up). */
static void sample_str(parsed_t *x, size_t i, char *out, size_t n)
{
    uint32_t path[64], depth = 0;
    for (uint32_t nd = x->p->stack[i]; nd != 0; nd = x->b.tree.parent[nd])
        path[depth++] = x->b.tree.name[nd];
    size_t k = 0;
    for (uint32_t d = depth; d > 0; d--)
        k += (size_t)snprintf(out + k, n - k, "%s%s", d == depth ? "" : ";",
                              strtab_get(&x->b.strs, path[d - 1]));
    snprintf(out + k, n - k, "=%lld", (long long)x->p->value[i]);
}

Test(folded, counts_after_last_space_and_skips_countless_lines)
{
    parsed_t x;
    setup(&x);
    const char *body = "main;work;hash 30\r\nmain;my func;io 10\nnocount\n\nzero 0\n";
    err_t err;
    cr_assert_eq(folded_parse(&x.b, x.p, (const uint8_t *)body, strlen(body), false, 1, 1, &err), 0);
    cr_assert_eq(x.p->n, 2);
    char s[128];
    sample_str(&x, 0, s, sizeof(s));
    cr_assert_str_eq(s, "main;work;hash=30");
    sample_str(&x, 1, s, sizeof(s));
    cr_assert_str_eq(s, "main;my func;io=10");
    batch_release(&x.b);
}

Test(folded, non_integer_count_fails_with_line_number)
{
    parsed_t x;
    setup(&x);
    const char *body = "a 1\nb 2x\n";
    err_t err;
    cr_assert_eq(folded_parse(&x.b, x.p, (const uint8_t *)body, strlen(body), false, 1, 1, &err),
                 EMB_ECORRUPT);
    cr_assert(strstr(err.msg, "line 2") != NULL, "%s", err.msg);
    batch_release(&x.b);
}

Test(folded, lines_count_each_line_once_and_scale)
{
    parsed_t x;
    setup(&x);
    const char *body = "a;b\na;b\na;c\n";
    err_t err;
    cr_assert_eq(folded_parse(&x.b, x.p, (const uint8_t *)body, strlen(body), true, 1000000000,
                              100, &err), 0);
    cr_assert_eq(x.p->n, 3);
    cr_assert_eq(x.p->value[0], 10000000);
    batch_release(&x.b);
}

static size_t put_uv(uint8_t *p, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        p[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (uint8_t)v;
    return n;
}

static size_t node(uint8_t *p, const char *name, uint64_t self, uint64_t nkids)
{
    size_t n = put_uv(p, strlen(name));
    memcpy(p + n, name, strlen(name));
    n += strlen(name);
    n += put_uv(p + n, self);
    n += put_uv(p + n, nkids);
    return n;
}

Test(folded, tree_format_preorder)
{
    uint8_t buf[256];
    size_t n = 0;
    n += node(buf + n, "", 0, 1);
    n += node(buf + n, "main", 0, 2);
    n += node(buf + n, "work", 3, 1);
    n += node(buf + n, "hash", 5, 0);
    n += node(buf + n, "idle", 1, 0);
    parsed_t x;
    setup(&x);
    err_t err;
    cr_assert_eq(tree_parse(&x.b, x.p, buf, n, false, 1, 1, &err), 0, "%s", err.msg);
    cr_assert_eq(x.p->n, 3);
    char s[128];
    sample_str(&x, 0, s, sizeof(s));
    cr_assert_str_eq(s, "main;work=3");
    sample_str(&x, 1, s, sizeof(s));
    cr_assert_str_eq(s, "main;work;hash=5");
    sample_str(&x, 2, s, sizeof(s));
    cr_assert_str_eq(s, "main;idle=1");
    /* every truncation is an error, never a crash */
    for (size_t cut = 0; cut < n; cut++) {
        parsed_t y;
        setup(&y);
        cr_assert_neq(tree_parse(&y.b, y.p, buf, cut, false, 1, 1, &err), 0, "cut %zu", cut);
        batch_release(&y.b);
    }
    batch_release(&x.b);
}

Test(folded, trie_keys_concatenate_suffixes)
{
    uint8_t buf[256];
    size_t n = 0;
    n += node(buf + n, "", 0, 1);
    n += node(buf + n, "main;", 0, 1);
    n += node(buf + n, "wo", 0, 2);
    n += node(buf + n, "rk", 4, 0);
    n += node(buf + n, "w", 2, 0);
    parsed_t x;
    setup(&x);
    err_t err;
    cr_assert_eq(tree_parse(&x.b, x.p, buf, n, true, 1, 1, &err), 0, "%s", err.msg);
    cr_assert_eq(x.p->n, 2);
    char s[128];
    sample_str(&x, 0, s, sizeof(s));
    cr_assert_str_eq(s, "main;work=4");
    sample_str(&x, 1, s, sizeof(s));
    cr_assert_str_eq(s, "main;wow=2");
    batch_release(&x.b);
}
