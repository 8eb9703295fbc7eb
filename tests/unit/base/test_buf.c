/* Tests for base/buf: caps, all-or-nothing appends, JSON escaping. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/err.h"

Test(buf, append_respects_max_and_is_all_or_nothing)
{
    buf_t b;
    buf_init(&b, 8);
    cr_assert_eq(buf_puts(&b, "hello"), 0);
    cr_assert_eq(buf_puts(&b, "world"), EMB_ETOOBIG);
    cr_assert_str_eq(b.data, "hello");
    cr_assert_eq(buf_puts(&b, "abc"), 0);
    cr_assert_eq(b.len, 8);
    buf_release(&b);
    buf_release(&b);
}

Test(buf, printf_and_detach)
{
    buf_t b = BUF_INIT;
    cr_assert_eq(buf_printf(&b, "%d-%s", 42, "x"), 0);
    size_t n;
    char *s = buf_detach(&b, &n);
    cr_assert_str_eq(s, "42-x");
    cr_assert_eq(n, 4);
    cr_assert_null(b.data);
    free(s);
}

Test(buf, json_escapes_controls_quotes_and_bad_utf8)
{
    buf_t b = BUF_INIT;
    const char in[] = "a\"b\\c\n\x01\xc3\xa9\xff";
    cr_assert_eq(buf_json_str(&b, in, sizeof(in) - 1), 0);
    cr_assert_str_eq(b.data, "\"a\\\"b\\\\c\\n\\u0001\xc3\xa9\\ufffd\"");
    buf_release(&b);
}
