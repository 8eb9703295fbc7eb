/* Fuzz target: folded, lines, tree and trie parsers. The first byte picks the format; the
 * rest is the body. Invariant on success: every sample's stack lies inside the frame array
 * walks back to the root and every frame is a valid string id. */
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
            if (p->stack[i] >= b.tree.n || p->value[i] < 0)
                abort();
            /* every stack walks back to the root through valid parents and names */
            size_t steps = 0;
            for (uint32_t nd = p->stack[i]; nd != 0; nd = b.tree.parent[nd]) {
                if (b.tree.parent[nd] >= nd || b.tree.name[nd] >= b.strs.n || ++steps > b.tree.n)
                    abort();
            }
        }
    }
    batch_release(&b);
    return 0;
}
