// HTTP helpers. Every failure becomes an ApiError whose message is what a person should read:
// the server's own message for 4xx (e.g. a selector syntax error), the status for 5xx, and
// "cannot reach the server" when the request never got an answer.

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
  get kind() {
    if (this.status === 0) return "network";
    if (this.status >= 500) return "server";
    return "request";
  }
}

async function check(res) {
  if (res.ok) return res;
  let msg = "";
  try {
    const text = await res.text();
    try { msg = JSON.parse(text).message || text; } catch { msg = text; }
  } catch { /* the body is lost; the status says enough */ }
  throw new ApiError(res.status, msg || res.statusText || `HTTP ${res.status}`);
}

async function request(url, init) {
  let res;
  try {
    res = await fetch(url, init);
  } catch (e) {
    if (e.name === "AbortError") throw e;
    throw new ApiError(0, "cannot reach the Ember server");
  }
  return check(res);
}

export const qs = (params) =>
  Object.entries(params)
    .filter(([, v]) => v !== undefined && v !== null && v !== "")
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
    .join("&");

export async function getJSON(path, params, signal) {
  const res = await request(params ? `${path}?${qs(params)}` : path, { signal });
  return res.json();
}

export async function connect(method, body, signal) {
  const res = await request(`/querier.v1.QuerierService/${method}`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body || {}),
    signal,
  });
  return res.json();
}

// Ember's /label-values answers a JSON array (null when empty).
export async function labelValues(label, query, from, until, signal) {
  return (await getJSON("/label-values", { label, query, from, until }, signal)) || [];
}

export async function labelNames(query, from, until, signal) {
  return (await getJSON("/labels", { query, from, until }, signal)) || [];
}
