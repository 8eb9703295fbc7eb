"""Diff (issue 5): /render-diff and /pyroscope/render-diff give leftTicks/rightTicks equal to
the two single /render numTicks and an aligned tree whose two sides are the single trees;
the Connect Diff answers the same levels; /api/diff/top ranks the function whose share grew
most first, with exact self/total values and shares normalised by each side's total
(recursion counted once)."""

import collections

import pytest

from connecttest import rpc_json
from embertest import CPU, NS, assert_json_error, fb_tree, now, uniq

# A "deploy" between two windows of one service: parse() got hot, render() cooled down.
BEFORE = {"main;a;parse": 10, "main;a": 20, "main;b;render": 60, "main;rec;rec;rec": 10}
AFTER = {"main;a;parse": 120, "main;a": 20, "main;b;render": 50, "main;rec;rec;rec": 10}


def folded(stacks):
    return "".join("%s %d\n" % kv for kv in stacks.items()).encode()


@pytest.fixture(scope="module")
def app(server):
    name = uniq("diff")
    t1, t2 = now() - 1800, now() - 600
    server.ingest_ok(name + ".cpu", folded(BEFORE), from_=t1, until=t1 + 10)
    server.ingest_ok(name + ".cpu", folded(AFTER), from_=t2, until=t2 + 10)
    # another service in the same windows, to show selectors apply per side
    server.ingest_ok(name + "_other.cpu", b"main;x 1000\n", from_=t1, until=t1 + 10)
    server.ingest_ok(name + ".alloc_objects", b"main;alloc 5\n", from_=t2, until=t2 + 10)
    q = '%s{service_name="%s"}' % (CPU, name)
    return {"name": name, "q": q, "left": dict(query=q, from_=t1 - 60, until=t1 + 60),
            "right": dict(query=q, from_=t2 - 60, until=t2 + 60), "t1": t1, "t2": t2}


def diff_params(app, left=None, right=None):
    left, right = left or app["left"], right or app["right"]
    return {"leftQuery": left["query"], "leftFrom": left["from_"], "leftUntil": left["until"],
            "rightQuery": right["query"], "rightFrom": right["from_"],
            "rightUntil": right["until"]}


def diff_tree(fb):
    """7-int levels → {"a;b": (l_total, l_self, r_total, r_self)}. Nodes are placed on the sum
    of both x axes, where each child lies inside its parent's span."""
    names, rows = fb["names"], []
    for lvl in fb["levels"]:
        assert len(lvl) % 7 == 0
        end, row = [0, 0], []
        for i in range(0, len(lvl), 7):
            v = lvl[i:i + 7]
            xs = []
            for s in range(2):
                dx, tot, self_ = v[3 * s:3 * s + 3]
                assert dx >= 0 and tot >= self_ >= 0
                xs.append(end[s] + dx)
                end[s] = xs[-1] + tot
            row.append({"x": sum(xs), "w": v[1] + v[4], "v": (v[1], v[2], v[4], v[5]),
                        "name": names[v[6]]})
        rows.append(row)
    assert len(rows[0]) == 1 and rows[0][0]["name"] == "total"
    rows[0][0]["path"] = ""
    res = {}
    for li in range(1, len(rows)):
        for n in rows[li]:
            ps = [p for p in rows[li - 1]
                  if p["w"] > 0 and p["x"] <= n["x"] and n["x"] + n["w"] <= p["x"] + p["w"]]
            assert len(ps) == 1, (n, ps)
            n["path"] = n["name"] if li == 1 else ps[0]["path"] + ";" + n["name"]
            assert n["path"] not in res
            res[n["path"]] = n["v"]
    return res, rows[0][0]["v"]


@pytest.mark.parametrize("path", ["/render-diff", "/pyroscope/render-diff"])
def test_render_diff_ticks_equal_single_renders(server, app, path):
    left = server.render(**app["left"])
    right = server.render(**app["right"])
    assert left["flamebearer"]["numTicks"] == sum(BEFORE.values()) * NS
    assert right["flamebearer"]["numTicks"] == sum(AFTER.values()) * NS
    r = server.get(path, **diff_params(app))
    assert r.status == 200, r
    doc = r.json()
    assert doc["metadata"]["format"] == "double", doc["metadata"]
    assert doc["leftTicks"] == left["flamebearer"]["numTicks"]
    assert doc["rightTicks"] == right["flamebearer"]["numTicks"]
    fb = doc["flamebearer"]
    assert fb["numTicks"] == doc["leftTicks"] + doc["rightTicks"]
    tree, root = diff_tree(fb)
    assert root == (doc["leftTicks"], 0, doc["rightTicks"], 0)
    lt, rt = fb_tree(left), fb_tree(right)
    assert set(tree) == set(lt) | set(rt)
    for p, (ltot, lself, rtot, rself) in tree.items():
        assert (ltot, lself) == lt.get(p, (0, 0)), p
        assert (rtot, rself) == rt.get(p, (0, 0)), p
    assert fb["maxSelf"] == max(max(v[1], v[3]) for v in tree.values())


def test_render_diff_other_selectors_and_ranges(server, app):
    """Both sides over the whole hour with different selectors: still the single totals."""
    other = '%s{service_name="%s_other"}' % (CPU, app["name"])
    left = dict(query=app["q"], from_="now-1h", until="now")
    right = dict(query=other, from_="now-1h", until="now")
    doc = server.get_json("/render-diff", **diff_params(app, left, right))
    assert doc["leftTicks"] == server.total(**left) == sum(BEFORE.values()) * NS + \
        sum(AFTER.values()) * NS
    assert doc["rightTicks"] == server.total(**right) == 1000 * NS
    # an empty side: zero ticks, the other side intact
    empty = dict(query='%s{service_name="nothing_here"}' % CPU, from_="now-1h", until="now")
    doc = server.get_json("/render-diff", **diff_params(app, left, empty))
    assert doc["rightTicks"] == 0 and doc["leftTicks"] == server.total(**left)


def test_connect_diff_same_levels_as_render_diff(server, app):
    doc = server.get_json("/render-diff", **diff_params(app))

    def side(s):
        return {"profileTypeID": CPU, "labelSelector": '{service_name="%s"}' % app["name"],
                "start": str(s["from_"] * 1000), "end": str(s["until"] * 1000)}

    fg = rpc_json(server, "Diff", {"left": side(app["left"]), "right": side(app["right"])})
    fg = fg["flamegraph"]
    assert int(fg["leftTicks"]) == doc["leftTicks"] and int(fg["rightTicks"]) == doc["rightTicks"]
    assert fg["names"] == doc["flamebearer"]["names"]
    assert [[int(v) for v in lv["values"]] for lv in fg["levels"]] == doc["flamebearer"]["levels"]
    assert int(fg["total"]) == doc["flamebearer"]["numTicks"]


def test_render_diff_errors(server, app):
    p = diff_params(app)
    p["rightQuery"] = app["name"] + ".alloc_objects"
    assert_json_error(server.get("/render-diff", **p), 400, "invalid_argument")
    p = diff_params(app)
    del p["rightQuery"]
    assert_json_error(server.get("/render-diff", **p), 400)
    p = diff_params(app)
    p["leftQuery"] = "{service_name="
    assert_json_error(server.get("/pyroscope/render-diff", **p), 400)


def expected_top(before, after):
    """{function: row} as /api/diff/top defines it (independent reference)."""
    def agg(stacks):
        self_, total = collections.Counter(), collections.Counter()
        for path, v in stacks.items():
            frames = path.split(";")
            self_[frames[-1]] += v * NS
            for f in set(frames):
                total[f] += v * NS
        return self_, total, sum(stacks.values()) * NS

    (ls, lt, ltot), (rs, rt, rtot) = agg(before), agg(after)
    rows = {}
    for f in set(lt) | set(rt):
        row = {"leftSelf": ls[f], "rightSelf": rs[f], "leftTotal": lt[f], "rightTotal": rt[f],
               "leftSelfShare": ls[f] / ltot, "rightSelfShare": rs[f] / rtot,
               "leftTotalShare": lt[f] / ltot, "rightTotalShare": rt[f] / rtot}
        row["selfShareChange"] = row["rightSelfShare"] - row["leftSelfShare"]
        row["totalShareChange"] = row["rightTotalShare"] - row["leftTotalShare"]
        rows[f] = row
    return rows


def score(row):
    return max(abs(row["selfShareChange"]), abs(row["totalShareChange"]))


def test_diff_top_ranks_the_grown_function_first(server, app):
    doc = server.get_json("/api/diff/top", **diff_params(app))
    assert doc["leftTicks"] == sum(BEFORE.values()) * NS
    assert doc["rightTicks"] == sum(AFTER.values()) * NS
    fns = doc["functions"]
    names = [f["name"] for f in fns]
    # parse: self share 10% → 60%; then a: total share 30% → 70%
    assert names[:2] == ["parse", "a"], names
    want = expected_top(BEFORE, AFTER)
    assert sorted(names) == sorted(want)
    for f in fns:
        w = want[f["name"]]
        for k, v in w.items():
            if k.endswith("Share") or k.endswith("Change"):
                assert f[k] == pytest.approx(v, abs=2e-6), (f["name"], k, f[k], v)
            else:
                assert f[k] == v, (f["name"], k, f[k], v)
    # recursion counted once: rec's total is its stacks' value, not 3x
    assert want["rec"]["leftTotal"] == 10 * NS
    scores = [score(f) for f in fns]
    assert scores == sorted(scores, reverse=True), scores
    # limit keeps the first n
    doc2 = server.get_json("/api/diff/top", limit=2, **diff_params(app))
    assert [f["name"] for f in doc2["functions"]] == ["parse", "a"]


def test_diff_top_errors(server, app):
    p = diff_params(app)
    p["rightQuery"] = app["name"] + ".alloc_objects"  # another profile type
    assert_json_error(server.get("/api/diff/top", **p), 400, "invalid_argument")
    assert_json_error(server.get("/api/diff/top", limit="-1", **diff_params(app)), 400)
    p = diff_params(app)
    del p["leftQuery"]
    assert_json_error(server.get("/api/diff/top", **p), 400)
