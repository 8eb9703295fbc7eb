/* Invariants every decoded batch must hold, shared by the ingest fuzz targets: each profile
 * carries the reserved type labels, every sample, span and stack node lies inside the batch's
 * tree (parents before children), names are interned strings, values are not negative. */
#ifndef EMBER_TESTS_FUZZ_CHECK_H
#define EMBER_TESTS_FUZZ_CHECK_H

#include <stdlib.h>

#include "model/batch.h"

static inline void fuzz_check_batch(const batch_t *b)
{
    for (size_t i = 0; i < b->nprofs; i++) {
        const batch_profile_t *p = &b->profs[i];
        if (!labels_get(&p->labels, "__profile_type__") || !labels_get(&p->labels, "__name__"))
            abort();
        for (size_t k = 0; k < p->n; k++)
            if (p->stack[k] >= b->tree.n)
                abort();
        for (size_t k = 0; k < p->nspans; k++)
            if (p->spans[k].node >= b->tree.n || p->spans[k].span == 0)
                abort();
    }
    for (size_t i = 1; i < b->tree.n; i++)
        if (b->tree.parent[i] >= i || b->tree.name[i] >= b->strs.n)
            abort();
}

#endif
