def test_ping_and_set(r):
    assert r.ping() is True
    assert r.set("k", "v") is True
    assert r.get("k") == b"v"


def test_differential_unknown_command(diff):
    diff.check("NOSUCHCMD", "a", "b")
    diff.check("GET")
    diff.check("SET", "k", "v")
    diff.check("GET", "k")
