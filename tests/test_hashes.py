"""Hash commands against redis-server (replies and errors byte for byte),
encodings, HRANDFIELD/HSCAN properties, and random command sequences."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st


def test_hset_hget_family(diff):
    diff.check("HSET", "h", "a", "1", "b", "2")
    diff.check("HSET", "h", "a", "10", "c", "3")
    diff.check("HMSET", "h", "d", "4", "a", "11")
    diff.check("HGETALL", "h")
    diff.check("HGET", "h", "a")
    diff.check("HGET", "h", "nosuch")
    diff.check("HGET", "nosuch", "a")
    diff.check("HMGET", "h", "a", "nosuch", "b")
    diff.check("HMGET", "nosuch", "a", "b")
    diff.check("HLEN", "h")
    diff.check("HLEN", "nosuch")
    diff.check("HSTRLEN", "h", "a")
    diff.check("HSTRLEN", "h", "nosuch")
    diff.check("HSTRLEN", "nosuch", "a")
    diff.check("HEXISTS", "h", "a")
    diff.check("HEXISTS", "h", "zz")
    diff.check("HEXISTS", "nosuch", "zz")
    diff.check("HKEYS", "h")
    diff.check("HVALS", "h")
    diff.check("HKEYS", "nosuch")
    diff.check("HVALS", "nosuch")
    diff.check("HGETALL", "nosuch")
    diff.check("HSETNX", "h", "a", "x")
    diff.check("HSETNX", "h", "e", "5")
    diff.check("HSETNX", "new", "f", "v")
    diff.check("HGETALL", "h")
    diff.check("HGETALL", "new")
    diff.check("HSET", "h", "", "")
    diff.check("HGET", "h", "")
    diff.check("HSTRLEN", "h", "")


def test_hdel(diff):
    diff.check("HSET", "h", "a", "1", "b", "2", "c", "3")
    diff.check("HDEL", "h", "a", "a", "nosuch")
    diff.check("HDEL", "h", "nosuch")
    diff.check("HDEL", "nosuch", "a")
    diff.check("HDEL", "h", "b", "c", "d")
    diff.check("EXISTS", "h")
    diff.check("HSET", "h", "a", "1")
    diff.check("HDEL", "h", "a", "b")
    diff.check("EXISTS", "h")


def test_errors(diff):
    diff.check("SET", "s", "x")
    for cmd in (("HSET", "s", "a", "b"), ("HSETNX", "s", "a", "b"), ("HMSET", "s", "a", "b"),
                ("HGET", "s", "a"), ("HMGET", "s", "a"), ("HDEL", "s", "a"), ("HLEN", "s"),
                ("HSTRLEN", "s", "a"), ("HEXISTS", "s", "a"), ("HKEYS", "s"), ("HVALS", "s"),
                ("HGETALL", "s"), ("HINCRBY", "s", "a", "1"), ("HINCRBYFLOAT", "s", "a", "1"),
                ("HRANDFIELD", "s"), ("HRANDFIELD", "s", "0"), ("HRANDFIELD", "s", "2", "WITHVALUES"),
                ("HSCAN", "s", "0"), ("HSCAN", "s", "0", "COUNT", "0"),
                ("HSET", "h", "a"), ("HSET", "h", "a", "b", "c"), ("HMSET", "h", "a", "b", "c"),
                ("HSET", "h"), ("HMSET", "h", "a"), ("HGET", "h"), ("HMGET", "h"), ("HDEL", "h"),
                ("HSETNX", "h", "a"), ("HINCRBY", "h", "a"), ("HSCAN", "h"), ("HRANDFIELD",)):
        diff.check_error(*cmd)


def test_hincrby(diff):
    diff.check("HINCRBY", "h", "n", "5")
    diff.check("HINCRBY", "h", "n", "-10")
    diff.check("HINCRBY", "h", "n", "9223372036854775807")
    diff.check("HINCRBY", "h", "big", "9223372036854775807")
    diff.check_error("HINCRBY", "h", "big", "1")
    diff.check("HINCRBY", "h", "small", "-9223372036854775808")
    diff.check_error("HINCRBY", "h", "small", "-1")
    diff.check_error("HINCRBY", "h", "n", "x")
    diff.check_error("HINCRBY", "h", "n", "1.5")
    diff.check_error("HINCRBY", "nosuch", "n", "x")
    diff.check("EXISTS", "nosuch")
    for v in (" 1", "1 ", "01", "1.0", "x", "", "-0", "9223372036854775808"):
        diff.check("HSET", "h", "v", v)
        diff.check_error("HINCRBY", "h", "v", "1")
    diff.check("HGETALL", "h")


def test_hincrbyfloat(diff):
    for incr in ("1.23", "0.77", "-0.1", "1e5", "0.1", "0.2", "-3e-5", "5.0e3", "1e400",
                 "-1e400", "0x10", "+.5", "3", "-3"):
        diff.check("HINCRBYFLOAT", "h", "f", incr)
    diff.check("HINCRBYFLOAT", "h", "g", "10.5")
    diff.check("HINCRBYFLOAT", "h", "g", "0.1")
    diff.check("HSET", "h", "i", "17")
    diff.check("HINCRBYFLOAT", "h", "i", "0.25")
    for bad in ("x", "", "nan", "inf", "-inf", "+inf", "1 ", " 1", "1e5000"):
        diff.check_error("HINCRBYFLOAT", "h", "f", bad)
        diff.check_error("HINCRBYFLOAT", "nosuch", "f", bad)
    diff.check("EXISTS", "nosuch")
    for v in ("abc", " 1", "1 ", "1\x002", "inf", "nan"):
        diff.check("HSET", "h", "v", v)
        diff.check_error("HINCRBYFLOAT", "h", "v", "1")
    diff.check("HSET", "h", "w", "1.7976931348623157e308")
    diff.check("HINCRBYFLOAT", "h", "w", "1.7976931348623157e308")
    diff.check("HSET", "h", "w", "1e4932")
    diff.check_error("HINCRBYFLOAT", "h", "w", "1e4932")
    diff.check("OBJECT", "ENCODING", "h")  # "1e400" printed in full is too long
    diff.check("HGETALL", "h", unordered=True)


def test_hincrbyfloat_propagates_as_hset(server, r):
    seen = []
    srv = server.server
    consumer = lambda dbid, argv: seen.append(argv)  # noqa: E731
    srv.propagation_consumers.append(consumer)
    try:
        r.hincrbyfloat("h", "f", "1.5")
        r.hincrbyfloat("h", "f", "0.1")
        r.hincrby("h", "i", 3)
        r.hset("h", "f", "x")
        r.hsetnx("h", "f", "y")
        r.hdel("h", "nosuch")
    finally:
        srv.propagation_consumers.remove(consumer)
    assert seen == [[b"HSET", b"h", b"f", b"1.5"], [b"HSET", b"h", b"f", b"1.6"],
                    [b"HINCRBY", b"h", b"i", b"3"], [b"HSET", b"h", b"f", b"x"]]


def _config_set(diff, name, value):
    kv, rd = diff.both("CONFIG", "SET", name, value)
    if kv[0] != b"+OK\r\n":
        pytest.skip("CONFIG SET is not available")
    assert rd[0] == b"+OK\r\n"


def test_encoding_conversions(diff):
    try:
        _config_set(diff, "hash-max-listpack-entries", "4")
        _config_set(diff, "hash-max-listpack-value", "8")
        diff.check("HSET", "h", "a", "1", "b", "2", "c", "3", "d", "4")
        diff.check("OBJECT", "ENCODING", "h")
        diff.check("HSET", "h", "e", "5")
        diff.check("OBJECT", "ENCODING", "h")
        diff.check("HDEL", "h", "a", "b", "c")
        diff.check("OBJECT", "ENCODING", "h")  # never converts back
        diff.check("HSET", "v", "a", "12345678")
        diff.check("OBJECT", "ENCODING", "v")
        diff.check("HSET", "v", "a", "123456789")
        diff.check("OBJECT", "ENCODING", "v")
        diff.check("HSET", "f", "123456789", "a")
        diff.check("OBJECT", "ENCODING", "f")
        diff.check("HSETNX", "n", "a", "1")
        diff.check("HSETNX", "n", "a", "123456789")  # not set: no conversion
        diff.check("OBJECT", "ENCODING", "n")
        diff.check("HSETNX", "n", "b", "123456789")
        diff.check("OBJECT", "ENCODING", "n")
        # HINCRBYFLOAT results and fields count too (Redis's own test).
        diff.check("HSET", "s", "tmp", "0")
        diff.check("HSET", "b", "tmp", "0")
        diff.check("HINCRBYFLOAT", "s", "tmp", "0.000005")
        diff.check("HINCRBYFLOAT", "b", "tmp", "0.0000005")
        diff.check("OBJECT", "ENCODING", "s")
        diff.check("OBJECT", "ENCODING", "b")
        diff.check("HINCRBYFLOAT", "s2", "abcdefgh", "1")
        diff.check("HINCRBYFLOAT", "b2", "abcdefghi", "1")
        diff.check("OBJECT", "ENCODING", "s2")
        diff.check("OBJECT", "ENCODING", "b2")
        diff.check("HINCRBY", "b3", "abcdefghi", "1")
        diff.check("OBJECT", "ENCODING", "b3")
        # Lowering the limits does not convert an existing hash until it is written.
        diff.check("HSET", "k", "a", "1")
        _config_set(diff, "hash-max-listpack-entries", "0")
        diff.check("OBJECT", "ENCODING", "k")
        diff.check("HGET", "k", "a")
        diff.check("OBJECT", "ENCODING", "k")
        diff.check("HSET", "k", "a", "2")
        diff.check("OBJECT", "ENCODING", "k")
    finally:
        diff.both("CONFIG", "SET", "hash-max-listpack-entries", "128")
        diff.both("CONFIG", "SET", "hash-max-listpack-value", "64")


def test_big_hash_unordered(diff):
    args = []
    for i in range(300):
        args += [f"f{i}", f"v{i}"]
    diff.check("HSET", "h", *args)
    diff.check("OBJECT", "ENCODING", "h")
    diff.check("HKEYS", "h", unordered=True)
    diff.check("HVALS", "h", unordered=True)
    diff.check("HLEN", "h")
    diff.check("HGET", "h", "f299")
    diff.check("HDEL", "h", "f0", "f1")
    diff.check("HSTRLEN", "h", "f100")


def test_type_and_copy(r):
    r.hset("h", mapping={"a": "1", "b": "x" * 100})
    assert r.type("h") == b"hash"
    assert r.object("encoding", "h") == b"hashtable"
    r.copy("h", "h2")
    assert r.object("encoding", "h2") == b"hashtable"
    r.hset("h2", "c", "3")
    assert r.hlen("h") == 2 and r.hlen("h2") == 3


def test_hgetall_resp3_map(diff3):
    diff3.check("HSET", "h", "a", "1", "b", "2")
    diff3.check("HGETALL", "h")
    diff3.check("HGETALL", "nosuch")
    diff3.check("HRANDFIELD", "h", "5", "WITHVALUES")
    diff3.check("HRANDFIELD", "h", "5")
    diff3.check("HRANDFIELD", "nosuch", "5", "WITHVALUES")
    diff3.check("HRANDFIELD", "nosuch")
    diff3.check("HSCAN", "h", "0")
    diff3.check("HSCAN", "nosuch", "0")


def test_hrandfield_errors_and_whole_hash(diff):
    diff.check("HSET", "h", *[x for i in range(10) for x in (f"f{i}", str(i))])
    diff.check("HRANDFIELD", "h", "10")  # count >= size: the whole hash, in order
    diff.check("HRANDFIELD", "h", "100", "WITHVALUES")
    diff.check("HRANDFIELD", "h", "0")
    diff.check("HRANDFIELD", "h", "0", "WITHVALUES")
    diff.check("HRANDFIELD", "nosuch", "10")
    diff.check("HRANDFIELD", "nosuch", "-10", "WITHVALUES")
    diff.check("HRANDFIELD", "nosuch")
    for bad in (("abc",), ("1", "withvalue"), ("1", "withvalues", "x"), ("1.5",),
                ("-9223372036854775808",), ("-9223372036854775808", "WITHVALUES"),
                ("-9223372036854770000", "WITHVALUES"), ("4611686018427387904", "WITHVALUES")):
        diff.check_error("HRANDFIELD", "h", *bad)
        diff.check_error("HRANDFIELD", "nosuch", *bad)
    diff.check("HRANDFIELD", "h", "4611686018427387903", "WITHVALUES")


def test_hrandfield_properties(r, r3):
    small = {f"f{i}": str(i) for i in range(10)}
    r.hset("s", mapping=small)
    r.hset("b", mapping={f"f{i}": str(i) for i in range(500)})
    for key in ("s", "b"):
        fields = set(r.hkeys(key))
        for _ in range(20):
            assert r.hrandfield(key) in fields
        for count in (1, 3, 9, 10, 200, 499):
            got = r.hrandfield(key, count)
            assert len(got) == min(count, len(fields))
            assert len(set(got)) == len(got) and set(got) <= fields
        got = r.hrandfield(key, -30)
        assert len(got) == 30 and set(got) <= fields
        pairs = r.hrandfield(key, -7, withvalues=True)  # redis-py pairs them up
        assert len(pairs) == 14
        for f, v in zip(pairs[::2], pairs[1::2], strict=True):
            assert r.hget(key, f) == v
    seen = set()
    for _ in range(200):
        seen.add(r.hrandfield("s"))
    assert len(seen) == 10  # every field comes up
    res = r3.execute_command("HRANDFIELD", "s", "3", "WITHVALUES")
    assert len(res) == 3 and all(len(p) == 2 for p in res)
    res = r3.execute_command("HRANDFIELD", "s", "-3", "WITHVALUES")
    assert len(res) == 3 and all(len(p) == 2 for p in res)


def test_hscan_small_and_errors(diff):
    diff.check("HSET", "h", "a1", "1", "b1", "2", "a2", "3")
    diff.check("HSCAN", "h", "0")
    diff.check("HSCAN", "h", "0", "MATCH", "a*")
    diff.check("HSCAN", "h", "0", "MATCH", "*", "COUNT", "1")
    diff.check("HSCAN", "h", "123")
    diff.check("HSCAN", "h", "")
    diff.check("HSCAN", "h", "-1")
    diff.check("HSCAN", "h", "18446744073709551615")
    diff.check("HSCAN", "h", "0", "match", "zz*", "count", "100")
    diff.check("HSCAN", "nosuch", "0")
    diff.check("HSCAN", "nosuch", "0", "COUNT", "0")  # options unchecked without the key
    for bad in (("x",), ("1x",), (" 1",), ("1 ",), ("+",), ("-",), ("18446744073709551616",),
                ("0", "COUNT", "0"), ("0", "COUNT", "-1"), ("0", "COUNT", "x"), ("0", "COUNT"),
                ("0", "MATCH"), ("0", "FOO", "bar"), ("0", "TYPE", "string"),
                ("0", "NOVALUES")):
        diff.check_error("HSCAN", "h", *bad)
    diff.check_error("HSCAN", "nosuch", "x")


def test_hscan_big_covers_everything(r):
    n = 1000
    r.hset("h", mapping={f"f{i}": str(i) for i in range(n)})
    assert r.object("encoding", "h") == b"hashtable"
    seen = {}
    cursor = 0
    calls = 0
    while True:
        cursor, part = r.hscan("h", cursor, count=37)
        seen.update(part)
        calls += 1
        # Deleting and adding during the scan must not hide fields that stay.
        if calls == 3:
            r.hdel("h", "f999", "f998")
            r.hset("h", "new", "x")
        if cursor == 0:
            break
    assert calls > 5
    for i in range(998):
        assert seen[b"f%d" % i] == b"%d" % i
    cursor, part = r.hscan("h", 0, match="f1??", count=2000)
    assert cursor == 0 and len(part) == 100


# -- random sequences ---------------------------------------------------------------------

KEYS = st.sampled_from(["a", "b"])
FIELDS = st.sampled_from(["f", "g", "h", "1"])
VALS = st.sampled_from(["x", "1", "-5", "2.5", "", "9223372036854775807"])
HASH_CMDS = st.one_of(
    st.tuples(st.sampled_from(["HSET", "HMSET"]), KEYS, FIELDS, VALS, FIELDS, VALS),
    st.tuples(st.sampled_from(["HSET", "HSETNX"]), KEYS, FIELDS, VALS),
    st.tuples(st.sampled_from(["HGET", "HSTRLEN", "HEXISTS"]), KEYS, FIELDS),
    st.tuples(st.sampled_from(["HMGET", "HDEL"]), KEYS, FIELDS, FIELDS),
    st.tuples(st.sampled_from(["HLEN", "HKEYS", "HVALS", "HGETALL"]), KEYS),
    st.tuples(st.just("HINCRBY"), KEYS, FIELDS, st.sampled_from(["1", "-3", "x"])),
    st.tuples(st.just("HINCRBYFLOAT"), KEYS, FIELDS, st.sampled_from(["1", "-0.5", "1e3", "x"])),
    st.tuples(st.just("HSCAN"), KEYS, st.just("0")),
    st.tuples(st.just("HRANDFIELD"), KEYS, st.just("50"), st.just("WITHVALUES")),
    st.tuples(st.just("SET"), KEYS, VALS),
    st.tuples(st.just("DEL"), KEYS),
)


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(HASH_CMDS, max_size=30))
def test_random_hash_sequences(diff, cmds):
    diff.flush()
    for cmd in cmds:
        diff.check(*cmd)
    for k in ("a", "b"):
        diff.check("HGETALL", k) if diff.check("TYPE", k) == "hash" else None


def test_keyspace_events(server, r):
    events = []
    srv = server.server
    old = srv.keyspace_publisher, srv.config.notify_keyspace_events
    srv.keyspace_publisher = lambda cls, ev, key, dbid: events.append((cls, ev, key))
    srv.config.notify_keyspace_events = "KEA"
    try:
        r.hset("h", "a", "1")
        r.hsetnx("h", "a", "2")  # nothing set: no event
        r.hsetnx("h", "b", "2")
        r.execute_command("HMSET", "h", "c", "3")
        r.hincrby("h", "a", 1)
        r.hincrbyfloat("h", "a", 1.5)
        r.hdel("h", "nosuch")
        r.hdel("h", "a", "b")
        r.hdel("h", "c")
    finally:
        srv.keyspace_publisher, srv.config.notify_keyspace_events = old
    assert events == [
        ("h", "hset", b"h"), ("h", "hset", b"h"), ("h", "hset", b"h"), ("h", "hincrby", b"h"),
        ("h", "hincrbyfloat", b"h"), ("h", "hdel", b"h"), ("h", "hdel", b"h"), ("g", "del", b"h")]


def test_watch_broken_by_hash_writes(server):
    a, b = server.client(), server.client()
    try:
        a.flushall()
        a.hset("h", "f", "1")
        for cmd in (("HSET", "h", "f", "1"), ("HINCRBY", "h", "f", "1"), ("HDEL", "h", "f")):
            a.execute_command("WATCH", "h")
            b.execute_command(*cmd)
            a.execute_command("MULTI")
            a.execute_command("PING")
            assert a.execute_command("EXEC") is None, cmd
        a.hset("h", "f", "1")
        a.execute_command("WATCH", "h")
        b.execute_command("HSETNX", "h", "f", "2")  # no change: the WATCH holds
        b.execute_command("HDEL", "h", "nosuch")
        a.execute_command("MULTI")
        a.execute_command("PING")
        assert a.execute_command("EXEC") == [b"PONG"]
    finally:
        a.close()
        b.close()


@settings(max_examples=50, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(HASH_CMDS, max_size=20))
def test_random_hash_sequences_resp3(diff3, cmds):
    diff3.flush()
    for cmd in cmds:
        diff3.check(*cmd)


def test_hrandfield_huge_negative_count_is_refused(r):
    # Redis would try to stream that many fields; kvserver refuses up front.
    r.hset("h", "a", "1")
    with pytest.raises(Exception, match="value is out of range"):
        r.hrandfield("h", -(1 << 40))
    assert len(r.hrandfield("h", -1000)) == 1000
