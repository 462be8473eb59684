"""SLOWLOG: commands that took longer than slowlog-log-slower-than microseconds."""

from __future__ import annotations

import time
from collections import deque
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kvserver.connection import Client

MAX_ARGC = 32  # SLOWLOG_ENTRY_MAX_ARGC
MAX_STRING = 128  # SLOWLOG_ENTRY_MAX_STRING


class SlowLog:
    def __init__(self, max_len: int) -> None:
        self.entries: deque[list] = deque()
        self.next_id = 0
        self.max_len = max_len

    def add(self, c: Client, argv: list[bytes], usec: int) -> None:
        args = redact_argv(argv)
        if len(args) > MAX_ARGC:
            args = args[: MAX_ARGC - 1] + [
                b"... (%d more arguments)" % (len(args) - MAX_ARGC + 1)]
        args = [a if len(a) <= MAX_STRING else
                a[:MAX_STRING] + b"... (%d more bytes)" % (len(a) - MAX_STRING) for a in args]
        entry = [self.next_id, int(time.time()), usec, args,
                 c.addr.encode(), c.name]
        self.next_id += 1
        self.entries.appendleft(entry)
        while len(self.entries) > self.max_len:
            self.entries.pop()

    def get(self, count: int | None = 10) -> list:
        if count is None or count < 0:
            return list(self.entries)
        return list(self.entries)[:count]

    def reset(self) -> None:
        self.entries.clear()

    def __len__(self) -> int:
        return len(self.entries)


# -- redaction ---------------------------------------------------------------
#
# Redis replaces secrets in a command's arguments with "(redacted)" before the
# command reaches the slow log or MONITOR (redactClientCommandArgument, called
# by AUTH, HELLO, MIGRATE, ACL SETUSER and CONFIG SET of sensitive parameters).
# The rules live here, in one place, instead of in each handler.

REDACTED = b"(redacted)"
_SENSITIVE_CONFIGS = frozenset((b"masteruser", b"masterauth", b"requirepass"))


def _redact_auth(argv: list[bytes], out: list[bytes]) -> None:
    if len(argv) <= 3:  # more is a syntax error, logged as sent
        for j in range(1, len(argv)):
            out[j] = REDACTED


def _redact_hello(argv: list[bytes], out: list[bytes]) -> None:
    j = 2
    while j < len(argv):
        opt = argv[j].lower()
        if opt == b"auth" and len(argv) - 1 - j >= 2:
            out[j + 1] = out[j + 2] = REDACTED
            j += 3
        elif opt == b"setname" and len(argv) - 1 - j >= 1:
            j += 2
        else:
            return


def _redact_migrate(argv: list[bytes], out: list[bytes]) -> None:
    j = 6
    while j < len(argv):
        opt = argv[j].lower()
        more = len(argv) - 1 - j
        if opt in (b"copy", b"replace"):
            j += 1
        elif opt == b"auth" and more >= 1:
            out[j + 1] = REDACTED
            j += 2
        elif opt == b"auth2" and more >= 2:
            out[j + 1] = out[j + 2] = REDACTED
            j += 3
        else:  # KEYS ends the options; anything else is an error
            return


def _redact_acl(argv: list[bytes], out: list[bytes]) -> None:
    if len(argv) >= 3 and argv[1].lower() == b"setuser":
        for j in range(2, len(argv)):
            out[j] = REDACTED


def _redact_config(argv: list[bytes], out: list[bytes]) -> None:
    if len(argv) >= 4 and argv[1].lower() == b"set" and len(argv) % 2 == 0:
        for j in range(2, len(argv), 2):
            if argv[j].lower() in _SENSITIVE_CONFIGS:
                out[j + 1] = REDACTED


_REDACTORS = {b"auth": _redact_auth, b"hello": _redact_hello, b"migrate": _redact_migrate,
              b"acl": _redact_acl, b"config": _redact_config}


def redact_argv(argv: list[bytes]) -> list[bytes]:
    """argv as the slow log and MONITOR show it: secrets replaced."""
    fn = _REDACTORS.get(argv[0].lower()) if argv else None
    if fn is None:
        return argv
    out = list(argv)
    fn(argv, out)
    return out
