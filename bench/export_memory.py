"""Export memory: the peak RSS an `--all --csv` export adds while it streams
a whole list to /dev/null (docs/rules.md R141): every account, and every
refunded, failed, pending or credited invoice row.

Each command runs in a fresh process (`python -m bench.export_memory --child
...`): it first runs the same command for one row (`--page-size 1`), so the
baseline already holds the libraries, the connection and a page's code paths,
then the whole export with stdout on /dev/null, counting the lines it
writes. The figure is the growth of the process's peak RSS (ru_maxrss) from
the baseline to the end. Budget: under GROWTH_BUDGET_MB, whatever the
length of the list: an export holds one page at a time.

Run by bench/__main__.py on the benchmark's dataset (BENCH_SKIP_EXPORT=1
skips it); alone: `python -m bench.export_memory` (BENCH_TENANTS, default
100,000) prints the table and stores it under "export_memory" in
bench/results.json.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

GROWTH_BUDGET_MB = 25.0


def commands() -> list[list[str]]:
    """Every account, and the invoice rows that are not plain payments (the
    billing events' periods count back from today, after the dataset's days)."""
    return [
        ["accounts", "list", "--all", "--csv"],
        ["invoices", "--all", "--csv", "--status", "Refunded,Failed,Pending,HasCreditNote"],
    ]


class _CountingSink:
    """A text stdout on /dev/null that counts the lines written to it."""

    encoding = "utf-8"

    def __init__(self) -> None:
        self.lines = 0
        self._null = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115  (closed by close())

    def write(self, text: str) -> int:
        self.lines += text.count("\n")
        return self._null.write(text)

    def flush(self) -> None:
        self._null.flush()

    def close(self) -> None:
        self._null.close()


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _run_cli(args: list[str]) -> tuple[int, int]:
    """The command in this process, stdout counted into /dev/null: exit code and lines."""
    from console.cli import main

    sink = _CountingSink()
    saved_out, saved_argv = sys.stdout, sys.argv
    sys.stdout, sys.argv = sink, ["backoffice", *args]  # type: ignore[assignment]
    code = 0
    try:
        main()
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
    finally:
        sys.stdout, sys.argv = saved_out, saved_argv
        sink.close()
    return code, sink.lines


def child(result_path: str, url: str, args: list[str]) -> None:
    """In the measured process: warm up with one row, then the whole export."""
    warm_code, _ = _run_cli(["--database-url", url, *[a for a in args if a != "--all"], "--page-size", "1"])
    baseline = _peak_mb()
    started = time.perf_counter()
    code, lines = _run_cli(["--database-url", url, *args])
    seconds = time.perf_counter() - started
    peak = _peak_mb()
    Path(result_path).write_text(
        json.dumps(
            {
                "exit_code": code or warm_code,
                "rows": max(0, lines - 1),  # less the header (no field here spans lines)
                "seconds": round(seconds, 2),
                "baseline_mb": round(baseline, 1),
                "peak_mb": round(peak, 1),
                "growth_mb": round(peak - baseline, 1),
            }
        )
    )


def measure_command(url: str, args: list[str]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-export-") as folder:
        result = Path(folder) / "result.json"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("BACKOFFICE_", "STRIPE_"))}
        subprocess.run(
            [sys.executable, "-m", "bench.export_memory", "--child", str(result), url, *args],
            check=True,
            env=env,
            stdout=subprocess.DEVNULL,
        )
        figures: dict[str, Any] = json.loads(result.read_text())
    figures["command"] = "backoffice " + " ".join(args)
    figures["within_budget"] = figures["exit_code"] == 0 and figures["growth_mb"] < GROWTH_BUDGET_MB
    return figures


def measure(url: str, *, log: Any = print) -> dict[str, Any]:
    exports = []
    for args in commands():
        log(f"Export memory: backoffice {' '.join(args)} > /dev/null ...")
        exports.append(measure_command(url, args))
    return {"budget_mb": GROWTH_BUDGET_MB, "exports": exports}


def print_table(console: Console, figures: dict[str, Any]) -> None:
    from bench.results import verdict

    table = Table(title=f"Export memory (peak RSS growth, budget {figures['budget_mb']:.0f} MB)", header_style="bold")
    for column in ("command", "rows", "seconds", "rows/s", "baseline MB", "peak MB", "growth MB", ""):
        table.add_column(column, justify="left" if column == "command" else "right")
    for row in figures["exports"]:
        rate = row["rows"] / row["seconds"] if row["seconds"] else 0
        table.add_row(
            row["command"],
            f"{row['rows']:,}",
            f"{row['seconds']:.1f}",
            f"{rate:,.0f}",
            f"{row['baseline_mb']:.1f}",
            f"{row['peak_mb']:.1f}",
            f"{row['growth_mb']:.1f}",
            verdict(row["within_budget"]),
        )
    console.print(table)


def main() -> None:
    from bench import dataset
    from bench.results import store_part

    console = Console(width=max(120, Console().width))
    tenants = int(os.environ.get("BENCH_TENANTS", "100000"))
    engine = dataset.ensure(tenants, int(os.environ.get("BENCH_SEED", "1")), log=console.print)
    figures = measure(engine.url.render_as_string(hide_password=False), log=console.print)
    figures["tenants"] = tenants
    print_table(console, figures)
    store_part("export_memory", figures)
    sys.exit(0 if all(row["within_budget"] for row in figures["exports"]) else 1)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        child(sys.argv[2], sys.argv[3], sys.argv[4:])
    else:
        main()
