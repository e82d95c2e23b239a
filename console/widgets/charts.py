"""Charts drawn with plotext (textual-plotext). They only draw: the series come
shaped from core, and the widget declares the plot on its own `self.plt`.

Colours come from the active theme (`chart-*` variables of our themes, the
theme's primary/success/error otherwise); with an ANSI theme or NO_COLOR the
plot uses named terminal colours. Every series also has a glyph of its own
(a braille line, a chain of dots, crosses, solid or shaded bars), the same in
the plot and in its legend, so no two series differ by colour alone. Ticks
are recomputed from the widget's size, so a resize or a theme change redraws
the plot.

A line chart's axis is scaled to its data when the data sit far above zero
(a 1% change of MRR is then visible), and the plot says where the axis starts.
Bars over days that would be thinner than two columns are drawn for groups of
whole days, and the plot says how many days a bar holds.

An interactive chart (the dashboard's; the wall's are not) takes the focus
with Tab and has a cursor over its points (days, or a bar chart's bars): the
card moves it with the chart keys of console/keys.py and reads the point out
under the chart (docs/rules.md R130). The cursor is drawn only while the
chart has the focus: a vertical marker in the cursor colour behind the
series (the group of days holding the cursor's day, for bars over days), or
a pointer before the bar's label for a horizontal bar chart.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from textual import events
from textual.color import Color
from textual.message import Message
from textual_plotext import PlotextPlot

from console.formatting import compact
from console.i18n import t

Role = Literal["current", "prior", "success", "failure", "plan-premium", "plan-standard", "plan-basis", "cursor"]
Style = Literal["line", "dots", "crosses", "bars", "shaded"]

# Theme variable for a role, and the theme colour to fall back to.
_ROLE_VARIABLES: dict[str, tuple[str, str]] = {
    "current": ("chart-current", "primary"),
    "prior": ("chart-prior", "foreground-muted"),
    "success": ("chart-success", "success"),
    "failure": ("chart-failure", "error"),
    "plan-premium": ("chart-plan-premium", "accent"),
    "plan-standard": ("chart-plan-standard", "primary"),
    "plan-basis": ("chart-plan-basis", "secondary"),
    "cursor": ("chart-cursor", "warning"),
}
_ANSI_NAMES: dict[str, str] = {
    "current": "blue",
    "prior": "gray",
    "success": "green",
    "failure": "red",
    "plan-premium": "magenta",
    "plan-standard": "cyan",
    "plan-basis": "yellow",
    "cursor": "white",
}
# What plotext draws a style with, and what its legend shows.
_MARKERS: dict[str, str] = {"line": "braille", "dots": "•", "crosses": "x", "bars": "█", "shaded": "░"}
LEGEND_GLYPHS: dict[str, str] = {"line": "⠤⠤", "dots": "••", "crosses": "xx", "bars": "█", "shaded": "░"}

# A bar group is each series' bar (two columns) and a column between groups.
_BAR_COLUMNS = 2
_Y_LABEL_COLUMNS = 8  # the tick labels and the axis, left of the plot area
CURSOR_POINTER = "▶"  # before the label of a horizontal bar under the cursor

PlotColour = str | tuple[int, int, int]


@dataclass(frozen=True)
class Series:
    values: list[float]
    role: Role
    style: Style = "line"


class Chart(PlotextPlot):
    """A line or bar chart over N labelled points (days, or plans)."""

    DEFAULT_CLASSES = "chart"

    class CursorMoved(Message):
        """The cursor's point (None: the chart lost the focus, no cursor shown)."""

        def __init__(self, chart: Chart, index: int | None) -> None:
            super().__init__()
            self.chart = chart
            self.index = index

    def __init__(
        self,
        kind: Literal["line", "bars", "hbars"],
        *,
        integer: bool = False,
        interactive: bool = False,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.kind = kind
        self.integer = integer
        self.can_focus = interactive
        self.labels: list[str] = []
        self.series: list[Series] = []
        self.cursor: int | None = None  # index into `labels`, kept across refreshes
        self._per_bar = 1  # days a bar holds (bars over days)

    # -- the cursor ------------------------------------------------------------

    @property
    def cursor_shown(self) -> bool:
        return self.has_focus and self.cursor is not None and bool(self.labels)

    def move_cursor(self, step: int) -> None:
        if not self.labels:
            return
        current = self.cursor if self.cursor is not None else len(self.labels) - 1
        self.set_cursor(current + step)

    def set_cursor(self, index: int) -> None:
        if not self.labels:
            return
        self.cursor = max(0, min(index, len(self.labels) - 1))
        self.replot()
        self._announce()

    def _announce(self) -> None:
        self.post_message(self.CursorMoved(self, self.cursor if self.cursor_shown else None))

    def on_focus(self, event: events.Focus) -> None:
        if self.labels and self.cursor is None:
            self.cursor = len(self.labels) - 1  # the latest day first
        # After Textual's own handler has set `has_focus`.
        self.call_later(self._focus_changed)

    def on_blur(self, event: events.Blur) -> None:
        self.call_later(self._focus_changed)

    def _focus_changed(self) -> None:
        self.replot()
        self._announce()

    def on_mount(self) -> None:
        super().on_mount()
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self.replot())

    def plot(self, labels: list[str], series: list[Series]) -> None:
        self.labels = labels
        self.series = series
        if self.cursor is not None:
            self.cursor = min(self.cursor, len(labels) - 1) if labels else None
        self.replot()
        if self.has_focus:
            self._announce()

    def on_resize(self) -> None:
        self.replot()

    def colour(self, role: str) -> PlotColour:
        if self.app.current_theme.ansi or getattr(self.app, "no_color", False):
            return _ANSI_NAMES[role]
        variables = self.app.theme_variables
        own, fallback = _ROLE_VARIABLES[role]
        value = variables.get(own) or variables.get(fallback) or "white"
        try:
            return Color.parse(value).rgb
        except Exception:  # a theme value plotext cannot draw
            return _ANSI_NAMES[role]

    def replot(self) -> None:
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        self.theme = "clear" if self.app.current_theme.ansi else "auto"
        if not self.series or not self.labels:
            self.refresh()
            return
        if self.kind == "hbars":
            self._plot_hbars()
        elif self.kind == "bars":
            self._plot_bars()
        else:
            self._plot_lines()
        self.refresh()

    def _plot_lines(self) -> None:
        plt = self.plt
        positions = list(range(len(self.labels)))
        if self.cursor_shown and self.cursor is not None:  # first: the series are drawn over the marker
            plt.vline(self.cursor, color=self.colour("cursor"))
        for series in reversed(self.series):  # the current series drawn last, on top
            plt.plot(positions, series.values, color=self.colour(series.role), marker=_MARKERS[series.style])
        self._x_ticks(positions, self.labels)
        values = [value for series in self.series for value in series.values]
        ticks, labels = axis_ticks(min(values), max(values), integer=self.integer)
        plt.yticks(ticks, labels)
        plt.ylim(ticks[0], ticks[-1])
        if ticks[0] > 0:
            plt.xlabel(t("dashboard.chart.axis_from", value=labels[0]))

    def _plot_bars(self) -> None:
        """Each day's (or group of days') bars side by side, at least two columns each."""
        plt = self.plt
        days = len(self.labels)
        plot_columns = max(1, self.size.width - _Y_LABEL_COLUMNS)
        group_columns = _BAR_COLUMNS * len(self.series) + 1
        per_bar = math.ceil(days / max(1, plot_columns // group_columns))
        starts = list(range(0, days, per_bar))
        # Whole days summed into groups: the figures are core's, only their grouping is the chart's.
        grouped = [[sum(series.values[start : start + per_bar]) for start in starts] for series in self.series]
        positions = list(range(len(starts)))
        self._per_bar = per_bar
        if self.cursor_shown and self.cursor is not None:  # behind the bars: visible above them
            plt.vline(self.cursor // per_bar, color=self.colour("cursor"))
        plt.multiple_bar(
            positions,
            grouped,
            # plotext takes a colour and a marker per series here; its stubs say one.
            color=[self.colour(series.role) for series in self.series],  # type: ignore[arg-type]
            marker=[_MARKERS[series.style] for series in self.series],  # type: ignore[arg-type]
            width=0.8,
        )
        self._x_ticks(positions, [self.labels[start] for start in starts])
        ticks, labels = axis_ticks(0, max((max(values, default=0) for values in grouped), default=0), integer=True)
        plt.yticks(ticks, labels)
        plt.ylim(0, ticks[-1])
        if per_bar > 1:
            plt.xlabel(t("dashboard.chart.days_per_bar", count=per_bar))

    def _plot_hbars(self) -> None:
        """One bar per label; series i holds bar i's single value, in its own colour."""
        plt = self.plt
        positions = [float(position) for position in range(1, len(self.labels) + 1)]
        for position, series in zip(positions, self.series, strict=False):
            plt.bar([position], series.values, orientation="horizontal", color=self.colour(series.role), width=0.6)
        if self.cursor_shown:
            pointed = [f"{CURSOR_POINTER if i == self.cursor else ' '}{label}" for i, label in enumerate(self.labels)]
            plt.yticks(positions, pointed)
        else:
            plt.yticks(positions, self.labels)
        top = max((max(s.values, default=0) for s in self.series), default=0)
        values, labels = axis_ticks(0, top, integer=True)
        plt.xticks(values, labels)
        plt.xlim(0, values[-1])

    def _x_ticks(self, positions: list[int], labels: list[str]) -> None:
        ticks = _spread(len(positions), max(2, self.size.width // 14))
        self.plt.xticks([positions[i] for i in ticks], [labels[i] for i in ticks])


def _spread(count: int, wanted: int) -> list[int]:
    """Up to `wanted` evenly spread indexes, always the first and the last."""
    if count <= wanted:
        return list(range(count))
    step = (count - 1) / (wanted - 1)
    return sorted({round(i * step) for i in range(wanted)})


def axis_ticks(low: float, high: float, *, integer: bool) -> tuple[list[float], list[str]]:
    """Three or four round steps from the axis start to at least `high`,
    labelled compactly. The axis starts at zero unless the data sit higher
    above zero than they spread (then a change of a few percent would be a
    flat line): then it starts at the round step below `low`."""
    low, high = min(low, high), max(low, high)
    if high <= 0:
        return [0.0, 1.0], ["0", "1"]
    start_at_zero = low <= 0 or low <= high - low
    bottom = 0.0 if start_at_zero else low
    spread = high - bottom or abs(high) * 0.01 or 1.0
    raw_step = spread / 4
    magnitude = 10 ** math.floor(math.log10(raw_step))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw_step)
    if integer:
        step = max(1, math.ceil(step))
    first = 0.0 if start_at_zero else math.floor(bottom / step) * step
    count = max(1, math.ceil((high - first) / step))
    values = [first + i * step for i in range(count + 1)]
    return values, [compact(v) for v in values]
