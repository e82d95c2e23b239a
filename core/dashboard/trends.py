"""Account growth and user logins per UTC day, current and prior window
(docs/figures.md#charts, docs/rules.md R89: logins add distinct users and failures)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, TextClause, text

from core.dashboard.periods import DayWindows

# Live tenants by the UTC day they were created on (live_tenant_days,
# migration 0014: kept in step with tenants by a trigger, docs/rules.md R211).
NEW_TENANTS_SQL = text(
    """
    SELECT day, SUM(created) AS value
    FROM live_tenant_days
    WHERE day BETWEEN :first_day AND :last_day
    GROUP BY day
    """
)

# Live users by the UTC day they were created on (live_user_days, migration
# 0005: kept in step with users by a trigger).
NEW_USERS_SQL = text(
    """
    SELECT day, SUM(created) AS value
    FROM live_user_days
    WHERE day BETWEEN :first_day AND :last_day
    GROUP BY day
    """
)

# Login attempts by the UTC day the flow started (docs/rules.md R89), counted in
# login_day_counts (migration 0005, which holds the rule): successful and
# failed attempts, and distinct users (by e-mail, login rows carry no user id)
# with a successful one. Pending attempts count in neither.
LOGIN_ACTIVITY_SQL = text(
    """
    SELECT day, SUM(succeeded) AS value, SUM(failed) AS failed, SUM(distinct_users) AS distinct_users
    FROM login_day_counts
    WHERE day BETWEEN :first_day AND :last_day
    GROUP BY day
    """
)


@dataclass(frozen=True)
class TrendPoint:
    date: date
    value: int


@dataclass(frozen=True)
class Trend:
    metric: str
    period: int
    points: tuple[TrendPoint, ...]
    prior_points: tuple[TrendPoint, ...]

    @property
    def total(self) -> int:
        """The current window's sum (the new accounts KPI and the growth card's subtitle)."""
        return sum(point.value for point in self.points)

    @property
    def prior_total(self) -> int:
        return sum(point.value for point in self.prior_points)


@dataclass(frozen=True)
class LoginPoint:
    date: date
    value: int  # successful logins (every one, not distinct)
    failed: int
    distinct_users: int


@dataclass(frozen=True)
class LoginTrend:
    metric: str
    period: int
    points: tuple[LoginPoint, ...]
    prior_points: tuple[LoginPoint, ...]


@dataclass(frozen=True)
class Trends:
    new_tenants: Trend
    new_users: Trend
    login_activity: LoginTrend


def _per_day(conn: Connection, query: TextClause, windows: DayWindows) -> dict[date, Mapping[str, Any]]:
    rows = conn.execute(
        query,
        {
            "loaded_from": windows.loaded_from,
            "loaded_until": windows.loaded_until,
            "first_day": windows.prior_start,
            "last_day": windows.today,
        },
    )
    return {row.day: dict(row._mapping) for row in rows}


def _count_trend(conn: Connection, metric: str, query: TextClause, windows: DayWindows) -> Trend:
    counts = _per_day(conn, query, windows)

    def points(days: list[date]) -> tuple[TrendPoint, ...]:
        return tuple(TrendPoint(day, counts[day]["value"] if day in counts else 0) for day in days)

    return Trend(metric, windows.days, points(windows.current_days), points(windows.prior_days))


def new_tenants_trend(conn: Connection, period_days: int, now: datetime) -> Trend:
    return _count_trend(conn, "NewTenants", NEW_TENANTS_SQL, DayWindows.ending(now, period_days))


def new_users_trend(conn: Connection, period_days: int, now: datetime) -> Trend:
    return _count_trend(conn, "NewUsers", NEW_USERS_SQL, DayWindows.ending(now, period_days))


def login_activity_trend(conn: Connection, period_days: int, now: datetime) -> LoginTrend:
    windows = DayWindows.ending(now, period_days)
    counts = _per_day(conn, LOGIN_ACTIVITY_SQL, windows)

    def point(day: date) -> LoginPoint:
        row = counts.get(day)
        if row is None:
            return LoginPoint(day, 0, 0, 0)
        return LoginPoint(day, row["value"], row["failed"], row["distinct_users"])

    return LoginTrend(
        "LoginActivity",
        windows.days,
        tuple(point(day) for day in windows.current_days),
        tuple(point(day) for day in windows.prior_days),
    )


def trends(conn: Connection, period_days: int, now: datetime) -> Trends:
    return Trends(
        new_tenants=new_tenants_trend(conn, period_days, now),
        new_users=new_users_trend(conn, period_days, now),
        login_activity=login_activity_trend(conn, period_days, now),
    )
