/* multipart/form-data: find "--boundary" delimiters with memmem, parse each part's headers
 * for Content-Disposition, keep the data between the blank line and the next delimiter. */
#include "ingest/multipart.h"

#include <string.h>
#include <strings.h>

int multipart_boundary(slice_t *out, const char *ct, err_t *err)
{
    const char *p = ct ? strcasestr(ct, "boundary=") : NULL;
    if (!p)
        return err_set(err, EMB_ECORRUPT, "multipart: no boundary in Content-Type");
    p += 9;
    size_t n;
    if (*p == '"') {
        p++;
        const char *q = strchr(p, '"');
        if (!q)
            return err_set(err, EMB_ECORRUPT, "multipart: unterminated boundary");
        n = (size_t)(q - p);
    } else {
        n = strcspn(p, "; \t");
    }
    if (n == 0 || n > 200)
        return err_set(err, EMB_ECORRUPT, "multipart: bad boundary length %zu", n);
    *out = slice_make(p, n);
    return 0;
}

/* Value of a `key=` or `key="..."` parameter in a header line, or an empty slice. */
static bool header_param(slice_t line, const char *key, slice_t *out)
{
    size_t kl = strlen(key);
    for (size_t i = 0; i + kl + 1 <= line.len; i++) {
        if ((i == 0 || line.p[i - 1] == ' ' || line.p[i - 1] == ';' || line.p[i - 1] == '\t') &&
            strncasecmp((const char *)line.p + i, key, kl) == 0 && line.p[i + kl] == '=') {
            size_t j = i + kl + 1;
            if (j < line.len && line.p[j] == '"') {
                size_t k = j + 1;
                while (k < line.len && line.p[k] != '"')
                    k += (line.p[k] == '\\' && k + 1 < line.len) ? 2 : 1;
                *out = slice_make(line.p + j + 1, (k < line.len ? k : line.len) - j - 1);
            } else {
                size_t k = j;
                while (k < line.len && line.p[k] != ';' && line.p[k] != ' ')
                    k++;
                *out = slice_make(line.p + j, k - j);
            }
            return true;
        }
    }
    return false;
}

int multipart_parse(mpart_t *parts, size_t *nparts, slice_t boundary, const uint8_t *body,
                    size_t len, err_t *err)
{
    uint8_t delim[256];
    delim[0] = '-';
    delim[1] = '-';
    memcpy(delim + 2, boundary.p, boundary.len);
    size_t dl = boundary.len + 2;
    *nparts = 0;
    const uint8_t *p = memmem(body, len, delim, dl);
    if (!p)
        return err_set(err, EMB_ECORRUPT, "multipart: boundary not found in body");
    for (;;) {
        const uint8_t *end = body + len;
        p += dl;
        if (end - p >= 2 && p[0] == '-' && p[1] == '-')
            return 0; /* closing delimiter */
        /* rest of the delimiter line */
        const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl)
            return err_set(err, EMB_ECORRUPT, "multipart: truncated part header");
        p = nl + 1;
        mpart_t part = {{NULL, 0}, false, {NULL, 0}};
        /* headers until an empty line */
        for (;;) {
            nl = memchr(p, '\n', (size_t)(end - p));
            if (!nl)
                return err_set(err, EMB_ECORRUPT, "multipart: truncated part header");
            slice_t line = slice_make(p, (size_t)(nl - p));
            if (line.len && line.p[line.len - 1] == '\r')
                line.len--;
            p = nl + 1;
            if (line.len == 0)
                break;
            if (line.len > 20 && strncasecmp((const char *)line.p, "content-disposition:", 20) == 0) {
                slice_t v;
                if (header_param(line, "name", &v))
                    part.name = v;
                if (header_param(line, "filename", &v))
                    part.has_filename = true;
            }
        }
        const uint8_t *next = memmem(p, (size_t)(end - p), delim, dl);
        if (!next)
            return err_set(err, EMB_ECORRUPT, "multipart: part \"%.*s\" not terminated",
                           (int)(part.name.len > 64 ? 64 : part.name.len), part.name.p);
        size_t dlen = (size_t)(next - p);
        /* strip the CRLF that precedes the delimiter */
        if (dlen >= 1 && p[dlen - 1] == '\n')
            dlen--;
        if (dlen >= 1 && p[dlen - 1] == '\r')
            dlen--;
        part.data = slice_make(p, dlen);
        if (*nparts == MULTIPART_MAX_PARTS)
            return err_set(err, EMB_ECORRUPT, "multipart: more than %d parts",
                           MULTIPART_MAX_PARTS);
        parts[(*nparts)++] = part;
        p = next;
    }
}

const mpart_t *multipart_file(const mpart_t *parts, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (parts[i].has_filename && slice_eq_cstr(parts[i].name, name))
            return &parts[i];
    return NULL;
}
