"""The period toggle 7d / 30d / 90d: one choice, never cleared, default 30 days."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import Label, Static

from console.i18n import t
from core.dashboard.periods import DEFAULT_PERIOD, PERIODS

__all__ = ["DEFAULT_PERIOD", "PERIODS", "PeriodSelector", "next_period"]


def next_period(days: int) -> int:
    return PERIODS[(PERIODS.index(days) + 1) % len(PERIODS)]


class PeriodChoice(Static):
    def __init__(self, days: int) -> None:
        super().__init__(t("dashboard.period_days", days=days), id=f"period-{days}", classes="period-choice")
        self.days = days

    def on_click(self) -> None:
        self.post_message(PeriodSelector.Chosen(self.days))


class PeriodSelector(Horizontal):
    """Shows the chosen period; `p` on the screen cycles it, a click picks one."""

    period: reactive[int] = reactive(DEFAULT_PERIOD)

    class Chosen(Message):
        def __init__(self, days: int) -> None:
            super().__init__()
            self.days = days

    def compose(self) -> ComposeResult:
        yield Label(f"{t('dashboard.period')} ", classes="period-label")
        for days in PERIODS:
            yield PeriodChoice(days)

    def watch_period(self, days: int) -> None:
        for choice in self.query(PeriodChoice):
            choice.set_class(choice.days == days, "-active")
