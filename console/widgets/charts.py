"""Charts drawn with plotext (textual-plotext). They only draw: the series come
shaped from core, and the widget declares the plot on its own `self.plt`.

Colours come from the active theme (`chart-*` variables of our themes, the
theme's primary/success/error otherwise); with an ANSI theme or NO_COLOR the
plot uses named terminal colours. Ticks are recomputed from the widget's size,
so a resize or a theme change redraws the plot.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from textual.color import Color
from textual_plotext import PlotextPlot

from console.formatting import compact

Role = Literal["current", "prior", "success", "failure", "plan-premium", "plan-standard", "plan-basis"]

# Theme variable for a role, and the theme colour to fall back to.
_ROLE_VARIABLES: dict[str, tuple[str, str]] = {
    "current": ("chart-current", "primary"),
    "prior": ("chart-prior", "foreground-muted"),
    "success": ("chart-success", "success"),
    "failure": ("chart-failure", "error"),
    "plan-premium": ("chart-plan-premium", "accent"),
    "plan-standard": ("chart-plan-standard", "primary"),
    "plan-basis": ("chart-plan-basis", "secondary"),
}
_ANSI_NAMES: dict[str, str] = {
    "current": "blue",
    "prior": "gray",
    "success": "green",
    "failure": "red",
    "plan-premium": "magenta",
    "plan-standard": "cyan",
    "plan-basis": "yellow",
}

PlotColour = str | tuple[int, int, int]


@dataclass(frozen=True)
class Series:
    values: list[float]
    role: Role


class Chart(PlotextPlot):
    """A line or bar chart over N labelled points (days, or plans)."""

    DEFAULT_CLASSES = "chart"

    def __init__(
        self,
        kind: Literal["line", "bars", "hbars"],
        *,
        integer: bool = False,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.kind = kind
        self.integer = integer
        self.labels: list[str] = []
        self.series: list[Series] = []

    def on_mount(self) -> None:
        super().on_mount()
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self.replot())

    def plot(self, labels: list[str], series: list[Series]) -> None:
        self.labels = labels
        self.series = series
        self.replot()

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
        else:
            self._plot_over_days()
        self.refresh()

    def _plot_over_days(self) -> None:
        plt = self.plt
        positions = list(range(len(self.labels)))
        if self.kind == "bars":
            values = [s.values for s in self.series]
            colours = [self.colour(s.role) for s in self.series]
            plt.multiple_bar(positions, values, color=colours, width=0.9)
        else:
            for series in reversed(self.series):  # the current series drawn last, on top
                plt.plot(positions, series.values, color=self.colour(series.role), marker="braille")
        ticks = _spread(len(self.labels), max(2, self.size.width // 14))
        plt.xticks(ticks, [self.labels[i] for i in ticks])
        top = max((max(s.values, default=0) for s in self.series), default=0)
        self._y_ticks(top)

    def _plot_hbars(self) -> None:
        """One bar per label; series i holds bar i's single value, in its own colour."""
        plt = self.plt
        positions = list(range(1, len(self.labels) + 1))
        for position, series in zip(positions, self.series):
            plt.bar([position], series.values, orientation="horizontal", color=self.colour(series.role), width=0.6)
        plt.yticks(positions, self.labels)
        top = max((max(s.values, default=0) for s in self.series), default=0)
        values, labels = _axis_ticks(top, integer=True)
        plt.xticks(values, labels)
        plt.xlim(0, values[-1])

    def _y_ticks(self, top: float) -> None:
        self.plt.yticks(*_axis_ticks(top, integer=self.integer))
        self.plt.ylim(0, max(_axis_ticks(top, integer=self.integer)[0][-1], 1))


def _spread(count: int, wanted: int) -> list[int]:
    """Up to `wanted` evenly spread indexes, always the first and the last."""
    if count <= wanted:
        return list(range(count))
    step = (count - 1) / (wanted - 1)
    return sorted({round(i * step) for i in range(wanted)})


def _axis_ticks(top: float, *, integer: bool) -> tuple[list[float], list[str]]:
    """Zero and three or four round steps up to at least `top`, labelled compactly."""
    if top <= 0:
        return [0.0, 1.0], ["0", "1"]
    raw_step = top / 4
    magnitude = 10 ** math.floor(math.log10(raw_step))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw_step)
    if integer:
        step = max(1, math.ceil(step))
    count = math.ceil(top / step)
    values = [i * step for i in range(count + 1)]
    return values, [compact(v) for v in values]
