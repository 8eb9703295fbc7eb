// OTLP profiles into Ember: ExportProfilesServiceRequest messages built with the classes
// protoc-gen-es generates from Ember's proto/opentelemetry/ files (opentelemetry-proto v1.9.0
// field numbers), posted to /v1development/profiles as protobuf and as OTLP/JSON (ids as hex,
// as OTLP exporters write them), then read back with the Connect querier client: CPU sample
// counts become nanoseconds by the period, off_cpu keeps its values, a sample-level
// service.name splits the profile, sample attributes become labels, links become span ids.
//
// Run by tests/integration/test_otlp.py (EMBER_URL, multi-tenant server).
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { create, toBinary, toJson } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";

import "./gen.mjs"; // generates gen/ from proto/ before the imports below

const OT = await import("./gen/opentelemetry/proto/profiles/v1development/profiles_pb.js");
const OC = await import("./gen/opentelemetry/proto/common/v1/common_pb.js");
const OR = await import("./gen/opentelemetry/proto/resource/v1/resource_pb.js");
const OS = await import("./gen/opentelemetry/proto/collector/profiles/v1development/profiles_service_pb.js");
const Q = await import("./gen/querier/v1/querier_pb.js");

const BASE = process.env.EMBER_URL;
assert.ok(BASE, "EMBER_URL is required");
const NOW_MS = Date.now();
const PERIOD = 10_000_000n;
const TRACE = "0af7651916cd43dd8448eb211c80319c";
const SPAN = "b7ad6b7169203331";
const hexBytes = (h) => Uint8Array.from(h.match(/../g).map((b) => parseInt(b, 16)));

function request(svc) {
  const strings = [""];
  const str = (s) => {
    let i = strings.indexOf(s);
    if (i < 0) i = strings.push(s) - 1;
    return i;
  };
  const fnames = ["main", "work", "hot", "cold", "wait"];
  const functionTable = fnames.map((n) => create(OT.FunctionSchema, { nameStrindex: str(n), filenameStrindex: str("app.go") }));
  const mappingTable = [create(OT.MappingSchema, {}), create(OT.MappingSchema, { filenameStrindex: str("/bin/app"), memoryStart: 0x400000n, memoryLimit: 0x500000n })];
  // one location per function, each on mapping 1
  const locationTable = fnames.map((_, i) => create(OT.LocationSchema, { mappingIndex: 1, address: BigInt(0x401000 + i * 16), lines: [create(OT.LineSchema, { functionIndex: i, line: BigInt(10 + i) })] }));
  const stack = (...names) => create(OT.StackSchema, { locationIndices: names.reverse().map((n) => fnames.indexOf(n)) }); // leaf first
  const stackTable = [stack("main", "work", "hot"), stack("main", "work", "cold"), stack("main", "wait")];
  const kv = (k, v) => create(OT.KeyValueAndUnitSchema, { keyStrindex: str(k), value: create(OC.AnyValueSchema, { value: { case: "stringValue", value: v } }) });
  const attributeTable = [kv("thread.name", "worker-1"), kv("service.name", `${svc}_other`)];
  const linkTable = [create(OT.LinkSchema, {}), create(OT.LinkSchema, { traceId: hexBytes(TRACE), spanId: hexBytes(SPAN) })];
  const vt = (t, u) => create(OT.ValueTypeSchema, { typeStrindex: str(t), unitStrindex: str(u) });
  const cpu = create(OT.ProfileSchema, {
    sampleType: vt("samples", "count"), periodType: vt("cpu", "nanoseconds"), period: PERIOD,
    timeUnixNano: BigInt(NOW_MS) * 1_000_000n, durationNano: 10_000_000_000n,
    samples: [
      create(OT.SampleSchema, { stackIndex: 0, values: [7n], linkIndex: 1 }),
      create(OT.SampleSchema, { stackIndex: 1, values: [3n], attributeIndices: [0] }),
      create(OT.SampleSchema, { stackIndex: 0, values: [2n], attributeIndices: [1] }),
    ],
  });
  const offcpu = create(OT.ProfileSchema, {
    sampleType: vt("off_cpu", "nanoseconds"), timeUnixNano: BigInt(NOW_MS) * 1_000_000n,
    samples: [create(OT.SampleSchema, { stackIndex: 2, values: [5000n] })],
  });
  const attr = (k, v) => create(OC.KeyValueSchema, { key: k, value: create(OC.AnyValueSchema, { value: typeof v === "bigint" ? { case: "intValue", value: v } : { case: "stringValue", value: v } }) });
  return create(OS.ExportProfilesServiceRequestSchema, {
    resourceProfiles: [create(OT.ResourceProfilesSchema, {
      resource: create(OR.ResourceSchema, { attributes: [attr("service.name", svc), attr("host.name", "h1"), attr("k8s.pod.count", 3n)] }),
      scopeProfiles: [create(OT.ScopeProfilesSchema, {
        scope: create(OC.InstrumentationScopeSchema, { name: "ebpf-profiler", attributes: [attr("host.name", "ignored"), attr("scope.attr", "x")] }),
        profiles: [cpu, offcpu],
      })],
    })],
    dictionary: create(OT.ProfilesDictionarySchema, { mappingTable, locationTable, functionTable, linkTable, stringTable: strings, attributeTable, stackTable }),
  });
}

// OTLP/JSON writes trace and span ids as hex, not base64
function otlpJson(req) {
  const j = toJson(OS.ExportProfilesServiceRequestSchema, req);
  for (const l of j.dictionary.linkTable) {
    if (l.traceId) l.traceId = Buffer.from(l.traceId, "base64").toString("hex");
    if (l.spanId) l.spanId = Buffer.from(l.spanId, "base64").toString("hex");
  }
  return JSON.stringify(j);
}

const querier = createClient(Q.QuerierService, createConnectTransport({ httpVersion: "1.1", baseUrl: BASE }));

for (const mode of ["protobuf", "json"]) {
  describe(`OTLP profiles export (${mode})`, () => {
    const tenant = `otlp-${mode}-${process.pid}`;
    const H = { headers: { "X-Scope-OrgID": tenant } };
    const svc = `otlpsvc_${mode}`;
    const range = { start: BigInt(NOW_MS - 3600_000), end: BigInt(NOW_MS + 60_000) };
    const total = async (type, sel) => (await querier.selectMergeStacktraces({ profileTypeID: type, labelSelector: sel, ...range }, H)).flamegraph;

    test("export is accepted", async () => {
      const req = request(svc);
      const r = await fetch(`${BASE}/v1development/profiles`, {
        method: "POST",
        headers: { "X-Scope-OrgID": tenant, "Content-Type": mode === "json" ? "application/json" : "application/x-protobuf" },
        body: mode === "json" ? otlpJson(req) : toBinary(OS.ExportProfilesServiceRequestSchema, req),
      });
      assert.equal(r.status, 200, await r.text());
    });

    test("CPU sample counts are nanoseconds by the period; names and tree", async () => {
      const fg = await total("process_cpu:cpu:nanoseconds:cpu:nanoseconds", `{service_name="${svc}"}`);
      assert.equal(fg.total, 10n * PERIOD);
      for (const n of ["main", "work", "hot", "cold"]) assert.ok(fg.names.includes(n), n);
    });

    test("a sample-level service.name goes to its own service", async () => {
      const fg = await total("process_cpu:cpu:nanoseconds:cpu:nanoseconds", `{service_name="${svc}_other"}`);
      assert.equal(fg.total, 2n * PERIOD);
    });

    test("off_cpu keeps its values", async () => {
      const fg = await total("off_cpu:off_cpu:nanoseconds::", `{service_name="${svc}"}`);
      assert.equal(fg.total, 5000n);
      assert.ok(fg.names.includes("wait"));
    });

    test("labels: resource and scope attributes (first wins), sample attributes, __otel__", async () => {
      const sel = `{service_name="${svc}",host.name="h1",scope.attr="x",k8s.pod.count="3"}`;
      assert.equal((await total("process_cpu:cpu:nanoseconds:cpu:nanoseconds", sel)).total, 10n * PERIOD);
      const t = await total("process_cpu:cpu:nanoseconds:cpu:nanoseconds", `{service_name="${svc}",thread.name="worker-1"}`);
      assert.equal(t.total, 3n * PERIOD);
      const v = await querier.labelValues({ name: "__otel__", ...range }, H);
      assert.deepEqual(v.names, ["true"]);
    });

    test("links become span ids for SelectMergeSpanProfile", async () => {
      const r = await querier.selectMergeSpanProfile({ profileTypeID: "process_cpu:cpu:nanoseconds:cpu:nanoseconds",
        labelSelector: `{service_name="${svc}"}`, spanSelector: [SPAN], ...range }, H);
      assert.equal(r.flamegraph.total, 7n * PERIOD);
    });
  });
}
