"""The export of a list to a CSV file (docs/rules.md R143): where the file
goes, and the dialog shown while it is written.

The file goes to BACKOFFICE_EXPORT_DIR when set, else the operator's
downloads folder when there is one, else the current directory; its name is
the list's and the time in UTC (`accounts-20261205-141502.csv`), with `-2`,
`-3`, ... when that name is taken. `ExportDialog` shows the rows written, as a
bar when the total is known; escape or its Cancel button answers False (the
list then stops the export and removes the partial file). It runs no I/O.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import platformdirs
from rich.markup import escape
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, ProgressBar, Static

from console.formatting import number
from console.i18n import t

EXPORT_DIR_ENV = "BACKOFFICE_EXPORT_DIR"


def export_directory() -> Path:
    """BACKOFFICE_EXPORT_DIR, else the downloads folder if it exists, else the current directory."""
    chosen = os.environ.get(EXPORT_DIR_ENV)
    if chosen:
        return Path(chosen).expanduser()
    downloads = Path(platformdirs.user_downloads_dir())
    return downloads if downloads.is_dir() else Path.cwd()


def export_path(name: str, now: datetime, directory: Path | None = None) -> Path:
    """A file name of its own in the export directory, stamped with the time (UTC)."""
    folder = directory or export_directory()
    stem = f"{name}-{now.strftime('%Y%m%d-%H%M%S')}"
    path = folder / f"{stem}.csv"
    suffix = 2
    while path.exists():
        path = folder / f"{stem}-{suffix}.csv"
        suffix += 1
    return path


class ExportDialog(ModalScreen[bool]):
    """Rows written so far, of how many when the total is known; Cancel stops."""

    BINDINGS = [Binding("escape", "cancel", show=False)]

    def __init__(self, path: Path) -> None:
        super().__init__(classes="backoffice-dialog")
        self.path = path
        self.shown: tuple[int, int | None] = (0, None)

    def compose(self) -> ComposeResult:
        with Vertical(id="export-dialog", classes="dialog -info"):
            yield Static(f"[b]{escape(t('export.title'))}[/b]", classes="dialog-title")
            yield Static(escape(t("export.to", path=str(self.path))), classes="dialog-body", id="export-path")
            yield ProgressBar(total=None, show_eta=False, id="export-bar")
            yield Static(escape(t("export.starting")), id="export-count", classes="dialog-hint")
            with Horizontal(classes="dialog-buttons"):
                yield Button(t("admin.cancel"), id="cancel", variant="warning")

    def on_mount(self) -> None:
        self.query_one("#cancel", Button).focus()
        if self.shown != (0, None):
            self.progress(*self.shown)

    def progress(self, written: int, total: int | None) -> None:
        """`written` rows so far; `total` when the list's count is exact."""
        self.shown = (written, total)
        if not self.is_mounted:
            return  # painted when mounted
        bar = self.query_one("#export-bar", ProgressBar)
        bar.update(total=total if total else None, progress=written)
        text = (
            t("export.progress", written=number(written), total=number(total))
            if total
            else t("export.progress_unknown", written=number(written))
        )
        self.query_one("#export-count", Static).update(escape(text))

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(False)

    def action_cancel(self) -> None:
        self.dismiss(False)
