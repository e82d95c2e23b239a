"""Properties over random subscription histories (hypothesis).

A history is a Stripe timeline starting with a subscription's creation. It is
delivered to live processing in random sync windows: Stripe's events list
shows what has happened so far (its answers may repeat ids and come in any
order) and webhooks redeliver random events already seen, duplicated and
shuffled. Whatever the delivery, the ledger holds one row per event, and the
rows equal a pure replay of the whole history (ledger correctness).
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, select

from db.enums import SubscriptionPlan as Plan
from db.models import BillingEvent
from stripe_sync.catalog import PriceCatalog
from stripe_sync.processing import process_customer
from stripe_sync.replayer import ReplayState, replay
from stripe_sync.snapshots import CustomerSnapshot, EventsList, SubscriptionSnapshot
from tests import factories
from tests.factories import NOW
from tests.stripe_sync.fake_stripe import API_VERSION, BILLING_INFO, CUSTOMER, PRICES, VISA, FakeStripe
from tests.stripe_sync.stripe_events import event, items

PRICE_IDS = {Plan.Standard: "price_mock_standard", Plan.Premium: "price_mock_premium"}
START = NOW - timedelta(days=60)
STEPS = (
    "renew",
    "recover",
    "fail",
    "past_due",
    "change_plan",
    "toggle_cancel",
    "schedule",
    "release",
    "refund",
    "billing_info",
    "noop",
    "delete",
)


@st.composite
def histories(draw: st.DrawFn) -> list[dict[str, Any]]:
    """A valid-looking Stripe timeline: created first, then random changes;
    after a deletion only a new creation changes the plan again. Some events
    share a second, and ids are random, so ties are ordered by id."""
    plan = draw(st.sampled_from([Plan.Standard, Plan.Premium]))
    cancelling = False
    alive = True
    at = START
    events: list[dict[str, Any]] = []
    ids = draw(
        st.lists(
            st.text("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=6, max_size=6),
            min_size=40,
            max_size=40,
            unique=True,
        )
    )

    def add(event_type: str, obj: dict[str, Any], previous: dict[str, Any] | None = None) -> None:
        events.append(
            event(
                event_type,
                id=f"evt_{ids[len(events)]}",
                created=at,
                obj={"currency": "dkk", **obj},
                previous=previous,
                api_version=API_VERSION,
            )
        )

    add("customer.subscription.created", {"items": items(PRICE_IDS[plan])})
    for step_number in range(draw(st.integers(0, 14))):
        # The creation stays first: nothing shares its second.
        at += timedelta(
            seconds=draw(st.sampled_from([1, 3600, 86400 * 3] if step_number == 0 else [0, 1, 3600, 86400 * 3]))
        )
        step = draw(st.sampled_from(STEPS)) if alive else draw(st.sampled_from(["recreate", "billing_info", "refund"]))
        if step == "recreate":
            plan, cancelling, alive = draw(st.sampled_from([Plan.Standard, Plan.Premium])), False, True
            add("customer.subscription.created", {"items": items(PRICE_IDS[plan])})
        elif step in ("renew", "recover", "fail"):
            invoice_type = "invoice.payment_failed" if step == "fail" else "invoice.payment_succeeded"
            add(invoice_type, {"billing_reason": "subscription_cycle", "attempt_count": 3 if step == "recover" else 1})
        elif step == "past_due":
            add("customer.subscription.updated", {"status": "past_due"}, {"status": "active"})
        elif step == "change_plan":
            new = Plan.Premium if plan == Plan.Standard else Plan.Standard
            add("customer.subscription.updated", {"items": items(PRICE_IDS[new])}, {"items": items(PRICE_IDS[plan])})
            plan = new
        elif step == "toggle_cancel":
            add(
                "customer.subscription.updated",
                {"cancel_at_period_end": not cancelling},
                {"cancel_at_period_end": cancelling},
            )
            cancelling = not cancelling
        elif step == "schedule":
            phases = [{"items": [{"price": PRICE_IDS[plan]}]}, {"items": [{"price": PRICE_IDS[Plan.Standard]}]}]
            add("subscription_schedule.updated", {"status": "active", "phases": phases})
        elif step == "release":
            add("subscription_schedule.released", {"status": "released"})
        elif step == "refund":
            add("charge.refunded", {"object": "charge"})
        elif step == "billing_info":
            add("customer.updated", {"object": "customer"}, {"name": "Old name"})
        elif step == "noop":
            add("customer.subscription.updated", {"status": "active"}, {"latest_invoice": "in_old"})
        elif step == "delete":
            add("customer.subscription.deleted", {"status": "canceled"})
            alive = False
    # Stripe reveals them in this order (a sync window is a prefix of it).
    return sorted(events, key=lambda e: (e["created"], e["id"]))


@dataclass
class HistoryStripe(FakeStripe):
    """Stripe after the first `visible` events of a history: its events list
    shows them (ids repeated and order scrambled as drawn), and its
    subscription is the state they lead to."""

    history: list[dict[str, Any]] = field(default_factory=list)
    visible: int = 0
    scramble: list[int] = field(default_factory=list)

    def state(self) -> ReplayState:
        return replay(
            self.history[: self.visible], tenant_id=0, subscription_id="sub", catalog=self.price_catalog()
        ).state

    def customer(self, customer_id: str) -> CustomerSnapshot:
        return CustomerSnapshot(customer_id, deleted=False, billing_info=BILLING_INFO, payment_method=VISA)

    def subscription(
        self, customer_id: str, catalog: PriceCatalog, *, customer: CustomerSnapshot | None = None
    ) -> SubscriptionSnapshot | None:
        state = self.state()
        if state.plan in (None, Plan.Basis):
            return None
        return SubscriptionSnapshot(
            "sub_mock_12345",
            state.plan,
            state.scheduled_plan,
            PRICES[state.plan],
            "DKK",
            NOW + timedelta(days=30),
            state.cancel_at_period_end,
            None,
            None,
            VISA,
            "active",
        )

    def payment_transactions(self, customer_id: str, catalog: PriceCatalog) -> list[dict[str, Any]]:
        return []

    def list_events(self, customer_id: str, created_gte: datetime | None) -> EventsList:
        shown = [
            e for e in self.history[: self.visible] if created_gte is None or e["created"] >= created_gte.timestamp()
        ]
        if shown:
            shown = shown + [shown[i % len(shown)] for i in self.scramble]  # ids repeated
            random.Random(sum(self.scramble)).shuffle(shown)
        return EventsList(shown, complete=True)


def stored_rows(conn: Connection, subscription_id: str) -> list[tuple]:
    columns = [c for c in BillingEvent.__table__.c if c.name not in ("created_at", "modified_at")]
    return [
        tuple(row)
        for row in conn.execute(
            select(*columns)
            .where(BillingEvent.subscription_id == subscription_id)
            .order_by(BillingEvent.occurred_at, BillingEvent.stripe_event_id.collate("C"))
        )
    ]


@settings(
    max_examples=int(os.environ.get("LEDGER_PROPERTY_EXAMPLES", "30")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    history=histories(),
    cuts=st.lists(st.integers(1, 15), min_size=1, max_size=4),
    redeliveries=st.lists(st.integers(0, 40), max_size=4),
    scramble=st.lists(st.integers(0, 9), max_size=6),
)
def test_any_delivery_gives_one_row_per_event_and_the_same_log_as_a_replay(
    conn: Connection, history: list[dict[str, Any]], cuts: list[int], redeliveries: list[int], scramble: list[int]
) -> None:
    with conn.begin_nested() as savepoint:
        tenant = factories.tenant(conn, plan="Basis", stripe_customer_id=CUSTOMER)
        stripe = HistoryStripe(history=history, scramble=scramble)
        windows = sorted({min(cut, len(history)) for cut in cuts} | {len(history)})
        for sync_number, visible in enumerate(windows):
            stripe.visible = visible
            seen = history[:visible]
            webhooks = [seen[i % len(seen)] for i in redeliveries] or [None]
            for delivery, webhook_event in enumerate(webhooks):
                now = NOW + timedelta(minutes=sync_number * 10 + delivery)
                process_customer(conn, stripe, CUSTOMER, now=now, force=True, webhook_event=webhook_event)

        live = stored_rows(conn, tenant.subscription_id)
        ids = [
            row.stripe_event_id
            for row in conn.execute(
                select(BillingEvent.stripe_event_id).where(BillingEvent.subscription_id == tenant.subscription_id)
            )
        ]
        assert len(ids) == len(set(ids)) == len(history)

        expected = replay(
            history,
            tenant_id=tenant.id,
            subscription_id=tenant.subscription_id,
            catalog=stripe.price_catalog(),
            state=ReplayState(plan=Plan.Basis),
            currency_override="DKK",
            live_plan=Plan.Basis,
        ).rows
        columns = [c.name for c in BillingEvent.__table__.c if c.name not in ("created_at", "modified_at")]
        assert live == [tuple(row.as_row(NOW)[name] for name in columns) for row in expected]
        savepoint.rollback()
