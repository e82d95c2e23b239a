"""Option parsing shared by commands: ids, text, periods, enum lists, paging (docs/rules.md R79, R96, R99).

Numbers are plain ASCII digits, parsed here rather than by typer, whose int
parsing also takes "1.0", "+1", " 1" and "1_0"; str.isdigit() alone also
takes "²", which int() then refuses.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum
from typing import Any, TypeVar

import typer

from core.dashboard.periods import PERIODS
from core.listing import BIGINT_MAX
from core.paging import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE

E = TypeVar("E", bound=Enum)


def whole_number(name: str, low: int, high: int) -> Callable[[str | int], int]:
    """A typer `parser`: plain digits from `low` to `high`, else a usage
    error. Defaults arrive as ints."""

    def parse(value: str | int) -> int:
        text = str(value)
        if not (text.isascii() and text.isdigit()):
            raise typer.BadParameter(f"{name} must be a whole number")
        digits = text.lstrip("0") or "0"
        # Compared as text first: int() refuses strings of thousands of digits.
        if len(digits) > len(str(high)) or not low <= int(digits) <= high:
            raise typer.BadParameter(f"{name} must be between {low} and {high}")
        return int(digits)

    return parse


def text(value: str) -> str:
    """A typer `parser` for text that reaches SQL: PostgreSQL text cannot hold NUL."""
    if "\x00" in value:
        raise typer.BadParameter("must not contain a NUL character")
    return value


def identifier(value: str) -> str:
    """A typer `parser` for an id given as text (a user's `usr_...`)."""
    if not value.strip():
        raise typer.BadParameter("must not be empty")
    return text(value)


def tenant_id_argument(default: Any, help: str) -> Any:
    """A tenant (account) id: a positive 64-bit integer."""
    return typer.Argument(
        default, metavar="TENANT_ID", parser=whole_number("TENANT_ID", 1, BIGINT_MAX), show_default=False, help=help
    )


def search_option(help: str) -> Any:
    return typer.Option(None, "--search", parser=text, help=help)


def period(value: str | int) -> int:
    if str(value) not in {str(days) for days in PERIODS}:
        raise typer.BadParameter("period must be 7, 30 or 90 (days)")
    return int(value)


PeriodOption = typer.Option(30, "--period", parser=period, help="Days: 7, 30 or 90.")


def enum_values(enum: type[E], values: list[str] | None, option: str) -> list[E]:
    """Repeatable or comma-separated, case-insensitive member names."""
    by_name = {member.value.lower(): member for member in enum}
    chosen: list[E] = []
    for raw in values or []:
        for part in raw.split(","):
            name = part.strip().lower()
            if not name:
                continue
            if name not in by_name:
                allowed = ", ".join(member.value for member in enum)
                raise typer.BadParameter(f"unknown value {part.strip()!r} for {option}; use one of: {allowed}")
            if by_name[name] not in chosen:
                chosen.append(by_name[name])
    return chosen


limit = whole_number("limit", 1, 50)
# The last page whose SQL offset still fits PostgreSQL's bigint.
LAST_PAGE = BIGINT_MAX // MAX_PAGE_SIZE
PageOption = typer.Option(1, "--page", parser=whole_number("page", 1, LAST_PAGE), help="Page number, from 1.")
PageSizeOption = typer.Option(
    DEFAULT_PAGE_SIZE, "--page-size", parser=whole_number("page size", 1, MAX_PAGE_SIZE), help="Rows per page, 1..100."
)
JsonOption = typer.Option(False, "--json", help="Print one JSON document on stdout.")
