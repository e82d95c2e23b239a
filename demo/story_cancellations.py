"""How a subscription in a billing story ends, or nearly does: cancellation at
the period's end and reactivation, immediate cancellation, deletion of the
customer, and Stripe deleting the subscription (which may suspend the tenant)."""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import accumulate

from db.enums import SuspensionReason, TenantState
from demo import stripe_objects as so
from demo import words
from demo.story_state import StoryState

_FEEDBACK_WEIGHTS = list(accumulate(weight for _, weight, _ in words.CANCELLATION_FEEDBACK))


class Cancellations(StoryState):
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
            "cancellation_details": {
                "comment": self.feedback[1],
                "feedback": self.feedback[0],
                "reason": self.feedback[2],
            },
        }
        self.cancel_at_period_end = False
        self.canceled_at = None
        self.feedback = (None, None, None)
        self.emit_subscription_updated(at, previous, request=True)

    def cancel_immediately(self, at: datetime) -> None:
        invoice = self.last_paid_invoice()
        self.end_subscription(at, "cancellation_requested")
        if invoice is not None and self.rng.random() < 0.6:
            self.refund_invoice(
                invoice, at + timedelta(minutes=self.rng.uniform(1, 30)), percent=self.rng.randrange(20, 81)
            )

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
