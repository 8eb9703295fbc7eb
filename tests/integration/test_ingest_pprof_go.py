"""pprof from a real Go program (tests/e2e/go/gen, runtime/pprof): for every sample type of the
CPU and heap profiles, the flamebearer total equals the sum of that type's values as computed
independently by the Go program; pprof sample labels become series labels; multipart uploads
with sample_type_config; prev_profile stores the delta of cumulative types (PROTOCOLS.md §1.5,
§2)."""

import gzip
import json

import pytest

from embertest import fb_tree, function_totals, multipart, now, uniq

CPU_IDS = ["process_cpu:samples:count:cpu:nanoseconds",
           "process_cpu:cpu:nanoseconds:cpu:nanoseconds"]
HEAP_IDS = ["memory:alloc_objects:count:space:bytes", "memory:alloc_space:bytes:space:bytes",
            "memory:inuse_objects:count:space:bytes", "memory:inuse_space:bytes:space:bytes"]

# What pyroscope-go sends as sample_type_config for heap profiles.
HEAP_CONFIG = {
    "alloc_objects": {"units": "objects", "cumulative": True},
    "alloc_space": {"units": "bytes", "cumulative": True},
    "inuse_space": {"units": "bytes", "aggregation": "average"},
    "inuse_objects": {"units": "objects", "aggregation": "average"},
}


def _sel(type_id, app, extra=""):
    return '%s{service_name="%s"%s}' % (type_id, app, ("," + extra) if extra else "")


def _check_totals(server, go_profiles, app, fname, ids, sums=None):
    f = go_profiles.file(fname)
    sums = sums if sums is not None else f["sums"]
    got = {}
    for type_id, (typ, _unit), want in zip(ids, go_profiles.types(fname), sums):
        doc = server.render(_sel(type_id, app))
        got[type_id] = doc["flamebearer"]["numTicks"]
        assert doc["metadata"]["name"] == typ, doc["metadata"]
    assert got == dict(zip(ids, sums))


def test_generated_profiles_are_as_expected(go_profiles):
    """Preconditions on what the Go program wrote, so the server tests mean something."""
    assert go_profiles.type_ids("cpu.pb.gz", "process_cpu") == CPU_IDS
    assert go_profiles.type_ids("heap.pb.gz", "memory") == HEAP_IDS
    cpu = go_profiles.file("cpu.pb.gz")
    assert cpu["num_samples"] > 0 and all(s > 0 for s in cpu["sums"]), cpu["sums"]
    assert set(cpu["by_label"]["worker"]) == {"alpha", "beta"}
    heap = go_profiles.file("heap.pb.gz")
    assert all(s > 0 for s in heap["sums"]), heap["sums"]
    assert "main.allocSmall" in heap["by_function"] and "main.allocLarge" in heap["by_function"]
    d = go_profiles.summary["deltas"]["heap.pb.gz-heap1.pb.gz"]
    assert d["negative_stacks"][:2] == [0, 0], d   # alloc_* are cumulative
    assert all(x > 0 for x in d["sums"][:2]), d


def test_cpu_raw_gzip_every_sample_type(server, go_profiles):
    app = uniq("gocpu")
    server.ingest_ok(app, go_profiles.data("cpu.pb.gz"), format="pprof", spyName="gospy",
                     from_=now())
    _check_totals(server, go_profiles, app, "cpu.pb.gz", CPU_IDS)


def test_heap_raw_gzip_every_sample_type(server, go_profiles):
    app = uniq("goheap")
    server.ingest_ok(app, go_profiles.data("heap.pb.gz"), format="pprof", spyName="gospy")
    _check_totals(server, go_profiles, app, "heap.pb.gz", HEAP_IDS)


def test_raw_uncompressed_pprof(server, go_profiles):
    app = uniq("goraw")
    server.ingest_ok(app, gzip.decompress(go_profiles.data("cpu.pb.gz")), format="pprof")
    server.ingest_ok(app, gzip.decompress(go_profiles.data("heap.pb.gz")), format="pprof")
    _check_totals(server, go_profiles, app, "cpu.pb.gz", CPU_IDS)
    _check_totals(server, go_profiles, app, "heap.pb.gz", HEAP_IDS)


def test_function_totals_match(server, go_profiles):
    """Every main.* function's inclusive total in the flame graph equals the Go program's sum
    over the samples whose stack holds it."""
    app = uniq("gofn")
    server.ingest_ok(app, go_profiles.data("cpu.pb.gz"), format="pprof")
    server.ingest_ok(app, go_profiles.data("heap.pb.gz"), format="pprof")
    for fname, ids in (("cpu.pb.gz", CPU_IDS), ("heap.pb.gz", HEAP_IDS)):
        by_fn = go_profiles.file(fname)["by_function"]
        for i, type_id in enumerate(ids):
            got = function_totals(server.render(_sel(type_id, app)))
            want = {fn: v[i] for fn, v in by_fn.items() if v[i]}
            assert {fn: got.get(fn, 0) for fn in want} == want, type_id
    tree = fb_tree(server.render(_sel(CPU_IDS[1], app)))
    assert any(p.endswith(";main.burnAlpha;main.spin") for p in tree), sorted(tree)[:20]


def test_profile_type_ids_listed(server, go_profiles):
    app = uniq("goids")
    server.ingest_ok(app, go_profiles.data("cpu.pb.gz"), format="pprof")
    server.ingest_ok(app, go_profiles.data("heap.pb.gz"), format="pprof")
    r = server.get("/pyroscope/label-values", label="__name__")
    assert r.status == 200, r
    ids = r.json()
    assert set(CPU_IDS + HEAP_IDS) <= set(ids), ids


def test_sample_labels_become_series_labels(server, go_profiles):
    app = uniq("golbl")
    server.ingest_ok(app + "{env=prod}", go_profiles.data("cpu.pb.gz"), format="pprof")
    f = go_profiles.file("cpu.pb.gz")
    alpha, beta = f["by_label"]["worker"]["alpha"], f["by_label"]["worker"]["beta"]
    for i, type_id in enumerate(CPU_IDS):
        def total(extra):
            return server.total(_sel(type_id, app, extra))
        assert total('worker="alpha"') == alpha[i]
        assert total('worker="beta"') == beta[i]
        assert total('worker!="alpha"') == f["sums"][i] - alpha[i]
        assert total('worker=~"alpha|beta"') == alpha[i] + beta[i]
        assert total('worker!~"alpha|beta"') == f["unlabeled"][i]
        assert total('worker=""') == f["unlabeled"][i]
        assert total('env="prod"') == f["sums"][i]
        assert total('env="dev"') == 0
    r = server.get("/label-values", label="worker", query=app + ".cpu", **{"from": "now-1h",
                                                                        "until": "now"})
    assert r.status == 200, r
    assert sorted(r.json()) == ["alpha", "beta"]


def test_service_name_is_whole_app_name(server, go_profiles):
    """pprof ingest does not strip a `.suffix` from the app name (§1.5)."""
    app = uniq("gosvc") + ".cpu"
    server.ingest_ok(app, go_profiles.data("cpu.pb.gz"), format="pprof")
    assert server.total(_sel(CPU_IDS[1], app)) == go_profiles.file("cpu.pb.gz")["sums"][1]


def _multipart(go_profiles, profile, prev=None, config=None, filename="profile.pprof"):
    parts = [("profile", filename, "application/octet-stream", go_profiles.data(profile))]
    if prev:
        parts.append(("prev_profile", "profile.pprof", "application/octet-stream",
                      go_profiles.data(prev)))
    if config is not None:
        parts.append(("sample_type_config", "sample_type_config.json", "application/json",
                      json.dumps(config).encode()))
    return multipart(parts)


def test_multipart_cpu(server, go_profiles):
    app = uniq("gomp")
    body, ctype = _multipart(go_profiles, "cpu.pb.gz")
    r = server.post_ingest(app, body, {"Content-Type": ctype}, spyName="gospy", sampleRate=100,
                           from_=now() - 10, until=now())
    assert r.status == 200, r
    _check_totals(server, go_profiles, app, "cpu.pb.gz", CPU_IDS)


def test_multipart_heap_with_sample_type_config(server, go_profiles):
    app = uniq("gompcfg")
    body, ctype = _multipart(go_profiles, "heap.pb.gz", config=HEAP_CONFIG)
    r = server.post_ingest(app, body, {"Content-Type": ctype}, spyName="gospy",
                           from_=now() - 10, until=now())
    assert r.status == 200, r
    _check_totals(server, go_profiles, app, "heap.pb.gz", HEAP_IDS)


def test_multipart_prev_profile_stores_delta(server, go_profiles):
    """Older SDKs send cumulative heap profiles with the previous one: Ember stores
    profile − prev_profile for the cumulative types (alloc_*) and the profile as is for the
    others (inuse_*)."""
    app = uniq("gomprev")
    body, ctype = _multipart(go_profiles, "heap.pb.gz", prev="heap1.pb.gz", config=HEAP_CONFIG)
    r = server.post_ingest(app, body, {"Content-Type": ctype}, spyName="gospy",
                           from_=now() - 10, until=now())
    assert r.status == 200, r
    delta = go_profiles.summary["deltas"]["heap.pb.gz-heap1.pb.gz"]["sums"]
    cur = go_profiles.file("heap.pb.gz")["sums"]
    want = [delta[0], delta[1], cur[2], cur[3]]
    _check_totals(server, go_profiles, app, "heap.pb.gz", HEAP_IDS, sums=want)


@pytest.mark.parametrize("fname", ["cpu.pb.gz", "heap.pb.gz"])
def test_multipart_part_name_filename_any(server, go_profiles, fname):
    """Only parts with a filename are read; the filename itself does not matter."""
    app = uniq("gofn")
    body, ctype = _multipart(go_profiles, fname, filename="whatever.bin")
    r = server.post_ingest(app, body, {"Content-Type": ctype})
    assert r.status == 200, r
    ids = CPU_IDS if fname == "cpu.pb.gz" else HEAP_IDS
    _check_totals(server, go_profiles, app, fname, ids)
