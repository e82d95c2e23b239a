"""The daily MRR reconstructed from the billing event log (docs/rules.md R33-R35).

MRR on a UTC day D: for every subscription take its last MRR-moving row
(`amount_delta IS NOT NULL`, tenants soft-deleted or not) that occurred before
D + 1 at 00:00 UTC, and add its `new_amount` (null counts 0, with no fall-back
to an earlier row). The MRR trend, the KPI delta and the consistency banner
all read it from here.

Rows at the same instant are ordered by their Stripe event id, compared
ordinally (COLLATE "C"): the order the replayer applies them in
(docs/rules.md R15, R33), so the reconstruction ends on the row whose committed MRR the
ledger ended on.

The rule is applied where billing events are written (migration 0005): a
trigger keeps how much each UTC day moved each subscription's MRR, summed per
day in mrr_days. MRR at the end of day D is the sum of the changes of the
days up to D, so a trend reads a few rows per day however long the ledger
grows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Connection, text

from core.dashboard.periods import DayWindows
from db.enums import BillingEventType as T

# The billing event types that move MRR (docs/rules.md R32): only their rows
# carry an amount_delta, and the trend is made of the rows that do (migration
# 0005 reads `amount_delta IS NOT NULL`). The billing events list's "MRR
# impact" view is these types.
MRR_MOVING_TYPES: tuple[T, ...] = (
    T.SubscriptionCreated,
    T.SubscriptionUpgraded,
    T.SubscriptionDowngradeScheduled,
    T.SubscriptionDowngradeCancelled,
    T.SubscriptionDowngraded,
    T.SubscriptionReactivated,
    T.SubscriptionCancelled,
    T.SubscriptionExpired,
    T.SubscriptionImmediatelyCancelled,
    T.SubscriptionSuspended,
)

# MRR at the end of first_day (every change up to that day), then the
# window's changes accumulated day by day.
DAILY_MRR_SQL = text(
    """
    SELECT d::date AS day,
           (SELECT COALESCE(SUM(change), 0) FROM mrr_days WHERE day <= :first_day)
               + COALESCE(SUM(window_days.change) OVER (ORDER BY d), 0) AS mrr
    FROM generate_series(CAST(:first_day AS date), CAST(:last_day AS date), interval '1 day') AS d
    LEFT JOIN (
        SELECT day, SUM(change) AS change
        FROM mrr_days
        WHERE day > :first_day AND day <= :last_day
        GROUP BY day
    ) AS window_days ON window_days.day = d::date
    ORDER BY d
    """
)

# Each subscription's last MRR-moving row with no day cut-off (docs/rules.md R34):
# every change ever made.
LATEST_MRR_SQL = text("SELECT COALESCE(SUM(change), 0) FROM mrr_days")


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
    rows = conn.execute(DAILY_MRR_SQL, {"first_day": first_day, "last_day": last_day})
    return [MrrPoint(row.day, Decimal(row.mrr)) for row in rows]


def latest_mrr(conn: Connection) -> Decimal:
    """The trend's newest figure: each subscription's last MRR-moving row, summed."""
    return Decimal(conn.execute(LATEST_MRR_SQL).scalar_one())


def mrr_trend(conn: Connection, period_days: int, now: datetime, currency: str | None) -> MrrTrend:
    """Daily MRR over the current window and the prior one (docs/figures.md#charts)."""
    windows = DayWindows.ending(now, period_days)
    points = daily_mrr(conn, windows.prior_start, windows.today)
    return MrrTrend(
        period=windows.days,
        currency=currency,
        points=tuple(points[windows.days :]),
        prior_points=tuple(points[: windows.days]),
    )
