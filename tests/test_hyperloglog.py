"""HyperLogLog: the representation (unit tests of kvserver.hll), integration,
and differential tests against redis-server: every reply and the bytes of
every HLL value (GET) must be Redis's, for sparse and dense values, through
promotions, merges, cached cardinalities and corrupted values."""

from __future__ import annotations

import random
from collections import Counter

import pytest
import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kvserver import hll
from tests.conftest import propagation

# -- the representation -------------------------------------------------------------------------

def test_empty_value_is_redis_s():
    assert hll.EMPTY == b"HYLL\x01\x00\x00\x00" + bytes(8) + b"\x7f\xff"
    assert hll.is_hll(hll.EMPTY)
    assert hll.estimate(hll.sparse_histogram(hll.parse_sparse(hll.EMPTY[16:]))[0]) == 0


def test_pat_len_matches_redis():
    # (register, pattern length) Redis 7.0's PFDEBUG GETREG shows for one element:
    # empty, tail only, exactly one block, blocks and tail, binary.
    for ele, want in ((b"", (5938, 2)), (b"a", (12711, 2)), (b"hello", (9216, 1)),
                      (b"12345678", (10579, 3)), (b"123456789abcdefgh", (1958, 3)),
                      (b"\x00\xff" * 9, (7404, 1))):
        assert hll.pat_len(ele) == want, ele


def test_dense_registers_roundtrip():
    rnd = random.Random(7)
    regs = bytes(rnd.randrange(64) for _ in range(hll.REGISTERS))
    body = hll.encode_dense(regs)
    assert hll.decode_dense(bytes(body)) == regs
    value = bytearray(hll.HDR_SIZE) + body
    for i in (0, 1, 2, 3, 4, 5, 16382, 16383):
        assert hll.dense_get(value, i) == regs[i]
        hll.dense_set(value, i, 63 - regs[i])
        assert hll.dense_get(value, i) == 63 - regs[i]
    assert hll.decode_dense(bytes(value[hll.HDR_SIZE:]))[6:16382] == regs[6:16382]


def test_registers_max_and_histogram():
    rnd = random.Random(3)
    a = bytes(rnd.randrange(64) for _ in range(hll.REGISTERS))
    b = bytes(rnd.randrange(64) for _ in range(hll.REGISTERS))
    assert hll.registers_max(a, b) == bytes(map(max, a, b))
    hist = hll.histogram(a)
    c = Counter(a)
    assert hist == [c.get(v, 0) for v in range(64)]


def test_sparse_states_agree_with_dense():
    """The same elements give the same registers sparse or dense."""
    s = hll.State(hll.EMPTY)
    d = hll.State(hll.EMPTY)
    d.to_dense()
    for i in range(3000):
        index, count = hll.pat_len(b"e%d" % i)
        assert s.set(index, count, 3000) == d.set(index, count, 3000)
        if i % 500 == 0:
            assert s.registers() == d.registers()
            assert hll.estimate(s.histogram()) == hll.estimate(d.histogram())
    assert s.encoding == hll.DENSE  # promoted on the way


def test_corrupted_sparse_is_detected():
    bad = hll.EMPTY + b"\x00"  # one register too many
    st_ = hll.State(bad)
    assert not st_.valid
    with pytest.raises(hll.Corrupted):
        st_.histogram()
    assert not st_.to_dense()


# -- integration ------------------------------------------------------------------------------------

def test_hll_is_a_string(r):
    assert r.pfadd("h", "a", "b") == 1
    assert r.type("h") == b"string"
    assert r.strlen("h") > 16
    assert r.getrange("h", 0, 3) == b"HYLL"
    r.append("other", r.get("h"))
    assert r.pfcount("other") == 2


def test_ttl_is_kept(r):
    r.pfadd("h", "a")
    r.expire("h", 100)
    r.pfadd("h", "b", "c")
    r.pfcount("h")
    r.execute_command("PFDEBUG", "TODENSE", "h")
    r.pfmerge("h", "h")
    assert 0 < r.ttl("h") <= 100


def test_copy_shares_nothing(r):
    r.pfadd("a", *range(100))
    r.copy("a", "b")
    before = r.get("b")
    r.pfadd("a", *range(100, 200))
    assert r.get("b") == before
    assert r.pfcount("b") != r.pfcount("a")


def test_pfcount_breaks_watch_only_when_it_writes_the_cache(server, r):
    r.pfadd("h", "a")
    r.pfcount("h")  # caches
    other = server.client()
    p = r.pipeline()
    p.watch("h")
    other.pfcount("h")  # cache valid: no write
    p.multi()
    p.get("h")
    assert len(p.execute()) == 1
    r.pfadd("h", "b")
    p = r.pipeline()
    p.watch("h")
    other.pfcount("h")  # recomputes and stores the cardinality
    p.multi()
    p.get("h")
    with pytest.raises(redis.WatchError):
        p.execute()
    other.close()


def test_propagation_and_events(r, propagated, events):
    r.pfadd("h", "a", "b")
    r.pfadd("h", "a")  # nothing changed
    r.pfmerge("m", "h")
    r.pfcount("m")  # PFMERGE left the cached cardinality invalid: PFCOUNT rewrites it
    r.pfcount("m")  # now valid: nothing changes
    assert propagated == [[b"PFADD", b"h", b"a", b"b"], [b"PFMERGE", b"m", b"h"],
                          [b"PFCOUNT", b"m"]]
    assert ("$", "pfadd", b"h") in events and ("$", "pfadd", b"m") in events


def test_pfselftest(r):
    assert r.execute_command("PFSELFTEST") == b"OK"


# -- differential ---------------------------------------------------------------------------------

def _check_value(diff, key):
    diff.check("GET", key)
    diff.check("PFDEBUG", "ENCODING", key)


def test_pfadd_pfcount_like_redis(diff, diff3):
    for d in (diff, diff3):
        d.flush()
        d.check("PFADD", "h")
        d.check("EXISTS", "h")
        d.check("GET", "h")
        d.check("PFCOUNT", "h")
        d.check("GET", "h")
        d.check("PFADD", "h", "a", "b", "c")
        d.check("PFADD", "h", "a", "b", "c")
        d.check("PFADD", "h")
        d.check("PFADD", "h", "")
        d.check("GETRANGE", "h", "15", "15")
        d.check("PFCOUNT", "h")
        d.check("GETRANGE", "h", "15", "15")
        d.check("PFADD", "h", "a", "b", "c")
        d.check("GETRANGE", "h", "15", "15")
        d.check("PFADD", "h", "1", "2", "3")
        d.check("GETRANGE", "h", "15", "15")
        d.check("PFCOUNT", "h")
        d.check("PFCOUNT", "nokey")
        d.check("PFCOUNT", "nokey", "nokey2")
        d.check("PFCOUNT", "h", "nokey")
        _check_value(d, "h")


def test_promotion_like_redis(diff):
    rnd = random.Random(11)
    for max_bytes in ("3000", "0", "40", "200", "12000"):
        diff.check("CONFIG", "SET", "hll-sparse-max-bytes", max_bytes)
        diff.check("DEL", "h")
        n = 0
        while n < 4000:
            batch = [str(rnd.random()) for _ in range(rnd.choice([1, 7, 100, 400]))]
            n += len(batch)
            diff.check("PFADD", "h", *batch)
            _check_value(diff, "h")
            diff.check("PFCOUNT", "h")
            diff.check("GET", "h")
        if max_bytes in ("3000", "0", "40"):
            assert diff.check("PFDEBUG", "ENCODING", "h") == b"dense"
    diff.check("CONFIG", "SET", "hll-sparse-max-bytes", "3000")


def test_values_above_32_promote_like_redis(diff):
    """A register over 32 cannot be sparse: merging one in promotes the destination.
    (No element hashes to such a value in practice: crafted dense values supply it.)"""
    for reg, val in ((5, 33), (16383, 51), (0, 63)):
        regs = bytearray(hll.REGISTERS)
        regs[reg] = val
        regs[reg // 2] = max(regs[reg // 2], 3)
        diff.check("SET", "big", b"HYLL" + bytes(12) + bytes(hll.encode_dense(bytes(regs))))
        diff.check("DEL", "m")
        diff.check("PFADD", "m", "a", "b")
        diff.check("PFMERGE", "m", "big")
        _check_value(diff, "m")
        diff.check("PFCOUNT", "m", "big")
        diff.check("PFCOUNT", "m")


def test_pfmerge_like_redis(diff):
    rnd = random.Random(2)
    sizes = {"s1": 3, "s2": 300, "s3": 1200, "d1": 20000}
    for key, n in sizes.items():
        diff.check("PFADD", key, *[str(rnd.random()) for _ in range(n)])
    diff.check("PFDEBUG", "TODENSE", "s1")  # a dense value with few registers set
    diff.check("PFADD", "s4", *[str(rnd.random()) for _ in range(50)])
    for sources in (["s2"], ["s2", "s3"], ["s4", "s2"], ["s1"], ["d1", "s2"], ["nokey"], [],
                    ["s2", "nokey", "s4"], ["s3", "s3"]):
        diff.check("DEL", "m")
        diff.check("PFMERGE", "m", *sources)
        _check_value(diff, "m")
        diff.check("PFCOUNT", "m")
        diff.check("PFCOUNT", "m", *sources)
    # Into an existing destination, sparse and dense.
    diff.check("PFMERGE", "s4", "s2")
    _check_value(diff, "s4")
    diff.check("PFMERGE", "s4", "d1")
    _check_value(diff, "s4")
    diff.check("PFMERGE", "s2", "s2")
    _check_value(diff, "s2")
    diff.check("PFCOUNT", "s1", "s2", "s3", "s4", "d1")


def test_pfdebug_like_redis(diff):
    diff.check("PFADD", "h", "1", "2", "3")
    diff.check("PFDEBUG", "DECODE", "h")
    diff.check("PFDEBUG", "ENCODING", "h")
    diff.check("PFDEBUG", "getreg", "h")
    _check_value(diff, "h")
    diff.check("PFDEBUG", "DECODE", "h")
    diff.check("PFDEBUG", "TODENSE", "h")
    diff.check("PFADD", "h2", *[str(i) for i in range(200)])
    diff.check("PFDEBUG", "DECODE", "h2")
    diff.check("PFDEBUG", "TODENSE", "h2")
    diff.check("PFDEBUG", "TODENSE", "h2")
    _check_value(diff, "h2")
    diff.check("PFDEBUG", "GETREG", "h2")
    diff.check("PFDEBUG", "nosuch", "h2")
    diff.check("PFDEBUG", "nosuch\x00more", "h2")
    diff.check("PFDEBUG", "GETREG", "nokey")
    diff.check("PFDEBUG", "nosuch", "nokey")
    diff.check("SET", "s", "not an hll")
    diff.check("PFDEBUG", "GETREG", "s")
    diff.check("LPUSH", "l", "x")
    diff.check("PFDEBUG", "GETREG", "l")
    diff.check("PFDEBUG", "GETREG")
    diff.check("PFDEBUG", "GETREG", "h", "extra")
    diff.check("PFDEBUG")
    diff.check("SET", "e", b"HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00")
    diff.check("PFDEBUG", "DECODE", "e")
    diff.check("PFCOUNT", "e")
    diff.check("PFDEBUG", "GETREG", "e")


def test_errors_like_redis(diff):
    diff.check("SET", "foo", "bar")
    diff.check("LPUSH", "list", "x")
    for cmd in (["PFADD", "foo", "1"], ["PFCOUNT", "foo"], ["PFMERGE", "bar", "foo"],
                ["PFMERGE", "foo", "bar"], ["PFADD", "list", "1"], ["PFCOUNT", "list"],
                ["PFCOUNT", "nokey", "list"], ["PFMERGE", "list"], ["PFMERGE", "x", "list"],
                ["PFADD"], ["PFCOUNT"], ["PFMERGE"], ["PFSELFTEST", "x"],
                ["PFCOUNT", "foo", "nokey"]):
        diff.check(*cmd)
    diff.check("PFADD", "hll", "a", "b", "c")
    diff.check("APPEND", "hll", "hello")  # additional bytes at the tail
    diff.check("PFCOUNT", "hll")
    diff.check("PFCOUNT", "hll", "nokey")
    diff.check("PFMERGE", "x", "hll")
    diff.check("PFADD", "hll", "zz")
    diff.check("DEL", "hll")
    diff.check("PFADD", "hll", "a", "b", "c")
    diff.check("SETRANGE", "hll", "0", "0123")  # broken magic
    diff.check("PFCOUNT", "hll")
    diff.check("PFADD", "hll", "x")
    diff.check("DEL", "hll")
    diff.check("PFADD", "hll", "a", "b", "c")
    diff.check("SETRANGE", "hll", "4", "x")  # invalid encoding
    diff.check("PFCOUNT", "hll")
    diff.check("DEL", "hll")
    diff.check("PFADD", "hll", "a", "b", "c")
    diff.check("SETRANGE", "hll", "4", "\x00")  # dense of the wrong length
    diff.check("PFCOUNT", "hll")
    diff.check("PFMERGE", "hll")
    diff.check("SET", "short", "HYLL")
    diff.check("PFCOUNT", "short")
    diff.check("SET", "num", "12345678901234567")
    diff.check("PFADD", "num", "x")


def test_crafted_dense_values_like_redis(diff):
    """Dense values with any register contents (up to 63) count as Redis counts them."""
    rnd = random.Random(9)
    for fill in (0, 51, 63, None):
        regs = bytes(rnd.randrange(64) if fill is None else fill for _ in range(hll.REGISTERS))
        value = b"HYLL" + bytes(12) + bytes(hll.encode_dense(regs))
        diff.check("SET", "d", value)
        diff.check("PFCOUNT", "d")
        diff.check("GET", "d")
        diff.check("PFCOUNT", "d")
        diff.check("SET", "d2", value)
        diff.check("PFCOUNT", "d2", "d")
        diff.check("PFADD", "d2", "a", "b", "c")
        diff.check("PFMERGE", "m", "d2", "d")
        diff.check("GET", "m")
        diff.check("DEL", "m")


# -- random corruption, as Redis's own fuzzing test does -----------------------------------------

@settings(max_examples=120, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(n=st.sampled_from([0, 1, 5, 40, 300, 1500, 3000]), seed=st.integers(0, 2**32),
       changes=st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.binary(min_size=1, max_size=3)),
                        min_size=1, max_size=4),
       truncate=st.one_of(st.none(), st.integers(1, 4)))
def test_corrupted_values_like_redis(diff, n, seed, changes, truncate):
    diff.flush()
    rnd = random.Random(seed)
    diff.check("PFADD", "h", *[str(rnd.random()) for _ in range(n)])
    length = diff.check("STRLEN", "h")
    for pos, data in changes:
        diff.check("SETRANGE", "h", str(int(pos * length)), data)
    if truncate is not None:
        value = diff.check("GET", "h")
        diff.check("SET", "h", value[:max(16, len(value) - truncate)])
    diff.check("PFCOUNT", "h")
    diff.check("GET", "h")
    diff.check("PFADD", "h", *[str(rnd.random()) for _ in range(rnd.choice([1, 3, 30]))])
    diff.check("GET", "h")
    diff.check("PFCOUNT", "h", "nokey")
    diff.check("PFMERGE", "m", "h")
    diff.check("GET", "m")
    diff.check("PFDEBUG", "DECODE", "h")
    diff.check("PFDEBUG", "TODENSE", "h")
    diff.check("GET", "h")
    diff.check("PFCOUNT", "h")


# -- random command sequences -------------------------------------------------------------------

_KEYS = ["h1", "h2", "h3"]
_elements = st.lists(st.one_of(st.integers(0, 3000).map(str), st.binary(max_size=6)),
                     max_size=60)
_command = st.one_of(
    st.tuples(st.just("PFADD"), st.sampled_from(_KEYS), _elements).map(
        lambda t: [t[0], t[1], *t[2]]),
    st.lists(st.sampled_from(_KEYS + ["nokey"]), min_size=1, max_size=3).map(
        lambda ks: ["PFCOUNT", *ks]),
    st.lists(st.sampled_from(_KEYS + ["nokey"]), min_size=1, max_size=3).map(
        lambda ks: ["PFMERGE", *ks]),
    st.tuples(st.sampled_from(["ENCODING", "TODENSE", "DECODE"]),
              st.sampled_from(_KEYS)).map(lambda t: ["PFDEBUG", t[0], t[1]]),
    st.sampled_from(_KEYS).map(lambda k: ["GET", k]),
    st.sampled_from(_KEYS).map(lambda k: ["DEL", k]),
)


@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(cmds=st.lists(_command, min_size=1, max_size=25),
       max_bytes=st.sampled_from(["3000", "100", "500", "0"]))
def test_random_sequences_like_redis(diff, cmds, max_bytes):
    diff.flush()
    diff.check("CONFIG", "SET", "hll-sparse-max-bytes", max_bytes)
    try:
        for cmd in cmds:
            diff.check(*cmd)
        for k in _KEYS:
            diff.check("GET", k)
    finally:
        diff.check("CONFIG", "SET", "hll-sparse-max-bytes", "3000")


def test_command_info_like_redis(diff):
    # (pfcount's key spec has a "notes" text, which declarations cannot carry)
    for name in ("pfadd", "pfmerge", "pfdebug", "pfselftest"):
        diff.check("COMMAND", "INFO", name)


def test_in_scripts_and_transactions_like_redis(diff, diff3):
    for d in (diff, diff3):
        d.flush()
        d.check("EVAL", "redis.call('PFADD','h','a','b'); return redis.call('PFCOUNT','h')", "0")
        d.check("EVAL", "return #redis.call('PFDEBUG','GETREG','h')", "0")
        d.check("EVAL", "return redis.call('PFDEBUG','ENCODING','h')", "0")
        d.check("GET", "h")
        d.check("MULTI")
        d.check("PFADD", "h2", "x")
        d.check("PFMERGE", "h3", "h", "h2")
        d.check("PFCOUNT", "h3")
        d.check("PFDEBUG", "DECODE", "h3")
        d.check("EXEC")
        d.check("GET", "h3")


def test_pfcount_cache_update_is_propagated(server, r):
    """PFCOUNT rewrites the cached cardinality in the value: a may_replicate
    command that changed data is propagated, as Redis's call() does."""
    r.pfadd("h", "a", "b", "c")
    with propagation(server) as seen:
        assert r.pfcount("h") == 3
        assert r.pfcount("h") == 3  # cache now valid: nothing changes, nothing sent
    assert seen == [[b"PFCOUNT", b"h"]]
