"""Hash commands against redis-server (replies and errors byte for byte),
encodings, HRANDFIELD/HSCAN properties, and random command sequences."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kvserver.types import hash as hashmod
from tests.conftest import propagation


@pytest.fixture(params=["adaptive", "packed"])
def each_form(request, monkeypatch):
    """Runs a test as the server runs (hot hashes move to a dict), then with every small
    hash kept packed, so that consecutive commands on one key test the packed code too."""
    if request.param == "packed":
        monkeypatch.setattr(hashmod.RedisHash, "_promote", lambda self, server: None)
    return request.param


@pytest.mark.usefixtures("each_form")
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


@pytest.mark.usefixtures("each_form")
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


@pytest.mark.usefixtures("each_form")
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


@pytest.mark.usefixtures("each_form")
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
    with propagation(server) as seen:
        r.hincrbyfloat("h", "f", "1.5")
        r.hincrbyfloat("h", "f", "0.1")
        r.hincrby("h", "i", 3)
        r.hset("h", "f", "x")
        r.hsetnx("h", "f", "y")
        r.hdel("h", "nosuch")
    assert seen == [[b"HSET", b"h", b"f", b"1.5"], [b"HSET", b"h", b"f", b"1.6"],
                    [b"HINCRBY", b"h", b"i", b"3"], [b"HSET", b"h", b"f", b"x"]]


def _config_set(diff, name, value):
    kv, rd = diff.both("CONFIG", "SET", name, value)
    if kv[0] != b"+OK\r\n":
        pytest.skip("CONFIG SET is not available")
    assert rd[0] == b"+OK\r\n"


def _restore_limits(diff):
    diff.both("CONFIG", "SET", "hash-max-listpack-entries", "512")
    diff.both("CONFIG", "SET", "hash-max-listpack-value", "64")


@pytest.mark.usefixtures("each_form")
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
        _restore_limits(diff)


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


@pytest.mark.usefixtures("each_form")
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


@pytest.mark.usefixtures("each_form")
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


@pytest.mark.usefixtures("each_form")
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


@pytest.mark.usefixtures("each_form")
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


@pytest.mark.usefixtures("each_form")
@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(HASH_CMDS, max_size=30))
def test_random_hash_sequences(diff, cmds):
    diff.flush()
    for cmd in cmds:
        diff.check(*cmd)
    for k in ("a", "b"):
        diff.check("HGETALL", k) if diff.check("TYPE", k) == "hash" else None


@pytest.mark.usefixtures("each_form")
def test_keyspace_events(events, r):
    r.hset("h", "a", "1")
    r.hsetnx("h", "a", "2")  # nothing set: no event
    r.hsetnx("h", "b", "2")
    r.execute_command("HMSET", "h", "c", "3")
    r.hincrby("h", "a", 1)
    r.hincrbyfloat("h", "a", 1.5)
    r.hdel("h", "nosuch")
    r.hdel("h", "a", "b")
    r.hdel("h", "c")
    assert events == [
        ("h", "hset", b"h"), ("h", "hset", b"h"), ("h", "hset", b"h"), ("h", "hincrby", b"h"),
        ("h", "hincrbyfloat", b"h"), ("h", "hdel", b"h"), ("h", "hdel", b"h"), ("g", "del", b"h")]


@pytest.mark.usefixtures("each_form")
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


@pytest.mark.usefixtures("each_form")
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


# -- the packed (listpack) representation --------------------------------------------------
# A small hash is one bytes object of length-prefixed entries, each field starting with the
# two-byte marker b"\x880" (kvserver/types/hash.py). These tests aim at what could go wrong
# with such a buffer: lookups hitting bytes inside other entries, prefixes, the marker in
# client data, lengths at the one-byte/four-byte boundary, the limits, and the dict form
# that hot hashes (and hashes the buffer cannot hold) move to and back from.

TRICKY = ["", "a", "b", "ab", "ba", "0", "C", "\x01", "\x88", "\x880", "C\x01a", "\x880C\x01a",
          "\x880C\x01aC\x01b", "a\x880", "C\x00", "\x880C\x00C\x00"]


def _value(server, key: bytes):
    return server.server.dbs[0].data[key]


@pytest.mark.usefixtures("each_form")
def test_packed_lookups_never_hit_inside_other_entries(diff):
    # A value holding another field's encoded form, a field holding a value's, prefixes
    # and suffixes of other fields: every lookup answers for that exact field only.
    diff.check("HSET", "h", "C\x01a", "C\x01b", "b", "C\x01a", "x", "\x00C\x01y", "ab", "b",
               "b\x00", "", "", "C\x00")
    for f in ("a", "b", "y", "ab", "ba", "", "C", "C\x01", "C\x01a", "C\x01b", "\x01a", "b\x00",
              "x", "\x00", "nosuch"):
        diff.check("HGET", "h", f)
        diff.check("HEXISTS", "h", f)
        diff.check("HSTRLEN", "h", f)
    diff.check("HMGET", "h", "a", "b", "y", "")
    diff.check("HGETALL", "h")
    diff.check("OBJECT", "ENCODING", "h")
    # Field and value equal, each other's value: lookups find the field, never the value.
    diff.check("HSET", "s", "a", "b", "b", "a", "field1", "field10", "field10", "field1")
    for f in ("a", "b", "field1", "field10", "field", "ield1"):
        diff.check("HGET", "s", f)
    diff.check("HDEL", "s", "field1")
    diff.check("HGET", "s", "field10")
    diff.check("HSET", "s", "field1", "again")
    diff.check("HGETALL", "s")
    diff.check("HKEYS", "s")
    diff.check("HVALS", "s")


@pytest.mark.usefixtures("each_form")
def test_empty_fields_and_values(diff):
    diff.check("HSET", "h", "", "")
    diff.check("HGET", "h", "")
    diff.check("HSTRLEN", "h", "")
    diff.check("HSET", "h", "a", "", "", "x")
    diff.check("HGETALL", "h")
    diff.check("HSET", "h", "", "")
    diff.check("HGETALL", "h")
    diff.check("HINCRBY", "h", "", "1")
    diff.check_error("HINCRBY", "h", "a", "1")
    diff.check("HDEL", "h", "")
    diff.check("HGETALL", "h")
    diff.check("HLEN", "h")
    diff.check("DEBUG", "DIGEST-VALUE", "h")


@pytest.mark.usefixtures("each_form")
def test_marker_in_client_data(diff, server):
    # Fields and values holding the marker (or making it across a length byte) cannot be
    # packed; the hash is still a listpack, in Redis's order, with every command working.
    for i, (f, v) in enumerate([("\x880", "v"), ("f", "\x880"), ("f", "x\x880y"),
                                ("\x880C\x01a", "1"), ("a\x880", "")]):
        key = f"m{i}"
        diff.check("HSET", key, "first", "1", f, v, "last", "2")
        assert _value(server, key.encode()).lp is None  # in the dict form
        diff.check("OBJECT", "ENCODING", key)
        diff.check("HGET", key, f)
        diff.check("HGET", key, "last")
        diff.check("HGETALL", key)
        diff.check("HSET", key, "first", "3", "new", "4")
        diff.check("HDEL", key, "last")
        diff.check("HGETALL", key)
        diff.check("DEBUG", "DIGEST-VALUE", key)
    # Written later into a packed hash (not hot: other keys in between): an update, a new
    # field, a new value.
    for i, (f, v) in enumerate([("b", "\x880"), ("\x880", "d"), ("d", "\x880")]):
        key = f"p{i}"
        diff.check("HSET", key, "a", "1", "b", "2", "c", "3")
        diff.check("HSET", "other", "x", "y")
        assert _value(server, key.encode()).lp is not None
        diff.check("HSET", key, f, v)
        assert _value(server, key.encode()).lp is None
        diff.check("HGETALL", key)
        diff.check("OBJECT", "ENCODING", key)
        # The same amid other new fields and updates of one HSET.
        key = f"q{i}"
        diff.check("HSET", key, "a", "1", "b", "2", "c", "3")
        diff.check("HSET", "other", "x", "y")
        diff.check("HSET", key, "n1", "x", "c", "4", f, v, "n2", "y", "n1", "z", "a", "5")
        assert _value(server, key.encode()).lp is None
        diff.check("HGETALL", key)
        diff.check("HLEN", key)


@pytest.mark.usefixtures("each_form")
def test_lengths_around_the_one_byte_prefix(diff, server):
    try:
        _config_set(diff, "hash-max-listpack-value", "300")
        for n in (0, 1, 63, 64, 65, 135, 136, 137, 255, 256, 257, 300):
            key = f"l{n}"
            f = ("f" * n) if n else ""
            diff.check("HSET", key, "a", "1", f, "v" * n, "z", "2")
            diff.check("HGET", key, f)
            diff.check("HGET", key, "z")
            diff.check("HSTRLEN", key, f)
            diff.check("HGETALL", key)
            diff.check("HSET", key, f, "w" * (300 - n))
            diff.check("HGETALL", key)
            diff.check("OBJECT", "ENCODING", key)
            diff.check("HDEL", key, f)
            diff.check("HGETALL", key)
        # A 136-byte string starting with "0": its length byte 0x88 and the "0" make the
        # marker, so this hash cannot stay packed.
        diff.check("HSET", "m", "a", "1", "0" * 136, "x")
        diff.check("HSET", "m", "b", "0" + "y" * 135)
        assert _value(server, b"m").lp is None
        diff.check("HGETALL", "m")
        diff.check("OBJECT", "ENCODING", "m")
    finally:
        _restore_limits(diff)


@pytest.mark.usefixtures("each_form")
def test_conversion_at_exactly_the_limits(diff):
    try:
        _config_set(diff, "hash-max-listpack-entries", "3")
        _config_set(diff, "hash-max-listpack-value", "5")
        steps = [
            ("HSET", "h", "a", "1", "b", "2", "c", "3"),  # exactly 3 fields
            ("HSET", "h", "a", "12345"),  # a value of exactly 5 bytes
            ("HSET", "h", "12345", "x"),  # a 4th field: over the entry limit
            ("HSET", "v", "a", "12345", "bcdef", "1"),
            ("HSET", "v", "a", "123456"),  # 6 bytes: over
            ("HSET", "w", "abcdef", "1"),  # a 6-byte field on creation
            ("HSET", "m", "a", "1", "b", "2", "c", "3", "d", "4"),  # 4 at once
            ("HSET", "n", "a", "1", "a", "2", "a", "3", "b", "4", "c", "5"),  # dups: 3 fields
            ("HSETNX", "x", "a", "1"), ("HSETNX", "x", "b", "2"), ("HSETNX", "x", "c", "3"),
            ("HSETNX", "x", "c", "123456"),  # not set: no conversion
            ("HSETNX", "x", "d", "4"),
            ("HINCRBY", "i", "a", "99999"), ("HINCRBY", "i", "a", "1"),  # 100000: 6 bytes
            ("HSET", "k", "a", "1", "b", "2", "c", "3"),
            ("HDEL", "k", "a"), ("HSET", "k", "d", "4"), ("HSET", "k", "e", "5"),
        ]
        for cmd in steps:
            diff.check(*cmd)
            diff.check("OBJECT", "ENCODING", cmd[1])
            diff.check("HGETALL", cmd[1], unordered=diff.check("OBJECT", "ENCODING", cmd[1])
                       == b"hashtable")
    finally:
        _restore_limits(diff)


@pytest.mark.usefixtures("each_form")
def test_hdel_to_empty_deletes_the_key(diff):
    diff.check("HSET", "h", "a", "1", "b", "2", "c", "3")
    diff.check("HDEL", "h", "b")
    diff.check("HDEL", "h", "a", "nosuch")
    diff.check("EXISTS", "h")
    diff.check("HDEL", "h", "c", "c")
    diff.check("EXISTS", "h")
    diff.check("TYPE", "h")
    diff.check("HGETALL", "h")
    diff.check("HSET", "h", "x", "1")  # a new hash
    diff.check("HGETALL", "h")


@pytest.mark.usefixtures("each_form")
def test_big_listpack_in_the_dict_form(diff, server):
    # Past PACK_MAX_BYTES a listpack is held in a dict; still Redis's listpack order.
    pairs = [x for i in range(60) for x in (f"field{i:03d}", "v" * 50)]
    diff.check("HSET", "h", *pairs)
    assert _value(server, b"h").lp is None
    diff.check("OBJECT", "ENCODING", "h")
    diff.check("HSET", "h", "field010", "updated", "new", "x")
    diff.check("HDEL", "h", "field000")
    diff.check("HGETALL", "h")
    diff.check("HSCAN", "h", "0", "MATCH", "field00*")
    diff.check("DEBUG", "DIGEST-VALUE", "h")


def test_hot_hash_moves_to_a_dict_and_back(diff, server):
    pairs = [x for i in range(10) for x in (f"f{i}", f"value-{i}")]
    diff.check("HSET", "h", *pairs)
    h = _value(server, b"h")
    assert h.lp is not None  # packed on creation
    digest = diff.check("DEBUG", "DIGEST-VALUE", "h")
    diff.check("HGET", "h", "f3")
    diff.check("HGET", "h", "f4")  # accessed twice in a row: unpacked
    assert h.lp is None and h.encoding(None) == "listpack"
    diff.check("HSET", "h", "f0", "changed", "f10", "new")
    diff.check("HGETALL", "h")
    diff.check("HSET", "h", "f0", "value-0")
    diff.check("HDEL", "h", "f10")
    assert diff.check("DEBUG", "DIGEST-VALUE", "h") == digest
    # Enough other hot hashes push it out of the server's queue: packed again, same order.
    raw = diff.kv
    for i in range(hashmod.HOT_HASHES + 1):
        raw.call("HSET", f"o{i}", "a", "1")
        raw.call("HGET", f"o{i}", "a")
    assert h.lp is not None
    diff.check("HGETALL", "h")
    assert diff.check("DEBUG", "DIGEST-VALUE", "h") == digest
    diff.check("OBJECT", "ENCODING", "h")


def test_copy_sort_and_memory_of_packed_hashes(r, server):
    r.hset("h", mapping={f"f{i}": str(i) for i in range(10)})
    assert _value(server, b"h").lp is not None
    packed = r.memory_usage("h")
    r.copy("h", "h2")
    r.hset("h2", "f0", "changed")
    r.hdel("h2", "f1")
    assert r.hget("h", "f0") == b"0" and r.hget("h", "f1") == b"1"
    assert r.hlen("h") == 10 and r.hlen("h2") == 9
    assert r.object("encoding", "h2") == b"listpack"
    # SORT BY / GET with -> read hash fields, packed or not.
    r.rpush("ids", "1", "2", "3")
    for i, w in ((1, "30"), (2, "10"), (3, "20")):
        r.hset(f"obj{i}", mapping={"weight": w, "name": f"n{i}"})
    assert r.sort("ids", by="obj*->weight", get="obj*->name") == [b"n2", b"n3", b"n1"]
    # A packed hash is a fraction of the same hash as a dict of bytes objects (MEMORY
    # USAGE measures the Python objects).
    r.hget("h", "f0")
    r.hget("h", "f0")  # hot: now a dict
    assert _value(server, b"h").lp is None
    assert packed * 2 < r.memory_usage("h")


# Random sequences over tricky strings with small limits, against Redis byte for byte.
T_KEYS = st.sampled_from(["a", "b"])
T_STR = st.sampled_from(TRICKY + ["12", "123456", "x" * 7])
T_CMDS = st.one_of(
    st.tuples(st.just("HSET"), T_KEYS, T_STR, T_STR),
    st.tuples(st.just("HSET"), T_KEYS, T_STR, T_STR, T_STR, T_STR),
    st.tuples(st.just("HSETNX"), T_KEYS, T_STR, T_STR),
    st.tuples(st.sampled_from(["HGET", "HEXISTS", "HSTRLEN"]), T_KEYS, T_STR),
    st.tuples(st.just("HMGET"), T_KEYS, T_STR, T_STR),
    st.tuples(st.just("HDEL"), T_KEYS, T_STR, T_STR),
    st.tuples(st.just("HINCRBY"), T_KEYS, T_STR, st.just("7")),
    st.tuples(st.sampled_from(["HGETALL", "HLEN", "OBJECT"]), T_KEYS),
)


@pytest.mark.usefixtures("each_form")
def test_random_tricky_sequences(diff):
    try:
        _config_set(diff, "hash-max-listpack-entries", "6")
        _config_set(diff, "hash-max-listpack-value", "6")

        @settings(max_examples=120, deadline=None,
                  suppress_health_check=[HealthCheck.function_scoped_fixture])
        @given(st.lists(T_CMDS, max_size=25))
        def run(cmds):
            diff.flush()
            for cmd in cmds:
                if cmd[0] == "OBJECT":
                    cmd = ("OBJECT", "ENCODING", cmd[1])
                if cmd[0] == "HGETALL":
                    enc = diff.check("OBJECT", "ENCODING", cmd[1])
                    diff.check(*cmd, unordered=enc == b"hashtable")
                else:
                    diff.check(*cmd)
            for k in ("a", "b"):
                diff.check("DEBUG", "DIGEST-VALUE", k)

        run()
    finally:
        _restore_limits(diff)


# -- the type itself, against a model --------------------------------------------------------

class _Config:
    def __init__(self, entries: int, value: int) -> None:
        self.hash_max_listpack_entries = entries
        self.hash_max_listpack_value = value


class _Server:  # what RedisHash needs of a server: its config (and to be weak-referable)
    def __init__(self, entries: int = 512, value: int = 64) -> None:
        self.config = _Config(entries, value)


M_STR = st.sampled_from([b"", b"a", b"b", b"ab", b"\x880", b"C\x01a", b"\x880C\x01a", b"0",
                         b"x" * 70, b"y" * 300, b"\x88" + b"0" * 135])
M_OPS = st.lists(st.tuples(st.sampled_from(["set", "set_many", "get", "delete", "len"]),
                           M_STR, M_STR, M_STR), max_size=40)


@settings(max_examples=300, deadline=None)
@given(M_OPS, st.sampled_from([(512, 64), (3, 64), (512, 400), (4, 300)]), st.booleans())
def test_redis_hash_against_a_model(ops, limits, hot):
    """Order, values, length and encoding of RedisHash match an insertion-ordered dict
    under Redis's conversion rules, whichever form (packed or dict) it is in."""
    srv = _Server(*limits)
    entries, maxv = limits
    h = hashmod.RedisHash()
    model: dict[bytes, bytes] = {}
    ht = False
    for op, f, v, f2 in ops:
        if op == "set":
            assert h.set(f, v, srv, hot) == (f not in model)
            model[f] = v
            ht = ht or len(f) > maxv or len(v) > maxv or len(model) > entries
        elif op == "set_many":
            argv = [b"HSET", b"k", f, v, f2, v]
            new = len({f, f2} - model.keys())
            if max(len(f), len(f2), len(v)) > maxv:
                ht = True
            assert h.set_many(argv, 2, srv) == new
            model[f] = v
            model[f2] = v
            ht = ht or len(model) > entries
        elif op == "get":
            assert h.get(f, srv if hot else None) == model.get(f)
            assert (f in h) == (f in model)
        elif op == "delete":
            assert h.delete(f, srv if hot else None) == (f in model)
            model.pop(f, None)
        assert len(h) == len(model)
        assert h.encoding(None) == ("hashtable" if ht else "listpack")
        if not ht:
            assert h.items() == list(model.items())
        else:
            assert dict(h.items()) == model
        assert h.to_dict() == model and h.fields() == list(h.to_dict())
        assert h.flat()[1::2] == h.values()
        if h.lp is not None:  # packed: the marker starts exactly the fields
            assert h.lp.count(b"\x880") == len(model)
    c = h.copy()
    assert c.items() == h.items() and c.encoding(None) == h.encoding(None)


def test_packed_writes_that_would_hold_the_marker_move_to_a_dict():
    srv = _Server(value=300)
    long0 = b"0" * 136  # encoded, its length byte 0x88 and its first "0" make the marker
    for f, v in [(b"b", b"\x880"), (b"b", b"x\x880y"), (b"\x880", b"v"), (b"n\x880", b"v"),
                 (b"n", b"\x880"), (long0, b"v"), (b"n", long0), (b"b", long0)]:
        for many in (False, True):
            h = hashmod.RedisHash()
            h.set_many([b"HSET", b"k", b"a", b"1", b"b", b"2", b"c", b"3"], 2, srv)
            assert h.lp is not None
            if many:
                h.set_many([b"HSET", b"k", b"c", b"4", f, v], 2, srv)
            else:
                h.set(f, v, srv, False)
            assert h.lp is None and h.encoding(None) == "listpack", (f, v)
            want = {b"a": b"1", b"b": b"2", b"c": b"4" if many else b"3"}
            want[f] = v
            assert h.items() == list(want.items())
            assert all(h.get(k) == want[k] for k in want)
            h.d.clear()  # (a dict now; the packed form was never built with the marker)


def test_from_items_encodes_as_redis_would():
    items = [(b"f%d" % i, b"v" * i) for i in range(10)]
    h = hashmod.RedisHash.from_items(items, _Config(512, 64))
    assert h.lp is not None and h.items() == items and len(h) == 10
    assert hashmod.RedisHash.from_items(items, _Config(9, 64)).encoding(None) == "hashtable"
    assert hashmod.RedisHash.from_items(items, _Config(10, 8)).encoding(None) == "hashtable"
    assert hashmod.RedisHash.from_items(items, _Config(10, 9)).encoding(None) == "listpack"
    marked = hashmod.RedisHash.from_items([(b"a", b"\x880")] + items, _Config(512, 64))
    assert marked.lp is None and marked.encoding(None) == "listpack"
    assert len(hashmod.RedisHash.from_items([], _Config(512, 64))) == 0
