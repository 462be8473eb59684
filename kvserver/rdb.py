"""Redis's RDB encoding: of one value, what DUMP writes and RESTORE reads, and
the building blocks FUNCTION DUMP/RESTORE share (kvserver.scripting.functions).

A DUMP payload is one RDB object (a type byte, then the value) followed by
the RDB version (2 bytes, little-endian) and a CRC-64 of everything before it
(8 bytes, little-endian), as in Redis's createDumpPayload.

Written: strings as raw bytes or small integers, and lists, sets, hashes and sorted sets in the
plain RDB types (LIST, SET, HASH, ZSET_2), which Redis 7.0 loads and re-encodes
by its own limits. Read: those, and what Redis 7.0 itself writes: integer and
LZF-compressed strings, intsets, listpacks (small hashes and sorted sets) and
quicklists of listpacks, and what older versions wrote and Redis 7.0 still
loads: ziplists (lists, hashes and sorted sets up to 6.2), quicklists of
ziplists, zipmaps (hashes before 2.6). Reading is strict: any inconsistency
raises BadData, never something half-built.
"""

from __future__ import annotations

import math
import struct
from typing import TYPE_CHECKING

from kvserver.protocol import string2ll
from kvserver.types.hash import RedisHash
from kvserver.types.list import RedisList
from kvserver.types.set import RedisSet
from kvserver.types.zset import ZSet

if TYPE_CHECKING:
    from kvserver.config import Config

RDB_VERSION = 10  # Redis 7.0

# Object types (rdb.h).
TYPE_STRING, TYPE_LIST, TYPE_SET, TYPE_ZSET, TYPE_HASH, TYPE_ZSET_2 = 0, 1, 2, 3, 4, 5
TYPE_SET_INTSET, TYPE_HASH_LISTPACK, TYPE_ZSET_LISTPACK, TYPE_LIST_QUICKLIST_2 = 11, 16, 17, 18
# Read only: what Redis up to 6.2 wrote (ziplists), and before 2.6 (zipmap).
TYPE_HASH_ZIPMAP, TYPE_LIST_ZIPLIST, TYPE_ZSET_ZIPLIST, TYPE_HASH_ZIPLIST = 9, 10, 12, 13
TYPE_LIST_QUICKLIST = 14

# String encodings, after a length byte of type 3 (RDB_ENCVAL).
_ENC_INT8, _ENC_INT16, _ENC_INT32, _ENC_LZF = 0, 1, 2, 3
_QUICKLIST_PLAIN, _QUICKLIST_PACKED = 1, 2


class BadData(ValueError):
    """The payload is not a value this server can load (RESTORE: Bad data format)."""


# -- CRC-64 (Jones polynomial, reflected; Redis's crc64.c) -------------------------------

def _crc64_table() -> list[int]:
    poly = 0x95AC9329AC4BC9B5  # 0xad93d23594c935a9, bit-reversed
    table = []
    for i in range(256):
        crc = i
        for _ in range(8):
            crc = (crc >> 1) ^ poly if crc & 1 else crc >> 1
        table.append(crc)
    return table


_CRC64_TABLE = _crc64_table()


def crc64(data: bytes, crc: int = 0) -> int:
    table = _CRC64_TABLE
    for b in data:
        crc = table[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc


# -- payloads -------------------------------------------------------------------------

def dump_payload(value: object) -> bytes:
    """DUMP's reply for value."""
    body = bytearray()
    _write_object(body, value)
    return with_footer(body)


def with_footer(body: bytearray) -> bytes:
    """A DUMP payload: body, then the RDB version and the CRC-64 of both."""
    body += struct.pack("<H", RDB_VERSION)
    return bytes(body) + struct.pack("<Q", crc64(body))


def payload_is_valid(payload: bytes) -> bool:
    """verifyDumpPayload: a known RDB version and a matching checksum."""
    if len(payload) < 10:
        return False
    version = payload[-10] | payload[-9] << 8
    if version > RDB_VERSION:
        return False
    return crc64(payload[:-8]) == struct.unpack("<Q", payload[-8:])[0]


def load_payload(payload: bytes, config: Config) -> object:
    """The value of a payload that passed payload_is_valid; raises BadData."""
    # Redis reads the object from the whole payload, footer included: an
    # object cut short takes its last bytes from the footer.
    r = Reader(payload)
    try:
        value = _read_object(r, config)
    except (IndexError, struct.error, ValueError, OverflowError, MemoryError):
        raise BadData from None
    return value


# -- writing ----------------------------------------------------------------------------

def write_length(out: bytearray, n: int) -> None:
    if n < 1 << 6:
        out.append(n)
    elif n < 1 << 14:
        out += bytes((0x40 | n >> 8, n & 0xFF))
    elif n < 1 << 32:
        out.append(0x80)
        out += struct.pack(">I", n)
    else:
        out.append(0x81)
        out += struct.pack(">Q", n)


def write_string(out: bytearray, s: bytes) -> None:
    # A short canonical integer is stored as one (rdbTryIntegerEncoding), so
    # that a small string's DUMP is Redis's, byte for byte. (Redis also
    # LZF-compresses strings over 20 bytes; kvserver writes them raw.)
    if len(s) <= 11:
        v = string2ll(s)
        if v is not None:
            if -(1 << 7) <= v < 1 << 7:
                out += b"\xc0" + struct.pack("<b", v)
                return
            if -(1 << 15) <= v < 1 << 15:
                out += b"\xc1" + struct.pack("<h", v)
                return
            if -(1 << 31) <= v < 1 << 31:
                out += b"\xc2" + struct.pack("<i", v)
                return
    write_length(out, len(s))
    out += s


def _write_object(out: bytearray, v: object) -> None:
    if isinstance(v, bytes):
        out.append(TYPE_STRING)
        write_string(out, v)
    elif isinstance(v, RedisList):
        out.append(TYPE_LIST)
        write_length(out, len(v))
        for e in v:
            write_string(out, e)
    elif isinstance(v, RedisSet):
        out.append(TYPE_SET)
        write_length(out, len(v))
        for m in v.members:
            write_string(out, m)
    elif isinstance(v, RedisHash):
        out.append(TYPE_HASH)
        items = v.items()
        write_length(out, len(items))
        for f, val in items:
            write_string(out, f)
            write_string(out, val)
    elif isinstance(v, ZSet):
        out.append(TYPE_ZSET_2)
        write_length(out, len(v))
        for m, score in v.dict.items():
            write_string(out, m)
            out += struct.pack("<d", score)
    else:
        raise TypeError(f"no RDB encoding for {type(v).__name__}")


# -- reading ----------------------------------------------------------------------------

class Reader:
    """Reads RDB lengths and strings from buf (to its end, or to `end`);
    anything cut short or malformed raises BadData."""

    __slots__ = ("buf", "pos", "end")

    def __init__(self, buf: bytes, end: int | None = None) -> None:
        self.buf = buf
        self.pos = 0
        self.end = len(buf) if end is None else end

    def take(self, n: int) -> bytes:
        p = self.pos
        if n < 0 or p + n > self.end:
            raise BadData
        self.pos = p + n
        return self.buf[p:p + n]

    def byte(self) -> int:
        return self.take(1)[0]

    def length(self) -> tuple[int, bool]:
        """(length, False), or (string encoding, True) (rdbLoadLenByRef)."""
        b = self.byte()
        kind = b >> 6
        if kind == 0:
            return b & 0x3F, False
        if kind == 1:
            return (b & 0x3F) << 8 | self.byte(), False
        if kind == 3:
            return b & 0x3F, True
        if b == 0x80:
            return struct.unpack(">I", self.take(4))[0], False
        if b == 0x81:
            return struct.unpack(">Q", self.take(8))[0], False
        raise BadData

    def count(self) -> int:
        n, encoded = self.length()
        if encoded:
            raise BadData
        return n

    def string(self) -> bytes:
        n, encoded = self.length()
        if not encoded:
            return self.take(n)
        if n == _ENC_INT8:
            return b"%d" % struct.unpack("<b", self.take(1))[0]
        if n == _ENC_INT16:
            return b"%d" % struct.unpack("<h", self.take(2))[0]
        if n == _ENC_INT32:
            return b"%d" % struct.unpack("<i", self.take(4))[0]
        if n == _ENC_LZF:
            clen, size = self.count(), self.count()
            return lzf_decompress(self.take(clen), size)
        raise BadData


def _read_object(r: Reader, config: Config) -> object:
    t = r.byte()
    if t == TYPE_STRING:
        return r.string()
    if t == TYPE_LIST:
        items = [r.string() for _ in range(r.count())]
        return _nonempty(RedisList(items))
    if t == TYPE_LIST_ZIPLIST:
        return _nonempty(RedisList(ziplist_entries(r.string())))
    if t == TYPE_LIST_QUICKLIST:
        lst = RedisList()
        for _ in range(r.count()):
            lst.extend(ziplist_entries(r.string()))
        return _nonempty(lst)
    if t == TYPE_LIST_QUICKLIST_2:
        lst = RedisList()
        for _ in range(r.count()):
            container = r.count()
            node = r.string()
            if container == _QUICKLIST_PLAIN:
                lst.append(node)
            elif container == _QUICKLIST_PACKED:
                lst.extend(listpack_entries(node))
            else:
                raise BadData
        return _nonempty(lst)
    if t in (TYPE_SET, TYPE_SET_INTSET):
        members = ([r.string() for _ in range(r.count())] if t == TYPE_SET
                   else intset_members(r.string()))
        if len(set(members)) != len(members):
            raise BadData  # duplicate members
        return _nonempty(RedisSet.from_members(members, config.set_max_intset_entries))
    if t in (TYPE_HASH, TYPE_HASH_LISTPACK, TYPE_HASH_ZIPLIST, TYPE_HASH_ZIPMAP):
        if t == TYPE_HASH:
            flat = [r.string() for _ in range(2 * r.count())]
        else:
            blob = r.string()
            flat = (listpack_entries(blob) if t == TYPE_HASH_LISTPACK
                    else ziplist_entries(blob) if t == TYPE_HASH_ZIPLIST
                    else zipmap_entries(blob))
            if len(flat) % 2:
                raise BadData
        items = list(zip(flat[0::2], flat[1::2], strict=True))
        if len({f for f, _ in items}) != len(items):
            raise BadData  # duplicate fields
        # Redis keeps a loaded listpack or ziplist packed unless it has too
        # many fields, however long its values (checking is an O(N) scan).
        count_only = t in (TYPE_HASH_LISTPACK, TYPE_HASH_ZIPLIST)
        return _nonempty(RedisHash.from_items(items, config, count_only))
    if t in (TYPE_ZSET, TYPE_ZSET_2, TYPE_ZSET_LISTPACK, TYPE_ZSET_ZIPLIST):
        scores: dict[bytes, float] = {}
        if t in (TYPE_ZSET_LISTPACK, TYPE_ZSET_ZIPLIST):
            blob = r.string()
            flat = listpack_entries(blob) if t == TYPE_ZSET_LISTPACK else ziplist_entries(blob)
            if len(flat) % 2:
                raise BadData
            # a score is an integer entry or a double's text ("1.5", "inf")
            pairs = [(m, float(s)) for m, s in zip(flat[0::2], flat[1::2], strict=True)]
        else:
            pairs = []
            for _ in range(r.count()):
                m = r.string()
                s = (struct.unpack("<d", r.take(8))[0] if t == TYPE_ZSET_2
                     else _old_double(r))
                pairs.append((m, s))
        for m, s in pairs:
            if math.isnan(s) or m in scores:
                raise BadData  # Redis refuses NaN scores and duplicate members
            scores[m] = s
        # As for hashes: a loaded listpack or ziplist stays packed unless it
        # has too many members.
        listpack = (len(scores) <= config.zset_max_listpack_entries
                    and (t in (TYPE_ZSET_LISTPACK, TYPE_ZSET_ZIPLIST)
                         or all(len(m) <= config.zset_max_listpack_value for m in scores)))
        return _nonempty(ZSet.from_scores(scores, listpack))
    raise BadData  # modules, streams


def _nonempty(v):
    if not len(v):
        raise BadData  # Redis refuses an empty collection (RDB_LOAD_ERR_EMPTY_KEY)
    return v


def _old_double(r: Reader) -> float:
    """RDB_TYPE_ZSET's scores: a length byte and ASCII, 253-255 for nan/+inf/-inf."""
    n = r.byte()
    if n == 253:
        return math.nan
    if n == 254:
        return math.inf
    if n == 255:
        return -math.inf
    return float(r.take(n))


# -- compact encodings ------------------------------------------------------------------

def lzf_decompress(data: bytes, size: int) -> bytes:
    """LZF (lzf_d.c): literal runs and back-references; must yield size bytes."""
    out = bytearray()
    i, n = 0, len(data)
    while i < n:
        ctrl = data[i]
        i += 1
        if ctrl < 32:  # a literal run of ctrl + 1 bytes
            run = data[i:i + ctrl + 1]
            if len(run) != ctrl + 1:
                raise BadData
            out += run
            i += ctrl + 1
        else:  # a back-reference
            length = ctrl >> 5
            if length == 7:
                if i >= n:
                    raise BadData
                length += data[i]
                i += 1
            if i >= n:
                raise BadData
            ref = len(out) - ((ctrl & 0x1F) << 8) - data[i] - 1
            i += 1
            length += 2
            if ref < 0:
                raise BadData
            if ref + length <= len(out):
                out += out[ref:ref + length]
            else:  # the copy overlaps what it writes: a repeating pattern
                pattern = out[ref:]
                out += (pattern * (length // len(pattern) + 1))[:length]
        if len(out) > size:
            raise BadData
    if len(out) != size:
        raise BadData
    return bytes(out)


def intset_members(blob: bytes) -> list[bytes]:
    """An intset: encoding width (2, 4 or 8), count, then little-endian integers."""
    if len(blob) < 8:
        raise BadData
    width, count = struct.unpack("<II", blob[:8])
    fmt = {2: "h", 4: "i", 8: "q"}.get(width)
    if fmt is None or len(blob) != 8 + width * count:
        raise BadData
    return [b"%d" % v for v in struct.unpack(f"<{count}{fmt}", blob[8:])]


def listpack_entries(lp: bytes) -> list[bytes]:
    """The entries of a listpack, integers as decimal strings."""
    if len(lp) < 7 or struct.unpack("<I", lp[:4])[0] != len(lp) or lp[-1] != 0xFF:
        raise BadData
    out: list[bytes] = []
    p, end = 6, len(lp) - 1
    while p < end:
        b = lp[p]
        if b < 0x80:  # 7-bit unsigned integer
            out.append(b"%d" % b)
            size = 1
        elif b < 0xC0:  # string of up to 63 bytes
            n = b & 0x3F
            out.append(lp[p + 1:p + 1 + n])
            size = 1 + n
        elif b < 0xE0:  # 13-bit signed integer
            v = (b & 0x1F) << 8 | lp[p + 1]
            out.append(b"%d" % (v - (1 << 13) if v >= 1 << 12 else v))
            size = 2
        elif b < 0xF0:  # string of up to 4095 bytes
            n = (b & 0x0F) << 8 | lp[p + 1]
            out.append(lp[p + 2:p + 2 + n])
            size = 2 + n
        elif b == 0xF0:  # string with a 32-bit length
            n = struct.unpack("<I", lp[p + 1:p + 5])[0]
            out.append(lp[p + 5:p + 5 + n])
            size = 5 + n
        elif b in _LP_INTS:
            width, fmt = _LP_INTS[b]
            raw = lp[p + 1:p + 1 + width]
            if width == 3:
                raw += b"\xff" if raw[2] & 0x80 else b"\x00"
            out.append(b"%d" % struct.unpack(fmt, raw)[0])
            size = 1 + width
        else:
            raise BadData
        p += size + _backlen_size(size)
    if p != end:
        raise BadData
    count = struct.unpack("<H", lp[4:6])[0]
    if count != 65535 and count != len(out):
        raise BadData
    return out


_LP_INTS = {0xF1: (2, "<h"), 0xF2: (3, "<i"), 0xF3: (4, "<i"), 0xF4: (8, "<q")}


def ziplist_entries(zl: bytes) -> list[bytes]:
    """The entries of a ziplist (Redis up to 6.2), integers as decimal strings.

    Header: total bytes, offset of the last entry (both 32-bit), entry count
    (16-bit, 65535 when unknown); each entry: the previous entry's length (1
    byte, or 0xFE and 32 bits), an encoding, the data; 0xFF ends it.
    """
    n = len(zl)
    if (n < 11 or struct.unpack("<I", zl[:4])[0] != n or zl[-1] != 0xFF
            or struct.unpack("<I", zl[4:8])[0] > n - 1):  # Redis's shallow header check
        raise BadData
    out: list[bytes] = []
    p, end, prev = 10, n - 1, 0
    while p < end:
        start = p
        b = zl[p]
        if b < 0xFE:
            stored_prev, p = b, p + 1
        elif b == 0xFE:
            stored_prev, p = struct.unpack("<I", zl[p + 1:p + 5])[0], p + 5
        else:
            raise BadData
        if stored_prev != prev:
            raise BadData
        e = zl[p]
        kind = e >> 6
        if kind == 0:  # string of up to 63 bytes
            size, p = e & 0x3F, p + 1
        elif kind == 1:  # up to 16383 bytes, 14-bit big-endian length
            size, p = (e & 0x3F) << 8 | zl[p + 1], p + 2
        elif e == 0x80:  # 32-bit big-endian length
            size, p = struct.unpack(">I", zl[p + 1:p + 5])[0], p + 5
        else:
            size = -1
        if size >= 0:
            if p + size > end:
                raise BadData
            out.append(zl[p:p + size])
            p += size
        elif e in _ZL_INTS:
            width, fmt = _ZL_INTS[e]
            raw = zl[p + 1:p + 1 + width]
            if width == 3:
                raw = b"\x00" + raw  # 24 bits, kept in the high bytes of an int32
            out.append(b"%d" % (struct.unpack(fmt, raw)[0] >> (8 if width == 3 else 0)))
            p += 1 + width
        elif 0xF1 <= e <= 0xFD:  # 4-bit immediate 0..12
            out.append(b"%d" % ((e & 0x0F) - 1))
            p += 1
        else:
            raise BadData
        prev = p - start
    if p != end:
        raise BadData
    count = struct.unpack("<H", zl[8:10])[0]
    if count != 65535 and count != len(out):
        raise BadData
    return out


_ZL_INTS = {0xC0: (2, "<h"), 0xD0: (4, "<i"), 0xE0: (8, "<q"), 0xF0: (3, "<i"), 0xFE: (1, "<b")}


def zipmap_entries(zm: bytes) -> list[bytes]:
    """Field, value, field, value... of a zipmap (hashes before Redis 2.6):
    a count byte, then lengths (1 byte, or 254 and 32 bits), a field, a
    length, a free-bytes count, the value and its free bytes; 0xFF ends it."""
    out: list[bytes] = []
    p, n = 1, len(zm)

    def length() -> int:
        nonlocal p
        b = zm[p]
        if b < 254:
            p += 1
            return b
        if b == 254:
            v = struct.unpack("<I", zm[p + 1:p + 5])[0]
            p += 5
            return v
        raise BadData

    while p < n and zm[p] != 0xFF:
        size = length()
        out.append(zm[p:p + size])
        p += size
        size = length()
        free = zm[p]
        out.append(zm[p + 1:p + 1 + size])
        p += 1 + size + free
        if p > n:
            raise BadData
    if p != n - 1:
        raise BadData
    return out


def _backlen_size(n: int) -> int:
    if n < 128:
        return 1
    if n < 16384:
        return 2
    if n < 2097152:
        return 3
    if n < 268435456:
        return 4
    return 5
