"""A real Connect client against Ember (issue 5, "Must show"): tests/e2e/connect runs
@connectrpc/connect-node with messages that @bufbuild/protoc-gen-es generates (through the
buf CLI from npm) from our proto/ files, ingests known folded profiles and calls every
querier.v1.QuerierService method in JSON and in binary mode, checking the values.

The npm packages come from scripts/deps.sh (`npm ci` in tests/e2e/connect); without node the
test fails rather than skips.
"""

import os
import re
import shutil
import subprocess

import pytest

from embertest import REPO

CONNECT_DIR = REPO / "tests" / "e2e" / "connect"


def node_or_fail():
    node = shutil.which("node") or ("/usr/bin/node" if os.path.exists("/usr/bin/node") else None)
    if node is None:
        pytest.fail("node is needed for the Connect client test; scripts/deps.sh installs it")
    if not (CONNECT_DIR / "node_modules" / ".bin" / "buf").exists():
        pytest.fail("tests/e2e/connect/node_modules is missing: run scripts/deps.sh "
                    "(npm ci in tests/e2e/connect)")
    return node


def run_node_test(make_server, tmp_path, script, min_tests):
    """Runs a node:test file of tests/e2e/connect against a fresh multi-tenant server and
    checks that at least min_tests ran, all passed, none skipped."""
    node = node_or_fail()
    srv = make_server("-auth.multitenancy-enabled=true")
    env = dict(os.environ)
    env.update(EMBER_URL="http://127.0.0.1:%d" % srv.port, BUF_CACHE_DIR=str(tmp_path / "buf"),
               NODE_NO_WARNINGS="1")
    r = subprocess.run([node, "--test", "--test-reporter=spec", script],
                       cwd=str(CONNECT_DIR), env=env, capture_output=True, text=True,
                       timeout=180)
    out = r.stdout + r.stderr
    assert r.returncode == 0, "node %s failed:\n%s" % (script, out[-12000:])
    counts = dict(re.findall(r"^(?:\S+ )?(tests|pass|fail|skipped|cancelled) (\d+)$", out, re.M))
    assert int(counts.get("tests", 0)) >= min_tests and counts.get("pass") == counts.get("tests"), out
    assert counts.get("fail") == "0" and counts.get("skipped") == "0", out


def test_connect_node_client_every_method_json_and_binary(make_server, tmp_path):
    # both modes (2 suites) run every test
    run_node_test(make_server, tmp_path, "connect_client.test.mjs", 30)
