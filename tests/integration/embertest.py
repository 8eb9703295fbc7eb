"""Helpers for Ember's integration tests: start the real binary, talk HTTP, decode flamebearers.

Stdlib only (Debian's /usr/bin/python3 + python3-pytest). Imported by conftest.py and the
test files (pytest puts this folder on sys.path).

- `Server`: one `ember server` process on 127.0.0.1:<free port> with a data dir; start, wait
  for /ready, SIGTERM (exit code 0 checked), kill -9, restart on the same data dir; every run's
  output goes to a log file that is scanned for sanitizer reports.
- HTTP: `Server.get/post/request` return `Response(status, headers, body)`; `post_ingest`,
  `render`, `label_values`, ... wrap the routes of PROTOCOLS.md §1 and §3.
- Flamebearer (PROTOCOLS.md §3.3-3.4): `fb_tree` decodes `levels` into
  {"a;b;c": (total, self)}; `check_flamebearer` asserts the structural invariants;
  `expected_flamebearer` is an independent reference encoder of the producer rules, used to
  assert exact `names` and `levels`.
- `make_pprof`: a tiny protobuf writer for hand-made pprof profiles (exact, Go-independent).
- `multipart`, `parse_metrics`, `uniq`.
"""

import collections
import gzip
import http.client
import itertools
import json
import os
import re
import signal
import socket
import subprocess
import threading
import time
import urllib.parse
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
READY_TIMEOUT = float(os.environ.get("EMBER_READY_TIMEOUT", "10"))
STOP_TIMEOUT = float(os.environ.get("EMBER_STOP_TIMEOUT", "20"))
SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "runtime error:", "LeakSanitizer")

CPU = "process_cpu:cpu:nanoseconds:cpu:nanoseconds"
NS = 10_000_000  # folded/lines `.cpu` values are scaled by 1e9 / sampleRate (default 100)


def ember_bin():
    """EMBER_BIN (relative to the cwd, else to the repo root), default build/ember."""
    p = os.environ.get("EMBER_BIN", "build/ember")
    path = Path(p)
    if not path.is_absolute():
        path = path if path.exists() else REPO / p
    return path.resolve()


_uniq = itertools.count(1)


def uniq(prefix="app"):
    """A fresh service name (runes allowed by PROTOCOLS.md §1.2, no dots)."""
    return "%s_%d_%d" % (prefix, os.getpid() % 10000, next(_uniq))


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def now():
    return int(time.time())


# ---------------------------------------------------------------------------------------------
# HTTP


class Response(collections.namedtuple("Response", "status headers body")):
    """status int, headers dict with lower-case keys, body bytes. Unpacks as a 3-tuple."""

    def json(self):
        return json.loads(self.body)

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")

    def __repr__(self):
        body = self.body[:600]
        return "Response(%d, %r, %r%s)" % (
            self.status, self.headers.get("content-type"), body,
            "..." if len(self.body) > 600 else "")


def encode_params(params):
    """Query string; `from_` → `from`; list values repeat; %20 for spaces (never '+')."""
    items = []
    for k, v in params.items():
        if v is None:
            continue
        k = k[:-1] if k.endswith("_") else k
        for one in (v if isinstance(v, (list, tuple)) else [v]):
            items.append((k, str(one)))
    return urllib.parse.urlencode(items, quote_via=urllib.parse.quote, safe="")


def http_request(port, method, path, body=None, headers=None, timeout=30):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        data = r.read()
        return Response(r.status, {k.lower(): v for k, v in r.getheaders()}, data)
    finally:
        conn.close()


def assert_json_error(resp, status, code=None):
    """An error answer as in PROTOCOLS.md §1.7: given status, JSON {"code","message"}."""
    assert resp.status == status, "want %d, got %r" % (status, resp)
    ctype = resp.headers.get("content-type", "")
    assert ctype.startswith("application/json"), "error Content-Type %r: %r" % (ctype, resp)
    try:
        doc = resp.json()
    except ValueError:
        raise AssertionError("error body is not JSON: %r" % (resp,))
    assert isinstance(doc, dict), resp
    assert isinstance(doc.get("code"), str) and doc["code"], resp
    assert isinstance(doc.get("message"), str) and doc["message"], resp
    if code is not None:
        assert doc["code"] == code, "want code %r: %r" % (code, resp)
    return doc


def assert_clean_4xx_or_ok(resp):
    """Not a crash: 200, or a 4xx with a well-formed JSON error."""
    if resp.status == 200:
        return
    assert 400 <= resp.status < 500, "want 200 or 4xx, got %r" % (resp,)
    assert_json_error(resp, resp.status)


def multipart(parts, boundary="----EmberTestBoundary7MA4YWxkTrZu0gW"):
    """parts: [(field, filename or None, content_type or None, bytes)] → (body, content_type)."""
    out = bytearray()
    for name, filename, ctype, data in parts:
        out += b"--" + boundary.encode() + b"\r\n"
        disp = 'form-data; name="%s"' % name
        if filename is not None:
            disp += '; filename="%s"' % filename
        out += b"Content-Disposition: " + disp.encode() + b"\r\n"
        if ctype:
            out += b"Content-Type: " + ctype.encode() + b"\r\n"
        out += b"\r\n" + data + b"\r\n"
    out += b"--" + boundary.encode() + b"--\r\n"
    return bytes(out), "multipart/form-data; boundary=" + boundary


# ---------------------------------------------------------------------------------------------
# The server process


class ServerError(AssertionError):
    pass


class Server:
    """One `ember server` on 127.0.0.1 with data dir `data_dir`, restartable."""

    def __init__(self, data_dir, log_dir, args=(), name="ember"):
        self.bin = ember_bin()
        self.data_dir = Path(data_dir)
        self.log_dir = Path(log_dir)
        self.args = list(args)
        self.name = name
        self.proc = None
        self.port = None
        self.logs = []
        self.runs = 0
        self.problems = []  # teardown findings: bad exit codes, sanitizer reports

    # -- lifecycle ---------------------------------------------------------------------------

    def cmdline(self, port):
        return [str(self.bin), "server",
                "-server.http-listen-address=127.0.0.1",
                "-server.http-listen-port=%d" % port,
                "-storage.path=%s" % self.data_dir] + self.args

    def start(self):
        assert self.proc is None, "already running"
        if not self.bin.exists():
            raise ServerError("Ember binary %s not found (build it with `ninja -C build`, "
                              "or set EMBER_BIN)" % self.bin)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        last = ""
        for _attempt in range(3):
            self.runs += 1
            port = free_port()
            log = self.log_dir / ("%s-run%d.log" % (self.name, self.runs))
            self.logs.append(log)
            with open(log, "wb") as f:
                self.proc = subprocess.Popen(self.cmdline(port), stdout=f, stderr=f,
                                             stdin=subprocess.DEVNULL, cwd=str(self.log_dir))
            self.port = port
            ok, last = self._wait_ready()
            if ok:
                return self
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
            self.proc = None
            if "in use" not in last.lower():
                break
        raise ServerError("ember did not become ready: %s\n--- log ---\n%s"
                          % (last, self.log_tail()))

    def _wait_ready(self):
        deadline = time.monotonic() + READY_TIMEOUT
        why = "timeout after %.0fs" % READY_TIMEOUT
        while time.monotonic() < deadline:
            rc = self.proc.poll()
            if rc is not None:
                return False, "exited with %d: %s" % (rc, self.log_tail())
            try:
                r = http_request(self.port, "GET", "/ready", timeout=2)
                if r.status == 200:
                    return True, ""
                why = "/ready answered %r" % (r,)
            except OSError as e:
                why = "connect: %s" % e
            time.sleep(0.05)
        return False, why

    @property
    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, check=True):
        """SIGTERM; waits; records (and with check=True raises on) a non-zero exit code."""
        if self.proc is None:
            return None
        proc, self.proc = self.proc, None
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            rc = proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            msg = "%s did not exit within %.0fs of SIGTERM" % (self.name, STOP_TIMEOUT)
            self.problems.append(msg)
            if check:
                raise ServerError(msg + "\n" + self.log_tail())
            return None
        if rc != 0:
            msg = "%s exited with %d after SIGTERM" % (self.name, rc)
            self.problems.append(msg)
            if check:
                raise ServerError(msg + "\n" + self.log_tail())
        self._scan_logs(check)
        return rc

    def kill9(self):
        """SIGKILL, no checks (sanitizers cannot report on SIGKILL)."""
        if self.proc is None:
            return
        proc, self.proc = self.proc, None
        proc.kill()
        proc.wait()

    def restart(self):
        self.stop()
        return self.start()

    def _scan_logs(self, check=True):
        for log in self.logs:
            try:
                text = log.read_text(errors="replace")
            except OSError:
                continue
            for m in SANITIZER_MARKERS:
                if m in text:
                    msg = "%s: %r in %s:\n%s" % (self.name, m, log, text[-4000:])
                    if msg not in self.problems:
                        self.problems.append(msg)
        if check and self.problems:
            raise ServerError("\n".join(self.problems))

    def close(self):
        """Teardown: stop if running, then report every problem seen over all runs."""
        if self.proc is not None:
            self.stop(check=False)
        self._scan_logs(check=False)
        if self.problems:
            raise ServerError("\n".join(self.problems))

    def log_text(self):
        return "".join(p.read_text(errors="replace") for p in self.logs if p.exists())

    def log_tail(self, n=3000):
        return self.log_text()[-n:]

    # -- HTTP --------------------------------------------------------------------------------

    def request(self, method, path, body=None, headers=None, timeout=30):
        return http_request(self.port, method, path, body, headers, timeout)

    def get(self, path, **params):
        if params:
            path += ("&" if "?" in path else "?") + encode_params(params)
        return self.request("GET", path)

    def post(self, path, body, headers=None, **params):
        if params:
            path += ("&" if "?" in path else "?") + encode_params(params)
        return self.request("POST", path, body, headers)

    def post_ingest(self, name, body, headers=None, path="/ingest", **params):
        """POST /ingest?name=...&<params>. Returns Response (no status check)."""
        p = {"name": name} if name is not None else {}
        p.update(params)
        return self.post(path, body, headers, **p)

    def ingest_ok(self, name, body, **params):
        r = self.post_ingest(name, body, **params)
        assert r.status == 200, "ingest %s: %r" % (name, r)
        return r

    def render_raw(self, query, path="/render", **params):
        p = {"query": query, "from": "now-1h", "until": "now", "format": "json"}
        for k, v in params.items():
            p[k[:-1] if k.endswith("_") else k] = v
        return self.get(path, **p)

    def render(self, query, path="/render", **params):
        """GET /render → parsed flamebearer JSON; asserts 200 and the structural invariants."""
        r = self.render_raw(query, path=path, **params)
        assert r.status == 200, "render %s: %r" % (query, r)
        assert r.headers.get("content-type", "").startswith("application/json"), r
        doc = r.json()
        check_flamebearer(doc)
        return doc

    def total(self, query, **params):
        return self.render(query, **params)["flamebearer"]["numTicks"]

    def get_json(self, path, **params):
        r = self.get(path, **params)
        assert r.status == 200, "%s: %r" % (path, r)
        return r.json()

    def metrics(self):
        r = self.get("/metrics")
        assert r.status == 200, r
        return parse_metrics(r.text)


# ---------------------------------------------------------------------------------------------
# Flamebearer (PROTOCOLS.md §3.3, §3.4)


def _fb(doc):
    return doc["flamebearer"] if "flamebearer" in doc else doc


def fb_nodes(doc):
    """Decoded nodes: list per level of dicts {x, total, self, name, path}."""
    fb = _fb(doc)
    names, levels = fb["names"], fb["levels"]
    out = []
    for li, lvl in enumerate(levels):
        assert len(lvl) % 4 == 0, "level %d has %d ints" % (li, len(lvl))
        row, end = [], 0
        for i in range(0, len(lvl), 4):
            dx, total, self_, ni = lvl[i:i + 4]
            assert dx >= 0 and total >= 0 and self_ >= 0, \
                "negative in level %d: %r" % (li, lvl[i:i + 4])
            assert 0 <= ni < len(names), "name index %d out of range" % ni
            x = end + dx
            row.append({"x": x, "total": total, "self": self_, "name": names[ni]})
            end = x + total
        out.append(row)
    # parents: the node on the level above whose span holds this node's span
    for li, row in enumerate(out):
        for n in row:
            if li == 0:
                n["path"] = ""
                continue
            parent = None
            for p in out[li - 1]:
                if p["x"] <= n["x"] and n["x"] + n["total"] <= p["x"] + p["total"] and \
                        (p["total"] > 0 or n["total"] == 0):
                    parent = p
                    break
            assert parent is not None, "orphan node %r at level %d" % (n, li)
            n["parent"] = parent
            n["path"] = n["name"] if li == 1 else parent["path"] + ";" + n["name"]
    return out


def fb_tree(doc):
    """{"a;b;c": (total, self)} for every node below the root."""
    res = {}
    for row in fb_nodes(doc)[1:]:
        for n in row:
            assert n["path"] not in res, "duplicate node %r" % n["path"]
            res[n["path"]] = (n["total"], n["self"])
    return res


def fb_stacks(doc):
    """{"a;b;c": self} for every node with self > 0 (what was ingested, merged)."""
    return {p: s for p, (t, s) in fb_tree(doc).items() if s}


def check_flamebearer(doc):
    """Structural invariants of a single-format flamebearer response."""
    assert doc.get("version") == 1, doc.get("version")
    fb = _fb(doc)
    for k in ("names", "levels", "numTicks", "maxSelf"):
        assert k in fb, "flamebearer lacks %r" % k
    md = doc.get("metadata", {})
    assert md.get("format") == "single", md
    names, levels = fb["names"], fb["levels"]
    if fb["numTicks"] == 0 and not any(levels):
        return
    assert names and names[0] == "total", names[:3]
    assert len(set(names)) == len(names), "names not unique"
    nodes = fb_nodes(doc)
    assert len(nodes[0]) == 1, "level 0 must hold only the root"
    root = nodes[0][0]
    assert root["x"] == 0 and root["total"] == fb["numTicks"], (root, fb["numTicks"])
    children = collections.defaultdict(list)
    for row in nodes[1:]:
        for n in row:
            children[id(n["parent"])].append(n)
    max_self = 0
    for row in nodes:
        for n in row:
            kids = children[id(n)]
            assert n["self"] + sum(k["total"] for k in kids) == n["total"], \
                "node %r: self + children != total" % n["path"]
            x = n["x"] + n["self"]  # own self span first, then children left to right
            for k in kids:
                assert k["x"] >= x, "child %r overlaps" % k["path"]
                x = k["x"] + k["total"]
            kn = [k["name"] for k in kids]
            assert len(set(kn)) == len(kn), "duplicate children under %r" % n["path"]
            max_self = max(max_self, n["self"])
    assert fb["maxSelf"] == max_self, (fb["maxSelf"], max_self)


class _Node:
    __slots__ = ("name", "self", "total", "children")

    def __init__(self, name):
        self.name, self.self, self.total, self.children = name, 0, 0, {}


def _tree(stacks):
    root = _Node("")
    for path, v in stacks.items():
        n = root
        n.total += v
        for f in path.split(";"):
            n = n.children.setdefault(f, _Node(f))
            n.total += v
        n.self += v
    return root


def expected_tree(stacks):
    """{"a;b": (total, self)} for stacks {"a;b;c": value} (folded semantics)."""
    res = {}

    def walk(n, path):
        for c in n.children.values():
            p = c.name if not path else path + ";" + c.name
            res[p] = (c.total, c.self)
            walk(c, p)

    walk(_tree(stacks), "")
    return res


def expected_flamebearer(stacks):
    """Reference encoder of PROTOCOLS.md §3.4: names in DFS visit order (last child first),
    children sorted by name after the node's own self span, x delta-encoded per level."""
    root = _tree(stacks)
    names, index, rows = [], {}, []
    todo = [(root, 0, 0)]
    max_self = 0
    while todo:
        n, level, x = todo.pop()
        name = "total" if n is root else n.name
        if name not in index:
            index[name] = len(names)
            names.append(name)
        while len(rows) <= level:
            rows.append([])
        rows[level].append((x, n.total, n.self, index[name]))
        max_self = max(max_self, n.self)
        cx = x + n.self
        for c in sorted(n.children.values(), key=lambda c: c.name.encode()):
            todo.append((c, level + 1, cx))
            cx += c.total
    levels = []
    for row in rows:
        row.sort()
        out, end = [], 0
        for x, total, self_, ni in row:
            out += [x - end, total, self_, ni]
            end = x + total
        levels.append(out)
    return {"names": names, "levels": levels, "numTicks": root.total, "maxSelf": max_self}


def scaled(stacks, factor):
    return {k: v * factor for k, v in stacks.items()}


def function_totals(doc):
    """{frame name: Σ total of nodes with that name that have no same-named ancestor}."""
    res = collections.Counter()
    for row in fb_nodes(doc)[1:]:
        for n in row:
            p, nested = n.get("parent"), False
            while p is not None:
                if p["name"] == n["name"]:
                    nested = True
                    break
                p = p.get("parent")
            if not nested:
                res[n["name"]] += n["total"]
    return res


# ---------------------------------------------------------------------------------------------
# Prometheus text


_METRIC_RE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+\S+)?$')
_LABEL_RE = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"')


def parse_metrics(text):
    """{(name, frozenset(labels)): value}; raises on a malformed sample line."""
    res = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        m = _METRIC_RE.match(line)
        assert m, "malformed metrics line %r" % line
        labels = frozenset(_LABEL_RE.findall(m.group(3) or ""))
        res[(m.group(1), labels)] = float(m.group(4))
    return res


def metric_value(metrics, name, **labels):
    """Sum of the samples of `name` whose labels include `labels` (None if no such series)."""
    want = set(labels.items())
    vals = [v for (n, ls), v in metrics.items() if n == name and want <= set(ls)]
    return sum(vals) if vals else None


# ---------------------------------------------------------------------------------------------
# Hand-made pprof (google.v1 Profile, PROTOCOLS.md §7)


def _varint(v):
    v &= (1 << 64) - 1
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _key(num, wt):
    return _varint((num << 3) | wt)


def _ld(num, data):
    return _key(num, 2) + _varint(len(data)) + data


def _vi(num, v):
    return _key(num, 0) + _varint(v)


def _packed(num, vals):
    return _ld(num, b"".join(_varint(v) for v in vals))


def make_pprof(sample_types, samples, period_type=None, period=0, time_nanos=0,
               duration_nanos=0, compress=True, strings_first=None):
    """sample_types: [(type, unit)]; samples: [(["root", ..., "leaf"], [v...], {k: v})].
    Returns the serialized (gzipped by default) profile."""
    strings = [""] + list(strings_first or [])
    sidx = {s: i for i, s in enumerate(strings)}

    def s(x):
        if x not in sidx:
            sidx[x] = len(strings)
            strings.append(x)
        return sidx[x]

    out = bytearray()
    for t, u in sample_types:
        out += _ld(1, _vi(1, s(t)) + _vi(2, s(u)))
    funcs = {}
    for frames, values, labels in samples:
        locs = []
        for f in reversed(frames):  # leaf first
            if f not in funcs:
                funcs[f] = len(funcs) + 1
            locs.append(funcs[f])
        body = _packed(1, locs) + _packed(2, values)
        for k, v in (labels or {}).items():
            if isinstance(v, int):
                body += _ld(3, _vi(1, s(k)) + _vi(3, v))
            else:
                body += _ld(3, _vi(1, s(k)) + _vi(2, s(v)))
        out += _ld(2, body)
    out += _ld(3, _vi(1, 1) + _vi(5, s("main")) + _vi(7, 1))  # one mapping, has_functions
    for name, fid in funcs.items():  # location id == function id
        out += _ld(4, _vi(1, fid) + _vi(2, 1) + _ld(4, _vi(1, fid) + _vi(2, 1)))
    for name, fid in funcs.items():
        out += _ld(5, _vi(1, fid) + _vi(2, s(name)) + _vi(3, s(name)) + _vi(4, s("main.go")))
    if time_nanos:
        out += _vi(9, time_nanos)
    if duration_nanos:
        out += _vi(10, duration_nanos)
    if period_type:
        out += _ld(11, _vi(1, s(period_type[0])) + _vi(2, s(period_type[1])))
    if period:
        out += _vi(12, period)
    for x in strings:
        out += _ld(6, x.encode())
    data = bytes(out)
    return gzip.compress(data) if compress else data


def run_threads(targets):
    """Start one thread per callable, join all, re-raise the first exception."""
    errors = []

    def wrap(fn):
        def run():
            try:
                fn()
            except BaseException as e:  # noqa: B902 - reported below
                errors.append(e)
        return run

    threads = [threading.Thread(target=wrap(t), daemon=True) for t in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not any(t.is_alive() for t in threads), "threads did not finish"
    if errors:
        raise errors[0]
