"""The demo data generated and loaded in several processes, with the rows a
single process makes (`backoffice demo seed --jobs N`, the benchmark's build).

The tenants split into N contiguous runs. The parent settles what is global,
once and in order: the plans and seeds (demo/seed.py tenant_plans), the
domain registry as each run finds it (a pre-pass draws every tenant's domain
candidate and claims them in order), the run's account-level events, and the
drift checks, whose ids come from an identity: the processes hand their lines
back and the parent loads them in run order. Each process generates its run's
rows, accounts then people, and COPYs them over a connection of its own.

Each process commits batch by batch: the triggers that keep the summaries
(docs/figures.md) update shared day rows, so a transaction held open for a
whole run would make the other processes wait on it for good; a batch that
PostgreSQL cancels in a deadlock between two processes loads again. A failed
run that started from empty tables (or `--replace`, whose emptying commits
before the processes start) empties them again, so it leaves no partial data.
"""

from __future__ import annotations

import multiprocessing
import traceback
from collections.abc import Sequence
from datetime import datetime
from multiprocessing.connection import Connection, wait
from typing import Any

import psycopg
from rich.progress import Progress
from sqlalchemy import Engine

from demo import seed as demo_seed
from demo import tenants
from demo.accounts import DomainRegistry
from demo.bulk import Batch, CopyWriter
from demo.tenants import TenantPlan

# Messages from a process: ("progress", phase, tenants), then ("loaded", counts, drift lines)
# once every batch is committed, or ("failed", traceback).
ACCOUNTS, PEOPLE = "accounts", "people"


# A tenant's work: its people cost about what a year of billing history does.
PEOPLE_WORK_DAYS = 365


def work(plan: TenantPlan, now: datetime) -> int:
    """What generating a tenant costs, in days of billing history: the oldest
    tenants, signed up first, carry the longest histories."""
    return PEOPLE_WORK_DAYS + max(0, (now - plan.created_at).days)


def runs(plans: Sequence[TenantPlan], jobs: int, now: datetime) -> list[Sequence[TenantPlan]]:
    """`jobs` contiguous runs of the plans (fewer when there are fewer
    tenants), each about the same work: the early runs, of older tenants,
    hold fewer of them."""
    jobs = min(jobs, len(plans))
    weights = [work(plan, now) for plan in plans]
    total = sum(weights)
    bounds, done = [0], 0
    for index, weight in enumerate(weights):
        done += weight
        # Close a run once it reaches its share, leaving a tenant for each run still to come.
        if len(bounds) < jobs and done * jobs >= total * len(bounds) and len(plans) - index - 1 >= jobs - len(bounds):
            bounds.append(index + 1)
    bounds.append(len(plans))
    return [plans[start:end] for start, end in zip(bounds, bounds[1:], strict=False) if end > start]


def registries(chunks: Sequence[Sequence[TenantPlan]]) -> list[DomainRegistry]:
    """The domain registry each run starts from: every earlier tenant's domain claimed, in order."""
    domains = DomainRegistry()
    starts = []
    for chunk in chunks:
        starts.append(domains.snapshot())
        for plan in chunk:
            tenants.claim_domain(plan, domains)
    return starts


def load(
    engine: Engine,
    connection: psycopg.Connection,
    plans: list[TenantPlan],
    seed: int,
    now: datetime,
    history_days: int,
    jobs: int,
    bars: Progress,
    counts: dict[str, int],
    *,
    fresh: bool,
) -> None:
    """Load the plans' rows in `jobs` processes; the parent's transaction on
    `connection` (left open for the caller to commit) holds the global rows.
    `fresh`: the tables were empty, and are emptied again if the run fails."""
    connection.commit()  # the truncation, if any: the processes' COPY would wait on its lock
    demo_seed.prepare_session(connection)
    url = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    chunks = runs(plans, jobs, now)
    context = multiprocessing.get_context("spawn")
    pipes: list[Connection] = []
    processes = []
    for chunk, domains in zip(chunks, registries(chunks), strict=True):
        ours, theirs = context.Pipe()
        process = context.Process(
            target=_generate, args=(theirs, url, list(chunk), now, history_days, domains), daemon=True
        )
        process.start()
        theirs.close()
        pipes.append(ours)
        processes.append(process)
    try:
        accounts = bars.add_task(demo_seed.ACCOUNTS_TASK, total=len(plans))
        people = bars.add_task(demo_seed.PEOPLE_TASK, total=len(plans))
        tasks = {ACCOUNTS: accounts, PEOPLE: people}
        writer = CopyWriter(connection)
        try:
            batch = Batch(demo_seed.ACCOUNT_TABLES)
            demo_seed.run_account_events(batch, seed, now, history_days)
            demo_seed.load(writer, batch, counts)
            drift_lines = _until_loaded(pipes, bars, tasks, counts)
            drift = Batch(demo_seed.ACCOUNT_TABLES)
            drift.lines["billing_drift_checks"] = drift_lines
            demo_seed.load(writer, drift, counts)
        finally:
            writer.close()
    except BaseException:
        for process in processes:
            if process.is_alive():
                process.terminate()
            process.join(timeout=30)
        connection.rollback()
        if fresh:  # the batches the processes committed
            connection.execute(f"TRUNCATE {', '.join(demo_seed.TABLES)} RESTART IDENTITY CASCADE")
            connection.commit()
        raise
    finally:
        for process in processes:
            process.join(timeout=30)


def _until_loaded(pipes: list[Connection], bars: Progress, tasks: dict[str, Any], counts: dict[str, int]) -> list[str]:
    """Follow the processes' progress until each has loaded its rows; the
    drift-check lines, in run order."""
    drift_lines: dict[int, list[str]] = {}
    waiting = dict(enumerate(pipes))
    while waiting:
        for ready in wait(list(waiting.values())):
            number = next(key for key, pipe in waiting.items() if pipe is ready)
            try:
                message = ready.recv()
            except EOFError:
                raise RuntimeError(f"demo data process {number + 1} ended without loading its rows") from None
            if message[0] == "progress":
                bars.advance(tasks[message[1]], message[2])
            elif message[0] == "loaded":
                for table, count in message[1].items():
                    counts[table] += count
                drift_lines[number] = message[2]
                del waiting[number]
            else:
                _expect(message, "loaded")
    return [line for number in sorted(drift_lines) for line in drift_lines[number]]


def _expect(message: tuple[Any, ...], kind: str) -> None:
    if message[0] == "failed":
        raise RuntimeError(f"a demo data process failed:\n{message[1]}")
    if message[0] != kind:
        raise RuntimeError(f"a demo data process said {message[0]!r}, expected {kind!r}")


def _generate(
    pipe: Connection,
    url: str,
    plans: list[TenantPlan],
    now: datetime,
    history_days: int,
    domains: DomainRegistry,
) -> None:
    """One process: generate and COPY one run of tenants, committing each batch."""
    try:
        with demo_seed._quiet_pipeline(), psycopg.connect(url) as connection:
            demo_seed.prepare_session(connection)
            counts = dict.fromkeys(demo_seed.TABLES, 0)
            drift_lines: list[str] = []
            writer = CopyWriter(connection, commit_each=True)
            try:
                profiles = demo_seed._accounts_phase(
                    writer,
                    plans,
                    0,
                    now,
                    history_days,
                    lambda n: pipe.send(("progress", ACCOUNTS, n)),
                    counts,
                    domains,
                    run_events=False,
                    drift_checks=drift_lines,
                )
                demo_seed._people_phase(writer, profiles, now, lambda n: pipe.send(("progress", PEOPLE, n)), counts)
            finally:
                writer.close()
            pipe.send(("loaded", counts, drift_lines))
    except BaseException:
        try:
            pipe.send(("failed", traceback.format_exc()))
        except OSError:
            pass
