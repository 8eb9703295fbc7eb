// The canvas drawing loop of flamegraph.js, run against a recording stand-in for the 2D
// context (no browser): frames of at least 0.5 px are drawn one by one, touching narrower
// ones merge into one grey rect per run, and the deeper levels under a tiny run (taken in one
// binary-search step) come out as the same runs a node-by-node merge would give.
//   node --test ui/test/
import assert from "node:assert/strict";
import { test } from "node:test";

import { fromTree } from "../src/flamedata.js";

const calls = [];
const ctx = {
  setTransform() {},
  measureText: () => ({ width: 70 }),
  fillText(text, x, y) { calls.push({ op: "text", text, x, y }); },
  fillRect(x, y, w, h) { calls.push({ op: "rect", x, y, w, h, style: this.fillStyle }); },
};
globalThis.window = { devicePixelRatio: 1 };
globalThis.document = {
  documentElement: { dataset: { theme: "light" } },
  createElement: () => ({ append() {}, addEventListener() {}, style: {}, getContext: () => ctx }),
};
globalThis.ResizeObserver = class { observe() {} disconnect() {} };
const { FlameGraph } = await import("../src/flamegraph.js");

const TINY = "#d8d8dc";
const node = (name, self, children = []) => {
  const total = self + children.reduce((a, c) => a + c.total, 0);
  return { name, self, total, children: new Map(children.map((c) => [c.name, c])) };
};

function draw(tree, width) {
  const fg = new FlameGraph({ append() {} }, { fmt: String });
  fg.el.clientWidth = width;
  calls.length = 0;
  fg.setModel(fromTree(tree));
  const rows = {};
  for (const c of calls.filter((c) => c.op === "rect" && c.y > 0)) (rows[c.y / 18] ||= []).push(c);
  return { fg, rows };
}

test("a wide frame beside many tiny ones: drawn, its tiny neighbours merged per level", () => {
  // a_000..a_999 (1 tick each, 0.05 px at 100 px for 2000 ticks), each with one child of
  // 1 tick; "big" (1000 ticks) with a child "kid" of 600 ticks
  const tiny = Array.from({ length: 1000 }, (_, i) => node(`a_${String(i).padStart(3, "0")}`, 0, [node(`c_${i}`, 1)]));
  const big = node("big", 400, [node("kid", 600)]);
  const { fg, rows } = draw(node("total", 0, [node("main", 0, [...tiny, big])]), 100);
  // level 2: the 1000 tiny a_* sort before "big": one grey run [0, 50), then big [50, 100)
  // (wide rects end 1 px early: the gap between neighbours)
  assert.deepEqual(rows[2].map((r) => [r.style === TINY, Math.round(r.x), Math.round(r.x + r.w)]), [[true, 0, 50], [false, 50, 99]]);
  // level 3: the c_* (under the a_* run) merge into one run; kid starts after big's self
  const l3 = rows[3].map((r) => [r.style === TINY, Math.round(r.x * 10) / 10, Math.round((r.x + r.w) * 10) / 10]);
  assert.deepEqual(l3[0], [true, 0, 50]);
  assert.equal(l3.length, 2);
  assert.equal(l3[1][0], false);
  assert.ok(fg.labels.includes("big") && fg.labels.includes("kid"), fg.labels.join());
});

test("zoomed in, the same frames are wide enough to draw one by one", () => {
  const tiny = Array.from({ length: 50 }, (_, i) => node(`a_${String(i).padStart(2, "0")}`, 0, [node(`c_${i}`, 1)]));
  const { fg } = draw(node("total", 0, [node("main", 0, [...tiny, node("big", 5000)])]), 100);
  calls.length = 0;
  fg.zoomTo(2, 0); // a_00: 1 tick becomes 100 px
  const rects = calls.filter((c) => c.op === "rect" && c.y > 0);
  assert.ok(rects.every((r) => r.style !== TINY));
  assert.deepEqual(fg.labels, ["total", "main", "a_00", "c_0"]);
});
