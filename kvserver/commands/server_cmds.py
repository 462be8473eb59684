"""Server commands: DBSIZE, FLUSHDB, FLUSHALL, TIME, LASTSAVE, SLOWLOG, MONITOR,
SHUTDOWN, ROLE, LOLWUT, INFO, MEMORY.

INFO's text is built by kvserver.info; DEBUG lives in kvserver.commands.debug.
SAVE, BGSAVE and BGREWRITEAOF come with persistence.
"""

from __future__ import annotations

import gc
import re
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from kvserver import __version__, errors, info
from kvserver.args import to_int
from kvserver.errors import CommandError
from kvserver.resp import NOREPLY, OK, Status, Verbatim
from kvserver.slowlog import redact_argv
from kvserver.table import command, container, subcommand

if TYPE_CHECKING:
    from kvserver.connection import Client
    from kvserver.server import Server

# Called after FLUSHDB (dbid) / FLUSHALL (-1): features that cache per-key state
# (client-side caching invalidation, ...) register here.
FLUSH_HOOKS: list[Callable[[Server, int], None]] = []
# SHUTDOWN SAVE: persistence registers a function that saves the dataset and
# returns True on success. Without one there is nothing that could save.
SHUTDOWN_SAVERS: list[Callable[[Server], bool]] = []


def help_reply(name: str, lines: list[str]) -> list[Status]:
    """Redis's addReplyHelp: a header, the lines, then HELP itself."""
    head = f"{name} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    return [Status(s.encode()) for s in (head, *lines, "HELP", "    Prints this help.")]


def subcommand_syntax_error(argv: list[bytes]) -> CommandError:
    """addReplySubcommandSyntaxError: the subcommand as typed, the container upper-cased."""
    sub = argv[1].decode("utf-8", "replace")[:128]
    return CommandError(f"ERR unknown subcommand or wrong number of arguments for '{sub}'. "
                        f"Try {argv[0].decode('utf-8', 'replace').upper()} HELP.")


# -- keyspace size and flushing ------------------------------------------------

@command("dbsize", arity=1, flags="readonly fast", group="server", since="1.0.0", acl="keyspace",
         summary="Return the number of keys in the selected database", complexity="O(1)",
         tips="request_policy:all_shards response_policy:agg_sum")
def dbsize(c, argv):
    # Like Redis, keys whose TTL passed but that were not reclaimed yet count.
    return len(c.db.data)


_FLUSH_HISTORY = (("4.0.0", "Added the `ASYNC` flushing mode modifier."),
                  ("6.2.0", "Added the `SYNC` flushing mode modifier."))


def _flush_async_arg(argv: list[bytes]) -> None:
    """FLUSHDB/FLUSHALL take nothing, ASYNC or SYNC (both flush synchronously here)."""
    if len(argv) > 2:
        raise CommandError(errors.SYNTAX)
    if len(argv) == 2 and argv[1].lower() not in (b"async", b"sync"):
        raise CommandError(errors.SYNTAX)


def flush_db(srv: Server, dbid: int) -> int:
    """Empty one database (-1: all). Breaks WATCH on the keys it held."""
    dbs = srv.dbs if dbid < 0 else [srv.dbs[dbid]]
    n = sum(db.clear() for db in dbs)
    for hook in FLUSH_HOOKS:
        hook(srv, dbid)
    return n


@command("flushdb", arity=-1, flags="write", group="server", since="1.0.0",
         summary="Remove all keys from the current database",
         complexity="O(N) where N is the number of keys in the selected database",
         args="[ASYNC|SYNC]", tips="request_policy:all_shards response_policy:all_succeeded",
         acl="keyspace dangerous", history=_FLUSH_HISTORY)
def flushdb(c, argv):
    _flush_async_arg(argv)
    flush_db(c.server, c.db.id)
    c.server.dirty += 1  # propagated even when the database was already empty
    return OK


@command("flushall", arity=-1, flags="write", group="server", since="1.0.0",
         summary="Remove all keys from all databases",
         complexity="O(N) where N is the total number of keys in all databases",
         args="[ASYNC|SYNC]", tips="request_policy:all_shards response_policy:all_succeeded",
         acl="keyspace dangerous", history=_FLUSH_HISTORY)
def flushall(c, argv):
    _flush_async_arg(argv)
    flush_db(c.server, -1)
    c.server.dirty += 1
    return OK


# -- time ------------------------------------------------------------------------

def server_time_us(srv: Server) -> int:
    """Wall-clock microseconds, moved along with the server clock (advance_time)."""
    return time.time_ns() // 1000 + srv.clock_offset_ms * 1000


@command("time", arity=1, flags="loading stale fast", group="server", since="2.6.0",
         summary="Return the current server time", complexity="O(1)",
         tips="nondeterministic_output")
def time_(c, argv):
    sec, usec = divmod(server_time_us(c.server), 1_000_000)
    return [b"%d" % sec, b"%d" % usec]


@command("lastsave", arity=1, flags="loading stale fast", group="server", since="1.0.0",
         summary="Get the UNIX time stamp of the last successful save to disk",
         complexity="O(1)", tips="nondeterministic_output", acl="admin dangerous")
def lastsave(c, argv):
    return c.server.lastsave


# -- SLOWLOG ------------------------------------------------------------------------

SLOWLOG = container("slowlog", group="server", since="2.2.12",
                    summary="A container for slow log commands")


@subcommand(SLOWLOG, "get", arity=-2, flags="admin loading stale", since="2.2.12",
            summary="Get the slow log's entries",
            complexity="O(N) where N is the number of entries returned",
            args="[count:integer]", tips="request_policy:all_nodes nondeterministic_output",
            history=(("4.0.0", "Added client IP address, port and name to the reply."),))
def slowlog_get(c, argv):
    if len(argv) > 3:
        raise subcommand_syntax_error(argv)
    count = 10
    if len(argv) == 3:
        count = to_int(argv[2], "ERR count should be greater than or equal to -1")
        if count < -1:
            raise CommandError("ERR count should be greater than or equal to -1")
    entries = c.server.slowlog.entries
    n = len(entries) if count == -1 else min(count, len(entries))
    out = []
    for i, e in enumerate(entries):
        if i >= n:
            break
        out.append(list(e))
    return out


@subcommand(SLOWLOG, "len", arity=2, flags="admin loading stale", since="2.2.12",
            summary="Get the slow log's length", complexity="O(1)",
            tips="request_policy:all_nodes response_policy:agg_sum nondeterministic_output")
def slowlog_len(c, argv):
    return len(c.server.slowlog)


@subcommand(SLOWLOG, "reset", arity=2, flags="admin loading stale", since="2.2.12",
            summary="Clear all entries from the slow log",
            complexity="O(N) where N is the number of entries in the slowlog",
            tips="request_policy:all_nodes response_policy:all_succeeded")
def slowlog_reset(c, argv):
    c.server.slowlog.reset()
    return OK


_SLOWLOG_HELP = [
    "GET [<count>]",
    "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
    "    Entries are made of:",
    "    id, timestamp, time in microseconds, arguments array, client IP and port,",
    "    client name",
    "LEN",
    "    Return the length of the slowlog.",
    "RESET",
    "    Reset the slowlog.",
]


@subcommand(SLOWLOG, "help", arity=2, flags="loading stale", since="6.2.0",
            summary="Show helpful text about the different subcommands", complexity="O(1)")
def slowlog_help(c, argv):
    return help_reply("SLOWLOG", _SLOWLOG_HELP)


# -- MONITOR ---------------------------------------------------------------------------

# sdscatrepr: printable ASCII as is, \\ \" \n \r \t \a \b escaped, the rest \xHH.
_REPR = [b"\\x%02x" % i for i in range(256)]
for _i in range(0x20, 0x7F):
    _REPR[_i] = bytes((_i,))
for _ch, _esc in ((b"\\", b"\\\\"), (b'"', b'\\"'), (b"\n", b"\\n"), (b"\r", b"\\r"),
                  (b"\t", b"\\t"), (b"\a", b"\\a"), (b"\b", b"\\b")):
    _REPR[_ch[0]] = _esc
_NEEDS_ESCAPE = re.compile(rb'[^\x20\x21\x23-\x5b\x5d-\x7e]').search


def repr_arg(a: bytes) -> bytes:
    """An argument quoted as Redis's sdscatrepr quotes it."""
    if _NEEDS_ESCAPE(a) is None:
        return b'"' + a + b'"'
    return b'"' + b"".join([_REPR[x] for x in a]) + b'"'


def monitor_line(c: Client, argv: list[bytes]) -> bytes:
    """One MONITOR line: `+<sec>.<usec> [<db> <origin>] "arg" ...\\r\\n`."""
    srv = c.server
    sec, usec = divmod(server_time_us(srv), 1_000_000)
    if c.in_script:
        origin = b"lua"
    elif c.is_unix:
        origin = b"unix:" + srv.config.unixsocket.encode()
    else:
        origin = c.addr.encode()
    args = b" ".join([repr_arg(a) for a in redact_argv(argv)])
    return b"+%d.%06d [%d %s] %s\r\n" % (sec, usec, c.db.id, origin, args)


@command("monitor", arity=1, flags="admin noscript loading stale", group="server",
         since="1.0.0", summary="Listen for all requests received by the server in real time")
def monitor(c, argv):
    if not c.may_block:
        raise CommandError("ERR MONITOR isn't allowed for DENY BLOCKING client")
    if c.is_monitor or c.is_replica_link:
        return NOREPLY  # already streaming: Redis ignores it silently
    c.is_monitor = True
    c.server.monitors.append(c)
    return OK


# -- SHUTDOWN ------------------------------------------------------------------------------

@command("shutdown", arity=-1, flags="admin noscript loading stale no_multi allow_busy",
         group="server", since="1.0.0",
         summary="Synchronously save the dataset to disk and then shut down the server",
         complexity="O(N) when saving, where N is the total number of keys in all "
                    "databases when saving data, otherwise O(1)",
         args="[NOSAVE|SAVE] [NOW] [FORCE] [ABORT]",
         history=(("7.0.0", "Added the `NOW`, `FORCE` and `ABORT` modifiers."),))
def shutdown(c, argv):
    opts = set()
    for a in argv[1:]:
        a = a.lower()
        if a not in (b"nosave", b"save", b"now", b"force", b"abort"):
            raise CommandError(errors.SYNTAX)
        opts.add(a)
    if (b"abort" in opts and len(opts) > 1) or {b"nosave", b"save"} <= opts:
        raise CommandError(errors.SYNTAX)
    if b"abort" in opts:
        # Shutdown is immediate here: there is never one in progress to abort.
        raise CommandError("ERR No shutdown in progress.")
    if b"now" not in opts and not c.may_block:
        raise CommandError(
            "ERR SHUTDOWN without NOW or ABORT isn't allowed for DENY BLOCKING client")
    srv = c.server
    srv.log_warning("User requested shutdown...")
    force = b"force" in opts
    if b"nosave" not in opts and (b"save" in opts or srv.config.save):
        if not _save_for_shutdown(srv, explicit=b"save" in opts) and not force:
            srv.log_warning("Errors trying to shut down the server. Check the logs "
                            "for more information.")
            raise CommandError("ERR Errors trying to SHUTDOWN. Check logs.")
    srv.log_warning("kvserver is now ready to exit, bye bye...")
    srv.request_shutdown()
    c.close()  # no reply; pipelined commands after SHUTDOWN do not run
    return NOREPLY


def _save_for_shutdown(srv: Server, explicit: bool) -> bool:
    if not SHUTDOWN_SAVERS:
        if explicit:
            srv.log_warning("SHUTDOWN SAVE: this server has no RDB persistence to save with.")
            return False
        return True  # `save` points are accepted but kvserver writes no RDB file
    ok = True
    for save in SHUTDOWN_SAVERS:
        try:
            ok = save(srv) and ok
        except Exception as e:  # noqa: BLE001 -- reported like a failed save
            srv.log_warning(f"Error trying to save the DB: {e}")
            ok = False
    return ok


# -- ROLE, LOLWUT ------------------------------------------------------------------------------

# The replication layer replaces this to describe a replica (or connected replicas).
role_provider: Callable[[Server], list] | None = None


@command("role", arity=1, flags="noscript loading stale fast", group="server",
         since="2.8.12", summary="Return the role of the instance in the context of replication",
         complexity="O(1)", acl="admin dangerous")
def role(c, argv):
    if role_provider is not None:
        return role_provider(c.server)
    return [b"master", 0, []]


@command("lolwut", arity=-1, flags="readonly fast", group="server", since="5.0.0",
         summary="Display some computer art and the Redis version",
         args="[VERSION version:integer]")
def lolwut(c, argv):
    if len(argv) >= 3 and argv[1].lower() == b"version":
        to_int(argv[2])  # validated as Redis does; no art is drawn here
    return Verbatim(b"kvserver ver. %s\n" % __version__.encode())


# -- INFO ----------------------------------------------------------------------------------------

@command("info", arity=-1, flags="loading stale", group="server", since="1.0.0",
         summary="Get information and statistics about the server", complexity="O(1)",
         args="[section...]",
         tips="nondeterministic_output request_policy:all_shards response_policy:special",
         acl="dangerous",
         history=(("7.0.0", "Added support for taking multiple section arguments."),))
def info_(c, argv):
    return Verbatim(info.info_text(c.server, argv[1:]))


# -- MEMORY ------------------------------------------------------------------------------------

MEMORY = container("memory", group="server", since="4.0.0",
                   summary="A container for memory diagnostics commands")


@subcommand(MEMORY, "usage", arity=-3, flags="readonly", keys=(2, 2, 1), since="4.0.0",
            summary="Estimate the memory usage of a key",
            complexity="O(N) where N is the number of samples.",
            args="key [SAMPLES count:integer]")
def memory_usage(c, argv):
    samples = info.DEFAULT_SAMPLES
    j = 3
    while j < len(argv):
        if argv[j].lower() == b"samples" and j + 1 < len(argv):
            samples = to_int(argv[j + 1])
            if samples < 0:
                raise CommandError(errors.SYNTAX)
            if samples == 0:
                samples = sys.maxsize
            j += 2
        else:
            raise CommandError(errors.SYNTAX)
    # Like Redis, a raw look-up: no lazy expiry, no hit/miss statistics.
    key = argv[2]
    value = c.db.data.get(key)
    if value is None:
        return None
    return info.key_memory_usage(c.db, key, value, samples)


@subcommand(MEMORY, "stats", arity=2, since="4.0.0", summary="Show memory usage details",
            complexity="O(1)",
            tips="nondeterministic_output request_policy:all_shards response_policy:special")
def memory_stats(c, argv):
    return info.memory_stats(c.server)


@subcommand(MEMORY, "doctor", arity=2, since="4.0.0", summary="Outputs memory problems report",
            complexity="O(1)",
            tips="nondeterministic_output request_policy:all_shards response_policy:special")
def memory_doctor(c, argv):
    return Verbatim(info.memory_doctor(c.server).encode())


@subcommand(MEMORY, "malloc-stats", arity=2, since="4.0.0",
            summary="Show allocator internal stats",
            complexity="Depends on how much memory is allocated, could be slow",
            tips="nondeterministic_output request_policy:all_shards response_policy:special")
def memory_malloc_stats(c, argv):
    # What Redis answers when built without jemalloc.
    return b"Stats not supported for the current allocator"


@subcommand(MEMORY, "purge", arity=2, since="4.0.0", summary="Ask the allocator to release memory",
            complexity="Depends on how much memory is allocated, could be slow",
            tips="request_policy:all_shards response_policy:all_succeeded")
def memory_purge(c, argv):
    gc.collect()
    info.malloc_trim()
    return OK


_MEMORY_HELP = [
    "DOCTOR",
    "    Return memory problems reports.",
    "MALLOC-STATS",
    "    Return internal statistics report from the memory allocator.",
    "PURGE",
    "    Attempt to purge dirty pages for reclamation by the allocator.",
    "STATS",
    "    Return information about the memory usage of the server.",
    "USAGE <key> [SAMPLES <count>]",
    "    Return memory in bytes used by <key> and its value. Nested values are",
    "    sampled up to <count> times (default: 5, 0 means sample all).",
]


@subcommand(MEMORY, "help", arity=2, flags="loading stale", since="4.0.0",
            summary="Show helpful text about the different subcommands", complexity="O(1)")
def memory_help(c, argv):
    return help_reply("MEMORY", _MEMORY_HELP)
