/* Label sets: the identity of a series (service_name, __name__, __profile_type__, tags).
 *
 * A labels_t owns copies of its names and values. Series identity uses the sorted form
 * (labels_sort), which also rejects duplicate names. Label names starting with "__" are
 * reserved (model/ptype.h lists them).
 */
#ifndef EMBER_MODEL_LABELS_H
#define EMBER_MODEL_LABELS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"

typedef struct label {
    char *name;  /* owned */
    char *value; /* owned */
} label_t;

typedef struct labels {
    label_t *v;
    size_t n, cap;
} labels_t;

#define LABELS_INIT { NULL, 0, 0 }

void labels_init(labels_t *l);
void labels_release(labels_t *l);
/* Copies name/value (n bytes each) into the set; replaces the value if name exists. */
void labels_set(labels_t *l, const char *name, size_t nlen, const char *value, size_t vlen);
void labels_set_cstr(labels_t *l, const char *name, const char *value);
/* Removes name if present. */
void labels_del(labels_t *l, const char *name);
/* Value of name, or NULL (borrowed from l). */
const char *labels_get(const labels_t *l, const char *name);
/* Deep copy into out (initialised by this call). */
void labels_copy(labels_t *out, const labels_t *src);
/* Sorts by name. */
void labels_sort(labels_t *l);
/* Appends the canonical key of a sorted set: name=value pairs separated by 0xff bytes. */
int labels_key(buf_t *out, const labels_t *l) __attribute__((warn_unused_result));
/* Appends `{a="1", b="2"}` (Prometheus style, values escaped). */
int labels_format(buf_t *out, const labels_t *l) __attribute__((warn_unused_result));

#endif
