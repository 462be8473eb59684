"""Generic keyspace commands, against redis-server and on their own."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.rawclient import ReplyError


def test_del_exists_type(diff):
    diff.check("SET", "a", "1")
    diff.check("SET", "b", "2")
    diff.check("EXISTS", "a", "b", "a", "nosuch")
    diff.check("TYPE", "a")
    diff.check("TYPE", "nosuch")
    diff.check("DEL", "a", "nosuch", "a")
    diff.check("UNLINK", "b")
    diff.check("EXISTS", "a")
    diff.check("TOUCH", "a", "b")
    diff.check_error("DEL")


def test_keys_patterns(diff):
    for k in ["hello", "hallo", "hxllo", "hllo", "heeeello", "a*b", "a?b", "[x]", "h\\llo"]:
        diff.check("SET", k, "v")
    for pat in ["*", "h?llo", "h*llo", "h[ae]llo", "h[^e]llo", "h[a-b]llo", "h[b-a]llo",
                "a\\*b", "a\\?b", "\\[x\\]", "h\\\\llo", "[", "h[", "*llo", "nomatch", "h[a-",
                "*[!]"]:
        diff.check("KEYS", pat, unordered=True)


def test_rename_family(diff):
    diff.check("SET", "a", "1")
    diff.check("PEXPIRE", "a", "100000")
    diff.check("RENAME", "a", "b")
    diff.check("EXISTS", "a")
    diff.check("GET", "b")
    diff.check_error("RENAME", "nosuch", "x")
    diff.check_error("RENAMENX", "nosuch", "x")
    diff.check("SET", "c", "3")
    diff.check("RENAMENX", "b", "c")
    diff.check("RENAMENX", "b", "d")
    diff.check("RENAME", "d", "d")
    diff.check("RENAMENX", "d", "d")
    diff.check("RENAME", "d", "c")
    diff.check("GET", "c")


def test_rename_keeps_ttl(r):
    r.set("a", "1", ex=100)
    r.rename("a", "b")
    assert 95 <= r.ttl("b") <= 100


def test_move_and_copy(diff):
    diff.check("SET", "a", "1")
    diff.check("MOVE", "a", "1")
    diff.check("MOVE", "a", "1")
    diff.check_error("MOVE", "a", "0")
    diff.check_error("MOVE", "a", "99")
    diff.check_error("MOVE", "a", "x")
    diff.check("SELECT", "1")
    diff.check("GET", "a")
    diff.check("COPY", "a", "b")
    diff.check("COPY", "a", "b")
    diff.check("COPY", "a", "b", "REPLACE")
    diff.check("COPY", "a", "z", "DB", "2")
    diff.check_error("COPY", "a", "a")
    diff.check("COPY", "a", "a", "DB", "3")
    diff.check_error("COPY", "a", "b", "DB", "99")
    diff.check_error("COPY", "a", "b", "FOO")
    diff.check("COPY", "nosuch", "b")
    diff.check("SELECT", "2")
    diff.check("GET", "z")
    diff.check("SELECT", "0")


def test_select_swapdb_errors(diff):
    diff.check_error("SELECT", "16")
    diff.check_error("SELECT", "-1")
    diff.check_error("SELECT", "abc")
    diff.check("SET", "k", "v0")
    diff.check("SWAPDB", "0", "1")
    diff.check("GET", "k")
    diff.check("SELECT", "1")
    diff.check("GET", "k")
    diff.check("SELECT", "0")
    diff.check_error("SWAPDB", "0", "16")
    diff.check_error("SWAPDB", "x", "1")
    diff.check_error("SWAPDB", "1", "x")


def test_scan_returns_every_key(r):
    keys = {f"key:{i}".encode() for i in range(1000)}
    for k in keys:
        r.set(k, "v")
    seen = set()
    cursor = 0
    deleted = set()
    while True:
        cursor, batch = r.scan(cursor, count=37)
        seen.update(batch)
        # Deleting and adding keys mid-iteration must not hide keys that stay.
        for k in list(keys - deleted)[:3]:
            if k.endswith(b"7"):
                r.delete(k)
                deleted.add(k)
        r.set(f"new:{cursor}", "v")
        if cursor == 0:
            break
    assert (keys - deleted) <= seen


def test_scan_options(r, diff):
    for i in range(30):
        diff.check("SET", f"str:{i}", "v")
    assert sorted(r.scan_iter(match="str:1*")) == sorted(
        k for k in (f"str:{i}".encode() for i in range(30)) if k.startswith(b"str:1"))
    assert len(list(r.scan_iter(_type="string"))) == 30
    assert list(r.scan_iter(_type="list")) == []
    diff.check_error("SCAN", "abc")
    diff.check_error("SCAN", "0", "COUNT", "0")
    diff.check_error("SCAN", "0", "COUNT", "x")
    diff.check_error("SCAN", "0", "MATCH")
    diff.check_error("SCAN", "0", "FOO", "bar")
    # strtoul: -1 wraps to the largest cursor. Which keys Redis returns for it
    # depends on its hash table's layout; the iteration ending does not.
    for cur in ("-1", "18446744073709551615"):
        (_, kv), (_, rd) = diff.both("SCAN", cur)
        assert kv[0] == rd[0] == b"0"
    diff.check_error("SCAN", "18446744073709551616")


def test_randomkey(r):
    assert r.randomkey() is None
    r.set("only", "1")
    assert r.randomkey() == b"only"


def test_object(diff):
    diff.check("SET", "i", "12345")
    diff.check("SET", "e", "hello")
    diff.check("SET", "raw", "x" * 50)
    diff.check("OBJECT", "ENCODING", "nosuch")
    diff.check_error("OBJECT", "FOO", "x")
    diff.check_error("OBJECT", "FREQ", "i")
    diff.check("OBJECT", "REFCOUNT", "nosuch")
    diff.check("OBJECT", "HELP")


def test_object_encoding_strings(diff):
    diff.check("SET", "i", "12345")
    diff.check("SET", "neg", "-5")
    diff.check("SET", "lead0", "012")
    diff.check("SET", "e", "hello")
    diff.check("SET", "raw", "x" * 50)
    for k in ("i", "neg", "lead0", "e", "raw"):
        diff.check("OBJECT", "ENCODING", k)
        diff.check("OBJECT", "REFCOUNT", k)


KEYS = st.sampled_from(["a", "b", "c"])
GENERIC = st.one_of(
    st.tuples(st.just("SET"), KEYS, st.sampled_from(["1", "x", "22"])),
    st.tuples(st.just("DEL"), KEYS, KEYS),
    st.tuples(st.just("EXISTS"), KEYS, KEYS),
    st.tuples(st.just("TYPE"), KEYS),
    st.tuples(st.just("RENAME"), KEYS, KEYS),
    st.tuples(st.just("RENAMENX"), KEYS, KEYS),
    st.tuples(st.just("COPY"), KEYS, KEYS),
    st.tuples(st.just("MOVE"), KEYS, st.sampled_from(["0", "1"])),
    st.tuples(st.just("SELECT"), st.sampled_from(["0", "1"])),
    st.tuples(st.just("GET"), KEYS),
    st.tuples(st.just("EXPIRE"), KEYS, st.sampled_from(["100", "0", "-1"]),
              st.sampled_from(["NX", "XX", "GT", "LT"])),
    st.tuples(st.just("PERSIST"), KEYS),
    st.tuples(st.just("TTL"), KEYS),
    st.tuples(st.just("KEYS"), st.sampled_from(["*", "a*", "[ab]"])),
    st.tuples(st.just("DBSIZE")),
)


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(GENERIC, max_size=25))
def test_generic_sequences_match_redis(diff, cmds):
    diff.flush()
    for cmd in cmds:
        diff.check(*cmd, unordered=cmd[0] == "KEYS")


@pytest.mark.parametrize("cmd", [("EXISTS",), ("TYPE",), ("RENAME", "a"), ("MOVE", "a"),
                                 ("COPY", "a"), ("TOUCH",), ("KEYS",), ("SCAN",),
                                 ("RANDOMKEY", "x")])
def test_arity_errors(diff, cmd):
    assert isinstance(diff.check(*cmd), ReplyError)
