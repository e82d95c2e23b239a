"""Stripe objects as the back office stores them: pure functions over
Stripe-shaped dicts, with no SDK client, so the replayer, the demo generator
and the tests over recorded payloads can use them without a server.

They turn customers, payment methods, subscriptions, schedules and invoices
into the stored shapes of docs/rules.md R44 and R66 (`subscription_snapshot`,
`transaction_from_invoice`, ...).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, TypeGuard

from core import ids
from core.jsonable import to_jsonable
from db.enums import CancellationReason, PaymentTransactionStatus, SubscriptionPlan
from stripe_sync.catalog import PriceCatalog, minor_to_major, plan_for_lookup_key
from stripe_sync.snapshots import JsonObject, SubscriptionSnapshot

log = logging.getLogger(__name__)

# Objects whose `customer` field says whose event it is (docs/rules.md R6).
_CUSTOMER_OWNED_OBJECTS = frozenset({"subscription", "subscription_schedule", "invoice", "charge", "payment_method"})

CANCELLATION_FEEDBACK: dict[str, CancellationReason] = {
    "too_expensive": CancellationReason.TooExpensive,
    "switched_service": CancellationReason.FoundAlternative,
    "unused": CancellationReason.NoLongerNeeded,
}

LINK_PAYMENT_METHOD: JsonObject = {"Brand": "link", "Last4": "****", "ExpMonth": 0, "ExpYear": 0}


def customer_of_event(event: Mapping[str, Any], *, strict: bool = True) -> str | None:
    """The customer an event belongs to (docs/rules.md R2): `data.object.customer`
    when it is a string, else the object's id when it is a customer; values
    not starting with `cus_` count as none. With strict=False (events list,
    4.4) only the object kinds the ledger follows are considered."""
    obj = (event.get("data") or {}).get("object")
    if not isinstance(obj, Mapping):
        return None
    kind = obj.get("object")
    candidate: Any = None
    if kind == "customer":
        candidate = obj.get("id")
    elif strict or kind in _CUSTOMER_OWNED_OBJECTS:
        candidate = obj.get("customer")
    if isinstance(candidate, str) and candidate.startswith("cus_") and len(candidate) > 4:
        return candidate
    return None


def payment_method_of(method: Mapping[str, Any] | None) -> JsonObject | None:
    """Card ⇒ brand/last4/expiry; Stripe Link ⇒ the fixed sentinel (never
    derived from the email); anything else ⇒ None."""
    if not method:
        return None
    kind = method.get("type")
    if kind == "card" and isinstance(method.get("card"), Mapping):
        card = method["card"]
        return {
            "Brand": card.get("brand"),
            "Last4": card.get("last4"),
            "ExpMonth": int(card.get("exp_month") or 0),
            "ExpYear": int(card.get("exp_year") or 0),
        }
    if kind == "link":
        return dict(LINK_PAYMENT_METHOD)
    return None


def has_address(address: Any) -> TypeGuard[Mapping[str, Any]]:
    return isinstance(address, Mapping) and any(
        address.get(key) for key in ("line1", "line2", "postal_code", "city", "state", "country")
    )


def _address_of(address: Mapping[str, Any]) -> JsonObject:
    return {
        "Line1": address.get("line1"),
        "Line2": address.get("line2"),
        "PostalCode": address.get("postal_code"),
        "City": address.get("city"),
        "State": address.get("state"),
        "Country": address.get("country"),
    }


def billing_info_of(customer: Mapping[str, Any], payment_method: Mapping[str, Any] | None = None) -> JsonObject | None:
    """Name, address (the customer's; else the billing address of its first
    payment method, whose email also fills a missing email), email, first tax id."""
    email = customer.get("email")
    address = customer.get("address")
    if not has_address(address) and payment_method:
        details = payment_method.get("billing_details") or {}
        address = details.get("address")
        email = email or details.get("email")
    tax_ids = (customer.get("tax_ids") or {}).get("data") or []
    info = {
        "Name": customer.get("name"),
        "Address": _address_of(address) if has_address(address) else None,
        "Email": email,
        "TaxId": tax_ids[0].get("value") if tax_ids else None,
    }
    return info if any(value is not None for value in info.values()) else None


def _price_id(price: Any) -> str | None:
    if isinstance(price, Mapping):
        return price.get("id")
    return price if isinstance(price, str) else None


def plan_of_price(price: Any, catalog: PriceCatalog) -> SubscriptionPlan | None:
    """A Price (or legacy Plan) object or id: by catalog price id, then by
    product, then by its own lookup key; None when unknown."""
    plan = catalog.plan_for_price(_price_id(price))
    if plan is None and isinstance(price, Mapping):
        product = price.get("product")
        product_id = product.get("id") if isinstance(product, Mapping) else product
        plan = catalog.plan_for_product(product_id) or plan_for_lookup_key(price.get("lookup_key"))
    return plan


def _timestamp(value: Any) -> datetime | None:
    return datetime.fromtimestamp(int(value), UTC) if value is not None else None


def subscription_snapshot(
    subscription: Mapping[str, Any],
    catalog: PriceCatalog,
    *,
    schedule: Mapping[str, Any] | None = None,
    payment_method: JsonObject | None = None,
) -> SubscriptionSnapshot:
    items = ((subscription.get("items") or {}).get("data")) or []
    item = items[0] if items else {}
    price = item.get("price") or item.get("plan") or subscription.get("plan")
    plan = (plan_of_price(price, catalog) if price else None) or SubscriptionPlan.Basis
    amount = None
    currency = None
    if isinstance(price, Mapping):
        amount = minor_to_major(price.get("unit_amount", price.get("amount")))
        currency = price.get("currency")
    currency = currency or subscription.get("currency")
    cancelling = bool(subscription.get("cancel_at_period_end"))
    details = subscription.get("cancellation_details") or {}
    return SubscriptionSnapshot(
        stripe_subscription_id=subscription["id"],
        plan=plan,
        scheduled_plan=scheduled_plan_of(schedule, plan, catalog),
        current_price_amount=amount,
        currency=currency.upper() if currency else None,
        current_period_end=_timestamp(item.get("current_period_end") or subscription.get("current_period_end")),
        cancel_at_period_end=cancelling,
        cancellation_reason=cancellation_reason_of(details.get("feedback")) if cancelling else None,
        cancellation_feedback=details.get("comment"),
        payment_method=payment_method,
        status=str(subscription.get("status") or ""),
    )


def scheduled_plan_of(
    schedule: Mapping[str, Any] | None, current: SubscriptionPlan, catalog: PriceCatalog
) -> SubscriptionPlan | None:
    """The plan of the first item of the schedule's last phase, when it differs."""
    phases = (schedule or {}).get("phases") or []
    if not phases:
        return None
    items = phases[-1].get("items") or []
    if not items:
        return None
    plan = plan_of_price(items[0].get("price") or items[0].get("plan"), catalog)
    return plan if plan is not None and plan != current else None


def cancellation_reason_of(feedback: str | None) -> CancellationReason:
    """Stripe's cancellation feedback as the local reason (docs/rules.md R65), for
    the subscription row and the replayed ledger row alike. No feedback, None
    or empty, means nobody gave a reason: an operator cancelled it."""
    if not feedback:
        return CancellationReason.CancelledByAdmin
    return CANCELLATION_FEEDBACK.get(feedback, CancellationReason.Other)


def _line_price(line: Mapping[str, Any]) -> Any:
    pricing = line.get("pricing")
    if isinstance(pricing, Mapping):
        return (pricing.get("price_details") or {}).get("price")
    return line.get("price") or line.get("plan")


def plan_of_invoice(invoice: Mapping[str, Any], catalog: PriceCatalog) -> SubscriptionPlan | None:
    """The line with the largest positive amount decides (the first on ties),
    so an upgrade's proration credit for the old plan is ignored; with no
    positive line, the first line. Unknown or missing price ⇒ None."""
    lines = ((invoice.get("lines") or {}).get("data")) or []
    if not lines:
        return None
    deciding = lines[0]
    for line in lines:
        if int(line.get("amount") or 0) > 0 and int(line.get("amount") or 0) > int(deciding.get("amount") or 0):
            deciding = line
    price_id = _price_id(_line_price(deciding))
    return catalog.plan_for_price(price_id) if price_id else None


def invoice_amounts(invoice: Mapping[str, Any]) -> dict[str, Decimal | bool]:
    """docs/rules.md R40, in Decimal: total, paid, tax, ex-tax (clamped at 0), from
    credit. A stored element was clamped exactly when TaxAmount > InvoiceTotal."""
    total = _major(invoice.get("total"))
    paid = _major(invoice.get("amount_paid")) if invoice.get("status") == "paid" else total
    tax = _major(_tax_minor(invoice))
    raw_excluding_tax = total - tax
    return {
        "InvoiceTotal": total,
        "Amount": paid,
        "TaxAmount": tax,
        "AmountExcludingTax": max(Decimal("0.00"), raw_excluding_tax),
        "AmountFromCredit": max(Decimal("0.00"), total - paid),
        "clamped": raw_excluding_tax < 0,
    }


def _major(minor: Any) -> Decimal:
    return minor_to_major(int(minor or 0)) or Decimal("0.00")


def _tax_minor(invoice: Mapping[str, Any]) -> int:
    for key in ("total_taxes", "total_tax_amounts"):
        if isinstance(invoice.get(key), list):
            return sum(int(tax.get("amount") or 0) for tax in invoice[key])
    return int(invoice.get("tax") or 0)


def transaction_status(invoice_status: str | None, amount_paid: int, refunded: int) -> PaymentTransactionStatus:
    """docs/rules.md R41. A credit note alone leaves a paid invoice Succeeded."""
    if invoice_status == "paid":
        if amount_paid > 0 and refunded >= amount_paid:
            return PaymentTransactionStatus.Refunded
        return PaymentTransactionStatus.Succeeded
    return {
        "open": PaymentTransactionStatus.Pending,
        "uncollectible": PaymentTransactionStatus.Failed,
        "void": PaymentTransactionStatus.Cancelled,
    }.get(invoice_status or "", PaymentTransactionStatus.Pending)


def charge_of_invoice(invoice: Mapping[str, Any], charges: Iterable[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """The charge behind the invoice's first payment (invoice payments in
    current APIs; the invoice's own `charge` or payment intent in older ones)."""
    charge_ref: Any = None
    intent_ref: Any = None
    payments = ((invoice.get("payments") or {}).get("data")) or []
    if payments:
        payment = payments[0].get("payment") or {}
        charge_ref, intent_ref = payment.get("charge"), payment.get("payment_intent")
    else:
        charge_ref, intent_ref = invoice.get("charge"), invoice.get("payment_intent")
    if isinstance(charge_ref, Mapping):
        charge_ref = charge_ref.get("id")
    if isinstance(intent_ref, Mapping):
        intent_ref = intent_ref.get("id")
    charges = list(charges)
    for charge in charges:
        if charge_ref and charge.get("id") == charge_ref:
            return charge
    for charge in charges:
        if intent_ref and charge.get("payment_intent") == intent_ref:
            return charge
    for charge in charges:
        if charge.get("invoice") == invoice.get("id"):
            return charge
    named = invoice.get("charge")
    return named if isinstance(named, Mapping) else None


def _latest_refund_at(charge: Mapping[str, Any] | None) -> datetime | None:
    refunds = ((charge or {}).get("refunds") or {}).get("data") or []
    created = [int(refund["created"]) for refund in refunds if refund.get("created") is not None]
    return _timestamp(max(created)) if created else None


def transaction_from_invoice(
    invoice: Mapping[str, Any],
    charges: Iterable[Mapping[str, Any]],
    credit_notes: Iterable[Mapping[str, Any]],
    catalog: PriceCatalog,
    *,
    now: datetime,
) -> JsonObject:
    """One `payment_transactions` element (docs/rules.md R44), money as JSON numbers."""
    amounts = invoice_amounts(invoice)
    if amounts["clamped"]:
        log.warning("invoice %s: tax exceeds the total, AmountExcludingTax clamped to 0", invoice.get("id"))
    charge = charge_of_invoice(invoice, charges)
    refunded = int((charge or {}).get("amount_refunded") or 0)
    status = transaction_status(invoice.get("status"), int(invoice.get("amount_paid") or 0), refunded)
    notes = [note for note in credit_notes if _id_of(note.get("invoice")) == invoice.get("id")]
    latest_note = max(notes, key=lambda note: int(note.get("created") or 0)) if notes else None
    created = _timestamp(invoice.get("created")) or now
    plan = plan_of_invoice(invoice, catalog)
    transaction: dict[str, Any] = to_jsonable(
        {
            "Id": ids.prefixed("pymnt", now),
            "Amount": amounts["Amount"],
            "AmountExcludingTax": amounts["AmountExcludingTax"],
            "TaxAmount": amounts["TaxAmount"],
            "Currency": str(invoice.get("currency") or "").upper(),
            "Status": status,
            "Date": created,
            "FailureReason": "Payment failed." if invoice.get("status") == "uncollectible" else None,
            "InvoiceUrl": invoice.get("invoice_pdf"),
            "CreditNoteUrl": latest_note.get("pdf") if latest_note else None,
            "Plan": plan,
            "RefundedAt": _latest_refund_at(charge),
            "InvoiceTotal": amounts["InvoiceTotal"],
            "AmountFromCredit": amounts["AmountFromCredit"],
            "CreditNotedAt": _timestamp(latest_note.get("created")) if latest_note else None,
            # Stripe's own invoice id, for its dashboard link (docs/rules.md R120).
            "StripeInvoiceId": invoice.get("id"),
        }
    )
    return transaction


def _id_of(value: Any) -> str | None:
    if isinstance(value, Mapping):
        return value.get("id")
    return value if isinstance(value, str) else None
