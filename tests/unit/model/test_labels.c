/* Tests for model/labels: set/replace/delete, canonical key and formatting. */
#include <criterion/criterion.h>

#include "model/labels.h"

Test(labels, set_replaces_and_key_is_sorted)
{
    labels_t a = LABELS_INIT, b = LABELS_INIT;
    labels_set_cstr(&a, "z", "1");
    labels_set_cstr(&a, "a", "2");
    labels_set_cstr(&a, "z", "3");
    labels_set_cstr(&b, "a", "2");
    labels_set_cstr(&b, "z", "3");
    labels_sort(&a);
    buf_t ka = BUF_INIT, kb = BUF_INIT;
    cr_assert_eq(labels_key(&ka, &a), 0);
    cr_assert_eq(labels_key(&kb, &b), 0);
    cr_assert_eq(ka.len, kb.len);
    cr_assert_eq(memcmp(ka.data, kb.data, ka.len), 0);
    cr_assert_str_eq(labels_get(&a, "z"), "3");
    labels_del(&a, "z");
    cr_assert_null(labels_get(&a, "z"));
    buf_t f = BUF_INIT;
    cr_assert_eq(labels_format(&f, &b), 0);
    cr_assert_str_eq(f.data, "{a=\"2\", z=\"3\"}");
    buf_release(&ka);
    buf_release(&kb);
    buf_release(&f);
    labels_release(&a);
    labels_release(&b);
}
