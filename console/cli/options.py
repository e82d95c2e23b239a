"""Option parsing shared by commands: periods, enum lists, paging (contract 8)."""

from __future__ import annotations

from enum import Enum
from typing import TypeVar

import typer

PERIODS = (7, 30, 90)
E = TypeVar("E", bound=Enum)


def period(value: int) -> int:
    if value not in PERIODS:
        raise typer.BadParameter("period must be 7, 30 or 90 (days)")
    return value


PeriodOption = typer.Option(30, "--period", callback=period, help="Days: 7, 30 or 90.")


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


def page_size(value: int) -> int:
    if not 1 <= value <= 100:
        raise typer.BadParameter("page size must be between 1 and 100")
    return value


def page_number(value: int) -> int:
    if value < 1:
        raise typer.BadParameter("page must be 1 or more")
    return value


def limit(value: int) -> int:
    if not 1 <= value <= 50:
        raise typer.BadParameter("limit must be between 1 and 50")
    return value


PageOption = typer.Option(1, "--page", callback=page_number, help="Page number, from 1.")
PageSizeOption = typer.Option(25, "--page-size", callback=page_size, help="Rows per page, 1..100.")
JsonOption = typer.Option(False, "--json", help="Print one JSON document on stdout.")
