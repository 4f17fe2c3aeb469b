"""Every benchmark figure of the CRM in one run, printed as one table: for each figure its goal, the value
measured, its yardstick measured in the same run (a noisy machine moves both) and their ratio. Nothing is
asserted; the table is what bench/README.md records.

Figures (names to select some of them; all by default):
  latency    register → customer visible through the gateway, six processes on Kafka + PostgreSQL, p50/p99
             (yardstick: the same flow embedded, on the durable local bus)
  writes     customer writes through the gateway, each with its outbox row: sustained rate
             (yardstick: raw single-row asyncpg inserts on the same PostgreSQL)
  consume    analytics consuming a backlog of mixed events idempotently
             (yardstick: Kafka's ConsumerPerformance)
  relay      the outbox relay draining pending rows into Kafka (yardstick: Kafka's ProducerPerformance)
  rss        `crm dev` RSS after N API operations
  coldstart  `crm dev` cold start to the first answered request
  web        the web app in Chromium: initial JavaScript per route, the dashboard's first paint, the customers
             list with 10,000 customers, a customer's creation → its task on the open stream / in the page

Usage: .venv/bin/python -m bench [--quick] [FIGURE ...]
Profile one figure: .venv/bin/py-spy record -o consume.svg -- .venv/bin/python -m bench consume
"""

from __future__ import annotations

import argparse
import platform
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from bench import embedded, kafka_figures, register_to_customer, web, writes
from bench.bed import Bed
from bench.signals import stop_on_signals
from bench.stats import Figure, print_figures

FIGURES = ["latency", "writes", "consume", "relay", "rss", "coldstart", "web"]


def _sizes(args: argparse.Namespace) -> dict[str, int]:
    full = {
        "users": 200,
        "seconds": 10,
        "events": 200_000,
        "rows": 100_000,
        "operations": 10_000,
        "starts": 3,
        "customers": 10_000,
        "samples": 20,
    }
    quick = {
        "users": 20,
        "seconds": 3,
        "events": 10_000,
        "rows": 5_000,
        "operations": 500,
        "starts": 1,
        "customers": 1_000,
        "samples": 5,
    }
    chosen = quick if args.quick else full
    return {k: getattr(args, k) if getattr(args, k) is not None else v for k, v in chosen.items()}


def _machine() -> str:
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()
    cores = len(__import__("os").sched_getaffinity(0))
    return (
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, commit {commit or '?'}, {platform.system()} "
        f"{cores} cores, Python {platform.python_version()}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("figures", nargs="*", metavar="FIGURE", help=" | ".join(FIGURES))
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run of the harness")
    parser.add_argument("--users", type=int, help="latency: users registered one after another (200)")
    parser.add_argument("--seconds", type=int, help="writes: seconds of load (10)")
    parser.add_argument("--events", type=int, help="consume: events in the backlog (200,000)")
    parser.add_argument("--rows", type=int, help="relay: pending outbox rows (100,000)")
    parser.add_argument("--operations", type=int, help="rss: API operations before measuring (10,000)")
    parser.add_argument("--starts", type=int, help="coldstart: fresh starts, the median kept (3)")
    parser.add_argument("--customers", type=int, help="web: customers in the list (10,000)")
    parser.add_argument("--samples", type=int, help="web: creations timed to the stream and the page (20)")
    args = parser.parse_args()
    unknown = sorted(set(args.figures) - set(FIGURES))
    if unknown:
        parser.error(f"unknown figure(s) {', '.join(unknown)}: choose among {', '.join(FIGURES)}")
    chosen = [f for f in FIGURES if f in (args.figures or FIGURES)]
    size = _sizes(args)
    stop_on_signals()
    print(f"# python -m bench {' '.join(chosen)}{' --quick' if args.quick else ''} — {_machine()}")
    results: list[Figure] = []
    failed: list[str] = []
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="crm-bench-") as tmp:
        bed = Bed(Path(tmp))
        runs: dict[str, Callable[[], list[Figure]]] = {
            "latency": lambda: register_to_customer.figures(bed, size["users"]),
            "writes": lambda: [writes.figure(bed, size["seconds"])],
            "consume": lambda: [kafka_figures.consume_figure(bed, size["events"])],
            "relay": lambda: [kafka_figures.relay_figure(bed, size["rows"])],
        }

        def embedded_figures() -> list[Figure]:
            bed.close()  # nothing else running while the embedded mode is measured
            operations = size["operations"] if "rss" in chosen else 0
            return [
                f
                for f in embedded.figures(Path(tmp) / "dev", operations, size["starts"])
                if ("rss" if "RSS" in f.name else "coldstart") in chosen
            ]

        def web_figures() -> list[Figure]:
            bed.close()  # the browser and `crm dev` alone on the machine
            return web.figures(Path(tmp) / "web", size["customers"], size["samples"])

        runs["rss"] = runs["coldstart"] = embedded_figures
        runs["web"] = web_figures
        done: set[Callable[[], list[Figure]]] = set()
        try:
            for name in chosen:
                if name in ("consume", "relay"):
                    bed.stop_cluster()  # its consumers would react to the backlogs these figures make
                if runs[name] in done:  # rss and coldstart come from one run
                    continue
                done.add(runs[name])
                try:
                    results += runs[name]()
                except Exception as exc:  # one broken figure must not lose the others' table
                    failed.append(name)
                    traceback.print_exc()
                    print(f"\n❌ figure {name} failed: {type(exc).__name__}: {exc}")
        finally:
            bed.close()
    print_figures(results)
    if failed:
        print(f"\nnot measured (failed, see above): {', '.join(failed)}")
    print(f"\n({time.perf_counter() - started:.0f} s in all)")


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:  # Ctrl-C, SIGTERM or SIGHUP: what the run started is stopped by now
        print("interrupted: the run's broker, PostgreSQL and processes are stopped", file=sys.stderr)
        sys.exit(130)
