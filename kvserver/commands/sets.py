"""Set commands: SADD, SREM, SCARD, SISMEMBER, SMISMEMBER, SMEMBERS, SPOP,
SRANDMEMBER, SMOVE, SINTER, SINTERCARD, SINTERSTORE, SUNION, SUNIONSTORE,
SDIFF, SDIFFSTORE, SSCAN.

Replies follow Redis 7.0's t_set.c: sets come back as RESP3 sets, in the
order Redis iterates them where that order is defined (ascending numbers for
an intset; see kvserver.types.set).
"""

from __future__ import annotations

import random
from collections.abc import Callable

from kvserver import errors
from kvserver.commands.keys import parse_scan_cursor
from kvserver.commands.keys import parse_scan_options as keys_parse_scan_options
from kvserver.errors import CommandError
from kvserver.glob import glob_matcher
from kvserver.protocol import string2ll
from kvserver.resp import SetReply
from kvserver.table import command
from kvserver.types.set import RedisSet

LONG_MAX = 2**63 - 1
# SRANDMEMBER / ZRANDMEMBER with a negative count repeat members, so a huge
# count builds a reply of gigabytes: Redis tries anyway (and stalls or runs
# out of memory), we refuse counts past this many elements instead.
MAX_RANDOM_REPLY = 10_000_000


# -- shared helpers (also used by zsets and sort) ---------------------------------

def _atoi(b: bytes) -> int:
    """C's atoi: optional blanks and sign, then digits; anything else stops it."""
    s = b.lstrip(b" \t\n\r\x0b\x0c")
    i = 1 if s[:1] in (b"-", b"+") else 0
    j = i
    while j < len(s) and 48 <= s[j] <= 57:
        j += 1
    if j == i:
        return 0
    v = int(s[:j])
    return v if -(2**31) <= v < 2**31 else 0


def numkeys_getkeys(store: int, count_at: int, first: int) -> Callable[[list[bytes]], list[int]]:
    """Key positions of a `numkeys key...` command (Redis's genericGetKeys)."""

    def getkeys(argv: list[bytes]) -> list[int]:
        if count_at >= len(argv):
            return []
        n = _atoi(argv[count_at])
        if n < 1 or n > len(argv) - first:
            return []
        keys = list(range(first, first + n))
        if store:
            keys.append(store)
        return keys

    return getkeys


def parse_long(b: bytes, msg: str = errors.NOT_INTEGER) -> int:
    v = string2ll(b)
    if v is None:
        raise CommandError(msg)
    return v


def parse_range_long(b: bytes, lo: int, hi: int, msg: str | None = None) -> int:
    """Redis's getRangeLongFromObjectOrReply."""
    v = string2ll(b)
    if v is None:
        raise CommandError(msg or errors.NOT_INTEGER)
    if v < lo or v > hi:
        raise CommandError(msg or f"ERR value is out of range, value must between {lo} and {hi}")
    return v


def parse_positive_long(b: bytes, msg: str | None = None) -> int:
    """Redis's getPositiveLongFromObjectOrReply."""
    v = string2ll(b)
    if v is None or v < 0:
        raise CommandError(msg or errors.NOT_POSITIVE)
    return v


def parse_scan_options(argv: list[bytes], i: int) -> tuple[int, Callable[[bytes], bool] | None]:
    """COUNT and MATCH of SSCAN/ZSCAN (TYPE is only for SCAN): (count, matcher)."""
    count, pattern, _ = keys_parse_scan_options(argv, i, False)
    return count, None if pattern is None or pattern == b"*" else glob_matcher(pattern)


def notify(c, cls: str, event: str, key: bytes) -> None:
    c.server.notify_keyspace_event(cls, event, key, c.db.id)


def _max_intset(c) -> int:
    return c.server.config.set_max_intset_entries


# -- basic commands ---------------------------------------------------------------

@command("sadd", arity=-3, flags="write denyoom fast", keys=(1, 1, 1), group="set",
         since="1.0.0", summary="Add one or more members to a set",
         complexity="O(1) for each element added, so O(N) to add N elements when the "
                    "command is called with multiple arguments.",
         args="key member...",
         history=(("2.4.0", "Accepts multiple `member` arguments."),))
def sadd(c, argv):
    db = c.db
    key = argv[1]
    s = db.lookup_write(key, RedisSet)
    if s is None:
        s = RedisSet.for_member(argv[2])
        db.add(key, s)
    if len(argv) == 3 and not s.intset:  # fast path: one member, hash table
        m = argv[2]
        index = s.index
        if m in index:
            return 0
        members = s.members
        index[m] = len(members)
        members.append(m)
        db.signal_modified(key)
        c.server.notify_keyspace_event("s", "sadd", key, db.id)
        return 1
    added = 0
    if s.intset:
        maxi = _max_intset(c)
        for m in argv[2:]:
            if s.add(m, maxi):
                added += 1
    else:
        index = s.index
        members = s.members
        for m in argv[2:]:
            if m not in index:
                index[m] = len(members)
                members.append(m)
                added += 1
    if added:
        db.signal_modified(key)
        c.server.notify_keyspace_event("s", "sadd", key, db.id)
    return added


@command("srem", arity=-3, flags="write fast", keys=(1, 1, 1), group="set", since="1.0.0",
         summary="Remove one or more members from a set",
         complexity="O(N) where N is the number of members to be removed.",
         args="key member...",
         history=(("2.4.0", "Accepts multiple `member` arguments."),))
def srem(c, argv):
    db = c.db
    key = argv[1]
    s = db.lookup_write(key, RedisSet)
    if s is None:
        return 0
    deleted = 0
    removed_key = False
    for m in argv[2:]:
        if s.remove(m):
            deleted += 1
            if not s.members:
                db.delete(key)
                removed_key = True
                break
    if deleted:
        db.signal_modified(key)
        notify(c, "s", "srem", key)
        if removed_key:
            notify(c, "g", "del", key)
    return deleted


@command("scard", arity=2, flags="readonly fast", keys=(1, 1, 1), group="set", since="1.0.0",
         summary="Get the number of members in a set", complexity="O(1)", args="key")
def scard(c, argv):
    s = c.db.lookup_read(argv[1], RedisSet)
    return 0 if s is None else len(s.members)


@command("sismember", arity=3, flags="readonly fast", keys=(1, 1, 1), group="set",
         since="1.0.0", summary="Determine if a given value is a member of a set",
         complexity="O(1)", args="key member")
def sismember(c, argv):
    s = c.db.lookup_read(argv[1], RedisSet)
    return 1 if s is not None and argv[2] in s.index else 0


@command("smismember", arity=-3, flags="readonly fast", keys=(1, 1, 1), group="set",
         since="6.2.0",
         summary="Returns the membership associated with the given elements for a set",
         complexity="O(N) where N is the number of elements being checked for membership",
         args="key member...")
def smismember(c, argv):
    s = c.db.lookup_read(argv[1], RedisSet)
    if s is None:
        return [0] * (len(argv) - 2)
    index = s.index
    return [1 if m in index else 0 for m in argv[2:]]


@command("smembers", arity=2, flags="readonly", keys=(1, 1, 1), group="set", since="1.0.0",
         summary="Get all the members in a set",
         complexity="O(N) where N is the set cardinality.", args="key",
         tips="nondeterministic_output_order")
def smembers(c, argv):
    s = c.db.lookup_read(argv[1], RedisSet)
    if s is None:
        return SetReply()
    return SetReply(s.ordered())


# -- random members -----------------------------------------------------------------

def _rebuild_keeping(s: RedisSet, remaining: int, max_intset: int) -> tuple[RedisSet, list[bytes]]:
    """SPOP's strategy when popping most of a set: move `remaining` random
    members to a new set, and pop what is left of the old one (in its order)."""
    new = None
    for _ in range(remaining):
        m = s.pop_random()
        if new is None:
            new = RedisSet.for_member(m)
        new.add(m, max_intset)
    assert new is not None
    return new, s.ordered()


@command("spop", arity=-2, flags="write fast", keys=(1, 1, 1), group="set", since="1.0.0",
         summary="Remove and return one or multiple random members from a set",
         complexity="Without the count argument O(1), otherwise O(N) where N is the value "
                    "of the passed count.",
         args="key [count:integer]", tips="nondeterministic_output",
         history=(("3.2.0", "Added the `count` argument."),))
def spop(c, argv):
    db = c.db
    key = argv[1]
    if len(argv) == 3:
        return _spop_count(c, key, parse_positive_long(argv[2]))
    if len(argv) > 3:
        raise CommandError(errors.SYNTAX)
    s = db.lookup_write(key, RedisSet)
    if s is None:
        return None
    m = s.pop_random()
    srv = c.server
    srv.notify_keyspace_event("s", "spop", key, db.id)
    c.propagate_as = [[b"SREM", key, m]]
    if not s.members:
        db.delete(key)
        srv.notify_keyspace_event("g", "del", key, db.id)
    else:
        db.signal_modified(key)
    return m


def _spop_count(c, key: bytes, count: int):
    db = c.db
    s = db.lookup_write(key, RedisSet)
    if s is None or count == 0:
        return SetReply()
    size = len(s.members)
    notify(c, "s", "spop", key)
    if count >= size:
        # Redis replies with a union of the set into a new one (an intset
        # again if every member is an integer), in that set's order.
        out = RedisSet.from_members(s.members, _max_intset(c)).ordered()
        db.delete(key)
        notify(c, "g", "del", key)
        c.propagate_as = [[b"DEL", key]]
        return SetReply(out)
    remaining = size - count
    if remaining * 5 > count:
        out = [s.pop_random() for _ in range(count)]
        db.signal_modified(key)
    else:
        new, out = _rebuild_keeping(s, remaining, _max_intset(c))
        db.set(key, new, keepttl=True)
    c.propagate_as = [[b"SREM", key, m] for m in out]
    return SetReply(out)


@command("srandmember", arity=-2, flags="readonly", keys=(1, 1, 1), group="set",
         since="1.0.0", summary="Get one or multiple random members from a set",
         complexity="Without the count argument O(1), otherwise O(N) where N is the "
                    "absolute value of the passed count.",
         args="key [count:integer]", tips="nondeterministic_output",
         history=(("2.6.0", "Added the optional `count` argument."),))
def srandmember(c, argv):
    if len(argv) == 3:
        return _srandmember_count(c, argv)
    if len(argv) > 3:
        raise CommandError(errors.SYNTAX)
    s = c.db.lookup_read(argv[1], RedisSet)
    if s is None:
        return None
    return s.random()


def _srandmember_count(c, argv):
    n = parse_range_long(argv[2], -LONG_MAX, LONG_MAX)
    s = c.db.lookup_read(argv[1], RedisSet)
    if s is None or n == 0:
        return []
    members = s.members
    if n < 0 or n == 1:
        count = -n if n < 0 else 1
        if count > MAX_RANDOM_REPLY:
            raise CommandError("ERR value is out of range")
        return random.choices(members, k=count)
    if n >= len(members):
        return s.ordered()
    return random.sample(members, n)


@command("smove", arity=4, flags="write fast", keys=(1, 2, 1), group="set", since="1.0.0",
         summary="Move a member from one set to another", complexity="O(1)",
         args="source:key destination:key member")
def smove(c, argv):
    db = c.db
    src_key, dst_key, m = argv[1], argv[2], argv[3]
    src = db.lookup_write_any(src_key)
    dst = db.lookup_write_any(dst_key)
    if src is None:
        return 0
    if src.__class__ is not RedisSet or (dst is not None and dst.__class__ is not RedisSet):
        raise CommandError(errors.WRONGTYPE)
    if src is dst:
        return 1 if m in src.index else 0
    if not src.remove(m):
        return 0
    notify(c, "s", "srem", src_key)
    if not src.members:
        db.delete(src_key)
        notify(c, "g", "del", src_key)
    if dst is None:
        dst = RedisSet.for_member(m)
        db.add(dst_key, dst)
    db.signal_modified(src_key)
    if dst.add(m, _max_intset(c)):
        db.signal_modified(dst_key)
        notify(c, "s", "sadd", dst_key)
    return 1


# -- set algebra -----------------------------------------------------------------------

def _lookup_sets(c, keys: list[bytes]) -> list[RedisSet | None]:
    """The sets at keys (None for missing ones); WRONGTYPE if any is not a set."""
    db = c.db
    return [db.lookup_read(k, RedisSet) for k in keys]


def _store(c, dst: bytes, result: RedisSet, event: str) -> int:
    db = c.db
    if result.members:
        db.set(dst, result)
        notify(c, "s", event, dst)
        return len(result.members)
    if db.delete(dst):
        notify(c, "g", "del", dst)
    return 0


def sinter_generic(c, keys: list[bytes], dst: bytes | None = None, card_only: bool = False,
                   limit: int = 0):
    sets = _lookup_sets(c, keys)
    if any(s is None for s in sets):
        if dst is not None:
            return _store(c, dst, RedisSet(), "sinterstore")
        return 0 if card_only else SetReply()
    sets.sort(key=len)
    first = sets[0]
    others = [s.index for s in sets[1:] if s is not first]
    out = []
    n = 0
    for m in first.ordered():
        for idx in others:
            if m not in idx:
                break
        else:
            if card_only:
                n += 1
                if limit and n >= limit:
                    break
            else:
                out.append(m)
    if card_only:
        return n
    if dst is not None:
        result = RedisSet(True)
        maxi = _max_intset(c)
        for m in out:
            result.add(m, maxi)
        return _store(c, dst, result, "sinterstore")
    return SetReply(out)


def sunion_diff_generic(c, keys: list[bytes], dst: bytes | None, union: bool):
    sets = _lookup_sets(c, keys)
    maxi = _max_intset(c)
    result = RedisSet(True)
    if union:
        for s in sets:
            if s is not None:
                for m in s.ordered():
                    result.add(m, maxi)
    elif sets[0] is not None and not any(s is sets[0] for s in sets[1:]):
        others = [s.index for s in sets[1:] if s is not None]
        for m in sets[0].ordered():
            for idx in others:
                if m in idx:
                    break
            else:
                result.add(m, maxi)
    if dst is not None:
        return _store(c, dst, result, "sunionstore" if union else "sdiffstore")
    return SetReply(result.ordered())


@command("sinter", arity=-2, flags="readonly", keys=(1, -1, 1), group="set", since="1.0.0",
         summary="Intersect multiple sets",
         complexity="O(N*M) worst case where N is the cardinality of the smallest set and M "
                    "is the number of sets.",
         args="key...", tips="nondeterministic_output_order")
def sinter(c, argv):
    return sinter_generic(c, argv[1:])


@command("sintercard", arity=-3, flags="readonly", group="set", since="7.0.0",
         summary="Intersect multiple sets and return the cardinality of the result",
         complexity="O(N*M) worst case where N is the cardinality of the smallest set and M "
                    "is the number of sets.",
         args="numkeys:integer key... [LIMIT limit:integer]",
         getkeys=numkeys_getkeys(0, 1, 2))
def sintercard(c, argv):
    numkeys = parse_range_long(argv[1], 1, LONG_MAX, "ERR numkeys should be greater than 0")
    if numkeys > len(argv) - 2:
        raise CommandError("ERR Number of keys can't be greater than number of args")
    limit = 0
    j = 2 + numkeys
    n = len(argv)
    while j < n:
        if argv[j].lower() == b"limit" and n - 1 - j > 0:
            j += 1
            limit = parse_positive_long(argv[j], "ERR LIMIT can't be negative")
        else:
            raise CommandError(errors.SYNTAX)
        j += 1
    return sinter_generic(c, argv[2:2 + numkeys], card_only=True, limit=limit)


@command("sinterstore", arity=-3, flags="write denyoom", keys=(1, -1, 1), group="set",
         since="1.0.0", summary="Intersect multiple sets and store the resulting set in a key",
         complexity="O(N*M) worst case where N is the cardinality of the smallest set and M "
                    "is the number of sets.",
         args="destination:key key...")
def sinterstore(c, argv):
    return sinter_generic(c, argv[2:], dst=argv[1])


@command("sunion", arity=-2, flags="readonly", keys=(1, -1, 1), group="set", since="1.0.0",
         summary="Add multiple sets",
         complexity="O(N) where N is the total number of elements in all given sets.",
         args="key...", tips="nondeterministic_output_order")
def sunion(c, argv):
    return sunion_diff_generic(c, argv[1:], None, True)


@command("sunionstore", arity=-3, flags="write denyoom", keys=(1, -1, 1), group="set",
         since="1.0.0", summary="Add multiple sets and store the resulting set in a key",
         complexity="O(N) where N is the total number of elements in all given sets.",
         args="destination:key key...")
def sunionstore(c, argv):
    return sunion_diff_generic(c, argv[2:], argv[1], True)


@command("sdiff", arity=-2, flags="readonly", keys=(1, -1, 1), group="set", since="1.0.0",
         summary="Subtract multiple sets",
         complexity="O(N) where N is the total number of elements in all given sets.",
         args="key...", tips="nondeterministic_output_order")
def sdiff(c, argv):
    return sunion_diff_generic(c, argv[1:], None, False)


@command("sdiffstore", arity=-3, flags="write denyoom", keys=(1, -1, 1), group="set",
         since="1.0.0", summary="Subtract multiple sets and store the resulting set in a key",
         complexity="O(N) where N is the total number of elements in all given sets.",
         args="destination:key key...")
def sdiffstore(c, argv):
    return sunion_diff_generic(c, argv[2:], argv[1], False)


@command("sscan", arity=-3, flags="readonly", keys=(1, 1, 1), group="set", since="2.8.0",
         summary="Incrementally iterate Set elements",
         complexity="O(1) for every call. O(N) for a complete iteration, including enough "
                    "command calls for the cursor to return back to 0. N is the number of "
                    "elements inside the collection..",
         args="key cursor:integer [MATCH pattern:pattern] [COUNT count:integer]",
         tips="nondeterministic_output")
def sscan(c, argv):
    cursor = parse_scan_cursor(argv[2])
    s = c.db.lookup_read(argv[1], RedisSet)
    if s is None:
        return [b"0", []]
    count, match = parse_scan_options(argv, 3)
    if s.intset:
        cursor, out = 0, s.ordered()
    else:
        cursor, out = s.scan(cursor, count)
    if match is not None:
        out = [m for m in out if match(m)]
    return [b"%d" % cursor, out]
