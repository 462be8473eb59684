"""The `kvserver` command line and configuration files.

- conf/kvserver.conf lists every directive of kvserver.config.PARAMS with its
  default and its doc line, so the file and the code cannot drift apart.
- redis.conf syntax: quoting, memory units, include, command-line overrides.
- The process: --help, --version, a bad file, SIGTERM/SIGINT stop it with 0.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kvserver import REDIS_COMPAT_VERSION, __version__
from kvserver.cli import build_config
from kvserver.config import PARAMS, Config, ConfigError
from kvserver.testing import free_port
from tests.rawclient import RawClient

ROOT = Path(__file__).resolve().parent.parent
CONF = ROOT / "conf" / "kvserver.conf"


def kvserver_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "kvserver", *args]


# -- conf/kvserver.conf ---------------------------------------------------------------


def _directive_lines() -> list[tuple[int, list[str]]]:
    out = []
    for i, raw in enumerate(CONF.read_text().splitlines()):
        line = raw.strip()
        if line and not line.startswith("#"):
            out.append((i, line.split()))
    return out


def test_default_conf_names_every_param_once_with_its_doc():
    lines = CONF.read_text().splitlines()
    seen: dict[str, int] = {}
    for i, words in _directive_lines():
        name = words[0]
        if name in seen and name != "client-output-buffer-limit":
            pytest.fail(f"{name} appears twice in {CONF}")
        seen.setdefault(name, i)
    names = {p.name for p in PARAMS}
    assert set(seen) == names, (
        f"missing from the file: {sorted(names - set(seen))}; "
        f"unknown in the file: {sorted(set(seen) - names)}")
    for p in PARAMS:
        above = lines[seen[p.name] - 1]
        assert above == f"# {p.doc}", (p.name, above, p.doc)


def test_default_conf_sets_every_param_to_its_default():
    loaded = Config()
    loaded.load_file(str(CONF))
    fresh = Config()
    for p in PARAMS:
        assert getattr(loaded, p.attr) == getattr(fresh, p.attr), p.name
    assert loaded.file == str(CONF)


# -- redis.conf syntax ------------------------------------------------------------------


def test_quoting_units_include_and_overrides(tmp_path):
    other = tmp_path / "other dir"
    other.mkdir()
    inc = other / "inc.conf"
    inc.write_text("maxmemory-policy allkeys-lru\n"
                   "maxmemory 5mb\n")  # overridden by a later line of the main file
    main = tmp_path / "main.conf"
    main.write_text(
        "# a comment\n"
        "\n"
        "   port 7001   \n"
        'requirepass "s3cret with spaces"\n'
        "pidfile '/tmp/it\\'s.pid'\n"  # \' inside single quotes
        'logfile "tab\\there\\x41"\n'  # escapes inside double quotes
        f'include "{inc}"\n'
        "maxmemory 1mb\n"
        "PROTO-MAX-BULK-LEN 2MB\n"  # names and units are case-insensitive
        "client-query-buffer-limit 3m\n"  # m = 10^6, mb = 2^20
        "save 900 1\n"
        "save 300 10\n"  # save lines accumulate
        "client-output-buffer-limit pubsub 1mb 512kb 30\n"
        "hash-max-ziplist-entries 7\n"  # an old alias
        "notify-keyspace-events Ex\n")
    cfg = build_config(str(main), ["--port", "7002", "--maxclients", "50",
                                   "--bind", "127.0.0.1", "-::1",
                                   "--appendfsync", "always"])
    assert cfg.port == 7002  # the command line wins over the file
    assert cfg.requirepass == "s3cret with spaces"
    assert cfg.pidfile == "/tmp/it's.pid"
    assert cfg.logfile == "tab\thereA"
    assert cfg.maxmemory_policy == "allkeys-lru"  # from the included file
    assert cfg.maxmemory == 1024 * 1024  # the main file's later line wins
    assert cfg.proto_max_bulk_len == 2 * 1024 * 1024
    assert cfg.client_query_buffer_limit == 3_000_000
    assert cfg.save == [(900, 1), (300, 10)]
    assert cfg.client_output_buffer_limit["pubsub"] == (1024 * 1024, 512 * 1024, 30)
    assert cfg.client_output_buffer_limit["normal"] == (0, 0, 0)  # the others keep defaults
    assert cfg.hash_max_listpack_entries == 7
    assert cfg.notify_keyspace_events == "Ex"
    assert cfg.maxclients == 50
    assert cfg.bind == ["127.0.0.1", "-::1"]
    assert cfg.appendfsync == "always"


def test_overrides_alone_and_empty_save():
    cfg = build_config(None, ["--save", "", "--port", "0", "--maxmemory", "1gb"])
    assert cfg.save == []
    assert cfg.port == 0
    assert cfg.maxmemory == 1024**3


@pytest.mark.parametrize("text,fragment", [
    ("nosuchdirective yes\n", "Bad directive"),
    ('requirepass "unbalanced\n', "unbalanced quotes"),
    ("maxmemory 12parsecs\n", "memory value"),
    ("port 70000\n", "between 0 and 65535"),
    ("appendonly maybe\n", "'yes' or 'no'"),
])
def test_bad_config_lines_are_refused(tmp_path, text, fragment):
    f = tmp_path / "bad.conf"
    f.write_text("port 7000\n" + text)
    with pytest.raises(ConfigError, match=re.escape(fragment)):
        build_config(str(f), [])


def test_include_missing_file_is_an_error(tmp_path):
    f = tmp_path / "a.conf"
    f.write_text(f"include {tmp_path / 'missing.conf'}\n")
    with pytest.raises(OSError):
        build_config(str(f), [])


# -- the process --------------------------------------------------------------------------


def test_help():
    p = subprocess.run(kvserver_cmd("--help"), capture_output=True, text=True, timeout=30)
    assert p.returncode == 0
    assert "Usage:" in p.stdout and "CONFIG_FILE" in p.stdout
    assert "--port 7000" in p.stdout


def test_version():
    p = subprocess.run(kvserver_cmd("--version"), capture_output=True, text=True, timeout=30)
    assert p.returncode == 0
    assert p.stdout.strip() == f"kvserver {__version__} (Redis {REDIS_COMPAT_VERSION} compatible)"


def test_bad_config_file_exits_1(tmp_path):
    f = tmp_path / "bad.conf"
    f.write_text("port 7000\nbogus-directive 1\n")
    p = subprocess.run(kvserver_cmd(str(f)), capture_output=True, text=True, timeout=30)
    assert p.returncode == 1
    assert "FATAL CONFIG FILE ERROR" in p.stderr
    assert "bogus-directive" in p.stderr


def _wait_for_pong(port: int, proc: subprocess.Popen, limit: float = 15.0) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        try:
            c = RawClient(port=port, timeout=2)
        except OSError:
            time.sleep(0.05)
            continue
        try:
            assert c.execute("PING") == b"PONG"
            return
        finally:
            c.close()
    pytest.fail("kvserver did not answer PING")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_config_file_then_signal_stops_cleanly(tmp_path, sig):
    file_port, port = free_port(), free_port()
    pidfile = tmp_path / "kv.pid"
    conf = tmp_path / "kv.conf"
    conf.write_text(f"port {file_port}\nbind 127.0.0.1\nsave \"\"\n"
                    f'pidfile "{pidfile}"\n')
    proc = subprocess.Popen(kvserver_cmd(str(conf), "--port", str(port)),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        _wait_for_pong(port, proc)
        assert pidfile.read_text().strip() == str(proc.pid)
        # The command-line port replaced the file's: nothing listens there.
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", file_port), timeout=1).close()
        c = RawClient(port=port)
        c.execute("SET", "k", "v")
        proc.send_signal(sig)
        assert proc.wait(15) == 0
        # The connected client sees the server go away.
        with pytest.raises((ConnectionError, OSError)):
            c.execute("PING")
        c.close()
        assert not pidfile.exists()
        err = proc.stderr.read()
        assert "shutdown" in err.lower()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_port_in_use_exits_nonzero(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        p = subprocess.run(kvserver_cmd("--port", str(port), "--bind", "127.0.0.1"),
                           capture_output=True, text=True, timeout=30)
    assert p.returncode == 1
    assert "Could not" in p.stderr


def test_default_conf_is_loadable_by_the_server():
    port = free_port()
    proc = subprocess.Popen(kvserver_cmd(str(CONF), "--port", str(port), "--bind", "127.0.0.1"),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            cwd=os.path.dirname(CONF))
    try:
        _wait_for_pong(port, proc)
        proc.terminate()
        assert proc.wait(15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
