"""The parsing helpers of kvserver.protocol: string2ll (Redis's strict
integer parse, which every integer argument and INCR's stored values go
through) and split_args (sdssplitargs: inline commands, redis.conf lines,
script shebangs)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from kvserver import protocol
from kvserver.protocol import split_args, string2ll

LLONG_MIN, LLONG_MAX = -(2**63), 2**63 - 1


def reference(s: bytes) -> int | None:
    """The definition: s is exactly how %lld prints a 64-bit integer."""
    try:
        n = int(s)
    except ValueError:
        return None
    if not LLONG_MIN <= n <= LLONG_MAX or b"%d" % n != s:
        return None
    return n


def test_edges():
    assert string2ll(b"0") == 0
    assert string2ll(b"-1") == -1
    assert string2ll(b"9223372036854775807") == LLONG_MAX
    assert string2ll(b"-9223372036854775808") == LLONG_MIN
    for bad in (b"", b"-", b"-0", b"01", b"-01", b"+1", b" 1", b"1 ", b"1_000", b"1.0",
                b"9223372036854775808", b"-9223372036854775809", b"1" * 5000,
                "\u0661".encode(), b"\xef\xbc\x91"):  # Arabic-Indic and full-width digits
        assert string2ll(bad) is None, bad


@given(st.lists(st.sampled_from(b"0123456789-+ _\t."), max_size=24).map(bytes))
def test_matches_the_definition(s):
    assert string2ll(s) == reference(s)


@given(st.integers(LLONG_MIN - 10, LLONG_MAX + 10))
def test_every_printed_integer(n):
    assert string2ll(b"%d" % n) == (n if LLONG_MIN <= n <= LLONG_MAX else None)


# -- split_args ----------------------------------------------------------------------

def split_args_by_the_loop(line: bytes):
    """split_args without its fast path for lines with no quote or odd byte."""
    saved = protocol._plain_line
    protocol._plain_line = lambda _line: True  # never "plain"
    try:
        return split_args(line)
    finally:
        protocol._plain_line = saved


@given(st.lists(st.sampled_from(b"ab \t\r\n\\x1\x0b\x0c\x00\"'"), max_size=16).map(bytes))
def test_split_args_fast_path_agrees_with_the_loop(line):
    assert split_args(line) == split_args_by_the_loop(line)


def test_split_args():
    assert split_args(b"  set k  'v w' \"x\\x41\\n\"\t") == [b"set", b"k", b"v w", b"xA\n"]
    assert split_args(b"a\x0bb") == [b"a\x0bb"]  # \v separates arguments only before one
    assert split_args(b"\"unbalanced") is None
    assert split_args(b"\"a\"b") is None  # a closing quote must be followed by a space


def test_split_args_stops_at_nul():
    # sdssplitargs reads a C string. (This used to loop forever, appending
    # empty arguments, on a NUL after an unquoted argument.)
    assert split_args(b"a\0b c") == [b"a"]
    assert split_args(b"\x0ba\\\x00\t\\\"a\x0b\t") == [b"a\\"]
