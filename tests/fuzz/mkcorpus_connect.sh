#!/usr/bin/env bash
# Regenerates tests/fuzz/corpus/connect/: seeds for fuzz_connect.c. Each file is one selector
# byte (the schema index in fuzz_connect.c, +16 for ignore_unknown) followed by a message:
# binary made by `protoc --encode` from the .proto files under proto/, or protojson text.
# Needs protoc (Debian: protobuf-compiler). Run from anywhere; rewrites the seeds and keeps
# the crash_* files (inputs that once broke the codec, kept as regression tests).
set -euo pipefail
cd "$(dirname "$0")/../.."
out=tests/fuzz/corpus/connect
mkdir -p "$out"
find "$out" -maxdepth 1 -type f ! -name 'crash_*' -delete

# bin NAME SELECTOR TYPE TEXT: protoc-encoded message TYPE from text format TEXT.
bin() {
  local file=$1 sel=$2 type=$3 text=$4
  { printf "\\x$(printf %02x "$sel")"
    printf '%s' "$text" | protoc -I proto --encode="$type" \
      proto/types/v1/types.proto proto/querier/v1/querier.proto proto/push/v1/push.proto \
      proto/google/v1/profile.proto
  } > "$out/$file"
}
# json NAME SELECTOR TEXT
json() { { printf "\\x$(printf %02x "$2")"; printf '%s' "$3"; } > "$out/$1"; }

bin smst.bin 0 querier.v1.SelectMergeStacktracesRequest \
  'profile_typeID: "process_cpu:cpu:nanoseconds:cpu:nanoseconds" label_selector: "{service_name=\"app\"}"
   start: 1700000000000 end: 1700003600000 max_nodes: 1024 format: PROFILE_FORMAT_TREE
   stack_trace_selector { call_site { name: "main" } call_site { name: "work" } go_pgo { keep_locations: 2 aggregate_callees: true } }
   profile_id_selector: "7c9e6679-7425-40de-944b-e07fc1f90ae7" async { request_id: "r" type: ASYNC_QUERY_TYPE_FORCE }
   trace_id_selector: "0123456789abcdef0123456789abcdef" span_selector: "9a517183f26a089d"'
bin sss.bin 1 querier.v1.SelectSeriesRequest \
  'profile_typeID: "memory:alloc_space:bytes:space:bytes" label_selector: "{}" start: 1 end: 2
   group_by: "pod" group_by: "namespace" step: 15.5 aggregation: TIME_SERIES_AGGREGATION_TYPE_AVERAGE
   limit: 0 exemplar_type: EXEMPLAR_TYPE_INDIVIDUAL'
bin series.bin 2 querier.v1.SeriesRequest \
  'matchers: "{service_name=\"app\"}" label_names: "service_name" label_names: "__profile_type__" start: 0 end: 9'
bin labelvalues.bin 3 types.v1.LabelValuesRequest 'name: "pod" matchers: "{}" start: -1 end: 9223372036854775807'
bin labelnames.bin 4 types.v1.LabelNamesRequest 'matchers: "{a=\"é\"}" start: 5'
bin push.bin 5 push.v1.PushRequest \
  'series { labels { name: "__name__" value: "process_cpu" } labels { name: "service_name" value: "app" }
            samples { raw_profile: "\x1f\x8b\x08\x00\x00\x00\x00\x00" ID: "id-1" } annotations { key: "k" value: "v" } }
   series { samples { } }'
bin diff.bin 6 querier.v1.DiffRequest \
  'left { profile_typeID: "a" label_selector: "{}" start: 1 end: 2 } right { max_nodes: 0 }'
bin heatmap.bin 7 querier.v1.SelectHeatmapRequest \
  'profile_typeID: "a" step: 0.001 group_by: "x" query_type: HEATMAP_QUERY_TYPE_SPAN exemplar_type: EXEMPLAR_TYPE_SPAN limit: 10'
bin ptypes.bin 8 querier.v1.ProfileTypesRequest 'start: 1700000000000 end: 0'
bin smp.bin 9 querier.v1.SelectMergeProfileRequest \
  'profile_typeID: "a" max_nodes: -1 stack_trace_selector { } profile_id_selector: "x" trace_id_selector: "y"'
bin profile.bin 10 google.v1.Profile \
  'sample_type { type: 1 unit: 2 } sample { location_id: 1 location_id: 2 value: 10 label { key: 3 num: 4 num_unit: 2 } }
   mapping { id: 1 memory_start: 4096 memory_limit: 18446744073709551615 file_offset: 0 filename: 4 has_functions: true }
   location { id: 1 mapping_id: 1 address: 4660 line { function_id: 1 line: 7 } is_folded: true }
   location { id: 2 line { function_id: 1 line: -1 } }
   function { id: 1 name: 3 system_name: 3 filename: 4 start_line: 1 }
   string_table: "" string_table: "cpu" string_table: "nanoseconds" string_table: "main" string_table: "main.go"
   drop_frames: 0 time_nanos: 1700000000000000000 duration_nanos: 10000000000 period_type { type: 1 unit: 2 } period: 10000000
   comment: 3 default_sample_type: 1'
bin hmresp.bin 11 querier.v1.SelectHeatmapResponse \
  'series { labels { name: "pod" value: "a" } slots { timestamp: 1 y_min: 0.5 y_min: -0 y_min: inf y_min: nan counts: -1 counts: 2147483647
            exemplars { timestamp: 1 profile_id: "p" span_id: "s" value: 3 labels { name: "n" } trace_id: "t" } } }'
bin ssresp.bin 12 querier.v1.SelectSeriesResponse \
  'series { labels { name: "pod" value: "a" } points { value: 1.5 timestamp: 1700000000000 annotations { key: "k" value: "v" } } points { value: 1e308 } }'
bin aqresp.bin 13 querier.v1.AnalyzeQueryResponse \
  'query_scopes { component_type: "ingester" component_count: 3 symbol_bytes: 18446744073709551615 } query_impact { total_queried_series: 1 deduplication_needed: true }'
bin smstresp.bin 14 querier.v1.SelectMergeStacktracesResponse \
  'flamegraph { names: "total" names: "main" levels { values: 0 values: 10 values: 0 values: 0 } levels { values: 0 values: 10 values: 5 values: 1 } total: 10 max_self: 5 }
   tree: "\x01\x02" dot: "digraph {}" async { request_id: "r" status: ASYNC_QUERY_STATUS_FAILURE error_message: "e" }
   pprof { profile { string_table: "" period: 1 } }'

json smst.json 0 '{"profileTypeID":"process_cpu:cpu:nanoseconds:cpu:nanoseconds","labelSelector":"{service_name=\"app\"}","start":1700000000000,"end":"1700003600000","maxNodes":1024,"format":"PROFILE_FORMAT_TREE","stackTraceSelector":{"callSite":[{"name":"main"}],"goPgo":{"keepLocations":2}}}'
json smst_snake.json 0 '{"profile_typeID":"a","label_selector":"{}","max_nodes":"0","format":2,"span_selector":["9a517183f26a089d"],"async":null}'
json sss.json 1 '{"profileTypeID":"a","labelSelector":"{}","start":"1","end":2,"groupBy":["pod"],"step":1e1,"aggregation":"TIME_SERIES_AGGREGATION_TYPE_SUM","limit":"5","exemplarType":"EXEMPLAR_TYPE_NONE"}'
json unknown.json 17 '{"profileTypeID":"a","nope":{"x":[1,2,{}]},"aggregation":"NO_SUCH_VALUE"}'
json series.json 2 '{"matchers":["{}"],"labelNames":["service_name","__profile_type__"]}'
json labelvalues.json 3 '{"name":"pod","matchers":[],"start":null}'
json push.json 5 '{"series":[{"labels":[{"name":"service_name","value":"app"}],"samples":[{"rawProfile":"H4sIAAAAAAAA_w","ID":"x"},{"raw_profile":"AAEC"}]}]}'
json diff.json 6 '{"left":{"profileTypeID":"a","labelSelector":"{}"},"right":{}}'
json heatmap.json 7 '{"step":"NaN","queryType":42,"limit":"-9223372036854775808"}'
json profile.json 10 '{"sampleType":[{"type":"1","unit":"2"}],"sample":[{"locationId":["1"],"value":["-3"]}],"location":[{"id":"1","line":[{"functionId":"1","line":"7"}]}],"function":[{"id":"1","name":"3"}],"stringTable":["","cpu","nanoseconds","main"],"period":"1"}'
json hmresp.json 11 '{"series":[{"slots":[{"timestamp":"1","yMin":[0.5,-0.0,"Infinity","-Infinity","NaN"],"counts":[-1,2]}]}]}'
json aqresp.json 13 '{"queryScopes":[{"componentType":"x","componentCount":"18446744073709551615"}],"queryImpact":{"deduplicationNeeded":true}}'
json smstresp.json 14 '{"flamegraph":{"names":["total"],"levels":[{"values":["0","10","0","0"]}],"total":"10","maxSelf":"10"},"tree":"AQI=","dot":"d"}'
json all.json 15 '{"s":"h\u00e9\u0000","b":"-_8","i64":"-1","u64":"18446744073709551615","i32":-2,"u32":4294967295,"s64":"-3","s32":-4,"f64":"5","sf64":"-6","f32":7,"sf32":-8,"ok":true,"d":0.1,"fl":"3.4028234e38","color":"BLUE","rS32":[-1,1],"rF32":[1.5,"NaN"],"rSf64":["1"],"rColor":[1,7],"rB":["","QQ"],"oU32":0,"oB":"","oFl":-0.0,"child":{"child":{"kids":[{},{"i32":1}]}}}'
json bad_utf8.json 3 $'{"name":"\xff"}'
json deep.json 15 "$(printf '{"child":%.0s' $(seq 70))$(printf '}%.0s' $(seq 70))"
# Binary inputs only the fuzz target's own schema (15) covers: every wire type, packed and not.
printf '\x0f\x0a\x02hi\x12\x01\xff\x18\x7f\x20\x01\x28\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01\x30\x05\x38\x03\x40\x03\x49\x01\x00\x00\x00\x00\x00\x00\x00\x51\xff\xff\xff\xff\xff\xff\xff\xff\x5d\x01\x00\x00\x00\x65\xfe\xff\xff\xff\x68\x02\x71\x00\x00\x00\x00\x00\x00\xf0\x3f\x7d\x00\x00\xc0\x7f\x80\x01\x07\x8a\x01\x02\x01\x02\x88\x01\x05\x92\x01\x04\x00\x00\x80\xbf\xca\x01\x04\xc8\x01\x00\xda\x01\x00' > "$out/all.bin"
printf '\x0f\x0b\x08\x01\x13\x14\x0c\xaa\x01\x00' > "$out/groups.bin"
printf '\x0f\x18' > "$out/truncated.bin"
echo "$(ls "$out" | wc -l) files in $out"
