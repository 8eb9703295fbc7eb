"""Label APIs: pre-1.0 `/labels`, `/label-values`, `/api/apps` (PROTOCOLS.md §3.8) and
Pyroscope 1.x `/pyroscope/label-values` (§3.7)."""

import pytest

from embertest import CPU, now, uniq


@pytest.fixture(scope="module")
def apps(server):
    a, b, c = uniq("lblA"), uniq("lblB"), uniq("lblC")
    t = now() - 120
    server.ingest_ok(a + ".cpu{env=prod,region=eu}", b"x 1\n", from_=t, spyName="gospy")
    server.ingest_ok(a + ".cpu{env=staging,region=us}", b"x 1\n", from_=t, spyName="gospy")
    server.ingest_ok(b + ".cpu{zone=z1}", b"y 1\n", from_=t, spyName="rbspy")
    server.ingest_ok(c + ".alloc_space{env=dev}", b"z 1\n", from_=t)
    return a, b, c


RANGE = {"from": "now-1h", "until": "now"}


def _strings(server, path, **params):
    r = server.get(path, **params)
    assert r.status == 200, r
    assert r.headers.get("content-type", "").startswith("application/json"), r
    doc = r.json()
    if doc is None:
        doc = []
    assert isinstance(doc, list) and all(isinstance(s, str) for s in doc), doc
    assert len(set(doc)) == len(doc), "duplicates in %r" % doc
    return doc


def test_labels_of_one_app(server, apps):
    a, b, _ = apps
    names = _strings(server, "/labels", query=a + ".cpu", **RANGE)
    assert {"env", "region"} <= set(names), names
    assert "zone" not in names
    names = _strings(server, "/labels", query=b + ".cpu", **RANGE)
    assert "zone" in names and "env" not in names and "region" not in names, names


def test_labels_profile_type_form(server, apps):
    a, _, _ = apps
    names = _strings(server, "/labels", query='%s{service_name="%s"}' % (CPU, a), **RANGE)
    assert {"env", "region", "service_name"} <= set(names), names


def test_label_values(server, apps):
    a, b, c = apps
    assert sorted(_strings(server, "/label-values", label="env", query=a + ".cpu", **RANGE)) == \
        ["prod", "staging"]
    assert _strings(server, "/label-values", label="region", query=a + '.cpu{env="prod"}',
                    **RANGE) == ["eu"]
    assert _strings(server, "/label-values", label="zone", query=b + ".cpu", **RANGE) == ["z1"]
    assert _strings(server, "/label-values", label="env", query=c + ".alloc_space",
                    **RANGE) == ["dev"]
    assert _strings(server, "/label-values", label="nosuch", query=a + ".cpu", **RANGE) == []


def test_label_values_sorted(server, apps):
    a, _, _ = apps
    got = _strings(server, "/label-values", label="env", query=a + ".cpu", **RANGE)
    assert got == sorted(got)


def test_label_values_spy_and_service_name(server, apps):
    a, b, _ = apps
    assert _strings(server, "/label-values", label="pyroscope_spy", query=a + ".cpu",
                    **RANGE) == ["gospy"]
    assert _strings(server, "/label-values", label="pyroscope_spy", query=b + ".cpu",
                    **RANGE) == ["rbspy"]
    assert _strings(server, "/label-values", label="service_name", query=a + ".cpu",
                    **RANGE) == [a]


def test_pyroscope_label_values_name_lists_profile_types(server, apps):
    ids = _strings(server, "/pyroscope/label-values", label="__name__")
    assert CPU in ids, ids
    assert "memory:alloc_space:bytes::" in ids, ids


def test_pyroscope_label_values_requires_label(server, apps):
    r = server.get("/pyroscope/label-values")
    assert r.status == 400, r


def test_api_apps(server, apps):
    a, b, c = apps
    r = server.get("/api/apps")
    assert r.status == 200, r
    doc = r.json()
    assert isinstance(doc, list), doc
    assert all(isinstance(x, dict) and isinstance(x.get("name"), str) for x in doc), doc
    names = {x["name"] for x in doc}
    assert {a + ".cpu", b + ".cpu", c + ".alloc_space"} <= names, sorted(names)[:50]
    assert len([x for x in doc if x["name"] == a + ".cpu"]) == 1
