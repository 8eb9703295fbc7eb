"""Durability (issue 3 "Must have 4"): accepted data is in the WAL before the 2xx. A clean
restart keeps everything; kill -9 while clients ingest loses nothing that was acknowledged."""

import http.client
import threading
import time

from embertest import (CPU, NS, expected_tree, fb_tree, make_pprof, now, run_threads,
                       uniq)


def _snapshot(srv, queries, f, u):
    out = {}
    for q in queries:
        doc = srv.render(q, from_=f, until=u, maxNodes=100000)
        out[q] = (doc["flamebearer"], doc["timeline"])
    r = srv.get("/pyroscope/label-values", label="__name__")
    assert r.status == 200, r
    out["__name__"] = sorted(r.json() or [])
    return out


def test_restart_keeps_data(make_server):
    srv = make_server(name="restart")
    app = uniq("dur")
    t = now() - 600
    srv.ingest_ok(app + ".cpu{env=prod}", b"a;b 3\na;c 4\n", from_=t)
    srv.ingest_ok(app + ".cpu{env=dev}", b"a;b 1\n", from_=t + 20)
    srv.ingest_ok(app + ".cpu", b"x\nx\ny\n", format="lines", from_=t + 40)
    srv.ingest_ok(app + ".alloc_space{env=prod}", b"m;n 4096\n", from_=t + 60)
    p = make_pprof([("samples", "count"), ("cpu", "nanoseconds")],
                   [(["p", "q"], [2, 20000000], {"worker": "w1"})],
                   period_type=("cpu", "nanoseconds"), period=10000000)
    srv.ingest_ok(app + "_pprof", p, format="pprof", from_=t + 80)
    queries = [
        app + ".cpu",
        '%s.cpu{env="prod"}' % app,
        '%s{service_name="%s"}' % (CPU, app),
        'memory:alloc_space:bytes::{service_name="%s"}' % app,
        '%s{service_name="%s_pprof",worker="w1"}' % (CPU, app),
    ]
    f, u = (t - 300) // 15 * 15, (now() // 15 + 2) * 15
    before = _snapshot(srv, queries, f, u)
    assert before[app + ".cpu"][0]["numTicks"] == 11 * NS
    srv.restart()
    assert _snapshot(srv, queries, f, u) == before
    # and again, after appending more
    srv.ingest_ok(app + ".cpu{env=prod}", b"a;b 5\n", from_=t + 100)
    srv.restart()
    assert fb_tree(srv.render('%s.cpu{env="prod"}' % app, from_=f, until=u)) == \
        expected_tree({"a;b": 8 * NS, "a;c": 4 * NS})


def _wal_files(data_dir):
    files = [p for p in data_dir.rglob("*")
             if p.is_file() and "wal" in str(p.relative_to(data_dir)).lower()]
    return sorted(files, key=lambda p: (p.stat().st_mtime, p.stat().st_size))


def test_torn_wal_tail_is_dropped_and_appends_follow_good_records(make_server):
    """A crash mid-write leaves a partial record at the WAL's end. Restart must keep every
    good record, drop the tail with a log line, and append new records after the last good
    one (so they survive the next restart too)."""
    srv = make_server(name="torn")
    app = uniq("torn")
    t = now() - 120
    srv.ingest_ok(app + ".cpu", b"a;b 2\n", from_=t)
    srv.ingest_ok(app + ".cpu", b"a;c 3\n", from_=t + 1)
    srv.stop()
    wals = _wal_files(srv.data_dir)
    assert wals, "no WAL file under %s: %r" % (srv.data_dir, list(srv.data_dir.rglob("*")))
    with open(wals[-1], "ab") as f:   # a record header claiming 4 KiB, then only 9 bytes
        f.write(b"\x00\x10\x00\x00" + b"\xde\xad\xbe\xef" + b"torn-tail")
    srv.start()
    want = {"a;b": 2 * NS, "a;c": 3 * NS}
    assert fb_tree(srv.render(app + ".cpu")) == expected_tree(want)
    assert any(w in srv.log_text().lower() for w in ("torn", "truncat", "dropping")), \
        srv.log_tail()
    srv.ingest_ok(app + ".cpu", b"a;d 4\n", from_=t + 2)
    srv.restart()
    want["a;d"] = 4 * NS
    assert fb_tree(srv.render(app + ".cpu")) == expected_tree(want)


def test_wal_record_with_bad_checksum_at_the_end(make_server):
    srv = make_server(name="badcrc")
    app = uniq("crc")
    srv.ingest_ok(app + ".cpu", b"x 1\n", from_=now() - 60)
    srv.stop()
    wals = _wal_files(srv.data_dir)
    assert wals
    with open(wals[-1], "ab") as f:   # a complete 8-byte record whose CRC is wrong
        f.write(b"\x08\x00\x00\x00" + b"\x00\x00\x00\x00" + b"12345678")
    srv.start()
    assert fb_tree(srv.render(app + ".cpu")) == {"x": (NS, NS)}
    srv.ingest_ok(app + ".cpu", b"y 1\n", from_=now() - 60)
    srv.restart()
    assert fb_tree(srv.render(app + ".cpu")) == {"x": (NS, NS), "y": (NS, NS)}


def test_kill9_right_after_ack(make_server):
    srv = make_server(name="kill9ack")
    app = uniq("ack")
    srv.ingest_ok(app + ".cpu", b"k;l 7\n", from_=now() - 60)
    srv.kill9()
    srv.start()
    assert fb_tree(srv.render(app + ".cpu")) == expected_tree({"k;l": 7 * NS})


def test_kill9_while_clients_ingest(make_server):
    """Each request i of thread w carries its own stack `w<w>;r<i>` with value i+1 (×1e7 ns),
    so after the restart we can tell exactly which requests survived: every acknowledged one
    must be there with its exact value; anything else must be an in-flight one."""
    srv = make_server(name="kill9")
    app = uniq("crash")
    port = srv.port
    nthreads, max_req, t0 = 4, 400, now() - 120
    acked = [set() for _ in range(nthreads)]
    sent = [set() for _ in range(nthreads)]
    stop = threading.Event()

    def client(w):
        def run():
            for i in range(max_req):
                if stop.is_set():
                    return
                body = ("w%d;r%d %d\n" % (w, i, i + 1)).encode()
                path = "/ingest?name=%s.cpu&from=%d" % (app, t0 + (i % 60))
                sent[w].add(i)
                try:
                    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                    c.request("POST", path, body)
                    resp = c.getresponse()
                    resp.read()
                    c.close()
                except OSError:
                    return  # the server is gone
                if resp.status == 200:
                    acked[w].add(i)
                else:
                    return
        return run

    def killer():
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and min(len(a) for a in acked) < 60:
            time.sleep(0.01)
        srv.kill9()
        stop.set()

    run_threads([client(w) for w in range(nthreads)] + [killer])
    assert min(len(a) for a in acked) >= 60, [len(a) for a in acked]

    srv.start()
    doc = srv.render(app + ".cpu", from_=t0 - 60, until=now() + 60, maxNodes=1000000)
    tree = fb_tree(doc)
    present = {}
    for path, (total, self_) in tree.items():
        parts = path.split(";")
        if len(parts) == 2:
            w, i = int(parts[0][1:]), int(parts[1][1:])
            assert total == self_ == (i + 1) * NS, "w%d;r%d has %d" % (w, i, total)
            present[(w, i)] = total
    lost = [(w, i) for w in range(nthreads) for i in sorted(acked[w]) if (w, i) not in present]
    assert not lost, "acknowledged but lost after kill -9: %r" % lost[:20]
    ghosts = [k for k in present if k[1] not in sent[k[0]]]
    assert not ghosts, ghosts
    acked_sum = sum((i + 1) * NS for w in range(nthreads) for i in acked[w])
    sent_sum = sum((i + 1) * NS for w in range(nthreads) for i in sent[w])
    assert acked_sum <= doc["flamebearer"]["numTicks"] <= sent_sum
    print("kill -9: acked %d, sent %d, present %d" % (
        sum(map(len, acked)), sum(map(len, sent)), len(present)))
    # the server works normally after recovery
    srv.ingest_ok(app + ".cpu", b"after 1\n", from_=now() - 30)
    assert fb_tree(srv.render(app + ".cpu", from_="now-1m", until="now"))["after"] == (NS, NS)
