"""Scripts that run longer than busy-reply-threshold: BUSY, SCRIPT KILL.

Design. A script runs to completion before any other client's command, on
the event loop's thread, inside the handler of the command that started it
(as in Redis: the data is only ever touched by that one thread). A script
that runs long would then stall every client, so, like Redis, the engine
installs a Lua count hook that calls `Scripting.interrupt` every 100000 Lua
instructions (a millisecond or so). Once the script has run for
busy-reply-threshold ms it is "timed out", and from then on each hook call
polls the other clients' sockets (a non-blocking poll(); the asyncio loop
itself cannot be re-entered from inside one of its callbacks) and feeds what
arrived to their normal parsers. While a script is timed out, dispatch is
replaced (`kvserver.connection.dispatch`, which every client's input goes
through) by `busy_dispatch`: commands flagged allow_busy run (SCRIPT KILL,
FUNCTION KILL/STATS, SHUTDOWN NOSAVE, MULTI, DISCARD, WATCH, ...), every
other gets Redis's BUSY error. The client that started the script is not
read (Redis "protects" it) and new connections wait in the listen backlog
until the script ends. SCRIPT KILL sets a flag; the next hook call raises
the kill error in Lua, and then raises it again on every line so that a
script's pcall cannot swallow it. A shutdown (SHUTDOWN NOSAVE) aborts the
script the same way so the loop can go on to close the server.

Blocked clients are not served during the script, even when its own writes
made their keys ready: the ready keys are set aside while other clients'
commands run and restored after.
"""

from __future__ import annotations

import os
import select
import time
from typing import TYPE_CHECKING

import kvserver.connection as connection
from kvserver import dispatch as dispatch_mod
from kvserver.errors import CommandError
from kvserver.table import CommandSpec

if TYPE_CHECKING:
    from kvserver.connection import Client
    from kvserver.scripting.state import Scripting, ScriptRun

BUSY_EVAL = "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE."
BUSY_FUNCTION = ("BUSY Redis is busy running a script. You can only call FUNCTION KILL or "
                 "SHUTDOWN NOSAVE.")

_real_dispatch = dispatch_mod.dispatch


def busy_error(run: ScriptRun) -> CommandError:
    return CommandError(BUSY_EVAL if run.is_eval else BUSY_FUNCTION)


def enter(st: Scripting, run: ScriptRun) -> None:
    """The script passed busy-reply-threshold: start answering BUSY."""
    run.timed_out = True
    elapsed = int((time.monotonic() - run.start) * 1000)
    st.server.log_warning(
        f"Slow script detected: still in execution after {elapsed} milliseconds. You can try "
        f"killing the script using the {'SCRIPT KILL' if run.is_eval else 'FUNCTION KILL'} "
        f"command. Script name is: {run.name.decode('utf-8', 'replace')}.")
    connection.dispatch = busy_dispatch


def leave(st: Scripting, run: ScriptRun) -> None:
    connection.dispatch = _real_dispatch


def busy_dispatch(c: Client, argv: list[bytes]) -> object:
    """dispatch while a script is timed out: allow_busy commands only."""
    st = getattr(c.server, "scripting", None)
    run = st.current if st is not None else None
    if run is None or not run.timed_out:
        return _real_dispatch(c, argv)
    cmd = dispatch_mod.resolve_command(argv)
    if (cmd.__class__ is not CommandSpec or dispatch_mod.arity_error(cmd, argv) is not None
            or (not c.authenticated and not cmd.is_noauth)):
        return _real_dispatch(c, argv)  # the usual error comes first
    if cmd.allow_busy:
        if cmd.name == "shutdown" and c.mstate is None:
            if b"nosave" not in (a.lower() for a in argv[1:]):
                return dispatch_mod.reject(c, busy_error(run), argv, cmd)
            run.killed = True  # the loop must get back control to shut down
        return _real_dispatch(c, argv)
    err = busy_error(run)
    if cmd.name == "exec" and c.mstate is not None:
        from kvserver.commands.multi import discard_transaction

        discard_transaction(c)
        err = CommandError("EXECABORT Transaction discarded because of: " + err.msg)
    return dispatch_mod.reject(c, err, argv, cmd)


def process_events(st: Scripting, run: ScriptRun) -> None:
    """Read what the other clients sent and run it (through busy_dispatch)."""
    srv = st.server
    by_fd: dict[int, Client] = {}
    for c in list(srv.clients.values()):
        if c is run.caller or c.closed or c.transport is None:
            continue
        sock = c.transport.get_extra_info("socket")
        if sock is None:
            continue
        try:
            by_fd[sock.fileno()] = c
        except (OSError, ValueError):
            continue
    if not by_fd:
        return
    poller = select.poll()
    for fd in by_fd:
        poller.register(fd, select.POLLIN)
    try:
        events = poller.poll(0)
    except OSError:
        return
    blk = srv.blocking
    ready, blk.ready = blk.ready, {}
    try:
        for fd, ev in events:
            c = by_fd[fd]
            if not ev & select.POLLIN or c.closed:
                continue
            try:
                data = os.read(fd, 65536)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                continue
            if not data:
                continue  # EOF: the loop sees it too once the script is over
            c.data_received(data)
        srv.flush_pending(hold=run.caller)  # the loop cannot run its deferred writes yet
    finally:
        ready.update(blk.ready)
        blk.ready = ready
