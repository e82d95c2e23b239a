"""Admin billing commands: `sync`, `drift ack`, `stripe replay-archive`.

Each calls one core function (stripe_sync.sync / drift / archive), the same
the console's keys call; the refusals (exit 3 not an admin, exit 4 Stripe not
configured, exit 1 not found) are raised there, in the contract's order.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Optional

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn

from core.clock import utcnow
from core.errors import OperatorError
from stripe_sync.archive import replay_archive
from stripe_sync.drift import acknowledge_drift
from stripe_sync.sync import SyncResult, sync_all, sync_tenant

from console.cli.context import app_context
from console.cli.groups import drift_app, stripe_app
from console.cli.options import JsonOption
from console.cli.output import emit_json, stderr, stdout, usage_error


def register(app: typer.Typer) -> None:
    app.command("sync")(sync)


def sync(
    ctx: typer.Context,
    tenant_id: Optional[int] = typer.Argument(None, help="The tenant to sync (omit with --all)."),
    all_tenants: bool = typer.Option(False, "--all", help="Sync every tenant that has a Stripe customer."),
    json_output: bool = JsonOption,
) -> None:
    """Admin: process pending Stripe events, backfill the billing event log, detect drift."""
    if (tenant_id is None) == (not all_tenants):
        raise usage_error("give a TENANT_ID or --all (not both)")
    app = app_context(ctx)
    engine = app.engine()
    if all_tenants:
        with _progress(json_output) as progress:
            task = progress.add_task("Syncing tenants", total=None)

            def advance(done: int, total: int, tenant: int) -> None:
                progress.update(task, completed=done, total=total, description=f"Syncing tenant {tenant}")

            result = sync_all(engine, app.settings, progress=advance)
        if json_output:
            emit_json(result.to_json())
        else:
            for item in result.items:
                _print_result(item)
            for failure in result.failures:
                stderr.print(f"tenant {failure.tenant_id}: {failure.error}")
        if result.failures:
            raise OperatorError(f"{len(result.failures)} of {len(result.items) + len(result.failures)} tenants failed to sync")
        return
    assert tenant_id is not None
    with _progress(json_output) as progress:
        task = progress.add_task(f"Syncing tenant {tenant_id}", total=None)
        result_one = sync_tenant(
            engine, app.settings, tenant_id, progress=lambda message: progress.update(task, description=message)
        )
    if json_output:
        emit_json(result_one.to_json())
    else:
        _print_result(result_one)


@drift_app.command("ack")
def ack(ctx: typer.Context, tenant_id: int = typer.Argument(..., help="The tenant whose drift to acknowledge."), json_output: bool = JsonOption) -> None:
    """Admin: acknowledge a tenant's billing drift (clears the flag; the findings are kept)."""
    app = app_context(ctx)
    done = acknowledge_drift(app.engine(), tenant_id, app.settings.operator, utcnow())
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


@stripe_app.command("replay-archive")
def replay_archive_command(
    ctx: typer.Context, tenant_id: int = typer.Argument(..., help="The tenant whose archived events to replay."), json_output: bool = JsonOption
) -> None:
    """Admin: replay archived Stripe events that Stripe no longer lists into the billing event log."""
    app = app_context(ctx)
    result = replay_archive(app.engine(), app.settings, tenant_id)
    if json_output:
        emit_json(result.to_json())
    else:
        stdout.print(f"tenant {tenant_id}: {result.billing_events_appended} billing event(s) appended at {result.replayed_at.isoformat()}")


def _print_result(result: SyncResult) -> None:
    drift = f"drift detected ({result.drift_discrepancy_count})" if result.has_drift_detected else "no drift"
    line = f"tenant {result.tenant_id}: {result.billing_events_appended} billing event(s) appended, {drift}"
    awaiting = result.archived_events_awaiting_confirmation
    if awaiting is not None:
        line += (
            f"; {awaiting.count} archived event(s) await replay"
            f" ({awaiting.oldest_occurred_at.date()} .. {awaiting.newest_occurred_at.date()}: backoffice stripe replay-archive {result.tenant_id})"
        )
    stdout.print(line)


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
