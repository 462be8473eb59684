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

    def add(self, c: "Client", argv: list[bytes], usec: int) -> None:
        args = argv
        if len(argv) > MAX_ARGC:
            args = argv[: MAX_ARGC - 1] + [
                b"... (%d more arguments)" % (len(argv) - MAX_ARGC + 1)]
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
