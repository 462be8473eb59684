"""Transactions: MULTI, EXEC, DISCARD, WATCH, UNWATCH.

Queued commands were already checked (lookup, arity) by dispatch when queued;
a queueing error marks the transaction so EXEC answers EXECABORT. Runtime
errors inside EXEC do not stop the rest. WATCH is broken by any write to the
key (Database.signal_modified), its expiry, or a flush of its database.
"""

from __future__ import annotations

from kvserver import errors
from kvserver.dispatch import call
from kvserver.errors import CommandError
from kvserver.resp import NULL_ARRAY, OK, Raw, encode
from kvserver.table import command


def watch_key(c, key: bytes) -> None:
    db = c.db
    entry = (db.id, key)
    if entry in c.watched_keys:
        return
    c.watched_keys.append(entry)
    db.watched.setdefault(key, set()).add(c)
    # A key that is already logically expired counts as changed if it goes.
    if db.is_expired(key):
        c.watched_expired = True


def unwatch_all(c) -> None:
    dbs = c.server.dbs
    for dbid, key in c.watched_keys:
        clients = dbs[dbid].watched.get(key)
        if clients is not None:
            clients.discard(c)
            if not clients:
                del dbs[dbid].watched[key]
    c.watched_keys = []
    c.dirty_cas = False


def touch_all_watched(db) -> None:
    """Every key of db that someone WATCHes counts as modified (FLUSHDB, SWAPDB)."""
    for clients in db.watched.values():
        for c in clients:
            c.dirty_cas = True


def discard_transaction(c) -> None:
    c.mstate = None
    c.multi_error = False
    unwatch_all(c)


@command("multi", arity=1, flags="noscript loading stale fast allow_busy",
         group="transactions", since="1.2.0", summary="Mark the start of a transaction block",
         complexity="O(1)")
def multi(c, argv):
    if c.mstate is not None:
        raise CommandError(errors.NESTED_MULTI)
    c.mstate = []
    c.multi_error = False
    return OK


@command("discard", arity=1, flags="noscript loading stale fast allow_busy",
         group="transactions", since="2.0.0", summary="Discard all commands issued after MULTI",
         complexity="O(N), when N is the number of queued commands")
def discard(c, argv):
    if c.mstate is None:
        raise CommandError(errors.DISCARD_WITHOUT_MULTI)
    discard_transaction(c)
    return OK


def _watch_broken(c) -> bool:
    if c.dirty_cas:
        return True
    # A watched key that expired since WATCH is a change too.
    dbs = c.server.dbs
    return any(dbs[dbid].is_expired(key) and key in dbs[dbid].data
               for dbid, key in c.watched_keys)


@command("exec", arity=1, flags="noscript loading stale skip_slowlog", group="transactions",
         since="1.2.0", summary="Execute all commands issued after MULTI",
         complexity="Depends on commands in the transaction")
def exec_(c, argv):
    if c.mstate is None:
        raise CommandError(errors.EXEC_WITHOUT_MULTI)
    queued = c.mstate
    if c.multi_error:
        discard_transaction(c)
        raise CommandError(errors.EXECABORT)
    if _watch_broken(c):
        discard_transaction(c)
        return NULL_ARRAY
    c.mstate = None
    unwatch_all(c)
    srv = c.server
    replies = []
    # Time stands still inside a transaction, as in Redis: a key cannot
    # expire between two of its commands.
    frozen = srv.frozen_ms
    srv.frozen_ms = srv.now_ms()
    srv.begin_propagation_block()
    c.in_exec = True
    try:
        out = c.out
        for cmd, qargv in queued:
            if not c.authenticated and not cmd.is_noauth:
                r = CommandError(errors.NOAUTH)
            else:
                n = len(out)
                r = call(c, cmd, qargv)
                if len(out) > n:
                    # RESP3 pushes for this client (its own keyspace events,
                    # messages it published to itself): Redis writes them
                    # inside the EXEC array, before this command's reply.
                    r = Raw(b"".join(out[n:]) + encode(r, c.resp3))
                    del out[n:]
            replies.append(r)
    finally:
        c.in_exec = False
        srv.end_propagation_block()
        srv.frozen_ms = frozen
        # The queued commands propagated their effects; EXEC itself is not
        # propagated (Redis's preventCommandPropagation).
        c.propagate_as = []
    return replies


@command("watch", arity=-2, flags="noscript loading stale fast allow_busy",
         keys=(1, -1, 1), group="transactions", since="2.2.0",
         summary="Watch the given keys to determine execution of the MULTI/EXEC block",
         complexity="O(1) for every key.", args="key...")
def watch(c, argv):
    if c.mstate is not None:
        raise CommandError(errors.WATCH_IN_MULTI)
    for key in argv[1:]:
        watch_key(c, key)
    return OK


@command("unwatch", arity=1, flags="noscript loading stale fast allow_busy",
         group="transactions", since="2.2.0",
         summary="Forget about all watched keys", complexity="O(1)")
def unwatch(c, argv):
    unwatch_all(c)
    return OK
