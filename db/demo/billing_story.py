"""One tenant's subscription history over the demo window, told as the Stripe
events Stripe would have sent, plus the invoices behind its payment history.

The story runs forward in time: sign-up, monthly renewals, upgrades, scheduled
downgrades, cancellations, reactivations, failed and recovered payments,
suspensions, refunds, billing detail changes. What it ends with is the final
subscription row; the events are what the billing pipeline turns into the
billing event log."""

from __future__ import annotations

import calendar
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from itertools import accumulate
from typing import Any

from core import ids
from db.demo import invoices
from db.demo import stripe_objects as so
from db.demo import words
from db.demo.accounts import TenantProfile, billing_address, billing_info
from db.demo.invoices import Invoice, Line
from db.enums import SubscriptionPlan, SuspensionReason, TenantState
from stripe_sync.catalog import PriceCatalog
from stripe_sync.client import billing_info_of, cancellation_reason_of, payment_method_of, transaction_from_invoice

Standard, Premium = SubscriptionPlan.Standard, SubscriptionPlan.Premium
VAT_RATE = Decimal("0.25")

# Chances per billing period unless stated; tuned so that about a year of
# history gives the plan mix and churn of a small B2B SaaS.
P_NEVER_CUSTOMER = 0.27
P_CUSTOMER_ONLY = 0.04  # entered billing details, never subscribed
P_PREMIUM_AT_SIGNUP = 0.35
P_CANCEL = 0.015
P_REACTIVATE = 0.25
P_UPGRADE = 0.045
P_SCHEDULE_DOWNGRADE = 0.04
P_CANCEL_SCHEDULE = 0.25
P_IMMEDIATE_CANCEL = 0.004
P_CUSTOMER_DELETED = 0.0006
# Billing details and cards: most customers rarely touch them, some (shared
# finance inboxes, company cards that keep being replaced) a few times a year.
P_FREQUENT_EDITOR = 0.5
P_BILLING_INFO_CHANGE = 0.025
P_PAYMENT_METHOD_CHANGE = 0.02
P_BILLING_INFO_CHANGE_FREQUENT = 0.4
P_PAYMENT_METHOD_CHANGE_FREQUENT = 0.35
P_REFUND = 0.012
P_RENEWAL_FAILS = 0.07
P_RETRY_SUCCEEDS = 0.5
P_RESUBSCRIBE = 0.15
P_CREDIT_NOTE = 0.01
P_CREDIT_BALANCE = 0.006
P_RECOVERED_BY_EVENTS_LIST = 0.02
RETRY_DAYS = (3, 5, 7)  # Stripe smart retries after the first failure

_FEEDBACK_WEIGHTS = list(accumulate(weight for _, weight, _ in words.CANCELLATION_FEEDBACK))
_BRAND_WEIGHTS = list(accumulate(weight for _, weight in words.CARD_BRANDS))


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


class BillingStory:
    """Plays one tenant's billing history up to `now`."""

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

    # ----- the story -------------------------------------------------------

    def play(self) -> None:
        rng = self.rng
        created = self.profile.created_at
        choice = rng.random()
        if not self.stays_paid and choice < P_NEVER_CUSTOMER:
            return
        signup = created + (
            timedelta(minutes=rng.uniform(2, 40))
            if self.stays_paid or rng.random() < 0.55
            else timedelta(days=min(60.0, rng.expovariate(1 / 12) + 0.5))
        )
        if signup >= self.horizon:
            return  # still on the free trial
        self.create_customer(signup - timedelta(minutes=rng.uniform(0.5, 1.5)))
        if not self.stays_paid and choice < P_NEVER_CUSTOMER + P_CUSTOMER_ONLY:
            return
        plan = Premium if rng.random() < P_PREMIUM_AT_SIGNUP else Standard
        self.subscribe(signup, plan)
        while not self.final:
            self.run_subscription()
            if not self.ended or self.final or rng.random() >= P_RESUBSCRIBE:
                return
            comeback = self.clock + timedelta(days=rng.uniform(5, 120))
            if comeback >= self.horizon:
                return
            if rng.random() < 0.5:
                self.change_payment_method(comeback - timedelta(minutes=2))
            self.subscribe(comeback, Premium if rng.random() < 0.3 else Standard)

    def run_subscription(self) -> None:
        while not self.ended:
            start, end = self.period_start, self.period_end
            for at, action in self.period_actions(start, end):
                at = max(at, self.clock + timedelta(hours=1))
                if at >= end or at >= self.horizon:
                    break
                action(at)
                if self.ended:
                    return
            if end >= self.horizon:
                return
            self.period_boundary(end)

    def period_actions(self, start: datetime, end: datetime) -> list[tuple[datetime, Any]]:
        rng = self.rng
        span = (end - start).total_seconds()

        def moment(low: float = 0.03, high: float = 0.97) -> datetime:
            return start + timedelta(seconds=span * rng.uniform(low, high))

        actions: list[tuple[datetime, Any]] = []
        if self.status == "active" and not self.cancel_at_period_end and self.scheduled_plan is None:
            roll = rng.random()
            if self.stays_paid:
                roll = 1.0 if roll < P_CANCEL + P_IMMEDIATE_CANCEL + P_CUSTOMER_DELETED else roll
            if roll < P_CANCEL:
                at = moment(0.05, 0.8)
                actions.append((at, self.cancel))
                if rng.random() < P_REACTIVATE:
                    actions.append((at + (end - at) * rng.uniform(0.2, 0.9), self.reactivate))
            elif roll < P_CANCEL + P_IMMEDIATE_CANCEL:
                actions.append((moment(), self.cancel_immediately))
            elif roll < P_CANCEL + P_IMMEDIATE_CANCEL + P_CUSTOMER_DELETED:
                actions.append((moment(), self.delete_customer))
            elif self.plan is Standard and rng.random() < P_UPGRADE:
                actions.append((moment(0.05, 0.9), self.upgrade))
            elif self.plan is Premium and not self.downgraded_once and rng.random() < P_SCHEDULE_DOWNGRADE:
                at = moment(0.05, 0.8)
                actions.append((at, self.schedule_downgrade))
                if rng.random() < P_CANCEL_SCHEDULE:
                    actions.append((at + (end - at) * rng.uniform(0.2, 0.9), self.cancel_scheduled_downgrade))
        if rng.random() < self.p_billing_info_change:
            actions.append((moment(), self.update_billing_info))
        if rng.random() < self.p_payment_method_change:
            actions.append((moment(), self.change_payment_method))
        if rng.random() < P_REFUND:
            actions.append((moment(), self.refund))
        actions.sort(key=lambda pair: pair[0])
        return actions

    def period_boundary(self, at: datetime) -> None:
        if self.cancel_at_period_end:
            self.end_subscription(at, "cancellation_requested")
            return
        previous_items = self.items_object()
        previous_invoice = self.latest_invoice_id
        self.period_index += 1
        if self.scheduled_plan is not None:
            self.apply_scheduled_downgrade(at, previous_items)  # that update advances the period too
            self.renew(at, None)
        else:
            self.renew(at, {"items": previous_items, "latest_invoice": previous_invoice})

    # ----- Stripe actions ----------------------------------------------------

    def create_customer(self, at: datetime) -> None:
        rng, profile = self.rng, self.profile
        self.customer_id = so.stripe_id(rng, "cus", 14)
        self.billing_info = billing_info(rng, profile.name, profile.domain, profile.owner, profile.country)
        self.emit(at, "customer.created", self.customer_object(), request=True)
        self.attach_new_card(at + timedelta(seconds=rng.uniform(20, 90)), previous_default=None)

    def subscribe(self, at: datetime, plan: SubscriptionPlan) -> None:
        rng = self.rng
        at = max(at, self.clock + timedelta(seconds=5))
        self.sub_id = so.stripe_id(rng, "sub")
        self.item_id = so.stripe_id(rng, "si", 14)
        self.sub_created = at.replace(microsecond=0)
        self.anchor = self.sub_created
        self.period_index = 0
        self.plan = plan
        self.plan_changed_at = at
        self.status = "active"
        self.cancel_at_period_end = False
        self.canceled_at = None
        self.feedback = (None, None, None)
        self.ended = False
        self.first_payment_failed_at = None
        invoice = self.new_invoice(at, "subscription_create", [self.full_period_line(self.period_start, self.period_end)])
        self.latest_invoice_id = invoice.id
        self.emit(at, "customer.subscription.created", self.subscription_object(), request=True)
        if self.tenant_state is TenantState.Suspended:
            self.tenant_state, self.suspension_reason, self.suspended_at = TenantState.Active, None, None
        self.pay(invoice, at + timedelta(seconds=rng.uniform(2, 8)))
        self.emit(invoice.paid_at, "invoice.payment_succeeded", self.invoice_object(invoice))

    def renew(self, at: datetime, period_advanced: dict[str, Any] | None) -> None:
        """A new billing cycle: Stripe advances the period (`period_advanced`
        holds the previous attributes of that update, which the pipeline
        records as NoOp), invoices the period and charges the card an hour later."""
        rng = self.rng
        invoice = self.new_invoice(at, "subscription_cycle", [self.full_period_line(self.period_start, self.period_end)])
        self.latest_invoice_id = invoice.id
        if period_advanced is not None:
            self.emit_subscription_updated(at, period_advanced)
        attempt_at = at + timedelta(hours=1, seconds=rng.uniform(0, 600))
        if attempt_at >= self.horizon:
            return  # drafted, not attempted yet
        if self.stays_paid or rng.random() >= P_RENEWAL_FAILS:
            self.pay(invoice, attempt_at)
            self.emit(attempt_at, "invoice.payment_succeeded", self.invoice_object(invoice))
            return
        self.dunning(invoice, attempt_at)

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

    def upgrade(self, at: datetime) -> None:
        old = self.plan
        start, end = self.period_start, self.period_end
        # Stripe prorates by the second: the unused share of the old plan is credited.
        share = Decimal(int((end - at).total_seconds())) / Decimal(int((end - start).total_seconds()))
        old_price, new_price = self.catalog.price_for_plan(old), self.catalog.price_for_plan(Premium)
        credit = -int((Decimal(so.minor(old_price.unit_amount)) * share).to_integral_value(ROUND_HALF_UP))
        charge = int((Decimal(so.minor(new_price.unit_amount)) * share).to_integral_value(ROUND_HALF_UP))
        previous_items = self.items_object()
        self.plan, self.plan_changed_at = Premium, at
        self.emit_subscription_updated(at, {"items": previous_items}, request=True)
        day = at.strftime("%d %b %Y")
        invoice = self.new_invoice(
            at,
            "subscription_update",
            [
                Line(credit, old_price, f"Unused time on {old.value} after {day}", at, end, proration=True),
                Line(charge, new_price, f"Remaining time on Premium after {day}", at, end, proration=True),
            ],
        )
        self.latest_invoice_id = invoice.id
        self.pay(invoice, at + timedelta(seconds=self.rng.uniform(3, 9)))
        self.emit(invoice.paid_at, "invoice.payment_succeeded", self.invoice_object(invoice))

    def schedule_downgrade(self, at: datetime) -> None:
        self.schedule_id = so.stripe_id(self.rng, "sub_sched")
        self.schedule_created = at.replace(microsecond=0)
        self.emit(at, "subscription_schedule.created", self.schedule_object([self.plan]), request=True)
        self.scheduled_plan = Standard
        self.emit(
            at + timedelta(seconds=1),
            "subscription_schedule.updated",
            self.schedule_object([self.plan, Standard]),
            {"phases": self.schedule_object([self.plan])["phases"]},
            request=True,
        )

    def cancel_scheduled_downgrade(self, at: datetime) -> None:
        self.scheduled_plan = None
        self.emit(at, "subscription_schedule.released", self.schedule_object([self.plan], status="released", at=at), request=True)
        self.schedule_id = None

    def apply_scheduled_downgrade(self, at: datetime, previous_items: dict[str, Any]) -> None:
        target = self.scheduled_plan
        self.plan, self.plan_changed_at = target, at
        self.scheduled_plan = None
        self.downgraded_once = True
        self.emit_subscription_updated(at, {"items": previous_items})
        self.emit(at + timedelta(seconds=1), "subscription_schedule.updated",
                  self.schedule_object([Premium, target], status="released", at=at), {"status": "active"})
        self.schedule_id = None

    def misbilled_invoice(self, at: datetime) -> None:
        """A one-off invoice whose coupon was applied after tax: Stripe reports
        more tax than the customer paid (the pipeline clamps it, drift flags it)."""
        invoice = self.new_invoice(at, "manual", [self.full_period_line(self.period_start, self.period_end)])
        invoice.tax = invoice.subtotal // 4
        invoice.credit = 0
        invoice.discount = invoice.subtotal + invoice.tax - 2000
        self.pay(invoice, at + timedelta(seconds=self.rng.uniform(3, 9)))
        self.emit(invoice.paid_at, "invoice.payment_succeeded", self.invoice_object(invoice))

    def cancel(self, at: datetime) -> None:
        rng = self.rng
        feedback, _, comment = rng.choices(words.CANCELLATION_FEEDBACK, cum_weights=_FEEDBACK_WEIGHTS)[0]
        self.cancel_at_period_end = True
        self.canceled_at = at.replace(microsecond=0)
        self.feedback = (feedback, comment if rng.random() < 0.6 else None, "cancellation_requested")
        self.emit_subscription_updated(
            at,
            {
                "cancel_at": None,
                "cancel_at_period_end": False,
                "canceled_at": None,
                "cancellation_details": {"comment": None, "feedback": None, "reason": None},
            },
            request=True,
        )

    def reactivate(self, at: datetime) -> None:
        previous = {
            "cancel_at": so.ts(self.period_end),
            "cancel_at_period_end": True,
            "canceled_at": so.ts(self.canceled_at),
            "cancellation_details": {"comment": self.feedback[1], "feedback": self.feedback[0], "reason": self.feedback[2]},
        }
        self.cancel_at_period_end = False
        self.canceled_at = None
        self.feedback = (None, None, None)
        self.emit_subscription_updated(at, previous, request=True)

    def change_plan_and_cancel(self, at: datetime) -> None:
        """One update that switches plan and schedules cancellation at once
        (a dashboard edit): the pipeline cannot classify it."""
        feedback, _, comment = self.rng.choice(words.CANCELLATION_FEEDBACK[:4])
        previous_items = self.items_object()
        self.plan = Standard if self.plan is Premium else Premium
        self.plan_changed_at = at
        self.cancel_at_period_end = True
        self.canceled_at = at.replace(microsecond=0)
        self.feedback = (feedback, comment, "cancellation_requested")
        self.emit_subscription_updated(at, {"cancel_at_period_end": False, "items": previous_items}, request=True)

    def cancel_immediately(self, at: datetime) -> None:
        invoice = self.last_paid_invoice()
        self.end_subscription(at, "cancellation_requested")
        if invoice is not None and self.rng.random() < 0.6:
            self.refund_invoice(invoice, at + timedelta(minutes=self.rng.uniform(1, 30)), percent=self.rng.randrange(20, 81))

    def delete_customer(self, at: datetime) -> None:
        self.end_subscription(at, "cancellation_requested")
        self.tenant_state = TenantState.Suspended
        self.suspension_reason = SuspensionReason.CustomerDeleted
        event = self.emit(at + timedelta(seconds=2), "customer.deleted", self.customer_object(), request=True)
        self.suspended_at = event.processed_at
        self.final = True

    def end_subscription(self, at: datetime, reason: str) -> None:
        """Stripe deletes the subscription: at period end after a cancellation,
        after the last failed retry, or at once."""
        self.status = "canceled"
        self.canceled_at = self.canceled_at or at.replace(microsecond=0)
        feedback, comment, _ = self.feedback
        self.feedback = (feedback, comment, reason)
        payload = self.subscription_object(ended_at=at)
        self.period_end_kept = self.period_end
        self.ended = True
        self.sub_id = None
        self.plan = None
        self.scheduled_plan = None
        self.schedule_id = None
        self.cancel_at_period_end = False
        had_failed_payment = self.first_payment_failed_at is not None
        self.first_payment_failed_at = None
        event = self.emit(at, "customer.subscription.deleted", payload)
        self.plan_changed_at = at
        if reason == "payment_failed" and had_failed_payment:
            self.tenant_state = TenantState.Suspended
            self.suspension_reason = SuspensionReason.PaymentFailed
            self.suspended_at = event.processed_at
            self.final = True

    def update_billing_info(self, at: datetime) -> None:
        rng, info = self.rng, self.billing_info
        change = rng.random()
        if change < 0.5:
            previous = {"address": so.address(info["Address"])}
            info["Address"] = billing_address(rng, self.profile.country)
        elif change < 0.8:
            previous = {"email": info["Email"]}
            local = rng.choice(("billing", "invoices", "finance", "okonomi", "bogholderi"))
            info["Email"] = f"{local}@{self.profile.domain}"
        else:
            previous = {"name": info["Name"]}
            info["Name"] = f"{info['Name']} (ex. {rng.choice(('Holding', 'Group', 'Nordic'))})" if rng.random() < 0.3 else info["Name"].upper()
        self.emit(at, "customer.updated", self.customer_object(), previous, request=True)

    def change_payment_method(self, at: datetime) -> None:
        self.attach_new_card(at, previous_default=self.payment_method["id"] if self.payment_method else None)

    def attach_new_card(self, at: datetime, *, previous_default: str | None) -> None:
        rng = self.rng
        brand = rng.choices(words.CARD_BRANDS, cum_weights=_BRAND_WEIGHTS)[0][0]
        card = None
        if brand != "link":
            card = {
                "brand": brand,
                "country": self.profile.country.code,
                "exp_month": rng.randrange(1, 13),
                "exp_year": self.now.year + rng.randrange(0, 5),
                "funding": rng.choice(("credit", "credit", "debit")),
                "last4": f"{rng.randrange(10000):04d}",
            }
        self.payment_method = so.payment_method(so.stripe_id(rng, "pm"), so.ts(at), self.customer_id, card, self.billing_info)
        attached = self.emit(at, "payment_method.attached", self.payment_method, request=True)
        self.emit(
            attached.created + timedelta(seconds=1),
            "customer.updated",
            self.customer_object(),
            {"invoice_settings": {"default_payment_method": previous_default}},
            request=True,
        )

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
        self.emit(invoice.refunded_at, "charge.refunded", self.charge_object(invoice, invoice.refunded_at), request=True)

    # ----- helpers ----------------------------------------------------------

    @property
    def period_start(self) -> datetime:
        return add_months(self.anchor, self.period_index)

    @property
    def period_end(self) -> datetime:
        return add_months(self.anchor, self.period_index + 1)

    def last_paid_invoice(self) -> Invoice | None:
        for invoice in reversed(self.invoices):
            if invoice.status == "paid" and invoice.amount_paid > 0 and not invoice.refunded:
                return invoice
        return None

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

    def next_instant(self, at: datetime) -> datetime:
        """When an event meant for `at` gets its `created`: whole seconds, after the last one."""
        return max(at.replace(microsecond=0), self.clock + timedelta(seconds=1))

    def emit_subscription_updated(self, at: datetime, previous: dict[str, Any], *, request: bool = False) -> StoredEvent:
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

    # ----- Stripe objects of the current state ---------------------------------

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

    def schedule_object(self, plans: list[SubscriptionPlan], *, status: str = "active", at: datetime | None = None) -> dict[str, Any]:
        phases = []
        start = self.period_start
        for number, plan in enumerate(plans):
            end = self.period_end if number == 0 else add_months(self.period_end, 1)
            phases.append(
                {
                    "start_date": so.ts(start if number == 0 else self.period_end),
                    "end_date": so.ts(end),
                    "currency": "dkk",
                    "items": [{"price": so.PRICE_IDS[plan], "quantity": 1, "metadata": {}, "tax_rates": []}],
                    "proration_behavior": "none",
                    "metadata": {},
                }
            )
        released = status == "released"
        return {
            "id": self.schedule_id,
            "object": "subscription_schedule",
            "canceled_at": None,
            "completed_at": None,
            "created": so.ts(self.schedule_created),
            "current_phase": None if released else {"end_date": phases[0]["end_date"], "start_date": phases[0]["start_date"]},
            "customer": self.customer_id,
            "default_settings": {"collection_method": "charge_automatically", "default_payment_method": None},
            "end_behavior": "release",
            "livemode": False,
            "metadata": {"tenant_id": str(self.profile.id)},
            "phases": phases,
            "released_at": so.ts(at) if released and at else None,
            "released_subscription": self.sub_id if released else None,
            "status": status,
            "subscription": None if released else self.sub_id,
        }

    def invoice_object(
        self, invoice: Invoice, *, next_attempt: datetime | None = None, expand_payments: bool = False
    ) -> dict[str, Any]:
        return invoices.invoice_object(
            invoice, self.rng, self.customer_id, self.billing_info, next_attempt=next_attempt, expand_payments=expand_payments
        )

    def charge_object(self, invoice: Invoice, refunded_at: datetime) -> dict[str, Any]:
        return invoices.charge_object(invoice, self.rng, self.customer_id, self.billing_info, self.payment_method, refunded_at)

    # ----- the final local state ---------------------------------------------

    @property
    def cancellation_reason(self) -> str | None:
        """Our CancellationReason while a cancellation is scheduled (domain.md 4.5)."""
        if not self.cancel_at_period_end:
            return None
        return cancellation_reason_of(self.feedback[0]).value

    @property
    def is_paying(self) -> bool:
        return self.sub_id is not None and self.plan is not None

    def payment_transactions(self) -> list[dict[str, Any]]:
        """One element per finalised invoice, newest first, made by the
        pipeline's own invoice mapping (domain.md 1.9.1, 7.8-7.10)."""
        elements = []
        for invoice in reversed(self.invoices):
            if invoice.is_draft:
                continue
            charges = [self.charge_object(invoice, invoice.refunded_at)] if invoice.refunded else []
            credit_notes = [invoices.credit_note_object(invoice)] if invoice.credit_note_id else []
            element = transaction_from_invoice(
                self.invoice_object(invoice, expand_payments=True), charges, credit_notes, self.catalog, now=self.now
            )
            # The pipeline draws a fresh id on every sync; ours must repeat.
            element["Id"] = ids.prefixed("pymnt", invoice.created, self.rng)
            elements.append(element)
        return elements

    def payment_method_json(self) -> dict[str, Any] | None:
        """The subscription's payment_method column, as the sync stores it."""
        return payment_method_of(self.payment_method)

    def billing_info_json(self) -> dict[str, Any] | None:
        """The billing_info column, as the sync reads it from the customer."""
        if self.customer_id is None:
            return None
        return billing_info_of(self.customer_object(with_tax_ids=True), self.payment_method)
