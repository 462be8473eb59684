"""Per-server scripting state: the EVAL script cache, the FUNCTION libraries,
the script running now, and the PRNG scripts share.

Running a script (Redis's scriptPrepareForRun / luaCallFunction /
scriptResetRun): the flags a script declared decide whether it may run at
all (a script without `no-writes` is refused by *_RO commands), the clock is
frozen for its duration (a key cannot expire between two of its commands),
its writes are collected into one propagation block (MULTI ... EXEC when
there is more than one), and its commands run as the engine's script
client, in the caller's database, RESP2 unless the script asks for RESP3.

Long scripts: see kvserver.scripting.busy.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from kvserver.errors import CommandError
from kvserver.resp import Raw
from kvserver.scripting import busy

if TYPE_CHECKING:
    from kvserver.connection import Client
    from kvserver.scripting.engine import LuaEngine
    from kvserver.server import Server

# Script flags (shebang `flags=` or register_function's `flags`), in the order
# FUNCTION LIST shows them.
FLAG_NAMES = ("no-writes", "allow-oom", "allow-stale", "no-cluster", "allow-cross-slot-keys")
NO_WRITES, ALLOW_OOM, ALLOW_STALE, NO_CLUSTER, ALLOW_CROSS_SLOT = (1 << i for i in range(5))
FLAG_BITS = {name.encode(): 1 << i for i, name in enumerate(FLAG_NAMES)}
EVAL_COMPAT = 1 << 16  # an EVAL script without a shebang: Redis 6 semantics

_X0 = 0x1234ABCD330E  # rand48's initial state (Redis's rand.c)


class NoStatsError(CommandError):
    """An error reply that does not count in errorstats (Redis's
    ERR_REPLY_FLAG_NO_STATS_UPDATE): the error a script's command already
    counted, raised again as the script's reply."""

    __slots__ = ()


class ScriptRun:
    """The script running now (Redis's scriptRunCtx)."""

    __slots__ = ("caller", "engine", "name", "is_eval", "read_only", "write_dirty",
                 "start", "timed_out", "killed", "kill_logged", "repl", "argv")

    def __init__(self, caller: Client, engine: LuaEngine, name: bytes, is_eval: bool,
                 read_only: bool, argv: list[bytes]) -> None:
        self.caller = caller
        self.engine = engine
        self.name = name
        self.is_eval = is_eval
        self.read_only = read_only
        self.write_dirty = False
        self.start = time.monotonic()
        self.timed_out = False
        self.killed = False
        self.kill_logged = False
        self.repl = 3  # REPL_ALL
        self.argv = argv


class Scripting:
    """Everything scripting keeps per server."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self._eval: LuaEngine | None = None
        self._functions: LuaEngine | None = None
        self.scripts: dict[bytes, Script] = {}  # lower-case sha1 hex -> script
        self.scripts_memory = 0
        self.libraries = None  # kvserver.scripting.functions.Libraries, on first use
        self.current: ScriptRun | None = None
        self.rand_state = _X0
        self.busy = None  # kvserver.scripting.busy.Busy while a script is timed out
        self.load_deadline = 0.0

    # -- engines --------------------------------------------------------------------

    @property
    def eval_engine(self) -> LuaEngine:
        e = self._eval
        if e is None:
            from kvserver.scripting.engine import LuaEngine

            e = self._eval = LuaEngine(self, "eval")
        return e

    @property
    def function_engine(self) -> LuaEngine:
        e = self._functions
        if e is None:
            from kvserver.scripting.engine import LuaEngine

            e = self._functions = LuaEngine(self, "function")
        return e

    def reset_eval(self) -> None:
        """SCRIPT FLUSH: forget every script and start a fresh Lua state."""
        self.scripts = {}
        self.scripts_memory = 0
        self._eval = None

    def lua_memory(self) -> int:
        return self._eval.memory() if self._eval is not None else 0

    def functions_memory(self) -> int:
        return self._functions.memory() if self._functions is not None else 0

    # -- the PRNG (redisLrand48 / redisSrand48) ----------------------------------------

    def rand48(self) -> int:
        x = (0x5DEECE66D * self.rand_state + 0xB) & 0xFFFFFFFFFFFF
        self.rand_state = x
        return x >> 17

    def srand48(self, seed: float | int) -> None:
        s = int(seed) & 0xFFFFFFFF
        self.rand_state = (s << 16) | 0x330E

    # -- running a script -------------------------------------------------------------

    def run(self, c: Client, engine: LuaEngine, fn, name: bytes, argv: list[bytes],
            nkeys: int, flags: int, ro: bool, is_eval: bool):
        """Run fn with KEYS/ARGV from argv[3:]; returns the reply value."""
        if flags & EVAL_COMPAT:
            read_only = ro
        elif flags & NO_WRITES:
            read_only = True
        elif ro:
            return CommandError("ERR Can not execute a script with write flag using *_ro command.")
        else:
            read_only = False
        run = ScriptRun(c, engine, name, is_eval, read_only, argv)
        srv = self.server
        sc = engine.client
        sc.db = c.db
        sc.resp3 = False
        frozen = srv.frozen_ms
        srv.frozen_ms = srv.now_ms()
        # (without consumers there is nothing to collect: skip the block)
        block = bool(srv.propagation_consumers)
        if block:
            srv.begin_propagation_block()
        self.current = run
        engine.run_ctx = run
        try:
            res = engine.run(fn, argv, nkeys, 3 if c.resp3 else 2)
        except Exception as e:  # noqa: BLE001 -- a Lua error outside the script's pcall
            res = (False, b"ERR " + str(e).encode("utf-8", "replace"), None, None, False)
        finally:
            self.current = None
            engine.run_ctx = None
            sc.resp3 = False
            if block:
                srv.end_propagation_block()
            srv.frozen_ms = frozen
            # The script's commands propagated their effects: not the script.
            c.propagate_as = []
            if run.timed_out:
                busy.leave(self, run)
            if run.killed:
                engine.arm_hook()
        if res[0] is True and res[2] is None:
            return Raw(res[1])
        return self._reply(c, res, name)

    def _reply(self, c: Client, res: tuple, name: bytes):
        if res[0] is True:
            errs = res[2]
            if errs is not None:
                self._count_nested_errors(c, errs)
            return Raw(res[1])
        msg, source, line, ignore = res[1], res[2], res[3], res[4]
        if msg is None:
            detail = res[5] if len(res) > 5 else b"execution failure"
            text = b"ERR Error running script %s, %s " % (name, detail[:100])
            return CommandError(text.decode("utf-8", "surrogateescape"))
        nul = msg.find(b"\0")
        if nul != -1:
            msg = msg[:nul]
        if line is not None and source is not None:
            msg = b"%s script: %s, on %s:%s." % (msg, name, source, line)
        text = msg.decode("utf-8", "surrogateescape")
        if ignore:
            c.cmd.failed_calls += 1
            return NoStatsError(text)
        return CommandError(text)

    def _count_nested_errors(self, c: Client, errs) -> None:
        # Error replies inside the script's reply count as Redis's
        # afterErrorReply counts them; the command fails once if any did.
        srv = self.server
        counted = False
        items = list(errs.values())
        for i in range(0, len(items) - 1, 2):
            msg, ignore = items[i], items[i + 1]
            if ignore:
                c.cmd.failed_calls += 1
            else:
                code = msg[1:].split(b" ", 1)[0]
                srv.count_error_text(code.decode("utf-8", "surrogateescape"))
                counted = True
        if counted:
            c.cmd.failed_calls += 1

    # -- long scripts -----------------------------------------------------------------

    def interrupt(self):
        """The Lua count hook (every 100000 instructions): an error text to
        abort the script with, or None to go on."""
        run = self.current
        if run is None:
            return None
        if not run.timed_out:
            threshold = self.server.config.busy_reply_threshold
            if threshold <= 0 or (time.monotonic() - run.start) * 1000 < threshold:
                return None
            busy.enter(self, run)
        busy.process_events(self, run)
        if run.killed:
            if not run.kill_logged:
                run.kill_logged = True
                self.server.log_warning("Lua script killed by user with SCRIPT KILL.")
            return b"ERR Script killed by user with SCRIPT KILL..."
        return None

    def load_timeout(self):
        if time.monotonic() > self.load_deadline > 0:
            return b"ERR FUNCTION LOAD timeout"
        return None


class Script:
    """An EVAL script in the cache."""

    __slots__ = ("sha", "body", "flags", "fn")

    def __init__(self, sha: bytes, body: bytes, flags: int, fn) -> None:
        self.sha = sha
        self.body = body
        self.flags = flags
        self.fn = fn


def get(server: Server) -> Scripting:
    """The server's scripting state (created on first use)."""
    try:
        return server.scripting  # type: ignore[attr-defined]
    except AttributeError:
        st = server.scripting = Scripting(server)  # type: ignore[attr-defined]
        return st
