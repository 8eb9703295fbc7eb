/* Tests for base/utf8: Go's decoder rules (overlongs, surrogates, > U+10FFFF, truncation),
 * encoding, unicode.IsSpace, strings.TrimSpace and U+FFFD sanitizing. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "base/utf8.h"

/* utf8_decode over a string literal (length without the terminating NUL). */
#define DEC(lit, r) utf8_decode((lit), sizeof(lit) - 1, (r))
#define VALID(lit) utf8_valid((lit), sizeof(lit) - 1)

Test(utf8, decodes_each_length_at_its_bounds)
{
    static const struct {
        const char *s;
        size_t len;
        uint32_t rune;
    } cases[] = {
        {"\x00", 1, 0},           {"\x7f", 1, 0x7F},         {"\xc2\x80", 2, 0x80},
        {"\xdf\xbf", 2, 0x7FF},   {"\xe0\xa0\x80", 3, 0x800}, {"\xed\x9f\xbf", 3, 0xD7FF},
        {"\xee\x80\x80", 3, 0xE000}, {"\xef\xbf\xbf", 3, 0xFFFF},
        {"\xf0\x90\x80\x80", 4, 0x10000}, {"\xf4\x8f\xbf\xbf", 4, 0x10FFFF},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint32_t r = 0xDEAD;
        /* n includes the literal's NUL: the decoder must stop at its own sequence. */
        size_t n = strlen(cases[i].s) + 1;
        cr_assert_eq(utf8_decode(cases[i].s, n, &r), cases[i].len, "case %zu", i);
        cr_assert_eq(r, cases[i].rune, "case %zu", i);
    }
    uint32_t r = 0;
    cr_assert_eq(DEC("\xc3\xa9z", &r), 2, "only the first sequence is read");
    cr_assert_eq(r, 0xE9);
    cr_assert_eq(DEC("\xe2\x82\xac", NULL), 3, "NULL out validates only");
}

Test(utf8, rejects_overlongs)
{
    uint32_t r = 12345;
    cr_assert_eq(DEC("\xc0\x80", &r), 0);
    cr_assert_eq(DEC("\xc1\xbf", &r), 0);
    cr_assert_eq(DEC("\xe0\x80\x80", &r), 0);
    cr_assert_eq(DEC("\xe0\x9f\xbf", &r), 0);
    cr_assert_eq(DEC("\xf0\x80\x80\x80", &r), 0);
    cr_assert_eq(DEC("\xf0\x8f\xbf\xbf", &r), 0);
    cr_assert_eq(r, 12345, "a malformed sequence leaves *out alone");
}

Test(utf8, rejects_surrogates)
{
    cr_assert_eq(DEC("\xed\xa0\x80", NULL), 0); /* U+D800 */
    cr_assert_eq(DEC("\xed\xaf\xbf", NULL), 0); /* U+DBFF */
    cr_assert_eq(DEC("\xed\xb0\x80", NULL), 0); /* U+DC00 */
    cr_assert_eq(DEC("\xed\xbf\xbf", NULL), 0); /* U+DFFF */
    cr_assert_not(VALID("a\xed\xa0\x80\xed\xb0\x80")); /* CESU-8 pair */
}

Test(utf8, rejects_past_10ffff_and_bad_lead_bytes)
{
    cr_assert_eq(DEC("\xf4\x90\x80\x80", NULL), 0); /* U+110000 */
    cr_assert_eq(DEC("\xf5\x80\x80\x80", NULL), 0);
    cr_assert_eq(DEC("\xf7\xbf\xbf\xbf", NULL), 0);
    cr_assert_eq(DEC("\xf8\x88\x80\x80\x80", NULL), 0); /* old 5-byte form */
    cr_assert_eq(DEC("\xfc\x84\x80\x80\x80\x80", NULL), 0);
    cr_assert_eq(DEC("\xfe", NULL), 0);
    cr_assert_eq(DEC("\xff", NULL), 0);
    cr_assert_eq(DEC("\x80", NULL), 0); /* lone continuation */
    cr_assert_eq(DEC("\xbf", NULL), 0);
}

Test(utf8, rejects_truncated_and_interrupted_sequences)
{
    cr_assert_eq(utf8_decode("", 0, NULL), 0);
    cr_assert_eq(DEC("\xc3", NULL), 0);
    cr_assert_eq(DEC("\xe2\x82", NULL), 0);
    cr_assert_eq(DEC("\xf0\x9f\x98", NULL), 0);
    /* n cuts a sequence that continues past it. */
    cr_assert_eq(utf8_decode("\xe2\x82\xac", 2, NULL), 0);
    /* A non-continuation byte inside the sequence. */
    cr_assert_eq(DEC("\xc3z", NULL), 0);
    cr_assert_eq(DEC("\xe2\x82z", NULL), 0);
    cr_assert_eq(DEC("\xf0\x9f\x98\xc3", NULL), 0);
    cr_assert_not(VALID("ok\xe2\x82"));
}

Test(utf8, valid_whole_strings)
{
    cr_assert(utf8_valid("", 0));
    cr_assert(utf8_valid(NULL, 0));
    cr_assert(VALID("plain ascii"));
    cr_assert(VALID("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"));
    cr_assert(VALID("nul\x00inside"));
    cr_assert_not(VALID("caf\xc3"));
    cr_assert_not(VALID("\xc0\xaf" "etc"));
    cr_assert_not(VALID("x\xff"));
}

Test(utf8, encode_round_trips)
{
    const uint32_t runes[] = {0, 0x41, 0x7F, 0x80, 0x7FF, 0x800, 0xD7FF, 0xE000, 0xFFFD,
                              0xFFFF, 0x10000, 0x1F600, 0x10FFFF};
    const size_t lens[] = {1, 1, 1, 2, 2, 3, 3, 3, 3, 3, 4, 4, 4};
    for (size_t i = 0; i < sizeof(runes) / sizeof(runes[0]); i++) {
        char buf[UTF8_MAX];
        size_t k = utf8_encode(buf, runes[i]);
        cr_assert_eq(k, lens[i], "U+%04X", (unsigned)runes[i]);
        uint32_t r = 0;
        cr_assert_eq(utf8_decode(buf, k, &r), k, "U+%04X", (unsigned)runes[i]);
        cr_assert_eq(r, runes[i]);
    }
    char buf[UTF8_MAX];
    cr_assert_eq(utf8_encode(buf, 0xFFFD), 3);
    cr_assert_eq(memcmp(buf, UTF8_REPLACEMENT, 3), 0);
}

Test(utf8, is_space_matches_go_unicode_isspace)
{
    const uint32_t yes[] = {'\t', '\n', '\v', '\f', '\r', ' ', 0x85, 0xA0, 0x1680, 0x2000,
                            0x2005, 0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000};
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
        cr_assert(utf8_is_space(yes[i]), "U+%04X", (unsigned)yes[i]);
    /* Not White_Space: ZWSP, BOM, mongolian vowel separator, information separators. */
    const uint32_t no[] = {0,      'a',    0x1C,   0x1F,   0x7F,   0x84,  0x86,
                           0x180E, 0x1FFF, 0x200B, 0x2027, 0x202A, 0x2060, 0xFEFF,
                           0x2FFF, 0x3001, 0xFFFD};
    for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
        cr_assert_not(utf8_is_space(no[i]), "U+%04X", (unsigned)no[i]);
}

/* Trims lit and checks the result is exactly want. */
static void check_trim(const char *s, size_t n, const char *want)
{
    size_t b = 0, e = n;
    utf8_trim_space(s, &b, &e);
    cr_assert_leq(b, e);
    cr_assert_eq(e - b, strlen(want), "trimmed to %zu bytes, want %zu", e - b, strlen(want));
    cr_assert_eq(memcmp(s + b, want, e - b), 0);
}
#define TRIM(lit, want) check_trim((lit), sizeof(lit) - 1, (want))

Test(utf8, trim_space_ascii_and_unicode)
{
    TRIM("", "");
    TRIM("   ", "");
    TRIM(" \t\r\n\v\f", "");
    TRIM("  a b  ", "a b");
    TRIM("\xc2\xa0x\xc2\x85", "x");                  /* U+00A0, U+0085 */
    TRIM("\xe3\x80\x80x y\xe2\x80\xaf", "x y");      /* U+3000, U+202F */
    TRIM("\xe2\x80\x80\xe2\x80\x8a\xe1\x9a\x80z", "z"); /* U+2000, U+200A, U+1680 */
    TRIM("\xe2\x80\x8bz\xe2\x80\x8b", "\xe2\x80\x8bz\xe2\x80\x8b"); /* ZWSP is not space */
    TRIM("\xef\xbb\xbfz", "\xef\xbb\xbfz");          /* nor is the BOM */
    TRIM(" \xe2\x80\xa8\xe2\x80\xa9 ", "");          /* U+2028, U+2029 */
}

Test(utf8, trim_space_stops_at_malformed_bytes)
{
    TRIM(" \xff ", "\xff");
    TRIM(" \xc2 ", "\xc2");
    TRIM("\xa0 x", "\xa0 x");         /* lone continuation byte, not U+00A0 */
    TRIM("x \xa0", "x \xa0");
    TRIM("x\xc0\xa0", "x\xc0\xa0");   /* overlong space */
    TRIM("x \xe3\x80", "x \xe3\x80"); /* truncated U+3000 */
}

Test(utf8, trim_space_keeps_the_outer_range)
{
    const char s[] = "ab  cd  ef";
    size_t b = 2, e = 8; /* "  cd  " */
    utf8_trim_space(s, &b, &e);
    cr_assert_eq(b, 4);
    cr_assert_eq(e, 6);
    b = 3, e = 3;
    utf8_trim_space(s, &b, &e);
    cr_assert_eq(b, 3);
    cr_assert_eq(e, 3);
}

/* Sanitizes lit and checks the owned copy is exactly want. */
static void check_sanitize(const char *s, size_t n, const char *want)
{
    size_t len = 12345;
    char *o = utf8_sanitize_dup(s, n, &len);
    cr_assert_eq(len, strlen(want));
    cr_assert_eq(memcmp(o, want, len), 0);
    cr_assert_eq(o[len], '\0');
    cr_assert(utf8_valid(o, len));
    free(o);
}
#define SANITIZE(lit, want) check_sanitize((lit), sizeof(lit) - 1, (want))
#define FFFD UTF8_REPLACEMENT

Test(utf8, sanitize_replaces_each_bad_byte)
{
    SANITIZE("", "");
    SANITIZE("caf\xc3\xa9", "caf\xc3\xa9");
    SANITIZE("a\xff" "b", "a" FFFD "b");
    SANITIZE("\xc3", FFFD);
    SANITIZE("\xe2\x82", FFFD FFFD);               /* truncated: one per byte, as in Go */
    SANITIZE("\xc0\x80", FFFD FFFD);               /* overlong */
    SANITIZE("\xed\xa0\x80", FFFD FFFD FFFD);      /* surrogate */
    SANITIZE("\xf4\x90\x80\x80", FFFD FFFD FFFD FFFD); /* U+110000 */
    SANITIZE("\xe2\x82z\xe2\x82\xac", FFFD FFFD "z\xe2\x82\xac");
    SANITIZE(FFFD, FFFD);
}

Test(utf8, sanitize_worst_case_and_embedded_nul)
{
    char in[64];
    memset(in, 0x80, sizeof(in));
    size_t len;
    char *o = utf8_sanitize_dup(in, sizeof(in), &len);
    cr_assert_eq(len, 3 * sizeof(in));
    for (size_t i = 0; i < len; i += 3)
        cr_assert_eq(memcmp(o + i, UTF8_REPLACEMENT, 3), 0);
    free(o);

    o = utf8_sanitize_dup("a\0b", 3, &len); /* NUL is a valid rune and kept */
    cr_assert_eq(len, 3);
    cr_assert_eq(memcmp(o, "a\0b", 4), 0);
    free(o);
}
