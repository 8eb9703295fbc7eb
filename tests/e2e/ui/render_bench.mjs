// `make bench` figure for the web UI (issue 6): how long Chromium takes to turn a
// 100,000-node flamebearer into a drawn flame graph, and to redraw it on zoom.
// Starts the real ember server (EMBER_BIN), ingests one folded profile whose tree has
// FANOUT^DEPTH leaves (10^5 by default, 111,111 nodes with the inner ones), opens the UI on
// it with maxNodes above that, and reads the Performance API measures the UI records
// ("fg-decode": flamebearer → typed arrays, "fg-draw": first canvas draw). Then, in the page,
// repeats decode + draw ROUNDS times and zooms into a node on every level and back, timing
// each redraw against the 16.7 ms frame budget of a 60 Hz display; last, the function table
// of the default (table + flame graph) view.
//   EMBER_BIN=build/ember node tests/e2e/ui/render_bench.mjs
import { join } from "node:path";

import { launchBrowser, openUI, outDir, startServer } from "./harness.mjs";

const FANOUT = Number(process.env.BENCH_UI_FANOUT || 10);
const DEPTH = Number(process.env.BENCH_UI_DEPTH || 5);
const ROUNDS = Number(process.env.BENCH_UI_ROUNDS || 10);
const CPU = "process_cpu:cpu:nanoseconds:cpu:nanoseconds";

// Every node gets its own name (the worst case for the name table and the colour cache);
// leaf values vary so that widths differ.
function folded() {
  const lines = [];
  const walk = (path, d, id) => {
    if (d === DEPTH) {
      lines.push(`${path} ${1 + (id % 97)}`);
      return;
    }
    for (let i = 0; i < FANOUT; i++) {
      const cid = id * FANOUT + i;
      walk(`${path};pkg${d}/mod${cid % 13}.Func_${d}_${cid}`, d + 1, cid);
    }
  };
  walk("main", 0, 0);
  return lines.join("\n");
}

const median = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];
const r1 = (v) => Math.round(v * 10) / 10;

const srv = await startServer();
let browser;
try {
  const now = Math.floor(Date.now() / 1000);
  const body = folded();
  await srv.ingest("bench.cpu", body, now - 60);
  const maxNodes = 2 * FANOUT ** DEPTH;
  const url = `${srv.base}/?${new URLSearchParams({ query: `${CPU}{service_name="bench"}`, mode: "flame", maxNodes })}`;
  browser = await launchBrowser();
  const page = await openUI(browser, url);
  const first = await page.evaluate(() => {
    const m = (n) => performance.getEntriesByName(n, "measure").at(-1)?.duration;
    const fg = window.__ember.fgs[0];
    return { decode: m("fg-decode"), draw: m("fg-draw"), nodes: fg.model.nodes, levels: fg.model.levels.length, rects: fg.stats.rects };
  });
  const res = await page.evaluate(async ({ url: u, rounds }) => {
    const e = window.__ember, fg = e.fgs[0];
    const q = new URL(u).searchParams;
    const doc = await (await fetch(`/render?${new URLSearchParams({ query: q.get("query"), from: "now-1h", until: "now", maxNodes: q.get("maxNodes"), format: "json" })}`)).json();
    const decode = [], draw = [], total = [];
    for (let i = 0; i < rounds; i++) {
      const t0 = performance.now();
      const model = e.decode(doc);
      const t1 = performance.now();
      fg.setModel(model);
      const t2 = performance.now();
      decode.push(t1 - t0);
      draw.push(t2 - t1);
      total.push(t2 - t0);
    }
    // zoom into the first node of every level, then back out, one redraw per animation frame
    const zoom = [], frames = [];
    const m = fg.model;
    const steps = [];
    for (let l = 1; l < m.levels.length; l++) steps.push([l, 0]);
    for (let l = m.levels.length - 2; l >= 1; l--) steps.push([l, 0]);
    steps.push([0, 0]);
    let last = performance.now();
    for (const [l, i] of steps) {
      await new Promise((r) => requestAnimationFrame(r));
      const t = performance.now();
      frames.push(t - last);
      last = t;
      fg.zoomTo(l, i);
      zoom.push(fg.stats.ms);
    }
    return { decode, draw, total, zoom, frames: frames.slice(1), bytes: JSON.stringify(doc).length };
  }, { url, rounds: ROUNDS });
  await page.screenshot({ path: join(outDir("bench"), "render-100k.png") });
  // the default view puts the function table beside the flame graph: time that too
  const both = await openUI(browser, url.replace("mode=flame", "mode=both"));
  const table = await both.evaluate(() => performance.getEntriesByName("table", "measure").at(-1)?.duration);
  const over = res.zoom.filter((v) => v > 16.7).length;
  console.log(`profile: ${first.nodes} nodes on ${first.levels} levels, ${(res.bytes / 1e6).toFixed(1)} MB of flamebearer JSON; first draw ${first.rects} rects`);
  console.log(`first load in the UI (Performance API measures): decode ${r1(first.decode)} ms + draw ${r1(first.draw)} ms = ${r1(first.decode + first.draw)} ms`);
  console.log(`decode + draw over ${ROUNDS} rounds: median ${r1(median(res.decode))} + ${r1(median(res.draw))} = ${r1(median(res.total))} ms, min ${r1(Math.min(...res.total))} ms, max ${r1(Math.max(...res.total))} ms (goal < 100 ms)`);
  console.log(`zoom: ${res.zoom.length} redraws, median ${r1(median(res.zoom))} ms, max ${r1(Math.max(...res.zoom))} ms, ${over} over the 16.7 ms frame budget`);
  console.log(`function table (table + flame graph view): ${r1(table)} ms to aggregate ${first.nodes} nodes and lay out the first 200 rows`);
  console.log(`result: ui_render_100k_ms=${r1(median(res.total))}`);
  console.log(`result: ui_zoom_max_ms=${r1(Math.max(...res.zoom))}`);
} finally {
  await browser?.close();
  await srv.stop();
}
