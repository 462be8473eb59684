"""Throughput and latency with redis-benchmark, kvserver beside Redis.

For every round and every client configuration, redis-benchmark runs the
same tests against kvserver, then against Redis (A B A B ...), so that both
see the same machine load. Each round gives a ratio kvserver/Redis per test;
the report quotes the median of those ratios, and the medians of rps and of
the p50 / p99 latencies.
"""

from __future__ import annotations

import csv
import json
import platform
import shutil
import statistics
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from bench.servers import CLIENT_CPU, Server, pinned


@dataclass(frozen=True)
class Test:
    """One redis-benchmark test (-t NAME) and a command that shows whether the
    server implements it (redis-benchmark counts error replies as successes)."""

    name: str
    probe: tuple[str, ...]


# The tests run by default. To add one: append a Test with its -t name and a
# probe command (DEL-able keys under "bench:probe").
TESTS: list[Test] = [
    Test("ping_inline", ("PING",)),
    Test("ping_mbulk", ("PING",)),
    Test("set", ("SET", "bench:probe", "x")),
    Test("get", ("GET", "bench:probe")),
    Test("incr", ("INCR", "bench:probe:n")),
    Test("mset", ("MSET", "bench:probe", "x", "bench:probe2", "y")),
]

# The data-structure tests, run with --tests all (or by name).
MORE_TESTS: list[Test] = [
    Test("lpush", ("LPUSH", "bench:probe:l", "x")),
    Test("lpop", ("LPOP", "bench:probe:l")),
    Test("sadd", ("SADD", "bench:probe:s", "x")),
    Test("hset", ("HSET", "bench:probe:h", "f", "v")),
    Test("spop", ("SPOP", "bench:probe:s")),
    Test("zadd", ("ZADD", "bench:probe:z", "1", "x")),
    Test("zpopmin", ("ZPOPMIN", "bench:probe:z")),
    Test("lrange_100", ("LRANGE", "bench:probe:l", "0", "99")),
]

ALL_TESTS = {t.name: t for t in TESTS + MORE_TESTS}


@dataclass(frozen=True)
class ClientConfig:
    """A redis-benchmark client setup; `scale` multiplies --requests."""

    clients: int
    pipeline: int
    scale: float

    @property
    def label(self) -> str:
        return f"-c {self.clients} -P {self.pipeline}"


CONFIGS = [
    ClientConfig(50, 1, 1.0),
    ClientConfig(50, 16, 4.0),  # ~8x faster: 4x the requests still ends sooner
    ClientConfig(1, 1, 0.1),  # one client waits for each reply: latency
]

FIELDS = ("rps", "avg", "p50", "p99")


def benchmark_path() -> str:
    exe = shutil.which("redis-benchmark")
    if exe is None:
        raise SystemExit("redis-benchmark is not installed (Debian: apt-get install redis-tools)")
    return exe


def implemented(srv: Server, tests: list[Test]) -> list[Test]:
    """The tests whose command the server knows (others are skipped, said so)."""
    ok = []
    for t in tests:
        reply = srv.command(*t.probe)
        text = str(reply)
        if type(reply).__name__ == "ReplyError" and text.startswith("ERR unknown command"):
            print(f"  skipping {t.name}: {srv.label} answers {text!r}")
        else:
            ok.append(t)
    srv.command("DEL", "bench:probe", "bench:probe2", "bench:probe:n", "bench:probe:l",
                "bench:probe:s", "bench:probe:h", "bench:probe:z")
    return ok


def run_benchmark(srv: Server, tests: list[Test], cfg: ClientConfig, requests: int,
                  pin: bool, random_keys: int = 0) -> dict[str, dict[str, float]]:
    """One redis-benchmark run: {test name: {rps, avg, p50, p99}}. random_keys:
    redis-benchmark's -r (keys, members and scores drawn from that many)."""
    n = max(1000, int(requests * cfg.scale))
    argv = [benchmark_path(), "-h", "127.0.0.1", "-p", str(srv.port),
            "-c", str(cfg.clients), "-P", str(cfg.pipeline), "-n", str(n),
            "-t", ",".join(t.name for t in tests), "--csv"]
    if random_keys:
        argv[1:1] = ["-r", str(random_keys)]
    p = subprocess.run(pinned(argv, CLIENT_CPU, pin), capture_output=True, text=True,
                       timeout=max(600, n / 100))
    if p.returncode != 0:
        raise RuntimeError(f"redis-benchmark against {srv.label} failed "
                           f"(status {p.returncode}): {p.stderr.strip()[-500:]}")
    out: dict[str, dict[str, float]] = {}
    for row in csv.DictReader(p.stdout.splitlines()):
        name = row["test"]
        if "needed" in name:  # e.g. "LPUSH (needed to benchmark LRANGE)"
            continue
        key = name.split(" ")[0].lower()
        out[key] = {"rps": float(row["rps"]), "avg": float(row["avg_latency_ms"]),
                    "p50": float(row["p50_latency_ms"]), "p99": float(row["p99_latency_ms"])}
    return out


@dataclass
class Row:
    test: str
    config: str
    kv: dict[str, float]  # medians
    redis: dict[str, float]
    ratio: float  # median over rounds of kvserver rps / Redis rps
    ratios: list[float]


def measure(kv: Server, redis: Server, tests: list[Test], rounds: int, requests: int,
            pin: bool, configs: list[ClientConfig] = CONFIGS,
            random_keys: int = 0) -> tuple[list[Row], list[dict]]:
    """Alternate kvserver and Redis; return summary rows and every raw run."""
    raw: list[dict] = []
    for r in range(1, rounds + 1):
        for cfg in configs:
            for srv in (kv, redis):  # A then B, in every round
                t0 = time.monotonic()
                res = run_benchmark(srv, tests, cfg, requests, pin, random_keys)
                for name, vals in res.items():
                    raw.append({"round": r, "config": cfg.label, "server": srv.kind,
                                "test": name, **vals})
                print(f"  round {r}/{rounds} {cfg.label:12} {srv.label:8} "
                      f"{time.monotonic() - t0:5.1f} s  "
                      + "  ".join(f"{k} {v['rps']:,.0f}" for k, v in res.items()), flush=True)
    return summarize(raw), raw


def summarize(raw: list[dict]) -> list[Row]:
    """Medians per (configuration, test), in the order the runs came."""
    rows = []
    for cfg in dict.fromkeys(x["config"] for x in raw):
        for test in dict.fromkeys(x["test"] for x in raw):
            def runs(kind: str, test: str = test, cfg: str = cfg) -> list[dict]:
                return [x for x in raw if x["server"] == kind and x["test"] == test
                        and x["config"] == cfg]
            k, rd = runs("kvserver"), runs("redis")
            if not k or not rd:
                continue
            by_round = {x["round"]: x for x in rd}
            ratios = [x["rps"] / by_round[x["round"]]["rps"] for x in k
                      if x["round"] in by_round and by_round[x["round"]]["rps"]]
            rows.append(Row(
                test, cfg,
                {f: statistics.median(x[f] for x in k) for f in FIELDS},
                {f: statistics.median(x[f] for x in rd) for f in FIELDS},
                statistics.median(ratios), ratios))
    return rows


def read_runs(path: Path) -> list[dict]:
    """throughput-runs.csv back into runs (for --replot)."""
    with open(path, newline="") as f:
        return [{**x, "round": int(x["round"]), **{k: float(x[k]) for k in FIELDS}}
                for x in csv.DictReader(f)]


def table(rows: list[Row]) -> str:
    head = (f"{'test':12} {'clients':12} {'kvserver rps':>13} {'Redis rps':>11} {'ratio':>6}"
            f" {'kv p50':>7} {'Redis p50':>9} {'kv p99':>7} {'Redis p99':>9}")
    lines = [head, "-" * len(head)]
    for r in rows:
        lines.append(
            f"{r.test:12} {r.config:12} {r.kv['rps']:13,.0f} {r.redis['rps']:11,.0f}"
            f" {r.ratio:6.2f} {r.kv['p50']:7.3f} {r.redis['p50']:9.3f}"
            f" {r.kv['p99']:7.3f} {r.redis['p99']:9.3f}")
    lines.append("(rps: requests per second; p50/p99: latency in ms; ratio: median over "
                 "rounds of kvserver rps / Redis rps)")
    return "\n".join(lines)


def markdown(rows: list[Row]) -> str:
    lines = ["| test | clients | kvserver rps | Redis rps | ratio | kvserver p50 ms | Redis p50 ms"
             " | kvserver p99 ms | Redis p99 ms |",
             "|---|---|--:|--:|--:|--:|--:|--:|--:|"]
    for r in rows:
        lines.append(
            f"| {r.test.upper()} | `{r.config}` | {r.kv['rps']:,.0f} | {r.redis['rps']:,.0f}"
            f" | {r.ratio:.2f} | {r.kv['p50']:.3f} | {r.redis['p50']:.3f}"
            f" | {r.kv['p99']:.3f} | {r.redis['p99']:.3f} |")
    return "\n".join(lines)


def summary_markdown(rows: list[Row]) -> str:
    """One line per test: the ratio in each configuration, and the p50 latency
    of one client (kvserver / Redis). For the README."""
    configs = list(dict.fromkeys(r.config for r in rows))
    by = {(r.test, r.config): r for r in rows}
    latency = "-c 1 -P 1"
    head = "| test | " + " | ".join(f"ratio `{c}`" for c in configs)
    head += f" | p50 ms `{latency}`, kvserver / Redis |" if latency in configs else " |"
    lines = [head, "|---|" + "--:|" * (len(configs) + (latency in configs))]
    for test in dict.fromkeys(r.test for r in rows):
        cells = [f"{by[(test, c)].ratio:.2f}" if (test, c) in by else "-" for c in configs]
        if latency in configs and (test, latency) in by:
            r = by[(test, latency)]
            cells.append(f"{r.kv['p50']:.3f} / {r.redis['p50']:.3f}")
        lines.append(f"| {test.upper()} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def environment(kv: Server, redis: Server, rounds: int, requests: int, pin: bool,
                random_keys: int = 0) -> dict:
    import os

    return {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "kvserver": kv.version, "redis": redis.version,
        "python": platform.python_version(), "machine": platform.machine(),
        "cpus": os.cpu_count(), "pinned": pin, "rounds": rounds, "requests": requests,
        "random_keys": random_keys,
    }


def write_results(outdir: Path, rows: list[Row], raw: list[dict], env: dict) -> None:
    outdir.mkdir(parents=True, exist_ok=True)
    with open(outdir / "throughput.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["test", "clients", "kvserver_rps", "redis_rps", "ratio",
                    "kvserver_p50_ms", "redis_p50_ms", "kvserver_p99_ms", "redis_p99_ms",
                    "ratios_per_round"])
        for r in rows:
            w.writerow([r.test, r.config, f"{r.kv['rps']:.0f}", f"{r.redis['rps']:.0f}",
                        f"{r.ratio:.3f}", r.kv["p50"], r.redis["p50"], r.kv["p99"],
                        r.redis["p99"], " ".join(f"{x:.3f}" for x in r.ratios)])
    with open(outdir / "throughput-runs.csv", "w", newline="") as f:
        w = csv.DictWriter(f, ["round", "config", "server", "test", *FIELDS])
        w.writeheader()
        w.writerows(raw)
    (outdir / "throughput-env.json").write_text(json.dumps(env, indent=1) + "\n")
    env_line = ", ".join(f"{k} {v}" for k, v in env.items())
    (outdir / "throughput.md").write_text(
        f"{markdown(rows)}\n\n<sub>{env_line}</sub>\n")
    (outdir / "throughput-summary.md").write_text(
        f"{summary_markdown(rows)}\n\n<sub>{env_line}</sub>\n")
    chart(outdir / "throughput.png", rows, env)


def chart(path: Path, rows: list[Row], env: dict) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tests = list(dict.fromkeys(r.test for r in rows))
    configs = list(dict.fromkeys(r.config for r in rows))
    by = {(r.test, r.config): r for r in rows}
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(max(8, 1.3 * len(tests) + 3), 8))
    width = 0.8 / max(1, len(configs))
    for i, cfg in enumerate(configs):
        xs = [j + (i - (len(configs) - 1) / 2) * width for j in range(len(tests))]
        ratios = [by[(t, cfg)].ratio if (t, cfg) in by else 0 for t in tests]
        bars = ax1.bar(xs, ratios, width, label=cfg)
        ax1.bar_label(bars, fmt="%.2f", fontsize=7)
        kv_rps = [by[(t, cfg)].kv["rps"] / 1000 if (t, cfg) in by else 0 for t in tests]
        rd_rps = [by[(t, cfg)].redis["rps"] / 1000 if (t, cfg) in by else 0 for t in tests]
        ax2.bar(xs, kv_rps, width, color=f"C{i}", alpha=0.85, label=f"kvserver {cfg}")
        ax2.bar(xs, rd_rps, width, color="none", edgecolor="black", linestyle="--",
                linewidth=0.8, zorder=3)
    ax1.axhline(1.0, color="black", linewidth=0.8)
    ax1.set_ylim(0, max([1.0] + [r.ratio for r in rows]) * 1.25)
    ax1.set_ylabel("kvserver / Redis (rps)")
    ax1.set_title(f"kvserver {env['kvserver']} vs Redis {env['redis']}: median ratio over "
                  f"{env['rounds']} rounds")
    ax1.set_xticks(range(len(tests)), [t.upper() for t in tests])
    ax1.legend(fontsize=8, loc="upper center", ncol=len(configs))
    ax2.set_yscale("log")
    ax2.set_ylabel("thousand requests / s (log)")
    ax2.set_title("kvserver (filled) and Redis (dashed outline)")
    ax2.set_xticks(range(len(tests)), [t.upper() for t in tests])
    top = max(max(r.kv["rps"], r.redis["rps"]) for r in rows) / 1000
    low = min(min(r.kv["rps"], r.redis["rps"]) for r in rows) / 1000
    ax2.set_ylim(low / 2, top * 4)
    ax2.legend(fontsize=8, loc="upper center", ncol=len(configs))
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
