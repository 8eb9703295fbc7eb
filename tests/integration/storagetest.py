"""Helpers for the storage-engine tests (`test_storage_*.py`, issue 4): an exact model of what
was ingested, the expected `/render` answer for any [from, until] computed from that model
(flame graph per path, numTicks, timeline by the §3.5 bucket rule), on-disk block inspection,
admin endpoints and crash injection (`EMBER_CRASH_POINT`, see src/store/crash.h).

Conventions: profiles are folded `<app>.cpu{...}` pushes with an explicit `from` (unix
seconds), so every value is scaled by NS = 1e7 (default sampleRate 100) and a profile sits at
exactly `from`. `/render` takes unix seconds too; a profile at ts counts iff from <= ts <= until.
"""

import bisect
import collections
import contextlib
import http.client
import json
import os
import time
import urllib.parse

from embertest import NS, expected_tree, parse_metrics

TENANT = "anonymous"
CRASH_POINTS_CUT = ("cut.after_rotate", "block.write.mid_files", "block.write.before_rename",
                    "block.write.after_rename", "cut.after_tenant_block",
                    "cut.before_wal_remove")
CRASH_POINTS_COMPACT = ("block.write.mid_files", "block.write.before_rename",
                        "block.write.after_rename", "compact.after_write")
CRASH_POINTS = tuple(sorted(set(CRASH_POINTS_CUT + CRASH_POINTS_COMPACT)))
BLOCK_FILES = ("meta.json", "symbols", "tree", "index", "profiles", "rollups")

# query_timeline_step's table (src/query/query.c), PROTOCOLS.md §3.5
_STEPS = (1, 2, 5, 10, 15, 20, 30, 60, 120, 300, 600, 900, 1200, 1800, 3600, 7200, 10800,
          21600, 43200, 86400, 604800, 2592000, 31536000)


# ---------------------------------------------------------------------------------------------
# The model


def series_name(app, labels):
    """Ingest name: app.cpu{k=v,...} (labels sorted)."""
    if not labels:
        return app + ".cpu"
    return "%s.cpu{%s}" % (app, ",".join("%s=%s" % kv for kv in sorted(labels.items())))


def folded(stacks):
    return "".join("%s %d\n" % (k, v) for k, v in sorted(stacks.items())).encode()


Profile = collections.namedtuple("Profile", "app labels ts stacks")


def timeline_step(frm, until):
    raw = (until - frm) / 1500.0
    step = _STEPS[-1]
    for s in _STEPS:
        if s >= raw:
            step = s
            break
    return max(step, 15)


def expected_timeline(points, frm, until, avg=False):
    """(startTime, step, samples) for [(ts, total)] by the server's rule: startTime = from
    snapped down to the step, a point at t goes to the first edge >= t, n = span//step + 1;
    with avg (aggregation=avg) each bucket is its sum // its number of profiles."""
    step = timeline_step(frm, until)
    start = frm - frm % step
    n = min((until - start) // step + 1, 100000)
    samples, counts = [0] * n, [0] * n
    for ts, v in points:
        if ts < frm or ts > until:
            continue
        i = -((start - ts) // step)  # ceil((ts - start) / step)
        if 0 <= i < n:
            samples[i] += v
            counts[i] += 1
    if avg:
        samples = [s // c if c else 0 for s, c in zip(samples, counts)]
    return start, step, samples


class Model:
    """Everything ingested (that the test expects to be stored), with exact expectations.
    Series are selected like the legacy query app.cpu{k="v",...}: same app, and every given
    label equal."""

    def __init__(self):
        self.profiles = []
        self._sel = {}

    def add(self, app, labels, ts, stacks):
        self.profiles.append(Profile(app, dict(labels or {}), ts, dict(stacks)))
        self._sel.clear()

    def extend(self, other):
        self.profiles.extend(other.profiles)
        self._sel.clear()

    def select(self, app, labels=None):
        """[(ts, {path: value*NS}, total*NS)] of the matching profiles, by ts."""
        key = (app, tuple(sorted((labels or {}).items())))
        if key not in self._sel:
            want = dict(labels or {})
            sel = [(p.ts, {k: v * NS for k, v in p.stacks.items()}, sum(p.stacks.values()) * NS)
                   for p in self.profiles
                   if p.app == app and all(p.labels.get(k) == v for k, v in want.items())]
            sel.sort(key=lambda x: x[0])
            self._sel[key] = ([x[0] for x in sel], sel)
        return self._sel[key]

    def expect(self, app, labels, frm, until, avg=False):
        """{"stacks": {path: value*NS}, "numTicks", "tree", "timeline": (start, step, samples)}"""
        tss, sel = self.select(app, labels)
        stacks = collections.Counter()
        points = []
        for ts, st, total in sel[bisect.bisect_left(tss, frm):bisect.bisect_right(tss, until)]:
            stacks.update(st)
            points.append((ts, total))
        stacks = {k: v for k, v in stacks.items() if v}
        return {"stacks": stacks, "numTicks": sum(stacks.values()),
                "tree": expected_tree(stacks),
                "timeline": expected_timeline(points, frm, until, avg)}


# ---------------------------------------------------------------------------------------------
# HTTP


class KeepAlive:
    """One keep-alive connection for many small ingests (reconnects after an error)."""

    def __init__(self, port, timeout=30):
        self.port, self.timeout, self.conn = port, timeout, None

    def request(self, method, path, body=b"", headers=None):
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        try:
            self.conn.request(method, path, body, headers or {})
            r = self.conn.getresponse()
            data = r.read()
            return r.status, data
        except (OSError, http.client.HTTPException):
            self.close()
            raise

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def ingest_path(app, labels, ts):
    return "/ingest?" + urllib.parse.urlencode(
        {"name": series_name(app, labels), "from": ts, "until": ts},
        quote_via=urllib.parse.quote, safe="")


def push(srv, model, app, labels, ts, stacks, conn=None, headers=None):
    """Ingests one folded profile at ts and records it in model (if given)."""
    path = ingest_path(app, labels, ts)
    if conn is not None:
        status, body = conn.request("POST", path, folded(stacks), headers)
    else:
        r = srv.request("POST", path, folded(stacks), headers)
        status, body = r.status, r.body
    assert status == 200, "ingest %s at %d: %d %r" % (app, ts, status, body[:300])
    if model is not None:
        model.add(app, labels, ts, stacks)


def push_all(srv, model, items, headers=None):
    """items: [(app, labels, ts, stacks)] over one keep-alive connection."""
    conn = KeepAlive(srv.port)
    try:
        for app, labels, ts, stacks in items:
            push(srv, model, app, labels, ts, stacks, conn=conn, headers=headers)
    finally:
        conn.close()


def query_for(app, labels=None):
    """Legacy query app.cpu{k="v",...} (equality matchers)."""
    if not labels:
        return app + ".cpu"
    return "%s.cpu{%s}" % (app, ",".join('%s="%s"' % kv for kv in sorted(labels.items())))


def tree_of(doc):
    """{"a;b;c": (total, self)} like embertest.fb_tree, in linear time (large graphs): nodes of
    a level and their parents one level up are both in x order, so one merge walk finds each
    node's parent. Checks that children fit their parent and self + children == total."""
    fb = doc["flamebearer"]
    names, levels = fb["names"], fb["levels"]
    res, prev = {}, []  # prev: [(x, total, path, [children total])]
    for li, lvl in enumerate(levels):
        row, end, j = [], 0, 0
        for i in range(0, len(lvl), 4):
            dx, total, self_, ni = lvl[i:i + 4]
            x = end + dx
            end = x + total
            if li == 0:
                row.append((x, total, "", [self_]))
                continue
            while j < len(prev) and prev[j][0] + prev[j][1] < x + total:
                j += 1
            assert j < len(prev) and prev[j][0] <= x, "orphan node at level %d x %d" % (li, x)
            p = prev[j]
            path = names[ni] if li == 1 else p[2] + ";" + names[ni]
            assert path not in res, "duplicate node %r" % path
            res[path] = (total, self_)
            p[3].append(total)
            row.append((x, total, path, [self_]))
        for p in prev:
            assert sum(p[3]) == p[1], "node %r: self + children != total" % p[2]
        prev = row
    for p in prev:
        assert sum(p[3]) == p[1], "node %r: self + children != total" % p[2]
    if levels:
        assert levels[0][1] == fb["numTicks"], (levels[0], fb["numTicks"])
    return res


def render_facts(srv, query, frm, until, conn=None, headers=None, avg=False):
    """(numTicks, tree, (startTime, step, samples)) of GET /render, maxNodes unlimited."""
    params = {"query": query, "from": frm, "until": until, "format": "json",
              "maxNodes": 1000000}
    if avg:
        params["aggregation"] = "avg"
    path = "/render?" + urllib.parse.urlencode(params, quote_via=urllib.parse.quote, safe="")
    if conn is not None:
        status, body = conn.request("GET", path, None, headers)
    else:
        r = srv.request("GET", path, None, headers)
        status, body = r.status, r.body
    assert status == 200, "render %s [%d, %d]: %d %r" % (query, frm, until, status, body[:300])
    doc = json.loads(body)
    fb, tl = doc["flamebearer"], doc["timeline"]
    return (fb["numTicks"], tree_of(doc), (tl["startTime"], tl["durationDelta"], tl["samples"]))


def check_render(srv, model, app, labels, frm, until, conn=None, what="", headers=None,
                 avg=False):
    """Asserts /render == the model's expectation for the series selected by labels."""
    want = model.expect(app, labels, frm, until, avg)
    ticks, tree, tl = render_facts(srv, query_for(app, labels), frm, until, conn, headers, avg)
    ctx = "%s %s [%d, %d]%s" % (what, query_for(app, labels), frm, until,
                                " aggregation=avg" if avg else "")
    assert ticks == want["numTicks"], "%s: numTicks %d, want %d" % (ctx, ticks, want["numTicks"])
    if tree != want["tree"]:
        diff = sorted(set(tree.items()) ^ set(want["tree"].items()))[:12]
        raise AssertionError("%s: per-path totals differ (got ^ want): %r" % (ctx, diff))
    if tl != want["timeline"]:
        ws, wstep, wsamples = want["timeline"]
        gs, gstep, gsamples = tl
        bad = [(i, g, w) for i, (g, w) in enumerate(zip(gsamples, wsamples)) if g != w][:8]
        raise AssertionError("%s: timeline start %d/%d step %d/%d len %d/%d sum %d/%d, first "
                             "differing buckets (i, got, want) %r"
                             % (ctx, gs, ws, gstep, wstep, len(gsamples), len(wsamples),
                                sum(gsamples), sum(wsamples), bad))
    return want


def snapshot(srv, queries):
    """{(query, from, until): render_facts} plus the label API answers, for before/after."""
    out = {}
    conn = KeepAlive(srv.port)
    try:
        for q, f, u in queries:
            out[(q, f, u)] = render_facts(srv, q, f, u, conn)
    finally:
        conn.close()
    for label in ("__name__", "service_name", "env"):
        r = srv.get("/pyroscope/label-values", label=label)  # v1 ignores the range
        assert r.status == 200, r
        out["label:" + label] = sorted(r.json() or [])
    r = srv.get("/api/apps")
    assert r.status == 200, r
    out["apps"] = sorted(json.dumps(a, sort_keys=True) for a in (r.json() or []))
    return out


def assert_same(before, after, what):
    diff = [k for k in set(before) | set(after) if before.get(k) != after.get(k)]
    assert not diff, "%s: %d answers changed, e.g. %r:\nbefore %r\nafter  %r" % (
        what, len(diff), diff[0], str(before.get(diff[0]))[:400], str(after.get(diff[0]))[:400])


# ---------------------------------------------------------------------------------------------
# Admin endpoints, metrics, files


def admin(srv, what):
    r = srv.request("POST", "/api/v1/admin/" + what, b"")
    assert r.status == 200, "admin %s: %r" % (what, r)
    doc = r.json()
    assert doc.get("done") == what, doc
    for k in ("blocksAffected", "blocks", "headSeries"):
        assert isinstance(doc.get(k), int), doc
    return doc


def metrics(srv):
    r = srv.get("/metrics")
    assert r.status == 200, r
    return {name: v for (name, labels), v in parse_metrics(r.text).items() if not labels}


def tenant_dir(srv, tenant=TENANT):
    return srv.data_dir / "blocks" / tenant


def block_dirs(srv, tenant=TENANT):
    """Published block directories of tenant, oldest ulid first."""
    d = tenant_dir(srv, tenant)
    if not d.is_dir():
        return []
    return sorted(p for p in d.iterdir()
                  if p.is_dir() and p.name != "quarantine" and not p.name.endswith(".tmp"))


def tmp_dirs(srv, tenant=TENANT):
    d = tenant_dir(srv, tenant)
    return sorted(p for p in d.iterdir() if p.name.endswith(".tmp")) if d.is_dir() else []


def quarantined(srv, tenant=TENANT):
    d = tenant_dir(srv, tenant) / "quarantine"
    return sorted(d.iterdir()) if d.is_dir() else []


def meta(block_dir):
    return json.loads((block_dir / "meta.json").read_text())


def wal_segments(srv):
    d = srv.data_dir / "wal"
    return sorted(p.name for p in d.glob("wal-*.log")) if d.is_dir() else []


def wait_for(cond, timeout=10.0, what="condition"):
    deadline = time.monotonic() + timeout
    while True:
        v = cond()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %.0fs waiting for %s" % (timeout, what))
        time.sleep(0.05)


# ---------------------------------------------------------------------------------------------
# Crash injection


@contextlib.contextmanager
def crash_env(point, skip=0):
    """EMBER_CRASH_POINT / EMBER_CRASH_SKIP in os.environ while the block runs (Server.start
    spawns the process with the current environment)."""
    saved = {k: os.environ.get(k) for k in ("EMBER_CRASH_POINT", "EMBER_CRASH_SKIP")}
    os.environ["EMBER_CRASH_POINT"] = point
    os.environ["EMBER_CRASH_SKIP"] = str(skip)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def start_with_crash_point(srv, point, skip=0):
    with crash_env(point, skip):
        srv.start()
    return srv


def post_expecting_death(srv, path, timeout=30):
    """POSTs path; the server is expected to kill itself while handling it. Returns the
    response if it answered anyway (None if the connection dropped)."""
    try:
        return srv.request("POST", path, b"", timeout=timeout)
    except (OSError, http.client.HTTPException):
        return None


def wait_crashed(srv, point, timeout=20):
    """Waits for the SIGKILL the crash point raises; forgets the process (no exit-code check,
    sanitizers cannot report on SIGKILL)."""
    assert srv.proc is not None
    try:
        rc = srv.proc.wait(timeout=timeout)
    except Exception:
        srv.kill9()
        raise AssertionError("server did not crash at %s within %ds:\n%s"
                             % (point, timeout, srv.log_tail()))
    srv.proc = None
    assert rc == -9, "want death by SIGKILL at %s, got exit %r:\n%s" % (point, rc,
                                                                          srv.log_tail())
    assert "crash point %s reached" % point in srv.log_text(), srv.log_tail()


# ---------------------------------------------------------------------------------------------
# Random data


FRAMES = ("main", "serve", "parse", "gc", "io", "read", "write", "hash", "zstd", "sort",
          "lock", "alloc")


def random_stacks(rng, nmax=5, depth=5, vmax=1000):
    """{"a;b;c": value} with 1..nmax stacks of depth 1..depth over FRAMES."""
    out = collections.Counter()
    for _ in range(rng.randint(1, nmax)):
        path = ";".join(rng.choice(FRAMES) for _ in range(rng.randint(1, depth)))
        out[path] += rng.randint(1, vmax)
    return dict(out)
