"""Bitmap commands (Redis's bitops.c): SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP,
BITFIELD, BITFIELD_RO.

A bitmap is a plain string value; bit 0 is the most significant bit of the
first byte. Reading past the end reads zeros; writing past the end grows the
string with zero bytes. Ranges are computed on Python ints built from the
bytes (int.from_bytes), which keeps popcounts, searches and BITOP in C.
"""

from __future__ import annotations

from kvserver import errors
from kvserver.args import to_int
from kvserver.commands.strings import must_obey, notify
from kvserver.errors import CommandError
from kvserver.protocol import string2ll
from kvserver.table import command

_U64 = (1 << 64) - 1


def _bit_offset(c, arg: bytes, hash_ok: bool = False, bits: int = 0) -> int:
    """getBitOffsetFromArgument: a bit offset, or #N (N * bits) for BITFIELD."""
    usehash = hash_ok and bits > 0 and arg[:1] == b"#"
    v = string2ll(arg[1:] if usehash else arg)
    if v is None:
        raise CommandError(errors.BIT_OFFSET)
    if usehash:
        v = ((v * bits + (1 << 63)) & _U64) - (1 << 63)  # C's wrapping multiply
    if v < 0 or ((v >> 3) >= c.server.config.proto_max_bulk_len and not must_obey(c)):
        raise CommandError(errors.BIT_OFFSET)
    return v


def _grow_for_bit(c, key: bytes, maxbit: int) -> tuple[bytes, bool, bool]:
    """lookupStringForBitCommand: the string at key, zero-padded to hold maxbit.

    Returns (value, existed, grew); the caller stores the value.
    """
    v = c.db.lookup_write(key, bytes)
    need = (maxbit >> 3) + 1
    if v is None:
        return bytes(need), False, True
    if len(v) < need:
        return v + bytes(need - len(v)), True, True
    return v, True, False


def _store(c, key: bytes, value: bytes, existed: bool) -> None:
    # SETBIT and BITFIELD leave a raw string, new or changed in place.
    if existed:
        c.db.update(key, value, "raw")
    else:
        c.db.add(key, value)
        c.db.set_string_encoding(key, "raw")


# -- SETBIT / GETBIT -------------------------------------------------------------------


@command("setbit", arity=4, flags="write denyoom", keys=(1, 1, 1), group="bitmap",
         since="2.2.0", summary="Sets or clears the bit at offset in the string value stored at key",
         complexity="O(1)", args="key offset:integer value:integer")
def setbit(c, argv):
    key = argv[1]
    offset = _bit_offset(c, argv[2])
    on = string2ll(argv[3])
    if on is None or on & ~1:
        raise CommandError(errors.BIT_VALUE)
    v, existed, grew = _grow_for_bit(c, key, offset)
    byte = offset >> 3
    mask = 0x80 >> (offset & 7)
    old = v[byte] & mask
    if grew or bool(old) != bool(on):
        nb = (v[byte] | mask) if on else (v[byte] & ~mask)
        _store(c, key, b"%s%c%s" % (v[:byte], nb, v[byte + 1:]), existed)
        notify(c, "$", "setbit", key)
    else:
        c.db.set_string_encoding(key, "raw")  # unchanged, but Redis unshared it
    return 1 if old else 0


@command("getbit", arity=3, flags="readonly fast", keys=(1, 1, 1), group="bitmap",
         since="2.2.0", summary="Returns the bit value at offset in the string value stored at key",
         complexity="O(1)", args="key offset:integer")
def getbit(c, argv):
    offset = _bit_offset(c, argv[2])
    v = c.db.lookup_read(argv[1], bytes)
    if v is None:
        return 0
    byte = offset >> 3
    if byte >= len(v):
        return 0
    return 1 if v[byte] & (0x80 >> (offset & 7)) else 0


# -- BITCOUNT / BITPOS -----------------------------------------------------------------


def _bits(v: bytes, first: int, last: int) -> tuple[int, int]:
    """Bits first..last (inclusive, absolute) of v as (int, width): bit `first`
    is the int's most significant bit."""
    b0, b1 = first >> 3, last >> 3
    x = int.from_bytes(v[b0:b1 + 1], "big")
    x >>= 7 - (last & 7)
    width = last - first + 1
    return x & ((1 << width) - 1), width


def _range_mode(arg: bytes) -> bool:
    """BIT (True) or BYTE (False) after a range; anything else is a syntax error."""
    m = arg.lower()
    if m == b"bit":
        return True
    if m == b"byte":
        return False
    raise CommandError(errors.SYNTAX)


@command("bitcount", arity=-2, flags="readonly", keys=(1, 1, 1), group="bitmap",
         since="2.6.0", summary="Count set bits in a string", complexity="O(N)",
         args="key [start:integer end:integer [BYTE|BIT]]",
         history=(("7.0.0", "Added the `BYTE|BIT` option."),))
def bitcount(c, argv):
    v = c.db.lookup_read(argv[1], bytes)
    if v is None:
        return 0
    n = len(argv)
    if n == 2:
        return int.from_bytes(v, "big").bit_count()
    if n not in (4, 5):
        raise CommandError(errors.SYNTAX)
    start = to_int(argv[2])
    end = to_int(argv[3])
    if start < 0 and end < 0 and start > end:
        return 0
    isbit = _range_mode(argv[4]) if n == 5 else False
    total = len(v) * 8 if isbit else len(v)
    if start < 0:
        start += total
    if end < 0:
        end += total
    start = max(start, 0)
    end = max(end, 0)
    if end >= total:
        end = total - 1
    if start > end:
        return 0
    if isbit:
        return _bits(v, start, end)[0].bit_count()
    return int.from_bytes(v[start:end + 1], "big").bit_count()


@command("bitpos", arity=-3, flags="readonly", keys=(1, 1, 1), group="bitmap",
         since="2.8.7", summary="Find first bit set or clear in a string", complexity="O(N)",
         args="key bit:integer [start:integer [end:integer [BYTE|BIT]]]",
         history=(("7.0.0", "Added the `BYTE|BIT` option."),))
def bitpos(c, argv):
    bit = to_int(argv[2])
    if bit != 0 and bit != 1:
        raise CommandError(errors.BIT_ARG)
    v = c.db.lookup_read(argv[1], bytes)
    # A missing key is an infinite run of zeros.
    if v is None:
        return -1 if bit else 0
    n = len(argv)
    end_given = False
    isbit = False
    if n == 3:
        start, end = 0, len(v) - 1
    elif n <= 6:
        total = len(v)
        start = to_int(argv[3])
        if n == 6:
            isbit = _range_mode(argv[5])
        if n >= 5:
            end = to_int(argv[4])
            end_given = True
        else:
            end = total * 8 + 7 if isbit else total - 1
        if isbit:
            total *= 8
        if start < 0:
            start += total
        if end < 0:
            end += total
        start = max(start, 0)
        end = max(end, 0)
        if end >= total:
            end = total - 1
    else:
        raise CommandError(errors.SYNTAX)
    if start > end:
        return -1
    if not isbit:
        start, end = start * 8, end * 8 + 7
    x, width = _bits(v, start, end)
    if not bit:
        x ^= (1 << width) - 1
    if x:
        return start + width - x.bit_length()
    if bit or end_given:
        return -1
    # Looking for a clear bit with no end given: the string is zero-padded.
    return end + 1


# -- BITOP -----------------------------------------------------------------------------


@command("bitop", arity=-4, flags="write denyoom", keys=(2, -1, 1), group="bitmap",
         since="2.6.0", summary="Perform bitwise operations between strings",
         complexity="O(N)", args="operation destkey key ...")
def bitop(c, argv):
    op = argv[1].lower()
    if op not in (b"and", b"or", b"xor", b"not"):
        raise CommandError(errors.SYNTAX)
    if op == b"not" and len(argv) != 4:
        raise CommandError(errors.BITOP_NOT_ONE_KEY)
    db = c.db
    srcs = []
    for key in argv[3:]:
        v = db.lookup_read(key, bytes)
        srcs.append(v or b"")
    maxlen = max(len(s) for s in srcs)
    dest = argv[2]
    if not maxlen:
        if db.delete(dest):
            notify(c, "g", "del", dest)
        return 0
    # Shorter strings are zero-padded on the right.
    nums = [int.from_bytes(s, "big") << (8 * (maxlen - len(s))) for s in srcs]
    x = nums[0]
    if op == b"and":
        for y in nums[1:]:
            x &= y
    elif op == b"or":
        for y in nums[1:]:
            x |= y
    elif op == b"xor":
        for y in nums[1:]:
            x ^= y
    else:
        x ^= (1 << (8 * maxlen)) - 1
    db.lookup(dest)  # an expired destination goes first, as setKey does
    db.set(dest, x.to_bytes(maxlen, "big"))
    db.set_string_encoding(dest, "raw")
    notify(c, "$", "set", dest)
    return maxlen


# -- BITFIELD --------------------------------------------------------------------------

_WRAP, _SAT, _FAIL = 0, 1, 2
_GET, _SET, _INCRBY = 0, 1, 2


def _bitfield_type(arg: bytes) -> tuple[bool, int]:
    """getBitfieldTypeFromArgument: (signed, bits) for i1..i64 / u1..u63."""
    sign = arg[:1]
    if sign not in (b"i", b"u"):
        raise CommandError(errors.BITFIELD_TYPE)
    bits = string2ll(arg[1:])
    signed = sign == b"i"
    if bits is None or bits < 1 or bits > (64 if signed else 63):
        raise CommandError(errors.BITFIELD_TYPE)
    return signed, bits


def _get_field(buf, offset: int, bits: int, signed: bool) -> int:
    """The integer in bits offset..offset+bits-1 of buf (zeros past its end)."""
    b0 = offset >> 3
    b1 = (offset + bits - 1) >> 3
    chunk = bytes(buf[b0:b1 + 1])
    n = b1 - b0 + 1
    x = int.from_bytes(chunk, "big") << (8 * (n - len(chunk)))
    x = (x >> (7 - ((offset + bits - 1) & 7))) & ((1 << bits) - 1)
    if signed and x >> (bits - 1):
        x -= 1 << bits
    return x


def _set_field(buf: bytearray, offset: int, bits: int, value: int) -> None:
    b0 = offset >> 3
    b1 = (offset + bits - 1) >> 3
    n = b1 - b0 + 1
    shift = 7 - ((offset + bits - 1) & 7)
    mask = ((1 << bits) - 1) << shift
    x = int.from_bytes(buf[b0:b1 + 1], "big")
    x = (x & ~mask) | ((value << shift) & mask)
    buf[b0:b1 + 1] = x.to_bytes(n, "big")


def _overflow(value: int, bits: int, signed: bool, owtype: int) -> tuple[int, bool]:
    """(value to store, failed): value as is when it fits the field, else
    wrapped or saturated; failed is True when the policy is FAIL."""
    if signed:
        lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    else:
        lo, hi = 0, (1 << bits) - 1
    if lo <= value <= hi:
        return value, False
    if owtype == _FAIL:
        return 0, True
    if owtype == _SAT:
        return (hi if value > hi else lo), False
    value &= (1 << bits) - 1
    if signed and value >> (bits - 1):
        value -= 1 << bits
    return value, False


def _bitfield(c, argv, readonly_cmd: bool):
    ops = []
    owtype = _WRAP
    readonly = True
    highest = 0
    j = 2
    n = len(argv)
    while j < n:
        rem = n - j - 1
        sub = argv[j].lower()
        if sub == b"get" and rem >= 2:
            opcode = _GET
        elif sub == b"set" and rem >= 3:
            opcode = _SET
        elif sub == b"incrby" and rem >= 3:
            opcode = _INCRBY
        elif sub == b"overflow" and rem >= 1:
            t = argv[j + 1].lower()
            if t == b"wrap":
                owtype = _WRAP
            elif t == b"sat":
                owtype = _SAT
            elif t == b"fail":
                owtype = _FAIL
            else:
                raise CommandError(errors.BITFIELD_OVERFLOW_TYPE)
            j += 2
            continue
        else:
            raise CommandError(errors.SYNTAX)
        signed, bits = _bitfield_type(argv[j + 1])
        offset = _bit_offset(c, argv[j + 2], True, bits)
        arg = 0
        if opcode != _GET:
            readonly = False
            highest = max(highest, offset + bits - 1)
            arg = to_int(argv[j + 3])
        ops.append((opcode, offset, bits, signed, arg, owtype))
        j += 3 if opcode == _GET else 4

    key = argv[1]
    if readonly:
        v = c.db.lookup_read(key, bytes)
        return [_get_field(v or b"", off, bits, signed) for _, off, bits, signed, _, _ in ops]
    if readonly_cmd:
        raise CommandError(errors.BITFIELD_RO_WRITE)
    v, existed, grew = _grow_for_bit(c, key, highest)
    buf = bytearray(v)
    out = []
    changes = 0
    for opcode, off, bits, signed, arg, ow in ops:
        if opcode == _GET:
            out.append(_get_field(buf, off, bits, signed))
            continue
        old = _get_field(buf, off, bits, signed)
        if opcode == _INCRBY:
            new, failed = _overflow(old + arg, bits, signed, ow)
            ret = new
        else:
            # SET of a negative value into an unsigned field is seen as the
            # huge unsigned number C's cast makes of it.
            new, failed = _overflow(arg if signed else arg & _U64, bits, signed, ow)
            ret = old
        if failed:
            out.append(None)
            continue
        out.append(ret)
        _set_field(buf, off, bits, new)
        if grew or old != new:
            changes += 1
    if changes or grew:
        _store(c, key, bytes(buf), existed)
    else:
        c.db.set_string_encoding(key, "raw")  # unchanged, but Redis unshared it
    if changes:
        c.server.dirty += changes - 1
        notify(c, "$", "setbit", key)
    return out


@command("bitfield", arity=-2, flags="write denyoom", keys=(1, 1, 1), group="bitmap",
         since="3.2.0", summary="Perform arbitrary bitfield integer operations on strings",
         complexity="O(1) for each subcommand specified",
         args="key [((GET encoding offset:integer)|([OVERFLOW WRAP|SAT|FAIL] "
              "((SET encoding offset:integer value:integer)|"
              "(INCRBY encoding offset:integer increment:integer))))...]")
def bitfield(c, argv):
    return _bitfield(c, argv, False)


@command("bitfield_ro", arity=-2, flags="readonly fast", keys=(1, 1, 1), group="bitmap",
         since="6.0.0",
         summary="Perform arbitrary bitfield integer operations on strings. "
                 "Read-only variant of BITFIELD",
         complexity="O(1) for each subcommand specified",
         args="key [(GET encoding offset:integer)...]")
def bitfield_ro(c, argv):
    return _bitfield(c, argv, True)
