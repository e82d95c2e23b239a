"""Bring the local subscription and tenant to Stripe's state (docs/rules.md R61-R66).

Takes the customer as Stripe gave it, asks for its live subscription and
invoices (answers read before the transaction), compares them with the locked
local row, and writes what differs. It never writes billing events: those
come only from the replayer. Any Stripe failure raises (the caller's
transaction rolls back); only a real "no live subscription" answer from Stripe
resets a tenant to Basis (docs/rules.md R60: never reset on error).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from sqlalchemy import Connection, Row, select, update

from db.enums import SubscriptionPlan, SuspensionReason, TenantState
from db.models import Subscription, Tenant
from stripe_sync.catalog import PriceCatalog
from stripe_sync.drift import NO_STRIPE_SUBSCRIPTION, StateSnapshot
from stripe_sync.snapshots import CustomerSnapshot, EventsList, SubscriptionSnapshot

FAILING_STATUSES = frozenset({"past_due", "incomplete"})

# "Reset to free": what a subscription that ended keeps and loses. Kept:
# current_period_end (shown as "Expired {date}"), customer, billing info,
# payment method, transactions, subscribed_since, the anchor and drift fields.
RESET_TO_FREE: dict[str, Any] = {
    "plan": SubscriptionPlan.Basis.value,
    "scheduled_plan": None,
    "scheduled_price_amount": None,
    "stripe_subscription_id": None,
    "current_price_amount": None,
    "current_price_currency": None,
    "cancel_at_period_end": False,
    "first_payment_failed_at": None,
    "cancellation_reason": None,
    "cancellation_feedback": None,
}


class Transition(StrEnum):
    """What a sync changed, for the operator. The values are docs/rules.md R61
    `changes` texts; the console translates by member name."""

    BillingInfoAdded = "billing info added"
    BillingInfoUpdated = "billing info updated"
    PaymentMethodUpdated = "payment method updated"
    SubscriptionCreated = "subscription created"
    Upgraded = "upgraded"
    Renewed = "renewed"
    Cancelled = "cancelled"
    Reactivated = "reactivated"
    PaymentFailed = "payment failed"
    PaymentRecovered = "payment recovered"
    DowngradeCancelled = "downgrade cancelled"
    Downgraded = "downgraded"
    DowngradeScheduled = "downgrade scheduled"
    NoPriceForBasis = "catalog has no price for Basis"
    NoPriceForStandard = "catalog has no price for Standard"
    NoPriceForPremium = "catalog has no price for Premium"
    CustomerDeleted = "customer deleted"
    SuspendedForFailedPayment = "suspended for failed payment"
    Expired = "expired"
    ImmediatelyCancelled = "immediately cancelled"

    @classmethod
    def no_price_for(cls, plan: SubscriptionPlan) -> Transition:
        return cls(f"catalog has no price for {plan.value}")


class StripeGateway(Protocol):
    """The calls of stripe_sync.client.StripeClient that processing uses."""

    def price_catalog(self) -> PriceCatalog: ...

    def customer(self, customer_id: str) -> CustomerSnapshot: ...

    def subscription(
        self, customer_id: str, catalog: PriceCatalog, *, customer: CustomerSnapshot | None = None
    ) -> SubscriptionSnapshot | None: ...

    def payment_transactions(self, customer_id: str, catalog: PriceCatalog) -> list[dict[str, Any]]: ...

    def list_events(self, customer_id: str, created_gte: datetime | None) -> EventsList: ...


@dataclass
class StateSync:
    """What the sync saw and did."""

    local_before: StateSnapshot
    stripe: StateSnapshot
    customer_deleted: bool = False
    stripe_subscription: SubscriptionSnapshot | None = None
    subscription_changes: dict[str, Any] = field(default_factory=dict)
    tenant_changes: dict[str, Any] = field(default_factory=dict)
    transitions: list[Transition] = field(default_factory=list)  # what happened, for the operator

    @property
    def changed(self) -> bool:
        return bool(self.subscription_changes or self.tenant_changes)


def load_subscription(conn: Connection, customer_id: str, *, lock: bool = True) -> Row[Any] | None:
    query = select(Subscription.__table__).where(Subscription.stripe_customer_id == customer_id)
    if lock:
        query = query.with_for_update()
    return conn.execute(query).one_or_none()


def sync_state(
    conn: Connection,
    subscription: Row[Any],
    client: StripeGateway,
    catalog: PriceCatalog,
    customer: CustomerSnapshot,
    *,
    now: datetime,
    apply: bool = True,
) -> StateSync:
    """Read the customer's subscription (and invoices) from Stripe, work out
    the transitions, and (with apply) write them."""
    customer_id = subscription.stripe_customer_id
    result = StateSync(local_before=StateSnapshot.of_subscription(subscription), stripe=NO_STRIPE_SUBSCRIPTION)
    tenant = conn.execute(select(Tenant.__table__).where(Tenant.id == subscription.tenant_id)).one()
    if customer.deleted:
        result.customer_deleted = True
        _end(result, subscription, tenant, now, SuspensionReason.CustomerDeleted, Transition.CustomerDeleted)
    else:
        stripe_subscription = client.subscription(customer_id, catalog, customer=customer)
        result.stripe_subscription = stripe_subscription
        if apply:
            transactions = client.payment_transactions(customer_id, catalog)
            if not _same_transactions(subscription.payment_transactions or [], transactions):
                result.subscription_changes["payment_transactions"] = transactions
        _customer_details(result, subscription, customer, stripe_subscription)
        if stripe_subscription is not None:
            _follow(result, subscription, tenant, stripe_subscription, catalog, now)
        elif subscription.stripe_subscription_id is not None:
            if subscription.first_payment_failed_at is not None:
                _end(
                    result,
                    subscription,
                    tenant,
                    now,
                    SuspensionReason.PaymentFailed,
                    Transition.SuspendedForFailedPayment,
                )
            else:
                kind = Transition.Expired if subscription.cancel_at_period_end else Transition.ImmediatelyCancelled
                _end(result, subscription, tenant, now, None, kind)
    if apply:
        _write(conn, subscription, result, now)
    return result


def _set(result: StateSync, subscription: Row[Any], column: str, value: Any) -> None:
    if getattr(subscription, column) != value:
        result.subscription_changes[column] = value


def _same_transactions(stored: list[dict[str, Any]], fresh: list[dict[str, Any]]) -> bool:
    """Equal but for the Id, which Stripe does not give (it is new on every read)."""
    if len(stored) != len(fresh):
        return False

    def strip(transaction: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in transaction.items() if k != "Id"}

    return all(strip(a) == strip(b) for a, b in zip(stored, fresh, strict=True))


def _set_tenant(result: StateSync, tenant: Row[Any], column: str, value: Any) -> None:
    if getattr(tenant, column) != value:
        result.tenant_changes[column] = value


def _customer_details(
    result: StateSync,
    subscription: Row[Any],
    customer: CustomerSnapshot,
    stripe_subscription: SubscriptionSnapshot | None,
) -> None:
    if customer.billing_info is not None and customer.billing_info != subscription.billing_info:
        result.transitions.append(
            Transition.BillingInfoAdded if subscription.billing_info is None else Transition.BillingInfoUpdated
        )
        _set(result, subscription, "billing_info", customer.billing_info)
    method = (stripe_subscription.payment_method if stripe_subscription else None) or customer.payment_method
    if method != subscription.payment_method:
        result.transitions.append(Transition.PaymentMethodUpdated)
        _set(result, subscription, "payment_method", method)


def _follow(
    result: StateSync,
    subscription: Row[Any],
    tenant: Row[Any],
    stripe: SubscriptionSnapshot,
    catalog: PriceCatalog,
    now: datetime,
) -> None:
    """Stripe has a live subscription: copy it."""
    result.stripe = StateSnapshot(
        stripe.plan, stripe.cancel_at_period_end, stripe.current_price_amount, stripe.currency
    )
    if subscription.stripe_subscription_id is None:
        result.transitions.append(Transition.SubscriptionCreated)
        _set_tenant(result, tenant, "state", TenantState.Active.value)
        _set_tenant(result, tenant, "suspension_reason", None)
        _set_tenant(result, tenant, "suspended_at", None)
    elif SubscriptionPlan(subscription.plan).tier < stripe.plan.tier:
        result.transitions.append(Transition.Upgraded)
    if (
        subscription.current_period_end
        and stripe.current_period_end
        and stripe.current_period_end > subscription.current_period_end
    ):
        result.transitions.append(Transition.Renewed)
    _set(result, subscription, "stripe_subscription_id", stripe.stripe_subscription_id)
    _set(result, subscription, "plan", stripe.plan.value)
    _set(result, subscription, "current_price_amount", stripe.current_price_amount)
    _set(result, subscription, "current_price_currency", stripe.currency)
    _set(result, subscription, "current_period_end", stripe.current_period_end)
    _set_tenant(result, tenant, "plan", stripe.plan.value)
    if stripe.cancel_at_period_end != subscription.cancel_at_period_end:
        result.transitions.append(Transition.Cancelled if stripe.cancel_at_period_end else Transition.Reactivated)
    _set(result, subscription, "cancel_at_period_end", stripe.cancel_at_period_end)
    _set(
        result,
        subscription,
        "cancellation_reason",
        stripe.cancellation_reason.value if stripe.cancellation_reason else None,
    )
    _set(result, subscription, "cancellation_feedback", stripe.cancellation_feedback)
    _schedule(result, subscription, stripe, catalog)
    if stripe.status in FAILING_STATUSES and subscription.first_payment_failed_at is None:
        result.transitions.append(Transition.PaymentFailed)
        _set(result, subscription, "first_payment_failed_at", now)
    elif stripe.status == "active" and subscription.first_payment_failed_at is not None:
        result.transitions.append(Transition.PaymentRecovered)
        _set(result, subscription, "first_payment_failed_at", None)


def _schedule(result: StateSync, subscription: Row[Any], stripe: SubscriptionSnapshot, catalog: PriceCatalog) -> None:
    """Follow Stripe's scheduled plan; its price comes from the catalog. On a
    catalog miss the price is left alone (ScheduledPriceMissing flags a gap)."""
    if stripe.scheduled_plan is None:
        if subscription.scheduled_plan is not None:
            result.transitions.append(
                Transition.DowngradeCancelled if stripe.plan.value == subscription.plan else Transition.Downgraded
            )
        _set(result, subscription, "scheduled_plan", None)
        _set(result, subscription, "scheduled_price_amount", None)
        return
    if subscription.scheduled_plan is None:
        result.transitions.append(Transition.DowngradeScheduled)
    price = catalog.price_of(stripe.scheduled_plan)
    _set(result, subscription, "scheduled_plan", stripe.scheduled_plan.value)
    if price is not None:
        _set(result, subscription, "scheduled_price_amount", price)
    else:
        result.transitions.append(Transition.no_price_for(stripe.scheduled_plan))
        if subscription.scheduled_plan != stripe.scheduled_plan.value:
            _set(result, subscription, "scheduled_price_amount", None)


def _end(
    result: StateSync,
    subscription: Row[Any],
    tenant: Row[Any],
    now: datetime,
    suspension: SuspensionReason | None,
    transition: Transition,
) -> None:
    """The subscription is gone at Stripe: reset to free; suspend the tenant
    when the customer was deleted or the payment failed for good. An existing
    suspension is not re-reasoned."""
    result.transitions.append(transition)
    for column, value in RESET_TO_FREE.items():
        _set(result, subscription, column, value)
    _set_tenant(result, tenant, "plan", SubscriptionPlan.Basis.value)
    if suspension is not None and tenant.state != TenantState.Suspended.value:
        _set_tenant(result, tenant, "state", TenantState.Suspended.value)
        _set_tenant(result, tenant, "suspension_reason", suspension.value)
        _set_tenant(result, tenant, "suspended_at", now)


def _write(conn: Connection, subscription: Row[Any], result: StateSync, now: datetime) -> None:
    if result.subscription_changes:
        conn.execute(
            update(Subscription)
            .where(Subscription.id == subscription.id)
            .values(**result.subscription_changes, modified_at=now)
        )
    if result.tenant_changes:
        conn.execute(
            update(Tenant).where(Tenant.id == subscription.tenant_id).values(**result.tenant_changes, modified_at=now)
        )
