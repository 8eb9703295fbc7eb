/* Fuzz target: folded, lines, tree and trie parsers. The first byte picks the format; the
 * rest is the body. Invariant on success: every sample's stack lies inside the frame array
 * and every frame is a valid string id. */
#include <stdint.h>
#include <stdlib.h>

#include "ingest/ingest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int kind = data[0] & 3;
    batch_t b;
    batch_init(&b);
    labels_t l = LABELS_INIT;
    batch_profile_t *p = batch_add_profile(&b, &l, 0, 0);
    err_t err;
    int rc = kind < 2 ? folded_parse(&b, p, data + 1, size - 1, kind == 1, 1000, 7, &err)
                      : tree_parse(&b, p, data + 1, size - 1, kind == 3, 1, 1, &err);
    if (rc == 0) {
        for (size_t i = 0; i < p->n; i++) {
            if (p->stack[i] >= b.nstacks)
                abort();
            const batch_stack_t *st = &b.stacks[p->stack[i]];
            if ((size_t)st->off + st->depth > b.nframes)
                abort();
            for (uint32_t k = 0; k < st->depth; k++)
                if (b.frames[st->off + k] >= b.strs.n)
                    abort();
            if (p->value[i] < 0)
                abort();
        }
    }
    batch_release(&b);
    return 0;
}
