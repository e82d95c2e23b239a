"""A screen that says it is not built yet, and shows what it was asked for,
so every navigation target exists before its real screen does."""

from __future__ import annotations

from rich.markup import escape
from textual.app import ComposeResult
from textual.containers import Center, Middle
from textual.widgets import Static

from console.i18n import t
from console.screens.base import BackofficeScreen


class PlaceholderScreen(BackofficeScreen):
    def compose_content(self) -> ComposeResult:
        with Middle(), Center():
            yield Static(self._message(), id="placeholder", classes="notice")

    def _message(self) -> str:
        text = f"[b]{escape(self.screen_title())}[/b]\n\n{escape(t('placeholder.body'))}"
        if self.params:
            shown = ", ".join(f"{name}={value}" for name, value in sorted(self.params.items()))
            text += "\n" + escape(t("placeholder.params", params=shown))
        return text

    def params_changed(self) -> None:
        self.query_one("#placeholder", Static).update(self._message())
