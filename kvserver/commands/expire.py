"""Expiry commands: EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT (NX/XX/GT/LT), TTL,
PTTL, EXPIRETIME, PEXPIRETIME, PERSIST.

Deadlines are absolute milliseconds on the server clock (server.now_ms). A write
is propagated as its effect: PEXPIREAT with the absolute time, or DEL when the
deadline is already past (the key is deleted at once, as Redis does).
"""

from __future__ import annotations

from kvserver import errors
from kvserver.args import LLONG_MAX, LLONG_MIN, to_int
from kvserver.errors import CommandError
from kvserver.table import command

_NX, _XX, _GT, _LT = 1, 2, 4, 8


def _parse_flags(argv: list[bytes]) -> int:
    flags = 0
    for a in argv[3:]:
        o = a.lower()
        if o == b"nx":
            flags |= _NX
        elif o == b"xx":
            flags |= _XX
        elif o == b"gt":
            flags |= _GT
        elif o == b"lt":
            flags |= _LT
        else:
            raise CommandError(f"ERR Unsupported option {a.decode('utf-8', 'replace')}")
    if flags & _NX and flags & (_XX | _GT | _LT):
        raise CommandError("ERR NX and XX, GT or LT options at the same time are not compatible")
    if flags & _GT and flags & _LT:
        raise CommandError("ERR GT and LT options at the same time are not compatible")
    return flags


def _expire_generic(c, argv, unit_ms: int, relative: bool) -> int:
    name = argv[0].decode().lower()
    key = argv[1]
    when = to_int(argv[2])
    flags = _parse_flags(argv)
    # Overflow checks, as Redis makes them, before anything else.
    # C's division truncates toward zero: LLONG_MIN / 1000 is ...775, not ...776.
    if when > LLONG_MAX // unit_ms or when < -(-LLONG_MIN // unit_ms):
        raise errors.invalid_expire(name)
    when *= unit_ms
    srv = c.server
    if relative:
        now = srv.now_ms()
        if when > LLONG_MAX - now:
            raise errors.invalid_expire(name)
        when += now
    db = c.db
    if db.lookup_write_any(key) is None:
        return 0
    if flags:
        cur = db.get_expire(key)
        if flags & _NX and cur is not None:
            return 0
        if flags & _XX and cur is None:
            return 0
        # A key without TTL counts as an infinite TTL for GT / LT.
        if flags & _GT and (cur is None or when <= cur):
            return 0
        if flags & _LT and cur is not None and when >= cur:
            return 0
    if when <= srv.now_ms() and not srv.is_replica and not c.is_replica_link:
        db.delete(key)
        c.propagate_as = [[b"DEL", key]]
        srv.notify_keyspace_event("g", "del", key, db.id)
        return 1
    db.set_expire(key, when)
    db.signal_modified(key)
    c.propagate_as = [[b"PEXPIREAT", key, b"%d" % when]]
    srv.notify_keyspace_event("g", "expire", key, db.id)
    return 1


_EXPIRE_ARGS = "key {name} [NX|XX|GT|LT]"


@command("expire", arity=-3, flags="write fast", keys=(1, 1, 1), group="generic",
         since="1.0.0", summary="Set a key's time to live in seconds",
         complexity="O(1)", args=_EXPIRE_ARGS.format(name="seconds:integer"))
def expire(c, argv):
    return _expire_generic(c, argv, 1000, True)


@command("pexpire", arity=-3, flags="write fast", keys=(1, 1, 1), group="generic",
         since="2.6.0", summary="Set a key's time to live in milliseconds",
         complexity="O(1)", args=_EXPIRE_ARGS.format(name="milliseconds:integer"))
def pexpire(c, argv):
    return _expire_generic(c, argv, 1, True)


@command("expireat", arity=-3, flags="write fast", keys=(1, 1, 1), group="generic",
         since="1.2.0", summary="Set the expiration for a key as a UNIX timestamp",
         complexity="O(1)", args=_EXPIRE_ARGS.format(name="unix-time-seconds:unix-time"))
def expireat(c, argv):
    return _expire_generic(c, argv, 1000, False)


@command("pexpireat", arity=-3, flags="write fast", keys=(1, 1, 1), group="generic",
         since="2.6.0",
         summary="Set the expiration for a key as a UNIX timestamp specified in milliseconds",
         complexity="O(1)",
         args=_EXPIRE_ARGS.format(name="unix-time-milliseconds:unix-time"))
def pexpireat(c, argv):
    return _expire_generic(c, argv, 1, False)


def _ttl_generic(c, key: bytes, ms: bool, absolute: bool) -> int:
    db = c.db
    if db.lookup_read_any(key, touch=False) is None:
        return -2
    when = db.get_expire(key)
    if when is None:
        return -1
    t = when if absolute else max(0, when - c.server.now_ms())
    return t if ms else (t + 500) // 1000


@command("ttl", arity=2, flags="readonly fast", keys=(1, 1, 1), group="generic",
         since="1.0.0", summary="Get the time to live for a key in seconds",
         complexity="O(1)", args="key", tips="nondeterministic_output")
def ttl(c, argv):
    return _ttl_generic(c, argv[1], ms=False, absolute=False)


@command("pttl", arity=2, flags="readonly fast", keys=(1, 1, 1), group="generic",
         since="2.6.0", summary="Get the time to live for a key in milliseconds",
         complexity="O(1)", args="key", tips="nondeterministic_output")
def pttl(c, argv):
    return _ttl_generic(c, argv[1], ms=True, absolute=False)


@command("expiretime", arity=2, flags="readonly fast", keys=(1, 1, 1), group="generic",
         since="7.0.0", summary="Get the expiration Unix timestamp for a key",
         complexity="O(1)", args="key")
def expiretime(c, argv):
    return _ttl_generic(c, argv[1], ms=False, absolute=True)


@command("pexpiretime", arity=2, flags="readonly fast", keys=(1, 1, 1), group="generic",
         since="7.0.0",
         summary="Get the expiration Unix timestamp for a key in milliseconds",
         complexity="O(1)", args="key")
def pexpiretime(c, argv):
    return _ttl_generic(c, argv[1], ms=True, absolute=True)


@command("persist", arity=2, flags="write fast", keys=(1, 1, 1), group="generic",
         since="2.2.0", summary="Remove the expiration from a key", complexity="O(1)",
         args="key")
def persist(c, argv):
    db = c.db
    key = argv[1]
    if db.lookup_write_any(key) is None or not db.persist(key):
        return 0
    db.signal_modified(key)
    c.server.notify_keyspace_event("g", "persist", key, db.id)
    return 1
