"""The accounts list walks an index that matches each sort (migration 0002),
so a page costs a few index entries at 100,000 accounts."""

from __future__ import annotations

import pytest
from sqlalchemy import Connection, text

from core import accounts
from core.accounts import AccountSort, list_accounts
from tests import factories as f


@pytest.mark.parametrize("sort", [s for s in AccountSort if s is not AccountSort.status])
@pytest.mark.parametrize("descending", [False, True])
def test_every_sort_walks_an_index(
    conn: Connection,
    statements: list[tuple[str, object]],
    monkeypatch: pytest.MonkeyPatch,
    sort: AccountSort,
    descending: bool,
) -> None:
    """The page's order comes from an index: with sorting priced out of reach
    the plan still has no Sort node (the expressions match 0002's indexes)."""
    monkeypatch.setattr(accounts, "SORT_MATCHES_UP_TO", -1)
    monkeypatch.setattr(accounts, "SORT_MATCHES_BELOW_SHARE", 0)
    f.tenant(conn, name="Acme", plan="Standard")
    list_accounts(conn, sort=sort, descending=descending)
    page_query, parameters = next((sql, params) for sql, params in statements if "LIMIT" in sql)
    conn.execute(text("SET LOCAL enable_sort = off"))
    conn.execute(text("SET LOCAL enable_incremental_sort = off"))
    conn.execute(text("SET LOCAL enable_seqscan = off"))
    plan = "\n".join(row[0] for row in conn.exec_driver_sql(f"EXPLAIN {page_query}", parameters))
    assert " Sort " not in plan and "Sort Key" not in plan, plan
