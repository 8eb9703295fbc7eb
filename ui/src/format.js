// Value formatting in a profile's units (PROTOCOLS.md §3.3 metadata): CPU "samples" are
// nanoseconds when sampleRate is 1e9 (Pyroscope's convention), so value / sampleRate is
// seconds; "bytes" and "objects" are counts of their own; anything else is shown raw.

const TIME_STEPS = [
  [86400, "d"], [3600, "h"], [60, "min"], [1, "s"], [1e-3, "ms"], [1e-6, "µs"], [1e-9, "ns"],
];

function trim(v) {
  const s = v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);
  return s.includes(".") ? s.replace(/\.?0+$/, "") : s;
}

export function formatSeconds(s) {
  if (s === 0) return "0 s";
  for (const [k, u] of TIME_STEPS) if (Math.abs(s) >= k) return `${trim(s / k)} ${u}`;
  return `${trim(s / 1e-9)} ns`;
}

export function formatBytes(b) {
  const u = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
  let i = 0;
  while (Math.abs(b) >= 1024 && i < u.length - 1) { b /= 1024; i++; }
  return `${trim(b)} ${u[i]}`;
}

export function formatCount(n) {
  const u = ["", "k", "M", "G", "T"];
  let i = 0;
  while (Math.abs(n) >= 1000 && i < u.length - 1) { n /= 1000; i++; }
  return i === 0 ? String(Math.round(n)) : `${trim(n)}${u[i]}`;
}

// A formatter for the given flamebearer metadata: {units, sampleRate}.
export function unitFormatter(meta) {
  const units = meta?.units || "";
  const rate = meta?.sampleRate || 100;
  switch (units) {
    case "samples": return { kind: "CPU time", fmt: (v) => formatSeconds(v / rate) };
    case "nanoseconds": return { kind: "time", fmt: (v) => formatSeconds(v / 1e9) };
    case "bytes": return { kind: "memory", fmt: formatBytes };
    case "objects": return { kind: "objects", fmt: (v) => `${formatCount(v)} objects` };
    default: return { kind: units || "value", fmt: (v) => `${formatCount(v)}${units ? " " + units : ""}` };
  }
}

export function pct(part, whole) {
  if (!whole) return "0%";
  const p = (100 * part) / whole;
  return `${p >= 10 ? p.toFixed(1) : p.toFixed(2)}%`;
}

export function escapeHtml(s) {
  return String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}
