"""CLIENT TRACKING and CLIENT CACHING (server-assisted client-side caching).

The state and the invalidation logic are in kvserver.tracking; CLIENT GETREDIR
and CLIENT TRACKINGINFO (kvserver.commands.client) read the client's
TrackingState. Options are parsed in Redis's order and refused with its texts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kvserver import errors, tracking
from kvserver.args import to_int
from kvserver.commands.client import CLIENT
from kvserver.commands.connection import RESET_HOOKS
from kvserver.commands.server_cmds import FLUSH_HOOKS
from kvserver.errors import CommandError
from kvserver.info import register_info_fields
from kvserver.resp import OK
from kvserver.server import Server
from kvserver.table import subcommand

if TYPE_CHECKING:
    from kvserver.connection import Client


def _s(b: bytes) -> str:
    return errors._raw(errors._c_string(b))


def _overlap(a: bytes, b: bytes) -> bool:
    """Two prefixes overlap when one starts the other (stringCheckPrefix)."""
    n = min(len(a), len(b))
    return a[:n] == b[:n]


def _check_prefixes(c: Client, prefixes: list[bytes]) -> None:
    """checkPrefixCollisionsOrReply. (Redis 7.0 replies an error and then also
    enables tracking and replies OK when the clash is between two new prefixes
    after the first: two replies to one command. Here it is only the error.)"""
    mine = sorted(c.tracking.prefixes) if c.tracking is not None else []
    for i, p in enumerate(prefixes):
        for old in mine:
            if _overlap(old, p):
                raise CommandError(
                    f"ERR Prefix '{_s(p)}' overlaps with an existing prefix '{_s(old)}'. "
                    "Prefixes for a single client must not overlap.")
        for q in prefixes[i + 1:]:
            if _overlap(p, q):
                raise CommandError(
                    f"ERR Prefix '{_s(p)}' overlaps with another provided prefix '{_s(q)}'. "
                    "Prefixes for a single client must not overlap.")


@subcommand(CLIENT, "tracking", arity=-3, flags="noscript loading stale", since="6.0.0",
            summary="Enable or disable server assisted client side caching support",
            complexity="O(1). Some options may introduce additional complexity.",
            args="ON|OFF [REDIRECT client-id:integer] [PREFIX prefix [PREFIX prefix ...]] "
                 "[BCAST] [OPTIN] [OPTOUT] [NOLOOP]")
def client_tracking(c, argv):
    redirect = 0
    bcast = optin = optout = noloop = False
    prefixes: list[bytes] = []
    srv = c.server
    n = len(argv)
    j = 3
    while j < n:
        opt = argv[j].lower()
        more = n - 1 - j
        if opt == b"redirect" and more:
            j += 1
            if redirect:
                raise CommandError("ERR A client can only redirect to a single other client")
            redirect = to_int(argv[j])
            if redirect not in srv.clients:
                raise CommandError("ERR The client ID you want redirect to does not exist")
        elif opt == b"bcast":
            bcast = True
        elif opt == b"optin":
            optin = True
        elif opt == b"optout":
            optout = True
        elif opt == b"noloop":
            noloop = True
        elif opt == b"prefix" and more:
            j += 1
            prefixes.append(argv[j])
        else:
            raise CommandError(errors.SYNTAX)
        j += 1
    mode = argv[2].lower()
    if mode == b"off":
        srv.tracking.disable(c)
        return OK
    if mode != b"on":
        raise CommandError(errors.SYNTAX)
    tr = c.tracking
    if prefixes and not bcast:
        raise CommandError("ERR PREFIX option requires BCAST mode to be enabled")
    if tr is not None and tr.bcast != bcast:
        raise CommandError("ERR You can't switch BCAST mode on/off before disabling tracking "
                           "for this client, and then re-enabling it with a different mode.")
    if bcast and (optin or optout):
        raise CommandError("ERR OPTIN and OPTOUT are not compatible with BCAST")
    if optin and optout:
        raise CommandError("ERR You can't specify both OPTIN mode and OPTOUT mode")
    if tr is not None and ((optin and tr.optout) or (optout and tr.optin)):
        raise CommandError("ERR You can't switch OPTIN/OPTOUT mode before disabling tracking "
                           "for this client, and then re-enabling it with a different mode.")
    if bcast:
        _check_prefixes(c, prefixes)
    srv.tracking.enable(c, redirect, bcast, optin, optout, noloop, prefixes)
    return OK


@subcommand(CLIENT, "caching", arity=3, flags="noscript loading stale", since="6.0.0",
            summary="Instruct the server about tracking or not keys in the next request",
            complexity="O(1)", args="YES|NO")
def client_caching(c, argv):
    tr = c.tracking
    if tr is None:
        raise CommandError("ERR CLIENT CACHING can be called only when the client is in "
                           "tracking mode with OPTIN or OPTOUT mode enabled")
    opt = argv[2].lower()
    if opt == b"yes":
        if not tr.optin:
            raise CommandError("ERR CLIENT CACHING YES is only valid when tracking is enabled "
                               "in OPTIN mode.")
    elif opt == b"no":
        if not tr.optout:
            raise CommandError("ERR CLIENT CACHING NO is only valid when tracking is enabled "
                               "in OPTOUT mode.")
    else:
        raise CommandError(errors.SYNTAX)
    tr.caching = True
    return OK


def _info_stats(srv: Server) -> dict:
    t = srv.tracking
    return {"tracking_total_keys": len(t.table), "tracking_total_items": t.total_items,
            "tracking_total_prefixes": len(t.prefixes)}


Server.client_close_hooks.append(tracking.client_closed)
Server.start_hooks.append(tracking.on_start)
RESET_HOOKS.append(tracking.client_reset)
FLUSH_HOOKS.append(tracking.flushed)
register_info_fields("stats", _info_stats)
