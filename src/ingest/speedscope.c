/* format=speedscope: not implemented yet (issue 8). */
#include "ingest/ingest_int.h"

int speedscope_ingest(batch_t *out, const ingest_req_t *req, const char *app,
                      const labels_t *tags, const ingest_limits_t *lim, err_t *err)
{
    (void)out, (void)req, (void)app, (void)tags, (void)lim;
    return err_set(err, EMB_EUNSUPPORTED, "format=speedscope is not supported yet");
}
