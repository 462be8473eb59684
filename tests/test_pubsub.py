"""Pub/sub: (P|S)SUBSCRIBE, (P|S)UNSUBSCRIBE, PUBLISH, SPUBLISH, PUBSUB.

Differential tests compare, byte for byte, what a subscriber of kvserver and
one of redis-server receive; redis-py's PubSub (sync and asyncio, RESP2 and
RESP3) runs against kvserver; a subscriber that never reads is disconnected
at the pubsub output-buffer limit while the others receive everything.
"""

from __future__ import annotations

import asyncio
import os
import re
import socket
import threading
import time

import pytest
import redis
import redis.asyncio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kvserver.testing import KVServer
from tests.rawclient import RawClient, encode_command

# -- helpers -----------------------------------------------------------------------------


class Pair:
    """One connection to kvserver and one to redis-server, driven alike."""

    def __init__(self, kv_port: int, redis_port: int, resp3: bool = False) -> None:
        self.kv = RawClient(port=kv_port)
        self.rd = RawClient(port=redis_port)
        if resp3:
            self.check("HELLO", "3", compare=False)

    def send(self, *args) -> None:
        data = encode_command(args)
        self.kv.send_raw(data)
        self.rd.send_raw(data)

    def read(self) -> tuple[bytes, bytes]:
        return self.kv.read_reply()[0], self.rd.read_reply()[0]

    def check(self, *args, replies: int = 1, compare: bool = True, unordered: bool = False):
        """Send args to both; read `replies` replies from each; compare them."""
        self.send(*args)
        got = [self.read() for _ in range(replies)]
        kv = [k for k, _ in got]
        rd = [r for _, r in got]
        if compare:
            a, b = (_unordered(kv), _unordered(rd)) if unordered else (kv, rd)
            assert a == b, f"{args!r}\n kvserver: {kv!r}\n redis:    {rd!r}"
        return kv

    def expect(self, n: int, unordered: bool = False) -> list[bytes]:
        """Read n asynchronous messages from each and compare them."""
        got = [self.read() for _ in range(n)]
        kv = [k for k, _ in got]
        rd = [r for _, r in got]
        a, b = (_unordered(kv), _unordered(rd)) if unordered else (kv, rd)
        assert a == b, f"\n kvserver: {kv!r}\n redis:    {rd!r}"
        return kv

    def nothing_pending(self) -> None:
        """Neither connection has unread output (checked with a PING)."""
        (reply,) = self.check("PING")
        assert b"pong" in reply.lower(), reply

    def close(self) -> None:
        self.kv.close()
        self.rd.close()


def _unordered(raws: list[bytes]) -> tuple:
    """Replies whose order is Redis's hash order: compare them as a multiset,
    and an (un)subscribe reply's running count (the last line) as a sequence."""
    msgs = sorted(r.rsplit(b":", 1)[0] if r.startswith((b"*3", b">3")) and b"subscribe" in r
                  else r for r in raws)
    counts = [r.rsplit(b":", 1)[1] for r in raws if b"subscribe" in r]
    return msgs, counts


@pytest.fixture
def pair(server, real_redis):
    pairs: list[Pair] = []

    def make(resp3: bool = False) -> Pair:
        p = Pair(server.port, real_redis, resp3)
        pairs.append(p)
        return p

    yield make
    for p in pairs:
        p.close()


def _msg(kind: bytes, *parts: bytes, resp3: bool = False) -> bytes:
    head = b">" if resp3 else b"*"
    return head + b"%d\r\n" % (len(parts) + 1) + b"".join(
        b"$%d\r\n%s\r\n" % (len(p), p) for p in (kind, *parts))


# -- subscribing -------------------------------------------------------------------------


@pytest.mark.parametrize("resp3", [False, True])
def test_subscribe_and_unsubscribe_replies(pair, resp3):
    s = pair(resp3)
    s.check("SUBSCRIBE", "a", "b", "a", replies=3)
    s.check("PSUBSCRIBE", "p*", "q?", "p*", replies=3)
    s.check("SSUBSCRIBE", "s1", "s2", "s1", replies=3)  # its own count
    s.check("UNSUBSCRIBE", "a", "nope", replies=2)
    s.check("PUNSUBSCRIBE", "q?", "zz", replies=2)
    s.check("SUNSUBSCRIBE", "s2", replies=1)
    s.check("UNSUBSCRIBE", replies=1)   # the one channel left
    s.check("PUNSUBSCRIBE", replies=1)
    s.check("SUNSUBSCRIBE", replies=1)
    # Subscribed to nothing: still one reply each, with a null channel.
    s.check("UNSUBSCRIBE")
    s.check("PUNSUBSCRIBE")
    s.check("SUNSUBSCRIBE")
    s.check("GET", "k")  # out of subscribed mode
    # Everything at once, unsubscribed at once (Redis's order is its hash order).
    s.check("SUBSCRIBE", "c1", "c2", "c3", replies=3)
    s.check("UNSUBSCRIBE", replies=3, unordered=True)
    s.check("PSUBSCRIBE", "x*", "y*", replies=2)
    s.check("PUNSUBSCRIBE", replies=2)  # patterns: in subscription order


def test_subscribed_mode_restrictions(pair):
    s = pair()
    s.check("SUBSCRIBE", "ch", replies=1)
    for cmd in (("GET", "k"), ("CLIENT", "ID"), ("HELLO", "3"), ("MULTI",), ("PUBLISH", "a", "b"),
                ("PUBSUB", "NUMPAT"), ("ECHO", "x"), ("CLIENT", "NOSUCH"), ("NOSUCHCMD",)):
        s.check(*cmd)
    s.check("PING")
    s.check("PING", "hello")
    s.check("PING", "a", "b")
    s.check("SSUBSCRIBE", "sh", replies=1)
    s.check("UNSUBSCRIBE", "ch", replies=1)
    s.check("GET", "k")  # still subscribed to a shard channel
    s.check("SUNSUBSCRIBE", replies=1)
    s.check("GET", "k")
    s.check("PING")
    # RESET leaves subscribed mode silently.
    s.check("PSUBSCRIBE", "*", replies=1)
    s.check("RESET")
    s.check("SET", "k", "v")
    s.check("PUBSUB", "NUMPAT")
    s.check("SUBSCRIBE", "ch", replies=1)
    s.check("QUIT")


def test_resp3_subscriber_runs_any_command(pair):
    s = pair(resp3=True)
    s.check("SUBSCRIBE", "ch", replies=1)
    s.check("GET", "k")
    s.check("PING")
    s.check("CLIENT", "INFO", compare=False)
    # A message to itself comes before the reply of the PUBLISH that sent it.
    s.check("PUBLISH", "ch", "hi", replies=2)
    s.check("PSUBSCRIBE", "c*", replies=1)
    s.check("PUBLISH", "ch", "two", replies=3)
    # Switching to RESP2 while subscribed: the restrictions apply again.
    s.check("HELLO", "2", compare=False)
    s.check("GET", "k")
    s.check("PING")
    s.check("UNSUBSCRIBE", replies=1)
    s.check("PUNSUBSCRIBE", replies=1)
    s.check("GET", "k")


def test_subscribe_inside_multi(pair):
    s = pair()
    s.check("MULTI")
    s.check("SUBSCRIBE", "q", "r")
    s.check("SSUBSCRIBE", "q")
    s.check("GET", "k")
    # Redis appends both SUBSCRIBE replies into the EXEC array (and refuses
    # SSUBSCRIBE there): the same bytes come from kvserver.
    s.check("EXEC")
    s.check("PING")
    s.check("UNSUBSCRIBE", "q", "r", replies=2)
    s.check("MULTI")
    s.check("SSUBSCRIBE", "z")
    s.check("EXEC")


def test_client_reply_off_and_skip(pair):
    s = pair(resp3=True)
    pub = pair()
    s.send("CLIENT", "REPLY", "OFF")
    s.check("SUBSCRIBE", "channel")  # confirmations are pushes: still sent
    s.check("PSUBSCRIBE", "ch*")
    pub.check("PUBLISH", "channel", "hello")
    s.expect(2)
    s.check("UNSUBSCRIBE", "channel")
    s.check("PUNSUBSCRIBE", "ch*")
    s.check("CLIENT", "REPLY", "ON")
    # SKIP: the subscribe confirmation still comes, and the skip is used up.
    s2 = pair()
    s2.send("CLIENT", "REPLY", "SKIP")
    s2.check("SUBSCRIBE", "x")
    s2.check("UNSUBSCRIBE", "x")
    s2.check("GET", "k")


# -- publishing ---------------------------------------------------------------------------


@pytest.mark.parametrize("resp3", [False, True])
def test_publish_delivery(pair, resp3):
    a, b, pub = pair(resp3), pair(), pair()
    a.check("SUBSCRIBE", "news", "sport", replies=2)
    a.check("PSUBSCRIBE", "n*", replies=1)  # channel message first, then pattern
    b.check("PSUBSCRIBE", "*o*", replies=1)
    pub.check("PUBLISH", "news", "m1")
    pub.check("PUBLISH", "sport", "m2")
    pub.check("PUBLISH", "none", "m3")
    pub.check("PUBLISH", "x", "m4")
    pub.check("PUBLISH", "news", "")
    pub.check("PUBLISH", "news", "bin\r\n\x00\xff")
    a.expect(8)
    b.expect(2)
    # Shard channels are a separate space.
    a.check("SSUBSCRIBE", "news", replies=1)
    pub.check("SPUBLISH", "news", "s1")
    pub.check("SPUBLISH", "other", "s2")
    a.expect(1)
    b.nothing_pending()
    pub.check("PUBLISH", "news", "p1")
    a.expect(2)
    pub.check("PUBLISH", "sport", "p1")
    b.expect(1)
    a.check("UNSUBSCRIBE", "news", replies=2)  # and the sport message before it
    a.check("SUNSUBSCRIBE", "news", replies=1)
    pub.check("PUBLISH", "news", "p2")
    a.expect(1)  # still through n*
    a.nothing_pending()
    b.nothing_pending()


def test_publish_counts_every_receiver(pair):
    subs = [pair() for _ in range(3)]
    subs[0].check("SUBSCRIBE", "c", replies=1)
    subs[1].check("SUBSCRIBE", "c", replies=1)
    subs[1].check("PSUBSCRIBE", "c", "?", "*", replies=3)
    subs[2].check("PSUBSCRIBE", "[a-c]", replies=1)
    pub = pair()
    pub.check("PUBLISH", "c", "x")  # 1 + 4 + 1
    subs[0].expect(1)
    subs[1].expect(4, unordered=True)  # Redis walks its pattern dict in hash order
    subs[2].expect(1)
    pub.check("PUBLISH", "d", "y")
    subs[1].expect(2, unordered=True)
    for s in subs:
        s.nothing_pending()


def test_pubsub_introspection(pair):
    a, b, q = pair(), pair(), pair()
    a.check("SUBSCRIBE", "news.it", "news.fr", "sport", replies=3)
    b.check("SUBSCRIBE", "news.it", replies=1)
    a.check("PSUBSCRIBE", "news.*", "x", replies=2)
    b.check("PSUBSCRIBE", "news.*", replies=1)
    b.check("SSUBSCRIBE", "sh1", "sh2", replies=2)
    q.check("PUBSUB", "CHANNELS", unordered=False, compare=False)
    for args in (("PUBSUB", "CHANNELS"), ("PUBSUB", "CHANNELS", "news.*"),
                 ("PUBSUB", "CHANNELS", "nomatch*"), ("PUBSUB", "SHARDCHANNELS"),
                 ("PUBSUB", "SHARDCHANNELS", "*1")):
        kv, rd = q.kv.call(*args)[1], q.rd.call(*args)[1]
        assert sorted(kv) == sorted(rd), args
    q.check("PUBSUB", "NUMSUB")
    q.check("PUBSUB", "NUMSUB", "news.it", "sport", "none", "news.it")
    q.check("PUBSUB", "NUMPAT")
    q.check("PUBSUB", "SHARDNUMSUB", "sh1", "sh3", "news.it")
    q.check("PUBSUB", "SHARDNUMSUB")
    q.check("PUBSUB", "HELP")
    q.check("pubsub", "help")
    for bad in (("PUBSUB",), ("PUBSUB", "NOSUCH"), ("PUBSUB", "CHANNELS", "a", "b"),
                ("PUBSUB", "SHARDCHANNELS", "a", "b"), ("PUBSUB", "NUMPAT", "x"),
                ("PUBSUB", "HELP", "x"), ("PUBLISH", "a"), ("PUBLISH", "a", "b", "c"),
                ("SPUBLISH", "a"), ("SUBSCRIBE",), ("PSUBSCRIBE",), ("SSUBSCRIBE",)):
        q.check(*bad)
    q3 = pair(resp3=True)
    q3.check("PUBSUB", "NUMSUB", "news.it")
    q3.check("PUBSUB", "HELP")


def test_info_and_client_list(server, real_redis, pair):
    a = pair()
    a.check("SUBSCRIBE", "x", "y", replies=2)
    a.check("PSUBSCRIBE", "p*", replies=1)
    a.check("SSUBSCRIBE", "s", replies=1)
    b = pair()
    b.check("SUBSCRIBE", "x", replies=1)
    q = pair()
    for port, c in ((server.port, q.kv), (real_redis, q.rd)):
        info = c.execute("INFO", "stats").decode()
        fields = dict(re.findall(r"^(pubsub\w*):(\d+)", info, re.M))
        assert fields == {"pubsub_channels": "2", "pubsub_patterns": "1",
                          "pubsubshard_channels": "1"}, port
        lst = c.execute("CLIENT", "LIST", "TYPE", "PUBSUB").decode()
        lines = [ln for ln in lst.splitlines() if "sub=2" in ln]
        assert len(lines) == 1 and " flags=P " in lines[0], lst
        assert " psub=1 ssub=1 " in lines[0]
    a.close()
    b.close()
    deadline = time.monotonic() + 5
    while q.kv.execute("PUBSUB", "NUMSUB", "x")[1] != 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert q.kv.execute("PUBSUB", "NUMSUB", "x") == [b"x", 0]
    assert q.kv.execute("PUBSUB", "NUMPAT") == 0
    assert q.kv.execute("PUBSUB", "SHARDCHANNELS") == []


def test_subscribe_is_kept_in_order_per_client(pair):
    s = pair()
    s.check("PSUBSCRIBE", "c*", "*", "?", replies=3)
    s.check("SUBSCRIBE", "c", replies=1)
    pub = pair()
    pub.check("PUBLISH", "c", "1")
    s.expect(4, unordered=True)
    s.check("PUNSUBSCRIBE", replies=3)  # in the order they were subscribed


# -- patterns, random sequences -----------------------------------------------------------

_GLOB = st.text(alphabet="ab*?[]^-\\", min_size=0, max_size=6)
_CHAN = st.text(alphabet="ab[]-\\*", min_size=0, max_size=5)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(patterns=st.lists(_GLOB, min_size=1, max_size=4, unique=True),
       channels=st.lists(_CHAN, min_size=1, max_size=6))
def test_pattern_matching_like_redis(pair, patterns, channels):
    s, pub = pair(), pair()
    try:
        s.check("PSUBSCRIBE", *patterns, replies=len(patterns))
        for ch in channels:
            n = pub.check("PUBLISH", ch, "m")[0]
            s.expect(int(n[1:-2]), unordered=True)
        pub.check("PUBSUB", "NUMPAT")
        for p in patterns:
            pub.check("PUBSUB", "NUMSUB", p)
    finally:
        s.close()
        pub.close()


_OPS = st.lists(st.tuples(
    st.sampled_from(["sub", "unsub", "psub", "punsub", "ssub", "sunsub", "pub", "spub",
                     "unsub_all", "punsub_all", "ping"]),
    st.integers(0, 1),
    st.sampled_from(["c1", "c2", "c*", "*", "x"])), min_size=1, max_size=25)


def _kind(m: bytes) -> bytes:
    return m.split(b"\r\n", 3)[2]


def _canonical(msgs: list[bytes]) -> list:
    """Runs that come in Redis's hash order (pattern messages from one
    PUBLISH, replies of an UNSUBSCRIBE from all) compared as multisets."""
    out: list = []
    run: list[bytes] = []
    for m in msgs:
        if run and _kind(m) != _kind(run[-1]):
            out.append(_unordered(run))
            run = []
        if _kind(m) in (b"pmessage", b"unsubscribe", b"sunsubscribe"):
            run.append(m)
        else:
            out.append(m)
    if run:
        out.append(_unordered(run))
    return out


def _sync(c: RawClient, stream: list[bytes]) -> None:
    """Wait until c's previous commands ran: PING and read up to its reply,
    keeping everything read before it in stream."""
    c.send_raw(encode_command(["PING", "sync-point"]))
    while True:
        raw, val = c.read_reply()
        if val == b"sync-point" or val == [b"pong", b"sync-point"]:
            return
        stream.append(raw)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=_OPS)
def test_random_subscription_sequences(server, real_redis, ops):
    subs = [Pair(server.port, real_redis, resp3=False), Pair(server.port, real_redis, resp3=True)]
    pub = Pair(server.port, real_redis)
    streams = [([], []), ([], [])]
    try:
        for op, who, name in ops:
            s = subs[who]
            if op in ("pub", "spub"):
                pub.check("PUBLISH" if op == "pub" else "SPUBLISH", name, f"m-{op}")
                continue
            cmd = {"sub": "SUBSCRIBE", "unsub": "UNSUBSCRIBE", "psub": "PSUBSCRIBE",
                   "punsub": "PUNSUBSCRIBE", "ssub": "SSUBSCRIBE", "sunsub": "SUNSUBSCRIBE",
                   "ping": "PING"}.get(op)
            if cmd is not None:
                s.send(cmd, name)
            else:  # unsubscribe from everything
                s.send("UNSUBSCRIBE" if op == "unsub_all" else "PUNSUBSCRIBE")
            _sync(s.kv, streams[who][0])
            _sync(s.rd, streams[who][1])
        for i, s in enumerate(subs):
            _sync(s.kv, streams[i][0])
            _sync(s.rd, streams[i][1])
            kv, rd = streams[i]
            assert _canonical(kv) == _canonical(rd), (ops, i)
        pub.check("PUBSUB", "NUMSUB", "c1", "c2", "c*", "*", "x")
        pub.check("PUBSUB", "SHARDNUMSUB", "c1", "c2", "c*", "*", "x")
        pub.check("PUBSUB", "NUMPAT")
    finally:
        for s in (*subs, pub):
            s.close()


# -- redis-py -----------------------------------------------------------------------------


def _wait_message(p, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        m = p.get_message(timeout=0.5)
        if m is not None:
            return m
    raise AssertionError("no message")


@pytest.mark.parametrize("protocol", [2, 3])
def test_redis_py_pubsub(server, protocol):
    r = server.client(protocol=protocol, decode_responses=True)
    p = r.pubsub()
    p.subscribe("ch1", "ch2")
    assert _wait_message(p) == {"type": "subscribe", "pattern": None, "channel": "ch1",
                                "data": 1}
    assert _wait_message(p)["data"] == 2
    p.psubscribe("ch*")
    assert _wait_message(p) == {"type": "psubscribe", "pattern": None, "channel": "ch*",
                                "data": 3}
    assert r.publish("ch1", "hello") == 2
    assert _wait_message(p) == {"type": "message", "pattern": None, "channel": "ch1",
                                "data": "hello"}
    assert _wait_message(p) == {"type": "pmessage", "pattern": "ch*", "channel": "ch1",
                                "data": "hello"}
    assert r.pubsub_numsub("ch1", "ch2", "ch3") == [("ch1", 1), ("ch2", 1), ("ch3", 0)]
    assert r.pubsub_numpat() == 1
    assert sorted(r.pubsub_channels()) == ["ch1", "ch2"]
    # Handlers, and listen().
    seen = []
    p.subscribe(**{"cb": lambda m: seen.append(m["data"])})
    _wait_message(p)
    r.publish("cb", "via handler")
    deadline = time.monotonic() + 5
    while not seen and time.monotonic() < deadline:
        p.get_message(timeout=0.2)
    assert seen == ["via handler"]
    p.unsubscribe("ch2")
    assert _wait_message(p) == {"type": "unsubscribe", "pattern": None, "channel": "ch2",
                                "data": 3}
    r.publish("ch2", "x")  # no longer heard, except through the pattern
    r.publish("ch1", "y")
    kinds = []
    for m in p.listen():
        kinds.append((m["type"], m["channel"], m["data"]))
        if m["data"] == "y" and m["type"] == "pmessage":
            break
    assert kinds == [("pmessage", "ch2", "x"), ("message", "ch1", "y"),
                     ("pmessage", "ch1", "y")]
    p.punsubscribe()
    p.unsubscribe()
    p.close()
    assert r.pubsub_numpat() == 0
    r.close()


@pytest.mark.parametrize("protocol", [2, 3])
def test_redis_py_sharded_pubsub(server, protocol):
    r = server.client(protocol=protocol)
    p = r.pubsub()
    p.ssubscribe("sh")
    assert _wait_message(p)["type"] == "ssubscribe"
    assert r.spublish("sh", "v") == 1
    m = p.get_sharded_message(timeout=2)
    assert m is not None and m["type"] == "smessage" and m["data"] == b"v"
    assert r.pubsub_shardnumsub("sh") == [(b"sh", 1)]
    p.sunsubscribe()
    p.close()
    r.close()


@pytest.mark.parametrize("protocol", [2, 3])
def test_redis_py_asyncio_pubsub(server, protocol):
    async def main():
        r = redis.asyncio.Redis(host=server.host, port=server.port, protocol=protocol,
                                decode_responses=True)
        p = r.pubsub()
        await p.subscribe("a")
        await p.psubscribe("a*")
        got = []
        while len(got) < 2:
            m = await p.get_message(timeout=2)
            assert m is not None
            got.append(m["type"])
        assert got == ["subscribe", "psubscribe"]
        assert await r.publish("a", "1") == 2
        assert await r.publish("ab", "2") == 1

        async def reader():
            out = []
            async for m in p.listen():
                out.append((m["type"], m["channel"], m["data"]))
                if len(out) == 3:
                    return out

        out = await asyncio.wait_for(reader(), 5)
        assert out == [("message", "a", "1"), ("pmessage", "a", "1"), ("pmessage", "ab", "2")]
        await p.unsubscribe()
        await p.punsubscribe()
        await p.aclose()
        assert await r.pubsub_numsub("a") == [("a", 0)]
        await r.aclose()

    asyncio.run(main())


def test_disconnect_removes_subscriptions(server):
    r = server.client()
    subs = []
    for i in range(5):
        p = server.client().pubsub()
        p.subscribe("gone")
        p.psubscribe(f"gone{i}*")
        _wait_message(p)
        _wait_message(p)
        subs.append(p)
    assert r.pubsub_numsub("gone") == [(b"gone", 5)]
    assert r.pubsub_numpat() == 5
    for p in subs:
        p.connection.disconnect()
    deadline = time.monotonic() + 5
    while r.pubsub_numsub("gone")[0][1] and time.monotonic() < deadline:
        time.sleep(0.01)
    assert r.pubsub_numsub("gone") == [(b"gone", 0)]
    assert r.pubsub_numpat() == 0
    assert r.publish("gone", "x") == 0
    r.close()


# -- a subscriber that does not read ----------------------------------------------------------


def _rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def _raw_subscriber(port: int, channel: bytes, rcvbuf: int | None = None) -> socket.socket:
    s = socket.socket()
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.connect(("127.0.0.1", port))
    s.sendall(encode_command(["SUBSCRIBE", channel]))
    buf = b""
    while not buf.endswith(b":1\r\n"):
        buf += s.recv(100)
    return s


def test_slow_subscriber_disconnected_memory_bounded():
    """10,000 messages of 10 KB (100 MB): the subscriber that never reads is
    dropped at the default pubsub hard limit (32 MB), the server's RSS stays
    bounded, and the subscribers that read get every message in order."""
    n, size = 10_000, 10 * 1024
    with KVServer(subprocess=True) as srv:
        pid = srv._proc.pid
        slow = _raw_subscriber(srv.port, b"big", rcvbuf=4096)
        readers = [server_reader(srv.port) for _ in range(2)]
        for rd in readers:
            rd.start()
        base = _rss_kb(pid)
        peak = base
        pub = RawClient(port=srv.port)
        payload = b"x" * (size - 8)
        batch = 100
        for i in range(0, n, batch):
            pub.send_raw(b"".join(encode_command([b"PUBLISH", b"big", b"%08d" % j + payload])
                                  for j in range(i, i + batch)))
            for _ in range(batch):
                pub.read_reply()
            peak = max(peak, _rss_kb(pid))
            # The readers keep up (they share this process's CPU with the publisher).
            deadline = time.monotonic() + 30
            while any(rd.count < i and rd.error is None for rd in readers):
                assert time.monotonic() < deadline
                time.sleep(0.001)
        pub.send_raw(encode_command(["PUBLISH", "big", "END"]))
        receivers = pub.read_reply()[1]
        assert receivers == 2  # the slow one is gone
        for rd in readers:
            rd.join(60)
            assert rd.error is None, rd.error
            assert rd.count == n
        # The slow subscriber's connection was closed: it can read what was
        # in flight, then the end of the stream.
        slow.settimeout(10)
        got = 0
        try:
            while data := slow.recv(1 << 20):
                got += len(data)
        except ConnectionResetError:
            pass
        assert got < n * size // 2
        # The slow subscriber held at most 32 MB; 100 MB went through.
        assert peak - base < 64 * 1024, (base, peak)
        slow.close()
        pub.close()


class server_reader(threading.Thread):
    """Reads messages from channel `big` until END, checking their order."""

    def __init__(self, port: int) -> None:
        super().__init__(daemon=True)
        self.sock = _raw_subscriber(port, b"big")
        self.count = 0
        self.error: str | None = None

    def run(self) -> None:
        import hiredis

        reader = hiredis.Reader()
        try:
            while True:
                data = self.sock.recv(1 << 20)
                if not data:
                    self.error = "closed"
                    return
                reader.feed(data)
                while (m := reader.gets()) is not False:
                    if m[2] == b"END":
                        return
                    if int(m[2][:8]) != self.count:
                        self.error = f"message {m[2][:8]!r} where {self.count} was expected"
                        return
                    self.count += 1
        finally:
            self.sock.close()


def test_soft_limit_seconds_enforced_without_further_writes():
    """Over the soft limit once, then nothing more is published: the cron
    still closes the subscriber when the limit's seconds have passed."""
    with KVServer(subprocess=True, client_output_buffer_limit="pubsub 0 256kb 1") as srv:
        slow = _raw_subscriber(srv.port, b"c", rcvbuf=4096)
        pub = srv.client()
        for _ in range(4):  # enough to fill the socket buffers and pass 256 KB
            pub.publish("c", b"y" * (1024 * 1024))
        assert pub.pubsub_numsub("c") == [(b"c", 1)]
        deadline = time.monotonic() + 10
        while pub.pubsub_numsub("c")[0][1] and time.monotonic() < deadline:
            time.sleep(0.1)
        assert pub.pubsub_numsub("c") == [(b"c", 0)]
        slow.close()
        pub.close()


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="needs /proc")
def test_publish_to_many_subscribers(server):
    r = server.client()
    subs = []
    for _ in range(50):
        p = server.client().pubsub(ignore_subscribe_messages=True)
        p.subscribe("fan")
        subs.append(p)
    deadline = time.monotonic() + 5
    while r.pubsub_numsub("fan")[0][1] < 50 and time.monotonic() < deadline:
        time.sleep(0.01)
    pipe = r.pipeline(transaction=False)
    for i in range(20):
        pipe.publish("fan", str(i))
    assert pipe.execute() == [50] * 20
    for p in subs:
        got = []
        deadline = time.monotonic() + 5
        while len(got) < 20 and time.monotonic() < deadline:
            m = p.get_message(timeout=0.5)  # None for the ignored subscribe reply
            if m is not None:
                got.append(int(m["data"]))
        assert got == list(range(20))
        p.close()
    r.close()
