/* UTF-8 decoding, validation, encoding and Go's whitespace rules (see base/utf8.h). */
#include "base/utf8.h"

#include <string.h>

#include "base/mem.h"

size_t utf8_decode(const char *s, size_t n, uint32_t *out)
{
    const unsigned char *p = (const unsigned char *)s;
    if (n == 0)
        return 0;
    unsigned c = p[0];
    if (c < 0x80) {
        if (out)
            *out = c;
        return 1;
    }
    size_t need;
    uint32_t v, min;
    if (c >= 0xC2 && c <= 0xDF)
        need = 2, v = c & 0x1F, min = 0x80;
    else if (c >= 0xE0 && c <= 0xEF)
        need = 3, v = c & 0x0F, min = 0x800;
    else if (c >= 0xF0 && c <= 0xF4)
        need = 4, v = c & 0x07, min = 0x10000;
    else
        return 0; /* continuation byte, C0/C1 (always overlong), F5..FF (past U+10FFFF) */
    if (n < need)
        return 0;
    for (size_t i = 1; i < need; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        v = (v << 6) | (p[i] & 0x3F);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v < 0xE000))
        return 0;
    if (out)
        *out = v;
    return need;
}

bool utf8_valid(const char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        if ((unsigned char)s[i] < 0x80) {
            i++;
            continue;
        }
        size_t k = utf8_decode(s + i, n - i, NULL);
        if (k == 0)
            return false;
        i += k;
    }
    return true;
}

size_t utf8_encode(char *out, uint32_t rune)
{
    if (rune < 0x80) {
        out[0] = (char)rune;
        return 1;
    }
    if (rune < 0x800) {
        out[0] = (char)(0xC0 | (rune >> 6));
        out[1] = (char)(0x80 | (rune & 0x3F));
        return 2;
    }
    if (rune < 0x10000) {
        out[0] = (char)(0xE0 | (rune >> 12));
        out[1] = (char)(0x80 | ((rune >> 6) & 0x3F));
        out[2] = (char)(0x80 | (rune & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (rune >> 18));
    out[1] = (char)(0x80 | ((rune >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((rune >> 6) & 0x3F));
    out[3] = (char)(0x80 | (rune & 0x3F));
    return 4;
}

bool utf8_is_space(uint32_t rune)
{
    switch (rune) {
    case '\t': case '\n': case '\v': case '\f': case '\r': case ' ':
    case 0x85: case 0xA0: case 0x1680: case 0x2028: case 0x2029: case 0x202F: case 0x205F:
    case 0x3000:
        return true;
    default:
        return rune >= 0x2000 && rune <= 0x200A;
    }
}

void utf8_trim_space(const char *s, size_t *b, size_t *e)
{
    const unsigned char *p = (const unsigned char *)s;
    uint32_t r;
    while (*b < *e) {
        size_t k = utf8_decode(s + *b, *e - *b, &r);
        if (k == 0 || !utf8_is_space(r))
            break;
        *b += k;
    }
    while (*e > *b) {
        /* The last rune starts at the last non-continuation byte among the final four. */
        size_t st = *e - 1;
        while (st > *b && *e - st < UTF8_MAX && (p[st] & 0xC0) == 0x80)
            st--;
        size_t k = utf8_decode(s + st, *e - st, &r);
        if (k != *e - st || !utf8_is_space(r))
            break;
        *e = st;
    }
}

char *utf8_sanitize_dup(const char *s, size_t n, size_t *out_len)
{
    char *o = xmalloc(3 * n + 1); /* worst case: every byte becomes 3-byte U+FFFD */
    size_t k = 0;
    for (size_t i = 0; i < n;) {
        size_t l = utf8_decode(s + i, n - i, NULL);
        if (l == 0) {
            memcpy(o + k, UTF8_REPLACEMENT, 3);
            k += 3;
            i++;
        } else {
            memcpy(o + k, s + i, l);
            k += l;
            i += l;
        }
    }
    o[k] = '\0';
    *out_len = k;
    return o;
}
