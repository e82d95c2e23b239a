"""The search box of a list: debounced, so typing a name runs one query, not one
per key. Enter searches at once and hands focus to the list; escape clears a
non-empty box, and on an empty one hands focus back to the list."""

from __future__ import annotations

from typing import ClassVar

from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Input


class SearchBox(Input):
    BINDINGS = [Binding("escape", "clear_or_leave", show=False)]
    # Typing pauses shorter than this make one search (tests shorten it).
    DEBOUNCE_SECONDS: ClassVar[float] = 0.4

    class Search(Message):
        """The settled search text (trimmed)."""

        def __init__(self, box: SearchBox, value: str) -> None:
            super().__init__()
            self.box = box
            self.value = value

        @property
        def control(self) -> SearchBox:
            return self.box

    class Leave(Message):
        """The operator is done typing: focus the list."""

        def __init__(self, box: SearchBox) -> None:
            super().__init__()
            self.box = box

        @property
        def control(self) -> SearchBox:
            return self.box

    def __init__(self, placeholder: str, *, value: str = "", id: str | None = None) -> None:
        super().__init__(value=value, placeholder=placeholder, id=id, classes="search-box")
        self._timer: Timer | None = None
        self._sent = value.strip()

    async def _on_key(self, event: events.Key) -> None:
        # Textual runs a binding once the key has bubbled up, after any letter
        # that arrived in the same read: over a link that batches keystrokes,
        # "abc<backspace>d" would end as "abc". This box's own bindings
        # (backspace, arrows, home, end, escape...) run at once, in order.
        bindings = self._bindings.key_to_bindings.get(event.key)
        if bindings:
            event.stop()
            event.prevent_default()
            await self.run_action(bindings[0].action)
            return
        await super()._on_key(event)

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input is not self:
            return
        event.stop()
        self._stop_timer()
        self._timer = self.set_timer(self.DEBOUNCE_SECONDS, self._send)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input is not self:
            return
        event.stop()
        self._send()
        self.post_message(self.Leave(self))

    def action_clear_or_leave(self) -> None:
        if self.value:
            self.value = ""
            self._send()
        else:
            self.post_message(self.Leave(self))

    def set_quietly(self, value: str) -> None:
        """Show `value` without searching (the screen already applied it)."""
        self._stop_timer()
        with self.prevent(Input.Changed):
            self.value = value
        self._sent = value.strip()

    def _send(self) -> None:
        self._stop_timer()
        value = self.value.strip()
        if value != self._sent:
            self._sent = value
            self.post_message(self.Search(self, value))

    def _stop_timer(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
