/* labels_t: small sorted-on-demand arrays; series rarely carry more than a dozen labels, so
 * linear search beats any map. */
#include "model/labels.h"

#include <stdlib.h>
#include <string.h>

#include "base/mem.h"

void labels_init(labels_t *l)
{
    l->v = NULL;
    l->n = l->cap = 0;
}

void labels_release(labels_t *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->v[i].name);
        free(l->v[i].value);
    }
    free(l->v);
    labels_init(l);
}

void labels_set(labels_t *l, const char *name, size_t nlen, const char *value, size_t vlen)
{
    for (size_t i = 0; i < l->n; i++) {
        if (strlen(l->v[i].name) == nlen && memcmp(l->v[i].name, name, nlen) == 0) {
            free(l->v[i].value);
            l->v[i].value = xstrndup(value, vlen);
            return;
        }
    }
    xgrow(&l->v, &l->cap, l->n + 1, sizeof(*l->v));
    l->v[l->n].name = xstrndup(name, nlen);
    l->v[l->n].value = xstrndup(value, vlen);
    l->n++;
}

void labels_set_cstr(labels_t *l, const char *name, const char *value)
{
    labels_set(l, name, strlen(name), value, strlen(value));
}

void labels_del(labels_t *l, const char *name)
{
    for (size_t i = 0; i < l->n; i++) {
        if (strcmp(l->v[i].name, name) == 0) {
            free(l->v[i].name);
            free(l->v[i].value);
            memmove(&l->v[i], &l->v[i + 1], (l->n - i - 1) * sizeof(*l->v));
            l->n--;
            return;
        }
    }
}

const char *labels_get(const labels_t *l, const char *name)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->v[i].name, name) == 0)
            return l->v[i].value;
    return NULL;
}

void labels_copy(labels_t *out, const labels_t *src)
{
    labels_init(out);
    for (size_t i = 0; i < src->n; i++)
        labels_set_cstr(out, src->v[i].name, src->v[i].value);
}

static int cmp_label(const void *a, const void *b)
{
    return strcmp(((const label_t *)a)->name, ((const label_t *)b)->name);
}

void labels_sort(labels_t *l)
{
    if (l->n > 1)
        qsort(l->v, l->n, sizeof(*l->v), cmp_label);
}

int labels_key(buf_t *out, const labels_t *l)
{
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < l->n; i++) {
        rc = buf_puts(out, l->v[i].name);
        if (rc == 0)
            rc = buf_putc(out, '\x01');
        if (rc == 0)
            rc = buf_puts(out, l->v[i].value);
        if (rc == 0)
            rc = buf_putc(out, '\xff');
    }
    return rc;
}

int labels_format(buf_t *out, const labels_t *l)
{
    int rc = buf_putc(out, '{');
    for (size_t i = 0; rc == 0 && i < l->n; i++) {
        if (i)
            rc = buf_puts(out, ", ");
        if (rc == 0)
            rc = buf_printf(out, "%s=", l->v[i].name);
        if (rc == 0)
            rc = buf_json_str(out, l->v[i].value, strlen(l->v[i].value));
    }
    if (rc == 0)
        rc = buf_putc(out, '}');
    return rc;
}
