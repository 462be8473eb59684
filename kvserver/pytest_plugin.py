"""pytest plugin (entry point `pytest11`): fixtures for tests that need Redis.

    def test_cache(kvclient):          # a redis.Redis on a shared kvserver,
        kvclient.set("k", "v")         # flushed before each test
        assert kvclient.get("k") == b"v"

    def test_ttl(kvserver, kvclient):  # kvserver: the session's KVServer
        kvclient.set("k", "v", ex=10)
        kvserver.advance_time(11)
        assert kvclient.get("k") is None
"""

from __future__ import annotations

import pytest

from kvserver.testing import KVServer


@pytest.fixture(scope="session")
def kvserver():
    """One in-process kvserver for the whole test session."""
    with KVServer() as srv:
        yield srv


@pytest.fixture
def kvclient(kvserver):
    """A redis-py client on the session's kvserver, flushed before the test."""
    r = kvserver.client()
    r.flushall()
    yield r
    r.close()
