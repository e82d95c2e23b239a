"""One header line: where you are on the left; who you are and which database
on the right (click it for the operator menu)."""

from __future__ import annotations

from rich.markup import escape
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Static

from console.app_access import backoffice
from console.i18n import t
from db.engine import describe


class OperatorBadge(Static):
    def on_click(self) -> None:
        backoffice(self).action_operator_menu()


class AppHeader(Horizontal):
    def __init__(self, title: str) -> None:
        super().__init__(id="app-header")
        self.screen_title = title

    def compose(self) -> ComposeResult:
        yield Static(f"[b]{escape(t('app.title'))}[/b] · {escape(self.screen_title)}", id="header-title")
        yield OperatorBadge("", id="header-operator")

    def on_mount(self) -> None:
        self.watch(self.app, "is_admin", self._show_operator)

    def _show_operator(self, is_admin: bool) -> None:
        app = backoffice(self)
        text = f"{escape(app.settings.operator)} · {escape(describe(app.engine))}"
        if is_admin:
            text += f"  [reverse] {escape(t('header.admin'))} [/reverse]"
        self.query_one("#header-operator", OperatorBadge).update(text)

    def set_title(self, title: str) -> None:
        self.screen_title = title
        self.query_one("#header-title", Static).update(f"[b]{escape(t('app.title'))}[/b] · {escape(title)}")
