/* Fuzz target: the text formats without a target of their own, through ingest_decode:
 * byte 0 selects speedscope (even) or perf_script (odd) and a sample rate; the rest is the
 * body. Invariants on success: fuzz_check.h. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"
#include "ingest/ingest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    static const char *rates[] = {NULL, "100", "0", "99"};
    ingest_req_t req = {
        .name = (data[0] & 8) ? "app.bytes{k=v}" : "app",
        .from_ns = 1700000000000000000LL,
        .until_ns = 1700000010000000000LL,
        .format = (data[0] & 1) ? "perf_script" : "speedscope",
        .sample_rate = rates[(data[0] >> 1) & 3],
        .body = data + 1,
        .body_len = size - 1,
    };
    ingest_limits_t lim = {1 << 20, 30, 1024, 2048, 0};
    batch_t b;
    const char *fmt;
    err_t err;
    if (ingest_decode(&b, &fmt, &req, &lim, &err) == 0)
        fuzz_check_batch(&b);
    batch_release(&b);
    return 0;
}
