"""The `cmsgpack` library Redis bundles (lua-cmsgpack 0.4.0).

pack() walks Lua tables the way the C code does: a table whose keys are
exactly 1..N is an array (its length taken with the # operator), anything
else a map in Lua's iteration order; nesting deeper than 16 becomes nil.
unpack() builds tables in decoding order.
"""

from __future__ import annotations

import struct

import lupa.lua51 as lupa

from kvserver.scripting.libs.cnum import fmt_number, lua_typename, tonumber
from kvserver.scripting.luaerr import arg_error, lua_error, plain_error

MAX_NESTING = 16
INT_MAX = 2**31 - 1
_pack_f = struct.Struct(">f").pack
_pack_d = struct.Struct(">d").pack
_unpack_f = struct.Struct(">f").unpack_from
_unpack_d = struct.Struct(">d").unpack_from
_lua_type = lupa.lua_type


class _Need(Exception):
    """Not enough bytes (MP_CUR_ERROR_EOF)."""


class _BadFmt(Exception):
    """MP_CUR_ERROR_BADFMT."""


def _enc_bytes(out: bytearray, s: bytes) -> None:
    n = len(s)
    if n < 32:
        out.append(0xA0 | n)
    elif n <= 0xFF:
        out += b"\xd9" + bytes((n,))
    elif n <= 0xFFFF:
        out += b"\xda" + n.to_bytes(2, "big")
    else:
        out += b"\xdb" + (n & 0xFFFFFFFF).to_bytes(4, "big")
    out += s


def _enc_int(out: bytearray, n: int) -> None:
    if n >= 0:
        if n <= 127:
            out.append(n)
        elif n <= 0xFF:
            out += b"\xcc" + bytes((n,))
        elif n <= 0xFFFF:
            out += b"\xcd" + n.to_bytes(2, "big")
        elif n <= 0xFFFFFFFF:
            out += b"\xce" + n.to_bytes(4, "big")
        else:
            out += b"\xcf" + n.to_bytes(8, "big")
    else:
        if n >= -32:
            out.append(n & 0xFF)
        elif n >= -128:
            out += b"\xd0" + (n & 0xFF).to_bytes(1, "big")
        elif n >= -32768:
            out += b"\xd1" + (n & 0xFFFF).to_bytes(2, "big")
        elif n >= -2147483648:
            out += b"\xd2" + (n & 0xFFFFFFFF).to_bytes(4, "big")
        else:
            out += b"\xd3" + (n & 0xFFFFFFFFFFFFFFFF).to_bytes(8, "big")


def _enc_number(out: bytearray, n: int | float) -> None:
    if n.__class__ is int:
        _enc_int(out, n)
        return
    if n == n and n not in (float("inf"), float("-inf")) and n == int(n) \
            and -2**63 <= n < 2**63:
        _enc_int(out, int(n))
        return
    try:
        f = _pack_f(n)
        if _unpack_f(f)[0] == n:
            out += b"\xca" + f
            return
    except OverflowError:
        pass
    out += b"\xcb" + _pack_d(n)


def _is_array(t) -> bool:
    count = 0
    mx = 0
    for k in t.keys():
        if k.__class__ is int:
            n = k
        elif k.__class__ is float:
            if not (k == k and abs(k) <= INT_MAX and k == int(k)):
                return False
            n = int(k)
        else:
            return False
        if n <= 0 or n > INT_MAX:
            return False
        if n > mx:
            mx = n
        count += 1
    return mx == count


def _enc_value(out: bytearray, v, level: int) -> None:
    t = v.__class__
    if t is bytes:
        _enc_bytes(out, v)
    elif t is bool:
        out.append(0xC3 if v else 0xC2)
    elif t is int or t is float:
        _enc_number(out, v)
    elif v is not None and _lua_type(v) == "table" and level < MAX_NESTING:
        if _is_array(v):
            n = len(v)
            if n <= 15:
                out.append(0x90 | n)
            elif n <= 0xFFFF:
                out += b"\xdc" + n.to_bytes(2, "big")
            else:
                out += b"\xdd" + (n & 0xFFFFFFFF).to_bytes(4, "big")
            for j in range(1, n + 1):
                _enc_value(out, v[j], level + 1)
        else:
            items = list(v.items())
            n = len(items)
            if n <= 15:
                out.append(0x80 | n)
            elif n <= 0xFFFF:
                out += b"\xde" + n.to_bytes(2, "big")
            else:
                out += b"\xdf" + (n & 0xFFFFFFFF).to_bytes(4, "big")
            for k, x in items:
                _enc_value(out, k, level + 1)
                _enc_value(out, x, level + 1)
    else:
        out.append(0xC0)


def make(rt) -> dict:
    new_table = rt.table

    def pack(*args):
        if not args:
            raise arg_error(0, "MessagePack pack needs input.")
        out = bytearray()
        for a in args:
            _enc_value(out, a, 0)
        return bytes(out)

    def need(data, pos, n):
        if len(data) - pos < n:
            raise _Need

    def decode(data: bytes, pos: int):
        need(data, pos, 1)
        b = data[pos]
        if b <= 0x7F:
            return b, pos + 1
        if b >= 0xE0:
            return b - 256, pos + 1
        if 0xA0 <= b <= 0xBF:
            n = b & 0x1F
            need(data, pos, 1 + n)
            return data[pos + 1:pos + 1 + n], pos + 1 + n
        if 0x90 <= b <= 0x9F:
            return decode_array(data, pos + 1, b & 0xF)
        if 0x80 <= b <= 0x8F:
            return decode_map(data, pos + 1, b & 0xF)
        if b == 0xC0:
            return None, pos + 1
        if b == 0xC2:
            return False, pos + 1
        if b == 0xC3:
            return True, pos + 1
        if b in (0xCC, 0xCD, 0xCE, 0xCF):
            w = {0xCC: 1, 0xCD: 2, 0xCE: 4, 0xCF: 8}[b]
            need(data, pos, 1 + w)
            v = int.from_bytes(data[pos + 1:pos + 1 + w], "big")
            if v >= 2**63:
                v -= 2**64
            return (float(v) if abs(v) >= 2**53 else v), pos + 1 + w
        if b in (0xD0, 0xD1, 0xD2, 0xD3):
            w = {0xD0: 1, 0xD1: 2, 0xD2: 4, 0xD3: 8}[b]
            need(data, pos, 1 + w)
            v = int.from_bytes(data[pos + 1:pos + 1 + w], "big", signed=True)
            return (float(v) if abs(v) >= 2**53 else v), pos + 1 + w
        if b == 0xCA:
            need(data, pos, 5)
            return _unpack_f(data, pos + 1)[0], pos + 5
        if b == 0xCB:
            need(data, pos, 9)
            return _unpack_d(data, pos + 1)[0], pos + 9
        if b in (0xD9, 0xDA, 0xDB):
            w = {0xD9: 1, 0xDA: 2, 0xDB: 4}[b]
            need(data, pos, 1 + w)
            n = int.from_bytes(data[pos + 1:pos + 1 + w], "big")
            need(data, pos, 1 + w + n)
            return data[pos + 1 + w:pos + 1 + w + n], pos + 1 + w + n
        if b in (0xDC, 0xDD):
            w = 2 if b == 0xDC else 4
            need(data, pos, 1 + w)
            n = int.from_bytes(data[pos + 1:pos + 1 + w], "big")
            return decode_array(data, pos + 1 + w, n)
        if b in (0xDE, 0xDF):
            w = 2 if b == 0xDE else 4
            need(data, pos, 1 + w)
            n = int.from_bytes(data[pos + 1:pos + 1 + w], "big")
            return decode_map(data, pos + 1 + w, n)
        raise _BadFmt

    def decode_array(data, pos, n):
        t = new_table()
        for i in range(1, n + 1):
            v, pos = decode(data, pos)
            if v is not None:
                t[i] = v
        return t, pos

    def decode_map(data, pos, n):
        t = new_table()
        for _ in range(n):
            k, pos = decode(data, pos)
            v, pos = decode(data, pos)
            if k is None:
                raise plain_error("table index is nil")
            if k.__class__ is float and k != k:
                raise plain_error("table index is NaN")
            t[k] = v
        return t, pos

    def unpack_full(args, limit, offset):
        present = len(args) >= 1
        s = args[0] if present else None
        if s.__class__ in (int, float):
            s = fmt_number(s)
        if s.__class__ is not bytes:
            raise arg_error(1, "string expected, got " + lua_typename(s, present))
        n = len(s)
        if offset < 0 or limit < 0:
            raise lua_error(f"Invalid request to unpack with offset of {_c_int(offset)} and "
                            f"limit of {_c_int(n)}.")
        if offset > n:
            raise lua_error(f"Start offset {_c_int(offset)} greater than input length "
                            f"{_c_int(n)}.")
        decode_all = not limit and not offset
        if decode_all:
            limit = INT_MAX
        pos = offset
        res = []
        try:
            while pos < n and len(res) < limit:
                v, pos = decode(s, pos)
                res.append(v)
        except _Need:
            raise lua_error("Missing bytes in input.") from None
        except _BadFmt:
            raise lua_error("Bad data format in input.") from None
        if len(res) > 7990:
            raise lua_error("stack overflow (too many return values at once; use "
                            "unpack_one or unpack_limit instead.)")
        if not decode_all:
            res.insert(0, -1 if pos >= n else pos)
        return tuple(res)

    def optinteger(args, i, default):
        present = len(args) >= i
        v = args[i - 1] if present else None
        if v is None:
            return default
        num = tonumber(v)
        if num is None:
            raise arg_error(i, "number expected, got " + lua_typename(v, present))
        return _to_integer(num)

    def unpack(*args):
        return unpack_full(args, 0, 0)

    def unpack_one(*args):
        offset = optinteger(args, 2, 0)
        return unpack_full(args[:1], 1, offset)

    def unpack_limit(*args):
        present = len(args) >= 2
        v = args[1] if present else None
        num = tonumber(v)
        if num is None:
            raise arg_error(2, "number expected, got " + lua_typename(v, present))
        offset = optinteger(args, 3, 0)
        return unpack_full(args[:1], _to_integer(num), offset)

    return {b"pack": pack, b"unpack": unpack, b"unpack_one": unpack_one,
            b"unpack_limit": unpack_limit}


def _to_integer(n) -> int:
    """lua_Integer (ptrdiff_t) of a Lua number: truncation; x86 gives
    LLONG_MIN for NaN and out-of-range values."""
    if n.__class__ is int:
        return n
    if n != n or not -2**63 <= n < 2**63:
        return -2**63
    return int(n)


def _c_int(n: int) -> int:
    n &= 0xFFFFFFFF
    return n - 2**32 if n >= 2**31 else n


META = {b"_NAME": b"cmsgpack", b"_VERSION": b"lua-cmsgpack 0.4.0",
        b"_COPYRIGHT": b"Copyright (C) 2012, Salvatore Sanfilippo",
        b"_DESCRIPTION": b"MessagePack C implementation for Lua"}
