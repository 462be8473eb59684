"""Connection-level behaviour: HELLO/AUTH, inline commands, pipelining,
protected mode, maxclients, idle timeout, Unix socket, QUIT and RESET."""

import time

import pytest
import redis

from kvserver.testing import KVServer
from tests.rawclient import RawClient, ReplyError


def test_inline_and_multibulk_mixed(server):
    c = RawClient(port=server.port)
    c.send_raw(b'PING\r\nSET k "a b"\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\nECHO \'x y\'\r\n')
    assert c.read_reply()[0] == b"+PONG\r\n"
    assert c.read_reply()[0] == b"+OK\r\n"
    assert c.read_reply()[0] == b"$3\r\na b\r\n"
    assert c.read_reply()[0] == b"$3\r\nx y\r\n"
    c.close()


def test_pipeline_split_across_reads(server):
    c = RawClient(port=server.port)
    cmd = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhello\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"
    for i in range(len(cmd)):
        c.send_raw(cmd[i:i + 1])
        time.sleep(0.0005)
    assert c.read_reply()[0] == b"+OK\r\n"
    assert c.read_reply()[0] == b"$5\r\nhello\r\n"
    c.close()


def test_hello_replies(diff, diff3):
    diff.check("HELLO", "4")
    diff.check("HELLO", "x")
    diff.check("HELLO", "3", "FOO")
    diff.check("HELLO", "3", "AUTH", "default")
    # The default user has no password: any password is accepted. Client ids
    # differ between the two servers, so compare without them.
    (_, kv), (_, rd) = diff.both("HELLO", "2", "AUTH", "default", "wrong")
    assert {k: v for k, v in zip(kv[::2], kv[1::2], strict=True) if k != b"id"} == \
        {k: v for k, v in zip(rd[::2], rd[1::2], strict=True) if k != b"id"}
    hello = diff3.kv.execute("HELLO", "3")
    assert hello[b"server"] == b"redis"
    assert hello[b"version"] == b"7.0.15"
    assert hello[b"proto"] == 3
    assert hello[b"mode"] == b"standalone"
    assert hello[b"role"] == b"master"


def test_resp3_types(diff3):
    diff3.check("SET", "k", "v")
    diff3.check("GET", "nosuch")
    diff3.check("EXISTS", "k")


def test_auth_without_password(diff):
    diff.check("AUTH", "x")
    diff.check("AUTH", "default", "x")
    diff.check("AUTH", "a", "b", "c")


def test_requirepass():
    with KVServer(requirepass="s3cret") as srv:
        c = RawClient(port=srv.port)
        assert isinstance(c.execute("GET", "k"), ReplyError)
        assert c.call("GET", "k")[0] == b"-NOAUTH Authentication required.\r\n"
        assert c.call("AUTH", "wrong")[0].startswith(b"-WRONGPASS")
        assert c.call("AUTH", "s3cret")[0] == b"+OK\r\n"
        assert c.call("GET", "k")[0] == b"$-1\r\n"
        c.close()
        r = srv.client(password="s3cret")
        assert r.ping()
        r3 = srv.client(password="s3cret", protocol=3)
        assert r3.ping()
        # Unauthenticated clients may not send big requests (Redis's limits).
        c = RawClient(port=srv.port)
        c.send_raw(b"*11\r\n")
        assert c.read_reply()[0] == b"-ERR Protocol error: unauthenticated multibulk length\r\n"


def test_quit_closes(server):
    c = RawClient(port=server.port)
    assert c.call("QUIT")[0] == b"+OK\r\n"
    assert c.sock.recv(10) == b""


def test_reset(server):
    c = RawClient(port=server.port)
    c.call("SELECT", "3")
    c.call("MULTI")
    assert c.call("RESET")[0] == b"+RESET\r\n"
    assert c.call("EXEC")[0] == b"-ERR EXEC without MULTI\r\n"
    c.call("SET", "only-in-0", "1")
    c.call("SELECT", "0")
    assert c.execute("GET", "only-in-0") == b"1"
    c.call("DEL", "only-in-0")
    c.close()


def test_unix_socket():
    with KVServer(unix_socket=True) as srv:
        r = srv.client(unix=True)
        assert r.set("k", "v")
        assert r.get("k") == b"v"


def test_maxclients():
    with KVServer(maxclients=2) as srv:
        a, b = RawClient(port=srv.port), RawClient(port=srv.port)
        assert a.execute("PING") == b"PONG" and b.execute("PING") == b"PONG"
        c = RawClient(port=srv.port)
        assert c.read_reply()[0] == b"-ERR max number of clients reached\r\n"


def test_idle_timeout_closes_client():
    with KVServer(timeout=1, hz=50) as srv:
        c = RawClient(port=srv.port)
        assert c.execute("PING") == b"PONG"
        c.sock.settimeout(5)
        deadline = time.monotonic() + 5
        closed = False
        while time.monotonic() < deadline:
            try:
                if c.sock.recv(10) == b"":
                    closed = True
                    break
            except TimeoutError:
                break
        assert closed


class _FakeTransport:
    def __init__(self, peer):
        self.peer = peer
        self.written = b""
        self.closed = False

    def get_extra_info(self, name):
        return {"peername": self.peer, "sockname": ("10.1.2.3", 6379)}.get(name)

    def write(self, data):
        self.written += data

    def close(self):
        self.closed = True

    def get_write_buffer_size(self):
        return 0


def test_protected_mode_refuses_non_loopback(server):
    """No traffic may leave loopback here, so a transport stands in for the peer."""
    from kvserver.connection import Client

    srv = server.server
    for peer, refused in ((("10.9.8.7", 5555), True), (("127.0.0.1", 5555), False)):
        t = _FakeTransport(peer)
        c = Client(srv)
        server.call_in_loop(c.connection_made, t)
        assert t.written.startswith(b"-DENIED Redis is running in protected mode") == refused
        assert t.closed == refused
        if not refused:
            server.call_in_loop(c.connection_lost, None)


@pytest.mark.parametrize("protocol", [2, 3])
def test_redis_py_both_protocols(server, protocol):
    r = server.client(protocol=protocol)
    r.flushall()
    assert r.set("k", "v")
    assert r.get("k") == b"v"
    with pytest.raises(redis.ResponseError):
        r.execute_command("NOSUCH")


def test_commands_pipelined_after_quit_do_not_run(server, r):
    c = RawClient(port=server.port)
    c.send_raw(b"*1\r\n$4\r\nQUIT\r\n*3\r\n$3\r\nSET\r\n$1\r\nq\r\n$1\r\n1\r\nPING\r\n")
    assert c.read_reply()[0] == b"+OK\r\n"
    assert c.sock.recv(100) == b""
    assert r.exists("q") == 0
