"""A Stripe gateway for processing and drift tests: the same calls as
stripe_sync.client.StripeClient, answering with recorded Stripe-shaped data.

It plays one Stripe account (docs/rules.md R57-R66): customer
cus_mock_12345 on Standard 149.00 DKK, events E1-E3, and per-test switches
(past due, scheduled plan, customer deleted, read failures, ...). The wiring
to the real SDK is exercised against the local emulator in test_emulator_sync.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from db.enums import SubscriptionPlan
from stripe_sync.catalog import CatalogPrice, PriceCatalog
from stripe_sync.errors import CurrencyMismatch, CustomerMissing, StripeUnavailable
from stripe_sync.snapshots import CustomerSnapshot, EventsList, SubscriptionSnapshot
from tests.factories import NOW
from tests.stripe_sync.stripe_events import event, items

CUSTOMER = "cus_mock_12345"
STRIPE_SUBSCRIPTION = "sub_mock_12345"
API_VERSION = "2025-09-30.preview"
VISA = {"Brand": "visa", "Last4": "4242", "ExpMonth": 12, "ExpYear": 2026}
BILLING_INFO = {
    "Name": "Test Organization",
    "Address": {
        "Line1": "Vestergade 12",
        "Line2": None,
        "PostalCode": "1456",
        "City": "København K",
        "State": None,
        "Country": "DK",
    },
    "Email": "billing@example.com",
    "TaxId": None,
}
PRICES = {SubscriptionPlan.Standard: Decimal("149.00"), SubscriptionPlan.Premium: Decimal("299.00")}
VAT = {"DKK": Decimal("0.25"), "EUR": Decimal("0.21"), "GBP": Decimal("0.20"), "USD": Decimal("0")}


def default_events(now: datetime) -> list[dict[str, Any]]:
    """The account's events E1-E3: payment method, subscription, first invoice."""
    return [
        event(
            "payment_method.attached",
            id="evt_mock_payment_method_attached",
            created=now - timedelta(minutes=6),
            obj={"id": "pm_mock_12345", "object": "payment_method", "type": "card", "customer": CUSTOMER},
            api_version=API_VERSION,
        ),
        event(
            "customer.subscription.created",
            id="evt_mock_subscription_created",
            created=now - timedelta(minutes=5),
            obj={
                "id": STRIPE_SUBSCRIPTION,
                "object": "subscription",
                "customer": CUSTOMER,
                "items": items("price_mock_standard"),
            },
            api_version=API_VERSION,
        ),
        event(
            "invoice.payment_succeeded",
            id="evt_mock_invoice_payment_succeeded",
            created=now - timedelta(minutes=4),
            obj={
                "id": "in_mock_12345",
                "object": "invoice",
                "customer": CUSTOMER,
                "amount_paid": 18625,
                "amount_excluding_tax": 14900,
                "tax": 3725,
                "currency": "dkk",
                "subscription": STRIPE_SUBSCRIPTION,
                "status": "paid",
                "billing_reason": "subscription_create",
            },
            api_version=API_VERSION,
        ),
    ]


@dataclass
class FakeStripe:
    now: datetime = NOW
    currency: str = "DKK"
    status: str = "active"
    plan: SubscriptionPlan = SubscriptionPlan.Standard
    scheduled_plan: SubscriptionPlan | None = None
    cancel_at_period_end: bool = False
    catalog_plans: tuple[SubscriptionPlan, ...] = (SubscriptionPlan.Standard, SubscriptionPlan.Premium)
    customer_deleted: bool = False
    customer_read_fails: bool = False
    unreachable_customers: frozenset[str] = frozenset()
    missing_customers: frozenset[str] = frozenset()  # Stripe answers 404
    subscription_read_fails: bool = False
    subscription_deleted: bool = False  # Stripe truly reports no live subscription
    list_fails_part_way: bool = False
    transactions: list[dict[str, Any]] | None = None
    extra_events: list[dict[str, Any]] = field(default_factory=list)
    list_calls: list[datetime | None] = field(default_factory=list)

    def price_catalog(self) -> PriceCatalog:
        ids = {SubscriptionPlan.Standard: "price_mock_standard", SubscriptionPlan.Premium: "price_mock_premium"}
        return PriceCatalog(
            tuple(CatalogPrice(ids[plan], plan, PRICES[plan], self.currency) for plan in self.catalog_plans)
        )

    def customer(self, customer_id: str) -> CustomerSnapshot:
        if self.customer_read_fails or customer_id in self.unreachable_customers:
            raise StripeUnavailable(f"cannot reach Stripe while reading customer {customer_id}")
        if customer_id in self.missing_customers:
            raise CustomerMissing(customer_id)
        if self.customer_deleted:
            return CustomerSnapshot(customer_id, deleted=True)
        return CustomerSnapshot(customer_id, deleted=False, billing_info=BILLING_INFO, payment_method=VISA)

    def subscription(
        self, customer_id: str, catalog: PriceCatalog, *, customer: CustomerSnapshot | None = None
    ) -> SubscriptionSnapshot | None:
        if self.subscription_read_fails:
            raise StripeUnavailable(f"Stripe failed while listing subscriptions of {customer_id} (HTTP 500)")
        if self.subscription_deleted:
            return None
        platform = catalog.currency or "DKK"
        if self.currency != platform:
            raise CurrencyMismatch(customer_id, self.currency, platform)
        return SubscriptionSnapshot(
            stripe_subscription_id=STRIPE_SUBSCRIPTION,
            plan=self.plan,
            scheduled_plan=self.scheduled_plan,
            current_price_amount=PRICES[self.plan],
            currency=self.currency,
            current_period_end=self.now + timedelta(days=30),
            cancel_at_period_end=self.cancel_at_period_end,
            cancellation_reason=None,
            cancellation_feedback=None,
            payment_method=VISA,
            status=self.status,
        )

    def payment_transactions(self, customer_id: str, catalog: PriceCatalog) -> list[dict[str, Any]]:
        if self.transactions is not None:
            return self.transactions
        price = PRICES[self.plan]
        tax = (price * VAT.get(self.currency, Decimal(0))).quantize(Decimal("0.01"))
        return [
            {
                "Id": "pymnt_01KQMOCK0000000000000000",
                "Amount": float(price + tax),
                "AmountExcludingTax": float(price),
                "TaxAmount": float(tax),
                "Currency": self.currency,
                "Status": "Succeeded",
                "Date": self.now.isoformat(),
                "FailureReason": None,
                "InvoiceUrl": None,
                "CreditNoteUrl": None,
                "Plan": self.plan.value,
                "RefundedAt": None,
                "InvoiceTotal": float(price + tax),
                "AmountFromCredit": 0,
                "CreditNotedAt": None,
            }
        ]

    def list_events(self, customer_id: str, created_gte: datetime | None) -> EventsList:
        self.list_calls.append(created_gte)
        events = default_events(self.now) + list(self.extra_events)
        if self.status == "past_due":
            events.append(
                event(
                    "invoice.payment_failed",
                    id="evt_mock_payment_failed",
                    created=self.now - timedelta(minutes=1),
                    obj={
                        "customer": CUSTOMER,
                        "attempt_count": 1,
                        "billing_reason": "subscription_cycle",
                        "currency": "dkk",
                    },
                    api_version=API_VERSION,
                )
            )
        if self.customer_deleted:
            events.append(
                event(
                    "customer.deleted",
                    id="evt_mock_customer_deleted",
                    created=self.now,
                    obj={},
                    api_version=API_VERSION,
                )
            )
        if created_gte is not None:
            events = [e for e in events if e["created"] >= created_gte.timestamp()]
        events.sort(key=lambda e: (e["created"], e["id"]))
        return EventsList(events, complete=not self.list_fails_part_way)

    def events(self, created_gte: datetime | None, *, types: Any = None) -> EventsList:
        """The account-wide list `stripe poll` reads: here, the one customer's."""
        return self.list_events(CUSTOMER, created_gte)

    def dashboard_url(self, customer_id: str) -> str | None:
        return None
