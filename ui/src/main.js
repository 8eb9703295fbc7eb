// Ember's web UI: the query bar (service, profile type, label selector with autocomplete, time
// range), and four views — single (flame graph / table / both / sandwich), comparison (two
// selections side by side), diff (one "double" flame graph + top regressed functions) and the
// tag explorer. The state is the URL (state.js); every view is rebuilt from it, so a reload or
// a shared link shows the same thing. Plain DOM, no framework: the flame graph, the only heavy
// part, draws on canvas (flamegraph.js).
import { ApiError, connect, getJSON, labelNames, labelValues, qs } from "./api.js";
import { decode, functionTable, matchNames, sandwich, searchTotal } from "./flamedata.js";
import { FlameGraph } from "./flamegraph.js";
import { escapeHtml, pct, unitFormatter } from "./format.js";
import { buildQuery, parseQuery, readState, withMatcher, writeState } from "./state.js";
import { PALETTE, Timeline } from "./timeline.js";

let S = readState();
const H = (html) => {
  const t = document.createElement("template");
  t.innerHTML = html.trim();
  return t.content.firstElementChild;
};
const $ = (sel, root = document) => root.querySelector(sel);

// ---- shell ---------------------------------------------------------------------------------
const app = $("#app");
app.append(
  H(`<header class="top">
    <span class="logo"><i></i>Ember</span>
    <nav class="tabs">
      <button data-view="single">Single view</button>
      <button data-view="compare">Comparison</button>
      <button data-view="diff">Diff</button>
      <button data-view="tags">Tag explorer</button>
    </nav>
    <span class="spacer"></span>
    <button class="theme" title="Light / dark theme">◐</button>
  </header>`),
  H(`<section class="querybar">
    <label>Service <select class="service"></select></label>
    <label>Profile <select class="ptype"></select></label>
    <div class="selector"><input class="labels" placeholder='labels, e.g. env="prod"' autocomplete="off" spellcheck="false"><ul class="ac" hidden></ul></div>
    <div class="range">
      <select class="preset">
        <option value="">Range…</option>
        <option value="now-5m">Last 5 minutes</option><option value="now-15m">Last 15 minutes</option>
        <option value="now-1h">Last hour</option><option value="now-6h">Last 6 hours</option>
        <option value="now-24h">Last 24 hours</option><option value="now-7d">Last 7 days</option>
        <option value="now-30d">Last 30 days</option>
      </select>
      <input class="from" title="from: now-1h, unix seconds, or YYYY-MM-DD HH:MM (UTC)" size="16">
      <span>→</span>
      <input class="until" title="until" size="16">
    </div>
    <button class="apply primary">Apply</button>
  </section>`),
  H(`<div class="banner" hidden></div>`),
  H(`<main class="view"></main>`),
  H(`<div class="tooltip" hidden></div>`),
  H(`<ul class="menu" hidden></ul>`),
);
const tooltip = $(".tooltip");
const menu = $(".menu");
const banner = $(".banner");
const viewEl = $("main.view");
const el = {
  service: $(".querybar .service"),
  ptype: $(".querybar .ptype"),
  labels: $(".querybar .labels"),
  ac: $(".querybar .ac"),
  preset: $(".querybar .preset"),
  from: $(".querybar .from"),
  until: $(".querybar .until"),
};
// What tests and bench/ read: the state, the live flame graphs, the decoder.
window.__ember = { state: () => S, fgs: [], loads: 0, decode };

$(".theme").onclick = () => {
  const t = document.documentElement.dataset.theme === "dark" ? "light" : "dark";
  document.documentElement.dataset.theme = t;
  localStorage.setItem("ember.theme", t);
  render();
};
for (const b of document.querySelectorAll(".tabs button")) b.onclick = () => setState({ view: b.dataset.view }, true);
document.addEventListener("click", (e) => {
  if (!menu.contains(e.target)) menu.hidden = true;
  if (!e.target.closest(".selector")) el.ac.hidden = true;
});
document.addEventListener("keydown", (e) => {
  if (e.key !== "Escape") return;
  if (menu.hidden && el.ac.hidden && !e.target.closest("input")) window.__ember.fgs.forEach((f) => f.reset());
  menu.hidden = true;
  el.ac.hidden = true;
});
window.addEventListener("popstate", () => { S = readState(); syncBar(); render(); });

function setState(patch, push) {
  S = { ...S, ...patch };
  writeState(S, push);
  render();
}

function showBanner(kind, msg) {
  banner.hidden = !msg;
  banner.className = `banner ${kind}`;
  banner.textContent = msg || "";
}

function errorText(e) {
  if (!(e instanceof ApiError)) return `Error: ${e.message}`;
  if (e.kind === "network") return "Cannot reach the Ember server. Is it running?";
  if (e.kind === "server") return `Server error (${e.status}): ${e.message}`;
  if (e.status === 400) return `Bad query: ${e.message}`;
  return `Request refused (${e.status}): ${e.message}`;
}

// ---- time -----------------------------------------------------------------------------------
// Pyroscope's time syntax passes through; "YYYY-MM-DD HH:MM[:SS]" (UTC) becomes unix seconds.
function normTime(v) {
  const s = (v || "").trim();
  const m = /^(\d{4})-(\d\d)-(\d\d)[ T](\d\d):(\d\d)(?::(\d\d))?$/.exec(s);
  if (m) return String(Date.UTC(+m[1], m[2] - 1, +m[3], +m[4], +m[5], +(m[6] || 0)) / 1000);
  return s;
}
// Unix seconds of a time in Pyroscope's syntax, for drawing it (the server stays the
// authority on what a range means): "now", "now-<N><unit>...", unix s/ms, else null.
const UNIT_S = { s: 1, m: 60, min: 60, h: 3600, d: 86400, w: 604800, M: 2592000, mon: 2592000, y: 31536000 };
function resolveTime(v, nowS = Date.now() / 1000) {
  const s = String(v || "").trim();
  if (/^\d{13}$/.test(s)) return Number(s) / 1000;
  if (/^\d{9,10}$/.test(s)) return Number(s);
  const m = /^now((?:[+-]\d+[a-zA-Z]+)*)$/.exec(s);
  if (!m) return null;
  let t = nowS;
  for (const [, sign, n, u] of m[1].matchAll(/([+-])(\d+)([a-zA-Z]+)/g)) {
    const k = UNIT_S[u] ?? UNIT_S[u.toLowerCase()];
    if (k === undefined) return null;
    t += (sign === "-" ? -1 : 1) * Number(n) * k;
  }
  return t;
}

function showTime(v) {
  if (/^\d{9,10}$/.test(v)) return new Date(v * 1000).toISOString().slice(0, 19).replace("T", " ");
  return v;
}

// ---- query bar --------------------------------------------------------------------------------
let ptypeInfo = {};

async function loadServices() {
  try {
    const [services, types] = await Promise.all([
      labelValues("service_name", "", S.from, S.until),
      connect("ProfileTypes", {}).catch(() => ({ profileTypes: [] })),
    ]);
    for (const t of types.profileTypes || []) ptypeInfo[t.ID] = t;
    const q = parseQuery(S.query);
    const list = [...new Set([...(services || []), ...(q.service ? [q.service] : [])])].sort();
    el.service.replaceChildren(...list.map((s) => new Option(s, s)));
    if (!list.length) {
      showBanner("info", "No data yet: send profiles to /ingest (see README) or point a Pyroscope SDK at this server.");
      return false;
    }
    el.service.value = q.service && list.includes(q.service) ? q.service : list[0];
    await loadPtypes(q.ptype);
    return true;
  } catch (e) {
    showBanner("error", errorText(e));
    return false;
  }
}

async function loadPtypes(want) {
  const svc = el.service.value;
  const types = await labelValues("__profile_type__", `{service_name="${svc}"}`, S.from, S.until);
  const all = [...new Set([...types, ...(want ? [want] : [])])];
  el.ptype.replaceChildren(
    ...all.map((id) => {
      const t = ptypeInfo[id];
      return new Option(t ? `${t.name} · ${t.sampleType}` : id, id);
    }),
  );
  el.ptype.value = want && all.includes(want) ? want : all.find((t) => t.startsWith("process_cpu:")) || all[0] || "";
}

function syncBar() {
  const q = parseQuery(S.query);
  if (q.service && [...el.service.options].some((o) => o.value === q.service)) el.service.value = q.service;
  if (q.ptype && [...el.ptype.options].some((o) => o.value === q.ptype)) el.ptype.value = q.ptype;
  el.labels.value = q.rest.join(", ");
  el.from.value = showTime(S.from);
  el.until.value = showTime(S.until);
  el.preset.value = S.until === "now" && [...el.preset.options].some((o) => o.value === S.from) ? S.from : "";
  for (const b of document.querySelectorAll(".tabs button")) b.classList.toggle("active", b.dataset.view === S.view);
}

function barQuery() {
  return buildQuery(el.ptype.value, el.service.value, el.labels.value);
}

function apply() {
  el.ac.hidden = true;
  setState({ query: barQuery(), from: normTime(el.from.value) || "now-1h", until: normTime(el.until.value) || "now" }, true);
}
$(".apply").onclick = apply;
el.service.onchange = async () => { await loadPtypes(el.ptype.value); apply(); };
el.ptype.onchange = apply;
el.preset.onchange = () => {
  if (!el.preset.value) return;
  el.from.value = el.preset.value;
  el.until.value = "now";
  apply();
};
for (const i of [el.from, el.until]) i.onkeydown = (e) => e.key === "Enter" && apply();

// Autocomplete of the label selector from /labels and /label-values.
let acItems = [], acIndex = -1, acSeq = 0;
// What the caret is in: a label value after `name=` / `name="` (kind "value"), or a label
// name at the start or after "," (kind "name"); from = where the partial word starts.
function acContext(text, pos) {
  const before = text.slice(0, pos);
  const vm = /([A-Za-z_][A-Za-z0-9_.]*)\s*(=~|!~|!=|=)\s*("?)([^",]*)$/.exec(before);
  if (vm) return { kind: "value", label: vm[1], partial: vm[4], from: pos - vm[4].length - vm[3].length, to: pos };
  const km = /(^|,)\s*([A-Za-z_][A-Za-z0-9_.]*)?$/.exec(before);
  if (km) return { kind: "name", partial: km[2] || "", from: pos - (km[2] || "").length, to: pos };
  return null;
}

async function autocomplete() {
  const seq = ++acSeq;
  acItems = []; // a list on screen from an older request no longer picks anything
  const ctx = acContext(el.labels.value, el.labels.selectionStart);
  const base = buildQuery(el.ptype.value, el.service.value, "");
  let items = [];
  try {
    if (ctx?.kind === "value") {
      const vals = await labelValues(ctx.label, base, S.from, S.until);
      items = vals.filter((v) => v.toLowerCase().includes(ctx.partial.toLowerCase()));
    } else if (ctx) {
      const names = await labelNames(base, S.from, S.until);
      items = names.filter((n) => !n.startsWith("__") && n !== "service_name" && n.startsWith(ctx.partial));
    }
  } catch {
    items = [];
  }
  if (seq !== acSeq) return;
  acItems = items.slice(0, 50).map((v) => ({ v, kind: ctx.kind, insert: ctx.kind === "value" ? `"${v}"` : `${v}=` }));
  acIndex = -1;
  el.ac.replaceChildren(...acItems.map((it, i) => {
    const li = H(`<li></li>`);
    li.textContent = it.v;
    li.onmousedown = (e) => { e.preventDefault(); acPick(i); };
    return li;
  }));
  el.ac.hidden = acItems.length === 0;
}
// Inserts item i where the caret is now (the text may have changed since the list came).
function acPick(i) {
  const it = acItems[i];
  const t = el.labels.value;
  const ctx = acContext(t, el.labels.selectionStart);
  if (!it || !ctx || ctx.kind !== it.kind) return;
  el.labels.value = t.slice(0, ctx.from) + it.insert + t.slice(ctx.to);
  const caret = ctx.from + it.insert.length;
  el.labels.setSelectionRange(caret, caret);
  el.ac.hidden = true;
  el.labels.focus();
  if (it.kind === "name") autocomplete();
}
el.labels.oninput = autocomplete;
el.labels.onfocus = autocomplete;
el.labels.onkeydown = (e) => {
  if (!el.ac.hidden && (e.key === "ArrowDown" || e.key === "ArrowUp")) {
    e.preventDefault();
    acIndex = (acIndex + (e.key === "ArrowDown" ? 1 : -1) + acItems.length) % acItems.length;
    [...el.ac.children].forEach((li, i) => li.classList.toggle("sel", i === acIndex));
  } else if (e.key === "Enter") {
    if (!el.ac.hidden && acIndex >= 0) { e.preventDefault(); acPick(acIndex); } else apply();
  }
};

// ---- shared pieces ----------------------------------------------------------------------------
let cleanup = [];
let loadCtl = null;

function newFlameGraph(container, fmt, extra = {}) {
  const fg = new FlameGraph(container, {
    fmt,
    tooltip,
    onMenu: (node, x, y) => openMenu(fg, node, x, y, extra.sandwich !== false),
    onZoom: extra.onZoom,
  });
  cleanup.push(() => fg.destroy());
  window.__ember.fgs.push(fg);
  return fg;
}

function openMenu(fg, node, x, y, allowSandwich) {
  const items = [
    ["Focus on this frame", () => fg.zoomTo(node.level, node.index)],
    ["Reset zoom", () => fg.reset()],
    ["Copy function name", () => copyText(node.name)],
    ["Highlight this function", () => setState({ search: exactSearch(node.name) })],
  ];
  if (allowSandwich && S.view === "single") items.push(["Open in sandwich view", () => setState({ mode: "sandwich", fn: node.name }, true)]);
  menu.replaceChildren(...items.map(([label, fn]) => {
    const li = H(`<li></li>`);
    li.textContent = label;
    li.onclick = () => { menu.hidden = true; fn(); };
    return li;
  }));
  menu.hidden = false;
  menu.style.left = Math.min(x, window.innerWidth - menu.offsetWidth - 8) + "px";
  menu.style.top = Math.min(y, window.innerHeight - menu.offsetHeight - 8) + "px";
}

async function copyText(s) {
  try {
    await navigator.clipboard.writeText(s);
  } catch {
    const ta = H(`<textarea></textarea>`);
    ta.value = s;
    document.body.append(ta);
    ta.select();
    document.execCommand("copy");
    ta.remove();
  }
  window.__ember.copied = s;
}

function download(name, blob) {
  const a = H(`<a></a>`);
  a.href = URL.createObjectURL(blob);
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 5000);
}

// A search that matches exactly one function name (the search box takes /regex/).
const exactSearch = (name) => `/^${name.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}$/`;

function searchBox(onChange) {
  const box = H(`<span class="search"><input type="search" placeholder="Search functions (text or /regex/)" spellcheck="false"><span class="matches"></span></span>`);
  const input = $("input", box);
  input.value = S.search;
  let t = null;
  input.oninput = () => {
    clearTimeout(t);
    t = setTimeout(() => { S.search = input.value; writeState(S, false); onChange(); }, 120);
  };
  return box;
}

function maxNodesBox() {
  const box = H(`<label class="maxnodes" title="Nodes kept by the server; the rest merge into 'other'">Max nodes <input type="number" min="1" step="1024" placeholder="8192"></label>`);
  const input = $("input", box);
  input.value = S.maxNodes;
  input.onchange = () => setState({ maxNodes: input.value }, true);
  return box;
}

// Runs search over a model and paints it on the flame graphs; returns the summary text.
function applySearch(model, fgs, fmt) {
  if (!S.search) {
    for (const fg of fgs) fg.setSearch(null, null);
    return "";
  }
  const matched = matchNames(model.names, S.search);
  const r = searchTotal(model, matched);
  for (const fg of fgs) fg.setSearch(matched, r.covered);
  if (!r.count) return "no match";
  return `${r.count} match${r.count > 1 ? "es" : ""}: ${fmt(r.total)} (${pct(r.total, model.numTicks)})`;
}

function renderParams(query, from, until) {
  return { query, from, until, maxNodes: S.maxNodes || undefined };
}

function noData(container, what) {
  container.append(H(`<div class="empty">No data${what ? " for " + escapeHtml(what) : ""} in this time range. Pick a wider range or another service.</div>`));
}

// A share bar behind a table cell's text.
const barStyle = (share) => `background: linear-gradient(to left, var(--bar) ${(100 * share).toFixed(2)}%, transparent 0)`;

// ---- table ------------------------------------------------------------------------------------
let tableSort = { key: "self", dir: -1 };

function renderTable(container, model, fmt, onRow, selected) {
  performance.mark("table-start");
  const t = functionTable(model);
  const wrap = H(`<div class="table-wrap"><table class="fn-table"><thead><tr>
      <th data-key="name">Function</th><th data-key="self" class="num">Self</th><th data-key="total" class="num">Total</th>
    </tr></thead><tbody></tbody></table><div class="table-note"><span></span> <button hidden>Show more</button></div></div>`);
  const tbody = $("tbody", wrap);
  // Rows are laid out in pages: a 100k-function profile would otherwise cost a layout of
  // 100k rows before the flame graph beside it could draw.
  let limit = 200;
  const more = $(".table-note button", wrap);
  more.onclick = () => { limit *= 4; draw(); };
  const draw = () => {
    const matched = S.search ? matchNames(t.names, S.search) : null;
    const list = matched ? t.ids.filter((i) => matched[i]) : t.ids.slice();
    const { key, dir } = tableSort;
    const col = key === "self" ? t.self : t.total;
    if (key === "name") list.sort((a, b) => (t.names[a] < t.names[b] ? -dir : t.names[a] > t.names[b] ? dir : 0));
    else list.sort((a, b) => (col[a] - col[b]) * dir || a - b);
    for (const th of wrap.querySelectorAll("th")) th.className = (th.dataset.key === "name" ? "" : "num ") + (th.dataset.key === key ? (dir < 0 ? "sorted desc" : "sorted asc") : "");
    const shown = list.slice(0, limit);
    const total = model.numTicks || 1;
    tbody.innerHTML = shown.map((i) => {
      const name = t.names[i], sf = t.self[i], tt = t.total[i];
      return `<tr${name === selected ? ' class="selected"' : ""}><td class="name" title="${escapeHtml(name)}">${escapeHtml(name)}</td>
      <td class="num" style="${barStyle(sf / total)}">${escapeHtml(fmt(sf))} <small>${pct(sf, total)}</small></td>
      <td class="num" style="${barStyle(tt / total)}">${escapeHtml(fmt(tt))} <small>${pct(tt, total)}</small></td></tr>`;
    }).join("");
    [...tbody.rows].forEach((tr, k) => (tr.onclick = () => onRow(t.names[shown[k]])));
    $(".table-note span", wrap).textContent = list.length > shown.length ? `${shown.length} of ${list.length} functions shown` : matched ? `${list.length} functions match` : "";
    more.hidden = list.length <= shown.length;
  };
  for (const th of wrap.querySelectorAll("th")) {
    th.onclick = () => {
      const k = th.dataset.key;
      tableSort = { key: k, dir: tableSort.key === k ? -tableSort.dir : k === "name" ? 1 : -1 };
      draw();
    };
  }
  draw();
  container.append(wrap);
  performance.measure("table", "table-start");
  return draw;
}

// ---- single view ------------------------------------------------------------------------------
async function renderSingle(signal) {
  const root = H(`<div class="single">
    <div class="timeline-box"><div class="tl"></div></div>
    <div class="toolbar">
      <span class="modes">
        <button data-mode="flame">Flame graph</button><button data-mode="table">Table</button><button data-mode="both">Both</button><button data-mode="sandwich">Sandwich</button>
      </span>
      <span class="search-slot"></span>
      <button class="reset">Reset zoom</button>
      <span class="mn-slot"></span>
      <span class="export"><button>Export ▾</button><ul class="export-menu" hidden>
        <li data-x="pprof">pprof (.pb.gz)</li><li data-x="json">Flamebearer JSON</li><li data-x="collapsed">Collapsed stacks</li><li data-x="png">PNG image</li></ul></span>
      <span class="total"></span>
    </div>
    <div class="panes"></div>
  </div>`);
  viewEl.append(root);
  for (const b of root.querySelectorAll(".modes button")) {
    b.classList.toggle("active", b.dataset.mode === S.mode);
    b.onclick = () => setState({ mode: b.dataset.mode }, true);
  }
  const params = renderParams(S.query, S.from, S.until);
  const doc = await getJSON("/render", { ...params, format: "json" }, signal);
  performance.mark("fg-decode-start");
  const model = decode(doc);
  performance.measure("fg-decode", "fg-decode-start");
  const { fmt, kind } = unitFormatter(doc.metadata);
  const tl = new Timeline($(".tl", root), { fmt, onSelect: (f, u) => setState({ from: String(f), until: String(u) }, true) });
  cleanup.push(() => tl.destroy());
  tl.set([{ label: "total", timeline: doc.timeline }]);
  $(".total", root).textContent = `Total: ${fmt(model.numTicks)} (${kind})`;
  $(".mn-slot", root).replaceWith(maxNodesBox());
  const panes = $(".panes", root);
  const fgs = [];
  let redrawTable = null;
  const summary = H(`<span class="matches"></span>`);
  const onSearch = () => {
    summary.textContent = applySearch(model, fgs, fmt);
    redrawTable?.();
  };
  const sb = searchBox(onSearch);
  $(".search-slot", root).replaceWith(sb);
  $(".matches", sb).replaceWith(summary);
  const exportBtn = $(".export button", root), exportMenu = $(".export-menu", root);
  exportBtn.onclick = (e) => { e.stopPropagation(); exportMenu.hidden = !exportMenu.hidden; };
  document.addEventListener("click", () => (exportMenu.hidden = true), { signal });
  exportMenu.onclick = async (e) => {
    const x = e.target.dataset.x, base = (S.query.split("{")[0] || "profile").replace(/[^\w.-]+/g, "_");
    if (x === "pprof" || x === "collapsed") {
      const a = H(`<a></a>`);
      a.href = `/render?${qs({ ...params, format: x })}`;
      a.download = `${base}.${x === "pprof" ? "pb.gz" : "txt"}`;
      document.body.append(a); a.click(); a.remove();
    } else if (x === "json") download(`${base}.json`, new Blob([JSON.stringify(doc)], { type: "application/json" }));
    else if (x === "png" && fgs[0]) download(`${base}.png`, await fgs[0].toPNG());
  };
  if (model.numTicks === 0) {
    noData(panes, S.query);
    return;
  }
  $(".reset", root).onclick = () => fgs.forEach((f) => f.reset());
  const mode = S.mode;
  if (mode === "sandwich") {
    const fn = S.fn || model.names[model.levels[1]?.name[0]] || "";
    panes.classList.add("sandwich");
    panes.append(H(`<div class="sandwich-head">Sandwich view of <b></b> — <span>pick another function by right-clicking a frame or a table row</span></div>`));
    $(".sandwich-head b", panes).textContent = fn;
    const sw = sandwich(model, fn);
    const tbl = H(`<div class="pane pane-table"></div>`);
    const right = H(`<div class="pane pane-flame"><h3>Callers (${escapeHtml(fn)} at the top, its callers below)</h3><div class="callers"></div><h3>Callees</h3><div class="callees"></div></div>`);
    const cont = H(`<div class="split both"></div>`);
    cont.append(tbl, right);
    panes.append(cont);
    redrawTable = renderTable(tbl, model, fmt, (name) => setState({ fn: name }, true), fn);
    const fc = newFlameGraph($(".callers", right), fmt, { sandwich: false });
    fc.setModel(sw.callers);
    const fe = newFlameGraph($(".callees", right), fmt, { sandwich: false });
    fe.setModel(sw.callees);
    return;
  }
  const cont = H(`<div class="split ${mode}"></div>`);
  panes.append(cont);
  if (mode === "table" || mode === "both") {
    const tbl = H(`<div class="pane pane-table"></div>`);
    cont.append(tbl);
    redrawTable = renderTable(tbl, model, fmt, (name) => {
      S.search = exactSearch(name);
      $("input", sb).value = S.search;
      writeState(S, false);
      onSearch();
    });
  }
  if (mode === "flame" || mode === "both") {
    const pane = H(`<div class="pane pane-flame"></div>`);
    cont.append(pane);
    const fg = newFlameGraph(pane, fmt);
    fgs.push(fg);
    performance.mark("fg-draw-start");
    fg.setModel(model);
    performance.measure("fg-draw", "fg-draw-start");
  }
  onSearch();
}

// ---- comparison and diff ----------------------------------------------------------------------
function sideState(side) {
  const q = S[side + "Query"] || S.query;
  return { query: q, from: S[side + "From"] || S.from, until: S[side + "Until"] || S.until };
}

async function renderSides(root, signal, onLoaded) {
  const sides = H(`<div class="sides">
      <div class="side" data-side="left"><h3>Baseline</h3><div class="side-q"><input class="q" spellcheck="false"><input class="f" size="12"><span>→</span><input class="u" size="12"></div><div class="tl"></div><div class="side-body"></div></div>
      <div class="side" data-side="right"><h3>Comparison</h3><div class="side-q"><input class="q" spellcheck="false"><input class="f" size="12"><span>→</span><input class="u" size="12"></div><div class="tl"></div><div class="side-body"></div></div>
    </div>`);
  root.append(sides);
  const results = {};
  await Promise.all(["left", "right"].map(async (side) => {
    const box = $(`[data-side=${side}]`, sides);
    const st = sideState(side);
    const [qi, fi, ui] = ["q", "f", "u"].map((c) => $(`.${c}`, box));
    qi.value = st.query;
    fi.value = showTime(st.from);
    ui.value = showTime(st.until);
    const commit = () => setState({ [side + "Query"]: qi.value, [side + "From"]: normTime(fi.value), [side + "Until"]: normTime(ui.value) }, true);
    for (const i of [qi, fi, ui]) i.onkeydown = (e) => e.key === "Enter" && commit();
    // the time line spans the main range; the side's own range is a selection inside it
    const doc = await getJSON("/render", { ...renderParams(st.query, S.from, S.until), format: "json", maxNodes: 1 }, signal);
    const { fmt } = unitFormatter(doc.metadata);
    const shade = side === "left" ? "rgba(28,126,214,0.18)" : "rgba(232,89,12,0.18)";
    const highlight = st.from === S.from && st.until === S.until ? null : [resolveTime(st.from), resolveTime(st.until)];
    const tl = new Timeline($(".tl", box), {
      fmt,
      height: 90,
      highlight: highlight && highlight[0] !== null && highlight[1] !== null ? highlight : null,
      highlightColor: shade,
      onSelect: (f, u) => setState({ [side + "Query"]: qi.value, [side + "From"]: String(f), [side + "Until"]: String(u) }, true),
    });
    cleanup.push(() => tl.destroy());
    tl.set([{ label: side, timeline: doc.timeline, color: side === "left" ? "#1c7ed6" : "#e8590c" }]);
    results[side] = { box, st };
  }));
  await onLoaded(results);
}

async function renderCompare(signal) {
  const root = H(`<div class="compare"><div class="toolbar"><span class="search-slot"></span><span class="mn-slot"></span></div></div>`);
  viewEl.append(root);
  $(".mn-slot", root).replaceWith(maxNodesBox());
  await renderSides(root, signal, async (res) => {
    const parts = await Promise.all(["left", "right"].map(async (side) => {
      const { box, st } = res[side];
      const doc = await getJSON("/render", { ...renderParams(st.query, st.from, st.until), format: "json" }, signal);
      const model = decode(doc);
      const { fmt } = unitFormatter(doc.metadata);
      const body = $(".side-body", box);
      body.append(H(`<div class="total">Total: ${escapeHtml(fmt(model.numTicks))}</div>`));
      if (!model.numTicks) { noData(body, st.query); return null; }
      const fg = newFlameGraph(body, fmt, { sandwich: false });
      fg.setModel(model);
      return { model, fg, fmt, summary: $(".total", body) };
    }));
    const sb = searchBox(() => parts.forEach((p) => p && (p.summary.textContent = `Total: ${p.fmt(p.model.numTicks)} ${applySearch(p.model, [p.fg], p.fmt)}`)));
    $(".search-slot", root).replaceWith(sb);
    sb.querySelector("input").oninput();
  });
}

async function renderDiff(signal) {
  const root = H(`<div class="diff"></div>`);
  viewEl.append(root);
  await renderSides(root, signal, async (res) => {
    root.append(H(`<div class="diff-body"></div>`));
    const L = res.left.st, R = res.right.st;
    const p = { leftQuery: L.query, leftFrom: L.from, leftUntil: L.until, rightQuery: R.query, rightFrom: R.from, rightUntil: R.until };
    const [doc, top] = await Promise.all([
      getJSON("/render-diff", { ...p, maxNodes: S.maxNodes || undefined }, signal),
      getJSON("/api/diff/top", { ...p, limit: 20 }, signal),
    ]);
    const model = decode(doc);
    const { fmt } = unitFormatter(doc.metadata);
    const body = $(".diff-body", root);
    const bar = H(`<div class="toolbar"><span class="search-slot"></span><button class="reset">Reset zoom</button><span class="mn-slot"></span>
      <button class="png">Export PNG</button><button class="json">Export JSON</button>
      <span class="legend"><i class="less"></i> less in comparison <i class="more"></i> more in comparison</span>
      <span class="total"></span></div>`);
    body.append(bar);
    $(".mn-slot", bar).replaceWith(maxNodesBox());
    $(".total", bar).textContent = `Baseline ${fmt(model.leftTicks)} · Comparison ${fmt(model.rightTicks)}`;
    if (!model.numTicks) { noData(body); return; }
    const grid = H(`<div class="split both"><div class="pane pane-table top-list"></div><div class="pane pane-flame"></div></div>`);
    body.append(grid);
    const fg = newFlameGraph($(".pane-flame", grid), fmt, { sandwich: false });
    fg.setModel(model);
    const summary = H(`<span class="matches"></span>`);
    const sb = searchBox(() => (summary.textContent = applySearch(model, [fg], fmt)));
    sb.append(summary);
    $(".search-slot", bar).replaceWith(sb);
    summary.textContent = applySearch(model, [fg], fmt);
    $(".reset", bar).onclick = () => fg.reset();
    $(".png", bar).onclick = async () => download("diff.png", await fg.toPNG());
    $(".json", bar).onclick = () => download("diff.json", new Blob([JSON.stringify(doc)], { type: "application/json" }));
    // regressions first: the largest growth of self share, then of total share
    const fns = (top.functions || []).filter((f) => f.totalShareChange !== 0 || f.selfShareChange !== 0)
      .sort((a, b) => b.selfShareChange - a.selfShareChange || b.totalShareChange - a.totalShareChange);
    const signed = (v) => `${v > 0 ? "+" : ""}${(100 * v).toFixed(2)} pp`;
    const tone = (v) => (v > 0 ? "more" : v < 0 ? "less" : "");
    const list = H(`<div><h3>Top regressed functions</h3><table class="fn-table top"><thead><tr><th>Function</th><th class="num">Self share</th><th class="num">Self Δ</th><th class="num">Total Δ</th></tr></thead><tbody></tbody></table></div>`);
    $("tbody", list).innerHTML = fns.map((f) => `<tr><td class="name" title="${escapeHtml(f.name)}">${escapeHtml(f.name)}</td>
      <td class="num">${(100 * f.leftSelfShare).toFixed(1)}% → ${(100 * f.rightSelfShare).toFixed(1)}%</td>
      <td class="num ${tone(f.selfShareChange)}">${signed(f.selfShareChange)}</td><td class="num ${tone(f.totalShareChange)}">${signed(f.totalShareChange)}</td></tr>`).join("") || `<tr><td colspan="4">No change</td></tr>`;
    [...$("tbody", list).rows].forEach((tr, i) => fns[i] && (tr.onclick = () => setState({ search: exactSearch(fns[i].name) })));
    $(".top-list", grid).append(list);
  });
}

// ---- tag explorer -------------------------------------------------------------------------
async function renderTags(signal) {
  const root = H(`<div class="tags"><div class="toolbar"><label>Group by <select class="gb"></select></label><span class="total"></span></div><div class="tl"></div><div class="tag-table"></div></div>`);
  viewEl.append(root);
  const names = (await labelNames(S.query, S.from, S.until, signal)).filter((n) => !n.startsWith("__") && n !== "service_name");
  const gb = $(".gb", root);
  gb.replaceChildren(...names.map((n) => new Option(n, n)));
  if (!names.length) {
    root.append(H(`<div class="empty">This selection has no labels to group by.</div>`));
    return;
  }
  const by = names.includes(S.groupBy) ? S.groupBy : names[0];
  gb.value = by;
  gb.onchange = () => setState({ groupBy: gb.value }, true);
  const doc = await getJSON("/render", { query: S.query, from: S.from, until: S.until, groupBy: by, format: "json", maxNodes: 1 }, signal);
  const { fmt } = unitFormatter(doc.metadata);
  const groups = Object.entries(doc.groups || {}).map(([value, tl]) => ({ value, tl, sum: tl.samples.reduce((a, b) => a + b, 0) }));
  groups.sort((a, b) => b.sum - a.sum);
  const total = groups.reduce((a, g) => a + g.sum, 0);
  $(".total", root).textContent = `Total: ${fmt(total)}`;
  const tl = new Timeline($(".tl", root), { fmt, height: 160, onSelect: (f, u) => setState({ from: String(f), until: String(u) }, true) });
  cleanup.push(() => tl.destroy());
  tl.set(groups.map((g, i) => ({ label: g.value, timeline: g.tl, color: PALETTE[i % PALETTE.length] })));
  const table = H(`<table class="fn-table tag-values"><thead><tr><th>${escapeHtml(by)}</th><th class="num">Total</th><th class="num">Share</th><th class="num">Avg per ${doc.timeline?.durationDelta || 0}s</th></tr></thead><tbody></tbody></table>`);
  $("tbody", table).innerHTML = groups.map((g, i) => `<tr data-value="${escapeHtml(g.value)}"><td><i class="swatch" style="background:${PALETTE[i % PALETTE.length]}"></i>${escapeHtml(g.value === "*" ? "(no " + by + ")" : g.value)}</td>
    <td class="num">${escapeHtml(fmt(g.sum))}</td><td class="num" style="${barStyle(g.sum / (total || 1))}">${pct(g.sum, total)}</td>
    <td class="num">${escapeHtml(fmt(g.sum / (g.tl.samples.filter((v) => v > 0).length || 1)))}</td></tr>`).join("");
  [...$("tbody", table).rows].forEach((tr, i) => {
    const g = groups[i];
    if (g.value === "*") return;
    tr.title = `Show the flame graph of ${by}="${g.value}"`;
    tr.onclick = () => setState({ view: "single", query: withMatcher(S.query, by, g.value) }, true);
  });
  $(".tag-table", root).append(table);
}

// ---- render loop ----------------------------------------------------------------------------
const VIEWS = { single: renderSingle, compare: renderCompare, diff: renderDiff, tags: renderTags };

async function render() {
  loadCtl?.abort();
  const ctl = (loadCtl = new AbortController());
  for (const f of cleanup) f();
  cleanup = [];
  window.__ember.fgs = [];
  viewEl.replaceChildren();
  menu.hidden = true;
  tooltip.hidden = true;
  syncBar();
  viewEl.classList.add("loading");
  try {
    if (S.query) {
      showBanner("", "");
      await (VIEWS[S.view] || renderSingle)(ctl.signal);
    }
  } catch (e) {
    if (e.name !== "AbortError") showBanner("error", errorText(e));
  } finally {
    if (loadCtl === ctl) {
      viewEl.classList.remove("loading");
      window.__ember.loads++;
      document.body.dataset.loads = window.__ember.loads;
    }
  }
}

(async () => {
  const ok = await loadServices();
  if (!S.query && ok) S.query = barQuery();
  writeState(S, false); // canonical form: the view's path, defaults left out
  await render();
})();
