"""`format=lines` (PROTOCOLS.md §1.4): one stack per line, duplicates counted."""

from embertest import CPU, NS, expected_flamebearer, expected_tree, fb_tree, now, uniq


def test_lines_counts_duplicates(server):
    app = uniq("lines")
    body = b"main;a;b\nmain;a;b\nmain;c\nmain;a;b\nmain\n"
    server.ingest_ok(app + ".cpu{env=prod}", body, format="lines", from_=now() - 60)
    doc = server.render('%s{service_name="%s",env="prod"}' % (CPU, app))
    stacks = {"main;a;b": 3 * NS, "main;c": NS, "main": NS}
    assert fb_tree(doc) == expected_tree(stacks)
    exp = expected_flamebearer(stacks)
    assert doc["flamebearer"]["names"] == exp["names"]
    assert doc["flamebearer"]["levels"] == exp["levels"]
    assert doc["flamebearer"]["numTicks"] == 5 * NS


def test_lines_and_folded_merge_in_one_series(server):
    app = uniq("linesfolded")
    t = now() - 90
    server.ingest_ok(app + ".cpu", b"x;y\nx;y\n", format="lines", from_=t)
    server.ingest_ok(app + ".cpu", b"x;y 3\nx;z 1\n", from_=t + 1)
    assert fb_tree(server.render(app + ".cpu")) == expected_tree({"x;y": 5 * NS, "x;z": NS})


def test_lines_with_sample_rate(server):
    app = uniq("linesrate")
    server.ingest_ok(app + ".cpu", b"a\na\nb\n", format="lines", sampleRate=1000,
                     from_=now() - 60)
    assert fb_tree(server.render(app + ".cpu")) == {"a": (2 * 10**6, 2 * 10**6),
                                                    "b": (10**6, 10**6)}
