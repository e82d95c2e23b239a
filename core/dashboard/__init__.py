"""The dashboard read model: every figure of the dashboard screen and of the
`report` commands, computed in PostgreSQL."""

from core.dashboard.kpis import Kpis, blended_mrr, kpis
from core.dashboard.mrr import MrrPoint, MrrTrend, daily_mrr, latest_mrr, mrr_trend
from core.dashboard.periods import DEFAULT_PERIOD, PERIODS, DayWindows, check_period
from core.dashboard.plans import PlanDistribution, PlanShare, plan_distribution
from core.dashboard.recent import (
    Owner,
    RecentBillingEvent,
    RecentItems,
    RecentLogin,
    RecentPayment,
    RecentSignup,
    check_limit,
    recent_billing_events,
    recent_logins,
    recent_payments,
    recent_signups,
)
from core.dashboard.revenue import RevenuePoint, RevenueTrend, daily_revenue, revenue_trend, total_revenue
from core.dashboard.trends import LoginPoint, LoginTrend, Trend, TrendPoint, Trends, trends

__all__ = [
    "DEFAULT_PERIOD",
    "PERIODS",
    "DayWindows",
    "Kpis",
    "LoginPoint",
    "LoginTrend",
    "MrrPoint",
    "MrrTrend",
    "Owner",
    "PlanDistribution",
    "PlanShare",
    "RecentBillingEvent",
    "RecentItems",
    "RecentLogin",
    "RecentPayment",
    "RecentSignup",
    "RevenuePoint",
    "RevenueTrend",
    "Trend",
    "TrendPoint",
    "Trends",
    "blended_mrr",
    "check_limit",
    "check_period",
    "daily_mrr",
    "daily_revenue",
    "kpis",
    "latest_mrr",
    "mrr_trend",
    "plan_distribution",
    "recent_billing_events",
    "recent_logins",
    "recent_payments",
    "recent_signups",
    "revenue_trend",
    "total_revenue",
    "trends",
]
