"""format=speedscope (issue 8, PROTOCOLS.md §1.4): speedscope's file format as Pyroscope's
/ingest takes it. Documents are written here to speedscope's published schema
(https://www.speedscope.app/file-format-schema.json); the expected values follow Pyroscope's
conversion rules, computed independently below: weights truncated per sample and kept ×100
(bytes ×1), a default sampleRate of 100 replaced by the unit's (100 × ticks per second), then
the legacy CPU/wall conversion to nanoseconds (× 1e9 / rate); equal profiles merged; more
than one profile → `<app>.<unit>` names and a profile_name label on each."""

import json
import math

import pytest

from embertest import CPU, assert_json_error, fb_stacks, uniq

SCHEMA = "https://www.speedscope.app/file-format-schema.json"
WALL = "wall:wall:nanoseconds:cpu:nanoseconds"
BYTES = "memory:samples:bytes::"
RATE = {"nanoseconds": 100e9, "microseconds": 100e6, "milliseconds": 100e3, "seconds": 100,
        "none": 100 * 100, "bytes": 0}


def doc(frames, profiles):
    return json.dumps({"$schema": SCHEMA, "shared": {"frames": [{"name": f} for f in frames]},
                       "profiles": profiles, "name": "test", "exporter": "ember-tests"}).encode()


def sampled(name, unit, samples, weights, start=0, end=100):
    return {"type": "sampled", "name": name, "unit": unit, "startValue": start,
            "endValue": end, "samples": samples, "weights": weights}


def expected_sampled(frames, samples, weights, unit, rate=None):
    """{"a;b": value} as Pyroscope stores a sampled profile."""
    mult = 1 if unit == "bytes" else 100
    rate = RATE[unit] if rate is None else rate
    raw = {}
    for s, w in zip(samples, weights):
        key = ";".join(frames[i] for i in s)
        raw[key] = raw.get(key, 0) + int(w) * mult
    if unit != "bytes":
        raw = {k: int(math.floor(v * 1e9 / rate + 0.5)) for k, v in raw.items()}
    return {k: v for k, v in raw.items() if v}


FRAMES = ["main", "work", "hot", "idle", "alloc"]
SAMPLES = [[0, 1, 2], [0, 3], [0, 1, 2], [0, 1]]
WEIGHTS = [2.5, 4, 1, 0.9]


def test_sampled_milliseconds_single_profile(server):
    app = uniq("ss")
    body = doc(FRAMES, [sampled("thread 1", "milliseconds", SAMPLES, WEIGHTS)])
    assert server.post_ingest(app, body, format="speedscope").status == 200
    want = expected_sampled(FRAMES, SAMPLES, WEIGHTS, "milliseconds")
    assert want == {"main;work;hot": 3_000_000, "main;idle": 4_000_000}  # 0.9 truncates to 0
    d = server.render('%s{service_name="%s",profile_name="thread 1"}' % (CPU, app))
    assert fb_stacks(d) == want
    assert d["flamebearer"]["numTicks"] == 7_000_000


def test_explicit_sample_rate_is_kept(server):
    app = uniq("ssrate")
    body = doc(FRAMES, [sampled("p", "seconds", [[0, 1]], [3])])
    assert server.post_ingest(app, body, format="speedscope", sampleRate="50").status == 200
    assert fb_stacks(server.render('%s{service_name="%s"}' % (CPU, app))) == \
        expected_sampled(FRAMES, [[0, 1]], [3], "seconds", rate=50)


def test_two_profiles_get_unit_suffixes_and_profile_names(server):
    app = uniq("ssmulti")
    t = sampled("cpu time", "milliseconds", SAMPLES, WEIGHTS, start=0)
    m = sampled("heap", "bytes", [[0, 4], [0, 4]], [1024, 512], start=5)
    assert server.post_ingest(app, doc(FRAMES, [m, t]), format="speedscope").status == 200
    # app.milliseconds → wall; app.bytes → memory:samples:bytes; service_name = app
    wall = server.render('%s{service_name="%s",profile_name="cpu time"}' % (WALL, app))
    assert fb_stacks(wall) == expected_sampled(FRAMES, SAMPLES, WEIGHTS, "milliseconds")
    mem = server.render('%s{service_name="%s",profile_name="heap"}' % (BYTES, app))
    assert fb_stacks(mem) == {"main;alloc": 1536}
    # more than one profile with unit none: app.none is an unknown type → 400
    n = [sampled("a", "none", [[0]], [1], start=0), sampled("b", "none", [[0]], [1], start=1)]
    r = server.post_ingest(uniq("ssnone"), doc(FRAMES, n), format="speedscope")
    assert_json_error(r, 400)


def test_equal_profiles_merge_into_one(server):
    app = uniq("ssmerge")
    a = sampled("worker", "milliseconds", [[0, 1]], [2])
    b = sampled("worker", "milliseconds", [[0, 1], [0, 3]], [3, 1])
    assert server.post_ingest(app, doc(FRAMES, [a, b]), format="speedscope").status == 200
    # one profile, so no unit suffix: the default type (cpu)
    d = server.render('%s{service_name="%s",profile_name="worker"}' % (CPU, app))
    assert fb_stacks(d) == expected_sampled(FRAMES, [[0, 1], [0, 1], [0, 3]], [2, 3, 1],
                                            "milliseconds")


def test_evented_profile(server):
    app = uniq("ssev")
    ev = {"type": "evented", "name": "main thread", "unit": "microseconds", "startValue": 0,
          "endValue": 35, "events": [{"type": "O", "frame": 0, "at": 0},
                                     {"type": "O", "frame": 1, "at": 10},
                                     {"type": "C", "frame": 1, "at": 30},
                                     {"type": "C", "frame": 0, "at": 35}]}
    assert server.post_ingest(app, doc(FRAMES, [ev]), format="speedscope").status == 200
    # main: 10 µs before work opened (Pyroscope adds it without the ×100 precision factor)
    # plus 5 µs ×100 after; work: 20 µs ×100; then × 1e9 / 1e8
    d = server.render('%s{service_name="%s"}' % (CPU, app))
    assert fb_stacks(d) == {"main": (10 + 500) * 10, "main;work": 2000 * 10}


@pytest.mark.parametrize("body,what", [
    (b"{", "invalid JSON"),
    (json.dumps({"$schema": "https://example.com/other", "profiles": []}).encode(), "schema"),
    (doc(FRAMES, [sampled("p", "milliseconds", [[0, 9]], [1])]), "invalid frame"),
    (doc(FRAMES, [sampled("p", "milliseconds", [[0], [1]], [1])]), "2 samples but 1 weights"),
    (doc(FRAMES, [sampled("p", "milliseconds", [[0]], [-1])]), "bad weight"),
    (doc(FRAMES, [sampled("p", "furlongs", [[0]], [1])]), "unit"),
    (doc(FRAMES, [{"type": "evented", "name": "e", "unit": "seconds", "startValue": 0,
                   "events": [{"type": "C", "frame": 0, "at": 1}]}]), "not the open one"),
    (doc(FRAMES, [{"type": "evented", "name": "e", "unit": "seconds", "startValue": 5,
                   "events": [{"type": "O", "frame": 0, "at": 1}]}]), "out of order"),
    (doc(FRAMES, [{"type": "flat", "name": "e", "unit": "seconds"}]), "not supported"),
])
def test_malformed_speedscope_is_422(server, body, what):
    r = server.post_ingest(uniq("ssbad"), body, format="speedscope")
    d = assert_json_error(r, 422)
    assert what in d["message"], d
    assert server.get("/ready").status == 200
