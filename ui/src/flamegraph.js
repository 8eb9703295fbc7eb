// The flame graph on one <canvas>, drawn from the typed arrays of flamedata.js. A frame
// costs O(nodes in view) array reads plus one fillRect per rect of >= 0.5 px; runs of
// narrower neighbours merge into one grey rect so a 100k-node profile draws a few thousand
// rects; labels are drawn only where they fit (monospace, so truncation needs no measuring).
// Zoom keeps the clicked node's [x, x+total) as the view and draws ancestors full width.
import { diffColor, functionColor } from "./colors.js";
import { pct } from "./format.js";

const ROW = 18;
const MIN_W = 0.5;
const FONT = '12px ui-monospace, SFMono-Regular, Menlo, Consolas, "DejaVu Sans Mono", monospace';

// Draws a merged run of tiny rects [x0, x1) in one grey rect when the run itself is wide
// enough to see; returns the number of rects drawn (0 or 1). A plain function, not a
// closure, so the draw loop stays cheap.
function drawTinyRun(ctx, color, x0, x1, y) {
  if (x1 - x0 < MIN_W) return 0;
  ctx.fillStyle = color;
  ctx.fillRect(x0, y, x1 - x0, ROW - 1);
  return 1;
}

export class FlameGraph {
  // opts: {fmt(value) → string, onMenu(node, clientX, clientY), onZoom(), tooltip: element}
  constructor(container, opts) {
    this.opts = opts;
    this.el = document.createElement("div");
    this.el.className = "flamegraph";
    this.canvas = document.createElement("canvas");
    // the hovered frame's outline: a positioned box, so hovering never redraws the canvas
    this.hoverBox = document.createElement("div");
    this.hoverBox.className = "fg-hover";
    this.hoverBox.hidden = true;
    this.el.append(this.canvas, this.hoverBox);
    container.append(this.el);
    this.ctx = this.canvas.getContext("2d", { alpha: false });
    this.model = null;
    this.matched = null;
    this.covered = null;
    this.zoom = null; // {level, index}
    this.labels = []; // names drawn this frame (tests and debugging read it)
    this.canvas.addEventListener("click", (e) => this.onClick(e));
    this.canvas.addEventListener("mousemove", (e) => this.onMove(e));
    this.canvas.addEventListener("mouseleave", () => this.hideTip());
    this.canvas.addEventListener("contextmenu", (e) => {
      const hit = this.hit(e);
      if (!hit || !this.opts.onMenu) return;
      e.preventDefault();
      this.hideTip();
      this.opts.onMenu(hit, e.clientX, e.clientY);
    });
    this.resizeObs = new ResizeObserver(() => {
      if (this.model && this.el.clientWidth !== this.cssWidth) this.render();
    });
    this.resizeObs.observe(this.el);
  }

  destroy() {
    this.resizeObs.disconnect();
    this.el.remove();
  }

  setModel(model) {
    this.model = model;
    this.zoom = null;
    this.render();
  }

  // matched: Uint8Array per name (flamedata.matchNames) and covered from searchTotal, or null.
  setSearch(matched, covered) {
    this.matched = matched;
    this.covered = covered;
    this.render();
  }

  zoomTo(level, index) {
    this.zoom = level > 0 ? { level, index } : null;
    this.render();
    this.opts.onZoom?.(this.zoomNode());
  }

  reset() {
    this.zoomTo(0, 0);
  }

  zoomNode() {
    if (!this.zoom) return null;
    const lv = this.model.levels[this.zoom.level];
    return { level: this.zoom.level, index: this.zoom.index, name: this.model.names[lv.name[this.zoom.index]] };
  }

  view() {
    const m = this.model;
    if (!this.zoom) return [0, m.levels[0]?.total[0] || m.numTicks || 1];
    const lv = m.levels[this.zoom.level];
    return [lv.x[this.zoom.index], lv.x[this.zoom.index] + lv.total[this.zoom.index]];
  }

  render() {
    const m = this.model;
    if (!m) return;
    const t0 = performance.now();
    this.hoverBox.hidden = true;
    const dark = document.documentElement.dataset.theme === "dark";
    const dpr = window.devicePixelRatio || 1;
    const width = this.el.clientWidth || 800;
    const height = m.levels.length * ROW;
    this.cssWidth = width;
    if (this.canvas.width !== Math.round(width * dpr) || this.canvas.height !== Math.round(height * dpr)) {
      this.canvas.width = Math.round(width * dpr);
      this.canvas.height = Math.round(height * dpr);
      this.canvas.style.width = width + "px";
      this.canvas.style.height = height + "px";
    }
    const ctx = this.ctx;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.fillStyle = dark ? "#15171c" : "#ffffff";
    ctx.fillRect(0, 0, width, height);
    ctx.font = FONT;
    ctx.textBaseline = "middle";
    const charW = this.charW || (this.charW = ctx.measureText("mmmmmmmmmm").width / 10);
    const [v0, v1] = this.view();
    const scale = width / (v1 - v0 || 1);
    const zl = this.zoom ? this.zoom.level : 0;
    const colors = this.colorCache(dark);
    const tinyColor = dark ? "#3a3d46" : "#d8d8dc";
    const dimColor = dark ? "#2b2e36" : "#ececef";
    const textColor = dark ? "#f0f0f0" : "#1a1a1a";
    const labels = [];
    const searching = this.matched !== null;
    const ticksL = m.leftTicks || 1, ticksR = m.rightTicks || 1;
    let rects = 0;
    let prevRuns = [];
    for (let l = 0; l < m.levels.length; l++) {
      const lv = m.levels[l];
      const X = lv.x, T = lv.total, N = lv.name, n = lv.n;
      const y = l * ROW;
      const cov = searching ? this.covered[l] : null;
      // first node whose end is past v0 (nodes are sorted and disjoint)
      let lo = 0, hi = n;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (X[mid] + T[mid] <= v0) lo = mid + 1;
        else hi = mid;
      }
      // Runs of rects narrower than MIN_W that touch are merged into one grey rect. Every node
      // lying under a tiny run of the level above is tiny too (a child is never wider than its
      // parent), so such stretches are taken in one binary search instead of node by node:
      // the deep levels of a big profile, where most nodes are, cost a few steps each. The
      // loop is kept free of closures and property lookups.
      const runs = []; // this level's tiny runs in ticks [start, end, ...], for the next level
      const pr = prevRuns, prn = pr.length;
      let rp = 0;
      let runStart = -1, runEnd = -1, runT0 = 0, runT1 = 0;
      ctx.globalAlpha = l < zl ? 0.55 : 1;
      for (let i = lo; i < n; i++) {
        const x = X[i];
        if (x >= v1) break;
        let end = x + T[i];
        const px0 = ((x > v0 ? x : v0) - v0) * scale;
        let px1 = ((end < v1 ? end : v1) - v0) * scale;
        if (px1 - px0 < MIN_W) {
          while (rp < prn && pr[rp + 1] <= x) rp += 2;
          if (rp < prn && pr[rp] <= x) {
            const b = pr[rp + 1];
            let a = i, z = n - 1;
            while (a < z) {
              const mid = (a + z + 1) >> 1;
              if (X[mid] < b) a = mid;
              else z = mid - 1;
            }
            i = a;
            end = X[i] + T[i];
            px1 = ((end < v1 ? end : v1) - v0) * scale;
          }
          if (runStart >= 0 && px0 - runEnd < MIN_W) {
            runEnd = px1;
            runT1 = end;
            continue;
          }
          if (runStart >= 0) {
            rects += drawTinyRun(ctx, tinyColor, runStart, runEnd, y);
            runs.push(runT0, runT1);
          }
          runStart = px0;
          runEnd = px1;
          runT0 = x;
          runT1 = end;
          continue;
        }
        const w = px1 - px0;
        if (runStart >= 0) {
          rects += drawTinyRun(ctx, tinyColor, runStart, runEnd, y);
          runs.push(runT0, runT1);
          runStart = -1;
        }
        const nm = N[i];
        let color;
        if (cov && !cov[i]) color = dimColor;
        else if (cov && cov[i] === 1) color = dark ? "#3d7eff" : "#4f8cff";
        else if (m.diff) color = diffColor(lv.lTotal[i] / ticksL, lv.rTotal[i] / ticksR, dark);
        else color = colors(nm);
        ctx.fillStyle = color;
        ctx.fillRect(px0, y, w > 2 ? w - 1 : w, ROW - 1);
        rects++;
        if (w > 3 * charW + 6) {
          const name = m.names[nm];
          const fit = Math.floor((w - 6) / charW);
          const text = name.length <= fit ? name : name.slice(0, Math.max(0, fit - 1)) + "…";
          ctx.fillStyle = textColor;
          ctx.fillText(text, px0 + 3, y + ROW / 2);
          labels.push(name);
        }
      }
      if (runStart >= 0) {
        rects += drawTinyRun(ctx, tinyColor, runStart, runEnd, y);
        runs.push(runT0, runT1);
      }
      prevRuns = runs;
    }
    ctx.globalAlpha = 1;
    this.labels = labels;
    this.stats = { ms: performance.now() - t0, rects, labels: labels.length, nodes: m.nodes };
  }

  colorCache(dark) {
    if (!this.cache || this.cache.model !== this.model || this.cache.dark !== dark)
      this.cache = { model: this.model, dark, c: new Array(this.model.names.length) };
    const c = this.cache.c, names = this.model.names;
    return (nm) => c[nm] || (c[nm] = functionColor(names[nm], dark));
  }

  // The node under the pointer: {level, index, name} or null.
  hit(e) {
    const m = this.model;
    if (!m) return null;
    const r = this.canvas.getBoundingClientRect();
    const l = Math.floor((e.clientY - r.top) / ROW);
    if (l < 0 || l >= m.levels.length) return null;
    const [v0, v1] = this.view();
    const tick = v0 + ((e.clientX - r.left) / r.width) * (v1 - v0);
    const lv = m.levels[l];
    let lo = 0, hi = lv.n - 1, found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (lv.x[mid] > tick) hi = mid - 1;
      else if (lv.x[mid] + lv.total[mid] <= tick) lo = mid + 1;
      else { found = mid; break; }
    }
    if (found < 0) return null;
    return { level: l, index: found, name: m.names[lv.name[found]] };
  }

  onClick(e) {
    const h = this.hit(e);
    if (h) this.zoomTo(h.level, h.index);
  }

  describe(h) {
    const m = this.model, lv = m.levels[h.level], i = h.index, fmt = this.opts.fmt;
    if (m.diff) {
      const lp = lv.lTotal[i] / (m.leftTicks || 1), rp = lv.rTotal[i] / (m.rightTicks || 1);
      const change = lp === 0 ? (rp > 0 ? "new" : "0%") : `${rp >= lp ? "+" : ""}${((100 * (rp - lp)) / lp).toFixed(1)}%`;
      return [
        ["Left total", `${fmt(lv.lTotal[i])} (${pct(lv.lTotal[i], m.leftTicks)})`],
        ["Right total", `${fmt(lv.rTotal[i])} (${pct(lv.rTotal[i], m.rightTicks)})`],
        ["Left self", fmt(lv.lSelf[i])],
        ["Right self", fmt(lv.rSelf[i])],
        ["Change", change],
      ];
    }
    return [
      ["Total", `${fmt(lv.total[i])} (${pct(lv.total[i], m.numTicks)} of total)`],
      ["Self", `${fmt(lv.self[i])} (${pct(lv.self[i], m.numTicks)})`],
    ];
  }

  onMove(e) {
    const tip = this.opts.tooltip;
    const h = this.hit(e);
    if (!h || !tip) return this.hideTip();
    const r = this.rect(h.level, h.index), c = this.canvas.getBoundingClientRect();
    Object.assign(this.hoverBox.style, { left: `${r.x - c.left}px`, top: `${r.y - c.top}px`, width: `${Math.max(1, r.w - 1)}px`, height: `${r.h}px` });
    this.hoverBox.hidden = false;
    tip.replaceChildren();
    const title = document.createElement("div");
    title.className = "tip-title";
    title.textContent = h.name;
    tip.append(title);
    for (const [k, v] of this.describe(h)) {
      const row = document.createElement("div");
      row.innerHTML = "<span></span><b></b>";
      row.firstChild.textContent = k + ": ";
      row.lastChild.textContent = v;
      tip.append(row);
    }
    tip.hidden = false;
    const x = Math.min(e.clientX + 14, window.innerWidth - tip.offsetWidth - 8);
    const y = e.clientY + 16 + tip.offsetHeight > window.innerHeight ? e.clientY - tip.offsetHeight - 8 : e.clientY + 16;
    tip.style.transform = `translate(${x}px, ${y}px)`;
  }

  hideTip() {
    if (this.opts.tooltip) this.opts.tooltip.hidden = true;
    this.hoverBox.hidden = true;
  }

  // Where a node is drawn, in client coordinates ({x, y, w, h}), or null when out of view;
  // with find(), what tests and the keyboard-less user of the API use to point at a frame.
  rect(level, index) {
    const lv = this.model.levels[level];
    const [v0, v1] = this.view();
    const r = this.canvas.getBoundingClientRect();
    const scale = r.width / (v1 - v0);
    const a = Math.max(lv.x[index], v0), b = Math.min(lv.x[index] + lv.total[index], v1);
    if (b <= a) return null;
    return { x: r.left + (a - v0) * scale, y: r.top + level * ROW, w: (b - a) * scale, h: ROW - 1 };
  }

  find(name) {
    const id = this.model.names.indexOf(name);
    for (let l = 0; l < this.model.levels.length; l++) {
      const lv = this.model.levels[l];
      for (let i = 0; i < lv.n; i++) if (lv.name[i] === id) return { level: l, index: i, name };
    }
    return null;
  }

  toPNG() {
    return new Promise((res) => this.canvas.toBlob(res, "image/png"));
  }
}
