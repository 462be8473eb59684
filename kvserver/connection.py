"""One client connection: an asyncio.Protocol with Redis's per-client state.

Input: well-formed multibulk requests go through hiredis (C); anything else
(inline commands, malformed input, the header of a request still arriving) goes
through kvserver.protocol, which applies Redis's exact rules and error texts. To
switch parsers mid-stream we need to know where hiredis stopped; a well-formed
request's wire size follows from its argv, so that is computed only on the rare
slow path, never per command.

Output: replies accumulate in `out` and are written, joined, once the event
loop has read every ready socket (Server.flush_later, Redis's beforeSleep):
a pipeline costs one write, and many clients' writes come in one burst.

The hot path (_process_fast) runs a plain client's data commands with call()
inlined, one clock read per command and the commonest replies encoded in
place; everything else goes through dispatch().

A client that is blocked (BLPOP, ...) or held by CLIENT PAUSE keeps its later
commands in `queued_argv`, served in order once it is released.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import deque
from time import perf_counter_ns
from typing import TYPE_CHECKING

import hiredis

from kvserver import protocol
from kvserver.dispatch import (
    _BY_SPELLING_SIMPLE,
    after_call,
    dispatch,  # swapped while a script is busy: scripting.busy
)
from kvserver.errors import CommandError
from kvserver.resp import NOREPLY, OK, SMALL_INTS, encode

_PLAIN_DISPATCH = dispatch  # see Client.plain()

if TYPE_CHECKING:
    from kvserver.server import Server


REPLY_ON, REPLY_OFF, REPLY_SKIP = 0, 1, 2

# Where hiredis and Redis part ways, the exact parser must take the batch:
# - hiredis returns bytes for a simple string (+), verbatim string (=) or big
#   number ((), and a list for a set (~) or attribute (|); Redis accepts none
#   of them in a request;
# - hiredis allocates a list of N slots as soon as it reads "*N" (8N bytes of
#   address space for N up to 2**32-1), where Redis reserves at most 1024.
# A well-formed request holds no such line after a newline (or at the start of
# a read), so scanning for one is cheap. Reads over _SCAN_MAX bytes are mostly
# bulk payload and are not scanned; a MemoryError from hiredis also falls back.
_hiredis_unlike_redis = re.compile(rb"\n(?:[+=(~|]|\*[1-9][0-9]{7})").search
_big_count_at_start = re.compile(rb"\*[1-9][0-9]{7}").match
_LENIENT_FIRST = frozenset(b"+=(~|")
_SCAN_MAX = 16384
# The hot path's reply encodings of bulk strings and +OK (resp.encode's bytes).
_BULK_HEAD = [b"$%d\r\n" % i for i in range(1024)]
_OK_LINE = b"+OK\r\n"


class Client(asyncio.Protocol):
    """A connected client. Also used, without a transport, for internal callers."""

    is_internal = False

    def __init__(self, server: Server) -> None:
        self.server = server
        self.id = server.next_client_id()
        self.transport: asyncio.Transport | None = None
        self.reader = hiredis.Reader()
        self.pending: bytearray | None = None  # bytes of a request not yet complete
        self.slow_owned = False  # pending belongs to the Python parser
        self.db = server.dbs[0]
        self.resp3 = False
        self.authenticated = not server.config.requirepass
        self.user = b"default"
        self.name = b""
        self.lib_name = b""
        self.lib_ver = b""
        self.addr = ""
        self.laddr = ""
        self.is_unix = False
        self.created = time.time()
        self.last_interaction = time.monotonic()
        self.mstate: list | None = None  # queued (cmd, argv) inside MULTI
        self.multi_error = False
        self.dirty_cas = False
        self.watched_keys: list[tuple[int, bytes]] = []
        self.reply_mode = REPLY_ON
        self.propagate_as: list[list[bytes]] | None = None
        self.close_after_reply = False
        self.closed = False
        self.subscriptions: int = 0  # channels + patterns + shard channels (kvserver.pubsub)
        # Ordered sets (dicts): what the client is subscribed to, in order.
        self.channels: dict[bytes, None] = {}
        self.patterns: dict[bytes, None] = {}
        self.shard_channels: dict[bytes, None] = {}
        # Pushes that must follow the replies being built (tracking invalidations).
        self.deferred_pushes: list[bytes] | None = None
        self.is_monitor = False
        self.no_evict = False
        self.no_touch = False
        self.blocked = None  # kvserver.blocking.BlockState while blocked
        self.queued_argv: deque[list[bytes]] = deque()
        self.out: list[bytes] = []
        self.net_in = 0
        self.net_out = 0
        self.tracking = None  # kvserver.tracking state (client-side caching)
        self.is_replica_link = False
        self.in_exec = False  # running the commands of EXEC
        self.in_script = False  # running redis.call from a script
        self.watched_expired = False
        self.last_argv: list[bytes] = []
        self.cmd = None  # spec of the last command run (CLIENT LIST cmd=)
        self.obuf_soft_since: float | None = None

    def is_local(self) -> bool:
        """On a Unix socket or the loopback address (protected mode,
        enable-debug-command local, enable-protected-configs local)."""
        return self.is_unix or _is_loopback(self.addr)

    def plain(self) -> bool:
        """True when none of dispatch's checks can stop a simple command:
        authenticated, not in MULTI, not subscribed, not tracking, not blocked,
        paused or with replies off, not in CLIENT NO-TOUCH mode, and no script
        holding the server (which swaps the module's dispatch). Re-evaluated
        after every other command."""
        return (self.authenticated and self.mstate is None and not self.subscriptions
                and self.tracking is None and not self.no_touch and self.blocked is None and not self.queued_argv
                and not self.reply_mode and not self.server.pause_until
                and dispatch is _PLAIN_DISPATCH)

    @property
    def may_block(self) -> bool:
        """Blocking commands inside MULTI/EXEC or a script do not block."""
        return not (self.in_exec or self.in_script)

    # -- asyncio.Protocol ---------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self.transport = transport
        srv = self.server
        sock = transport.get_extra_info("socket")
        peer = transport.get_extra_info("peername")
        local = transport.get_extra_info("sockname")
        if isinstance(peer, tuple):
            self.addr = _fmt_addr(peer)
            self.laddr = _fmt_addr(local)
            if sock is not None and srv.config.tcp_keepalive > 0:
                srv.set_keepalive(sock)
        else:
            self.is_unix = True
            self.addr = f"{local or srv.config.unixsocket}:0"
            self.laddr = self.addr
        if (srv.config.protected_mode and not srv.config.requirepass and not self.is_unix
                and not _is_loopback(self.addr)):
            srv.stats.rejected_connections += 1
            transport.write(PROTECTED_MODE_DENIED)
            transport.close()
            self.closed = True
            return
        srv.stats.total_connections_received += 1
        if len(srv.clients) >= srv.config.maxclients:
            srv.stats.rejected_connections += 1
            transport.write(b"-ERR max number of clients reached\r\n")
            transport.close()
            self.closed = True
            return
        srv.clients[self.id] = self

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.server.unlink_client(self)

    def data_received(self, data: bytes) -> None:
        if self.closed:
            return
        self.net_in += len(data)
        self.last_interaction = time.monotonic()
        if self.pending is not None and self.slow_owned:
            self.pending += data
            buf, self.pending = self.pending, None
            self.slow_owned = False
            self._process_slow(buf)
        elif self.pending is None and data[0] != 42:  # not '*': inline command
            self._process_slow(data)
        else:
            self._process_fast(data)
        self.server.flush_later(self)

    # -- input --------------------------------------------------------------

    def _process_fast(self, data: bytes) -> None:
        # Invariant: self.pending is None exactly when hiredis stands between
        # two requests with nothing buffered; otherwise pending holds the bytes
        # of the request in progress from its first byte (hiredis may already
        # have consumed its header, so its own buffer does not tell).
        first = data[0]
        if ((len(data) <= _SCAN_MAX and _hiredis_unlike_redis(data))
                or first in _LENIENT_FIRST
                or (first == 42 and len(data) > 9 and data[2] != 13 and _big_count_at_start(data))):
            # See _hiredis_unlike_redis: the exact parser takes this batch,
            # from the start of the request in progress.
            base = data if self.pending is None else bytes(self.pending + data)
            self.reader = hiredis.Reader()
            self.pending = None
            self._process_slow(base, python_first=True, python_only=True)
            return
        reader = self.reader
        gets, has_data = reader.gets, reader.has_data
        if self.pending is None:
            base = data
        else:
            self.pending += data
            base = self.pending
        reader.feed(data)
        done: list[list[bytes]] = []
        srv = self.server
        push = self.out.append
        at_boundary = False
        plain = self.plain()
        resp3 = self.resp3
        hot = _BY_SPELLING_SIMPLE.get  # the commands of the hot path, by spelling
        blocking = srv.blocking
        slow_ns = srv.slowlog_threshold_ns
        hot_argv = None
        # Commandstats and the slowlog time each command: one clock read per
        # command, ending one command's span and starting the next one's (a
        # span takes in the parsing of its request, not the work after the
        # previous command, which restarts the clock).
        t0 = perf_counter_ns()
        try:
            while True:
                argv = gets()
                if argv is False:
                    break
                if argv.__class__ is not list:  # '$...' or another non-array type
                    raise hiredis.ProtocolError
                for a in argv:
                    if a.__class__ is not bytes:
                        raise hiredis.ProtocolError
                done.append(argv)
                n = len(argv)
                if not n:
                    continue
                cmd = hot(argv[0]) if plain else None
                if cmd is not None and (n == cmd.arity or n >= cmd.min_argc):
                    # The hot path: a plain client (see plain()) running a data
                    # command that cannot change its state, so dispatch's
                    # checks all pass; this is call() inlined, sharing
                    # after_call().
                    dirty = srv.dirty
                    self.propagate_as = None
                    self.cmd = cmd  # error texts name it
                    try:
                        r = cmd.handler(self, argv)
                    except CommandError as e:
                        r = e
                    t1 = perf_counter_ns()
                    dt = t1 - t0
                    t0 = t1
                    cmd.calls += 1
                    cmd.usec += dt
                    rc = r.__class__
                    if rc is bytes:  # resp.encode's commonest cases, inlined
                        n = len(r)
                        push(_BULK_HEAD[n] if n < 1024 else b"$%d\r\n" % n)
                        push(r)
                        push(b"\r\n")
                    elif r is OK:
                        push(_OK_LINE)
                    elif rc is int:
                        push(SMALL_INTS[r + 1] if -1 <= r <= 10000 else b":%d\r\n" % r)
                    else:
                        if rc is CommandError:
                            cmd.failed_calls += 1
                            srv.count_error(r)
                        push(encode(r, resp3))
                        t0 = perf_counter_ns()  # a long encoding is not the next one's
                    if (dt >= slow_ns or srv.monitors
                            or (srv.dirty != dirty and srv.propagation_consumers)):
                        self.last_argv = argv
                        after_call(self, cmd, argv, dt, dirty)
                        t0 = perf_counter_ns()
                    if blocking.ready:
                        blocking.handle_ready()
                        t0 = perf_counter_ns()
                    hot_argv = argv
                else:
                    hot_argv = None
                    self.last_argv = argv
                    if (self.blocked is None and not self.queued_argv and not srv.pause_until
                            and not self.reply_mode):
                        r = dispatch(self, argv)
                        if blocking.ready:
                            blocking.handle_ready()
                        if r is not NOREPLY:
                            push(encode(r, self.resp3))
                    else:
                        self.execute(argv)
                    if self.closed or self.close_after_reply:
                        return  # QUIT, CLIENT KILL of itself: what follows is not run
                    # The command may have changed the client's state or the config.
                    plain = self.plain()
                    resp3 = self.resp3
                    slow_ns = srv.slowlog_threshold_ns
                    t0 = perf_counter_ns()
                if not has_data():  # this request ended the input: no partial one
                    at_boundary = True
                    break
        except (hiredis.ProtocolError, MemoryError):
            hot_argv = None  # the Python parser runs what follows: its last_argv stands
            # Hand the rest (from the request hiredis could not take) to the
            # Python parser, which gives Redis's verdict on it.
            consumed = sum(protocol.request_size(a) for a in done)
            self.reader = hiredis.Reader()
            self.pending = None
            self._process_slow(bytes(base[consumed:]), python_first=True)
            return
        finally:
            if hot_argv is not None:  # what CLIENT LIST shows of this client
                self.last_argv = hot_argv
        if at_boundary:
            self.pending = None
        else:
            consumed = sum(protocol.request_size(a) for a in done) if done else 0
            if self.pending is None:
                self.pending = bytearray(base[consumed:])
            elif consumed:
                del self.pending[:consumed]
            if self.pending:
                self._check_partial()
            else:  # ended with an empty request ("*0"), skipped above
                self.pending = None

    def _check_partial(self) -> None:
        """Validate the header of the request that is still arriving."""
        buf = self.pending
        if len(buf) > self.server.config.client_query_buffer_limit:
            self.server.log_verbose("closing client that reached max query buffer length")
            self.close()
            return
        if buf[0] != 42:
            # Not a multibulk request: Redis reads it as an inline command
            # ("$0\r\n" after a complete request), which hiredis would hold as
            # an unfinished bulk string. The exact parser takes it from here.
            self.pending = None
            self.reader = hiredis.Reader()
            self._process_slow(bytes(buf), python_first=True)
            return
        try:
            protocol.parse_request(buf, 0, self.server.proto_limits(self))
        except protocol.ProtocolError as e:
            self.protocol_error(e)

    def _process_slow(self, buf: bytes | bytearray, python_first: bool = False,
                      python_only: bool = False) -> None:
        # python_first: hiredis refused the first request, so this parser must
        # take it (else the two would hand it back and forth); python_only:
        # every request of buf.
        limits = self.server.proto_limits(self)
        pos, n = 0, len(buf)
        while pos < n:
            if buf[pos] == 42 and not python_only and not (python_first and pos == 0):
                # Back to hiredis for multibulk input.
                self._process_fast(bytes(buf[pos:]))
                return
            try:
                argv, newpos = protocol.parse_request(buf, pos, limits)
            except protocol.ProtocolError as e:
                self.protocol_error(e)
                return
            if argv is None:
                self.pending = bytearray(buf[pos:])
                self.slow_owned = True
                return
            pos = newpos
            if argv:
                self.execute(argv)
                if self.closed or self.close_after_reply:
                    return
                limits = self.server.proto_limits(self)

    def protocol_error(self, e: protocol.ProtocolError) -> None:
        self.server.count_error_text("ERR")
        self.out.append(encode_error_line(e.reply))
        if self.server.config.loglevel in ("debug", "verbose"):  # describe() is not free
            self.server.log_verbose(f"Protocol error ({e.what}) from client: {self.describe()}")
        self.close_after_reply = True
        self.flush()

    # -- running commands ---------------------------------------------------

    def execute(self, argv: list[bytes]) -> None:
        """Run one request now, or queue it while the client is blocked/paused."""
        if self.blocked is not None or self.queued_argv or self.server.pause_holds(self, argv):
            self.queued_argv.append(argv)
            return
        self.last_argv = argv
        r = dispatch(self, argv)
        if self.server.blocking.ready:
            self.server.blocking.handle_ready()
        if r is NOREPLY:
            return
        mode = self.reply_mode
        if mode == REPLY_ON:
            self.out.append(encode(r, self.resp3))
        elif mode == REPLY_SKIP:
            self.reply_mode = REPLY_ON

    def run_queued(self) -> None:
        """Serve commands that arrived while blocked or paused, in order."""
        q = self.queued_argv
        while q and self.blocked is None and not self.closed and not self.close_after_reply:
            argv = q[0]
            if self.server.pause_holds(self, argv):
                break
            q.popleft()
            self.last_argv = argv
            r = dispatch(self, argv)
            if self.server.blocking.ready:
                self.server.blocking.handle_ready()
            if r is not NOREPLY:
                if self.reply_mode == REPLY_ON:
                    self.out.append(encode(r, self.resp3))
                elif self.reply_mode == REPLY_SKIP:
                    self.reply_mode = REPLY_ON
        self.flush()

    # -- output -------------------------------------------------------------

    def write_reply(self, r: object) -> None:
        """Queue an asynchronous reply (blocked-client wakeups, pushes)."""
        self.out.append(encode(r, self.resp3))

    def flush(self) -> None:
        out = self.out
        if self.deferred_pushes is not None:
            out += self.deferred_pushes
            self.deferred_pushes = None
        if out and self.transport is not None:
            data = out[0] if len(out) == 1 else b"".join(out)
            out.clear()
            self.net_out += len(data)
            t = self.transport
            t.write(data)
            if t.get_write_buffer_size():
                self.server.check_output_limits(self)
            elif self.obuf_soft_since is not None:
                self.obuf_soft_since = None
        elif out:
            out.clear()
        if self.close_after_reply and not self.closed:
            self.close()

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        if self.transport is not None:
            self.transport.close()
        self.server.unlink_client(self)

    # -- introspection --------------------------------------------------------

    def describe(self) -> str:
        """The line CLIENT LIST / CLIENT INFO prints for this client."""
        return self.server.describe_client(self)


PROTECTED_MODE_DENIED = (
    b"-DENIED Redis is running in protected mode because protected mode is enabled and no "
    b"password is set for the default user. In this mode connections are only accepted from "
    b"the loopback interface. If you want to connect from external computers to Redis you may "
    b"adopt one of the following solutions: 1) Just disable protected mode sending the command "
    b"'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from "
    b"the same host the server is running, however MAKE SURE Redis is not publicly accessible "
    b"from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) "
    b"Alternatively you can just disable the protected mode by editing the Redis configuration "
    b"file, and setting the protected mode option to 'no', and then restarting the server. 3) "
    b"If you started the server manually just for testing, restart it with the "
    b"'--protected-mode no' option. 4) Setup a an authentication password for the default "
    b"user. NOTE: You only need to do one of the above things in order for the server to start "
    b"accepting connections from the outside.\r\n")


def _is_loopback(addr: str) -> bool:
    """Redis's islocalClient test of an address: exactly 127.0.0.1 or ::1."""
    return addr.rsplit(":", 1)[0].strip("[]") in ("127.0.0.1", "::1")


def encode_error_line(msg: str) -> bytes:
    # latin-1: a protocol error quotes a raw byte of the request ("got '\xff'").
    return b"-%s\r\n" % msg.encode("latin-1")


def _fmt_addr(a) -> str:
    """host:port, with IPv6 hosts in brackets, as Redis's anetFormatAddr."""
    if a is None:
        return ""
    host, port = a[0], a[1]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
