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
    out = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == 42:  # '*'
            while i + 1 < n and pattern[i + 1] == 42:
                i += 1
            out.append(b".*")
        elif c == 63:  # '?'
            out.append(b".")
        elif c == 91:  # '['
            i += 1
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
                out.append(b"(?!)" if not negate else b".")
            else:
                out.append(b"[" + (b"^" if negate else b"") + body + b"]")
        elif c == 92 and i + 1 < n:  # backslash
            i += 1
            out.append(re.escape(pattern[i:i + 1]))
        else:
            out.append(re.escape(pattern[i:i + 1]))
        i += 1
    flags = re.DOTALL | (re.IGNORECASE if nocase else 0)
    return re.compile(b"".join(out), flags)


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
