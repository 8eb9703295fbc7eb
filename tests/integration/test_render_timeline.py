"""The /render timeline (PROTOCOLS.md §3.5): step = (until−from)/1500 rounded, at least 15 s;
startTime = from snapped down to the step; samples[i] ↔ startTime + i·step, gaps 0; a profile
at t lands in the first bucket edge ≥ t (SelectSeries points are right edges)."""

from embertest import NS, now, uniq


def _ceil_div(a, b):
    return -(-a // b)


def test_timeline_buckets_exact(server):
    app = uniq("tl")
    start = (now() - 1800) // 15 * 15          # aligned, so startTime == from
    until = start + 1500                       # 1500 s / 1500 = 1 s → minimum 15 s
    placed = [(start + 7, 1), (start + 67, 2), (start + 68, 4), (start + 307, 3),
              (start + 1200, 5)]
    for t, v in placed:
        server.ingest_ok(app + ".cpu", ("f;g %d\n" % v).encode(), from_=t, until=t + 1)
    doc = server.render(app + ".cpu", from_=start, until=until)
    tl = doc["timeline"]
    assert tl["durationDelta"] == 15, tl
    assert tl["startTime"] == start, tl
    samples = tl["samples"]
    assert len(samples) in (100, 101), len(samples)
    want = [0] * len(samples)
    for t, v in placed:
        want[_ceil_div(t - start, 15)] += v * NS
    assert samples == want, [(i, s) for i, s in enumerate(samples) if s]
    assert sum(samples) == doc["flamebearer"]["numTicks"] == 15 * NS
    assert doc.get("groups") is None


def test_timeline_start_snaps_to_step(server):
    app = uniq("tlsnap")
    t = now() - 600
    server.ingest_ok(app + ".cpu", b"s 3\n", from_=t)
    f = now() - 3600 + 7                        # not aligned to 15
    doc = server.render(app + ".cpu", from_=f, until=f + 3600)
    tl = doc["timeline"]
    assert tl["durationDelta"] == 15
    assert tl["startTime"] == f - f % 15, (tl["startTime"], f)
    assert 240 <= len(tl["samples"]) <= 241, len(tl["samples"])
    assert sum(tl["samples"]) == 3 * NS
    i = [k for k, v in enumerate(tl["samples"]) if v]
    assert i == [_ceil_div(t - tl["startTime"], 15)], (i, t - tl["startTime"])


def test_timeline_day_range_uses_one_minute_step(server):
    app = uniq("tlday")
    t = now() - 900
    server.ingest_ok(app + ".cpu", b"d 2\n", from_=t)
    f, u = now() - 86400, now()
    doc = server.render(app + ".cpu", from_=f, until=u)
    tl = doc["timeline"]
    assert tl["durationDelta"] == 60            # 86400/1500 = 57.6 s → 1 m
    assert tl["startTime"] == f - f % 60
    assert 1440 <= len(tl["samples"]) <= 1441
    assert sum(tl["samples"]) == 2 * NS


def test_timeline_relative_range(server):
    app = uniq("tlrel")
    server.ingest_ok(app + ".cpu", b"r 1\n", from_=now() - 120)
    tl = server.render(app + ".cpu", from_="now-1h", until="now")["timeline"]
    assert tl["durationDelta"] == 15
    assert tl["startTime"] % 15 == 0
    assert abs(tl["startTime"] - (now() - 3600)) <= 30
    assert 239 <= len(tl["samples"]) <= 241
    assert sum(tl["samples"]) == NS
