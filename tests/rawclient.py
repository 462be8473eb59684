"""A minimal RESP client for tests: sends raw commands, returns the exact reply
bytes (for byte-for-byte comparison with redis-server) and a parsed value."""

from __future__ import annotations

import socket

import hiredis


class ReplyError(Exception):
    """An error reply, parsed (kept as a value, not raised by hiredis)."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ReplyError) and self.args == other.args

    def __hash__(self) -> int:
        return hash(self.args)


def encode_command(args) -> bytes:
    parts = [b"*%d\r\n" % len(args)]
    for a in args:
        if isinstance(a, str):
            a = a.encode()
        elif isinstance(a, (int, float)):
            a = repr(a).encode() if isinstance(a, float) else b"%d" % a
        parts.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(parts)


def reply_length(buf, pos: int) -> int | None:
    """Length in bytes of the complete RESP2/RESP3 value at buf[pos:], or None."""
    end = buf.find(b"\r\n", pos)
    if end == -1:
        return None
    t = buf[pos:pos + 1]
    line = bytes(buf[pos + 1:end])
    p = end + 2
    if t in (b"$", b"=", b"!"):
        n = int(line)
        if n < 0:
            return p - pos
        return p + n + 2 - pos if len(buf) >= p + n + 2 else None
    if t in (b"*", b"~", b">", b"%", b"|"):
        n = int(line)
        if t in (b"%", b"|"):
            n *= 2
        for _ in range(max(n, 0)):
            m = reply_length(buf, p)
            if m is None:
                return None
            p += m
        return p - pos
    return p - pos  # + - : _ , # ( are single lines


class RawClient:
    def __init__(self, host: str = "127.0.0.1", port: int = 6379, timeout: float = 10.0,
                 unix_path: str | None = None) -> None:
        if unix_path:
            self.sock = socket.socket(socket.AF_UNIX)
            self.sock.connect(unix_path)
        else:
            self.sock = socket.create_connection((host, port))
        self.sock.settimeout(timeout)
        self.raw = bytearray()

    def send_raw(self, data: bytes) -> None:
        self.sock.sendall(data)

    def read_reply(self):
        """(raw bytes, parsed value) of the next reply."""
        while True:
            n = reply_length(self.raw, 0)
            if n is not None:
                raw = bytes(self.raw[:n])
                del self.raw[:n]
                r = hiredis.Reader(replyError=ReplyError)
                r.feed(raw)
                return raw, r.gets()
            data = self.sock.recv(1 << 16)
            if not data:
                raise ConnectionError("connection closed by server")
            self.raw += data

    def call(self, *args):
        """Send one command; return (raw reply bytes, parsed reply)."""
        self.sock.sendall(encode_command(args))
        return self.read_reply()

    def execute(self, *args):
        return self.call(*args)[1]

    def close(self) -> None:
        self.sock.close()
