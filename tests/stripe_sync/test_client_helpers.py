"""The Stripe client's mapping helpers: plan of an invoice, amounts, statuses,
payment methods (docs/rules.md R40-R42, R66)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from db.enums import CancellationReason, PaymentTransactionStatus, SubscriptionPlan
from stripe_sync.catalog import PriceCatalog
from stripe_sync.stripe_mapping import (
    cancellation_reason_of,
    customer_of_event,
    invoice_amounts,
    payment_method_of,
    plan_of_invoice,
    transaction_status,
)

STANDARD = {"id": "price_standard", "lookup_key": "standard_monthly", "unit_amount": 14900, "currency": "dkk"}
PREMIUM = {"id": "price_premium", "lookup_key": "premium_monthly", "unit_amount": 29900, "currency": "dkk"}
BOTH = PriceCatalog.from_stripe([STANDARD, PREMIUM])


def _line(amount: int, price: str | None) -> dict[str, Any]:
    line: dict[str, Any] = {"object": "line_item", "amount": amount}
    if price is not None:
        line["pricing"] = {"type": "price_details", "price_details": {"price": price, "product": "prod_x"}}
    return line


def _invoice(*lines: dict[str, Any]) -> dict[str, Any]:
    return {"object": "invoice", "lines": {"data": list(lines)}}


@pytest.mark.parametrize(
    ("invoice", "catalog", "plan"),
    [
        (_invoice(_line(14900, "price_standard")), BOTH, SubscriptionPlan.Standard),
        (_invoice(_line(29900, "price_premium")), BOTH, SubscriptionPlan.Premium),
        (_invoice(_line(9900, "price_legacy_archived")), PriceCatalog.from_stripe([STANDARD]), None),
        (_invoice(_line(14900, "price_standard")), PriceCatalog(), None),
        (_invoice(), BOTH, None),
        (_invoice(_line(-14654, "price_standard"), _line(29406, "price_premium")), BOTH, SubscriptionPlan.Premium),
        (_invoice(_line(14900, None)), BOTH, None),
        # extras: ties keep the first; no positive line means the first line; legacy line shapes
        (_invoice(_line(100, "price_standard"), _line(100, "price_premium")), BOTH, SubscriptionPlan.Standard),
        (_invoice(_line(-50, "price_premium"), _line(-10, "price_standard")), BOTH, SubscriptionPlan.Premium),
        (_invoice({"amount": 14900, "price": {"id": "price_standard"}}), BOTH, SubscriptionPlan.Standard),
        (
            _invoice({"amount": 29900, "plan": {"id": "price_premium", "object": "plan"}}),
            BOTH,
            SubscriptionPlan.Premium,
        ),
    ],
    ids=[
        "standard",
        "premium",
        "archived-price",
        "empty-map",
        "no-lines",
        "proration",
        "no-pricing",
        "tie",
        "all-negative",
        "price-object",
        "legacy-plan",
    ],
)
def test_plan_of_an_invoice(invoice: dict[str, Any], catalog: PriceCatalog, plan: SubscriptionPlan | None) -> None:
    assert plan_of_invoice(invoice, catalog) is plan


@pytest.mark.parametrize(
    ("status", "paid", "total", "tax", "expected"),
    [
        ("paid", 0, 0, 1611, ("0.00", "0.00", "16.11", "0.00", "0.00", True)),
        ("paid", 0, 8056, 1611, ("0.00", "64.45", "16.11", "80.56", "80.56", False)),
        ("paid", 12500, 12500, 2500, ("125.00", "100.00", "25.00", "125.00", "0.00", False)),
        ("open", 0, 18625, 3725, ("186.25", "149.00", "37.25", "186.25", "0.00", False)),
    ],
)
def test_invoice_amounts(status: str, paid: int, total: int, tax: int, expected: tuple[Any, ...]) -> None:
    amounts = invoice_amounts({"status": status, "amount_paid": paid, "total": total, "total_taxes": [{"amount": tax}]})
    got = tuple(
        amounts[key] for key in ("Amount", "AmountExcludingTax", "TaxAmount", "InvoiceTotal", "AmountFromCredit")
    )
    assert got == tuple(Decimal(value) for value in expected[:5])
    assert amounts["clamped"] is expected[5]


def test_taxes_sum_over_every_tax_entry_and_older_shapes() -> None:
    assert invoice_amounts(
        {"status": "paid", "amount_paid": 1000, "total": 1000, "total_taxes": [{"amount": 101}, {"amount": 99}]}
    )["TaxAmount"] == Decimal("2.00")
    assert invoice_amounts(
        {"status": "paid", "amount_paid": 1000, "total": 1000, "total_tax_amounts": [{"amount": 150}]}
    )["TaxAmount"] == Decimal("1.50")
    assert invoice_amounts({"status": "paid", "amount_paid": 1000, "total": 1000, "tax": 250})["TaxAmount"] == Decimal(
        "2.50"
    )


@pytest.mark.parametrize(
    ("status", "paid", "refunded", "expected"),
    [
        ("void", 0, 0, PaymentTransactionStatus.Cancelled),
        ("paid", 10000, 0, PaymentTransactionStatus.Succeeded),
        ("paid", 10000, 10000, PaymentTransactionStatus.Refunded),
        ("paid", 10000, 4000, PaymentTransactionStatus.Succeeded),
        ("paid", 0, 0, PaymentTransactionStatus.Succeeded),
        ("open", 0, 0, PaymentTransactionStatus.Pending),
        ("uncollectible", 0, 0, PaymentTransactionStatus.Failed),
        ("draft", 0, 0, PaymentTransactionStatus.Pending),
    ],
)
def test_transaction_status(status: str, paid: int, refunded: int, expected: PaymentTransactionStatus) -> None:
    assert transaction_status(status, paid, refunded) is expected


LINK = {"Brand": "link", "Last4": "****", "ExpMonth": 0, "ExpYear": 0}


@pytest.mark.parametrize(
    ("method", "expected"),
    [
        (None, None),
        (
            {"type": "card", "card": {"brand": "visa", "last4": "4242", "exp_month": 12, "exp_year": 2030}},
            {"Brand": "visa", "Last4": "4242", "ExpMonth": 12, "ExpYear": 2030},
        ),
        ({"type": "link", "link": {"email": "x@y.z"}}, LINK),
        ({"type": "link", "link": {"email": "very.long.address@example.com"}}, LINK),
        ({"type": "link", "link": {}}, LINK),
        ({"type": "sepa_debit", "sepa_debit": {"last4": "3000"}}, None),
    ],
    ids=["none", "card", "link", "link-long-email", "link-no-email", "other-kind"],
)
def test_payment_method(method: dict[str, Any] | None, expected: dict[str, Any] | None) -> None:
    assert payment_method_of(method) == expected


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        ({"object": "subscription", "customer": "cus_1"}, "cus_1"),
        ({"object": "customer", "id": "cus_2"}, "cus_2"),
        ({"object": "invoice", "customer": {"id": "cus_3"}}, None),  # only a string counts
        ({"object": "charge", "customer": "acct_1"}, None),
        ({"object": "product", "id": "prod_1"}, None),
        ({"object": "charge", "customer": "cus_"}, None),
    ],
)
def test_customer_of_an_event(obj: dict[str, Any], expected: str | None) -> None:
    assert customer_of_event({"data": {"object": obj}}) == expected


def test_events_list_only_follows_the_ledger_object_kinds() -> None:
    checkout = {"data": {"object": {"object": "checkout.session", "customer": "cus_1"}}}
    assert customer_of_event(checkout) == "cus_1"
    assert customer_of_event(checkout, strict=False) is None


@pytest.mark.parametrize(
    ("feedback", "reason"),
    [
        ("too_expensive", CancellationReason.TooExpensive),
        ("switched_service", CancellationReason.FoundAlternative),
        ("unused", CancellationReason.NoLongerNeeded),
        ("other", CancellationReason.Other),
        ("missing_features", CancellationReason.Other),
        # No feedback at all, whether Stripe sends null or an empty string: an operator cancelled.
        (None, CancellationReason.CancelledByAdmin),
        ("", CancellationReason.CancelledByAdmin),
    ],
)
def test_cancellation_feedback_maps_to_the_local_reason(feedback: str | None, reason: CancellationReason) -> None:
    assert cancellation_reason_of(feedback) is reason
