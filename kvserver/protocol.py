"""Request parsing: Redis's exact rules, as the slow path beside hiredis.

The connection feeds well-formed multibulk requests to hiredis (C, ~0.1 us per
command). This module is the reference parser that takes over for everything
else: inline commands, malformed input, and validating the header of a request
that has not fully arrived, so that a bulk length of 2 GB is refused at once
with Redis's error instead of the server waiting (and buffering) for it.

Error texts and limits follow Redis 7.0's processInlineBuffer and
processMultibulkBuffer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

INLINE_MAX_SIZE = 64 * 1024  # PROTO_INLINE_MAX_SIZE
INT_MAX = 2**31 - 1
UNAUTH_MAX_MULTIBULK = 10
UNAUTH_MAX_BULK = 16384


class ProtocolError(Exception):
    """A request Redis would answer with -ERR Protocol error and close."""

    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what

    @property
    def reply(self) -> str:
        return f"ERR Protocol error: {self.what}"


@dataclass
class Limits:
    proto_max_bulk_len: int = 512 * 1024 * 1024
    authenticated: bool = True


def string2ll(s: bytes) -> int | None:
    """Redis's strict integer parse: the canonical spelling of a 64-bit
    integer (ASCII digits, an optional '-', no leading zero; no '+', spaces
    or underscores, all of which int() would accept)."""
    if s.isdigit():  # bytes.isdigit is ASCII-only
        if s[0] == 48 and len(s) > 1:
            return None
        return int(s) if len(s) < 19 else _checked_ll(s)
    if len(s) > 1 and s[0] == 45 and s[1] != 48 and s[1:].isdigit():  # '-'
        return int(s) if len(s) < 20 else _checked_ll(s)
    return None


def _checked_ll(s: bytes) -> int | None:
    """A number of 19 digits or more: it may not fit in 64 bits."""
    if len(s) > 20:
        return None
    v = int(s)
    return v if -(2**63) <= v <= 2**63 - 1 else None


def parse_request(buf: bytes | bytearray, pos: int, limits: Limits):
    """Parse one request at buf[pos:].

    Returns (argv, newpos): argv is a list of bytes (possibly empty: Redis
    ignores empty requests), or None when the request is incomplete (newpos is
    then pos). Raises ProtocolError for input Redis refuses.
    """
    if pos >= len(buf):
        return None, pos
    if buf[pos] == 42:  # '*'
        return _parse_multibulk(buf, pos, limits)
    return _parse_inline(buf, pos)


def _find_line_end(buf, pos: int, ch: bytes) -> int:
    """Redis finds the end of a header line with strchr() on a NUL-terminated
    buffer: a NUL byte before it hides it (the request then waits for more)."""
    end = buf.find(ch, pos)
    if end != -1 and buf.find(b"\0", pos, end) != -1:
        return -1
    return end


def _parse_inline(buf, pos):
    nl = _find_line_end(buf, pos, b"\n")
    if nl == -1 or nl - pos > INLINE_MAX_SIZE:
        # Redis checks the size when a read leaves no line end in its buffer,
        # so the longest line it takes depends on how its reads fall (64 to
        # ~160 KB); here a line over 64 KB is refused however it is split.
        if nl != -1 or len(buf) - pos > INLINE_MAX_SIZE:
            raise ProtocolError("too big inline request")
        return None, pos
    argv = split_args(bytes(buf[pos:nl - 1 if nl > pos and buf[nl - 1] == 13 else nl]))
    if argv is None:
        raise ProtocolError("unbalanced quotes in request")
    return argv, nl + 1


def _parse_multibulk(buf, pos, limits):
    end = _find_line_end(buf, pos, b"\r")
    if end == -1 or end - pos > INLINE_MAX_SIZE:  # (see _parse_inline)
        if end != -1 or len(buf) - pos > INLINE_MAX_SIZE:
            raise ProtocolError("too big mbulk count string")
        return None, pos
    if end + 1 >= len(buf):  # the '\n' has not arrived
        return None, pos
    count = string2ll(bytes(buf[pos + 1 : end]))
    if count is None or count > INT_MAX:
        raise ProtocolError("invalid multibulk length")
    if count > UNAUTH_MAX_MULTIBULK and not limits.authenticated:
        raise ProtocolError("unauthenticated multibulk length")
    p = end + 2
    if count <= 0:
        return [], p
    argv = []
    n = len(buf)
    for _ in range(count):
        if p >= n:
            return None, pos
        end = _find_line_end(buf, p, b"\r")
        if end == -1 or end - p > INLINE_MAX_SIZE:
            if end != -1 or n - p > INLINE_MAX_SIZE:
                raise ProtocolError("too big bulk count string")
            return None, pos
        if end + 1 >= n:
            return None, pos
        if buf[p] != 36:  # '$'
            # Redis turns CR/LF in an error text into spaces.
            got = " " if buf[p] in (10, 13) else chr(buf[p])
            raise ProtocolError(f"expected '$', got '{got}'")
        blen = string2ll(bytes(buf[p + 1 : end]))
        if blen is None or blen < 0 or blen > limits.proto_max_bulk_len:
            raise ProtocolError("invalid bulk length")
        if blen > UNAUTH_MAX_BULK and not limits.authenticated:
            raise ProtocolError("unauthenticated bulk length")
        start = end + 2
        if start + blen + 2 > n:
            return None, pos
        argv.append(bytes(buf[start : start + blen]))
        p = start + blen + 2  # Redis skips the trailing CRLF without checking it
    return argv, p


_ESCAPES = {
    ord("n"): b"\n",
    ord("r"): b"\r",
    ord("t"): b"\t",
    ord("b"): b"\b",
    ord("a"): b"\a",
}
_HEX = b"0123456789abcdefABCDEF"
# isspace(): what sdssplitargs skips between arguments and wants after a
# closing quote. An unquoted argument, though, ends only at one of _TOKEN_END
# (so "\x01\x0b*1" is one argument, as in Redis).
_SPACE = b" \n\r\t\v\f"
_TOKEN_END = b" \n\r\t"
# Where _SPACE and _TOKEN_END differ, and quoting: a line without any of
# these splits as bytes.split() splits it.
_plain_line = re.compile(rb"[\"'\0\v\f]").search


def split_args(line: bytes) -> list[bytes] | None:
    """sdssplitargs: split an inline command line, honouring quotes.

    Returns None for unbalanced quotes, or a closing quote not followed by a
    space, exactly where Redis does.
    """
    if _plain_line(line) is None:
        # No quote, NUL, \v or \f: the loop below would split at the same
        # whitespace that bytes.split() does.
        return line.split()
    nul = line.find(b"\0")
    if nul != -1:
        line = line[:nul]  # sdssplitargs reads a C string: a NUL ends it
    args: list[bytes] = []
    i, n = 0, len(line)
    while True:
        while i < n and line[i] in _SPACE:
            i += 1
        if i >= n:
            return args
        cur = bytearray()
        inq = insq = False
        while True:
            if inq:
                if i >= n:
                    return None
                c = line[i]
                if (
                    c == 92  # backslash
                    and i + 3 < n
                    and line[i + 1] == 120  # 'x'
                    and line[i + 2] in _HEX
                    and line[i + 3] in _HEX
                ):
                    cur.append(int(line[i + 2 : i + 4], 16))
                    i += 3
                elif c == 92 and i + 1 < n:
                    i += 1
                    cur += _ESCAPES.get(line[i], bytes([line[i]]))
                elif c == 34:  # closing '"' must be followed by a space
                    if i + 1 < n and line[i + 1] not in _SPACE:
                        return None
                    i += 1
                    break
                else:
                    cur.append(c)
            elif insq:
                if i >= n:
                    return None
                c = line[i]
                if c == 92 and i + 1 < n and line[i + 1] == 39:
                    i += 1
                    cur.append(39)
                elif c == 39:
                    if i + 1 < n and line[i + 1] not in _SPACE:
                        return None
                    i += 1
                    break
                else:
                    cur.append(c)
            else:
                if i >= n:
                    break
                c = line[i]
                if c in _TOKEN_END:
                    break
                if c == 34:
                    inq = True
                elif c == 39:
                    insq = True
                else:
                    cur.append(c)
            i += 1
        args.append(bytes(cur))


def request_size(argv: list[bytes]) -> int:
    """Bytes a well-formed multibulk request for argv takes on the wire."""
    size = len(b"*%d\r\n" % len(argv))
    for a in argv:
        size += len(b"$%d\r\n" % len(a)) + len(a) + 2
    return size
