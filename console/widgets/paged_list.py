"""A list paged in PostgreSQL: only the page on screen is ever fetched.

`PagedList` shows one page of a core list function in a DataTable whose rows
are keyed by the domain id, with a status line ("Page 2 of 40 · 987 accounts").
A page is as many rows as the table has room for (at most 100), so a page is
a screenful; a resize keeps the first row shown in view.
`load(query)` runs `fetch(conn, query, PageRequest)` in a thread worker on a
read-only connection; the answer is painted only if it belongs to the latest
request, so a slow page can never overwrite a newer one. Reloading the page
on screen updates changed cells in place and keeps the cursor on its row.

Moving the cursor past the last row (or pagedown) fetches the next page and
puts the cursor on its first row; past the first row, the previous page.
While a page loads the previous one stays visible; the first load shows a
spinner; an empty result or a failure shows a message in place of the table.
A failed load is tried again every RETRY_SECONDS while the list is on screen
(a "not found" is an answer, not a failure), so a list recovers by itself
when the database comes back.
The columns are fitted to the width once, from what each declares, and again
only when the width changes (page_table.py). The status line says the order:
the sort and its direction (`set_sort`), or the query's fixed ORDER. `y` and
`Y` on a row copy its id and its CONTACT (an e-mail) with OSC 52.

`e` exports the whole list, with the query on screen (search, filters,
sort), to a CSV file (docs/rules.md R143): a thread worker walks the pages of
`fetch` on one snapshot (core/export.py) and writes each as it comes, so the
UI keeps working and memory stays flat; after EXPORT_DIALOG_DELAY seconds a
dialog shows the rows written and can cancel. The file is written under a
`.part` name and renamed when complete; a cancelled or failed export leaves
nothing. A notification says where the file went.
"""

from __future__ import annotations

import csv
import re
import typing
from contextlib import closing
from datetime import UTC, datetime
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any, ClassVar, Generic, TypeVar

from rich.markup import escape
from rich.text import Text
from sqlalchemy import Connection
from textual import work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.timer import Timer
from textual.widgets import ContentSwitcher, DataTable, LoadingIndicator, Static
from textual.worker import Worker, get_current_worker

from console import keys
from console.app_access import backoffice
from console.formatting import number
from console.i18n import t
from console.operator_errors import operator_message
from console.widgets.export_dialog import ExportDialog, export_path
from console.widgets.page_table import Cell, Column, CursorPlace, PageTable, cell_width, fit, fitting_columns
from core import export
from core.errors import OperatorError
from core.paging import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, Page, PageRequest
from db.engine import Failure, failure

QueryT = TypeVar("QueryT")
ItemT = TypeVar("ItemT")
# Below this many rows of height the page keeps its default size.
MIN_FITTED_ROWS = 4


def describe_load_error(error: BaseException) -> str:
    """A failed load in the operator's words: what to do, not the driver's text."""
    kind = failure(error)
    if kind is Failure.UNREACHABLE:
        return t("list.unreachable")
    if kind is Failure.NO_SCHEMA:
        return t("list.no_schema")
    return operator_message(error)


def retrying(seconds: float) -> str:
    """When the next try comes, in the locale's numbers."""
    return t("list.retrying", seconds=number(Decimal(str(seconds))))


class PagedList(Vertical, Generic[QueryT, ItemT]):
    """Subclasses declare COLUMNS and NOUN and implement fetch, row_key, cells."""

    DEFAULT_CLASSES = "paged-list"
    COLUMNS: ClassVar[tuple[Column, ...]] = ()
    NOUN: ClassVar[str] = "list.rows"  # plural translation key: "# accounts"
    # Translation key of the query's fixed order ("Newest first"); a list
    # with sortable columns says its sort instead.
    ORDER: ClassVar[str | None] = None
    # Translation key of what `Y` copies (`contact`), None: `Y` is not offered.
    CONTACT: ClassVar[str | None] = None
    PAGE_SIZE: ClassVar[int] = DEFAULT_PAGE_SIZE
    # A preview shows its first page only, without paging.
    PAGEABLE: ClassVar[bool] = True
    # Seconds between tries of a failed load.
    RETRY_SECONDS: ClassVar[float] = 5.0
    # An export still running after this many seconds shows its progress dialog.
    EXPORT_DIALOG_DELAY: ClassVar[float] = 0.3

    class ItemMessage(Message):
        """Something happened to `item` of `paged_list`."""

        def __init__(self, paged_list: PagedList[Any, Any], item: Any) -> None:
            super().__init__()
            self.paged_list = paged_list
            self.item = item

        @property
        def control(self) -> PagedList[Any, Any]:
            return self.paged_list

    class Highlighted(ItemMessage):
        """The cursor is on `item` (None: the list is empty or failed)."""

    class Opened(ItemMessage):
        """enter (or a click on the highlighted row) on `item`."""

    class SortRequested(Message):
        def __init__(self, paged_list: PagedList[Any, Any], column: str) -> None:
            super().__init__()
            self.paged_list = paged_list
            self.column = column

        @property
        def control(self) -> PagedList[Any, Any]:
            return self.paged_list

    class PageLoaded(Message):
        def __init__(self, request: int, page: Page[Any]) -> None:
            super().__init__()
            self.request = request
            self.page = page

    class PageFailed(Message):
        def __init__(self, request: int, error: str, retry: bool) -> None:
            super().__init__()
            self.request = request
            self.error = error
            self.retry = retry

    class ExportProgress(Message):
        """`written` rows in the file so far, of `total` when the count is exact."""

        def __init__(self, written: int, total: int | None) -> None:
            super().__init__()
            self.written = written
            self.total = total

    class ExportEnded(Message):
        """The export is over: `path` written with `rows` rows, or stopped
        (`error` says why when it failed, None when it was cancelled)."""

        def __init__(self, path: Path | None, rows: int, error: str | None = None) -> None:
            super().__init__()
            self.path = path
            self.rows = rows
            self.error = error

    def __init__(self, *, id: str | None = None, classes: str | None = None, page_size: int | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.current_query: QueryT | None = None
        self.page = 1
        self.page_size = page_size or self.PAGE_SIZE
        self.result: Page[ItemT] | None = None
        self.state = "idle"  # idle, loading, data, empty, error
        self.sort_column: str | None = None
        self.descending = False
        self._request = 0
        self._cursor: CursorPlace = "first"
        self._visible: tuple[int, ...] = ()
        self._headers: tuple[tuple[str, int], ...] = ()
        # The fitted columns and the width they were fitted to.
        self._fitted: tuple[int, tuple[int, ...], tuple[int, ...]] | None = None
        # Widths grown for amounts wider than their column's declared maximum.
        self._floors: dict[str, int] = {}
        self._highlighted_key: str | None = None
        self._retry: Timer | None = None
        self._export: Worker[None] | None = None
        self._export_dialog: ExportDialog | None = None
        self._export_timer: Timer | None = None
        self._export_progress: tuple[int, int | None] = (0, None)
        keys.bind_scopes(self, "export")

    def compose(self) -> ComposeResult:
        with ContentSwitcher(initial="list-loading", classes="list-body"):
            yield LoadingIndicator(id="list-loading")
            yield PageTable(id="list-table", copies_contact=self.CONTACT is not None)
            yield Static("", id="list-message", classes="list-message")
        yield Static("", classes="list-status")

    @property
    def table(self) -> PageTable:
        return self.query_one(PageTable)

    # -- what a subclass provides -------------------------------------------

    def fetch(self, conn: Connection, query: QueryT, page: PageRequest) -> Page[ItemT]:
        """Runs in a worker thread: call core. No widgets here."""
        raise NotImplementedError

    def row_key(self, item: ItemT) -> str:
        raise NotImplementedError

    def cells(self, item: ItemT) -> tuple[Cell, ...]:
        raise NotImplementedError

    def empty_message(self) -> tuple[str, str]:
        return (t("list.empty"), "")

    def item_id(self, item: ItemT) -> str:
        """What `y` copies."""
        return self.row_key(item)

    def contact(self, item: ItemT) -> str | None:
        """What `Y` copies (the e-mail, ...), when the list has a CONTACT."""
        return None

    # -- loading -------------------------------------------------------------

    def load(self, query: QueryT, *, page: int = 1, cursor: CursorPlace = "first") -> None:
        """Show `page` of `query` (a frozen snapshot of the filters)."""
        self.current_query = query
        self.page = max(1, page)
        self._cursor = cursor
        self._request += 1
        self._retry_later(False)
        if self.result is None or self.state != "data":
            self._switch("list-loading")
            self.state = "loading"
        else:
            self._show_status(loading=True)
        self._start(self._request, deferred=False)

    def _start(self, request: int, *, deferred: bool) -> None:
        if request != self._request or self.current_query is None:
            return
        if self.PAGEABLE:
            fitted = self._fitted_page_size()
            if fitted is None and not deferred:
                # Not laid out yet: size the page once the screen is.
                self.call_after_refresh(self._start, request, deferred=True)
                return
            if fitted is not None and fitted != self.page_size:
                first_row = (self.page - 1) * self.page_size
                self.page_size = fitted
                self.page = first_row // fitted + 1
        self._fetch(request, self.current_query, PageRequest(self.page, self.page_size))

    def _fitted_page_size(self) -> int | None:
        """As many rows as the table shows: the page is what is on screen."""
        height = self.query_one(".list-body").size.height
        if height <= MIN_FITTED_ROWS:
            return None
        return min(MAX_PAGE_SIZE, height - 1)  # less the header row

    def reload(self) -> None:
        """The page on screen again (after a write), the cursor on the same row."""
        if self.current_query is not None:
            self.load(self.current_query, page=self.page, cursor="keep")

    def go(self, step: int, cursor: CursorPlace = "first") -> None:
        if self.current_query is None or not self.PAGEABLE:
            return
        target = self.page + step
        result = self.result
        if target < 1 or (
            result is not None
            and target > max(1, result.total_pages)
            and not (target == result.page + 1 and result.has_next_page)
        ):
            return
        self.load(self.current_query, page=target, cursor=cursor)

    @work(thread=True, exclusive=True, group="page")
    def _fetch(self, request: int, query: QueryT, page: PageRequest) -> None:
        worker = get_current_worker()
        try:
            with backoffice(self).read_only() as conn:
                result = self.fetch(conn, query, page)
        except Exception as error:  # a failure is a message in the list, never a crash
            if not worker.is_cancelled:
                retry = not isinstance(error, OperatorError)
                self.post_message(self.PageFailed(request, describe_load_error(error), retry))
            return
        if not worker.is_cancelled:
            self.post_message(self.PageLoaded(request, result))

    def on_paged_list_page_loaded(self, message: PageLoaded) -> None:
        message.stop()
        if message.request != self._request:
            return  # a newer request is on its way: latest wins
        page = message.page
        if not page.items and page.total and self.page > 1:
            # The list shrank under us: show its last page instead.
            assert self.current_query is not None
            self.load(self.current_query, page=max(1, page.total_pages), cursor="last")
            return
        self.result = page
        if not page.items:
            self.state = "empty"
            title, description = self.empty_message()
            text = f"[b]{escape(title)}[/b]" + (f"\n{escape(description)}" if description else "")
            self.query_one("#list-message", Static).update(text)
            self._switch("list-message")
            self._show_status()
            self._announce(None)
            return
        self.state = "data"
        # Shown before it is filled: a DataTable filled while hidden can come
        # up blank until something else makes it redraw.
        self._switch("list-table")
        self._paint(page)
        self._show_status()
        if self.PAGEABLE and self.screen.focused is None:
            # The table could not take focus while it was hidden behind the spinner.
            self.table.focus()

    def on_paged_list_page_failed(self, message: PageFailed) -> None:
        message.stop()
        if message.request != self._request:
            return
        self.state = "error"
        self.result = None
        self.query_one("#list-message", Static).update(escape(t("list.error", error=message.error)))
        self._switch("list-message")
        self._retry_later(message.retry)
        self._show_status()
        self._announce(None)

    def _retry_later(self, retry: bool) -> None:
        if self._retry is not None:
            self._retry.stop()
        self._retry = self.set_timer(self.RETRY_SECONDS, self._retry_due) if retry else None

    def _retry_due(self) -> None:
        """The failed page again, its message kept until the answer. Only while
        the list is on screen: a screen left behind stops asking."""
        self._retry = None
        if self.state != "error" or self.current_query is None:
            return
        if not self.screen.is_current:
            self._retry_later(True)
            return
        self._request += 1
        self._show_status(loading=True)
        self._start(self._request, deferred=False)

    # -- painting ------------------------------------------------------------

    def _switch(self, current: str) -> None:
        self.query_one(ContentSwitcher).current = current
        self.set_class(current == "list-message" and self.state == "error", "-error")

    def _paint(self, page: Page[ItemT]) -> None:
        table = self.table
        rows = [(self.row_key(item), self.cells(item)) for item in page.items]
        self._grow_for_amounts(rows)
        visible, headers = self._planned_columns()
        column_widths = tuple(width for _, width in headers)
        keys = [key for key, _ in rows]
        previous_key = self._cursor_key()
        previous_index = table.cursor_row if table.row_count else 0
        if headers != self._headers:
            table.clear(columns=True)
            for index, (header, column_width) in zip(visible, headers, strict=True):
                column = self.COLUMNS[index]
                table.add_column(Text(header, justify=column.justify), key=column.key, width=column_width)
            self._headers = headers
            self._visible = visible
        shown = [
            (key, [fit(cells[index], column_width) for index, column_width in zip(visible, column_widths, strict=True)])
            for key, cells in rows
        ]
        if keys == [row.key.value for row in table.ordered_rows]:
            # The same rows: update only the cells that changed.
            for key, cells in shown:
                for index, cell in zip(visible, cells, strict=True):
                    column_key = self.COLUMNS[index].key
                    if table.get_cell(key, column_key) != cell:
                        table.update_cell(key, column_key, cell)
        else:
            table.clear()
            for key, cells in shown:
                table.add_row(*cells, key=key)
        if not self.PAGEABLE:
            # A preview is as tall as its rows. Set, not left to height: auto,
            # which can miss the table growing after it was laid out empty.
            table.styles.height = len(keys) + 1  # and the header
        table.has_previous = self.PAGEABLE and page.page > 1
        table.has_next = self.PAGEABLE and page.has_next_page
        if self._cursor == "last":
            row = len(keys) - 1
        elif self._cursor == "keep":
            row = keys.index(previous_key) if previous_key in keys else min(previous_index, len(keys) - 1)
        else:
            row = 0
        self._cursor = "keep"
        table.move_cursor(row=row, animate=False)
        self._highlighted_key = None  # a fresh page: tell about its row even if the key is the same
        self._announce(page.items[row])

    def _cursor_key(self) -> str | None:
        table = self.table
        if not table.row_count:
            return None
        try:
            return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        except Exception:  # no cursor row yet
            return None

    def _planned_columns(self) -> tuple[tuple[int, ...], tuple[tuple[str, int], ...]]:
        """The columns that fit (by index) and each one's header and width:
        fitted once per width, from the columns' declarations. Every column
        gets its width here rather than from the table's own measuring, which
        follows the rows and so moved the columns from page to page."""
        width = (self.content_size.width or self.size.width) - 1  # room for the cursor's edge
        if self._fitted is None or self._fitted[0] != width:
            labels = [t(column.label) for column in self.COLUMNS]
            visible, widths = fitting_columns(self.COLUMNS, labels, width, self._floors)
            self._fitted = (width, visible, widths)
        _, visible, widths = self._fitted
        return visible, tuple((self._header(self.COLUMNS[index]), w) for index, w in zip(visible, widths, strict=True))

    def _grow_for_amounts(self, rows: list[tuple[str, tuple[Cell, ...]]]) -> None:
        """An amount is never cut: one wider than its column's declared
        maximum widens the column for good (and the fit drops others)."""
        for index, column in enumerate(self.COLUMNS):
            if column.cut:
                continue
            needed = max((cell_width(cells[index]) for _, cells in rows), default=0)
            if needed > max(column.content_width(), self._floors.get(column.key, 0)):
                self._floors[column.key] = needed
                self._fitted = None

    def _header(self, column: Column) -> str:
        label = t(column.label)
        if column.sort is not None and column.sort == self.sort_column:
            label += f" {arrow(self.descending)}"
        return label

    def set_sort(self, sort: str | None, descending: bool) -> None:
        """The core sort the list is in (a Column.sort) and its direction:
        its header shows the arrow and the status line says it, from the next
        paint on."""
        self.sort_column = sort
        self.descending = descending

    def order_text(self) -> str:
        """ "Sorted by MRR ↓", or the query's fixed order."""
        column = next((c for c in self.COLUMNS if c.sort is not None and c.sort == self.sort_column), None)
        if column is not None:
            return t("list.sorted_by", column=t(column.label), arrow=arrow(self.descending))
        return t(self.ORDER) if self.ORDER else ""

    def on_resize(self) -> None:
        if self.result is None or self.state != "data":
            return
        if self.PAGEABLE and self._fitted_page_size() not in (None, self.page_size):
            self.reload()
            return
        if self._planned_columns() != (self._visible, self._headers):
            self._paint(self.result)

    def _show_status(self, *, loading: bool = False) -> None:
        status = self.query_one(".list-status", Static)
        result = self.result
        if result is None or self.state == "error":
            waiting = retrying(self.RETRY_SECONDS) if self._retry is not None else ""
            status.update(t("list.loading") if loading else waiting)
            return
        count = t(self.NOUN, count=result.total)
        if self.PAGEABLE:
            key = "list.page_status_estimated" if result.total_is_estimate else "list.page_status"
            text = t(key, page=number(result.page), pages=number(max(1, result.total_pages)), count=count)
        else:
            text = t("list.preview_status", shown=number(len(result.items)), count=count)
        order = self.order_text()
        if order:
            text += " · " + order
        if loading:
            text += " · " + t("list.loading")
        status.update(text)

    # -- cursor and selection ------------------------------------------------

    @property
    def highlighted(self) -> ItemT | None:
        if self.result is None or self.state != "data":
            return None
        key = self._cursor_key()
        return next((item for item in self.result.items if self.row_key(item) == key), None)

    def _announce(self, item: ItemT | None) -> None:
        key = self.row_key(item) if item is not None else None
        if key == self._highlighted_key and item is not None:
            return
        self._highlighted_key = key
        self.post_message(self.Highlighted(self, item))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        if self.result is None or self.state != "data":
            return
        item = next((i for i in self.result.items if self.row_key(i) == event.row_key.value), None)
        if item is not None:
            self._announce(item)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        item = self.highlighted
        if item is not None:
            self.post_message(self.Opened(self, item))

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        event.stop()
        if event.column_key.value is not None:
            self.post_message(self.SortRequested(self, event.column_key.value))

    def on_page_table_page_requested(self, message: PageTable.PageRequested) -> None:
        message.stop()
        self.go(message.step, message.cursor)

    def on_page_table_copy_requested(self, message: PageTable.CopyRequested) -> None:
        message.stop()
        item = self.highlighted
        if item is None:
            return
        what, value = (
            ("list.copy.id", self.item_id(item)) if message.what == "id" else (self.CONTACT, self.contact(item))
        )
        if not what or not value:
            return
        self.app.copy_to_clipboard(value)  # OSC 52: works over SSH and in tmux
        self.notify(t("list.copied", what=t(what), value=value), timeout=3)

    def focus_table(self) -> None:
        self.table.focus()

    # -- export (docs/rules.md R143) -------------------------------------------

    @classmethod
    def row_type(cls) -> type:
        """The core row type the list shows (its second type argument): the CSV's columns."""
        for klass in cls.__mro__:
            for base in getattr(klass, "__orig_bases__", ()):
                arguments = typing.get_args(base)
                if typing.get_origin(base) is PagedList and len(arguments) == 2 and isinstance(arguments[1], type):
                    return arguments[1]
        raise TypeError(f"{cls.__name__} does not say its row type")

    def export_name(self) -> str:
        """The file name's stem: the list's class name in kebab case ("accounts"),
        and the account's id for an account's tab ("account-events-1519024301854960144")."""
        words = re.findall(r"[A-Z][a-z0-9]*", type(self).__name__.removesuffix("List"))
        stem = "-".join(word.lower() for word in words) or "list"
        tenant_id = str(getattr(self.current_query, "tenant_id", "") or "")
        return f"{stem}-{tenant_id}" if tenant_id.isascii() and tenant_id.isdigit() else stem

    @property
    def exporting(self) -> bool:
        return self._export is not None and self._export.is_running

    def action_export(self) -> None:
        """`e`: the list as it is queried now, every page, to a CSV file."""
        if self.current_query is None:
            return
        if self.exporting:
            self.notify(t("export.busy"), title=t("export.title"), severity="warning")
            return
        path = export_path(self.export_name(), datetime.now(UTC))
        self._export_progress = (0, None)
        self._export_timer = self.set_timer(self.EXPORT_DIALOG_DELAY, partial(self._show_export_dialog, path))
        self._export = self._export_rows(self.current_query, path)

    def _show_export_dialog(self, path: Path) -> None:
        self._export_timer = None
        if not self.exporting:
            return
        dialog = ExportDialog(path)
        self._export_dialog = dialog
        self.app.push_screen(dialog, self._export_dialog_closed)
        dialog.progress(*self._export_progress)

    def _export_dialog_closed(self, finished: bool | None) -> None:
        """Cancel (or escape) stops the export; the worker removes the partial file."""
        self._export_dialog = None
        if not finished and self._export is not None and self._export.is_running:
            self._export.cancel()

    @work(thread=True, exclusive=True, group="export", exit_on_error=False)
    def _export_rows(self, query: QueryT, path: Path) -> None:
        worker = get_current_worker()
        part = path.with_name(f"{path.name}.part")
        written = 0
        try:
            with backoffice(self).read_only() as conn:
                export.one_snapshot(conn)
                with part.open("x", encoding="utf-8", newline="") as file:
                    writer = csv.writer(file)
                    writer.writerow(export.columns(self.row_type()))
                    # The walk's cursor is closed in its transaction, even when cancelled (docs/rules.md R229).
                    with closing(export.pages(lambda request: self.fetch(conn, query, request))) as walk:
                        for page in walk:
                            if worker.is_cancelled:
                                break
                            writer.writerows(export.cells(item) for item in page.items)
                            written += len(page.items)
                            total = None if page.total_is_estimate else page.total
                            self.post_message(self.ExportProgress(written, total))
            if worker.is_cancelled:
                part.unlink(missing_ok=True)
                self.post_message(self.ExportEnded(None, written))
                return
            part.replace(path)
        except Exception as error:  # a failure is a notification, never a crash
            part.unlink(missing_ok=True)
            self.post_message(self.ExportEnded(None, written, describe_load_error(error)))
            return
        self.post_message(self.ExportEnded(path, written))

    def on_paged_list_export_progress(self, message: ExportProgress) -> None:
        message.stop()
        self._export_progress = (message.written, message.total)
        if self._export_dialog is not None and self._export_dialog.is_attached:
            self._export_dialog.progress(message.written, message.total)

    def on_paged_list_export_ended(self, message: ExportEnded) -> None:
        message.stop()
        if self._export_timer is not None:
            self._export_timer.stop()
            self._export_timer = None
        dialog, self._export_dialog = self._export_dialog, None
        if dialog is not None and dialog.is_current:
            dialog.dismiss(True)
        if message.path is not None:
            self.notify(
                t("export.done", rows=number(message.rows), path=str(message.path)), title=t("export.title"), timeout=15
            )
        elif message.error is not None:
            self.notify(t("export.failed", error=message.error), title=t("export.title"), severity="error")
        else:
            self.notify(t("export.cancelled"), title=t("export.title"), severity="warning")


def arrow(descending: bool) -> str:
    return "↓" if descending else "↑"
