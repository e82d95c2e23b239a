"""Invoices and payments in a billing story: invoicing with VAT, credit notes
and balances, dunning (a failed payment, Stripe's retries, then giving up),
refunds, and a misbilled one-off invoice."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from demo import stripe_objects as so
from demo.invoices import Invoice, Line
from demo.story_state import StoryState

VAT_RATE = Decimal("0.25")
P_RETRY_SUCCEEDS = 0.5  # per retry
RETRY_DAYS = (3, 5, 7)  # Stripe smart retries after the first failure
P_CREDIT_NOTE = 0.01  # per paid invoice
P_CREDIT_BALANCE = 0.006  # per invoice


class Payments(StoryState):
    def full_period_line(self, start: datetime, end: datetime) -> Line:
        price = self.catalog.price_for_plan(self.plan)
        return Line(
            so.minor(price.unit_amount),
            price,
            f"1 × {self.plan.value} (at kr {price.unit_amount} / month)",
            start,
            end,
        )

    def new_invoice(self, at: datetime, billing_reason: str, lines: list[Line]) -> Invoice:
        rng = self.rng
        danish = self.profile.country.code == "DK"
        subtotal = sum(line.amount for line in lines)
        tax = int((Decimal(subtotal) * VAT_RATE).to_integral_value(ROUND_HALF_UP)) if danish else 0
        if danish:
            reason = "standard_rated"
        elif self.profile.country.in_eu and self.billing_info and self.billing_info["TaxId"]:
            reason = "reverse_charge"
        else:
            reason = "not_subject_to_tax"
        invoice = Invoice(
            id=so.stripe_id(rng, "in"),
            number=f"{self.invoice_prefix}-{len(self.invoices) + 1:04d}",
            created=at.replace(microsecond=0),
            billing_reason=billing_reason,
            subscription_id=self.sub_id,
            lines=lines,
            tax=tax,
            taxability_reason=reason,
        )
        if rng.random() < P_CREDIT_BALANCE and invoice.total > 10000:
            invoice.credit = rng.choice((2500, 5000, 7450))
        self.invoices.append(invoice)
        return invoice

    def pay(self, invoice: Invoice, at: datetime) -> None:
        invoice.status = "paid"
        invoice.paid_at = at.replace(microsecond=0)
        invoice.attempt_count = max(1, invoice.attempt_count)
        if invoice.amount_due > 0:
            invoice.charge_id = so.stripe_id(self.rng, "ch")
            invoice.payment_intent_id = so.stripe_id(self.rng, "pi")
        if self.rng.random() < P_CREDIT_NOTE:
            invoice.credit_note_id = so.stripe_id(self.rng, "cn")
            invoice.credit_noted_at = invoice.created + timedelta(days=self.rng.uniform(1, 20))
            if invoice.credit_noted_at >= self.now:
                invoice.credit_note_id = invoice.credit_noted_at = None

    def last_paid_invoice(self) -> Invoice | None:
        for invoice in reversed(self.invoices):
            if invoice.status == "paid" and invoice.amount_paid > 0 and not invoice.refunded:
                return invoice
        return None

    def dunning(self, invoice: Invoice, first_attempt: datetime) -> None:
        rng = self.rng
        invoice.attempt_count = 1
        next_attempt = first_attempt + timedelta(days=RETRY_DAYS[0])
        self.emit(first_attempt, "invoice.payment_failed", self.invoice_object(invoice, next_attempt=next_attempt))
        self.status = "past_due"
        event = self.emit_subscription_updated(first_attempt + timedelta(seconds=2), {"status": "active"})
        self.first_payment_failed_at = event.processed_at
        attempt = first_attempt
        for number, days in enumerate(RETRY_DAYS, start=2):
            attempt = attempt + timedelta(days=days, seconds=rng.uniform(-3600, 3600))
            if attempt >= self.horizon:
                return  # still in dunning today
            invoice.attempt_count = number
            if rng.random() < P_RETRY_SUCCEEDS:
                self.pay(invoice, attempt)
                self.emit(attempt, "invoice.payment_succeeded", self.invoice_object(invoice))
                self.status = "active"
                self.first_payment_failed_at = None
                self.emit_subscription_updated(attempt + timedelta(seconds=2), {"status": "past_due"})
                return
            last = number == len(RETRY_DAYS) + 1
            following = None if last else attempt + timedelta(days=RETRY_DAYS[number - 1])
            self.emit(attempt, "invoice.payment_failed", self.invoice_object(invoice, next_attempt=following))
        give_up = attempt + timedelta(days=2)
        if give_up >= self.horizon:
            return
        invoice.status = "uncollectible"
        self.end_subscription(give_up, "payment_failed")

    def refund(self, at: datetime) -> None:
        invoice = self.last_paid_invoice()
        if invoice is None or (at - invoice.created).days > 60:
            return
        self.refund_invoice(invoice, at, percent=100 if self.rng.random() < 0.4 else self.rng.randrange(20, 61))

    def refund_invoice(self, invoice: Invoice, at: datetime, *, percent: int) -> None:
        amount = min(invoice.amount_paid, max(100, invoice.amount_paid * percent // 100))
        if amount <= 0 or invoice.refunded:
            return
        invoice.refunded = amount
        invoice.refunded_at = self.next_instant(at)
        self.emit(
            invoice.refunded_at, "charge.refunded", self.charge_object(invoice, invoice.refunded_at), request=True
        )

    def misbilled_invoice(self, at: datetime) -> None:
        """A one-off invoice whose coupon was applied after tax: Stripe reports
        more tax than the customer paid (the pipeline clamps it, drift flags it)."""
        invoice = self.new_invoice(at, "manual", [self.full_period_line(self.period_start, self.period_end)])
        invoice.tax = invoice.subtotal // 4
        invoice.credit = 0
        invoice.discount = invoice.subtotal + invoice.tax - 2000
        self.pay(invoice, at + timedelta(seconds=self.rng.uniform(3, 9)))
        self.emit(invoice.paid_at, "invoice.payment_succeeded", self.invoice_object(invoice))
