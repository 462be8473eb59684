"""The hash type.

A `dict` subclass, so HSET/HGET are plain C dict operations. Python dicts keep
insertion order and update values in place, which is exactly the order Redis
shows for a small (listpack-encoded) hash; HKEYS/HGETALL/HSCAN of a small
hash therefore match Redis element for element.

`ht` mirrors Redis 7.0's encoding: a hash is a listpack while it has at most
hash-max-listpack-entries fields and every field and value set into it is at
most hash-max-listpack-value bytes; the first write that breaks either limit
converts it to a hash table for good (Redis never converts back). The limits
are checked at write time with the configuration of that moment, as Redis
does, so lowering them later does not change existing hashes until written.
"""

from __future__ import annotations

import random


class RedisHash(dict):
    __slots__ = ("ht", "_scans")

    type_name = "hash"

    def __init__(self, *args: object) -> None:
        super().__init__(*args)
        self.ht = False
        self._scans: dict[int, list[bytes]] | None = None

    def copy(self) -> RedisHash:
        h = RedisHash(self)
        h.ht = self.ht
        return h

    def encoding(self, config: object) -> str:
        return "hashtable" if self.ht else "listpack"

    def check_conversion(self, config, strings: list[bytes]) -> None:
        """After fields/values in `strings` were set: convert to a hash table
        if a string or the field count passes the listpack limits."""
        if self.ht:
            return
        maxv = config.hash_max_listpack_value
        for s in strings:
            if len(s) > maxv:
                self.ht = True
                return
        if len(self) > config.hash_max_listpack_entries:
            self.ht = True

    # -- random fields (HRANDFIELD) --------------------------------------------

    def random_field(self) -> bytes:
        i = random.randrange(len(self))
        if i < 64:
            for k in self:
                if not i:
                    return k
                i -= 1
        return list(self)[i]

    def random_items(self, count: int, unique: bool) -> list[tuple[bytes, bytes]]:
        """count random (field, value) pairs: distinct ones (count < len, in
        the hash's order, as Redis's listpack sampling gives them) or, when not
        unique, with repetitions and in random order."""
        items = list(self.items())
        if not unique:
            return random.choices(items, k=count)
        idx = sorted(random.sample(range(len(items)), count))
        return [items[i] for i in idx]

    # -- HSCAN ---------------------------------------------------------------

    def scan(self, cursor: int, count: int) -> tuple[int, list[bytes]]:
        """One HSCAN step over a hash-table-encoded hash: (next cursor, fields).

        A Python dict has no stable bucket order to walk (Redis's reverse-binary
        cursor); instead cursor 0 snapshots the field list and the cursor
        encodes (snapshot id, position). Fields present for the whole scan are
        returned exactly once; fields deleted meanwhile are skipped. An unknown
        cursor restarts over a fresh snapshot from its position (best effort).
        """
        scans = self._scans
        if scans is None:
            scans = self._scans = {}
        sid, pos = cursor >> 32, cursor & 0xFFFFFFFF
        fields = scans.get(sid) if cursor else None
        if fields is None:
            fields = list(self)
            sid = (max(scans) + 1 if scans else 1) & 0xFFFFFFF
            sid = sid or 1
            scans[sid] = fields
            while len(scans) > 4:
                del scans[next(iter(scans))]
            if not cursor:
                pos = 0
        end = pos + count
        out = [f for f in fields[pos:end] if f in self]
        if end >= len(fields):
            scans.pop(sid, None)
            return 0, out
        return (sid << 32) | end, out
