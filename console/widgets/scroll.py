"""A scroll area that also takes the "scroll" keys of console/keys.py (j/k,
g/G, ctrl+d/ctrl+u) besides the arrows, home/end and page keys: the
dashboard's cards, a detail's overview, the help screen. The list table
(page_table.py) takes the same keys for its cursor."""

from __future__ import annotations

from typing import ClassVar

from textual.containers import VerticalScroll
from textual.widget import Widget

from console import keys


def half_page(height: int) -> int:
    return max(1, height // 2)


class ScrollArea(VerticalScroll):
    KEY_SCOPES: ClassVar[tuple[str, ...]] = ("scroll",)

    def __init__(self, *children: Widget, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(*children, id=id, classes=classes)
        keys.bind_scopes(self, *self.KEY_SCOPES)

    def action_line(self, step: int) -> None:
        self.scroll_relative(y=step, animate=False)

    def action_first(self) -> None:
        self.scroll_home(animate=False)

    def action_last(self) -> None:
        self.scroll_end(animate=False)

    def action_half_page(self, step: int) -> None:
        self.scroll_relative(y=step * half_page(self.scrollable_content_region.height), animate=False)
