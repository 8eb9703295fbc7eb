"""The legacy `name` parameter (PROTOCOLS.md §1.2, §1.4): trimming, dropped `__` keys,
`service_name` given as a tag, `profile_id` requests dropped, parsing stops at the first `}`."""

from embertest import CPU, NS, now, uniq

RANGE = {"from": "now-1h", "until": "now"}


def _values(server, label, query):
    r = server.get("/label-values", label=label, query=query, **RANGE)
    assert r.status == 200, r
    return r.json() or []


def test_keys_and_values_are_trimmed(server):
    app = uniq("trim")
    server.ingest_ok("  %s.cpu { env = prod , region= eu }" % app, b"a 1\n", from_=now() - 60)
    assert server.total('%s{service_name="%s",env="prod",region="eu"}' % (CPU, app)) == NS


def test_double_underscore_keys_are_dropped(server):
    app = uniq("dunder")
    server.ingest_ok("%s.cpu{__foo=1,env=x}" % app, b"a 1\n", from_=now() - 60)
    r = server.get("/labels", query=app + ".cpu", **RANGE)
    assert r.status == 200, r
    assert "__foo" not in r.json() and "env" in r.json(), r


def test_service_name_tag_moves_app_to_app_name(server):
    app, svc = uniq("appname"), uniq("svc")
    server.ingest_ok("%s.cpu{service_name=%s}" % (app, svc), b"a 2\n", from_=now() - 60)
    assert server.total('%s{service_name="%s",app_name="%s"}' % (CPU, svc, app)) == 2 * NS
    assert server.total('%s{service_name="%s"}' % (CPU, app)) == 0


def test_profile_id_tag_drops_the_request(server):
    app = uniq("profid")
    server.ingest_ok("%s.cpu{profile_id=abc}" % app, b"a 1\n", from_=now() - 60)
    assert server.total(app + ".cpu") == 0


def test_value_keeps_later_equals_and_stops_at_brace(server):
    app = uniq("eq")
    server.ingest_ok("%s.cpu{q=a=b}trailing" % app, b"a 1\n", from_=now() - 60)
    assert _values(server, "q", app + ".cpu") == ["a=b"]


def test_empty_braces_and_no_braces_are_the_same_series(server):
    app = uniq("braces")
    server.ingest_ok(app + ".cpu{}", b"a 1\n", from_=now() - 60)
    server.ingest_ok(app + ".cpu", b"a 1\n", from_=now() - 59)
    assert server.total(app + ".cpu") == 2 * NS
    r = server.get("/labels", query=app + ".cpu", **RANGE)
    assert r.status == 200, r
    assert "" not in r.json()


def test_spy_name_label(server):
    app = uniq("spy")
    server.ingest_ok(app + ".cpu", b"a 1\n", from_=now() - 60, spyName="pyspy")
    server.ingest_ok(app + ".cpu", b"a 1\n", from_=now() - 60)     # default spy: unknown
    assert sorted(_values(server, "pyroscope_spy", app + ".cpu")) == ["pyspy", "unknown"]
    assert server.total('%s.cpu{pyroscope_spy="pyspy"}' % app) == NS
