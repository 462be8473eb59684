"""Fuzzing the request parser with malformed RESP.

The same bytes go to kvserver and to a real redis-server 7.0 on fresh
connections; both must answer the same bytes and agree on closing the
connection (a protocol error is `-ERR Protocol error: ...` then a close). The
input mixes valid requests, inline commands, broken headers (negative, huge,
non-numeric lengths, other RESP types), binary junk, NUL bytes and stray line
ends, split over several reads. Meanwhile another client works on the same
kvserver and its data must stay intact, and the server process must never die
nor allocate what a length merely claims (VmRSS/VmSize from /proc).

kvserver runs as a subprocess (KVServer(subprocess=True)) so that its memory
is its own. The parser: kvserver/protocol.py (exact) and the hiredis fast path
in kvserver/connection.py.
"""

from __future__ import annotations

import selectors
import socket
import threading
import time

import pytest
import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kvserver.testing import KVServer
from tests.rawclient import RawClient

IDLE = 0.12  # s without data after which a server is taken to be waiting
SLOW_IDLE = 1.5  # the retry, when a loaded machine made the first look differ

pytestmark = pytest.mark.differential


# -- fixtures ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def kv():
    with KVServer(subprocess=True) as srv:
        yield srv


def proc_status(pid: int) -> dict[str, int]:
    """VmRSS / VmSize / ... of a process, in kB."""
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("Vm"):
                k, v = line.split(":", 1)
                out[k] = int(v.split()[0])
    return out


BLOB = bytes(range(256)) * 256  # 64 KB, every byte value


class Bystander(threading.Thread):
    """A client that keeps using the server while the fuzzing goes on."""

    def __init__(self, port: int) -> None:
        super().__init__(daemon=True)
        self.port = port
        self.stopping = threading.Event()
        self.errors: list[str] = []
        self.rounds = 0
        self.r = redis.Redis(port=port, socket_timeout=10)
        self.r.delete("by:n", "by:blob", "by:list")
        self.r.set("by:blob", BLOB)

    def run(self) -> None:
        r = self.r
        try:
            while not self.stopping.is_set():
                self.rounds += 1
                n = self.rounds
                if r.incr("by:n") != n:
                    self.errors.append(f"counter is not {n}")
                r.rpush("by:list", n)
                if n % 10 == 0 and r.get("by:blob") != BLOB:
                    self.errors.append("blob changed")
                time.sleep(0.002)
        except Exception as e:  # reported by check()
            self.errors.append(repr(e))

    def check(self) -> None:
        """The server is up, answered every request, and the data is intact."""
        assert self.is_alive(), self.errors
        assert self.errors == []
        r = redis.Redis(port=self.port, socket_timeout=10)
        n, length = r.pipeline(transaction=True).get("by:n").llen("by:list").execute()
        n = int(n)
        assert n >= self.rounds - 1
        assert length in (n - 1, n)  # between its INCR and its RPUSH
        # Read after the transaction above: the bystander may have pushed more.
        head = r.lrange("by:list", 0, 2)
        assert head == [b"1", b"2", b"3"][: len(head)] and len(head) >= min(3, length)
        assert r.get("by:blob") == BLOB
        r.close()


@pytest.fixture(scope="module")
def bystander(kv):
    b = Bystander(kv.port)
    b.start()
    yield b
    b.stopping.set()
    b.join(10)


@pytest.fixture
def checked(kv, bystander):
    """After the test: the server lives and the other client was not harmed."""
    yield
    assert kv._proc is not None and kv._proc.poll() is None, "kvserver died"
    c = RawClient(port=kv.port, timeout=10)
    assert c.execute("PING") == b"PONG"
    c.close()
    bystander.check()


# -- talking to both servers ---------------------------------------------------------


def exchange(ports: list[int], chunks: list[bytes], idle: float) -> list[tuple[bytes, bool]]:
    """Send chunks (as separate writes) to each port on a new connection, then
    read until the server closes or stays silent for `idle` seconds.
    Returns (bytes received, closed by the server) per port."""
    socks = []
    for p in ports:
        s = socket.create_connection(("127.0.0.1", p), timeout=5)
        socks.append(s)
    broken = [False] * len(socks)
    for i, chunk in enumerate(chunks):
        for j, s in enumerate(socks):
            if not broken[j] and chunk:
                try:
                    s.sendall(chunk)
                except OSError:  # closed on a protocol error: the rest is not read
                    broken[j] = True
        if i < len(chunks) - 1:
            time.sleep(0.003)  # let each chunk arrive as a read of its own
    got = [bytearray() for _ in socks]
    closed = [False] * len(socks)
    sel = selectors.DefaultSelector()
    for j, s in enumerate(socks):
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ, j)
    deadline = time.monotonic() + idle
    while not all(closed):
        left = deadline - time.monotonic()
        if left <= 0:
            break
        for key, _ in sel.select(left):
            j = key.data
            try:
                data = socks[j].recv(1 << 16)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:  # reset after a close with unread input
                data = b""
            if data:
                got[j] += data
                deadline = time.monotonic() + idle
            else:
                closed[j] = True
                sel.unregister(socks[j])
    sel.close()
    for s in socks:
        s.close()
    return [(bytes(g), c) for g, c in zip(got, closed, strict=True)]


def reset_keys(kv_port: int, redis_port: int) -> None:
    for p in (kv_port, redis_port):
        c = RawClient(port=p)
        c.execute("DEL", "fz:a", "fz:b", "fz:c")
        c.close()


def same_as_redis(kv_port: int, redis_port: int, chunks: list[bytes]) -> tuple[bytes, bool]:
    """Assert kvserver answers `chunks` as Redis does; return Redis's answer."""
    k, r = exchange([kv_port, redis_port], chunks, IDLE)
    if k != r:  # maybe only slow: look again, longer
        reset_keys(kv_port, redis_port)
        k, r = exchange([kv_port, redis_port], chunks, SLOW_IDLE)
    assert k == r, f"sent {chunks!r}\n kvserver: {k!r}\n redis:    {r!r}"
    return r


def req(*args: bytes) -> bytes:
    return b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args)


# -- hand-written cases ---------------------------------------------------------------

PROTO_ERR = b"-ERR Protocol error: "

CASES = {
    "negative bulk length": ([b"*1\r\n$-5\r\n"], b"invalid bulk length"),
    "null bulk in request": ([req(b"PING") + b"*1\r\n$-1\r\n"], b"invalid bulk length"),
    "2 GB bulk": ([b"*2\r\n$4\r\nECHO\r\n$2147483648\r\n"], b"invalid bulk length"),
    "bulk over proto-max-bulk-len": ([b"*1\r\n$536870913\r\n"], b"invalid bulk length"),
    "2^64 bulk": ([b"*1\r\n$18446744073709551616\r\n"], b"invalid bulk length"),
    "bulk length with plus": ([b"*1\r\n$+4\r\nPING\r\n"], b"invalid bulk length"),
    "bulk length leading zero": ([b"*1\r\n$04\r\nPING\r\n"], b"invalid bulk length"),
    "count over INT_MAX": ([b"*2147483648\r\n"], b"invalid multibulk length"),
    "count 2^32": ([b"*4294967296\r\n"], b"invalid multibulk length"),
    "count with space": ([b"* 1\r\n"], b"invalid multibulk length"),
    "count not a number": ([b"*abc\r\n"], b"invalid multibulk length"),
    "count leading zero": ([b"*01\r\n$4\r\nPING\r\n"], b"invalid multibulk length"),
    "integer instead of bulk": ([b"*1\r\n:5\r\n"], b"expected '$', got ':'"),
    "simple string instead of bulk": ([b"*1\r\n+PING\r\n"], b"expected '$', got '+'"),
    "verbatim instead of bulk": ([b"*2\r\n$4\r\nECHO\r\n=8\r\ntxt:abcd\r\n"], b"expected '$', got '='"),
    "big number instead of bulk": ([b"*2\r\n$4\r\nECHO\r\n(123\r\n"], b"expected '$', got '('"),
    "empty line instead of bulk": ([b"*1\r\n\r\n"], b"expected '$', got ' '"),
    "CR CR LF after count": ([b"*1\r\r\n$4\r\nPING\r\n"], b"expected '$', got ' '"),
    "high byte instead of bulk": ([b"*1\r\n\xff\r\n"], b"expected '$', got '\xff'"),
    "nested array": ([b"*1\r\n*1\r\n$4\r\nPING\r\n"], b"expected '$', got '*'"),
    "unbalanced double quote": ([b'ECHO "abc\r\n'], b"unbalanced quotes in request"),
    "unbalanced single quote": ([b"ECHO 'abc\r\n"], b"unbalanced quotes in request"),
    "text after closing quote": ([b'ECHO "a"b\r\n'], b"unbalanced quotes in request"),
    "inline over 64 KB, no newline": ([b"x" * 70000], b"too big inline request"),
    "inline line of 300 KB": ([b"PING " + b"x" * 300000 + b"\r\n"], b"too big inline request"),
    "count line over 64 KB": ([b"*" + b"1" * 70000], b"too big mbulk count string"),
    "bulk count line over 64 KB": ([b"*1\r\n$" + b"1" * 70000], b"too big bulk count string"),
    # The same, with the bad part arriving in a later read than the header.
    "split: 2 GB bulk": ([b"*3\r\n$3\r\nSET\r\n", b"$2147483648\r\n"], b"invalid bulk length"),
    "split: integer after header": ([b"*3\r\n$3\r\nSET\r\n", b"$1\r\nk\r\n:5\r\n"],
                                    b"expected '$', got ':'"),
    "split: header byte by byte": ([b"*", b"1", b"\r", b"\n", b"$", b"-", b"2", b"\r\n"],
                                   b"invalid bulk length"),
    "split: simple string after header": ([b"*2\r\n$4\r\nECHO\r\n", b"+PING\r\n"],
                                          b"expected '$', got '+'"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_protocol_errors_like_redis(kv, real_redis, checked, name):
    chunks, what = CASES[name]
    data, closed = same_as_redis(kv.port, real_redis, chunks)
    assert closed
    assert data.endswith(PROTO_ERR + what + b"\r\n")


ACCEPTED = {
    # Redis skips the two bytes after a bulk without looking at them.
    "bulk not followed by CRLF": [req(b"PING")[:-2] + b"xx" + req(b"PING")],
    "LF-only inline": [b"PING\nPING\n"],
    "empty lines between requests": [b"\r\n\r\n" + req(b"PING") + b"\n   \r\nPING\r\n"],
    "empty arrays": [b"*0\r\n*-1\r\n*-7\r\n" + req(b"PING")],
    "empty array at the end of a read": [req(b"PING") + b"*0\r\n", req(b"PING")],
    "request split everywhere": [bytes([b]) for b in req(b"ECHO", b"hello")],
    "binary-safe bulk": [req(b"ECHO", b"\x00\r\n*1\r\n+x\r\n\xff")],
    "inline quoting": [b'ECHO "a\\x41\\n\\"b" \'c\\\'d\'\r\n'],
    "inline after multibulk in one read": [req(b"PING") + b"ECHO x\r\n" + req(b"PING")],
    "RESP3 set at the top is an inline command": [req(b"PING") + b"~1\r\n$4\r\nPING\r\n"],
    "simple string at the top is an inline command": [b"+PING\r\n"],
    "unknown command": [b"NOSUCH a b\r\n" + req(b"nosuch", b"x" * 200)],
    "wrong arity": [req(b"GET") + b"SET k\r\n"],
}


@pytest.mark.parametrize("name", list(ACCEPTED))
def test_accepted_like_redis(kv, real_redis, checked, name):
    reset_keys(kv.port, real_redis)
    data, closed = same_as_redis(kv.port, real_redis, ACCEPTED[name])
    assert not closed
    assert data


WAITING = {
    "unterminated bulk": [b"*2\r\n$4\r\nECHO\r\n$10\r\nabc"],
    "512 MB bulk claimed": [b"*2\r\n$4\r\nECHO\r\n$536870912\r\nabc"],
    "INT_MAX count claimed": [b"*2147483647\r\n$4\r\nPING\r\n"],
    "unterminated inline": [b"PING"],
    "NUL hides the inline line end": [b"\x00PING\r\n"],
    "NUL hides the count line end": [b"*1\x00\r\n$4\r\nPING\r\n"],
    "NUL hides the bulk line end": [b"*1\r\n$4\x00\r\nPING\r\n"],
    "lone CR after count": [b"*1\r"],
}


@pytest.mark.parametrize("name", list(WAITING))
def test_incomplete_requests_wait_like_redis(kv, real_redis, checked, name):
    data, closed = same_as_redis(kv.port, real_redis, WAITING[name])
    assert (data, closed) == (b"", False)


@pytest.mark.parametrize("depth", [2, 7, 8, 9, 64, 5000])
def test_deep_nesting(kv, real_redis, checked, depth):
    data, closed = same_as_redis(kv.port, real_redis, [b"*1\r\n" * depth + b"$4\r\nPING\r\n"])
    assert (data, closed) == (PROTO_ERR + b"expected '$', got '*'\r\n", True)


def test_inline_between_64_and_160_kb_does_not_hurt(kv, checked):
    # Redis takes or refuses such a line depending on how its reads fall;
    # kvserver refuses every inline line over 64 KB, however it arrives.
    c = RawClient(port=kv.port)
    c.send_raw(b"ECHO " + b"x" * 65530 + b"\r\n")  # a 65535-byte line: taken
    assert c.read_reply()[1] == b"x" * 65530
    c.close()
    for n in (65532, 70000, 150000):
        for chunks in ([b"ECHO " + b"x" * n + b"\r\n"], [b"ECHO " + b"x" * n, b"\r\n"]):
            [got] = exchange([kv.port], chunks, SLOW_IDLE)
            assert got == (PROTO_ERR + b"too big inline request\r\n", True)


def test_claimed_lengths_are_not_allocated(kv, real_redis, checked):
    """Lengths within the limits make the server wait for the data, never
    reserve memory for it: 40 connections claiming 512 MB bulks, 2^31-1
    element arrays and the like cost the server next to nothing."""
    pid = kv._proc.pid
    before = proc_status(pid)
    claims = [
        b"*1\r\n$536870912\r\nab",
        b"*3\r\n$3\r\nSET\r\n$5\r\nfz:zz\r\n$536870000\r\n" + b"x" * 1000,
        b"*2147483647\r\n",
        b"*2147483647\r\n$4\r\nPING\r\n$4\r\nPING\r\n",
        b"*99999999\r\n$536870912\r\n",
        b"*3\r\n$3\r\nSET\r\n",  # the count is read; the rest never comes
        b"*1000000\r\n" + req(b"x")[4:] * 100,
        b"PING " + b"x" * 60000,  # a 60 KB inline line still without its end
    ]
    socks = []
    for _ in range(5):
        for c in claims:
            s = socket.create_connection(("127.0.0.1", kv.port))
            s.sendall(c)
            socks.append(s)
    c = RawClient(port=kv.port)
    for _ in range(3):  # let the server read everything
        assert c.execute("PING") == b"PONG"
        time.sleep(0.1)
    after = proc_status(pid)
    for s in socks:  # nobody got an answer: all are waiting, as on Redis
        s.setblocking(False)
        with pytest.raises(BlockingIOError):
            s.recv(100)
    for s in socks:
        s.close()
    c.close()
    grew_rss = after["VmRSS"] - before["VmRSS"]
    grew_vm = after["VmSize"] - before["VmSize"]
    assert grew_rss < 64 * 1024, f"RSS grew by {grew_rss} kB"
    assert grew_vm < 1024 * 1024, f"address space grew by {grew_vm} kB"
    # Redis agrees that each of them is only incomplete.
    for claim in claims:
        [(data, closed)] = exchange([real_redis], [claim], IDLE)
        assert (data, closed) == (b"", False), claim


def test_client_hanging_up_mid_request(kv, checked):
    for partial in (b"*3\r\n$3\r\nSET\r\n$1\r\nk", b"*2\r\n$4\r\nECHO\r\n$100\r\n" + b"x" * 50,
                    b"ECHO abc", b"*2147483647\r\n"):
        for _ in range(20):
            s = socket.create_connection(("127.0.0.1", kv.port))
            s.sendall(partial)
            s.close()


# -- hypothesis ------------------------------------------------------------------------

KEYS = [b"fz:a", b"fz:b", b"fz:c"]
VALUES = [b"", b"1", b"-7", b"abc", b"a b", b"\r\n", b"\x00\xff", b"*1\r\n$4\r\nPING\r\n", b"9" * 30]

valid_request = st.one_of(
    st.just([b"PING"]),
    st.tuples(st.just(b"ECHO"), st.sampled_from(VALUES)).map(list),
    st.tuples(st.just(b"SET"), st.sampled_from(KEYS), st.sampled_from(VALUES)).map(list),
    st.tuples(st.sampled_from([b"GET", b"INCR", b"DEL", b"EXISTS", b"STRLEN"]),
              st.sampled_from(KEYS)).map(list),
    st.lists(st.sampled_from([b"GET", b"SET", b"nosuch", b"ping", b"EcHo"] + KEYS + VALUES),
             min_size=1, max_size=4),
).map(lambda argv: req(*argv))

inline_word = st.one_of(
    st.sampled_from([b"PING", b"ECHO", b"SET", b"GET", b"INCR", b"nosuch"] + KEYS),
    st.sampled_from([b"abc", b"1", b"\\x41", b"\\n", b"\\\"", b"\\'", b"\t", b"*1", b"$4"]),
)
quoted = st.builds(
    lambda q, words, close, tail: q + b" ".join(words) + (q if close else b"") + tail,
    st.sampled_from([b'"', b"'"]), st.lists(inline_word, max_size=3), st.booleans(),
    st.sampled_from([b"", b" ", b"x"]))
inline_request = st.builds(
    lambda words, end: b" ".join(words) + end,
    st.lists(st.one_of(inline_word, quoted), min_size=1, max_size=4),
    st.sampled_from([b"\r\n", b"\n"]))

number = st.one_of(
    st.integers(-3, 4).map(lambda n: b"%d" % n),
    st.sampled_from([b"2147483647", b"2147483648", b"4294967296", b"536870912", b"536870913",
                     b"9223372036854775807", b"9223372036854775808", b"", b" 1", b"1 ", b"+1",
                     b"01", b"-0", b"0x1", b"1.5", b"abc", b"1\x00", b"\x00", b"9" * 25]))
header = st.builds(
    lambda t, n, end: t + n + end,
    st.sampled_from([b"*", b"$", b"+", b"-", b":", b",", b"#", b"_", b"(", b"=", b"~", b"|",
                     b"%", b">", b"!", b"x", b" "]),
    number,
    st.sampled_from([b"\r\n", b"\r\n", b"\n", b"\r", b"\r\r\n", b"", b"\x00\r\n"]))
junk = st.one_of(st.binary(max_size=16),
                 st.sampled_from([b"\r\n", b"\n", b"\r", b"\x00", b"\xff", b"PING\r\n", b"\r\n\r\n"]))

piece = st.one_of(valid_request, valid_request, inline_request, header, header, junk)


@st.composite
def split_stream(draw):
    data = b"".join(draw(st.lists(piece, min_size=1, max_size=6)))
    cuts = sorted(set(draw(st.lists(st.integers(0, len(data)), max_size=3))))
    chunks, last = [], 0
    for c in cuts + [len(data)]:
        chunks.append(data[last:c])
        last = c
    return [c for c in chunks if c] or [data]


@settings(max_examples=80, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(chunks=split_stream())
def test_random_streams_like_redis(kv, real_redis, checked, chunks):
    reset_keys(kv.port, real_redis)
    same_as_redis(kv.port, real_redis, chunks)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(junk=st.binary(min_size=1, max_size=200), prefix=st.sampled_from([b"", b"*", b"*2\r\n"]))
def test_binary_junk_like_redis(kv, real_redis, checked, junk, prefix):
    reset_keys(kv.port, real_redis)
    same_as_redis(kv.port, real_redis, [prefix + junk])


def test_inline_after_multibulk_in_one_read(kv, real_redis, checked):
    """hypothesis found it: a "$0" line after a complete request is an inline
    command for Redis, not the start of a bulk string."""
    same_as_redis(kv.port, real_redis, [b"*1\r\n$4\r\nPING\r\n$0\r\n"])
    same_as_redis(kv.port, real_redis, [b"*1\r\n$4\r\nPING\r\n:5\r\n"])
