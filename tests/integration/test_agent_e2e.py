"""libember end to end against the real `ember server`, and `ember record`:

- a preloaded workload with a 1 s upload interval shows its functions in /render while it
  is still running (within about one interval of the first upload), with the CPU split of
  the workload and its tag as a series label;
- `ember record -o` writes a profile `go tool pprof -top` reads, and passes the command's
  exit status through; `--alloc` adds the allocation profile; `--server` pushes instead.
"""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "agent"))

from agentlib import agent_paths, decode_pprof, run  # noqa: E402
from embertest import CPU, fb_tree, uniq  # noqa: E402
from pproftop import pprof_top  # noqa: E402


def _leaf_totals(doc):
    out = {}
    for path, (total, self_) in fb_tree(doc).items():
        leaf = path.split(";")[-1]
        out[leaf] = out.get(leaf, 0) + self_
    return out


def test_agent_e2e_render_within_interval(server):
    ap = agent_paths()
    app = uniq("agente2e")
    env = dict(os.environ, LD_PRELOAD=str(ap.lib), EMBER_APPLICATION_NAME=app,
               EMBER_SERVER_ADDRESS="http://127.0.0.1:%d" % server.port,
               EMBER_UPLOAD_INTERVAL="1", EMBER_TAGS="env=test")
    query = '%s{service_name="%s"}' % (CPU, app)
    t0 = time.monotonic()
    # 4 threads x 1.5 s of CPU: at least 3 s of wall time on 2 cores
    proc = subprocess.Popen([str(ap.cpu_split), "1500"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    seen, running = None, None
    try:
        while time.monotonic() - t0 < 20:
            names = set(server.render(query)["flamebearer"]["names"])
            if {"a", "b"} <= names:
                seen, running = time.monotonic() - t0, proc.poll() is None
                break
            time.sleep(0.1)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0 and out == "done\n", err
    assert seen is not None, "a and b never appeared in /render"
    assert running, "names appeared only after the program exited (%.1f s)" % seen
    assert seen < 10.0, "first names after %.1f s with a 1 s upload interval" % seen
    # the whole run: the split and the tags, as the server sees them
    time.sleep(0.5)
    leaf = _leaf_totals(server.render(query))
    a, b = leaf.get("a", 0), leaf.get("b", 0)
    assert abs(100.0 * a / (a + b) - 75) <= 5, leaf
    static = server.render('%s{service_name="%s",env="test"}' % (CPU, app))
    assert static["flamebearer"]["numTicks"] == server.render(query)["flamebearer"]["numTicks"]
    tagged = _leaf_totals(server.render('%s{service_name="%s",fn="b"}' % (CPU, app)))
    assert tagged.get("b", 0) > 0 and tagged.get("a", 0) == 0, tagged
    vals = server.get_json("/label-values", label="fn")
    assert "b" in vals, vals


def test_agent_record_file_go_pprof(tmp_path):
    ap = agent_paths()
    out = tmp_path / "rec.pb.gz"
    code, stdout, stderr = run([ap.ember, "record", "-o", out, "--rate", "200", "--",
                                ap.cpu_split, "400"], {"EMBER_LIB": str(ap.lib)})
    assert code == 0 and stdout == "done\n", stderr
    assert "wrote" in stderr
    total, rows = pprof_top(out, tmp_path)
    flat = {name: f for name, f, _ in rows}
    assert flat.get("a", 0) > flat.get("b", 0) > 0, rows
    assert total >= 0.8 * 4 * 0.4e9, total  # ~1.6 s of CPU, in ns
    # exit status and output pass through; children that exec do not overwrite the file
    out2 = tmp_path / "chaos.pb.gz"
    code, stdout, stderr = run([ap.ember, "record", "-o", out2, "--", ap.chaos, "fork"],
                               {"EMBER_LIB": str(ap.lib)})
    plain = run([ap.chaos, "fork"])
    assert (code, stdout) == plain[:2], stderr
    p = decode_pprof(out2.read_bytes())
    assert any(any(n.startswith("burn_alloc") for n in names) for names, _, _ in p.samples)


def test_agent_record_alloc(tmp_path):
    ap = agent_paths()
    out = tmp_path / "rec.pb.gz"
    code, stdout, stderr = run([ap.ember, "record", "--alloc", "-o", out, "--",
                                ap.alloc_pattern, "800"], {"EMBER_LIB": str(ap.lib)})
    assert code == 0, stderr
    mem = tmp_path / "rec.alloc.pb.gz"
    env = dict(os.environ, HOME=str(tmp_path), PPROF_TMPDIR=str(tmp_path), GOPROXY="off",
               GOTOOLCHAIN="local")
    r = subprocess.run(["go", "tool", "pprof", "-top", "-symbolize=none",
                        "-sample_index=inuse_space", str(mem)], capture_output=True, text=True,
                       env=env, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "keep_blocks" in r.stdout and "Type: inuse_space" in r.stdout, r.stdout


def test_agent_record_cxx_new_delete_and_names(tmp_path):
    """operator new[]/delete[] are sampled, C++ names demangled, ember::TagScope works."""
    ap = agent_paths()
    if not ap.cxx.exists():
        pytest.fail("no C++ compiler: agent_cxx_work not built (scripts/deps.sh installs g++)")
    out = tmp_path / "cxx.pb.gz"
    # a 16 KiB mean: ~3,000 samples of the 50 MB kept, so ±10% is many sigmas
    code, stdout, stderr = run([ap.ember, "record", "--alloc", "-o", out, "--", ap.cxx,
                                "20000"], {"EMBER_LIB": str(ap.lib),
                                           "EMBER_ALLOC_SAMPLE_BYTES": "16384"})
    assert code == 0 and stdout.startswith("cxx done "), stderr
    kept = int(stdout.split()[2])
    cpu = decode_pprof(out.read_bytes())
    spin = sum(v[0] for names, v, labels in cpu.samples
               if names and names[0] == "work::Hot::spin(unsigned long)")
    tagged = sum(v[0] for names, v, labels in cpu.samples if labels.get("lang") == "cxx")
    assert spin > 0 and tagged >= spin, (spin, tagged)
    mem = decode_pprof((tmp_path / "cxx.alloc.pb.gz").read_bytes())
    i = mem.index("inuse_space")
    inuse = sum(v[i] for names, v, _ in mem.samples
                if "work::Widget::build(int)" in names)
    assert abs(inuse - kept) <= 0.1 * kept, (inuse, kept)
    assert any(names and names[0].startswith("operator new") for names, _, _ in mem.samples)


def test_agent_record_push(server, tmp_path):
    ap = agent_paths()
    app = uniq("agentrec")
    code, stdout, stderr = run([ap.ember, "record", "--server",
                                "http://127.0.0.1:%d" % server.port, "--name", app, "--",
                                ap.cpu_split, "300"], {"EMBER_LIB": str(ap.lib)})
    assert code == 0, stderr
    names = server.render('%s{service_name="%s"}' % (CPU, app))["flamebearer"]["names"]
    assert "a" in names and "b" in names, names


def test_agent_record_finds_lib_next_to_ember(tmp_path):
    ap = agent_paths()
    if ap.ember.parent != ap.build:
        return  # EMBER_BIN and libember come from different build dirs here
    out = tmp_path / "x.pb.gz"
    code, stdout, stderr = run([ap.ember, "record", "-o", out, "--", ap.chaos, "leaf"])
    assert code == 4 and stdout == "leaf\n", stderr
    assert out.exists()


def test_agent_record_usage(tmp_path):
    ap = agent_paths()
    code, _, err = run([ap.ember, "record"])
    assert code == 2 and "no command" in err
    code, _, err = run([ap.ember, "record", "-o", tmp_path / "x", "--", "/nonexistent/cmd"],
                       {"EMBER_LIB": str(ap.lib)})
    assert code == 127 and "cannot run" in err
