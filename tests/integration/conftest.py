"""Fixtures for Ember's integration tests (see tests/README.md).

- `server`: one `ember server` per test module (127.0.0.1, free port, temp data dir), ready
  before the first test; on teardown SIGTERM, exit code 0, no sanitizer report in its output.
- `make_server(*args)`: factory for extra servers (own data dir, extra flags such as
  `-limits.ingestion-body-limit-mb=1`) with the same teardown checks; the returned `Server` can
  `restart()`, `stop()`, `kill9()` and `start()` again on the same data dir.
- `go_profiles`: builds tests/e2e/go/gen once per session (offline, temp GOCACHE) and runs it;
  gives the profile files and the sums the Go program computed from them.

The binary is `build/ember` unless `EMBER_BIN` says otherwise (the ASan run sets
`EMBER_BIN=build-asan/ember`).
"""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from embertest import REPO, Server


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    base = tmp_path_factory.mktemp("ember")
    srv = Server(base / "data", base, name="ember")
    srv.start()
    yield srv
    srv.close()


@pytest.fixture
def make_server(tmp_path):
    made = []

    def make(*args, name=None):
        i = len(made)
        name = name or "ember%d" % i
        srv = Server(tmp_path / ("data%d" % i), tmp_path, args=args, name=name)
        made.append(srv)
        srv.start()
        return srv

    yield make
    problems = []
    for srv in made:
        try:
            srv.close()
        except AssertionError as e:
            problems.append(str(e))
    assert not problems, "\n".join(problems)


class GoProfiles:
    """Files written by tests/e2e/go/gen and the facts it computed about them."""

    def __init__(self, outdir, summary):
        self.dir = Path(outdir)
        self.summary = summary

    def path(self, name):
        return self.dir / name

    def data(self, name):
        return (self.dir / name).read_bytes()

    def file(self, name):
        return self.summary["files"][name]

    def types(self, name):
        """[(type, unit)] of the file's sample types, in order."""
        return [(t["type"], t["unit"]) for t in self.file(name)["sample_types"]]

    def type_ids(self, name, prefix):
        """Pyroscope profile type ids (PROTOCOLS.md §2.1), one per sample type."""
        pt = self.file(name)["period_type"]
        return ["%s:%s:%s:%s:%s" % (prefix, t, u, pt["type"], pt["unit"])
                for t, u in self.types(name)]


@pytest.fixture(scope="session")
def go_profiles(tmp_path_factory):
    go = shutil.which("go") or ("/usr/bin/go" if os.path.exists("/usr/bin/go") else None)
    if go is None:
        pytest.fail("go (Debian golang-go) is needed for the pprof tests; "
                    "scripts/deps.sh installs it")
    tmp = tmp_path_factory.mktemp("gogen")
    env = dict(os.environ)
    env.update(GOPROXY="off", GOFLAGS="-mod=mod", GO111MODULE="on", GOTOOLCHAIN="local",
               GOCACHE=str(tmp / "gocache"), GOPATH=str(tmp / "gopath"),
               GOTMPDIR=str(tmp), CGO_ENABLED="0")
    src = REPO / "tests" / "e2e" / "go" / "gen"
    exe = tmp / "gen.bin"
    b = subprocess.run([go, "build", "-o", str(exe), "."], cwd=str(src), env=env,
                       capture_output=True, text=True, timeout=240)
    assert b.returncode == 0, "go build failed:\n%s%s" % (b.stdout, b.stderr)
    out = tmp / "out"
    r = subprocess.run([str(exe), "-out", str(out)], env=env, capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, "gen failed:\n%s%s" % (r.stdout, r.stderr)
    summary = json.loads((out / "summary.json").read_text())
    return GoProfiles(out, summary)
