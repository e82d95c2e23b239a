"""Admin billing commands: `sync`, `drift ack`, `drift check`, `stripe replay-archive`.

Each calls one core function (stripe_sync.sync / drift / archive), the same
the console's keys call; the refusals (exit 3 not an admin, exit 4 Stripe not
configured, exit 1 not found) are raised there, in docs/rules.md R101.
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import NoReturn

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn

from console.cli.accounts_cli import print_findings
from console.cli.context import app_context
from console.cli.groups import drift_app, stripe_app
from console.cli.options import JsonOption, tenant_id_argument
from console.cli.output import emit_json, emit_table, stderr, stdout, usage_error
from console.cli.reports import Formatter
from core import account_detail
from core.audit import cli_actor
from core.clock import utcnow
from core.errors import OperatorError
from core.jsonable import to_jsonable
from stripe_sync.archive import replay_archive
from stripe_sync.drift import acknowledge_drift
from stripe_sync.drift_worker import DEFAULT_STALENESS, DriftCheckResult, check_stale
from stripe_sync.sync import SyncResult, TenantProgress, sync_all, sync_tenant
from stripe_sync.tenant_pass import PassAbandoned


def register(app: typer.Typer) -> None:
    app.command("sync")(sync)


def sync(
    ctx: typer.Context,
    tenant_id: int | None = tenant_id_argument(None, "The tenant to sync (omit with --all)."),
    all_tenants: bool = typer.Option(False, "--all", help="Sync every tenant that has a Stripe customer."),
    json_output: bool = JsonOption,
) -> None:
    """Admin: process pending Stripe events, backfill the billing event log, detect drift."""
    if (tenant_id is None) == (not all_tenants):
        raise usage_error("give a TENANT_ID or --all (not both)")
    app = app_context(ctx)
    engine = app.engine()
    if all_tenants:
        with _tenant_progress("Syncing") as advance, _leaving_at_once_on_a_second_ctrl_c():
            result = sync_all(engine, app.settings, progress=advance, actor=cli_actor(app.settings))
        if json_output:
            emit_json(result.to_json())
        else:
            for item in result.items:
                _print_result(item)
            for failure in result.failures:
                _error_line(f"tenant {failure.tenant_id}: {failure.error}")
        if result.interrupted:
            _interrupted(result.stopped)
        if result.stopped:
            raise OperatorError(result.stopped)
        if result.failures:
            tried = len(result.items) + len(result.failures)
            raise OperatorError(f"{len(result.failures)} of {tried} tenants failed to sync")
        return
    assert tenant_id is not None
    with _progress(json_output) as progress:
        task = progress.add_task(f"Syncing tenant {tenant_id}", total=None)
        result_one = sync_tenant(
            engine,
            app.settings,
            tenant_id,
            progress=lambda message: progress.update(task, description=message),
            actor=cli_actor(app.settings),
        )
    if json_output:
        emit_json(result_one.to_json())
    else:
        _print_result(result_one)
        if result_one.has_drift_detected:
            with app.reading() as conn:
                found = account_detail.drift(conn, tenant_id)
            print_findings(found.discrepancies, found.currency, found.checked_at, Formatter(app.settings.locale))


@drift_app.command("ack")
def ack(
    ctx: typer.Context,
    tenant_id: int = tenant_id_argument(..., "The tenant whose drift to acknowledge."),
    json_output: bool = JsonOption,
) -> None:
    """Admin: acknowledge a tenant's billing drift (clears the flag; the findings are kept)."""
    app = app_context(ctx)
    done = acknowledge_drift(app.engine(), tenant_id, app.settings.operator, utcnow(), actor=cli_actor(app.settings))
    if json_output:
        emit_json(
            {
                "tenant_id": str(done.tenant_id),
                "acknowledged_at": done.acknowledged_at,
                "acknowledged_by": done.acknowledged_by,
                "drift_discrepancy_count": done.discrepancy_count,
            }
        )
    else:
        stdout.print(f"drift of tenant {tenant_id} acknowledged; {done.discrepancy_count} finding(s) kept for audit")


def _staleness_hours(value: float) -> float:
    if not math.isfinite(value) or value < 0:
        raise usage_error("staleness must be 0 or more hours")
    return value


def _watch_seconds(value: float | None) -> float | None:
    if value is not None and not (math.isfinite(value) and value > 0):
        raise usage_error("the watch interval must be more than 0 seconds")
    return value


@drift_app.command("check")
def check(
    ctx: typer.Context,
    staleness: float = typer.Option(
        DEFAULT_STALENESS / timedelta(hours=1),
        "--staleness",
        metavar="HOURS",
        callback=_staleness_hours,
        help="Check subscriptions whose last drift check is older than HOURS (0: all of them).",
    ),
    watch: float | None = typer.Option(
        None,
        "--watch",
        metavar="SECONDS",
        callback=_watch_seconds,
        help="Run a pass every SECONDS until interrupted (Ctrl-C).",
    ),
    passes: int | None = typer.Option(None, "--passes", min=1, hidden=True, help="With --watch: stop after N passes."),
    json_output: bool = JsonOption,
) -> None:
    """Admin: check drift against Stripe for every subscription not checked recently; writes only the drift status."""
    app = app_context(ctx)
    engine = app.engine()

    def run_pass() -> DriftCheckResult:
        with _tenant_progress("Checking drift") as advance, _leaving_at_once_on_a_second_ctrl_c():
            result = check_stale(
                engine,
                app.settings,
                now=utcnow(),
                staleness=timedelta(hours=staleness),
                progress=advance,
                actor=cli_actor(app.settings),
            )
        _print_check(result, json_output, one_line=watch is not None)
        return result

    if watch is None:
        result = run_pass()
        if result.interrupted:
            _interrupted(result.stopped)
        if result.stopped:
            raise OperatorError(result.stopped)
        if result.failed:
            raise OperatorError(_check_failure(result))
        return
    _watch(run_pass, watch, json_output=json_output, passes=passes)


@contextmanager
def _leaving_at_once_on_a_second_ctrl_c() -> Iterator[None]:
    """A second Ctrl-C during a pass leaves its tenants in progress running in
    threads that would hold the exit until Stripe answers: leave now, and
    PostgreSQL rolls their transactions back when the connections close."""
    try:
        yield
    except PassAbandoned as abandoned:
        print(f"error: {abandoned}", file=sys.stderr, flush=True)
        sys.stdout.flush()
        os._exit(130)


def _interrupted(line: str | None) -> NoReturn:
    """Ctrl-C ended the pass after its tenants in progress: say what it did, exit 130."""
    _error_line(line or "Interrupted")
    raise typer.Exit(130)


def _watch(run_pass: Callable[[], DriftCheckResult], every: float, *, json_output: bool, passes: int | None) -> None:
    """Passes `every` seconds apart, counted from the end of the last one, until
    Ctrl-C (or `passes` of them); a tenant's failure never stops the watch."""
    done: list[DriftCheckResult] = []
    try:
        while (passes is None or len(done) < passes) and not (done and done[-1].interrupted):
            if done:
                time.sleep(every)
            done.append(run_pass())
    except KeyboardInterrupt:
        pass
    summary = (
        f"drift check stopped after {len(done)} pass(es): {sum(r.checked for r in done)} checked,"
        f" {sum(r.drift_detected for r in done)} with drift,"
        f" {sum(r.skipped_stripe_unavailable for r in done)} skipped (Stripe unavailable),"
        f" {sum(len(r.failures) for r in done)} failed"
    )
    (stderr if json_output else stdout).print(summary, highlight=False, soft_wrap=True)


def _print_check(result: DriftCheckResult, json_output: bool, *, one_line: bool) -> None:
    """The result as JSON (one line per pass when watching) or a summary table;
    failures go to stderr."""
    if json_output:
        if one_line:
            typer.echo(json.dumps(to_jsonable(result.to_json()), ensure_ascii=False))
        else:
            emit_json(result.to_json())
        return
    emit_table(
        f"Drift check at {result.checked_at.isoformat(timespec='seconds')}",
        ["checked", "drift detected", "skipped (Stripe unavailable)", "failed"],
        [[result.checked, result.drift_detected, result.skipped_stripe_unavailable, len(result.failures)]],
    )
    for failure in result.failures:
        _error_line(f"tenant {failure.tenant_id}: {failure.error}")


def _check_failure(result: DriftCheckResult) -> str:
    parts = []
    if result.failures:
        parts.append(f"{len(result.failures)} tenant(s) failed the drift check")
    if result.skipped_stripe_unavailable:
        parts.append(f"{result.skipped_stripe_unavailable} tenant(s) skipped, Stripe unavailable (retried next pass)")
    return "; ".join(parts)


@stripe_app.command("replay-archive")
def replay_archive_command(
    ctx: typer.Context,
    tenant_id: int = tenant_id_argument(..., "The tenant whose archived events to replay."),
    json_output: bool = JsonOption,
) -> None:
    """Admin: replay archived Stripe events that Stripe no longer lists into the billing event log."""
    app = app_context(ctx)
    result = replay_archive(app.engine(), app.settings, tenant_id, actor=cli_actor(app.settings))
    if json_output:
        emit_json(result.to_json())
    else:
        stdout.print(
            f"tenant {tenant_id}: {result.billing_events_appended} billing event(s) appended at {result.replayed_at.isoformat()}"
        )


def _print_result(result: SyncResult) -> None:
    drift = f"drift detected ({result.drift_discrepancy_count})" if result.has_drift_detected else "no drift"
    line = f"tenant {result.tenant_id}: {result.billing_events_appended} billing event(s) appended, {drift}"
    awaiting = result.archived_events_awaiting_confirmation
    if awaiting is not None:
        line += (
            f"; {awaiting.count} archived event(s) await replay"
            f" ({awaiting.oldest_occurred_at.date()} .. {awaiting.newest_occurred_at.date()}: backoffice stripe replay-archive {result.tenant_id})"
        )
    stdout.print(line, soft_wrap=True, highlight=False, markup=False)


def _error_line(text: str) -> None:
    """One line on stderr, never wrapped or read as markup (errors quote ids and "[redacted]")."""
    typer.echo(text, err=True)


@contextmanager
def _tenant_progress(doing: str) -> Iterator[TenantProgress]:
    """Progress of a pass over tenants on stderr: a bar on a terminal, else a
    line per tenant as it finishes (tenant id, outcome), so a log shows it too."""
    if not stderr.is_terminal:
        yield lambda done, total, tenant, outcome: _error_line(f"[{done}/{total}] tenant {tenant}: {outcome}")
        return
    with _progress(False) as progress:
        task = progress.add_task(doing, total=None)

        def advance(done: int, total: int, tenant: int, outcome: str) -> None:
            progress.update(task, completed=done, total=total, description=f"{doing}: tenant {tenant} {outcome}")

        yield advance


@contextmanager
def _progress(quiet: bool) -> Iterator[Progress]:
    """A progress display on stderr, only on a terminal and never with --json."""
    progress = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=stderr,
        transient=True,
        disable=quiet or not stderr.is_terminal,
    )
    with progress:
        yield progress
