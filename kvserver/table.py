"""The command table: every command declared once, next to its handler.

    @command("setrange", arity=4, flags="write denyoom", keys=(1, 1, 1),
             group="string", since="2.2.0", summary="...", complexity="O(1)",
             args="key offset:integer value")
    def setrange(c: Client, argv: list[bytes]) -> Reply: ...

Dispatch reads arity and flags from here; COMMAND INFO/DOCS/LIST/COUNT/GETKEYS
answer from here. Subcommand containers (CLIENT, CONFIG, OBJECT, ...) are
declared with `container(...)` and their subcommands with `@subcommand(...)`.
`args` uses the summary syntax of the Redis docs (see kvserver/docs.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kvserver.errors import CommandError

Handler = Callable[..., object]

# Redis 7.0 command flags (COMMAND INFO spells them in lower case).
KNOWN_FLAGS = frozenset(
    "write readonly denyoom module admin pubsub noscript blocking loading stale "
    "skip_monitor skip_slowlog asking fast no_auth may_replicate no_mandatory_keys "
    "no_multi movablekeys allow_busy".split()
)

_GROUP_ACL = {
    "string": "@string",
    "generic": "@keyspace",
    "list": "@list",
    "hash": "@hash",
    "set": "@set",
    "sorted_set": "@sortedset",
    "bitmap": "@bitmap",
    "hyperloglog": "@hyperloglog",
    "geo": "@geo",
    "stream": "@stream",
    "pubsub": "@pubsub",
    "connection": "@connection",
    "transactions": "@transaction",
    "scripting": "@scripting",
}


class CommandSpec:
    """One command or subcommand, with its metadata and its statistics."""

    __slots__ = (
        "name", "fullname", "handler", "arity", "flags", "first_key", "last_key",
        "key_step", "group", "since", "summary", "complexity", "args", "doc_flags",
        "tips", "getkeys", "subcommands", "parent", "acl_categories", "history",
        "is_write", "is_readonly", "is_denyoom", "is_noauth", "is_fast",
        "is_admin", "is_blocking", "is_noscript", "is_loading", "is_stale",
        "skip_monitor", "skip_slowlog", "is_no_multi", "allow_busy",
        "calls", "usec", "rejected_calls", "failed_calls", "precheck", "simple", "top_name",
        "min_argc",
    )

    def __init__(self, name: str, handler: Handler | None, arity: int, flags: str,
                 keys: tuple[int, int, int], group: str, since: str, summary: str,
                 complexity: str, args: str, doc_flags: str, tips: str,
                 getkeys: Callable[[list[bytes]], list[int]] | None,
                 parent: CommandSpec | None = None, acl: str | None = None,
                 history: tuple[tuple[str, str], ...] = ()) -> None:
        self.name = name
        self.parent = parent
        self.fullname = f"{parent.name}|{name}" if parent else name
        # The name a client typed first (CLIENT for client|list): what MULTI
        # and subscribed mode judge, never a subcommand's own name.
        self.top_name = (parent.name if parent else name).encode()
        self.handler = handler
        self.arity = arity
        # A valid argument count n is `n == arity or n >= min_argc`: one test
        # for both kinds of arity (exact when positive, a minimum when negative).
        self.min_argc = -arity if arity < 0 else 1 << 62
        fl = flags.split()
        unknown = set(fl) - KNOWN_FLAGS
        if unknown:
            raise ValueError(f"{name}: unknown flags {unknown}")
        if getkeys is not None and "movablekeys" not in fl:
            fl.append("movablekeys")
        self.flags = fl
        self.first_key, self.last_key, self.key_step = keys
        self.group = group
        self.since = since
        self.summary = summary
        self.complexity = complexity
        self.args = args
        self.doc_flags = doc_flags.split()
        self.tips = tips.split()
        self.history = history  # COMMAND DOCS: ((since, what changed), ...)
        self.getkeys = getkeys
        self.subcommands: dict[bytes, CommandSpec] = {}
        s = set(fl)
        self.is_write = "write" in s
        self.is_readonly = "readonly" in s
        self.is_denyoom = "denyoom" in s
        self.is_noauth = "no_auth" in s
        self.is_fast = "fast" in s
        self.is_admin = "admin" in s
        self.is_blocking = "blocking" in s
        self.is_noscript = "noscript" in s
        self.is_loading = "loading" in s
        self.is_stale = "stale" in s
        self.skip_monitor = "skip_monitor" in s
        self.skip_slowlog = "skip_slowlog" in s
        self.is_no_multi = "no_multi" in s
        self.allow_busy = "allow_busy" in s
        # `acl`: the categories Redis's commands/*.json list, instead of the group's.
        explicit = None if acl is None else [
            c if c.startswith("@") else "@" + c for c in acl.split()]
        self.acl_categories = self._acl_categories(s, group, explicit)
        # precheck(c) -> CommandError | None: a refusal dispatch applies before
        # the command is queued or run (DEBUG's enable-debug-command check).
        self.precheck: Callable[..., CommandError | None] | None = None
        # simple: a data command that never changes the calling client's state
        # (no MULTI, auth, subscriptions, blocking, reply mode...), so a plain
        # client may run it on the connection's hot path (kvserver.connection).
        # command(simple=True) marks others so (PING, ECHO).
        self.simple = (handler is not None and group in _DATA_GROUPS and parent is None
                       and "blocking" not in s)
        self.reset_stats()

    @staticmethod
    def _acl_categories(flags: set[str], group: str,
                        explicit: list[str] | None = None) -> list[str]:
        cats = []
        if "write" in flags:
            cats.append("@write")
        scripting = group == "scripting" if explicit is None else "@scripting" in explicit
        if "readonly" in flags and not scripting:
            cats.append("@read")
        if explicit is None:
            if group in _GROUP_ACL:
                cats.append(_GROUP_ACL[group])
        else:
            cats += [c for c in explicit if c not in cats]
        if "admin" in flags:
            cats += ["@admin", "@dangerous"]
        if "pubsub" in flags and "@pubsub" not in cats:
            cats.append("@pubsub")
        cats.append("@fast" if "fast" in flags else "@slow")
        if "blocking" in flags:
            cats.append("@blocking")
        return cats

    def reset_stats(self) -> None:
        self.calls = 0
        self.usec = 0
        self.rejected_calls = 0
        self.failed_calls = 0

    def key_positions(self, argv: list[bytes]) -> list[int]:
        """Indexes of the key arguments in argv (COMMAND GETKEYS, WATCH, ...)."""
        if self.getkeys is not None:
            return self.getkeys(argv)
        if self.first_key <= 0:
            return []
        last = self.last_key if self.last_key >= 0 else len(argv) + self.last_key
        return list(range(self.first_key, min(last, len(argv) - 1) + 1, self.key_step))

    def __repr__(self) -> str:
        return f"<command {self.fullname}>"


# Groups whose commands only read and write data (see CommandSpec.simple).
_DATA_GROUPS = frozenset(("string", "bitmap", "list", "hash", "set", "sorted_set", "generic",
                          "hyperloglog", "geo"))

# The table dispatch looks commands up in: lower-case name (bytes) -> spec.
TABLE: dict[bytes, CommandSpec] = {}


def command(name: str, *, arity: int, flags: str = "", keys: tuple[int, int, int] = (0, 0, 0),
            group: str, since: str = "1.0.0", summary: str = "", complexity: str = "",
            args: str = "", doc_flags: str = "", tips: str = "",
            getkeys: Callable[[list[bytes]], list[int]] | None = None,
            acl: str | None = None, history: tuple[tuple[str, str], ...] = (),
            simple: bool = False):
    """Declare a top-level command; decorates its handler.

    `acl`: the ACL categories Redis's commands/*.json list ("@keyspace @dangerous"),
    replacing the one the group implies (those the flags imply are always added);
    `history`: COMMAND DOCS's ((version, change), ...); `simple`: a command
    outside the data groups that, for a plain client, never changes the
    client's state either (PING, ECHO): see CommandSpec.simple."""

    def register(fn: Handler) -> Handler:
        key = name.encode()
        if key in TABLE:
            raise ValueError(f"command {name} declared twice")
        spec = TABLE[key] = CommandSpec(name, fn, arity, flags, keys, group, since, summary,
                                        complexity, args, doc_flags, tips, getkeys, acl=acl,
                                        history=history)
        if simple:
            spec.simple = True
        return fn

    return register


def container(name: str, *, group: str, since: str, summary: str,
              complexity: str = "Depends on subcommand.", flags: str = "",
              arity: int = -2, handler: Handler | None = None, tips: str = "",
              acl: str = "") -> CommandSpec:
    """Declare a command that only dispatches to subcommands (CLIENT, CONFIG, ...).

    A container that also runs on its own (COMMAND) passes arity=-1 and the
    handler for the bare form. Containers have no ACL category of their group
    (Redis gives them only @slow)."""
    key = name.encode()
    if key in TABLE:
        raise ValueError(f"command {name} declared twice")
    spec = CommandSpec(name, handler, arity, flags, (0, 0, 0), group, since, summary,
                       complexity, "", "", tips, None, acl=acl)
    TABLE[key] = spec
    return spec


def subcommand(parent: CommandSpec, name: str, *, arity: int, flags: str = "",
               keys: tuple[int, int, int] = (0, 0, 0), since: str = "",
               summary: str = "", complexity: str = "", args: str = "",
               doc_flags: str = "", tips: str = "",
               getkeys: Callable[[list[bytes]], list[int]] | None = None,
               group: str | None = None, acl: str | None = None,
               history: tuple[tuple[str, str], ...] = ()):
    """Declare a subcommand of a container; decorates its handler."""

    def register(fn: Handler) -> Handler:
        key = name.encode()
        if key in parent.subcommands:
            raise ValueError(f"subcommand {parent.name}|{name} declared twice")
        parent.subcommands[key] = CommandSpec(
            name, fn, arity, flags, keys, group or parent.group, since or parent.since,
            summary, complexity, args, doc_flags, tips, getkeys, parent, acl=acl,
            history=history)
        return fn

    return register


def all_commands():
    """Every spec, subcommands included (for stats and CONFIG RESETSTAT)."""
    for spec in TABLE.values():
        yield spec
        yield from spec.subcommands.values()
