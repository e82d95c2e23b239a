"""What the wall display says about itself: the heading with a big clock,
when the figures were updated, where the rotation is, and the notice that
replaces "updated" with the truth when the figures have gone stale."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from rich.markup import escape
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Digits, Static

from console.formatting import clock_face, header_date, time_of_day, utc
from console.i18n import t

ProblemKind = Literal["unreachable", "failing", "waiting"]


@dataclass(frozen=True)
class Problem:
    """Why the figures are not fresh: the database is out of reach, a query
    fails (`error` says which), or a refresh has not answered yet."""

    kind: ProblemKind
    since: datetime
    error: str = ""


def problem_text(problem: Problem) -> str:
    """ "database unreachable since 2:05 PM UTC" and its variants (the wall's
    notice, and the banner every screen shows while the database is away)."""
    return t(f"kiosk.stale.{problem.kind}", since=time_of_day(problem.since), error=problem.error)


def stale_notice(data_from: datetime | None, problem: Problem) -> str:
    """ "Data from 14:02, database unreachable since 14:05" and its variants."""
    reason = problem_text(problem)
    if data_from is None:
        return t("kiosk.stale.no_data", reason=reason)
    return t("kiosk.stale.data_from", time=time_of_day(data_from), reason=reason)


def rotation_indicator(index: int, names: list[str]) -> str:
    """ "● ○ ○ ○ ○  1/5 Key figures": where the rotation is, and what shows."""
    dots = " ".join("●" if position == index else "○" for position in range(len(names)))
    return t("kiosk.rotation", dots=dots, position=index + 1, count=len(names), name=names[index])


def show_text(widget: Static, content: str) -> None:
    """Update only on a change: an update lays the screen out again, and the
    wall repeats the same text every second for weeks."""
    if widget.content != content:
        widget.update(content)


class WallHeading(Horizontal):
    """Three lines on the left (title and date, updated, rotation) and the
    time in big digits on the right, its AM/PM (if the locale has one) beside."""

    def compose(self) -> ComposeResult:
        with Vertical(id="wall-heading-text"):
            yield Static("", id="wall-title")
            yield Static("", id="wall-updated")
            yield Static("", id="wall-rotation")
        yield Digits("", id="wall-clock")
        yield Static("", id="wall-day-period")

    def show_time(self, now: datetime, period_days: int) -> None:
        title = t("kiosk.title", app=t("app.title"), today=header_date(utc(now).date()), days=period_days)
        show_text(self.query_one("#wall-title", Static), f"[b]{escape(title)}[/b]")
        figures, day_period = clock_face(now)
        clock = self.query_one("#wall-clock", Digits)
        if clock.value != figures:
            clock.update(figures)
        # Under the clock's last line: "PM" reads as small print beside the digits.
        show_text(self.query_one("#wall-day-period", Static), "\n\n" + escape(day_period))

    def show_updated(self, text: str, *, warning: bool) -> None:
        updated = self.query_one("#wall-updated", Static)
        show_text(updated, escape(text))
        updated.set_class(warning, "-warning")

    def show_rotation(self, text: str) -> None:
        show_text(self.query_one("#wall-rotation", Static), escape(text))
