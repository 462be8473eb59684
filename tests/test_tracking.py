"""Client-side caching: CLIENT TRACKING / CACHING / GETREDIR / TRACKINGINFO and
the invalidation messages, compared byte for byte with redis-server; redis-py's
client-side cache running on kvserver."""

from __future__ import annotations

import re
import time

import pytest
import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.rawclient import RawClient, encode_command
from tests.test_pubsub import Pair


class Clients:
    """Named pairs of connections (kvserver, redis-server), made on demand."""

    def __init__(self, kv_port: int, redis_port: int) -> None:
        self.ports = (kv_port, redis_port)
        self.pairs: list[Pair] = []
        setup = Pair(*self.ports)
        setup.check("FLUSHALL")
        setup.check("CONFIG", "SET", "tracking-table-max-keys", "0")
        setup.close()

    def new(self, resp3: bool = False) -> Pair:
        p = Pair(*self.ports, resp3=resp3)
        p.ids = [c.execute("CLIENT", "ID") for c in (p.kv, p.rd)]
        self.pairs.append(p)
        return p

    @staticmethod
    def track(p: Pair, *opts: str, redirect: Pair | None = None, replies: int = 1):
        """CLIENT TRACKING ON [REDIRECT <the other pair's ids>] opts, on both."""
        if redirect is None:
            return p.check("CLIENT", "TRACKING", "ON", *opts, replies=replies)
        for c, cid in zip((p.kv, p.rd), redirect.ids, strict=True):
            c.send_raw(encode_command(["CLIENT", "TRACKING", "ON", "REDIRECT", str(cid), *opts]))
        return p.expect(replies)

    def close(self) -> None:
        for p in self.pairs:
            p.close()
        setup = Pair(*self.ports)
        setup.check("CONFIG", "SET", "tracking-table-max-keys", "1000000")
        setup.close()


@pytest.fixture
def cl(server, real_redis):
    c = Clients(server.port, real_redis)
    yield c
    c.close()


# -- option parsing -------------------------------------------------------------------------


def test_option_errors_like_redis(cl):
    t = cl.new()
    for args in (("ON", "PREFIX", "a"), ("ON", "BCAST", "OPTIN"), ("ON", "BCAST", "OPTOUT"),
                 ("ON", "OPTIN", "OPTOUT"), ("ON", "REDIRECT", "999999"),
                 ("ON", "REDIRECT", "abc"), ("ON", "REDIRECT", "-1"), ("ON", "REDIRECT", "0"),
                 ("MAYBE",), ("ON", "FOO"), ("ON", "PREFIX"), ("ON", "REDIRECT"),
                 ("ON", "BCAST", "PREFIX", "ab", "PREFIX", "a"),
                 ("ON", "BCAST", "PREFIX", "a", "PREFIX", "ab"),
                 ("ON", "BCAST", "PREFIX", "x", "PREFIX", ""),
                 ("ON", "BCAST", "PREFIX", "same", "PREFIX", "same"),
                 ("OFF", "REDIRECT", "999999"), ("OFF", "PREFIX", "a"), ("OFF", "BCAST"),
                 ("off", "optin", "optout"), ("oN", "nOlOoP")):
        t.check("CLIENT", "TRACKING", *args)
        t.check("CLIENT", "TRACKINGINFO")
        t.check("CLIENT", "GETREDIR")
    t.check("CLIENT", "TRACKING")
    t.check("CLIENT", "CACHING")
    t.check("CLIENT", "CACHING", "YES", "NO")
    t.check("CLIENT", "TRACKING", "OFF")
    for args in (("YES",), ("NO",), ("MAYBE",)):
        t.check("CLIENT", "CACHING", *args)
    t.check("CLIENT", "TRACKING", "ON")
    for args in (("YES",), ("NO",), ("maybe",)):
        t.check("CLIENT", "CACHING", *args)
    # Switching modes while tracking.
    t.check("CLIENT", "TRACKING", "ON", "BCAST")
    t.check("CLIENT", "TRACKING", "ON", "OPTIN")
    t.check("CLIENT", "CACHING", "YES")
    t.check("CLIENT", "CACHING", "NO")
    t.check("CLIENT", "TRACKINGINFO")
    t.check("CLIENT", "TRACKING", "ON", "OPTOUT")
    t.check("CLIENT", "TRACKING", "ON", "OPTIN", "NOLOOP")
    t.check("CLIENT", "TRACKINGINFO")
    t.check("CLIENT", "TRACKING", "OFF")
    t.check("CLIENT", "TRACKING", "ON", "OPTOUT")
    t.check("CLIENT", "CACHING", "NO")
    t.check("CLIENT", "TRACKINGINFO")
    t.check("CLIENT", "TRACKING", "OFF")
    # BCAST prefixes accumulate; a new one may not overlap the old ones.
    t.check("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "ab", "PREFIX", "c")
    t.check("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "abc")
    t.check("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "a")
    t.check("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "d")
    t.check("CLIENT", "TRACKINGINFO")
    t.check("CLIENT", "TRACKING", "ON", "BCAST")  # the empty prefix is added too
    t.check("CLIENT", "TRACKINGINFO")
    t.check("CLIENT", "TRACKING", "ON")
    t.check("CLIENT", "TRACKING", "OFF")
    t.check("CLIENT", "TRACKINGINFO")
    t3 = cl.new(resp3=True)
    t3.check("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "x", "NOLOOP")
    t3.check("CLIENT", "TRACKINGINFO")
    t3.check("CLIENT", "GETREDIR")


def test_redirect_options(cl):
    t, d = cl.new(), cl.new()
    cl.track(t, redirect=d)
    t.check("CLIENT", "TRACKINGINFO", compare=False)
    for c, cid in zip((t.kv, t.rd), d.ids, strict=True):
        assert c.execute("CLIENT", "GETREDIR") == cid
        info = c.execute("CLIENT", "TRACKINGINFO")
        assert info == [b"flags", [b"on"], b"redirect", cid, b"prefixes", []]
        # A second REDIRECT in one command is refused.
        c.send_raw(encode_command(["CLIENT", "TRACKING", "ON", "REDIRECT", str(cid),
                                   "REDIRECT", str(cid)]))
    t.expect(1)
    cl.track(t, "NOLOOP")  # re-enabling without REDIRECT drops it
    t.check("CLIENT", "GETREDIR")


# -- default mode -------------------------------------------------------------------------------


@pytest.mark.parametrize("resp3", [True])
def test_basic_invalidation(cl, resp3):
    t, w = cl.new(resp3), cl.new()
    cl.track(t)
    w.check("SET", "k1", "1")
    t.check("GET", "k1")
    t.check("MGET", "k2", "k3", "k1")  # missing keys are tracked too
    w.check("SET", "k1", "2")
    t.expect(1)
    w.check("SET", "k1", "3")  # no longer tracked
    w.check("DEL", "k3", "k2", "nokey")  # missing: nothing changes
    w.check("MSET", "k3", "x", "k2", "y")
    t.expect(2)  # one message per key, in the order they changed
    t.nothing_pending()
    # Writes do not track their keys.
    t.check("SET", "k4", "v")
    t.check("INCR", "k5")
    w.check("DEL", "k4", "k5")
    t.nothing_pending()
    # Every kind of modification invalidates.
    t.check("MGET", "a", "b", "c", "d", "e")
    t.check("LRANGE", "l", "0", "-1")
    t.check("HGETALL", "h")
    w.check("RPUSH", "l", "x")
    w.check("HSET", "h", "f", "v")
    w.check("SET", "a", "1", "EX", "100")
    w.check("EXPIRE", "a", "200")
    w.check("RENAME", "a", "b")
    w.check("APPEND", "c", "x")
    t.expect(5)  # l, h, a, b (RENAME), c: a once, it was no longer tracked
    t.check("MGET", "b", "c", "d", "e", "l", "h")
    w.check("FLUSHDB")
    t.expect(1)  # a null: everything
    w.check("SET", "b", "x")
    t.nothing_pending()


def test_own_writes_pipelines_and_transactions(cl):
    t = cl.new(resp3=True)
    cl.track(t)
    t.check("GET", "a")
    t.check("SET", "a", "1", replies=2)  # the reply, then the invalidation
    # A pipeline: each invalidation follows the reply of the command that caused it.
    t.send("GET", "a")
    t.send("INCR", "a")
    t.send("GET", "a")
    t.send("DEL", "a")
    t.send("PING")
    t.expect(7)
    # MULTI/EXEC: after EXEC's reply, never inside it.
    t.check("GET", "a")
    t.check("MULTI")
    t.check("SET", "a", "2")
    t.check("GET", "a")
    t.check("EXEC", replies=2)
    t.check("GET", "b")
    t.check("MULTI")
    t.check("FLUSHDB")
    t.check("EXEC", replies=2)
    t.check("FLUSHALL", replies=2)
    # NOLOOP: nothing about its own writes.
    cl.track(t, "NOLOOP")
    t.check("GET", "a")
    t.check("SET", "a", "1")
    w = cl.new()
    t.check("GET", "a")
    w.check("SET", "a", "2")
    t.expect(1)


def test_optin_optout(cl):
    t, w = cl.new(resp3=True), cl.new()
    cl.track(t, "OPTIN")
    t.check("GET", "a")  # not cached: no CACHING YES
    t.check("CLIENT", "CACHING", "YES")
    t.check("CLIENT", "TRACKINGINFO")
    t.check("GET", "b")  # this one is
    t.check("GET", "c")  # CACHING held for one command only
    w.check("MSET", "a", "1", "b", "1", "c", "1")
    t.expect(1)
    t.check("CLIENT", "CACHING", "YES")
    t.check("CLIENT", "ID", compare=False)  # another CLIENT command keeps it
    t.check("CLIENT", "TRACKINGINFO")
    t.check("MULTI")
    t.check("GET", "a")
    t.check("GET", "c")
    t.check("EXEC")  # the whole transaction is cached
    t.check("CLIENT", "TRACKINGINFO")
    w.check("MSET", "a", "2", "b", "2", "c", "2")
    t.expect(2)
    t.check("CLIENT", "TRACKING", "OFF")
    cl.track(t, "OPTOUT")
    t.check("GET", "a")
    t.check("CLIENT", "CACHING", "NO")
    t.check("GET", "b")  # not this one
    t.check("GET", "c")
    w.check("MSET", "a", "3", "b", "3", "c", "3")
    t.expect(2)
    t.nothing_pending()


def test_bcast(cl):
    t, w = cl.new(resp3=True), cl.new()
    cl.track(t, "BCAST", "PREFIX", "user:", "PREFIX", "obj")
    w.check("MSET", "user:2", "a", "user:1", "b", "other", "c", "objx", "d")
    t.expect(2, unordered=True)  # one message per prefix, keys sorted
    w.check("MULTI")
    for k in ("user:9", "user:3", "user:9", "obj", "zzz"):
        w.check("INCR", k)
    w.check("EXEC")
    t.expect(2, unordered=True)
    t.check("SET", "user:me", "1")  # own writes are announced too
    t.expect(1)
    t.check("CLIENT", "TRACKING", "OFF")
    cl.track(t, "BCAST", "NOLOOP")
    w.check("SET", "x", "1")
    t.expect(1)
    t.check("SET", "y", "1")
    t.nothing_pending()
    t.check("MSET", "y", "2", "z", "1")
    w.check("SET", "z", "2")  # z was changed last by w: announced; y not
    t.expect(1)
    w.check("FLUSHALL")
    t.expect(1)
    t.nothing_pending()


def test_bcast_after_default_mode_drops_old_keys(cl):
    t, w = cl.new(resp3=True), cl.new()
    cl.track(t)
    w.check("SET", "key1", "1")
    t.check("GET", "key1")
    t.check("CLIENT", "TRACKING", "OFF")
    cl.track(t, "BCAST")
    w.check("INCR", "key1")
    t.expect(1)  # the BCAST message only, not the old default-mode one
    t.nothing_pending()


def test_redirection(cl):
    t, w = cl.new(), cl.new()
    d2 = cl.new()  # RESP2, subscribed to __redis__:invalidate
    d2.check("SUBSCRIBE", "__redis__:invalidate")
    cl.track(t, redirect=d2)
    t.check("GET", "a")
    t.check("MGET", "b", "c")
    w.check("SET", "a", "1")
    w.check("DEL", "b", "c")
    d2.expect(1)  # only a existed: DEL of missing keys changes nothing
    w.check("SET", "b", "1")
    d2.expect(1)
    t.check("GET", "a")
    w.check("FLUSHALL")
    d2.expect(1)  # null, as a RESP2 message
    # A RESP2 client that is not subscribed gets nothing.
    d2.check("UNSUBSCRIBE")
    t.check("GET", "a")
    w.check("SET", "a", "1")
    d2.nothing_pending()
    # A RESP3 target gets pushes, whatever it is subscribed to.
    d3 = cl.new(resp3=True)
    cl.track(t, redirect=d3)
    t.check("GET", "a")
    w.check("SET", "a", "2")
    d3.expect(1)
    t.check("GET", "a")
    w.check("FLUSHDB")
    d3.expect(1)  # the null is spelled in the tracking client's protocol ($-1)
    # The target goes away: RESP2 tracking clients cannot be told.
    t.check("GET", "a")
    d3.close()
    time.sleep(0.05)
    w.check("SET", "a", "3")
    t.check("CLIENT", "TRACKINGINFO", compare=False)
    for c in (t.kv, t.rd):
        info = c.execute("CLIENT", "TRACKINGINFO")
        assert info[1] == [b"on", b"broken_redirect"]
        assert re.search(rb"flags=tR ", c.execute("CLIENT", "INFO"))


def test_redirect_broken_resp3(cl):
    t, w, d = cl.new(resp3=True), cl.new(), cl.new()
    cl.track(t, redirect=d)
    t.check("GET", "q")
    d.check("QUIT")
    time.sleep(0.05)
    w.check("SET", "q", "1")
    # The push names the redirect id, which differs between the servers.
    got = [c.read_reply()[1] for c in (t.kv, t.rd)]
    ids = [c.execute("CLIENT", "GETREDIR") for c in (t.kv, t.rd)]
    assert got == [[b"tracking-redir-broken", ids[0]], [b"tracking-redir-broken", ids[1]]]
    w.check("SET", "q", "2")
    t.nothing_pending()  # q is no longer tracked
    t.check("GET", "q")
    w.check("FLUSHALL")
    got = [c.read_reply()[1] for c in (t.kv, t.rd)]
    assert got == [[b"tracking-redir-broken", ids[0]], [b"tracking-redir-broken", ids[1]]]


def test_resp2_without_redirect_is_silent(cl):
    t, w = cl.new(), cl.new()
    cl.track(t)
    t.check("GET", "a")
    w.check("SET", "a", "1")
    t.check("GET", "a")
    t.check("HELLO", "3", compare=False)
    w.check("SET", "a", "2")
    t.expect(1)  # the key read in RESP2 is still tracked


def test_expired_keys_are_invalidated(cl):
    t, w = cl.new(resp3=True), cl.new()
    cl.track(t, "BCAST", "PREFIX", "tmp:", "NOLOOP")
    t.check("SET", "tmp:k", "v", "PX", "1")  # its own write: not announced (NOLOOP)
    t.check("SET", "tmp:other", "v")
    time.sleep(0.2)  # the active expiry deletes it: no client did, so announced
    t.expect(1)
    t.check("CLIENT", "TRACKING", "OFF")
    cl.track(t)
    w.check("SET", "e", "v", "PX", "50")
    t.check("GET", "e")
    time.sleep(0.2)
    t.expect(1)


def test_scripts_track_their_declared_keys_when_they_read(cl):
    from kvserver.table import TABLE

    if b"eval" not in TABLE:
        pytest.skip("scripting not available")
    t, w = cl.new(resp3=True), cl.new()
    cl.track(t)
    w.check("MSET", "k1", "1", "k2", "1")
    t.check("EVAL", "redis.call('set', 'k3', 'bar')", "2", "k1", "k2")  # no read: nothing
    w.check("MSET", "k2", "2", "k1", "2")
    t.nothing_pending()
    t.check("EVAL", "redis.call('get', 'k3')", "2", "k1", "k2")  # a read: the declared keys
    w.check("MSET", "k2", "3", "k1", "3")
    t.expect(2)
    t.check("EVAL_RO", "redis.call('ping')", "2", "k1", "k2")
    w.check("MSET", "k2", "4", "k1", "4")
    t.nothing_pending()
    t.check("EVAL_RO", "redis.call('get', 'k1')", "2", "k1", "k2")
    w.check("MSET", "k2", "5", "k1", "5")
    t.expect(2)
    # NOLOOP: what its own script writes is not announced to it.
    cl.track(t, "NOLOOP")
    t.check("GET", "k1")
    t.check("EVAL", "return redis.call('set', KEYS[1], '2')", "1", "k1")
    t.check("GET", "k1")
    t.nothing_pending()


def test_blocked_client_gets_invalidation_after_its_reply(cl):
    t, w = cl.new(resp3=True), cl.new()
    cl.track(t)
    w.check("RPUSH", "dst", "a")
    t.check("LRANGE", "dst", "0", "-1")
    t.send("BLMOVE", "src", "dst", "LEFT", "LEFT", "0")
    time.sleep(0.05)
    w.check("RPUSH", "src", "foo")
    t.expect(2)  # "foo", then the invalidation of dst


def test_reply_off_still_gets_invalidations(cl):
    t, w = cl.new(resp3=True), cl.new()
    cl.track(t)
    w.check("SET", "foo", "bar")
    t.check("GET", "foo")
    t.send("CLIENT", "REPLY", "OFF")
    w.check("SET", "foo", "bar2")
    t.expect(1)
    t.check("CLIENT", "REPLY", "ON")
    t.check("PING")


def test_reset_and_client_list(cl):
    t = cl.new()
    cl.track(t, "BCAST")
    for c in (t.kv, t.rd):
        assert b" flags=tB " in c.execute("CLIENT", "INFO")
    t.check("RESET")
    t.check("CLIENT", "TRACKINGINFO")
    for c in (t.kv, t.rd):
        assert b" flags=N " in c.execute("CLIENT", "INFO")
        assert b" redir=-1 " in c.execute("CLIENT", "INFO")


def _info(c: RawClient, field: str) -> int:
    text = c.execute("INFO").decode()
    return int(re.search(rf"^{field}:(\d+)", text, re.M).group(1))


def test_info_fields(cl):
    t, b, w = cl.new(), cl.new(resp3=True), cl.new()
    cl.track(t)
    t.check("GET", "key1")
    t.check("MGET", "key1", "key2")
    cl.track(b, "BCAST", "PREFIX", "p:", "PREFIX", "q:")
    w2 = cl.new()
    cl.track(w2, "BCAST", "PREFIX", "p:")
    for c in (t.kv, t.rd):
        assert [_info(c, f) for f in ("tracking_clients", "tracking_total_keys",
                                      "tracking_total_items", "tracking_total_prefixes")] \
            == [3, 2, 2, 2]
    w.check("DEL", "key1")
    w.check("FLUSHALL", "ASYNC")
    b.expect(1)
    for c in (t.kv, t.rd):
        assert _info(c, "tracking_total_keys") == 0
    t.check("CLIENT", "TRACKING", "OFF")
    w2.check("CLIENT", "TRACKING", "OFF")
    for c in (t.kv, t.rd):
        assert _info(c, "tracking_clients") == 1
        assert _info(c, "tracking_total_prefixes") == 2


def test_tracking_table_max_keys(cl):
    t, d = cl.new(), cl.new()
    d.check("SUBSCRIBE", "__redis__:invalidate")
    cl.track(t, redirect=d)
    t.check("MGET", *[f"k{i}" for i in range(30)])
    t.check("CONFIG", "SET", "tracking-table-max-keys", "10")
    # 20 keys leave the table, each with an invalidation (Redis picks them at
    # random: compare how many, and which remain, by count).
    got = [(d.kv.read_reply()[1], d.rd.read_reply()[1]) for _ in range(20)]
    assert all(a[2] and b[2] for a, b in got)
    d.nothing_pending()
    for c in (t.kv, t.rd):
        assert _info(c, "tracking_total_keys") == 10
    t.check("CONFIG", "SET", "tracking-table-max-keys", "0")


# -- random sequences --------------------------------------------------------------------------

_KEYS = ["a", "b", "p:a", "p:b"]
_STEP = st.one_of(
    st.tuples(st.just("t"), st.sampled_from(["GET", "STRLEN", "EXISTS", "SET", "DEL", "INCR",
                                              "CACHING"]), st.sampled_from(_KEYS)),
    st.tuples(st.just("w"), st.sampled_from(["SET", "DEL", "INCR", "APPEND", "MGET"]),
              st.sampled_from(_KEYS)),
    st.tuples(st.just("w"), st.sampled_from(["FLUSHDB"]), st.just("")),
)
_MODES = st.sampled_from([(), ("NOLOOP",), ("OPTIN",), ("OPTOUT",), ("BCAST",),
                          ("BCAST", "PREFIX", "p:"), ("BCAST", "NOLOOP", "PREFIX", "p:")])


def _sync(c: RawClient, stream: list) -> None:
    c.send_raw(encode_command(["PING", "sync-point"]))
    while True:
        raw, val = c.read_reply()
        if val == b"sync-point" or val == [b"pong", b"sync-point"]:
            return
        stream.append(raw)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mode=_MODES, steps=st.lists(_STEP, min_size=1, max_size=20))
def test_random_sequences_like_redis(server, real_redis, mode, steps):
    cl = Clients(server.port, real_redis)
    try:
        t, w = cl.new(resp3=True), cl.new()
        cl.track(t, *mode)
        streams = ([], [])  # what t receives, on each server
        for who, cmd, key in steps:
            if who == "t":
                if cmd == "CACHING":
                    if "OPTIN" in mode or "OPTOUT" in mode:
                        t.send("CLIENT", "CACHING", "YES" if "OPTIN" in mode else "NO")
                    else:
                        continue
                else:
                    t.send(cmd, key)
            else:
                w.check(*((cmd,) if cmd == "FLUSHDB" else
                          (cmd, key, "x") if cmd in ("SET", "APPEND") else (cmd, key)))
            # t's replies and pushes, up to now (BCAST sends at the end of an
            # event-loop pass: a PING after it comes later).
            _sync(t.kv, streams[0])
            _sync(t.rd, streams[1])
        assert streams[0] == streams[1], (mode, steps)
    finally:
        cl.close()


# -- redis-py's client-side cache ----------------------------------------------------------


def test_redis_py_refuses_csc_on_7_0_like_redis(server, real_redis):
    """redis-py 5.1+ turns client-side caching on only for Redis 7.4 or later:
    it refuses Redis 7.0.15 and kvserver (which says it is 7.0.15) alike."""
    from redis.cache import CacheConfig

    for port in (server.port, real_redis):
        r = redis.Redis(port=port, protocol=3, cache_config=CacheConfig())
        with pytest.raises(redis.ConnectionError, match="7.4 or later"):
            r.get("x")
        r.close()


@pytest.mark.parametrize("single", [False, True])
def test_redis_py_client_side_cache(server, monkeypatch, single):
    """With redis-py's version gate lowered, its cache works on kvserver's
    tracking: reads come from the cache until another client writes."""
    from redis.cache import CacheConfig
    from redis.connection import CacheProxyConnection

    monkeypatch.setattr(CacheProxyConnection, "MIN_ALLOWED_VERSION", "7.0.0")
    other = server.client()
    other.set("foo", "bar")
    r = redis.Redis(port=server.port, protocol=3, cache_config=CacheConfig(),
                    single_connection_client=single)
    cache = r.get_cache()
    assert r.get("foo") == b"bar"
    calls = _get_calls(other)
    for _ in range(5):
        assert r.get("foo") == b"bar"
    assert _get_calls(other) == calls  # served from the cache
    assert cache.size == 1
    other.set("foo", "baz")  # invalidates
    deadline = time.monotonic() + 5
    while r.get("foo") != b"baz":
        assert time.monotonic() < deadline
        time.sleep(0.01)
    assert _get_calls(other) > calls
    r.hset("h", "f", "1")
    assert r.hget("h", "f") == b"1"
    other.hset("h", "f", "2")
    deadline = time.monotonic() + 5
    while r.hget("h", "f") != b"2":
        assert time.monotonic() < deadline
        time.sleep(0.01)
    other.flushall()  # a null invalidation: the whole cache goes
    deadline = time.monotonic() + 5
    while r.get("foo") is not None:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    r.close()
    other.close()


def _get_calls(r: redis.Redis) -> int:
    stats = r.info("commandstats")
    return stats.get("cmdstat_get", {}).get("calls", 0)
