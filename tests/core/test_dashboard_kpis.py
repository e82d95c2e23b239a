"""KPI tiles (docs/figures.md#kpi-tiles): tenant classes, users and sessions,
forward blended MRR and its change, total revenue, new accounts and periods
(docs/rules.md R31, R35, R46, R74, R78, R79, R81, R82)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Connection, delete

from core.dashboard import kpis, revenue_trend
from core.dashboard.trends import new_tenants_trend
from core.users import list_users
from db.models import Subscription
from tests import factories as f
from tests.factories import NOW

D = Decimal


def test_counts_tenants_by_class_and_blends_forward_mrr(conn: Connection) -> None:
    f.original_seed_tenant(conn)
    active = f.tenant(
        conn,
        name="Active Inc",
        plan="Standard",
        created_at=NOW - timedelta(days=60),
        current_price_amount=D("49.99"),
        payment_transactions=[f.payment_transaction(amount_excluding_tax="49.99")],
    )
    f.user(conn, active.id)
    trial = f.tenant(conn, name="Trial Co", plan="Basis", created_at=NOW - timedelta(days=2))
    conn.execute(delete(Subscription).where(Subscription.tenant_id == trial.id))
    f.tenant(
        conn,
        name="Canceled Ltd",
        plan="Basis",
        created_at=NOW - timedelta(days=90),
        payment_transactions=[f.payment_transaction()],
    )

    result = kpis(conn, 30, NOW, "DKK")

    assert (result.total_tenants, result.active_tenants, result.trial_tenants, result.canceled_tenants) == (4, 1, 2, 1)
    assert result.blended_monthly_recurring_revenue == D("49.99")
    assert result.currency == "DKK"
    assert result.period == 30


def test_counts_users_sessions_and_new_tenants(conn: Connection) -> None:
    f.original_seed_tenant(conn)
    first = f.tenant(conn, name="First Tenant", created_at=NOW - timedelta(days=10))
    first_user = f.user(conn, first.id, created_at=NOW - timedelta(days=5))
    f.session(conn, first.id, first_user, created_at=NOW - timedelta(hours=3))
    second = f.tenant(
        conn,
        name="Second Tenant",
        plan="Standard",
        created_at=NOW - timedelta(days=40),
        current_price_amount=D("100.00"),
    )
    second_user = f.user(conn, second.id, created_at=NOW - timedelta(days=35))
    f.session(conn, second.id, second_user, created_at=NOW - timedelta(hours=2))
    f.session(conn, second.id, second_user, created_at=NOW - timedelta(hours=1), revoked_at=NOW - timedelta(minutes=30))
    f.session(conn, second.id, second_user, created_at=NOW - timedelta(days=2))

    result = kpis(conn, 30, NOW, "DKK")

    assert result.total_users == 4
    assert result.sessions_started_last_24_hours == 4
    assert result.new_tenants_in_period == 2


def test_mrr_delta_compares_the_reconstructed_mrr_across_the_period(conn: Connection) -> None:
    for name, plan in (("Old Premium", "Premium"), ("Old Standard", "Standard")):
        old = f.tenant(
            conn, name=name, plan=plan, created_at=NOW - timedelta(days=90), current_price_amount=D("100.00")
        )
        f.billing_event(
            conn,
            old,
            "SubscriptionCreated",
            occurred_at=NOW - timedelta(days=90),
            previous_amount="0",
            new_amount="100.00",
        )
    new_paid = f.tenant(
        conn, name="New Paid", plan="Standard", created_at=NOW - timedelta(days=5), current_price_amount=D("49.99")
    )
    f.billing_event(
        conn,
        new_paid,
        "SubscriptionCreated",
        occurred_at=NOW - timedelta(days=5),
        previous_amount="0",
        new_amount="49.99",
    )
    f.tenant(conn, name="Free One", created_at=NOW - timedelta(days=3))
    f.tenant(conn, name="Free Two", created_at=NOW - timedelta(days=2))

    result = kpis(conn, 30, NOW, "DKK")

    assert result.blended_monthly_recurring_revenue == D("249.99")
    assert result.blended_monthly_recurring_revenue_delta_percent == D("25.0")  # 24.995 rounds to 25.0


def test_mrr_delta_is_none_when_the_period_starts_at_zero(conn: Connection) -> None:
    paying = f.tenant(conn, plan="Standard", created_at=NOW - timedelta(days=5))
    f.billing_event(
        conn, paying, "SubscriptionCreated", occurred_at=NOW - timedelta(days=5), previous_amount="0", new_amount="149"
    )

    assert kpis(conn, 30, NOW, "DKK").blended_monthly_recurring_revenue_delta_percent is None


def test_blended_mrr_is_forward_looking(conn: Connection) -> None:
    f.tenant(conn, name="Premium stable", plan="Premium")
    f.tenant(
        conn, name="Premium downgrading", plan="Premium", scheduled_plan="Standard", scheduled_price_amount=D("149.00")
    )
    f.tenant(conn, name="Standard cancelling", plan="Standard", cancel_at_period_end=True)

    assert kpis(conn, 30, NOW, "DKK").blended_monthly_recurring_revenue == D("448.00")


def test_soft_deleted_tenants_leave_the_counts(conn: Connection) -> None:
    f.original_seed_tenant(conn)
    f.tenant(conn, name="Active Inc", plan="Standard")
    f.tenant(conn, name="Deleted Co", deleted_at=NOW - timedelta(days=1))

    assert kpis(conn, 30, NOW, "DKK").total_tenants == 2


def test_soft_deleted_tenants_keep_their_mrr(conn: Connection) -> None:
    f.original_seed_tenant(conn)
    f.tenant(conn, name="Active Inc", plan="Standard", current_price_amount=D("49.99"))
    f.tenant(
        conn, name="Churned Co", plan="Premium", current_price_amount=D("99.00"), deleted_at=NOW - timedelta(days=1)
    )

    result = kpis(conn, 30, NOW, "DKK")

    assert result.blended_monthly_recurring_revenue == D("148.99")
    assert result.total_tenants == 2


def test_new_tenant_delta_is_a_whole_percent_and_none_without_prior(conn: Connection) -> None:
    for days in (1, 2, 3):
        f.tenant(conn, created_at=NOW - timedelta(days=days))
    assert kpis(conn, 7, NOW, None).new_tenants_delta_percent is None

    f.tenant(conn, created_at=NOW - timedelta(days=8))
    f.tenant(conn, created_at=NOW - timedelta(days=9))

    result = kpis(conn, 7, NOW, None)
    assert result.new_tenants_in_period == 3
    assert result.new_tenants_delta_percent == 50


def test_active_users_are_live_users_seen_in_the_period(conn: Connection) -> None:
    acme = f.tenant(conn)
    f.user(conn, acme.id, last_seen_at=NOW - timedelta(days=6))
    f.user(conn, acme.id, last_seen_at=NOW - timedelta(days=8))
    f.user(conn, acme.id, last_seen_at=None)
    f.user(conn, acme.id, last_seen_at=NOW - timedelta(days=1), deleted_at=NOW - timedelta(hours=1))

    result = kpis(conn, 7, NOW, None)

    assert (result.total_users, result.active_users_in_period) == (3, 1)


def test_total_revenue_counts_clean_successes_of_every_account(conn: Connection) -> None:
    clean = f.payment_transaction(amount_excluding_tax="100.00")
    f.tenant(
        conn,
        plan="Standard",
        payment_transactions=[
            clean,
            f.payment_transaction(amount_excluding_tax="50.00", status="Failed"),
            f.payment_transaction(amount_excluding_tax="40.00", CreditNoteUrl="https://cn"),
            f.payment_transaction(amount_excluding_tax="30.00", status="Refunded", RefundedAt=NOW.isoformat()),
        ],
    )
    f.tenant(conn, plan="Basis", payment_transactions=[f.payment_transaction(amount_excluding_tax="20.00")])
    # A paid subscription whose tenant already shows Basis: counted once, not twice.
    odd = f.tenant(conn, plan="Basis", payment_transactions=[f.payment_transaction(amount_excluding_tax="7.00")])
    f.update_subscription(conn, odd.id, plan="Standard")
    # A soft-deleted tenant on Basis: money stays, as in the revenue trend (R46, R78).
    f.tenant(
        conn, plan="Basis", deleted_at=NOW, payment_transactions=[f.payment_transaction(amount_excluding_tax="5.00")]
    )

    assert kpis(conn, 30, NOW, "DKK").total_revenue == D("132.00")


def test_the_revenue_tile_is_the_revenue_trends_last_point(conn: Connection) -> None:
    f.tenant(conn, plan="Premium", payment_transactions=[f.payment_transaction(amount_excluding_tax="299.00")])
    f.tenant(
        conn,
        plan="Basis",
        deleted_at=NOW - timedelta(days=1),
        payment_transactions=[f.payment_transaction(amount_excluding_tax="149.00", date=NOW - timedelta(days=3))],
    )
    f.tenant(
        conn,
        plan="Standard",
        payment_transactions=[
            f.payment_transaction(amount_excluding_tax="49.00", RefundedAt=(NOW - timedelta(days=2)).isoformat())
        ],
    )

    tile = kpis(conn, 30, NOW, "DKK").total_revenue
    trend = revenue_trend(conn, 30, NOW, "DKK")

    assert tile == trend.points[-1].revenue == D("448.00")


def test_the_user_figures_are_the_users_lists(conn: Connection) -> None:
    live = f.tenant(conn, name="Live")
    gone = f.tenant(conn, name="Gone", deleted_at=NOW - timedelta(days=1))
    f.user(conn, live.id, last_seen_at=NOW - timedelta(days=1))
    f.user(conn, live.id, last_seen_at=NOW - timedelta(days=20))
    f.user(conn, gone.id, last_seen_at=NOW - timedelta(hours=2))
    f.user(conn, gone.id, last_seen_at=NOW - timedelta(days=40))

    result = kpis(conn, 7, NOW, None)

    assert result.total_users == list_users(conn).total == 2
    assert result.active_users_in_period == 1


def test_new_accounts_are_the_growth_charts_days(conn: Connection) -> None:
    f.tenant(conn, created_at=NOW.replace(hour=0) - timedelta(days=29))  # the window's first UTC day
    # Inside the last 30 x 24 hours, but on the UTC day before the window: prior, as on the chart.
    f.tenant(conn, created_at=NOW - timedelta(days=29, hours=13))
    f.tenant(conn, created_at=NOW - timedelta(days=45))

    result = kpis(conn, 30, NOW, None)
    growth = new_tenants_trend(conn, 30, NOW)

    assert (result.new_tenants_in_period, growth.total, growth.prior_total) == (1, 1, 2)
    assert result.new_tenants_delta_percent == -50


def test_rejects_an_unknown_period(conn: Connection) -> None:
    with pytest.raises(ValueError, match="period"):
        kpis(conn, 14, NOW, None)
