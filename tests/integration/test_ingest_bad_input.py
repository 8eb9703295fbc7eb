"""Bad input (issue 3 "Must show", PROTOCOLS.md §1.7): malformed and truncated pprof, bad gzip,
bad `name`, bad selector, unknown format → 4xx with a JSON error {"code","message"}; after each,
the server still serves and the data ingested before is intact (exact totals)."""

import gzip
import os

import pytest

from embertest import (CPU, NS, assert_clean_4xx_or_ok, assert_json_error, expected_tree,
                       fb_tree, make_pprof, multipart, now, uniq)

BASE_STACKS = {"base;a": 3, "base;b": 5}


@pytest.fixture(scope="module")
def baseline(server):
    app = uniq("bad_base")
    body = "".join("%s %d\n" % kv for kv in BASE_STACKS.items()).encode()
    server.ingest_ok(app + ".cpu{env=prod}", body, from_=now() - 120)
    p = make_pprof([("alloc_space", "bytes")], [(["m", "x"], [1000], {})],
                   period_type=("space", "bytes"), period=1)
    server.ingest_ok(app, p, format="pprof", from_=now() - 120)
    return app


def intact(server, app):
    r = server.get("/ready")
    assert r.status == 200, r
    doc = server.render('%s{service_name="%s",env="prod"}' % (CPU, app))
    assert fb_tree(doc) == expected_tree({k: v * NS for k, v in BASE_STACKS.items()})
    assert server.total('memory:alloc_space:bytes:space:bytes{service_name="%s"}' % app) == 1000
    # and it still takes new data
    probe = uniq("probe")
    server.ingest_ok(probe + ".cpu", b"p 1\n", from_=now() - 30)
    assert server.total(probe + ".cpu") == NS


def _valid_raw():
    return make_pprof([("cpu", "nanoseconds")], [(["a", "b", "c"], [7], {"k": "v"}),
                                                 (["a", "d"], [9], {})],
                      period_type=("cpu", "nanoseconds"), period=1, compress=False)


def _proto_field(num, wt, payload):
    return bytes([(num << 3) | wt]) + payload


BAD_PPROF = {
    "invalid_wire_type": b"\x0f\xff\xff\xff\xff",
    "text": b"this is not a profile at all\n",
    "varint_overflow": b"\x08" + b"\xff" * 11,
    "length_past_end": b"\x0a\x7f\x08\x01",
    "truncated_raw": _valid_raw()[: len(_valid_raw()) * 2 // 3],
    "truncated_gzip": gzip.compress(_valid_raw())[:40],
    "bad_gzip": b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03" + b"\x00garbage-not-deflate" * 4,
    "gzip_of_garbage": gzip.compress(b"\x0f\xff\xff\xff\xff"),
    "gzip_header_only": b"\x1f\x8b",
    "string_index_out_of_range": _proto_field(1, 2, b"\x04\x08\x63\x10\x64") + b"\x32\x00",
    "location_missing": make_pprof([("cpu", "nanoseconds")], [(["a"], [1], {})],
                                   compress=False)
                        .replace(b"\x12\x06\x0a\x01\x01", b"\x12\x06\x0a\x01\x09"),  # loc 9
    "values_len_mismatch": make_pprof([("samples", "count"), ("cpu", "nanoseconds")],
                                      [(["a"], [1], {})], compress=False),
    "string_table_0_not_empty": make_pprof([("cpu", "nanoseconds")], [(["a"], [1], {})],
                                           compress=False, strings_first=None)
                                .replace(b"\x32\x00", b"\x32\x01X", 1),
    "random_bytes": bytes((i * 131 + 7) % 256 for i in range(2048)),
}


@pytest.mark.parametrize("case", sorted(BAD_PPROF))
def test_bad_raw_pprof_is_422(server, baseline, case):
    body = BAD_PPROF[case]
    app = uniq("badpprof")
    r = server.post_ingest(app, body, format="pprof", from_=now() - 60)
    assert_json_error(r, 422, "unknown")
    assert server.total('%s{service_name="%s"}' % (CPU, app)) == 0
    intact(server, baseline)


@pytest.mark.parametrize("case", ["truncated_gzip", "bad_gzip", "invalid_wire_type",
                                  "truncated_raw"])
def test_bad_multipart_pprof_is_422(server, baseline, case):
    body, ctype = multipart([("profile", "profile.pprof", None, BAD_PPROF[case])])
    r = server.post_ingest(uniq("badmp"), body, {"Content-Type": ctype}, from_=now() - 60)
    assert_json_error(r, 422, "unknown")
    intact(server, baseline)


def test_broken_multipart_body(server, baseline):
    for body in (b"--nope\r\nContent-Disposition: form-data; name=\"profile\"; "
                 b"filename=\"p\"\r\n\r\nabc",
                 b"not multipart at all", b""):
        r = server.post_ingest(uniq("badmp2"), body,
                               {"Content-Type": "multipart/form-data; boundary=nope"},
                               from_=now() - 60)
        assert_clean_4xx_or_ok(r)
    r = server.post_ingest(uniq("badmp3"), b"x", {"Content-Type": "multipart/form-data"})
    assert_clean_4xx_or_ok(r)
    intact(server, baseline)


@pytest.mark.parametrize("name", [
    "{x=1}",                 # empty app
    "   {x=1}",
    "",
    "app.cpu{=v}",           # empty key
    "app.cpu{k}",            # pair without '='
    "app.cpu{a-b=1}",        # bad key rune
    "ap p!.cpu",             # bad app runes
])
def test_bad_name_is_400(server, baseline, name):
    r = server.post_ingest(name, b"a;b 1\n", from_=now() - 60)
    assert_json_error(r, 400, "invalid_argument")
    intact(server, baseline)


def test_missing_name_is_400(server, baseline):
    r = server.post("/ingest", b"a;b 1\n", **{"from": now() - 60})
    assert_json_error(r, 400, "invalid_argument")
    intact(server, baseline)


@pytest.mark.parametrize("query", [
    '%s{service_name="x"' % CPU,                     # unterminated
    '{service_name="x"}',                            # no profile type
    'process_cpu:cpu{service_name="x"}',             # 2-part profile type
    '%s{service_name=~"("}' % CPU,                   # bad regex
    '%s{service_name="x",}}' % CPU,
    '%s{service_name=x}' % CPU,                      # unquoted value
    'app.cpu{env="prod"',
    '',
])
def test_bad_selector_is_400(server, baseline, query):
    r = server.render_raw(query)
    assert_json_error(r, 400)
    r = server.render_raw(query, path="/pyroscope/render")
    assert_json_error(r, 400)
    intact(server, baseline)


def test_missing_query_is_400(server, baseline):
    r = server.get("/render", **{"from": "now-1h", "until": "now"})
    assert_json_error(r, 400)
    intact(server, baseline)


def test_unknown_format_with_text_is_folded(server, baseline):
    """§1.1: an unknown `format` value means folded."""
    app = uniq("fmtunknown")
    server.ingest_ok(app + ".cpu", b"u;v 2\n", format="banana", from_=now() - 60)
    assert fb_tree(server.render(app + ".cpu")) == expected_tree({"u;v": 2 * NS})
    intact(server, baseline)


def test_unknown_format_with_binary_body(server, baseline):
    app = uniq("fmtbin")
    for body in (BAD_PPROF["random_bytes"], gzip.compress(_valid_raw()), os.urandom(4096)):
        r = server.post_ingest(app + ".cpu", body, format="banana", from_=now() - 60)
        assert_clean_4xx_or_ok(r)
    doc = server.render(app + ".cpu")
    assert doc["flamebearer"]["numTicks"] >= 0
    intact(server, baseline)


def test_invalid_utf8_in_folded(server, baseline):
    r = server.post_ingest(uniq("utf8") + ".cpu", b"ma\xffin;w\xc3 1\n", from_=now() - 60)
    assert_json_error(r, 422, "unknown")
    intact(server, baseline)


def test_non_integer_folded_count(server, baseline):
    r = server.post_ingest(uniq("nonint") + ".cpu", b"a;b 1.5\n", from_=now() - 60)
    assert 400 <= r.status < 500, r
    assert_json_error(r, r.status)
    intact(server, baseline)


def test_everything_intact_at_the_end(server, baseline):
    intact(server, baseline)
