"""No database connection is held (so no transaction is open) while a Stripe
call is in flight: a hanging Stripe must not hold pooled connections or row
locks. Each path runs against a gateway that notes the calls made while its
thread held a pooled connection."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Engine, select

from db.enums import SubscriptionPlan
from db.models import BillingEvent, StripeEvent, Subscription
from stripe_sync import archive, drift_worker, processing, sync
from tests import factories
from tests.cli_run import run_cli_captured
from tests.factories import NOW
from tests.stripe_sync.fake_stripe import CUSTOMER, FakeStripe
from tests.stripe_sync.held_connections import GuardedStripe, HeldConnections, watching_connections
from tests.stripe_sync.test_sync import CONFIGURED, archived, archived_created, cust_only, url_of


@pytest.fixture
def held() -> Iterator[HeldConnections]:
    with watching_connections() as held:
        yield held


def checked(stripe: GuardedStripe) -> None:
    assert stripe.calls, "Stripe was not asked at all"
    assert stripe.calls_holding_a_connection == []


def test_sync_tenant(engine: Engine, held: HeldConnections) -> None:
    tenant = cust_only(engine)
    stripe = GuardedStripe(FakeStripe(), held)
    assert sync.sync_tenant(engine, CONFIGURED, tenant.id, now=NOW, client=stripe).billing_events_appended == 3  # type: ignore[arg-type]
    checked(stripe)


def test_sync_all(engine: Engine, held: HeldConnections) -> None:
    cust_only(engine)
    cust_only(engine, customer="cus_unreachable")
    stripe = GuardedStripe(FakeStripe(unreachable_customers=frozenset({"cus_unreachable"})), held)
    result = sync.sync_all(engine, CONFIGURED, now=NOW, client=stripe)  # type: ignore[arg-type]
    assert (len(result.items), len(result.failures)) == (1, 1)
    checked(stripe)


def test_the_drift_worker(engine: Engine, held: HeldConnections) -> None:
    cust_only(engine)
    stripe = GuardedStripe(FakeStripe(), held)
    assert drift_worker.check_stale(engine, CONFIGURED, now=NOW, client=stripe).checked == 1  # type: ignore[arg-type]
    checked(stripe)


def test_processing_pending_events(engine: Engine, held: HeldConnections) -> None:
    tenant = cust_only(engine)
    with engine.begin() as conn:
        factories.stripe_event(
            conn,
            {"id": "evt_pending", "type": "customer.updated", "created": int(NOW.timestamp())},
            customer_id=CUSTOMER,
        )
    stripe = GuardedStripe(FakeStripe(), held)
    result = processing.process_pending(engine, stripe, CUSTOMER, now=NOW)  # type: ignore[arg-type]
    assert result is not None and (result.tenant_id, result.processed_events) == (tenant.id, 1)
    checked(stripe)


def test_the_poll_command(
    engine: Engine, held: HeldConnections, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    cust_only(engine)
    stripe = GuardedStripe(FakeStripe(), held)
    monkeypatch.setattr("console.cli.stripe_cli.client_from_settings", lambda settings: stripe)
    code, out, err = run_cli_captured(
        ["--database-url", url_of(engine), "stripe", "poll"], monkeypatch, capsys, STRIPE_API_KEY="sk_test_x"
    )
    assert code == 0, err
    assert "1 customers with new events: 1 processed" in out
    assert "events" in stripe.calls and "list_events" in stripe.calls
    checked(stripe)


def test_archive_replay(engine: Engine, held: HeldConnections) -> None:
    tenant = cust_only(engine)
    archived(engine, archived_created("evt_archive_one", NOW - timedelta(days=45)), NOW - timedelta(days=45))
    stripe = GuardedStripe(FakeStripe(), held)
    assert archive.replay_archive(engine, CONFIGURED, tenant.id, now=NOW, client=stripe).billing_events_appended == 1  # type: ignore[arg-type]
    checked(stripe)


class ChangesMeanwhile(FakeStripe):
    """Stripe moves the customer to Premium while this sync reads it: another
    sync applies Premium before this one gets the tenant's lock."""

    def __init__(self, engine: Engine, tenant_id: int) -> None:
        super().__init__()
        self._other = threading.Thread(
            target=lambda: sync.sync_tenant(
                engine, CONFIGURED, tenant_id, now=NOW, client=FakeStripe(plan=SubscriptionPlan.Premium)
            )
        )
        self._changed = False

    def payment_transactions(self, customer_id, catalog):  # type: ignore[no-untyped-def]
        answer = super().payment_transactions(customer_id, catalog)
        if not self._changed:
            self._changed = True
            self._other.start()
            self._other.join(10)  # the other sync must not wait for this one: nothing is held
            assert not self._other.is_alive(), "the other sync waited for a lock held while Stripe was read"
            self.plan = SubscriptionPlan.Premium
        return answer


def test_a_sync_whose_answers_went_stale_while_it_read_stripe_reads_again(engine: Engine) -> None:
    tenant = cust_only(engine)
    stripe = ChangesMeanwhile(engine, tenant.id)
    result = sync.sync_tenant(engine, CONFIGURED, tenant.id, now=NOW, client=stripe)
    assert len(stripe.list_calls) == 2  # read again after the other sync wrote the subscription
    with engine.connect() as conn:
        row = conn.execute(
            select(Subscription.plan, Subscription.current_price_amount).where(
                Subscription.id == tenant.subscription_id
            )
        ).one()
        events = (
            conn.execute(select(BillingEvent.stripe_event_id).where(BillingEvent.tenant_id == tenant.id))
            .scalars()
            .all()
        )
        stored = conn.execute(select(StripeEvent.id)).scalars().all()
    assert tuple(row) == ("Premium", Decimal("299.00"))  # never overwritten with the older Standard answer
    assert result.billing_events_appended == 0 and len(events) == len(set(events)) == 3
    assert len(stored) == len(set(stored))
