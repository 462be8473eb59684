"""kvserver.testing.KVServer and the pytest plugin, used as a test suite would.

In-process (a thread), subprocess and Unix-socket modes; moving the clock with
advance_time (in process: directly; in a subprocess: DEBUG ADVANCE-TIME);
the `kvserver` / `kvclient` fixtures of kvserver/pytest_plugin.py (installed
through the pytest11 entry point); redis.asyncio against the double.
"""

from __future__ import annotations

import asyncio
import os
import socket
import time

import pytest
import redis
import redis.asyncio

from kvserver.testing import KVServer
from tests.rawclient import RawClient, encode_command

pytest_plugins = ["pytester"]


def refuses_connections(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return True
    return False


def test_in_process_start_stop():
    t0 = time.perf_counter()
    srv = KVServer().start()
    started = time.perf_counter() - t0
    print(f"\nKVServer() in-process start: {started * 1000:.1f} ms")
    try:
        assert srv.server is not None and srv.port > 0
        r = srv.client()
        assert r.ping() is True
        assert r.set("k", "v") is True
        assert r.get("k") == b"v"
        assert srv.url == f"redis://127.0.0.1:{srv.port}/0"
        assert redis.Redis.from_url(srv.url).get("k") == b"v"
        # The server object is reachable from the test, on its own thread.
        assert srv.call_in_loop(len, srv.server.dbs[0]) == 1
        r.close()
    finally:
        srv.stop()
    assert refuses_connections(srv.port)


def test_two_servers_are_independent():
    with KVServer() as a, KVServer() as b:
        assert a.port != b.port
        a.client().set("k", "a")
        assert b.client().get("k") is None


def test_config_keywords():
    with KVServer(databases=2, maxmemory="10mb", notify_keyspace_events="KEA") as srv:
        cfg = srv.server.config
        assert cfg.maxmemory == 10 * 1024 * 1024
        assert cfg.notify_keyspace_events == "KEA"
        r = srv.client()
        r.execute_command("SELECT", 1)
        with pytest.raises(redis.ResponseError, match="DB index is out of range"):
            r.execute_command("SELECT", 2)


def test_advance_time_in_process():
    with KVServer() as srv:
        r = srv.client()
        r.set("short", "v", ex=60)
        r.set("long", "v", ex=600)
        r.set("forever", "v")
        srv.advance_time(61)  # moves the clock: nothing sleeps
        assert r.get("short") is None
        assert r.get("long") == b"v"
        assert 530 <= r.ttl("long") <= 539
        assert r.ttl("forever") == -1
        srv.advance_time(1000)
        assert r.exists("long", "forever") == 1


def test_subprocess_mode():
    with KVServer(subprocess=True) as srv:
        assert srv._proc is not None and srv._proc.pid != os.getpid()
        assert srv.server is None  # nothing of it lives in this process
        r = srv.client()
        assert r.set("k", "v") is True
        assert r.get("k") == b"v"
        proc = srv._proc
    assert proc.poll() is not None  # stop() ended it
    assert refuses_connections(srv.port)


def test_advance_time_in_subprocess():
    with KVServer(subprocess=True) as srv:
        r = srv.client()
        r.set("k", "v", px=5000)
        r.set("other", "v", ex=3600)
        srv.advance_time(5)  # DEBUG ADVANCE-TIME 5
        assert r.get("k") is None
        assert 3590 <= r.ttl("other") <= 3595
        r.execute_command("DEBUG", "ADVANCE-TIME", "3600")
        assert r.exists("other") == 0
        assert r.keys("*") == []


def test_subprocess_start_failure_is_reported():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        srv = KVServer(subprocess=True, port=busy.getsockname()[1])
        with pytest.raises(RuntimeError, match="exited at start"):
            srv.start()


def test_unix_socket():
    with KVServer(unix_socket=True) as srv:
        path = srv.unix_socket
        assert path is not None and os.path.exists(path)
        r = srv.client(unix=True)
        assert r.set("k", "v") is True
        assert r.connection_pool.connection_kwargs["path"] == path
        # The same server over TCP.
        assert srv.client().get("k") == b"v"
        r.close()
    assert not os.path.exists(path)


def test_unix_socket_subprocess():
    with KVServer(subprocess=True, unix_socket=True) as srv:
        r = redis.Redis(unix_socket_path=srv.unix_socket)
        r.set("k", "v", ex=10)
        srv.advance_time(11)
        assert r.get("k") is None
        r.close()


def test_stop_after_shutdown_command():
    srv = KVServer().start()
    c = RawClient(port=srv.port)
    c.send_raw(encode_command(["SHUTDOWN", "NOSAVE"]))
    with pytest.raises(ConnectionError):  # closed without a reply, as Redis does
        c.read_reply()
    c.close()
    srv.stop()  # returns: the server had already stopped
    assert refuses_connections(srv.port)


def test_redis_asyncio():
    with KVServer() as srv:

        async def main() -> None:
            r = srv.async_client()
            assert await r.set("k", "1", ex=30) is True
            assert await r.incr("k") == 2
            async with r.pipeline(transaction=True) as p:
                p.incr("k").get("k").ttl("k")
                assert await p.execute() == [3, b"3", 30]
            results = await asyncio.gather(*(r.incr("n") for _ in range(50)))
            assert sorted(results) == list(range(1, 51))
            srv.advance_time(31)
            assert await r.get("k") is None
            await r.aclose()
            # RESP3, as redis-py speaks it when asked.
            r3 = redis.asyncio.Redis.from_url(srv.url, protocol=3, decode_responses=True)
            await r3.hset("h", mapping={"a": "1"})
            assert await r3.hgetall("h") == {"a": "1"}
            await r3.aclose()

        asyncio.run(main())


# -- the pytest plugin ---------------------------------------------------------------


def test_plugin_fixtures_directly(kvserver, kvclient):
    assert isinstance(kvserver, KVServer)
    assert kvclient.connection_pool.connection_kwargs["port"] == kvserver.port
    kvclient.set("k", "v", ex=10)
    kvserver.advance_time(11)
    assert kvclient.get("k") is None


def test_plugin_in_a_test_suite(pytester):
    pytester.makepyfile(test_users="""
        import redis

        def test_set(kvclient):
            kvclient.set("k", "v")
            assert kvclient.get("k") == b"v"

        def test_flushed_between_tests(kvclient):
            assert kvclient.get("k") is None
            assert kvclient.dbsize() == 0

        def test_ttl_without_sleeping(kvserver, kvclient):
            kvclient.set("session", "x", ex=3600)
            kvserver.advance_time(3601)
            assert kvclient.get("session") is None

        def test_one_server_per_session(kvserver, kvclient):
            assert kvclient.connection_pool.connection_kwargs["port"] == kvserver.port
            assert redis.Redis.from_url(kvserver.url).ping()
    """)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=4)
