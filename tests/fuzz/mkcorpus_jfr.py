#!/usr/bin/env python3
"""Regenerates tests/fuzz/corpus/jfr/: seeds for fuzz_jfr.c.

- jdk_*.jfr.gz: short recordings of tests/e2e/java/EmberJfrWorkload.java made by the JDK
  (gzipped: the JDK's metadata event alone is ~95 KB raw; fuzz_jfr gunzips its input).
- ap_*.jfr: small async-profiler-shaped files from the writer in
  tests/integration/test_ingest_jfr.py (compressed and fixed-width integers, every string
  encoding, contextId, the "event" setting, profiler.* events).
- form_*.bin: the 0xA5 multipart layout of fuzz_jfr.c (a LabelsSnapshot, then a JFR file).
Keeps crash_* files (inputs that once broke the parser). Needs java, javac and jfr.
"""
import gzip
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
OUT = REPO / "tests/fuzz/corpus/jfr"
sys.path.insert(0, str(REPO / "tests/integration"))
from test_ingest_jfr import STACK_A, STACK_B, JfrWriter, labels_snapshot  # noqa: E402


JFC_EVENT = ('  <event name="%s"><setting name="enabled">true</setting>'
             '<setting name="period">5 ms</setting><setting name="threshold">0 ms</setting>'
             '<setting name="throttle">100/s</setting>'
             '<setting name="stackTrace">true</setting></event>\n')


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    for f in OUT.iterdir():
        if not f.name.startswith("crash_"):
            f.unlink()
    samples = [(0, 1, False), (0, 2, False), (1, 0, True), (1, 3, False)]
    for compressed in (True, False):
        for enc in (3, 4, 5):
            w = JfrWriter(compressed=compressed, string_encoding=enc)
            data = w.build([STACK_A, STACK_B], samples, settings=[("event", "wall")],
                           live=[0, 1], wallclock=[(1, 3)])
            (OUT / ("ap_%s_enc%d.jfr" % ("c" if compressed else "u", enc))).write_bytes(data)
    labels = labels_snapshot({1: {"route": "/a"}, 2: {"route": "/b"}, 3: {"tenant": "x"}})
    data = JfrWriter().build([STACK_A, STACK_B], samples, settings=[("event", "itimer")])
    (OUT / "form_labels.bin").write_bytes(bytes([0xA5, len(labels)]) + labels + data)
    with tempfile.TemporaryDirectory() as d:
        src = REPO / "tests/e2e/java/EmberJfrWorkload.java"
        subprocess.run(["javac", "-d", d, str(src)], check=True)
        # a minimal settings file keeps the recordings small (settings=profile adds ~25 KB of
        # periodic events)
        for name, events in [("cpu", ["jdk.ExecutionSample", "jdk.NativeMethodSample"]),
                             ("alloc_lock", ["jdk.ExecutionSample", "jdk.ObjectAllocationSample",
                                             "jdk.ObjectAllocationOutsideTLAB",
                                             "jdk.ObjectAllocationInNewTLAB",
                                             "jdk.JavaMonitorEnter", "jdk.ThreadPark"])]:
            jfc = Path(d) / (name + ".jfc")
            jfc.write_text('<?xml version="1.0" encoding="UTF-8"?>\n'
                           '<configuration version="2.0" label="ember-%s">\n%s</configuration>\n'
                           % (name, "".join(JFC_EVENT % e for e in events)))
            f = Path(d) / (name + ".jfr")
            subprocess.run(["java", "-XX:StartFlightRecording=filename=%s,settings=%s" % (f, jfc),
                            "-cp", d, "EmberJfrWorkload", "400"], check=True, capture_output=True)
            (OUT / ("jdk_%s.jfr.gz" % name)).write_bytes(gzip.compress(f.read_bytes(), 9))
    for f in sorted(OUT.iterdir()):
        print("%8d %s" % (f.stat().st_size, f.name))


if __name__ == "__main__":
    main()
