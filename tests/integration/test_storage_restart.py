"""Issue 4, "Must show": restart after blocks are cut keeps every total identical, per series
and per path, whether the data is all in blocks or split between blocks and the head/WAL (clean
restart and kill -9)."""

import random

from embertest import now, uniq
from storagetest import (Model, admin, assert_same, block_dirs, check_render, metrics,
                         push_all, query_for, random_stacks, snapshot, wal_segments)


def _series(app, other):
    return [(app, {"env": "prod"}), (app, {"env": "dev"}), (app, {}), (other, {"region": "eu"})]


def _items(rng, series, lo, hi, n):
    return [series[rng.randrange(len(series))] + (rng.randint(lo, hi), random_stacks(rng))
            for _ in range(n)]


def _checks(app, other, lo, hi):
    """(app, labels, from, until): every series alone, the app as a whole, several ranges."""
    mid = (lo + hi) // 2
    ranges = [(lo - 60, hi + 60), (lo, mid), (mid + 1, hi), (mid - mid % 3600, hi),
              (lo + 7, lo + 7)]
    sels = [(app, None), (app, {"env": "prod"}), (app, {"env": "dev"}), (other, None),
            (other, {"region": "eu"})]
    return [(a, l, f, u) for a, l in sels for f, u in ranges]


def _queries(app, other, checks):
    """Render queries for before/after comparisons: the checks, plus other matchers and the
    profile-type form."""
    lo, hi = checks[0][2], checks[0][3]
    qs = [(query_for(a, l), f, u) for a, l, f, u in checks]
    for q in ('%s.cpu{env=~"p.*"}' % app, '%s.cpu{env!="prod"}' % app,
              'process_cpu:cpu:nanoseconds:cpu:nanoseconds{service_name="%s"}' % app,
              'process_cpu:cpu:nanoseconds:cpu:nanoseconds{service_name=~"%s|%s"}' % (app, other)):
        qs += [(q, lo, hi), (q, (lo + hi) // 2, hi)]
    return qs


def _verify(srv, model, checks, what):
    for a, l, f, u in checks:
        check_render(srv, model, a, l, f, u, what=what)


def test_restart_after_cut_all_in_blocks(make_server):
    srv = make_server("-storage.block-duration=0", name="cutrestart")
    rng = random.Random(4101)
    app, other = uniq("rsa"), uniq("rso")
    series = _series(app, other)
    hi = now() - 60
    lo = hi - 3 * 3600
    model = Model()
    push_all(srv, model, _items(rng, series, lo, hi, 60))
    checks = _checks(app, other, lo, hi)
    queries = _queries(app, other, checks)
    _verify(srv, model, checks, "head only")
    head_only = snapshot(srv, queries)
    # (the extra matchers select what they should)
    lo_, hi_ = checks[0][2], checks[0][3]
    ptype = 'process_cpu:cpu:nanoseconds:cpu:nanoseconds{service_name="%s"}' % app
    assert head_only[(ptype, lo_, hi_)][0] == model.expect(app, None, lo_, hi_)["numTicks"] > 0
    assert head_only[('%s.cpu{env=~"p.*"}' % app, lo_, hi_)][0] == \
        model.expect(app, {"env": "prod"}, lo_, hi_)["numTicks"] > 0

    doc = admin(srv, "cut")
    assert doc["blocks"] == 1 and doc["headSeries"] == 0, doc
    assert len(block_dirs(srv)) == 1
    assert len(wal_segments(srv)) == 1, wal_segments(srv)  # covered segments are gone
    _verify(srv, model, checks, "after cut")
    before = snapshot(srv, queries)
    assert_same(head_only, before, "cut")

    srv.restart()
    assert_same(before, snapshot(srv, queries), "restart after cut")
    _verify(srv, model, checks, "after restart")
    m = metrics(srv)
    assert m["ember_blocks"] == 1 and m["ember_head_series"] == 0, m
    assert "storage: 1 blocks loaded" in srv.log_text()


def test_restart_with_blocks_and_head(make_server):
    srv = make_server("-storage.block-duration=0", name="mixrestart")
    rng = random.Random(4102)
    app, other = uniq("rma"), uniq("rmo")
    series = _series(app, other)
    hi = now() - 60
    lo = hi - 5 * 3600
    checks = _checks(app, other, lo, hi)
    queries = _queries(app, other, checks)
    model = Model()

    # two blocks with overlapping time ranges, then data that stays in the head/WAL
    push_all(srv, model, _items(rng, series, lo, hi, 40))
    admin(srv, "cut")
    push_all(srv, model, _items(rng, series, lo, hi, 40))
    admin(srv, "cut")
    push_all(srv, model, _items(rng, series, lo, hi, 40))
    m = metrics(srv)
    assert m["ember_blocks"] == 2 and m["ember_head_series"] > 0, m
    _verify(srv, model, checks, "blocks + head")
    before = snapshot(srv, queries)

    srv.restart()  # SIGTERM: blocks load, the WAL replays what is not in a block
    assert_same(before, snapshot(srv, queries), "clean restart with blocks + head")
    m = metrics(srv)
    assert m["ember_blocks"] == 2 and m["ember_head_series"] > 0, m

    # more head data, then kill -9
    push_all(srv, model, _items(rng, series, lo, hi, 30))
    _verify(srv, model, checks, "before kill -9")
    before = snapshot(srv, queries)
    srv.kill9()
    srv.start()
    assert_same(before, snapshot(srv, queries), "kill -9 with blocks + head")

    # cut what the WAL replayed: still the same totals, also after another restart
    doc = admin(srv, "cut")
    assert doc["blocks"] == 3 and doc["headSeries"] == 0, doc
    assert_same(before, snapshot(srv, queries), "cut after kill -9")
    srv.restart()
    assert_same(before, snapshot(srv, queries), "restart after the last cut")
    _verify(srv, model, checks, "final")
    assert len(block_dirs(srv)) == 3
