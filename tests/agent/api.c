/* libember linked in and driven through include/ember.h: ember_config_init, a bad config
 * (must fail with EMBER_EINVAL and keep the program running), ember_start with an output
 * file, tags pushed by EMBER_TAG_SCOPE and ember_tag_push/pop, ember_flush, ember_stop, a
 * second stop (EMBER_ENOTRUNNING). Usage: agent_api OUT.pb.gz. Prints "ok", exits 0. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ember.h"

static volatile uint64_t sink;

__attribute__((noinline)) static void api_spin(double ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    double t0 = ts.tv_sec * 1e3 + ts.tv_nsec / 1e6, t;
    do {
        for (int i = 0; i < 10000; i++)
            sink = sink * 31 + (uint64_t)i;
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
        t = ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
    } while (t - t0 < ms);
}

#define CHECK(c)                                                                               \
    do {                                                                                       \
        if (!(c)) {                                                                            \
            printf("FAIL line %d: %s\n", __LINE__, #c);                                        \
            return 1;                                                                          \
        }                                                                                      \
    } while (0)

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    ember_config_t cfg;
    ember_config_init(&cfg);
    cfg.application_name = "bad name with spaces";
    CHECK(ember_start(&cfg) == EMBER_EINVAL);
    CHECK(ember_stop() == EMBER_ENOTRUNNING);
    cfg.application_name = "apitest";
    cfg.sample_rate_hz = 0;
    CHECK(ember_start(&cfg) == EMBER_EINVAL);
    cfg.sample_rate_hz = 500;
    cfg.output_path = argv[1];
    CHECK(ember_start(&cfg) == 0);
    CHECK(ember_start(&cfg) == EMBER_EBUSY);
    CHECK(ember_tag_push("bad key", "x") == EMBER_EINVAL);
    CHECK(ember_tag_push("k", "a,b") == EMBER_EINVAL);
    {
        EMBER_TAG_SCOPE("stage", "scoped");
        api_spin(300);
    }
    CHECK(ember_tag_push("stage", "pushed") == 0);
    CHECK(ember_tag_push("inner", "1") == 0);
    api_spin(150);
    ember_tag_pop();
    ember_tag_pop();
    ember_tag_pop(); /* extra pop on an empty stack: no-op */
    api_spin(150);
    CHECK(ember_flush() == 0);
    CHECK(ember_stop() == 0);
    CHECK(ember_stop() == EMBER_ENOTRUNNING);
    CHECK(strcmp(ember_strerror(EMBER_EBUSY), "profiler already running") == 0);
    printf("ok\n");
    return 0;
}
