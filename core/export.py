"""Exports: every list streamed page by page, every row as CSV cells
(docs/rules.md R140, R141, R142).

The columns of a row type are its JSON keys (core/jsonable.py): a nested
record's fields are flattened under its name with a dot (`owner.email`), so
the CSV and the `--json` of one list always agree. Cells are plain text:
money and other decimals at two places with a dot and no grouping, times ISO
8601 in UTC, dates YYYY-MM-DD, enums by name, true/false, nothing for None,
a dict or a list as compact JSON.

`pages` walks the list's own page function from page 1 and yields each page
as it comes, so an export holds one page at a time however long the list.
Its page requests carry a Walk (core/paging.py): a list that can reads its
keys from one server-side cursor in its order instead of by OFFSET, so the
whole export costs time linear in its rows (docs/rules.md R225); the others
page by offset. `one_snapshot` makes every page of an export read the same
snapshot.
"""

from __future__ import annotations

import dataclasses
import json
import typing
from collections.abc import Callable, Generator
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from types import NoneType, UnionType
from typing import Any, TypeVar

from sqlalchemy import Connection, text

from core.jsonable import TWO_PLACES, to_jsonable
from core.paging import MAX_PAGE_SIZE, Page, PageRequest, Walk

T = TypeVar("T")

# Where a nested record's fields go: "owner" + "." + "email".
NESTED_SEPARATOR = "."


def one_snapshot(conn: Connection) -> None:
    """Every statement of the transaction sees the same rows: an export's
    pages neither repeat nor skip a row that is written meanwhile. Call it
    first in the transaction (docs/rules.md R141)."""
    conn.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))


def pages(fetch: Callable[[PageRequest], Page[T]], *, page_size: int = MAX_PAGE_SIZE) -> Generator[Page[T]]:
    """Every page of a list from the first, each yielded as soon as it is read.
    A short or empty page ends the list, so an estimated total (a users search
    in the console) never cuts an export short (docs/rules.md R141). Every
    request carries the one Walk of this export (docs/rules.md R225)."""
    walk = Walk()
    try:
        number = 1
        while True:
            page = fetch(PageRequest(number, page_size, walk))
            if page.items:
                yield page
            if len(page.items) < page_size or not page.has_next_page:
                return
            number += 1
    finally:
        walk.close()


def items(fetch: Callable[[PageRequest], Page[T]], *, page_size: int = MAX_PAGE_SIZE) -> Generator[T]:
    for page in pages(fetch, page_size=page_size):
        yield from page.items


def columns(row_type: type) -> tuple[str, ...]:
    """The CSV header of a row type: its fields, a nested record's flattened."""
    return tuple(name for name, _ in _layout(row_type))


def cells(item: Any) -> list[str]:
    """One row's cells, in the order of `columns(type(item))`."""
    return [cell(getter(item)) for _, getter in _layout(type(item))]


def cell(value: Any) -> str:
    """One value as CSV text (docs/rules.md R140)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value.quantize(TWO_PLACES), "f")
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, dict | list | tuple):
        return json.dumps(to_jsonable(value), ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return str(value)


Getter = Callable[[Any], Any]


_LAYOUTS: dict[type, tuple[tuple[str, Getter], ...]] = {}


def _layout(row_type: type) -> tuple[tuple[str, Getter], ...]:
    """Each column's name and how to read it from a row, worked out once per type."""
    known = _LAYOUTS.get(row_type)
    if known is None:
        known = _LAYOUTS[row_type] = _new_layout(row_type)
    return known


def _new_layout(row_type: type) -> tuple[tuple[str, Getter], ...]:
    if not dataclasses.is_dataclass(row_type):
        raise TypeError(f"{row_type.__name__} is not a record: nothing says its columns")
    hints = _hints(row_type)
    layout: list[tuple[str, Getter]] = []
    for field in dataclasses.fields(row_type):
        nested = _record_type(hints.get(field.name))
        if nested is None:
            layout.append((field.name, _attribute(field.name)))
            continue
        for name, getter in _layout(nested):
            layout.append((f"{field.name}{NESTED_SEPARATOR}{name}", _through(field.name, getter)))
    return tuple(layout)


def _hints(row_type: type) -> dict[str, Any]:
    try:
        return typing.get_type_hints(row_type)
    except (NameError, TypeError):  # an annotation that cannot be resolved is a plain value
        return {}


def _record_type(hint: Any) -> type | None:
    """The record type a field holds (`AccountOwner | None` -> AccountOwner)."""
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return hint
    if isinstance(hint, UnionType) or typing.get_origin(hint) is typing.Union:
        members = [arg for arg in typing.get_args(hint) if arg is not NoneType]
        if len(members) == 1:
            return _record_type(members[0])
    return None


def _attribute(name: str) -> Getter:
    return lambda item: getattr(item, name)


def _through(name: str, getter: Getter) -> Getter:
    def get(item: Any) -> Any:
        inner = getattr(item, name)
        return None if inner is None else getter(inner)

    return get
