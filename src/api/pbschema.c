/* pbschema: static pbcodec tables for Ember's Connect API (see pbschema.h). Each block below
 * is one message of proto/<pkg>/v1/<file>.proto, fields in ascending number order. The macros only
 * shorten the initialisers: F = singular, R = repeated, O = proto3 optional; the suffix says
 * the kind (M = message, E = enum). */
#include "api/pbschema.h"

#include <string.h>

#define F(n, nm, js, t) {.num = (n), .name = (nm), .json = (js), .type = (t)}
#define R(n, nm, js, t) {.num = (n), .name = (nm), .json = (js), .type = (t), .repeated = true}
#define O(n, nm, js, t) {.num = (n), .name = (nm), .json = (js), .type = (t), .optional = true}
#define FM(n, nm, js, m) {.num = (n), .name = (nm), .json = (js), .type = PB_MSG, .msg = &(m)}
#define RM(n, nm, js, m) \
    {.num = (n), .name = (nm), .json = (js), .type = PB_MSG, .msg = &(m), .repeated = true}
#define OM(n, nm, js, m) \
    {.num = (n), .name = (nm), .json = (js), .type = PB_MSG, .msg = &(m), .optional = true}
#define FE(n, nm, js, e) {.num = (n), .name = (nm), .json = (js), .type = PB_ENUM, .enm = &(e)}
#define OE(n, nm, js, e) \
    {.num = (n), .name = (nm), .json = (js), .type = PB_ENUM, .enm = &(e), .optional = true}

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define MESSAGE(var, full, ...)                                          \
    static const pb_field_t var##_fields[] = {__VA_ARGS__};              \
    const pb_msg_t var = {(full), var##_fields, NELEM(var##_fields)}
#define EMPTY_MESSAGE(var, full) const pb_msg_t var = {(full), NULL, 0}
#define ENUM(var, full, ...)                                             \
    static const pb_enum_value_t var##_values[] = {__VA_ARGS__};         \
    const pb_enum_t var = {(full), var##_values, NELEM(var##_values)}

/* ---- types.v1 ---------------------------------------------------------------------------- */

ENUM(pbs_types_time_series_aggregation_type, "types.v1.TimeSeriesAggregationType",
     {"TIME_SERIES_AGGREGATION_TYPE_SUM", 0}, {"TIME_SERIES_AGGREGATION_TYPE_AVERAGE", 1});

ENUM(pbs_types_exemplar_type, "types.v1.ExemplarType",
     {"EXEMPLAR_TYPE_UNSPECIFIED", 0}, {"EXEMPLAR_TYPE_NONE", 1},
     {"EXEMPLAR_TYPE_INDIVIDUAL", 2}, {"EXEMPLAR_TYPE_SPAN", 3});

MESSAGE(pbs_types_label_pair, "types.v1.LabelPair",
        F(1, "name", "name", PB_STRING),
        F(2, "value", "value", PB_STRING));

MESSAGE(pbs_types_profile_type, "types.v1.ProfileType",
        F(1, "ID", "ID", PB_STRING),
        F(2, "name", "name", PB_STRING),
        F(4, "sample_type", "sampleType", PB_STRING),
        F(5, "sample_unit", "sampleUnit", PB_STRING),
        F(6, "period_type", "periodType", PB_STRING),
        F(7, "period_unit", "periodUnit", PB_STRING));

MESSAGE(pbs_types_labels, "types.v1.Labels",
        RM(1, "labels", "labels", pbs_types_label_pair));

MESSAGE(pbs_types_series, "types.v1.Series",
        RM(1, "labels", "labels", pbs_types_label_pair),
        RM(2, "points", "points", pbs_types_point));

MESSAGE(pbs_types_point, "types.v1.Point",
        F(1, "value", "value", PB_DOUBLE),
        F(2, "timestamp", "timestamp", PB_INT64),
        RM(3, "annotations", "annotations", pbs_types_profile_annotation),
        RM(4, "exemplars", "exemplars", pbs_types_exemplar));

MESSAGE(pbs_types_profile_annotation, "types.v1.ProfileAnnotation",
        F(1, "key", "key", PB_STRING),
        F(2, "value", "value", PB_STRING));

MESSAGE(pbs_types_exemplar, "types.v1.Exemplar",
        F(1, "timestamp", "timestamp", PB_INT64),
        F(2, "profile_id", "profileId", PB_STRING),
        F(3, "span_id", "spanId", PB_STRING),
        F(4, "value", "value", PB_INT64),
        RM(5, "labels", "labels", pbs_types_label_pair),
        F(6, "trace_id", "traceId", PB_STRING));

MESSAGE(pbs_types_label_values_request, "types.v1.LabelValuesRequest",
        F(1, "name", "name", PB_STRING),
        R(2, "matchers", "matchers", PB_STRING),
        F(3, "start", "start", PB_INT64),
        F(4, "end", "end", PB_INT64));

MESSAGE(pbs_types_label_values_response, "types.v1.LabelValuesResponse",
        R(1, "names", "names", PB_STRING));

MESSAGE(pbs_types_label_names_request, "types.v1.LabelNamesRequest",
        R(1, "matchers", "matchers", PB_STRING),
        F(2, "start", "start", PB_INT64),
        F(3, "end", "end", PB_INT64));

MESSAGE(pbs_types_label_names_response, "types.v1.LabelNamesResponse",
        R(1, "names", "names", PB_STRING));

MESSAGE(pbs_types_stack_trace_selector, "types.v1.StackTraceSelector",
        RM(1, "call_site", "callSite", pbs_types_location),
        FM(2, "go_pgo", "goPgo", pbs_types_go_pgo));

MESSAGE(pbs_types_location, "types.v1.Location",
        F(1, "name", "name", PB_STRING));

MESSAGE(pbs_types_go_pgo, "types.v1.GoPGO",
        F(1, "keep_locations", "keepLocations", PB_UINT32),
        F(2, "aggregate_callees", "aggregateCallees", PB_BOOL));

EMPTY_MESSAGE(pbs_types_get_profile_stats_request, "types.v1.GetProfileStatsRequest");

MESSAGE(pbs_types_get_profile_stats_response, "types.v1.GetProfileStatsResponse",
        F(1, "data_ingested", "dataIngested", PB_BOOL),
        F(2, "oldest_profile_time", "oldestProfileTime", PB_INT64),
        F(3, "newest_profile_time", "newestProfileTime", PB_INT64));

MESSAGE(pbs_types_heatmap_series, "types.v1.HeatmapSeries",
        RM(1, "labels", "labels", pbs_types_label_pair),
        RM(2, "slots", "slots", pbs_types_heatmap_slot));

MESSAGE(pbs_types_heatmap_slot, "types.v1.HeatmapSlot",
        F(1, "timestamp", "timestamp", PB_INT64),
        R(2, "y_min", "yMin", PB_DOUBLE),
        R(3, "counts", "counts", PB_INT32),
        RM(4, "exemplars", "exemplars", pbs_types_exemplar));

/* ---- querier.v1 -------------------------------------------------------------------------- */

ENUM(pbs_querier_profile_format, "querier.v1.ProfileFormat",
     {"PROFILE_FORMAT_UNSPECIFIED", 0}, {"PROFILE_FORMAT_FLAMEGRAPH", 1},
     {"PROFILE_FORMAT_TREE", 2}, {"PROFILE_FORMAT_DOT", 3}, {"PROFILE_FORMAT_PPROF", 4});

ENUM(pbs_querier_async_query_type, "querier.v1.AsyncQueryType",
     {"ASYNC_QUERY_TYPE_DISABLED", 0}, {"ASYNC_QUERY_TYPE_FORCE", 1});

ENUM(pbs_querier_async_query_status, "querier.v1.AsyncQueryStatus",
     {"ASYNC_QUERY_STATUS_UNKNOWN", 0}, {"ASYNC_QUERY_STATUS_IN_PROGRESS", 1},
     {"ASYNC_QUERY_STATUS_SUCCESS", 2}, {"ASYNC_QUERY_STATUS_FAILURE", 3});

ENUM(pbs_querier_heatmap_query_type, "querier.v1.HeatmapQueryType",
     {"HEATMAP_QUERY_TYPE_UNSPECIFIED", 0}, {"HEATMAP_QUERY_TYPE_INDIVIDUAL", 1},
     {"HEATMAP_QUERY_TYPE_SPAN", 2});

MESSAGE(pbs_querier_profile_types_request, "querier.v1.ProfileTypesRequest",
        F(1, "start", "start", PB_INT64),
        F(2, "end", "end", PB_INT64));

MESSAGE(pbs_querier_profile_types_response, "querier.v1.ProfileTypesResponse",
        RM(1, "profile_types", "profileTypes", pbs_types_profile_type));

MESSAGE(pbs_querier_series_request, "querier.v1.SeriesRequest",
        R(1, "matchers", "matchers", PB_STRING),
        R(2, "label_names", "labelNames", PB_STRING),
        F(3, "start", "start", PB_INT64),
        F(4, "end", "end", PB_INT64));

MESSAGE(pbs_querier_series_response, "querier.v1.SeriesResponse",
        RM(2, "labels_set", "labelsSet", pbs_types_labels));

MESSAGE(pbs_querier_select_merge_stacktraces_request,
        "querier.v1.SelectMergeStacktracesRequest",
        F(1, "profile_typeID", "profileTypeID", PB_STRING),
        F(2, "label_selector", "labelSelector", PB_STRING),
        F(3, "start", "start", PB_INT64),
        F(4, "end", "end", PB_INT64),
        O(5, "max_nodes", "maxNodes", PB_INT64),
        FE(6, "format", "format", pbs_querier_profile_format),
        OM(7, "stack_trace_selector", "stackTraceSelector", pbs_types_stack_trace_selector),
        R(8, "profile_id_selector", "profileIdSelector", PB_STRING),
        OM(9, "async", "async", pbs_querier_async_query_request),
        R(10, "trace_id_selector", "traceIdSelector", PB_STRING),
        R(11, "span_selector", "spanSelector", PB_STRING));

MESSAGE(pbs_querier_select_merge_stacktraces_response,
        "querier.v1.SelectMergeStacktracesResponse",
        FM(1, "flamegraph", "flamegraph", pbs_querier_flame_graph),
        F(2, "tree", "tree", PB_BYTES),
        F(3, "dot", "dot", PB_STRING),
        OM(4, "async", "async", pbs_querier_async_query_response),
        FM(5, "pprof", "pprof", pbs_querier_pprof_profile));

MESSAGE(pbs_querier_pprof_profile, "querier.v1.PprofProfile",
        FM(1, "profile", "profile", pbs_google_profile));

MESSAGE(pbs_querier_async_query_request, "querier.v1.AsyncQueryRequest",
        F(1, "request_id", "requestId", PB_STRING),
        FE(2, "type", "type", pbs_querier_async_query_type));

MESSAGE(pbs_querier_async_query_response, "querier.v1.AsyncQueryResponse",
        F(1, "request_id", "requestId", PB_STRING),
        FE(2, "status", "status", pbs_querier_async_query_status),
        F(3, "error_message", "errorMessage", PB_STRING));

MESSAGE(pbs_querier_select_merge_span_profile_request,
        "querier.v1.SelectMergeSpanProfileRequest",
        F(1, "profile_typeID", "profileTypeID", PB_STRING),
        F(2, "label_selector", "labelSelector", PB_STRING),
        R(3, "span_selector", "spanSelector", PB_STRING),
        F(4, "start", "start", PB_INT64),
        F(5, "end", "end", PB_INT64),
        O(6, "max_nodes", "maxNodes", PB_INT64),
        FE(7, "format", "format", pbs_querier_profile_format));

MESSAGE(pbs_querier_select_merge_span_profile_response,
        "querier.v1.SelectMergeSpanProfileResponse",
        FM(1, "flamegraph", "flamegraph", pbs_querier_flame_graph),
        F(2, "tree", "tree", PB_BYTES));

MESSAGE(pbs_querier_diff_request, "querier.v1.DiffRequest",
        FM(1, "left", "left", pbs_querier_select_merge_stacktraces_request),
        FM(2, "right", "right", pbs_querier_select_merge_stacktraces_request));

MESSAGE(pbs_querier_diff_response, "querier.v1.DiffResponse",
        FM(1, "flamegraph", "flamegraph", pbs_querier_flame_graph_diff));

MESSAGE(pbs_querier_flame_graph, "querier.v1.FlameGraph",
        R(1, "names", "names", PB_STRING),
        RM(2, "levels", "levels", pbs_querier_level),
        F(3, "total", "total", PB_INT64),
        F(4, "max_self", "maxSelf", PB_INT64));

MESSAGE(pbs_querier_flame_graph_diff, "querier.v1.FlameGraphDiff",
        R(1, "names", "names", PB_STRING),
        RM(2, "levels", "levels", pbs_querier_level),
        F(3, "total", "total", PB_INT64),
        F(4, "max_self", "maxSelf", PB_INT64),
        F(5, "leftTicks", "leftTicks", PB_INT64),
        F(6, "rightTicks", "rightTicks", PB_INT64));

MESSAGE(pbs_querier_level, "querier.v1.Level",
        R(1, "values", "values", PB_INT64));

MESSAGE(pbs_querier_select_merge_profile_request, "querier.v1.SelectMergeProfileRequest",
        F(1, "profile_typeID", "profileTypeID", PB_STRING),
        F(2, "label_selector", "labelSelector", PB_STRING),
        F(3, "start", "start", PB_INT64),
        F(4, "end", "end", PB_INT64),
        O(5, "max_nodes", "maxNodes", PB_INT64),
        OM(6, "stack_trace_selector", "stackTraceSelector", pbs_types_stack_trace_selector),
        R(7, "profile_id_selector", "profileIdSelector", PB_STRING),
        R(8, "trace_id_selector", "traceIdSelector", PB_STRING));

MESSAGE(pbs_querier_select_series_request, "querier.v1.SelectSeriesRequest",
        F(1, "profile_typeID", "profileTypeID", PB_STRING),
        F(2, "label_selector", "labelSelector", PB_STRING),
        F(3, "start", "start", PB_INT64),
        F(4, "end", "end", PB_INT64),
        R(5, "group_by", "groupBy", PB_STRING),
        F(6, "step", "step", PB_DOUBLE),
        OE(7, "aggregation", "aggregation", pbs_types_time_series_aggregation_type),
        OM(8, "stack_trace_selector", "stackTraceSelector", pbs_types_stack_trace_selector),
        O(9, "limit", "limit", PB_INT64),
        FE(10, "exemplar_type", "exemplarType", pbs_types_exemplar_type));

MESSAGE(pbs_querier_select_series_response, "querier.v1.SelectSeriesResponse",
        RM(1, "series", "series", pbs_types_series));

MESSAGE(pbs_querier_select_heatmap_request, "querier.v1.SelectHeatmapRequest",
        F(1, "profile_typeID", "profileTypeID", PB_STRING),
        F(2, "label_selector", "labelSelector", PB_STRING),
        F(3, "start", "start", PB_INT64),
        F(4, "end", "end", PB_INT64),
        F(5, "step", "step", PB_DOUBLE),
        R(6, "group_by", "groupBy", PB_STRING),
        FE(7, "query_type", "queryType", pbs_querier_heatmap_query_type),
        FE(8, "exemplar_type", "exemplarType", pbs_types_exemplar_type),
        O(9, "limit", "limit", PB_INT64));

MESSAGE(pbs_querier_select_heatmap_response, "querier.v1.SelectHeatmapResponse",
        RM(1, "series", "series", pbs_types_heatmap_series));

MESSAGE(pbs_querier_analyze_query_request, "querier.v1.AnalyzeQueryRequest",
        F(2, "start", "start", PB_INT64),
        F(3, "end", "end", PB_INT64),
        F(4, "query", "query", PB_STRING));

MESSAGE(pbs_querier_analyze_query_response, "querier.v1.AnalyzeQueryResponse",
        RM(1, "query_scopes", "queryScopes", pbs_querier_query_scope),
        FM(2, "query_impact", "queryImpact", pbs_querier_query_impact));

MESSAGE(pbs_querier_query_scope, "querier.v1.QueryScope",
        F(1, "component_type", "componentType", PB_STRING),
        F(2, "component_count", "componentCount", PB_UINT64),
        F(3, "block_count", "blockCount", PB_UINT64),
        F(4, "series_count", "seriesCount", PB_UINT64),
        F(5, "profile_count", "profileCount", PB_UINT64),
        F(6, "sample_count", "sampleCount", PB_UINT64),
        F(7, "index_bytes", "indexBytes", PB_UINT64),
        F(8, "profile_bytes", "profileBytes", PB_UINT64),
        F(9, "symbol_bytes", "symbolBytes", PB_UINT64));

MESSAGE(pbs_querier_query_impact, "querier.v1.QueryImpact",
        F(2, "total_bytes_in_time_range", "totalBytesInTimeRange", PB_UINT64),
        F(3, "total_queried_series", "totalQueriedSeries", PB_UINT64),
        F(4, "deduplication_needed", "deduplicationNeeded", PB_BOOL));

/* ---- push.v1 ----------------------------------------------------------------------------- */

MESSAGE(pbs_push_push_request, "push.v1.PushRequest",
        RM(1, "series", "series", pbs_push_raw_profile_series));

EMPTY_MESSAGE(pbs_push_push_response, "push.v1.PushResponse");

MESSAGE(pbs_push_raw_profile_series, "push.v1.RawProfileSeries",
        RM(1, "labels", "labels", pbs_types_label_pair),
        RM(2, "samples", "samples", pbs_push_raw_sample),
        RM(3, "annotations", "annotations", pbs_types_profile_annotation));

MESSAGE(pbs_push_raw_sample, "push.v1.RawSample",
        F(1, "raw_profile", "rawProfile", PB_BYTES),
        F(2, "ID", "ID", PB_STRING));

/* ---- google.v1 --------------------------------------------------------------------------- */

MESSAGE(pbs_google_profile, "google.v1.Profile",
        RM(1, "sample_type", "sampleType", pbs_google_value_type),
        RM(2, "sample", "sample", pbs_google_sample),
        RM(3, "mapping", "mapping", pbs_google_mapping),
        RM(4, "location", "location", pbs_google_location),
        RM(5, "function", "function", pbs_google_function),
        R(6, "string_table", "stringTable", PB_STRING),
        F(7, "drop_frames", "dropFrames", PB_INT64),
        F(8, "keep_frames", "keepFrames", PB_INT64),
        F(9, "time_nanos", "timeNanos", PB_INT64),
        F(10, "duration_nanos", "durationNanos", PB_INT64),
        FM(11, "period_type", "periodType", pbs_google_value_type),
        F(12, "period", "period", PB_INT64),
        R(13, "comment", "comment", PB_INT64),
        F(14, "default_sample_type", "defaultSampleType", PB_INT64));

MESSAGE(pbs_google_value_type, "google.v1.ValueType",
        F(1, "type", "type", PB_INT64),
        F(2, "unit", "unit", PB_INT64));

MESSAGE(pbs_google_sample, "google.v1.Sample",
        R(1, "location_id", "locationId", PB_UINT64),
        R(2, "value", "value", PB_INT64),
        RM(3, "label", "label", pbs_google_label));

MESSAGE(pbs_google_label, "google.v1.Label",
        F(1, "key", "key", PB_INT64),
        F(2, "str", "str", PB_INT64),
        F(3, "num", "num", PB_INT64),
        F(4, "num_unit", "numUnit", PB_INT64));

MESSAGE(pbs_google_mapping, "google.v1.Mapping",
        F(1, "id", "id", PB_UINT64),
        F(2, "memory_start", "memoryStart", PB_UINT64),
        F(3, "memory_limit", "memoryLimit", PB_UINT64),
        F(4, "file_offset", "fileOffset", PB_UINT64),
        F(5, "filename", "filename", PB_INT64),
        F(6, "build_id", "buildId", PB_INT64),
        F(7, "has_functions", "hasFunctions", PB_BOOL),
        F(8, "has_filenames", "hasFilenames", PB_BOOL),
        F(9, "has_line_numbers", "hasLineNumbers", PB_BOOL),
        F(10, "has_inline_frames", "hasInlineFrames", PB_BOOL));

MESSAGE(pbs_google_location, "google.v1.Location",
        F(1, "id", "id", PB_UINT64),
        F(2, "mapping_id", "mappingId", PB_UINT64),
        F(3, "address", "address", PB_UINT64),
        RM(4, "line", "line", pbs_google_line),
        F(5, "is_folded", "isFolded", PB_BOOL));

MESSAGE(pbs_google_line, "google.v1.Line",
        F(1, "function_id", "functionId", PB_UINT64),
        F(2, "line", "line", PB_INT64));

MESSAGE(pbs_google_function, "google.v1.Function",
        F(1, "id", "id", PB_UINT64),
        F(2, "name", "name", PB_INT64),
        F(3, "system_name", "systemName", PB_INT64),
        F(4, "filename", "filename", PB_INT64),
        F(5, "start_line", "startLine", PB_INT64));

/* ---- OTLP profiles (opentelemetry-proto v1.9.0, profiles v1development) -------------------- */

MESSAGE(pbs_otlp_export_request,
        "opentelemetry.proto.collector.profiles.v1development.ExportProfilesServiceRequest",
        RM(1, "resource_profiles", "resourceProfiles", pbs_otlp_resource_profiles),
        FM(2, "dictionary", "dictionary", pbs_otlp_dictionary));

MESSAGE(pbs_otlp_export_response,
        "opentelemetry.proto.collector.profiles.v1development.ExportProfilesServiceResponse",
        FM(1, "partial_success", "partialSuccess", pbs_otlp_partial_success));

MESSAGE(pbs_otlp_partial_success,
        "opentelemetry.proto.collector.profiles.v1development.ExportProfilesPartialSuccess",
        F(1, "rejected_profiles", "rejectedProfiles", PB_INT64),
        F(2, "error_message", "errorMessage", PB_STRING));

MESSAGE(pbs_otlp_resource_profiles, "opentelemetry.proto.profiles.v1development.ResourceProfiles",
        FM(1, "resource", "resource", pbs_otlp_resource),
        RM(2, "scope_profiles", "scopeProfiles", pbs_otlp_scope_profiles),
        F(3, "schema_url", "schemaUrl", PB_STRING));

MESSAGE(pbs_otlp_resource, "opentelemetry.proto.resource.v1.Resource",
        RM(1, "attributes", "attributes", pbs_otlp_key_value),
        F(2, "dropped_attributes_count", "droppedAttributesCount", PB_UINT32));

MESSAGE(pbs_otlp_scope_profiles, "opentelemetry.proto.profiles.v1development.ScopeProfiles",
        FM(1, "scope", "scope", pbs_otlp_scope),
        RM(2, "profiles", "profiles", pbs_otlp_profile),
        F(3, "schema_url", "schemaUrl", PB_STRING));

MESSAGE(pbs_otlp_scope, "opentelemetry.proto.common.v1.InstrumentationScope",
        F(1, "name", "name", PB_STRING),
        F(2, "version", "version", PB_STRING),
        RM(3, "attributes", "attributes", pbs_otlp_key_value),
        F(4, "dropped_attributes_count", "droppedAttributesCount", PB_UINT32));

MESSAGE(pbs_otlp_key_value, "opentelemetry.proto.common.v1.KeyValue",
        F(1, "key", "key", PB_STRING),
        FM(2, "value", "value", pbs_otlp_any_value));

MESSAGE(pbs_otlp_any_value, "opentelemetry.proto.common.v1.AnyValue",
        O(1, "string_value", "stringValue", PB_STRING),
        O(2, "bool_value", "boolValue", PB_BOOL),
        O(3, "int_value", "intValue", PB_INT64),
        O(4, "double_value", "doubleValue", PB_DOUBLE),
        OM(5, "array_value", "arrayValue", pbs_otlp_array_value),
        OM(6, "kvlist_value", "kvlistValue", pbs_otlp_key_value_list),
        O(7, "bytes_value", "bytesValue", PB_BYTES));

MESSAGE(pbs_otlp_array_value, "opentelemetry.proto.common.v1.ArrayValue",
        RM(1, "values", "values", pbs_otlp_any_value));

MESSAGE(pbs_otlp_key_value_list, "opentelemetry.proto.common.v1.KeyValueList",
        RM(1, "values", "values", pbs_otlp_key_value));

MESSAGE(pbs_otlp_dictionary, "opentelemetry.proto.profiles.v1development.ProfilesDictionary",
        RM(1, "mapping_table", "mappingTable", pbs_otlp_mapping),
        RM(2, "location_table", "locationTable", pbs_otlp_location),
        RM(3, "function_table", "functionTable", pbs_otlp_function),
        RM(4, "link_table", "linkTable", pbs_otlp_link),
        R(5, "string_table", "stringTable", PB_STRING),
        RM(6, "attribute_table", "attributeTable", pbs_otlp_key_value_and_unit),
        RM(7, "stack_table", "stackTable", pbs_otlp_stack));

MESSAGE(pbs_otlp_profile, "opentelemetry.proto.profiles.v1development.Profile",
        FM(1, "sample_type", "sampleType", pbs_otlp_value_type),
        RM(2, "samples", "samples", pbs_otlp_sample),
        F(3, "time_unix_nano", "timeUnixNano", PB_FIXED64),
        F(4, "duration_nano", "durationNano", PB_UINT64),
        FM(5, "period_type", "periodType", pbs_otlp_value_type),
        F(6, "period", "period", PB_INT64),
        F(7, "profile_id", "profileId", PB_BYTES),
        F(8, "dropped_attributes_count", "droppedAttributesCount", PB_UINT32),
        F(9, "original_payload_format", "originalPayloadFormat", PB_STRING),
        F(10, "original_payload", "originalPayload", PB_BYTES),
        R(11, "attribute_indices", "attributeIndices", PB_INT32));

MESSAGE(pbs_otlp_sample, "opentelemetry.proto.profiles.v1development.Sample",
        F(1, "stack_index", "stackIndex", PB_INT32),
        R(2, "attribute_indices", "attributeIndices", PB_INT32),
        F(3, "link_index", "linkIndex", PB_INT32),
        R(4, "values", "values", PB_INT64),
        R(5, "timestamps_unix_nano", "timestampsUnixNano", PB_FIXED64));

MESSAGE(pbs_otlp_value_type, "opentelemetry.proto.profiles.v1development.ValueType",
        F(1, "type_strindex", "typeStrindex", PB_INT32),
        F(2, "unit_strindex", "unitStrindex", PB_INT32));

MESSAGE(pbs_otlp_mapping, "opentelemetry.proto.profiles.v1development.Mapping",
        F(1, "memory_start", "memoryStart", PB_UINT64),
        F(2, "memory_limit", "memoryLimit", PB_UINT64),
        F(3, "file_offset", "fileOffset", PB_UINT64),
        F(4, "filename_strindex", "filenameStrindex", PB_INT32),
        R(5, "attribute_indices", "attributeIndices", PB_INT32));

MESSAGE(pbs_otlp_location, "opentelemetry.proto.profiles.v1development.Location",
        F(1, "mapping_index", "mappingIndex", PB_INT32),
        F(2, "address", "address", PB_UINT64),
        RM(3, "lines", "lines", pbs_otlp_line),
        R(4, "attribute_indices", "attributeIndices", PB_INT32));

MESSAGE(pbs_otlp_line, "opentelemetry.proto.profiles.v1development.Line",
        F(1, "function_index", "functionIndex", PB_INT32),
        F(2, "line", "line", PB_INT64),
        F(3, "column", "column", PB_INT64));

MESSAGE(pbs_otlp_function, "opentelemetry.proto.profiles.v1development.Function",
        F(1, "name_strindex", "nameStrindex", PB_INT32),
        F(2, "system_name_strindex", "systemNameStrindex", PB_INT32),
        F(3, "filename_strindex", "filenameStrindex", PB_INT32),
        F(4, "start_line", "startLine", PB_INT64));

MESSAGE(pbs_otlp_link, "opentelemetry.proto.profiles.v1development.Link",
        F(1, "trace_id", "traceId", PB_BYTES),
        F(2, "span_id", "spanId", PB_BYTES));

MESSAGE(pbs_otlp_stack, "opentelemetry.proto.profiles.v1development.Stack",
        R(1, "location_indices", "locationIndices", PB_INT32));

MESSAGE(pbs_otlp_key_value_and_unit, "opentelemetry.proto.profiles.v1development.KeyValueAndUnit",
        F(1, "key_strindex", "keyStrindex", PB_INT32),
        FM(2, "value", "value", pbs_otlp_any_value),
        F(3, "unit_strindex", "unitStrindex", PB_INT32));

/* ---- services and lookups ---------------------------------------------------------------- */

#define QS "/querier.v1.QuerierService/"
const pbs_method_t pbs_methods[] = {
    {QS "ProfileTypes", &pbs_querier_profile_types_request, &pbs_querier_profile_types_response},
    {QS "LabelValues", &pbs_types_label_values_request, &pbs_types_label_values_response},
    {QS "LabelNames", &pbs_types_label_names_request, &pbs_types_label_names_response},
    {QS "Series", &pbs_querier_series_request, &pbs_querier_series_response},
    {QS "SelectMergeStacktraces", &pbs_querier_select_merge_stacktraces_request,
     &pbs_querier_select_merge_stacktraces_response},
    {QS "SelectMergeSpanProfile", &pbs_querier_select_merge_span_profile_request,
     &pbs_querier_select_merge_span_profile_response},
    {QS "SelectMergeProfile", &pbs_querier_select_merge_profile_request, &pbs_google_profile},
    {QS "SelectSeries", &pbs_querier_select_series_request, &pbs_querier_select_series_response},
    {QS "SelectHeatmap", &pbs_querier_select_heatmap_request,
     &pbs_querier_select_heatmap_response},
    {QS "Diff", &pbs_querier_diff_request, &pbs_querier_diff_response},
    {QS "GetProfileStats", &pbs_types_get_profile_stats_request,
     &pbs_types_get_profile_stats_response},
    {QS "AnalyzeQuery", &pbs_querier_analyze_query_request, &pbs_querier_analyze_query_response},
    {"/push.v1.PusherService/Push", &pbs_push_push_request, &pbs_push_push_response},
};
const size_t pbs_nmethods = NELEM(pbs_methods);

const pb_msg_t *const pbs_all[] = {
    &pbs_types_label_pair, &pbs_types_profile_type, &pbs_types_labels, &pbs_types_series,
    &pbs_types_point, &pbs_types_profile_annotation, &pbs_types_exemplar,
    &pbs_types_label_values_request, &pbs_types_label_values_response,
    &pbs_types_label_names_request, &pbs_types_label_names_response,
    &pbs_types_stack_trace_selector, &pbs_types_location, &pbs_types_go_pgo,
    &pbs_types_get_profile_stats_request, &pbs_types_get_profile_stats_response,
    &pbs_types_heatmap_series, &pbs_types_heatmap_slot,
    &pbs_querier_profile_types_request, &pbs_querier_profile_types_response,
    &pbs_querier_series_request, &pbs_querier_series_response,
    &pbs_querier_select_merge_stacktraces_request,
    &pbs_querier_select_merge_stacktraces_response, &pbs_querier_pprof_profile,
    &pbs_querier_async_query_request, &pbs_querier_async_query_response,
    &pbs_querier_select_merge_span_profile_request,
    &pbs_querier_select_merge_span_profile_response, &pbs_querier_diff_request,
    &pbs_querier_diff_response, &pbs_querier_flame_graph, &pbs_querier_flame_graph_diff,
    &pbs_querier_level, &pbs_querier_select_merge_profile_request,
    &pbs_querier_select_series_request, &pbs_querier_select_series_response,
    &pbs_querier_select_heatmap_request, &pbs_querier_select_heatmap_response,
    &pbs_querier_analyze_query_request, &pbs_querier_analyze_query_response,
    &pbs_querier_query_scope, &pbs_querier_query_impact,
    &pbs_push_push_request, &pbs_push_push_response, &pbs_push_raw_profile_series,
    &pbs_push_raw_sample,
    &pbs_google_profile, &pbs_google_value_type, &pbs_google_sample, &pbs_google_label,
    &pbs_google_mapping, &pbs_google_location, &pbs_google_line, &pbs_google_function,
    &pbs_otlp_export_request, &pbs_otlp_export_response, &pbs_otlp_partial_success,
    &pbs_otlp_resource_profiles, &pbs_otlp_resource, &pbs_otlp_scope_profiles, &pbs_otlp_scope,
    &pbs_otlp_key_value, &pbs_otlp_any_value, &pbs_otlp_array_value, &pbs_otlp_key_value_list,
    &pbs_otlp_dictionary, &pbs_otlp_profile, &pbs_otlp_sample, &pbs_otlp_value_type,
    &pbs_otlp_mapping, &pbs_otlp_location, &pbs_otlp_line, &pbs_otlp_function, &pbs_otlp_link,
    &pbs_otlp_stack, &pbs_otlp_key_value_and_unit,
};
const size_t pbs_nall = NELEM(pbs_all);

const pbs_method_t *pbs_method_find(const char *path)
{
    for (size_t i = 0; i < pbs_nmethods; i++)
        if (strcmp(pbs_methods[i].path, path) == 0)
            return &pbs_methods[i];
    return NULL;
}

const pb_msg_t *pbs_find(const char *full_name)
{
    for (size_t i = 0; i < pbs_nall; i++)
        if (strcmp(pbs_all[i]->name, full_name) == 0)
            return pbs_all[i];
    return NULL;
}
