"""Sorted set commands: the type, integration through redis-py, blocking pops,
differential tests against redis-server (error texts and score formatting
included), random command sequences."""

from __future__ import annotations

import math
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kvserver.commands.zsets import parse_score, strtod
from kvserver.errors import CommandError
from kvserver.types.zset import ZSet
from tests import test_sets as _sets
from tests.rawclient import RawClient, encode_command

# Shared with the set tests: fixtures and the script runner.
set_config = _sets.set_config
run_script = _sets.run_script


# -- parsing and the type ----------------------------------------------------------------

def test_strtod_like_c():
    assert strtod(b"") == 0.0  # strtod converts nothing and stops at the end
    assert strtod(b" 1.5") == 1.5
    assert strtod(b"1.5 ") is None
    assert strtod(b"0x10") == 16.0
    assert strtod(b"-0x1p-2") == -0.25
    assert strtod(b"INF") == math.inf and strtod(b"-Infinity") == -math.inf
    assert strtod(b"nan") is None
    assert strtod(b"1e400") == math.inf and strtod(b"1e400", erange_ok=False) is None
    assert strtod(b"1e-400") == 0.0 and strtod(b"1e-400", erange_ok=False) is None
    assert strtod(b"1e-310", erange_ok=False) == 1e-310  # a denormal is a result
    for bad in (b".", b"e5", b"1e", b"0x", b"1_0", b"--1", b" "):
        assert strtod(bad) is None, bad


def test_parse_score_like_string2d():
    assert parse_score(b"1") == 1.0
    assert parse_score(b"-0") == 0.0 and math.copysign(1, parse_score(b"-0")) < 0
    assert parse_score(b"+inf") == math.inf
    for bad in (b"", b" 1", b"1 ", b"nan", b"1e400", b"abc", b"1_000"):
        with pytest.raises(CommandError):
            parse_score(bad)


@given(st.lists(st.tuples(st.sampled_from(["add", "del", "pop"]),
                          st.sampled_from([b"a", b"b", b"c", b"d", b"e"]),
                          st.sampled_from([-math.inf, -1.5, 0.0, 1.0, 2.0, math.inf])),
                max_size=100))
def test_zset_type_stays_consistent(ops):
    z = ZSet(False)
    model: dict[bytes, float] = {}
    for op, m, s in ops:
        if op == "add":
            if m in z.dict:
                z.update(m, z.dict[m], s)
            else:
                z.insert(m, s)
            model[m] = s
        elif op == "del":
            assert z.delete(m) == (m in model)
            model.pop(m, None)
        elif model:
            pm, ps = z.pop(False)
            assert (ps, pm) == min((v, k) for k, v in model.items())
            del model[pm]
        assert z.dict == model
        assert z.items(0, len(z)) == sorted((v, k) for k, v in model.items())
        for k in model:
            assert z.items(0, len(z))[z.rank(k)][1] == k


def test_score_bounds():
    z = ZSet(False)
    for i, s in enumerate([-math.inf, -1.0, 0.0, 0.0, 1.0, 2.5, math.inf]):
        z.insert(b"m%d" % i, s)
    assert z.score_bounds(-math.inf, False, math.inf, False) == (0, 7)
    assert z.score_bounds(-math.inf, True, math.inf, True) == (1, 6)
    assert z.score_bounds(0.0, False, 0.0, False) == (2, 4)
    assert z.score_bounds(0.0, True, 0.0, False) == (4, 4)
    assert z.score_bounds(5.0, False, 1.0, False)[1] - z.score_bounds(5.0, False, 1.0, False)[0] == 0


def test_listpack_normalizes_negative_zero():
    z = ZSet(True)
    z.insert(b"a", -0.0)
    assert math.copysign(1, z.dict[b"a"]) > 0
    z2 = ZSet(False)
    z2.insert(b"a", -0.0)
    assert math.copysign(1, z2.dict[b"a"]) < 0


# -- integration ---------------------------------------------------------------------------

def test_basics(r):
    assert r.zadd("z", {"a": 1, "b": 2, "c": 3}) == 3
    assert r.zrange("z", 0, -1, withscores=True) == [(b"a", 1.0), (b"b", 2.0), (b"c", 3.0)]
    assert r.zincrby("z", 10, "a") == 11.0
    assert r.zrank("z", "a") == 2 and r.zrevrank("z", "a") == 0
    assert r.zscore("z", "nosuch") is None
    assert r.zpopmin("z") == [(b"b", 2.0)]
    assert r.zpopmax("z", 5) == [(b"a", 11.0), (b"c", 3.0)]
    assert r.exists("z") == 0


def test_resp3_withscores_pairs(r3):
    r3.zadd("z", {"a": 1.5, "b": 2})
    raw = r3.execute_command("ZRANGE", "z", "0", "-1", "WITHSCORES")
    assert raw == [[b"a", 1.5], [b"b", 2.0]]
    assert r3.execute_command("ZSCORE", "z", "a") == 1.5


def test_large_zset_ranks_and_ranges(r):
    n = 20000
    p = r.pipeline(transaction=False)
    for i in range(0, n, 1000):
        p.zadd("big", {b"m%06d" % j: j for j in range(i, i + 1000)})
    p.execute()
    assert r.zcard("big") == n
    assert r.zrank("big", "m012345") == 12345
    assert r.zrevrank("big", "m012345") == n - 1 - 12345
    assert r.zrangebyscore("big", 100, "(103") == [b"m000100", b"m000101", b"m000102"]
    assert r.zcount("big", "(100", 200) == 100
    assert r.zrange("big", -2, -1) == [b"m019998", b"m019999"]
    assert r.zremrangebyscore("big", 0, 9999) == 10000
    assert r.zrange("big", 0, 0) == [b"m010000"]
    seen = set()
    cursor = 0
    while True:
        cursor, items = r.zscan("big", cursor, count=500)
        seen.update(m for m, _ in items)
        if cursor == 0:
            break
    assert len(seen) == 10000


def test_zrandmember_semantics(r):
    members = {b"m%d" % i: i for i in range(200)}
    r.zadd("z", members)
    assert r.zrandmember("z") in members
    sample = r.zrandmember("z", 50)
    assert len(set(sample)) == 50 and set(sample) <= set(members)
    withscores = r.zrandmember("z", -10, withscores=True)
    assert len(withscores) == 20
    for m, s in zip(withscores[::2], withscores[1::2], strict=True):
        assert members[m] == float(s)
    assert set(r.zrandmember("z", 150)) <= set(members)
    assert len(set(r.zrandmember("z", 150))) == 150


def test_propagation(r, propagated):
    r.zadd("z", {"a": 1, "b": 2, "c": 3, "d": 4})
    r.zadd("z", {"a": 1})  # no change: not propagated
    r.zmpop(1, ["z"], min=True, count=10)
    r.zadd("z", {"a": 1, "b": 2})
    r.bzpopmax(["nosuch", "z"], 0)
    r.execute_command("BZMPOP", "0", "1", "z", "MIN", "COUNT", "3")
    r.zpopmin("nosuch")
    assert propagated == [
        [b"ZADD", b"z", b"1", b"a", b"2", b"b", b"3", b"c", b"4", b"d"],
        [b"ZPOPMIN", b"z", b"4"],
        [b"ZADD", b"z", b"1", b"a", b"2", b"b"],
        [b"ZPOPMAX", b"z"],
        [b"ZPOPMIN", b"z", b"1"],
    ]


def test_keyspace_events(r, events):
    r.zadd("z", {"a": 1, "b": 2, "c": 3})
    r.zincrby("z", 1, "a")
    r.zrem("z", "a")
    r.zremrangebyscore("z", 0, 2)
    r.zadd("z", {"a": 1, "b": 2})
    r.zremrangebyrank("z", 0, 0)
    r.zremrangebylex("z", "-", "+")
    r.zadd("z", {"a": 1, "b": 2})
    r.zpopmin("z")
    r.zpopmax("z")
    r.zadd("z", {"a": 1})
    r.zunionstore("u", ["z"])
    r.zinterstore("u", ["z"])
    r.zdiffstore("u", ["z"])
    r.zrangestore("u", "z", 0, -1)
    r.zinterstore("u", ["nosuch"])
    assert events == [
        ("z", "zadd", b"z"), ("z", "zincr", b"z"), ("z", "zrem", b"z"),
        ("z", "zremrangebyscore", b"z"), ("z", "zadd", b"z"),
        ("z", "zremrangebyrank", b"z"), ("z", "zremrangebylex", b"z"), ("g", "del", b"z"),
        ("z", "zadd", b"z"), ("z", "zpopmin", b"z"), ("z", "zpopmax", b"z"),
        ("g", "del", b"z"), ("z", "zadd", b"z"), ("z", "zunionstore", b"u"),
        ("z", "zinterstore", b"u"), ("z", "zdiffstore", b"u"), ("z", "zrangestore", b"u"),
        ("g", "del", b"u")]


# -- blocking pops ------------------------------------------------------------------------------

def _wait_blocked(server, n: int) -> None:
    deadline = time.monotonic() + 5
    while server.server.blocking.blocked_count < n:
        assert time.monotonic() < deadline, "client did not block"
        time.sleep(0.005)


@pytest.fixture
def raw(server):
    clients = []

    def make(resp3: bool = False) -> RawClient:
        c = RawClient(port=server.port)
        if resp3:
            c.call("HELLO", "3")
        clients.append(c)
        return c

    yield make
    for c in clients:
        c.close()


def test_bzpopmin_blocks_until_zadd(server, r, raw):
    c = raw()
    c.send_raw(encode_command(["BZPOPMIN", "z1", "z2", "z2", "z1", "0"]))
    _wait_blocked(server, 1)
    assert r.zadd("z2", {"b": 1, "a": 2}) == 2
    assert c.read_reply()[1] == [b"z2", b"b", b"1"]
    assert r.zrange("z2", 0, -1) == [b"a"]


def test_bzmpop_blocks_and_ignores_non_key_arguments(server, r, raw):
    c = raw(resp3=True)
    c.send_raw(encode_command(["BZMPOP", "0", "1", "myzset", "MIN", "COUNT", "10"]))
    _wait_blocked(server, 1)
    r.zadd("min", {"x": 1})
    r.zadd("1", {"x": 1})
    r.zadd("myzset", {"a": 1, "b": 2.5})
    assert c.read_reply()[0] == (b"*2\r\n$6\r\nmyzset\r\n*2\r\n*2\r\n$1\r\na\r\n,1\r\n"
                                 b"*2\r\n$1\r\nb\r\n,2.5\r\n")


def test_blocked_pop_not_woken_by_transient_key(server, r, raw):
    c = raw()
    c.send_raw(encode_command(["BZPOPMAX", "z", "0"]))
    _wait_blocked(server, 1)
    p = r.pipeline()
    p.zadd("z", {"foo": 0})
    p.delete("z")
    p.set("z", "str")
    p.execute()
    r.delete("z")
    r.zadd("z", {"bar": 1})
    assert c.read_reply()[1] == [b"z", b"bar", b"1"]


def test_blocked_pop_served_after_exec_sees_whole_transaction(server, r, raw):
    c = raw()
    c.send_raw(encode_command(["BZPOPMIN", "z", "0"]))
    _wait_blocked(server, 1)
    p = r.pipeline()
    p.zadd("z", {"c": 2})
    p.zadd("z", {"a": 0})
    p.zadd("z", {"b": 1})
    p.execute()
    assert c.read_reply()[1] == [b"z", b"a", b"0"]


def test_blocking_timeout_and_multi(server, r, raw):
    c = raw()
    assert c.call("BZPOPMIN", "nosuch", "0.05")[0] == b"*-1\r\n"
    assert c.call("BZMPOP", "0.05", "1", "nosuch", "MAX")[0] == b"*-1\r\n"
    c3 = raw(resp3=True)
    assert c3.call("BZPOPMAX", "nosuch", "0.05")[0] == b"_\r\n"
    c.call("MULTI")
    c.call("BZPOPMIN", "nosuch", "0")
    assert c.call("EXEC")[0] == b"*1\r\n*-1\r\n"


def test_blocked_pop_propagates_nonblocking_form(server, r, raw, propagated):
    c = raw()
    c.send_raw(encode_command(["BZMPOP", "0", "2", "a", "b", "MAX", "COUNT", "5"]))
    _wait_blocked(server, 1)
    r.zadd("b", {"x": 1, "y": 2})
    assert c.read_reply()[1] == [b"b", [[b"y", b"2"], [b"x", b"1"]]]
    assert propagated == [[b"ZADD", b"b", b"1", b"x", b"2", b"y"], [b"ZPOPMAX", b"b", b"2"]]


def _wait_redis_blocked(rc) -> None:
    deadline = time.monotonic() + 5
    while b"blocked_clients:1\r\n" not in rc.execute("INFO", "clients"):
        assert time.monotonic() < deadline, "redis client did not block"
        time.sleep(0.005)


def test_differential_blocking(server, real_redis, diff):
    """The served reply of a client blocked on both servers is identical."""
    for resp3 in (False, True):
        for cmd in (["BZPOPMIN", "k1", "k2", "0"], ["BZPOPMAX", "k2", "0"],
                    ["BZMPOP", "0", "2", "k1", "k2", "MIN", "COUNT", "2"]):
            kc, rc = RawClient(port=server.port), RawClient(port=real_redis)
            try:
                if resp3:
                    kc.call("HELLO", "3")
                    rc.call("HELLO", "3")
                kc.send_raw(encode_command(cmd))
                rc.send_raw(encode_command(cmd))
                _wait_blocked(server, 1)
                _wait_redis_blocked(diff.redis)
                diff.check("ZADD", "k2", "1.5", "a", "-3", "b", "inf", "c")
                assert kc.read_reply()[0] == rc.read_reply()[0]
                diff.check("DEL", "k2")
            finally:
                kc.close()
                rc.close()


# -- differential ---------------------------------------------------------------------------------

ZADD = """
zadd z 1 a 2 b 3 c
zadd z -0 zero
zscore z zero
zrange z 0 -1 withscores
zadd z nx xx 1 a
zadd z gt lt 1 a
zadd z gt nx 1 a
zadd z lt nx 1 a
zadd z incr 1 a 2 b
zadd z 1
zadd z 1 a 2
zadd z x a
zadd z nan a
zadd z "" a
zadd z inf a
zadd z incr -inf a
zadd z ch 5 a 6 newm 3 c
zadd z gt ch 1 a 10 b
zadd z lt ch 1 a 10 b
zadd z gt xx ch 100 a 100 notthere
zadd z xx 1 nonex
zadd z xx incr 1 nonex
zadd nokey xx 1 a
exists nokey
zadd nokey xx incr 1 a
zadd z NX INCR 1 a
zadd z nx incr 1 brandnew
zadd z gt incr -100 a
zadd z lt incr 0 a
zadd z Ch Gt 500 a
zincrby z 2.5 a
zincrby z -2.5 a
zincrby z x a
zincrby z 1 nx
zincrby nk 1 m
zadd z 0x10 hex
zadd z " 1" sp
zadd z "1 " sp
zadd z 1e400 big
zadd z 1e-310 tiny
zadd z 1e-400 tiny0
zadd z 0.1 dec 1e20 e20 -4611686018427387904 neg 1234567.125 frac
zscore z tiny
zscore z dec
zrange z 0 -1 withscores
zadd dbl 179769313486231570814527423731704356798070567525844996598917476803157260780028538760589558632766878171540458953514382464234321326889464182768467546703537516986049910576551282076245490090389328944075868508455133942304583236903222948165808559332123348274797826204144723168738177180919299881250404026184124858368.00000000000000000 dblmax
zscore dbl dblmax
object encoding dbl
zadd inc +inf x
zincrby inc -inf x
zincrby inc +inf x
zscore inc x
"""

READS = """
zadd z 1 a 2 b 3 c 3 d
zcard z
zcard nokey
zscore z c
zscore z nonex
zscore nokey c
zmscore z c nonex a
zmscore nokey a b
zrank z c
zrevrank z c
zrank z nonex
zrank nokey a
zcount z -inf +inf
zcount z (1 3
zcount z (1 (3
zcount z 3 1
zcount z "" ""
zcount z ( 10
zcount z " 1" 2
zcount z 0x1 2
zcount nokey 1 2
zcount z x 3
zcount z 1 nan
zcount z (nan 1
zcount z 1 "2 "
zrem z a nonex b
zrem nokey a
zrem z c d
exists z
"""

LEX = """
zadd l 0 a 0 b 0 c 0 d 0 e 0 ab
zlexcount l - +
zlexcount l [b (d
zlexcount l (b [d
zlexcount l + -
zlexcount l - -
zlexcount l + +
zlexcount l [c [b
zlexcount l (a (a
zlexcount l [a [a
zlexcount l a b
zlexcount l [a +x
zlexcount l -x +
zlexcount l "" +
zrangebylex l - +
zrangebylex l [b +
zrangebylex l (a [b
zrangebylex l - + limit 1 2
zrangebylex l - + limit -1 2
zrangebylex l - + limit 1 -1
zrangebylex l - + limit 10 1
zrangebylex l - + limit 0 0
zrevrangebylex l + -
zrevrangebylex l [d (a limit 1 2
zrevrangebylex l [d (a withscores
zrangebylex l - + withscores
zrangebylex l [a
zrangebylex nokey - +
zrange l [b [d bylex
zrange l [d [b bylex rev
zrange l [b [d bylex rev
zrange l - + bylex limit 2 2
zremrangebylex l [c [d
zremrangebylex l a b
zremrangebylex l (zz +
zrange l 0 -1
zadd mixed 1 z 2 a 3 m 0 q
zrangebylex mixed - +
zrangebylex mixed [b [n
zrevrangebylex mixed [n [b
zlexcount mixed [b [n
zremrangebylex mixed [a [q
zrange mixed 0 -1
"""

RANGES = """
zadd z 1 a 2 b 3 c 4 d 5 e
zrange z 0 -1
zrange z 0 -1 withscores
zrange z 0 -1 limit 0 1
zrange z 0 -1 limit 0 -1
zrange z 0 -1 rev
zrange z 1 2 rev withscores
zrange z -100 100
zrange z 3 1
zrange z -1 -2
zrange z 5 10
zrange z x 1
zrange z 0 1 foo
zrange z 0 1 byscore bylex
zrange z 0 1 bylex withscores
zrange z 0 1 rev rev
zrange z (1 3 byscore
zrange z 1 (3 byscore
zrange z -inf +inf byscore limit 1 2
zrange z -inf +inf byscore rev limit 1 2
zrange z +inf -inf byscore rev limit 1 2 withscores
zrange z +inf -inf byscore rev limit 1 -1
zrange z 1 5 byscore limit -1 2
zrange z 1 5 byscore limit 5 2
zrange z 1 5 byscore limit 2
zrange z 1 5 byscore limit 2 x
zrevrange z 0 1 rev
zrevrange z 0 1 withscores
zrevrange z 0 -2
zrevrange z 0 1 byscore
zrangebyscore z 1 2 byscore
zrangebyscore z 1 2 rev
zrangebyscore z 2 4 withscores limit 1 1
zrangebyscore z 2 4 limit 1 1 withscores
zrangebyscore z 2 4 limit -1 1
zrangebyscore z 2 4 limit 5 1
zrangebyscore z x 0
zrangebyscore z nan 0
zrangebyscore z 4 2
zrangebyscore z (2 (2
zrangebyscore z 2 2
zrevrangebyscore z 4 2 limit 1 1
zrevrangebyscore z (4 -inf
zrevrangebyscore z 2 4
zrevrangebyscore z +inf -inf withscores limit 0 1
zrangebyscore nokey 1 2
zrevrange nokey 0 1
zrangestore dst z 0 -1
zrange dst 0 -1 withscores
object encoding dst
zrangestore dst z 0 -1 withscores
zrangestore dst nokey 0 -1
exists dst
zrangestore dst z [a [c bylex limit 1 1
zrangestore dst z 4 2 byscore rev
zrange dst 0 -1 withscores
zrangestore dst z 10 20 byscore
exists dst
zrangestore dst z 0 -1 limit 1 1
zrangestore dst z 0
set str x
zrangestore dst str 0 -1
zrangestore str z 0 0
type str
"""

REMRANGE = """
zadd z 1 a 2 b 3 c 4 d 5 e 6 f
zremrangebyrank z 0 0
zremrangebyrank z 10 20
zremrangebyrank z -1 -1
zremrangebyrank z 3 1
zremrangebyrank z x 1
zremrangebyrank z 1 1.5
zrange z 0 -1
zremrangebyscore z (2 3
zremrangebyscore z 10 20
zremrangebyscore z x 2
zremrangebyscore z 2 nan
zrange z 0 -1
zremrangebyscore z -inf +inf
exists z
zremrangebyscore nokey 1 2
zremrangebyrank nokey 0 1
zremrangebylex nokey - +
set str x
zremrangebyscore str 1 2
zremrangebyrank str 0 1
zremrangebylex str - +
zremrangebylex str a b
"""

POPS = """
zadd z 1 a 2 b 3 c 4 d 5 e
zpopmin z
zpopmax z
zpopmin z 1
zpopmin z 0
zpopmin z -1
zpopmin z x
zpopmin z 1 2
zpopmin nokey
zpopmin nokey 3
zpopmax z 2
zpopmin z 10
exists z
set str x
zpopmin str
zpopmin str 0
zpopmax str 1
zadd z 1 a 2 b 3 c 4 d 5 e
zmpop 1 z min
zmpop 2 nokey z max count 2
zmpop 1 z min count 1
zmpop 1 nokey min
zmpop 0 z min
zmpop -1 z min
zmpop x z min
zmpop 1 z
zmpop 1 z foo
zmpop 1 z min count 0
zmpop 1 z min count -1
zmpop 1 z min count x
zmpop 1 z min count 1 count 1
zmpop 1 z min count
zmpop 5 z min
zmpop 1 str min
zmpop 2 nokey str min
zmpop 2 z str min
zmpop 1 z max count 100
exists z
bzpopmin str 0
bzpopmin nokey str 0
bzpopmin nokey -1
bzpopmin nokey x
bzpopmin nokey inf
zadd z 1 a 2 b 3 c
bzpopmin nokey z 0
bzpopmax nokey z 0
bzmpop 0 1 z min
zadd z 1 a 2 b 3 c
bzmpop 0 2 nokey z max count 10
bzmpop 0 0 z min
bzmpop x 1 z min
bzmpop -1 1 z min
bzmpop 0 1 z foo
bzmpop 0 1 str min
multi
bzpopmin nokey 0
bzmpop 0 1 nokey min
zmpop 1 nokey max
exec
"""

RANDMEMBER = """
zadd z 1 a 2 b 3 c
zrandmember z 10
zrandmember z 3 withscores
zrandmember z 0
zrandmember z 0 withscores
zrandmember nokey
zrandmember nokey 5
zrandmember nokey 5 withscores
zrandmember nokey -5 withscores
zrandmember z x
zrandmember z 1 foo
zrandmember z x foo
zrandmember z 1 withscores extra
zrandmember z -9223372036854775808
zrandmember z 9223372036854775808
zrandmember z 4611686018427387904 withscores
zrandmember z -4611686018427387904 withscores
zrandmember z 4611686018427387903
set str x
zrandmember str
zrandmember str 1
"""

SETOPS = """
zadd a 1 x 2 y 3 z
zadd b 10 y 20 z 30 w
sadd s x w q
sadd is 1 2 3
zadd iz 5 1 6 2
set str v
zunion 2 a b
zunion 2 a b withscores
zunion 2 a b weights 2 3 withscores
zunion 2 a b weights 2 0x3 withscores
zunion 2 a b aggregate min withscores
zunion 2 a b aggregate max withscores
zunion 2 a b aggregate MAX weights 1 -1 withscores
zunion 2 a b weights 1 withscores
zunion 2 a b weights 1 x
zunion 2 a b weights nan nan
zunion 2 a b aggregate foo
zunion 2 a b aggregate
zunion 0 a
zunion -1 a
zunion x a
zunion 3 a b
zunion 2 a str
zunion 2 a str weights x
zunion 3 a s nokey withscores
zunion 2 is iz withscores
zinter 2 is iz withscores
zinter 2 a b withscores
zinter 3 a b s withscores
zinter 2 a s withscores
zinter 2 a a withscores
zinter 2 s s withscores
zinter 2 a nokey withscores
zinter 2 a b weights 0 inf withscores
zunion 2 a b weights inf -inf withscores
zunion 2 a b weights 0 inf withscores
zinter 2 a b weights inf -inf withscores
zinter 2 a b weights inf -inf aggregate min withscores
zinter 2 a b weights inf -inf aggregate max withscores
zdiff 2 a b withscores
zdiff 2 a s withscores
zdiff 2 s a withscores
zdiff 2 a a
zdiff 1 nokey
zdiff 2 a b weights 1 1
zdiff 2 a b aggregate sum
zdiff 3 a nokey b withscores
zunionstore d 2 a b
zrange d 0 -1 withscores
object encoding d
zunionstore d 2 a b withscores
zinterstore d 2 a b
zrange d 0 -1 withscores
zinterstore d 2 a nokey
exists d
zdiffstore d 2 a b
zrange d 0 -1 withscores
zdiffstore d 2 a a
exists d
zunionstore d 0 a
zinterstore d 0 a
zdiffstore d 0 a
zunionstore d 1 str
zunionstore str 1 a
type str
set str v
zintercard 2 a b
zintercard 2 a b limit 1
zintercard 2 a b limit 0
zintercard 2 a b limit -1
zintercard 2 a b limit x
zintercard 2 a b weights 1 1
zintercard 2 a b withscores
zintercard 0 a
zintercard 2 a str
zintercard 3 a b
zintercard 2 a nokey
zadd f 1.1 m
zunion 2 f f weights 0.3 0.7 withscores
zinter 3 f f f weights 0.1 0.2 0.3 withscores
zadd g -inf neginf
zunionstore out 1 g weights 0
zrange out 0 -1 withscores
zadd mz -0 m
zunion 1 mz withscores
zadd big 1 aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
zunionstore d 2 big a
object encoding d
zrangestore d2 big 0 -1
object encoding d2
"""

ZSCAN = """
zadd a 1 x 2 y 3 z
zscan a 0
zscan a 0 match x*
zscan a 0 count 0
zscan a 0 count 1
zscan a x
zscan a -1
zscan nokey 0 count 0
set str x
zscan str 0
zadd inf inf a -inf b 1e20 c 0.1 d 4611686018427387904 e -4611686018427387903 f -0 g 3.0 h
zscan inf 0
"""


SCRIPTS = {"zadd": ZADD, "reads": READS, "lex": LEX, "ranges": RANGES, "remrange": REMRANGE,
           "pops": POPS, "randmember": RANDMEMBER, "setops": SETOPS, "zscan": ZSCAN}


@pytest.mark.parametrize("name", list(SCRIPTS))
def test_differential(diff, name):
    run_script(diff, SCRIPTS[name])


@pytest.mark.parametrize("name", ["zadd", "ranges", "pops", "randmember", "setops", "zscan"])
def test_differential_resp3(diff3, name):
    run_script(diff3, SCRIPTS[name])


def test_differential_skiplist_encoding(diff, set_config):
    set_config("zset-max-listpack-entries", "2")
    set_config("zset-max-listpack-value", "5")
    run_script(diff, """
zadd z 1 a 2 b
object encoding z
zadd z 3 c
object encoding z
zrem z c b
object encoding z
zadd z2 1 abcdef
object encoding z2
zadd z3 1 abcde
object encoding z3
zadd z3 2 abcdef
object encoding z3
zadd z5 1 a 2 b 3 c -0 m 1e20 x 0.5 y
zscore z5 m
zrange z5 0 -1 withscores
zrangebyscore z5 (0 +inf withscores limit 1 3
zrevrangebyscore z5 +inf (0 withscores limit 1 3
zrank z5 y
zrevrank z5 y
zcount z5 0 1
zpopmin z5
zunionstore d 1 z5
object encoding d
zunionstore d 1 z
object encoding d
zrangestore d z5 0 1
object encoding d
zrangestore d z5 0 2
object encoding d
zrangestore d z5 1 2 byscore
object encoding d
zadd lex 0 a 0 b 0 c 0 d 0 e
zrangebylex lex (a [d
zrevrangebylex lex [d (a limit 1 2
zlexcount lex (a +
zremrangebylex lex - (c
zrange lex 0 -1
zadd so 3 c 1 a 2 b
sort so alpha
""")
    set_config("zset-max-listpack-entries", "0")
    run_script(diff, """
zadd z6 1 a
object encoding z6
zrangestore z7 z6 0 -1
object encoding z7
""")


def test_differential_sort_converts_to_skiplist(diff):
    run_script(diff, """
zadd so 3 c 1 a 2 b
object encoding so
sort so alpha
object encoding so
""")


# -- random sequences ---------------------------------------------------------------------------------

ZKEYS = st.sampled_from(["z1", "z2", "s1", "str"])
ZMEMBERS = st.sampled_from(["a", "b", "c", "d", "1", "e"])
SCORES = st.sampled_from(["0", "1", "2", "1.5", "-1", "inf", "-inf", "-0", "1e3", "x"])
BOUNDS = st.sampled_from(["-inf", "+inf", "0", "1", "(1", "1.5", "(2", "x", ""])
LEXB = st.sampled_from(["-", "+", "[a", "(b", "[c", "(d", "a", "[", "("])
INTS = st.sampled_from(["0", "1", "2", "-1", "-2", "5", "x"])


def _cmd(name, *parts):
    return st.tuples(st.just(name), *parts).map(list)


def _opt(*choices):
    return st.sampled_from([[]] + [list(c) for c in choices])


ZSET_CMDS = st.one_of(
    _cmd("ZADD", ZKEYS, st.lists(st.sampled_from(["NX", "XX", "GT", "LT", "CH", "INCR"]),
                                 max_size=2),
         st.lists(st.tuples(SCORES, ZMEMBERS).map(list), min_size=1, max_size=3)),
    _cmd("ZINCRBY", ZKEYS, SCORES, ZMEMBERS),
    _cmd("ZREM", ZKEYS, st.lists(ZMEMBERS, min_size=1, max_size=3)),
    _cmd("ZCARD", ZKEYS),
    _cmd("ZSCORE", ZKEYS, ZMEMBERS),
    _cmd("ZMSCORE", ZKEYS, st.lists(ZMEMBERS, min_size=1, max_size=3)),
    _cmd("ZRANK", ZKEYS, ZMEMBERS),
    _cmd("ZREVRANK", ZKEYS, ZMEMBERS),
    _cmd("ZCOUNT", ZKEYS, BOUNDS, BOUNDS),
    _cmd("ZLEXCOUNT", ZKEYS, LEXB, LEXB),
    _cmd("ZRANGE", ZKEYS, INTS, INTS, _opt(["REV"], ["WITHSCORES"], ["REV", "WITHSCORES"])),
    _cmd("ZRANGE", ZKEYS, BOUNDS, BOUNDS, st.just("BYSCORE"),
         _opt(["REV"], ["WITHSCORES"], ["LIMIT", "1", "2"], ["REV", "LIMIT", "0", "1"])),
    _cmd("ZRANGE", ZKEYS, LEXB, LEXB, st.just("BYLEX"), _opt(["REV"], ["LIMIT", "1", "-1"])),
    _cmd("ZRANGEBYSCORE", ZKEYS, BOUNDS, BOUNDS, _opt(["WITHSCORES"], ["LIMIT", "1", "1"])),
    _cmd("ZREVRANGEBYSCORE", ZKEYS, BOUNDS, BOUNDS, _opt(["WITHSCORES"], ["LIMIT", "0", "2"])),
    _cmd("ZRANGEBYLEX", ZKEYS, LEXB, LEXB, _opt(["LIMIT", "1", "1"])),
    _cmd("ZREVRANGEBYLEX", ZKEYS, LEXB, LEXB),
    _cmd("ZREVRANGE", ZKEYS, INTS, INTS, _opt(["WITHSCORES"])),
    _cmd("ZRANGESTORE", ZKEYS, ZKEYS, INTS, INTS),
    _cmd("ZREMRANGEBYRANK", ZKEYS, INTS, INTS),
    _cmd("ZREMRANGEBYSCORE", ZKEYS, BOUNDS, BOUNDS),
    _cmd("ZREMRANGEBYLEX", ZKEYS, LEXB, LEXB),
    _cmd("ZPOPMIN", ZKEYS, _opt(["1"], ["3"], ["0"])),
    _cmd("ZPOPMAX", ZKEYS, _opt(["2"])),
    _cmd("ZMPOP", st.just("2"), ZKEYS, ZKEYS, st.sampled_from(["MIN", "MAX"]),
         _opt(["COUNT", "2"])),
    _cmd("ZUNIONSTORE", ZKEYS, st.just("2"), ZKEYS, ZKEYS,
         _opt(["WEIGHTS", "2", "0.5"], ["AGGREGATE", "MIN"], ["AGGREGATE", "MAX"])),
    _cmd("ZINTERSTORE", ZKEYS, st.just("2"), ZKEYS, ZKEYS, _opt(["WEIGHTS", "-1", "inf"])),
    _cmd("ZDIFFSTORE", ZKEYS, st.just("2"), ZKEYS, ZKEYS),
    _cmd("ZUNION", st.just("2"), ZKEYS, ZKEYS, _opt(["WITHSCORES"])),
    _cmd("ZINTER", st.just("2"), ZKEYS, ZKEYS, _opt(["WITHSCORES"])),
    _cmd("ZDIFF", st.just("2"), ZKEYS, ZKEYS, _opt(["WITHSCORES"])),
    _cmd("ZINTERCARD", st.just("2"), ZKEYS, ZKEYS, _opt(["LIMIT", "1"])),
    _cmd("ZRANDMEMBER", ZKEYS, st.sampled_from([["100"], ["100", "WITHSCORES"], ["0"],
                                                ["-0"]])),
    _cmd("ZSCAN", ZKEYS, st.just("0")),
    _cmd("SADD", st.just("s1"), st.lists(ZMEMBERS, min_size=1, max_size=3)),
    _cmd("OBJECT", st.just("ENCODING"), ZKEYS),
    _cmd("SET", st.just("str"), st.just("x")),
    _cmd("DEL", ZKEYS),
)


def _flatten(cmd):
    out = []
    for p in cmd:
        if isinstance(p, list):
            out.extend(_flatten(p))
        else:
            out.append(p)
    return out


def _run_random(d, cmds):
    d.flush()
    # Start from populated keys so that short sequences exercise ranges too.
    d.check("ZADD", "z1", "0", "a", "1", "b", "1.5", "c", "2", "d", "-inf", "e")
    d.check("ZADD", "z2", "0", "a", "0", "b", "0", "c", "0", "1", "0", "e")
    d.check("SADD", "s1", "a", "1", "c")
    for cmd in cmds:
        d.check(*_flatten(cmd))
    for k in ("z1", "z2"):
        d.check("ZRANGE", k, "0", "-1", "WITHSCORES")


@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(ZSET_CMDS, min_size=3, max_size=30))
def test_random_zset_commands(diff, cmds):
    _run_random(diff, cmds)


@settings(max_examples=100, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(ZSET_CMDS, min_size=3, max_size=30))
def test_random_zset_commands_resp3(diff3, cmds):
    _run_random(diff3, cmds)


def test_differential_lex_on_large_zset_with_ordered_scores(diff):
    # A skiplist zset whose members sort like their scores: Redis's lex
    # search is exact there, and so is ours.
    args = []
    for i in range(300):
        args += [str(i), f"m{i:03d}"]
    diff.check("ZADD", "z", *args)
    diff.check("OBJECT", "ENCODING", "z")
    for lo, hi in (("[m050", "(m060"), ("-", "+"), ("(m299", "+"), ("-", "[m000"),
                   ("[m1", "[m2"), ("[zzz", "+"), ("-", "(m000")):
        diff.check("ZLEXCOUNT", "z", lo, hi)
        diff.check("ZRANGEBYLEX", "z", lo, hi, "LIMIT", "0", "5")
        diff.check("ZREVRANGEBYLEX", "z", hi, lo, "LIMIT", "1", "5")
    diff.check("ZREMRANGEBYLEX", "z", "[m100", "(m150")
    diff.check("ZCARD", "z")
    diff.check("ZRANGE", "z", "95", "105")
