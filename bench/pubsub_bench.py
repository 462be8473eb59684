"""PUBLISH to N subscribers, kvserver beside Redis.

    python -m bench.pubsub_bench                  # 1, 10, 100 subscribers, 3 rounds
    python -m bench.pubsub_bench --subscribers 1,50 --rounds 5 --requests 50000

For each number of subscribers N and each round, on kvserver then on Redis
(A B A B ...): a reader process opens N connections SUBSCRIBEd to one
channel and drains them; redis-benchmark (-c 50 -P 16) sends PUBLISH
requests with a 16-byte message to that channel; then one last message
(END) is published and the reader waits until every subscriber has received
all the bytes it should have (the messages have a fixed size, so the reader
counts bytes instead of parsing, and keeps up with the server).

Reported per N: PUBLISH requests/s as redis-benchmark measured them, and
delivered messages/s (requests x N / time from the start of redis-benchmark
until the last subscriber has everything), as medians over the rounds, with
the median of the per-round ratios kvserver/Redis. Servers run on CPU 0,
redis-benchmark and the reader on CPU 1 (when taskset and 2 CPUs are there).
With many subscribers the one Python reader process, sharing CPU 1 with
redis-benchmark, becomes the limit for both servers (about 2 million
messages/s here at 100 subscribers): the ratio there says "as fast as the
reader", not more.

kvserver sends each message to its subscribers' output lists and flushes
them once per event-loop pass; flushing each subscriber for each message
instead measured 0.09 (10 subscribers) and 0.02 (100) of Redis here.

A standalone driver: bench.run's throughput mode runs redis-benchmark's
built-in tests only, and has no registry for a workload that needs its own
readers.
"""

from __future__ import annotations

import argparse
import csv
import selectors
import shutil
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench.servers import CLIENT_CPU, can_pin, pinned, start

CHANNEL = b"bench:pubsub"
PAYLOAD = b"0123456789abcdef"
RESULTS = Path(__file__).resolve().parent / "results"


def _message(payload: bytes) -> bytes:
    return b"*3\r\n$7\r\nmessage\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n" % (
        len(CHANNEL), CHANNEL, len(payload), payload)


# -- the reader process -------------------------------------------------------------------

def reader_main(port: int, n: int, expected_messages: int) -> None:
    """Subscribe n connections, say "ready", drain them until each has
    expected_messages messages plus END, then print the elapsed time."""
    subscribe = b"*2\r\n$9\r\nSUBSCRIBE\r\n$%d\r\n%s\r\n" % (len(CHANNEL), CHANNEL)
    confirm = b"*3\r\n$9\r\nsubscribe\r\n$%d\r\n%s\r\n:1\r\n" % (len(CHANNEL), CHANNEL)
    socks = []
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(subscribe)
        got = b""
        while len(got) < len(confirm):
            got += s.recv(len(confirm) - len(got))
        s.setblocking(False)
        socks.append(s)
    want = expected_messages * len(_message(PAYLOAD)) + len(_message(b"END"))
    remaining = {s: want for s in socks}
    sel = selectors.DefaultSelector()
    for s in socks:
        sel.register(s, selectors.EVENT_READ)
    print("ready", flush=True)
    sys.stdin.readline()  # "go": redis-benchmark starts now
    t0 = time.perf_counter()
    while remaining:
        for key, _ in sel.select(timeout=60):
            s = key.fileobj
            try:
                data = s.recv(1 << 20)
            except BlockingIOError:
                continue
            if not data:
                raise SystemExit("a subscriber was disconnected")
            remaining[s] -= len(data)
            if remaining[s] <= 0:
                sel.unregister(s)
                del remaining[s]
    print(f"done {time.perf_counter() - t0:.6f}", flush=True)


# -- one measurement ------------------------------------------------------------------------

def measure(srv, n: int, requests: int, pin: bool, bench_exe: str) -> tuple[float, float]:
    """(PUBLISH rps, delivered messages/s) for n subscribers on srv."""
    reader = subprocess.Popen(
        pinned([sys.executable, "-m", "bench.pubsub_bench", "--reader", str(srv.port), str(n),
                str(requests)], CLIENT_CPU, pin),
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        cwd=Path(__file__).resolve().parent.parent)
    assert reader.stdout.readline().strip() == "ready"
    reader.stdin.write("go\n")
    reader.stdin.flush()
    t0 = time.perf_counter()
    out = subprocess.run(
        pinned([bench_exe, "-p", str(srv.port), "-c", "50", "-P", "16", "-n", str(requests),
                "--csv", "PUBLISH", CHANNEL.decode(), PAYLOAD.decode()], CLIENT_CPU, pin),
        capture_output=True, text=True, check=True).stdout
    srv.command("PUBLISH", CHANNEL, b"END")
    line = reader.stdout.readline().split()
    reader.wait(60)
    if not line or line[0] != "done":
        raise RuntimeError(f"{srv.label}: the reader did not finish ({line})")
    elapsed = time.perf_counter() - t0
    rows = list(csv.reader(out.splitlines()))
    rps = float(rows[1][1])
    return rps, requests * n / elapsed


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.pubsub_bench", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--subscribers", default="1,10,100")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--requests", type=int, default=100_000,
                    help="PUBLISH requests per run (a fifth of it past 10 subscribers)")
    ap.add_argument("--no-pin", action="store_true")
    ap.add_argument("--out", type=Path, default=RESULTS)
    ap.add_argument("--reader", nargs=3, type=int, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.reader:
        reader_main(*args.reader)
        return 0
    bench_exe = shutil.which("redis-benchmark")
    if bench_exe is None:
        raise SystemExit("redis-benchmark is not installed (Debian: redis-tools)")
    pin = can_pin() and not args.no_pin
    counts = [int(x) for x in args.subscribers.split(",")]
    servers = {k: start(k, pin) for k in ("kvserver", "redis")}
    results: dict[tuple[int, str], list[tuple[float, float]]] = {}
    try:
        for n in counts:
            requests = args.requests if n <= 10 else args.requests // 5
            for r in range(args.rounds):
                for kind in ("kvserver", "redis"):
                    res = measure(servers[kind], n, requests, pin, bench_exe)
                    results.setdefault((n, kind), []).append(res)
                    print(f"subscribers={n} round={r + 1} {kind:8} publish/s={res[0]:>10.0f} "
                          f"delivered/s={res[1]:>11.0f}", flush=True)
    finally:
        for s in servers.values():
            s.stop()
    lines = ["| subscribers | kvserver PUBLISH/s | Redis PUBLISH/s | ratio | "
             "kvserver delivered/s | Redis delivered/s | ratio |",
             "|---:|---:|---:|---:|---:|---:|---:|"]
    rows = []
    for n in counts:
        kv, rd = results[(n, "kvserver")], results[(n, "redis")]
        ratios = [[a[i] / b[i] for a, b in zip(kv, rd, strict=True)] for i in (0, 1)]
        med = [statistics.median(x[i] for x in kv) for i in (0, 1)] + \
              [statistics.median(x[i] for x in rd) for i in (0, 1)]
        rr = [statistics.median(x) for x in ratios]
        rows.append([n, *(round(v) for v in med), *(round(v, 2) for v in rr)])
        lines.append(f"| {n} | {med[0]:,.0f} | {med[2]:,.0f} | {rr[0]:.2f} | "
                     f"{med[1]:,.0f} | {med[3]:,.0f} | {rr[1]:.2f} |")
    table = "\n".join(lines)
    print(table)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "pubsub.md").write_text(
        f"PUBLISH (16-byte message) to N subscribers, redis-benchmark -c 50 -P 16, "
        f"median of {args.rounds} rounds, {time.strftime('%Y-%m-%d')}. Delivered/s counts "
        f"messages received by all subscribers together; past ~10 subscribers the single "
        f"Python reader process is the limit for both servers "
        f"(see bench/pubsub_bench.py).\n\n{table}\n")
    with open(args.out / "pubsub.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["subscribers", "kvserver_publish_rps", "kvserver_delivered_per_s",
                    "redis_publish_rps", "redis_delivered_per_s", "ratio_publish",
                    "ratio_delivered"])
        w.writerows(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
