"""kvserver beside a real redis-server: throughput/latency, or memory.

    python -m bench.run                      # throughput: the default tests, 5 rounds
    python -m bench.run --quick              # one short round, to try it
    python -m bench.run --tests set,get,lpush --rounds 3 --requests 50000
    python -m bench.run --tests all          # also the list/set/hash/zset tests
    python -m bench.run --memory             # RSS holding the same data

Results go to bench/results/ (CSV, Markdown table, PNG chart). See
bench/README.md for how to read them.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

if __package__ in (None, ""):  # `python bench/run.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import memory, throughput  # noqa: E402
from bench.servers import can_pin, start  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"


def parse_tests(spec: str) -> list[throughput.Test]:
    if spec == "default":
        return list(throughput.TESTS)
    if spec == "all":
        return list(throughput.ALL_TESTS.values())
    out = []
    for name in spec.split(","):
        name = name.strip().lower()
        if name not in throughput.ALL_TESTS:
            raise SystemExit(f"unknown test {name!r}; known: {', '.join(throughput.ALL_TESTS)}")
        out.append(throughput.ALL_TESTS[name])
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tests", default="default",
                    help="comma-separated redis-benchmark tests, 'default' "
                         f"({','.join(t.name for t in throughput.TESTS)}) or 'all' "
                         f"(adds {','.join(t.name for t in throughput.MORE_TESTS)})")
    ap.add_argument("--rounds", type=int, default=5, help="kvserver/Redis alternations")
    ap.add_argument("--requests", type=int, default=100_000,
                    help="requests per test at -c 50 -P 1 (x4 at -P 16, /10 at -c 1)")
    ap.add_argument("--random-keys", type=int, default=0, metavar="N",
                    help="redis-benchmark -r N: keys, members and scores drawn from N "
                         "(collections grow to about N elements); default: one key")
    ap.add_argument("--quick", action="store_true", help="1 round of 20,000 requests")
    ap.add_argument("--memory", action="store_true",
                    help="measure memory (RSS) instead of throughput")
    ap.add_argument("--workloads", default="strings,hashes,zset",
                    help="memory workloads: " + ",".join(w.name for w in memory.WORKLOADS))
    ap.add_argument("--scale", type=float, default=1.0,
                    help="memory: multiply each workload's size (e.g. 0.1 to try it)")
    ap.add_argument("--out", type=Path, default=RESULTS, help="results folder")
    ap.add_argument("--no-pin", action="store_true", help="do not use taskset")
    ap.add_argument("--replot", action="store_true",
                    help="rebuild the table and chart from OUT/throughput-runs.csv")
    args = ap.parse_args(argv)

    if args.replot:
        import json

        raw = throughput.read_runs(args.out / "throughput-runs.csv")
        env = json.loads((args.out / "throughput-env.json").read_text())
        rows = throughput.summarize(raw)
        print(throughput.table(rows))
        throughput.write_results(args.out, rows, raw, env)
        return 0

    pin = can_pin() and not args.no_pin
    print(f"pinning: {'servers on CPU 0, client on CPU 1' if pin else 'off'}")

    if args.memory:
        wanted = {w.strip() for w in args.workloads.split(",")}
        workloads = [w for w in memory.WORKLOADS if w.name in wanted]
        if args.scale != 1.0:
            workloads = [memory.Workload(w.name, f"{w.description} x {args.scale:g}",
                                         w.commands, int(w.size * args.scale),
                                         w.keys if w.keys == 1 else int(w.keys * args.scale))
                         for w in workloads]
        memory.run(workloads, pin, args.out)
        return 0

    tests = parse_tests(args.tests)
    rounds, requests = (1, 20_000) if args.quick else (args.rounds, args.requests)
    kv = start("kvserver", pin)
    try:
        redis = start("redis", pin)
    except BaseException:
        kv.stop()
        raise
    try:
        print(f"kvserver {kv.version} on port {kv.port}, Redis {redis.version} on port "
              f"{redis.port}")
        tests = throughput.implemented(kv, tests)
        if not tests:
            print("nothing to run")
            return 1
        rows, raw = throughput.measure(kv, redis, tests, rounds, requests, pin,
                                       random_keys=args.random_keys)
    finally:
        kv.stop()
        redis.stop()
    print()
    print(throughput.table(rows))
    env = throughput.environment(kv, redis, rounds, requests, pin, args.random_keys)
    throughput.write_results(args.out, rows, raw, env)
    print(f"\nwritten: {args.out}/throughput.csv, throughput.md, throughput.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
