"""Appending to the ledger: both idempotency layers, subscribed_since, the seed."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import Connection, select, text

from db.models import BillingEvent, Subscription
from stripe_sync import ledger
from stripe_sync.replayer import replay
from tests import factories
from tests.factories import NOW
from tests.stripe_sync.stripe_events import catalog, recorded


def history_rows(tenant: factories.TenantRef):
    events = [
        recorded("customer.created"),
        recorded("customer.subscription.created"),
        recorded("customer.subscription.updated.upgrade"),
        recorded("customer.subscription.updated.cancel"),
    ]
    return replay(events, tenant_id=tenant.id, subscription_id=tenant.subscription_id, catalog=catalog()).rows


def stored(conn: Connection, subscription_id: str) -> list[tuple[str, str]]:
    return list(
        conn.execute(
            select(BillingEvent.stripe_event_id, BillingEvent.event_type)
            .where(BillingEvent.subscription_id == subscription_id)
            .order_by(BillingEvent.occurred_at)
        )
    )


def test_appending_twice_stores_each_event_once(conn: Connection) -> None:
    tenant = factories.tenant(conn, plan="Premium", subscribed_since=None)
    rows = history_rows(tenant)
    assert ledger.append(conn, rows, created_at=NOW) == 4
    assert ledger.append(conn, rows, created_at=NOW) == 0
    assert ledger.append(conn, list(reversed(rows)) + rows, created_at=NOW) == 0
    assert [event_type for _, event_type in stored(conn, tenant.subscription_id)] == [
        "BillingInfoAdded",
        "SubscriptionCreated",
        "SubscriptionUpgraded",
        "SubscriptionCancelled",
    ]
    ids = set(
        conn.execute(select(BillingEvent.id).where(BillingEvent.subscription_id == tenant.subscription_id)).scalars()
    )
    assert ids == {row.id for row in rows}  # the deterministic ids are what is stored


def test_a_recorded_stripe_event_is_skipped_even_when_it_classifies_differently(conn: Connection) -> None:
    tenant = factories.tenant(conn, plan="Premium")
    rows = history_rows(tenant)
    ledger.append(conn, rows[:2], created_at=NOW)
    # The same Stripe event replayed from another state: another type, another id.
    other = replace(rows[1], id="bilev_OTHERPATH0000000000000000", event_type=rows[2].event_type)
    assert ledger.append(conn, [other], created_at=NOW) == 0
    assert len(stored(conn, tenant.subscription_id)) == 2


def test_the_database_backstop_skips_a_conflict_the_check_did_not_see(conn: Connection) -> None:
    """A concurrent writer recorded the event (here under another subscription
    id, so the application check cannot see it): the insert skips, no error."""
    tenant = factories.tenant(conn, plan="Standard")
    [created] = [row for row in history_rows(tenant) if row.event_type == "SubscriptionCreated"]
    factories.billing_event(
        conn,
        factories.TenantRef(tenant.id, "sub_elsewhere"),
        "SubscriptionCreated",
        occurred_at=created.occurred_at,
        stripe_event_id=created.stripe_event_id,
        new_amount="1.00",
        previous_amount="0",
    )
    assert ledger.append(conn, [created], created_at=NOW) == 0
    factories.billing_event(conn, tenant, "NoOp", occurred_at=NOW, stripe_event_id="evt_noop")
    taken = conn.execute(select(BillingEvent.id).where(BillingEvent.stripe_event_id == "evt_noop")).scalar_one()
    clash = replace(created, id=taken)  # same primary key, another Stripe event
    assert ledger.append(conn, [clash], created_at=NOW) == 0


def test_subscription_created_moves_subscribed_since_earlier_only(conn: Connection) -> None:
    tenant = factories.tenant(conn, plan="Standard", subscribed_since=None)
    rows = history_rows(tenant)
    created = next(row for row in rows if row.event_type == "SubscriptionCreated")
    ledger.append(conn, rows, created_at=NOW)

    def since() -> datetime:
        return conn.execute(
            select(Subscription.subscribed_since).where(Subscription.id == tenant.subscription_id)
        ).scalar_one()

    assert since() == created.occurred_at
    earlier = replace(
        created,
        stripe_event_id="evt_earlier",
        id="bilev_EARLIER",
        occurred_at=created.occurred_at - timedelta(days=200),
    )
    later = replace(
        created, stripe_event_id="evt_later", id="bilev_LATER", occurred_at=created.occurred_at + timedelta(days=200)
    )
    ledger.append(conn, [earlier], created_at=NOW)
    ledger.append(conn, [later], created_at=NOW)
    assert since() == earlier.occurred_at


def test_a_stripe_state_update_alone_does_not_set_subscribed_since(conn: Connection) -> None:
    tenant = factories.tenant(conn, plan="Standard", subscribed_since=None)
    ledger.append(
        conn, [row for row in history_rows(tenant) if row.event_type != "SubscriptionCreated"], created_at=NOW
    )
    assert (
        conn.execute(
            select(Subscription.subscribed_since).where(Subscription.id == tenant.subscription_id)
        ).scalar_one()
        is None
    )


def test_the_seed_is_the_last_event_in_replay_order(conn: Connection) -> None:
    tenant = factories.tenant(conn, plan="Standard")
    at = NOW - timedelta(days=1)
    factories.billing_event(
        conn,
        tenant,
        "SubscriptionCreated",
        occurred_at=at - timedelta(days=5),
        stripe_event_id="evt_0",
        new_amount="149",
        previous_amount="0",
    )
    factories.billing_event(
        conn, tenant, "BillingInfoUpdated", occurred_at=at, stripe_event_id="evt_B", committed_mrr="149"
    )
    factories.billing_event(
        conn,
        tenant,
        "SubscriptionCancelled",
        occurred_at=at,
        stripe_event_id="evt_a",
        new_amount="0",
        previous_amount="149",
    )
    latest = ledger.latest_event(conn, tenant.subscription_id)
    assert latest is not None
    assert (latest.stripe_event_id, latest.committed_mrr) == ("evt_a", Decimal("0.00"))
    assert ledger.count_events(conn, tenant.subscription_id) == 3
    assert ledger.latest_event(conn, "sub_without_events") is None


def test_rows_of_soft_deleted_tenants_stay_in_the_ledger(conn: Connection) -> None:
    tenant = factories.tenant(conn, name="Churned Co", plan="Premium", created_at=NOW - timedelta(days=30))
    factories.billing_event(
        conn,
        tenant,
        "SubscriptionCreated",
        occurred_at=NOW - timedelta(days=30),
        new_amount="99",
        previous_amount="0",
        to_plan="Premium",
    )
    conn.execute(text("UPDATE tenants SET deleted_at = :now WHERE id = :id"), {"now": NOW, "id": tenant.id})
    assert ledger.count_events(conn, tenant.subscription_id) == 1
    assert ledger.recorded_stripe_event_ids(conn, tenant.subscription_id) != set()


def test_the_replay_seed_is_read_back_from_the_ledger(conn: Connection) -> None:
    tenant = factories.tenant(conn, plan="Premium")
    day = NOW - timedelta(days=20)
    factories.billing_event(
        conn,
        tenant,
        "SubscriptionCreated",
        occurred_at=day,
        stripe_event_id="evt_1",
        previous_amount="0",
        new_amount="149",
        to_plan="Standard",
    )
    factories.billing_event(
        conn,
        tenant,
        "SubscriptionCancelled",
        occurred_at=day + timedelta(days=2),
        stripe_event_id="evt_2",
        previous_amount="149",
        new_amount="0",
        to_plan="Standard",
    )
    factories.billing_event(
        conn,
        tenant,
        "SubscriptionUpgraded",
        occurred_at=day + timedelta(days=3),
        stripe_event_id="evt_3",
        previous_amount="0",
        new_amount="0",
        from_plan="Standard",
        to_plan="Premium",
    )
    factories.billing_event(
        conn,
        tenant,
        "PaymentRefunded",
        occurred_at=day + timedelta(days=4),
        stripe_event_id="evt_4",
        new_amount="0",
        committed_mrr="0",
        to_plan="Premium",
    )
    state, latest = ledger.replay_seed(
        conn,
        tenant.subscription_id,
        live_plan="Standard",
        live_price=Decimal("149.00"),
        live_cancel_at_period_end=False,
        live_scheduled_plan=None,
        catalog=catalog(premium="299.00"),
    )
    assert latest is not None and latest.stripe_event_id == "evt_4"
    assert (state.plan, state.cancel_at_period_end, state.committed_mrr) == ("Premium", True, Decimal("0.00"))
    # Upgraded while cancelling records no price: the catalog's Premium price.
    assert (state.plan_price, state.plan_since, state.cancelled_at) == (
        Decimal("299.00"),
        day + timedelta(days=3),
        day + timedelta(days=2),
    )
    empty, none = ledger.replay_seed(
        conn,
        "sub_empty",
        live_plan="Standard",
        live_price=Decimal("149.00"),
        live_cancel_at_period_end=True,
        live_scheduled_plan="Basis",
    )
    assert none is None and (empty.plan, empty.plan_price, empty.cancel_at_period_end, empty.committed_mrr) == (
        "Standard",
        Decimal("149.00"),
        True,
        0,
    )


def test_a_large_batch_goes_through_copy_with_both_idempotency_layers(conn: Connection) -> None:
    tenants = [factories.tenant(conn, plan="Standard", subscribed_since=None) for _ in range(3)]
    rows = []
    for tenant in tenants:
        events = [recorded("customer.subscription.created", id=f"evt_big_{tenant.id}_created")]
        events += [
            recorded("invoice.payment_succeeded", id=f"evt_big_{tenant.id}_{n:03d}", created=1771149650 + n)
            for n in range(200)
        ]
        rows += replay(events, tenant_id=tenant.id, subscription_id=tenant.subscription_id, catalog=catalog()).rows
    assert len(rows) >= ledger.COPY_THRESHOLD
    ledger.append(conn, rows[:10], created_at=NOW)  # some already recorded
    assert ledger.append(conn, rows + rows[:50], created_at=NOW) == len(rows) - 10
    assert ledger.append(conn, rows, created_at=NOW) == 0
    for tenant in tenants:
        assert ledger.count_events(conn, tenant.subscription_id) == 201
        since = conn.execute(
            select(Subscription.subscribed_since).where(Subscription.id == tenant.subscription_id)
        ).scalar_one()
        assert since == next(
            r.occurred_at
            for r in rows
            if r.subscription_id == tenant.subscription_id and r.event_type == "SubscriptionCreated"
        )
