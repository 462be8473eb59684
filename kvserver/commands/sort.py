"""SORT and SORT_RO over lists, sets and sorted sets (Redis 7.0's sort.c).

BY and GET patterns substitute the element for the first `*`; `->field`
after it reads a hash field; GET `#` is the element itself. A BY pattern
without `*` means "don't sort" (except for a set being stored, or sorted
from a script, which is then sorted ALPHA so the result is deterministic).
Numeric sorting breaks ties by comparing the elements' bytes; ALPHA compares
with strcoll, which in the C / C.UTF-8 locale Redis runs in is a byte
comparison up to the first NUL.

One Redis quirk is not reproduced: sort.c tests errno after strtod without
clearing it first, so once some element overflowed (ERANGE), later numeric
SORTs in the same Redis process can fail until another call clears errno.
Here only an element that itself overflows or underflows is an error.
"""

from __future__ import annotations

from kvserver import errors
from kvserver.commands.sets import parse_long
from kvserver.commands.zsets import strtod
from kvserver.errors import CommandError
from kvserver.table import command
from kvserver.types.hash import RedisHash
from kvserver.types.list import RedisList
from kvserver.types.set import RedisSet
from kvserver.types.zset import ZSet

ERR_NOT_DOUBLE = "ERR One or more scores can't be converted into double"


def lookup_by_pattern(c, pattern: bytes, subst: bytes) -> bytes | None:
    """The string (or hash field) a BY/GET pattern names for one element."""
    if pattern == b"#":
        return subst
    p = pattern.find(b"*")
    if p < 0:
        return None
    f = pattern.find(b"->", p + 1)
    field = None
    end = len(pattern)
    if f >= 0 and f + 2 < len(pattern):
        field = pattern[f + 2:]
        end = f
    o = c.db.lookup_read_any(pattern[:p] + subst + pattern[p + 1:end])
    if o is None:
        return None
    if field is not None:
        if o.__class__ is not RedisHash:
            return None
        return o.get(field)
    return o if o.__class__ is bytes else None


def _sort_getkeys(argv: list[bytes]) -> list[int]:
    """Redis's sortGetKeys: the sorted key, and the last STORE's key."""
    keys = [1]
    store = None
    skips = {b"limit": 2, b"get": 1, b"by": 1}
    i = 2
    n = len(argv)
    while i < n:
        opt = argv[i].lower()
        if opt in skips:
            i += skips[opt]
        elif opt == b"store" and i + 1 < n:
            store = i + 1
        i += 1
    if store is not None:
        keys.append(store)
    return keys


def _coll(b: bytes) -> bytes:
    """strcoll's view of a string: C strings end at the first NUL."""
    i = b.find(b"\0")
    return b if i < 0 else b[:i]


def _med3(v: list, a: int, b: int, c: int, cmp) -> int:
    if cmp(v[a], v[b]) < 0:
        return b if cmp(v[b], v[c]) < 0 else (c if cmp(v[a], v[c]) < 0 else a)
    return b if cmp(v[b], v[c]) > 0 else (a if cmp(v[a], v[c]) < 0 else c)


def _vecswap(v: list, a: int, b: int, n: int) -> None:
    for i in range(n):
        v[a + i], v[b + i] = v[b + i], v[a + i]


def pqsort(v: list, cmp, lrange: int, rrange: int, a: int = 0, n: int | None = None) -> None:
    """Redis's pqsort (NetBSD's quicksort that only recurses into parts that
    overlap positions lrange..rrange), step for step: SORT BY ... LIMIT uses
    it, and it is not stable, so where elements compare equal only the same
    algorithm puts them in the same order."""
    if n is None:
        n = len(v)
    while True:
        if n < 7:
            for pm in range(a + 1, a + n):
                pl = pm
                while pl > a and cmp(v[pl - 1], v[pl]) > 0:
                    v[pl], v[pl - 1] = v[pl - 1], v[pl]
                    pl -= 1
            return
        pm = a + n // 2
        if n > 7:
            pl, pn = a, a + n - 1
            if n > 40:
                d = n // 8
                pl = _med3(v, pl, pl + d, pl + 2 * d, cmp)
                pm = _med3(v, pm - d, pm, pm + d, cmp)
                pn = _med3(v, pn - 2 * d, pn - d, pn, cmp)
            pm = _med3(v, pl, pm, pn, cmp)
        v[a], v[pm] = v[pm], v[a]
        pa = pb = a + 1
        pc = pd = a + n - 1
        while True:
            while pb <= pc:
                r = cmp(v[pb], v[a])
                if r > 0:
                    break
                if r == 0:
                    v[pa], v[pb] = v[pb], v[pa]
                    pa += 1
                pb += 1
            while pb <= pc:
                r = cmp(v[pc], v[a])
                if r < 0:
                    break
                if r == 0:
                    v[pc], v[pd] = v[pd], v[pc]
                    pd -= 1
                pc -= 1
            if pb > pc:
                break
            v[pb], v[pc] = v[pc], v[pb]
            pb += 1
            pc -= 1
        pn = a + n
        r = min(pa - a, pb - pa)
        _vecswap(v, a, pb - r, r)
        r = min(pd - pc, pn - pd - 1)
        _vecswap(v, pb, pn - r, r)
        r = pb - pa
        if r > 1 and not ((lrange < a and rrange < a)
                          or (lrange > a + r - 1 and rrange > a + r - 1)):
            pqsort(v, cmp, lrange, rrange, a, r)
        r = pd - pc
        if r <= 1:
            return
        a, n = pn - r, r
        if (lrange < a and rrange < a) or (lrange > a + r - 1 and rrange > a + r - 1):
            return


def sort_generic(c, argv: list[bytes], readonly: bool):
    desc = alpha = dontsort = False
    limit_start, limit_count = 0, -1
    sortby = store = None
    gets: list[bytes] = []
    n = len(argv)
    j = 2
    while j < n:
        opt = argv[j].lower()
        left = n - j - 1
        if opt == b"asc":
            desc = False
        elif opt == b"desc":
            desc = True
        elif opt == b"alpha":
            alpha = True
        elif opt == b"limit" and left >= 2:
            limit_start = parse_long(argv[j + 1])
            limit_count = parse_long(argv[j + 2])
            j += 2
        elif not readonly and opt == b"store" and left >= 1:
            store = argv[j + 1]
            j += 1
        elif opt == b"by" and left >= 1:
            sortby = argv[j + 1]
            if b"*" not in sortby:
                dontsort = True
            j += 1
        elif opt == b"get" and left >= 1:
            gets.append(argv[j + 1])
            j += 1
        else:
            raise CommandError(errors.SYNTAX)
        j += 1

    val = c.db.lookup_read_any(argv[1])
    cls = val.__class__
    if val is not None and cls is not RedisSet and cls is not RedisList and cls is not ZSet:
        raise CommandError(errors.WRONGTYPE)
    if val is None:
        val, cls = RedisList(), RedisList

    if dontsort and cls is RedisSet and (store is not None or c.in_script):
        dontsort, alpha, sortby = False, True, None
    if cls is ZSet:
        val.to_skiplist()  # Redis converts the sorted set for SORT, for good

    vlen = len(val)
    start = min(max(limit_start, 0), vlen)
    limit_count = min(max(limit_count, -1), vlen)
    end = vlen - 1 if limit_count < 0 else start + limit_count - 1
    if start >= vlen:
        start, end = vlen - 1, vlen - 2
    if end >= vlen:
        end = vlen - 1

    if cls is RedisList and dontsort:
        vector = []
        if end >= start:
            k = end - start + 1
            if desc:
                vector = val.range(vlen - start - k, vlen - start - 1)
                vector.reverse()
            else:
                vector = val.range(start, end)
            end -= start
            start = 0
    elif cls is RedisList:
        vector = list(val)
    elif cls is RedisSet:
        vector = val.ordered()
    elif dontsort:
        k = max(end - start + 1, 0)
        if desc:
            vector = [m for _, m in val.items(vlen - start - k, vlen - start, True)]
        else:
            vector = [m for _, m in val.items(start, start + k)]
        end -= start
        start = 0
    else:
        vector = list(val.dict)

    bad_score = False
    if not dontsort:
        if alpha:
            if sortby is not None:
                keys = []
                for e in vector:
                    b = lookup_by_pattern(c, sortby, e)
                    keys.append((0, b"") if b is None else
                                (1, b if store is not None else _coll(b)))
            elif store is not None:
                keys = vector
            else:
                keys = [_coll(e) for e in vector]
        else:
            keys = []
            for e in vector:
                b = lookup_by_pattern(c, sortby, e) if sortby is not None else e
                score = 0.0
                if b is not None:
                    v = strtod(b, erange_ok=False)
                    if v is None:
                        bad_score = True
                    else:
                        score = v
                keys.append((score, e))
        if alpha and sortby is not None and (start != 0 or end != vlen - 1) and vlen:
            # Ties are possible here (missing or equal BY values): use
            # Redis's own partial quicksort so they come out in its order.
            sign = -1 if desc else 1

            def cmp(i: int, j: int) -> int:
                a, b = keys[i], keys[j]
                return sign * ((a > b) - (a < b))

            order = list(range(len(vector)))
            pqsort(order, cmp, start, end)
        else:
            # glibc's qsort is a stable merge sort, as sorted() is.
            order = sorted(range(len(vector)), key=keys.__getitem__, reverse=desc)
        vector = [vector[i] for i in order]

    if bad_score:
        raise CommandError(ERR_NOT_DOUBLE)
    picked = vector[start:end + 1] if end >= start else []
    if store is None:
        if not gets:
            return picked
        out = []
        for e in picked:
            for g in gets:
                out.append(lookup_by_pattern(c, g, e))
        return out

    if gets:
        items = []
        for e in picked:
            for g in gets:
                v = lookup_by_pattern(c, g, e)
                items.append(b"" if v is None else v)
    else:
        items = picked
    db = c.db
    if items:
        db.set(store, RedisList(items))
        c.server.notify_keyspace_event("l", "sortstore", store, db.id)
        db.signal_ready(store)
    elif db.delete(store):
        c.server.notify_keyspace_event("g", "del", store, db.id)
    return len(items)


@command("sort", arity=-2, flags="write denyoom", keys=(1, 1, 1), group="generic",
         since="1.0.0", summary="Sort the elements in a list, set or sorted set",
         complexity="O(N+M*log(M)) where N is the number of elements in the list or set to "
                    "sort, and M the number of returned elements. When the elements are not "
                    "sorted, complexity is O(N).",
         args="key [BY pattern:pattern] [LIMIT offset:integer count:integer] "
              "[(GET pattern:pattern)...] [ASC|DESC] [ALPHA] [STORE destination:key]",
         getkeys=_sort_getkeys, acl="@set @sortedset @list @dangerous")
def sort(c, argv):
    return sort_generic(c, argv, False)


@command("sort_ro", arity=-2, flags="readonly", keys=(1, 1, 1), group="generic",
         since="7.0.0",
         summary="Sort the elements in a list, set or sorted set. Read-only variant of SORT.",
         complexity="O(N+M*log(M)) where N is the number of elements in the list or set to "
                    "sort, and M the number of returned elements. When the elements are not "
                    "sorted, complexity is O(N).",
         args="key [BY pattern:pattern] [LIMIT offset:integer count:integer] "
              "[(GET pattern:pattern)...] [ASC|DESC] [ALPHA]",
         getkeys=lambda argv: [1], acl="@set @sortedset @list @dangerous")
def sort_ro(c, argv):
    return sort_generic(c, argv, True)
