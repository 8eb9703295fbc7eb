/* strtab_t: one contiguous character arena plus offset arrays; the hash map only finds ids. */
#include "model/strtab.h"

#include <stdlib.h>
#include <string.h>

#include "base/mem.h"

void strtab_init(strtab_t *t)
{
    memset(t, 0, sizeof(*t));
    hmap_init(&t->map);
    strtab_intern(t, "", 0);
}

void strtab_release(strtab_t *t)
{
    free(t->data);
    free(t->off);
    free(t->slen);
    hmap_release(&t->map);
    memset(t, 0, sizeof(*t));
}

/* The id of s[0..len) whose hash is h, or UINT32_MAX. */
static uint32_t lookup(const strtab_t *t, const char *s, size_t len, uint64_t h)
{
    size_t pos = 0;
    int started = 0;
    uint32_t id;
    while ((id = hmap_probe(&t->map, h, &pos, &started)) != HMAP_EMPTY)
        if (t->slen[id] == len && memcmp(t->data + t->off[id], s, len) == 0)
            return id;
    return UINT32_MAX;
}

uint32_t strtab_find(const strtab_t *t, const char *s, size_t len)
{
    return lookup(t, s, len, hash_bytes(s, len));
}

uint32_t strtab_intern(strtab_t *t, const char *s, size_t len)
{
    uint64_t h = hash_bytes(s, len);
    uint32_t id = lookup(t, s, len, h);
    if (id != UINT32_MAX)
        return id;
    xgrow(&t->data, &t->cap, t->len + len + 1, 1);
    if (len)
        memcpy(t->data + t->len, s, len);
    t->data[t->len + len] = 0;
    size_t ncap = t->ncap;
    xgrow(&t->off, &ncap, t->n + 1, sizeof(*t->off));
    xgrow(&t->slen, &t->ncap, t->n + 1, sizeof(*t->slen));
    id = (uint32_t)t->n++;
    t->off[id] = (uint32_t)t->len;
    t->slen[id] = (uint32_t)len;
    t->len += len + 1;
    hmap_put(&t->map, h, id);
    return id;
}
