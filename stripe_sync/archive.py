"""Replaying archived Stripe events that Stripe no longer lists (docs/rules.md R69).

Stripe's events list reaches back about 30 days. Events older than that live
only in our stripe_events archive; `replay_archive` (admin) turns the ones
that never became billing events into billing events. A sync reports how many
are waiting (`sync.archived_awaiting_confirmation`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, text

from core.audit import Action, Actor
from core.clock import utcnow
from core.errors import OperatorError
from core.settings import Settings
from stripe_sync import ledger
from stripe_sync.processing import event_of_row, require_currency
from stripe_sync.replayer import replay
from stripe_sync.state_sync import StripeGateway
from stripe_sync.sync import locked_subscription, stripe_client_for, tenant_lock


@dataclass(frozen=True)
class ArchiveReplayResult:
    tenant_id: int
    billing_events_appended: int
    replayed_at: datetime

    def to_json(self) -> dict[str, object]:
        return {
            "tenant_id": str(self.tenant_id),
            "billing_events_appended": self.billing_events_appended,
            "replayed_at": self.replayed_at,
        }


NO_CANDIDATES = "No archived events outside Stripe's current events list window are awaiting replay."


def replay_archive(
    engine: Engine,
    settings: Settings,
    tenant_id: int,
    *,
    now: datetime | None = None,
    client: StripeGateway | None = None,
    actor: Actor | None = None,
) -> ArchiveReplayResult:
    """Admin: replay the tenant's archived events that Stripe no longer lists
    and that have no billing event yet, oldest first, seeded from the newest
    persisted state. No API-version filter on this path (docs/rules.md R28, R69).
    Stripe is read before the tenant is locked, with no transaction open.
    With an `actor` the replay is recorded in the audit trail in its own
    transaction (a failure in one of its own)."""
    try:
        return _replay_archive(engine, settings, tenant_id, now=now or utcnow(), client=client, actor=actor)
    except Exception as error:
        if actor is not None:
            actor.record_failure(engine, Action.replay_archive, error, tenant_id=tenant_id)
        raise


def _replay_archive(
    engine: Engine,
    settings: Settings,
    tenant_id: int,
    *,
    now: datetime,
    client: StripeGateway | None,
    actor: Actor | None,
) -> ArchiveReplayResult:
    with engine.connect() as conn:
        customer_id = locked_subscription(
            conn, settings, tenant_id, action="replaying the Stripe archive"
        ).stripe_customer_id
    gateway = client or stripe_client_for(settings)
    still_listed = {event["id"] for event in gateway.list_events(customer_id, None).events}
    catalog = gateway.price_catalog()
    with engine.begin() as conn:
        tenant_lock(conn, tenant_id)
        subscription = locked_subscription(conn, settings, tenant_id, action="replaying the Stripe archive")
        if subscription.stripe_customer_id != customer_id:
            raise OperatorError(f"the Stripe customer of tenant {tenant_id} changed during the replay; replay again")
        rows = conn.execute(
            text(
                "SELECT e.id, e.event_type, e.stripe_created_at, e.created_at, e.api_version, e.payload"
                " FROM stripe_events e"
                " WHERE e.stripe_customer_id = :customer AND e.status = 'Processed' AND e.stripe_created_at IS NOT NULL"
                " AND e.id <> ALL(:listed)"
                " AND NOT EXISTS (SELECT 1 FROM billing_events b WHERE b.stripe_event_id = e.id)"
                " ORDER BY e.stripe_created_at, e.id"
            ),
            {"customer": customer_id, "listed": list(still_listed)},
        ).all()
        if not rows:
            raise OperatorError(NO_CANDIDATES)
        events = [event_of_row(row) for row in rows]
        currency = catalog.currency or subscription.current_price_currency
        recorded = ledger.recorded_stripe_event_ids(conn, subscription.id, (e["id"] for e in events))
        setup = ledger.replay_setup(conn, subscription, catalog, recorded=recorded, currency=currency)
        replayed = replay(events, state=setup.seed, **setup.context)
        require_currency(replayed.rows, currency, customer_id)
        appended = ledger.append(conn, replayed.rows, created_at=now)
        if actor is not None:
            actor.record(
                conn, Action.replay_archive, tenant_id=tenant_id, details={"billing_events_appended": appended}
            )
    return ArchiveReplayResult(tenant_id, appended, now)
