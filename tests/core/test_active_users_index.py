"""The dashboard's active users read the users who count per day and hour
(migration 0014, docs/rules.md R213) and only the users seen in the partial
hour at the period's start from the index of last_seen_at: no user row of a
deleted account is counted, and no user is read whole."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, event, text

from core import users
from demo import seed as demo_seed
from tests.query_plans import seq_scanned_tables

NOW = datetime(2026, 5, 8, tzinfo=UTC)


def test_the_active_users_read_the_summaries_and_the_partial_hour_from_the_index(engine: Engine) -> None:
    demo_seed.seed(engine, tenants=400, seed=3, now=NOW)
    statements: list[tuple[str, object]] = []

    def capture(_conn: object, _cursor: object, statement: str, parameters: object, *_: object) -> None:
        statements.append((statement, parameters))

    with engine.begin() as conn:  # a few deleted accounts, as a platform has
        conn.execute(text("UPDATE tenants SET deleted_at = :at WHERE id % 20 = 0"), {"at": NOW - timedelta(days=3)})
        conn.execute(text("ANALYZE"))
    since = NOW - timedelta(days=30, minutes=20)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM tenants WHERE deleted_at IS NOT NULL")).scalar_one() > 5
        assert conn.execute(text("SHOW enable_seqscan")).scalar_one() == "on"
        event.listen(conn, "before_cursor_execute", capture)
        active = users.counted_users(conn, seen_since=since)
        event.remove(conn, "before_cursor_execute", capture)
        (statement, parameters) = statements[-1]
        plan = "\n".join(row[0] for row in conn.exec_driver_sql(f"EXPLAIN {statement}", parameters))
        expected = conn.execute(
            text(
                "SELECT count(*) FROM users u JOIN tenants t ON t.id = u.tenant_id"
                " WHERE u.deleted_at IS NULL AND t.deleted_at IS NULL AND u.last_seen_at >= :since"
            ),
            {"since": since},
        ).scalar_one()
    assert 0 < active == expected
    assert "counted_user_days" in plan and "counted_user_hours" in plan, plan
    assert "ix_users_last_seen" in plan, plan
    assert "users" not in seq_scanned_tables(plan), plan
