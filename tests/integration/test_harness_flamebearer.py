"""The test helpers themselves: the reference encoder reproduces PROTOCOLS.md §3.4 and the
decoder inverts it. No server needed; if these fail, every exact-shape test is suspect."""

import gzip

from embertest import (check_flamebearer, expected_flamebearer, expected_tree, fb_tree,
                       make_pprof, multipart, parse_metrics, metric_value)

EXAMPLE = {"main;work;compute": 5, "main;work": 2, "main;idle": 1, "gc": 2}


def doc(fb):
    return {"version": 1, "flamebearer": fb, "metadata": {"format": "single"}}


def test_reference_encoder_matches_protocols_3_4():
    fb = expected_flamebearer(EXAMPLE)
    assert fb["names"] == ["total", "main", "work", "compute", "idle", "gc"]
    assert fb["levels"] == [[0, 10, 0, 0],
                            [0, 2, 2, 5, 0, 8, 0, 1],
                            [2, 1, 1, 4, 0, 7, 2, 2],
                            [5, 5, 5, 3]]
    assert fb["numTicks"] == 10 and fb["maxSelf"] == 5


def test_decoder_inverts_encoder():
    stacks = {"a;b;c": 3, "a;b": 1, "a;d": 7, "e;f;g;h": 2, "e": 4, "zz;a": 9}
    d = doc(expected_flamebearer(stacks))
    check_flamebearer(d)
    assert fb_tree(d) == expected_tree(stacks)


def test_tree_of_issue_example():
    t = expected_tree({"main;work;hash": 30, "main;work;io": 10})
    assert t == {"main": (40, 0), "main;work": (40, 0), "main;work;hash": (30, 30),
                 "main;work;io": (10, 10)}


def test_pprof_writer_is_valid_gzip():
    p = make_pprof([("cpu", "nanoseconds")], [(["a", "b"], [5], {"k": "v"})],
                   period_type=("cpu", "nanoseconds"), period=10)
    raw = gzip.decompress(p)
    assert raw[0] == 0x0a  # field 1 (sample_type), length-delimited


def test_multipart_and_metrics_helpers():
    body, ctype = multipart([("profile", "profile.pprof", None, b"xy")])
    assert ctype.startswith("multipart/form-data; boundary=")
    assert b'filename="profile.pprof"' in body and body.endswith(b"--\r\n")
    m = parse_metrics('# HELP x y\n'
                      'ember_a_total{format="folded"} 3\n'
                      'ember_a_total{format="lines"} 2\n'
                      'ember_b 1.5\n')
    assert metric_value(m, "ember_a_total") == 5
    assert metric_value(m, "ember_a_total", format="lines") == 2
    assert metric_value(m, "ember_b") == 1.5
    assert metric_value(m, "ember_c") is None
