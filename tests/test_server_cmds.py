"""Server commands: DBSIZE, FLUSHDB, FLUSHALL, TIME, LASTSAVE, SLOWLOG, MONITOR,
SHUTDOWN, ROLE, LOLWUT, MEMORY."""

from __future__ import annotations

import re
import socket
import time
from contextlib import contextmanager

import pytest
import redis

from kvserver.commands import server_cmds
from kvserver.commands.server_cmds import monitor_line, repr_arg
from kvserver.testing import KVServer
from tests.rawclient import RawClient


@contextmanager
def kv_config(server, **params):
    """Set config parameters on the in-process server for a block (restored after)."""
    cfg = server.server.config
    names = [k.replace("_", "-") for k in params]
    old = [(n, cfg.get(n)) for n in names]
    server.call_in_loop(cfg.config_set, [(n, str(v)) for n, v in zip(names, params.values(), strict=True)])
    try:
        yield
    finally:
        server.call_in_loop(cfg.config_set, old)


@contextmanager
def both_config(diff, server, **params):
    """The same config on kvserver and on the reference redis-server."""
    names = [k.replace("_", "-") for k in params]
    old = [(n, diff.redis.execute("CONFIG", "GET", n)[1]) for n in names]
    for n, v in zip(names, params.values(), strict=True):
        diff.redis.execute("CONFIG", "SET", n, str(v))
    try:
        with kv_config(server, **params):
            yield
    finally:
        for n, v in old:
            diff.redis.execute("CONFIG", "SET", n, v)


# -- DBSIZE, FLUSHDB, FLUSHALL -----------------------------------------------------------

def test_dbsize_and_flush_differential(diff):
    diff.check("DBSIZE")
    for k in ("a", "b", "c"):
        diff.check("SET", k, "1")
    diff.check("DBSIZE")
    diff.check("SELECT", "1")
    diff.check("SET", "x", "1")
    diff.check("DBSIZE")
    diff.check("FLUSHDB")
    diff.check("DBSIZE")
    diff.check("SELECT", "0")
    diff.check("DBSIZE")
    diff.check("FLUSHDB", "ASYNC")
    diff.check("DBSIZE")
    diff.check("SET", "a", "1")
    diff.check("FLUSHALL", "sync")
    diff.check("DBSIZE")
    diff.check("FLUSHALL", "Async")
    diff.check("FLUSHDB", "SYNC")


def test_dbsize_flush_errors_differential(diff):
    diff.check_error("DBSIZE", "x")
    diff.check_error("FLUSHDB", "x")
    diff.check_error("FLUSHDB", "ASYNC", "SYNC")
    diff.check_error("FLUSHDB", "ASYNC", "x")
    diff.check_error("FLUSHALL", "now")
    diff.check_error("FLUSHALL", "ASYNC", "ASYNC")


def test_dbsize_counts_keys_whose_ttl_passed(server, r):
    # Redis counts keys not reclaimed yet: DBSIZE is dictSize.
    server.call_in_loop(setattr, server.server, "active_expire_enabled", False)
    try:
        r.set("k", "v", px=50)
        server.advance_time(1)
        assert r.dbsize() == 1
        assert r.get("k") is None
        assert r.dbsize() == 0
    finally:
        server.call_in_loop(setattr, server.server, "active_expire_enabled", True)


def test_flush_breaks_watch_on_existing_keys_differential(diff):
    diff.check("SET", "k", "1")
    diff.check("WATCH", "k")
    diff.check("FLUSHALL")
    diff.check("MULTI")
    diff.check("SET", "k", "2")
    diff.check("EXEC")  # aborted: the watched key was flushed
    diff.check("WATCH", "nokey")
    diff.check("FLUSHDB")
    diff.check("MULTI")
    diff.check("SET", "k", "3")
    diff.check("EXEC")  # runs: the watched key did not exist
    diff.check("SET", "k", "4")
    diff.check("SELECT", "1")
    diff.check("WATCH", "k")
    diff.check("SELECT", "0")
    diff.check("FLUSHDB")  # db 0 only: the watch on db 1 stays intact
    diff.check("MULTI")
    diff.check("PING")
    diff.check("EXEC")


def test_flush_breaks_watch_of_other_clients(server, r):
    r.set("k", "1")
    other = server.client()
    try:
        p = other.pipeline()
        p.watch("k")
        r.flushdb()
        p.multi()
        p.set("k", "2")
        with pytest.raises(redis.WatchError):
            p.execute()
    finally:
        other.close()


def test_flush_propagates_even_when_empty(server, r):
    seen = []

    def consumer(dbid, argv):
        seen.append((dbid, argv))

    srv = server.server
    server.call_in_loop(srv.propagation_consumers.append, consumer)
    try:
        r.flushall()
        r.execute_command("SELECT", 3)
        r.execute_command("FLUSHDB", "ASYNC")
        r.execute_command("SELECT", 0)
    finally:
        server.call_in_loop(srv.propagation_consumers.remove, consumer)
    assert (0, [b"FLUSHALL"]) in seen
    assert (3, [b"FLUSHDB", b"ASYNC"]) in seen


def test_flush_hooks(server, r):
    calls = []
    server_cmds.FLUSH_HOOKS.append(lambda srv, dbid: calls.append(dbid))
    try:
        r.execute_command("SELECT", 2)
        r.flushdb()
        r.execute_command("SELECT", 0)
        r.flushall()
    finally:
        server_cmds.FLUSH_HOOKS.pop()
    assert calls == [2, -1]


# -- TIME, LASTSAVE ---------------------------------------------------------------------------

def test_time_shape_differential(diff):
    (kraw, kval), (rraw, rval) = diff.both("TIME")
    for raw, val in ((kraw, kval), (rraw, rval)):
        assert re.fullmatch(rb"\*2\r\n\$10\r\n\d{10}\r\n\$\d\r\n\d{1,6}\r\n", raw), raw
        assert 0 <= int(val[1]) < 1_000_000
    diff.check_error("TIME", "x")
    diff.check_error("LASTSAVE", "x")


def test_time_follows_the_server_clock(server, r):
    before = r.time()[0]
    server.advance_time(3600)
    try:
        assert r.time()[0] >= before + 3600
    finally:
        server.call_in_loop(setattr, server.server, "clock_offset_ms",
                            server.server.clock_offset_ms - 3_600_000)


def test_lastsave_is_server_start_without_persistence(server):
    c = RawClient(port=server.port)
    try:
        ts = c.execute("LASTSAVE")
    finally:
        c.close()
    assert ts == server.server.lastsave == int(server.server.start_time)


# -- SLOWLOG ------------------------------------------------------------------------------------

def test_slowlog_errors_and_help_differential(diff):
    for args in (("SLOWLOG",), ("SLOWLOG", "foo"), ("SLOWLOG", "get", "x"),
                 ("SLOWLOG", "get", "-2"), ("SLOWLOG", "GET", "1", "2"),
                 ("SLOWLOG", "len", "x"), ("SLOWLOG", "reset", "x"), ("SLOWLOG", "help", "x"),
                 ("SLOWLOG", "get", "99999999999999999999")):
        diff.check_error(*args)
    diff.check("SLOWLOG", "HELP")
    diff.check("slowlog", "help")


def _argv_of_entries(entries):
    return [e[3] for e in entries]


def test_slowlog_entries_differential(diff, server):
    """The logged arguments (trimmed as Redis trims them) and the entry shape."""
    long_arg = "A" * 129
    many = [str(i) for i in range(3, 34)]
    with both_config(diff, server, slowlog_log_slower_than=0, slowlog_max_len=10):
        for c in (diff.kv, diff.redis):
            c.execute("SLOWLOG", "RESET")
        diff.check("SET", "key", "test")
        diff.check("SADD", "set", *many)
        diff.check("SADD", "set", "foo", long_arg)
        diff.check("AUTH", "not-a-password")
        diff.check("HELLO", "2", "AUTH", "user", "pass")
        diff.check("SLOWLOG", "LEN")
        kv = diff.kv.execute("SLOWLOG", "GET", "-1")
        rd = diff.redis.execute("SLOWLOG", "GET", "-1")
    assert _argv_of_entries(kv) == _argv_of_entries(rd)
    assert [len(e) for e in kv] == [len(e) for e in rd] == [6] * len(kv)
    args = _argv_of_entries(kv)
    assert args[0] == [b"SLOWLOG", b"LEN"]
    assert args[1] == [b"HELLO", b"2", b"AUTH", b"(redacted)", b"(redacted)"]
    assert args[2] == [b"AUTH", b"(redacted)"]
    assert args[3][-1] == b"A" * 128 + b"... (1 more bytes)"
    assert args[4][-1] == b"... (2 more arguments)" and len(args[4]) == 32
    ids = [e[0] for e in kv]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == len(ids)
    for e in kv:
        assert isinstance(e[1], int) and isinstance(e[2], int) and e[2] >= 0
        assert re.fullmatch(rb"127\.0\.0\.1:\d+", e[4])


def test_slowlog_get_counts_and_len(server, r):
    with kv_config(server, slowlog_log_slower_than=0, slowlog_max_len=3):
        r.slowlog_reset()
        for i in range(5):
            r.set(f"k{i}", i)
        assert r.slowlog_len() == 3
        assert len(r.execute_command("SLOWLOG", "GET", "0")) == 0
        assert len(r.execute_command("SLOWLOG", "GET", "1")) == 1
        assert len(r.execute_command("SLOWLOG", "GET", "-1")) == 3
        assert len(r.execute_command("SLOWLOG", "GET")) == 3
    with kv_config(server, slowlog_log_slower_than=-1):
        r.slowlog_reset()
        r.set("x", 1)
        assert r.slowlog_len() == 0


def test_slowlog_charges_no_command_for_its_predecessor_s_reply(server, r):
    # One read: a ZRANGE whose long reply is encoded after it ran, then GET.
    # The encoding is nobody's time: GET must not reach the slow log.
    from tests.rawclient import RawClient, encode_command

    r.zadd("z", {f"member-{i}": i for i in range(100_000)})
    with kv_config(server, slowlog_log_slower_than=20000):
        rc = RawClient(port=server.port)
        rc.call("HELLO", "3")
        r.slowlog_reset()
        rc.send_raw(encode_command(("ZRANGE", "z", "0", "-1", "WITHSCORES"))
                    + encode_command(("GET", "x")))
        rc.read_reply()
        rc.read_reply()
        rc.close()
        logged = [e[3][0].lower() for e in r.execute_command("SLOWLOG", "GET", "-1")]
        assert b"get" not in logged


def test_slowlog_entry_has_client_name_and_duration(server, r):
    with kv_config(server, slowlog_log_slower_than=100000):
        r.slowlog_reset()
        server.call_in_loop(_set_client_name, server.server, b"foobar")
        r.execute_command("DEBUG", "SLEEP", "0.2")
        e = r.execute_command("SLOWLOG", "GET")[0]
        assert e[2] > 100000
        assert e[3] == [b"DEBUG", b"SLEEP", b"0.2"]
        assert e[5] == b"foobar"
        assert r.slowlog_len() == 1  # the fast SLOWLOG GET itself is not logged


def _set_client_name(srv, name):
    for c in srv.clients.values():
        c.name = name


def test_slowlog_reset_keeps_nothing_but_is_logged_itself(server, r):
    with kv_config(server, slowlog_log_slower_than=0):
        r.set("a", 1)
        r.slowlog_reset()
        entries = r.execute_command("SLOWLOG", "GET")
        # The RESET itself is logged, as in Redis (it ran after the clearing).
        assert [e[3] for e in entries] == [[b"SLOWLOG", b"RESET"]]


# -- MONITOR ------------------------------------------------------------------------------------

_LINE = re.compile(rb"\+(\d+)\.(\d{6}) \[(\d+) ([^\]]+)\] (.*)")


class Monitor:
    def __init__(self, port=None, unix_path=None):
        if unix_path:
            self.sock = socket.socket(socket.AF_UNIX)
            self.sock.connect(unix_path)
        else:
            self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.settimeout(5)
        self.buf = b""
        self.sock.sendall(b"MONITOR\r\n")
        assert self.line() == b"+OK"

    def line(self) -> bytes:
        while b"\r\n" not in self.buf:
            data = self.sock.recv(65536)
            if not data:
                raise ConnectionError("closed")
            self.buf += data
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def lines(self, n):
        return [self.line() for _ in range(n)]

    def pending(self, wait=0.2) -> bytes:
        self.sock.settimeout(wait)
        try:
            while True:
                data = self.sock.recv(65536)
                if not data:
                    break
                self.buf += data
        except TimeoutError:
            pass
        finally:
            self.sock.settimeout(5)
        out, self.buf = self.buf, b""
        return out

    def close(self):
        self.sock.close()


def _strip(line: bytes) -> tuple[bytes, bytes]:
    m = _LINE.fullmatch(line)
    assert m, line
    return m.group(3), m.group(5)


def test_repr_arg_matches_sdscatrepr():
    assert repr_arg(b"foo") == b'"foo"'
    assert repr_arg(b'a"b\\c') == b'"a\\"b\\\\c"'
    assert repr_arg(b"\n\r\t\a\b") == b'"\\n\\r\\t\\a\\b"'
    assert repr_arg(b"\x00\x7f\xff ~") == b'"\\x00\\x7f\\xff ~"'
    assert repr_arg(b"") == b'""'


def test_monitor_lines_differential(diff, server, real_redis):
    """The same commands give the same MONITOR lines (but the time and port)."""
    cmds = [
        ("SET", "foo", b'a\x00b"c\n\xe9'),
        ("GET", "foo"),
        ("INCR", "foo"),  # fails: still shown
        ("SELECT", "0"),
        ("SET", "sp ace", "x\ty"),
        ("AUTH", "nopass"),
        ("HELLO", "2", "AUTH", "someone", "secret"),
        ("LPUSH", "list", "1", "2"),
        ("DEL", "foo", "list", "sp ace"),
    ]
    out = []
    for port in (server.port, real_redis):
        m = Monitor(port)
        c = RawClient(port=port)
        try:
            for cmd in cmds:
                c.call(*cmd)
            out.append([_strip(line) for line in m.lines(len(cmds))])
            assert m.pending() == b""
        finally:
            c.close()
            m.close()
    assert out[0] == out[1]
    assert out[0][0][1] == b'"SET" "foo" "a\\x00b\\"c\\n\\xe9"'
    assert out[0][5][1] == b'"AUTH" "(redacted)"'


def test_monitor_line_origin_and_time(server, r):
    m = Monitor(server.port)
    try:
        r.set("k", "v")
        line = m.line()
        mm = _LINE.fullmatch(line)
        assert mm is not None
        assert mm.group(3) == b"0"
        assert re.fullmatch(rb"127\.0\.0\.1:\d+", mm.group(4))
        assert abs(int(mm.group(1)) - time.time()) < 3600
        assert mm.group(5) == b'"SET" "k" "v"'
    finally:
        m.close()


def test_monitor_unix_socket_origin():
    with KVServer(unix_socket=True) as srv:
        m = Monitor(unix_path=srv.unix_socket)
        c = RawClient(unix_path=srv.unix_socket)
        try:
            c.call("SET", "a", "b")
            mm = _LINE.fullmatch(m.line())
            assert mm is not None
            assert mm.group(4) == b"unix:" + srv.unix_socket.encode()
            assert mm.group(5) == b'"SET" "a" "b"'
        finally:
            c.close()
            m.close()


def test_monitor_line_for_scripts_and_databases(server):
    """monitor_line: Lua calls show [db lua]; the client's database is shown."""
    srv = server.server

    class FakeClient:
        server = srv
        in_script = True
        is_unix = False
        addr = "127.0.0.1:1"
        db = srv.dbs[3]

    line = server.call_in_loop(monitor_line, FakeClient(), [b"set", b"k", b"v"])
    assert re.fullmatch(rb'\+\d+\.\d{6} \[3 lua\] "set" "k" "v"\r\n', line), line
    FakeClient.in_script = False
    line = server.call_in_loop(monitor_line, FakeClient(), [b"get", b"k"])
    assert re.fullmatch(rb'\+\d+\.\d{6} \[3 127\.0\.0\.1:1\] "get" "k"\r\n', line), line


def test_monitor_twice_is_silent_and_monitor_still_runs_commands(server):
    m = Monitor(server.port)
    try:
        m.sock.sendall(b"MONITOR\r\n")
        assert m.pending() == b""  # no reply to a second MONITOR
        m.sock.sendall(b"PING\r\n")
        got = set(m.lines(2))
        assert b"+PONG" in got
        assert any(line.endswith(b'"PING"') for line in got)
    finally:
        m.close()


def test_monitor_inside_multi_differential(diff):
    diff.check("MULTI")
    diff.check("MONITOR")
    diff.check("EXEC")


def test_monitor_stops_after_reset_and_close(server, r):
    m = Monitor(server.port)
    m.sock.sendall(b"RESET\r\n")
    assert m.line() == b"+RESET"
    r.set("after", "reset")
    assert m.pending() == b""
    m.close()
    m2 = Monitor(server.port)
    m2.close()
    r.set("x", 1)
    deadline = time.monotonic() + 5
    while server.server.monitors and time.monotonic() < deadline:
        time.sleep(0.01)
    assert server.server.monitors == []


def test_monitor_order_and_admin_commands_like_redis(server, r):
    """Fed after the command ran (EXEC after its commands, SELECT with the new
    db); admin commands are never shown."""
    m = Monitor(server.port)
    try:
        r.execute_command("SLOWLOG", "LEN")  # admin: not shown
        p = r.pipeline(transaction=True)
        p.set("foo", "bar")
        p.execute()
        r.execute_command("SELECT", 3)
        lines = [_strip(x) for x in m.lines(4)]
        r.execute_command("SELECT", 0)
    finally:
        m.close()
    assert lines == [(b"0", b'"MULTI"'), (b"0", b'"SET" "foo" "bar"'), (b"0", b'"EXEC"'),
                     (b"3", b'"SELECT" "3"')]


# -- SHUTDOWN ------------------------------------------------------------------------------------

def test_shutdown_errors_differential(diff):
    diff.check_error("SHUTDOWN", "foo")
    diff.check_error("SHUTDOWN", "NOSAVE", "SAVE")
    diff.check_error("SHUTDOWN", "ABORT", "NOW")
    diff.check_error("SHUTDOWN", "abort", "nosave")
    diff.check_error("SHUTDOWN", "ABORT")
    diff.check("MULTI")
    diff.check_error("SHUTDOWN", "NOSAVE")
    diff.check_error("EXEC")


def _closed(sock: socket.socket) -> bytes:
    sock.settimeout(5)
    data = b""
    while True:
        chunk = sock.recv(4096)
        if not chunk:
            return data
        data += chunk


@pytest.mark.parametrize("args", [b"SHUTDOWN", b"SHUTDOWN NOSAVE", b"shutdown save force",
                                  b"SHUTDOWN NOW FORCE"])
def test_shutdown_closes_without_reply(args):
    srv = KVServer()
    srv.start()
    try:
        s = socket.create_connection(("127.0.0.1", srv.port))
        s.sendall(args + b"\r\nPING\r\n")
        assert _closed(s) == b""
        s.close()
        srv._thread.join(10)
        assert not srv._thread.is_alive()
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", srv.port), timeout=1).close()
    finally:
        _stop(srv)


def _stop(srv: KVServer) -> None:
    # After SHUTDOWN the server's loop is closed already: nothing left to stop.
    if srv._thread is not None and not srv._thread.is_alive():
        srv._loop = None
    srv.stop()


def test_shutdown_save_without_persistence_refuses():
    with KVServer() as srv:
        r = srv.client()
        with pytest.raises(redis.ResponseError, match="^Errors trying to SHUTDOWN. Check logs.$"):
            r.execute_command("SHUTDOWN", "SAVE")
        assert r.ping()
        r.close()


def test_shutdown_savers_are_called():
    saved = []
    server_cmds.SHUTDOWN_SAVERS.append(lambda srv: saved.append(srv) or False)
    try:
        with KVServer() as srv:
            r = srv.client()
            with pytest.raises(redis.ResponseError, match="Errors trying to SHUTDOWN"):
                r.execute_command("SHUTDOWN", "SAVE")
            assert saved == [srv.server]
            r.close()
    finally:
        server_cmds.SHUTDOWN_SAVERS.pop()


# -- ROLE, LOLWUT -----------------------------------------------------------------------------

def test_role_differential(diff, diff3):
    diff.check("ROLE")
    diff.check_error("ROLE", "x")
    diff3.check("ROLE")


def test_lolwut(server, r, r3):
    from kvserver import __version__

    text = f"kvserver ver. {__version__}\n".encode()
    assert r.execute_command("LOLWUT") == text
    assert r.execute_command("LOLWUT", "VERSION", "5") == text
    assert r.execute_command("LOLWUT", "whatever") == text
    c = RawClient(port=server.port)
    try:
        c.call("HELLO", "3")
        raw, _ = c.call("LOLWUT")
        assert raw == b"=%d\r\ntxt:%s\r\n" % (len(text) + 4, text)
    finally:
        c.close()


def test_lolwut_errors_differential(diff):
    diff.check_error("LOLWUT", "VERSION", "x")
    diff.check_error("LOLWUT", "version", "99999999999999999999")


# -- MEMORY ----------------------------------------------------------------------------------------

def test_memory_errors_and_help_differential(diff):
    diff.check("SET", "k", "v")
    for args in (("MEMORY",), ("MEMORY", "foo"), ("MEMORY", "USAGE"),
                 ("MEMORY", "USAGE", "k", "SAMPLES"), ("MEMORY", "USAGE", "k", "SAMPLES", "x"),
                 ("MEMORY", "USAGE", "k", "SAMPLES", "-1"), ("MEMORY", "USAGE", "k", "foo", "1"),
                 ("MEMORY", "DOCTOR", "x"), ("MEMORY", "STATS", "x"), ("MEMORY", "PURGE", "x"),
                 ("MEMORY", "MALLOC-STATS", "x"), ("MEMORY", "HELP", "x")):
        diff.check_error(*args)
    diff.check("MEMORY", "HELP")
    diff.check("MEMORY", "USAGE", "nokey")
    diff.check("MEMORY", "USAGE", "nokey", "SAMPLES", "0")
    diff.check("MEMORY", "PURGE")


def test_memory_usage_grows_with_the_value(r):
    r.set("small", "x")
    r.set("big", "x" * 100_000)
    small = r.memory_usage("small")
    big = r.memory_usage("big")
    assert 0 < small < 200
    assert 100_000 < big < 101_000
    r.set("ttl", "x", ex=100)
    assert r.memory_usage("ttl") > small


def test_memory_usage_samples_aggregates(r):
    r.rpush("list", *[b"%06d" % i for i in range(5000)])
    r.sadd("set", *[b"member-%d" % i for i in range(2000)])
    r.hset("hash", mapping={b"f%d" % i: b"v" * 20 for i in range(1000)})
    r.zadd("zset", {b"m%d" % i: i for i in range(1000)})
    for key, n in (("list", 5000), ("set", 2000), ("hash", 1000), ("zset", 1000)):
        sampled = r.memory_usage(key)
        full = r.memory_usage(key, samples=0)
        # Homogeneous elements: the extrapolation from 5 samples is close to all.
        assert 0.5 < sampled / full < 2, (key, sampled, full)
        assert full > n * 30  # at least the elements' own bytes
    assert r.memory_usage("list", samples=3) > 0


def test_memory_stats_keys_match_redis(diff):
    diff.check("SET", "a", "1")
    diff.check("SET", "b", "2")
    kv = diff.kv.execute("MEMORY", "STATS")
    rd = diff.redis.execute("MEMORY", "STATS")
    assert kv[0::2] == rd[0::2]
    stats = dict(zip(kv[0::2], kv[1::2], strict=True))
    assert stats[b"keys.count"] == 2
    assert stats[b"total.allocated"] > 0
    db0 = dict(zip(stats[b"db.0"][0::2], stats[b"db.0"][1::2], strict=True))
    assert set(db0) == {b"overhead.hashtable.main", b"overhead.hashtable.expires",
                        b"overhead.hashtable.slot-to-keys"}


def test_memory_stats_resp3_types(r3):
    r3.set("a", "1")
    stats = r3.execute_command("MEMORY", "STATS")
    assert isinstance(stats[b"dataset.percentage"], float)
    assert isinstance(stats[b"peak.allocated"], int)


def test_memory_doctor_and_malloc_stats(server, r):
    assert r.execute_command("MEMORY", "DOCTOR").startswith(b"Hi Sam")
    assert r.execute_command("MEMORY", "MALLOC-STATS") == \
        b"Stats not supported for the current allocator"
    c = RawClient(port=server.port)
    try:
        c.call("HELLO", "3")
        raw, _ = c.call("MEMORY", "DOCTOR")
        assert raw.startswith(b"=") and b"txt:" in raw[:12]
    finally:
        c.close()


def test_memory_doctor_reports_peak():
    from kvserver import info

    with KVServer() as srv:
        st = srv.call_in_loop(info._state, srv.server)
        r = srv.client()
        assert r.execute_command("MEMORY", "DOCTOR").startswith(
            b"Hi Sam, this instance is empty")
        # Pretend the instance grew and then shrank back: a peak 10x today's use.
        st.startup_rss = 0
        st.peak = info.rss_bytes() * 10
        report = r.execute_command("MEMORY", "DOCTOR")
        assert report.startswith(b"Sam, I detected a few issues")
        assert b" * Peak memory:" in report
        r.close()


def test_wrong_arity_differential(diff):
    for args in (("FLUSHALL", "a", "b"), ("MONITOR", "x"), ("SLOWLOG", "LEN", "1")):
        diff.check_error(*args)
