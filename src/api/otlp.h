/* OTLP profiles (opentelemetry-proto v1.9.0, profiles v1development) → Ember.
 *
 * otlp_convert turns a decoded ExportProfilesServiceRequest into google.v1 pprof profiles the
 * way Pyroscope's OTLP ingester does (PROTOCOLS.md §10.7): one pprof per profile and
 * sample-level service.name, CPU sample counts turned into nanoseconds by the period, sample
 * attributes as sample labels, links as span_id/trace_id labels; and series labels from the
 * resource and scope attributes (first wins), service_name from service.name (else
 * unknown_service[:<process.executable.name>]), __name__ from the profile type and
 * __otel__="true". The HTTP handler (api__otlp in otlp.c) stores each one through the Push
 * path, so the WAL, limits and queries see ordinary pprof.
 */
#ifndef EMBER_API_OTLP_H
#define EMBER_API_OTLP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api/pbcodec.h"
#include "base/err.h"
#include "model/labels.h"

/* Receives one converted profile: its series labels and the pprof bytes (borrowed for the
 * call). Returns 0, or non-zero to stop the conversion (that value is returned). */
typedef int (*otlp_emit_fn)(const labels_t *labels, const uint8_t *pprof, size_t len,
                            void *arg);

/* Converts req (schema pbs_otlp_export_request). json says the request came as JSON, where
 * OTLP writes trace and span ids as hex text rather than base64. now_ns stands in for a
 * missing profile time. EMB_EINVAL with a message naming the profile for bad references or
 * values; otherwise what emit returned. */
int otlp_convert(const pb_obj_t *req, bool json, int64_t now_ns, otlp_emit_fn emit, void *arg,
                 err_t *err);

#endif
