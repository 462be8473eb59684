"""Blocking list commands: several clients parked on keys, woken in order,
timeouts, disconnects, MULTI/EXEC, keys of another type, CLIENT UNBLOCK.

Most scenarios run against kvserver and redis-server alike (`scenario`) and
compare every raw reply, including those of the parked clients."""

from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.rawclient import RawClient, ReplyError, encode_command


def blocked_clients(c: RawClient) -> int:
    info = c.execute("INFO", "clients")
    for line in info.decode().splitlines():
        if line.startswith("blocked_clients:"):
            return int(line.split(":")[1])
    raise AssertionError("INFO has no blocked_clients")


def wait_blocked(c: RawClient, n: int) -> None:
    deadline = time.monotonic() + 10
    while blocked_clients(c) != n:
        assert time.monotonic() < deadline, f"never reached {n} blocked clients"
        time.sleep(0.002)


class Scenario:
    """One server, a main client and parked clients; records raw replies."""

    def __init__(self, port: int, nclients: int, resp3: bool = False) -> None:
        self.main = RawClient(port=port)
        self.main.call("FLUSHALL")
        self.base = blocked_clients(self.main)
        self.clients = [RawClient(port=port) for _ in range(nclients)]
        if resp3:
            for c in self.clients:
                c.call("HELLO", "3")
        self.log: list[tuple[str, bytes]] = []

    def block(self, i: int, *args) -> None:
        """Client i sends a command that blocks; wait until it is parked."""
        target = self.base + self.nblocked() + 1
        self.clients[i].send_raw(encode_command(args))
        wait_blocked(self.main, target)

    def send(self, i: int, *args) -> None:
        self.clients[i].send_raw(encode_command(args))

    def nblocked(self) -> int:
        return blocked_clients(self.main) - self.base

    def call(self, *args, label: str | None = None) -> None:
        self.log.append((label or " ".join(map(str, args)), self.main.call(*args)[0]))

    def read(self, i: int) -> None:
        self.log.append((f"client {i}", self.clients[i].read_reply()[0]))

    def close(self) -> None:
        for c in self.clients:
            c.close()
        self.main.close()


def run_both(server, real_redis, steps, nclients: int, resp3: bool = False):
    """Run steps(scenario) on kvserver and on redis-server; assert equal logs."""
    logs = []
    for port in (server.port, real_redis):
        s = Scenario(port, nclients, resp3)
        try:
            steps(s)
            logs.append(s.log)
        finally:
            s.close()
    assert logs[0] == logs[1]
    return logs[0]


@pytest.fixture
def both(server, real_redis):
    return lambda steps, n, resp3=False: run_both(server, real_redis, steps, n, resp3)


# -- served in order ---------------------------------------------------------------------


def test_fifo_order_single_push(both):
    def steps(s):
        s.block(0, "BLPOP", "k", "0")
        s.block(1, "BRPOP", "k", "0")
        s.block(2, "BLPOP", "other", "k", "0")
        s.call("RPUSH", "k", "a", "b", "c", "d")
        for i in range(3):
            s.read(i)
        s.call("LRANGE", "k", "0", "-1")
        s.call("INFO", "nosuchsection")
    log = both(steps, 3)
    assert log[1][1] == b"*2\r\n$1\r\nk\r\n$1\r\na\r\n"
    assert log[2][1] == b"*2\r\n$1\r\nk\r\n$1\r\nd\r\n"


def test_order_across_pushes_and_keys(both):
    def steps(s):
        s.block(0, "BLPOP", "a", "b", "0")
        s.block(1, "BLPOP", "b", "a", "0")
        s.block(2, "BLPOP", "b", "0")
        s.call("RPUSH", "b", "1")
        s.call("RPUSH", "a", "2")
        s.call("RPUSH", "b", "3")
        for i in range(3):
            s.read(i)
        s.call("EXISTS", "a", "b")
    both(steps, 3)


def test_variadic_push_and_same_key_twice(both):
    def steps(s):
        s.block(0, "BLPOP", "k", "k", "x", "k", "0")
        s.call("LPUSH", "k", "foo", "bar")
        s.read(0)
        s.call("LRANGE", "k", "0", "-1")
    both(steps, 1)


def test_blmpop_several_clients(both):
    # Redis's "BLMPOP with multiple blocked clients".
    def steps(s):
        s.block(0, "BLMPOP", "0", "2", "l1", "l2", "LEFT", "COUNT", "1")
        s.block(1, "BLMPOP", "0", "2", "l1", "l2", "RIGHT", "COUNT", "10")
        s.block(2, "BLMPOP", "0", "2", "l1", "l2", "LEFT", "COUNT", "10")
        s.block(3, "BLMPOP", "0", "2", "l1", "l2", "RIGHT", "COUNT", "1")
        s.call("MULTI")
        s.call("LPUSH", "l1", "a", "b", "c", "d", "e")
        s.call("LPUSH", "l2", "1", "2", "3", "4", "5")
        s.call("EXEC")
        for i in range(3):
            s.read(i)
        s.call("LPUSH", "l2", "1", "2", "3")
        s.read(3)
        s.call("LRANGE", "l2", "0", "-1")
    both(steps, 4)


# -- MULTI/EXEC, other types, deletions -------------------------------------------------


def test_multi_exec_serves_after_exec(both):
    def steps(s):
        s.block(0, "BLPOP", "k", "0")
        s.call("MULTI")
        s.call("LPUSH", "k", "a")
        s.call("LPUSH", "k", "b")
        s.call("LPUSH", "k", "c")
        s.call("EXEC")
        s.read(0)
        s.call("LRANGE", "k", "0", "-1")
    both(steps, 1)


def test_push_then_del_in_multi_does_not_wake(both):
    def steps(s):
        s.block(0, "BLPOP", "k", "0")
        s.call("MULTI")
        s.call("LPUSH", "k", "a")
        s.call("DEL", "k")
        s.call("SET", "k", "foo")
        s.call("EXEC")
        s.call("PING")
        assert s.nblocked() == 1
        s.call("DEL", "k")
        s.call("LPUSH", "k", "b")
        s.read(0)
    both(steps, 1)


def test_key_of_another_type_keeps_client_blocked(both):
    def steps(s):
        s.block(0, "BRPOP", "k", "0")
        s.block(1, "BLMOVE", "k", "d", "LEFT", "RIGHT", "0")
        s.call("SET", "k", "x")
        s.call("HSET", "k2", "f", "v")
        s.call("RENAME", "k2", "k")
        s.call("SADD", "s", "m")
        assert s.nblocked() == 2
        s.call("DEL", "k")
        s.call("RPUSH", "k", "1", "2")
        s.read(0)
        s.read(1)
        s.call("LRANGE", "d", "0", "-1")
    both(steps, 2)


def test_key_renamed_into_place(both):
    def steps(s):
        s.block(0, "BLPOP", "k", "0")
        s.call("LPUSH", "src", "abc", "def", "hij")
        s.call("RENAME", "src", "k")
        s.read(0)
        s.call("LRANGE", "k", "0", "-1")
    both(steps, 1)


def test_key_moved_or_copied_into_place(both):
    def steps(s):
        s.block(0, "BLPOP", "k", "0")
        s.block(1, "BRPOP", "k", "0")
        s.call("RPUSH", "src", "1", "2")
        s.call("COPY", "src", "k")
        s.read(0)
        s.read(1)
        s.call("EXISTS", "k")
    both(steps, 2)


def test_key_created_by_sort_store_move_or_swapdb(both):
    def steps(s):
        s.block(0, "BLPOP", "k", "0")
        s.call("LPUSH", "src", "hello", "hola", "aguacate", "konichiwa", "zanzibar")
        s.call("SORT", "src", "ALPHA", "STORE", "k")
        s.read(0)
        s.call("DEL", "k")
        s.block(0, "BRPOP", "k", "0")
        s.call("SELECT", "1")
        s.call("RPUSH", "k", "from-db1")
        s.call("MOVE", "k", "0")
        s.read(0)
        s.call("RPUSH", "k", "swapped")
        s.call("SELECT", "0")
        s.block(0, "BLPOP", "k", "0")
        s.call("SWAPDB", "0", "1")
        s.read(0)
        s.call("FLUSHALL")
    both(steps, 1)


def test_wrong_destination_type_fails_client(both):
    def steps(s):
        s.call("SET", "t1", "nolist")
        s.block(0, "BRPOPLPUSH", "src", "t1", "0")
        s.block(1, "BRPOPLPUSH", "src", "t2", "0")
        s.call("RPUSH", "src", "a", "b", "c")
        s.read(0)
        s.read(1)
        s.call("LRANGE", "src", "0", "-1")
        s.call("LRANGE", "t2", "0", "-1")
    both(steps, 2)


# -- BLMOVE chains --------------------------------------------------------------------------


def test_linked_circular_and_self_moves(both):
    def steps(s):
        s.block(0, "BLMOVE", "l1", "l2", "RIGHT", "LEFT", "0")
        s.block(1, "BLMOVE", "l2", "l3", "LEFT", "RIGHT", "0")
        s.call("RPUSH", "l1", "foo")
        s.read(0)
        s.read(1)
        s.call("LRANGE", "l3", "0", "-1")
        s.block(0, "BRPOPLPUSH", "c1", "c2", "0")
        s.block(1, "BRPOPLPUSH", "c2", "c1", "0")
        s.call("RPUSH", "c1", "bar")
        s.read(0)
        s.read(1)
        s.call("LRANGE", "c1", "0", "-1")
        s.call("EXISTS", "c2")
        s.block(0, "BRPOPLPUSH", "me", "me", "0")
        s.call("RPUSH", "me", "x")
        s.read(0)
        s.call("LRANGE", "me", "0", "-1")
    both(steps, 2)


def test_blmove_feeds_blpop(both):
    def steps(s):
        s.block(1, "BLPOP", "target", "0")
        s.block(0, "BLMOVE", "src", "target", "LEFT", "RIGHT", "0")
        s.call("RPUSH", "src", "foo")
        s.read(0)
        s.read(1)
        s.call("EXISTS", "target", "src")
    both(steps, 2)


# -- timeouts, queued commands, disconnects ----------------------------------------------


def test_timeouts_reply_null(both):
    def steps(s):
        s.send(0, "BLPOP", "k", "0.05")
        s.read(0)
        s.send(0, "BLMOVE", "k", "d", "LEFT", "LEFT", "0.01")
        s.read(0)
        s.send(0, "BRPOPLPUSH", "k", "d", "0.001")
        s.read(0)
        s.send(0, "BLMPOP", "0.02", "1", "k", "LEFT")
        s.read(0)
        s.call("PING")
    both(steps, 1)
    both(steps, 1, resp3=True)


def test_commands_sent_while_blocked_run_after(both):
    def steps(s):
        s.block(0, "BLPOP", "k", "0")
        # Sent while parked: queued, answered in order once it is served.
        s.send(0, "RPUSH", "mine", "1")
        s.send(0, "PING")
        s.send(0, "BLPOP", "k2", "0")
        s.send(0, "GET", "x")
        s.call("RPUSH", "k", "v")
        s.read(0)
        s.read(0)
        s.read(0)
        wait_blocked(s.main, s.base + 1)  # parked again, on k2
        s.call("RPUSH", "k2", "w")
        s.read(0)
        s.read(0)
    both(steps, 1)


def test_disconnect_while_blocked(both):
    def steps(s):
        s.block(0, "BLPOP", "k", "0")
        s.block(1, "BLPOP", "k", "0")
        s.clients[0].close()
        wait_blocked(s.main, s.base + 1)
        s.call("RPUSH", "k", "a", "b")
        s.read(1)
        s.call("LRANGE", "k", "0", "-1")
        assert s.nblocked() == 0
    both(steps, 2)


def test_blocked_clients_count(server, r):
    a, b = RawClient(port=server.port), RawClient(port=server.port)
    main = RawClient(port=server.port)
    try:
        assert r.info("clients")["blocked_clients"] == 0
        a.send_raw(encode_command(["BLPOP", "k", "0"]))
        b.send_raw(encode_command(["BLPOP", "k", "100"]))
        wait_blocked(main, 2)
        assert r.info("clients")["clients_in_timeout_table"] == 1
        r.rpush("k", "x")
        assert a.read_reply()[1] == [b"k", b"x"]
        assert r.info("clients")["blocked_clients"] == 1
        r.rpush("k", "y")
        assert b.read_reply()[1] == [b"k", b"y"]
        info = r.info("clients")
        assert info["blocked_clients"] == 0 and info["clients_in_timeout_table"] == 0
        assert server.server.blocking.timeout_count == 0
    finally:
        a.close()
        b.close()
        main.close()


def test_watch_sees_push_from_served_brpoplpush(both):
    def steps(s):
        s.block(0, "BRPOPLPUSH", "src", "dst", "0")
        s.send(1, "WATCH", "dst")
        s.read(1)
        s.send(1, "MULTI")
        s.read(1)
        s.send(1, "PING")
        s.read(1)
        s.call("LPUSH", "src", "e")
        s.read(0)
        s.send(1, "EXEC")
        s.read(1)
    both(steps, 2)


# -- propagation -------------------------------------------------------------------------------


def test_served_pops_propagate_as_non_blocking(server):
    seen = []
    srv = server.server
    consumer = lambda dbid, argv: seen.append(argv)  # noqa: E731
    main = RawClient(port=server.port)
    clients = [RawClient(port=server.port) for _ in range(4)]
    try:
        main.call("FLUSHALL")
        srv.propagation_consumers.append(consumer)
        clients[0].send_raw(encode_command(["BLPOP", "a", "0"]))
        clients[1].send_raw(encode_command(["BLMOVE", "b", "c", "RIGHT", "LEFT", "0"]))
        clients[2].send_raw(encode_command(["BRPOPLPUSH", "b2", "c", "0"]))
        clients[3].send_raw(encode_command(["BLMPOP", "0", "1", "d", "RIGHT", "COUNT", "5"]))
        wait_blocked(main, 4)
        main.call("MULTI")
        main.call("RPUSH", "a", "1")
        main.call("RPUSH", "b", "2")
        main.call("RPUSH", "b2", "3")
        main.call("RPUSH", "d", "4", "5")
        main.call("EXEC")
        for c in clients:
            c.read_reply()
    finally:
        srv.propagation_consumers.remove(consumer)
        for c in clients:
            c.close()
        main.close()
    assert seen == [[b"MULTI"], [b"RPUSH", b"a", b"1"], [b"RPUSH", b"b", b"2"],
                    [b"RPUSH", b"b2", b"3"], [b"RPUSH", b"d", b"4", b"5"], [b"EXEC"],
                    [b"LPOP", b"a"], [b"LMOVE", b"b", b"c", b"RIGHT", b"LEFT"],
                    [b"RPOPLPUSH", b"b2", b"c"], [b"RPOP", b"d", b"2"]]


# -- CLIENT UNBLOCK -----------------------------------------------------------------------------


def test_unblock_api(server):
    main = RawClient(port=server.port)
    c = RawClient(port=server.port)
    c3 = RawClient(port=server.port)
    try:
        c3.call("HELLO", "3")
        srv = server.server
        for client, error, expect in ((c, False, b"*-1\r\n"), (c3, False, b"_\r\n"),
                                      (c, True, b"-UNBLOCKED client unblocked via CLIENT "
                                                b"UNBLOCK\r\n")):
            base = blocked_clients(main)
            client.send_raw(encode_command(["BLMPOP", "0", "1", "l", "RIGHT"]))
            wait_blocked(main, base + 1)
            target = next(x for x in srv.clients.values() if x.blocked is not None)
            assert server.call_in_loop(srv.blocking.unblock, target, error) is True
            assert client.read_reply()[0] == expect
        target = next(iter(srv.clients.values()))
        assert server.call_in_loop(srv.blocking.unblock, target, False) is False
        # Still usable afterwards.
        c.send_raw(encode_command(["BLPOP", "l", "0"]))
        wait_blocked(main, 1)
        main.call("LPUSH", "l", "foo")
        assert c.read_reply()[1] == [b"l", b"foo"]
    finally:
        c.close()
        c3.close()
        main.close()


def _has_client(c: RawClient) -> bool:
    return not isinstance(c.execute("CLIENT", "ID"), ReplyError)


def test_client_unblock_command(both, server):
    if not _has_client(RawClient(port=server.port)):
        pytest.skip("CLIENT is not available yet")

    def steps(s):
        cid = s.clients[0].execute("CLIENT", "ID")
        for how in ((), ("TIMEOUT",), ("ERROR",)):
            s.block(0, "BLPOP", "l", "0")
            s.call("CLIENT", "UNBLOCK", str(cid), *how, label=f"unblock {how}")
            s.read(0)
        s.call("CLIENT", "UNBLOCK", str(cid), label="not blocked")
        s.block(0, "BLMOVE", "l", "m", "LEFT", "LEFT", "0")
        s.send(0, "PING")
        s.call("CLIENT", "UNBLOCK", str(cid), "ERROR", label="unblock error")
        s.read(0)
        s.read(0)
    both(steps, 1)


# -- random scenarios -------------------------------------------------------------------------

KEYS = st.sampled_from(["a", "b", "c"])
SIDE = st.sampled_from(["LEFT", "RIGHT"])
BLOCKERS = st.one_of(
    st.tuples(st.sampled_from(["BLPOP", "BRPOP"]), KEYS, KEYS),
    st.tuples(st.just("BLMOVE"), KEYS, KEYS, SIDE, SIDE),
    st.tuples(st.just("BRPOPLPUSH"), KEYS, KEYS),
    st.tuples(st.just("BLMPOP"), st.just("TIMEOUT"), st.just("2"), KEYS, KEYS, SIDE,
              st.just("COUNT"), st.integers(1, 3).map(str)),
)
WRITES = st.one_of(
    st.tuples(st.sampled_from(["LPUSH", "RPUSH"]), KEYS, st.sampled_from(["x", "y"]),
              st.sampled_from(["1", "2"])),
    st.tuples(st.just("RPUSH"), KEYS, st.just("z")),
    st.tuples(st.just("SET"), KEYS, st.just("s")),
    st.tuples(st.just("DEL"), KEYS),
    st.tuples(st.just("LMOVE"), KEYS, KEYS, SIDE, SIDE),
)


@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(BLOCKERS, min_size=1, max_size=3),
       st.lists(st.one_of(WRITES, st.lists(WRITES, min_size=1, max_size=3)), max_size=6))
def test_random_blocking_scenarios(both, blockers, writes):
    timeout = "0.4"

    def steps(s):
        for i, cmd in enumerate(blockers):
            cmd = [timeout if a == "TIMEOUT" else a for a in cmd]
            if cmd[0] != "BLMPOP":
                cmd.append(timeout)
            s.block(i, *cmd)
        for w in writes:
            if isinstance(w, list):  # a transaction
                s.call("MULTI")
                for x in w:
                    s.call(*x)
                s.call("EXEC")
            else:
                s.call(*w)
        for i in range(len(blockers)):
            s.read(i)
        for k in ("a", "b", "c"):
            s.call("TYPE", k)
            s.call("LRANGE", k, "0", "-1") if s.log[-1][1] == b"+list\r\n" else None
    both(steps, len(blockers))


def test_served_blocked_command_is_slowlogged_as_sent(diff):
    """Redis logs a served BLPOP in the slow log as the client sent it."""
    for d in (diff, diff.other):
        d.check("CONFIG", "SET", "slowlog-log-slower-than", "0")
    try:
        for c in (diff.other.kv, diff.other.redis):
            c.send_raw(b"*3\r\n$5\r\nBLPOP\r\n$1\r\nl\r\n$1\r\n0\r\n")
        wait_blocked(diff.kv, 1)
        wait_blocked(diff.redis, 1)
        diff.check("MULTI")
        diff.check("LPUSH", "l", "foo")
        diff.check("SLOWLOG", "RESET")
        diff.check("EXEC")
        assert diff.other.kv.read_reply()[0] == diff.other.redis.read_reply()[0]
        (_, kv), (_, rd) = diff.both("SLOWLOG", "GET")
        assert kv[0][3] == rd[0][3] == [b"BLPOP", b"l", b"0"]  # as the client sent it
    finally:
        diff.check("CONFIG", "SET", "slowlog-log-slower-than", "10000")
