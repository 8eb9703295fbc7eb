/* Fuzz target: the whole /ingest decoder (format dispatch, multipart, legacy names, pprof
 * conversion, prev_profile deltas) plus the WAL record round trip. Input layout: byte 0
 * selects format/content-type, then a NUL-terminated `name`, then the body. Invariants on
 * success: every profile has the reserved type labels, every sample points into the batch,
 * and a record encoded from the request decodes back to the same request. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"
#include "ingest/ingest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *formats[] = {NULL, "folded", "lines", "tree", "trie", "pprof", "pprof",
                                    INGEST_FORMAT_PUSH};
    static const char *cts[] = {NULL, "multipart/form-data; boundary=X", "binary/octet-stream+trie",
                                "text/plain"};
    if (size < 2)
        return 0;
    const uint8_t *z = memchr(data + 1, 0, size - 1);
    if (!z)
        return 0;
    char *name = strndup((const char *)data + 1, (size_t)(z - data - 1));
    ingest_req_t req = {
        .name = name,
        .from_ns = 1700000000000000000LL,
        .until_ns = 1700000010000000000LL,
        .format = formats[data[0] & 7],
        .sample_rate = (data[0] & 8) ? "0" : "100",
        .spy_name = (data[0] & 16) ? "pyspy" : NULL,
        .content_type = cts[(data[0] >> 5) & 3],
        .body = z + 1,
        .body_len = size - (size_t)(z + 1 - data),
    };
    ingest_limits_t lim = {1 << 20, 30, 1024, 2048, (size_t)(data[0] & 0x80 ? 4 : 0)};
    batch_t b;
    const char *fmt;
    err_t err;
    if (ingest_decode(&b, &fmt, &req, &lim, &err) == 0) {
        fuzz_check_batch(&b);
        buf_t rec = BUF_INIT;
        if (ingest_record_encode(&rec, "t", &req) == 0) {
            ingest_req_t back;
            const char *tenant;
            if (ingest_record_decode(&back, &tenant, (const uint8_t *)rec.data, rec.len, &err) ||
                strcmp(tenant, "t") || back.body_len != req.body_len ||
                (req.body_len && memcmp(back.body, req.body, req.body_len)) ||
                back.from_ns != req.from_ns || strcmp(back.name, req.name))
                abort();
        }
        buf_release(&rec);
    }
    batch_release(&b);
    free(name);
    return 0;
}
