/* libFuzzer target for the OTLP profiles decoder: byte 0 picks JSON (odd) or protobuf
 * (even); the rest is an ExportProfilesServiceRequest decoded with the OTLP schema and
 * converted by otlp_convert. Every pprof it emits must decode with Ember's own pprof decoder
 * and carry a __name__ and a service_name; a failed conversion must say why. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/otlp.h"
#include "api/pbschema.h"
#include "ingest/pprof.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int check(const labels_t *l, const uint8_t *p, size_t len, void *arg)
{
    (void)arg;
    const char *name = labels_get(l, "__name__"), *svc = labels_get(l, "service_name");
    if (!name || !*name || !svc || !*svc)
        abort();
    pprof_t pp;
    err_t err;
    if (pprof_decode(&pp, p, len, &err) != 0 || pp.nsample_types != 1)
        abort();
    pprof_release(&pp);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    bool json = data[0] & 1;
    pb_obj_t *req = NULL;
    err_t err = {0, ""};
    int rc = json ? pb_decode_json(&req, &pbs_otlp_export_request, (const char *)data + 1,
                                   size - 1, &err)
                  : pb_decode_binary(&req, &pbs_otlp_export_request, data + 1, size - 1, &err);
    if (rc == 0) {
        err.msg[0] = 0;
        rc = otlp_convert(req, json, 1700000000000000000LL, check, NULL, &err);
        if (rc && !err.msg[0])
            abort();
    }
    pb_free(req);
    return 0;
}
