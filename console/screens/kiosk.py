"""The kiosk: the dashboard as a wall display, readable across the room.

Five panels: key figures (big digits), MRR and revenue, plans and growth,
logins, recent activity. When the terminal holds them all (WALL_COLUMNS x
WALL_ROWS and up) they show together (class `-everything` on #wall-panels);
otherwise one at a time, the next every `timing.rotate` seconds, with an
indicator of where the rotation is. A resize lays it out again.

The cards are the dashboard's (console/widgets/kiosk_cards.py), loaded in
refresh rounds like the dashboard's: every `timing.refresh` seconds, and every
`timing.retry` seconds while a round fails, so the wall recovers on its own.
Figures older than `timing.stale_after` refresh intervals are greyed and a
notice says since when and why. The screen has no keys and nothing takes
focus; the app lets only ctrl+q through, and ctrl+k when kiosk mode was
turned on from the operator menu (console/app.py).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container, Grid, Horizontal, Vertical
from textual.geometry import Size
from textual.screen import Screen
from textual.widgets import Button, Static

from console.app_access import backoffice
from console.formatting import time_of_day
from console.i18n import t
from console.widgets.banners import Banner, BannerStrip
from console.widgets.cards import CardRequest, DataCard
from console.widgets.dialogs import ConfirmDialog
from console.widgets.kiosk_cards import (
    WallAccountGrowthCard,
    WallCard,
    WallKpiCard,
    WallMrrTrendCard,
    WallPlanDistributionCard,
    WallRecentBillingEventsCard,
    WallRecentLoginsCard,
    WallRecentPaymentsCard,
    WallRecentSignupsCard,
    WallRevenueCard,
    WallUserLoginsCard,
)
from console.widgets.kiosk_status import Problem, WallHeading, rotation_indicator, show_text, stale_notice
from console.widgets.period import DEFAULT_PERIOD

if TYPE_CHECKING:
    from console.app import BackofficeApp

# Where every panel fits at once: six tiles in a row, charts and tables at a readable height.
WALL_COLUMNS = 160
WALL_ROWS = 48
TICK_SECONDS = 1.0  # the clock, and the check for figures gone stale
PANELS: tuple[str, ...] = ("tiles", "revenue", "plans", "logins", "recent")


@dataclass(frozen=True)
class KioskTiming:
    """Seconds between panels, between refreshes and between retries after a
    failure; figures count as stale after `stale_after` refresh intervals."""

    rotate: float = 20.0
    refresh: float = 30.0
    retry: float = 5.0
    stale_after: float = 3.0

    @property
    def max_age(self) -> float:
        return self.refresh * self.stale_after


def fits_everything(size: Size) -> bool:
    return size.width >= WALL_COLUMNS and size.height >= WALL_ROWS


def _seconds(value: float) -> str:
    return f"{value:g}"


class KioskScreen(Screen[None]):
    AUTO_FOCUS = ""  # nothing takes focus (None would mean the app's default, "*")

    def __init__(self, timing: KioskTiming | None = None) -> None:
        super().__init__()
        self.timing = timing or KioskTiming()
        self.panel = 0  # the panel showing while rotating
        self.everything = False  # every panel at once
        self.rounds_completed = 0  # refresh rounds answered, failed or not
        self._round = 0
        self._round_started: datetime | None = None
        self._pending: set[DataCard[Any, Any]] = set()
        self._failures: list[DataCard.Failed] = []
        self._problem: Problem | None = None  # why the last round failed, since its first failure
        self._updated_at: datetime | None = None  # the last round where every card loaded
        self._started = time.monotonic()
        self._cards: list[DataCard[Any, Any]] = []

    @property
    def backoffice(self) -> BackofficeApp:
        return backoffice(self)

    def compose(self) -> ComposeResult:
        yield BannerStrip(id="banners", database=False)
        yield WallHeading(id="wall-heading")
        yield Static("", id="wall-stale")
        with Container(id="wall-panels"):
            with Vertical(id="panel-tiles", classes="wall-panel"):
                yield WallKpiCard()
            with Horizontal(id="panel-revenue", classes="wall-panel"):
                yield WallMrrTrendCard()
                yield WallRevenueCard()
            with Horizontal(id="panel-plans", classes="wall-panel"):
                yield WallPlanDistributionCard()
                yield WallAccountGrowthCard()
            with Vertical(id="panel-logins", classes="wall-panel"):
                yield WallUserLoginsCard()
            with Grid(id="panel-recent", classes="wall-panel"):
                yield WallRecentSignupsCard()
                yield WallRecentLoginsCard()
                yield WallRecentPaymentsCard()
                yield WallRecentBillingEventsCard()

    def on_mount(self) -> None:
        for banner in self.query(Banner):
            banner.can_focus = False  # a wall has nothing to press
        self.query_one("#wall-stale").display = False
        self._cards = list(self.query(DataCard))
        self._lay_out(self.app.size)
        self.set_interval(TICK_SECONDS, self._tick)
        self.set_interval(self.timing.rotate, self._rotate)
        self._tick()
        self._start_round()

    # -- layout and rotation -----------------------------------------------

    def on_resize(self, event: events.Resize) -> None:
        self._lay_out(event.size)

    def _lay_out(self, size: Size) -> None:
        self.everything = fits_everything(size)
        panels = self.query_one("#wall-panels")
        panels.set_class(self.everything, "-everything")
        self._show_panel()

    def _rotate(self) -> None:
        if not self.everything:
            self.panel = (self.panel + 1) % len(PANELS)
            self._show_panel()

    def _show_panel(self) -> None:
        # `display` rather than a class: a class change restyles the panel's
        # whole subtree, several times a minute for weeks.
        for index, name in enumerate(PANELS):
            self.query_one(f"#panel-{name}").display = self.everything or index == self.panel
        names = [t(f"kiosk.panel.{name}") for name in PANELS]
        self.query_one(WallHeading).show_rotation("" if self.everything else rotation_indicator(self.panel, names))

    @property
    def visible_panels(self) -> list[str]:
        """The panels on screen now (for tests and the soak check)."""
        return [name for name in PANELS if self.query_one(f"#panel-{name}").region.area > 0]

    # -- refresh rounds ----------------------------------------------------

    def _start_round(self) -> None:
        self._round += 1
        self._failures = []
        now = self.backoffice.clock()
        self._round_started = now
        request = CardRequest(period=DEFAULT_PERIOD, now=now, round=self._round)
        self._pending = set(self._cards)
        for card in self._cards:
            card.reload(request)

    def on_data_card_loaded(self, message: DataCard.Loaded) -> None:
        self._settled(message.card, message.request, None)

    def on_data_card_failed(self, message: DataCard.Failed) -> None:
        self._settled(message.card, message.request, message)

    def _settled(self, card: DataCard[Any, Any], request: CardRequest, failure: DataCard.Failed | None) -> None:
        if request.round != self._round or card not in self._pending:
            return
        self._pending.discard(card)
        if failure is not None:
            self._failures.append(failure)
        if not self._pending:
            self._round_finished(request)

    def _round_finished(self, request: CardRequest) -> None:
        self.rounds_completed += 1
        if self._failures:
            first = self._failures[0]
            unreachable = any(failure.unreachable for failure in self._failures)
            since = self._problem.since if self._problem is not None else self.backoffice.clock()
            self._problem = Problem("unreachable" if unreachable else "failing", since, first.error)
        else:
            self._problem = None
            self._updated_at = request.now
        self._show_freshness()
        delay = self.timing.retry if self._failures else self.timing.refresh
        self.set_timer(delay, self._start_round)

    # -- clock and freshness -----------------------------------------------

    def _tick(self) -> None:
        self.query_one(WallHeading).show_time(self.backoffice.clock(), DEFAULT_PERIOD)
        self._show_freshness()

    @property
    def stale(self) -> bool:
        """Whether the stale notice shows."""
        return self.query_one("#wall-stale").display

    @property
    def problem(self) -> Problem | None:
        """Why the last refresh round failed, since its first failure; None when it did not."""
        return self._problem

    def _show_freshness(self) -> None:
        now = time.monotonic()
        stale: list[WallCard] = []
        for card in self._cards:
            wall_card: WallCard = card  # type: ignore[assignment]
            is_stale = wall_card.is_stale(now, self._started, self.timing.max_age)
            card.set_class(is_stale, "-stale")
            if is_stale:
                stale.append(wall_card)
        problem = self._problem or self._waiting()
        notice = self.query_one("#wall-stale", Static)
        if stale and problem is not None:
            known = [card.data_from for card in stale if card.data_from is not None]
            show_text(notice, "⚠ " + stale_notice(min(known) if known else None, problem))
        notice.display = bool(stale) and problem is not None
        self.query_one(WallHeading).show_updated(self._updated_text(), warning=self._problem is not None)

    def _waiting(self) -> Problem | None:
        """A round that has not answered yet (a hung connection) is a problem too."""
        if self._pending and self._round_started is not None:
            return Problem("waiting", self._round_started)
        return None

    def _updated_text(self) -> str:
        parts = [t("dashboard.updated_at", time=time_of_day(self._updated_at))] if self._updated_at else []
        if self._problem is not None:
            parts.append(t("card.retrying", seconds=_seconds(self.timing.retry)))
        elif not parts:
            parts.append(t("card.loading"))
        return " · ".join(parts)


class LeaveKioskDialog(ConfirmDialog):
    """ctrl+k on a kiosk turned on from the operator menu: staying is the
    default, leaving takes `y` or the button."""

    BINDINGS = [Binding("y", "leave", show=False), Binding("n", "cancel", show=False)]

    def __init__(self) -> None:
        super().__init__(t("kiosk.leave.title"), t("kiosk.leave.body"), t("kiosk.leave.confirm"))

    def on_mount(self) -> None:
        # After ConfirmDialog's own mount handler, which focuses the confirm button.
        self.call_after_refresh(self.query_one("#cancel", Button).focus)

    def action_leave(self) -> None:
        self.dismiss(True)
