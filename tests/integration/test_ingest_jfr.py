"""format=jfr ingest (PROTOCOLS.md §1.6) against recordings made by the JDK at test time.

The JDK's Flight Recorder records tests/e2e/java/EmberJfrWorkload.java (a known hot method,
known allocations, a contended monitor, parks) once per module. The independent peer is
`jfr print --json` over the same file: per event type, Ember's totals must equal the counts and
sums derived from that JSON (never an exact sample count from the JVM, which depends on load).
A small JFR writer below makes async-profiler-shaped files (contextId, "event" setting,
profiler.* events, other string encodings, uncompressed integers) for what the JDK cannot make.
"""

import gzip
import json
import random
import re
import shutil
import struct
import subprocess

import pytest

from embertest import _ld, _vi, assert_json_error, fb_tree, multipart, uniq

CPU = "process_cpu:cpu:nanoseconds:cpu:nanoseconds"
WALL = "wall:wall:nanoseconds:wall:nanoseconds"
RATE_NS = 10_000_000  # sampleRate 100 → 1e9 / 100 ns per sample
HOT = "EmberJfrWorkload.hotLoop"

# Ember's series (profile type id) ← JDK event type, value: count or a field sum
TYPES = {
    "memory:alloc_in_new_tlab_objects:count:space:bytes": ("jdk.ObjectAllocationInNewTLAB", None),
    "memory:alloc_in_new_tlab_bytes:bytes:space:bytes": ("jdk.ObjectAllocationInNewTLAB", "tlabSize"),
    "memory:alloc_outside_tlab_objects:count:space:bytes": ("jdk.ObjectAllocationOutsideTLAB", None),
    "memory:alloc_outside_tlab_bytes:bytes:space:bytes":
        ("jdk.ObjectAllocationOutsideTLAB", "allocationSize"),
    "memory:alloc_sample_objects:count:space:bytes": ("jdk.ObjectAllocationSample", None),
    "memory:alloc_sample_bytes:bytes:space:bytes": ("jdk.ObjectAllocationSample", "weight"),
    "mutex:contentions:count:mutex:count": ("jdk.JavaMonitorEnter", None),
    "mutex:delay:nanoseconds:mutex:count": ("jdk.JavaMonitorEnter", "duration"),
    "block:contentions:count:block:count": ("jdk.ThreadPark", None),
    "block:delay:nanoseconds:block:count": ("jdk.ThreadPark", "duration"),
}
EVENTS = sorted({e for e, _ in TYPES.values()} |
                {"jdk.ExecutionSample", "jdk.NativeMethodSample"})

@pytest.fixture(autouse=True)
def _jdk_present():
    if not (shutil.which("java") and shutil.which("javac") and shutil.which("jfr")):
        pytest.fail("the JDK (java, javac, jfr) is missing: scripts/deps.sh installs "
                    "openjdk-17-jdk-headless")


# ---------------------------------------------------------------------------------------------
# The JDK peer


def iso_duration_ns(s):
    """`PT1M2.000397784S` (java.time.Duration as jfr prints it) → nanoseconds."""
    m = re.fullmatch(r"(-)?PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)(?:\.(\d+))?S)?", s)
    assert m, "unexpected duration %r" % s
    ns = (int(m.group(2) or 0) * 3600 + int(m.group(3) or 0) * 60 + int(m.group(4) or 0)) * 10**9
    ns += int(((m.group(5) or "") + "000000000")[:9])
    return -ns if m.group(1) else ns


def expected_totals(jfr_file):
    """{profile type id: total} from `jfr print --json`, as Ember must compute it."""
    out = subprocess.run(["jfr", "print", "--json", "--events", ",".join(EVENTS), str(jfr_file)],
                         check=True, capture_output=True, timeout=120).stdout
    events = [e for e in json.loads(out)["recording"]["events"]
              if e["values"].get("stackTrace") is not None]  # no stack: nothing to attribute

    def of(t):
        return [e["values"] for e in events if e["type"] == t]

    res = {
        CPU: RATE_NS * sum(1 for v in of("jdk.ExecutionSample")
                           if v.get("state") != "STATE_SLEEPING"),
        WALL: RATE_NS * len(of("jdk.NativeMethodSample")),
    }
    for ptype, (event, field) in TYPES.items():
        vals = of(event)
        if field is None:
            res[ptype] = len(vals)
        elif field == "duration":
            res[ptype] = sum(max(0, iso_duration_ns(v[field])) for v in vals)
        else:
            res[ptype] = sum(int(v[field]) for v in vals)
    return res


@pytest.fixture(scope="module")
def recording(tmp_path_factory):
    """One JDK recording of the workload (settings=profile plus TLAB events and zero lock
    thresholds), its bytes, and the totals `jfr print --json` gives for it."""
    d = tmp_path_factory.mktemp("jfr")
    src = next(p for p in __import__("pathlib").Path(__file__).resolve().parents[1]
               .joinpath("e2e", "java").glob("EmberJfrWorkload.java"))
    subprocess.run(["javac", "-d", str(d), str(src)], check=True, timeout=300)
    f = d / "rec.jfr"
    opts = ",".join(["filename=" + str(f), "settings=profile",
                     "jdk.ObjectAllocationInNewTLAB#enabled=true",
                     "jdk.ObjectAllocationOutsideTLAB#enabled=true",
                     "jdk.JavaMonitorEnter#threshold=0ms", "jdk.ThreadPark#threshold=0ms"])
    subprocess.run(["java", "-XX:StartFlightRecording=" + opts, "-cp", str(d),
                    "EmberJfrWorkload", "2500"], check=True, capture_output=True, timeout=300)
    data = f.read_bytes()
    two = d / "two.jfr"  # a two-chunk recording: chunks are self-contained
    two.write_bytes(data + data)
    return {"data": data, "want": expected_totals(f), "two": two.read_bytes(),
            "want_two": expected_totals(two)}


def totals(server, app, types):
    return {t: server.total('%s{service_name="%s"}' % (t, app)) for t in types}


# ---------------------------------------------------------------------------------------------
# JDK recordings


def test_raw_jdk_recording_totals_match_jfr_print(server, recording):
    app = uniq("jfr")
    server.ingest_ok(app, recording["data"], format="jfr", spyName="javaspy")
    want = recording["want"]
    assert want[CPU] > 0 and want["memory:alloc_sample_objects:count:space:bytes"] > 0, want
    assert totals(server, app, want) == want
    # labels Pyroscope adds for JFR
    vals = server.get_json("/label-values", label="pyroscope_spy",
                           match='{service_name="%s"}' % app)
    assert "javaspy" in json.dumps(vals)


def test_hot_method_on_top_of_cpu_flame_graph(server, recording):
    app = uniq("jfr")
    server.ingest_ok(app, recording["data"], format="jfr")
    doc = server.render('%s{service_name="%s"}' % (CPU, app))
    self_by_name = {}
    for path, (_total, self_) in fb_tree(doc).items():
        name = path.split(";")[-1]
        self_by_name[name] = self_by_name.get(name, 0) + self_
    top = max(self_by_name, key=self_by_name.get)
    assert top == HOT, sorted(self_by_name.items(), key=lambda kv: -kv[1])[:5]
    # Java frames are "package/Class.method", root first
    paths = fb_tree(doc)
    assert any(p.endswith("EmberJfrWorkload.main;" + HOT) for p in paths), list(paths)[:20]
    assert any(p.startswith("java/lang/Thread.run;") for p in paths), list(paths)[:20]


def test_multipart_gzipped_parts_and_labels(server, recording):
    app = uniq("jfr")
    labels = labels_snapshot({1: {"route": "/a"}})
    body, ctype = multipart([("jfr", "jfr", None, gzip.compress(recording["data"])),
                             ("labels", "labels", None, gzip.compress(labels))])
    r = server.post_ingest(app, body, headers={"Content-Type": ctype}, format="jfr")
    assert r.status == 200, r
    # JDK events carry no contextId: the labels part applies to nothing, totals unchanged
    assert totals(server, app, recording["want"]) == recording["want"]


def test_multi_chunk_recording(server, recording):
    app = uniq("jfr")
    server.ingest_ok(app, recording["two"], format="jfr")
    want = recording["want_two"]
    assert want == {k: 2 * v for k, v in recording["want"].items()}
    assert totals(server, app, want) == want


def test_wal_replay_gives_the_same_totals(make_server, recording):
    srv = make_server()
    app = uniq("jfr")
    body, ctype = multipart([("jfr", "jfr", None, gzip.compress(recording["data"]))])
    r = srv.post_ingest(app, body, headers={"Content-Type": ctype}, format="jfr")
    assert r.status == 200, r
    before = totals(srv, app, recording["want"])
    srv.restart()
    assert totals(srv, app, recording["want"]) == before == recording["want"]


def test_malformed_recordings_are_422_and_server_stays_up(server, recording):
    data = recording["data"]
    app = uniq("jfr")
    cases = [b"", b"FLR\0", data[:67], data[:68], data[: len(data) // 2], data[:-1],
             b"XLR\0" + data[4:], data + b"\0" * 10, data + data[:100]]
    for body in cases:
        r = server.post_ingest(app, body, format="jfr")
        assert_json_error(r, 422)
        assert "jfr" in r.json()["message"]
    rnd = random.Random(8)
    for i in range(60):  # flipped bits: 200 if it still parses, else 422, never a crash
        b = bytearray(data)
        for _ in range(1 + i % 4):
            pos = rnd.randrange(len(b))
            b[pos] ^= 1 << rnd.randrange(8)
        r = server.post_ingest(app, bytes(b), format="jfr")
        assert r.status in (200, 422), r
        if r.status != 200:
            assert_json_error(r, 422)
    assert server.get("/ready").status == 200


def test_bad_multipart_forms(make_server, recording):
    srv = make_server("-limits.max-profile-size-bytes=100000")
    app = uniq("jfr")

    def post(parts):
        body, ctype = multipart(parts)
        return srv.post_ingest(app, body, headers={"Content-Type": ctype}, format="jfr")

    assert "jfr field is required" in assert_json_error(
        post([("profile", "p", None, recording["data"])]), 422)["message"]
    assert_json_error(post([("jfr", "jfr", None, b"F")]), 422)
    assert_json_error(post([("jfr", "jfr", None, gzip.compress(recording["data"])[:-9])]), 422)
    over = post([("jfr", "jfr", None, gzip.compress(recording["data"]))])  # 276 KB > 100 KB
    assert_json_error(over, 422)
    assert "max_profile_size" in over.json()["message"]
    small = JfrWriter().execution_samples([(["a/B.c"], 1, 0, False)])
    assert_json_error(post([("jfr", "jfr", None, small), ("labels", "l", None, b"\xff\xff")]), 422)
    assert post([("jfr", "jfr", None, small)]).status == 200


# ---------------------------------------------------------------------------------------------
# async-profiler-shaped recordings, written here


def labels_snapshot(contexts, string_ids=None):
    """LabelsSnapshot {contexts [1] map<int64,Context>, strings [2] map<int64,string>};
    contexts: {context id: {name: value}}."""
    ids = dict(string_ids or {})
    for lbls in contexts.values():
        for s in [x for kv in lbls.items() for x in kv]:
            ids.setdefault(s, len(ids) + 1)
    out = b""
    for cid, lbls in contexts.items():
        ctx = b"".join(_ld(1, _vi(1, ids[k]) + _vi(2, ids[v])) for k, v in lbls.items())
        out += _ld(1, _vi(1, cid) + _ld(2, ctx))
    for s, i in ids.items():
        out += _ld(2, _vi(1, i) + _ld(2, s.encode()))
    return out


class JfrWriter:
    """A one-chunk JFR file with the classes async-profiler writes (fields looked up by name,
    so the field order here differs from the JDK's on purpose)."""

    LONG, INT, STRING, BOOL = 10, 11, 12, 13
    SYMBOL, CLASS, METHOD, FRAME, TRACE, STATE = 20, 21, 22, 23, 24, 25
    EXEC, SETTING, LIVE, WALLCLOCK = 30, 31, 32, 33

    def __init__(self, compressed=True, string_encoding=3):
        self.compressed = compressed
        self.enc = string_encoding

    # -- primitives
    def long(self, v):
        if not self.compressed:
            return struct.pack(">q", v)
        v &= (1 << 64) - 1
        out = bytearray()
        for _ in range(8):
            if v < 0x80:
                return bytes(out + bytes([v]))
            out.append((v & 0x7F) | 0x80)
            v >>= 7
        return bytes(out + bytes([v & 0xFF]))

    def int(self, v):
        return self.long(v) if self.compressed else struct.pack(">i", v)

    def string(self, s, enc=None):
        enc = self.enc if enc is None else enc
        if enc == 3:
            b = s.encode()
            return b"\x03" + self.int(len(b)) + b
        if enc == 4:
            units = struct.unpack(">%dH" % (len(s.encode("utf-16-be")) // 2), s.encode("utf-16-be"))
            return b"\x04" + self.int(len(units)) + b"".join(
                self.long(u) if self.compressed else struct.pack(">H", u) for u in units)
        b = s.encode("latin-1")
        return b"\x05" + self.int(len(b)) + b

    def event(self, payload):
        n = len(payload) + 4
        size = bytes([(n & 0x7F) | 0x80, ((n >> 7) & 0x7F) | 0x80, ((n >> 14) & 0x7F) | 0x80,
                      (n >> 21) & 0x7F]) if self.compressed else struct.pack(">i", n)
        return size + payload

    # -- metadata
    def metadata(self):
        classes = [
            (self.LONG, "long", []), (self.INT, "int", []), (self.STRING, "java.lang.String", []),
            (self.BOOL, "boolean", []),
            (self.SYMBOL, "jdk.types.Symbol", [("string", self.STRING, False, False)]),
            (self.CLASS, "java.lang.Class", [("name", self.SYMBOL, True, False)]),
            (self.METHOD, "jdk.types.Method", [("name", self.SYMBOL, True, False),
                                               ("type", self.CLASS, True, False)]),
            (self.FRAME, "jdk.types.StackFrame", [("lineNumber", self.INT, False, False),
                                                  ("method", self.METHOD, True, False)]),
            (self.TRACE, "jdk.types.StackTrace", [("truncated", self.BOOL, False, False),
                                                  ("frames", self.FRAME, False, True)]),
            (self.STATE, "jdk.types.ThreadState", [("name", self.STRING, False, False)]),
            (self.EXEC, "jdk.ExecutionSample", [("startTime", self.LONG, False, False),
                                                ("contextId", self.LONG, False, False),
                                                ("stackTrace", self.TRACE, True, False),
                                                ("state", self.STATE, True, False)]),
            (self.SETTING, "jdk.ActiveSetting", [("startTime", self.LONG, False, False),
                                                 ("id", self.LONG, False, False),
                                                 ("name", self.STRING, False, False),
                                                 ("value", self.STRING, False, False)]),
            (self.LIVE, "profiler.LiveObject", [("stackTrace", self.TRACE, True, False)]),
            (self.WALLCLOCK, "profiler.WallClockSample", [("stackTrace", self.TRACE, True, False),
                                                          ("samples", self.INT, False, False)]),
        ]
        strings = []

        def sid(s):
            if s not in strings:
                strings.append(s)
            return strings.index(s)

        def elem(name, attrs, children):
            b = self.int(sid(name)) + self.int(len(attrs))
            for k, v in attrs:
                b += self.int(sid(k)) + self.int(sid(v))
            return b + self.int(len(children)) + b"".join(children)

        cls = []
        for cid, name, fields in classes:
            fl = []
            for fname, ftype, cp, arr in fields:
                a = [("name", fname), ("class", str(ftype))]
                if cp:
                    a.append(("constantPool", "true"))
                if arr:
                    a.append(("dimension", "1"))
                fl.append(elem("field", a, []))
            cls.append(elem("class", [("id", str(cid)), ("name", name)], fl))
        tree = elem("root", [], [elem("metadata", [], cls), elem("region", [], [])])
        table = self.int(len(strings)) + b"".join(self.string(s, 4) for s in strings)
        return self.event(self.long(0) + self.long(0) + self.long(0) + self.long(1) + table + tree)

    # -- file
    def build(self, stacks, samples, settings=(), live=(), wallclock=()):
        """stacks: [[frame "pkg/Class.method", ...] root first]; samples: [(stack index,
        context id, sleeping)]; live: [stack index]; wallclock: [(stack index, samples)]."""
        syms, methods = {}, {}
        for st in stacks:
            for fr in st:
                cls, meth = fr.rsplit(".", 1)
                syms.setdefault(cls, len(syms) + 1)
                syms.setdefault(meth, len(syms) + 1)
                methods.setdefault((cls, meth), len(methods) + 1)
        classes = {c: i + 1 for i, c in enumerate(sorted({c for c, _ in methods}))}
        body = b""
        for text, val in settings:
            body += self.event(self.long(self.SETTING) + self.long(5) + self.long(1) +
                               self.string(text) + self.string(val))
        for st, ctx, sleeping in samples:
            body += self.event(self.long(self.EXEC) + self.long(7) + self.long(ctx) +
                               self.long(st + 1) + self.long(2 if sleeping else 1))
        for st in live:
            body += self.event(self.long(self.LIVE) + self.long(st + 1))
        for st, n in wallclock:
            body += self.event(self.long(self.WALLCLOCK) + self.long(st + 1) + self.int(n))

        def pool(cid, entries):
            return self.long(cid) + self.int(len(entries)) + b"".join(
                self.long(i) + v for i, v in entries)

        # two checkpoints linked by a back offset: symbols in the first, the rest in the last
        cp1 = [pool(self.SYMBOL, [(i, self.string(s)) for s, i in syms.items()])]
        cp2 = [pool(self.STRING, [(1, self.string("STATE_RUNNABLE")),
                                  (2, self.string("STATE_SLEEPING"))]),
               pool(self.CLASS, [(i, self.long(syms[c])) for c, i in classes.items()]),
               pool(self.METHOD, [(i, self.long(syms[m]) + self.long(classes[c]))
                                  for (c, m), i in methods.items()]),
               pool(self.STATE, [(1, b"\x02" + self.long(1)), (2, b"\x02" + self.long(2))]),
               pool(self.TRACE, [(i + 1, b"\x00" + self.int(len(st)) + b"".join(
                   self.int(10 + k) + self.long(methods[tuple(fr.rsplit(".", 1))])
                   for k, fr in enumerate(reversed(st)))) for i, st in enumerate(stacks)])]
        meta = self.metadata()

        def checkpoint(delta, pools):
            return self.event(self.long(1) + self.long(0) + self.long(0) + self.long(delta) +
                              b"\x00" + self.int(len(pools)) + b"".join(pools))

        off_meta = 68 + len(body)
        off_cp1 = off_meta + len(meta)
        c1 = checkpoint(0, cp1)
        off_cp2 = off_cp1 + len(c1)
        c2 = checkpoint(off_cp1 - off_cp2, cp2)
        size = off_cp2 + len(c2)
        header = b"FLR\0" + struct.pack(">HHqqqqqqqI", 2, 1, size, off_cp2, off_meta,
                                        1_700_000_000 * 10**9, 10**9, 0, 10**9,
                                        1 if self.compressed else 0)
        return header + body + meta + c1 + c2

    def execution_samples(self, rows):
        """rows: [(stack root first, count, context id, sleeping)] → a file."""
        stacks = [r[0] for r in rows]
        samples = [(i, ctx, sl) for i, (_, n, ctx, sl) in enumerate(rows) for _ in range(n)]
        return self.build(stacks, samples)


STACK_A = ["com/example/App.main", "com/example/App.work", "com/example/App.leaf"]
STACK_B = ["com/example/App.main", "com/example/App.idle"]


@pytest.mark.parametrize("compressed,enc", [(True, 3), (True, 4), (False, 5), (False, 3)])
def test_context_labels_become_series(server, compressed, enc):
    w = JfrWriter(compressed=compressed, string_encoding=enc)
    data = w.build([STACK_A, STACK_B],
                   [(0, 1, False)] * 3 + [(1, 2, False)] * 2 + [(0, 3, False), (1, 0, True),
                                                                (1, 0, False)],
                   settings=[("event", "itimer")])
    labels = labels_snapshot({1: {"route": "/a"}, 2: {"route": "/b"}, 3: {"route": "/a"}})
    app = uniq("ap")
    body, ctype = multipart([("jfr", "jfr", None, data), ("labels", "labels", None, labels)])
    r = server.post_ingest(app, body, headers={"Content-Type": ctype}, format="jfr",
                           spyName="javaspy")
    assert r.status == 200, r
    sel = '%s{service_name="%s"%s}'
    assert server.total(sel % (CPU, app, "")) == 7 * RATE_NS  # the sleeping one is no CPU
    assert server.total(sel % (CPU, app, ',route="/a"')) == 4 * RATE_NS
    assert server.total(sel % (CPU, app, ',route="/b"')) == 2 * RATE_NS
    assert server.total(sel % (CPU, app, ',jfr_event="itimer"')) == 7 * RATE_NS
    tree = fb_tree(server.render(sel % (CPU, app, ',route="/a"')))
    assert tree["com/example/App.main;com/example/App.work;com/example/App.leaf"] == \
        (4 * RATE_NS, 4 * RATE_NS)
    assert server.total(sel % (WALL, app, "")) == 0  # not in wall mode


def test_wall_mode_live_objects_and_wallclock_events(server):
    w = JfrWriter()
    data = w.build([STACK_A, STACK_B], [(0, 0, False), (1, 0, True)],
                   settings=[("event", "wall")], live=[0, 0, 1], wallclock=[(1, 5)])
    app = uniq("ap")
    server.ingest_ok(app, data, format="jfr", sampleRate="50")
    sel = '%s{service_name="%s",jfr_event="wall"}'
    assert server.total(sel % (CPU, app)) == 20_000_000
    assert server.total(sel % (WALL, app)) == (2 + 5) * 20_000_000
    assert server.total(sel % ("memory:live:count:objects:count", app)) == 3


def test_generated_class_names_merge(server):
    # lambda classes of two JVM runs are one frame, as in grafana/jfr-parser
    runs = [["com/example/App.main", "com/example/App$$Lambda$12.0x0000000801234abc.run"],
            ["com/example/App.main", "com/example/App$$Lambda$97/0x00000008019f0c40.run"],
            ["com/example/App.main", "jdk/internal/reflect/GeneratedMethodAccessor31.invoke"]]
    data = JfrWriter().execution_samples([(st, 1, 0, False) for st in runs])
    app = uniq("ap")
    server.ingest_ok(app, data, format="jfr")
    tree = fb_tree(server.render('%s{service_name="%s"}' % (CPU, app)))
    assert tree["com/example/App.main;com/example/App$$Lambda_.run"] == (2 * RATE_NS,) * 2
    assert tree["com/example/App.main;jdk/internal/reflect/GeneratedMethodAccessor_.invoke"] \
        == (RATE_NS,) * 2
