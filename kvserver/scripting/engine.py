"""One Lua interpreter (lupa.lua51) with Redis's sandbox, and the `redis` table.

A LuaEngine owns a Lua state prepared by kvserver.scripting.prelude, the
"script client" its commands run as (Redis's lua_client: a Client without a
connection, flagged `in_script`, so MONITOR shows `[db lua]` and blocking
commands do not block), and the Python functions of the `redis` table.

redis.call goes through the same checks a client's command does (command
lookup and arity, `noscript`, writes refused in read-only scripts) and then
through kvserver.dispatch.call (statistics, slowlog, MONITOR, propagation).
Replies become Lua values as Redis's reply parser makes them: nil bulk ->
false, status -> {ok=...}, error -> {err=...}, and in RESP3 nil and the
map/set/double/big number/verbatim tables.
"""

from __future__ import annotations

import hashlib
import math
from typing import TYPE_CHECKING

import lupa.lua51 as lupa

from kvserver import REDIS_COMPAT_VERSION
from kvserver import dispatch as dispatch_mod
from kvserver.dispatch import arity_error, call, resolve_command
from kvserver.errors import CommandError
from kvserver.resp import NULL_ARRAY, Bulks, Push, Raw, SetReply, Status, Verbatim, format_double
from kvserver.scripting import libs
from kvserver.scripting.bytecode import strip
from kvserver.scripting.libs.cjson import NULL
from kvserver.scripting.libs.cnum import lua_typename, tonumber
from kvserver.scripting.luaerr import arg_error, errinfo, lua_error, table_error
from kvserver.scripting.prelude import source
from kvserver.scripting.resp_parse import BigNumber, parse_raw
from kvserver.table import CommandSpec

if TYPE_CHECKING:
    from kvserver.connection import Client
    from kvserver.scripting.state import Scripting, ScriptRun

# Commands Redis flags may_replicate (refused in read-only scripts like writes),
# in case a declaration does not say so.
_MAY_REPLICATE = frozenset(("publish", "spublish", "pfcount", "eval", "evalsha", "fcall"))
_LOG_VERBOSITY = {"debug": 0, "verbose": 1, "notice": 2, "warning": 3, "nothing": 4}


def _version_num(v: str) -> int:
    major, minor, patch = (int(x) for x in v.split("."))
    return (major << 16) | (minor << 8) | patch


def _deny_attributes(obj, name, is_setting):  # noqa: ARG001 -- lupa's signature
    raise AttributeError("not accessible from scripts")


def error_text(msg: str | bytes) -> bytes:
    """luaPushErrorBuff of a Redis error reply ("CODE text"): the err field
    a script sees (code, one space, the text trimmed of CR/LF)."""
    b = msg if isinstance(msg, bytes) else msg.encode("utf-8", "surrogateescape")
    b = b"-" + b
    nul = b.find(b"\0")
    if nul != -1:
        b = b[:nul]
    sp = b.find(b" ")
    if sp == -1:
        code, text = b"ERR", b[1:]
    else:
        code, text = b[1:sp], b[sp + 1:]
    return code + b" " + text.strip(b"\r\n")


def _num_arg(v: int | float) -> bytes:
    """A Lua number as a command argument: C's %.17g (Redis's luaArgsToRedisArgv)."""
    if v.__class__ is int and -10**17 < v < 10**17:
        return b"%d" % v
    f = float(v)
    if f != f:
        return b"-nan" if math.copysign(1.0, f) < 0 else b"nan"
    return b"%.17g" % f


def _int_of(v) -> int:
    """(int) of a Lua number, truncating as C does."""
    if v.__class__ is int:
        return v
    if v != v or v in (math.inf, -math.inf):
        return -2**31
    return int(v)


_BYTECODE: dict[str, bytes] = {}


def _prelude_bytecode(flavour: str) -> bytes:
    """The prelude compiled and stripped of debug information (once per process)."""
    code = _BYTECODE.get(flavour)
    if code is None:
        rt = lupa.LuaRuntime(encoding=None, register_eval=False, register_builtins=False)
        dump = rt.eval("function(s) return string.dump(assert(loadstring(s, '=kvserver'))) end")
        code = _BYTECODE[flavour] = strip(dump(source(flavour).encode()))
    return code


class LuaEngine:
    """A Lua state for EVAL scripts ("eval") or FUNCTION libraries ("function")."""

    def __init__(self, scripting: Scripting, flavour: str) -> None:
        from kvserver.connection import Client

        self.scripting = scripting
        self.server = scripting.server
        self.flavour = flavour
        self.rt = rt = lupa.LuaRuntime(encoding=None, register_eval=False,
                                       register_builtins=False, unpack_returned_tuples=True,
                                       attribute_filter=_deny_attributes)
        rt.globals().python = None
        c = Client(self.server)
        c.in_script = True
        c.authenticated = True
        self.client: Client = c
        self.run_ctx: ScriptRun | None = None
        self.loader = None  # FUNCTION LOAD: the library being registered
        self._table_from = rt.table_from
        self._table = rt.table
        self.calls = 0
        version = REDIS_COMPAT_VERSION.encode()
        vnum = _version_num(REDIS_COMPAT_VERSION)
        redis = {
            b"call": self._make_call(raise_error=True),
            b"pcall": self._make_call(raise_error=False),
            b"sha1hex": _sha1hex,
            b"error_reply": self._error_reply,
            b"status_reply": self._status_reply,
            b"log": self._log,
            b"setresp": self._setresp,
            b"set_repl": self._set_repl,
            b"acl_check_cmd": self._acl_check,
            b"LOG_DEBUG": 0, b"LOG_VERBOSE": 1, b"LOG_NOTICE": 2, b"LOG_WARNING": 3,
            b"REPL_NONE": 0, b"REPL_AOF": 1, b"REPL_SLAVE": 2, b"REPL_REPLICA": 2,
            b"REPL_ALL": 3,
            b"REDIS_VERSION": version, b"REDIS_VERSION_NUM": vnum,
        }
        if flavour == "eval":
            redis[b"breakpoint"] = lambda *a: False
            redis[b"debug"] = lambda *a: None
            redis[b"replicate_commands"] = lambda *a: True
        libredis = {
            b"register_function": self._register,
            b"log": self._log,
            b"LOG_DEBUG": 0, b"LOG_VERBOSE": 1, b"LOG_NOTICE": 2, b"LOG_WARNING": 3,
            b"REDIS_VERSION": version, b"REDIS_VERSION_NUM": vnum,
        }
        py = rt.table_from({
            b"errinfo": errinfo,
            b"interrupt": scripting.interrupt,
            b"load_timeout": scripting.load_timeout,
            b"math_random": self._math_random,
            b"math_randomseed": self._math_randomseed,
            b"null": NULL,
            b"libs": rt.table_from(libs.tables(rt)),
            b"redis": rt.table_from(redis),
            b"libredis": rt.table_from(libredis),
        })
        prelude = rt.eval("function(s) return assert(loadstring(s)) end")(_prelude_bytecode(flavour))
        self.api = prelude(py, flavour.encode())
        self._run = self.api.run
        self._runv = self.api.runv
        self._compile = self.api.compile if flavour == "eval" else None
        rt.execute('collectgarbage("collect")')

    # -- entry points ---------------------------------------------------------------

    def compile(self, body: bytes):
        """The compiled chunk, or the error message (bytes) of a syntax error."""
        r = self._compile(body)
        if r.__class__ is tuple:
            return r[1] if r[1] is not None else b"?"
        return r

    def load_library(self, code: bytes) -> tuple:
        """Run a FUNCTION LOAD library body: (True,) or (False, stage, message)."""
        r = self.api.load_library(code)
        return r if r.__class__ is tuple else (r,)

    def run(self, fn, argv: list[bytes], nkeys: int, client_resp: int):
        """Call fn with KEYS = argv[3:3+nkeys] and ARGV = the rest."""
        if len(argv) < 200:
            r = self._runv(fn, client_resp, nkeys, *argv[3:])
        else:  # the Lua stack holds at most 8000 values
            tf = self._table_from
            r = self._run(fn, tf(argv[3:3 + nkeys]), tf(argv[3 + nkeys:]), client_resp)
        self.calls += 1
        if not self.calls % 50:  # as Redis: a small GC step every 50 calls
            self.api.gc_step(50)
        return r

    def arm_hook(self) -> None:
        self.api.arm_hook()

    def memory(self) -> int:
        return int(self.api.memory())

    # -- redis.call / redis.pcall ---------------------------------------------------------

    def _make_call(self, raise_error: bool):
        srv = self.server
        engine = self
        to_lua = self.to_lua
        table_from = self._table_from
        by_spelling = dispatch_mod._BY_SPELLING

        def fail(text: bytes, ignore: bool):
            if raise_error:
                raise table_error(text, ignore)
            if ignore:
                return table_from({b"err": text, b"ignore_error_stats_update": True})
            return table_from({b"err": text})

        def rejected(text: bytes, cmd: CommandSpec | None):
            srv.count_error_text("ERR")
            if cmd is not None:
                cmd.rejected_calls += 1
            return fail(text, True)

        def redis_call(*args):
            run = engine.run_ctx
            if run is None:
                raise table_error(b"ERR redis.call/pcall can only be called inside a script "
                                  b"invocation")
            for a in args:
                if a.__class__ is not bytes:
                    argv = []
                    for a in args:
                        t = a.__class__
                        if t is bytes:
                            argv.append(a)
                        elif t is int or t is float:
                            argv.append(_num_arg(a))
                        else:
                            return fail(b"ERR Lua redis lib command arguments must be strings "
                                        b"or integers", False)
                    break
            else:
                if not args:
                    return fail(b"ERR Please specify at least one argument for this redis lib "
                                b"call", False)
                argv = list(args)
            cmd = by_spelling.get(argv[0])
            if cmd is None or cmd.subcommands:
                cmd = resolve_command(argv)
                if cmd.__class__ is not CommandSpec:
                    return rejected(b"ERR Unknown Redis command called from script", None)
            arity = cmd.arity
            if (arity > 0 and len(argv) != arity) or len(argv) < -arity:
                return rejected(b"ERR Wrong number of args calling Redis command from script",
                                cmd)
            if cmd.is_noscript and not getattr(srv, "script_disable_deny_script", False):
                return rejected(b"ERR This Redis command is not allowed from script", cmd)
            if cmd.is_write:
                if run.read_only:
                    return rejected(b"ERR Write commands are not allowed from read-only "
                                    b"scripts.", cmd)
                run.write_dirty = True
            elif run.read_only and ("may_replicate" in cmd.flags or cmd.name in _MAY_REPLICATE):
                return rejected(b"ERR Write commands are not allowed from read-only scripts.",
                                cmd)
            c = engine.client
            if run.repl == 0 and srv.propagation_consumers:
                # redis.set_repl(redis.REPL_NONE): this command's effects are not propagated
                consumers = srv.propagation_consumers
                srv.propagation_consumers = []
                try:
                    r = call(c, cmd, argv)
                finally:
                    srv.propagation_consumers = consumers
            else:
                r = call(c, cmd, argv)
            t = r.__class__
            if t is bytes or t is int:
                return r
            if r is None:
                return None if c.resp3 else False
            if isinstance(r, CommandError):
                return fail(error_text(r.msg), True)
            if t is Raw:
                r = parse_raw(bytes(r))
                if isinstance(r, CommandError):
                    return fail(error_text(r.msg), True)
            return to_lua(r, c.resp3)

        return redis_call

    def to_lua(self, r, resp3: bool):
        """A reply value as the Lua value a script sees (see module doc)."""
        t = r.__class__
        if t is bytes or t is int:
            return r
        if r is None or r is NULL_ARRAY:
            return None if resp3 else False
        if t is Status:
            return self._table_from({b"ok": bytes(r)})
        if t is list or t is tuple or t is Push or t is Bulks:
            to_lua = self.to_lua
            return self._table_from([to_lua(x, resp3) for x in r])
        if isinstance(r, CommandError):
            return self._table_from({b"err": error_text(r.msg),
                                     b"ignore_error_stats_update": True})
        if t is bool:
            if resp3:
                return r
            return 1 if r else 0
        if t is float:
            if resp3:
                return self._table_from({b"double": r})
            return format_double(r)
        if t is dict:
            if not resp3:
                flat = []
                for k, v in r.items():
                    flat.append(self.to_lua(k, resp3))
                    flat.append(self.to_lua(v, resp3))
                return self._table_from(flat)
            m = self._table()
            for k, v in r.items():
                lk = self.to_lua(k, resp3)
                if lk is not None:
                    m[lk] = self.to_lua(v, resp3)
            return self._table_from({b"map": m})
        if t is SetReply:
            if not resp3:
                return self._table_from([self.to_lua(x, resp3) for x in r])
            s = self._table()
            for x in r:
                lx = self.to_lua(x, resp3)
                if lx is not None:
                    s[lx] = True
            return self._table_from({b"set": s})
        if t is Verbatim:
            if not resp3:
                return bytes(r)
            v = self._table_from({b"format": b"txt", b"string": bytes(r)})
            return self._table_from({b"verbatim_string": v})
        if t is Raw:
            return self.to_lua(parse_raw(bytes(r)), resp3)
        if t is BigNumber:
            return self._table_from({b"big_number": bytes(r)})
        if isinstance(r, bytes):
            return bytes(r)
        if isinstance(r, bool):
            return self.to_lua(bool(r), resp3)
        if isinstance(r, int):
            return int(r)
        if isinstance(r, str):
            return r.encode("utf-8", "surrogateescape")
        if isinstance(r, (list, tuple)):
            return self._table_from([self.to_lua(x, resp3) for x in r])
        return None if resp3 else False

    # -- the rest of the redis table -------------------------------------------------

    def _error_reply(self, *args):
        if len(args) != 1 or args[0].__class__ is not bytes:
            return self._table_from({b"err": b"ERR wrong number or type of arguments"})
        s = args[0]
        if not s.startswith(b"-"):
            s = b"-" + s
        return self._table_from({b"err": error_text(s[1:])})

    def _status_reply(self, *args):
        if len(args) != 1 or args[0].__class__ is not bytes:
            return self._table_from({b"err": b"ERR wrong number or type of arguments"})
        return self._table_from({b"ok": args[0]})

    def _log(self, *args):
        if len(args) < 2:
            raise table_error(b"ERR redis.log() requires two arguments or more.")
        level = tonumber(args[0])
        if level is None:
            raise table_error(b"ERR First argument must be a number (log level).")
        level = _int_of(level)
        if not 0 <= level <= 3:
            raise table_error(b"ERR Invalid debug level.")
        srv = self.server
        if level < _LOG_VERBOSITY.get(srv.config.loglevel, 2):
            return None
        parts = []
        for a in args[1:]:
            if a.__class__ is bytes:
                parts.append(a)
            elif a.__class__ is int or a.__class__ is float:
                from kvserver.scripting.libs.cnum import fmt_number

                parts.append(fmt_number(a))
        text = b" ".join(parts).decode("utf-8", "replace")
        if level >= 3:
            srv.logger.warning(text)
        else:
            srv.logger.info(text)
        return None

    def _setresp(self, *args):
        if self.run_ctx is None:
            raise table_error(b"ERR redis.setresp can only be called inside a script invocation")
        if len(args) != 1:
            raise table_error(b"ERR redis.setresp() requires one argument.")
        v = _int_of(tonumber(args[0]) or 0)
        if v not in (2, 3):
            raise table_error(b"ERR RESP version must be 2 or 3.")
        self.client.resp3 = v == 3
        self.api.setresp(v)
        return None

    def _set_repl(self, *args):
        if self.run_ctx is None:
            raise table_error(b"ERR redis.set_repl can only be called inside a script "
                              b"invocation")
        if len(args) != 1:
            raise table_error(b"ERR redis.set_repl() requires two arguments.")
        v = _int_of(tonumber(args[0]) or 0)
        if v & ~3:
            raise table_error(b"ERR Invalid replication flags. Use REPL_AOF, REPL_REPLICA, "
                              b"REPL_ALL or REPL_NONE.")
        self.run_ctx.repl = v
        return None

    def _acl_check(self, *args):
        if self.run_ctx is None:
            raise table_error(b"ERR redis.acl_check_cmd can only be called inside a script "
                              b"invocation")
        if not args:
            raise table_error(b"ERR Please specify at least one argument for this redis lib "
                              b"call")
        argv = []
        for a in args:
            t = a.__class__
            if t is bytes:
                argv.append(a)
            elif t is int or t is float:
                argv.append(_num_arg(a))
            else:
                raise table_error(b"ERR Lua redis lib command arguments must be strings or "
                                  b"integers")
        cmd = resolve_command(argv)
        if cmd.__class__ is not CommandSpec or arity_error(cmd, argv) is not None:
            raise table_error(b"ERR Invalid command passed to redis.acl_check_cmd()")
        check = getattr(self.server, "acl_check_command", None)
        if check is None:
            return True
        return bool(check(self.run_ctx.caller, cmd, argv))

    def _math_random(self, *args):
        if self.run_ctx is None:
            raise lua_error("math.random can only be called inside a script invocation")
        r = (self.scripting.rand48() % 2147483647) / 2147483647
        n = len(args)
        if n == 0:
            return r
        if n > 2:
            raise lua_error("wrong number of arguments")
        lo_hi = []
        for i, a in enumerate(args, 1):
            v = tonumber(a)
            if v is None:
                raise arg_error(i, "number expected, got " + lua_typename(a))
            lo_hi.append(_int_of(v))
        if n == 1:
            u = lo_hi[0]
            if not 1 <= u:
                raise arg_error(1, "interval is empty")
            return math.floor(r * u) + 1
        lo, u = lo_hi
        if not lo <= u:
            raise arg_error(2, "interval is empty")
        return math.floor(r * (u - lo + 1)) + lo

    def _math_randomseed(self, *args):
        if self.run_ctx is None:
            raise lua_error("math.randomseed can only be called inside a script invocation")
        v = tonumber(args[0]) if args else None
        if v is None:
            raise arg_error(1, "number expected, got " + lua_typename(
                args[0] if args else None, bool(args)))
        self.scripting.srand48(_int_of(v))
        return None

    def _register(self, *args):
        """redis.register_function (FUNCTION LOAD only)."""
        loader = self.loader
        if loader is None:
            raise table_error(b"ERR redis.register_function can only be called on FUNCTION "
                              b"LOAD command")
        loader.register(args)
        return None


def _sha1hex(*args):
    if len(args) != 1:
        raise table_error(b"ERR wrong number of arguments")
    s = args[0]
    if s.__class__ is int or s.__class__ is float:
        from kvserver.scripting.libs.cnum import fmt_number

        s = fmt_number(s)
    elif s.__class__ is not bytes:
        s = b""
    return hashlib.sha1(s).hexdigest().encode()
