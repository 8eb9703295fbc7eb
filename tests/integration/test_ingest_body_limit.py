"""`-limits.ingestion-body-limit-mb` (PROTOCOLS.md §1.1, §1.7): a body over the limit gets 413
with a JSON error (code invalid_argument), with Content-Length or chunked; a body under the
limit is taken; the server keeps serving."""

import socket
import threading
import time

import pytest

from embertest import NS, assert_json_error, now, uniq, Response

MB = 1 << 20


@pytest.fixture
def limited(make_server):
    return make_server("-limits.ingestion-body-limit-mb=1", name="limited")


def _raw_post(port, path, body, chunked=False, timeout=20):
    """POST over a raw socket, reading the answer while still sending (a server may answer
    413 before it has read the whole body). Returns Response."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    head = "POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" % path
    if chunked:
        head += "Transfer-Encoding: chunked\r\n\r\n"
    else:
        head += "Content-Length: %d\r\n\r\n" % len(body)
    send_err = []

    def sender():
        try:
            s.sendall(head.encode())
            step = 64 * 1024
            for i in range(0, len(body), step):
                piece = body[i:i + step]
                if chunked:
                    s.sendall(b"%x\r\n" % len(piece) + piece + b"\r\n")
                else:
                    s.sendall(piece)
            if chunked:
                s.sendall(b"0\r\n\r\n")
        except OSError as e:  # the server may stop reading after answering
            send_err.append(e)

    t = threading.Thread(target=sender, daemon=True)
    t.start()
    data = b""
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            except ConnectionResetError:
                break
            if not chunk:
                break
            data += chunk
            if _complete(data):
                break
    finally:
        t.join(timeout)
        s.close()
    assert data, "no answer at all (send error: %r)" % (send_err,)
    return _parse(data)


def _complete(data):
    if b"\r\n\r\n" not in data:
        return False
    head, rest = data.split(b"\r\n\r\n", 1)
    for line in head.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == b"content-length":
            return len(rest) >= int(v.strip())
    return False


def _parse(data):
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(b":")
        headers[k.strip().lower().decode()] = v.strip().decode()
    if "content-length" in headers:
        rest = rest[: int(headers["content-length"])]
    elif headers.get("transfer-encoding", "").lower() == "chunked":
        out, buf = b"", rest
        while buf:
            size, _, buf = buf.partition(b"\r\n")
            n = int(size.split(b";")[0], 16)
            if n == 0:
                break
            out, buf = out + buf[:n], buf[n + 2:]
        rest = out
    return Response(status, headers, rest)


def _folded(size):
    line = b"big;stack;frame 1\n"
    return line * (size // len(line) + 1)


def _path(app):
    return "/ingest?name=%s.cpu&from=%d" % (app, now() - 60)


def test_over_limit_content_length_is_413(limited):
    app = uniq("big")
    r = _raw_post(limited.port, _path(app), _folded(MB + MB // 2))
    assert_json_error(r, 413, "invalid_argument")
    assert limited.total(app + ".cpu") == 0


def test_over_limit_chunked_is_413(limited):
    app = uniq("bigchunk")
    r = _raw_post(limited.port, _path(app), _folded(3 * MB), chunked=True)
    assert_json_error(r, 413, "invalid_argument")
    assert limited.total(app + ".cpu") == 0


def test_under_limit_is_taken_and_server_keeps_serving(limited):
    app = uniq("small")
    body = b"big;stack;frame 1\n" * 50000          # 900,000 bytes < 1 MiB
    assert len(body) < MB
    r = _raw_post(limited.port, _path(app), body)
    assert r.status == 200, r
    assert limited.total(app + ".cpu") == 50000 * NS
    _raw_post(limited.port, _path(uniq("big2")), _folded(2 * MB))
    r = _raw_post(limited.port, _path(app), b"big;stack;frame 1\n", chunked=True)
    assert r.status == 200, r
    assert limited.total(app + ".cpu") == 50001 * NS


def test_default_limit_takes_a_few_megabytes(server):
    app = uniq("default")
    body = b"x;y 1\n" * (500000)                  # 3 MB, well under 256 MiB
    r = _raw_post(server.port, _path(app), body)
    assert r.status == 200, r
    assert server.total(app + ".cpu") == 500000 * NS
