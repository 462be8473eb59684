"""Bitmap commands: SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD, BITFIELD_RO.

Integration (redis-py), differential (against redis-server), fuzzing of ranges
and bitfield arithmetic, and hypothesis-driven random sequences."""

from __future__ import annotations

import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st


def set_max_bulk_len(server, diff, value: str) -> None:
    """proto-max-bulk-len on both servers (kvserver's set in-process, so this
    does not depend on the CONFIG command)."""
    server.call_in_loop(server.server.config.config_set, [("proto-max-bulk-len", value)])
    assert diff.redis.call("CONFIG", "SET", "proto-max-bulk-len", value)[0] == b"+OK\r\n"


def run(diff, script: str) -> None:
    """Run each line of script (split on spaces) on both servers and compare."""
    for line in script.strip().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            diff.check(*line.split())


# -- integration ---------------------------------------------------------------


def test_setbit_getbit(r):
    assert r.setbit("k", 1, 1) == 0
    assert r.get("k") == b"\x40"
    assert r.setbit("k", 1, 0) == 1
    assert r.setbit("k", 17, 1) == 0
    assert r.get("k") == b"\x00\x00\x40"
    assert r.getbit("k", 17) == 1
    assert r.getbit("k", 16) == 0
    assert r.getbit("k", 10_000) == 0
    assert r.getbit("missing", 3) == 0
    # "1" is 0x31 = 00110001
    r.set("n", "1")
    assert [r.getbit("n", i) for i in range(8)] == [0, 0, 1, 1, 0, 0, 0, 1]


def test_setbit_keeps_ttl(r):
    r.set("k", "a", ex=100)
    r.setbit("k", 30, 1)
    r.bitfield("k").set("u8", 40, 7).execute()
    assert 99 <= r.ttl("k") <= 100


def test_bitop_replaces_ttl_and_type(r):
    r.set("a", "\xff")
    r.set("d", "x", ex=100)
    assert r.bitop("NOT", "d", "a") == 2  # "\xff" is two bytes in UTF-8
    assert r.ttl("d") == -1
    r.lpush("l", "x")
    assert r.bitop("AND", "l", "a") == 2
    assert r.type("l") == b"string"
    assert r.bitop("OR", "l", "missing") == 0
    assert r.exists("l") == 0


def test_dirty_only_when_changed(r, server):
    """Redis's 'SETBIT/BITFIELD only increase dirty when the value changed'."""
    srv = server.server

    def dirty():
        return srv.dirty

    d = dirty()
    r.setbit("foo", 0, 0)
    r.bitfield("foo2").set("i5", 0, 0).execute()
    assert dirty() == d + 2
    d = dirty()
    r.setbit("foo", 0, 0)
    r.bitfield("foo2").set("i5", 0, 0).execute()
    assert dirty() == d
    for v in (1, 1, 0, 0):
        r.setbit("foo", 0, v)
        r.bitfield("foo2").set("i5", 0, v).execute()
    assert dirty() == d + 4
    d = dirty()
    r.bitfield("foo3").incrby("i5", 0, 1).execute()
    r.bitfield("foo3").incrby("i5", 0, 1).execute()
    assert dirty() == d + 2
    d = dirty()
    r.setbit("foo", 90, 0)
    r.bitfield("foo2").set("i5", 90, 0).execute()
    assert dirty() == d + 2
    d = dirty()
    # Several changes in one BITFIELD count each.
    r.bitfield("foo2").set("u8", 0, 1).set("u8", 8, 1).set("u8", 8, 1).execute()
    assert dirty() == d + 2


def test_propagation(r, propagated):
    r.setbit("k", 3, 1)
    r.setbit("k", 3, 1)  # unchanged: not propagated
    r.execute_command("BITFIELD", "k", "GET", "u8", "0")
    r.execute_command("BITFIELD", "k", "SET", "u8", "0", "16")  # unchanged
    r.execute_command("BITFIELD", "k", "INCRBY", "u8", "0", "1")
    r.execute_command("BITFIELD_RO", "k", "GET", "u8", "0")
    r.bitop("NOT", "d", "k")
    r.bitop("AND", "d", "missing")
    r.bitop("AND", "d", "missing")
    assert propagated == [
        [b"SETBIT", b"k", b"3", b"1"],
        [b"BITFIELD", b"k", b"INCRBY", b"u8", b"0", b"1"],
        [b"BITOP", b"NOT", b"d", b"k"],
        [b"BITOP", b"AND", b"d", b"missing"],
    ]


def test_keyspace_events(r, events):
    r.setbit("k", 3, 1)
    r.setbit("k", 3, 1)
    r.bitfield("k").set("u8", 0, 16).execute()
    r.bitfield("k").set("u8", 0, 1).execute()
    r.bitop("OR", "d", "k")
    r.bitop("OR", "d", "missing")
    r.bitop("OR", "d", "missing")
    assert events == [("$", "setbit", b"k"), ("$", "setbit", b"k"), ("$", "set", b"d"),
                      ("g", "del", b"d")]


def test_bitfield_regressions(r):
    # Redis issues #3221 and #3564.
    r.set("bits", "1")
    assert r.bitfield("bits").get("u1", 0).execute() == [0]
    for _ in range(3):
        r.delete("s")
        res = r.execute_command("BITFIELD", "s", "SET", "i8", "0", "10", "SET", "i8", "64",
                                "10", "INCRBY", "i8", "10", "99900")
        assert res == [0, 0, 60]


def test_bitfield_wide_fields_at_string_edges(r):
    r.set("k", b"\x80" + b"\x00" * 7 + b"\x01")
    assert r.execute_command("BITFIELD", "k", "GET", "i64", "0", "GET", "u63", "1",
                             "GET", "u63", "9", "GET", "i64", "8") == [
        -(2**63), 0, 1, 1]
    # Reads past the end see zeros; writes grow the string.
    assert r.execute_command("BITFIELD", "k", "GET", "u8", "68", "SET", "u16", "70", "65535",
                             "GET", "u16", "70", "GET", "i16", "70") == [16, 1 << 14, 65535, -1]
    assert r.strlen("k") == 11


# -- differential --------------------------------------------------------------------


def test_diff_setbit_getbit(diff):
    run(diff, """
    setbit k 1 1
    get k
    setbit k 1 2
    setbit k 1 -1
    setbit k 1 10
    setbit k 1 x
    setbit k -1 1
    setbit k 4294967296 1
    setbit k abc 1
    setbit k #1 1
    setbit k 1.5 1
    setbit k 100 0
    strlen k
    get k
    setbit k 7 1
    setbit k 7 0
    getbit k 1
    getbit k 7
    getbit k 1000
    getbit k -1
    getbit k 4294967296
    getbit k x
    getbit nokey 5
    getbit nokey x
    set n 1
    setbit n 6 1
    get n
    setbit n 2 0
    get n
    lpush l a
    setbit l 0 1
    setbit l -1 1
    getbit l 0
    getbit l x
    setbit k 0
    getbit k
    """)


def test_diff_bitcount(diff):
    diff.check("SET", "s", "foobar")
    diff.check("SET", "b", b"\xff\x00\xaa\x55\x0f")
    run(diff, """
    bitcount s
    bitcount s 0 0
    bitcount s 1 1
    bitcount s 1 1 byte
    bitcount s 1 1 BIT
    bitcount s 5 30 bit
    bitcount s -1 -2 foo
    bitcount s -1 -2
    bitcount s 0
    bitcount s 0 1 2 3
    bitcount s 0 -1 bits
    bitcount s a b
    bitcount s 0 b
    bitcount s 2 1
    bitcount s -100 -3 bit
    bitcount s 0 1000 bit
    bitcount s 1000 2000
    bitcount s -1000 -999
    bitcount s 9223372036854775807 -9223372036854775808 bit
    bitcount s -9223372036854775808 9223372036854775807 bit
    bitcount b 3 12 bit
    bitcount b 1 -2
    bitcount b -3 -1 bit
    bitcount nokey
    bitcount nokey 0
    bitcount nokey x y z
    lpush l a
    bitcount l
    bitcount l 0 1
    bitcount
    """)


def test_diff_bitpos(diff):
    diff.check("SET", "bp", b"\xff\xf0\x00")
    diff.check("SET", "ff", b"\xff\xff")
    diff.check("SET", "z", b"\x00\x00\x00")
    run(diff, """
    bitpos bp 0
    bitpos bp 1
    bitpos bp 2
    bitpos bp -1
    bitpos bp x
    bitpos bp 0 0 0
    bitpos bp 1 2
    bitpos bp 1 2 -1 byte
    bitpos bp 0 0 -1 bit
    bitpos bp 0 0 11 bit
    bitpos bp 0 3 3 bit
    bitpos bp 1 7 15 bit
    bitpos bp 1 17 23 bit
    bitpos bp 0 1 1 bit
    bitpos bp 0 1 1 x
    bitpos bp 0 1 1 bit x
    bitpos bp 0 x
    bitpos bp 0 0 x
    bitpos bp 1 5 2
    bitpos bp 1 -1 -3
    bitpos nokey 0 1 1 bit x
    bitpos nokey 1
    bitpos nokey 0
    bitpos nokey 2
    bitpos ff 0
    bitpos ff 0 0
    bitpos ff 0 0 -1
    bitpos ff 0 3 bit
    bitpos ff 0 3 15 bit
    bitpos ff 0 1 bit
    bitpos ff 1 -3 bit
    bitpos ff 1 5 3
    bitpos ff 0 100
    bitpos z 1
    bitpos z 1 1
    bitpos z 0 5 bit
    bitpos z 1 0 -1 bit
    lpush l a
    bitpos l 1
    bitpos l 2
    bitpos
    """)


def test_diff_bitop(diff):
    diff.check("SET", "a1", "abc")
    diff.check("SET", "a2", "ABCDEFG")
    diff.check("SET", "a3", b"\xff" * 40)
    diff.check("SET", "n", "123")
    run(diff, """
    bitop and d a1 a2
    get d
    bitop or d a1 a2
    get d
    bitop xor d a1 a2 nokey
    get d
    bitop not d a1
    get d
    bitop not d a3
    get d
    bitop not d a1 a2
    bitop not d
    bitop nand d a1
    bitop AND d a1 a3 a2
    get d
    bitop Or d a3 n
    get d
    bitop and d nokey nokey2
    exists d
    set d x
    bitop xor d nokey
    exists d
    lpush l a
    bitop and d l a1
    bitop and d a1 l
    bitop and l a1
    type l
    bitop or a1 a1 a2
    get a1
    bitop and d
    """)


def test_diff_bitfield(diff):
    run(diff, """
    bitfield bf set i8 0 -100 get i8 0 get u8 0
    bitfield bf set u8 0 -1
    bitfield bf overflow sat set u8 0 -1
    bitfield bf overflow fail set u8 0 -1
    bitfield bf overflow fail set u8 0 256 get u8 0
    bitfield bf overflow sat set i8 0 -200 get i8 0
    bitfield bf incrby u2 100 1 incrby u2 100 10 overflow sat incrby u2 100 10 overflow fail incrby u2 100 1
    bitfield bf incrby i5 100 1 incrby i5 100 100 overflow sat incrby i5 100 100 incrby i5 100 -100 overflow wrap incrby i5 100 -100
    bitfield bf set i64 0 -9223372036854775808 incrby i64 0 -1 overflow sat incrby i64 0 -1 get i64 0 get u63 0
    bitfield bf overflow sat set i64 0 9223372036854775807 incrby i64 0 1 overflow fail incrby i64 0 1 overflow wrap incrby i64 0 9223372036854775807
    bitfield bf set u63 0 9223372036854775807 incrby u63 0 1 get u63 1
    bitfield bf overflow sat incrby u63 0 -9223372036854775808 incrby u63 0 9223372036854775807
    bitfield bf overflow fail incrby u4 0 -1 overflow wrap incrby u4 0 -1 overflow sat incrby u4 0 -100
    bitfield bf set u64 0 1
    bitfield bf set i65 0 1
    bitfield bf set x8 0 1
    bitfield bf set i0 0 1
    bitfield bf set u 0 1
    bitfield bf set I8 0 1
    bitfield bf set i8 -1 1
    bitfield bf set i8 #2 1 get u8 16 get u8 #2
    bitfield bf set i8 #-1 1
    bitfield bf set i8 #4611686018427387904 1
    bitfield bf set i8 #x 1
    bitfield bf get i8
    bitfield bf overflow
    bitfield bf overflow foo get i8 0
    bitfield bf OVERFLOW SAT INCRBY u8 0 300
    bitfield bf foo
    bitfield bf set i8 0
    bitfield bf set i8 0 abc
    bitfield bf incrby i8 0 1.5
    bitfield bf get u8 0 foo
    bitfield bf
    bitfield nokey
    bitfield nokey get u4 0
    exists nokey
    bitfield_ro bf get u8 0 get i4 4
    bitfield_ro bf set u8 0 1
    bitfield_ro bf set u8 0 x
    bitfield_ro bf overflow sat get u8 0
    bitfield_ro bf incrby u8 0 1
    bitfield_ro bf
    bitfield_ro nokey get u8 0
    lpush l a
    bitfield l get u8 0
    bitfield l set u8 0 1
    bitfield l
    bitfield_ro l get u8 0
    bitfield_ro l
    bitfield bf4 overflow fail incrby u2 100 5
    strlen bf4
    set x 1
    bitfield x overflow fail incrby u2 100 5
    strlen x
    bitfield bf get u8 536870911
    bitfield bf get u8 4294967296
    bitfield bf get i64 #67108863
    bitfield bf get i64 #67108864
    bitfield
    bitfield_ro
    """)


def test_diff_bitfield_resp3(diff3):
    run(diff3, """
    bitfield k overflow fail incrby u2 0 5 get u2 0
    bitfield_ro k get u8 0
    bitfield k
    """)


def test_diff_offset_limit_follows_proto_max_bulk_len(diff, server):
    try:
        set_max_bulk_len(server, diff, "1mb")
        run(diff, """
        setbit k 8388607 1
        setbit k 8388608 1
        getbit k 8388608
        bitfield k get u8 8388600
        bitfield k get u8 8388608
        bitfield k get u8 #1048576
        strlen k
        """)
    finally:
        set_max_bulk_len(server, diff, "512mb")


def test_diff_wrong_arity_messages(diff):
    for cmd in ("setbit", "getbit", "bitcount", "bitpos", "bitop", "bitfield", "bitfield_ro"):
        diff.check(cmd)
    for cmd in ("setbit", "getbit"):
        diff.check(cmd, "a", "1", "1", "1")


# -- fuzzing -------------------------------------------------------------------------


def _rand_bytes(rnd: random.Random, n: int) -> bytes:
    pick = rnd.random()
    if pick < 0.3:
        return bytes(rnd.choice((0, 255)) for _ in range(n))
    return bytes(rnd.getrandbits(8) for _ in range(n))


def test_diff_bitcount_bitpos_fuzz(diff):
    rnd = random.Random(11)
    for _ in range(60):
        v = _rand_bytes(rnd, rnd.randint(1, 12))
        diff.check("SET", "s", v)
        n = len(v)
        for _ in range(8):
            a = str(rnd.randint(-9 * n, 9 * n))
            b = str(rnd.randint(-9 * n, 9 * n))
            mode = rnd.choice(["BIT", "BYTE"])
            diff.check("BITCOUNT", "s", a, b, mode)
            bit = rnd.choice("01")
            diff.check("BITPOS", "s", bit, a, b, mode)
            diff.check("BITPOS", "s", bit, a)
            diff.check("BITPOS", "s", bit, a, b)


def test_diff_bitop_fuzz(diff):
    rnd = random.Random(12)
    for _ in range(40):
        keys = []
        for i in range(rnd.randint(1, 4)):
            diff.check("SET", f"k{i}", _rand_bytes(rnd, rnd.randint(0, 70)))
            keys.append(f"k{i}")
        op = rnd.choice(["AND", "OR", "XOR", "NOT"])
        if op == "NOT":
            keys = keys[:1]
        diff.check("BITOP", op, "dest", *keys)
        diff.check("GET", "dest")


def test_diff_bitfield_fuzz(diff):
    rnd = random.Random(13)
    for _ in range(120):
        args = ["BITFIELD", "f"]
        for _ in range(rnd.randint(1, 5)):
            kind = rnd.random()
            signed = rnd.random() < 0.5
            bits = rnd.randint(1, 64 if signed else 63)
            typ = ("i" if signed else "u") + str(bits)
            off = str(rnd.randint(0, 80)) if rnd.random() < 0.8 else "#" + str(rnd.randint(0, 3))
            if kind < 0.2:
                args += ["OVERFLOW", rnd.choice(["WRAP", "SAT", "FAIL"])]
            if kind < 0.4:
                args += ["GET", typ, off]
            else:
                op = rnd.choice(["SET", "INCRBY"])
                mag = rnd.choice([4, 16, bits, 63])
                val = rnd.randint(-(2**mag), 2**mag)
                val = max(-(2**63), min(2**63 - 1, val))
                args += [op, typ, off, str(val)]
        diff.check(*args)
        if rnd.random() < 0.1:
            diff.check("GET", "f")


# -- random sequences ----------------------------------------------------------------

_KEYS = st.sampled_from(["a", "b", "c"])
_VALUES = st.sampled_from(["", "v", "foobar", "10", "\xff\xff", "\x00", "a" * 33])
_INTS = st.integers(-30, 30).map(str)
_TYPES = st.sampled_from(["u1", "u4", "i4", "u8", "i8", "i13", "u32", "i64", "u63"])

_COMMANDS = st.one_of(
    st.tuples(st.just("SET"), _KEYS, _VALUES),
    st.tuples(st.just("GET"), _KEYS),
    st.tuples(st.just("SETBIT"), _KEYS, st.integers(0, 80).map(str),
              st.sampled_from(["0", "1", "2"])),
    st.tuples(st.just("GETBIT"), _KEYS, st.integers(0, 80).map(str)),
    st.tuples(st.just("BITCOUNT"), _KEYS),
    st.tuples(st.just("BITCOUNT"), _KEYS, _INTS, _INTS, st.sampled_from(["BIT", "BYTE"])),
    st.tuples(st.just("BITPOS"), _KEYS, st.sampled_from(["0", "1"])),
    st.tuples(st.just("BITPOS"), _KEYS, st.sampled_from(["0", "1"]), _INTS, _INTS,
              st.sampled_from(["BIT", "BYTE"])),
    st.tuples(st.just("BITOP"), st.sampled_from(["AND", "OR", "XOR"]), _KEYS, _KEYS, _KEYS),
    st.tuples(st.just("BITOP"), st.just("NOT"), _KEYS, _KEYS),
    st.tuples(st.just("BITFIELD"), _KEYS, st.sampled_from(["SET", "INCRBY"]), _TYPES,
              st.integers(0, 40).map(str), st.integers(-300, 300).map(str)),
    st.tuples(st.just("BITFIELD"), _KEYS, st.just("OVERFLOW"),
              st.sampled_from(["WRAP", "SAT", "FAIL"]), st.just("INCRBY"), _TYPES,
              st.integers(0, 40).map(str), st.integers(-300, 300).map(str)),
    st.tuples(st.sampled_from(["BITFIELD", "BITFIELD_RO"]), _KEYS, st.just("GET"), _TYPES,
              st.integers(0, 40).map(str)),
    st.tuples(st.just("LPUSH"), _KEYS, _VALUES),
    st.tuples(st.sampled_from(["STRLEN", "EXISTS"]), _KEYS),
)


@settings(max_examples=400, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(_COMMANDS, min_size=1, max_size=25))
def test_hypothesis_bit_sequences(diff, cmds):
    diff.flush()
    for cmd in cmds:
        diff.check(*cmd)
