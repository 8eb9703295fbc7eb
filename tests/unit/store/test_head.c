/* Tests for store/head: batches remap into tenant tables, series are found again by label
 * set regardless of label order, and tenants never share data. */
#include <criterion/criterion.h>

#include "model/batch.h"
#include "store/head.h"

static void one_profile(batch_t *b, const char *svc, const char *frames[], uint32_t depth,
                        int64_t v)
{
    batch_init(b);
    labels_t l = LABELS_INIT;
    labels_set_cstr(&l, "service_name", svc);
    labels_set_cstr(&l, "__profile_type__", "process_cpu:cpu:nanoseconds:cpu:nanoseconds");
    batch_profile_t *p = batch_add_profile(b, &l, 1000, 10);
    uint32_t ids[16];
    for (uint32_t i = 0; i < depth; i++)
        ids[i] = strtab_intern(&b->strs, frames[i], strlen(frames[i]));
    batch_add_sample(b, p, batch_add_stack(b, ids, depth), v);
    labels_release(&l);
}

Test(head, same_labels_same_series_and_shared_prefixes)
{
    head_t *h = head_new();
    const char *s1[] = {"main", "work", "hash"}, *s2[] = {"main", "work", "io"};
    batch_t b;
    one_profile(&b, "app", s1, 3, 30);
    head_apply(h, "t1", &b);
    batch_release(&b);
    one_profile(&b, "app", s2, 3, 10);
    head_apply(h, "t1", &b);
    batch_release(&b);
    head_tenant_t *t = head_tenant(h, "t1", false);
    cr_assert_not_null(t);
    cr_assert_eq(t->nseries, 1);
    cr_assert_eq(t->series[0].nprofs, 2);
    cr_assert_eq(t->tree.n, 5); /* root, main, work, hash, io */
    cr_assert_eq(head_series_count(h), 1);
    head_free(h);
}

Test(head, tenants_are_isolated)
{
    head_t *h = head_new();
    const char *s1[] = {"secret"};
    batch_t b;
    one_profile(&b, "app", s1, 1, 1);
    head_apply(h, "a", &b);
    batch_release(&b);
    cr_assert_null(head_tenant(h, "b", false));
    head_tenant_t *ta = head_tenant(h, "a", false);
    head_tenant_t *tb = head_tenant(h, "b", true);
    cr_assert_neq(ta, tb);
    cr_assert_eq(tb->nseries, 0);
    cr_assert_eq(strtab_find(&tb->strs, "secret", 6), UINT32_MAX);
    head_free(h);
}
