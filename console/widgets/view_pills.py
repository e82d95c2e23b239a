"""A single-choice row of views ("All · MRR impact · ..."): `v` on the screen
cycles them, a click picks one."""

from __future__ import annotations

from collections.abc import Sequence

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import Label, Static


class ViewPill(Static):
    def __init__(self, value: str, label: str) -> None:
        super().__init__(label, classes="view-pill")
        self.value = value

    def on_click(self) -> None:
        self.post_message(ViewPills.Chosen(self.value))


class ViewPills(Horizontal):
    value: reactive[str] = reactive("")

    class Chosen(Message):
        def __init__(self, value: str) -> None:
            super().__init__()
            self.value = value

    def __init__(self, label: str, views: Sequence[tuple[str, str]], value: str, *, id: str | None = None) -> None:
        super().__init__(id=id, classes="view-pills")
        self.label = label
        self.views = views
        self.set_reactive(ViewPills.value, value)

    def compose(self) -> ComposeResult:
        yield Label(f"{self.label} ", classes="view-label")
        for value, label in self.views:
            yield ViewPill(value, label)

    def on_mount(self) -> None:
        self.watch_value(self.value)

    def watch_value(self, value: str) -> None:
        for pill in self.query(ViewPill):
            pill.set_class(pill.value == value, "-active")

    def following(self) -> str:
        values = [value for value, _ in self.views]
        return values[(values.index(self.value) + 1) % len(values)] if self.value in values else values[0]
