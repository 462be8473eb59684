"""List commands against redis-server (replies and errors byte for byte),
plus properties kvserver must keep on its own, and random command sequences."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import propagation
from tests.rawclient import ReplyError


def test_push_pop_len(diff):
    diff.check("RPUSH", "l", "a", "b", "c")
    diff.check("LPUSH", "l", "x", "y", "z")
    diff.check("LRANGE", "l", "0", "-1")
    diff.check("LLEN", "l")
    diff.check("LLEN", "nosuch")
    diff.check("LPUSHX", "nosuch", "a")
    diff.check("RPUSHX", "nosuch", "a", "b")
    diff.check("EXISTS", "nosuch")
    diff.check("LPUSHX", "l", "p", "q")
    diff.check("RPUSHX", "l", "r")
    diff.check("LPOP", "l")
    diff.check("RPOP", "l")
    diff.check("LPOP", "l", "2")
    diff.check("RPOP", "l", "2")
    diff.check("LPOP", "l", "0")
    diff.check("LRANGE", "l", "0", "-1")
    diff.check("RPOP", "l", "100")
    diff.check("EXISTS", "l")
    diff.check("LPOP", "l")
    diff.check("LPOP", "l", "3")
    diff.check("RPOP", "l", "0")
    diff.check("RPUSH", "l", "1", "2", "3")
    diff.check("LPOP", "l", "9223372036854775807")
    diff.check("EXISTS", "l")


def test_push_pop_errors(diff):
    diff.check("SET", "s", "x")
    for cmd in (("LPUSH", "s", "a"), ("RPUSH", "s", "a"), ("LPUSHX", "s", "a"),
                ("RPUSHX", "s", "a"), ("LPOP", "s"), ("RPOP", "s", "1"), ("LLEN", "s"),
                ("LRANGE", "s", "0", "1"), ("LINDEX", "s", "0"), ("LSET", "s", "0", "a"),
                ("LINSERT", "s", "BEFORE", "a", "b"), ("LREM", "s", "0", "a"),
                ("LTRIM", "s", "0", "1"), ("LPOS", "s", "a"), ("LMOVE", "s", "d", "LEFT", "LEFT"),
                ("RPOPLPUSH", "s", "d"), ("LMPOP", "1", "s", "LEFT"),
                ("BLPOP", "s", "0"), ("BRPOP", "s", "0"), ("BLMPOP", "0", "1", "s", "RIGHT"),
                ("BLMOVE", "s", "d", "LEFT", "LEFT", "0"), ("BRPOPLPUSH", "s", "d", "0")):
        diff.check_error(*cmd)
    diff.check("RPUSH", "l", "a")
    for cmd in (("LPOP",), ("LPOP", "l", "1", "2"), ("RPOP", "l", "1", "2"), ("LPUSH", "l"),
                ("LPOP", "l", "-1"), ("LPOP", "l", "abc"), ("RPOP", "nosuch", "-1"),
                ("LPOP", "s", "abc"), ("LLEN",), ("LRANGE", "l", "0"), ("LMOVE", "l", "s"),
                ("RPOPLPUSH", "l", "s"), ("LMOVE", "l", "d", "UP", "LEFT"),
                ("LMOVE", "l", "d", "LEFT", "DOWN"), ("LMOVE", "nosuch", "d", "UP", "LEFT")):
        diff.check(*cmd)
    diff.check("LRANGE", "l", "0", "-1")


def test_lrange_lindex(diff):
    diff.check("RPUSH", "l", *[str(i) for i in range(200)])
    for a, b in [(0, -1), (0, 0), (-1, -1), (5, 3), (-300, 10), (190, 500), (-5, -1), (150, 160),
                 (3, -3), (-3, 3), (200, 200), (-201, -200), (0, -201), (100, 100)]:
        diff.check("LRANGE", "l", str(a), str(b))
    for i in (0, 1, 63, 64, 199, 200, -1, -200, -201, 9223372036854775807):
        diff.check("LINDEX", "l", str(i))
    diff.check("LRANGE", "nosuch", "0", "-1")
    diff.check("LINDEX", "nosuch", "0")
    diff.check("LINDEX", "nosuch", "abc")  # the key is looked up first
    diff.check_error("LINDEX", "l", "abc")
    diff.check_error("LRANGE", "l", "a", "1")
    diff.check_error("LRANGE", "nosuch", "0", "1.5")
    diff.check_error("LRANGE", "l", "0", "99999999999999999999")


def test_lset_linsert(diff):
    diff.check_error("LSET", "nosuch", "0", "a")
    diff.check_error("LSET", "nosuch", "x", "a")
    diff.check("RPUSH", "l", "a", "b", "c")
    diff.check("LSET", "l", "0", "A")
    diff.check("LSET", "l", "-1", "C")
    diff.check_error("LSET", "l", "3", "x")
    diff.check_error("LSET", "l", "-4", "x")
    diff.check_error("LSET", "l", "x", "x")
    diff.check("LINSERT", "l", "BEFORE", "b", "1")
    diff.check("LINSERT", "l", "after", "C", "2")
    diff.check("LINSERT", "l", "AFTER", "zz", "3")
    diff.check("LINSERT", "nosuch", "AFTER", "zz", "3")
    diff.check_error("LINSERT", "l", "AROUND", "b", "3")
    diff.check_error("LINSERT", "nosuch", "AROUND", "b", "3")
    diff.check("LRANGE", "l", "0", "-1")


def test_lrem_ltrim(diff):
    diff.check("RPUSH", "l", *"abacabadabacaba")
    diff.check("LREM", "l", "2", "a")
    diff.check("LREM", "l", "-2", "a")
    diff.check("LRANGE", "l", "0", "-1")
    diff.check("LREM", "l", "0", "b")
    diff.check("LREM", "l", "0", "zz")
    diff.check("LRANGE", "l", "0", "-1")
    diff.check("LREM", "nosuch", "0", "a")
    diff.check_error("LREM", "l", "x", "a")
    diff.check("LREM", "l", "0", "a")
    diff.check("LREM", "l", "0", "c")
    diff.check("LREM", "l", "-100", "d")
    diff.check("EXISTS", "l")
    diff.check("RPUSH", "l", *[str(i) for i in range(100)])
    diff.check("LTRIM", "l", "1", "-2")
    diff.check("LTRIM", "l", "-50", "1000")
    diff.check("LRANGE", "l", "0", "-1")
    diff.check("LTRIM", "l", "10", "12")
    diff.check("LRANGE", "l", "0", "-1")
    diff.check("LTRIM", "l", "0", "-1")
    diff.check("LTRIM", "nosuch", "0", "-1")
    diff.check_error("LTRIM", "l", "0", "x")
    diff.check("LTRIM", "l", "5", "3")
    diff.check("EXISTS", "l")


def test_lpos(diff):
    diff.check("RPUSH", "l", *"abcabcabcxa")
    for extra in ([], ["RANK", "1"], ["RANK", "2"], ["RANK", "-1"], ["RANK", "-3"],
                  ["RANK", "9"], ["COUNT", "0"], ["COUNT", "2"], ["COUNT", "2", "RANK", "2"],
                  ["COUNT", "0", "RANK", "-2"], ["MAXLEN", "4"], ["MAXLEN", "1"],
                  ["MAXLEN", "3", "RANK", "-1"], ["COUNT", "0", "MAXLEN", "7"],
                  ["rank", "2", "count", "1", "maxlen", "0"], ["RANK", "1", "RANK", "2"],
                  ["RANK", "-9223372036854775808"],
                  ["RANK", "-9223372036854775808", "COUNT", "1"],
                  ["RANK", "9223372036854775807"]):
        diff.check("LPOS", "l", "a", *extra)
        diff.check("LPOS", "l", "zz", *extra)
        diff.check("LPOS", "nosuch", "a", *extra)
    for extra in (["RANK", "0"], ["RANK", "x"], ["COUNT", "-1"], ["COUNT", "x"],
                  ["MAXLEN", "-1"], ["MAXLEN", "x"], ["RANK"], ["FOO", "1"], ["COUNT"],
                  ["RANK", "0", "COUNT", "-1"]):
        diff.check_error("LPOS", "l", "a", *extra)
        diff.check_error("LPOS", "nosuch", "a", *extra)


def test_lmove_rpoplpush(diff):
    diff.check("RPUSH", "src", "1", "2", "3", "4")
    for a in ("LEFT", "RIGHT"):
        for b in ("LEFT", "RIGHT"):
            diff.check("LMOVE", "src", "dst", a, b)
            diff.check("LRANGE", "dst", "0", "-1")
    diff.check("LMOVE", "src", "dst", "left", "right")
    diff.check("EXISTS", "src")
    diff.check("LMOVE", "src", "dst", "LEFT", "RIGHT")
    diff.check("RPOPLPUSH", "dst", "dst")
    diff.check("LRANGE", "dst", "0", "-1")
    diff.check("LMOVE", "dst", "dst", "LEFT", "RIGHT")
    diff.check("LRANGE", "dst", "0", "-1")
    diff.check("RPOPLPUSH", "nosuch", "dst")
    diff.check("SET", "str", "x")
    diff.check_error("RPOPLPUSH", "dst", "str")
    diff.check("RPOPLPUSH", "nosuch", "str")
    diff.check("LRANGE", "dst", "0", "-1")
    diff.check("RPUSH", "one", "x")
    diff.check("RPOPLPUSH", "one", "one")
    diff.check("LRANGE", "one", "0", "-1")


def test_lmpop(diff):
    diff.check("RPUSH", "a", "1", "2", "3", "4", "5")
    diff.check("RPUSH", "b", "x")
    diff.check("LMPOP", "2", "nosuch", "a", "LEFT")
    diff.check("LMPOP", "2", "nosuch", "a", "RIGHT", "COUNT", "2")
    diff.check("LMPOP", "1", "a", "left", "count", "10")
    diff.check("EXISTS", "a")
    diff.check("LMPOP", "2", "a", "b", "RIGHT", "COUNT", "3")
    diff.check("LMPOP", "2", "a", "b", "RIGHT")
    for bad in (("LMPOP",), ("LMPOP", "1"), ("LMPOP", "1", "a"), ("LMPOP", "0", "a", "LEFT"),
                ("LMPOP", "a", "a", "LEFT"), ("LMPOP", "-1", "a", "LEFT"),
                ("LMPOP", "1", "a", "bad"), ("LMPOP", "1", "a", "LEFT", "bar"),
                ("LMPOP", "1", "a", "RIGHT", "LEFT"), ("LMPOP", "1", "a", "COUNT"),
                ("LMPOP", "1", "a", "LEFT", "COUNT", "1", "COUNT", "2"),
                ("LMPOP", "2", "a", "b", "bad"), ("LMPOP", "1", "a", "LEFT", "COUNT", "0"),
                ("LMPOP", "1", "a", "RIGHT", "COUNT", "a"), ("LMPOP", "1", "a", "LEFT", "COUNT"),
                ("LMPOP", "1", "a", "LEFT", "COUNT", "-1"), ("LMPOP", "5", "a", "LEFT"),
                ("LMPOP", "9223372036854775807", "a", "LEFT"),
                ("LMPOP", "99999999999999999999", "a", "LEFT")):
        diff.check_error(*bad)
    diff.check("SET", "s", "x")
    diff.check_error("LMPOP", "2", "nosuch", "s", "LEFT")
    diff.check("RPUSH", "c", "z")
    diff.check("LMPOP", "2", "c", "s", "LEFT")  # served before the string is seen


def test_resp3_shapes(diff3):
    diff3.check("LPOP", "nosuch")
    diff3.check("LPOP", "nosuch", "2")
    diff3.check("LMPOP", "1", "nosuch", "LEFT")
    diff3.check("LPOS", "nosuch", "a")
    diff3.check("LINDEX", "nosuch", "1")
    diff3.check("RPUSH", "l", "a", "b")
    diff3.check("LPOS", "l", "zz")
    diff3.check("LMPOP", "1", "l", "LEFT")
    diff3.check("BLPOP", "nosuch", "0.01")
    diff3.check("BLMOVE", "nosuch", "d", "LEFT", "LEFT", "0.01")
    diff3.check("MULTI")
    diff3.check("BLPOP", "nosuch", "0")
    diff3.check("BRPOPLPUSH", "nosuch", "d", "0")
    diff3.check("BLMPOP", "0", "1", "nosuch", "LEFT")
    diff3.check("EXEC")


def test_blocking_immediate_and_in_multi(diff):
    diff.check("RPUSH", "a", "1", "2", "3")
    diff.check("BLPOP", "nosuch", "a", "0")
    diff.check("BRPOP", "nosuch", "a", "0")
    diff.check("BLMPOP", "0", "2", "nosuch", "a", "LEFT", "COUNT", "5")
    diff.check("RPUSH", "a", "1", "2", "3")
    diff.check("BLMOVE", "a", "b", "RIGHT", "LEFT", "0")
    diff.check("BRPOPLPUSH", "a", "b", "0")
    diff.check("LRANGE", "b", "0", "-1")
    diff.check("MULTI")
    diff.check("BLPOP", "a", "0")
    diff.check("BLPOP", "a", "0")
    diff.check("BRPOP", "b", "c", "0")
    diff.check("BLMOVE", "a", "b", "LEFT", "LEFT", "0")
    diff.check("BLMPOP", "0", "1", "b", "RIGHT", "COUNT", "9")
    diff.check("BLMPOP", "0", "1", "b", "RIGHT")
    diff.check("EXEC")


def test_blocking_argument_errors(diff):
    for t in ("-1", "abc", "", " 1", "1 ", "nan", "inf", "-inf", "1e20", "1_0", "0x",
              "9223372036854775807", "-0.00100001", "1e5000", "1e-5000", "infinity"):
        diff.check_error("BLPOP", "k", t)
        diff.check_error("BLMOVE", "k", "d", "LEFT", "LEFT", t)
        diff.check_error("BRPOPLPUSH", "k", "d", t)
        diff.check_error("BLMPOP", t, "1", "k", "LEFT")
    diff.check_error("BLMOVE", "k", "d", "UP", "LEFT", "-1")
    diff.check_error("BLMPOP", "-1", "0", "k", "LEFT")
    diff.check_error("BLMPOP", "-1", "1", "k", "LEFT", "COUNT", "0")
    diff.check_error("BLMPOP", "0", "1", "k")
    diff.check_error("BLPOP", "k")
    diff.check_error("BLMPOP", "0", "1", "k", "LEFT", "COUNT")


def test_timeout_values_that_do_not_fail(diff):
    # Values Redis accepts (some of them oddly): a short timeout or none at all.
    # Each is checked inside MULTI, where they return at once.
    diff.check("MULTI")
    for t in ("0", "0.0001", "1e-400", "-0.0001", "-0.001", "+1", ".5", "5.", "0x10",
              "0x1p-3", "9223372036854775", "1E3", "00012"):
        diff.check("BLPOP", "k", t)
    diff.check("EXEC")


def test_getkeys(diff):
    diff.check("COMMAND", "GETKEYS", "LMPOP", "2", "a", "b", "LEFT")
    diff.check("COMMAND", "GETKEYS", "BLMPOP", "0", "1", "a", "LEFT", "COUNT", "2")
    diff.check("COMMAND", "GETKEYS", "BLPOP", "a", "b", "0")
    diff.check("COMMAND", "GETKEYS", "BLMOVE", "a", "b", "LEFT", "LEFT", "0")
    diff.check("COMMAND", "GETKEYS", "LMPOP", "1.5", "a", "LEFT")
    diff.check("COMMAND", "GETKEYS", "BLMPOP", "0", " 2x", "a", "b", "LEFT")
    diff.check_error("COMMAND", "GETKEYS", "LMPOP", "3", "a", "LEFT")
    diff.check_error("COMMAND", "GETKEYS", "BLMPOP", "0", "0", "a", "LEFT")


def test_encoding_and_type(r):
    r.rpush("l", *range(1000))
    assert r.type("l") == b"list"
    assert r.object("encoding", "l") == b"quicklist"
    r.rpush("s", "a")
    assert r.object("encoding", "s") == b"quicklist"


def test_large_list_ends(r):
    r.rpush("l", *range(10000))
    assert r.lindex("l", 9999) == b"9999"
    assert r.lindex("l", -10000) == b"0"
    assert r.lrange("l", 9995, -1) == [b"%d" % i for i in range(9995, 10000)]
    assert r.lrange("l", -10000, 2) == [b"0", b"1", b"2"]
    assert r.ltrim("l", 5000, 5009)
    assert r.lrange("l", 0, -1) == [b"%d" % i for i in range(5000, 5010)]
    assert r.lpos("l", "5009") == 9
    assert r.lpos("l", "5000", rank=-1) == 0


def test_propagation_of_pops(server, r):
    with propagation(server) as seen:
        r.rpush("a", "1", "2", "3")
        r.blpop(["nosuch", "a"], 0)
        r.execute_command("BLMPOP", "0", "1", "a", "RIGHT", "COUNT", "5")
        r.rpush("a", "x")
        r.execute_command("BLMOVE", "a", "b", "LEFT", "RIGHT", "0")
        r.brpoplpush("b", "c", 0)
        r.lmpop(1, "c", direction="LEFT")
        r.lpushx("nosuch", "x")
        r.ltrim("c", 0, -1)
    assert seen == [[b"RPUSH", b"a", b"1", b"2", b"3"], [b"LPOP", b"a"], [b"RPOP", b"a", b"2"],
                    [b"RPUSH", b"a", b"x"], [b"LMOVE", b"a", b"b", b"LEFT", b"RIGHT"],
                    [b"RPOPLPUSH", b"b", b"c"], [b"LPOP", b"c", b"1"]]


def test_keyspace_events(events, r):
    r.rpush("l", "a", "b")
    r.lpush("l", "c")
    r.lset("l", 0, "x")
    r.linsert("l", "BEFORE", "x", "y")
    r.lrem("l", 1, "y")
    r.ltrim("l", 0, -1)
    r.lmove("l", "m", "LEFT", "RIGHT")
    r.rpop("l", 5)
    r.lpop("m")
    assert events == [
        ("l", "rpush", b"l"), ("l", "lpush", b"l"), ("l", "lset", b"l"),
        ("l", "linsert", b"l"), ("l", "lrem", b"l"), ("l", "ltrim", b"l"),
        ("l", "rpush", b"m"), ("l", "lpop", b"l"), ("l", "rpop", b"l"), ("g", "del", b"l"),
        ("l", "lpop", b"m"), ("g", "del", b"m")]


def test_watch_broken_by_list_writes(server):
    a, b = server.client(), server.client()
    try:
        a.flushall()
        a.rpush("l", "1", "2")
        for cmd in (("RPUSH", "l", "3"), ("LTRIM", "l", "0", "-1"), ("LSET", "l", "0", "x")):
            a.execute_command("WATCH", "l")
            b.execute_command(*cmd)
            a.execute_command("MULTI")
            a.execute_command("PING")
            assert a.execute_command("EXEC") is None, cmd
        a.execute_command("WATCH", "l")
        b.execute_command("LREM", "l", "0", "nosuch")  # no change: the WATCH holds
        a.execute_command("MULTI")
        a.execute_command("PING")
        assert a.execute_command("EXEC") == [b"PONG"]
    finally:
        a.close()
        b.close()


# -- random sequences ---------------------------------------------------------------------

KEYS = st.sampled_from(["a", "b", "c"])
VALS = st.sampled_from(["x", "y", "z", "1", "-1", ""])
IDX = st.integers(-6, 6).map(str)
SIDE = st.sampled_from(["LEFT", "RIGHT"])
LIST_CMDS = st.one_of(
    st.tuples(st.sampled_from(["LPUSH", "RPUSH", "LPUSHX", "RPUSHX"]), KEYS, VALS, VALS),
    st.tuples(st.sampled_from(["LPOP", "RPOP", "LLEN"]), KEYS),
    st.tuples(st.sampled_from(["LPOP", "RPOP"]), KEYS, st.integers(-1, 4).map(str)),
    st.tuples(st.just("LRANGE"), KEYS, IDX, IDX),
    st.tuples(st.just("LTRIM"), KEYS, IDX, IDX),
    st.tuples(st.just("LINDEX"), KEYS, IDX),
    st.tuples(st.just("LSET"), KEYS, IDX, VALS),
    st.tuples(st.just("LINSERT"), KEYS, st.sampled_from(["BEFORE", "AFTER"]), VALS, VALS),
    st.tuples(st.just("LREM"), KEYS, IDX, VALS),
    st.tuples(st.just("LPOS"), KEYS, VALS, st.sampled_from(["RANK", "COUNT", "MAXLEN"]), IDX),
    st.tuples(st.just("LMOVE"), KEYS, KEYS, SIDE, SIDE),
    st.tuples(st.just("RPOPLPUSH"), KEYS, KEYS),
    st.tuples(st.just("LMPOP"), st.just("2"), KEYS, KEYS, SIDE, st.just("COUNT"),
              st.integers(1, 3).map(str)),
    st.tuples(st.just("SET"), KEYS, VALS),
    st.tuples(st.just("DEL"), KEYS),
)


@settings(max_examples=80, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(LIST_CMDS, max_size=30))
def test_random_list_sequences(diff, cmds):
    diff.flush()
    for cmd in cmds:
        diff.check(*cmd)
    for k in ("a", "b", "c"):
        v = diff.check("TYPE", k)
        if v == "list" or v == b"list":
            diff.check("LRANGE", k, "0", "-1")


def test_errors_are_reply_errors(diff):
    v = diff.check_error("LSET", "nosuch", "0", "x")
    assert isinstance(v, ReplyError)


@settings(max_examples=50, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(LIST_CMDS, max_size=20))
def test_random_list_sequences_resp3(diff3, cmds):
    diff3.flush()
    for cmd in cmds:
        diff3.check(*cmd)
