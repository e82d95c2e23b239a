"""Help (`?`): every key of console/keys.py by scope (the dashboard charts'
among them, docs/rules.md R130), the MRR policy (core.money.MRR_POLICY,
translated; a test keeps the en-US text equal to it) and how the language is
chosen (docs/rules.md R131)."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import ModalScreen
from textual.widgets import Static

from console import keys
from console.i18n import t
from console.widgets.scroll import ScrollArea


def keys_table(*, admin: bool) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(justify="right", style="bold", no_wrap=True)
    table.add_column()
    for scope in keys.SCOPE_ORDER:
        entries = keys.keys_in(scope, admin=admin)
        if not entries:
            continue
        if table.row_count:
            table.add_row("", "")
        table.add_row("", Text(t(f"help.scope.{scope}"), style="bold underline"))
        for entry in entries:
            table.add_row(keys.display(entry), t(entry.description))
    return table


class HelpScreen(ModalScreen[None]):
    AUTO_FOCUS = "#help-dialog"
    BINDINGS = [
        Binding("escape,question_mark,q", "dismiss", show=False),
    ]

    def compose(self) -> ComposeResult:
        app = self.app
        with ScrollArea(id="help-dialog") as dialog:
            dialog.border_title = t("help.title")
            dialog.border_subtitle = t("help.close")
            yield Static(keys_table(admin=getattr(app, "can_admin", False)), id="help-keys")
            yield Static(f"[b]{t('help.mrr_policy')}[/b]\n{t('dashboard.mrr_policy')}", id="help-mrr-policy")
            yield Static(f"[b]{t('language.help_title')}[/b]\n{t('language.help')}", id="help-language")
            yield Static(t("help.kiosk_note"), id="help-kiosk-note", classes="muted")
