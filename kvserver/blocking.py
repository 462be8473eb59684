"""Blocking commands (BLPOP, BZPOPMIN, BLMOVE, ...): parking and waking clients.

A handler that finds nothing to serve calls `block(...)` and returns NOREPLY.
The client is parked on each of its keys in arrival order; it costs nothing
while it waits (no task, no polling: one timer handle if it has a timeout).
Writes that may serve a parked client call `db.signal_ready(key)`; the ready
keys are handled after the current top-level command completes (so pushes
inside MULTI/EXEC or a script are served after EXEC / the script), by calling
each parked client's `serve` callback in the order the clients blocked. `serve`
returns the reply, or None to stay parked (e.g. the key now holds another
type).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Callable

from kvserver.errors import CommandError
from kvserver.resp import NULL_ARRAY

if TYPE_CHECKING:
    from kvserver.connection import Client
    from kvserver.keyspace import Database
    from kvserver.server import Server

# serve(client, db, key) -> reply or None
ServeFn = Callable[["Client", "Database", bytes], object]


class BlockState:
    __slots__ = ("db", "keys", "serve", "timeout_reply", "timer", "argv")

    def __init__(self, db: "Database", keys: list[bytes], serve: ServeFn,
                 timeout_reply: object, argv: list[bytes]) -> None:
        self.db = db
        self.keys = keys
        self.serve = serve
        self.timeout_reply = timeout_reply
        self.timer: asyncio.TimerHandle | None = None
        self.argv = argv


class Blocking:
    def __init__(self, server: "Server") -> None:
        self.server = server
        self.ready: dict[tuple[int, bytes], None] = {}  # ordered set
        self.blocked_count = 0

    def block(self, c: "Client", keys: list[bytes], timeout_s: float, serve: ServeFn,
              timeout_reply: object = NULL_ARRAY) -> None:
        """Park c on keys until serve() gives a reply or timeout_s passes (0 = never)."""
        db = c.db
        st = BlockState(db, list(dict.fromkeys(keys)), serve, timeout_reply, c.last_argv)
        for k in st.keys:
            db.blocking_keys.setdefault(k, []).append(c)
        c.blocked = st
        self.blocked_count += 1
        if timeout_s > 0:
            loop = asyncio.get_running_loop()
            st.timer = loop.call_later(timeout_s, self.timeout, c)

    def _unpark(self, c: "Client") -> None:
        st = c.blocked
        if st is None:
            return
        for k in st.keys:
            lst = st.db.blocking_keys.get(k)
            if lst is not None:
                try:
                    lst.remove(c)
                except ValueError:
                    pass
                if not lst:
                    del st.db.blocking_keys[k]
        if st.timer is not None:
            st.timer.cancel()
        c.blocked = None
        self.blocked_count -= 1

    def timeout(self, c: "Client") -> None:
        st = c.blocked
        if st is None:
            return
        self._unpark(c)
        c.write_reply(st.timeout_reply)
        c.run_queued()

    def unblock(self, c: "Client", error: bool) -> bool:
        """CLIENT UNBLOCK: end the wait as a timeout, or with an error."""
        st = c.blocked
        if st is None:
            return False
        self._unpark(c)
        if error:
            c.write_reply(CommandError("UNBLOCKED client unblocked via CLIENT UNBLOCK"))
        else:
            c.write_reply(st.timeout_reply)
        c.run_queued()
        return True

    def disconnect(self, c: "Client") -> None:
        self._unpark(c)

    def signal_key_ready(self, db: "Database", key: bytes) -> None:
        self.ready[(db.id, key)] = None

    def handle_ready(self) -> None:
        """Serve parked clients on keys that became ready; repeat while new
        keys become ready (a served BLMOVE may push to another watched key)."""
        srv = self.server
        while self.ready:
            ready, self.ready = self.ready, {}
            for dbid, key in ready:
                db = srv.dbs[dbid]
                waiting = db.blocking_keys.get(key)
                if not waiting:
                    continue
                for c in list(waiting):
                    st = c.blocked
                    if st is None or st.db is not db:
                        continue
                    prev_db = c.db
                    c.db = db
                    try:
                        r = st.serve(c, db, key)
                    finally:
                        c.db = prev_db
                    if r is None:
                        if db.lookup(key) is None:
                            break
                        continue
                    self._unpark(c)
                    c.write_reply(r)
                    c.run_queued()
