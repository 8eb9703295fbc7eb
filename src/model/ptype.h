/* Profile types (PROTOCOLS.md §2): `name:sample_type:sample_unit:period_type:period_unit`,
 * e.g. process_cpu:cpu:nanoseconds:cpu:nanoseconds, and the legacy app-name suffixes of
 * /ingest and /render (`app.cpu`, `app.alloc_space`, §1.4).
 *
 * Series carry the parts as reserved labels (PTYPE_L_*), so selectors can match a type
 * exactly (`__profile_type__`) or loosely (`__name__` + `__type__`, used for legacy names).
 */
#ifndef EMBER_MODEL_PTYPE_H
#define EMBER_MODEL_PTYPE_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"
#include "model/labels.h"

#define PTYPE_L_ID "__profile_type__"
#define PTYPE_L_NAME "__name__"
#define PTYPE_L_TYPE "__type__"
#define PTYPE_L_UNIT "__unit__"
#define PTYPE_L_PTYPE "__period_type__"
#define PTYPE_L_PUNIT "__period_unit__"
#define PTYPE_L_SERVICE "service_name"
#define PTYPE_L_SPY "pyroscope_spy"

typedef struct ptype {
    const char *name, *sample_type, *sample_unit, *period_type, *period_unit;
} ptype_t;

/* What a legacy suffix means at ingest (§1.4 table). scale_to_ns is true for cpu/wall with
 * sampleRate > 0: values are multiplied by 1e9/sampleRate. Strings are static. */
typedef struct ptype_legacy {
    ptype_t type;
    bool scale_to_ns;
} ptype_legacy_t;

/* Splits `app.suffix` (the last `.`) and maps the suffix for ingest. No dot → cpu, and the
 * whole name is the app. An unknown suffix fails with EMB_EINVAL. OUT: out; *app_len is the
 * length of the app part of app_full. */
int ptype_from_legacy(ptype_legacy_t *out, size_t *app_len, const char *app_full,
                      bool rate_positive, err_t *err);

/* Sets the reserved labels (__profile_type__, __name__, __type__, ...) for type t. */
void ptype_set_labels(labels_t *l, const ptype_t *t);

/* Splits an id with 5 (or 6, the first being ignored) colon-separated parts into copies held
 * in parts_buf (caller's buffer of at least strlen(id)+1 bytes). EMB_EINVAL otherwise. */
int ptype_parse(ptype_t *out, char *parts_buf, const char *id, err_t *err);

/* Flamebearer metadata (§3.3): units and sampleRate for a sample type. */
void ptype_render_meta(const char *sample_type, const char *sample_unit, const char **units,
                       long *sample_rate);

#endif
