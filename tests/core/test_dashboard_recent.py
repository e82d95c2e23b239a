"""Plan distribution and the recent cards (docs/rules.md R49, R75, R76, R84): one
slice per plan and the paid, trial, canceled and free split; the newest paid
signups with their owner; recent billing events with the MRR after; recent
payments and logins; the cards' limits."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Connection

from core.dashboard import plan_distribution, recent_billing_events, recent_logins, recent_payments, recent_signups
from core.dashboard.plans import share
from db.enums import SubscriptionPlan
from tests import factories as f
from tests.factories import NOW

D = Decimal


# --- Plan distribution -----------------------------------------------------


def test_one_slice_per_plan(conn: Connection) -> None:
    f.original_seed_tenant(conn)
    f.tenant(conn, name="Standard Inc", plan="Standard")
    f.tenant(conn, name="Premium Ltd", plan="Premium")

    result = plan_distribution(conn)

    assert result.total_tenants == 3
    assert [(s.plan, s.count, s.percentage) for s in result.distribution] == [
        (SubscriptionPlan.Basis, 1, D("33.3")),
        (SubscriptionPlan.Standard, 1, D("33.3")),
        (SubscriptionPlan.Premium, 1, D("33.3")),
    ]


def test_every_plan_is_listed_and_soft_deleted_tenants_are_not(conn: Connection) -> None:
    f.original_seed_tenant(conn)
    f.tenant(conn, name="Active Standard", plan="Standard")
    f.tenant(conn, name="Churned Premium", plan="Premium", deleted_at=NOW)

    result = plan_distribution(conn)

    assert result.total_tenants == 2
    assert [(s.count, s.percentage) for s in result.distribution] == [(1, D("50.0")), (1, D("50.0")), (0, D("0.0"))]


def test_paid_trial_canceled_free_split(conn: Connection) -> None:
    f.tenant(conn, plan="Standard")
    f.tenant(conn, plan="Premium", state="Suspended")
    f.tenant(conn, plan="Basis")  # trial (and free)
    f.tenant(conn, plan="Basis", state="Suspended")  # free, not trial
    f.tenant(conn, plan="Basis", payment_transactions=[f.payment_transaction(status="Refunded")])  # canceled

    result = plan_distribution(conn)

    assert (result.paid_tenants, result.trial_tenants, result.canceled_tenants, result.free_tenants) == (2, 1, 1, 2)
    assert result.paid_tenants + result.canceled_tenants + result.free_tenants == result.total_tenants


def test_percentages_round_half_to_even_and_are_zero_without_tenants(conn: Connection) -> None:
    assert share(1, 16) == D("6.2")  # 6.25
    assert share(3, 16) == D("18.8")  # 18.75
    result = plan_distribution(conn)
    assert result.total_tenants == 0
    assert all(s.percentage == 0 for s in result.distribution)


# --- Recent signups ----------------------------------------------------------


def test_recent_signups_are_the_newest_paid_subscriptions(conn: Connection) -> None:
    newest = NOW + timedelta(days=365)
    for name, since in (
        ("Oldest", newest - timedelta(days=2)),
        ("Newest", newest),
        ("Middle", newest - timedelta(days=1)),
    ):
        f.tenant(conn, name=name, plan="Standard", subscribed_since=since)
    f.tenant(conn, name="Free", plan="Basis", created_at=NOW)
    f.tenant(conn, name="Deleted", plan="Premium", subscribed_since=newest, deleted_at=NOW)

    names = [item.name for item in recent_signups(conn, limit=10).items]

    assert names == ["Newest", "Middle", "Oldest"]


def test_recent_signups_show_plan_and_first_owner(conn: Connection) -> None:
    acme = f.tenant(conn, name="Acme", plan="Premium", subscribed_since=NOW - timedelta(days=1))
    f.user(conn, acme.id, email="late@acme.com", role="Owner", created_at=NOW - timedelta(days=1))
    f.user(conn, acme.id, email="first@acme.com", role="Owner", created_at=NOW - timedelta(days=5))
    f.user(conn, acme.id, email="member@acme.com", role="Member", created_at=NOW - timedelta(days=9))
    f.tenant(conn, name="Ownerless", plan="Standard", subscribed_since=NOW - timedelta(days=2))

    items = recent_signups(conn).items

    assert (items[0].tenant_id, items[0].plan, items[0].owner.email) == (
        str(acme.id),
        SubscriptionPlan.Premium,
        "first@acme.com",
    )
    assert items[1].owner is None


def test_recent_signups_default_to_five(conn: Connection) -> None:
    for day in range(7):
        f.tenant(conn, plan="Standard", subscribed_since=NOW - timedelta(days=day))

    assert len(recent_signups(conn).items) == 5


@pytest.mark.parametrize("limit", [0, 51])
def test_recent_cards_reject_a_limit_out_of_range(conn: Connection, limit: int) -> None:
    for card in (recent_signups, recent_billing_events, recent_payments):
        with pytest.raises(ValueError, match="limit"):
            card(conn, limit=limit)
    with pytest.raises(ValueError, match="limit"):
        recent_logins(conn, NOW, limit=limit)


# --- Recent billing events -----------------------------------------------------


def test_recent_billing_events_newest_first_with_mrr_after(conn: Connection) -> None:
    stripe_co = f.tenant(conn, name="Stripe Co", plan="Premium")
    f.billing_event(
        conn,
        stripe_co,
        "SubscriptionCreated",
        occurred_at=NOW - timedelta(hours=3),
        to_plan="Standard",
        previous_amount="0",
        new_amount="149",
    )
    f.billing_event(
        conn,
        stripe_co,
        "SubscriptionUpgraded",
        occurred_at=NOW - timedelta(hours=1),
        from_plan="Standard",
        to_plan="Premium",
        previous_amount="149",
        new_amount="179",
        amount_delta="30",
    )

    items = recent_billing_events(conn, limit=10).items

    assert len(items) == 2
    first, last = items
    assert (first.type, first.from_plan, first.to_plan, first.amount_delta) == (
        "SubscriptionUpgraded",
        "Standard",
        "Premium",
        D("30"),
    )
    assert first.committed_mrr == D("179")
    assert last.type == "SubscriptionCreated"
    assert {item.tenant_name for item in items} == {"Stripe Co"}
    assert first.occurred_at > last.occurred_at


def test_recent_billing_events_honour_the_limit(conn: Connection) -> None:
    acme = f.tenant(conn)
    for hours, event_type in ((5, "SubscriptionCreated"), (3, "SubscriptionRenewed"), (1, "SubscriptionUpgraded")):
        f.billing_event(conn, acme, event_type, occurred_at=NOW - timedelta(hours=hours), new_amount="149")

    assert [item.type for item in recent_billing_events(conn, limit=2).items] == [
        "SubscriptionUpgraded",
        "SubscriptionRenewed",
    ]


def test_recent_billing_events_skip_noop_and_soft_deleted_tenants(conn: Connection) -> None:
    live = f.tenant(conn, name="Live")
    gone = f.tenant(conn, name="Gone", deleted_at=NOW)
    f.billing_event(conn, live, "SubscriptionCreated", occurred_at=NOW - timedelta(hours=5), new_amount="149")
    f.billing_event(conn, live, "NoOp", occurred_at=NOW - timedelta(hours=2))
    f.billing_event(conn, gone, "SubscriptionCreated", occurred_at=NOW - timedelta(hours=1), new_amount="149")

    items = recent_billing_events(conn, limit=1).items

    assert [(item.tenant_name, item.type) for item in items] == [("Live", "SubscriptionCreated")]


# --- Recent payments and logins --------------------------------------------------


def test_recent_payments_are_raw_transactions_newest_first(conn: Connection) -> None:
    f.tenant(
        conn,
        name="Acme",
        plan="Standard",
        payment_transactions=[
            f.payment_transaction(date=NOW - timedelta(days=3), status="Refunded", RefundedAt=NOW.isoformat()),
            f.payment_transaction(date=NOW - timedelta(days=1), plan="Premium"),
        ],
    )
    f.tenant(conn, name="Gone", deleted_at=NOW, payment_transactions=[f.payment_transaction(date=NOW)])
    f.tenant(
        conn, name="Bravo", payment_transactions=[f.payment_transaction(date=NOW - timedelta(days=2), status="Failed")]
    )

    items = recent_payments(conn).items

    assert [(item.tenant_name, item.status) for item in items] == [
        ("Acme", "Succeeded"),
        ("Bravo", "Failed"),
        ("Acme", "Refunded"),
    ]
    assert items[0].plan == SubscriptionPlan.Premium
    assert items[0].amount == D("186.25")  # gross, what the card paid
    assert items[0].date == NOW - timedelta(days=1)


def test_recent_logins_resolve_the_first_live_user_with_the_email(conn: Connection) -> None:
    acme = f.tenant(conn, name="Acme")
    bravo = f.tenant(conn, name="Bravo")
    ada_ids = {
        f.user(conn, acme.id, email="ada@example.com"): "Acme",
        f.user(conn, bravo.id, email="ada@example.com"): "Bravo",
    }
    f.user(conn, bravo.id, email="ada@example.com", deleted_at=NOW)
    f.email_login(conn, "ada@example.com", created_at=NOW - timedelta(hours=2))
    f.email_login(conn, "ada@example.com", created_at=NOW - timedelta(hours=1), completed=False)
    f.external_login(conn, "nobody@example.com", created_at=NOW - timedelta(hours=3))
    f.external_login(conn, "ada@example.com", created_at=NOW - timedelta(hours=4), result="InvalidState")
    f.email_login(conn, "ada@example.com", created_at=NOW - timedelta(days=31))

    items = recent_logins(conn, NOW).items

    assert [(item.email, item.method) for item in items] == [
        ("ada@example.com", "OneTimePassword"),
        ("nobody@example.com", "Google"),
    ]
    first_user = min(ada_ids)
    assert (items[0].user_id, items[0].tenant_name) == (first_user, ada_ids[first_user])
    assert (items[1].user_id, items[1].tenant_id) == (None, None)
