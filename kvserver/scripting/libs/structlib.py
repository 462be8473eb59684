"""The `struct` library Redis bundles (Roberto Ierusalimschy's struct 0.2,
with Redis's changes): pack, unpack and size of binary records.

Native layout is x86-64 Linux: little endian, long and size_t of 8 bytes,
int of 4, maximum alignment 8.
"""

from __future__ import annotations

import struct

from kvserver.scripting.libs.cnum import fmt_number, lua_typename, tonumber
from kvserver.scripting.luaerr import arg_error, lua_error

BIG, LITTLE = 0, 1
NATIVE = LITTLE
MAXINTSIZE = 32
MAXALIGN = 8
INT_MAX = 2**31 - 1
_U64 = 2**64 - 1


def make() -> dict:
    def argerror(n, msg):
        raise arg_error(n, msg)

    def error(msg):
        raise lua_error(msg)

    # b_pack pushes a nil after its arguments: the first missing one is "nil".
    def checkstring(args, i, nil_after=False):
        present = len(args) >= (i - 1 if nil_after else i)
        v = args[i - 1] if len(args) >= i else None
        if v.__class__ is bytes:
            return v
        if v.__class__ in (int, float):
            return fmt_number(v)
        argerror(i, "string expected, got " + lua_typename(v, present))

    def checknumber(args, i):
        present = len(args) >= i - 1
        v = args[i - 1] if len(args) >= i else None
        n = tonumber(v)
        if n is None:
            argerror(i, "number expected, got " + lua_typename(v, present))
        return n

    def getnum(fmt, i, df):
        if i >= len(fmt) or not 48 <= fmt[i] <= 57:
            return df, i
        a = 0
        while i < len(fmt) and 48 <= fmt[i] <= 57:
            d = fmt[i] - 48
            if a > INT_MAX // 10 or a * 10 > INT_MAX - d:
                error("integral size overflow")
            a = a * 10 + d
            i += 1
        return a, i

    def optsize(opt, fmt, i):
        if opt in b"Bb":
            return 1, i
        if opt in b"Hh":
            return 2, i
        if opt in b"LlT":
            return 8, i
        if opt == 0x66:  # f
            return 4, i
        if opt == 0x64:  # d
            return 8, i
        if opt == 0x78:  # x
            return 1, i
        if opt == 0x63:  # c
            return getnum(fmt, i, 1)
        if opt in b"iI":
            sz, i = getnum(fmt, i, 4)
            if sz > MAXINTSIZE:
                error(f"integral size {sz} is larger than limit of {MAXINTSIZE}")
            return sz, i
        return 0, i

    def gettoalign(length, h, opt, size):
        if size == 0 or opt == 0x63:
            return 0
        if size > h[1]:
            size = h[1]
        return (size - (length & (size - 1))) & (size - 1)

    def controloptions(opt, fmt, i, h):
        if opt == 0x20:
            return i
        if opt == 0x3E:  # >
            h[0] = BIG
            return i
        if opt == 0x3C:  # <
            h[0] = LITTLE
            return i
        if opt == 0x21:  # !
            a, i = getnum(fmt, i, MAXALIGN)
            if not (a > 0 and a & (a - 1) == 0):
                error(f"alignment {a} is not a power of 2")
            h[1] = a
            return i
        argerror(1, f"invalid format option '{chr(opt)}'")

    def to_unsigned(n: float | int) -> int:
        # (Uinttype)(Inttype)n for negatives, (Uinttype)n otherwise; x86
        # conversions of out-of-range doubles give 2^63.
        if n != n or n in (float("inf"), float("-inf")):
            return 1 << 63
        if n < 0:
            v = int(n)
            return (v & _U64) if v >= -(1 << 63) else 1 << 63
        v = int(n)
        return v if v < (1 << 64) else 0

    def pack(*args):
        fmt = checkstring(args, 1)
        h = [NATIVE, 1]
        arg = 2
        out = bytearray()
        i = 0
        while i < len(fmt) and fmt[i] != 0:
            opt = fmt[i]
            i += 1
            size, i = optsize(opt, fmt, i)
            toalign = gettoalign(len(out), h, opt, size)
            out += b"\0" * toalign
            if opt in b"bBhHlLTiI":
                n = checknumber(args, arg)
                arg += 1
                v = to_unsigned(n)
                bs = bytearray()
                for _ in range(size):
                    bs.append(v & 0xFF)
                    v >>= 8
                out += bs if h[0] == LITTLE else bs[::-1]
                continue
            if opt == 0x78:
                out.append(0)
                continue
            if opt == 0x66:
                n = float(checknumber(args, arg))
                arg += 1
                try:
                    b = struct.pack("<f", n)
                except OverflowError:
                    b = struct.pack("<f", float("inf") if n > 0 else float("-inf"))
                out += b if h[0] == LITTLE else b[::-1]
                continue
            if opt == 0x64:
                n = float(checknumber(args, arg))
                arg += 1
                b = struct.pack("<d", n)
                out += b if h[0] == LITTLE else b[::-1]
                continue
            if opt in b"cs":
                s = checkstring(args, arg, True)
                arg += 1
                if size == 0:
                    size = len(s)
                if len(s) < size:
                    argerror(arg, "string too short")
                out += s[:size]
                if opt == 0x73:
                    out.append(0)
                continue
            i = controloptions(opt, fmt, i, h)
        return bytes(out)

    def getinteger(data, endian, signed, size):
        v = 0
        seq = data if endian == BIG else data[::-1]
        for byte in seq:
            v = ((v << 8) | byte) & _U64
        if not signed:
            return v
        if size * 8 - 1 < 64:
            mask = (_U64 << (size * 8 - 1)) & _U64
            if v & mask:
                v |= mask
        return v - (1 << 64) if v >= (1 << 63) else v

    def unpack(*args):
        fmt = checkstring(args, 1)
        data = checkstring(args, 2)
        ld = len(data)
        if len(args) >= 3 and args[2] is not None:
            p = checknumber(args, 3)
            pos = int(p) & _U64 if p == p and abs(p) < 2**63 else 1 << 63
        else:
            pos = 1
        if pos == 0:
            argerror(3, "offset must be 1 or greater")
        pos = (pos - 1) & _U64
        h = [NATIVE, 1]
        res = []
        i = 0
        while i < len(fmt) and fmt[i] != 0:
            opt = fmt[i]
            i += 1
            size, i = optsize(opt, fmt, i)
            pos = (pos + gettoalign(pos, h, opt, size)) & _U64
            if not (size <= ld and pos <= ld - size):
                argerror(2, "data string too short")
            if opt in b"bBhHlLTiI":
                v = getinteger(data[pos:pos + size], h[0], opt in b"bhli",
                               size)
                res.append(float(v) if abs(v) >= 2**53 else v)
            elif opt == 0x78:
                pass
            elif opt == 0x66:
                b = data[pos:pos + 4]
                res.append(struct.unpack("<f" if h[0] == LITTLE else ">f", b)[0])
            elif opt == 0x64:
                b = data[pos:pos + 8]
                res.append(struct.unpack("<d" if h[0] == LITTLE else ">d", b)[0])
            elif opt == 0x63:
                if size == 0:
                    if not res or tonumber(res[-1]) is None:
                        error("format 'c0' needs a previous size")
                    size = int(tonumber(res.pop()))
                    if not (size <= ld and pos <= ld - size):
                        argerror(2, "data string too short")
                res.append(data[pos:pos + size])
            elif opt == 0x73:
                e = data.find(b"\0", pos)
                if e == -1:
                    error("unfinished string in data")
                size = e - pos + 1
                res.append(data[pos:e])
            else:
                i = controloptions(opt, fmt, i, h)
            pos += size
        res.append(pos + 1)
        return tuple(res)

    def size(*args):
        fmt = checkstring(args, 1)
        h = [NATIVE, 1]
        pos = 0
        i = 0
        while i < len(fmt) and fmt[i] != 0:
            opt = fmt[i]
            i += 1
            sz, i = optsize(opt, fmt, i)
            pos += gettoalign(pos, h, opt, sz)
            if opt == 0x73:
                argerror(1, "option 's' has no fixed size")
            elif opt == 0x63 and sz == 0:
                argerror(1, "option 'c0' has no fixed size")
            if not (48 <= opt <= 57 or 65 <= opt <= 90 or 97 <= opt <= 122):
                i = controloptions(opt, fmt, i, h)
            pos += sz
        return pos

    return {b"pack": pack, b"unpack": unpack, b"size": size}

