"""MRR movements (docs/rules.md R150, docs/figures.md#mrr-movements): one case
of each movement, the period's edges, and a property over random subscription
histories checked against a replay in Python."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection

from core.dashboard import mrr_trend
from core.dashboard.movements import MrrMovements, mrr_movements
from tests import factories as f
from tests.factories import NOW

D = Decimal
TODAY = NOW.date()
# The 7-day period ending NOW: 2026-05-02 00:00 UTC up to 2026-05-09 00:00 UTC.
PERIOD_START = datetime(2026, 5, 2, tzinfo=UTC)
PERIOD_END = datetime(2026, 5, 9, tzinfo=UTC)


def at(days_ago: int, hour: int = 9) -> datetime:
    day = TODAY - timedelta(days=days_ago)
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def move(conn: Connection, sub: f.TenantRef, when: datetime, before: str, after: str | None, **extra: object) -> None:
    event_type = "SubscriptionUpgraded" if after is not None and D(after) > D(before) else "SubscriptionDowngraded"
    if after is None:
        f.billing_event(conn, sub, event_type, occurred_at=when, new_amount=None, amount_delta=f"-{before}", **extra)
    else:
        f.billing_event(conn, sub, event_type, occurred_at=when, previous_amount=before, new_amount=after, **extra)


def movements_of(result: MrrMovements) -> tuple[Decimal, ...]:
    return (result.new_mrr, result.expansion_mrr, result.reactivation_mrr, result.contraction_mrr, result.churned_mrr)


def test_one_of_each_movement(conn: Connection) -> None:
    new = f.tenant(conn, plan="Standard")
    move(conn, new, at(3), "0", "149")
    expanding = f.tenant(conn, plan="Premium")
    move(conn, expanding, at(40), "0", "149")
    move(conn, expanding, at(2), "149", "299")
    contracting = f.tenant(conn, plan="Standard")
    move(conn, contracting, at(40), "0", "299")
    move(conn, contracting, at(5), "299", "149")
    churning = f.tenant(conn, plan="Basis")
    move(conn, churning, at(40), "0", "149")
    move(conn, churning, at(1), "149", "0")
    returning = f.tenant(conn, plan="Standard")
    move(conn, returning, at(60), "0", "149")
    move(conn, returning, at(30), "149", "0")
    move(conn, returning, at(4), "0", "149")

    result = mrr_movements(conn, 7, NOW, "DKK")

    assert (result.period, result.currency, result.first_day, result.last_day) == (7, "DKK", at(6).date(), TODAY)
    assert result.start_monthly_recurring_revenue == D("149") + D("299") + D("149")
    assert movements_of(result) == (D("149"), D("150"), D("149"), D("150"), D("149"))
    assert result.end_monthly_recurring_revenue == D("149") + D("299") + D("149") + D("149")
    assert result.net_change == D("149")
    assert result.reconciles


def test_start_and_end_are_the_mrr_trends_figures(conn: Connection) -> None:
    sub = f.tenant(conn, plan="Standard")
    move(conn, sub, at(20), "0", "49.99")
    move(conn, sub, at(10), "49.99", "149.00")
    move(conn, sub, at(3), "149.00", "299.00")

    result = mrr_movements(conn, 7, NOW, "DKK")
    trend = mrr_trend(conn, 7, NOW, "DKK")

    assert result.start_monthly_recurring_revenue == trend.prior_points[-1].monthly_recurring_revenue == D("149.00")
    assert result.end_monthly_recurring_revenue == trend.points[-1].monthly_recurring_revenue == D("299.00")
    assert result.expansion_mrr == D("150.00")


def test_period_edges_are_midnight_utc_start_included_end_excluded(conn: Connection) -> None:
    before_start = f.tenant(conn, plan="Standard")
    move(conn, before_start, PERIOD_START - timedelta(microseconds=1), "0", "100")
    at_start = f.tenant(conn, plan="Standard")
    move(conn, at_start, PERIOD_START, "0", "10")
    last_moment = f.tenant(conn, plan="Standard")
    move(conn, last_moment, PERIOD_END - timedelta(microseconds=1), "0", "1")
    after_end = f.tenant(conn, plan="Standard")
    move(conn, after_end, PERIOD_END, "0", "1000")

    result = mrr_movements(conn, 7, NOW, "DKK")

    assert result.start_monthly_recurring_revenue == D("100")
    assert result.new_mrr == D("11")
    assert result.end_monthly_recurring_revenue == D("111")


def test_a_null_amount_churns_and_ties_follow_the_ordinal_stripe_event_id(conn: Connection) -> None:
    dropped = f.tenant(conn, plan="Standard")
    move(conn, dropped, at(30), "0", "149")
    move(conn, dropped, at(2), "149", None)  # null new amount: MRR 0 (R33)
    tied = f.tenant(conn, plan="Standard")
    # Ordinally "evt_B" < "evt_a": created first, then cancelled, at one instant.
    move(conn, tied, at(1), "0", "299", stripe_event_id="evt_B")
    move(conn, tied, at(1), "299", "0", stripe_event_id="evt_a")

    result = mrr_movements(conn, 7, NOW, "DKK")

    assert movements_of(result) == (D("299"), D("0"), D("0"), D("0"), D("149") + D("299"))
    assert (result.start_monthly_recurring_revenue, result.end_monthly_recurring_revenue) == (D("149"), D("0"))


def test_rows_that_do_not_move_mrr_are_not_movements(conn: Connection) -> None:
    sub = f.tenant(conn, plan="Standard")
    move(conn, sub, at(30), "0", "149")
    f.billing_event(conn, sub, "PaymentMethodUpdated", occurred_at=at(2), amount_delta=None, new_amount="999")
    f.billing_event(
        conn, sub, "SubscriptionDowngradeCancelled", occurred_at=at(1), previous_amount="149", new_amount="149"
    )

    result = mrr_movements(conn, 7, NOW, "DKK")

    assert movements_of(result) == (D("0"),) * 5
    assert result.start_monthly_recurring_revenue == result.end_monthly_recurring_revenue == D("149")
    assert not result.is_empty


def test_an_empty_log_is_empty(conn: Connection) -> None:
    assert mrr_movements(conn, 30, NOW, None).is_empty


def test_rejects_an_unknown_period(conn: Connection) -> None:
    with pytest.raises(ValueError, match="period"):
        mrr_movements(conn, 14, NOW, "DKK")


# --- property ---------------------------------------------------------------

# Instants around the period's edges (and a tie or two at the same instant).
ANCHORS = (
    PERIOD_START - timedelta(days=40),
    PERIOD_START - timedelta(days=1),
    PERIOD_START - timedelta(seconds=1),
    PERIOD_START,
    PERIOD_START + timedelta(seconds=1),
    PERIOD_START + timedelta(days=3, hours=5),
    PERIOD_END - timedelta(seconds=1),
    PERIOD_END,
    PERIOD_END + timedelta(days=2),
)
PRICES = (D("0"), D("0"), D("49.99"), D("149.00"), D("299.00"), D("1234.56"))


@dataclass(frozen=True)
class Step:
    when: datetime
    event_id: str
    amount: Decimal | None  # None: a null new_amount, counting 0


@st.composite
def step(draw: st.DrawFn) -> tuple[datetime, str, Decimal | None]:
    anchor = draw(st.sampled_from(ANCHORS))
    offset = draw(st.sampled_from([0, 0, 0, 1, 3600, 86400 * 2]))
    amount = draw(st.one_of(st.sampled_from(PRICES), st.none(), st.decimals("0.01", "500.00", places=2)))
    prefix = draw(st.text("aBz0", min_size=1, max_size=2))  # ties ordered by id, ordinally
    return anchor + timedelta(seconds=offset), prefix, amount


histories = st.lists(st.lists(step(), min_size=1, max_size=8), min_size=1, max_size=4)


def expected(history: list[list[Step]]) -> tuple[Decimal, tuple[Decimal, ...], Decimal]:
    """The rule replayed one subscription at a time (docs/rules.md R150)."""
    start = end = D(0)
    totals = dict.fromkeys(("new", "expansion", "reactivation", "contraction", "churn"), D(0))
    for steps in history:
        amount, paid_before, opening = D(0), False, None
        for one in sorted(steps, key=lambda s: (s.when, s.event_id)):
            if one.when >= PERIOD_END:
                break
            before, after = amount, one.amount or D(0)
            if one.when >= PERIOD_START:
                opening = before if opening is None else opening
                if before == 0 and after > 0:
                    totals["reactivation" if paid_before else "new"] += after
                elif before > 0 and after > before:
                    totals["expansion"] += after - before
                elif before > 0 and 0 < after < before:
                    totals["contraction"] += before - after
                elif before > 0 and after == 0:
                    totals["churn"] += before
            paid_before = paid_before or after > 0
            amount = after
        start += amount if opening is None else opening
        end += amount
    return start, tuple(totals.values()), end


@settings(
    max_examples=int(os.environ.get("MOVEMENTS_PROPERTY_EXAMPLES", "40")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(raw=histories)
def test_movements_reconcile_and_match_a_replay(
    conn: Connection, raw: list[list[tuple[datetime, str, Decimal | None]]]
) -> None:
    with conn.begin_nested() as savepoint:
        history: list[list[Step]] = []
        for index, raw_steps in enumerate(raw):
            sub = f.tenant(conn, plan="Standard")
            steps = [
                Step(when, f"evt_{prefix}_{index}_{n}", amount) for n, (when, prefix, amount) in enumerate(raw_steps)
            ]
            previous = D(0)
            for one in sorted(steps, key=lambda s: (s.when, s.event_id)):
                after = one.amount or D(0)
                f.billing_event(
                    conn,
                    sub,
                    "SubscriptionUpgraded" if after > previous else "SubscriptionCancelled",
                    occurred_at=one.when,
                    stripe_event_id=one.event_id,
                    previous_amount=previous,
                    new_amount=one.amount,
                    amount_delta=after - previous,
                )
                previous = after
            history.append(steps)

        result = mrr_movements(conn, 7, NOW, "DKK")
        start, movements, end = expected(history)

        assert all(movement >= 0 for movement in movements_of(result))
        assert result.reconciles
        assert (
            result.start_monthly_recurring_revenue
            + result.new_mrr
            + result.expansion_mrr
            + result.reactivation_mrr
            - result.contraction_mrr
            - result.churned_mrr
            == result.end_monthly_recurring_revenue
        )
        assert result.start_monthly_recurring_revenue == start
        assert result.end_monthly_recurring_revenue == end
        assert movements_of(result) == movements
        savepoint.rollback()
