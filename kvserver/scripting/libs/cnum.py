"""C number parsing as Redis's Lua does it: strtod() and lua_tonumber().

Lua strings may hold NUL bytes but the C library sees them NUL-terminated,
so parsing stops at the first NUL.
"""

from __future__ import annotations

import re

_SPACE = b" \t\n\v\f\r"
_DEC = re.compile(rb"[+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)")
_HEX = re.compile(rb"[+-]?0[xX](?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)(?:[pP][+-]?\d+)?")
_INF = re.compile(rb"[+-]?(?:inf(?:inity)?|nan(?:\([0-9A-Za-z_]*\))?)", re.IGNORECASE)


def strtod(s: bytes, pos: int = 0) -> tuple[float, int]:
    """(value, end): C strtod from pos; end == pos when nothing was parsed."""
    n = len(s)
    i = pos
    while i < n and s[i] in _SPACE:
        i += 1
    m = _HEX.match(s, i)
    if m is not None:
        return _hex_value(m.group()), m.end()
    m = _DEC.match(s, i)
    if m is not None:
        return float(m.group()), m.end()
    m = _INF.match(s, i)
    if m is not None:
        t = m.group().lower()
        neg = t.startswith(b"-")
        if b"nan" in t:
            return (-float("nan") if neg else float("nan")), m.end()
        return (float("-inf") if neg else float("inf")), m.end()
    # "0x" alone parses as 0 (the 'x' is left over)
    return 0.0, pos


def _hex_value(t: bytes) -> float:
    neg = t.startswith(b"-")
    t = t.lstrip(b"+-")
    if b"p" not in t.lower():
        t += b"p0"
    v = float.fromhex(t.decode())
    return -v if neg else v


def str2number(s: bytes) -> float | None:
    """luaO_str2d: the number a Lua string converts to, or None."""
    nul = s.find(b"\0")
    if nul != -1:
        s = s[:nul]
    v, end = strtod(s)
    if end == 0:
        return None
    if end < len(s) and s[end] in b"xX":
        # strtoul(s, 16): digits after the 0x prefix
        m = re.match(rb"\s*([+-]?)(?:0[xX])?([0-9a-fA-F]*)", s)
        digits = m.group(2) if m else b""
        if not digits:
            return None
        v = float(int(digits, 16))
        if m and m.group(1) == b"-":
            v = float((-int(digits, 16)) % 2**64)
        end = m.end() if m else end
    rest = s[end:]
    if rest.strip(_SPACE):
        return None
    return v


def tonumber(v) -> float | int | None:
    """lua_tonumber of a value lupa handed over (None when not a number)."""
    t = v.__class__
    if t is int or t is float:
        return v
    if t is bytes:
        return str2number(v)
    return None


def lua_typename(v, present: bool = True) -> str:
    """lua_typename of a value lupa handed over ("no value" for a missing one)."""
    if not present:
        return "no value"
    if v is None:
        return "nil"
    t = v.__class__
    if t is bool:
        return "boolean"
    if t is int or t is float:
        return "number"
    if t is bytes:
        return "string"
    import lupa.lua51 as lupa

    try:
        return lupa.lua_type(v) or "userdata"
    except Exception:  # noqa: BLE001 -- any foreign object
        return "userdata"


def fmt_number(v: float | int) -> bytes:
    """lua_tostring of a number: %.14g."""
    if v.__class__ is int and -10**14 < v < 10**14:
        return b"%d" % v
    f = float(v)
    if f != f:
        import math

        return b"-nan" if math.copysign(1.0, f) < 0 else b"nan"
    return b"%.14g" % f
