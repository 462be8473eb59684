"""Reply values and their RESP2 / RESP3 encoding.

Handlers return plain Python values; the encoder picks the wire form for the
client's protocol:

    bytes            bulk string          None        null (RESP2 ``$-1``)
    int              integer              bool        RESP3 boolean (RESP2 ``:1``/``:0``)
    float            double (RESP2 bulk)  list/tuple  array
    dict             map (RESP2 flat array)
    Status           simple string        CommandError  error reply
    SetReply         set (RESP2 array)    Push        push (RESP2 array)
    Verbatim         verbatim string (RESP2 bulk)
    Bulks            array of bytes only (no per-element type check)
    NULL_ARRAY       null (RESP2 ``*-1``)  Raw         pre-encoded bytes, sent as is
    NOREPLY          nothing is sent

Returning values rather than writing bytes lets MULTI/EXEC and scripts reuse the
same handlers: they collect the values.
"""

from __future__ import annotations

import math

from kvserver.errors import CommandError


class Status(bytes):
    """A simple string reply (+OK)."""

    __slots__ = ()


class Raw(bytes):
    """Bytes already encoded as RESP, identical in RESP2 and RESP3."""

    __slots__ = ()


class Bulks(list):
    """An array of plain bytes only, as its producer guarantees (a list's
    elements): encoded without checking each element's type."""

    __slots__ = ()


class SetReply(list):
    """A RESP3 set; an array in RESP2."""

    __slots__ = ()


class Push(list):
    """A RESP3 out-of-band push; an array in RESP2."""

    __slots__ = ()


class Verbatim(bytes):
    """A RESP3 verbatim string (format 'txt'); a bulk string in RESP2."""

    __slots__ = ()


class _Sentinel:
    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


NULL_ARRAY = _Sentinel("NULL_ARRAY")
NOREPLY = _Sentinel("NOREPLY")

OK = Status(b"OK")
QUEUED = Status(b"QUEUED")
PONG = Status(b"PONG")

_OK_BYTES = b"+OK\r\n"
# Small integers are encoded once: counters and booleans are most integer
# replies. SMALL_INTS[i + 1] is the reply for i, -1 <= i <= 10000.
SMALL_INTS = [b":%d\r\n" % i for i in range(-1, 10001)]


def format_double(d: float) -> bytes:
    """Redis 7.0's addReplyDouble text: %.17g, with inf/-inf/nan spelled out."""
    if math.isinf(d):
        return b"inf" if d > 0 else b"-inf"
    if d != d:
        return b"nan"
    return b"%.17g" % d


def encode(r: object, resp3: bool) -> bytes:
    """Encode one reply value for a client speaking RESP3 (True) or RESP2."""
    t = r.__class__
    if t is bytes:
        return b"$%d\r\n%s\r\n" % (len(r), r)
    if r is OK:
        return _OK_BYTES
    if t is int:
        if -1 <= r <= 10000:
            return SMALL_INTS[r + 1]
        return b":%d\r\n" % r
    if r is None:
        return b"_\r\n" if resp3 else b"$-1\r\n"
    if t is Bulks:
        n = len(r)
        return _encode_bulks(r, n) if n else b"*0\r\n"
    if t is list or t is tuple:
        n = len(r)
        if not n:
            return b"*0\r\n"
        if n >= 8:
            b = _encode_bulk_array(r, n)
            if b is not None:
                return b
        return b"*%d\r\n" % n + b"".join([encode(x, resp3) for x in r])
    if t is Raw:
        return r
    if t is Status:
        return b"+%s\r\n" % r
    if t is CommandError or isinstance(r, CommandError):
        return _encode_error(r.msg)
    if t is float:
        if resp3:
            return b",%s\r\n" % format_double(r)
        s = format_double(r)
        return b"$%d\r\n%s\r\n" % (len(s), s)
    if t is bool:
        if resp3:
            return b"#t\r\n" if r else b"#f\r\n"
        return b":1\r\n" if r else b":0\r\n"
    if t is dict:
        if resp3:
            head = b"%%%d\r\n" % len(r)
        else:
            head = b"*%d\r\n" % (2 * len(r))
        parts = [head]
        for k, v in r.items():
            parts.append(encode(k, resp3))
            parts.append(encode(v, resp3))
        return b"".join(parts)
    if t is SetReply:
        head = b"~%d\r\n" % len(r) if resp3 else b"*%d\r\n" % len(r)
        return head + b"".join([encode(x, resp3) for x in r])
    if t is Push:
        head = b">%d\r\n" % len(r) if resp3 else b"*%d\r\n" % len(r)
        return head + b"".join([encode(x, resp3) for x in r])
    if t is Verbatim:
        if resp3:
            return b"=%d\r\ntxt:%s\r\n" % (len(r) + 4, r)
        return b"$%d\r\n%s\r\n" % (len(r), r)
    if r is NULL_ARRAY:
        return b"_\r\n" if resp3 else b"*-1\r\n"
    if isinstance(r, bytes):  # other bytes subclasses (bytearray-free values)
        return b"$%d\r\n%s\r\n" % (len(r), r)
    if isinstance(r, str):
        b = r.encode()
        return b"$%d\r\n%s\r\n" % (len(b), b)
    if isinstance(r, int):
        return b":%d\r\n" % r
    if isinstance(r, (list, tuple)):
        return b"*%d\r\n" % len(r) + b"".join([encode(x, resp3) for x in r])
    raise TypeError(f"cannot encode reply of type {t.__name__}")


_BULK_HEADS = [b"$%d" % i for i in range(512)]
_ONLY_BYTES = {bytes}


def _encode_bulk_array(r: list | tuple, n: int) -> bytes | None:
    """An array made only of plain bytes (HKEYS, SMEMBERS...) encoded with
    C-level passes instead of one encode() call per element; None when an
    element is of another type or 512 bytes long or more."""
    if set(map(type, r)) != _ONLY_BYTES:
        return None
    return _encode_bulks(r, n)


def _encode_bulks(r: list | tuple, n: int, heads: list[bytes] = _BULK_HEADS) -> bytes:
    """_encode_bulk_array once the elements are known to be bytes."""
    parts: list = [None] * (2 * n)
    try:
        parts[0::2] = [heads[len(x)] for x in r]
    except IndexError:  # an element of 512 bytes or more
        return b"*%d\r\n" % n + b"".join([b"$%d\r\n%s\r\n" % (len(x), x) for x in r])
    parts[1::2] = r
    parts.append(b"")  # the last element's CRLF
    return b"*%d\r\n" % n + b"\r\n".join(parts)


def _encode_error(msg: str) -> bytes:
    # An error reply is a single line: Redis replaces newlines with spaces.
    b = msg.encode("utf-8", "surrogateescape")  # raw client bytes (errors.py)
    if b"\r" in b or b"\n" in b:
        b = b.replace(b"\r", b" ").replace(b"\n", b" ")
    return b"-%s\r\n" % b
