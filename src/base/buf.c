/* buf_t: see buf.h. Appends are all-or-nothing so a failed append never leaves half a
 * record in a response or a WAL frame. */
#include "base/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/mem.h"
#include "base/utf8.h"

void buf_init(buf_t *b, size_t max)
{
    b->data = NULL;
    b->len = b->cap = 0;
    b->max = max;
}

void buf_release(buf_t *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

void buf_reset(buf_t *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = 0;
}

char *buf_reserve(buf_t *b, size_t n)
{
    size_t need = b->len + n + 1;
    if (need < n || (b->max && b->len + n > b->max))
        return NULL;
    if (need > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < need)
            cap *= 2;
        b->data = xrealloc(b->data, cap);
        b->cap = cap;
        b->data[b->len] = 0;
    }
    return b->data + b->len;
}

void buf_setlen(buf_t *b, size_t len)
{
    b->len = len;
    b->data[len] = 0;
}

int buf_append(buf_t *b, const void *p, size_t n)
{
    char *t = buf_reserve(b, n);
    if (!t)
        return EMB_ETOOBIG;
    if (n)
        memcpy(t, p, n);
    buf_setlen(b, b->len + n);
    return 0;
}

int buf_puts(buf_t *b, const char *s) { return buf_append(b, s, strlen(s)); }

int buf_putc(buf_t *b, char c) { return buf_append(b, &c, 1); }

int buf_vprintf(buf_t *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return EMB_EINVAL;
    char *t = buf_reserve(b, (size_t)n);
    if (!t)
        return EMB_ETOOBIG;
    vsnprintf(t, (size_t)n + 1, fmt, ap);
    buf_setlen(b, b->len + (size_t)n);
    return 0;
}

int buf_printf(buf_t *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = buf_vprintf(b, fmt, ap);
    va_end(ap);
    return rc;
}

int buf_json_str(buf_t *b, const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t start = b->len;
    int rc = buf_putc(b, '"');
    size_t run = 0; /* bytes of s[i-run, i) that need no escaping */
    for (size_t i = 0; rc == 0 && i < n;) {
        unsigned char c = s[i];
        const char *esc = NULL;
        char tmp[8];
        size_t ul = 1;
        if (c == '"') esc = "\\\"";
        else if (c == '\\') esc = "\\\\";
        else if (c == '\n') esc = "\\n";
        else if (c == '\r') esc = "\\r";
        else if (c == '\t') esc = "\\t";
        else if (c < 0x20) { snprintf(tmp, sizeof(tmp), "\\u%04x", c); esc = tmp; }
        else if (c >= 0x80) {
            ul = utf8_decode(str + i, n - i, NULL);
            if (ul == 0) { esc = "\\ufffd"; ul = 1; }
        }
        if (esc) {
            if (run)
                rc = buf_append(b, s + i - run, run);
            run = 0;
            if (rc == 0)
                rc = buf_puts(b, esc);
            i += ul;
        } else {
            run += ul;
            i += ul;
        }
    }
    if (rc == 0 && run)
        rc = buf_append(b, s + n - run, run);
    if (rc == 0)
        rc = buf_putc(b, '"');
    if (rc)
        buf_setlen(b, start);
    return rc;
}

char *buf_detach(buf_t *b, size_t *out_len)
{
    if (!b->data) {
        b->data = xmalloc(1);
        b->data[0] = 0;
    }
    char *p = b->data;
    if (out_len)
        *out_len = b->len;
    b->data = NULL;
    b->len = b->cap = 0;
    return p;
}
