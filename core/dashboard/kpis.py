"""The dashboard KPI tiles (docs/figures.md#kpi-tiles, docs/rules.md R31, R35, R81, R82)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import Connection, text

from core.account_classes import CLASS_COUNTS, tenants_sum
from core.dashboard.mrr import daily_mrr
from core.dashboard.periods import DayWindows
from core.dashboard.revenue import total_revenue
from core.dashboard.trends import new_tenants_trend
from core.money import percent_change
from core.users import counted_users

# Live tenants by class (docs/rules.md R74), from the class counts that
# triggers keep (docs/rules.md R190): a few hundred counters, not the tenants.
TENANT_COUNTS_SQL = text(
    f"""
    SELECT {tenants_sum()} AS total,
           {tenants_sum("active AND plan <> 'Basis'")} AS active,
           {tenants_sum("active AND plan = 'Basis' AND NOT ever_paid")} AS trial,
           {tenants_sum("plan = 'Basis' AND ever_paid")} AS canceled
    FROM {CLASS_COUNTS}
    WHERE live
    """
)

# Sessions started in the last 24 hours and not revoked. Not the user
# detail's "active sessions" (not revoked, not expired): counting those would
# walk 90 days of sessions every round, so the tile says what it counts. The
# whole UTC hours come from session_hours (migration 0014, kept by a trigger),
# the partial hour at the start from the sessions (docs/rules.md R212).
SESSIONS_STARTED_SQL = text(
    "SELECT (SELECT COALESCE(sum(started), 0)::bigint FROM session_hours WHERE hour >= :first_hour)"
    " + (SELECT count(*) FROM sessions WHERE created_at >= :since AND created_at < :first_hour"
    "    AND revoked_at IS NULL)"
)

# Forward MRR over every paid subscription, soft-deleted tenants included:
# each class count sums its tenants' forward MRR of a paid subscription, the
# live classes and the others alike (docs/rules.md R191).
BLENDED_MRR_SQL = text(f"SELECT COALESCE(sum(forward_mrr), 0) FROM {CLASS_COUNTS}")


@dataclass(frozen=True)
class Kpis:
    period: int
    total_tenants: int
    active_tenants: int
    trial_tenants: int
    canceled_tenants: int
    new_tenants_in_period: int
    new_tenants_delta_percent: int | None
    total_users: int
    active_users_in_period: int
    blended_monthly_recurring_revenue: Decimal
    blended_monthly_recurring_revenue_delta_percent: Decimal | None
    total_revenue: Decimal
    currency: str | None
    sessions_started_last_24_hours: int


def blended_mrr(conn: Connection) -> Decimal:
    """Σ forward MRR over paid subscriptions (docs/rules.md R31)."""
    return Decimal(conn.execute(BLENDED_MRR_SQL).scalar_one())


def mrr_delta_percent(conn: Connection, windows: DayWindows) -> Decimal | None:
    """Change of the reconstructed MRR from the window's first day to today (docs/rules.md R35)."""
    points = daily_mrr(conn, windows.start, windows.today)
    return percent_change(points[-1].monthly_recurring_revenue, points[0].monthly_recurring_revenue, places=1)


def sessions_started_since(conn: Connection, since: datetime) -> int:
    """Sessions started since `since` and not revoked (docs/rules.md R212)."""
    since = since.astimezone(UTC)
    first_hour = since.replace(minute=0, second=0, microsecond=0)
    if first_hour < since:
        first_hour += timedelta(hours=1)
    return int(conn.execute(SESSIONS_STARTED_SQL, {"since": since, "first_hour": first_hour}).scalar_one())


def kpis(conn: Connection, period_days: int, now: datetime, currency: str | None) -> Kpis:
    windows = DayWindows.ending(now, period_days)
    tenants = conn.execute(TENANT_COUNTS_SQL).one()
    # New accounts are the account growth chart's: the same UTC days, one function.
    growth = new_tenants_trend(conn, period_days, now)
    new_delta = percent_change(growth.total, growth.prior_total, places=0)
    return Kpis(
        period=windows.days,
        total_tenants=tenants.total,
        active_tenants=tenants.active,
        trial_tenants=tenants.trial,
        canceled_tenants=tenants.canceled,
        new_tenants_in_period=growth.total,
        new_tenants_delta_percent=None if new_delta is None else int(new_delta),
        total_users=counted_users(conn),
        active_users_in_period=counted_users(conn, seen_since=now - timedelta(days=windows.days)),
        blended_monthly_recurring_revenue=blended_mrr(conn),
        blended_monthly_recurring_revenue_delta_percent=mrr_delta_percent(conn, windows),
        total_revenue=total_revenue(conn, now),
        currency=currency,
        sessions_started_last_24_hours=sessions_started_since(conn, now - timedelta(hours=24)),
    )
