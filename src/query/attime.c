/* attime_parse: the `from` / `until` syntax of /pyroscope/render and /ingest (query/attime.h,
 * PROTOCOLS.md §3.2), following Pyroscope's pkg/og/util/attime.
 *
 * Steps, in Pyroscope's order: trim Unicode whitespace (Go strings.TrimSpace); drop every
 * `_`, `,` and ASCII space; an all-digit string is a date (8 digits, YYYYMMDD, year > 1900)
 * or a unix time whose unit is chosen by its length; anything else is split at the first `+`
 * (else the first `-`): the part before is ignored (it always means now) and the part after
 * is an offset. Nothing here can fail: garbage means now, unknown units count 0.
 *
 * Deliberate differences from upstream, both at the edges:
 *  - `now-1h30m` is 1h30m. Upstream's loop lets the first unit swallow the rest of the
 *    string (so it yields 1h); PROTOCOLS.md §3.2 and our header specify the sum.
 *  - Arithmetic saturates at the int64 nanosecond range where Go would wrap.
 */
#include "query/attime.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "base/utf8.h"

#define NS_PER_SEC 1000000000LL

/* ---- saturating arithmetic ------------------------------------------------------------- */

static int64_t sat_add(int64_t a, int64_t b)
{
    int64_t r;
    if (__builtin_add_overflow(a, b, &r))
        return b > 0 ? INT64_MAX : INT64_MIN;
    return r;
}

static int64_t sat_mul(int64_t a, int64_t b)
{
    int64_t r;
    if (__builtin_mul_overflow(a, b, &r))
        return ((a < 0) != (b < 0)) ? INT64_MIN : INT64_MAX;
    return r;
}

/* Decimal digits to int64, clamped at INT64_MAX like Go's strconv.Atoi on overflow; "" → 0. */
static int64_t digits_value(const char *p, size_t n)
{
    int64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = sat_add(sat_mul(v, 10), p[i] - '0');
    return v;
}

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

/* ---- pieces ----------------------------------------------------------------------------- */

static bool is_leap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* 8 digits as YYYYMMDD (Go time.Parse("20060102") plus Pyroscope's year > 1900 check).
 * OUT: *ns, midnight UTC. */
static bool parse_date(const char *p, int64_t *ns)
{
    int64_t y = digits_value(p, 4), m = digits_value(p + 4, 2), d = digits_value(p + 6, 2);
    static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y <= 1900 || m < 1 || m > 12 || d < 1)
        return false;
    int dim = mdays[m - 1] + (m == 2 && is_leap(y));
    if (d > dim)
        return false;
    *ns = sat_mul(days_from_civil(y, m, d) * 86400, NS_PER_SEC); /* past 2262: saturates */
    return true;
}

/* Seconds per unit, chosen by prefix in Pyroscope's order (so `ms` is minutes). */
static int64_t unit_seconds(const char *u, size_t n)
{
#define HAS(lit) (n >= sizeof(lit) - 1 && memcmp(u, lit, sizeof(lit) - 1) == 0)
    if (HAS("s"))
        return 1;
    if (HAS("mon") || HAS("M"))
        return 30 * 86400;
    if (HAS("m")) /* also covers "min" */
        return 60;
    if (HAS("h"))
        return 3600;
    if (HAS("d"))
        return 86400;
    if (HAS("w"))
        return 7 * 86400;
    if (HAS("y"))
        return 365 * 86400;
    return 0;
#undef HAS
}

/* `[+-]N<unit>[N<unit>...]` in nanoseconds; a unit is the run of non-digits after a number. */
static int64_t parse_offset(const char *p, size_t n)
{
    int64_t sign = 1;
    size_t i = 0;
    if (i < n && (p[i] == '-' || p[i] == '+')) {
        if (p[i] == '-')
            sign = -1;
        i++;
    }
    int64_t total = 0;
    while (i < n) {
        size_t ds = i;
        while (i < n && is_digit(p[i]))
            i++;
        int64_t num = sign * digits_value(p + ds, i - ds); /* no overflow: value >= 0 */
        size_t us = i;
        while (i < n && !is_digit(p[i]))
            i++;
        int64_t secs = sat_mul(num, unit_seconds(p + us, i - us));
        total = sat_add(total, sat_mul(secs, NS_PER_SEC));
    }
    return total;
}

int64_t attime_parse(const char *s, int64_t now_ns)
{
    if (!s)
        return now_ns;
    size_t b = 0, e = strlen(s);
    utf8_trim_space(s, &b, &e);
    s += b;
    size_t n = e - b;
    if (n == 0)
        return now_ns;

    char *t = xmalloc(n + 1);
    size_t len = 0;
    bool all_digits = true;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '_' || c == ',' || c == ' ')
            continue;
        all_digits = all_digits && is_digit(c);
        t[len++] = c;
    }
    t[len] = '\0';

    int64_t r = now_ns;
    if (len == 0) {
        /* now */
    } else if (all_digits) {
        if (len != 8 || !parse_date(t, &r)) {
            int64_t v = digits_value(t, len);
            switch (len) {
            case 13:
                r = sat_mul(v, 1000000);
                break;
            case 16:
                r = sat_mul(v, 1000);
                break;
            case 19:
                r = v;
                break;
            default:
                r = sat_mul(v, NS_PER_SEC);
                break;
            }
        }
    } else {
        const char *sign = memchr(t, '+', len);
        if (!sign)
            sign = memchr(t, '-', len);
        if (sign)
            r = sat_add(now_ns, parse_offset(sign, len - (size_t)(sign - t)));
    }
    free(t);
    return r;
}
