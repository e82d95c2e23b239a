"""A card: title, subtitle, and a body that is loading, empty, failed or showing data.

`DataCard` adds loading: `reload(request)` runs `fetch(conn, request)` in a
thread worker on a read-only connection, and the worker posts `Loaded` or
`Failed`; the card paints in the handler, on the UI thread. A card never lets
an exception escape: a failing query becomes a message in the card. A card
that has figures keeps them when a refresh fails, and remembers when they
were read (`data_from`); the screen decides how to show their age (the
dashboard greys them at once, the wall display once they are old). When the
database itself is out of reach a card without figures says only that it
waits: the screen's one banner says why (console/widgets/banners.py).

Requests carry what the data depends on (period, `now`, a round number); a
result whose request is not the card's latest one is stale and dropped, so a
slow answer for the old period can never overwrite the new one.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Generic, TypeVar

from rich.markup import escape
from sqlalchemy import Connection
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widget import Widget
from textual.widgets import ContentSwitcher, LoadingIndicator, Static
from textual.worker import get_current_worker

from console.app_access import backoffice
from console.i18n import t
from db.engine import Failure, failure

RequestT = TypeVar("RequestT")
DataT = TypeVar("DataT")


@dataclass(frozen=True)
class CardRequest:
    """What a dashboard card's data depends on. `round` tells refreshes apart."""

    period: int
    now: datetime
    round: int = 0


def describe_error(error: BaseException) -> str:
    """One line for an operator: never a traceback, never a connection string."""
    text = str(getattr(error, "orig", None) or error).strip()
    first_line = text.splitlines()[0] if text else type(error).__name__
    return first_line[:200]


class CardLink(Static):
    """The "View all" link at the top right of a card: enter or click navigates."""

    BINDINGS = [Binding("enter", "open", show=False)]
    can_focus = True

    def __init__(self, label: str, target: str, params: dict[str, Any]) -> None:
        super().__init__(label, classes="card-link")
        self.target = target
        self.params = params

    def action_open(self) -> None:
        backoffice(self).navigate(self.target, **self.params)

    def on_click(self) -> None:
        self.action_open()


class Card(Vertical):
    """Title, optional subtitle, and a body switched between four states:
    "loading", "empty", "error" and "data"."""

    DEFAULT_CLASSES = "card"
    # (screen name, params) of the card's "View all" link, if it has one.
    LINK: ClassVar[tuple[str, dict[str, Any]] | None] = None

    def __init__(self, title: str, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._title = title
        self.state = "loading"

    def compose(self) -> ComposeResult:
        with Horizontal(classes="card-header"):
            yield Static(self._title, classes="card-title")
            age = Static("", classes="card-age")
            age.display = False
            yield age
            if self.LINK is not None:
                yield CardLink(t("dashboard.recent.view_all"), *self.LINK)
        subtitle = Static("", classes="card-subtitle")
        subtitle.display = False
        yield subtitle
        with ContentSwitcher(initial="loading", classes="card-body"):
            yield LoadingIndicator(id="loading")
            yield Static("", id="empty", classes="card-message")
            yield Static("", id="error", classes="card-message card-error")
            with Vertical(id="data", classes="card-content"):
                yield from self.compose_content()

    def compose_content(self) -> ComposeResult:
        """The widgets that show the data."""
        yield from ()

    def set_subtitle(self, text: str) -> None:
        subtitle = self.query_one(".card-subtitle", Static)
        subtitle.update(text)
        subtitle.display = bool(text)

    def show_age(self, text: str) -> None:
        """ "as of 14:02 UTC" beside the title, for figures a refresh could not
        renew; "" when they are current."""
        age = self.query_one(".card-age", Static)
        age.update(escape(text))
        age.display = bool(text)
        self.set_class(bool(text), "-stale")

    def _switch(self, state: str) -> None:
        self.state = state
        self.set_class(state == "error", "-error")
        self.query_one(ContentSwitcher).current = state

    def show_loading(self) -> None:
        self._switch("loading")

    def show_empty(self, title: str, description: str = "") -> None:
        message = f"[b]{escape(title)}[/b]" + (f"\n{escape(description)}" if description else "")
        self.query_one("#empty", Static).update(message)
        self.set_subtitle("")
        self._switch("empty")

    def show_error(self, message: str) -> None:
        self.set_subtitle("")  # the old figures would read as current
        self.query_one("#error", Static).update(escape(t("card.error", error=message)))
        self._switch("error")

    def show_content(self) -> None:
        self._switch("data")


class DataCard(Card, Generic[RequestT, DataT]):
    """A card that loads its own data in a worker."""

    class Loaded(Message):
        def __init__(self, card: DataCard[Any, Any], request: Any, data: Any) -> None:
            super().__init__()
            self.card = card
            self.request = request
            self.data = data

    class Failed(Message):
        def __init__(self, card: DataCard[Any, Any], request: Any, error: str, unreachable: bool = False) -> None:
            super().__init__()
            self.card = card
            self.request = request
            self.error = error
            self.unreachable = unreachable  # the database, not this query (db.engine.failure)

    # Keeps the previous data on screen while a refresh with the same key loads.
    request_key_fields: ClassVar[tuple[str, ...]] = ("period",)

    def __init__(self, title: str, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(title, id=id, classes=classes)
        self.request: RequestT | None = None
        self.data: DataT | None = None
        self._shown_request: RequestT | None = None
        self.loaded_at: float | None = None  # monotonic time of the last load
        self.data_from: datetime | None = None  # the `now` the figures on screen were read at

    def fetch(self, conn: Connection, request: RequestT) -> DataT:
        """Runs in a worker thread: call core, return its result. No widgets here."""
        raise NotImplementedError

    def shows_no_data(self, data: DataT) -> bool:
        return False

    def show_data(self, data: DataT) -> None:
        """Runs on the UI thread: paint `data`."""

    def empty_message(self) -> tuple[str, str]:
        return ("", "")

    def reload(self, request: RequestT) -> None:
        if self._shown_request is None or self._key(request) != self._key(self._shown_request):
            self.show_loading()
        self.request = request
        self._load(request)

    def _key(self, request: Any) -> tuple[Any, ...]:
        return tuple(getattr(request, name, None) for name in self.request_key_fields)

    @work(thread=True, exclusive=True, group="card")
    def _load(self, request: RequestT) -> None:
        worker = get_current_worker()
        try:
            with backoffice(self).read_only() as conn:
                data = self.fetch(conn, request)
        except Exception as error:  # any failure becomes a message in the card
            if not worker.is_cancelled:
                unreachable = failure(error) is Failure.UNREACHABLE
                self.post_message(self.Failed(self, request, describe_error(error), unreachable))
            return
        if not worker.is_cancelled:
            self.post_message(self.Loaded(self, request, data))

    def repaint_needed(self, data: DataT, request: RequestT) -> bool:
        """Whether a load must repaint (a wall skips the same figures again)."""
        return True

    def on_data_card_loaded(self, message: Loaded) -> None:
        if message.card is not self or message.request != self.request:
            return
        self.loaded_at = time.monotonic()
        self.data_from = getattr(message.request, "now", None)
        if not self.repaint_needed(message.data, message.request):
            return
        self.data = message.data
        self._shown_request = message.request
        if self.shows_no_data(message.data):
            self.show_empty(*self.empty_message())
        else:
            self.show_content()
            self.show_data(message.data)

    @property
    def has_figures(self) -> bool:
        return self.data is not None and self.state == "data"

    def on_data_card_failed(self, message: Failed) -> None:
        if message.card is not self or message.request != self.request or self.has_figures:
            return  # figures on screen stay, with their age
        self._shown_request = None
        if message.unreachable:
            self.show_empty(t("card.waiting"))
        else:
            self.show_error(message.error)


class CardGrid(Widget):
    """Cards in columns: one on narrow terminals, two on wide, three on very
    wide ones (see backoffice.tcss)."""

    DEFAULT_CLASSES = "card-grid"
