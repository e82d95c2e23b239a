"""Reading the plans of the screens' queries (docs/rules.md R170): which
tables a plan reads whole."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Connection

SEQ_SCAN = re.compile(r"Seq Scan on (?:public\.)?(\w+)")


def plan_of(conn: Connection, sql: str, params: Any = None) -> str:
    """The text of EXPLAIN for `sql` as the driver sends it."""
    return "\n".join(row[0] for row in conn.exec_driver_sql(f"EXPLAIN {sql}", params or {}))


def seq_scanned_tables(plan: str) -> set[str]:
    """The tables `plan` reads from end to end."""
    return set(SEQ_SCAN.findall(plan))
