"""The test double: a kvserver started from Python, for test suites.

    from kvserver.testing import KVServer

    with KVServer() as srv:              # in-process, background thread, free port
        r = srv.client()                 # a redis.Redis connected to it
        r.set("k", "v", ex=60)
        srv.advance_time(61)             # move the server clock: no sleeping
        assert r.get("k") is None

`KVServer(subprocess=True)` runs `python -m kvserver` in a child process instead
(the clock is then moved with the `DEBUG ADVANCE-TIME seconds` command, which
any client language can send). `KVServer(unix_socket=True)` also listens on a
Unix socket (`srv.unix_socket`). Extra keyword arguments are config directives:
`KVServer(maxmemory="10mb", notify_keyspace_events="KEA")`.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from typing import Any


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class KVServer:
    def __init__(self, *, subprocess: bool = False, unix_socket: bool = False,
                 host: str = "127.0.0.1", port: int = 0, **config: Any) -> None:
        self.host = host
        self.port = port
        self.use_subprocess = subprocess
        self.unix_socket: str | None = None
        self._tmpdir: tempfile.TemporaryDirectory | None = None
        if unix_socket:
            self._tmpdir = tempfile.TemporaryDirectory(prefix="kvserver-")
            self.unix_socket = os.path.join(self._tmpdir.name, "kvserver.sock")
        self.config = {k.replace("_", "-"): v for k, v in config.items()}
        self.config.setdefault("enable-debug-command", "yes")
        self.server = None  # the in-process kvserver.server.Server
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._proc: subprocess.Popen | None = None

    # -- lifecycle --------------------------------------------------------------

    def start(self) -> KVServer:
        if self.use_subprocess:
            self._start_subprocess()
        else:
            self._start_thread()
        return self

    def _directives(self) -> list[tuple[str, list[str]]]:
        out = [("bind", [self.host])]
        if self.unix_socket:
            out.append(("unixsocket", [self.unix_socket]))
        for k, v in self.config.items():
            if isinstance(v, bool):
                v = "yes" if v else "no"
            out.append((k, str(v).split() if k in ("save", "client-output-buffer-limit")
                        else [str(v)]))
        return out

    def _start_thread(self) -> None:
        from kvserver.commands import load_all
        from kvserver.config import Config
        from kvserver.server import Server

        load_all()
        cfg = Config()
        cfg.port = self.port
        for name, args in self._directives():
            cfg.apply_directive(name, args, "KVServer")
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            try:
                import uvloop

                loop = uvloop.new_event_loop()
            except ImportError:  # pragma: no cover
                loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            self._loop = loop
            self.server = Server(cfg, ephemeral_port=True)
            try:
                loop.run_until_complete(self.server.start())
            except BaseException as e:  # reported to the starting thread
                failure.append(e)
                ready.set()
                return
            self.port = self.server.port
            ready.set()
            loop.run_until_complete(self.server.serve_forever())
            loop.run_until_complete(self.server.close())
            loop.close()

        self._thread = threading.Thread(target=run, name="kvserver", daemon=True)
        self._thread.start()
        ready.wait(10)
        if failure:
            raise failure[0]

    def _start_subprocess(self) -> None:
        if not self.port:
            self.port = free_port()
        argv = [sys.executable, "-m", "kvserver", "--port", str(self.port)]
        for name, args in self._directives():
            argv += [f"--{name}", *args]
        self._proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                err = self._proc.stderr.read().decode() if self._proc.stderr else ""
                raise RuntimeError(f"kvserver exited at start: {err}")
            try:
                with socket.create_connection((self.host, self.port), timeout=0.2) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.02)
        raise RuntimeError("kvserver did not start within 15 s")

    def stop(self) -> None:
        if self._proc is not None:
            self._proc.terminate()
            try:
                self._proc.wait(10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
            self._proc = None
        if self._loop is not None and self.server is not None:
            try:
                self._loop.call_soon_threadsafe(self.server.request_shutdown)
            except RuntimeError:
                pass  # the loop already ended (a client sent SHUTDOWN)
            if self._thread is not None:
                self._thread.join(10)
            self._loop = None
        if self._tmpdir is not None:
            self._tmpdir.cleanup()
            self._tmpdir = None

    def __enter__(self) -> KVServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- use -----------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"redis://{self.host}:{self.port}/0"

    def client(self, **kwargs: Any):
        """A redis-py client for this server (decode_responses etc. pass through)."""
        import redis

        if self.unix_socket and kwargs.pop("unix", False):
            return redis.Redis(unix_socket_path=self.unix_socket, **kwargs)
        return redis.Redis(host=self.host, port=self.port, **kwargs)

    def async_client(self, **kwargs: Any):
        import redis.asyncio

        return redis.asyncio.Redis(host=self.host, port=self.port, **kwargs)

    def call_in_loop(self, fn, *args):
        """Run fn(*args) on the server's thread and return its result."""
        assert self._loop is not None, "only for an in-process server"
        fut = asyncio.run_coroutine_threadsafe(_as_coro(fn, *args), self._loop)
        return fut.result(10)

    def advance_time(self, seconds: float) -> None:
        """Move the server clock forward: keys whose TTL passes are expired."""
        if self._proc is not None:
            with self.client() as r:
                r.execute_command("DEBUG", "ADVANCE-TIME", str(seconds))
            return
        self.call_in_loop(self.server.advance_time, seconds)

    def flushall(self) -> None:
        with self.client() as r:
            r.flushall()


async def _as_coro(fn, *args):
    return fn(*args)
