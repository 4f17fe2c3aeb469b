"""Percentiles, figures and the printed tables: the one way benchmarks report (they never assert timings)."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass


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


@dataclass(frozen=True)
class Figure:
    """One line of the benchmark table: a measured value next to its goal and its yardstick (measured in the
    same run), so a noisy machine moves both and the ratio stays telling."""

    name: str
    unit: str
    measured: float
    goal: float
    higher_is_better: bool
    yardstick: float | None = None
    yardstick_name: str = ""
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.yardstick is None or not self.yardstick or math.isnan(self.yardstick):
            return None
        return self.measured / self.yardstick

    @property
    def met(self) -> bool:
        return self.measured >= self.goal if self.higher_is_better else self.measured <= self.goal


def _number(value: float, unit: str) -> str:
    if math.isnan(value):
        return "-"
    text = f"{value:,.0f}" if abs(value) >= 100 else f"{value:.2f}" if abs(value) < 10 else f"{value:.1f}"
    return f"{text} {unit}"


def print_figures(figures: Sequence[Figure]) -> None:
    """The one table `python -m bench` ends with (Markdown, so it pastes into bench/README.md)."""
    print("\n| figure | goal | measured | yardstick (same run) | ratio | goal met |")
    print("|---|---|---|---|---|---|")
    for f in figures:
        sign = "≥" if f.higher_is_better else "≤"
        yard = f"{f.yardstick_name}: {_number(f.yardstick, f.unit)}" if f.yardstick is not None else "—"
        ratio = f"{f.ratio:.2f}×" if f.ratio is not None else "—"
        note = f" ({f.note})" if f.note else ""
        met = "yes" if f.met else "no"
        print(
            f"| {f.name}{note} | {sign} {_number(f.goal, f.unit)} | {_number(f.measured, f.unit)} "
            f"| {yard} | {ratio} | {met} |"
        )
