/* batch_t: growable arrays; see batch.h. */
#include "model/batch.h"

#include <stdlib.h>
#include <string.h>

#include "base/mem.h"

void batch_init(batch_t *b)
{
    memset(b, 0, sizeof(*b));
    strtab_init(&b->strs);
    stacktree_init(&b->tree);
}

void batch_release(batch_t *b)
{
    for (size_t i = 0; i < b->nprofs; i++) {
        labels_release(&b->profs[i].labels);
        free(b->profs[i].stack);
        free(b->profs[i].value);
        free(b->profs[i].spans);
        buf_release(&b->profs[i].key);
    }
    free(b->profs);
    stacktree_release(&b->tree);
    strtab_release(&b->strs);
    memset(b, 0, sizeof(*b));
}

uint32_t batch_add_stack(batch_t *b, const uint32_t *frames, uint32_t depth)
{
    node_id_t n = 0;
    for (uint32_t i = 0; i < depth; i++)
        n = stacktree_child(&b->tree, n, frames[i]);
    return n;
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

void batch_add_span(batch_profile_t *p, uint64_t span, uint32_t stack, int64_t value)
{
    xgrow(&p->spans, &p->capspans, p->nspans + 1, sizeof(*p->spans));
    p->spans[p->nspans++] = (span_sample_t){span, value, stack};
}

uint64_t span_parse(const char *text, size_t len)
{
    if (len == 0 || len > 16)
        return 0;
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        int d = c >= '0' && c <= '9' ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (d < 0)
            return 0;
        v = v << 4 | (uint64_t)d;
    }
    return v;
}
