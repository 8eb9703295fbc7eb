"""groupBy (PROTOCOLS.md §3.1, §3.3): `groups` maps each value of the label (or `*` for series
without it) to a timeline of that group's series."""

from embertest import NS, now, uniq


def test_group_by_env(server):
    app = uniq("grp")
    t = now() - 300
    server.ingest_ok(app + ".cpu{env=prod,region=eu}", b"a 3\n", from_=t)
    server.ingest_ok(app + ".cpu{env=prod,region=us}", b"a 4\n", from_=t + 30)
    server.ingest_ok(app + ".cpu{env=staging}", b"b 2\n", from_=t + 60)
    server.ingest_ok(app + ".cpu{region=ap}", b"c 1\n", from_=t + 90)
    f, u = (now() - 1800) // 15 * 15, (now() // 15 + 1) * 15
    doc = server.render(app + ".cpu", from_=f, until=u, groupBy="env")
    assert doc["flamebearer"]["numTicks"] == 10 * NS
    groups = doc["groups"]
    assert isinstance(groups, dict), doc.get("groups")
    assert set(groups) == {"prod", "staging", "*"}
    assert {k: sum(g["samples"]) for k, g in groups.items()} == \
        {"prod": 7 * NS, "staging": 2 * NS, "*": 1 * NS}
    for g in groups.values():
        assert g["durationDelta"] == doc["timeline"]["durationDelta"]
        assert g["startTime"] == doc["timeline"]["startTime"]
        assert len(g["samples"]) == len(doc["timeline"]["samples"])
    # per bucket, the groups add up to the main timeline
    main = doc["timeline"]["samples"]
    assert [sum(g["samples"][i] for g in groups.values()) for i in range(len(main))] == main


def test_group_by_with_filter(server):
    app = uniq("grpf")
    t = now() - 200
    server.ingest_ok(app + ".cpu{env=prod,region=eu}", b"a 3\n", from_=t)
    server.ingest_ok(app + ".cpu{env=prod,region=us}", b"a 4\n", from_=t)
    server.ingest_ok(app + ".cpu{env=dev,region=us}", b"a 5\n", from_=t)
    doc = server.render('%s.cpu{env="prod"}' % app, groupBy="region")
    assert {k: sum(g["samples"]) for k, g in doc["groups"].items()} == \
        {"eu": 3 * NS, "us": 4 * NS}


def test_group_by_absent_label_is_star(server):
    app = uniq("grpstar")
    server.ingest_ok(app + ".cpu{env=prod}", b"a 3\n", from_=now() - 100)
    doc = server.render(app + ".cpu", groupBy="nosuchlabel")
    assert {k: sum(g["samples"]) for k, g in doc["groups"].items()} == {"*": 3 * NS}
