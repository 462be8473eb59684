"""Shared fixtures.

- `server` / `r`: an in-process kvserver (session) and a redis-py client on it,
  flushed before each test (RESP2 by default; `r3` speaks RESP3).
- `diff`: differential testing. `diff.check("SET", "k", "v")` sends the same
  command to kvserver and to a real redis-server 7.0 and asserts the replies
  are byte-for-byte equal (error texts included); `diff.check(..., unordered=True)`
  compares arrays as multisets. `diff3` does the same over RESP3.
  Without redis-server installed these tests are skipped, unless
  KVSERVER_REQUIRE_REDIS=1 (CI sets it), which makes that a failure.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from contextlib import contextmanager

import pytest

from kvserver.testing import KVServer, free_port
from tests.rawclient import RawClient, ReplyError


@pytest.fixture(scope="session")
def server():
    with KVServer() as srv:
        yield srv


@pytest.fixture
def r(server):
    c = server.client()
    c.flushall()
    yield c
    c.close()


@pytest.fixture
def r3(server):
    c = server.client(protocol=3)
    c.flushall()
    yield c
    c.close()


@contextmanager
def propagation(server):
    """Record what the in-process server propagates (the AOF/replica stream),
    as argv lists, from here to the end of the with block."""
    srv = server.server
    out: list[list[bytes]] = []

    def consumer(dbid, argv):
        out.append([bytes(a) for a in argv])

    server.call_in_loop(srv.propagation_consumers.append, consumer)
    try:
        yield out
    finally:
        server.call_in_loop(srv.propagation_consumers.remove, consumer)


@pytest.fixture
def propagated(server):
    """What the in-process server propagates during the test, as argv lists."""
    with propagation(server) as out:
        yield out


@pytest.fixture
def events(server):
    """Keyspace notifications the in-process server emits, as (class, event, key)."""
    srv = server.server
    out: list[tuple[str, str, bytes]] = []
    old_pub, old_flags = srv.keyspace_publisher, srv.config.notify_keyspace_events
    srv.keyspace_publisher = lambda cls, event, key, dbid: out.append((cls, event, key))
    srv.config.notify_keyspace_events = "KEA"
    yield out
    srv.keyspace_publisher = old_pub
    srv.config.notify_keyspace_events = old_flags


def _start_redis():
    exe = shutil.which("redis-server")
    if exe is None:
        if os.environ.get("KVSERVER_REQUIRE_REDIS") == "1":
            pytest.fail("redis-server is not installed but KVSERVER_REQUIRE_REDIS=1")
        pytest.skip("redis-server not installed: differential tests need it")
    d = tempfile.mkdtemp(prefix="kv-redis-")
    port = free_port()
    proc = subprocess.Popen(
        [exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", d, "--enable-debug-command", "yes", "--daemonize", "no",
         "--logfile", os.path.join(d, "redis.log")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            c = RawClient(port=port)
            c.execute("PING")
            c.close()
            return proc, port, d
        except OSError:
            time.sleep(0.02)
    proc.kill()
    pytest.fail("redis-server did not start")


@pytest.fixture(scope="session")
def real_redis():
    proc, port, d = _start_redis()
    yield port
    proc.terminate()
    proc.wait(10)
    shutil.rmtree(d, ignore_errors=True)


def _normalize(v):
    """Order-insensitive form of a parsed reply (for SMEMBERS, KEYS, ...)."""
    if isinstance(v, list):
        return sorted((_normalize(x) for x in v), key=repr)
    return v


class Diff:
    """Runs each command against kvserver and redis-server and compares."""

    def __init__(self, kv_port: int, redis_port: int, resp3: bool, flush: bool = True) -> None:
        self.kv_port = kv_port
        self.redis_port = redis_port
        self.kv = RawClient(port=kv_port)
        self.redis = RawClient(port=redis_port)
        self._other: Diff | None = None
        self.resp3 = resp3
        if resp3:
            self.kv.call("HELLO", "3")
            self.redis.call("HELLO", "3")
        if flush:
            self.flush()

    def flush(self) -> None:
        for c in (self.kv, self.redis):
            c.call("SELECT", "0")
            c.call("FLUSHALL")

    def both(self, *args):
        """(kvserver reply, redis reply), each as (raw bytes, parsed)."""
        return self.kv.call(*args), self.redis.call(*args)

    def check(self, *args, unordered: bool = False):
        """Assert both servers reply the same; return the parsed reply."""
        (kraw, kval), (rraw, rval) = self.both(*args)
        if unordered:
            assert _normalize(kval) == _normalize(rval), (args, kval, rval)
        else:
            assert kraw == rraw, f"{args!r}\n kvserver: {kraw!r}\n redis:    {rraw!r}"
        return kval

    def check_error(self, *args):
        """Assert both reply with the same error text; return it."""
        v = self.check(*args)
        assert isinstance(v, ReplyError), (args, v)
        return v

    @property
    def other(self) -> Diff:
        """A second connection to each server (another client), compared the same way."""
        if self._other is None:
            self._other = Diff(self.kv_port, self.redis_port, self.resp3, flush=False)
        return self._other

    def close(self) -> None:
        self.kv.close()
        self.redis.close()
        if self._other is not None:
            self._other.close()


@pytest.fixture
def diff(server, real_redis):
    d = Diff(server.port, real_redis, resp3=False)
    yield d
    d.close()


@pytest.fixture
def diff3(server, real_redis):
    d = Diff(server.port, real_redis, resp3=True)
    yield d
    d.close()
