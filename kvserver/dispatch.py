"""dispatch: the one way a command runs.

From a socket, from MULTI/EXEC, from a script, from AOF or replication replay:
every command goes through `dispatch` (the checks Redis's processCommand makes)
and then `call` (what Redis's call() does after: statistics, slowlog, MONITOR,
propagation). Handlers stay free of these concerns; features added later hook in
here, in the order Redis applies them.
"""

from __future__ import annotations

from time import perf_counter_ns
from typing import TYPE_CHECKING

from kvserver import errors
from kvserver.errors import CommandError
from kvserver.resp import QUEUED
from kvserver.table import TABLE, CommandSpec

if TYPE_CHECKING:
    from kvserver.connection import Client

# Commands that run at once inside MULTI instead of being queued.
_MULTI_IMMEDIATE = frozenset((b"exec", b"discard", b"multi", b"watch", b"quit", b"reset"))
# Commands a RESP2 client may send while subscribed.
_SUBSCRIBED_ALLOWED = frozenset((b"subscribe", b"ssubscribe", b"unsubscribe", b"sunsubscribe",
                                 b"psubscribe", b"punsubscribe", b"ping", b"quit", b"reset"))


# Command names as clients spell them ("GET", "get", "Get") -> spec, so the
# hot path makes one dict look-up and no lower(). Bounded: a client sending
# names in random case cannot grow it without limit.
_BY_SPELLING: dict[bytes, CommandSpec] = {}
_BY_SPELLING_MAX = 4096
# The same, for the commands the connection's hot path runs (CommandSpec.simple).
_BY_SPELLING_SIMPLE: dict[bytes, CommandSpec] = {}


def lookup_command(argv: list[bytes]) -> CommandSpec | CommandError:
    """The spec for argv (resolving subcommands, checking arity), or the error Redis gives."""
    cmd = resolve_command(argv)
    if cmd.__class__ is not CommandSpec:
        return cmd
    return arity_error(cmd, argv) or cmd


def arity_error(cmd: CommandSpec, argv: list[bytes]) -> CommandError | None:
    n = len(argv)
    if (cmd.arity > 0 and n != cmd.arity) or n < -cmd.arity:
        return errors.wrong_arity(cmd.fullname)
    return None


def resolve_command(argv: list[bytes]) -> CommandSpec | CommandError:
    """The spec argv names (subcommands resolved), or the unknown-command error."""
    name = argv[0]
    cmd = _BY_SPELLING.get(name)
    if cmd is None:
        cmd = TABLE.get(name.lower())
        if cmd is None:
            return errors.unknown_command(argv)
        if len(_BY_SPELLING) < _BY_SPELLING_MAX:
            _BY_SPELLING[name] = cmd
            if cmd.simple:
                _BY_SPELLING_SIMPLE[name] = cmd
    if cmd.subcommands and len(argv) > 1:
        # A container alone (CONFIG) fails its arity check below, as in Redis;
        # COMMAND alone runs its own handler.
        sub = cmd.subcommands.get(argv[1].lower())
        if sub is None:
            return errors.unknown_subcommand(argv[1], cmd.name)
        cmd = sub
    return cmd


def dispatch(c: Client, argv: list[bytes]) -> object:
    """Check and run one command for client c; returns its reply value."""
    cmd = _BY_SPELLING.get(argv[0])
    if cmd is None or cmd.subcommands or (cmd.arity != len(argv) and (
            cmd.arity > 0 or len(argv) < -cmd.arity)):
        # Not the common case of a known command with a valid arity: full checks.
        cmd = resolve_command(argv)
        if cmd.__class__ is not CommandSpec:
            return reject(c, cmd, argv)
        err = arity_error(cmd, argv)
        if err is not None:
            return reject(c, err, argv, cmd)

    # Authentication (ACL users and permissions hook in here too).
    if not c.authenticated and not cmd.is_noauth:
        return reject(c, CommandError(errors.NOAUTH), argv, cmd)

    # Protected commands (DEBUG) refuse before they can even be queued.
    if cmd.precheck is not None:
        err = cmd.precheck(c)
        if err is not None:
            return reject(c, err, argv, cmd)

    # MULTI: queue everything but the transaction commands themselves.
    if c.mstate is not None and cmd.top_name not in _MULTI_IMMEDIATE:
        if cmd.is_no_multi:
            c.multi_error = True
            return reject(c, CommandError("ERR Command not allowed inside a transaction"),
                          argv, cmd)
        c.mstate.append((cmd, argv))
        return QUEUED

    # RESP2 subscribed mode allows only the (un)subscribe family and PING.
    if c.subscriptions and not c.resp3 and cmd.top_name not in _SUBSCRIBED_ALLOWED:
        name = cmd.fullname
        return reject(c, CommandError(
            f"ERR Can't execute '{name}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / "
            "PING / QUIT / RESET are allowed in this context"), argv, cmd)

    # Out of memory: maxmemory and eviction (kvserver.evict) hook in here,
    # refusing `denyoom` commands when eviction cannot free enough.
    # Read-only replicas refuse `write` commands here.

    return call(c, cmd, argv)


def reject(c: Client, err: CommandError, argv: list[bytes],
           cmd: CommandSpec | None = None) -> CommandError:
    """A command refused before it ran: counted as rejected, like Redis does."""
    if cmd is not None:
        cmd.rejected_calls += 1
    c.server.count_error(err)
    if c.mstate is not None:
        c.multi_error = True
    return err


def call(c: Client, cmd: CommandSpec, argv: list[bytes]) -> object:
    """Run the handler; then statistics, slowlog, MONITOR and propagation.

    kvserver.connection runs simple commands of plain clients through an
    inlined copy of the first half of this function (its hot path); the
    second half, after_call(), is shared.
    """
    srv = c.server
    dirty = srv.dirty
    c.propagate_as = None
    c.cmd = cmd
    tracking = c.tracking
    if tracking is not None:  # client-side caching (kvserver.tracking)
        prev_tracking = srv.tracking.begin_call(c, cmd)
    t0 = perf_counter_ns()
    if c.no_touch:
        r = _call_no_touch(c, cmd, argv)
    else:
        try:
            r = cmd.handler(c, argv)
        except CommandError as e:
            r = e
    dt = perf_counter_ns() - t0
    if r.__class__ is CommandError:
        cmd.failed_calls += 1
        srv.count_error(r)
    cmd.calls += 1  # total_commands_processed is the sum of these (see info.py)
    cmd.usec += dt
    if (dt >= srv.slowlog_threshold_ns or srv.monitors
            or (srv.dirty != dirty and srv.propagation_consumers)):
        after_call(c, cmd, argv, dt, dirty)
    if tracking is not None:
        srv.tracking.end_call(c, cmd, argv, prev_tracking)
    return r


def _call_no_touch(c: Client, cmd: CommandSpec, argv: list[bytes]) -> object:
    """CLIENT NO-TOUCH (Redis 7.2): the command's look-ups leave the keys'
    access times and LFU counters alone; TOUCH itself still touches, also
    inside EXEC (a script's redis.call runs under its EVAL's state)."""
    srv = c.server
    prev = srv.suspend_touch(cmd.name != "touch")
    try:
        return cmd.handler(c, argv)
    except CommandError as e:
        return e
    finally:
        srv.suspend_touch(prev)


def after_call(c: Client, cmd: CommandSpec, argv: list[bytes], dt: int, dirty: int) -> None:
    """Slowlog, MONITOR and propagation: what a command may need after it ran."""
    srv = c.server
    if dt >= srv.slowlog_threshold_ns and not cmd.skip_slowlog:
        srv.slowlog.add(c, argv, dt // 1000)
    # MONITOR sees a command after it ran (EXEC after its commands, SELECT with
    # the new db), never admin commands, as in Redis's call().
    if srv.monitors and not (cmd.skip_monitor or cmd.is_admin) and not c.is_internal:
        srv.feed_monitors(c, argv)
    # Any command that changed data is propagated (PFCOUNT rewrites its cached
    # cardinality), as Redis's call() does; expiries do not count (keyspace).
    if srv.dirty != dirty:
        pa = c.propagate_as
        if pa is None:
            srv.propagate(c.db.id, argv)
        elif not pa:
            pass  # EXEC, scripts: their commands were propagated one by one
        elif len(pa) == 1:
            srv.propagate(c.db.id, pa[0])
        else:
            # Several effects of one command (SPOP with a count) stay atomic.
            srv.begin_propagation_block()
            for a in pa:
                srv.propagate(c.db.id, a)
            srv.end_propagation_block()
