"""The hash type.

Encodings. A hash reports Redis 7.0's encoding exactly: "listpack" while it
has at most hash-max-listpack-entries fields and every field and value set
into it is at most hash-max-listpack-value bytes; the first write that breaks
either limit makes it "hashtable" for good (Redis never converts back). The
limits are read at write time, as Redis does, so lowering them later leaves
existing hashes alone until they are written.

Memory. A dict of bytes objects costs about 100 bytes per field (two object
headers and a dict slot), several times Redis's listpack. So a small listpack
hash is held packed in ONE bytes object, `lp`, its entries one after the
other in Redis's listpack order (insertion order; an update keeps the field's
place; a delete closes the gap):

    field:  "\\x88" "0" "C" <len:1> <bytes>     (len >= 256: "B" <len:4 LE>)
    value:              "C" <len:1> <bytes>     (len >= 256: "B" <len:4 LE>)

The heads are pickle opcodes (NEWTRUE POP, SHORT_BINBYTES / BINBYTES), so
`pickle.loads(b"](" + lp + b"e.")` decodes the whole hash in C into a flat
[field, value, ...] list (HGETALL, HKEYS, ...). pickle only ever sees buffers
built here, where client bytes appear solely as counted payloads.

A lookup is one C `bytes.find` of the field's encoded form. Every field starts
with the two bytes "\\x88" "0" (`_MARK`); while no payload contains them (the
pair is invalid UTF-8 and rare in binary data), each occurrence of the marker
is a field start, so a hit is that field: never bytes inside another entry,
never a value. A write that would break this moves the hash to a dict.

The dict form (`d`, a `_Dict`) holds hash-table hashes, listpacks too large
to scan quickly (over PACK_MAX_BYTES packed) or holding the marker, and hot
listpacks: packed reads and writes cost a few hundred nanoseconds more than a
dict's, so a packed hash accessed twice in a row (or, now and then, any one)
is unpacked into a dict and remembered in its server's queue of the
HOT_HASHES most recently unpacked; the oldest is packed again when the queue
overflows. A Python dict keeps insertion order and updates values in place,
so a listpack in a dict still shows Redis's listpack order.
"""

from __future__ import annotations

import pickle
import random
from collections import deque
from itertools import chain, count, islice
from weakref import WeakKeyDictionary, ref

_loads = pickle.loads
_MARK = b"\x880"  # pickle NEWTRUE, POP: a no-op that starts every field
_SHORT = 67  # "C", SHORT_BINBYTES: a one-byte length follows
_MAX_LEN = 0xFFFFFFFF  # BINBYTES' four-byte length

PACK_MAX_BYTES = 1024  # larger listpacks stay dicts: scans would cost too much
HOT_HASHES = 1024  # unpacked hot listpacks kept per server
_HOT_MASK = 255  # besides repeated hits, every 256th packed access unpacks

# Encoded heads for lengths below 256, built once: the hot paths only index.
_FHEAD = tuple(b"\x880C" + bytes((i,)) for i in range(256))
_VHEAD = tuple(b"C" + bytes((i,)) for i in range(256))


def _field_head(n: int) -> bytes:
    return _FHEAD[n] if n < 256 else b"\x880B" + n.to_bytes(4, "little")


def _value_head(n: int) -> bytes:
    return _VHEAD[n] if n < 256 else b"B" + n.to_bytes(4, "little")


def _value_end(lp: bytes, q: int) -> int:
    """The end of the value entry that starts at q."""
    if lp[q] == _SHORT:
        return q + 2 + lp[q + 1]
    return q + 5 + int.from_bytes(lp[q + 1:q + 5], "little")


def pack(pairs) -> bytes | None:
    """The packed form of (field, value) pairs; None if it would hold the
    marker anywhere but at field starts (or a string is too long for it)."""
    parts: list[bytes] = []
    n = 0
    for f, v in pairs:
        nf = len(f)
        nv = len(v)
        if nf < 256 and nv < 256:
            parts += (_FHEAD[nf], f, _VHEAD[nv], v)
        elif nf <= _MAX_LEN and nv <= _MAX_LEN:
            parts += (_field_head(nf), f, _value_head(nv), v)
        else:
            return None
        n += 1
    lp = b"".join(parts)
    return lp if _clean(lp, n) else None


def _clean(lp: bytes, n: int) -> bool:
    """Whether the marker occurs in lp only at its n field starts."""
    # Counting one byte is quicker, and enough for data without byte 0x88.
    return lp.count(b"\x88") == n or lp.count(_MARK) == n


class _Dict(dict):
    """A hash held in a dict; `ht`: hash-table encoded (else a listpack)."""

    __slots__ = ("ht", "scans")


def _new_dict(items: object, ht: bool) -> _Dict:
    d = _Dict(items)  # type: ignore[arg-type]
    d.ht = ht
    d.scans = None
    return d


class _AnyValueLength:
    """config, with no limit on the length of a packed hash's values."""

    __slots__ = ("_config",)
    hash_max_listpack_value = 1 << 62

    def __init__(self, config: object) -> None:
        self._config = config

    def __getattr__(self, name: str) -> object:
        return getattr(self._config, name)


class _ConfigOnly:
    """Stands for a server where only its config is needed (no hotness)."""

    __slots__ = ("config",)

    def __init__(self, config: object) -> None:
        self.config = config


# Per server (commands of several in-process servers run in their own
# threads): weak references to the listpacks unpacked because they were hot,
# oldest first (a deleted hash just drops out).
_hot_queues: WeakKeyDictionary = WeakKeyDictionary()
_last: object = None  # the packed hash accessed last
_ticks = count(1)  # packed accesses (a C counter: the hot paths test it inline)


class RedisHash:
    """A hash: packed in `lp` with `n` fields, or a `_Dict` in `d`."""

    __slots__ = ("lp", "n", "d", "__weakref__")

    type_name = "hash"

    def __init__(self) -> None:
        self.lp: bytes | None = b""
        self.n = 0
        self.d: _Dict | None = None

    @classmethod
    def from_items(cls, items, config, count_only: bool = False) -> RedisHash:
        """A hash holding (field, value) pairs (distinct fields), encoded as
        Redis would encode it with `config`'s limits (for loaders).
        count_only: only the number of fields decides (Redis loading a
        listpack or ziplist keeps it packed however long its values)."""
        h = cls()
        argv = [b"HSET", b""]
        for f, v in items:
            argv += (f, v)
        if len(argv) > 2:
            h.set_many(argv, 2, _ConfigOnly(_AnyValueLength(config) if count_only else config),
                       False)
        return h

    def copy(self) -> RedisHash:
        h = RedisHash()
        h.lp = self.lp  # immutable: shared
        h.n = self.n
        d = self.d
        if d is not None:
            h.d = _new_dict(d, d.ht)
        return h

    @property
    def ht(self) -> bool:
        """True when hash-table encoded."""
        return self.lp is None and self.d.ht  # type: ignore[union-attr]

    def encoding(self, config: object) -> str:
        return "hashtable" if self.ht else "listpack"

    def __len__(self) -> int:
        return self.n if self.lp is not None else len(self.d)  # type: ignore[arg-type]

    # -- packed <-> dict -------------------------------------------------------

    def _unpack(self, ht: bool) -> _Dict:
        """Move the fields to a dict, keeping their order."""
        d = self.d = _new_dict(_loads(b"}(" + self.lp + b"u."), ht)  # type: ignore[operator]
        self.lp = None
        return d

    def _repack(self) -> None:
        """Back to the packed form if this is (still) a small listpack."""
        d = self.d
        if d is None or d.ht:
            return
        lp = pack(d.items())
        if lp is not None and len(lp) <= PACK_MAX_BYTES:
            self.lp = lp
            self.n = len(d)
            self.d = None

    def _hit(self, server: object) -> _Dict | None:
        """A command is about to use this packed hash: unpack it into a dict
        (and return that) if it looks hot, else None. (get() and set() test
        the same inline.)"""
        global _last
        if self is _last or not next(_ticks) & _HOT_MASK:
            return self._promote(server)
        _last = self
        return None

    def _promote(self, server: object) -> _Dict | None:
        """Unpack this hot hash into a dict, and queue it to be packed again.
        Returns the dict (the tests make it return None to keep hashes packed)."""
        d = self._unpack(False)
        q = _hot_queues.get(server)
        if q is None:
            q = _hot_queues[server] = deque()
        q.append(ref(self))
        if len(q) > HOT_HASHES:
            old = q.popleft()()
            if old is not None:
                old._repack()
        return d

    # -- reading ---------------------------------------------------------------

    def get(self, f: bytes, server: object = None) -> bytes | None:
        """The value of field f, or None. `server`: the command's server, when
        the access should count towards making the hash hot."""
        global _last
        lp = self.lp
        if lp is None:
            return self.d.get(f)  # type: ignore[union-attr]
        if server is not None:
            if self is _last or not next(_ticks) & _HOT_MASK:
                d = self._promote(server)
                if d is not None:
                    return d.get(f)
            else:
                _last = self
        n = len(f)
        if n < 256:
            p = lp.find(_FHEAD[n] + f)
            if p < 0:
                return None
            q = p + 4 + n
        else:
            if n > _MAX_LEN:
                return None
            p = lp.find(b"\x880B" + n.to_bytes(4, "little") + f)
            if p < 0:
                return None
            q = p + 7 + n
        if lp[q] == _SHORT:
            q += 2
            return lp[q:q + lp[q - 1]]
        return lp[q + 5:_value_end(lp, q)]

    def __contains__(self, f: bytes) -> bool:
        lp = self.lp
        if lp is None:
            return f in self.d  # type: ignore[operator]
        n = len(f)
        return n <= _MAX_LEN and _field_head(n) + f in lp

    def flat(self) -> list[bytes]:
        """[field, value, field, value, ...] in the hash's order."""
        lp = self.lp
        if lp is None:
            return list(chain.from_iterable(self.d.items()))  # type: ignore[union-attr]
        return _loads(b"](" + lp + b"e.")

    def to_dict(self) -> dict[bytes, bytes]:
        lp = self.lp
        if lp is None:
            return dict(self.d)  # type: ignore[arg-type]
        return _loads(b"}(" + lp + b"u.")

    def fields(self) -> list[bytes]:
        return list(self.d) if self.lp is None else self.flat()[0::2]  # type: ignore[arg-type]

    def values(self) -> list[bytes]:
        if self.lp is None:
            return list(self.d.values())  # type: ignore[union-attr]
        return self.flat()[1::2]

    def items(self) -> list[tuple[bytes, bytes]]:
        if self.lp is None:
            return list(self.d.items())  # type: ignore[union-attr]
        fl = self.flat()
        return list(zip(fl[0::2], fl[1::2], strict=True))

    # -- writing ---------------------------------------------------------------

    def set(self, f: bytes, v: bytes, server, hit: bool = True) -> int:
        """hashTypeSet, with Redis's conversions: 1 if the field is new, else 0.
        `server`: the command's server (its config); `hit`: whether this
        access counts towards making the hash hot (once per command)."""
        global _last
        if self.lp is not None:
            if not hit:
                return self._set_packed(f, v, server.config)
            if self is _last or not next(_ticks) & _HOT_MASK:
                if self._promote(server) is None:
                    return self._set_packed(f, v, server.config)
            else:
                _last = self
                return self._set_packed(f, v, server.config)
        d = self.d
        n = len(d)  # type: ignore[arg-type]
        d[f] = v  # type: ignore[index]
        if not d.ht:  # type: ignore[union-attr]
            cfg = server.config
            maxv = cfg.hash_max_listpack_value
            if (len(f) > maxv or len(v) > maxv
                    or len(d) > cfg.hash_max_listpack_entries):  # type: ignore[arg-type]
                d.ht = True  # type: ignore[union-attr]
        return len(d) - n  # type: ignore[arg-type]

    def _set_packed(self, f: bytes, v: bytes, cfg) -> int:
        lp = self.lp
        assert lp is not None
        nf = len(f)
        nv = len(v)
        maxv = cfg.hash_max_listpack_value
        if nf > maxv or nv > maxv:
            return self._set_unpacked(f, v, cfg, True)
        if nf < 256 and nv < 256:
            needle = _FHEAD[nf] + f
            ve = _VHEAD[nv] + v
        elif nf <= _MAX_LEN and nv <= _MAX_LEN:
            needle = _field_head(nf) + f
            ve = _value_head(nv) + v
        else:
            return self._set_unpacked(f, v, cfg, False)
        p = lp.find(needle)
        if p >= 0:  # an update, in place
            if self.n > cfg.hash_max_listpack_entries:  # the limit was lowered
                return self._set_unpacked(f, v, cfg, True)
            q = p + len(needle)
            if lp.startswith(ve, q):
                return 0  # the same value
            lp = b"".join((lp[:q], ve, lp[_value_end(lp, q):]))
            if _MARK in ve or len(lp) > PACK_MAX_BYTES:
                return self._set_unpacked(f, v, cfg, False)
            self.lp = lp
            return 0
        if self.n >= cfg.hash_max_listpack_entries:
            return self._set_unpacked(f, v, cfg, True)
        if (needle.find(_MARK, 1) >= 0 or _MARK in ve
                or len(lp) + len(needle) + len(ve) > PACK_MAX_BYTES):
            return self._set_unpacked(f, v, cfg, False)
        self.lp = b"".join((lp, needle, ve))
        self.n += 1
        return 1

    def _set_unpacked(self, f: bytes, v: bytes, cfg, ht: bool) -> int:
        d = self._unpack(ht)
        n = len(d)
        d[f] = v
        return len(d) - n

    def set_many(self, argv: list[bytes], start: int, server, hit: bool = True) -> int:
        """HSET's pairs argv[start:]: the number of new fields. (`server`, `hit`:
        as for set().)"""
        global _last
        cfg = server.config
        lp = self.lp
        if lp is not None and not self.n and self._pack_new(argv, start, cfg):
            if hit:
                _last = self
            return self.n
        if lp is not None or not self.d.ht:  # type: ignore[union-attr]
            if max(map(len, islice(argv, start, None))) > cfg.hash_max_listpack_value:
                # hashTypeTryConversion: before any field is written.
                if lp is None:
                    self.d.ht = True  # type: ignore[union-attr]
                else:
                    self._unpack(True)
            elif lp is not None and (not hit or self._hit(server) is None):
                return self._set_many_packed(argv, start, cfg)
        d = self.d
        assert d is not None
        before = len(d)
        for i in range(start, len(argv), 2):
            d[argv[i]] = argv[i + 1]
        if not d.ht and len(d) > cfg.hash_max_listpack_entries:
            d.ht = True
        return len(d) - before

    def _pack_new(self, argv: list[bytes], start: int, cfg) -> bool:
        """A new hash: pack HSET's pairs in one go (the usual way to load a
        hash) if they are distinct, short and clean; else False."""
        maxv = cfg.hash_max_listpack_value
        if maxv > 135:  # (from 136 on, a length byte can make the marker)
            maxv = 135
        parts: list[bytes] = []
        for i in range(start, len(argv), 2):
            f = argv[i]
            v = argv[i + 1]
            nf = len(f)
            nv = len(v)
            if nf > maxv or nv > maxv:
                return False
            parts += (_FHEAD[nf], f, _VHEAD[nv], v)
        n = (len(argv) - start) >> 1
        if n > cfg.hash_max_listpack_entries or len(set(argv[start::2])) != n:
            return False
        lp = b"".join(parts)
        if len(lp) > PACK_MAX_BYTES or not _clean(lp, n):
            return False
        self.lp = lp
        self.n = n
        return True

    def _set_many_packed(self, argv: list[bytes], start: int, cfg) -> int:
        # Updates go in place; new fields are appended together, in the order
        # they first appear (a field given twice keeps its last value).
        before = self.n
        new: dict[bytes, bytes] = {}
        d = None
        if not before:  # a new hash (that _pack_new could not take)
            new = dict(zip(argv[start::2], argv[start + 1::2], strict=True))
            start = len(argv)
        for i in range(start, len(argv), 2):
            f = argv[i]
            if d is not None:
                d[f] = argv[i + 1]
            elif f in new or f not in self:
                new[f] = argv[i + 1]
            else:
                self._set_packed(f, argv[i + 1], cfg)
                d = self.d
                if d is not None:  # moved to a dict: the new fields go first
                    d.update(new)
        if d is None:
            if not new:
                return 0
            added = pack(new.items())
            lp = self.lp
            if added is not None and len(lp) + len(added) <= PACK_MAX_BYTES:  # type: ignore[arg-type]
                self.lp = lp + added  # type: ignore[operator]
                self.n += len(new)
                if self.n > cfg.hash_max_listpack_entries:
                    self._unpack(True)
                return len(new)
            d = self._unpack(False)
            d.update(new)
        if not d.ht and len(d) > cfg.hash_max_listpack_entries:
            d.ht = True
        return len(d) - before

    def delete(self, f: bytes, server: object = None) -> bool:
        """Remove field f: whether it was there."""
        lp = self.lp
        if lp is None or (server is not None and self._hit(server) is not None):
            return self.d.pop(f, None) is not None  # type: ignore[union-attr]
        n = len(f)
        if n > _MAX_LEN:
            return False
        needle = _field_head(n) + f
        p = lp.find(needle)
        if p < 0:
            return False
        self.lp = lp[:p] + lp[_value_end(lp, p + len(needle)):]
        self.n -= 1
        return True

    # -- random fields (HRANDFIELD) --------------------------------------------

    def random_field(self) -> bytes:
        if self.lp is not None:
            return self.flat()[2 * random.randrange(self.n)]
        d = self.d
        i = random.randrange(len(d))  # type: ignore[arg-type]
        if i < 64:
            for k in d:  # type: ignore[union-attr]
                if not i:
                    return k
                i -= 1
        return list(d)[i]  # type: ignore[arg-type]

    def random_items(self, count: int, unique: bool) -> list[tuple[bytes, bytes]]:
        """count random (field, value) pairs: distinct ones (count < len, in
        the hash's order, as Redis's listpack sampling gives them) or, when not
        unique, with repetitions and in random order."""
        items = self.items()
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
        d = self.d
        assert d is not None
        scans = d.scans
        if scans is None:
            scans = d.scans = {}
        sid, pos = cursor >> 32, cursor & 0xFFFFFFFF
        fields = scans.get(sid) if cursor else None
        if fields is None:
            fields = list(d)
            sid = (max(scans) + 1 if scans else 1) & 0xFFFFFFF
            sid = sid or 1
            scans[sid] = fields
            while len(scans) > 4:
                del scans[next(iter(scans))]
            if not cursor:
                pos = 0
        end = pos + count
        out = [f for f in fields[pos:end] if f in d]
        if end >= len(fields):
            scans.pop(sid, None)
            return 0, out
        return (sid << 32) | end, out
