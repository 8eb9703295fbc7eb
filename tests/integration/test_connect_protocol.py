"""Connect unary protocol edge cases on /querier.v1.QuerierService/* (PROTOCOLS.md §4):
content types, methods, empty / malformed / compressed bodies, protojson details (int64 as
strings, snake_case names, enums by name or number), unknown methods and unimplemented ones.
Stdlib only; binary messages are written and read with connecttest's protobuf helpers."""

import gzip
import json

import pytest

from connecttest import JSON, PROTO, Q, f_bytes, f_varint, fields, packed_ints, rpc, varint
from embertest import CPU, NS, assert_json_error, now, uniq

# -- data ---------------------------------------------------------------------------------------

STACKS = {"main;work": 3, "main;idle": 7}


@pytest.fixture(scope="module")
def app(server):
    name = uniq("connproto")
    t = now() - 120
    body = "".join("%s %d\n" % kv for kv in STACKS.items()).encode()
    server.ingest_ok(name + ".cpu", body, from_=t, until=t + 10)
    return {"name": name, "t": t, "start": (t - 600) * 1000, "end": (t + 600) * 1000,
            "sel": '{service_name="%s"}' % name}


def merge_json(app, **extra):
    req = {"profileTypeID": CPU, "labelSelector": app["sel"],
           "start": str(app["start"]), "end": str(app["end"])}
    req.update(extra)
    return json.dumps(req).encode()


def merge_proto(app):
    return (f_bytes(1, CPU) + f_bytes(2, app["sel"]) + f_varint(3, app["start"]) +
            f_varint(4, app["end"]))


# -- content type, HTTP method, routing ---------------------------------------------------------

@pytest.mark.parametrize("ctype", [None, "text/plain", "application/x-www-form-urlencoded",
                                   "application/jsonx", "application/protobuf",
                                   "application/connect+json", "application/grpc"])
def test_unsupported_content_type_is_415(server, ctype):
    headers = {"Content-Type": ctype} if ctype else {}
    r = rpc(server, "ProfileTypes", b"{}", headers)
    assert_json_error(r, 415)


@pytest.mark.parametrize("ctype", ["application/json; charset=utf-8", "Application/JSON",
                                   "application/json ;charset=utf-8"])
def test_json_content_type_parameters_accepted(server, ctype):
    r = rpc(server, "ProfileTypes", b"{}", {"Content-Type": ctype})
    assert r.status == 200, r
    assert r.headers["content-type"].startswith("application/json"), r
    assert isinstance(r.json(), dict)


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_non_post_is_405_with_allow(server, method):
    r = server.request(method, Q + "ProfileTypes", body=b"{}" if method != "GET" else None,
                       headers=JSON)
    assert_json_error(r, 405)
    assert r.headers.get("allow") == "POST", r


@pytest.mark.parametrize("path", [Q + "NoSuchMethod", "/querier.v1.NoSuchService/ProfileTypes",
                                  Q + "profileTypes", Q + "ProfileTypes/extra"])
def test_unknown_method_is_404(server, path):
    assert_json_error(server.post(path, b"{}", JSON), 404, "not_found")
    assert_json_error(server.post(path, b"", PROTO), 404, "not_found")
    assert_json_error(server.get(path), 404, "not_found")


@pytest.mark.parametrize("method", ["SelectHeatmap", "AnalyzeQuery"])
def test_unimplemented_methods_are_501(server, method):
    assert_json_error(rpc(server, method, b"{}"), 501, "unimplemented")
    r = rpc(server, method, b"", PROTO)
    assert_json_error(r, 501, "unimplemented")  # errors are JSON whatever the request codec


# -- bodies ---------------------------------------------------------------------------------------

def test_empty_json_body_is_400_but_empty_proto_is_the_empty_message(server):
    assert_json_error(rpc(server, "ProfileTypes", b""), 400, "invalid_argument")
    assert_json_error(rpc(server, "GetProfileStats", b""), 400, "invalid_argument")
    r = rpc(server, "GetProfileStats", b"", PROTO)
    assert r.status == 200 and r.headers["content-type"] == "application/proto", r
    r = rpc(server, "GetProfileStats", b"{}")
    assert r.status == 200 and r.headers["content-type"] == "application/json", r


@pytest.mark.parametrize("body", [
    b"{", b'{"start":', b"[]", b"null", b'"x"', b"{} x", b'{"start":"abc"}',
    b'{"start":1.5}', b'{"start":"9223372036854775808"}', b'{"start":true}',
    b'{"start":{}}', b"\xff\xfe", b'{"start":1,}', b'{start:1}',
])
def test_malformed_json_is_400_with_connect_error(server, body):
    doc = assert_json_error(rpc(server, "ProfileTypes", body), 400, "invalid_argument")
    assert len(doc["message"]) < 500, doc


@pytest.mark.parametrize("body", [
    b'{"name":"env","matchers":"x"}', b'{"name":["env"]}', b'{"name":1}',
    b'{"name":"env","matchers":[1]}',
])
def test_json_wrong_types_are_400(server, body):
    assert_json_error(rpc(server, "LabelValues", body), 400, "invalid_argument")


@pytest.mark.parametrize("body", [
    b"\x08",                      # start: varint cut off
    b"\x08\xff\xff",              # start: varint cut off after continuation bytes
    b"\x0f\x01",                  # wire type 7
    b"\x00\x01",                  # field number 0
    b"\x12\x05ab",                # length-delimited longer than the body
    b"\x08" + b"\xff" * 10 + b"\x01",  # varint over 10 bytes
])
def test_malformed_proto_is_400_with_connect_error(server, body):
    r = rpc(server, "ProfileTypes", body, PROTO)
    assert_json_error(r, 400, "invalid_argument")


def test_malformed_nested_proto_is_400(server, app):
    # Diff.left is a message whose bytes are not a valid SelectMergeStacktracesRequest
    body = f_bytes(1, b"\x08") + f_bytes(2, merge_proto(app))
    assert_json_error(rpc(server, "Diff", body, PROTO), 400, "invalid_argument")
    # a string field holding invalid UTF-8
    body = f_bytes(1, b"\xff\xfe") + f_bytes(2, app["sel"]) + f_varint(3, 1) + f_varint(4, 2)
    assert_json_error(rpc(server, "SelectMergeStacktraces", body, PROTO), 400)


def test_unknown_proto_fields_are_skipped(server, app):
    plain = rpc(server, "SelectMergeStacktraces", merge_proto(app), PROTO)
    assert plain.status == 200, plain
    extra = (merge_proto(app) + f_varint(99, 12345) + f_bytes(100, b"whatever") +
             varint((101 << 3) | 5) + b"\0\0\0\0" + varint((102 << 3) | 1) + b"\0" * 8)
    r = rpc(server, "SelectMergeStacktraces", extra, PROTO)
    assert r.status == 200, r
    assert r.body == plain.body


def test_gzip_request_bodies(server, app):
    plain_json = rpc(server, "SelectMergeStacktraces", merge_json(app))
    assert plain_json.status == 200, plain_json
    r = rpc(server, "SelectMergeStacktraces", gzip.compress(merge_json(app)),
            dict(JSON, **{"Content-Encoding": "gzip"}))
    assert r.status == 200, r
    assert r.json() == plain_json.json()
    plain_proto = rpc(server, "SelectMergeStacktraces", merge_proto(app), PROTO)
    r = rpc(server, "SelectMergeStacktraces", gzip.compress(merge_proto(app)),
            dict(PROTO, **{"Content-Encoding": "gzip"}))
    assert r.status == 200 and r.body == plain_proto.body, r
    r = rpc(server, "SelectMergeStacktraces", merge_json(app),
            dict(JSON, **{"Content-Encoding": "identity"}))
    assert r.status == 200 and r.json() == plain_json.json(), r
    # a gzip header with a bad body, and no gzip at all
    assert_json_error(rpc(server, "ProfileTypes", gzip.compress(b"{}")[:12],
                          dict(JSON, **{"Content-Encoding": "gzip"})), 400)
    assert_json_error(rpc(server, "ProfileTypes", b"{}",
                          dict(JSON, **{"Content-Encoding": "gzip"})), 400)
    # Connect: an encoding the server does not support is `unimplemented`
    assert_json_error(rpc(server, "ProfileTypes", b"{}",
                          dict(JSON, **{"Content-Encoding": "br"})), 501, "unimplemented")


def test_gzip_bomb_over_body_limit_is_413(make_server):
    srv = make_server("-limits.ingestion-body-limit-mb=1")
    body = gzip.compress(b'{"start":"1"' + b" " * (2 << 20) + b"}")
    assert len(body) < 1 << 20
    r = srv.post(Q + "ProfileTypes", body, dict(JSON, **{"Content-Encoding": "gzip"}))
    assert_json_error(r, 413)
    # the same content uncompressed but within the limit works
    r = srv.post(Q + "ProfileTypes", b'{"start":"1"' + b" " * 1000 + b"}", JSON)
    assert r.status == 200, r


# -- protojson ------------------------------------------------------------------------------------

def test_int64_as_strings_both_ways(server, app):
    total = sum(STACKS.values()) * NS
    as_strings = rpc(server, "SelectMergeStacktraces", merge_json(app))
    assert as_strings.status == 200, as_strings
    as_numbers = rpc(server, "SelectMergeStacktraces",
                     merge_json(app, start=app["start"], end=app["end"]))
    assert as_numbers.status == 200, as_numbers
    assert as_strings.body == as_numbers.body
    fg = as_strings.json()["flamegraph"]
    # int64 out as JSON strings: total, maxSelf and every level value
    assert fg["total"] == str(total), fg
    assert fg["maxSelf"] == str(7 * NS), fg
    assert all(isinstance(v, str) for lv in fg["levels"] for v in lv["values"]), fg
    assert fg["levels"][0] == {"values": ["0", str(total), "0", "0"]}, fg
    # the raw text carries the quotes
    assert b'"total":"%d"' % total in as_strings.body
    stats = rpc(server, "GetProfileStats", b"{}").json()
    assert stats["dataIngested"] is True
    assert isinstance(stats["oldestProfileTime"], str) and isinstance(stats["newestProfileTime"], str)


def test_snake_case_names_and_enums_by_name_or_number(server, app):
    camel = rpc(server, "SelectMergeStacktraces", merge_json(app, maxNodes="10", format=1))
    snake = rpc(server, "SelectMergeStacktraces", json.dumps({
        "profile_typeID": CPU, "label_selector": app["sel"], "start": app["start"],
        "end": app["end"], "max_nodes": 10, "format": "PROFILE_FORMAT_FLAMEGRAPH"}).encode())
    assert camel.status == 200 and snake.status == 200, (camel, snake)
    assert camel.json() == snake.json()
    base = dict(profileTypeID=CPU, labelSelector=app["sel"], start=str(app["start"]),
                end=str(app["end"]), step=600)
    by_name = rpc(server, "SelectSeries", json.dumps(
        dict(base, aggregation="TIME_SERIES_AGGREGATION_TYPE_AVERAGE")).encode())
    by_number = rpc(server, "SelectSeries", json.dumps(dict(base, aggregation=1)).encode())
    assert by_name.status == 200 and by_number.status == 200, (by_name, by_number)
    assert by_name.json() == by_number.json()
    pts = by_name.json()["series"][0]["points"]
    assert [p["value"] for p in pts] == [sum(STACKS.values()) * NS]
    assert all(isinstance(p["timestamp"], str) for p in pts), pts
    assert_json_error(rpc(server, "SelectSeries", json.dumps(
        dict(base, aggregation="NO_SUCH_VALUE")).encode()), 400, "invalid_argument")
    # "step" is a double: a JSON string holding a number is accepted too (protojson)
    r = rpc(server, "SelectSeries", json.dumps(dict(base, step="600")).encode())
    assert r.status == 200, r
    assert r.json()["series"][0]["points"] == pts, r


def test_default_values_omitted_and_empty_message(server):
    r = rpc(server, "LabelValues", json.dumps({"name": "no_such_label_at_all"}).encode())
    assert r.status == 200 and r.json() == {}, r
    r = rpc(server, "LabelValues", f_bytes(1, "no_such_label_at_all"), PROTO)
    assert r.status == 200 and r.body == b"", r


def test_binary_answer_matches_json_answer(server, app):
    j = rpc(server, "SelectMergeStacktraces", merge_json(app)).json()["flamegraph"]
    r = rpc(server, "SelectMergeStacktraces", merge_proto(app), PROTO)
    assert r.status == 200 and r.headers["content-type"] == "application/proto", r
    (fg,) = fields(r.body, 1)
    names = [b.decode() for b in fields(fg, 1)]
    levels = [packed_ints(fields(lv, 1)[0]) for lv in fields(fg, 2)]
    assert names == j["names"]
    assert levels == [[int(v) for v in lv["values"]] for lv in j["levels"]]
    assert fields(fg, 3) == [int(j["total"])]
    assert fields(fg, 4) == [int(j["maxSelf"])]


def test_errors_from_handlers_carry_connect_codes(server, app):
    # request-level validation (§6 rules): zero times, start > end, bad type id, no selector
    for body in (merge_json(app, start="0"), merge_json(app, start=str(app["end"] + 1)),
                 merge_json(app, profileTypeID="cpu"), merge_json(app, labelSelector=""),
                 merge_json(app, labelSelector="{a=")):
        assert_json_error(rpc(server, "SelectMergeStacktraces", body), 400, "invalid_argument")
    # the same errors for a binary request are JSON too
    r = rpc(server, "SelectMergeStacktraces", f_bytes(1, CPU) + f_bytes(2, "{}"), PROTO)
    assert_json_error(r, 400, "invalid_argument")
