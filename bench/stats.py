"""Percentiles and a printed table: the one way benchmarks report figures (they never assert timings)."""

from __future__ import annotations

import statistics
from collections.abc import Sequence


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def summary_ms(values: Sequence[float]) -> dict[str, float]:
    """p50/p90/p99/mean/max of durations given in seconds, in milliseconds."""
    return {
        "p50": percentile(values, 50) * 1000,
        "p90": percentile(values, 90) * 1000,
        "p99": percentile(values, 99) * 1000,
        "mean": statistics.fmean(values) * 1000 if values else float("nan"),
        "max": max(values) * 1000 if values else float("nan"),
    }


def print_table(title: str, rows: list[tuple[str, dict[str, float]]]) -> None:
    columns = ["p50", "p90", "p99", "mean", "max"]
    print(f"\n{title}")
    print(f"{'':44} " + " ".join(f"{c:>9}" for c in columns))
    for label, figures in rows:
        print(f"{label:44} " + " ".join(f"{figures[c]:9.1f}" for c in columns))
