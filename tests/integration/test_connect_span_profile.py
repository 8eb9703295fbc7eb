"""SelectMergeSpanProfile (issue 5): span selection over a real Go CPU profile whose samples
carry span_id labels (pprof.Do, as OpenTelemetry's profiling integration attaches them),
written by tests/e2e/go/gen. The flame graph of a span equals what the generator summed for
that label; span samples stay counted once in plain merges; answers are the same from the
head, from WAL replay, from a block, after compaction and after a restart."""

from connecttest import JSON, PROTO, f_bytes, f_varint, fields, rpc, rpc_json
from embertest import uniq
from storagetest import admin, block_dirs, meta

CPU = "process_cpu:cpu:nanoseconds:cpu:nanoseconds"
SPAN_A, SPAN_B = "0123456789abcdef", "00f067aa0ba902b7"


def _span_req(app, spans, **more):
    req = {"profileTypeID": CPU, "labelSelector": '{service_name="%s"}' % app,
           "spanSelector": spans, "start": "1", "end": str(2**62 // 10**6)}
    req.update(more)
    return req


def _span_total(srv, app, spans):
    doc = rpc_json(srv, "SelectMergeSpanProfile", _span_req(app, spans))
    fg = doc.get("flamegraph", {})
    return int(fg.get("total", "0")), fg.get("names", [])


def _merge_total(srv, app):
    doc = rpc_json(srv, "SelectMergeStacktraces", {
        "profileTypeID": CPU, "labelSelector": '{service_name="%s"}' % app,
        "start": "1", "end": str(2**62 // 10**6)})
    return int(doc["flamegraph"]["total"])


def _expected(go_profiles):
    f = go_profiles.file("spans.pb.gz")
    ns = [t for t, _ in go_profiles.types("spans.pb.gz")].index("cpu")
    by = f["by_label"]["span_id"]
    return {SPAN_A: by[SPAN_A][ns], SPAN_B: by[SPAN_B][ns]}, f["sums"][ns]


def _check(srv, app, want, total, what, copies=1):
    a, names_a = _span_total(srv, app, [SPAN_A])
    b, names_b = _span_total(srv, app, [SPAN_B])
    ab, _ = _span_total(srv, app, [SPAN_B, SPAN_A])
    assert (a, b, ab) == (copies * want[SPAN_A], copies * want[SPAN_B],
                          copies * (want[SPAN_A] + want[SPAN_B])), what
    # the span's own function is in its flame graph, the other span's is not
    assert "main.burnAlpha" in names_a and "main.burnBeta" not in names_a, (what, names_a)
    assert "main.burnBeta" in names_b and "main.burnAlpha" not in names_b, (what, names_b)
    assert _span_total(srv, app, ["00000000000000ff"])[0] == 0, what
    assert _merge_total(srv, app) == copies * total, what


def test_span_profile_matches_go_labels_through_storage(make_server, go_profiles):
    want, total = _expected(go_profiles)
    assert want[SPAN_A] > 0 and want[SPAN_B] > 0 and total > want[SPAN_A] + want[SPAN_B]
    srv = make_server(name="spans")
    app = uniq("spans")
    body = go_profiles.data("spans.pb.gz")
    assert srv.post_ingest(app, body, format="pprof").status == 200
    _check(srv, app, want, total, "head")
    srv.restart()
    _check(srv, app, want, total, "WAL replay")
    admin(srv, "cut")
    _check(srv, app, want, total, "block")
    srv.restart()
    _check(srv, app, want, total, "block after restart")
    assert srv.post_ingest(app, body, format="pprof").status == 200
    admin(srv, "cut")
    assert len(block_dirs(srv)) == 2
    _check(srv, app, want, total, "two blocks", copies=2)
    admin(srv, "compact")
    dirs = block_dirs(srv)
    if len(dirs) == 1:  # both blocks in one compaction window (not across UTC midnight)
        assert meta(dirs[0])["level"] == 1
    _check(srv, app, want, total, "after compaction", copies=2)
    srv.restart()
    _check(srv, app, want, total, "compacted, after restart", copies=2)


def test_span_profile_binary_and_errors(make_server, go_profiles):
    want, _ = _expected(go_profiles)
    srv = make_server()
    app = uniq("spanbin")
    assert srv.post_ingest(app, go_profiles.data("spans.pb.gz"), format="pprof").status == 200
    sel = '{service_name="%s"}' % app
    body = (f_bytes(1, CPU.encode()) + f_bytes(2, sel.encode()) + f_bytes(3, SPAN_B.encode()) +
            f_varint(4, 1) + f_varint(5, 2**62 // 10**6))
    r = rpc(srv, "SelectMergeSpanProfile", body, PROTO)
    assert r.status == 200, r
    fg = fields(r.body, 1)
    assert len(fg) == 1
    # FlameGraph.total is field 3
    assert fields(fg[0], 3) == [want[SPAN_B]]
    for spans, what in (([SPAN_A, "xyz"], "not hex"), (["0123456789abcdef0"], "17 digits"),
                        ([""], "empty"), (["0000000000000000"], "zero span")):
        r = rpc(srv, "SelectMergeSpanProfile", _span_req(app, spans), JSON)
        assert r.status == 400, (what, r)
        assert r.json()["code"] == "invalid_argument", (what, r.json())
        assert "span_selector" in r.json()["message"], (what, r.json())
    # no span ids: selects nothing rather than everything
    assert _span_total(srv, app, [])[0] == 0
