"""The dashboard's active users count the users of deleted accounts from the
index alone (migration 0011): the plan reads ix_users_live_tenant_id with
last_seen_at in its condition, and no user row."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, event, text

from core import users
from demo import seed as demo_seed

NOW = datetime(2026, 5, 8, tzinfo=UTC)


def test_the_active_users_of_deleted_accounts_are_counted_from_the_index(engine: Engine) -> None:
    demo_seed.seed(engine, tenants=400, seed=3, now=NOW)
    statements: list[tuple[str, object]] = []

    def capture(_conn: object, _cursor: object, statement: str, parameters: object, *_: object) -> None:
        statements.append((statement, parameters))

    with engine.begin() as conn:  # a few deleted accounts, as a platform has
        conn.execute(text("UPDATE tenants SET deleted_at = :at WHERE id % 20 = 0"), {"at": NOW - timedelta(days=3)})
        conn.execute(text("ANALYZE tenants"))
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM tenants WHERE deleted_at IS NOT NULL")).scalar_one() > 5
        assert conn.execute(text("SHOW enable_seqscan")).scalar_one() == "on"
        event.listen(conn, "before_cursor_execute", capture)
        active = users.counted_users(conn, seen_since=NOW - timedelta(days=30))
        event.remove(conn, "before_cursor_execute", capture)
        (statement, parameters) = statements[-1]
        plan = [row[0] for row in conn.exec_driver_sql(f"EXPLAIN {statement}", parameters)]
        assert 0 < active <= users.counted_users(conn)
    # The subtraction's inner side: an index-only range per deleted account.
    scan = next(index for index, line in enumerate(plan) if "ix_users_live_tenant_id" in line)
    assert "Index Only Scan" in plan[scan], "\n".join(plan)
    assert "last_seen_at >=" in plan[scan + 1] and "tenant_id = d.id" in plan[scan + 1], "\n".join(plan)
