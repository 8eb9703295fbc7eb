/* Tests for base/hash: the multimap keeps duplicates and survives growth. */
#include <criterion/criterion.h>

#include "base/hash.h"

Test(hash, multimap_finds_all_values_after_growth)
{
    hmap_t m;
    hmap_init(&m);
    for (uint32_t i = 0; i < 10000; i++)
        hmap_put(&m, i % 1000, i);
    size_t pos = 0;
    int started = 0, n = 0;
    uint32_t v;
    while ((v = hmap_probe(&m, 7, &pos, &started)) != HMAP_EMPTY) {
        cr_assert_eq(v % 1000, 7);
        n++;
    }
    cr_assert_eq(n, 10);
    pos = 0;
    started = 0;
    cr_assert_eq(hmap_probe(&m, 123456, &pos, &started), HMAP_EMPTY);
    hmap_release(&m);
}
