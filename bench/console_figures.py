"""Console figures, headless (App.run_test) in a process of their own so its
peak RSS is the console's: start to a fully loaded dashboard, a cursor move
and a page in the accounts list.

Run by bench/__main__.py; alone: `python -m bench.console_figures URL`.
"""

from __future__ import annotations

import asyncio
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine, create_engine

BUDGETS_MS = {"dashboard_loaded_ms": 1500, "cursor_move_ms": 33}
RSS_BUDGET_MB = 200


async def _settle(pilot: Any) -> None:
    """Until every worker has finished and its messages are handled."""
    from textual.worker import WorkerCancelled, WorkerFailed

    for _ in range(200):
        try:
            await pilot.app.workers.wait_for_complete()
        except (WorkerCancelled, WorkerFailed):
            pass
        await pilot.pause()
        if not any(worker.is_running for worker in pilot.app.workers):
            await pilot.pause()
            return


async def _presses(pilot: Any, key: str, count: int = 20) -> tuple[list[float], list[float]]:
    """Wall and event-loop thread time (ms) of each press, until handled."""
    wall, work = [], []
    for _ in range(count):
        started, started_work = time.perf_counter(), time.thread_time()
        await pilot.press(key)
        await pilot.pause()
        wall.append((time.perf_counter() - started) * 1000)
        work.append((time.thread_time() - started_work) * 1000)
    return wall, work


async def _figures(url: str) -> dict[str, Any]:
    from bench.dataset import DATASET_NOW
    from console.app import BackofficeApp
    from core.settings import Settings

    engine = create_engine(url)
    app = BackofficeApp(settings=Settings(operator="bench"), engine=engine, now=DATASET_NOW)
    started = time.perf_counter()
    async with app.run_test(size=(160, 50)) as pilot:
        await _settle(pilot)
        dashboard_ms = (time.perf_counter() - started) * 1000

        app.navigate("accounts")
        await _settle(pilot)
        # What Pilot itself spends on a key press (a key bound to nothing), so
        # the cursor move can be read net of the test driver.
        idle, idle_work = await _presses(pilot, "f24")
        moves, moves_work = await _presses(pilot, "down")
        await _settle(pilot)
        pages = []
        for _ in range(5):
            before = time.perf_counter()
            await pilot.press("pagedown")
            await _settle(pilot)
            pages.append((time.perf_counter() - before) * 1000)
    engine.dispose()
    return {
        "dashboard_loaded_ms": dashboard_ms,
        # The event loop's own time (thread_time: the app and the driver share
        # it, database workers do not), net of the driver: the work to move
        # and repaint. Wall time adds up to a frame of waiting for the
        # screen's refresh timer, so it is shown gross only.
        "cursor_move_ms": max(0.0, statistics.median(moves_work) - statistics.median(idle_work)),
        "cursor_move_wall_net_ms": max(0.0, statistics.median(moves) - statistics.median(idle)),
        "cursor_move_gross_ms": statistics.median(moves),
        "key_press_overhead_ms": statistics.median(idle),
        "cursor_move_max_ms": max(moves),
        "page_ms": statistics.median(pages),
        "peak_rss_mb": _peak_rss_mb(),
    }


def _peak_rss_mb() -> float:
    """This program's own peak: VmHWM belongs to the memory of this program
    alone, while ru_maxrss keeps the peak of the parent it was forked from
    (the benchmark, which may just have built the dataset) across exec."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kilobytes = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:"))
    return kilobytes / 1024


def measure(engine: Engine) -> dict[str, Any]:
    url = engine.url.render_as_string(hide_password=False)
    result = subprocess.run(
        [sys.executable, "-m", "bench.console_figures", url], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        return {"error": (result.stderr.strip().splitlines() or ["failed"])[-1]}
    return json.loads(result.stdout.strip().splitlines()[-1])


def print_table(console: Console, figures: dict[str, Any]) -> None:
    if "error" in figures:
        console.print(f"[red]Console figures failed:[/] {figures['error']}")
        return
    table = Table(title="Console (headless)", header_style="bold")
    for column in ("figure", "value", "budget", ""):
        table.add_column(column)
    rows = [
        (
            "start to loaded dashboard",
            f"{figures['dashboard_loaded_ms']:.0f} ms",
            BUDGETS_MS["dashboard_loaded_ms"],
            figures["dashboard_loaded_ms"],
        ),
        (
            "cursor move: work to move and repaint (net of driver)",
            f"{figures['cursor_move_ms']:.1f} ms",
            BUDGETS_MS["cursor_move_ms"],
            figures["cursor_move_ms"],
        ),
        (
            "cursor move: wall time net of driver (adds frame waits)",
            f"{figures['cursor_move_wall_net_ms']:.1f} ms",
            None,
            None,
        ),
        ("cursor move (max, gross)", f"{figures['cursor_move_max_ms']:.1f} ms", None, None),
        ("key press overhead of the driver", f"{figures['key_press_overhead_ms']:.1f} ms", None, None),
        ("page down (to loaded)", f"{figures['page_ms']:.0f} ms", None, None),
        ("peak RSS", f"{figures['peak_rss_mb']:.0f} MB", RSS_BUDGET_MB, figures["peak_rss_mb"]),
    ]
    for name, value, budget, measured in rows:
        verdict = "" if budget is None else ("[green]ok[/]" if measured <= budget else "[red]MISSED[/]")
        table.add_row(name, value, "" if budget is None else str(budget), verdict)
    console.print(table)


if __name__ == "__main__":
    print(json.dumps(asyncio.run(_figures(sys.argv[1]))))
