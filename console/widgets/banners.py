"""The three data-quality banners (backoffice.md 3), stacked at the top of every
screen in the original's order: unsynced, MRR mismatch, drift.

The app loads the conditions (one worker, re-armed every 60 s) and publishes
them on `app.banners_changed`; every screen's strip shows the latest state. A
banner is focusable: enter or a click goes where the original's button goes.
A banner whose condition is false is not displayed at all.
"""

from __future__ import annotations

from typing import Any

from rich.markup import escape
from sqlalchemy import Connection
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Static

from console.formatting import money
from console.i18n import t
from core.banners import Banners, MrrConsistency, banners
from core.currency import platform_currency


def load_banners(conn: Connection) -> Banners:
    """Runs in a worker thread: the three conditions, from core."""
    return banners(conn, platform_currency(conn))


def mismatch_shown(consistency: MrrConsistency) -> bool:
    """The original shows it only with a currency and a strict inequality."""
    return consistency.currency is not None and not consistency.consistent


class Banner(Horizontal):
    """One line: icon and text (cut with an ellipsis when narrow), then the button."""

    BINDINGS = [Binding("enter", "open", show=False)]
    can_focus = True

    def __init__(self, name: str, icon: str, target: str, target_params: dict[str, Any]) -> None:
        super().__init__(id=f"banner-{name}", classes="banner")
        self.icon = icon
        self.target = target
        self.target_params = target_params
        self.display = False

    def compose(self) -> ComposeResult:
        yield Static("", classes="banner-text")
        yield Static("", classes="banner-button")

    def show(self, text: str | None, button: str = "") -> None:
        self.display = text is not None
        if text is not None:
            self.query_one(".banner-text", Static).update(f"{self.icon} {escape(text)}")
            self.query_one(".banner-button", Static).update(f" {escape(button)} ")

    def action_open(self) -> None:
        self.app.navigate(self.target, **self.target_params)  # type: ignore[attr-defined]

    def on_click(self) -> None:
        self.action_open()


class BannerStrip(Vertical):
    def compose(self) -> ComposeResult:
        yield Banner("unsynced", "☁", "accounts", {"filter": "unsynced"})
        yield Banner("mrr-mismatch", "⚖", "billing_events", {})
        yield Banner("drift", "⚠", "accounts", {"filter": "drift"})

    def on_mount(self) -> None:
        self.app.banners_changed.subscribe(self, self.show_state)  # type: ignore[attr-defined]
        self.show_state(self.app.banner_state)  # type: ignore[attr-defined]

    def show_state(self, state: Banners | None) -> None:
        unsynced = state.unsynced.unsynced_subscriptions_count if state else 0
        drift = state.drift.subscriptions_with_drift_count if state else 0
        consistency = state.mrr_consistency if state else None
        mismatch = consistency is not None and mismatch_shown(consistency)
        self.query_one("#banner-unsynced", Banner).show(
            t("banners.unsynced", count=unsynced) if unsynced > 0 else None, t("banners.view_accounts")
        )
        self.query_one("#banner-mrr-mismatch", Banner).show(
            t(
                "banners.mrr_mismatch",
                kpi=money(consistency.kpi_monthly_recurring_revenue, consistency.currency),
                trend=money(consistency.trend_latest_monthly_recurring_revenue, consistency.currency),
            )
            if consistency is not None and mismatch
            else None,
            t("banners.view_billing_events"),
        )
        self.query_one("#banner-drift", Banner).show(
            t("banners.drift", count=drift) if drift > 0 else None, t("banners.view_accounts")
        )
        self.display = unsynced > 0 or mismatch or drift > 0
