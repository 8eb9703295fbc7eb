"""from/until syntax (PROTOCOLS.md §3.2) on /render and on /ingest: unix s, ms (13 digits),
µs (16), ns (19), now-N<unit>; spaces and '_' ignored."""

import pytest

from embertest import NS, now, uniq


@pytest.fixture(scope="module")
def placed(server):
    """One profile at T = now-300 s."""
    app = uniq("time")
    t = now() - 300
    server.ingest_ok(app + ".cpu", b"t;a 1\n", from_=t, until=t + 10)
    return app, t


def _ranges(t):
    return [
        ("seconds", t - 10, t + 10),
        ("milliseconds", (t - 10) * 1000, (t + 10) * 1000),
        ("microseconds", (t - 10) * 10**6, (t + 10) * 10**6),
        ("nanoseconds", (t - 10) * 10**9, (t + 10) * 10**9),
        ("mixed", t - 10, (t + 10) * 1000),
    ]


@pytest.mark.parametrize("i", range(5), ids=["s", "ms", "us", "ns", "mixed"])
def test_absolute_units_include(server, placed, i):
    app, t = placed
    _, f, u = _ranges(t)[i]
    assert server.total(app + ".cpu", from_=f, until=u) == NS


@pytest.mark.parametrize("f,u", [
    (lambda t: t + 5, lambda t: t + 100),
    (lambda t: t - 100, lambda t: t - 5),
    (lambda t: (t + 5) * 1000, lambda t: (t + 100) * 1000),
    (lambda t: (t - 100) * 10**9, lambda t: (t - 5) * 10**9),
], ids=["after_s", "before_s", "after_ms", "before_ns"])
def test_absolute_units_exclude(server, placed, f, u):
    app, t = placed
    assert server.total(app + ".cpu", from_=f(t), until=u(t)) == 0


@pytest.mark.parametrize("f,u,want", [
    ("now-1h", "now", NS),
    ("now-10m", "now-1m", NS),
    ("now-6min", "now-4min", NS),
    ("now-1h30m", "now", NS),
    ("now-1d", "now", NS),
    ("now-2m", "now", 0),
    ("now-1h", "now-10m", 0),
    ("now - 10m", "now", NS),      # spaces are stripped
    ("now-10_m", "now", NS),       # so are underscores
])
def test_relative(server, placed, f, u, want):
    app, _ = placed
    assert server.total(app + ".cpu", from_=f, until=u) == want


@pytest.mark.parametrize("scale", [1, 1000, 10**6, 10**9], ids=["s", "ms", "us", "ns"])
def test_ingest_from_units(server, scale):
    app = uniq("ingunits")
    t = now() - 200
    server.ingest_ok(app + ".cpu", b"u 2\n", from_=t * scale, until=(t + 10) * scale)
    assert server.total(app + ".cpu", from_=t - 5, until=t + 5) == 2 * NS
    assert server.total(app + ".cpu", from_=t + 5, until=t + 60) == 0


def test_ingest_relative_from(server):
    app = uniq("ingrel")
    server.ingest_ok(app + ".cpu", b"r 1\n", from_="now-7m", until="now-6m")
    assert server.total(app + ".cpu", from_="now-8m", until="now-6m") == NS
    assert server.total(app + ".cpu", from_="now-5m", until="now") == 0


def test_ingest_without_from_means_now(server):
    app = uniq("ingnow")
    server.ingest_ok(app + ".cpu", b"n 1\n")
    assert server.total(app + ".cpu", from_="now-2m", until="now+1m") == NS
