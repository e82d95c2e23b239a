"""The table of one page of a `PagedList`, and how its columns fit the width.

`PageTable` is a DataTable whose pageup/pagedown and moves past either end ask
for the neighbouring page; it takes the "scroll" and "rows" keys of
console/keys.py (j/k, g/G, ctrl+d/ctrl+u; y/Y copy).

`fitting_columns` decides, for a width, which columns show and how wide, from
what each column declares (its type's widest value, console/widgets/columns.py),
never from the rows on screen, so the columns hold still from page to page:
droppable columns go first, in their declared order; then flexible columns
(names) narrow to their minimum; room left widens them to their maximum.
`fit` cuts a cell to its column, always with an ellipsis.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from rich.cells import cell_len
from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable

from console import keys
from console.widgets.scroll import half_page

Cell = str | Text
CursorPlace = Literal["first", "last", "keep"]
Width = int | Callable[[], int]
FLEX_COMFORT_WIDTH = 18  # a flexible column's width unless it declares one
FLEX_MIN_WIDTH = 12
FLEX_MAX_WIDTH = 40
CELL_PADDING = 2  # DataTable's cell padding, one column each side
SORT_MARK_WIDTH = 2  # " ↓" after a sortable column's header


@dataclass(frozen=True)
class Column:
    key: str  # column key
    label: str  # translation key of the header
    # Cells the widest value takes: a number, or a function of the locale's
    # formats (columns.py). A flexible column's width is the one it keeps
    # while other columns are dropped.
    width: Width = 0
    justify: Literal["left", "right"] = "left"
    # Narrow tables drop columns with a drop rank, highest rank first; 0 never.
    drop: int = 0
    # Text (names): narrows after every droppable column has gone, down to
    # min_width, cut with an ellipsis; widens up to max_width when there is room.
    flex: bool = False
    min_width: int = FLEX_MIN_WIDTH
    max_width: Width = FLEX_MAX_WIDTH
    # The core sort this column stands for (a header click and `<` `>` pick
    # it); None: the list cannot sort by it.
    sort: str | None = None
    # Amounts are never cut: a wider one widens its column, and others drop.
    cut: bool = True

    def content_width(self) -> int:
        return max(resolve(self.width), FLEX_COMFORT_WIDTH if self.flex and not self.width else 0)


def resolve(width: Width) -> int:
    return width() if callable(width) else width


class PageTable(DataTable[Cell]):
    """The DataTable of one page. pageup/pagedown and moving past either end
    ask the list for the neighbouring page instead of scrolling."""

    KEY_SCOPES: ClassVar[tuple[str, ...]] = ("scroll", "rows")
    BINDINGS = [
        Binding("pageup", "previous_page", show=False),
        Binding("pagedown", "next_page", show=False),
    ]

    class PageRequested(Message):
        def __init__(self, table: PageTable, step: int, cursor: CursorPlace) -> None:
            super().__init__()
            self.table = table
            self.step = step
            self.cursor = cursor

    class CopyRequested(Message):
        """`y` (what="id") or `Y` (what="contact") on the row under the cursor."""

        def __init__(self, what: str) -> None:
            super().__init__()
            self.what = what

    def __init__(self, *, copies_contact: bool = False, **kwargs: Any) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        keys.bind_scopes(self, *self.KEY_SCOPES)
        self.copies_contact = copies_contact
        self.has_previous = False
        self.has_next = False

    def action_cursor_down(self) -> None:
        if self.row_count and self.cursor_row >= self.row_count - 1 and self.has_next:
            self.post_message(self.PageRequested(self, 1, "first"))
            return
        super().action_cursor_down()

    def action_cursor_up(self) -> None:
        if self.row_count and self.cursor_row <= 0 and self.has_previous:
            self.post_message(self.PageRequested(self, -1, "last"))
            return
        super().action_cursor_up()

    def action_next_page(self) -> None:
        if self.has_next:
            self.post_message(self.PageRequested(self, 1, "first"))

    def action_previous_page(self) -> None:
        if self.has_previous:
            self.post_message(self.PageRequested(self, -1, "first"))

    # -- the "scroll" keys: within the page; j/k cross to the next like the arrows

    def action_line(self, step: int) -> None:
        if step > 0:
            self.action_cursor_down()
        else:
            self.action_cursor_up()

    def action_first(self) -> None:
        self._move_to(0)

    def action_last(self) -> None:
        self._move_to(self.row_count - 1)

    def action_half_page(self, step: int) -> None:
        rows = half_page(self.scrollable_content_region.height - 1)  # less the header
        self._move_to(self.cursor_row + step * rows)

    def _move_to(self, row: int) -> None:
        if self.row_count:
            self.move_cursor(row=max(0, min(row, self.row_count - 1)), animate=False)

    # -- the "rows" keys ------------------------------------------------------

    def action_copy_id(self) -> None:
        self.post_message(self.CopyRequested("id"))

    def action_copy_contact(self) -> None:
        self.post_message(self.CopyRequested("contact"))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "copy_contact":
            return self.copies_contact
        return True


def header_width(column: Column, header: str) -> int:
    return cell_len(header) + (SORT_MARK_WIDTH if column.sort else 0)


def fitting_columns(
    columns: Sequence[Column], headers: Sequence[str], width: int, floors: Mapping[str, int] | None = None
) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The columns (by index) that fit `width` and the width of each. `floors`
    widens a column that met a wider uncuttable cell (an amount)."""
    floors = floors or {}
    natural = [
        max(header_width(column, header), column.content_width(), floors.get(column.key, 0))
        for column, header in zip(columns, headers, strict=True)
    ]
    widths = dict(enumerate(natural))
    visible = list(range(len(columns)))
    if width <= 0:  # not laid out yet
        return tuple(visible), tuple(natural)

    def room() -> int:
        return width - sum(widths[i] + CELL_PADDING for i in visible)

    for index in sorted((i for i, c in enumerate(columns) if c.drop), key=lambda i: -columns[i].drop):
        if room() >= 0:
            break
        visible.remove(index)
    flexible = [i for i in visible if columns[i].flex]
    floor = {i: max(columns[i].min_width, header_width(columns[i], headers[i])) for i in flexible}
    while room() < 0 and (narrowable := [i for i in flexible if widths[i] > floor[i]]):
        widths[max(narrowable, key=lambda i: widths[i])] -= 1  # the widest first
    ceiling = {i: max(resolve(columns[i].max_width), natural[i]) for i in flexible}
    while room() > 0 and (growable := [i for i in flexible if widths[i] < ceiling[i]]):
        widths[min(growable, key=lambda i: widths[i])] += 1  # the narrowest first
    return tuple(visible), tuple(widths[i] for i in visible)


def fit(cell: Cell, width: int) -> Cell:
    """A cell cut to its column's width, with an ellipsis."""
    if cell_width(cell) <= width:
        return cell
    text = cell.copy() if isinstance(cell, Text) else Text(cell)
    text.truncate(width, overflow="ellipsis")
    return text


def cell_width(cell: Cell) -> int:
    if isinstance(cell, Text):
        return max((cell_len(line) for line in cell.plain.splitlines()), default=0)
    return cell_len(cell)
