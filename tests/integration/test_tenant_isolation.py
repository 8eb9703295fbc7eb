"""Multi-tenancy (issue 5, PROTOCOLS.md §4): with -auth.multitenancy-enabled=true every read
and write path takes X-Scope-OrgID; nothing of tenant A is visible to tenant B through any
endpoint (ingest, render in every format, render-diff, diff/top, labels, label-values,
/pyroscope/label-values, api/apps, every Connect method), from the head, from blocks and after
a restart; a missing header is 401; tenant ids that could escape a path are refused with 400
before anything reaches the disk. Without the flag the header is ignored (tenant anonymous)."""

import gzip
import os

import pytest

from connecttest import JSON, PROTO, f_bytes, f_varint, rpc
from embertest import CPU, NS, Server, assert_json_error, encode_params, now, uniq

A, B = "team-a", "team_b.2"
A_APP, B_APP = uniq("secret"), uniq("bapp")
A_STACKS = {"main;a_only_func;deep": 40, "main;shared": 2}
B_STACKS = {"main;b_only_func": 9, "main;shared": 1}
A_TOTAL = sum(A_STACKS.values()) * NS
B_TOTAL = sum(B_STACKS.values()) * NS
# strings of A's data that must never appear in an answer to B, and vice versa (B also
# writes under A's service name, so A_APP itself is not a mark)
A_MARKS = ["a_only_func", "deep", "a_only_label", "alpha_value"]
B_MARKS = [B_APP, "b_only_func", "b_only_label", "beta_value", "intruder"]

BAD_TENANTS = ["..", ".", "../x", "../../etc", "a/b", "/", "/abs", "x/..", "a\\b", "a b",
               "a|b", "a:b", "t\u00e4", "%2e%2e", "a" * 151, "a\tb"]
NOW = now()
T = NOW - 600


def folded(stacks):
    return "".join("%s %d\n" % kv for kv in stacks.items()).encode()


@pytest.fixture(scope="module")
def mt(tmp_path_factory):
    base = tmp_path_factory.mktemp("mt")
    srv = Server(base / "data", base, args=["-auth.multitenancy-enabled=true"], name="mt")
    srv.start()
    for tenant, app, label, stacks in ((A, A_APP, "a_only_label=alpha_value", A_STACKS),
                                       (B, B_APP, "b_only_label=beta_value", B_STACKS)):
        r = srv.post_ingest("%s.cpu{%s}" % (app, label), folded(stacks),
                            headers={"X-Scope-OrgID": tenant}, from_=T, until=T + 10)
        assert r.status == 200, r
    # B also writes under A's service name: must not leak into A's answers
    r = srv.post_ingest(A_APP + ".cpu", b"main;intruder 1000\n",
                        headers={"X-Scope-OrgID": B}, from_=T, until=T + 10)
    assert r.status == 200, r
    yield srv
    srv.close()


def H(tenant):
    return {"X-Scope-OrgID": tenant} if tenant is not None else {}


def get(srv, tenant, path, **params):
    return srv.request("GET", path + "?" + encode_params(params), headers=H(tenant))


def sel(app):
    return '%s{service_name="%s"}' % (CPU, app)


def legacy_reads(app):
    """Every legacy read endpoint as (path, params) asking about app."""
    w = dict(from_="now-1h", until="now")
    diff = dict(leftQuery=sel(app), rightQuery=sel(app), leftFrom="now-1h", rightFrom="now-1h")
    return [
        ("/render", dict(query=sel(app), **w)),
        ("/pyroscope/render", dict(query=sel(app), **w)),
        ("/render", dict(query=app + ".cpu", **w)),
        ("/render", dict(query=sel(app), format="collapsed", **w)),
        ("/render", dict(query=sel(app), format="pprof", **w)),
        ("/render-diff", diff),
        ("/pyroscope/render-diff", diff),
        ("/api/diff/top", diff),
        ("/labels", dict(**w)),
        ("/labels", dict(query=sel(app), **w)),
        ("/label-values", dict(label="service_name", **w)),
        ("/label-values", dict(label="a_only_label", **w)),
        ("/label-values", dict(label="b_only_label", **w)),
        ("/pyroscope/label-values", dict(label="service_name")),
        ("/pyroscope/label-values", dict(label="__name__")),
        ("/api/apps", {}),
    ]


def connect_reads(app):
    s, e = str((NOW - 3600) * 1000), str((NOW + 60) * 1000)
    m = {"profileTypeID": CPU, "labelSelector": '{service_name="%s"}' % app, "start": s, "end": e}
    return [
        ("ProfileTypes", {}),
        ("LabelNames", {"start": s, "end": e}),
        ("LabelValues", {"name": "service_name", "start": s, "end": e}),
        ("LabelValues", {"name": "a_only_label", "start": s, "end": e}),
        ("LabelValues", {"name": "b_only_label", "start": s, "end": e}),
        ("Series", {"start": s, "end": e}),
        ("SelectMergeStacktraces", m),
        ("SelectMergeProfile", m),
        ("SelectSeries", dict(m, step=60, groupBy=["service_name"])),
        ("Diff", {"left": m, "right": m}),
        ("GetProfileStats", {}),
    ]


def body_text(r):
    data = r.body
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    return data.decode("utf-8", "replace")


def check_isolated(srv):
    for me, other_marks, my_marks, other_app, my_app, my_total in (
            (A, B_MARKS, A_MARKS, B_APP, A_APP, A_TOTAL),
            (B, A_MARKS, B_MARKS, A_APP, B_APP, B_TOTAL)):
        # the other tenant's data is invisible, by any name, on every endpoint
        for path, params in legacy_reads(other_app) + legacy_reads(my_app):
            r = get(srv, me, path, **params)
            assert r.status == 200, (me, path, params, r)
            text = body_text(r)
            for mark in other_marks:
                assert mark not in text, (me, path, params, mark, text[:400])
        for method, req in connect_reads(other_app) + connect_reads(my_app):
            r = rpc(srv, method, req, JSON, tenant=me)
            assert r.status == 200, (me, method, r)
            for mark in other_marks:
                assert mark not in r.text, (me, method, mark, r.text[:400])
        for method in ("ProfileTypes", "LabelNames", "Series", "GetProfileStats"):
            r = rpc(srv, method, b"", PROTO, tenant=me)  # the empty binary message
            assert r.status == 200, (me, method, r)
            for mark in other_marks:
                assert mark.encode() not in r.body, (me, method, mark, r.body[:400])
        # ... and the own data is there, with exact totals (B's write under A's name too)
        doc = get(srv, me, "/render", query=sel(my_app), from_="now-1h", until="now").json()
        assert doc["flamebearer"]["numTicks"] == my_total, (me, doc["flamebearer"])
        if me == B:
            doc = get(srv, B, "/render", query=sel(A_APP), from_="now-1h", until="now").json()
            assert doc["flamebearer"]["numTicks"] == 1000 * NS  # only B's intruder stack
            assert "a_only_func" not in doc["flamebearer"]["names"]
        else:
            doc = get(srv, A, "/render", query=sel(A_APP), from_="now-1h", until="now").json()
            assert "intruder" not in doc["flamebearer"]["names"]
        apps = get(srv, me, "/api/apps").json()
        assert my_app + ".cpu" in [a["name"] for a in apps], apps
        vals = get(srv, me, "/label-values", label="service_name", from_="now-1h",
                   until="now").json()
        assert sorted(vals) == (sorted([A_APP, B_APP]) if me == B else [A_APP]), (me, vals)
        stats = rpc(srv, "GetProfileStats", {}, tenant=me).json()
        assert stats["dataIngested"] is True and stats["oldestProfileTime"] == str(T * 1000)
        # binary Connect merge: exact own total
        body = (f_bytes(1, CPU) + f_bytes(2, '{service_name="%s"}' % my_app) +
                f_varint(3, (NOW - 3600) * 1000) + f_varint(4, (NOW + 60) * 1000))
        r = rpc(srv, "SelectMergeStacktraces", body, PROTO, tenant=me)
        assert r.status == 200 and my_app.encode() not in r.body, r
        j = rpc(srv, "SelectMergeStacktraces", connect_reads(my_app)[6][1], tenant=me).json()
        assert int(j["flamegraph"]["total"]) == my_total
    # a tenant that never wrote sees nothing at all
    for method, req in connect_reads(A_APP):
        r = rpc(srv, method, req, tenant="nobody")
        assert r.status == 200, r
        for mark in A_MARKS + B_MARKS:
            assert mark not in r.text, (method, r.text)
    assert rpc(srv, "GetProfileStats", {}, tenant="nobody").json() == {}
    assert rpc(srv, "ProfileTypes", {}, tenant="nobody").json() == {}
    assert get(srv, "nobody", "/api/apps").json() in ([], None)


def test_isolation_head_blocks_and_restart(mt):
    check_isolated(mt)                      # in the head
    r = mt.post("/api/v1/admin/cut", b"")
    assert r.status == 200, r
    tenants = sorted(os.listdir(mt.data_dir / "blocks"))
    assert tenants == sorted([A, B]), tenants
    check_isolated(mt)                      # in blocks
    mt.restart()
    check_isolated(mt)                      # after a restart


def test_missing_tenant_is_401_everywhere(mt):
    for path, params in legacy_reads(A_APP):
        assert_json_error(get(mt, None, path, **params), 401, "unauthenticated")
        assert_json_error(get(mt, "", path, **params), 401, "unauthenticated")
    r = mt.post_ingest(A_APP + ".cpu", b"main 1\n")
    assert_json_error(r, 401, "unauthenticated")
    for method, req in connect_reads(A_APP):
        assert_json_error(rpc(mt, method, req), 401, "unauthenticated")
        assert_json_error(rpc(mt, method, b"", PROTO), 401, "unauthenticated")


@pytest.mark.parametrize("tenant", BAD_TENANTS)
def test_bad_tenant_ids_rejected_before_disk(mt, tenant):
    before = set(walk(mt.data_dir))
    r = mt.post_ingest(A_APP + ".cpu", b"main;x 1\n", headers={"X-Scope-OrgID": tenant})
    assert_json_error(r, 400, "invalid_argument")
    for path, params in legacy_reads(A_APP)[:3] + [("/api/apps", {})]:
        assert_json_error(get(mt, tenant, path, **params), 400)
    for method, req in connect_reads(A_APP)[:2]:
        assert_json_error(rpc(mt, method, req, tenant=tenant), 400, "invalid_argument")
    mt.post("/api/v1/admin/cut", b"")
    after = set(walk(mt.data_dir))
    blocks = sorted(os.listdir(mt.data_dir / "blocks"))
    assert blocks == sorted([A, B]), blocks
    new = {p for p in after - before if not p.startswith(("wal", "blocks/" + A, "blocks/" + B))}
    assert not new, new
    # nothing escaped the data dir either
    parent = mt.data_dir.parent
    assert not (parent / "x").exists() and not (parent / "etc").exists()


@pytest.mark.parametrize("tenant", ["a.b", "T-1_(x)*'!", "9", "a" * 150, "wal", "quarantine"])
def test_unusual_but_valid_tenant_ids(mt, tenant):
    app = uniq("odd")
    r = mt.post_ingest(app + ".cpu", b"main;odd 3\n", headers={"X-Scope-OrgID": tenant})
    assert r.status == 200, r
    doc = get(mt, tenant, "/render", query=app + ".cpu", from_="now-1h", until="now").json()
    assert doc["flamebearer"]["numTicks"] == 3 * NS
    doc = get(mt, A, "/render", query=app + ".cpu", from_="now-1h", until="now").json()
    assert doc["flamebearer"]["numTicks"] == 0


def walk(root):
    for d, dirs, files in os.walk(root):
        for n in dirs + files:
            yield os.path.relpath(os.path.join(d, n), root)


def test_header_ignored_without_multitenancy(server):
    """Default (single tenant): X-Scope-OrgID is ignored, everything is tenant anonymous."""
    app = uniq("anon")
    r = server.post_ingest(app + ".cpu", b"main;x 5\n", headers={"X-Scope-OrgID": "one"})
    assert r.status == 200, r
    for h in ({}, {"X-Scope-OrgID": "two"}, {"X-Scope-OrgID": "../x"}):
        r = server.request("GET", "/render?query=%s.cpu&from=now-1h&until=now" % app, headers=h)
        assert r.status == 200 and r.json()["flamebearer"]["numTicks"] == 5 * NS, (h, r)
    assert sorted(os.listdir(server.data_dir / "blocks")) in ([], ["anonymous"])
