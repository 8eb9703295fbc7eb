"""maxNodes / max-nodes (PROTOCOLS.md §3.1, §3.4): nodes below the cut-off (the maxNodes-th
largest total) are merged into a child `other` (self = total)."""

from embertest import fb_tree, now, uniq

FLAT = b"a 100\nb 50\nc 20\nd 5\ne 1\n"
NESTED = b"x;p 60\nx;q 40\ny;r 10\n"


def _put(server, body):
    app = uniq("maxn")
    server.ingest_ok(app + ".alloc_objects", body, from_=now() - 60)
    return 'memory:alloc_objects:count::{service_name="%s"}' % app


def test_flat_cut_into_other(server):
    q = _put(server, FLAT)
    doc = server.render(q, maxNodes=3)
    assert fb_tree(doc) == {"a": (100, 100), "b": (50, 50), "c": (20, 20), "other": (6, 6)}
    assert doc["flamebearer"]["numTicks"] == 176
    assert "d" not in doc["flamebearer"]["names"] and "e" not in doc["flamebearer"]["names"]


def test_max_nodes_alias(server):
    q = _put(server, FLAT)
    assert server.render(q, maxNodes=3)["flamebearer"] == \
        server.render(q, **{"max-nodes": 3})["flamebearer"]
    # maxNodes wins over max-nodes
    assert fb_tree(server.render(q, maxNodes=4, **{"max-nodes": 2})) == \
        {"a": (100, 100), "b": (50, 50), "c": (20, 20), "d": (5, 5), "other": (1, 1)}


def test_nested_cut(server):
    q = _put(server, NESTED)
    # totals: x 100, p 60, q 40, y 10, r 10 → the 3rd largest is 40; y (10) becomes `other`
    assert fb_tree(server.render(q, maxNodes=3)) == {
        "x": (100, 0), "x;p": (60, 60), "x;q": (40, 40), "other": (10, 10)}


def test_no_cut_when_enough_nodes(server):
    q = _put(server, FLAT)
    full = {"a": (100, 100), "b": (50, 50), "c": (20, 20), "d": (5, 5), "e": (1, 1)}
    assert fb_tree(server.render(q, maxNodes=5)) == full
    assert fb_tree(server.render(q, maxNodes=1000)) == full
    assert fb_tree(server.render(q)) == full
    assert fb_tree(server.render(q, maxNodes=0)) == full   # 0 → the default (8192)
