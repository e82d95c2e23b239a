"""Time a query function and compare it with its SQL floor.

The floor is what PostgreSQL itself spends on the same statements: each
statement the function sent is re-run under EXPLAIN (ANALYZE) with the same
parameters, and its planning plus execution time summed. The ratio of the
wall time to the floor shows what Python, the driver and round trips add.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, event

from db.engine import read_only

Query = Callable[[Connection], Any]


@dataclass(frozen=True)
class Case:
    group: str
    name: str
    query: Query
    budget_ms: float | None = None
    # What the operator asked for grows with the answer (an exact count of every
    # match, a page deep in a long list): timed, its growth not judged (R170).
    on_request: bool = False


@dataclass(frozen=True)
class Measurement:
    group: str
    name: str
    runs: int
    median_ms: float
    max_ms: float
    floor_ms: float
    statements: int
    budget_ms: float | None
    min_ms: float | None = None  # the best run: what the growth figures use (bench/scaling.py)
    pages: int | None = None  # shared buffers the statements' plans touched
    seq_scans: tuple[str, ...] = ()  # the tables the plans read from end to end
    on_request: bool = False

    @property
    def ratio(self) -> float:
        return self.median_ms / self.floor_ms if self.floor_ms else float("nan")

    @property
    def within_budget(self) -> bool | None:
        return None if self.budget_ms is None else self.max_ms <= self.budget_ms


def _captured_statements(engine: Engine, query: Query) -> list[tuple[str, Any]]:
    statements: list[tuple[str, Any]] = []

    def capture(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        with read_only(engine) as conn:
            query(conn)
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    return statements


def sql_floor_ms(engine: Engine, statements: list[tuple[str, Any]]) -> float:
    return sql_floor(engine, statements)[0]


def seq_scanned(node: dict[str, Any]) -> set[str]:
    """The relations a JSON plan node and the nodes under it read from end to end."""
    found = {node["Relation Name"]} if node.get("Node Type") == "Seq Scan" else set()
    for child in node.get("Plans", ()):
        found |= seq_scanned(child)
    return found


def sql_floor(engine: Engine, statements: list[tuple[str, Any]]) -> tuple[float, int, tuple[str, ...]]:
    """The statements' planning plus execution ms, the pages their plans
    touched (shared buffers hit or read: a count of the work that, unlike a
    time, does not depend on what else the machine is doing) and the tables
    they read from end to end."""
    total, pages, scans = 0.0, 0, set[str]()
    with read_only(engine) as conn:
        for statement, parameters in statements:
            plan = conn.exec_driver_sql(
                f"EXPLAIN (ANALYZE, BUFFERS, TIMING OFF, FORMAT JSON) {statement}", parameters
            ).scalar_one()
            top = plan[0] if isinstance(plan, list) else plan
            total += float(top.get("Planning Time", 0.0)) + float(top["Execution Time"])
            node = top["Plan"]
            pages += int(node.get("Shared Hit Blocks", 0)) + int(node.get("Shared Read Blocks", 0))
            scans |= seq_scanned(node)
    return total, pages, tuple(sorted(scans))


def measure(engine: Engine, case: Case, runs: int = 5) -> Measurement:
    with read_only(engine) as conn:  # warm the caches and the connection pool
        case.query(conn)
    timings = []
    for _ in range(runs):
        # Timed as a screen loads it: open a read-only transaction, query, close.
        started = time.perf_counter()
        with read_only(engine) as conn:
            case.query(conn)
        timings.append((time.perf_counter() - started) * 1000)
    statements = _captured_statements(engine, case.query)
    explained = [sql_floor(engine, statements) for _ in range(min(runs, 3))]
    floors = [floor for floor, _, _ in explained]
    return Measurement(
        group=case.group,
        name=case.name,
        runs=runs,
        median_ms=statistics.median(timings),
        max_ms=max(timings),
        floor_ms=statistics.median(floors),
        statements=len(statements),
        budget_ms=case.budget_ms,
        min_ms=min(timings),
        pages=explained[-1][1],
        seq_scans=explained[-1][2],
        on_request=case.on_request,
    )
