// The time line under the query bar: uPlot, one series per timeline (the selection's totals,
// or one per label value in the tag explorer), and drag-to-select that reports a [from, until]
// range in unix seconds.
import uPlot from "uplot";

// A flamebearer timeline {startTime, samples, durationDelta} → [xs (s), ys].
export function timelineXY(tl) {
  const xs = new Float64Array(tl.samples.length);
  for (let i = 0; i < xs.length; i++) xs[i] = tl.startTime + i * tl.durationDelta;
  return [xs, Float64Array.from(tl.samples)];
}

export const PALETTE = ["#e8590c", "#1c7ed6", "#2f9e44", "#ae3ec9", "#f59f00", "#0ca678", "#d6336c", "#5c7cfa", "#868e96", "#74b816"];

export class Timeline {
  // opts: {height, fmt(value), onSelect(from, until), highlight: [from, until] | null (unix s)}
  constructor(container, opts) {
    this.container = container;
    this.opts = opts;
    this.plot = null;
    this.ro = new ResizeObserver(() => this.plot && this.plot.setSize({ width: this.width(), height: this.opts.height || 110 }));
    this.ro.observe(container);
  }

  width() {
    return Math.max(200, this.container.clientWidth);
  }

  // series: [{label, timeline, color}]
  set(series) {
    this.plot?.destroy();
    this.plot = null;
    if (!series.length || !series[0].timeline) return;
    const [xs] = timelineXY(series[0].timeline);
    const data = [xs, ...series.map((s) => timelineXY(s.timeline)[1])];
    const dark = document.documentElement.dataset.theme === "dark";
    const axis = { stroke: dark ? "#aab" : "#555", grid: { stroke: dark ? "#2a2d35" : "#eee" }, ticks: { stroke: dark ? "#2a2d35" : "#ddd" } };
    const fmt = this.opts.fmt || ((v) => String(v));
    this.plot = new uPlot(
      {
        width: this.width(),
        height: this.opts.height || 110,
        legend: { show: series.length > 1 },
        cursor: { drag: { x: true, y: false, setScale: false } },
        select: { show: true },
        scales: { x: { time: true } },
        axes: [axis, { ...axis, size: 70, values: (u, vals) => vals.map(fmt) }],
        series: [
          {},
          ...series.map((s, i) => ({
            label: s.label,
            stroke: s.color || PALETTE[i % PALETTE.length],
            fill: series.length === 1 ? (dark ? "rgba(232,89,12,0.25)" : "rgba(232,89,12,0.18)") : undefined,
            width: 1.5,
            value: (u, v) => (v == null ? "" : fmt(v)),
            paths: series.length === 1 ? uPlot.paths.stepped({ align: 1 }) : undefined,
          })),
        ],
        hooks: {
          // the range a comparison side uses, shaded inside the wider range the plot spans
          draw: [
            (u) => {
              const h = this.opts.highlight;
              if (!h) return;
              const x0 = Math.max(u.bbox.left, u.valToPos(h[0], "x", true));
              const x1 = Math.min(u.bbox.left + u.bbox.width, u.valToPos(h[1], "x", true));
              if (x1 <= x0) return;
              u.ctx.save();
              u.ctx.fillStyle = this.opts.highlightColor || "rgba(28,126,214,0.15)";
              u.ctx.fillRect(x0, u.bbox.top, x1 - x0, u.bbox.height);
              u.ctx.restore();
            },
          ],
          setSelect: [
            (u) => {
              if (u.select.width < 3) return;
              const from = Math.floor(u.posToVal(u.select.left, "x"));
              const until = Math.ceil(u.posToVal(u.select.left + u.select.width, "x"));
              u.setSelect({ width: 0, height: 0 }, false);
              this.opts.onSelect?.(from, until);
            },
          ],
        },
      },
      data,
      this.container,
    );
  }

  destroy() {
    this.ro.disconnect();
    this.plot?.destroy();
  }
}
