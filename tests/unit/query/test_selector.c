/* Tests for query/selector: the four matchers, anchoring, missing labels, string escapes,
 * quoted names, metric prefixes and error offsets. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <string.h>

#include "query/selector.h"

static int parse(selector_t *sel, const char *s, err_t *err)
{
    return selector_parse(sel, s, strlen(s), err);
}

/* Parses s, which must succeed. */
static void ok(selector_t *sel, const char *s)
{
    err_t err = {0};
    int rc = parse(sel, s, &err);
    cr_assert_eq(rc, 0, "parse(%s): %s", s, err.msg);
}

/* Parses s, which must fail with EMB_EINVAL and a message containing want. */
static void bad(const char *s, const char *want)
{
    selector_t sel;
    err_t err = {0};
    int rc = parse(&sel, s, &err);
    cr_assert_eq(rc, EMB_EINVAL, "parse(%s) should fail", s);
    cr_assert_eq(err.code, EMB_EINVAL);
    cr_assert(strstr(err.msg, want), "parse(%s): message \"%s\" lacks \"%s\"", s, err.msg, want);
    cr_assert_eq(sel.n, 0);
    cr_assert_null(sel.m);
    cr_assert_null(sel.metric);
    selector_release(&sel);
}

/* Parses `{a<op>"<re>"}` and matches value against it. */
static bool match1(const char *sel_text, const char *value)
{
    selector_t sel;
    ok(&sel, sel_text);
    cr_assert_eq(sel.n, 1);
    bool r = matcher_match(&sel.m[0], value);
    selector_release(&sel);
    return r;
}

Test(selector, four_matchers)
{
    selector_t sel;
    ok(&sel, "{a=\"1\", b!=\"2\", c=~\"x|y\", d!~\"z.*\"}");
    cr_assert_null(sel.metric);
    cr_assert_eq(sel.n, 4);
    cr_assert_str_eq(sel.m[0].name, "a");
    cr_assert_eq(sel.m[0].op, MATCH_EQ);
    cr_assert_str_eq(sel.m[0].value, "1");
    cr_assert_null(sel.m[0].re);
    cr_assert_eq(sel.m[1].op, MATCH_NEQ);
    cr_assert_eq(sel.m[2].op, MATCH_RE);
    cr_assert_not_null(sel.m[2].re);
    cr_assert_eq(sel.m[3].op, MATCH_NRE);
    cr_assert_not_null(sel.m[3].re);

    cr_assert(matcher_match(&sel.m[0], "1"));
    cr_assert_not(matcher_match(&sel.m[0], "11"));
    cr_assert(matcher_match(&sel.m[1], "3"));
    cr_assert_not(matcher_match(&sel.m[1], "2"));
    cr_assert(matcher_match(&sel.m[2], "x"));
    cr_assert(matcher_match(&sel.m[2], "y"));
    cr_assert_not(matcher_match(&sel.m[2], "xy"));
    cr_assert(matcher_match(&sel.m[3], "a"));
    cr_assert_not(matcher_match(&sel.m[3], "zzz"));
    selector_release(&sel);
}

Test(selector, regex_is_fully_anchored)
{
    cr_assert(match1("{a=~\"a.*\"}", "abc"));
    cr_assert_not(match1("{a=~\"a.*\"}", "xabc"));
    cr_assert_not(match1("{a=~\"b\"}", "abc"));
    cr_assert_not(match1("{a=~\"ab\"}", "abc"));
    /* alternation must not escape the anchors, and backtracking finds the full match */
    cr_assert(match1("{a=~\"a|ab\"}", "ab"));
    cr_assert_not(match1("{a=~\"a|b\"}", "ab"));
    /* anchoring is by flags, not by text, so `x)|(y` cannot escape a wrapper: it is
     * simply unbalanced (Prometheus' textual `^(?s:...)$` would accept it) */
    bad("{a=~\"x)|(y\"}", "unmatched closing parenthesis");
    /* `$` is end of text (Go), `.` matches newline (Prometheus wraps with (?s:)) */
    cr_assert_not(match1("{a=~\"a$\"}", "a\n"));
    cr_assert(match1("{a=~\"a.b\"}", "a\nb"));
    cr_assert(match1("{a=~\"(?i)ABC\"}", "abc"));
    cr_assert(match1("{a=~\"\\\\d+\"}", "123"));
    cr_assert(match1("{a=~\"é.\"}", "éé"));
    cr_assert(match1("{a!~\"a.*\"}", "xabc"));
    cr_assert_not(match1("{a!~\"a.*\"}", "abc"));
}

Test(selector, missing_label_is_empty_string)
{
    cr_assert(match1("{x=\"\"}", NULL));
    cr_assert_not(match1("{x!=\"\"}", NULL));
    cr_assert(match1("{x!=\"\"}", "v"));
    cr_assert(match1("{x=~\".*\"}", NULL));
    cr_assert_not(match1("{x=~\".+\"}", NULL));
    cr_assert(match1("{x!~\".+\"}", NULL));
    cr_assert_not(match1("{x=\"a\"}", NULL));
    cr_assert(match1("{x!=\"a\"}", NULL));
}

Test(selector, selector_match_uses_label_set)
{
    selector_t sel;
    ok(&sel, "{service_name=\"app\", env=~\"prod|dev\", host!=\"a\", missing=\"\"}");
    labels_t l = LABELS_INIT;
    labels_set_cstr(&l, "service_name", "app");
    labels_set_cstr(&l, "env", "dev");
    labels_set_cstr(&l, "host", "b");
    cr_assert(selector_match(&sel, &l));
    labels_set_cstr(&l, "host", "a");
    cr_assert_not(selector_match(&sel, &l));
    labels_set_cstr(&l, "host", "b");
    labels_set_cstr(&l, "missing", "now-present");
    cr_assert_not(selector_match(&sel, &l));
    labels_release(&l);
    selector_release(&sel);

    ok(&sel, "{}");
    cr_assert_eq(sel.n, 0);
    cr_assert(selector_match(&sel, &l));
    selector_release(&sel);
}

Test(selector, invalid_utf8_subject_matches_like_go)
{
    /* Go sees each bad byte as U+FFFD, which `.` matches */
    cr_assert(match1("{a=~\"a.b\"}", "a\xff" "b"));
    cr_assert(match1("{a=~\".*\"}", "\xc3\x28"));
    cr_assert_not(match1("{a=~\"ab\"}", "a\xff" "b"));
}

Test(selector, catastrophic_regex_is_bounded)
{
    /* must return (no match) rather than spin: 2^48 paths, bounded by the match limit */
    char a48[49], a47b[49];
    memset(a48, 'a', 48);
    a48[48] = '\0';
    memcpy(a47b, a48, sizeof(a48));
    a47b[47] = 'b';
    cr_assert_not(match1("{a=~\"(a+)+[bc]\"}", a48));
    cr_assert(match1("{a=~\"(a+)+[bc]\"}", a47b));
    cr_assert_not(match1("{a=~\"(a|aa)+(b|bb)+[cd]\"}", a48));
    cr_assert_not(match1("{a=~\"(a+a+)+y\"}", a48));
}

Test(selector, string_escapes)
{
    selector_t sel;
    ok(&sel, "{a=\"q\\\"b\\\\n\\n\\t\", b=\"\\x41\\101\\u00e9\\U0001F600\", c='it\\'s \"x\"', "
             "d=`raw\\d\"'`, e=\"\\a\\b\\f\\r\\v\"}");
    cr_assert_eq(sel.n, 5);
    cr_assert_str_eq(sel.m[0].value, "q\"b\\n\n\t");
    cr_assert_str_eq(sel.m[1].value, "AA\xc3\xa9\xf0\x9f\x98\x80");
    cr_assert_str_eq(sel.m[2].value, "it's \"x\"");
    cr_assert_str_eq(sel.m[3].value, "raw\\d\"'");
    cr_assert_str_eq(sel.m[4].value, "\a\b\f\r\v");
    selector_release(&sel);

    /* raw strings span lines and drop carriage returns, as Go does */
    ok(&sel, "{a=`x\r\ny`}");
    cr_assert_str_eq(sel.m[0].value, "x\ny");
    selector_release(&sel);

    /* \x gives a raw byte, which may be invalid UTF-8 in an equality matcher */
    ok(&sel, "{a=\"\\xff\"}");
    cr_assert_str_eq(sel.m[0].value, "\xff");
    selector_release(&sel);

    /* UTF-8 text passes through */
    ok(&sel, "{a=\"日本\"}");
    cr_assert_str_eq(sel.m[0].value, "日本");
    selector_release(&sel);
}

Test(selector, bad_escapes)
{
    bad("{a=\"\\q\"}", "unknown escape sequence \\'q' at offset 4");
    bad("{a='\\\"'}", "unknown escape sequence");   /* \" only inside double quotes */
    bad("{a=\"\\'\"}", "unknown escape sequence");   /* \' only inside single quotes */
    bad("{a=\"\\x4\"}", "invalid escape sequence at offset 4");
    bad("{a=\"\\xZZ\"}", "invalid escape sequence");
    bad("{a=\"\\u12\"}", "invalid escape sequence");
    bad("{a=\"\\ud800\"}", "not a valid code point");
    bad("{a=\"\\U00110000\"}", "not a valid code point");
    bad("{a=\"\\400\"}", "not a valid code point");
    bad("{a=\"\\8\"}", "unknown escape sequence");
    bad("{a=\"\\x00\"}", "NUL escape");
    bad("{a=\"\\", "unterminated quoted string");
    bad("{a=\"\xff\"}", "invalid UTF-8 at offset 4");
    bad("{a=`\xc0\x80`}", "invalid UTF-8");
}

Test(selector, quoted_and_dotted_label_names)
{
    selector_t sel;
    ok(&sel, "{\"service.name\"=\"x\", 'k 2'!=\"y\", otel.scope.name=~\"z\", _u=\"1\"}");
    cr_assert_eq(sel.n, 4);
    cr_assert_str_eq(sel.m[0].name, "service.name");
    cr_assert_str_eq(sel.m[1].name, "k 2");
    cr_assert_str_eq(sel.m[2].name, "otel.scope.name");
    cr_assert_str_eq(sel.m[3].name, "_u");
    selector_release(&sel);
}

Test(selector, whitespace_and_trailing_comma)
{
    selector_t sel;
    ok(&sel, " \t\n app.cpu \r\n {  a  =  \"b\"  ,\n\tc !=  'd' , e=~`f` ,  } \n");
    cr_assert_str_eq(sel.metric, "app.cpu");
    cr_assert_eq(sel.n, 3);
    cr_assert_str_eq(sel.m[0].name, "a");
    cr_assert_str_eq(sel.m[0].value, "b");
    cr_assert_eq(sel.m[1].op, MATCH_NEQ);
    cr_assert_str_eq(sel.m[2].value, "f");
    selector_release(&sel);

    ok(&sel, "{a=\"b\",}");
    cr_assert_eq(sel.n, 1);
    selector_release(&sel);

    ok(&sel, "{ }");
    cr_assert_eq(sel.n, 0);
    cr_assert_null(sel.metric);
    selector_release(&sel);
}

Test(selector, duplicate_names_are_kept)
{
    selector_t sel;
    ok(&sel, "{a=~\"x.*\", a!=\"xy\"}");
    cr_assert_eq(sel.n, 2);
    labels_t l = LABELS_INIT;
    labels_set_cstr(&l, "a", "xz");
    cr_assert(selector_match(&sel, &l));
    labels_set_cstr(&l, "a", "xy");
    cr_assert_not(selector_match(&sel, &l));
    labels_release(&l);
    selector_release(&sel);
}

Test(selector, metric_prefixes)
{
    selector_t sel;
    ok(&sel, "process_cpu:cpu:nanoseconds:cpu:nanoseconds{service_name=\"app\"}");
    cr_assert_str_eq(sel.metric, "process_cpu:cpu:nanoseconds:cpu:nanoseconds");
    cr_assert_eq(sel.n, 1);
    cr_assert_str_eq(sel.m[0].value, "app");
    selector_release(&sel);

    ok(&sel, "block:contentions:count::{}");
    cr_assert_str_eq(sel.metric, "block:contentions:count::");
    cr_assert_eq(sel.n, 0);
    selector_release(&sel);

    ok(&sel, "app.cpu{env=\"prod\"}");
    cr_assert_str_eq(sel.metric, "app.cpu");
    selector_release(&sel);

    ok(&sel, "app.cpu");
    cr_assert_str_eq(sel.metric, "app.cpu");
    cr_assert_eq(sel.n, 0);
    cr_assert_null(sel.m);
    selector_release(&sel);

    ok(&sel, "  my-app/v2.alloc_space  ");
    cr_assert_str_eq(sel.metric, "my-app/v2.alloc_space");
    selector_release(&sel);

    /* Prometheus 3: a lone quoted string inside braces is the metric name */
    ok(&sel, "{\"app.cpu\", env=\"x\"}");
    cr_assert_str_eq(sel.metric, "app.cpu");
    cr_assert_eq(sel.n, 1);
    selector_release(&sel);
    ok(&sel, "{env='x', \"weird name\" }");
    cr_assert_str_eq(sel.metric, "weird name");
    selector_release(&sel);

    bad("app{\"other\"}", "metric name given twice (offset 4)");
    bad("{\"\"}", "empty metric name at offset 1");
    bad("foo bar{}", "unexpected 'b' at offset 4 after metric name");
    bad("app*{}", "unexpected '*' at offset 3");
}

Test(selector, errors_name_offsets)
{
    bad("", "empty selector");
    bad("  \t ", "empty selector");
    bad("{a=\"b}", "unterminated quoted string starting at offset 3");
    bad("{a='b\n'}", "unterminated quoted string starting at offset 3");
    bad("{a=`b}", "unterminated raw string starting at offset 3");
    bad("{a=~\"(\"}", "invalid regex for label a at offset 4");
    bad("{a!~\"[z-a]\"}", "invalid regex");
    bad("{a=~\"\\\\C\"}", "invalid regex");
    bad("{a=\"b\"", "missing '}' at offset 6");
    bad("{a=\"b\",", "missing '}' at offset 7");
    bad("{", "missing '}' at offset 1");
    bad("app{", "missing '}' at offset 4");
    bad("{=\"b\"}", "expected label name at offset 1, got '='");
    bad("{\"\"=\"b\"}", "empty label name at offset 1");
    bad("{a}", "expected =, !=, =~ or !~ after label a at offset 2");
    bad("{a==\"b\"}", "expected quoted string after label a at offset 3");
    bad("{a=b}", "expected quoted string after label a at offset 3");
    bad("{a!\"b\"}", "expected =, !=, =~ or !~ after label a at offset 2");
    bad("{a=\"b\" c=\"d\"}", "expected ',' or '}' at offset 7, got 'c'");
    bad("{,}", "expected label name at offset 1, got ','");
    bad("{a=\"b\",,}", "expected label name at offset 7, got ','");
    bad("{1a=\"b\"}", "expected label name at offset 1, got '1'");
    bad("{{a=\"b\"}}", "expected label name at offset 1, got '{'");
    bad("{a=\"b\"}}", "unexpected '}' at offset 7 after '}'");
    bad("{a=\"b\"} x", "unexpected 'x' at offset 8 after '}'");
    bad("}", "unexpected '}' at offset 0");
    bad("{a-b=\"c\"}", "expected =, !=, =~ or !~ after label a at offset 2");
    bad("{\"a\\xff\"=\"c\"}", "not valid UTF-8");
    bad("{a\x01=\"b\"}", "after label a at offset 2");
    bad("{\x01}", "got byte 0x01");
}

Test(selector, length_is_respected)
{
    /* only the first len bytes are parsed; embedded NULs are plain bad bytes */
    selector_t sel;
    err_t err = {0};
    cr_assert_eq(selector_parse(&sel, "{a=\"b\"}garbage", 7, &err), 0, "%s", err.msg);
    cr_assert_eq(sel.n, 1);
    selector_release(&sel);
    cr_assert_eq(selector_parse(&sel, "{a=\"b\0\"}", 8, &err), EMB_EINVAL);
    cr_assert(strstr(err.msg, "NUL byte at offset 5"), "%s", err.msg);
    selector_release(&sel);
}

Test(selector, add_copies_and_compiles)
{
    selector_t sel;
    ok(&sel, "app.cpu");
    err_t err = {0};
    char name[] = "service_name", value[] = "ap+";
    cr_assert_eq(selector_add(&sel, name, MATCH_RE, value, &err), 0, "%s", err.msg);
    name[0] = value[0] = 'X'; /* copies, not borrowed */
    cr_assert_eq(sel.n, 1);
    cr_assert_str_eq(sel.m[0].name, "service_name");
    cr_assert_not_null(sel.m[0].re);
    cr_assert(matcher_match(&sel.m[0], "appp"));
    cr_assert_eq(selector_add(&sel, "env", MATCH_EQ, "x", &err), 0);
    cr_assert_eq(sel.n, 2);
    cr_assert_eq(selector_add(&sel, "bad", MATCH_NRE, "(", &err), EMB_EINVAL);
    cr_assert(strstr(err.msg, "invalid regex for label bad"), "%s", err.msg);
    cr_assert_eq(selector_add(&sel, "", MATCH_EQ, "x", &err), EMB_EINVAL);
    cr_assert_eq(sel.n, 2);
    selector_release(&sel);
    selector_release(&sel); /* double release is a no-op */

    selector_t empty = {0};
    cr_assert_eq(selector_add(&empty, "a", MATCH_EQ, "b", &err), 0);
    cr_assert_eq(empty.n, 1);
    selector_release(&empty);
    selector_release(NULL);
}

Test(selector, many_matchers)
{
    buf_t b = BUF_INIT;
    cr_assert_eq(buf_putc(&b, '{'), 0);
    for (int i = 0; i < 3000; i++)
        cr_assert_eq(buf_printf(&b, "l%d=~\"v%d|x\", ", i, i), 0);
    cr_assert_eq(buf_putc(&b, '}'), 0);
    selector_t sel;
    err_t err = {0};
    cr_assert_eq(selector_parse(&sel, b.data, b.len, &err), 0, "%s", err.msg);
    cr_assert_eq(sel.n, 3000);
    cr_assert_str_eq(sel.m[2999].name, "l2999");
    cr_assert_str_eq(sel.m[2999].value, "v2999|x");
    selector_release(&sel);
    buf_release(&b);
}

/* The header promises matcher_match is safe for concurrent queries on one selector. */
static void *hammer(void *arg)
{
    const selector_t *sel = arg;
    labels_t yes = LABELS_INIT, no = LABELS_INIT;
    labels_set_cstr(&yes, "a", "prod-eu-1");
    labels_set_cstr(&no, "a", "dev-us-2");
    long bad_count = 0;
    for (int i = 0; i < 5000; i++) {
        bad_count += !selector_match(sel, &yes);
        bad_count += selector_match(sel, &no);
    }
    labels_release(&yes);
    labels_release(&no);
    return (void *)bad_count;
}

Test(selector, concurrent_matching)
{
    selector_t sel;
    ok(&sel, "{a=~\"prod-.*-[0-9]+\", a!~\"x.*\"}");
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        cr_assert_eq(pthread_create(&t[i], NULL, hammer, &sel), 0);
    for (int i = 0; i < 4; i++) {
        void *r;
        pthread_join(t[i], &r);
        cr_assert_null(r);
    }
    selector_release(&sel);
}
