"""CONFIG GET / SET / RESETSTAT / REWRITE / HELP, and the parameter table.

Differential tests compare with redis-server 7.0: the default of every
parameter both servers have, glob patterns, every kind of value error, the
value CONFIG GET shows after a successful CONFIG SET, and CONFIG REWRITE of
the same file by both servers. Every test that changes a parameter of a shared
server puts it back.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kvserver.config import BY_NAME, PARAMS, Config, ConfigError
from kvserver.testing import KVServer, free_port
from tests.rawclient import RawClient, ReplyError

# Defaults that differ on purpose: kvserver listens on loopback by default (as
# redis.conf does); the conftest's redis-server runs from its own directory,
# with a log file; the test double picks a free port.
DIFFERENT_ON_PURPOSE = {"bind", "dir", "logfile", "port", "pidfile", "daemonize"}


def as_dict(v) -> dict[bytes, bytes]:
    if isinstance(v, dict):
        return v
    return dict(zip(v[::2], v[1::2], strict=True))


def get(c: RawClient, name: str) -> bytes:
    d = as_dict(c.execute("CONFIG", "GET", name))
    return d[name.encode()]


@pytest.fixture
def restore(diff):
    """Records parameters before a test changes them; sets them back after."""
    saved: dict[str, tuple[bytes, bytes]] = {}

    def remember(*names: str) -> None:
        for n in names:
            if n not in saved:
                saved[n] = (get(diff.kv, n), get(diff.redis, n))

    yield remember
    for n, (kv, rd) in saved.items():
        assert diff.kv.execute("CONFIG", "SET", n, kv) == b"OK", n
        assert diff.redis.execute("CONFIG", "SET", n, rd) == b"OK", n


# -- CONFIG GET -------------------------------------------------------------------------


def test_every_default_matches_redis(diff):
    redis_all = as_dict(diff.redis.execute("CONFIG", "GET", "*"))
    checked = 0
    for name in sorted(BY_NAME):
        if name in DIFFERENT_ON_PURPOSE:
            continue
        p = BY_NAME[name]
        kv = diff.kv.call("CONFIG", "GET", name)
        rd = diff.redis.call("CONFIG", "GET", name)
        assert kv[0] == rd[0], (name, kv, rd)
        assert (name.encode() in redis_all) == (not p.hidden), name
        checked += 1
    assert checked > 130


def test_kvserver_names_only_what_redis_names(diff):
    ours = as_dict(diff.kv.execute("CONFIG", "GET", "*"))
    theirs = as_dict(diff.redis.execute("CONFIG", "GET", "*"))
    assert set(ours) <= set(theirs)
    assert b"key-load-delay" not in ours and b"rdb-key-save-delay" not in ours
    for k in ours:
        if k.decode() not in DIFFERENT_ON_PURPOSE:
            assert ours[k] == theirs[k], k


@pytest.mark.parametrize("patterns", [
    ["maxmemory*"], ["MAXMEM*"], ["*max-*-entries"], ["hash-*"], ["[mn]axmemory"],
    ["?z"], ["*ziplist*"], ["*"], ["slave*"], ["maxmemory", "maxmemory*", "bind", "*of"],
    ["maxmemory*", "maxmemory"], ["nosuch"], ["nosuch*"], ["*-lazy-*", "lazyfree*"],
    ["key-load-*"], ["*delay"], ["\\*"], ["list-max-*"],
])
def test_get_patterns_match_redis(diff, patterns):
    kv = as_dict(diff.kv.execute("CONFIG", "GET", *patterns))
    rd = as_dict(diff.redis.execute("CONFIG", "GET", *patterns))
    assert set(kv) <= set(rd)
    shared = {k: v for k, v in rd.items() if k.decode().lower() in BY_NAME}
    assert set(kv) == set(shared)
    for k in kv:
        if k.decode() not in DIFFERENT_ON_PURPOSE:
            assert kv[k] == rd[k], k


@pytest.mark.parametrize("args", [
    ("MAXMEMORY",), ("maxmemory", "MAXMEMORY"), ("MAXMEMORY", "maxmemory"),
    ("hash-max-ziplist-entries",), ("Hash-Max-Ziplist-Entries", "hash-max-listpack-entries"),
    ("key-load-delay",), ("KEY-LOAD-DELAY",), ("nosuch",), ("save",), ("appendonly",),
    ("notify-keyspace-events",), ("client-output-buffer-limit",), ("maxmemory-clients",),
    ("unixsocketperm",), ("oom-score-adj-values",), ("latency-tracking-info-percentiles",),
    ("shutdown-on-sigint",),
])
def test_get_exact_names_match_redis(diff, diff3, args):
    for d in (diff, diff3):
        if len(args) == 1:
            d.check("CONFIG", "GET", *args)
        else:  # several entries come in Redis's hash order
            kv, rd = d.both("CONFIG", "GET", *args)
            assert as_dict(kv[1]) == as_dict(rd[1])


def test_get_set_arity_and_help_match_redis(diff, diff3):
    for d in (diff, diff3):
        for args in (("CONFIG",), ("CONFIG", "GET"), ("CONFIG", "SET"), ("CONFIG", "SET", "a"),
                     ("CONFIG", "SET", "a", "b", "c"), ("CONFIG", "RESETSTAT", "x"),
                     ("CONFIG", "REWRITE", "x"), ("CONFIG", "HELP"), ("config", "help"),
                     ("CONFIG", "HELP", "x"), ("CONFIG", "NOSUCH"), ("CONFIG", "REWRITE")):
            d.check(*args)


# -- CONFIG SET errors --------------------------------------------------------------------

SET_ERRORS = [
    # names: unknown, immutable, protected, duplicate; the first problem wins
    ("foo", "bar"), ("daemonize", "yes"), ("foo", "bar", "daemonize", "yes"),
    ("daemonize", "yes", "foo", "bar"), ("maxmemory", "foo", "daemonize", "yes"),
    ("maxmemory", "1", "maxmemory", "2"), ("Maxmemory", "1", "MAXMEMORY", "2"),
    ("dir", "/nonexistent"), ("dbfilename", "x.rdb"), ("maxmemory", "1", "dir", "/tmp"),
    ("lua-replicate-commands", "yes"), ("list-max-ziplist-entries", "1"),
    ("databases", "4"), ("unixsocketperm", "700"), ("io-threads", "2"), ("rdbchecksum", "no"),
    ("enable-debug-command", "no"), ("appenddirname", "x"), ("syslog-ident", "x"),
    # values, in order: the first bad value wins, named as the parameter spells itself
    ("maxmemory", "foo", "maxmemory-policy", "bar"), ("MAXMEMORY", "foo"),
    ("hash-max-ziplist-entries", "foo"), ("HASH-MAX-ZIPLIST-VALUE", "-1"),
    # memory
    ("maxmemory", "-1"), ("maxmemory", "1.5"), ("maxmemory", "+5"), ("maxmemory", " 5"),
    ("maxmemory", "5 "), ("maxmemory", "5tb"), ("maxmemory", "0x10"),
    ("proto-max-bulk-len", "1000"), ("proto-max-bulk-len", "9223372036854775808"),
    ("client-query-buffer-limit", "1k"), ("repl-backlog-size", "0"),
    ("hash-max-listpack-value", "9223372036854775808"), ("stream-node-max-bytes", "x"),
    # integers
    ("hz", "-1"), ("hz", "1.0"), ("hz", "2147483648"), ("port", "abc"), ("port", "65536"),
    ("port", "-1"), ("maxclients", "0"), ("maxclients", "4294967296"), ("timeout", "-1"),
    ("slowlog-log-slower-than", "-2"), ("slowlog-max-len", "-1"),
    ("list-max-ziplist-size", "2147483648"), ("list-max-listpack-size", "-2147483649"),
    ("active-expire-effort", "0"), ("active-expire-effort", "11"),
    ("maxmemory-samples", "0"), ("set-max-intset-entries", "-1"), ("tcp-keepalive", "+1"),
    ("lfu-log-factor", "01"), ("repl-timeout", "0"), ("busy-reply-threshold", "-1"),
    ("lua-time-limit", "x"), ("maxmemory-eviction-tenacity", "101"),
    ("replica-announce-port", "70000"), ("stream-node-max-entries", "-1"),
    ("rdb-key-save-delay", "2147483648"), ("key-load-delay", "x"),
    ("watchdog-period", "-1"), ("loading-process-events-interval-bytes", "1023"),
    ("tracking-table-max-keys", "-1"), ("acllog-max-len", "x"),
    # percent
    ("maxmemory-clients", "200%"), ("maxmemory-clients", "-5"), ("maxmemory-clients", "5x"),
    ("maxmemory-clients", "%"), ("maxmemory-clients", "-5%"), ("maxmemory-clients", "1.5%"),
    # booleans
    ("appendonly", "maybe"), ("protected-mode", "1"), ("activerehashing", ""),
    ("lazyfree-lazy-user-del", "true"),
    # enums
    ("maxmemory-policy", "foo"), ("appendfsync", "foo"), ("loglevel", "nothing"),
    ("oom-score-adj", "maybe"), ("sanitize-dump-payload", "x"), ("repl-diskless-load", "x"),
    ("acl-pubsub-default", "x"), ("propagation-error-behavior", "x"),
    ("loglevel", "debug verbose"), ("appendfsync", ""),
    # special
    ("save", "1 2 3"), ("save", "a b"), ("save", "0 1"), ("save", "1 -1"), ("save", "1  2"),
    ("save", " "), ("save", "1.5 2"),
    ("notify-keyspace-events", "foo"), ("notify-keyspace-events", "KEA "),
    ("client-output-buffer-limit", "foo"), ("client-output-buffer-limit", "foo 1 2 3"),
    ("client-output-buffer-limit", "normal a 2 3"), ("client-output-buffer-limit", "master 1 2 3"),
    ("client-output-buffer-limit", "normal 1 2 -3"), ("client-output-buffer-limit", "normal 1 2 x"),
    ("client-output-buffer-limit", "normal 1 2 3 pubsub"),
    ("oom-score-adj-values", "1 2"), ("oom-score-adj-values", "1 2 3 4"),
    ("oom-score-adj-values", "1 2 2001"), ("oom-score-adj-values", "a b c"),
    ("latency-tracking-info-percentiles", "101"), ("latency-tracking-info-percentiles", "x"),
    ("latency-tracking-info-percentiles", "-1"), ("latency-tracking-info-percentiles", "nan"),
    ("latency-tracking-info-percentiles", "50  99"),
    ("shutdown-on-sigint", "save nosave"), ("shutdown-on-sigint", ""),
    ("shutdown-on-sigterm", "now later"),
    ("bind", " ".join(["127.0.0.1"] * 17)),
    ("replicaof", "no one"), ("slaveof", "127.0.0.1 6379"),
]


@pytest.mark.parametrize("args", SET_ERRORS)
def test_set_errors_match_redis(diff, args):
    v = diff.check("CONFIG", "SET", *args)
    assert isinstance(v, ReplyError), args


def test_set_sequence_errors_leave_nothing_changed(diff, restore):
    """All or nothing: a bad value anywhere leaves the good ones unset."""
    restore("maxmemory", "maxmemory-clients", "client-query-buffer-limit")
    diff.check("CONFIG", "SET", "maxmemory", "10000002")
    diff.check("CONFIG", "SET", "maxmemory", "10000001", "maxmemory-clients", "200%",
               "client-query-buffer-limit", "invalid")
    for n in ("maxmemory", "maxmemory-clients", "client-query-buffer-limit"):
        diff.check("CONFIG", "GET", n)
    assert get(diff.kv, "maxmemory") == b"10000002"


# -- CONFIG SET, then GET -----------------------------------------------------------------

SET_THEN_GET = [
    [("maxmemory", "1gb")], [("maxmemory", "100MB")], [("maxmemory", "5B")], [("maxmemory", "")],
    [("maxmemory", "7k")], [("maxmemory", "18446744073709551615")],
    [("maxmemory", "18446744073709551616")], [("maxmemory", "99999999999999999999gb")],
    [("hz", "0")], [("hz", "1000")], [("hz", "20")],
    [("list-max-ziplist-size", "-6")], [("list-max-listpack-size", "5")],
    [("hash-max-ziplist-entries", "20")], [("hash-max-listpack-entries", "1"),
                                           ("hash-max-ziplist-entries", "2")],
    [("zset-max-ziplist-value", "1kb")], [("set-max-intset-entries", "0")],
    [("notify-keyspace-events", "KEA")], [("notify-keyspace-events", "An")],
    [("notify-keyspace-events", "Ex")], [("notify-keyspace-events", "gE$")],
    [("notify-keyspace-events", "lshzxetdg$")], [("notify-keyspace-events", "mnKd")],
    [("notify-keyspace-events", "KEAmn")], [("notify-keyspace-events", "")],
    [("save", "3600 1 300 100 60 10000")], [("save", "")], [("save", "+5 010")],
    [("client-output-buffer-limit", "pubsub 1mb 2mb 3")],
    [("client-output-buffer-limit", "replica 4kb 5 6 slave 7 8gb 9")],
    [("client-output-buffer-limit", "PUBSUB 1 2 +3")], [("client-output-buffer-limit", "")],
    [("oom-score-adj", "relative")], [("oom-score-adj", "absolute")], [("oom-score-adj", "YES")],
    [("oom-score-adj-values", "-2000 0 2000")],
    [("shutdown-on-sigint", "nosave force now")], [("shutdown-on-sigterm", "SAVE")],
    [("shutdown-on-sigint", "default now")],
    [("latency-tracking-info-percentiles", "50.0 99.999 0")],
    [("latency-tracking-info-percentiles", "")], [("latency-tracking-info-percentiles", "1e1")],
    [("maxmemory-clients", "10%")], [("maxmemory-clients", "0%")],
    [("loglevel", "WARNING")], [("appendfsync", "ALWAYS")], [("maxmemory-policy", "allkeys-lru")],
    [("slowlog-log-slower-than", "-1")], [("slowlog-max-len", "0")],
    [("proto-max-bulk-len", "1mb")], [("client-query-buffer-limit", "2mb")],
    [("lua-time-limit", "100")], [("busy-reply-threshold", "200")],
    [("slave-read-only", "no")], [("replica-priority", "0")], [("repl-backlog-ttl", "0")],
    [("sanitize-dump-payload", "clients")], [("acl-pubsub-default", "allchannels")],
    [("protected-mode", "NO")], [("lazyfree-lazy-user-flush", "yes")],
    [("stream-node-max-bytes", "8kb")], [("replica-announce-ip", "10.0.0.1")],
    [("masteruser", "u")], [("ignore-warnings", "x y")],
    [("maxmemory", "10000001"), ("repl-backlog-size", "10000002"), ("save", "3000 5")],
]


@pytest.mark.parametrize("pairs", SET_THEN_GET)
def test_set_then_get_matches_redis(diff, restore, pairs):
    restore(*{n for n, _ in pairs} | {BY_NAME[n.lower()].name for n, _ in pairs})
    args = [x for pair in pairs for x in pair]
    assert diff.check("CONFIG", "SET", *args) == b"OK"
    for n, _ in pairs:
        p = BY_NAME[n.lower()]
        diff.check("CONFIG", "GET", n)
        kv, rd = diff.both("CONFIG", "GET", p.name, *p.aliases)  # in Redis's hash order
        assert as_dict(kv[1]) == as_dict(rd[1])


def test_set_takes_effect(server, r):
    """A few parameters the server reads live."""
    old = r.config_get("slowlog-log-slower-than")["slowlog-log-slower-than"]
    try:
        r.slowlog_reset()
        r.config_set("slowlog-log-slower-than", 0)
        r.ping()
        assert r.slowlog_len() >= 1
        r.config_set("slowlog-max-len", 1)
        r.ping()
        r.ping()
        assert r.slowlog_len() == 1
    finally:
        r.config_set("slowlog-log-slower-than", old)
        r.config_set("slowlog-max-len", 128)
        r.slowlog_reset()
    assert server.server.config.slowlog_log_slower_than == int(old)


# -- the Redis test suite's "CONFIG sanity" and multi-set tests ----------------------------------

SANITY_SKIP = {
    "rdbchecksum", "daemonize", "io-threads-do-reads", "tcp-backlog", "always-show-logo",
    "syslog-enabled", "cluster-enabled", "disable-thp", "aclfile", "unixsocket", "pidfile",
    "syslog-ident", "appendfilename", "appenddirname", "supervised", "syslog-facility",
    "databases", "io-threads", "logfile", "unixsocketperm", "replicaof", "slaveof",
    "requirepass", "server_cpulist", "bio_cpulist", "aof_rewrite_cpulist", "bgsave_cpulist",
    "set-proc-title", "cluster-config-file", "cluster-port", "oom-score-adj",
    "oom-score-adj-values", "enable-protected-configs", "enable-debug-command",
    "enable-module-command", "dbfilename", "dir", "socket-mark-id",
}


def test_config_sanity_set_every_value_to_itself():
    with KVServer() as srv:
        c = RawClient(port=srv.port)
        before = as_dict(c.execute("CONFIG", "GET", "*"))
        for k, v in before.items():
            if k.decode() in SANITY_SKIP:
                continue
            assert c.execute("CONFIG", "SET", k, v) == b"OK", (k, v)
        after = as_dict(c.execute("CONFIG", "GET", "*"))
        assert after == before
        c.close()


def test_set_failing_to_apply_rolls_back():
    """A port in use fails when applied: everything set with it is undone."""
    with KVServer() as srv, socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        used = busy.getsockname()[1]
        c = RawClient(port=srv.port)
        before = {n: get(c, n) for n in ("maxmemory", "port", "client-query-buffer-limit")}
        v = c.execute("CONFIG", "SET", "maxmemory", "10000001", "port", str(used),
                      "client-query-buffer-limit", "10m")
        assert isinstance(v, ReplyError)
        assert str(v).startswith("ERR CONFIG SET failed (possibly related to argument 'port') - "
                                 "Unable to listen on this port")
        assert {n: get(c, n) for n in before} == before
        c2 = RawClient(port=srv.port)
        assert c2.execute("PING") == b"PONG"
        c2.close()
        c.close()


# -- protected parameters ---------------------------------------------------------------------


def test_protected_configs_when_allowed(tmp_path):
    cwd = os.getcwd()
    try:
        with KVServer(enable_protected_configs="yes") as srv:
            c = RawClient(port=srv.port)
            assert c.execute("CONFIG", "SET", "dbfilename", "other.rdb") == b"OK"
            assert get(c, "dbfilename") == b"other.rdb"
            v = c.execute("CONFIG", "SET", "dbfilename", "a/b.rdb")
            assert str(v) == ("ERR CONFIG SET failed (possibly related to argument 'dbfilename') - "
                              "dbfilename can't be a path, just a filename")
            v = c.execute("CONFIG", "SET", "dir", str(tmp_path / "missing"))
            assert str(v) == ("ERR CONFIG SET failed (possibly related to argument 'dir') - "
                              "No such file or directory")
            (tmp_path / "file").write_text("x")
            v = c.execute("CONFIG", "SET", "dir", str(tmp_path / "file"))
            assert str(v).endswith("- Not a directory")
            assert c.execute("CONFIG", "SET", "dir", str(tmp_path)) == b"OK"
            assert get(c, "dir") == str(tmp_path).encode()
            assert os.getcwd() == str(tmp_path)
            (tmp_path / "sub").mkdir()
            assert c.execute("CONFIG", "SET", "dir", "sub") == b"OK"  # relative to the old one
            assert get(c, "dir") == str(tmp_path / "sub").encode()
            c.close()
    finally:
        os.chdir(cwd)


def test_protected_configs_local():
    with KVServer(enable_protected_configs="local") as srv:
        c = RawClient(port=srv.port)
        assert c.execute("CONFIG", "SET", "dbfilename", "somename") == b"OK"
        c.close()


# -- CONFIG RESETSTAT ------------------------------------------------------------------------


def test_resetstat_matches_redis(diff):
    for side in (diff.kv, diff.redis):
        side.execute("SET", "k", "v")
        side.execute("GET", "k")
        side.execute("NOSUCHCOMMAND")
    diff.check("CONFIG", "RESETSTAT")
    stats = []
    for side in (diff.kv, diff.redis):
        text = side.execute("INFO", "commandstats").decode()
        names = [line.split(":")[0] for line in text.splitlines() if line.startswith("cmdstat_")]
        errors = side.execute("INFO", "errorstats").decode()
        info = side.execute("INFO", "stats").decode()
        fields = dict(line.split(":", 1) for line in info.splitlines() if ":" in line)
        stats.append((names, errors, fields["total_error_replies"],
                      fields["keyspace_hits"], fields["keyspace_misses"]))
    assert stats[0] == stats[1]
    assert stats[0][0] == ["cmdstat_config|resetstat"]


# -- CONFIG REWRITE ----------------------------------------------------------------------------


def test_rewrite_without_a_file_matches_redis(diff):
    diff.check("CONFIG", "REWRITE")


CONF_TEXT = """\
# top comment
port {port}
daemonize no
dir "{dir}"
logfile "{dir}/log"

# save stuff


save 900 1
save 300 10
maxmemory 100mb
hash-max-ziplist-entries 20
dbfilename dump.rdb
lua-replicate-commands yes
  slowlog-max-len   64{trail}
requirepass "secret"
notify-keyspace-events Ex
# end comment
"""

REWRITE_SETS = [
    ("maxmemory", "1gb"), ("slowlog-max-len", "5"), ("notify-keyspace-events", "KEA"),
    ("client-output-buffer-limit", "pubsub 1mb 2 3"), ("hz", "20"), ("appendfsync", "always"),
    ("save", "3600 1"), ("requirepass", ""), ("maxmemory-clients", "10%"),
    ("proto-max-bulk-len", "1049600"), ("replica-announce-ip", 'a "q" \\ b'),
    ("hash-max-listpack-entries", "100"), ("oom-score-adj", "relative"),
    ("shutdown-on-sigint", "nosave now"), ("lazyfree-lazy-user-flush", "yes"),
]


def _start(argv: list[str], port: int, cwd: str) -> subprocess.Popen:
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=cwd)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        try:
            c = RawClient(port=port, timeout=2)
            c.execute("AUTH", "secret")
            c.close()
            return proc
        except OSError:
            time.sleep(0.05)
    proc.kill()
    pytest.fail(f"{argv[0]} did not start")


def _body_and_generated(text: str, skip: tuple[str, ...]) -> tuple[list[str], set[str]]:
    lines = [ln for ln in text.split("\n") if not ln.startswith(skip)]
    if "# Generated by CONFIG REWRITE" in lines:
        i = lines.index("# Generated by CONFIG REWRITE")
        return lines[:i], set(lines[i:])
    return lines, set()


def test_rewrite_keeps_comments_and_matches_redis(real_redis):
    exe = shutil.which("redis-server")
    dirs = [tempfile.mkdtemp(prefix="kv-rewrite-") for _ in range(2)]
    ports = [free_port(), free_port()]
    files = []
    for d, port in zip(dirs, ports, strict=True):
        f = Path(d) / "server.conf"
        f.write_text(CONF_TEXT.format(port=port, dir=d, trail="   "))
        files.append(f)
    procs = [_start([sys.executable, "-m", "kvserver", str(files[0])], ports[0], dirs[0]),
             _start([exe, str(files[1])], ports[1], dirs[1])]
    try:
        texts = []
        for port in ports:
            c = RawClient(port=port)
            assert c.execute("AUTH", "secret") == b"OK"
            for name, value in REWRITE_SETS:
                assert c.execute("CONFIG", "SET", name, value) == b"OK", (name, value)
            assert c.execute("CONFIG", "REWRITE") == b"OK"
            c.close()
        for f in files:
            texts.append(f.read_text())
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
            p.wait(15)
    kv_text, rd_text = texts
    # Comments and blank-line clusters stay; the deprecated directive is commented out.
    assert kv_text.startswith("# top comment\nport ")
    assert "# save stuff\n\nsave 3600 1\n" in kv_text
    assert "# ??? lua-replicate-commands yes\n" in kv_text
    assert "# end comment\n" in kv_text
    # What differs between the two on purpose: ports, directories, Redis's ACL user line.
    skip = ("port ", "dir ", "logfile ", "user ")
    kv_body, kv_gen = _body_and_generated(kv_text, skip)
    rd_body, rd_gen = _body_and_generated(rd_text, skip)
    assert kv_body == rd_body
    assert kv_gen == rd_gen
    for d in dirs:
        shutil.rmtree(d, ignore_errors=True)


def test_rewrite_through_the_server_and_errors(tmp_path):
    conf = tmp_path / "kv.conf"
    conf.write_text("# mine\nmaxmemory 1mb\nsave 10 1\n")
    with KVServer() as srv:
        c = RawClient(port=srv.port)
        srv.call_in_loop(setattr, srv.server.config, "file", str(conf))
        assert c.execute("CONFIG", "SET", "maxmemory", "2mb", "save", "") == b"OK"
        assert c.execute("CONFIG", "REWRITE") == b"OK"
        text = conf.read_text()
        assert text.startswith("# mine\nmaxmemory 2mb\nsave \"\"\n")
        loaded = Config()
        loaded.load_file(str(conf))
        assert loaded.maxmemory == 2 * 1024**2 and loaded.save == []
        # An unwritable place: Redis's error text.
        srv.call_in_loop(setattr, srv.server.config, "file", str(tmp_path / "no" / "x.conf"))
        v = c.execute("CONFIG", "REWRITE")
        assert isinstance(v, ReplyError)
        assert str(v) == "ERR Rewriting config file: No such file or directory"
        c.close()


def test_rewrite_of_a_missing_file_creates_it(tmp_path):
    cfg = Config()
    cfg.file = str(tmp_path / "new.conf")
    cfg.maxmemory = 3 * 1024**3
    cfg.rewrite()
    text = (tmp_path / "new.conf").read_text()
    assert text.startswith("# Generated by CONFIG REWRITE\n")
    assert "maxmemory 3gb\n" in text and 'save ""\n' in text
    assert f'dir "{os.getcwd()}"\n' in text
    again = Config()
    again.load_file(cfg.file)
    for p in PARAMS:
        if p.name != "dir":
            assert getattr(again, p.attr) == getattr(cfg, p.attr), p.name


def test_rewrite_force_all_can_be_read_back(tmp_path):
    cfg = Config()
    cfg.file = str(tmp_path / "all.conf")
    cfg.notify_keyspace_events = "KEA"
    cfg.requirepass = 'we "ird"\n'
    cfg.rewrite(force_all=True)
    again = Config()
    again.load_file(cfg.file)
    for p in PARAMS:
        if p.name not in ("dir", "notify-keyspace-events"):
            assert getattr(again, p.attr) == getattr(cfg, p.attr), p.name
    assert again.get("notify-keyspace-events") == "AKE"


@pytest.mark.parametrize("line,error", [
    ("replicaof no one", None), ("slaveof NO ONE", None),
    ("replicaof 127.0.0.1", "wrong number of arguments"),
    ("replicaof 127.0.0.1 abc", "Invalid master port"),
    ("replicaof 127.0.0.1 6379", "cannot replicate yet"),
    ("lua-replicate-commands yes", None), ("list-max-ziplist-entries 5", None),
    ("lua-replicate-commands yes no", "Bad directive"),
])
def test_file_directives_redis_7_0_knows(line, error):
    cfg = Config()
    if error is None:
        cfg.load_text(line + "\n")
        assert cfg.replicaof is None
    else:
        with pytest.raises(ConfigError, match=error):
            cfg.load_text(line + "\n")


def test_no_file_error_from_config():
    with pytest.raises(ConfigError, match="running without a config file"):
        Config().rewrite()


# -- random CONFIG SET / GET ------------------------------------------------------------------

# Parameters safe to change for a moment on both shared servers.
_RANDOM_PARAMS = [
    "maxmemory", "hz", "list-max-ziplist-size", "hash-max-listpack-entries",
    "hash-max-ziplist-value", "zset-max-listpack-value", "set-max-intset-entries",
    "notify-keyspace-events", "save", "slowlog-log-slower-than", "slowlog-max-len",
    "appendfsync", "maxmemory-policy", "maxmemory-samples", "active-expire-effort",
    "oom-score-adj", "latency-tracking-info-percentiles", "shutdown-on-sigint",
    "stream-node-max-bytes", "stream-node-max-entries", "lfu-log-factor", "repl-backlog-size",
    "lazyfree-lazy-expire", "replica-read-only", "busy-reply-threshold", "lua-time-limit",
    "tcp-keepalive", "repl-timeout", "sanitize-dump-payload", "acllog-max-len",
]
_VALUES = ["0", "1", "-1", "5", "yes", "no", "YES", "1k", "1kb", "2mb", "1GB", "5b", "", "abc",
           "1.5", "+1", "01", "-0", "100%", "9223372036854775807", "9223372036854775808",
           "18446744073709551615", "2147483648", "-2147483649", "everysec", "always",
           "allkeys-lru", "KEA", "Ex", "nosave now", "1 2", "3600 1", "relative", "warning",
           "50 99", "clients", "A", "gx"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.sampled_from(_RANDOM_PARAMS), st.sampled_from(_VALUES)),
                min_size=1, max_size=3))
def test_random_sets_match_redis(diff, pairs):
    names = {BY_NAME[n].name for n, _ in pairs}
    saved = {n: (get(diff.kv, n), get(diff.redis, n)) for n in names}
    try:
        diff.check("CONFIG", "SET", *[x for pair in pairs for x in pair])
        for n in names:
            diff.check("CONFIG", "GET", n)
    finally:
        for n, (kv, rd) in saved.items():
            assert diff.kv.execute("CONFIG", "SET", n, kv) == b"OK"
            assert diff.redis.execute("CONFIG", "SET", n, rd) == b"OK"


def test_config_set_port_moves_the_listener():
    """CONFIG SET port opens the new listener, closes the old one, and the
    server reports the port it now uses."""
    with KVServer() as srv:
        new = free_port()
        r = srv.client()
        assert r.config_set("port", str(new))
        assert srv.call_in_loop(lambda: srv.server.port) == new
        assert redis.Redis(port=new).ping()
