"""Memory: the resident size of each server holding the same data.

Each workload runs on a fresh server: its RSS (VmRSS) is read when empty,
then after a pipelined loader has written exactly the workload's data over a
raw socket and the key count was checked. A workload whose command the server
does not know yet is skipped with a message.
"""

from __future__ import annotations

import csv
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import hiredis

from bench.servers import Server, rss_kib, start

BATCH = 1000  # commands per write


def _cmd(*args: bytes) -> bytes:
    return b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args)


def strings(n: int) -> Iterator[bytes]:
    """n SETs: 16-byte keys, 32-byte values, all distinct."""
    for i in range(n):
        yield _cmd(b"SET", b"key:%012d" % i, b"value:%026d" % i)


def hashes(n: int, fields: int = 10) -> Iterator[bytes]:
    """n hashes of `fields` fields (8-byte names, 16-byte values)."""
    names = [b"field:%02d" % f for f in range(fields)]
    for i in range(n):
        args = [b"HSET", b"hash:%011d" % i]
        for f, name in enumerate(names):
            args += [name, b"v:%014d" % (i * fields + f)]
        yield _cmd(*args)


def zset(n: int, per_command: int = 1000) -> Iterator[bytes]:
    """One sorted set of n members (16 bytes each), scores scattered."""
    for start_i in range(0, n, per_command):
        args = [b"ZADD", b"zset:big"]
        for i in range(start_i, min(n, start_i + per_command)):
            args += [b"%d" % ((i * 7919) % 1000003), b"member:%09d" % i]
        yield _cmd(*args)


@dataclass(frozen=True)
class Workload:
    name: str
    description: str
    commands: Callable[[int], Iterator[bytes]]
    size: int  # argument to commands()
    keys: int  # DBSIZE expected afterwards


WORKLOADS = [
    Workload("strings", "1,000,000 SETs, 16-byte keys, 32-byte values", strings, 1_000_000,
             1_000_000),
    Workload("hashes", "100,000 hashes x 10 fields (8-byte names, 16-byte values)", hashes,
             100_000, 100_000),
    Workload("zset", "one sorted set of 1,000,000 members (16 bytes)", zset, 1_000_000, 1),
]


class Unsupported(Exception):
    pass


def load(srv: Server, commands: Iterator[bytes]) -> int:
    """Send the commands pipelined, BATCH at a time; return how many were sent.
    Raises Unsupported on an unknown-command error, RuntimeError on another."""
    sent = 0
    with socket.create_connection(("127.0.0.1", srv.port), timeout=120) as s:
        reader = hiredis.Reader()
        batch: list[bytes] = []

        def flush() -> None:
            nonlocal sent
            s.sendall(b"".join(batch))
            want = len(batch)
            while want:
                reply = reader.gets()
                if reply is False:
                    data = s.recv(1 << 20)
                    if not data:
                        raise RuntimeError(f"{srv.label} closed the connection")
                    reader.feed(data)
                    continue
                want -= 1
                if isinstance(reply, hiredis.ReplyError):
                    if str(reply).startswith("ERR unknown command"):
                        raise Unsupported(str(reply))
                    raise RuntimeError(f"{srv.label}: {reply}")
            sent += len(batch)
            batch.clear()

        for c in commands:
            batch.append(c)
            if len(batch) == BATCH:
                flush()
        if batch:
            flush()
    return sent


def settle_rss(pid: int) -> int:
    """RSS once it stops moving (allocators return memory lazily)."""
    last = rss_kib(pid)
    for _ in range(20):
        time.sleep(0.25)
        now = rss_kib(pid)
        if abs(now - last) < 256:
            return now
        last = now
    return last


@dataclass
class Result:
    workload: Workload
    server: str
    version: str
    empty_kib: int | None = None
    loaded_kib: int | None = None
    seconds: float | None = None
    skipped: str = ""


def measure(kind: str, w: Workload, pin: bool) -> Result:
    srv = start(kind, pin)
    res = Result(w, kind, srv.version)
    try:
        res.empty_kib = settle_rss(srv.pid)
        t0 = time.monotonic()
        try:
            load(srv, w.commands(w.size))
        except Unsupported as e:
            res.skipped = f"{srv.label} does not implement it yet ({e})"
            return res
        res.seconds = time.monotonic() - t0
        dbsize = srv.command("DBSIZE")
        if dbsize != w.keys:
            raise RuntimeError(f"{srv.label}: DBSIZE {dbsize} after {w.name}, "
                               f"expected {w.keys}")
        res.loaded_kib = settle_rss(srv.pid)
        return res
    finally:
        srv.stop()


def run(workloads: list[Workload], pin: bool, outdir: Path) -> list[tuple[Result, Result]]:
    pairs = []
    for w in workloads:
        print(f"memory: {w.name}: {w.description}", flush=True)
        kv = measure("kvserver", w, pin)
        rd = measure("redis", w, pin)
        for r in (kv, rd):
            if r.skipped:
                print(f"  skipped: {r.skipped}")
            else:
                print(f"  {r.server:8} empty {r.empty_kib / 1024:7.1f} MiB, loaded "
                      f"{r.loaded_kib / 1024:7.1f} MiB (load took {r.seconds:.1f} s)", flush=True)
        pairs.append((kv, rd))
    print()
    print(table(pairs))
    write(outdir, pairs)
    return pairs


def _mib(kib: int | None) -> str:
    return "-" if kib is None else f"{kib / 1024:.1f}"


def _ratio(kv: Result, rd: Result) -> str:
    if kv.loaded_kib is None or rd.loaded_kib is None:
        return "-"
    return f"{kv.loaded_kib / rd.loaded_kib:.2f}"


def _data_ratio(kv: Result, rd: Result) -> str:
    if kv.loaded_kib is None or rd.loaded_kib is None:
        return "-"
    return f"{(kv.loaded_kib - kv.empty_kib) / max(1, rd.loaded_kib - rd.empty_kib):.2f}"


def table(pairs: list[tuple[Result, Result]]) -> str:
    head = (f"{'workload':9} {'kvserver MiB':>13} {'Redis MiB':>10} {'ratio':>6}"
            f" {'data ratio':>10}   (empty: kvserver / Redis MiB)")
    lines = [head, "-" * len(head)]
    for kv, rd in pairs:
        if kv.skipped or rd.skipped:
            lines.append(f"{kv.workload.name:9} skipped: {kv.skipped or rd.skipped}")
            continue
        lines.append(f"{kv.workload.name:9} {_mib(kv.loaded_kib):>13} {_mib(rd.loaded_kib):>10}"
                     f" {_ratio(kv, rd):>6} {_data_ratio(kv, rd):>10}   "
                     f"({_mib(kv.empty_kib)} / {_mib(rd.empty_kib)})")
    lines.append("(RSS after loading; ratio: kvserver / Redis; data ratio: the same "
                 "without each server's empty RSS)")
    return "\n".join(lines)


def write(outdir: Path, pairs: list[tuple[Result, Result]]) -> None:
    outdir.mkdir(parents=True, exist_ok=True)
    with open(outdir / "memory.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["workload", "description", "kvserver_empty_mib", "kvserver_loaded_mib",
                    "redis_empty_mib", "redis_loaded_mib", "ratio", "data_ratio",
                    "kvserver_load_s", "redis_load_s", "skipped"])
        for kv, rd in pairs:
            w.writerow([kv.workload.name, kv.workload.description, _mib(kv.empty_kib),
                        _mib(kv.loaded_kib), _mib(rd.empty_kib), _mib(rd.loaded_kib),
                        _ratio(kv, rd), _data_ratio(kv, rd),
                        "-" if kv.seconds is None else f"{kv.seconds:.1f}",
                        "-" if rd.seconds is None else f"{rd.seconds:.1f}",
                        kv.skipped or rd.skipped])
    lines = ["| workload | kvserver RSS MiB | Redis RSS MiB | ratio | data ratio |",
             "|---|--:|--:|--:|--:|"]
    for kv, rd in pairs:
        if kv.skipped or rd.skipped:
            lines.append(f"| {kv.workload.description} | skipped | | | |")
            continue
        lines.append(f"| {kv.workload.description} | {_mib(kv.loaded_kib)} | "
                     f"{_mib(rd.loaded_kib)} | {_ratio(kv, rd)} | {_data_ratio(kv, rd)} |")
    empty = [(kv, rd) for kv, rd in pairs if kv.empty_kib and rd.empty_kib]
    if empty:
        kv, rd = empty[0]
        lines.append(f"\n<sub>Empty servers: kvserver {_mib(kv.empty_kib)} MiB, "
                     f"Redis {_mib(rd.empty_kib)} MiB. Data ratio: (loaded - empty) "
                     f"kvserver / Redis.</sub>")
    (outdir / "memory.md").write_text("\n".join(lines) + "\n")
