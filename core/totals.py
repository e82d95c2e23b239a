"""A large list's total: exact up to a thousand rows, beyond that an
estimate from a sample of the table, labelled as one (Page.total_is_estimate).
Counting every match of a broad search costs more than the page it heads."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, text

EXACT_UP_TO = 1_000
SAMPLE_ROWS = 5_000
SAMPLE_SEED = 0  # the same search gives the same estimate


def capped_count(conn: Connection, rows_sql: str, params: dict[str, Any], cap: int) -> int | None:
    """How many rows `rows_sql` returns, or None when more than `cap`: the
    count stops at the first row past it."""
    counted = int(conn.execute(text(f"SELECT count(*) FROM ({rows_sql} LIMIT {cap + 1}) capped"), params).scalar_one())
    return counted if counted <= cap else None


def estimated_rows(conn: Connection, table: str) -> float:
    """The planner's own estimate of a table's size (-1 before its first
    ANALYZE): enough to choose a plan or a sample, free to read."""
    return float(
        conn.execute(
            text("SELECT reltuples FROM pg_class WHERE oid = CAST(:table AS regclass)"), {"table": table}
        ).scalar_one()
    )


def sample_of(conn: Connection, table: str) -> str:
    """A TABLESAMPLE clause reading about SAMPLE_ROWS rows of `table` (whole
    pages, so it costs a few hundred page reads whatever the table's size)."""
    rows = estimated_rows(conn, table)
    percent = Decimal(100) if rows <= SAMPLE_ROWS else Decimal(100 * SAMPLE_ROWS) / Decimal(rows)
    return f"TABLESAMPLE SYSTEM ({percent:.6f}) REPEATABLE ({SAMPLE_SEED})"


def rounded_estimate(estimate: Decimal, at_least: int) -> int:
    """Two significant figures, which is all a sample can claim, and never
    fewer than the rows already counted."""
    value = max(estimate, Decimal(at_least))
    rounded = int(value.quantize(Decimal(1)))
    step: int = 10 ** max(0, len(str(rounded)) - 2)
    down = rounded // step * step
    return down if down >= at_least else down + step
