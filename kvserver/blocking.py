"""Blocking commands (BLPOP, BZPOPMIN, BLMOVE, ...): parking and waking clients.

A handler that finds nothing to serve calls `block(...)` and returns NOREPLY.
The client is parked on each of its keys in arrival order; it costs nothing
while it waits (no task, no polling: one timer handle if it has a timeout).
Later commands it sends are queued by the connection (`queued_argv`).

Writes that may serve a parked client call `db.signal_ready(key)` (creating a
key with `db.add` does it too). The ready keys are handled after the current
top-level command completes, as Redis's handleClientsBlockedOnKeys does, so
pushes inside MULTI/EXEC or a script are served after EXEC / the script:
for each ready key, in the order the keys became ready, the clients parked on
it are offered the key in the order they blocked, by calling their `serve`
callback. `serve(client, db, key)` does the pop (and its propagation and
keyspace events) and returns the reply, or None to stay parked (the key is
gone or now holds another type); a CommandError it raises or returns is the
client's reply. Serving stops early once the key no longer exists. A served
client may make another key ready (BLMOVE pushes): handling repeats until no
key is ready.

A served or unblocked client's reply is written at once; the commands it
queued meanwhile run on the next loop iteration (Redis's unblocked_clients,
processed in beforeSleep), never nested inside another client's command.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from time import perf_counter_ns
from typing import TYPE_CHECKING

from kvserver import errors
from kvserver.errors import CommandError
from kvserver.resp import NULL_ARRAY

if TYPE_CHECKING:
    from kvserver.connection import Client
    from kvserver.keyspace import Database
    from kvserver.server import Server

# serve(client, db, key) -> reply or None
ServeFn = Callable[["Client", "Database", bytes], object]

UNBLOCKED_ERROR = "UNBLOCKED client unblocked via CLIENT UNBLOCK"

_LLONG_MAX = 2**63 - 1
# A deadline this far away never fires (Redis's absolute deadline would even
# overflow past LLONG_MAX ms and then never fire either).
_FOREVER_S = 10**9


def parse_timeout(arg: bytes) -> float:
    """A blocking command's timeout argument in seconds (0.0 = block forever).

    Redis (getTimeoutFromObjectOrReply, UNIT_SECONDS) parses a long double
    with strtold, takes ceil(value * 1000) as a long long number of ms, and
    refuses a negative result. So "-0.0001" blocks forever (it rounds to
    0 ms), "inf" and 1e20 are "negative" (the conversion overflows to
    LLONG_MIN), hex floats are accepted. The long double arithmetic is
    emulated exactly, sharing INCRBYFLOAT's implementation.
    """
    if arg.isdigit() and len(arg) <= 12:  # the usual "0", "5", "30"
        return float(int(arg))
    from kvserver.commands.strings import _ld_parse, _ld_round

    v = _ld_parse(arg)
    if v is None:
        raise CommandError(errors.TIMEOUT_NOT_FLOAT)
    if v.__class__ is float:  # +-inf
        raise CommandError(errors.TIMEOUT_NEGATIVE)
    p = _ld_round(v * 1000)
    if p.__class__ is float:
        raise CommandError(errors.TIMEOUT_NEGATIVE)
    ms = math.ceil(p)
    if ms < 0 or ms > _LLONG_MAX:
        raise CommandError(errors.TIMEOUT_NEGATIVE)
    s = ms / 1000
    return 0.0 if s >= _FOREVER_S else s


class BlockState:
    __slots__ = ("db", "keys", "serve", "timeout_reply", "timer", "argv")

    def __init__(self, db: Database, keys: list[bytes], serve: ServeFn,
                 timeout_reply: object, argv: list[bytes]) -> None:
        self.db = db
        self.keys = keys
        self.serve = serve
        self.timeout_reply = timeout_reply
        self.timer: asyncio.TimerHandle | None = None
        self.argv = argv


class Blocking:
    def __init__(self, server: Server) -> None:
        self.server = server
        self.ready: dict[tuple[int, bytes], None] = {}  # ordered set
        self.blocked_count = 0
        self.timeout_count = 0  # INFO clients_in_timeout_table
        self._resume: list[Client] = []
        self._handling = False

    def block(self, c: Client, keys: list[bytes], timeout_s: float, serve: ServeFn,
              timeout_reply: object = NULL_ARRAY) -> None:
        """Park c on keys until serve() gives a reply or timeout_s passes (0 = never)."""
        db = c.db
        st = BlockState(db, list(dict.fromkeys(keys)), serve, timeout_reply, c.last_argv)
        bk = db.blocking_keys
        for k in st.keys:
            lst = bk.get(k)
            if lst is None:
                bk[k] = [c]
            else:
                lst.append(c)
        c.blocked = st
        self.blocked_count += 1
        if 0 < timeout_s < _FOREVER_S:
            loop = asyncio.get_running_loop()
            st.timer = loop.call_later(timeout_s, self.timeout, c)
            self.timeout_count += 1

    def _unpark(self, c: Client) -> BlockState | None:
        st = c.blocked
        if st is None:
            return None
        bk = st.db.blocking_keys
        for k in st.keys:
            lst = bk.get(k)
            if lst is not None:
                try:
                    lst.remove(c)
                except ValueError:
                    pass
                if not lst:
                    del bk[k]
        if st.timer is not None:
            st.timer.cancel()
            st.timer = None
            self.timeout_count -= 1
        c.blocked = None
        self.blocked_count -= 1
        return st

    def _reply(self, c: Client, r: object) -> None:
        if isinstance(r, CommandError):
            self.server.count_error(r)
        c.write_reply(r)
        self.server.flush_later(c)

    def timeout(self, c: Client) -> None:
        """The timer fired (at the top of the event loop: safe to run c's queue)."""
        st = self._unpark(c)
        if st is None or c.closed:
            return
        self._reply(c, st.timeout_reply)
        c.run_queued()

    def unblock(self, c: Client, error: bool) -> bool:
        """CLIENT UNBLOCK: end the wait as a timeout, or with an error.
        False if c is not blocked."""
        st = self._unpark(c)
        if st is None:
            return False
        self._reply(c, CommandError(UNBLOCKED_ERROR) if error else st.timeout_reply)
        self._schedule_resume(c)
        return True

    def disconnect(self, c: Client) -> None:
        self._unpark(c)

    def signal_key_ready(self, db: Database, key: bytes) -> None:
        self.ready[(db.id, key)] = None

    def handle_ready(self) -> None:
        """Serve parked clients on keys that became ready; repeat while new
        keys become ready (a served BLMOVE may push to another watched key)."""
        if self._handling:
            return
        self._handling = True
        srv = self.server
        try:
            while self.ready:
                ready, self.ready = self.ready, {}
                for dbid, key in ready:
                    db = srv.dbs[dbid]
                    waiting = db.blocking_keys.get(key)
                    if not waiting:
                        continue
                    # Redis looks the key up once per round before serving
                    # (an access: LRU/LFU), with neither statistics nor events.
                    db.lookup_write_any(key)
                    for c in list(waiting):
                        st = c.blocked
                        if st is None or st.db is not db:
                            continue
                        prev_db = c.db
                        c.db = db
                        t0 = perf_counter_ns()
                        try:
                            r = st.serve(c, db, key)
                        except CommandError as e:
                            r = e
                        finally:
                            c.db = prev_db
                        if r is None:
                            if db.lookup(key) is None:
                                break
                            continue
                        # The blocked command completes now: the slow log
                        # records it as the client sent it (updateStatsOnUnblock).
                        dt = perf_counter_ns() - t0
                        if dt >= srv.slowlog_threshold_ns:
                            srv.slowlog.add(c, st.argv, dt // 1000)
                        self._unpark(c)
                        self._reply(c, r)
                        self._schedule_resume(c)
                        if key not in db.data:
                            break
        finally:
            self._handling = False

    # -- running what unblocked clients queued meanwhile ----------------------------

    def _schedule_resume(self, c: Client) -> None:
        if not c.queued_argv:
            return
        self._resume.append(c)
        if len(self._resume) == 1:
            try:
                asyncio.get_running_loop().call_soon(self._run_resumed)
            except RuntimeError:  # no loop (direct calls in tests): run now
                self._run_resumed()

    def _run_resumed(self) -> None:
        todo, self._resume = self._resume, []
        for c in todo:
            if not c.closed and c.blocked is None:
                c.run_queued()
