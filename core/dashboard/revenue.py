"""Revenue from payment transactions (domain.md 7.7): the lifetime total and
the cumulative daily trend. Amounts exclude VAT."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import Connection, text

from core.dashboard.periods import DayWindows
from core.money import REVENUE_TRANSACTION_SQL

# Net revenue over (paid subscriptions) and (subscriptions of live tenants on
# Basis). The original concatenates the two sets, so a paid subscription of a
# tenant on Basis counted twice; one OR counts every transaction once.
TOTAL_REVENUE_SQL = text(
    f"""
    SELECT COALESCE(SUM((t->>'AmountExcludingTax')::numeric), 0)
    FROM subscriptions AS s
    LEFT JOIN tenants AS tn ON tn.id = s.tenant_id
    CROSS JOIN LATERAL jsonb_array_elements(s.payment_transactions) AS t
    WHERE s.payment_transactions <> '[]'::jsonb
      AND (s.plan <> 'Basis' OR (tn.deleted_at IS NULL AND tn.plan = 'Basis'))
      AND {REVENUE_TRANSACTION_SQL}
    """
)

# Every charge that went through (Succeeded, or Refunded later) adds its
# amount on the UTC day it was made; a credit note (dated credit note, else
# refund, else charge) or else a refund takes it away again on its own day.
# Days before the window collapse into one opening bucket, so each point is
# the all-time running total at the end of its day.
DAILY_REVENUE_SQL = text(
    """
    WITH movements AS (
        SELECT ((t->>'Date')::timestamptz AT TIME ZONE 'UTC')::date AS day,
               (t->>'AmountExcludingTax')::numeric AS amount
        FROM subscriptions AS s
        CROSS JOIN LATERAL jsonb_array_elements(s.payment_transactions) AS t
        WHERE s.payment_transactions <> '[]'::jsonb
          AND t->>'Status' IN ('Succeeded', 'Refunded')
        UNION ALL
        SELECT ((CASE WHEN t->>'CreditNoteUrl' IS NOT NULL
                      THEN COALESCE(t->>'CreditNotedAt', t->>'RefundedAt', t->>'Date')
                      ELSE t->>'RefundedAt' END)::timestamptz AT TIME ZONE 'UTC')::date,
               -(t->>'AmountExcludingTax')::numeric
        FROM subscriptions AS s
        CROSS JOIN LATERAL jsonb_path_query(
            s.payment_transactions, '$[*] ? (@.CreditNoteUrl != null || @.RefundedAt != null)'
        ) AS t
        WHERE s.payment_transactions <> '[]'::jsonb
    ),
    daily AS (
        SELECT GREATEST(day, CAST(:opening_day AS date)) AS day, SUM(amount) AS amount
        FROM movements
        WHERE day <= :last_day
        GROUP BY 1
    )
    SELECT d::date AS day, COALESCE(SUM(daily.amount) OVER (ORDER BY d), 0) AS revenue
    FROM generate_series(CAST(:opening_day AS date), CAST(:last_day AS date), interval '1 day') AS d
    LEFT JOIN daily ON daily.day = d::date
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


def total_revenue(conn: Connection) -> Decimal:
    """Lifetime net revenue, ex-VAT (the Total revenue KPI)."""
    return Decimal(conn.execute(TOTAL_REVENUE_SQL).scalar_one())


def daily_revenue(conn: Connection, first_day: date, last_day: date) -> list[RevenuePoint]:
    """All-time revenue at the end of every UTC day from first_day to last_day."""
    if last_day < first_day:
        return []
    rows = conn.execute(
        DAILY_REVENUE_SQL, {"opening_day": first_day - timedelta(days=1), "last_day": last_day}
    ).all()
    return [RevenuePoint(row.day, Decimal(row.revenue)) for row in rows[1:]]


def revenue_trend(conn: Connection, period_days: int, now: datetime, currency: str | None) -> RevenueTrend:
    """Cumulative daily revenue over the current and prior windows (backoffice.md 1.5)."""
    windows = DayWindows.ending(now, period_days)
    points = daily_revenue(conn, windows.prior_start, windows.today)
    return RevenueTrend(
        period=windows.days,
        currency=currency,
        points=tuple(points[windows.days :]),
        prior_points=tuple(points[: windows.days]),
    )
