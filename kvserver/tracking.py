"""Client-side caching: key tracking and invalidation, as Redis's tracking.c.

Default mode. After a read-only command of a client with tracking on (and,
in OPTIN/OPTOUT mode, the right CLIENT CACHING), the command's keys are
remembered in `table` (key -> ids of the clients that may cache it). When a
key is modified (Database.signal_modified) its entry is removed and each
client still tracking is sent an invalidation: a RESP3 push `invalidate
[key]`, or, with REDIRECT to a client, to that client: a push if it speaks
RESP3, a message on `__redis__:invalidate` if it is in RESP2 pub/sub mode,
nothing otherwise. As in Redis, ids stay in the table when a client stops
tracking (they are skipped when met, never searched for), keys are global to
all databases, and a FLUSHDB/FLUSHALL sends every tracking client a null
("everything") and empties the whole table.

BCAST mode. Nothing is remembered per client: each modified key is noted in
the state of every registered prefix it starts with, and once the current
event-loop pass ends (Redis: beforeSleep) each prefix's subscribers get one
message with the sorted keys (without those they changed themselves, with
NOLOOP).

Order. An invalidation for a client in the middle of a command (the one
running it, `current`, or one being served after blocking) follows that
command's reply: it waits in `Client.deferred_pushes`, which the client's next
command (begin_call) or Client.flush moves after the replies. Any other
client gets it at once. dispatch.call sets `current` for tracking clients
only (NOLOOP compares with it; no other client can be a tracking target).

`tracking-table-max-keys`: past the limit, keys are dropped from the table
(oldest first) and their clients invalidated as if the keys had changed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kvserver.connection import Client
    from kvserver.server import Server
    from kvserver.table import CommandSpec

# Script commands: the keys they declare are tracked when the script reads.
_SCRIPT_COMMANDS = frozenset(("eval", "evalsha", "eval_ro", "evalsha_ro", "fcall", "fcall_ro"))
_INVALIDATE3 = b">2\r\n$10\r\ninvalidate\r\n"
_INVALIDATE2 = b"*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n"
CHANNEL = b"__redis__:invalidate"


class TrackingState:
    """One client's tracking options (c.tracking; None when tracking is off).
    CLIENT TRACKINGINFO and CLIENT LIST read these names."""

    __slots__ = ("redirect", "bcast", "optin", "optout", "caching", "noloop",
                 "broken_redirect", "prefixes")

    def __init__(self) -> None:
        self.redirect = 0
        self.bcast = False
        self.optin = False
        self.optout = False
        self.caching = False  # CLIENT CACHING given for the next command
        self.noloop = False
        self.broken_redirect = False
        self.prefixes: set[bytes] = set()


class BcastState:
    __slots__ = ("keys", "clients")

    def __init__(self) -> None:
        self.keys: dict[bytes, Client | None] = {}  # key -> who modified it last
        self.clients: dict[Client, None] = {}


def _bulk(b: bytes) -> bytes:
    return b"$%d\r\n%s\r\n" % (len(b), b)


class Tracking:
    """One server's tracking table, prefix table and counters."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.table: dict[bytes, dict[int, None]] = {}
        self.total_items = 0
        self.prefixes: dict[bytes, BcastState] = {}
        self.clients = 0
        self.current: Client | None = None
        self.expiring = 0  # inside an expired key's deletion (no modifying client)
        self.hooked = False  # the databases call invalidate_key
        self._bcast_scheduled = False
        self._readonly_specs: list[CommandSpec] | None = None
        self._reads_before_script = 0

    # -- enabling and disabling -------------------------------------------------------

    def enable(self, c: Client, redirect: int, bcast: bool, optin: bool, optout: bool,
               noloop: bool, prefixes: list[bytes]) -> None:
        tr = c.tracking
        if tr is None:
            tr = c.tracking = TrackingState()
            self.clients += 1
        # Re-enabling resets the options given before (CACHING excepted).
        tr.redirect = redirect
        tr.broken_redirect = False
        tr.bcast = bcast
        tr.optin = optin
        tr.optout = optout
        tr.noloop = noloop
        if bcast:
            for p in prefixes or [b""]:
                st = self.prefixes.get(p)
                if st is None:
                    st = self.prefixes[p] = BcastState()
                st.clients[c] = None
                tr.prefixes.add(p)
        self._update_hooks()

    def disable(self, c: Client) -> None:
        tr = c.tracking
        if tr is None:
            return
        for p in tr.prefixes:
            st = self.prefixes.get(p)
            if st is not None:
                st.clients.pop(c, None)
                if not st.clients:
                    del self.prefixes[p]
        c.tracking = None
        self.clients -= 1
        if self.current is c:
            self.current = None
        self._update_hooks()

    def _update_hooks(self) -> None:
        want = self.clients > 0 or bool(self.table)
        if want != self.hooked:
            from kvserver.notify import update_db_hooks

            self.hooked = want
            update_db_hooks(self.server)

    # -- around each command of a tracking client (dispatch.call) -------------------------

    def begin_call(self, c: Client, cmd: CommandSpec) -> Client | None:
        d = c.deferred_pushes
        if d is not None and not (c.in_exec or c.in_script):
            # Pushes caused by c's previous command of a pipeline: after its
            # reply, before this command's.
            c.out += d
            c.deferred_pushes = None
        if cmd.name in _SCRIPT_COMMANDS:
            self._reads_before_script = self._read_calls()
        prev = self.current
        self.current = c
        return prev

    def end_call(self, c: Client, cmd: CommandSpec, argv: list[bytes],
                 prev: Client | None) -> None:
        self.current = prev
        tr = c.tracking
        if tr is None:
            return
        if cmd.name in _SCRIPT_COMMANDS:
            # A script's declared keys are remembered if it ran a read command
            # (Redis: trackingRememberKeys(script_caller) from the inner call).
            if not tr.bcast and self._read_calls() != self._reads_before_script:
                self.remember_keys(c, tr, cmd, argv)
        elif cmd.is_readonly and not tr.bcast:
            self.remember_keys(c, tr, cmd, argv)
        # CLIENT CACHING holds for the next command (or transaction) only.
        if tr.caching and not c.in_exec and c.mstate is None and (
                cmd.parent is None or cmd.parent.name != "client"):
            tr.caching = False

    def _read_calls(self) -> int:
        """How many read-only commands ran so far (only asked around the
        scripts of tracking clients)."""
        specs = self._readonly_specs
        if specs is None:
            from kvserver.table import all_commands

            specs = self._readonly_specs = [
                s for s in all_commands() if s.is_readonly and s.name not in _SCRIPT_COMMANDS]
        return sum(s.calls for s in specs)

    def remember_keys(self, c: Client, tr: TrackingState, cmd: CommandSpec,
                      argv: list[bytes]) -> None:
        if (tr.optin and not tr.caching) or (tr.optout and tr.caching):
            return
        if "pubsub" in cmd.flags:  # shard channels are keys only for cluster routing
            return
        positions = cmd.key_positions(argv)
        if not positions:
            return
        table = self.table
        cid = c.id
        for p in positions:
            key = argv[p]
            ids = table.get(key)
            if ids is None:
                table[key] = {cid: None}
                self.total_items += 1
            elif cid not in ids:
                ids[cid] = None
                self.total_items += 1
        if not self.hooked:
            self._update_hooks()
        self.limit_used_slots()

    # -- invalidation ---------------------------------------------------------------------

    def invalidate_key(self, key: bytes, bcast: bool = True) -> None:
        """key changed (or left the table): tell the clients that may cache it."""
        if bcast and self.prefixes:
            self._note_for_bcast(key)
        ids = self.table.pop(key, None)
        if ids is None:
            return
        self.total_items -= len(ids)
        clients = self.server.clients
        cur = self.current
        proto = None
        for cid in ids:
            t = clients.get(cid)
            if t is None:
                continue
            tr = t.tracking
            if tr is None or tr.bcast or (tr.noloop and t is cur):
                continue
            if proto is None:
                proto = b"*1\r\n" + _bulk(key)
            self.send(t, proto)
        if not self.table and not self.clients:
            self._update_hooks()

    def invalidate_all(self) -> None:
        """FLUSHDB / FLUSHALL: a null to every tracking client; the table empties."""
        if self.clients:
            for c in list(self.server.clients.values()):
                if c.tracking is not None:
                    self.send(c, b"_\r\n" if c.resp3 else b"$-1\r\n")
        self.table = {}
        self.total_items = 0
        if not self.clients:
            self._update_hooks()

    def send(self, c: Client, keys_proto: bytes) -> None:
        """sendTrackingMessage: keys_proto (an array of keys, or a null) to c
        or to the client it redirects to."""
        tr = c.tracking
        if tr is not None and tr.redirect:
            dest = self.server.clients.get(tr.redirect)
            if dest is None or dest.closed:
                tr.broken_redirect = True
                if c.resp3:
                    # Tell the tracking client its redirection is gone.
                    self._push(c, b">2\r\n$21\r\ntracking-redir-broken\r\n:%d\r\n"
                               % tr.redirect)
                return
            if dest.resp3:
                self._push(dest, _INVALIDATE3 + keys_proto)
            elif dest.subscriptions:
                self._push(dest, _INVALIDATE2 + keys_proto)
            return
        if c.resp3:
            self._push(c, _INVALIDATE3 + keys_proto)
        # A RESP2 client without redirection cannot be told anything.

    def _push(self, dest: Client, data: bytes) -> None:
        """Send at once, unless dest is in the middle of a command (running
        it, or being served after blocking): then after that command's reply
        (Redis: tracking_pending_keys, sent by afterCommand)."""
        if dest is self.current or dest.blocked is not None:
            self.server.pubsub.defer_push(dest, data)
        else:
            self.server.pubsub.send(dest, data)

    # -- BCAST ------------------------------------------------------------------------------

    def _note_for_bcast(self, key: bytes) -> None:
        modifier = None if self.expiring else self.current
        noted = False
        for prefix, st in self.prefixes.items():
            if key.startswith(prefix):
                st.keys[key] = modifier
                noted = True
        if noted and not self._bcast_scheduled:
            loop = self.server.loop
            if loop is not None:
                self._bcast_scheduled = True
                loop.call_soon(self.broadcast)

    def broadcast(self) -> None:
        """trackingBroadcastInvalidationMessages: each prefix's changed keys,
        once, to each of its clients."""
        self._bcast_scheduled = False
        for st in list(self.prefixes.values()):
            if not st.keys:
                continue
            keys = sorted(st.keys)  # Redis walks a radix tree: byte order
            common = None
            for c in list(st.clients):
                if c.tracking is None:
                    continue
                if c.tracking.noloop:
                    mine = [k for k in keys if st.keys[k] is not c]
                    if mine:
                        self.send(c, _keys_proto(mine))
                else:
                    if common is None:
                        common = _keys_proto(keys)
                    self.send(c, common)
            st.keys = {}

    # -- tracking-table-max-keys --------------------------------------------------------

    def limit_used_slots(self) -> None:
        limit = self.server.config.tracking_table_max_keys
        table = self.table
        if not limit or len(table) <= limit:
            return
        while len(table) > limit:
            key = next(iter(table))
            self.invalidate_key(key, bcast=False)


def _keys_proto(keys: list[bytes]) -> bytes:
    return b"*%d\r\n" % len(keys) + b"".join([_bulk(k) for k in keys])


# -- server hooks -------------------------------------------------------------------------

def client_closed(c: Client) -> None:
    if c.tracking is not None:
        c.server.tracking.disable(c)


def client_reset(c: Client) -> None:
    if c.tracking is not None:
        c.server.tracking.disable(c)


def flushed(srv: Server, dbid: int) -> None:
    srv.tracking.invalidate_all()


def on_start(srv: Server) -> None:
    def changed(name: str) -> None:
        # Applied outside the CONFIG SET command (Redis: by the next command or
        # the cron), so a NOLOOP client setting it still hears of its keys.
        if name == "tracking-table-max-keys" and srv.loop is not None:
            srv.loop.call_soon(srv.tracking.limit_used_slots)

    srv.config.on_change(changed)
