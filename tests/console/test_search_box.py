"""The search box keeps keys in the order they were typed when several arrive
at once (a fast typist, a pasted burst, an SSH link that batches keystrokes):
editing keys such as backspace must not run after the letters that followed."""

from __future__ import annotations

from textual import events
from textual.app import App, ComposeResult

from console.widgets.search_box import SearchBox


class OneBox(App[None]):
    def compose(self) -> ComposeResult:
        yield SearchBox("Search")


def send_at_once(app: App[None], *keys: tuple[str, str | None]) -> None:
    """As the terminal driver does with one read: every key queued before any is handled."""
    for key, character in keys:
        app.post_message(events.Key(key, character))


async def test_keys_that_arrive_together_keep_their_order() -> None:
    app = OneBox()
    async with app.run_test() as pilot:
        box = app.query_one(SearchBox)
        box.focus()
        await pilot.press(*"abc")
        send_at_once(app, ("backspace", "\x7f"), ("d", "d"))
        await pilot.pause()
        assert box.value == "abd"
        send_at_once(app, ("left", None), ("x", "x"), ("end", None), ("y", "y"))
        await pilot.pause()
        assert box.value == "abxdy"


async def test_escape_still_clears_then_leaves() -> None:
    app = OneBox()
    async with app.run_test() as pilot:
        box = app.query_one(SearchBox)
        box.focus()
        await pilot.press(*"ab", "escape")
        assert box.value == ""
