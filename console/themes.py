"""The console's themes, registered with Textual's theme system.

`backoffice-dark` is the default; `backoffice-light` for bright rooms;
`backoffice-ansi` uses only the 16 terminal colours (old terminals, some SSH
and tmux set-ups) and lets the terminal's own palette decide. NO_COLOR is
honoured by Textual itself (monochrome output). The `chart-*` variables give
the plot colours (console/widgets/charts.py).
"""

from __future__ import annotations

from dataclasses import replace

from textual.theme import BUILTIN_THEMES, Theme

_CHARTS_DARK = {
    "chart-current": "#4ea1ff",
    "chart-prior": "#7f8794",
    "chart-success": "#4ebf71",
    "chart-failure": "#e5534b",
    "chart-plan-premium": "#c678dd",
    "chart-plan-standard": "#4ea1ff",
    "chart-plan-basis": "#d19a66",
}

THEMES = (
    Theme(
        name="backoffice-dark",
        primary="#4ea1ff",
        secondary="#7aa2c8",
        accent="#c678dd",
        warning="#e5a50a",
        error="#e5534b",
        success="#4ebf71",
        foreground="#e6e6e6",
        background="#14171c",
        surface="#1b1f26",
        panel="#242a33",
        dark=True,
        variables=_CHARTS_DARK,
    ),
    Theme(
        name="backoffice-light",
        primary="#0b62c4",
        secondary="#4a6a8a",
        accent="#8e44ad",
        warning="#b7791f",
        error="#c0392b",
        success="#1e8449",
        foreground="#1f2328",
        background="#f6f8fa",
        surface="#ffffff",
        panel="#e8ecf0",
        dark=False,
        variables={
            **_CHARTS_DARK,
            "chart-current": "#0b62c4",
            "chart-prior": "#8c959f",
            "chart-success": "#1e8449",
            "chart-failure": "#c0392b",
            "chart-plan-standard": "#0b62c4",
        },
    ),
    # Textual's own 16-colour theme, with a distinct accent for the plans.
    replace(BUILTIN_THEMES["ansi-dark"], name="backoffice-ansi", accent="ansi_magenta"),
)
