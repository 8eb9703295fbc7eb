"""Issue 4, "Must show": compaction equality. Blocks whose data lies in one compaction window
merge into one (symbols and stacks remapped); every answer is identical before and after, and
after a restart; the block count drops; queries running while blocks are cut or compacted see
every profile exactly once."""

import random
import threading
import time

from embertest import now, run_threads, uniq
from storagetest import (KeepAlive, Model, admin, assert_same, block_dirs, check_render, meta,
                         metrics, push_all, query_for, random_stacks, render_facts, snapshot,
                         wait_for, wal_segments)

H = 3600
DAY = 86400


def _items(rng, series, lo, hi, n):
    return [series[rng.randrange(len(series))] + (rng.randint(lo, hi), random_stacks(rng))
            for _ in range(n)]


def test_compaction_keeps_every_total(make_server):
    srv = make_server("-storage.block-duration=0", name="compact")   # window: 24 h
    rng = random.Random(4103)
    app = uniq("cmp")
    series = [(app, {"env": "a"}), (app, {"env": "b"}), (app, {})]
    day = (now() // DAY - 3) * DAY          # a past UTC day = one compaction window
    model = Model()
    for k in range(4):                      # 4 blocks inside the day, one per cut
        push_all(srv, model, _items(rng, series, day + k * 5 * H, day + k * 5 * H + 4 * H, 25))
        admin(srv, "cut")
    push_all(srv, model, _items(rng, series, day + DAY + H, day + DAY + 2 * H, 15))
    admin(srv, "cut")                       # alone in the next window
    push_all(srv, model, [(app, {"env": "a"}, day + DAY - 600, {"x;y": 3}),
                          (app, {"env": "b"}, day + DAY + 600, {"x;z": 4})])
    admin(srv, "cut")                       # spans two windows: never compacted
    push_all(srv, model, _items(rng, series, day, day + DAY - 1, 20))   # stays in the head
    sources = block_dirs(srv)
    assert len(sources) == 6
    day_blocks = [b.name for b in sources if meta(b)["maxTime"] < (day + DAY) * 10**9]
    assert len(day_blocks) == 4, [meta(b) for b in sources]

    ranges = [(day - H, day + 2 * DAY), (day, day + DAY - 1), (day + 3 * H, day + 11 * H),
              (day + 3 * H + 1, day + 11 * H - 1), (day + 5 * H - 1, day + 5 * H + 61),
              (day + DAY - 600, day + DAY + 600)]
    sels = [None, {"env": "a"}, {"env": "b"}]
    queries = [(query_for(app, s), f, u) for s in sels for f, u in ranges]

    def verify(what):
        for s in sels:
            for f, u in ranges:
                check_render(srv, model, app, s, f, u, what=what)

    verify("6 blocks + head")
    before = snapshot(srv, queries)
    bytes_before = metrics(srv)["ember_block_bytes"]

    doc = admin(srv, "compact")
    assert doc["blocksAffected"] == 4 and doc["blocks"] == 3, doc
    after = block_dirs(srv)
    assert len(after) == 3, after
    new = [b for b in after if b.name not in {s.name for s in sources}]
    assert len(new) == 1, after
    m = meta(new[0])
    assert m["level"] == 1 and sorted(m["sources"]) == sorted(day_blocks), m
    assert m["walSegments"] == [] and m["stats"]["profiles"] == 100, m
    assert m["minTime"] >= day * 10**9 and m["maxTime"] < (day + DAY) * 10**9, m
    mx = metrics(srv)
    assert mx["ember_compactions_total"] == 1 and mx["ember_blocks"] == 3, mx
    assert mx["ember_block_bytes"] < bytes_before, (mx["ember_block_bytes"], bytes_before)
    assert_same(before, snapshot(srv, queries), "compaction")
    verify("compacted")

    assert admin(srv, "compact")["blocksAffected"] == 0   # nothing left to merge
    srv.restart()
    assert_same(before, snapshot(srv, queries), "restart after compaction")
    assert len(block_dirs(srv)) == 3

    # two more blocks in the day: the level-1 block and both merge into a level-2 block
    for k in range(2):
        push_all(srv, model, _items(rng, series, day + 2 * H, day + 20 * H, 15))
        admin(srv, "cut")
    verify("level 1 + 2 new blocks")
    before = snapshot(srv, queries)
    doc = admin(srv, "compact")
    assert doc["blocksAffected"] == 3 and doc["blocks"] == 3, doc   # the head cut a block too
    levels = sorted(meta(b)["level"] for b in block_dirs(srv))
    assert levels == [0, 0, 2], levels
    assert_same(before, snapshot(srv, queries), "second compaction")
    srv.restart()
    assert_same(before, snapshot(srv, queries), "restart after the second compaction")
    verify("final")
    assert len(wal_segments(srv)) == 1


def test_queries_during_cut_and_compaction_see_each_profile_once(make_server):
    """Readers never see a frozen head and its block both (or neither), nor a compacted block
    and its sources both (or neither): numTicks stays exact while blocks change."""
    srv = make_server("-storage.block-duration=0", name="swap")
    rng = random.Random(4104)
    app = uniq("swap")
    series = [(app, {"env": "a"}), (app, {"env": "b"})]
    day = (now() // DAY - 2) * DAY
    model = Model()
    push_all(srv, model, _items(rng, series, day, day + DAY - 1, 30))
    admin(srv, "cut")
    f, u = day - 1, day + DAY
    sels = (None, {"env": "a"})
    want = [model.expect(app, s, f, u)["numTicks"] for s in sels]
    stop = threading.Event()
    seen = []

    def reader():
        conn = KeepAlive(srv.port)
        try:
            while not stop.is_set():
                for s, w in zip(sels, want):
                    got = render_facts(srv, query_for(app, s), f, u, conn)[0]
                    assert got == w, "reader saw %d, want %d (%r)" % (got, w, s)
                    seen.append(got)
        finally:
            conn.close()

    def compactor():
        try:
            time.sleep(0.02)
            assert admin(srv, "compact")["blocksAffected"] == 6
            time.sleep(0.02)
        finally:
            stop.set()

    # five more cuts under readers (head → frozen → block), then one compaction of all six
    for k in range(5):
        more = Model()
        push_all(srv, more, _items(rng, series, day, day + DAY - 1, 4))
        model.extend(more)
        stop.clear()
        want = [model.expect(app, s, f, u)["numTicks"] for s in sels]

        def cutter():
            try:
                time.sleep(0.02)
                admin(srv, "cut")
                time.sleep(0.02)
            finally:
                stop.set()

        run_threads([reader, reader, cutter])
    assert len(block_dirs(srv)) == 6
    stop.clear()
    run_threads([reader, reader, compactor])
    assert len(block_dirs(srv)) == 1, block_dirs(srv)
    assert len(seen) > 20, len(seen)
    for s in (None, {"env": "a"}, {"env": "b"}):
        check_render(srv, model, app, s, f, u, what="after compaction under readers")


def test_background_cut_and_compaction(make_server):
    """-storage.block-duration cuts the head on its own; each cut is followed by a compaction."""
    srv = make_server("-storage.block-duration=1s", name="background")
    rng = random.Random(4107)
    app = uniq("bg")
    series = [(app, {"env": "a"}), (app, {"env": "b"})]
    day = (now() // DAY - 2) * DAY
    model = Model()

    def verify(what):
        for s in (None, {"env": "a"}):
            for f, u in ((day - 1, day + DAY), (day + 2 * H + 1, day + 9 * H)):
                check_render(srv, model, app, s, f, u, what=what)

    push_all(srv, model, _items(rng, series, day, day + 12 * H, 20))
    wait_for(lambda: (lambda m: m["ember_block_cuts_total"] >= 1 and
                      m["ember_head_series"] == 0)(metrics(srv)), 10, "a background cut")
    verify("after the first background cut")
    push_all(srv, model, _items(rng, series, day, day + 12 * H, 20))
    wait_for(lambda: (lambda m: m["ember_block_cuts_total"] >= 2 and m["ember_head_series"] == 0
                      and m["ember_compactions_total"] >= 1 and m["ember_blocks"] == 1)(
                          metrics(srv)), 10, "a second cut and a compaction")
    # (the sources' directories go when the compaction drops its last reference to them)
    wait_for(lambda: len(block_dirs(srv)) == 1, 5, "the sources' directories to go")
    assert meta(block_dirs(srv)[0])["level"] >= 1
    verify("after background compaction")
    srv.restart()
    verify("after restart")


import urllib.parse


def _four_small_blocks(srv, app, base):
    for k in range(4):
        body = ("main;a%d 1\nmain;b%d 2\nmain;c%d 3\n" % (k, k, k)).encode()
        assert srv.post_ingest(app + ".cpu", body, from_=str(base + 60 * k),
                               sampleRate="0").status == 200
        admin(srv, "cut")
    assert len(block_dirs(srv)) == 4


def _total(srv, app, base):
    q = "process_cpu:samples:count::{service_name=\"%s\"}" % app
    r = srv.request("GET", "/render?query=%s&from=%d&until=%d" % (urllib.parse.quote(q),
                                                                 base - 60, base + 600))
    assert r.status == 200, r
    return r.json()["flamebearer"]["numTicks"]


def test_compaction_respects_the_sample_cap(make_server):
    """storage.compaction_max_samples bounds what one merge loads (and so its memory): four
    blocks of 3 samples merge pairwise under a cap of 6 and not at all under a cap of 5;
    totals never change."""
    base = now() - 7200
    base -= base % 3600
    for cap, merged, left in ((6, 4, 2), (5, 0, 4)):
        srv = make_server("-storage.compaction-max-samples=%d" % cap)
        app = uniq("cap")
        _four_small_blocks(srv, app, base)
        assert _total(srv, app, base) == 4 * 6
        doc = admin(srv, "compact")
        assert doc["blocksAffected"] == merged, (cap, doc)
        assert len(block_dirs(srv)) == left, cap
        assert _total(srv, app, base) == 4 * 6
