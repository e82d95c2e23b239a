"""The dashboard's chart cards: MRR trend, revenue, plan distribution, account
growth and user logins. Each loads its own core result in a worker and hands
the shaped series to a `Chart`, which only draws.

Each card also gives its figures as a table: one row per point (day, or
plan), the same row the readout under a focused chart shows for the point
under the cursor, and `t` shows them all in a DataTable instead of the chart
(docs/rules.md R130). A row's figures are core's: the day's value, the prior
period's value of the same day, and their change by `core.money.percent_change`.
A wall card (console/widgets/kiosk_cards.py) sets INTERACTIVE = False: no
focus, no cursor, no keys.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from decimal import Decimal
from typing import Any, Generic, TypeVar

from rich.markup import escape
from rich.text import Text
from sqlalchemy import Connection
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import DataTable, Static

from console import keys
from console.formatting import DASH, day_label, delta_percent, money, number, percentage, short_date
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
ValueT = TypeVar("ValueT", Decimal, int)


def _markup_colour(colour: PlotColour) -> str:
    return f"rgb({colour[0]},{colour[1]},{colour[2]})" if isinstance(colour, tuple) else colour


Row = tuple[str, ...]


def change_text(current: Decimal | int, prior: Decimal | int) -> str:
    return delta_percent(percent_change(current, prior))


class ChartCard(DataCard[CardRequest, DataT], Generic[DataT]):
    """A card with one chart and a legend line under it; interactive, a
    readout line for the cursor's point and the table view (`t`)."""

    KIND = "line"
    INTEGER = False
    EMPTY_KEY = "dashboard.chart.no_data"
    INTERACTIVE = True

    def __init__(self, title: str, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(title, id=id, classes=classes)
        self.columns: list[str] = []
        self.rows: list[Row] = []
        self.table_shown = False
        if self.INTERACTIVE:
            self.add_class("-interactive")
            keys.bind_scopes(self, "chart")

    def compose_content(self) -> ComposeResult:
        yield Chart(self.KIND, integer=self.INTEGER, interactive=self.INTERACTIVE)  # type: ignore[arg-type]
        yield from self.compose_readout()
        yield Static("", classes="chart-legend chart-body-part")

    def compose_readout(self) -> ComposeResult:
        if not self.INTERACTIVE:
            return  # a wall's chart: no readout, no table
        readout = Static("", classes="chart-readout")
        readout.display = False
        yield readout
        table: DataTable[str] = DataTable(cursor_type="row", zebra_stripes=True, classes="chart-table")
        table.display = False
        yield table

    def empty_message(self) -> tuple[str, str]:
        return (t(self.EMPTY_KEY), "")

    # -- readout and table ---------------------------------------------------

    def set_points(self, columns: list[str], rows: list[Row]) -> None:
        """The figures of every point, formatted: the readout's and the table's."""
        self.columns = columns
        self.rows = rows
        if not self.INTERACTIVE:
            return
        if self.table_shown:
            self._fill_table()
        chart = self.query_one(Chart)
        self._show_readout(chart.cursor if chart.cursor_shown else None)

    def readout(self, index: int) -> Text:
        """The point's row as one line: the first cell, then each figure after its column's name."""
        row = self.rows[index]
        line = Text(row[0], style="bold")
        for name, value in zip(self.columns[1:], row[1:], strict=True):
            line.append("  ")
            line.append(name, style="dim")
            line.append(f" {value}")
        return line

    def _show_readout(self, index: int | None) -> None:
        readout = self.query_one(".chart-readout", Static)
        shown = index is not None and 0 <= index < len(self.rows) and not self.table_shown
        readout.update(self.readout(index) if shown and index is not None else Text())
        readout.display = shown
        if shown:
            # The whole card in view, the readout under the chart too (80x24).
            self.call_after_refresh(self.scroll_visible, animate=False)

    def on_chart_cursor_moved(self, message: Chart.CursorMoved) -> None:
        message.stop()
        self._show_readout(message.index)

    def _fill_table(self) -> None:
        """Every row; the cursor stays on its row when a
        refresh fills the table again, and starts on the chart's cursor."""
        table = self.query_one(".chart-table", DataTable)
        chart = self.query_one(Chart)
        row = table.cursor_row if table.row_count else chart.cursor
        table.clear(columns=True)
        for index, name in enumerate(self.columns):
            table.add_column(name, key=str(index))
        table.add_rows(self.rows)
        if row is not None and row < len(self.rows):
            table.move_cursor(row=row, animate=False)

    def action_chart_move(self, step: int) -> None:
        self.query_one(Chart).move_cursor(step)

    def action_chart_first(self) -> None:
        self.query_one(Chart).set_cursor(0)

    def action_chart_last(self) -> None:
        chart = self.query_one(Chart)
        chart.set_cursor(len(chart.labels) - 1)

    def action_toggle_table(self) -> None:
        """The chart's figures as a table, and back; the cursor follows the table's row."""
        if self.state != "data":
            return
        chart = self.query_one(Chart)
        table = self.query_one(".chart-table", DataTable)
        self.table_shown = not self.table_shown
        if self.table_shown:
            table.clear(columns=True)  # from the chart's cursor, not where the table was left
            self._fill_table()
        else:
            chart.cursor = table.cursor_row if self.rows else chart.cursor
        for widget in self.query(".chart-body-part"):
            widget.display = not self.table_shown
        chart.display = not self.table_shown
        table.display = self.table_shown
        self._show_readout(None)
        (table if self.table_shown else chart).focus()
        self.call_after_refresh(self.scroll_visible, animate=False)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("chart_move", "chart_first", "chart_last"):
            return not self.table_shown and self.state == "data"
        return True

    def draw(
        self, labels: list[str], series: list[Series], legend: Sequence[str], table: tuple[list[str], list[Row]]
    ) -> None:
        """`legend[i]` names `series[i]`, shown with the glyph and colour it is drawn in;
        `table` is the figures of every point (`set_points`)."""
        chart = self.query_one(Chart)
        chart.plot(labels, series)
        self.set_points(*table)
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


def _period_rows(
    value_column: str,
    points: Sequence[tuple[date, ValueT]],
    prior: Sequence[ValueT],
    formatted: Callable[[ValueT], str],
) -> tuple[list[str], list[Row]]:
    """Date, the day's value, the prior period's value of the same day, the change."""
    columns = [
        t("dashboard.chart.column_date"),
        value_column,
        t("dashboard.chart.column_prior"),
        t("dashboard.chart.column_change"),
    ]
    rows: list[Row] = []
    for index, (day, value) in enumerate(points):
        before = prior[index] if index < len(prior) else None
        rows.append(
            (
                short_date(day),
                formatted(value),
                DASH if before is None else formatted(before),
                DASH if before is None else change_text(value, before),
            )
        )
    return columns, rows


def _login_rows(data: LoginTrend) -> tuple[list[str], list[Row]]:
    """Successful sign-ins against the prior period's, and the failed ones of the day."""
    columns, rows = _period_rows(
        t("dashboard.chart.successful"),
        [(p.date, p.value) for p in data.points],
        [p.value for p in data.prior_points],
        number,
    )
    columns.append(t("dashboard.chart.failed"))
    return columns, [(*row, number(p.failed)) for row, p in zip(rows, data.points, strict=True)]


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
            _period_rows(
                t("dashboard.chart.column_mrr"),
                [(p.date, p.monthly_recurring_revenue) for p in data.points],
                [p.monthly_recurring_revenue for p in data.prior_points],
                lambda value: money(value, data.currency),
            ),
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
            _period_rows(
                t("dashboard.chart.column_revenue"),
                [(p.date, p.revenue) for p in data.points],
                [p.revenue for p in data.prior_points],
                lambda value: money(value, data.currency),
            ),
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
            _period_rows(
                t("dashboard.chart.column_new_accounts"),
                [(p.date, p.value) for p in data.points],
                [p.value for p in data.prior_points],
                number,
            ),
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
            _login_rows(data),
        )


_PLAN_ROLES: dict[str, Role] = {"Premium": "plan-premium", "Standard": "plan-standard", "Basis": "plan-basis"}


class PlanDistributionCard(ChartCard[PlanDistribution]):
    """One bar per plan, and the paid / trial / canceled / free split beside it."""

    KIND = "hbars"
    request_key_fields = ()  # the same for every period: never blank it on a period change

    def __init__(self) -> None:
        super().__init__(t("dashboard.chart.plan_distribution"), id="plan-distribution")

    def compose_content(self) -> ComposeResult:
        with Horizontal(classes="plan-body chart-body-part"):
            yield Chart("hbars", integer=True, interactive=self.INTERACTIVE)
            yield Static("", classes="plan-legend")
        yield from self.compose_readout()

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
        # The cursor steps over the bars, bottom to top: so does the table.
        self.set_points(
            [
                t("dashboard.chart.column_plan"),
                t("dashboard.chart.column_accounts"),
                t("dashboard.chart.column_share"),
            ],
            [(t(f"enum.plan.{share.plan}"), number(share.count), percentage(share.percentage)) for share in shares],
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
