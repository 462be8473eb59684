"""Lua scripting: EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and SCRIPT.

Scripts are cached by the SHA1 of their body (EVAL adds to the cache, SCRIPT
LOAD too; SCRIPT FLUSH empties it and restarts the Lua interpreter). A
`#!lua flags=...` first line declares the script's flags (no-writes,
allow-oom, ...); a script without one keeps Redis 6's rules. Running is in
kvserver.scripting (engine, state, busy).
"""

from __future__ import annotations

import hashlib

from kvserver.args import to_int
from kvserver.commands.server_cmds import help_reply
from kvserver.commands.sets import numkeys_getkeys
from kvserver.errors import CommandError
from kvserver.info import register_info_fields
from kvserver.protocol import split_args
from kvserver.resp import OK
from kvserver.scripting import state as scripting
from kvserver.scripting.busy import BUSY_EVAL, BUSY_FUNCTION
from kvserver.scripting.state import EVAL_COMPAT, FLAG_BITS, NO_WRITES, Script
from kvserver.table import command, container, subcommand

NOSCRIPT = "NOSCRIPT No matching script. Please use EVAL."
_NUMKEYS_TOO_BIG = "ERR Number of keys can't be greater than number of args"
_NUMKEYS_NEGATIVE = "ERR Number of keys can't be negative"
_EVAL_ARGS = "script numkeys:integer [key...] [arg...]"
_EVALSHA_ARGS = "sha1 numkeys:integer [key...] [arg...]"
_COMPLEXITY = "Depends on the script that is executed."
_KEYS = numkeys_getkeys(0, 2, 3)


def shebang_flags(body: bytes) -> tuple[int, int]:
    """(script flags, length of the shebang line) of a script body
    (evalExtractShebangFlags); raises CommandError for a bad shebang."""
    if not body.startswith(b"#!"):
        return EVAL_COMPAT, 0
    nl = body.find(b"\n")
    nul = body.find(b"\0")
    if nl == -1 or -1 < nul < nl:  # strchr() stops at a NUL byte
        raise CommandError("ERR Invalid script shebang")
    parts = split_args(body[:nl])
    if not parts:
        raise CommandError("ERR Invalid engine in script shebang")
    if _c(parts[0]) != b"#!lua":
        raise CommandError("ERR Unexpected engine in script shebang: " + _s(parts[0]))
    flags = 0
    for p in parts[1:]:
        if p.startswith(b"flags="):
            names = p[6:].split(b",") if len(p) > 6 else []
            for name in names:
                bit = FLAG_BITS.get(_c(name))
                if bit is None:
                    raise CommandError("ERR Unexpected flag in script shebang: " + _s(name))
                flags |= bit
        else:
            raise CommandError("ERR Unknown lua shebang option: " + _s(p))
    return flags, nl


def _c(b: bytes) -> bytes:
    nul = b.find(b"\0")
    return b if nul == -1 else b[:nul]


def _s(b: bytes) -> str:
    return _c(b).decode("utf-8", "surrogateescape")


def script_may_write(c, cmd, argv: list[bytes]) -> bool:
    """Whether EVAL/EVALSHA/FCALL may write, as Redis's getCommandFlags judges
    it (CLIENT PAUSE WRITE holds those): the *_RO forms never; a script or
    function declaring no-writes does not; one without flags, or unknown yet,
    may."""
    if cmd.is_readonly:
        return False
    st = getattr(c.server, "scripting", None)
    if cmd.name == "fcall":
        f = st.libraries.functions.get(argv[1].lower()) if st is not None else None
        return f is None or not f.flags & NO_WRITES
    if cmd.name == "eval":
        try:
            flags, _ = shebang_flags(argv[1])
        except CommandError:
            return True  # it will fail; the error is the script's to give
    else:
        script = st.scripts.get(argv[1].lower()) if st is not None else None
        if script is None:
            return True
        flags = script.flags
    return bool(flags & EVAL_COMPAT) or not flags & NO_WRITES


def create_script(st: scripting.Scripting, body: bytes, sha: bytes | None = None) -> Script:
    """luaCreateFunction: the cached script for body, compiling it if new."""
    if sha is None:
        sha = hashlib.sha1(body).hexdigest().encode()
    script = st.scripts.get(sha)
    if script is not None:
        return script
    flags, skip = shebang_flags(body)
    # The shebang line is dropped but its newline kept, so line numbers hold.
    fn = st.eval_engine.compile(body[skip:])
    if fn.__class__ is bytes:
        raise CommandError("ERR Error compiling script (new function): "
                           + fn.decode("utf-8", "surrogateescape").strip("\r\n"))
    script = Script(sha, body, flags, fn)
    st.scripts[sha] = script
    st.scripts_memory += len(sha) + len(body)
    return script


def _eval(c, argv: list[bytes], evalsha: bool, ro: bool):
    srv = c.server
    if srv.monitors:  # EVAL is fed to MONITOR before the commands it runs
        srv.feed_monitors(c, argv)
    if evalsha and len(argv[1]) != 40:
        raise CommandError(NOSCRIPT)
    nkeys = to_int(argv[2])
    if nkeys > len(argv) - 3:
        raise CommandError(_NUMKEYS_TOO_BIG)
    if nkeys < 0:
        raise CommandError(_NUMKEYS_NEGATIVE)
    st = scripting.get(srv)
    if evalsha:
        script = st.scripts.get(argv[1])
        if script is None:
            script = st.scripts.get(argv[1].lower())
            if script is None:
                raise CommandError(NOSCRIPT)
    else:
        script = create_script(st, argv[1])
    return st.run(c, st.eval_engine, script.fn, script.sha, argv, nkeys, script.flags, ro, True)


_EVAL_FLAGS = "noscript stale skip_monitor no_mandatory_keys may_replicate"
_EVAL_RO_FLAGS = "noscript stale skip_monitor no_mandatory_keys readonly"


@command("eval", arity=-3, flags=_EVAL_FLAGS, group="scripting", since="2.6.0",
         summary="Execute a Lua script server side", complexity=_COMPLEXITY,
         args=_EVAL_ARGS, getkeys=_KEYS)
def eval_(c, argv):
    return _eval(c, argv, False, False)


@command("evalsha", arity=-3, flags=_EVAL_FLAGS, group="scripting", since="2.6.0",
         summary="Execute a Lua script server side", complexity=_COMPLEXITY,
         args=_EVALSHA_ARGS, getkeys=_KEYS)
def evalsha(c, argv):
    return _eval(c, argv, True, False)


@command("eval_ro", arity=-3, flags=_EVAL_RO_FLAGS, group="scripting", since="7.0.0",
         summary="Execute a read-only Lua script server side", complexity=_COMPLEXITY,
         args=_EVAL_ARGS, getkeys=_KEYS)
def eval_ro(c, argv):
    return _eval(c, argv, False, True)


@command("evalsha_ro", arity=-3, flags=_EVAL_RO_FLAGS, group="scripting", since="7.0.0",
         summary="Execute a read-only Lua script server side", complexity=_COMPLEXITY,
         args=_EVALSHA_ARGS, getkeys=_KEYS)
def evalsha_ro(c, argv):
    return _eval(c, argv, True, True)


def kill_script(c, is_eval: bool):
    """scriptKill: SCRIPT KILL (is_eval) or FUNCTION KILL."""
    st = getattr(c.server, "scripting", None)
    run = st.current if st is not None else None
    if run is None:
        raise CommandError("NOTBUSY No scripts in execution right now.")
    if run.write_dirty:
        raise CommandError(
            "UNKILLABLE Sorry the script already executed write commands against the dataset. "
            "You can either wait the script termination or kill the server in a hard way using "
            "the SHUTDOWN NOSAVE command.")
    if is_eval and not run.is_eval:
        raise CommandError(BUSY_FUNCTION)
    if not is_eval and run.is_eval:
        raise CommandError(BUSY_EVAL)
    run.killed = True
    return OK


# -- SCRIPT ------------------------------------------------------------------------

SCRIPT = container("script", group="scripting", since="2.6.0",
                   summary="A container for Lua scripts management commands")


@subcommand(SCRIPT, "load", arity=3, flags="noscript stale", since="2.6.0",
            summary="Load the specified Lua script into the script cache.",
            complexity="O(N) with N being the length in bytes of the script body.",
            args="script", tips="request_policy:all_nodes response_policy:all_succeeded")
def script_load(c, argv):
    return create_script(scripting.get(c.server), argv[2]).sha


@subcommand(SCRIPT, "exists", arity=-3, flags="noscript", since="2.6.0",
            summary="Check existence of scripts in the script cache.",
            complexity="O(N) with N being the number of scripts to check (so checking a single "
                       "script is an O(1) operation).",
            args="sha1...", tips="request_policy:all_shards response_policy:agg_logical_and")
def script_exists(c, argv):
    st = getattr(c.server, "scripting", None)
    scripts = st.scripts if st is not None else {}
    return [1 if a.lower() in scripts else 0 for a in argv[2:]]


@subcommand(SCRIPT, "flush", arity=-2, flags="noscript", since="2.6.0",
            summary="Remove all the scripts from the script cache.",
            complexity="O(N) with N being the number of scripts in cache",
            args="[ASYNC|SYNC]", tips="request_policy:all_nodes response_policy:all_succeeded",
            history=(("6.2.0", "Added the `ASYNC` and `SYNC` flushing mode modifiers."),))
def script_flush(c, argv):
    if not (len(argv) == 2 or (len(argv) == 3 and argv[2].lower() in (b"sync", b"async"))):
        raise CommandError("ERR SCRIPT FLUSH only support SYNC|ASYNC option")
    st = getattr(c.server, "scripting", None)
    if st is not None:
        st.reset_eval()
    return OK


@subcommand(SCRIPT, "kill", arity=2, flags="noscript allow_busy", since="2.6.0",
            summary="Kill the script currently in execution.", complexity="O(1)",
            tips="request_policy:all_shards response_policy:one_succeeded")
def script_kill(c, argv):
    return kill_script(c, True)


@subcommand(SCRIPT, "debug", arity=3, flags="noscript", since="3.2.0",
            summary="Set the debug mode for executed scripts.", complexity="O(1)",
            args="YES|SYNC|NO")
def script_debug(c, argv):
    mode = argv[2].lower()
    if mode == b"no":
        return OK
    if mode in (b"yes", b"sync"):
        raise CommandError("ERR the Lua debugger (SCRIPT DEBUG) is not supported by this server")
    raise CommandError("ERR Use SCRIPT DEBUG YES/SYNC/NO")


_SCRIPT_HELP = [
    "DEBUG (YES|SYNC|NO)",
    "    Set the debug mode for subsequent scripts executed.",
    "EXISTS <sha1> [<sha1> ...]",
    "    Return information about the existence of the scripts in the script cache.",
    "FLUSH [ASYNC|SYNC]",
    "    Flush the Lua scripts cache. Very dangerous on replicas.",
    "    When called without the optional mode argument, the behavior is determined by the",
    "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
    "    * ASYNC: Asynchronously flush the scripts cache.",
    "    * SYNC: Synchronously flush the scripts cache.",
    "KILL",
    "    Kill the currently executing Lua script.",
    "LOAD <script>",
    "    Load a script into the scripts cache without executing it.",
]


@subcommand(SCRIPT, "help", arity=2, flags="loading stale", since="5.0.0",
            summary="Show helpful text about the different subcommands", complexity="O(1)")
def script_help(c, argv):
    return help_reply("SCRIPT", _SCRIPT_HELP)


# -- INFO ----------------------------------------------------------------------------

def _human(n: int) -> str:
    from kvserver.info import bytes_to_human

    return bytes_to_human(n)


def _memory_fields(srv) -> dict:
    st = getattr(srv, "scripting", None)
    if st is None:
        return {}
    lua = st.lua_memory()
    funcs = st.functions_memory()
    libs = st.libraries
    nfuncs = libs.function_count if libs is not None else 0
    nlibs = len(libs.libraries) if libs is not None else 0
    scripts_mem = st.scripts_memory + len(st.scripts) * 64 if st.scripts else 0
    functions_mem = (sum(len(lib.code) + 64 for lib in libs.libraries.values()) + nfuncs * 64
                     if libs is not None else 0)
    return {
        "used_memory_lua": lua,
        "used_memory_vm_eval": lua,
        "used_memory_lua_human": _human(lua),
        "used_memory_scripts_eval": scripts_mem,
        "number_of_cached_scripts": len(st.scripts),
        "number_of_functions": nfuncs,
        "number_of_libraries": nlibs,
        "used_memory_vm_functions": funcs,
        "used_memory_vm_total": lua + funcs,
        "used_memory_vm_total_human": _human(lua + funcs),
        "used_memory_functions": functions_mem,
        "used_memory_scripts": scripts_mem + functions_mem,
        "used_memory_scripts_human": _human(scripts_mem + functions_mem),
    }


register_info_fields("memory", _memory_fields)
