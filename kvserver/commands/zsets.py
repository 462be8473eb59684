"""Sorted set commands (Redis 7.0's t_zset.c), blocking pops included.

Scores are parsed as Redis parses them: ZADD-style scores with string2d
(strtod over the whole argument, hex floats and "inf" included, no leading
blank, no NaN, no overflow), range bounds with plain strtod (a leading blank
or an empty bound is accepted, "(" makes a bound exclusive). Replies carry
scores as floats, which resp.py writes as Redis's addReplyDouble does; with
WITHSCORES a RESP3 client gets [member, score] pairs.
"""

from __future__ import annotations

import math
import random
import re

from kvserver import errors
from kvserver.args import to_timeout
from kvserver.commands.keys import parse_scan_cursor
from kvserver.commands.sets import (
    LONG_MAX,
    MAX_RANDOM_REPLY,
    numkeys_getkeys,
    parse_long,
    parse_positive_long,
    parse_range_long,
    parse_scan_options,
)
from kvserver.errors import CommandError
from kvserver.resp import NOREPLY, NULL_ARRAY
from kvserver.table import command
from kvserver.types.set import RedisSet
from kvserver.types.zset import LEX_MAX, LEX_MIN, LEX_VALUE, LexBound, ZSet

_INF = math.inf
_DBL_MAX = 1.7976931348623157e308
_WS = b" \t\n\r\x0b\x0c"

ERR_NOT_FLOAT_RANGE = "ERR min or max is not a float"
ERR_NOT_LEX_RANGE = "ERR min or max not valid string range item"
ERR_NAN = "ERR resulting score is not a number (NaN)"
ERR_XX_NX = "ERR XX and NX options at the same time are not compatible"
ERR_GT_LT_NX = "ERR GT, LT, and/or NX options at the same time are not compatible"
ERR_INCR_PAIR = "ERR INCR option supports a single increment-element pair"
ERR_WEIGHT = "ERR weight value is not a float"
ERR_LIMIT_RANK = ("ERR syntax error, LIMIT is only supported in combination with either "
                  "BYSCORE or BYLEX")
ERR_WITHSCORES_LEX = "ERR syntax error, WITHSCORES not supported in combination with BYLEX"


# -- number parsing ----------------------------------------------------------------

_STRTOD_RE = re.compile(
    rb"[+-]?(?:0[xX](?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)(?:[pP][+-]?[0-9]+)?"
    rb"|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
    rb"|[iI][nN][fF](?:[iI][nN][iI][tT][yY])?"
    rb"|[nN][aA][nN](?:\([0-9A-Za-z_]*\))?)")
_EXP_RE = re.compile(rb"[eEpP]")


def strtod(s: bytes, erange_ok: bool = True) -> float | None:
    """C's strtod over all of s (leading blanks allowed; "" is 0, as strtod
    leaves it). None if it stops early, gives NaN, or (unless erange_ok)
    overflows or underflows to zero (ERANGE)."""
    if not s:
        return 0.0
    t = s.lstrip(_WS)
    if _STRTOD_RE.fullmatch(t) is None:
        return None
    body = t.lstrip(b"+-")
    c0 = body[:1]
    if c0 in b"nN":
        return None
    if c0 in b"iI":
        return -_INF if t[:1] == b"-" else _INF
    if body[:2] in (b"0x", b"0X"):
        try:
            v = float.fromhex(t.decode())
        except OverflowError:
            if not erange_ok:
                return None
            return -_INF if t[:1] == b"-" else _INF
        mant = _EXP_RE.split(body[2:])[0]
    else:
        v = float(t)
        if v in (_INF, -_INF):
            return v if erange_ok else None
        mant = _EXP_RE.split(body)[0]
    if v == 0 and not erange_ok and mant.strip(b"0."):
        return None
    return v


def parse_score(b: bytes, msg: str = errors.NOT_FLOAT) -> float:
    """A score, increment or weight as Redis's string2d accepts it."""
    if b.isdigit() and len(b) < 300:  # ASCII digits only: float() is exact
        return float(b)
    try:
        v = float(b)
    except ValueError:
        v = None
    # Python's float() agrees with strtod except on blanks, "_", NaN, inf
    # spellings and out-of-range values (0 from a long string may be an
    # underflow): those take the exact path.
    if v is not None and -_DBL_MAX <= v <= _DBL_MAX and (v or len(b) <= 3) \
            and b[0] > 32 and b[-1] > 32 and b"_" not in b:
        return v
    if not b or b[0] in _WS:
        raise CommandError(msg)
    v = strtod(b, erange_ok=False)
    if v is None:
        raise CommandError(msg)
    return v


def parse_score_range(mn: bytes, mx: bytes) -> tuple[float, bool, float, bool]:
    """min and max of ZRANGEBYSCORE & co: (min, minex, max, maxex)."""
    out = []
    for b in (mn, mx):
        ex = b[:1] == b"("
        v = strtod(b[1:] if ex else b)
        if v is None:
            raise CommandError(ERR_NOT_FLOAT_RANGE)
        out.append(v)
        out.append(ex)
    return out[0], out[1], out[2], out[3]


def _lex_item(b: bytes) -> LexBound | None:
    c0 = b[:1]
    if c0 == b"+":
        return LexBound(LEX_MAX, b"", True) if len(b) == 1 else None
    if c0 == b"-":
        return LexBound(LEX_MIN, b"", True) if len(b) == 1 else None
    if c0 == b"(":
        return LexBound(LEX_VALUE, b[1:], True)
    if c0 == b"[":
        return LexBound(LEX_VALUE, b[1:], False)
    return None


def parse_lex_range(mn: bytes, mx: bytes) -> tuple[LexBound, LexBound]:
    lo = _lex_item(mn)
    hi = _lex_item(mx)
    if lo is None or hi is None:
        raise CommandError(ERR_NOT_LEX_RANGE)
    return lo, hi


# -- helpers ------------------------------------------------------------------------------

def notify(c, cls: str, event: str, key: bytes) -> None:
    c.server.notify_keyspace_event(cls, event, key, c.db.id)


def _with_scores(c, pairs) -> list:
    """(score, member) pairs as a WITHSCORES reply for c's protocol."""
    if c.resp3:
        return [[m, s] for s, m in pairs]
    out = []
    for s, m in pairs:
        out.append(m)
        out.append(s)
    return out


def _new_zset(c, first_member: bytes) -> ZSet:
    cfg = c.server.config
    return ZSet(not (cfg.zset_max_listpack_entries == 0
                     or cfg.zset_max_listpack_value < len(first_member)))


def _store_result(c, dst: bytes, scores: dict[bytes, float], event: str) -> int:
    """Store a computed sorted set at dst (or delete dst if empty); reply."""
    db = c.db
    if scores:
        cfg = c.server.config
        lp = (len(scores) <= cfg.zset_max_listpack_entries
              and max(map(len, scores)) <= cfg.zset_max_listpack_value)
        db.set(dst, ZSet.from_scores(scores, lp))
        notify(c, "z", event, dst)
        db.signal_ready(dst)
        return len(scores)
    if db.delete(dst):
        notify(c, "g", "del", dst)
    return 0


# -- ZADD / ZINCRBY / ZREM ----------------------------------------------------------------

_NX, _XX, _CH, _INCR, _GT, _LT = 1, 2, 4, 8, 16, 32


def _case_variants(word: str) -> list[bytes]:
    out = [""]
    for ch in word:
        out = [p + v for p in out for v in {ch.lower(), ch.upper()}]
    return [w.encode() for w in out]


# Every spelling of every option -> its bit: one dict look-up per argument.
_ZADD_OPTS = {v: bit for word, bit in (("nx", _NX), ("xx", _XX), ("ch", _CH), ("incr", _INCR),
                                       ("gt", _GT), ("lt", _LT))
              for v in _case_variants(word)}


def _zadd_generic(c, argv: list[bytes], flags: int):
    n = len(argv)
    i = 2
    opts = _ZADD_OPTS
    while i < n:
        f = opts.get(argv[i])
        if f is None:
            break
        flags |= f
        i += 1
    elements = n - i
    if elements & 1 or not elements:
        raise CommandError(errors.SYNTAX)
    elements >>= 1
    incr = flags & _INCR
    nx = flags & _NX
    xx = flags & _XX
    gt = flags & _GT
    lt = flags & _LT
    if flags & (_NX | _XX | _GT | _LT):
        if nx and xx:
            raise CommandError(ERR_XX_NX)
        if (gt and nx) or (lt and nx) or (gt and lt):
            raise CommandError(ERR_GT_LT_NX)
    if incr and elements > 1:
        raise CommandError(ERR_INCR_PAIR)
    scores = []
    for j in range(i, n, 2):
        scores.append(parse_score(argv[j]))

    db = c.db
    key = argv[1]
    zs = db.lookup_write(key, ZSet)
    if zs is None:
        if xx:
            return None if incr else 0
        zs = _new_zset(c, argv[i + 1])
        db.add(key, zs)
    d = zs.dict
    added = updated = processed = 0
    score = 0.0
    for j, score in enumerate(scores):
        m = argv[i + 1 + 2 * j]
        cur = d.get(m)
        if cur is not None:
            if nx:
                continue
            if incr:
                score += cur
                if score != score:
                    raise CommandError(ERR_NAN)
            if (lt and score >= cur) or (gt and score <= cur):
                continue
            processed += 1
            if score != cur:
                zs.update(m, cur, score)
                updated += 1
        elif not xx:
            if zs.listpack:
                cfg = c.server.config
                if len(d) + 1 > cfg.zset_max_listpack_entries \
                        or len(m) > cfg.zset_max_listpack_value:
                    zs.listpack = False
            zs.insert(m, score)
            added += 1
            processed += 1
    if added or updated:
        db.signal_modified(key)
        c.server.notify_keyspace_event("z", "zincr" if incr else "zadd", key, db.id)
    if incr:
        return score if processed else None
    return added + updated if flags & _CH else added


@command("zadd", arity=-4, flags="write denyoom fast", keys=(1, 1, 1), group="sorted_set",
         since="1.2.0",
         summary="Add one or more members to a sorted set, or update its score if it already "
                 "exists",
         complexity="O(log(N)) for each item added, where N is the number of elements in the "
                    "sorted set.",
         args="key [NX|XX] [GT|LT] [CH] [INCR] (score:double member)...",
         history=(("2.4.0", "Accepts multiple elements."),
                  ("3.0.2", "Added the `XX`, `NX`, `CH` and `INCR` options."),
                  ("6.2.0", "Added the `GT` and `LT` options.")))
def zadd(c, argv):
    # Fast path: one score-member pair and no option (what most clients send).
    if len(argv) != 4:
        return _zadd_generic(c, argv, 0)
    b = argv[2]
    if b.isdigit() and len(b) < 300:  # an integral score: float() is exact
        score = float(b)
    elif b in _ZADD_OPTS:
        return _zadd_generic(c, argv, 0)
    else:
        score = parse_score(b)
    db = c.db
    key = argv[1]
    m = argv[3]
    zs = db.lookup_write(key, ZSet)
    if zs is None:
        zs = _new_zset(c, m)
        db.add(key, zs)
        cur = None
    else:
        cur = zs.dict.get(m)
    if cur is None:
        if zs.listpack:
            cfg = c.server.config
            if len(zs.dict) + 1 > cfg.zset_max_listpack_entries \
                    or len(m) > cfg.zset_max_listpack_value:
                zs.listpack = False
        zs.insert(m, score)
        added = 1
    elif score != cur:
        zs.update(m, cur, score)
        added = 0
    else:
        return 0
    db.signal_modified(key)
    c.server.notify_keyspace_event("z", "zadd", key, db.id)
    return added


@command("zincrby", arity=4, flags="write denyoom fast", keys=(1, 1, 1), group="sorted_set",
         since="1.2.0", summary="Increment the score of a member in a sorted set",
         complexity="O(log(N)) where N is the number of elements in the sorted set.",
         args="key increment:integer member")
def zincrby(c, argv):
    return _zadd_generic(c, argv, _INCR)


@command("zrem", arity=-3, flags="write fast", keys=(1, 1, 1), group="sorted_set",
         since="1.2.0", summary="Remove one or more members from a sorted set",
         complexity="O(M*log(N)) with N being the number of elements in the sorted set and M "
                    "the number of elements to be removed.",
         args="key member...",
         history=(("2.4.0", "Accepts multiple elements."),))
def zrem(c, argv):
    db = c.db
    key = argv[1]
    zs = db.lookup_write(key, ZSet)
    if zs is None:
        return 0
    deleted = 0
    removed_key = False
    for m in argv[2:]:
        if zs.delete(m):
            deleted += 1
        if not zs.dict:
            db.delete(key)
            removed_key = True
            break
    if deleted:
        notify(c, "z", "zrem", key)
        if removed_key:
            notify(c, "g", "del", key)
        db.signal_modified(key)
    return deleted


# -- reads ------------------------------------------------------------------------------------

@command("zcard", arity=2, flags="readonly fast", keys=(1, 1, 1), group="sorted_set",
         since="1.2.0", summary="Get the number of members in a sorted set",
         complexity="O(1)", args="key")
def zcard(c, argv):
    zs = c.db.lookup_read(argv[1], ZSet)
    return 0 if zs is None else len(zs.dict)


@command("zscore", arity=3, flags="readonly fast", keys=(1, 1, 1), group="sorted_set",
         since="1.2.0",
         summary="Get the score associated with the given member in a sorted set",
         complexity="O(1)", args="key member")
def zscore(c, argv):
    zs = c.db.lookup_read(argv[1], ZSet)
    if zs is None:
        return None
    return zs.dict.get(argv[2])


@command("zmscore", arity=-3, flags="readonly fast", keys=(1, 1, 1), group="sorted_set",
         since="6.2.0",
         summary="Get the score associated with the given members in a sorted set",
         complexity="O(N) where N is the number of members being requested.",
         args="key member...")
def zmscore(c, argv):
    zs = c.db.lookup_read(argv[1], ZSet)
    if zs is None:
        return [None] * (len(argv) - 2)
    get = zs.dict.get
    return [get(m) for m in argv[2:]]


def _zrank(c, argv, reverse: bool):
    zs = c.db.lookup_read(argv[1], ZSet)
    if zs is None:
        return None
    r = zs.rank(argv[2])
    if r is None:
        return None
    return len(zs.dict) - 1 - r if reverse else r


@command("zrank", arity=3, flags="readonly fast", keys=(1, 1, 1), group="sorted_set",
         since="2.0.0", summary="Determine the index of a member in a sorted set",
         complexity="O(log(N))", args="key member")
def zrank(c, argv):
    return _zrank(c, argv, False)


@command("zrevrank", arity=3, flags="readonly fast", keys=(1, 1, 1), group="sorted_set",
         since="2.0.0",
         summary="Determine the index of a member in a sorted set, with scores ordered from "
                 "high to low",
         complexity="O(log(N))", args="key member")
def zrevrank(c, argv):
    return _zrank(c, argv, True)


@command("zcount", arity=4, flags="readonly fast", keys=(1, 1, 1), group="sorted_set",
         since="2.0.0",
         summary="Count the members in a sorted set with scores within the given values",
         complexity="O(log(N)) with N being the number of elements in the sorted set.",
         args="key min:double max:double")
def zcount(c, argv):
    mn, minex, mx, maxex = parse_score_range(argv[2], argv[3])
    zs = c.db.lookup_read(argv[1], ZSet)
    if zs is None:
        return 0
    lo, hi = zs.score_bounds(mn, minex, mx, maxex)
    return hi - lo


@command("zlexcount", arity=4, flags="readonly fast", keys=(1, 1, 1), group="sorted_set",
         since="2.8.9",
         summary="Count the number of members in a sorted set between a given "
                 "lexicographical range",
         complexity="O(log(N)) with N being the number of elements in the sorted set.",
         args="key min max")
def zlexcount(c, argv):
    lo, hi = parse_lex_range(argv[2], argv[3])
    zs = c.db.lookup_read(argv[1], ZSet)
    if zs is None:
        return 0
    a, b = zs.lex_bounds(lo, hi)
    return b - a


# -- ZRANGE and friends -------------------------------------------------------------------------

_AUTO, _RANK, _SCORE, _LEX = 0, 1, 2, 3


def _clip(n: int, start: int, end: int) -> tuple[int, int] | None:
    """Redis's index sanitizing: [start, end] inclusive, or None if empty."""
    if start < 0:
        start += n
    if end < 0:
        end += n
    if start < 0:
        start = 0
    if start > end or start >= n:
        return None
    if end >= n:
        end = n - 1
    return start, end


def _window(lo: int, hi: int, offset: int, limit: int, reverse: bool):
    """Positions to emit from [lo, hi) after LIMIT offset count (Redis skips
    `offset` members, and a negative offset runs off the end)."""
    if offset < 0 or hi <= lo:
        return 0, 0
    if reverse:
        end = hi - offset
        start = lo if limit < 0 else max(lo, end - limit)
        return start, max(start, end)
    start = lo + offset
    end = hi if limit < 0 else min(hi, start + limit)
    return start, max(start, end)


def zrange_generic(c, argv: list[bytes], at: int, store: bool, rangetype: int,
                   reverse: bool | None):
    """ZRANGE, ZRANGESTORE, ZREVRANGE, Z[REV]RANGEBY{SCORE,LEX}: argv[at] is
    the source key, followed by min max and the options."""
    key = argv[at]
    withscores = False
    offset, limit = 0, -1
    n = len(argv)
    j = at + 3
    while j < n:
        opt = argv[j].lower()
        left = n - j - 1
        if not store and opt == b"withscores":
            withscores = True
        elif opt == b"limit" and left >= 2:
            offset = parse_long(argv[j + 1])
            limit = parse_long(argv[j + 2])
            j += 2
        elif reverse is None and opt == b"rev":
            reverse = True
        elif rangetype == _AUTO and opt == b"bylex":
            rangetype = _LEX
        elif rangetype == _AUTO and opt == b"byscore":
            rangetype = _SCORE
        else:
            raise CommandError(errors.SYNTAX)
        j += 1
    reverse = bool(reverse)
    if rangetype == _AUTO:
        rangetype = _RANK
    if limit != -1 and rangetype == _RANK:
        raise CommandError(ERR_LIMIT_RANK)
    if withscores and rangetype == _LEX:
        raise CommandError(ERR_WITHSCORES_LEX)
    a, b = argv[at + 1], argv[at + 2]
    if reverse and rangetype != _RANK:
        a, b = b, a
    if rangetype == _RANK:
        start, end = parse_long(a), parse_long(b)
    elif rangetype == _SCORE:
        srange = parse_score_range(a, b)
    else:
        lrange = parse_lex_range(a, b)

    zs = c.db.lookup_read(key, ZSet)
    if zs is None:
        if store:
            return _store_result(c, argv[1], {}, "zrangestore")
        return []
    if rangetype == _RANK:
        span = _clip(len(zs.dict), start, end)
        if span is None:
            lo = hi = 0
        elif reverse:
            nn = len(zs.dict)
            lo, hi = nn - 1 - span[1], nn - span[0]
        else:
            lo, hi = span[0], span[1] + 1
    else:
        if rangetype == _SCORE:
            lo, hi = zs.score_bounds(*srange)
            if offset > 0 and offset >= len(zs.dict):
                lo = hi = 0
        else:
            lo, hi = zs.lex_bounds(lrange[0], lrange[1], reverse)
        lo, hi = _window(lo, hi, offset, limit, reverse)
    items = zs.items(lo, hi, reverse)
    if store:
        return _store_result(c, argv[1], {m: s for s, m in items}, "zrangestore")
    if withscores:
        return _with_scores(c, items)
    return [m for _, m in items]


@command("zrange", arity=-4, flags="readonly", keys=(1, 1, 1), group="sorted_set",
         since="1.2.0", summary="Return a range of members in a sorted set",
         complexity="O(log(N)+M) with N being the number of elements in the sorted set and M "
                    "the number of elements returned.",
         args="key start stop [BYSCORE|BYLEX] [REV] [LIMIT offset:integer count:integer] "
              "[WITHSCORES]",
         history=(("6.2.0", "Added the `REV`, `BYSCORE`, `BYLEX` and `LIMIT` options."),))
def zrange(c, argv):
    return zrange_generic(c, argv, 1, False, _AUTO, None)


@command("zrangestore", arity=-5, flags="write denyoom", keys=(1, 2, 1), group="sorted_set",
         since="6.2.0", summary="Store a range of members from sorted set into another key",
         complexity="O(log(N)+M) with N being the number of elements in the sorted set and M "
                    "the number of elements stored into the destination key.",
         args="dst:key src:key min max [BYSCORE|BYLEX] [REV] "
              "[LIMIT offset:integer count:integer]")
def zrangestore(c, argv):
    return zrange_generic(c, argv, 2, True, _AUTO, None)


@command("zrevrange", arity=-4, flags="readonly", keys=(1, 1, 1), group="sorted_set",
         since="1.2.0",
         summary="Return a range of members in a sorted set, by index, with scores ordered "
                 "from high to low",
         complexity="O(log(N)+M) with N being the number of elements in the sorted set and M "
                    "the number of elements returned.",
         args="key start:integer stop:integer [WITHSCORES]", doc_flags="deprecated")
def zrevrange(c, argv):
    return zrange_generic(c, argv, 1, False, _RANK, True)


@command("zrangebyscore", arity=-4, flags="readonly", keys=(1, 1, 1), group="sorted_set",
         since="1.0.5", summary="Return a range of members in a sorted set, by score",
         complexity="O(log(N)+M) with N being the number of elements in the sorted set and M "
                    "the number of elements being returned. If M is constant (e.g. always "
                    "asking for the first 10 elements with LIMIT), you can consider it "
                    "O(log(N)).",
         args="key min:double max:double [WITHSCORES] [LIMIT offset:integer count:integer]",
         doc_flags="deprecated", history=(("2.0.0", "Added the `WITHSCORES` modifier."),))
def zrangebyscore(c, argv):
    return zrange_generic(c, argv, 1, False, _SCORE, False)


@command("zrevrangebyscore", arity=-4, flags="readonly", keys=(1, 1, 1), group="sorted_set",
         since="2.2.0",
         summary="Return a range of members in a sorted set, by score, with scores ordered "
                 "from high to low",
         complexity="O(log(N)+M) with N being the number of elements in the sorted set and M "
                    "the number of elements being returned. If M is constant (e.g. always "
                    "asking for the first 10 elements with LIMIT), you can consider it "
                    "O(log(N)).",
         args="key max:double min:double [WITHSCORES] [LIMIT offset:integer count:integer]",
         doc_flags="deprecated", history=(("2.1.6", "`min` and `max` can be exclusive."),))
def zrevrangebyscore(c, argv):
    return zrange_generic(c, argv, 1, False, _SCORE, True)


@command("zrangebylex", arity=-4, flags="readonly", keys=(1, 1, 1), group="sorted_set",
         since="2.8.9",
         summary="Return a range of members in a sorted set, by lexicographical range",
         complexity="O(log(N)+M) with N being the number of elements in the sorted set and M "
                    "the number of elements being returned. If M is constant (e.g. always "
                    "asking for the first 10 elements with LIMIT), you can consider it "
                    "O(log(N)).",
         args="key min max [LIMIT offset:integer count:integer]", doc_flags="deprecated")
def zrangebylex(c, argv):
    return zrange_generic(c, argv, 1, False, _LEX, False)


@command("zrevrangebylex", arity=-4, flags="readonly", keys=(1, 1, 1), group="sorted_set",
         since="2.8.9",
         summary="Return a range of members in a sorted set, by lexicographical range, ordered "
                 "from higher to lower strings.",
         complexity="O(log(N)+M) with N being the number of elements in the sorted set and M "
                    "the number of elements being returned. If M is constant (e.g. always "
                    "asking for the first 10 elements with LIMIT), you can consider it "
                    "O(log(N)).",
         args="key max min [LIMIT offset:integer count:integer]", doc_flags="deprecated")
def zrevrangebylex(c, argv):
    return zrange_generic(c, argv, 1, False, _LEX, True)


# -- ZREMRANGEBY* -------------------------------------------------------------------------------

def _zremrange(c, argv, rangetype: int):
    if rangetype == _RANK:
        start, end = parse_long(argv[2]), parse_long(argv[3])
        event = "zremrangebyrank"
    elif rangetype == _SCORE:
        srange = parse_score_range(argv[2], argv[3])
        event = "zremrangebyscore"
    else:
        lrange = parse_lex_range(argv[2], argv[3])
        event = "zremrangebylex"
    db = c.db
    key = argv[1]
    zs = db.lookup_write(key, ZSet)
    if zs is None:
        return 0
    if rangetype == _RANK:
        span = _clip(len(zs.dict), start, end)
        if span is None:
            return 0
        lo, hi = span[0], span[1] + 1
    elif rangetype == _SCORE:
        lo, hi = zs.score_bounds(*srange)
    else:
        lo, hi = zs.lex_bounds(*lrange)
    deleted = zs.delete_range(lo, hi)
    removed_key = False
    if not zs.dict:
        db.delete(key)
        removed_key = True
    if deleted:
        db.signal_modified(key)
        notify(c, "z", event, key)
        if removed_key:
            notify(c, "g", "del", key)
    return deleted


@command("zremrangebyrank", arity=4, flags="write", keys=(1, 1, 1), group="sorted_set",
         since="2.0.0", summary="Remove all members in a sorted set within the given indexes",
         complexity="O(log(N)+M) with N being the number of elements in the sorted set and M "
                    "the number of elements removed by the operation.",
         args="key start:integer stop:integer")
def zremrangebyrank(c, argv):
    return _zremrange(c, argv, _RANK)


@command("zremrangebyscore", arity=4, flags="write", keys=(1, 1, 1), group="sorted_set",
         since="1.2.0", summary="Remove all members in a sorted set within the given scores",
         complexity="O(log(N)+M) with N being the number of elements in the sorted set and M "
                    "the number of elements removed by the operation.",
         args="key min:double max:double")
def zremrangebyscore(c, argv):
    return _zremrange(c, argv, _SCORE)


@command("zremrangebylex", arity=4, flags="write", keys=(1, 1, 1), group="sorted_set",
         since="2.8.9",
         summary="Remove all members in a sorted set between the given lexicographical range",
         complexity="O(log(N)+M) with N being the number of elements in the sorted set and M "
                    "the number of elements removed by the operation.",
         args="key min max")
def zremrangebylex(c, argv):
    return _zremrange(c, argv, _LEX)


# -- pops -------------------------------------------------------------------------------------------

def zpop_generic(c, keys: list[bytes], last: bool, emitkey: bool, count: int,
                 nested: bool, nil_when_empty: bool):
    """Redis's genericZpopCommand. count -1 is a plain single pop. Returns
    (reply, key popped from or None, number of members popped)."""
    db = c.db
    zs = None
    key = None
    for k in keys:
        v = db.lookup_write_any(k)
        if v is None:
            continue
        if v.__class__ is not ZSet:
            raise CommandError(errors.WRONGTYPE)
        zs, key = v, k
        break
    if zs is None:
        return (NULL_ARRAY if nil_when_empty else []), None, 0
    if count == 0:
        return [], None, 0
    if count == -1:
        count = 1
    n = min(count, len(zs.dict))
    popped = []
    for _ in range(n):
        m, s = zs.pop(last)
        popped.append([m, s] if nested else m)
        if not nested:
            popped.append(s)
    notify(c, "z", "zpopmax" if last else "zpopmin", key)
    if not zs.dict:
        db.delete(key)
        notify(c, "g", "del", key)
    else:
        db.signal_modified(key)
    if emitkey:
        reply = [key, popped] if nested else [key] + popped
    else:
        reply = popped
    return reply, key, n


def _zpop_cmd(c, argv, last: bool):
    if len(argv) == 2:  # fast path: pop one member
        db = c.db
        key = argv[1]
        zs = db.lookup_write(key, ZSet)
        if zs is None:
            return []
        m, s = zs.pop(last)
        srv = c.server
        srv.notify_keyspace_event("z", "zpopmax" if last else "zpopmin", key, db.id)
        if zs.dict:
            db.signal_modified(key)
        else:
            db.delete(key)
            srv.notify_keyspace_event("g", "del", key, db.id)
        return [m, s]
    if len(argv) > 3:
        raise CommandError(errors.SYNTAX)
    count = -1
    if len(argv) == 3:
        count = parse_positive_long(argv[2])
    nested = c.resp3 and count != -1
    return zpop_generic(c, [argv[1]], last, False, count, nested, False)[0]


@command("zpopmin", arity=-2, flags="write fast", keys=(1, 1, 1), group="sorted_set",
         since="5.0.0",
         summary="Remove and return members with the lowest scores in a sorted set",
         complexity="O(log(N)*M) with N being the number of elements in the sorted set, and M "
                    "being the number of elements popped.",
         args="key [count:integer]")
def zpopmin(c, argv):
    return _zpop_cmd(c, argv, False)


@command("zpopmax", arity=-2, flags="write fast", keys=(1, 1, 1), group="sorted_set",
         since="5.0.0",
         summary="Remove and return members with the highest scores in a sorted set",
         complexity="O(log(N)*M) with N being the number of elements in the sorted set, and M "
                    "being the number of elements popped.",
         args="key [count:integer]")
def zpopmax(c, argv):
    return _zpop_cmd(c, argv, True)


def _pop_argv(last: bool, key: bytes, count: int) -> list[bytes]:
    name = b"ZPOPMAX" if last else b"ZPOPMIN"
    return [name, key] if count == -1 else [name, key, b"%d" % count]


def _parse_mpop(argv: list[bytes], at: int) -> tuple[list[bytes], bool, int]:
    """numkeys key... MIN|MAX [COUNT count] starting at argv[at]."""
    numkeys = parse_range_long(argv[at], 1, LONG_MAX, "ERR numkeys should be greater than 0")
    where = at + numkeys + 1
    if where >= len(argv):
        raise CommandError(errors.SYNTAX)
    w = argv[where].lower()
    if w == b"min":
        last = False
    elif w == b"max":
        last = True
    else:
        raise CommandError(errors.SYNTAX)
    count = -1
    j = where + 1
    n = len(argv)
    while j < n:
        if count == -1 and argv[j].lower() == b"count" and n - 1 - j > 0:
            j += 1
            count = parse_range_long(argv[j], 1, LONG_MAX, "ERR count should be greater than 0")
        else:
            raise CommandError(errors.SYNTAX)
        j += 1
    if count == -1:
        count = 1
    return argv[at + 1:where], last, count


@command("zmpop", arity=-4, flags="write", group="sorted_set", since="7.0.0",
         summary="Remove and return members with scores in a sorted set",
         complexity="O(K) + O(M*log(N)) where K is the number of provided keys, N being the "
                    "number of elements in the sorted set, and M being the number of elements "
                    "popped.",
         args="numkeys:integer key... MIN|MAX [COUNT count:integer]",
         getkeys=numkeys_getkeys(0, 1, 2))
def zmpop(c, argv):
    keys, last, count = _parse_mpop(argv, 1)
    reply, key, n = zpop_generic(c, keys, last, True, count, True, True)
    if key is not None:
        c.propagate_as = [_pop_argv(last, key, n)]
    return reply


def _blocking_zpop(c, keys: list[bytes], last: bool, timeout_arg: bytes, count: int,
                   mpop: bool):
    timeout = to_timeout(timeout_arg)
    db = c.db
    for k in keys:
        v = db.lookup_write_any(k)
        if v is None:
            continue
        if v.__class__ is not ZSet:
            raise CommandError(errors.WRONGTYPE)
        llen = len(v.dict)
        reply = zpop_generic(c, [k], last, True, count, mpop, mpop)[0]
        c.propagate_as = [_pop_argv(last, k, count if count == -1 else min(count, llen))]
        return reply
    if not c.may_block:
        return NULL_ARRAY

    def serve(c, db, key):
        v = db.lookup(key)
        if v is None or v.__class__ is not ZSet or not v.dict:
            return None
        llen = len(v.dict)
        reply = zpop_generic(c, [key], last, True, count, mpop, mpop)[0]
        c.server.propagate(db.id, _pop_argv(last, key, count if count == -1
                                            else min(count, llen)))
        return reply

    c.server.blocking.block(c, keys, timeout, serve, NULL_ARRAY)
    return NOREPLY


@command("bzpopmin", arity=-3, flags="write noscript blocking fast", keys=(1, -2, 1),
         group="sorted_set", since="5.0.0",
         summary="Remove and return the member with the lowest score from one or more sorted "
                 "sets, or block until one is available",
         complexity="O(log(N)) with N being the number of elements in the sorted set.",
         args="key... timeout:double",
         history=(("6.0.0", "`timeout` is interpreted as a double instead of an integer."),))
def bzpopmin(c, argv):
    return _blocking_zpop(c, argv[1:-1], False, argv[-1], -1, False)


@command("bzpopmax", arity=-3, flags="write noscript blocking fast", keys=(1, -2, 1),
         group="sorted_set", since="5.0.0",
         summary="Remove and return the member with the highest score from one or more sorted "
                 "sets, or block until one is available",
         complexity="O(log(N)) with N being the number of elements in the sorted set.",
         args="key... timeout:double",
         history=(("6.0.0", "`timeout` is interpreted as a double instead of an integer."),))
def bzpopmax(c, argv):
    return _blocking_zpop(c, argv[1:-1], True, argv[-1], -1, False)


@command("bzmpop", arity=-5, flags="write blocking", group="sorted_set", since="7.0.0",
         summary="Remove and return members with scores in a sorted set or block until one is "
                 "available",
         complexity="O(K) + O(M*log(N)) where K is the number of provided keys, N being the "
                    "number of elements in the sorted set, and M being the number of elements "
                    "popped.",
         args="timeout:double numkeys:integer key... MIN|MAX [COUNT count:integer]",
         getkeys=numkeys_getkeys(0, 2, 3))
def bzmpop(c, argv):
    keys, last, count = _parse_mpop(argv, 2)
    return _blocking_zpop(c, keys, last, argv[1], count, True)


# -- ZRANDMEMBER -----------------------------------------------------------------------------------

@command("zrandmember", arity=-2, flags="readonly", keys=(1, 1, 1), group="sorted_set",
         since="6.2.0", summary="Get one or multiple random elements from a sorted set",
         complexity="O(N) where N is the number of elements returned",
         args="key [count:integer [WITHSCORES]]", tips="nondeterministic_output")
def zrandmember(c, argv):
    if len(argv) >= 3:
        n = parse_range_long(argv[2], -LONG_MAX, LONG_MAX)
        withscores = False
        if len(argv) > 4 or (len(argv) == 4 and argv[3].lower() != b"withscores"):
            raise CommandError(errors.SYNTAX)
        if len(argv) == 4:
            withscores = True
            if n < -LONG_MAX // 2 or n > LONG_MAX // 2:
                raise CommandError("ERR value is out of range")
        return _zrandmember_count(c, argv[1], n, withscores)
    zs = c.db.lookup_read(argv[1], ZSet)
    if zs is None:
        return None
    return zs.random_member()[0]


def _zrandmember_count(c, key: bytes, n: int, withscores: bool):
    zs = c.db.lookup_read(key, ZSet)
    if zs is None or n == 0:
        return []
    size = len(zs.dict)
    if n < 0 or n == 1:
        count = -n if n < 0 else 1
        if count > MAX_RANDOM_REPLY:
            raise CommandError("ERR value is out of range")
        pair_at = zs.pair_at
        picks = [pair_at(random.randrange(size)) for _ in range(count)]
    elif n >= size:
        picks = zs.items(0, size, True)  # Redis walks the zset from the top here
    else:
        picks = [zs.pair_at(i) for i in random.sample(range(size), n)]
    if withscores:
        return _with_scores(c, picks)
    return [m for _, m in picks]


# -- ZUNION / ZINTER / ZDIFF ------------------------------------------------------------------------

def _iter_source(v):
    """(member, score) of a zset or set input, in Redis's iteration order
    (zsets from the highest score down)."""
    if v.__class__ is ZSet:
        return ((m, s) for s, m in v.items(0, len(v.dict), True))
    return ((m, 1.0) for m in v.ordered())


def _source_score(v, m: bytes) -> float | None:
    if v.__class__ is ZSet:
        return v.dict.get(m)
    return 1.0 if m in v.index else None


def _aggregate(agg: int, target: float, val: float) -> float:
    if agg == 0:
        r = target + val
        return 0.0 if r != r else r
    if agg == 1:
        return val if val < target else target
    return val if val > target else target


def zsetop_generic(c, argv: list[bytes], at: int, dst: bytes | None, op: str,
                   card_only: bool = False):
    """ZUNION, ZINTER, ZDIFF, their STORE forms and ZINTERCARD; argv[at] is
    numkeys. op is "union", "inter" or "diff"."""
    setnum = parse_long(argv[at])
    if setnum < 1:
        raise CommandError(f"ERR at least 1 input key is needed for '{c.cmd.fullname}' command")
    if setnum > len(argv) - (at + 1):
        raise CommandError(errors.SYNTAX)
    db = c.db
    srcs = []
    for k in argv[at + 1:at + 1 + setnum]:
        v = db.lookup_read_any(k)  # the STORE forms too, in Redis 7.0
        if v is not None and v.__class__ is not ZSet and v.__class__ is not RedisSet:
            raise CommandError(errors.WRONGTYPE)
        srcs.append(v)
    weights = [1.0] * setnum
    agg = 0
    withscores = False
    limit = 0
    j = at + 1 + setnum
    n = len(argv)
    while j < n:
        remaining = n - j
        opt = argv[j].lower()
        if op != "diff" and not card_only and remaining >= setnum + 1 and opt == b"weights":
            j += 1
            for i in range(setnum):
                weights[i] = parse_score(argv[j], ERR_WEIGHT)
                j += 1
        elif op != "diff" and not card_only and remaining >= 2 and opt == b"aggregate":
            a = argv[j + 1].lower()
            if a == b"sum":
                agg = 0
            elif a == b"min":
                agg = 1
            elif a == b"max":
                agg = 2
            else:
                raise CommandError(errors.SYNTAX)
            j += 2
        elif remaining >= 1 and dst is None and not card_only and opt == b"withscores":
            withscores = True
            j += 1
        elif card_only and remaining >= 2 and opt == b"limit":
            limit = parse_positive_long(argv[j + 1], "ERR LIMIT can't be negative")
            j += 2
        else:
            raise CommandError(errors.SYNTAX)

    def size(i: int) -> int:
        v = srcs[i]
        return 0 if v is None else len(v.dict) if v.__class__ is ZSet else len(v.members)

    order = list(range(setnum))
    if op != "diff":
        order.sort(key=size)
    result: dict[bytes, float] = {}
    card = 0
    if op == "inter":
        i0 = order[0]
        first = srcs[i0]
        if size(i0) > 0:
            rest = [(srcs[i], weights[i]) for i in order[1:]]
            w0 = weights[i0]
            for m, s in _iter_source(first):
                score = w0 * s
                if score != score:
                    score = 0.0
                for v, w in rest:
                    if v is first:
                        value = s * w
                    else:
                        value = _source_score(v, m)
                        if value is None:
                            break
                        value *= w
                    score = _aggregate(agg, score, value)
                else:
                    if card_only:
                        card += 1
                        if limit and card >= limit:
                            break
                    else:
                        result[m] = score
    elif op == "union":
        for i in order:
            v = srcs[i]
            if v is None:
                continue
            w = weights[i]
            for m, s in _iter_source(v):
                score = w * s
                if score != score:
                    score = 0.0
                cur = result.get(m)
                result[m] = score if cur is None else _aggregate(agg, cur, score)
    else:
        first = srcs[0]
        if first is not None and size(0) > 0 and not any(v is first for v in srcs[1:]):
            rest = [v for v in srcs[1:] if v is not None]
            for m, s in _iter_source(first):
                for v in rest:
                    if _source_score(v, m) is not None:
                        break
                else:
                    result[m] = s

    if dst is not None:
        event = {"union": "zunionstore", "inter": "zinterstore", "diff": "zdiffstore"}[op]
        return _store_result(c, dst, result, event)
    if card_only:
        return card
    pairs = sorted((s, m) for m, s in result.items())
    if withscores:
        return _with_scores(c, pairs)
    return [m for _, m in pairs]


@command("zunion", arity=-3, flags="readonly", group="sorted_set", since="6.2.0",
         summary="Add multiple sorted sets",
         complexity="O(N)+O(M*log(M)) with N being the sum of the sizes of the input sorted "
                    "sets, and M being the number of elements in the resulting sorted set.",
         args="numkeys:integer key... [WEIGHTS weight:integer...] [AGGREGATE SUM|MIN|MAX] "
              "[WITHSCORES]",
         getkeys=numkeys_getkeys(0, 1, 2))
def zunion(c, argv):
    return zsetop_generic(c, argv, 1, None, "union")


@command("zinter", arity=-3, flags="readonly", group="sorted_set", since="6.2.0",
         summary="Intersect multiple sorted sets",
         complexity="O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted set, "
                    "K being the number of input sorted sets and M being the number of elements "
                    "in the resulting sorted set.",
         args="numkeys:integer key... [WEIGHTS weight:integer...] [AGGREGATE SUM|MIN|MAX] "
              "[WITHSCORES]",
         getkeys=numkeys_getkeys(0, 1, 2))
def zinter(c, argv):
    return zsetop_generic(c, argv, 1, None, "inter")


@command("zdiff", arity=-3, flags="readonly", group="sorted_set", since="6.2.0",
         summary="Subtract multiple sorted sets",
         complexity="O(L + (N-K)log(N)) worst case where L is the total number of elements in "
                    "all the sets, N is the size of the first set, and K is the size of the "
                    "result set.",
         args="numkeys:integer key... [WITHSCORES]",
         getkeys=numkeys_getkeys(0, 1, 2))
def zdiff(c, argv):
    return zsetop_generic(c, argv, 1, None, "diff")


@command("zunionstore", arity=-4, flags="write denyoom", keys=(1, 1, 1), group="sorted_set",
         since="2.0.0",
         summary="Add multiple sorted sets and store the resulting sorted set in a new key",
         complexity="O(N)+O(M log(M)) with N being the sum of the sizes of the input sorted "
                    "sets, and M being the number of elements in the resulting sorted set.",
         args="destination:key numkeys:integer key... [WEIGHTS weight:integer...] "
              "[AGGREGATE SUM|MIN|MAX]",
         getkeys=numkeys_getkeys(1, 2, 3))
def zunionstore(c, argv):
    return zsetop_generic(c, argv, 2, argv[1], "union")


@command("zinterstore", arity=-4, flags="write denyoom", keys=(1, 1, 1), group="sorted_set",
         since="2.0.0",
         summary="Intersect multiple sorted sets and store the resulting sorted set in a new "
                 "key",
         complexity="O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted set, "
                    "K being the number of input sorted sets and M being the number of elements "
                    "in the resulting sorted set.",
         args="destination:key numkeys:integer key... [WEIGHTS weight:integer...] "
              "[AGGREGATE SUM|MIN|MAX]",
         getkeys=numkeys_getkeys(1, 2, 3))
def zinterstore(c, argv):
    return zsetop_generic(c, argv, 2, argv[1], "inter")


@command("zdiffstore", arity=-4, flags="write denyoom", keys=(1, 1, 1), group="sorted_set",
         since="6.2.0",
         summary="Subtract multiple sorted sets and store the resulting sorted set in a new key",
         complexity="O(L + (N-K)log(N)) worst case where L is the total number of elements in "
                    "all the sets, N is the size of the first set, and K is the size of the "
                    "result set.",
         args="destination:key numkeys:integer key...",
         getkeys=numkeys_getkeys(1, 2, 3))
def zdiffstore(c, argv):
    return zsetop_generic(c, argv, 2, argv[1], "diff")


@command("zintercard", arity=-3, flags="readonly", group="sorted_set", since="7.0.0",
         summary="Intersect multiple sorted sets and return the cardinality of the result",
         complexity="O(N*K) worst case with N being the smallest input sorted set, K being the "
                    "number of input sorted sets.",
         args="numkeys:integer key... [LIMIT limit:integer]",
         getkeys=numkeys_getkeys(0, 1, 2))
def zintercard(c, argv):
    return zsetop_generic(c, argv, 1, None, "inter", card_only=True)


# -- ZSCAN --------------------------------------------------------------------------------------------

@command("zscan", arity=-3, flags="readonly", keys=(1, 1, 1), group="sorted_set",
         since="2.8.0",
         summary="Incrementally iterate sorted sets elements and associated scores",
         complexity="O(1) for every call. O(N) for a complete iteration, including enough "
                    "command calls for the cursor to return back to 0. N is the number of "
                    "elements inside the collection..",
         args="key cursor:integer [MATCH pattern:pattern] [COUNT count:integer]",
         tips="nondeterministic_output")
def zscan(c, argv):
    cursor = parse_scan_cursor(argv[2])
    zs = c.db.lookup_read(argv[1], ZSet)
    if zs is None:
        return [b"0", []]
    count, match = parse_scan_options(argv, 3)
    if zs.listpack:
        cursor, out = 0, zs.listpack_items()
    else:
        cursor, out = zs.scan(cursor, count)
    if match is not None:
        out = [x for i in range(0, len(out), 2) if match(out[i]) for x in out[i:i + 2]]
    return [b"%d" % cursor, out]
