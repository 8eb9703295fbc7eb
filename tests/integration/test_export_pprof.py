"""pprof exported by Ember loads in `go tool pprof` (Debian golang-go, offline) with the same
total and the same functions as the ingested data: /render?format=pprof (gzipped) and the
Connect SelectMergeProfile answer (raw google.v1.Profile), for hand-made folded data and for a
real Go CPU profile from tests/e2e/go/gen (compared with `go tool pprof` on the original)."""

import gzip

import pytest

from connecttest import PROTO, f_bytes, f_varint, fields, pb_decode, rpc
from pproftop import pprof_top
from embertest import CPU, NS, now, uniq

ALLOC = "memory:alloc_objects:count::"
STACKS = {"main;work;hot": 70, "main;work;cold": 20, "main;idle": 10, "gc": 5}


def expected_rows(stacks, scale=1):
    """{function: (flat, cum)} of folded stacks (cum counts a function once per stack)."""
    res = {}
    for path, v in stacks.items():
        frames = path.split(";")
        for f in set(frames):
            flat, cum = res.get(f, (0, 0))
            res[f] = (flat, cum + v * scale)
        flat, cum = res[frames[-1]]
        res[frames[-1]] = (flat + v * scale, cum)
    return res


@pytest.fixture(scope="module")
def app(server):
    name = uniq("pprofexp")
    t = now() - 300
    server.ingest_ok(name + ".cpu", "".join("%s %d\n" % kv for kv in STACKS.items()).encode(),
                     from_=t, until=t + 10)
    server.ingest_ok(name + ".alloc_objects", b"main;alloc;small 7\nmain;alloc;big 3\n",
                     from_=t, until=t + 10)
    return {"name": name, "t": t}


def check_against(total, rows, stacks, scale=1):
    want = expected_rows(stacks, scale)
    assert total == sum(stacks.values()) * scale
    assert {f: (flat, cum) for f, flat, cum in rows} == want
    # the top function (largest flat) is the hottest leaf
    top = max(want.items(), key=lambda kv: kv[1][0])[0]
    assert rows[0][0] == top, rows


def test_render_pprof_loads_in_go_tool_pprof(server, app, tmp_path):
    r = server.render_raw('%s{service_name="%s"}' % (CPU, app["name"]), format="pprof")
    assert r.status == 200, r
    assert r.body[:2] == b"\x1f\x8b", "not gzipped"
    path = tmp_path / "cpu.pb.gz"
    path.write_bytes(r.body)
    total, rows = pprof_top(path, tmp_path)
    check_against(total, rows, STACKS, NS)
    # the period type of the profile type is kept (cpu/nanoseconds)
    prof = gzip.decompress(r.body)
    strings = [x.decode() for x in fields(prof, 6)]
    pt = {num: v for num, _, v in pb_decode(fields(prof, 11)[0])}
    assert (strings[pt[1]], strings[pt[2]]) == ("cpu", "nanoseconds")
    # the legacy app-name form and a count type
    r = server.render_raw(app["name"] + ".alloc_objects", format="pprof")
    assert r.status == 200, r
    path.write_bytes(r.body)
    total, rows = pprof_top(path, tmp_path)
    check_against(total, rows, {"main;alloc;small": 7, "main;alloc;big": 3})


def test_select_merge_profile_loads_in_go_tool_pprof(server, app, tmp_path):
    t = app["t"]
    body = (f_bytes(1, CPU) + f_bytes(2, '{service_name="%s"}' % app["name"]) +
            f_varint(3, (t - 600) * 1000) + f_varint(4, (t + 600) * 1000))
    r = rpc(server, "SelectMergeProfile", body, PROTO)
    assert r.status == 200 and r.headers["content-type"] == "application/proto", r
    path = tmp_path / "merge.pb"
    path.write_bytes(r.body)  # raw, not gzipped: pprof reads both
    total, rows = pprof_top(path, tmp_path)
    check_against(total, rows, STACKS, NS)


def test_real_go_profile_round_trip(server, go_profiles, tmp_path):
    """Ingest the Go program's CPU profile, export it, and compare go tool pprof's view of
    both: same total, same flat and cum per function (pprof -top groups by function name,
    as Ember's tree does)."""
    app = uniq("gopprofexp")
    server.ingest_ok(app, go_profiles.data("cpu.pb.gz"), format="pprof", from_=now() - 60)
    want_total, want_rows = pprof_top(go_profiles.path("cpu.pb.gz"), tmp_path, "cpu")
    assert want_total == go_profiles.file("cpu.pb.gz")["sums"][1]

    r = server.render_raw('%s{service_name="%s"}' % (CPU, app), format="pprof")
    assert r.status == 200, r
    path = tmp_path / "export.pb.gz"
    path.write_bytes(r.body)
    total, rows = pprof_top(path, tmp_path)
    assert total == want_total
    # pprof marks a function inlined into its caller "f (inline)"; Ember's tree keeps frames
    # by name only, so the export shows plain "f" (same values)
    def by_name(rs):
        out = {}
        for f, fl, cu in rs:
            f = f[:-len(" (inline)")] if f.endswith(" (inline)") else f
            o = out.get(f, (0, 0))
            out[f] = (o[0] + fl, o[1] + cu)
        return out

    assert by_name(rows) == by_name(want_rows)
    # same hottest functions (ties in flat may be listed in either order)
    def top(rs):
        d = by_name(rs)
        best = sorted({fl for fl, _ in d.values()}, reverse=True)[:3]
        return {f for f, (fl, _) in d.items() if fl in best}

    assert top(rows) == top(want_rows)
    assert rows[0][1] == want_rows[0][1]  # the first row's flat value
    # main.* inclusive totals equal the Go program's own sums
    by_fn = go_profiles.file("cpu.pb.gz")["by_function"]
    cum = {f: cu for f, _, cu in rows}
    for fn, sums in by_fn.items():
        assert cum.get(fn) == sums[1], (fn, cum.get(fn), sums[1])
