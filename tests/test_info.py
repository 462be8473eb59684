"""INFO: sections, field names and formats as Redis 7.0; the counters behind them."""

from __future__ import annotations

import os
import re
import socket
import time

import pytest
import redis

from kvserver import REDIS_COMPAT_VERSION, __version__, info
from kvserver.info import bytes_to_human, register_info_fields, reset_stats
from tests.rawclient import RawClient

# Sections whose lines depend on what ran (not on the server's make-up).
_DYNAMIC = {"Commandstats", "Errorstats", "Latencystats", "Keyspace"}


def _sections(text: bytes) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    cur = None
    for line in text.decode().split("\r\n"):
        if line.startswith("# "):
            cur = line[2:]
            out[cur] = []
        elif line:
            assert cur is not None, line
            out[cur].append(line)
    return out


def _fields(text: bytes) -> dict[str, str]:
    return dict(line.split(":", 1) for lines in _sections(text).values() for line in lines)


def _info(port: int, *args) -> bytes:
    c = RawClient(port=port)
    try:
        return c.execute("INFO", *args)
    finally:
        c.close()


def _reset_both(diff, server):
    server.call_in_loop(reset_stats, server.server)
    diff.redis.execute("CONFIG", "RESETSTAT")


@pytest.mark.parametrize("args", [(), ("default",), ("all",), ("everything",), ("cpu", "sentinel"),
                                  ("cpu", "all"), ("cpu", "default"), ("commandSTATS",),
                                  ("keyspace", "server"), ("modules",), ("module_list",),
                                  ("server", "SERVER"), ("errorstats", "latencystats"),
                                  ("Memory", "persistence", "stats", "replication", "clients")])
def test_section_headers_match_redis(diff, args):
    kv = diff.kv.execute("INFO", *args)
    rd = diff.redis.execute("INFO", *args)
    assert list(_sections(kv)) == list(_sections(rd))


def test_field_names_match_redis(diff):
    kv = _sections(diff.kv.execute("INFO", "everything"))
    rd = _sections(diff.redis.execute("INFO", "everything"))
    for section, lines in rd.items():
        if section in _DYNAMIC:
            continue
        ours = [line.split(":", 1)[0] for line in kv[section]]
        theirs = [line.split(":", 1)[0] for line in lines]
        assert [f for f in ours if f != "kvserver_version"] == theirs, section


def test_reply_types_and_layout_differential(diff, diff3):
    for d in (diff, diff3):
        d.check("INFO", "nosuch")
        d.check("INFO", "cluster")
        d.check("INFO", "modules", "cluster", "nosuch")
        d.check("INFO", "keyspace")
    (raw2, _), _ = diff.both("INFO")
    assert raw2.startswith(b"$") and raw2.endswith(b"\r\n\r\n")
    (raw3, _), _ = diff3.both("INFO")
    assert re.match(rb"=\d+\r\ntxt:# Server\r\n", raw3)
    # Sections are separated by one blank line; the text ends with the last field's \r\n.
    text = diff.kv.execute("INFO", "server", "cluster")
    assert b"\r\n\r\n# Cluster\r\ncluster_enabled:0\r\n" in text
    assert text.endswith(b"cluster_enabled:0\r\n")


def test_keyspace_differential(diff, diff3):
    diff.check("SET", "a", "1")
    diff.check("SET", "b", "1")
    diff.check("SELECT", "5")
    diff.check("RPUSH", "l", "x")
    diff.check("SELECT", "0")
    diff.check("INFO", "keyspace")
    diff3.check("INFO", "KEYSPACE")
    diff.check("EXPIRE", "a", "1000")
    kv = _sections(diff.kv.execute("INFO", "keyspace"))["Keyspace"]
    rd = _sections(diff.redis.execute("INFO", "keyspace"))["Keyspace"]
    strip = [re.sub(r",avg_ttl=\d+", "", line) for line in kv]
    assert strip == [re.sub(r",avg_ttl=\d+", "", line) for line in rd]
    assert strip[0] == "db0:keys=2,expires=1"
    ttl = int(re.search(r"avg_ttl=(\d+)", kv[0]).group(1))
    assert 0 < ttl <= 1_000_000


def test_errorstats_differential(diff, server):
    diff.check("SET", "str", "x")
    _reset_both(diff, server)
    diff.check("NOSUCHCOMMAND")
    diff.check("GET")
    diff.check("LPUSH", "str", "a")
    diff.check("INCR", "str")
    diff.check("DEBUG", "ERROR", "MYCODE with text")
    diff.check("DEBUG", "ERROR", "A:b#c")
    diff.check("INFO", "errorstats")
    kv = _fields(diff.kv.execute("INFO", "stats"))
    rd = _fields(diff.redis.execute("INFO", "stats"))
    # DEBUG ERROR replies bypass Redis's error accounting.
    assert kv["total_error_replies"] == rd["total_error_replies"] == "4"


def _cmdstats(text: bytes) -> dict[str, dict[str, str]]:
    out = {}
    for line in _sections(text).get("Commandstats", []):
        name, _, rest = line.partition(":")
        out[name] = dict(kv.split("=") for kv in rest.split(","))
    return out


def _compare_cmdstats(diff, server, commands):
    _reset_both(diff, server)
    for cmd in commands:
        diff.check(*cmd)
    kv = _cmdstats(diff.kv.execute("INFO", "commandstats"))
    rd = _cmdstats(diff.redis.execute("INFO", "commandstats"))
    rd.pop("cmdstat_config|resetstat", None)  # how Redis's counters were reset
    assert set(kv) == set(rd)
    for name in kv:
        for field in ("calls", "rejected_calls", "failed_calls"):
            assert kv[name][field] == rd[name][field], (name, field)
        assert set(kv[name]) == set(rd[name])
        assert re.fullmatch(r"\d+\.\d\d", kv[name]["usec_per_call"])
    return kv


def test_commandstats_differential(diff, server):
    kv = _compare_cmdstats(diff, server, [
        ("SET", "k", "1"), ("SET", "k", "2"), ("GET", "k"),
        ("LPUSH", "k", "x"),  # failed: WRONGTYPE
        ("SLOWLOG", "HELP"), ("SLOWLOG", "GET", "-5"),  # failed subcommand
        ("NOSUCH",),  # no command to count it on
    ])
    assert set(kv) == {"cmdstat_set", "cmdstat_get", "cmdstat_lpush", "cmdstat_slowlog|help",
                       "cmdstat_slowlog|get"}
    assert kv["cmdstat_set"]["calls"] == "2"
    assert kv["cmdstat_lpush"]["failed_calls"] == "1"


def test_commandstats_arity_rejections_differential(diff, server):
    _compare_cmdstats(diff, server, [("SET", "k"), ("SLOWLOG", "LEN", "x")])


def test_commandstats_usec_are_microseconds(server, r):
    server.call_in_loop(reset_stats, server.server)
    r.execute_command("DEBUG", "SLEEP", "0.05")
    st = _cmdstats(_info(server.port, "commandstats"))["cmdstat_debug"]
    # A 50 ms sleep is 50000 us: not 50 (ms) nor 50000000 (ns).
    assert 50_000 <= int(st["usec"]) < 50_000_000
    assert st["usec_per_call"] == f"{int(st['usec']):.2f}"


def test_stats_counters(server, r):
    r.set("hit", "1")
    before = r.info("stats")
    r.get("hit")
    r.get("miss")
    r.get("miss2")
    r.set("gone", "1", px=10)
    server.advance_time(1)
    r.get("gone")
    other = server.client()
    other.ping()
    after = r.info("stats")
    other.close()
    assert after["keyspace_hits"] - before["keyspace_hits"] == 1
    assert after["keyspace_misses"] - before["keyspace_misses"] == 3
    assert after["expired_keys"] - before["expired_keys"] == 1
    assert after["total_connections_received"] - before["total_connections_received"] == 1
    assert after["total_commands_processed"] - before["total_commands_processed"] >= 8
    assert after["total_net_input_bytes"] > before["total_net_input_bytes"]
    assert after["total_net_output_bytes"] > before["total_net_output_bytes"]


def test_net_bytes_count_live_and_closed_clients(server, r):
    server.call_in_loop(reset_stats, server.server)
    start = r.info("stats")["total_net_input_bytes"]
    s = socket.create_connection(("127.0.0.1", server.port))
    payload = b"*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$1000\r\n" + b"v" * 1000 + b"\r\n"
    s.sendall(payload)
    assert s.recv(16) == b"+OK\r\n"
    live = r.info("stats")["total_net_input_bytes"]
    s.close()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        closed = r.info("stats")["total_net_input_bytes"]
        if len(server.server.clients) <= 2:
            break
        time.sleep(0.01)
    assert live - start >= len(payload)
    assert closed >= live  # the closed connection's bytes are kept


def test_clients_section(server, r):
    c = r.info("clients")
    assert c["connected_clients"] == len(server.server.clients)
    assert c["maxclients"] == server.server.config.maxclients
    assert c["blocked_clients"] == 0
    blocker = socket.create_connection(("127.0.0.1", server.port))
    try:
        blocker.sendall(b"BLPOP nolist 100\r\n")
        deadline = time.monotonic() + 5
        while r.info("clients")["blocked_clients"] != 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        c = r.info("clients")
        assert c["blocked_clients"] == 1
        assert c["clients_in_timeout_table"] == 1
    finally:
        blocker.close()


def test_server_section(server, r):
    s = _fields(_info(server.port, "server"))
    assert s["redis_version"] == REDIS_COMPAT_VERSION == "7.0.15"
    assert s["kvserver_version"] == __version__
    assert s["redis_mode"] == "standalone"
    assert s["tcp_port"] == str(server.port)
    assert s["process_id"] == str(os.getpid())
    assert re.fullmatch(r"[0-9a-f]{40}", s["run_id"])
    assert s["arch_bits"] in ("32", "64")
    assert s["hz"] == s["configured_hz"] == str(server.server.config.hz)
    assert s["config_file"] == ""
    assert s["io_threads_active"] == "0"
    assert int(s["uptime_in_days"]) == int(s["uptime_in_seconds"]) // 86400
    assert re.fullmatch(r"\d+\.\d+\.\d+", s["gcc_version"])
    server.advance_time(2 * 86400)
    try:
        later = _fields(_info(server.port, "server"))
        assert int(later["uptime_in_days"]) >= 2
    finally:
        server.call_in_loop(setattr, server.server, "clock_offset_ms",
                            server.server.clock_offset_ms - 2 * 86400 * 1000)


def test_memory_section(server, r):
    m = _fields(_info(server.port, "memory"))
    used = int(m["used_memory"])
    assert used > 0 and m["used_memory_rss"] == m["used_memory"]
    assert int(m["used_memory_peak"]) >= used
    assert re.fullmatch(r"\d+(\.\d\d[KMGTP]|B)", m["used_memory_human"])
    assert m["maxmemory_policy"] == server.server.config.maxmemory_policy
    assert re.fullmatch(r"\d+\.\d\d%", m["used_memory_peak_perc"])
    assert int(m["total_system_memory"]) > 0
    cfg = server.server.config
    old = cfg.get("maxmemory")
    server.call_in_loop(cfg.config_set, [("maxmemory", "100gb")])
    try:
        m = _fields(_info(server.port, "memory"))
        assert m["maxmemory"] == str(100 * 1024**3)
        assert m["maxmemory_human"] == "100.00G"
    finally:
        server.call_in_loop(cfg.config_set, [("maxmemory", old)])


def test_persistence_and_replication_sections(server, r):
    p1 = _fields(_info(server.port, "persistence"))
    r.set("a", 1)
    r.set("b", 2)
    p2 = _fields(_info(server.port, "persistence"))
    assert int(p2["rdb_changes_since_last_save"]) - int(p1["rdb_changes_since_last_save"]) == 2
    assert p2["rdb_last_save_time"] == str(server.server.lastsave)
    assert p2["loading"] == "0" and p2["aof_enabled"] == "0"
    rep = _fields(_info(server.port, "replication"))
    assert rep["role"] == "master"
    assert rep["connected_slaves"] == "0"
    assert re.fullmatch(r"[0-9a-f]{40}", rep["master_replid"])
    assert rep["master_replid2"] == "0" * 40
    assert rep["repl_backlog_size"] == str(server.server.config.repl_backlog_size)


def test_cpu_section(server):
    cpu = _fields(_info(server.port, "cpu"))
    for f in ("used_cpu_sys", "used_cpu_user", "used_cpu_sys_children", "used_cpu_user_children"):
        assert re.fullmatch(r"\d+\.\d{6}", cpu[f]), f
    assert float(cpu["used_cpu_user"]) > 0


def test_reset_stats(server, r):
    with pytest.raises(redis.ResponseError):
        r.execute_command("NOSUCH")
    r.set("k", "v")
    with_log = len(server.server.slowlog)
    server.call_in_loop(reset_stats, server.server)
    text = _info(server.port, "stats", "errorstats", "commandstats")
    st = _fields(text)
    assert st["total_error_replies"] == "0"
    assert st["keyspace_hits"] == "0" and st["keyspace_misses"] == "0"
    assert int(st["total_net_input_bytes"]) < 200  # only this INFO's request
    assert _sections(text)["Errorstats"] == []
    assert _sections(text)["Commandstats"] == []
    assert len(server.server.slowlog) == with_log


def test_info_providers(server):
    def fields(srv):
        return {"role": "test-role", "extra_field": 42}

    register_info_fields("replication", fields)
    try:
        rep = _fields(_info(server.port, "replication"))
    finally:
        info._PROVIDERS["replication"].remove(fields)
    assert rep["role"] == "test-role"
    assert rep["extra_field"] == "42"
    assert list(rep)[-1] == "extra_field"


def test_redis_py_parses_info(r):
    everything = r.info("everything")
    assert everything["redis_version"] == "7.0.15"
    assert everything["cluster_enabled"] == 0
    assert "used_cpu_user" in r.info()
    assert "rejected_calls" not in str(r.info("default"))


def test_bytes_to_human():
    # Values and renderings taken from redis-server 7.0's INFO.
    assert bytes_to_human(0) == "0B"
    assert bytes_to_human(1023) == "1023B"
    assert bytes_to_human(1024) == "1.00K"
    assert bytes_to_human(916536) == "895.05K"
    assert bytes_to_human(6643712) == "6.34M"
    assert bytes_to_human(25276510208) == "23.54G"
    assert bytes_to_human(2**50) == "1.00P"
