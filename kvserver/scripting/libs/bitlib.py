"""The `bit` library Redis bundles (LuaBitOp 1.0.2): 32-bit operations.

Arguments convert as barg() does: the number plus 2^52+2^51, whose low 32
bits are the operand (round to nearest, modulo 2^32); results are signed
32-bit numbers.
"""

from __future__ import annotations

import struct

from kvserver.scripting.libs.cnum import lua_typename, tonumber
from kvserver.scripting.luaerr import arg_error

_pack_d = struct.Struct("<d").pack
_unpack_I = struct.Struct("<I").unpack_from
_MAGIC = 6755399441055744.0  # 2^52 + 2^51


def _bits(n: float) -> int:
    return _unpack_I(_pack_d(float(n) + _MAGIC))[0]


def _signed(b: int) -> int:
    b &= 0xFFFFFFFF
    return b - 0x100000000 if b & 0x80000000 else b


def make() -> dict:
    def barg(args, i):
        """The operand at argument i (1-based)."""
        present = len(args) >= i
        v = args[i - 1] if present else None
        n = tonumber(v)
        if n is None:
            raise arg_error(i, "number expected, got " + lua_typename(v, present))
        if n.__class__ is int and -2**51 <= n < 2**51:
            return n & 0xFFFFFFFF
        return _bits(n)

    def unary(op):
        def f(*args):
            return _signed(op(barg(args, 1)))
        return f

    def fold(op):
        def f(*args):
            b = barg(args, 1)
            for i in range(len(args), 1, -1):
                b = op(b, barg(args, i))
            return _signed(b)
        return f

    def shift(op):
        def f(*args):
            b = barg(args, 1)
            return _signed(op(b, barg(args, 2) & 31))
        return f

    def tohex(*args):
        b = barg(args, 1)
        n = 8 if len(args) < 2 else _signed(barg(args, 2))
        digits = "0123456789abcdef"
        if n < 0:
            n = -n
            digits = "0123456789ABCDEF"
        if n > 8:
            n = 8
        out = []
        for _ in range(n):
            out.append(digits[b & 15])
            b >>= 4
        return "".join(reversed(out)).encode()

    def sar(b, n):
        return (_signed(b) >> n) & 0xFFFFFFFF

    def rol(b, n):
        return ((b << n) | (b >> (32 - n))) & 0xFFFFFFFF

    def ror(b, n):
        return ((b << (32 - n)) | (b >> n)) & 0xFFFFFFFF

    def bswap(b):
        return ((b >> 24) | ((b >> 8) & 0xFF00) | ((b & 0xFF00) << 8) | (b << 24)) & 0xFFFFFFFF

    return {
        b"tobit": unary(lambda b: b),
        b"bnot": unary(lambda b: ~b & 0xFFFFFFFF),
        b"band": fold(lambda a, b: a & b),
        b"bor": fold(lambda a, b: a | b),
        b"bxor": fold(lambda a, b: a ^ b),
        b"lshift": shift(lambda b, n: (b << n) & 0xFFFFFFFF),
        b"rshift": shift(lambda b, n: b >> n),
        b"arshift": shift(sar),
        b"rol": shift(rol),
        b"ror": shift(ror),
        b"bswap": unary(bswap),
        b"tohex": tohex,
    }
