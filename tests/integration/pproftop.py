"""`go tool pprof -top` as a test oracle (Debian golang-go, offline): runs it on a profile
file and parses the total and the rows. Used by test_export_pprof.py and test_cli_query.py."""

import os
import re
import shutil
import subprocess

import pytest


def go_bin():
    go = shutil.which("go") or ("/usr/bin/go" if os.path.exists("/usr/bin/go") else None)
    if go is None:
        pytest.fail("go (Debian golang-go) is needed for go tool pprof; scripts/deps.sh installs it")
    return go


_ROW = re.compile(r"^\s*(\S+)\s+\S+%\s+\S+%\s+(\S+)\s+\S+%\s+(.+?)\s*$")
_TOTAL = re.compile(r"of (\S+) total")


def _num(s):
    return int(re.sub(r"[a-z]+$", "", s))


def pprof_top(path, tmp_path, sample_index=None):
    """`go tool pprof -top` of a file → (total, [(function, flat, cum)] in pprof's order)."""
    args = [go_bin(), "tool", "pprof", "-symbolize=none", "-top", "-nodecount=1000",
            "-unit=ns"]
    if sample_index:
        args.append("-sample_index=" + sample_index)
    env = dict(os.environ, PPROF_TMPDIR=str(tmp_path), HOME=str(tmp_path), GOTOOLCHAIN="local",
               GOFLAGS="", GOPROXY="off")
    r = subprocess.run(args + [str(path)], capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode == 0, "go tool pprof failed on %s:\n%s%s" % (path, r.stdout, r.stderr)
    total, rows, in_table = None, [], False
    for line in r.stdout.splitlines():
        m = _TOTAL.search(line)
        if m and line.startswith("Showing nodes"):
            total = _num(m.group(1))
        if line.split()[:2] == ["flat", "flat%"]:
            in_table = True
            continue
        if in_table:
            m = _ROW.match(line)
            assert m, "unexpected pprof row %r" % line
            rows.append((m.group(3), _num(m.group(1)), _num(m.group(2))))
    assert total is not None, r.stdout
    return total, rows
