"""DUMP and RESTORE, against a real redis-server: payloads go both ways (what
Redis 7.0 dumps, kvserver restores, and the reverse), errors match word for
word, and RESTORE's TTL handling and propagation are Redis's."""

from __future__ import annotations

import random
import struct

import pytest
import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kvserver import rdb
from tests.conftest import propagation


@pytest.fixture
def rr(real_redis):
    c = redis.Redis(port=real_redis)
    c.flushall()
    yield c
    c.close()


def content(c: redis.Redis, key: str):
    """A key's type and value, comparable across servers."""
    t = c.type(key).decode()
    if t == "string":
        return t, c.get(key)
    if t == "list":
        return t, c.lrange(key, 0, -1)
    if t == "set":
        return t, sorted(c.smembers(key))
    if t == "hash":
        return t, sorted(c.hgetall(key).items())
    if t == "zset":
        return t, c.zrange(key, 0, -1, withscores=True)
    return t, None


def fill(c: redis.Redis) -> list[str]:
    """Values of every type, in every encoding Redis 7.0 writes to a DUMP."""
    c.set("str", "hello")
    c.set("int8", "-12")
    c.set("int16", "1234")
    c.set("int32", "-123456789")
    c.set("big", "12345678901234567890")
    c.set("lzf", "abcd" * 100)  # long and repetitive: LZF-compressed
    c.set("bin", bytes(range(256)))
    c.set("empty", "")
    # listpack entries of each integer width, and strings of each length class
    entries = ["1", "-1", "127", "128", "-4096", "4095", "4096", "-32768", "32767",
               "8388607", "-8388608", "2147483647", "-2147483648", "9223372036854775807",
               "-9223372036854775808", "x", "y" * 63, "z" * 64, "w" * 4095, "v" * 4096, "1.5"]
    c.rpush("list", *entries)
    c.rpush("biglist", *[f"element-{i}" * 20 for i in range(2000)])  # several quicklist nodes
    c.sadd("intset16", 1, 2, -3)
    c.sadd("intset32", 1, 100000)
    c.sadd("intset64", 1, 10000000000)
    c.sadd("set", "a", "b", "c")
    c.sadd("bigset", *range(1000))
    c.hset("hash", mapping={e: e[::-1] for e in entries})
    c.hset("smallhash", mapping={"f": "v", "n": "12"})
    c.hset("bighash", mapping={f"f{i}": "v" * 100 for i in range(200)})
    c.zadd("zset", {"a": 1, "b": 2.5, "c": -0.5, "d": float("inf"), "e": float("-inf"),
                    "f": 1e300, "g": 12345678})
    c.zadd("bigzset", {f"m{i}": i / 7 for i in range(300)})
    return ["str", "int8", "int16", "int32", "big", "lzf", "bin", "empty", "list", "biglist",
            "intset16", "intset32", "intset64", "set", "bigset", "hash", "smallhash",
            "bighash", "zset", "bigzset"]


@pytest.mark.parametrize("source", ["redis", "kvserver"])
def test_payloads_travel_between_servers(r, rr, source):
    src, dst = (rr, r) if source == "redis" else (r, rr)
    for key in fill(src):
        assert dst.restore(key, 0, src.dump(key)) == b"OK", key
        assert content(dst, key) == content(src, key), key
        assert dst.object("encoding", key) == src.object("encoding", key), key


def test_lzf_strings_from_redis(r, rr):
    # Strings over 20 bytes that compress: Redis stores them LZF-compressed.
    rng = random.Random(3)
    for i in range(100):
        alphabet = rng.choice([b"ab", b"abcdefgh", bytes(range(256))])
        v = bytes(rng.choice(alphabet) for _ in range(rng.randint(21, 3000)))
        rr.set("x", v)
        r.restore("x", 0, rr.dump("x"), replace=True)
        assert r.get("x") == v, i


def test_dump_of_a_string_is_redis_s(r, rr):
    for c in (r, rr):
        c.set("s", "hello world")
    assert r.dump("s") == rr.dump("s")


def test_dump_restore_round_trip_keeps_the_encoding_rules(r):
    default = r.config_get("hash-max-listpack-entries")["hash-max-listpack-entries"]
    r.config_set("hash-max-listpack-entries", 4)
    try:
        r.hset("h", mapping={f"f{i}": i for i in range(10)})
        payload = r.dump("h")
        r.delete("h")
        r.restore("h", 0, payload)
        assert r.object("encoding", "h") == b"hashtable"
        assert r.hgetall("h") == {b"f%d" % i: b"%d" % i for i in range(10)}
    finally:
        r.config_set("hash-max-listpack-entries", default)


values = st.one_of(
    st.binary(max_size=50).map(lambda b: ("string", b)),
    st.lists(st.binary(max_size=20), min_size=1, max_size=20).map(lambda v: ("list", v)),
    st.sets(st.one_of(st.binary(max_size=8), st.integers(-10**12, 10**12).map(str)),
            min_size=1, max_size=20).map(lambda v: ("set", v)),
    st.dictionaries(st.binary(max_size=8), st.binary(max_size=8), min_size=1,
                    max_size=20).map(lambda v: ("hash", v)),
    st.dictionaries(st.binary(max_size=8),
                    st.floats(allow_nan=False) | st.integers(-10**6, 10**6),
                    min_size=1, max_size=20).map(lambda v: ("zset", v)),
)


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=values)
def test_random_values_travel_both_ways(r, rr, value):
    kind, v = value
    for c in (r, rr):
        c.delete("k", "k2")
        if kind == "string":
            c.set("k", v)
        elif kind == "list":
            c.rpush("k", *v)
        elif kind == "set":
            c.sadd("k", *v)
        elif kind == "hash":
            c.hset("k", mapping=v)
        else:
            c.zadd("k", v)
    r.restore("k2", 0, rr.dump("k"))
    rr.restore("k2", 0, r.dump("k"))
    assert content(r, "k2") == content(rr, "k2") == content(r, "k")


def _payload(body: bytes, version: int = rdb.RDB_VERSION) -> bytes:
    data = body + struct.pack("<H", version)
    return data + struct.pack("<Q", rdb.crc64(data))


BAD_PAYLOADS = [
    b"",
    b"\x00\x05hello",
    b"\x00\x05hello\n\x00cr\xdfve4 \x00",  # checksum off by one byte
    _payload(b"\x00\x05hello", version=11),  # a newer RDB version
    _payload(b"\x00\x05hel"),  # the string is cut short
    _payload(b"\x01\x00"),  # an empty list
    _payload(b"\x02\x02\x01a\x01a"),  # a set with a duplicate
    _payload(b"\x05\x01\x01a" + struct.pack("<d", float("nan"))),  # a NaN score
    _payload(b"\x0b\x0a\x02\x00\x00\x00\x02\x00\x00\x00\x01\x00"),  # an intset cut short
    _payload(b"\x10\x07\x07\x00\x00\x00\x00\x00\xff"),  # an empty listpack hash
    _payload(b"\x0f"),  # a stream: not supported by kvserver (and cut short here)
    _payload(b"\x63"),  # no such type
]


@pytest.mark.parametrize("payload", BAD_PAYLOADS)
def test_bad_payloads_like_redis(diff, payload):
    diff.check("RESTORE", "k", "0", payload)
    diff.check("EXISTS", "k")


def test_duplicate_hash_fields_are_refused(r):
    # Redis 7.0 without sanitize-dump-payload loads this small hash as a
    # listpack holding the field twice, a corrupt value; kvserver refuses it.
    with pytest.raises(redis.ResponseError, match="^Bad data format$"):
        r.restore("k", 0, _payload(b"\x04\x02\x01f\x01v\x01f\x01w"))
    assert not r.exists("k")


def test_errors_like_redis(diff):
    diff.check("SET", "s", "v")
    good = diff.check("DUMP", "s")
    diff.check("DUMP", "nosuchkey")
    for args in (["s", "0", good],  # BUSYKEY
                 ["n", "-1", good], ["n", "x", good],
                 ["n", "0", good, "FOO"], ["n", "0", good, "IDLETIME"],
                 ["n", "0", good, "IDLETIME", "-1"], ["n", "0", good, "IDLETIME", "x"],
                 ["n", "0", good, "FREQ", "256"], ["n", "0", good, "FREQ", "-1"],
                 ["n", "0", good, "IDLETIME", "1", "FREQ", "1"],
                 ["n", "0", good, "FREQ", "1", "IDLETIME", "1"]):
        diff.check("RESTORE", *args)
    diff.check("RESTORE", "n", "0", good, "IDLETIME", "10", "REPLACE")
    diff.check("RESTORE", "n", "0", good, "FREQ", "10", "REPLACE", "ABSTTL")
    diff.check("GET", "n")
    diff.check("RESTORE", "s", "0", good, "REPLACE")
    diff.check("RESTORE")
    diff.check("DUMP")


def test_restore_ttl(r, server):
    r.set("s", "v")
    payload = r.dump("s")
    assert r.restore("t", 5000, payload)
    assert 4000 < r.pttl("t") <= 5000
    now_ms = server.server.now_ms()
    assert r.restore("a", now_ms + 10_000, payload, absttl=True)
    assert 9000 < r.pttl("a") <= 10_000
    # A deadline already past creates nothing.
    assert r.restore("gone", 1, payload, absttl=True)
    assert not r.exists("gone")
    server.advance_time(6)
    assert not r.exists("t") and r.exists("a")


def test_restore_propagates_an_absolute_deadline(r, server):
    r.set("s", "v")
    payload = r.dump("s")
    with propagation(server) as out:
        r.restore("t", 5000, payload)
        r.restore("u", 0, payload)
        r.restore("t", 1, payload, replace=True, absttl=True)  # past: only a DEL
    assert out[0][:2] == [b"RESTORE", b"t"] and out[0][3:] == [payload, b"ABSTTL"]
    assert int(out[0][2]) > server.server.now_ms()
    assert out[1] == [b"RESTORE", b"u", b"0", payload]
    assert out[2] == [b"DEL", b"t"]


def test_restore_events(r, events):
    r.rpush("l", "a")
    payload = r.dump("l")
    events.clear()
    r.restore("m", 0, payload)
    r.restore("m", 1, payload, replace=True, absttl=True)
    assert events == [("g", "restore", b"m"), ("g", "del", b"m")]


def test_restore_wakes_a_blocked_client(server, r):
    import threading

    r.rpush("src", "x")
    payload = r.dump("src")
    got = []
    blocked = server.client()
    t = threading.Thread(target=lambda: got.append(blocked.blpop("q", 5)))
    t.start()
    while not r.info("clients")["blocked_clients"]:
        pass
    r.restore("q", 0, payload)
    t.join(5)
    blocked.close()
    assert got == [(b"q", b"x")]


@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_mutated_payloads_never_break_the_server(r, rr, data):
    # Redis's own payloads, corrupted and re-signed: RESTORE either loads a
    # value that reads back whole or answers Bad data format; never a crash,
    # a hang or a half-built key.
    keys = ["str", "lzf", "list", "biglist", "intset16", "set", "hash", "zset"]
    if not rr.exists("str"):
        fill(rr)
    _restore_mutated(r, data, rr.dump(data.draw(st.sampled_from(keys)))[:-10], rdb.RDB_VERSION)


def _restore_mutated(r, data, body: bytes, version: int) -> None:
    """Corrupt body a few times, sign it and RESTORE it: either a value that
    reads back whole, or Bad data format and no key; never a crash or hang."""
    body = bytearray(body)
    for _ in range(data.draw(st.integers(1, 4))):
        i = data.draw(st.integers(0, len(body) - 1))
        op = data.draw(st.sampled_from(["flip", "cut", "insert"]))
        if op == "flip":
            body[i] ^= 1 << data.draw(st.integers(0, 7))
        elif op == "cut":
            del body[i:i + data.draw(st.integers(1, 8))]
        else:
            body[i:i] = data.draw(st.binary(min_size=1, max_size=8))
        if not body:
            body = bytearray(b"\x00")
    r.delete("m")
    try:
        r.restore("m", 0, _payload(bytes(body), version=version))
    except redis.ResponseError as e:
        assert str(e) == "Bad data format", e
        assert not r.exists("m")
    else:
        content(r, "m")  # every element readable
        assert r.execute_command("DUMP", "m")
    assert r.ping()


# -- MIGRATE ----------------------------------------------------------------------------------

def _closed_port() -> int:
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_migrate_errors_like_redis(diff):
    closed = str(_closed_port())
    diff.check("MIGRATE", "127.0.0.1", closed, "k", "0", "100")  # NOKEY
    diff.check("SET", "k", "v")
    for extra in (["FOO"], ["AUTH"], ["AUTH2", "u"], ["COPY", "REPLACE", "BAR"]):
        diff.check("MIGRATE", "127.0.0.1", closed, "k", "0", "100", *extra)
    diff.check("MIGRATE", "127.0.0.1", closed, "", "0", "100", "KEYS", "k")
    diff.check("MIGRATE", "127.0.0.1", closed, "k", "0", "100", "KEYS", "k")
    diff.check("MIGRATE", "127.0.0.1", closed, "k", "x", "100")
    diff.check("MIGRATE", "127.0.0.1", closed, "k", "0", "x")
    diff.check("MIGRATE", "127.0.0.1", closed, "k", "0", "100")  # cannot connect
    diff.check("MIGRATE", "127.0.0.1", closed, "", "0", "100", "KEYS", "nokey", "k")
    diff.check("MIGRATE", "127.0.0.1", closed, "", "0", "100", "KEYS", "nokey")  # NOKEY
    diff.check("EXISTS", "k")


@pytest.mark.parametrize("source", ["kvserver", "redis"])
def test_migrate_between_servers(server, real_redis, r, rr, source):
    src, dst = (r, rr) if source == "kvserver" else (rr, r)
    dst_port = real_redis if source == "kvserver" else server.port
    keys = fill(src)
    src.expire("list", 100)
    want = {k: content(src, k) for k in keys}
    assert src.migrate("127.0.0.1", dst_port, keys[:3], 0, 5000) == b"OK"
    assert src.migrate("127.0.0.1", dst_port, keys[3:], 0, 5000) == b"OK"
    assert src.dbsize() == 0
    assert {k: content(dst, k) for k in keys} == want
    assert 90_000 < dst.pttl("list") <= 100_000 and dst.ttl("str") == -1
    # COPY keeps the source; an existing target key is an error without REPLACE.
    src.set("s", "one")
    dst.set("s", "two")
    with pytest.raises(redis.ResponseError) as e:
        src.migrate("127.0.0.1", dst_port, "s", 0, 5000, copy=True)
    assert str(e.value) == ("Target instance replied with error: BUSYKEY Target key name "
                            "already exists.")
    assert src.migrate("127.0.0.1", dst_port, "s", 0, 5000, copy=True, replace=True) == b"OK"
    assert src.get("s") == dst.get("s") == b"one"
    # Another database of the target.
    assert src.migrate("127.0.0.1", dst_port, "s", 3, 5000, replace=True) == b"OK"
    assert not src.exists("s")
    with redis.Redis(port=dst_port, db=3) as db3:
        assert db3.get("s") == b"one"
        db3.flushdb()


def test_migrate_with_auth(r):
    from kvserver.testing import KVServer

    with KVServer(requirepass="pw") as target:
        t = redis.Redis(port=target.port, password="pw", db=2)
        r.set("a", "1")
        r.set("b", "2")
        with pytest.raises(redis.ResponseError, match="^Target instance replied with error: "
                                                      "NOAUTH"):
            r.migrate("127.0.0.1", target.port, "a", 0, 5000)
        assert r.exists("a")
        assert r.execute_command("MIGRATE", "127.0.0.1", target.port, "", 2, 5000,
                                 "AUTH2", "default", "pw", "KEYS", "a", "b") == b"OK"
        assert t.mget("a", "b") == [b"1", b"2"]
        assert not r.exists("a", "b")
        t.close()


def test_migrate_propagates_the_deletes(r, real_redis, server):
    r.set("a", "1")
    r.set("b", "2")
    with propagation(server) as out:
        r.execute_command("MIGRATE", "127.0.0.1", real_redis, "", 0, 5000, "COPY",
                          "KEYS", "a", "b")
        r.execute_command("MIGRATE", "127.0.0.1", real_redis, "", 0, 5000, "REPLACE",
                          "KEYS", "a", "nokey", "b")
    assert out == [[b"DEL", b"a", b"b"]]


def test_migrate_to_a_silent_target_times_out_like_redis(diff):
    import socket

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # accepts (in the kernel) and never answers
    try:
        diff.check("SET", "k", "v")
        diff.check("MIGRATE", "127.0.0.1", str(silent.getsockname()[1]), "k", "0", "200")
        diff.check("EXISTS", "k")
    finally:
        silent.close()


def test_restore_with_a_ttl_past_the_end_of_time_like_redis(diff):
    diff.check("SET", "s", "v")
    payload = diff.check("DUMP", "s")
    diff.check("RESTORE", "t", "9223372036854775807", payload)  # wraps: already expired
    diff.check("EXISTS", "t")
    diff.check("RESTORE", "t", "9223372036854775807", payload, "ABSTTL")
    diff.check("EXISTS", "t")


def test_migrate_with_a_huge_timeout(r, real_redis):
    r.set("k", "v")
    assert r.execute_command("MIGRATE", "127.0.0.1", real_redis, "k", 5, 100000000000000,
                             "COPY") == b"OK"
    with redis.Redis(port=real_redis, db=5) as db5:
        assert db5.get("k") == b"v"
        db5.flushdb()


# -- payloads of older Redis versions (ziplists, zipmaps) -----------------------------
# Built here entry by entry, in every encoding the formats have, with the RDB
# version of Redis 6.2 (9); Redis 7.0 loads them, and kvserver must load the same.

def _rdb_string(s: bytes) -> bytes:
    n = len(s)
    if n < 64:
        return bytes([n]) + s
    if n < 16384:
        return bytes([0x40 | n >> 8, n & 0xFF]) + s
    return b"\x80" + struct.pack(">I", n) + s


def _ziplist(entries: list, count: int | None = None) -> bytes:
    body, prev, last = b"", 0, 10
    for e in entries:
        head = bytes([prev]) if prev < 254 else b"\xfe" + struct.pack("<I", prev)
        if isinstance(e, int):
            if 0 <= e <= 12:
                enc = bytes([0xF1 + e])
            elif -128 <= e <= 127:
                enc = b"\xfe" + struct.pack("<b", e)
            elif -32768 <= e < 32768:
                enc = b"\xc0" + struct.pack("<h", e)
            elif -(1 << 23) <= e < 1 << 23:
                enc = b"\xf0" + struct.pack("<i", e)[:3]
            elif -(1 << 31) <= e < 1 << 31:
                enc = b"\xd0" + struct.pack("<i", e)
            else:
                enc = b"\xe0" + struct.pack("<q", e)
        else:
            n = len(e)
            enc = (bytes([n]) if n < 64 else bytes([0x40 | n >> 8, n & 0xFF]) if n < 16384
                   else b"\x80" + struct.pack(">I", n)) + e
        last = 10 + len(body)
        body += head + enc
        prev = len(head + enc)
    return (struct.pack("<IIH", 10 + len(body) + 1, last,
                        len(entries) if count is None else count) + body + b"\xff")


def _zipmap(pairs: list[tuple[bytes, bytes]], free: int = 0) -> bytes:
    def length(n):
        return bytes([n]) if n < 254 else b"\xfe" + struct.pack("<I", n)
    out = bytes([min(len(pairs), 254)])
    for f, v in pairs:
        out += length(len(f)) + f + length(len(v)) + bytes([free]) + v + b"\x00" * free
    return out + b"\xff"


_ZL_VALUES = [b"a", 5, 0, 12, 13, -1, -100, 1000, -30000, 100000, -8000000, 2**31 - 1,
              -(2**31), 2**40, -(2**63), b"x" * 70, b"y" * 300, b"", b"-0", b"007"]

OLD_PAYLOADS = {
    "list ziplist": b"\x0a" + _rdb_string(_ziplist(_ZL_VALUES)),
    "list quicklist": b"\x0e\x02" + _rdb_string(_ziplist(_ZL_VALUES[:7]))
                      + _rdb_string(_ziplist(_ZL_VALUES[7:])),
    "hash ziplist": b"\x0d" + _rdb_string(_ziplist([b"f1", 1, b"f2", b"v" * 80, 7, b"seven"])),
    "big hash ziplist": b"\x0d" + _rdb_string(_ziplist(
        [x for i in range(200) for x in (b"field%d" % i, i * 1000)])),
    # in order (score, then member), as Redis keeps it: Redis does not sort
    "zset ziplist": b"\x0c" + _rdb_string(_ziplist([b"c", b"-inf", b"a", 1, b"b", b"2.5",
                                                      5, b"1e3", b"d", 100000])),
    "hash zipmap": b"\x09" + _rdb_string(_zipmap([(b"f", b"v"), (b"g" * 300, b"w" * 260)])),
    "hash zipmap with free bytes": b"\x09" + _rdb_string(_zipmap([(b"f", b"v")], free=3)),
    "ziplist count unknown": b"\x0a" + _rdb_string(_ziplist([b"a", 1], count=65535)),
}


@pytest.mark.parametrize("body", OLD_PAYLOADS.values(), ids=OLD_PAYLOADS.keys())
def test_payloads_of_redis_6_load_as_in_redis_7(diff, r, rr, body):
    payload = _payload(body, version=9)
    diff.check("RESTORE", "k", "0", payload)
    assert content(r, "k") == content(rr, "k")
    diff.check("OBJECT", "ENCODING", "k")
    # kvserver writes the value back in the plain types, which Redis loads alike.
    rr.restore("k2", 0, r.dump("k"))
    assert content(rr, "k2") == content(r, "k")


@pytest.mark.parametrize("body", [
    b"\x0a" + _rdb_string(_ziplist([b"a", 1])[:-1] + b"\x00"),  # no end byte
    b"\x0a" + _rdb_string(_ziplist([b"a", 1], count=3)),  # the count is wrong
    b"\x0a" + _rdb_string(_ziplist([])),  # an empty list
    b"\x0d" + _rdb_string(_ziplist([b"f", 1, b"g"])),  # a field without its value
    b"\x0c" + _rdb_string(_ziplist([b"a", b"x"])),  # a score that is not a number
    b"\x0a" + _rdb_string(_ziplist([b"a" * 70])[:-5] + b"\xff"),  # an entry cut short
], ids=["no end", "count", "empty", "odd hash", "bad score", "cut short"])
def test_broken_redis_6_payloads_are_refused(r, body):
    # Redis 7.0 refuses these too (without sanitize-dump-payload only some of
    # them: it checks a ziplist's header, then converts it entry by entry).
    with pytest.raises(redis.ResponseError, match="^Bad data format$"):
        r.restore("k", 0, _payload(body, version=9))
    assert not r.exists("k")


@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_mutated_redis_6_payloads_never_break_the_server(r, data):
    _restore_mutated(r, data, data.draw(st.sampled_from(list(OLD_PAYLOADS.values()))), 9)
