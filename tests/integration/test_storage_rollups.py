"""Issue 4, "Must show": rollup vs raw equality on randomized data over many ranges (property
test). Block reads use exact 1 h / 1 min rollup buckets (end-R, end] for the parts of
[from, until] they cover entirely and raw profiles at the edges; the head always reads raw.
Every answer (numTicks, every path's total and self, every timeline bucket) must equal what
Python computes from the ingested profiles: a profile at ts counts iff from <= ts <= until.

Seeded and reproducible: EMBER_STORAGE_SEED=<n> replays another data set (the failing seed is
in every assertion message)."""

import os
import random

from embertest import fb_tree, now, uniq
from storagetest import (KeepAlive, Model, admin, block_dirs, check_render, metrics,
                         push_all, query_for, random_stacks, render_facts, timeline_step)

SEED = int(os.environ.get("EMBER_STORAGE_SEED", "20261125"))
H, M = 3600, 60
WINDOW = 720 * H   # -storage.compaction-window: the whole data set lies in one window
SPAN = 30 * H


def _timestamp(rng, t0, recent):
    """Random ts in [t0, t0 + SPAN], often exactly on or next to a 1 h / 1 min bucket edge."""
    k = rng.random()
    if k < 0.35:
        return rng.randint(t0, t0 + SPAN)
    if k < 0.55:
        return t0 + rng.randint(0, SPAN // H) * H
    if k < 0.75:
        return t0 + rng.randint(0, SPAN // M) * M
    if k < 0.9:
        res = rng.choice((H, M))
        return t0 + rng.randint(1, SPAN // res - 1) * res + rng.choice((-1, 1))
    return rng.choice(recent) if recent else t0   # same second as an earlier profile


def _data(rng, app, t0):
    series = [(app, {"env": "a"}), (app, {"env": "b"}), (app, {"env": "c", "zone": "z1"})]
    phases, recent = [], []
    for phase, n in enumerate((110, 90, 60, 70)):
        items = []
        for _ in range(n):
            ts = _timestamp(rng, t0, recent)
            if phase == 2:            # one block narrow in time (hours 10..13)
                ts = t0 + 10 * H + (ts - t0) % (3 * H + 1)
            recent.append(ts)
            recent[:] = recent[-20:]
            a, labels = series[rng.randrange(len(series))]
            items.append((a, labels, ts, random_stacks(rng, nmax=4, depth=4, vmax=500)))
        phases.append(items)
    return series, phases


def _ranges(rng, t0, model):
    end = t0 + SPAN
    out = [(t0 - H, end + H), (t0, end), (t0 + 1, end - 1), (t0 - 20 * 86400, end + 20 * 86400),
           (t0 - 70 * 86400, end), (t0 - 700 * 86400, end + 10)]
    for _ in range(12):   # hour-aligned, exact and ±1 s on each side
        a, b = sorted(rng.sample(range(0, SPAN // H + 1), 2))
        f, u = t0 + a * H, t0 + b * H
        out += [(f, u), (f + 1, u), (f - 1, u + 1), (f + 1, u - 1), (f, u + 1)]
    for _ in range(12):   # minute-aligned
        a, b = sorted(rng.sample(range(0, SPAN // M + 1), 2))
        f, u = t0 + a * M, t0 + b * M
        out += [(f, u), (f + 1, u), (f - 1, u - 1)]
    for _ in range(8):    # 13 h .. 25 h long: timeline step 60 s (1 min rollups in the timeline)
        f = t0 + rng.randint(-H, 5 * H)
        out.append((f, f + rng.randint(13 * H, 25 * H)))
    for _ in range(16):   # anywhere
        a, b = sorted(rng.randint(t0 - H, end + H) for _ in range(2))
        out.append((a, b))
    tss = [p.ts for p in model.profiles]
    for _ in range(8):    # tiny
        ts = rng.choice(tss)
        out += [(ts, ts), (ts - 1, ts), (ts, ts + 1), (ts + 1, ts + 1)]
    return out


def _check_all(srv, model, series, ranges, what):
    """Every range for the whole app and each series; every 4th range also with
    aggregation=avg (timeline buckets averaged per profile: rollups cannot answer those)."""
    app = series[0][0]
    sels = [None] + [labels for _, labels in series]
    conn = KeepAlive(srv.port)
    try:
        for i, (f, u) in enumerate(ranges):
            for labels in sels:
                check_render(srv, model, app, labels, f, u, conn=conn,
                             what="seed %d, %s:" % (SEED, what))
            if i % 4 == 0:
                check_render(srv, model, app, None, f, u, conn=conn, avg=True,
                             what="seed %d, %s:" % (SEED, what))
    finally:
        conn.close()


def test_rollups_equal_raw_on_random_data(make_server):
    rng = random.Random(SEED)
    srv = make_server("-storage.block-duration=0", "-storage.compaction-window=%ds" % WINDOW,
                      name="rollups")
    app = uniq("roll")
    t0 = (now() // WINDOW - 1) * WINDOW + 86400   # hour-aligned, well inside one window
    series, phases = _data(rng, app, t0)
    model = Model()
    for i, items in enumerate(phases):
        push_all(srv, model, items)
        if i < len(phases) - 1:
            admin(srv, "cut")
    assert len(block_dirs(srv)) == 3
    assert metrics(srv)["ember_head_series"] == 3
    ranges = _ranges(rng, t0, model)
    steps = {timeline_step(f, u) for f, u in ranges}
    assert {60, 3600} <= steps and any(s % 60 for s in steps), steps  # raw, 1 min, 1 h timelines

    # the fast decoder agrees with embertest's (which also checks the §3.4 invariants)
    doc = srv.render(query_for(app), from_=t0 - H, until=t0 + SPAN + H, maxNodes=1000000)
    assert fb_tree(doc) == render_facts(srv, query_for(app), t0 - H, t0 + SPAN + H)[1]

    _check_all(srv, model, series, ranges, "3 blocks + head")
    # fewer ranges from here on: the same data, other layouts
    some = ranges[:6] + rng.sample(ranges[6:], 34)
    admin(srv, "cut")                              # 4 blocks, empty head
    _check_all(srv, model, series, some, "4 blocks")
    doc = admin(srv, "compact")                    # one level-1 block from 4
    assert doc["blocksAffected"] == 4 and doc["blocks"] == 1, doc
    _check_all(srv, model, series, some, "compacted")
    srv.restart()
    _check_all(srv, model, series, some, "compacted, after restart")
