/* tags.h — per-thread tag stacks (ember_tag_push/pop) as interned, immutable tag sets.
 *
 * A tag set is a node {parent set, key, value}; set 0 is the empty set. A thread's current
 * set is one integer in initial-exec TLS, so the SIGPROF handler reads it without locks or
 * allocation (tags_current()). Pushing interns (parent, key, value) in a fixed table under a
 * mutex (normal context only); popping just moves to the parent. Sets are never freed, so an
 * id seen in a sample is always resolvable; the table is bounded (TAGS_MAX_SETS).
 */
#ifndef AGENT_TAGS_H
#define AGENT_TAGS_H

#include <stddef.h>
#include <stdint.h>

#include "agent/conf.h"

#define TAGS_MAX_SETS 1024
#define TAGS_MAX_DEPTH 16

/* The calling thread's current set. Async-signal-safe. */
uint32_t tags_current(void);

/* ember_tag_push: returns 0, EMBER_EINVAL or EMBER_ELIMIT. */
int tags_push(const char *key, const char *value);

/* ember_tag_pop. */
void tags_pop(void);

/* The pairs of set id, innermost key winning, into out[0..max); returns how many. The
 * strings are copies. Thread-safe (takes the table mutex). */
size_t tags_get(uint32_t id, conf_tag_t *out, size_t max);

/* pthread_atfork hooks: hold the table mutex across fork so the child never inherits it
 * locked. */
void tags_atfork_prepare(void);
void tags_atfork_parent(void);
void tags_atfork_child(void);

#endif
