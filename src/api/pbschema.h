/* pbschema: the protobuf schemas Ember speaks on its Connect API, as static pbcodec tables.
 *
 * They mirror the .proto files under proto/ (types.v1, querier.v1, push.v1, google.v1), which
 * follow PROTOCOLS.md §5-§7: same packages, message and field names, numbers and types, so a
 * client generated from proto/ talks to the server without surprises. When a .proto changes,
 * change the table here in the same commit; tests/unit/api/test_pbcodec.c checks every table
 * with pb_schema_check (numbers ascending, json names the protojson lowerCamel of the proto
 * names). Naming: pbs_<package>_<message in snake_case>; enums likewise, with their values as
 * PBS_<VALUE NAME> constants. Everything here is immutable and safe to share between threads.
 */
#ifndef EMBER_API_PBSCHEMA_H
#define EMBER_API_PBSCHEMA_H

#include "api/pbcodec.h"

/* ---- types.v1 ---------------------------------------------------------------------------- */
extern const pb_msg_t pbs_types_label_pair;          /* name, value */
extern const pb_msg_t pbs_types_profile_type;
extern const pb_msg_t pbs_types_labels;
extern const pb_msg_t pbs_types_series;
extern const pb_msg_t pbs_types_point;
extern const pb_msg_t pbs_types_profile_annotation;
extern const pb_msg_t pbs_types_exemplar;
extern const pb_msg_t pbs_types_label_values_request;
extern const pb_msg_t pbs_types_label_values_response;
extern const pb_msg_t pbs_types_label_names_request;
extern const pb_msg_t pbs_types_label_names_response;
extern const pb_msg_t pbs_types_stack_trace_selector;
extern const pb_msg_t pbs_types_location;            /* types.v1.Location {name} */
extern const pb_msg_t pbs_types_go_pgo;
extern const pb_msg_t pbs_types_get_profile_stats_request;
extern const pb_msg_t pbs_types_get_profile_stats_response;
extern const pb_msg_t pbs_types_heatmap_series;
extern const pb_msg_t pbs_types_heatmap_slot;
extern const pb_enum_t pbs_types_time_series_aggregation_type;
extern const pb_enum_t pbs_types_exemplar_type;

enum {
    PBS_TIME_SERIES_AGGREGATION_TYPE_SUM = 0,
    PBS_TIME_SERIES_AGGREGATION_TYPE_AVERAGE = 1,
};
enum {
    PBS_EXEMPLAR_TYPE_UNSPECIFIED = 0,
    PBS_EXEMPLAR_TYPE_NONE = 1,
    PBS_EXEMPLAR_TYPE_INDIVIDUAL = 2,
    PBS_EXEMPLAR_TYPE_SPAN = 3,
};

/* ---- querier.v1 -------------------------------------------------------------------------- */
extern const pb_msg_t pbs_querier_profile_types_request;
extern const pb_msg_t pbs_querier_profile_types_response;
extern const pb_msg_t pbs_querier_series_request;
extern const pb_msg_t pbs_querier_series_response;
extern const pb_msg_t pbs_querier_select_merge_stacktraces_request;
extern const pb_msg_t pbs_querier_select_merge_stacktraces_response;
extern const pb_msg_t pbs_querier_pprof_profile;
extern const pb_msg_t pbs_querier_async_query_request;
extern const pb_msg_t pbs_querier_async_query_response;
extern const pb_msg_t pbs_querier_select_merge_span_profile_request;
extern const pb_msg_t pbs_querier_select_merge_span_profile_response;
extern const pb_msg_t pbs_querier_diff_request;
extern const pb_msg_t pbs_querier_diff_response;
extern const pb_msg_t pbs_querier_flame_graph;
extern const pb_msg_t pbs_querier_flame_graph_diff;
extern const pb_msg_t pbs_querier_level;
extern const pb_msg_t pbs_querier_select_merge_profile_request;
extern const pb_msg_t pbs_querier_select_series_request;
extern const pb_msg_t pbs_querier_select_series_response;
extern const pb_msg_t pbs_querier_select_heatmap_request;
extern const pb_msg_t pbs_querier_select_heatmap_response;
extern const pb_msg_t pbs_querier_analyze_query_request;
extern const pb_msg_t pbs_querier_analyze_query_response;
extern const pb_msg_t pbs_querier_query_scope;
extern const pb_msg_t pbs_querier_query_impact;
extern const pb_enum_t pbs_querier_profile_format;
extern const pb_enum_t pbs_querier_async_query_type;
extern const pb_enum_t pbs_querier_async_query_status;
extern const pb_enum_t pbs_querier_heatmap_query_type;

enum {
    PBS_PROFILE_FORMAT_UNSPECIFIED = 0, /* = flame graph */
    PBS_PROFILE_FORMAT_FLAMEGRAPH = 1,
    PBS_PROFILE_FORMAT_TREE = 2,
    PBS_PROFILE_FORMAT_DOT = 3,
    PBS_PROFILE_FORMAT_PPROF = 4,
};
enum {
    PBS_ASYNC_QUERY_TYPE_DISABLED = 0,
    PBS_ASYNC_QUERY_TYPE_FORCE = 1,
};
enum {
    PBS_ASYNC_QUERY_STATUS_UNKNOWN = 0,
    PBS_ASYNC_QUERY_STATUS_IN_PROGRESS = 1,
    PBS_ASYNC_QUERY_STATUS_SUCCESS = 2,
    PBS_ASYNC_QUERY_STATUS_FAILURE = 3,
};
enum {
    PBS_HEATMAP_QUERY_TYPE_UNSPECIFIED = 0,
    PBS_HEATMAP_QUERY_TYPE_INDIVIDUAL = 1,
    PBS_HEATMAP_QUERY_TYPE_SPAN = 2,
};

/* ---- push.v1 ----------------------------------------------------------------------------- */
extern const pb_msg_t pbs_push_push_request;
extern const pb_msg_t pbs_push_push_response;
extern const pb_msg_t pbs_push_raw_profile_series;
extern const pb_msg_t pbs_push_raw_sample;

/* ---- google.v1 (pprof) ------------------------------------------------------------------- */
extern const pb_msg_t pbs_google_profile;
extern const pb_msg_t pbs_google_value_type;
extern const pb_msg_t pbs_google_sample;
extern const pb_msg_t pbs_google_label;
extern const pb_msg_t pbs_google_mapping;
extern const pb_msg_t pbs_google_location;
extern const pb_msg_t pbs_google_line;
extern const pb_msg_t pbs_google_function;

/* ---- OTLP profiles (opentelemetry-proto v1.9.0, profiles v1development; docs/API.md) ---- */
extern const pb_msg_t pbs_otlp_export_request;
extern const pb_msg_t pbs_otlp_export_response;
extern const pb_msg_t pbs_otlp_partial_success;
extern const pb_msg_t pbs_otlp_resource_profiles;
extern const pb_msg_t pbs_otlp_resource;
extern const pb_msg_t pbs_otlp_scope_profiles;
extern const pb_msg_t pbs_otlp_scope;
extern const pb_msg_t pbs_otlp_key_value;
extern const pb_msg_t pbs_otlp_any_value;
extern const pb_msg_t pbs_otlp_array_value;
extern const pb_msg_t pbs_otlp_key_value_list;
extern const pb_msg_t pbs_otlp_dictionary;
extern const pb_msg_t pbs_otlp_profile;
extern const pb_msg_t pbs_otlp_sample;
extern const pb_msg_t pbs_otlp_value_type;
extern const pb_msg_t pbs_otlp_mapping;
extern const pb_msg_t pbs_otlp_location;
extern const pb_msg_t pbs_otlp_line;
extern const pb_msg_t pbs_otlp_function;
extern const pb_msg_t pbs_otlp_link;
extern const pb_msg_t pbs_otlp_stack;
extern const pb_msg_t pbs_otlp_key_value_and_unit;

/* ---- services ---------------------------------------------------------------------------- */

/* One unary RPC: its Connect path and its request and response schemas. */
typedef struct pbs_method {
    const char *path; /* "/querier.v1.QuerierService/SelectSeries" */
    const pb_msg_t *req, *resp;
} pbs_method_t;

/* Every RPC of querier.v1.QuerierService and push.v1.PusherService, in proto order. */
extern const pbs_method_t pbs_methods[];
extern const size_t pbs_nmethods;

/* The method served at path ("/querier.v1.QuerierService/Series"), or NULL. */
const pbs_method_t *pbs_method_find(const char *path);
/* The message schema with this full name ("types.v1.LabelPair"), or NULL. */
const pb_msg_t *pbs_find(const char *full_name);
/* Every message schema above, for tests and lookups. */
extern const pb_msg_t *const pbs_all[];
extern const size_t pbs_nall;

#endif
