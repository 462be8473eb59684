"""The sorted set type.

A dict member -> score answers ZSCORE in O(1); a `SortedList` of keys keeps
Redis's order (score, then member bytes, as the skiplist compares them) and
gives ranks, index ranges and score ranges in O(log n). A key is the score
encoded in 8 bytes that sort like the doubles (sign bit flipped for
positives, all bits flipped for negatives; -0 taken as 0, which Redis's
comparisons treat as equal) followed by the member. Comparing such bytes is a
memcmp in C, twice as fast as comparing (score, member) tuples, which is
most of the cost of ZADD on a large set. Score bounds are found by bisecting
with the bare 8-byte prefix, which sorts before every key with that score;
"score > s" is "score >= nextafter(s, +inf)".

Redis 7.0 keeps a small sorted set in a listpack (at most
zset-max-listpack-entries members, none longer than zset-max-listpack-value)
and converts it to a skiplist for good once it grows past either limit.
`listpack` mirrors that for OBJECT ENCODING and for the two visible effects
of the listpack: a score of -0 is stored as the integer 0, and ZSCAN returns
everything in one call with scores written as the listpack stores them.
"""

from __future__ import annotations

import math
import random
import struct
from bisect import bisect_left

from sortedcontainers import SortedList

_INF = math.inf
_nextafter = math.nextafter
_LL_HALF = float((2**63 - 1) // 2)
_pack_d = struct.Struct(">d").pack
_unpack_q = struct.Struct(">Q").unpack
_pack_q = struct.Struct(">Q").pack


def score_prefix(score: float) -> bytes:
    """8 bytes that sort as the scores do (see the module docstring)."""
    if score == 0:
        score = 0.0
    u, = _unpack_q(_pack_d(score))
    return _pack_q(u ^ 0xFFFFFFFFFFFFFFFF if u >> 63 else u | 0x8000000000000000)

# Lex range bound kinds ("-" and "+" are Redis's shared.minstring/maxstring).
LEX_MIN = -1
LEX_MAX = 1
LEX_VALUE = 0


class LexBound:
    """One end of a lex range: `[a` (inclusive), `(a` (exclusive), `-`, `+`."""

    __slots__ = ("kind", "value", "ex")

    def __init__(self, kind: int, value: bytes, ex: bool) -> None:
        self.kind = kind
        self.value = value
        self.ex = ex


def lex_cmp(a: LexBound, b: LexBound) -> int:
    """Redis's sdscmplex between two bounds."""
    if a.kind == b.kind and a.kind != LEX_VALUE:
        return 0
    if a.kind == LEX_MIN or b.kind == LEX_MAX:
        return -1
    if a.kind == LEX_MAX or b.kind == LEX_MIN:
        return 1
    return (a.value > b.value) - (a.value < b.value)


def lex_gte_min(m: bytes, lo: LexBound) -> bool:
    if lo.kind:
        return lo.kind == LEX_MIN
    return m > lo.value if lo.ex else m >= lo.value


def lex_lte_max(m: bytes, hi: LexBound) -> bool:
    if hi.kind:
        return hi.kind == LEX_MAX
    return m < hi.value if hi.ex else m <= hi.value


def lex_range_empty(lo: LexBound, hi: LexBound) -> bool:
    cmp = lex_cmp(lo, hi)
    return cmp > 0 or (cmp == 0 and (lo.ex or hi.ex))


def listpack_score(score: float) -> bytes:
    """A score as a listpack stores it (what ZSCAN shows for small zsets)."""
    if -_LL_HALF <= score <= _LL_HALF and score == int(score):
        return b"%d" % int(score)
    if score != score:
        return b"nan"
    if score in (_INF, -_INF):
        return b"inf" if score > 0 else b"-inf"
    return b"%.17g" % score


class ZSet:
    __slots__ = ("dict", "sl", "listpack", "_scans")

    type_name = "zset"

    def __init__(self, listpack: bool = True) -> None:
        self.dict: dict[bytes, float] = {}
        self.sl = SortedList()  # score_prefix(score) + member
        self.listpack = listpack
        self._scans: dict[int, list[bytes]] | None = None

    @classmethod
    def from_scores(cls, scores: dict[bytes, float], listpack: bool) -> ZSet:
        z = cls(listpack)
        if listpack:
            scores = {m: (0.0 if s == 0 else s) for m, s in scores.items()}
        z.dict = scores
        z.sl = SortedList([score_prefix(s) + m for m, s in scores.items()])
        return z

    def __len__(self) -> int:
        return len(self.dict)

    # -- single members --------------------------------------------------

    def insert(self, member: bytes, score: float) -> None:
        """Add a member that is not there yet."""
        if score == 0 and self.listpack:
            score = 0.0  # a listpack stores -0 as the integer 0
        self.dict[member] = score
        self.sl.add(score_prefix(score) + member)

    def update(self, member: bytes, old: float, new: float) -> None:
        if new == 0 and self.listpack:
            new = 0.0
        sl = self.sl
        sl.remove(score_prefix(old) + member)
        sl.add(score_prefix(new) + member)
        self.dict[member] = new

    def delete(self, member: bytes) -> bool:
        score = self.dict.pop(member, None)
        if score is None:
            return False
        self.sl.remove(score_prefix(score) + member)
        return True

    def rank(self, member: bytes) -> int | None:
        score = self.dict.get(member)
        if score is None:
            return None
        return self.sl.bisect_left(score_prefix(score) + member)

    def pop(self, last: bool) -> tuple[bytes, float]:
        member = self.sl.pop(-1 if last else 0)[8:]
        return member, self.dict.pop(member)

    def delete_range(self, lo: int, hi: int) -> int:
        """Remove the members at positions [lo, hi)."""
        if hi <= lo:
            return 0
        sl = self.sl
        d = self.dict
        for k in sl.islice(lo, hi):
            del d[k[8:]]
        del sl[lo:hi]
        return hi - lo

    def pair_at(self, i: int) -> tuple[float, bytes]:
        m = self.sl[i][8:]
        return self.dict[m], m

    def random_member(self) -> tuple[bytes, float]:
        score, member = self.pair_at(random.randrange(len(self.sl)))
        return member, score

    # -- ranges -------------------------------------------------------------

    def items(self, lo: int, hi: int, reverse: bool = False) -> list[tuple[float, bytes]]:
        """(score, member) at positions [lo, hi), backwards if reverse."""
        d = self.dict
        out = []
        for k in self.sl.islice(lo, hi, reverse=reverse):
            m = k[8:]
            out.append((d[m], m))
        return out

    def members(self, reverse: bool = False) -> list[bytes]:
        keys = reversed(self.sl) if reverse else self.sl
        return [k[8:] for k in keys]

    def score_bounds(self, mn: float, minex: bool, mx: float, maxex: bool) -> tuple[int, int]:
        """Positions [lo, hi) of the members with mn <(=) score <(=) mx."""
        sl = self.sl
        if minex:
            lo = len(sl) if mn == _INF else sl.bisect_left(score_prefix(_nextafter(mn, _INF)))
        else:
            lo = sl.bisect_left(score_prefix(mn))
        if maxex:
            hi = sl.bisect_left(score_prefix(mx))
        else:
            hi = len(sl) if mx == _INF else sl.bisect_left(score_prefix(_nextafter(mx, _INF)))
        return lo, max(lo, hi)

    def lex_bounds(self, lo: LexBound, hi: LexBound, reverse: bool = False) -> tuple[int, int]:
        """Positions [start, end) of a lex range, for sets whose members all
        have one score (Redis leaves other cases unspecified; there we
        reproduce what its listpack scan returns, forwards or backwards)."""
        sl = self.sl
        n = len(sl)
        if not n or lex_range_empty(lo, hi):
            return 0, 0
        first, last = sl[0], sl[-1]
        if first[:8] == last[:8]:
            prefix = first[:8]
            if lo.kind:
                a = 0 if lo.kind == LEX_MIN else n
            else:
                k = prefix + lo.value
                a = sl.bisect_right(k) if lo.ex else sl.bisect_left(k)
            if hi.kind:
                b = n if hi.kind == LEX_MAX else 0
            else:
                k = prefix + hi.value
                b = sl.bisect_left(k) if hi.ex else sl.bisect_right(k)
            return a, max(a, b)
        if not lex_gte_min(last[8:], lo) or not lex_lte_max(first[8:], hi):
            return 0, 0
        if not self.listpack:
            # A skiplist's lex search assumes sorted members, and where they
            # are not its answer depends on its random levels: search as if
            # they were sorted, in O(log n) steps.
            a = bisect_left(sl, True, key=lambda k: lex_gte_min(k[8:], lo))
            b = bisect_left(sl, True, lo=a, key=lambda k: not lex_lte_max(k[8:], hi))
            return a, max(a, b)
        members = self.members()
        if not reverse:
            for a in range(n):
                if lex_gte_min(members[a], lo):
                    break
            b = a
            while b < n and lex_lte_max(members[b], hi):
                b += 1
            return a, b
        for b in range(n - 1, -1, -1):
            if lex_lte_max(members[b], hi):
                break
        a = b + 1
        while a > 0 and lex_gte_min(members[a - 1], lo):
            a -= 1
        return a, b + 1

    # -- scanning -------------------------------------------------------------

    def scan(self, cursor: int, count: int) -> tuple[int, list[bytes]]:
        """One ZSCAN step over a skiplist zset: member, score, member, ...

        Positions in the sorted order shift on every insert, so cursor 0
        takes a snapshot of the member names (a few are kept per zset); the
        cursor encodes (snapshot id, position). Members deleted since the
        snapshot are skipped; each present all along is returned once.
        """
        scans = self._scans
        if scans is None:
            scans = self._scans = {}
        sid, pos = cursor >> 32, cursor & 0xFFFFFFFF
        snap = scans.get(sid) if cursor else None
        if snap is None:
            snap = list(self.dict)
            sid = (max(scans) + 1) if scans else 1
            scans[sid] = snap
            while len(scans) > 4:
                del scans[next(iter(scans))]
            if not cursor:
                pos = 0
        d = self.dict
        out = []
        end = pos + count
        for m in snap[pos:end]:
            s = d.get(m)
            if s is not None:
                out.append(m)
                out.append(b"inf" if s == _INF else b"-inf" if s == -_INF else b"%.17g" % s)
        if end >= len(snap):
            del scans[sid]
            return 0, out
        return (sid << 32) | end, out

    def listpack_items(self) -> list[bytes]:
        out = []
        d = self.dict
        for k in self.sl:
            m = k[8:]
            out.append(m)
            out.append(listpack_score(d[m]))
        return out

    # -- encoding ---------------------------------------------------------------

    def to_skiplist(self) -> None:
        self.listpack = False

    def fits_listpack(self, max_entries: int, max_value: int) -> bool:
        return len(self.dict) <= max_entries and all(len(m) <= max_value for m in self.dict)

    def copy(self) -> ZSet:
        z = ZSet(self.listpack)
        z.dict = dict(self.dict)
        z.sl = self.sl.copy()
        return z

    def encoding(self, config: object) -> str:
        return "listpack" if self.listpack else "skiplist"

    def __repr__(self) -> str:
        return f"<ZSet {self.items(0, len(self.sl))!r}>"
