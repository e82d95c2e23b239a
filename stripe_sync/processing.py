"""Live processing of one Stripe customer (docs/rules.md R57-R64).

Apply: lock the subscription row, pull Stripe's events list since the anchor
(archiving events we never received), bring the subscription to Stripe's state,
replay the events into billing events (first sync: the whole stored archive
too), move the anchor forward, mark the customer's Pending events Processed and
check drift.

Detect: the same computation with nothing written but the drift status.

`run_customer` never holds a database connection while Stripe is asked: it
reads the anchor, reads everything processing needs from Stripe
(`read_stripe`), then runs `process_customer` against those answers in one
short transaction. A Stripe error, a timeout or a currency mismatch raises
before that transaction opens, or rolls it back, so the Pending rows stay for
the next try: a failure never looks like "no subscription".
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, Engine, Row, Select, Text, exists, func, literal_column, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from core.clock import utcnow
from core.errors import OperatorError
from db.enums import StripeEventStatus
from db.models import StripeEvent, Subscription
from stripe_sync import drift, ledger
from stripe_sync.catalog import PriceCatalog
from stripe_sync.drift import Discrepancy, ReplayFindings, StaleRow, StateSnapshot
from stripe_sync.errors import CurrencyMismatch, CustomerMissing
from stripe_sync.replayer import SUPPORTED_API_VERSIONS, BillingEventRow, replay
from stripe_sync.snapshots import CustomerSnapshot, EventsList, JsonObject, SubscriptionSnapshot
from stripe_sync.state_sync import StateSync, StripeGateway, load_subscription, sync_state


class SyncStep(StrEnum):
    """The steps a sync reports, in order. The values are the command line's
    progress texts; the console translates by member name."""

    CheckingRights = "Checking rights"
    ReadingPriceCatalog = "Reading the Stripe price catalog"
    ListingEvents = "Listing Stripe events"
    ReadingCustomer = "Reading the customer and subscription from Stripe"
    WaitingForOtherSyncs = "Waiting for other syncs of this tenant"
    ReplayingEvents = "Replaying events into the ledger"
    CheckingDrift = "Checking drift"
    Done = "Done"


Progress = Callable[[SyncStep], None]
RECOVERY_SOURCE = "events_list"
# Runs of one customer that may overlap: after this many writes by others
# between our Stripe read and our lock, give up rather than read Stripe again.
ATTEMPTS = 3


def _quiet(step: SyncStep) -> None:
    pass


@dataclass
class ProcessResult:
    tenant_id: int
    subscription_id: str
    synced: bool  # False when there was nothing to do
    billing_events_appended: int = 0
    recovered_events: int = 0  # listed by Stripe, never received: archived now
    processed_events: int = 0  # Pending rows marked Processed
    discrepancies: list[Discrepancy] = field(default_factory=list)
    state: StateSync | None = None


def process_customer(
    conn: Connection,
    client: StripeGateway,
    customer_id: str,
    *,
    now: datetime,
    force: bool = False,
    webhook_event: Mapping[str, Any] | None = None,
    catalog: PriceCatalog | None = None,
    apply: bool = True,
    progress: Progress | None = None,
) -> ProcessResult | None:
    """Process one customer in the caller's transaction; None when no
    subscription carries that customer (its Pending events wait for a later
    sync). Without `force` or a webhook event it only runs when the customer
    has Pending events. `client` should answer from memory (`read_stripe`):
    every call it makes happens inside the transaction."""
    report = progress or _quiet
    subscription = load_subscription(conn, customer_id, lock=apply)
    if subscription is None:
        return None
    result = ProcessResult(subscription.tenant_id, subscription.id, synced=False)
    if webhook_event is None and not force and not _has_pending(conn, customer_id):
        return result
    result.synced = True

    catalog = catalog or client.price_catalog()
    listed = client.list_events(customer_id, subscription.last_synced_stripe_event_created_at)
    try:
        customer = client.customer(customer_id)
    except CustomerMissing:
        # Nothing to compare or heal: only the finding is written; Pending events wait.
        result.discrepancies = [drift.customer_missing(customer_id)]
        _record_drift(conn, subscription, result.discrepancies, now, apply)
        return result
    if apply:
        result.recovered_events = archive_missing(conn, customer_id, listed.events, now)

    state = sync_state(conn, subscription, client, catalog, customer, now=now, apply=apply)
    result.state = state
    live = load_subscription(conn, customer_id, lock=False) if apply else subscription
    assert live is not None

    report(SyncStep.ReplayingEvents)
    received = [webhook_event] if webhook_event is not None else []
    replayed = _replay_events(conn, customer_id, live, state, catalog, listed.events, received)
    require_currency(replayed.new_rows, platform_currency(catalog, state), customer_id)
    if apply:
        result.billing_events_appended = ledger.append(conn, replayed.new_rows, created_at=now)
        newest = _newest_supported(replayed.events)
        if newest is not None and listed.complete:
            _advance_anchor(conn, live.id, newest)
        result.processed_events = _mark_processed(conn, customer_id, live, now)

    report(SyncStep.CheckingDrift)
    checked = load_subscription(conn, customer_id, lock=False) if apply else subscription
    assert checked is not None
    result.discrepancies = _check_drift(conn, checked, state, replayed)
    _record_drift(conn, live, result.discrepancies, now, apply)
    return result


def _record_drift(
    conn: Connection, subscription: Row[Any], found: list[Discrepancy], now: datetime, apply: bool
) -> None:
    drift.record(
        conn,
        subscription_id=subscription.id,
        tenant_id=subscription.tenant_id,
        discrepancies=found,
        now=now,
        bump_modified_at=apply,
    )


def platform_currency(catalog: PriceCatalog, state: StateSync) -> str | None:
    """What every billing event is in: the catalog's currency (Stripe's live
    subscription is checked against it when read), else the subscription's."""
    return catalog.currency or state.stripe.currency or state.local_before.currency


def require_currency(rows: Iterable[BillingEventRow], expected: str | None, customer_id: str) -> None:
    """A billing event in another currency than the platform's (an invoice or
    a refund in EUR on a DKK subscription) never reaches the ledger: the run
    fails instead, as for a price in another currency."""
    for row in rows:
        if expected and row.currency and row.currency != expected:
            source = f"Stripe event {row.stripe_event_id} of {customer_id} is"
            raise CurrencyMismatch(customer_id, row.currency, expected, source=source)


@dataclass
class _Replayed:
    events: list[Mapping[str, Any]]  # what was replayed
    new_rows: list[BillingEventRow]  # to append
    findings: ReplayFindings


def _replay_events(
    conn: Connection,
    customer_id: str,
    live: Row[Any],
    state: StateSync,
    catalog: PriceCatalog,
    listed: list[dict[str, Any]],
    received: list[Mapping[str, Any]],
) -> _Replayed:
    """Stripe's list, plus what we received or stored when it adds an event
    (a late or repeated delivery of a recorded event adds nothing); on the
    first sync, the whole stored archive (docs/rules.md R59)."""
    stored = stored_events(conn, customer_id, include_processed=ledger.count_events(conn, live.id) == 0)
    recorded = ledger.recorded_stripe_event_ids(
        conn, live.id, (event["id"] for source in (listed, received, stored) for event in source)
    )
    events = _union(
        listed,
        [event for event in received if event["id"] not in recorded],
        [event for event in stored if event["id"] not in recorded],
    )
    setup = ledger.replay_setup(
        conn,
        live,
        catalog,
        recorded=recorded,
        currency=platform_currency(catalog, state),
        supported_api_versions=SUPPORTED_API_VERSIONS,
    )
    seed, latest, context = setup.seed, setup.latest, setup.context
    # Everything in one pass from the seed (docs/rules.md R29): this classifies
    # events older than the ledger's newest (a late recovery) and gives the
    # recorded ones to the stale-row check.
    everything = replay(events, state=replace(seed), **context)
    new_rows = everything.rows
    if latest is not None:
        # Events from the ledger's newest on start from the seed itself, so
        # re-listed recorded events never shift the state they start from.
        since = latest.occurred_at.timestamp()
        current = [event for event in events if event["id"] not in recorded and event["created"] >= since]
        late = [row for row in everything.rows if row.occurred_at < latest.occurred_at]
        new_rows = late + replay(current, state=seed, **context).rows
    findings = ReplayFindings(
        has_unclassified_event=everything.has_unclassified_event,
        unsupported_api_versions=tuple(everything.unsupported_api_versions),
        stale_rows=tuple(_stale_rows(conn, live.id, everything.already_recorded, latest)),
    )
    return _Replayed(events, new_rows, findings)


def _check_drift(conn: Connection, subscription: Row[Any], state: StateSync, replayed: _Replayed) -> list[Discrepancy]:
    """Drift of the subscription as it is now (after the heal, in Apply)."""
    transactions = subscription.payment_transactions or []
    return drift.detect(
        StateSnapshot.of_subscription(subscription),
        state.stripe,
        transaction_count=len(transactions),
        billing_event_count=ledger.count_events(conn, subscription.id),
        findings=replayed.findings,
        transactions=transactions,
    )


def process_pending(
    engine: Engine, client: StripeGateway, customer_id: str, *, now: datetime | None = None
) -> ProcessResult | None:
    """Process a customer's Pending events (what the webhook receiver and
    `stripe poll` run after storing events)."""
    return run_customer(engine, client, customer_id, now=now or utcnow())


# -- reading Stripe before the transaction ---------------------------------------


@dataclass(frozen=True)
class StripeAnswers:
    """What processing asks Stripe about one customer, read in advance: it
    answers the same calls (StripeGateway) from memory."""

    customer_id: str
    catalog: PriceCatalog
    listed_since: datetime | None
    events: EventsList
    customer_answer: CustomerSnapshot | CustomerMissing
    live: SubscriptionSnapshot | None = None
    transactions: list[JsonObject] | None = None  # None: not read (Detect)

    def price_catalog(self) -> PriceCatalog:
        return self.catalog

    def list_events(self, customer_id: str, created_gte: datetime | None) -> EventsList:
        self._asked_about(customer_id)
        if created_gte != self.listed_since:  # run_customer re-reads when the anchor moved
            raise RuntimeError(f"events of {customer_id} were listed from {self.listed_since}, not {created_gte}")
        return self.events

    def customer(self, customer_id: str) -> CustomerSnapshot:
        self._asked_about(customer_id)
        if isinstance(self.customer_answer, CustomerMissing):
            raise self.customer_answer
        return self.customer_answer

    def subscription(
        self, customer_id: str, catalog: PriceCatalog, *, customer: CustomerSnapshot | None = None
    ) -> SubscriptionSnapshot | None:
        self._asked_about(customer_id)
        return self.live

    def payment_transactions(self, customer_id: str, catalog: PriceCatalog) -> list[JsonObject]:
        self._asked_about(customer_id)
        if self.transactions is None:
            raise RuntimeError(f"the invoices of {customer_id} were not read")
        return self.transactions

    def _asked_about(self, customer_id: str) -> None:
        if customer_id != self.customer_id:
            raise RuntimeError(f"Stripe was read for {self.customer_id}, not {customer_id}")


def read_stripe(
    client: StripeGateway,
    customer_id: str,
    anchor: datetime | None,
    *,
    invoices: bool,
    progress: Progress | None = None,
) -> StripeAnswers:
    """Every call processing makes for this customer, in its order. Stripe
    failures and currency mismatches raise here; a missing customer is an answer."""
    report = progress or _quiet
    report(SyncStep.ReadingPriceCatalog)
    catalog = client.price_catalog()
    report(SyncStep.ListingEvents)
    listed = client.list_events(customer_id, anchor)
    report(SyncStep.ReadingCustomer)
    try:
        customer = client.customer(customer_id)
    except CustomerMissing as missing:
        return StripeAnswers(customer_id, catalog, anchor, listed, missing)
    if customer.deleted:
        return StripeAnswers(customer_id, catalog, anchor, listed, customer)
    live = client.subscription(customer_id, catalog, customer=customer)
    transactions = client.payment_transactions(customer_id, catalog) if invoices else None
    return StripeAnswers(customer_id, catalog, anchor, listed, customer, live, transactions)


@dataclass(frozen=True)
class _Local:
    """What a run reads before asking Stripe."""

    tenant_id: int
    subscription_id: str
    anchor: datetime | None
    version: str  # the row's xmin: every write to the row changes it
    pending: bool


def _read_local(conn: Connection, customer_id: str, *, lock: bool) -> _Local | None:
    query: Select[int, str, datetime | None, str] = select(
        Subscription.tenant_id,
        Subscription.id,
        Subscription.last_synced_stripe_event_created_at,
        literal_column("subscriptions.xmin::text", Text).label("version"),
    ).where(Subscription.stripe_customer_id == customer_id)
    row = conn.execute(query.with_for_update() if lock else query).one_or_none()
    if row is None:
        return None
    pending = _has_pending(conn, customer_id)
    return _Local(row.tenant_id, row.id, row.last_synced_stripe_event_created_at, row.version, pending)


def run_customer(
    engine: Engine,
    client: StripeGateway,
    customer_id: str,
    *,
    now: datetime,
    force: bool = False,
    apply: bool = True,
    progress: Progress | None = None,
    lock_tenant: Callable[[Connection, int], None] | None = None,
    on_written: Callable[[Connection, ProcessResult | None], None] | None = None,
) -> ProcessResult | None:
    """`process_customer` with no connection held while Stripe is asked: read
    the anchor, read Stripe, then lock (`lock_tenant` first), re-check and
    write in one short transaction. A write to the subscription in between
    may have applied Stripe answers newer than ours (and moved the anchor: a
    list from an older anchor would replay recorded events from the new seed
    and report them stale), so we read Stripe again. `on_written` runs in
    that transaction after the writes (the audit trail's row)."""
    report = progress or _quiet
    for _ in range(ATTEMPTS):
        with engine.connect() as conn:
            before = _read_local(conn, customer_id, lock=False)
        if before is None:
            return None
        if not (force or before.pending):
            return ProcessResult(before.tenant_id, before.subscription_id, synced=False)
        answers = read_stripe(client, customer_id, before.anchor, invoices=apply, progress=report)
        with engine.begin() as conn:
            if lock_tenant is not None:
                report(SyncStep.WaitingForOtherSyncs)
                lock_tenant(conn, before.tenant_id)
            now_locked = _read_local(conn, customer_id, lock=apply)
            if now_locked is not None and (now_locked.subscription_id, now_locked.version) != (
                before.subscription_id,
                before.version,
            ):
                continue
            result = process_customer(
                conn, answers, customer_id, now=now, force=force, apply=apply, catalog=answers.catalog, progress=report
            )
            if on_written is not None:
                on_written(conn, result)
            return result
    raise OperatorError(f"the subscription of {customer_id} kept changing while Stripe was read; try again")


# -- events -------------------------------------------------------------------


def stored_events(conn: Connection, customer_id: str, *, include_processed: bool) -> list[dict[str, Any]]:
    """The customer's stored events as Stripe event dicts: the Pending ones, or
    with include_processed the whole archive (the first-sync backfill)."""
    statuses = [StripeEventStatus.Pending.value]
    if include_processed:
        statuses.append(StripeEventStatus.Processed.value)
    rows = conn.execute(
        select(
            StripeEvent.id,
            StripeEvent.event_type,
            StripeEvent.stripe_created_at,
            StripeEvent.created_at,
            StripeEvent.api_version,
            StripeEvent.payload,
        ).where(StripeEvent.stripe_customer_id == customer_id, StripeEvent.status.in_(statuses))
    )
    return [event_of_row(row) for row in rows]


def event_of_row(row: Row[Any]) -> dict[str, Any]:
    """A stored row as an event: identity from the columns, data from the
    payload (a payload that is not an event reads as "no data")."""
    payload = row.payload if isinstance(row.payload, Mapping) else {}
    created_at = row.stripe_created_at or row.created_at
    return {
        "id": row.id,
        "type": row.event_type,
        "created": created_at.timestamp(),
        "api_version": row.api_version or "",
        "data": payload.get("data"),
    }


def _union(*sources: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Events by id; the first source that has an id wins (Stripe's list first)."""
    events: dict[str, Mapping[str, Any]] = {}
    for source in sources:
        for event in source:
            events.setdefault(event["id"], event)
    return list(events.values())


def archive_missing(conn: Connection, customer_id: str, events: Iterable[Mapping[str, Any]], now: datetime) -> int:
    """Store listed events we never received, as recovered Processed rows."""
    rows = []
    for event in events:
        text = json.dumps(event, separators=(",", ":"), ensure_ascii=False)
        created = event.get("created")
        rows.append(
            {
                "id": event["id"],
                "created_at": now,
                "event_type": event["type"],
                "status": StripeEventStatus.Processed.value,
                "processed_at": now,
                "stripe_customer_id": customer_id,
                "payload": event,
                "api_version": event.get("api_version"),
                "recovered_at": now,
                "recovery_source": RECOVERY_SOURCE,
                "payload_hash": hashlib.sha256(text.encode("utf-8")).hexdigest(),
                "stripe_created_at": datetime.fromtimestamp(created, UTC)
                if isinstance(created, (int, float))
                else None,
            }
        )
    if not rows:
        return 0
    inserted = conn.execute(
        pg_insert(StripeEvent).values(rows).on_conflict_do_nothing(index_elements=["id"]).returning(StripeEvent.id)
    ).all()
    return len(inserted)


def _has_pending(conn: Connection, customer_id: str) -> bool:
    return bool(
        conn.execute(
            select(
                exists().where(
                    StripeEvent.stripe_customer_id == customer_id,
                    StripeEvent.status == StripeEventStatus.Pending.value,
                )
            )
        ).scalar()
    )


def _newest_supported(events: Iterable[Mapping[str, Any]]) -> datetime | None:
    created = [event["created"] for event in events if (event.get("api_version") or "") in SUPPORTED_API_VERSIONS]
    return datetime.fromtimestamp(max(created), UTC) if created else None


def _advance_anchor(conn: Connection, subscription_id: str, newest: datetime) -> None:
    """The anchor only moves forward (an older webhook never moves it back)."""
    conn.execute(
        update(Subscription)
        .where(Subscription.id == subscription_id)
        .values(
            last_synced_stripe_event_created_at=func.greatest(Subscription.last_synced_stripe_event_created_at, newest)
        )
    )


def _mark_processed(conn: Connection, customer_id: str, subscription: Row[Any], now: datetime) -> int:
    done = conn.execute(
        update(StripeEvent)
        .where(StripeEvent.stripe_customer_id == customer_id, StripeEvent.status == StripeEventStatus.Pending.value)
        .values(
            status=StripeEventStatus.Processed.value,
            processed_at=now,
            tenant_id=subscription.tenant_id,
            stripe_subscription_id=subscription.stripe_subscription_id,
        )
    )
    return done.rowcount


def _stale_rows(
    conn: Connection,
    subscription_id: str,
    replayed: list[BillingEventRow],
    seed: ledger.LatestEvent | None,
) -> list[StaleRow]:
    """Recorded events that replay to other amounts than stored (docs/rules.md R29). Events at the seed's exact instant are skipped: an inclusive
    anchor re-pulls same-second siblings, which replay differently by design."""
    candidates = [row for row in replayed if seed is None or row.occurred_at != seed.occurred_at]
    stored = ledger.persisted_amounts(conn, subscription_id, (row.stripe_event_id for row in candidates))
    stale = []
    for row in candidates:
        persisted = stored.get(row.stripe_event_id)
        if persisted is None:
            continue
        if (
            persisted.committed_mrr != row.committed_mrr
            or persisted.amount_delta != row.amount_delta
            or persisted.previous_amount != row.previous_amount
            or persisted.new_amount != row.new_amount
        ):
            stale.append(StaleRow(persisted.event_type, persisted.occurred_at))
    return stale
