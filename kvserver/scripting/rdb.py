"""The bits of the RDB format FUNCTION DUMP/RESTORE need: CRC64 (Jones,
reflected, as Redis's crc64.c), RDB string encoding and LZF decompression."""

from __future__ import annotations


def _table() -> list[int]:
    poly = 0x95AC9329AC4BC9B5  # 0xad93d23594c935a9 reflected
    table = []
    for i in range(256):
        crc = i
        for _ in range(8):
            crc = (crc >> 1) ^ poly if crc & 1 else crc >> 1
        table.append(crc)
    return table


_CRC_TABLE = _table()


def crc64(data: bytes, crc: int = 0) -> int:
    t = _CRC_TABLE
    for b in data:
        crc = t[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc


def encode_length(n: int) -> bytes:
    if n < 1 << 6:
        return bytes((n,))
    if n < 1 << 14:
        return bytes((0x40 | (n >> 8), n & 0xFF))
    if n <= 0xFFFFFFFF:
        return b"\x80" + n.to_bytes(4, "big")
    return b"\x81" + n.to_bytes(8, "big")


def encode_string(s: bytes) -> bytes:
    return encode_length(len(s)) + s


def decode_length(data: bytes, pos: int) -> tuple[int, bool, int]:
    """(length or encoding type, is_encoded, new position)."""
    if pos >= len(data):
        raise ValueError("truncated")
    b = data[pos]
    kind = b >> 6
    if kind == 0:
        return b & 0x3F, False, pos + 1
    if kind == 1:
        if pos + 2 > len(data):
            raise ValueError("truncated")
        return ((b & 0x3F) << 8) | data[pos + 1], False, pos + 2
    if kind == 3:
        return b & 0x3F, True, pos + 1
    if b == 0x80:
        if pos + 5 > len(data):
            raise ValueError("truncated")
        return int.from_bytes(data[pos + 1:pos + 5], "big"), False, pos + 5
    if b == 0x81:
        if pos + 9 > len(data):
            raise ValueError("truncated")
        return int.from_bytes(data[pos + 1:pos + 9], "big"), False, pos + 9
    raise ValueError("bad length")


def decode_string(data: bytes, pos: int) -> tuple[bytes, int]:
    n, encoded, pos = decode_length(data, pos)
    if not encoded:
        if pos + n > len(data):
            raise ValueError("truncated")
        return data[pos:pos + n], pos + n
    if n in (0, 1, 2):  # integers stored as 1, 2 or 4 little-endian bytes
        width = 1 << n
        if pos + width > len(data):
            raise ValueError("truncated")
        v = int.from_bytes(data[pos:pos + width], "little", signed=True)
        return b"%d" % v, pos + width
    if n == 3:  # LZF
        clen, _, pos = decode_length(data, pos)
        ulen, _, pos = decode_length(data, pos)
        if pos + clen > len(data):
            raise ValueError("truncated")
        out = lzf_decompress(data[pos:pos + clen], ulen)
        return out, pos + clen
    raise ValueError("unknown string encoding")


def lzf_decompress(data: bytes, out_len: int) -> bytes:
    out = bytearray()
    i, n = 0, len(data)
    while i < n:
        ctrl = data[i]
        i += 1
        if ctrl < 32:
            length = ctrl + 1
            if i + length > n:
                raise ValueError("lzf: truncated literal")
            out += data[i:i + length]
            i += length
        else:
            length = ctrl >> 5
            ref = len(out) - ((ctrl & 0x1F) << 8) - 1
            if length == 7:
                if i >= n:
                    raise ValueError("lzf: truncated")
                length += data[i]
                i += 1
            if i >= n:
                raise ValueError("lzf: truncated")
            ref -= data[i]
            i += 1
            length += 2
            if ref < 0:
                raise ValueError("lzf: bad back reference")
            for _ in range(length):
                out.append(out[ref])
                ref += 1
    if len(out) != out_len:
        raise ValueError("lzf: wrong length")
    return bytes(out)
