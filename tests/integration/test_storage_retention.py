"""Issue 4, "Must show": retention deletes the right blocks and nothing else. A block goes when
its newest profile is older than now - retention; the edge block (straddling the cutoff) stays
whole until it is entirely out; queries over deleted data answer 0; every other answer is
unchanged, also after a restart. Pyroscope's flag name works too."""

import random

from embertest import now, uniq
from storagetest import (Model, admin, assert_same, block_dirs, check_render, meta, metrics,
                         post_expecting_death, push_all, query_for, random_stacks, snapshot,
                         start_with_crash_point, wait_crashed, wait_for, wal_segments)

H = 3600
RET = 10 * H


def _items(rng, series, lo, hi, n):
    return [series[rng.randrange(len(series))] + (rng.randint(lo, hi), random_stacks(rng))
            for _ in range(n)]


def test_retention_deletes_old_blocks_only(make_server):
    srv = make_server("-storage.block-duration=0", name="retention")
    rng = random.Random(4105)
    app = uniq("ret")
    series = [(app, {"env": "a"}), (app, {"env": "b"})]
    t = now()
    cutoff = t - RET
    kept, gone = Model(), Model()
    blocks = {}

    def block(name, model, lo, hi, n):
        push_all(srv, model, _items(rng, series, lo, hi, n))
        admin(srv, "cut")
        new = [b for b in block_dirs(srv) if b not in blocks.values()]
        assert len(new) == 1
        blocks[name] = new[0]

    block("old1", gone, t - 30 * H, t - 29 * H, 12)
    block("old2", gone, t - 20 * H, cutoff - 2 * H, 12)
    # the edge block: profiles on both sides of the cutoff, the newest 2 h inside
    push_all(srv, kept, [(app, {"env": "a"}, cutoff - H, {"edge;old": 5}),
                         (app, {"env": "b"}, cutoff + 2 * H, {"edge;new": 7})])
    block("edge", kept, cutoff - 30 * 60, cutoff + 30 * 60, 8)
    block("recent", kept, t - 2 * H, t - 60, 12)
    # the edge block that goes during the test: newest profile 4 s inside the cutoff
    fleeting = Model()
    push_all(srv, fleeting, [(app, {"env": "a"}, now() - RET - H, {"fleeting": 1}),
                             (app, {"env": "a"}, now() - RET + 4, {"fleeting": 2})])
    admin(srv, "cut")
    blocks["fleeting"] = [b for b in block_dirs(srv) if b not in blocks.values()][0]
    fleeting_max = meta(blocks["fleeting"])["maxTime"] // 10**9
    push_all(srv, kept, _items(rng, series, t - 3 * H, t - 60, 10))   # head: not a block
    assert len(block_dirs(srv)) == 5

    ranges = [(t - 31 * H, t + 60), (t - 31 * H, t - 18 * H), (cutoff - 2 * H, cutoff + 2 * H),
              (cutoff - 2 * H, cutoff - 1), (cutoff, t + 60), (t - 3 * H, t)]
    sels = [None, {"env": "a"}, {"env": "b"}]
    # before: everything is there
    everything = Model()
    for m in (gone, kept, fleeting):
        everything.extend(m)
    for s in sels:
        for f, u in ranges:
            check_render(srv, everything, app, s, f, u, what="before retention")
    # the answers retention must not touch: ranges after the old blocks' data
    untouched = [(query_for(app, s), f, u) for s in sels
                 for f, u in [(cutoff - 2 * H, cutoff - 2 * H + 1800), (t - 3 * H, t)]]
    before = snapshot(srv, untouched)

    srv.args.append("-limits.retention=%ds" % RET)
    srv.restart()
    admin(srv, "retention")       # (the background thread also runs it every second)
    wait_for(lambda: metrics(srv)["ember_retention_deleted_blocks_total"] >= 2, 5,
             "retention of the two old blocks")
    left = block_dirs(srv)
    assert blocks["old1"] not in left and not blocks["old1"].exists()
    assert blocks["old2"] not in left and not blocks["old2"].exists()
    assert blocks["edge"] in left and blocks["recent"] in left
    if now() < fleeting_max + RET - 1:   # (unless this machine took > 3 s to get here)
        assert blocks["fleeting"] in left, "the edge block went before it was entirely out"
    assert "retention: deleting block %s" % blocks["old1"].name in srv.log_text()
    assert_same(before, snapshot(srv, untouched), "retention")
    for f, u in [(t - 31 * H, t - 18 * H), (t - 31 * H, cutoff - 2 * H)]:
        assert srv.total(query_for(app), from_=f, until=u) == 0

    # the fleeting edge block goes once its newest profile is out
    wait_for(lambda: not blocks["fleeting"].exists(), 15, "retention of the edge block")
    assert metrics(srv)["ember_retention_deleted_blocks_total"] == 3
    assert sorted(block_dirs(srv)) == sorted([blocks["edge"], blocks["recent"]])
    for s in sels:
        for f, u in ranges:
            check_render(srv, kept, app, s, f, u, what="after retention")
    srv.restart()
    assert sorted(block_dirs(srv)) == sorted([blocks["edge"], blocks["recent"]])
    assert_same(before, snapshot(srv, untouched), "restart after retention")
    for s in sels:
        for f, u in ranges:
            check_render(srv, kept, app, s, f, u, what="after restart")


def test_retention_pyroscope_flag(make_server):
    srv = make_server("-storage.block-duration=0", "-compactor.blocks-retention-period=1h",
                      name="retention_alias")
    app = uniq("reta")
    t = now()
    push_all(srv, None, [(app, {}, t - 3 * H, {"old": 1})])
    admin(srv, "cut")
    push_all(srv, None, [(app, {}, t - 60, {"new": 2})])
    admin(srv, "cut")
    assert len(block_dirs(srv)) in (1, 2)
    admin(srv, "retention")
    wait_for(lambda: len(block_dirs(srv)) == 1, 5, "retention")
    assert metrics(srv)["ember_retention_deleted_blocks_total"] == 1
    assert srv.total(query_for(app), from_=t - 4 * H, until=t) == 2 * 10**7


def test_retention_never_brings_deleted_data_back(make_server):
    """A crash between publishing a block and removing its WAL segments leaves records that
    replay skips only while the block exists. Retention must wait until those segments are
    gone (the next cut removes them), or the next start would replay the deleted data."""
    srv = make_server("-storage.block-duration=0", name="retention_wal")
    srv.stop()
    app = uniq("retw")
    t = now()
    start_with_crash_point(srv, "cut.before_wal_remove")
    push_all(srv, None, [(app, {}, t - 3 * H, {"old": 1})])
    post_expecting_death(srv, "/api/v1/admin/cut")
    wait_crashed(srv, "cut.before_wal_remove")
    srv.args.append("-limits.retention=1h")
    srv.start()
    assert len(block_dirs(srv)) == 1 and len(wal_segments(srv)) == 2, wal_segments(srv)
    admin(srv, "retention")
    assert len(block_dirs(srv)) == 1          # kept while its WAL segment is on disk ...
    assert srv.total(query_for(app), from_=t - 4 * H, until=t) == 10**7
    admin(srv, "cut")                         # ... which a cut removes, even with an empty head
    assert len(wal_segments(srv)) == 1, wal_segments(srv)
    admin(srv, "retention")
    wait_for(lambda: not block_dirs(srv), 5, "retention")
    assert srv.total(query_for(app), from_=t - 4 * H, until=t) == 0
    srv.restart()
    assert srv.total(query_for(app), from_=t - 4 * H, until=t) == 0
    assert metrics(srv)["ember_head_series"] == 0
