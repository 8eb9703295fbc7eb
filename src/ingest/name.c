/* name_parse: the legacy /ingest `name` parameter, `app.cpu{env=prod,region=eu}`
 * (ingest/name.h, PROTOCOLS.md §1.2), after Pyroscope's api/model/labelset parser.
 *
 * Data flow: the /ingest handler calls this once per request; the app name becomes the
 * series' __name__ / service_name, the tags become series labels.
 *
 * Compatibility notes (upstream behaviour vs ours):
 *  - Like Go, text is read as runes: trimming strips Unicode whitespace, and a byte that is not
 *    valid UTF-8 becomes U+FFFD in a value (so values are always valid UTF-8).
 *  - A pair without `=` is an error (upstream silently drops `{a}` and a trailing `,a}`).
 *  - A missing `}` ends the set at the end of the input (upstream drops the last pair).
 *  - `__name__` inside the braces is dropped like every `__` key (upstream lets it replace
 *    the app name).
 *  - A NUL byte in a value is an error: values are C strings here.
 */
#include "ingest/name.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "base/utf8.h"

/* Writes "'c'" or "U+XXXX" / "byte 0xNN" for the rune at s[i..n). */
static const char *describe_rune(char *tmp, size_t cap, const char *s, size_t i, size_t n)
{
    uint32_t r;
    size_t k = utf8_decode(s + i, n - i, &r);
    if (k == 0)
        snprintf(tmp, cap, "byte 0x%02x", (unsigned char)s[i]);
    else if (r >= 0x20 && r < 0x7F)
        snprintf(tmp, cap, "'%c'", (char)r);
    else
        snprintf(tmp, cap, "U+%04X", (unsigned)r);
    return tmp;
}

static bool is_key_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '.';
}

static bool is_app_char(char c) { return is_key_char(c) || c == '-' || c == '/'; }

/* One `key=value` piece, s[b..e) (e excludes the separator). */
static int parse_pair(labels_t *tags, const char *s, size_t b, size_t e, err_t *err)
{
    char tmp[24];
    const char *eq = memchr(s + b, '=', e - b);
    size_t kb = b, ke = eq ? (size_t)(eq - s) : e;
    utf8_trim_space(s, &kb, &ke);
    if (kb == ke)
        return err_set(err, EMB_EINVAL, "name: empty label name at offset %zu", b);
    if (!eq)
        return err_set(err, EMB_EINVAL, "name: label %.*s at offset %zu has no '='",
                       (int)(ke - kb), s + kb, kb);
    for (size_t i = kb; i < ke; i++)
        if (!is_key_char(s[i]))
            return err_set(err, EMB_EINVAL,
                           "name: invalid label name at offset %zu: %s is not allowed", kb,
                           describe_rune(tmp, sizeof(tmp), s, i, ke));
    size_t vb = (size_t)(eq - s) + 1, ve = e;
    utf8_trim_space(s, &vb, &ve);
    if (memchr(s + vb, '\0', ve - vb))
        return err_set(err, EMB_EINVAL, "name: NUL byte in the value of label %.*s",
                       (int)(ke - kb), s + kb);

    size_t klen = ke - kb;
    bool reserved = klen >= 2 && s[kb] == '_' && s[kb + 1] == '_';
    if (reserved && !(klen == 14 && memcmp(s + kb, "__session_id__", 14) == 0))
        return 0; /* dropped on ingestion */
    size_t vlen;
    char *v = utf8_sanitize_dup(s + vb, ve - vb, &vlen);
    labels_set(tags, s + kb, klen, v, vlen);
    free(v);
    return 0;
}

int name_parse(char **app, labels_t *tags, const char *s, size_t len, err_t *err)
{
    *app = NULL;
    labels_init(tags);
    if (!s)
        s = "", len = 0;
    char tmp[24];
    int rc = 0;

    const char *lb = memchr(s, '{', len);
    size_t ab = 0, ae = lb ? (size_t)(lb - s) : len;
    utf8_trim_space(s, &ab, &ae);
    if (ab == ae) {
        rc = err_set(err, EMB_EINVAL, "name: app name is required");
        goto out;
    }
    for (size_t i = ab; i < ae; i++) {
        if (!is_app_char(s[i])) {
            rc = err_set(err, EMB_EINVAL,
                         "name: invalid app name: %s at offset %zu is not allowed",
                         describe_rune(tmp, sizeof(tmp), s, i, ae), i);
            goto out;
        }
    }

    if (lb) {
        size_t b = (size_t)(lb - s) + 1;
        const char *rb = memchr(s + b, '}', len - b);
        size_t end = rb ? (size_t)(rb - s) : len;
        while (b <= end) {
            const char *comma = memchr(s + b, ',', end - b);
            size_t e = comma ? (size_t)(comma - s) : end;
            size_t tb = b, te = e;
            utf8_trim_space(s, &tb, &te);
            /* A blank last piece is `{}` or a trailing comma; a blank one elsewhere is not. */
            if (!(tb == te && !comma)) {
                rc = parse_pair(tags, s, b, e, err);
                if (rc)
                    goto out;
            }
            b = e + 1;
        }
    }
    *app = xstrndup(s + ab, ae - ab);
out:
    if (rc)
        labels_release(tags);
    return rc;
}
