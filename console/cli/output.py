"""How commands print: one JSON document with --json, a rich table without."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from core import jsonable

stdout = Console()
stderr = Console(stderr=True)


def emit_json(value: Any) -> None:
    typer.echo(jsonable.dumps(value))


def emit_table(title: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    table = Table(title=title, header_style="bold")
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*("" if cell is None else str(cell) for cell in row))
    stdout.print(table)


def usage_error(message: str) -> typer.BadParameter:
    """Raise the result: typer prints it as a usage error (exit 2)."""
    return typer.BadParameter(message)
