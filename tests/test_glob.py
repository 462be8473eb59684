"""Redis's glob rules (KEYS, SCAN MATCH, CONFIG GET, pub/sub patterns)."""

import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kvserver.glob import glob_match

ALPHABET = st.sampled_from(list("ab?*[]^-\\x"))


@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(ALPHABET, min_size=1, max_size=8), st.text(st.sampled_from(list("abx-*[]")),
                                                          min_size=1, max_size=8))
def test_glob_matches_redis(diff, pattern, key):
    diff.flush()
    diff.check("SET", key, "1")
    diff.check("KEYS", pattern)


def test_nested_stars_do_not_explode():
    """Redis's keyspace regression test: must answer at once, not backtrack."""
    t = time.perf_counter()
    assert not glob_match(b"a*" * 20 + b"b", b"a" * 40)
    assert time.perf_counter() - t < 5  # generous: exponential would take hours


def test_nocase():
    assert glob_match(b"MAXMEMORY*", b"maxmemory-policy", nocase=True)
    assert not glob_match(b"MAXMEMORY*", b"maxmemory-policy")
