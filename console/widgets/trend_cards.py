"""The dashboard's chart cards: MRR trend, revenue, plan distribution, account
growth and user logins. Each loads its own core result in a worker and hands
the shaped series to a `Chart`, which only draws."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any, Generic, TypeVar

from rich.markup import escape
from sqlalchemy import Connection
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Static

from console.formatting import day_label, delta_percent, money, number, percentage
from console.i18n import t
from console.widgets.cards import CardRequest, DataCard
from console.widgets.charts import LEGEND_GLYPHS, Chart, PlotColour, Role, Series
from core.currency import platform_currency
from core.dashboard.mrr import MrrTrend, mrr_trend
from core.dashboard.plans import PlanDistribution, plan_distribution
from core.dashboard.revenue import RevenueTrend, revenue_trend
from core.dashboard.trends import LoginTrend, Trend, login_activity_trend, new_tenants_trend
from core.money import percent_change

DataT = TypeVar("DataT")


def _markup_colour(colour: PlotColour) -> str:
    return f"rgb({colour[0]},{colour[1]},{colour[2]})" if isinstance(colour, tuple) else colour


class ChartCard(DataCard[CardRequest, DataT], Generic[DataT]):
    """A card with one chart and a legend line under it."""

    KIND = "line"
    INTEGER = False
    EMPTY_KEY = "dashboard.chart.no_data"

    def compose_content(self) -> ComposeResult:
        yield Chart(self.KIND, integer=self.INTEGER)  # type: ignore[arg-type]
        yield Static("", classes="chart-legend")

    def empty_message(self) -> tuple[str, str]:
        return (t(self.EMPTY_KEY), "")

    def draw(self, labels: list[str], series: list[Series], legend: Sequence[str]) -> None:
        """`legend[i]` names `series[i]`, shown with the glyph and colour it is drawn in."""
        chart = self.query_one(Chart)
        chart.plot(labels, series)
        self.query_one(".chart-legend", Static).update(
            "  ".join(
                f"[{_markup_colour(chart.colour(one.role))}]{LEGEND_GLYPHS[one.style]}[/] {escape(label)}"
                for one, label in zip(series, legend, strict=True)
            )
        )

    def on_mount(self) -> None:
        # The legend's colours follow the theme, like the chart's.
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self._redraw())

    def _redraw(self) -> None:
        if self.data is not None and self.state == "data":
            self.show_data(self.data)


def _periods_legend() -> list[str]:
    return [t("dashboard.chart.current_period"), t("dashboard.chart.prior_period")]


def _all_zero(*series: Sequence[Any]) -> bool:
    return all(not value for values in series for value in values)


class MrrTrendCard(ChartCard[MrrTrend]):
    def __init__(self) -> None:
        super().__init__(t("dashboard.chart.mrr_trend"), id="mrr-trend")

    def fetch(self, conn: Connection, request: CardRequest) -> MrrTrend:
        return mrr_trend(conn, request.period, request.now, platform_currency(conn))

    def shows_no_data(self, data: MrrTrend) -> bool:
        return _all_zero(
            [p.monthly_recurring_revenue for p in data.points],
            [p.monthly_recurring_revenue for p in data.prior_points],
        )

    def show_data(self, data: MrrTrend) -> None:
        first, last = data.points[0].monthly_recurring_revenue, data.points[-1].monthly_recurring_revenue
        change = percent_change(last, first)
        last_text = money(last, data.currency)
        self.set_subtitle(
            t("dashboard.chart.mrr_subtitle", last=last_text, delta=delta_percent(change))
            if change is not None
            else t("dashboard.chart.mrr_subtitle_plain", last=last_text)
        )
        self.draw(
            [day_label(p.date) for p in data.points],
            [
                Series([float(p.monthly_recurring_revenue) for p in data.points], "current", "line"),
                Series([float(p.monthly_recurring_revenue) for p in data.prior_points], "prior", "dots"),
            ],
            _periods_legend(),
        )


class RevenueCard(ChartCard[RevenueTrend]):
    def __init__(self) -> None:
        super().__init__(t("dashboard.chart.revenue"), id="revenue-trend")

    def fetch(self, conn: Connection, request: CardRequest) -> RevenueTrend:
        return revenue_trend(conn, request.period, request.now, platform_currency(conn))

    def shows_no_data(self, data: RevenueTrend) -> bool:
        return _all_zero([p.revenue for p in data.points], [p.revenue for p in data.prior_points])

    def show_data(self, data: RevenueTrend) -> None:
        gain: Decimal = data.points[-1].revenue - data.points[0].revenue
        change = percent_change(data.points[-1].revenue, data.prior_points[-1].revenue)
        gain_text = money(gain, data.currency)
        self.set_subtitle(
            t("dashboard.chart.revenue_subtitle", gain=gain_text, delta=delta_percent(change))
            if change is not None
            else t("dashboard.chart.revenue_subtitle_plain", gain=gain_text)
        )
        self.draw(
            [day_label(p.date) for p in data.points],
            [
                Series([float(p.revenue) for p in data.points], "current", "line"),
                Series([float(p.revenue) for p in data.prior_points], "prior", "dots"),
            ],
            _periods_legend(),
        )


class AccountGrowthCard(ChartCard[Trend]):
    KIND = "bars"
    INTEGER = True

    def __init__(self) -> None:
        super().__init__(t("dashboard.chart.account_growth"), id="account-growth")

    def fetch(self, conn: Connection, request: CardRequest) -> Trend:
        return new_tenants_trend(conn, request.period, request.now)

    def shows_no_data(self, data: Trend) -> bool:
        return _all_zero([p.value for p in data.points], [p.value for p in data.prior_points])

    def show_data(self, data: Trend) -> None:
        self.set_subtitle(t("dashboard.chart.growth_subtitle", count=data.total, prior_total=number(data.prior_total)))
        self.draw(
            [day_label(p.date) for p in data.points],
            [
                Series([float(p.value) for p in data.points], "current", "bars"),
                Series([float(p.value) for p in data.prior_points], "prior", "shaded"),
            ],
            _periods_legend(),
        )


class UserLoginsCard(ChartCard[LoginTrend]):
    INTEGER = True

    def __init__(self) -> None:
        super().__init__(t("dashboard.chart.user_logins"), id="user-logins")

    def fetch(self, conn: Connection, request: CardRequest) -> LoginTrend:
        return login_activity_trend(conn, request.period, request.now)

    def shows_no_data(self, data: LoginTrend) -> bool:
        return _all_zero([p.value for p in data.points], [p.failed for p in data.points])

    def show_data(self, data: LoginTrend) -> None:
        total = sum(p.value for p in data.points)
        self.set_subtitle(
            t(
                "dashboard.chart.logins_subtitle",
                total=number(total),
                average=number(round(total / len(data.points))),
            )
        )
        self.draw(
            [day_label(p.date) for p in data.points],
            [
                Series([float(p.value) for p in data.points], "success", "line"),
                Series([float(p.failed) for p in data.points], "failure", "crosses"),
            ],
            [t("dashboard.chart.successful"), t("dashboard.chart.failed")],
        )


_PLAN_ROLES: dict[str, Role] = {"Premium": "plan-premium", "Standard": "plan-standard", "Basis": "plan-basis"}


class PlanDistributionCard(ChartCard[PlanDistribution]):
    """One bar per plan, and the paid / trial / canceled / free split beside it."""

    KIND = "hbars"
    request_key_fields = ()  # the same for every period: never blank it on a period change

    def __init__(self) -> None:
        super().__init__(t("dashboard.chart.plan_distribution"), id="plan-distribution")

    def compose_content(self) -> ComposeResult:
        with Horizontal(classes="plan-body"):
            yield Chart("hbars", integer=True)
            yield Static("", classes="plan-legend")

    def fetch(self, conn: Connection, request: CardRequest) -> PlanDistribution:
        return plan_distribution(conn)

    def shows_no_data(self, data: PlanDistribution) -> bool:
        return data.total_tenants == 0

    def empty_message(self) -> tuple[str, str]:
        return (t("dashboard.empty.accounts"), t("dashboard.empty.accounts_description"))

    def show_data(self, data: PlanDistribution) -> None:
        self.set_subtitle(t("dashboard.chart.accounts_total", count=data.total_tenants))
        shares = sorted(data.distribution, key=lambda share: -list(_PLAN_ROLES).index(str(share.plan)))
        chart = self.query_one(Chart)
        chart.plot(
            [t(f"enum.plan.{share.plan}") for share in shares],
            [Series([float(share.count)], _PLAN_ROLES[str(share.plan)]) for share in shares],
        )
        lines = [
            f"[{_markup_colour(chart.colour(_PLAN_ROLES[str(share.plan)]))}]{LEGEND_GLYPHS['bars']}[/] "
            f"{escape(t(f'enum.plan.{share.plan}'))} [b]{number(share.count)}[/b] {percentage(share.percentage)}"
            for share in reversed(shares)
        ]
        lines.append("")
        for key, count in (
            ("Paid", data.paid_tenants),
            ("Trial", data.trial_tenants),
            ("Canceled", data.canceled_tenants),
            ("Free", data.free_tenants),
        ):
            lines.append(f"{escape(t(f'enum.account_status.{key}'))} [b]{number(count)}[/b]")
        self.query_one(".plan-legend", Static).update("\n".join(lines))
