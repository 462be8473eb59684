"""CLIENT: ID, INFO, LIST, SETNAME/GETNAME, KILL, REPLY, PAUSE/UNPAUSE, UNBLOCK,
NO-EVICT, NO-TOUCH, SETINFO, GETREDIR, TRACKINGINFO, HELP.

Differential tests compare with redis-server 7.0 wherever the reply does not
depend on connection details (ids, ports, memory figures); CLIENT LIST lines
are parsed and compared field by field. Commands that affect every client
(KILL without a filter, PAUSE) run against a server of their own.
"""

from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kvserver.testing import KVServer
from tests.rawclient import RawClient, ReplyError, encode_command

# Fields whose values do not depend on ids, addresses, timing or memory layout.
STABLE_FIELDS = ("name", "flags", "db", "sub", "psub", "ssub", "multi", "qbuf", "argv-mem",
                 "multi-mem", "obl", "oll", "omem", "events", "cmd", "user", "redir", "resp")
FIELD_ORDER = ("id addr laddr fd name age idle flags db sub psub ssub multi qbuf qbuf-free "
               "argv-mem multi-mem rbs rbp obl oll omem tot-mem events cmd user redir "
               "resp").split()


def parse_line(line: str) -> list[tuple[str, str]]:
    out = []
    for part in line.split(" "):
        k, _, v = part.partition("=")
        out.append((k, v))
    return out


def parse_list(text: bytes) -> list[dict[str, str]]:
    s = text.decode()
    assert s.endswith("\n"), s
    lines = s[:-1].split("\n") if s != "" else []
    out = []
    for line in lines:
        fields = parse_line(line)
        assert [k for k, _ in fields] == FIELD_ORDER, line
        out.append(dict(fields))
    return out


def wait_for(cond, what: str, limit: float = 10.0) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.01)
    pytest.fail(f"timed out waiting for {what}")


def my_line(c: RawClient, cmd: tuple = ("CLIENT", "INFO")) -> dict[str, str]:
    v = c.execute(*cmd)
    assert isinstance(v, bytes), v
    (d,) = parse_list(v)
    return d


def line_of(c: RawClient, cid: int) -> dict[str, str]:
    (d,) = parse_list(c.execute("CLIENT", "LIST", "ID", str(cid)))
    return d


def stable(d: dict[str, str]) -> dict[str, str]:
    return {k: d[k] for k in STABLE_FIELDS}


@pytest.fixture
def own():
    """A kvserver of this test's own, for commands that act on every client."""
    with KVServer() as srv:
        yield srv


# -- the CLIENT LIST / INFO line -----------------------------------------------------------


def test_info_and_list_lines_match_redis(diff):
    for cmd in (("CLIENT", "INFO"), ("CLIENT", "LIST")):
        kv_id = diff.kv.execute("CLIENT", "ID")
        rd_id = diff.redis.execute("CLIENT", "ID")
        (kraw, kval), (rraw, rval) = diff.both(*cmd)
        kv = [d for d in parse_list(kval) if d["id"] == str(kv_id)]
        rd = [d for d in parse_list(rval) if d["id"] == str(rd_id)]
        assert len(kv) == len(rd) == 1
        assert stable(kv[0]) == stable(rd[0])
        assert kv[0]["flags"] == "N" and kv[0]["qbuf"] == "26" and kv[0]["argv-mem"] == "10"
        assert kv[0]["cmd"] == ("client|info" if cmd[1] == "INFO" else "client|list")
        assert kraw.startswith(b"$") and rraw.startswith(b"$")


def test_a_pipelining_client_seen_from_another_like_redis(diff):
    # A pipeline of data commands runs on the connection's hot path, which
    # records the client's last command once per read: another client's
    # CLIENT LIST must still show the last one, as Redis does.
    kv_id, rd_id = diff.kv.execute("CLIENT", "ID"), diff.redis.execute("CLIENT", "ID")
    pipeline = (encode_command(("SET", "k", "v" * 10)) + encode_command(("LPUSH", "l", "a"))
                + encode_command(("GET", "k")))
    for c in (diff.kv, diff.redis):
        c.send_raw(pipeline)
        for _ in range(3):
            c.read_reply()
    (kraw, kval), (rraw, rval) = diff.other.both("CLIENT", "LIST")
    kv = [d for d in parse_list(kval) if d["id"] == str(kv_id)]
    rd = [d for d in parse_list(rval) if d["id"] == str(rd_id)]
    assert len(kv) == len(rd) == 1
    assert stable(kv[0]) == stable(rd[0])
    assert kv[0]["cmd"] == rd[0]["cmd"] == "get"


def test_last_command_after_the_exact_parser_took_over_like_redis(diff):
    # "*-1" sends the rest of the read to the exact parser; PING is then the
    # client's last command, not the GET the hot path ran before it.
    kv_id, rd_id = diff.kv.execute("CLIENT", "ID"), diff.redis.execute("CLIENT", "ID")
    for c in (diff.kv, diff.redis):
        c.send_raw(encode_command(("GET", "a")) + b"*-1\r\n" + encode_command(("PING",)))
        c.read_reply()
        c.read_reply()
    (_, kval), (_, rval) = diff.other.both("CLIENT", "LIST")
    kv = [d for d in parse_list(kval) if d["id"] == str(kv_id)]
    rd = [d for d in parse_list(rval) if d["id"] == str(rd_id)]
    assert kv[0]["cmd"] == rd[0]["cmd"] == "ping"


def test_info_is_verbatim_in_resp3(diff3):
    (kraw, kval), (rraw, rval) = diff3.both("CLIENT", "INFO")
    assert kraw.startswith(b"=") and rraw.startswith(b"=")
    assert kraw.split(b"\r\n", 1)[1].startswith(b"txt:id=")
    assert stable(dict(parse_line(kval.decode().rstrip("\n")))) == \
        stable(dict(parse_line(rval.decode().rstrip("\n"))))


def test_line_values_from_our_side(server, r):
    cid = r.client_id()
    d = line_of(RawClient(port=server.port), cid)
    assert d["addr"].startswith("127.0.0.1:") and d["laddr"] == f"127.0.0.1:{server.port}"
    assert int(d["fd"]) > 0 and int(d["age"]) >= 0 and int(d["idle"]) >= 0
    assert d["resp"] in ("2", "3") and d["user"] == "default"
    assert int(d["tot-mem"]) > 0
    assert d["cmd"] == "client|id"


def test_other_clients_states_match_redis(diff):
    """A client inside MULTI, a blocked one, a monitor, a named one, one on db 3."""
    o = diff.other
    ids = (o.kv.execute("CLIENT", "ID"), o.redis.execute("CLIENT", "ID"))

    def compare(expect_flags: str) -> dict[str, str]:
        k = line_of(diff.kv, ids[0])
        rd = line_of(diff.redis, ids[1])
        assert stable(k) == stable(rd), (k, rd)
        assert k["flags"] == expect_flags
        return k

    o.check("SELECT", "3")
    o.check("CLIENT", "SETNAME", "worker-1")
    d = compare("N")
    assert d["db"] == "3" and d["name"] == "worker-1" and d["cmd"] == "client|setname"
    o.check("MULTI")
    o.check("SET", "a", "b")
    o.check("GET", "a")
    d = compare("x")
    assert d["multi"] == "2" and d["multi-mem"] == "49" and d["cmd"] == "get"
    o.check("EXEC")
    d = compare("N")
    assert d["cmd"] == "exec" and d["multi"] == "-1"
    o.check("NOSUCHCOMMAND")
    assert compare("N")["cmd"] == "NULL"
    o.check("CLIENT", "NOSUCHSUB")
    assert compare("N")["cmd"] == "NULL"
    # Blocked: flags b, the blocking command's arguments counted.
    for side in (o.kv, o.redis):
        side.send_raw(b"*3\r\n$5\r\nBLPOP\r\n$6\r\nnolist\r\n$1\r\n0\r\n")
    wait_for(lambda: line_of(diff.kv, ids[0])["flags"] == "b", "BLPOP to block")
    wait_for(lambda: line_of(diff.redis, ids[1])["flags"] == "b", "BLPOP to block (redis)")
    d = compare("b")
    assert d["argv-mem"] == "12" and d["cmd"] == "blpop"
    assert diff.kv.execute("CLIENT", "UNBLOCK", str(ids[0])) == 1
    assert diff.redis.execute("CLIENT", "UNBLOCK", str(ids[1])) == 1
    assert o.kv.read_reply() == o.redis.read_reply()
    o.check("CLIENT", "NO-EVICT", "on")
    assert compare("e")["cmd"] == "client|no-evict"
    o.check("CLIENT", "NO-EVICT", "off")
    o.check("MONITOR")
    assert compare("O")["cmd"] == "monitor"


def test_list_filters_and_errors_match_redis(diff):
    for args in (("CLIENT", "LIST", "TYPE", "master"), ("CLIENT", "LIST", "TYPE", "replica"),
                 ("CLIENT", "LIST", "TYPE", "slave"), ("CLIENT", "LIST", "TYPE", "pubsub"),
                 ("CLIENT", "LIST", "TYPE", "wrong"), ("CLIENT", "LIST", "type", "Bad One"),
                 ("CLIENT", "LIST", "foo"), ("CLIENT", "LIST", "ID"),
                 ("CLIENT", "LIST", "TYPE"), ("CLIENT", "LIST", "TYPE", "normal", "x"),
                 ("CLIENT", "LIST", "ID", "abc"), ("CLIENT", "LIST", "ID", "1", "x"),
                 ("CLIENT", "LIST", "ID", "999999999"), ("CLIENT", "LIST", "ID", "-5")):
        diff.check(*args)


def test_list_type_normal_and_ids(server, r):
    other = server.client()
    try:
        other.ping()
        ids = {r.client_id(), other.client_id()}
        text = r.execute_command("CLIENT", "LIST", "TYPE", "NORMAL")
        listed = {int(d["id"]) for d in parse_list(text)}
        assert ids <= listed
        text = r.execute_command("CLIENT", "LIST", "ID", *map(str, ids), "999999999")
        assert sorted(int(d["id"]) for d in parse_list(text)) == sorted(ids)
        # Duplicates are listed twice, as in Redis.
        one = str(r.client_id())
        assert len(parse_list(r.execute_command("CLIENT", "LIST", "ID", one, one))) == 2
    finally:
        other.close()


def test_list_and_kill_by_unix_socket_address():
    with KVServer(unix_socket=True) as srv:
        c = RawClient(unix_path=srv.unix_socket)
        d = my_line(c)
        assert d["addr"] == f"{srv.unix_socket}:0" and d["laddr"] == d["addr"]
        assert d["flags"] == "U"
        t = RawClient(port=srv.port)
        assert t.execute("CLIENT", "KILL", "ADDR", f"{srv.unix_socket}:0") == 1
        with pytest.raises((ConnectionError, OSError)):
            c.execute("PING")
        t.close()


# -- names -----------------------------------------------------------------------------


def test_setname_getname_match_redis(diff, diff3):
    for d in (diff, diff3):
        d.check("CLIENT", "GETNAME")
        d.check("CLIENT", "SETNAME", "myname")
        d.check("CLIENT", "GETNAME")
        d.check("CLIENT", "SETNAME", "foo bar")
        d.check("CLIENT", "SETNAME", "new\nline")
        d.check("CLIENT", "SETNAME", "caf\xe9")
        d.check("CLIENT", "SETNAME", "tab\there")
        d.check("CLIENT", "GETNAME")
        d.check("CLIENT", "SETNAME", "!~")
        d.check("CLIENT", "SETNAME", "")  # an empty name removes it
        d.check("CLIENT", "GETNAME")
        d.check("CLIENT", "SETNAME")
        d.check("CLIENT", "SETNAME", "a", "b")
        d.check("CLIENT", "GETNAME", "x")
        d.check("HELLO", "2" if d is diff else "3", "SETNAME", "bad name")
        d.both("HELLO", "2" if d is diff else "3", "SETNAME", "good")  # the reply has the id
        d.check("CLIENT", "GETNAME")


def test_name_shows_in_list_and_goes_with_the_connection(server, r):
    other = server.client()
    other.client_setname("foobar")
    assert "name=foobar " in r.execute_command("CLIENT", "LIST").decode()
    other.close()
    wait_for(lambda: b"foobar" not in r.execute_command("CLIENT", "LIST"), "client to go")


# -- KILL ----------------------------------------------------------------------------------


def test_kill_errors_match_redis(diff):
    for args in (("CLIENT", "KILL"), ("CLIENT", "KILL", "id", "10", "wrong_arg"),
                 ("CLIENT", "KILL", "id", "str"), ("CLIENT", "KILL", "id", "-1"),
                 ("CLIENT", "KILL", "id", "0"), ("CLIENT", "KILL", "type", "wrong_type"),
                 ("CLIENT", "KILL", "user", "wrong_user"),
                 ("CLIENT", "KILL", "skipme", "yes_or_no"),
                 ("CLIENT", "KILL", "1.2.3.4:5"), ("CLIENT", "KILL", "foo", "bar"),
                 ("CLIENT", "KILL", "addr", "1.2.3.4:5"), ("CLIENT", "KILL", "laddr", "x:1"),
                 ("CLIENT", "KILL", "id", "999999999"),
                 ("CLIENT", "KILL", "id", "999999999", "skipme", "no"),
                 ("CLIENT", "KILL", "ID", "99999999999999999999"),
                 ("CLIENT", "KILL", "type", "master"), ("CLIENT", "KILL", "TYPE", "Pubsub"),
                 ("CLIENT", "KILL", "user", "default", "type", "nope")):
        diff.check(*args)


def test_kill_by_id_addr_laddr_user(own):
    me = RawClient(port=own.port)
    victims = [RawClient(port=own.port) for _ in range(3)]
    ids = [v.execute("CLIENT", "ID") for v in victims]
    assert me.execute("CLIENT", "KILL", "ID", str(ids[0])) == 1
    with pytest.raises((ConnectionError, OSError)):
        victims[0].execute("PING")
    addr = my_line(victims[1])["addr"]
    assert me.execute("CLIENT", "KILL", addr) == b"OK"  # the old form
    with pytest.raises((ConnectionError, OSError)):
        victims[1].execute("PING")
    assert isinstance(me.execute("CLIENT", "KILL", addr), ReplyError)
    # LADDR and USER match every client here; SKIPME (default yes) spares me.
    assert me.execute("CLIENT", "KILL", "LADDR", f"127.0.0.1:{own.port}",
                      "USER", "default", "ID", str(ids[2])) == 1
    assert me.execute("PING") == b"PONG"
    assert me.execute("CLIENT", "KILL", "LADDR", "127.0.0.1:1") == 0
    me.close()


def test_kill_skipme_yes_then_no(own):
    """As Redis's test: SKIPME yes kills the others; SKIPME no kills me too,
    after my reply."""
    me = RawClient(port=own.port)
    others = [RawClient(port=own.port) for _ in range(3)]
    for o in others:
        o.execute("PING")
    assert me.execute("CLIENT", "KILL", "SKIPME", "yes") == 3
    more = [RawClient(port=own.port) for _ in range(2)]
    for o in more:
        o.execute("PING")
    assert me.execute("CLIENT", "KILL", "TYPE", "normal", "SKIPME", "no") == 3
    with pytest.raises((ConnectionError, OSError)):
        me.execute("PING")
    fresh = RawClient(port=own.port)
    d = parse_list(fresh.execute("CLIENT", "LIST"))
    assert [x["id"] for x in d] == [str(fresh.execute("CLIENT", "ID"))]
    fresh.close()


def test_kill_myself_with_the_old_form(own):
    me = RawClient(port=own.port)
    addr = my_line(me)["addr"]
    assert me.call("CLIENT", "KILL", addr)[0] == b"+OK\r\n"
    with pytest.raises((ConnectionError, OSError)):
        me.execute("PING")


# -- REPLY -------------------------------------------------------------------------------


def _replies_after(c: RawClient, commands: list[tuple], marker: tuple = ("ECHO", "end")):
    """Send commands then marker; return the raw replies up to the marker's."""
    from tests.rawclient import encode_command

    c.send_raw(b"".join(encode_command(a) for a in [*commands, marker]))
    out = []
    while True:
        raw, val = c.read_reply()
        if val == marker[1].encode():
            return out
        out.append(raw)


@pytest.mark.parametrize("seq", [
    [("CLIENT", "REPLY", "OFF"), ("PING", "pong"), ("PING", "pong2"), ("CLIENT", "REPLY", "ON"),
     ("PING", "pong3")],
    [("CLIENT", "REPLY", "SKIP"), ("PING", "pong"), ("PING", "pong2")],
    [("CLIENT", "REPLY", "SKIP"), ("CLIENT", "REPLY", "ON"), ("PING",)],
    [("CLIENT", "REPLY", "SKIP"), ("CLIENT", "REPLY", "SKIP"), ("PING", "a"), ("PING", "b")],
    [("CLIENT", "REPLY", "OFF"), ("CLIENT", "REPLY", "SKIP"), ("PING", "a"),
     ("CLIENT", "REPLY", "ON"), ("PING", "b")],
    [("CLIENT", "REPLY", "OFF"), ("SET",), ("CLIENT", "REPLY", "bad"), ("CLIENT", "REPLY", "on"),
     ("CLIENT", "REPLY", "bad")],
    [("CLIENT", "REPLY", "SKIP"), ("NOSUCH",), ("GET", "k")],
    [("CLIENT", "REPLY"), ("CLIENT", "REPLY", "ON", "x")],
])
def test_reply_modes_match_redis(diff, seq):
    o = diff.other
    seq = [*seq, ("CLIENT", "REPLY", "ON")]
    assert _replies_after(o.kv, seq) == _replies_after(o.redis, seq)


def test_reply_off_with_redis_py(server):
    c = server.client(protocol=2)
    conn = c.connection_pool.get_connection()
    conn.send_command("CLIENT", "REPLY", "OFF")
    conn.send_command("SET", "reply-off-key", "v")
    conn.send_command("CLIENT", "REPLY", "ON")
    assert conn.read_response() == b"OK"  # the first reply is ON's
    c.connection_pool.release(conn)
    assert c.get("reply-off-key") == b"v"
    c.delete("reply-off-key")
    c.close()


# -- PAUSE -------------------------------------------------------------------------------


def test_pause_errors_match_redis(diff):
    for args in (("CLIENT", "PAUSE", "abc"), ("CLIENT", "PAUSE", "-1"),
                 ("CLIENT", "PAUSE", "10", "foo"), ("CLIENT", "PAUSE", "abc", "foo"),
                 ("CLIENT", "PAUSE", "1.5"), ("CLIENT", "PAUSE", "10", "write", "x"),
                 ("CLIENT", "PAUSE"), ("CLIENT", "UNPAUSE", "x"), ("CLIENT", "UNPAUSE"),
                 ("CLIENT", "PAUSE", "0"), ("CLIENT", "PAUSE", "0", "WRITE"),
                 ("CLIENT", "UNPAUSE")):
        diff.check(*args)


def test_pause_write_holds_writes_until_unpause(own):
    admin, writer, reader = (RawClient(port=own.port) for _ in range(3))
    wid = writer.execute("CLIENT", "ID")
    assert admin.execute("CLIENT", "PAUSE", "100000", "WRITE") == b"OK"
    try:
        # Reads go on.
        assert reader.execute("GET", "paused-key") is None
        assert reader.execute("PING") == b"PONG"
        writer.send_raw(b"*3\r\n$3\r\nSET\r\n$10\r\npaused-key\r\n$1\r\nv\r\n")
        wait_for(lambda: line_of(admin, wid)["flags"] == "b", "the SET to be held")
        assert reader.execute("GET", "paused-key") is None
        # A write with a syntax error is answered at once, as in Redis.
        assert isinstance(reader.execute("SET", "x"), ReplyError)
        # A MULTI with only reads runs; EXEC of a write transaction waits.
        assert reader.execute("MULTI") == b"OK"
        assert reader.execute("GET", "paused-key") == b"QUEUED"
        assert reader.execute("EXEC") == [None]
    finally:
        assert admin.execute("CLIENT", "UNPAUSE") == b"OK"
    assert writer.read_reply()[1] == b"OK"
    assert reader.execute("GET", "paused-key") == b"v"
    assert line_of(admin, wid)["flags"] == "N"
    for c in (admin, writer, reader):
        c.close()


def test_pause_all_holds_reads_too(own):
    admin, other = RawClient(port=own.port), RawClient(port=own.port)
    oid = other.execute("CLIENT", "ID")
    admin.execute("SET", "k", "v")
    assert admin.execute("CLIENT", "PAUSE", "100000") == b"OK"
    other.send_raw(b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n")
    # The pausing client is held too (its UNPAUSE included): release from the loop.
    d = [x for x in own.server.clients.values() if x.id == oid][0]
    wait_for(lambda: bool(d.queued_argv), "the GET to be held")
    own.call_in_loop(own.server.unpause)
    assert other.read_reply()[1] == b"v"
    admin.close()
    other.close()


def _info_field(c: RawClient, section: str, name: str) -> str:
    for line in c.execute("INFO", section).decode().splitlines():
        if line.startswith(name + ":"):
            return line.split(":", 1)[1]
    raise KeyError(name)


def test_paused_clients_count_as_blocked(own):
    admin, writer = RawClient(port=own.port), RawClient(port=own.port)
    assert _info_field(admin, "clients", "blocked_clients") == "0"
    admin.execute("CLIENT", "PAUSE", "100000", "WRITE")
    writer.send_raw(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n")
    wait_for(lambda: _info_field(admin, "clients", "blocked_clients") == "1", "blocked_clients")
    admin.execute("CLIENT", "UNPAUSE")
    assert writer.read_reply()[1] == b"OK"
    assert _info_field(admin, "clients", "blocked_clients") == "0"


def test_no_expiry_while_paused(own):
    """As Redis 7.0: a paused server keeps its dataset; expired keys read as
    missing but are deleted (and counted) only after UNPAUSE."""
    c = RawClient(port=own.port)
    c.execute("SET", "foo", "bar", "PX", "10000")
    c.execute("SET", "baz", "qux", "PX", "10000")
    assert c.execute("CLIENT", "PAUSE", "100000", "WRITE") == b"OK"
    own.advance_time(20)
    assert c.execute("GET", "foo") is None
    own.call_in_loop(own.server.cron)  # an active expiry cycle does nothing either
    assert c.execute("DBSIZE") == 2
    assert _info_field(c, "stats", "expired_keys") == "0"
    c.execute("CLIENT", "UNPAUSE")
    assert c.execute("GET", "foo") is None
    assert c.execute("GET", "baz") is None
    assert _info_field(c, "stats", "expired_keys") == "2"
    c.close()


def test_pause_releases_by_itself():
    with KVServer() as srv:
        a, b = RawClient(port=srv.port), RawClient(port=srv.port)
        assert a.execute("CLIENT", "PAUSE", "50", "WRITE") == b"OK"
        assert b.execute("SET", "k", "v") == b"OK"  # answered once the pause ends
        assert b.execute("GET", "k") == b"v"


# -- UNBLOCK -----------------------------------------------------------------------------


def test_unblock_errors_match_redis(diff):
    for args in (("CLIENT", "UNBLOCK", "abc"), ("CLIENT", "UNBLOCK", "1", "foo"),
                 ("CLIENT", "UNBLOCK", "abc", "foo"), ("CLIENT", "UNBLOCK", "999999"),
                 ("CLIENT", "UNBLOCK", "999999", "error"), ("CLIENT", "UNBLOCK", "1", "2", "3"),
                 ("CLIENT", "UNBLOCK")):
        diff.check(*args)


@pytest.mark.parametrize("how", [(), ("TIMEOUT",), ("ERROR",), ("error",)])
def test_unblock_replies_match_redis(diff, how):
    o = diff.other
    ids = (o.kv.execute("CLIENT", "ID"), o.redis.execute("CLIENT", "ID"))
    for side in (o.kv, o.redis):
        side.send_raw(b"*3\r\n$8\r\nBZPOPMIN\r\n$3\r\nzzz\r\n$1\r\n0\r\n")
    wait_for(lambda: line_of(diff.kv, ids[0])["flags"] == "b", "BZPOPMIN to block")
    wait_for(lambda: line_of(diff.redis, ids[1])["flags"] == "b", "BZPOPMIN to block (redis)")
    assert diff.kv.execute("CLIENT", "UNBLOCK", str(ids[0]), *how) == 1
    assert diff.redis.execute("CLIENT", "UNBLOCK", str(ids[1]), *how) == 1
    assert o.kv.read_reply()[0] == o.redis.read_reply()[0]
    # Not blocked any more: 0.
    assert diff.kv.execute("CLIENT", "UNBLOCK", str(ids[0])) == 0
    o.check("PING")


# -- the smaller subcommands -------------------------------------------------------------


def test_small_subcommands_match_redis(diff, diff3):
    for d in (diff, diff3):
        for args in (("CLIENT", "HELP"), ("client", "help"), ("CLIENT", "HELP", "x"),
                     ("CLIENT", "GETREDIR"), ("CLIENT", "GETREDIR", "x"),
                     ("CLIENT", "TRACKINGINFO"), ("CLIENT", "TRACKINGINFO", "x"),
                     ("CLIENT", "NO-EVICT", "on"), ("CLIENT", "NO-EVICT", "OFF"),
                     ("CLIENT", "NO-EVICT", "maybe"), ("CLIENT", "NO-EVICT"),
                     ("CLIENT",), ("CLIENT", "NOSUCH"), ("CLIENT", "nosuch", "a", "b"),
                     ("CLIENT", "ID", "x"), ("CLIENT", "INFO", "x"),
                     ("CLIENT", "REPLY", "maybe")):
            d.check(*args)


def test_id_is_the_connection_id(server, r):
    cid = r.client_id()
    assert isinstance(cid, int) and cid > 0
    other = server.client()
    assert other.client_id() > cid
    other.close()


def test_no_touch_from_redis_7_2(r):
    assert r.execute_command("CLIENT", "NO-TOUCH", "on") == b"OK"
    assert "T" in r.client_info()["flags"]
    assert r.execute_command("CLIENT", "NO-TOUCH", "OFF") == b"OK"
    assert r.client_info()["flags"] == "N"
    with pytest.raises(Exception, match="syntax error"):
        r.execute_command("CLIENT", "NO-TOUCH", "maybe")


def test_setinfo_from_redis_7_2(server, r):
    assert r.execute_command("CLIENT", "SETINFO", "LIB-NAME", "mylib") == b"OK"
    assert r.execute_command("CLIENT", "SETINFO", "lib-ver", "1.2.3") == b"OK"
    cid = r.client_id()
    c = [x for x in server.server.clients.values() if x.id == cid][0]
    assert (c.lib_name, c.lib_ver) == (b"mylib", b"1.2.3")
    # Redis 7.0's line has no lib-name / lib-ver fields.
    assert "lib-name" not in r.execute_command("CLIENT", "INFO").decode()
    with pytest.raises(Exception, match=r"^Unrecognized option 'LIB-FOO'$"):
        r.execute_command("CLIENT", "SETINFO", "LIB-FOO", "x")
    with pytest.raises(Exception, match="^LIB-NAME cannot contain spaces, newlines or special "
                                        "characters.$"):
        r.execute_command("CLIENT", "SETINFO", "LIB-NAME", "my lib")
    with pytest.raises(Exception, match="wrong number of arguments for 'client|setinfo'"):
        r.execute_command("CLIENT", "SETINFO", "LIB-NAME")
    assert r.execute_command("CLIENT", "SETINFO", "LIB-NAME", "") == b"OK"
    assert c.lib_name == b""


def test_redis_py_connects_with_setinfo(server):
    """redis-py 5+ sends CLIENT SETINFO on connect; it must succeed."""
    import redis

    c = server.client()
    assert c.ping() is True
    cid = c.client_id()
    x = [x for x in server.server.clients.values() if x.id == cid][0]
    assert x.lib_name.startswith(b"redis-py") and x.lib_ver == redis.__version__.encode()
    c.close()


def test_command_info_of_client_subcommands_matches_redis(diff):
    for sub in ("list", "kill", "pause", "unpause", "unblock", "reply", "setname", "getname",
                "id", "info", "no-evict", "help", "getredir", "trackinginfo"):
        kv = diff.kv.execute("COMMAND", "INFO", f"client|{sub}")
        rd = diff.redis.execute("COMMAND", "INFO", f"client|{sub}")
        # name, arity, flags, first/last/step, ACL categories (as a set), tips
        assert kv[0][:6] == rd[0][:6], sub
        assert sorted(kv[0][6]) == sorted(rd[0][6]), sub
        assert kv[0][7] == rd[0][7], sub


# -- random sequences --------------------------------------------------------------------

_names = st.sampled_from(["", "a", "worker-1", "x y", "\n", "ok!", "é"])
_ops = st.one_of(
    st.tuples(st.just("SETNAME"), _names),
    st.just(("GETNAME",)),
    st.tuples(st.just("NO-EVICT"), st.sampled_from(["on", "off", "ON", "x"])),
    st.tuples(st.just("REPLY"), st.sampled_from(["on", "ON", "bad"])),
    st.just(("GETREDIR",)),
    st.tuples(st.just("LIST"), st.just("TYPE"), st.sampled_from(["x", "master", "replica"])),
    st.tuples(st.just("KILL"), st.just("ID"), st.sampled_from(["0", "-3", "abc", "999999999"])),
    st.tuples(st.just("UNBLOCK"), st.sampled_from(["999999999", "x"]),
              st.sampled_from(["TIMEOUT", "ERROR", "nope"])),
    st.tuples(st.just("PAUSE"), st.sampled_from(["0", "-1", "x"]),
              st.sampled_from(["WRITE", "ALL", "bad"])),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(_ops, max_size=12))
def test_random_client_sequences_match_redis(diff, ops):
    for op in ops:
        diff.check("CLIENT", *op)
    diff.check("CLIENT", "GETNAME")
    diff.check("CLIENT", "SETNAME", "")
    diff.check("CLIENT", "NO-EVICT", "off")


def test_pause_write_holds_scripts_by_their_flags(server):
    """CLIENT PAUSE WRITE holds EVAL without flags, not a no-writes script or
    EVAL_RO (Redis judges scripts by their declared flags)."""
    admin = server.client()
    admin.execute_command("CLIENT", "PAUSE", "60000", "WRITE")
    held = RawClient(port=server.port)
    try:
        ro = server.client()
        assert ro.execute_command("EVAL", "#!lua flags=no-writes\nreturn 'ro'", 0) == b"ro"
        assert ro.execute_command("EVAL_RO", "return 'ro2'", 0) == b"ro2"
        held.send_raw(b"*3\r\n$4\r\nEVAL\r\n$8\r\nreturn 1\r\n$1\r\n0\r\n")
        held.sock.settimeout(0.3)
        with pytest.raises(OSError):  # socket.timeout: held by the pause
            held.sock.recv(10)
    finally:
        admin.execute_command("CLIENT", "UNPAUSE")
    held.sock.settimeout(10)
    assert held.read_reply()[0] == b":1\r\n"
    held.close()
