"""COMMAND COUNT/INFO/DOCS/LIST/GETKEYS/GETKEYSANDFLAGS/HELP, the `args` DSL
(kvserver.docs) and the completeness of every declaration in the table.

Several tests here walk the whole table and list every offender at once
(missing docs, malformed `args`, metadata that differs from Redis 7.0), so
that whoever owns those commands can fix them in one go.
"""

from __future__ import annotations

import shutil
import subprocess
import time
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kvserver.commands import load_all
from kvserver.commands.command_cmd import meta
from kvserver.docs import DocsSyntaxError, key_specs_from_args, parse_args, render_args
from kvserver.table import TABLE, all_commands
from tests.rawclient import RawClient

load_all()

# Redis 7.0's command groups (COMMAND_GROUP_STR); the table spells sorted-set
# "sorted_set".
REDIS_GROUPS = {"generic", "string", "list", "set", "sorted_set", "hash", "pubsub",
                "transactions", "connection", "server", "scripting", "hyperloglog",
                "cluster", "sentinel", "geo", "stream", "bitmap", "module"}
# What Redis 7.0 itself leaves out: no complexity for these, no args for DEBUG.
NO_COMPLEXITY_IN_REDIS = {"lolwut", "monitor", "psync", "sync"}
NO_ARGS_IN_REDIS = {"debug"}


# -- a typed RESP parser (hiredis drops the status/bulk distinction redis-cli checks) --

class T:
    """A typed reply node: kind is one of status bulk int double null error
    array set map push bool verbatim; value is a str/bytes/int, or children."""

    __slots__ = ("kind", "value")

    def __init__(self, kind: str, value) -> None:
        self.kind = kind
        self.value = value

    def __repr__(self) -> str:
        return f"{self.kind}:{self.value!r}"

    def plain(self):
        """Python value: maps as dicts (pairs list if keys repeat), sets as sorted lists."""
        if self.kind in ("array", "push"):
            return [x.plain() for x in self.value]
        if self.kind == "set":
            return sorted((x.plain() for x in self.value), key=repr)
        if self.kind == "map":
            return {k.plain(): v.plain() for k, v in self.value}
        return self.value


def typed(raw: bytes) -> T:
    node, end = _parse(raw, 0)
    assert end == len(raw), "trailing bytes after the reply"
    return node


def _parse(buf: bytes, pos: int) -> tuple[T, int]:
    end = buf.index(b"\r\n", pos)
    t, line, p = buf[pos:pos + 1], buf[pos + 1:end], end + 2
    if t == b"+":
        return T("status", line.decode()), p
    if t == b"-":
        return T("error", line.decode()), p
    if t == b":":
        return T("int", int(line)), p
    if t == b",":
        return T("double", line.decode()), p
    if t == b"#":
        return T("bool", line == b"t"), p
    if t == b"_":
        return T("null", None), p
    if t in (b"$", b"="):
        n = int(line)
        if n < 0:
            return T("null", None), p
        return T("bulk" if t == b"$" else "verbatim", buf[p:p + n]), p + n + 2
    if t in (b"*", b"~", b">", b"%"):
        n = int(line)
        if n < 0:
            return T("null", None), p
        items = []
        for _ in range(n * 2 if t == b"%" else n):
            x, p = _parse(buf, p)
            items.append(x)
        if t == b"%":
            return T("map", list(zip(items[0::2], items[1::2], strict=True))), p
        return T({b"*": "array", b"~": "set", b">": "push"}[t], items), p
    raise AssertionError(f"bad RESP type {t!r}")


def pairs(node: T) -> list[tuple[T, T]]:
    """A map's pairs, in RESP3 (map) or RESP2 (flat array) form."""
    if node.kind == "map":
        return node.value
    assert node.kind == "array" and len(node.value) % 2 == 0, node
    return list(zip(node.value[0::2], node.value[1::2], strict=True))


# -- redis-cli's reading of COMMAND DOCS (redis-cli.c 7.0, with its asserts) --

_CLI_TYPES = {"key", "string", "integer", "double", "pattern", "unix-time", "token"}


def cli_hints(reply: T) -> dict[str, str]:
    """What redis-cli builds from COMMAND DOCS: "SET" / "CONFIG GET" -> hint.

    Asserts what redis-cli asserts (it aborts on any of these) and rejects
    what it reports as an unknown argument type."""
    assert reply.kind in ("map", "array"), reply
    hints: dict[str, str] = {}
    for name, specs in pairs(reply):
        assert name.kind == "bulk", name
        _cli_entry(name.value.decode().upper(), specs, hints)
    return hints


def _cli_entry(name: str, specs: T, hints: dict[str, str]) -> None:
    assert specs.kind in ("map", "array"), (name, specs)
    params = ""
    for key, val in pairs(specs):
        assert key.kind == "bulk", (name, key)
        k = key.value.decode()
        if k in ("summary", "since", "group"):
            assert val.kind == "bulk", (name, k, val)
        elif k == "arguments":
            assert val.kind == "array", (name, val)
            params = " ".join(_cli_arg(name, a) for a in val.value)
        elif k == "subcommands":
            assert val.kind in ("map", "array"), (name, val)
            for sub, subspecs in pairs(val):
                assert sub.kind == "bulk", (name, sub)
                subname = sub.value.decode()
                assert "|" in subname, (name, subname)
                _cli_entry(name + " " + subname.split("|", 1)[1].upper(), subspecs, hints)
    hints[name] = params


def _cli_arg(cmd: str, arg: T) -> str:
    assert arg.kind in ("map", "array"), (cmd, arg)
    name = type_ = None
    token = ""
    optional = multiple = multiple_token = False
    children: list[T] = []
    for key, val in pairs(arg):
        assert key.kind == "bulk", (cmd, key)
        k = key.value.decode()
        if k in ("name", "token", "type"):
            assert val.kind == "bulk", (cmd, k, val)
        if k == "name":
            name = val.value.decode()
        elif k == "token":
            token = val.value.decode() or '""'
        elif k == "type":
            type_ = val.value.decode()
        elif k == "arguments":
            assert val.kind == "array", (cmd, val)
            children = val.value
        elif k == "flags":
            assert val.kind in ("set", "array"), (cmd, val)
            for f in val.value:
                assert f.kind == "status", (cmd, f)
            flags = {f.value for f in val.value}
            optional = "optional" in flags
            multiple = "multiple" in flags
            multiple_token = "multiple_token" in flags
    assert type_ is not None, f"{cmd}: an argument without a type (redis-cli crashes)"
    assert name is not None, f"{cmd}: an argument without a name"
    if type_ in _CLI_TYPES:
        repeat = name or '""'
    elif type_ == "oneof":
        repeat = "|".join(_cli_arg(cmd, c) for c in children)
    elif type_ == "block":
        repeat = " ".join(_cli_arg(cmd, c) for c in children)
    else:
        assert type_ == "pure-token", f"{cmd}: unknown argument type {type_!r}"
        repeat = ""
    tok = token + " " if token and type_ != "pure-token" else token
    s = tok + repeat
    if multiple:
        s += " [" + (tok if multiple_token else "") + repeat + " ...]"
    return f"[{s}]" if optional else s


# -- fixtures -------------------------------------------------------------------------

@pytest.fixture
def kv(server):
    c = RawClient(port=server.port)
    yield c
    c.close()


@pytest.fixture
def kv3(server):
    c = RawClient(port=server.port)
    c.call("HELLO", "3")
    yield c
    c.close()


@pytest.fixture(scope="module")
def oracle_docs(real_redis):
    """COMMAND DOCS and COMMAND INFO of the real redis-server, typed, by full name."""
    c = RawClient(port=real_redis)
    c.call("HELLO", "3")
    docs = {}
    for name, specs in pairs(typed(c.call("COMMAND", "DOCS")[0])):
        docs[name.value.decode()] = specs
        for k, v in pairs(specs):
            if k.value == b"subcommands":
                for sn, ss in pairs(v):
                    docs[sn.value.decode()] = ss
    info = {}

    def walk(entries):
        for e in entries:
            info[e.value[0].value.decode()] = e
            if e.value[9].kind == "array":
                walk(e.value[9].value)

    walk(typed(c.call("COMMAND", "INFO")[0]).value)
    c.close()
    return docs, info


def ours_and_redis(oracle_docs):
    """Full names of the commands both servers know."""
    docs, _ = oracle_docs
    return [s for s in all_commands() if s.fullname in docs]


# -- every declaration ------------------------------------------------------------------

def test_every_declared_args_parses():
    bad = []
    for spec in all_commands():
        try:
            parse_args(spec.args)
        except DocsSyntaxError as e:
            bad.append(f"{spec.fullname}: {e}")
    assert not bad, "malformed args= declarations:\n  " + "\n  ".join(bad)


def test_every_command_documented():
    """summary, since, group, complexity, and args when the command takes arguments."""
    missing = []
    for spec in all_commands():
        lacks = [f for f in ("summary", "since", "complexity") if not getattr(spec, f)
                 and not (f == "complexity" and spec.fullname in NO_COMPLEXITY_IN_REDIS)]
        if spec.group not in REDIS_GROUPS:
            lacks.append(f"group ({spec.group!r} is not a Redis group)")
        base = 2 if spec.parent else 1
        takes_args = spec.arity > base or spec.arity < -base
        if takes_args and not spec.args and not spec.subcommands \
                and spec.fullname not in NO_ARGS_IN_REDIS:
            lacks.append("args")
        if lacks:
            missing.append(f"{spec.fullname}: {', '.join(lacks)}")
    assert not missing, (f"{len(missing)} commands lack documentation:\n  "
                         + "\n  ".join(missing))


# Shard channels: keys=(...) for cluster routing (key specs flagged not_key), but
# documented by Redis as strings.
_NOT_KEY_ARGS = {"spublish", "ssubscribe", "sunsubscribe"}


def test_args_agree_with_key_positions():
    """Where `args` places the keys, it agrees with keys=(first, last, step)."""
    bad = []
    for spec in all_commands():
        m = meta(spec)
        if m.args_error or spec.getkeys is not None or spec.fullname in _NOT_KEY_ARGS:
            continue
        key_args = [x for a in m.args for x in a.walk() if x.type == "key"]
        specs = key_specs_from_args(parse_args(spec.args), 2 if spec.parent else 1)
        if key_args and spec.first_key == 0:
            bad.append(f"{spec.fullname}: key arguments in args but keys=(0, 0, 0)")
        elif spec.first_key and not key_args:
            bad.append(f"{spec.fullname}: keys={spec.first_key, spec.last_key, spec.key_step}"
                       f" but no key argument in args={spec.args!r}")
        elif specs is not None and key_args:
            got = [ks.positions([b"x"] * 12) for ks in specs]
            want = spec.key_positions([b"x"] * 12)
            flat = sorted(p for ps in got if ps for p in ps)
            if flat != want:
                bad.append(f"{spec.fullname}: args={spec.args!r} puts keys at {flat} of 12 "
                           f"arguments, keys= at {want}")
    assert not bad, "\n  ".join(["args and keys= disagree:"] + bad)


# -- the DSL ---------------------------------------------------------------------------------

@pytest.mark.parametrize("args, hint", [
    ("key value [NX|XX] [GET] [EX seconds:integer|PX milliseconds:integer|"
     "EXAT unix-time-seconds:unix-time|PXAT unix-time-milliseconds:unix-time|KEEPTTL]",
     "key value [NX|XX] [GET] [EX seconds|PX milliseconds|EXAT unix-time-seconds|"
     "PXAT unix-time-milliseconds|KEEPTTL]"),
    ("[protover:integer [AUTH username password] [SETNAME clientname]]",
     "[protover [AUTH username password] [SETNAME clientname]]"),
    ("key...", "key [key ...]"),
    ("key [key ...]", "key [key ...]"),
    ("(key value)...", "key value [key value ...]"),
    ("key field value [field value ...]", "key field value [field value ...]"),
    ("key [(GET pattern:pattern)...]", "key [GET pattern [GET pattern ...]]"),
    ("key [GET pattern [GET pattern ...]]", "key [GET pattern [GET pattern ...]]"),
    ("destination:key numkeys:integer key... [WEIGHTS weight:integer...] "
     "[AGGREGATE SUM|MIN|MAX]",
     "destination numkeys key [key ...] [WEIGHTS weight [weight ...]] [AGGREGATE SUM|MIN|MAX]"),
    ("[FILTERBY MODULE module-name|ACLCAT category|PATTERN pattern:pattern]",
     "[FILTERBY MODULE module-name|ACLCAT category|PATTERN pattern]"),
    ("key [NOMKSTREAM] [MAXLEN|MINID [=|~] threshold [LIMIT count:integer]] *|id "
     "(field value)...",
     "key [NOMKSTREAM] [MAXLEN|MINID [=|~] threshold [LIMIT count]] *|id field value "
     "[field value ...]"),
    ('host port:integer key|"" destination-db:integer', 'host port key|"" destination-db'),
    ("slot:integer IMPORTING node-id|MIGRATING node-id|STABLE",
     "slot IMPORTING node-id|MIGRATING node-id|STABLE"),
    ("[COUNT count:integer] STREAMS key... id...",
     "[COUNT count] STREAMS key [key ...] id [id ...]"),
    ("[command-name...]", "[command-name [command-name ...]]"),
    ("(BYRADIUS radius:double (M|KM))|(BYBOX width:double height:double (M|KM))",
     "BYRADIUS radius M|KM|BYBOX width height M|KM"),
    ("", ""),
])
def test_dsl_hint(args, hint):
    assert render_args(parse_args(args)) == hint


def test_dsl_structure():
    """The argument maps COMMAND DOCS gives, as Redis's own for SET / SORT / HELLO."""
    docs = [a.to_doc() for a in parse_args(
        "key value [NX|XX] [EX seconds:integer|KEEPTTL] [(GET pattern:pattern)...] "
        "[AUTH username password] [STORE destination:key]")]
    assert docs[0] == {b"name": b"key", b"type": b"key"}
    assert docs[1] == {b"name": b"value", b"type": b"string"}
    assert docs[2][b"type"] == b"oneof" and docs[2][b"flags"] == [b"optional"]
    assert docs[2][b"arguments"] == [
        {b"name": b"nx", b"type": b"pure-token", b"token": b"NX"},
        {b"name": b"xx", b"type": b"pure-token", b"token": b"XX"}]
    assert docs[3][b"arguments"][0] == {b"name": b"seconds", b"type": b"integer",
                                        b"token": b"EX"}
    assert docs[4] == {b"name": b"pattern", b"type": b"pattern", b"token": b"GET",
                       b"flags": [b"optional", b"multiple", b"multiple_token"]}
    assert docs[5][b"type"] == b"block" and docs[5][b"token"] == b"AUTH"
    assert [a[b"name"] for a in docs[5][b"arguments"]] == [b"username", b"password"]
    assert docs[6] == {b"name": b"destination", b"type": b"key", b"token": b"STORE",
                       b"flags": [b"optional"]}
    # Flags are simple strings: redis-cli asserts on anything else.
    assert all(type(f).__name__ == "Status" for f in docs[4][b"flags"])


def test_dsl_types():
    a = parse_args("key newkey destkey numkeys count:integer f:double p:pattern t:unix-time")
    assert [x.type for x in a] == ["key", "key", "key", "string", "integer", "double",
                                   "pattern", "unix-time"]


@pytest.mark.parametrize("bad", [
    "[key", "key]", "(key", "key)", "[]", "()", "a||b", "|a", "a|", "[a|]", "...",
    "[...]", "a | ...", "Key", "key:int", "NX:integer", 'a "b', "key$", "k_Y",
    "NX [NX ...]",
])
def test_dsl_malformed(bad):
    with pytest.raises(DocsSyntaxError) as e:
        parse_args(bad)
    assert repr(bad) in str(e.value)


_DSL_PIECES = ["key", "value", "count:integer", "NX", "XX", "GET", "[", "]", "(", ")", "|",
               "...", " ", "=", '""', "a:key", "x:bogus", "Bad", ":", "[x ...]", "*"]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(_DSL_PIECES), max_size=14))
def test_dsl_never_crashes(pieces):
    """Any string either parses into redis-cli-readable maps or raises DocsSyntaxError."""
    s = " ".join(pieces)
    try:
        args = parse_args(s)
    except DocsSyntaxError:
        return
    reply = typed(_encode_docs({b"x": {b"summary": b"", b"group": b"generic",
                                       b"arguments": [a.to_doc() for a in args]}}))
    assert cli_hints(reply)["X"] == render_args(args)
    key_specs_from_args(args, 1)


def _encode_docs(value) -> bytes:
    from kvserver.resp import encode
    return encode(value, True)


def test_key_specs_from_args():
    def specs(s, start=1):
        r = key_specs_from_args(parse_args(s), start)
        return None if r is None else [(k.begin, k.find) for k in r]

    assert specs("key") == [(("index", 1), ("range", 0, 1, 0))]
    assert specs("key...") == [(("index", 1), ("range", -1, 1, 0))]
    assert specs("key... timeout:double") == [(("index", 1), ("range", -2, 1, 0))]
    assert specs("(key value)...") == [(("index", 1), ("range", -1, 2, 0))]
    assert specs("source:key destination:key") == [
        (("index", 1), ("range", 0, 1, 0)), (("index", 2), ("range", 0, 1, 0))]
    assert specs("destination:key numkeys:integer key... [WEIGHTS weight...]") == [
        (("index", 1), ("range", 0, 1, 0)), (("index", 2), ("keynum", 0, 1, 1))]
    assert specs("[COUNT count:integer] STREAMS key... id...") == [
        (("keyword", "STREAMS", 1), ("range", -1, 1, 2))]
    assert specs("key [LIMIT offset count] [STORE destination:key]") == [
        (("index", 1), ("range", 0, 1, 0)), (("keyword", "STORE", 2), ("range", 0, 1, 0))]
    assert specs("key", start=2) == [(("index", 2), ("range", 0, 1, 0))]
    assert specs("[key]") is None  # an optional key has no fixed place


def test_redis_summaries_parse(oracle_docs):
    """Redis 7.0's own hints, read as `args`, come back as the same hint and the
    same key specs (but two whose argument names aren't valid in our syntax)."""
    docs, info = oracle_docs
    unreadable = {"client|kill", "bitfield"}  # `ip:port`, `yes/no`; a nested repeat
    bad = []
    for name, specs in docs.items():
        args = [a for k, v in pairs(specs) if k.value == b"arguments" for a in v.value]
        hint = " ".join(_typed_args_dsl(a) for a in args)
        plain_hint = " ".join(_cli_arg(name, a) for a in args)
        if name in unreadable:
            continue
        try:
            parsed = parse_args(hint)
        except DocsSyntaxError as e:
            bad.append(f"{name}: {e}")
            continue
        if render_args(parsed) != plain_hint:
            bad.append(f"{name}: {plain_hint!r} became {render_args(parsed)!r}")
        if name in _SPECS_UNLIKE_REDIS:
            continue
        ours = key_specs_from_args(parsed, 2 if "|" in name else 1)
        theirs = [_redis_spec(ks) for ks in info[name].value[8].value]
        if ours is None or [(k.begin, k.find) for k in ours] != theirs:
            bad.append(f"{name}: key specs {ours} (redis: {theirs})")
    assert not bad, "\n  ".join(bad)


# Key specs Redis declares that the arguments don't tell: shard channels (not_key),
# keys named inside the sorted values (SORT BY/GET), a range across two key
# arguments (LCS), a keyword searched from the end (MIGRATE).
_SPECS_UNLIKE_REDIS = {"spublish", "ssubscribe", "sunsubscribe", "sort", "sort_ro", "lcs",
                       "migrate"}


def _redis_spec(ks: T) -> tuple:
    d = {k.value: v for k, v in pairs(ks)}
    bs = {k.value: v for k, v in pairs(d[b"begin_search"])}
    fk = {k.value: v for k, v in pairs(d[b"find_keys"])}
    b = {k.value: v.value for k, v in pairs(bs[b"spec"])}
    f = {k.value: v.value for k, v in pairs(fk[b"spec"])}
    if bs[b"type"].value == b"index":
        begin = ("index", b[b"index"])
    else:
        begin = ("keyword", b[b"keyword"].decode(), b[b"startfrom"])
    if fk[b"type"].value == b"range":
        find = ("range", f[b"lastkey"], f[b"keystep"], f[b"limit"])
    else:
        find = ("keynum", f[b"keynumidx"], f[b"firstkey"], f[b"keystep"])
    return begin, find


def _typed_args_dsl(arg: T) -> str:
    """redis-cli's hint text of one argument, with `:type` where it isn't the default."""
    d = {k.value.decode(): v for k, v in pairs(arg)}
    type_ = d["type"].value.decode()
    name = d["name"].value.decode()
    flags = {f.value for f in d["flags"].value} if "flags" in d else set()
    token = d["token"].value.decode() if "token" in d else ""
    token = token or ('""' if "token" in d else "")
    if type_ == "oneof":
        body = "|".join(_typed_args_dsl(c) for c in d["arguments"].value)
    elif type_ == "block":
        body = " ".join(_typed_args_dsl(c) for c in d["arguments"].value)
    elif type_ == "pure-token":
        body = ""
    else:
        default = "key" if name.endswith("key") else "string"
        body = name if type_ == default else f"{name}:{type_}"
    tok = token + " " if token and type_ != "pure-token" else token
    s = tok + body
    if "multiple" in flags:
        s += " [" + (tok if "multiple_token" in flags else "") + body + " ...]"
    return f"[{s}]" if "optional" in flags else s


# -- COMMAND, COUNT, LIST ---------------------------------------------------------------------

def test_count_list_and_bare_command(kv):
    count = kv.execute("COMMAND", "COUNT")
    assert count == len(TABLE)
    names = kv.execute("COMMAND", "LIST")
    assert len(names) == len(set(names))
    assert {n for n in names if b"|" not in n} == set(TABLE)
    assert {n.decode() for n in names} == {s.fullname for s in all_commands()}
    everything = kv.execute("COMMAND")
    assert len(everything) == count
    assert kv.call("COMMAND")[0] == kv.call("COMMAND", "INFO")[0]
    assert {e[0] for e in everything} == set(TABLE)


def test_list_filters(kv):
    names = kv.execute("COMMAND", "LIST", "FILTERBY", "PATTERN", "COMMAND*")
    assert sorted(names) == sorted([b"command"] + [b"command|" + s for s in
                                                   TABLE[b"command"].subcommands])
    assert kv.execute("COMMAND", "LIST", "filterby", "pattern", "get") == [b"get"]
    assert kv.execute("COMMAND", "LIST", "FILTERBY", "PATTERN", "nosuch*") == []
    assert kv.execute("COMMAND", "LIST", "FILTERBY", "MODULE", "x") == []
    assert kv.execute("COMMAND", "LIST", "FILTERBY", "ACLCAT", "nosuch") == []
    assert kv.execute("COMMAND", "LIST", "FILTERBY", "ACLCAT", "@read") == []
    # ACLCAT lists exactly the commands COMMAND INFO puts in the category.
    listed = set(kv.execute("COMMAND", "LIST", "FILTERBY", "ACLCAT", "ReAd"))
    want = {s.fullname.encode() for s in all_commands() if "@read" in s.acl_categories}
    assert listed == want and b"get" in listed and b"set" not in listed


# -- COMMAND INFO --------------------------------------------------------------------------------

def _check_info_entry(e: T, top: bool = True) -> None:
    v = e.value
    assert e.kind == "array" and len(v) == 10, e
    name = v[0].value.decode()
    assert v[0].kind == "bulk"
    assert [x.kind for x in (v[1], v[3], v[4], v[5])] == ["int"] * 4, name
    assert v[2].kind in ("set", "array") and v[6].kind == v[2].kind, name
    assert all(f.kind == "status" for f in v[2].value), name
    assert all(c.kind == "status" and c.value.startswith("@") for c in v[6].value), name
    assert v[7].kind in ("set", "array") and all(t.kind == "bulk" for t in v[7].value)
    assert v[8].kind in ("set", "array"), name
    for ks in v[8].value:
        d = {k.value: val for k, val in pairs(ks)}
        assert set(d) <= {b"notes", b"flags", b"begin_search", b"find_keys"}, name
        assert all(f.kind == "status" for f in d[b"flags"].value), name
        bs = {k.value: val for k, val in pairs(d[b"begin_search"])}
        fk = {k.value: val for k, val in pairs(d[b"find_keys"])}
        assert bs[b"type"].value in (b"index", b"keyword", b"unknown"), name
        assert fk[b"type"].value in (b"range", b"keynum", b"unknown"), name
        spec = {k.value: val.kind for k, val in pairs(fk[b"spec"])}
        if fk[b"type"].value == b"range":
            assert spec == {b"lastkey": "int", b"keystep": "int", b"limit": "int"}, name
        elif fk[b"type"].value == b"keynum":
            assert spec == {b"keynumidx": "int", b"firstkey": "int", b"keystep": "int"}, name
    subs = v[9]
    if top and TABLE[name.encode()].subcommands:
        assert subs.kind == "array" and subs.value, name
        for s in subs.value:
            assert s.value[0].value.decode().startswith(name + "|")
            _check_info_entry(s, top=False)
    else:
        assert subs.kind in ("set", "array") and subs.value == [], name


def test_info_shape_resp2_and_resp3(kv, kv3):
    for c, setkind in ((kv, "array"), (kv3, "set")):
        reply = typed(c.call("COMMAND", "INFO")[0])
        assert reply.kind == "array" and len(reply.value) == len(TABLE)
        for e in reply.value:
            _check_info_entry(e)
            assert e.value[2].kind == setkind


def test_info_names(kv):
    r = kv.execute("COMMAND", "INFO", "get", "nosuch", "GET", "object|ENCODING",
                   "get|x", "object|nosuch", "object|encoding|x", "", "|", "object|")
    assert r[0][0] == b"get" and r[2][0] == b"get" and r[3][0] == b"object|encoding"
    assert r[1] is None and all(x is None for x in r[4:])
    obj = kv.execute("COMMAND", "INFO", "object")[0]
    assert {s[0] for s in obj[9]} == {b"object|" + n for n in TABLE[b"object"].subcommands}


def test_info_redis_py(r, r3):
    """redis-py parses COMMAND (both protocols) and its cluster key parser works on it."""
    from redis._parsers import CommandsParser

    for c in (r, r3):
        cmds = c.command()
        assert cmds["get"]["arity"] == 2 and cmds["get"]["first_key_pos"] == 1
        assert "readonly" in cmds["get"]["flags"]
        assert c.command_count() == len(TABLE)
        listed = {x.decode() if isinstance(x, bytes) else x for x in c.command_list()}
        assert listed >= {"get", "set", "command|info"}
        parser = CommandsParser(c)
        assert parser.get_keys(c, "SET", "k", "v") == ["k"]
        assert parser.get_keys(c, "MSET", "a", "1", "b", "2") == ["a", "b"]
        assert [k if isinstance(k, str) else k.decode()
                for k in c.command_getkeys("DEL", "x", "y")] == ["x", "y"]


@pytest.mark.parametrize("name", ["get", "set", "mset", "del", "exists", "object|encoding",
                                  "rename", "lmove", "lpush", "blpop", "sunionstore",
                                  "zunionstore", "eval", "xread", "hset"])
def test_info_key_specs_like_redis(kv3, real_redis, name):
    """Arity, flags, first/last/step and key specs (but notes) as Redis gives them."""
    ours = typed(kv3.call("COMMAND", "INFO", name)[0]).value[0]
    if ours.kind == "null":
        pytest.skip(f"{name} is not implemented yet")
    rc = RawClient(port=real_redis)
    rc.call("HELLO", "3")
    theirs = typed(rc.call("COMMAND", "INFO", name)[0]).value[0]
    rc.close()

    def shape(e):
        v = e.plain()
        specs = [{k: x for k, x in ks.items() if k != b"notes"} for ks in v[8]]
        return v[:6], specs

    assert shape(ours) == shape(theirs)


def test_info_of_command_is_redis_s(diff, diff3):
    """COMMAND's own entry is Redis's (its subcommands come in Redis's random hash order)."""
    for d in (diff, diff3):
        (kraw, _), (rraw, _) = d.both("COMMAND", "INFO", "command")
        ours, theirs = typed(kraw).plain(), typed(rraw).plain()
        assert ours[0][:9] == theirs[0][:9]
        assert sorted(ours[0][9], key=repr) == sorted(theirs[0][9], key=repr)
        d.check("COMMAND", "INFO", "command|list", "command|count", "command|info",
                "command|docs", "command|help", "command|getkeys", "command|getkeysandflags")


# -- COMMAND DOCS ----------------------------------------------------------------------------

def test_docs_readable_by_redis_cli(kv, kv3):
    for c in (kv, kv3):
        reply = typed(c.call("COMMAND", "DOCS")[0])
        hints = cli_hints(reply)
        assert len(pairs(reply)) == len(TABLE)
        assert hints["COMMAND LIST"] == \
            "[FILTERBY MODULE module-name|ACLCAT category|PATTERN pattern]"
        assert hints["COMMAND INFO"] == "[command-name [command-name ...]]"
        assert hints["GET"] == "key"


def test_docs_hints_like_redis(kv, oracle_docs):
    """The hint redis-cli shows for each command is Redis's own (all differences listed)."""
    docs, _ = oracle_docs
    ours = cli_hints(typed(kv.call("COMMAND", "DOCS")[0]))
    bad = []
    for spec in ours_and_redis(oracle_docs):
        if spec.fullname in ("command|getkeys", "command|getkeysandflags"):
            continue  # Redis 7.0 documents no arguments there; we give a hint
        if spec.fullname == "client|kill":
            continue  # Redis's argument `ip:port` cannot be spelled in `args`
        key = spec.fullname.upper().replace("|", " ")
        want = " ".join(_cli_arg(key, a) for k, v in pairs(docs[spec.fullname])
                        if k.value == b"arguments" for a in v.value)
        if ours[key] != want:
            bad.append(f"{spec.fullname}: ours {ours[key]!r}\n{'':>{len(spec.fullname) + 4}}"
                       f"redis {want!r}")
    assert not bad, f"{len(bad)} hints differ from Redis 7.0's:\n  " + "\n  ".join(bad)


def test_docs_fields_like_redis(oracle_docs):
    """summary, since, group, complexity and doc flags as Redis 7.0's COMMAND DOCS."""
    docs, _ = oracle_docs
    bad = []
    for spec in ours_and_redis(oracle_docs):
        want = {k.value: v.plain() for k, v in pairs(docs[spec.fullname])}
        got = {b"summary": spec.summary.encode(), b"since": spec.since.encode(),
               b"group": spec.group.replace("_", "-").encode(),
               b"complexity": spec.complexity.encode(),
               b"doc_flags": sorted(spec.doc_flags)}
        want.setdefault(b"complexity", b"")
        want[b"doc_flags"] = sorted(want.get(b"doc_flags", []))
        diffs = [f"{k.decode()} {got[k]!r} (redis: {want[k]!r})" for k in got if got[k] != want[k]]
        if diffs:
            bad.append(f"{spec.fullname}: " + "; ".join(diffs))
    assert not bad, f"{len(bad)} commands documented unlike Redis 7.0:\n  " + "\n  ".join(bad)


def test_info_fields_like_redis(oracle_docs):
    """arity, flags, first/last/step, ACL categories and tips as Redis 7.0's COMMAND INFO."""
    _, info = oracle_docs
    bad = []
    for spec in ours_and_redis(oracle_docs):
        if spec.fullname not in info:
            continue
        v = info[spec.fullname].plain()
        want = {"arity": v[1], "flags": v[2], "keys": v[3:6], "acl": v[6], "tips": v[7]}
        got = {"arity": spec.arity,
               "flags": sorted(f for f in spec.flags if f != "may_replicate"),
               "keys": [spec.first_key, spec.last_key, spec.key_step],
               "acl": sorted(spec.acl_categories),
               "tips": sorted(t.encode() for t in spec.tips)}
        diffs = [f"{k} {got[k]} (redis: {want[k]})" for k in got if got[k] != want[k]]
        if diffs:
            bad.append(f"{spec.fullname}: " + "; ".join(diffs))
    assert not bad, f"{len(bad)} commands declared unlike Redis 7.0:\n  " + "\n  ".join(bad)


def test_docs_names(kv, diff, diff3):
    r = kv.execute("COMMAND", "DOCS", "nosuch", "get", "OBJECT|encoding")
    assert r[0::2] == [b"get", b"object|encoding"]
    assert kv.execute("COMMAND", "DOCS", "nosuch", "", "|") == []
    for d in (diff, diff3):
        d.check("COMMAND", "DOCS", "get", "nosuch", "GET")  # a name asked twice, twice
        d.check("COMMAND", "DOCS", "nosuch")
        for sub in ("list", "count", "docs", "help"):
            d.check("COMMAND", "DOCS", f"command|{sub}")
        d.check("COMMAND", "DOCS", "COMMAND|INFO")


def test_docs_of_containers(kv):
    name, docs = kv.execute("COMMAND", "DOCS", "command")
    assert name == b"command"
    subs = docs[docs.index(b"subcommands") + 1]
    assert sorted(subs[0::2]) == sorted(b"command|" + n for n in TABLE[b"command"].subcommands)


def test_malformed_args_never_break_docs(kv):
    """A bad `args` declaration shows no arguments instead of a broken reply."""
    from kvserver.table import CommandSpec

    spec = CommandSpec("zz-bad-args", None, -2, "", (0, 0, 0), "generic", "1.0.0", "x",
                       "O(1)", "key [oops", "", "", None)
    m = meta(spec)
    assert m.args == [] and "missing ']'" in m.args_error
    assert b"arguments" not in m.docs()


# -- COMMAND GETKEYS / GETKEYSANDFLAGS -----------------------------------------------------------

_GETKEYS_CASES = [
    "get k", "get", "set k v", "set k v ex 10 get", "mset a 1 b 2", "mset a b c", "mset a",
    "del a b c", "exists a", "object encoding k", "object nosuch k", "object help",
    "rename a b", "rpoplpush a b", "lmove a b left right", "lpush k v w", "blpop a b 0",
    "bitop and d a b", "sunionstore d a b", "zunionstore d 2 a b weights 1 2",
    "zunionstore d 3 a b", "zunionstore d x a b", "zunionstore d 0 a", "eval s 0",
    "eval s 2 a b c", "eval s 3 a", "sort k", "sort k store d", "xread streams a b",
    "xread count 1 streams a b c d", "xread count 1 b", "hset k f v", "expire k 10",
    "ping x", "config get x", "config nosuch", "nosuch x", "watch a b", "touch a b",
    "command info", "migrate h 1 k 0 0", "migrate h 1 \"\" 0 0 keys a b",
    "georadius k 0 0 1 m store d", "georadius k 0 0 1 m store", "xread count streams a b",
    "copy a b", "lcs a b", "memory usage k",
    # Redis reads a bad numkeys with atoi() when its key spec gives up.
    "zunionstore d 1.5 a", "zinter 1.5 a", "sintercard 1.5 a", "lmpop 1.5 a left",
    "blmpop 0 1.5 a left", "set k v get", "bitfield k get u8 0", "bitfield k incrby u8 0 1",
]


def test_getkeys_like_redis(diff, kv):
    """Replies of COMMAND GETKEYS(ANDFLAGS) equal Redis's, for commands both know
    (every difference listed)."""
    bad = []

    def check(*args):
        (kraw, _), (rraw, _) = diff.both(*args)
        if kraw != rraw:
            bad.append(f"{' '.join(args)}\n     ours  {kraw!r}\n     redis {rraw!r}")

    for line in _GETKEYS_CASES:
        argv = [a if a != '""' else "" for a in line.split()]
        if argv[0] == "nosuch" or kv.execute("COMMAND", "INFO", argv[0])[0] is not None:
            check("COMMAND", "GETKEYS", *argv)
    for line in ("get k", "mset a 1 b 2", "del a b", "lmove a b left right", "rename a b",
                 "lpush k v", "sunionstore d a b", "exists a", "object encoding k",
                 "hset k f v", "expire k 1", "copy a b", "set k v", "set k v get",
                 "bitfield k get u8 0", "bitfield k overflow sat", "bitfield k set u8 0 1",
                 "zunionstore d 1 a", "zunionstore d 1.5 a", "sort k store d",
                 "sort k get store x", "eval s 1 k"):
        argv = line.split()
        if kv.execute("COMMAND", "INFO", argv[0])[0] is not None:
            check("COMMAND", "GETKEYSANDFLAGS", *argv)
    assert not bad, "\n  ".join([f"{len(bad)} differences:"] + bad)


def test_getkeys_errors(diff, diff3):
    for d in (diff, diff3):
        for args in (["COMMAND", "GETKEYS"], ["COMMAND", "GETKEYS", "get"],
                     ["COMMAND", "GETKEYS", "nosuch", "x"], ["COMMAND", "GETKEYS", "get", "a", "b"],
                     ["COMMAND", "GETKEYS", "ping", "x"],
                     ["COMMAND", "GETKEYS", "command", "info"],
                     ["COMMAND", "GETKEYSANDFLAGS", "get"],
                     ["COMMAND", "GETKEYSANDFLAGS", "nosuch", "x"],
                     ["COMMAND", "GETKEYSANDFLAGS", "get", "a", "b"],
                     ["COMMAND", "GETKEYSANDFLAGS", "mset", "a", "b", "c", "d", "e"]):
            d.check(*args)


def test_getkeysandflags_shape(kv3):
    r = typed(kv3.call("COMMAND", "GETKEYSANDFLAGS", "mset", "a", "1", "b", "2")[0])
    assert [(e.value[0].value, e.value[1].kind, [f.kind for f in e.value[1].value])
            for e in r.value] == [(b"a", "set", ["status", "status"]),
                                  (b"b", "set", ["status", "status"])]


def test_getkeys_movable_without_keys(kv):
    """A movable command may have no keys at all (no_mandatory_keys): an empty list."""
    if kv.execute("COMMAND", "INFO", "eval")[0] is None:
        pytest.skip("EVAL is not implemented yet")
    assert kv.execute("COMMAND", "GETKEYS", "eval", "s", "0") == []


_NAMES = ["get", "set", "mset", "del", "exists", "rename", "lpush", "blpop", "zunionstore",
          "eval", "sort", "xread", "object", "hset", "expire", "lmove", "sunionstore",
          "bitop", "touch", "ping", "nosuch", "copy", "getex", "watch", "incr", "bitfield",
          "zinter", "sintercard", "georadius", "lcs", "migrate"]
_WORDS = ["k", "a", "0", "1", "2", "-1", "x", "store", "streams", "encoding", "weights",
          "left", "ex", "get", "", "set", "u8", "overflow", "by"]


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.sampled_from(_NAMES), words=st.lists(st.sampled_from(_WORDS), max_size=6),
       with_flags=st.booleans())
def test_getkeys_random_like_redis(diff, kv, name, words, with_flags):
    if name != "nosuch" and kv.execute("COMMAND", "INFO", name)[0] is None:
        return
    sub = "GETKEYSANDFLAGS" if with_flags else "GETKEYS"
    diff.check("COMMAND", sub, name, *words)


# -- other subcommands, errors -------------------------------------------------------------

def test_help_and_errors(diff, diff3):
    for d in (diff, diff3):
        d.check("COMMAND", "HELP")
        d.check("command", "help", "x")
        d.check("COMMAND", "COUNT", "x")
        d.check("COMMAND", "nosuch")
        d.check("COMMAND", "LIST", "x")
        d.check("COMMAND", "LIST", "FILTERBY", "foo", "x")
        d.check("COMMAND", "LIST", "FILTERBY", "pattern")
        d.check("COMMAND", "LIST", "FILTERBY", "pattern", "x", "y")
        d.check("COMMAND", "LIST", "FILTERBY", "module", "x")
        d.check("COMMAND", "LIST", "FILTERBY", "aclcat", "nosuch")
        d.check("COMMAND", "LIST", "FILTERBY", "pattern", "command|c*")
        d.check("COMMAND", "INFO", "nosuch", "get|x", "command|nosuch", "command|count|x")
        d.check("COMMAND", "INFO", "command|count", "COMMAND|HELP")


def test_command_in_multi(kv):
    kv.execute("MULTI")
    assert kv.execute("COMMAND", "COUNT") == b"QUEUED"
    assert kv.execute("EXEC") == [len(TABLE)]


# -- redis-cli itself --------------------------------------------------------------------------

@pytest.mark.skipif(not (shutil.which("tmux") and shutil.which("redis-cli")),
                    reason="needs tmux and redis-cli")
def test_redis_cli_hints(server):
    """Interactive redis-cli reads our COMMAND DOCS and shows hints (it aborts if the
    reply is malformed)."""
    session = f"kvcmd-{uuid.uuid4().hex[:8]}"
    subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "220", "-y", "10",
                    f"redis-cli -p {server.port}"], check=True)
    try:
        prompt = f"127.0.0.1:{server.port}>"
        screen = _type_and_read(session, prompt, "set ", "key value")
        assert "set key value [NX|XX] [GET] [EX seconds|PX milliseconds|" in screen, screen
        subprocess.run(["tmux", "send-keys", "-t", session, "C-u"], check=True)
        screen = _type_and_read(session, prompt, "command list ", "FILTERBY")
        assert "command list [FILTERBY MODULE module-name|ACLCAT category|PATTERN pattern]" \
            in screen, screen
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], check=False)


def _type_and_read(session: str, prompt: str, text: str, expect: str) -> str:
    _wait_screen(session, prompt)  # redis-cli has read COMMAND DOCS
    subprocess.run(["tmux", "send-keys", "-t", session, text, ""], check=True)
    return _wait_screen(session, expect)


def _wait_screen(session: str, expect: str) -> str:
    screen = ""
    for _ in range(100):
        screen = subprocess.run(["tmux", "capture-pane", "-p", "-t", session],
                                capture_output=True, text=True).stdout
        if expect in screen:
            break
        time.sleep(0.1)
    return screen
