"""What the Stripe client reports, as plain values (no SDK objects leak out).

JSON-shaped fields (`billing_info`, `payment_method`) are already in the
stored shape (PascalCase keys, docs/rules.md R66), so they can be
compared with and written to the `subscriptions` row as they are.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from db.enums import CancellationReason, SubscriptionPlan

JsonObject = dict[str, Any]


@dataclass(frozen=True)
class CustomerSnapshot:
    customer_id: str
    deleted: bool
    # {Name, Address{Line1, Line2, PostalCode, City, State, Country}, Email, TaxId}, or None
    billing_info: JsonObject | None = None
    # {Brand, Last4, ExpMonth, ExpYear} of the invoice-settings default, or None
    payment_method: JsonObject | None = None


@dataclass(frozen=True)
class SubscriptionSnapshot:
    stripe_subscription_id: str
    plan: SubscriptionPlan
    scheduled_plan: SubscriptionPlan | None
    current_price_amount: Decimal | None  # ex-VAT, major units
    currency: str | None  # upper case ISO 4217
    current_period_end: datetime | None  # UTC
    cancel_at_period_end: bool
    cancellation_reason: CancellationReason | None
    cancellation_feedback: str | None
    payment_method: JsonObject | None
    status: str  # Stripe's status string: active, past_due, incomplete, ...


@dataclass(frozen=True)
class EventsList:
    """Events as Stripe-shaped dicts, sorted by (created, id).
    `complete` is False when paging failed part-way (the list is partial)."""

    events: list[JsonObject] = field(default_factory=list)
    complete: bool = True
