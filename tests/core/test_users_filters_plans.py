"""The users filters and the billing events date sort page on an index
(docs/rules.md R110, R113): with sorting priced out of reach, the page's plan
still has no Sort below its LIMIT, so a page costs a few index entries however
many users or events there are."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Connection, text

from core.billing_events import BillingEventSort, list_billing_events
from core.paging import PageRequest
from core.users import UserActivity, list_users
from db.enums import UserRole
from tests import factories as f

NOW = f.NOW


def page_plan(conn: Connection, statements: list[tuple[str, Any]], marker: str) -> str:
    sql, params = next((sql, params) for sql, params in reversed(statements) if marker in sql)
    conn.execute(text("SET LOCAL enable_sort = off"))
    conn.execute(text("SET LOCAL enable_incremental_sort = off"))
    conn.execute(text("SET LOCAL enable_seqscan = off"))
    return "\n".join(row[0] for row in conn.exec_driver_sql(f"EXPLAIN {sql}", params))


def page_part(plan: str) -> list[str]:
    """The nodes that find the page's ids, not the final sort of its rows."""
    lines = plan.splitlines()
    if not any(line.strip() == "CTE page" for line in lines):
        return lines[1:]  # an inlined page: below the final sort
    start = next(i for i, line in enumerate(lines) if line.strip() == "CTE page")
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("  ->")), len(lines))
    return lines[start + 1 : end]


def sorts(nodes: list[str]) -> list[str]:
    """Sort nodes (a Merge Append keeps the order of what it merges)."""
    return [node for node in nodes if re.search(r"(^|->  )(Incremental )?Sort  \(", node.strip())]


@pytest.mark.parametrize(
    "filters",
    [
        {"activity": UserActivity.active_24h},
        {"activity": UserActivity.inactive},
        {"roles": [UserRole.Owner]},
        {"roles": [UserRole.Admin], "activity": UserActivity.inactive},
    ],
    ids=["active-24h", "inactive", "owner", "admin-inactive"],
)
def test_users_filters_walk_the_recency_index(
    conn: Connection, statements: list[tuple[str, Any]], filters: dict[str, Any]
) -> None:
    acme = f.tenant(conn, name="Acme").id
    for n in range(30):
        seen = None if n % 7 == 0 else NOW - timedelta(hours=n**3)
        f.user(conn, acme, email=f"u{n}@acme.test", role=("Owner", "Admin", "Member")[n % 3], last_seen_at=seen)
    result = list_users(conn, now=NOW, page=PageRequest(1, 5), **filters)
    assert result.items, result
    plan = page_part(page_plan(conn, statements, "WITH page"))
    assert any("ix_users_last_seen" in node for node in plan) and not sorts(plan), "\n".join(plan)


@pytest.mark.parametrize("descending", [True, False])
def test_billing_events_by_date_walk_the_occurred_at_index(
    conn: Connection, statements: list[tuple[str, Any]], descending: bool
) -> None:
    acme = f.tenant(conn, name="Acme")
    for n in range(30):
        f.billing_event(conn, acme, "SubscriptionRenewed", occurred_at=NOW - timedelta(hours=n))
    list_billing_events(conn, now=NOW, sort=BillingEventSort.date, descending=descending, page=PageRequest(1, 5))
    plan = page_part(page_plan(conn, statements, "WITH page"))
    assert any("ix_billing_events_occurred_at_id" in node for node in plan) and not sorts(plan), "\n".join(plan)
