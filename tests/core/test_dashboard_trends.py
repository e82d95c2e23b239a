"""MRR trend, revenue trend, account growth and login trends (docs/figures.md#charts;
docs/rules.md R47, R79, R80, R89), plus the MRR reconstruction's edge rules (docs/rules.md R33)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Connection

from core.dashboard import daily_mrr, latest_mrr, mrr_trend, revenue_trend, trends
from tests import factories as f
from tests.factories import NOW

D = Decimal
TODAY = NOW.date()


def at(days_ago: int, hour: int = 9, minute: int = 0, second: int = 0) -> datetime:
    day = TODAY - timedelta(days=days_ago)
    return datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=UTC)


def mrr_values(points: tuple) -> list[Decimal]:
    return [point.monthly_recurring_revenue for point in points]


# --- MRR trend -------------------------------------------------------------


def test_mrr_trend_reconstructs_each_day_from_the_event_log(conn: Connection) -> None:
    paying = f.tenant(conn, name="Paying Co", plan="Standard", current_price_amount=D("49.99"))
    f.billing_event(
        conn,
        paying,
        "SubscriptionCreated",
        occurred_at=NOW - timedelta(days=5),
        previous_amount="0",
        new_amount="49.99",
    )

    trend = mrr_trend(conn, 7, NOW, "DKK")

    assert (trend.period, trend.currency) == (7, "DKK")
    assert [p.date for p in trend.points] == [TODAY - timedelta(days=6 - i) for i in range(7)]
    assert mrr_values(trend.points) == [D("0")] + [D("49.99")] * 6
    assert mrr_values(trend.prior_points) == [D("0")] * 7
    assert [p.date for p in trend.prior_points] == [TODAY - timedelta(days=13 - i) for i in range(7)]


def test_mrr_trend_keeps_soft_deleted_tenants_in_the_history(conn: Connection) -> None:
    paying = f.tenant(conn, plan="Standard", deleted_at=NOW)
    f.billing_event(
        conn,
        paying,
        "SubscriptionCreated",
        occurred_at=NOW - timedelta(days=5),
        previous_amount="0",
        new_amount="49.99",
    )

    assert mrr_values(mrr_trend(conn, 7, NOW, "DKK").points).count(D("49.99")) == 6


def test_mrr_day_ends_at_midnight_utc(conn: Connection) -> None:
    late = f.tenant(conn, plan="Standard")
    f.billing_event(
        conn, late, "SubscriptionCreated", occurred_at=at(3, 23, 59, 59), previous_amount="0", new_amount="100"
    )
    midnight = f.tenant(conn, plan="Standard")
    f.billing_event(
        conn, midnight, "SubscriptionCreated", occurred_at=at(2, 0, 0, 0), previous_amount="0", new_amount="10"
    )

    points = daily_mrr(conn, TODAY - timedelta(days=4), TODAY - timedelta(days=2))

    assert mrr_values(tuple(points)) == [D("0"), D("100"), D("110")]


def test_mrr_follows_upgrades_cancellations_and_null_amounts(conn: Connection) -> None:
    sub = f.tenant(conn, plan="Premium")
    f.billing_event(conn, sub, "SubscriptionCreated", occurred_at=at(20), previous_amount="0", new_amount="149")
    f.billing_event(conn, sub, "SubscriptionUpgraded", occurred_at=at(4), previous_amount="149", new_amount="299")
    f.billing_event(conn, sub, "SubscriptionRenewed", occurred_at=at(3), new_amount=None, amount_delta="0")
    f.billing_event(conn, sub, "PaymentMethodUpdated", occurred_at=at(2), amount_delta=None, new_amount="999")
    f.billing_event(
        conn, sub, "SubscriptionCancelled", occurred_at=at(1), previous_amount="0", new_amount="0", amount_delta="-299"
    )

    points = mrr_values(mrr_trend(conn, 7, NOW, "DKK").points)

    # A row with a null new amount counts 0 (no fall-back to the row before);
    # rows without an amount delta do not move MRR at all.
    assert points == [D("149"), D("149"), D("299"), D("0"), D("0"), D("0"), D("0")]


def test_same_instant_rows_follow_the_ordinal_stripe_event_id(conn: Connection) -> None:
    sub = f.tenant(conn, plan="Standard")
    instant = at(1, 10)
    # Ordinally "evt_B" < "evt_a" (a case-insensitive order would say the opposite).
    f.billing_event(
        conn,
        sub,
        "SubscriptionCreated",
        occurred_at=instant,
        stripe_event_id="evt_B",
        previous_amount="0",
        new_amount="149",
    )
    f.billing_event(
        conn,
        sub,
        "SubscriptionCancelled",
        occurred_at=instant,
        stripe_event_id="evt_a",
        previous_amount="149",
        new_amount="0",
    )

    assert mrr_values(tuple(daily_mrr(conn, TODAY, TODAY))) == [D("0")]
    assert latest_mrr(conn) == D("0")


def test_daily_mrr_matches_a_day_by_day_replay(conn: Connection) -> None:
    rng = random.Random(7)
    rows: list[tuple[str, datetime, str, Decimal | None]] = []
    for index in range(6):
        sub = f.tenant(conn, plan="Standard")
        for event in range(rng.randint(1, 8)):
            occurred = at(rng.randint(0, 40), rng.randint(0, 23), rng.randint(0, 59))
            amount = rng.choice([None, D("0"), D("49.99"), D("149.00"), D("299.00")])
            event_id = f"evt_{index}_{event:02d}"
            f.billing_event(
                conn,
                sub,
                "SubscriptionRenewed",
                occurred_at=occurred,
                stripe_event_id=event_id,
                new_amount=amount,
                amount_delta="1",
            )
            rows.append((sub.subscription_id, occurred, event_id, amount))
    first, last = TODAY - timedelta(days=30), TODAY

    def replay(day_end: datetime) -> Decimal:
        latest: dict[str, tuple[datetime, str, Decimal | None]] = {}
        for subscription_id, occurred, event_id, amount in rows:
            if occurred < day_end and (
                subscription_id not in latest or (occurred, event_id) > latest[subscription_id][:2]
            ):
                latest[subscription_id] = (occurred, event_id, amount)
        return sum((amount or D(0) for _, _, amount in latest.values()), D(0))

    expected = [replay(datetime.combine(first + timedelta(days=i + 1), datetime.min.time(), UTC)) for i in range(31)]
    assert mrr_values(tuple(daily_mrr(conn, first, last))) == expected


# --- Revenue trend (all Period=Last7Days, amounts ex-VAT 149) --------------


def revenue_values(points: tuple) -> list[Decimal]:
    return [point.revenue for point in points]


def with_transactions(conn: Connection, *transactions: dict) -> None:
    f.tenant(conn, plan="Standard", payment_transactions=list(transactions))


def test_revenue_accumulates_successful_payments(conn: Connection) -> None:
    with_transactions(conn, f.payment_transaction(date=at(3)), f.payment_transaction(date=at(0)))

    trend = revenue_trend(conn, 7, NOW, "DKK")

    assert (trend.period, trend.currency, len(trend.points)) == (7, "DKK", 7)
    assert revenue_values(trend.points) == [D(v) for v in (0, 0, 0, 149, 149, 149, 298)]


def test_a_refund_takes_the_revenue_back_on_its_own_day(conn: Connection) -> None:
    with_transactions(conn, f.payment_transaction(status="Refunded", date=at(5), RefundedAt=at(1, 15).isoformat()))

    assert revenue_values(revenue_trend(conn, 7, NOW, "DKK").points) == [D(v) for v in (0, 149, 149, 149, 149, 0, 0)]


def test_a_credit_note_without_dates_cancels_on_the_payment_day(conn: Connection) -> None:
    with_transactions(conn, f.payment_transaction(date=at(3), CreditNoteUrl="https://cn"))

    assert revenue_values(revenue_trend(conn, 7, NOW, "DKK").points) == [D(0)] * 7


def test_a_credit_note_falls_back_to_the_refund_date(conn: Connection) -> None:
    with_transactions(
        conn,
        f.payment_transaction(date=at(5)),
        f.payment_transaction(date=at(5), CreditNoteUrl="https://cn", RefundedAt=at(1).isoformat()),
    )

    assert revenue_values(revenue_trend(conn, 7, NOW, "DKK").points) == [
        D(v) for v in (0, 298, 298, 298, 298, 149, 149)
    ]


def test_failed_payments_add_nothing(conn: Connection) -> None:
    with_transactions(conn, f.payment_transaction(date=at(0)), f.payment_transaction(date=at(0), status="Failed"))

    assert revenue_trend(conn, 7, NOW, "DKK").points[-1].revenue == D(149)


def test_revenue_points_are_all_time_running_totals(conn: Connection) -> None:
    with_transactions(conn, f.payment_transaction(date=at(10)), f.payment_transaction(date=at(2)))

    trend = revenue_trend(conn, 7, NOW, "DKK")

    assert revenue_values(trend.points)[0] == D(149)
    assert revenue_values(trend.points)[3] == D(149)
    assert revenue_values(trend.points)[4] == D(298)
    assert revenue_values(trend.points)[-1] == D(298)
    assert revenue_values(trend.prior_points)[0] == D(0)
    assert revenue_values(trend.prior_points)[-1] == D(149)


def test_an_old_payment_carries_into_both_windows(conn: Connection) -> None:
    with_transactions(conn, f.payment_transaction(date=at(20)))

    trend = revenue_trend(conn, 7, NOW, "DKK")

    assert revenue_values(trend.points) == [D(149)] * 7
    assert revenue_values(trend.prior_points) == [D(149)] * 7


def test_no_transactions_give_zero_points(conn: Connection) -> None:
    f.original_seed_tenant(conn)

    trend = revenue_trend(conn, 7, NOW, "DKK")

    assert revenue_values(trend.points) == [D(0)] * 7
    assert revenue_values(trend.prior_points) == [D(0)] * 7


# --- Account growth, new users, login activity ----------------------------


def test_new_tenants_per_day(conn: Connection) -> None:
    f.original_seed_tenant(conn)
    for days in (0, 1, 3, 20):
        f.tenant(conn, created_at=NOW - timedelta(days=days))
    f.tenant(conn, created_at=NOW - timedelta(days=1), deleted_at=NOW)

    result = trends(conn, 7, NOW).new_tenants

    values = [p.value for p in result.points]
    assert (result.metric, result.period, len(values), sum(values)) == ("NewTenants", 7, 7, 4)
    assert (values[-1], values[-2], values[-4]) == (2, 1, 1)
    assert all(p.date < result.points[0].date and p.value == 0 for p in result.prior_points)


def test_new_users_per_day(conn: Connection) -> None:
    f.original_seed_tenant(conn)
    acme = f.tenant(conn)
    for days in (0, 10, 45):
        f.user(conn, acme.id, created_at=NOW - timedelta(days=days))

    result = trends(conn, 30, NOW).new_users

    values = [p.value for p in result.points]
    assert (len(values), sum(values)) == (30, 4)
    assert values[-11] == 1
    assert sum(p.value for p in result.prior_points) == 1


def test_login_activity_counts_successes_failures_and_distinct_users(conn: Connection) -> None:
    f.email_login(conn, "ada@example.com", created_at=NOW - timedelta(minutes=5))
    f.email_login(conn, "ada@example.com", created_at=NOW - timedelta(days=2))
    f.email_login(conn, "bob@example.com", created_at=NOW - timedelta(minutes=4), completed=False)
    f.email_login(conn, "eve@example.com", created_at=NOW - timedelta(minutes=3), completed=False, retry_count=3)
    f.external_login(conn, "ada@example.com", created_at=NOW - timedelta(minutes=2))
    f.external_login(conn, "cyd@example.com", created_at=NOW - timedelta(days=2))
    f.external_login(conn, None, created_at=NOW - timedelta(minutes=1), result="IdentityProviderError")
    f.external_login(conn, None, created_at=NOW - timedelta(minutes=1), result=None)

    result = trends(conn, 7, NOW).login_activity

    assert (result.metric, sum(p.value for p in result.points)) == ("LoginActivity", 4)
    today, two_days_ago = result.points[-1], result.points[-3]
    assert (today.value, today.failed, today.distinct_users) == (2, 2, 1)
    assert (two_days_ago.value, two_days_ago.failed, two_days_ago.distinct_users) == (2, 0, 2)


def test_login_activity_without_logins_is_all_zero(conn: Connection) -> None:
    result = trends(conn, 90, NOW).login_activity

    assert len(result.points) == 90
    assert all((p.value, p.failed, p.distinct_users) == (0, 0, 0) for p in result.points + result.prior_points)


@pytest.mark.parametrize("period", [0, 14, 31])
def test_trends_reject_unknown_periods(conn: Connection, period: int) -> None:
    with pytest.raises(ValueError):
        trends(conn, period, NOW)
