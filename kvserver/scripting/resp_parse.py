"""Parse a pre-encoded reply (kvserver.resp.Raw) back into reply values, so
that a script sees it as it sees any other reply (Redis parses every reply
a script's command produces; most of ours are values already)."""

from __future__ import annotations

from kvserver.errors import CommandError
from kvserver.resp import SetReply, Status, Verbatim


class BigNumber(bytes):
    """A RESP3 big number: {big_number = "..."} in a script."""

    __slots__ = ()


def parse_raw(data: bytes):
    """The first reply in data (attributes skipped, as Redis's parser does)."""
    value, _ = _parse(data, 0)
    return value


def _line(data: bytes, pos: int) -> tuple[bytes, int]:
    end = data.index(b"\r\n", pos)
    return data[pos:end], end + 2


def _parse(data: bytes, pos: int):
    t = data[pos:pos + 1]
    line, pos = _line(data, pos + 1)
    if t == b"$":
        n = int(line)
        if n < 0:
            return None, pos
        return data[pos:pos + n], pos + n + 2
    if t == b"+":
        return Status(line), pos
    if t == b"-":
        return CommandError(line.decode("utf-8", "surrogateescape")), pos
    if t == b":":
        return int(line), pos
    if t in (b"*", b">", b"~"):
        n = int(line)
        if n < 0:
            return None, pos
        items = []
        for _ in range(n):
            v, pos = _parse(data, pos)
            items.append(v)
        return (SetReply(items) if t == b"~" else items), pos
    if t == b"%":
        d = {}
        for _ in range(int(line)):
            k, pos = _parse(data, pos)
            v, pos = _parse(data, pos)
            d[k] = v
        return d, pos
    if t == b"|":
        for _ in range(2 * int(line)):
            _, pos = _parse(data, pos)
        return _parse(data, pos)
    if t == b"_":
        return None, pos
    if t == b",":
        return float(line), pos
    if t == b"#":
        return line == b"t", pos
    if t == b"(":
        return BigNumber(line), pos
    if t == b"=":
        n = int(line)
        return Verbatim(data[pos + 4:pos + n]), pos + n + 2
    raise ValueError(f"unknown reply type {t!r}")
