"""The replayer: Stripe events in, billing events out (docs/rules.md R15-R29).

A pure state machine. It walks Stripe events in (created, event id) order and
classifies each into one BillingEvent row, tracking the running plan, plan
price, cancel-at-period-end flag, scheduled plan and committed MRR, so every
row carries the amounts that were true when it happened. Live processing,
first-sync backfill, archive replay and demo data all go through `replay`, so
the same Stripe event gives the same row (and the same deterministic id) on
every path.

It is the hot loop of demo-data generation (millions of events): no copies of
payloads, no JSON parsing, one pass.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from core.ids import billing_event_id
from db.enums import BillingEventType as T
from db.enums import CancellationReason, SubscriptionPlan, SuspensionReason
from stripe_sync.catalog import PriceCatalog
from stripe_sync.stripe_mapping import cancellation_reason_of

ZERO = Decimal("0.00")
HUNDRED = Decimal(100)
CENT = Decimal("0.01")

# Stripe API versions whose payload shapes the replayer reads (the live path
# leaves events of other versions out and reports them as drift, docs/rules.md
# R28): the two the recorded test payloads and the demo data are written in,
# the version the pinned stripe SDK sends, and the legacy Plan-object shape
# (items[].plan) that older accounts and the local emulator emit.
SUPPORTED_API_VERSIONS: frozenset[str] = frozenset(
    {"2025-09-30.preview", "2025-10-29.clover", "2026-10-28.endive", "2017-08-15"}
)

# These rows may have no currency; any other event without one is skipped.
CURRENCY_OPTIONAL_TYPES = frozenset({"customer.created", "customer.updated", "payment_method.attached"})
BILLING_INFO_KEYS = ("address", "email", "name", "tax_ids")
PAST_DUE_STATUSES = frozenset({"past_due", "unpaid"})
ENDED_SCHEDULE_STATUSES = frozenset({"canceled", "released", "completed"})
NOOP_TYPES = frozenset(
    {
        "customer.subscription.pending_update_applied",
        "customer.subscription.pending_update_expired",
        "subscription_schedule.created",
    }
)


@dataclass(slots=True)
class ReplayState:
    """The running state between events (docs/rules.md R16), plus two instants the
    facts of docs/rules.md R12 need (when the plan started, when it was cancelled)."""

    plan: SubscriptionPlan | None = None
    plan_price: Decimal = ZERO
    cancel_at_period_end: bool = False
    scheduled_plan: SubscriptionPlan | None = None
    committed_mrr: Decimal = ZERO
    has_unclassified_event: bool = False
    plan_since: datetime | None = None
    cancelled_at: datetime | None = None

    @classmethod
    def seeded(
        cls,
        *,
        live_plan: SubscriptionPlan | str | None,
        live_price: Decimal | None,
        live_cancel_at_period_end: bool,
        live_scheduled_plan: SubscriptionPlan | str | None,
        latest_event_type: str | None = None,
        latest_to_plan: SubscriptionPlan | str | None = None,
        latest_committed_mrr: Decimal | None = None,
    ) -> ReplayState:
        """Seed from the live subscription and its latest persisted billing
        event, so a replay that starts mid-history does not compute from 0."""
        if latest_event_type == T.SubscriptionDowngradeScheduled:
            scheduled = latest_to_plan
        else:
            scheduled = live_scheduled_plan
        return cls(
            plan=_plan(live_plan),
            plan_price=live_price if live_price is not None else ZERO,
            cancel_at_period_end=live_cancel_at_period_end,
            scheduled_plan=_plan(scheduled),
            committed_mrr=latest_committed_mrr if latest_committed_mrr is not None else ZERO,
        )

    def reset(self) -> None:
        """The subscription ended: Basis, as the live subscription is after a
        reset (so rows after it read the same on every path)."""
        self.plan = SubscriptionPlan.Basis
        self.plan_price = ZERO
        self.cancel_at_period_end = False
        self.scheduled_plan = None
        self.committed_mrr = ZERO
        self.plan_since = None
        self.cancelled_at = None


@dataclass(frozen=True, slots=True)
class BillingEventRow:
    """One billing_events row; fields are the table's columns except created_at."""

    tenant_id: int
    id: str
    subscription_id: str
    stripe_event_id: str
    event_type: T
    from_plan: SubscriptionPlan | None
    to_plan: SubscriptionPlan | None
    previous_amount: Decimal | None
    new_amount: Decimal | None
    amount_delta: Decimal | None
    committed_mrr: Decimal
    currency: str | None
    occurred_at: datetime
    cancellation_reason: CancellationReason | None = None
    suspension_reason: SuspensionReason | None = None
    days_on_previous_plan: int | None = None
    days_until_effective: int | None = None
    days_since_cancelled: int | None = None
    scheduled_for: datetime | None = None
    effective_at: datetime | None = None
    stripe_reference: str | None = None

    def as_row(self, created_at: datetime) -> dict[str, Any]:
        """Column values for an INSERT, with our insertion time."""
        return {
            "tenant_id": self.tenant_id,
            "id": self.id,
            "subscription_id": self.subscription_id,
            "created_at": created_at,
            "stripe_event_id": self.stripe_event_id,
            "event_type": self.event_type.value,
            "from_plan": self.from_plan.value if self.from_plan else None,
            "to_plan": self.to_plan.value if self.to_plan else None,
            "previous_amount": self.previous_amount,
            "new_amount": self.new_amount,
            "amount_delta": self.amount_delta,
            "committed_mrr": self.committed_mrr,
            "currency": self.currency,
            "occurred_at": self.occurred_at,
            "cancellation_reason": self.cancellation_reason.value if self.cancellation_reason else None,
            "suspension_reason": self.suspension_reason.value if self.suspension_reason else None,
            "days_on_previous_plan": self.days_on_previous_plan,
            "days_until_effective": self.days_until_effective,
            "days_since_cancelled": self.days_since_cancelled,
            "scheduled_for": self.scheduled_for,
            "effective_at": self.effective_at,
            "stripe_reference": self.stripe_reference,
        }


class InvalidBillingEvent(ValueError):
    """A row that breaks a construction invariant (docs/rules.md R10): a bug."""


def check_invariants(row: BillingEventRow) -> None:
    if row.committed_mrr < 0:
        raise InvalidBillingEvent(f"{row.event_type} {row.stripe_event_id}: committed MRR {row.committed_mrr} below 0")
    if row.previous_amount is not None and row.new_amount is not None and row.amount_delta is not None:
        if abs(row.new_amount - row.previous_amount - row.amount_delta) > Decimal("0.005"):
            raise InvalidBillingEvent(
                f"{row.event_type} {row.stripe_event_id}: delta {row.amount_delta} is not "
                f"{row.new_amount} - {row.previous_amount}"
            )


@dataclass
class ReplayResult:
    rows: list[BillingEventRow]  # new rows, in replay order
    state: ReplayState  # the state after the last event
    # Rows computed for events whose id was in skip_stripe_event_ids (for the stale check).
    already_recorded: list[BillingEventRow] = field(default_factory=list)
    unsupported_api_versions: list[str] = field(default_factory=list)
    skipped_unsupported: list[str] = field(default_factory=list)  # event ids
    skipped_without_currency: list[str] = field(default_factory=list)  # event ids
    ignored_types: list[str] = field(default_factory=list)  # event ids of types that make no row
    has_unclassified_event: bool = False
    max_created: datetime | None = None  # newest event that was replayed


def replay(
    events: Iterable[Mapping[str, Any]],
    *,
    tenant_id: int,
    subscription_id: str,
    catalog: PriceCatalog,
    state: ReplayState | None = None,
    skip_stripe_event_ids: AbstractSet[str] = frozenset(),
    currency_override: str | None = None,
    live_plan: SubscriptionPlan | None = None,
    live_cancellation_reason: str | None = None,
    live_currency: str | None = None,
    supported_api_versions: AbstractSet[str] | None = None,
) -> ReplayResult:
    """Classify `events` (Stripe event dicts) into billing events.

    `state` is mutated and returned (a fresh empty one when None). An id seen
    twice is replayed once (the first occurrence wins: callers put Stripe's
    events list first). With `supported_api_versions`, events of any other
    version are left out and reported."""
    state = state if state is not None else ReplayState()
    result = ReplayResult(rows=[], state=state)
    replayer = _Replayer(
        tenant_id=tenant_id,
        subscription_id=subscription_id,
        catalog=catalog,
        state=state,
        currency_fallback=(currency_override or live_currency or None),
        live_plan=live_plan,
        live_cancellation_reason=_cancellation_reason(live_cancellation_reason),
    )
    unsupported: set[str] = set()
    for event in _ordered(events):
        event_id = event["id"]
        if supported_api_versions is not None:
            version = event.get("api_version") or ""
            if version not in supported_api_versions:
                unsupported.add(version)
                result.skipped_unsupported.append(event_id)
                continue
        outcome = replayer.classify(event)
        if outcome is None:
            result.ignored_types.append(event_id)
            continue
        if outcome is _NO_CURRENCY:
            result.skipped_without_currency.append(event_id)
            continue
        assert isinstance(outcome, BillingEventRow)
        if result.max_created is None or outcome.occurred_at > result.max_created:
            result.max_created = outcome.occurred_at
        if event_id in skip_stripe_event_ids:
            result.already_recorded.append(outcome)
        else:
            result.rows.append(outcome)
    result.unsupported_api_versions = sorted(unsupported)
    result.has_unclassified_event = state.has_unclassified_event
    return result


def _ordered(events: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Distinct by id (first wins), then by created, ties by id (ordinal)."""
    seen: dict[str, Mapping[str, Any]] = {}
    for event in events:
        seen.setdefault(event["id"], event)
    return sorted(seen.values(), key=_order_key)


def _order_key(event: Mapping[str, Any]) -> tuple[float, str]:
    return (event["created"], event["id"])


_NO_CURRENCY = object()


class _Replayer:
    """One replay pass: the per-event rules of docs/rules.md R18-R27."""

    __slots__ = (
        "tenant_id",
        "subscription_id",
        "catalog",
        "state",
        "currency_fallback",
        "live_plan",
        "live_cancellation_reason",
        "handlers",
    )

    def __init__(
        self,
        *,
        tenant_id: int,
        subscription_id: str,
        catalog: PriceCatalog,
        state: ReplayState,
        currency_fallback: str | None,
        live_plan: SubscriptionPlan | None,
        live_cancellation_reason: CancellationReason | None,
    ) -> None:
        self.tenant_id = tenant_id
        self.subscription_id = subscription_id
        self.catalog = catalog
        self.state = state
        self.currency_fallback = currency_fallback.upper() if currency_fallback else None
        self.live_plan = _plan(live_plan)
        self.live_cancellation_reason = live_cancellation_reason
        self.handlers = {
            "customer.created": self._customer_created,
            "customer.updated": self._customer_updated,
            "customer.deleted": self._customer_deleted,
            "payment_method.attached": self._payment_method_attached,
            "customer.subscription.created": self._subscription_created,
            "customer.subscription.updated": self._subscription_updated,
            "customer.subscription.deleted": self._subscription_deleted,
            "subscription_schedule.updated": self._schedule_updated,
            "subscription_schedule.released": self._schedule_ended,
            "subscription_schedule.canceled": self._schedule_ended,
            "invoice.payment_succeeded": self._payment_succeeded,
            "invoice.payment_failed": self._payment_failed,
            "charge.refunded": self._charge_refunded,
        }

    def classify(self, event: Mapping[str, Any]) -> BillingEventRow | object | None:
        """A row; None for a type that makes no row; _NO_CURRENCY when skipped."""
        event_type = event["type"]
        handler = self.handlers.get(event_type)
        if handler is None and event_type not in NOOP_TYPES:
            return None
        data = event.get("data")
        if not isinstance(data, Mapping):
            data = {}
        obj = data.get("object")
        if not isinstance(obj, Mapping):
            obj = {}
        if obj.get("object") == "customer":
            # A customer's own currency says how Stripe may bill it; its rows
            # carry the subscription's MRR, so the subscription's comes first.
            currency = self.currency_fallback or _currency(obj)
        else:
            currency = _currency(obj) or self.currency_fallback
        if currency is None and event_type not in CURRENCY_OPTIONAL_TYPES:
            return _NO_CURRENCY
        occurred_at = _instant(event["created"])
        facts = _Facts(event["id"], occurred_at, currency, obj, data.get("previous_attributes"))
        if handler is None:
            return self._row(facts, T.NoOp)
        return handler(facts)

    # -- building rows --------------------------------------------------

    def _row(
        self,
        facts: _Facts,
        event_type: T,
        *,
        from_plan: SubscriptionPlan | None = None,
        to_plan: SubscriptionPlan | None | object = ...,
        previous: Decimal | None = None,
        new: Decimal | None = None,
        delta: Decimal | None | object = ...,
        **metadata: Any,
    ) -> BillingEventRow:
        if delta is ...:
            delta = new - previous if new is not None and previous is not None else None
        reference = facts.obj.get("id")
        row = BillingEventRow(
            tenant_id=self.tenant_id,
            id=billing_event_id(self.subscription_id, event_type.value, facts.event_id, facts.occurred_at),
            subscription_id=self.subscription_id,
            stripe_event_id=facts.event_id,
            event_type=event_type,
            from_plan=from_plan,
            to_plan=self.state.plan if to_plan is ... else to_plan,  # type: ignore[arg-type]
            previous_amount=previous,
            new_amount=new,
            amount_delta=delta,  # type: ignore[arg-type]
            committed_mrr=self.state.committed_mrr,
            currency=facts.currency,
            occurred_at=facts.occurred_at,
            stripe_reference=reference if isinstance(reference, str) else None,
            **metadata,
        )
        check_invariants(row)
        return row

    def _informational(self, facts: _Facts, event_type: T) -> BillingEventRow:
        """A row that does not move MRR but shows the committed MRR."""
        return self._row(facts, event_type, new=self.state.committed_mrr)

    # -- customer and payment method ------------------------------------

    def _customer_created(self, facts: _Facts) -> BillingEventRow:
        return self._row(facts, T.BillingInfoAdded)

    def _customer_updated(self, facts: _Facts) -> BillingEventRow:
        previous = facts.previous
        if isinstance(previous, Mapping) and any(key in previous for key in BILLING_INFO_KEYS):
            return self._row(facts, T.BillingInfoUpdated)
        return self._row(facts, T.NoOp)

    def _payment_method_attached(self, facts: _Facts) -> BillingEventRow:
        return self._row(facts, T.PaymentMethodUpdated)

    def _customer_deleted(self, facts: _Facts) -> BillingEventRow:
        return self._end(facts, T.SubscriptionSuspended, suspension_reason=SuspensionReason.CustomerDeleted)

    # -- subscription lifecycle -----------------------------------------

    def _subscription_created(self, facts: _Facts) -> BillingEventRow:
        state = self.state
        prices = _item_prices(facts.obj)
        plan = self._plan_of(prices) or self.live_plan
        price = self._price(prices, plan)
        previous = state.committed_mrr
        state.plan = plan
        state.plan_price = price
        state.cancel_at_period_end = False
        state.scheduled_plan = None
        state.committed_mrr = price
        state.plan_since = facts.occurred_at
        state.cancelled_at = None
        return self._row(
            facts,
            T.SubscriptionCreated,
            to_plan=plan,
            previous=previous,
            new=price,
            effective_at=_optional_instant(facts.obj.get("start_date")),
        )

    def _subscription_updated(self, facts: _Facts) -> BillingEventRow:
        state = self.state
        previous_attributes = facts.previous
        if not facts.obj or not isinstance(previous_attributes, Mapping):
            return self._row(facts, T.NoOp)
        cancel_toggle = previous_attributes.get("cancel_at_period_end")
        current_prices = _item_prices(facts.obj)
        new_plan = self._plan_of(current_prices)
        old_plan = self._plan_of(_item_prices(previous_attributes)) if _has_items(previous_attributes) else None
        plan_changed = new_plan is not None and old_plan is not None and new_plan != old_plan
        if isinstance(cancel_toggle, bool) and plan_changed:
            state.has_unclassified_event = True
            return self._row(facts, T.Unclassified)
        if cancel_toggle is False:
            return self._cancelled(facts)
        if cancel_toggle is True:
            return self._reactivated(facts)
        if plan_changed:
            assert new_plan is not None and old_plan is not None
            return self._plan_changed(facts, old_plan, new_plan, current_prices)
        if previous_attributes.get("status") == "active" and facts.obj.get("status") in PAST_DUE_STATUSES:
            return self._informational(facts, T.SubscriptionPastDue)
        return self._row(facts, T.NoOp)

    def _cancelled(self, facts: _Facts) -> BillingEventRow:
        state = self.state
        previous = state.committed_mrr
        state.cancel_at_period_end = True
        state.committed_mrr = ZERO
        state.cancelled_at = facts.occurred_at
        ends_at = _optional_instant(
            facts.obj.get("cancel_at")
            or facts.obj.get("current_period_end")
            or _first_item(facts.obj).get("current_period_end")
        )
        return self._row(
            facts,
            T.SubscriptionCancelled,
            previous=previous,
            new=ZERO,
            cancellation_reason=_payload_cancellation_reason(facts.obj) or self.live_cancellation_reason,
            scheduled_for=ends_at,
            days_until_effective=_days(facts.occurred_at, ends_at),
        )

    def _reactivated(self, facts: _Facts) -> BillingEventRow:
        state = self.state
        previous = state.committed_mrr
        days_since_cancelled = _days(state.cancelled_at, facts.occurred_at)
        state.cancel_at_period_end = False
        state.committed_mrr = state.plan_price
        state.cancelled_at = None
        return self._row(
            facts,
            T.SubscriptionReactivated,
            previous=previous,
            new=state.plan_price,
            days_since_cancelled=days_since_cancelled,
        )

    def _plan_changed(
        self,
        facts: _Facts,
        old_plan: SubscriptionPlan,
        new_plan: SubscriptionPlan,
        prices: list[Mapping[str, Any]],
    ) -> BillingEventRow:
        state = self.state
        previous = state.committed_mrr
        price = self._price(prices, new_plan)
        days_on_previous_plan = _days(state.plan_since, facts.occurred_at)
        state.plan = new_plan
        state.plan_price = price
        # A plan change while cancelling stays at 0 until reactivated.
        state.committed_mrr = ZERO if state.cancel_at_period_end else price
        state.plan_since = facts.occurred_at
        event_type = T.SubscriptionUpgraded if new_plan.tier > old_plan.tier else T.SubscriptionDowngraded
        return self._row(
            facts,
            event_type,
            from_plan=old_plan,
            to_plan=new_plan,
            previous=previous,
            new=state.committed_mrr,
            days_on_previous_plan=days_on_previous_plan,
            effective_at=facts.occurred_at,
        )

    def _subscription_deleted(self, facts: _Facts) -> BillingEventRow:
        details = facts.obj.get("cancellation_details")
        reason = details.get("reason") if isinstance(details, Mapping) else None
        # Stripe clears cancel_at_period_end before sending this event, so the
        # tracked state tells an expiry from an immediate cancellation.
        if isinstance(reason, str) and reason.lower() == "payment_failed":
            return self._end(facts, T.SubscriptionSuspended, suspension_reason=SuspensionReason.PaymentFailed)
        if self.state.cancel_at_period_end:
            return self._end(facts, T.SubscriptionExpired)
        return self._end(facts, T.SubscriptionImmediatelyCancelled)

    def _end(self, facts: _Facts, event_type: T, **metadata: Any) -> BillingEventRow:
        """The subscription is gone: back to Basis, MRR to 0."""
        state = self.state
        previous = state.committed_mrr
        from_plan = state.plan
        days_on_previous_plan = _days(state.plan_since, facts.occurred_at)
        days_since_cancelled = (
            _days(state.cancelled_at, facts.occurred_at) if event_type == T.SubscriptionExpired else None
        )
        state.reset()
        return self._row(
            facts,
            event_type,
            from_plan=from_plan,
            to_plan=SubscriptionPlan.Basis,
            previous=previous,
            new=ZERO,
            days_on_previous_plan=days_on_previous_plan,
            days_since_cancelled=days_since_cancelled,
            effective_at=_optional_instant(facts.obj.get("ended_at")),
            **metadata,
        )

    # -- schedules (downgrades at period end) ---------------------------

    def _schedule_updated(self, facts: _Facts) -> BillingEventRow:
        state = self.state
        if facts.obj.get("status") in ENDED_SCHEDULE_STATUSES:
            return self._row(facts, T.NoOp)
        target, starts_at = self._schedule_target(facts.obj)
        if target is None or target == state.scheduled_plan:
            return self._row(facts, T.NoOp)
        previous = state.committed_mrr
        scheduled_price = self._price(_item_prices(facts.obj), target)
        from_plan = state.plan
        state.scheduled_plan = target
        state.committed_mrr = scheduled_price
        return self._row(
            facts,
            T.SubscriptionDowngradeScheduled,
            from_plan=from_plan,
            to_plan=target,
            previous=previous,
            new=scheduled_price,
            scheduled_for=starts_at,
            days_until_effective=_days(facts.occurred_at, starts_at),
        )

    def _schedule_target(self, schedule: Mapping[str, Any]) -> tuple[SubscriptionPlan | None, datetime | None]:
        """The plan of the last phase (the last mapped price wins), or None
        with fewer than two phases or when it is the current plan."""
        phases = schedule.get("phases")
        if not isinstance(phases, list) or len(phases) < 2:
            return None, None
        target: SubscriptionPlan | None = None
        starts_at: datetime | None = None
        for phase in phases:
            if not isinstance(phase, Mapping):
                continue
            for item in phase.get("items") or ():
                if not isinstance(item, Mapping):
                    continue
                price = item.get("price") or item.get("plan")
                price_id = price.get("id") if isinstance(price, Mapping) else price
                plan = self.catalog.plan_for_price(price_id) if isinstance(price_id, str) else None
                if plan is not None:
                    target = plan
                    starts_at = _optional_instant(phase.get("start_date"))
        if target == self.state.plan:
            return None, None
        return target, starts_at

    def _schedule_ended(self, facts: _Facts) -> BillingEventRow:
        state = self.state
        if state.scheduled_plan is None:
            return self._row(facts, T.NoOp)
        previous = state.committed_mrr
        state.scheduled_plan = None
        state.committed_mrr = state.plan_price
        delta = state.plan_price - previous
        return self._row(
            facts,
            T.SubscriptionDowngradeCancelled,
            previous=previous,
            new=state.plan_price,
            delta=delta if delta else None,
        )

    # -- invoices and charges -------------------------------------------

    def _payment_succeeded(self, facts: _Facts) -> BillingEventRow:
        if facts.obj.get("billing_reason") != "subscription_cycle":
            return self._row(facts, T.NoOp)
        attempts = facts.obj.get("attempt_count")
        if isinstance(attempts, (int, float)) and not isinstance(attempts, bool) and attempts > 1:
            return self._informational(facts, T.PaymentRecovered)
        return self._informational(facts, T.SubscriptionRenewed)

    def _payment_failed(self, facts: _Facts) -> BillingEventRow:
        if facts.obj.get("billing_reason") != "subscription_cycle":
            return self._row(facts, T.NoOp)
        return self._informational(facts, T.PaymentFailed)

    def _charge_refunded(self, facts: _Facts) -> BillingEventRow:
        return self._informational(facts, T.PaymentRefunded)

    # -- value resolution -----------------------------------------------

    def _plan_of(self, prices: list[Mapping[str, Any]]) -> SubscriptionPlan | None:
        for price in prices:
            plan = self.catalog.plan_for_price(price.get("id"))
            if plan is not None:
                return plan
        return None

    def _price(self, prices: list[Mapping[str, Any]], plan: SubscriptionPlan | None) -> Decimal:
        """The payload's locked-in price first, then the catalog, then 0."""
        if prices:
            amount = prices[0].get("unit_amount", prices[0].get("amount"))
            if isinstance(amount, int) and not isinstance(amount, bool):
                return (Decimal(amount) / HUNDRED).quantize(CENT)
        catalog_price = self.catalog.price_of(plan) if plan is not None and plan != SubscriptionPlan.Basis else None
        return catalog_price if catalog_price is not None else ZERO


@dataclass(slots=True)
class _Facts:
    event_id: str
    occurred_at: datetime
    currency: str | None
    obj: Mapping[str, Any]
    previous: Any


def _plan(value: SubscriptionPlan | str | None) -> SubscriptionPlan | None:
    return SubscriptionPlan(value) if value else None


def _instant(created: int | float) -> datetime:
    return datetime.fromtimestamp(created, UTC)


def _optional_instant(value: Any) -> datetime | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC)
    return None


def _days(start: datetime | None, end: datetime | None) -> int | None:
    if start is None or end is None:
        return None
    return max(0, (end - start).days)


def _has_items(obj: Mapping[str, Any]) -> bool:
    return "items" in obj or "plan" in obj


def _first_item(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    items = obj.get("items")
    data = items.get("data") if isinstance(items, Mapping) else None
    if isinstance(data, list) and data and isinstance(data[0], Mapping):
        return data[0]
    return {}


def _item_prices(obj: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The price objects of a subscription's items (`items.data[*].price`),
    or the legacy `plan` objects where an API version has no prices."""
    items = obj.get("items")
    data = items.get("data") if isinstance(items, Mapping) else None
    prices: list[Mapping[str, Any]] = []
    if isinstance(data, list):
        for item in data:
            if isinstance(item, Mapping):
                price = item.get("price") or item.get("plan")
                if isinstance(price, Mapping):
                    prices.append(price)
                elif isinstance(price, str):
                    prices.append({"id": price})
    if not prices:
        plan = obj.get("plan")
        if isinstance(plan, Mapping):
            prices.append(plan)
    return prices


def _currency(obj: Mapping[str, Any]) -> str | None:
    """data.object.currency, else the first item's price currency (or a
    schedule's last phase currency); upper case."""
    currency = obj.get("currency")
    if isinstance(currency, str) and currency:
        return currency.upper()
    prices = _item_prices(obj)
    if prices:
        currency = prices[0].get("currency")
        if isinstance(currency, str) and currency:
            return currency.upper()
    phases = obj.get("phases")
    if isinstance(phases, list) and phases and isinstance(phases[-1], Mapping):
        currency = phases[-1].get("currency")  # a subscription schedule
        if isinstance(currency, str) and currency:
            return currency.upper()
    return None


def _cancellation_reason(value: str | None) -> CancellationReason | None:
    return CancellationReason(value) if value else None


def _payload_cancellation_reason(subscription: Mapping[str, Any]) -> CancellationReason | None:
    """The reason the customer gave, when the payload carries it (so a row
    replayed later does not take whatever reason the subscription has now)."""
    details = subscription.get("cancellation_details")
    if not isinstance(details, Mapping):
        return None
    feedback = details.get("feedback")
    return cancellation_reason_of(feedback if isinstance(feedback, str) else None)
