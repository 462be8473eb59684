"""The set type.

Members live in a list with a dict member -> position beside it. Removal
swaps the last member into the freed slot, so SPOP and SRANDMEMBER pick a
random member in O(1) without copying, and SSCAN can walk positions from the
end down (see `scan`).

Redis 7.0 keeps a set of integers as an "intset" (sorted 64-bit integers)
while every member is an integer in canonical form and there are at most
set-max-intset-entries of them; past that it converts to a hash table for
good. `intset` mirrors that flag so OBJECT ENCODING and the iteration order
Redis shows for intsets (ascending numbers) match.
"""

from __future__ import annotations

import random
import re

# Redis's string2ll: optional '-', no leading zeros, no '+', no spaces.
_INT_RE = re.compile(rb"-?[1-9][0-9]{0,18}|0")
_LLONG_MIN = -(2**63)
_LLONG_MAX = 2**63 - 1
# Redis caps set-max-intset-entries at 2**30 (intset internals).
_INTSET_CAP = 1 << 30


def is_int_member(m: bytes) -> bool:
    """True if Redis would store m in an intset (string2ll accepts it)."""
    if _INT_RE.fullmatch(m) is None:
        return False
    if len(m) < 19:
        return True
    return _LLONG_MIN <= int(m) <= _LLONG_MAX


class RedisSet:
    __slots__ = ("members", "index", "intset")

    type_name = "set"

    def __init__(self, intset: bool = True) -> None:
        self.members: list[bytes] = []
        self.index: dict[bytes, int] = {}
        self.intset = intset

    @classmethod
    def for_member(cls, first: bytes) -> RedisSet:
        """A new empty set encoded as Redis's setTypeCreate(first) would be."""
        return cls(is_int_member(first))

    @classmethod
    def from_members(cls, members, max_intset: int) -> RedisSet:
        """A set as Redis builds it when loading one (RDB, DEBUG RELOAD): an
        intset if every member is an integer and they fit, else a hash table."""
        s = cls(True)
        for m in members:
            s.add(m, max_intset)
        return s

    def __len__(self) -> int:
        return len(self.members)

    def __contains__(self, m: bytes) -> bool:
        return m in self.index

    def add(self, m: bytes, max_intset: int) -> bool:
        """Add m; False if it was there. max_intset: set-max-intset-entries."""
        index = self.index
        if m in index:
            return False
        members = self.members
        index[m] = len(members)
        members.append(m)
        if self.intset and (not is_int_member(m) or len(members) > min(max_intset, _INTSET_CAP)):
            self.intset = False
        return True

    def remove(self, m: bytes) -> bool:
        index = self.index
        i = index.pop(m, None)
        if i is None:
            return False
        members = self.members
        last = members.pop()
        if i < len(members):
            members[i] = last
            index[last] = i
        return True

    def random(self) -> bytes:
        return random.choice(self.members)

    def pop_random(self) -> bytes:
        members = self.members
        i = random.randrange(len(members))
        m = members[i]
        last = members.pop()
        del self.index[m]
        if i < len(members):
            members[i] = last
            self.index[last] = i
        return m

    def ordered(self) -> list[bytes]:
        """Members in the order Redis iterates them (intsets: ascending)."""
        if self.intset:
            return sorted(self.members, key=int)
        return list(self.members)

    def scan(self, cursor: int, count: int) -> tuple[int, list[bytes]]:
        """One SSCAN step over a hash-table set.

        The cursor is how many positions remain unvisited below it (0 starts
        at the end). Swap-removal only moves the last member down, and new
        members are appended, so a member present during the whole scan stays
        below the cursor until visited: each is returned at least once.
        """
        n = len(self.members)
        pos = n if cursor == 0 or cursor > n else cursor
        lo = max(pos - count, 0)
        out = self.members[lo:pos]
        out.reverse()
        return lo, out

    def copy(self) -> RedisSet:
        s = RedisSet(self.intset)
        s.members = list(self.members)
        s.index = dict(self.index)
        return s

    def encoding(self, config: object) -> str:
        return "intset" if self.intset else "hashtable"

    def __repr__(self) -> str:
        return f"<RedisSet {self.members!r}>"
