"""The shape every detail screen shares (one account, one person): a header,
a row of tiles that each open a tab, and the tabs. One core call in a worker
loads what the header and tiles show; until it answers the screen shows a
loading indicator, and its error if it fails, trying again every
RETRY_SECONDS while the screen is shown. A tab's paged list loads the first
time the tab is shown.

A subclass sets `ID` (the prefix of its widgets' ids: `#<ID>-header`,
`#<ID>-tabs`, ...), `TABS` (the tab ids, in the order of the tab keys) and
`TAB_LISTS` (tab id → selector of the paged list it shows), yields its tiles
and tab panes, and fills in `fetch`, `paint` and `tab_query`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, ClassVar, Generic, TypeVar

from rich.console import Group
from rich.markup import escape
from rich.text import Text
from sqlalchemy import Connection
from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import ContentSwitcher, LoadingIndicator, Static, TabbedContent
from textual.worker import get_current_worker

from console.i18n import t
from console.screens.base import BackofficeScreen
from console.widgets.header import AppHeader
from console.widgets.paged_list import PagedList, describe_load_error, retrying
from console.widgets.scroll import ScrollArea
from console.widgets.tiles import Tile
from core.errors import OperatorError

D = TypeVar("D")


def detail_header(title: Text, facts: Iterable[str]) -> Group:
    """The header's two lines: the title with its badges, then the facts, dim."""
    return Group(title, Text(" · ".join(facts), style="dim"))


class DetailScreen(BackofficeScreen, Generic[D]):
    ID: ClassVar[str] = ""
    TABS: ClassVar[tuple[str, ...]] = ("overview",)
    TAB_LISTS: ClassVar[dict[str, str]] = {}
    # Seconds between tries of a failed first load.
    RETRY_SECONDS: ClassVar[float] = PagedList.RETRY_SECONDS
    # Nothing to focus until the detail is shown; then its active tab's content.
    AUTO_FOCUS = ""

    class Loaded(Message):
        def __init__(self, request: int, data: Any) -> None:
            super().__init__()
            self.request = request
            self.data = data

    class Failed(Message):
        def __init__(self, request: int, error: str, retry: bool) -> None:
            super().__init__()
            self.request = request
            self.error = error
            self.retry = retry

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self.loaded: D | None = None
        self._request = 0

    # -- the parts a subclass gives ------------------------------------------

    def compose_tiles(self) -> ComposeResult:
        yield from ()

    def compose_tabs(self) -> ComposeResult:
        yield from ()

    def fetch(self, conn: Connection, now: datetime) -> D:
        """Runs in the worker."""
        raise NotImplementedError

    def paint(self, data: D) -> None:
        """Paint the header, the tiles and what else the loaded data shows."""

    def first_shown(self, data: D) -> None:
        """The data is on screen for the first time: start the overview's lists."""

    def tab_query(self) -> Any:
        """The query a tab's paged list loads with."""
        raise NotImplementedError

    def focus_overview(self) -> None:
        """The overview's scroll area, where j/k and the page keys act."""
        self.query_one("TabPane#overview ScrollArea", ScrollArea).focus()

    # -- layout --------------------------------------------------------------

    def compose_content(self) -> ComposeResult:
        with ContentSwitcher(initial=f"{self.ID}-loading", id=f"{self.ID}-switcher"):
            yield LoadingIndicator(id=f"{self.ID}-loading")
            yield Static("", id=f"{self.ID}-error", classes="list-message -error")
            with Vertical(id=f"{self.ID}-view"):
                yield Static("", id=f"{self.ID}-header", classes="detail-header")
                with Horizontal(classes="detail-tiles"):
                    yield from self.compose_tiles()
                with TabbedContent(id=f"{self.ID}-tabs", initial=self._initial_tab()):
                    yield from self.compose_tabs()

    def _initial_tab(self) -> str:
        tab = str(self.params.get("tab", "overview"))
        return tab if tab in self.TABS else "overview"

    def on_mount(self) -> None:
        self.load()

    # -- loading -------------------------------------------------------------

    def load(self) -> None:
        self._request += 1
        self._fetch(self._request, self.backoffice.clock())

    @work(thread=True, exclusive=True, group="detail")
    def _fetch(self, request: int, now: datetime) -> None:
        worker = get_current_worker()
        try:
            with self.backoffice.read_only() as conn:
                data = self.fetch(conn, now)
        except Exception as error:
            if not worker.is_cancelled:
                # "not found" is an answer: only a failure is tried again.
                retry = not isinstance(error, OperatorError)
                self.post_message(self.Failed(request, describe_load_error(error), retry))
            return
        if not worker.is_cancelled:
            self.post_message(self.Loaded(request, data))

    def on_detail_screen_failed(self, message: Failed) -> None:
        if message.request != self._request:
            return
        if self.loaded is None:
            text = t("list.error", error=message.error)
            if message.retry:
                text += "\n" + retrying(self.RETRY_SECONDS)
                self.set_timer(self.RETRY_SECONDS, self._retry_due)
            self.query_one(f"#{self.ID}-error", Static).update(escape(text))
            self.query_one(f"#{self.ID}-switcher", ContentSwitcher).current = f"{self.ID}-error"
        else:
            self.notify(t("list.error", error=message.error), severity="error")

    def _retry_due(self) -> None:
        """The first load again, while the screen is shown; a screen left
        behind waits for the next tick."""
        if self.loaded is not None:
            return
        if self.is_current:
            self.load()
        else:
            self.set_timer(self.RETRY_SECONDS, self._retry_due)

    def on_detail_screen_loaded(self, message: Loaded) -> None:
        if message.request != self._request:
            return
        first = self.loaded is None
        self.loaded = message.data
        self.paint(message.data)
        self.query_one(f"#{self.ID}-switcher", ContentSwitcher).current = f"{self.ID}-view"
        if first:
            self.first_shown(message.data)
            active = self.query_one(TabbedContent).active
            self._load_tab(active)
            self.focus_tab(active)
        self.query_one(AppHeader).set_title(self.screen_title())
        self.sub_title = self.screen_title()

    # -- tabs ----------------------------------------------------------------

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        if event.tabbed_content.id == f"{self.ID}-tabs" and event.pane.id:
            self._load_tab(event.pane.id)

    def _load_tab(self, tab: str) -> None:
        if self.loaded is None or tab not in self.TAB_LISTS:
            return
        paged = self.query_one(self.TAB_LISTS[tab], PagedList)
        if paged.current_query is None:
            paged.load(self.tab_query())

    def action_tab(self, number: int) -> None:
        if self.loaded is None or not 1 <= number <= len(self.TABS):
            return
        tab = self.TABS[number - 1]
        self.query_one(TabbedContent).active = tab
        self.focus_tab(tab)

    def focus_tab(self, tab: str) -> None:
        """Where the first key on a tab should act: its list, or the overview."""
        if tab in self.TAB_LISTS:
            self.query_one(self.TAB_LISTS[tab], PagedList).focus_table()
        else:
            self.focus_overview()

    def on_tile_selected(self, message: Tile.Selected) -> None:
        if message.tile.tab:
            self.action_tab(self.TABS.index(message.tile.tab) + 1)
