"""DEBUG: permission, the digest (identical to Redis's), OBJECT, PROTOCOL, POPULATE,
and the test-support subcommands."""

from __future__ import annotations

import re
import time
from types import SimpleNamespace

import pytest
import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kvserver.commands.debug import NOT_ALLOWED, debug_allowed
from kvserver.table import TABLE
from kvserver.testing import KVServer
from tests.rawclient import RawClient

# -- permission ----------------------------------------------------------------------

def test_debug_refused_unless_enabled():
    with KVServer(enable_debug_command="no") as srv:
        c = RawClient(port=srv.port)
        try:
            assert c.call("DEBUG", "HELP")[0] == b"-%s\r\n" % NOT_ALLOWED.encode()
            # The arity check comes first, as in Redis.
            assert c.call("DEBUG")[0] == b"-ERR wrong number of arguments for 'debug' command\r\n"
        finally:
            c.close()


def test_debug_local_allows_loopback():
    with KVServer(enable_debug_command="local") as srv:
        c = RawClient(port=srv.port)
        try:
            assert c.call("DEBUG", "SLEEP", "0")[0] == b"+OK\r\n"
        finally:
            c.close()


@pytest.mark.parametrize("mode,addr,unix,allowed", [
    ("yes", "10.1.2.3:5000", False, True),
    ("no", "127.0.0.1:5000", False, False),
    ("local", "127.0.0.1:5000", False, True),
    ("local", "::1:5000", False, True),
    ("local", "127.0.0.2:5000", False, False),  # Redis checks 127.0.0.1 exactly
    ("local", "10.1.2.3:5000", False, False),
    ("local", "/tmp/kv.sock:0", True, True),
])
def test_debug_allowed(mode, addr, unix, allowed):
    from kvserver.connection import Client

    c = SimpleNamespace(server=SimpleNamespace(config=SimpleNamespace(enable_debug_command=mode)),
                        addr=addr, is_unix=unix, is_internal=False)
    c.is_local = lambda: Client.is_local(c)
    assert debug_allowed(c) is allowed


def test_not_allowed_text_is_redis_text():
    assert NOT_ALLOWED == (
        'ERR DEBUG command not allowed. If the enable-debug-command option is set to "local", '
        "you can run it from a local connection, otherwise you need to set this option in the "
        "configuration file, and then restart the server.")


# -- errors, help --------------------------------------------------------------------------

def test_subcommand_errors_differential(diff):
    for args in (("DEBUG",), ("DEBUG", "foo"), ("DEBUG", "sleep"), ("DEBUG", "help", "x"),
                 ("DEBUG", "Protocol", "x", "y"), ("DEBUG", "protocol"), ("DEBUG", "object"),
                 ("DEBUG", "digest", "x"), ("DEBUG", "populate"),
                 ("DEBUG", "populate", "1", "a", "1", "2"), ("DEBUG", "log"),
                 ("DEBUG", "set-active-expire"), ("DEBUG", "change-repl-id", "x")):
        diff.check_error(*args)


def test_help(r):
    lines = r.execute_command("DEBUG", "HELP")
    assert lines[0] == b"DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    assert lines[-2:] == [b"HELP", b"    Prints this help."]
    listed = {line.split()[0].lower() for line in lines[1:] if not line.startswith(b" ")}
    for sub in (b"advance-time", b"pause-cron", b"digest", b"digest-value", b"object", b"populate",
                b"protocol", b"sleep", b"set-active-expire", b"log", b"error",
                b"change-repl-id", b"quicklist-packed-threshold", b"stringmatch-test"):
        assert sub in listed, sub


# -- DIGEST ----------------------------------------------------------------------------------

def test_digest_empty_and_simple_differential(diff):
    diff.check("DEBUG", "DIGEST")
    assert diff.kv.execute("DEBUG", "DIGEST") == b"0" * 40
    diff.check("SET", "a", "1")
    diff.check("DEBUG", "DIGEST")
    diff.check("DEBUG", "DIGEST-VALUE")
    diff.check("DEBUG", "DIGEST-VALUE", "a", "nokey")
    diff.check("EXPIRE", "a", "100")
    diff.check("DEBUG", "DIGEST")  # a TTL changes the digest
    diff.check("SELECT", "3")
    diff.check("SET", "a", "1")
    diff.check("DEBUG", "DIGEST")  # the database index too
    diff.check("SELECT", "0")


_KEYS = st.sampled_from(["k1", "k2", "k3", "k4"])
_VALS = st.sampled_from(["", "a", "b", "1", "2", "-7", "3.5", "1000000", "x" * 70, "a b"])
_SCORES = st.sampled_from(["0", "1", "-1", "1.5", "-inf", "inf", "1e300", "0.1"])


_COMMANDS = [
    ("SET", _KEYS, _VALS), ("DEL", _KEYS), ("EXPIRE", _KEYS, st.just("1000")),
    ("PERSIST", _KEYS), ("APPEND", _KEYS, _VALS), ("RPUSH", _KEYS, _VALS, _VALS),
    ("LPUSH", _KEYS, _VALS), ("SADD", _KEYS, _VALS, _VALS), ("SREM", _KEYS, _VALS),
    ("HSET", _KEYS, _VALS, _VALS), ("HDEL", _KEYS, _VALS), ("ZADD", _KEYS, _SCORES, _VALS),
    ("ZREM", _KEYS, _VALS), ("SELECT", st.sampled_from(["0", "1"])),
]
_STRATEGY = st.lists(st.one_of([st.tuples(st.just(name), *args)
                                for name, *args in _COMMANDS]), min_size=3, max_size=30)


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cmds=_STRATEGY)
def test_digest_matches_redis(diff, cmds):
    """Random datasets of every type: the same digest as Redis, key by key too."""
    diff.flush()
    for cmd in cmds:
        if cmd[0].lower().encode() in TABLE:
            diff.check(*cmd)
    diff.check("SELECT", "0")
    diff.check("DEBUG", "DIGEST")
    diff.check("DEBUG", "DIGEST-VALUE", "k1", "k2", "k3", "k4")


def test_digest_of_big_aggregates_differential(diff):
    diff.check("RPUSH", "list", *[str(i) for i in range(500)])
    diff.check("SADD", "set", *[f"m{i}" for i in range(600)])  # a hash table, not an intset
    diff.check("SADD", "ints", *[str(i * 7) for i in range(300)])
    diff.check("HSET", "hash", *[x for i in range(200) for x in (f"f{i}", "v" * (i % 80))])
    args = [x for i in range(200) for x in (str(i / 3), f"z{i}")]
    diff.check("ZADD", "zset", *args)
    diff.check("DEBUG", "DIGEST")
    diff.check("DEBUG", "DIGEST-VALUE", "list", "set", "ints", "hash", "zset")


# -- OBJECT ----------------------------------------------------------------------------------

_OBJ = re.compile(rb"\+Value at:0x[0-9a-f]+ refcount:(\d+) encoding:(\S+) serializedlength:(\d+) "
                  rb"lru:(\d+) lru_seconds_idle:(\d+)(.*)\r\n")


def _object_fields(raw: bytes):
    m = _OBJ.fullmatch(raw)
    assert m, raw
    refcount, enc, length, _lru, _idle, extra = m.groups()
    return refcount, enc, length, extra


def test_object_differential(diff):
    """Encoding, refcount, the RDB length (short values: no LZF) and the
    quicklist figures are Redis's; the address and the LRU clock differ."""
    diff.check("SET", "int", "1")
    diff.check("SET", "bigint", "123456789012")
    diff.check("SET", "str", "hello")
    diff.check("SET", "long", "hello world, this string is longer than 44 bytes")
    diff.check("RPUSH", "list", "a", "b", "300", "-5")
    diff.check("RPUSH", "list2", *[str(i) for i in range(300)])
    diff.check("HSET", "hash", "f", "v", "g", "1")
    diff.check("ZADD", "zset", "1.5", "m", "-inf", "n", "3", "o")
    diff.check("SADD", "intset", "1", "2", "70000")
    diff.check("SADD", "set", "a", "b")
    for key in ("int", "bigint", "str", "long", "list", "list2", "hash", "zset", "intset", "set"):
        (kraw, _), (rraw, _) = diff.both("DEBUG", "OBJECT", key)
        assert _object_fields(kraw) == _object_fields(rraw), key
    diff.check_error("DEBUG", "OBJECT", "nokey")


def test_object_shows_a_key_whose_ttl_passed(server, r):
    server.call_in_loop(setattr, server.server, "active_expire_enabled", False)
    try:
        r.set("k", "v", px=10)
        server.advance_time(1)
        assert r.execute_command("DEBUG", "OBJECT", "k").startswith(b"Value at:")
        assert r.execute_command("DEBUG", "DIGEST-VALUE", "k")[0] != b"0" * 40
        assert r.get("k") is None
        with pytest.raises(redis.ResponseError, match="^no such key$"):
            r.execute_command("DEBUG", "OBJECT", "k")
    finally:
        server.call_in_loop(setattr, server.server, "active_expire_enabled", True)


def test_object_address_stable_for_aggregates(r):
    r.rpush("l", "a")
    first = r.execute_command("DEBUG", "OBJECT", "l").split()[1]
    r.rpush("l", "b")
    assert r.execute_command("DEBUG", "OBJECT", "l").split()[1] == first


# -- PROTOCOL --------------------------------------------------------------------------------

_TYPES = ("string", "integer", "double", "bignum", "null", "array", "set", "map", "verbatim",
          "true", "false", "attrib", "push", "nosuch")


@pytest.mark.parametrize("resp3", [False, True])
def test_protocol_differential(diff, diff3, resp3):
    d = diff3 if resp3 else diff
    for t in _TYPES:
        if resp3 and t in ("attrib", "push"):
            # Two replies on the wire: the attribute/push, then a real reply.
            kv = d.kv.call("DEBUG", "PROTOCOL", t)[0] + d.kv.read_reply()[0]
            rd = d.redis.call("DEBUG", "PROTOCOL", t)[0] + d.redis.read_reply()[0]
            assert kv == rd, t
        else:
            d.check("DEBUG", "PROTOCOL", t)


# -- POPULATE, SLEEP, LOG, ERROR, ... --------------------------------------------------------

def test_populate_differential(diff):
    diff.check("SET", "key:1", "mine")
    diff.check("DEBUG", "POPULATE", "3")
    diff.check("MGET", "key:0", "key:1", "key:2", "key:3")  # existing keys are kept
    diff.check("DEBUG", "POPULATE", "2", "pre", "10")
    diff.check("GET", "pre:0")
    diff.check("DEBUG", "POPULATE", "2", "tiny", "3")
    diff.check("GET", "tiny:1")
    diff.check("DEBUG", "POPULATE", "2", "z", "0")
    diff.check("GET", "z:1")
    diff.check("DBSIZE")
    for bad in (("-1",), ("x",), ("1", "a", "b"), ("1", "a", "-1")):
        diff.check_error("DEBUG", "POPULATE", *bad)


def test_populate_is_not_propagated(server, r):
    seen = []
    srv = server.server
    server.call_in_loop(srv.propagation_consumers.append, lambda db, argv: seen.append(argv))
    try:
        r.execute_command("DEBUG", "POPULATE", "10")
    finally:
        server.call_in_loop(srv.propagation_consumers.pop)
    assert r.dbsize() == 10
    assert seen == []


def test_misc_subcommands_differential(diff):
    diff.check("DEBUG", "SLEEP", "0")
    diff.check("DEBUG", "SLEEP", "abc")
    diff.check("DEBUG", "LOG", "hello from the tests")
    diff.check("DEBUG", "ERROR", "CUSTOM some text")
    diff.check("DEBUG", "ERROR", "")
    for arg in ("0", "4gb", "1k", "x", "5gb", "1mb", "-1"):
        diff.check("DEBUG", "QUICKLIST-PACKED-THRESHOLD", arg)


def test_stringmatch_test(r):
    # Redis's own fuzz run takes seconds, so this one is not sent to it.
    assert r.execute_command("DEBUG", "STRINGMATCH-TEST") == \
        b"Apparently Redis did not crash: test passed"


def test_set_active_expire(server, r):
    try:
        assert r.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "0") == b"OK"
        assert server.server.active_expire_enabled is False
        r.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "1")
        assert server.server.active_expire_enabled is True
    finally:
        server.call_in_loop(setattr, server.server, "active_expire_enabled", True)


def test_pause_cron(server, r):
    """While the cron is paused, keys whose TTL passed are not reclaimed."""
    try:
        assert r.execute_command("DEBUG", "PAUSE-CRON", "1") == b"OK"
        assert server.server.cron_paused is True
        r.set("k", "v", px=1)
        loops = server.server.cronloops
        time.sleep(0.3)  # several cron periods at hz 10
        assert server.server.cronloops == loops
        assert r.dbsize() == 1
    finally:
        r.execute_command("DEBUG", "PAUSE-CRON", "0")
    assert server.server.cron_paused is False


def test_advance_time(server, r):
    r.set("k", "v", ex=10)
    assert r.execute_command("DEBUG", "ADVANCE-TIME", "9") == b"OK"
    assert r.get("k") == b"v"
    r.execute_command("DEBUG", "ADVANCE-TIME", "1.5")
    assert r.get("k") is None
    with pytest.raises(redis.ResponseError, match="not a valid float"):
        r.execute_command("DEBUG", "ADVANCE-TIME", "x")
    with pytest.raises(redis.ResponseError, match="forward"):
        r.execute_command("DEBUG", "ADVANCE-TIME", "-1")


def test_advance_time_in_a_subprocess_server():
    with KVServer(subprocess=True) as srv:
        r = srv.client()
        r.set("k", "v", ex=100)
        srv.advance_time(101)
        assert r.get("k") is None
        r.close()


def test_change_repl_id(server, r):
    before = r.info("replication")["master_replid"]
    assert r.execute_command("DEBUG", "CHANGE-REPL-ID") == b"OK"
    after = r.info("replication")
    assert after["master_replid"] != before
    assert re.fullmatch(r"[0-9a-f]{40}", after["master_replid"])
    c = RawClient(port=server.port)
    try:
        text = c.execute("INFO", "replication")
    finally:
        c.close()
    assert b"\r\nmaster_replid2:" + b"0" * 40 + b"\r\n" in text


def test_debug_inside_multi(r):
    p = r.pipeline(transaction=True)
    p.execute_command("DEBUG", "SLEEP", "0")
    p.execute_command("DEBUG", "DIGEST")
    assert p.execute() == [b"OK", b"0" * 40]


# -- DEBUG RELOAD ----------------------------------------------------------------------


def test_reload_gives_back_what_a_reload_of_redis_gives(r, real_redis):
    from tests.test_dump import content, fill

    rr = redis.Redis(port=real_redis)
    try:
        for c in (r, rr):
            c.flushall()
            keys = fill(c)
            c.set("a", "12")
            c.append("a", "3")  # raw in memory; a load encodes it again (int)
            c.set("t", "x", px=100_000)
            c.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", 0)  # "gone" stays held
            c.set("gone", "x", px=1)
            c.execute_command("SELECT", 5)
            c.set("in5", "v")
            c.execute_command("SELECT", 0)
        keys += ["a", "t"]
        time.sleep(0.005)
        # "gone" expired but is still held: the digest counts it, the reload drops it
        with_gone = r.execute_command("DEBUG", "DIGEST")
        for c in (r, rr):
            c.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", 1)
        assert r.execute_command("DEBUG", "RELOAD") == rr.execute_command("DEBUG", "RELOAD")
        for k in keys:
            assert content(r, k) == content(rr, k), k
            assert r.object("encoding", k) == rr.object("encoding", k), k
        assert 0 < r.pttl("t") <= 100_000 and 0 < rr.pttl("t") <= 100_000
        assert not r.exists("gone") and not rr.exists("gone")
        assert r.dbsize() == rr.dbsize() == len(keys)
        r.execute_command("SELECT", 5)
        assert r.get("in5") == b"v"
        r.execute_command("SELECT", 0)
        after = r.execute_command("DEBUG", "DIGEST")
        assert after != with_gone
        r.set("gone", "x", px=1)
        assert r.execute_command("DEBUG", "DIGEST") == with_gone
        for opts in (("MERGE",), ("MERGE", "NOFLUSH"), ("merge", "noflush")):
            assert r.execute_command("DEBUG", "RELOAD", *opts) == b"OK"
            assert r.dbsize() == len(keys)
        with pytest.raises(redis.ResponseError) as kv_err:
            r.execute_command("DEBUG", "RELOAD", "FOO")
        with pytest.raises(redis.ResponseError) as rd_err:
            rr.execute_command("DEBUG", "RELOAD", "FOO")
        assert str(kv_err.value) == str(rd_err.value)
    finally:
        for c in (r, rr):
            c.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", 1)
        rr.flushall()
        rr.close()


def test_reload_keeps_access_times_as_an_rdb_does():
    with KVServer() as own:
        c = own.client()
        c.config_set("maxmemory-policy", "allkeys-lru")
        c.set("old", "v")
        own.advance_time(100)
        c.set("new", "v")
        c.execute_command("DEBUG", "RELOAD")
        assert c.object("idletime", "old") >= 100 and c.object("idletime", "new") < 2
        c.config_set("maxmemory-policy", "allkeys-lfu")
        c.config_set("lfu-log-factor", 0)
        c.config_set("lfu-decay-time", 0)
        c.set("hot", "v")
        for _ in range(10):
            c.get("hot")
        c.execute_command("DEBUG", "RELOAD")
        assert c.object("freq", "hot") == 15


def test_reload_without_an_rdb_file(server, r):
    """kvserver writes no RDB file: NOSAVE finds none to load, and NOFLUSH
    without MERGE, where Redis stops on the duplicated keys, is an error."""
    r.set("k", "v")
    for opts in (("NOSAVE",), ("NOFLUSH",), ("NOSAVE", "NOFLUSH", "MERGE")):
        with pytest.raises(redis.ResponseError, match="^Error trying to load the RDB dump$"):
            r.execute_command("DEBUG", "RELOAD", *opts)
        assert r.get("k") == b"v"
