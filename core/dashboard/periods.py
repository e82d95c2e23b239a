"""Report periods and their day windows (docs/rules.md R79-R81).

Two kinds of window (docs/rules.md R80, R81):
- rolling instants for the KPI counts: [now - N days, now) and the N days before;
- UTC calendar days for the trends: the current window is the N days ending
  today (inclusive), the prior window the N days before it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

PERIODS = (7, 30, 90)
DEFAULT_PERIOD = 30


def check_period(days: int) -> int:
    if days not in PERIODS:
        raise ValueError(f"period must be one of {', '.join(map(str, PERIODS))} days, not {days}")
    return days


def start_of_day(day: date) -> datetime:
    """00:00 UTC of a calendar day."""
    return datetime.combine(day, time.min, tzinfo=UTC)


@dataclass(frozen=True)
class DayWindows:
    """The current and prior windows of a trend, N UTC days each."""

    days: int
    today: date

    @classmethod
    def ending(cls, now: datetime, days: int) -> DayWindows:
        return cls(check_period(days), now.astimezone(UTC).date())

    @property
    def start(self) -> date:
        """First day of the current window."""
        return self.today - timedelta(days=self.days - 1)

    @property
    def prior_start(self) -> date:
        return self.start - timedelta(days=self.days)

    @property
    def current_days(self) -> list[date]:
        return [self.start + timedelta(days=i) for i in range(self.days)]

    @property
    def prior_days(self) -> list[date]:
        return [self.prior_start + timedelta(days=i) for i in range(self.days)]

    @property
    def loaded_from(self) -> datetime:
        """00:00 UTC of the first prior day: where trend data starts."""
        return start_of_day(self.prior_start)

    @property
    def loaded_until(self) -> datetime:
        """00:00 UTC after today: where trend data ends (exclusive)."""
        return start_of_day(self.today + timedelta(days=1))
