/* tags.c — interned tag sets and the per-thread current set (see tags.h).
 *
 * The table is static (no malloc): pushing a tag must work in any program state, and the
 * whole table is a few hundred KiB of BSS. Interning is a linear scan with a hash per set —
 * pushes are rare compared to samples, and distinct sets are few by design (tags are
 * dimensions like "endpoint", not request ids).
 */
#include "agent/tags.h"

#include <pthread.h>
#include <string.h>

typedef struct tagset {
    uint32_t parent;
    uint32_t depth;
    uint64_t hash;
    char key[CONF_KEY_MAX];
    char value[CONF_VALUE_MAX];
} tagset_t;

static tagset_t sets[TAGS_MAX_SETS];
static uint32_t nsets = 1; /* set 0 = empty */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static __thread uint32_t current __attribute__((tls_model("initial-exec")));

uint32_t tags_current(void)
{
    return current;
}

static uint64_t hash3(uint32_t parent, const char *k, const char *v)
{
    uint64_t h = 1469598103934665603ull ^ parent;
    for (const char *p = k; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ull;
    h = (h ^ 0xff) * 1099511628211ull;
    for (const char *p = v; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ull;
    return h;
}

int tags_push(const char *key, const char *value)
{
    if (!key || !value || !conf_valid_key(key) || !conf_valid_value(value))
        return EMBER_EINVAL;
    uint32_t parent = current;
    uint64_t h = hash3(parent, key, value);
    int rc = EMBER_ELIMIT;
    pthread_mutex_lock(&mu);
    if (parent < nsets && sets[parent].depth >= TAGS_MAX_DEPTH)
        goto out;
    for (uint32_t i = 1; i < nsets; i++) {
        if (sets[i].hash == h && sets[i].parent == parent && !strcmp(sets[i].key, key) &&
            !strcmp(sets[i].value, value)) {
            current = i;
            rc = 0;
            goto out;
        }
    }
    if (nsets < TAGS_MAX_SETS) {
        tagset_t *s = &sets[nsets];
        s->parent = parent;
        s->depth = sets[parent].depth + 1;
        s->hash = h;
        memcpy(s->key, key, strlen(key) + 1);
        memcpy(s->value, value, strlen(value) + 1);
        current = nsets++;
        rc = 0;
    }
out:
    pthread_mutex_unlock(&mu);
    return rc;
}

void tags_pop(void)
{
    uint32_t c = current;
    if (c == 0)
        return;
    /* sets[c].parent was written before c was published under the mutex that this thread
     * took when it pushed, so reading it here needs no lock */
    current = sets[c].parent;
}

size_t tags_get(uint32_t id, conf_tag_t *out, size_t max)
{
    size_t n = 0;
    pthread_mutex_lock(&mu);
    for (uint32_t i = id; i != 0 && i < nsets; i = sets[i].parent) {
        size_t j;
        for (j = 0; j < n; j++) /* inner (visited first) wins */
            if (!strcmp(out[j].key, sets[i].key))
                break;
        if (j < n || n == max)
            continue;
        memcpy(out[n].key, sets[i].key, sizeof(out[n].key));
        memcpy(out[n].value, sets[i].value, sizeof(out[n].value));
        n++;
    }
    pthread_mutex_unlock(&mu);
    return n;
}

void tags_atfork_prepare(void)
{
    pthread_mutex_lock(&mu);
}

void tags_atfork_parent(void)
{
    pthread_mutex_unlock(&mu);
}

void tags_atfork_child(void)
{
    pthread_mutex_unlock(&mu);
}
