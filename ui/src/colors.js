// Stable colours: a function's hue comes from a hash of its package (so one library reads as
// one colour family across views and reloads) and its lightness from a hash of the full name.
// Diff colours follow Pyroscope: grey for no change, towards red for more, green for less.

function fnv(s) {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

// "net/http.(*conn).serve" → "net/http"; "std::vector<int>::push" → "std"; "a.b.c" → "a";
// "./burn.js:fib:10" → "./burn.js".
export function packageOf(name) {
  const slash = name.lastIndexOf("/");
  const rest = name.slice(slash + 1);
  const m = /^[^.:(\s<]+/.exec(rest);
  return name.slice(0, slash + 1) + (m ? m[0] : rest);
}

export function functionColor(name, dark) {
  const hp = fnv(packageOf(name));
  const hn = fnv(name);
  // Warm hues (red-orange-yellow) read as "flame" and leave blue for search highlights.
  const hue = (hp % 60) + 5;
  const sat = 65 + (hp >>> 8) % 25;
  const light = (dark ? 38 : 62) + ((hn % 13) - 6);
  return `hsl(${hue},${sat}%,${light}%)`;
}

// change = (right share - left share) / left share; +Inf for new functions.
export function diffColor(leftShare, rightShare, dark) {
  const neutral = dark ? [90, 90, 100] : [200, 200, 205];
  if (leftShare === rightShare) return `rgb(${neutral})`;
  const change = leftShare === 0 ? 1 : (rightShare - leftShare) / leftShare;
  const t = Math.min(1, Math.abs(change)) * 0.85 + 0.15;
  const target = change > 0 ? [230, 40, 40] : [40, 180, 60];
  const c = neutral.map((n, i) => Math.round(n + (target[i] - n) * t));
  return `rgb(${c})`;
}
