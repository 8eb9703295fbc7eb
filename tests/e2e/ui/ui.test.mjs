// Browser tests of the web UI (docs/UI.md): Debian's Chromium driven by playwright-core
// against the real `ember server` (EMBER_BIN), with profiles this file ingests through /ingest.
// They check what a person sees: totals and function names, zoom, tooltip, search, table
// sort, sandwich, the tag explorer's filter, diff colours and the top regressed list,
// comparison, exports, error messages, themes and that the URL reproduces a view.
// Screenshots go to outDir("ui") (next to the binary, or EMBER_UI_OUT).
//   EMBER_BIN=build-ui/ember node --test tests/e2e/ui/ui.test.mjs
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, afterEach, before, describe, test } from "node:test";

import { closePages, launchBrowser, openUI, outDir, reloadsAfter, startServer, waitLoaded } from "./harness.mjs";

const CPU = "process_cpu:cpu:nanoseconds:cpu:nanoseconds";
const SVC = "shop";
const Q = `${CPU}{service_name="${SVC}"}`;
const NOW = Math.floor(Date.now() / 1000);
// 10 ms per sample at the default sampleRate=100: prod 450 ms, dev 450 ms, 900 ms in all.
const PROD = "main;work;hash 30\nmain;work;io 10\nmain;net/http.(*conn).serve;runtime.mallocgc 5";
const DEV = "main;work;hash 10\nmain;work;io 30\nmain;gc 5";

let srv, browser, OUT;
const url = (params, path = "/") => `${srv.base}${path}?${new URLSearchParams(params)}`;
const shot = (page, name) => page.screenshot({ path: join(OUT, `${name}.png`), fullPage: true });
const text = (page, sel) => page.locator(sel).first().innerText();
const fg = (page, i = 0) => page.evaluate((k) => {
  const f = window.__ember.fgs[k];
  return f && { labels: f.labels, zoom: f.zoomNode(), stats: f.stats };
}, i);

// Real mouse input at the middle of the frame named `name` in flame graph k.
async function frameCenter(page, name, k = 0) {
  const r = await page.evaluate(([n, i]) => {
    const f = window.__ember.fgs[i];
    const hit = f.find(n);
    return hit && f.rect(hit.level, hit.index);
  }, [name, k]);
  assert.ok(r, `frame ${name} is drawn`);
  return { x: r.x + r.w / 2, y: r.y + r.h / 2 };
}

// A real mouse drag across a time line's plot area, between two fractions of its width.
async function dragAcross(page, selector, from, to) {
  const box = await page.locator(selector).boundingBox();
  const y = box.y + box.height / 2;
  await page.mouse.move(box.x + box.width * from, y);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * to, y, { steps: 5 });
  await page.mouse.up();
}

async function pixel(page, name, k = 0) {
  const { x, y } = await frameCenter(page, name, k);
  return page.evaluate(([px, py, i]) => {
    const c = window.__ember.fgs[i].canvas;
    const r = c.getBoundingClientRect();
    const d = window.devicePixelRatio || 1;
    return [...c.getContext("2d").getImageData(Math.round((px - r.left) * d), Math.round((py - r.top) * d), 1, 1).data];
  }, [x, y, k]);
}

before(async () => {
  OUT = outDir("ui");
  srv = await startServer();
  await srv.ingest(`${SVC}.cpu{env=prod,region=eu}`, PROD, NOW - 1500);
  await srv.ingest(`${SVC}.cpu{env=dev,region=us}`, DEV, NOW - 120);
  await srv.ingest(`${SVC}.alloc_space{env=prod}`, "main;alloc;bytes.makeSlice 2048", NOW - 300);
  await srv.ingest("billing.cpu{env=prod}", "main;charge 7", NOW - 300);
  browser = await launchBrowser();
  console.log(`# screenshots in ${OUT}`);
});

afterEach(() => browser && closePages(browser));

after(async () => {
  await browser?.close();
  await srv?.stop();
});

describe("serving", () => {
  test("index.html, assets with ETag/304 and gzip, SPA fallback, API 404s stay JSON", async () => {
    const idx = await fetch(`${srv.base}/`);
    assert.equal(idx.status, 200);
    assert.match(idx.headers.get("content-type"), /^text\/html/);
    assert.match(await idx.text(), /\/assets\/app\.js/);
    const js = await fetch(`${srv.base}/assets/app.js`, { headers: { "Accept-Encoding": "gzip" } });
    assert.equal(js.status, 200);
    assert.equal(js.headers.get("content-encoding"), "gzip");
    assert.equal(js.headers.get("cache-control"), "no-cache");
    const etag = js.headers.get("etag");
    assert.match(etag, /^"[0-9a-f]+"$/);
    const again = await fetch(`${srv.base}/assets/app.js`, { headers: { "If-None-Match": etag } });
    assert.equal(again.status, 304);
    const weak = await fetch(`${srv.base}/assets/app.js`, { headers: { "If-None-Match": `"x", W/${etag}` } });
    assert.equal(weak.status, 304);
    const plain = await fetch(`${srv.base}/assets/app.css`, { headers: { "Accept-Encoding": "identity" } });
    assert.equal(plain.headers.get("content-encoding"), null);
    assert.match(plain.headers.get("content-type"), /^text\/css/);
    assert.match(await plain.text(), /\.flamegraph/);
    const head = await fetch(`${srv.base}/`, { method: "HEAD" });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get("etag"), idx.headers.get("etag"));
    const spa = await fetch(`${srv.base}/some/bookmarked/view`, { headers: { Accept: "text/html" } });
    assert.equal(spa.status, 200);
    assert.match(await spa.text(), /<div id="app">/);
    const api = await fetch(`${srv.base}/api/nope`, { headers: { Accept: "text/html" } });
    assert.equal(api.status, 404);
    assert.match(api.headers.get("content-type"), /json/);
    assert.equal((await fetch(`${srv.base}/assets/nope.js`)).status, 404);
  });
});

describe("single view", () => {
  test("pickers default to a service and its CPU profile; totals and names are shown", async () => {
    const page = await openUI(browser, `${srv.base}/`);
    assert.deepEqual(await page.locator(".querybar .service option").allInnerTexts(), ["billing", SVC]);
    await page.selectOption(".querybar .service", SVC);
    await waitLoaded(page, 2);
    const ptypes = await page.locator(".querybar .ptype option").evaluateAll((os) => os.map((o) => o.value));
    assert.deepEqual(ptypes.sort(), ["memory:alloc_space:bytes::", CPU]);
    assert.equal(await page.inputValue(".querybar .ptype"), CPU);
    assert.match(await text(page, ".single .total"), /Total: 900 ms \(CPU time\)/);
    const { labels, stats } = await fg(page);
    for (const n of ["total", "main", "work", "hash", "io"]) assert.ok(labels.includes(n), `${n} drawn: ${labels}`);
    assert.ok(stats.rects >= 8);
    const rows = await page.locator(".fn-table tbody td.name").allInnerTexts();
    assert.deepEqual(rows.slice(0, 2).sort(), ["hash", "io"]); // the two 400 ms selves first
    assert.ok(page.url().includes(encodeURIComponent(`service_name="${SVC}"`)));
    await shot(page, "single-both");
    // memory profile: bytes
    await reloadsAfter(page, () => page.selectOption(".querybar .ptype", "memory:alloc_space:bytes::"));
    assert.match(await text(page, ".single .total"), /Total: 2 KiB \(memory\)/);
    assert.deepEqual(page.errors, []);
  });

  test("click zooms, tooltip shows self/total/% in units, reset and right-click menu", async () => {
    const page = await openUI(browser, url({ query: Q, mode: "flame" }));
    const work = await frameCenter(page, "work");
    await page.mouse.click(work.x, work.y);
    let st = await fg(page);
    assert.equal(st.zoom.name, "work");
    assert.ok(st.labels.includes("hash") && st.labels.includes("io"));
    assert.ok(!st.labels.includes("gc"), "gc is outside work: not drawn when zoomed");
    const hash = await frameCenter(page, "hash");
    await page.mouse.move(hash.x, hash.y);
    const tip = await text(page, ".tooltip");
    assert.match(tip, /^hash/);
    assert.match(tip, /Total: 400 ms \(44\.4% of total\)/);
    assert.match(tip, /Self: 400 ms/);
    await shot(page, "zoomed-tooltip");
    await page.click(".reset");
    st = await fg(page);
    assert.equal(st.zoom, null);
    assert.ok(st.labels.includes("gc"));
    // right-click → copy name, then → sandwich
    const io = await frameCenter(page, "io");
    await page.mouse.click(io.x, io.y, { button: "right" });
    await page.locator(".menu li", { hasText: "Copy function name" }).click();
    assert.equal(await page.evaluate(() => window.__ember.copied), "io");
    const w = await frameCenter(page, "work");
    await page.mouse.click(w.x, w.y, { button: "right" });
    await reloadsAfter(page, () => page.locator(".menu li", { hasText: "Open in sandwich view" }).click());
    assert.match(page.url(), /mode=sandwich/);
    assert.match(page.url(), /fn=work/);
    const callers = await fg(page, 0), callees = await fg(page, 1);
    assert.ok(callers.labels.includes("work") && callers.labels.includes("main"), callers.labels.join());
    assert.ok(callees.labels.includes("hash") && callees.labels.includes("io"), callees.labels.join());
    assert.ok(!callees.labels.includes("gc"));
    await shot(page, "sandwich");
  });

  test("search highlights matches and shows their total; table filters", async () => {
    const page = await openUI(browser, url({ query: Q }));
    await page.fill(".search input", "/^(io|gc)$/");
    await page.waitForFunction(() => /2 matches/.test(document.querySelector(".single .matches")?.textContent));
    assert.match(await text(page, ".single .matches"), /2 matches: 450 ms \(50\.0%\)/); // io 400 + gc 50
    // a match under a match (hash under work) counts once
    await page.fill(".search input", "/work|hash/");
    await page.waitForFunction(() => /800 ms/.test(document.querySelector(".single .matches")?.textContent));
    assert.match(await text(page, ".single .matches"), /2 matches: 800 ms \(88\.9%\)/);
    await page.fill(".search input", "hash");
    await page.waitForFunction(() => /1 match:/.test(document.querySelector(".single .matches").textContent));
    assert.match(await text(page, ".single .matches"), /1 match: 400 ms \(44\.4%\)/);
    assert.deepEqual(await page.locator(".fn-table tbody td.name").allInnerTexts(), ["hash"]);
    assert.match(page.url(), /search=hash/);
    // highlighted frame is blue-ish, others dimmed
    const [r, g, b] = await pixel(page, "hash");
    assert.ok(b > r && b > g, `hash highlighted blue: ${[r, g, b]}`);
    await shot(page, "search");
  });

  test("table sorts by self, total and name", async () => {
    const page = await openUI(browser, url({ query: Q, mode: "table" }));
    const names = () => page.locator(".fn-table tbody td.name").allInnerTexts();
    assert.deepEqual((await names()).slice(0, 2).sort(), ["hash", "io"]); // self, descending
    await page.click(".fn-table th[data-key=total]");
    assert.deepEqual((await names()).slice(0, 2), ["main", "work"]);
    await page.click(".fn-table th[data-key=total]");
    assert.equal((await names())[0] === "main", false);
    await page.click(".fn-table th[data-key=name]");
    assert.deepEqual(await names(), ["gc", "hash", "io", "main", "net/http.(*conn).serve", "runtime.mallocgc", "work"]);
    await page.click(".fn-table th[data-key=self]");
    const selfs = await page.locator(".fn-table tbody tr td:nth-child(2)").allInnerTexts();
    assert.match(selfs[0], /^400 ms/);
    assert.match(selfs.at(-1), /^0 s/);
  });

  test("URL round trip: a copied link reproduces the view", async () => {
    const page = await openUI(browser, url({ query: Q }));
    await page.fill(".querybar .labels", 'env="prod"');
    await reloadsAfter(page, () => page.click(".querybar .apply"));
    await reloadsAfter(page, () => page.click(".modes button[data-mode=flame]"));
    await page.fill(".search input", "io");
    await page.waitForFunction(() => /search=io/.test(location.search));
    await reloadsAfter(page, async () => {
      await page.fill(".maxnodes input", "4");
      await page.press(".maxnodes input", "Enter");
    });
    const link = page.url();
    for (const k of ["mode=flame", "search=io", "maxNodes=4", encodeURIComponent('env="prod"')]) assert.ok(link.includes(k), `${k} in ${link}`);
    const copy = await openUI(browser, link);
    assert.equal(await copy.inputValue(".querybar .labels"), 'env="prod"');
    assert.equal(await copy.inputValue(".search input"), "io");
    assert.equal(await copy.inputValue(".maxnodes input"), "4");
    assert.match(await text(copy, ".single .total"), /Total: 450 ms/);
    assert.match(await text(copy, ".single .matches"), /1 match: 100 ms/);
    const labels = (await fg(copy)).labels;
    assert.ok(labels.includes("other"), `maxNodes=4 cuts into other: ${labels}`);
    // back restores the previous state
    await reloadsAfter(page, () => page.goBack());
    assert.ok(!page.url().includes("maxNodes=4"));
  });

  test("label selector autocompletes names and values", async () => {
    const page = await openUI(browser, url({ query: Q }));
    await page.click(".querybar .labels");
    await page.fill(".querybar .labels", "re");
    // only "region" starts with "re" (the list for the empty field, from the click, may come first)
    await page.waitForFunction(() => [...document.querySelectorAll(".ac li")].map((li) => li.textContent).join() === "region");
    await page.locator(".ac li", { hasText: "region" }).click();
    assert.equal(await page.inputValue(".querybar .labels"), "region=");
    await page.waitForFunction(() => document.querySelectorAll(".ac li").length === 2);
    assert.deepEqual(await page.locator(".ac li").allInnerTexts(), ["eu", "us"]);
    await page.locator(".ac li", { hasText: "us" }).click();
    assert.equal(await page.inputValue(".querybar .labels"), 'region="us"');
    await reloadsAfter(page, () => page.press(".querybar .labels", "Enter"));
    assert.match(await text(page, ".single .total"), /Total: 450 ms/);
  });

  test("time range: presets, absolute times and drag-select on the time line", async () => {
    const page = await openUI(browser, url({ query: Q }));
    await reloadsAfter(page, () => page.selectOption(".querybar .preset", "now-15m"));
    assert.match(page.url(), /from=now-15m/);
    assert.match(await text(page, ".single .total"), /Total: 450 ms/); // dev (2 min old), not prod (25 min)
    const iso = (t) => new Date(t * 1000).toISOString().slice(0, 16).replace("T", " ");
    await page.fill(".querybar .from", iso(NOW - 3600));
    await page.fill(".querybar .until", iso(NOW + 120));
    await reloadsAfter(page, () => page.press(".querybar .until", "Enter"));
    assert.match(await text(page, ".single .total"), /Total: 900 ms/);
    // drag over the right part of the plot: the range narrows to absolute seconds
    await reloadsAfter(page, () => dragAcross(page, ".timeline-box .u-over", 0.93, 0.999));
    const p = new URL(page.url()).searchParams;
    assert.match(p.get("from"), /^\d{10}$/);
    assert.match(p.get("until"), /^\d{10}$/);
    assert.ok(Number(p.get("until")) - Number(p.get("from")) < 3600);
  });

  test("errors: bad selector, no data, empty server, server error, unreachable server", async () => {
    const page = await openUI(browser, url({ query: `${CPU}{service_name="shop",env=}` }));
    assert.match(await text(page, ".banner.error"), /^Bad query: selector: expected quoted string/);
    await shot(page, "bad-selector");
    const empty = await openUI(browser, url({ query: `${CPU}{service_name="nosuch"}` }));
    assert.match(await text(empty, ".empty"), /No data/);
    // a 5xx: Ember answers one only on internal failure, so this one is staged in the browser
    await empty.route("**/render?**", (r) => r.fulfill({ status: 500, contentType: "application/json", body: '{"code":"unknown","message":"disk on fire"}' }));
    await reloadsAfter(empty, () => empty.click(".querybar .apply"));
    assert.equal(await text(empty, ".banner.error"), "Server error (500): disk on fire");
    // a server with nothing in it yet
    const fresh = await startServer();
    const blank = await openUI(browser, `${fresh.base}/`);
    assert.match(await text(blank, ".banner.info"), /^No data yet: send profiles to \/ingest/);
    await blank.close();
    await fresh.stop();
    // a server that went away
    const gone = await startServer();
    await gone.ingest("gone.cpu", "main 1", NOW - 60);
    const orphan = await openUI(browser, `${gone.base}/?${new URLSearchParams({ query: `${CPU}{service_name="gone"}` })}`);
    assert.match(await text(orphan, ".single .total"), /Total: 10 ms/);
    await gone.stop();
    await reloadsAfter(orphan, () => orphan.click(".querybar .apply"));
    assert.equal(await text(orphan, ".banner.error"), "Cannot reach the Ember server. Is it running?");
  });
});

describe("hostile names", () => {
  test("function names and label values are shown as text, never as markup", async () => {
    const evil = '<img src=x onerror="window.__pwned=1">';
    await srv.ingest("xss.cpu{tag=<b>v</b>}", `main;${evil} 3`, NOW - 60);
    const page = await openUI(browser, url({ query: `${CPU}{service_name="xss"}` }));
    assert.deepEqual(await page.locator(".fn-table tbody td.name").allInnerTexts(), [evil, "main"]);
    assert.ok((await fg(page)).labels.includes(evil));
    const h = await frameCenter(page, evil);
    await page.mouse.move(h.x, h.y);
    assert.match(await text(page, ".tooltip"), /^<img src=x/);
    const tags = await openUI(browser, url({ query: `${CPU}{service_name="xss"}`, view: "tags", groupBy: "tag" }));
    assert.match(await text(tags, ".tag-values tbody"), /<b>v<\/b>/);
    assert.equal(await page.evaluate(() => window.__pwned), undefined);
    assert.equal(await tags.evaluate(() => window.__pwned), undefined);
  });
});

describe("tag explorer", () => {
  test("per-value time lines and shares; clicking a value filters", async () => {
    const page = await openUI(browser, url({ query: Q, groupBy: "env" }, "/explore")); // Pyroscope's page name
    const rows = await page.locator(".tag-values tbody tr").allInnerTexts();
    assert.equal(rows.length, 2);
    assert.match(rows.join("\n"), /prod\s+450 ms\s+50\.0%/);
    assert.match(rows.join("\n"), /dev\s+450 ms\s+50\.0%/);
    assert.equal(await page.locator(".tags .u-legend .u-series").count(), 3); // x + 2 values
    await shot(page, "tags");
    await reloadsAfter(page, () => page.selectOption(".tags .gb", "region"));
    assert.match(page.url(), /\/explore\?.*groupBy=region/);
    await reloadsAfter(page, () => page.locator(".tag-values tbody tr", { hasText: "eu" }).click());
    assert.equal(new URL(page.url()).pathname, "/");
    assert.equal(await page.inputValue(".querybar .labels"), 'region="eu"');
    assert.match(await text(page, ".single .total"), /Total: 450 ms/);
    assert.ok((await fg(page)).labels.includes("hash"));
  });
});

describe("comparison and diff", () => {
  const sides = {
    leftQuery: `${CPU}{service_name="shop",env="prod"}`,
    rightQuery: `${CPU}{service_name="shop",env="dev"}`,
  };

  test("diff flame graph: red for more, green for less, % change in tooltip, top list", async () => {
    const page = await openUI(browser, url({ query: Q, ...sides }, "/comparison-diff"));
    assert.match(await text(page, ".diff .toolbar .total"), /Baseline 450 ms · Comparison 450 ms/);
    const [ir, ig] = await pixel(page, "io");
    const [hr, hg] = await pixel(page, "hash");
    assert.ok(ir > ig + 80, `io grew 10 → 30: red, got ${[ir, ig]}`);
    assert.ok(hg > hr + 80, `hash shrank 30 → 10: green, got ${[hr, hg]}`);
    const io = await frameCenter(page, "io");
    await page.mouse.move(io.x, io.y);
    const tip = await text(page, ".tooltip");
    assert.match(tip, /Left total: 100 ms \(22\.2%\)/);
    assert.match(tip, /Right total: 300 ms \(66\.7%\)/);
    assert.match(tip, /Change: \+200\.0%/);
    const top = await page.locator(".top-list tbody tr").allInnerTexts();
    assert.match(top[0], /^io\s+22\.2% → 66\.7%\s+\+44\.44 pp\s+\+44\.44 pp$/); // regressions first
    assert.match(top.at(-1), /^hash\s.*-44\.44 pp/);
    assert.match(top.find((r) => r.startsWith("net/http")), /0\.00 pp\s+-11\.11 pp$/);
    await shot(page, "diff");
  });

  test("comparison shows both selections side by side", async () => {
    const page = await openUI(browser, url({ query: Q, view: "compare", ...sides })); // ?view= works too
    assert.equal(new URL(page.url()).pathname, "/comparison");
    assert.equal(await page.locator(".side .flamegraph").count(), 2);
    const names = (side) => page.evaluate((sd) => window.__ember.fgs.find((f) => f.el.closest(`[data-side=${sd}]`)).model.names, side);
    const left = await names("left"), right = await names("right");
    assert.ok(left.includes("runtime.mallocgc") && !left.includes("gc"), left.join());
    assert.ok(right.includes("gc") && !right.includes("runtime.mallocgc"), right.join());
    assert.match(await text(page, ".side[data-side=left] .total"), /Total: 450 ms/);
    assert.equal(await page.locator(".side .u-over").count(), 2);
    // dragging on the baseline's time line narrows only the baseline
    await reloadsAfter(page, () => dragAcross(page, ".side[data-side=left] .u-over", 0.5, 0.999));
    const p = new URL(page.url()).searchParams;
    assert.match(p.get("leftFrom"), /^\d{10}$/);
    assert.equal(p.get("rightFrom"), null);
    assert.match(await text(page, ".side[data-side=left] .total"), /Total: 450 ms/);
    await shot(page, "compare");
  });
});

describe("export and theme", () => {
  test("pprof, flamebearer JSON, collapsed and PNG downloads", async () => {
    const page = await openUI(browser, url({ query: Q, mode: "flame" }));
    const get = async (x) => {
      await page.click(".export button");
      const [dl] = await Promise.all([page.waitForEvent("download"), page.click(`.export-menu li[data-x=${x}]`)]);
      return readFileSync(await dl.path());
    };
    const pprof = await get("pprof");
    assert.ok(pprof.length > 50);
    const json = JSON.parse(await get("json"));
    assert.equal(json.flamebearer.numTicks, 900_000_000);
    assert.match(String(await get("collapsed")), /^main;work;hash 400000000$/m);
    const png = await get("png");
    assert.deepEqual([...png.subarray(1, 4)], [0x50, 0x4e, 0x47]); // "PNG"
  });

  test("dark theme persists", async () => {
    const page = await openUI(browser, url({ query: Q }), { fresh: true });
    await reloadsAfter(page, () => page.click(".theme"));
    assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), "dark");
    await page.reload();
    await waitLoaded(page, 1);
    assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), "dark");
    const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    assert.equal(bg, "rgb(21, 23, 28)");
    await shot(page, "dark");
  });
});
