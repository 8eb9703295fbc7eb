/* Tests for ingest/name: the legacy `app{k=v,...}` name of /ingest. */
#include <criterion/criterion.h>
#include <string.h>

#include "ingest/name.h"

typedef struct parsed {
    char *app;
    labels_t tags;
} parsed_t;

static parsed_t ok(const char *s)
{
    parsed_t p;
    err_t err = {0};
    int rc = name_parse(&p.app, &p.tags, s, strlen(s), &err);
    cr_assert_eq(rc, 0, "name_parse(%s): %s", s, err.msg);
    cr_assert_not_null(p.app);
    return p;
}

static void done(parsed_t *p)
{
    free(p->app);
    labels_release(&p->tags);
}

static void bad(const char *s, const char *want)
{
    char *app = (char *)"sentinel";
    labels_t tags;
    err_t err = {0};
    int rc = name_parse(&app, &tags, s, strlen(s), &err);
    cr_assert_eq(rc, EMB_EINVAL, "name_parse(%s) should fail", s);
    cr_assert_eq(err.code, EMB_EINVAL);
    cr_assert_null(app);
    cr_assert_eq(tags.n, 0);
    cr_assert(strstr(err.msg, want), "name_parse(%s): message \"%s\" lacks \"%s\"", s, err.msg,
              want);
    labels_release(&tags);
}

Test(name, app_and_trimmed_pairs)
{
    parsed_t p = ok("app.cpu{env=prod, region = eu }");
    cr_assert_str_eq(p.app, "app.cpu");
    cr_assert_eq(p.tags.n, 2);
    cr_assert_str_eq(labels_get(&p.tags, "env"), "prod");
    cr_assert_str_eq(labels_get(&p.tags, "region"), "eu");
    done(&p);

    p = ok("  my-app/v2_x.cpu  { a.b = 1 }");
    cr_assert_str_eq(p.app, "my-app/v2_x.cpu");
    cr_assert_str_eq(labels_get(&p.tags, "a.b"), "1");
    done(&p);
}

Test(name, no_tags)
{
    parsed_t p = ok("app{}");
    cr_assert_str_eq(p.app, "app");
    cr_assert_eq(p.tags.n, 0);
    done(&p);
    p = ok("app");
    cr_assert_str_eq(p.app, "app");
    cr_assert_eq(p.tags.n, 0);
    done(&p);
    p = ok(" app { \t } ");
    cr_assert_str_eq(p.app, "app");
    cr_assert_eq(p.tags.n, 0);
    done(&p);
    p = ok("app{a=1,}");
    cr_assert_eq(p.tags.n, 1);
    done(&p);
}

Test(name, reserved_keys_dropped_except_session_id)
{
    parsed_t p = ok("app{__x=1,__session_id__=0123456789abcdef,__name__=other,a=b,_y=2}");
    cr_assert_str_eq(p.app, "app");
    cr_assert_eq(p.tags.n, 3);
    cr_assert_null(labels_get(&p.tags, "__x"));
    cr_assert_null(labels_get(&p.tags, "__name__"));
    cr_assert_str_eq(labels_get(&p.tags, "__session_id__"), "0123456789abcdef");
    cr_assert_str_eq(labels_get(&p.tags, "a"), "b");
    cr_assert_str_eq(labels_get(&p.tags, "_y"), "2");
    done(&p);
    /* reserved keys are still validated */
    bad("app{__a-b=1}", "invalid label name");
}

Test(name, values_are_verbatim)
{
    parsed_t p = ok("app{env=\"x y\", q='z', eq=a=b, br={x, sp= in side }");
    cr_assert_str_eq(labels_get(&p.tags, "env"), "\"x y\"");
    cr_assert_str_eq(labels_get(&p.tags, "q"), "'z'");
    cr_assert_str_eq(labels_get(&p.tags, "eq"), "a=b");
    cr_assert_str_eq(labels_get(&p.tags, "br"), "{x");
    cr_assert_str_eq(labels_get(&p.tags, "sp"), "in side");
    done(&p);

    p = ok("app{empty=}");
    cr_assert_str_eq(labels_get(&p.tags, "empty"), "");
    done(&p);

    /* bytes that are not UTF-8 become U+FFFD, as Go's rune loop makes them */
    p = ok("app{v=a\xff" "b}");
    cr_assert_str_eq(labels_get(&p.tags, "v"), "a\xef\xbf\xbd" "b");
    done(&p);
    p = ok("app{v=日本}");
    cr_assert_str_eq(labels_get(&p.tags, "v"), "日本");
    done(&p);
}

Test(name, stops_at_first_close_brace)
{
    parsed_t p = ok("app{a=1}b=2}");
    cr_assert_eq(p.tags.n, 1);
    cr_assert_str_eq(labels_get(&p.tags, "a"), "1");
    done(&p);
    p = ok("app{a=1}{b=2}garbage!");
    cr_assert_eq(p.tags.n, 1);
    done(&p);
    p = ok("app{a=1}, bad key=2}");
    cr_assert_eq(p.tags.n, 1);
    done(&p);
    /* no closing brace: the input ends the set */
    p = ok("app{a=1,b=2");
    cr_assert_eq(p.tags.n, 2);
    cr_assert_str_eq(labels_get(&p.tags, "b"), "2");
    done(&p);
}

Test(name, duplicate_key_last_wins)
{
    parsed_t p = ok("app{a=1,a=2}");
    cr_assert_eq(p.tags.n, 1);
    cr_assert_str_eq(labels_get(&p.tags, "a"), "2");
    done(&p);
}

Test(name, unicode_space_is_trimmed)
{
    parsed_t p = ok("\xc2\xa0" "app\xe3\x80\x80" "{\xc2\xa0" "k\xc2\xa0=\xc2\xa0" "v\xc2\xa0}");
    cr_assert_str_eq(p.app, "app");
    cr_assert_str_eq(labels_get(&p.tags, "k"), "v");
    done(&p);
}

Test(name, empty_app_is_an_error)
{
    bad("", "app name is required");
    bad("   ", "app name is required");
    bad("{a=b}", "app name is required");
    bad("  {a=b}", "app name is required");
    char *app = (char *)"x";
    labels_t tags;
    err_t err = {0};
    cr_assert_eq(name_parse(&app, &tags, NULL, 0, &err), EMB_EINVAL);
    cr_assert_null(app);
    labels_release(&tags);
}

Test(name, bad_keys)
{
    bad("app{a-b=1}", "invalid label name at offset 4: '-' is not allowed");
    bad("app{=1}", "empty label name at offset 4");
    bad("app{ =1}", "empty label name");
    bad("app{a}", "label a at offset 4 has no '='");
    bad("app{a=1,b}", "label b at offset 8 has no '='");
    bad("app{a=1,,b=2}", "empty label name at offset 8");
    bad("app{,a=1}", "empty label name at offset 4");
    bad("app{k\xc3\xa9=1}", "U+00E9 is not allowed");
    bad("app{a b=1}", "' ' is not allowed");
}

Test(name, invalid_app_rune)
{
    bad("my app{}", "invalid app name: ' ' at offset 2 is not allowed");
    bad("app!{}", "'!' at offset 3");
    bad("app\xff", "byte 0xff at offset 3");
    bad("caf\xc3\xa9", "U+00E9 at offset 3");
    bad("app:cpu", "':' at offset 3");
}

Test(name, length_is_respected)
{
    char *app;
    labels_t tags;
    err_t err = {0};
    cr_assert_eq(name_parse(&app, &tags, "app{a=1}", 3, &err), 0, "%s", err.msg);
    cr_assert_str_eq(app, "app");
    cr_assert_eq(tags.n, 0);
    free(app);
    labels_release(&tags);
    cr_assert_eq(name_parse(&app, &tags, "app{a=12}", 7, &err), 0, "%s", err.msg);
    cr_assert_str_eq(labels_get(&tags, "a"), "1");
    free(app);
    labels_release(&tags);
    cr_assert_eq(name_parse(&app, &tags, "app{a=1\0}", 9, &err), EMB_EINVAL);
    cr_assert(strstr(err.msg, "NUL byte in the value of label a"), "%s", err.msg);
    cr_assert_null(app);
    labels_release(&tags);
}
