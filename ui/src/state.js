// The UI's state lives in the URL's query string, so a copied link reproduces the view:
// the page reads it on load and on back/forward, and writes it on every change.

const DEFAULTS = {
  view: "single", // single | compare | diff | tags
  query: "",
  from: "now-1h",
  until: "now",
  mode: "both", // flame | table | both | sandwich
  search: "",
  maxNodes: "",
  fn: "", // sandwich function
  groupBy: "",
  leftQuery: "",
  leftFrom: "",
  leftUntil: "",
  rightQuery: "",
  rightFrom: "",
  rightUntil: "",
};

// Views live in the path, with the page names and query parameters of Pyroscope's own UI
// (query, from, until, leftQuery/leftFrom/.../rightUntil, groupBy, maxNodes), so links made
// for Pyroscope open the same view here. "?view=" is read too.
const PATHS = { single: "/", compare: "/comparison", diff: "/comparison-diff", tags: "/explore" };
const VIEW_OF = { "/": "single", "/single": "single", "/comparison": "compare", "/comparison-diff": "diff", "/explore": "tags", "/tag-explorer": "tags" };

export function readState() {
  const p = new URLSearchParams(location.search);
  const s = { ...DEFAULTS, view: VIEW_OF[location.pathname.replace(/\/+$/, "") || "/"] || "single" };
  for (const k of Object.keys(DEFAULTS)) if (p.has(k)) s[k] = p.get(k);
  if (!PATHS[s.view]) s.view = "single";
  return s;
}

export function writeState(s, push) {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(s)) if (k in DEFAULTS && k !== "view" && v !== DEFAULTS[k] && v !== "") p.set(k, v);
  const url = `${PATHS[s.view] || "/"}${p.toString() ? "?" + p : ""}`;
  if (url === location.pathname + location.search) return;
  if (push) history.pushState(null, "", url);
  else history.replaceState(null, "", url);
}

// `ptype{service_name="svc", env=~"a|b"}` → {ptype, service, rest: [`env=~"a|b"`]}.
export function parseQuery(q) {
  const m = /^\s*([^{\s]*)\s*(?:\{(.*)\})?\s*$/s.exec(q || "");
  const out = { ptype: m ? m[1] : "", service: "", rest: [] };
  if (!m || !m[2]) return out;
  const re = /\s*([A-Za-z_][A-Za-z0-9_.]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"\s*,?/gy;
  let mm, used = 0;
  while ((mm = re.exec(m[2]))) {
    used = re.lastIndex;
    if (mm[1] === "service_name" && mm[2] === "=") out.service = mm[3];
    else out.rest.push(`${mm[1]}${mm[2]}"${mm[3]}"`);
  }
  // whatever does not parse is kept as typed, so the server's error message can name it
  const tail = m[2].slice(used).trim();
  if (tail) out.rest.push(tail);
  return out;
}

export function buildQuery(ptype, service, labelsText) {
  const parts = [];
  if (service) parts.push(`service_name="${service}"`);
  const extra = (labelsText || "").trim().replace(/^\{|\}$/g, "").trim();
  if (extra) parts.push(extra);
  return `${ptype}{${parts.join(",")}}`;
}

// Adds or replaces the matcher for label in a full query.
export function withMatcher(query, label, value) {
  const q = parseQuery(query);
  const rest = q.rest.filter((r) => !r.startsWith(label + "=") && !r.startsWith(label + "!") );
  rest.push(`${label}="${value.replace(/["\\]/g, "\\$&")}"`);
  return buildQuery(q.ptype, q.service, rest.join(","));
}
