"""`backoffice report ...` and `backoffice banners`: the dashboard's figures on
the command line, as one JSON document (--json) or readable tables."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, Generic, TypeVar

import typer
from babel import dates as babel_dates
from babel import numbers as babel_numbers

from console import formatting
from console.cli import export
from console.cli.context import AppContext, app_context
from console.cli.options import JsonOption, PeriodOption, limit
from console.cli.output import emit_json, emit_table, stdout
from console.formatting import DASH
from core import banners as banners_model
from core import dashboard
from core.clock import utcnow
from core.currency import platform_currency
from core.dashboard.movements import mrr_movements
from core.listing import display_name

report_app = typer.Typer(
    help="Dashboard reports: KPIs, trends, distribution and recent activity.", no_args_is_help=True
)

T = TypeVar("T")


def _limit_option(default: int) -> Any:
    return typer.Option(default, "--limit", parser=limit, help="Rows to show, 1..50.")


class Formatter:
    """Numbers, money and times in the operator's locale (Babel)."""

    def __init__(self, locale: str) -> None:
        self.locale = locale.replace("-", "_")

    def money(self, amount: Decimal | None, currency: str | None) -> str:
        return formatting.money(amount, currency, locale=self.locale)

    def number(self, value: int | Decimal | None) -> str:
        return DASH if value is None else babel_numbers.format_decimal(value, locale=self.locale)

    def percent(self, value: int | Decimal | None) -> str:
        if value is None:
            return DASH
        sign = "+" if value > 0 else ""
        return f"{sign}{babel_numbers.format_decimal(value, format='0.0', locale=self.locale)}%"

    def day(self, value: date) -> str:
        return babel_dates.format_date(value, format="medium", locale=self.locale)

    def moment(self, value: datetime | None) -> str:
        if value is None:
            return DASH
        return babel_dates.format_datetime(value, format="short", tzinfo=UTC, locale=self.locale)


def _read(ctx: typer.Context, query: Callable[[Any, AppContext], T]) -> tuple[T, Formatter]:
    """Run one read in a read-only transaction."""
    app = app_context(ctx)
    with app.reading() as conn:
        result = query(conn, app)
    return result, Formatter(app.settings.locale)


def _currency(conn: Any) -> str | None:
    # A report never calls Stripe: the currency found on subscriptions.
    return platform_currency(conn, catalog_currency=None)


def _series_rows(
    current: Sequence[Any], prior: Sequence[Any], value: Callable[[Any], str], fmt: Formatter
) -> list[list[str]]:
    return [
        [fmt.day(now.date), value(now), fmt.day(before.date), value(before)]
        for now, before in zip(current, prior, strict=False)
    ]


@report_app.command("kpis")
def kpis_command(
    ctx: typer.Context, period: int = PeriodOption, json: bool = JsonOption, csv: bool = export.CsvOption
) -> None:
    """Dashboard KPI tiles."""
    export.check(ctx, csv_output=csv, json_output=json)
    result, fmt = _read(ctx, lambda conn, _: dashboard.kpis(conn, period, utcnow(), _currency(conn)))
    if csv:
        export.write_csv(dashboard.Kpis, [result])
        return
    if json:
        emit_json(result)
        return
    money = lambda amount: fmt.money(amount, result.currency)  # noqa: E731
    emit_table(
        f"KPIs, last {result.period} days",
        ["Tile", "Value", "Detail"],
        [
            [
                "Total accounts",
                fmt.number(result.total_tenants),
                f"+{fmt.number(result.new_tenants_in_period)} new, new accounts {fmt.percent(result.new_tenants_delta_percent)} vs prior {result.period} days",
            ],
            [
                "Blended MRR",
                money(result.blended_monthly_recurring_revenue),
                f"{fmt.percent(result.blended_monthly_recurring_revenue_delta_percent)} over the last {result.period} days",
            ],
            ["Total revenue", money(result.total_revenue), "All-time, excluding VAT"],
            ["Users active", fmt.number(result.active_users_in_period), f"of {fmt.number(result.total_users)} users"],
            ["Sessions started", fmt.number(result.sessions_started_last_24_hours), "Last 24 hours, not revoked"],
            [
                "Paying / trial / canceled",
                f"{fmt.number(result.active_tenants)} / {fmt.number(result.trial_tenants)} / {fmt.number(result.canceled_tenants)}",
                "Active paying, never paid, paid before",
            ],
        ],
    )


@report_app.command("mrr-trend")
def mrr_trend_command(
    ctx: typer.Context, period: int = PeriodOption, json: bool = JsonOption, csv: bool = export.CsvOption
) -> None:
    """Daily MRR, current and prior period, reconstructed from the billing event log."""
    export.check(ctx, csv_output=csv, json_output=json)
    result, fmt = _read(ctx, lambda conn, _: dashboard.mrr_trend(conn, period, utcnow(), _currency(conn)))
    if csv:
        export.write_csv(export.MrrTrendRow, export.mrr_trend_rows(result))
        return
    if json:
        emit_json(result)
        return
    emit_table(
        f"MRR trend, last {result.period} days",
        ["Date", "MRR", "Prior date", "Prior MRR"],
        _series_rows(
            result.points, result.prior_points, lambda p: fmt.money(p.monthly_recurring_revenue, result.currency), fmt
        ),
    )


@report_app.command("mrr-movements")
def mrr_movements_command(
    ctx: typer.Context, period: int = PeriodOption, json: bool = JsonOption, csv: bool = export.CsvOption
) -> None:
    """MRR at the period's start and end, and the new, expansion, reactivation,
    contraction and churned MRR between them (docs/rules.md R150)."""
    export.check(ctx, csv_output=csv, json_output=json)
    result, fmt = _read(ctx, lambda conn, _: mrr_movements(conn, period, utcnow(), _currency(conn)))
    if csv:
        export.write_csv(type(result), [result])
        return
    if json:
        emit_json(result)
        return
    money = lambda amount: fmt.money(amount, result.currency)  # noqa: E731
    gain = lambda amount: f"+{money(amount)}" if amount else money(amount)  # noqa: E731
    loss = lambda amount: money(-amount) if amount else money(amount)  # noqa: E731
    emit_table(
        f"MRR movements, last {result.period} days",
        ["Movement", "MRR"],
        [
            [f"MRR at the start of {fmt.day(result.first_day)}", money(result.start_monthly_recurring_revenue)],
            ["New", gain(result.new_mrr)],
            ["Expansion", gain(result.expansion_mrr)],
            ["Reactivation", gain(result.reactivation_mrr)],
            ["Contraction", loss(result.contraction_mrr)],
            ["Churn", loss(result.churned_mrr)],
            [f"MRR at the end of {fmt.day(result.last_day)}", money(result.end_monthly_recurring_revenue)],
        ],
    )


@report_app.command("revenue-trend")
def revenue_trend_command(
    ctx: typer.Context, period: int = PeriodOption, json: bool = JsonOption, csv: bool = export.CsvOption
) -> None:
    """Daily all-time revenue (excluding VAT), current and prior period."""
    export.check(ctx, csv_output=csv, json_output=json)
    result, fmt = _read(ctx, lambda conn, _: dashboard.revenue_trend(conn, period, utcnow(), _currency(conn)))
    if csv:
        export.write_csv(export.RevenueTrendRow, export.revenue_trend_rows(result))
        return
    if json:
        emit_json(result)
        return
    emit_table(
        f"Revenue, last {result.period} days",
        ["Date", "Revenue", "Prior date", "Prior revenue"],
        _series_rows(result.points, result.prior_points, lambda p: fmt.money(p.revenue, result.currency), fmt),
    )


@report_app.command("plan-distribution")
def plan_distribution_command(ctx: typer.Context, json: bool = JsonOption, csv: bool = export.CsvOption) -> None:
    """Accounts per plan, and paid / trial / canceled / free."""
    export.check(ctx, csv_output=csv, json_output=json)
    result, fmt = _read(ctx, lambda conn, _: dashboard.plan_distribution(conn))
    if csv:
        export.write_csv(dashboard.PlanShare, result.distribution)
        return
    if json:
        emit_json(result)
        return
    emit_table(
        f"Plan distribution, {fmt.number(result.total_tenants)} accounts",
        ["Plan", "Accounts", "Share"],
        [
            [share.plan.value, fmt.number(share.count), f"{fmt.number(share.percentage)}%"]
            for share in result.distribution
        ],
    )
    emit_table(
        "Paid / trial / canceled / free",
        ["Class", "Accounts"],
        [
            ["Paid", fmt.number(result.paid_tenants)],
            ["Trial (active, never paid)", fmt.number(result.trial_tenants)],
            ["Canceled (on Basis, paid before)", fmt.number(result.canceled_tenants)],
            ["Free (on Basis, never paid)", fmt.number(result.free_tenants)],
        ],
    )


@report_app.command("trends")
def trends_command(
    ctx: typer.Context, period: int = PeriodOption, json: bool = JsonOption, csv: bool = export.CsvOption
) -> None:
    """Account growth and user logins per day, current and prior period."""
    export.check(ctx, csv_output=csv, json_output=json)
    result, fmt = _read(ctx, lambda conn, _: dashboard.trends(conn, period, utcnow()))
    if csv:
        export.write_csv(export.TrendsRow, export.trends_rows(result))
        return
    if json:
        emit_json(result)
        return
    rows = zip(result.new_tenants.points, result.new_users.points, result.login_activity.points, strict=False)
    emit_table(
        f"Trends, last {result.new_tenants.period} days",
        ["Date", "New accounts", "New users", "Logins", "Failed logins", "Users logged in"],
        [
            [
                fmt.day(tenants.date),
                fmt.number(tenants.value),
                fmt.number(users.value),
                fmt.number(logins.value),
                fmt.number(logins.failed),
                fmt.number(logins.distinct_users),
            ]
            for tenants, users, logins in rows
        ],
    )
    prior = (
        sum(p.value for p in result.new_tenants.prior_points),
        sum(p.value for p in result.login_activity.prior_points),
    )
    stdout.print(f"Prior period: {fmt.number(prior[0])} new accounts, {fmt.number(prior[1])} logins")


@dataclass(frozen=True)
class RecentReport(Generic[T]):
    """A `report recent-...` command: one of the dashboard's recent cards, read
    with `--limit` rows, printed as JSON or as a table of `row`s."""

    name: str
    help: str
    default_limit: int
    read: Callable[[Any, int], dashboard.RecentItems[T]]
    row_type: type[T]
    title: str
    columns: tuple[str, ...]
    row: Callable[[T, Formatter], list[str]]


def _plan_change(from_plan: Any, to_plan: Any) -> str:
    if from_plan and to_plan and from_plan != to_plan:
        return f"{from_plan.value} → {to_plan.value}"
    plan = to_plan or from_plan
    return plan.value if plan else DASH


RECENT_REPORTS: tuple[RecentReport[Any], ...] = (
    RecentReport(
        name="recent-signups",
        help="Latest paid signups, newest first.",
        default_limit=dashboard.recent.SIGNUPS_LIMIT,
        read=dashboard.recent_signups,
        row_type=dashboard.RecentSignup,
        title="Recent paid signups",
        columns=("Account", "Tenant id", "Plan", "Owner", "Subscribed (UTC)"),
        row=lambda item, fmt: [
            item.name or DASH,
            item.tenant_id,
            item.plan.value,
            item.owner.email if item.owner else DASH,
            fmt.moment(item.subscribed_since),
        ],
    ),
    RecentReport(
        name="recent-stripe-events",
        help="Latest billing events (NoOp left out), with the MRR after each.",
        default_limit=dashboard.recent.BILLING_EVENTS_LIMIT,
        read=dashboard.recent_billing_events,
        row_type=dashboard.RecentBillingEvent,
        title="Recent billing events",
        columns=("Occurred (UTC)", "Account", "Event", "Plan", "MRR impact", "MRR after"),
        row=lambda item, fmt: [
            fmt.moment(item.occurred_at),
            item.tenant_name or item.tenant_id,
            item.type.value,
            _plan_change(item.from_plan, item.to_plan),
            fmt.money(item.amount_delta, item.currency),
            fmt.money(item.committed_mrr, item.currency),
        ],
    ),
    RecentReport(
        name="recent-payments",
        help="Latest payments (gross amounts, raw status).",
        default_limit=dashboard.recent.PAYMENTS_LIMIT,
        read=dashboard.recent_payments,
        row_type=dashboard.RecentPayment,
        title="Recent payments",
        columns=("Date (UTC)", "Account", "Plan", "Total", "Status"),
        row=lambda item, fmt: [
            fmt.moment(item.date),
            item.tenant_name or item.tenant_id,
            item.plan.value if item.plan else DASH,
            fmt.money(item.amount, item.currency),
            item.status.value,
        ],
    ),
    RecentReport(
        name="recent-logins",
        help="Latest successful logins of the last 30 days.",
        default_limit=dashboard.recent.LOGINS_LIMIT,
        read=lambda conn, limit: dashboard.recent_logins(conn, utcnow(), limit),
        row_type=dashboard.RecentLogin,
        title="Recent logins",
        columns=("When (UTC)", "User", "Account", "Method"),
        row=lambda item, fmt: [
            fmt.moment(item.occurred_at),
            display_name(item.first_name, item.last_name, item.email),
            item.tenant_name or DASH,
            item.method.value,
        ],
    ),
)


def _recent_command(report: RecentReport[Any]) -> Callable[..., None]:
    def command(
        ctx: typer.Context,
        limit: int = _limit_option(report.default_limit),
        json: bool = JsonOption,
        csv: bool = export.CsvOption,
    ) -> None:
        export.check(ctx, csv_output=csv, json_output=json)
        result, fmt = _read(ctx, lambda conn, _: report.read(conn, limit))
        if csv:
            export.write_csv(report.row_type, result.items)
            return
        if json:
            emit_json(result)
            return
        emit_table(report.title, report.columns, [report.row(item, fmt) for item in result.items])

    return command


for _report in RECENT_REPORTS:
    report_app.command(_report.name, help=_report.help)(_recent_command(_report))


def banners_command(ctx: typer.Context, json: bool = JsonOption, csv: bool = export.CsvOption) -> None:
    """The three data-quality banner conditions and their figures."""
    export.check(ctx, csv_output=csv, json_output=json)
    result, fmt = _read(ctx, lambda conn, _: banners_model.banners(conn, _currency(conn)))
    if csv:
        export.write_csv(banners_model.Banners, [result])
        return
    if json:
        emit_json(result)
        return
    drift, unsynced, mrr = result.drift, result.unsynced, result.mrr_consistency
    emit_table(
        "Data-quality banners",
        ["Banner", "Shown", "Figures"],
        [
            [
                "Unsynced accounts",
                _yes(unsynced.unsynced_subscriptions_count > 0),
                f"{fmt.number(unsynced.unsynced_subscriptions_count)} {_accounts(unsynced.accounts)}",
            ],
            [
                "MRR mismatch",
                _yes(not mrr.consistent),
                f"KPI {fmt.money(mrr.kpi_monthly_recurring_revenue, mrr.currency)}, trend latest {fmt.money(mrr.trend_latest_monthly_recurring_revenue, mrr.currency)}",
            ],
            [
                "Billing drift",
                _yes(drift.subscriptions_with_drift_count > 0),
                f"{fmt.number(drift.subscriptions_with_drift_count)} {_accounts(drift.accounts)}",
            ],
        ],
    )


def _yes(shown: bool) -> str:
    return "yes" if shown else "no"


def _accounts(accounts: Sequence[banners_model.AccountRef]) -> str:
    if not accounts:
        return ""
    return "(" + ", ".join(f"{account.name or DASH} [{account.tenant_id}]" for account in accounts) + ")"


def register(app: typer.Typer) -> None:
    app.add_typer(report_app, name="report")
    app.command("banners")(banners_command)
