"""HyperLogLog values, byte for byte as Redis 7.0 stores them (hyperloglog.c).

A HLL is a string value: a 16-byte header ("HYLL", the encoding, 3 unused
bytes, the cached cardinality as 8 little-endian bytes whose top bit marks
it invalid) followed by 16384 6-bit registers, either

- dense: the registers packed LSB first, 12288 bytes; or
- sparse: run-length opcodes, ZERO (00xxxxxx: 1-64 zero registers),
  XZERO (01xxxxxx xxxxxxxx: 1-16384 zero registers) and VAL (1vvvvvxx: 1-4
  registers of value 1-32). A new HLL is sparse; it turns dense when a
  register needs a value over 32 or the string would grow past
  hll-sparse-max-bytes.

Elements are hashed with MurmurHash64A (seed 0xadc83b19): the low 14 bits
pick the register, the run of zero bits above them (plus one) is the value.
The cardinality is Otmar Ertl's estimator over the register histogram.

Where the bytes of a sparse HLL depend on the order in which registers were
set (adjacent VAL opcodes merge only within a small window), the updates
replay hllSparseSet step for step, so GET returns Redis's bytes.

Speed. A Python `bytes` value cannot be updated in place, and decoding 16384
registers for every PFCOUNT would be slow, so the decoded form of recently
used HLLs (`State`: the sparse opcodes as a list, with the first register
each covers for bisection; the registers one per byte; their histogram) is
kept in a small cache keyed by the identity of the value object. PFADD and
PFCOUNT update that state and write a new value; the next command on the key
finds the state again under the new value. Bulk register work (decoding
dense registers, the element-wise max of PFMERGE) runs on whole byte strings
or big integers, not per register in Python.
"""

from __future__ import annotations

import math
import struct
from bisect import bisect_right

MAGIC = b"HYLL"
HDR_SIZE = 16
P = 14
Q = 64 - P
REGISTERS = 1 << P
DENSE_BYTES = REGISTERS * 6 // 8
DENSE_SIZE = HDR_SIZE + DENSE_BYTES
DENSE = 0
SPARSE = 1
SPARSE_VAL_MAX_VALUE = 32
SPARSE_VAL_MAX_LEN = 4
SPARSE_ZERO_MAX_LEN = 64
SPARSE_XZERO_MAX_LEN = 16384
ALPHA_INF = 0.721347520444481703680

ERR_NOT_HLL = "WRONGTYPE Key is not a valid HyperLogLog string value."
ERR_INVALID = "INVALIDOBJ Corrupted HLL object detected"

_M64 = 0xFFFFFFFFFFFFFFFF


class Corrupted(Exception):
    """A sparse HLL whose opcodes do not cover exactly 16384 registers."""


# -- hashing ---------------------------------------------------------------------------------

_MUL = 0xC6A4A7935BD1E995
_SEED = 0xADC83B19
_u64 = struct.Struct("<Q")


def murmurhash64a(key: bytes, seed: int = _SEED) -> int:
    """MurmurHash64A in Redis's endian-neutral form."""
    n = len(key)
    m = _MUL
    h = (seed ^ (n * m)) & _M64
    nb = n & ~7
    if nb:
        for (k,) in _u64.iter_unpack(key[:nb]):
            k = (k * m) & _M64
            k ^= k >> 47
            h ^= (k * m) & _M64
            h = (h * m) & _M64
    if n & 7:
        h = ((h ^ int.from_bytes(key[nb:], "little")) * m) & _M64
    h ^= h >> 47
    h = (h * m) & _M64
    return h ^ (h >> 47)


def pat_len(ele: bytes) -> tuple[int, int]:
    """(register index, length of the 000..1 pattern) of an element (hllPatLen)."""
    h = murmurhash64a(ele)
    x = (h >> P) | (1 << Q)
    return h & (REGISTERS - 1), (x & -x).bit_length()


# -- sparse opcodes --------------------------------------------------------------------------
# An opcode is kept as the bytes object of its 1 or 2 bytes. A lone XZERO byte
# is a (corrupted) string cut inside its last opcode: Redis then reads the byte
# after the string, `tail`, as the second one. That byte is the string's NUL
# terminator, except right after hllSparseSet split such a cut opcode: the new
# opcodes are written from its position and their last byte lands past the end.

_VAL = [[b""] * 5] + [[b""] + [bytes([((v - 1) << 2 | (n - 1)) | 0x80]) for n in range(1, 5)]
                      for v in range(1, 33)]
_RUN = [[bytes([v]) * n for n in range(5)] for v in range(33)]


def _zero_op(n: int) -> bytes:
    if n > SPARSE_ZERO_MAX_LEN:
        n -= 1
        return bytes(((n >> 8) | 0x40, n & 0xFF))
    return bytes((n - 1,))


def op_span(op: bytes, tail: int = 0) -> int:
    b = op[0]
    if b & 0x80:
        return (b & 3) + 1
    if b & 0x40:
        return ((b & 0x3F) << 8 | (op[1] if len(op) > 1 else tail)) + 1
    return (b & 0x3F) + 1


def parse_sparse(body: bytes) -> list[bytes]:
    ops = []
    i = 0
    n = len(body)
    while i < n:
        b = body[i]
        if b & 0xC0 == 0x40:
            ops.append(body[i:i + 2])
            i += 2
        else:
            ops.append(body[i:i + 1])
            i += 1
    return ops


def decode_sparse(ops: list[bytes], tail: int = 0) -> bytearray | None:
    """The registers of a sparse HLL as hllSparseToDense reads them; None if corrupt."""
    regs = bytearray(REGISTERS)
    i = 0
    for op in ops:
        b = op[0]
        if b & 0x80:
            n = (b & 3) + 1
            if i + n > REGISTERS:
                return None
            regs[i:i + n] = _RUN[((b >> 2) & 0x1F) + 1][n]
            i += n
        else:
            i += op_span(op, tail)
    return regs if i == REGISTERS else None


def sparse_histogram(ops: list[bytes], tail: int = 0) -> tuple[list[int], bool]:
    """(register histogram, valid) as hllSparseRegHisto computes them."""
    hist = [0] * 64
    total = 0
    for op in ops:
        b = op[0]
        if b & 0x80:
            n = (b & 3) + 1
            hist[((b >> 2) & 0x1F) + 1] += n
        else:
            n = op_span(op, tail)
            hist[0] += n
        total += n
    return hist, total == REGISTERS


def decode_text(ops: list[bytes], tail: int = 0) -> bytes:
    """PFDEBUG DECODE's text."""
    parts = []
    for op in ops:
        b = op[0]
        if b & 0x80:
            parts.append(b"v:%d,%d" % (((b >> 2) & 0x1F) + 1, (b & 3) + 1))
        elif b & 0x40:
            parts.append(b"Z:%d" % op_span(op, tail))
        else:
            parts.append(b"z:%d" % op_span(op))
    return b" ".join(parts)


# -- dense registers -----------------------------------------------------------------------------
# Four registers take three bytes: b0 = r0 | r1<<6, b1 = r1>>2 | r2<<4, b2 = r2>>4 | r3<<2.

def _table(f) -> bytes:
    return bytes(f(b) & 0xFF for b in range(256))


_T_LOW6 = _table(lambda b: b & 63)
_T_SHR6 = _table(lambda b: b >> 6)
_T_LOW4_SHL2 = _table(lambda b: (b & 15) << 2)
_T_SHR4 = _table(lambda b: b >> 4)
_T_LOW2_SHL4 = _table(lambda b: (b & 3) << 4)
_T_SHR2 = _table(lambda b: b >> 2)
_T_LOW2_SHL6 = _table(lambda b: (b & 3) << 6)
_T_LOW4_SHL4 = _table(lambda b: (b & 15) << 4)
_T_SHL2 = _table(lambda b: b << 2)


def _or(a: bytes, b: bytes) -> bytes:
    return (int.from_bytes(a, "little") | int.from_bytes(b, "little")).to_bytes(len(a), "little")


def decode_dense(body: bytes) -> bytearray:
    """The 16384 registers (one per byte) of a dense register area."""
    b0, b1, b2 = body[0::3], body[1::3], body[2::3]
    regs = bytearray(REGISTERS)
    regs[0::4] = b0.translate(_T_LOW6)
    regs[1::4] = _or(b0.translate(_T_SHR6), b1.translate(_T_LOW4_SHL2))
    regs[2::4] = _or(b1.translate(_T_SHR4), b2.translate(_T_LOW2_SHL4))
    regs[3::4] = b2.translate(_T_SHR2)
    return regs


def encode_dense(regs: bytes) -> bytearray:
    """The dense register area of 16384 registers (each below 64)."""
    r0, r1, r2, r3 = regs[0::4], regs[1::4], regs[2::4], regs[3::4]
    out = bytearray(DENSE_BYTES)
    out[0::3] = _or(r0, r1.translate(_T_LOW2_SHL6))
    out[1::3] = _or(r1.translate(_T_SHR2), r2.translate(_T_LOW4_SHL4))
    out[2::3] = _or(r2.translate(_T_SHR4), r3.translate(_T_SHL2))
    return out


def dense_get(d: bytearray, i: int) -> int:
    """Register i of a dense HLL value (header included)."""
    bit = i * 6
    b = HDR_SIZE + (bit >> 3)
    fb = bit & 7
    if fb <= 2:
        return (d[b] >> fb) & 63
    return ((d[b] >> fb) | (d[b + 1] << (8 - fb))) & 63


def dense_set(d: bytearray, i: int, v: int) -> None:
    bit = i * 6
    b = HDR_SIZE + (bit >> 3)
    fb = bit & 7
    d[b] = (d[b] & ~(63 << fb) & 0xFF) | ((v << fb) & 0xFF)
    if fb > 2:
        d[b + 1] = (d[b + 1] & ~(63 >> (8 - fb)) & 0xFF) | (v >> (8 - fb))


_HIGH = int.from_bytes(b"\x80" * REGISTERS, "little")


def registers_max(a: bytes, b: bytes) -> bytes:
    """Element-wise max of two register arrays (values below 128), in one pass
    of big-integer arithmetic: (a|0x80) - b has its top bit set where a >= b."""
    x = int.from_bytes(a, "little")
    y = int.from_bytes(b, "little")
    m = ((((x | _HIGH) - y) & _HIGH) >> 7) * 255
    return ((x & m) | (y & ~m)).to_bytes(REGISTERS, "little")


def histogram(regs: bytes) -> list[int]:
    """How many registers hold each value (counting upwards until all are seen)."""
    regs = bytes(regs)
    hist = [0] * 64
    left = REGISTERS - regs.count(0)
    hist[0] = REGISTERS - left
    v = 1
    while left:
        n = hist[v] = regs.count(v)
        left -= n
        v += 1
    return hist


# -- the estimator ---------------------------------------------------------------------------------

def _sigma(x: float) -> float:
    if x == 1.0:
        return math.inf
    y = 1.0
    z = x
    while True:
        x *= x
        zp = z
        z += x * y
        y += y
        if zp == z:
            return z


def _tau(x: float) -> float:
    if x == 0.0 or x == 1.0:
        return 0.0
    y = 1.0
    z = 1 - x
    sqrt = math.sqrt
    pow_ = math.pow
    while True:
        x = sqrt(x)
        zp = z
        y *= 0.5
        z -= pow_(1 - x, 2) * y
        if zp == z:
            return z / 3


def estimate(hist: list[int]) -> int:
    """hllCount's cardinality (as the uint64 Redis stores), from the histogram."""
    m = float(REGISTERS)
    z = m * _tau((m - hist[Q + 1]) / m)
    for j in range(Q, 0, -1):
        z += hist[j]
        z *= 0.5
    z += m * _sigma(hist[0] / m)
    e = ALPHA_INF * m * m / z if z else math.inf  # C divides by zero to inf
    if e != e or e >= 9223372036854775808.0:
        return 1 << 63  # llroundl cannot represent it: LLONG_MIN
    f = math.floor(e)
    return int(f) + (1 if e - f >= 0.5 else 0)


# -- values ------------------------------------------------------------------------------------

def _new_sparse() -> bytes:
    body = bytearray()
    left = REGISTERS
    while left:
        n = min(left, SPARSE_XZERO_MAX_LEN)
        body += _zero_op(n)
        left -= n
    return MAGIC + bytes((SPARSE, 0, 0, 0)) + bytes(8) + bytes(body)


EMPTY = _new_sparse()


def is_hll(v: bytes) -> bool:
    """isHLLObjectOrReply's checks of a string value."""
    return (len(v) >= HDR_SIZE and v[:4] == MAGIC and v[4] <= 1
            and (v[4] == SPARSE or len(v) == DENSE_SIZE))


def cached_card(v: bytes) -> int | None:
    """The cardinality cached in the header, None if marked invalid."""
    if v[15] & 0x80:
        return None
    return int.from_bytes(v[8:16], "little")


class State:
    """A HLL value decoded for work (see the module docstring).

    Sparse: `header` and `ops` / `firsts` (the opcodes and the first register
    each covers), `nbytes` the string's length. Dense: `dense`, the whole value
    as a bytearray. Both: `regs` (one byte per register) and `hist` when
    computed, kept up to date by `set`; `valid` False for a sparse value whose
    opcodes do not cover exactly 16384 registers; `tail` the byte Redis would
    find after the string (see "sparse opcodes" above)."""

    __slots__ = ("value", "encoding", "header", "ops", "firsts", "nbytes", "dense",
                 "regs", "hist", "valid", "tail")

    def __init__(self, v: bytes) -> None:
        self.value = v
        self.encoding = v[4]
        self.regs: bytearray | None = None
        self.hist: list[int] | None = None
        self.valid = True
        self.tail = 0
        if self.encoding == SPARSE:
            self.header = bytearray(v[:HDR_SIZE])
            self.ops = parse_sparse(v[HDR_SIZE:])
            self._index()
            self.nbytes = len(v)
            self.dense = None
        else:
            self.dense = bytearray(v)
            self.header = self.ops = self.firsts = None
            self.nbytes = DENSE_SIZE

    # -- reading --

    def registers(self) -> bytearray:
        """The registers, one per byte (raises Corrupted for a bad sparse value)."""
        if self.regs is None:
            if self.dense is not None:
                self.regs = decode_dense(bytes(self.dense[HDR_SIZE:]))
            else:
                regs = decode_sparse(self.ops, self.tail)
                if regs is None:
                    raise Corrupted
                self.regs = regs
        return self.regs

    def histogram(self) -> list[int]:
        if self.hist is None:
            if self.dense is not None:
                self.hist = histogram(self.registers())
            else:
                hist, valid = sparse_histogram(self.ops, self.tail)
                if not valid:
                    raise Corrupted
                self.hist = hist
        return self.hist

    def serialize(self) -> bytes:
        if self.dense is not None:
            return bytes(self.dense)
        return bytes(self.header) + b"".join(self.ops)

    def set_card(self, card: int) -> None:
        hdr = self.dense if self.dense is not None else self.header
        hdr[8:16] = card.to_bytes(8, "little")

    def invalidate_card(self) -> None:
        hdr = self.dense if self.dense is not None else self.header
        hdr[15] |= 0x80

    # -- writing --

    def _changed(self, index: int, old: int, new: int) -> None:
        if self.regs is not None:
            self.regs[index] = new
        if self.hist is not None:
            self.hist[old] -= 1
            self.hist[new] += 1

    def set(self, index: int, count: int, max_bytes: int) -> int:
        """Raise register `index` to `count` if lower: 1 if changed, 0 if not,
        -1 if the value is corrupted (hllDenseSet / hllSparseSet)."""
        d = self.dense
        if d is not None:
            old = dense_get(d, index)
            if count <= old:
                return 0
            dense_set(d, index, count)
            self._changed(index, old, count)
            return 1
        return self._sparse_set(index, count, max_bytes)

    def _sparse_set(self, index: int, count: int, max_bytes: int) -> int:
        tail = self.tail
        r = self._sparse_update(index, count, max_bytes)
        if self.tail != tail and self.dense is None:
            ops = self.ops
            if ops and len(ops[-1]) == 1 and ops[-1][0] & 0xC0 == 0x40:
                self._recheck()  # the cut last opcode now spans differently
        return r

    def _sparse_update(self, index: int, count: int, max_bytes: int) -> int:
        if count > SPARSE_VAL_MAX_VALUE:
            return self._promote_and_set(index, count)
        ops = self.ops
        firsts = self.firsts
        if not ops:
            return -1
        i = bisect_right(firsts, index) - 1
        op = ops[i]
        first = firsts[i]
        b = op[0]
        if b & 0x80:
            runlen = (b & 3) + 1
            old = ((b >> 2) & 0x1F) + 1
            if index > first + runlen - 1:
                return -1
            if old >= count:
                return 0
            if runlen == 1:
                ops[i] = _VAL[count][1]
                return self._updated(i, index, old, count)
            xzero = False
        else:
            runlen = op_span(op, self.tail)
            if index > first + runlen - 1:
                return -1
            old = 0
            xzero = bool(b & 0x40)
            if not xzero and runlen == 1:
                ops[i] = _VAL[count][1]
                return self._updated(i, index, old, count)
        # Split the opcode into (run before) VAL (run after).
        last = first + runlen - 1
        seq = []
        seqfirsts = []
        if index != first:
            seq.append(_VAL[old][index - first] if old else _zero_op(index - first))
            seqfirsts.append(first)
        seq.append(_VAL[count][1])
        seqfirsts.append(index)
        if index != last:
            seq.append(_VAL[old][last - index] if old else _zero_op(last - index))
            seqfirsts.append(index + 1)
        seqlen = sum(map(len, seq))
        delta = seqlen - (2 if xzero else 1)
        if delta > 0 and self.nbytes + delta > max_bytes:
            return self._promote_and_set(index, count)
        truncated = xzero and len(op) == 1
        if truncated:
            # The string ended inside this XZERO: the new sequence, written from
            # its position, is cut to the string's new length (one byte short);
            # its last byte is left just past the end.
            if len(seq[-1]) == 2:
                self.tail = seq[-1][1]
                seq[-1] = seq[-1][:1]
            else:
                self.tail = seq[-1][0]
                seq.pop()
                seqfirsts.pop()
        else:
            self.tail = 0  # sdsIncrLen rewrote the terminator
        ops[i:i + 1] = seq
        firsts[i:i + 1] = seqfirsts
        self.nbytes += delta
        r = self._updated(i, index, old, count)
        if truncated:
            self._recheck()
        return r

    def _updated(self, i: int, index: int, old: int, count: int) -> int:
        # Merge adjacent VAL opcodes of equal value, scanning up to 5 opcodes
        # from the one before the updated opcode, as hllSparseSet does.
        ops = self.ops
        firsts = self.firsts
        j = i - 1 if i > 0 else 0
        scan = 5
        while j < len(ops) and scan > 0:
            scan -= 1
            b = ops[j][0]
            if not b & 0x80:
                j += 1
                continue
            if j + 1 < len(ops):
                nb = ops[j + 1][0]
                if nb & 0x80 and (b & 0x7C) == (nb & 0x7C):
                    n = (b & 3) + (nb & 3) + 2
                    if n <= SPARSE_VAL_MAX_LEN:
                        ops[j] = _VAL[((b >> 2) & 0x1F) + 1][n]
                        del ops[j + 1]
                        del firsts[j + 1]
                        self.nbytes -= 1
                        self.tail = 0
                        continue
            j += 1
        self.header[15] |= 0x80
        self._changed(index, old, count)
        return 1

    def _index(self) -> None:
        """Compute `firsts` and `valid` from the opcodes."""
        firsts = []
        first = 0
        tail = self.tail
        for op in self.ops:
            firsts.append(first)
            first += op_span(op, tail)
        self.firsts = firsts
        # Covering exactly 16384 registers is all hllSparseRegHisto and
        # hllMerge check (it also rules out a VAL running past the end).
        self.valid = first == REGISTERS

    def _recheck(self) -> None:
        """Recompute what a cut opcode may have changed (corrupted values only)."""
        self._index()
        self.regs = None
        self.hist = None

    def to_dense(self) -> bool:
        """hllSparseToDense: False if the sparse value is corrupted."""
        if self.dense is not None:
            return True
        regs = decode_sparse(self.ops, self.tail)
        if regs is None:
            return False
        hdr = self.header
        hdr[4] = DENSE
        self.dense = bytearray(hdr) + encode_dense(regs)
        self.regs = regs
        self.header = self.ops = self.firsts = None
        self.nbytes = DENSE_SIZE
        self.encoding = DENSE
        self.valid = True
        return True

    def _promote_and_set(self, index: int, count: int) -> int:
        hist = self.hist
        if not self.to_dense():
            return -1
        self.hist = hist
        old = dense_get(self.dense, index)
        dense_set(self.dense, index, count)
        self._changed(index, old, count)
        return 1

    def merge_max(self, mx: bytes, max_bytes: int) -> None:
        """Set every register to max(itself, mx[i]) (PFMERGE's writes, in
        register order, so a sparse value gets Redis's opcodes)."""
        if self.dense is None:
            nonzero = mx.translate(_T_NONZERO)
            j = nonzero.find(1)
            while j >= 0:
                self._sparse_set(j, mx[j], max_bytes)
                if self.dense is not None:
                    break  # promoted: the rest is a plain max
                j = nonzero.find(1, j + 1)
            else:
                return
        regs = registers_max(bytes(self.registers()), mx)
        self.regs = bytearray(regs)
        self.dense[HDR_SIZE:] = encode_dense(regs)
        self.hist = None


_T_NONZERO = _table(lambda b: 1 if b else 0)


# -- the cache of decoded values ---------------------------------------------------------------

_CACHE: dict[int, State] = {}
_CACHE_MAX = 32


def checkout(v: bytes) -> State:
    """The decoded state of value v, taken out of the cache (or built). Give it
    back with `checkin` under the value it now describes."""
    st = _CACHE.pop(id(v), None)
    if st is not None and st.value is v:
        return st
    return State(v)


def checkin(st: State, v: bytes) -> None:
    """Cache st as the decoded form of value v. (Corrupted values are cached
    too: their `tail` byte exists only in their state.)"""
    st.value = v
    cache = _CACHE
    cache[id(v)] = st
    while len(cache) > _CACHE_MAX:
        del cache[next(iter(cache))]
