/* Flame graphs in Pyroscope's level encoding (PROTOCOLS.md §3.4), built from a merged call
 * tree: the flamebearer of /render and the FlameGraph message of the Connect API share it.
 *
 * Each level is a flat array of [x_delta, total, self, name_index] quadruples, left to
 * right; names[0] is "total"; a node's own self span comes before its children, which are
 * sorted by name; names are listed once each in depth-first visit order (last child first);
 * children below the max_nodes cut-off fold into a child "other".
 */
#ifndef EMBER_QUERY_FLAMEGRAPH_H
#define EMBER_QUERY_FLAMEGRAPH_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/slice.h"
#include "model/stacktree.h"
#include "model/strtab.h"

typedef struct fg {
    slice_t *names;     /* borrowed from the strtab passed to fg_build (or static) */
    size_t nnames;
    int64_t **levels;   /* owned */
    size_t *nvalues;    /* values per level (4 per node) */
    size_t nlevels;
    int64_t total, max_self;
} fg_t;

/* Builds the levels of tree (self/tot per node, tot = self + descendants) keeping the
 * max_nodes largest nodes (0 = all). OUT: out (release with fg_release; names borrow strs,
 * which must outlive it). */
void fg_build(fg_t *out, const strtab_t *strs, const stacktree_t *tree, const int64_t *self,
              const int64_t *tot, int64_t max_nodes);
void fg_release(fg_t *fg);

/* Appends `"names":[...],"levels":[[...]],"numTicks":N,"maxSelf":N` (no braces). */
int fg_write_json(buf_t *out, const fg_t *fg) __attribute__((warn_unused_result));

#endif
