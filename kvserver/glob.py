"""Redis's glob-style pattern matching (util.c stringmatchlen).

Used by KEYS, SCAN MATCH, CONFIG GET, pub/sub patterns. Supports `*`, `?`,
`[abc]`, `[^abc]`, `[a-z]` (reversed ranges too), and backslash escapes; an
unterminated `[` class ends at the end of the pattern, as in Redis. Patterns
are compiled once into Python regular expressions and cached.
"""

from __future__ import annotations

import re
from functools import lru_cache


@lru_cache(maxsize=1024)
def _compile(pattern: bytes, nocase: bool) -> re.Pattern[bytes]:
    """Translate a glob into a regex that cannot backtrack exponentially.

    Between two stars every piece of a glob has a fixed length, so matching
    each middle segment at its leftmost position never loses a match; atomic
    groups make the regex engine commit to that position (the technique of
    Python's own fnmatch). `a*a*a*...*b` against a long string stays linear
    instead of exploding (Redis's keyspace tests include that pattern).
    """
    segments: list[list[bytes]] = [[]]
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == 42:  # '*'
            while i + 1 < n and pattern[i + 1] == 42:
                i += 1
            segments.append([])
        elif c == 63:  # '?'
            segments[-1].append(b".")
        elif c == 91:  # '['
            i, piece = _char_class(pattern, i + 1)
            segments[-1].append(piece)
        elif c == 92 and i + 1 < n:  # backslash
            i += 1
            segments[-1].append(re.escape(pattern[i:i + 1]))
        else:
            segments[-1].append(re.escape(pattern[i:i + 1]))
        i += 1
    parts = [b"".join(segments[0])]
    if len(segments) > 1:
        for seg in segments[1:-1]:
            parts.append(b"(?>.*?" + b"".join(seg) + b")")
        parts.append(b".*" + b"".join(segments[-1]))
    flags = re.DOTALL | (re.IGNORECASE if nocase else 0)
    return re.compile(b"".join(parts), flags)


def _char_class(pattern: bytes, i: int) -> tuple[int, bytes]:
    """A `[...]` class starting after the '['; returns (index of its ']', regex)."""
    n = len(pattern)
    negate = i < n and pattern[i] == 94  # '^'
    if negate:
        i += 1
    members = []
    while True:
        if i < n and pattern[i] == 92 and i + 1 < n:  # backslash escape
            i += 1
            members.append(re.escape(pattern[i:i + 1]))
        elif i >= n:
            break  # unterminated class: ends with the pattern
        elif pattern[i] == 93:  # ']'
            break
        elif i + 2 < n and pattern[i + 1] == 45:  # a-z
            a, b = pattern[i], pattern[i + 2]
            if a > b:
                a, b = b, a
            members.append(re.escape(bytes([a])) + b"-" + re.escape(bytes([b])))
            i += 2
        else:
            members.append(re.escape(pattern[i:i + 1]))
        i += 1
    body = b"".join(members)
    if not body:
        return i, (b"." if negate else b"(?!)")
    return i, b"[" + (b"^" if negate else b"") + body + b"]"


def glob_match(pattern: bytes, s: bytes, nocase: bool = False) -> bool:
    """True if s matches the Redis glob pattern."""
    if pattern == b"*":
        return True
    return _compile(pattern, nocase).fullmatch(s) is not None


def glob_matcher(pattern: bytes, nocase: bool = False):
    """A predicate for many matches against one pattern."""
    if pattern == b"*":
        return lambda s: True
    m = _compile(pattern, nocase).fullmatch
    return lambda s: m(s) is not None
