"""Key access times: OBJECT IDLETIME / FREQ, DEBUG OBJECT's lru fields, RESTORE's
IDLETIME / FREQ, CLIENT NO-TOUCH (kvserver.access, kvserver.keyspace).

Which commands count as an access is compared with redis-server exactly: under
allkeys-lfu with lfu-log-factor 0 and lfu-decay-time 0, every access adds one
to a key's counter, so OBJECT FREQ counts the accesses deterministically.
(Values are kept out of 0..9999: Redis shares those integer objects, and with
them their counter, across keys.)
"""

from __future__ import annotations

import pytest
import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kvserver.testing import KVServer

_LFU_EXACT = (("maxmemory-policy", "allkeys-lfu", "noeviction"),
              ("lfu-log-factor", "0", "10"), ("lfu-decay-time", "0", "1"))


@pytest.fixture
def lfu_diff(diff):
    """diff, with both servers counting every access (see the module docstring)."""
    for name, value, _ in _LFU_EXACT:
        diff.check("CONFIG", "SET", name, value)
    try:
        yield diff
    finally:
        for name, _, default in _LFU_EXACT:
            diff.check("CONFIG", "SET", name, default)


_SETUP = [
    ("SET", "s", "100000"), ("SET", "s2", "hello"), ("RPUSH", "l", "a", "b", "c"),
    ("HSET", "h", "f", "v", "g", "w"), ("SADD", "st", "m1", "m2"),
    ("ZADD", "z", "1", "a", "2", "b"), ("SET", "t", "x", "EX", "1000"),
]
_KEYS = ["s", "s2", "l", "h", "st", "z", "t", "s9", "st2", "l2", "z2", "h2"]

# One command each; what it does to the counters of _KEYS is compared.
_COMMANDS = [c.split() for c in """
GET s|MGET s s2|STRLEN s|APPEND s2 x|INCRBY s 100001|INCRBYFLOAT s 1.5|GETRANGE s2 0 1|SETRANGE s2 1 zz
GETSET s2 q|GETDEL s2|GETEX s EX 100|GETEX t PERSIST|SET s 50000|SET s 50000 NX|SET s 50000 XX
SET s 70000 GET|SETNX s 10001|MSET s 10001 s2 10002|MSETNX s 10001 s9 10002|SETEX s 100 v
BITCOUNT s|SETBIT s 3 1|GETBIT s 3|BITOP AND s9 s s2|LCS s s2|GET l|LLEN s
LLEN l|LRANGE l 0 -1|LINDEX l 0|LPUSH l x|RPOP l|LSET l 0 q|LINSERT l BEFORE b n|LREM l 0 a
LPOS l b|LMOVE l l2 LEFT RIGHT|RPOPLPUSH l l|LMPOP 1 l LEFT|BLPOP l 0.01|SORT l ALPHA STORE l2
HGET h f|HGETALL h|HSET h f x|HDEL h g|HINCRBY h n 1|HRANDFIELD h|HSCAN h 0|COPY h h2
SCARD st|SISMEMBER st m1|SADD st m3|SREM st m1|SMOVE st st2 m1|SMOVE st st m1|SUNIONSTORE st st
SINTERSTORE st2 st|SPOP st 100|SRANDMEMBER st 2|SINTERCARD 1 st
ZSCORE z a|ZRANGE z 0 -1|ZADD z 3 c|ZINCRBY z 1 a|ZRANK z a|ZUNIONSTORE z 1 z|ZRANGESTORE z2 z 0 -1
ZMPOP 1 z MIN|BZPOPMIN z 0.01|ZPOPMAX z|ZINTERCARD 1 z
TYPE s|EXISTS s|TTL t|PTTL t|EXPIRETIME t|EXPIRE s 100|PERSIST t|OBJECT ENCODING s|TOUCH s l s9
DUMP s|RENAME s s9|RENAMENX s s9|RENAME s s2|COPY s s9|MOVE s 1|DEL s9|SCAN 0|KEYS *|RANDOMKEY
DBSIZE|RESTORE s 0 x|SORT l BY nosort GET h->f
""".replace("\n", "|").split("|") if c.strip()]


# Replies that differ by chance, hash order or the clock: only their effect is
# compared. OBJECT ENCODING too: Redis reports "raw" for a string changed in
# place (APPEND, SETRANGE, SETBIT) even when it reads as an integer; kvserver
# derives the encoding from the value alone (a known difference).
_UNCOMPARED = {"HRANDFIELD", "SRANDMEMBER", "RANDOMKEY", "SPOP", "SCAN", "KEYS", "HSCAN",
               "SMEMBERS", "TTL", "PTTL", "EXPIRETIME", "OBJECT"}


def _run(diff, cmd):
    if cmd[0] in _UNCOMPARED:
        diff.both(*cmd)
    else:
        diff.check(*cmd)


def _freqs(client) -> list:
    out = []
    for db in ("0", "1"):
        client.call("SELECT", db)
        out.append([client.call("OBJECT", "FREQ", k)[1] for k in _KEYS])
    client.call("SELECT", "0")
    return out


@pytest.mark.parametrize("cmd", _COMMANDS, ids=" ".join)
def test_which_commands_count_as_an_access(lfu_diff, cmd):
    lfu_diff.flush()
    for c in _SETUP:
        lfu_diff.check(*c)
    _run(lfu_diff, cmd)
    assert _freqs(lfu_diff.kv) == _freqs(lfu_diff.redis), cmd


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(_COMMANDS), min_size=1, max_size=12))
def test_access_counts_over_sequences(lfu_diff, cmds):
    lfu_diff.flush()
    for c in _SETUP:
        lfu_diff.check(*c)
    for cmd in cmds:
        _run(lfu_diff, cmd)
    assert _freqs(lfu_diff.kv) == _freqs(lfu_diff.redis), cmds


def _blocked_then_served(diff, block: tuple, *push: tuple) -> None:
    """The other connection blocks with `block`; `push` serves it (compared)."""
    from tests.rawclient import encode_command

    for side in (diff.other.kv, diff.other.redis):
        side.send_raw(encode_command(block))
    diff.check("PING")  # both servers have parked the other connection by now
    for cmd in push:
        diff.check(*cmd)
    (kraw, _), (rraw, _) = diff.other.kv.read_reply(), diff.other.redis.read_reply()
    assert kraw == rraw, (block, kraw, rraw)


@pytest.mark.parametrize("block, push", [
    (("BLPOP", "l", "0"), [("RPUSH", "l", "a", "b", "c")]),
    (("BLMOVE", "l2", "d", "LEFT", "RIGHT", "0"), [("RPUSH", "l2", "a", "b")]),
    (("BRPOPLPUSH", "l3", "d", "0"), [("RPUSH", "l3", "a", "b")]),
    (("BLMOVE", "l3", "s", "LEFT", "RIGHT", "0"), [("RPUSH", "l3", "a", "b")]),  # WRONGTYPE
    (("BZPOPMAX", "z", "0"), [("ZADD", "z", "1", "a", "2", "b")]),
    (("BZMPOP", "0", "1", "z2", "MIN"), [("ZADD", "z2", "1", "a", "2", "b")]),
    (("BLPOP", "l", "0"), [("MULTI",), ("RPUSH", "l", "x", "y"), ("EXEC",)]),
    (("BLPOP", "l", "0"), [("RPUSH", "src", "x", "y"), ("RENAME", "src", "l")]),
], ids=lambda v: " ".join(v) if isinstance(v[0], str) else " / ".join(c[0] for c in v))
def test_serving_a_blocked_client_counts_as_an_access(lfu_diff, block, push):
    """Redis looks a ready key up once per round before serving its clients,
    and a BLMOVE's destination once per client served."""
    lfu_diff.flush()
    for c in (("RPUSH", "d", "x"), ("SET", "s", "str")):
        lfu_diff.check(*c)
    _blocked_then_served(lfu_diff, block, *push)
    keys = ["l", "l2", "l3", "d", "s", "z", "z2"]
    for k in keys:
        lfu_diff.check("OBJECT", "FREQ", k)


def test_object_refcount_follows_the_encoding(diff):
    """Only a string encoded from its content can be a shared integer; an
    LRU/LFU policy stops the sharing only together with a memory limit."""
    for seq in ([("SET", "k", "12"), ("APPEND", "k", "3")], [("SETRANGE", "k", "0", "12")],
                [("INCRBYFLOAT", "k", "1")], [("SET", "k", "1"), ("SETBIT", "k", "7", "1")],
                [("SET", "k", "12")], [("INCR", "k")], [("SET", "k", "12345")]):
        diff.check("DEL", "k")
        for cmd in seq:
            diff.check(*cmd)
        diff.check("OBJECT", "REFCOUNT", "k")
    try:
        diff.check("CONFIG", "SET", "maxmemory-policy", "allkeys-lfu")
        diff.check("SET", "k", "100")
        diff.check("OBJECT", "REFCOUNT", "k")
        diff.check("CONFIG", "SET", "maxmemory", "100mb")
        diff.check("SET", "k", "100")
        diff.check("OBJECT", "REFCOUNT", "k")
    finally:
        diff.check("CONFIG", "SET", "maxmemory", "0")
        diff.check("CONFIG", "SET", "maxmemory-policy", "noeviction")


def test_introspection_lookups_count_keyspace_statistics(diff):
    """OBJECT and SCAN's TYPE filter look keys up without touching them, but
    count hits and misses; the Z*STORE sources are read like ZUNION's."""
    for cmd in (("SET", "s", "x"), ("RPUSH", "l", "a"), ("ZADD", "z", "1", "m"),
                ("CONFIG", "RESETSTAT"), ("OBJECT", "ENCODING", "s"), ("OBJECT", "ENCODING", "no"),
                ("OBJECT", "REFCOUNT", "l"), ("OBJECT", "FREQ", "s"), ("OBJECT", "IDLETIME", "no"),
                ("SCAN", "0", "TYPE", "list"), ("ZUNIONSTORE", "d", "2", "z", "nz"),
                ("ZINTERSTORE", "d", "1", "z"), ("ZDIFFSTORE", "d", "1", "z")):
        diff.check(*cmd)
    (_, kv), (_, rd) = diff.both("INFO", "stats")
    pick = [line for line in kv.split(b"\r\n") if line.startswith(b"keyspace_")]
    assert pick == [line for line in rd.split(b"\r\n") if line.startswith(b"keyspace_")]


def test_lfu_counter_starts_at_five_and_first_access_counts(diff):
    try:
        diff.check("CONFIG", "SET", "maxmemory-policy", "allkeys-lfu")
        diff.check("CONFIG", "SET", "lfu-decay-time", "0")  # a minute may turn meanwhile
        diff.check("SET", "k", "some value")
        assert diff.check("OBJECT", "FREQ", "k") == 5
        diff.check("GET", "k")  # from 5, an access always counts
        assert diff.check("OBJECT", "FREQ", "k") == 6
        assert diff.check("OBJECT", "FREQ", "missing") is None
        diff.check_error("OBJECT", "IDLETIME", "k")
    finally:
        diff.check("CONFIG", "SET", "maxmemory-policy", "noeviction")
        diff.check("CONFIG", "SET", "lfu-decay-time", "1")
    diff.check_error("OBJECT", "FREQ", "k")


def test_restore_sets_idle_time_and_frequency(diff):
    diff.check("SET", "k", "v")
    payload = diff.check("DUMP", "k")
    diff.check("DEL", "k")
    try:
        diff.check("CONFIG", "SET", "maxmemory-policy", "allkeys-lru")
        diff.check("RESTORE", "k", "0", payload, "IDLETIME", "1000")
        (_, kv), (_, rd) = diff.both("OBJECT", "IDLETIME", "k")
        assert 1000 <= kv <= 1002 and 1000 <= rd <= 1002
        diff.check("CONFIG", "SET", "maxmemory-policy", "allkeys-lfu")
        diff.check("RESTORE", "k", "0", payload, "FREQ", "100", "REPLACE")
        assert diff.check("OBJECT", "FREQ", "k") == 100
        # Idle times past the clock's start: Redis 7.0 adds one turn of the
        # 24-bit clock and keeps the low bits (2**40 s reads back as ~1 s).
        diff.check("CONFIG", "SET", "maxmemory-policy", "allkeys-lru")
        for idle in (1 << 40, 1 << 23, 20_000_000, 2**63 - 1, 2**62 + 12345):
            diff.check("RESTORE", "k", "0", payload, "IDLETIME", str(idle), "REPLACE")
            (_, kv), (_, rd) = diff.both("OBJECT", "IDLETIME", "k")
            assert abs(kv - rd) <= 2, (idle, kv, rd)
    finally:
        diff.check("CONFIG", "SET", "maxmemory-policy", "noeviction")


# -- the clock, moved by the test double ---------------------------------------------


def _idle(r, key):
    return r.object("idletime", key)


@pytest.fixture
def own():
    """A server of the test's own, whose clock and config the test changes
    (the shared one's clock is read by other tests, MONITOR's timestamps for
    one), under allkeys-lru, where access times are kept."""
    with KVServer() as srv:
        c = srv.client()
        c.config_set("maxmemory-policy", "allkeys-lru")
        yield srv, c
        c.close()


def _align(server, unit_ms: int) -> None:
    """Move the server clock just past the start of a second (or minute), so
    that the real time a test takes cannot turn the LRU (LFU) clock."""
    ms = server.server.wall_ms() % unit_ms
    server.advance_time((unit_ms - ms + 5) / 1000)


def test_access_times_are_kept_only_under_an_lru_or_lfu_policy(own):
    """They cost ~40 bytes a key (Redis keeps them in its object header for
    free): under the other policies there is no table and IDLETIME says so."""
    server, r = own
    dbs = server.server.dbs
    _align(server, 1000)
    r.set("old", "v")
    r.config_set("maxmemory-policy", "noeviction")
    assert all(not db.access for db in dbs)
    r.set("k", "v"), r.get("k"), r.get("old"), r.rpush("l", "a")
    assert all(not db.access for db in dbs)
    with pytest.raises(redis.ResponseError, match="only under an LRU maxmemory-policy"):
        r.object("idletime", "k")
    assert r.debug_object("k")["lru_seconds_idle"] == 0
    server.advance_time(20)
    r.config_set("maxmemory-policy", "volatile-lru")
    assert _idle(r, "k") == 0  # untracked keys count as accessed at the switch
    server.advance_time(3)
    r.get("old")
    assert _idle(r, "k") == 3 and _idle(r, "old") == 0
    r.config_set("maxmemory-policy", "allkeys-random")
    assert all(not db.access for db in dbs)


def test_idle_time_grows_and_an_access_resets_it(own):
    server, r = own
    _align(server, 1000)
    r.set("k", "v")
    r.rpush("l", "a")
    assert _idle(r, "k") == 0
    server.advance_time(100)
    assert _idle(r, "k") == 100
    r.get("k")
    assert _idle(r, "k") == 0 and _idle(r, "l") == 100
    server.advance_time(7)
    r.type("l"), r.exists("l"), r.ttl("l"), r.object("encoding", "l")
    assert _idle(r, "l") == 107  # LOOKUP_NOTOUCH commands
    r.lrange("l", 0, -1)
    assert _idle(r, "l") == 0
    server.advance_time(5)
    r.touch("k", "missing")
    assert _idle(r, "k") == 0 and _idle(r, "l") == 5
    fields = r.debug_object("l")
    assert fields["lru_seconds_idle"] == 5


def test_rename_and_move_carry_the_access_time(own):
    server, r = own
    r.config_set("maxmemory-policy", "allkeys-lfu")
    r.config_set("lfu-log-factor", 0)
    r.config_set("lfu-decay-time", 0)
    r.set("k", "v")
    for _ in range(4):
        r.get("k")
    assert r.object("freq", "k") == 9
    r.rename("k", "k2")
    assert r.object("freq", "k2") == 10
    r.move("k2", 1)
    r.execute_command("SELECT", 1)
    assert r.object("freq", "k2") == 11
    r.execute_command("SELECT", 0)


def test_lfu_counter_decays_by_the_minute(own):
    server, r = own
    _align(server, 60_000)
    r.config_set("maxmemory-policy", "allkeys-lfu")
    r.config_set("lfu-log-factor", 0)
    r.set("k", "v")
    for _ in range(20):
        r.get("k")
    assert r.object("freq", "k") == 25
    server.advance_time(5 * 60)
    assert r.object("freq", "k") == 20  # one per lfu-decay-time (1) minute
    r.config_set("lfu-decay-time", 2)
    assert r.object("freq", "k") == 23
    r.config_set("lfu-decay-time", 0)
    assert r.object("freq", "k") == 25  # no decay
    r.config_set("lfu-decay-time", 1)
    server.advance_time(60 * 60)
    assert r.object("freq", "k") == 0
    r.get("k")  # the access stores the decayed counter, plus one
    assert r.object("freq", "k") == 1


def test_lfu_counter_grows_logarithmically(own):
    server, r = own
    _align(server, 60_000)
    r.config_set("maxmemory-policy", "allkeys-lfu")
    r.set("k", "v")
    for _ in range(1000):
        r.get("k")
    # lfu-log-factor 10: about 18 after 1k hits (Redis's table in redis.conf)
    assert 12 <= r.object("freq", "k") <= 25


def test_no_touch_client_leaves_access_times(own):
    server, r = own
    """CLIENT NO-TOUCH (Redis 7.2): reads and writes of existing keys leave
    their access time; TOUCH still touches; new values are stamped."""
    _align(server, 1000)
    r.set("k", "v")
    r.rpush("l", "a")
    server.advance_time(50)
    quiet = server.client()
    try:
        quiet.client_no_touch("ON")
        quiet.get("k"), quiet.rpush("l", "b"), quiet.lrange("l", 0, -1)
        with quiet.pipeline() as p:  # through MULTI/EXEC too
            p.get("k")
            p.execute()
        assert _idle(r, "k") == 50 and _idle(r, "l") == 50
        quiet.touch("l")
        assert _idle(r, "l") == 0
        server.advance_time(2)
        with quiet.pipeline() as p:  # TOUCH touches inside EXEC too (7.2)
            p.touch("l")
            p.get("k")
            p.execute()
        assert _idle(r, "l") == 0 and _idle(r, "k") == 52
        quiet.set("k", "new")  # a new value is a new object in Redis: stamped
        assert _idle(r, "k") == 0
        quiet.client_no_touch("OFF")
        server.advance_time(3)
        quiet.get("k")
        assert _idle(r, "k") == 0
    finally:
        quiet.close()


def test_access_table_follows_the_keys(own):
    server, r = own
    """Every key has one access entry and no deleted key keeps one."""
    r.set("a", "1")
    r.set("b", "2", px=100)
    r.rpush("l", "x")
    r.rename("a", "a2")
    r.move("l", 3)
    r.copy("a2", "a3")
    r.delete("a3")
    r.lpop("l")  # in db 0 nothing: l moved
    server.advance_time(1)
    r.get("b")  # expired on access
    r.swapdb(0, 3)
    r.set("c", "3", ex=10)
    server.advance_time(11)
    server.call_in_loop(server.server.active_expire_cycle)
    for db in server.server.dbs:
        assert set(db.access) == set(db.data), db.id
    r.flushall()
    assert all(not db.access for db in server.server.dbs)


_MUTATIONS = st.lists(st.sampled_from([
    ("SET", "k1", "v"), ("SET", "k2", "v", "PX", "5"), ("DEL", "k1"), ("UNLINK", "k2"),
    ("RPUSH", "l", "x"), ("LPOP", "l"), ("RENAME", "k1", "k3"), ("RENAME", "k3", "k1"),
    ("MOVE", "k1", "2"), ("COPY", "k1", "k4"), ("SWAPDB", "0", "2"), ("FLUSHDB",),
    ("GETDEL", "k4"), ("SADD", "s", "a"), ("SPOP", "s"), ("EXPIRE", "k1", "0"),
    ("HSET", "h", "f", "v"), ("HDEL", "h", "f"), ("INCR", "n"), ("SETRANGE", "k4", "2", "x"),
    ("ZADD", "z", "1", "a"), ("ZPOPMIN", "z"), ("DEBUG", "SLEEP", "0"), ("PFADD", "p", "a"),
]), max_size=30)


@settings(max_examples=80, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(_MUTATIONS, st.integers(0, 20))
def test_access_table_never_leaks(own, cmds, wait_ms):
    server, r = own
    r.flushall()
    for cmd in cmds:
        try:
            r.execute_command(*cmd)
        except redis.ResponseError:
            pass  # WRONGTYPE, no such key: the table must still follow the keys
    server.advance_time(wait_ms / 1000)
    server.call_in_loop(server.server.active_expire_cycle)
    for db in server.server.dbs:
        assert set(db.access) == set(db.data), (db.id, cmds)


def test_a_wrongtype_lookup_counts_as_a_hit(diff):
    """Redis looks the key up (a hit, and an access) before it checks the type."""
    diff.check("SET", "s", "x")
    diff.check("RPUSH", "l", "a")
    diff.check("CONFIG", "RESETSTAT")
    for cmd in (("LRANGE", "s", "0", "-1"), ("GET", "l"), ("HGET", "s", "f"), ("SMEMBERS", "l"),
                ("ZSCORE", "s", "m"), ("LPUSH", "s", "x"), ("APPEND", "l", "x"),
                ("STRLEN", "l"), ("TYPE", "s"), ("EXISTS", "s"), ("TTL", "s"), ("GET", "nokey"),
                ("SUNIONSTORE", "d", "s"), ("SORT", "s")):
        diff.check(*cmd)
    (_, kv), (_, rd) = diff.both("INFO", "stats")
    pick = [line for line in kv.split(b"\r\n") if line.startswith(b"keyspace_")]
    assert pick == [line for line in rd.split(b"\r\n") if line.startswith(b"keyspace_")]
    assert len(pick) == 2 and pick[1] == b"keyspace_misses:1"  # GET nokey; the rest hit
