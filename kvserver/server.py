"""The server: databases, clients, clock, cron, propagation, and the listeners.

One process, one thread running commands, an asyncio event loop (uvloop when
available) for I/O. `Server.start()` binds the listeners; `serve_forever()`
runs until SHUTDOWN or a signal.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from kvserver import REDIS_COMPAT_VERSION, __version__, access
from kvserver.blocking import Blocking
from kvserver.config import Config
from kvserver.errors import CommandError
from kvserver.keyspace import Database
from kvserver.protocol import Limits
from kvserver.pubsub import PubSub
from kvserver.slowlog import SlowLog
from kvserver.tracking import Tracking

if TYPE_CHECKING:
    from kvserver.connection import Client

log = logging.getLogger("kvserver")


class Stats:
    """Counters INFO reports; CONFIG RESETSTAT zeroes them."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.total_connections_received = 0
        self.rejected_connections = 0
        self.expired_keys = 0
        self.expired_stale_perc = 0.0
        self.expired_time_cap_reached_count = 0
        self.evicted_keys = 0
        self.evicted_clients = 0
        self.keyspace_hits = 0
        self.keyspace_misses = 0
        self.total_error_replies = 0
        self.errorstats: dict[str, int] = {}
        self.client_qbuf_limit_disconnections = 0
        self.client_outbuf_limit_disconnections = 0
        self.unexpected_error_replies = 0
        self.dump_payload_sanitizations = 0
        self.total_reads_processed = 0
        self.total_writes_processed = 0
        self.io_threaded_reads_processed = 0
        self.io_threaded_writes_processed = 0
        self.net_input_bytes_closed = 0
        self.net_output_bytes_closed = 0


class Server:
    def __init__(self, config: Config | None = None, *, ephemeral_port: bool = False) -> None:
        self.config = config or Config()
        # ephemeral_port: with port 0, let the OS pick a free port (the test
        # double); plain port 0 means no TCP listener, as in Redis.
        self.ephemeral_port = ephemeral_port
        self.stats = Stats()
        self.dbs = [Database(self, i) for i in range(self.config.databases)]
        self.touch_suspended = False  # see suspend_touch
        self.lru_clock = 0
        self._access_kind: str | None = "unset"  # see refresh_access_clock
        self.clients: dict[int, Client] = {}
        self._next_id = 0
        self.dirty = 0
        self.start_time = time.time()
        self.start_monotonic = time.monotonic()
        self.run_id = os.urandom(20).hex()
        self.lastsave = int(time.time())  # LASTSAVE: the last successful save (or start)
        # The clock: now_ms() is the only time source for TTLs. The test double
        # moves it forward (advance_time); scripts and EXEC freeze it.
        self.clock_offset_ms = 0
        self.frozen_ms: int | None = None
        self.active_expire_enabled = True
        self.cron_paused = False  # DEBUG PAUSE-CRON: the cron does no work
        self.is_replica = False
        self.monitors: list[Client] = []
        self.slowlog = SlowLog(self.config.slowlog_max_len)
        self.slowlog_threshold_ns = _slowlog_threshold_ns(self.config.slowlog_log_slower_than)
        self.blocking = Blocking(self)
        # Propagation consumers (AOF, replicas, transaction log): each is a
        # callable(db_index, argv). See propagate().
        self.propagation_consumers: list[Callable[[int, list[bytes]], None]] = []
        self._prop_block: list[tuple[int, list[bytes]]] | None = None
        self._prop_depth = 0
        self.pubsub = PubSub(self)
        self.tracking = Tracking(self)
        # Clients over their soft output limit: the cron enforces its duration.
        self.obuf_soft_clients: dict[Client, None] = {}
        self._to_flush: dict[Client, None] = {}  # see flush_later
        self.pause_until = 0.0
        self.pause_all = False
        self._pause_timer: asyncio.TimerHandle | None = None
        self.listeners: list[asyncio.base_events.Server] = []
        self.loop: asyncio.AbstractEventLoop | None = None
        self._cron_handle: asyncio.TimerHandle | None = None
        self.cronloops = 0
        self.ops_samples: list[tuple[float, int]] = []
        self._stopped: asyncio.Future | None = None
        self.port = 0
        self.config.on_change(self._config_changed)
        self.refresh_access_clock()
        self._limits_auth = Limits(self.config.proto_max_bulk_len, True)
        self._limits_unauth = Limits(self.config.proto_max_bulk_len, False)
        self.logger = log
        self.internal_client: Client | None = None

    # -- clock ----------------------------------------------------------------

    def now_ms(self) -> int:
        f = self.frozen_ms
        if f is not None:
            return f
        return int(time.time() * 1000) + self.clock_offset_ms

    def advance_time(self, seconds: float) -> None:
        """Move the server clock forward (the test double's API)."""
        self.clock_offset_ms += int(seconds * 1000)
        self.refresh_access_clock()

    def wall_ms(self) -> int:
        """The server clock as it runs, even while a script or EXEC freezes
        now_ms(): Redis's LRU/LFU clocks come from its cron, not the command."""
        return int(time.time() * 1000) + self.clock_offset_ms

    # -- access times (kvserver.access) -----------------------------------------

    def refresh_access_clock(self) -> None:
        """Set what the databases stamp on an access and on a new key: the
        LRU clock, refreshed by the cron as Redis's server.lruclock is (an
        access stamps a clock at most 1/hz old), or LFU counting; nothing
        unless the maxmemory-policy ranks keys by access (kvserver.access)."""
        cfg = self.config
        now = self.wall_ms()
        clock = access.lru_clock(now)
        minutes = access.lfu_minutes(now)
        self.lru_clock = clock
        tracking = cfg.maxmemory_policy in access.TRACKING_POLICIES
        lfu = cfg.maxmemory_policy in access.LFU_POLICIES
        touching = tracking and not self.touch_suspended
        kind = ("lfu" if lfu else "lru") if tracking else None
        switched = kind != self._access_kind
        self._access_kind = kind
        for db in self.dbs:
            if switched:
                if not tracking:
                    db.access = {}  # the policy no longer needs them: free the memory
                # Keys without a field yet count as accessed now.
                db.untracked_field = (access.lfu_field(minutes, access.LFU_INIT_VAL)
                                      if lfu else clock)
            db.tracking = tracking
            # What an LFU touch needs, cached as Redis caches server.unixtime.
            db.lfu_minutes = minutes
            db.lfu_decay_time = cfg.lfu_decay_time
            db.lfu_log_factor = cfg.lfu_log_factor
            db.new_stamp = clock if tracking and not lfu else None
            db.stamp = clock if touching and not lfu else None
            db.lfu_touch = lfu and touching

    def suspend_touch(self, suspended: bool) -> bool:
        """While suspended, look-ups leave access times alone (a CLIENT
        NO-TOUCH client's command runs). Returns the previous state, for the
        caller to put back."""
        prev = self.touch_suspended
        if suspended != prev:
            self.touch_suspended = suspended
            self.refresh_access_clock()
        return prev

    # -- clients ----------------------------------------------------------------

    def next_client_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def unlink_client(self, c: Client) -> None:
        if self.clients.pop(c.id, None) is None and not c.is_internal:
            return
        self.stats.net_input_bytes_closed += c.net_in
        self.stats.net_output_bytes_closed += c.net_out
        if c.blocked is not None:
            self.blocking.disconnect(c)
        from kvserver.commands.multi import unwatch_all

        unwatch_all(c)
        if c.is_monitor and c in self.monitors:
            self.monitors.remove(c)
        for hook in self.client_close_hooks:
            hook(c)

    client_close_hooks: list[Callable[[Client], None]] = []

    def proto_limits(self, c: Client) -> Limits:
        return self._limits_auth if c.authenticated else self._limits_unauth

    def set_keepalive(self, sock: socket.socket) -> None:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
            interval = self.config.tcp_keepalive
            if hasattr(socket, "TCP_KEEPIDLE"):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, interval)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, max(1, interval // 3))
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, 3)
        except OSError:
            pass

    def check_output_limits(self, c: Client) -> None:
        """client-output-buffer-limit: disconnect a client whose unsent output
        passes the hard limit (or the soft limit for too long) of its class."""
        t = c.transport
        if t is None:
            return
        size = t.get_write_buffer_size()
        if not size:
            c.obuf_soft_since = None
            return
        cls = "pubsub" if c.subscriptions else "normal"
        hard, soft, secs = self.config.client_output_buffer_limit[cls]
        now = time.monotonic()
        over = hard and size >= hard
        if not over and soft and size >= soft:
            since = getattr(c, "obuf_soft_since", None)
            if since is None:
                c.obuf_soft_since = now
                self.obuf_soft_clients[c] = None
            elif now - since >= secs:
                over = True
        elif soft:
            c.obuf_soft_since = None
        if over:
            self.stats.client_outbuf_limit_disconnections += 1
            self.log_warning(f"Client {c.describe()} scheduled to be closed ASAP for "
                             f"overcoming of output buffer limits.")
            t.abort()
            c.closed = True
            self.unlink_client(c)

    def describe_client(self, c: Client) -> str:
        from kvserver.commands.client import client_info_line

        return client_info_line(c)

    # -- pause (CLIENT PAUSE) -------------------------------------------------

    def clients_paused(self) -> bool:
        """A CLIENT PAUSE is in effect: the dataset stays as it is (no expiry;
        Redis does not evict either)."""
        return bool(self.pause_until) and time.monotonic() < self.pause_until

    def pause_holds(self, c: Client, argv: list[bytes]) -> bool:
        """True if CLIENT PAUSE holds this command back now."""
        if not self.pause_until:
            return False
        if time.monotonic() >= self.pause_until:
            self.unpause()
            return False
        if c.is_internal or c.is_replica_link:
            return False
        if self.pause_all:
            return True
        from kvserver.dispatch import lookup_command
        from kvserver.table import CommandSpec

        cmd = lookup_command(argv)
        if cmd.__class__ is not CommandSpec:
            return False
        if c.mstate is not None and cmd.name not in ("exec",):
            return False  # queued inside MULTI: judged at EXEC
        if cmd.name == "exec" and c.mstate is not None:
            return any(_may_write(c, q, qargv) for q, qargv in c.mstate)
        return _may_write(c, cmd, argv)

    def pause(self, seconds: float, all_commands: bool) -> None:
        until = time.monotonic() + seconds
        # A second PAUSE may extend the pause or widen it from WRITE to ALL.
        if self.pause_until and time.monotonic() < self.pause_until:
            until = max(until, self.pause_until)
            all_commands = all_commands or self.pause_all
        self.pause_until = until
        self.pause_all = all_commands
        if self._pause_timer is not None:
            self._pause_timer.cancel()
        loop = asyncio.get_running_loop()
        self._pause_timer = loop.call_at(loop.time() + (until - time.monotonic()), self.unpause)

    def unpause(self) -> None:
        self.pause_until = 0.0
        self.pause_all = False
        if self._pause_timer is not None:
            self._pause_timer.cancel()
            self._pause_timer = None
        for c in list(self.clients.values()):
            if c.queued_argv and c.blocked is None:
                c.run_queued()

    # -- errors and statistics --------------------------------------------------

    def count_error(self, e: CommandError) -> None:
        self.count_error_text(e.code)

    def count_error_text(self, code: str) -> None:
        st = self.stats
        st.total_error_replies += 1
        es = st.errorstats
        if code in es:
            es[code] += 1
        elif len(es) < 128:  # Redis stops tracking new codes past 128
            es[code] = 1

    def feed_monitors(self, c: Client, argv: list[bytes]) -> None:
        from kvserver.commands.server_cmds import monitor_line

        line = monitor_line(c, argv)
        for m in list(self.monitors):
            if not m.closed:
                m.out.append(line)
                self.flush_later(m)

    # -- output ------------------------------------------------------------------

    def flush_later(self, c: Client) -> None:
        """Write c's replies once this event-loop pass has read every ready
        socket, as Redis does before it sleeps. Writing as each read is served
        makes every write wake the peer (an inter-processor interrupt, costly
        in a VM); written in one burst, most find their reader already awake.
        Measured: +15% pipelined throughput. Without a loop (a server driven
        directly) the write is immediate."""
        todo = self._to_flush
        if not todo:
            if self.loop is None:
                c.flush()
                return
            self.loop.call_soon(self.flush_pending)
        todo[c] = None

    def flush_pending(self, hold: Client | None = None) -> None:
        """Write what flush_later set aside. A busy script's poll calls this
        while the loop is held, with `hold` the script's caller, which hears
        nothing before its reply (its write waits for the scheduled pass)."""
        todo = self._to_flush
        self._to_flush = {}
        for c in todo:
            if c is hold:
                self._to_flush[c] = None
            elif not c.closed:
                c.flush()

    # -- propagation -------------------------------------------------------------

    def propagate(self, dbid: int, argv: list[bytes]) -> None:
        """Hand the effect of a write to every consumer (AOF, replicas, txlog).

        Inside MULTI/EXEC or a script, the effects are collected and handed over
        as one MULTI ... EXEC block when the outermost block ends.
        """
        if not self.propagation_consumers:
            return
        if self._prop_block is not None:
            self._prop_block.append((dbid, argv))
            return
        for consumer in self.propagation_consumers:
            consumer(dbid, argv)

    def begin_propagation_block(self) -> None:
        self._prop_depth += 1
        if self._prop_depth == 1:
            self._prop_block = []

    def end_propagation_block(self) -> None:
        self._prop_depth -= 1
        if self._prop_depth:
            return
        block, self._prop_block = self._prop_block, None
        if not block:
            return
        if len(block) == 1:
            self.propagate(*block[0])
            return
        first_db = block[0][0]
        self.propagate(first_db, [b"MULTI"])
        for dbid, argv in block:
            self.propagate(dbid, argv)
        self.propagate(block[-1][0], [b"EXEC"])

    def notify_keyspace_event(self, cls: str, event: str, key: bytes, dbid: int) -> None:
        """Publish a keyspace notification when notify-keyspace-events enables
        its class. kvserver.notify installs the publisher while any class is
        on, so that callers can skip building an event when it is None."""
        pub = self.keyspace_publisher
        if pub is not None:
            pub(cls, event, key, dbid)

    keyspace_publisher: Callable[[str, str, bytes, int], None] | None = None

    # -- configuration -------------------------------------------------------

    def _config_changed(self, name: str) -> None:
        cfg = self.config
        if name == "slowlog-log-slower-than":
            self.slowlog_threshold_ns = _slowlog_threshold_ns(cfg.slowlog_log_slower_than)
        elif name == "slowlog-max-len":
            self.slowlog.max_len = cfg.slowlog_max_len
            while len(self.slowlog.entries) > cfg.slowlog_max_len:
                self.slowlog.entries.pop()
        elif name == "proto-max-bulk-len":
            self._limits_auth.proto_max_bulk_len = cfg.proto_max_bulk_len
            self._limits_unauth.proto_max_bulk_len = cfg.proto_max_bulk_len
        elif name in ("maxmemory-policy", "lfu-log-factor", "lfu-decay-time"):
            self.refresh_access_clock()
        elif name == "requirepass":
            pass  # existing connections stay authenticated, as in Redis
        elif name in ("port", "bind") and self.loop is not None:
            from kvserver.config import ConfigError

            try:
                self._rebind_sync()
            except OSError as e:
                raise ConfigError(f"Unable to listen on this port: {e}") from None

    def _rebind_sync(self) -> None:
        """CONFIG SET port/bind: open the new listeners before closing the old."""
        old = self.listeners
        socks = self._open_sockets()
        self.listeners = []
        for s in socks:
            self.loop.create_task(self._serve_socket(s))
        for srv in old:
            srv.close()

    # -- logging ---------------------------------------------------------------

    def log_verbose(self, msg: str) -> None:
        if self.config.loglevel in ("debug", "verbose"):
            self.logger.info(msg)

    def log_notice(self, msg: str) -> None:
        if self.config.loglevel in ("debug", "verbose", "notice"):
            self.logger.info(msg)

    def log_warning(self, msg: str) -> None:
        if self.config.loglevel != "nothing":
            self.logger.warning(msg)

    # -- listening --------------------------------------------------------------

    def _open_sockets(self) -> list[socket.socket]:
        cfg = self.config
        socks = []
        if cfg.port or self.ephemeral_port:
            for addr in cfg.bind:
                optional = addr.startswith("-")
                host = addr[1:] if optional else addr
                if host == "*":
                    host = "0.0.0.0"
                elif host == "::*":
                    host = "::"
                fam = socket.AF_INET6 if ":" in host else socket.AF_INET
                s = socket.socket(fam, socket.SOCK_STREAM)
                try:
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                    if fam == socket.AF_INET6:
                        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                    s.bind((host, cfg.port))
                    s.listen(cfg.tcp_backlog)
                    s.setblocking(False)
                except OSError:
                    s.close()
                    if optional:
                        continue
                    raise
                socks.append(s)
                if cfg.port == 0:
                    break
        if socks:  # the port in use (the OS's pick for an ephemeral port)
            self.port = socks[0].getsockname()[1]
        return socks

    async def _serve_socket(self, s: socket.socket) -> None:
        from kvserver.connection import Client

        srv = await self.loop.create_server(lambda: Client(self), sock=s,
                                            backlog=self.config.tcp_backlog)
        self.listeners.append(srv)

    async def start(self) -> None:
        """Bind every listener and start the cron. Raises OSError if a
        required address is busy."""
        from kvserver.connection import Client

        self.loop = asyncio.get_running_loop()
        self._stopped = self.loop.create_future()
        cfg = self.config
        # port 0: the OS picks a free port (the test double's mode); we then
        # listen on the first bind address only, and self.port tells which.
        for s in self._open_sockets():
            await self._serve_socket(s)
        if cfg.unixsocket:
            try:
                os.unlink(cfg.unixsocket)
            except FileNotFoundError:
                pass
            srv = await self.loop.create_unix_server(lambda: Client(self), cfg.unixsocket,
                                                     backlog=cfg.tcp_backlog)
            if cfg.unixsocketperm:
                os.chmod(cfg.unixsocket, cfg.unixsocketperm)
            self.listeners.append(srv)
        if not self.listeners:
            raise OSError("no address to listen on (port 0 and no unixsocket)")
        self._schedule_cron()
        for hook in self.start_hooks:
            hook(self)

    start_hooks: list[Callable[[Server], None]] = []

    async def serve_forever(self) -> None:
        assert self._stopped is not None
        await self._stopped

    def request_shutdown(self) -> None:
        """Stop serving (SHUTDOWN, SIGTERM): close listeners and clients."""
        if self._stopped is not None and not self._stopped.done():
            self._stopped.set_result(None)

    async def close(self) -> None:
        if self._cron_handle is not None:
            self._cron_handle.cancel()
            self._cron_handle = None
        for srv in self.listeners:
            srv.close()
        for c in list(self.clients.values()):
            c.flush()
            c.close()
        for srv in self.listeners:
            try:
                await asyncio.wait_for(srv.wait_closed(), 1.0)
            except (TimeoutError, Exception):
                pass
        self.listeners = []
        if self.config.unixsocket:
            try:
                os.unlink(self.config.unixsocket)
            except OSError:
                pass
        for hook in self.shutdown_hooks:
            hook(self)

    shutdown_hooks: list[Callable[[Server], None]] = []

    # -- cron -------------------------------------------------------------------

    def _schedule_cron(self) -> None:
        assert self.loop is not None
        self._cron_handle = self.loop.call_later(1.0 / self.config.hz, self.cron)

    def cron(self) -> None:
        """serverCron: active expiry, idle timeouts, ops/sec sampling."""
        if self.cron_paused:
            self._schedule_cron()
            return
        self.cronloops += 1
        try:
            self.refresh_access_clock()
            # While clients are paused the dataset stays as it is (Redis 7.0).
            if self.active_expire_enabled and not self.is_replica and not self.clients_paused():
                self.active_expire_cycle()
            if self.cronloops % max(1, self.config.hz // 10) == 0:
                self._sample_ops()
            if self.config.timeout and self.cronloops % self.config.hz == 0:
                self._close_idle_clients()
            if self.obuf_soft_clients:
                self._check_soft_output_limits()
        finally:
            if self.loop is not None and self._stopped is not None and not self._stopped.done():
                self._schedule_cron()

    def active_expire_cycle(self) -> None:
        """Reclaim expired keys, spending at most ~25% of a cron period
        (ACTIVE_EXPIRE_CYCLE_SLOW_TIME_PERC), more with active-expire-effort."""
        period = 1.0 / self.config.hz
        effort = self.config.active_expire_effort - 1
        budget = period * (0.25 + 0.02 * effort)
        clock = time.perf_counter
        deadline = clock() + budget
        now = self.now_ms()
        for db in self.dbs:
            if db.expires:
                db.active_expire(now, deadline, clock)
                if clock() >= deadline:
                    if db.expired_backlog(now):
                        self.stats.expired_time_cap_reached_count += 1
                    break

    def _sample_ops(self) -> None:
        now = time.monotonic()
        self.ops_samples.append((now, self.total_commands_processed()))
        if len(self.ops_samples) > 16:
            del self.ops_samples[0]

    def total_commands_processed(self) -> int:
        """Commands run since start or CONFIG RESETSTAT: the sum of the
        per-command counters (counting twice on the hot path would cost)."""
        from kvserver.table import all_commands

        return sum(spec.calls for spec in all_commands())

    def instantaneous_ops(self) -> int:
        s = self.ops_samples
        if len(s) < 2 or s[-1][0] == s[0][0]:
            return 0
        return int((s[-1][1] - s[0][1]) / (s[-1][0] - s[0][0]))

    def _check_soft_output_limits(self) -> None:
        """A client over its soft limit that receives nothing more is still
        closed once the limit's seconds have passed."""
        for c in list(self.obuf_soft_clients):
            if not c.closed and c.obuf_soft_since is not None:
                self.check_output_limits(c)
            if c.closed or c.obuf_soft_since is None:
                self.obuf_soft_clients.pop(c, None)

    def _close_idle_clients(self) -> None:
        limit = self.config.timeout
        now = time.monotonic()
        for c in list(self.clients.values()):
            if (c.blocked is None and not c.subscriptions and not c.is_monitor
                    and not c.is_replica_link and now - c.last_interaction > limit):
                self.log_verbose("Closing idle client")
                c.close()


def _slowlog_threshold_ns(usec: int) -> float:
    """slowlog-log-slower-than in ns; a negative value disables the slow log."""
    return float("inf") if usec < 0 else usec * 1000


_PAUSE_WRITE_LIKE = frozenset(("publish", "spublish", "pfcount", "wait"))
_SCRIPT_RUNNERS = frozenset(("eval", "evalsha", "eval_ro", "evalsha_ro", "fcall", "fcall_ro"))


def _may_write(c: Client, cmd, argv: list[bytes]) -> bool:
    """Write or may replicate: what CLIENT PAUSE WRITE holds back (Redis's
    getCommandFlags, scripts judged by their own flags)."""
    if cmd.name in _SCRIPT_RUNNERS:
        from kvserver.commands.scripting import script_may_write

        return script_may_write(c, cmd, argv)
    return cmd.is_write or cmd.name in _PAUSE_WRITE_LIKE


def startup_banner(server: Server) -> str:
    addrs = ", ".join(server.config.bind) if server.config.port else "-"
    sock = f", unixsocket {server.config.unixsocket}" if server.config.unixsocket else ""
    return (f"kvserver {__version__} (Redis {REDIS_COMPAT_VERSION} compatible) "
            f"port={server.port} pid={os.getpid()} bind={addrs}{sock} "
            f"python={sys.version.split()[0]}; ready to accept connections")
