/* batch_t: growable arrays; see batch.h. */
#include "model/batch.h"

#include <stdlib.h>
#include <string.h>

#include "base/mem.h"

void batch_init(batch_t *b)
{
    memset(b, 0, sizeof(*b));
    strtab_init(&b->strs);
}

void batch_release(batch_t *b)
{
    for (size_t i = 0; i < b->nprofs; i++) {
        labels_release(&b->profs[i].labels);
        free(b->profs[i].stack);
        free(b->profs[i].value);
    }
    free(b->profs);
    free(b->frames);
    free(b->stacks);
    strtab_release(&b->strs);
    memset(b, 0, sizeof(*b));
}

uint32_t batch_add_stack(batch_t *b, const uint32_t *frames, uint32_t depth)
{
    xgrow(&b->frames, &b->capframes, b->nframes + depth, sizeof(*b->frames));
    if (depth)
        memcpy(b->frames + b->nframes, frames, depth * sizeof(*frames));
    xgrow(&b->stacks, &b->capstacks, b->nstacks + 1, sizeof(*b->stacks));
    b->stacks[b->nstacks].off = (uint32_t)b->nframes;
    b->stacks[b->nstacks].depth = depth;
    b->nframes += depth;
    return (uint32_t)b->nstacks++;
}

batch_profile_t *batch_add_profile(batch_t *b, const labels_t *labels, int64_t ts_ns,
                                   int64_t dur_ns)
{
    xgrow(&b->profs, &b->capprofs, b->nprofs + 1, sizeof(*b->profs));
    batch_profile_t *p = &b->profs[b->nprofs++];
    memset(p, 0, sizeof(*p));
    labels_copy(&p->labels, labels);
    p->ts_ns = ts_ns;
    p->dur_ns = dur_ns;
    return p;
}

void batch_add_sample(batch_t *b, batch_profile_t *p, uint32_t stack, int64_t value)
{
    if (p->n == p->cap) {
        size_t c = p->cap;
        xgrow(&p->stack, &c, p->n + 1, sizeof(*p->stack));
        xgrow(&p->value, &p->cap, p->n + 1, sizeof(*p->value));
    }
    p->stack[p->n] = stack;
    p->value[p->n] = value;
    p->n++;
    b->nsamples++;
}
