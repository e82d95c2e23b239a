"""Lists page in the database: the shape every paged result shares, and the
walk an export takes over a whole list."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar, cast

from sqlalchemy import Connection, Result, Row, text

from core.jsonable import OMIT_WHEN_DEFAULT

T = TypeVar("T")
V = TypeVar("V")

DEFAULT_PAGE_SIZE = 25
MAX_PAGE_SIZE = 100


class Walk:
    """An export's one pass over a whole list (docs/rules.md R225): the list's
    keys in its order from one server-side cursor, read a page at a time, so
    page k costs a page, not k pages as an OFFSET would; and what the first
    page worked out (the total, how to find the rows) kept for the others."""

    def __init__(self) -> None:
        self._conn: Connection | None = None
        self._cursor: Result[Any] | None = None
        self._kept: dict[str, Any] = {}

    def kept(self, name: str, work_out: Callable[[], V]) -> V:
        if name not in self._kept:
            self._kept[name] = work_out()
        return cast(V, self._kept[name])

    def next_keys(self, conn: Connection, ordered_sql: str, params: dict[str, Any], size: int) -> list[Row[Any]]:
        """The next `size` keys of `ordered_sql` (every key of the list, in its
        order, no LIMIT). The cursor is opened on the first call; the SQL and
        parameters of the later calls are those of the first."""
        if self._cursor is None:
            statement = text(ordered_sql).execution_options(stream_results=True, yield_per=size)
            self._conn, self._cursor = conn, conn.execute(statement, params)
        return list(self._cursor.fetchmany(size))

    def close(self) -> None:
        """Close the cursor while its transaction lasts. After it, the cursor
        is gone with the transaction, and its connection may be serving
        another: nothing is sent."""
        if self._cursor is not None and self._conn is not None:
            if not self._conn.closed and self._conn.in_transaction():
                self._cursor.close()
        self._cursor = self._conn = None


@dataclass(frozen=True)
class PageRequest:
    page: int = 1  # from 1
    page_size: int = DEFAULT_PAGE_SIZE
    # Set by an export (core/export.py pages): the pages are read one after the
    # other, each from where the last one ended (docs/rules.md R225).
    walk: Walk | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.page < 1:
            raise ValueError("page must be 1 or more")
        if not 1 <= self.page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page size must be between 1 and {MAX_PAGE_SIZE}")

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.page_size

    def once(self, name: str, work_out: Callable[[], V]) -> V:
        """Worked out for this page, or, on an export's walk, for its first page
        only (a total, a plan): the walk reads one snapshot, so it holds."""
        return work_out() if self.walk is None else self.walk.kept(name, work_out)


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    total: int
    page: int
    page_size: int
    # A large search's total from a sample (core/totals.py); in JSON only when true.
    total_is_estimate: bool = field(default=False, metadata={OMIT_WHEN_DEFAULT: True})

    @property
    def total_pages(self) -> int:
        return -(-self.total // self.page_size) if self.total else 0

    @property
    def has_next_page(self) -> bool:
        """An estimated total may be too low: only a short page ends the list."""
        return self.page < self.total_pages or (self.total_is_estimate and len(self.items) == self.page_size)
