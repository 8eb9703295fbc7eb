/* Tests for model/strtab, model/stacktree and model/batch: dense ids, id 0 reserved, the
 * parent-before-child invariant, and stacks as shared-prefix nodes. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "model/batch.h"

Test(strtab, ids_are_dense_and_stable_across_growth)
{
    strtab_t t;
    strtab_init(&t);
    cr_assert_eq(strtab_intern(&t, "", 0), 0);
    char s[32];
    for (int i = 0; i < 5000; i++) {
        int n = snprintf(s, sizeof(s), "fn%d", i);
        cr_assert_eq(strtab_intern(&t, s, (size_t)n), (uint32_t)i + 1);
    }
    cr_assert_eq(strtab_intern(&t, "fn42", 4), 43);
    cr_assert_str_eq(strtab_get(&t, 43), "fn42");
    cr_assert_eq(strtab_len(&t, 43), 4);
    cr_assert_eq(strtab_find(&t, "missing", 7), UINT32_MAX);
    /* embedded NUL: lengths, not C strings, identify entries */
    uint32_t a = strtab_intern(&t, "a\0b", 3), b = strtab_intern(&t, "a", 1);
    cr_assert_neq(a, b);
    strtab_release(&t);
}

Test(stacktree, parents_precede_children_and_children_are_unique)
{
    stacktree_t t;
    stacktree_init(&t);
    node_id_t a = stacktree_child(&t, 0, 7), b = stacktree_child(&t, a, 8);
    cr_assert_eq(stacktree_child(&t, 0, 7), a);
    cr_assert_eq(stacktree_child(&t, a, 8), b);
    cr_assert_neq(stacktree_child(&t, b, 7), a);
    for (size_t i = 1; i < t.n; i++)
        cr_assert_lt(t.parent[i], i);
    stacktree_release(&t);
}

Test(batch, equal_stacks_share_a_node_and_prefixes_are_stored_once)
{
    batch_t b;
    batch_init(&b);
    uint32_t f[3] = {strtab_intern(&b.strs, "main", 4), strtab_intern(&b.strs, "work", 4),
                     strtab_intern(&b.strs, "io", 2)};
    uint32_t s1 = batch_add_stack(&b, f, 3), s2 = batch_add_stack(&b, f, 3),
             s3 = batch_add_stack(&b, f, 2);
    cr_assert_eq(s1, s2);
    cr_assert_eq(b.tree.parent[s1], s3);
    cr_assert_eq(b.tree.n, 4); /* root + main + work + io */
    labels_t l = LABELS_INIT;
    batch_profile_t *p = batch_add_profile(&b, &l, 5, 6);
    batch_add_sample(&b, p, s1, 9);
    cr_assert_eq(b.nsamples, 1);
    batch_release(&b);
}
