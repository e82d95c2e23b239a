"""Plan changes in a billing story: upgrades prorated at once, downgrades
scheduled for the period's end (and released again), and the dashboard edit
that changes plan and cancels in one update."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from db.enums import SubscriptionPlan
from demo import stripe_objects as so
from demo import words
from demo.invoices import Line
from demo.story_state import Premium, Standard, StoryState, add_months


class PlanChanges(StoryState):
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
        self.emit(
            at,
            "subscription_schedule.released",
            self.schedule_object([self.plan], status="released", at=at),
            request=True,
        )
        self.schedule_id = None

    def apply_scheduled_downgrade(self, at: datetime, previous_items: dict[str, Any]) -> None:
        target = self.scheduled_plan
        self.plan, self.plan_changed_at = target, at
        self.scheduled_plan = None
        self.downgraded_once = True
        self.emit_subscription_updated(at, {"items": previous_items})
        self.emit(
            at + timedelta(seconds=1),
            "subscription_schedule.updated",
            self.schedule_object([Premium, target], status="released", at=at),
            {"status": "active"},
        )
        self.schedule_id = None

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

    def schedule_object(
        self, plans: list[SubscriptionPlan], *, status: str = "active", at: datetime | None = None
    ) -> dict[str, Any]:
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
            "current_phase": None
            if released
            else {"end_date": phases[0]["end_date"], "start_date": phases[0]["start_date"]},
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
