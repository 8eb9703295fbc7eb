"""Issue 4, "Must show": kill -9 injected at each step of a block cut and of a compaction
(EMBER_CRASH_POINT, src/store/crash.h). After a restart without the variable no acknowledged
profile is lost and none is counted twice, also after the next cut, compaction and restart.
The randomized variant crashes at random points while clients ingest concurrently.

Set EMBER_STORAGE_SEED=<n> to replay another random sequence."""

import http.client
import os
import random
import threading
import time

import pytest

from embertest import NS, now, run_threads, uniq
from storagetest import (CRASH_POINTS, CRASH_POINTS_COMPACT, CRASH_POINTS_CUT, KeepAlive,
                         Model, admin, block_dirs, check_render, ingest_path, metrics,
                         post_expecting_death, push_all, query_for, random_stacks, render_facts,
                         start_with_crash_point, tmp_dirs, wait_crashed, wal_segments)

SEED = int(os.environ.get("EMBER_STORAGE_SEED", "20261125"))
H = 3600
DAY = 86400


def _items(rng, series, lo, hi, n):
    return [series[rng.randrange(len(series))] + (rng.randint(lo, hi), random_stacks(rng))
            for _ in range(n)]


class Scenario:
    """One app, three series, data in one past UTC day (one compaction window)."""

    def __init__(self, seed):
        self.rng = random.Random(seed)
        self.app = uniq("crash")
        self.series = [(self.app, {"env": "a"}), (self.app, {"env": "b"}), (self.app, {})]
        self.day = (now() // DAY - 2) * DAY
        self.model = Model()

    def push(self, srv, n, headers=None, model=None):
        lo = self.day + self.rng.randint(0, 12) * H
        push_all(srv, self.model if model is None else model,
                 _items(self.rng, self.series, lo, lo + 6 * H, n), headers=headers)

    def verify(self, srv, what, headers=None, model=None):
        model = self.model if model is None else model
        d = self.day
        for s in (None, {"env": "a"}, {"env": "b"}):
            for f, u in ((d - 1, d + DAY), (d + 3 * H, d + 15 * H - 1), (d + 6 * H + 1, d + DAY)):
                check_render(srv, model, self.app, s, f, u, what=what, headers=headers)


def _fresh(make_server, name, *args):
    srv = make_server("-storage.block-duration=0", *args, name=name)
    srv.stop()
    return srv


def _after_restart_checks(srv, sc, what):
    """Exact totals now, and after a further cut + compaction + restart."""
    assert not tmp_dirs(srv), "an interrupted block write was left behind: %r" % tmp_dirs(srv)
    sc.verify(srv, what + ", restarted")
    sc.push(srv, 10)
    admin(srv, "cut")
    admin(srv, "compact")
    sc.verify(srv, what + ", then cut and compacted")
    srv.restart()
    sc.verify(srv, what + ", then restarted again")
    assert len(wal_segments(srv)) == 1, wal_segments(srv)
    assert len(block_dirs(srv)) == 1, block_dirs(srv)   # everything merged into one block


@pytest.mark.parametrize("point", CRASH_POINTS_CUT)
def test_kill9_at_each_cut_step(make_server, point):
    srv = _fresh(make_server, "cut-" + point)
    sc = Scenario(SEED + CRASH_POINTS_CUT.index(point))
    start_with_crash_point(srv, point, skip=1)    # the first cut passes the point
    sc.push(srv, 20)
    admin(srv, "cut")
    sc.push(srv, 20)
    r = post_expecting_death(srv, "/api/v1/admin/cut")
    assert r is None or r.status != 200, "the cut finished although %s was armed: %r" % (point, r)
    wait_crashed(srv, point)
    srv.start()
    n = len(block_dirs(srv))
    published = point in ("block.write.after_rename", "cut.after_tenant_block",
                          "cut.before_wal_remove")
    assert n == (2 if published else 1), (point, block_dirs(srv))
    # replay skips exactly the records of the published block (20 pushes), or applies them all
    want = "0 WAL records replayed (20 already" if published else "20 WAL records replayed (0 al"
    assert want in srv.logs[-1].read_text(), srv.logs[-1].read_text()[-2000:]
    _after_restart_checks(srv, sc, "crash at " + point)


@pytest.mark.parametrize("point", CRASH_POINTS_COMPACT)
def test_kill9_at_each_compaction_step(make_server, point):
    srv = _fresh(make_server, "compact-" + point)
    sc = Scenario(SEED + 100 + CRASH_POINTS_COMPACT.index(point))
    # three cuts write three blocks: the compaction's block write is the 4th time
    start_with_crash_point(srv, point, skip=3 if point.startswith("block.write") else 0)
    for _ in range(3):
        sc.push(srv, 15)
        admin(srv, "cut")
    sc.push(srv, 15)                                # and some data in the head
    assert len(block_dirs(srv)) == 3
    r = post_expecting_death(srv, "/api/v1/admin/compact")
    assert r is None or r.status != 200, "compaction finished although %s was armed" % point
    wait_crashed(srv, point)
    srv.start()
    written = point in ("block.write.after_rename", "compact.after_write")
    assert len(block_dirs(srv)) == (1 if written else 3), (point, block_dirs(srv))
    if written:   # the complete compacted block supersedes its sources at startup
        assert srv.log_text().count("is superseded by compacted") == 3, srv.log_tail()
    _after_restart_checks(srv, sc, "crash at " + point)


@pytest.mark.parametrize("skip", [0, 1])
def test_kill9_between_tenant_blocks(make_server, skip):
    """With two tenants a cut writes two blocks: a crash after the first (or after both, before
    publishing) must neither lose the unwritten tenant's data nor replay the written one's."""
    srv = _fresh(make_server, "tenants%d" % skip, "-auth.multitenancy-enabled=true")
    sc = Scenario(SEED + 200 + skip)
    tenants = {"t1": Model(), "t2": Model()}
    start_with_crash_point(srv, "cut.after_tenant_block", skip=skip)
    for t, m in tenants.items():
        sc.push(srv, 15, headers={"X-Scope-OrgID": t}, model=m)
    r = post_expecting_death(srv, "/api/v1/admin/cut")
    assert r is None, r
    wait_crashed(srv, "cut.after_tenant_block")
    srv.start()
    nblocks = sum(len(block_dirs(srv, t)) for t in tenants)
    assert nblocks == skip + 1, nblocks
    for t, m in tenants.items():
        sc.verify(srv, "tenant %s after crash" % t, headers={"X-Scope-OrgID": t}, model=m)
    for t, m in tenants.items():
        sc.push(srv, 5, headers={"X-Scope-OrgID": t}, model=m)
    admin(srv, "cut")
    admin(srv, "compact")
    srv.restart()
    for t, m in tenants.items():
        sc.verify(srv, "tenant %s at the end" % t, headers={"X-Scope-OrgID": t}, model=m)
        assert len(block_dirs(srv, t)) == 1


def test_kill9_at_random_points_while_clients_ingest(make_server):
    """Several rounds: arm a random point (and skip count), let 3 clients ingest unique stacks
    while cuts and compactions run, until the server kills itself. After each restart every
    acknowledged stack is there with its exact value, everything there was sent, and whatever
    a restart showed stays."""
    rng = random.Random(SEED + 300)
    srv = _fresh(make_server, "random")
    app = uniq("crashr")
    day = (now() // DAY - 2) * DAY
    sent_all, confirmed = {}, {}
    crashed = []
    points = rng.sample(CRASH_POINTS, len(CRASH_POINTS))   # each point once, random order
    for it, point in enumerate(points):
        skip = rng.randint(0, 2)
        start_with_crash_point(srv, point, skip)
        port = srv.port
        sent, acked = {}, {}
        stop = threading.Event()

        def writer(w, seed):
            r = random.Random(seed)

            def run():
                conn = KeepAlive(port, timeout=10)
                try:
                    for i in range(400):
                        if stop.is_set():
                            return
                        path, v = "it%d;w%d;r%d" % (it, w, i), r.randint(1, 9)
                        sent[path] = v
                        try:
                            status, _ = conn.request(
                                "POST", ingest_path(app, {"w": str(w)},
                                                    day + r.randint(0, DAY - 1)),
                                ("%s %d\n" % (path, v)).encode())
                        except (OSError, http.client.HTTPException):
                            return        # the server is gone
                        if status != 200:
                            return
                        acked[path] = v
                finally:
                    conn.close()
            return run

        def maintainer():
            try:
                for k in range(60):
                    time.sleep(0.02)
                    what = "cut" if k % 3 else "compact"
                    try:
                        r = srv.request("POST", "/api/v1/admin/" + what, b"", timeout=10)
                    except (OSError, http.client.HTTPException):
                        return            # crashed at the armed point
                    assert r.status == 200, r
            finally:
                stop.set()

        run_threads([writer(w, rng.random()) for w in range(3)] + [maintainer])
        died = srv.proc.poll() is not None
        if died:
            wait_crashed(srv, point)
            crashed.append(point)
        else:
            srv.kill9()   # the point was not reached often enough: a plain kill -9 then
        sent_all.update(sent)
        srv.start()
        doc_ticks, tree, _ = render_facts(srv, query_for(app), day - 1, day + DAY)
        present = {p: t for p, (t, s) in tree.items() if p.count(";") == 2}
        wrong = {p: (t, sent_all.get(p)) for p, t in present.items()
                 if t != sent_all.get(p, 0) * NS}
        assert not wrong, "round %d (%s, skip %d): counted twice or never sent: %r" % (
            it, point, skip, sorted(wrong.items())[:10])
        lost = sorted(p for p in list(acked) + list(confirmed) if p not in present)
        assert not lost, "round %d (%s, skip %d): acknowledged/confirmed but lost: %r" % (
            it, point, skip, lost[:10])
        acked_sum = sum(v for p, v in sent_all.items() if p in acked or p in confirmed) * NS
        assert acked_sum <= doc_ticks <= sum(sent_all.values()) * NS
        assert doc_ticks == sum(present.values())
        confirmed = dict(present)
        print("round %d: %s skip %d, %s, %d sent, %d acked, %d present" % (
            it, point, skip, "crashed" if died else "killed", len(sent), len(acked),
            len(present)))
        srv.stop()
    assert len(crashed) >= len(points) // 2, crashed   # most rounds die at the armed point
    srv.start()
    assert metrics(srv)["ember_blocks"] >= 1
