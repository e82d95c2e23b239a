"""The Textual console."""

from __future__ import annotations

from sqlalchemy import Engine
from textual.app import App, ComposeResult
from textual.widgets import Footer, Header, Static

from core.settings import Settings
from db.engine import describe


class BackofficeApp(App[None]):
    CSS_PATH = "../backoffice.tcss"
    TITLE = "Back office"
    BINDINGS = [("q", "quit", "Quit")]

    def __init__(self, *, settings: Settings, engine: Engine, kiosk: bool = False) -> None:
        super().__init__()
        self.settings = settings
        self.engine = engine
        self.kiosk = kiosk

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(f"Connected to {describe(self.engine)} as {self.settings.operator}", id="connection")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = f"{self.settings.operator} · {describe(self.engine)}"
