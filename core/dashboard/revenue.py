"""Revenue from payment transactions (docs/rules.md R46, R47): the lifetime total and
the cumulative daily trend. Amounts exclude VAT.

One set and one rule for both figures (docs/rules.md R46, R47): every
subscription's charges, soft-deleted tenants included (money stays, R78),
each added on its day and taken back on its reversal's day. The Total revenue
tile is the trend's running total at the end of today, read by the same
function, so the tile and the chart's last point are one figure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import Connection, text

from core.dashboard.periods import DayWindows

# Each charge adds its amount on its added_on day and takes it back on its
# reversed_on day (the rule of docs/rules.md R47, applied where the rows are
# written: migration 0004), summed per day in revenue_days (migration 0005).
# Each point is the all-time running total at the end of its day.
DAILY_REVENUE_SQL = text(
    """
    SELECT d::date AS day,
           (SELECT COALESCE(SUM(amount), 0) FROM revenue_days WHERE day < :first_day)
               + COALESCE(SUM(window_days.amount) OVER (ORDER BY d), 0) AS revenue
    FROM generate_series(CAST(:first_day AS date), CAST(:last_day AS date), interval '1 day') AS d
    LEFT JOIN (
        SELECT day, SUM(amount) AS amount
        FROM revenue_days
        WHERE day >= :first_day AND day <= :last_day
        GROUP BY day
    ) AS window_days ON window_days.day = d::date
    ORDER BY d
    """
)


@dataclass(frozen=True)
class RevenuePoint:
    date: date
    revenue: Decimal


@dataclass(frozen=True)
class RevenueTrend:
    period: int
    currency: str | None
    points: tuple[RevenuePoint, ...]
    prior_points: tuple[RevenuePoint, ...]


def total_revenue(conn: Connection, now: datetime) -> Decimal:
    """Lifetime net revenue, ex-VAT, at the end of today (the Total revenue KPI)."""
    today = now.astimezone(UTC).date()
    return daily_revenue(conn, today, today)[0].revenue


def daily_revenue(conn: Connection, first_day: date, last_day: date) -> list[RevenuePoint]:
    """All-time revenue at the end of every UTC day from first_day to last_day."""
    if last_day < first_day:
        return []
    rows = conn.execute(DAILY_REVENUE_SQL, {"first_day": first_day, "last_day": last_day})
    return [RevenuePoint(row.day, Decimal(row.revenue)) for row in rows]


def revenue_trend(conn: Connection, period_days: int, now: datetime, currency: str | None) -> RevenueTrend:
    """Cumulative daily revenue over the current and prior windows (docs/figures.md#charts)."""
    windows = DayWindows.ending(now, period_days)
    points = daily_revenue(conn, windows.prior_start, windows.today)
    return RevenueTrend(
        period=windows.days,
        currency=currency,
        points=tuple(points[windows.days :]),
        prior_points=tuple(points[: windows.days]),
    )
