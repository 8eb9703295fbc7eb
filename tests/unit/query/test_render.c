/* Tests for query/query: the flamebearer of PROTOCOLS.md §3.4's example byte for byte,
 * maxNodes folding into "other", the timeline step rules of §3.5, and selector filtering. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ingest/ingest.h"
#include "query/query.h"

static char dir_buf[4096];

static void cleanup(void)
{
    if (dir_buf[0]) {
        char cmd[4200];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir_buf);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", dir_buf);
        dir_buf[0] = 0;
    }
}

static store_t *new_store(void)
{
    const char *base = getenv("TMPDIR");
    snprintf(dir_buf, sizeof(dir_buf), "%s/ember-render-XXXXXX", base && *base ? base : "/tmp");
    cr_assert_not_null(mkdtemp(dir_buf));
    store_options_t opt = {.fsync = false};
    store_t *s;
    err_t err;
    cr_assert_eq(store_open(&s, dir_buf, &opt, NULL, NULL, &err), 0, "%s", err.msg);
    return s;
}

static store_t *ingest_folded(const char *name, const char *body, int64_t from_s,
                              const char *rate)
{
    store_t *h = new_store();
    ingest_req_t req = {.name = name, .from_ns = from_s * 1000000000LL,
                        .until_ns = (from_s + 10) * 1000000000LL, .sample_rate = rate,
                        .body = (const uint8_t *)body, .body_len = strlen(body)};
    ingest_limits_t lim = {0, 0, 0, 0, 0};
    batch_t b;
    const char *fmt;
    err_t err;
    cr_assert_eq(ingest_decode(&b, &fmt, &req, &lim, &err), 0, "%s", err.msg);
    buf_t rec = BUF_INIT;
    cr_assert_eq(ingest_record_encode(&rec, "t", &req), 0);
    cr_assert_eq(store_append(h, "t", &b, (const uint8_t *)rec.data, rec.len, &err), 0);
    buf_release(&rec);
    batch_release(&b);
    return h;
}

static char *render(store_t *h, const char *q, int64_t max_nodes)
{
    query_render_t r = {.query = q, .from_ns = 1699999000LL * 1000000000LL,
                        .until_ns = 1700001000LL * 1000000000LL, .max_nodes = max_nodes};
    query_limits_t lim = {8192, 1048576};
    buf_t out = BUF_INIT;
    err_t err;
    cr_assert_eq(query_render_json(&out, h, "t", &r, &lim, &err), 0, "%s", err.msg);
    return buf_detach(&out, NULL);
}

Test(render, protocols_example_levels_exactly, .fini = cleanup)
{
    store_t *h = ingest_folded("ex{}", "main;work;compute 5\nmain;work 2\nmain;idle 1\ngc 2\n",
                              1700000000, "0");
    char *js = render(h, "process_cpu:samples:count::{service_name=\"ex\"}", 0);
    cr_assert(strstr(js, "\"names\":[\"total\",\"main\",\"work\",\"compute\",\"idle\",\"gc\"],"
                         "\"levels\":[[0,10,0,0],[0,2,2,5,0,8,0,1],[2,1,1,4,0,7,2,2],[5,5,5,3]],"
                         "\"numTicks\":10,\"maxSelf\":5") != NULL, "%s", js);
    free(js);
    store_close(h);
}

Test(render, max_nodes_folds_small_children_into_other, .fini = cleanup)
{
    store_t *h = ingest_folded("ex{}", "a;big 100\na;s1 1\na;s2 1\na;s3 1\n", 1700000000, "0");
    char *js = render(h, "process_cpu:samples:count::{service_name=\"ex\"}", 2);
    cr_assert(strstr(js, "\"other\"") != NULL, "%s", js);
    cr_assert(strstr(js, "\"s1\"") == NULL, "%s", js);
    cr_assert(strstr(js, "\"numTicks\":103") != NULL, "%s", js);
    free(js);
    store_close(h);
}

Test(render, legacy_query_and_matchers_filter_series, .fini = cleanup)
{
    store_t *h = ingest_folded("app.cpu{env=prod}", "x 3\n", 1700000000, "1000000000");
    char *js = render(h, "app.cpu{env=\"prod\"}", 0);
    cr_assert(strstr(js, "\"numTicks\":3") != NULL, "%s", js);
    free(js);
    js = render(h, "app.cpu{env!=\"prod\"}", 0);
    cr_assert(strstr(js, "\"numTicks\":0") != NULL, "%s", js);
    free(js);
    js = render(h, "app.cpu{env=~\"pr.*\"}", 0);
    cr_assert(strstr(js, "\"numTicks\":3") != NULL, "%s", js);
    free(js);
    js = render(h, "app.cpu{env!~\"pr.*\"}", 0);
    cr_assert(strstr(js, "\"numTicks\":0") != NULL, "%s", js);
    free(js);
    store_close(h);
}

Test(render, query_without_profile_type_is_rejected, .fini = cleanup)
{
    store_t *h = new_store();
    query_render_t r = {.query = "{service_name=\"x\"}", .from_ns = 0, .until_ns = 1};
    query_limits_t lim = {8192, 1048576};
    buf_t out = BUF_INIT;
    err_t err;
    cr_assert_eq(query_render_json(&out, h, "t", &r, &lim, &err), EMB_EINVAL);
    buf_release(&out);
    store_close(h);
}

Test(render, timeline_step_rules)
{
    const int64_t S = 1000000000LL;
    cr_assert_eq(query_timeline_step(0, 3600 * S), 15);          /* 2.4 s → min 15 s */
    cr_assert_eq(query_timeline_step(0, 24 * 3600 * S), 60);     /* 57.6 s → 1 m */
    cr_assert_eq(query_timeline_step(0, 7 * 24 * 3600 * S), 600); /* 403 s → 10 m */
}
