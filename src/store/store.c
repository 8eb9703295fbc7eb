/* store/ facade: WAL + head wiring. */
#include "store/store.h"

#include <stdlib.h>

#include "base/mem.h"

typedef struct replay_ctx {
    store_t *s;
    store_replay_fn fn;
    void *arg;
} replay_ctx_t;

static int replay_one(const uint8_t *payload, size_t len, void *arg)
{
    replay_ctx_t *c = arg;
    return c->fn(c->s, payload, len, c->arg);
}

int store_open(store_t **out, const char *dir, bool fsync_enabled, store_replay_fn fn,
               void *arg, err_t *err)
{
    store_t *s = xcalloc(1, sizeof(*s));
    s->head = head_new();
    replay_ctx_t c = {s, fn, arg};
    int rc = wal_open(&s->wal, dir, fsync_enabled, fn ? replay_one : NULL, &c, err);
    if (rc) {
        store_close(s);
        *out = NULL;
        return rc;
    }
    *out = s;
    return 0;
}

int store_append(store_t *s, const char *tenant, batch_t *b, const uint8_t *record,
                 size_t record_len, err_t *err)
{
    uint64_t seq;
    int rc = wal_append(s->wal, record, record_len, &seq, err);
    if (rc == 0)
        rc = wal_sync(s->wal, seq, err);
    if (rc == 0)
        head_apply(s->head, tenant, b);
    return rc;
}

void store_close(store_t *s)
{
    if (!s)
        return;
    wal_close(s->wal);
    head_free(s->head);
    free(s);
}
