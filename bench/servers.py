"""Starting the servers under test: kvserver and redis-server, side by side.

Both listen on free loopback ports with persistence off. With two or more
CPUs, servers are pinned to CPU 0 and the benchmark client to CPU 1
(`taskset`), so that the two never compete for a core.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SERVER_CPU = "0"
CLIENT_CPU = "1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def can_pin() -> bool:
    """Two CPUs to pin to, and taskset to do it."""
    try:
        cpus = os.sched_getaffinity(0)
    except AttributeError:  # pragma: no cover - not Linux
        return False
    return shutil.which("taskset") is not None and {0, 1} <= cpus


def pinned(argv: list[str], cpu: str, pin: bool) -> list[str]:
    return ["taskset", "-c", cpu, *argv] if pin else argv


def rss_kib(pid: int) -> int:
    """Resident set size of a process (VmRSS), in KiB."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


@dataclass
class Server:
    """A running server under test."""

    kind: str  # "kvserver" | "redis"
    port: int
    proc: subprocess.Popen
    workdir: str
    version: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def label(self) -> str:
        return "kvserver" if self.kind == "kvserver" else "Redis"

    def command(self, *args: str | bytes) -> object:
        """Send one command; return the reply (errors as hiredis.ReplyError)."""
        import hiredis

        with socket.create_connection(("127.0.0.1", self.port), timeout=30) as s:
            parts = [b"*%d\r\n" % len(args)]
            for a in args:
                a = a.encode() if isinstance(a, str) else a
                parts.append(b"$%d\r\n%s\r\n" % (len(a), a))
            s.sendall(b"".join(parts))
            reader = hiredis.Reader()
            while True:
                data = s.recv(1 << 16)
                if not data:
                    raise ConnectionError(f"{self.label} closed the connection")
                reader.feed(data)
                reply = reader.gets()
                if reply is not False:
                    return reply

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.workdir, ignore_errors=True)


def _wait_ready(srv: Server, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if srv.proc.poll() is not None:
            raise RuntimeError(f"{srv.label} exited at start (status {srv.proc.returncode})")
        try:
            if srv.command("PING") == b"PONG":
                return
        except OSError:
            time.sleep(0.05)
    srv.stop()
    raise RuntimeError(f"{srv.label} did not answer PING within {timeout:.0f} s")


def start_kvserver(pin: bool) -> Server:
    from kvserver import __version__

    port = free_port()
    workdir = tempfile.mkdtemp(prefix="bench-kv-")
    argv = [sys.executable, "-m", "kvserver", "--port", str(port), "--save", "",
            "--appendonly", "no", "--bind", "127.0.0.1", "--dir", workdir]
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen(pinned(argv, SERVER_CPU, pin), cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    srv = Server("kvserver", port, proc, workdir, version=__version__)
    _wait_ready(srv)
    return srv


def redis_server_path() -> str:
    exe = shutil.which("redis-server")
    if exe is None:
        raise SystemExit("redis-server is not installed (Debian: apt-get install redis-server)")
    return exe


def start_redis(pin: bool) -> Server:
    exe = redis_server_path()
    port = free_port()
    workdir = tempfile.mkdtemp(prefix="bench-redis-")
    argv = [exe, "--port", str(port), "--save", "", "--appendonly", "no",
            "--bind", "127.0.0.1", "--dir", workdir, "--daemonize", "no",
            "--logfile", os.path.join(workdir, "redis.log")]
    proc = subprocess.Popen(pinned(argv, SERVER_CPU, pin), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    srv = Server("redis", port, proc, workdir)
    _wait_ready(srv)
    info = srv.command("INFO", "server")
    for line in info.decode().splitlines():
        if line.startswith("redis_version:"):
            srv.version = line.split(":", 1)[1].strip()
    return srv


def start(kind: str, pin: bool) -> Server:
    return start_kvserver(pin) if kind == "kvserver" else start_redis(pin)
