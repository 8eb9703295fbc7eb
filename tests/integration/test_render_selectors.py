"""/render label selection (PROTOCOLS.md §3.1): legacy `app.cpu{...}` and profile-type
`process_cpu:...{service_name=...}` forms, each of = != =~ !~ (regexes anchored, Prometheus
semantics: an absent label equals "")."""

import pytest

from embertest import CPU, NS, expected_tree, fb_tree, now, uniq

SERIES = [  # (tags, stack, value)
    ("env=prod,region=eu", "a;x", 1),
    ("env=staging,region=us", "b;y", 2),
    ("env=dev,region=eu", "c;z", 4),
    ("region=ap", "d;w", 8),          # no env label
]


@pytest.fixture(scope="module")
def app(server):
    name = uniq("sel")
    t = now() - 120
    for i, (tags, stack, v) in enumerate(SERIES):
        server.ingest_ok("%s.cpu{%s}" % (name, tags), ("%s %d\n" % (stack, v)).encode(),
                         from_=t + i)
    # a second service that must never leak into the first one's results
    server.ingest_ok("%s_other.cpu{env=prod,region=eu}" % name, b"a;x 16\n", from_=t)
    return name


CASES = [  # (matchers, expected stacks)
    ('', {"a;x": 1, "b;y": 2, "c;z": 4, "d;w": 8}),
    ('env="prod"', {"a;x": 1}),
    ('env!="prod"', {"b;y": 2, "c;z": 4, "d;w": 8}),
    ('env=~"prod|staging"', {"a;x": 1, "b;y": 2}),
    ('env=~"pro"', {}),                               # anchored: "pro" ≠ "prod"
    ('env=~"pro.*"', {"a;x": 1}),
    ('env=~"d.*|.*ing"', {"b;y": 2, "c;z": 4}),
    ('env!~"prod|dev"', {"b;y": 2, "d;w": 8}),
    ('env!~"s.*"', {"a;x": 1, "c;z": 4, "d;w": 8}),
    ('env!~".+"', {"d;w": 8}),
    ('region="eu",env!="dev"', {"a;x": 1}),
    ('region=~"eu|us",env!~"staging"', {"a;x": 1, "c;z": 4}),
    ('env="nope"', {}),
    ('env=""', {"d;w": 8}),                           # absent label matches ""
    ('env!=""', {"a;x": 1, "b;y": 2, "c;z": 4}),
    ('missing=""', {"a;x": 1, "b;y": 2, "c;z": 4, "d;w": 8}),
]


def _want(stacks):
    return expected_tree({k: v * NS for k, v in stacks.items()})


@pytest.mark.parametrize("matchers,stacks", CASES, ids=[c[0] or "all" for c in CASES])
def test_profile_type_form(server, app, matchers, stacks):
    sel = 'service_name="%s"' % app + ("," + matchers if matchers else "")
    doc = server.render("%s{%s}" % (CPU, sel))
    assert fb_tree(doc) == _want(stacks)
    assert doc["flamebearer"]["numTicks"] == sum(stacks.values()) * NS


@pytest.mark.parametrize("matchers,stacks", CASES, ids=[c[0] or "all" for c in CASES])
def test_legacy_form(server, app, matchers, stacks):
    doc = server.render("%s.cpu{%s}" % (app, matchers))
    assert fb_tree(doc) == _want(stacks)


def test_legacy_form_without_braces(server, app):
    assert server.total(app + ".cpu") == 15 * NS


def test_service_name_regex_spans_services(server, app):
    total = server.total('%s{service_name=~"%s(_other)?"}' % (CPU, app))
    assert total == (15 + 16) * NS


def test_whitespace_in_selector(server, app):
    doc = server.render('%s{ service_name = "%s" , env = "prod" }' % (CPU, app))
    assert doc["flamebearer"]["numTicks"] == NS


def test_name_matcher_inside_braces(server, app):
    """Prometheus selector syntax: the metric name may be given as `{__name__="..."}`."""
    doc = server.render('{__name__="%s",service_name="%s",env="prod"}' % (CPU, app))
    assert doc["flamebearer"]["numTicks"] == NS


def test_other_profile_type_is_empty(server, app):
    assert server.total('process_cpu:samples:count:cpu:nanoseconds{service_name="%s"}' % app) == 0
    assert server.total('memory:alloc_space:bytes::{service_name="%s"}' % app) == 0


def test_name_values_are_verbatim(server):
    """§1.2: ingest values are not unquoted — `env="x"` stores the quotes."""
    name = uniq("verbatim")
    server.ingest_ok(name + '.cpu{env="q"}', b"v 1\n", from_=now() - 60)
    assert server.total('%s{service_name="%s",env="\\"q\\""}' % (CPU, name)) == NS
    assert server.total('%s{service_name="%s",env="q"}' % (CPU, name)) == 0


def test_pre_1_0_name_parameter(server, app):
    """Pre-1.0 /render took the query as `name` (PROTOCOLS.md §3.8)."""
    r = server.get("/render", name=app + '.cpu{env="prod"}', **{"from": "now-1h",
                                                               "until": "now"})
    assert r.status == 200, r
    assert r.json()["flamebearer"]["numTicks"] == NS
