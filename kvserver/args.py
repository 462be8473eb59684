"""Argument parsing shared by handlers, with Redis's rules and error texts."""

from __future__ import annotations

from kvserver import errors
from kvserver.errors import CommandError
from kvserver.protocol import string2ll

LLONG_MIN = -(2**63)
LLONG_MAX = 2**63 - 1


def to_int(b: bytes, msg: str = errors.NOT_INTEGER) -> int:
    """A 64-bit integer argument (Redis's strict string2ll)."""
    v = string2ll(b)
    if v is None:
        raise CommandError(msg)
    return v


def to_nonneg_int(b: bytes, msg: str = errors.NOT_POSITIVE) -> int:
    v = to_int(b)
    if v < 0:
        raise CommandError(msg)
    return v


def to_float(b: bytes, msg: str = errors.NOT_FLOAT) -> float:
    """A double argument as Redis's strtod accepts it ("inf", "-inf", "1e3"; no NaN)."""
    if not b or b[0] in b" \t\n\r\v\f" or b[-1] in b" \t\n\r\v\f":
        raise CommandError(msg)
    try:
        v = float(b)
    except ValueError:
        raise CommandError(msg) from None
    if v != v:
        raise CommandError(msg)
    low = b.lower()
    if b"_" in b or low.startswith((b"0x", b"-0x", b"+0x")):
        raise CommandError(msg)
    if low in (b"infinity", b"+infinity", b"-infinity") or low.lstrip(b"+-").startswith(b"nan"):
        if b"nan" in low:
            raise CommandError(msg)
    return v


def to_timeout(b: bytes) -> float:
    """A blocking timeout in seconds (fractional allowed, 0 = forever), with
    Redis's exact rules and errors (see kvserver.blocking.parse_timeout)."""
    from kvserver.blocking import parse_timeout

    return parse_timeout(b)


def lower(b: bytes) -> bytes:
    return b.lower()
