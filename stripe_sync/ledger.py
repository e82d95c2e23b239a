"""The billing event ledger: append-only, one row per Stripe event.

Two idempotency layers (docs/rules.md R8): rows whose Stripe event is
already recorded for the subscription are skipped before the insert, and the
insert itself does nothing on a conflict of either the deterministic id or the
unique stripe_event_id, so a concurrent writer can never fail the transaction.
Rows are never updated or deleted.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, func, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from db.enums import BillingEventType as T
from db.enums import SubscriptionPlan
from db.models import BillingEvent, Subscription
from stripe_sync.catalog import PriceCatalog
from stripe_sync.replayer import BillingEventRow, ReplayState


def recorded_stripe_event_ids(
    conn: Connection, subscription_id: str, candidates: Iterable[str] | None = None
) -> set[str]:
    """Stripe event ids that already have a billing event of this subscription
    (only among `candidates` when given)."""
    query = select(BillingEvent.stripe_event_id).where(BillingEvent.subscription_id == subscription_id)
    if candidates is not None:
        wanted = list(set(candidates))
        if not wanted:
            return set()
        query = query.where(BillingEvent.stripe_event_id == func.any(wanted))
    return set(conn.execute(query).scalars())


def append(conn: Connection, rows: Sequence[BillingEventRow], *, created_at: datetime) -> int:
    """Insert the rows not yet recorded; returns how many were appended.
    SubscriptionCreated rows move subscribed_since earlier (never later).
    Large batches (backfills, demo data) go through COPY."""
    if not rows:
        return 0
    if len(rows) >= COPY_THRESHOLD:
        inserted = _insert_by_copy(conn, rows, created_at)
    else:
        recorded = _recorded(conn, rows)
        fresh = [row.as_row(created_at) for row in rows if (row.subscription_id, row.stripe_event_id) not in recorded]
        # One cached statement for many rows: SQLAlchemy batches it into
        # multi-row INSERTs and still returns what was inserted.
        inserted = list(conn.execute(_INSERT, fresh)) if fresh else []
    earliest_created: dict[str, datetime] = {}
    for subscription_id, event_type, occurred_at in inserted:
        if event_type == T.SubscriptionCreated:
            known = earliest_created.get(subscription_id)
            if known is None or occurred_at < known:
                earliest_created[subscription_id] = occurred_at
    for subscription_id, occurred_at in earliest_created.items():
        move_subscribed_since(conn, subscription_id, occurred_at)
    return len(inserted)


_INSERT = (
    pg_insert(BillingEvent)
    .on_conflict_do_nothing()
    .returning(BillingEvent.subscription_id, BillingEvent.event_type, BillingEvent.occurred_at)
)
COPY_THRESHOLD = 500
_COLUMNS = [column.name for column in BillingEvent.__table__.c if column.name != "modified_at"]


def _insert_by_copy(
    conn: Connection, rows: Sequence[BillingEventRow], created_at: datetime
) -> list[tuple[str, str, datetime]]:
    """COPY into a temporary table, then one INSERT ... SELECT with both
    idempotency layers (the recorded-for-the-subscription check and ON
    CONFLICT DO NOTHING)."""
    columns = ", ".join(_COLUMNS)
    conn.exec_driver_sql(
        "CREATE TEMPORARY TABLE IF NOT EXISTS billing_events_incoming"
        " (LIKE billing_events INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
    )
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    with cursor.copy(f"COPY billing_events_incoming ({columns}) FROM STDIN") as copy:
        for row in rows:
            values = row.as_row(created_at)
            copy.write_row([values[name] for name in _COLUMNS])
    inserted = conn.exec_driver_sql(
        f"INSERT INTO billing_events ({columns}) SELECT {columns} FROM billing_events_incoming i"
        " WHERE NOT EXISTS (SELECT 1 FROM billing_events b"
        " WHERE b.subscription_id = i.subscription_id AND b.stripe_event_id = i.stripe_event_id)"
        " ON CONFLICT DO NOTHING RETURNING subscription_id, event_type, occurred_at"
    ).all()
    conn.exec_driver_sql("TRUNCATE billing_events_incoming")
    return [tuple(row) for row in inserted]


def move_subscribed_since(conn: Connection, subscription_id: str, occurred_at: datetime) -> None:
    """subscribed_since := the earliest SubscriptionCreated (LEAST skips NULL)."""
    conn.execute(
        update(Subscription)
        .where(Subscription.id == subscription_id)
        .values(subscribed_since=func.least(Subscription.subscribed_since, occurred_at))
    )


def _recorded(conn: Connection, rows: Sequence[BillingEventRow]) -> set[tuple[str, str]]:
    subscriptions = list({row.subscription_id for row in rows})
    events = list({row.stripe_event_id for row in rows})
    found = conn.execute(
        select(BillingEvent.subscription_id, BillingEvent.stripe_event_id).where(
            BillingEvent.subscription_id == func.any(subscriptions),
            BillingEvent.stripe_event_id == func.any(events),
        )
    )
    return {(subscription_id, event_id) for subscription_id, event_id in found}


@dataclass(frozen=True)
class LatestEvent:
    """The newest persisted billing event of a subscription in replay order."""

    stripe_event_id: str
    event_type: str
    to_plan: str | None
    committed_mrr: Decimal
    occurred_at: datetime


def latest_event(conn: Connection, subscription_id: str) -> LatestEvent | None:
    """Latest by occurred_at, ties broken by the greater Stripe event id
    (ordinal): the last one in replay order (docs/rules.md R15, R16), never
    the random row id."""
    row = conn.execute(
        select(
            BillingEvent.stripe_event_id,
            BillingEvent.event_type,
            BillingEvent.to_plan,
            BillingEvent.committed_mrr,
            BillingEvent.occurred_at,
        )
        .where(BillingEvent.subscription_id == subscription_id)
        .order_by(*REPLAY_ORDER_DESC)
        .limit(1)
    ).one_or_none()
    return LatestEvent(*row) if row else None


REPLAY_ORDER_DESC = (BillingEvent.occurred_at.desc(), BillingEvent.stripe_event_id.collate("C").desc())
SEED_LOOKBACK = 500

_SETS_PLAN = frozenset({T.SubscriptionCreated, T.SubscriptionUpgraded, T.SubscriptionDowngraded})
_ENDS = frozenset({T.SubscriptionExpired, T.SubscriptionImmediatelyCancelled, T.SubscriptionSuspended})
_CANCEL_FLAG = {T.SubscriptionCancelled: True, T.SubscriptionReactivated: False, T.SubscriptionCreated: False} | {
    t: False for t in _ENDS
}
_CLEARS_SCHEDULE = frozenset({T.SubscriptionDowngradeCancelled, T.SubscriptionCreated}) | _ENDS
_PRICE_IN_NEW_AMOUNT = frozenset({T.SubscriptionCreated, T.SubscriptionReactivated, T.SubscriptionDowngradeCancelled})


@dataclass(frozen=True)
class ReplaySetup:
    """Where a replay of a subscription's events starts (the ledger's seed
    and its newest event) and `replay()`'s other keyword arguments: what the
    live subscription tells the replayer."""

    seed: ReplayState
    latest: LatestEvent | None
    context: dict[str, Any]


def replay_setup(
    conn: Connection,
    live: Any,
    catalog: PriceCatalog,
    *,
    recorded: AbstractSet[str],
    currency: str | None,
    supported_api_versions: AbstractSet[str] | None = None,
) -> ReplaySetup:
    """The one set-up of live processing and the archive replay. `live` is the
    subscription row (id, tenant_id, plan, prices, cancellation fields);
    `recorded` are the Stripe event ids already in the ledger."""
    seed, latest = replay_seed(
        conn,
        live.id,
        live_plan=live.plan,
        live_price=live.current_price_amount,
        live_cancel_at_period_end=live.cancel_at_period_end,
        live_scheduled_plan=live.scheduled_plan,
        catalog=catalog,
    )
    context: dict[str, Any] = dict(
        tenant_id=live.tenant_id,
        subscription_id=live.id,
        catalog=catalog,
        skip_stripe_event_ids=recorded,
        currency_override=currency,
        live_plan=SubscriptionPlan(live.plan),
        live_cancellation_reason=live.cancellation_reason,
        live_currency=live.current_price_currency,
        supported_api_versions=supported_api_versions,
    )
    return ReplaySetup(seed, latest, context)


def replay_seed(
    conn: Connection,
    subscription_id: str,
    *,
    live_plan: str | None,
    live_price: Decimal | None,
    live_cancel_at_period_end: bool,
    live_scheduled_plan: str | None,
    catalog: PriceCatalog | None = None,
) -> tuple[ReplayState, LatestEvent | None]:
    """The replay state after the subscription's last recorded event, read
    back from its billing events; what they do not tell comes from the live
    (already synced) subscription. Seeding from the ledger rather than from
    Stripe's current state keeps a sync that covers several changes (an
    upgrade, then a cancellation) computing each row from the state before it.
    Returns the seed and the latest event (None for an empty ledger)."""
    rows = conn.execute(
        select(
            BillingEvent.stripe_event_id,
            BillingEvent.event_type,
            BillingEvent.from_plan,
            BillingEvent.to_plan,
            BillingEvent.new_amount,
            BillingEvent.committed_mrr,
            BillingEvent.occurred_at,
        )
        .where(BillingEvent.subscription_id == subscription_id)
        .order_by(*REPLAY_ORDER_DESC)
        .limit(SEED_LOOKBACK)
    ).all()
    state = ReplayState.seeded(
        live_plan=live_plan,
        live_price=live_price,
        live_cancel_at_period_end=live_cancel_at_period_end,
        live_scheduled_plan=live_scheduled_plan,
    )
    if not rows:
        return state, None
    latest = LatestEvent(
        rows[0].stripe_event_id, rows[0].event_type, rows[0].to_plan, rows[0].committed_mrr, rows[0].occurred_at
    )
    state.committed_mrr = latest.committed_mrr
    # Each fact is the newest row that tells it; a 1-tuple marks "found" (its
    # value may be None), None "not told yet".
    plan = cancel = schedule = price = since = None
    cancelled_at: datetime | None = None
    for row in rows:
        kind = T(row.event_type)
        if plan is None:
            current = row.from_plan if kind == T.SubscriptionDowngradeScheduled else row.to_plan
            if current is not None:
                plan = (current,)
        if since is None and kind in _SETS_PLAN | _ENDS:
            since = (row.occurred_at if kind in _SETS_PLAN else None,)
        if cancel is None and kind in _CANCEL_FLAG:
            cancel = (_CANCEL_FLAG[kind],)
            cancelled_at = row.occurred_at if _CANCEL_FLAG[kind] else None
        if schedule is None and (kind == T.SubscriptionDowngradeScheduled or kind in _CLEARS_SCHEDULE):
            schedule = (row.to_plan if kind == T.SubscriptionDowngradeScheduled else None,)
        if price is None:
            if kind in _PRICE_IN_NEW_AMOUNT:
                price = (row.new_amount,)
            elif kind in (T.SubscriptionUpgraded, T.SubscriptionDowngraded):
                # A plan change while cancelling records 0, not the new price.
                price = (row.new_amount or None,)
            elif kind in _ENDS:
                price = (Decimal("0.00"),)
        if plan and cancel and schedule and price and since:
            break
    if plan is not None:
        state.plan = SubscriptionPlan(plan[0])
    if cancel is not None:
        state.cancel_at_period_end = cancel[0]
        state.cancelled_at = cancelled_at
    if schedule is not None:
        state.scheduled_plan = SubscriptionPlan(schedule[0]) if schedule[0] else None
    if price is not None and price[0] is not None:
        state.plan_price = price[0]
    elif plan is not None and plan[0] != live_plan:
        catalog_price = catalog.price_of(plan[0]) if catalog is not None and plan[0] != SubscriptionPlan.Basis else None
        state.plan_price = catalog_price if catalog_price is not None else Decimal("0.00")
    if since is not None:
        state.plan_since = since[0]
    return state, latest


def count_events(conn: Connection, subscription_id: str) -> int:
    return int(
        conn.execute(
            select(func.count()).select_from(BillingEvent).where(BillingEvent.subscription_id == subscription_id)
        ).scalar_one()
    )


@dataclass(frozen=True)
class PersistedAmounts:
    event_type: str
    occurred_at: datetime
    previous_amount: Decimal | None
    new_amount: Decimal | None
    amount_delta: Decimal | None
    committed_mrr: Decimal


def persisted_amounts(
    conn: Connection, subscription_id: str, stripe_event_ids: Iterable[str]
) -> dict[str, PersistedAmounts]:
    """The stored amounts of some recorded events (for the stale-row check)."""
    wanted = list(set(stripe_event_ids))
    if not wanted:
        return {}
    rows = conn.execute(
        text(
            "SELECT stripe_event_id, event_type, occurred_at, previous_amount, new_amount, amount_delta, committed_mrr"
            " FROM billing_events WHERE subscription_id = :subscription AND stripe_event_id = ANY(:ids)"
        ),
        {"subscription": subscription_id, "ids": wanted},
    )
    return {row[0]: PersistedAmounts(*row[1:]) for row in rows}
