/* Allocation wrappers for server code: they log and abort on OOM (h2o, redis), because the
 * server bounds memory by limits instead of unwinding every allocation. Agent code that must
 * never abort the host does not use these. */
#ifndef EMBER_BASE_MEM_H
#define EMBER_BASE_MEM_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
/* Grows *p (an array of *cap elements of size sz) so that it holds at least need elements. */
void xgrow(void *pp, size_t *cap, size_t need, size_t sz);
char *xstrndup(const char *s, size_t n);
char *xstrdup(const char *s);

#endif
