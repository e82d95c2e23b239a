"""The daily MRR reconstructed from the billing event log (domain.md 7.3-7.5).

MRR on a UTC day D: for every subscription take its last MRR-moving row
(`amount_delta IS NOT NULL`, tenants soft-deleted or not) that occurred before
D + 1 at 00:00 UTC, and add its `new_amount` (null counts 0, with no fall-back
to an earlier row). This module is the one place that computes it; the MRR
trend, the KPI delta and the consistency banner all read it from here.

Rows at the same instant are ordered by their Stripe event id, compared
ordinally (COLLATE "C"): the order the replayer applies them in
(decisions.md), so the reconstruction ends on the row whose committed MRR the
ledger ended on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import Connection, text

from core.dashboard.periods import DayWindows, start_of_day

# A day-by-day running total, computed in one statement:
# - `opening`: every subscription's amount when the window opens (one index
#   probe per subscription for its last row before the window);
# - `moves`: the rows inside the window, each turned into a change against the
#   row before it (the previous row in the window, or the opening amount);
# - the changes summed per UTC day and accumulated over the days.
DAILY_MRR_SQL = text(
    """
    WITH opening AS (
        SELECT s.id AS subscription_id, last_move.amount
        FROM subscriptions AS s
        CROSS JOIN LATERAL (
            SELECT COALESCE(b.new_amount, 0) AS amount
            FROM billing_events AS b
            WHERE b.subscription_id = s.id
              AND b.amount_delta IS NOT NULL
              AND b.occurred_at < :window_start
            ORDER BY b.occurred_at DESC, b.stripe_event_id COLLATE "C" DESC
            LIMIT 1
        ) AS last_move
    ),
    moves AS (
        SELECT b.subscription_id,
               b.occurred_at,
               COALESCE(b.new_amount, 0) AS amount,
               LAG(COALESCE(b.new_amount, 0)) OVER (
                   PARTITION BY b.subscription_id
                   ORDER BY b.occurred_at, b.stripe_event_id COLLATE "C"
               ) AS previous_amount
        FROM billing_events AS b
        WHERE b.amount_delta IS NOT NULL
          AND b.occurred_at >= :window_start
          AND b.occurred_at < :window_end
    ),
    daily_changes AS (
        SELECT (m.occurred_at AT TIME ZONE 'UTC')::date AS day,
               SUM(m.amount - COALESCE(m.previous_amount, o.amount, 0)) AS change
        FROM moves AS m
        LEFT JOIN opening AS o ON m.previous_amount IS NULL AND o.subscription_id = m.subscription_id
        GROUP BY 1
    )
    SELECT d::date AS day,
           (SELECT COALESCE(SUM(amount), 0) FROM opening)
               + COALESCE(SUM(c.change) OVER (ORDER BY d), 0) AS mrr
    FROM generate_series(CAST(:first_day AS date), CAST(:last_day AS date), interval '1 day') AS d
    LEFT JOIN daily_changes AS c ON c.day = d::date
    ORDER BY d
    """
)

# Each subscription's last MRR-moving row with no day cut-off (domain.md 7.4).
LATEST_MRR_SQL = text(
    """
    SELECT COALESCE(SUM(last_move.amount), 0)
    FROM subscriptions AS s
    CROSS JOIN LATERAL (
        SELECT COALESCE(b.new_amount, 0) AS amount
        FROM billing_events AS b
        WHERE b.subscription_id = s.id AND b.amount_delta IS NOT NULL
        ORDER BY b.occurred_at DESC, b.stripe_event_id COLLATE "C" DESC
        LIMIT 1
    ) AS last_move
    """
)


@dataclass(frozen=True)
class MrrPoint:
    date: date
    monthly_recurring_revenue: Decimal


@dataclass(frozen=True)
class MrrTrend:
    period: int
    currency: str | None
    points: tuple[MrrPoint, ...]
    prior_points: tuple[MrrPoint, ...]


def daily_mrr(conn: Connection, first_day: date, last_day: date) -> list[MrrPoint]:
    """MRR at the end of every UTC day from first_day to last_day inclusive."""
    if last_day < first_day:
        return []
    rows = conn.execute(
        DAILY_MRR_SQL,
        {
            "first_day": first_day,
            "last_day": last_day,
            "window_start": start_of_day(first_day),
            "window_end": start_of_day(last_day + timedelta(days=1)),
        },
    )
    return [MrrPoint(row.day, Decimal(row.mrr)) for row in rows]


def latest_mrr(conn: Connection) -> Decimal:
    """The trend's newest figure: each subscription's last MRR-moving row, summed."""
    return Decimal(conn.execute(LATEST_MRR_SQL).scalar_one())


def mrr_trend(conn: Connection, period_days: int, now: datetime, currency: str | None) -> MrrTrend:
    """Daily MRR over the current window and the prior one (backoffice.md 1.4)."""
    windows = DayWindows.ending(now, period_days)
    points = daily_mrr(conn, windows.prior_start, windows.today)
    return MrrTrend(
        period=windows.days,
        currency=currency,
        points=tuple(points[windows.days :]),
        prior_points=tuple(points[: windows.days]),
    )
