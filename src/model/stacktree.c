/* stacktree_t: parallel arrays plus a map keyed by (parent, name). */
#include "model/stacktree.h"

#include <stdlib.h>
#include <string.h>

#include "base/mem.h"

void stacktree_init(stacktree_t *t)
{
    memset(t, 0, sizeof(*t));
    hmap_init(&t->map);
    xgrow(&t->parent, &t->cap, 1, sizeof(*t->parent));
    size_t c = 0;
    xgrow(&t->name, &c, t->cap, sizeof(*t->name));
    t->parent[0] = 0;
    t->name[0] = 0;
    t->n = 1;
}

void stacktree_release(stacktree_t *t)
{
    free(t->parent);
    free(t->name);
    hmap_release(&t->map);
    memset(t, 0, sizeof(*t));
}

node_id_t stacktree_child(stacktree_t *t, node_id_t parent, uint32_t name)
{
    uint64_t key = ((uint64_t)parent << 32) | name;
    size_t pos = 0;
    int started = 0;
    uint32_t id;
    while ((id = hmap_probe(&t->map, key, &pos, &started)) != HMAP_EMPTY)
        if (t->parent[id] == parent && t->name[id] == name)
            return id;
    if (t->n == t->cap) {
        size_t c = t->cap;
        xgrow(&t->parent, &c, t->n + 1, sizeof(*t->parent));
        xgrow(&t->name, &t->cap, t->n + 1, sizeof(*t->name));
    }
    id = (node_id_t)t->n++;
    t->parent[id] = parent;
    t->name[id] = name;
    hmap_put(&t->map, key, id);
    return id;
}
