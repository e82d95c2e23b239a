"""Every core query behind a screen, as benchmark cases with their budgets."""

from __future__ import annotations

import statistics
import time
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine, text

from bench.dataset import DATASET_NOW
from bench.harness import Case
from bench.original_mrr import daily_mrr_original
from core import account_detail, accounts, banners, billing_events, dashboard, invoices, user_activity, users
from core.accounts import AccountSort, AccountStatus
from core.dashboard.movements import mrr_movements
from core.paging import PageRequest
from db.engine import read_only
from db.enums import SubscriptionPlan, UserRole

NOW = DATASET_NOW
CARD_BUDGET_MS = 300
LIST_PAGE_BUDGET_MS = 50


def _currency(engine: Engine) -> str | None:
    from core.currency import platform_currency

    with read_only(engine) as conn:
        return platform_currency(conn)


def dashboard_cases(currency: str | None) -> list[Case]:
    result = []
    for days in (7, 30, 90):
        result += [
            Case(f"dashboard {days}d", "kpis", lambda c, d=days: dashboard.kpis(c, d, NOW, currency), CARD_BUDGET_MS),
            Case(
                f"dashboard {days}d",
                "mrr trend",
                lambda c, d=days: dashboard.mrr_trend(c, d, NOW, currency),
                CARD_BUDGET_MS,
            ),
            Case(
                f"dashboard {days}d",
                "mrr movements",
                lambda c, d=days: mrr_movements(c, d, NOW, currency),
                CARD_BUDGET_MS,
            ),
            Case(
                f"dashboard {days}d",
                "revenue trend",
                lambda c, d=days: dashboard.revenue_trend(c, d, NOW, currency),
                CARD_BUDGET_MS,
            ),
            Case(f"dashboard {days}d", "trends", lambda c, d=days: dashboard.trends(c, d, NOW), CARD_BUDGET_MS),
        ]
    result += [
        Case("dashboard", "plan distribution", dashboard.plan_distribution, CARD_BUDGET_MS),
        Case("dashboard", "recent signups", dashboard.recent_signups, CARD_BUDGET_MS),
        Case("dashboard", "recent billing events", dashboard.recent_billing_events, CARD_BUDGET_MS),
        Case("dashboard", "recent payments", dashboard.recent_payments, CARD_BUDGET_MS),
        Case("dashboard", "recent logins", lambda c: dashboard.recent_logins(c, NOW), CARD_BUDGET_MS),
    ]
    return result


def banner_cases(currency: str | None) -> list[Case]:
    return [
        Case("banners", "drift", banners.drift_summary, CARD_BUDGET_MS),
        Case("banners", "unsynced", banners.unsynced_summary, CARD_BUDGET_MS),
        Case("banners", "mrr consistency", lambda c: banners.mrr_consistency(c, currency), CARD_BUDGET_MS),
    ]


def _sample_ids(engine: Engine) -> tuple[int, str, str]:
    """A busy paid account, and the owner of it, as an operator would open them."""
    with read_only(engine) as conn:
        tenant_id = conn.execute(
            text("SELECT tenant_id FROM billing_events GROUP BY tenant_id ORDER BY count(*) DESC, tenant_id LIMIT 1")
        ).scalar_one()
        user_id, email = conn.execute(
            text("SELECT id, email FROM users WHERE tenant_id = :t ORDER BY role DESC, id LIMIT 1"), {"t": tenant_id}
        ).one()
    return tenant_id, user_id, email


def list_cases(engine: Engine) -> list[Case]:
    tenant_id, user_id, email = _sample_ids(engine)
    first = PageRequest(1, 25)
    deep = PageRequest(2000, 25)
    page = LIST_PAGE_BUDGET_MS
    return [
        Case("accounts", "first page", lambda c: accounts.list_accounts(c, page=first), page),
        # A jump deep into the list: an offset walks the rows before it (asked for, not judged).
        Case("accounts", "page 2000", lambda c: accounts.list_accounts(c, page=deep), None, on_request=True),
        # Searches as the console asks: exact up to a thousand matches, a sampled estimate beyond.
        Case(
            "accounts",
            "search 'ab'",
            lambda c: accounts.list_accounts(c, search="ab", page=first, estimate_large_total=True),
            page,
        ),
        Case(
            "accounts",
            "search 'qx' (none)",
            lambda c: accounts.list_accounts(c, search="qx", page=first, estimate_large_total=True),
            page,
        ),
        # As the command line asks: the exact count (no budget: a script's answer, not judged).
        Case(
            "accounts",
            "search 'ab' exact",
            lambda c: accounts.list_accounts(c, search="ab", page=first),
            None,
            on_request=True,
        ),
        Case(
            "accounts",
            "filter Premium+Canceling",
            lambda c: accounts.list_accounts(
                c, plans=[SubscriptionPlan.Premium], statuses=[AccountStatus.Canceling], page=first
            ),
            page,
        ),
        Case(
            "accounts",
            "filter Free",
            lambda c: accounts.list_accounts(c, statuses=[AccountStatus.Free], page=first),
            page,
        ),
        Case(
            "accounts",
            "sort MRR desc",
            lambda c: accounts.list_accounts(c, sort=AccountSort.mrr, descending=True, page=first),
            page,
        ),
        Case(
            "accounts",
            "sort renewal date",
            lambda c: accounts.list_accounts(c, sort=AccountSort.renewal_date, page=first),
            page,
        ),
        Case("accounts", "sort status", lambda c: accounts.list_accounts(c, sort=AccountSort.status, page=first), page),
        Case("accounts", "filter unsynced", lambda c: accounts.list_accounts(c, unsynced=True, page=first), page),
        Case("accounts", "filter drift", lambda c: accounts.list_accounts(c, drift_detected=True, page=first), page),
        Case("accounts", "side pane", lambda c: account_detail.account_summary(c, tenant_id, NOW), page),
        Case(
            "account detail",
            "header and tiles",
            lambda c: account_detail.account_detail(c, tenant_id, NOW),
            CARD_BUDGET_MS,
        ),
        Case("account detail", "users page", lambda c: account_detail.tenant_users(c, tenant_id, page=first), page),
        Case(
            "account detail",
            "payment history",
            lambda c: account_detail.payment_history(c, tenant_id, page=first),
            page,
        ),
        Case(
            "account detail",
            "billing events",
            lambda c: billing_events.list_billing_events(c, now=NOW, tenant_id=tenant_id, period_days=None, page=first),
            page,
        ),
        Case("users", "first page", lambda c: users.list_users(c, page=first), page),
        Case(
            "users",
            "filter Owner",
            lambda c: users.list_users(c, roles=[UserRole.Owner], now=NOW, page=first, estimate_large_total=True),
            page,
        ),
        Case(
            "users",
            "filter inactive",
            lambda c: users.list_users(
                c, activity=users.UserActivity.inactive, now=NOW, page=first, estimate_large_total=True
            ),
            page,
        ),
        # As the console asks: exact up to a thousand matches, a sampled estimate beyond.
        Case(
            "users",
            "search 'ann'",
            lambda c: users.list_users(c, search="ann", page=first, estimate_large_total=True),
            page,
        ),
        Case(
            "users",
            "search 'an'",
            lambda c: users.list_users(c, search="an", page=first, estimate_large_total=True),
            page,
        ),
        Case(
            "users",
            "search 'smith'",
            lambda c: users.list_users(c, search="smith", page=first, estimate_large_total=True),
            page,
        ),
        Case(
            "users",
            "search 'qx' (none)",
            lambda c: users.list_users(c, search="qx", page=first, estimate_large_total=True),
            page,
        ),
        # As the command line asks: always the exact count (no budget: a script's answer, which counts
        # every match, so its growth is not judged either).
        Case(
            "users",
            "search 'ann' exact",
            lambda c: users.list_users(c, search="ann", page=first),
            None,
            on_request=True,
        ),
        Case("user detail", "detail and tiles", lambda c: users.user_detail(c, user_id, NOW), CARD_BUDGET_MS),
        Case(
            "user detail", "login history", lambda c: user_activity.login_history(c, email, now=NOW, page=first), page
        ),
        Case("user detail", "sessions", lambda c: user_activity.sessions(c, email, now=NOW, page=first), page),
        Case("billing events", "page 30d", lambda c: billing_events.list_billing_events(c, now=NOW, page=first), page),
        Case(
            "billing events",
            "page 7d other",
            lambda c: billing_events.list_billing_events(
                c, now=NOW, period_days=7, preset=billing_events.BillingEventPreset.other, page=first
            ),
            page,
        ),
        Case(
            "billing events",
            "page 90d MRR impact",
            lambda c: billing_events.list_billing_events(
                c, now=NOW, period_days=90, preset=billing_events.BillingEventPreset.mrr_impact, page=first
            ),
            page,
        ),
        Case(
            "billing events",
            "search 'ab'",
            lambda c: billing_events.list_billing_events(
                c, now=NOW, search="ab", page=first, estimate_large_total=True
            ),
            page,
        ),
        Case(
            "billing events",
            "search 'ab' exact",
            lambda c: billing_events.list_billing_events(c, now=NOW, search="ab", page=first),
            None,
            on_request=True,
        ),
        Case("invoices", "first page", lambda c: invoices.list_invoices(c, page=first), page),
        Case(
            "invoices",
            "filter Failed",
            lambda c: invoices.list_invoices(c, statuses=[invoices.InvoiceStatusFilter.Failed], page=first),
            page,
        ),
        Case(
            "invoices",
            "search 'ab'",
            lambda c: invoices.list_invoices(c, search="ab", page=first, estimate_large_total=True),
            page,
        ),
        Case(
            "invoices",
            "search 'ab' exact",
            lambda c: invoices.list_invoices(c, search="ab", page=first),
            None,
            on_request=True,
        ),
    ]


def query_cases(engine: Engine) -> list[Case]:
    currency = _currency(engine)
    return dashboard_cases(currency) + banner_cases(currency) + list_cases(engine)


def _best_ms(function: Any, runs: int) -> tuple[float, Any]:
    timings, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = function()
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings), result


def mrr_trend_comparison(engine: Engine, runs: int = 3) -> dict[str, Any]:
    """Ours against the port of the original, on the same data, 90 days."""
    currency = _currency(engine)

    def ours() -> Any:
        with read_only(engine) as conn:
            return dashboard.mrr_trend(conn, 90, NOW, currency)

    def original() -> Any:
        with read_only(engine) as conn:
            return daily_mrr_original(conn, 90, NOW)

    ours_ms, trend = _best_ms(ours, runs)
    original_ms, (current, prior) = _best_ms(original, 1)
    same = [p.monthly_recurring_revenue for p in trend.points] == current and [
        p.monthly_recurring_revenue for p in trend.prior_points
    ] == prior
    return {
        "period_days": 90,
        "ours_ms": ours_ms,
        "original_ms": original_ms,
        "speedup": original_ms / ours_ms if ours_ms else float("inf"),
        "same_figures": same,
        "first_day": str(NOW.date() - timedelta(days=89)),
    }
