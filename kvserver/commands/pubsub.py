"""Pub/sub commands: (P|S)SUBSCRIBE, (P|S)UNSUBSCRIBE, PUBLISH, SPUBLISH, PUBSUB.

The registry and delivery are in kvserver.pubsub, keyspace notifications in
kvserver.notify. A (un)subscribe command answers with one message per
channel (arrays in RESP2, pushes in RESP3); like Redis's CLIENT_PUSHING these
are sent even under CLIENT REPLY OFF/SKIP, so the handler writes them to the
client's output itself (inside EXEC they become the transaction's reply
element, the way Redis appends them there).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kvserver import notify  # noqa: F401  (installs the keyspace event publisher)
from kvserver import pubsub as _pubsub
from kvserver.commands.command_cmd import KEY_FLAGS
from kvserver.commands.connection import RESET_HOOKS
from kvserver.commands.server_cmds import help_reply, subcommand_syntax_error
from kvserver.connection import REPLY_ON, REPLY_SKIP
from kvserver.errors import CommandError
from kvserver.info import register_info_fields
from kvserver.resp import NOREPLY, Push, Raw, encode
from kvserver.server import Server
from kvserver.table import command, container, subcommand

if TYPE_CHECKING:
    from kvserver.connection import Client

# Shard channels are declared as keys (for cluster routing) flagged not_key.
KEY_FLAGS.update({"ssubscribe": [["not_key"]], "sunsubscribe": [["not_key"]],
                  "spublish": [["not_key"]]})


def _reply_pushes(c: Client, msgs: list[Push]) -> object:
    """Send (un)subscribe confirmations whatever CLIENT REPLY says."""
    data = b"".join([encode(m, c.resp3) for m in msgs])
    if c.in_exec:
        return Raw(data)
    c.out.append(data)
    if c.reply_mode == REPLY_SKIP:
        c.reply_mode = REPLY_ON  # the skipped reply was this command's
    return NOREPLY


def _count(c: Client) -> int:
    """clientSubscriptionsCount: channels and patterns (shard channels apart)."""
    return len(c.channels) + len(c.patterns)


# -- SUBSCRIBE / UNSUBSCRIBE -------------------------------------------------------------

@command("subscribe", arity=-2, flags="pubsub noscript loading stale", group="pubsub",
         since="2.0.0", summary="Listen for messages published to the given channels",
         complexity="O(N) where N is the number of channels to subscribe to.",
         args="channel...")
def subscribe(c, argv):
    ps = c.server.pubsub
    out = []
    for ch in argv[1:]:
        ps.subscribe(c, ch)
        out.append(Push([b"subscribe", ch, _count(c)]))
    return _reply_pushes(c, out)


@command("unsubscribe", arity=-1, flags="pubsub noscript loading stale", group="pubsub",
         since="2.0.0", summary="Stop listening for messages posted to the given channels",
         complexity="O(N) where N is the number of clients already subscribed to a channel.",
         args="[channel...]")
def unsubscribe(c, argv):
    ps = c.server.pubsub
    out = []
    for ch in argv[1:] or list(c.channels):
        ps.unsubscribe(c, ch)
        out.append(Push([b"unsubscribe", ch, _count(c)]))
    if not out:  # subscribed to nothing: still a reply
        out.append(Push([b"unsubscribe", None, _count(c)]))
    return _reply_pushes(c, out)


@command("psubscribe", arity=-2, flags="pubsub noscript loading stale", group="pubsub",
         since="2.0.0",
         summary="Listen for messages published to channels matching the given patterns",
         complexity="O(N) where N is the number of patterns the client is already "
                    "subscribed to.",
         args="pattern:pattern...")
def psubscribe(c, argv):
    ps = c.server.pubsub
    out = []
    for p in argv[1:]:
        ps.psubscribe(c, p)
        out.append(Push([b"psubscribe", p, _count(c)]))
    return _reply_pushes(c, out)


@command("punsubscribe", arity=-1, flags="pubsub noscript loading stale", group="pubsub",
         since="2.0.0",
         summary="Stop listening for messages posted to channels matching the given patterns",
         complexity="O(N+M) where N is the number of patterns the client is already "
                    "subscribed and M is the number of total patterns subscribed in the "
                    "system (by any client).",
         args="[pattern:pattern...]")
def punsubscribe(c, argv):
    ps = c.server.pubsub
    out = []
    for p in argv[1:] or list(c.patterns):
        ps.punsubscribe(c, p)
        out.append(Push([b"punsubscribe", p, _count(c)]))
    if not out:
        out.append(Push([b"punsubscribe", None, _count(c)]))
    return _reply_pushes(c, out)


@command("ssubscribe", arity=-2, flags="pubsub noscript loading stale", keys=(1, -1, 1),
         group="pubsub", since="7.0.0",
         summary="Listen for messages published to the given shard channels",
         complexity="O(N) where N is the number of shard channels to subscribe to.",
         args="shardchannel...")
def ssubscribe(c, argv):
    if c.in_exec or c.in_script:
        # CLIENT_DENY_BLOCKING: unlike SUBSCRIBE, no exception for MULTI.
        raise CommandError("ERR SSUBSCRIBE isn't allowed for a DENY BLOCKING client")
    ps = c.server.pubsub
    out = []
    for ch in argv[1:]:
        ps.ssubscribe(c, ch)
        out.append(Push([b"ssubscribe", ch, len(c.shard_channels)]))
    return _reply_pushes(c, out)


@command("sunsubscribe", arity=-1, flags="pubsub noscript loading stale", keys=(1, -1, 1),
         group="pubsub", since="7.0.0",
         summary="Stop listening for messages posted to the given shard channels",
         complexity="O(N) where N is the number of clients already subscribed to a shard "
                    "channel.",
         args="[shardchannel...]")
def sunsubscribe(c, argv):
    ps = c.server.pubsub
    out = []
    for ch in argv[1:] or list(c.shard_channels):
        ps.sunsubscribe(c, ch)
        out.append(Push([b"sunsubscribe", ch, len(c.shard_channels)]))
    if not out:
        out.append(Push([b"sunsubscribe", None, len(c.shard_channels)]))
    return _reply_pushes(c, out)


# -- PUBLISH -----------------------------------------------------------------------------

@command("publish", arity=3, flags="pubsub loading stale fast", group="pubsub",
         since="2.0.0", summary="Post a message to a channel",
         complexity="O(N+M) where N is the number of clients subscribed to the receiving "
                    "channel and M is the total number of subscribed patterns (by any "
                    "client).",
         args="channel message")
def publish(c, argv):
    return c.server.pubsub.publish(argv[1], argv[2])


@command("spublish", arity=3, flags="pubsub loading stale fast", keys=(1, 1, 1),
         group="pubsub", since="7.0.0", summary="Post a message to a shard channel",
         complexity="O(N) where N is the number of clients subscribed to the receiving "
                    "shard channel.",
         args="shardchannel message")
def spublish(c, argv):
    return c.server.pubsub.spublish(argv[1], argv[2])


# -- PUBSUB -------------------------------------------------------------------------------

PUBSUB = container("pubsub", group="pubsub", since="2.8.0",
                   summary="A container for Pub/Sub commands")

_HELP = [
    "CHANNELS [<pattern>]",
    "    Return the currently active channels matching a <pattern> (default: '*').",
    "NUMPAT",
    "    Return number of subscriptions to patterns.",
    "NUMSUB [<channel> ...]",
    "    Return the number of subscribers for the specified channels, excluding",
    "    pattern subscriptions(default: no channels).",
    "SHARDCHANNELS [<pattern>]",
    "    Return the currently active shard level channels matching a <pattern> "
    "(default: '*').",
    "SHARDNUMSUB [<shardchannel> ...]",
    "    Return the number of subscribers for the specified shard level channel(s)",
]


# Declared in the order Redis 7.0 lists them (COMMAND INFO / DOCS).

def _channel_list(argv: list[bytes], registry: dict) -> list[bytes]:
    if len(argv) > 3:
        raise subcommand_syntax_error(argv)
    if len(argv) == 2:
        return list(registry)
    match = _pubsub.matcher(argv[2])
    return [ch for ch in registry if match(ch)]


@subcommand(PUBSUB, "numpat", arity=2, flags="pubsub loading stale", since="2.8.0",
            summary="Get the count of unique patterns pattern subscriptions",
            complexity="O(1)")
def pubsub_numpat(c, argv):
    return len(c.server.pubsub.patterns)


@subcommand(PUBSUB, "numsub", arity=-2, flags="pubsub loading stale", since="2.8.0",
            summary="Get the count of subscribers for channels",
            complexity="O(N) for the NUMSUB subcommand, where N is the number of requested "
                       "channels",
            args="[channel...]")
def pubsub_numsub(c, argv):
    ps = c.server.pubsub
    out: list = []
    for ch in argv[2:]:
        out += (ch, ps.numsub(ch))
    return out


@subcommand(PUBSUB, "shardchannels", arity=-2, flags="pubsub loading stale", since="7.0.0",
            summary="List active shard channels",
            complexity="O(N) where N is the number of active shard channels, and assuming "
                       "constant time pattern matching (relatively short shard channels).",
            args="[pattern:pattern]")
def pubsub_shardchannels(c, argv):
    return _channel_list(argv, c.server.pubsub.shard_channels)


@subcommand(PUBSUB, "shardnumsub", arity=-2, flags="pubsub loading stale", since="7.0.0",
            summary="Get the count of subscribers for shard channels",
            complexity="O(N) for the SHARDNUMSUB subcommand, where N is the number of "
                       "requested shard channels",
            args="[shardchannel...]")
def pubsub_shardnumsub(c, argv):
    ps = c.server.pubsub
    out: list = []
    for ch in argv[2:]:
        out += (ch, ps.shard_numsub(ch))
    return out


@subcommand(PUBSUB, "channels", arity=-2, flags="pubsub loading stale", since="2.8.0",
            summary="List active channels",
            complexity="O(N) where N is the number of active channels, and assuming constant "
                       "time pattern matching (relatively short channels and patterns)",
            args="[pattern:pattern]")
def pubsub_channels(c, argv):
    return _channel_list(argv, c.server.pubsub.channels)


@subcommand(PUBSUB, "help", arity=2, flags="loading stale", since="6.2.0", acl="",
            summary="Show helpful text about the different subcommands", complexity="O(1)")
def pubsub_help(c, argv):
    return help_reply("PUBSUB", _HELP)


# -- hooks ----------------------------------------------------------------------------------

def _reset(c: Client) -> None:
    """RESET leaves every channel without a word (Redis: notify=0)."""
    if c.subscriptions:
        c.server.pubsub.unsubscribe_all(c)


def _info_stats(srv: Server) -> dict:
    ps = srv.pubsub
    return {"pubsub_channels": len(ps.channels), "pubsub_patterns": len(ps.patterns),
            "pubsubshard_channels": len(ps.shard_channels)}


Server.client_close_hooks.append(_pubsub.client_closed)
RESET_HOOKS.append(_reset)
register_info_fields("stats", _info_stats)
