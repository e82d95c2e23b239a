"""Fixtures of the read-model tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Connection, event

Statement = tuple[str, object]  # SQL as sent, and its parameters


@pytest.fixture
def statements(conn: Connection) -> Iterator[list[Statement]]:
    """Every statement the test sends on `conn`, to EXPLAIN the ones that matter."""
    captured: list[Statement] = []

    def capture(_conn: object, _cursor: object, statement: str, parameters: object, *_: object) -> None:
        captured.append((statement, parameters))

    event.listen(conn, "before_cursor_execute", capture)
    yield captured
    event.remove(conn, "before_cursor_execute", capture)
