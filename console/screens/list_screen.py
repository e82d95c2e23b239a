"""The shape every list screen shares: a toolbar with the search box, a line
naming the active filters, the paged list, and the list keys of
console/keys.py (`/` search, `f` filters, enter open, pageup/pagedown).

A list whose columns declare a core sort (`Column.sort`) sorts: `>` and `<`
pick the next and previous sortable column, `I` inverts the direction, a
header click sorts by that column (again: the other way). `self.sort` is the
core sort's value; the subclass passes it to its query. Lists without one
keep their query's order and are not offered the keys.

A subclass keeps its filter state on the screen instance: section screens
live in their own mode, so the state survives navigating away and back.
`reload_list()` turns that state into a frozen query and loads page 1.
"""

from __future__ import annotations

from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Static

from console.i18n import t
from console.screens.base import BackofficeScreen
from console.widgets.filter_dialog import FilterDialog, FilterGroup
from console.widgets.page_table import Column
from console.widgets.paged_list import PagedList
from console.widgets.search_box import SearchBox

SORT_ACTIONS = frozenset({"next_sort", "previous_sort", "invert_sort"})


class ListScreen(BackofficeScreen):
    SEARCH_PLACEHOLDER: ClassVar[str] = "list.search"
    AUTO_FOCUS = "#list-table"
    # The sort a list opens with (a Column.sort) and its direction.
    DEFAULT_SORT: ClassVar[str | None] = None
    DEFAULT_DESCENDING: ClassVar[bool] = False

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self.search = ""
        self.sort = self.DEFAULT_SORT
        self.descending = self.DEFAULT_DESCENDING

    # -- layout --------------------------------------------------------------

    def compose_content(self) -> ComposeResult:
        with Horizontal(classes="list-toolbar"):
            yield SearchBox(t(self.SEARCH_PLACEHOLDER), value=self.search, id="search")
            yield from self.compose_toolbar()
        yield Static("", id="list-filters", classes="list-filters")
        with Horizontal(classes="list-main"):
            yield self.make_list()
            yield from self.compose_side()

    def compose_toolbar(self) -> ComposeResult:
        yield from ()

    def compose_side(self) -> ComposeResult:
        yield from ()

    def make_list(self) -> PagedList[Any, Any]:
        raise NotImplementedError

    @property
    def paged_list(self) -> PagedList[Any, Any]:
        return self.query_one(PagedList)

    # -- state ---------------------------------------------------------------

    def current_query(self) -> Any:
        """A frozen snapshot of the filters, for the worker."""
        raise NotImplementedError

    def filter_groups(self) -> list[FilterGroup]:
        return []

    def set_filter(self, key: str, values: frozenset[str]) -> None:
        """A filter group changed in the dialog."""

    def clear_filters(self) -> None:
        """Back to everything: no search, no filters."""
        self.search = ""

    def filter_summary(self) -> str:
        """The active filters in words (markup), or "" when there are none."""
        return ""

    def has_filters(self) -> bool:
        return bool(self.search or self.filter_summary())

    def on_mount(self) -> None:
        self.apply_navigation(self.params)
        self.reload_list()

    def params_changed(self) -> None:
        self.apply_navigation(self.params)
        self.reload_list()

    def apply_navigation(self, params: dict[str, Any]) -> None:
        """Parameters of `app.navigate(NAME, ...)`, e.g. a banner's filter."""
        if "search" in params:
            self.search = str(params["search"])

    def reload_list(self, *, page: int = 1) -> None:
        self.paged_list.set_sort(self.sort, self.descending)
        self.query_one(SearchBox).set_quietly(self.search)
        summary = self.filter_summary()
        filters = self.query_one("#list-filters", Static)
        filters.update(summary)
        filters.display = bool(summary)
        self.paged_list.load(self.current_query(), page=page)

    # -- events --------------------------------------------------------------

    def on_search_box_search(self, message: SearchBox.Search) -> None:
        self.search = message.value
        self.reload_list()

    def on_search_box_leave(self, message: SearchBox.Leave) -> None:
        self.paged_list.focus_table()

    def on_paged_list_opened(self, message: PagedList.Opened) -> None:
        self.open_item(message.item)

    def open_item(self, item: Any) -> None:
        raise NotImplementedError

    # -- keys ----------------------------------------------------------------

    def action_focus_search(self) -> None:
        self.query_one(SearchBox).focus()

    def action_open_filters(self) -> None:
        groups = self.filter_groups()
        if groups:
            self.app.push_screen(
                FilterDialog(t("list.filters_title"), groups, self._filter_changed, self._filters_cleared)
            )

    def _filter_changed(self, key: str, values: frozenset[str]) -> None:
        self.set_filter(key, values)
        self.reload_list()

    def _filters_cleared(self) -> None:
        search = self.search
        self.clear_filters()
        self.search = search  # the dialog clears the filters, not the search
        self.reload_list()

    def action_clear_filters(self) -> None:
        self.clear_filters()
        self.reload_list()

    def action_open_selected(self) -> None:
        item = self.paged_list.highlighted
        if item is not None:
            self.open_item(item)

    def action_previous_page(self) -> None:
        self.paged_list.go(-1)

    def action_next_page(self) -> None:
        self.paged_list.go(1)

    # -- sorting -------------------------------------------------------------

    def sort_columns(self) -> list[Column]:
        lists = self.query(PagedList)  # none yet while the screen composes
        return [column for column in lists.first().COLUMNS if column.sort is not None] if lists else []

    def sort_by(self, column: Column) -> None:
        """A header click: that column, or the other way if it is the sort.
        A new column starts the way one reads it: names A to Z, figures and
        dates largest and newest first."""
        if column.sort == self.sort:
            self.descending = not self.descending
        else:
            self.sort = column.sort
            self.descending = not column.flex
        self.reload_list()

    def _step_sort(self, step: int) -> None:
        columns = self.sort_columns()
        current = next((i for i, column in enumerate(columns) if column.sort == self.sort), -step)
        self.sort_by(columns[(current + step) % len(columns)])

    def action_next_sort(self) -> None:
        self._step_sort(1)

    def action_previous_sort(self) -> None:
        self._step_sort(-1)

    def action_invert_sort(self) -> None:
        self.descending = not self.descending
        self.reload_list()

    def on_paged_list_sort_requested(self, message: PagedList.SortRequested) -> None:
        column = next((c for c in self.sort_columns() if c.key == message.column), None)
        if column is not None:
            self.sort_by(column)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "open_filters" and not self.filter_groups():
            return False
        if action in SORT_ACTIONS and not self.sort_columns():
            return False
        return super().check_action(action, parameters)
