"""The kiosk's cards: the dashboard's own cards (the same core calls, loaded
the same way), drawn for a wall across the room.

`WallCard` is mixed in before a dashboard card. It repaints only when the
figures changed (a wall refreshes the same figures for weeks); like every
card it keeps them on screen when a refresh fails, and the kiosk screen greys
them once they are too old and says why. Nothing in it can be focused or
opened: no "View all", no row cursor. The KPI tiles show their
values in Textual's big `Digits`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar

from rich.markup import escape
from textual.app import ComposeResult
from textual.containers import Grid, Vertical
from textual.renderables.digits import Digits as DigitsRenderable
from textual.widgets import DataTable, Digits, Static

from console.formatting import amount, compact, delta_percent, number
from console.i18n import t
from console.widgets.kpi import KpiCard, new_accounts_text, tone_of
from console.widgets.recent import RecentBillingEventsCard, RecentLoginsCard, RecentPaymentsCard, RecentSignupsCard
from console.widgets.trend_cards import (
    AccountGrowthCard,
    MrrTrendCard,
    PlanDistributionCard,
    RevenueCard,
    UserLoginsCard,
)
from core.dashboard.kpis import Kpis

NO_FIGURE = "-"  # a big dash: Digits draws no em dash


class WallCard:
    """Mixed in before a `DataCard` subclass (see the module docstring)."""

    LINK: ClassVar[tuple[str, dict[str, Any]] | None] = None  # no "View all" on a wall
    INTERACTIVE = False  # a chart card's: no focus, cursor or table on a wall
    loaded_at: float | None
    data_from: datetime | None
    _painted: tuple[Any, datetime] | None = None  # the data shown, and the minute it was shown for

    def repaint_needed(self, data: Any, request: Any) -> bool:
        card: Any = self
        # "5 minutes ago" changes with the minute, so that is part of what is shown.
        painted = (data, request.now.replace(second=0, microsecond=0))
        same = card.state == "data" and painted == self._painted
        self._painted = painted
        return not same

    def show_loading(self) -> None:
        card: Any = self
        if card.state not in ("error", "empty"):  # a retry keeps the reason on screen, not a spinner
            super().show_loading()  # type: ignore[misc]

    def is_stale(self, now: float, since_start: float, max_age: float) -> bool:
        """Older than `max_age` seconds; a card that never loaded counts from `since_start`."""
        return now - (self.loaded_at if self.loaded_at is not None else since_start) > max_age


# -- KPI tiles ----------------------------------------------------------------


def fitting(figures: Sequence[str], width: int) -> str:
    """The first figure whose big digits fit `width` cells, else the last (shortest)."""
    if not figures:
        return NO_FIGURE
    if width <= 0:
        return figures[0]
    return next((figure for figure in figures if DigitsRenderable.get_width(figure) <= width), figures[-1])


def count_figures(value: int) -> list[str]:
    return [number(value), compact(value)]


def money_figures(value: Decimal) -> list[str]:
    """From the most to the least precise: 1,234.50, 1,235, 1.2K."""
    return [amount(value), amount(value, decimals=0), compact(value)]


class WallTile(Vertical):
    """A KPI for the wall: label, the value in big digits, its change under it.
    The value is given as alternatives, longest first; the tile shows the
    longest that fits its width, again after each resize."""

    DEFAULT_CLASSES = "wall-tile"

    def __init__(self, label: str, *, id: str) -> None:
        super().__init__(id=id)
        self._label = label
        self._figures: list[str] = []

    def compose(self) -> ComposeResult:
        yield Static(escape(self._label.upper()), classes="wall-tile-label")
        yield Digits(NO_FIGURE, classes="wall-tile-value")
        plain = Static("", classes="wall-tile-plain")
        plain.display = False
        yield plain
        yield Static("", classes="wall-tile-change")

    def show(self, figures: Sequence[str], change: str = "", tone: str | None = None, label: str | None = None) -> None:
        if label is not None:
            self.query_one(".wall-tile-label", Static).update(escape(label.upper()))
        self._figures = list(figures)
        self._fit()
        change_widget = self.query_one(".wall-tile-change", Static)
        change_widget.update(escape(change))
        for name in ("up", "down", "flat"):
            change_widget.set_class(tone == name, f"-{name}")

    def on_resize(self) -> None:
        self._fit()

    def _fit(self) -> None:
        """Big digits when a figure fits; else the figure in plain bold text."""
        value = self.query_one(Digits)
        plain = self.query_one(".wall-tile-plain", Static)
        width = self.content_size.width
        figure = fitting(self._figures, width)
        fits = width <= 0 or DigitsRenderable.get_width(figure) <= width
        if value.value != figure:
            value.update(figure)
        value.display = fits
        plain.display = not fits
        if not fits:
            plain.update(f"[b]{escape(figure)}[/b]")


class WallKpiCard(WallCard, KpiCard):
    """The dashboard's KPI card (one core call) as six big tiles."""

    def compose_content(self) -> ComposeResult:
        with Grid(id="wall-kpi-grid"):
            yield WallTile(t("dashboard.kpi.total_accounts"), id="tile-total-accounts")
            yield WallTile(t("dashboard.kpi.blended_mrr"), id="tile-blended-mrr")
            yield WallTile(t("dashboard.kpi.total_revenue"), id="tile-total-revenue")
            yield WallTile(t("dashboard.kpi.users_active"), id="tile-users-active")
            yield WallTile(t("dashboard.kpi.sessions_started"), id="tile-sessions-started")
            # The dashboard's "active / trial / canceled" in one figure would not fit in big digits.
            yield WallTile(t("kiosk.kpi.active_accounts"), id="tile-account-status")

    def show_data(self, data: Kpis) -> None:
        days = data.period
        self._wall_tile("total-accounts").show(
            count_figures(data.total_tenants), new_accounts_text(data), tone_of(data.new_tenants_delta_percent)
        )
        mrr_delta = data.blended_monthly_recurring_revenue_delta_percent
        currency = (data.currency or "").upper()
        self._wall_tile("blended-mrr").show(
            money_figures(data.blended_monthly_recurring_revenue),
            t("dashboard.kpi.mrr_over_period", delta=delta_percent(mrr_delta), days=days)
            if mrr_delta is not None
            else "",
            tone_of(mrr_delta),
            label=_with_currency(t("dashboard.kpi.blended_mrr"), currency),
        )
        self._wall_tile("total-revenue").show(
            money_figures(data.total_revenue),
            t("dashboard.kpi.all_time_ex_vat"),
            label=_with_currency(t("dashboard.kpi.total_revenue"), currency),
        )
        self._wall_tile("users-active").show(
            count_figures(data.active_users_in_period), t("dashboard.kpi.last_days", days=days)
        )
        self._wall_tile("sessions-started").show(
            count_figures(data.sessions_started_last_24_hours), t("dashboard.kpi.last_24_hours")
        )
        self._wall_tile("account-status").show(
            count_figures(data.active_tenants),
            t(
                "kiosk.kpi.trial_canceled",
                trial=number(data.trial_tenants),
                canceled=number(data.canceled_tenants),
            ),
        )

    def _wall_tile(self, name: str) -> WallTile:
        return self.query_one(f"#tile-{name}", WallTile)


def _with_currency(label: str, currency: str) -> str:
    return t("kiosk.kpi.in_currency", label=label, currency=currency) if currency else label


# -- charts -------------------------------------------------------------------


class WallMrrTrendCard(WallCard, MrrTrendCard):
    pass


class WallRevenueCard(WallCard, RevenueCard):
    pass


class WallPlanDistributionCard(WallCard, PlanDistributionCard):
    pass


class WallAccountGrowthCard(WallCard, AccountGrowthCard):
    pass


class WallUserLoginsCard(WallCard, UserLoginsCard):
    pass


# -- recent activity ----------------------------------------------------------


class WallRecent:
    """Recent rows without a cursor: nothing on a wall can be selected."""

    def compose_content(self) -> ComposeResult:
        table: DataTable[Any] = DataTable(cursor_type="none", zebra_stripes=True, show_cursor=False)
        table.can_focus = False
        yield table


class WallRecentSignupsCard(WallCard, WallRecent, RecentSignupsCard):
    pass


class WallRecentLoginsCard(WallCard, WallRecent, RecentLoginsCard):
    pass


class WallRecentPaymentsCard(WallCard, WallRecent, RecentPaymentsCard):
    pass


class WallRecentBillingEventsCard(WallCard, WallRecent, RecentBillingEventsCard):
    pass
