"""The dashboard (docs/figures.md#dashboard: the union of both designs).

The period (7/30/90 days, `p` cycles) drives every card. Cards load in their
own workers; a refresh round starts them all with one `now` and, when the last
one has answered, shows "Updated ..." and arms the next round. A round is due
every REFRESH_SECONDS (sooner after a failure, so a wall display recovers on
its own when the database comes back) and is skipped while the dashboard is
not the visible screen.
"""

from __future__ import annotations

from datetime import datetime

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.reactive import reactive
from textual.timer import Timer
from textual.widgets import Static

from console.formatting import header_date, time_of_day, utc
from console.i18n import t
from console.screens.base import BackofficeScreen
from console.widgets.cards import CardGrid, CardRequest, DataCard
from console.widgets.kpi import KpiCard, KpiTile
from console.widgets.movements import MrrMovementsCard
from console.widgets.period import DEFAULT_PERIOD, PeriodSelector, next_period
from console.widgets.recent import (
    RecentBillingEventsCard,
    RecentLoginsCard,
    RecentPaymentsCard,
    RecentSignupsCard,
)
from console.widgets.scroll import ScrollArea
from console.widgets.trend_cards import (
    AccountGrowthCard,
    MrrTrendCard,
    PlanDistributionCard,
    RevenueCard,
    UserLoginsCard,
)

REFRESH_SECONDS = 30
RETRY_SECONDS = 10


class DashboardScreen(BackofficeScreen):
    NAME = "dashboard"
    TITLE_KEY = "dashboard.title"
    KEY_SCOPES = ("period", "dashboard")
    # The scroll area, always shown: a tile sits behind its card's loading
    # indicator until the figures come, and could not take the focus then.
    AUTO_FOCUS = "#dashboard-cards"

    period: reactive[int] = reactive(DEFAULT_PERIOD, init=False)

    def __init__(self, **params: object) -> None:
        super().__init__(**params)
        self._round = 0
        self._pending: set[DataCard] = set()
        self._failed = False
        self._unreachable = False  # a card of this round could not reach the database
        self._stale = False
        self._timer: Timer | None = None
        self._updated_at: datetime | None = None  # the last round where every card loaded

    def compose_content(self) -> ComposeResult:
        with Horizontal(id="dashboard-header"):
            yield Static("", id="dashboard-overview")
            yield Static("", id="dashboard-updated")
            yield PeriodSelector(id="period")
        with ScrollArea(id="dashboard-cards"):
            yield KpiCard()
            with CardGrid(id="dashboard-grid"):
                yield MrrTrendCard()
                yield PlanDistributionCard()
                yield RevenueCard()
                yield AccountGrowthCard()
                yield UserLoginsCard()
                yield RecentSignupsCard()
                yield RecentLoginsCard()
                yield RecentPaymentsCard()
                yield RecentBillingEventsCard()
                yield MrrMovementsCard()

    def on_mount(self) -> None:
        self.reload_all()

    @property
    def cards(self) -> list[DataCard]:
        return list(self.query(DataCard))

    # -- refresh rounds ----------------------------------------------------

    def reload_all(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        self._round += 1
        self._stale = False
        self._failed = False
        self._unreachable = False
        request = CardRequest(period=self.period, now=self.backoffice.clock(), round=self._round)
        self.query_one("#dashboard-overview", Static).update(
            t("dashboard.overview", today=header_date(utc(request.now).date()))
        )
        self._pending = set(self.cards)
        for card in self._pending:
            card.reload(request)

    def _settled(self, card: DataCard, request: CardRequest, failed: bool) -> None:
        if request.round != self._round:
            return
        self._failed = self._failed or failed
        self._pending.discard(card)
        if self._pending:
            return
        if not self._failed:
            self._updated_at = request.now
        self.backoffice.database_answered(not self._unreachable, RETRY_SECONDS)
        updated = self.query_one("#dashboard-updated", Static)
        text = t("dashboard.updated_at", time=time_of_day(self._updated_at)) if self._updated_at else ""
        if self._failed and not self._unreachable:  # an unreachable database has its own banner
            text = " · ".join(part for part in (text, t("card.retrying", seconds=RETRY_SECONDS)) if part)
        updated.update(text)
        updated.set_class(self._failed, "-stale")
        self._timer = self.set_timer(RETRY_SECONDS if self._failed else REFRESH_SECONDS, self._refresh_due)

    def on_data_card_loaded(self, message: DataCard.Loaded) -> None:
        if message.request == message.card.request:
            message.card.show_age("")
        self._settled(message.card, message.request, failed=False)

    def on_data_card_failed(self, message: DataCard.Failed) -> None:
        card = message.card
        if message.request == card.request and card.has_figures and card.data_from is not None:
            # The last figures stay, greyed, with their age; the banner says why.
            card.show_age(t("card.as_of", time=time_of_day(card.data_from)))
        self._unreachable = self._unreachable or message.unreachable
        self._settled(message.card, message.request, failed=True)

    def _refresh_due(self) -> None:
        self._timer = None
        if self.app.screen is self:
            self.reload_all()
        else:
            # Hidden behind another screen or a dialog: catch up when shown again.
            self._stale = True

    def on_screen_resume(self) -> None:
        super().on_screen_resume()
        if self._stale:
            self.reload_all()

    # -- period and navigation ---------------------------------------------

    def action_cycle_period(self) -> None:
        self.period = next_period(self.period)

    def action_refresh(self) -> None:
        self.reload_all()

    def watch_period(self, period: int) -> None:
        self.query_one(PeriodSelector).period = period
        self.reload_all()

    def on_period_selector_chosen(self, message: PeriodSelector.Chosen) -> None:
        self.period = message.days

    def on_kpi_tile_selected(self, message: KpiTile.Selected) -> None:
        tile = message.tile
        if tile.target is not None:
            self.backoffice.navigate(tile.target, **tile.target_params)
