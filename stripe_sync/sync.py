"""Sync with Stripe: the admin action behind `backoffice sync` and the console's
`s` key (docs/rules.md R67).

Refusals come in docs/rules.md R101: rights (Forbidden, exit 3), then
configuration (StripeNotConfigured, exit 4), then what is missing (exit 1).
A sync processes the tenant's customer with force (even with nothing Pending,
so the first sync backfills the ledger), then checks drift. Stripe is read
with no transaction open; the writes happen in one short transaction, so a
Stripe failure changes nothing. Two syncs of one tenant serialise on an
advisory lock and never duplicate a billing event. `sync_all` runs several
tenants at once and stops early when Stripe is unreachable.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, Row, select, text

from core.audit import Action, Actor, Outcome
from core.clock import utcnow
from core.errors import Forbidden, NotFound, OperatorError, StripeNotConfigured
from core.settings import Settings
from db.engine import is_admin
from db.models import Subscription, Tenant
from stripe_sync.client import client_from_settings
from stripe_sync.processing import ProcessResult, Progress, SyncStep, run_customer
from stripe_sync.state_sync import StripeGateway, Transition
from stripe_sync.tenant_pass import PassAbandoned, TenantOutcome, run_pass

EVENTS_LIST_WINDOW = timedelta(days=30)
NOT_CONFIGURED = "Stripe is not configured: set STRIPE_API_KEY to sync with Stripe"


@dataclass(frozen=True)
class ArchivedAwaiting:
    count: int
    oldest_occurred_at: datetime
    newest_occurred_at: datetime


@dataclass(frozen=True)
class SyncResult:
    tenant_id: int
    billing_events_appended: int
    has_drift_detected: bool
    drift_discrepancy_count: int
    synced_at: datetime
    archived_events_awaiting_confirmation: ArchivedAwaiting | None
    recovered_events: int = 0
    changes: tuple[Transition, ...] = ()  # what the state sync did

    def to_json(self) -> dict[str, Any]:
        """docs/rules.md R67 (ids as strings)."""
        return {
            "tenant_id": str(self.tenant_id),
            "billing_events_appended": self.billing_events_appended,
            "has_drift_detected": self.has_drift_detected,
            "drift_discrepancy_count": self.drift_discrepancy_count,
            "synced_at": self.synced_at,
            "archived_events_awaiting_confirmation": self.archived_events_awaiting_confirmation,
            "recovered_events": self.recovered_events,
            "changes": list(self.changes),
        }


@dataclass(frozen=True)
class SyncFailure:
    tenant_id: int
    error: str


@dataclass
class SyncAllResult:
    items: list[SyncResult] = field(default_factory=list)
    failures: list[SyncFailure] = field(default_factory=list)
    not_tried: list[int] = field(default_factory=list)
    stopped: str | None = None  # why the pass stopped early, when it did
    interrupted: bool = False  # Ctrl-C stopped it

    def to_json(self) -> dict[str, Any]:
        return {
            "items": [item.to_json() for item in self.items],
            "failures": [{"tenant_id": str(f.tenant_id), "error": f.error} for f in self.failures],
            "synced": len(self.items),
            "failed": len(self.failures),
            "not_tried": len(self.not_tried),
            "stopped": self.stopped,
            "interrupted": self.interrupted,
        }


TenantProgress = Callable[[int, int, int, str], None]  # (done, total, tenant_id, outcome)


# -- guards shared by the admin actions ---------------------------------------


def require_admin(conn: Connection, action: str) -> None:
    if not is_admin(conn):
        raise Forbidden(f"{action} needs an admin: the database role is not a member of backoffice_admin")


def require_stripe(settings: Settings) -> None:
    if not settings.stripe_configured:
        raise StripeNotConfigured(NOT_CONFIGURED)


def stripe_client_for(settings: Settings) -> StripeGateway:
    return client_from_settings(settings)


def tenant_lock(conn: Connection, tenant_id: int) -> None:
    """Serialise admin actions on one tenant until the transaction ends."""
    conn.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"), {"key": f"backoffice.sync.{tenant_id}"}
    )


def locked_subscription(conn: Connection, settings: Settings, tenant_id: int, *, action: str) -> Row[Any]:
    """The checks of an admin Stripe action, in docs/rules.md R101; returns
    the tenant's subscription (which has a Stripe customer)."""
    require_admin(conn, action)
    require_stripe(settings)
    if conn.execute(select(Tenant.id).where(Tenant.id == tenant_id)).first() is None:
        raise NotFound(f"tenant {tenant_id} not found")
    subscription = conn.execute(select(Subscription.__table__).where(Subscription.tenant_id == tenant_id)).one_or_none()
    if subscription is None:
        raise NotFound(f"subscription of tenant {tenant_id} not found")
    if not subscription.stripe_customer_id:
        raise OperatorError(f"tenant {tenant_id} has no Stripe customer to sync with")
    return subscription


# -- sync ---------------------------------------------------------------------


def sync_tenant(
    engine: Engine,
    settings: Settings,
    tenant_id: int,
    *,
    now: datetime | None = None,
    client: StripeGateway | None = None,
    progress: Progress | None = None,
    actor: Actor | None = None,
) -> SyncResult:
    """Admin: sync one tenant with Stripe and check drift. With an `actor`
    the sync is recorded in the audit trail, in the sync's own transaction
    (a failure in one of its own)."""
    try:
        return _sync_tenant(engine, settings, tenant_id, now=now, client=client, progress=progress, actor=actor)
    except Exception as error:
        if actor is not None:
            actor.record_failure(engine, Action.sync, error, tenant_id=tenant_id)
        raise


def _sync_tenant(
    engine: Engine,
    settings: Settings,
    tenant_id: int,
    *,
    now: datetime | None,
    client: StripeGateway | None,
    progress: Progress | None,
    actor: Actor | None,
) -> SyncResult:
    now = now or utcnow()
    report = progress or (lambda step: None)
    report(SyncStep.CheckingRights)
    with engine.connect() as conn:
        subscription = locked_subscription(conn, settings, tenant_id, action="syncing with Stripe")
    gateway = client or stripe_client_for(settings)
    customer_id = subscription.stripe_customer_id
    processed = run_customer(
        engine,
        gateway,
        customer_id,
        now=now,
        force=True,
        progress=report,
        lock_tenant=tenant_lock,
        on_written=_record_sync(actor, tenant_id),
    )
    if processed is None or processed.tenant_id != tenant_id:
        raise OperatorError(f"the Stripe customer of tenant {tenant_id} changed during the sync; sync again")
    with engine.connect() as conn:
        awaiting = archived_awaiting_confirmation(conn, customer_id, now)
    report(SyncStep.Done)
    return SyncResult(
        tenant_id=tenant_id,
        billing_events_appended=processed.billing_events_appended,
        has_drift_detected=bool(processed.discrepancies),
        drift_discrepancy_count=len(processed.discrepancies),
        synced_at=now,
        archived_events_awaiting_confirmation=awaiting,
        recovered_events=processed.recovered_events,
        changes=tuple(processed.state.transitions) if processed.state else (),
    )


def _record_sync(actor: Actor | None, tenant_id: int) -> Callable[[Connection, ProcessResult | None], None] | None:
    """The audit row of a sync, written in the sync's transaction."""
    if actor is None:
        return None

    def record(conn: Connection, processed: ProcessResult | None) -> None:
        if processed is None or processed.tenant_id != tenant_id:
            return  # the sync fails after this: recorded as failed then
        actor.record(
            conn,
            Action.sync,
            tenant_id=tenant_id,
            details={
                "billing_events_appended": processed.billing_events_appended,
                "drift_discrepancy_count": len(processed.discrepancies),
                "recovered_events": processed.recovered_events,
            },
        )

    return record


def sync_all(
    engine: Engine,
    settings: Settings,
    *,
    now: datetime | None = None,
    client: StripeGateway | None = None,
    progress: TenantProgress | None = None,
    actor: Actor | None = None,
) -> SyncAllResult:
    """Admin: sync every tenant with a Stripe customer, several at a time,
    each in transactions of its own; one tenant's failure is reported and the
    others continue, until Stripe looks unreachable (tenant_pass.STOP_AFTER
    "unavailable" in a row). `progress(done, total, tenant_id, outcome)` is
    called as each tenant finishes. With an `actor` the pass is one row of
    the audit trail, written when it ends (its tenants commit one by one)."""
    try:
        result = _sync_all(engine, settings, now=now, client=client, progress=progress)
    except (Exception, PassAbandoned) as error:
        if actor is not None:
            actor.record_failure(engine, Action.sync_all, error)
        raise
    if actor is not None:
        record_pass(engine, actor, Action.sync_all, result.to_json(), failed=bool(result.failures or result.stopped))
    return result


# Failures kept in a pass's audit row; the count is always there.
AUDITED_FAILURES = 20


def record_pass(engine: Engine, actor: Actor, action: Action, summary: dict[str, Any], *, failed: bool) -> None:
    """One audit row for a pass over many tenants: the counts, and the first
    failures (a pass over thousands of tenants keeps its row small)."""
    details = {key: value for key, value in summary.items() if key != "items"}
    if isinstance(details.get("failures"), list):
        details["failures"] = details["failures"][:AUDITED_FAILURES]
    with engine.begin() as conn:
        actor.record(conn, action, outcome=Outcome.failed if failed else Outcome.succeeded, details=details)


def _sync_all(
    engine: Engine,
    settings: Settings,
    *,
    now: datetime | None,
    client: StripeGateway | None,
    progress: TenantProgress | None,
) -> SyncAllResult:
    with engine.connect() as conn:
        require_admin(conn, "syncing with Stripe")
        require_stripe(settings)
        tenant_ids = list(
            conn.execute(
                select(Subscription.tenant_id)
                .where(Subscription.stripe_customer_id.is_not(None))
                .order_by(Subscription.tenant_id)
            ).scalars()
        )
    gateway = client or stripe_client_for(settings)

    def report(outcome: TenantOutcome[SyncResult], done: int, total: int) -> None:
        if progress is not None:
            progress(done, total, outcome.tenant_id, _sync_outcome(outcome))

    ran = run_pass(
        tenant_ids, lambda tenant_id: sync_tenant(engine, settings, tenant_id, now=now, client=gateway), progress=report
    )
    return SyncAllResult(
        items=[outcome.value for outcome in ran.outcomes if outcome.value is not None],
        failures=[
            SyncFailure(outcome.tenant_id, outcome.error_line) for outcome in ran.outcomes if outcome.error is not None
        ],
        not_tried=ran.not_tried,
        stopped=ran.stop_line("synced"),
        interrupted=ran.interrupted,
    )


def _sync_outcome(outcome: TenantOutcome[SyncResult]) -> str:
    if outcome.value is not None:
        return "synced, drift detected" if outcome.value.has_drift_detected else "synced"
    return "failed (Stripe unavailable)" if outcome.unavailable else "failed"


def archived_awaiting_confirmation(conn: Connection, customer_id: str, now: datetime) -> ArchivedAwaiting | None:
    """Processed archive rows older than Stripe's events-list window that have
    no billing event (docs/rules.md R68); None when there are none."""
    count, oldest, newest = conn.execute(
        text(
            "SELECT count(*), min(e.stripe_created_at), max(e.stripe_created_at) FROM stripe_events e"
            " WHERE e.stripe_customer_id = :customer AND e.status = 'Processed'"
            " AND e.stripe_created_at < :cutoff"
            " AND NOT EXISTS (SELECT 1 FROM billing_events b WHERE b.stripe_event_id = e.id)"
        ),
        {"customer": customer_id, "cutoff": now - EVENTS_LIST_WINDOW},
    ).one()
    return ArchivedAwaiting(count, oldest, newest) if count else None
