"""The table of one page of a `PagedList`, and how its columns fit the width.

`PageTable` is a DataTable whose pageup/pagedown and moves past either end ask
for the neighbouring page. `fitting_columns` decides, for a width, which
columns show and how wide: flexible columns (names) narrow first, then
droppable columns go, then the flexible ones narrow further; `fit` cuts a
cell to its column with an ellipsis.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from rich.cells import cell_len
from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable

Cell = str | Text
CursorPlace = Literal["first", "last", "keep"]
FLEX_COMFORT_WIDTH = 18  # flexible columns narrow to this before others are dropped
FLEX_MIN_WIDTH = 12
CELL_PADDING = 2  # DataTable's cell padding, one column each side


@dataclass(frozen=True)
class Column:
    key: str  # column key; also the sort key a header click asks for
    label: str  # translation key of the header
    justify: Literal["left", "right"] = "left"
    # Narrow tables drop columns with a drop rank, highest rank first; 0 never.
    drop: int = 0
    # Still too wide without them: flexible columns (names) give up width,
    # their text cut short, down to FLEX_MIN_WIDTH.
    flex: bool = False


class PageTable(DataTable[Cell]):
    """The DataTable of one page. pageup/pagedown and moving past either end
    ask the list for the neighbouring page instead of scrolling."""

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

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
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


def fitting_columns(
    columns: Sequence[Column], headers: Sequence[str], rows: Sequence[tuple[str, Sequence[Cell]]], width: int
) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The columns (by index) that fit `width` and the width of each: as wide
    as its header and cells unless narrowed. Flexible columns give up width
    down to a comfortable size, then droppable columns go, highest drop rank
    first, then the flexible ones narrow to their minimum."""
    widths = [
        max([cell_len(header) + 2, *(cell_width(cells[index]) for _, cells in rows)]) + CELL_PADDING
        for index, header in enumerate(headers)
    ]
    visible = list(range(len(columns)))
    fixed: dict[int, int] = {}

    def excess() -> int:
        used = sum(fixed[i] + CELL_PADDING if i in fixed else widths[i] for i in visible)
        return used - width if width > 0 else 0

    def narrow_flexible(floor: int) -> None:
        for index in sorted((i for i in visible if columns[i].flex), key=lambda i: -widths[i]):
            current = fixed.get(index, widths[index] - CELL_PADDING)
            cut = min(excess(), current - floor)
            if cut > 0:
                fixed[index] = current - cut

    narrow_flexible(FLEX_COMFORT_WIDTH)
    for index in sorted((i for i, c in enumerate(columns) if c.drop), key=lambda i: -columns[i].drop):
        if excess() <= 0:
            break
        visible.remove(index)
        fixed.pop(index, None)
    narrow_flexible(FLEX_MIN_WIDTH)
    for index in list(fixed):  # room left after the drops goes back to the narrowed
        fixed[index] += min(-excess(), widths[index] - CELL_PADDING - fixed[index]) if excess() < 0 else 0
        if fixed[index] >= widths[index] - CELL_PADDING:
            del fixed[index]
    def natural(index: int) -> int:
        return max([cell_len(headers[index]), *(cell_width(cells[index]) for _, cells in rows)])

    return tuple(visible), tuple(fixed[i] if i in fixed else natural(i) for i in visible)


def fit(cell: Cell, width: int) -> Cell:
    """A cell cut to a narrowed column's width, with an ellipsis."""
    if cell_width(cell) <= width:
        return cell
    text = cell.copy() if isinstance(cell, Text) else Text(cell)
    text.truncate(width, overflow="ellipsis")
    return text


def cell_width(cell: Cell) -> int:
    if isinstance(cell, Text):
        return max((cell_len(line) for line in cell.plain.splitlines()), default=0)
    return cell_len(cell)
