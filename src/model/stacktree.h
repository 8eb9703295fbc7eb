/* Stack tree: every distinct call path is a node (parent, frame name), so a stack is one
 * integer and shared prefixes are stored once (DESIGN.md §2).
 *
 * Invariants: node 0 is the root (no frame); parent[i] < i for every i > 0, so a single
 * reverse pass over ids turns self values into totals. Frames are string ids of the owner's
 * strtab. Not thread-safe; the owner (a tenant head) locks.
 */
#ifndef EMBER_MODEL_STACKTREE_H
#define EMBER_MODEL_STACKTREE_H

#include <stddef.h>
#include <stdint.h>

#include "base/hash.h"

typedef uint32_t node_id_t;

typedef struct stacktree {
    node_id_t *parent;
    uint32_t *name;
    size_t n, cap;
    hmap_t map; /* hash(parent, name) -> node */
} stacktree_t;

void stacktree_init(stacktree_t *t);
void stacktree_release(stacktree_t *t);
/* Returns the child of parent with frame name, adding it if new. */
node_id_t stacktree_child(stacktree_t *t, node_id_t parent, uint32_t name);

#endif
