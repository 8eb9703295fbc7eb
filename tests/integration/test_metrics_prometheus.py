"""/metrics (issue 3 "Must have 5"): Prometheus text with request, ingest (by format), WAL
fsync and head-series counters that move with the traffic."""

from embertest import make_pprof, metric_value, now, uniq

NAMES = ["ember_http_requests_total", "ember_ingested_profiles_total",
         "ember_ingested_bytes_total", "ember_ingested_samples_total",
         "ember_wal_fsyncs_total", "ember_head_series"]


def _v(m, name, **labels):
    v = metric_value(m, name, **labels)
    return 0 if v is None else v


def test_metrics_text_format(server):
    server.ingest_ok(uniq("m0") + ".cpu", b"a 1\n", from_=now() - 60)
    r = server.get("/metrics")
    assert r.status == 200, r
    assert r.headers.get("content-type", "").startswith("text/plain"), r.headers
    m = server.metrics()
    for n in NAMES:
        assert metric_value(m, n) is not None, "missing %s" % n
    assert "# TYPE ember_http_requests_total counter" in r.text
    assert "# TYPE ember_head_series gauge" in r.text


def test_metrics_move_with_ingest(server):
    before = server.metrics()
    app = uniq("m1")
    folded = b"a;b 1\na;c 2\n"
    server.ingest_ok(app + ".cpu{env=x}", folded, from_=now() - 60)
    server.ingest_ok(app + ".cpu{env=x}", b"a;b\na;b\n", format="lines", from_=now() - 60)
    p = make_pprof([("cpu", "nanoseconds")], [(["p"], [5], {}), (["q"], [6], {}),
                                              (["r"], [7], {})],
                   period_type=("cpu", "nanoseconds"), period=1)
    server.ingest_ok(app + "_p", p, format="pprof", from_=now() - 60)
    server.ingest_ok(uniq("m2") + ".cpu", b"new 1\n", from_=now() - 60)
    after = server.metrics()

    def d(name, **labels):
        return _v(after, name, **labels) - _v(before, name, **labels)

    assert d("ember_ingested_profiles_total", format="folded") == 2
    assert d("ember_ingested_profiles_total", format="lines") == 1
    assert d("ember_ingested_profiles_total", format="pprof") == 1
    assert d("ember_ingested_bytes_total", format="folded") >= len(folded) + len(b"new 1\n")
    assert d("ember_ingested_bytes_total", format="lines") >= len(b"a;b\na;b\n")
    assert d("ember_ingested_bytes_total", format="pprof") >= len(p)
    assert d("ember_ingested_samples_total", format="folded") == 3
    assert d("ember_ingested_samples_total", format="pprof") == 3
    assert d("ember_ingested_samples_total", format="lines") >= 1
    assert d("ember_wal_fsyncs_total") >= 1
    assert d("ember_http_requests_total") >= 5
    assert d("ember_head_series") >= 3   # app.cpu{env=x}, app_p, m2.cpu: new series


def test_rejected_ingest_is_not_counted(server):
    before = server.metrics()
    r = server.post_ingest(uniq("m3"), b"\x0f\xff", format="pprof")
    assert r.status == 422, r
    after = server.metrics()
    assert _v(after, "ember_ingested_profiles_total", format="pprof") == \
        _v(before, "ember_ingested_profiles_total", format="pprof")
