"""EVALSHA / EVAL / FCALL throughput, kvserver beside Redis.

    python -m bench.script_bench                    # every workload, 3 rounds
    python -m bench.script_bench --workloads return1,lock_release --rounds 5

Each workload is one command that redis-benchmark repeats (its arguments
after -n ...), against kvserver then Redis (A B A B ...), with -c 50 -P 16
(the server's own CPU per command) and -c 50 -P 1. Reported: medians of the
requests/s and of the per-round ratios kvserver/Redis. Scripts are loaded
(SCRIPT LOAD / FUNCTION LOAD) before the runs, on both servers.

Workloads:
  return1         EVALSHA of `return 1`: the fixed cost of running a script
  get             EVALSHA of `return redis.call('get', KEYS[1])`: one redis.call
  lock_release    EVALSHA of redis-py Lock's release script on a lock held by
                  another owner (GET, compare, no DEL: every call is the same)
  incr_pexpire    EVALSHA: INCR a counter, set its TTL, return it (two writes)
  eval_return1    EVAL `return 1` (the script is hashed every time)
  fcall_get       FCALL of a function doing the GET above

A standalone driver: bench.run's throughput mode runs redis-benchmark's
built-in tests (-t) only and has no registry for workloads with commands of
their own.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench.servers import CLIENT_CPU, can_pin, pinned, start

RESULTS = Path(__file__).resolve().parent / "results"

LOCK_RELEASE = """
local token = redis.call('get', KEYS[1])
if not token or token ~= ARGV[1] then
    return 0
end
redis.call('del', KEYS[1])
return 1
"""
SCRIPTS = {
    "return1": "return 1",
    "get": "return redis.call('get', KEYS[1])",
    "lock_release": LOCK_RELEASE,
    "incr_pexpire": "local n = redis.call('incr', KEYS[1]) "
                    "redis.call('pexpire', KEYS[1], 60000) return n",
}
LIBRARY = ("#!lua name=benchlib\n"
           "redis.register_function('bench_get', function(keys, args) "
           "return redis.call('get', keys[1]) end)")


def sha1(s: str) -> str:
    return hashlib.sha1(s.encode()).hexdigest()


WORKLOADS: dict[str, list[str]] = {
    "return1": ["EVALSHA", sha1(SCRIPTS["return1"]), "0"],
    "get": ["EVALSHA", sha1(SCRIPTS["get"]), "1", "bench:key"],
    "lock_release": ["EVALSHA", sha1(LOCK_RELEASE), "1", "bench:lock", "my-token"],
    "incr_pexpire": ["EVALSHA", sha1(SCRIPTS["incr_pexpire"]), "1", "bench:counter"],
    "eval_return1": ["EVAL", "return 1", "0"],
    "fcall_get": ["FCALL", "bench_get", "1", "bench:key"],
}
CONFIGS = [(50, 16, 1.0), (50, 1, 0.25)]  # clients, pipeline, share of --requests


def prepare(srv) -> None:
    for body in SCRIPTS.values():
        srv.command("SCRIPT", "LOAD", body)
    srv.command("FUNCTION", "LOAD", "REPLACE", LIBRARY)
    srv.command("SET", "bench:key", "some value")
    srv.command("SET", "bench:lock", "someone-else")
    for name, cmd in WORKLOADS.items():
        r = srv.command(*cmd)
        if type(r).__name__ == "ReplyError":
            raise RuntimeError(f"{srv.label}: workload {name} fails: {r}")


def run_one(srv, cmd: list[str], clients: int, pipeline: int, n: int, pin: bool,
            bench_exe: str) -> float:
    argv = [bench_exe, "-h", "127.0.0.1", "-p", str(srv.port), "-c", str(clients),
            "-P", str(pipeline), "-n", str(n), "--csv", *cmd]
    p = subprocess.run(pinned(argv, CLIENT_CPU, pin), capture_output=True, text=True,
                       timeout=max(600, n / 100))
    if p.returncode != 0:
        raise RuntimeError(f"redis-benchmark failed: {p.stderr.strip()[-300:]}")
    rows = list(csv.reader(p.stdout.splitlines()))
    return float(rows[1][1])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.script_bench", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workloads", default=",".join(WORKLOADS))
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--requests", type=int, default=200_000,
                    help="requests per run at -P 16 (a quarter of it at -P 1)")
    ap.add_argument("--no-pin", action="store_true")
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args(argv)
    bench_exe = shutil.which("redis-benchmark")
    if bench_exe is None:
        raise SystemExit("redis-benchmark is not installed (Debian: redis-tools)")
    names = args.workloads.split(",")
    unknown = [n for n in names if n not in WORKLOADS]
    if unknown:
        raise SystemExit(f"unknown workloads: {', '.join(unknown)}")
    pin = can_pin() and not args.no_pin
    servers = {k: start(k, pin) for k in ("kvserver", "redis")}
    results: dict[tuple[str, str, str], list[float]] = {}
    try:
        for srv in servers.values():
            prepare(srv)
        for name in names:
            for clients, pipeline, share in CONFIGS:
                cfg = f"-c {clients} -P {pipeline}"
                n = max(1000, int(args.requests * share))
                for r in range(args.rounds):
                    for kind, srv in servers.items():
                        rps = run_one(srv, WORKLOADS[name], clients, pipeline, n, pin, bench_exe)
                        results.setdefault((name, cfg, kind), []).append(rps)
                        print(f"{name:14} {cfg:12} round={r + 1} {kind:8} rps={rps:>10.0f}",
                              flush=True)
    finally:
        for s in servers.values():
            s.stop()
    lines = ["| workload | clients | kvserver rps | Redis rps | ratio |",
             "|---|---|---:|---:|---:|"]
    rows = []
    for name in names:
        for clients, pipeline, _ in CONFIGS:
            cfg = f"-c {clients} -P {pipeline}"
            kv, rd = results[(name, cfg, "kvserver")], results[(name, cfg, "redis")]
            ratio = statistics.median(a / b for a, b in zip(kv, rd, strict=True))
            kvm, rdm = statistics.median(kv), statistics.median(rd)
            rows.append([name, cfg, round(kvm), round(rdm), round(ratio, 2)])
            lines.append(f"| {name} | {cfg} | {kvm:,.0f} | {rdm:,.0f} | {ratio:.2f} |")
    table = "\n".join(lines)
    print(table)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "scripting.md").write_text(
        f"Scripting workloads (see bench/script_bench.py), redis-benchmark, median of "
        f"{args.rounds} rounds, {time.strftime('%Y-%m-%d')}.\n\n{table}\n")
    with open(args.out / "scripting.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["workload", "config", "kvserver_rps", "redis_rps", "ratio"])
        w.writerows(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
