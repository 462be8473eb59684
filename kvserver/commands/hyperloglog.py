"""HyperLogLog commands (Redis 7.0's hyperloglog.c): PFADD, PFCOUNT, PFMERGE,
PFDEBUG, PFSELFTEST.

A HLL is a plain string value (kvserver.hll has its layout), so GET, SET,
APPEND & co. work on it and TYPE says "string"; these commands check the
header first and refuse anything else with Redis's WRONGTYPE text. PFCOUNT
of one key stores the cardinality it computed in the header, as Redis does,
so the value's bytes stay Redis's.
"""

from __future__ import annotations

import math
import random

from kvserver import hll
from kvserver.errors import CommandError
from kvserver.resp import OK, Raw, Status
from kvserver.table import command

ERR_NO_KEY = "ERR The specified key does not exist"
ERR_NOT_SPARSE = "ERR HLL encoding is not sparse"

_DENSE = Status(b"dense")
_SPARSE = Status(b"sparse")
_INT_REPLY = [b":%d\r\n" % i for i in range(64)]


def _hll_value(c, key: bytes, write: bool = False) -> bytes | None:
    """The HLL string at key, None if missing; refuses other values."""
    v = c.db.lookup_write(key, bytes) if write else c.db.lookup_read(key, bytes)
    if v is not None and not hll.is_hll(v):
        raise CommandError(hll.ERR_NOT_HLL)
    return v


def _signed(card: int) -> int:
    # addReplyLongLong of the uint64 Redis computes.
    return card - (1 << 64) if card >> 63 else card


def _registers(v: bytes) -> bytearray:
    """The registers of HLL value v (INVALIDOBJ if corrupted)."""
    st = hll.checkout(v)
    try:
        return st.registers()
    except hll.Corrupted:
        raise CommandError(hll.ERR_INVALID) from None
    finally:
        hll.checkin(st, v)


@command("pfadd", arity=-2, flags="write denyoom fast", keys=(1, 1, 1), group="hyperloglog",
         since="2.8.9", summary="Adds the specified elements to the specified HyperLogLog.",
         complexity="O(1) to add every element.", args="key [element...]")
def pfadd(c, argv):
    key = argv[1]
    v = _hll_value(c, key, write=True)
    created = v is None
    if created:
        v = hll.EMPTY
    elif len(argv) == 2:
        return 0
    st = hll.checkout(v)
    max_bytes = c.server.config.hll_sparse_max_bytes
    pat_len = hll.pat_len
    updated = 1 if created else 0
    for ele in argv[2:]:
        index, count = pat_len(ele)
        r = st.set(index, count, max_bytes)
        if r == 1:
            updated += 1
        elif r < 0:
            if updated:  # Redis changed the value in place up to here
                v = st.serialize()
                c.db.update(key, v, "raw")
            hll.checkin(st, v)
            raise CommandError(hll.ERR_INVALID)
    if not updated:
        hll.checkin(st, v)
        return 0
    st.invalidate_card()
    new = st.serialize()
    if created:
        c.db.add(key, new)
        c.db.set_string_encoding(key, "raw")  # createHLLObject: a raw string
    else:
        c.db.update(key, new, "raw")
    hll.checkin(st, new)
    c.server.dirty += updated - 1
    c.server.notify_keyspace_event("$", "pfadd", key, c.db.id)
    return 1


@command("pfcount", arity=-2, flags="readonly", keys=(1, -1, 1), group="hyperloglog",
         since="2.8.9",
         summary="Return the approximated cardinality of the set(s) observed by the "
                 "HyperLogLog at key(s).",
         complexity="O(1) with a very small average constant time when called with a single "
                    "key. O(N) with N being the number of keys, and much bigger constant "
                    "times, when called with multiple keys.",
         args="key...")
def pfcount(c, argv):
    if len(argv) > 2:
        # The cardinality of the union; nothing is cached or changed.
        mx = None
        for key in argv[1:]:
            v = _hll_value(c, key)
            if v is None:
                continue
            regs = _registers(v)
            mx = bytes(regs) if mx is None else hll.registers_max(mx, regs)
        if mx is None:
            return 0
        return _signed(hll.estimate(hll.histogram(mx)))
    key = argv[1]
    v = _hll_value(c, key)
    if v is None:
        return 0
    card = hll.cached_card(v)
    if card is not None:
        return _signed(card)
    st = hll.checkout(v)
    try:
        hist = st.histogram()
    except hll.Corrupted:
        hll.checkin(st, v)
        raise CommandError(hll.ERR_INVALID) from None
    card = hll.estimate(hist)
    st.set_card(card)
    new = st.serialize()
    c.db.update(key, new, "raw")
    hll.checkin(st, new)
    return _signed(card)


@command("pfmerge", arity=-2, flags="write denyoom", keys=(1, -1, 1), group="hyperloglog",
         since="2.8.9", summary="Merge N different HyperLogLogs into a single one.",
         complexity="O(N) to merge N HyperLogLogs, but with high constant times.",
         args="destkey sourcekey...")
def pfmerge(c, argv):
    mx = bytes(hll.REGISTERS)
    use_dense = False
    for key in argv[1:]:  # the destination counts as a source too
        v = _hll_value(c, key)
        if v is None:
            continue
        if v[4] == hll.DENSE:
            use_dense = True
        mx = hll.registers_max(mx, _registers(v))
    key = argv[1]
    d = c.db.lookup_write(key, bytes)
    st = hll.checkout(hll.EMPTY if d is None else d)
    if use_dense and not st.to_dense():
        raise CommandError(hll.ERR_INVALID)
    st.merge_max(mx, c.server.config.hll_sparse_max_bytes)
    st.invalidate_card()
    new = st.serialize()
    if d is None:
        c.db.add(key, new)
        c.db.set_string_encoding(key, "raw")  # createHLLObject: a raw string
    else:
        c.db.update(key, new, "raw")
    hll.checkin(st, new)
    c.server.notify_keyspace_event("$", "pfadd", key, c.db.id)
    return OK


@command("pfdebug", arity=3, flags="write denyoom admin", keys=(2, 2, 1), group="hyperloglog",
         since="2.8.9", summary="Internal commands for debugging HyperLogLog values",
         complexity="N/A", args="subcommand key", doc_flags="syscmd")
def pfdebug(c, argv):
    key = argv[2]
    v = _hll_value(c, key, write=True)
    if v is None:
        raise CommandError(ERR_NO_KEY)
    sub = argv[1].lower()
    if sub in (b"getreg", b"todense"):
        st = hll.checkout(v)
        converted = st.encoding == hll.SPARSE
        if converted:
            if not st.to_dense():
                raise CommandError(hll.ERR_INVALID)
            v = st.serialize()
            c.db.update(key, v, "raw")
        hll.checkin(st, v)
        if sub == b"todense":
            return 1 if converted else 0
        regs = st.registers()
        return Raw(b"*%d\r\n" % hll.REGISTERS + b"".join([_INT_REPLY[r] for r in regs]))
    if sub == b"decode":
        if v[4] != hll.SPARSE:
            raise CommandError(ERR_NOT_SPARSE)
        st = hll.checkout(v)
        hll.checkin(st, v)
        return hll.decode_text(st.ops, st.tail)
    if sub == b"encoding":
        return _DENSE if v[4] == hll.DENSE else _SPARSE
    name = argv[1].split(b"\0", 1)[0].decode("utf-8", "surrogateescape")
    raise CommandError(f"ERR Unknown PFDEBUG subcommand '{name}'")


# PFSELFTEST runs Redis's two checks at a smaller scale (Redis adds ten
# million elements, minutes of work in Python): register access on random
# values, then dense and sparse HLLs fed the same elements must agree and
# stay within the expected error at each power of ten up to _SELFTEST_MAX.
_SELFTEST_CYCLES = 4
_SELFTEST_MAX = 100_000


@command("pfselftest", arity=1, flags="admin", group="hyperloglog", since="2.8.9",
         summary="An internal command for testing HyperLogLog values",
         complexity="N/A", doc_flags="syscmd")
def pfselftest(c, argv):
    rnd = random.Random()
    dense = bytearray(hll.DENSE_SIZE)
    for _ in range(_SELFTEST_CYCLES):
        values = [rnd.randrange(64) for _ in range(hll.REGISTERS)]
        for i, r in enumerate(values):
            hll.dense_set(dense, i, r)
        for i, r in enumerate(values):
            got = hll.dense_get(dense, i)
            if got != r:
                return CommandError(f"ERR TESTFAILED Register {i} should be {r} but is {got}")
        if hll.decode_dense(bytes(dense[hll.HDR_SIZE:])) != bytes(values):
            return CommandError("ERR TESTFAILED dense register decoding")

    max_bytes = c.server.config.hll_sparse_max_bytes
    d = hll.State(hll.EMPTY)
    d.to_dense()
    s = hll.State(hll.EMPTY)
    relerr = 1.04 / hll.REGISTERS ** 0.5
    seed = rnd.getrandbits(64)
    checkpoint = 1
    for j in range(1, _SELFTEST_MAX + 1):
        index, count = hll.pat_len(((j ^ seed) & 0xFFFFFFFFFFFFFFFF).to_bytes(8, "little"))
        d.set(index, count, max_bytes)
        s.set(index, count, max_bytes)
        if j != checkpoint:
            continue
        if j < max_bytes / 2 and s.encoding != hll.SPARSE:
            return CommandError("ERR TESTFAILED sparse encoding not used")
        card = hll.estimate(d.histogram())
        if card != hll.estimate(s.histogram()):
            return CommandError("ERR TESTFAILED dense/sparse disagree")
        if d.registers() != s.registers():
            return CommandError("ERR TESTFAILED dense/sparse registers disagree")
        maxerr = math.ceil(relerr * 6 * checkpoint)
        if j == 10:
            maxerr = 1
        abserr = abs(checkpoint - card)
        if abserr > maxerr:
            return CommandError(f"ERR TESTFAILED Too big error. card:{checkpoint} "
                                f"abserr:{abserr}")
        checkpoint *= 10
    return OK
