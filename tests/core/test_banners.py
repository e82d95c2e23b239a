"""Data-quality banners (docs/figures.md#banners): the MRR consistency check,
unsynced subscriptions and drift (docs/rules.md R34, R37, R56)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import Connection, text

from core.banners import banners, drift_summary, mrr_consistency, unsynced_summary
from tests import factories as f
from tests.factories import NOW
from tests.query_plans import plan_of

D = Decimal


def created(conn: Connection, tenant: f.TenantRef, amount: str) -> None:
    f.billing_event(
        conn, tenant, "SubscriptionCreated", occurred_at=NOW - timedelta(days=3), previous_amount="0", new_amount=amount
    )


def test_kpi_and_trend_agree_when_the_log_matches(conn: Connection) -> None:
    paid = f.tenant(conn, plan="Standard")
    created(conn, paid, "149")

    result = mrr_consistency(conn, "DKK")

    assert (result.kpi_monthly_recurring_revenue, result.trend_latest_monthly_recurring_revenue) == (D("149"), D("149"))
    assert result.consistent and result.currency == "DKK"


def test_sub_cent_differences_are_snapped_to_the_kpi(conn: Connection) -> None:
    paid = f.tenant(conn, plan="Standard", current_price_amount=D("100.00"))
    created(conn, paid, "100.004")  # stored at two places, like every ledger amount

    result = mrr_consistency(conn, "DKK")

    assert result.trend_latest_monthly_recurring_revenue == D("100.00")
    assert result.consistent


def test_divergence_is_reported_with_both_figures(conn: Connection) -> None:
    cancelling = f.tenant(conn, plan="Standard", cancel_at_period_end=True)
    created(conn, cancelling, "149")

    result = mrr_consistency(conn, "DKK")

    assert (result.kpi_monthly_recurring_revenue, result.trend_latest_monthly_recurring_revenue) == (D("0"), D("149"))
    assert not result.consistent


def test_trend_latest_takes_each_subscriptions_last_row_without_a_day_cut_off(conn: Connection) -> None:
    paid = f.tenant(conn, plan="Premium")
    created(conn, paid, "149")
    f.billing_event(
        conn, paid, "SubscriptionUpgraded", occurred_at=NOW + timedelta(days=2), previous_amount="149", new_amount="299"
    )
    f.billing_event(conn, paid, "NoOp", occurred_at=NOW + timedelta(days=3))

    assert mrr_consistency(conn, "DKK").trend_latest_monthly_recurring_revenue == D("299")


def test_unsynced_counts_priced_subscriptions_without_any_billing_event(conn: Connection) -> None:
    f.original_seed_tenant(conn)  # no price: never counted
    synced = f.tenant(conn, name="Synced", plan="Standard")
    created(conn, synced, "149")
    f.tenant(conn, name="Waiting", plan="Premium")
    noop_only = f.tenant(conn, name="Audited", plan="Standard")
    f.billing_event(conn, noop_only, "NoOp", occurred_at=NOW)

    result = unsynced_summary(conn)

    assert result.unsynced_subscriptions_count == 1
    assert [account.name for account in result.accounts] == ["Waiting"]


def test_drift_counts_flagged_subscriptions_and_names_live_accounts(conn: Connection) -> None:
    f.tenant(conn, name="Drifting", plan="Standard", has_drift_detected=True, drift_checked_at=NOW)
    f.tenant(conn, name="Gone", plan="Standard", has_drift_detected=True, deleted_at=NOW)
    f.tenant(conn, name="Clean", plan="Standard")

    result = drift_summary(conn)

    assert result.subscriptions_with_drift_count == 2
    assert [account.name for account in result.accounts] == ["Drifting"]


def test_banners_bundle_all_three(conn: Connection) -> None:
    f.tenant(conn, name="Waiting", plan="Standard", has_drift_detected=True)

    result = banners(conn, "DKK")

    assert result.drift.subscriptions_with_drift_count == 1
    assert result.unsynced.unsynced_subscriptions_count == 1
    assert (result.mrr_consistency.kpi_monthly_recurring_revenue, result.mrr_consistency.consistent) == (
        D("149"),
        False,
    )


def test_the_drift_sample_walks_the_drifted_subscriptions_in_order_and_stops(
    conn: Connection, statements: list[tuple[str, object]]
) -> None:
    """Five names from an index walk, not a sort of every drifted subscription
    (docs/rules.md R56, migration 0016)."""
    for day in range(8):
        f.tenant(
            conn,
            name=f"Drift {day}",
            plan="Standard",
            has_drift_detected=True,
            drift_checked_at=NOW - timedelta(days=day),
        )
    statements.clear()
    names = [account.name for account in drift_summary(conn).accounts]
    assert names == [f"Drift {day}" for day in range(5)]
    sample = next((sql, params) for sql, params in statements if "LIMIT" in sql)
    conn.execute(text("SET LOCAL enable_seqscan = off"))
    conn.execute(text("SET LOCAL enable_sort = off"))
    conn.execute(text("SET LOCAL enable_incremental_sort = off"))
    plan = plan_of(conn, *sample)
    assert "ix_subscriptions_drifted_by_check" in plan and "Sort" not in plan, plan
