"""sampleRate and the app-name suffix (PROTOCOLS.md §1.1, §1.4) and the flamebearer metadata
units/sampleRate they lead to (§3.3)."""

import pytest

from embertest import CPU, assert_json_error, fb_tree, now, uniq

BODY = b"main;hot 3\nmain;cold 1\n"  # 4 samples


@pytest.mark.parametrize("rate,factor", [
    (None, 10**7),          # default 100 Hz → 1e9/100 ns per sample
    (100, 10**7),
    (1000, 10**6),
    (50, 2 * 10**7),
    (1, 10**9),
    ("abc", 10**7),         # non-numeric → 100, silently
    (-5, 10**7),            # negative → 100, silently
])
def test_cpu_sample_rate_scaling(server, rate, factor):
    app = uniq("rate")
    server.ingest_ok(app + ".cpu", BODY, sampleRate=rate, from_=now() - 60)
    doc = server.render('%s{service_name="%s"}' % (CPU, app))
    assert doc["flamebearer"]["numTicks"] == 4 * factor
    assert fb_tree(doc) == {"main": (4 * factor, 0), "main;hot": (3 * factor, 3 * factor),
                            "main;cold": (factor, factor)}
    md = doc["metadata"]
    assert (md["units"], md["sampleRate"], md["name"]) == ("samples", 1000000000, "cpu"), md


def test_sample_rate_zero_keeps_raw_sample_counts(server):
    """sampleRate=0 is kept: the type is process_cpu:samples:count:: with raw values."""
    app = uniq("rate0")
    server.ingest_ok(app + ".cpu", BODY, sampleRate=0, from_=now() - 60)
    doc = server.render('process_cpu:samples:count::{service_name="%s"}' % app)
    assert doc["flamebearer"]["numTicks"] == 4
    md = doc["metadata"]
    assert (md["units"], md["sampleRate"], md["name"]) == ("objects", 100, "samples"), md
    assert server.total('%s{service_name="%s"}' % (CPU, app)) == 0


@pytest.mark.parametrize("suffix,type_id,factor,units", [
    ("", CPU, 10**7, "samples"),                       # no dot → cpu
    (".itimer", CPU, 10**7, "samples"),
    (".wall", "wall:wall:nanoseconds:cpu:nanoseconds", 10**7, "nanoseconds"),
    (".alloc_objects", "memory:alloc_objects:count::", 1, "objects"),
    (".alloc_space", "memory:alloc_space:bytes::", 1, "bytes"),
    (".inuse_objects", "memory:inuse_objects:count::", 1, "objects"),
    (".inuse_space", "memory:inuse_space:bytes::", 1, "bytes"),
    (".goroutines", "goroutine:goroutines:count::", 1, None),
    (".mutex_count", "mutex:contentions:count::", 1, None),
    (".mutex_duration", "mutex:delay:nanoseconds::", 1, "nanoseconds"),
    (".block_count", "block:contentions:count::", 1, None),
    (".block_duration", "block:delay:nanoseconds::", 1, "nanoseconds"),
])
def test_suffix_picks_profile_type(server, suffix, type_id, factor, units):
    app = uniq("suffix")
    server.ingest_ok(app + suffix + "{env=x}", BODY, from_=now() - 60)
    doc = server.render('%s{service_name="%s",env="x"}' % (type_id, app))
    assert doc["flamebearer"]["numTicks"] == 4 * factor, type_id
    assert fb_tree(doc)["main;hot"] == (3 * factor, 3 * factor)
    if units is not None:
        assert doc["metadata"]["units"] == units, doc["metadata"]
    if suffix:  # the suffix is stripped from service_name
        assert server.total('%s{service_name="%s%s"}' % (type_id, app, suffix)) == 0


def test_dotted_app_name_strips_only_last_suffix(server):
    app = uniq("dotted")
    server.ingest_ok("my.%s.cpu" % app, BODY, from_=now() - 60)
    assert server.total('%s{service_name="my.%s"}' % (CPU, app)) == 4 * 10**7
    assert server.total("my.%s.cpu" % app) == 4 * 10**7


@pytest.mark.parametrize("suffix,type_id", [
    (".alloc_space", "memory:alloc_space:bytes::"),
    (".inuse_objects", "memory:inuse_objects:count::"),
    (".wall", "wall:wall:nanoseconds:cpu:nanoseconds"),
])
def test_legacy_query_for_other_suffixes(server, suffix, type_id):
    app = uniq("legacysfx")
    server.ingest_ok(app + suffix + "{env=x}", BODY, from_=now() - 60)
    want = server.total('%s{service_name="%s"}' % (type_id, app))
    assert want > 0
    assert server.total('%s%s{env="x"}' % (app, suffix)) == want


def test_unknown_suffix_is_invalid_argument(server):
    r = server.post_ingest(uniq("sfx") + ".banana", BODY, from_=now() - 60)
    assert_json_error(r, 400, "invalid_argument")
