"""push.v1.PusherService/Push (issue 8, PROTOCOLS.md §5): series of labels with raw pprof
samples, over Connect in JSON and binary. A real Go CPU profile pushed as given comes back
with the totals the Go generator computed, per sample type; labels are used as given
(`__name__` required, `service_name` defaulted, `godeltaprof_` relabelled, `__delta__`
dropped); a failing sample fails the call naming it while the valid ones are stored; limits
and tenancy apply as on /ingest; pushed data survives a restart (WAL replay). The Node
Connect client (tests/e2e/connect/push_client.test.mjs) pushes the same way."""

import base64
import gzip
import json
import urllib.parse
import uuid

from connecttest import JSON, PROTO, f_bytes, rpc_json
from embertest import CPU, assert_json_error, make_pprof, metric_value, parse_metrics, uniq
from test_connect_client import run_node_test

PUSH = "/push.v1.PusherService/Push"


def _series(labels, raws):
    return {"labels": [{"name": k, "value": v} for k, v in labels.items()],
            "samples": [{"rawProfile": base64.b64encode(r).decode(), "ID": str(uuid.uuid4())}
                        for r in raws]}


def push_json(srv, series, tenant=None):
    h = dict(JSON)
    if tenant:
        h["X-Scope-OrgID"] = tenant
    return srv.post(PUSH, json.dumps({"series": series}).encode(), h)


def push_binary(srv, series, tenant=None):
    body = b""
    for labels, raws in series:
        s = b"".join(f_bytes(1, f_bytes(1, k) + f_bytes(2, v)) for k, v in labels.items())
        s += b"".join(f_bytes(2, f_bytes(1, r) + f_bytes(2, str(uuid.uuid4()))) for r in raws)
        body += f_bytes(1, s)
    h = dict(PROTO)
    if tenant:
        h["X-Scope-OrgID"] = tenant
    return srv.post(PUSH, body, h)


def _total(srv, type_id, app, extra="", tenant=None):
    h = {"X-Scope-OrgID": tenant} if tenant else None
    q = '%s{service_name="%s"%s}' % (type_id, app, extra)
    r = srv.request("GET", "/render?query=%s&from=now-1h&until=now%%2B1h&format=json"
                    % urllib.parse.quote(q), headers=h)
    assert r.status == 200, r
    return r.json()["flamebearer"]["numTicks"]


def _cpu_ids(go_profiles):
    return go_profiles.type_ids("cpu.pb.gz", "process_cpu")


def test_push_go_cpu_json_and_binary(make_server, go_profiles):
    srv = make_server()
    raw = go_profiles.data("cpu.pb.gz")
    sums = go_profiles.file("cpu.pb.gz")["sums"]
    ids = _cpu_ids(go_profiles)
    a, b = uniq("pushj"), uniq("pushb")
    r = push_json(srv, [_series({"__name__": "process_cpu", "service_name": a, "env": "prod",
                                 "__delta__": "false"}, [raw])])
    assert r.status == 200 and r.json() == {}, r
    r = push_binary(srv, [({"__name__": "process_cpu", "service_name": b}, [raw, raw])])
    assert r.status == 200 and r.headers["content-type"] == "application/proto", r
    for type_id, want in zip(ids, sums):
        assert _total(srv, type_id, a) == want
        assert _total(srv, type_id, a, ',env="prod"') == want
        assert _total(srv, type_id, b) == 2 * want
    # labels as given; __delta__ is not stored; the worker pprof label splits series
    doc = rpc_json(srv, "Series", {"matchers": ['{service_name="%s"}' % a]})
    names = {l["name"] for s in doc["labelsSet"] for l in s["labels"]}
    assert {"env", "worker", "__name__", "__profile_type__"} <= names, names
    assert "__delta__" not in names and "pyroscope_spy" not in names, names
    srv.restart()
    for type_id, want in zip(ids, sums):
        assert _total(srv, type_id, a) == want, "after WAL replay"
        assert _total(srv, type_id, b) == 2 * want, "after WAL replay"


def test_push_label_rules(make_server):
    srv = make_server()
    app = uniq("pushl")
    prof = make_pprof([("alloc_objects", "count")], [(["main", "alloc"], [7], {})],
                      period_type=("space", "bytes"), period=1)
    r = push_json(srv, [_series({"__name__": "godeltaprof_memory", "service_name": app}, [prof])])
    assert r.status == 200, r
    assert _total(srv, "memory:alloc_objects:count:space:bytes", app) == 7
    # no service_name: unknown_service
    r = push_json(srv, [_series({"__name__": "process_cpu", "job": app},
                                [make_pprof([("cpu", "nanoseconds")], [(["x"], [5], {})],
                                            period_type=("cpu", "nanoseconds"), period=1)])])
    assert r.status == 200, r
    assert _total(srv, CPU, "unknown_service", ',job="%s"' % app) == 5
    # __name__ is required
    r = push_json(srv, [_series({"service_name": app}, [prof])])
    doc = assert_json_error(r, 400, "invalid_argument")
    assert "__name__" in doc["message"], doc


def test_push_partial_failure_names_the_sample(make_server):
    srv = make_server()
    app = uniq("pushf")
    good = make_pprof([("cpu", "nanoseconds")], [(["main", "ok"], [11], {})],
                      period_type=("cpu", "nanoseconds"), period=1)
    r = push_json(srv, [_series({"__name__": "process_cpu", "service_name": app},
                                [good, b"\x0a\xff\xff garbage", gzip.compress(b"nope")])])
    doc = assert_json_error(r, 400, "invalid_argument")
    assert "2 of 3 samples failed" in doc["message"], doc
    assert "series[0].samples[1]" in doc["message"], doc
    assert "series[0].samples[2]" in doc["message"], doc
    assert _total(srv, CPU, app) == 11  # the valid sample was stored


def test_push_limits_and_tenants(make_server):
    srv = make_server("-auth.multitenancy-enabled=true", "-limits.ingestion-rate-mb=0.001",
                      "-limits.ingestion-burst-size-mb=0.002")
    app = uniq("pusht")
    small = make_pprof([("cpu", "nanoseconds")], [(["main", "f%d" % i], [1], {})
                                                  for i in range(5)],
                       period_type=("cpu", "nanoseconds"), period=1)
    series = [_series({"__name__": "process_cpu", "service_name": app}, [small])]
    assert_json_error(push_json(srv, series), 401, "unauthenticated")
    assert push_json(srv, series, tenant="a").status == 200
    assert _total(srv, CPU, app, tenant="a") == 5
    assert _total(srv, CPU, app, tenant="b") == 0
    # burst of 2097 bytes: pushing until the bucket is empty gives resource_exhausted
    statuses = [push_json(srv, series, tenant="a").status for _ in range(20)]
    assert 429 in statuses, statuses
    r = push_json(srv, series, tenant="a")
    doc = assert_json_error(r, 429, "resource_exhausted")
    assert "rate limit" in doc["message"], doc
    assert push_json(srv, series, tenant="b").status == 200  # b has its own bucket
    # a decompressed profile over max_profile_size_bytes is refused
    big = make_pprof([("cpu", "nanoseconds")], [(["main", "g%05d" % i], [1], {})
                                                for i in range(400)],
                     period_type=("cpu", "nanoseconds"), period=1)
    srv2 = make_server("-limits.max-profile-size-bytes=4000")
    r = push_json(srv2, [_series({"__name__": "process_cpu", "service_name": app}, [big])])
    assert r.status in (400, 422) and "max_profile_size" in r.json()["message"], r
    assert _total(srv2, CPU, app) == 0


def test_push_bad_requests(server):
    assert_json_error(server.post(PUSH, b"{", JSON), 400, "invalid_argument")
    assert_json_error(server.post(PUSH, b'{"series":[{"samples":[{"rawProfile":"!!"}]}]}', JSON),
                      400, "invalid_argument")
    assert_json_error(server.get(PUSH), 405)
    r = server.post(PUSH, b"{}", JSON)
    assert r.status == 200 and r.json() == {}, r


def test_push_node_connect_client(make_server, tmp_path):
    run_node_test(make_server, tmp_path, "push_client.test.mjs", 8)


def test_push_is_one_group_commit(make_server):
    """All samples of a Push (and an OTLP export) are made durable by one WAL fsync, not one
    per sample: a 50-sample push moves ember_wal_fsyncs_total by one."""
    srv = make_server()
    app = uniq("pushgc")
    prof = make_pprof([("cpu", "nanoseconds")], [(["main", "f"], [5], {})],
                      period_type=("cpu", "nanoseconds"), period=1)

    def fsyncs():
        return metric_value(parse_metrics(srv.get("/metrics").text), "ember_wal_fsyncs_total")

    before = fsyncs()
    series = [_series({"__name__": "process_cpu", "service_name": "%s_%d" % (app, i)}, [prof])
              for i in range(50)]
    assert push_json(srv, series).status == 200
    assert fsyncs() == before + 1
    for i in (0, 49):
        assert _total(srv, CPU, "%s_%d" % (app, i)) == 5
