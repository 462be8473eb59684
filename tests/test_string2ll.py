"""string2ll: Redis's strict integer parse, which every integer argument and
INCR's stored values go through."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from kvserver.protocol import string2ll

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
