"""Hand-made pprof (embertest.make_pprof) for exact shapes, label and naming rules
(PROTOCOLS.md §1.5, §2.1-2.3) without depending on Go."""

import gzip

from embertest import (expected_flamebearer, expected_tree, fb_tree, make_pprof, multipart,
                       now, uniq)

CPU_TYPES = [("samples", "count"), ("cpu", "nanoseconds")]
SAMPLES = [
    (["main", "work", "hash"], [3, 30], {"worker": "a"}),
    (["main", "io"], [1, 10], {}),
    (["main", "work", "hash"], [2, 20], {"worker": "b"}),
    (["main", "work"], [4, 40], {"worker": "a", "n": 7}),   # numeric label: not a series label
    (["gc"], [5, 50], {}),
]


def _cpu(**kw):
    return make_pprof(CPU_TYPES, SAMPLES, period_type=("cpu", "nanoseconds"), period=10,
                      **kw)


def test_exact_tree_each_type(server):
    app = uniq("syn")
    server.ingest_ok(app, _cpu(), format="pprof", from_=now() - 60)
    for i, tid in enumerate(["process_cpu:samples:count:cpu:nanoseconds",
                             "process_cpu:cpu:nanoseconds:cpu:nanoseconds"]):
        stacks = {}
        for frames, vals, _ in SAMPLES:
            k = ";".join(frames)
            stacks[k] = stacks.get(k, 0) + vals[i]
        doc = server.render('%s{service_name="%s"}' % (tid, app))
        exp = expected_flamebearer(stacks)
        assert fb_tree(doc) == expected_tree(stacks)
        assert doc["flamebearer"]["names"] == exp["names"]
        assert doc["flamebearer"]["levels"] == exp["levels"]


def test_string_sample_labels_are_series_labels(server):
    app = uniq("synlbl")
    server.ingest_ok(app, _cpu(), format="pprof", from_=now() - 60)
    q = 'process_cpu:cpu:nanoseconds:cpu:nanoseconds{service_name="%s",%s}'
    assert fb_tree(server.render(q % (app, 'worker="a"'))) == \
        expected_tree({"main;work;hash": 30, "main;work": 40})
    assert fb_tree(server.render(q % (app, 'worker="b"'))) == expected_tree({"main;work;hash": 20})
    assert fb_tree(server.render(q % (app, 'worker=""'))) == \
        expected_tree({"main;io": 10, "gc": 50})
    r = server.get("/label-values", label="n", query=app + ".cpu", **{"from": "now-1h",
                                                                    "until": "now"})
    assert r.status == 200, r
    assert r.json() in ([], None), r


def test_uncompressed_equals_gzipped(server):
    a, b = uniq("syngz"), uniq("synraw")
    server.ingest_ok(a, _cpu(), format="pprof", from_=now() - 60)
    server.ingest_ok(b, _cpu(compress=False), format="pprof", from_=now() - 60)
    q = 'process_cpu:cpu:nanoseconds:cpu:nanoseconds{service_name="%s"}'
    assert server.render(q % a)["flamebearer"] == server.render(q % b)["flamebearer"]


def test_time_nanos_is_the_profile_time(server):
    app = uniq("syntime")
    t = now() - 500
    server.ingest_ok(app, _cpu(time_nanos=t * 10**9), format="pprof", from_=now() - 10)
    q = 'process_cpu:cpu:nanoseconds:cpu:nanoseconds{service_name="%s"}' % app
    assert server.total(q, from_=t - 5, until=t + 5) == 150
    assert server.total(q, from_=t + 100, until=now()) == 0


def test_time_nanos_zero_means_from(server):
    app = uniq("synfrom")
    t = now() - 400
    server.ingest_ok(app, _cpu(), format="pprof", from_=t, until=t + 10)
    q = 'process_cpu:cpu:nanoseconds:cpu:nanoseconds{service_name="%s"}' % app
    assert server.total(q, from_=t - 5, until=t + 5) == 150


def test_memory_name_and_period(server):
    app = uniq("synmem")
    p = make_pprof([("alloc_objects", "count"), ("alloc_space", "bytes")],
                   [(["m", "alloc"], [2, 128], {}), (["m", "grow"], [1, 4096], {})],
                   period_type=("space", "bytes"), period=524288)
    server.ingest_ok(app, p, format="pprof", from_=now() - 60)
    assert server.total('memory:alloc_objects:count:space:bytes{service_name="%s"}' % app) == 3
    assert server.total('memory:alloc_space:bytes:space:bytes{service_name="%s"}' % app) == 4224


def test_unmatched_type_names_profile_after_last_type(server):
    """No cpu/alloc_/inuse_/mutex_/block_/goroutines type: __name__ = last sample type name."""
    app = uniq("synfoo")
    p = make_pprof([("foo", "count"), ("bar", "bytes")], [(["x", "y"], [2, 9], {})])
    server.ingest_ok(app, p, format="pprof", from_=now() - 60)
    assert server.total('bar:foo:count::{service_name="%s"}' % app) == 2
    assert server.total('bar:bar:bytes::{service_name="%s"}' % app) == 9


def test_display_name_picks_profile_name(server):
    """A Go block profile needs display names block_count/block_duration (§1.5)."""
    app = uniq("synblock")
    p = make_pprof([("contentions", "count"), ("delay", "nanoseconds")],
                   [(["main", "lock"], [3, 900], {})], period_type=("contentions", "count"),
                   period=1)
    cfg = (b'{"contentions":{"display-name":"block_count","units":"lock_samples",'
           b'"cumulative":false},'
           b'"delay":{"display-name":"block_duration","units":"lock_nanoseconds",'
           b'"cumulative":false}}')
    body, ctype = multipart([("profile", "profile.pprof", None, p),
                             ("sample_type_config", "sample_type_config.json", None, cfg)])
    r = server.post_ingest(app, body, {"Content-Type": ctype}, spyName="gospy",
                           from_=now() - 60)
    assert r.status == 200, r
    assert server.total('block:contentions:count:contentions:count{service_name="%s"}'
                        % app) == 3
    assert server.total('block:delay:nanoseconds:contentions:count{service_name="%s"}'
                        % app) == 900


def test_default_display_names_mutex(server):
    """Without config, contentions/delay default to mutex_count/mutex_duration → mutex."""
    app = uniq("synmutex")
    p = make_pprof([("contentions", "count"), ("delay", "nanoseconds")],
                   [(["main", "lock"], [4, 800], {})], period_type=("contentions", "count"),
                   period=1)
    server.ingest_ok(app, p, format="pprof", from_=now() - 60)
    assert server.total('mutex:contentions:count:contentions:count{service_name="%s"}'
                        % app) == 4
    assert server.total('mutex:delay:nanoseconds:contentions:count{service_name="%s"}'
                        % app) == 800


def test_multipart_without_profile_is_a_noop(server):
    app = uniq("synnoprof")
    body, ctype = multipart([("profile", None, None, _cpu())])   # no filename → not read
    r = server.post_ingest(app, body, {"Content-Type": ctype}, from_=now() - 60)
    assert r.status == 200, r
    assert server.total('process_cpu:cpu:nanoseconds:cpu:nanoseconds{service_name="%s"}'
                        % app) == 0


def test_gzip_member_of_plain_body(server):
    """Sanity: the gzip our writer makes is what the server must sniff (1f 8b)."""
    assert _cpu()[:2] == b"\x1f\x8b"
    assert gzip.decompress(_cpu()) == _cpu(compress=False)
