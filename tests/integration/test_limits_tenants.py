"""Limits (issue 5, docs/CONFIG.md): each one triggers with a clear error — status, Connect
code and a message naming the limit — and does not affect another tenant, nor the same
tenant's requests within the limit. Refused requests store nothing."""

import gzip
import time

import pytest

from connecttest import rpc
from embertest import CPU, NS, assert_json_error, encode_params, make_pprof, now, uniq

A, B = "tenant-a", "tenant-b"


def H(t):
    return {"X-Scope-OrgID": t}


def ingest(srv, tenant, name, body, **params):
    return srv.post_ingest(name, body, headers=H(tenant), **params)


def total(srv, tenant, query, **params):
    p = dict(query=query, from_="now-1h", until="now")
    p.update(params)
    r = srv.request("GET", "/render?" + encode_params(p), headers=H(tenant))
    assert r.status == 200, r
    return r.json()["flamebearer"]["numTicks"]


def folded_of_size(n):
    """A folded body of exactly n bytes: lines `main;fNNNNNNNN 1`, the last name padded."""
    lines, size, i = [], 0, 0
    while size + 2 * 16 <= n:
        lines.append("main;f%08d 1\n" % i)
        size += len(lines[-1])
        i += 1
    lines.append("main;g%s 1\n" % ("x" * (n - size - 9)))
    body = "".join(lines).encode()
    assert len(body) == n, (len(body), n)
    return body, i + 1


def test_ingestion_rate_limit_is_per_tenant(make_server):
    # 0.01 MiB/s = 10485.76 B/s, burst 0.02 MiB = 20971.52 B
    srv = make_server("-auth.multitenancy-enabled=true", "-limits.ingestion-rate-mb=0.01",
                      "-limits.ingestion-burst-size-mb=0.02")
    app = uniq("rate")
    body, nlines = folded_of_size(8000)
    assert ingest(srv, A, app + ".cpu", body).status == 200
    assert ingest(srv, A, app + ".cpu", body).status == 200
    r = ingest(srv, A, app + ".cpu", body)      # 16000 of 20971 used: no room for 8000 more
    doc = assert_json_error(r, 429, "resource_exhausted")
    assert "rate limit" in doc["message"] and A in doc["message"], doc
    # tenant B has its own bucket
    assert ingest(srv, B, app + ".cpu", body).status == 200
    assert ingest(srv, B, app + ".cpu", body).status == 200
    # A's reads are not limited, and the refused body stored nothing
    assert total(srv, A, app + ".cpu") == 2 * nlines * NS
    assert total(srv, B, app + ".cpu") == 2 * nlines * NS
    assert rpc(srv, "ProfileTypes", {}, tenant=A).status == 200
    # the bucket refills at the rate: after 1 s about 10 KB are back
    time.sleep(1.0)
    assert ingest(srv, A, app + ".cpu", body).status == 200
    assert total(srv, A, app + ".cpu") == 3 * nlines * NS
    # one body larger than the burst is refused even with a full bucket
    big, _ = folded_of_size(22000)
    time.sleep(0.1)
    doc = assert_json_error(ingest(srv, B, app + ".big.cpu", big), 429, "resource_exhausted")
    assert B in doc["message"]


@pytest.fixture
def limited(make_server):
    return make_server("-auth.multitenancy-enabled=true",
                       "-limits.max-label-names-per-series=5",
                       "-limits.max-label-name-length=20",
                       "-limits.max-label-value-length=30",
                       "-limits.max-profile-size-bytes=4096",
                       "-limits.ingestion-body-limit-mb=1",
                       "-limits.max-flamegraph-nodes-max=100")


def test_max_label_names_per_series(limited):
    app = uniq("lbl")
    # __name__ and service_name count: three more labels fit in 5
    assert ingest(limited, A, app + ".cpu{x=1,y=2,z=3}", b"main 1\n").status == 200
    doc = assert_json_error(ingest(limited, A, app + ".cpu{x=1,y=2,z=3,w=4}", b"main 2\n"), 400,
                            "invalid_argument")
    assert "labels" in doc["message"] and "5" in doc["message"], doc
    assert ingest(limited, B, app + ".cpu{x=1,y=2,z=3}", b"main 4\n").status == 200
    assert total(limited, A, app + ".cpu") == 1 * NS
    assert total(limited, B, app + ".cpu") == 4 * NS


def test_max_label_name_and_value_length(limited):
    app = uniq("len")
    ok_name, long_name = "n" * 20, "n" * 21
    assert ingest(limited, A, "%s.cpu{%s=v}" % (app, ok_name), b"main 1\n").status == 200
    doc = assert_json_error(ingest(limited, A, "%s.cpu{%s=v}" % (app, long_name), b"main 1\n"),
                            400, "invalid_argument")
    assert "20" in doc["message"] and "label name" in doc["message"], doc
    assert ingest(limited, A, "%s.cpu{k=%s}" % (app, "v" * 30), b"main 1\n").status == 200
    doc = assert_json_error(ingest(limited, A, "%s.cpu{k=%s}" % (app, "v" * 31), b"main 1\n"),
                            400, "invalid_argument")
    assert "30" in doc["message"] and '"k"' in doc["message"], doc
    # the service name is a label value too
    long_app = "s" * 31
    assert_json_error(ingest(limited, B, long_app + ".cpu", b"main 1\n"), 400)
    assert ingest(limited, B, "%s.cpu{k=%s}" % (app, "v" * 30), b"main 5\n").status == 200
    assert total(limited, A, app + ".cpu") == 2 * NS
    assert total(limited, B, app + ".cpu") == 5 * NS


def big_pprof(n_funcs, compress):
    samples = [(["main", "function_with_a_long_name_%04d" % i], [1], {}) for i in range(n_funcs)]
    return make_pprof([("samples", "count")], samples, compress=compress)


def test_max_profile_size(limited):
    app = uniq("size")
    small = big_pprof(10, compress=True)
    assert len(gzip.decompress(small)) < 4096
    assert ingest(limited, A, app, small, format="pprof").status == 200
    for compress in (True, False):
        body = big_pprof(200, compress)
        assert len(body) < 1 << 20
        doc = assert_json_error(ingest(limited, A, app, body, format="pprof"), 422)
        assert "max_profile_size_bytes" in doc["message"] and "4096" in doc["message"], doc
    assert ingest(limited, B, app, small, format="pprof").status == 200
    types = rpc(limited, "ProfileTypes", {}, tenant=A).json()["profileTypes"]
    (tid,) = [t["ID"] for t in types if t["sampleType"] == "samples"]
    q = '%s{service_name="%s"}' % (tid, app)
    assert total(limited, A, q) == 10   # only the small profile
    assert total(limited, B, q) == 10


def test_body_limit(limited):
    app = uniq("body")
    big = b"main;x 1\n" * ((3 << 20) // 18)  # 1.5 MiB
    doc = assert_json_error(ingest(limited, A, app + ".cpu", big), 413, "invalid_argument")
    assert "too large" in doc["message"], doc
    assert ingest(limited, A, app + ".cpu", b"main;x 1\n").status == 200
    assert ingest(limited, B, app + ".cpu", b"main;x 2\n").status == 200
    assert total(limited, A, app + ".cpu") == 1 * NS
    assert total(limited, B, app + ".cpu") == 2 * NS


def test_max_flamegraph_nodes(limited):
    app = uniq("nodes")
    body = "".join("main;f%03d %d\n" % (i, i + 1) for i in range(150)).encode()
    assert ingest(limited, A, app + ".cpu", body).status == 200
    assert ingest(limited, B, app + ".cpu", body).status == 200
    q = "%s{service_name=\"%s\"}" % (CPU, app)
    for path, p in (("/render", dict(query=q)),
                    ("/render-diff", dict(leftQuery=q, rightQuery=q))):
        r = limited.request("GET", path + "?" + encode_params(dict(p, maxNodes=101)),
                            headers=H(A))
        doc = assert_json_error(r, 400, "invalid_argument")
        assert "101" in doc["message"] and "100" in doc["message"], doc
        r = limited.request("GET", path + "?" + encode_params(dict(p, maxNodes=100)),
                            headers=H(B))
        assert r.status == 200, r
        # a query that does not ask gets the default (8192), which the max does not bound
        r = limited.request("GET", path + "?" + encode_params(p), headers=H(A))
        assert r.status == 200, r
    s, e = str((now() - 3600) * 1000), str((now() + 60) * 1000)
    m = {"profileTypeID": CPU, "labelSelector": '{service_name="%s"}' % app, "start": s, "end": e}
    doc = assert_json_error(rpc(limited, "SelectMergeStacktraces", dict(m, maxNodes="101"),
                                tenant=A), 400, "invalid_argument")
    assert "101" in doc["message"], doc
    assert_json_error(rpc(limited, "Diff", {"left": dict(m, maxNodes=101), "right": m},
                          tenant=A), 400, "invalid_argument")
    r = rpc(limited, "SelectMergeStacktraces", dict(m, maxNodes="100"), tenant=B)
    assert r.status == 200, r
    fg = r.json()["flamegraph"]
    assert int(fg["total"]) == 150 * 151 // 2 * NS and "other" in fg["names"]
    r = rpc(limited, "SelectMergeStacktraces", m, tenant=A)
    assert r.status == 200 and len(r.json()["flamegraph"]["names"]) == 152, r  # all kept


def test_query_length_and_lookback(make_server):
    """limits.max_query_length refuses longer ranges on /render, diffs and Connect;
    limits.max_query_lookback silently moves the start up, hiding older data."""
    srv = make_server("-limits.max-query-length=1h", "-limits.max-query-lookback=2h")
    app = uniq("qlim")
    t = now()
    assert srv.post_ingest(app + ".cpu", b"old 1\n", from_=str(t - 3 * 3600),
                           sampleRate="0").status == 200
    assert srv.post_ingest(app + ".cpu", b"new 2\n", from_=str(t - 1800),
                           sampleRate="0").status == 200
    q = "process_cpu:samples:count::{service_name=\"%s\"}" % app
    r = srv.request("GET", "/render?" + encode_params(dict(query=q, from_="now-2h", until="now")))
    doc = assert_json_error(r, 400, "invalid_argument")
    assert "max_query_length" in doc["message"], doc
    r = srv.request("GET", "/render?" + encode_params(dict(query=q, from_="now-50m", until="now")))
    assert r.status == 200 and r.json()["flamebearer"]["numTicks"] == 2
    # 3 h ago is beyond the 2 h lookback: the range is clamped to nothing
    r = srv.request("GET", "/render?" + encode_params(dict(query=q, from_="now-200m",
                                                           until="now-170m")))
    assert r.status == 200 and r.json()["flamebearer"]["numTicks"] == 0
    ms = t * 1000
    r = rpc(srv, "SelectMergeStacktraces",
            {"profileTypeID": "process_cpu:samples:count::",
             "labelSelector": "{service_name=\"%s\"}" % app,
             "start": ms - 2 * 3600 * 1000, "end": ms})
    doc = assert_json_error(r, 400, "invalid_argument")
    assert "max_query_length" in doc["message"], doc


def test_max_global_series_per_tenant(make_server):
    srv = make_server("-auth.multitenancy-enabled=true",
                      "-limits.max-global-series-per-tenant=3")
    app = uniq("series")
    body = b"main;work 5\n"
    for env in ("a", "b", "c"):
        assert ingest(srv, A, "%s.cpu{env=%s}" % (app, env), body).status == 200
    r = ingest(srv, A, "%s.cpu{env=d}" % app, body)
    doc = assert_json_error(r, 429, "resource_exhausted")
    assert "max_global_series_per_tenant" in doc["message"] and "3" in doc["message"], doc
    # existing series still take data; another tenant has its own count
    assert ingest(srv, A, "%s.cpu{env=a}" % app, body).status == 200
    for env in ("a", "b", "c"):
        assert ingest(srv, B, "%s.cpu{env=%s}" % (app, env), body).status == 200
    # a request with two new series is refused whole: nothing of it is stored
    pprof = make_pprof([("cpu", "nanoseconds")],
                       [(["main", "x"], [7], {"k": "1"}), (["main", "y"], [9], {"k": "2"})],
                       period_type=("cpu", "nanoseconds"), period=1)
    r = ingest(srv, A, app, pprof, format="pprof")
    assert_json_error(r, 429, "resource_exhausted")
    assert total(srv, A, '%s{service_name="%s"}' % (CPU, app)) == 4 * 5 * NS
    assert total(srv, B, '%s{service_name="%s"}' % (CPU, app)) == 3 * 5 * NS
    # refused requests never reached the WAL: a restart replays the same data
    srv.restart()
    assert total(srv, A, '%s{service_name="%s"}' % (CPU, app)) == 4 * 5 * NS
    assert ingest(srv, A, "%s.cpu{env=d}" % app, body).status == 429
