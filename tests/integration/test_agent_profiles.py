"""libember's profiles against the truth of known workloads (tests/agent/*.c), in file mode
(EMBER_OUTPUT, what `ember record` uses) so nothing but the profile is measured:

- CPU: 4 threads (2 created late) spending 75% / 25% of their CPU in a() / b(): the leaf
  shares match within ±5 points, and the samples tagged fn=b (EMBER_TAG_SCOPE) are b's.
- Allocations: estimated alloc_space and inuse_space within ±10% of what the program counted.
- The linked-in API (tests/agent/api.c): config errors, tags by scope and push/pop, flush, stop.
- A bad environment value: one line on stderr, profiling off, the program unchanged.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "agent"))

from agentlib import agent_paths, decode_pprof, run  # noqa: E402


def test_agent_cpu_split_and_tags(tmp_path):
    ap = agent_paths()
    out = tmp_path / "cpu.pb.gz"
    # 4 threads x 800 ms of CPU at 250 Hz: ~800 samples, so ±5 points is many sigmas
    code, stdout, stderr = run([ap.cpu_split, "800"], {
        "LD_PRELOAD": ap.lib, "EMBER_OUTPUT": out, "EMBER_SAMPLE_RATE": "250"})
    assert code == 0 and stdout == "done\n", stderr
    p = decode_pprof(out.read_bytes())
    assert p.sample_types == [("samples", "count"), ("cpu", "nanoseconds")]
    assert p.period_type == ("cpu", "nanoseconds") and p.period == 4_000_000
    assert p.mappings[0]["filename"].endswith("agent_cpu_split"), p.mappings[0]
    assert len(p.mappings[0]["build_id"]) == 40, p.mappings[0]  # sha1 build id, hex
    leaf = p.by_leaf(0)
    a, b = leaf.get("a", 0), leaf.get("b", 0)
    total = p.total(0)
    assert total >= 600, (total, leaf)  # 3.2 s of CPU at 250 Hz: ~800
    assert (a + b) / total > 0.9, leaf
    share_a = 100.0 * a / (a + b)
    assert abs(share_a - 75) <= 5, "a %.1f%% b %.1f%% (want 75/25): %r" % (
        share_a, 100 - share_a, leaf)
    # a() and b() set up no frame (leaves): their caller is recovered from the word at the
    # stack pointer (a direct call to them), so worker() is the next frame
    ab = [(names, vals[0]) for names, vals, _ in p.samples if names and names[0] in ("a", "b")]
    with_caller = sum(v for names, v in ab if len(names) > 1 and names[1] == "worker")
    assert with_caller >= 0.95 * (a + b), ab[:5]
    # cpu values are samples x period
    assert p.total(1) == total * 4_000_000
    tagged = {}
    for names, vals, labels in p.samples:
        if labels.get("fn") == "b":
            tagged[names[0]] = tagged.get(names[0], 0) + vals[0]
    assert sum(tagged.values()) >= 0.95 * b, (tagged, b)
    assert tagged.get("b", 0) >= 0.95 * sum(tagged.values()), tagged
    assert tagged.get("a", 0) == 0, tagged


def test_agent_alloc_estimates(tmp_path):
    ap = agent_paths()
    out = tmp_path / "mem.pb.gz"
    code, stdout, stderr = run([ap.alloc_pattern, "4000"], {
        "LD_PRELOAD": ap.lib, "EMBER_OUTPUT": out, "EMBER_PROFILE_TYPES": "alloc",
        "EMBER_ALLOC_SAMPLE_BYTES": "16384"})
    assert code == 0, stderr
    truth = dict(kv.split("=") for kv in stdout.split()[1:])
    truth = {k: int(v) for k, v in truth.items()}
    p = decode_pprof(out.read_bytes())
    assert [t for t, _ in p.sample_types] == \
        ["alloc_objects", "alloc_space", "inuse_objects", "inuse_space"]
    assert p.period_type == ("space", "bytes") and p.period == 16384
    for kind in ("alloc_space", "inuse_space"):
        est = p.total(p.index(kind))
        err = (est - truth[kind]) / truth[kind]
        assert abs(err) <= 0.10, "%s: estimated %d, truth %d (%+.1f%%)" % (
            kind, est, truth[kind], 100 * err)
    # attribution: in-use bytes are the kept blocks, allocations mostly churn
    inuse = p.by_function(p.index("inuse_space"))
    keep = sum(v for k, v in inuse.items() if k.startswith("keep_blocks"))
    assert keep >= 0.9 * truth["inuse_space"], inuse
    alloc = p.by_function(p.index("alloc_space"))
    churn = sum(v for k, v in alloc.items() if k.startswith("churn"))
    assert churn >= 0.8 * (truth["alloc_space"] - truth["inuse_space"]), alloc


def test_agent_linked_api(tmp_path):
    ap = agent_paths()
    out = tmp_path / "api.pb.gz"
    code, stdout, stderr = run([ap.api, out])
    assert code == 0 and stdout == "ok\n", (stdout, stderr)
    p = decode_pprof(out.read_bytes())
    by_tags = {}
    for names, vals, labels in p.samples:
        key = tuple(sorted(labels.items()))
        by_tags[key] = by_tags.get(key, 0) + vals[0]
    # 300 ms scoped, 150 ms with two pushed tags, 150 ms untagged; at 500 Hz
    scoped = by_tags.get((("stage", "scoped"),), 0)
    pushed = by_tags.get((("inner", "1"), ("stage", "pushed")), 0)
    plain = by_tags.get((), 0)
    assert 100 <= scoped <= 200 and 45 <= pushed <= 100 and 45 <= plain, by_tags


def test_agent_bad_env_is_reported_once_and_ignored(tmp_path):
    ap = agent_paths()
    plain = run([ap.chaos, "busy", "50"])
    for env, needle in [({"EMBER_SAMPLE_RATE": "fast"}, "EMBER_SAMPLE_RATE"),
                        ({"PYROSCOPE_TAGS": "a=1,bad key=2"}, "PYROSCOPE_TAGS"),
                        ({"EMBER_SERVER_ADDRESS": "https://x:1"}, "https"),
                        ({"EMBER_PROFILE_TYPES": "cpu,gpu"}, "gpu")]:
        env = dict(env, LD_PRELOAD=str(ap.lib), EMBER_APPLICATION_NAME="bad")
        code, stdout, stderr = run([ap.chaos, "busy", "50"], env)
        assert (code, stdout) == plain[:2], (env, stderr)
        lines = [ln for ln in stderr.splitlines() if ln.startswith("libember:")]
        assert len(lines) == 1 and needle in lines[0] and "profiling is off" in lines[0], \
            (env, stderr)
