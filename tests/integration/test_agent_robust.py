"""The host program must not notice libember: with LD_PRELOAD=libember.so (CPU and
allocation profiling on, a 1 s upload interval) its output and exit status are the same as
without, across fork without exec, fork + exec (the child starts its own agent), exit()
while other threads are being sampled and allocating, no server at all, a server that
closes every connection (crashes) and one that answers 500; and exit is not held up for
long by a dead server (ember_stop gives up after one try, never waits out a backoff).
Uploads to a healthy server carry the Pyroscope /ingest parameters and headers.
"""

import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "agent"))

from agentlib import CaptureServer, agent_paths, decode_pprof, run  # noqa: E402
from embertest import free_port  # noqa: E402


def _env(ap, server):
    return {"LD_PRELOAD": str(ap.lib), "EMBER_APPLICATION_NAME": "chaos",
            "EMBER_SERVER_ADDRESS": server, "EMBER_PROFILE_TYPES": "cpu,alloc",
            "EMBER_ALLOC_SAMPLE_BYTES": "65536", "EMBER_UPLOAD_INTERVAL": "1"}


@pytest.mark.parametrize("mode", ["fork", "exit"])
@pytest.mark.parametrize("server", ["none", "crashing", "failing"])
def test_agent_host_unchanged(mode, server):
    ap = agent_paths()
    plain = run([ap.chaos, mode])
    assert plain[0] in (3, 7), plain
    cap = None
    if server == "none":
        url = "http://127.0.0.1:%d" % free_port()
    else:
        cap = CaptureServer(status=500, mode="close" if server == "crashing" else "answer")
        url = cap.url
    try:
        t0 = time.monotonic()
        got = run([ap.chaos, mode], _env(ap, url))
        elapsed = time.monotonic() - t0
    finally:
        if cap:
            cap.close()
    assert got[0] == plain[0] and got[1] == plain[1], (plain, got)
    assert "libember" not in got[2], got[2]
    assert elapsed < 15, elapsed
    if cap:
        assert cap.requests, "no upload attempt reached the server"


def test_agent_upload_protocol():
    ap = agent_paths()
    cap = CaptureServer(status=200)
    try:
        env = {"LD_PRELOAD": str(ap.lib), "PYROSCOPE_APPLICATION_NAME": "proto.app",
               "PYROSCOPE_SERVER_ADDRESS": cap.url + "/prefix/", "PYROSCOPE_TAGS": "env=ci, region = eu",
               "PYROSCOPE_TENANT_ID": "team-a", "PYROSCOPE_AUTH_TOKEN": "s3cret",
               "PYROSCOPE_SAMPLE_RATE": "200", "PYROSCOPE_PROFILE_TYPES": "cpu,alloc",
               "PYROSCOPE_ALLOC_SAMPLE_BYTES": "8192"}
        code, out, err = run([ap.chaos, "busy", "300"], env)
        assert code == 0 and out == "busy\n", err
    finally:
        cap.close()
    reqs = cap.requests
    assert len(reqs) == 2, reqs  # the final CPU and allocation profiles at exit
    types = set()
    for r in reqs:
        assert r["path"] == "/prefix/ingest"
        q = {k: v[0] for k, v in r["query"].items()}
        assert q["name"] == "proto.app{env=ci,region=eu}", q
        assert q["format"] == "pprof" and q["spyName"] == "ember" and q["sampleRate"] == "200"
        assert int(q["from"]) <= int(q["until"]) <= time.time() + 1
        assert r["headers"]["x-scope-orgid"] == "team-a"
        assert r["headers"]["authorization"] == "Bearer s3cret"
        assert r["body"][:2] == b"\x1f\x8b"
        p = decode_pprof(r["body"])
        types.add(p.sample_types[0][0])
        assert any(any(n.startswith("burn_alloc") for n in names) for names, _, _ in p.samples)
    assert types == {"samples", "alloc_objects"}, types


def test_agent_basic_auth():
    ap = agent_paths()
    cap = CaptureServer(status=200)
    try:
        env = {"LD_PRELOAD": str(ap.lib), "EMBER_APPLICATION_NAME": "auth",
               "EMBER_SERVER_ADDRESS": cap.url, "EMBER_BASIC_AUTH_USER": "u",
               "EMBER_BASIC_AUTH_PASSWORD": "p:w"}
        code, out, err = run([ap.chaos, "busy", "100"], env)
        assert code == 0, err
    finally:
        cap.close()
    assert cap.requests
    assert cap.requests[0]["headers"]["authorization"] == "Basic dTpwOnc="


def test_agent_longest_static_tags_reach_the_server():
    """16 tags with 63-byte keys and 127-byte values: the name parameter is ~10 KiB once
    percent-encoded, and must still arrive whole."""
    ap = agent_paths()
    tags = ["k%02d%s=v%s" % (i, "x" * 60, "y" * 126) for i in range(16)]
    cap = CaptureServer(status=200)
    try:
        env = {"LD_PRELOAD": str(ap.lib), "EMBER_APPLICATION_NAME": "longtags",
               "EMBER_SERVER_ADDRESS": cap.url, "EMBER_TAGS": ",".join(tags)}
        code, out, err = run([ap.chaos, "busy", "100"], env)
        assert code == 0, err
    finally:
        cap.close()
    assert cap.requests, "nothing uploaded"
    assert cap.requests[0]["query"]["name"][0] == "longtags{%s}" % ",".join(tags)
