// The flame graph's data model. A flamebearer (PROTOCOLS.md §3.4) is decoded once into one set
// of typed arrays per level — absolute x, total, self, name index and the parent's index in the
// level above — so drawing, hit-testing, search and the table are linear scans over flat
// arrays with no per-node objects. Within a level nodes are sorted by x and never overlap;
// a child lies inside its parent's [x, x + total). For a diff ("double") flamebearer the
// drawn x and total are left + right, and the per-side totals/selves are kept for colours.

function parents(up, lv) {
  const parent = new Int32Array(lv.n);
  const UX = up.x, X = lv.x, last = up.n - 1;
  let i = 0;
  for (let j = 0; j < lv.n; j++) {
    const x = X[j];
    while (i < last && UX[i + 1] <= x) i++;
    parent[j] = i;
  }
  return parent;
}

export function decode(doc) {
  const fb = doc.flamebearer;
  const diff = doc.metadata?.format === "double";
  const step = diff ? 7 : 4;
  const levels = fb.levels.map((raw) => {
    const n = (raw.length / step) | 0;
    const lv = {
      n,
      x: new Float64Array(n),
      total: new Float64Array(n),
      self: new Float64Array(n),
      name: new Int32Array(n),
      parent: null,
    };
    if (diff) {
      lv.lTotal = new Float64Array(n);
      lv.lSelf = new Float64Array(n);
      lv.rTotal = new Float64Array(n);
      lv.rSelf = new Float64Array(n);
    }
    let lx = 0, rx = 0;
    if (diff) {
      for (let i = 0, k = 0; i < n; i++, k += 7) {
        lx += raw[k];
        rx += raw[k + 3];
        lv.lTotal[i] = raw[k + 1];
        lv.lSelf[i] = raw[k + 2];
        lv.rTotal[i] = raw[k + 4];
        lv.rSelf[i] = raw[k + 5];
        lv.x[i] = lx + rx;
        lv.total[i] = raw[k + 1] + raw[k + 4];
        lv.self[i] = raw[k + 2] + raw[k + 5];
        lv.name[i] = raw[k + 6];
        lx += raw[k + 1];
        rx += raw[k + 4];
      }
    } else {
      const X = lv.x, T = lv.total, SF = lv.self, NM = lv.name;
      for (let i = 0, k = 0; i < n; i++, k += 4) {
        lx += raw[k];
        X[i] = lx;
        T[i] = raw[k + 1];
        SF[i] = raw[k + 2];
        NM[i] = raw[k + 3];
        lx += raw[k + 1];
      }
    }
    return lv;
  });
  for (let l = 1; l < levels.length; l++) levels[l].parent = parents(levels[l - 1], levels[l]);
  if (levels.length) levels[0].parent = new Int32Array(levels[0].n).fill(-1);
  let nodes = 0;
  for (const lv of levels) nodes += lv.n;
  return {
    names: fb.names,
    levels,
    nodes,
    numTicks: fb.numTicks,
    diff,
    leftTicks: doc.leftTicks || 0,
    rightTicks: doc.rightTicks || 0,
    meta: doc.metadata || {},
  };
}

// Per name index: 1 when the name matches the search (case-insensitive substring, or a
// regular expression when written /like this/).
export function matchNames(names, query) {
  const m = new Uint8Array(names.length);
  if (!query) return m;
  let test;
  const re = /^\/(.+)\/([a-z]*)$/.exec(query);
  if (re) {
    try {
      const rx = new RegExp(re[1], re[2].includes("i") ? "i" : "");
      test = (s) => rx.test(s);
    } catch {
      test = () => false;
    }
  } else {
    const q = query.toLowerCase();
    test = (s) => s.toLowerCase().includes(q);
  }
  for (let i = 0; i < names.length; i++) if (test(names[i])) m[i] = 1;
  return m;
}

// Total of the matching nodes, counting a matching node under a matching ancestor once.
// Returns {total, count, covered} where covered[l][i] says node i of level l is or lies under
// a match (the highlight).
export function searchTotal(model, matched) {
  let total = 0, count = 0;
  const covered = [];
  model.levels.forEach((lv, l) => {
    const c = new Uint8Array(lv.n);
    const up = l > 0 ? covered[l - 1] : null;
    for (let i = 0; i < lv.n; i++) {
      const under = up ? up[lv.parent[i]] : 0;
      if (matched[lv.name[i]]) {
        c[i] = 1;
        count++;
        if (!under) total += lv.total[i];
      } else c[i] = under ? 2 : 0;
    }
    covered.push(c);
  });
  return { total, count, covered };
}

// Per function (name index): self summed over all nodes; total summed over the nodes that
// have no ancestor of the same name, so recursion is not counted twice. Columnar, so the
// table sorts an index array instead of 100k row objects. ids: the names with a value.
export function functionTable(model) {
  const nn = model.names.length;
  const self = new Float64Array(nn);
  const total = new Float64Array(nn);
  const L = model.levels;
  for (let l = 1; l < L.length; l++) {
    const lv = L[l];
    const NM = lv.name, SF = lv.self, T = lv.total, PA = lv.parent;
    for (let i = 0; i < lv.n; i++) {
      const nm = NM[i];
      self[nm] += SF[i];
      let rec = false;
      for (let a = l - 1, p = PA[i]; a >= 1; p = L[a].parent[p], a--) {
        if (L[a].name[p] === nm) { rec = true; break; }
      }
      if (!rec) total[nm] += T[i];
    }
  }
  const ids = [];
  for (let nm = 0; nm < nn; nm++) if (total[nm] > 0 || self[nm] > 0) ids.push(nm);
  return { names: model.names, self, total, ids };
}

// A model from a plain tree {name, self, total, children[]} (sandwich views): children laid
// out left to right, sorted by name, after the node's own self span as in §3.4.
export function fromTree(root) {
  const names = [];
  const ids = new Map();
  const nameId = (s) => {
    let id = ids.get(s);
    if (id === undefined) { id = names.length; names.push(s); ids.set(s, id); }
    return id;
  };
  const rows = [];
  const walk = (node, depth, x) => {
    (rows[depth] ||= []).push(x, node.total, node.self, nameId(node.name));
    let cx = x + node.self;
    const kids = [...node.children.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
    for (const k of kids) { walk(k, depth + 1, cx); cx += k.total; }
  };
  walk(root, 0, 0);
  // back to the delta encoding decode() reads
  const levels = rows.map((r) => {
    let end = 0;
    const out = r.slice();
    for (let k = 0; k < out.length; k += 4) {
      const abs = r[k];
      out[k] = abs - end;
      end = abs + r[k + 1];
    }
    return out;
  });
  return decode({ flamebearer: { names, levels, numTicks: root.total }, metadata: { format: "single" } });
}

function child(node, name) {
  let c = node.children.get(name);
  if (!c) { c = { name, self: 0, total: 0, children: new Map() }; node.children.set(name, c); }
  return c;
}

// Sandwich (Pyroscope's): for function fn, the callees tree merges every subtree rooted at fn
// (outermost occurrences only, so recursion is not counted twice), and the callers tree is
// the inverted paths from fn up to the root, weighted by fn's total there.
export function sandwich(model, fn) {
  const id = model.names.indexOf(fn);
  const callees = { name: fn, self: 0, total: 0, children: new Map() };
  const callers = { name: fn, self: 0, total: 0, children: new Map() };
  if (id < 0) return { callers: fromTree(callers), callees: fromTree(callees) };
  const L = model.levels;
  // mark: node -> tree node in callees when inside an outermost fn subtree
  let prevMap = null;
  for (let l = 1; l < L.length; l++) {
    const lv = L[l];
    const map = new Array(lv.n);
    for (let i = 0; i < lv.n; i++) {
      const up = prevMap ? prevMap[lv.parent[i]] : undefined;
      let t;
      if (up) t = child(up, model.names[lv.name[i]]);
      else if (lv.name[i] === id) {
        t = callees;
        // callers: walk the path up from here
        let node = callers;
        node.total += lv.total[i];
        for (let a = l - 1, p = lv.parent[i]; a >= 1; p = L[a].parent[p], a--) {
          node = child(node, model.names[L[a].name[p]]);
          node.total += lv.total[i];
        }
        node.self += lv.total[i];
      }
      if (t) { t.total += lv.total[i]; t.self += lv.self[i]; map[i] = t; }
    }
    prevMap = map;
  }
  return { callers: fromTree(callers), callees: fromTree(callees) };
}
