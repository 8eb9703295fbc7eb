"""Issue 4, "Must show": a flipped byte in each block file kind (and, separately, a truncated
file) is detected by checksum when the server starts: the block moves to
`blocks/<tenant>/quarantine/`, a log line names the block and the file, the quarantine metric
counts it, and the server keeps serving every other block and the head exactly; the damaged
block's data is gone from answers; SIGTERM still exits 0."""

import random
import shutil

import pytest

from embertest import Server, now, uniq
from storagetest import (BLOCK_FILES, Model, admin, block_dirs, check_render, metrics,
                         push_all, quarantined, random_stacks, tmp_dirs)

H = 3600
DAY = 86400


class Base:
    """A data dir with three blocks (the first is the victim) and head data in the WAL."""


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    root = tmp_path_factory.mktemp("damage")
    srv = Server(root / "data", root, args=["-storage.block-duration=0"], name="damage-base")
    srv.start()
    try:
        rng = random.Random(4106)
        b = Base()
        b.app = uniq("dmg")
        b.day = (now() // DAY - 2) * DAY
        b.victim_model, b.kept = Model(), Model()
        series = [(b.app, {"env": "a"}), (b.app, {"env": "b"})]

        def items(lo, hi, n, extra=()):
            out = [series[rng.randrange(2)] + (rng.randint(lo, hi), random_stacks(rng))
                   for _ in range(n)]
            return out + [(b.app, labels, rng.randint(lo, hi), random_stacks(rng))
                          for labels in extra]

        d = b.day
        push_all(srv, b.victim_model, items(d, d + 4 * H, 20, extra=[{"env": "victim"}] * 3))
        admin(srv, "cut")
        b.victim = block_dirs(srv)[0].name
        push_all(srv, b.kept, items(d + 6 * H, d + 10 * H, 20))
        admin(srv, "cut")
        push_all(srv, b.kept, items(d + 12 * H, d + 16 * H, 20))
        admin(srv, "cut")
        push_all(srv, b.kept, items(d + 18 * H, d + 20 * H, 10))   # head / WAL
        assert len(block_dirs(srv)) == 3
        srv.stop()
        b.dir = srv.data_dir
        b.root = root
        yield b
    finally:
        srv.close()


def _damage(path, mode):
    data = bytearray(path.read_bytes())
    if mode == "flip":
        data[len(data) // 2] ^= 0x01
    else:
        del data[len(data) // 2:]
    path.write_bytes(bytes(data))


CASES = [(f, m) for f in BLOCK_FILES for m in ("flip", "truncate")]


@pytest.mark.parametrize("fname,mode", CASES, ids=["%s-%s" % c for c in CASES])
def test_damaged_block_is_quarantined(base, tmp_path, fname, mode):
    data = tmp_path / "data"
    shutil.copytree(base.dir, data)
    victim = data / "blocks" / "anonymous" / base.victim
    _damage(victim / fname, mode)
    srv = Server(data, tmp_path, args=["-storage.block-duration=0"], name="damaged")
    try:
        srv.start()
        left = [p.name for p in block_dirs(srv)]
        assert base.victim not in left and len(left) == 2, left
        q = quarantined(srv)
        assert len(q) == 1 and q[0].name.startswith(base.victim + "-"), q
        assert (q[0] / fname).exists() and not tmp_dirs(srv)
        m = metrics(srv)
        assert m["ember_blocks_quarantined_total"] == 1 and m["ember_blocks"] == 2, m
        lines = [ln for ln in srv.log_text().splitlines()
                 if "damaged" in ln and base.victim in ln]
        assert len(lines) == 1, srv.log_tail()
        assert fname in lines[0] and "quarantine" in lines[0], lines[0]

        d = base.day
        for s in (None, {"env": "a"}, {"env": "b"}):
            for f, u in ((d - 1, d + DAY), (d + 5 * H, d + 21 * H), (d + 7 * H, d + 13 * H)):
                check_render(srv, base.kept, base.app, s, f, u, what="after quarantine")
        assert srv.total(base.app + ".cpu", from_=d - 1, until=d + 5 * H) == 0
        r = srv.get("/pyroscope/label-values", label="env")
        assert r.status == 200 and sorted(r.json()) == ["a", "b"], r

        # it keeps working: ingest, cut, restart; the quarantined block stays aside
        more = Model()
        push_all(srv, more, [(base.app, {"env": "a"}, d + 22 * H, {"after;damage": 9})])
        admin(srv, "cut")
        base_kept = Model()
        base_kept.extend(base.kept)
        base_kept.extend(more)
        srv.restart()                 # SIGTERM → exit code 0 is checked here
        assert len(block_dirs(srv)) == 3 and len(quarantined(srv)) == 1
        assert metrics(srv)["ember_blocks_quarantined_total"] == 0
        check_render(srv, base_kept, base.app, None, d - 1, d + DAY, what="after restart")
        srv.stop()
    finally:
        srv.close()
