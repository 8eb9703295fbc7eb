"""OTLP profiles (issue 8, PROTOCOLS.md §10.7; opentelemetry-proto v1.9.0 written down in
docs/API.md). tests/e2e/connect/otlp_client.test.mjs builds requests with code generated from
our proto/opentelemetry files and checks values through the querier in protobuf and JSON
modes; here: the HTTP rules (content types, gzip, both paths, plain-text errors, tenancy)
and bad references, which must be 400 without storing anything."""

import gzip

from connecttest import f_bytes, f_varint
from embertest import CPU, uniq
from test_connect_client import run_node_test

PATH = "/v1development/profiles"
EXPORT = "/opentelemetry.proto.collector.profiles.v1development.ProfilesService/Export"
PB = {"Content-Type": "application/x-protobuf"}


def request(app, stack_index=0, loc_index=0, fn_name_index=3, value=4):
    """A minimal binary ExportProfilesServiceRequest: one CPU profile (samples/count with a
    cpu/nanoseconds period of 1000), one sample of `value` on a one-frame stack."""
    strings = ["", "samples", "count", "fn_main", "cpu", "nanoseconds", "service.name", app]
    dictionary = b"".join(f_bytes(5, s) for s in strings)
    dictionary += f_bytes(3, f_varint(1, fn_name_index))                 # function_table
    dictionary += f_bytes(2, f_bytes(3, f_varint(1, 0)))                 # location: line fn 0
    dictionary += f_bytes(7, f_varint(1, loc_index))                     # stack: [loc]
    sample = f_varint(1, stack_index) + f_bytes(4, bytes([value]))
    profile = (f_bytes(1, f_varint(1, 1) + f_varint(2, 2)) + f_bytes(2, sample) +
               f_bytes(5, f_varint(1, 4) + f_varint(2, 5)) + f_varint(6, 1000))
    resource = f_bytes(1, f_bytes(1, "service.name") + f_bytes(2, f_bytes(1, app)))
    rp = f_bytes(1, resource) + f_bytes(2, f_bytes(2, profile))
    return f_bytes(1, rp) + f_bytes(2, dictionary)


def test_otlp_binary_gzip_and_both_paths(make_server):
    srv = make_server()
    a, b = uniq("otlpa"), uniq("otlpb")
    r = srv.post(PATH, request(a), PB)
    assert r.status == 200 and r.headers["content-type"] == "application/x-protobuf", r
    r = srv.post(EXPORT, gzip.compress(request(b)), dict(PB, **{"Content-Encoding": "gzip"}))
    assert r.status == 200, r
    assert srv.total('%s{service_name="%s"}' % (CPU, a)) == 4000
    assert srv.total('%s{service_name="%s"}' % (CPU, b)) == 4000
    srv.restart()  # stored through the WAL like any push
    assert srv.total('%s{service_name="%s"}' % (CPU, a)) == 4000


def test_otlp_bad_requests_are_plain_text_and_store_nothing(make_server):
    srv = make_server()
    app = uniq("otlpbad")
    r = srv.post(PATH, request(app), {"Content-Type": "text/plain"})
    assert r.status == 415 and r.headers["content-type"].startswith("text/plain"), r
    for body, what in ((b"\x0a\xff\xff", "truncated"),
                       (request(app, stack_index=5), "stack index"),
                       (request(app, fn_name_index=99), "string index")):
        r = srv.post(PATH, body, PB)
        assert r.status == 400, (what, r)
        assert r.headers["content-type"].startswith("text/plain"), r
    assert srv.total('%s{service_name="%s"}' % (CPU, app)) == 0
    r = srv.post(PATH, b"{not json", {"Content-Type": "application/json"})
    assert r.status == 400, r


def test_otlp_tenancy(make_server):
    srv = make_server("-auth.multitenancy-enabled=true")
    app = uniq("otlpt")
    assert srv.post(PATH, request(app), PB).status == 401
    assert srv.post(PATH, request(app), dict(PB, **{"X-Scope-OrgID": "t1"})).status == 200
    q = "/render?query=%s%%7Bservice_name%%3D%%22%s%%22%%7D&from=now-1h&until=now%%2B1h" % (CPU, app)
    r1 = srv.request("GET", q, headers={"X-Scope-OrgID": "t1"})
    r2 = srv.request("GET", q, headers={"X-Scope-OrgID": "t2"})
    assert r1.json()["flamebearer"]["numTicks"] == 4000
    assert r2.json()["flamebearer"]["numTicks"] == 0


def test_otlp_node_client(make_server, tmp_path):
    run_node_test(make_server, tmp_path, "otlp_client.test.mjs", 12)
