"""Stripe invoices of a demo customer: what was billed, paid, refunded and
credited, and the invoice, charge and credit note objects Stripe returns for it."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from demo import stripe_objects as so
from stripe_sync.catalog import CatalogPrice


@dataclass(slots=True)
class Line:
    amount: int  # minor units, signed (proration credits are negative)
    price: CatalogPrice
    description: str
    period_start: datetime
    period_end: datetime
    proration: bool = False


@dataclass(slots=True)
class Invoice:
    id: str
    number: str
    created: datetime
    billing_reason: str
    subscription_id: str
    lines: list[Line]
    tax: int
    taxability_reason: str
    credit: int = 0  # paid from the customer's credit balance
    discount: int = 0
    status: str = "open"
    attempt_count: int = 0
    paid_at: datetime | None = None
    charge_id: str | None = None
    payment_intent_id: str | None = None
    refunded: int = 0
    refunded_at: datetime | None = None
    credit_noted_at: datetime | None = None
    credit_note_id: str | None = None

    @property
    def subtotal(self) -> int:
        return sum(line.amount for line in self.lines)

    @property
    def total(self) -> int:
        return max(0, self.subtotal - self.discount + self.tax)

    @property
    def amount_due(self) -> int:
        return max(0, self.total - self.credit)

    @property
    def amount_paid(self) -> int:
        return self.amount_due if self.status == "paid" else 0

    @property
    def is_draft(self) -> bool:
        """Created at the period boundary, not yet attempted: not in any list."""
        return self.attempt_count == 0 and self.status == "open"

    @property
    def pdf_url(self) -> str:
        return f"https://pay.stripe.com/invoice/{so.ACCOUNT}/{self.id}/pdf"


def invoice_object(
    invoice: Invoice,
    rng: random.Random,
    customer_id: str | None,
    billing_info: dict[str, Any] | None,
    *,
    next_attempt: datetime | None = None,
    expand_payments: bool = False,
) -> dict[str, Any]:
    """The invoice as Stripe sends it; with `expand_payments`, as the sync
    lists it (payments expanded, so the charge behind it can be found)."""
    info = billing_info or {}
    lines = [
        so.invoice_line(
            so.stripe_id(rng, "il", 14),
            line.amount,
            line.description,
            line.price,
            so.ts(line.period_start),
            so.ts(line.period_end),
            proration=line.proration,
        )
        for line in invoice.lines
    ]
    paid = invoice.status == "paid"
    created = so.ts(invoice.created)
    document: dict[str, Any] = {
        "id": invoice.id,
        "object": "invoice",
        "account_country": "DK",
        "account_name": "Backoffice Demo ApS",
        "amount_due": invoice.amount_due,
        "amount_paid": invoice.amount_paid,
        "amount_remaining": 0 if paid else invoice.amount_due,
        "attempt_count": invoice.attempt_count,
        "attempted": invoice.attempt_count > 0,
        "automatic_tax": {"enabled": True, "status": "complete"},
        "billing_reason": invoice.billing_reason,
        "collection_method": "charge_automatically",
        "created": created,
        "currency": "dkk",
        "customer": customer_id,
        "customer_email": info.get("Email"),
        "customer_name": info.get("Name"),
        "ending_balance": 0,
        "hosted_invoice_url": f"https://invoice.stripe.com/i/{so.ACCOUNT}/{invoice.id}",
        "invoice_pdf": invoice.pdf_url,
        "lines": {
            "object": "list",
            "data": lines,
            "has_more": False,
            "total_count": len(lines),
            "url": f"/v1/invoices/{invoice.id}/lines",
        },
        "livemode": False,
        "next_payment_attempt": so.ts(next_attempt) if next_attempt else None,
        "number": invoice.number,
        "parent": {
            "quote_details": None,
            "subscription_details": {"metadata": {}, "subscription": invoice.subscription_id},
            "type": "subscription_details",
        },
        "period_end": so.ts(invoice.lines[0].period_end),
        "period_start": so.ts(invoice.lines[0].period_start),
        "starting_balance": -invoice.credit,
        "status": invoice.status,
        "status_transitions": {
            # Renewal invoices are finalised an hour after the period starts.
            "finalized_at": created + 3600 if invoice.billing_reason == "subscription_cycle" else created,
            "marked_uncollectible_at": None,
            "paid_at": so.ts(invoice.paid_at) if paid else None,
            "voided_at": None,
        },
        "subtotal": invoice.subtotal,
        "subtotal_excluding_tax": invoice.subtotal,
        "total": invoice.total,
        "total_discount_amounts": [{"amount": invoice.discount, "discount": "di_demo"}] if invoice.discount else [],
        "total_excluding_tax": invoice.subtotal - invoice.discount,
        "total_taxes": [
            {
                "amount": invoice.tax,
                "tax_behavior": "exclusive",
                "tax_rate_details": None,
                "taxability_reason": invoice.taxability_reason,
                "taxable_amount": invoice.subtotal - invoice.discount,
                "type": "tax_rate_details",
            }
        ],
    }
    if expand_payments and invoice.charge_id:
        document["payments"] = {
            "object": "list",
            "data": [
                {
                    "id": f"inpay_{invoice.payment_intent_id[3:]}",
                    "object": "invoice_payment",
                    "amount_paid": invoice.amount_paid,
                    "is_default": True,
                    "payment": {
                        "charge": invoice.charge_id,
                        "payment_intent": invoice.payment_intent_id,
                        "type": "payment_intent",
                    },
                    "status": "paid",
                }
            ],
            "has_more": False,
        }
    return document


def charge_object(
    invoice: Invoice,
    rng: random.Random,
    customer_id: str | None,
    billing_info: dict[str, Any] | None,
    payment_method: dict[str, Any] | None,
    refunded_at: datetime,
) -> dict[str, Any]:
    """The charge that paid the invoice, with its refund."""
    method = payment_method or {}
    info = billing_info or {}
    return {
        "id": invoice.charge_id,
        "object": "charge",
        "amount": invoice.amount_paid,
        "amount_captured": invoice.amount_paid,
        "amount_refunded": invoice.refunded,
        "billing_details": {"email": info.get("Email"), "name": info.get("Name")},
        "captured": True,
        "created": so.ts(invoice.paid_at),
        "currency": "dkk",
        "customer": customer_id,
        "description": "Subscription creation"
        if invoice.billing_reason == "subscription_create"
        else "Subscription update",
        "livemode": False,
        "metadata": {},
        "paid": True,
        "payment_intent": invoice.payment_intent_id,
        "payment_method": method.get("id"),
        "payment_method_details": {"card": method.get("card"), "type": method.get("type", "card")},
        "receipt_url": f"https://pay.stripe.com/receipts/invoices/{invoice.id}",
        "refunded": invoice.refunded >= invoice.amount_paid,
        "refunds": {
            "object": "list",
            "data": [
                {
                    "id": so.stripe_id(rng, "re"),
                    "object": "refund",
                    "amount": invoice.refunded,
                    "charge": invoice.charge_id,
                    "created": so.ts(refunded_at),
                    "currency": "dkk",
                    "reason": "requested_by_customer",
                    "status": "succeeded",
                }
            ],
            "has_more": False,
            "total_count": 1,
            "url": f"/v1/charges/{invoice.charge_id}/refunds",
        },
        "status": "succeeded",
    }


def credit_note_object(invoice: Invoice) -> dict[str, Any]:
    return {
        "id": invoice.credit_note_id,
        "object": "credit_note",
        "created": so.ts(invoice.credit_noted_at),
        "invoice": invoice.id,
        "pdf": f"https://pay.stripe.com/credit_notes/{so.ACCOUNT}/{invoice.credit_note_id}/pdf",
        "reason": "order_change",
        "status": "issued",
    }
