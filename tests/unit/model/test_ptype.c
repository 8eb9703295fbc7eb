/* Tests for model/ptype: the legacy suffix table, id parsing and render metadata. */
#include <criterion/criterion.h>
#include <string.h>

#include "model/ptype.h"

Test(ptype, legacy_suffixes_map_like_pyroscope)
{
    ptype_legacy_t lt;
    size_t al;
    err_t err;
    cr_assert_eq(ptype_from_legacy(&lt, &al, "my.app.cpu", true, &err), 0);
    cr_assert_eq(al, 6);
    cr_assert_str_eq(lt.type.name, "process_cpu");
    cr_assert_str_eq(lt.type.sample_type, "cpu");
    cr_assert(lt.scale_to_ns);
    cr_assert_eq(ptype_from_legacy(&lt, &al, "app", false, &err), 0);
    cr_assert_eq(al, 3);
    cr_assert_str_eq(lt.type.sample_type, "samples");
    cr_assert_not(lt.scale_to_ns);
    cr_assert_eq(ptype_from_legacy(&lt, &al, "app.mutex_duration", true, &err), 0);
    cr_assert_str_eq(lt.type.name, "mutex");
    cr_assert_str_eq(lt.type.sample_type, "delay");
    cr_assert_eq(ptype_from_legacy(&lt, &al, "app.nope", true, &err), EMB_EINVAL);
    cr_assert(strstr(err.msg, "nope") != NULL);
}

Test(ptype, parse_accepts_five_or_six_parts)
{
    ptype_t t;
    char buf[128];
    err_t err;
    cr_assert_eq(ptype_parse(&t, buf, "memory:alloc_space:bytes:space:bytes", &err), 0);
    cr_assert_str_eq(t.sample_type, "alloc_space");
    cr_assert_str_eq(t.period_unit, "bytes");
    cr_assert_eq(ptype_parse(&t, buf, "x:memory:inuse_space:bytes::", &err), 0);
    cr_assert_str_eq(t.name, "memory");
    cr_assert_str_eq(t.period_type, "");
    cr_assert_eq(ptype_parse(&t, buf, "a:b:c", &err), EMB_EINVAL);
    cr_assert_eq(ptype_parse(&t, buf, "a:b:c:d:e:f:g", &err), EMB_EINVAL);
    cr_assert_eq(ptype_parse(&t, buf, ":b:c:d:e", &err), EMB_EINVAL);
}

Test(ptype, render_meta_units)
{
    const char *u;
    long r;
    ptype_render_meta("cpu", "nanoseconds", &u, &r);
    cr_assert_str_eq(u, "samples");
    cr_assert_eq(r, 1000000000L);
    ptype_render_meta("alloc_objects", "count", &u, &r);
    cr_assert_str_eq(u, "objects");
    cr_assert_eq(r, 100);
    ptype_render_meta("inuse_space", "bytes", &u, &r);
    cr_assert_str_eq(u, "bytes");
}
