"""The list type.

A `collections.deque` subclass: push and pop at both ends are O(1) C calls,
as on Redis's quicklist; indexing walks 64-element blocks from the nearer
end, so LINDEX/LSET cost O(n) at worst, also as on a quicklist.

Redis 7.0 encodes every list as a quicklist (the small-list "listpack"
encoding arrived in 7.2), so OBJECT ENCODING always says "quicklist".

Indexes follow Redis: negative ones count from the tail (-1 is the last
element); ranges are inclusive at both ends and clipped to the list.
"""

from __future__ import annotations

from collections import deque
from itertools import islice


class RedisList(deque):
    __slots__ = ()

    type_name = "list"

    def copy(self) -> RedisList:
        return RedisList(self)

    def encoding(self, config: object) -> str:
        return "quicklist"

    # -- reading -------------------------------------------------------------

    def clip(self, start: int, end: int) -> tuple[int, int]:
        """Redis's range normalisation: (start, end) inclusive, or (0, -1) if empty."""
        n = len(self)
        if start < 0:
            start += n
        if end < 0:
            end += n
        if start < 0:
            start = 0
        if start > end or start >= n:
            return 0, -1
        if end >= n:
            end = n - 1
        return start, end

    def range(self, start: int, end: int, into: type[list] = list) -> list[bytes]:
        """Elements start..end (already clipped), walking from the nearer end,
        in a new list of type `into` (a list subclass)."""
        if start > end:
            return into()
        n = len(self)
        if start == 0 and end == n - 1:
            return into(self)
        if start <= n - 1 - end:
            return into(islice(self, start, end + 1))
        out = into(islice(reversed(self), n - 1 - end, n - start))
        out.reverse()
        return out

    def get(self, index: int) -> bytes | None:
        """LINDEX: the element at index, or None when out of range."""
        n = len(self)
        if index < 0:
            index += n
        if 0 <= index < n:
            return self[index]
        return None

    def pos(self, element: bytes, rank: int, count: int, maxlen: int) -> list[int]:
        """LPOS: indexes of matches. rank > 0 scans from the head, < 0 from the
        tail, skipping |rank|-1 matches; count 0 means all; maxlen 0 means the
        whole list. (rank is never 0; Redis rejects it.)"""
        n = len(self)
        out: list[int] = []
        skip = rank - 1 if rank > 0 else -rank - 1
        limit = n if maxlen == 0 or maxlen > n else maxlen
        if rank > 0:
            i = 0
            while True:
                try:
                    i = self.index(element, i, limit)
                except ValueError:
                    break
                if skip:
                    skip -= 1
                else:
                    out.append(i)
                    if count and len(out) >= count:
                        break
                i += 1
        else:
            for j, x in enumerate(islice(reversed(self), limit)):
                if x == element:
                    if skip:
                        skip -= 1
                    else:
                        out.append(n - 1 - j)
                        if count and len(out) >= count:
                            break
        return out

    # -- writing -------------------------------------------------------------

    def set(self, index: int, value: bytes) -> bool:
        """LSET: False when index is out of range."""
        n = len(self)
        if index < 0:
            index += n
        if 0 <= index < n:
            self[index] = value
            return True
        return False

    def insert_at_pivot(self, pivot: bytes, value: bytes, after: bool) -> bool:
        """LINSERT: insert next to the first pivot from the head; False if absent."""
        try:
            i = self.index(pivot)
        except ValueError:
            return False
        self.insert(i + 1 if after else i, value)
        return True

    def remove_count(self, value: bytes, count: int) -> int:
        """LREM: remove up to |count| occurrences (all if 0), from the tail if
        count < 0. Returns how many were removed."""
        n = len(self)
        if count == 0:
            keep = [x for x in self if x != value]
        else:
            todo = count if count > 0 else -count
            keep = []
            src = self if count > 0 else reversed(self)
            for x in src:
                if todo and x == value:
                    todo -= 1
                else:
                    keep.append(x)
            if count < 0:
                keep.reverse()
        removed = n - len(keep)
        if removed:
            self.clear()
            self.extend(keep)
        return removed

    def trim(self, start: int, end: int) -> int:
        """LTRIM: keep start..end (Redis's normalisation). Returns how many
        elements were removed."""
        n = len(self)
        s, e = self.clip(start, end)
        if s > e:
            self.clear()
            return n
        left, right = s, n - 1 - e
        removed = left + right
        if removed > e - s + 1:
            keep = list(islice(self, s, e + 1))
            self.clear()
            self.extend(keep)
        else:
            for _ in range(left):
                self.popleft()
            for _ in range(right):
                self.pop()
        return removed

    def pop_many(self, left: bool, count: int) -> list[bytes]:
        """Pop up to count elements from one end, in pop order."""
        if count >= len(self):
            out = list(self) if left else list(reversed(self))
            self.clear()
            return out
        pop = self.popleft if left else self.pop
        return [pop() for _ in range(count)]
