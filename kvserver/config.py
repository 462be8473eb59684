"""Configuration: redis.conf syntax, command-line overrides, CONFIG GET/SET/REWRITE.

Every supported directive is declared once in PARAMS with its type, default and
limits; names, value syntax ("yes"/"no", memory units such as 1mb/1gb) and error
texts follow Redis 7.0. Old names (list-max-ziplist-size, ...) are aliases.
A parameter's value is an attribute of Config named with underscores
(config.proto_max_bulk_len), so hot paths read it without a lookup.
"""

from __future__ import annotations

import fnmatch
import os
import shlex
from dataclasses import dataclass, field
from typing import Callable

from kvserver.protocol import split_args

_UNITS = {"k": 1000, "kb": 1024, "m": 1000**2, "mb": 1024**2, "g": 1000**3, "gb": 1024**3}
LLONG_MAX = 2**63 - 1


class ConfigError(Exception):
    """A value refused; `msg` is Redis's explanation after the ' - '."""


def parse_memory(s: str) -> int:
    """'1gb' -> 1073741824; units as in redis.conf (k=1000, kb=1024, ...)."""
    t = s.strip().lower()
    for unit in ("kb", "mb", "gb", "k", "m", "g"):
        if t.endswith(unit):
            num = t[: -len(unit)]
            mul = _UNITS[unit]
            break
    else:
        num, mul = t, 1
    if not num or not (num.isdigit() or (num[0] == "-" and num[1:].isdigit())):
        raise ConfigError("argument must be a memory value")
    return int(num) * mul


def parse_bool(s: str) -> bool:
    t = s.lower()
    if t == "yes":
        return True
    if t == "no":
        return False
    raise ConfigError("argument must be 'yes' or 'no'")


@dataclass
class Param:
    name: str
    kind: str  # bool | int | memory | string | enum | special
    default: object
    lo: int = -LLONG_MAX - 1
    hi: int = LLONG_MAX
    choices: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    immutable: bool = False
    doc: str = ""
    # For kind == special: (parse: str -> value, format: value -> str).
    parse: Callable[[str], object] | None = None
    format: Callable[[object], str] | None = None
    clamp: bool = False  # out-of-range values are clamped (hz) rather than refused
    attr: str = field(init=False)

    def __post_init__(self) -> None:
        self.attr = self.name.replace("-", "_")

    def convert(self, s: str) -> object:
        k = self.kind
        if k == "bool":
            return parse_bool(s)
        if k in ("int", "memory"):
            if k == "memory":
                v = parse_memory(s)
            else:
                try:
                    v = int(s)
                except ValueError:
                    raise ConfigError("argument couldn't be parsed into an integer") from None
            if v < self.lo or v > self.hi:
                if self.clamp:
                    return min(max(v, self.lo), self.hi)
                raise ConfigError(f"argument must be between {self.lo} and {self.hi} inclusive")
            return v
        if k == "enum":
            t = s.lower()
            if t not in self.choices:
                raise ConfigError("argument(s) must be one of the following: "
                                  + ", ".join(self.choices))
            return t
        if k == "special":
            assert self.parse is not None
            return self.parse(s)
        return s

    def render(self, v: object) -> str:
        if self.kind == "bool":
            return "yes" if v else "no"
        if self.kind == "special":
            assert self.format is not None
            return self.format(v)
        return str(v)


# -- special parameters -------------------------------------------------------

def _parse_save(s: str) -> list[tuple[int, int]]:
    parts = s.split()
    if len(parts) % 2:
        raise ConfigError("Invalid save parameters")
    out = []
    for i in range(0, len(parts), 2):
        try:
            out.append((int(parts[i]), int(parts[i + 1])))
        except ValueError:
            raise ConfigError("Invalid save parameters") from None
    return out


def _format_save(v) -> str:
    return " ".join(f"{a} {b}" for a, b in v)


_OBUF_CLASSES = ("normal", "slave", "replica", "pubsub")


def _parse_obuf(s: str) -> dict[str, tuple[int, int, int]]:
    parts = s.split()
    if not parts or len(parts) % 4:
        raise ConfigError("Wrong number of arguments in buffer limit configuration.")
    out = dict(DEFAULT_OBUF)
    for i in range(0, len(parts), 4):
        cls = parts[i].lower()
        if cls not in _OBUF_CLASSES:
            raise ConfigError("Invalid client class specified in buffer limit configuration.")
        try:
            hard, soft = parse_memory(parts[i + 1]), parse_memory(parts[i + 2])
            secs = int(parts[i + 3])
        except (ConfigError, ValueError):
            raise ConfigError("Error in hard, soft or soft_seconds setting in buffer "
                              "limit configuration.") from None
        if hard < 0 or soft < 0 or secs < 0:
            raise ConfigError("Error in hard, soft or soft_seconds setting in buffer "
                              "limit configuration.")
        out["slave" if cls == "replica" else cls] = (hard, soft, secs)
    return out


def _format_obuf(v) -> str:
    return " ".join(f"{c} {v[c][0]} {v[c][1]} {v[c][2]}" for c in ("normal", "slave", "pubsub"))


DEFAULT_OBUF = {"normal": (0, 0, 0), "slave": (256 * 1024**2, 64 * 1024**2, 60),
                "pubsub": (32 * 1024**2, 8 * 1024**2, 60)}

_NOTIFY_FLAGS = "KEg$lshzxetmdnA"


def parse_notify_flags(s: str) -> str:
    for ch in s:
        if ch not in _NOTIFY_FLAGS:
            raise ConfigError("Invalid event class character. Use 'Ag$lshzxeKEtmdn'.")
    return s


def _format_notify(s: str) -> str:
    """Redis prints the flags back in its canonical order, A for the full set."""
    flags = set(s)
    out = ""
    if "A" in flags:
        out += "A"
        flags |= set("g$lshzxetd")
    else:
        for ch in "g$lshzxetdmn":
            if ch in flags and ch not in "mn":
                out += ch
    for ch in "KEmn":
        if ch in flags:
            out += ch
    return out


def _parse_bind(s: str) -> list[str]:
    return s.split()


PARAMS: list[Param] = [
    # network
    Param("bind", "special", ["127.0.0.1", "-::1"], parse=_parse_bind, format=" ".join,
          doc="addresses to listen on; a leading '-' means: skip it if unavailable"),
    Param("port", "int", 6379, 0, 65535, doc="TCP port; 0 = do not listen on TCP"),
    Param("unixsocket", "string", "", immutable=True, doc="path of a Unix socket to listen on"),
    Param("unixsocketperm", "int", 0, 0, 0o777, immutable=True, doc="permissions of the Unix socket (octal)"),
    Param("protected-mode", "bool", True, doc="refuse non-loopback clients when no password is set"),
    Param("tcp-backlog", "int", 511, 0, LLONG_MAX, immutable=True, doc="listen() backlog"),
    Param("timeout", "int", 0, 0, 2**31 - 1, doc="close a client idle this many seconds (0 = never)"),
    Param("tcp-keepalive", "int", 300, 0, 2**31 - 1, doc="SO_KEEPALIVE interval in seconds (0 = off)"),
    Param("maxclients", "int", 10000, 1, 2**31 - 1, doc="most simultaneous clients"),
    # general
    Param("daemonize", "bool", False, immutable=True, doc="accepted for compatibility; kvserver runs in the foreground"),
    Param("pidfile", "string", "", immutable=True, doc="write the process id here"),
    Param("loglevel", "enum", "notice", choices=("debug", "verbose", "notice", "warning", "nothing"),
          doc="debug | verbose | notice | warning | nothing"),
    Param("logfile", "string", "", immutable=True, doc="log file; empty = standard output"),
    Param("databases", "int", 16, 1, 2**31 - 1, immutable=True, doc="number of databases (SELECT 0..n-1)"),
    Param("dir", "special", ".", parse=lambda s: s, format=lambda v: os.path.abspath(v),
          doc="working directory for persistence files"),
    Param("enable-debug-command", "enum", "no", choices=("no", "yes", "local"), immutable=True,
          doc="allow DEBUG: no | yes | local (loopback/Unix socket clients only)"),
    Param("enable-protected-configs", "enum", "no", choices=("no", "yes", "local"), immutable=True,
          doc="allow CONFIG SET of protected parameters such as dir"),
    Param("hz", "int", 10, 1, 500, clamp=True, doc="server cron frequency (active expiry, timeouts)"),
    Param("dynamic-hz", "bool", True, doc="accepted for compatibility"),
    Param("requirepass", "string", "", doc="password of the default user; empty = no AUTH needed"),
    Param("proto-max-bulk-len", "memory", 512 * 1024**2, 1024 * 1024, LLONG_MAX,
          doc="largest bulk string a client may send"),
    Param("client-query-buffer-limit", "memory", 1024**3, 1024 * 1024, LLONG_MAX,
          doc="most bytes of a client's unprocessed input"),
    Param("client-output-buffer-limit", "special", dict(DEFAULT_OBUF), parse=_parse_obuf,
          format=_format_obuf, doc="<class> <hard> <soft> <soft-seconds> for normal, replica, pubsub"),
    # persistence (kvserver.aof comes later; the names are reserved here)
    Param("save", "special", [], parse=_parse_save, format=_format_save,
          doc="RDB snapshot points; kvserver does not write RDB files"),
    Param("dbfilename", "string", "dump.rdb", doc="RDB file name (not written by kvserver)"),
    Param("appendonly", "bool", False, doc="append-only file persistence"),
    Param("appendfilename", "string", "appendonly.aof", immutable=True, doc="append-only file base name"),
    Param("appendfsync", "enum", "everysec", choices=("always", "everysec", "no"), doc="always | everysec | no"),
    # memory
    Param("maxmemory", "memory", 0, 0, LLONG_MAX, doc="memory limit in bytes (0 = none)"),
    Param("maxmemory-policy", "enum", "noeviction",
          choices=("volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl",
                   "allkeys-lru", "allkeys-lfu", "allkeys-random", "noeviction"),
          doc="what to evict at maxmemory"),
    Param("maxmemory-samples", "int", 5, 1, 64, doc="keys sampled per eviction"),
    Param("lfu-log-factor", "int", 10, 0, 2**31 - 1, doc="LFU counter logarithm factor"),
    Param("lfu-decay-time", "int", 1, 0, 2**31 - 1, doc="LFU counter decay in minutes"),
    Param("lazyfree-lazy-eviction", "bool", False, doc="accepted for compatibility"),
    Param("lazyfree-lazy-expire", "bool", False, doc="accepted for compatibility"),
    Param("lazyfree-lazy-server-del", "bool", False, doc="accepted for compatibility"),
    Param("lazyfree-lazy-user-del", "bool", False, doc="accepted for compatibility"),
    Param("lazyfree-lazy-user-flush", "bool", False, doc="accepted for compatibility"),
    Param("activerehashing", "bool", True, doc="accepted for compatibility"),
    # encodings reported by OBJECT ENCODING
    Param("hash-max-listpack-entries", "int", 128, 0, LLONG_MAX, aliases=("hash-max-ziplist-entries",),
          doc="hashes up to this many fields report listpack"),
    Param("hash-max-listpack-value", "int", 64, 0, LLONG_MAX, aliases=("hash-max-ziplist-value",),
          doc="hashes with values up to this size report listpack"),
    Param("list-max-listpack-size", "int", -2, -5, 2**31 - 1, aliases=("list-max-ziplist-size",),
          doc="list node size (negative: -1 4kb .. -5 64kb)"),
    Param("list-compress-depth", "int", 0, 0, 2**31 - 1, doc="accepted for compatibility"),
    Param("set-max-intset-entries", "int", 512, 0, LLONG_MAX, doc="integer sets up to this size report intset"),
    Param("zset-max-listpack-entries", "int", 128, 0, LLONG_MAX, aliases=("zset-max-ziplist-entries",),
          doc="sorted sets up to this many members report listpack"),
    Param("zset-max-listpack-value", "int", 64, 0, LLONG_MAX, aliases=("zset-max-ziplist-value",),
          doc="sorted sets with members up to this size report listpack"),
    Param("stream-node-max-bytes", "memory", 4096, 0, LLONG_MAX, doc="accepted for compatibility"),
    Param("stream-node-max-entries", "int", 100, 0, LLONG_MAX, doc="accepted for compatibility"),
    Param("hll-sparse-max-bytes", "memory", 3000, 0, LLONG_MAX, doc="accepted for compatibility"),
    # introspection
    Param("slowlog-log-slower-than", "int", 10000, -1, LLONG_MAX, doc="log commands slower than this (us); -1 = off"),
    Param("slowlog-max-len", "int", 128, 0, LLONG_MAX, doc="slow log length"),
    Param("latency-monitor-threshold", "int", 0, 0, LLONG_MAX, doc="accepted for compatibility"),
    Param("latency-tracking", "bool", True, doc="accepted for compatibility"),
    Param("notify-keyspace-events", "special", "", parse=parse_notify_flags, format=_format_notify,
          doc="keyspace notification classes (K E g $ l s h z x e t m d n A)"),
    # scripting
    Param("busy-reply-threshold", "int", 5000, 0, LLONG_MAX, aliases=("lua-time-limit",),
          doc="ms a script runs before other clients get BUSY"),
    # replication (later issues; the names are reserved here)
    Param("replica-read-only", "bool", True, aliases=("slave-read-only",), doc="replicas refuse writes"),
    Param("replica-serve-stale-data", "bool", True, aliases=("slave-serve-stale-data",),
          doc="replicas answer while out of sync"),
    Param("repl-diskless-sync", "bool", True, doc="accepted for compatibility"),
    Param("repl-diskless-sync-delay", "int", 5, 0, 2**31 - 1, doc="accepted for compatibility"),
    Param("repl-backlog-size", "memory", 1024 * 1024, 1, LLONG_MAX, doc="replication backlog size"),
    Param("repl-ping-replica-period", "int", 10, 1, 2**31 - 1, aliases=("repl-ping-slave-period",),
          doc="accepted for compatibility"),
    Param("repl-timeout", "int", 60, 1, 2**31 - 1, doc="replication timeout in seconds"),
    Param("min-replicas-to-write", "int", 0, 0, 2**31 - 1, aliases=("min-slaves-to-write",),
          doc="accepted for compatibility"),
    Param("min-replicas-max-lag", "int", 10, 0, 2**31 - 1, aliases=("min-slaves-max-lag",),
          doc="accepted for compatibility"),
    Param("rdbcompression", "bool", True, doc="accepted for compatibility"),
    Param("rdbchecksum", "bool", True, doc="accepted for compatibility"),
    Param("rdb-key-save-delay", "int", 0, -LLONG_MAX - 1, LLONG_MAX, doc="accepted for compatibility"),
    Param("key-load-delay", "int", 0, -LLONG_MAX - 1, LLONG_MAX, doc="accepted for compatibility"),
    Param("active-expire-effort", "int", 1, 1, 10, doc="more effort (1-10) for active expiry"),
    Param("io-threads", "int", 1, 1, 128, immutable=True, doc="accepted for compatibility; kvserver runs one thread"),
    Param("oom-score-adj", "enum", "no", choices=("no", "yes", "relative", "absolute"),
          doc="accepted for compatibility"),
    Param("supervised", "enum", "no", choices=("upstart", "systemd", "auto", "no"), immutable=True,
          doc="accepted for compatibility"),
    Param("always-show-logo", "bool", False, immutable=True, doc="accepted for compatibility"),
    Param("crash-log-enabled", "bool", True, doc="accepted for compatibility"),
    Param("lua-replicate-commands", "bool", True, doc="accepted for compatibility"),
]

BY_NAME: dict[str, Param] = {}
for _p in PARAMS:
    BY_NAME[_p.name] = _p
    for _a in _p.aliases:
        BY_NAME[_a] = _p


class Config:
    """Current values, as attributes (underscore names), plus the file they came from."""

    def __init__(self) -> None:
        for p in PARAMS:
            v = p.default
            setattr(self, p.attr, list(v) if isinstance(v, list) else
                    dict(v) if isinstance(v, dict) else v)
        self.file: str | None = None
        self._listeners: list[Callable[[str], None]] = []

    def on_change(self, fn: Callable[[str], None]) -> None:
        """fn(name) is called after CONFIG SET changes a parameter."""
        self._listeners.append(fn)

    def get(self, name: str) -> str:
        p = BY_NAME[name]
        return p.render(getattr(self, p.attr))

    def set_from_string(self, name: str, value: str, at_runtime: bool) -> None:
        p = BY_NAME.get(name.lower())
        if p is None:
            raise KeyError(name)
        if at_runtime and p.immutable:
            raise ConfigError("can't set immutable config")
        setattr(self, p.attr, p.convert(value))

    def config_get(self, patterns: list[str]) -> dict[bytes, bytes]:
        """CONFIG GET: every parameter (aliases too) matching any glob pattern."""
        from kvserver.glob import glob_match

        out: dict[bytes, bytes] = {}
        for pat in patterns:
            pb = pat.lower().encode()
            has_glob = any(ch in pat for ch in "*?[")
            for name, p in BY_NAME.items():
                if (glob_match(pb, name.encode(), nocase=True) if has_glob else name == pat.lower()):
                    out[name.encode()] = p.render(getattr(self, p.attr)).encode()
        return out

    def config_set(self, pairs: list[tuple[str, str]]) -> None:
        """CONFIG SET with several pairs: all are applied, or none."""
        seen: set[str] = set()
        staged: list[tuple[Param, object]] = []
        for name, value in pairs:
            p = BY_NAME.get(name.lower())
            if p is None:
                raise KeyError(name)
            if p.name in seen:
                raise ConfigError(name, "duplicate parameter")
            seen.add(p.name)
            if p.immutable:
                raise ConfigError(name, "can't set immutable config")
            try:
                staged.append((p, p.convert(value)))
            except ConfigError as e:
                raise ConfigError(name, str(e)) from None
        old = [(p, getattr(self, p.attr)) for p, _ in staged]
        for p, v in staged:
            setattr(self, p.attr, v)
        try:
            for p, _ in staged:
                for fn in self._listeners:
                    fn(p.name)
        except ConfigError as e:
            for p, v in old:
                setattr(self, p.attr, v)
            raise ConfigError(staged[0][0].name, str(e)) from None

    # -- files ------------------------------------------------------------------

    def load_file(self, path: str, _depth: int = 0) -> None:
        """Read a redis.conf-syntax file (with `include`)."""
        if _depth > 16:
            raise ConfigError(f"include nesting too deep at {path}")
        with open(path, encoding="utf-8") as f:
            text = f.read()
        if _depth == 0:
            self.file = os.path.abspath(path)
        self.load_text(text, origin=path, depth=_depth)

    def load_text(self, text: str, origin: str = "<config>", depth: int = 0) -> None:
        for lineno, raw in enumerate(text.splitlines(), 1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            argv = split_args(line.encode())
            if argv is None:
                raise ConfigError(f"{origin}:{lineno}: unbalanced quotes in configuration line")
            if not argv:
                continue
            name = argv[0].decode().lower()
            args = [a.decode() for a in argv[1:]]
            if name == "include":
                for a in args:
                    self.load_file(a, depth + 1)
                continue
            self.apply_directive(name, args, f"{origin}:{lineno}")

    def apply_directive(self, name: str, args: list[str], where: str) -> None:
        p = BY_NAME.get(name)
        if p is None:
            raise ConfigError(f"{where}: Bad directive or wrong number of arguments: '{name}'")
        # Multi-word values (save, bind, client-output-buffer-limit) accumulate
        # across repeated lines as in redis.conf.
        value = " ".join(args)
        try:
            if p.name == "save" and value == "":
                self.save = []
                return
            if p.name in ("save", "client-output-buffer-limit") and getattr(self, "_seen_" + p.attr, False):
                prev = p.render(getattr(self, p.attr))
                value = f"{prev} {value}" if p.name == "save" else value
            v = p.convert(value)
            if p.name == "client-output-buffer-limit":
                merged = dict(getattr(self, p.attr))
                merged.update(v)  # type: ignore[arg-type]
                v = merged
            setattr(self, p.attr, v)
            setattr(self, "_seen_" + p.attr, True)
        except ConfigError as e:
            raise ConfigError(f"{where}: '{name}' {e}") from None

    def rewrite(self) -> None:
        """CONFIG REWRITE: update the file in place, keeping comments and order.

        A directive already in the file gets its current value on its first
        line (repeats are dropped); a changed parameter missing from the file is
        appended. Parameters at their default that the file never named stay out.
        """
        if not self.file:
            raise ConfigError("The server is running without a config file")
        try:
            with open(self.file, encoding="utf-8") as f:
                lines = f.read().splitlines()
        except OSError as e:
            raise ConfigError(f"Rewriting config file: {e}") from None
        done: set[str] = set()
        out: list[str] = []
        for raw in lines:
            line = raw.strip()
            argv = split_args(line.encode()) if line and not line.startswith("#") else None
            if not argv:
                out.append(raw)
                continue
            p = BY_NAME.get(argv[0].decode().lower())
            if p is None:
                out.append(raw)
                continue
            if p.name in done:
                continue
            done.add(p.name)
            out.append(self._directive_line(p))
        extra = [p for p in PARAMS if p.name not in done and not p.immutable
                 and getattr(self, p.attr) != p.default]
        if extra:
            out.append("# Generated by CONFIG REWRITE")
            out.extend(self._directive_line(p) for p in extra)
        tmp = self.file + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write("\n".join(out) + "\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.file)

    def _directive_line(self, p: Param) -> str:
        v = p.render(getattr(self, p.attr))
        if p.name == "save":
            return "save " + (v if v else '""')
        if p.kind in ("string", "special") and (not v or any(ch in v for ch in " \"'")):
            if p.name in ("bind", "client-output-buffer-limit"):
                return f"{p.name} {v}"
            return f"{p.name} {shlex.quote(v) if v else chr(34) * 2}"
        return f"{p.name} {v}"


def matches(pattern: str, name: str) -> bool:
    return fnmatch.fnmatchcase(name, pattern)
