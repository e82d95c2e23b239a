"""The state of one tenant's billing story, on Stripe's side and ours, and
what Stripe records of it: the events it sends, in order on the story's clock,
and the Stripe objects of the current state that those events carry."""

from __future__ import annotations

import calendar
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from core import ids
from db.enums import SubscriptionPlan, SuspensionReason, TenantState
from demo import invoices
from demo import stripe_objects as so
from demo.accounts import TenantProfile
from demo.invoices import Invoice
from stripe_sync.catalog import PriceCatalog

Standard, Premium = SubscriptionPlan.Standard, SubscriptionPlan.Premium

# Billing details and cards, per billing period: most customers rarely touch
# them, some (shared finance inboxes, company cards that keep being replaced)
# a few times a year.
P_FREQUENT_EDITOR = 0.5
P_BILLING_INFO_CHANGE = 0.025
P_PAYMENT_METHOD_CHANGE = 0.02
P_BILLING_INFO_CHANGE_FREQUENT = 0.4
P_PAYMENT_METHOD_CHANGE_FREQUENT = 0.35
P_RECOVERED_BY_EVENTS_LIST = 0.02  # per event


@dataclass(slots=True)
class StoredEvent:
    """A Stripe event as our store received and processed it."""

    payload: dict[str, Any]
    created: datetime
    received_at: datetime
    processed_at: datetime
    stripe_subscription_id: str | None  # the subscription's Stripe id after the sync
    recovered: bool  # pulled from the events list after a missed webhook

    @property
    def id(self) -> str:
        return self.payload["id"]

    @property
    def type(self) -> str:
        return self.payload["type"]


def add_months(anchor: datetime, months: int) -> datetime:
    """Stripe's monthly billing: same day of month, clamped to the month's end."""
    years, month_index = divmod(anchor.month - 1 + months, 12)
    year, month = anchor.year + years, month_index + 1
    day = min(anchor.day, calendar.monthrange(year, month)[1])
    return anchor.replace(year=year, month=month, day=day)


class StoryState:
    """One tenant's billing state as its story has left it so far."""

    def __init__(
        self,
        rng: random.Random,
        profile: TenantProfile,
        catalog: PriceCatalog,
        now: datetime,
        *,
        stays_paid: bool = False,
    ) -> None:
        self.rng = rng
        self.profile = profile
        self.catalog = catalog
        self.now = now
        # Nothing starts in the last hour, so what follows it stays before now.
        self.horizon = now - timedelta(hours=1)
        self.stays_paid = stays_paid  # drift and unsynced tenants: a paying customer at the end
        self.prices = {plan: so.price(catalog.price_for_plan(plan)) for plan in (Standard, Premium)}
        frequent = rng.random() < P_FREQUENT_EDITOR
        self.p_billing_info_change = P_BILLING_INFO_CHANGE_FREQUENT if frequent else P_BILLING_INFO_CHANGE
        self.p_payment_method_change = P_PAYMENT_METHOD_CHANGE_FREQUENT if frequent else P_PAYMENT_METHOD_CHANGE
        self.events: list[StoredEvent] = []
        self.invoices: list[Invoice] = []
        self.clock = profile.created_at.replace(microsecond=0)
        # Stripe's side
        self.customer_id: str | None = None
        self.invoice_prefix = "".join(rng.choices("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789", k=8))
        self.billing_info: dict[str, Any] | None = None
        self.payment_method: dict[str, Any] | None = None  # the customer's default, a Stripe object
        self.sub_id: str | None = None
        self.sub_created: datetime | None = None
        self.item_id = ""
        self.plan: SubscriptionPlan | None = None
        self.status = "active"
        self.anchor: datetime | None = None
        self.period_index = 0
        self.cancel_at_period_end = False
        self.canceled_at: datetime | None = None
        self.feedback: tuple[str | None, str | None, str | None] = (None, None, None)
        self.schedule_id: str | None = None
        self.schedule_created: datetime | None = None
        self.scheduled_plan: SubscriptionPlan | None = None
        # The replayer keeps tracking a completed downgrade's target, so a second
        # downgrade to that plan would replay as a no-op: one per customer.
        self.downgraded_once = False
        self.latest_invoice_id: str | None = None
        # local facts the sync derives
        self.first_payment_failed_at: datetime | None = None
        self.period_end_kept: datetime | None = None
        self.tenant_state = TenantState.Active
        self.suspension_reason: SuspensionReason | None = None
        self.suspended_at: datetime | None = None
        self.plan_changed_at: datetime | None = None
        self.ended = False
        self.final = False  # no further history (suspended, customer deleted)

    # ----- the billing period ------------------------------------------------

    @property
    def period_start(self) -> datetime:
        return add_months(self.anchor, self.period_index)

    @property
    def period_end(self) -> datetime:
        return add_months(self.anchor, self.period_index + 1)

    # ----- events ------------------------------------------------------------

    def next_instant(self, at: datetime) -> datetime:
        """When an event meant for `at` gets its `created`: whole seconds, after the last one."""
        return max(at.replace(microsecond=0), self.clock + timedelta(seconds=1))

    def emit_subscription_updated(
        self, at: datetime, previous: dict[str, Any], *, request: bool = False
    ) -> StoredEvent:
        return self.emit(at, "customer.subscription.updated", self.subscription_object(), previous, request=request)

    def emit(
        self,
        at: datetime,
        event_type: str,
        data_object: dict[str, Any],
        previous: dict[str, Any] | None = None,
        *,
        request: bool = False,
    ) -> StoredEvent:
        """Record the event Stripe sent for the state just reached; events of
        one customer are at least a second apart, in story order."""
        rng = self.rng
        created = self.next_instant(at)
        self.clock = created
        payload = so.event(
            so.stripe_id(rng, "evt"),
            event_type,
            so.ts(created),
            data_object,
            previous,
            request_id=so.stripe_id(rng, "req", 15) if request else None,
            idempotency_key=ids.ulid(created, rng).lower() if request else None,
        )
        if rng.random() < P_RECOVERED_BY_EVENTS_LIST:
            received = processed = created + timedelta(seconds=rng.uniform(900, 30 * 3600))
            recovered = True
        else:
            received = created + timedelta(seconds=rng.uniform(0.3, 2.5))
            processed = received + timedelta(seconds=rng.uniform(0.2, 3.0))
            recovered = False
        stored = StoredEvent(
            payload=payload,
            created=created,
            received_at=min(received, self.now),
            processed_at=min(processed, self.now),
            stripe_subscription_id=self.sub_id,
            recovered=recovered,
        )
        self.events.append(stored)
        return stored

    # ----- Stripe objects of the current state -------------------------------

    def customer_object(self, *, with_tax_ids: bool = False) -> dict[str, Any]:
        """The customer as events carry it; `with_tax_ids` as the sync expands it."""
        danish = self.profile.country.code == "DK"
        return so.customer(
            self.customer_id,
            so.ts(self.events[0].created) if self.events else so.ts(self.clock),
            self.billing_info,
            tenant_id=self.profile.id,
            invoice_prefix=self.invoice_prefix,
            default_payment_method=self.payment_method["id"] if self.payment_method else None,
            preferred_locale="da" if danish else "en",
            tax_exempt="none" if danish else ("reverse" if self.profile.country.in_eu else "exempt"),
            with_tax_ids=with_tax_ids,
        )

    def items_object(self) -> dict[str, Any]:
        return so.subscription_items(
            self.sub_id,
            self.item_id,
            so.ts(self.sub_created),
            self.prices[self.plan],
            so.ts(self.period_start),
            so.ts(self.period_end),
        )

    def subscription_object(self, *, ended_at: datetime | None = None) -> dict[str, Any]:
        feedback, comment, reason = self.feedback
        return {
            "id": self.sub_id,
            "object": "subscription",
            "application": None,
            "automatic_tax": {"disabled_reason": None, "enabled": True, "liability": {"type": "self"}},
            "billing_cycle_anchor": so.ts(self.anchor),
            "cancel_at": so.ts(self.period_end) if self.cancel_at_period_end else None,
            "cancel_at_period_end": self.cancel_at_period_end,
            "canceled_at": so.ts(self.canceled_at) if self.canceled_at else None,
            "cancellation_details": {"comment": comment, "feedback": feedback, "reason": reason},
            "collection_method": "charge_automatically",
            "created": so.ts(self.sub_created),
            "currency": "dkk",
            "customer": self.customer_id,
            "default_payment_method": None,
            "description": None,
            "ended_at": so.ts(ended_at) if ended_at else None,
            "items": self.items_object(),
            "latest_invoice": self.latest_invoice_id,
            "livemode": False,
            "metadata": {"tenant_id": str(self.profile.id)},
            "schedule": self.schedule_id,
            "start_date": so.ts(self.sub_created),
            "status": self.status,
            "trial_end": None,
            "trial_start": None,
        }

    def invoice_object(
        self, invoice: Invoice, *, next_attempt: datetime | None = None, expand_payments: bool = False
    ) -> dict[str, Any]:
        return invoices.invoice_object(
            invoice,
            self.rng,
            self.customer_id,
            self.billing_info,
            next_attempt=next_attempt,
            expand_payments=expand_payments,
        )

    def charge_object(self, invoice: Invoice, refunded_at: datetime) -> dict[str, Any]:
        return invoices.charge_object(
            invoice, self.rng, self.customer_id, self.billing_info, self.payment_method, refunded_at
        )
