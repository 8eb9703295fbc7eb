"""Folded ingest (PROTOCOLS.md §1.4) read back through /render: exact totals, names, shape."""

import urllib.parse

from embertest import (CPU, NS, assert_json_error, expected_flamebearer, expected_tree,
                       fb_tree, now, scaled, uniq)

EXAMPLE_3_4 = b"main;work;compute 5\nmain;work 2\nmain;idle 1\ngc 2\n"


def test_issue_example_curl_style(server):
    """The issue's two curl commands, byte for byte as curl sends them (unencoded braces and
    quotes, Content-Type application/x-www-form-urlencoded), with times in the last hour."""
    app = uniq("issue")
    t = now() - 120
    path = "/ingest?name=%s.cpu{env=prod}&from=%d&until=%d" % (app, t, t + 10)
    r = server.request("POST", path, b"main;work;hash 30\nmain;work;io 10",
                       {"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status == 200, r
    assert r.body == b"", "success body must be empty: %r" % (r,)

    r = server.request("GET", '/render?query=%s.cpu{env="prod"}&from=now-1h&until=now&format=json'
                       % app)
    assert r.status == 200, r
    doc = r.json()
    fb = doc["flamebearer"]
    assert fb["numTicks"] == 40 * NS
    assert fb_tree(doc) == {
        "main": (40 * NS, 0),
        "main;work": (40 * NS, 0),
        "main;work;hash": (30 * NS, 30 * NS),
        "main;work;io": (10 * NS, 10 * NS),
    }
    exp = expected_flamebearer({"main;work;hash": 30 * NS, "main;work;io": 10 * NS})
    assert fb["names"] == exp["names"] == ["total", "main", "work", "io", "hash"]
    assert fb["levels"] == exp["levels"]
    assert fb["maxSelf"] == 30 * NS
    md = doc["metadata"]
    assert md["format"] == "single"
    assert md["units"] == "samples" and md["sampleRate"] == 1000000000, md
    assert md["name"] == "cpu", md


def test_issue_example_with_its_literal_timestamps(server):
    """Same data at the issue's literal from=1700000000 (Nov 2023), queried over that range."""
    app = uniq("issue_lit")
    r = server.request("POST", "/ingest?name=%s.cpu{env=prod}&from=1700000000&until=1700000010"
                       % app, b"main;work;hash 30\nmain;work;io 10")
    assert r.status == 200, r
    doc = server.render('%s.cpu{env="prod"}' % app, from_=1699999990, until=1700000020)
    assert fb_tree(doc) == expected_tree(scaled({"main;work;hash": 30, "main;work;io": 10}, NS))


def test_protocols_3_4_example_exact_raw_values(server):
    """PROTOCOLS.md §3.4's example, reproduced exactly: a `.alloc_objects` app keeps raw
    values, so names and levels must equal the document's arrays."""
    app = uniq("ex34")
    server.ingest_ok(app + ".alloc_objects", EXAMPLE_3_4, from_=now() - 60)
    doc = server.render('memory:alloc_objects:count::{service_name="%s"}' % app)
    fb = doc["flamebearer"]
    assert fb["names"] == ["total", "main", "work", "compute", "idle", "gc"]
    assert fb["levels"] == [[0, 10, 0, 0],
                            [0, 2, 2, 5, 0, 8, 0, 1],
                            [2, 1, 1, 4, 0, 7, 2, 2],
                            [5, 5, 5, 3]]
    assert fb["numTicks"] == 10
    assert fb["maxSelf"] == 5
    assert doc["metadata"]["units"] == "objects" and doc["metadata"]["sampleRate"] == 100


def test_protocols_3_4_example_exact_cpu(server):
    """The same example as CPU (×1e7 ns per sample at sampleRate 100), legacy query form."""
    app = uniq("ex34cpu")
    server.ingest_ok(app + ".cpu", EXAMPLE_3_4, from_=now() - 60)
    fb = server.render(app + ".cpu")["flamebearer"]
    assert fb["names"] == ["total", "main", "work", "compute", "idle", "gc"]
    assert fb["levels"] == [[0, 10 * NS, 0, 0],
                            [0, 2 * NS, 2 * NS, 5, 0, 8 * NS, 0, 1],
                            [2 * NS, 1 * NS, 1 * NS, 4, 0, 7 * NS, 2 * NS, 2],
                            [5 * NS, 5 * NS, 5 * NS, 3]]
    assert fb["numTicks"] == 10 * NS and fb["maxSelf"] == 5 * NS


def test_bigger_tree_exact_names_and_levels(server):
    stacks = {
        "main;a;b;c": 7, "main;a;b": 3, "main;a;d": 11, "main;z": 1, "main": 2,
        "init;load": 4, "init;load;parse;tok": 6, "bg;gc;mark": 5, "bg;gc;sweep": 5,
        "main;a;B": 9,  # upper case sorts before lower case (byte order)
    }
    app = uniq("big")
    body = "".join("%s %d\n" % kv for kv in stacks.items()).encode()
    server.ingest_ok(app + ".cpu", body, from_=now() - 60)
    doc = server.render('%s{service_name="%s"}' % (CPU, app))
    exp = expected_flamebearer(scaled(stacks, NS))
    fb = doc["flamebearer"]
    assert fb_tree(doc) == expected_tree(scaled(stacks, NS))
    assert fb["names"] == exp["names"]
    assert fb["levels"] == exp["levels"]
    assert fb["numTicks"] == exp["numTicks"] and fb["maxSelf"] == exp["maxSelf"]


def test_frames_with_spaces_duplicates_and_blank_lines(server):
    """Count after the *last* space; duplicate lines add up; lines without a space and empty
    lines are skipped; a missing trailing newline is fine."""
    app = uniq("spaces")
    body = (b"main;do work;x 5\n"
            b"\n"
            b"main;do work;x 2\n"
            b"no-count-here\n"
            b"main;other thing 3\n"
            b"main 1")
    server.ingest_ok(app + ".cpu", body, from_=now() - 60)
    doc = server.render(app + ".cpu")
    assert fb_tree(doc) == expected_tree(scaled({"main;do work;x": 7, "main;other thing": 3,
                                                 "main": 1}, NS))


def test_ingests_of_one_series_add_up(server):
    app = uniq("addup")
    t = now() - 100
    for i in range(3):
        server.ingest_ok(app + ".cpu{env=prod}", b"a;b 1\na;c 2\n", from_=t + i)
    doc = server.render('%s.cpu{env="prod"}' % app)
    assert fb_tree(doc) == expected_tree(scaled({"a;b": 3, "a;c": 6}, NS))


def test_non_integer_count_is_rejected(server):
    app = uniq("badcount")
    r = server.post_ingest(app + ".cpu", b"a;b 12x\n", from_=now() - 60)
    assert 400 <= r.status < 500, r
    assert_json_error(r, r.status)
    assert server.total(app + ".cpu") == 0


def test_pyroscope_prefixed_routes(server):
    """/pyroscope/ingest and /pyroscope/render are the same handlers as /ingest and /render."""
    app = uniq("prefixed")
    r = server.post_ingest(app + ".cpu{env=prod}", b"x;y 4\n", path="/pyroscope/ingest",
                           from_=now() - 60)
    assert r.status == 200, r
    a = server.render('%s{service_name="%s",env="prod"}' % (CPU, app), path="/pyroscope/render",
                      from_="now-1h", until="now")
    b = server.render('%s.cpu{env="prod"}' % app, path="/render", from_="now-1h", until="now")
    assert a["flamebearer"] == b["flamebearer"]
    assert fb_tree(a) == expected_tree({"x;y": 4 * NS})


def test_plus_encoded_spaces_in_query(server):
    """Browsers and Go's url.Values encode spaces as '+': `{a="1", b="2"}`."""
    app = uniq("plus")
    server.ingest_ok(app + ".cpu{env=prod,region=eu}", b"p;q 2\n", from_=now() - 60)
    q = '%s{service_name="%s", env="prod"}' % (CPU, app)
    r = server.request("GET", "/pyroscope/render?" + urllib.parse.urlencode(
        {"query": q, "from": "now-1h", "until": "now", "format": "json"}))
    assert r.status == 200, r
    assert r.json()["flamebearer"]["numTicks"] == 2 * NS


def test_empty_result_is_well_formed(server):
    doc = server.render('%s{service_name="%s"}' % (CPU, uniq("nothing")))
    assert doc["flamebearer"]["numTicks"] == 0
    assert doc["flamebearer"]["maxSelf"] == 0
