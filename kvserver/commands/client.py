"""CLIENT: connection introspection and control.

ID, INFO, LIST, SETNAME, GETNAME, KILL, REPLY, NO-EVICT, PAUSE, UNPAUSE,
UNBLOCK, GETREDIR, TRACKINGINFO, HELP as Redis 7.0 has them, plus SETINFO and
NO-TOUCH from Redis 7.2 (redis-py 5+ sends CLIENT SETINFO on connect).
TRACKING and CACHING come with client-side caching.

The CLIENT LIST / CLIENT INFO line keeps Redis 7.0's fields in Redis's order.
Fields about Redis's own buffers are reported for what plays their part here:
qbuf is the request being run (or the partial request waiting), argv-mem the
arguments of the running or blocked command, multi-mem the queued MULTI
commands counted as Redis counts them, omem the unsent reply bytes, tot-mem
their sum plus the client object itself. kvserver has no fixed reply buffer,
no free query-buffer space to report: rbs, rbp, obl and qbuf-free are 0.
"""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING

from kvserver import errors
from kvserver.args import to_int
from kvserver.commands.server_cmds import help_reply, subcommand_syntax_error
from kvserver.connection import REPLY_OFF, REPLY_ON, REPLY_SKIP
from kvserver.errors import CommandError
from kvserver.protocol import request_size
from kvserver.resp import NOREPLY, OK, SetReply, Verbatim
from kvserver.table import TABLE, container, subcommand

if TYPE_CHECKING:
    from kvserver.connection import Client

CLIENT = container("client", group="connection", since="2.4.0",
                   summary="A container for client connection commands")

NAME_ERROR = "ERR Client names cannot contain spaces, newlines or special characters."

# Client types, as getClientType() and getClientTypeByName() know them.
TYPE_NORMAL, TYPE_SLAVE, TYPE_PUBSUB, TYPE_MASTER = 0, 1, 2, 3
_TYPE_BY_NAME = {b"normal": TYPE_NORMAL, b"slave": TYPE_SLAVE, b"replica": TYPE_SLAVE,
                 b"pubsub": TYPE_PUBSUB, b"master": TYPE_MASTER}


# -- names ----------------------------------------------------------------------

def _printable(b: bytes) -> bool:
    """Only '!'..'~': a CLIENT LIST line must still split on spaces."""
    return all(33 <= ch <= 126 for ch in b)


def validate_client_name(name: bytes) -> None:
    """Raise Redis's error for a name CLIENT SETNAME / HELLO SETNAME refuses."""
    if not _printable(name):
        raise CommandError(NAME_ERROR)


# -- the CLIENT LIST line -----------------------------------------------------------

def client_type(c: Client) -> int:
    if getattr(c, "is_master", False):
        return TYPE_MASTER
    if c.is_replica_link and not c.is_monitor:
        return TYPE_SLAVE
    if _is_pubsub(c):
        return TYPE_PUBSUB
    return TYPE_NORMAL


def _is_pubsub(c: Client) -> bool:
    return bool(c.subscriptions or c.channels or c.patterns or c.shard_channels)


def _flags(c: Client) -> str:
    f = ""
    if c.is_monitor:
        f += "O"
    elif c.is_replica_link:
        f += "S"
    if getattr(c, "is_master", False):
        f += "M"
    if _is_pubsub(c):
        f += "P"
    if c.mstate is not None:
        f += "x"
    # A client held by CLIENT PAUSE is blocked in Redis too.
    if c.blocked is not None or c.queued_argv:
        f += "b"
    tr = c.tracking
    if tr is not None:
        f += "t"
        if getattr(tr, "broken_redirect", False):
            f += "R"
        if getattr(tr, "bcast", False):
            f += "B"
    if c.dirty_cas:
        f += "d"
    if c.close_after_reply:
        f += "c"
    if c.closed:
        f += "A"
    if c.is_unix:
        f += "U"
    if c.no_evict:
        f += "e"
    if c.no_touch:
        f += "T"  # Redis 7.2's letter for CLIENT NO-TOUCH
    return f or "N"


def last_command_name(c: Client) -> str:
    """Redis's lastcmd->fullname: the command last looked up for c, or NULL."""
    argv = c.last_argv
    if not argv:
        return "NULL"
    cmd = TABLE.get(argv[0].lower())
    if cmd is None:
        return "NULL"
    if cmd.subcommands and len(argv) >= 2:
        sub = cmd.subcommands.get(argv[1].lower())
        return "NULL" if sub is None else sub.fullname
    return cmd.fullname


def _argv_mem(argv: list[bytes]) -> int:
    return sum(len(a) for a in argv)


def client_info_line(c: Client, caller: Client | None = None) -> str:
    """The CLIENT LIST / CLIENT INFO line of c (Redis 7.0's fields and order).

    caller: the client running CLIENT LIST/INFO, whose own request is the one
    being executed (so its qbuf and argv-mem count that request).
    """
    now = time.time()
    t = c.transport
    fd = -1
    if t is not None:
        sock = t.get_extra_info("socket")
        if sock is not None:
            try:
                fd = sock.fileno()
            except (OSError, ValueError):
                fd = -1
    pending = len(c.pending) if c.pending is not None else 0
    if c is caller:
        qbuf = request_size(c.last_argv) + pending
        argv_mem = _argv_mem(c.last_argv)
    else:
        qbuf = pending
        argv_mem = _argv_mem(c.blocked.argv) if c.blocked is not None else 0
    if c.mstate is not None:
        multi = len(c.mstate)
        # Redis counts each queued command as its argument bytes plus one
        # object pointer per argument.
        multi_mem = sum(_argv_mem(a) + 8 * len(a) for _, a in c.mstate)
    else:
        multi, multi_mem = -1, 0
    oll = len(c.out)
    omem = sum(len(b) for b in c.out)
    if t is not None and not t.is_closing():
        unsent = t.get_write_buffer_size()
        if unsent:
            omem += unsent
            oll += 1
    tot_mem = qbuf + argv_mem + multi_mem + omem + sys.getsizeof(c) + sys.getsizeof(c.__dict__)
    events = ""
    if t is not None and not c.closed:
        if t.is_reading():
            events += "r"
        if omem:
            events += "w"
    tr = c.tracking
    redir = -1 if tr is None else getattr(tr, "redirect", 0)
    name = c.name.decode("latin-1")
    user = c.user.decode("utf-8", "replace")
    return (
        f"id={c.id} addr={c.addr} laddr={c.laddr} fd={fd} name={name} "
        f"age={int(now - c.created)} idle={int(time.monotonic() - c.last_interaction)} "
        f"flags={_flags(c)} db={c.db.id} sub={len(c.channels)} psub={len(c.patterns)} "
        f"ssub={len(c.shard_channels)} multi={multi} qbuf={qbuf} qbuf-free=0 "
        f"argv-mem={argv_mem} multi-mem={multi_mem} rbs=0 rbp=0 obl=0 oll={oll} "
        f"omem={omem} tot-mem={tot_mem} events={events} cmd={last_command_name(c)} "
        f"user={user} redir={redir} resp={3 if c.resp3 else 2}")


def _clients_text(clients, caller: Client) -> Verbatim:
    return Verbatim("".join(client_info_line(x, caller) + "\n" for x in clients).encode())


# -- subcommands ------------------------------------------------------------------

_HELP = [
    "CACHING (YES|NO)",
    "    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
    "GETREDIR",
    "    Return the client ID we are redirecting to when tracking is enabled.",
    "GETNAME",
    "    Return the name of the current connection.",
    "ID",
    "    Return the ID of the current connection.",
    "INFO",
    "    Return information about the current client connection.",
    "KILL <ip:port>",
    "    Kill connection made from <ip:port>.",
    "KILL <option> <value> [<option> <value> [...]]",
    "    Kill connections. Options are:",
    "    * ADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made from the specified address",
    "    * LADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made to specified local address",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Kill connections by type.",
    "    * USER <username>",
    "      Kill connections authenticated by <username>.",
    "    * SKIPME (YES|NO)",
    "      Skip killing current connection (default: yes).",
    "LIST [options ...]",
    "    Return information about client connections. Options:",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Return clients of specified type.",
    "UNPAUSE",
    "    Stop the current client pause, resuming traffic.",
    "PAUSE <timeout> [WRITE|ALL]",
    "    Suspend all, or just write, clients for <timeout> milliseconds.",
    "REPLY (ON|OFF|SKIP)",
    "    Control the replies sent to the current connection.",
    "SETNAME <name>",
    "    Assign the name <name> to the current connection.",
    "UNBLOCK <clientid> [TIMEOUT|ERROR]",
    "    Unblock the specified blocked client.",
    "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
    "         [OPTIN] [OPTOUT] [NOLOOP]",
    "    Control server assisted client side caching.",
    "TRACKINGINFO",
    "    Report tracking status for the current connection.",
    "NO-EVICT (ON|OFF)",
    "    Protect current client connection from eviction.",
]


@subcommand(CLIENT, "help", arity=2, flags="loading stale", since="5.0.0",
            summary="Show helpful text about the different subcommands", complexity="O(1)")
def client_help(c, argv):
    return help_reply("CLIENT", _HELP)


@subcommand(CLIENT, "id", arity=2, flags="noscript loading stale", since="5.0.0",
            summary="Returns the client ID for the current connection", complexity="O(1)")
def client_id(c, argv):
    return c.id


@subcommand(CLIENT, "info", arity=2, flags="noscript loading stale", since="6.2.0",
            summary="Returns information about the current client connection.",
            complexity="O(1)", tips="nondeterministic_output")
def client_info(c, argv):
    return _clients_text((c,), c)


@subcommand(CLIENT, "list", arity=-2, flags="admin noscript loading stale", since="2.4.0",
            summary="Get the list of client connections",
            complexity="O(N) where N is the number of client connections",
            args="[TYPE NORMAL|MASTER|REPLICA|PUBSUB] [ID client-id:integer ...]",
            tips="nondeterministic_output",
            history=(("2.8.12", "Added unique client `id` field."),
                     ("5.0.0", "Added optional `TYPE` filter."),
                     ("6.0.0", "Added `user` field."),
                     ("6.2.0", "Added `argv-mem`, `tot-mem`, `laddr` and `redir` fields and the "
                               "optional `ID` filter."),
                     ("7.0.0", "Added `resp`, `multi-mem`, `rbs` and `rbp` fields."),
                     ("7.0.3", "Added `ssub` field.")))
def client_list(c, argv):
    clients = c.server.clients
    n = len(argv)
    if n == 4 and argv[2].lower() == b"type":
        want = _TYPE_BY_NAME.get(argv[3].lower())
        if want is None:
            raise CommandError(f"ERR Unknown client type '{_s(argv[3])}'")
        return _clients_text([x for x in clients.values() if client_type(x) == want], c)
    if n > 3 and argv[2].lower() == b"id":
        chosen = []
        for a in argv[3:]:
            cid = to_int(a, "ERR Invalid client ID")
            x = clients.get(cid)
            if x is not None:
                chosen.append(x)
        return _clients_text(chosen, c)
    if n != 2:
        raise CommandError(errors.SYNTAX)
    return _clients_text(list(clients.values()), c)


@subcommand(CLIENT, "setname", arity=3, flags="noscript loading stale", since="2.6.9",
            summary="Set the current connection name", complexity="O(1)",
            args="connection-name")
def client_setname(c, argv):
    validate_client_name(argv[2])
    c.name = argv[2]
    return OK


@subcommand(CLIENT, "getname", arity=2, flags="noscript loading stale", since="2.6.9",
            summary="Get the current connection name", complexity="O(1)")
def client_getname(c, argv):
    return c.name or None


def _user_exists(server, name: bytes) -> bool:
    users = getattr(server, "acl_users", None)  # set by ACL support, when it lands
    if users is None:
        return name == b"default"
    return name in users


@subcommand(CLIENT, "kill", arity=-3, flags="admin noscript loading stale", since="2.4.0",
            summary="Kill the connection of a client",
            complexity="O(N) where N is the number of client connections",
            args="ip-port|([ID client-id:integer] [TYPE NORMAL|MASTER|SLAVE|REPLICA|PUBSUB] "
                 "[USER username] [ADDR ip-port] [LADDR ip-port] [SKIPME yes-no])...",
            history=(("2.8.12", "Added new filter format."), ("2.8.12", "`ID` option."),
                     ("3.2.0", "Added `master` type in for `TYPE` option."),
                     ("5.0.0", "Replaced `slave` `TYPE` with `replica`. `slave` still supported "
                               "for backward compatibility."),
                     ("6.2.0", "`LADDR` option.")))
def client_kill(c, argv):
    addr = laddr = user = None
    ctype = -1
    cid = 0
    n = len(argv)
    if n == 3:
        # The old form CLIENT KILL addr: it may kill the caller too.
        addr = argv[2].decode("latin-1")
        skipme = False
    else:
        skipme = True
        i = 2
        while i < n:
            opt = argv[i].lower()
            if i + 1 >= n:
                raise CommandError(errors.SYNTAX)
            val = argv[i + 1]
            if opt == b"id":
                v = to_int(val, "ERR client-id should be greater than 0")
                if v < 1:
                    raise CommandError("ERR client-id should be greater than 0")
                cid = v
            elif opt == b"type":
                ctype = _TYPE_BY_NAME.get(val.lower(), -1)
                if ctype == -1:
                    raise CommandError(f"ERR Unknown client type '{_s(val)}'")
            elif opt == b"addr":
                addr = val.decode("latin-1")
            elif opt == b"laddr":
                laddr = val.decode("latin-1")
            elif opt == b"user":
                if not _user_exists(c.server, val):
                    raise CommandError(f"ERR No such user '{_s(val)}'")
                user = val
            elif opt == b"skipme":
                low = val.lower()
                if low == b"yes":
                    skipme = True
                elif low == b"no":
                    skipme = False
                else:
                    raise CommandError(errors.SYNTAX)
            else:
                raise CommandError(errors.SYNTAX)
            i += 2
    killed = 0
    close_me = False
    for x in list(c.server.clients.values()):
        if addr is not None and x.addr != addr:
            continue
        if laddr is not None and x.laddr != laddr:
            continue
        if ctype != -1 and client_type(x) != ctype:
            continue
        if cid and x.id != cid:
            continue
        if user is not None and x.user != user:
            continue
        if x is c:
            if skipme:
                continue
            close_me = True
        else:
            x.close()
        killed += 1
    # Closing ourselves waits until the reply is written.
    if close_me:
        c.close_after_reply = True
    if n == 3:
        if not killed:
            raise CommandError("ERR No such client")
        return OK
    return killed


@subcommand(CLIENT, "reply", arity=3, flags="noscript loading stale", since="3.2.0",
            summary="Instruct the server whether to reply to commands", complexity="O(1)",
            args="ON|OFF|SKIP")
def client_reply(c, argv):
    opt = argv[2].lower()
    if opt == b"on":
        c.reply_mode = REPLY_ON
        return OK
    if opt == b"off":
        c.reply_mode = REPLY_OFF
    elif opt == b"skip":
        if c.reply_mode != REPLY_OFF:
            c.reply_mode = REPLY_SKIP
    else:
        raise CommandError(errors.SYNTAX)
    # Inside EXEC the transaction's reply array needs an element (Redis would
    # break the protocol here); elsewhere this command itself gets no reply.
    return OK if c.in_exec else NOREPLY


def _on_off(argv: list[bytes]) -> bool:
    opt = argv[2].lower()
    if opt == b"on":
        return True
    if opt == b"off":
        return False
    raise CommandError(errors.SYNTAX)


@subcommand(CLIENT, "no-evict", arity=3, flags="admin noscript loading stale", since="7.0.0",
            summary="Set client eviction mode for the current connection", complexity="O(1)",
            args="ON|OFF")
def client_no_evict(c, argv):
    c.no_evict = _on_off(argv)
    return OK


@subcommand(CLIENT, "no-touch", arity=3, flags="noscript loading stale", since="7.2.0",
            summary="Controls whether commands sent by the client affect the LRU/LFU of "
                    "accessed keys.", complexity="O(1)", args="ON|OFF")
def client_no_touch(c, argv):
    c.no_touch = _on_off(argv)
    return OK


@subcommand(CLIENT, "setinfo", arity=4, flags="noscript loading stale", since="7.2.0",
            summary="Sets information specific to the client or connection.",
            complexity="O(1)", args="LIB-NAME libname|LIB-VER libver",
            tips="request_policy:all_nodes response_policy:all_succeeded")
def client_setinfo(c, argv):
    attr = argv[2].lower()
    if attr not in (b"lib-name", b"lib-ver"):
        raise CommandError(f"ERR Unrecognized option '{_s(argv[2])}'")
    val = argv[3]
    if not _printable(val):
        raise CommandError(
            f"ERR {_s(argv[2])} cannot contain spaces, newlines or special characters.")
    if attr == b"lib-name":
        c.lib_name = val
    else:
        c.lib_ver = val
    return OK


# Far enough to mean "until UNPAUSE", near enough for the event loop's timers.
_MAX_PAUSE_S = 10**9


@subcommand(CLIENT, "pause", arity=-3, flags="admin noscript loading stale", since="2.9.50",
            summary="Stop processing commands from clients for some time",
            complexity="O(1)", args="timeout:integer [WRITE|ALL]",
            history=(("6.2.0", "`CLIENT PAUSE WRITE` mode added along with the `mode` option."),))
def client_pause(c, argv):
    n = len(argv)
    if n > 4:
        raise subcommand_syntax_error(argv)
    all_commands = True
    if n == 4:
        mode = argv[3].lower()
        if mode == b"write":
            all_commands = False
        elif mode != b"all":
            raise CommandError("ERR CLIENT PAUSE mode must be WRITE or ALL")
    ms = to_int(argv[2], "ERR timeout is not an integer or out of range")
    if ms < 0:
        raise CommandError("ERR timeout is negative")
    c.server.pause(min(ms / 1000, _MAX_PAUSE_S), all_commands)
    return OK


@subcommand(CLIENT, "unpause", arity=2, flags="admin noscript loading stale", since="6.2.0",
            summary="Resume processing of clients that were paused",
            complexity="O(N) Where N is the number of paused clients")
def client_unpause(c, argv):
    c.server.unpause()
    return OK


@subcommand(CLIENT, "unblock", arity=-3, flags="admin noscript loading stale", since="5.0.0",
            summary="Unblock a client blocked in a blocking command from a different connection",
            complexity="O(log N) where N is the number of client connections",
            args="client-id:integer [TIMEOUT|ERROR]")
def client_unblock(c, argv):
    n = len(argv)
    if n > 4:
        raise subcommand_syntax_error(argv)
    error = False
    if n == 4:
        why = argv[3].lower()
        if why == b"error":
            error = True
        elif why != b"timeout":
            raise CommandError("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR")
    cid = to_int(argv[2])
    target = c.server.clients.get(cid)
    if target is None or target.blocked is None:
        return 0
    return 1 if c.server.blocking.unblock(target, error) else 0


@subcommand(CLIENT, "getredir", arity=2, flags="noscript loading stale", since="6.0.0",
            summary="Get tracking notifications redirection client ID if any",
            complexity="O(1)")
def client_getredir(c, argv):
    tr = c.tracking
    return -1 if tr is None else getattr(tr, "redirect", 0)


@subcommand(CLIENT, "trackinginfo", arity=2, flags="noscript loading stale", since="6.2.0",
            summary="Return information about server assisted client side caching for the "
                    "current connection", complexity="O(1)")
def client_trackinginfo(c, argv):
    # The tracking state (kvserver.tracking, when it lands) is read through
    # these attribute names: bcast, optin, optout, caching, noloop,
    # broken_redirect, redirect, prefixes.
    tr = c.tracking
    if tr is None:
        return {b"flags": SetReply([b"off"]), b"redirect": -1, b"prefixes": []}
    flags = [b"on"]
    if getattr(tr, "bcast", False):
        flags.append(b"bcast")
    if getattr(tr, "optin", False):
        flags.append(b"optin")
        if getattr(tr, "caching", False):
            flags.append(b"caching-yes")
    if getattr(tr, "optout", False):
        flags.append(b"optout")
        if getattr(tr, "caching", False):
            flags.append(b"caching-no")
    if getattr(tr, "noloop", False):
        flags.append(b"noloop")
    if getattr(tr, "broken_redirect", False):
        flags.append(b"broken_redirect")
    return {b"flags": SetReply(flags), b"redirect": getattr(tr, "redirect", 0),
            b"prefixes": sorted(getattr(tr, "prefixes", ()))}


def _s(b: bytes) -> str:
    return b.decode("utf-8", "replace")
