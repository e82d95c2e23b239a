"""A detail screen's tile: a label, a big value, a subtitle. A tile links to a
tab of its screen: enter or a click opens it."""

from __future__ import annotations

from rich.console import Group
from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.widgets import Static


class Tile(Static):
    BINDINGS = [Binding("enter", "open", show=False)]
    can_focus = True

    class Selected(Message):
        def __init__(self, tile: Tile) -> None:
            super().__init__()
            self.tile = tile

    def __init__(self, label: str, *, tab: str | None = None, id: str | None = None) -> None:
        super().__init__("", id=id, classes="detail-tile")
        self.label = label
        self.tab = tab
        self.show(Text("…", style="dim"))

    def show(self, value: Text | str, subtitle: Text | str = "") -> None:
        self.update(
            Group(
                Text(self.label.upper(), style="bold dim", no_wrap=True, overflow="ellipsis"),
                _one_line(value if isinstance(value, Text) else Text(value, style="bold")),
                _one_line(subtitle if isinstance(subtitle, Text) else Text(subtitle, style="dim")),
            )
        )

    def action_open(self) -> None:
        self.post_message(self.Selected(self))

    def on_click(self) -> None:
        self.action_open()


def _one_line(text: Text) -> Text:
    text.no_wrap = True
    text.overflow = "ellipsis"
    return text
