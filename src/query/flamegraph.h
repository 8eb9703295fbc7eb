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
    int sides;          /* 1 = single (4 values per node), 2 = diff (7 values per node) */
    slice_t *names;     /* borrowed from the strtab passed to fg_build (or static) */
    size_t nnames;
    int64_t **levels;   /* owned */
    size_t *nvalues;    /* values per level */
    size_t nlevels;
    int64_t total;      /* numTicks: the sum over sides */
    int64_t ticks[2];   /* per side (leftTicks, rightTicks for a diff) */
    int64_t max_self;
} fg_t;

/* Builds the levels of tree (self/tot per node, tot = self + descendants) keeping the
 * max_nodes largest nodes (0 = all). OUT: out (release with fg_release; names borrow strs,
 * which must outlive it). */
void fg_build(fg_t *out, const strtab_t *strs, const stacktree_t *tree, const int64_t *self,
              const int64_t *tot, int64_t max_nodes);
/* The diff form (PROTOCOLS.md §3.4 "Double"): both trees aligned on one shape (a node absent
 * on one side has zeros there), per node [l_x_delta, l_total, l_self, r_x_delta, r_total,
 * r_self, name], each side's x delta-encoded on its own; a node survives the cut if either
 * side reaches it. self[i]/tot[i] are side i's arrays over the shared tree. */
void fg_build_sides(fg_t *out, const strtab_t *strs, const stacktree_t *tree, int sides,
                    const int64_t *const *self, const int64_t *const *tot, int64_t max_nodes);
void fg_release(fg_t *fg);

/* Appends `"names":[...],"levels":[[...]],"numTicks":N,"maxSelf":N` (no braces). */
int fg_write_json(buf_t *out, const fg_t *fg) __attribute__((warn_unused_result));

#endif
