"""format=perf_script (issue 8, beyond Pyroscope): a C program with a known hot and cold
function, compiled and recorded here with `perf record -g` (Debian linux-perf), its
`perf script` text pushed to /ingest. Per-function self CPU time equals what `perf report`
computes from the same recording (sum of sample periods per symbol), the hot function
leads, and the command name is the root frame. Bad input is a clear 422."""

import collections
import re
import subprocess

import pytest

from embertest import CPU, assert_json_error, fb_nodes, uniq

def self_by_name(doc):
    res = collections.Counter()
    for row in fb_nodes(doc)[1:]:
        for n in row:
            res[n["name"]] += n["self"]
    return res


PROGRAM = r"""
#include <stdio.h>
static volatile unsigned long sink;
__attribute__((noinline)) void ember_hot(void) { for (long i = 0; i < 600000000L; i++) sink += i; }
__attribute__((noinline)) void ember_cold(void) { for (long i = 0; i < 200000000L; i++) sink += i; }
int main(void) { ember_hot(); ember_cold(); printf("%lu\n", sink); return 0; }
"""


@pytest.fixture(scope="module")
def recording(tmp_path_factory):
    d = tmp_path_factory.mktemp("perf")
    (d / "prog.c").write_text(PROGRAM)
    subprocess.run(["gcc", "-O1", "-fno-omit-frame-pointer", "-o", str(d / "embprog"),
                    str(d / "prog.c")], check=True)
    r = subprocess.run(["perf", "record", "-F", "499", "-g", "-o", str(d / "perf.data"), "--",
                        str(d / "embprog")], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, "perf record failed (perf_event_paranoid?):\n%s" % r.stderr
    script = subprocess.run(["perf", "script", "-i", str(d / "perf.data")], check=True,
                            capture_output=True, timeout=120).stdout
    report = subprocess.run(["perf", "report", "-i", str(d / "perf.data"), "--stdio",
                             "--no-children", "-F", "period,sym", "-g", "none"], check=True,
                            capture_output=True, text=True, timeout=120).stdout
    periods = {}
    for line in report.splitlines():
        m = re.match(r"^\s*(\d+)\s+\[[.k]\]\s+(\S+)\s*$", line)
        if m:
            periods[m.group(2)] = periods.get(m.group(2), 0) + int(m.group(1))
    assert periods.get("ember_hot", 0) > 0 and periods.get("ember_cold", 0) > 0, report
    return script, periods


def test_perf_script_functions_and_periods(server, recording):
    script, periods = recording
    app = uniq("perf")
    r = server.post_ingest(app, script, format="perf_script", sampleRate="499")
    assert r.status == 200, r
    q = '%s{service_name="%s",perf_event="cpu-clock"}' % (CPU, app)
    doc = server.render(q)
    selfs = self_by_name(doc)
    # cpu-clock periods are nanoseconds: the profile holds them exactly
    assert selfs["ember_hot"] == periods["ember_hot"]
    assert selfs["ember_cold"] == periods["ember_cold"]
    assert doc["flamebearer"]["numTicks"] == sum(periods.values())
    top = max(selfs, key=selfs.get)
    assert top == "ember_hot", selfs
    # the command is the root frame
    assert doc["flamebearer"]["names"][doc["flamebearer"]["levels"][1][3]] == "embprog"


def test_perf_script_counts_without_periods(server):
    app = uniq("perfcount")
    text = ("prog 100 1.000: cycles:u:\n\t  401000 work+0x10 (/bin/prog)\n\t  401100 main+0x5 (/bin/prog)\n\n"
            "prog 100 1.001: cycles:u:\n\t  401000 work+0x10 (/bin/prog)\n\t  401100 main+0x5 (/bin/prog)\n\n"
            "prog 100/101 1.002: cycles:u:\n\t  7f0000 [unknown] (/usr/lib/libc.so.6)\n\t  401100 main+0x5 (/bin/prog)\n")
    assert server.post_ingest(app, text.encode(), format="perf_script").status == 200
    doc = server.render('%s{service_name="%s",perf_event="cycles"}' % (CPU, app))
    selfs = self_by_name(doc)
    # no periods: one sample each, × 1e9 / sampleRate (100)
    assert selfs["work"] == 2 * 10_000_000 and selfs["[libc.so.6]"] == 10_000_000, selfs


@pytest.mark.parametrize("body,what", [
    (b"", "no samples"),
    (b"\n\n# only comments\n", "no samples"),
    (b"not a perf script header\n\t 1 f (x)\n", "line 1"),
    (b"\t401000 main (/bin/x)\n", "line 1"),
])
def test_perf_script_bad_input(server, body, what):
    r = server.post_ingest(uniq("perfbad"), body, format="perf_script")
    d = assert_json_error(r, 422)
    assert what in d["message"], d
