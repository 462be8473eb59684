"""String commands: integration (redis-py), differential (against redis-server)
and hypothesis-driven random sequences."""

from __future__ import annotations

import random

import pytest
import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kvserver.commands.strings import incr_long_double, string_encoding
from kvserver.errors import CommandError


def set_max_bulk_len(server, diff, value: str) -> None:
    """proto-max-bulk-len on both servers (kvserver's set in-process, so this
    does not depend on the CONFIG command)."""
    server.call_in_loop(server.server.config.config_set, [("proto-max-bulk-len", value)])
    assert diff.redis.call("CONFIG", "SET", "proto-max-bulk-len", value)[0] == b"+OK\r\n"


def run(diff, script: str) -> None:
    """Run each line of script (split on spaces; '' is an empty argument) on both servers."""
    for line in script.strip().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            diff.check(*[a if a != "''" else "" for a in line.split()])


# -- unit ----------------------------------------------------------------------


@pytest.mark.parametrize("value,enc", [
    (b"0", "int"), (b"-1", "int"), (b"9223372036854775807", "int"),
    (b"-9223372036854775808", "int"), (b"9223372036854775808", "embstr"),
    (b"01", "embstr"), (b"+1", "embstr"), (b" 1", "embstr"), (b"", "embstr"),
    (b"x" * 44, "embstr"), (b"x" * 45, "raw"), (b"1" * 45, "raw"),
])
def test_string_encoding(value, enc):
    assert string_encoding(value) == enc


@pytest.mark.parametrize("value,incr,out", [
    (None, b"1.1", b"1.1"),
    (b"1.1", b"3e5", b"300001.09999999999999432"),
    (b"10.5", b"0.1", b"10.6"),
    (b"1", b"-1.1", b"-0.1"),
    (b"5.0e3", b"2.0e2", b"5200"),
    (b"0.02439024390243902", b"-0.02439024390243902", b"0"),
    (b"0", b"1e-30", b"0"),
    (b"0", b"-1e-30", b"0"),
    (b"0", b"0x1p3", b"8"),
    (b"17179869184", b"1.5", b"17179869185.5"),
])
def test_incr_long_double(value, incr, out):
    assert incr_long_double(value, incr) == out


@pytest.mark.parametrize("value,incr,err", [
    (b"abc", b"1", "ERR value is not a valid float"),
    (b"1", b" 1", "ERR value is not a valid float"),
    (b"1", b"1 ", "ERR value is not a valid float"),
    (b"1", b"nan", "ERR value is not a valid float"),
    (b"1\x002", b"1", "ERR value is not a valid float"),
    (b"1", b"1e5000", "ERR value is not a valid float"),
    (b"1", b"1e-5000", "ERR value is not a valid float"),
    (b"1", b"inf", "ERR increment would produce NaN or Infinity"),
    (b"1.1e4932", b"1.1e4932", "ERR increment would produce NaN or Infinity"),
])
def test_incr_long_double_errors(value, incr, err):
    with pytest.raises(CommandError) as e:
        incr_long_double(value, incr)
    assert e.value.msg == err


def test_incr_long_double_huge_inputs():
    # Past Python's int <-> str digit limit, and beyond the double range.
    assert incr_long_double(b"1e4000", b"0").startswith(b"99999999999999999999")
    assert incr_long_double(b"0", b"1e" + b"0" * 4400 + b"1") == b"10"
    assert incr_long_double(b"0", b"0e99999999999999999") == b"0"


# -- integration ---------------------------------------------------------------


def test_set_get_basics(r):
    assert r.set("k", "v") is True
    assert r.get("k") == b"v"
    assert r.set("k", "") is True
    assert r.get("k") == b""
    assert r.get("missing") is None
    big = b"x" * 1_000_000
    assert r.set("big", big) is True
    assert r.get("big") == big


def test_set_expiry_options(r, server):
    assert r.set("k", "v", ex=100) is True
    assert 99 <= r.ttl("k") <= 100
    assert r.set("k", "v", px=50_000) is True
    assert 49_000 <= r.pttl("k") <= 50_000
    now = server.server.now_ms()
    assert r.set("k", "v", pxat=now + 30_000) is True
    assert 29_000 <= r.pttl("k") <= 30_000
    assert r.set("k", "v", exat=now // 1000 + 20) is True
    assert 18 <= r.ttl("k") <= 20
    assert r.set("k", "w", keepttl=True) is True
    assert 18 <= r.ttl("k") <= 20
    assert r.get("k") == b"w"
    assert r.set("k", "x") is True
    assert r.ttl("k") == -1


def test_set_expired_key_then_gone(r, server):
    r.set("k", "v", px=100)
    server.advance_time(1)
    assert r.get("k") is None
    # NX sees an expired key as missing.
    r.set("k2", "v", ex=1)
    server.advance_time(2)
    assert r.set("k2", "new", nx=True) is True
    assert r.get("k2") == b"new"
    assert r.ttl("k2") == -1


def test_set_in_past_absolute_time(r):
    # Redis 7.0 accepts a past EXAT/PXAT in SET; the key is then gone.
    assert r.set("k", "v", pxat=1) is True
    assert r.get("k") is None


def test_getex_and_persist(r, server):
    r.set("k", "v", ex=100)
    assert r.getex("k", persist=True) == b"v"
    assert r.ttl("k") == -1
    assert r.getex("k", ex=50) == b"v"
    assert 49 <= r.ttl("k") <= 50
    assert r.getex("k", px=20_000) == b"v"
    assert 19_000 <= r.pttl("k") <= 20_000
    now = server.server.now_ms()
    assert r.getex("k", exat=now // 1000 + 10) == b"v"
    assert 8 <= r.ttl("k") <= 10
    assert r.getex("k") == b"v"
    assert 8 <= r.ttl("k") <= 10
    # An absolute time in the past deletes the key, after replying its value.
    assert r.getex("k", pxat=1) == b"v"
    assert r.exists("k") == 0


def test_incr_keeps_ttl_and_append_keeps_ttl(r):
    r.set("n", "10", ex=100)
    assert r.incr("n") == 11
    assert r.incrbyfloat("n", 0.5) == 11.5
    assert r.append("n", "0") == 5
    assert r.setrange("n", 0, "2") == 5
    assert r.get("n") == b"21.50"
    assert 99 <= r.ttl("n") <= 100
    assert r.getset("n", "1") == b"21.50"
    assert r.ttl("n") == -1


def test_incr_overflow(r):
    r.set("n", str(2**63 - 1))
    with pytest.raises(Exception, match="increment or decrement would overflow"):
        r.incr("n")
    assert r.get("n") == str(2**63 - 1).encode()
    assert r.decrby("n", 2**63 - 1) == 0
    with pytest.raises(Exception, match="decrement would overflow"):
        r.decrby("n", -(2**63))


def test_mget_mset(r):
    assert r.mset({"a": "1", "b": "2"}) is True
    r.lpush("l", "x")
    assert r.mget("a", "b", "missing", "l") == [b"1", b"2", None, None]
    assert r.msetnx({"c": "3", "a": "9"}) is False
    assert r.get("c") is None
    assert r.msetnx({"c": "3", "d": "4"}) is True
    assert r.mget("c", "d") == [b"3", b"4"]


def test_lcs_large_is_fast_enough(r):
    rnd = random.Random(7)
    a = bytes(rnd.choice(b"ACGT") for _ in range(3000))
    b = bytes(rnd.choice(b"ACGT") for _ in range(3000))
    r.mset({"a": a, "b": b})
    n = r.execute_command("LCS", "a", "b", "LEN")
    s = r.execute_command("LCS", "a", "b")
    assert len(s) == n > 1500
    # s is a subsequence of both strings.
    for src in (a, b):
        it = iter(src)
        assert all(ch in it for ch in s)


# -- propagation and keyspace events ------------------------------------------------


def test_propagation_of_rewritten_commands(r, server, propagated):
    r.set("k", "v", ex=100)
    r.execute_command("SET", "k", "v2", "GET", "NX", "get")
    r.execute_command("SET", "k", "v3", "GET")
    r.execute_command("SETEX", "s", "10", "v")
    r.psetex("p", 10_000, "v")
    r.getset("k", "v4")
    r.getex("k", ex=10)
    r.getex("k", persist=True)
    r.getex("k", persist=True)  # no TTL: nothing changes, nothing propagated
    r.getex("k")
    r.set("f", "1", ex=100)
    r.incrbyfloat("f", "1.5")
    r.getdel("k")
    r.getdel("k")
    r.getex("s", pxat=1)
    r.set("n", "1")
    r.setnx("n", "2")
    r.set("n", "3", nx=True)
    names = [a[0].upper() for a in propagated]
    assert names == [b"SET", b"SET", b"SET", b"SET", b"SET", b"PEXPIREAT", b"PERSIST",
                     b"SET", b"SET", b"DEL", b"DEL", b"SET"]
    now = server.server.now_ms()
    set_ex = propagated[0]
    assert set_ex[:4] == [b"SET", b"k", b"v", b"PXAT"]
    assert now + 98_000 <= int(set_ex[4]) <= now + 100_000
    assert propagated[1] == [b"SET", b"k", b"v3"]  # without GET
    assert propagated[2][:4] == [b"SET", b"s", b"v", b"PXAT"]
    assert propagated[3][:4] == [b"SET", b"p", b"v", b"PXAT"]
    assert propagated[4] == [b"SET", b"k", b"v4"]
    assert propagated[5][:2] == [b"PEXPIREAT", b"k"]
    assert propagated[6] == [b"PERSIST", b"k"]
    assert propagated[7][:4] == [b"SET", b"f", b"1", b"PXAT"]
    assert propagated[8] == [b"SET", b"f", b"2.5", b"KEEPTTL"]
    assert propagated[9] == [b"DEL", b"k"]
    assert propagated[10] == [b"DEL", b"s"]
    assert propagated[11] == [b"SET", b"n", b"1"]


def test_plain_set_over_expired_key_propagates_del(r, server, propagated):
    r.set("k", "v", px=10)
    server.advance_time(1)
    propagated.clear()
    r.set("k", "new")
    assert propagated == [[b"DEL", b"k"], [b"SET", b"k", b"new"]]


def test_keyspace_events(r, events):
    r.set("k", "v")
    r.set("k", "v", ex=10)
    r.append("k", "w")
    r.setrange("k", 0, "x")
    r.incr("n")
    r.decrby("n", 2)
    r.incrbyfloat("n", 1.5)
    r.getex("k", ex=10)
    r.getex("k", persist=True)
    r.getdel("k")
    r.mset({"a": "1", "b": "2"})
    r.getset("a", "2")
    r.getex("b", pxat=1)
    assert events == [
        ("$", "set", b"k"), ("$", "set", b"k"), ("g", "expire", b"k"),
        ("$", "append", b"k"), ("$", "setrange", b"k"), ("$", "incrby", b"n"),
        ("$", "incrby", b"n"), ("$", "incrbyfloat", b"n"), ("g", "expire", b"k"),
        ("g", "persist", b"k"), ("g", "del", b"k"), ("$", "set", b"a"), ("$", "set", b"b"),
        ("$", "set", b"a"), ("g", "del", b"b"),
    ]


def test_watch_broken_by_string_writes(server):
    for cmd in (("APPEND", "k", "x"), ("INCR", "n"), ("SETRANGE", "k", "0", "y"),
                ("INCRBYFLOAT", "n", "1"), ("GETEX", "k", "EX", "10"), ("GETDEL", "k")):
        c1, c2 = server.client(), server.client()
        c1.flushall()
        c1.set("k", "v")
        c1.set("n", "1")
        p = c1.pipeline()
        p.watch(*{cmd[1]})
        p.multi()
        c2.execute_command(*cmd)
        p.set("other", "1")
        with pytest.raises(redis.WatchError):
            p.execute()
        c1.close()
        c2.close()


# -- differential --------------------------------------------------------------------


def test_diff_set_options(diff):
    run(diff, """
    set k v ex 0
    set k v ex -1
    set k v ex abc
    set k v ex 9223372036854775807
    set k v px 9223372036854775807
    set k v pxat 9223372036854775807
    set k v exat 9223372036854775807
    set k v ex 9223372036854775
    set k v nx xx
    set k v xx nx
    set k v ex 10 px 10
    set k v ex 10 keepttl
    set k v keepttl px 10
    set k v exat 10 pxat 10
    set k v foo
    set k v ex
    set k v ex 10 ex 20
    ttl k
    set k v keepttl keepttl
    ttl k
    set k v EX 30 GET
    ttl k
    set k v2 get get
    get k
    set k v NX
    set k v3 Xx
    get k
    set new v XX
    exists new
    set new v XX GET
    set new v NX GET
    set new v2 NX GET
    get new
    lpush l a
    set l v get
    set l v nx get
    set l v nx
    set l v xx get
    set l v2 xx get
    get l
    type l
    set
    set k
    get
    get a b
    """)


def test_diff_setnx_setex_psetex(diff):
    run(diff, """
    setnx k v
    setnx k w
    get k
    lpush l a
    setnx l v
    setex k 0 v
    setex k -1 v
    setex k abc v
    setex k 9223372036854776 v
    setex k 100 v
    ttl k
    psetex k 0 v
    psetex k -5 v
    psetex k x v
    psetex k 100000 w
    ttl k
    get k
    setex l 10 v
    type l
    setnx k
    setex k 10
    psetex k 10 v x
    """)


def test_diff_getex_getdel_getset(diff):
    run(diff, """
    getex nokey
    getex nokey ex -5
    getex nokey foo
    set k v
    getex k
    getex k keepttl
    getex k nx
    getex k get
    getex k ex -5
    getex k ex 0
    getex k px abc
    getex k ex 10 px 10
    getex k persist ex 10
    getex k ex 10 persist
    getex k persist persist
    getex k ex
    getex k exat 9223372036854775807
    getex k ex 100
    ttl k
    getex k ex 50 ex 100
    ttl k
    getex k persist
    ttl k
    getex k px 200000
    ttl k
    getex k exat 1
    exists k
    set k v
    getex k pxat 1
    exists k
    lpush l a
    getex l
    getex l ex 10
    getex l foo
    getdel nokey
    set k v
    getdel k
    getdel k
    getdel l
    getset k v1
    getset k v2
    get k
    getset l v
    getex
    getdel
    getdel a b
    getset k
    """)


def test_diff_mget_mset_msetnx(diff):
    run(diff, """
    mset a
    mset a 1 b
    msetnx a
    msetnx a b c
    mset a 1 b 2 a 3
    mget a b c
    lpush l x
    mget a l nokey
    msetnx a 1 zz 2
    msetnx q 1 zz 2
    msetnx x1 xxx x1 zzz
    get x1
    msetnx x1 yyy x2 yyy
    msetnx l 1
    mset l v
    type l
    mget q zz
    mget
    """)


def test_diff_append_strlen_setrange_getrange(diff):
    run(diff, """
    append k abc
    append k def
    append k ''
    get k
    strlen k
    strlen nokey
    set n -555
    strlen n
    append n 5
    get n
    lpush l x
    append l x
    strlen l
    setrange k -1 x
    setrange k abc x
    setrange k 1.5 x
    setrange k 2 XY
    get k
    setrange k 20 Z
    get k
    setrange nokey 0 ''
    exists nokey
    setrange nokey 3 ''
    setrange nokey2 3 a
    get nokey2
    setrange l 0 ''
    setrange l 0 a
    setrange l -1 a
    set m 1234
    setrange m 0 2
    setrange m 5 2
    get m
    setrange k 536870908 world
    setrange newk 536870908 world
    setrange newk 536870911 ''
    set hw "Hello World"
    getrange hw 0 3
    getrange hw 0 -1
    getrange hw -4 -1
    getrange hw 5 3
    getrange hw 5 5000
    getrange hw -5000 10000
    getrange hw -1 -3
    getrange hw 0 -100
    getrange hw -100 -50
    getrange hw 9223372036854775807 -9223372036854775808
    getrange hw -9223372036854775808 9223372036854775807
    getrange nokey 0 -1
    getrange nokey a 1
    getrange hw a 1
    getrange hw 1 b
    getrange l 0 1
    substr hw 1 3
    substr hw -3 -1
    substr l 0 1
    set e ''
    getrange e 0 -1
    getrange e 0 0
    getrange hw 0
    """)


def test_diff_incr_family(diff):
    run(diff, """
    incr n
    incr n
    decr n
    incrby n 100
    decrby n 50
    incrby n -100
    incrby n abc
    incrby n 1.5
    incrby n ''
    decrby n 9223372036854775808
    decrby n -9223372036854775808
    set n 9223372036854775807
    incr n
    incrby n 1
    decrby n -1
    decr n
    get n
    set n -9223372036854775808
    decr n
    incrby n -1
    decrby n 1
    incrby n 9223372036854775807
    set n " 1"
    incr n
    set n "1 "
    incr n
    set n 01
    incr n
    set n +1
    incr n
    set n 1.0
    incr n
    set n 00
    decr n
    set n -0
    incr n
    set n 12345678901234567890
    incr n
    set n ''
    incr n
    lpush l x
    incr l
    decr l
    incrby l 1
    decrby l 1
    incrby l x
    incr
    incrby n
    """)


def test_diff_incrbyfloat(diff):
    run(diff, """
    incrbyfloat f 1.1
    incrbyfloat f 3e5
    set f 10.5
    incrbyfloat f 0.1
    incrbyfloat f -5.0e3
    incrbyfloat f abc
    incrbyfloat f ''
    incrbyfloat f " 1"
    incrbyfloat f "1 "
    incrbyfloat f +inf
    incrbyfloat f -inf
    incrbyfloat f Infinity
    incrbyfloat f nan
    incrbyfloat f 1e400
    incrbyfloat f -1e400
    incrbyfloat f 0x1p3
    incrbyfloat f -0X.8P1
    incrbyfloat f 0x
    incrbyfloat f 1.5e4932
    incrbyfloat f 1e-5000
    incrbyfloat f 1e-4950
    incrbyfloat f .5
    incrbyfloat f 5.
    incrbyfloat f .
    incrbyfloat f 1e
    incrbyfloat f 1e+2
    incrbyfloat f 1_0
    incrbyfloat f 123456789012345678901234567890
    incrbyfloat f 1.0000000000000000000000000000001
    incrbyfloat f -123456789012345678901234567890.5
    get f
    incrbyfloat fneg -0.000000000000000001
    incrbyfloat fneg2 -0.000000000000000006
    incrbyfloat tiny 1e-20
    get tiny
    set inf inf
    incrbyfloat inf 1
    set bad 1.5abc
    incrbyfloat bad 1
    set g 1e-4950
    incrbyfloat g 0
    set h 1.18e4932
    incrbyfloat h 1e4931
    incrbyfloat h -1e4932
    lpush l x
    incrbyfloat l 1
    incrbyfloat l abc
    incrbyfloat
    incrbyfloat f
    """)


def _random_float_text(rnd: random.Random) -> str:
    k = rnd.random()
    if k < 0.25:
        return repr(rnd.uniform(-1e6, 1e6))
    if k < 0.4:
        return str(rnd.randint(-10**22, 10**22))
    if k < 0.7:
        d = "".join(rnd.choice("0123456789") for _ in range(rnd.randint(1, 30)))
        pos = rnd.randint(0, len(d))
        s = rnd.choice(["", "-", "+"]) + d[:pos] + "." + d[pos:]
        return s + (f"e{rnd.randint(-30, 30)}" if rnd.random() < 0.5 else "")
    if k < 0.85:
        return f"{rnd.uniform(-10, 10):.{rnd.randint(0, 25)}f}e{rnd.randint(-4955, 4935)}"
    return rnd.choice(["0x1p-3", "0x1.8p10", "-0x.Fp2", "inf", "1e4932", "1.18e4932",
                       "3.6e-4951", "1e-4951", "0.00000000000000000000001", "1e-17",
                       "0.000000000000000005", "-0.000000000000000015"])


def test_diff_incrbyfloat_fuzz(diff):
    """Long double parsing, addition and %.17Lf formatting, against Redis."""
    rnd = random.Random(5)
    for _ in range(400):
        diff.check("SET", "f", _random_float_text(rnd))
        diff.check("INCRBYFLOAT", "f", _random_float_text(rnd))
        diff.check("INCRBYFLOAT", "f", _random_float_text(rnd))


def test_diff_incrbyfloat_null_terminator(diff):
    run(diff, """
    set foo 1
    setrange foo 2 2
    incrbyfloat foo 1
    """)
    diff.check("SET", "z", b"1\x00")
    diff.check("INCRBYFLOAT", "z", "1")
    diff.check("INCRBYFLOAT", "y", b"1\x00")


def test_diff_lcs(diff):
    run(diff, """
    lcs a b
    lcs a b len
    lcs a b idx
    set s1 ohmytext
    set s2 mynewtext
    lcs s1 s2
    lcs s1 s2 len
    lcs s1 s2 LEN
    lcs s1 s2 idx
    lcs s1 s2 IDX WITHMATCHLEN
    lcs s1 s2 idx minmatchlen 4 withmatchlen
    lcs s1 s2 idx minmatchlen 4
    lcs s1 s2 idx minmatchlen -4 withmatchlen
    lcs s1 s2 idx minmatchlen x
    lcs s1 s2 minmatchlen
    lcs s1 s2 minmatchlen 2
    lcs s1 s2 len minmatchlen 2 withmatchlen
    lcs s1 s2 len idx
    lcs s1 s2 idx len
    lcs s1 s2 foo
    lcs s1 nokey idx
    lcs nokey s1 idx withmatchlen
    lcs s1 s1 idx withmatchlen
    lcs s2 s1 idx withmatchlen
    lpush l x
    lcs l s1
    lcs s1 l
    lcs l nokey len
    lcs s1 l foo
    lcs s1
    """)
    rnd = random.Random(3)
    for _ in range(40):
        a = bytes(rnd.choice(b"abc") for _ in range(rnd.randint(0, 20)))
        b = bytes(rnd.choice(b"abc") for _ in range(rnd.randint(0, 20)))
        diff.check("MSET", "a", a, "b", b)
        diff.check("LCS", "a", "b")
        diff.check("LCS", "a", "b", "IDX", "WITHMATCHLEN")
        diff.check("LCS", "a", "b", "IDX", "MINMATCHLEN", "2")


_RNA1 = ("CACCTTCCCAGGTAACAAACCAACCAACTTTCGATCTCTTGTAGATCTGTTCTCTAAACGAACTTTAAAATCTGTGTGGCTGTCA"
         "CTCGGCTGCATGCTTAGTGCACTCACGCAGTATAATTAATAACTAATTACTGTCGTTGACAGGACACGAGTAACTCGTCTATC"
         "TTCTGCAGGCTGCTTACGGTTTCGTCCGTGTTGCAGCCGATCATCAGCACATCTAGGTTTCGTCCGGGTGTG")
_RNA2 = ("ATTAAAGGTTTATACCTTCCCAGGTAACAAACCAACCAACTTTCGATCTCTTGTAGATCTGTTCTCTAAACGAACTTTAAAATCT"
         "GTGTGGCTGTCACTCGGCTGCATGCTTAGTGCACTCACGCAGTATAATTAATAACTAATTACTGTCGTTGACAGGACACGAGTA"
         "ACTCGTCTATCTTCTGCAGGCTGCTTACGGTTTCGTCCGTGTTGCAGCCGATCATCAGCACATCTAGGTTT")

_RNA_LCS = ("ACCTTCCCAGGTAACAAACCAACCAACTTTCGATCTCTTGTAGATCTGTTCTCTAAACGAACTTTAAAATCTGTGTGGCTGTCACT"
            "CGGCTGCATGCTTAGTGCACTCACGCAGTATAATTAATAACTAATTACTGTCGTTGACAGGACACGAGTAACTCGTCTATCTTC"
            "TGCAGGCTGCTTACGGTTTCGTCCGTGTTGCAGCCGATCATCAGCACATCTAGGTTT")


def test_diff_lcs_redis_suite_vectors(diff):
    diff.check("MSET", "virus1", _RNA1, "virus2", _RNA2)
    lcs = diff.check("LCS", "virus1", "virus2")
    assert lcs == _RNA_LCS.encode()
    diff.check("LCS", "virus1", "virus2", "LEN")
    diff.check("LCS", "virus1", "virus2", "IDX")
    diff.check("LCS", "virus1", "virus2", "IDX", "WITHMATCHLEN")
    diff.check("LCS", "virus1", "virus2", "IDX", "WITHMATCHLEN", "MINMATCHLEN", "5")
    diff.check("LCS", "virus2", "virus1", "IDX", "WITHMATCHLEN")


def test_diff_setrange_huge_offsets(diff):
    for off in ("9223372036854775807", "2147483647", "536870912", "9223372036854775808"):
        diff.check("SETRANGE", "K", off, "A")
        diff.check("SET", "S", "x")
        diff.check("SETRANGE", "S", off, "A")
    diff.check("SET", "foo", "bar")
    diff.check("GETRANGE", "foo", "0", "4294967297")


def test_diff_lcs_resp3(diff3):
    diff3.check("MSET", "a", "ohmytext", "b", "mynewtext")
    diff3.check("LCS", "a", "b", "IDX", "WITHMATCHLEN")
    diff3.check("LCS", "a", "b", "IDX")
    diff3.check("LCS", "x", "y", "IDX")


def test_diff_resp3_nulls(diff3):
    run(diff3, """
    get nokey
    set k v nx get
    set k v xx
    mget k nokey
    getex nokey
    getdel nokey
    getset nokey v
    incrbyfloat f 1.5
    """)


def test_diff_proto_max_bulk_len(diff, server):
    try:
        set_max_bulk_len(server, diff, "1mb")
        run(diff, """
        setrange k 1048570 0123456789
        setrange k 1048566 0123456789
        strlen k
        append k 0123456789
        append k 0
        strlen k
        """)
        diff.check("SET", "a", "x" * 600)
        diff.check("SET", "b", "y" * 600)
        diff.check("LCS", "a", "b", "LEN")
        diff.check("SET", "b", "y" * 400)
        diff.check("LCS", "a", "b", "LEN")
    finally:
        set_max_bulk_len(server, diff, "512mb")


def test_diff_object_encoding_of_set_values(diff):
    # Values stored by the SET family go through Redis's tryObjectEncoding.
    for v in ("123", "-9223372036854775808", "9223372036854775808", "01", "-0", "+5", " 1",
              "abc", "", "x" * 44, "x" * 45, "1" * 45, "1.5"):
        diff.check("SET", "k", v)
        diff.check("OBJECT", "ENCODING", "k")
    diff.check("MSET", "a", "7", "b", "seven")
    diff.check("OBJECT", "ENCODING", "a")
    diff.check("OBJECT", "ENCODING", "b")
    diff.check("INCR", "n")
    diff.check("OBJECT", "ENCODING", "n")


def test_diff_wrong_arity_messages(diff):
    for cmd in ("get", "set", "getex", "getdel", "getset", "mget", "mset", "msetnx", "setnx",
                "setex", "psetex", "append", "strlen", "setrange", "getrange", "substr", "lcs",
                "incr", "decr", "incrby", "decrby", "incrbyfloat"):
        diff.check(cmd)
        diff.check(cmd.upper(), "a", "b", "c", "d", "e", "f")


# -- random sequences ----------------------------------------------------------------

_KEYS = st.sampled_from(["a", "b", "c"])
_VALUES = st.sampled_from(["", "v", "abc", "10", "-3", "0", "1.5", "9223372036854775807",
                           "x y", "\xff", "007", "1e3", "hello world"])
_SMALL = st.integers(-12, 12).map(str)
_FLOATS = st.one_of(
    st.sampled_from(["0.1", "-1.1", "3e5", "1e-20", "abc", "inf", "1e400", "0x10", ".5"]),
    st.floats(allow_nan=False, allow_infinity=False, width=32).map(repr),
)
_SET_OPTS = st.lists(st.sampled_from([["NX"], ["XX"], ["GET"], ["KEEPTTL"], ["EX", "100"],
                                      ["PX", "100000"], ["EX", "0"]]), max_size=3)

_COMMANDS = st.one_of(
    st.tuples(st.just("SET"), _KEYS, _VALUES, _SET_OPTS).map(
        lambda t: [t[0], t[1], t[2]] + [a for o in t[3] for a in o]),
    st.tuples(st.just("GET"), _KEYS),
    st.tuples(st.sampled_from(["GETSET", "SETNX", "APPEND"]), _KEYS, _VALUES),
    st.tuples(st.just("GETDEL"), _KEYS),
    st.tuples(st.just("GETEX"), _KEYS, st.sampled_from([[], ["PERSIST"], ["EX", "100"],
                                                        ["PX", "-1"], ["PXAT", "1"]])).map(
        lambda t: [t[0], t[1], *t[2]]),
    st.tuples(st.just("MGET"), _KEYS, _KEYS, _KEYS),
    st.tuples(st.sampled_from(["MSET", "MSETNX"]), _KEYS, _VALUES, _KEYS, _VALUES),
    st.tuples(st.sampled_from(["SETEX", "PSETEX"]), _KEYS,
              st.sampled_from(["100", "0", "-1", "100000"]), _VALUES),
    st.tuples(st.just("STRLEN"), _KEYS),
    st.tuples(st.just("SETRANGE"), _KEYS, st.integers(-1, 12).map(str), _VALUES),
    st.tuples(st.sampled_from(["GETRANGE", "SUBSTR"]), _KEYS, _SMALL, _SMALL),
    st.tuples(st.sampled_from(["INCR", "DECR"]), _KEYS),
    st.tuples(st.sampled_from(["INCRBY", "DECRBY"]), _KEYS,
              st.one_of(_SMALL, st.sampled_from(["9223372036854775807", "x"]))),
    st.tuples(st.just("INCRBYFLOAT"), _KEYS, _FLOATS),
    st.tuples(st.just("LCS"), _KEYS, _KEYS, st.sampled_from([[], ["LEN"], ["IDX"],
                                                            ["IDX", "WITHMATCHLEN"]])).map(
        lambda t: [t[0], t[1], t[2], *t[3]]),
    st.tuples(st.just("LPUSH"), _KEYS, _VALUES),
    st.tuples(st.sampled_from(["TTL", "EXISTS", "TYPE"]), _KEYS),
    # OBJECT ENCODING after changes in place (raw), INCRBYFLOAT (never int)...
    st.tuples(st.just("OBJECT"), st.just("ENCODING"), _KEYS),
    st.tuples(st.just("SETBIT"), _KEYS, st.integers(0, 20).map(str), st.sampled_from(["0", "1"])),
    st.tuples(st.sampled_from(["RENAME", "COPY"]), _KEYS, _KEYS),
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(_COMMANDS, min_size=1, max_size=25))
def test_hypothesis_string_sequences(server, diff, cmds):
    diff.flush()
    for cmd in cmds:
        diff.check(*cmd)
    db = server.server.dbs[0]  # the forced-encoding table follows the keys
    assert set(db.string_encodings) <= set(db.data), cmds


@pytest.mark.parametrize("seq", [
    [("SET", "k", "100000"), ("SETBIT", "k", "3", "1")],  # unchanged, still made raw
    [("SET", "k", "12"), ("APPEND", "k", "3")], [("APPEND", "k", "12")],
    [("SETRANGE", "k", "0", "12")], [("SET", "k", "hello"), ("SETRANGE", "k", "0", "9")],
    [("SET", "k", "2"), ("INCRBYFLOAT", "k", "1")], [("INCRBYFLOAT", "k", "1")],
    [("SET", "k", "1"), ("APPEND", "k", "0"), ("INCR", "k")], [("SETBIT", "k", "1", "1")],
    [("PFADD", "k", "a")], [("PFADD", "k", "a"), ("PFCOUNT", "k")],
    [("SET", "k", "12"), ("APPEND", "k", "3"), ("RENAME", "k", "k")],
    [("SET", "k", "12"), ("APPEND", "k", "3"), ("COPY", "k", "k2"), ("DEL", "k"),
     ("RENAME", "k2", "k")],
    [("SET", "k", "12"), ("APPEND", "k", "3"), ("SET", "k", "12")],
    [("SET", "a", "1"), ("BITOP", "OR", "k", "a")], [("BITFIELD", "k", "SET", "u8", "0", "49")],
    [("SET", "k", "1"), ("BITFIELD", "k", "SET", "u8", "0", "49")],
    [("SET", "k", "12"), ("APPEND", "k", "3"), ("GETSET", "k", "7")],
    [("SET", "k", "x" * 30), ("APPEND", "k", "y")], [("INCRBYFLOAT", "k", "1" * 50)],
], ids=lambda seq: " / ".join(" ".join(c) for c in seq))
def test_object_encoding_of_strings_changed_in_place(diff, seq):
    for cmd in seq:
        diff.check(*cmd)
    diff.check("OBJECT", "ENCODING", "k")
    diff.check("MOVE", "k", "1")
    diff.check("SELECT", "1")
    diff.check("OBJECT", "ENCODING", "k")
