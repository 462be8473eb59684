"""COMMAND and its subcommands: the command table, as clients and redis-cli see it.

Everything here is derived from the declarations in kvserver.table:

- COMMAND / COMMAND INFO: name, arity, flags, first/last/step, ACL categories,
  tips, key specs and subcommands (Redis 7.0's addReplyCommandInfo).
- COMMAND DOCS: summary, since, group, complexity, doc flags, arguments (from
  the `args` summary syntax, parsed by kvserver.docs) and subcommands.
  redis-cli builds its hints from this reply and asserts on its shape.
- Key specs come from the arguments when they tell where the keys are
  (`source:key destination:key`, `numkeys:integer key...`, `[STORE key]`), and
  from the declared first/last/step otherwise, as a single range spec. The
  access flags of a key spec (RO/RW/OW/RM, access/update/insert/delete) are
  not declared: Redis's own values are listed in _KEY_FLAGS below, and other
  commands get the worst case their command flags allow (RO+access for
  read-only commands, RW+access+update otherwise), as Redis says of EVAL.

The derived metadata of each spec is computed once, on first use. A malformed
`args` string never breaks COMMAND DOCS: that command is shown without
arguments (tests/test_command.py parses every declaration and names the bad ones).
"""

from __future__ import annotations

from kvserver import errors
from kvserver.docs import (
    Arg,
    DocsSyntaxError,
    KeySpec,
    key_specs_from_args,
    legacy_range,
    parse_args,
)
from kvserver.errors import CommandError
from kvserver.glob import glob_match
from kvserver.resp import SetReply, Status
from kvserver.table import TABLE, CommandSpec, container, subcommand

# Reply orders Redis uses (server.c flag tables, acl.c ACLCommandCategories).
_FLAG_ORDER = ("write readonly denyoom module admin pubsub noscript blocking loading "
               "stale skip_monitor skip_slowlog asking fast no_auth no_mandatory_keys "
               "no_async_loading no_multi movablekeys allow_busy").split()
_ACL_ORDER = ("keyspace read write set sortedset list hash string bitmap hyperloglog geo "
              "stream pubsub admin fast slow blocking dangerous connection transaction "
              "scripting").split()
_KEY_FLAG_ORDER = ("RO RW OW RM access update insert delete not_key incomplete "
                   "variable_flags").split()
_DOC_FLAG_ORDER = ("deprecated", "syscmd")
_STATUS = {f: Status(f.encode()) for f in
           _FLAG_ORDER + _KEY_FLAG_ORDER + list(_DOC_FLAG_ORDER)}
_ACL_STATUS = {"@" + c: Status(b"@" + c.encode()) for c in _ACL_ORDER}

# Redis 7.0's key-spec flags where they differ from the worst case (see the
# module doc); "a, b" gives one set per key spec, in the order of the specs.
# (SORT's key specs for BY/GET patterns are not derived: its STORE spec is 2nd.)
_KEY_FLAGS_SRC = """
RO: exists hexists hlen hstrlen llen memory|usage object|encoding object|freq
    object|idletime object|refcount scard sismember strlen touch type watch xlen zcard
RW UPDATE: expire expireat geoadd hmset hset lset persist pexpire pexpireat setrange
    xack xadd xclaim xgroup|setid xsetid zadd
RW ACCESS DELETE: blmpop blpop brpop bzmpop bzpopmax bzpopmin getdel lmpop lpop rpop
    spop zmpop zpopmax zpopmin
RW DELETE: hdel lrem ltrim srem xautoclaim xdel xgroup|delconsumer xgroup|destroy
    xtrim zrem zremrangebylex zremrangebyrank zremrangebyscore
RW INSERT: append hsetnx linsert lpush lpushx pfadd rpush rpushx sadd xgroup|create
    xgroup|createconsumer
OW UPDATE, RO ACCESS: bitop geosearchstore sdiffstore sunionstore zdiffstore
    zinterstore zrangestore zunionstore
OW UPDATE: mset psetex restore restore-asking setex
RW ACCESS DELETE, RW INSERT: blmove brpoplpush lmove rpoplpush smove
RO ACCESS, OW UPDATE, OW UPDATE: georadius georadiusbymember
RM DELETE: del unlink
RW ACCESS UPDATE VARIABLE_FLAGS: bitfield set
RW ACCESS: pfcount pfdebug
OW INSERT: msetnx setnx
RW ACCESS DELETE, OW INSERT: renamenx
RW ACCESS DELETE, OW UPDATE: rename
RO ACCESS, OW UPDATE: sort
RW ACCESS DELETE, RW ACCESS DELETE INCOMPLETE: migrate
RW ACCESS INSERT, RO ACCESS: pfmerge
RW UPDATE, RO ACCESS: sinterstore
RO ACCESS: xreadgroup
RO ACCESS, OW UPDATE: copy
"""


def _parse_key_flags(src: str) -> dict[str, list[list[str]]]:
    out: dict[str, list[list[str]]] = {}
    current: list[list[str]] = []
    for line in src.strip().splitlines():
        if not line.startswith(" "):
            flags, _, names = line.partition(":")
            current = [[f if f in ("RO", "RW", "OW", "RM") else f.lower() for f in s.split()]
                       for s in flags.split(",")]
        else:
            names = line
        for name in names.split():
            out[name] = current
    return out


KEY_FLAGS = _parse_key_flags(_KEY_FLAGS_SRC)

# Commands whose keys Redis finds with their getkeys function, not their key
# specs (it declares an unknown or incomplete spec: SORT's BY/GET, MIGRATE's KEYS).
_KEYS_BY_GETKEYS = frozenset(("sort", "sort_ro", "migrate"))

# Where Redis's key spec starts its search for a keyword elsewhere than right
# after the fixed arguments: MIGRATE looks for KEYS from the end.
_KEYWORD_STARTFROM = {"migrate": -2}


def default_key_flags(spec: CommandSpec) -> list[str]:
    """The worst case a command's flags allow (what Redis says of EVAL/EVAL_RO)."""
    if spec.is_readonly and not spec.is_write:
        return ["RO", "access"]
    return ["RW", "access", "update"]


class CommandMeta:
    """What COMMAND derives from one declaration: arguments, key specs, replies."""

    __slots__ = ("spec", "args", "args_error", "key_specs", "_info", "_docs")

    def __init__(self, spec: CommandSpec) -> None:
        self.spec = spec
        self.args: list[Arg] = []
        self.args_error: str | None = None
        if spec.args:
            try:
                self.args = parse_args(spec.args)
            except DocsSyntaxError as e:
                self.args_error = str(e)
        self.key_specs = self._derive_key_specs()
        self._info: list | None = None
        self._docs: dict | None = None

    def _derive_key_specs(self) -> list[KeySpec]:
        spec = self.spec
        specs = key_specs_from_args(self.args, 2 if spec.parent else 1)
        if spec.getkeys is not None:
            usable = bool(specs)
        else:
            legacy = (spec.first_key, spec.last_key, spec.key_step)
            usable = specs is not None and legacy_range(specs) == legacy
        incomplete = False
        if not usable:
            # The arguments don't place the keys (or disagree with first/last/step):
            # one range spec from first/last/step, as for Redis's simple commands.
            specs = []
            if spec.first_key > 0:
                last = spec.last_key - spec.first_key if spec.last_key >= 0 else spec.last_key
                specs = [KeySpec(("index", spec.first_key), ("range", last, spec.key_step, 0))]
                # A movable command has keys elsewhere too.
                incomplete = spec.getkeys is not None
            for a in self.args:
                for x in a.walk():
                    x.key_spec_index = 0 if specs and x.type == "key" else -1
        startfrom = _KEYWORD_STARTFROM.get(spec.fullname)
        if startfrom is not None:
            specs = [KeySpec(("keyword", ks.begin[1], startfrom), ks.find)
                     if ks.begin[0] == "keyword" else ks for ks in specs]
        flags = KEY_FLAGS.get(spec.fullname)
        for i, ks in enumerate(specs):
            ks.flags = list(flags[min(i, len(flags) - 1)]) if flags else default_key_flags(spec)
            if incomplete and "incomplete" not in ks.flags:
                ks.flags.append("incomplete")
        return specs

    @property
    def has_keys(self) -> bool:
        """doesCommandHaveKeys: COMMAND GETKEYS refuses commands without."""
        return self.spec.getkeys is not None or bool(self.key_specs)

    # -- COMMAND INFO ------------------------------------------------------------

    def info(self) -> list:
        """addReplyCommandInfo (the subcommands' part is built by `command_info`)."""
        if self._info is None:
            spec = self.spec
            flags = set(spec.flags)
            cats = set(spec.acl_categories)
            self._info = [
                spec.fullname.encode(),
                spec.arity,
                SetReply([_STATUS[f] for f in _FLAG_ORDER if f in flags]),
                spec.first_key,
                spec.last_key,
                spec.key_step,
                SetReply([_ACL_STATUS[c] for c in _ACL_STATUS if c in cats]),
                SetReply([t.encode() for t in spec.tips]),
                SetReply([_key_spec_reply(ks) for ks in self.key_specs]),
            ]
        return self._info

    # -- COMMAND DOCS ------------------------------------------------------------

    def docs(self) -> dict:
        """addReplyCommandDocs, without the subcommands (added by `command_docs`)."""
        if self._docs is None:
            spec = self.spec
            d: dict = {b"summary": spec.summary.encode()}
            if spec.since:
                d[b"since"] = spec.since.encode()
            d[b"group"] = spec.group.replace("_", "-").encode()
            if spec.complexity:
                d[b"complexity"] = spec.complexity.encode()
            doc_flags = set(spec.doc_flags)
            if doc_flags:
                d[b"doc_flags"] = SetReply(
                    [_STATUS[f] for f in _DOC_FLAG_ORDER if f in doc_flags])
            if spec.history:
                d[b"history"] = SetReply([[v.encode(), what.encode()]
                                          for v, what in spec.history])
            if self.args:
                d[b"arguments"] = [a.to_doc() for a in self.args]
            self._docs = d
        return self._docs

    # -- COMMAND GETKEYS -------------------------------------------------------------

    def keys_with_flags(self, argv: list[bytes]) -> list[tuple[int, list[str]]] | None:
        """(index, flags) of each key in argv, or None if the arguments are invalid.

        As getKeysFromCommandWithSpecs: the key specs first, in their order; the
        command's getkeys function when a spec fails or cannot be trusted."""
        name = self.spec.fullname
        if self.key_specs and name not in _KEYS_BY_GETKEYS:
            out: list[tuple[int, list[str]]] | None = []
            for ks in self.key_specs:
                pos = ks.positions(argv)
                if pos is None or "incomplete" in ks.flags:
                    out = None
                    break
                out += [(p, ks.flags) for p in pos]
            if out is not None:
                if name in _VARIABLE_FLAGS:
                    flags = _VARIABLE_FLAGS[name](argv)
                    out = [(p, flags) for p, _ in out]
                return out
        if self.spec.getkeys is None:
            return None
        try:
            positions = list(self.spec.getkeys(argv))
        except Exception:  # a malformed command: Redis reports it the same way
            return None
        if any(p < 1 or p >= len(argv) for p in positions):
            return None
        if name not in _KEYS_BY_GETKEYS:
            return [(p, []) for p in positions]  # Redis's getkeys functions give no flags
        # SORT's and MIGRATE's give their keys' flags (those of the spec that finds them).
        by_pos: dict[int, list[str]] = {}
        for ks in self.key_specs:
            for p in ks.positions(argv) or ():
                by_pos.setdefault(p, [f for f in ks.flags if f != "incomplete"])
        default = self.key_specs[0].flags if self.key_specs else []
        return [(p, by_pos.get(p, default)) for p in positions]


def _set_key_flags(argv: list[bytes]) -> list[str]:
    """setGetKeys: SET reads the old value only with GET."""
    if any(a.lower() == b"get" for a in argv[3:]):
        return ["RW", "access", "update"]
    return ["OW", "update"]


def _bitfield_key_flags(argv: list[bytes]) -> list[str]:
    """bitfieldGetKeys: read-only when every operation is a complete GET."""
    i, n = 2, len(argv)
    while i < n:
        op, rem = argv[i].lower(), n - i - 1
        if op == b"get" and rem >= 2:
            i += 3
        elif op == b"overflow" and rem >= 1:
            i += 2
        else:  # SET / INCRBY, or a syntax error: assume it writes
            return ["RW", "access", "update"]
    return ["RO", "access"]


# Key flags Redis computes from the arguments (the spec says `variable_flags`).
_VARIABLE_FLAGS = {"set": _set_key_flags, "bitfield": _bitfield_key_flags}


def _key_spec_reply(ks: KeySpec) -> dict:
    d: dict = {}
    if ks.notes:
        d[b"notes"] = ks.notes.encode()
    d[b"flags"] = _key_flags_reply(ks.flags)
    b = ks.begin
    if b[0] == "index":
        d[b"begin_search"] = {b"type": b"index", b"spec": {b"index": b[1]}}
    elif b[0] == "keyword":
        d[b"begin_search"] = {b"type": b"keyword",
                              b"spec": {b"keyword": b[1].encode(), b"startfrom": b[2]}}
    else:
        d[b"begin_search"] = {b"type": b"unknown", b"spec": {}}
    f = ks.find
    if f[0] == "range":
        d[b"find_keys"] = {b"type": b"range", b"spec": {
            b"lastkey": f[1], b"keystep": f[2], b"limit": f[3]}}
    elif f[0] == "keynum":
        d[b"find_keys"] = {b"type": b"keynum", b"spec": {
            b"keynumidx": f[1], b"firstkey": f[2], b"keystep": f[3]}}
    else:
        d[b"find_keys"] = {b"type": b"unknown", b"spec": {}}
    return d


def _key_flags_reply(flags: list[str]) -> SetReply:
    have = set(flags)
    return SetReply([_STATUS[f] for f in _KEY_FLAG_ORDER if f in have])


_META: dict[CommandSpec, CommandMeta] = {}


def meta(spec: CommandSpec) -> CommandMeta:
    """The derived metadata of a spec (computed once)."""
    m = _META.get(spec)
    if m is None:
        m = _META[spec] = CommandMeta(spec)
    return m


def command_info(spec: CommandSpec) -> list:
    """The full COMMAND INFO entry of a command, its subcommands included."""
    entry = meta(spec).info()
    if spec.subcommands:
        return entry + [[meta(s).info() + [SetReply()] for s in spec.subcommands.values()]]
    return entry + [SetReply()]


def command_docs(spec: CommandSpec) -> dict:
    d = meta(spec).docs()
    if spec.subcommands:
        d = dict(d)
        d[b"subcommands"] = {s.fullname.encode(): command_docs(s)
                             for s in spec.subcommands.values()}
    return d


def lookup_by_name(name: bytes) -> CommandSpec | None:
    """lookupCommandBySds: "get", "config|get" (any case); None if unknown."""
    parts = name.split(b"|")
    if len(parts) > 2:
        return None
    cmd = TABLE.get(parts[0].lower())
    if cmd is None or len(parts) == 1:
        return cmd
    return cmd.subcommands.get(parts[1].lower())


def lookup_argv(argv: list[bytes]) -> CommandSpec | None:
    """lookupCommand: the command argv would run (its subcommand if any)."""
    cmd = TABLE.get(argv[0].lower())
    if cmd is None or len(argv) == 1 or not cmd.subcommands:
        return cmd
    return cmd.subcommands.get(argv[1].lower())


# -- the commands -------------------------------------------------------------------

def command_bare(c, argv):
    return [command_info(s) for s in TABLE.values()]


COMMAND = container(
    "command", group="server", since="2.8.13", flags="loading stale", arity=-1,
    handler=command_bare, acl="connection", tips="nondeterministic_output_order",
    summary="Get array of Redis command details",
    complexity="O(N) where N is the total number of Redis commands")


def _list_filter(kind: bytes, arg: bytes):
    """The FILTERBY predicate of COMMAND LIST (shouldFilterFromCommandList)."""
    if kind == b"module":
        return None  # no module is ever loaded: nothing matches
    if kind == b"aclcat":
        name = arg.decode("utf-8", "replace").lower()
        cat = "@" + name if name in _ACL_ORDER else None
        return None if cat is None else (lambda s: cat in s.acl_categories)
    return lambda s: glob_match(arg, s.fullname.encode(), nocase=True)


@subcommand(COMMAND, "list", arity=-2, flags="loading stale", since="7.0.0",
            acl="connection", tips="nondeterministic_output_order",
            summary="Get an array of Redis command names",
            complexity="O(N) where N is the total number of Redis commands",
            args="[FILTERBY MODULE module-name|ACLCAT category|PATTERN pattern:pattern]")
def command_list(c, argv):
    # FILTERBY takes the last three arguments; anything else is a syntax error.
    if len(argv) != 2:
        if len(argv) != 5 or argv[2].lower() != b"filterby" \
                or argv[3].lower() not in (b"module", b"aclcat", b"pattern"):
            raise CommandError(errors.SYNTAX)
        keep = _list_filter(argv[3].lower(), argv[4])
        if keep is None:
            return []
    out = []
    for spec in TABLE.values():
        for s in (spec, *spec.subcommands.values()):
            if len(argv) == 2 or keep(s):
                out.append(s.fullname.encode())
    return out


@subcommand(COMMAND, "count", arity=2, flags="loading stale", since="2.8.13",
            acl="connection", summary="Get total number of Redis commands",
            complexity="O(1)")
def command_count(c, argv):
    return len(TABLE)


@subcommand(COMMAND, "info", arity=-2, flags="loading stale", since="2.8.13",
            acl="connection", tips="nondeterministic_output_order",
            summary="Get array of specific Redis command details, or all when no argument "
                    "is given.",
            complexity="O(N) where N is the number of commands to look up",
            args="[command-name...]",
            history=(("7.0.0", "Allowed to be called with no argument to get info on all "
                               "commands."),))
def command_info_cmd(c, argv):
    if len(argv) == 2:
        return command_bare(c, argv)
    out = []
    for name in argv[2:]:
        spec = lookup_by_name(name)
        out.append(None if spec is None else command_info(spec))
    return out


_HELP = [Status(line) for line in (
    b"COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    b"(no subcommand)",
    b"    Return details about all Redis commands.",
    b"COUNT",
    b"    Return the total number of commands in this Redis server.",
    b"LIST",
    b"    Return a list of all commands in this Redis server.",
    b"INFO [<command-name> ...]",
    b"    Return details about multiple Redis commands.",
    b"    If no command names are given, documentation details for all",
    b"    commands are returned.",
    b"DOCS [<command-name> ...]",
    b"    Return documentation details about multiple Redis commands.",
    b"    If no command names are given, documentation details for all",
    b"    commands are returned.",
    b"GETKEYS <full-command>",
    b"    Return the keys from a full Redis command.",
    b"GETKEYSANDFLAGS <full-command>",
    b"    Return the keys and the access flags from a full Redis command.",
    b"HELP",
    b"    Prints this help.",
)]


@subcommand(COMMAND, "help", arity=2, flags="loading stale", since="5.0.0",
            acl="connection", summary="Show helpful text about the different subcommands",
            complexity="O(1)")
def command_help(c, argv):
    return _HELP


@subcommand(COMMAND, "docs", arity=-2, flags="loading stale", since="7.0.0",
            acl="connection", tips="nondeterministic_output_order",
            summary="Get array of specific Redis command documentation",
            complexity="O(N) where N is the number of commands to look up",
            args="[command-name...]")
def command_docs_cmd(c, argv):
    if len(argv) == 2:
        return {s.fullname.encode(): command_docs(s) for s in TABLE.values()}
    out = {}
    for name in argv[2:]:
        spec = lookup_by_name(name)
        if spec is not None:
            # Redis repeats a command asked for twice: the map may hold a name twice.
            out[_MapKey(spec.fullname.encode())] = command_docs(spec)
    return out


class _MapKey(bytes):
    """A map key compared by identity, so a reply map can repeat a name."""

    __slots__ = ()
    __hash__ = object.__hash__

    def __eq__(self, other: object) -> bool:
        return self is other


def _getkeys(argv: list[bytes], with_flags: bool) -> list:
    """getKeysSubcommandImpl: the keys of the command in argv[2:]."""
    args = argv[2:]
    spec = lookup_argv(args)
    if spec is None:
        raise CommandError(errors.GETKEYS_INVALID_COMMAND)
    m = meta(spec)
    if not m.has_keys:
        raise CommandError(errors.GETKEYS_NO_KEY_ARGS)
    n = len(args)
    if (spec.arity > 0 and spec.arity != n) or n < -spec.arity:
        raise CommandError(errors.GETKEYS_INVALID_NUM_ARGS)
    keys = m.keys_with_flags(args)
    if not keys:
        if "no_mandatory_keys" in spec.flags:
            return []
        raise CommandError(errors.GETKEYS_INVALID_ARGS)
    if with_flags:
        return [[args[p], _key_flags_reply(fl)] for p, fl in keys]
    return [args[p] for p, _ in keys]


@subcommand(COMMAND, "getkeysandflags", arity=-4, flags="loading stale", since="7.0.0",
            acl="connection",
            summary="Extract keys and access flags given a full Redis command",
            complexity="O(N) where N is the number of arguments to the command",
            args="command arg...")
def command_getkeysandflags(c, argv):
    return _getkeys(argv, True)


@subcommand(COMMAND, "getkeys", arity=-4, flags="loading stale", since="2.8.13",
            acl="connection", summary="Extract keys given a full Redis command",
            complexity="O(N) where N is the number of arguments to the command",
            args="command arg...")
def command_getkeys(c, argv):
    return _getkeys(argv, False)
