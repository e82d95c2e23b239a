"""The drift worker (docs/rules.md R55): check every subscription
whose last drift check is stale against Stripe, writing nothing but the drift
status.

Subscriptions are checked several at a time, each read from Stripe with no
transaction open and written in a short transaction of its own. When Stripe
cannot be read the check is skipped and its drift_checked_at stays, so the
next pass retries it; a run of those stops the pass early (Stripe is down). A
customer Stripe does not know is drift, not a skip. Any other failure is
reported and the pass goes on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, Row, or_, select

from core.audit import Action, Actor
from core.settings import Settings
from db.models import Subscription
from stripe_sync.processing import ProcessResult, run_customer
from stripe_sync.state_sync import StripeGateway
from stripe_sync.sync import SyncFailure, TenantProgress, record_pass, require_admin, require_stripe, stripe_client_for
from stripe_sync.tenant_pass import PassAbandoned, TenantOutcome, run_pass

DEFAULT_STALENESS = timedelta(hours=23)


@dataclass
class DriftCheckResult:
    checked_at: datetime
    checked: int = 0  # drift status written
    drift_detected: int = 0  # of those checked
    skipped_stripe_unavailable: int = 0
    failures: list[SyncFailure] = field(default_factory=list)
    not_tried: int = 0  # left when the pass stopped early
    stopped: str | None = None  # why the pass stopped early, when it did
    interrupted: bool = False  # Ctrl-C stopped it

    @property
    def failed(self) -> bool:
        """The pass left work undone: a failure, a skip or an early stop."""
        return bool(self.failures or self.skipped_stripe_unavailable or self.stopped)

    def to_json(self) -> dict[str, Any]:
        return {
            "checked": self.checked,
            "drift_detected": self.drift_detected,
            "skipped_stripe_unavailable": self.skipped_stripe_unavailable,
            "failures": [{"tenant_id": str(f.tenant_id), "error": f.error} for f in self.failures],
            "checked_at": self.checked_at,
            "not_tried": self.not_tried,
            "stopped": self.stopped,
            "interrupted": self.interrupted,
        }


def due_for_check(conn: Connection, cutoff: datetime) -> list[Row[Any]]:
    """Subscriptions with a Stripe customer never checked or last checked
    before `cutoff`, by tenant id: (tenant_id, stripe_customer_id)."""
    return list(
        conn.execute(
            select(Subscription.tenant_id, Subscription.stripe_customer_id)
            .where(
                Subscription.stripe_customer_id.is_not(None),
                or_(Subscription.drift_checked_at.is_(None), Subscription.drift_checked_at < cutoff),
            )
            .order_by(Subscription.tenant_id)
        )
    )


def check_stale(
    engine: Engine,
    settings: Settings,
    *,
    now: datetime,
    staleness: timedelta = DEFAULT_STALENESS,
    client: StripeGateway | None = None,
    progress: TenantProgress | None = None,
    actor: Actor | None = None,
) -> DriftCheckResult:
    """Admin: one pass of the drift worker. `progress(done, total, tenant_id,
    outcome)` is called as each subscription finishes. With an `actor` the
    pass is one row of the audit trail, written when it ends."""
    try:
        result = _check_stale(engine, settings, now=now, staleness=staleness, client=client, progress=progress)
    except (Exception, PassAbandoned) as error:
        if actor is not None:
            actor.record_failure(engine, Action.drift_check, error)
        raise
    if actor is not None:
        record_pass(engine, actor, Action.drift_check, result.to_json(), failed=result.failed)
    return result


def _check_stale(
    engine: Engine,
    settings: Settings,
    *,
    now: datetime,
    staleness: timedelta,
    client: StripeGateway | None,
    progress: TenantProgress | None,
) -> DriftCheckResult:
    with engine.connect() as conn:
        require_admin(conn, "checking drift")
        require_stripe(settings)
        customers = {row.tenant_id: row.stripe_customer_id for row in due_for_check(conn, now - staleness)}
    gateway = client or stripe_client_for(settings)

    def check(tenant_id: int) -> ProcessResult | None:
        return run_customer(engine, gateway, customers[tenant_id], now=now, force=True, apply=False)

    def report(outcome: TenantOutcome[ProcessResult | None], done: int, total: int) -> None:
        if progress is not None:
            progress(done, total, outcome.tenant_id, _check_outcome(outcome))

    ran = run_pass(list(customers), check, progress=report)
    result = DriftCheckResult(
        checked_at=now, not_tried=len(ran.not_tried), stopped=ran.stop_line("checked"), interrupted=ran.interrupted
    )
    for outcome in ran.outcomes:
        if outcome.unavailable:
            result.skipped_stripe_unavailable += 1
        elif outcome.error is not None:
            result.failures.append(SyncFailure(outcome.tenant_id, outcome.error_line))
        elif outcome.value is not None:  # None: the customer moved to another subscription since the query
            result.checked += 1
            result.drift_detected += bool(outcome.value.discrepancies)
    return result


def _check_outcome(outcome: TenantOutcome[ProcessResult | None]) -> str:
    if outcome.unavailable:
        return "skipped (Stripe unavailable)"
    if outcome.error is not None:
        return "failed"
    if outcome.value is None:
        return "not checked (customer moved)"
    return "drift detected" if outcome.value.discrepancies else "no drift"
