"""`make bench`: build (or reuse) the datasets, time every query behind a
screen at each size and how it grows (bench/scaling.py), compare the MRR
trend with the original's algorithm, measure the console, print the tables
and write bench/results.json.

Arguments (make bench BENCH_ARGS="..."): --sizes 12500,25000 (the tenant
counts; default 12500,25000,50000,100000), --jobs N (the build's processes).
Environment: BENCH_SIZES (as --sizes), BENCH_TENANTS (one size), BENCH_SEED (1), BENCH_RUNS (10),
BENCH_PGDATA (where the cached dataset server lives), BENCH_SKIP_CONSOLE=1,
BENCH_SKIP_RECEIVER=1 (the webhook receiver's figures, bench/receiver.py),
BENCH_SKIP_SSH=1 (the console over SSH, bench/ssh.py).
The kiosk soak (bench/soak.py) runs last, in a process of its own:
BENCH_SKIP_SOAK=1 skips it, BENCH_SOAK_CYCLES sets its length.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import asdict

from rich.console import Console
from rich.table import Table

from bench import cases, dataset, scaling
from bench.harness import Measurement
from bench.results import RESULTS, verdict


def _int_env(name: str, default: int) -> int:
    raw = os.environ.get(name, "")
    try:
        return int(raw) if raw else default
    except ValueError:
        sys.exit(f"error: {name} must be a whole number, not {raw!r}")


def _query_table(measurements: list[Measurement], tenants: int) -> Table:
    table = Table(title=f"Queries at {tenants:,} tenants (ms)", header_style="bold")
    for column in ("group", "query", "median", "max", "SQL floor", "ratio", "budget", ""):
        table.add_column(column, justify="left" if column in ("group", "query") else "right")
    for m in measurements:
        table.add_row(
            m.group,
            m.name,
            f"{m.median_ms:.1f}",
            f"{m.max_ms:.1f}",
            f"{m.floor_ms:.1f}",
            f"{m.ratio:.2f}",
            "" if m.budget_ms is None else f"{m.budget_ms:.0f}",
            verdict(m.within_budget),
        )
    return table


def main() -> None:
    console = Console(width=max(120, Console().width))
    sizes, jobs = scaling.sizes_from(sys.argv[1:])
    tenants = max(sizes)
    seed = _int_env("BENCH_SEED", 1)
    runs = max(5, _int_env("BENCH_RUNS", 10))
    # Every query at every size (bench/scaling.py); the rest runs on the largest.
    per_size, engine = scaling.measure_sizes(
        sizes,
        lambda size: dataset.ensure(size, seed, log=console.print, jobs=jobs),
        cases.query_cases,
        runs=runs,
        log=lambda line: console.print(line, highlight=False),
    )
    measurements = per_size[tenants]
    console.print(_query_table(measurements, tenants))
    growth = scaling.growth(per_size)
    scaling.print_summary(console, growth)

    trend = cases.mrr_trend_comparison(engine, runs=min(runs, 3))
    console.print(
        f"MRR trend (90 days): ours {trend['ours_ms']:.1f} ms, original algorithm {trend['original_ms']:.1f} ms, "
        f"speedup {trend['speedup']:.0f}x (budget >= 20x) {verdict(trend['speedup'] >= 20)}; "
        f"same figures: {trend['same_figures']}"
    )

    console_figures = {}
    if os.environ.get("BENCH_SKIP_CONSOLE") != "1":
        from bench import console_figures as figures

        console_figures = figures.measure(engine)
        figures.print_table(console, console_figures)

    receiver_figures = {}
    if os.environ.get("BENCH_SKIP_RECEIVER") != "1":
        from bench import receiver

        receiver_figures = receiver.measure(log=console.print)
        receiver.print_table(console, receiver_figures)

    ssh_figures = {}
    if os.environ.get("BENCH_SKIP_SSH") != "1":
        from bench import ssh

        ssh_figures = ssh.measure(log=console.print)
        ssh.print_table(console, ssh_figures)

    export_figures = {}
    if os.environ.get("BENCH_SKIP_EXPORT") != "1":
        from bench import export_memory

        export_figures = export_memory.measure(engine.url.render_as_string(hide_password=False), log=console.print)
        export_memory.print_table(console, export_figures)

    soak_figures = {}
    if os.environ.get("BENCH_SKIP_SOAK") != "1":
        from bench import soak

        console.print(f"Kiosk soak: {soak.cycles():,} refresh cycles on a server of its own...")
        soak_figures = soak.measure()
        soak.print_table(console, soak_figures)

    # A part skipped in this run keeps the figures of the run that measured it.
    previous = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    RESULTS.write_text(
        json.dumps(
            {
                "tenants": tenants,
                "seed": seed,
                "runs": runs,
                "queries": [asdict(m) | {"ratio": m.ratio, "within_budget": m.within_budget} for m in measurements],
                "sizes": sizes,
                "scaling": scaling.results(growth, sizes),
                "mrr_trend_vs_original": trend,
                "console": console_figures or previous.get("console", {}),
                "soak": soak_figures or previous.get("soak", {}),
                "export_memory": export_figures or previous.get("export_memory", {}),
                "receiver": receiver_figures or previous.get("receiver", {}),
                "ssh": ssh_figures or previous.get("ssh", {}),
            },
            indent=2,
            default=str,
        )
    )
    console.print(f"Wrote {RESULTS}")


if __name__ == "__main__":
    main()
