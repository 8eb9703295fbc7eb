"""Helpers of libember's integration tests (tests/integration/test_agent_*.py).

- `agent_paths()`: libember.so and the workloads of tests/agent/ in the build that EMBER_BIN
  belongs to; for an ASan build (where libember is not built: it replaces malloc, which ASan
  owns) the sibling non-ASan build dir is used when it exists, else the tests skip.
- `decode_pprof(bytes)`: a small google.v1 Profile decoder (gzip or raw) into Python
  objects: sample types, samples as (function names leaf first, values, labels).
- `CaptureServer`: a loopback HTTP server that records requests and answers with a chosen
  status, or closes connections without answering (a crashing server).
- `run(cmd, env)`: runs a workload with a timeout and returns (code, stdout, stderr).
"""

import gzip
import http.server
import os
import socketserver
import subprocess
import threading
import urllib.parse
from pathlib import Path

import pytest
from embertest import ember_bin

REPO = Path(__file__).resolve().parents[2]


class AgentPaths:
    def __init__(self, build):
        self.build = build
        self.lib = build / "src" / "agent" / "libember.so"
        # `ember record` of the binary under test (EMBER_BIN), libember from this build
        self.ember = ember_bin()
        w = build / "tests" / "agent"
        self.cpu_split = w / "agent_cpu_split"
        self.alloc_pattern = w / "agent_alloc_pattern"
        self.chaos = w / "agent_chaos"
        self.api = w / "agent_api"
        self.cxx = w / "agent_cxx_work"


def agent_paths():
    """EMBER_AGENT_BUILD (a build dir) wins; else the build dir of EMBER_BIN."""
    if os.environ.get("EMBER_AGENT_BUILD"):
        ap = AgentPaths(Path(os.environ["EMBER_AGENT_BUILD"]).resolve())
        if ap.lib.exists():
            return ap
    p = Path(os.environ.get("EMBER_BIN", "build/ember"))
    if not p.is_absolute():
        p = p if p.exists() else REPO / p
    build = p.resolve().parent
    cands = [build]
    if build.name.endswith("-asan"):
        cands.append(build.with_name(build.name[: -len("-asan")]))
    for b in cands:
        ap = AgentPaths(b)
        if ap.lib.exists() and ap.cpu_split.exists():
            return ap
    pytest.fail("libember.so is not built next to %s (ASan builds do not build it: it "
                "replaces malloc, which ASan owns); build a normal dir too" % p)


def run(cmd, env=None, timeout=120):
    full = dict(os.environ)
    for k in list(full):
        if k.startswith("EMBER_") and k not in ("EMBER_BIN", "EMBER_AGENT_BUILD") or k.startswith("PYROSCOPE_") or \
                k == "LD_PRELOAD":
            del full[k]
    full.update(env or {})
    r = subprocess.run([str(c) for c in cmd], env=full, capture_output=True, text=True,
                       timeout=timeout)
    return r.returncode, r.stdout, r.stderr


# ---------------------------------------------------------------------------------------------
# protobuf / pprof


def _varint(b, i):
    v = shift = 0
    while True:
        c = b[i]
        i += 1
        v |= (c & 0x7F) << shift
        shift += 7
        if c < 0x80:
            return v, i


def _fields(b):
    i = 0
    while i < len(b):
        key, i = _varint(b, i)
        f, wt = key >> 3, key & 7
        if wt == 0:
            v, i = _varint(b, i)
        elif wt == 2:
            n, i = _varint(b, i)
            v = b[i:i + n]
            i += n
        elif wt == 1:
            v = int.from_bytes(b[i:i + 8], "little")
            i += 8
        elif wt == 5:
            v = int.from_bytes(b[i:i + 4], "little")
            i += 4
        else:
            raise ValueError("wire type %d" % wt)
        yield f, wt, v


def _ints(wt, v):
    if wt == 0:
        return [v]
    out, i = [], 0
    while i < len(v):
        x, i = _varint(v, i)
        out.append(x)
    return out


def _signed(x):
    return x - (1 << 64) if x >= 1 << 63 else x


class Profile:
    def __init__(self):
        self.sample_types = []   # [(type, unit)]
        self.samples = []        # [(names leaf first, [values], {key: value})]
        self.mappings = []       # [dict]
        self.period_type = None
        self.period = 0
        self.time_nanos = 0

    def total(self, index):
        return sum(s[1][index] for s in self.samples)

    def index(self, type_name):
        return [t for t, _ in self.sample_types].index(type_name)

    def by_leaf(self, index):
        out = {}
        for names, vals, _ in self.samples:
            leaf = names[0] if names else ""
            out[leaf] = out.get(leaf, 0) + vals[index]
        return out

    def by_function(self, index):
        """Inclusive values: each function counted once per sample it appears in."""
        out = {}
        for names, vals, _ in self.samples:
            for n in set(names):
                out[n] = out.get(n, 0) + vals[index]
        return out


def decode_pprof(data):
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    strs, raw_samples, locs, funcs, vts = [], [], {}, {}, []
    p = Profile()
    for f, wt, v in _fields(data):
        if f == 6:
            strs.append(v.decode("utf-8", "replace"))
        elif f == 1:
            d = {ff: vv for ff, _, vv in _fields(v)}
            vts.append((d.get(1, 0), d.get(2, 0)))
        elif f == 2:
            lids, vals, labels = [], [], []
            for ff, wt2, vv in _fields(v):
                if ff == 1:
                    lids += _ints(wt2, vv)
                elif ff == 2:
                    vals += [_signed(x) for x in _ints(wt2, vv)]
                elif ff == 3:
                    d = {a: b for a, _, b in _fields(vv)}
                    labels.append((d.get(1, 0), d.get(2, 0)))
            raw_samples.append((lids, vals, labels))
        elif f == 3:
            p.mappings.append({ff: vv for ff, _, vv in _fields(v)})
        elif f == 4:
            lid, fids = 0, []
            for ff, _, vv in _fields(v):
                if ff == 1:
                    lid = vv
                elif ff == 4:
                    fids.append({a: b for a, _, b in _fields(vv)}.get(1, 0))
            locs[lid] = fids
        elif f == 5:
            d = {ff: vv for ff, _, vv in _fields(v)}
            funcs[d.get(1, 0)] = d.get(2, 0)
        elif f == 11:
            d = {ff: vv for ff, _, vv in _fields(v)}
            p.period_type = (d.get(1, 0), d.get(2, 0))
        elif f == 12:
            p.period = v
        elif f == 9:
            p.time_nanos = v
    assert strs and strs[0] == "", "string_table[0] must be empty"
    p.sample_types = [(strs[t], strs[u]) for t, u in vts]
    if p.period_type:
        p.period_type = (strs[p.period_type[0]], strs[p.period_type[1]])
    for m in p.mappings:
        m["filename"] = strs[m.get(5, 0)]
        m["build_id"] = strs[m.get(6, 0)]
    for lids, vals, labels in raw_samples:
        names = []
        for lid in lids:
            for fid in locs[lid]:
                names.append(strs[funcs[fid]])
        p.samples.append((names, vals, {strs[k]: strs[v] for k, v in labels}))
    return p


# ---------------------------------------------------------------------------------------------
# capture server


class CaptureServer:
    """Records every request; answers `status` (int), or with mode="close" closes the
    connection after reading the request (a server that crashes on every upload)."""

    def __init__(self, status=200, mode="answer"):
        self.requests = []
        self.status = status
        self.mode = mode
        outer = self

        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_POST(self):
                n = int(self.headers.get("Content-Length", 0) or 0)
                body = self.rfile.read(n) if n else b""
                u = urllib.parse.urlsplit(self.path)
                outer.requests.append({
                    "path": u.path, "query": urllib.parse.parse_qs(u.query),
                    "headers": {k.lower(): v for k, v in self.headers.items()},
                    "body": body})
                if outer.mode == "close":
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                self.send_response(outer.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
            daemon_threads = True
            allow_reuse_address = True

        self.httpd = S(("127.0.0.1", 0), H)
        self.port = self.httpd.server_address[1]
        self.url = "http://127.0.0.1:%d" % self.port
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
