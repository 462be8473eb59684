"""Keyspace notifications (notify-keyspace-events), compared with redis-server.

A subscriber on each server listens to every keyspace/keyevent channel; the
same commands run on both; the messages each receives must be the same, in
the same order. This also checks the event names every command family
passes to server.notify_keyspace_event.
"""

from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kvserver.table import TABLE
from tests.rawclient import RawClient, encode_command

MARKER = "zz-notify-marker"


class Events:
    """A subscriber and a command connection on kvserver and on redis-server."""

    def __init__(self, kv_port: int, redis_port: int) -> None:
        self.kv_port, self.redis_port = kv_port, redis_port
        self.subs = [RawClient(port=kv_port), RawClient(port=redis_port)]
        self.cmds = [RawClient(port=kv_port), RawClient(port=redis_port)]
        for s in self.subs:
            s.send_raw(encode_command(["PSUBSCRIBE", "__key*__:*"]))
            s.read_reply()
            s.send_raw(encode_command(["SUBSCRIBE", MARKER]))
            s.read_reply()
        self.flush()

    def flush(self) -> None:
        for c in self.cmds:
            c.execute("SELECT", "9")
            c.execute("FLUSHALL")
        self.collect()  # FLUSHALL sends no event; drop anything left over

    def config(self, flags: str) -> None:
        for c in self.cmds:
            assert c.execute("CONFIG", "SET", "notify-keyspace-events", flags) == b"OK"

    def run(self, *args) -> None:
        """One command on both servers; their replies must be the same."""
        (kraw, _), (rraw, _) = (c.call(*args) for c in self.cmds)
        assert kraw == rraw, f"{args!r}\n kvserver: {kraw!r}\n redis:    {rraw!r}"

    def collect(self) -> tuple[list, list]:
        """Every message received since the last collect, on each server."""
        out = []
        for sub, cmd in zip(self.subs, self.cmds, strict=True):
            cmd.execute("PUBLISH", MARKER, "end")
            got = []
            while True:
                _, val = sub.read_reply()
                if val[0] == b"message" and val[1] == MARKER.encode():
                    break
                got.append(tuple(val[1:]))  # (pattern, channel, message)
            out.append(got)
        return out[0], out[1]

    def check(self, *commands) -> list:
        """Run commands (each a tuple) and compare the events they caused."""
        for cmd in commands:
            self.run(*cmd)
        kv, rd = self.collect()
        assert kv == rd, "\n".join(["events differ:", f" kvserver: {kv}", f" redis:    {rd}"])
        return kv

    def close(self) -> None:
        for c in (*self.subs, *self.cmds):
            c.close()


@pytest.fixture
def events(server, real_redis):
    ev = Events(server.port, real_redis)
    yield ev
    ev.config("")
    ev.close()


def _known(cmds):
    """The commands kvserver implements (a family may not exist yet)."""
    return [c for c in cmds if c[0].lower().encode() in TABLE]


# -- every family, with all classes on ----------------------------------------------------

FAMILIES = {
    "strings": [
        ("SET", "s1", "v"), ("SET", "s1", "v2", "XX"), ("SET", "s1", "v3", "NX"),
        ("SET", "s2", "v", "EX", "100"), ("SETNX", "s3", "a"), ("SETNX", "s3", "b"),
        ("SETEX", "s4", "100", "v"), ("PSETEX", "s5", "100000", "v"), ("GETSET", "s1", "n"),
        ("APPEND", "s1", "tail"), ("APPEND", "s6", "new"), ("SETRANGE", "s1", "2", "xx"),
        ("SETRANGE", "s7", "3", "x"), ("SETRANGE", "s7", "0", ""), ("INCR", "n"),
        ("INCRBY", "n", "5"), ("DECR", "n"), ("DECRBY", "n", "2"),
        ("INCRBYFLOAT", "f", "1.5"), ("MSET", "m1", "a", "m2", "b"),
        ("MSETNX", "m3", "a", "m4", "b"), ("MSETNX", "m3", "x", "m5", "y"),
        ("GETDEL", "m1"), ("GETDEL", "nokey"), ("GETEX", "s2", "PERSIST"),
        ("GETEX", "s1", "EX", "100"), ("GETEX", "s1", "PX", "100000"), ("GETEX", "s1"),
        ("SET", "s1", "x", "GET"), ("SET", "s1", "y", "KEEPTTL"),
        ("SET", "s8", "v", "PXAT", "9999999999999"), ("GET", "s1"), ("STRLEN", "s1"),
        ("INCR", "s1"), ("SET", "s1", "v", "EX", "0"), ("SETEX", "s1", "-1", "v"),
        ("SET", "s9", "v", "EXAT", "1"), ("GETEX", "s8", "EXAT", "1"),
    ],
    "generic": [
        ("SET", "a", "1"), ("SET", "b", "2"), ("DEL", "a", "b", "nokey"), ("SET", "a", "1"),
        ("EXPIRE", "a", "100"), ("PEXPIRE", "a", "100000"), ("EXPIREAT", "a", "9999999999"),
        ("PEXPIREAT", "a", "9999999999999"), ("EXPIRE", "a", "100", "GT"),
        ("EXPIRE", "a", "1", "GT"), ("PERSIST", "a"), ("PERSIST", "a"),
        ("EXPIRE", "nokey", "10"), ("EXPIRE", "a", "0"), ("SET", "a", "1"),
        ("PEXPIREAT", "a", "1"), ("SET", "a", "1"), ("RENAME", "a", "b"),
        ("RENAMENX", "b", "c"), ("SET", "d", "1"), ("RENAMENX", "c", "d"), ("RENAME", "c", "c"),
        ("COPY", "c", "e"), ("COPY", "c", "e"), ("COPY", "c", "e", "REPLACE"),
        ("COPY", "c", "e2", "DB", "3"), ("MOVE", "e", "1"), ("MOVE", "d", "1"),
        ("UNLINK", "c", "d"), ("SET", "t", "1"), ("TOUCH", "t"),
        ("RPUSH", "l", "3", "1", "2"), ("SORT", "l", "STORE", "dst"),
        ("SORT", "l", "STORE", "dst"), ("SORT", "emptykey", "STORE", "dst"),
        ("SORT", "emptykey", "STORE", "dst"), ("DUMP", "t"),
    ],
    "lists": [
        ("LPUSH", "l", "a", "b"), ("RPUSH", "l", "c"), ("LPUSHX", "l", "d"),
        ("RPUSHX", "nokey", "x"), ("LINSERT", "l", "BEFORE", "a", "z"),
        ("LINSERT", "l", "BEFORE", "nope", "z"), ("LSET", "l", "0", "q"), ("LPOP", "l"),
        ("RPOP", "l", "2"), ("LTRIM", "l", "0", "0"), ("LREM", "l", "0", "q"),
        ("RPUSH", "l", "a", "b", "c", "d"), ("LMOVE", "l", "l2", "LEFT", "RIGHT"),
        ("LMOVE", "l2", "l2", "LEFT", "RIGHT"), ("RPOPLPUSH", "l", "l2"),
        ("LMPOP", "2", "nokey", "l", "LEFT", "COUNT", "5"), ("BLPOP", "l2", "0"),
        ("BRPOP", "l2", "0"), ("RPUSH", "l", "a"), ("LTRIM", "l", "1", "0"),
        ("RPUSH", "l", "x", "y"), ("BLMOVE", "l", "l3", "RIGHT", "LEFT", "0"),
        ("BLMPOP", "0", "1", "l", "RIGHT"), ("LPOS", "l3", "y"), ("LRANGE", "l3", "0", "-1"),
        ("RPOP", "l3", "0"), ("LPOP", "nokey"),
    ],
    "hashes": [
        ("HSET", "h", "f", "v", "f2", "v2"), ("HSETNX", "h", "f", "x"),
        ("HSETNX", "h", "f3", "x"), ("HMSET", "h", "a", "1"), ("HINCRBY", "h", "n", "5"),
        ("HINCRBYFLOAT", "h", "x", "1.5"), ("HDEL", "h", "f", "nof"), ("HDEL", "h", "nof"),
        ("HDEL", "h", "f2", "f3", "a", "n", "x"), ("HSET", "h", "f", "v"), ("HGET", "h", "f"),
        ("HINCRBY", "h", "f", "1"),
    ],
    "sets": [
        ("SADD", "s", "a", "b"), ("SADD", "s", "a"), ("SREM", "s", "x"), ("SREM", "s", "a"),
        ("SADD", "s", "c", "d"), ("SMOVE", "s", "s2", "c"), ("SMOVE", "s", "s2", "zz"),
        ("SINTERSTORE", "d", "s", "s2"), ("SUNIONSTORE", "d", "s", "s2"),
        ("SDIFFSTORE", "d", "s", "s2"), ("SDIFFSTORE", "d", "nokey"),
        ("SINTERSTORE", "d", "nokey", "s"), ("SREM", "s2", "c"), ("SMOVE", "s", "s", "b"),
        ("SADD", "one", "x"), ("SPOP", "one"), ("SADD", "one", "x"), ("SPOP", "one", "5"),
        ("SPOP", "nokey"), ("SCARD", "s"),
    ],
    "zsets": [
        ("ZADD", "z", "1", "a", "2", "b"), ("ZADD", "z", "1", "a"), ("ZADD", "z", "INCR", "5", "a"),
        ("ZADD", "z", "XX", "3", "nope"), ("ZINCRBY", "z", "1", "b"), ("ZREM", "z", "x"),
        ("ZREM", "z", "a"), ("ZREMRANGEBYSCORE", "z", "0", "1"),
        ("ZADD", "z", "1", "a", "2", "b", "3", "c"), ("ZREMRANGEBYRANK", "z", "0", "0"),
        ("ZREMRANGEBYLEX", "z", "-", "+"), ("ZADD", "z", "1", "a", "2", "b", "3", "c"),
        ("ZPOPMIN", "z"), ("ZPOPMAX", "z", "5"), ("ZADD", "z", "1", "a"), ("ZADD", "z2", "1", "a"),
        ("ZUNIONSTORE", "d", "1", "z"), ("ZINTERSTORE", "d", "2", "z", "z2"),
        ("ZINTERSTORE", "d", "2", "z", "nokey"), ("ZDIFFSTORE", "d", "1", "z"),
        ("ZADD", "d", "1", "x"), ("ZDIFFSTORE", "d", "2", "z", "z2"),
        ("ZRANGESTORE", "d", "z", "0", "-1"), ("ZRANGESTORE", "d", "nokey", "0", "-1"),
        ("ZMPOP", "1", "z", "MIN"), ("BZPOPMIN", "z2", "0"), ("ZADD", "z", "1", "q"),
        ("BZMPOP", "0", "1", "z", "MAX"), ("ZSCORE", "z", "a"),
    ],
    "bitmaps": [
        ("SETBIT", "b", "7", "1"), ("SETBIT", "b", "7", "1"), ("BITOP", "AND", "d", "b", "b"),
        ("BITOP", "OR", "d", "nokey"), ("BITFIELD", "b", "SET", "u8", "0", "255"),
        ("BITFIELD", "b", "GET", "u8", "0"), ("BITFIELD", "b", "INCRBY", "u8", "0", "1"),
        ("BITFIELD", "b2", "INCRBY", "u8", "0", "1"), ("BITFIELD_RO", "b", "GET", "u8", "0"),
        ("GETBIT", "b", "0"),
    ],
    "hyperloglog": [
        ("PFADD", "h", "a", "b"), ("PFADD", "h", "a"), ("PFADD", "h2"), ("PFADD", "h2"),
        ("PFMERGE", "d", "h"), ("PFMERGE", "d2"), ("PFCOUNT", "h"),
    ],
    "geo": [
        ("GEOADD", "g", "13.361389", "38.115556", "Palermo", "15.087269", "37.502669", "Catania"),
        ("GEOADD", "g", "XX", "13.361389", "38.115556", "Palermo"),
        ("GEOSEARCHSTORE", "d", "g", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km"),
        ("GEOSEARCHSTORE", "d", "g", "FROMLONLAT", "15", "37", "BYRADIUS", "1", "m"),
        ("GEORADIUS", "g", "15", "37", "200", "km", "STORE", "d2"),
        ("GEORADIUS", "g", "15", "37", "200", "km", "STOREDIST", "d3"),
        ("GEOPOS", "g", "Palermo"),
    ],
}


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_family_events_like_redis(events, family):
    events.config("KEA")
    events.check(*_known(FAMILIES[family]))


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_family_new_key_events_like_redis(events, family):
    events.config("En")
    got = events.check(*_known(FAMILIES[family]))
    assert all(ch.endswith(b"__:new") for _, ch, _ in got)


def test_events_in_transactions_and_other_dbs(events):
    events.config("KEA")
    events.check(("MULTI",), ("SET", "a", "1"), ("LPUSH", "l", "x"), ("INCR", "a"),
                 ("EXPIRE", "l", "100"), ("EXEC",))
    events.check(("SELECT", "3"), ("SET", "a", "1"), ("DEL", "a"), ("SELECT", "9"))
    events.check(("SET", "a", "1"), ("MOVE", "a", "4"), ("SWAPDB", "9", "4"),
                 ("DEL", "a"), ("SWAPDB", "9", "4"))


def test_class_filters(events):
    cmds = [("SET", "a", "1"), ("LPUSH", "l", "x"), ("SADD", "s", "m"), ("HSET", "h", "f", "v"),
            ("ZADD", "z", "1", "m"), ("DEL", "a", "l", "s", "h", "z"), ("GET", "nokey")]
    for flags in ("K$", "El", "Ks", "Eh", "Kz", "Eg", "KEg$", "A", "K", "E", "", "KEm", "Kn",
                  "KElshzg"):
        events.config(flags)
        events.check(*cmds)
        events.flush()


KEY_MISS_READS = [
    ("GET", "k"), ("MGET", "k", "a", "k2"), ("EXISTS", "k"), ("TYPE", "k"), ("TTL", "k"),
    ("PTTL", "k"), ("STRLEN", "k"), ("GETRANGE", "k", "0", "1"), ("LRANGE", "k", "0", "-1"),
    ("LLEN", "k"), ("LINDEX", "k", "0"), ("HGET", "k", "f"), ("HGETALL", "k"), ("HLEN", "k"),
    ("SMEMBERS", "k"), ("SCARD", "k"), ("SISMEMBER", "k", "m"), ("ZRANGE", "k", "0", "-1"),
    ("ZSCORE", "k", "m"), ("ZCARD", "k"), ("OBJECT", "ENCODING", "k"), ("DUMP", "k"),
    ("GETBIT", "k", "0"), ("BITCOUNT", "k"), ("SUNION", "k", "a"), ("ZUNION", "1", "k"),
    ("SORT", "k"), ("PFCOUNT", "k"), ("GEOPOS", "k", "m"), ("RANDOMKEY",), ("GETDEL", "k"),
    ("INCR", "k"), ("DEL", "k"), ("LPOP", "k"), ("HSTRLEN", "k", "f"), ("COPY", "k", "z"),
    ("EXPIRE", "k", "10"), ("TOUCH", "k"), ("LPOS", "k", "x"), ("SRANDMEMBER", "k"),
    ("ZRANDMEMBER", "k"), ("HRANDFIELD", "k"), ("SMISMEMBER", "k", "a"),
    ("ZMSCORE", "k", "a"), ("LCS", "k", "a"), ("BITPOS", "k", "1"), ("SUBSTR", "k", "0", "1"),
]


# Reads whose handlers look their keys up with db.lookup() (no statistics,
# no key-miss hook) where Redis uses lookupKeyRead: they send no `keymiss`.
KEY_MISS_NOT_SENT = {"MGET", "EXISTS", "TYPE", "TTL", "PTTL", "ZUNION", "ZUNIONSTORE",
                     "ZINTERCARD", "SORT", "SORT_RO", "COPY", "TOUCH", "LCS"}


def test_key_miss_events(events):
    """`m`: the reads that look a missing key up (and only those)."""
    events.config("KEm")
    events.run("SET", "a", "1")
    for cmd in _known(KEY_MISS_READS):
        if cmd[0] in KEY_MISS_NOT_SENT:
            continue
        events.check(cmd)
    for cmd in (("GET", "a"), ("LRANGE", "nokey", "0", "1")):
        events.check(cmd)
    kv = events.check(("HGET", "nokey", "f"))
    assert [ch for _, ch, _ in kv] == [b"__keyspace@9__:nokey", b"__keyevent@9__:keymiss"]


def test_expired_events(events):
    events.config("KEA")
    events.check(("SET", "e1", "v", "PX", "1"), ("SET", "e2", "v", "PX", "1"))
    time.sleep(0.05)
    # Each key goes once, by a lookup or by the active cycle: compare as sets.
    for c in events.cmds:
        c.execute("GET", "e1")
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(c.execute("DBSIZE") for c in events.cmds):
        time.sleep(0.02)
    kv, rd = events.collect()
    assert sorted(kv) == sorted(rd)
    assert sorted(kv) == [(b"__key*__:*", b"__keyevent@9__:expired", b"e1"),
                          (b"__key*__:*", b"__keyevent@9__:expired", b"e2"),
                          (b"__key*__:*", b"__keyspace@9__:e1", b"expired"),
                          (b"__key*__:*", b"__keyspace@9__:e2", b"expired")]


def test_flags_config_like_redis(diff):
    try:
        for flags in ("KEA", "gKE", "$lshzxeKE", "KA", "EA", "AKE", "g$lshzxetdKE", "Kn",
                      "KEAmn", "m", "nm", "", "Ex", "AAK", "KKEE", "tdKE", "x"):
            diff.check("CONFIG", "SET", "notify-keyspace-events", flags)
            diff.check("CONFIG", "GET", "notify-keyspace-events")
        for bad in ("Q", "KEAq", "k", "a", " "):
            diff.check("CONFIG", "SET", "notify-keyspace-events", bad)
            diff.check("CONFIG", "GET", "notify-keyspace-events")
    finally:
        diff.check("CONFIG", "SET", "notify-keyspace-events", "")


def test_subscriber_in_resp3_gets_pushes_before_the_reply(server, real_redis):
    outs = []
    for port in (server.port, real_redis):
        c = RawClient(port=port)
        c.execute("HELLO", "3")
        c.execute("CONFIG", "SET", "notify-keyspace-events", "KEA")
        c.execute("SELECT", "9")
        c.execute("PSUBSCRIBE", "__keyspace@9__:*")
        c.send_raw(encode_command(["SET", "mine", "v"]))
        outs.append([c.read_reply()[0] for _ in range(2)])
        c.execute("CONFIG", "SET", "notify-keyspace-events", "")
        c.close()
    assert outs[0] == outs[1]
    assert outs[0][1] == b"+OK\r\n"


# -- random sequences ----------------------------------------------------------------------

_KEYS = ["a", "b", "c"]
_CMD = st.one_of(
    st.tuples(st.sampled_from(["SET", "APPEND", "SETNX", "GETSET", "LPUSH", "RPUSH", "SADD",
                               "SREM", "LREM0", "HDELF", "ZREMM", "PFADD", "SETRANGE0"]),
              st.sampled_from(_KEYS), st.sampled_from(["1", "x", "yy"])),
    st.tuples(st.sampled_from(["DEL", "INCR", "LPOP", "RPOP", "SPOP", "ZPOPMIN", "PERSIST",
                               "GETDEL", "GET", "EXISTS", "TYPE", "LLEN"]),
              st.sampled_from(_KEYS)),
    st.tuples(st.sampled_from(["RENAME", "COPY", "SMOVEX", "LMOVE", "SUNIONSTORE",
                               "ZUNIONSTORE1", "SORTSTORE"]),
              st.sampled_from(_KEYS), st.sampled_from(_KEYS)),
    st.tuples(st.sampled_from(["EXPIRE", "HSET", "ZADD", "HINCRBY"]), st.sampled_from(_KEYS),
              st.sampled_from(["1", "5", "100"])),
)


def _expand(c: tuple) -> tuple:
    name = c[0]
    if name == "LREM0":
        return ("LREM", c[1], "0", c[2])
    if name == "HDELF":
        return ("HDEL", c[1], c[2])
    if name == "ZREMM":
        return ("ZREM", c[1], c[2])
    if name == "SETRANGE0":
        return ("SETRANGE", c[1], "0", c[2])
    if name == "SMOVEX":
        return ("SMOVE", c[1], c[2], "x")
    if name == "LMOVE":
        return ("LMOVE", c[1], c[2], "LEFT", "RIGHT")
    if name == "ZUNIONSTORE1":
        return ("ZUNIONSTORE", c[1], "1", c[2])
    if name == "SORTSTORE":
        return ("SORT", c[1], "STORE", c[2])
    if name == "EXPIRE":
        return ("EXPIRE", c[1], c[2])
    if name == "HSET":
        return ("HSET", c[1], "f", c[2])
    if name == "HINCRBY":
        return ("HINCRBY", c[1], "f", c[2])
    if name == "ZADD":
        return ("ZADD", c[1], c[2], "m")
    return c


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cmds=st.lists(_CMD, min_size=1, max_size=20), flags=st.sampled_from(["KEA", "KEAn"]))
def test_random_sequences_like_redis(events, cmds, flags):
    events.flush()
    events.config(flags)
    events.check(*[_expand(c) for c in cmds])


def test_resp3_pushes_inside_exec_like_redis(server, real_redis):
    """A RESP3 client's own events during EXEC: Redis writes them inside the
    EXEC array, each before the reply of the command that caused it."""
    outs = []
    for port in (server.port, real_redis):
        c = RawClient(port=port)
        c.execute("HELLO", "3")
        c.execute("SELECT", "9")
        c.execute("CONFIG", "SET", "notify-keyspace-events", "KEA")
        c.execute("SUBSCRIBE", "__keyspace@9__:a")
        for cmd in (("MULTI",), ("SET", "a", "1"), ("PUBLISH", "__keyspace@9__:a", "hi"),
                    ("GET", "a"), ("DEL", "a")):
            c.execute(*cmd)
        c.send_raw(encode_command(["EXEC"]))
        c.send_raw(encode_command(["PING"]))
        raw = b""
        while not raw.endswith(b"+PONG\r\n"):
            raw += c.sock.recv(65536)
        outs.append(raw)
        c.execute("CONFIG", "SET", "notify-keyspace-events", "")
        c.close()
    assert outs[0] == outs[1]
