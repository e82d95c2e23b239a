"""The banners at the top of every screen: the database out of reach, then
the three data-quality banners (docs/figures.md#banners) in a fixed order:
unsynced, MRR mismatch, drift.

The app loads the conditions (one worker, re-armed every 60 s) and publishes
them on `app.banners_changed`, and what it learns about the database on
`app.database_changed`; every screen's strip shows the latest state. A
banner is focusable: enter or a click does what its button says: unsynced and
drift open the accounts list filtered to them (docs/rules.md R37, R56), the MRR
mismatch opens the billing events.
A banner whose condition is false is not displayed at all; two or more fold
into one line.
"""

from __future__ import annotations

from typing import Any

from rich.markup import escape
from sqlalchemy import Connection
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Static

from console.app_access import backoffice
from console.formatting import money
from console.i18n import t
from console.widgets.kiosk_status import Problem, problem_text
from core.banners import Banners, MrrConsistency, banners
from core.currency import platform_currency


def load_banners(conn: Connection) -> Banners:
    """Runs in a worker thread: the three conditions, from core."""
    return banners(conn, platform_currency(conn))


def mismatch_shown(consistency: MrrConsistency) -> bool:
    """Shown only when a currency is known and the two figures are not
    consistent (docs/rules.md R34)."""
    return consistency.currency is not None and not consistency.consistent


class Banner(Horizontal):
    """One line: icon and text (cut with an ellipsis when narrow), then the button."""

    BINDINGS = [Binding("enter", "open", show=False)]
    can_focus = True

    def __init__(self, name: str, icon: str, target: str | None, target_params: dict[str, Any]) -> None:
        super().__init__(id=f"banner-{name}", classes="banner")
        self.icon = icon
        self.target = target
        self.target_params = target_params
        self.display = False
        self.active = False  # its condition holds (shown unless folded)

    def compose(self) -> ComposeResult:
        yield Static("", classes="banner-text")
        yield Static("", classes="banner-button")

    def show(self, text: str | None, button: str = "") -> None:
        self.active = text is not None
        if text is not None:
            self.query_one(".banner-text", Static).update(f"{self.icon} {escape(text)}")
            button_widget = self.query_one(".banner-button", Static)
            button_widget.update(f" {escape(button)} ")
            button_widget.display = bool(button)

    def action_open(self) -> None:
        if self.target is not None:
            backoffice(self).navigate(self.target, **self.target_params)

    def on_click(self) -> None:
        self.action_open()


class BannerSummary(Banner):
    """Two or more alerts in one line; focusing it unfolds them."""

    def action_open(self) -> None:
        strip = self.parent
        if isinstance(strip, BannerStrip):
            strip.unfold()


def database_text(problem: Problem, retry_seconds: float) -> str:
    """ "Database unreachable since 2:05 PM UTC · Retrying in 15 s." (the wall
    display's words for the same problem)."""
    text = problem_text(problem)
    return " · ".join((text[:1].upper() + text[1:], t("card.retrying", seconds=f"{retry_seconds:g}")))


class BannerStrip(Vertical):
    """The alerts of the moment. The database out of reach has a line of its
    own. One data-quality alert shows as a line of its own; two or more fold
    into one line that unfolds while the strip has focus, so three alerts
    cost one row of an 80x24 terminal, not three. `database=False`
    leaves the database to a screen that says it in its own words (the wall)."""

    def __init__(self, *, id: str | None = None, database: bool = True) -> None:
        super().__init__(id=id)
        self.database = database

    def compose(self) -> ComposeResult:
        yield BannerSummary("summary", "⚠", None, {})
        yield Banner("database", "⛁", None, {})
        yield Banner("unsynced", "☁", "accounts", {"filter": "unsynced"})
        yield Banner("mrr-mismatch", "⚖", "billing_events", {})
        yield Banner("drift", "⚠", "accounts", {"filter": "drift"})

    def on_mount(self) -> None:
        app: Any = self.app
        app.banners_changed.subscribe(self, lambda _state: self.refresh_state())
        app.database_changed.subscribe(self, lambda _problem: self.refresh_state())
        self.refresh_state()

    @property
    def alerts(self) -> list[Banner]:
        """The data-quality banners whose condition holds (they fold together)."""
        return [
            banner
            for banner in self.query(Banner)
            if banner.active and not isinstance(banner, BannerSummary) and banner.id != "banner-database"
        ]

    def refresh_state(self) -> None:
        app: Any = self.app
        self.show_state(app.banner_state, app.database_problem, app.database_retry_seconds)

    def show_state(self, state: Banners | None, problem: Problem | None = None, retry_seconds: float = 0) -> None:
        unsynced = state.unsynced.unsynced_subscriptions_count if state else 0
        drift = state.drift.subscriptions_with_drift_count if state else 0
        consistency = state.mrr_consistency if state else None
        mismatch = consistency is not None and mismatch_shown(consistency)
        shown_problem = problem if self.database else None
        self.query_one("#banner-database", Banner).show(
            database_text(shown_problem, retry_seconds) if shown_problem else None
        )
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
        alerts = self.alerts
        names = [t(f"banners.short.{(banner.id or '').removeprefix('banner-').replace('-', '_')}") for banner in alerts]
        self.query_one(BannerSummary).show(
            t("banners.summary", count=len(alerts), names=", ".join(names)) if len(alerts) > 1 else None,
            t("banners.show_all"),
        )
        self._lay_out()

    def _lay_out(self) -> None:
        """The database's banner on its own; the others each on a line when
        there is one, or while unfolded, else the summary."""
        alerts = self.alerts
        folded = len(alerts) > 1 and not self.has_focus_within
        summary = self.query_one(BannerSummary)
        summary.display = folded
        summary.set_class(any(banner.id == "banner-drift" for banner in alerts), "-severe")
        for banner in alerts:
            banner.display = not folded
        for banner in self.query(Banner):
            if banner is not summary and not banner.active:
                banner.display = False
        database = self.query_one("#banner-database", Banner)
        database.display = database.active
        self.display = bool(alerts) or database.active

    def unfold(self) -> None:
        """Show every alert and put the focus on the first."""
        alerts = self.alerts
        for banner in alerts:
            banner.display = True
        self.query_one(BannerSummary).display = False
        if alerts:
            alerts[0].focus()

    def on_descendant_focus(self) -> None:
        if isinstance(self.screen.focused, BannerSummary):
            self.unfold()
        else:
            self._lay_out()

    def on_descendant_blur(self) -> None:
        # After the focus has moved: fold again once it has left the strip.
        self.call_after_refresh(self._lay_out)
