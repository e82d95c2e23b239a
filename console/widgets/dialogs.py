"""Dialogs of the admin actions: confirm, progress, result and the actions menu.

Each is a modal screen; a dialog answers through `dismiss(result)` so the
caller's callback decides what comes next. None of them runs any I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from rich.markup import escape
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, LoadingIndicator, OptionList, Static
from textual.widgets.option_list import Option

from console.i18n import t

Tone = Literal["success", "warning", "error", "info"]
ICONS: dict[Tone, str] = {"success": "✓", "warning": "⚠", "error": "✕", "info": "ℹ"}


class ConfirmDialog(ModalScreen[bool]):
    """Asks before a write: escape or "Cancel" answers False. Cancel has the
    focus, so a stray enter changes nothing. With `require`, the operator
    types one of those texts (the account's name or id; `hint` says so)
    before the confirm button works."""

    BINDINGS = [Binding("escape", "cancel", show=False)]

    def __init__(
        self,
        title: str,
        body: str,
        confirm: str,
        *,
        tone: Tone = "warning",
        destructive: bool = False,
        require: Sequence[str] = (),
        hint: str = "",
    ) -> None:
        super().__init__(classes="backoffice-dialog")
        self.dialog_title = title
        self.body = body
        self.confirm_label = confirm
        self.tone = tone
        self.destructive = destructive
        self.require = tuple(text for text in require if text)
        self.hint = hint

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-dialog", classes=f"dialog -{self.tone}"):
            yield Static(f"{ICONS[self.tone]} [b]{escape(self.dialog_title)}[/b]", classes="dialog-title")
            yield Static(escape(self.body), classes="dialog-body")
            if self.require:
                yield Static(escape(self.hint), classes="dialog-hint")
                yield Input(id="confirm-input")
            with Horizontal(classes="dialog-buttons"):
                yield Button(t("admin.cancel"), id="cancel")
                yield Button(
                    self.confirm_label,
                    id="confirm",
                    variant="error" if self.destructive else "primary",
                    disabled=bool(self.require),
                )

    def on_mount(self) -> None:
        self.query_one("#confirm-input" if self.require else "#cancel").focus()

    def _typed(self, value: str) -> bool:
        return value.strip().casefold() in {text.casefold() for text in self.require}

    def on_input_changed(self, event: Input.Changed) -> None:
        self.query_one("#confirm", Button).disabled = not self._typed(event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if self._typed(event.value):
            self.dismiss(True)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "confirm")

    def action_cancel(self) -> None:
        self.dismiss(False)


class ProgressDialog(ModalScreen[None]):
    """Shown while an action runs in a worker; the worker reports steps and
    the caller dismisses it. Keys do nothing meanwhile: the action is one
    database transaction and cannot be stopped halfway."""

    BINDINGS = [Binding("escape", "ignore", show=False)]

    def __init__(self, title: str) -> None:
        super().__init__(classes="backoffice-dialog")
        self.dialog_title = title

    def compose(self) -> ComposeResult:
        with Vertical(id="progress-dialog", classes="dialog -info"):
            yield Static(f"[b]{escape(self.dialog_title)}[/b]", classes="dialog-title")
            yield LoadingIndicator()
            yield Static("", id="progress-step", classes="dialog-hint")

    def report(self, step: str) -> None:
        self.query_one("#progress-step", Static).update(escape(step))

    def action_ignore(self) -> None:
        """Escape must not close the dialog while the action runs."""


class ResultDialog(ModalScreen[str]):
    """The outcome of an action: a titled message and buttons; answers the id
    of the button pressed ("close" for escape)."""

    BINDINGS = [Binding("escape", "close", show=False)]

    def __init__(
        self,
        title: str,
        lines: Sequence[str],
        *,
        tone: Tone,
        buttons: Sequence[tuple[str, str]] = (),
        dialog_id: str = "result-dialog",
    ) -> None:
        super().__init__(classes="backoffice-dialog")
        self.dialog_title = title
        self.lines = lines
        self.tone = tone
        self.buttons = buttons
        self.dialog_id = dialog_id

    def compose(self) -> ComposeResult:
        with Vertical(id=self.dialog_id, classes=f"dialog -{self.tone}"):
            yield Static(f"{ICONS[self.tone]} [b]{escape(self.dialog_title)}[/b]", classes="dialog-title")
            yield Static("\n".join(escape(line) for line in self.lines), classes="dialog-body")
            with Horizontal(classes="dialog-buttons"):
                for button_id, label in self.buttons:
                    yield Button(label, id=button_id, variant="warning")
                yield Button(t("admin.close"), id="close", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#close", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id or "close")

    def action_close(self) -> None:
        self.dismiss("close")


class ActionsMenu(ModalScreen[str | None]):
    """The account actions menu: answers the chosen action's name."""

    BINDINGS = [Binding("escape", "close", show=False)]

    def __init__(self, title: str, entries: Sequence[tuple[str, str]]) -> None:
        super().__init__(classes="backoffice-dialog")
        self.dialog_title = title
        self.entries = entries

    def compose(self) -> ComposeResult:
        menu = OptionList(
            *(Option(label, id=action) for action, label in self.entries), id="actions-menu", classes="dialog"
        )
        menu.border_title = self.dialog_title
        yield menu

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(event.option.id)

    def action_close(self) -> None:
        self.dismiss(None)
