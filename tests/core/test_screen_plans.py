"""Every query behind a screen has a plan that reads no growing table whole
(docs/rules.md R170). The benchmark checks the plans it times at its own size;
here, on a small demo database, sequential scans are priced out of reach
(enable_seqscan = off): a Seq Scan left in a plan is one no index can avoid,
which at a hundred thousand tenants reads the whole table."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, event

from bench import cases
from bench.dataset import DATASET_NOW
from bench.harness import Case
from bench.scaling import GROWING_TABLES
from db.engine import read_only
from demo import seed as demo_seed
from tests.query_plans import plan_of, seq_scanned_tables


@pytest.fixture
def screen_cases(engine: Engine) -> list[Case]:
    demo_seed.seed(engine, tenants=40, seed=11, now=DATASET_NOW - timedelta(days=1), replace=True)
    return cases.query_cases(engine)


def _statements(engine: Engine, case: Case) -> list[tuple[str, Any]]:
    sent: list[tuple[str, Any]] = []

    def capture(_c: object, _cursor: object, statement: str, parameters: Any, *_: object) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            sent.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        with read_only(engine) as conn:
            case.query(conn)
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    return sent


def test_no_screen_query_reads_a_growing_table_whole(engine: Engine, screen_cases: list[Case]) -> None:
    whole: dict[str, set[str]] = {}
    for case in screen_cases:
        statements = _statements(engine, case)
        assert statements, f"{case.group} / {case.name} sent no query"
        with read_only(engine) as conn:
            conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
            for sql, params in statements:
                scanned = seq_scanned_tables(plan_of(conn, sql, params)) & GROWING_TABLES
                if scanned:
                    whole.setdefault(f"{case.group} / {case.name}", set()).update(scanned)
    assert whole == {}
