/* Fuzz target: ingest/name (the legacy /ingest `name`). Invariants on success: the app name is
 * non-empty and made of [A-Za-z0-9_.-/]; tag keys are [A-Za-z0-9_.]+ and none is reserved
 * except __session_id__; values hold no NUL, `,` or `}`; and the normalized form
 * `app{k=v,...}` parses back to the same app and tags. On failure: EMB_EINVAL, a message, no
 * app and no tags. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "ingest/name.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond)
{
    if (!cond)
        abort();
}

static bool only(const char *s, const char *set)
{
    for (; *s; s++)
        if (!strchr(set, *s))
            return false;
    return true;
}

#define KEY_SET "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_."

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *app = NULL, *app2 = NULL;
    labels_t tags, tags2;
    err_t err = {0};
    int rc = name_parse(&app, &tags, (const char *)data, size, &err);
    if (rc != 0) {
        check(rc == EMB_EINVAL && err.code == EMB_EINVAL && err.msg[0]);
        check(app == NULL && tags.n == 0);
        labels_release(&tags);
        return 0;
    }
    check(app && app[0] && only(app, KEY_SET "-/"));
    for (size_t i = 0; i < tags.n; i++) {
        const char *k = tags.v[i].name, *v = tags.v[i].value;
        check(k[0] && only(k, KEY_SET));
        check(strncmp(k, "__", 2) != 0 || strcmp(k, "__session_id__") == 0);
        check(!strchr(v, ',') && !strchr(v, '}'));
        for (size_t j = i + 1; j < tags.n; j++)
            check(strcmp(k, tags.v[j].name) != 0);
    }

    buf_t b = BUF_INIT;
    check(buf_printf(&b, "%s{", app) == 0);
    for (size_t i = 0; i < tags.n; i++)
        check(buf_printf(&b, "%s%s=%s", i ? "," : "", tags.v[i].name, tags.v[i].value) == 0);
    check(buf_putc(&b, '}') == 0);
    rc = name_parse(&app2, &tags2, b.data, b.len, &err);
    if (rc != 0) {
        fprintf(stderr, "reparse of %s failed: %s\n", b.data, err.msg);
        abort();
    }
    check(strcmp(app, app2) == 0 && tags.n == tags2.n);
    for (size_t i = 0; i < tags.n; i++) {
        const char *v2 = labels_get(&tags2, tags.v[i].name);
        check(v2 && strcmp(v2, tags.v[i].value) == 0);
    }
    buf_release(&b);
    free(app);
    free(app2);
    labels_release(&tags);
    labels_release(&tags2);
    return 0;
}
