"""KPI tiles: a label, a big value and a subtitle. A tile with a target is
focusable and opens that screen on enter or click (docs/figures.md#kpi-tiles)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from rich.markup import escape
from sqlalchemy import Connection
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Vertical
from textual.message import Message
from textual.widgets import Static

from console.formatting import DASH, delta_percent, money, number
from console.i18n import t
from console.widgets.cards import CardRequest, DataCard
from core.currency import platform_currency
from core.dashboard.kpis import Kpis, kpis


class KpiTile(Vertical):
    DEFAULT_CLASSES = "kpi-tile"
    BINDINGS = [Binding("enter", "select", show=False)]

    class Selected(Message):
        def __init__(self, tile: KpiTile) -> None:
            super().__init__()
            self.tile = tile

    def __init__(
        self,
        label: str,
        *,
        id: str,
        target: str | None = None,
        target_params: dict[str, Any] | None = None,
        tooltip: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.label = label
        self.target = target
        self.target_params = target_params or {}
        self.can_focus = target is not None
        self.set_class(target is not None, "-link")
        if tooltip:
            self.tooltip = tooltip

    def compose(self) -> ComposeResult:
        yield Static(escape(self.label.upper()), classes="kpi-label")
        yield Static(DASH, classes="kpi-value")
        yield Static("", classes="kpi-subtitle")

    def show(self, value: str, subtitle: str = "", tone: str | None = None, badge: str = "") -> None:
        """`tone` colours the subtitle ("up", "down" or "flat" for a delta);
        `badge` is a short muted figure after the value."""
        value_text = f"[b]{escape(value)}[/b]" + (f"  [$text-muted]{escape(badge)}[/]" if badge else "")
        self.query_one(".kpi-value", Static).update(value_text)
        subtitle_widget = self.query_one(".kpi-subtitle", Static)
        subtitle_widget.update(escape(subtitle))
        for name in ("up", "down", "flat"):
            subtitle_widget.set_class(tone == name, f"-{name}")

    def action_select(self) -> None:
        if self.target is not None:
            self.post_message(self.Selected(self))

    def on_click(self) -> None:
        self.action_select()


def new_accounts_change(data: Kpis) -> str:
    """ "new -26.0% vs prior 30d" under "+39 new": the percentage is the change
    in new accounts (the account growth chart's days), not in the total."""
    if data.new_tenants_delta_percent is None:
        return t("dashboard.kpi.last_days", days=data.period)
    # A whole percent, as computed (docs/rules.md R81).
    delta = delta_percent(data.new_tenants_delta_percent, decimals=0)
    return t("dashboard.kpi.new_change", delta=delta, days=data.period)


def new_accounts_text(data: Kpis) -> str:
    """The same in one sentence, for the wall: "+39 new, -26.0% vs prior 30 days"."""
    count = data.new_tenants_in_period
    if data.new_tenants_delta_percent is None:
        return t("dashboard.kpi.new_in_period", count=count, days=data.period)
    delta = delta_percent(data.new_tenants_delta_percent, decimals=0)
    return t("dashboard.kpi.new_vs_prior", count=count, delta=delta, days=data.period)


def tone_of(delta: Decimal | float | None) -> str | None:
    """Green above zero, red below, muted at zero; nothing when there is no delta."""
    if delta is None:
        return None
    value = float(delta)  # a sign test only, no arithmetic
    return "up" if value > 0 else "down" if value < 0 else "flat"


class KpiCard(DataCard[CardRequest, Kpis]):
    """The KPI tiles of the dashboard, loaded by one core call."""

    def __init__(self) -> None:
        super().__init__("", id="kpis", classes="card kpi-card")

    def compose_content(self) -> ComposeResult:
        with Grid(id="kpi-grid"):
            yield KpiTile(t("dashboard.kpi.total_accounts"), id="tile-total-accounts", target="accounts")
            yield KpiTile(
                t("dashboard.kpi.blended_mrr"),
                id="tile-blended-mrr",
                target="billing_events",
                tooltip=t("dashboard.mrr_policy"),
            )
            yield KpiTile(t("dashboard.kpi.total_revenue"), id="tile-total-revenue", target="invoices")
            yield KpiTile(t("dashboard.kpi.users_active"), id="tile-users-active", target="users")
            yield KpiTile(t("dashboard.kpi.sessions_started"), id="tile-sessions-started")
            yield KpiTile(t("dashboard.kpi.account_status"), id="tile-account-status")

    def fetch(self, conn: Connection, request: CardRequest) -> Kpis:
        return kpis(conn, request.period, request.now, platform_currency(conn))

    def show_data(self, data: Kpis) -> None:
        days = data.period
        self._tile("total-accounts").show(
            number(data.total_tenants),
            new_accounts_change(data),
            tone_of(data.new_tenants_delta_percent),
            badge=t("dashboard.kpi.new_count", count=data.new_tenants_in_period),
        )
        mrr_delta = data.blended_monthly_recurring_revenue_delta_percent
        self._tile("blended-mrr").show(
            money(data.blended_monthly_recurring_revenue, data.currency),
            t("dashboard.kpi.mrr_over_period", delta=delta_percent(mrr_delta), days=days)
            if mrr_delta is not None
            else "",
            tone_of(mrr_delta),
        )
        self._tile("total-revenue").show(money(data.total_revenue, data.currency), t("dashboard.kpi.all_time_ex_vat"))
        self._tile("users-active").show(number(data.active_users_in_period), t("dashboard.kpi.last_days", days=days))
        self._tile("sessions-started").show(
            number(data.sessions_started_last_24_hours), t("dashboard.kpi.last_24_hours")
        )
        self._tile("account-status").show(
            " / ".join(number(n) for n in (data.active_tenants, data.trial_tenants, data.canceled_tenants))
        )

    def _tile(self, name: str) -> KpiTile:
        return self.query_one(f"#tile-{name}", KpiTile)
