"""How every screen's query grows with the platform: each query is timed at
several dataset sizes (12,500 to 100,000 tenants by default), and from its
best times (the fastest of the runs: on a machine shared with other work the
best run is the steadiest figure of what the query itself needs) come the
growth factor over a fourfold size (25,000 to 100,000
tenants) and the time a least-squares line of time against tenants predicts at
1,000,000 tenants, an extrapolation. Budget (docs/rules.md R170): a query
grows at most 1.5x over the fourfold size, its predicted 1M time stays
within its own budget, and at the largest size its plans read no table that
grows with the platform from end to end (GROWING_TABLES).
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine

from bench.harness import Case, Measurement, measure
from bench.results import verdict

SIZES = (12_500, 25_000, 50_000, 100_000)
FACTOR_FROM, FACTOR_TO = 25_000, 100_000
PREDICT_AT = 1_000_000
MAX_GROWTH = 1.5
# Below this a query's time is mostly the round trip and the scheduler: its
# growth is shown but not judged (0.4 ms to 0.9 ms is no trend).
NOISE_FLOOR_MS = 1.0
# The tables with rows per tenant, user, event or login: a plan that reads one
# of them whole costs what the platform holds (docs/rules.md R170). Summaries
# by day or by key stay small and may be read whole.
GROWING_TABLES = frozenset(
    {
        "tenants",
        "users",
        "subscriptions",
        "billing_events",
        "billing_drift_checks",
        "payment_transaction_rows",
        "sessions",
        "email_logins",
        "external_logins",
        "login_user_days",
        "ledger_subscriptions",
        "subscription_revenue",
        "operator_actions",
        "account_classes",
    }
)


def sizes_from(argv: Sequence[str], environ: dict[str, str] | None = None) -> tuple[list[int], int | None]:
    """The sizes to measure and the build's processes: `--sizes 12500,25000`
    and `--jobs N` (make bench BENCH_ARGS=...), else BENCH_SIZES, else
    BENCH_TENANTS alone, else SIZES."""
    environ = dict(os.environ) if environ is None else environ
    parser = argparse.ArgumentParser(prog="python -m bench", description="The performance benchmark.")
    parser.add_argument("--sizes", help="comma-separated tenant counts (default: 12500,25000,50000,100000)")
    parser.add_argument("--jobs", type=int, help="processes that build a dataset (default: one per CPU)")
    arguments = parser.parse_args(list(argv))
    raw = arguments.sizes or environ.get("BENCH_SIZES") or environ.get("BENCH_TENANTS") or ""
    try:
        sizes = sorted({int(part) for part in raw.replace(" ", "").split(",") if part}) or list(SIZES)
    except ValueError:
        parser.error(f"sizes must be whole numbers separated by commas, not {raw!r}")
    if sizes[0] < 1 or (arguments.jobs is not None and arguments.jobs < 1):
        parser.error("sizes and jobs must be at least 1")
    return sizes, arguments.jobs


@dataclass(frozen=True)
class Growth:
    """One query across the sizes."""

    group: str
    name: str
    best_ms: dict[int, float]  # tenants -> the fastest run's ms
    budget_ms: float | None
    factor: float | None  # time at the larger size of the fourfold span / time at the smaller
    factor_span: tuple[int, int] | None
    predicted_1m_ms: float | None  # the fitted line at PREDICT_AT: an extrapolation
    pages: dict[int, int] | None = None  # tenants -> shared buffers the plans touched
    pages_factor: float | None = None  # the same span's growth in pages: the work, whatever the machine's load
    reads_whole: tuple[str, ...] = ()  # growing tables its plans read from end to end at the largest size
    on_request: bool = False  # its growth is what was asked for (harness.Case.on_request): not judged

    @property
    def grows_within(self) -> bool | None:
        if self.on_request or self.factor is None or self.factor_span is None:
            return None
        if self.best_ms[self.factor_span[1]] < NOISE_FLOOR_MS:
            return None
        return self.factor <= MAX_GROWTH

    @property
    def predicted_within(self) -> bool | None:
        if self.budget_ms is None or self.predicted_1m_ms is None:
            return None
        return self.predicted_1m_ms <= self.budget_ms

    @property
    def within_budget(self) -> bool | None:
        checks = [check for check in (self.grows_within, self.predicted_within) if check is not None]
        if self.reads_whole:
            return False
        return all(checks) if checks else None

    def as_json(self) -> dict[str, Any]:
        return {
            "group": self.group,
            "name": self.name,
            "best_ms": {str(size): ms for size, ms in self.best_ms.items()},
            "budget_ms": self.budget_ms,
            "factor": self.factor,
            "factor_span": list(self.factor_span) if self.factor_span else None,
            "predicted_1m_ms": self.predicted_1m_ms,
            "pages": None if self.pages is None else {str(size): pages for size, pages in self.pages.items()},
            "pages_factor": self.pages_factor,
            "reads_whole": list(self.reads_whole),
            "on_request": self.on_request,
            "grows_within": self.grows_within,
            "predicted_within": self.predicted_within,
            "within_budget": self.within_budget,
        }


def fitted_line(points: Iterable[tuple[float, float]]) -> tuple[float, float] | None:
    """(intercept, slope) of the least-squares line through the points; None under two sizes."""
    pairs = list(points)
    if len({x for x, _ in pairs}) < 2:
        return None
    n = len(pairs)
    mean_x = sum(x for x, _ in pairs) / n
    mean_y = sum(y for _, y in pairs) / n
    slope = sum((x - mean_x) * (y - mean_y) for x, y in pairs) / sum((x - mean_x) ** 2 for x, _ in pairs)
    return mean_y - slope * mean_x, slope


def factor_span(sizes: Iterable[int]) -> tuple[int, int] | None:
    """The fourfold span the growth factor is taken over: 25,000 to 100,000
    tenants when both were measured, else the largest size and a quarter of
    it (a quick run with other sizes), else none."""
    measured = set(sizes)
    if {FACTOR_FROM, FACTOR_TO} <= measured:
        return FACTOR_FROM, FACTOR_TO
    largest = max(measured, default=0)
    if largest % 4 == 0 and largest // 4 in measured:
        return largest // 4, largest
    return None


def growth(per_size: dict[int, list[Measurement]]) -> list[Growth]:
    """Each query's growth, in the order of the cases."""
    span = factor_span(per_size)
    by_size = {size: {(m.group, m.name): m for m in measured} for size, measured in per_size.items()}
    largest = max(per_size)
    result = []
    for m in per_size[largest]:
        key = (m.group, m.name)
        times = {size: _best(by_size[size][key]) for size in sorted(per_size) if key in by_size[size]}
        line = fitted_line(times.items())
        factor = None
        if span is not None and span[0] in times and times[span[0]] > 0:
            factor = times[span[1]] / times[span[0]]
        pages = {
            size: pages
            for size in sorted(per_size)
            if key in by_size[size] and (pages := by_size[size][key].pages) is not None
        }
        pages_factor = None
        if span is not None and pages.get(span[0]) and span[1] in pages:
            pages_factor = pages[span[1]] / pages[span[0]]
        result.append(
            Growth(
                group=m.group,
                name=m.name,
                best_ms=times,
                budget_ms=m.budget_ms,
                factor=factor,
                factor_span=span if factor is not None else None,
                # A line through falling times predicts less than nothing: a time is never below zero.
                predicted_1m_ms=None if line is None else max(0.0, line[0] + line[1] * PREDICT_AT),
                pages=pages or None,
                pages_factor=pages_factor,
                reads_whole=tuple(table for table in m.seq_scans if table in GROWING_TABLES),
                on_request=m.on_request,
            )
        )
    return result


def _best(measurement: Measurement) -> float:
    return measurement.median_ms if measurement.min_ms is None else measurement.min_ms


def measure_sizes(
    sizes: Sequence[int],
    engine_for: Callable[[int], Engine],
    cases_for: Callable[[Engine], list[Case]],
    *,
    runs: int,
    log: Callable[[str], object] = print,
) -> tuple[dict[int, list[Measurement]], Engine]:
    """Every case at every size, smallest first; the measurements per size and
    the largest size's engine (the rest of the benchmark runs on it)."""
    per_size: dict[int, list[Measurement]] = {}
    engine: Engine | None = None
    for size in sorted(sizes):
        if engine is not None:
            engine.dispose()
        engine = engine_for(size)
        measured = []
        for case in cases_for(engine):
            measurement = measure(engine, case, runs=runs)
            measured.append(measurement)
            log(f"  {size:,} tenants: {case.group} / {case.name}: {measurement.median_ms:.1f} ms")
        per_size[size] = measured
    assert engine is not None, "no sizes to measure"
    return per_size, engine


def table(rows: list[Growth]) -> Table:
    sizes = sorted({size for row in rows for size in row.best_ms})
    span = next((row.factor_span for row in rows if row.factor_span), None)
    title = "Scaling: best of the runs, ms, per size"
    if span:
        title += (
            f"; growth from {span[0]:,} to {span[1]:,} tenants (budget <= {MAX_GROWTH}x,"
            f" not judged under {NOISE_FLOOR_MS:g} ms)"
        )
    title += f"; 1M = the least-squares line extrapolated to {PREDICT_AT:,} tenants"
    result = Table(title=title, header_style="bold")
    result.add_column("group")
    result.add_column("query")
    for size in sizes:
        result.add_column(_size_label(size), justify="right")
    for column in ("factor", "pages factor", "1M (extrap.)", "budget", "reads whole", ""):
        result.add_column(column, justify="right")
    for row in rows:
        result.add_row(
            row.group,
            row.name,
            *(f"{row.best_ms[size]:.1f}" if size in row.best_ms else "" for size in sizes),
            "" if row.factor is None else f"{row.factor:.2f}x" + (" (asked)" if row.on_request else ""),
            "" if row.pages_factor is None else f"{row.pages_factor:.2f}x",
            "" if row.predicted_1m_ms is None else f"{row.predicted_1m_ms:.0f}",
            "" if row.budget_ms is None else f"{row.budget_ms:.0f}",
            ", ".join(row.reads_whole),
            verdict(row.within_budget),
        )
    return result


def print_summary(console: Console, rows: list[Growth]) -> None:
    console.print(table(rows))
    missed = [row for row in rows if row.within_budget is False]
    console.print(
        f"Scaling: {len(rows) - len(missed)} of {len(rows)} queries within budget (the 1M times are an extrapolation)"
        + ("" if not missed else "; MISSED: " + ", ".join(f"{row.group} / {row.name}" for row in missed)),
        highlight=False,
    )


def _size_label(size: int) -> str:
    return (
        f"{size // 1000}k" if size >= 1000 and size % 1000 == 0 else f"{size / 1000:g}k" if size >= 1000 else str(size)
    )


def results(rows: list[Growth], sizes: Sequence[int]) -> dict[str, Any]:
    """The results file's `scaling` entry."""
    span = next((row.factor_span for row in rows if row.factor_span), None)
    return {
        "sizes": sorted(sizes),
        "factor_span": list(span) if span else None,
        "max_growth": MAX_GROWTH,
        "noise_floor_ms": NOISE_FLOOR_MS,
        "predicted_at": PREDICT_AT,
        "times": "the best of the runs at each size, ms",
        "prediction": "least-squares line of the best time against tenants, extrapolated",
        "queries": [row.as_json() for row in rows],
    }
