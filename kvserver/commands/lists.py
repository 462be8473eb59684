"""List commands (Redis's t_list.c), blocking ones included.

Argument checks happen in Redis's order (often options before the key
lookup, sometimes after), because that order decides which error a client
sees. A list that becomes empty is deleted, with a "del" event after the
list event. Blocking pops that find data run like their non-blocking forms
and are propagated as such (BLPOP -> LPOP, BLMPOP -> LPOP key count, BLMOVE
-> LMOVE, BRPOPLPUSH -> RPOPLPUSH); otherwise the client is parked through
kvserver.blocking with a `serve` callback that does the same later. Inside
MULTI/EXEC or a script (`c.may_block` false) they answer like a timeout.
"""

from __future__ import annotations

from kvserver import errors
from kvserver.args import to_int
from kvserver.blocking import parse_timeout
from kvserver.commands.sets import numkeys_getkeys
from kvserver.errors import CommandError
from kvserver.resp import NOREPLY, NULL_ARRAY, OK, Bulks
from kvserver.table import command
from kvserver.types.list import RedisList

_LLONG_MIN = -(2**63)
_LPOP, _RPOP, _LMOVE, _RPOPLPUSH = b"LPOP", b"RPOP", b"LMOVE", b"RPOPLPUSH"
_LEFT, _RIGHT = b"LEFT", b"RIGHT"


def _notify(c, event: str, key: bytes, cls: str = "l") -> None:
    srv = c.server
    if srv.keyspace_publisher is not None:
        srv.notify_keyspace_event(cls, event, key, c.db.id)


def _positive(b: bytes, msg: str = errors.NOT_POSITIVE) -> int:
    """getPositiveLongFromObjectOrReply: a non-integer gets the same message."""
    v = to_int(b, msg)
    if v < 0:
        raise CommandError(msg)
    return v


def _at_least_one(b: bytes, msg: str) -> int:
    """getRangeLongFromObjectOrReply(1, LONG_MAX, msg)."""
    v = to_int(b, msg)
    if v < 1:
        raise CommandError(msg)
    return v


def _side(b: bytes) -> bool:
    """LEFT -> True, RIGHT -> False (getListPositionFromObjectOrReply)."""
    s = b.lower()
    if s == b"left":
        return True
    if s == b"right":
        return False
    raise CommandError(errors.SYNTAX)


def _removed(c, db, key: bytes, lst: RedisList, left: bool) -> None:
    """After popping from key: event, and delete the list if it is empty."""
    _notify(c, "lpop" if left else "rpop", key)
    if lst:
        db.signal_modified(key)
    else:
        db.delete(key)
        _notify(c, "del", key, "g")


def _touch_watchers(db, key: bytes) -> None:
    """signalModifiedKey without a change to propagate (LTRIM removing nothing)."""
    if db.watched:
        clients = db.watched.get(key)
        if clients:
            for w in clients:
                w.dirty_cas = True


# -- push ------------------------------------------------------------------------


def _push(c, argv: list[bytes], left: bool, xx: bool) -> int:
    db = c.db
    key = argv[1]
    lst = db.lookup_write(key, RedisList)
    if lst is None:
        if xx:
            return 0
        lst = RedisList(argv[2:]) if not left else RedisList(reversed(argv[2:]))
        db.add(key, lst)  # wakes clients blocked on key
    else:
        if left:
            lst.extendleft(argv[2:])
        else:
            lst.extend(argv[2:])
        db.signal_modified(key)
        if db.blocking_keys:
            db.signal_ready(key)
    if c.server.keyspace_publisher is not None:
        _notify(c, "lpush" if left else "rpush", key)
    return len(lst)


@command("lpush", arity=-3, flags="write denyoom fast", keys=(1, 1, 1), group="list",
         since="1.0.0", summary="Prepend one or multiple elements to a list",
         complexity="O(1) for each element added, so O(N) to add N elements when the "
                    "command is called with multiple arguments.",
         args="key element...",
         history=(("2.4.0", "Accepts multiple `element` arguments."),))
def lpush(c, argv):
    # The hot path of _push, inlined (LPUSH/RPUSH are benchmarked).
    db = c.db
    key = argv[1]
    lst = db.lookup_write(key, RedisList)
    if lst is None:
        return _push(c, argv, True, False)
    if len(argv) == 3:
        lst.appendleft(argv[2])
    else:
        lst.extendleft(argv[2:])
    db.signal_modified(key)
    if db.blocking_keys:
        db.signal_ready(key)
    if c.server.keyspace_publisher is not None:
        _notify(c, "lpush", key)
    return len(lst)


@command("rpush", arity=-3, flags="write denyoom fast", keys=(1, 1, 1), group="list",
         since="1.0.0", summary="Append one or multiple elements to a list",
         complexity="O(1) for each element added, so O(N) to add N elements when the "
                    "command is called with multiple arguments.",
         args="key element...",
         history=(("2.4.0", "Accepts multiple `element` arguments."),))
def rpush(c, argv):
    db = c.db
    key = argv[1]
    lst = db.lookup_write(key, RedisList)
    if lst is None:
        return _push(c, argv, False, False)
    if len(argv) == 3:
        lst.append(argv[2])
    else:
        lst.extend(argv[2:])
    db.signal_modified(key)
    if db.blocking_keys:
        db.signal_ready(key)
    if c.server.keyspace_publisher is not None:
        _notify(c, "rpush", key)
    return len(lst)


@command("lpushx", arity=-3, flags="write denyoom fast", keys=(1, 1, 1), group="list",
         since="2.2.0", summary="Prepend an element to a list, only if the list exists",
         complexity="O(1) for each element added, so O(N) to add N elements when the "
                    "command is called with multiple arguments.",
         args="key element...",
         history=(("4.0.0", "Accepts multiple `element` arguments."),))
def lpushx(c, argv):
    return _push(c, argv, True, True)


@command("rpushx", arity=-3, flags="write denyoom fast", keys=(1, 1, 1), group="list",
         since="2.2.0", summary="Append an element to a list, only if the list exists",
         complexity="O(1) for each element added, so O(N) to add N elements when the "
                    "command is called with multiple arguments.",
         args="key element...",
         history=(("4.0.0", "Accepts multiple `element` arguments."),))
def rpushx(c, argv):
    return _push(c, argv, False, True)


# -- pop ---------------------------------------------------------------------------


def _pop(c, argv: list[bytes], left: bool):
    n = len(argv)
    if n == 2:
        db = c.db
        key = argv[1]
        lst = db.lookup_write(key, RedisList)
        if lst is None:
            return None
        v = lst.popleft() if left else lst.pop()
        _removed(c, db, key, lst, left)
        return v
    if n > 3:
        raise errors.wrong_arity("lpop" if left else "rpop")
    count = _positive(argv[2])
    db = c.db
    key = argv[1]
    lst = db.lookup_write(key, RedisList)
    if lst is None:
        return NULL_ARRAY
    if not count:
        return []
    out = lst.pop_many(left, count)
    _removed(c, db, key, lst, left)
    return out


@command("lpop", arity=-2, flags="write fast", keys=(1, 1, 1), group="list", since="1.0.0",
         summary="Remove and get the first elements in a list",
         complexity="O(N) where N is the number of elements returned", args="key [count:integer]",
         history=(("6.2.0", "Added the `count` argument."),))
def lpop(c, argv):
    if len(argv) != 2:
        return _pop(c, argv, True)
    db = c.db
    key = argv[1]
    lst = db.lookup_write(key, RedisList)
    if lst is None:
        return None
    v = lst.popleft()
    if lst:
        db.signal_modified(key)
        if c.server.keyspace_publisher is not None:
            _notify(c, "lpop", key)
    else:
        _removed(c, db, key, lst, True)
    return v


@command("rpop", arity=-2, flags="write fast", keys=(1, 1, 1), group="list", since="1.0.0",
         summary="Remove and get the last elements in a list",
         complexity="O(N) where N is the number of elements returned", args="key [count:integer]",
         history=(("6.2.0", "Added the `count` argument."),))
def rpop(c, argv):
    if len(argv) != 2:
        return _pop(c, argv, False)
    db = c.db
    key = argv[1]
    lst = db.lookup_write(key, RedisList)
    if lst is None:
        return None
    v = lst.pop()
    if lst:
        db.signal_modified(key)
        if c.server.keyspace_publisher is not None:
            _notify(c, "rpop", key)
    else:
        _removed(c, db, key, lst, False)
    return v


# -- reading -------------------------------------------------------------------------


@command("llen", arity=2, flags="readonly fast", keys=(1, 1, 1), group="list", since="1.0.0",
         summary="Get the length of a list", complexity="O(1)", args="key")
def llen(c, argv):
    lst = c.db.lookup_read(argv[1], RedisList)
    return 0 if lst is None else len(lst)


@command("lrange", arity=4, flags="readonly", keys=(1, 1, 1), group="list", since="1.0.0",
         summary="Get a range of elements from a list",
         complexity="O(S+N) where S is the distance of start offset from HEAD for small "
                    "lists, from nearest end (HEAD or TAIL) for large lists; and N is the "
                    "number of elements in the specified range.",
         args="key start:integer stop:integer")
def lrange(c, argv):
    start = to_int(argv[2])
    end = to_int(argv[3])
    lst = c.db.lookup_read(argv[1], RedisList)
    if lst is None:
        return []
    s, e = lst.clip(start, end)
    return lst.range(s, e, Bulks)


@command("lindex", arity=3, flags="readonly", keys=(1, 1, 1), group="list", since="1.0.0",
         summary="Get an element from a list by its index",
         complexity="O(N) where N is the number of elements to traverse to get to the element "
                    "at index. This makes asking for the first or the last element of the list "
                    "O(1).",
         args="key index:integer")
def lindex(c, argv):
    lst = c.db.lookup_read(argv[1], RedisList)
    if lst is None:
        return None
    return lst.get(to_int(argv[2]))


@command("lpos", arity=-3, flags="readonly", keys=(1, 1, 1), group="list", since="6.0.6",
         summary="Return the index of matching elements on a list",
         complexity="O(N) where N is the number of elements in the list, for the average case. "
                    "When searching for elements near the head or the tail of the list, or when "
                    "the MAXLEN option is provided, the command may run in constant time.",
         args="key element [RANK rank:integer] [COUNT num-matches:integer] "
              "[MAXLEN len:integer]")
def lpos(c, argv):
    rank, count, maxlen = 1, -1, 0
    i, n = 3, len(argv)
    while i < n:
        opt = argv[i].lower()
        more = i + 1 < n
        if opt == b"rank" and more:
            rank = to_int(argv[i + 1])
            if rank == 0:
                raise CommandError(
                    "ERR RANK can't be zero: use 1 to start from the first match, 2 from the "
                    "second ... or use negative to start from the end of the list")
        elif opt == b"count" and more:
            count = _positive(argv[i + 1], "ERR COUNT can't be negative")
        elif opt == b"maxlen" and more:
            maxlen = _positive(argv[i + 1], "ERR MAXLEN can't be negative")
        else:
            raise CommandError(errors.SYNTAX)
        i += 2
    if rank == _LLONG_MIN:
        # Redis negates it in C, where it stays LLONG_MIN: every match from the
        # tail qualifies, and the COUNT test overflows so that COUNT is ignored.
        rank = -1
        if count > 0:
            count = 0
    lst = c.db.lookup_read(argv[1], RedisList)
    if lst is None:
        return [] if count != -1 else None
    found = lst.pos(argv[2], rank, 1 if count == -1 else count, maxlen)
    if count != -1:
        return found
    return found[0] if found else None


# -- editing -----------------------------------------------------------------------------


@command("lset", arity=4, flags="write denyoom", keys=(1, 1, 1), group="list", since="1.0.0",
         summary="Set the value of an element in a list by its index",
         complexity="O(N) where N is the length of the list. Setting either the first or the "
                    "last element of the list is O(1).",
         args="key index:integer element")
def lset(c, argv):
    db = c.db
    key = argv[1]
    lst = db.lookup_write(key, RedisList)
    if lst is None:
        raise CommandError(errors.NO_SUCH_KEY)
    index = to_int(argv[2])
    if not lst.set(index, argv[3]):
        raise CommandError("ERR index out of range")
    db.signal_modified(key)
    _notify(c, "lset", key)
    return OK


@command("linsert", arity=5, flags="write denyoom", keys=(1, 1, 1), group="list",
         since="2.2.0", summary="Insert an element before or after another element in a list",
         complexity="O(N) where N is the number of elements to traverse before seeing the value "
                    "pivot. This means that inserting somewhere on the left end on the list "
                    "(head) can be considered O(1) and inserting somewhere on the right end "
                    "(tail) is O(N).",
         args="key (BEFORE|AFTER) pivot element")
def linsert(c, argv):
    where = argv[2].lower()
    if where == b"after":
        after = True
    elif where == b"before":
        after = False
    else:
        raise CommandError(errors.SYNTAX)
    db = c.db
    key = argv[1]
    lst = db.lookup_write(key, RedisList)
    if lst is None:
        return 0
    if not lst.insert_at_pivot(argv[3], argv[4], after):
        return -1
    db.signal_modified(key)
    _notify(c, "linsert", key)
    return len(lst)


@command("lrem", arity=4, flags="write", keys=(1, 1, 1), group="list", since="1.0.0",
         summary="Remove elements from a list",
         complexity="O(N+M) where N is the length of the list and M is the number of elements "
                    "removed.",
         args="key count:integer element")
def lrem(c, argv):
    count = to_int(argv[2])
    db = c.db
    key = argv[1]
    lst = db.lookup_write(key, RedisList)
    if lst is None:
        return 0
    removed = lst.remove_count(argv[3], count)
    if removed:
        db.signal_modified(key)
        _notify(c, "lrem", key)
        if not lst:
            db.delete(key)
            _notify(c, "del", key, "g")
    return removed


@command("ltrim", arity=4, flags="write", keys=(1, 1, 1), group="list", since="1.0.0",
         summary="Trim a list to the specified range",
         complexity="O(N) where N is the number of elements to be removed by the operation.",
         args="key start:integer stop:integer")
def ltrim(c, argv):
    start = to_int(argv[2])
    end = to_int(argv[3])
    db = c.db
    key = argv[1]
    lst = db.lookup_write(key, RedisList)
    if lst is None:
        return OK
    removed = lst.trim(start, end)
    _notify(c, "ltrim", key)
    if not lst:
        db.delete(key)
        _notify(c, "del", key, "g")
    elif removed:
        db.signal_modified(key)
    else:
        _touch_watchers(db, key)
    return OK


# -- moving between lists -------------------------------------------------------------


def _move(c, db, src: bytes, lst: RedisList, dst: bytes, dlist, left_from: bool,
          left_to: bool) -> bytes:
    """Pop from lst (at src), push to dst (dlist: its list, or None to create).
    Redis's lmoveHandlePush plus the source's housekeeping, events in its order."""
    v = lst.popleft() if left_from else lst.pop()
    if dlist is None:
        dlist = RedisList((v,))
        db.add(dst, dlist)
    else:
        if left_to:
            dlist.appendleft(v)
        else:
            dlist.append(v)
        db.signal_modified(dst)
        if db.blocking_keys:
            db.signal_ready(dst)
    _notify(c, "lpush" if left_to else "rpush", dst)
    _notify(c, "lpop" if left_from else "rpop", src)
    if lst:
        db.signal_modified(src)
    else:
        db.delete(src)
        _notify(c, "del", src, "g")
    return v


def _lmove(c, argv: list[bytes], left_from: bool, left_to: bool):
    db = c.db
    lst = db.lookup_write(argv[1], RedisList)
    if lst is None:
        return None
    dlist = db.lookup_write(argv[2], RedisList)
    return _move(c, db, argv[1], lst, argv[2], dlist, left_from, left_to)


@command("lmove", arity=5, flags="write denyoom", keys=(1, 2, 1), group="list", since="6.2.0",
         summary="Pop an element from a list, push it to another list and return it",
         complexity="O(1)", args="source:key destination:key (LEFT|RIGHT) (LEFT|RIGHT)")
def lmove(c, argv):
    left_from = _side(argv[3])
    left_to = _side(argv[4])
    return _lmove(c, argv, left_from, left_to)


@command("rpoplpush", arity=3, flags="write denyoom", keys=(1, 2, 1), group="list",
         since="1.2.0", doc_flags="deprecated",
         summary="Remove the last element in a list, prepend it to another list and return it",
         complexity="O(1)", args="source:key destination:key")
def rpoplpush(c, argv):
    return _lmove(c, argv, False, True)


# -- LMPOP -------------------------------------------------------------------------------


def _parse_mpop(argv: list[bytes], numkeys_idx: int) -> tuple[list[bytes], bool, int]:
    """numkeys key... LEFT|RIGHT [COUNT count] -> (keys, left, count)."""
    numkeys = _at_least_one(argv[numkeys_idx], "ERR numkeys should be greater than 0")
    where_idx = numkeys_idx + numkeys + 1
    if where_idx >= len(argv):
        raise CommandError(errors.SYNTAX)
    left = _side(argv[where_idx])
    count = -1
    j = where_idx + 1
    n = len(argv)
    while j < n:
        if count == -1 and argv[j].lower() == b"count" and j + 1 < n:
            count = _at_least_one(argv[j + 1], "ERR count should be greater than 0")
            j += 2
        else:
            raise CommandError(errors.SYNTAX)
    return argv[numkeys_idx + 1:where_idx], left, (1 if count == -1 else count)


def _pop_count(c, db, key: bytes, lst: RedisList, left: bool, count: int) -> list:
    """[key, [elements]] for LMPOP/BLMPOP, and the LPOP/RPOP key n it amounts to."""
    out = lst.pop_many(left, count)
    _removed(c, db, key, lst, left)
    return [key, out]


@command("lmpop", arity=-4, flags="write", group="list", since="7.0.0",
         summary="Pop elements from a list",
         complexity="O(N+M) where N is the number of provided keys and M is the number of "
                    "elements returned.",
         args="numkeys:integer key... (LEFT|RIGHT) [COUNT count:integer]",
         getkeys=numkeys_getkeys(0, 1, 2))
def lmpop(c, argv):
    keys, left, count = _parse_mpop(argv, 1)
    db = c.db
    for key in keys:
        lst = db.lookup_write(key, RedisList)
        if lst is None:
            continue
        n = min(count, len(lst))
        c.propagate_as = [[_LPOP if left else _RPOP, key, b"%d" % n]]
        return _pop_count(c, db, key, lst, left, count)
    return NULL_ARRAY


# -- blocking pops ------------------------------------------------------------------------


def _serve_pop(left: bool, count: int):
    """The serve callback of a parked BLPOP/BRPOP (count 0) or BLMPOP."""
    def serve(c, db, key: bytes):
        lst = db.lookup(key)
        if lst.__class__ is not RedisList:
            return None
        srv = c.server
        if count:
            n = min(count, len(lst))
            srv.propagate(db.id, [_LPOP if left else _RPOP, key, b"%d" % n])
            return _pop_count(c, db, key, lst, left, count)
        srv.propagate(db.id, [_LPOP if left else _RPOP, key])
        v = lst.popleft() if left else lst.pop()
        _removed(c, db, key, lst, left)
        return [key, v]
    return serve


def _blocking_pop(c, keys: list[bytes], left: bool, timeout: float, count: int):
    """BLPOP/BRPOP (count 0) and BLMPOP (count >= 1)."""
    db = c.db
    for key in keys:
        lst = db.lookup_write(key, RedisList)
        if lst is None:
            continue
        if count:
            n = min(count, len(lst))
            c.propagate_as = [[_LPOP if left else _RPOP, key, b"%d" % n]]
            return _pop_count(c, db, key, lst, left, count)
        c.propagate_as = [[_LPOP if left else _RPOP, key]]
        v = lst.popleft() if left else lst.pop()
        _removed(c, db, key, lst, left)
        return [key, v]
    if not c.may_block:
        return NULL_ARRAY
    c.server.blocking.block(c, keys, timeout, _serve_pop(left, count))
    return NOREPLY


@command("blpop", arity=-3, flags="write noscript blocking", keys=(1, -2, 1), group="list",
         since="2.0.0",
         summary="Remove and get the first element in a list, or block until one is available",
         complexity="O(N) where N is the number of provided keys.",
         args="key... timeout:double",
         history=(("6.0.0", "`timeout` is interpreted as a double instead of an integer."),))
def blpop(c, argv):
    timeout = parse_timeout(argv[-1])
    return _blocking_pop(c, argv[1:-1], True, timeout, 0)


@command("brpop", arity=-3, flags="write noscript blocking", keys=(1, -2, 1), group="list",
         since="2.0.0",
         summary="Remove and get the last element in a list, or block until one is available",
         complexity="O(N) where N is the number of provided keys.",
         args="key... timeout:double",
         history=(("6.0.0", "`timeout` is interpreted as a double instead of an integer."),))
def brpop(c, argv):
    timeout = parse_timeout(argv[-1])
    return _blocking_pop(c, argv[1:-1], False, timeout, 0)


@command("blmpop", arity=-5, flags="write blocking", group="list", since="7.0.0",
         summary="Pop elements from a list, or block until one is available",
         complexity="O(N+M) where N is the number of provided keys and M is the number of "
                    "elements returned.",
         args="timeout:double numkeys:integer key... (LEFT|RIGHT) [COUNT count:integer]",
         getkeys=numkeys_getkeys(0, 2, 3))
def blmpop(c, argv):
    keys, left, count = _parse_mpop(argv, 2)
    timeout = parse_timeout(argv[1])
    return _blocking_pop(c, keys, left, timeout, count)


def _serve_move(dst: bytes, left_from: bool, left_to: bool, as_rpoplpush: bool):
    """The serve callback of a parked BLMOVE/BRPOPLPUSH."""
    def serve(c, db, key: bytes):
        lst = db.lookup(key)
        if lst.__class__ is not RedisList:
            return None
        dlist = db.lookup_write_any(dst)
        if dlist is not None and dlist.__class__ is not RedisList:
            return CommandError(errors.WRONGTYPE)  # the client is unblocked with it
        v = _move(c, db, key, lst, dst, dlist, left_from, left_to)
        if as_rpoplpush:
            prop = [_RPOPLPUSH, key, dst]
        else:
            prop = [_LMOVE, key, dst, _LEFT if left_from else _RIGHT,
                    _LEFT if left_to else _RIGHT]
        c.server.propagate(db.id, prop)
        return v
    return serve


def _blocking_move(c, argv: list[bytes], left_from: bool, left_to: bool, timeout: float,
                   as_rpoplpush: bool):
    db = c.db
    src = argv[1]
    lst = db.lookup_write(src, RedisList)
    if lst is None:
        if not c.may_block:
            return None
        c.server.blocking.block(c, [src], timeout,
                                _serve_move(argv[2], left_from, left_to, as_rpoplpush))
        return NOREPLY
    r = _lmove(c, argv, left_from, left_to)
    c.propagate_as = [[_RPOPLPUSH, src, argv[2]] if as_rpoplpush
                      else [_LMOVE, src, argv[2], argv[3], argv[4]]]
    return r


@command("blmove", arity=6, flags="write denyoom noscript blocking", keys=(1, 2, 1),
         group="list", since="6.2.0",
         summary="Pop an element from a list, push it to another list and return it; or "
                 "block until one is available",
         complexity="O(1)",
         args="source:key destination:key (LEFT|RIGHT) (LEFT|RIGHT) timeout:double")
def blmove(c, argv):
    left_from = _side(argv[3])
    left_to = _side(argv[4])
    timeout = parse_timeout(argv[5])
    return _blocking_move(c, argv, left_from, left_to, timeout, False)


@command("brpoplpush", arity=4, flags="write denyoom noscript blocking", keys=(1, 2, 1),
         group="list", since="2.2.0", doc_flags="deprecated",
         summary="Pop an element from a list, push it to another list and return it; or "
                 "block until one is available",
         complexity="O(1)", args="source:key destination:key timeout:double",
         history=(("6.0.0", "`timeout` is interpreted as a double instead of an integer."),))
def brpoplpush(c, argv):
    timeout = parse_timeout(argv[3])
    return _blocking_move(c, argv, False, True, timeout, True)
