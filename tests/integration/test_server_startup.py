"""Process-level behaviour: /ready, unknown routes and methods, `-config.file` with the seed's
keys, startup errors that name the key and line, `-help` (issue 3 "Must have 2")."""

import subprocess

import pytest

from embertest import ember_bin, free_port, now, uniq

SEED_CONFIG = """\
server:
  http_listen_port: 4040
storage:
  backend: filesystem
  s3: {bucket_name: pyroscope-profiles, endpoint: s3.amazonaws.com, region: us-east-1}
limits:
  max_nodes_per_profile: 8192
  retention: 720h
analytics:
  reporting_enabled: false
"""


def test_ready(server):
    r = server.get("/ready")
    assert r.status == 200 and r.body.strip() == b"ready", r


def test_unknown_path_is_404(server):
    assert server.get("/no/such/route").status == 404


@pytest.mark.parametrize("method,path", [("GET", "/ingest"), ("POST", "/render"),
                                         ("POST", "/pyroscope/render"), ("DELETE", "/ready")])
def test_wrong_method_is_405(server, method, path):
    r = server.request(method, path, b"" if method != "GET" else None)
    assert r.status == 405, r


def test_seed_config_loads(make_server, tmp_path):
    cfg = tmp_path / "config.yaml"
    cfg.write_text(SEED_CONFIG)
    srv = make_server("-config.file=%s" % cfg, name="seedcfg")   # flags override the port
    app = uniq("cfg")
    srv.ingest_ok(app + ".cpu", b"a 1\n", from_=now() - 60)
    assert srv.total(app + ".cpu") == 10**7


def _run_failing(tmp_path, text):
    cfg = tmp_path / "bad.yaml"
    cfg.write_text(text)
    p = subprocess.run([str(ember_bin()), "server", "-config.file=%s" % cfg,
                        "-server.http-listen-address=127.0.0.1",
                        "-server.http-listen-port=%d" % free_port(),
                        "-storage.path=%s" % (tmp_path / "data")],
                       capture_output=True, text=True, timeout=15, cwd=str(tmp_path))
    assert p.returncode != 0, "started with a bad config:\n%s" % text
    return p.stdout + p.stderr


def test_unknown_key_names_key_and_line(tmp_path):
    out = _run_failing(tmp_path, "server:\n  http_listen_port: 4040\n  bogus_key: 1\n")
    assert "bogus_key" in out, out
    assert ":3" in out or "line 3" in out, out


def test_bad_value_names_key(tmp_path):
    out = _run_failing(tmp_path, "server:\n  http_listen_port: abc\n")
    assert "http_listen_port" in out, out


def test_s3_backend_not_yet_supported(tmp_path):
    out = _run_failing(tmp_path, SEED_CONFIG.replace("backend: filesystem", "backend: s3"))
    assert "s3" in out.lower(), out


def test_help_lists_flags(tmp_path):
    p = subprocess.run([str(ember_bin()), "server", "-help"], capture_output=True, text=True,
                       timeout=15, cwd=str(tmp_path))
    out = p.stdout + p.stderr
    for flag in ("-server.http-listen-port", "-storage.path", "-config.file",
                 "-limits.ingestion-body-limit-mb", "-log.level"):
        assert flag in out, "%s missing from -help:\n%s" % (flag, out[:2000])


def test_error_body_headers(server):
    r = server.post_ingest("{x=1}", b"a 1\n")
    assert r.status == 400
    assert r.headers.get("x-content-type-options") == "nosniff", r.headers


def test_status_buildinfo_and_config(make_server):
    """Pyroscope's /api/v1/status routes: build info in Prometheus' shape, and the effective
    configuration as YAML with secrets redacted."""
    srv = make_server("-storage.s3.secret-access-key=hunter2secret")
    r = srv.get("/api/v1/status/buildinfo")
    assert r.status == 200, r
    doc = r.json()
    assert doc["status"] == "success" and doc["data"]["version"], doc
    r = srv.get("/api/v1/status/config")
    assert r.status == 200 and r.headers["content-type"].startswith("text/plain"), r
    text = r.text
    assert "http_listen_port: %d" % srv.port in text, text[:400]
    assert "hunter2secret" not in text
    assert srv.request("POST", "/api/v1/status/config", b"").status == 405
