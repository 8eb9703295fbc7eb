// Unit tests of the UI's pure modules (no browser): the flamebearer decoder against
// PROTOCOLS.md §3.4's worked example, search totals, the function table, sandwich trees,
// diff decoding, unit formatting and the URL/selector helpers.
//   node --test ui/test/
import assert from "node:assert/strict";
import { test } from "node:test";

import { decode, fromTree, functionTable, matchNames, sandwich, searchTotal } from "../src/flamedata.js";
import { formatBytes, formatSeconds, unitFormatter } from "../src/format.js";
import { buildQuery, parseQuery, withMatcher } from "../src/state.js";

// stacks main;work;compute=5, main;work=2, main;idle=1, gc=2 (PROTOCOLS.md §3.4)
const EXAMPLE = {
  flamebearer: {
    names: ["total", "main", "work", "compute", "idle", "gc"],
    levels: [[0, 10, 0, 0], [0, 2, 2, 5, 0, 8, 0, 1], [2, 1, 1, 4, 0, 7, 2, 2], [5, 5, 5, 3]],
    numTicks: 10,
    maxSelf: 5,
  },
  metadata: { format: "single", units: "samples", sampleRate: 100 },
};

const nodes = (m) => m.levels.map((lv) => Array.from({ length: lv.n }, (_, i) =>
  [m.names[lv.name[i]], lv.x[i], lv.total[i], lv.self[i], lv.parent[i]]));

test("decode: absolute x, totals, selves and parents", () => {
  const m = decode(EXAMPLE);
  assert.equal(m.nodes, 6);
  assert.deepEqual(nodes(m), [
    [["total", 0, 10, 0, -1]],
    [["gc", 0, 2, 2, 0], ["main", 2, 8, 0, 0]],
    [["idle", 2, 1, 1, 1], ["work", 3, 7, 2, 1]],
    [["compute", 5, 5, 5, 1]],
  ]);
});

test("search: nested matches count once, regex form", () => {
  const m = decode(EXAMPLE);
  let r = searchTotal(m, matchNames(m.names, "WORK"));
  assert.deepEqual([r.count, r.total], [1, 7]);
  r = searchTotal(m, matchNames(m.names, "/^(work|compute)$/"));
  assert.deepEqual([r.count, r.total], [2, 7]); // compute lies under work
  assert.deepEqual(Array.from(r.covered[3]), [1]);
  r = searchTotal(m, matchNames(m.names, "/^(gc|idle)$/"));
  assert.deepEqual([r.count, r.total], [2, 3]);
  r = searchTotal(m, matchNames(m.names, "/[/")); // a bad regex matches nothing
  assert.equal(r.count, 0);
});

test("function table: self summed, recursion counted once in total", () => {
  // a;b;a;b 4 and a 1: a total 5 (not 9), b total 4
  const m = fromTree({ name: "total", self: 0, total: 5, children: new Map([["a", {
    name: "a", self: 1, total: 5, children: new Map([["b", { name: "b", self: 0, total: 4, children: new Map([["a", {
      name: "a", self: 0, total: 4, children: new Map([["b", { name: "b", self: 4, total: 4, children: new Map() }]]) }]]) }]]) }]]) });
  const t = functionTable(m);
  const rows = Object.fromEntries(t.ids.map((i) => [t.names[i], [t.self[i], t.total[i]]]));
  assert.deepEqual(rows, { a: [1, 5], b: [4, 4] });
});

test("sandwich: callers inverted, callees merged from every call site", () => {
  // main;x;lib 3, main;y;lib;z 2, main;lib 1
  const fb = {
    flamebearer: {
      names: ["total", "main", "lib", "x", "y", "z"],
      levels: [[0, 6, 0, 0], [0, 6, 0, 1], [0, 1, 1, 2, 0, 3, 0, 3, 0, 2, 0, 4], [1, 3, 3, 2, 0, 2, 0, 2], [4, 2, 2, 5]],
      numTicks: 6,
    },
    metadata: { format: "single" },
  };
  const { callers, callees } = sandwich(decode(fb), "lib");
  assert.deepEqual(nodes(callees).map((l) => l.map((n) => [n[0], n[2], n[3]])), [[["lib", 6, 4]], [["z", 2, 2]]]);
  const c = nodes(callers).map((l) => l.map((n) => [n[0], n[2]]));
  assert.deepEqual(c[0], [["lib", 6]]);
  assert.deepEqual(c[1].sort(), [["main", 1], ["x", 3], ["y", 2]]);
  assert.deepEqual(c[2], [["main", 3], ["main", 2]]);
});

test("diff: both sides decoded, drawn widths are left + right", () => {
  const m = decode({
    flamebearer: { names: ["total", "a", "b"], levels: [[0, 3, 0, 0, 5, 0, 0], [0, 1, 1, 0, 0, 0, 1, 0, 2, 2, 0, 5, 5, 2]], numTicks: 8 },
    metadata: { format: "double" },
    leftTicks: 3,
    rightTicks: 5,
  });
  const l1 = m.levels[1];
  assert.equal(m.diff, true);
  assert.deepEqual([...l1.x], [0, 1]);
  assert.deepEqual([...l1.total], [1, 7]);
  assert.deepEqual([...l1.lTotal], [1, 2]);
  assert.deepEqual([...l1.rTotal], [0, 5]);
  assert.deepEqual([...l1.parent], [0, 0]);
});

test("units: CPU samples at sampleRate 1e9 are nanoseconds; bytes; objects", () => {
  assert.equal(unitFormatter({ units: "samples", sampleRate: 1e9 }).fmt(400_000_000), "400 ms");
  assert.equal(unitFormatter({ units: "samples", sampleRate: 100 }).fmt(150), "1.5 s");
  assert.equal(unitFormatter({ units: "objects" }).fmt(1500), "1.5k objects");
  assert.equal(formatBytes(2048), "2 KiB");
  assert.equal(formatSeconds(90), "1.5 min");
  assert.equal(formatSeconds(0.0000025), "2.5 µs");
});

test("selectors: parse, build, add a matcher", () => {
  const q = 'process_cpu:cpu:nanoseconds:cpu:nanoseconds{service_name="shop", env=~"a|b",region!="x\\"y"}';
  const p = parseQuery(q);
  assert.deepEqual(p, { ptype: "process_cpu:cpu:nanoseconds:cpu:nanoseconds", service: "shop", rest: ['env=~"a|b"', 'region!="x\\"y"'] });
  assert.equal(buildQuery(p.ptype, p.service, p.rest.join(",")), 'process_cpu:cpu:nanoseconds:cpu:nanoseconds{service_name="shop",env=~"a|b",region!="x\\"y"}');
  assert.equal(withMatcher('t{service_name="s",env="dev"}', "env", "prod"), 't{service_name="s",env="prod"}');
  assert.deepEqual(parseQuery('t{service_name="s",env=}').rest, ["env="]); // kept for the server to name
});
