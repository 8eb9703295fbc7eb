"""Many clients ingest while others query (issue 3 "Must have 6"): every request succeeds and
the final totals are exact."""

import threading

from embertest import (CPU, NS, check_flamebearer, expected_tree, fb_tree, http_request,
                       make_pprof, now, run_threads, uniq)


def test_ingest_while_querying(server):
    app = uniq("conc")
    port = server.port
    writers, per_writer = 4, 40
    t = now() - 200
    done = threading.Event()
    failures = []
    queries = [0]
    pprof = make_pprof([("samples", "count"), ("cpu", "nanoseconds")],
                       [(["pp", "leaf"], [1, 10000000], {"src": "pprof"})],
                       period_type=("cpu", "nanoseconds"), period=10000000)

    def writer(w):
        def run():
            for i in range(per_writer):
                if i % 4 == 3:
                    r = server.post_ingest(app, pprof, format="pprof", from_=t + i)
                else:
                    r = server.post_ingest("%s.cpu{writer=w%d}" % (app, w),
                                           ("c%d;x 1\nshared;y 1\n" % w).encode(), from_=t + i)
                if r.status != 200:
                    failures.append(("ingest", r))
        return run

    def reader(k):
        def run():
            paths = [
                "/render?query=%s.cpu&from=now-1h&until=now&format=json" % app,
                "/pyroscope/render?query=%s%%7Bservice_name%%3D%%22%s%%22%%7D&from=now-1h"
                "&until=now&groupBy=writer" % (CPU, app),
                "/pyroscope/label-values?label=__name__",
                "/label-values?label=writer&query=%s.cpu" % app,
                "/labels?query=%s.cpu" % app,
                "/api/apps",
                "/metrics",
            ]
            i = 0
            while not done.is_set() or i < len(paths):
                p = paths[(i + k) % len(paths)]
                r = http_request(port, "GET", p)
                if r.status != 200:
                    failures.append((p, r))
                elif "render" in p:
                    try:
                        check_flamebearer(r.json())
                    except AssertionError as e:
                        failures.append((p, str(e)))
                i += 1
                queries[0] += 1
        return run

    ws = [writer(w) for w in range(writers)]
    rs = [reader(k) for k in range(2)]

    def writers_then_done():
        run_threads(ws)
        done.set()

    run_threads([writers_then_done] + rs)
    assert not failures, failures[:5]
    assert queries[0] >= 14
    n_folded = per_writer - per_writer // 4
    want = {"c%d;x" % w: n_folded * NS for w in range(writers)}
    want["shared;y"] = writers * n_folded * NS
    want["pp;leaf"] = writers * (per_writer // 4) * 10000000
    doc = server.render('%s{service_name="%s"}' % (CPU, app), maxNodes=100000)
    assert fb_tree(doc) == expected_tree(want)
