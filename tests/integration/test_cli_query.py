"""`ember query` against a running server (issue 5, Must have 7): merge prints a top table with
the right top function and total, or writes a pprof that `go tool pprof` reads, or collapsed
text equal to the ingested stacks; series prints the points; labels lists names and values;
diff prints the two totals and the grown function first; --tenant sends X-Scope-OrgID;
failures exit non-zero with the server's message."""

import re
import subprocess

import pytest

from embertest import NS, ember_bin, now, uniq
from pproftop import pprof_top

BEFORE = {"main;work;hot": 70, "main;work;cold": 20, "main;idle": 10}
AFTER = {"main;work;hot": 20, "main;work;cold": 15, "main;idle": 5, "main;json;parse": 60}


def folded(stacks):
    return "".join("%s %d\n" % kv for kv in stacks.items()).encode()


def merged(*all_):
    out = {}
    for s in all_:
        for k, v in s.items():
            out[k] = out.get(k, 0) + v
    return out


@pytest.fixture(scope="module")
def app(server):
    name = uniq("cli")
    t1, t2 = now() - 1800, now() - 300
    server.ingest_ok(name + ".cpu{env=prod}", folded(BEFORE), from_=t1, until=t1 + 10)
    server.ingest_ok(name + ".cpu{env=canary}", folded(AFTER), from_=t2, until=t2 + 10)
    return {"name": name, "t1": t1, "t2": t2, "url": "http://127.0.0.1:%d" % server.port}


def ember(*args, check=True):
    r = subprocess.run([str(ember_bin()), "query"] + list(args), capture_output=True, text=True,
                       timeout=60)
    if check:
        assert r.returncode == 0, "ember query %s: %d\n%s%s" % (args, r.returncode, r.stdout,
                                                                 r.stderr)
    return r


def top_table(out):
    """{function: (self, total)} and the grand total of `ember query merge`'s table."""
    rows, grand, order = {}, None, []
    lines = out.strip().splitlines()
    assert lines[0].split() == ["self", "self%", "total", "total%", "function"], lines[0]
    for line in lines[1:]:
        m = re.match(r"^\s*(\d+)\s+[\d.]+%\s+(\d+)\s+[\d.]+%\s+(.+)$", line)
        if m:
            rows[m.group(3)] = (int(m.group(1)), int(m.group(2)))
            order.append(m.group(3))
            continue
        m = re.match(r"^total (\d+)$", line)
        assert m, "unexpected line %r" % line
        grand = int(m.group(1))
    return rows, grand, order


def expected_top(stacks):
    res = {}
    for path, v in stacks.items():
        frames = path.split(";")
        for f in set(frames):
            s, t = res.get(f, (0, 0))
            res[f] = (s, t + v * NS)
        s, t = res[frames[-1]]
        res[frames[-1]] = (s + v * NS, t)
    return res


def test_merge_top_table(app):
    r = ember("merge", "--server", app["url"], "--query", app["name"] + ".cpu")
    rows, grand, order = top_table(r.stdout)
    all_ = merged(BEFORE, AFTER)
    assert grand == sum(all_.values()) * NS
    assert rows == expected_top(all_)
    assert order[0] == "hot"  # 90: the largest self
    selfs = [rows[f][0] for f in order]
    assert selfs == sorted(selfs, reverse=True)
    # --top and a selector with a profile type id and labels
    q = 'process_cpu:cpu:nanoseconds:cpu:nanoseconds{service_name="%s",env="canary"}' % app["name"]
    r = ember("merge", "--server", app["url"], "--query", q, "--top", "1")
    rows, grand, order = top_table(r.stdout)
    assert order == ["parse"] and grand == sum(AFTER.values()) * NS
    assert rows["parse"] == (60 * NS, 60 * NS)


def test_merge_output_pprof_reads_in_go_tool_pprof(app, tmp_path):
    out = tmp_path / "merge.pb.gz"
    r = ember("merge", "--server", app["url"], "--query", app["name"] + ".cpu", "--output",
              str(out))
    assert "wrote" in r.stderr and out.stat().st_size > 0
    assert out.read_bytes()[:2] == b"\x1f\x8b"
    total, rows = pprof_top(out, tmp_path)
    all_ = merged(BEFORE, AFTER)
    assert total == sum(all_.values()) * NS
    assert {f: (fl, cu) for f, fl, cu in rows} == expected_top(all_)
    assert rows[0][0] == "hot"


def test_merge_output_collapsed(app, tmp_path):
    out = tmp_path / "merge.txt"
    ember("merge", "--server", app["url"], "--query", app["name"] + ".cpu{env=\"prod\"}",
          "--output", str(out), "--format", "collapsed")
    got = {}
    for line in out.read_text().splitlines():
        stack, v = line.rsplit(" ", 1)
        got[stack] = got.get(stack, 0) + int(v)
    assert got == {k: v * NS for k, v in BEFORE.items()}


def test_series(app):
    r = ember("series", "--server", app["url"], "--query", app["name"] + ".cpu")
    lines = r.stdout.strip().splitlines()
    assert lines[0].split() == ["time", "value"]
    pts = [tuple(int(x) for x in line.split()) for line in lines[1:]]
    assert [v for _, v in pts] == [sum(BEFORE.values()) * NS, sum(AFTER.values()) * NS], pts
    # each point's time is the timeline edge that holds the profile: the first one at or
    # after the profile's time (PROTOCOLS.md §3.5), steps are 15 s for an hour
    (e1, _), (e2, _) = pts
    assert e1 - 15 < app["t1"] <= e1 and e2 - 15 < app["t2"] <= e2, (pts, app)


def test_labels(app):
    q = app["name"] + ".cpu"
    r = ember("labels", "--server", app["url"], "--query", q)
    names = r.stdout.split()
    assert "env" in names and "service_name" in names, names
    r = ember("labels", "--server", app["url"], "--query", q, "--label", "env")
    assert r.stdout.split() == ["canary", "prod"]
    r = ember("labels", "--server", app["url"], "--label", "service_name")
    assert app["name"] in r.stdout.split()


def test_diff_prints_the_grown_function_first(app):
    q = app["name"] + ".cpu"
    r = ember("diff", "--server", app["url"], "--left-query", q, "--right-query", q,
              "--left-from", str(app["t1"] - 60), "--left-until", str(app["t1"] + 60),
              "--right-from", str(app["t2"] - 60), "--right-until", str(app["t2"] + 60))
    lines = r.stdout.strip().splitlines()
    assert lines[0] == "left total %d, right total %d" % (sum(BEFORE.values()) * NS,
                                                           sum(AFTER.values()) * NS), lines[0]
    rows = [line.split() for line in lines[2:]]
    # parse: 0% → 60% self (and json's total 0% → 60%: the same change, so either is first;
    # both come before everything else)
    assert {rows[0][-1], rows[1][-1]} == {"parse", "json"}, lines
    parse = [row for row in rows if row[-1] == "parse"][0]
    assert parse[:6] == ["0.00%", "60.00%", "+60.00%", "0.00%", "60.00%", "+60.00%"], parse
    hot = [row for row in rows if row[-1] == "hot"][0]
    assert hot[:3] == ["70.00%", "20.00%", "-50.00%"], hot
    r = ember("diff", "--server", app["url"], "--left-query", q, "--right-query", q,
              "--top", "1", "--left-from", str(app["t1"] - 60), "--left-until",
              str(app["t1"] + 60), "--right-from", str(app["t2"] - 60))
    assert len(r.stdout.strip().splitlines()) == 3


def test_tenant_flag(make_server):
    srv = make_server("-auth.multitenancy-enabled=true")
    name = uniq("clit")
    r = srv.post_ingest(name + ".cpu", b"main;t 4\n", headers={"X-Scope-OrgID": "acme"})
    assert r.status == 200, r
    url = "http://127.0.0.1:%d" % srv.port
    r = ember("merge", "--server", url, "--query", name + ".cpu", "--tenant", "acme")
    assert top_table(r.stdout)[1] == 4 * NS
    r = ember("merge", "--server", url, "--query", name + ".cpu", "--tenant", "other")
    assert top_table(r.stdout)[1] == 0
    r = ember("merge", "--server", url, "--query", name + ".cpu", check=False)
    assert r.returncode == 1 and "401" in r.stderr, r


def test_errors(app):
    r = ember("merge", "--server", app["url"], "--query", "x{", check=False)
    assert r.returncode == 1 and "400" in r.stderr and "selector" in r.stderr, r
    r = ember("merge", "--server", app["url"], check=False)
    assert r.returncode == 2 and "--query" in r.stderr, r
    r = ember("merge", "--server", "http://127.0.0.1:1", "--query", "x", check=False)
    assert r.returncode == 1 and "cannot connect" in r.stderr, r
    r = ember("nosuch", "--server", app["url"], check=False)
    assert r.returncode == 2, r
