"""Transactions: MULTI/EXEC/DISCARD/WATCH against redis-server and through redis-py."""

import pytest
import redis

from tests.conftest import propagation


def test_exec_replies_and_runtime_errors(diff):
    diff.check("MULTI")
    diff.check("SET", "a", "1")
    diff.check("INCR", "a")
    diff.check("LPUSH", "a", "x")  # runtime WRONGTYPE: the rest still runs
    diff.check("GET", "a")
    diff.check("EXEC")


def test_execabort_after_queueing_error(diff):
    diff.check("MULTI")
    diff.check("SET", "a", "1")
    diff.check("NOSUCHCOMMAND")
    diff.check("GET")
    diff.check("EXEC")
    diff.check("GET", "a")


def test_multi_errors(diff):
    diff.check_error("EXEC")
    diff.check_error("DISCARD")
    diff.check("MULTI")
    diff.check_error("MULTI")
    diff.check_error("WATCH", "x")
    diff.check("DISCARD")
    diff.check("MULTI")
    diff.check("DISCARD")


def test_watch_broken_by_write(diff):
    diff.check("SET", "k", "1")
    diff.check("WATCH", "k")
    diff.other.check("SET", "k", "2")
    diff.check("MULTI")
    diff.check("GET", "k")
    diff.check("EXEC")


def test_watch_of_missing_key_broken_by_creation(diff):
    diff.check("WATCH", "k")
    diff.other.check("SET", "k", "2")
    diff.check("MULTI")
    diff.check("GET", "k")
    diff.check("EXEC")


def test_watch_broken_by_expiry(server, r):
    r.set("k", "1", px=100)
    c = server.client()
    p = c.pipeline()
    p.watch("k")
    server.advance_time(1)
    p.multi()
    p.set("k", "2")
    try:
        p.execute()
        raised = False
    except redis.WatchError:
        raised = True
    assert raised


def test_watch_broken_by_flush(server, r):
    r.set("k", "1")
    p = r.pipeline()
    p.watch("k")
    server.client().flushall()
    p.multi()
    p.set("k", "2")
    with pytest.raises(redis.WatchError):
        p.execute()


def test_watch_not_broken_by_other_key(r):
    r.set("k", "1")
    p = r.pipeline()
    p.watch("k")
    r.set("other", "2")
    p.multi()
    p.set("k", "2")
    assert p.execute() == [True]


def test_unwatch(r):
    r.set("k", "1")
    p = r.pipeline()
    p.watch("k")
    r.set("k", "x")
    p.unwatch()
    p.multi()
    p.get("k")
    assert p.execute() == [b"x"]


def test_redis_py_pipeline_is_a_transaction(r):
    p = r.pipeline()
    p.set("a", "1").incr("a").get("a")
    assert p.execute() == [True, 2, b"2"]


def test_propagation_wraps_exec_in_multi(server, r):
    """Effects of EXEC reach propagation consumers as one MULTI ... EXEC block."""
    with propagation(server) as seen:
        p = r.pipeline()
        p.set("a", "1").set("b", "2").get("a")
        p.execute()
    assert seen[0] == [b"MULTI"] and seen[-1] == [b"EXEC"]
    assert [b"SET", b"a", b"1"] in seen and [b"SET", b"b", b"2"] in seen


def test_several_effects_of_one_command_propagate_atomically(server, r):
    """SPOP with a count propagates one SREM per member: wrapped in MULTI/EXEC."""
    r.sadd("s", "a", "b", "c", "d")
    with propagation(server) as seen:
        popped = r.spop("s", 2)
    assert len(popped) == 2
    assert seen[0] == [b"MULTI"] and seen[-1] == [b"EXEC"]
    assert sorted(a[2] for a in seen[1:-1]) == sorted(popped)


def test_subcommands_named_like_transaction_commands_are_queued(diff):
    """SLOWLOG RESET / CONFIG RESETSTAT inside MULTI are queued, not run: only
    the top-level MULTI/EXEC/DISCARD/WATCH/QUIT/RESET run at once."""
    diff.check("MULTI")
    diff.check("SLOWLOG", "RESET")
    diff.check("CONFIG", "RESETSTAT")
    diff.check("EXEC")
