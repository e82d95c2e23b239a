"""One tenant's subscription history over the demo window, told as the Stripe
events Stripe would have sent, plus the invoices behind its payment history.

The story runs forward in time: sign-up, monthly renewals, upgrades, scheduled
downgrades, cancellations, reactivations, failed and recovered payments,
suspensions, refunds, billing detail changes. What it ends with is the final
subscription row; the events are what the billing pipeline turns into the
billing event log."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from core import ids
from db.enums import SubscriptionPlan, TenantState
from demo import invoices
from demo import stripe_objects as so
from demo.story_cancellations import Cancellations
from demo.story_customer import CustomerDetails
from demo.story_payments import Payments
from demo.story_plans import PlanChanges
from demo.story_state import Premium, Standard, StoredEvent
from stripe_sync.stripe_mapping import (
    billing_info_of,
    cancellation_reason_of,
    payment_method_of,
    transaction_from_invoice,
)

__all__ = ["BillingStory", "StoredEvent"]

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
P_REFUND = 0.012
P_RENEWAL_FAILS = 0.07
P_RESUBSCRIBE = 0.15  # per ended subscription


class BillingStory(PlanChanges, Cancellations, Payments, CustomerDetails):
    """Plays one tenant's billing history up to `now`. The story's state and
    each kind of action live in their own modules (story_*.py); an action may
    call one of another kind, as they all act on the one state."""

    # ----- the story ---------------------------------------------------------

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
        invoice = self.new_invoice(
            at, "subscription_create", [self.full_period_line(self.period_start, self.period_end)]
        )
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
        invoice = self.new_invoice(
            at, "subscription_cycle", [self.full_period_line(self.period_start, self.period_end)]
        )
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

    # ----- the final local state ---------------------------------------------

    @property
    def cancellation_reason(self) -> str | None:
        """Our CancellationReason while a cancellation is scheduled (docs/rules.md R65)."""
        if not self.cancel_at_period_end:
            return None
        return cancellation_reason_of(self.feedback[0]).value

    @property
    def is_paying(self) -> bool:
        return self.sub_id is not None and self.plan is not None

    def payment_transactions(self) -> list[dict[str, Any]]:
        """One element per finalised invoice, newest first, made by the
        pipeline's own invoice mapping (docs/rules.md R40-R44)."""
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
