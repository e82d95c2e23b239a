"""One header line: where you are on the left; who you are and which database
on the right (click it for the operator menu). Reading from a replica, it also
says when the replica is unreachable or more than 5 s behind (docs/rules.md
R162, R163), loaded in a worker every LAG_REFRESH_SECONDS while its screen shows."""

from __future__ import annotations

from datetime import timedelta

from babel.dates import format_timedelta
from rich.markup import escape
from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.timer import Timer
from textual.widgets import Static

from console.app_access import backoffice
from console.i18n import babel_locale, current_locale, t
from db.engine import ReplicaLag, describe

LAG_REFRESH_SECONDS = 10.0
HIDDEN_CHECK_SECONDS = 1.0


def replica_note(lag: ReplicaLag | None, down: bool, shown_over: float) -> str:
    """What the header says of the replica: unreachable, or how far behind
    when that is over `shown_over` seconds; else nothing."""
    if down:
        return t("replica.header_unreachable")
    if lag is None or lag.seconds is None or not lag.over(shown_over):
        return ""
    behind = format_timedelta(
        timedelta(seconds=round(lag.seconds)), threshold=1, format="short", locale=babel_locale(current_locale())
    )
    return t("replica.header_lag", behind=behind)


class OperatorBadge(Static):
    def on_click(self) -> None:
        backoffice(self).action_operator_menu()


class AppHeader(Horizontal):
    def __init__(self, title: str) -> None:
        super().__init__(id="app-header")
        self.screen_title = title

    def compose(self) -> ComposeResult:
        yield Static(f"[b]{escape(t('app.title'))}[/b] · {escape(self.screen_title)}", id="header-title")
        yield Static("", id="header-replica", markup=False)
        yield OperatorBadge("", id="header-operator")

    def on_mount(self) -> None:
        self._lag_timer: Timer | None = None
        self.query_one("#header-replica", Static).display = False
        self.watch(self.app, "is_admin", self._show_operator)
        app = backoffice(self)
        if app.engines.replica is not None:
            app.replica_changed.subscribe(self, lambda _reachable: self.load_replica_state())
            self.load_replica_state()

    # -- the replica -----------------------------------------------------------

    @work(thread=True, exclusive=True, group="replica-lag")
    def load_replica_state(self) -> None:
        engines = backoffice(self).engines
        try:
            lag = engines.lag()
        except Exception:  # the primary is out of reach: the banners say so
            lag = None
        self.app.call_from_thread(self._show_replica_state, lag, engines.replica_down)

    def _show_replica_state(self, lag: ReplicaLag | None, down: bool) -> None:
        text = replica_note(lag, down, backoffice(self).engines.lag_shown_over)
        replica = self.query_one("#header-replica", Static)
        replica.update(text)
        replica.display = bool(text)
        # Re-armed after each answer, so a slow replica never overlaps the next load.
        if self._lag_timer is not None:
            self._lag_timer.stop()
        self._lag_timer = self.set_timer(LAG_REFRESH_SECONDS, self._refresh_replica_state)

    def _refresh_replica_state(self) -> None:
        if self.screen.is_current:
            self.load_replica_state()
        else:  # a hidden screen's header loads as soon as its screen shows again
            self._lag_timer = self.set_timer(HIDDEN_CHECK_SECONDS, self._refresh_replica_state)

    def _show_operator(self, is_admin: bool) -> None:
        app = backoffice(self)
        text = f"{escape(app.settings.operator)} · {escape(describe(app.engine))}"
        if is_admin:
            text += f"  [reverse] {escape(t('header.admin'))} [/reverse]"
        self.query_one("#header-operator", OperatorBadge).update(text)

    def set_title(self, title: str) -> None:
        self.screen_title = title
        self.query_one("#header-title", Static).update(f"[b]{escape(t('app.title'))}[/b] · {escape(title)}")
