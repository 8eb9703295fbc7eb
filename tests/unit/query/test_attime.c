/* Tests for query/attime: relative offsets and units, unix times by digit count, dates, and
 * the "garbage means now" rule of Pyroscope's attime.Parse. */
#include <criterion/criterion.h>
#include <stdint.h>

#include "query/attime.h"

#define S 1000000000LL
#define MIN (60 * S)
#define H (3600 * S)
#define D (86400 * S)

/* 2023-11-14T22:13:20Z */
static const int64_t NOW = 1700000000LL * S;

static int64_t at(const char *s) { return attime_parse(s, NOW); }

Test(attime, now_and_empty)
{
    cr_assert_eq(attime_parse(NULL, NOW), NOW);
    cr_assert_eq(at(""), NOW);
    cr_assert_eq(at("now"), NOW);
    cr_assert_eq(at("  now \t\n"), NOW);
    cr_assert_eq(at("   "), NOW);
}

Test(attime, relative_offsets)
{
    cr_assert_eq(at("now-1h"), NOW - H);
    cr_assert_eq(at("now-1h30m"), NOW - H - 30 * MIN);
    cr_assert_eq(at("now-7d"), NOW - 7 * D);
    cr_assert_eq(at("now+5m"), NOW + 5 * MIN);
    cr_assert_eq(at("now-30s"), NOW - 30 * S);
    cr_assert_eq(at("now-2w"), NOW - 14 * D);
    cr_assert_eq(at("now-1y"), NOW - 365 * D);
    cr_assert_eq(at("now-1d12h"), NOW - D - 12 * H);
    /* the sign applies to every part; the split is at the first sign */
    cr_assert_eq(at("now-1h-30m"), NOW - H - 30 * MIN);
    cr_assert_eq(at("now+1h-30m"), NOW + H + 30 * MIN);
    cr_assert_eq(at("-1h"), NOW - H);
    cr_assert_eq(at("+1h"), NOW + H);
}

Test(attime, units_by_prefix)
{
    cr_assert_eq(at("now-1M"), NOW - 30 * D);
    cr_assert_eq(at("now-1m"), NOW - MIN);
    cr_assert_eq(at("now-1mon"), NOW - 30 * D);
    cr_assert_eq(at("now-2months"), NOW - 60 * D);
    cr_assert_eq(at("now-1min"), NOW - MIN);
    cr_assert_eq(at("now-5minutes"), NOW - 5 * MIN);
    cr_assert_eq(at("now-1ms"), NOW - MIN); /* prefix `m`, as upstream */
    cr_assert_eq(at("now-3hours"), NOW - 3 * H);
    cr_assert_eq(at("now-1sec"), NOW - S);
    cr_assert_eq(at("now-1days"), NOW - D);
    /* unknown units and missing numbers count 0 */
    cr_assert_eq(at("now-1x"), NOW);
    cr_assert_eq(at("now-1H"), NOW);
    cr_assert_eq(at("now-5"), NOW);
    cr_assert_eq(at("now-h"), NOW);
    cr_assert_eq(at("now-"), NOW);
}

Test(attime, separators_are_ignored)
{
    cr_assert_eq(at(" now - 1h "), NOW - H);
    cr_assert_eq(at("now-1_000s"), NOW - 1000 * S);
    cr_assert_eq(at("now-1,000s"), NOW - 1000 * S);
    cr_assert_eq(at("1,700,000,000"), NOW);
    cr_assert_eq(at("1_700_000_000"), NOW);
    /* Go's TrimSpace strips Unicode spaces at the ends (here U+00A0 and U+3000) */
    cr_assert_eq(at("\xc2\xa0" "1700000000" "\xe3\x80\x80"), NOW);
}

Test(attime, unix_times_by_digit_count)
{
    cr_assert_eq(at("1700000000"), NOW);                           /* 10: seconds */
    cr_assert_eq(at("1700000000123"), NOW + 123000000LL);          /* 13: ms */
    cr_assert_eq(at("1700000000123456"), NOW + 123456000LL);       /* 16: µs */
    cr_assert_eq(at("1700000000123456789"), NOW + 123456789LL);    /* 19: ns */
    cr_assert_eq(at("12345"), 12345 * S);                          /* other: seconds */
    cr_assert_eq(at("0"), 0);
    cr_assert_eq(at("0000000000000"), 0);
    cr_assert_eq(at("00000000000000000001"), 1 * S);               /* 20 digits: seconds */
}

Test(attime, dates)
{
    cr_assert_eq(at("20231114"), 1699920000LL * S);
    cr_assert_eq(at("19700101"), 0 * S + 0);
    cr_assert_eq(at("20240229"), 1709164800LL * S);
    /* not a valid date (or year <= 1900): seconds */
    cr_assert_eq(at("20230229"), 20230229LL * S);
    cr_assert_eq(at("20231301"), 20231301LL * S);
    cr_assert_eq(at("20231100"), 20231100LL * S);
    cr_assert_eq(at("18991231"), 18991231LL * S);
    cr_assert_eq(at("19000101"), 19000101LL * S);
    cr_assert_eq(at("19010101"), -2177452800LL * S);
}

Test(attime, garbage_means_now)
{
    cr_assert_eq(at("garbage"), NOW);
    cr_assert_eq(at("yesterday"), NOW);
    cr_assert_eq(at("12abc"), NOW);
    cr_assert_eq(at("2023-11-14"), NOW - 2023 * 0); /* `-11-14`: number then no unit */
    cr_assert_eq(at("yesterday-1h"), NOW - H);      /* the reference word is ignored */
    cr_assert_eq(at("\xff\xfe"), NOW);
}

Test(attime, overflow_saturates)
{
    cr_assert_eq(at("99999999999999999999"), INT64_MAX);
    cr_assert_eq(at("9999999999999999999"), INT64_MAX);
    cr_assert_eq(at("9999999999999"), INT64_MAX);
    /* the offset saturates at the int64 range, and so does the sum */
    cr_assert_eq(attime_parse("now-999999999999999999999999y", 0), INT64_MIN);
    cr_assert_lt(at("now-999999999999999999999999y"), NOW - 200 * 365 * D);
    cr_assert_eq(at("now+99999999999y"), INT64_MAX);
    cr_assert_eq(attime_parse("now+1s", INT64_MAX), INT64_MAX);
    cr_assert_eq(attime_parse("now-1h", INT64_MIN), INT64_MIN);
    cr_assert_eq(at("99991231"), INT64_MAX); /* a valid date past 2262 */
}
