"""Complexity: per-operation cost as a collection grows from 1k to 1M elements.

Redis's complexities are O(1) for LPUSH/LPOP/RPOP, SPOP and SRANDMEMBER (no
copy of the set) and O(log n) (+ output) for ZADD, ZRANK, ZSCORE and range
queries on a sorted set. An implementation that copied or scanned would show
a per-operation time growing ~1000x between 1k and 1M; these stay flat (cache
misses make big collections a little slower in Redis too).

For each size, each server gets a fresh process loaded with one sorted set,
one list and one set of that size; every operation is then timed over
pipelined batches (client wall time per operation, the same client code for
both servers), and reported in microseconds with its growth from the smallest
size.

    python -m bench.complexity [--sizes 1000,100000,1000000] [--ops 20000]
"""

from __future__ import annotations

import argparse
import csv
import random
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import hiredis

from bench.memory import load
from bench.servers import can_pin, start

RESULTS = Path(__file__).resolve().parent / "results"
BATCH = 500


def _cmd(*args: bytes) -> bytes:
    return b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args)


def _member(i: int) -> bytes:
    return b"member:%010d" % i


def fill(n: int) -> Iterator[bytes]:
    """One sorted set, one list and one set of n elements each."""
    step = 500
    for start_i in range(0, n, step):
        idx = range(start_i, min(n, start_i + step))
        zargs = [b"ZADD", b"z"]
        for i in idx:
            zargs += [b"%d" % i, _member(i)]
        yield _cmd(*zargs)
        yield _cmd(b"RPUSH", b"l", *[_member(i) for i in idx])
        yield _cmd(b"SADD", b"s", *[_member(i) for i in idx])


# name -> (complexity, command factory(n, rng) -> one command's bytes)
OPERATIONS: dict[str, tuple[str, Callable[[int, random.Random], bytes]]] = {
    "ZADD (new member)": ("O(log n)", lambda n, r: _cmd(
        b"ZADD", b"z", b"%d" % r.randrange(n), b"new:%d" % r.getrandbits(40))),
    "ZSCORE": ("O(1)", lambda n, r: _cmd(b"ZSCORE", b"z", _member(r.randrange(n)))),
    "ZRANK": ("O(log n)", lambda n, r: _cmd(b"ZRANK", b"z", _member(r.randrange(n)))),
    "ZRANGE by rank, 10": ("O(log n + 10)", lambda n, r: _cmd(
        b"ZRANGE", b"z", b"%d" % (k := r.randrange(max(1, n - 10))), b"%d" % (k + 9))),
    "ZRANGEBYSCORE, LIMIT 10": ("O(log n + 10)", lambda n, r: _cmd(
        b"ZRANGEBYSCORE", b"z", b"%d" % r.randrange(n), b"+inf", b"LIMIT", b"0", b"10")),
    "LPUSH": ("O(1)", lambda n, r: _cmd(b"LPUSH", b"l", b"x")),
    "LPOP": ("O(1)", lambda n, r: _cmd(b"LPOP", b"l")),
    "RPOP": ("O(1)", lambda n, r: _cmd(b"RPOP", b"l")),
    "LINDEX middle": ("O(n)", lambda n, r: _cmd(b"LINDEX", b"l", b"%d" % (n // 2))),
    "SRANDMEMBER": ("O(1)", lambda n, r: _cmd(b"SRANDMEMBER", b"s")),
    "SPOP + SADD back": ("O(1)", lambda n, r: _cmd(b"SPOP", b"s") + _cmd(
        b"SADD", b"s", _member(r.randrange(n)))),
}


def time_operation(port: int, make: Callable[[int, random.Random], bytes], n: int,
                   ops: int) -> float:
    """Microseconds per operation over `ops` pipelined operations."""
    rng = random.Random(7)
    payloads = [b"".join(make(n, rng) for _ in range(BATCH)) for _ in range(ops // BATCH)]
    replies_per_batch = BATCH * (2 if payloads and payloads[0].count(b"*") > BATCH else 1)
    with socket.create_connection(("127.0.0.1", port)) as s:
        reader = hiredis.Reader()
        t0 = time.perf_counter()
        for p in payloads:
            s.sendall(p)
            got = 0
            while got < replies_per_batch:
                reader.feed(s.recv(1 << 20))
                while reader.gets() is not False:
                    got += 1
        dt = time.perf_counter() - t0
    return dt / (len(payloads) * BATCH) * 1e6


def run(sizes: list[int], ops: int) -> list[dict]:
    pin = can_pin()
    rows = []
    for n in sizes:
        for kind in ("kvserver", "redis"):
            srv = start(kind, pin)
            try:
                load(srv, fill(n))
                for name, (cx, make) in OPERATIONS.items():
                    # LINDEX is O(n): fewer operations keep the 1M case short.
                    k = ops if cx != "O(n)" else max(BATCH, ops // 20)
                    us = time_operation(srv.port, make, n, k)
                    rows.append({"operation": name, "complexity": cx, "size": n,
                                 "server": srv.label, "us_per_op": round(us, 3)})
                    print(f"{srv.label:8s} n={n:>9,} {name:26s} {us:8.2f} us/op", flush=True)
            finally:
                srv.stop()
    return rows


def write(rows: list[dict], sizes: list[int]) -> None:
    RESULTS.mkdir(exist_ok=True)
    with open(RESULTS / "complexity.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    by = {(r["operation"], r["server"], r["size"]): r["us_per_op"] for r in rows}
    head = ["operation", "complexity"]
    for label in ("kvserver", "Redis"):
        head += [f"{label} {n:,}" for n in sizes] + [f"{label} growth"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, (cx, _) in OPERATIONS.items():
        cells = [name, cx]
        for label in ("kvserver", "Redis"):
            vals = [by[(name, label, n)] for n in sizes]
            cells += [f"{v:.2f}" for v in vals] + [f"{vals[-1] / vals[0]:.1f}x"]
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    lines.append(f"<sub>us per operation, pipelined {BATCH} at a time, one client; growth = "
                 f"time at {sizes[-1]:,} / time at {sizes[0]:,}. "
                 f"{time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())}</sub>")
    (RESULTS / "complexity.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="1000,100000,1000000")
    ap.add_argument("--ops", type=int, default=20000)
    a = ap.parse_args()
    sizes = [int(x) for x in a.sizes.split(",")]
    write(run(sizes, a.ops), sizes)


if __name__ == "__main__":
    main()
