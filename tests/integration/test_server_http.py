"""HTTP behaviour real clients rely on: keep-alive connections mixing POST and GET (Go's and
Grafana's clients), `Expect: 100-continue` (curl sends it for bodies over 1 KiB)."""

import http.client
import json
import socket

from embertest import NS, fb_tree, now, uniq


def test_keep_alive_mixed_requests(server):
    app = uniq("keepalive")
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        for i in range(10):
            conn.request("POST", "/ingest?name=%s.cpu&from=%d" % (app, now() - 60),
                         body=b"k;a 1\nk;b 2\n")
            r = conn.getresponse()
            assert r.status == 200, (r.status, r.read())
            r.read()
            conn.request("GET", "/render?query=%s.cpu&from=now-1h&until=now" % app)
            r = conn.getresponse()
            assert r.status == 200
            doc = json.loads(r.read())
            assert doc["flamebearer"]["numTicks"] == 3 * (i + 1) * NS
        # an error answer must not break the connection either
        conn.request("POST", "/ingest?name=%7Bx%3D1%7D", body=b"a 1\n")
        r = conn.getresponse()
        assert r.status == 400
        r.read()
        conn.request("GET", "/ready")
        r = conn.getresponse()
        assert r.status == 200 and r.read().strip() == b"ready"
    finally:
        conn.close()


def test_expect_100_continue(server):
    app = uniq("expect")
    body = b"e;x 1\n" * 1000                      # 6 KB, as curl would send it
    s = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    try:
        s.sendall(("POST /ingest?name=%s.cpu&from=%d HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                   "Content-Type: application/x-www-form-urlencoded\r\n"
                   "Content-Length: %d\r\nExpect: 100-continue\r\n\r\n"
                   % (app, now() - 60, len(body))).encode())
        interim = s.recv(4096)
        assert interim.startswith(b"HTTP/1.1 100"), interim
        s.sendall(body)
        resp = b""
        while b"\r\n\r\n" not in resp:
            chunk = s.recv(4096)
            if not chunk:
                break
            resp += chunk
        assert resp.startswith(b"HTTP/1.1 200"), resp
    finally:
        s.close()
    assert fb_tree(server.render(app + ".cpu")) == {"e": (1000 * NS, 0),
                                                    "e;x": (1000 * NS, 1000 * NS)}
