"""Redis 7 functions: FUNCTION (LOAD, DELETE, FLUSH, LIST, DUMP, RESTORE,
STATS, KILL, HELP), FCALL and FCALL_RO.

Libraries live in kvserver.scripting.functions; they survive FLUSHALL (as in
Redis) and are replaced only by FUNCTION commands. A function runs as an
EVAL script does (kvserver.scripting.state), with its registered flags: a
function without `no-writes` may not be called with FCALL_RO.
"""

from __future__ import annotations

import time

from kvserver import errors
from kvserver.commands.scripting import kill_script
from kvserver.commands.server_cmds import help_reply
from kvserver.commands.sets import numkeys_getkeys
from kvserver.errors import CommandError
from kvserver.glob import glob_match
from kvserver.protocol import string2ll
from kvserver.resp import OK, SetReply, Status
from kvserver.scripting import functions as fn
from kvserver.scripting import state as scripting
from kvserver.scripting.busy import BUSY_EVAL
from kvserver.scripting.state import FLAG_NAMES
from kvserver.table import command, container, subcommand

_FLAG_STATUS = [Status(n.encode()) for n in FLAG_NAMES]


def _libraries(srv) -> fn.Libraries:
    st = scripting.get(srv)
    if st.libraries is None:
        st.libraries = fn.Libraries()
    return st.libraries


def _error(e: fn.FunctionError) -> CommandError:
    return CommandError("ERR " + str(e))


FUNCTION = container("function", group="scripting", since="7.0.0",
                     summary="A container for function commands")


@subcommand(FUNCTION, "load", arity=-3, flags="write denyoom noscript", since="7.0.0",
            summary="Create a function with the given arguments (name, code, description)",
            complexity="O(1) (considering compilation time is redundant)",
            args="[REPLACE] function-code",
            tips="request_policy:all_shards response_policy:all_succeeded")
def function_load(c, argv):
    replace = False
    pos = 2
    while pos < len(argv) - 1:
        a = argv[pos]
        pos += 1
        if a.lower() == b"replace":
            replace = True
            continue
        raise CommandError("ERR Unknown option given: "
                           + a.split(b"\0", 1)[0].decode("utf-8", "surrogateescape"))
    srv = c.server
    try:
        name = fn.create_library(scripting.get(srv), argv[pos], replace, _libraries(srv))
    except fn.FunctionError as e:
        raise _error(e) from None
    srv.dirty += 1
    return name


@subcommand(FUNCTION, "delete", arity=3, flags="write noscript", since="7.0.0",
            summary="Delete a function by name", complexity="O(1)", args="library-name",
            tips="request_policy:all_shards response_policy:all_succeeded")
def function_delete(c, argv):
    libs = _libraries(c.server)
    lib = libs.libraries.get(argv[2])
    if lib is None:
        raise CommandError("ERR Library not found")
    libs.unlink(lib)
    c.server.dirty += 1
    return OK


@subcommand(FUNCTION, "flush", arity=-2, flags="write noscript", since="7.0.0",
            summary="Deleting all functions",
            complexity="O(N) where N is the number of functions deleted",
            args="[ASYNC|SYNC]", tips="request_policy:all_shards response_policy:all_succeeded")
def function_flush(c, argv):
    if len(argv) > 3:
        raise errors.subcommand_syntax(argv[1], "function")
    if len(argv) == 3 and argv[2].lower() not in (b"async", b"sync"):
        raise CommandError("ERR FUNCTION FLUSH only supports SYNC|ASYNC option")
    st = getattr(c.server, "scripting", None)
    if st is not None and st.libraries is not None:
        st.libraries = fn.Libraries()
    c.server.dirty += 1
    return OK


@subcommand(FUNCTION, "list", arity=-2, flags="noscript", since="7.0.0",
            summary="List information about all the functions",
            complexity="O(N) where N is the number of functions",
            args="[LIBRARYNAME library-name-pattern] [WITHCODE]",
            tips="nondeterministic_output_order")
def function_list(c, argv):
    with_code = False
    pattern = None
    i = 2
    while i < len(argv):
        a = argv[i].lower()
        if not with_code and a == b"withcode":
            with_code = True
        elif pattern is None and a == b"libraryname":
            if i >= len(argv) - 1:
                raise CommandError("ERR library name argument was not given")
            i += 1
            pattern = argv[i]
        else:
            raise CommandError("ERR Unknown argument "
                               + argv[i].split(b"\0", 1)[0].decode("utf-8", "surrogateescape"))
        i += 1
    st = getattr(c.server, "scripting", None)
    libs = st.libraries if st is not None else None
    out = []
    for lib in (libs.libraries.values() if libs is not None else ()):
        if pattern is not None and not glob_match(pattern, lib.name, nocase=True):
            continue
        funcs = []
        for f in lib.functions.values():
            flags = SetReply(_FLAG_STATUS[k] for k in range(len(FLAG_NAMES)) if f.flags & (1 << k))
            funcs.append({b"name": f.name, b"description": f.desc, b"flags": flags})
        entry = {b"library_name": lib.name, b"engine": lib.engine, b"functions": funcs}
        if with_code:
            entry[b"library_code"] = lib.code
        out.append(entry)
    return out


@subcommand(FUNCTION, "dump", arity=2, flags="noscript", since="7.0.0",
            summary="Dump all functions into a serialized binary payload",
            complexity="O(N) where N is the number of functions")
def function_dump(c, argv):
    return fn.dump(_libraries(c.server))


@subcommand(FUNCTION, "restore", arity=-3, flags="write denyoom noscript", since="7.0.0",
            summary="Restore all the functions on the given payload",
            complexity="O(N) where N is the number of functions on the payload",
            args="serialized-value [FLUSH|APPEND|REPLACE]",
            tips="request_policy:all_shards response_policy:all_succeeded")
def function_restore(c, argv):
    if len(argv) > 4:
        raise errors.subcommand_syntax(argv[1], "function")
    policy = b"append"
    if len(argv) == 4:
        policy = argv[3].lower()
        if policy not in (b"append", b"replace", b"flush"):
            raise CommandError("ERR Wrong restore policy given, value should be either FLUSH, "
                               "APPEND or REPLACE.")
    srv = c.server
    st = scripting.get(srv)
    try:
        new = fn.restore(st, argv[2])
        if policy == b"flush":
            st.libraries = new
        else:
            _libraries(srv).join(new, policy == b"replace")
    except fn.FunctionError as e:
        raise _error(e) from None
    srv.dirty += 1
    return OK


@subcommand(FUNCTION, "stats", arity=2, flags="noscript allow_busy", since="7.0.0",
            summary="Return information about the function currently running (name, "
                    "description, duration)",
            complexity="O(1)",
            tips="nondeterministic_output request_policy:all_shards response_policy:special")
def function_stats(c, argv):
    st = getattr(c.server, "scripting", None)
    run = st.current if st is not None else None
    if run is not None and run.is_eval:
        raise CommandError(BUSY_EVAL)
    running = None
    if run is not None:
        running = {b"name": run.name, b"command": list(run.argv),
                   b"duration_ms": int((time.monotonic() - run.start) * 1000)}
    libs = st.libraries if st is not None else None
    nlibs = len(libs.libraries) if libs is not None else 0
    nfuncs = libs.function_count if libs is not None else 0
    return {b"running_script": running,
            b"engines": {b"LUA": {b"libraries_count": nlibs, b"functions_count": nfuncs}}}


@subcommand(FUNCTION, "kill", arity=2, flags="noscript allow_busy", since="7.0.0",
            summary="Kill the function currently in execution.", complexity="O(1)",
            tips="request_policy:all_shards response_policy:one_succeeded")
def function_kill(c, argv):
    return kill_script(c, False)


_FUNCTION_HELP = [
    "LOAD [REPLACE] <FUNCTION CODE>",
    "    Create a new library with the given library name and code.",
    "DELETE <LIBRARY NAME>",
    "    Delete the given library.",
    "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
    "    Return general information on all the libraries:",
    "    * Library name",
    "    * The engine used to run the Library",
    "    * Library description",
    "    * Functions list",
    "    * Library code (if WITHCODE is given)",
    "    It also possible to get only function that matches a pattern using LIBRARYNAME "
    "argument.",
    "STATS",
    "    Return information about the current function running:",
    "    * Function name",
    "    * Command used to run the function",
    "    * Duration in MS that the function is running",
    "    If no function is running, return nil",
    "    In addition, returns a list of available engines.",
    "KILL",
    "    Kill the current running function.",
    "FLUSH [ASYNC|SYNC]",
    "    Delete all the libraries.",
    "    When called without the optional mode argument, the behavior is determined by the",
    "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
    "    * ASYNC: Asynchronously flush the libraries.",
    "    * SYNC: Synchronously flush the libraries.",
    "DUMP",
    "    Return a serialized payload representing the current libraries, can be restored "
    "using FUNCTION RESTORE command",
    "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
    "    Restore the libraries represented by the given payload, it is possible to give a "
    "restore policy to",
    "    control how to handle existing libraries (default APPEND):",
    "    * FLUSH: delete all existing libraries.",
    "    * APPEND: appends the restored libraries to the existing libraries. On collision, "
    "abort.",
    "    * REPLACE: appends the restored libraries to the existing libraries, On collision, "
    "replace the old",
    "      libraries with the new libraries (notice that even on this option there is a "
    "chance of failure",
    "      in case of functions name collision with another library).",
]


@subcommand(FUNCTION, "help", arity=2, flags="loading stale", since="7.0.0",
            summary="Show helpful text about the different subcommands", complexity="O(1)")
def function_help(c, argv):
    return help_reply("FUNCTION", _FUNCTION_HELP)


# -- FCALL ---------------------------------------------------------------------------

def _fcall(c, argv: list[bytes], ro: bool):
    srv = c.server
    if srv.monitors:  # fed to MONITOR before the commands it runs
        srv.feed_monitors(c, argv)
    st = getattr(srv, "scripting", None)
    libs = st.libraries if st is not None else None
    f = libs.functions.get(argv[1].lower()) if libs is not None else None
    if f is None:
        raise CommandError("ERR Function not found")
    nkeys = string2ll(argv[2])
    if nkeys is None:
        raise CommandError("ERR Bad number of keys provided")
    if nkeys > len(argv) - 3:
        raise CommandError("ERR Number of keys can't be greater than number of args")
    if nkeys < 0:
        raise CommandError("ERR Number of keys can't be negative")
    return st.run(c, st.function_engine, f.fn, f.name, argv, nkeys, f.flags, ro, False)


_FCALL_FLAGS = "noscript stale skip_monitor no_mandatory_keys"


@command("fcall", arity=-3, flags=_FCALL_FLAGS + " may_replicate", group="scripting",
         since="7.0.0", summary="Invoke a function",
         complexity="Depends on the function that is executed.",
         args="function numkeys:integer [key...] [arg...]", getkeys=numkeys_getkeys(0, 2, 3))
def fcall(c, argv):
    return _fcall(c, argv, False)


@command("fcall_ro", arity=-3, flags=_FCALL_FLAGS + " readonly", group="scripting",
         since="7.0.0", summary="Invoke a read-only function",
         complexity="Depends on the function that is executed.",
         args="function numkeys:integer [key...] [arg...]", getkeys=numkeys_getkeys(0, 2, 3))
def fcall_ro(c, argv):
    return _fcall(c, argv, True)
